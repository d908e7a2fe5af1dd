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
  # short single chains: the post-sampling ESS/R-hat warnings are expected
  fit <- suppressWarnings(hbmmm::hbmmm(y ~ tv + x + (1 + tv | market), data = d, media = "tv", time = "week",
                                       prior = sbc_prior(), chains = 1, iter = warmup + ndraws * thin, warmup = warmup,
                                       thin = thin, seed = seed, refresh = 0), classes = "hbmmm_warning")
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

# ---- further model features, each with its own prior and generator --------
# Each returns list(truth, fit): the truth named like the draws.

# Horseshoe on four media coefficients (transforms fixed, so the design is
# static and the sampler takes its cell-statistics path), per-market
# residual sd, and observation weights.
sbc_draw_horseshoe <- function(n_markets = 5, n_weeks = 24) {
  ch <- paste0("m", 1:4)
  tau <- abs(stats::rcauchy(1))
  lam <- abs(stats::rcauchy(4))
  sig2 <- 6 * 0.5^2 / stats::rchisq(n_markets, 6)
  n <- n_markets * n_weeks
  d <- data.frame(market = rep(sprintf("k%d", seq_len(n_markets)), each = n_weeks),
                  w = stats::runif(n, 0.5, 2))
  # hbmmm_spec() rescales weights to mean one: simulate on that scale, so
  # that sigma is the parameter the model estimates
  d$w <- d$w / mean(d$w)
  for (j in 1:4) d[[ch[j]]] <- stats::rexp(n)
  # horseshoe on the standardized coefficients: beta_j sd(x_j) ~ N(0, (lambda_j tau)^2)
  b <- stats::rnorm(4, 0, lam * tau) / vapply(ch, function(v) stats::sd(d[[v]]), 1)
  b0 <- stats::rnorm(1, 0, 2)
  mi <- rep(seq_len(n_markets), each = n_weeks)
  X <- as.matrix(d[ch])
  d$y <- b0 + X %*% b + stats::rnorm(n, 0, sqrt(sig2[mi] / d$w))
  truth <- c(b_Intercept = b0, stats::setNames(b, paste0("b_", ch)), hs_tau = tau,
             stats::setNames(sqrt(sig2), sprintf("sigma[k%d]", seq_len(n_markets))))
  list(truth = truth, args = list(formula = y ~ m1 + m2 + m3 + m4, data = d, media = ch,
       adstock = "none", saturation = "none", horseshoe = TRUE, sigma_by = "market", weights = "w",
       prior = hbmmm::hbmmm_prior(Intercept = hbmmm::normal(0, 2), sigma = hbmmm::scaled_inv_chisq(6, 0.5),
                                  horseshoe = hbmmm::horseshoe(scale_global = 1))))
}

# Factor-analytic covariance of three varying terms with one factor.
sbc_draw_factor <- function(n_markets = 12, n_weeks = 15) {
  q <- 3
  n <- n_markets * n_weeks
  d <- data.frame(market = rep(sprintf("k%02d", seq_len(n_markets)), each = n_weeks),
                  x1 = stats::rnorm(n), x2 = stats::rnorm(n))
  # loadings normal(0, 1) and uniquenesses inv_gamma(3, 1), per unit of each
  # term's predictor (scale 1 / sd(x); 1 for the intercept)
  zs <- c(1, 1 / stats::sd(d$x1), 1 / stats::sd(d$x2))
  lam <- stats::rnorm(q, 0, zs)
  psi <- zs^2 / stats::rgamma(q, 3, 1)
  S <- tcrossprod(lam) + diag(psi)
  u <- matrix(stats::rnorm(n_markets * q), n_markets) %*% chol(S)
  mi <- rep(seq_len(n_markets), each = n_weeks)
  b <- stats::rnorm(3)
  sig <- sqrt(6 * 0.5^2 / stats::rchisq(1, 6))
  d$y <- b[1] + u[mi, 1] + (b[2] + u[mi, 2]) * d$x1 + (b[3] + u[mi, 3]) * d$x2 + stats::rnorm(n, 0, sig)
  tn <- c("Intercept", "x1", "x2")
  pr <- utils::combn(3, 2)
  truth <- c(b_Intercept = b[1], b_x1 = b[2], b_x2 = b[3],
             stats::setNames(sqrt(diag(S)), paste0("sd_market__", tn)),
             stats::setNames(stats::cov2cor(S)[t(pr)], paste0("cor_market__", tn[pr[1, ]], "__", tn[pr[2, ]])),
             sigma = sig)
  list(truth = truth, args = list(formula = y ~ x1 + x2 + (1 + x1 + x2 | market), data = d,
       factors = c(market = 1L),
       prior = hbmmm::hbmmm_prior(Intercept = hbmmm::normal(0, 1), b = hbmmm::normal(0, 1),
                                  sigma = hbmmm::scaled_inv_chisq(6, 0.5),
                                  loadings = hbmmm::normal(0, 1), psi = hbmmm::inv_gamma(3, 1))))
}

