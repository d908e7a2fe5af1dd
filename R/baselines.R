# Benchmark models of the published comparisons (traditional MMM by least
# squares, ridge regression, a non-hierarchical Bayesian model, a
# frequentist multilevel model), fitted on the same design as hbmmm() so
# that compare_models() can put them next to hierarchical fits.

#' Fit a benchmark model
#'
#' The benchmark models that the hierarchical papers compare with (Ni et al.,
#' Table 9; the personalization paper, Table 7), on the design hbmmm uses:
#'
#' * `"ols"`: the traditional MMM by least squares. With `media` and
#'   transforms, each channel's adstock and saturation parameters are
#'   estimated by nonlinear least squares (the coefficients are profiled
#'   out, so the search runs over the transform parameters only, by L-BFGS-B
#'   from the default priors' medians, each parameter within 5 of its start
#'   on its unconstrained scale, since least squares alone drifts to
#'   degenerate curves). Without `media` every term enters as a plain column,
#'   and the fit is exactly `lm()`'s.
#' * `"ridge"`: the same design with an L2 penalty on every coefficient but
#'   the intercept (columns standardized first), the penalty chosen by
#'   generalized cross-validation; media transforms, when estimated, are the
#'   least-squares ones.
#' * `"pooled"`: the non-hierarchical Bayesian model: [hbmmm()] on the
#'   formula without its group-level terms (the result is an `hbmmm_fit`).
#' * `"multilevel"`: the frequentist mixed model by REML
#'   ([nlme::lme()]) with the formula's group-level terms (one grouping
#'   factor; `||` gives uncorrelated effects); media transforms, when
#'   estimated, are the least-squares ones of the pooled design.
#'
#' Group-level terms are dropped for `"ols"`, `"ridge"` and `"pooled"`.
#' Prediction intervals (used for the coverage in [compare_models()]) are
#' `lm()`'s for `"ols"`, and plus or minus 1.96 residual sd for `"ridge"`
#' and `"multilevel"` (parameter uncertainty not included).
#'
#' @param formula Model formula as for [hbmmm()].
#' @param data Data frame.
#' @param type One of `"ols"`, `"ridge"`, `"pooled"`, `"multilevel"`.
#' @param media,adstock,saturation,time,panel As in [hbmmm()]; without
#'   `media` no transform is applied.
#' @param fixed_transforms Transform parameters held at given values (as in
#'   [hbmmm()]); e.g. `ols$transforms` fits a ridge or multilevel baseline on
#'   the least-squares transforms of an `"ols"` fit without estimating them
#'   again.
#' @param ... For `"pooled"`: further arguments of [hbmmm()] (`chains`,
#'   `iter`, `seed`, ...). Other types take none.
#' @return An object of class `hbmmm_baseline` (for `"pooled"` an
#'   `hbmmm_fit`) with `type`, `coefficients`, `sigma`, `transforms` (the
#'   estimated transform parameters), `fitted`, `residuals`, `logLik`, `df`
#'   (estimated parameters: coefficients, transform parameters, residual sd;
#'   for `"ridge"` the effective degrees of freedom), `lambda` (ridge) and
#'   `lme` (multilevel). [predict()] gives predictions with intervals on new
#'   data, continuing the adstock of the training data.
#' @examples
#' train <- mmm_weekly[mmm_weekly$week <= 80, ]
#' ols <- fit_baseline(sales ~ tv + price, train, type = "ols")
#' ols$coefficients
#' ridge <- fit_baseline(sales ~ tv + price + promo, train, type = "ridge")
#' ridge$lambda
#' @export
fit_baseline <- function(formula, data, type = c("ols", "ridge", "pooled", "multilevel"), media = NULL,
                         adstock = "geometric", saturation = "hill", time = NULL, panel = NULL,
                         fixed_transforms = NULL, ...) {
  call <- match.call()
  type <- match_choice(type, c("ols", "ridge", "pooled", "multilevel"), "type")
  pf <- parse_formula(formula)
  fixed <- pf$fixed
  environment(fixed) <- environment(formula)
  if (type == "pooled") {
    return(hbmmm(fixed, data = data, media = media, adstock = adstock, saturation = saturation,
                 time = time, panel = panel, fixed_transforms = fixed_transforms, ...))
  }
  check_dots_empty(...)
  if (type == "multilevel" && length(pf$bars) != 1L) {
    abort_input("formula", sprintf(paste0("needs exactly one group-level term such as `(1 + tv | market)` for ",
                                          "type = \"multilevel\"; found %d"), length(pf$bars)))
  }
  if (type == "multilevel" && length(pf$bars[[1]]) != 1L) {
    abort_input("formula", "a nested grouping term (`a/b`) is not supported for type = \"multilevel\"; give one grouping factor")
  }
  if (!length(media)) adstock <- saturation <- "none"
  if (is.null(panel) && type == "multilevel" && !is.null(time)) panel <- pf$bars[[1]][[1]]$group_vars
  spec <- hbmmm_spec(fixed, data = data, media = if (length(media)) media else character(0),
                     adstock = adstock, saturation = saturation, time = time, panel = panel,
                     fixed_transforms = fixed_transforms)
  tr <- estimate_transforms(spec)
  X <- media_columns(spec$X, tr$media)
  y <- spec$y
  fit <- switch(type,
    ols = ols_fit(X, y),
    ridge = ridge_fit(X, y),
    multilevel = lme_fit(pf, spec, tr$media, data))
  unsort <- function(v) {
    out <- numeric(length(v))
    out[spec$row_order] <- v
    out
  }
  n <- length(y)
  df <- fit$df + length(tr$theta_est) + 1
  structure(list(
    type = type, call = call, coefficients = fit$coefficients, sigma = fit$sigma,
    transforms = tr$theta_est, theta = tr$theta, fitted = unsort(fit$fitted),
    residuals = unsort(y - fit$fitted), logLik = fit$logLik, df = df, nobs = n,
    lambda = fit$lambda, lme = fit$lme, lme_group_vars = fit$group_vars, xtx_inv = fit$xtx_inv, spec = spec
  ), class = "hbmmm_baseline")
}

