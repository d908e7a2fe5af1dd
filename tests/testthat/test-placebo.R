test_that("the closed-form estimator is the regression coefficient", {
  d <- causal_sim(500, seed = 18)$data
  pt <- placebo_test(d, "sales", "treat", covariates = c("age", "income", "region"), n_placebo = 50, seed = 1)
  fit <- stats::lm(sales ~ treat + age + income + region, data = d)
  expect_equal(pt$table$estimate, unname(stats::coef(fit)["treat"]))
  # each placebo draw is the same regression on a permuted treatment
  restore <- hbmmm:::sim_seed(1)
  perm <- d$treat[sample.int(nrow(d))]
  restore()
  d2 <- d
  d2$treat <- perm
  expect_equal(pt$draws$treat[1], unname(stats::coef(stats::lm(sales ~ treat + age + income + region, data = d2))["treat"]))
  expect_equal(pt$table$p_value, (1 + sum(abs(pt$draws$treat) >= abs(pt$table$estimate))) / 51)
})

test_that("placebo estimates centre on zero and the real effect stands out", {
  sim <- causal_sim(1500, seed = 19)
  d <- sim$data
  d$noise <- stats::rbinom(nrow(d), 1, 0.3)  # a channel with no effect
  pt <- placebo_test(d, "sales", c("treat", "noise"), covariates = c("age", "income", "loyal"), n_placebo = 300,
                     seed = 2)
  tab <- pt$table
  expect_identical(tab$channel, c("treat", "noise"))
  expect_lt(abs(tab$placebo_mean[1]), 3 * tab$placebo_sd[1] / sqrt(300) + 0.05)
  expect_lt(tab$p_value[1], 0.01)
  expect_gt(tab$p_value[2], 0.01)
  expect_output(print(pt), "random reassignments")
  f <- tempfile(fileext = ".png")
  grDevices::png(f, width = 900)
  out <- plot(pt)
  grDevices::dev.off()
  expect_identical(names(out), c("treat", "noise"))
})

test_that("p-values are roughly uniform when there is no effect", {
  p <- vapply(1:40, function(r) {
    set.seed(r)
    d <- data.frame(y = stats::rnorm(200), t = stats::rbinom(200, 1, 0.4), x = stats::rnorm(200))
    placebo_test(d, "y", "t", covariates = "x", n_placebo = 99, seed = r)$table$p_value
  }, numeric(1))
  expect_gt(mean(p <= 0.1), 0)   # not degenerate
  expect_lt(mean(p <= 0.1), 0.3)
  expect_gt(mean(p), 0.35)
  expect_lt(mean(p), 0.65)
})

test_that("a user-supplied estimator is used, e.g. inverse probability weighting", {
  d <- causal_sim(400, seed = 20)$data
  ipw <- function(data, channel) {
    f <- stats::reformulate(c("age", "income", "loyal"), response = channel)
    w <- ps_weight(propensity_score(f, data = data), estimand = "ATE")
    estimate_effect(w, "sales")$estimate$estimate
  }
  pt <- placebo_test(d, "sales", "treat", n_placebo = 30, estimator = ipw, seed = 3)
  expect_equal(pt$table$estimate, ipw(d, "treat"))
  expect_length(pt$draws$treat, 30)
  expect_lt(pt$table$p_value, 0.05)
  expect_error(placebo_test(d, "sales", "treat", n_placebo = 10, estimator = function(data, ch) c(1, 2)),
               class = "hbmmm_estimator_error")
})

test_that("bad input to placebo_test() is rejected", {
  d <- causal_sim(100, seed = 21)$data
  expect_input_error(placebo_test(1, "sales", "treat"), "data")
  expect_input_error(placebo_test(d, "nope", "treat"), "outcome")
  expect_input_error(placebo_test(d, "sales", "nope"), "treatment")
  expect_input_error(placebo_test(d, "sales", "treat", covariates = "nope"), "covariates")
  expect_input_error(placebo_test(d, "sales", "treat", n_placebo = 2), "n_placebo")
  expect_input_error(placebo_test(d, "sales", "treat", estimator = "mean"), "estimator")
  d$const <- 1
  expect_input_error(placebo_test(d, "sales", "const"), "treatment")
  d$age[2] <- NA
  expect_input_error(placebo_test(d, "sales", "treat", covariates = "age"), "data")
})
