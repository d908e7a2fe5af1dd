# Covariate balance before and after matching or weighting: standardized
# mean differences, variance ratios and eCDF differences with the
# conventions of MatchIt and cobalt; love plots.

#' Covariate balance before and after matching or weighting
#'
#' For each covariate, compares treated and control units in the original
#' sample ("before") and in the matched or weighted sample ("after"):
#' \describe{
#'   \item{standardized mean difference}{(treated mean - control mean) / s,
#'     where s is always computed in the original, unadjusted sample: the
#'     treated group's standard deviation for the ATT, the control group's for
#'     the ATC, and `sqrt((s1^2 + s0^2) / 2)` for the ATE and the overlap
#'     estimand (MatchIt's and cobalt's conventions). Binary (0/1) covariates
#'     use `p (1 - p)` as variance. After matching or weighting, means are
#'     weighted.}
#'   \item{variance ratio}{weighted treated over control variance, with
#'     weights normalized to sum to one and the unbiased correction
#'     `1 / (1 - sum(w^2))`; not defined for binary covariates.}
#'   \item{eCDF differences}{mean and maximum over the distinct values (in
#'     the whole sample, as MatchIt) of the absolute difference between the (weighted) empirical distribution
#'     functions of the two groups; for binary covariates both equal the
#'     absolute difference in proportions.}
#' }
#' Factor covariates contribute one 0/1 column per level. A covariate is
#' flagged as imbalanced when the absolute standardized mean difference after
#' adjustment exceeds `threshold`.
#'
#' @param x An `hbmmm_match` ([ps_match()]), `hbmmm_weight` ([ps_weight()])
#'   or `hbmmm_ps` ([propensity_score()], "before" only, ATE denominators).
#' @param covariates `NULL` (the covariates of the propensity model) or
#'   names of columns of the data to assess instead.
#' @param threshold Absolute standardized mean difference above which a
#'   covariate is flagged.
#' @return An object of class `hbmmm_balance`: `table`, a data frame with one
#'   row per covariate (`variable`, `binary`, `mean_treated_before`,
#'   `mean_control_before`, `smd_before`, `var_ratio_before`,
#'   `ecdf_mean_before`, `ecdf_max_before`, the same `_after`, and
#'   `imbalanced`), the `estimand`, the `threshold` and the sample sizes
#'   `n` (counts and effective sizes by group). `plot()` draws a love plot.
#' @seealso [ps_match()], [ps_weight()].
#' @examples
#' sim <- simulate_confounded(n = 1000, seed = 1)
#' ps <- propensity_score(treat ~ age + income + loyal + region, data = sim$data)
#' b <- balance(ps_weight(ps, estimand = "ATE"))
#' b
#' plot(b)
#' @export
balance <- function(x, covariates = NULL, threshold = 0.1) {
  if (!inherits(x, c("hbmmm_match", "hbmmm_weight", "hbmmm_ps"))) {
    abort_input("x", sprintf("must come from ps_match(), ps_weight() or propensity_score(); found %s", describe_value(x)))
  }
  if (!is.numeric(threshold) || length(threshold) != 1L || !is.finite(threshold) || threshold <= 0) {
    abort_input("threshold", sprintf("must be one positive number; found %s", describe_value(threshold)))
  }
  ps <- if (inherits(x, "hbmmm_ps")) x else x$ps
  data <- ps$data
  X <- if (is.null(covariates)) ps$covariates else {
    if (!is.character(covariates) || !length(covariates) || anyNA(covariates)) {
      abort_input("covariates", sprintf("must be NULL or column names; found %s", describe_value(covariates)))
    }
    miss <- setdiff(covariates, names(data))
    if (length(miss)) {
      abort_input("covariates", sprintf("column `%s` is not in the data%s", miss[1], suggest_name(miss[1], names(data))))
    }
    check_complete(data, covariates)
    covariate_matrix(data[covariates])
  }
  t <- ps$treat
  estimand <- if (inherits(x, "hbmmm_ps")) "ATE" else x$estimand
  w <- if (inherits(x, "hbmmm_ps")) NULL else x$weights
  rows <- lapply(seq_len(ncol(X)), function(j) balance_one(X[, j], t, w, estimand))
  tab <- data.frame(variable = colnames(X), do.call(rbind, rows), check.names = FALSE, stringsAsFactors = FALSE)
  tab$binary <- as.logical(tab$binary)
  if (!is.null(w)) tab$imbalanced <- abs(tab$smd_after) > threshold
  else tab$imbalanced <- abs(tab$smd_before) > threshold
  rownames(tab) <- NULL
  n <- rbind(all = c(treated = sum(t == 1L), control = sum(t == 0L)))
  if (!is.null(w)) {
    n <- rbind(n, matched = c(treated = sum(w[t == 1L] > 0), control = sum(w[t == 0L] > 0)),
               effective = c(treated = ess_of(w[t == 1L]), control = ess_of(w[t == 0L])))
  }
  structure(list(table = tab, estimand = estimand, threshold = threshold, n = n, adjusted = !is.null(w),
                 method = class(x)[1]),
            class = "hbmmm_balance")
}

# Weighted variance as in MatchIt/cobalt: normalized weights, unbiased
# correction; p (1 - p) for binary variables.
bal_wvar <- function(x, w, binary) {
  w <- w / sum(w)
  m <- sum(w * x)
  if (binary) m * (1 - m) else sum(w * (x - m)^2) / (1 - sum(w^2))
}

