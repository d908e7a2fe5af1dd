# Budget allocation across channels: the global optimum of the separable
# expected response by dynamic programming over a budget grid (src/allocate.c),
# refined by zoomed grids; risk-aware objectives by a local search on the
# exact objective over draws from that global start.

#' Allocate a budget across channels
#'
#' Finds the spend per channel that maximizes the expected incremental
#' response over the posterior draws of the response curves, subject to a
#' total budget, per-channel lower and upper bounds and channels held fixed,
#' optionally over a planning horizon with adstock carry-over.
#'
#' **Method.** With `objective = "mean"` the objective is a sum of one
#' function per channel (the posterior mean response curve), which need not be
#' concave (Hill curves with `slope > 1` are S-shaped). It is maximized
#' globally on a grid of `grid` budget steps by dynamic programming, then
#' refined by repeating the dynamic program on finer grids in a window of two
#' grid steps around the solution (four times, each 8 times finer), so that the
#' result is the global optimum up to about `budget / grid / 4000`.
#' The risk-aware objectives are not separable: `"quantile"` maximizes the
#' `quantile` quantile of the total response over draws, and `"mean_sd"` the
#' mean minus `risk` posterior standard deviations. They start from the global
#' optimum of the mean (and from the current plan when it is feasible) and
#' improve it by a pattern search over transfers between pairs of channels on
#' the exact objective over draws, with steps from a quarter of the budget down
#' to `1e-7` of it; the best result is returned. This is a local search: on the
#' small problems of the tests it matches brute-force grid search.
#'
#' **Horizon.** With `horizon = NULL`, budgets, bounds and responses are per
#' period at a steady spend (adstock carry-over at its steady state). With a
#' horizon of `H` periods, they are totals over the horizon: each channel's
#' spend is spread over the periods by `flighting` (default flat), adstocked,
#' and the response counted over the horizon and, with `carryover = TRUE`, the
#' periods after it until the carry-over has died out.
#'
#' **Observed range.** Curves of a fit know the largest spend of a period
#' seen in the data (`spend_max` in their table). A plan that puts a channel
#' beyond it (per period; on average over a horizon) reads the curve where
#' there were no data, and raises the classed warning
#' `hbmmm_warning_extrapolation`; `upper = cv$curves$spend_max` keeps plans
#' inside. Organic channels (`hbmmm(organic = )`) are never allocated.
#'
#' **Targets.** With `target_roi` (or `target_mroi`), `budget` is the largest
#' budget allowed and the function returns the optimal allocation of the
#' largest total budget whose expected ROI (total response / total spend),
#' or whose marginal ROI (expected response of the next unit of budget), still
#' reaches the target.
#'
#' @param x Response curves: an `hbmmm_fit`, an `hbmmm_curves` object from
#'   [response_curves()], or a data frame or draws matrix that
#'   [response_curves()] accepts.
#' @param budget Total budget (per period, or over the horizon); default: the
#'   current plan's total.
#' @param lower,upper Bounds on the spend of each channel: one number for all
#'   channels, or a vector named by channel (unnamed channels: 0 and `Inf`).
#' @param fixed Named vector of channels held at a given spend.
#' @param current Named vector: the current plan to compare with (default: the
#'   curves' reference spend, times `horizon`).
#' @param objective `"mean"` (expected response), `"quantile"` (a lower
#'   quantile of the response) or `"mean_sd"` (mean minus `risk` sd).
#' @param quantile Quantile level of `objective = "quantile"`.
#' @param risk Multiple of the sd of `objective = "mean_sd"`.
#' @param horizon Number of periods planned (`NULL`: steady state, per period).
#' @param flighting Weights of the periods of the horizon (default flat).
#' @param carryover Count the carry-over after the horizon?
#' @param target_roi,target_mroi Target ROI or marginal ROI (target mode; use
#'   at most one).
#' @param cost Cost per unit of spend of each channel subtracted from the
#'   response (default 0: the objective is the incremental response itself).
#' @param spend_all Spend exactly the budget (`TRUE`), or at most the budget
#'   (`FALSE`, which matters when extra spend lowers the objective).
#' @param grid Budget steps of the dynamic program.
#' @param level Probability of the credible intervals reported.
#' @return An object of class `hbmmm_allocation`: a list with `table` (one row
#'   per channel: current and optimal spend, bounds, share, expected response
#'   with interval, ROI and marginal ROI at the optimum), `totals` (current and
#'   optimal plan: spend, expected response and interval, ROI), `uplift`
#'   (expected change of the response against the current plan, with interval
#'   and probability of a gain), `per_draw` (total response per draw of both
#'   plans), `objective`, `objective_value` and the settings.
#' @seealso [budget_for_target()], [simulate_scenario()], [response_curves()].
#' @examples
#' cv <- response_curves(data.frame(
#'   channel = c("tv", "search", "social"), type = c("hill", "michaelis_menten", "logistic"),
#'   beta = c(500, 300, 200), halfsat = c(100, NA, NA), slope = c(2, NA, NA),
#'   k = c(NA, 50, NA), lambda = c(NA, NA, 0.01), spend = c(120, 60, 80)))
#' a <- allocate_budget(cv, budget = 260, upper = c(search = 100))
#' a
#' plot(a)
#' allocate_budget(cv, budget = 1000, target_mroi = 1)
#' @export
allocate_budget <- function(x, budget = NULL, lower = NULL, upper = NULL, fixed = NULL, current = NULL,
                            objective = c("mean", "quantile", "mean_sd"), quantile = 0.1, risk = 1,
                            horizon = NULL, flighting = NULL, carryover = TRUE,
                            target_roi = NULL, target_mroi = NULL, cost = NULL, spend_all = TRUE,
                            grid = 1000, level = 0.9) {
  cv <- paid_curves(as_curves(x))
  objective <- match_choice(objective, c("mean", "quantile", "mean_sd"), "objective")
  obj <- objective_code(objective, quantile, risk)
  spend_all <- check_flag(spend_all, "spend_all")
  grid <- check_count(grid, "grid", 10, 1e6)
  level <- check_level(level)
  pl <- plan_setup(cv, lower, upper, fixed, current, horizon, flighting, carryover, cost)
  targets <- c(roi = !is.null(target_roi), mroi = !is.null(target_mroi))
  if (sum(targets) > 1L) abort_input("target_mroi", "give at most one of `target_roi` and `target_mroi`")
  if (any(targets)) {
    if (objective != "mean") abort_input("objective", "target modes (`target_roi`, `target_mroi`) use objective = \"mean\"")
    which_t <- names(targets)[targets]
    tv <- if (which_t == "roi") target_roi else target_mroi
    arg <- paste0("target_", which_t)
    if (!is.numeric(tv) || length(tv) != 1L || !is.finite(tv)) {
      abort_input(arg, sprintf("must be one finite number; found %s", describe_value(tv)))
    }
    budget <- if (is.null(budget)) default_max_budget(pl, "budget") else check_budget(budget)
    check_feasible(pl, budget, spend_all = FALSE)
    res <- target_search(cv, pl, budget, which_t, tv, grid)
  } else {
    budget <- if (is.null(budget)) current_total(pl, "budget") else check_budget(budget)
    check_feasible(pl, budget, spend_all)
    res <- optimize_plan(cv, pl, budget, obj, spend_all, grid)
  }
  out <- allocation_result(cv, pl, res$x, obj, res$value, level)
  out$organic <- attr(cv, "organic")
  out$budget <- budget
  out$spend_all <- spend_all
  if (any(targets)) out$target <- list(type = names(targets)[targets], value = tv, achieved = res$achieved,
                                       at_limit = res$at_limit)
  out
}