# Design columns: static parts times the transformed channels.
media_columns <- function(Xd, M) {
  X <- Xd$static
  j <- which(!is.na(Xd$channel))
  X[, j] <- X[, j] * M[, Xd$channel[j]]
  X
}

# Transform parameters by nonlinear least squares: for given transform
# parameters the coefficients are least squares, so the search runs over the
# transform parameters alone (unconstrained scale, bounded), from the
# specification's starting values.
estimate_transforms <- function(spec) {
  tr <- spec$transforms
  pars <- tr$pars
  theta <- stats::setNames(if (nrow(pars)) pars$value else numeric(0), pars$name)
  theta[!pars$fixed] <- tr$init[pars$name[!pars$fixed]]
  est <- which(!pars$fixed)
  media_at <- function(th) transform_media(spec$media_data, tr, th, spec$panel_codes, spec$tpos)
  if (!length(spec$media)) {
    return(list(theta = theta, theta_est = numeric(0), media = matrix(0, spec$nobs, 0)))
  }
  if (!length(est)) return(list(theta = theta, theta_est = numeric(0), media = media_at(theta)))
  upper <- ifelse(is.na(pars$upper[est]), 1, pars$upper[est])
  # the objective runs thousands of times: the links are looked up once
  links <- link_name(pars$link[est])
  to_theta <- function(u) {
    th <- theta
    th[est] <- links_from_unc(links, u, upper)
    th
  }
  # the search moves one parameter at a time (finite-difference gradients),
  # so only the channels whose parameters changed since the last call are
  # transformed again
  last <- new.env()
  media_cached <- function(th) {
    if (is.null(last$M)) {
      M <- media_at(th)
    } else {
      M <- last$M
      for (ch in unique(pars$channel[which(th != last$theta)])) {
        M[, ch] <- transform_channel_draws(spec$media_data[, ch], ch, tr, t(th), spec$panel_codes, spec$tpos)
      }
    }
    last$M <- M
    last$theta <- th
    M
  }
  rss <- function(u) {
    M <- tryCatch(media_cached(to_theta(u)), error = function(e) NULL)
    if (is.null(M) || any(!is.finite(M))) return(1e300)
    X <- media_columns(spec$X, M)
    # .lm.fit(): lm.fit()'s computation (the same QR) without its checks
    f <- stats::.lm.fit(X, spec$y)
    # a transform that makes its channel constant (Hill saturated everywhere)
    # leaves a rank-deficient design: not a fit
    if (f$rank < ncol(X)) return(1e300)
    sum(f$residuals^2)
  }
  # on the log scale the objective is well conditioned for the quasi-Newton
  # search whatever the scale of the response
  log_rss <- function(u) {
    log(rss(u))
  }
  u0 <- vapply(seq_along(est), function(i) link_to_unc(pars$link[est[i]], theta[est[i]], upper[i]), 1)
  # within e^5 of the starting values on the unconstrained scale: least
  # squares alone drifts to degenerate curves (a Hill half-saturation near
  # zero turns a channel into an on/off indicator that trades off with the
  # intercept)
  lo <- u0 - 5
  hi <- u0 + 5
  best <- stats::optim(u0, log_rss, method = "L-BFGS-B", lower = lo, upper = hi,
                       control = list(maxit = 1000, factr = 1e5))
  th <- to_theta(best$par)
  list(theta = th, theta_est = th[est], media = media_at(th))
}

