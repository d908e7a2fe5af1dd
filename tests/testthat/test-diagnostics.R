# Convergence diagnostics: agreement with the posterior package (the reference
# implementation of Vehtari et al. 2021) and with known ESS of simple chains.

ar1_chains <- function(n, phi, chains) {
  out <- matrix(0, n, chains)
  for (c in seq_len(chains)) {
    e <- rnorm(n)
    x <- numeric(n)
    x[1] <- e[1] / sqrt(1 - phi^2) # start in stationarity
    for (t in 2:n) x[t] <- phi * x[t - 1] + e[t]
    out[, c] <- x
  }
  out
}

diag_cases <- function() {
  set.seed(20240611)
  list(
    iid = matrix(rnorm(4000), 1000, 4),
    ar1 = ar1_chains(1000, 0.95, 4),
    antithetic = ar1_chains(1000, -0.9, 4), # ESS hits the S log10(S) cap
    nonconverged = sweep(matrix(rnorm(4000), 1000, 4), 2, c(0, 0.3, 1, 3), "+"),
    odd_iterations = matrix(rnorm(999 * 4), 999, 4),
    one_chain_vector = ar1_chains(1000, 0.5, 1)[, 1],
    one_chain_matrix = matrix(rnorm(1001), 1001, 1),
    cauchy = matrix(rcauchy(4000), 1000, 4),
    ties_rounded = matrix(round(rnorm(4000)), 1000, 4),
    ties_discrete = matrix(rpois(4000, 0.3), 1000, 4),
    rare_event = matrix(rbinom(4000, 1, 0.03), 1000, 4),
    ar1_odd = ar1_chains(777, 0.9, 3),
    alternating = matrix(c(-1, 1), 100, 4),
    tiny_scale = matrix(rnorm(400), 100, 4) * 1e-20,
    few_iter_6 = matrix(rnorm(24), 6, 4),
    few_iter_5 = matrix(rnorm(20), 5, 4),
    few_iter_4 = matrix(rnorm(16), 4, 4)
  )
}

ours <- function(x) {
  c(rhat = rhat(x), ess_bulk = ess_bulk(x), ess_tail = ess_tail(x),
    mcse_mean = mcse_mean(x))
}
theirs <- function(x) {
  suppressWarnings(c( # posterior warns when it caps the ESS
    rhat = posterior::rhat(x), ess_bulk = posterior::ess_bulk(x),
    ess_tail = posterior::ess_tail(x), mcse_mean = posterior::mcse_mean(x)))
}

test_that("rhat, ess_bulk, ess_tail, mcse_mean equal posterior's", {
  skip_if_not_installed("posterior")
  for (nm in names(diag_cases())) {
    x <- diag_cases()[[nm]]
    expect_equal(ours(x), theirs(x), tolerance = 1e-8, label = nm)
  }
})

test_that("edge cases return what posterior returns", {
  skip_if_not_installed("posterior")
  set.seed(3)
  x <- matrix(rnorm(400), 100, 4)
  with_na <- x; with_na[3, 2] <- NA
  with_nan <- x; with_nan[3, 2] <- NaN
  with_inf <- x; with_inf[3, 2] <- Inf; with_inf[50, 4] <- -Inf
  cases <- list(na = with_na, nan = with_nan, inf = with_inf,
                constant = matrix(2.5, 100, 4), constant_vector = rep(1, 50),
                tiny_spread = 1 + x * 1e-17, one_iteration = x[1, , drop = FALSE])
  for (nm in names(cases)) {
    a <- ours(cases[[nm]])
    b <- theirs(cases[[nm]])
    expect_identical(is.na(a), is.na(b), label = nm)
    expect_equal(a[!is.na(b)], b[!is.na(b)], tolerance = 1e-8, label = nm)
  }
  # NA or constant draws: everything NA
  expect_true(all(is.na(ours(with_na))))
  expect_true(all(is.na(ours(matrix(2.5, 100, 4)))))
  # Infinite draws: ranks still work, the tail ESS and the mean's MCSE do not.
  expect_true(is.finite(rhat(with_inf)) && is.finite(ess_bulk(with_inf)))
  expect_true(is.na(ess_tail(with_inf)) && !is.finite(mcse_mean(with_inf)))
  # Chains constant within but different between: R-hat is unbounded. posterior
  # reports about 2.5e15 because matrixStats' chain means are off by an ulp;
  # the exact within-chain variance is 0, giving Inf here.
  stuck <- matrix(rep(1:4, each = 100), 100, 4)
  expect_gt(rhat(stuck), 1e10)
  expect_gt(posterior::rhat(stuck), 1e10)
  expect_equal(ess_bulk(stuck), posterior::ess_bulk(stuck), tolerance = 1e-8)
})

