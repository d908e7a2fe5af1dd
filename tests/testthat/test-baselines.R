# Benchmark models against the established implementations they stand for.

train_weeks <- function() mmm_weekly[mmm_weekly$week <= 80, ]
test_weeks <- function() mmm_weekly[mmm_weekly$week > 80, ]

test_that("ols without transforms is lm()", {
  d <- train_weeks()
  b <- fit_baseline(sales ~ tv + price + promo + season_sin, d, type = "ols")
  ref <- stats::lm(sales ~ tv + price + promo + season_sin, d)
  expect_equal(unname(b$coefficients), unname(stats::coef(ref)), tolerance = 1e-8)
  expect_equal(b$fitted, unname(stats::fitted(ref)), tolerance = 1e-8)
  expect_equal(b$sigma, summary(ref)$sigma, tolerance = 1e-10)
  expect_equal(b$logLik, as.numeric(stats::logLik(ref)), tolerance = 1e-10)
  rmse <- sqrt(mean(b$residuals^2))
  expect_lt(abs(rmse - sqrt(mean(stats::residuals(ref)^2))), 1e-6)
  # prediction intervals are lm()'s
  nd <- test_weeks()
  p <- predict(b, nd)
  pr <- stats::predict(ref, nd, interval = "prediction")
  expect_equal(p$Estimate, unname(pr[, "fit"]), tolerance = 1e-8)
  expect_equal(p$lower, unname(pr[, "lwr"]), tolerance = 1e-8)
  expect_equal(p$upper, unname(pr[, "upr"]), tolerance = 1e-8)
})

test_that("ridge equals the closed form at the penalty GCV chooses", {
  d <- train_weeks()
  b <- fit_baseline(sales ~ tv + search + price + promo, d, type = "ridge")
  X <- stats::model.matrix(~ tv + search + price + promo, d)[, -1]
  n <- nrow(X)
  mu <- colMeans(X)
  s <- sqrt(colSums(sweep(X, 2, mu)^2) / n)
  Zs <- sweep(sweep(X, 2, mu), 2, s, "/")
  yc <- d$sales - mean(d$sales)
  bs <- solve(crossprod(Zs) + b$lambda * diag(ncol(Zs)), crossprod(Zs, yc))
  expect_equal(unname(b$coefficients[-1]), unname(drop(bs) / s), tolerance = 1e-8)
  expect_equal(unname(b$coefficients[1]), mean(d$sales) - sum(drop(bs) / s * mu), tolerance = 1e-8)
  # the chosen penalty minimizes GCV
  gcv <- function(lam) {
    H <- Zs %*% solve(crossprod(Zs) + lam * diag(ncol(Zs)), t(Zs))
    n * sum((yc - H %*% yc)^2) / (n - 1 - sum(diag(H)))^2
  }
  expect_lte(gcv(b$lambda), gcv(b$lambda * 1.5) + 1e-9)
  expect_lte(gcv(b$lambda), gcv(b$lambda / 1.5) + 1e-9)
})

test_that("multilevel is nlme::lme() by REML", {
  skip_if_not_installed("nlme")
  d <- train_weeks()
  b <- fit_baseline(sales ~ tv + price + (1 + tv | market), d, type = "multilevel")
  ref <- nlme::lme(sales ~ tv + price, random = ~ 1 + tv | market, data = d, method = "REML")
  expect_equal(b$fitted, as.numeric(stats::fitted(ref)), tolerance = 1e-4)
  expect_equal(unname(b$coefficients), unname(nlme::fixef(ref)), tolerance = 1e-4)
  expect_equal(b$logLik, as.numeric(stats::logLik(ref)), tolerance = 1e-6)
  # predictions on held-out weeks use the market effects
  p <- predict(b, test_weeks())
  ref_p <- stats::predict(ref, test_weeks(), level = 1)
  expect_equal(p$Estimate, as.numeric(ref_p), tolerance = 1e-4)
  expect_input_error(fit_baseline(sales ~ tv + price, d, type = "multilevel"), "formula")
})

