# Bad input to hbmmm(), hbmmm_spec() and hbmmm_prior() gets a classed error
# (hbmmm_input_error) whose `$arg` names the argument and whose message says
# what is wrong and where; the C entry point of the Gibbs sampler rejects any
# malformed model or control list without crashing or hanging R.
# expect_input_error() is in helper-reference.R, the fixtures in helper-fit.R.

expect_msg <- function(cnd, pattern, fixed = TRUE) {
  expect_match(conditionMessage(cnd), pattern, fixed = fixed)
}

# ---- data and columns --------------------------------------------------------

test_that("data and formula must have the right type", {
  d <- small_panel()
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv, as.matrix(d), media = "tv"), "data")
  expect_msg(cnd, "data frame")
  expect_input_error(hbmmm_spec(sales ~ tv, as.list(d), media = "tv"), "data")
  expect_input_error(hbmmm_spec(sales ~ tv, d[1, ], media = "tv"), "data")
  expect_input_error(hbmmm_spec(sales ~ tv, d[0, ], media = "tv"), "data")
  expect_input_error(hbmmm_spec("sales ~ tv", d, media = "tv"), "formula")
  expect_input_error(hbmmm_spec(~ tv, d, media = "tv"), "formula")
  expect_input_error(hbmmm_spec(NULL, d), "formula")
  expect_input_error(hbmmm(~ tv, d, media = "tv", iter = 10, chains = 1, refresh = 0), "formula")
})

test_that("missing columns are named, with a suggestion for a near miss", {
  d <- small_panel()
  cnd <- expect_input_error(hbmmm_spec(sales ~ tvv + search, d, media = "search"), "formula")
  expect_msg(cnd, "`tvv` is not in `data`")
  expect_msg(cnd, "did you mean `tv`?")
  cnd <- expect_input_error(hbmmm_spec(sale ~ tv, d, media = "tv"), "formula")
  expect_msg(cnd, "did you mean `sales`?")
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv + (1 | markt), d, media = "tv"), "formula")
  expect_msg(cnd, "did you mean `market`?")
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv + (1 + pric | market), d, media = "tv"), "formula")
  expect_msg(cnd, "did you mean `price`?")
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv + search, d, media = c("tv", "serch")), "media")
  expect_msg(cnd, "`serch` is not in `data`; did you mean `search`?")
  cnd <- expect_input_error(small_spec(time = "wek"), "time")
  expect_msg(cnd, "did you mean `week`?")
  cnd <- expect_input_error(small_spec(panel = "markt"), "panel")
  expect_msg(cnd, "did you mean `market`?")
  cnd <- expect_input_error(small_spec(sigma_by = "Promo"), "sigma_by")
  expect_msg(cnd, "did you mean `promo`?")
  cnd <- expect_input_error(small_spec(weights = "wieght"), "weights")
  expect_msg(cnd, "`wieght` is not in `data`")
  # a far miss gets no suggestion
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv + zzzzzzzzzz, d, media = "tv"), "formula")
  expect_no_match(conditionMessage(cnd), "did you mean")
  # the same through hbmmm()
  cnd <- expect_input_error(hbmmm(sales ~ tvv, d, media = NULL, iter = 10, chains = 1, refresh = 0), "formula")
  expect_msg(cnd, "did you mean `tv`?")
})

test_that("NA and Inf in used columns give the column, the count and the first rows", {
  d <- small_panel()
  d2 <- d
  d2$price[c(3, 7)] <- NA
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv + price, d2, media = "tv"), "data")
  expect_msg(cnd, "column `price` has 2 missing or non-finite value(s), first at row(s) 3, 7")
  d2 <- d
  d2$tv[c(5, 50, 60, 70)] <- c(Inf, NaN, -Inf, NA)
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv + price, d2, media = "tv"), "data")
  expect_msg(cnd, "column `tv` has 4")
  expect_msg(cnd, "5, 50, 60")
  d2 <- d
  d2$sales[11] <- Inf
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv, d2, media = "tv"), "data")
  expect_msg(cnd, "`sales`")
  expect_msg(cnd, "row(s) 11")
  d2 <- d
  d2$market[12] <- NA
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv + (1 | market), d2, media = "tv"), "data")
  expect_msg(cnd, "column `market` has 1")
  d2 <- d
  d2$week[13] <- NA
  cnd <- expect_input_error(small_spec(data = d2), "data")
  expect_msg(cnd, "column `week` has 1")
  # a column used only inside a bar, and sigma_by / weights columns
  d2 <- d
  d2$season_sin[14] <- NaN
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv + (1 + season_sin | market), d2, media = "tv"), "data")
  expect_msg(cnd, "`season_sin`")
  d2 <- d
  d2$promo[15] <- NA
  cnd <- expect_input_error(small_spec(data = d2, sigma_by = "promo"), "data")
  expect_msg(cnd, "row(s) 15")
  d2 <- d
  d2$w <- 1
  d2$w[16] <- NA
  cnd <- expect_input_error(small_spec(data = d2, weights = "w"), "data")
  expect_msg(cnd, "`w`")
  # unused columns may hold anything
  d2 <- d
  d2$email[1:10] <- NA
  expect_s3_class(small_spec(data = d2), "hbmmm_spec")
  # rows are rows of the data as given, even when the spec reorders them
  d2 <- d[rev(seq_len(nrow(d))), ]
  d2$price[20] <- NA
  cnd <- expect_input_error(small_spec(data = d2), "data")
  expect_msg(cnd, "first at row(s) 20")
})