# ---- setup and checks --------------------------------------------------------

objective_code <- function(objective, quantile, risk) {
  switch(objective,
    mean = c(0, 0),
    quantile = {
      if (!is.numeric(quantile) || length(quantile) != 1L || !is.finite(quantile) || quantile <= 0 || quantile >= 1) {
        abort_input("quantile", sprintf("must be one number in (0, 1); found %s", describe_value(quantile)))
      }
      c(1, quantile)
    },
    mean_sd = {
      if (!is.numeric(risk) || length(risk) != 1L || !is.finite(risk) || risk < 0) {
        abort_input("risk", sprintf("must be one non-negative number; found %s", describe_value(risk)))
      }
      c(2, risk)
    })
}

check_budget <- function(budget, arg = "budget") {
  if (!is.numeric(budget) || length(budget) != 1L || is.na(budget) || !is.finite(budget)) {
    abort_input(arg, sprintf("must be one finite number; found %s", describe_value(budget)))
  }
  if (budget < 0) {
    abort(sprintf("Invalid `%s`: budgets must be non-negative; found %s", arg, format(budget)),
          class = c("hbmmm_negative_budget_error", "hbmmm_input_error"), arg = arg)
  }
  as.double(budget)
}

# Bounds, fixed channels, profiles, costs and the current plan, per curve.
plan_setup <- function(cv, lower, upper, fixed, current, horizon, flighting, carryover, cost) {
  ids <- cv$curves$id
  if (!is.null(horizon)) horizon <- check_count(horizon, "horizon", 1, 1e4)
  carryover <- check_flag(carryover, "carryover")
  lo <- plan_vector(lower, cv, "lower", default = 0)
  hi <- plan_vector(upper, cv, "upper", default = Inf)
  if (any(lo < 0 | !is.finite(lo))) {
    bad <- which(lo < 0 | !is.finite(lo))[1]
    abort_input("lower", sprintf("bounds must be non-negative and finite; found %s for `%s`", format(lo[bad]), ids[bad]))
  }
  if (any(is.na(hi) | hi < 0)) {
    bad <- which(is.na(hi) | hi < 0)[1]
    abort_input("upper", sprintf("bounds must be non-negative; found %s for `%s`", format(hi[bad]), ids[bad]))
  }
  fx <- plan_vector(fixed, cv, "fixed", default = NA_real_)
  is_fixed <- !is.na(fx)
  if (any(fx[is_fixed] < 0 | !is.finite(fx[is_fixed]))) {
    bad <- which(is_fixed & (fx < 0 | !is.finite(fx)))[1]
    abort_input("fixed", sprintf("spends must be non-negative and finite; found %s for `%s`", format(fx[bad]), ids[bad]))
  }
  lo[is_fixed] <- hi[is_fixed] <- fx[is_fixed]
  bad <- which(hi < lo)
  if (length(bad)) {
    b <- bad[1]
    abort(sprintf("Infeasible bounds: channel `%s` has lower bound %s above its upper bound %s (by %s)", ids[b],
                  fmt_num(lo[b], 6), fmt_num(hi[b], 6), fmt_num(lo[b] - hi[b], 6)),
          class = c("hbmmm_infeasible_error"), arg = "lower")
  }
  cst <- plan_vector(cost, cv, "cost", default = 0)
  check_costs(cst)
  mult <- if (is.null(horizon)) 1 else horizon
  cur <- if (is.null(current)) {
    r <- reference_spend(cv)
    if (is.null(r)) NULL else r * mult
  } else {
    v <- plan_vector(current, cv, "current", default = NA_real_)
    if (anyNA(v)) abort_input("current", "must give a spend for every channel")
    if (any(v < 0)) abort_input("current", "spends must be non-negative")
    v
  }
  list(ids = ids, lo = lo, hi = hi, fixed = is_fixed, fixed_value = fx, cost = cst, current = cur,
       horizon = horizon, carryover = carryover,
       prof = curve_profiles(cv, horizon, flighting, carryover))
}

