effect_fixture <- function(n = 800, seed = 16) {
  d <- causal_sim(n, seed = seed)$data
  propensity_score(treat ~ age + income + loyal, data = d)
}

# Sandwich covariance of a weighted least-squares fit, written out.
ref_sandwich <- function(Z, y, w, cluster) {
  fit <- stats::lm.wfit(Z, y, w)
  e <- fit$residuals
  B <- solve(crossprod(Z, Z * w))
  S <- rowsum(Z * (w * e), cluster)
  G <- nrow(S)
  n <- nrow(Z)
  p <- ncol(Z)
  adj <- if (G < n) G / (G - 1) * (n - 1) / (n - p) else n / (n - p)
  list(coef = fit$coefficients, V = adj * B %*% crossprod(S) %*% B)
}

test_that("estimate_effect() after weighting: weighted difference and regression with robust SEs", {
  ps <- effect_fixture()
  d <- ps$data
  w <- ps_weight(ps, estimand = "ATE")
  e <- estimate_effect(w, "sales")$estimate
  ww <- w$weights
  t <- d$treat
  expect_equal(e$estimate, stats::weighted.mean(d$sales[t == 1], ww[t == 1]) -
                 stats::weighted.mean(d$sales[t == 0], ww[t == 0]))
  r <- ref_sandwich(cbind(1, t), d$sales, ww, seq_len(nrow(d)))
  expect_equal(e$std_error, sqrt(r$V[2, 2]))
  expect_equal(e$lower, e$estimate - stats::qnorm(0.975) * e$std_error)
  Z <- cbind(1, t, ps$covariates)
  er <- estimate_effect(w, "sales", method = "regression")$estimate
  r <- ref_sandwich(Z, d$sales, ww, seq_len(nrow(d)))
  expect_equal(er$estimate, unname(r$coef[2]))
  expect_equal(er$std_error, sqrt(r$V[2, 2]))
  expect_output(print(estimate_effect(w, d$sales)), "ATE by weighted difference")
})

test_that("estimate_effect() after matching clusters on matched sets", {
  ps <- effect_fixture()
  d <- ps$data
  m <- ps_match(ps, caliper = 0.2)
  e <- estimate_effect(m, "sales", method = "regression")$estimate
  use <- m$weights > 0
  Z <- cbind(1, d$treat, ps$covariates)[use, ]
  r <- ref_sandwich(Z, d$sales[use], m$weights[use], as.integer(m$subclass)[use])
  expect_equal(e$estimate, unname(r$coef[2]))
  expect_equal(e$std_error, sqrt(r$V[2, 2]))
  expect_identical(e$n_treated, sum(use & d$treat == 1))
  # difference in matched means = mean of pair differences for 1:1 matching
  e1 <- estimate_effect(m, "sales")$estimate
  expect_equal(e1$estimate, mean(d$sales[m$pairs$focal] - d$sales[m$pairs$match]))
})

test_that("the Bayesian version agrees with the robust one", {
  ps <- effect_fixture()
  w <- ps_weight(ps, estimand = "ATT")
  r <- estimate_effect(w, "sales", method = "regression")$estimate
  b <- estimate_effect(w, "sales", method = "regression", inference = "bayes", draws = 2000, seed = 1)
  expect_length(b$draws, 2000)
  expect_lt(abs(b$estimate$estimate - r$estimate), 0.15 * r$std_error)
  expect_gt(b$estimate$std_error / r$std_error, 0.8)
  expect_lt(b$estimate$std_error / r$std_error, 1.25)
  b2 <- estimate_effect(w, "sales", method = "regression", inference = "bayes", draws = 2000, seed = 1)
  expect_identical(b$draws, b2$draws)
  expect_output(print(b), "credible interval")
})

test_that("intervals cover the true effect at about the nominal rate (short simulation)", {
  reps <- 40
  hit <- matrix(FALSE, reps, 3, dimnames = list(NULL, c("ipw", "match", "bayes")))
  for (r in seq_len(reps)) {
    sim <- causal_sim(600, seed = 100 + r)
    ps <- propensity_score(treat ~ age + income + loyal, data = sim$data)
    a <- estimate_effect(ps_weight(ps, estimand = "ATE"), "sales", method = "regression")$estimate
    m <- estimate_effect(ps_match(ps, replace = TRUE), "sales", method = "regression")$estimate
    b <- estimate_effect(ps_weight(ps, estimand = "ATT"), "sales", method = "regression", inference = "bayes",
                         draws = 400, seed = r)$estimate
    hit[r, ] <- c(a$lower <= sim$truth[["ATE"]] && sim$truth[["ATE"]] <= a$upper,
                  m$lower <= sim$truth[["ATT"]] && sim$truth[["ATT"]] <= m$upper,
                  b$lower <= sim$truth[["ATT"]] && sim$truth[["ATT"]] <= b$upper)
  }
  # nominal 95%; with 40 replicates, 85% is more than 3 binomial sds below
  expect_true(all(colMeans(hit) >= 0.85), label = paste(colMeans(hit), collapse = " "))
})

