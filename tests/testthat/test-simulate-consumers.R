# simulate_consumer_panel() and the shipped `personalized` dataset: the data
# are what the documented model says, the stored truth is the one that
# generated them, and the shipped data are the documented call.

test_that("the shipped personalized equals simulate_consumer_panel(seed = 2021)", {
  sim <- simulate_consumer_panel(seed = 2021)
  shipped <- hbmmm::personalized
  expect_equal(dim(shipped), c(12000L, 19L))
  expect_equal(nlevels(shipped$market), 20L)
  expect_equal(nlevels(shipped$individual), 500L)
  expect_equal(sort(unique(shipped$month)), 1:24)
  expect_true(all(table(shipped$individual) == 24L))
  expect_equal(shipped, sim$data, ignore_attr = TRUE)
  expect_equal(attr(shipped, "truth"), sim$truth)
  expect_equal(attr(shipped, "ate"), sim$ate)
  expect_equal(attr(shipped, "consumers"), sim$consumers)
})

test_that("purchases are the documented sum of the stored truth", {
  # with (almost) no noise, every purchase is baseline + media + market terms
  sim <- simulate_consumer_panel(n_markets = 3, n_consumers = 4, n_months = 6, sigma = 1e-9, seed = 3)
  d <- sim$data
  cons <- sim$consumers
  k <- match(d$individual, cons$individual)
  ch <- c("tv", "digital", "email", "social")
  media <- rowSums(as.matrix(cons[k, ch]) * as.matrix(d[ch]))
  gm <- sim$ranef[as.character(d$market), , drop = FALSE]
  market <- (sim$truth[["b_econ"]] + gm[, "econ"]) * d$econ +
    (sim$truth[["b_competitor"]] + gm[, "competitor"]) * d$competitor
  # (purchases are rounded to cents)
  expect_lt(max(abs(d$purchase - (cons$alpha[k] + media + market))), 0.005 + 1e-8)
  expect_equal(unname(sim$media_effect), unname(as.matrix(cons[k, ch]) * as.matrix(d[ch])))
  expect_equal(sim$ate, colMeans(cons[ch]))
  # the characteristics are standardized in the sample
  expect_equal(unname(colMeans(cons[c("age_z", "income_z", "frequency_z")])), c(0, 0, 0), tolerance = 1e-12)
})

test_that("individual effects follow the personalization layer and the targeting its propensity model", {
  sim <- simulate_consumer_panel(n_markets = 10, n_consumers = 400, n_months = 2, seed = 4)
  cons <- sim$consumers
  W <- as.matrix(cons[c("age_z", "income_z", "frequency_z")])
  for (ch in c("tv", "email", "social")) {
    fit <- stats::lm(cons[[ch]] ~ W)
    # 4,000 consumers: coefficients within about 4 standard errors
    expect_lt(max(abs(coef(fit) - sim$Theta[ch, ])), 0.05, label = ch)
    expect_equal(summary(fit)$sigma, sim$truth[[paste0("sd_individual__", ch)]], tolerance = 0.05)
  }
  ps <- stats::glm(cons$targeted ~ W, family = stats::binomial())
  expect_lt(max(abs(coef(ps) - c(-0.4, 0.3, 0.6, 0.8))), 0.15)
  expect_equal(cons$propensity, stats::plogis(drop(cbind(1, W) %*% c(-0.4, 0.3, 0.6, 0.8))))
  # exposure means are the paper's Table 5 means
  expect_equal(unname(colMeans(sim$data[c("tv", "digital", "email", "social")])),
               c(12.37, 45.63, 3.82, 6.41), tolerance = 0.08)
  # targeted consumers are older, richer and buy more often: confounding
  expect_true(all(colMeans(W[cons$targeted == 1, ]) > colMeans(W[cons$targeted == 0, ])))
})

test_that("the returned formula fits the generating model and truth carries hbmmm's draw names", {
  sim <- simulate_consumer_panel(n_markets = 4, n_consumers = 10, n_months = 8, seed = 5)
  fit <- suppressWarnings(do.call(hbmmm, c(list(sim$formula, data = sim$data), sim$hbmmm_args,
                                           list(chains = 1, iter = 60, seed = 1, refresh = 0))))
  vars <- summary(fit)$table$variable
  expect_setequal(names(sim$truth), vars)
})