current_total <- function(pl, arg) {
  if (is.null(pl$current) || anyNA(pl$current)) {
    abort_input(arg, "is required: the curves have no reference (current) spend to take the budget from")
  }
  sum(pl$current)
}

default_max_budget <- function(pl, arg) {
  if (all(is.finite(pl$hi))) return(sum(pl$hi))
  if (is.null(pl$current) || anyNA(pl$current) || sum(pl$current) <= 0) {
    abort_input(arg, "is required: give the largest budget to consider (the upper bounds are not all finite and there is no current spend to scale)")
  }
  10 * sum(pl$current)
}

# Classed errors for plans that cannot be met, saying by how much.
check_feasible <- function(pl, budget, spend_all) {
  ids <- pl$ids
  if (any(pl$fixed)) {
    fs <- sum(pl$fixed_value[pl$fixed])
    if (fs > budget * (1 + 1e-12)) {
      abort(sprintf("Infeasible plan: the fixed channels (%s) sum to %s, exceeding the budget %s by %s",
                    paste(sprintf("%s = %s", ids[pl$fixed], fmt_num(pl$fixed_value[pl$fixed], 6)), collapse = ", "),
                    fmt_num(fs, 6), fmt_num(budget, 6), fmt_num(fs - budget, 6)),
            class = c("hbmmm_infeasible_error"), arg = "fixed")
    }
  }
  sl <- sum(pl$lo)
  if (sl > budget * (1 + 1e-12)) {
    abort(sprintf("Infeasible plan: the lower bounds%s sum to %s, exceeding the budget %s by %s",
                  if (any(pl$fixed)) " (with the fixed channels)" else "", fmt_num(sl, 6), fmt_num(budget, 6),
                  fmt_num(sl - budget, 6)),
          class = c("hbmmm_infeasible_error"), arg = "lower")
  }
  sh <- sum(pl$hi)
  if (spend_all && sh < budget * (1 - 1e-12)) {
    abort(sprintf("Infeasible plan: the upper bounds%s sum to %s, short of the budget %s by %s; raise them, lower the budget or use spend_all = FALSE",
                  if (any(pl$fixed)) " (with the fixed channels)" else "", fmt_num(sh, 6), fmt_num(budget, 6),
                  fmt_num(budget - sh, 6)),
          class = c("hbmmm_infeasible_error"), arg = "upper")
  }
  invisible(TRUE)
}

# ---- the optimizer ------------------------------------------------------------

# Mean objective (net of cost) of a plan.
mean_objective <- function(cv, pl, x) {
  v <- curves_eval(cv, matrix(x, 1L), pl$prof, average = TRUE)$value
  sum(v) - sum(pl$cost * x)
}

