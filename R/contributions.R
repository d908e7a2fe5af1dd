# Contributions of the baseline, the time effects, each control and each
# channel to the outcome over time, on the outcome's original scale, from
# the per-draw model components (mmm_components(), linear_sums() and
# channel_totals(), R/components.R).

#' Contributions to the outcome over time
#'
#' Splits the expected outcome of a fit, draw by draw, into named components
#' on the original scale of the outcome, and sums them by time point (over
#' panels), keeps them by row, or sums them over all rows.
#'
#' The components are, in this order:
#' * `baseline`: the intercepts (fixed and group-level) plus every control at
#'   its reference value: what the model expects with no media, no trend,
#'   seasonality or events, and the controls at their reference;
#' * `trend`, `seasonality`, `events`: the terms built with [trend()],
#'   [seasonality()] and [events()] (see [time_effects]), when the formula
#'   has them;
#' * each control term by its label (`price`, `promo`, a factor's term,
#'   `price:promo`; group-level slopes on a control join its component): its
#'   coefficient times the control's deviation from its reference value;
#' * each media channel: every term containing the channel (coefficient
#'   times transformed media, group-level slopes and interactions included).
#'
#' With `reference = "mean"` (the default) a control's reference value is its
#' mean over the training rows, so a control contributes around zero on
#' average and its component shows how much its ups and downs moved the
#' outcome (a price above average lowers sales, below average raises them),
#' while the baseline holds its average level. With `reference = "zero"` the
#' reference is 0: the raw split, where a control's component is its
#' coefficient times its value (a large negative number for an uncentred
#' price) and the baseline is the intercepts alone. Either way the components
#' add up to the expected outcome (`fitted()`), and the baseline, time effects
#' and controls add up to the expected outcome with every medium at zero.
#'
#' @param x An `hbmmm_fit`.
#' @param by `"time"` (sum over panels at each time point; needs `time` in the
#'   model), `"row"` (each row of the data) or `"total"` (sum over all rows).
#' @param draws Indices of the posterior draws used (default all).
#' @param level Probability of the credible intervals.
#' @param reference The controls' reference value: `"mean"` (their training
#'   means) or `"zero"` (see Details).
#' @param per_capita For a model fitted per capita (`hbmmm(population = )`):
#'   `FALSE` (default) gives contributions in the data's units (each row's
#'   per-capita contribution times its population), `TRUE` the per-capita
#'   values summed over rows.
#' @return An object of class `hbmmm_contributions`: a list with `series` (a
#'   long data frame: `time` (or `row`), `component`, `mean`, `lower`, `upper`),
#'   `totals` (per component over all rows: mean, interval, share of the
#'   expected outcome), `observed` (the outcome summed the same way),
#'   `components` (their names, in order), `reference` and `level`.
#' @examples
#' \donttest{
#' fit <- hbmmm(sales ~ tv + search + price + trend(week),
#'              data = mmm_weekly[mmm_weekly$market == "M01", ],
#'              media = c("tv", "search"), time = "week", chains = 1, iter = 200, refresh = 0)
#' cb <- contributions(fit)
#' cb
#' plot(cb)
#' }
#' @export
contributions <- function(x, by = c("time", "row", "total"), draws = NULL, level = 0.9,
                          reference = c("mean", "zero"), per_capita = FALSE) {
  if (!inherits(x, "hbmmm_fit")) {
    abort_input("x", sprintf("must be an hbmmm_fit (contributions split a fitted model's outcome); found %s",
                             describe_value(x)))
  }
  check_model_fit(x, "x", "contributions()")
  by <- match_choice(by, c("time", "row", "total"), "by")
  reference <- match_choice(reference, c("mean", "zero"), "reference")
  level <- check_level(level)
  per_capita <- check_flag(per_capita, "per_capita")
  spec <- x$spec
  if (by == "time" && is.null(spec$time)) by <- "row"
  draws <- check_draw_index(draws, prod(dim(x$draws)[1:2]))
  data <- original_data(spec)
  y <- if (per_capita) spec$y[order(spec$row_order)] else observed_y(x)
  key <- switch(by, time = data[[spec$time]], row = seq_len(nrow(data)), total = rep(1L, nrow(data)))
  ukey <- sort(unique(key))
  idx <- match(key, ukey)
  nms <- c(linear_components(spec), spec$media)
  if (by == "row") {
    # per block of draws (the result itself is [draws x rows]): each part,
    # and every part's and the expected outcome's total
    res <- components_by_block(x, draws, per_capita = per_capita, function(comp) {
      p <- c(comp$linear, comp$media)
      c(p, list(totals = matrix(vapply(p, rowSums, numeric(length(comp$draws))), ncol = length(p)),
                mu = matrix(rowSums(comp$mu))))
    }, reference = reference)
    names(res) <- c(nms, "totals", "mu")
    parts <- res[nms]
    tot <- matrix(res$totals, ncol = length(nms), dimnames = list(NULL, nms))
    mu_tot <- res$mu[, 1]
  } else {
    # sums by key without rows per draw: the linear parts from column sums,
    # the channels in C (channel_totals())
    key_int <- idx[spec$row_order] # the key of each row in the model's order
    mat <- as.matrix.hbmmm_fit(x)[draws, , drop = FALSE]
    lin <- linear_sums(x, mat, key_int, length(ukey), reference, weights = if (!per_capita) spec$pop)
    med <- channel_totals(if (per_capita) x else in_data_units(x), mat, 0, key = key_int)
    warn_online_ranef(c(lin$online, med$online))
    parts <- c(lin$parts, med$at)[nms]
    tot <- vapply(parts, rowSums, numeric(length(draws)))
    tot <- matrix(tot, ncol = length(nms), dimnames = list(NULL, nms))
    mu_tot <- rowSums(tot)
  }
  pr <- interval_probs(level)
  series <- do.call(rbind, lapply(names(parts), function(nm) {
    a <- parts[[nm]]
    data.frame(key = ukey, component = nm, mean = colMeans(a),
               lower = apply(a, 2, stats::quantile, pr[1], names = FALSE),
               upper = apply(a, 2, stats::quantile, pr[2], names = FALSE), stringsAsFactors = FALSE)
  }))
  names(series)[1] <- if (by == "time") spec$time else by
  totals <- do.call(rbind, lapply(names(parts), function(nm) {
    s <- tot[, nm]
    data.frame(component = nm, mean = mean(s), lower = stats::quantile(s, pr[1], names = FALSE),
               upper = stats::quantile(s, pr[2], names = FALSE), share = mean(s / mu_tot),
               stringsAsFactors = FALSE)
  }))
  observed <- data.frame(key = ukey, observed = as.vector(tapply(y, idx, sum)))
  names(observed)[1] <- names(series)[1]
  structure(list(series = series, totals = totals, observed = observed, by = by, level = level,
                 media = spec$media, components = nms, reference = reference,
                 response = spec$response, draws = length(draws)),
            class = "hbmmm_contributions")
}