test_that("media must be numeric, non-negative, named once and used in the formula", {
  d <- small_panel()
  d2 <- d
  d2$tv[c(9, 30)] <- -1
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv + price, d2, media = "tv"), "media")
  expect_msg(cnd, "column `tv` has 2 negative value(s), first at row 9")
  d2 <- d
  d2$tv <- as.character(d2$tv)
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv, d2, media = "tv"), "media")
  expect_msg(cnd, "numeric")
  d2$tv <- factor(round(d$tv))
  expect_input_error(hbmmm_spec(sales ~ tv, d2, media = "tv"), "media")
  expect_input_error(hbmmm_spec(sales ~ tv, d, media = NA_character_), "media")
  expect_input_error(hbmmm_spec(sales ~ tv, d, media = 1), "media")
  expect_input_error(hbmmm_spec(sales ~ tv, d, media = c("tv", "tv")), "media")
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv, d, media = c("tv", "search")), "media")
  expect_msg(cnd, "`search` does not appear in `formula`")
})

test_that("a constant or perfectly collinear predictor is named", {
  d <- small_panel()
  d2 <- d
  d2$k <- 3
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv + k + price, d2, media = "tv"), "formula")
  expect_msg(cnd, "`k` is constant")
  d2$p2 <- 2 * d2$price - 1
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv + price + p2, d2, media = "tv"), "formula")
  expect_msg(cnd, "`p2`")
  expect_msg(cnd, "collinear")
  d2$tv2 <- d2$tv # not a media channel: collinear with tv only before the transform
  expect_s3_class(hbmmm_spec(sales ~ tv + tv2, d2, media = "tv"), "hbmmm_spec")
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv + price + promo + I(price + promo), d, media = "tv"), "formula")
  expect_msg(cnd, "`I(price + promo)`")
  # media inside a function of itself is rejected whatever the function
  expect_input_error(hbmmm_spec(sales ~ tv + I(2 * tv), d, media = "tv"), "formula")
  # a media channel that is zero everywhere is constant after its transform
  d2 <- d
  d2$tv <- 0
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv + price, d2, media = "tv"), "formula")
  expect_msg(cnd, "`tv` is constant after its media transform")
})

test_that("grouping factors need two levels and enough observations", {
  d <- small_panel()
  d2 <- d
  d2$one <- "a"
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv + (1 | one), d2, media = "tv"), "formula")
  expect_msg(cnd, "grouping factor `one`")
  expect_msg(cnd, "single level")
  cnd <- expect_input_error(hbmmm_spec(sales ~ price + (1 + price | week), d[1:8, ]), "formula")
  expect_msg(cnd, "16 group-level effects (8 levels x 2 terms)")
  expect_msg(cnd, "only 8 observations")
  expect_input_error(hbmmm_spec(sales ~ tv + (1 | market/week), d, media = "tv"), "formula")
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv + (1 | market) + (1 + price | market), d, media = "tv"),
                            "formula")
  expect_msg(cnd, "more than one bar")
  expect_input_error(hbmmm_spec(sales ~ tv + (1 | log(market)), d, media = "tv"), "formula")
})

test_that("the response must be numeric and finite", {
  d <- small_panel()
  d2 <- d
  d2$sales <- factor(round(d2$sales))
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv, d2, media = "tv"), "formula")
  expect_msg(cnd, "response `sales`")
  cnd <- expect_input_error(hbmmm_spec(I(sales / (week - 1)) ~ tv, d, media = "tv"), "formula")
  expect_msg(cnd, "not finite in 4 row(s), first at row 1")
})

# ---- priors ------------------------------------------------------------------

test_that("invalid prior parameters and families are rejected", {
  cnd <- expect_input_error(hbmmm_prior(b = normal(0, -1)), "sd")
  expect_msg(cnd, "-1")
  expect_input_error(normal(NA, 1), "mean")
  expect_input_error(normal(0, Inf), "sd")
  expect_input_error(lognormal(0, 0), "sdlog")
  expect_input_error(beta_dist(0, 1), "shape1")
  expect_input_error(gamma_dist(2, -1), "rate")
  expect_input_error(uniform(1, 0), "upper")
  expect_input_error(inv_gamma("a", 1), "shape")
  expect_input_error(inv_wishart(), "df")
  expect_input_error(inv_wishart(1, diag(3)), "df")
  expect_input_error(inv_wishart(5, matrix(c(1, 2, 2, 1), 2)), "scale")
  expect_input_error(inv_wishart(5, -1), "scale")
  # wrong family for a slot
  cnd <- expect_input_error(hbmmm_prior(sigma = normal(0, 1)), "sigma")
  expect_msg(cnd, "family normal() is not allowed for `sigma`")
  expect_input_error(hbmmm_prior(decay = lognormal(0, 1)), "decay")
  expect_input_error(hbmmm_prior(Intercept = inv_gamma()), "Intercept")
  expect_input_error(hbmmm_prior(b = list(tv = inv_gamma())), "b[[\"tv\"]]")
  expect_input_error(hbmmm_prior(b = list(tv = 3)), "b[[\"tv\"]]")
  expect_input_error(hbmmm_prior(b = 3), "b")
  expect_input_error(hbmmm_prior(decay = uniform(0, 2)), "decay")
  cnd <- expect_input_error(hbmmm_prior(bb = normal()), "...")
  expect_msg(cnd, "\"bb\"")
  cnd <- expect_input_error(small_spec(prior = list(b = normal())), "prior")
  expect_msg(cnd, "hbmmm_prior()")
})

