# Placebo (permutation) tests: reassign the treatment at random many times
# and compare the real estimate with the placebo distribution.

#' Placebo test of treatment effects
#'
#' For each channel, estimates the effect of its treatment (or exposure) on
#' the outcome, then reassigns the treatment at random `n_placebo` times (a
#' random permutation of the column, which keeps the number of treated units
#' and the exposure distribution) and re-estimates the effect each time.
#' Random reassignment breaks any causal link, so the placebo estimates
#' should centre on zero; the p-value is the share of placebo estimates at
#' least as far from zero as the real one, `(1 + #{|placebo| >= |estimate|}) /
#' (n_placebo + 1)`.
#'
#' The default estimator is closed form and fast: the coefficient of the
#' treatment in the least-squares regression of the outcome on the treatment
#' and `covariates` (for a 0/1 treatment, the regression-adjusted difference
#' in means). The covariate projection is computed once and applied to all
#' permutations together. Any other estimator can be supplied as a function
#' `estimator(data, channel)` returning one number, for example one that
#' re-estimates propensity scores and weights.
#'
#' @param data A data frame.
#' @param outcome Name of the outcome column.
#' @param treatment Names of the treatment or exposure columns (one test
#'   each), e.g. several channels.
#' @param covariates `NULL` or names of covariate columns adjusted for by
#'   the default estimator (factors allowed).
#' @param n_placebo Number of random reassignments per channel.
#' @param estimator `NULL` (the closed-form estimator) or a function
#'   `function(data, channel)` returning the estimated effect.
#' @param level Probability of the central placebo interval reported.
#' @param seed Whole number making the reassignments reproducible (the
#'   caller's random number state is restored); `NULL` uses the current
#'   stream.
#' @return An object of class `hbmmm_placebo`: `table`, a data frame with
#'   one row per channel (`channel`, `estimate`, `placebo_mean`,
#'   `placebo_sd`, `placebo_lower`, `placebo_upper`, `p_value`), and
#'   `draws`, a list by channel of the placebo estimates. `plot()` draws
#'   their histograms with the real estimate.
#' @seealso [estimate_effect()], [treatment_effects()].
#' @examples
#' sim <- simulate_confounded(n = 1000, seed = 1)
#' pt <- placebo_test(sim$data, "sales", "treat", covariates = c("age", "income", "loyal"),
#'                    n_placebo = 200, seed = 1)
#' pt
#' plot(pt)
#' @export
placebo_test <- function(data, outcome, treatment, covariates = NULL, n_placebo = 500,
                         estimator = NULL, level = 0.95, seed = NULL) {
  call <- match.call()
  if (!is.data.frame(data)) abort_input("data", sprintf("must be a data frame; found %s", describe_value(data)))
  check_column_name(outcome, data, "outcome")
  if (!is.character(treatment) || !length(treatment) || anyNA(treatment)) {
    abort_input("treatment", sprintf("must be column names; found %s", describe_value(treatment)))
  }
  for (v in treatment) check_column_name(v, data, "treatment")
  if (!is.null(covariates)) {
    if (!is.character(covariates) || anyNA(covariates)) {
      abort_input("covariates", sprintf("must be NULL or column names; found %s", describe_value(covariates)))
    }
    for (v in covariates) check_column_name(v, data, "covariates")
  }
  n_placebo <- check_count(n_placebo, "n_placebo", 10, 1e6)
  if (!is.null(estimator) && !is.function(estimator)) {
    abort_input("estimator", sprintf("must be NULL or a function(data, channel); found %s", describe_value(estimator)))
  }
  check_level(level)
  check_complete(data, unique(c(outcome, treatment, covariates)))
  for (v in c(outcome, treatment)) {
    if (!is.numeric(data[[v]]) && !is.logical(data[[v]])) {
      abort_input(if (v == outcome) "outcome" else "treatment", sprintf("column `%s` must be numeric; found %s", v,
                                                                       class(data[[v]])[1]))
    }
    if (v != outcome && length(unique(data[[v]])) < 2L) {
      abort_input("treatment", sprintf("column `%s` is constant; there is no effect to test", v))
    }
  }
  restore <- sim_seed(seed)
  if (!is.null(restore)) on.exit(restore(), add = TRUE)
  n <- nrow(data)
  y <- as.double(data[[outcome]])
  q <- NULL
  if (is.null(estimator)) {
    X <- if (is.null(covariates)) matrix(1, n, 1L) else {
      stats::model.matrix(stats::reformulate(sprintf("`%s`", covariates)), data)
    }
    q <- qr(X)
    ry <- qr.resid(q, y)
  }
  alpha <- (1 - level) / 2
  rows <- list()
  draws <- list()
  for (ch in treatment) {
    tr <- as.double(data[[ch]])
    if (is.null(estimator)) {
      coef_of <- function(Tm) {
        R <- qr.resid(q, Tm)
        colSums(R * ry) / colSums(R * R)
      }
      est <- coef_of(matrix(tr, ncol = 1L))
      pl <- numeric(n_placebo)
      block <- max(1L, min(n_placebo, floor(5e6 / n)))
      done <- 0L
      while (done < n_placebo) {
        b <- min(block, n_placebo - done)
        Tm <- vapply(seq_len(b), function(i) tr[sample.int(n)], numeric(n))
        pl[done + seq_len(b)] <- coef_of(matrix(Tm, n, b))
        done <- done + b
      }
    } else {
      est <- placebo_call(estimator, data, ch)
      pl <- vapply(seq_len(n_placebo), function(i) {
        d <- data
        d[[ch]] <- d[[ch]][sample.int(n)]
        placebo_call(estimator, d, ch)
      }, numeric(1))
    }
    if (any(!is.finite(pl))) {
      abort(sprintf("the placebo estimates of `%s` include %d non-finite value(s); the estimator fails on reassigned treatments",
                    ch, sum(!is.finite(pl))), class = "hbmmm_estimator_error")
    }
    draws[[ch]] <- pl
    rows[[ch]] <- data.frame(channel = ch, estimate = est, placebo_mean = mean(pl), placebo_sd = stats::sd(pl),
                             placebo_lower = stats::quantile(pl, alpha, names = FALSE),
                             placebo_upper = stats::quantile(pl, 1 - alpha, names = FALSE),
                             p_value = (1 + sum(abs(pl) >= abs(est))) / (n_placebo + 1))
  }
  tab <- do.call(rbind, rows)
  rownames(tab) <- NULL
  structure(list(table = tab, draws = draws, n_placebo = n_placebo, level = level, call = call),
            class = "hbmmm_placebo")
}

