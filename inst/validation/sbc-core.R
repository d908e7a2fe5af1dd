# Simulation-based calibration (Talts et al. 2018) of the Gibbs sampler on a
# small hierarchical MMM: one media channel with estimated geometric adstock
# and Hill saturation, a control, and a correlated random intercept and media
# slope by market. Every parameter is drawn from the same proper priors the
# fit uses; if the sampler is right, the rank of each true value among
# thinned posterior draws is uniform. Sourced by tests/testthat/test-sbc.R
# (quick) and inst/validation/sbc.R (long).

sbc_prior <- function() {
  hbmmm::hbmmm_prior(
    Intercept = hbmmm::normal(0, 1), b = hbmmm::normal(0, 1),
    cov = hbmmm::inv_wishart(6, diag(c(0.5, 0.3)^2) * 3),
    sigma = hbmmm::scaled_inv_chisq(10, 0.4),
    decay = hbmmm::beta_dist(4, 4), halfsat = hbmmm::lognormal(log(10), 0.3),
    slope = hbmmm::lognormal(log(1.5), 0.2))
}

# One replicate: draw the truth, simulate data, fit, and return the rank of
# each true value among `ndraws` thinned draws (0..ndraws).
sbc_replicate <- function(seed, n_markets = 4, n_weeks = 30, ndraws = 39, thin = 15, warmup = 300) {
  set.seed(seed)
  truth <- c(b_Intercept = rnorm(1), b_tv = rnorm(1), b_x = rnorm(1))
  S <- solve(stats::rWishart(1, 6, solve(diag(c(0.5, 0.3)^2) * 3))[, , 1])
  sig2 <- 10 * 0.4^2 / stats::rchisq(1, 10)
  tr <- c(decay_tv = stats::rbeta(1, 4, 4), halfsat_tv = stats::rlnorm(1, log(10), 0.3),
          slope_tv = stats::rlnorm(1, log(1.5), 0.2))
  u <- matrix(stats::rnorm(2 * n_markets), n_markets) %*% chol(S)
  d <- data.frame(market = rep(sprintf("m%d", seq_len(n_markets)), each = n_weeks),
                  week = rep(seq_len(n_weeks), n_markets),
                  tv = stats::rexp(n_markets * n_weeks, 1 / 10) * stats::rbinom(n_markets * n_weeks, 1, 0.8),
                  x = stats::rnorm(n_markets * n_weeks))
  mi <- rep(seq_len(n_markets), each = n_weeks)
  m <- hbmmm::saturation_hill(hbmmm::adstock_geometric(d$tv, tr[["decay_tv"]], normalize = TRUE, group = mi),
                              tr[["halfsat_tv"]], tr[["slope_tv"]])
  d$y <- truth[["b_Intercept"]] + u[mi, 1] + (truth[["b_tv"]] + u[mi, 2]) * m + truth[["b_x"]] * d$x +
    stats::rnorm(nrow(d), 0, sqrt(sig2))
  truth <- c(truth, sd_market__Intercept = sqrt(S[1, 1]), sd_market__tv = sqrt(S[2, 2]),
             cor_market__Intercept__tv = S[1, 2] / sqrt(S[1, 1] * S[2, 2]), sigma = sqrt(sig2), tr)
  fit <- hbmmm::hbmmm(y ~ tv + x + (1 + tv | market), data = d, media = "tv", time = "week",
                      prior = sbc_prior(), chains = 1, iter = warmup + ndraws * thin, warmup = warmup,
                      thin = thin, seed = seed, refresh = 0)
  dr <- fit$draws[, 1, names(truth), drop = FALSE]
  vapply(names(truth), function(v) sum(dr[, 1, v] < truth[[v]]), numeric(1))
}

# Ranks of R replicates (rows) by parameter (columns), and a chi-square test
# of uniformity per parameter on `bins` equal bins of the ranks 0..ndraws.
sbc_run <- function(R, ndraws = 39, bins = 8, first_seed = 1, ...) {
  ranks <- t(vapply(first_seed + seq_len(R) - 1L, sbc_replicate, numeric(10), ndraws = ndraws, ...))
  p <- apply(ranks, 2, function(r) {
    counts <- tabulate(cut(r, breaks = seq(-0.5, ndraws + 0.5, length.out = bins + 1), labels = FALSE), bins)
    stats::chisq.test(counts, p = rep(1 / bins, bins))$p.value
  })
  list(ranks = ranks, p_value = p, mean_rank = colMeans(ranks) / ndraws)
}
