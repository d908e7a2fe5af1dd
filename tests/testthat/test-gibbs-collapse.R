# The collapsed block of the Gibbs sampler (src/gibbs_collapse.c): Metropolis
# steps on media transforms and on the covariance of one grouping term with
# the fixed effects and that term's effects integrated out. Checked against
# posteriors computed by quadrature in plain R from the dense marginal
# likelihood y ~ N(X b0, sigma^2 W^-1 + Z Sigma Z' + X B0 X'), with the
# residual variance and (first test) the covariance pinned by tight priors,
# for both the collapsed path and the uncollapsed one.

# Model list of `spec` with sigma^2 pinned at s2 and the term's covariance
# either pinned at Sigma0 (inverse-Wishart with a huge df) or given `cov`.
pinned_model <- function(spec, s2, Sigma0 = NULL) {
  m <- hbmmm:::mmm_model_list(spec)
  a <- 1e6
  m$sig_ig <- c(a, s2 * (a + 1)) # IG mode s2
  m$sig2_init <- rep(s2, m$S)
  if (!is.null(Sigma0)) {
    q <- nrow(Sigma0)
    m$terms[[1]]$type <- 0L # full inverse-Wishart
    m$terms[[1]]$iw_df <- a
    m$terms[[1]]$iw_S <- Sigma0 * (a + q + 1) # IW mode Sigma0
    m$terms[[1]]$Sigma0 <- Sigma0
  }
  m
}

# log N(y; X b0, V) for V = s2 W^-1 + Z Sigma Z' + X diag(b_sd^2) X'.
dense_marginal <- function(y, X, Z, s2, w, Sigma, b0, b_sd) {
  V <- diag(s2 / w) + Z %*% Sigma %*% t(Z) + X %*% diag(b_sd^2, ncol(X)) %*% t(X)
  R <- chol(V)
  e <- backsolve(R, y - X %*% b0, transpose = TRUE)
  -sum(log(diag(R))) - 0.5 * sum(e^2)
}

run_c_gibbs <- function(m, iter, warmup, seed = 1) {
  set.seed(seed)
  .Call(hbmmm:::C_hb_gibbs, m, gibbs_control(iter = iter, warmup = warmup))
}

test_that("the collapsed term is the largest conjugate term, and only with estimated transforms", {
  spec <- small_spec()
  expect_identical(hbmmm:::mmm_model_list(spec)$collapse, 0L)
  fixed <- small_spec(fixed_transforms = c(decay_tv = 0.5, halfsat_tv = 1, slope_tv = 1,
                                           decay_search = 0.5, halfsat_search = 1, slope_search = 1))
  expect_identical(hbmmm:::mmm_model_list(fixed)$collapse, -1L)
  two <- small_spec(sales ~ tv + (1 | market) + (1 + tv | week), media = "tv")
  expect_identical(hbmmm:::mmm_model_list(two)$collapse, 1L) # 40 weeks > 4 markets
  m <- hbmmm:::mmm_model_list(spec)
  m$collapse <- 1L
  expect_error(run_c_gibbs(m, 5, 2), class = "hbmmm_input_error", regexp = "model\\$collapse")
})

