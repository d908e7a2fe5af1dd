# Every transform against the plain-R references in helper-reference.R.

set.seed(20261123)
rmedia <- function(n, k = 1) {
  # spend with zeros (weeks off air) and a wide range of magnitudes
  v <- rexp(n * k, 1 / 50) * rbinom(n * k, 1, 0.7)
  if (k == 1) v else matrix(v, n, k, dimnames = list(NULL, paste0("ch", seq_len(k))))
}

adstock_cases <- list(
  list(fun = "geometric", L = NULL, par = list(decay = c(0.3, 0.85, 0))),
  list(fun = "geometric", L = 9, par = list(decay = c(0.3, 0.85, 0.6))),
  list(fun = "delayed", L = 13, par = list(decay = c(0.4, 0.9, 0.7), delay = c(0, 2.5, 6))),
  list(fun = "weibull_cdf", L = 13, par = list(shape = c(0.7, 2, 4), scale = c(1.5, 4, 9))),
  list(fun = "weibull_pdf", L = 13, par = list(shape = c(0.7, 2, 4), scale = c(1.5, 4, 9)))
)

call_adstock <- function(x, fun, par, L, normalize, group = NULL) {
  switch(fun,
    geometric = adstock_geometric(x, par$decay, max_lag = L, normalize = normalize, group = group),
    delayed = adstock_delayed(x, par$decay, par$delay, max_lag = L, normalize = normalize, group = group),
    weibull_cdf = adstock_weibull(x, par$shape, par$scale, max_lag = L, type = "cdf",
                                  normalize = normalize, group = group),
    weibull_pdf = adstock_weibull(x, par$shape, par$scale, max_lag = L, type = "pdf",
                                  normalize = normalize, group = group)
  )
}

test_that("adstock equals the reference on vectors, matrices and interleaved groups", {
  for (cs in adstock_cases) for (normalize in c(FALSE, TRUE)) {
    label <- sprintf("%s L=%s normalize=%s", cs$fun, format(cs$L), normalize)
    # vector, first parameter set
    x <- rmedia(60)
    p1 <- lapply(cs$par, `[`, 1)
    got <- call_adstock(x, cs$fun, p1, cs$L, normalize)
    expect_lt(max_rel_err(got, ref_adstock(x, cs$fun, p1, cs$L, normalize)), 1e-12)
    # matrix with per-column parameters
    X <- rmedia(45, 3)
    got <- call_adstock(X, cs$fun, cs$par, cs$L, normalize)
    expect_equal(dimnames(got), dimnames(X), label = label)
    expect_lt(max_rel_err(got, ref_adstock(X, cs$fun, cs$par, cs$L, normalize)), 1e-12)
    # several groups, rows interleaved (a panel stacked by week)
    g <- rep(c("north", "south", "east", "west"), length.out = 45)
    got <- call_adstock(X, cs$fun, cs$par, cs$L, normalize, group = g)
    expect_lt(max_rel_err(got, ref_adstock(X, cs$fun, cs$par, cs$L, normalize, g)), 1e-12)
    # groups in blocks (the in-place path) agree with the same reference
    gb <- sort(g)
    got <- call_adstock(X, cs$fun, cs$par, cs$L, normalize, group = gb)
    expect_lt(max_rel_err(got, ref_adstock(X, cs$fun, cs$par, cs$L, normalize, gb)), 1e-12)
  }
})

test_that("saturation equals the reference on vectors and matrices", {
  cases <- list(
    list(f = function(x, p) saturation_hill(x, p$halfsat, p$slope), type = "hill",
         par = list(halfsat = c(20, 60, 150), slope = c(0.6, 1, 3.5))),
    list(f = function(x, p) saturation_logistic(x, p$lambda), type = "logistic",
         par = list(lambda = c(0.001, 0.02, 0.5))),
    list(f = function(x, p) saturation_michaelis_menten(x, p$vmax, p$k),
         type = "michaelis_menten", par = list(vmax = c(1, 250, 3), k = c(10, 80, 400)))
  )
  for (cs in cases) {
    x <- rmedia(200)
    p1 <- lapply(cs$par, `[`, 2)
    expect_lt(max_rel_err(cs$f(x, p1), ref_saturation(x, cs$type, p1)), 1e-12)
    X <- rmedia(100, 3)
    got <- cs$f(X, cs$par)
    expect_equal(dimnames(got), dimnames(X))
    expect_lt(max_rel_err(got, ref_saturation(X, cs$type, cs$par)), 1e-12)
  }
  # Hill is exactly one half at the half-saturation point, 0 at 0
  expect_equal(saturation_hill(c(0, 40), halfsat = 40, slope = 2.7), c(0, 0.5))
})