gaussian_loglik <- function(r, n) {
  s2 <- sum(r^2) / n
  -0.5 * n * (log(2 * pi * s2) + 1)
}

ols_fit <- function(X, y) {
  q <- qr(X)
  if (q$rank < ncol(X)) {
    abort_input("formula", sprintf("gives a rank-deficient design (%d columns, rank %d)", ncol(X), q$rank))
  }
  b <- qr.coef(q, y)
  fitted <- drop(X %*% b)
  r <- y - fitted
  n <- length(y)
  list(coefficients = b, fitted = fitted, sigma = sqrt(sum(r^2) / (n - ncol(X))),
       logLik = gaussian_loglik(r, n), df = ncol(X), xtx_inv = chol2inv(qr.R(q)))
}

# Ridge with the intercept unpenalized: standardized columns, penalty
# lambda by generalized cross-validation GCV = n RSS / (n - df)^2 with
# df = 1 + sum d^2 / (d^2 + lambda) over the singular values d.
ridge_fit <- function(X, y) {
  n <- length(y)
  int <- colnames(X) == "(Intercept)"
  Z <- X[, !int, drop = FALSE]
  if (!ncol(Z)) abort_input("formula", "has no term to penalize besides the intercept")
  mu <- colMeans(Z)
  s <- sqrt(colSums((Z - rep(mu, each = n))^2) / n)
  if (any(s == 0)) abort_input("formula", sprintf("has a constant column `%s`", colnames(Z)[s == 0][1]))
  Zs <- (Z - rep(mu, each = n)) / rep(s, each = n)
  yc <- y - mean(y)
  sv <- svd(Zs)
  d2 <- sv$d^2
  uy <- drop(crossprod(sv$u, yc))
  gcv <- function(ll) {
    lam <- exp(ll)
    f <- d2 / (d2 + lam)
    rss <- sum((yc - drop(sv$u %*% (f * uy)))^2)
    n * rss / (n - 1 - sum(f))^2
  }
  grid <- log(max(d2)) + seq(-25, 5, length.out = 121)
  k <- which.min(vapply(grid, gcv, 1))
  ll <- stats::optimize(gcv, grid[c(max(1, k - 1), min(length(grid), k + 1))])$minimum
  lambda <- exp(ll)
  bs <- drop(sv$v %*% (sv$d / (sv$d^2 + lambda) * uy))
  b <- bs / s
  coef <- stats::setNames(numeric(ncol(X)), colnames(X))
  coef[!int] <- b
  coef[int] <- mean(y) - sum(b * mu)
  fitted <- drop(X %*% coef)
  r <- y - fitted
  edf <- 1 + sum(d2 / (d2 + lambda))
  list(coefficients = coef, fitted = fitted, sigma = sqrt(sum(r^2) / (n - edf)), logLik = gaussian_loglik(r, n),
       df = edf, lambda = lambda, standardized = list(center = mu, scale = s))
}

# The mixed model by REML on the data with each channel replaced by its
# transformed media.
lme_fit <- function(pf, spec, M, data) {
  if (!requireNamespace("nlme", quietly = TRUE)) abort("type = \"multilevel\" needs the nlme package", class = "hbmmm_error")
  bar <- pf$bars[[1]][[1]]
  d <- spec$data
  for (c in seq_along(spec$media)) d[[spec$media[c]]] <- M[, c]
  d[[".hbmmm_group"]] <- factor(do.call(paste, c(lapply(bar$group_vars, function(v) d[[v]]), sep = ":")))
  rhs <- stats::as.formula(call("~", bar$lhs))
  random <- if (bar$correlated) list(.hbmmm_group = rhs) else list(.hbmmm_group = nlme::pdDiag(rhs))
  fixed <- pf$fixed
  # the call is built with the formulas themselves, which predict() on the
  # fit evaluates again; nlminb first (nlme's default), optim when it fails
  run <- function(control) {
    do.call(nlme::lme, list(fixed = fixed, random = random, data = d, method = "REML", control = control))
  }
  fit <- tryCatch(run(nlme::lmeControl()), error = function(e) {
    tryCatch(run(nlme::lmeControl(opt = "optim")), error = function(e2) {
      abort(sprintf("nlme::lme() failed on the multilevel baseline: %s", conditionMessage(e2)),
            class = "hbmmm_sampler_error")
    })
  })
  fitted <- as.numeric(stats::fitted(fit))
  r <- spec$y - fitted
  ngrp <- ncol(nlme::ranef(fit))
  list(coefficients = nlme::fixef(fit), fitted = fitted, sigma = fit$sigma, logLik = as.numeric(stats::logLik(fit)),
       df = length(nlme::fixef(fit)) + ngrp * (ngrp + 1) / 2, lme = fit, group_vars = bar$group_vars)
}

