test_that("ps_weight() computes each estimand's weights", {
  d <- causal_sim(800, seed = 8)$data
  ps <- propensity_score(treat ~ age + income + loyal, data = d)
  e <- ps$score
  t <- d$treat
  expect_equal(ps_weight(ps, estimand = "ATE")$weights, t / e + (1 - t) / (1 - e))
  expect_equal(ps_weight(ps, estimand = "ATT")$weights, t + (1 - t) * e / (1 - e))
  expect_equal(ps_weight(ps, estimand = "ATC")$weights, t * (1 - e) / e + (1 - t))
  expect_equal(ps_weight(ps, estimand = "ATO")$weights, t * (1 - e) + (1 - t) * e)
  s <- ps_weight(ps, estimand = "ATE", stabilize = TRUE)
  expect_equal(s$weights, t * mean(t) / e + (1 - t) * (1 - mean(t)) / (1 - e))
  expect_equal(mean(s$weights), 1, tolerance = 0.1)
  # effective sample sizes
  w <- s$weights
  expect_equal(unname(s$ess["after", "treated"]), sum(w[t == 1])^2 / sum(w[t == 1]^2))
  expect_output(print(s), "effective sample sizes")
})

test_that("overlap weights balance the propensity model's covariates exactly", {
  # a property of logistic propensity scores (Li, Morgan and Zaslavsky, 2018)
  d <- causal_sim(1000, seed = 9)$data
  ps <- propensity_score(treat ~ age + income + loyal + region, data = d)
  b <- balance(ps_weight(ps, estimand = "ATO"))
  expect_true(all(abs(b$table$smd_after) < 1e-8))
})

test_that("trimming by threshold and by quantile", {
  d <- causal_sim(800, seed = 10, confounding = c(-1, 1.5, 1, 1))$data
  ps <- propensity_score(treat ~ age + income + loyal, data = d)
  e <- ps$score
  w <- ps_weight(ps, estimand = "ATE", trim = 0.1)
  drop <- e < 0.1 | e > 0.9
  expect_true(any(drop))
  expect_true(all(w$weights[drop] == 0))
  expect_identical(w$trimmed, sum(drop))
  expect_equal(w$weights[!drop], ps_weight(ps)$weights[!drop])
  q <- ps_weight(ps, estimand = "ATE", trim = 0.95, trim_method = "quantile")
  raw <- ps_weight(ps)$weights
  for (g in 0:1) {
    cap <- stats::quantile(raw[d$treat == g], 0.95, names = FALSE)
    expect_equal(q$weights[d$treat == g], pmin(raw[d$treat == g], cap))
  }
  expect_input_error(ps_weight(ps, trim = 0.7), "trim")
  expect_input_error(ps_weight(ps, trim = 0.3, trim_method = "quantile"), "trim")
  expect_error(ps_weight(ps, trim = 0.4999), class = "hbmmm_empty_group_error")
  expect_input_error(ps_weight(ps, estimand = "ATX"), "estimand")
  expect_input_error(ps_weight(ps, stabilize = NA), "stabilize")
})

test_that("weighting removes confounding bias on simulated data", {
  sim <- causal_sim(4000, seed = 11)
  d <- sim$data
  ps <- propensity_score(treat ~ age + income + loyal, data = d)
  naive <- mean(d$sales[d$treat == 1]) - mean(d$sales[d$treat == 0])
  w <- ps_weight(ps, estimand = "ATE")
  est <- estimate_effect(w, "sales")$estimate
  expect_gt(naive - sim$truth[["ATE"]], 5)
  expect_lt(abs(est$estimate - sim$truth[["SATE"]]), 3 * est$std_error)
  b <- balance(w)
  expect_true(all(abs(b$table$smd_after) < 0.1))
})

test_that("hbmmm_spec() rescales observation weights to mean one", {
  d <- small_panel()
  w <- seq(0.5, 3, length.out = nrow(d))
  s1 <- small_spec(weights = w)
  s2 <- small_spec(weights = 7 * w)
  expect_equal(mean(s1$weights), 1)
  expect_equal(s1$weights, s2$weights)
  expect_equal(s1$weights, (w / mean(w))[s1$row_order])
  # a fit depends only on the relative weights
  f1 <- quiet_sampling(do.call(hbmmm, small_fit_args(weights = w)))
  f2 <- quiet_sampling(do.call(hbmmm, small_fit_args(weights = 7 * w)))
  expect_equal(f1$draws, f2$draws)
  expect_equal(mean(small_spec()$weights), 1)
})

test_that("the C weights entry point checks its arguments", {
  f <- function(...) .Call(hbmmm:::C_hb_ps_weights, ...)
  e <- c(0.2, 0.5, 0.9)
  t <- c(1L, 0L, 1L)
  expect_equal(f(e, t, 1L, FALSE, NA_real_), c(5, 2, 1 / 0.9))
  expect_equal(f(e, t, 1L, FALSE, 0.15), c(5, 2, 0))
  expect_input_error(f(1:3, t, 1L, FALSE, NA_real_), "score")
  expect_input_error(f(c(0, 0.5, 0.9), t, 1L, FALSE, NA_real_), "score")
  expect_input_error(f(e, c(1L, 2L, 0L), 1L, FALSE, NA_real_), "treat")
  expect_input_error(f(e, t[1:2], 1L, FALSE, NA_real_), "treat")
  expect_input_error(f(e, t, 5L, FALSE, NA_real_), "estimand")
  expect_input_error(f(e, t, 1L, NA, NA_real_), "stabilize")
  expect_input_error(f(e, t, 1L, FALSE, 0.7), "trim")
})

test_that("hbmmm_spec() takes ps_weight() results and explains zero weights", {
  d <- causal_sim(300, seed = 22)$data
  ps <- propensity_score(treat ~ age + income + loyal, data = d)
  w <- ps_weight(ps, estimand = "ATE")
  f <- sales ~ treat + age + income + loyal
  s <- hbmmm_spec(f, data = d, weights = w)
  expect_equal(s$weights, w$weights / mean(w$weights))
  wt <- ps_weight(ps, estimand = "ATE", trim = 0.2)
  e <- expect_input_error(hbmmm_spec(f, data = d, weights = wt), "weights")
  expect_match(conditionMessage(e), "must be dropped")
  keep <- wt$weights > 0
  s2 <- hbmmm_spec(f, data = d[keep, ], weights = wt$weights[keep])
  expect_equal(mean(s2$weights), 1)
  # a formula with `.` in propensity_score()
  p2 <- propensity_score(treat ~ ., data = d[c("treat", "age", "income", "loyal")])
  expect_equal(p2$coefficients, ps$coefficients)
})