# Uncorrelated (||) intercept and slope at two nested levels.
sbc_draw_nested <- function(n_markets = 6, n_stores = 3, n_weeks = 10) {
  sd_m <- sqrt(1 / stats::rgamma(2, 3, 0.5))
  sd_s <- sqrt(1 / stats::rgamma(1, 3, 0.5))
  n <- n_markets * n_stores * n_weeks
  d <- data.frame(market = rep(sprintf("k%d", seq_len(n_markets)), each = n_stores * n_weeks),
                  store = rep(rep(sprintf("s%d", seq_len(n_stores)), each = n_weeks), n_markets),
                  x = stats::rnorm(n))
  mi <- rep(seq_len(n_markets), each = n_stores * n_weeks)
  si <- rep(seq_len(n_markets * n_stores), each = n_weeks)
  um <- cbind(stats::rnorm(n_markets, 0, sd_m[1]), stats::rnorm(n_markets, 0, sd_m[2]))
  us <- stats::rnorm(n_markets * n_stores, 0, sd_s)
  b <- stats::rnorm(2)
  sig <- sqrt(6 * 0.5^2 / stats::rchisq(1, 6))
  d$y <- b[1] + um[mi, 1] + us[si] + (b[2] + um[mi, 2]) * d$x + stats::rnorm(n, 0, sig)
  truth <- c(b_Intercept = b[1], b_x = b[2], sd_market__Intercept = sd_m[1], sd_market__x = sd_m[2],
             "sd_market:store__Intercept" = sd_s, sigma = sig)
  list(truth = truth, args = list(formula = y ~ x + (1 + x || market) + (1 | market:store), data = d,
       prior = hbmmm::hbmmm_prior(Intercept = hbmmm::normal(0, 1), b = hbmmm::normal(0, 1),
                                  cov = hbmmm::inv_gamma(3, 0.5), sigma = hbmmm::scaled_inv_chisq(6, 0.5))))
}

# A media slope at two nested levels (market, and store within market) with
# estimated adstock: the Metropolis steps integrate out the store effects
# (the collapsed block), and the translation moves between the nested
# terms shift the market intercept and tv slope against their stores'.
sbc_draw_nested_media <- function(n_markets = 4, n_stores = 3, n_weeks = 16) {
  n <- n_markets * n_stores * n_weeks
  d <- data.frame(market = rep(sprintf("k%d", seq_len(n_markets)), each = n_stores * n_weeks),
                  store = sprintf("s%d", rep(seq_len(n_markets * n_stores), each = n_weeks)),
                  week = rep(seq_len(n_weeks), n_markets * n_stores), tv = stats::rexp(n))
  mi <- rep(seq_len(n_markets), each = n_stores * n_weeks)
  si <- rep(seq_len(n_markets * n_stores), each = n_weeks)
  sd_m <- sqrt(1 / stats::rgamma(2, 3, 0.5))
  sd_s <- sqrt(1 / stats::rgamma(2, 3, 0.5))
  um <- cbind(stats::rnorm(n_markets, 0, sd_m[1]), stats::rnorm(n_markets, 0, sd_m[2]))
  us <- cbind(stats::rnorm(n_markets * n_stores, 0, sd_s[1]), stats::rnorm(n_markets * n_stores, 0, sd_s[2]))
  b <- stats::rnorm(2)
  decay <- stats::rbeta(1, 4, 4)
  sig <- sqrt(6 * 0.5^2 / stats::rchisq(1, 6))
  a <- hbmmm::adstock_geometric(d$tv, decay, normalize = TRUE, group = si)
  d$y <- b[1] + um[mi, 1] + us[si, 1] + (b[2] + um[mi, 2] + us[si, 2]) * a + stats::rnorm(n, 0, sig)
  truth <- c(b_Intercept = b[1], b_tv = b[2], sd_market__Intercept = sd_m[1], sd_market__tv = sd_m[2],
             "sd_market:store__Intercept" = sd_s[1], "sd_market:store__tv" = sd_s[2], sigma = sig,
             decay_tv = decay)
  list(truth = truth, args = list(
    formula = y ~ tv + (1 + tv || market) + (1 + tv || market:store), data = d, media = "tv",
    time = "week", panel = "store", saturation = "none",
    prior = hbmmm::hbmmm_prior(Intercept = hbmmm::normal(0, 1), b = hbmmm::normal(0, 1),
                               cov = hbmmm::inv_gamma(3, 0.5), sigma = hbmmm::scaled_inv_chisq(6, 0.5),
                               decay = hbmmm::beta_dist(4, 4))))
}

