# The formula layer: lme4-style bars (parse_formula), media-aware design
# matrices (media_design) and the structure of hbmmm_spec() on a small panel.

pf <- function(f) hbmmm:::parse_formula(f)
# every grouping term of a parsed formula, flattened over bars
pf_terms <- function(f) unlist(pf(f)$bars, recursive = FALSE)
pf_groups <- function(f) vapply(pf_terms(f), `[[`, "", "group")

# ---- parse_formula ------------------------------------------------------------

test_that("a correlated bar splits off the fixed part", {
  p <- pf(y ~ x + (1 + x | g))
  expect_identical(p$response, quote(y))
  expect_equal(p$fixed, y ~ x, ignore_formula_env = TRUE)
  expect_length(p$bars, 1L)
  t <- p$bars[[1]][[1]]
  expect_identical(t$lhs, quote(1 + x))
  expect_identical(t$group_vars, "g")
  expect_identical(t$group, "g")
  expect_true(t$correlated)
  expect_identical(t$label, "1 + x | g")
  # the fixed part keeps the formula's environment
  expect_identical(environment(p$fixed), environment())
})

test_that("a double bar is uncorrelated", {
  t <- pf_terms(y ~ x + (x || g))[[1]]
  expect_false(t$correlated)
  expect_identical(t$lhs, quote(x))
  expect_identical(t$group, "g")
  expect_identical(t$label, "x || g")
})

test_that("nested bars give one term per level, as in lme4", {
  expect_identical(pf_groups(y ~ x + (1 | a/b)), c("a", "a:b"))
  ts <- pf_terms(y ~ x + (1 | a/b))
  expect_identical(ts[[2]]$group_vars, c("a", "b"))
  expect_identical(ts[[1]]$lhs, ts[[2]]$lhs)
  # three levels
  expect_identical(pf_groups(y ~ (1 + x | a/b/c)), c("a", "a:b", "a:b:c"))
  expect_identical(pf_terms(y ~ (1 + x | a/b/c))[[3]]$group_vars, c("a", "b", "c"))
  # an explicit interaction is one grouping factor
  expect_identical(pf_groups(y ~ (1 | a:b)), "a:b")
  expect_identical(pf_terms(y ~ (1 | a:b))[[1]]$group_vars, c("a", "b"))
  # uncorrelated nesting keeps `||` on every level
  expect_false(any(vapply(pf_terms(y ~ (x || a/b)), `[[`, TRUE, "correlated")))
})

test_that("crossed and several bars are all found, in formula order", {
  expect_identical(pf_groups(y ~ x + (1 | a) + (1 | b)), c("a", "b"))
  p <- pf(y ~ (1 | a) + (0 + x | b) + (1 + z || c) + (1 | d/e))
  expect_length(p$bars, 4L)
  expect_identical(pf_groups(y ~ (1 | a) + (0 + x | b) + (1 + z || c) + (1 | d/e)),
                   c("a", "b", "c", "d", "d:e"))
  expect_equal(p$fixed, y ~ 1, ignore_formula_env = TRUE)
})

test_that("bars and fixed terms may come in any order", {
  want <- y ~ x + w
  expect_equal(pf(y ~ x + w + (1 | g))$fixed, want, ignore_formula_env = TRUE)
  expect_equal(pf(y ~ (1 | g) + x + w)$fixed, want, ignore_formula_env = TRUE)
  expect_equal(pf(y ~ x + (1 | g) + w)$fixed, want, ignore_formula_env = TRUE)
  expect_equal(pf(y ~ (1 | g) + x + (0 + z || h) + w)$fixed, want, ignore_formula_env = TRUE)
  expect_identical(pf_groups(y ~ (1 | g) + x + (0 + z || h) + w), c("g", "h"))
  # interactions and function calls in the fixed part are left alone
  expect_equal(pf(y ~ (1 | g) + x:z + log(w))$fixed, y ~ x:z + log(w), ignore_formula_env = TRUE)
  # no fixed term left: intercept only
  expect_equal(pf(y ~ (1 | g))$fixed, y ~ 1, ignore_formula_env = TRUE)
  # no bar at all
  p <- pf(y ~ x * z)
  expect_length(p$bars, 0L)
  expect_equal(p$fixed, y ~ x * z, ignore_formula_env = TRUE)
})

