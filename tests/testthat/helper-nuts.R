# Plain-R reference for the NUTS engine and shared targets for test-nuts.R.
#
# ref_nuts_chain() runs NUTS transitions with a fixed step size and inverse
# metric (no adaptation), written from Betancourt (2017, appendix A) and the
# description of Stan's sampler: multinomial sampling inside subtrees, biased
# progressive sampling at the top, generalized U-turn checks including the
# two across merged halves, divergence when H - H0 > 1000. It draws its
# random numbers in the same order as the C engine (momentum: d normals;
# then one uniform per doubling for the direction and one per merge when the
# new half does not dominate), so with the same stream both give the same
# chain.

ref_nuts_chain <- function(lp, gr, theta, eps, minv, n, max_depth = 10) {
  dense <- is.matrix(minv)
  msharp <- function(p) if (dense) as.vector(minv %*% p) else minv * p
  U <- if (dense) chol(minv) else NULL # minv = U'U
  kin <- function(p) 0.5 * sum(p * msharp(p))
  ham <- function(z) {
    if (!is.finite(z$lp)) return(Inf)
    h <- kin(z$p) - z$lp
    if (is.nan(h)) Inf else h
  }
  lse <- function(a, b) {
    if (a == -Inf) return(b)
    if (b == -Inf) return(a)
    max(a, b) + log1p(exp(-abs(a - b)))
  }
  evalz <- function(q, p) {
    l <- lp(q)
    if (!is.finite(l)) return(list(q = q, p = p, g = rep(NA, length(q)), lp = -Inf))
    g <- gr(q)
    if (!all(is.finite(g))) return(list(q = q, p = p, g = g, lp = -Inf))
    list(q = q, p = p, g = g, lp = l)
  }
  step <- function(z, e) {
    p <- z$p + 0.5 * e * z$g
    q <- z$q + e * msharp(p)
    z2 <- evalz(q, p)
    if (is.finite(z2$lp)) z2$p <- p + 0.5 * e * z2$g
    z2
  }
  uturn_ok <- function(a, b, rho) sum(a * rho) > 0 && sum(b * rho) > 0
  # subtree of 2^depth steps from z in direction sgn
  tree <- function(z, depth, sgn, H0) {
    if (depth == 0) {
      z1 <- step(z, sgn * eps)
      h <- ham(z1)
      ps <- msharp(z1$p)
      return(list(z = z1, prop = z1, valid = !(h - H0 > 1000), lw = H0 - h,
                  mp = if (H0 - h > 0) 1 else exp(H0 - h), nl = 1, rho = z1$p,
                  p_beg = z1$p, p_end = z1$p, ps_beg = ps, ps_end = ps))
    }
    a <- tree(z, depth - 1, sgn, H0)
    if (!a$valid) return(a)
    b <- tree(a$z, depth - 1, sgn, H0)
    out <- list(z = b$z, valid = FALSE, mp = a$mp + b$mp, nl = a$nl + b$nl)
    if (!b$valid) return(out)
    lw <- lse(a$lw, b$lw)
    prop <- a$prop
    if (b$lw > lw || stats::runif(1) < exp(b$lw - lw)) prop <- b$prop
    rho <- a$rho + b$rho
    ok <- uturn_ok(a$ps_beg, b$ps_end, rho) &&
      uturn_ok(a$ps_beg, b$ps_beg, a$rho + b$p_beg) &&
      uturn_ok(a$ps_end, b$ps_end, b$rho + a$p_end)
    c(out[c("z", "mp", "nl")], list(prop = prop, valid = ok, lw = lw, rho = rho,
                                     p_beg = a$p_beg, p_end = b$p_end,
                                     ps_beg = a$ps_beg, ps_end = b$ps_end))
  }
  d <- length(theta)
  cur <- evalz(theta, rep(0, d))
  out <- matrix(NA_real_, n, d)
  diag <- matrix(NA_real_, n, 6, dimnames = list(NULL, c("accept_stat", "stepsize", "treedepth", "n_leapfrog", "divergent", "energy")))
  for (it in seq_len(n)) {
    u <- stats::rnorm(d)
    cur$p <- if (dense) backsolve(U, u) else u / sqrt(minv)
    H0 <- ham(cur)
    # the trajectory: backward end (bck) and forward end (fwd), with
    # momenta and sharp momenta at the ends of the two halves last merged
    fwd <- bck <- cur
    ps0 <- msharp(cur$p)
    ends <- list(p_bb = cur$p, ps_bb = ps0, p_bf = cur$p, ps_bf = ps0,
                 p_fb = cur$p, ps_fb = ps0, p_ff = cur$p, ps_ff = ps0)
    rho <- cur$p
    lw <- 0
    sample <- cur
    nl <- 0
    mp <- 0
    depth <- 0
    div <- FALSE
    while (depth < max_depth) {
      if (stats::runif(1) > 0.5) {
        t <- tree(fwd, depth, 1, H0)
        fwd <- t$z
        rho_b <- rho
        ends$p_bf <- ends$p_ff
        ends$ps_bf <- ends$ps_ff
        rho_f <- if (t$valid) t$rho
        if (t$valid) {
          ends$p_fb <- t$p_beg; ends$ps_fb <- t$ps_beg
          ends$p_ff <- t$p_end; ends$ps_ff <- t$ps_end
        }
      } else {
        t <- tree(bck, depth, -1, H0)
        bck <- t$z
        rho_f <- rho
        ends$p_fb <- ends$p_bb
        ends$ps_fb <- ends$ps_bb
        rho_b <- if (t$valid) t$rho
        if (t$valid) {
          ends$p_bf <- t$p_beg; ends$ps_bf <- t$ps_beg
          ends$p_bb <- t$p_end; ends$ps_bb <- t$ps_end
        }
      }
      nl <- nl + t$nl
      mp <- mp + t$mp
      if (!t$valid) {
        div <- ham(t$z) - H0 > 1000
        break
      }
      depth <- depth + 1
      if (t$lw > lw || stats::runif(1) < exp(t$lw - lw)) sample <- t$prop
      lw <- lse(lw, t$lw)
      rho <- rho_b + rho_f
      ok <- uturn_ok(ends$ps_bb, ends$ps_ff, rho) &&
        uturn_ok(ends$ps_bb, ends$ps_fb, rho_b + ends$p_fb) &&
        uturn_ok(ends$ps_bf, ends$ps_ff, rho_f + ends$p_bf)
      if (!ok) break
    }
    diag[it, ] <- c(mp / nl, eps, depth, nl, div, ham(sample))
    cur <- sample
    out[it, ] <- cur$q
  }
  list(draws = out, diag = diag)
}