bal_ecdf <- function(x, t, w) {
  w <- w / ifelse(t == 1L, sum(w[t == 1L]), sum(w[t == 0L]))
  o <- order(x)
  xs <- x[o]
  s <- cumsum(ifelse(t[o] == 1L, w[o], -w[o]))
  last <- c(xs[-1L] != xs[-length(xs)], TRUE)
  e <- abs(s[last])
  c(mean(e), max(e))
}

balance_one <- function(x, t, w, estimand) {
  binary <- all(x == 0 | x == 1)
  i1 <- t == 1L
  i0 <- t == 0L
  v1 <- bal_wvar(x[i1], rep(1, sum(i1)), binary)
  v0 <- bal_wvar(x[i0], rep(1, sum(i0)), binary)
  s <- switch(estimand, ATT = sqrt(v1), ATC = sqrt(v0), sqrt((v1 + v0) / 2))
  if (!is.finite(s) || s < sqrt(.Machine$double.eps)) s <- sqrt((v1 + v0) / 2)
  stats_for <- function(ww) {
    keep <- ww > 0
    m1 <- sum(ww[i1] * x[i1]) / sum(ww[i1])
    m0 <- sum(ww[i0] * x[i0]) / sum(ww[i0])
    md <- m1 - m0
    smd <- if (abs(md) <= sqrt(.Machine$double.eps)) md else md / s
    vr <- if (binary) NA_real_ else bal_wvar(x[i1 & keep], ww[i1 & keep], FALSE) / bal_wvar(x[i0 & keep], ww[i0 & keep], FALSE)
    ec <- if (binary) rep(abs(md), 2) else bal_ecdf(x, t, ww)
    c(m1, m0, smd, vr, ec)
  }
  b <- stats_for(rep(1, length(x)))
  a <- if (is.null(w)) rep(NA_real_, 6) else stats_for(w)
  out <- c(binary, b, a)
  names(out) <- c("binary", paste0(c("mean_treated", "mean_control", "smd", "var_ratio", "ecdf_mean", "ecdf_max"),
                                   rep(c("_before", "_after"), each = 6)))
  out
}

#' @rdname balance
#' @param digits Significant digits.
#' @param ... For `plot()`, graphical parameters passed to [graphics::plot()]
#'   (e.g. `main`, `xlim`); ignored by `print()`.
#' @export
print.hbmmm_balance <- function(x, digits = 3, ...) {
  cat(sprintf("<hbmmm_balance> balance of %d covariate(s) %s (standardized mean differences with %s denominators)\n",
              nrow(x$table), if (x$adjusted) "before and after adjustment" else "in the original sample",
              x$estimand))
  cols <- c("variable", "smd_before", if (x$adjusted) "smd_after", "var_ratio_before", if (x$adjusted) "var_ratio_after",
            "ecdf_max_before", if (x$adjusted) "ecdf_max_after", "imbalanced")
  tab <- x$table[cols]
  print(format(tab, digits = digits), row.names = FALSE, quote = FALSE)
  cat(sprintf("%d of %d covariate(s) with |SMD| > %s %s\n", sum(x$table$imbalanced), nrow(x$table),
              format(x$threshold), if (x$adjusted) "after adjustment" else "before adjustment"))
  cat("Sample sizes:\n")
  print(round(x$n, 1))
  invisible(x)
}

#' @rdname balance
#' @param abs Plot absolute standardized mean differences?
#' @export
plot.hbmmm_balance <- function(x, abs = TRUE, ...) {
  tab <- x$table
  f <- if (abs) base::abs else identity
  before <- f(tab$smd_before)
  after <- if (x$adjusted) f(tab$smd_after) else rep(NA_real_, nrow(tab))
  ord <- order(before)
  k <- nrow(tab)
  y <- seq_len(k)
  rng <- range(c(before, after, if (abs) 0 else -x$threshold, x$threshold), na.rm = TRUE)
  dots <- list(...)
  old <- graphics::par(mar = c(4.1, max(4.1, 0.6 * max(nchar(tab$variable)) + 1), 3.1, 1.1))
  on.exit(graphics::par(old))
  args <- utils::modifyList(list(x = before[ord], y = y, xlim = rng, ylim = c(0.5, k + 0.5), yaxt = "n", pch = 1,
                                 xlab = if (abs) "Absolute standardized mean difference" else "Standardized mean difference",
                                 ylab = "", main = sprintf("Covariate balance (%s)", x$estimand)), dots)
  do.call(graphics::plot, args)
  graphics::axis(2, at = y, labels = tab$variable[ord], las = 1, cex.axis = 0.8)
  graphics::abline(v = c(if (abs) 0 else c(0, -x$threshold), x$threshold), lty = c(1, rep(2, if (abs) 1 else 2)),
                   col = "grey50")
  graphics::abline(h = y, col = "grey90", lty = 3)
  if (x$adjusted) {
    graphics::segments(before[ord], y, after[ord], y, col = "grey70")
    graphics::points(after[ord], y, pch = 19, col = "black")
    graphics::legend("bottomright", legend = c("before", "after"), pch = c(1, 19), bty = "n", cex = 0.8)
  }
  invisible(data.frame(variable = tab$variable, smd_before = before, smd_after = after))
}