test_that("`0 +` and `-1` remove the intercept of the fixed part and of a bar", {
  expect_equal(pf(y ~ 0 + x + (1 | g))$fixed, y ~ 0 + x, ignore_formula_env = TRUE)
  expect_equal(pf(y ~ x - 1 + (1 | g))$fixed, y ~ x - 1, ignore_formula_env = TRUE)
  expect_identical(pf_terms(y ~ x + (0 + x | g))[[1]]$lhs, quote(0 + x))
  expect_identical(pf_terms(y ~ x + (-1 + x | g))[[1]]$lhs, quote(-1 + x))
  # in the design of a bar: only the slope
  d <- small_panel()
  for (f in list(sales ~ tv + price + (0 + price | market), sales ~ tv + price + (-1 + price | market),
                 sales ~ tv + price + (price - 1 | market))) {
    s <- hbmmm_spec(f, d, media = "tv", time = "week")
    expect_identical(s$ranef$market$Z$names, "price")
    expect_identical(s$X$names, c("(Intercept)", "tv", "price"))
  }
  s <- hbmmm_spec(sales ~ 0 + tv + price + (1 | market), d, media = "tv", time = "week")
  expect_identical(s$X$names, c("tv", "price"))
  expect_identical(s$ranef$market$Z$names, "(Intercept)")
})

test_that("malformed formulas and grouping factors are classed errors naming `formula`", {
  expect_input_error(pf(~ x), "formula")
  expect_input_error(pf("y ~ x"), "formula")
  expect_input_error(pf(NULL), "formula")
  expect_input_error(pf(quote(y ~ x)), "formula")
  cnd <- expect_input_error(pf(y ~ x + (1 | log(g))), "formula")
  expect_match(conditionMessage(cnd), "log(g)", fixed = TRUE)
  expect_input_error(pf(y ~ x + (x | 1)), "formula")
  expect_input_error(pf(y ~ x + (1 | a + b)), "formula")
})

# ---- media_design -------------------------------------------------------------

media_df <- function() {
  data.frame(y = c(3, 1, 4, 1, 5, 9, 2, 6),
             tv = c(1, 2, 0, 4, 5, 6, 2.5, 3),
             search = c(0.5, 0, 1, 2, 1, 3, 2, 1),
             income = c(3, 1, 2, 5, 4, 2, 6, 1),
             price = c(1, 1.1, 0.9, 1.2, 1, 0.8, 1.05, 0.95),
             region = factor(c("a", "b", "c", "a", "b", "c", "a", "b")))
}

# static part times the channel's values: the design at untransformed media
materialize_raw <- function(md, data, media) {
  M <- md$static
  for (j in which(!is.na(md$channel))) M[, j] <- M[, j] * data[[media[md$channel[j]]]]
  M
}

test_that("a media x covariate interaction has the covariate as static part", {
  d <- media_df()
  f <- ~ tv + income + tv:income
  md <- hbmmm:::media_design(f, d, "tv")
  mm <- model.matrix(f, d)
  expect_identical(md$names, colnames(mm))
  expect_identical(colnames(md$static), colnames(mm))
  expect_identical(md$channel, c(NA, 1L, NA, 1L))
  expect_equal(unname(md$static[, "tv:income"]), d$income)
  expect_equal(unname(md$static[, "tv"]), rep(1, nrow(d)))
  expect_equal(unname(md$static[, "income"]), d$income)
  expect_equal(unname(md$static[, "(Intercept)"]), rep(1, nrow(d)))
  # static x channel rebuilds model.matrix exactly
  expect_equal(unname(materialize_raw(md, d, "tv")), unname(mm))
})