# The posterior of decay_tv and sd_market__tv by quadrature, and by the
# sampler with each value of `collapse` in `modes`
check_decay_slope_sd <- function(formula, modes) {
  d <- small_panel()
  spec <- small_spec(formula, media = "tv",
                     fixed_transforms = c(halfsat_tv = stats::median(d$tv[d$tv > 0]), slope_tv = 1.5))
  s2 <- 0.8 * stats::var(d$sales) / 4
  m <- pinned_model(spec, s2)
  # diagonal covariance: the intercept variance pinned, the tv-slope variance free
  v0 <- stats::var(d$sales) / 5
  m$terms[[1]]$type <- 1L
  m$terms[[1]]$ig <- cbind(c(1e6, v0 * (1e6 + 1)), c(3, 2 * stats::var(d$sales) / 20))
  slot <- which(m$ch_est[, 1] == 1L)
  expect_length(slot, 1L)
  m$ch_prior_code[slot, 1] <- 5L # uniform(0, 1) on the decay
  m$ch_prior_par[2 * slot - 1:0, 1] <- c(0, 1)
  nm <- hbmmm:::draw_names(spec, m)

  tr <- spec$transforms
  hs <- tr$pars$value[tr$pars$name == "halfsat_tv"]
  column <- function(decay) {
    a <- adstock_geometric(spec$media_data[, "tv"], decay, normalize = as.logical(tr$normalize[["tv"]]),
                           group = spec$panel_codes)
    saturation_hill(a, hs, 1.5)
  }
  X <- m$Xs
  Zs <- m$terms[[1]]$Zs
  code <- m$terms[[1]]$g + 1L
  G <- m$terms[[1]]$G
  ig <- m$terms[[1]]$ig[, 2]
  dgrid <- seq(0.01, 0.99, by = 0.01)
  vgrid <- exp(seq(log(ig[2] / ig[1]) - 5, log(ig[2] / ig[1]) + 4, length.out = 70))
  lp <- matrix(NA_real_, length(dgrid), length(vgrid))
  D <- outer(code, seq_len(G), `==`) * 1 # rows x levels
  for (i in seq_along(dgrid)) {
    x <- column(dgrid[i])
    Xd <- X
    Xd[, m$xc == 0L] <- X[, m$xc == 0L] * x
    ztv <- Zs[, m$terms[[1]]$zc == 0L] * x
    base <- diag(s2 / m$w) + v0 * tcrossprod(D) + Xd %*% diag(m$b_sd^2, ncol(Xd)) %*% t(Xd)
    slope <- tcrossprod(D * ztv)
    e0 <- m$y - Xd %*% m$b_mean
    for (j in seq_along(vgrid)) {
      R <- chol(base + vgrid[j] * slope)
      e <- backsolve(R, e0, transpose = TRUE)
      # IG(a, b) prior on the variance, grid uniform in log v (Jacobian v)
      lp[i, j] <- -sum(log(diag(R))) - 0.5 * sum(e^2) - ig[1] * log(vgrid[j]) - ig[2] / vgrid[j]
    }
  }
  post <- exp(lp - max(lp))
  post <- post / sum(post)
  pd <- rowSums(post)
  mu <- sum(dgrid * pd)
  sdv <- sqrt(sum((dgrid - mu)^2 * pd))
  mu_sd <- sum(sqrt(vgrid) * colSums(post))

  for (collapse in modes) {
    m$collapse <- collapse
    res <- run_c_gibbs(m, 20000, 2000, seed = 3)
    x <- res$draws[, match("decay_tv", nm)]
    expect_lt(abs(mean(x) - mu), 4 * hbmmm::mcse_mean(matrix(x)) + 1e-3)
    expect_lt(abs(sd(x) / sdv - 1), 0.1)
    s <- res$draws[, match("sd_market__tv", nm)]
    expect_lt(abs(mean(s) - mu_sd), 4 * hbmmm::mcse_mean(matrix(s)) + 1e-3 * mu_sd)
  }
}

test_that("the posterior of a decay and a media-slope sd equals quadrature, collapsed or not", {
  # price has no group-level effect: its entries of [X ytil]' Pi [X ytil]
  # take the pass over the rows, the others come from the per-level blocks.
  # Z = (1, tv) is a run of X's columns, so the collapsed block stores only
  # Z_l' Pi_l [X_l ytil_l] per level
  check_decay_slope_sd(sales ~ tv + price + (1 + tv | market), c(0L, -1L))
})

test_that("the collapsed block agrees with quadrature when Z's columns are not a run of X's", {
  # X = (1, price, tv): Z_l' Pi_l Z_l is stored apart from Z_l' Pi_l X_l
  check_decay_slope_sd(sales ~ price + tv + (1 + tv | market), 0L)
})

