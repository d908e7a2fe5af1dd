# Treatment effects: after matching or weighting (estimate_effect), and from
# the posterior of a hierarchical model (treatment_effects).

#' Estimate a treatment effect after matching or weighting
#'
#' Estimates the effect of the treatment on `outcome` in the matched or
#' weighted sample, for the estimand of `x` (ATT or ATC after matching; ATE,
#' ATT, ATC or ATO after weighting).
#'
#' `method = "difference"` is the weighted difference in means (the
#' coefficient of the treatment in a weighted regression of the outcome on
#' the treatment alone); `method = "regression"` adds the covariates to that
#' regression (regression adjustment, which removes the remaining imbalance
#' and usually narrows the interval).
#'
#' With `inference = "robust"`, standard errors are sandwich (robust)
#' standard errors of the weighted regression, clustered on the matched sets
#' (pairs) after matching without replacement (small-sample factor
#' `G / (G - 1) (n - 1) / (n - p)`), and heteroskedasticity-consistent
#' (HC1) otherwise; intervals are normal. Like MatchIt's and WeightIt's
#' default workflows, they treat the propensity score as known, which for
#' inverse-probability weights of the ATE errs on the conservative side.
#'
#' With `inference = "bayes"`, the posterior of the effect comes from the
#' Bayesian bootstrap (Rubin, 1981): each draw gives every matched set (or
#' every unit, after weighting or with replacement) an independent
#' exponential weight (Dirichlet weights after normalization), multiplies the
#' matching or balancing weights by it and recomputes the estimate. This is
#' the posterior under a noninformative Dirichlet process prior on the
#' distribution of the data; the interval is the central posterior interval.
#'
#' @param x An `hbmmm_match` ([ps_match()]) or `hbmmm_weight` ([ps_weight()]).
#' @param outcome Name of the outcome column of the data, or a numeric
#'   vector with one value per row.
#' @param method `"difference"` or `"regression"`.
#' @param covariates For `method = "regression"`: `NULL` (the covariates of
#'   the propensity model) or names of columns of the data.
#' @param inference `"robust"` or `"bayes"`.
#' @param level Interval probability.
#' @param draws Number of posterior draws (`inference = "bayes"`).
#' @param seed Whole number making the Bayesian draws reproducible (the
#'   caller's random number state is restored); `NULL` uses the current
#'   stream.
#' @return An object of class `hbmmm_effect`: `estimate` (a one-row data
#'   frame with `estimand`, `method`, `inference`, `estimate`, `std_error`,
#'   `lower`, `upper`, `p_value` (robust only), `n_treated`, `n_control`),
#'   and with `inference = "bayes"` the posterior `draws`.
#' @seealso [ps_match()], [ps_weight()], [treatment_effects()] for effects
#'   from a fitted hierarchical model, [placebo_test()].
#' @examples
#' sim <- simulate_confounded(n = 1000, seed = 1)
#' sim$truth[c("ATE", "ATT")]
#' ps <- propensity_score(treat ~ age + income + loyal, data = sim$data)
#' estimate_effect(ps_match(ps, caliper = 0.2), "sales", method = "regression")
#' estimate_effect(ps_weight(ps, estimand = "ATE"), "sales")
#' estimate_effect(ps_weight(ps, estimand = "ATE"), "sales", inference = "bayes",
#'                 draws = 1000, seed = 1)
#' @export
estimate_effect <- function(x, outcome, method = c("difference", "regression"), covariates = NULL,
                            inference = c("robust", "bayes"), level = 0.95, draws = 4000, seed = NULL) {
  call <- match.call()
  if (!inherits(x, c("hbmmm_match", "hbmmm_weight"))) {
    abort_input("x", sprintf("must come from ps_match() or ps_weight(); found %s", describe_value(x)))
  }
  method <- match_choice(method, c("difference", "regression"), "method")
  inference <- match_choice(inference, c("robust", "bayes"), "inference")
  check_level(level)
  draws <- check_count(draws, "draws", 100, 1e6)
  data <- x$data
  y <- effect_outcome(outcome, data)
  t <- x$treat
  w <- x$weights
  Z <- cbind(`(Intercept)` = 1, treat = t)
  if (method == "regression") Z <- cbind(Z, effect_covariates(x, covariates))
  use <- w > 0
  cluster <- if (inherits(x, "hbmmm_match") && !x$replace) as.integer(x$subclass) else seq_along(t)
  Z <- Z[use, , drop = FALSE]
  y <- y[use]
  w <- w[use]
  cluster <- cluster[use]
  # drop covariates that are constant or collinear in the adjusted sample
  q <- qr(Z * sqrt(w))
  if (q$rank < ncol(Z)) {
    keep <- sort(q$pivot[seq_len(q$rank)])
    if (!all(1:2 %in% keep)) abort_input("x", "the treatment is constant in the matched or weighted sample")
    Z <- Z[, keep, drop = FALSE]
  }
  fit <- wls_fit(Z, y, w)
  est <- fit$coef[2L]
  n_tr <- sum(t[use] == 1L)
  n_co <- sum(t[use] == 0L)
  alpha <- (1 - level) / 2
  if (inference == "robust") {
    V <- sandwich_vcov(Z, fit$resid, w, fit$bread, cluster)
    se <- sqrt(V[2L, 2L])
    z <- stats::qnorm(1 - alpha)
    res <- data.frame(estimand = x$estimand, method = method, inference = inference, estimate = est,
                      std_error = se, lower = est - z * se, upper = est + z * se,
                      p_value = 2 * stats::pnorm(-abs(est / se)), n_treated = n_tr, n_control = n_co)
    post <- NULL
  } else {
    restore <- sim_seed(seed)
    if (!is.null(restore)) on.exit(restore(), add = TRUE)
    post <- bayes_bootstrap(Z, y, w, cluster, draws)
    qs <- stats::quantile(post, c(alpha, 1 - alpha), names = FALSE)
    res <- data.frame(estimand = x$estimand, method = method, inference = inference, estimate = mean(post),
                      std_error = stats::sd(post), lower = qs[1], upper = qs[2], p_value = NA_real_,
                      n_treated = n_tr, n_control = n_co)
  }
  rownames(res) <- NULL
  structure(list(estimate = res, draws = post, level = level, call = call), class = "hbmmm_effect")
}