# Dynamic program over the free curves: spend R above the lower bounds in G
# steps (exactly R when spend_all, at most R otherwise). Returns the plan,
# or NULL when no grid point spends R exactly.
dp_stage <- function(cv, pl, free, lo, hi, R, G, spend_all) {
  delta <- R / G
  K <- length(free)
  cap <- as.integer(pmin(G, floor((hi[free] - lo[free]) / delta + 1e-9)))
  J <- max(cap)
  xg <- outer(0:J, rep(delta, K)) + rep(lo[free], each = J + 1L)
  xg <- pmin(xg, rep(hi[free], each = J + 1L))
  sub <- subset_curves(cv, free)
  val <- curves_eval(sub, xg, pl$prof[, , free, drop = FALSE], average = TRUE)$value
  val <- val - xg * rep(pl$cost[free], each = J + 1L)
  F <- matrix(0, G + 1L, K)
  F[seq_len(J + 1L), ] <- val
  dp <- .Call(C_hb_allocate_dp, F, cap)
  V <- dp$value
  b <- if (spend_all) G else which.max(V) - 1L
  if (!is.finite(V[b + 1L])) return(NULL)
  steps <- integer(K)
  for (k in K:1) {
    steps[k] <- dp$choice[b + 1L, k]
    b <- b - steps[k]
  }
  x <- lo
  x[free] <- pmin(lo[free] + steps * delta, hi[free])
  list(x = x, V = V, delta = delta, total = sum(lo[free]) + (0:G) * delta)
}

subset_curves <- function(cv, k) {
  cv$curves <- cv$curves[k, , drop = FALSE]
  cv$beta <- cv$beta[, k, drop = FALSE]
  cv$par <- cv$par[, k, , drop = FALSE]
  cv$adstock_par <- cv$adstock_par[, k, , drop = FALSE]
  cv
}

# Global optimum of the mean objective: grid DP, then zoomed DPs.
optimize_mean <- function(cv, pl, budget, spend_all, grid, zoom = 4L) {
  lo <- pl$lo
  hi <- pl$hi
  free <- which(hi > lo)
  R <- budget - sum(lo)
  x <- lo
  if (!length(free) || R <= 0) return(list(x = x, value = mean_objective(cv, pl, x)))
  room <- sum(hi[free] - lo[free])
  if (spend_all && room <= R * (1 + 1e-12)) {
    x[free] <- hi[free]
    return(list(x = x, value = mean_objective(cv, pl, x)))
  }
  st <- dp_stage(cv, pl, free, lo, hi, R, grid, spend_all)
  if (is.null(st)) { # rounding left the exact total unreachable: fill proportionally
    st <- dp_stage(cv, pl, free, lo, hi, R, grid, FALSE)
    gap <- R - sum(st$x - lo)
    rm <- hi - st$x
    st$x <- st$x + gap * rm / sum(rm)
  }
  x <- st$x
  best <- mean_objective(cv, pl, x)
  delta <- st$delta
  for (it in seq_len(zoom)) {
    w <- 2 * delta
    l2 <- pmax(lo, x - w)
    h2 <- pmin(hi, x + w)
    R2 <- budget - sum(l2)
    if (!spend_all) R2 <- min(R2, sum(h2 - l2))
    f2 <- which(h2 > l2)
    if (R2 <= 0 || !length(f2)) break
    G2 <- max(1L, as.integer(ceiling(R2 / (w / 16))))
    s2 <- dp_stage(cv, pl, f2, l2, h2, R2, G2, spend_all)
    if (is.null(s2)) break
    v2 <- mean_objective(cv, pl, s2$x)
    if (v2 >= best) {
      x <- s2$x
      best <- v2
    }
    delta <- s2$delta
  }
  list(x = x, value = best, dp = st)
}

# Any objective: the mean's global optimum, then (risk-aware) local search.
optimize_plan <- function(cv, pl, budget, obj, spend_all, grid) {
  m <- optimize_mean(cv, pl, budget, spend_all, grid)
  if (obj[1] == 0) return(m)
  R <- budget - sum(pl$lo)
  if (R <= 0 || all(pl$hi <= pl$lo)) {
    return(list(x = m$x, value = risk_objective(cv, pl, m$x, obj)))
  }
  starts <- list(m$x)
  cur <- pl$current
  if (!is.null(cur) && !anyNA(cur) && all(cur >= pl$lo & cur <= pl$hi) &&
      (if (spend_all) abs(sum(cur) - budget) <= 1e-9 * max(1, budget) else sum(cur) <= budget)) {
    starts <- c(starts, list(cur))
  }
  best <- NULL
  for (x0 in starts) {
    r <- local_search(cv, pl, x0, obj, spend_all, budget, step0 = R / 4, tol = R * 1e-7)
    if (is.null(best) || r$value > best$value) best <- r
  }
  best
}

local_search <- function(cv, pl, x0, obj, spend_all, budget, step0, tol) {
  x0 <- pmin(pmax(x0, pl$lo), pl$hi)
  slack <- if (spend_all) 0 else max(0, budget - sum(x0))
  r <- .Call(C_hb_allocate_local, HB_CODES$curve[cv$curves$type], cv$beta, cv$par, pl$prof, as.double(x0),
             as.double(pl$lo), as.double(pmax(pl$hi, pl$lo)), as.double(pl$cost), as.double(obj), spend_all,
             c(step0, tol, slack))
  names(r$x) <- pl$ids
  r
}

# Exact objective over draws of a plan.
risk_objective <- function(cv, pl, x, obj) {
  tot <- rowSums(curves_at(cv, x, pl$prof)$value) - sum(pl$cost * x)
  switch(as.character(obj[1]),
    "0" = mean(tot),
    "1" = stats::quantile(tot, obj[2], names = FALSE, type = 7),
    "2" = mean(tot) - obj[2] * stats::sd(tot))
}

