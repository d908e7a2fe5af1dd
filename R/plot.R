# Plots of a fit in base graphics; each returns the data it drew, invisibly.

#' Plot a fitted model
#'
#' `plot(fit, type = )` draws one of:
#'
#' * `"trace"`: draws by iteration, one line per chain;
#' * `"rank"`: rank histograms of each chain (ranks of the pooled draws, as
#'   step lines; flat lines near the dashed uniform level mean good mixing);
#' * `"dens"`: posterior density with the mean (solid) and the 95% interval
#'   (dashed);
#' * `"acf"`: autocorrelation by lag, one line per chain;
#' * `"effects"`: each channel's average contribution per observation, with
#'   95% intervals;
#' * `"violin"`: the distribution over levels of the individual-level media
#'   effects (posterior means of fixed plus group-level coefficients), by
#'   channel;
#' * `"fit"`: observed outcome and fitted mean with its 95% interval over time
#'   (summed over panels);
#' * `"ppc"`: the posterior predictive check of [pp_check()];
#' * `"mixture"`: per mixture-of-Hills channel (`saturation =
#'   "hill_mixture"`), the saturation curve over the channel's adstocked
#'   input (posterior mean and 90% band) with each component's weighted
#'   curve `w_k Hill(x; halfsat_k, slope_k)` (posterior means), and the
#'   components' weights (posterior means with 90% intervals), both by
#'   half-saturation (the draws' order) and ranked by size within each draw
#'   ([mixture_weights()], which shows how many components are used).
#'
#' @param x An `hbmmm_fit`.
#' @param type The plot, see Details.
#' @param variable Variables to show (`trace`, `rank`, `dens`, `acf`); default:
#'   the first 9 population-level ones.
#' @param group For `"violin"`: the grouping term (default: the first with
#'   media terms).
#' @param ... Passed to [pp_check()] for `type = "ppc"`.
#' @return Invisibly, the data drawn: a list by variable for `trace`, `rank`,
#'   `dens`, `acf`; a data frame for `effects`, `violin` and `fit`; for
#'   `mixture`, a list by channel of `curves` (input `x`, `curve`: `"mixture"`
#'   or the component, `mean`, `lower`, `upper`), `weights` and
#'   `weights_by_size`.
#' @examples
#' fit <- hbmmm(sales ~ tv + search + price + (1 + tv | market), data = mmm_weekly,
#'              media = c("tv", "search"), time = "week", chains = 2, iter = 200,
#'              seed = 1, refresh = 0)
#' plot(fit, type = "trace", variable = c("b_tv", "decay_tv"))
#' plot(fit, type = "effects")
#' plot(fit, type = "fit")
#' @export
plot.hbmmm_fit <- function(x, type = c("trace", "rank", "dens", "acf", "effects", "violin", "fit", "ppc", "mixture"),
                           variable = NULL, group = NULL, ...) {
  type <- match_choice(type, c("trace", "rank", "dens", "acf", "effects", "violin", "fit", "ppc", "mixture"), "type")
  switch(type,
         trace = , rank = , dens = , acf = plot_draws(x, type, variable),
         effects = plot_effects(x),
         violin = plot_violin(x, group),
         fit = plot_fit(x),
         ppc = pp_check.hbmmm_fit(x, ...),
         mixture = plot_mixture(x))
}