test_that("priors that do not fit the model are named", {
  # inv_wishart df too small for the dimension of the term (2: intercept and tv)
  cnd <- expect_input_error(small_spec(prior = hbmmm_prior(cov = inv_wishart(0.5, 1))), "prior")
  expect_msg(cnd, "`market`")
  expect_msg(cnd, "df > 1")
  cnd <- expect_input_error(small_spec(prior = hbmmm_prior(cov = inv_wishart(5, diag(3)))), "prior")
  expect_msg(cnd, "2 x 2")
  expect_input_error(small_spec(prior = hbmmm_prior(cov = inv_gamma())), "prior")
  expect_input_error(small_spec(sales ~ tv + search + (1 + tv || market),
                                prior = hbmmm_prior(cov = inv_wishart(3))), "prior")
  cnd <- expect_input_error(small_spec(prior = hbmmm_prior(b = list(tvv = normal()))), "prior")
  expect_msg(cnd, "\"tvv\" (did you mean \"tv\"?)")
  cnd <- expect_input_error(small_spec(prior = hbmmm_prior(decay = list(serch = beta_dist()))), "prior")
  expect_msg(cnd, "did you mean \"search\"")
  cnd <- expect_input_error(small_spec(prior = hbmmm_prior(cov = list(markt = inv_wishart(4)))), "prior")
  expect_msg(cnd, "did you mean \"market\"")
  # horseshoes other than the plain one (df = 1, no slab) are for NUTS only
  expect_input_error(do.call(hbmmm, small_fit_args(horseshoe = TRUE, prior = hbmmm_prior(horseshoe = horseshoe(df = 3)))),
                     "prior")
  expect_input_error(do.call(hbmmm, small_fit_args(horseshoe = TRUE, prior = hbmmm_prior(horseshoe = horseshoe(scale_slab = 2)))),
                     "prior")
})

# ---- run control and `...` ----------------------------------------------------

test_that("iter, warmup, chains, thin, cores, refresh, seed and sampler are checked", {
  fit <- function(...) quiet_sampling(do.call(hbmmm, small_fit_args(...)))
  # the arguments that the checks below break one at a time do fit
  expect_s3_class(fit(iter = 10, warmup = 5, thin = 1, chains = 1, cores = 1), "hbmmm_fit")
  for (bad in list(10.5, 1, 0, -5, NA, Inf, "100", c(10, 20), TRUE, list(100))) {
    cnd <- expect_input_error(fit(iter = bad), "iter")
    expect_msg(cnd, "whole number")
  }
  cnd <- expect_input_error(fit(iter = 10, warmup = 10), "warmup")
  expect_msg(cnd, "[0, 9]")
  expect_input_error(fit(iter = 10, warmup = -1), "warmup")
  expect_input_error(fit(iter = 10, warmup = 2.5), "warmup")
  expect_input_error(fit(iter = 10, warmup = NA), "warmup")
  for (bad in list(0, 1.5, -1, NA, "2", c(1, 2), 1e6)) expect_input_error(fit(chains = bad), "chains")
  expect_input_error(fit(iter = 10, warmup = 5, thin = 0), "thin")
  expect_input_error(fit(iter = 10, warmup = 5, thin = 6), "thin")
  expect_input_error(fit(cores = 0), "cores")
  expect_input_error(fit(refresh = -1), "refresh")
  expect_input_error(fit(refresh = 0.5), "refresh")
  expect_input_error(fit(seed = "a"), "seed")
  expect_input_error(fit(seed = 1.5), "seed")
  expect_input_error(fit(seed = c(1, 2)), "seed")
  expect_input_error(hbmmm(small_formula, small_panel(), media = c("tv", "search"), time = "week",
                           iter = NULL, refresh = 0), "iter")
  expect_input_error(fit(sampler = "gibs"), "sampler")
  expect_input_error(fit(sampler = "nuts", control = list(max_treedepth = 0)), "max_treedepth")
  expect_input_error(fit(sampler = "nuts", control = list(metric = "full")), "metric")
})

test_that("unknown arguments in `...` are named", {
  fit <- function(...) do.call(hbmmm, small_fit_args(...))
  cnd <- expect_input_error(fit(foo = 1), "...")
  expect_msg(cnd, "`foo`")
  cnd <- expect_input_error(fit(iteration = 100), "...")
  expect_msg(cnd, "`iteration`")
  # hbmmm_spec() arguments pass through `...`; others do not
  expect_input_error(fit(sigma_by = "markt"), "sigma_by")
  d <- small_panel()
  cnd <- expect_input_error(hbmmm(small_formula, d, c("tv", "search"), "geometric", "hill", NULL, "week",
                                  "gibbs", 1, 10, 5, 1, 1, 1, 0, list(), 99), "...")
  expect_msg(cnd, "unnamed")
})

# ---- model options -------------------------------------------------------------

test_that("fixed_transforms names and values are checked", {
  cnd <- expect_input_error(small_spec(fixed_transforms = c(decay_tvv = 0.5)), "fixed_transforms")
  expect_msg(cnd, "`decay_tvv` is not a transform parameter")
  expect_msg(cnd, "did you mean `decay_tv`?")
  cnd <- expect_input_error(small_spec(fixed_transforms = c(delay_tv = 1)), "fixed_transforms")
  expect_msg(cnd, "decay_tv, halfsat_tv")
  cnd <- expect_input_error(small_spec(fixed_transforms = c(decay_tv = 1.5)), "fixed_transforms")
  expect_msg(cnd, "`decay_tv` = 1.5 is outside its range ([0, 1))")
  expect_input_error(small_spec(fixed_transforms = c(decay_tv = 1)), "fixed_transforms")
  expect_input_error(small_spec(fixed_transforms = c(decay_tv = -0.1)), "fixed_transforms")
  cnd <- expect_input_error(small_spec(fixed_transforms = c(halfsat_tv = -1)), "fixed_transforms")
  expect_msg(cnd, "positive")
  expect_input_error(small_spec(fixed_transforms = c(slope_search = 0)), "fixed_transforms")
  cnd <- expect_input_error(small_spec(adstock = "delayed", fixed_transforms = c(delay_tv = 20)),
                            "fixed_transforms")
  expect_msg(cnd, "[0, 13]")
  expect_input_error(small_spec(fixed_transforms = c(decay_tv = NA)), "fixed_transforms")
  expect_input_error(small_spec(fixed_transforms = c(decay_tv = Inf)), "fixed_transforms")
  expect_input_error(small_spec(fixed_transforms = 0.5), "fixed_transforms")
  expect_input_error(small_spec(fixed_transforms = c(decay_tv = "0.5")), "fixed_transforms")
  expect_input_error(small_spec(fixed_transforms = list(decay_tv = 0.5)), "fixed_transforms")
})

