# Allocation of marketing budgets across consumer segments and channels:
# the per-segment linear program of the personalization analysis
# (maximize sum_i sum_j (beta_ij - c_j) x_ij s.t. sum_j x_ij <= B_i,
# bounds on x_ij), and a saturation-aware version on segment-level response
# curves; each compared with a non-personalized allocation (one channel mix
# for every segment) of the same budgets.

#' Allocate segment budgets across channels
#'
#' **Linear program.** With a matrix of effects `beta` (segments x channels;
#' an array draws x segments x channels for posterior draws, whose mean is
#' used to allocate), channel costs `c` and segment budgets `B`, maximizes
#' `sum_i sum_j (beta_ij - c_j) x_ij` subject to `sum_j x_ij <= B_i`,
#' `lower_ij <= x_ij <= upper_ij`. The program separates by segment, and each
#' segment's program (one budget constraint and bounds) is solved exactly by
#' filling the lower bounds, then the channels in decreasing order of net
#' return `beta_ij - c_j` while it is positive, each up to its upper bound.
#'
#' **Saturation-aware.** With segment-level response curves (an
#' `hbmmm_curves` set, or a data frame of curves, with a `segment` column),
#' each segment maximizes `sum_j f_ij(x_ij) - c_j x_ij` under the same
#' constraints, globally by the dynamic program of [allocate_budget()].
#'
#' **Comparison.** The non-personalized allocation gives every segment the
#' same channel shares of its budget, chosen optimally for the pooled
#' segments (the best single mix, under the same bounds expressed as
#' shares). The return on marketing investment is
#' `ROMI = sum (response - cost) / sum spend`, for each segment and overall,
#' under both allocations, with posterior intervals when draws are given.
#'
#' @param x A segments x channels matrix of effects per unit of spend (row
#'   and column names: segments and channels), an array of draws (draws x
#'   segments x channels, with dimnames), or segment-level response curves.
#' @param budget Budget of each segment: one number for all, or a vector named
#'   by segment.
#' @param cost Cost per unit of spend of each channel: one number or a vector
#'   named by channel (default 0).
#' @param lower,upper Bounds: `NULL`, one number, a vector named by channel
#'   (the same for every segment) or a segments x channels matrix.
#' @param bounds `"spend"` (bounds in spend) or `"share"` (bounds as shares of
#'   the segment's budget, in `[0, 1]`).
#' @param grid Budget steps of the dynamic program (saturation-aware version).
#' @param level Probability of the intervals.
#' @return An object of class `hbmmm_segment_allocation`: a list with
#'   `allocation` (spend, segments x channels), `percent` (percent of each
#'   segment's budget, the published table's form, with an `unspent` column
#'   when a budget is not fully used), `nonpersonalized` (its allocation,
#'   segments x channels), `share_nonpersonalized` (its channel shares),
#'   `romi` (one row per segment and `overall`: `segment`, `romi` with
#'   `romi_lower`/`romi_upper`, `romi_nonpersonalized`, `uplift_percent` with
#'   `uplift_lower`/`uplift_upper`; intervals when draws are given),
#'   `budget`, `cost`, `saturation` (whether curves were used), `level` and
#'   `draws`. Unlike [allocate_budget()], segment budgets have no current
#'   plan, so bounds are only those given (`lower`, `upper`).
#' @examples
#' beta <- rbind(high = c(tv = 1.6, digital = 1.4, social = 1.5, email = 1.2, mail = 0.9),
#'               low = c(tv = 1.1, digital = 1.5, social = 1.2, email = 1.3, mail = 1.0))
#' seg <- allocate_segments(beta, budget = c(high = 100, low = 60), cost = 1,
#'                          lower = 0.02, upper = 0.35, bounds = "share")
#' seg
#' plot(seg)
#' @export
allocate_segments <- function(x, budget, cost = 0, lower = NULL, upper = NULL, bounds = c("spend", "share"),
                              grid = 1000, level = 0.9) {
  bounds <- match_choice(bounds, c("spend", "share"), "bounds")
  level <- check_level(level)
  grid <- check_count(grid, "grid", 10, 1e6)
  curves <- inherits(x, "hbmmm_curves") || is.data.frame(x)
  if (curves) {
    cv <- paid_curves(as_curves(x))
    if (anyNA(cv$curves$segment)) abort_input("x", "segment-level response curves need a `segment` for every curve")
    segs <- unique(cv$curves$segment)
    chans <- unique(cv$curves$channel)
    for (s in segs) {
      miss <- setdiff(chans, cv$curves$channel[cv$curves$segment == s])
      if (length(miss)) abort_input("x", sprintf("segment `%s` has no curve for channel `%s`; every segment needs a curve for every channel", s, miss[1]))
    }
    draws <- NULL
  } else {
    if (!is.numeric(x) || !length(dim(x)) %in% 2:3) {
      abort_input("x", sprintf("must be a segments x channels matrix of effects, a draws x segments x channels array, or segment-level response curves; found %s",
                               describe_value(x)))
    }
    draws <- if (length(dim(x)) == 3L) x else NULL
    B <- if (is.null(draws)) x else apply(draws, c(2, 3), mean)
    dn <- dimnames(if (is.null(draws)) x else draws)
    segs <- dn[[length(dn) - 1L]]
    chans <- dn[[length(dn)]]
    if (is.null(segs) || is.null(chans)) abort_input("x", "needs dimnames: segment names (rows) and channel names (columns)")
    if (any(!is.finite(x))) abort_input("x", "effects must be finite")
  }
  S <- length(segs)
  J <- length(chans)
  bud <- recycle_named(budget, segs, "budget", what = "segment", numeric = TRUE)
  if (any(bud < 0)) {
    bad <- which(bud < 0)[1]
    abort(sprintf("Invalid `budget`: budgets must be non-negative; found %s for segment `%s`", format(bud[bad]), segs[bad]),
          class = c("hbmmm_negative_budget_error", "hbmmm_input_error"), arg = "budget")
  }
  cst <- check_costs(recycle_named(cost, chans, "cost", default = 0, numeric = TRUE))
  lo <- seg_matrix(lower, segs, chans, "lower", 0)
  hi <- seg_matrix(upper, segs, chans, "upper", if (bounds == "share") 1 else Inf)
  if (bounds == "share") {
    if (any(lo > 1 | hi < 0)) abort_input(if (any(lo > 1)) "lower" else "upper", "shares must be in [0, 1]")
    lo_s <- lo
    hi_s <- pmin(hi, 1)
    lo <- lo * bud
    hi <- hi_s * bud
  } else {
    lo_s <- sweep(lo, 1, ifelse(bud > 0, bud, 1), "/")
    hi_s <- pmin(sweep(hi, 1, ifelse(bud > 0, bud, 1), "/"), 1)
  }
  if (any(lo < 0)) abort_input("lower", "bounds must be non-negative")
  for (i in seq_len(S)) {
    bad <- which(hi[i, ] < lo[i, ])
    if (length(bad)) {
      abort(sprintf("Infeasible bounds: segment `%s`, channel `%s` has lower bound %s above its upper bound %s (by %s)",
                    segs[i], chans[bad[1]], fmt_num(lo[i, bad[1]], 6), fmt_num(hi[i, bad[1]], 6),
                    fmt_num(lo[i, bad[1]] - hi[i, bad[1]], 6)), class = "hbmmm_infeasible_error", arg = "lower")
    }
    if (sum(lo[i, ]) > bud[i] * (1 + 1e-12)) {
      abort(sprintf("Infeasible plan: the lower bounds of segment `%s` sum to %s, exceeding its budget %s by %s",
                    segs[i], fmt_num(sum(lo[i, ]), 6), fmt_num(bud[i], 6), fmt_num(sum(lo[i, ]) - bud[i], 6)),
            class = "hbmmm_infeasible_error", arg = "lower")
    }
  }
  if (!curves) {
    net <- sweep(B, 2, cst)
    alloc <- t(vapply(seq_len(S), function(i) lp_segment(net[i, ], bud[i], lo[i, ], hi[i, ]), numeric(J)))
    # non-personalized: one mix for all, optimal for the budget-weighted effects
    w <- if (sum(bud) > 0) bud / sum(bud) else rep(1 / S, S)
    share_np <- lp_segment(colSums(net * w), 1, apply(lo_s, 2, max), apply(hi_s, 2, min), what = "the non-personalized mix")
    resp <- function(A, b) rowSums(b * A)
    draws_b <- if (is.null(draws)) array(B, c(1L, S, J)) else draws
  } else {
    res <- lapply(seq_len(S), function(i) {
      k <- which(cv$curves$segment == segs[i])
      k <- k[match(chans, cv$curves$channel[k])]
      sub <- subset_curves(cv, k)
      sub$curves$id <- chans
      pl <- list(ids = chans, lo = lo[i, ], hi = hi[i, ], fixed = rep(FALSE, J), cost = cst, current = NULL,
                 prof = curve_profiles(sub))
      optimize_mean(sub, pl, bud[i], spend_all = FALSE, grid = grid)$x
    })
    alloc <- do.call(rbind, res)
    share_np <- np_curves_shares(cv, segs, chans, bud, cst, lo_s, hi_s, grid)
  }
  dimnames(alloc) <- list(segs, chans)
  alloc_np <- outer(bud, share_np)
  dimnames(alloc_np) <- list(segs, chans)
  # ROMI per draw for both allocations
  seg_resp <- function(A) { # draws x segments (response - cost)
    if (!curves) {
      return(vapply(seq_len(S), function(i) as.vector(matrix(draws_b[, i, ], ncol = J) %*% A[i, ]) - sum(cst * A[i, ]),
                    numeric(dim(draws_b)[1])))
    }
    vapply(seq_len(S), function(i) {
      k <- which(cv$curves$segment == segs[i])
      k <- k[match(chans, cv$curves$channel[k])]
      sub <- subset_curves(cv, k)
      rowSums(curves_at(sub, A[i, ], curve_profiles(sub))$value) - sum(cst * A[i, ])
    }, numeric(n_draws(cv)))
  }
  rp <- matrix(seg_resp(alloc), ncol = S)
  rn <- matrix(seg_resp(alloc_np), ncol = S)
  romi_tab <- romi_table(rp, rn, rowSums(alloc), rowSums(alloc_np), segs, level)
  pct <- 100 * sweep(alloc, 1, ifelse(bud > 0, bud, 1), "/")
  unspent <- pmax(0, 100 - rowSums(pct))
  if (any(unspent > 1e-6)) pct <- cbind(pct, unspent = unspent)
  structure(list(allocation = alloc, percent = pct, nonpersonalized = alloc_np, share_nonpersonalized = share_np,
                 romi = romi_tab, budget = bud, cost = cst, saturation = curves, level = level,
                 draws = nrow(rp)),
            class = "hbmmm_segment_allocation")
}