effect_outcome <- function(outcome, data) {
  y <- if (is.character(outcome) && length(outcome) == 1L) {
    if (!outcome %in% names(data)) {
      abort_input("outcome", sprintf("column `%s` is not in the data%s", outcome, suggest_name(outcome, names(data))))
    }
    data[[outcome]]
  } else outcome
  if (!is.numeric(y) || length(y) != nrow(data)) {
    abort_input("outcome", sprintf("must be a numeric column name or a numeric vector with one value per row (%d); found %s",
                                   nrow(data), describe_value(y)))
  }
  if (any(!is.finite(y))) {
    abort_input("outcome", sprintf("has %d missing or non-finite value(s), first at row %d", sum(!is.finite(y)),
                                   which(!is.finite(y))[1]))
  }
  as.double(y)
}

effect_covariates <- function(x, covariates) {
  if (is.null(covariates)) {
    X <- x$ps$covariates
  } else {
    if (!is.character(covariates) || anyNA(covariates) || !length(covariates)) {
      abort_input("covariates", sprintf("must be NULL or column names; found %s", describe_value(covariates)))
    }
    miss <- setdiff(covariates, names(x$data))
    if (length(miss)) {
      abort_input("covariates", sprintf("column `%s` is not in the data%s", miss[1], suggest_name(miss[1], names(x$data))))
    }
    check_complete(x$data, covariates)
    X <- covariate_matrix(x$data[covariates])
  }
  X
}

wls_fit <- function(Z, y, w) {
  sw <- sqrt(w)
  q <- qr(Z * sw)
  coef <- qr.coef(q, y * sw)
  R <- qr.R(q)
  bread <- chol2inv(R)
  bread[, q$pivot] <- bread
  bread[q$pivot, ] <- bread
  list(coef = coef, resid = drop(y - Z %*% coef), bread = bread)
}