test_that("weights must be a column name or one positive number per row", {
  d <- small_panel()
  n <- nrow(d)
  cnd <- expect_input_error(small_spec(weights = rep(-1, n)), "weights")
  expect_msg(cnd, "positive")
  expect_msg(cnd, "160 invalid")
  cnd <- expect_input_error(small_spec(weights = c(1, 0, rep(1, n - 2))), "weights")
  expect_msg(cnd, "1 invalid value(s) (first: 0)")
  expect_input_error(small_spec(weights = c(NA, rep(1, n - 1))), "weights")
  expect_input_error(small_spec(weights = c(Inf, rep(1, n - 1))), "weights")
  cnd <- expect_input_error(small_spec(weights = rep(1, 10)), "weights")
  expect_msg(cnd, "one value per row (160)")
  expect_input_error(small_spec(weights = TRUE), "weights")
  expect_input_error(small_spec(weights = list(1)), "weights")
  expect_input_error(small_spec(weights = c("price", "promo")), "weights")
  expect_input_error(small_spec(weights = "promo"), "weights") # zeros in the column
  d2 <- d
  d2$wc <- "a"
  expect_input_error(small_spec(data = d2, weights = "wc"), "weights")
  expect_s3_class(small_spec(weights = rep(2, n)), "hbmmm_spec")
})

test_that("sigma_by must name a column with at least two levels", {
  d <- small_panel()
  expect_input_error(small_spec(sigma_by = 3), "sigma_by")
  expect_input_error(small_spec(sigma_by = c("market", "promo")), "sigma_by")
  expect_input_error(small_spec(sigma_by = NA_character_), "sigma_by")
  d2 <- d
  d2$one <- "a"
  cnd <- expect_input_error(small_spec(data = d2, sigma_by = "one"), "sigma_by")
  expect_msg(cnd, "`one` has a single level")
  expect_identical(small_spec(sigma_by = "promo")$sigma_group$levels, c("0", "1"))
})

test_that("factors must name correlated grouping terms with fewer factors than terms", {
  f3 <- sales ~ tv + search + price + (1 + tv + price | market)
  expect_input_error(small_spec(f3, factors = 1), "factors")
  expect_input_error(small_spec(f3, factors = c(market = 0)), "factors")
  expect_input_error(small_spec(f3, factors = c(market = 1.5)), "factors")
  expect_input_error(small_spec(f3, factors = c(market = NA)), "factors")
  expect_input_error(small_spec(f3, factors = c(market = "1")), "factors")
  cnd <- expect_input_error(small_spec(f3, factors = c(markt = 1)), "factors")
  expect_msg(cnd, "did you mean `market`?")
  cnd <- expect_input_error(small_spec(f3, factors = c(market = 3)), "factors")
  expect_msg(cnd, "between 1 and 2")
  expect_input_error(small_spec(factors = c(market = 2)), "factors")
  cnd <- expect_input_error(small_spec(sales ~ tv + search + price + (1 + tv + price || market),
                                       factors = c(market = 1)), "factors")
  expect_msg(cnd, "`||`")
  expect_identical(small_spec(f3, factors = c(market = 1))$factors, c(market = 1L))
})

test_that("adstock and saturation names are checked per channel", {
  cnd <- expect_input_error(small_spec(adstock = "geometrc"), "adstock")
  expect_msg(cnd, "\"geometrc\" for channel `tv`")
  expect_input_error(small_spec(adstock = c(tv = "geometric", search = "weibul")), "adstock")
  cnd <- expect_input_error(small_spec(adstock = c(tv = "geometric", serch = "none")), "adstock")
  expect_msg(cnd, "tv, search")
  expect_input_error(small_spec(adstock = c("geometric", "none")), "adstock")
  expect_input_error(small_spec(adstock = NULL), "adstock")
  expect_input_error(small_spec(adstock = NA), "adstock")
  expect_input_error(small_spec(adstock = 1), "adstock")
  cnd <- expect_input_error(small_spec(saturation = "hil"), "saturation")
  expect_msg(cnd, "\"hill\", \"logistic\", \"michaelis_menten\", \"hill_mixture\", \"none\"")
  expect_input_error(small_spec(saturation = NA), "saturation")
  expect_input_error(small_spec(saturation = c(tv = "hill")), "saturation")
  expect_input_error(small_spec(adstock_control = list(maxlag = 3)), "adstock_control")
  expect_input_error(small_spec(adstock_control = 3), "adstock_control")
  expect_input_error(small_spec(adstock_control = list(max_lag = -3)), "adstock_control$max_lag")
  expect_input_error(small_spec(adstock_control = list(normalize = NA)), "adstock_control")
  expect_input_error(small_spec(horseshoe = NA), "horseshoe")
  expect_input_error(small_spec(horseshoe = "yes"), "horseshoe")
  expect_input_error(small_spec(sales ~ price + (1 | market), media = NULL, horseshoe = TRUE), "horseshoe")
  expect_input_error(small_spec(personalize = "price"), "personalize")
  expect_input_error(small_spec(sales ~ price + (1 | market), media = NULL, personalize = ~ promo), "personalize")
  expect_input_error(small_spec(keep_ranef = -1), "keep_ranef")
  expect_input_error(small_spec(keep_levels = "M01"), "keep_levels")
  cnd <- expect_input_error(small_spec(keep_levels = list(market = "M99")), "keep_levels")
  expect_msg(cnd, "`M99`")
})

