# Predictions, coefficients and the save/load round trip.

pred_fit <- function() {
  if (is.null(.fit_fixture_cache$pred_fit)) {
    .fit_fixture_cache$pred_fit <- quiet_sampling(
      hbmmm(sales ~ tv + search + price + (1 + tv | market), data = small_panel(), media = c("tv", "search"),
            time = "week", chains = 2, iter = 200, seed = 2, refresh = 0))
  }
  .fit_fixture_cache$pred_fit
}

test_that("fitted, residuals, posterior_epred and log_lik agree with the components", {
  fit <- pred_fit()
  d <- small_panel()
  cm <- hbmmm:::mmm_components(fit)
  mu <- posterior_epred(fit)
  expect_identical(mu, cm$mu)
  f <- fitted(fit)
  expect_identical(names(f), c("Estimate", "Est.Error", "Q2.5", "Q97.5"))
  expect_equal(f$Estimate, colMeans(mu))
  expect_equal(f$Q97.5, unname(apply(mu, 2, quantile, 0.975)))
  r <- residuals(fit, summary = FALSE)
  expect_equal(r, -sweep(mu, 2, d$sales))
  ll <- log_lik(fit)
  expect_equal(ll, dnorm(matrix(d$sales, nrow(mu), ncol(mu), byrow = TRUE), mu, cm$sigma, log = TRUE))
  expect_identical(dim(log_lik(fit, draws = 1:5)), c(5L, nrow(d)))
  # log_lik on new rows needs the response
  expect_input_error(log_lik(fit, newdata = d[, names(d) != "sales"]), "newdata")
  expect_equal(log_lik(fit, newdata = d, history = FALSE), ll)
})

test_that("posterior_predict draws y ~ Normal(mu, sigma), reproducibly with a seed", {
  fit <- pred_fit()
  cm <- hbmmm:::mmm_components(fit)
  y1 <- posterior_predict(fit, seed = 3)
  expect_identical(y1, posterior_predict(fit, seed = 3))
  z <- (y1 - cm$mu) / cm$sigma
  expect_lt(abs(mean(z)), 0.05)
  expect_lt(abs(sd(z) - 1), 0.05)
  p <- predict(fit, seed = 3)
  expect_equal(p$Estimate, colMeans(y1))
  expect_identical(predict(fit, summary = FALSE, seed = 3), y1)
  expect_input_error(predict(fit, probs = 2), "probs")
})

test_that("fixef, ranef and coef are the draws' summaries", {
  fit <- pred_fit()
  m <- as.matrix(fit)
  fx <- fixef(fit)
  expect_identical(rownames(fx), c("Intercept", "tv", "search", "price"))
  expect_equal(fx["tv", "Estimate"], mean(m[, "b_tv"]))
  expect_equal(fx["tv", "Q2.5"], unname(quantile(m[, "b_tv"], 0.025)))
  re <- ranef(fit)$market
  row <- re$level == "M03" & re$term == "tv"
  expect_equal(re$Estimate[row], mean(m[, "r_market[M03,tv]"]))
  co <- coef(fit)$market
  row <- co$level == "M03" & co$term == "tv"
  expect_equal(co$Estimate[row], mean(m[, "b_tv"] + m[, "r_market[M03,tv]"]))
  row <- co$level == "M03" & co$term == "price"
  expect_equal(co$Estimate[row], mean(m[, "b_price"]))
  expect_equal(coef(fit, summary = FALSE)$market[, "M02,Intercept"], m[, "b_Intercept"] + m[, "r_market[M02,Intercept]"])
  # terms summarized online come from the online summaries
  fo <- quiet_sampling(hbmmm(sales ~ tv + price + (1 + tv | market), data = small_panel(), media = "tv",
                             time = "week", chains = 1, iter = 60, seed = 2, refresh = 0, keep_ranef = 2))
  expect_equal(ranef(fo)$market$Estimate, fo$ranef_summary$market$mean)
  expect_true(all(is.na(coef(fo)$market$Est.Error)))
})

