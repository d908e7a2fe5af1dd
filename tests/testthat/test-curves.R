# Response curve sets: evaluation against plain-R formulas, carry-over
# profiles, saturation points, input forms and errors.

hill_r <- function(x, h, s) x^s / (x^s + h^s)
logis_r <- function(x, l) (1 - exp(-l * x)) / (1 + exp(-l * x))
mm_r <- function(x, k) x / (k + x)

three_curves <- function(spend = c(120, 60, 80)) {
  response_curves(data.frame(
    channel = c("tv", "search", "social"), type = c("hill", "michaelis_menten", "logistic"),
    beta = c(500, 300, 200), halfsat = c(100, NA, NA), slope = c(2, NA, NA),
    k = c(NA, 50, NA), lambda = c(NA, NA, 0.01), spend = spend))
}

test_that("curves given as a table evaluate to the closed-form responses and derivatives", {
  cv <- three_curves()
  x <- c(0, 1, 37.5, 100, 250, 1e4)
  prof <- hbmmm:::curve_profiles(cv)
  r <- hbmmm:::curves_eval(cv, x, prof, deriv = TRUE, average = TRUE)
  want <- cbind(500 * hill_r(x, 100, 2), 300 * mm_r(x, 50), 200 * logis_r(x, 0.01))
  expect_equal(unname(r$value), want, tolerance = 1e-12)
  h <- 1e-5
  fd <- (cbind(500 * hill_r(x + h, 100, 2), 300 * mm_r(x + h, 50), 200 * logis_r(x + h, 0.01)) -
           cbind(500 * hill_r(pmax(x - h, 0), 100, 2), 300 * mm_r(pmax(x - h, 0), 50),
                 200 * logis_r(pmax(x - h, 0), 0.01))) / (x + h - pmax(x - h, 0))
  expect_equal(unname(r$deriv)[-1, ], fd[-1, ], tolerance = 1e-6)
  expect_false(anyNA(r$deriv))
})

test_that("a draws matrix and a table with a draw column give the same curve set", {
  set.seed(3)
  D <- 50
  dr <- cbind(b_tv = rnorm(D, 500, 50), halfsat_tv = rlnorm(D, log(100), 0.2), slope_tv = rlnorm(D, 0, 0.2),
              b_radio = rnorm(D, 200, 20), lambda_radio = rlnorm(D, log(0.02), 0.1))
  a <- response_curves(dr, saturation = c(tv = "hill", radio = "logistic"), spend = c(tv = 90, radio = 40))
  tab <- rbind(data.frame(channel = "tv", draw = 1:D, type = "hill", beta = dr[, "b_tv"],
                          halfsat = dr[, "halfsat_tv"], slope = dr[, "slope_tv"], lambda = NA, spend = 90),
               data.frame(channel = "radio", draw = 1:D, type = "logistic", beta = dr[, "b_radio"],
                          halfsat = NA, slope = NA, lambda = dr[, "lambda_radio"], spend = 40))
  b <- response_curves(tab[sample(nrow(tab)), ])
  k <- match(a$curves$id, b$curves$id)
  expect_equal(a$beta, b$beta[, k])
  expect_equal(a$par, b$par[, k, , drop = FALSE])
  x <- c(10, 90, 300)
  ra <- hbmmm:::curves_eval(a, x, hbmmm:::curve_profiles(a))$value
  want <- outer(dr[, "b_tv"], x) * 0
  for (d in 1:D) want[d, ] <- dr[d, "b_tv"] * hill_r(x, dr[d, "halfsat_tv"], dr[d, "slope_tv"])
  expect_equal(ra[, , 1], want, tolerance = 1e-12)
})