test_that("time must not repeat within a series", {
  d <- small_panel()
  # no grouping factor identifies the series
  cnd <- expect_input_error(small_spec(sales ~ tv + search, time = "week"), "panel")
  expect_msg(cnd, "`week` repeats")
  d2 <- d
  d2$week[2] <- 1L # week 1 twice in market M01
  cnd <- expect_input_error(small_spec(data = d2, panel = "market"), "time")
  expect_msg(cnd, "`week` = 1 occurs more than once for market = M01")
  # a grouping term that leaves one repeat: the repeated row is named
  cnd <- expect_input_error(small_spec(data = d2), "data")
  expect_msg(cnd, "first rows 1 and 2 (market = M01, week = 1)")
  expect_input_error(small_spec(sales ~ tv + search, data = d2[d2$market == "M01", ]), "panel")
  expect_input_error(small_spec(panel = 1), "panel")
  expect_input_error(small_spec(time = c("week", "date")), "time")
})

# ---- arguments whose errors once named the wrong argument or none --------------

test_that("a named adstock_control$max_lag with an unknown channel is a classed error", {
  cnd <- expect_error(small_spec(adstock_control = list(max_lag = c(tvv = 3))), class = "hbmmm_input_error")
  expect_true(cnd$arg %in% c("adstock_control", "adstock_control$max_lag"))
})

test_that("keep_levels naming an unknown grouping term is an error", {
  expect_input_error(small_spec(keep_levels = list(markt = "M01")), "keep_levels")
})

test_that("a constant response is reported against `formula`, not a prior argument", {
  d <- small_panel()
  d$sales <- 100
  cnd <- expect_input_error(hbmmm_spec(sales ~ tv, d, media = "tv"), "formula")
  expect_msg(cnd, "`sales`")
})

test_that("a response too large for the sums of squares is reported against `formula`", {
  d <- small_panel()
  d$sales <- d$sales * 1e297
  cnd <- expect_input_error(small_spec(data = d), "formula")
  expect_msg(cnd, "`sales` reaches")
})

test_that("a duplicated row of a series is named as such, not blamed on `panel`", {
  d <- small_panel()
  d <- rbind(d, d[7, ])
  cnd <- expect_input_error(small_spec(data = d), "data")
  expect_msg(cnd, "rows 7 and 161")
  expect_msg(cnd, "market = M01, week = 7")
  # without a grouping term there is no series to name: the panel is missing
  expect_input_error(small_spec(sales ~ tv, data = rbind(small_panel(), small_panel()[7, ]), media = "tv"), "panel")
})

test_that("a media channel constant in every row warns", {
  d <- small_panel()
  d$search <- 10
  expect_warning(small_spec(data = d), class = "hbmmm_warning_constant_channel")
  expect_warning(small_spec(data = d), "`search` is 10 in every row")
})

test_that("a stacked panel without `time` warns that carry-over crosses groups", {
  d <- small_panel()
  expect_warning(small_spec(data = d, time = NULL), class = "hbmmm_warning_stacked_series")
  expect_warning(small_spec(data = d, time = NULL), "next; give `time`")
  # no warning with time, with panel, or without carry-over
  expect_no_warning(small_spec(data = d))
  expect_no_warning(small_spec(data = d, time = NULL, panel = "market"))
  expect_no_warning(small_spec(data = d, time = NULL, adstock = "none"))
})

test_that("time repeating within a panel names the panel level and the time value", {
  d <- small_panel()
  d$week[2] <- 1L
  cnd <- expect_input_error(small_spec(data = d, panel = "market"), "time")
  expect_msg(cnd, "M01")
})

test_that("personalize with media only in a bar is a classed error or works", {
  res <- tryCatch(small_spec(sales ~ price + (0 + tv | market), media = "tv", personalize = ~ promo),
                  error = identity)
  expect(inherits(res, "hbmmm_spec") ||
           (inherits(res, "hbmmm_input_error") && identical(res$arg, "personalize")),
         sprintf("got %s: %s", class(res)[1], if (inherits(res, "error")) conditionMessage(res) else ""))
})

test_that("errors in the personalize formula name `personalize`", {
  expect_input_error(small_spec(personalize = ~ incme), "personalize")
  expect_input_error(small_spec(personalize = ~ log(tv)), "personalize")
})

# ---- the C entry point of the Gibbs sampler -------------------------------------

# Replacement values for one element of the model or control list.
fuzz_garbage <- function(x) {
  n <- length(x)
  v <- list(null = NULL, string = "a", na = NA, na_real = NA_real_, neg = -1, neg_int = -1L,
            zero = 0, nan = NaN, inf = Inf, big = 1e9, big_int = .Machine$integer.max,
            empty = numeric(0), list = list(1),
            long = rep(if (is.numeric(x) && n) x[1] else 1, n + 1L),
            short = if (n > 1L) x[-n] else numeric(0))
  if (is.integer(x)) v$as_double <- as.double(x)
  if (is.double(x)) v$as_integer <- suppressWarnings(as.integer(round(x)))
  if (is.numeric(x) && n) {
    v$first_na <- replace(x, 1L, NA)
    v$all_big <- x * 0 + 1e9
    v$all_neg <- x * 0 - 1
    v$all_zero <- x * 0
  }
  if (is.integer(x) && n) {
    # integer vectors stay integer (x * 0 - 1 above is double): negative,
    # far-negative and INT_MIN + 1 values, and NA, in every element
    v$all_neg_int <- x * 0L - 1L
    v$all_far_neg_int <- x * 0L - 1000L
    v$all_min_int <- x * 0L - .Machine$integer.max
    v$all_na_int <- x * NA_integer_
    v$first_min_int <- replace(x, 1L, -.Machine$integer.max)
  }
  if (is.matrix(x)) v$transposed <- t(x)
  v
}

