# Predictions and estimates from a fit: expected values, posterior
# predictive draws, fitted values, residuals, log-likelihood, and the
# population-level and group-level coefficients. Every per-draw quantity
# comes from mmm_components() (R/components.R).

#' Predictions from a fitted model
#'
#' * `posterior_epred()`: draws of the expected outcome (the linear
#'   predictor), a matrix `[draw, row]`.
#' * `posterior_predict()`: draws from the posterior predictive distribution,
#'   `y_rep ~ Normal(mu, sigma)` per row.
#' * `predict()`: summaries of `posterior_predict()` (or the draws with
#'   `summary = FALSE`); `fitted()`: summaries of `posterior_epred()`;
#'   `residuals()`: observed minus expected outcome.
#'
#' With `newdata`, rows of a panel seen in training whose time comes after
#' the training data continue the adstock memory of that panel's training
#' media (`history = TRUE`), so forecasts carry over past spend. Levels of
#' grouping factors not seen in training get group-level effects of zero;
#' residual sds of `sigma_by` levels not seen in training are the root mean
#' of the fitted levels' variances; new rows have weight 1. Group-level effects
#' summarized online (see `keep_ranef` in [hbmmm_spec()]) enter at their
#' posterior means, with a warning.
#'
#' @param object An `hbmmm_fit`.
#' @param newdata Optional data frame with the model's columns; `NULL` uses
#'   the training data (rows in their original order).
#' @param draws Optional indices of draws (rows of `as.matrix(object)`).
#' @param history Continue the adstock memory of training panels into
#'   `newdata`?
#' @param summary Return summaries (`TRUE`) or draws?
#' @param probs Probabilities of the quantiles reported.
#' @param seed Optional seed for the predictive draws.
#' @param ... Not used; any argument passed here is an error (a misspelled
#'   argument would otherwise be ignored silently).
#' @return `posterior_epred()`, `posterior_predict()` and the methods with
#'   `summary = FALSE`: a numeric matrix `[draw, row]`. With `summary = TRUE`:
#'   a data frame with one row per observation and columns `Estimate`,
#'   `Est.Error` and one per quantile (`Q2.5`, `Q97.5`).
#' @examples
#' fit <- hbmmm(sales ~ tv + price, data = mmm_weekly, media = "tv", time = "week",
#'              panel = "market", chains = 2, iter = 200, seed = 1, refresh = 0)
#' head(fitted(fit))
#' head(residuals(fit))
#' nd <- mmm_weekly[mmm_weekly$week == max(mmm_weekly$week), ]
#' nd$week <- nd$week + 1
#' predict(fit, newdata = nd, seed = 1)
#' @name hbmmm-predict
NULL

#' @rdname hbmmm-predict
#' @export
posterior_epred <- function(object, ...) UseMethod("posterior_epred")

#' @rdname hbmmm-predict
#' @export
posterior_predict <- function(object, ...) UseMethod("posterior_predict")

#' @rdname hbmmm-predict
#' @export
posterior_epred.hbmmm_fit <- function(object, newdata = NULL, draws = NULL, history = TRUE, ...) {
  check_dots_empty(...)
  mmm_components(object, newdata, draws, history)$mu
}

#' @rdname hbmmm-predict
#' @export
posterior_predict.hbmmm_fit <- function(object, newdata = NULL, draws = NULL, history = TRUE, seed = NULL, ...) {
  check_dots_empty(...)
  cm <- mmm_components(object, newdata, draws, history)
  if (!is.null(seed)) {
    seed <- check_seed(seed)
    restore <- save_rng()
    on.exit(restore())
    set.seed(seed)
  }
  cm$mu + cm$sigma * matrix(stats::rnorm(length(cm$mu)), nrow(cm$mu))
}

#' @rdname hbmmm-predict
#' @export
predict.hbmmm_fit <- function(object, newdata = NULL, draws = NULL, history = TRUE, summary = TRUE,
                              probs = c(0.025, 0.975), seed = NULL, ...) {
  check_dots_empty(...)
  yrep <- posterior_predict.hbmmm_fit(object, newdata, draws, history, seed)
  if (check_flag(summary, "summary")) summarise_columns(yrep, probs) else yrep
}

#' @rdname hbmmm-predict
#' @export
fitted.hbmmm_fit <- function(object, newdata = NULL, draws = NULL, history = TRUE, summary = TRUE,
                             probs = c(0.025, 0.975), ...) {
  check_dots_empty(...)
  mu <- posterior_epred.hbmmm_fit(object, newdata, draws, history)
  if (check_flag(summary, "summary")) summarise_columns(mu, probs) else mu
}

#' @rdname hbmmm-predict
#' @export
residuals.hbmmm_fit <- function(object, draws = NULL, summary = TRUE, probs = c(0.025, 0.975), ...) {
  check_dots_empty(...)
  mu <- posterior_epred.hbmmm_fit(object, NULL, draws)
  res <- -sweep(mu, 2, observed_y(object))
  if (check_flag(summary, "summary")) summarise_columns(res, probs) else res
}