placebo_call <- function(estimator, data, ch) {
  v <- estimator(data, ch)
  if (!is.numeric(v) || length(v) != 1L) {
    abort(sprintf("`estimator` must return one number; it returned %s", describe_value(v)),
          class = "hbmmm_estimator_error")
  }
  as.double(v)
}

#' @rdname placebo_test
#' @param x An `hbmmm_placebo` object.
#' @param digits Significant digits.
#' @param ... For `plot()`, graphical parameters passed to [graphics::hist()];
#'   ignored by `print()`.
#' @export
print.hbmmm_placebo <- function(x, digits = 3, ...) {
  cat(sprintf("<hbmmm_placebo> %d random reassignments per channel\n", x$n_placebo))
  print(format(x$table, digits = digits), row.names = FALSE, quote = FALSE)
  invisible(x)
}

#' @rdname placebo_test
#' @export
plot.hbmmm_placebo <- function(x, ...) {
  k <- nrow(x$table)
  old <- graphics::par(mfrow = c(1L, k))
  on.exit(graphics::par(old))
  for (i in seq_len(k)) {
    ch <- x$table$channel[i]
    est <- x$table$estimate[i]
    pl <- x$draws[[ch]]
    args <- utils::modifyList(list(x = pl, breaks = 30, col = "grey85", border = "white", xlim = range(c(pl, est, 0)),
                                   main = sprintf("Placebo test: %s (p = %s)", ch, format(x$table$p_value[i], digits = 2)),
                                   xlab = "Estimated effect"), list(...))
    do.call(graphics::hist, args)
    graphics::abline(v = est, col = "firebrick", lwd = 2)
    graphics::abline(v = 0, lty = 3)
    graphics::legend("topright", legend = c("real estimate", "placebo"), col = c("firebrick", "grey70"), lwd = c(2, 8),
                     bty = "n", cex = 0.8)
  }
  invisible(x$draws)
}