# Mutations as (target, path, value): applied in the process that runs them,
# so that only the base lists travel to a child process.
fuzz_mutations <- function(model, control) {
  out <- list()
  add <- function(label, target, path, value = NULL, remove = FALSE) {
    out[[length(out) + 1L]] <<- list(label = label, target = target, path = path, value = value,
                                     remove = remove)
  }
  each <- function(target, obj, path, label) {
    for (nm in names(obj)) {
      add(sprintf("%s$%s removed", label, nm), target, c(path, nm), remove = TRUE)
      g <- fuzz_garbage(obj[[nm]])
      for (gn in names(g)) add(sprintf("%s$%s <- %s", label, nm, gn), target, c(path, nm), g[[gn]])
    }
  }
  each("model", model, character(0), "model")
  for (k in seq_along(model$terms)) {
    each("model", model$terms[[k]], c("terms", k), sprintf("model$terms[[%d]]", k))
    add(sprintf("model$terms[[%d]] <- NULL", k), "model", c("terms", k), NULL)
    add(sprintf("model$terms[[%d]] <- \"a\"", k), "model", c("terms", k), "a")
  }
  for (k in seq_along(model$keep)) {
    g <- fuzz_garbage(model$keep[[k]])
    for (gn in names(g)) add(sprintf("model$keep[[%d]] <- %s", k, gn), "model", c("keep", k), g[[gn]])
  }
  each("control", control, character(0), "control")
  add("model <- NULL", "model", character(0), NULL)
  add("model <- unnamed list", "model", character(0), unname(model))
  add("control <- NULL", "control", character(0), NULL)
  add("control <- 1:3", "control", character(0), 1:3)
  out
}

# Runs every mutation of `base` (list(model, control)) and returns a data frame
# label / status / detail, status one of "input_error", "ok", "other_error",
# "malformed", "crash", "hang". Runs in a child R process when the package is
# installed (so a crash or a hang is caught and reported, and the rest still
# runs), else in this process.
fuzz_gibbs <- function(base, muts, per_call_timeout = 60) {
  runner <- '
    set_at <- function(x, path, value, remove) {
      if (!length(path)) return(value)
      p1 <- if (grepl("^[0-9]+$", path[[1]])) as.integer(path[[1]]) else path[[1]]
      if (length(path) == 1L) {
        if (remove) x[[p1]] <- NULL else x[p1] <- list(value)
        return(x)
      }
      x[[p1]] <- set_at(x[[p1]], path[-1], value, remove)
      x
    }
    run_one <- function(mut, base, log) {
      m <- base$model
      ct <- base$control
      if (mut$target == "model") m <- set_at(m, mut$path, mut$value, mut$remove)
      else ct <- set_at(ct, mut$path, mut$value, mut$remove)
      set.seed(1)
      r <- tryCatch(.Call(hbmmm:::C_hb_gibbs, m, ct), error = function(e) e)
      if (inherits(r, "hbmmm_input_error")) return(c("input_error", paste0("[", r$arg, "] ", conditionMessage(r))))
      # numerically impossible inputs (all 1e9, precisions of 1e-300) end in a
      # classed sampler error: acceptable, like an input error
      if (inherits(r, "hbmmm_sampler_error")) return(c("input_error", paste0("[sampler] ", conditionMessage(r))))
      if (inherits(r, "error")) return(c("other_error", paste0(class(r)[1], ": ", conditionMessage(r))))
      iter <- as.integer(ct$iter)
      ok <- is.list(r) && identical(names(r), c("draws", "accept", "ranef_summary", "state")) &&
        is.matrix(r$draws) && is.double(r$draws) && is.matrix(r$accept) && nrow(r$accept) == iter &&
        is.list(r$state)
      c(if (ok) "ok" else "malformed", if (ok) sprintf("finite draws: %s", all(is.finite(r$draws))) else "")
    }
  '
  lib <- dirname(system.file(package = "hbmmm"))
  installed <- file.exists(file.path(lib, "hbmmm", "Meta", "package.rds"))
  rscript <- file.path(R.home("bin"), "Rscript")
  status <- rep(NA_character_, length(muts))
  detail <- rep("", length(muts))
  if (!installed || !file.exists(rscript)) {
    eval(parse(text = runner))
    for (i in seq_along(muts)) {
      r <- run_one(muts[[i]], base)
      status[i] <- r[1]
      detail[i] <- r[2]
    }
  } else {
    dir <- tempfile("hbfuzz")
    dir.create(dir)
    on.exit(unlink(dir, recursive = TRUE), add = TRUE)
    environment(base$control$progress) <- baseenv()
    saveRDS(list(base = base, muts = muts), file.path(dir, "input.rds"))
    script <- file.path(dir, "child.R")
    writeLines(c(
      sprintf(".libPaths(c(%s, .libPaths()))", deparse(lib)),
      "suppressMessages(library(hbmmm))",
      runner,
      "a <- commandArgs(TRUE)",
      "inp <- readRDS(a[1]); log <- a[2]; from <- as.integer(a[3])",
      "for (i in seq.int(from, length(inp$muts))) {",
      "  cat(i, '\\n', file = log, append = TRUE)",
      "  r <- run_one(inp$muts[[i]], inp$base)",
      "  saveRDS(r, file.path(dirname(log), sprintf('r%05d.rds', i)))",
      "}",
      "cat('done\\n', file = log, append = TRUE)"), script)
    from <- 1L
    while (from <= length(muts)) {
      log <- file.path(dir, sprintf("log%05d.txt", from))
      rc <- suppressWarnings(system2(rscript, c("--vanilla", shQuote(script), shQuote(file.path(dir, "input.rds")),
                                                 shQuote(log), from),
                                     stdout = FALSE, stderr = FALSE, timeout = per_call_timeout + 30))
      lines <- if (file.exists(log)) readLines(log) else character(0)
      if (length(lines) && lines[length(lines)] == "done") break
      last <- if (length(lines)) as.integer(lines[length(lines)]) else from
      status[last] <- if (identical(rc, 124L)) "hang" else "crash"
      detail[last] <- sprintf("child R process ended with status %s", format(rc))
      from <- last + 1L
    }
    for (i in which(is.na(status))) {
      f <- file.path(dir, sprintf("r%05d.rds", i))
      if (file.exists(f)) {
        r <- readRDS(f)
        status[i] <- r[1]
        detail[i] <- r[2]
      }
    }
  }
  data.frame(label = vapply(muts, `[[`, "", "label"), status = status, detail = detail,
             stringsAsFactors = FALSE)
}