test_that("the Hill kernel and its derivatives equal plain R over the whole input range", {
  # the kernel computes log and exp inline (vectorized) where they hold,
  # and with libm elsewhere: subnormal and huge inputs, |s (log h - log x)|
  # > 708 (r overflows or underflows); those rows sit between ordinary
  # ones, and lengths are not multiples of the vector width
  set.seed(3)
  x <- c(0, 1e-320, 0.5, .Machine$double.xmin, 1e-300, 1e-10, exp(runif(997, -30, 30)), 1e300,
         .Machine$double.xmax, 7)
  x <- x[sample.int(length(x))]
  for (h in c(1e-3, 0.7, 40, 1e5)) for (s in c(0.3, 1, 2.7, 40)) {
    lx <- log(x)
    r <- exp(s * (log(h) - lx))
    y <- 1 / (1 + r)
    q <- ifelse(is.finite(r), r * y * y, 0) # y (1 - y)
    pos <- x > 0
    ref <- list(value = ifelse(pos, y, 0), halfsat1 = ifelse(pos, -s * q / h, 0),
                slope1 = ifelse(pos, q * (lx - log(h)), 0),
                x = ifelse(pos, s * q / x, if (s > 1) 0 else if (s == 1) 1 / h else Inf))
    got <- saturation_hill_mixture(x, h, s, 1, deriv = TRUE)
    for (nm in names(ref)) {
      fin <- is.finite(ref[[nm]])
      expect_identical(is.finite(got[[nm]]), fin, label = sprintf("%s (h %g, s %g) finite", nm, h, s))
      expect_identical(got[[nm]][!fin], ref[[nm]][!fin])
      err <- max(abs(got[[nm]] - ref[[nm]])[fin] / pmax(abs(ref[[nm]][fin]), 1e-300))
      expect_lt(err, 1e-12, label = sprintf("%s (h %g, s %g): %.1e", nm, h, s, err))
    }
    expect_lt(max_rel_err(saturation_hill(x, h, s), ref$value), 1e-12)
  }
})

test_that("adstock_weights match the reference weights", {
  for (cs in adstock_cases[-1]) for (normalize in c(FALSE, TRUE)) {
    p1 <- lapply(cs$par, `[`, 2)
    w <- do.call(adstock_weights, c(list(cs$fun), p1, list(max_lag = cs$L, normalize = normalize)))
    expect_named(w, paste0("lag", 0:cs$L))
    expect_lt(max_rel_err(unname(w), ref_weights(cs$fun, p1, cs$L, normalize)), 1e-12)
  }
  expect_input_error(adstock_weights("delayed", decay = 0.5), "...")
  expect_input_error(adstock_weights("bogus", decay = 0.5), "type")
})

test_that("shapes, names and coercions behave as a user expects", {
  x <- c(a = 1, b = 0, c = 2)
  expect_named(adstock_geometric(x, 0.5), c("a", "b", "c"))
  expect_named(saturation_hill(x, 1, 1), c("a", "b", "c"))
  # integer input, data frame input
  expect_equal(adstock_geometric(1:4, 0.5), adstock_geometric(as.double(1:4), 0.5))
  df <- data.frame(tv = c(1, 0, 3), radio = c(0, 2, 0))
  expect_equal(adstock_geometric(df, c(0.5, 0.2)), adstock_geometric(as.matrix(df), c(0.5, 0.2)))
  # named per-column parameters are matched to column names
  m <- as.matrix(df)
  expect_equal(adstock_geometric(m, c(radio = 0.2, tv = 0.5)), adstock_geometric(m, c(0.5, 0.2)))
  # a matrix equals its columns transformed one by one
  expect_equal(saturation_hill(m, c(1, 2), c(2, 1))[, "radio"], saturation_hill(m[, "radio"], 2, 1))
  # empty input, max_lag = 0, normalized infinite memory keeps a constant level
  expect_identical(adstock_geometric(numeric(0), 0.5), numeric(0))
  expect_equal(adstock_delayed(c(3, 4), 0.5, 0, max_lag = 0), c(3, 4))
  expect_equal(adstock_geometric(rep(5, 400), 0.7, normalize = TRUE)[400], 5)
})

