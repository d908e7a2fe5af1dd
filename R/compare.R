# Model comparison: WAIC, PSIS-LOO (own implementation of Pareto-smoothed
# importance sampling), DIC, K-fold cross-validation, fit metrics and the
# side-by-side table of the published analyses.

as_log_lik <- function(x, arg = "x") {
  ll <- if (inherits(x, "hbmmm_fit")) log_lik.hbmmm_fit(check_model_fit(x, arg, "log_lik()")) else x
  if (!is.matrix(ll) || !is.numeric(ll) || nrow(ll) < 2 || !ncol(ll) || anyNA(ll)) {
    abort_input(arg, sprintf("must be an hbmmm_fit or a numeric log-likelihood matrix [draw, observation] with at least 2 draws; found %s",
                             describe_value(x)))
  }
  ll
}

log_mean_exp_cols <- function(ll) {
  m <- apply(ll, 2, max)
  m + log(colMeans(exp(sweep(ll, 2, m))))
}

ic_estimates <- function(pointwise) {
  n <- nrow(pointwise)
  est <- cbind(Estimate = colSums(pointwise), SE = sqrt(n * apply(pointwise, 2, stats::var)))
  rownames(est) <- colnames(pointwise)
  est
}

#' Widely applicable information criterion
#'
#' WAIC of Watanabe (2010) as in Vehtari, Gelman & Gabry (2017):
#' `elpd_waic = sum_i (lppd_i - p_waic_i)`, with `lppd_i` the log of the mean
#' likelihood of observation `i` over draws and `p_waic_i` the variance (with
#' denominator `S - 1`) of its log-likelihood; `waic = -2 elpd_waic`. Standard
#' errors are `sqrt(n)` times the sd of the pointwise values.
#'
#' @param x An `hbmmm_fit`, or a log-likelihood matrix `[draw, observation]`.
#' @param ... Unused.
#' @return An object of class `hbmmm_ic` with `estimates` (a matrix with rows
#'   `elpd_waic`, `p_waic`, `waic` and columns `Estimate`, `SE`) and
#'   `pointwise` (one row per observation).
#' @references Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian
#'   model evaluation using leave-one-out cross-validation and WAIC.
#'   *Statistics and Computing*, 27, 1413-1432.
#' @examples
#' set.seed(1)
#' ll <- matrix(dnorm(rnorm(4000 * 3), log = TRUE), 4000, 3)
#' waic(ll)
#' @export
waic <- function(x, ...) {
  ll <- as_log_lik(x)
  lppd <- log_mean_exp_cols(ll)
  p <- apply(ll, 2, stats::var)
  pw <- cbind(elpd_waic = lppd - p, p_waic = p, waic = -2 * (lppd - p))
  structure(list(estimates = ic_estimates(pw), pointwise = pw, what = "WAIC"), class = "hbmmm_ic")
}