# One segment's linear program: net returns r, budget b, bounds lo/hi.
lp_segment <- function(r, b, lo, hi, what = "the segment") {
  x <- lo
  left <- b - sum(lo)
  if (left < -1e-9 * max(1, b)) {
    abort(sprintf("Infeasible plan: the lower bounds of %s sum to %s, exceeding the budget %s by %s", what,
                  fmt_num(sum(lo), 6), fmt_num(b, 6), fmt_num(-left, 6)), class = "hbmmm_infeasible_error", arg = "lower")
  }
  # ties broken by channel name so that reordering channels changes nothing
  for (j in order(-r, names(r))) {
    if (left <= 0 || r[j] <= 0) break
    add <- min(hi[j] - x[j], left)
    x[j] <- x[j] + add
    left <- left - add
  }
  x
}

# Non-personalized shares on curves: one share s_j of each segment's budget
# per channel, maximizing sum_i sum_j f_ij(s_j B_i) - c_j s_j B_i subject to
# sum_j s_j <= 1 and the share bounds: separable in j, so the same DP.
np_curves_shares <- function(cv, segs, chans, bud, cst, lo_s, hi_s, grid) {
  J <- length(chans)
  slo <- apply(lo_s, 2, max)
  shi <- apply(hi_s, 2, min)
  if (any(shi < slo) || sum(slo) > 1 + 1e-12) {
    abort("Infeasible plan: no single channel mix satisfies the bounds of every segment (needed for the non-personalized comparison)",
          class = "hbmmm_infeasible_error", arg = "lower")
  }
  R <- 1 - sum(slo)
  if (R <= 0) return(slo)
  delta <- R / grid
  cap <- as.integer(pmin(grid, floor((shi - slo) / delta + 1e-9)))
  F <- matrix(0, grid + 1L, J)
  for (j in seq_len(J)) {
    s <- pmin(slo[j] + (0:cap[j]) * delta, shi[j])
    v <- numeric(length(s))
    for (i in seq_along(segs)) {
      k <- which(cv$curves$segment == segs[i] & cv$curves$channel == chans[j])
      sub <- subset_curves(cv, k)
      v <- v + curves_eval(sub, s * bud[i], curve_profiles(sub), average = TRUE)$value[, 1] - cst[j] * s * bud[i]
    }
    F[seq_along(v), j] <- v
  }
  dp <- .Call(C_hb_allocate_dp, F, cap)
  b <- which.max(dp$value) - 1L
  steps <- integer(J)
  for (j in J:1) {
    steps[j] <- dp$choice[b + 1L, j]
    b <- b - steps[j]
  }
  stats::setNames(pmin(slo + steps * delta, shi), chans)
}

