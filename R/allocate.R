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
#' **Bounds.** By default every channel stays within half and one and a half
#' times its current spend (`bounds = c(0.5, 1.5)`, multipliers of the
#' current spend: the curves' reference spend, or `current`), so that a plan
#' moves budget by at most 50% per channel, where the curves were learned,
#' and never switches a channel off. `lower` and `upper` override these
#' bounds for the channels they name (one unnamed number: for every
#' channel); `bounds = NULL` (or `c(0, Inf)`) removes them, the unbounded
#' optimum, which can set whole channels to zero. A channel with no current
#' spend stays at zero unless `upper` gives it room. Curves with no current
#' spend (a table without `spend`) have no default bounds. A budget beyond
#' the sum of the upper bounds (e.g. above 1.5 times the current total) is
#' infeasible: the error says so and how to widen the bounds.
#'
#' **Held-out draws.** A plan chosen to maximize the response over some
#' posterior draws looks better on those draws than it is: the optimizer
#' exploits their noise, and with many uncertain curves (per geo, per
#' segment) it can promise a large gain with probability near 1 that is not
#' there. So the draws are split at random (`holdout`, default half, seeded
#' by `seed`): the plan is chosen on the others, and every figure reported
#' about it (responses, totals, the change against the current plan and the
#' probability of a gain) is computed on the held-out draws, which did not
#' choose it. `uplift_fit` keeps the change on the draws that chose the plan,
#' to show the difference. `holdout = 0` chooses and judges the plan on every
#' draw (in-sample; the print then says that its figures are optimistic).
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
#' @param lower,upper Bounds on the spend of each channel (per period, or
#'   totals over the horizon): one number for all channels, or a vector named
#'   by channel; channels not named get the bounds of `bounds`.
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
#' @param bounds Default bounds as two multipliers of each channel's current
#'   spend, `c(lower, upper)` (default `c(0.5, 1.5)`: -50% to +50%); `NULL` or
#'   `c(0, Inf)`: no default bounds.
#' @param holdout Share of the posterior draws held out from choosing the
#'   plan, on which it is judged (in `[0, 1)`; `0`: in-sample).
#' @param seed Seed of the random split of the draws (default 1, so the same
#'   call gives the same plan; `NULL`: the session's random numbers). The
#'   session's random number generator is left as it was.
#' @param grid Budget steps of the dynamic program.
#' @param level Probability of the credible intervals reported.
#' @return An object of class `hbmmm_allocation`: a list with `table` (one row
#'   per channel: `channel`, `current` and `optimal` spend, `change`, `share`,
#'   `lower` and `upper` bounds, `fixed`, expected `response` with
#'   `response_lower`/`response_upper`, `roi` and marginal ROI `mroi` at the
#'   optimum, and `segment` for segment curves), `totals` (rows `current` and
#'   `optimal`: `spend`, `response` with interval, `roi`), `uplift` (`change`
#'   of the response against the current plan with `lower`/`upper`,
#'   `percent` and `prob_gain`, the probability of a gain), `uplift_fit` (the
#'   same on the draws that chose the plan), `per_draw` (total response per
#'   draw of both plans, `optimal` and `current`), `objective`,
#'   `objective_param`, `objective_value` (the objective on the draws that
#'   chose the plan), `holdout` (`share`, `requested`, `seed` and the draw
#'   indices `fit` and `eval`), `bounds` (the multipliers in force,
#'   `relative`, and which channels' bounds came from them), `horizon`,
#'   `carryover`, `level`, `draws`, `source`, `budget`, `spend_all`,
#'   `organic` and, in target modes, `target` (`type`, `value`, `achieved`,
#'   `at_limit`). `table`, `totals`, `uplift` and `per_draw` are computed on
#'   the held-out draws.
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
                            bounds = c(0.5, 1.5), holdout = 0.5, seed = 1, grid = 1000, level = 0.9) {
  cv <- paid_curves(as_curves(x))
  objective <- match_choice(objective, c("mean", "quantile", "mean_sd"), "objective")
  obj <- objective_code(objective, quantile, risk)
  spend_all <- check_flag(spend_all, "spend_all")
  grid <- check_count(grid, "grid", 10, 1e6)
  level <- check_level(level)
  pl_all <- plan_setup(cv, lower, upper, fixed, current, horizon, flighting, carryover, cost, bounds,
                       bounds_given = !missing(bounds))
  split <- split_draws(n_draws(cv), holdout, seed)
  # the plan is chosen on the fitting draws only (cv, pl below)
  cv_all <- cv
  cv <- subset_draws(cv_all, split$fit)
  pl <- plan_draws(pl_all, split$fit)
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
  out <- allocation_result(cv_all, pl_all, res$x, obj, res$value, level, split)
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
# Bounds not given per channel (`lower`, `upper`) are `bounds` times the
# channel's current spend; without a current spend they are 0 and Inf.
plan_setup <- function(cv, lower, upper, fixed, current, horizon, flighting, carryover, cost,
                       bounds = NULL, bounds_given = FALSE) {
  ids <- cv$curves$id
  if (!is.null(horizon)) horizon <- check_count(horizon, "horizon", 1, 1e4)
  carryover <- check_flag(carryover, "carryover")
  bounds <- check_bounds(bounds)
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
  relative <- !is.null(bounds) && !identical(bounds, c(0, Inf))
  if (relative && is.null(cur)) {
    if (bounds_given) {
      abort_input("bounds", sprintf("multiplies each channel's current spend, but the curves have none; give `current =`, `lower`/`upper` in spend, or `bounds = NULL`; found %s",
                                    describe_value(bounds)))
    }
    relative <- FALSE # no current spend to scale: unbounded, and the print says so
  }
  lo <- plan_vector(lower, cv, "lower", default = NA_real_)
  hi <- plan_vector(upper, cv, "upper", default = NA_real_)
  lo_rel <- is.na(lo) & relative
  hi_rel <- is.na(hi) & relative
  lo[lo_rel] <- bounds[1] * cur[lo_rel]
  hi[hi_rel] <- bounds[2] * cur[hi_rel]
  lo[is.na(lo)] <- 0
  hi[is.na(hi)] <- Inf
  if (any(lo < 0 | !is.finite(lo))) {
    bad <- which(lo < 0 | !is.finite(lo))[1]
    abort_input("lower", sprintf("bounds must be non-negative and finite; found %s for `%s`", format(lo[bad]), ids[bad]))
  }
  if (any(hi < 0)) {
    bad <- which(hi < 0)[1]
    abort_input("upper", sprintf("bounds must be non-negative; found %s for `%s`", format(hi[bad]), ids[bad]))
  }
  fx <- plan_vector(fixed, cv, "fixed", default = NA_real_)
  is_fixed <- !is.na(fx)
  if (any(fx[is_fixed] < 0 | !is.finite(fx[is_fixed]))) {
    bad <- which(is_fixed & (fx < 0 | !is.finite(fx)))[1]
    abort_input("fixed", sprintf("spends must be non-negative and finite; found %s for `%s`", format(fx[bad]), ids[bad]))
  }
  lo[is_fixed] <- hi[is_fixed] <- fx[is_fixed]
  lo_rel[is_fixed] <- hi_rel[is_fixed] <- FALSE
  bad <- which(hi < lo)
  if (length(bad)) {
    b <- bad[1]
    abort(sprintf("Infeasible bounds: channel `%s` has lower bound %s above its upper bound %s (by %s)%s", ids[b],
                  fmt_num(lo[b], 6), fmt_num(hi[b], 6), fmt_num(lo[b] - hi[b], 6),
                  if (lo_rel[b] || hi_rel[b]) paste0("; ", widen_hint(bounds)) else ""),
          class = c("hbmmm_infeasible_error"), arg = if (hi_rel[b]) "upper" else "lower")
  }
  cst <- plan_vector(cost, cv, "cost", default = 0)
  check_costs(cst)
  list(ids = ids, lo = lo, hi = hi, fixed = is_fixed, fixed_value = fx, cost = cst, current = cur,
       horizon = horizon, carryover = carryover,
       bounds = list(relative = if (relative) bounds, lower_rel = lo_rel, upper_rel = hi_rel,
                     no_current = !is.null(bounds) && !relative && is.null(cur) && !identical(bounds, c(0, Inf))),
       prof = curve_profiles(cv, horizon, flighting, carryover))
}

# `bounds`: NULL (none) or two multipliers of the current spend, 0 <= lower
# <= upper (upper may be Inf).
check_bounds <- function(bounds) {
  if (is.null(bounds)) return(NULL)
  if (!is.numeric(bounds) || length(bounds) != 2L || anyNA(bounds) || !is.finite(bounds[1]) || bounds[1] < 0 ||
      bounds[2] < bounds[1]) {
    abort_input("bounds", sprintf("must be NULL or two multipliers of the current spend, 0 <= lower <= upper (upper may be Inf), e.g. c(0.5, 1.5); found %s",
                                  describe_value(bounds)))
  }
  as.double(bounds)
}

# What to do when bounds taken from `bounds` make a plan infeasible.
widen_hint <- function(bounds) {
  sprintf("the bounds are %s x each channel's current spend (`bounds = c(%s, %s)`): widen them (e.g. `bounds = c(%s, %s)`), give `lower`/`upper` per channel, or use `bounds = NULL` for none",
          bounds_label(bounds), format(bounds[1]), format(bounds[2]), format(bounds[1] / 2),
          format(if (is.finite(bounds[2])) 2 * bounds[2] else Inf))
}

bounds_label <- function(bounds) sprintf("%s-%s", format(bounds[1]), format(bounds[2]))

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
    abort(sprintf("Infeasible plan: the lower bounds%s sum to %s, exceeding the budget %s by %s%s",
                  if (any(pl$fixed)) " (with the fixed channels)" else "", fmt_num(sl, 6), fmt_num(budget, 6),
                  fmt_num(sl - budget, 6), relative_hint(pl, "lower")),
          class = c("hbmmm_infeasible_error"), arg = "lower")
  }
  sh <- sum(pl$hi)
  if (spend_all && sh < budget * (1 - 1e-12)) {
    abort(sprintf("Infeasible plan: the upper bounds%s sum to %s, short of the budget %s by %s; %s, lower the budget or use spend_all = FALSE",
                  if (any(pl$fixed)) " (with the fixed channels)" else "", fmt_num(sh, 6), fmt_num(budget, 6),
                  fmt_num(budget - sh, 6),
                  if (any(pl$bounds$upper_rel)) widen_hint(pl$bounds$relative) else "raise them"),
          class = c("hbmmm_infeasible_error"), arg = "upper")
  }
  invisible(TRUE)
}