plot_mixture <- function(x, n_points = 100L, max_draws = 1000L) {
  tr <- x$spec$transforms
  mix <- names(tr$components)[tr$components > 0]
  if (!length(mix)) {
    abort_input("type", "\"mixture\" needs a channel with saturation = \"hill_mixture\"; this fit has none")
  }
  mw <- mixture_weights(x)
  m <- as.matrix(x)
  if (nrow(m) > max_draws) m <- m[unique(round(seq(1, nrow(m), length.out = max_draws))), , drop = FALSE]
  band <- function(M) {
    qs <- apply(M, 1, stats::quantile, probs = c(0.05, 0.95), names = FALSE)
    list(mean = rowMeans(M), lower = qs[1, ], upper = qs[2, ])
  }
  out <- list()
  old <- graphics::par(mfrow = c(length(mix), 2L), mar = c(4, 4, 2, 1))
  on.exit(graphics::par(old))
  for (ch in mix) {
    K <- tr$components[[ch]]
    P <- mixture_par_matrix(m, ch, tr) # 3K x draws, the kernel's order
    xs <- seq(0, 1.2 * max(x$spec$media_data[, ch]), length.out = n_points)
    X <- matrix(xs, n_points, ncol(P))
    b <- band(.Call(C_hb_saturate_mixture, X, K, P, FALSE))
    rows <- list(data.frame(x = xs, curve = "mixture", mean = b$mean, lower = b$lower, upper = b$upper))
    for (k in seq_len(K)) { # w_k Hill_k: the component's part of the curve
      hk <- saturation_apply(X, "hill", list(halfsat = P[k, ], slope = P[K + k, ])) * rep(P[2L * K + k, ], each = n_points)
      bk <- band(hk)
      rows[[k + 1L]] <- data.frame(x = xs, curve = sprintf("component %d", k), mean = bk$mean,
                                   lower = bk$lower, upper = bk$upper)
    }
    cd <- do.call(rbind, rows)
    bw <- band(P[2L * K + seq_len(K), , drop = FALSE])
    wd <- data.frame(component = seq_len(K), mean = bw$mean, lower = bw$lower, upper = bw$upper)
    mx <- cd[cd$curve == "mixture", ]
    graphics::plot(mx$x, mx$mean, type = "n", ylim = c(0, max(1e-12, mx$upper)), xlab = sprintf("adstocked %s", ch),
                   ylab = "saturation", main = sprintf("%s: mixture of %d Hill curves", ch, K))
    graphics::polygon(c(mx$x, rev(mx$x)), c(mx$lower, rev(mx$upper)), col = grDevices::adjustcolor("grey60", 0.4),
                      border = NA)
    graphics::lines(mx$x, mx$mean, lwd = 2)
    cols <- chain_colours(K)
    for (k in seq_len(K)) {
      ck <- cd[cd$curve == sprintf("component %d", k), ]
      graphics::lines(ck$x, ck$mean, col = cols[k], lty = 2)
    }
    # at the right, between the saturating mixture and its weighted
    # components (at the bottom right it hid the components' flat ends)
    graphics::legend("right", c("mixture (90% band)", sprintf("w%d Hill%d", seq_len(K), seq_len(K))),
                     col = c("black", cols), lty = c(1, rep(2, K)), lwd = c(2, rep(1, K)), cex = 0.7,
                     bg = grDevices::adjustcolor("white", 0.85), box.col = NA)
    # the same weights ranked by size within each draw: what shows pruning
    # (mixture_weights())
    bs <- mw$by_size[mw$by_size$channel == ch, ]
    graphics::plot(wd$component - 0.1, wd$mean, ylim = c(0, 1), xlim = c(0.5, K + 0.5), pch = 19, xaxt = "n",
                   xlab = "rank", ylab = "weight", main = sprintf("%s: weights (90%% intervals)", ch))
    graphics::axis(1, at = wd$component)
    graphics::segments(wd$component - 0.1, wd$lower, wd$component - 0.1, wd$upper)
    graphics::points(bs$rank + 0.1, bs$mean, pch = 1, col = "firebrick")
    graphics::segments(bs$rank + 0.1, bs$lower, bs$rank + 0.1, bs$upper, col = "firebrick")
    graphics::legend("topright", c("by half-saturation", "by size in each draw"), pch = c(19, 1),
                     col = c("black", "firebrick"), bty = "n", cex = 0.7)
    out[[ch]] <- list(curves = cd, weights = wd, weights_by_size = bs)
  }
  invisible(out)
}


chain_colours <- function(n) grDevices::hcl.colors(max(n, 2), "Dark 3")[seq_len(n)]

panel_grid <- function(k) {
  nc <- ceiling(sqrt(k))
  c(ceiling(k / nc), nc)
}

