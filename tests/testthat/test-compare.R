# Model comparison: PSIS-LOO against loo, WAIC and DIC against a conjugate
# model with a known posterior, K-fold CV and the comparison table.

# y_i ~ N(theta, 1), theta ~ N(0, tau^2): theta | y ~ N(m, v). A fit of
# y ~ 1 whose draws are replaced by exact posterior draws (sigma = 1).
conjugate_fit <- function(S = 2e5, n = 25, tau = 2, seed = 1) {
  set.seed(seed)
  y <- rnorm(n, 1.5, 1)
  v <- 1 / (n + 1 / tau^2)
  m <- v * sum(y)
  fit <- quiet_sampling(hbmmm(y ~ 1, data = data.frame(y = y), chains = 1, iter = 20, seed = 1, refresh = 0))
  theta <- rnorm(S, m, sqrt(v))
  fit$draws <- array(c(theta, rep(1, S)), c(S, 1, 2),
                     dimnames = list(iteration = NULL, chain = NULL, variable = c("b_Intercept", "sigma")))
  list(fit = fit, y = y, m = m, v = v, theta = theta)
}

test_that("WAIC equals its closed form on a conjugate normal model", {
  cj <- conjugate_fit()
  d <- cj$y - cj$m
  v <- cj$v
  # lppd_i = log N(y_i | m, 1 + v); p_waic_i = Var(log N(y_i | theta, 1)) = d^2 v + v^2 / 2
  lppd <- dnorm(cj$y, cj$m, sqrt(1 + v), log = TRUE)
  p <- d^2 * v + v^2 / 2
  w <- waic(cj$fit)
  expect_equal(unname(w$pointwise[, "p_waic"]), p, tolerance = 0.02)
  # Monte Carlo error of S = 2e5 draws: a few thousandths
  expect_lt(abs(w$estimates["elpd_waic", "Estimate"] - sum(lppd - p)), 0.02)
  expect_lt(abs(w$estimates["waic", "Estimate"] - -2 * sum(lppd - p)), 0.04)
  # the estimator itself, on the same draws, by hand
  ll <- sapply(cj$y, function(yi) dnorm(yi, cj$theta, 1, log = TRUE))
  expect_equal(unname(w$pointwise[, "elpd_waic"]), log(colMeans(exp(ll))) - apply(ll, 2, var), tolerance = 1e-12)
})

test_that("DIC and both effective numbers of parameters equal their closed forms", {
  cj <- conjugate_fit()
  n <- length(cj$y)
  d <- cj$y - cj$m
  v <- cj$v
  # D(theta) = n log(2 pi) + sum (y_i - theta)^2
  Dhat <- n * log(2 * pi) + sum(d^2)
  Dbar <- Dhat + n * v
  pV <- 2 * v * sum(d)^2 + n^2 * v^2
  out <- dic(cj$fit)
  # closed forms, within the Monte Carlo error of S = 2e5 draws (about 0.005)
  expect_lt(abs(out[["Dbar"]] - Dbar), 0.03)
  expect_lt(abs(out[["p_D"]] - n * v), 0.03)
  expect_lt(abs(out[["p_V"]] - pV), 0.05)
  expect_lt(abs(out[["DIC"]] - (Dbar + n * v)), 0.05)
  expect_lt(abs(out[["DIC_V"]] - (Dbar + pV)), 0.06)
  # the estimator itself on the same draws, by hand
  D <- sapply(cj$theta, function(th) n * log(2 * pi) + sum((cj$y - th)^2))
  expect_equal(out[["Dbar"]], mean(D), tolerance = 1e-12)
  expect_equal(out[["Dhat"]], n * log(2 * pi) + sum((cj$y - mean(cj$theta))^2), tolerance = 1e-12)
  expect_equal(out[["p_V"]], var(D) / 2, tolerance = 1e-10)
})

