# Speed of the effective-sample-size computation behind rhat()/ess_*() and
# summary(): the direct autocovariance path in C (src/diagnostics.c, used
# when Geyer's truncation comes within ess_direct_lags(h) lags) against the
# FFT path in R, on 200 variables x 4 chains x 1000 iterations, iid and AR(1)
# with phi = 0.5 and 0.9; and the whole summary table against posterior.
# Run: Rscript inst/bench/diagnostics.R
library(hbmmm)
set.seed(1)
ar_draws <- function(phi, n = 1000, K = 4, V = 200) {
  a <- array(0, c(n, K, V))
  for (v in seq_len(V)) for (k in seq_len(K)) a[, k, v] <- stats::filter(rnorm(n), phi, "recursive")
  dimnames(a) <- list(NULL, NULL, paste0("v", seq_len(V)))
  a
}
best <- function(f, reps = 10) min(replicate(reps, system.time(f())[["elapsed"]]))
for (phi in c(0, 0.5, 0.9)) {
  a <- ar_draws(phi)
  sp <- hbmmm:::split_chains(a)
  ok <- rep(TRUE, dim(sp)[3]) # as summary() calls it, usability known
  t_c <- best(function() hbmmm:::ess_cols(sp, ok))
  t_r <- best(function() hbmmm:::ess_geyer(sp))
  err <- max(abs(hbmmm:::ess_cols(sp, ok) / hbmmm:::ess_geyer(sp) - 1))
  cat(sprintf("phi = %.1f: ESS of 200 variables: C direct %.4f s, R FFT %.4f s, speed-up %.1fx (max rel. diff %.1e)\n",
              phi, t_c, t_r, t_r / t_c, err))
}
if (requireNamespace("posterior", quietly = TRUE)) {
  a <- ar_draws(0.5)
  t_h <- best(function() hbmmm:::summarise_draws_table(a), 3)
  t_p <- best(function() posterior::summarise_draws(posterior::as_draws_array(a), "mean", "sd", "rhat",
                                                     "ess_bulk", "ess_tail", "mcse_mean"), 1)
  cat(sprintf("summary table of 200 variables: hbmmm %.3f s, posterior %.3f s, ratio %.1fx\n", t_h, t_p, t_p / t_h))
}