test_that("media interactions with factors and several channels match model.matrix", {
  d <- media_df()
  f <- ~ tv + search + price + tv:region + search:price
  media <- c("search", "tv") # channel indices follow `media`, not the formula
  md <- hbmmm:::media_design(f, d, media)
  mm <- model.matrix(f, d)
  expect_identical(md$names, colnames(mm))
  expect_identical(md$channel, c(NA, 2L, 1L, NA, 2L, 2L, 1L))
  expect_equal(unname(md$static[, "tv:regionb"]), as.numeric(d$region == "b"))
  expect_equal(unname(md$static[, "search:price"]), d$price)
  expect_equal(unname(materialize_raw(md, d, media)), unname(mm))
  # interaction written the other way round and a one-sided formula without media
  md2 <- hbmmm:::media_design(~ income:tv, d, "tv")
  expect_identical(md2$channel, c(NA, 1L))
  expect_equal(unname(md2$static[, 2]), d$income)
  md3 <- hbmmm:::media_design(~ price + income, d, "tv")
  expect_true(all(is.na(md3$channel)))
  expect_equal(md3$static, model.matrix(~ price + income, d), ignore_attr = TRUE)
  # no intercept
  md4 <- hbmmm:::media_design(~ 0 + tv, d, "tv")
  expect_identical(md4$names, "tv")
  expect_identical(md4$channel, 1L)
})

test_that("non-linear media terms and media x media give classed errors naming `formula`", {
  d <- media_df()
  md <- function(f, media = c("tv", "search")) hbmmm:::media_design(f, d, media)
  cnd <- expect_input_error(md(~ tv + I(tv^2)), "formula")
  expect_match(conditionMessage(cnd), "`tv` enters term `I(tv^2)` non-linearly", fixed = TRUE)
  cnd <- expect_input_error(md(~ log(tv + 1)), "formula")
  expect_match(conditionMessage(cnd), "log(tv + 1)", fixed = TRUE)
  expect_input_error(md(~ log(tv)), "formula")
  expect_input_error(md(~ sqrt(search)), "formula")
  expect_input_error(md(~ I(tv + 1)), "formula")
  cnd <- expect_input_error(md(~ tv:search), "formula")
  expect_match(conditionMessage(cnd), "`tv:search` multiplies two media channels", fixed = TRUE)
  expect_input_error(md(~ tv * search), "formula")
  expect_input_error(md(~ tv:income:search), "formula")
  # the argument name is passed through
  expect_input_error(hbmmm:::media_design(~ log(tv), d, "tv", arg = "personalize"), "personalize")
  # through hbmmm_spec, in the fixed part and in a bar
  p <- small_panel()
  expect_input_error(hbmmm_spec(sales ~ I(tv^2), p, media = "tv"), "formula")
  expect_input_error(hbmmm_spec(sales ~ log(tv + 1), p, media = "tv"), "formula")
  expect_input_error(hbmmm_spec(sales ~ tv:search, p, media = c("tv", "search")), "formula")
  expect_input_error(hbmmm_spec(sales ~ tv + (1 + I(tv^2) | market), p, media = "tv"), "formula")
  expect_input_error(hbmmm_spec(sales ~ tv + search + (1 + tv:search | market), p,
                                media = c("tv", "search")), "formula")
  # the same terms are fine when the variable is not a media channel
  expect_s3_class(hbmmm_spec(sales ~ tv + log(search + 1), p, media = "tv"), "hbmmm_spec")
})

# ---- hbmmm_spec structure -----------------------------------------------------

