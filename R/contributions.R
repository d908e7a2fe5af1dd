# Contributions of baseline, controls and each channel to the outcome over
# time, on the outcome's original scale, from the per-draw model components
# (mmm_components(), R/components.R).

#' Contributions to the outcome over time
#'
#' Splits the expected outcome of a fit, draw by draw, into the baseline
#' (intercepts, including group-level intercepts), the controls (every other
#' non-media term) and each media channel (every term containing the channel:
#' coefficient times transformed media), on the original scale of the
#' outcome, and sums them by time point (over panels) or keeps them by row.
#'
#' @param x An `hbmmm_fit`.
#' @param by `"time"` (sum over panels at each time point; needs `time` in the
#'   model), `"row"` (each row of the data) or `"total"` (sum over all rows).
#' @param draws Indices of the posterior draws used (default all).
#' @param level Probability of the credible intervals.
#' @param per_capita For a model fitted per capita (`hbmmm(population = )`):
#'   `FALSE` (default) gives contributions in the data's units (each row's
#'   per-capita contribution times its population), `TRUE` the per-capita
#'   values summed over rows.
#' @return An object of class `hbmmm_contributions`: a list with `series` (a
#'   long data frame: `time` (or `row`), `component`, `mean`, `lower`, `upper`),
#'   `totals` (per component over all rows: mean, interval, share of the
#'   expected outcome), `observed` (the outcome summed the same way) and
#'   `level`.
#' @examples
#' \donttest{
#' fit <- hbmmm(sales ~ tv + search + price, data = mmm_weekly[mmm_weekly$market == "M01", ],
#'              media = c("tv", "search"), time = "week", chains = 1, iter = 200, refresh = 0)
#' cb <- contributions(fit)
#' cb
#' plot(cb)
#' }
#' @export
contributions <- function(x, by = c("time", "row", "total"), draws = NULL, level = 0.9, per_capita = FALSE) {
  if (!inherits(x, "hbmmm_fit")) {
    abort_input("x", sprintf("must be an hbmmm_fit (contributions split a fitted model's outcome); found %s",
                             describe_value(x)))
  }
  check_model_fit(x, "x", "contributions()")
  by <- match_choice(by, c("time", "row", "total"), "by")
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
  nms <- c("baseline", "controls", spec$media)
  if (by == "row") {
    # per block of draws (the result itself is [draws x rows]): each part,
    # and every part's and the expected outcome's total
    res <- components_by_block(x, draws, per_capita = per_capita, function(comp) {
      p <- c(list(baseline = comp$baseline, controls = comp$controls), comp$media)
      c(p, list(totals = matrix(vapply(p, rowSums, numeric(length(comp$draws))), ncol = length(p)),
                mu = matrix(rowSums(comp$mu))))
    })
    names(res) <- c(nms, "totals", "mu")
    parts <- res[nms]
    tot <- matrix(res$totals, ncol = length(nms), dimnames = list(NULL, nms))
    mu_tot <- res$mu[, 1]
  } else {
    # sums by key without rows per draw: the linear parts from column sums,
    # the channels in C (channel_totals())
    key_int <- idx[spec$row_order] # the key of each row in the model's order
    mat <- as.matrix.hbmmm_fit(x)[draws, , drop = FALSE]
    xs <- if (per_capita) x else in_data_units(x)
    lin <- linear_sums(xs, mat, key_int, length(ukey))
    med <- channel_totals(xs, mat, 0, key = key_int)
    warn_online_ranef(c(lin$online, med$online))
    parts <- c(lin[c("baseline", "controls")], med$at)[nms]
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
                 media = spec$media, response = spec$response, draws = length(draws)),
            class = "hbmmm_contributions")
}

#' @export
print.hbmmm_contributions <- function(x, digits = 3, ...) {
  cat(sprintf("Contributions to %s (%s intervals, %d draws), summed over all rows\n\n",
              x$response, format_pct(x$level), x$draws))
  t <- x$totals
  print(data.frame(component = t$component,
                   `contribution [interval]` = fmt_interval(t$mean, t$lower, t$upper, digits + 1),
                   share = sprintf("%.1f%%", 100 * t$share), check.names = FALSE),
        row.names = FALSE, right = FALSE)
  cat(sprintf("\nObserved total: %s; %d %s point(s) in `series`\n", fmt_num(sum(x$observed$observed), digits + 2),
              nrow(x$observed), x$by))
  invisible(x)
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
  cols <- c("grey80", "grey55", grDevices::hcl.colors(max(1, length(comps) - 2), "Dark 3"))[seq_along(comps)]
  # negative parts (e.g. a price effect) are stacked below zero
  pos <- pmax(M, 0)
  neg <- pmin(M, 0)
  cp <- t(apply(pos, 1, cumsum))
  cn <- t(apply(neg, 1, cumsum))
  if (length(comps) == 1L) { cp <- t(cp); cn <- t(cn) }
  xs <- if (is.numeric(k) || inherits(k, "Date")) k else seq_along(k)
  op <- graphics::par(mar = c(4.5, 4.5, 3, 8), xpd = FALSE)
  on.exit(graphics::par(op))
  graphics::plot(range(xs), range(cn, cp, x$observed$observed), type = "n", xlab = key,
                 ylab = x$response, main = sprintf("Contributions to %s (posterior means)", x$response))
  for (j in rev(seq_along(comps))) {
    lower_p <- if (j == 1) rep(0, length(k)) else cp[, j - 1]
    graphics::polygon(c(xs, rev(xs)), c(cp[, j], rev(lower_p)), col = cols[j], border = NA)
    lower_n <- if (j == 1) rep(0, length(k)) else cn[, j - 1]
    if (any(neg[, j] < 0)) graphics::polygon(c(xs, rev(xs)), c(cn[, j], rev(lower_n)), col = cols[j], border = NA)
  }
  graphics::lines(xs, x$observed$observed, lwd = 1.5)
  graphics::par(xpd = TRUE)
  usr <- graphics::par("usr")
  graphics::legend(usr[2], usr[4], legend = c("observed", rev(comps)), col = c("black", rev(cols)),
                   lty = c(1, rep(NA, length(comps))), lwd = c(1.5, rep(NA, length(comps))),
                   pch = c(NA, rep(15, length(comps))), pt.cex = 2, bty = "n", cex = 0.85)
  invisible(s)
}
