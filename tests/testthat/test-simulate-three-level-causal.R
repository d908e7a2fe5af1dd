test_that("three_level is simulate_three_level_causal(seed = 2024) with its truth", {
  sim <- simulate_three_level_causal(seed = 2024)
  d <- three_level
  attributes(d)[c("truth", "effects", "cost", "campaign_start")] <- NULL
  expect_identical(d, sim$data)
  expect_equal(attr(three_level, "truth"), sim$truth)
  expect_equal(attr(three_level, "effects"), sim$effects)
  expect_equal(attr(three_level, "cost"), sim$cost)
  expect_identical(attr(three_level, "campaign_start"), sim$params$campaign_start)
})

test_that("the data have the documented three-level structure", {
  sim <- simulate_three_level_causal(n_markets = 3, n_products = 2, n_individuals = 5,
                                     n_weeks = 6, seed = 3)
  d <- sim$data
  expect_equal(nrow(d), 3 * 2 * 5 * 6)
  # each consumer buys one product in one market and keeps their characteristics
  per_ind <- function(v) tapply(as.character(d[[v]]), d$individual, function(x) length(unique(x)))
  for (v in c("market", "product", "loyalty", "income", "age", "past_value", "tenure",
              "segment", "targeted")) {
    expect_true(all(per_ind(v) == 1), info = v)
  }
  expect_equal(as.vector(table(d$market, d$product)), rep(5 * 6, 6))
  # product price is a product characteristic, purchasing power a market one
  expect_true(all(tapply(d$price, d$product, function(x) length(unique(x))) == 1))
  expect_true(all(tapply(d$purchasing_power, d$market, function(x) length(unique(x))) == 1))
  # spend is exposure times the channel's cost
  for (ch in names(sim$cost)) {
    expect_equal(d[[paste0(ch, "_spend")]], d[[ch]] * sim$cost[[ch]], tolerance = 1e-3, info = ch)
  }
  # the campaign runs from campaign_start for targeted consumers only
  expect_identical(d$campaign, as.integer(d$targeted == 1 & d$week >= sim$params$campaign_start))
  # segments: new below 6 months of tenure, otherwise thirds of past value
  ind <- sim$individuals
  expect_identical(ind$segment == "new", ind$tenure < 6)
  old <- ind[ind$segment != "new", ]
  expect_true(max(old$past_value[old$segment == "low"]) < min(old$past_value[old$segment == "medium"]))
  expect_true(max(old$past_value[old$segment == "medium"]) < min(old$past_value[old$segment == "high"]))
  # outcome: mean weekly sales while the campaign runs
  on <- d$week >= sim$params$campaign_start
  expect_equal(ind$outcome, as.vector(tapply(d$sales[on], d$individual[on], mean)))
})

test_that("the stored truth is the generating model's (least squares without noise)", {
  # no group-level errors and almost no noise: the formula is fixed-only and
  # lm() recovers every coefficient up to the rounding of sales to cents
  sim <- simulate_three_level_causal(n_individuals = 20, sd_product = 0, sd_intercept = c(0, 0),
                                     sigma = 1e-4, seed = 5)
  expect_false(any(grepl("|", deparse(sim$formula), fixed = TRUE)))
  fit <- stats::lm(sim$formula, data = sim$data)
  est <- stats::coef(fit)
  names(est) <- paste0("b_", sub("(Intercept)", "Intercept", names(est), fixed = TRUE))
  b <- sim$truth[grepl("^b_", names(sim$truth))]
  expect_setequal(names(est), names(b))
  expect_equal(est[names(b)], b, tolerance = 1e-3)
  # channel effects by segment are beta times the multiplier
  expect_equal(sim$effects$channel_segment, t(sim$params$multiplier * sim$params$beta))
  expect_equal(sim$effects$roi_segment, sweep(sim$effects$channel_segment, 2, sim$cost, "/"))
})