test_that("the spec holds the fixed design, the group levels and the media", {
  d <- small_panel()
  s <- hbmmm_spec(sales ~ tv + search + price + promo + tv:price + (1 + tv | market), d,
                  media = c("tv", "search"), time = "week")
  expect_s3_class(s, "hbmmm_spec")
  expect_identical(s$nobs, nrow(d))
  expect_identical(ncol(s$X$static), 6L)
  expect_identical(s$X$names, c("(Intercept)", "tv", "search", "price", "promo", "tv:price"))
  expect_identical(s$X$channel, c(NA, 1L, 2L, NA, NA, 1L))
  expect_identical(names(s$ranef), "market")
  expect_identical(s$ranef$market$levels, levels(d$market))
  expect_identical(s$ranef$market$Z$names, c("(Intercept)", "tv"))
  expect_identical(s$ranef$market$Z$channel, c(NA, 1L))
  expect_identical(s$ranef$market$codes, as.integer(factor(s$data$market)))
  expect_identical(s$media, c("tv", "search"))
  expect_identical(colnames(s$media_data), c("tv", "search"))
  expect_equal(unname(s$media_data[, "tv"]), s$data$tv)
  expect_equal(s$y, s$data$sales)
  expect_identical(s$weights, rep(1, nrow(d)))
  expect_identical(s$response, "sales")
  # the fixed design matches model.matrix on the ordered data
  mm <- model.matrix(~ tv + search + price + promo + tv:price, s$data)
  expect_equal(unname(materialize_raw(s$X, s$data, s$media)), unname(mm))
  # transform parameters named like the draws
  expect_setequal(s$transforms$pars$name,
                  c("decay_tv", "halfsat_tv", "slope_tv", "decay_search", "halfsat_search", "slope_search"))
})

test_that("nested and crossed grouping terms get their own levels", {
  d <- small_panel()
  d$region <- ifelse(d$market %in% c("M01", "M02"), "north", "south")
  s <- hbmmm_spec(sales ~ tv + (1 | region/market) + (1 | week), d, media = "tv", time = "week",
                  panel = "market")
  expect_identical(names(s$ranef), c("region", "region:market", "week"))
  expect_identical(s$ranef$region$levels, c("north", "south"))
  expect_identical(s$ranef[["region:market"]]$levels,
                   c("north:M01", "north:M02", "south:M03", "south:M04"))
  expect_length(s$ranef$week$levels, 40L)
  for (t in s$ranef) {
    expect_length(t$codes, nrow(d))
    expect_identical(sort(unique(t$codes)), seq_along(t$levels))
  }
})

test_that("the panel is the coarsest grouping factor within which time is unique", {
  d <- small_panel()
  d$region <- ifelse(d$market %in% c("M01", "M02"), "north", "south")
  d$cell <- paste(d$market, d$week %% 2) # finer than market, weeks still unique
  expect_identical(hbmmm_spec(sales ~ tv + (1 | market), d, media = "tv", time = "week")$panel, "market")
  # region is coarser but weeks repeat within it; cell is finer than market
  expect_identical(hbmmm_spec(sales ~ tv + (1 | region) + (1 | market), d, media = "tv", time = "week")$panel,
                   "market")
  expect_identical(hbmmm_spec(sales ~ tv + (1 | cell) + (1 | market), d, media = "tv", time = "week")$panel,
                   "market")
  expect_identical(hbmmm_spec(sales ~ tv + (1 | market) + (1 | cell), d, media = "tv", time = "week")$panel,
                   "market")
  # the grouping factor may sit in a bar on media only
  expect_identical(hbmmm_spec(sales ~ price + (0 + tv | market), d, media = "tv", time = "week")$panel,
                   "market")
  # time unique overall: one series; no time: one series in row order
  one <- d[d$market == "M02", ]
  s <- hbmmm_spec(sales ~ tv + (1 | cell), one, media = "tv", time = "week")
  expect_null(s$panel)
  expect_identical(s$panel_codes, rep(1L, nrow(one)))
  expect_warning(s <- hbmmm_spec(sales ~ tv + (1 | market), d, media = "tv"), class = "hbmmm_warning_stacked_series")
  expect_null(s$panel)
  expect_identical(s$row_order, seq_len(nrow(d)))
  # an explicit panel wins
  # (each cell is observed every other week: a gap the spec warns about)
  expect_identical(suppressWarnings(hbmmm_spec(sales ~ tv + (1 | market), d, media = "tv", time = "week",
                                               panel = "cell"))$panel, "cell")
})

