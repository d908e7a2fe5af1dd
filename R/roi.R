# Return on investment and marginal return per channel, with credible
# intervals: from a fit (contributions over the data, via mmm_components())
# or from response curves at a given spend.

#' ROI and marginal ROI per channel
#'
#' * From a fit: the ROI of a channel is its total contribution to the outcome
#'   over the data (every term containing the channel, through
#'   `mmm_components()`, the per-draw model components) divided by its total
#'   spend (its spend column, `hbmmm(spend = )`, when the model uses another
#'   measure of exposure; with `hbmmm(population = )` the contribution is in
#'   the response's units: each row's per-capita contribution times its
#'   population); the marginal ROI is the extra contribution of a small proportional
#'   increase of the channel's spend in every row (`step`, default 1%, with
#'   the adstock and saturation of each draw), per unit of extra spend. Both
#'   are `NA` for a channel without spend.
#' * From response curves ([response_curves()], or a data frame or draws matrix
#'   it accepts): the ROI at spend `x` is `f(x) / x` and the marginal ROI is
#'   `f'(x)`, per draw, at the curves' reference spend or at `spend`.
#'
#' @param x An `hbmmm_fit` or response curves.
#' @param spend Curves only: named spend per channel (default the reference
#'   spend).
#' @param horizon,flighting,carryover Curves only: plan over a horizon (see
#'   [allocate_budget()]); `spend` is then the total over the horizon.
#' @param step Fits only: relative increase of spend for the marginal ROI.
#' @param draws Fits only: indices of the posterior draws used (default all).
#' @param level Probability of the credible intervals.
#' @return An object of class `hbmmm_roi`: a data frame with one row per
#'   channel: `channel`, `spend`, `contribution`, `roi` and `mroi` (posterior
#'   means), each with `_lower`/`_upper` interval columns; attributes `draws`
#'   (the per-draw matrices `contribution`, `roi`, `mroi`), `level`, `source`
#'   (`"fit"` or `"curves"`) and `units` (what the spend and contribution
#'   are: totals over the data for a fit, per period or over the horizon for
#'   curves).
#' @examples
#' cv <- response_curves(data.frame(channel = c("tv", "search"),
#'   type = c("hill", "michaelis_menten"), beta = c(500, 300), halfsat = c(100, NA),
#'   slope = c(2, NA), k = c(NA, 50), spend = c(120, 60)))
#' r <- roi(cv)
#' r
#' plot(r)
#' @export
roi <- function(x, spend = NULL, horizon = NULL, flighting = NULL, carryover = TRUE, step = 0.01,
                draws = NULL, level = 0.9) {
  level <- check_level(level)
  if (inherits(x, "hbmmm_fit")) {
    refuse_other_mode(c(spend = !is.null(spend), horizon = !is.null(horizon),
                        flighting = !is.null(flighting), carryover = !missing(carryover)),
                      "apply to response curves (the ROI of a fit is computed over its data)")
    return(roi_fit(x, step, draws, level))
  }
  refuse_other_mode(c(step = !missing(step), draws = !is.null(draws)),
                    "apply to a fit (`x` is a set of response curves here)")
  cv <- paid_curves(as_curves(x)) # organic channels have no spend, so no ROI
  if (!is.null(horizon)) horizon <- check_count(horizon, "horizon", 1, 1e4)
  prof <- curve_profiles(cv, horizon, flighting, check_flag(carryover, "carryover"))
  sp <- if (is.null(spend)) {
    s <- reference_spend(cv)
    if (is.null(s)) abort_input("spend", "is required: the curves have no reference spend")
    s * (if (is.null(horizon)) 1 else horizon)
  } else {
    v <- plan_vector(spend, cv, "spend", default = NA_real_)
    miss <- is.na(v)
    if (any(miss)) {
      ref <- reference_spend(cv, default = rep(NA_real_, length(v)))
      v[miss] <- ref[miss] * (if (is.null(horizon)) 1 else horizon)
      if (anyNA(v)) abort_input("spend", sprintf("gives no spend for `%s`, which has no reference spend", names(v)[is.na(v)][1]))
    }
    if (any(v < 0)) abort_input("spend", "must be non-negative")
    v
  }
  at <- curves_at(cv, sp, prof, deriv = TRUE)
  ratio <- sweep(at$value, 2, ifelse(sp > 0, sp, NA_real_), "/")
  out <- roi_table(cv$curves$id, sp, at$value, ratio, at$deriv, level, source = "curves")
  attr(out, "units") <- units_text(cv$source, horizon, carryover, what = "spend and contribution")
  out
}

