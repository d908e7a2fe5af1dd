# What-if scenarios: the predictive distribution of the outcome under a plan
# and of its change against the current plan.

#' Simulate a what-if scenario
#'
#' For any plan (a new spend per channel, a shift of budget between channels,
#' a cut of the total, a new weekly flighting), the posterior predictive
#' distribution of the outcome and of its change against the current plan.
#'
#' * **Response curves** ([response_curves()], or what it accepts): plans are
#'   spends per channel, per period at steady state (`horizon = NULL`) or
#'   totals over `horizon` periods, or a matrix of spend per period (rows) and
#'   channel (named columns) for a flighting, adstocked draw by draw with the
#'   carry-over after the last period. The outcome is the incremental
#'   response of the media (curves carry no baseline or noise).
#' * **Fits**: the plan changes the media columns of `newdata` (default: the
#'   training data, a what-if over the history); the outcome is the sum of the
#'   predicted outcome over the rows, with the residual noise of each draw
#'   (`mmm_components()`: every term of the model, group-level effects,
#'   adstock memory of the training data for later rows). The change compares
#'   the expected outcomes of the two plans draw by draw.
#'
#' @param x Response curves or an `hbmmm_fit`.
#' @param plan The plan: a vector of spend named by channel (channels not
#'   named keep their current spend; for fits, the total spend over the rows,
#'   reached by scaling the channel's column), a matrix of spend per period
#'   (curves), or a data frame of new rows (fits). May be `NULL` when `shift`
#'   or `scale` is given.
#' @param current The current plan, in the same forms (default: the curves'
#'   reference spend; for fits, `newdata` as given).
#' @param shift A list `(from, to, amount)`: move `amount` of spend from
#'   channel `from` to channel `to` in the current plan.
#' @param scale Multiply the spend of every channel of the current plan (e.g.
#'   `0.9` for a 10% cut).
#' @param horizon,carryover Curves: plan over `horizon` periods (see
#'   [allocate_budget()]).
#' @param newdata Fits: the rows to predict (default the training data).
#' @param level Probability of the intervals.
#' @param seed Fits: seed for the residual noise (`NULL`: the session's RNG).
#' @return An object of class `hbmmm_scenario`: a list with `spend` (a matrix,
#'   rows `current` and `plan`, spend by channel), `outcome` (rows `current`
#'   and `plan`: `mean`, `lower`, `upper` of the outcome), `change` (`mean`,
#'   `lower`, `upper`, `percent` and `prob_increase`), `by_channel`
#'   (`channel`, `current_spend`, `plan_spend` and the `change` of its
#'   contribution with `lower`/`upper`), `per_draw` (`plan`, `current` and
#'   `change` per draw), `series` (flightings: response per draw and period
#'   of both plans; otherwise `NULL`), `level`, `source` (`"curves"` or
#'   `"fit"`), `outcome_name` and `units` (what the spend and outcome are:
#'   per period, totals over a horizon or over the rows).
#' @examples
#' cv <- response_curves(data.frame(channel = c("print", "video"),
#'   type = c("hill", "hill"), beta = c(300, 800), halfsat = c(50, 150),
#'   slope = c(1.2, 1.5), spend = c(100, 100)))
#' simulate_scenario(cv, shift = list(from = "print", to = "video", amount = 30))
#' s <- simulate_scenario(cv, scale = 0.9)
#' s
#' plot(s)
#' @export
simulate_scenario <- function(x, plan = NULL, current = NULL, shift = NULL, scale = NULL, horizon = NULL,
                              carryover = TRUE, newdata = NULL, level = 0.9, seed = NULL) {
  level <- check_level(level)
  if (is.null(plan) && is.null(shift) && is.null(scale)) {
    abort_input("plan", "is required (or give `shift` or `scale` to change the current plan)")
  }
  if (inherits(x, "hbmmm_fit")) return(scenario_fit(x, plan, current, shift, scale, newdata, level, seed))
  cv <- paid_curves(as_curves(x))
  if (!is.null(horizon)) horizon <- check_count(horizon, "horizon", 1, 1e4)
  carryover <- check_flag(carryover, "carryover")
  ids <- cv$curves$id
  mult <- if (is.null(horizon)) 1 else horizon
  cur <- if (is.null(current)) {
    r <- reference_spend(cv)
    if (is.null(r)) abort_input("current", "is required: the curves have no reference spend")
    r * mult
  } else scenario_plan_arg(current, cv, NULL, "current")
  pl <- if (is.null(plan)) cur else scenario_plan_arg(plan, cv, cur, "plan")
  pl <- modify_plan(pl, shift, scale, ids)
  flight <- is.matrix(pl) || is.matrix(cur)
  if (flight) {
    H <- if (is.matrix(pl)) nrow(pl) else nrow(cur)
    as_flight <- function(p) {
      if (is.matrix(p)) {
        if (nrow(p) != H) abort_input("current", sprintf("flightings of the plan and the current plan must have the same number of periods (%d and %d)", H, nrow(p)))
        return(p)
      }
      matrix(rep(p / H, each = H), H, length(ids), dimnames = list(NULL, ids))
    }
    rp <- curves_flight(cv, as_flight(pl), carryover)
    rc <- curves_flight(cv, as_flight(cur), carryover)
    by_p <- apply(rp, c(1, 3), sum)
    by_c <- apply(rc, c(1, 3), sum)
    sp <- rbind(current = colSums(as_flight(cur)), plan = colSums(as_flight(pl)))
    series <- list(plan = apply(rp, c(1, 2), sum), current = apply(rc, c(1, 2), sum))
  } else {
    prof <- curve_profiles(cv, horizon, NULL, carryover)
    by_p <- curves_at(cv, pl, prof)$value
    by_c <- curves_at(cv, cur, prof)$value
    sp <- rbind(current = cur, plan = pl)
    series <- NULL
  }
  colnames(sp) <- ids
  out <- scenario_result(rowSums(by_p), rowSums(by_c), rowSums(by_p) - rowSums(by_c), by_p - by_c, sp, level,
                         source = "curves", outcome = "incremental response", series = series)
  out$units <- if (flight) {
    sprintf("Units: spend and response are totals over the %d period(s) of the flighting%s.", H,
            if (carryover) "; the response counts the carry-over after them" else "")
  } else units_text(cv$source, horizon, carryover)
  out
}

