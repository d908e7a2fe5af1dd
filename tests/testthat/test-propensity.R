test_that("propensity_score() reproduces glm(family = binomial)", {
  d <- causal_sim(1500, seed = 2)$data
  f <- treat ~ age + income + loyal + region
  ps <- propensity_score(f, data = d)
  g <- stats::glm(f, data = d, family = stats::binomial(), control = stats::glm.control(epsilon = 1e-14, maxit = 100))
  expect_equal(unname(ps$coefficients), unname(stats::coef(g)), tolerance = 1e-8)
  expect_equal(names(ps$coefficients), names(stats::coef(g)))
  expect_equal(unname(ps$se), unname(sqrt(diag(stats::vcov(g)))), tolerance = 1e-6)
  expect_equal(ps$score, unname(stats::fitted(g)), tolerance = 1e-8)
  expect_equal(ps$linear_predictor, unname(stats::predict(g)), tolerance = 1e-8)
  expect_equal(ps$deviance, stats::deviance(g), tolerance = 1e-10)
  # default glm() tolerance as well
  g2 <- stats::glm(f, data = d, family = stats::binomial())
  expect_equal(unname(ps$coefficients), unname(stats::coef(g2)), tolerance = 1e-8)
  s <- summary(ps)
  expect_equal(s$coefficients$z, unname(summary(g)$coefficients[, 3]), tolerance = 1e-5)
  expect_output(print(ps), "logistic propensity model")
  expect_output(print(s), "deviance")
})

test_that("propensity_score() handles weights, factors and badly scaled covariates", {
  d <- causal_sim(800, seed = 3)$data
  d$big <- d$income * 1e6
  d$grp <- factor(ifelse(d$treat == 1, "yes", "no"), levels = c("no", "yes"))
  w <- rep(c(0.5, 2), length.out = nrow(d))
  ps <- propensity_score(grp ~ big + age_band + loyal, data = d, weights = w)
  g <- suppressWarnings(stats::glm(grp ~ big + age_band + loyal, data = d, family = stats::binomial(), weights = w,
                                   control = stats::glm.control(epsilon = 1e-14, maxit = 100)))
  expect_equal(unname(ps$coefficients), unname(stats::coef(g)), tolerance = 1e-8)
  expect_identical(ps$treat, as.integer(d$grp == "yes"))
  ps2 <- propensity_score(as.logical(treat) ~ age, data = d)
  expect_identical(ps2$treat, d$treat)
  expect_true(all(c("age_band_18-34", "age_band_35-54", "age_band_55+") %in% colnames(ps$covariates)))
})

test_that("separation is reported with a classed warning", {
  set.seed(1)
  d <- data.frame(x = c(rnorm(50, -3), rnorm(50, 3)), z = rnorm(100))
  d$t <- as.integer(d$x > 0)
  expect_warning(ps <- propensity_score(t ~ x + z, data = d), class = "hbmmm_warning_separation")
  expect_true(any(ps$score < 1e-8 | ps$score > 1 - 1e-8))
  # quasi-separation: one level of a factor only in the treated group
  d2 <- causal_sim(300, seed = 1)$data
  d2$flag <- factor(ifelse(d2$treat == 1 & seq_len(nrow(d2)) %% 5 == 0, "a", "b"))
  expect_warning(propensity_score(treat ~ age + flag, data = d2), class = "hbmmm_warning_separation")
})

test_that("bad input gives classed errors", {
  d <- causal_sim(200, seed = 4)$data
  d$three <- rep(0:2, length.out = nrow(d))
  e <- expect_input_error(propensity_score(three ~ age, data = d), "formula")
  expect_match(conditionMessage(e), "binary")
  d$all1 <- 1
  expect_error(propensity_score(all1 ~ age, data = d), class = "hbmmm_empty_group_error")
  d$na_age <- d$age
  d$na_age[5] <- NA
  e <- expect_input_error(propensity_score(treat ~ na_age, data = d), "data")
  expect_match(conditionMessage(e), "na_age")
  d$tna <- d$treat
  d$tna[3] <- NA
  expect_input_error(propensity_score(tna ~ age, data = d), "formula")
  d$age2 <- 2 * d$age
  expect_input_error(propensity_score(treat ~ age + age2, data = d), "formula")
  expect_input_error(propensity_score(treat ~ nope, data = d), "formula")
  expect_input_error(propensity_score(~ age, data = d), "formula")
  expect_input_error(propensity_score(treat ~ age, data = as.list(d)), "data")
  expect_input_error(propensity_score(treat ~ age, data = d, weights = -1), "weights")
  expect_input_error(propensity_score(treat ~ age, data = d, weights = rep(0, nrow(d))), "weights")
  expect_error(propensity_score(treat ~ age, data = d, weights = rep(0, nrow(d))), "all zero")
  expect_input_error(propensity_score(treat ~ age, data = d, tol = 0), "tol")
})

test_that("the C entry point checks its arguments", {
  X <- cbind(1, c(0.1, 0.4, 0.2, 0.9))
  y <- c(0, 1, 0, 1)
  w <- rep(1, 4)
  f <- function(...) .Call(hbmmm:::C_hb_logit_irls, ...)
  expect_input_error(f(1:4, y, w, 10L, 1e-8), "X")
  expect_input_error(f(X, c(0, 1, 2, 1), w, 10L, 1e-8), "y")
  expect_input_error(f(X, y[1:3], w, 10L, 1e-8), "y")
  expect_input_error(f(X, y, -w, 10L, 1e-8), "w")
  expect_input_error(f(X, y, w, 0L, 1e-8), "maxit")
  expect_input_error(f(X, y, w, 10L, "a"), "tol")
  X[2, 2] <- NA
  expect_input_error(f(X, y, w, 10L, 1e-8), "X")
})