#' @export
print.hbmmm_contributions <- function(x, digits = 3, ...) {
  cat_wrap(sprintf("Contributions to %s (%s intervals, %d draws), summed over all rows", x$response,
                   format_pct(x$level), x$draws))
  cat("\n")
  tab <- contributions_table(x, digits + 1)
  centred <- tab$centred
  tab$centred <- NULL
  per_point <- x$by != "total"
  print_table(if (per_point) tab else tab[1:3])
  cat(sprintf("\nObserved total: %s; %d %s point(s) in `series`\n", fmt_num(sum(x$observed$observed), digits + 2),
              nrow(x$observed), x$by))
  if (any(centred)) {
    cat_wrap("Controls are measured from their training means (held in the baseline), so each sums to zero over ",
             "the data", if (per_point) paste0("; `mean |effect| per point` is how far each moves the outcome per ",
                                                x$by, " point on average"),
             " (reference = \"zero\": the raw split).")
  }
  invisible(x)
}

# The totals as printed (and reported by mmm_report()): centred controls sum
# to zero over the data, so their total says nothing and the table shows
# instead how far each moves the outcome per point of `series`.
contributions_table <- function(x, digits = 4) {
  t <- x$totals
  controls <- setdiff(x$components, c("baseline", TIME_EFFECT_KINDS, x$media))
  centred <- identical(x$reference, "mean") & t$component %in% controls
  swing <- vapply(t$component, function(cm) mean(abs(x$series$mean[x$series$component == cm])), 0)
  data.frame(component = t$component,
             `contribution [interval]` = ifelse(centred, "0 (centred)", fmt_interval(t$mean, t$lower, t$upper, digits)),
             share = ifelse(centred, "-", sprintf("%.1f%%", 100 * t$share)),
             `mean |effect| per point` = fmt_num(swing, digits - 1), centred = centred, check.names = FALSE)
}