test_that("too few iterations give NA", {
  x <- matrix(rnorm(12), 3, 4)
  # posterior 1.4.0 returns numbers for 2 or 3 iterations of several chains,
  # because its chain split drops the matrix to a vector; there is nothing to
  # split, so hbmmm returns NA.
  for (n in 1:3) {
    expect_true(all(is.na(ours(x[seq_len(n), , drop = FALSE]))))
  }
  expect_true(is.na(rhat(x[1:3, 1]))) # one chain of 3 splits into 1 + 1 draws
  expect_true(is.na(ess_bulk(matrix(rnorm(20), 5, 4)))) # 2 per half-chain
  expect_false(is.na(ess_bulk(matrix(rnorm(24), 6, 4))))
  expect_false(is.na(rhat(matrix(rnorm(16), 4, 4))))
})

test_that("ESS matches the known ESS of iid and AR(1) chains", {
  set.seed(11)
  x <- matrix(rnorm(4000), 1000, 4)
  expect_lt(abs(ess_bulk(x) / 4000 - 1), 0.15)
  expect_lt(abs(rhat(x) - 1), 0.01)
  expect_equal(mcse_mean(x), sd(x) / sqrt(ess_bulk(x)), tolerance = 0.15)
  for (phi in c(0.5, 0.9)) {
    y <- ar1_chains(5000, phi, 4)
    target <- length(y) * (1 - phi) / (1 + phi)
    expect_lt(abs(ess_bulk(y) / target - 1), 0.25, label = paste("phi", phi))
  }
  # Non-converged chains are flagged, converged ones not.
  expect_gt(rhat(sweep(x, 2, c(0, 0, 0, 2), "+")), 1.1)
  # Autocorrelation lowers the tail ESS too.
  expect_lt(ess_tail(ar1_chains(1000, 0.95, 4)), ess_tail(x) / 5)
})

test_that("summarise_draws_table agrees with posterior::summarise_draws", {
  skip_if_not_installed("posterior")
  set.seed(7)
  n <- 500; C <- 4
  vars <- list(
    normal = matrix(rnorm(n * C), n, C),
    ar = ar1_chains(n, 0.9, C),
    scaled = ar1_chains(n, 0.7, C) * 1e6 + 3e7,
    small = ar1_chains(n, 0.3, C) * 1e-6,
    shifted = sweep(matrix(rnorm(n * C), n, C), 2, c(0, 0, 1, 1), "+"),
    cauchy = matrix(rcauchy(n * C), n, C),
    ties = matrix(rpois(n * C, 2), n, C),
    rare = matrix(rbinom(n * C, 1, 0.02), n, C),
    constant = matrix(1, n, C),
    with_na = replace(matrix(rnorm(n * C), n, C), 17, NA),
    with_inf = replace(matrix(rnorm(n * C), n, C), 99, Inf)
  )
  draws <- array(unlist(vars), c(n, C, length(vars)),
                 dimnames = list(NULL, NULL, names(vars)))
  probs <- c(0.025, 0.5, 0.975)
  check <- function(draws) {
    tab <- summarise_draws_table(draws, probs = probs)
    ref <- suppressWarnings(posterior::summarise_draws(
      posterior::as_draws_array(draws),
      mean = mean, sd = sd, ~ posterior::quantile2(.x, probs = probs),
      rhat = posterior::rhat, ess_bulk = posterior::ess_bulk,
      ess_tail = posterior::ess_tail, mcse_mean = posterior::mcse_mean))
    ref <- as.data.frame(ref)
    expect_s3_class(tab, "data.frame")
    expect_identical(names(tab), c("variable", "mean", "sd", "q2.5", "q50", "q97.5",
                                   "rhat", "ess_bulk", "ess_tail", "mcse_mean"))
    expect_identical(tab$variable, dimnames(draws)[[3]])
    for (col in names(tab)[-1]) {
      a <- tab[[col]]; b <- as.vector(unclass(ref[[col]]))
      expect_identical(is.na(a), is.na(b), label = col)
      expect_equal(a[!is.na(b)], b[!is.na(b)], tolerance = 1e-8, label = col)
    }
  }
  check(draws)
  check(draws[-1, , , drop = FALSE]) # odd number of iterations
  # Default probs name the columns as posterior's quantile2 does.
  expect_identical(names(summarise_draws_table(draws[, , 1:2]))[4:5], c("q2.5", "q97.5"))
  # The table equals the single-variable functions.
  tab <- summarise_draws_table(draws)
  for (v in c("ar", "ties", "cauchy")) {
    x <- draws[, , v]
    expect_equal(unlist(tab[tab$variable == v, c("rhat", "ess_bulk", "ess_tail", "mcse_mean")]),
                 ours(x), tolerance = 1e-12, ignore_attr = TRUE)
  }
})