test_that("the warmup's mode search lands on the conditional mode with its curvature, collapsed or not", {
  d <- small_panel()
  spec <- small_spec(sales ~ tv + (1 + tv | market), media = "tv",
                     fixed_transforms = c(halfsat_tv = stats::median(d$tv[d$tv > 0]), slope_tv = 1.5))
  s2 <- 0.8 * stats::var(d$sales) / 4
  Sigma0 <- diag(c(stats::var(d$sales) / 5, stats::var(d$sales) / 20))
  m <- pinned_model(spec, s2, Sigma0)
  slot <- which(m$ch_est[, 1] == 1L)
  m$ch_prior_code[slot, 1] <- 5L # uniform(0, 1) on the decay
  m$ch_prior_par[2 * slot - 1:0, 1] <- c(0, 1)
  tr <- spec$transforms
  hs <- tr$pars$value[tr$pars$name == "halfsat_tv"]
  G <- m$terms[[1]]$G
  D <- outer(m$terms[[1]]$g + 1L, seq_len(G), `==`) * 1
  # the log target of w = logit(decay) at the starting state: sigma^2 and
  # Sigma at their pinned values, beta integrated out, and the market
  # effects integrated out (collapsed) or at their starting value 0
  log_target <- function(w, collapsed) {
    decay <- stats::plogis(w)
    x <- saturation_hill(adstock_geometric(spec$media_data[, "tv"], decay,
                                           normalize = as.logical(tr$normalize[["tv"]]), group = spec$panel_codes),
                         hs, 1.5)
    Xd <- m$Xs
    Xd[, m$xc == 0L] <- m$Xs[, m$xc == 0L] * x
    Z <- cbind(D, D * x)
    S <- if (collapsed) kronecker(Sigma0, diag(G)) else matrix(0, 2 * G, 2 * G)
    dense_marginal(m$y, Xd, Z, s2, m$w, S, m$b_mean, m$b_sd) + log(decay * (1 - decay))
  }
  for (collapse in c(0L, -1L)) {
    m$collapse <- collapse
    f <- function(w) log_target(w, collapse == 0L)
    w_hat <- stats::optimize(f, c(-6, 6), maximum = TRUE, tol = 1e-10)$maximum
    h <- 1e-3
    sd_hat <- 1 / sqrt(-(f(w_hat + h) - 2 * f(w_hat) + f(w_hat - h)) / h^2)
    set.seed(1)
    res <- .Call(hbmmm:::C_hb_gibbs, m, c(gibbs_control(iter = 2, warmup = 1), list(mode_at = 0L)))
    # the state after one sweep: the search's centre and shape, which
    # warmup keeps until 25 draws of its window
    expect_lt(abs(res$state$mh_center[1] - w_hat), 0.02 * sd_hat)
    expect_lt(abs(res$state$mh_prop_chol[1] / sd_hat - 1), 0.02)
    if (collapse == 0L) {
      # a warmup of 120: the search runs at sweep 20 and again at sweep 96,
      # whose centre and shape the sampling phase keeps (the conditional
      # does not move here: everything else is pinned or integrated out;
      # a window's 100 draws would put the centre 0.1-0.2 sd off)
      set.seed(2)
      res <- .Call(hbmmm:::C_hb_gibbs, m, gibbs_control(iter = 130, warmup = 120))
      expect_lt(abs(res$state$mh_center[1] - w_hat), 0.02 * sd_hat)
      expect_lt(abs(res$state$mh_prop_chol[1] / sd_hat - 1), 0.02)
    }
  }
  # control$mode_at (a test setting: by default sweep 20 of a warmup
  # longer than 40) is checked
  expect_error(.Call(hbmmm:::C_hb_gibbs, m, c(gibbs_control(iter = 2, warmup = 1), list(mode_at = 5L))),
               class = "hbmmm_input_error", regexp = "mode_at")
})