# The same replicate fitted with NUTS.
nuts_drawer <- function(drawer) {
  sim <- drawer()
  sim$args$sampler <- "nuts"
  sim
}

# Ranks for any of the drawers above.
sbc_feature_ranks <- function(drawer, R, ndraws = 39, thin = 10, warmup = 300, first_seed = 1) {
  ranks <- lapply(first_seed + seq_len(R) - 1L, function(seed) {
    set.seed(seed)
    sim <- drawer()
    fit <- suppressWarnings(do.call(hbmmm::hbmmm, c(sim$args, list(chains = 1, iter = warmup + ndraws * thin,
                                                                   warmup = warmup, thin = thin, seed = seed,
                                                                   refresh = 0))), classes = "hbmmm_warning")
    dr <- fit$draws[, 1, names(sim$truth), drop = FALSE]
    vapply(names(sim$truth), function(v) sum(dr[, 1, v] < sim$truth[[v]]), numeric(1))
  })
  ranks <- do.call(rbind, ranks)
  bins <- 8
  p <- apply(ranks, 2, function(r) {
    counts <- tabulate(cut(r, breaks = seq(-0.5, ndraws + 0.5, length.out = bins + 1), labels = FALSE), bins)
    stats::chisq.test(counts, p = rep(1 / bins, bins))$p.value
  })
  list(ranks = ranks, p_value = p, mean_rank = colMeans(ranks) / ndraws)
}

# The default covariance prior (Huang-Wand): correlated market intercept and
# slope (half-t(2) sds, uniform correlation) crossed with a week intercept.
sbc_draw_huang_wand <- function(n_markets = 8, n_weeks = 15) {
  n <- n_markets * n_weeks
  d <- data.frame(market = rep(sprintf("k%d", seq_len(n_markets)), each = n_weeks),
                  week = rep(sprintf("w%02d", seq_len(n_weeks)), n_markets), x = stats::rnorm(n))
  nu <- 2
  A <- c(1, 1 / stats::sd(d$x))     # half_student_t(2, 1) per unit of each predictor
  a <- 1 / stats::rgamma(2, 0.5, rate = 1 / A^2)
  S <- solve(stats::rWishart(1, nu + 2 - 1, solve(diag(2 * nu / a)))[, , 1])
  aw <- 1 / stats::rgamma(1, 0.5, rate = 1)
  sw2 <- 1 / stats::rgamma(1, nu / 2, rate = nu / aw)
  u <- matrix(stats::rnorm(2 * n_markets), n_markets) %*% chol(S)
  uw <- stats::rnorm(n_weeks, 0, sqrt(sw2))
  mi <- rep(seq_len(n_markets), each = n_weeks)
  wi <- rep(seq_len(n_weeks), n_markets)
  b <- stats::rnorm(2)
  sig <- sqrt(6 * 0.5^2 / stats::rchisq(1, 6))
  d$y <- b[1] + u[mi, 1] + uw[wi] + (b[2] + u[mi, 2]) * d$x + stats::rnorm(n, 0, sig)
  truth <- c(b_Intercept = b[1], b_x = b[2], sd_market__Intercept = sqrt(S[1, 1]), sd_market__x = sqrt(S[2, 2]),
             cor_market__Intercept__x = S[1, 2] / sqrt(S[1, 1] * S[2, 2]), sd_week__Intercept = sqrt(sw2), sigma = sig)
  list(truth = truth, args = list(formula = y ~ x + (1 + x | market) + (1 | week), data = d,
       prior = hbmmm::hbmmm_prior(Intercept = hbmmm::normal(0, 1), b = hbmmm::normal(0, 1),
                                  cov = hbmmm::half_student_t(2, 1), sigma = hbmmm::scaled_inv_chisq(6, 0.5))))
}