test_that("targeting is confounded and the stored campaign effects match the consumers", {
  sim <- simulate_three_level_causal(seed = 11)
  ind <- sim$individuals
  tr <- ind$targeted == 1
  expect_equal(ind$tau, unname(sim$params$campaign_effect[as.character(ind$segment)]))
  expect_equal(sim$effects$campaign[["ATT"]], mean(ind$tau[tr]))
  expect_equal(sim$effects$campaign[["ATE"]], mean(ind$tau))
  naive <- mean(ind$outcome[tr]) - mean(ind$outcome[!tr])
  expect_equal(sim$effects$campaign[["naive_bias"]], naive - mean(ind$tau[tr]))
  # targeted consumers are more loyal and more valuable: the naive bias is large
  expect_gt(sim$effects$campaign[["naive_bias"]], 5)
  expect_gt(mean(ind$loyalty[tr]), mean(ind$loyalty[!tr]))
  # the true propensity is the documented logistic model
  a <- sim$params$confounding
  z <- cbind((ind$loyalty - 6.9) / 2.1, log(ind$income / 55) / 0.35, (ind$age - 45) / 13,
             (log(ind$past_value) - log(40)) / 0.45, (pmin(ind$tenure, 60) - 30) / 20)
  expect_equal(ind$propensity, stats::plogis(a[1] + drop(z %*% a[-1])))
  # without confounding every consumer has the same chance
  flat <- simulate_three_level_causal(confounding = c(0, 0, 0, 0, 0, 0), seed = 11)
  expect_equal(flat$individuals$propensity, rep(0.5, nrow(flat$individuals)))
})

test_that("truth names are hbmmm's draw names of the formula", {
  sim <- simulate_three_level_causal(n_markets = 2, n_products = 2, n_individuals = 6,
                                     n_weeks = 6, seed = 2)
  fit <- suppressWarnings(do.call(hbmmm, c(list(sim$formula, data = sim$data), sim$hbmmm_args,
                                           list(chains = 1, iter = 20, seed = 1, refresh = 0))),
                          classes = "hbmmm_warning")
  expect_identical(summary(fit)$table$variable, names(sim$truth))
})

test_that("size = 'paper' gives the paper's dimensions and refuses explicit sizes", {
  expect_equal(prod(hbmmm:::TLC_PAPER_SIZE), 1240200)
  expect_error(simulate_three_level_causal(size = "paper", n_weeks = 10), class = "hbmmm_input_error")
  expect_error(simulate_three_level_causal(size = "big"), class = "hbmmm_input_error")
})

test_that("bad arguments get classed errors naming them", {
  expect_error(simulate_three_level_causal(cost = c(tv = -1)), "cost", class = "hbmmm_input_error")
  expect_error(simulate_three_level_causal(confounding = 1:3), "confounding", class = "hbmmm_input_error")
  expect_error(simulate_three_level_causal(campaign_start = 1), "campaign_start", class = "hbmmm_input_error")
  expect_error(simulate_three_level_causal(n_markets = 1, n_products = 1), "n_individuals",
               class = "hbmmm_input_error")
  expect_error(simulate_three_level_causal(multiplier = matrix(1, 2, 2)), "multiplier",
               class = "hbmmm_input_error")
})

test_that("print() shows the design and returns the object", {
  sim <- simulate_three_level_causal(n_individuals = 4, seed = 1)
  out <- capture.output(res <- print(sim))
  expect_identical(res, sim)
  expect_match(out[1], "4 markets x 3 products, 48 individuals, 20 weeks = 960 rows", fixed = TRUE)
})

test_that("the shipped model comparison of the vignette was run on three_level", {
  pre <- readRDS(system.file("extdata", "three_level_comparison.rds", package = "hbmmm"))
  expect_equal(pre$data_check, sum(three_level$sales))
  expect_setequal(names(pre$comparison),
                  c("base", "hierarchical", "causal", "full", "traditional", "pooled", "multilevel"))
  cmp <- pre$comparison
  # criteria exist for the Bayesian fits only, and the benchmarks without
  # draws have none
  expect_true(all(is.finite(unlist(cmp[c("DIC", "WAIC", "LOOIC"), c("base", "hierarchical", "causal", "full")]))))
  expect_true(all(is.na(unlist(cmp[c("DIC", "WAIC"), c("traditional", "multilevel")]))))
  # the full model is the generating one: its RMSE is near the noise sd
  expect_equal(cmp["RMSE_in", "full"], attr(three_level, "truth")[["sigma"]], tolerance = 0.1)
})