test_that("the posterior of a group-level sd equals quadrature with the Metropolis steps on Sigma", {
  d <- small_panel()
  spec <- small_spec(sales ~ tv + (1 | market), media = "tv",
                     fixed_transforms = c(decay_tv = 0.5, halfsat_tv = stats::median(d$tv[d$tv > 0]), slope_tv = 1.5))
  s2 <- 0.8 * stats::var(d$sales) / 4
  m <- pinned_model(spec, s2)
  m["cell"] <- list(NULL) # rows, so that the term can be integrated out
  m$ncell <- 0L
  m$terms[[1]]$type <- 1L # diagonal inverse-gamma
  m$terms[[1]]$ig <- matrix(c(2, stats::var(d$sales) / 10), 2, 1)
  nm <- hbmmm:::draw_names(spec, m)
  X <- m$Xs
  X[, m$xc == 0L] <- X[, m$xc == 0L] * saturation_hill(
    adstock_geometric(spec$media_data[, "tv"], 0.5, normalize = as.logical(spec$transforms$normalize[["tv"]]),
                      group = spec$panel_codes),
    spec$transforms$pars$value[spec$transforms$pars$name == "halfsat_tv"], 1.5)
  G <- m$terms[[1]]$G
  Z <- outer(m$terms[[1]]$g + 1L, seq_len(G), `==`) * 1
  ig <- m$terms[[1]]$ig
  grid <- seq(0.01, 12, length.out = 600) * sqrt(ig[2] / ig[1])
  lp <- vapply(grid, function(s) {
    dense_marginal(m$y, X, Z, s2, m$w, diag(s^2, G), m$b_mean, m$b_sd) +
      # IG(a, b) on s^2, to the density of s
      (-(ig[1] + 1) * log(s^2) - ig[2] / s^2) + log(2 * s)
  }, 0)
  post <- exp(lp - max(lp))
  post <- post / sum(post)
  mu <- sum(grid * post)
  for (collapse in c(0L, -1L)) {
    m$collapse <- collapse
    res <- run_c_gibbs(m, 12000, 2000, seed = 5)
    x <- res$draws[, match("sd_market__Intercept", nm)]
    mcse <- hbmmm::mcse_mean(matrix(x))
    expect_lt(abs(mean(x) - mu), 4 * mcse + 1e-3 * mu)
  }
})

test_that("a continued collapsed chain equals one long run", {
  spec <- small_spec()
  m <- hbmmm:::mmm_model_list(spec)
  expect_identical(m$collapse, 0L)
  long <- run_c_gibbs(m, 60, 30, seed = 2)
  first <- run_c_gibbs(m, 40, 30, seed = 2)
  q <- m$terms[[1]]$q
  expect_length(first$state$collapse_log_step, q * (q + 1))
  more <- .Call(hbmmm:::C_hb_gibbs, c(m, list(init_state = first$state)), gibbs_control(iter = 20, warmup = 0))
  # equal up to rounding: the residual is rebuilt from the state, not carried
  expect_equal(rbind(first$draws, more$draws), long$draws, tolerance = 1e-8)
})

test_that("draws do not depend on the number of threads", {
  # 50 warmup sweeps: the media mode search (after 20) runs too
  skip_on_os("windows")
  d <- simulate_mmm(n_markets = 12, n_weeks = 30, seed = 4)$data
  fit_with <- function(threads) {
    quiet_sampling(hbmmm(sales ~ tv + search + (1 + tv | market), data = d, media = c("tv", "search"),
                         time = "week", chains = 1, iter = 100, seed = 9, refresh = 0, threads = threads))
  }
  one <- fit_with(1)
  two <- fit_with(2)
  expect_identical(one$draws, two$draws)
  expect_identical(hbmmm:::mmm_model_list(one$spec)$collapse, 0L)
})

test_that("threads are refused when invalid and dropped with a warning in forked chains", {
  args <- small_fit_args(iter = 20)
  expect_error(do.call(hbmmm, c(args, list(threads = 0))), class = "hbmmm_input_error", regexp = "threads")
  expect_error(do.call(hbmmm, c(args, list(threads = "2"))), class = "hbmmm_input_error", regexp = "threads")
  skip_on_os("windows")
  expect_warning(quiet_sampling(do.call(hbmmm, utils::modifyList(args, list(chains = 2, cores = 2, threads = 2)))),
                 class = "hbmmm_warning_threads")
})