# ---- target modes ---------------------------------------------------------------

# Value function of the mean objective over total budgets in [sum(lo), B]:
# the DP's last stage, with the fixed channels' response added.
value_function <- function(cv, pl, B, grid) {
  lo <- pl$lo
  free <- which(pl$hi > lo)
  base <- mean_objective(cv, pl, lo)
  if (!length(free) || B <= sum(lo)) return(list(total = sum(lo), value = base, resp = base))
  st <- dp_stage(cv, pl, free, lo, pl$hi, B - sum(lo), grid, FALSE)
  fixed_part <- base - mean_objective(subset_curves(cv, free), sub_plan(pl, free), lo[free])
  v <- st$V + fixed_part
  list(total = st$total + sum(lo[-free]), value = v)
}

sub_plan <- function(pl, k) {
  pl$prof <- pl$prof[, , k, drop = FALSE]
  pl$cost <- pl$cost[k]
  pl
}

# The largest budget whose optimal allocation reaches a target ROI or
# marginal ROI: the grid value function brackets it, bisection on the
# refined optimizer narrows it.
target_search <- function(cv, pl, B, type, target, grid) {
  vf <- value_function(cv, pl, B, grid)
  tot <- vf$total
  v <- vf$value
  ok_idx <- is.finite(v)
  metric <- if (type == "roi") ifelse(tot > 0, v / tot, NA) else c(diff(v) / diff(tot), NA)
  met <- which(ok_idx & !is.na(metric) & metric >= target)
  label <- if (type == "roi") "ROI" else "marginal ROI"
  if (!length(met)) {
    best <- max(metric, na.rm = TRUE)
    at <- tot[which.max(metric)]
    abort(sprintf("Target %s of %s cannot be reached within the bounds and a budget of at most %s: the best %s is %s (at a total budget of %s), short by %s",
                  label, fmt_num(target, 6), fmt_num(B, 6), label, fmt_num(best, 6), fmt_num(at, 6),
                  fmt_num(target - best, 6)),
          class = c("hbmmm_target_unreachable_error", "hbmmm_infeasible_error"), arg = paste0("target_", type))
  }
  i <- max(met)
  at_limit <- i >= length(tot) - (type == "mroi")
  eval_at <- function(b) {
    r <- optimize_mean(cv, pl, b, TRUE, max(50L, grid %/% 4L))
    r$metric <- if (type == "roi") r$value / b else plan_marginal(cv, pl, r$x)
    r
  }
  if (at_limit) {
    r <- eval_at(B)
    warning(structure(class = c("hbmmm_warning_target_at_limit", "hbmmm_warning", "warning", "condition"),
                      list(message = sprintf("the %s stays above the target %s up to the largest budget allowed (%s); the allocation spends that budget",
                                             label, fmt_num(target, 6), fmt_num(B, 6)), call = NULL)))
  } else {
    a <- tot[i]
    b <- tot[min(i + 2L, length(tot))]
    ra <- eval_at(a)
    for (it in seq_len(30)) {
      if (b - a <= 1e-7 * max(1, b)) break
      m <- (a + b) / 2
      rm <- eval_at(m)
      if (rm$metric >= target) {
        a <- m
        ra <- rm
      } else b <- m
    }
    r <- ra
  }
  list(x = r$x, value = r$value, achieved = r$metric, at_limit = at_limit)
}

# Marginal value of budget at an optimal plan: the largest marginal net
# response among channels that can still grow.
plan_marginal <- function(cv, pl, x) {
  d <- curves_eval(cv, matrix(x, 1L), pl$prof, deriv = TRUE, average = TRUE)$deriv
  d <- as.vector(d) - pl$cost
  grow <- (is.infinite(pl$hi) | x < pl$hi - 1e-9 * pmax(1, pl$hi)) & !pl$fixed
  if (!any(grow)) return(NA_real_)
  max(d[grow])
}

# ---- result ----------------------------------------------------------------------