test_that("bad input to estimate_effect() is rejected", {
  ps <- effect_fixture(300)
  w <- ps_weight(ps)
  expect_input_error(estimate_effect(ps, "sales"), "x")
  expect_input_error(estimate_effect(w, "nope"), "outcome")
  expect_input_error(estimate_effect(w, 1:3), "outcome")
  y <- ps$data$sales
  y[4] <- NA
  expect_input_error(estimate_effect(w, y), "outcome")
  expect_input_error(estimate_effect(w, "sales", level = 2), "level")
  expect_input_error(estimate_effect(w, "sales", method = "ols"), "method")
  expect_input_error(estimate_effect(w, "sales", covariates = "nope", method = "regression"), "covariates")
})

test_that("treatment_effects() switches a channel on and off in every draw", {
  sim <- causal_sim(300, seed = 17)
  d <- sim$data
  fit <- quiet_sampling(hbmmm(sales ~ treat + treat:age_z + age_z + income_z + loyal + (1 | region), data = d,
                              media = "treat", adstock = "none", saturation = "none", chains = 2, iter = 200,
                              seed = 1, refresh = 0))
  te <- treatment_effects(fit, on = 1, by = "age_band", individual = "id")
  M <- as.matrix(fit)
  ite <- M[, "b_treat"] + outer(M[, "b_treat:age_z"], d$age_z)
  expect_equal(te$draws$treat[, "ATE"], rowMeans(ite))
  expect_equal(te$draws$treat[, "ATT"], rowMeans(ite[, d$treat == 1]))
  expect_equal(te$individual$mean, colMeans(ite))
  seg <- te$segments[te$segments$level == "55+", ]
  expect_equal(seg$mean, mean(rowMeans(ite[, d$age_band == "55+"])))
  expect_equal(seg$upper, unname(stats::quantile(rowMeans(ite[, d$age_band == "55+"]), 0.975)))
  # observed exposure: unexposed rows have no effect
  te0 <- treatment_effects(fit)
  expect_equal(te0$draws$treat[, "ATE"], rowMeans(ite * rep(d$treat, each = nrow(ite))))
  # the posterior covers the truth on this correctly specified model
  a <- te$ate[te$ate$estimand == "ATE", ]
  expect_true(a$lower < sim$truth[["SATE"]] && sim$truth[["SATE"]] < a$upper)
  expect_output(print(te), "Conditional effects")
  f <- tempfile(fileext = ".png")
  grDevices::png(f)
  out <- plot(te)
  grDevices::dev.off()
  expect_equal(out$treat, te$individual$mean)
  expect_input_error(treatment_effects(fit, channels = "tv"), "channels")
  expect_input_error(treatment_effects(fit, on = -1), "on")
  expect_input_error(treatment_effects(fit, by = "nope"), "by")
  expect_input_error(treatment_effects(1), "fit")
})

test_that("long validation: coverage and balance over repeated simulations", {
  skip_if(Sys.getenv("HBMMM_LONG_TESTS") != "true", "long validation (set HBMMM_LONG_TESTS=true)")
  path <- system.file("validation", "causal.R", package = "hbmmm")
  skip_if(path == "", "inst/validation/causal.R not installed")
  env <- new.env()
  sys.source(path, envir = env)
  v <- env$causal_validation(reps = 100, n = 1500, fit_reps = 20)
  tab <- v$table
  cov <- tab$coverage[!is.na(tab$coverage)]
  expect_true(all(cov >= 0.88), label = paste(format(tab$coverage), collapse = " "))
  naive <- tab[tab$method == "naive difference", ]
  expect_gt(naive$bias, 5)
  adj <- tab[tab$method != "naive difference", ]
  expect_true(all(abs(adj$bias) < 1))
  expect_gt(v$balance[["match"]], 0.9)
})