#' Pareto-smoothed importance sampling leave-one-out cross-validation
#'
#' Leave-one-out predictive densities by importance sampling with the raw
#' ratios `1 / p(y_i | theta_s)`, whose largest `M = ceiling(min(0.2 S,
#' 3 sqrt(S / r_eff)))` values are replaced by the expected order statistics
#' of a generalized Pareto distribution fitted to them (Zhang & Stephens
#' estimator with the weakly informative prior of Vehtari et al. 2024), then
#' truncated at the largest raw ratio. The fitted shape `k` of each
#' observation diagnoses the estimate: above `min(1 - 1 / log10(S), 0.7)` it is
#' unreliable (a classed warning `hbmmm_warning_pareto_k` says how many);
#' above 1 the importance sampling is hopeless.
#'
#' @param x An `hbmmm_fit`, or a log-likelihood matrix `[draw, observation]`.
#' @param r_eff Relative efficiency of the draws per observation (one value or
#'   one per observation). `NULL`: for a fit, the effective sample size of the
#'   likelihood of each observation over the split chains divided by the
#'   number of draws; for a matrix, 1.
#' @param ... Unused.
#' @return An object of class `hbmmm_ic` with `estimates` (rows `elpd_loo`,
#'   `p_loo`, `looic`), `pointwise` (columns `elpd_loo`, `p_loo`, `looic`,
#'   `pareto_k`) and `threshold` (the k threshold).
#' @references Vehtari, A., Simpson, D., Gelman, A., Yao, Y. and Gabry, J.
#'   (2024). Pareto smoothed importance sampling. *Journal of Machine Learning
#'   Research*, 25(72), 1-58.
#'
#'   Zhang, J. and Stephens, M. A. (2009). A new and efficient estimation
#'   method for the generalized Pareto distribution. *Technometrics*, 51,
#'   316-325.
#' @examples
#' set.seed(1)
#' mu <- rnorm(2000, 0, 0.1)
#' y <- c(-0.5, 0.2, 1.3, 4)
#' ll <- sapply(y, function(v) dnorm(v, mu, 1, log = TRUE))
#' psis_loo(ll)
#' @export
psis_loo <- function(x, r_eff = NULL, ...) {
  ll <- as_log_lik(x)
  S <- nrow(ll)
  n <- ncol(ll)
  if (is.null(r_eff)) {
    r_eff <- if (inherits(x, "hbmmm_fit")) relative_eff_fit(x, ll) else rep(1, n)
  }
  if (!is.numeric(r_eff) || !length(r_eff) %in% c(1L, n) || anyNA(r_eff) || any(r_eff <= 0)) {
    abort_input("r_eff", sprintf("must be positive, one value or one per observation (%d); found %s", n, describe_value(r_eff)))
  }
  r_eff <- rep_len(as.double(r_eff), n)
  storage.mode(ll) <- "double"
  ps <- .Call(C_hb_psis_loo, ll, r_eff) # src/psis.c
  elpd <- ps$elpd
  k <- ps$k
  lpd <- ps$lpd
  pw <- cbind(elpd_loo = elpd, p_loo = lpd - elpd, looic = -2 * elpd, pareto_k = k)
  thr <- min(1 - 1 / log10(S), 0.7)
  bad <- sum(k > thr)
  if (bad) {
    warn_classed("pareto_k", sprintf(paste0(
      "%d of %d observation(s) have a Pareto k above %.2f (%d above 1): their leave-one-out estimates are unreliable; ",
      "consider kfold() for this model"), bad, n, thr, sum(k > 1)))
  }
  structure(list(estimates = ic_estimates(pw[, 1:3, drop = FALSE]), pointwise = pw, threshold = thr, what = "PSIS-LOO"),
            class = "hbmmm_ic")
}

# Relative efficiency of exp(log_lik) per observation from the split-chain
# effective sample size of the mean.
relative_eff_fit <- function(fit, ll) {
  ni <- dim(fit$draws)[1]
  nc <- dim(fit$draws)[2]
  ess <- .Call(C_hb_ess_mean, as.double(exp(ll)), c(ni, nc, ncol(ll)))
  r <- ess / (ni * nc)
  r[!is.finite(r)] <- 1
  r
}

#' Deviance information criterion
#'
#' `D(theta) = -2 log p(y | theta)` over the draws; `Dbar` its posterior mean;
#' `Dhat` the deviance at the posterior means of the expected outcome of each
#' row and of its residual sd. Two effective numbers of parameters:
#' `p_D = Dbar - Dhat` (Spiegelhalter et al. 2002) and `p_V = var(D) / 2`
#' (Gelman et al. 2004); `DIC = Dbar + p_D` and `DIC_V = Dbar + p_V`.
#'
#' @param fit An `hbmmm_fit`.
#' @return A named numeric vector: `DIC`, `p_D`, `DIC_V`, `p_V`, `Dbar`, `Dhat`.
#' @examples
#' fit <- hbmmm(sales ~ tv + price, data = mmm_weekly, media = "tv", time = "week",
#'              panel = "market", chains = 2, iter = 200, seed = 1, refresh = 0)
#' dic(fit)
#' @export
dic <- function(fit) {
  check_model_fit(fit, what = "dic()")
  cm <- mmm_components(fit)
  y <- observed_y(fit)
  S <- nrow(cm$mu)
  D <- -2 * rowSums(matrix(stats::dnorm(rep(y, each = S), cm$mu, cm$sigma, log = TRUE), S))
  Dhat <- -2 * sum(stats::dnorm(y, colMeans(cm$mu), colMeans(cm$sigma), log = TRUE))
  Dbar <- mean(D)
  pD <- Dbar - Dhat
  pV <- stats::var(D) / 2
  c(DIC = Dbar + pD, p_D = pD, DIC_V = Dbar + pV, p_V = pV, Dbar = Dbar, Dhat = Dhat)
}

#' @export
print.hbmmm_ic <- function(x, digits = 1, ...) {
  cat(sprintf("%s estimates from %d observations\n\n", x$what, nrow(x$pointwise)))
  print(round(x$estimates, digits))
  if (!is.null(x$pointwise) && "pareto_k" %in% colnames(x$pointwise)) {
    k <- x$pointwise[, "pareto_k"]
    tab <- table(cut(k, c(-Inf, x$threshold, 1, Inf),
                     labels = c(sprintf("(-Inf, %.2f] (good)", x$threshold), sprintf("(%.2f, 1] (bad)", x$threshold),
                                "(1, Inf) (very bad)")))
    cat("\nPareto k diagnostic values:\n")
    print(cbind(Count = as.vector(tab), Pct = round(100 * as.vector(tab) / length(k), 1)) |>
            `rownames<-`(names(tab)))
  }
  invisible(x)
}