# The hint appended to an infeasibility error when bounds of that side come
# from `bounds` (multipliers of the current spend).
relative_hint <- function(pl, side) {
  if (!any(pl$bounds[[paste0(side, "_rel")]])) return("")
  paste0("; ", widen_hint(pl$bounds$relative))
}

# ---- draws that choose the plan and draws that judge it ---------------------

# A plan chosen to maximize the response over some draws looks better on
# those draws than it is: the optimizer exploits their noise (with many
# curves, e.g. per geo, it can promise a sure gain that is not there). So
# the plan is chosen on `fit` draws and its uplift judged on the `eval`
# draws it never saw: a random `holdout` share, seeded so that the same call
# gives the same plan. With `holdout = 0`, or curves with a single draw,
# both are every draw (in-sample).
split_draws <- function(D, holdout, seed) {
  if (!is.numeric(holdout) || length(holdout) != 1L || !is.finite(holdout) || holdout < 0 || holdout >= 1) {
    abort_input("holdout", sprintf("must be one number in [0, 1) (the share of draws held out to judge the plan; 0: none); found %s",
                                   describe_value(holdout)))
  }
  all <- seq_len(D)
  n_out <- round(holdout * D)
  if (holdout > 0 && D >= 2L) n_out <- min(max(n_out, 1L), D - 1L)
  if (holdout == 0 || D < 2L) {
    return(list(fit = all, eval = all, holdout = 0, requested = holdout, seed = seed))
  }
  restore <- sim_seed(seed)
  if (!is.null(restore)) on.exit(restore())
  out <- sort(sample.int(D, n_out))
  list(fit = all[-out], eval = out, holdout = holdout, requested = holdout, seed = seed)
}

