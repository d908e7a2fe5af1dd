# Propensity scores: a logistic regression of a binary treatment on
# covariates, fitted in C (src/propensity.c) by iteratively reweighted least
# squares with LAPACK's QR.

#' Estimate propensity scores by logistic regression
#'
#' Fits `P(treatment = 1 | covariates)` by maximum likelihood, with the same
#' model, starting values and QR-based least-squares steps as
#' `glm(family = binomial)`, iterated to a tighter tolerance; coefficients
#' agree with `glm()` to about 1e-8 relative.
#'
#' (Quasi-)complete separation, where some covariate pattern predicts the
#' treatment perfectly, makes the maximum likelihood estimate infinite: the
#' fit then warns (class `hbmmm_warning_separation`) and its scores near 0 or 1
#' should not be used for weighting.
#'
#' @param formula A formula `treatment ~ covariates`. The treatment must be
#'   binary: 0/1 numbers, `TRUE`/`FALSE`, or a factor with two levels (the
#'   second level is "treated").
#' @param data A data frame holding the treatment and the covariates. Rows
#'   with missing covariates are an error (impute or drop them first).
#' @param weights Optional sampling weights (non-negative, one per row).
#' @param maxit Maximum number of iterations.
#' @param tol Convergence tolerance on the relative change of the deviance.
#' @return An object of class `hbmmm_ps`: a list with `score` (fitted
#'   probabilities), `linear_predictor` (their logit), `coefficients`, `se`,
#'   `vcov`, `treat` (0/1 integer), `covariates` (the matrix of covariates with
#'   every factor level as a 0/1 column, used by [balance()]), `deviance`,
#'   `iterations`, `converged`, `formula`, `data` and `call`. `summary()` gives
#'   the coefficient table with z statistics.
#' @seealso [ps_match()], [ps_weight()], [balance()].
#' @examples
#' sim <- simulate_confounded(n = 500, seed = 1)
#' ps <- propensity_score(treat ~ age + income + loyal, data = sim$data)
#' ps
#' summary(ps)
#' @export
propensity_score <- function(formula, data, weights = NULL, maxit = 100, tol = 1e-12) {
  call <- match.call()
  pd <- ps_design(formula, data)
  n <- nrow(data)
  w <- if (is.null(weights)) rep(1, n) else {
    if (!is.numeric(weights) || length(weights) != n || any(!is.finite(weights)) || any(weights < 0)) {
      abort_input("weights", sprintf("must be non-negative, finite numbers, one per row of `data` (%d); found %s",
                                     n, describe_value(weights)))
    }
    if (!any(weights > 0)) {
      # all-zero weights leave no data: say so, not that the design is collinear
      abort_input("weights", "are all zero; at least one row needs a positive weight")
    }
    as.double(weights)
  }
  maxit <- check_count(maxit, "maxit", 1, 1e5)
  if (!is.numeric(tol) || length(tol) != 1L || !is.finite(tol) || tol <= 0) {
    abort_input("tol", sprintf("must be one positive number; found %s", describe_value(tol)))
  }
  X <- pd$X
  res <- .Call(C_hb_logit_irls, X, as.double(pd$treat), w, maxit, as.double(tol))
  if (res$collinear > 0L) {
    abort_input("formula", sprintf("covariate column `%s` is a linear combination of the others (perfectly collinear); drop it",
                                   colnames(X)[res$collinear]))
  }
  coef <- stats::setNames(res$coefficients, colnames(X))
  vc <- res$cov
  dimnames(vc) <- list(colnames(X), colnames(X))
  if (res$boundary || !res$converged) {
    nb <- sum(res$mu < 1e-8 | res$mu > 1 - 1e-8)
    warn_classed("separation", sprintf(
      "propensity model %s: %d unit(s) have fitted scores numerically 0 or 1, a sign of (quasi-)complete separation (some covariates predict the treatment perfectly); coefficients and standard errors are unreliable and such units have no overlap; simplify the model or drop those units",
      if (res$converged) "converged at the boundary" else sprintf("did not converge in %d iterations", maxit), nb))
  }
  structure(list(
    score = res$mu, linear_predictor = res$eta, coefficients = coef, se = sqrt(pmax(diag(vc), 0)),
    vcov = vc, treat = pd$treat, treat_name = pd$treat_name, treat_levels = pd$levels,
    covariates = pd$covariates, deviance = res$deviance, iterations = res$iter, converged = res$converged,
    weights = w, formula = formula, data = data, call = call
  ), class = "hbmmm_ps")
}

# Treatment vector, model matrix (treatment contrasts) and the balance
# covariate matrix (every factor level) of a `treatment ~ covariates` formula.
ps_design <- function(formula, data) {
  if (!inherits(formula, "formula") || length(formula) != 3L) {
    abort_input("formula", sprintf("must be a two-sided formula `treatment ~ covariates`; found %s",
                                   describe_value(formula)))
  }
  if (!is.data.frame(data)) abort_input("data", sprintf("must be a data frame; found %s", describe_value(data)))
  if ("." %in% all.vars(formula[[3L]])) formula <- stats::formula(stats::terms(formula, data = data))
  vars <- all.vars(formula)
  miss <- setdiff(vars, names(data))
  if (length(miss)) {
    abort_input("formula", sprintf("column `%s` is not in `data`%s", miss[1], suggest_name(miss[1], names(data))))
  }
  tname <- deparse(formula[[2L]])
  tv <- eval(formula[[2L]], data, environment(formula))
  tr <- as_treatment(tv, tname, "formula")
  check_complete(data, setdiff(all.vars(formula[[3L]]), character(0)))
  rhs <- stats::delete.response(stats::terms(formula, data = data))
  mf <- stats::model.frame(rhs, data, na.action = stats::na.pass)
  X <- stats::model.matrix(rhs, mf)
  attr(X, "assign") <- NULL
  attr(X, "contrasts") <- NULL
  list(treat = tr$treat, levels = tr$levels, treat_name = tname, X = X,
       covariates = covariate_matrix(mf))
}