test_that("simulate_consumer_panel() refuses bad input with classed errors", {
  expect_error(simulate_consumer_panel(channels = "radio"), class = "hbmmm_input_error")
  expect_error(simulate_consumer_panel(channels = c("tv", "tv")), class = "hbmmm_input_error")
  expect_error(simulate_consumer_panel(n_markets = 1), class = "hbmmm_input_error")
  expect_error(simulate_consumer_panel(n_consumers = 10001), class = "hbmmm_input_error")
  expect_error(simulate_consumer_panel(targeting = c(1, 2)), class = "hbmmm_input_error")
  expect_error(simulate_consumer_panel(sd_beta = c(tv = -1, digital = 1, email = 1, social = 1)),
               class = "hbmmm_input_error")
  expect_error(simulate_consumer_panel(delta = c(age = 1)), class = "hbmmm_input_error")
  expect_error(simulate_consumer_panel(theta = matrix(0, 2, 2)), class = "hbmmm_input_error")
})

test_that("a subset of channels keeps the others out of data, formula and truth", {
  sim <- simulate_consumer_panel(n_markets = 2, n_consumers = 3, n_months = 4, channels = c("email", "tv"),
                                 seed = 6)
  expect_false(any(c("digital", "social") %in% names(sim$data)))
  expect_equal(sim$hbmmm_args$media, c("email", "tv"))
  expect_equal(unname(sim$truth[c("b_email", "b_tv")]), c(1.45, 1.05))
  expect_false(any(grepl("digital|social", names(sim$truth))))
  expect_output(print(sim), "2 markets, 6 consumers, 4 months")
})

test_that("plot() draws market purchases and channel exposures as monthly means", {
  sim <- simulate_consumer_panel(n_markets = 2, n_consumers = 3, n_months = 5, seed = 7)
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  y <- plot(sim)
  expect_equal(dim(y), c(5L, 2L))
  d <- sim$data
  expect_equal(unname(y[3, "M02"]), mean(d$purchase[d$market == "M02" & d$month == 3]))
  e <- plot(sim, type = "exposure")
  expect_equal(unname(e[, "email"]), as.vector(tapply(d$email, d$month, mean)))
  expect_error(plot(sim, type = "roi"), class = "hbmmm_input_error")
})

test_that("the precomputed results of vignette('personalization') hold Table 7 and Figure 6", {
  path <- system.file("extdata", "personalization_results.rds", package = "hbmmm")
  expect_true(nzchar(path))
  res <- readRDS(path)
  expect_s3_class(res$table7, "hbmmm_comparison")
  expect_equal(names(res$table7), c("HBMMM", "OLS", "Ridge", "Non-hierarchical Bayesian"))
  expect_true(all(c("RMSE_out", "MAE_out", "R2_out", "DIC") %in% rownames(res$table7)))
  # the hierarchical model predicts the held-out months best, as in the paper
  expect_equal(which.min(unlist(res$table7["RMSE_out", ])), c(HBMMM = 1L))
  expect_s3_class(res$sensitivity, "hbmmm_sensitivity")
  tab <- res$sensitivity$table
  expect_setequal(unique(tab$scenario), c("original", "prior_sd_x0.5", "prior_sd_x2", "train_split",
                                          "group_subsample", "covariates"))
  expect_setequal(unique(tab$channel), c("tv", "digital", "email", "social"))
  # the original fit's intervals cover the true effect per exposure received
  d <- hbmmm::personalized
  cons <- attr(d, "consumers")
  k <- match(d$individual, cons$individual)
  orig <- tab[tab$scenario == "original", ]
  truth <- vapply(orig$channel, function(ch) sum(cons[[ch]][k] * d[[ch]]) / sum(d[[ch]]), 1)
  expect_true(all(orig$lower <= truth & truth <= orig$upper))
})