sandwich_vcov <- function(Z, e, w, bread, cluster) {
  n <- nrow(Z)
  p <- ncol(Z)
  s <- rowsum(Z * (w * e), cluster, reorder = FALSE)
  G <- nrow(s)
  meat <- crossprod(s)
  adj <- if (G < n) G / (G - 1) * (n - 1) / (n - p) else n / (n - p)
  adj * bread %*% meat %*% bread
}

# Bayesian bootstrap of the treatment coefficient of a weighted regression:
# exponential weights by cluster, in blocks of draws.
bayes_bootstrap <- function(Z, y, w, cluster, draws) {
  p <- ncol(Z)
  cl <- match(cluster, unique(cluster))
  G <- max(cl)
  ij <- which(lower.tri(diag(p), TRUE), arr.ind = TRUE)
  ZZ <- rowsum(vapply(seq_len(nrow(ij)), function(m) w * Z[, ij[m, 1L]] * Z[, ij[m, 2L]], numeric(nrow(Z))),
               cl, reorder = FALSE)
  Zy <- rowsum(Z * (w * y), cl, reorder = FALSE)
  out <- numeric(draws)
  lt <- which(lower.tri(diag(p), TRUE))
  block <- max(1L, min(draws, floor(2e6 / G)))
  done <- 0L
  while (done < draws) {
    b <- min(block, draws - done)
    g <- matrix(stats::rexp(b * G), b, G)
    A <- g %*% ZZ
    B <- g %*% Zy
    for (s in seq_len(b)) {
      M <- matrix(0, p, p)
      M[lt] <- A[s, ]
      M <- M + t(M) - diag(diag(M), p)
      out[done + s] <- solve(M, B[s, ])[2L]
    }
    done <- done + b
  }
  out
}

#' @rdname estimate_effect
#' @param digits Significant digits.
#' @param ... Ignored.
#' @export
print.hbmmm_effect <- function(x, digits = 4, ...) {
  e <- x$estimate
  cat(sprintf("<hbmmm_effect> %s by %s, %s inference\n", e$estimand,
              if (e$method == "difference") "weighted difference in means" else "weighted regression adjustment",
              if (e$inference == "robust") "robust" else sprintf("Bayesian bootstrap (%d draws)", length(x$draws))))
  cat(sprintf("  estimate %s (%s %s), %g%% %s [%s, %s]%s\n", format(e$estimate, digits = digits),
              if (e$inference == "robust") "se" else "posterior sd", format(e$std_error, digits = digits),
              100 * x$level, if (e$inference == "robust") "CI" else "credible interval",
              format(e$lower, digits = digits), format(e$upper, digits = digits),
              if (e$inference == "robust") sprintf(", p = %s", format.pval(e$p_value, digits = 3)) else ""))
  cat(sprintf("  units used: %d treated, %d control\n", e$n_treated, e$n_control))
  invisible(x)
}

