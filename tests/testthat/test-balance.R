test_that("balance() matches hand-computed standardized differences", {
  d <- causal_sim(700, seed = 12)$data
  ps <- propensity_score(treat ~ age + income + loyal + region, data = d)
  for (est in c("ATE", "ATT", "ATC")) {
    w <- ps_weight(ps, estimand = est)
    b <- balance(w)
    X <- ps$covariates
    for (j in seq_len(ncol(X))) {
      expect_equal(b$table$smd_before[j], ref_smd(X[, j], d$treat, rep(1, nrow(d)), est), tolerance = 1e-10)
      expect_equal(b$table$smd_after[j], ref_smd(X[, j], d$treat, w$weights, est), tolerance = 1e-10)
    }
    expect_identical(b$table$imbalanced, abs(b$table$smd_after) > 0.1)
  }
  # variance ratio of a continuous covariate, unweighted = ratio of sample variances
  b <- balance(ps)
  expect_equal(b$table$var_ratio_before[1], stats::var(d$age[d$treat == 1]) / stats::var(d$age[d$treat == 0]))
  expect_true(is.na(b$table$var_ratio_before[b$table$variable == "loyal"]))
  # eCDF max before = two-sample Kolmogorov-Smirnov statistic
  ks <- suppressWarnings(stats::ks.test(d$age[d$treat == 1], d$age[d$treat == 0])$statistic)
  expect_equal(b$table$ecdf_max_before[1], unname(ks))
})

test_that("balance() reproduces MatchIt's balance statistics", {
  skip_if_not_installed("MatchIt")
  d <- causal_sim(900, seed = 13)$data
  f <- treat ~ age + income + loyal + region
  ps <- propensity_score(f, data = d)
  m <- ps_match(ps, caliper = 0.2, ratio = 2, replace = TRUE)
  mi <- suppressWarnings(MatchIt::matchit(f, data = d, distance = ps$score, replace = TRUE, ratio = 2))
  mi$weights <- stats::setNames(m$weights, rownames(d))  # our matched sample in MatchIt's summary
  s <- summary(mi, pair.dist = FALSE)
  b <- balance(m)
  rows <- match(sub("_", "", b$table$variable), rownames(s$sum.matched))
  expect_false(anyNA(rows))
  expect_equal(b$table$smd_after, unname(s$sum.matched[rows, "Std. Mean Diff."]), tolerance = 1e-10)
  expect_equal(b$table$smd_before, unname(s$sum.all[rows, "Std. Mean Diff."]), tolerance = 1e-10)
  expect_equal(b$table$var_ratio_after, unname(s$sum.matched[rows, "Var. Ratio"]), tolerance = 1e-10)
  expect_equal(b$table$ecdf_mean_after, unname(s$sum.matched[rows, "eCDF Mean"]), tolerance = 1e-10)
  expect_equal(b$table$ecdf_max_after, unname(s$sum.matched[rows, "eCDF Max"]), tolerance = 1e-10)
  expect_equal(b$table$mean_control_after, unname(s$sum.matched[rows, "Means Control"]), tolerance = 1e-10)
})

test_that("matching on confounded data balances every covariate", {
  d <- causal_sim(3000, seed = 14)$data
  ps <- propensity_score(treat ~ age + income + loyal + region, data = d)
  b <- balance(ps_match(ps, caliper = 0.2))
  expect_true(any(abs(b$table$smd_before) > 0.1))
  expect_true(all(abs(b$table$smd_after) < 0.1))
  expect_false(any(b$table$imbalanced))
  expect_output(print(b), "covariate")
})

test_that("the love plot draws and returns its data", {
  d <- causal_sim(500, seed = 15)$data
  ps <- propensity_score(treat ~ age + income + loyal + region, data = d)
  b <- balance(ps_weight(ps))
  f <- tempfile(fileext = ".png")
  grDevices::png(f)
  out <- plot(b)
  out2 <- plot(b, abs = FALSE)
  grDevices::dev.off()
  expect_true(file.exists(f))
  expect_equal(out$smd_after, abs(b$table$smd_after))
  expect_equal(out2$smd_before, b$table$smd_before)
  expect_input_error(balance(1), "x")
  expect_input_error(balance(ps, threshold = -1), "threshold")
  expect_input_error(balance(ps, covariates = "nope"), "covariates")
  expect_equal(nrow(balance(ps, covariates = c("age", "region"))$table), 5L)
})