# The response in the user's original row order and units (the model's
# per-capita response times the population, with one).
observed_y <- function(object) {
  spec <- object$spec
  y <- numeric(spec$nobs)
  y[spec$row_order] <- if (is.null(spec$pop)) spec$y else spec$y * spec$pop
  y
}

check_probs <- function(probs) {
  if (!is.numeric(probs) || !length(probs) || anyNA(probs) || any(probs < 0 | probs > 1)) {
    abort_input("probs", sprintf("must be probabilities in [0, 1]; found %s", describe_value(probs)))
  }
  probs
}

# Column summaries of a draws matrix: Estimate, Est.Error and quantiles.
summarise_columns <- function(m, probs = c(0.025, 0.975)) {
  probs <- check_probs(probs)
  q <- apply(m, 2, stats::quantile, probs = probs, names = FALSE)
  q <- matrix(q, nrow = length(probs))
  out <- data.frame(Estimate = colMeans(m), Est.Error = apply(m, 2, stats::sd))
  for (i in seq_along(probs)) out[[paste0("Q", probs[i] * 100)]] <- q[i, ]
  rownames(out) <- NULL
  out
}

#' Pointwise log-likelihood
#'
#' The log density of each observation under each posterior draw,
#' `log Normal(y_i | mu_i, sigma_i)`: the input of [waic()] and [psis_loo()],
#' and of `loo::loo()` on a fit when \pkg{loo} is installed.
#'
#' @param object An `hbmmm_fit`.
#' @param newdata Optional data frame (with the response column) to evaluate
#'   instead of the training data.
#' @param draws Optional indices of draws.
#' @param history See [predict.hbmmm_fit()].
#' @param ... Not used; any argument passed here is an error (a misspelled
#'   argument would otherwise be ignored silently).
#' @return A numeric matrix `[draw, observation]`.
#' @examples
#' fit <- hbmmm(sales ~ tv + price, data = mmm_weekly, media = "tv", time = "week",
#'              panel = "market", chains = 2, iter = 200, seed = 1, refresh = 0)
#' dim(log_lik(fit))
#' @export
log_lik <- function(object, ...) UseMethod("log_lik")

#' @rdname log_lik
#' @export
log_lik.hbmmm_fit <- function(object, newdata = NULL, draws = NULL, history = TRUE, ...) {
  check_dots_empty(...)
  cm <- mmm_components(object, newdata, draws, history)
  y <- if (is.null(newdata)) observed_y(object) else newdata_response(object, newdata)
  stats::dnorm(rep(y, each = nrow(cm$mu)), cm$mu, cm$sigma, log = TRUE) |>
    matrix(nrow = nrow(cm$mu))
}

newdata_response <- function(object, newdata) {
  resp <- parse_formula(object$spec$formula)$response
  y <- tryCatch(eval(resp, newdata, environment(object$spec$formula)), error = function(e) NULL)
  if (!is.numeric(y) || length(y) != nrow(newdata) || any(!is.finite(y))) {
    abort_input("newdata", sprintf("must hold the response `%s` (finite numbers) to evaluate the likelihood",
                                   deparse1(resp)))
  }
  y
}

#' Population-level, group-level and per-level coefficients
#'
#' * `fixef()`: the population-level (fixed) effects `b_*`.
#' * `ranef()`: the group-level effects, by grouping term (from the draws, or
#'   from the online summaries for terms summarized online).
#' * `coef()`: per level of each grouping term, the sum of the fixed effect
#'   and the group-level effect of each term that varies by it (fixed effects
#'   alone for the other terms).
#'
#' @param object An `hbmmm_fit`.
#' @param summary Summaries (`TRUE`) or draws?
#' @param probs Probabilities of the quantiles reported.
#' @param ... Not used; any argument passed here is an error (a misspelled
#'   argument would otherwise be ignored silently).
#' @return `fixef()`: a data frame with one row per term (`Estimate`,
#'   `Est.Error`, quantiles), or a draws matrix. `ranef()` and `coef()`: a named
#'   list by grouping term of data frames with columns `level`, `term`,
#'   `Estimate`, `Est.Error` and quantiles (or, with `summary = FALSE`, of
#'   draws matrices with columns `level,term`). Terms summarized online have
#'   only the online summary: `coef()` then adds posterior means and reports
#'   `NA` spread.
#' @examples
#' fit <- hbmmm(sales ~ tv + price + (1 + tv | market), data = mmm_weekly, media = "tv",
#'              time = "week", chains = 2, iter = 200, seed = 1, refresh = 0)
#' fixef(fit)
#' head(ranef(fit)$market)
#' head(coef(fit)$market)
#' @name hbmmm-coef
NULL