plot_draws <- function(x, type, variable) {
  d <- x$draws
  nm <- dimnames(d)[[3]]
  if (is.null(variable)) variable <- utils::head(nm[!startsWith(nm, "r_")], 9)
  d <- select_draws(x, variable)
  ni <- dim(d)[1]
  nc <- dim(d)[2]
  cols <- chain_colours(nc)
  op <- graphics::par(mfrow = panel_grid(length(variable)), mar = c(4, 4, 2, 1), mgp = c(2.2, 0.7, 0),
                      cex.main = 0.9)
  on.exit(graphics::par(op))
  out <- list()
  for (v in variable) {
    m <- matrix(d[, , v], ni, nc)
    out[[v]] <- switch(type,
      trace = {
        graphics::matplot(m, type = "l", lty = 1, col = cols, xlab = "Iteration", ylab = "Value", main = v)
        m
      },
      rank = {
        r <- matrix(rank(m), ni, nc)
        bins <- min(20, max(5, ni %/% 10))
        br <- seq(0, ni * nc, length.out = bins + 1)
        cnt <- apply(r, 2, function(rc) graphics::hist(rc, breaks = br, plot = FALSE)$counts)
        graphics::matplot(br, rbind(cnt, cnt[bins, , drop = FALSE]), type = "s", lty = 1, col = cols,
                          ylim = c(0, max(cnt) * 1.1),
                          xlab = "Rank (all chains)", ylab = "Count per chain", main = v)
        graphics::abline(h = ni / bins, lty = 2, col = "grey40")
        cnt
      },
      dens = {
        dn <- stats::density(as.vector(m))
        q <- stats::quantile(m, c(0.025, 0.975), names = FALSE)
        graphics::plot(dn, main = v, xlab = "Value", ylab = "Density")
        graphics::abline(v = mean(m), lwd = 2, col = "firebrick")
        graphics::abline(v = q, lty = 2, col = "firebrick")
        list(x = dn$x, y = dn$y, mean = mean(m), interval = q)
      },
      acf = {
        L <- min(30, ni - 1)
        a <- apply(m, 2, function(ch) stats::acf(ch, lag.max = L, plot = FALSE)$acf[, 1, 1])
        graphics::matplot(0:L, a, type = "l", lty = 1, col = cols, ylim = c(min(0, a), 1),
                          xlab = "Lag", ylab = "Autocorrelation", main = v)
        graphics::abline(h = 0, col = "grey40")
        a
      })
  }
  invisible(out)
}

plot_effects <- function(x) {
  if (!length(x$spec$media)) abort_input("type", "\"effects\" needs a model with media channels")
  cm <- suppressWarnings(mmm_components(x), classes = "hbmmm_warning_online_ranef")
  eff <- vapply(cm$media, rowMeans, numeric(nrow(cm$mu)))
  eff <- matrix(eff, ncol = length(cm$media), dimnames = list(NULL, names(cm$media)))
  df <- data.frame(channel = colnames(eff), mean = colMeans(eff),
                   lower = apply(eff, 2, stats::quantile, 0.025, names = FALSE),
                   upper = apply(eff, 2, stats::quantile, 0.975, names = FALSE))
  k <- nrow(df)
  op <- graphics::par(mar = c(4.5, max(5, 0.6 * max(nchar(df$channel)) + 1), 3, 1))
  on.exit(graphics::par(op))
  graphics::plot(df$mean, seq_len(k), xlim = range(0, df$lower, df$upper), ylim = c(0.5, k + 0.5), yaxt = "n",
                 pch = 19, xlab = sprintf("Average contribution to %s per observation", x$spec$response),
                 ylab = "", main = "Channel effects (95% intervals)")
  graphics::segments(df$lower, seq_len(k), df$upper, seq_len(k), lwd = 2)
  graphics::axis(2, at = seq_len(k), labels = df$channel, las = 1)
  graphics::abline(v = 0, lty = 2, col = "grey50")
  invisible(df)
}