allocation_result <- function(cv, pl, x, obj, value, level) {
  names(x) <- pl$ids
  at <- curves_at(cv, x, pl$prof, deriv = TRUE)
  pr <- interval_probs(level)
  q <- function(m) apply(m, 2, stats::quantile, probs = pr, names = FALSE)
  rq <- q(at$value)
  tot_opt <- rowSums(at$value)
  has_cur <- !is.null(pl$current) && !anyNA(pl$current)
  tot_cur <- if (has_cur) rowSums(curves_at(cv, pl$current, pl$prof)$value)
  resp <- colMeans(at$value)
  tab <- data.frame(channel = pl$ids, current = if (has_cur) unname(pl$current) else NA_real_,
                    optimal = unname(x), change = if (has_cur) unname(x - pl$current) else NA_real_,
                    share = if (sum(x) > 0) unname(x / sum(x)) else 0,
                    lower = unname(pl$lo), upper = unname(pl$hi), fixed = unname(pl$fixed),
                    response = unname(resp), response_lower = rq[1, ], response_upper = rq[2, ],
                    roi = ifelse(x > 0, resp / x, NA_real_), mroi = colMeans(at$deriv),
                    stringsAsFactors = FALSE, row.names = NULL)
  if (any(!is.na(cv$curves$segment))) tab$segment <- cv$curves$segment
  summ <- function(tot, spend) {
    data.frame(spend = spend, response = mean(tot), response_lower = stats::quantile(tot, pr[1], names = FALSE),
               response_upper = stats::quantile(tot, pr[2], names = FALSE),
               roi = if (spend > 0) mean(tot) / spend else NA_real_)
  }
  totals <- summ(tot_opt, sum(x))
  rownames(totals) <- "optimal"
  uplift <- NULL
  if (has_cur) {
    totals <- rbind(current = summ(tot_cur, sum(pl$current)), totals)
    dlt <- tot_opt - tot_cur
    uplift <- data.frame(change = mean(dlt), lower = stats::quantile(dlt, pr[1], names = FALSE),
                         upper = stats::quantile(dlt, pr[2], names = FALSE),
                         percent = if (mean(tot_cur) != 0) 100 * mean(dlt) / abs(mean(tot_cur)) else NA_real_,
                         prob_gain = mean(dlt > 0))
  }
  warn_beyond_observed(cv, x, pl$horizon)
  structure(list(table = tab, totals = totals, uplift = uplift,
                 per_draw = list(optimal = tot_opt, current = tot_cur),
                 objective = c("mean", "quantile", "mean_sd")[obj[1] + 1], objective_param = obj[2],
                 objective_value = value, horizon = pl$horizon, level = level, draws = n_draws(cv)),
            class = "hbmmm_allocation")
}

# A plan that puts a curve's spend per period (on average over a horizon)
# beyond the largest spend of a period in the data (curves of a fit know
# it) reads the curve where no data were: a classed warning says so.
warn_beyond_observed <- function(cv, x, horizon) {
  obs <- cv$curves$spend_max
  if (is.null(obs)) return(invisible(FALSE))
  per <- x / (if (is.null(horizon)) 1 else horizon)
  out <- !is.na(obs) & per > obs * (1 + 1e-8)
  if (!any(out)) return(invisible(FALSE))
  k <- which(out)
  warn_classed("extrapolation", sprintf(paste0(
    "the plan puts %s beyond the largest spend per period seen in the data (%s): ",
    "the response curve is extrapolated there; bound the plan with `upper =`"),
    paste(sprintf("`%s` at %s", cv$curves$id[k], fmt_num(per[k])), collapse = ", "),
    paste(fmt_num(obs[k]), collapse = ", ")))
  invisible(TRUE)
}

#' @export
print.hbmmm_allocation <- function(x, digits = 3, ...) {
  per <- if (is.null(x$horizon)) "per period (steady state)" else sprintf("over a %d-period horizon", x$horizon)
  cat(sprintf("Budget allocation %s: %d channel(s), %d draw(s)\n", per, nrow(x$table), x$draws))
  objective <- switch(x$objective, mean = "expected response",
                      quantile = sprintf("%s quantile of the response", format_pct(x$objective_param)),
                      mean_sd = sprintf("mean - %s sd of the response", format(x$objective_param)))
  cat(sprintf("Objective: %s = %s", objective, fmt_num(x$objective_value, digits + 2)))
  if (!is.null(x$budget)) cat(sprintf("; budget %s", fmt_num(x$budget, digits + 3)))
  cat("\n")
  if (length(x$organic)) cat(sprintf("Organic channels (no spend, not allocated): %s\n", paste(x$organic, collapse = ", ")))
  if (!is.null(x$target)) {
    cat(sprintf("Target %s %s: reached %s%s\n", if (x$target$type == "roi") "ROI" else "marginal ROI",
                fmt_num(x$target$value, digits), fmt_num(x$target$achieved, digits + 1),
                if (x$target$at_limit) " (budget limit binds)" else ""))
  }
  if (!is.null(x$budget_target)) {
    bt <- x$budget_target
    cat(sprintf("Target response %s%s: smallest budget %s\n", fmt_num(bt$target, digits + 2),
                if (is.null(bt$prob)) " (expected)" else sprintf(" with probability %s", format_pct(bt$prob)),
                fmt_num(bt$budget, digits + 3)))
  }
  tab <- x$table
  out <- data.frame(channel = tab$channel)
  if (!is.null(tab$segment)) out$segment <- tab$segment
  if (!all(is.na(tab$current))) out$current <- fmt_num(tab$current, digits + 1)
  # a spend below a millionth of the plan's total is numerically zero: shown
  # as 0, with no ROI (a ratio of two near-zero numbers means nothing)
  tiny <- tab$optimal < 1e-6 * max(sum(tab$optimal), .Machine$double.xmin)
  out$optimal <- ifelse(tiny, "0", fmt_num(tab$optimal, digits + 1))
  out$share <- sprintf("%.1f%%", 100 * tab$share)
  if (!all(is.na(tab$change))) out$change <- fmt_num(tab$change, digits)
  tol <- 1e-9 * pmax(1, abs(tab$optimal))
  limit <- ifelse(tab$fixed, "fixed", ifelse(tab$optimal <= tab$lower + tol & tab$lower > 0, "lower",
                  ifelse(tab$optimal >= tab$upper - tol, "upper", "")))
  if (any(nzchar(limit))) out$limit <- limit
  out[[sprintf("response [%s]", format_pct(x$level))]] <- fmt_interval(tab$response, tab$response_lower,
                                                                       tab$response_upper, digits)
  out$ROI <- ifelse(tiny, "-", fmt_num(tab$roi, digits))
  out$mROI <- fmt_num(tab$mroi, digits)
  cat("\n")
  print(out, row.names = FALSE, right = FALSE)
  if (!is.null(out$limit)) cat("limit: the spend sits at the channel's lower or upper bound, or is fixed\n")
  pct <- format_pct(x$level)
  cat(sprintf("\nTotals (%s intervals):\n", pct))
  tt <- x$totals
  print(data.frame(plan = rownames(tt), spend = fmt_num(tt$spend, digits + 2),
                   `response [interval]` = fmt_interval(tt$response, tt$response_lower, tt$response_upper, digits + 1),
                   ROI = fmt_num(tt$roi, digits), check.names = FALSE), row.names = FALSE, right = FALSE)
  if (!is.null(x$uplift)) {
    u <- x$uplift
    cat(sprintf("Change against the current plan: %s [%s, %s] (%+.1f%%), probability of a gain %s\n",
                fmt_num(u$change, digits), fmt_num(u$lower, digits), fmt_num(u$upper, digits), u$percent,
                format_pct(u$prob_gain)))
  }
  invisible(x)
}