#' @export
summary.hbmmm_contributions <- function(object, ...) object$totals

#' @export
plot.hbmmm_contributions <- function(x, ...) {
  s <- x$series
  key <- names(s)[1]
  comps <- unique(s$component)
  k <- unique(s[[key]])
  M <- vapply(comps, function(cm) s$mean[s$component == cm], numeric(length(k)))
  M <- matrix(M, length(k), dimnames = list(NULL, comps))
  cols <- contribution_colours(comps, x$media)
  # positive parts stacked upward from zero, negative parts (a price above
  # its mean, a trend below its start) downward, each in component order
  pos <- pmax(M, 0)
  neg <- pmin(M, 0)
  cp <- matrix(t(apply(pos, 1, cumsum)), length(k))
  cn <- matrix(t(apply(neg, 1, cumsum)), length(k))
  if (length(comps) == 1L) { cp <- pos; cn <- neg }
  xs <- if (is.numeric(k) || inherits(k, "Date")) k else seq_along(k)
  labels <- c("observed", comps)
  # the legend sits right of the plot: as wide as its longest label
  op <- graphics::par(no.readonly = TRUE)
  on.exit(graphics::par(op))
  cex_leg <- 0.85
  right <- max(graphics::strwidth(labels, "inches", cex = cex_leg)) / graphics::par("csi") + 3.5
  graphics::par(mar = c(4.5, 4.5, 3, right), xpd = FALSE)
  graphics::plot(range(xs), range(cn, cp, x$observed$observed, 0), type = "n", xlab = key,
                 ylab = x$response, main = sprintf("Contributions to %s (posterior means)", x$response))
  for (j in seq_along(comps)) {
    below_p <- if (j == 1) rep(0, length(k)) else cp[, j - 1]
    if (any(pos[, j] > 0)) graphics::polygon(c(xs, rev(xs)), c(cp[, j], rev(below_p)), col = cols[j], border = NA)
    above_n <- if (j == 1) rep(0, length(k)) else cn[, j - 1]
    if (any(neg[, j] < 0)) graphics::polygon(c(xs, rev(xs)), c(cn[, j], rev(above_n)), col = cols[j], border = NA)
  }
  graphics::abline(h = 0, col = "grey30", lwd = 0.8)
  graphics::lines(xs, x$observed$observed, lwd = 1.5)
  graphics::par(xpd = TRUE)
  usr <- graphics::par("usr")
  graphics::legend(usr[2] + 0.01 * diff(usr[1:2]), usr[4], legend = labels, col = c("black", cols),
                   lty = c(1, rep(NA, length(comps))), lwd = c(1.5, rep(NA, length(comps))),
                   pch = c(NA, rep(15, length(comps))), pt.cex = 2, bty = "n", cex = cex_leg)
  invisible(s)
}

# One colour per component: greys, a yellow and a dark magenta for the
# baseline and the time effects, light qualitative colours for the controls,
# strong ones for the media (Okabe-Ito's, then more hues), so that ten or
# more components stay distinguishable.
contribution_colours <- function(comps, media) {
  fixed <- c(baseline = "grey80", trend = "grey45", seasonality = "#F0E442", events = "#8E0152")
  cols <- stats::setNames(rep(NA_character_, length(comps)), comps)
  cols[intersect(names(fixed), comps)] <- fixed[intersect(names(fixed), comps)]
  med <- comps[comps %in% media]
  strong <- c("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7")
  if (length(med) > length(strong)) strong <- c(strong, grDevices::hcl.colors(length(med) - length(strong), "Dark 3"))
  if (length(med)) cols[med] <- strong[seq_along(med)]
  ctl <- comps[is.na(cols)]
  if (length(ctl)) cols[ctl] <- grDevices::hcl.colors(max(2L, length(ctl)), "Pastel 1")[seq_along(ctl)]
  unname(cols)
}