#' Treatment effects of media channels from a fitted hierarchical model
#'
#' For every row of the data and every posterior draw, compares the
#' model's expected outcome with a channel's exposure switched on and switched
#' off (set to zero in every period, so that its adstock memory is empty too):
#' the difference is that row's individual treatment effect (ITE). Averaging
#' ITEs gives, per draw, the average effect over everyone (ATE), over the
#' exposed rows (ATT: rows whose observed exposure is positive, whatever
#' `on` is), over the
#' rows of each segment (conditional effects, e.g. by age or income band),
#' and over the rows of each individual. Posterior means and central
#' credible intervals summarize the draws.
#'
#' "On" is the observed exposure by default, so unexposed rows have an effect
#' of zero and the ATT is the effect of the exposure actually received. With
#' `on = v` every row's exposure is set to `v` (for example `on = 1` for a 0/1
#' exposure indicator), which gives the effect of exposing everyone.
#'
#' The per-draw linear predictors come from the model's components
#' (baseline, controls and each channel's contribution), so every term that
#' contains the channel (its fixed and group-level slopes, and its
#' interactions with consumer characteristics) enters the effect.
#'
#' To fit the hierarchical model on a balanced pseudo-population, pass
#' propensity weights from [ps_weight()] as `hbmmm(weights = )` (they are
#' rescaled to mean one).
#'
#' @param fit An `hbmmm_fit`.
#' @param channels Channels to evaluate (default: every media channel).
#' @param by Names of columns of the data defining segments (each column
#'   separately), e.g. `c("age_band", "income_band")`.
#' @param individual Name of the column identifying individuals (default: the
#'   model's panel column when it is a single column, otherwise each row is
#'   its own individual).
#' @param on `NULL` (observed exposure) or one non-negative number: the
#'   exposure of every row when the channel is switched on.
#' @param draws `NULL` (all draws) or indices of the draws to use (rows of
#'   `as.matrix(fit)`), to bound memory on large data.
#' @param level Credible interval probability.
#' @return An object of class `hbmmm_te`, a list of data frames with columns
#'   `mean`, `sd`, `lower`, `upper`:
#'   \describe{
#'     \item{`ate`}{one row per channel and estimand (`"ATE"`, `"ATT"`) with
#'       `n` rows averaged over.}
#'     \item{`segments`}{one row per channel, `by` column and level.}
#'     \item{`individual`}{one row per channel and individual.}
#'   }
#'   and `draws`, a list by channel of the per-draw ATE and ATT (matrix
#'   draws x 2). `plot()` shows the distribution of individual effects by
#'   channel.
#' @seealso [estimate_effect()] for matching and weighting estimators.
#' @examples
#' \donttest{
#' sim <- simulate_confounded(n = 400, seed = 1)
#' fit <- hbmmm(sales ~ treat + treat:age_z + treat:income_z + age_z + income_z + loyal +
#'                (1 | region), data = sim$data, media = "treat", adstock = "none",
#'              saturation = "none", chains = 2, iter = 400, seed = 1, refresh = 0)
#' te <- treatment_effects(fit, on = 1, by = "age_band", individual = "id")
#' te$ate
#' sim$truth[c("ATE", "SATE")]
#' te$segments
#' plot(te)
#' }
#' @export
treatment_effects <- function(fit, channels = NULL, by = NULL, individual = NULL, on = NULL,
                              draws = NULL, level = 0.95) {
  check_model_fit(fit, what = "treatment_effects()")
  spec <- fit$spec
  media <- spec$media
  if (!length(media)) abort_input("fit", "has no media channels; name them with `media` when fitting")
  channels <- if (is.null(channels)) media else {
    if (!is.character(channels) || anyNA(channels) || !length(channels) || any(!channels %in% media)) {
      bad <- if (is.character(channels)) setdiff(channels, media)[1] else NA
      abort_input("channels", sprintf("must be media channels of the fit (%s); found %s", paste(media, collapse = ", "),
                                      if (!is.na(bad)) sprintf("`%s`", bad) else describe_value(channels)))
    }
    unique(channels)
  }
  check_level(level)
  data <- spec$data[order(spec$row_order), , drop = FALSE]
  rownames(data) <- NULL
  for (v in by) check_column_name(v, data, "by")
  if (!is.null(by) && (!is.character(by) || anyNA(by))) abort_input("by", sprintf("must be column names; found %s", describe_value(by)))
  if (is.null(individual)) {
    ind <- if (!is.null(spec$panel) && length(spec$panel) == 1L) data[[spec$panel]] else seq_len(nrow(data))
  } else {
    check_column_name(individual, data, "individual")
    ind <- data[[individual]]
  }
  if (!is.null(on) && (!is.numeric(on) || length(on) != 1L || !is.finite(on) || on < 0)) {
    abort_input("on", sprintf("must be NULL or one non-negative number; found %s", describe_value(on)))
  }
  alpha <- (1 - level) / 2
  summ <- function(m) {
    data.frame(mean = colMeans(m), sd = apply(m, 2, stats::sd),
               lower = apply(m, 2, stats::quantile, alpha, names = FALSE),
               upper = apply(m, 2, stats::quantile, 1 - alpha, names = FALSE), row.names = NULL)
  }
  ate <- seg <- indiv <- list()
  post <- list()
  ind_f <- factor(ind, levels = unique(ind))
  cnt <- tabulate(as.integer(ind_f), nlevels(ind_f))
  comp_obs <- if (is.null(on)) mmm_components(fit, draws = draws)
  for (ch in channels) {
    comp <- if (is.null(on)) comp_obs else {
      nd <- data
      nd[[ch]] <- on
      mmm_components(fit, newdata = nd, draws = draws, history = FALSE)
    }
    ite <- comp$media[[ch]]
    exposed <- data[[ch]] > 0
    d_ate <- rowMeans(ite)
    d_att <- if (any(exposed)) rowMeans(ite[, exposed, drop = FALSE]) else rep(NA_real_, nrow(ite))
    post[[ch]] <- cbind(ATE = d_ate, ATT = d_att)
    ate[[ch]] <- data.frame(channel = ch, estimand = c("ATE", "ATT"), summ(post[[ch]]),
                            n = c(nrow(data), sum(exposed)))
    for (v in by) {
      f <- factor(data[[v]])
      m <- t(rowsum(t(ite), f, reorder = TRUE)) / rep(tabulate(as.integer(f), nlevels(f)), each = nrow(ite))
      seg[[paste(ch, v)]] <- data.frame(channel = ch, by = v, level = levels(f), summ(m),
                                        n = tabulate(as.integer(f), nlevels(f)))
    }
    m <- t(rowsum(t(ite), ind_f, reorder = FALSE)) / rep(cnt, each = nrow(ite))
    indiv[[ch]] <- data.frame(channel = ch, individual = levels(ind_f), summ(m))
  }
  bind <- function(l) if (length(l)) `rownames<-`(do.call(rbind, l), NULL) else NULL
  structure(list(ate = bind(ate), segments = bind(seg), individual = bind(indiv), draws = post,
                 level = level, on = on, channels = channels),
            class = "hbmmm_te")
}

