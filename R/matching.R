# Greedy nearest-neighbour matching on the propensity score (or its logit,
# or the Mahalanobis distance), with the semantics of MatchIt's
# method = "nearest"; the lookups run in C (src/matching.c).

#' Nearest-neighbour matching on the propensity score
#'
#' Greedy nearest-neighbour matching with the semantics of MatchIt's
#' `matchit(method = "nearest")`: each focal unit (treated for the ATT,
#' control for the ATC), taken in the matching `order`, receives the closest
#' available unit of the other group; with `ratio = k`, matching proceeds in
#' `k` rounds, each giving every focal unit one more match. Without
#' replacement a unit is used at most once.
#'
#' Units are sorted by distance (ties in data order); the candidate on each
#' side of a focal unit in that order is compared and the lower one is kept
#' when both are equally far, as MatchIt does. Lookups use a sorted index of
#' the distances with used units spliced out (union-find), so matching `n`
#' units costs `O(n log n)` overall; one million units take about a second.
#' With `distance = "mahalanobis"` each lookup scans the available units of
#' its `exact` stratum, `O(n)` per lookup.
#'
#' Matching weights follow MatchIt: matched focal units get weight 1; each
#' matched unit of the other group gets the sum, over the focal units it is
#' matched to, of one over that focal unit's number of matches; these
#' weights are then scaled to sum to the number of matched units of that
#' group. Unmatched units get weight 0.
#'
#' With replacement and `ratio > 1`, each focal unit takes its `ratio`
#' nearest *distinct* units (MatchIt 4.5.1 repeats the nearest one instead;
#' later MatchIt versions take distinct units).
#'
#' @param x An `hbmmm_ps` object from [propensity_score()], or a formula
#'   `treatment ~ covariates` (the propensity score is then estimated first).
#' @param data With a formula: the data frame. Ignored otherwise.
#' @param ratio Number of matches per focal unit (`k` in k:1 matching).
#' @param caliper `NULL` (no caliper) or a non-negative number: matches must
#'   lie within `caliper` standard deviations of the distance (the propensity
#'   score, or its logit with `distance = "logit"`), the standard deviation
#'   being taken over all units, as in MatchIt. With
#'   `distance = "mahalanobis"` the caliper applies to the propensity score.
#' @param replace Match with replacement?
#' @param order Matching order of the focal units: `"largest"` distance first
#'   (the default for the ATT), `"smallest"` first (the default for the ATC),
#'   `"random"` or `"data"` (the default for Mahalanobis matching). Units with
#'   equal distances are taken in data order.
#' @param distance `"ps"` (propensity score), `"logit"` (its linear
#'   predictor) or `"mahalanobis"` (Mahalanobis distance on the covariates of
#'   the propensity model, with the pooled within-group covariance).
#' @param exact Names of columns of the data on which matches must agree
#'   exactly (matching runs within each combination of their values).
#' @param estimand `"ATT"` (match controls to treated units) or `"ATC"`
#'   (match treated units to controls).
#' @param seed Whole number making `order = "random"` reproducible (the
#'   caller's random number state is restored); `NULL` uses the current
#'   stream.
#' @return An object of class `hbmmm_match`, a list with `pairs` (a data
#'   frame with one row per match: `focal` and `match` row indices, `round`,
#'   their distances and `subclass`), `match_matrix` (focal units by rounds,
#'   row indices of their matches or `NA`), `weights` (one per row of the
#'   data), `subclass` (factor; `NA` for unmatched units and with
#'   replacement), `unmatched` (list of row indices: `focal` units left
#'   without a match and `other` units never used), `treat`, `distance`,
#'   `caliper_width` (on the distance scale), the settings, the `ps` object
#'   and the `data`.
#' @seealso [balance()] to check the matched sample, [estimate_effect()].
#' @examples
#' sim <- simulate_confounded(n = 1000, seed = 1)
#' ps <- propensity_score(treat ~ age + income + loyal, data = sim$data)
#' m <- ps_match(ps, caliper = 0.2)
#' m
#' balance(m)
#' m2 <- ps_match(ps, ratio = 2, exact = "loyal", distance = "logit")
#' head(m2$pairs)
#' @export
ps_match <- function(x, data = NULL, ratio = 1, caliper = NULL, replace = FALSE, order = NULL,
                     distance = c("ps", "logit", "mahalanobis"), exact = NULL,
                     estimand = c("ATT", "ATC"), seed = NULL) {
  call <- match.call()
  ps <- as_ps(x, data)
  data <- ps$data
  distance <- match_choice(distance, c("ps", "logit", "mahalanobis"), "distance")
  estimand <- match_choice(estimand, c("ATT", "ATC"), "estimand")
  ratio <- check_count(ratio, "ratio", 1, 1000)
  replace <- check_flag(replace, "replace")
  order <- if (is.null(order)) {
    if (distance == "mahalanobis") "data" else if (estimand == "ATC") "smallest" else "largest"
  } else match_choice(order, c("largest", "smallest", "random", "data"), "order")
  treat <- ps$treat
  n <- length(treat)
  focal <- if (estimand == "ATT") treat else 1L - treat
  n1 <- sum(focal)
  n0 <- n - n1
  grp <- if (estimand == "ATT") c("treated", "control") else c("control", "treated")
  if (ratio > n0 && !replace) {
    abort_input("ratio", sprintf("asks for %d %s matches per %s unit without replacement but there are only %d %s units; lower `ratio` or set `replace = TRUE`",
                                 ratio, grp[2], grp[1], n0, grp[2]))
  }
  d <- if (distance == "logit") ps$linear_predictor else ps$score
  width <- NA_real_
  if (!is.null(caliper)) {
    if (!is.numeric(caliper) || length(caliper) != 1L || !is.finite(caliper) || caliper < 0) {
      abort_input("caliper", sprintf("must be NULL or one non-negative number (in standard deviations of the distance); found %s",
                                     describe_value(caliper)))
    }
    width <- caliper * stats::sd(d)
  }
  stratum <- rep(1L, n)
  if (!is.null(exact)) {
    if (!is.character(exact) || anyNA(exact) || !length(exact)) {
      abort_input("exact", sprintf("must be column names; found %s", describe_value(exact)))
    }
    miss <- setdiff(exact, names(data))
    if (length(miss)) {
      abort_input("exact", sprintf("column `%s` is not in the data%s", miss[1], suggest_name(miss[1], names(data))))
    }
    check_complete(data, exact)
    stratum <- as.integer(interaction(data[exact], drop = TRUE, lex.order = TRUE))
  }
  if (!replace) {
    short <- if (is.null(exact)) n0 < ratio * n1 else {
      any(tapply(focal == 0L, stratum, sum) < ratio * tapply(focal == 1L, stratum, sum))
    }
    if (short) {
      warn_classed("ratio", sprintf("fewer %s units (%d) than needed for %d match(es) per %s unit (%d)%s; not every %s unit will get %d match(es)",
                                   grp[2], n0, ratio, grp[1], n1, if (is.null(exact)) "" else " in some exact strata",
                                   grp[1], ratio))
    }
  }
  mahal <- if (distance == "mahalanobis") mahalanobis_whiten(ps, treat) else NULL
  ord_all <- base::order(stratum, d, method = "radix")
  fi <- which(focal == 1L)
  restore <- sim_seed(seed)
  if (!is.null(restore)) on.exit(restore(), add = TRUE)
  mo <- switch(order,
               largest = base::order(d[fi], decreasing = TRUE),
               smallest = base::order(d[fi], decreasing = FALSE),
               random = sample.int(n1),
               data = seq_len(n1))
  mm <- .Call(C_hb_nn_match, as.double(d), as.integer(focal), as.integer(ord_all), as.integer(fi[mo]),
              as.integer(stratum), as.integer(ratio), as.double(width), replace, mahal)
  has <- !is.na(mm[, 1L])
  if (!any(has)) {
    arg <- if (!is.null(caliper)) "caliper" else if (!is.null(exact)) "exact" else "x"
    abort(sprintf("Invalid `%s`: no %s unit found a match%s; widen the caliper or relax `exact`", arg, grp[1],
                  if (!is.null(caliper)) sprintf(" within the caliper (%s standard deviations = %s on the distance scale)",
                                                 format(caliper), format(width, digits = 3)) else ""),
          class = c("hbmmm_no_match_error", "hbmmm_input_error"), arg = arg)
  }
  w <- match_weights(mm, fi, focal, n)
  # pairs and subclasses
  k <- ncol(mm)
  pf <- rep(fi, times = k)
  pm <- as.vector(mm)
  rd <- rep(seq_len(k), each = length(fi))
  ok <- !is.na(pm)
  pairs <- data.frame(focal = pf[ok], match = pm[ok], round = rd[ok])
  pairs <- pairs[order(pairs$focal, pairs$round), , drop = FALSE]
  subclass <- factor(rep(NA_integer_, n))
  if (!replace) {
    sc <- rep(NA_integer_, n)
    sid <- cumsum(has)
    sc[fi[has]] <- sid[has]
    sc[pairs$match] <- sid[match(pairs$focal, fi)]
    subclass <- factor(sc)
    pairs$subclass <- sc[pairs$focal]
  } else {
    pairs$subclass <- match(pairs$focal, fi[has])
  }
  pairs$focal_distance <- d[pairs$focal]
  pairs$match_distance <- d[pairs$match]
  rownames(pairs) <- NULL
  rownames(mm) <- rownames(data)[fi]
  used <- w > 0
  structure(list(
    pairs = pairs, match_matrix = mm, weights = w, subclass = subclass,
    unmatched = list(focal = fi[!has], other = which(focal == 0L & !used)),
    treat = treat, focal = focal, distance = d, distance_type = distance, caliper = caliper,
    caliper_width = width, ratio = ratio, replace = replace, order = order, exact = exact,
    estimand = estimand, ps = ps, data = data, call = call
  ), class = "hbmmm_match")
}