romi_table <- function(rp, rn, sp, sn, segs, level) {
  pr <- interval_probs(level)
  row <- function(a, b, s_a, s_b) {
    ra <- if (s_a > 0) a / s_a else rep(NA_real_, length(a))
    rb <- if (s_b > 0) b / s_b else rep(NA_real_, length(b))
    up <- 100 * (ra / rb - 1)
    q <- function(v) if (all(is.na(v))) c(NA, NA) else stats::quantile(v, pr, names = FALSE, na.rm = TRUE)
    data.frame(romi = mean(ra), romi_lower = q(ra)[1], romi_upper = q(ra)[2],
               romi_nonpersonalized = mean(rb), uplift_percent = 100 * (mean(ra) / mean(rb) - 1),
               uplift_lower = q(up)[1], uplift_upper = q(up)[2])
  }
  tab <- do.call(rbind, lapply(seq_along(segs), function(i) row(rp[, i], rn[, i], sp[i], sn[i])))
  tab <- rbind(tab, row(rowSums(rp), rowSums(rn), sum(sp), sum(sn)))
  cbind(segment = c(segs, "overall"), tab, stringsAsFactors = FALSE)
}

seg_matrix <- function(v, segs, chans, arg, default) {
  if (is.matrix(v)) {
    if (!is.numeric(v) || !identical(sort(rownames(v)), sort(segs)) || !identical(sort(colnames(v)), sort(chans))) {
      abort_input(arg, sprintf("a matrix of bounds must have rows named by segment (%s) and columns by channel (%s)",
                               paste(segs, collapse = ", "), paste(chans, collapse = ", ")))
    }
    v <- v[segs, chans, drop = FALSE]
    if (anyNA(v)) abort_input(arg, "must not contain NA")
    return(v)
  }
  cv <- recycle_named(v, chans, arg, default = default, numeric = TRUE)
  matrix(cv, length(segs), length(chans), byrow = TRUE, dimnames = list(segs, chans))
}