#' @rdname treatment_effects
#' @param x An `hbmmm_te` object.
#' @param digits Significant digits.
#' @param ... For `plot()`, graphical parameters passed to
#'   [graphics::boxplot()]; ignored by `print()`.
#' @export
print.hbmmm_te <- function(x, digits = 3, ...) {
  cat(sprintf("<hbmmm_te> treatment effects of %s (exposure %s vs none), %g%% credible intervals\n",
              paste(x$channels, collapse = ", "), if (is.null(x$on)) "as observed" else paste("set to", format(x$on)),
              100 * x$level))
  print(format(x$ate, digits = digits), row.names = FALSE, quote = FALSE)
  if (!is.null(x$segments)) {
    cat("Conditional effects by segment:\n")
    print(format(x$segments, digits = digits), row.names = FALSE, quote = FALSE)
  }
  cat(sprintf("Individual effects: %d individuals per channel (see $individual)\n",
              nrow(x$individual) / length(x$channels)))
  invisible(x)
}

#' @rdname treatment_effects
#' @export
plot.hbmmm_te <- function(x, ...) {
  vals <- split(x$individual$mean, factor(x$individual$channel, levels = x$channels))
  args <- utils::modifyList(list(x = vals, xlab = "Channel", ylab = "Individual treatment effect (posterior mean)",
                                 main = "Distribution of individual treatment effects", col = "grey85",
                                 show.names = TRUE), list(...))
  do.call(graphics::boxplot, args)
  graphics::abline(h = 0, lty = 3, col = "grey50")
  a <- x$ate[x$ate$estimand == "ATE", ]
  graphics::points(seq_along(x$channels), a$mean[match(x$channels, a$channel)], pch = 18, cex = 1.6)
  graphics::legend("topright", legend = "ATE (posterior mean)", pch = 18, bty = "n", cex = 0.8)
  invisible(vals)
}
