# The NUTS MMM density through its test entry points: value, analytic
# gradient and central finite differences at an over-dispersed random point.
mmm_density <- function(spec, centered = FALSE) {
  ns <- asNamespace("hbmmm")
  model <- ns$mmm_model_list(spec)
  opts <- ns$nuts_model_options(spec, centered)
  info <- .Call(ns$C_hb_mmm_info, model, opts)
  list(info = info,
       eval = function(th) .Call(ns$C_hb_mmm_logp, model, opts, th),
       start = function(seed) {
         set.seed(seed)
         info$init + stats::runif(info$dim, -1, 1) * info$spread
       })
}

# Largest relative error (floor 1 on the scale) between the analytic
# gradient and central differences.
grad_error <- function(spec, centered = FALSE, seed = 1) {
  d <- mmm_density(spec, centered)
  th <- d$start(seed)
  r <- d$eval(th)
  stopifnot(isTRUE(r$ok))
  num <- vapply(seq_along(th), function(i) {
    # five-point stencil: truncation error O(h^4)
    h <- 1e-3 * max(1, abs(th[i]))
    at <- function(k) {
      x <- th
      x[i] <- x[i] + k * h
      d$eval(x)$lp
    }
    (-at(2) + 8 * at(1) - 8 * at(-1) + at(-2)) / (12 * h)
  }, 0)
  max(abs(num - r$grad) / pmax(1, abs(num)))
}

# Posterior means of NUTS and Gibbs agree within Monte Carlo error (z-scores
# with both MCSEs) and so do posterior spreads, as interquartile ranges
# within 30%: the sd of a heavy-tailed posterior (a Hill half-saturation, the
# sd of 4 markets' intercepts) moves with one excursion into its tail, and
# with a few hundred effective draws NUTS makes one with seed 1 on
# test-nuts-mmm.R's simulated MMM (sd 76, against 46-53 with seeds 2-3 and
# 52 from 80,000 Gibbs draws).
expect_samplers_agree <- function(fn, fg, vars = dimnames(fn$draws)[[3]], zmax = 4.5) {
  for (v in vars) {
    a <- fn$draws[, , v]
    b <- fg$draws[, , v]
    z <- (mean(a) - mean(b)) / sqrt(mcse_mean(a)^2 + mcse_mean(b)^2)
    expect_lt(abs(z), zmax, label = sprintf("%s: NUTS %.4g vs Gibbs %.4g, z = %.2f", v, mean(a), mean(b), z))
    expect_lt(abs(log(stats::IQR(a) / stats::IQR(b))), log(1.3),
              label = sprintf("%s: posterior IQR NUTS %.4g vs Gibbs %.4g", v, stats::IQR(a), stats::IQR(b)))
  }
}