test_that("psis_loo's C smoothing equals the plain-R PSIS per observation (elpd and k)", {
  set.seed(11)
  S <- 1000
  n <- 40
  # light and heavy tails: normal log-likelihoods, and columns with a few
  # draws far out (k above 0.7)
  ll <- matrix(stats::rnorm(S * n, -1, 0.3), S, n)
  ll[, 1:8] <- ll[, 1:8] - stats::rexp(S * 8, 1 / (1:8))
  r <- stats::runif(n, 0.3, 1)
  got <- suppressWarnings(psis_loo(ll, r_eff = r), classes = "hbmmm_warning_pareto_k")$pointwise
  want <- ref_psis_loo(ll, r)
  expect_equal(unname(got[, "elpd_loo"]), unname(want[, "elpd"]), tolerance = 1e-10)
  expect_equal(unname(got[, "pareto_k"]), unname(want[, "k"]), tolerance = 1e-10)
  expect_true(any(got[, "pareto_k"] > 0.7)) # the heavy tails were exercised
  # the C entry point checks its arguments
  expect_error(.Call(hbmmm:::C_hb_psis_loo, ll, rep(1, n - 1)), class = "hbmmm_input_error")
  expect_error(.Call(hbmmm:::C_hb_psis_loo, ll, replace(rep(1, n), 2, -1)), "r_eff", class = "hbmmm_input_error")
  expect_error(.Call(hbmmm:::C_hb_psis_loo, replace(ll, 5, NaN), rep(1, n)), "NaN", class = "hbmmm_input_error")
  expect_error(.Call(hbmmm:::C_hb_psis_loo, as.vector(ll), rep(1, n)), "matrix", class = "hbmmm_input_error")
  expect_error(.Call(hbmmm:::C_hb_psis_loo, ll[1, , drop = FALSE], rep(1, n)), "2 draws", class = "hbmmm_input_error")
})

test_that("psis_loo equals loo::loo on the same log-likelihood (elpd, p_loo, every k)", {
  skip_if_not_installed("loo")
  set.seed(5)
  S <- 4000
  n <- 40
  mu <- rnorm(S, 0, 0.4)
  sig <- exp(rnorm(S, 0, 0.15))
  y <- c(rnorm(n - 3), 4, -5, 7) # outliers give large k
  ll <- sapply(y, function(v) dnorm(v, mu, sig, log = TRUE))
  r_eff <- runif(n, 0.3, 1)
  for (r in list(rep(1, n), r_eff)) {
    ours <- suppressWarnings(psis_loo(ll, r_eff = r), classes = "hbmmm_warning_pareto_k")
    ref <- suppressWarnings(loo::loo(ll, r_eff = r))
    rel <- function(a, b) max(abs(a - b) / pmax(abs(b), 1e-12))
    expect_lt(rel(ours$pointwise[, "pareto_k"], ref$diagnostics$pareto_k), 1e-6)
    expect_lt(rel(ours$pointwise[, "elpd_loo"], ref$pointwise[, "elpd_loo"]), 1e-6)
    expect_lt(rel(ours$pointwise[, "p_loo"], ref$pointwise[, "p_loo"]), 1e-6)
    expect_lt(rel(ours$estimates[, "Estimate"], ref$estimates[, "Estimate"]), 1e-6)
    expect_lt(rel(ours$estimates[, "SE"], ref$estimates[, "SE"]), 1e-6)
  }
  # the high-k observations are reported with a classed warning
  expect_warning(psis_loo(ll), class = "hbmmm_warning_pareto_k")
  # a fit's log-likelihood (autocorrelated draws), same r_eff on both sides
  fit <- quiet_sampling(hbmmm(sales ~ tv + price + (1 | market), data = small_panel(), media = "tv",
                              time = "week", chains = 2, iter = 300, seed = 3, refresh = 0))
  llf <- log_lik(fit)
  ours <- suppressWarnings(psis_loo(fit), classes = "hbmmm_warning_pareto_k")
  r_fit <- hbmmm:::relative_eff_fit(fit, llf)
  ref <- suppressWarnings(loo::loo(llf, r_eff = r_fit))
  expect_lt(max(abs(ours$pointwise[, "pareto_k"] - ref$diagnostics$pareto_k) /
                  abs(ref$diagnostics$pareto_k)), 1e-6)
  expect_lt(max(abs(ours$pointwise[, "elpd_loo"] - ref$pointwise[, "elpd_loo"]) /
                  abs(ref$pointwise[, "elpd_loo"])), 1e-6)
  # loo::loo() and loo::waic() work on fits directly
  # (loo warns on its own when some k is above 0.7, as ours does)
  expect_equal(suppressWarnings(loo::loo(fit))$estimates[, "Estimate"], ours$estimates[, "Estimate"], tolerance = 0.01)
  expect_equal(unname(suppressWarnings(loo::waic(fit))$estimates[, "Estimate"]),
               unname(waic(fit)$estimates[, "Estimate"]), tolerance = 1e-10)
  expect_output(print(ours), "Pareto k diagnostic values")
})