# The curves (or a plan's carry-over profiles) restricted to some draws.
subset_draws <- function(cv, d) {
  cv$beta <- cv$beta[d, , drop = FALSE]
  cv$par <- cv$par[d, , , drop = FALSE]
  cv$adstock_par <- cv$adstock_par[d, , , drop = FALSE]
  cv
}

plan_draws <- function(pl, d) {
  pl$prof <- pl$prof[, d, , drop = FALSE]
  pl
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
    abort(sprintf("Target %s of %s cannot be reached within the bounds and a budget of at most %s: the best %s is %s (at a total budget of %s), short by %s%s",
                  label, fmt_num(target, 6), fmt_num(B, 6), label, fmt_num(best, 6), fmt_num(at, 6),
                  fmt_num(target - best, 6), relative_hint(pl, "upper")),
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

# The reported figures of a plan x: responses, totals and the uplift
# against the current plan on the held-out draws (split$eval), which did not
# choose x; the uplift on the draws that chose it (split$fit) is kept beside
# it to show the optimism of in-sample figures.
allocation_result <- function(cv, pl, x, obj, value, level, split) {
  names(x) <- pl$ids
  has_cur <- !is.null(pl$current) && !anyNA(pl$current)
  at_draws <- function(d, plan, deriv = FALSE) curves_at(subset_draws(cv, d), plan, plan_draws(pl, d)$prof, deriv)
  total_per_draw <- function(d, plan) rowSums(at_draws(d, plan)$value)
  ev <- split$eval
  at <- at_draws(ev, x, deriv = TRUE)
  pr <- interval_probs(level)
  q <- function(m) apply(m, 2, stats::quantile, probs = pr, names = FALSE)
  rq <- q(at$value)
  tot_opt <- rowSums(at$value)
  tot_cur <- if (has_cur) total_per_draw(ev, pl$current)
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
  uplift <- uplift_fit <- NULL
  if (has_cur) {
    totals <- rbind(current = summ(tot_cur, sum(pl$current)), totals)
    uplift <- uplift_summary(tot_opt, tot_cur, pr)
    uplift_fit <- if (identical(split$fit, ev)) uplift else {
      uplift_summary(total_per_draw(split$fit, x), total_per_draw(split$fit, pl$current), pr)
    }
  }
  warn_beyond_observed(cv, x, pl$horizon)
  structure(list(table = tab, totals = totals, uplift = uplift, uplift_fit = uplift_fit,
                 per_draw = list(optimal = tot_opt, current = tot_cur),
                 objective = c("mean", "quantile", "mean_sd")[obj[1] + 1], objective_param = obj[2],
                 objective_value = value, horizon = pl$horizon, carryover = pl$carryover, level = level,
                 draws = n_draws(cv),
                 holdout = list(share = split$holdout, requested = split$requested, seed = split$seed,
                                fit = split$fit, eval = ev),
                 bounds = pl$bounds, source = cv$source, units = units_note(cv), organic = attr(cv, "organic")),
            class = "hbmmm_allocation")
}

# Change of the total response (plan minus current) over draws.
uplift_summary <- function(tot_opt, tot_cur, pr) {
  dlt <- tot_opt - tot_cur
  data.frame(change = mean(dlt), lower = stats::quantile(dlt, pr[1], names = FALSE),
             upper = stats::quantile(dlt, pr[2], names = FALSE),
             percent = if (mean(tot_cur) != 0) 100 * mean(dlt) / abs(mean(tot_cur)) else NA_real_,
             prob_gain = mean(dlt > 0))
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
  tab <- x$table
  ho <- x$holdout
  n_eval <- length(ho$eval)
  n_fit <- length(ho$fit)
  cat(sprintf("Budget allocation: %d channel(s), %d draw(s)\n", nrow(tab), x$draws))
  cat_wrap(units_text(x$source, x$horizon, if (is.null(x$carryover)) TRUE else x$carryover))
  for (u in x$units) cat_wrap(u)
  cat_wrap(bounds_text(x))
  objective <- switch(x$objective, mean = "expected response",
                      quantile = sprintf("%s quantile of the response", format_pct(x$objective_param)),
                      mean_sd = sprintf("mean - %s sd of the response", format(x$objective_param)))
  cat_wrap(sprintf("Objective: %s = %s on the %d draw(s) that chose the plan%s", objective,
                   fmt_num(x$objective_value, digits + 2), n_fit,
                   if (!is.null(x$budget)) sprintf("; budget %s", fmt_num(x$budget, digits + 3)) else ""))
  if (length(x$organic)) cat_wrap(sprintf("Organic channels (no spend, not allocated): %s", paste(x$organic, collapse = ", ")))
  if (!is.null(x$target)) {
    cat_wrap(sprintf("Target %s %s: reached %s%s", if (x$target$type == "roi") "ROI" else "marginal ROI",
                     fmt_num(x$target$value, digits), fmt_num(x$target$achieved, digits + 1),
                     if (x$target$at_limit) " (budget limit binds)" else ""))
  }
  if (!is.null(x$budget_target)) {
    bt <- x$budget_target
    cat_wrap(sprintf("Target response %s%s: smallest budget %s; reached with probability %s on the held-out draws",
                     fmt_num(bt$target, digits + 2),
                     if (is.null(bt$prob)) " (expected)" else sprintf(" with probability %s", format_pct(bt$prob)),
                     fmt_num(bt$budget, digits + 3), format_pct(bt$probability)))
  }
  # the plan: spend, its bounds and where it sits
  out <- data.frame(channel = tab$channel)
  if (!is.null(tab$segment)) out$segment <- tab$segment
  has_cur <- !all(is.na(tab$current))
  if (has_cur) out$current <- fmt_num(tab$current, digits + 1)
  out$bounds <- sprintf("[%s, %s]", fmt_num(tab$lower, digits), ifelse(is.finite(tab$upper), fmt_num(tab$upper, digits), "Inf"))
  # a spend below a millionth of the plan's total is numerically zero: shown
  # as 0, with no ROI (a ratio of two near-zero numbers means nothing)
  tiny <- tab$optimal < 1e-6 * max(sum(tab$optimal), .Machine$double.xmin)
  out$optimal <- ifelse(tiny, "0", fmt_num(tab$optimal, digits + 1))
  if (has_cur) {
    out$change <- ifelse(tab$current > 0, sprintf("%+.0f%%", 100 * tab$change / pmax(tab$current, .Machine$double.xmin)),
                         ifelse(tiny, "0", "new"))
  }
  out$share <- sprintf("%.1f%%", 100 * tab$share)
  # the refined grid places a bound within about budget / 4e6 of its value
  tol <- 1e-6 * max(1, sum(tab$optimal)) + 1e-9 * abs(tab$optimal)
  limit <- ifelse(tab$fixed, "fixed", ifelse(tab$optimal <= tab$lower + tol & tab$lower > 0, "lower",
                  ifelse(tab$optimal >= tab$upper - tol, "upper", "")))
  if (any(nzchar(limit))) out$at <- limit
  keys <- seq_len(1L + !is.null(tab$segment))
  cat("\nPlan:\n")
  print_table(out, keys)
  if (!is.null(out$at)) cat("at: the spend sits at the channel's lower or upper bound, or is fixed\n")
  # what the plan is expected to do, judged on the held-out draws
  judged <- if (ho$share > 0) sprintf("%d held-out draw(s) that did not choose the plan", n_eval) else
    sprintf("same %d draw(s) that chose the plan", n_eval)
  pct <- format_pct(x$level)
  cat("\n")
  cat_wrap(sprintf("Response at the plan (%s intervals, on the %s):", pct, judged))
  rsp <- out[keys]
  rsp[[sprintf("response [%s]", pct)]] <- fmt_interval(tab$response, tab$response_lower, tab$response_upper, digits)
  rsp$ROI <- ifelse(tiny, "-", fmt_num(tab$roi, digits))
  rsp$mROI <- fmt_num(tab$mroi, digits)
  print_table(rsp, keys)
  cat("\n")
  tt <- x$totals
  print_table(data.frame(plan = rownames(tt), spend = fmt_num(tt$spend, digits + 2),
                         `total response [interval]` = fmt_interval(tt$response, tt$response_lower, tt$response_upper, digits + 1),
                         ROI = fmt_num(tt$roi, digits), check.names = FALSE))
  if (!is.null(x$uplift)) {
    u <- x$uplift
    cat("\n")
    cat_wrap(sprintf("Change against the current plan: %s [%s, %s] (%+.1f%%), probability of a gain %s, on the %s",
                     fmt_num(u$change, digits), fmt_num(u$lower, digits), fmt_num(u$upper, digits), u$percent,
                     format_pct(u$prob_gain), judged))
    if (ho$share > 0 && !is.null(x$uplift_fit)) {
      uf <- x$uplift_fit
      cat_wrap(sprintf("On the %d draw(s) that chose it (optimistic): %s (%+.1f%%), probability of a gain %s.",
                       n_fit, fmt_num(uf$change, digits), uf$percent, format_pct(uf$prob_gain)))
    } else if (x$draws > 1L) {
      cat_wrap("Caveat: in-sample (holdout = 0): the plan was chosen to do well on these draws, so the change and its probability are optimistic; use holdout > 0 to judge it on draws it did not see.")
    }
  }
  invisible(x)
}

# The bounds in force, for the print.
bounds_text <- function(x) {
  b <- x$bounds
  tab <- x$table
  given <- function(side) {
    rel <- b[[paste0(side, "_rel")]]
    tab$channel[!rel & !tab$fixed]
  }
  if (!is.null(b$relative)) {
    own <- unique(c(given("lower"), given("upper")))
    txt <- sprintf("Bounds: each channel within %s x its current spend (`bounds`)", bounds_label(b$relative))
    if (length(own)) txt <- paste0(txt, sprintf("; given by `lower`/`upper` for %s", paste(own, collapse = ", ")))
  } else if (isTRUE(b$no_current)) {
    txt <- "Bounds: none by default (the curves have no current spend for `bounds` to scale); `lower`/`upper` where given"
  } else {
    txt <- "Bounds: `lower`/`upper` as given, otherwise none (`bounds = NULL`)"
  }
  if (any(tab$fixed)) txt <- paste0(txt, sprintf("; fixed: %s", paste(tab$channel[tab$fixed], collapse = ", ")))
  paste0(txt, ".")
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
#' bounds, fixed channels and horizon as [allocate_budget()]: by default each
#' channel within half and one and a half times its current spend
#' (`bounds`), so the largest budget considered is 1.5 times the current
#' total, and a target beyond its reach raises an error that says how to
#' widen the bounds. As in [allocate_budget()], the budget and plan are
#' chosen on the draws not held out (`holdout`), and the expected response
#' and the probability of reaching the target reported are computed on the
#' held-out draws.
#'
#' The optimal expected response of every total budget comes from one dynamic
#' program over a budget grid (its last stage is the value function of the
#' budget); the first grid budget that reaches the target brackets the answer,
#' and bisection with the refined optimizer of [allocate_budget()] narrows it
#' to a relative `1e-7`. The budget returned, allocated by [allocate_budget()]
#' with the same arguments (and `holdout = 0`, or the same split), reaches the
#' target on the draws that chose it. With `prob`, the response
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
#' @return An object of class `hbmmm_budget_target`, an `hbmmm_allocation`
#'   (see [allocate_budget()]) with an extra element `budget_target`:
#'   `target`, `prob`, `budget` (the smallest budget), `expected` (its
#'   expected response) and `probability` (posterior probability that the
#'   response reaches the target), both on the held-out draws.
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
                              max_budget = NULL, cost = NULL, bounds = c(0.5, 1.5), holdout = 0.5, seed = 1,
                              grid = 1000, level = 0.9) {
  cv <- paid_curves(as_curves(x))
  if (!is.numeric(target) || length(target) != 1L || !is.finite(target)) {
    abort_input("target", sprintf("must be one finite number; found %s", describe_value(target)))
  }
  if (!is.null(prob) && (!is.numeric(prob) || length(prob) != 1L || !is.finite(prob) || prob <= 0 || prob >= 1)) {
    abort_input("prob", sprintf("must be NULL or one number in (0, 1); found %s", describe_value(prob)))
  }
  grid <- check_count(grid, "grid", 10, 1e6)
  level <- check_level(level)
  pl_all <- plan_setup(cv, lower, upper, fixed, current, horizon, flighting, carryover, cost, bounds,
                       bounds_given = !missing(bounds))
  check_feasible(pl_all, sum(pl_all$lo), spend_all = FALSE)
  split <- split_draws(n_draws(cv), holdout, seed)
  # the budget and plan are chosen on the fitting draws only (cv, pl below)
  cv_all <- cv
  cv <- subset_draws(cv_all, split$fit)
  pl <- plan_draws(pl_all, split$fit)
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
    msg <- paste0(msg, relative_hint(pl, "upper"))
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
  out <- allocation_result(cv_all, pl_all, r$x, obj, r$value, level, split)
  out$budget <- B_hat
  out$spend_all <- TRUE
  out$budget_target <- list(target = target, prob = prob, budget = B_hat, expected = mean(out$per_draw$optimal),
                            probability = mean(out$per_draw$optimal >= target))
  class(out) <- c("hbmmm_budget_target", class(out))
  out
}