# Crashes, hangs, malformed results and any error other than
# hbmmm_input_error fail.
expect_fuzz_clean <- function(res) {
  expect_false(any(res$status %in% c("crash", "hang", "malformed")),
               label = paste(c("crash/hang/malformed result for:",
                               res$label[res$status %in% c("crash", "hang", "malformed")]), collapse = "\n  "))
  bad <- res[!res$status %in% c("input_error", "ok"), , drop = FALSE]
  report <- function(b) paste0("  ", b$label, "  =>  ", b$status, ": ", b$detail, collapse = "\n")
  expect(!nrow(bad), paste0(
    nrow(bad), " of ", nrow(res), " garbage inputs to C_hb_gibbs neither raised hbmmm_input_error ",
    "nor returned a well-formed result:\n", report(bad)))
  # the garbage mostly exercises the checks, and some of it is harmless
  expect_gt(sum(res$status == "input_error"), nrow(res) / 2)
  expect_gt(sum(res$status == "ok"), 0)
}

gibbs_fuzz_specs <- function() {
  d <- small_panel()
  list(
    # full covariance, diagonal (||) term, horseshoe, sigma_by, delayed adstock,
    # online summaries of the larger term
    rich = hbmmm_spec(sales ~ tv + search + price + (1 + tv + price | market) + (1 + price || week),
                      data = d, media = c("tv", "search"),
                      adstock = c(tv = "geometric", search = "delayed"), time = "week",
                      sigma_by = "promo", horseshoe = TRUE, keep_ranef = 50),
    # a static design (every transform parameter fixed): the cell path
    static = hbmmm_spec(sales ~ tv + price + (1 + price | market), data = d, media = "tv",
                        time = "week", sigma_by = "promo",
                        fixed_transforms = c(decay_tv = 0.5, halfsat_tv = 50, slope_tv = 1)),
    # a factor-analytic covariance, weights, logistic saturation
    factor = hbmmm_spec(sales ~ tv + price + (1 + tv + price | market), data = d, media = "tv",
                        saturation = "logistic", time = "week", factors = c(market = 1),
                        weights = rep(c(1, 2), nrow(d) / 2))
  )
}

test_that("C_hb_gibbs runs on valid model and control lists", {
  for (spec in gibbs_fuzz_specs()) {
    res <- run_gibbs_once(spec, gibbs_control(iter = 5L, warmup = 2L))
    expect_true(is_gibbs_result(res, gibbs_control(iter = 5L, warmup = 2L)))
    expect_identical(ncol(res$draws), length(hbmmm:::draw_names(spec)))
    expect_true(all(is.finite(res$draws)))
  }
})

test_that("C_hb_gibbs rejects garbage in any element of the model or control list", {
  specs <- gibbs_fuzz_specs()
  res <- do.call(rbind, lapply(c("rich", "static"), function(nm) {
    base <- list(model = hbmmm:::mmm_model_list(specs[[nm]]), control = gibbs_control(iter = 5L, warmup = 2L))
    r <- fuzz_gibbs(base, fuzz_mutations(base$model, base$control))
    r$label <- paste0(nm, ": ", r$label)
    r
  }))
  expect_fuzz_clean(res)
})

test_that("C_hb_gibbs rejects garbage in a factor-analytic term", {
  spec <- gibbs_fuzz_specs()$factor
  base <- list(model = hbmmm:::mmm_model_list(spec), control = gibbs_control(iter = 5L, warmup = 2L))
  muts <- fuzz_mutations(base$model, base$control)
  muts <- Filter(function(m) grepl("^model\\$terms|^model\\$(w|keep|online|ch_)", m$label), muts)
  res <- fuzz_gibbs(base, muts)
  res$label <- paste0("factor: ", res$label)
  expect_fuzz_clean(res)
})

test_that("a factor-analytic term gives the same draws from the same seed", {
  spec <- gibbs_fuzz_specs()$factor
  ctl <- gibbs_control(iter = 30L, warmup = 10L)
  # leave different values in freed small vectors before each run: a state
  # that the sampler reads before writing it shows up as different draws
  churn <- function(v) {
    junk <- lapply(seq_len(20000), function(i) c(v, v, v))
    rm(junk)
    invisible(gc())
  }
  runs <- lapply(c(1e3, -7, 0.5, 1e3), function(v) {
    churn(v)
    tryCatch(run_gibbs_once(spec, ctl, seed = 11)$draws, error = function(e) conditionMessage(e))
  })
  # the loadings start at zero (set by the model reader), not from whatever
  # the allocator left there
  failed <- vapply(runs, is.character, TRUE)
  expect(!any(failed), paste("runs failed:", paste(unique(unlist(runs[failed])), collapse = "; ")))
  same <- vapply(runs[-1], identical, TRUE, runs[[1]])
  expect(all(same), sprintf("%d of %d runs with seed 11 differ from the first", sum(!same), length(same)))
})