# Positive media effects: a half-normal tv coefficient (with estimated
# adstock and Hill, and a correlated market slope, so the Metropolis step
# integrates the truncated coefficient out with the market effects and the
# translation move shifts a truncated pair) and an exponential search
# coefficient (estimated adstock, no saturation).
sbc_draw_positive <- function(n_markets = 5, n_weeks = 24) {
  n <- n_markets * n_weeks
  d <- data.frame(market = rep(sprintf("m%d", seq_len(n_markets)), each = n_weeks),
                  week = rep(seq_len(n_weeks), n_markets),
                  tv = stats::rexp(n, 1 / 10) * stats::rbinom(n, 1, 0.8),
                  search = stats::rexp(n, 1 / 5), x = stats::rnorm(n))
  mi <- rep(seq_len(n_markets), each = n_weeks)
  b <- c(b_Intercept = stats::rnorm(1), b_tv = abs(stats::rnorm(1)), b_search = stats::rexp(1, 4),
         b_x = stats::rnorm(1))
  S <- solve(stats::rWishart(1, 6, solve(diag(c(0.5, 0.3)^2) * 3))[, , 1])
  sig <- sqrt(10 * 0.4^2 / stats::rchisq(1, 10))
  tr <- c(decay_tv = stats::rbeta(1, 4, 4), halfsat_tv = stats::rlnorm(1, log(10), 0.3),
          slope_tv = stats::rlnorm(1, log(1.5), 0.2), decay_search = stats::rbeta(1, 4, 4))
  u <- matrix(stats::rnorm(2 * n_markets), n_markets) %*% chol(S)
  m_tv <- hbmmm::saturation_hill(hbmmm::adstock_geometric(d$tv, tr[["decay_tv"]], normalize = TRUE, group = mi),
                                 tr[["halfsat_tv"]], tr[["slope_tv"]])
  a_s <- hbmmm::adstock_geometric(d$search, tr[["decay_search"]], normalize = TRUE, group = mi)
  d$y <- b[["b_Intercept"]] + u[mi, 1] + (b[["b_tv"]] + u[mi, 2]) * m_tv + b[["b_search"]] * a_s +
    b[["b_x"]] * d$x + stats::rnorm(n, 0, sig)
  truth <- c(b, sd_market__Intercept = sqrt(S[1, 1]), sd_market__tv = sqrt(S[2, 2]),
             cor_market__Intercept__tv = S[1, 2] / sqrt(S[1, 1] * S[2, 2]), sigma = sig, tr)
  list(truth = truth, u = u, args = list(
    formula = y ~ tv + search + x + (1 + tv | market), data = d, media = c("tv", "search"), time = "week",
    saturation = c(tv = "hill", search = "none"),
    prior = hbmmm::hbmmm_prior(Intercept = hbmmm::normal(0, 1),
                               b = list(tv = hbmmm::half_normal(1), search = hbmmm::exponential(4),
                                        x = hbmmm::normal(0, 1)),
                               cov = hbmmm::inv_wishart(6, diag(c(0.5, 0.3)^2) * 3),
                               sigma = hbmmm::scaled_inv_chisq(10, 0.4), decay = hbmmm::beta_dist(4, 4),
                               halfsat = hbmmm::lognormal(log(10), 0.3), slope = hbmmm::lognormal(log(1.5), 0.2))))
}

# The same with NUTS (positive coefficients on the log scale); NUTS draws
# are less autocorrelated; thin 4 keeps the 39 kept draws close to
# independent (thin 2 gave one low p-value for sigma at 120 replicates).
sbc_draw_positive_nuts <- function() nuts_drawer(sbc_draw_positive)

# An ROI prior on tv (lognormal on contribution / spend over the data):
# given the transforms, b_tv = roi * spend / sum(transformed tv), with the
# correlated market slope on tv around it; search exponential. The ROI is
# a stored quantity of the truth, checked through b_tv and the transforms.
sbc_draw_roi <- function(n_markets = 5, n_weeks = 24) {
  sim <- sbc_draw_positive(n_markets, n_weeks)
  d <- sim$args$data
  tr <- sim$truth[c("decay_tv", "halfsat_tv", "slope_tv")]
  mi <- rep(seq_len(n_markets), each = n_weeks)
  m_tv <- hbmmm::saturation_hill(hbmmm::adstock_geometric(d$tv, tr[["decay_tv"]], normalize = TRUE, group = mi),
                                 tr[["halfsat_tv"]], tr[["slope_tv"]])
  # ROI around 0.05: with about 8 spend and a transformed column about 0.4
  # per row, b_tv is about 1, the scale of sbc_draw_positive()'s effects
  # (an ROI around 2 gives b_tv about 50 against a residual sd of 0.4, a
  # posterior too sharp for SBC's short warmup)
  roi <- stats::rlnorm(1, log(0.05), 0.5)
  b_tv <- roi * sum(d$tv) / sum(m_tv)
  # replace the half-normal tv effect of sbc_draw_positive() by b_tv
  d$y <- d$y + (b_tv - sim$truth[["b_tv"]]) * m_tv
  sim$truth[["b_tv"]] <- b_tv
  sim$args$data <- d
  pr <- sim$args$prior
  pr$b <- pr$b[names(pr$b) != "tv"]
  pr$roi <- list(tv = hbmmm::lognormal(log(0.05), 0.5))
  sim$args$prior <- pr
  sim
}

