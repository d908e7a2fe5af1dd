# Post-sampling warnings: one classed warning per problem, as Stan gives.

# A fit object with the structure of a NUTS fit, built by hand.
hand_nuts_fit <- function(draws, divergent = NULL, treedepth = NULL, energy = NULL, max_treedepth = 10) {
  ni <- dim(draws)[1]
  nc <- dim(draws)[2]
  z <- matrix(0, ni, nc)
  structure(list(
    draws = draws, sampler = "nuts",
    sampler_diagnostics = list(
      divergent = if (is.null(divergent)) z else divergent,
      treedepth = if (is.null(treedepth)) z + 3 else treedepth,
      n_leapfrog = z + 7, stepsize = z + 0.3,
      energy = if (is.null(energy)) matrix(rnorm(ni * nc), ni, nc) else energy,
      accept_stat = z + 0.8),
    control = list(chains = nc, iter = 2 * ni, warmup = ni, thin = 1, max_treedepth = max_treedepth)
  ), class = "hbmmm_fit")
}

# Run `expr`, collecting the classed warnings: list(value, warnings = class -> message).
catch_hbmmm_warnings <- function(expr) {
  got <- list()
  value <- withCallingHandlers(expr, hbmmm_warning = function(w) {
    got[[class(w)[1]]] <<- w
    invokeRestart("muffleWarning")
  })
  list(value = value, warnings = got)
}

iid_draws <- function(ni, nc, nv = 2) {
  array(rnorm(ni * nc * nv), c(ni, nc, nv),
        dimnames = list(iteration = NULL, chain = NULL, variable = paste0("b_x", seq_len(nv))))
}

test_that("a well-mixed run raises no warning", {
  set.seed(1)
  fit <- hand_nuts_fit(iid_draws(1000, 4))
  expect_silent(res <- check_sampling(fit))
  expect_identical(res$rhat, character(0))
  expect_identical(res$ess, character(0))
  expect_identical(res$divergent, 0L)
  expect_identical(res$treedepth, 0L)
  expect_length(res$ebfmi, 4)
})

test_that("R-hat and ESS problems are counted and suggest more iterations", {
  set.seed(2)
  d <- iid_draws(1000, 4, 3)
  d[, 4, 1] <- d[, 4, 1] + 2 # one chain elsewhere
  fit <- hand_nuts_fit(d)
  cw <- catch_hbmmm_warnings(check_sampling(fit))
  w <- cw$warnings$hbmmm_warning_rhat
  expect_s3_class(w, c("hbmmm_warning_rhat", "hbmmm_warning", "warning"))
  expect_match(conditionMessage(w), "1 parameter\\(s\\) have R-hat above 1.01.*b_x1.*more iterations")
  expect_identical(cw$value$rhat, "b_x1")

  short <- hand_nuts_fit(iid_draws(40, 2, 3))
  cw <- catch_hbmmm_warnings(check_sampling(short))
  w <- cw$warnings$hbmmm_warning_ess
  expect_s3_class(w, c("hbmmm_warning_ess", "hbmmm_warning"))
  expect_match(conditionMessage(w), "Bulk effective sample size \\(ESS\\) is below 400 for 3 parameter")
  expect_match(conditionMessage(w), "Tail effective sample size \\(ESS\\) is below 400 for 3 parameter")
  expect_match(conditionMessage(w), "more iterations")
  # the flagged names agree with the diagnostics themselves
  res <- cw$value
  low <- vapply(1:3, function(v) min(ess_bulk(short$draws[, , v]), ess_tail(short$draws[, , v])) < 400, NA)
  expect_identical(res$ess, dimnames(short$draws)[[3]][low])
})

test_that("divergences, tree-depth saturation and low E-BFMI are counted", {
  set.seed(3)
  ni <- 1000
  div <- matrix(0, ni, 4)
  div[c(5, 17, 300), 2] <- 1
  div[9, 4] <- 1
  td <- matrix(4, ni, 4)
  td[1:7, 1] <- 10
  energy <- matrix(rnorm(ni * 4), ni, 4)
  energy[, 3] <- cumsum(energy[, 3]) # a random walk: E-BFMI near 0
  fit <- hand_nuts_fit(iid_draws(ni, 4), divergent = div, treedepth = td, energy = energy)
  cw <- catch_hbmmm_warnings(check_sampling(fit))
  got <- lapply(cw$warnings, conditionMessage)
  res <- cw$value
  expect_setequal(names(got), c("hbmmm_warning_divergent", "hbmmm_warning_treedepth", "hbmmm_warning_ebfmi"))
  expect_match(got$hbmmm_warning_divergent, "There were 4 divergent transition")
  expect_match(got$hbmmm_warning_treedepth, "^7 transition\\(s\\).*maximum tree depth of 10")
  expect_match(got$hbmmm_warning_ebfmi, "1 of 4 chain\\(s\\).*chain 3")
  expect_identical(res$divergent, 4L)
  expect_identical(res$treedepth, 7L)
  # E-BFMI by hand
  hand <- apply(energy, 2, function(e) sum((e[-1] - e[-ni])^2) / sum((e - mean(e))^2))
  expect_equal(ebfmi(fit), hand, tolerance = 1e-14)
  expect_equal(ebfmi(energy), hand, tolerance = 1e-14)
  expect_lt(hand[3], 0.3)
  expect_gt(min(hand[-3]), 1.5) # independent energies: about 2
})

test_that("hbmmm() checks a Gibbs run after sampling; ebfmi() refuses fits without energy", {
  args <- small_fit_args(chains = 2, iter = 40)
  cw <- catch_hbmmm_warnings(do.call(hbmmm, args))
  fit <- cw$value
  expect_true("hbmmm_warning_ess" %in% names(cw$warnings))
  expect_identical(names(cw$warnings), names(catch_hbmmm_warnings(check_sampling(fit))$warnings))
  expect_error(ebfmi(fit), class = "hbmmm_unsupported_error")
  expect_input_error(ebfmi(matrix("a")), "x")
  expect_input_error(check_sampling(list()), "fit")
})
