# Running chains: reproducibility, parallel = serial, progress, interrupts,
# online summaries and observation weights.

small_fit <- function(..., refresh = 0) {
  d <- simulate_mmm(n_markets = 4, n_weeks = 30, channels = c("tv", "search"), seed = 3)$data
  quiet_sampling(hbmmm(sales ~ tv + search + price + (1 + tv | market), data = d, media = c("tv", "search"),
                       time = "week", iter = 200, warmup = 100, refresh = refresh, ...))
}

test_that("a seed reproduces draws exactly, serial or parallel, and leaves the caller's RNG alone", {
  set.seed(99)
  before <- .Random.seed
  a <- small_fit(chains = 2, seed = 11, cores = 1)
  expect_identical(.Random.seed, before)
  b <- small_fit(chains = 2, seed = 11, cores = 1)
  expect_identical(a$draws, b$draws)
  skip_on_os("windows")
  p <- small_fit(chains = 2, seed = 11, cores = 2)
  expect_identical(a$draws, p$draws)
  d <- small_fit(chains = 2, seed = 12, cores = 1)
  expect_false(identical(a$draws, d$draws))
  # without a seed, set.seed() reproduces the fit
  set.seed(5); e1 <- small_fit(chains = 1)
  set.seed(5); e2 <- small_fit(chains = 1)
  expect_identical(e1$draws, e2$draws)
})

test_that("draws are named as in brms and shaped [iteration, chain, variable]", {
  fit <- small_fit(chains = 2, seed = 1)
  expect_identical(dim(fit$draws)[1:2], c(100L, 2L))
  nm <- dimnames(fit$draws)[[3]]
  expect_true(all(c("b_Intercept", "b_tv", "b_search", "b_price", "sd_market__Intercept", "sd_market__tv",
                    "cor_market__Intercept__tv", "sigma", "decay_tv", "halfsat_tv", "slope_tv",
                    "r_market[M01,Intercept]", "r_market[M04,tv]") %in% nm))
  expect_s3_class(fit, "hbmmm_fit")
  s <- summary(fit)
  expect_s3_class(s, "summary.hbmmm_fit")
  expect_true(all(c("mean", "sd", "q2.5", "q97.5", "rhat", "ess_bulk", "ess_tail") %in% names(s$table)))
  out <- capture.output(print(fit))
  expect_true(any(grepl("Population-level effects", out)))
  expect_true(any(grepl("Media transforms", out)))
  expect_true(any(grepl("Metropolis acceptance", out)))
  expect_true(any(grepl("^Priors:", out)))
  expect_true(any(grepl("decay_tv +beta_dist\\(2, 2\\)", out)))
})

test_that("progress goes through message() with the time left, and refresh = 0 is silent", {
  msgs <- character(0)
  withCallingHandlers(small_fit(chains = 1, seed = 1, refresh = 50),
                      message = function(m) { msgs <<- c(msgs, conditionMessage(m)); invokeRestart("muffleMessage") })
  expect_length(msgs, 4)
  expect_match(msgs[1], "Chain 1:  50 / 200 \\[ 25%\\] \\(warmup\\).*elapsed, about .* left")
  expect_match(msgs[4], "sampling")
  expect_silent(small_fit(chains = 1, seed = 1, refresh = 0))
})

test_that("a long run can be interrupted: the sampler checks for interrupts", {
  d <- simulate_mmm(n_markets = 4, n_weeks = 30, channels = "tv", seed = 3)$data
  setTimeLimit(elapsed = 1, transient = TRUE)
  on.exit(setTimeLimit(elapsed = Inf))
  t0 <- proc.time()[["elapsed"]]
  expect_error(hbmmm(sales ~ tv + (1 + tv | market), data = d, media = "tv", time = "week",
                     chains = 1, iter = 1e6, seed = 1, refresh = 0), "time limit")
  setTimeLimit(elapsed = Inf)
  expect_lt(proc.time()[["elapsed"]] - t0, 5)
})

test_that("online summaries of group-level effects match the full draws", {
  d <- simulate_mmm(n_markets = 6, n_weeks = 30, channels = "tv", seed = 4)$data
  args <- list(formula = sales ~ tv + (1 + tv | market), data = d, media = "tv", time = "week",
               chains = 2, iter = 1200, warmup = 200, seed = 2, refresh = 0)
  full <- quiet_sampling(do.call(hbmmm, args))
  online <- quiet_sampling(do.call(hbmmm, c(args, list(keep_ranef = 4, keep_levels = list(market = c("M02", "M05"))))))
  # same seed, same draws: the summaries must describe the same numbers
  expect_identical(full$draws[, , "b_tv"], online$draws[, , "b_tv"])
  rs <- online$ranef_summary$market
  expect_identical(nrow(rs), 12L)
  expect_false(any(grepl("^r_market\\[M01,", dimnames(online$draws)[[3]])))
  expect_true("r_market[M05,tv]" %in% dimnames(online$draws)[[3]])
  # histogram quantiles per chain, averaged over chains: a median error of
  # ~0.02 sd was measured; cells whose chains disagree differ more from the
  # pooled quantile (up to ~0.5 sd)
  errs <- expect_online_summary(full, rs, "market")
  expect_true(all(rs$q2.5 < rs$mean))
  expect_true(all(rs$q97.5 > rs$mean))
  expect_lt(median(abs(errs)), 0.1)
})