#' @export
summary.hbmmm_allocation <- function(object, ...) object$table

#' @export
plot.hbmmm_allocation <- function(x, ...) {
  tab <- x$table
  has_cur <- !all(is.na(tab$current))
  op <- graphics::par(mfrow = c(1, 2), mar = c(7, 4.5, 3, 1))
  on.exit(graphics::par(op))
  sp <- rbind(current = if (has_cur) tab$current, optimal = tab$optimal)
  colnames(sp) <- tab$channel
  cols <- if (has_cur) c("grey70", "steelblue") else "steelblue"
  graphics::barplot(sp, beside = TRUE, col = cols, las = 2, ylab = "spend", main = "Spend by channel",
                    ylim = c(0, 1.2 * max(sp, 1e-12)), border = NA)
  graphics::legend("topright", fill = cols, legend = rownames(sp), bty = "n", border = NA)
  mid <- graphics::barplot(tab$response, names.arg = tab$channel, col = "steelblue", las = 2, border = NA, axes = FALSE,
                           ylim = range(0, tab$response_lower, tab$response_upper * 1.1),
                           ylab = "expected response", main = sprintf("Response at the optimum (%s)", format_pct(x$level)))
  graphics::axis(2, at = pretty(range(0, tab$response_lower, tab$response_upper)))
  graphics::abline(h = 0, col = "grey40")
  draw_interval_bars(mid, tab$response_lower, tab$response_upper)
  invisible(tab)
}