test_that("long lags use windows that agree with one pass", {
  # max_lag = 100000 makes the C code convolve in windows of ~500 rows
  x <- rmedia(1800)
  got <- adstock_geometric(x, 0.995, max_lag = 100000, normalize = TRUE)
  w <- 0.995^(0:1799) / sum(0.995^(0:100000))
  want <- vapply(seq_along(x), function(t) sum(w[seq_len(t)] * x[t:1]), numeric(1))
  expect_lt(max_rel_err(got, want), 1e-12)
})

test_that("adstock derivatives equal central finite differences", {
  for (cs in adstock_cases) for (normalize in c(FALSE, TRUE)) {
    X <- rmedia(40, 3)
    g <- rep(1:3, length.out = 40)
    par <- cs$par
    if (cs$fun %in% c("geometric", "delayed")) par$decay <- c(0.3, 0.85, 0.6)
    if (cs$fun == "delayed") par$delay <- c(0.5, 2.5, 6)
    L <- cs$L
    f <- function(p) hbmmm:::adstock_apply(X, cs$fun, p, L, normalize, g)
    jac <- hbmmm:::adstock_jacobian(X, cs$fun, par, L, normalize, g)
    expect_equal(jac$value, f(par))
    for (nm in names(par)) {
      fd <- fd_param(f, par, nm, 3)
      err <- max_rel_err(unname(jac[[nm]]), unname(fd))
      expect_lt(err, 1e-6, label = sprintf("d/d%s of %s (normalize = %s): %g", nm, cs$fun, normalize, err))
    }
  }
})

test_that("saturation derivatives equal central finite differences", {
  cases <- list(
    list(type = "hill", par = list(halfsat = c(20, 60, 150), slope = c(0.6, 1, 3.5))),
    list(type = "logistic", par = list(lambda = c(0.001, 0.02, 0.5))),
    list(type = "michaelis_menten", par = list(vmax = c(1, 250, 3), k = c(10, 80, 400)))
  )
  for (cs in cases) {
    X <- rmedia(50, 3) + 0.5 # strictly positive, so d/dx exists for slope < 1
    f <- function(p, x = X) hbmmm:::saturation_apply(x, cs$type, p)
    jac <- hbmmm:::saturation_jacobian(X, cs$type, cs$par)
    for (nm in names(cs$par)) {
      err <- max_rel_err(unname(jac[[nm]]), unname(fd_param(f, cs$par, nm, 3)))
      expect_lt(err, 1e-6, label = sprintf("d/d%s of %s: %g", nm, cs$type, err))
    }
    h <- 1e-5 * X
    fdx <- (f(cs$par, X + h) - f(cs$par, X - h)) / (2 * h)
    err <- max_rel_err(unname(jac$x), unname(fdx))
    expect_lt(err, 1e-6, label = sprintf("d/dx of %s: %g", cs$type, err))
  }
})

test_that("the model's media path (Hill applied in place) equals plain R for steep curves far from their half-saturation", {
  # rows with |slope * log(halfsat / x)| > 708 leave the vectorized log/exp
  # and are redone with libm: the model applies the curve in place on the
  # adstocked column, so the second pass must still see the inputs
  set.seed(4)
  n <- 600
  d <- data.frame(week = seq_len(n), tv = c(exp(runif(n / 2, -8, 0)), exp(runif(n / 2, 0, 3))) * 10)
  d$sales <- 100 + 2 * d$tv + rnorm(n)
  fit <- suppressWarnings(hbmmm(sales ~ tv, data = d, media = "tv", time = "week", chains = 1, iter = 40,
                                seed = 1, refresh = 0))
  m <- as.matrix(fit)[1:2, , drop = FALSE]
  m[, "decay_tv"] <- c(0.001, 0.3)
  m[, "slope_tv"] <- c(150, 400)
  m[, "halfsat_tv"] <- c(5, 12)
  tot <- asNamespace("hbmmm")$channel_totals(fit, m, step = 0)$at[, "tv"]
  ref <- vapply(1:2, function(s) {
    dec <- m[s, "decay_tv"]
    a <- stats::filter(d$tv, dec, method = "recursive") * (1 - dec)
    y <- ifelse(a > 0, 1 / (1 + exp(m[s, "slope_tv"] * (log(m[s, "halfsat_tv"]) - log(a)))), 0)
    m[s, "b_tv"] * sum(y)
  }, 0)
  expect_equal(unname(tot), ref, tolerance = 1e-10)
})