test_that("rows are ordered by panel then time, and row_order maps back to the input", {
  d <- small_panel()
  set.seed(42)
  sh <- d[sample(nrow(d)), ]
  rownames(sh) <- NULL
  s <- hbmmm_spec(sales ~ tv + search + price + (1 + tv | market), sh, media = c("tv", "search"),
                  time = "week")
  expect_identical(s$panel, "market")
  expect_identical(sort(s$row_order), seq_len(nrow(sh)))
  expect_equal(s$data, sh[s$row_order, ], ignore_attr = TRUE)
  expect_equal(s$y, sh$sales[s$row_order])
  expect_equal(unname(s$media_data), unname(as.matrix(sh[s$row_order, c("tv", "search")])))
  expect_equal(unname(s$X$static[, "price"]), sh$price[s$row_order])
  # each panel is one contiguous block, increasing in time
  runs <- rle(as.character(s$data$market))
  expect_length(runs$values, 4L)
  expect_setequal(runs$values, levels(d$market))
  expect_true(all(tapply(s$data$week, s$data$market, function(w) all(diff(w) > 0))))
  expect_identical(s$panel_codes, match(s$data$market, unique(s$data$market)))
  # panel_codes agree with the contiguous blocks
  expect_true(all(diff(s$panel_codes) >= 0))
  # group codes follow the ordered rows
  expect_identical(s$ranef$market$levels[s$ranef$market$codes], as.character(s$data$market))
  # a weights vector and sigma_by groups follow the rows
  s3 <- hbmmm_spec(sales ~ tv + search + price + (1 + tv | market), sh, media = c("tv", "search"),
                   time = "week", weights = seq_len(nrow(sh)), sigma_by = "promo")
  # (rescaled to mean one, see hbmmm_spec(weights =))
  expect_equal(s3$weights, as.double(s3$row_order) / mean(seq_len(nrow(sh))))
  expect_identical(s3$sigma_group$levels[s3$sigma_group$codes], as.character(s3$data$promo))
  # time given as Dates orders the same way
  s2 <- hbmmm_spec(sales ~ tv + search + price + (1 + tv | market), sh, media = c("tv", "search"),
                   time = "date")
  expect_identical(s2$row_order, s$row_order)
})

test_that("print(spec) shows the model and every prior", {
  s <- small_spec(prior = hbmmm_prior(b = list(tv = normal(0.5, 0.2)), decay = list(search = beta_dist(1, 3))))
  out <- paste(capture.output(print(s)), collapse = "\n")
  expect_match(out, "<hbmmm_spec>", fixed = TRUE)
  expect_match(out, "160 observations", fixed = TRUE)
  expect_match(out, "market (4 levels)", fixed = TRUE)
  expect_match(out, "Priors:", fixed = TRUE)
  expect_match(out, "b_tv\\s+normal\\(0\\.5, 0\\.2\\)")
  expect_match(out, "decay_search\\s+beta_dist\\(1, 3\\)")
  pr <- s$priors
  for (nm in names(pr$b)) {
    lab <- paste0("b_", if (nm == "(Intercept)") "Intercept" else nm)
    expect_match(out, paste0(lab, " +", gsub("([().])", "\\\\\\1", format(pr$b[[nm]]))))
  }
  expect_match(out, "cov_market", fixed = TRUE)
  expect_match(out, format(pr$cov$market$dist), fixed = TRUE)
  expect_match(out, format(pr$sigma), fixed = TRUE)
  for (nm in names(s$transforms$priors)) {
    expect_match(out, nm, fixed = TRUE)
    expect_match(out, format(s$transforms$priors[[nm]]), fixed = TRUE)
  }
  capture.output(expect_invisible(print(s)))
  # uncorrelated terms, horseshoe and per-group sigma are shown too
  s2 <- small_spec(sales ~ tv + search + price + (1 + price || market), horseshoe = TRUE, sigma_by = "promo",
                   fixed_transforms = c(decay_tv = 0.3))
  out2 <- paste(capture.output(print(s2)), collapse = "\n")
  expect_match(out2, "horseshoe", fixed = TRUE)
  expect_match(out2, "residual sd by `promo` (2 levels)", fixed = TRUE)
  expect_match(out2, "decay_tv = 0.3", fixed = TRUE)
  expect_match(out2, format(s2$priors$cov$market$dist), fixed = TRUE)
  expect_match(out2, "on each sd", fixed = TRUE)
})