#' @rdname fit_baseline
#' @param object An `hbmmm_baseline`.
#' @param newdata New data (with every column of the model); `NULL`: the
#'   training data.
#' @param level Probability mass of the prediction intervals.
#' @export
predict.hbmmm_baseline <- function(object, newdata = NULL, level = 0.95, ...) {
  check_dots_empty(...)
  level <- check_interval_prob(level, "level")
  spec <- object$spec
  z <- stats::qnorm((1 + level) / 2)
  if (is.null(newdata)) {
    des <- training_design(spec)
  } else {
    des <- newdata_design(spec, newdata, TRUE)
  }
  M <- if (length(spec$media)) {
    transform_media(des$media_data, spec$transforms, object$theta, des$panel_codes, des$tpos)[des$keep, , drop = FALSE]
  } else matrix(0, des$n, 0)
  X <- media_columns(des$X, M)
  if (object$type == "multilevel") {
    nd <- if (is.null(newdata)) spec$data else newdata[order(des$back), , drop = FALSE]
    for (c in seq_along(spec$media)) nd[[spec$media[c]]] <- M[, c]
    grp <- do.call(paste, c(lapply(object$lme_group_vars, function(v) nd[[v]]), sep = ":"))
    nd[[".hbmmm_group"]] <- factor(grp, levels = levels(object$lme$groups[[1]]))
    fit <- stats::predict(object$lme, newdata = nd, level = 0:1)
    pred <- ifelse(is.na(fit$predict..hbmmm_group), fit$predict.fixed, fit$predict..hbmmm_group)
    half <- z * object$sigma
  } else {
    pred <- drop(X %*% object$coefficients[colnames(X)])
    half <- if (object$type == "ols") {
      qt <- stats::qt((1 + level) / 2, object$nobs - length(object$coefficients))
      qt * object$sigma * sqrt(1 + rowSums((X %*% object$xtx_inv) * X))
    } else z * object$sigma
  }
  back <- des$back
  data.frame(Estimate = pred[back], lower = (pred - half)[back], upper = (pred + half)[back])
}

#' @export
print.hbmmm_baseline <- function(x, digits = 3, ...) {
  check_dots_empty(...)
  label <- c(ols = "least squares (traditional MMM)", ridge = "ridge regression",
             multilevel = "multilevel model (REML, nlme)")[[x$type]]
  cat(sprintf("<hbmmm_baseline> %s: %s\n  %d observations, residual sd %s, log-likelihood %s, %s parameters\n",
              label, deparse1(x$spec$formula), x$nobs, format(signif(x$sigma, digits)),
              format(round(x$logLik, 1)), format(round(x$df, 1))))
  if (!is.null(x$lambda)) cat(sprintf("  penalty (GCV): %s\n", format(signif(x$lambda, digits))))
  cat("Coefficients:\n")
  print(signif(x$coefficients, digits))
  if (length(x$transforms)) {
    cat("Media transforms (least squares):\n")
    print(signif(x$transforms, digits))
  }
  invisible(x)
}

# RMSE, MAE, R^2 and 95% interval coverage of a baseline (in or out of sample).
baseline_metrics <- function(b, newdata = NULL) {
  p <- stats::predict(b, newdata)
  y <- if (is.null(newdata)) b$fitted + b$residuals else {
    resp <- parse_formula(b$spec$formula)$response
    eval(resp, newdata, environment(b$spec$formula))
  }
  if (!is.numeric(y) || length(y) != nrow(p) || any(!is.finite(y))) {
    abort_input("newdata", "must hold the response (finite numbers) to evaluate the baselines")
  }
  pred <- p$Estimate
  c(RMSE = sqrt(mean((y - pred)^2)), MAE = mean(abs(y - pred)),
    R2 = 1 - sum((y - pred)^2) / sum((y - mean(y))^2), coverage95 = mean(y >= p$lower & y <= p$upper))
}
