# Speed of the convergence diagnostics behind summary() and the checks after
# sampling (src/draws_summary.c: mean, sd, quantiles, rank-normalized R-hat,
# bulk and tail ESS, MCSE of every variable) against posterior's
# summarise_draws() on the same draws: 200 variables x 4 chains x 1000
# iterations, iid and AR(1) with phi = 0.5 and 0.9 (slow mixing sends the
# autocovariances to the FFT); and a cheese-sized fit's draws (361 variables
# x 20,000 draws of one chain); and psis_loo() against loo::loo() on a
# log-likelihood matrix of 4,000 draws x 7,680 observations (the size of the
# three-level vignette's fits).
# Run: Rscript inst/bench/diagnostics.R
library(hbmmm)
if (!requireNamespace("posterior", quietly = TRUE)) stop("this benchmark needs posterior")
set.seed(1)
ar_draws <- function(phi, n = 1000, K = 4, V = 200) {
  a <- array(0, c(n, K, V))
  for (v in seq_len(V)) for (k in seq_len(K)) a[, k, v] <- stats::filter(rnorm(n), phi, "recursive")
  dimnames(a) <- list(NULL, NULL, paste0("v", seq_len(V)))
  a
}
best <- function(f, reps = 3) min(replicate(reps, system.time(f())[["elapsed"]]))
measures <- c("mean", "sd", "rhat", "ess_bulk", "ess_tail", "mcse_mean")
run <- function(a, label) {
  t_h <- best(function() hbmmm:::summarise_draws_table(a))
  t_p <- best(function() posterior::summarise_draws(posterior::as_draws_array(a), measures), 1)
  h <- hbmmm:::summarise_draws_table(a)
  p <- posterior::summarise_draws(posterior::as_draws_array(a), measures)
  err <- max(abs(h$ess_bulk / p$ess_bulk - 1), abs(h$rhat / p$rhat - 1), abs(h$ess_tail / p$ess_tail - 1))
  cat(sprintf("%-34s hbmmm %6.3f s, posterior %7.3f s, ratio %5.1fx (max rel. diff %.0e)\n",
              label, t_h, t_p, t_p / t_h, err))
}
for (phi in c(0, 0.5, 0.9)) run(ar_draws(phi), sprintf("200 vars x 4 x 1000, phi = %.1f:", phi))
a <- array(0, c(20000, 1, 361), dimnames = list(NULL, NULL, paste0("v", 1:361)))
for (v in 1:361) a[, 1, v] <- stats::filter(rnorm(20000), runif(1, 0, 0.99), "recursive")
run(a, "361 vars x 1 x 20000 (cheese-sized):")
if (requireNamespace("loo", quietly = TRUE)) {
  ll <- matrix(stats::rnorm(4000 * 7680, -1, 0.5), 4000)
  ll[, 1:50] <- ll[, 1:50] - stats::rexp(4000 * 50) # some heavy tails
  t_h <- best(function() suppressWarnings(psis_loo(ll)), 1)
  t_l <- best(function() suppressWarnings(loo::loo(ll, r_eff = rep(1, ncol(ll)))), 1)
  h <- suppressWarnings(psis_loo(ll))
  l <- suppressWarnings(loo::loo(ll, r_eff = rep(1, ncol(ll))))
  err <- max(abs(h$pointwise[, "elpd_loo"] / l$pointwise[, "elpd_loo"] - 1))
  cat(sprintf("%-34s hbmmm %6.3f s, loo       %7.3f s, ratio %5.1fx (max rel. diff %.0e)\n",
              "psis_loo, 4000 draws x 7680 obs:", t_h, t_l, t_l / t_h, err))
}