# Correlated Gaussian target: sds spanning three orders of magnitude and
# moderate correlations from three random factors (for d = 100: |r| up to
# 0.87, mean 0.31; the correlation matrix has condition number about 400).
gauss_target <- function(d, sd_range = c(0.01, 10), seed = 11) {
  old <- hbmmm:::save_rng()
  on.exit(old())
  set.seed(seed)
  sds <- exp(seq(log(sd_range[1]), log(sd_range[2]), length.out = d))
  B <- matrix(stats::rnorm(d * 3), d)
  R <- stats::cov2cor(tcrossprod(B) + diag(d))
  S <- R * outer(sds, sds)
  P <- solve(S)
  list(d = d, sds = sds, S = S, mean = seq(-1, 1, length.out = d),
       log_density = function(x) { r <- x - seq(-1, 1, length.out = d); -0.5 * sum(r * (P %*% r)) },
       grad = function(x) -as.vector(P %*% (x - seq(-1, 1, length.out = d))))
}

# z-scores of posterior means and variances of a fit against the truth,
# with MCSEs from the package's diagnostics (variance: MCSE of the mean of
# the squared centred draws).
moment_z <- function(fit, mean, var) {
  dr <- fit$draws
  d <- dim(dr)[3]
  zm <- zv <- numeric(d)
  for (j in seq_len(d)) {
    x <- dr[, , j]
    zm[j] <- (mean(x) - mean[j]) / mcse_mean(x)
    y <- (x - mean[j])^2
    zv[j] <- (mean(y) - var[j]) / mcse_mean(y)
  }
  list(mean = zm, var = zv)
}

# NUTS on N(mean, S) with the log density in C (no R callbacks: fast enough
# for 100-d targets in the default suite), through the shared chain runner.
nuts_mvn_c <- function(mean, S, init = rep(0, length(mean)), iter = 1000, warmup = floor(iter / 2),
                       chains = 2, seed = 1, metric = "diag", adapt_delta = 0.8, max_treedepth = 10,
                       cores = 1, thin = 1) {
  ctl <- hbmmm:::check_run_control(chains, iter, warmup, thin, cores, 0, seed)
  nctl <- hbmmm:::check_nuts_control(metric, adapt_delta, max_treedepth, dim = length(mean))
  P <- solve(S)
  P <- (P + t(P)) / 2
  t0 <- proc.time()[["elapsed"]]
  runs <- hbmmm:::run_nuts_chains(function(i, control) {
    .Call(hbmmm:::C_hb_test_nuts_mvn, as.double(mean), P, as.double(init), control)
  }, ctl, nctl)
  hbmmm:::new_nuts_fit(runs, sprintf("x[%d]", seq_along(mean)), ctl, nctl,
                       proc.time()[["elapsed"]] - t0)
}