# ---- formula corner cases ----------------------------------------------------

# poly() and scale() see the constant probe values that media_design() substitutes
test_that("poly() of a media channel is a classed error", {
  expect_input_error(hbmmm_spec(sales ~ poly(tv, 2), small_panel(), media = "tv"), "formula")
})

test_that("scale() of a media channel is a classed error", {
  expect_input_error(hbmmm_spec(sales ~ tv + scale(tv), small_panel(), media = "tv"), "formula")
})

test_that("a bar followed by `- 1` is still a bar", {
  expect_identical(pf_groups(y ~ x + (1 | g) - 1), "g")
  s <- expect_silent(hbmmm_spec(sales ~ tv + price + (1 | market) - 1, small_panel(), media = "tv", time = "week"))
  expect_identical(s$X$names, c("tv", "price"))
  expect_identical(names(s$ranef), "market")
})

test_that("a bar in double parentheses is a bar, not a fixed term", {
  expect_equal(pf(y ~ x + ((1 | g)))$fixed, y ~ x, ignore_formula_env = TRUE)
  s <- expect_silent(hbmmm_spec(sales ~ tv + ((1 | market)), small_panel(), media = "tv", time = "week"))
  expect_identical(s$X$names, c("(Intercept)", "tv"))
})

test_that("offset() terms are not silently dropped", {
  res <- tryCatch(hbmmm_spec(sales ~ tv + offset(price), small_panel(), media = "tv"), error = identity)
  expect(inherits(res, "hbmmm_input_error") && identical(res$arg, "formula"),
         sprintf("no error naming `formula`; the spec's fixed effects are %s and the offset is gone",
                 if (inherits(res, "hbmmm_spec")) paste(res$X$names, collapse = ", ") else class(res)[1]))
})

test_that("a model without fixed effects is rejected up front or fits", {
  res <- tryCatch(hbmmm(sales ~ 0 + (1 | market), small_panel(), chains = 1, iter = 10, seed = 1,
                        refresh = 0), error = function(e) e)
  ok <- inherits(res, "hbmmm_fit") || (inherits(res, "hbmmm_input_error") && identical(res$arg, "formula"))
  expect(ok, sprintf("got %s [arg %s]: %s", class(res)[1], format(res$arg),
                     if (inherits(res, "error")) conditionMessage(res) else ""))
})

test_that("nested bars can identify the series when labels repeat across groups", {
  d <- small_panel()
  d$store <- paste0("S", d$week %% 2 + 1) # store labels reused in every market
  d$t <- (d$week + 1) %/% 2 # unique within market:store only
  s <- hbmmm_spec(sales ~ tv + (1 | market/store), d, media = "tv", time = "t")
  expect_identical(max(s$panel_codes), 8L)
})

test_that("a channel with a non-syntactic name enters linearly through backticks", {
  d <- small_panel()
  d$`paid search` <- d$search
  s <- hbmmm_spec(sales ~ tv + `paid search` + (1 | market), d, media = c("tv", "paid search"), time = "week")
  expect_identical(s$X$channel, c(NA, 1L, 2L))
  expect_input_error(hbmmm_spec(sales ~ tv + log(`paid search`) + (1 | market), d, media = c("tv", "paid search"),
                                time = "week"), "formula")
  fit <- quick_fit(data = d, formula = sales ~ tv + `paid search` + (1 | market), media = c("tv", "paid search"))
  expect_true("b_paid search" %in% colnames(as.matrix(fit)))
})