# A plan as a named per-curve vector (or a periods x curves matrix).
scenario_plan_arg <- function(p, cv, base, arg) {
  ids <- cv$curves$id
  if (is.data.frame(p)) p <- as.matrix(p)
  if (is.matrix(p)) {
    if (!is.numeric(p) || is.null(colnames(p))) abort_input(arg, "a flighting must be a numeric matrix with columns named by channel")
    unknown <- setdiff(colnames(p), ids)
    if (length(unknown)) {
      abort(sprintf("Invalid `%s`: channel `%s` is not a curve of this plan (curves: %s)%s", arg, unknown[1],
                    paste(ids, collapse = ", "), suggest_name(unknown[1], ids)),
            class = c("hbmmm_unknown_channel_error", "hbmmm_input_error"), arg = arg)
    }
    if (any(!is.finite(p) | p < 0)) abort_input(arg, "spend must be non-negative and finite")
    out <- matrix(0, nrow(p), length(ids), dimnames = list(NULL, ids))
    for (id in ids) {
      out[, id] <- if (id %in% colnames(p)) p[, id] else {
        if (is.null(base) || is.matrix(base)) abort_input(arg, sprintf("has no column for channel `%s`", id))
        base[[id]] / nrow(p)
      }
    }
    return(out)
  }
  v <- plan_vector(p, cv, arg, default = NA_real_)
  if (anyNA(v)) {
    if (is.null(base) || is.matrix(base)) abort_input(arg, sprintf("gives no spend for channel `%s`", names(v)[is.na(v)][1]))
    v[is.na(v)] <- base[is.na(v)]
  }
  if (any(!is.finite(v) | v < 0)) abort_input(arg, "spend must be non-negative and finite")
  v
}

# Apply `shift` (list(from, to, amount)) and `scale` to a plan vector/matrix.
modify_plan <- function(p, shift, scale, ids) {
  if (!is.null(scale)) {
    if (!is.numeric(scale) || length(scale) != 1L || !is.finite(scale) || scale < 0) {
      abort_input("scale", sprintf("must be one non-negative number; found %s", describe_value(scale)))
    }
    p <- p * scale
  }
  if (!is.null(shift)) {
    if (!is.list(shift) || !all(c("from", "to", "amount") %in% names(shift))) {
      abort_input("shift", "must be a list with `from`, `to` and `amount`")
    }
    for (a in c("from", "to")) {
      ch <- shift[[a]]
      if (!is.character(ch) || length(ch) != 1L || !ch %in% ids) {
        abort(sprintf("Invalid `shift`: `%s` = %s is not a channel of this plan (%s)%s", a, describe_value(ch),
                      paste(ids, collapse = ", "), if (is.character(ch) && length(ch) == 1L) suggest_name(ch, ids) else ""),
              class = c("hbmmm_unknown_channel_error", "hbmmm_input_error"), arg = "shift")
      }
    }
    amt <- shift$amount
    if (!is.numeric(amt) || length(amt) != 1L || !is.finite(amt) || amt < 0) {
      abort_input("shift", sprintf("`amount` must be one non-negative number; found %s", describe_value(amt)))
    }
    have <- if (is.matrix(p)) sum(p[, shift$from]) else p[[shift$from]]
    if (amt > have * (1 + 1e-12)) {
      abort(sprintf("Infeasible shift: channel `%s` has %s of spend, %s short of the %s to move", shift$from,
                    fmt_num(have, 6), fmt_num(amt - have, 6), fmt_num(amt, 6)),
            class = "hbmmm_infeasible_error", arg = "shift")
    }
    if (is.matrix(p)) {
      w_from <- if (have > 0) p[, shift$from] / have else rep(1 / nrow(p), nrow(p))
      tot_to <- sum(p[, shift$to])
      w_to <- if (tot_to > 0) p[, shift$to] / tot_to else rep(1 / nrow(p), nrow(p))
      p[, shift$from] <- pmax(p[, shift$from] - amt * w_from, 0)
      p[, shift$to] <- p[, shift$to] + amt * w_to
    } else {
      p[[shift$from]] <- max(p[[shift$from]] - amt, 0)
      p[[shift$to]] <- p[[shift$to]] + amt
    }
  }
  p
}