#' Smallest budget that reaches a target response
#'
#' Finds the smallest total budget, with its optimal allocation, whose expected
#' incremental response reaches `target` (or, with `prob`, whose response
#' reaches `target` with at least that posterior probability), under the same
#' bounds, fixed channels and horizon as [allocate_budget()].
#'
#' The optimal expected response of every total budget comes from one dynamic
#' program over a budget grid (its last stage is the value function of the
#' budget); the first grid budget that reaches the target brackets the answer,
#' and bisection with the refined optimizer of [allocate_budget()] narrows it
#' to a relative `1e-7`. The budget returned, allocated by [allocate_budget()]
#' with the same arguments, reaches the target. With `prob`, the response
#' reaches the target with probability `prob` exactly when its `1 - prob`
#' quantile does, so the budget is found by bisection on the optimal
#' `1 - prob` quantile (`objective = "quantile"` of [allocate_budget()]).
#'
#' @inheritParams allocate_budget
#' @param target Target incremental response (per period, or over the
#'   horizon).
#' @param prob `NULL` (reach the target in expectation) or the probability with
#'   which the response must reach the target.
#' @param max_budget Largest budget considered: default the sum of the upper
#'   bounds when all are finite, otherwise budgets grow from the current total
#'   until the target is reached or cannot be.
#' @return An `hbmmm_allocation` (see [allocate_budget()]) with an extra
#'   element `budget_target`: `target`, `prob`, `budget` (the smallest budget),
#'   `expected` (its expected response) and `probability` (posterior
#'   probability that the response reaches the target).
#' @seealso [allocate_budget()].
#' @examples
#' cv <- response_curves(data.frame(
#'   channel = c("tv", "search"), type = c("hill", "michaelis_menten"),
#'   beta = c(500, 300), halfsat = c(100, NA), slope = c(2, NA), k = c(NA, 50),
#'   spend = c(120, 60)))
#' bt <- budget_for_target(cv, target = 500)
#' bt
#' allocate_budget(cv, budget = bt$budget_target$budget)$totals
#' @export
budget_for_target <- function(x, target, prob = NULL, lower = NULL, upper = NULL, fixed = NULL,
                              current = NULL, horizon = NULL, flighting = NULL, carryover = TRUE,
                              max_budget = NULL, cost = NULL, grid = 1000, level = 0.9) {
  cv <- paid_curves(as_curves(x))
  if (!is.numeric(target) || length(target) != 1L || !is.finite(target)) {
    abort_input("target", sprintf("must be one finite number; found %s", describe_value(target)))
  }
  if (!is.null(prob) && (!is.numeric(prob) || length(prob) != 1L || !is.finite(prob) || prob <= 0 || prob >= 1)) {
    abort_input("prob", sprintf("must be NULL or one number in (0, 1); found %s", describe_value(prob)))
  }
  grid <- check_count(grid, "grid", 10, 1e6)
  level <- check_level(level)
  pl <- plan_setup(cv, lower, upper, fixed, current, horizon, flighting, carryover, cost)
  check_feasible(pl, sum(pl$lo), spend_all = FALSE)
  obj <- if (is.null(prob)) c(0, 0) else c(1, 1 - prob)
  label <- if (is.null(prob)) "expected response" else sprintf("response reached with probability %s", format_pct(prob))
  # value reached by the optimal allocation of budget b
  reach <- function(b) {
    r <- optimize_plan(cv, pl, b, obj, TRUE, grid)
    r$value <- if (obj[1] == 0) r$value else risk_objective(cv, pl, r$x, obj)
    r
  }
  shortfall <- function(best, B, saturated = FALSE) {
    msg <- if (saturated) {
      sprintf("Target %s of %s cannot be reached at any budget within the bounds: the response levels off at %s (already at a budget of %s), short by %s",
              label, fmt_num(target, 6), fmt_num(best, 6), fmt_num(B, 6), fmt_num(target - best, 6))
    } else {
      sprintf("Target %s of %s cannot be reached within the bounds and a budget of at most %s: the best is %s, short by %s",
              label, fmt_num(target, 6), fmt_num(B, 6), fmt_num(best, 6), fmt_num(target - best, 6))
    }
    abort(msg, class = c("hbmmm_target_unreachable_error", "hbmmm_infeasible_error"), arg = "target")
  }
  lo_total <- sum(pl$lo)
  hi_total <- sum(pl$hi)
  r_lo <- reach(lo_total)
  if (r_lo$value >= target) {
    B_hat <- lo_total
    r <- r_lo
  } else {
    # an upper end of the search that reaches the target
    if (!is.null(max_budget)) {
      B <- min(check_budget(max_budget, "max_budget"), hi_total)
    } else if (is.finite(hi_total)) {
      B <- hi_total
    } else {
      # grow the budget until the target is reached or the response stops
      # growing (saturated curves cannot reach it at any budget)
      B <- max(lo_total * 2, if (!is.null(pl$current) && !anyNA(pl$current)) sum(pl$current) else 0, 1)
      prev <- -Inf
      for (it in seq_len(40)) {
        v <- reach(B)$value
        if (v >= target) break
        if (v - prev <= 1e-9 * max(1, abs(v))) shortfall(v, B, saturated = TRUE)
        prev <- v
        B <- B * 4
      }
    }
    if (is.null(prob)) {
      vf <- value_function(cv, pl, B, grid)
      ok <- which(is.finite(vf$value) & vf$value >= target)
      if (!length(ok)) shortfall(max(vf$value[is.finite(vf$value)]), B)
      a <- if (ok[1] > 1L) vf$total[ok[1] - 1L] else lo_total
      b <- vf$total[ok[1]]
    } else {
      rb <- reach(B)
      if (rb$value < target) shortfall(rb$value, B)
      a <- lo_total
      b <- B
    }
    r <- reach(b)
    if (r$value < target) { # the grid's bracket was optimistic: widen once
      b <- min(B, b + 2 * (b - a))
      r <- reach(b)
    }
    tol <- if (is.null(prob)) 1e-7 else 1e-5
    for (it in seq_len(60)) {
      if (b - a <= tol * max(1, b)) break
      m <- (a + b) / 2
      rm <- reach(m)
      if (rm$value >= target) {
        b <- m
        r <- rm
      } else a <- m
    }
    B_hat <- b
  }
  out <- allocation_result(cv, pl, r$x, obj, r$value, level)
  out$budget <- B_hat
  out$spend_all <- TRUE
  out$budget_target <- list(target = target, prob = prob, budget = B_hat, expected = mean(out$per_draw$optimal),
                            probability = mean(out$per_draw$optimal >= target))
  class(out) <- c("hbmmm_budget_target", class(out))
  out
}