#' @export
print.hbmmm_segment_allocation <- function(x, digits = 3, ...) {
  cat_wrap(sprintf("Segment allocation (%s): %d segment(s) x %d channel(s)",
                   if (x$saturation) "saturation-aware, segment response curves" else "linear program on effects per unit",
                   nrow(x$allocation), ncol(x$allocation)))
  cat("\nAllocation, percent of each segment's budget:\n")
  p <- x$percent
  out <- as.data.frame(matrix(sprintf("%.1f%%", p), nrow(p), dimnames = dimnames(p)), optional = TRUE)
  out <- cbind(segment = rownames(p), out, budget = fmt_num(x$budget, digits + 2))
  print_table(out)
  np <- x$share_nonpersonalized
  cat("\n")
  cat_wrap(sprintf("Non-personalized mix (every segment): %s",
                   paste(sprintf("%s %.1f%%", names(np), 100 * np), collapse = ", ")))
  r <- x$romi
  cat("\n")
  cat_wrap(sprintf("Return on marketing investment (ROMI = (response - cost) / spend)%s:",
                   if (x$draws > 1) sprintf(", %s intervals over %d draws", format_pct(x$level), x$draws) else ""))
  iv <- x$draws > 1
  print_table(data.frame(segment = r$segment,
                         personalized = if (iv) fmt_interval(r$romi, r$romi_lower, r$romi_upper, digits) else fmt_num(r$romi, digits),
                         `non-personalized` = fmt_num(r$romi_nonpersonalized, digits),
                         `uplift %` = if (iv) fmt_interval(r$uplift_percent, r$uplift_lower, r$uplift_upper, digits)
                                      else ifelse(is.na(r$uplift_percent), "NA", sprintf("%+.1f%%", r$uplift_percent)),
                         check.names = FALSE))
  invisible(x)
}

#' @export
summary.hbmmm_segment_allocation <- function(object, ...) object$romi

#' @export
plot.hbmmm_segment_allocation <- function(x, ...) {
  p <- x$percent
  cols <- grDevices::hcl.colors(ncol(p), "Dark 3")
  if ("unspent" %in% colnames(p)) cols[ncol(p)] <- "grey90"
  op <- graphics::par(mar = c(4.5, 4.5, 3, 8))
  on.exit(graphics::par(op))
  mid <- graphics::barplot(t(p), col = cols, border = "white", ylab = "percent of the segment's budget",
                           main = "Allocation by segment", ylim = c(0, 100), las = 1)
  graphics::par(xpd = TRUE)
  usr <- graphics::par("usr")
  graphics::legend(usr[2], usr[4], legend = rev(colnames(p)), fill = rev(cols), bty = "n", border = NA, cex = 0.9)
  invisible(p)
}