scenario_fit <- function(fit, plan, current, shift, scale, newdata, level, seed) {
  check_model_fit(fit, "x", "simulate_scenario()")
  spec <- fit$spec
  media <- spec$media
  history <- !is.null(newdata)
  base <- if (is.null(newdata)) original_data(spec) else newdata
  if (!is.data.frame(base)) abort_input("newdata", sprintf("must be a data frame; found %s", describe_value(base)))
  miss <- setdiff(media, names(base))
  if (length(miss)) {
    # the spend totals below need every channel; other model columns are
    # checked with the design (newdata_design())
    abort_input("newdata", sprintf("lacks media column `%s`, which the model uses%s", miss[1],
                                   suggest_name(miss[1], names(base))))
  }
  cols <- spend_or_exposure(spend_columns(spec))
  miss <- setdiff(cols, names(base))
  if (length(miss)) abort_input("newdata", sprintf("lacks spend column `%s`, which the fit uses (hbmmm(spend = ))", miss[1]))
  cur_df <- if (is.null(current)) base else fit_plan_frame(current, base, media, "current", cols)
  plan_df <- if (is.null(plan)) cur_df else fit_plan_frame(plan, cur_df, media, "plan", cols)
  if (!is.null(shift) || !is.null(scale)) {
    tot <- column_totals(plan_df, cols)
    tot2 <- modify_plan(tot, shift, scale, media)
    plan_df <- fit_plan_frame(tot2, plan_df, media, "plan", cols)
  }
  if (!is.null(seed)) {
    seed <- check_seed(seed)
    restore <- save_rng()
    on.exit(restore(), add = TRUE)
    set.seed(seed)
  }
  cp <- mmm_components(fit, newdata = cur_df, history = history)
  pp <- mmm_components(fit, newdata = plan_df, history = history, draws = cp$draws)
  eps <- matrix(stats::rnorm(length(cp$mu)), nrow(cp$mu))
  y_cur <- rowSums(cp$mu + cp$sigma * eps)
  y_plan <- rowSums(pp$mu + pp$sigma * eps)
  delta <- rowSums(pp$mu) - rowSums(cp$mu)
  by <- vapply(media, function(ch) rowSums(pp$media[[ch]]) - rowSums(cp$media[[ch]]), numeric(nrow(cp$mu)))
  by <- matrix(by, ncol = length(media), dimnames = list(NULL, media))
  sp <- rbind(current = column_totals(cur_df, cols), plan = column_totals(plan_df, cols))
  out <- scenario_result(y_plan, y_cur, delta, by, sp, level, source = "fit", outcome = spec$response, series = NULL)
  out$units <- sprintf("Units: spend and %s are totals over the rows of %s.", spec$response,
                       if (history) "`newdata`" else "the training data")
  out
}

# Total spend per channel of a frame, from the spend columns `cols` (named
# by channel).
spend_of_frame <- function(d, cols) vapply(cols, function(cl) sum(d[[cl]]), numeric(1))