test_that("observation weights give the weighted least-squares posterior", {
  set.seed(8)
  n <- 400
  d <- data.frame(x = rnorm(n), w = runif(n, 0.2, 3))
  d$y <- 1 + 2 * d$x + rnorm(n, 0, 1 / sqrt(d$w))
  fit <- hbmmm(y ~ x, data = d, weights = "w", chains = 2, iter = 3000, warmup = 500, seed = 3,
               refresh = 0, prior = hbmmm_prior(Intercept = normal(0, 100), b = normal(0, 100)))
  ols <- lm(y ~ x, data = d, weights = w)
  b <- fit$draws[, , c("b_Intercept", "b_x")]
  se <- summary(ols)$coefficients[, 2]
  expect_lt(abs(mean(b[, , 1]) - coef(ols)[[1]]), 0.1 * se[[1]] + 4 * mcse_mean(b[, , 1]))
  expect_lt(abs(mean(b[, , 2]) - coef(ols)[[2]]), 0.1 * se[[2]] + 4 * mcse_mean(b[, , 2]))
  expect_equal(sd(as.vector(b[, , 2])), se[[2]], tolerance = 0.1)
  # weights are rescaled to mean one, which rescales sigma (not the coefficients)
  ols_n <- lm(y ~ x, data = d, weights = w / mean(w))
  expect_equal(mean(fit$draws[, , "sigma"]), summary(ols_n)$sigma, tolerance = 0.05)
})

test_that("one chain runner: a failing chain raises the same classed error with 1 or 2 cores", {
  fail <- function(i) {
    if (i == 2L) hbmmm:::abort("chain 2 broke", class = "hbmmm_sampler_error")
    list(draws = matrix(stats::runif(2), 1))
  }
  for (cores in 1:2) {
    err <- tryCatch(hbmmm:::run_chains(fail, list(cores = cores, chains = 2L, seed = 1L)), error = identity)
    expect_s3_class(err, "hbmmm_sampler_error")
    expect_match(conditionMessage(err), "chain 2 broke")
  }
  # the same streams serially and forked
  ok <- function(i) list(draws = stats::runif(3))
  one <- hbmmm:::run_chains(ok, list(cores = 1L, chains = 2L, seed = 7L))
  two <- hbmmm:::run_chains(ok, list(cores = 2L, chains = 2L, seed = 7L))
  expect_identical(one, two)
  expect_false(identical(one[[1]], one[[2]]))
})

test_that("sampler diagnostics have one row per kept draw in both samplers", {
  for (sampler in c("gibbs", "nuts")) {
    fit <- quiet_sampling(do.call(hbmmm, small_fit_args(sampler = sampler, chains = 2, iter = 60,
                                                        warmup = 20, thin = 2)))
    expect_identical(dim(fit$draws)[1], 20L)
    for (k in names(fit$sampler_diagnostics)) {
      expect_identical(dim(fit$sampler_diagnostics[[k]])[1:2], c(20L, 2L), label = paste(sampler, k))
    }
  }
})

test_that("chains on a PSOCK cluster give exactly the draws of cores = 1", {
  cl <- tryCatch(parallel::makePSOCKcluster(2), error = function(e) NULL)
  skip_if(is.null(cl), "a PSOCK worker cannot start on this machine")
  on.exit(parallel::stopCluster(cl))
  ok <- tryCatch(all(unlist(parallel::clusterEvalQ(cl, requireNamespace("hbmmm", quietly = TRUE)))),
                 error = function(e) FALSE)
  skip_if(!ok, "the workers cannot load hbmmm")
  a <- decide_fit(chains = 2, iter = 60, seed = 5)
  b <- decide_fit(chains = 2, iter = 60, seed = 5, cluster = cl)
  expect_identical(b$draws, a$draws)
  expect_null(b$control$cluster)
  n1 <- decide_fit(chains = 2, iter = 60, seed = 5, sampler = "nuts")
  n2 <- decide_fit(chains = 2, iter = 60, seed = 5, sampler = "nuts", cluster = cl)
  expect_identical(n2$draws, n1$draws)
  expect_input_error(decide_fit(cluster = 2), "cluster")
})

test_that("chains as futures (cluster = \"future\") give exactly the draws of cores = 1, under any plan", {
  skip_if_not_installed("future")
  old_plan <- future::plan()
  on.exit(future::plan(old_plan), add = TRUE)
  a <- decide_fit(chains = 2, iter = 60, seed = 5)
  n1 <- decide_fit(chains = 2, iter = 60, seed = 5, sampler = "nuts")
  future::plan(future::sequential)
  b <- decide_fit(chains = 2, iter = 60, seed = 5, cluster = "future")
  expect_identical(b$draws, a$draws)
  expect_null(b$control$cluster)
  skip_on_os("windows")
  future::plan(future::multicore, workers = 2)
  # forked workers: threads inside a chain are dropped, with the warning
  expect_warning(m <- quiet_sampling(do.call(hbmmm, small_fit_args(chains = 2, iter = 60, seed = 5,
                                                                   cluster = "future", threads = 2))),
                 class = "hbmmm_warning_threads")
  expect_identical(m$draws, a$draws)
  expect_identical(decide_fit(chains = 2, iter = 60, seed = 5, sampler = "nuts", cluster = "future")$draws,
                   n1$draws)
  ok <- tryCatch({
    future::plan(future::multisession, workers = 2)
    future::value(future::future(requireNamespace("hbmmm", quietly = TRUE)))
  }, error = function(e) FALSE)
  skip_if(!isTRUE(ok), "a multisession worker cannot start or load hbmmm")
  expect_identical(decide_fit(chains = 2, iter = 60, seed = 5, cluster = "future")$draws, a$draws)
})
