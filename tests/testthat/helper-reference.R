# Plain-R reference implementations, written from the formulas in the docs
# and independent of the C kernels they check.

ref_weights <- function(type, par, L, normalize) {
  l <- 0:L
  w <- switch(type,
    geometric = par$decay^l,
    delayed = par$decay^((l - par$delay)^2),
    weibull_cdf = exp(-(l / par$scale)^par$shape),
    weibull_pdf = dweibull(l + 1, shape = par$shape, scale = par$scale)
  )
  if (normalize) w / sum(w) else w
}

# One series; par is a list of scalars.
ref_adstock_series <- function(x, type, par, L, normalize) {
  n <- length(x)
  out <- numeric(n)
  if (is.null(L)) { # infinite-memory geometric recursion
    a <- 0
    for (t in seq_len(n)) {
      a <- x[t] + par$decay * a
      out[t] <- if (normalize) (1 - par$decay) * a else a
    }
    return(out)
  }
  w <- ref_weights(type, par, L, normalize)
  for (t in seq_len(n)) {
    s <- 0
    for (l in 0:min(L, t - 1)) s <- s + w[l + 1] * x[t - l]
    out[t] <- s
  }
  out
}

# Matrix x (or vector); par is a list of per-column vectors; optional group.
ref_adstock <- function(x, type, par, L, normalize, group = NULL) {
  m <- as.matrix(x)
  out <- m
  if (is.null(group)) group <- rep(1, nrow(m))
  for (j in seq_len(ncol(m))) {
    pj <- lapply(par, function(p) rep_len(p, ncol(m))[j])
    for (g in unique(group)) {
      rows <- which(group == g)
      out[rows, j] <- ref_adstock_series(m[rows, j], type, pj, L, normalize)
    }
  }
  if (is.matrix(x)) out else drop(out)
}

ref_saturation <- function(x, type, par) {
  m <- as.matrix(x)
  out <- m
  for (j in seq_len(ncol(m))) {
    p <- lapply(par, function(v) rep_len(v, ncol(m))[j])
    v <- m[, j]
    out[, j] <- switch(type,
      hill = v^p$slope / (v^p$slope + p$halfsat^p$slope),
      logistic = (1 - exp(-p$lambda * v)) / (1 + exp(-p$lambda * v)),
      michaelis_menten = p$vmax * v / (p$k + v)
    )
  }
  if (is.matrix(x)) out else drop(out)
}

max_rel_err <- function(got, want) {
  max(abs(got - want)) / max(abs(want), .Machine$double.xmin)
}

# Central finite difference of f(par) with respect to par[[name]] (a vector:
# one column's entry at a time, assembled column by column).
fd_param <- function(f, par, name, ncol, rel_step = 1e-5) {
  cols <- lapply(seq_len(ncol), function(j) {
    up <- dn <- par
    v <- rep_len(par[[name]], ncol)
    h <- rel_step * max(abs(v[j]), 1e-3)
    up[[name]] <- replace(v, j, v[j] + h)
    dn[[name]] <- replace(v, j, v[j] - h)
    (as.matrix(f(up))[, j] - as.matrix(f(dn))[, j]) / (2 * h)
  })
  do.call(cbind, cols)
}

expect_input_error <- function(expr, arg) {
  cnd <- expect_error(expr, class = "hbmmm_input_error")
  expect_identical(cnd$arg, arg)
  expect_match(conditionMessage(cnd), paste0("`", arg, "`"), fixed = TRUE)
  invisible(cnd)
}

# PSIS-LOO per observation in plain R, from Vehtari et al. (2017, 2024) and
# Zhang & Stephens (2009): elpd_loo and the Pareto k of each column of an
# S x n log-likelihood matrix (the reference of src/psis.c).
ref_psis_loo <- function(ll, r_eff = rep(1, ncol(ll))) {
  lse <- function(x) { m <- max(x); m + log(sum(exp(x - m))) }
  gpd <- function(x) {
    x <- sort(x)
    n <- length(x)
    m <- 30 + floor(sqrt(n))
    xq <- x[floor(n / 4 + 0.5)]
    theta <- 1 / x[n] + (1 - sqrt(m / (seq_len(m) - 0.5))) / 3 / xq
    prof <- vapply(theta, function(th) { kk <- mean(log1p(-th * x)); log(-th / kk) - kk - 1 }, 0) * n
    th <- sum(theta * exp(prof - lse(prof)))
    k <- mean(log1p(-th * x))
    sigma <- -k / th
    k <- (k * n + 10 * 0.5) / (n + 10)
    list(k = if (is.nan(k)) Inf else k, sigma = sigma)
  }
  S <- nrow(ll)
  out <- t(vapply(seq_len(ncol(ll)), function(i) {
    lr <- -ll[, i]
    M <- ceiling(min(0.2 * S, 3 * sqrt(S / r_eff[i])))
    top <- max(lr)
    lw <- lr - top
    k <- Inf
    if (M >= 5) {
      ord <- order(lw)
      tail_idx <- ord[(S - M + 1):S]
      tail <- lw[tail_idx]
      if (max(tail) - min(tail) >= .Machine$double.eps / 100) {
        cutoff <- lw[ord[S - M]]
        fit <- gpd(exp(tail) - exp(cutoff))
        k <- fit$k
        if (is.finite(k)) {
          p <- (seq_len(M) - 0.5) / M
          q <- if (is.nan(fit$sigma) || fit$sigma <= 0) NaN else fit$sigma * expm1(-k * log1p(-p)) / k
          lw[tail_idx] <- log(q + exp(cutoff))
        }
      }
    }
    lw[lw > 0] <- 0
    lw <- lw + top
    lw <- lw - lse(lw)
    c(elpd = lse(lw + ll[, i]), k = k)
  }, numeric(2)))
  out
}