# A data frame for a fit's plan: a data frame as is, or a named vector of
# total spend per channel reached by scaling the channel's column of `base`
# (and its spend column, `cols`, when the model uses another exposure).
fit_plan_frame <- function(p, base, media, arg, cols = stats::setNames(media, media)) {
  if (is.data.frame(p)) return(p)
  if (!is.numeric(p) || is.null(names(p)) || anyNA(p) || any(p < 0)) {
    abort_input(arg, sprintf("must be a data frame of rows or a vector of non-negative total spend named by channel; found %s",
                             describe_value(p)))
  }
  unknown <- setdiff(names(p), media)
  if (length(unknown)) {
    abort(sprintf("Invalid `%s`: channel `%s` is not a media channel of the fit (%s)%s", arg, unknown[1],
                  paste(media, collapse = ", "), suggest_name(unknown[1], media)),
          class = c("hbmmm_unknown_channel_error", "hbmmm_input_error"), arg = arg)
  }
  for (ch in names(p)) {
    sc <- cols[[ch]]
    tot <- sum(base[[sc]])
    if (tot > 0) {
      f <- p[[ch]] / tot
      base[[ch]] <- base[[ch]] * f
      if (sc != ch) base[[sc]] <- base[[sc]] * f
    } else if (sc == ch) {
      base[[ch]] <- rep(p[[ch]] / nrow(base), nrow(base))
    } else {
      abort_input(arg, sprintf("gives spend to `%s`, which has none in the rows to scale, and its exposure per unit of spend is unknown there", ch))
    }
  }
  base
}

scenario_result <- function(y_plan, y_cur, delta, by, sp, level, source, outcome, series) {
  pr <- interval_probs(level)
  s <- function(v) c(mean = mean(v), lower = stats::quantile(v, pr[1], names = FALSE),
                     upper = stats::quantile(v, pr[2], names = FALSE))
  out_tab <- rbind(current = s(y_cur), plan = s(y_plan))
  ch <- s(delta)
  change <- data.frame(mean = ch[["mean"]], lower = ch[["lower"]], upper = ch[["upper"]],
                       percent = if (mean(y_cur) != 0) 100 * ch[["mean"]] / abs(mean(y_cur)) else NA_real_,
                       prob_increase = mean(delta > 0))
  by_tab <- data.frame(channel = colnames(sp), current_spend = sp["current", ], plan_spend = sp["plan", ],
                       change = colMeans(by), lower = apply(by, 2, stats::quantile, pr[1], names = FALSE),
                       upper = apply(by, 2, stats::quantile, pr[2], names = FALSE), row.names = NULL,
                       stringsAsFactors = FALSE)
  structure(list(spend = sp, outcome = as.data.frame(out_tab), change = change, by_channel = by_tab,
                 per_draw = list(plan = y_plan, current = y_cur, change = delta), series = series,
                 level = level, source = source, outcome_name = outcome),
            class = "hbmmm_scenario")
}

#' @export
print.hbmmm_scenario <- function(x, digits = 3, ...) {
  cat_wrap(sprintf("What-if scenario (%s; outcome: %s; %s intervals, %d draws)",
                   if (x$source == "fit") "posterior predictive of the fitted model" else "response curves",
                   x$outcome_name, format_pct(x$level), length(x$per_draw$change)))
  if (!is.null(x$units)) cat_wrap(x$units)
  cat("\n")
  b <- x$by_channel
  print_table(data.frame(channel = b$channel, current = fmt_num(b$current_spend, digits + 1),
                         plan = fmt_num(b$plan_spend, digits + 1),
                         `change of contribution [interval]` = fmt_interval(b$change, b$lower, b$upper, digits),
                         check.names = FALSE))
  o <- x$outcome
  cat("\n")
  print_table(data.frame(plan = rownames(o), spend = fmt_num(rowSums(x$spend), digits + 2),
                         `outcome [interval]` = fmt_interval(o$mean, o$lower, o$upper, digits + 1), check.names = FALSE))
  ch <- x$change
  cat("\n")
  cat_wrap(sprintf("Change of the expected outcome: %s [%s, %s] (%+.2f%%); probability of an increase %s",
                   fmt_num(ch$mean, digits), fmt_num(ch$lower, digits), fmt_num(ch$upper, digits), ch$percent,
                   format_pct(ch$prob_increase)))
  invisible(x)
}

#' @export
summary.hbmmm_scenario <- function(object, ...) object$change

#' @export
plot.hbmmm_scenario <- function(x, ...) {
  op <- graphics::par(mfrow = c(1, 2), mar = c(4.5, 4.5, 3, 1))
  on.exit(graphics::par(op))
  pd <- x$per_draw
  graphics::boxplot(list(current = pd$current, plan = pd$plan), col = c("grey75", "steelblue"),
                    ylab = x$outcome_name, main = "Outcome under each plan")
  d <- pd$change
  graphics::hist(d, breaks = 30, col = "steelblue", border = "white", main = "Change against the current plan",
                 xlab = paste("change of", x$outcome_name))
  graphics::abline(v = c(x$change$lower, x$change$upper), lty = 2)
  graphics::abline(v = 0, col = "firebrick", lwd = 2)
  invisible(x$change)
}