c_gibbs_call <- function(m, ct = gibbs_control()) .Call(hbmmm:::C_hb_gibbs, m, ct)

test_that("C_hb_gibbs errors name the list and element that is wrong", {
  model <- hbmmm:::mmm_model_list(gibbs_fuzz_specs()$rich)
  expect_input_error(c_gibbs_call(1), "model")
  expect_input_error(c_gibbs_call(model, 1), "control")
  m <- model
  m$y <- "a"
  cnd <- expect_input_error(c_gibbs_call(m), "model$y")
  expect_msg(cnd, "character")
  m <- model
  m$Xs <- m$Xs[-1]
  cnd <- expect_input_error(c_gibbs_call(m), "model$Xs")
  expect_msg(cnd, "length")
  m <- model
  m$terms <- NULL
  cnd <- expect_input_error(c_gibbs_call(m), "model")
  expect_msg(cnd, "`terms`")
})

test_that("C_hb_gibbs names `control` for bad control elements", {
  model <- hbmmm:::mmm_model_list(gibbs_fuzz_specs()$rich)
  ct <- gibbs_control()
  ct$iter <- -1
  cnd <- expect_error(c_gibbs_call(model, ct), class = "hbmmm_input_error")
  expect_identical(cnd$arg, "control$iter")
  expect_match(conditionMessage(cnd), "-1", fixed = TRUE)
  ct <- gibbs_control()
  ct$iter <- NULL
  cnd <- expect_error(c_gibbs_call(model, ct), class = "hbmmm_input_error")
  expect_identical(cnd$arg, "control")
  expect_match(conditionMessage(cnd), "`iter`", fixed = TRUE)
})

test_that("C_hb_gibbs names the grouping term for bad term elements", {
  m <- hbmmm:::mmm_model_list(gibbs_fuzz_specs()$rich)
  m$terms[[1]]$G <- -1L
  cnd <- expect_error(c_gibbs_call(m), class = "hbmmm_input_error")
  expect_identical(cnd$arg, "model$terms[[1]]$G")
  m <- hbmmm:::mmm_model_list(gibbs_fuzz_specs()$rich)
  m$terms[[2]]$Zs <- m$terms[[2]]$Zs[-1]
  cnd <- expect_error(c_gibbs_call(m), class = "hbmmm_input_error")
  expect_identical(cnd$arg, "model$terms[[2]]$Zs")
})

test_that("C_hb_gibbs reports NA as NA", {
  model <- hbmmm:::mmm_model_list(gibbs_fuzz_specs()$rich)
  m1 <- model
  m1$xc[1] <- NA_integer_
  cnd1 <- expect_input_error(c_gibbs_call(m1), "model$xc")
  m2 <- model
  m2$b_mean[1] <- NA_real_
  cnd2 <- expect_input_error(c_gibbs_call(m2), "model$b_mean")
  expect_no_match(conditionMessage(cnd1), "-2147483648", fixed = TRUE)
  expect_match(conditionMessage(cnd1), "found NA", fixed = TRUE)
  expect_no_match(conditionMessage(cnd2), "nan", fixed = TRUE)
  expect_match(conditionMessage(cnd2), "found NA", fixed = TRUE)
})

test_that("negative, INT_MIN and NA lags are refused by every entry point that reads a model list", {
  spec <- hbmmm_spec(sales ~ tv + price + (1 | market), data = small_panel(), media = "tv",
                     adstock = "delayed", time = "week")
  model <- hbmmm:::mmm_model_list(spec)
  opts <- hbmmm:::nuts_model_options(spec, FALSE)
  info <- .Call(hbmmm:::C_hb_mmm_info, model, opts)
  for (bad in list(-1L, -1000L, -.Machine$integer.max, NA_integer_)) {
    m <- model
    m$ch_max_lag[] <- bad
    calls <- list(
      gibbs = function() .Call(hbmmm:::C_hb_gibbs, m, gibbs_control(iter = 5L, warmup = 2L)),
      info = function() .Call(hbmmm:::C_hb_mmm_info, m, opts),
      logp = function() .Call(hbmmm:::C_hb_mmm_logp, m, opts, info$init),
      nuts = function() .Call(hbmmm:::C_hb_nuts_mmm, m, opts, info$init,
                              hbmmm:::nuts_control_list(hbmmm:::check_run_control(1, 10, 5, 1, 1, 0, 1),
                                                        hbmmm:::check_nuts_control(), 1L, NULL)))
    for (nm in names(calls)) {
      err <- tryCatch({calls[[nm]](); NULL}, error = identity)
      expect_s3_class(err, "hbmmm_input_error")
      expect_identical(err$arg, "model$ch_max_lag", label = paste(nm, bad))
    }
  }
})

test_that("a predictor named Intercept next to the intercept is refused (two draws named b_Intercept)", {
  d <- small_panel()
  d$Intercept <- rnorm(nrow(d))
  expect_input_error(hbmmm_spec(sales ~ tv + Intercept, data = d, media = "tv", time = "week", panel = "market"),
                     "formula")
  # without an intercept the name is unambiguous
  sp <- hbmmm_spec(sales ~ 0 + tv + Intercept, data = d, media = "tv", time = "week", panel = "market")
  expect_identical(sum(hbmmm:::draw_names(sp) == "b_Intercept"), 1L)
})