test_that("steady-state and horizon carry-over follow the adstock definitions", {
  cv <- response_curves(data.frame(channel = "tv", type = "hill", beta = 10, halfsat = 50, slope = 1.5,
                                   adstock = "geometric", decay = 0.6, normalize = FALSE, max_lag = NA))
  # steady state of infinite geometric memory without normalization: x / (1 - decay)
  r <- hbmmm:::curves_eval(cv, 30, hbmmm:::curve_profiles(cv), average = TRUE)$value
  expect_equal(as.vector(r), 10 * hill_r(30 / 0.4, 50, 1.5), tolerance = 1e-12)
  # horizon of 3 periods, flighting (1, 2, 1), budget 80: adstock recursion by hand
  prof <- hbmmm:::curve_profiles(cv, horizon = 3, flighting = c(1, 2, 1), carryover = TRUE)
  r <- hbmmm:::curves_eval(cv, 80, prof, average = TRUE)$value
  sp <- c(80 * c(1, 2, 1) / 4, numeric(dim(prof)[1] - 3))
  a <- numeric(length(sp)); acc <- 0
  for (t in seq_along(sp)) { acc <- sp[t] + 0.6 * acc; a[t] <- acc }
  expect_equal(as.vector(r), sum(10 * hill_r(a, 50, 1.5)), tolerance = 1e-9)
  # without carry-over only the horizon counts
  prof0 <- hbmmm:::curve_profiles(cv, horizon = 3, flighting = c(1, 2, 1), carryover = FALSE)
  r0 <- hbmmm:::curves_eval(cv, 80, prof0, average = TRUE)$value
  expect_equal(as.vector(r0), sum(10 * hill_r(a[1:3], 50, 1.5)), tolerance = 1e-12)
  # a weekly flighting through curves_flight gives the same periods
  fl <- hbmmm:::curves_flight(cv, matrix(sp[1:3], 3, 1, dimnames = list(NULL, "tv")))
  expect_equal(sum(fl), sum(10 * hill_r(a, 50, 1.5)), tolerance = 1e-9)
})

test_that("normalized finite-lag adstock has steady-state multiplier one", {
  cv <- response_curves(data.frame(channel = c("a", "b"), type = "hill", beta = 1, halfsat = 5, slope = 2,
                                   adstock = c("weibull_pdf", "delayed"), shape = c(2, NA), scale = c(3, NA),
                                   decay = c(NA, 0.5), delay = c(NA, 2), max_lag = 8, normalize = TRUE))
  expect_equal(as.vector(hbmmm:::curve_profiles(cv)), c(1, 1), tolerance = 1e-12)
})

test_that("saturation points reach the stated share of the maximum", {
  cv <- three_curves()
  sp <- hbmmm:::saturation_points(cv, 0.9)
  expect_equal(500 * hill_r(sp[[1, 1]], 100, 2), 0.9 * 500)
  expect_equal(300 * mm_r(sp[[1, 2]], 50), 0.9 * 300)
  expect_equal(200 * logis_r(sp[[1, 3]], 0.01), 0.9 * 200)
  lin <- response_curves(data.frame(channel = "x", type = "linear", beta = 2, spend = 3))
  expect_true(is.na(hbmmm:::saturation_points(lin)))
  s <- summary(lin)
  expect_equal(s$table$response, 6)
  expect_equal(s$table$marginal, 2)
})

test_that("zero spend and saturated channels give finite summaries", {
  cv <- three_curves(spend = c(0, 1e6, 80))
  s <- summary(cv)
  expect_false(anyNA(s$table$response))
  expect_equal(s$table$response[1], 0)
  expect_equal(s$table$marginal[1], 0)   # Hill with slope 2 is flat at zero
  expect_lt(s$table$marginal[2], 1e-3)   # far past saturation
  expect_output(print(cv), "saturation at")
  pdf(NULL)
  on.exit(dev.off())
  d <- plot(cv)
  expect_true(all(c("curve", "spend", "mean", "lower", "upper") %in% names(d)))
  expect_false(anyNA(d$mean))
})

test_that("bad curve tables raise classed errors that name the problem", {
  expect_input_error(response_curves(data.frame(channel = "a", halfsat = 1)), "x")
  expect_input_error(response_curves(data.frame(channel = "a", beta = 1, type = "hil", halfsat = 1, slope = 1)), "type")
  expect_input_error(response_curves(data.frame(channel = "a", beta = 1, type = "hill", halfsat = -1, slope = 1)), "halfsat")
  expect_input_error(response_curves(data.frame(channel = "a", beta = NA_real_, type = "linear")), "beta")
  expect_input_error(response_curves(data.frame(channel = "a", beta = 1, type = "linear", adstock = "geometric",
                                                decay = 1.2)), "decay")
  expect_input_error(response_curves(data.frame(channel = c("a", "a"), beta = 1, type = "linear")), "x")
  expect_input_error(response_curves(cbind(b_tv = 1), saturation = "hill"), "x")
  expect_input_error(response_curves("tv"), "x")
})

