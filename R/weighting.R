# Inverse-probability and overlap weights from propensity scores (computed
# in C, src/propensity.c: hb_ps_weights).

#' Propensity score weights
#'
#' Turns propensity scores `e` into balancing weights for treated (`T = 1`)
#' and control units:
#' \describe{
#'   \item{`"ATE"`}{`T / e + (1 - T) / (1 - e)` (inverse probability weights);
#'     with `stabilize = TRUE`, multiplied by the share of the unit's group,
#'     `P(T = 1)` or `P(T = 0)`, so that they average about one.}
#'   \item{`"ATT"`}{`T + (1 - T) e / (1 - e)`.}
#'   \item{`"ATC"`}{`T (1 - e) / e + (1 - T)`.}
#'   \item{`"ATO"`}{overlap weights `T (1 - e) + (1 - T) e`, which target the
#'     population with the most overlap and balance the covariate means of
#'     the propensity model exactly.}
#' }
#' Stabilization only changes the ATE weights (the others are already ratios
#' of probabilities).
#'
#' Trimming guards against extreme weights: with `trim_method = "threshold"`
#' and `trim = a` (in `(0, 0.5)`), units with scores outside `[a, 1 - a]`
#' get weight zero (Crump et al., 2009); with `trim_method = "quantile"` and
#' `trim = q` (in `[0.5, 1)`), weights above their `q` quantile within each
#' treatment group are set to that quantile (truncation).
#'
#' @param x An `hbmmm_ps` object from [propensity_score()], or a formula
#'   `treatment ~ covariates`.
#' @param data With a formula: the data frame. Ignored otherwise.
#' @param estimand `"ATE"`, `"ATT"`, `"ATC"` or `"ATO"` (overlap).
#' @param stabilize Stabilize ATE weights?
#' @param trim `NULL` (no trimming) or one number; see Details.
#' @param trim_method `"threshold"` or `"quantile"`.
#' @return An object of class `hbmmm_weight`: `weights` (one per row), `ess`
#'   (effective sample sizes `(sum w)^2 / sum w^2` by group, before and after
#'   weighting), `trimmed` (number of units dropped or truncated), `estimand`,
#'   `treat`, `ps` and `data`.
#' @seealso [balance()], [estimate_effect()]; `hbmmm(weights = )` fits the
#'   hierarchical model on the weighted pseudo-population.
#' @examples
#' sim <- simulate_confounded(n = 1000, seed = 1)
#' ps <- propensity_score(treat ~ age + income + loyal, data = sim$data)
#' w <- ps_weight(ps, estimand = "ATE", stabilize = TRUE)
#' w
#' balance(w)
#' ps_weight(ps, estimand = "ATE", trim = 0.05)$trimmed
#' @export
ps_weight <- function(x, data = NULL, estimand = c("ATE", "ATT", "ATC", "ATO"), stabilize = FALSE,
                      trim = NULL, trim_method = c("threshold", "quantile")) {
  call <- match.call()
  ps <- as_ps(x, data)
  estimand <- match_choice(estimand, c("ATE", "ATT", "ATC", "ATO"), "estimand")
  stabilize <- check_flag(stabilize, "stabilize")
  trim_method <- match_choice(trim_method, c("threshold", "quantile"), "trim_method")
  e <- ps$score
  t <- ps$treat
  if (!is.null(trim) && (!is.numeric(trim) || length(trim) != 1L || !is.finite(trim))) {
    abort_input("trim", sprintf("must be NULL or one number; found %s", describe_value(trim)))
  }
  threshold <- !is.null(trim) && trim_method == "threshold"
  if (threshold && (trim <= 0 || trim >= 0.5)) {
    abort_input("trim", sprintf("with trim_method = \"threshold\" must be in (0, 0.5); found %s", describe_value(trim)))
  }
  code <- match(estimand, c("ATE", "ATT", "ATC", "ATO"))
  w <- .Call(C_hb_ps_weights, as.double(e), as.integer(t), code, stabilize,
             if (threshold) as.double(trim) else NA_real_)
  trimmed <- 0L
  if (!is.null(trim)) {
    if (threshold) {
      trimmed <- sum(e < trim | e > 1 - trim)
      for (g in 0:1) {
        if (!any(w[t == g] > 0)) {
          abort(sprintf("Invalid `trim`: trimming scores outside [%s, %s] leaves no %s unit", format(trim),
                        format(1 - trim), if (g == 1L) "treated" else "control"),
                class = c("hbmmm_empty_group_error", "hbmmm_input_error"), arg = "trim")
        }
      }
    } else {
      if (trim < 0.5 || trim >= 1) {
        abort_input("trim", sprintf("with trim_method = \"quantile\" must be in [0.5, 1); found %s", describe_value(trim)))
      }
      for (g in 0:1) {
        r <- t == g
        cap <- stats::quantile(w[r], trim, names = FALSE, type = 7)
        trimmed <- trimmed + sum(w[r] > cap)
        w[r] <- pmin(w[r], cap)
      }
    }
  }
  ess <- rbind(before = c(treated = sum(t == 1L), control = sum(t == 0L)),
               after = c(treated = ess_of(w[t == 1L]), control = ess_of(w[t == 0L])))
  structure(list(weights = w, ess = ess, trimmed = trimmed, estimand = estimand, stabilize = stabilize,
                 trim = trim, trim_method = trim_method, treat = t, ps = ps, data = ps$data, call = call),
            class = "hbmmm_weight")
}

ess_of <- function(w) if (any(w > 0)) sum(w)^2 / sum(w^2) else 0

#' @rdname ps_weight
#' @param digits Significant digits.
#' @param ... Ignored.
#' @export
print.hbmmm_weight <- function(x, digits = 3, ...) {
  cat(sprintf("<hbmmm_weight> %s weights%s for %d treated and %d control units\n", x$estimand,
              if (x$stabilize && x$estimand == "ATE") " (stabilized)" else "", sum(x$treat == 1L), sum(x$treat == 0L)))
  if (!is.null(x$trim)) {
    cat(sprintf("  trimming (%s %s): %d unit(s) %s\n", x$trim_method, format(x$trim), x$trimmed,
                if (x$trim_method == "threshold") "dropped" else "truncated"))
  }
  r <- tapply(x$weights, x$treat, range)
  cat(sprintf("  weight range: treated [%s, %s], control [%s, %s]\n", format(r[["1"]][1], digits = digits),
              format(r[["1"]][2], digits = digits), format(r[["0"]][1], digits = digits), format(r[["0"]][2], digits = digits)))
  cat("  effective sample sizes:\n")
  print(round(x$ess, 1))
  invisible(x)
}