#' @rdname hbmmm-coef
#' @export
fixef <- function(object, ...) UseMethod("fixef")

#' @rdname hbmmm-coef
#' @export
ranef <- function(object, ...) UseMethod("ranef")

#' @rdname hbmmm-coef
#' @export
fixef.hbmmm_fit <- function(object, summary = TRUE, probs = c(0.025, 0.975), ...) {
  check_dots_empty(...)
  check_model_fit(object, "object", "fixef()")
  nm <- object$spec$X$names
  m <- as.matrix.hbmmm_fit(object, paste0("b_", term_label(nm)))
  colnames(m) <- term_label(nm)
  if (!check_flag(summary, "summary")) return(m)
  out <- summarise_columns(m, probs)
  rownames(out) <- colnames(m)
  out
}

# Draws of group-level effects of term g: [draws x (levels * terms)] with
# columns "level,term" (levels within terms), or NULL when summarized online.
ranef_draws <- function(object, g) {
  t <- object$spec$ranef[[g]]
  if (!object$spec$keep[[g]]$full) return(NULL)
  tn <- term_label(t$Z$names)
  cols <- sprintf("r_%s[%s,%s]", g, rep(t$levels, times = length(tn)), rep(tn, each = length(t$levels)))
  m <- as.matrix.hbmmm_fit(object, cols)
  colnames(m) <- paste(rep(t$levels, times = length(tn)), rep(tn, each = length(t$levels)), sep = ",")
  m
}

label_summary <- function(s, t) {
  tn <- term_label(t$Z$names)
  cbind(data.frame(level = rep(t$levels, times = length(tn)), term = rep(tn, each = length(t$levels)),
                   stringsAsFactors = FALSE), s)
}

online_summary <- function(object, g, probs) {
  rs <- object$ranef_summary[[g]]
  out <- data.frame(level = rs$level, term = rs$term, Estimate = rs$mean, Est.Error = rs$sd)
  for (p in probs) {
    col <- paste0("q", p * 100)
    out[[paste0("Q", p * 100)]] <- if (col %in% names(rs)) rs[[col]] else NA_real_
  }
  out
}

#' @rdname hbmmm-coef
#' @export
ranef.hbmmm_fit <- function(object, summary = TRUE, probs = c(0.025, 0.975), ...) {
  check_dots_empty(...)
  check_model_fit(object, "object", "ranef()")
  summary <- check_flag(summary, "summary")
  probs <- check_probs(probs)
  out <- list()
  for (g in names(object$spec$ranef)) {
    m <- ranef_draws(object, g)
    out[[g]] <- if (!summary) m else if (is.null(m)) online_summary(object, g, probs) else
      label_summary(summarise_columns(m, probs), object$spec$ranef[[g]])
  }
  out
}

#' @rdname hbmmm-coef
#' @export
coef.hbmmm_fit <- function(object, summary = TRUE, probs = c(0.025, 0.975), ...) {
  check_dots_empty(...)
  summary <- check_flag(summary, "summary")
  probs <- check_probs(probs)
  fx <- fixef.hbmmm_fit(object, summary = FALSE)
  out <- list()
  for (g in names(object$spec$ranef)) {
    t <- object$spec$ranef[[g]]
    tn <- unique(c(colnames(fx), term_label(t$Z$names)))
    G <- length(t$levels)
    m <- ranef_draws(object, g)
    if (is.null(m)) {
      if (!summary) {
        abort_input("summary", sprintf("must be TRUE for `%s`, whose group-level effects are summarized online (no draws kept)", g))
      }
      rs <- online_summary(object, g, probs)
      est <- vapply(tn, function(term) {
        f <- if (term %in% colnames(fx)) mean(fx[, term]) else 0
        r <- rs$Estimate[rs$term == term][match(t$levels, rs$level[rs$term == term])]
        f + if (length(r)) r else 0
      }, numeric(G))
      df <- data.frame(level = rep(t$levels, times = length(tn)), term = rep(tn, each = G),
                       Estimate = as.vector(est), Est.Error = NA_real_)
      for (p in probs) df[[paste0("Q", p * 100)]] <- NA_real_
      out[[g]] <- df
      next
    }
    cols <- list()
    for (term in tn) {
      for (lv in t$levels) {
        f <- if (term %in% colnames(fx)) fx[, term] else 0
        key <- paste(lv, term, sep = ",")
        r <- if (key %in% colnames(m)) m[, key] else 0
        cols[[key]] <- f + r
      }
    }
    d <- do.call(cbind, cols)
    out[[g]] <- if (!summary) d else {
      s <- summarise_columns(d, probs)
      cbind(data.frame(level = rep(t$levels, times = length(tn)), term = rep(tn, each = G),
                       stringsAsFactors = FALSE), s)
    }
  }
  out
}