test_that("the C evaluator rejects bad arguments with classed errors", {
  expect_error(.Call(hbmmm:::C_hb_curves_eval, 1.5, matrix(1), array(1, c(1, 1, 2)), array(1, c(1, 1, 1)), matrix(1), FALSE, TRUE),
               class = "hbmmm_input_error")
  expect_error(.Call(hbmmm:::C_hb_curves_eval, 1L, matrix(1), array(1, c(1, 1, 2)), array(1, c(1, 1, 1)), matrix(-1), FALSE, TRUE),
               class = "hbmmm_input_error")
  expect_error(.Call(hbmmm:::C_hb_curves_eval, 1L, matrix(1), array(c(-1, 1), c(1, 1, 2)), array(1, c(1, 1, 1)), matrix(1), FALSE, TRUE),
               class = "hbmmm_input_error")
  expect_error(.Call(hbmmm:::C_hb_allocate_dp, matrix(c(0, NaN), 2, 1), 1L), class = "hbmmm_input_error")
  expect_error(.Call(hbmmm:::C_hb_allocate_dp, matrix(0, 2, 1), 5L), class = "hbmmm_input_error")
  expect_error(.Call(hbmmm:::C_hb_allocate_local, 1L, matrix(1), array(1, c(1, 1, 2)), array(1, c(1, 1, 1)),
                     2, 0, 1, 0, c(0, 0), TRUE, c(1, 1e-3, 0)), class = "hbmmm_input_error")
})

test_that("curves from a fit use each draw's coefficient and transform parameters", {
  fit <- decide_fit(iter = 30)
  cv <- response_curves(fit)
  dm <- as.matrix(fit)
  expect_equal(cv$curves$id, c("tv", "search"))
  expect_equal(unname(cv$beta[, "tv"]), unname(dm[, "b_tv"]))
  expect_equal(cv$par[, 1, 1], unname(dm[, "halfsat_tv"]))
  expect_equal(cv$adstock_par[, 2, 1], unname(dm[, "decay_search"]))
  expect_equal(cv$curves$spend, unname(colMeans(fit$spec$media_data[, c("tv", "search")])))
  # geometric adstock normalized by default: steady state multiplier 1
  r <- hbmmm:::curves_eval(cv, 50, hbmmm:::curve_profiles(cv))$value
  want <- dm[, "b_tv"] * hill_r(50, dm[, "halfsat_tv"], dm[, "slope_tv"])
  expect_equal(r[, 1, 1], unname(want), tolerance = 1e-12)
  # group curves add the market's random tv slope
  g <- response_curves(fit, group = "market")
  lev <- fit$spec$ranef$market$levels
  id <- paste0(lev[2], ":tv")
  expect_equal(unname(g$beta[, id]), unname(dm[, "b_tv"] + dm[, sprintf("r_market[%s,tv]", lev[2])]))
  expect_input_error(response_curves(fit, group = "region"), "group")
  # planning functions take the fit directly (the unbounded optimum puts
  # search beyond its observed spend here: the classed warning says so)
  expect_warning(al <- allocate_budget(fit, bounds = NULL), class = "hbmmm_warning_extrapolation")
  expect_equal(sum(al$table$optimal), sum(cv$curves$spend))
  expect_warning(a2 <- allocate_budget(cv, bounds = NULL), class = "hbmmm_warning_extrapolation")
  expect_equal(al$objective_value, a2$objective_value)
  # bounded within the observed spend: no warning
  expect_silent(allocate_budget(cv, upper = cv$curves$spend_max))
})

test_that("decision plots: curves span the observed spend; interval bars never warn", {
  d <- small_panel()
  fit <- quiet_sampling(hbmmm(sales ~ tv + search + price + (1 | market), data = d, media = c("tv", "search"),
                              time = "week", chains = 1, iter = 100, seed = 3, refresh = 0))
  cv <- response_curves(fit)
  expect_equal(cv$curves$spend_max, unname(apply(fit$spec$media_data[, c("tv", "search")], 2, max)))
  pdf(NULL)
  on.exit(dev.off())
  pts <- plot(cv)
  top <- tapply(pts$spend, pts$curve, max)
  expect_equal(as.vector(top[c("tv", "search")]), pmax(cv$curves$spend_max, 1.2 * cv$curves$spend))
  # an almost certain curve has an interval far below a thousandth of the plot
  set.seed(1)
  D <- 200
  m <- cbind(b_a = 500 + 1e-7 * stats::rnorm(D), halfsat_a = 100, slope_a = 2,
             b_b = stats::rnorm(D, 300, 30), halfsat_b = 50, slope_b = 1)
  sure <- response_curves(m, spend = c(a = 120, b = 60))
  expect_silent(plot(allocate_budget(sure, budget = 150)))
  expect_silent(plot(roi(sure)))
})