# An hbmmm_ps from an hbmmm_ps or a formula + data.
as_ps <- function(x, data) {
  if (inherits(x, "hbmmm_ps")) return(x)
  if (inherits(x, "formula")) {
    if (is.null(data)) abort_input("data", "is needed when `x` is a formula")
    return(propensity_score(x, data))
  }
  abort_input("x", sprintf("must be an hbmmm_ps object from propensity_score() or a formula `treatment ~ covariates`; found %s",
                           describe_value(x)))
}

# MatchIt's matching weights from a focal-by-round match matrix.
match_weights <- function(mm, fi, focal, n) {
  w <- numeric(n)
  has <- !is.na(mm[, 1L])
  w[fi[has]] <- 1
  cnt <- rowSums(!is.na(mm))
  idx <- as.vector(mm)
  val <- rep(1 / cnt, times = ncol(mm))
  ok <- !is.na(idx)
  s <- rowsum(val[ok], idx[ok], reorder = FALSE)
  w[as.integer(rownames(s))] <- s[, 1L]
  other <- focal == 0L
  tot <- sum(w[other])
  if (tot > 0) w[other] <- w[other] * sum(w[other] > 0) / tot
  w
}

# Covariates of the propensity model, whitened with the pooled within-group
# covariance so that Euclidean distance is Mahalanobis distance.
mahalanobis_whiten <- function(ps, treat) {
  X <- ps$covariates
  keep <- apply(X, 2, function(v) max(v) - min(v) > sqrt(.Machine$double.eps))
  X <- X[, keep, drop = FALSE]
  if (!ncol(X)) abort_input("distance", "\"mahalanobis\" needs covariates that vary")
  Xc <- X
  for (g in 0:1) {
    r <- treat == g
    Xc[r, ] <- sweep(X[r, , drop = FALSE], 2L, colMeans(X[r, , drop = FALSE]))
  }
  S <- crossprod(Xc) / (nrow(X) - 2)
  e <- eigen(S, symmetric = TRUE)
  pos <- e$values > max(e$values) * 1e-10
  # generalized inverse square root (also covers the full dummy coding of factors)
  Wm <- e$vectors[, pos, drop = FALSE] %*% diag(1 / sqrt(e$values[pos]), sum(pos))
  out <- X %*% Wm
  storage.mode(out) <- "double"
  out
}

