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