plot_violin <- function(x, group = NULL) {
  spec <- x$spec
  has_media <- vapply(spec$ranef, function(t) any(!is.na(t$Z$channel)), TRUE)
  if (is.null(group)) {
    if (!any(has_media)) abort_input("type", "\"violin\" needs a grouping term with media slopes, such as (1 + tv | market)")
    group <- names(spec$ranef)[has_media][1]
  }
  if (!is.character(group) || length(group) != 1L || !group %in% names(spec$ranef) || !has_media[[group]]) {
    abort_input("group", sprintf("must name a grouping term with media slopes (%s); found %s",
                                 paste(names(spec$ranef)[has_media], collapse = ", "), describe_value(group)))
  }
  t <- spec$ranef[[group]]
  co <- coef.hbmmm_fit(x)[[group]]
  chans <- spec$media[unique(t$Z$channel[!is.na(t$Z$channel)])]
  df <- co[co$term %in% chans, c("level", "term", "Estimate")]
  names(df) <- c("level", "channel", "effect")
  k <- length(chans)
  dens <- lapply(chans, function(ch) {
    v <- df$effect[df$channel == ch]
    if (length(unique(v)) > 1L) stats::density(v) else NULL
  })
  yl <- range(df$effect, unlist(lapply(dens, `[[`, "x")))
  graphics::plot(NA, xlim = c(0.5, k + 0.5), ylim = yl,
                 xaxt = "n", xlab = "Channel", ylab = sprintf("Coefficient by %s (posterior mean)", group),
                 main = sprintf("Media effects by %s (%d levels)", group, length(t$levels)))
  graphics::axis(1, at = seq_len(k), labels = chans)
  for (i in seq_len(k)) {
    v <- df$effect[df$channel == chans[i]]
    if (!is.null(dens[[i]])) {
      dn <- dens[[i]]
      w <- 0.4 * dn$y / max(dn$y)
      graphics::polygon(c(i - w, rev(i + w)), c(dn$x, rev(dn$x)), col = grDevices::adjustcolor(chain_colours(k)[i], 0.5),
                        border = chain_colours(k)[i])
    }
    graphics::points(rep(i, length(v)), v, pch = 16, cex = 0.5)
    graphics::segments(i - 0.15, stats::median(v), i + 0.15, stats::median(v), lwd = 2)
  }
  invisible(df)
}

plot_fit <- function(x) {
  spec <- x$spec
  mu <- suppressWarnings(posterior_epred.hbmmm_fit(x), classes = "hbmmm_warning_online_ranef")
  y <- observed_y(x)
  data <- original_data(spec)
  tm <- if (!is.null(spec$time)) data[[spec$time]] else seq_along(y)
  key <- match(tm, sort(unique(tm)))
  agg <- function(v) as.vector(tapply(v, key, sum))
  draws <- t(apply(mu, 1, agg))
  if (length(unique(key)) == 1L) draws <- t(draws)
  df <- data.frame(time = sort(unique(tm)), observed = agg(y), fitted = colMeans(draws),
                   lower = apply(draws, 2, stats::quantile, 0.025, names = FALSE),
                   upper = apply(draws, 2, stats::quantile, 0.975, names = FALSE))
  xs <- if (is.numeric(df$time) || inherits(df$time, "Date")) df$time else seq_along(df$time)
  graphics::plot(xs, df$observed, type = "n", ylim = range(df$observed, df$lower, df$upper),
                 xlab = if (is.null(spec$time)) "Observation" else spec$time,
                 ylab = sprintf("%s%s", spec$response, if (any(duplicated(tm))) " (sum over panels)" else ""),
                 main = "Observed and fitted")
  graphics::polygon(c(xs, rev(xs)), c(df$lower, rev(df$upper)), col = grDevices::adjustcolor("steelblue", 0.3), border = NA)
  graphics::lines(xs, df$fitted, col = "steelblue", lwd = 2)
  graphics::points(xs, df$observed, pch = 16, cex = 0.5)
  graphics::legend("topleft", c("observed", "fitted mean", "95% interval"), pch = c(16, NA, 15),
                   lty = c(NA, 1, NA), lwd = c(NA, 2, NA), col = c("black", "steelblue", grDevices::adjustcolor("steelblue", 0.3)),
                   bty = "n", cex = 0.8)
  invisible(df)
}