#' K-fold cross-validation
#'
#' Refits the model K times, each time without one fold of rows, and
#' evaluates the log predictive density of the held-out rows:
#' `elpd_kfold = sum_i log mean_s p(y_i | theta_s^(-fold(i)))`. Held-out rows
#' whose time follows the training rows of their panel continue its adstock
#' memory; other held-out rows (gaps inside a series) start a fresh adstock
#' series, so grouped folds (`group`, e.g. by market) or blocks of late weeks
#' suit time-series models best.
#'
#' @param fit An `hbmmm_fit`.
#' @param K Number of folds.
#' @param folds Optional integer vector giving the fold (1..K) of each row of
#'   the original data.
#' @param group Optional column name: rows of one level of it stay in one
#'   fold (grouped folds).
#' @param seed Seed of the random fold assignment.
#' @param ... Further arguments for the refits (e.g. `iter`, `chains`).
#' @return An object of class `hbmmm_ic` with rows `elpd_kfold`, `p_kfold`,
#'   `kfoldic`, plus `folds`.
#' @examples
#' \donttest{
#' fit <- hbmmm(sales ~ tv + price, data = mmm_weekly, media = "tv", time = "week",
#'              panel = "market", chains = 2, iter = 200, seed = 1, refresh = 0)
#' kfold(fit, K = 4, group = "market")
#' }
#' @export
kfold <- function(fit, K = 10, folds = NULL, group = NULL, seed = NULL, ...) {
  check_model_fit(fit, what = "kfold()")
  data <- original_data(fit$spec)
  n <- nrow(data)
  if (is.null(folds)) {
    K <- check_count(K, "K", 2, n)
    if (!is.null(seed)) {
      restore <- save_rng()
      on.exit(restore())
      set.seed(check_seed(seed))
    }
    if (!is.null(group)) {
      check_column_name(group, data, "group")
      lv <- unique(as.character(data[[group]]))
      if (length(lv) < K) abort_input("K", sprintf("must not exceed the %d levels of `%s`", length(lv), group))
      fl <- sample(rep_len(seq_len(K), length(lv)))
      folds <- fl[match(as.character(data[[group]]), lv)]
    } else {
      folds <- sample(rep_len(seq_len(K), n))
    }
  } else {
    if (!is.numeric(folds) || length(folds) != n || anyNA(folds) || any(folds != round(folds)) || any(folds < 1)) {
      abort_input("folds", sprintf("must be whole numbers >= 1, one per row (%d); found %s", n, describe_value(folds)))
    }
    folds <- as.integer(folds)
    K <- max(folds)
  }
  ll_parts <- vector("list", K)
  elpd <- numeric(n)
  lpd_in <- log_mean_exp_cols(log_lik.hbmmm_fit(fit))
  for (k in sort(unique(folds))) {
    test <- folds == k
    refit <- suppressWarnings(update.hbmmm_fit(fit, data = data[!test, , drop = FALSE], refresh = 0, ...),
                              classes = "hbmmm_warning")
    ll <- suppressWarnings(log_lik.hbmmm_fit(refit, newdata = data[test, , drop = FALSE]), classes = "hbmmm_warning")
    elpd[test] <- log_mean_exp_cols(ll)
  }
  pw <- cbind(elpd_kfold = elpd, p_kfold = lpd_in - elpd, kfoldic = -2 * elpd)
  structure(list(estimates = ic_estimates(pw), pointwise = pw, folds = folds, what = sprintf("%d-fold CV", K)),
            class = "hbmmm_ic")
}

# RMSE, MAE, R^2 (1 - SSE / SST with the posterior mean prediction) and the
# share of observations inside the central 95% posterior predictive interval.
fit_metrics <- function(fit, newdata = NULL, seed = 1) {
  y <- if (is.null(newdata)) observed_y(fit) else newdata_response(fit, newdata)
  cm <- mmm_components(fit, newdata)
  restore <- save_rng()
  on.exit(restore())
  set.seed(seed)
  yrep <- cm$mu + cm$sigma * matrix(stats::rnorm(length(cm$mu)), nrow(cm$mu))
  pred <- colMeans(cm$mu)
  lo <- apply(yrep, 2, stats::quantile, 0.025, names = FALSE)
  hi <- apply(yrep, 2, stats::quantile, 0.975, names = FALSE)
  c(RMSE = sqrt(mean((y - pred)^2)), MAE = mean(abs(y - pred)),
    R2 = 1 - sum((y - pred)^2) / sum((y - mean(y))^2), coverage95 = mean(y >= lo & y <= hi))
}