test_that("kfold refits on folds, grouped folds keep a group together", {
  fit <- quiet_sampling(hbmmm(sales ~ tv + price + (1 | market), data = small_panel(), media = "tv",
                              time = "week", chains = 1, iter = 80, seed = 3, refresh = 0))
  kf <- kfold(fit, K = 2, group = "market", seed = 1)
  expect_identical(rownames(kf$estimates), c("elpd_kfold", "p_kfold", "kfoldic"))
  d <- small_panel()
  expect_true(all(tapply(kf$folds, d$market, function(f) length(unique(f))) == 1))
  expect_length(kf$pointwise[, "elpd_kfold"], nrow(d))
  expect_true(all(is.finite(kf$pointwise)))
  # held-out markets are predicted without their market effects: worse than in-sample
  expect_lt(kf$estimates["elpd_kfold", "Estimate"], sum(log(colMeans(exp(log_lik(fit))))))
  expect_input_error(kfold(fit, K = 9, group = "market"), "K")
  expect_input_error(kfold(fit, folds = 1:3), "folds")
})

test_that("compare_models gives the published table, one column per model", {
  d <- small_panel()
  train <- d[d$week <= 30, ]
  test <- d[d$week > 30, ]
  f1 <- quiet_sampling(hbmmm(sales ~ tv + price, data = train, media = "tv", time = "week", panel = "market",
                             chains = 2, iter = 200, seed = 1, refresh = 0))
  f2 <- quiet_sampling(hbmmm(sales ~ tv + price + (1 | market), data = train, media = "tv", time = "week",
                             chains = 2, iter = 200, seed = 1, refresh = 0))
  tab <- suppressWarnings(compare_models(pooled = f1, f2, newdata = test), classes = "hbmmm_warning_pareto_k")
  expect_s3_class(tab, "hbmmm_comparison")
  expect_identical(names(tab), c("pooled", "f2"))
  expect_identical(rownames(tab), c("DIC", "WAIC", "LOOIC", "RMSE_in", "MAE_in", "R2_in", "coverage95_in",
                                    "RMSE_out", "MAE_out", "R2_out", "coverage95_out"))
  expect_equal(tab["DIC", "f2"], dic(f2)[["DIC"]])
  pred <- fitted(f2)$Estimate
  expect_equal(tab["RMSE_in", "f2"], sqrt(mean((train$sales - pred)^2)))
  expect_equal(tab["R2_in", "f2"], 1 - sum((train$sales - pred)^2) / sum((train$sales - mean(train$sales))^2))
  # market intercepts help
  expect_lt(tab["RMSE_in", "f2"], tab["RMSE_in", "pooled"])
  expect_output(print(tab), "LOOIC")
  expect_input_error(compare_models(f1, 3), "...")
})