test_that("saveRDS/readRDS round-trips a fit and every method gives identical results", {
  fit <- pred_fit()
  path <- tempfile(fileext = ".rds")
  saveRDS(fit, path)
  copy <- readRDS(path)
  nd <- small_panel()[small_panel()$week > 35, ]
  same <- function(f) expect_identical(f(copy), f(fit))
  same(function(x) fitted(x))
  same(function(x) residuals(x))
  same(function(x) predict(x, newdata = nd, seed = 1))
  same(function(x) log_lik(x))
  same(function(x) waic(x))
  same(function(x) suppressWarnings(psis_loo(x), classes = "hbmmm_warning_pareto_k"))
  same(function(x) dic(x))
  same(function(x) fixef(x))
  same(function(x) ranef(x))
  same(function(x) coef(x))
  same(function(x) summary(x)$table)
  same(function(x) capture.output(print(x)))
  same(function(x) as.data.frame(x))
  same(function(x) quiet_sampling(update(x, continue = TRUE, iter = 10))$draws)
  same(function(x) quiet_sampling(check_sampling(x)))
})

test_that("forecasts carry adstock memory: better than without history, with calibrated intervals", {
  sim <- simulate_mmm(n_markets = 4, n_weeks = 70, channels = "tv", decay = c(tv = 0.85),
                      beta = c(tv = 400), sigma = 25, seed = 21)
  d <- sim$data
  train <- d[d$week <= 50, ]
  test <- d[d$week > 50, ]
  fit <- quiet_sampling(hbmmm(sales ~ tv + price + promo + season_sin + season_cos + (1 | market), data = train, media = "tv", time = "week",
                              chains = 2, iter = 600, seed = 4, refresh = 0))
  rmse <- function(h) sqrt(mean((test$sales - fitted(fit, newdata = test, history = h)$Estimate)^2))
  with_h <- rmse(TRUE)
  without <- rmse(FALSE)
  expect_lt(with_h, 0.8 * without)
  # out-of-sample 95% predictive intervals cover about 95% of held-out weeks
  p <- predict(fit, newdata = test, seed = 1)
  cover <- mean(test$sales >= p$Q2.5 & test$sales <= p$Q97.5)
  expect_gt(cover, 0.88)
  expect_lte(cover, 1)
})

test_that("newdata: duplicated series-time rows and missing values are errors about `newdata`", {
  fit <- pred_fit()
  d <- small_panel()
  last <- d[d$week == max(d$week), ]
  nxt <- transform(last, week = week + 1)
  dup <- rbind(nxt, nxt[1, ])
  expect_input_error(predict(fit, newdata = dup, seed = 1), "newdata")
  expect_error(predict(fit, newdata = dup, seed = 1), "more than one row")
  bad <- nxt
  bad$price[2] <- NA
  expect_input_error(fitted(fit, newdata = bad), "newdata")
})

test_that("a misspelled argument of a prediction method is an error, not ignored", {
  fit <- quick_fit()
  nd <- fit$spec$data[fit$spec$data$week == 40, ]
  # `new_data` (tidymodels' spelling) would silently give the in-sample predictions
  for (f in list(predict, fitted, posterior_epred, posterior_predict, log_lik)) {
    cnd <- expect_input_error(f(fit, new_data = nd), "...")
    expect_match(conditionMessage(cnd), "`new_data`", fixed = TRUE)
  }
  expect_input_error(residuals(fit, summry = FALSE), "...")
  expect_input_error(fixef(fit, level = 0.9), "...")
  expect_input_error(ranef(fit, sumary = FALSE), "...")
  expect_input_error(coef(fit, level = 0.9), "...")
  expect_input_error(response_curves(fit, group_by = "market"), "...")
  expect_input_error(pp_check(fit, nsamples = 10), "...")
})