#' Compare fitted models side by side
#'
#' The table of the published analyses: DIC, WAIC and LOOIC, and the
#' in-sample (and, with `newdata`, out-of-sample) RMSE, MAE, R^2 and coverage
#' of the 95% posterior predictive intervals, one column per model.
#'
#' @param ... Fits (`hbmmm_fit`) and benchmark models ([fit_baseline()]),
#'   optionally named. Benchmarks without posterior draws get `NA` for DIC,
#'   WAIC and LOOIC.
#' @param newdata Optional held-out data frame (with the response) for the
#'   out-of-sample metrics; forecasts continue the adstock memory of the
#'   training data.
#' @param seed Seed of the predictive draws behind the interval coverage.
#' @return An object of class `hbmmm_comparison`: a data frame with one row
#'   per criterion and one column per model.
#' @examples
#' \donttest{
#' train <- mmm_weekly[mmm_weekly$week <= 80, ]
#' test <- mmm_weekly[mmm_weekly$week > 80, ]
#' f1 <- hbmmm(sales ~ tv + price, data = train, media = "tv", time = "week",
#'             panel = "market", chains = 2, iter = 300, seed = 1, refresh = 0)
#' f2 <- hbmmm(sales ~ tv + price + (1 + tv | market), data = train, media = "tv",
#'             time = "week", chains = 2, iter = 300, seed = 1, refresh = 0)
#' compare_models(pooled = f1, hierarchical = f2, newdata = test)
#' }
#' @export
compare_models <- function(..., newdata = NULL, seed = 1) {
  fits <- list(...)
  if (!length(fits)) abort_input("...", "needs at least one hbmmm_fit")
  nms <- names(fits)
  if (is.null(nms)) nms <- rep("", length(fits))
  exprs <- vapply(as.list(substitute(list(...)))[-1L], deparse1, "")
  nms[nms == ""] <- exprs[nms == ""]
  for (i in seq_along(fits)) {
    if (!inherits(fits[[i]], c("hbmmm_fit", "hbmmm_baseline"))) {
      abort_input("...", sprintf("element %d (`%s`) must be an hbmmm_fit or an hbmmm_baseline; found %s",
                                 i, nms[i], describe_value(fits[[i]])))
    }
  }
  rows <- lapply(fits, function(f) {
    if (inherits(f, "hbmmm_baseline")) {
      # no posterior draws: the information criteria are not defined
      v <- c(DIC = NA_real_, WAIC = NA_real_, LOOIC = NA_real_)
      ins <- baseline_metrics(f)
      names(ins) <- paste0(names(ins), "_in")
      v <- c(v, ins)
      if (!is.null(newdata)) {
        out <- baseline_metrics(f, newdata)
        names(out) <- paste0(names(out), "_out")
        v <- c(v, out)
      }
      return(v)
    }
    quiet <- function(expr) suppressWarnings(expr, classes = "hbmmm_warning_online_ranef")
    v <- c(DIC = dic(f)[["DIC"]], WAIC = quiet(waic(f))$estimates["waic", "Estimate"],
           LOOIC = quiet(psis_loo(f))$estimates["looic", "Estimate"])
    ins <- quiet(fit_metrics(f, seed = seed))
    names(ins) <- paste0(names(ins), "_in")
    v <- c(v, ins)
    if (!is.null(newdata)) {
      out <- quiet(fit_metrics(f, newdata, seed = seed))
      names(out) <- paste0(names(out), "_out")
      v <- c(v, out)
    }
    v
  })
  tab <- as.data.frame(do.call(cbind, rows))
  names(tab) <- nms
  structure(tab, class = c("hbmmm_comparison", "data.frame"))
}

#' @export
print.hbmmm_comparison <- function(x, digits = 3, ...) {
  m <- as.matrix(as.data.frame(unclass(x), optional = TRUE))
  # criteria to one decimal, metrics to `digits` significant digits
  out <- t(apply(m, 1, function(r) {
    if (all(abs(r) >= 100, na.rm = TRUE)) formatC(r, format = "f", digits = 1) else formatC(signif(r, digits), format = "g", digits = digits)
  }))
  if (ncol(m) == 1L) out <- t(out)
  dimnames(out) <- list(attr(x, "row.names"), names(x))
  print(noquote(out), right = TRUE)
  invisible(x)
}