test_that("summarise_draws_table covers hundreds of variables (speed: inst/bench/diagnostics.R)", {
  set.seed(5)
  draws <- array(rnorm(1000 * 4 * 300), c(1000, 4, 300),
                 dimnames = list(NULL, NULL, paste0("b[", 1:300, "]")))
  tab <- summarise_draws_table(draws)
  expect_equal(nrow(tab), 300L)
  expect_true(all(abs(tab$rhat - 1) < 0.01)) # iid draws
})

test_that("bad input is rejected with a classed error", {
  expect_input_error(rhat("a"), "x")
  expect_input_error(rhat(list(1, 2, 3)), "x")
  expect_input_error(ess_bulk(array(rnorm(24), c(2, 3, 4))), "x")
  expect_input_error(ess_tail(data.frame(a = rnorm(10), b = rnorm(10))), "x")
  expect_input_error(mcse_mean(numeric(0)), "x")
  expect_input_error(rhat(matrix(numeric(0), 0, 4)), "x")
  expect_input_error(rhat(factor(c("a", "b"))), "x")
  expect_input_error(rhat(NULL), "x")
  expect_input_error(rhat(c(TRUE, FALSE)), "x")
  expect_input_error(summarise_draws_table(matrix(1, 10, 2)), "draws")
  expect_input_error(summarise_draws_table(array(1, c(10, 2, 3))), "draws")
  good <- array(rnorm(60), c(10, 2, 3), dimnames = list(NULL, NULL, c("a", "b", "c")))
  expect_input_error(summarise_draws_table(good, probs = 1.5), "probs")
  expect_input_error(summarise_draws_table(good, probs = NA_real_), "probs")
})

test_that("ESS is right whether autocovariances are summed directly or by FFT", {
  skip_if_not_installed("posterior")
  set.seed(11)
  n <- 400
  a <- array(0, c(n, 4, 6), dimnames = list(NULL, NULL, paste0("v", 1:6)))
  # short correlations truncate within the direct lags; 0.9 and 0.97 go to the FFT
  phis <- c(0, 0.3, 0.6, 0.9, 0.97, -0.4)
  for (v in 1:6) for (k in 1:4) a[, k, v] <- stats::filter(rnorm(n), phis[v], "recursive")
  ess <- .Call(hbmmm:::C_hb_ess_mean, a, dim(a))
  ref <- vapply(1:6, function(v) posterior::ess_mean(a[, , v]), 1)
  expect_equal(ess, ref, tolerance = 1e-10)
  tab <- summarise_draws_table(a)
  expect_equal(tab$ess_bulk, vapply(1:6, function(v) posterior::ess_bulk(a[, , v]), 1), tolerance = 1e-10)
  expect_equal(tab$ess_tail, vapply(1:6, function(v) posterior::ess_tail(a[, , v]), 1), tolerance = 1e-10)
  expect_input_error(.Call(hbmmm:::C_hb_ess_mean, a, c(200L, 8L, 5L)), "draws")
  expect_input_error(.Call(hbmmm:::C_hb_ess_mean, a, c(0L, 8L, 6L)), "dims")
  expect_input_error(.Call(hbmmm:::C_hb_draws_summary, a, dim(a), c(0.5, NA), NULL), "probs")
  expect_input_error(.Call(hbmmm:::C_hb_draws_summary, a, c(400L, NA, 6L), 0.5, NULL), "dims")
  expect_true(is.na(.Call(hbmmm:::C_hb_ess_mean, replace(a, 1, NA), dim(a))[1]))
})

test_that("a subset of variables is summarised as its own array would be", {
  set.seed(3)
  a <- array(stats::rnorm(300 * 2 * 5), c(300, 2, 5), dimnames = list(NULL, NULL, paste0("v", 1:5)))
  a[, , 4] <- apply(a[, , 4], 2, cumsum)
  expect_identical(summarise_draws_table(a, vars = c(4L, 2L)), summarise_draws_table(a[, , c(4, 2)]))
  expect_input_error(summarise_draws_table(a, vars = 6L), "vars")
  expect_input_error(summarise_draws_table(a, vars = c(1L, NA)), "vars")
})

test_that("the summary table does not depend on the number of threads", {
  f <- tempfile(fileext = ".rds")
  code <- paste0("set.seed(1); a <- array(stats::rnorm(2e6), c(5000, 2, 200), ",
                 "dimnames = list(NULL, NULL, paste0('v', 1:200))); ",
                 "a[, , 1:100] <- apply(a[, , 1:100], 2:3, cumsum); ",
                 "saveRDS(hbmmm:::summarise_draws_table(a), '", f, "')")
  run <- function(threads) {
    unlink(f)
    system2(file.path(R.home("bin"), "Rscript"), c("-e", shQuote(code)),
            env = c(paste0("OMP_NUM_THREADS=", threads),
                    paste0("R_LIBS=", paste(.libPaths(), collapse = .Platform$path.sep))))
    readRDS(f)
  }
  one <- run(1)
  expect_identical(run(2), one)
  expect_equal(nrow(one), 200L)
})