# A binary treatment as 0/1 integers, with classed errors otherwise.
as_treatment <- function(tv, tname, arg) {
  if (anyNA(tv)) {
    abort_input(arg, sprintf("the treatment `%s` has %d missing value(s), first at row %d", tname,
                             sum(is.na(tv)), which(is.na(tv))[1]))
  }
  lev <- c("0", "1")
  if (is.logical(tv)) tr <- as.integer(tv)
  else if (is.factor(tv) || is.character(tv)) {
    f <- factor(tv)
    if (nlevels(f) != 2L) {
      abort_input(arg, sprintf("the treatment `%s` must be binary; found %d level(s): %s", tname, nlevels(f),
                               paste(utils::head(levels(f), 5), collapse = ", ")))
    }
    lev <- levels(f)
    tr <- as.integer(f) - 1L
  } else if (is.numeric(tv)) {
    u <- sort(unique(tv))
    if (!all(u %in% c(0, 1))) {
      abort_input(arg, sprintf("the treatment `%s` must be binary (0/1, TRUE/FALSE or a two-level factor); found %d distinct value(s): %s",
                               tname, length(u), paste(format(utils::head(u, 5)), collapse = ", ")))
    }
    tr <- as.integer(tv)
  } else {
    abort_input(arg, sprintf("the treatment `%s` must be binary; found %s", tname, describe_value(tv)))
  }
  for (g in 0:1) {
    if (!any(tr == g)) {
      abort(sprintf("Invalid `%s`: the %s group of the treatment `%s` is empty (all %d units have %s = %s); a causal comparison needs both groups",
                    arg, if (g == 1L) "treated" else "control", tname, length(tr), tname, lev[2L - g]),
            class = c("hbmmm_empty_group_error", "hbmmm_input_error"), arg = arg)
    }
  }
  list(treat = tr, levels = lev)
}

# Covariates for balance: numeric columns as they are, logicals as 0/1, and
# every level of a factor or character column as its own 0/1 column.
covariate_matrix <- function(mf) {
  cols <- list()
  for (v in names(mf)) {
    x <- mf[[v]]
    if (is.character(x)) x <- factor(x)
    if (is.factor(x)) {
      x <- droplevels(x)
      for (l in levels(x)) cols[[paste0(v, "_", l)]] <- as.numeric(x == l)
    } else if (is.logical(x)) {
      cols[[v]] <- as.numeric(x)
    } else if (is.matrix(x)) {
      for (j in seq_len(ncol(x))) cols[[paste0(v, j)]] <- as.numeric(x[, j])
    } else {
      cols[[v]] <- as.numeric(x)
    }
  }
  if (!length(cols)) return(matrix(numeric(0), nrow(mf), 0L))
  do.call(cbind, cols)
}


#' @rdname propensity_score
#' @param x,object An `hbmmm_ps` object.
#' @param digits Significant digits.
#' @param ... Ignored.
#' @export
print.hbmmm_ps <- function(x, digits = 4, ...) {
  cat(sprintf("<hbmmm_ps> logistic propensity model for `%s`: %d treated, %d control\n",
              x$treat_name, sum(x$treat), sum(x$treat == 0L)))
  cat(sprintf("  %d iteration(s)%s; deviance %s\n", x$iterations, if (x$converged) "" else " (not converged)",
              format(x$deviance, digits = digits)))
  q <- tapply(x$score, x$treat, stats::quantile, probs = c(0, 0.5, 1))
  cat(sprintf("  score range: treated [%s, %s], control [%s, %s]\n",
              format(q[["1"]][1], digits = 3), format(q[["1"]][3], digits = 3),
              format(q[["0"]][1], digits = 3), format(q[["0"]][3], digits = 3)))
  cat("Coefficients:\n")
  cat_pairs(x$coefficients, digits)
  invisible(x)
}

#' @rdname propensity_score
#' @export
summary.hbmmm_ps <- function(object, ...) {
  z <- object$coefficients / object$se
  tab <- data.frame(estimate = object$coefficients, std_error = object$se, z = z,
                    p_value = 2 * stats::pnorm(-abs(z)))
  structure(list(coefficients = tab, n = c(treated = sum(object$treat), control = sum(object$treat == 0L)),
                 deviance = object$deviance, converged = object$converged),
            class = "summary.hbmmm_ps")
}

#' @export
print.summary.hbmmm_ps <- function(x, digits = 4, ...) {
  cat(sprintf("Logistic propensity model: %d treated, %d control; deviance %s%s\n",
              x$n[["treated"]], x$n[["control"]], format(x$deviance, digits = digits),
              if (x$converged) "" else " (not converged)"))
  print(format(x$coefficients, digits = digits), quote = FALSE)
  invisible(x)
}