sbc_draw_roi_nuts <- function() nuts_drawer(sbc_draw_roi)

# Lift tests (hbmmm(calibration = )) on sbc_draw_positive()'s model: a
# national tv test, a tv test in market m2 (on its curve, b_tv plus its
# market slope) and a search test, each measured with its sd around the
# true steady-state change (adstock normalized: the steady state is the
# spend itself).
sbc_draw_lift <- function(n_markets = 5, n_weeks = 24) {
  sim <- sbc_draw_positive(n_markets, n_weeks)
  tr <- sim$truth
  hill <- function(x) hbmmm::saturation_hill(x, tr[["halfsat_tv"]], tr[["slope_tv"]])
  u_tv <- sim$u[2, 2]
  lift <- data.frame(channel = c("tv", "tv", "search"), x = c(8, 5, 5), delta_x = c(4, 5, 3),
                     sigma = c(0.1, 0.15, 0.1), market = c(NA, "m2", NA))
  mean <- c(tr[["b_tv"]] * (hill(12) - hill(8)), (tr[["b_tv"]] + u_tv) * (hill(10) - hill(5)),
            tr[["b_search"]] * 3)
  lift$delta_y <- stats::rnorm(3, mean, lift$sigma)
  sim$args$calibration <- lift
  sim
}

sbc_draw_lift_nuts <- function() nuts_drawer(sbc_draw_lift)

# Log-normal market effects of tv (media_effects = "log_normal"): market l's
# tv coefficient b_tv exp(v_l), v_l ~ N(0, sd^2), sd ~ half-t(3, 0.5); the
# market intercepts a Gaussian term of their own (inverse-gamma variance).
# Stored: sd_market__tv and r_market[l,tv] = b_tv (exp(v_l) - 1).
sbc_draw_log_normal <- function(n_markets = 5, n_weeks = 24) {
  n <- n_markets * n_weeks
  d <- data.frame(market = rep(sprintf("m%d", seq_len(n_markets)), each = n_weeks),
                  week = rep(seq_len(n_weeks), n_markets),
                  tv = stats::rexp(n, 1 / 10) * stats::rbinom(n, 1, 0.8), x = stats::rnorm(n))
  mi <- rep(seq_len(n_markets), each = n_weeks)
  b <- c(b_Intercept = stats::rnorm(1), b_tv = abs(stats::rnorm(1)), b_x = stats::rnorm(1))
  s_int <- sqrt(1 / stats::rgamma(1, 3, rate = 3 * 0.5^2))
  s_tv <- 0.5 * abs(stats::rt(1, 3))
  v <- stats::rnorm(n_markets, 0, s_tv)
  u <- stats::rnorm(n_markets, 0, s_int)
  sig <- sqrt(10 * 0.4^2 / stats::rchisq(1, 10))
  tr <- c(decay_tv = stats::rbeta(1, 4, 4), halfsat_tv = stats::rlnorm(1, log(10), 0.3),
          slope_tv = stats::rlnorm(1, log(1.5), 0.2))
  m_tv <- hbmmm::saturation_hill(hbmmm::adstock_geometric(d$tv, tr[["decay_tv"]], normalize = TRUE, group = mi),
                                 tr[["halfsat_tv"]], tr[["slope_tv"]])
  d$y <- b[["b_Intercept"]] + u[mi] + b[["b_tv"]] * exp(v[mi]) * m_tv + b[["b_x"]] * d$x + stats::rnorm(n, 0, sig)
  truth <- c(b, sd_market__Intercept = s_int, sd_market__tv = s_tv, sigma = sig, tr,
             `r_market[m1,tv]` = b[["b_tv"]] * expm1(v[1]), `r_market[m3,tv]` = b[["b_tv"]] * expm1(v[3]))
  list(truth = truth, args = list(
    formula = y ~ tv + x + (1 + tv | market), data = d, media = "tv", time = "week", media_effects = "log_normal",
    prior = hbmmm::hbmmm_prior(Intercept = hbmmm::normal(0, 1),
                               b = list(tv = hbmmm::half_normal(1), x = hbmmm::normal(0, 1)),
                               cov = hbmmm::inv_gamma(3, 3 * 0.5^2), media_sd = hbmmm::half_student_t(3, 0.5),
                               sigma = hbmmm::scaled_inv_chisq(10, 0.4), decay = hbmmm::beta_dist(4, 4),
                               halfsat = hbmmm::lognormal(log(10), 0.3), slope = hbmmm::lognormal(log(1.5), 0.2))))
}

