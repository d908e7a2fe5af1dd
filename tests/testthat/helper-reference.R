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