roi_fit <- function(fit, step, draws, level) {
  check_model_fit(fit, "x", "roi()")
  if (!is.numeric(step) || length(step) != 1L || !is.finite(step) || step <= 0 || step > 1) {
    abort_input("step", sprintf("must be one number in (0, 1]; found %s", describe_value(step)))
  }
  spec <- fit$spec
  media <- setdiff(spec$media, spec$organic) # organic channels have no spend, so no ROI
  if (!length(spec$media)) abort_input("x", "the fit has no media channels")
  if (!length(media)) abort_input("x", "the fit has only organic channels (no spend, so no ROI)")
  draws <- check_draw_index(draws, prod(dim(fit$draws)[1:2]))
  data <- original_data(spec)
  spend <- spend_totals(spec, data, media)
  # per draw, summed over the rows in C (in the data's units: each row's
  # per-capita contribution times its population, with one): the
  # contribution, and the same with every row's spend of the channel raised
  # by `step`
  tot <- channel_totals(in_data_units(fit), as.matrix.hbmmm_fit(fit)[draws, , drop = FALSE], step, channels = media)
  warn_online_ranef(tot$online)
  contrib <- tot$at
  marg <- sweep(tot$up - tot$at, 2, ifelse(spend > 0, step * spend, NA_real_), "/")
  dimnames(marg) <- dimnames(contrib)
  ratio <- sweep(contrib, 2, ifelse(spend > 0, spend, NA_real_), "/")
  out <- roi_table(media, spend, contrib, ratio, marg, level, source = "fit")
  attr(out, "units") <- "Units: spend and contribution are totals over the rows of the training data."
  out
}


roi_table <- function(ids, spend, contrib, ratio, marg, level, source) {
  pr <- interval_probs(level)
  q <- function(m, p) apply(m, 2, function(v) if (all(is.na(v))) NA_real_ else stats::quantile(v, p, names = FALSE, na.rm = TRUE))
  mn <- function(m) apply(m, 2, function(v) if (all(is.na(v))) NA_real_ else mean(v))
  tab <- data.frame(channel = ids, spend = unname(spend),
                    contribution = mn(contrib), contribution_lower = q(contrib, pr[1]), contribution_upper = q(contrib, pr[2]),
                    roi = mn(ratio), roi_lower = q(ratio, pr[1]), roi_upper = q(ratio, pr[2]),
                    mroi = mn(marg), mroi_lower = q(marg, pr[1]), mroi_upper = q(marg, pr[2]),
                    stringsAsFactors = FALSE, row.names = NULL)
  structure(tab, class = c("hbmmm_roi", "data.frame"), level = level, source = source,
            draws = list(contribution = contrib, roi = ratio, mroi = marg))
}

#' @export
print.hbmmm_roi <- function(x, digits = 3, ...) {
  lv <- attr(x, "level")
  cat_wrap(sprintf("ROI and marginal ROI by channel (%s, %s intervals, %d draws)",
                   if (identical(attr(x, "source"), "fit")) "contributions over the data" else "response curves at the given spend",
                   format_pct(lv), nrow(attr(x, "draws")$roi)))
  if (!is.null(attr(x, "units"))) cat_wrap(attr(x, "units"))
  out <- data.frame(channel = x$channel, spend = fmt_num(x$spend, digits + 1),
                    contribution = fmt_interval(x$contribution, x$contribution_lower, x$contribution_upper, digits),
                    ROI = fmt_interval(x$roi, x$roi_lower, x$roi_upper, digits),
                    mROI = fmt_interval(x$mroi, x$mroi_lower, x$mroi_upper, digits))
  names(out)[3] <- sprintf("contribution [%s]", format_pct(lv))
  cat("\n")
  print_table(out)
  invisible(x)
}

#' @export
plot.hbmmm_roi <- function(x, ...) {
  n <- nrow(x)
  op <- graphics::par(mfrow = c(1, 2), mar = c(7, 4.5, 3, 1))
  on.exit(graphics::par(op))
  for (what in c("roi", "mroi")) {
    m <- x[[what]]
    lo <- x[[paste0(what, "_lower")]]
    hi <- x[[paste0(what, "_upper")]]
    yl <- range(0, lo, hi, m, na.rm = TRUE)
    yl[2] <- yl[2] * 1.08
    mid <- graphics::barplot(ifelse(is.na(m), 0, m), names.arg = x$channel, col = "steelblue", border = NA, las = 2,
                             ylim = yl, ylab = if (what == "roi") "return per unit of spend" else "return of the next unit",
                             main = sprintf("%s (%s intervals)", if (what == "roi") "ROI" else "Marginal ROI",
                                            format_pct(attr(x, "level"))))
    draw_interval_bars(mid, lo, hi)
    graphics::abline(h = 1, lty = 2, col = "grey40")
  }
  invisible(as.data.frame(unclass(x))[, names(x)])
}

# Arguments that belong to the other kind of `x` are refused rather than
# ignored: `given` flags which ones the caller supplied.
refuse_other_mode <- function(given, why) {
  if (any(given)) {
    nm <- names(given)[given][1]
    abort_input(nm, sprintf("only arguments %s %s; remove `%s`",
                            paste0("`", names(given), "`", collapse = ", "), why, nm))
  }
}