sbc_draw_log_normal_nuts <- function() nuts_drawer(sbc_draw_log_normal)

# A mixture of Hill curves on tv (NUTS only), everything drawn from the
# priors the model is given; one series, a positive tv coefficient. With
# weights = "stick_breaking": two components, ordered half-saturations (two
# i.i.d. lognormals, sorted), v ~ Beta(1, alpha), alpha ~ Gamma(2, 2). With
# "dirichlet": three components, i.i.d. half-saturations, slopes and
# Dirichlet(e0) weights, then sorted by half-saturation (the model's draws
# are: its exchangeable prior makes that the ordered model's posterior).
sbc_draw_mixture_nuts <- function(n_weeks = 60, weights = c("stick_breaking", "dirichlet"), e0 = 0.2) {
  weights <- match.arg(weights)
  d <- data.frame(week = seq_len(n_weeks), tv = stats::rexp(n_weeks, 1 / 10) * stats::rbinom(n_weeks, 1, 0.8),
                  x = stats::rnorm(n_weeks))
  b <- c(b_Intercept = stats::rnorm(1), b_tv = abs(stats::rnorm(1, 0, 2)), b_x = stats::rnorm(1))
  sig <- sqrt(10 * 0.3^2 / stats::rchisq(1, 10))
  K <- if (weights == "stick_breaking") 2L else 3L
  h <- stats::rlnorm(K, log(10), 0.5)
  s <- stats::rlnorm(K, log(1.5), 0.3)
  if (weights == "stick_breaking") {
    alpha <- stats::rgamma(1, 2, 2)
    v <- stats::rbeta(1, 1, alpha)
    w <- c(v, 1 - v)
    o <- order(h) # stick order = half-saturation order
    s <- s[o]
    h <- h[o]
  } else {
    g <- stats::rgamma(K, e0)
    o <- order(h)
    w <- (g / sum(g))[o]
    h <- h[o]
    s <- s[o]
  }
  decay <- stats::rbeta(1, 4, 4)
  m_tv <- hbmmm::saturation_hill_mixture(hbmmm::adstock_geometric(d$tv, decay, normalize = TRUE), h, s, w)
  d$y <- b[["b_Intercept"]] + b[["b_tv"]] * m_tv + b[["b_x"]] * d$x + stats::rnorm(n_weeks, 0, sig)
  idx <- seq_len(K)
  truth <- c(b, sigma = sig, decay_tv = decay, stats::setNames(w[-K], sprintf("weight_tv[%d]", idx[-K])),
             stats::setNames(h, sprintf("halfsat_tv[%d]", idx)), stats::setNames(s, sprintf("slope_tv[%d]", idx)),
             if (weights == "stick_breaking") c(alpha_tv = alpha))
  list(truth = truth, args = list(
    formula = y ~ tv + x, data = d, media = "tv", time = "week", sampler = "nuts",
    saturation = "hill_mixture",
    saturation_control = c(list(components = K, weights = weights), if (weights == "dirichlet") list(concentration = e0)),
    prior = hbmmm::hbmmm_prior(Intercept = hbmmm::normal(0, 1),
                               b = list(tv = hbmmm::half_normal(2), x = hbmmm::normal(0, 1)),
                               sigma = hbmmm::scaled_inv_chisq(10, 0.3), decay = hbmmm::beta_dist(4, 4),
                               halfsat = hbmmm::lognormal(log(10), 0.5), slope = hbmmm::lognormal(log(1.5), 0.3),
                               alpha = if (weights == "stick_breaking") hbmmm::gamma_dist(2, 2))))
}

sbc_draw_mixture_dirichlet_nuts <- function() sbc_draw_mixture_nuts(weights = "dirichlet")