test_that("least-squares media transforms recover known carry-over and saturation", {
  set.seed(4)
  n <- 300
  tv <- stats::rexp(n, 1 / 50) * stats::rbinom(n, 1, 0.6)
  a <- adstock_geometric(tv, 0.6, normalize = TRUE)
  y <- 100 + 80 * saturation_hill(a, 30, 2) + stats::rnorm(n, 0, 1)
  d <- data.frame(week = seq_len(n), tv = tv, y = y)
  b <- fit_baseline(y ~ tv, d, type = "ols", media = "tv", time = "week")
  expect_equal(unname(b$transforms[c("decay_tv", "halfsat_tv", "slope_tv")]), c(0.6, 30, 2), tolerance = 0.05)
  expect_equal(unname(b$coefficients[["tv"]]), 80, tolerance = 0.05)
})

test_that("compare_models() puts the papers' benchmarks next to hbmmm fits", {
  skip_if_not_installed("nlme")
  d <- train_weeks()
  f <- sales ~ tv + search + price + promo + season_sin + season_cos + (1 + tv | market)
  args <- list(f, d, media = c("tv", "search"), time = "week", panel = "market")
  ols <- do.call(fit_baseline, c(args, type = "ols"))
  ridge <- do.call(fit_baseline, c(args, type = "ridge"))
  ml <- do.call(fit_baseline, c(args, type = "multilevel"))
  pooled <- quiet_sampling(do.call(fit_baseline, c(args, type = "pooled", chains = 2, iter = 400, seed = 1, refresh = 0)))
  hier <- quiet_sampling(hbmmm(f, d, media = c("tv", "search"), time = "week", chains = 2, iter = 400, seed = 1,
                               refresh = 0))
  # (a few observations of these short runs have high Pareto k: a PSIS warning)
  tab <- suppressWarnings(compare_models(OLS = ols, ridge = ridge, pooled = pooled, multilevel = ml,
                                         hbmmm = hier, newdata = test_weeks()),
                          classes = "hbmmm_warning_pareto_k")
  expect_identical(names(tab), c("OLS", "ridge", "pooled", "multilevel", "hbmmm"))
  expect_true(all(is.na(unlist(tab[c("DIC", "WAIC", "LOOIC"), c("OLS", "ridge", "multilevel")]))))
  expect_true(all(is.finite(unlist(tab[c("DIC", "WAIC", "LOOIC"), c("pooled", "hbmmm")]))))
  # markets differ: the hierarchical model predicts held-out weeks better than OLS
  expect_lt(tab["RMSE_out", "hbmmm"], tab["RMSE_out", "OLS"])
  expect_output(print(tab), "RMSE_out")
  expect_output(print(ols), "least squares")
})

test_that("bad input to fit_baseline() is refused", {
  d <- train_weeks()
  expect_input_error(fit_baseline(sales ~ tv, d, type = "lasso"), "type")
  expect_input_error(fit_baseline(sales ~ tv, d, type = "ols", chains = 2), "...")
  expect_input_error(fit_baseline(sales ~ tv + (1 | market) + (1 | week), d, type = "multilevel"), "formula")
  b <- fit_baseline(sales ~ tv, d, type = "ols")
  expect_input_error(predict(b, test_weeks(), level = 2), "level")
})

test_that("the least-squares search's fast helpers give the plain computations", {
  # links_from_unc() is the vectorized link_from_unc() the objective calls
  codes <- hbmmm:::HB_CODES$link
  links <- rep(names(codes), each = 3)
  u <- c(-2, 0, 1.5, -1, 0.3, 2, -0.7, 0.1, 3)
  upper <- c(1, 1, 1, 1, 1, 1, 4, 8, 12)
  ref <- vapply(seq_along(u), function(i) hbmmm:::link_from_unc(codes[[links[i]]], u[i], upper[i]), 1)
  expect_identical(hbmmm:::links_from_unc(links, u, upper), ref)
  expect_equal(ref[c(1, 4, 7)], c(stats::plogis(-2), exp(-1), 4 * stats::plogis(-0.7)))
  # media_columns(): static part times the channel, column by column
  Xd <- list(static = matrix(1:12 / 3, 4, 3), channel = c(NA, 2L, 1L))
  M <- matrix(c(0.5, 1, 2, 4, 10, 20, 30, 40), 4, 2)
  expect_identical(hbmmm:::media_columns(Xd, M),
                   cbind(Xd$static[, 1], Xd$static[, 2] * M[, 2], Xd$static[, 3] * M[, 1]))
})