#' @rdname ps_match
#' @param digits Significant digits.
#' @param ... Ignored.
#' @export
print.hbmmm_match <- function(x, digits = 3, ...) {
  grp <- if (x$estimand == "ATT") c("treated", "control") else c("control", "treated")
  nf <- sum(x$focal)
  cat(sprintf("<hbmmm_match> %d:1 nearest-neighbour matching on %s (%s), %s replacement, order \"%s\"\n",
              x$ratio, switch(x$distance_type, ps = "the propensity score", logit = "the logit of the propensity score",
                              mahalanobis = "the Mahalanobis distance"),
              x$estimand, if (x$replace) "with" else "without", x$order))
  if (!is.null(x$caliper)) {
    cat(sprintf("  caliper: %s sd = %s on the distance scale\n", format(x$caliper), format(x$caliper_width, digits = digits)))
  }
  if (!is.null(x$exact)) cat(sprintf("  exact on: %s\n", paste(x$exact, collapse = ", ")))
  cat(sprintf("  %s: %d of %d matched; %s: %d of %d used (weights sum to %s)\n",
              grp[1], nf - length(x$unmatched$focal), nf, grp[2], sum(x$weights > 0 & x$focal == 0L),
              sum(x$focal == 0L), format(sum(x$weights[x$focal == 0L]), digits = digits)))
  invisible(x)
}
