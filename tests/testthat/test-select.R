# Functional-form selection by BIC on data whose channels have known,
# different forms.

form_data <- function(n = 260, seed = 7) {
  set.seed(seed)
  a <- stats::rexp(n, 1 / 40) * stats::rbinom(n, 1, 0.5)
  b <- stats::rexp(n, 1 / 30) * stats::rbinom(n, 1, 0.6)
  # channel a: a delayed-peak Weibull pdf kernel with logistic saturation;
  # channel b: geometric carry-over with Hill saturation
  ma <- saturation_logistic(adstock_weibull(a, shape = 3, scale = 4, type = "pdf", max_lag = 13), 0.08)
  mb <- saturation_hill(adstock_geometric(b, 0.6, normalize = TRUE), 20, 2.5)
  data.frame(week = seq_len(n), a = a, b = b, y = 200 + 120 * ma + 90 * mb + stats::rnorm(n, 0, 3))
}

test_that("BIC ranks the true per-channel forms first", {
  d <- form_data()
  sel <- select_transforms(y ~ a + b, d, media = c("a", "b"), time = "week",
                           adstock = c("geometric", "weibull_pdf"), saturation = c("hill", "logistic"))
  expect_identical(sel$best$adstock, c("weibull_pdf", "geometric"))
  expect_identical(sel$best$saturation, c("logistic", "hill"))
  expect_identical(nrow(sel$table), 16L)
  expect_match(sel$search, "all 16 combinations")
  # BIC from the maximized log-likelihood and the parameter count
  top <- sel$table[1, ]
  expect_equal(top$criterion, -2 * top$loglik + top$k * log(nrow(d)), tolerance = 1e-10)
  expect_identical(sel$args$adstock, c(a = "weibull_pdf", b = "geometric"))
  expect_output(print(sel), "Best forms")
  pdf(NULL)
  expect_silent(plot(sel))
  grDevices::dev.off()
  # a coordinate-wise search reaches the same forms
  cw <- select_transforms(y ~ a + b, d, media = c("a", "b"), time = "week",
                          adstock = c("geometric", "weibull_pdf"), saturation = c("hill", "logistic"),
                          max_combos = 4)
  expect_match(cw$search, "coordinate-wise")
  expect_identical(cw$best, sel$best)
  expect_lt(nrow(cw$table), 16L)
})

test_that("select_transforms() refuses bad candidates and criteria", {
  d <- form_data(80)
  expect_input_error(select_transforms(y ~ a + b, d, media = c("a", "b"), adstock = "geometrc"), "adstock")
  expect_input_error(select_transforms(y ~ a + b, d, media = c("a", "b"), saturation = 1), "saturation")
  expect_input_error(select_transforms(y ~ a + b, d, media = c("a", "b"), criterion = "aic"), "criterion")
  expect_input_error(select_transforms(y ~ a + b, d, media = c("a", "b"), chains = 2), "...")
})

test_that("WAIC selection fits every candidate by hbmmm() and reports its standard error", {
  d <- form_data(120)
  sel <- select_transforms(y ~ a + b, d, media = c("a", "b"), time = "week", adstock = "geometric",
                           saturation = c("hill", "logistic"), criterion = "waic", max_combos = 2,
                           chains = 1, iter = 300, seed = 1, refresh = 0)
  expect_true(all(is.finite(sel$table$se)))
  expect_true(all(is.na(sel$table$loglik)))
  expect_identical(sel$criterion, "waic")
  expect_match(sel$search, "coordinate-wise")
})

test_that("the shipped BIC selection of brand_weekly is still what fit_baseline() gives", {
  # data-raw/brand_selection.R precomputes the budget vignette's search (too
  # long for a test); its best candidate is refitted here
  sel <- readRDS(system.file("extdata", "brand_selection.rds", package = "hbmmm"))
  expect_s3_class(sel, "hbmmm_selection")
  expect_identical(sel$best$channel, c("tv", "ooh", "radio", "print", "video", "display", "social", "search"))
  b <- fit_baseline(sel$precomputed$formula, brand_weekly, type = "ols", media = sel$best$channel,
                    adstock = sel$args$adstock, saturation = sel$args$saturation, time = "week")
  k <- length(b$coefficients) + length(b$transforms) + 1
  expect_identical(k, sel$table$k[1])
  expect_equal(-2 * b$logLik + k * log(nrow(brand_weekly)), sel$table$criterion[1], tolerance = 1e-6)
  # the table is ranked and every candidate's BIC is its log-likelihood and size
  expect_false(is.unsorted(sel$table$criterion))
  expect_equal(sel$table$criterion, -2 * sel$table$loglik + sel$table$k * log(nrow(brand_weekly)), tolerance = 1e-10)
})