#' Posterior predictive check
#'
#' Compares the observed outcome with outcomes replicated from the posterior
#' predictive distribution: `type = "dens"` overlays the density of the data
#' (thick) on the densities of `ndraws` replicated data sets (thin);
#' `type = "hist"` shows the histogram of the data next to histograms of
#' replicated data sets on the same breaks.
#'
#' @param object An `hbmmm_fit`.
#' @param type `"dens"` or `"hist"`.
#' @param ndraws Number of replicated data sets.
#' @param seed Seed of the replications.
#' @param ... Not used; any argument passed here is an error (a misspelled
#'   argument would otherwise be ignored silently).
#' @return Invisibly, a list with `y` (observed) and `yrep` (`ndraws` x n).
#' @examples
#' fit <- hbmmm(sales ~ tv + price, data = mmm_weekly, media = "tv", time = "week",
#'              panel = "market", chains = 2, iter = 200, seed = 1, refresh = 0)
#' pp_check(fit)
#' pp_check(fit, type = "hist")
#' @export
pp_check <- function(object, ...) UseMethod("pp_check")

#' @rdname pp_check
#' @export
pp_check.hbmmm_fit <- function(object, type = c("dens", "hist"), ndraws = NULL, seed = 1, ...) {
  check_dots_empty(...)
  type <- match_choice(type, c("dens", "hist"), "type")
  S <- prod(dim(object$draws)[1:2])
  if (is.null(ndraws)) ndraws <- if (type == "dens") 50 else 8
  ndraws <- check_count(ndraws, "ndraws", 1, S)
  idx <- round(seq(1, S, length.out = ndraws))
  yrep <- suppressWarnings(posterior_predict.hbmmm_fit(object, draws = idx, seed = seed),
                           classes = "hbmmm_warning_online_ranef")
  y <- observed_y(object)
  resp <- object$spec$response
  if (type == "dens") {
    dy <- stats::density(y)
    dr <- apply(yrep, 1, function(v) stats::density(v, from = min(dy$x), to = max(dy$x), n = 512)$y)
    graphics::plot(dy, type = "n", ylim = c(0, max(dy$y, dr) * 1.05), xlab = resp, ylab = "Density",
                   main = "Posterior predictive check")
    xs <- seq(min(dy$x), max(dy$x), length.out = 512)
    graphics::matlines(xs, dr, lty = 1, col = grDevices::adjustcolor("steelblue", 0.3))
    graphics::lines(dy, lwd = 2)
    graphics::legend("topright", c("observed", "replicated"), lwd = c(2, 1), col = c("black", "steelblue"), bty = "n")
  } else {
    br <- pretty(range(y, yrep), 20)
    k <- min(ndraws, 8)
    op <- graphics::par(mfrow = panel_grid(k + 1), mar = c(4, 4, 2, 1), mgp = c(2.2, 0.7, 0), cex.main = 0.9)
    on.exit(graphics::par(op))
    graphics::hist(y, breaks = br, col = "grey30", border = "white", main = "observed", xlab = resp)
    for (i in seq_len(k)) {
      graphics::hist(yrep[i, ], breaks = br, col = "steelblue", border = "white", main = sprintf("replicate %d", i),
                     xlab = resp)
    }
  }
  invisible(list(y = y, yrep = yrep))
}

# Interval bars on a bar plot at x positions `mid`: only where the interval
# is visible (a bar shorter than a thousandth of the plot's height makes
# arrows() warn "zero-length arrow is of indeterminate angle").
draw_interval_bars <- function(mid, lo, hi) {
  usr <- graphics::par("usr")
  ok <- !is.na(lo) & !is.na(hi) & (hi - lo) > 1e-3 * (usr[4] - usr[3])
  if (any(ok)) graphics::arrows(mid[ok], lo[ok], mid[ok], hi[ok], angle = 90, code = 3, length = 0.04)
  invisible(ok)
}
