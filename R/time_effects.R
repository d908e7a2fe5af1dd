# Time effects inside model formulas: trend(), seasonality(), events().
#
# Each helper returns the design columns of its effect as a matrix carrying
# its basis (time origin and scale, changepoints, period, calendar) as an
# attribute. model.frame() asks makepredictcall() how to rebuild a variable
# on other rows; the method below answers with a call that applies the stored
# basis, and media_design() keeps the terms holding that call (`predvars`),
# so forecasts, scenarios and every other newdata path use the training
# basis, as poly() and splines::ns() do.

TIME_EFFECT_KINDS <- c("trend", "seasonality", "events")

#' Time effects in model formulas: trend, seasonality and events
#'
#' Helpers to use inside the formula of [hbmmm()] or [hbmmm_spec()] (and
#' [fit_baseline()] with `type = "ols"`, `"ridge"` or `"pooled"`): they build
#' the design columns of a trend, of Fourier seasonality and of event
#' (holiday) indicators from a time column, e.g.
#' `sales ~ tv + search + price + trend(week) + seasonality(week, 52, 2) +
#' events(week, calendar = holidays)`. [contributions()] reports each of them
#' as its own component (`trend`, `seasonality`, `events`).
#'
#' **Time scale.** A numeric time (e.g. a week number) is used in its own
#' units. A date (`Date` or `POSIXct`) is counted in *periods* of the
#' training data: the step between consecutive distinct dates of the
#' training rows (7 days for weekly data, one month for dates on a monthly
#' grid, one day for daily data), with period 0 at the first training date.
#' So `period` and the spacing of changepoints are in weeks for weekly data,
#' whether the time is a week number or a date (a year of weekly data is
#' `period = 52`, or `365.25 / 7` = 52.18 to follow the calendar year
#' exactly).
#'
#' **Trend.** `trend(time)` is one column, `(t - t_first) / span`, where
#' `span` is the training range of `t`: it runs from 0 at the first training
#' period to 1 at the last, so its coefficient is the change of the outcome
#' over the training span and default priors see values of order one. Each
#' changepoint `c_k` adds a hinge column `max(0, t - c_k) / span` (its
#' coefficient is the change of that slope), which makes the trend piecewise
#' linear. Columns are named `trend(week)`, `trend(week)cp1`, ...
#'
#' **Seasonality.** `seasonality(time, period, order)` is the Fourier series
#' `sin(2 pi k t / period)` and `cos(2 pi k t / period)`, `k = 1, ..., order`,
#' with `t` counted from the first training period; columns
#' `seasonality(week, 52, 2)sin1`, `...cos1`, `...sin2`, `...cos2`. The
#' seasonal curve is their sum weighted by the coefficients.
#'
#' **Events.** `events(time, calendar)` gives one 0/1 column per event name of
#' `calendar`, a data frame with a column `event` (the names) and a column of
#' times named like the time variable (e.g. `date` for `events(date, ...)`),
#' or `time`, or (in a two-column calendar) named anyhow. An event marks the row whose period contains it: with weekly dates,
#' a holiday on a Wednesday marks the week starting on the Monday before;
#' with numeric times, an event at `t` marks the row at the largest time
#' `<= t` within one step. Several dates per name (Christmas of every year)
#' share one column, named after the call and the event
#' (`events(date, calendar = holidays)xmas`; with a single event name,
#' after the call alone, as [model.matrix()] names one-column matrices). Events that fall on no training row cannot be estimated
#' and are dropped with a warning (the calendar may list future events too).
#'
#' **New data.** The basis is fixed by the training data: `predict()`,
#' `posterior_predict()`, `fitted()`, [simulate_scenario()] and the other
#' functions taking `newdata` use the same origin, scale, changepoints,
#' period and calendar, so a forecast continues the trend and the seasonal
#' cycle, and marks the future events of the calendar.
#'
#' @param time The time column: numeric, `Date` or `POSIXct`.
#' @param changepoints Where the slope of the trend may change: times on the
#'   scale of `time` (numbers, or dates for a date time), strictly inside the
#'   training range; or a single whole number `n`, giving `n` changepoints
#'   equally spaced inside the training range. (To place a single changepoint
#'   at a numeric time, wrap it in `I()`: `changepoints = I(52)`.) `NULL`:
#'   a linear trend.
#' @param period Length of the seasonal cycle in units of `time` (in periods
#'   of the training data for dates; see "Time scale"). Positive.
#' @param order Number of Fourier pairs: a whole number, at least 1 and below
#'   `period / 2` (higher frequencies cannot be told apart on the data's grid).
#' @param calendar A data frame of events: a column `event` (names) and a
#'   column of times named like the time variable, or `time`, or any name
#'   when the calendar has just these two columns.
#' @return A numeric matrix of design columns (with the basis as an attribute).
#' @seealso [contributions()], which reports `trend`, `seasonality` and
#'   `events` as components.
#' @examples
#' holidays <- data.frame(event = c("xmas", "xmas", "black_friday"),
#'                        week = c(52, 104, 47))
#' spec <- hbmmm_spec(sales ~ tv + search + price + trend(week) + seasonality(week, 52, 1) +
#'                      events(week, calendar = holidays),
#'                    data = mmm_weekly, media = c("tv", "search"), time = "week", panel = "market")
#' spec$X$names
#' head(trend(1:10, changepoints = 1))
#' @name time_effects
NULL

#' @rdname time_effects
#' @export
trend <- function(time, changepoints = NULL) {
  label <- time_label(substitute(time))
  time_effect_columns(time, trend_basis(time, changepoints, label), label)
}

#' @rdname time_effects
#' @export
seasonality <- function(time, period = 52, order = 2) {
  label <- time_label(substitute(time))
  time_effect_columns(time, seasonality_basis(time, period, order, label), label)
}

#' @rdname time_effects
#' @export
events <- function(time, calendar) {
  label <- time_label(substitute(time))
  if (missing(calendar)) {
    abort_input("calendar", "is missing: give a data frame with a column `event` and a column of times")
  }
  time_effect_columns(time, events_basis(time, calendar, label), label)
}

# ---- bases ------------------------------------------------------------------

time_label <- function(expr) paste(deparse(expr), collapse = "")

# The time scale of training times `time`: numeric times in their own units
# (origin the first time), dates in periods of the training grid
# (time_axis(), the model's own notion of a period).
effect_time_scale <- function(time, label) {
  check_effect_time(time, label)
  if (is.numeric(time)) return(list(unit = "number", origin = min(time), step = 1))
  u <- sort(unique(time))
  tryCatch(time_axis(u, rep(1L, length(u)), label), hbmmm_input_error = function(e) {
    abort_input("time", sprintf(paste0("`%s` holds dates that are not on a regular grid of periods (days, weeks, ",
                                       "months...); give a numeric time instead"), label))
  })
}

check_effect_time <- function(time, label, arg = "time") {
  if (!(is.numeric(time) || inherits(time, c("Date", "POSIXt"))) || is.factor(time)) {
    abort_input(arg, sprintf("`%s` must be numeric or a date (Date or POSIXct); found %s", label,
                             describe_value(time)))
  }
  if (!length(time) || anyNA(time) || (is.numeric(time) && any(!is.finite(time)))) {
    abort_input(arg, sprintf("`%s` must have finite, non-missing values", label))
  }
  invisible()
}

# Positions of times `x` on the scale `sc` (fractional between grid points).
effect_positions <- function(x, sc, label, arg = "time") {
  if (sc$unit == "number" && !is.numeric(x)) {
    abort_input(arg, sprintf("`%s` must be numeric, as in the training data; found %s", label, describe_value(x)))
  }
  if (sc$unit != "number" && !inherits(x, c("Date", "POSIXt"))) {
    abort_input(arg, sprintf("`%s` must be dates, as in the training data; found %s", label, describe_value(x)))
  }
  # (on a monthly grid a date counts as its month: the period containing it)
  (time_values(x, sc$unit) - sc$origin) / sc$step
}

trend_basis <- function(time, changepoints, label) {
  sc <- effect_time_scale(time, label)
  pos <- effect_positions(time, sc, label)
  lo <- min(pos)
  span <- max(pos) - lo
  if (span <= 0) abort_input("time", sprintf("`%s` takes a single value; a trend needs at least two times", label))
  cp <- trend_changepoints(changepoints, sc, pos, label)
  list(kind = "trend", scale = sc, start = lo, span = span, changepoints = cp)
}

# Changepoint positions (sorted, strictly inside the training range).
trend_changepoints <- function(changepoints, sc, pos, label) {
  if (is.null(changepoints) || !length(changepoints)) return(numeric(0))
  lo <- min(pos)
  hi <- max(pos)
  n_times <- length(unique(pos))
  is_count <- is.numeric(changepoints) && length(changepoints) == 1L && !inherits(changepoints, "AsIs")
  if (is_count) {
    n <- changepoints
    if (is.na(n) || n != round(n) || n < 1 || n > n_times - 2) {
      abort_input("changepoints", sprintf(paste0("a single number is a count of equally spaced changepoints: ",
                                                 "a whole number between 1 and %d (the distinct times of `%s` ",
                                                 "less two); found %s. Wrap a location in I() (I(52))"),
                                          max(1L, n_times - 2L), label, describe_value(changepoints)))
    }
    return(lo + (hi - lo) * seq_len(n) / (n + 1))
  }
  if (anyNA(changepoints)) abort_input("changepoints", "must not contain missing values")
  cp <- effect_positions(unclass_asis(changepoints), sc, label, arg = "changepoints")
  out <- cp <= lo | cp >= hi
  if (any(out)) {
    abort_input("changepoints", sprintf("must lie strictly inside the training range of `%s` (%s to %s); found %s",
                                        label, format(min_time(pos, sc)), format(max_time(pos, sc)),
                                        format(unclass_asis(changepoints)[which(out)[1]])))
  }
  if (anyDuplicated(cp)) abort_input("changepoints", "must be distinct")
  sort(cp)
}

unclass_asis <- function(x) {
  class(x) <- setdiff(class(x), "AsIs")
  if (!length(class(x))) x <- unclass(x)
  x
}
min_time <- function(pos, sc) position_time(min(pos), sc)
max_time <- function(pos, sc) position_time(max(pos), sc)
# A position back on the scale of the time column (for messages).
position_time <- function(p, sc) {
  v <- sc$origin + p * sc$step
  switch(sc$unit, number = v, day = as.Date(v, origin = "1970-01-01"),
         second = as.POSIXct(v, origin = "1970-01-01"), month = sprintf("%d-%02d", v %/% 12, v %% 12 + 1))
}

seasonality_basis <- function(time, period, order, label) {
  if (!is.numeric(period) || length(period) != 1L || !is.finite(period) || period <= 0) {
    abort_input("period", sprintf("must be one positive number (the cycle's length in periods of `%s`); found %s",
                                  label, describe_value(period)))
  }
  if (!is.numeric(order) || length(order) != 1L || !is.finite(order) || order != round(order) || order < 1) {
    abort_input("order", sprintf("must be a whole number of at least 1; found %s", describe_value(order)))
  }
  if (order >= period / 2) {
    abort_input("order", sprintf(paste0("must be below period / 2 = %s: higher frequencies cannot be told apart ",
                                        "on a grid of one value per period; found %s"),
                                 format(period / 2), format(order)))
  }
  sc <- effect_time_scale(time, label)
  list(kind = "seasonality", scale = sc, period = as.double(period), order = as.integer(order))
}

events_basis <- function(time, calendar, label) {
  sc <- effect_time_scale(time, label)
  if (!is.data.frame(calendar)) {
    abort_input("calendar", sprintf("must be a data frame with a column `event` and a column of times; found %s",
                                    describe_value(calendar)))
  }
  tcol <- intersect(c(label, "time"), names(calendar))
  if (!length(tcol) && ncol(calendar) == 2L && "event" %in% names(calendar)) tcol <- setdiff(names(calendar), "event")
  miss <- c(if (!"event" %in% names(calendar)) "`event` (the event names)",
            if (!length(tcol)) sprintf("`%s` or `time` (the times of the events)", label))
  if (length(miss)) {
    abort_input("calendar", sprintf("lacks column(s) %s; it has %s", paste(miss, collapse = " and "),
                                    if (length(names(calendar))) paste0("`", names(calendar), "`", collapse = ", ") else "none"))
  }
  ev <- calendar[["event"]]
  if (!(is.character(ev) || is.factor(ev)) || anyNA(ev) || any(!nzchar(as.character(ev)))) {
    abort_input("calendar", "column `event` must hold non-empty event names (character or factor)")
  }
  when <- calendar[[tcol[1]]]
  if (anyNA(when)) abort_input("calendar", sprintf("column `%s` has missing times", tcol[1]))
  occ <- data.frame(event = as.character(ev), pos = effect_positions(when, sc, tcol[1], arg = "calendar"),
                    stringsAsFactors = FALSE)
  pos <- effect_positions(time, sc, label)
  u <- sort(unique(pos))
  width <- if (sc$unit == "number") time_step(u) else 1
  basis <- list(kind = "events", scale = sc, width = width, occurrences = occ, names = unique(occ$event))
  hit <- colSums(event_indicators(pos, basis)) > 0
  if (!any(hit)) {
    abort_input("calendar", sprintf("no event falls on a training period of `%s` (%s to %s)", label,
                                    format(min_time(pos, sc)), format(max_time(pos, sc))))
  }
  if (!all(hit)) {
    warn_classed("unused_event", sprintf(paste0("event(s) %s of `calendar` fall on no training period, so their ",
                                                "effect cannot be estimated; they are left out of the model"),
                                         paste0("`", basis$names[!hit], "`", collapse = ", ")))
  }
  basis$names <- basis$names[hit]
  basis
}

# 0/1 matrix (rows x event names): row r is marked by an occurrence at p when
# pos_r <= p < pos_r + width (the row's period contains it).
event_indicators <- function(pos, basis) {
  eps <- 1e-9
  out <- vapply(basis$names, function(nm) {
    p <- basis$occurrences$pos[basis$occurrences$event == nm]
    as.double(rowSums(outer(pos, p, function(r, e) r <= e + eps & e < r + basis$width - eps)) > 0)
  }, numeric(length(pos)))
  matrix(out, length(pos), length(basis$names))
}

# ---- columns ------------------------------------------------------------

# The design columns of `basis` at times `time`.
time_effect_columns <- function(time, basis, label = "time", arg = "time") {
  check_effect_time(time, label, arg)
  pos <- effect_positions(time, basis$scale, label, arg)
  M <- switch(basis$kind,
    trend = {
      m <- cbind((pos - basis$start) / basis$span,
                 vapply(basis$changepoints, function(c) pmax(0, pos - c) / basis$span, numeric(length(pos))))
      colnames(m) <- c("", if (length(basis$changepoints)) paste0("cp", seq_along(basis$changepoints)))
      m
    },
    seasonality = {
      k <- rep(seq_len(basis$order), each = 2L)
      m <- vapply(seq_along(k), function(j) {
        a <- 2 * pi * k[j] * pos / basis$period
        if (j %% 2L) sin(a) else cos(a)
      }, numeric(length(pos)))
      m <- matrix(m, length(pos))
      colnames(m) <- paste0(c("sin", "cos"), k)
      m
    },
    events = {
      m <- event_indicators(pos, basis)
      colnames(m) <- basis$names
      m
    })
  structure(M, basis = basis, class = c("hbmmm_time_effect", "matrix", "array"))
}

# The columns on new rows with the training basis: the call that
# makepredictcall() puts in `predvars` (a bad time column is the fault of
# `newdata`).
time_effect_predict <- function(time, basis, label = "time") {
  time_effect_columns(time, basis, label, arg = "newdata")
}

#' @importFrom stats makepredictcall
#' @export
makepredictcall.hbmmm_time_effect <- function(var, call) {
  kind <- time_effect_kind(call)
  basis <- attr(var, "basis")
  if (is.na(kind) || is.null(basis) || !identical(kind, basis$kind)) return(NextMethod())
  fun <- switch(kind, trend = trend, seasonality = seasonality, events = events)
  time_expr <- match.call(fun, call)$time
  as.call(list(time_effect_predict, time_expr, basis, time_label(time_expr)))
}

# "trend", "seasonality" or "events" when `expr` is a call to that helper
# (also as hbmmm::trend(...)); NA otherwise.
time_effect_kind <- function(expr) {
  if (!is.call(expr)) return(NA_character_)
  head <- expr[[1L]]
  if (is.call(head) && identical(head[[1L]], as.name("::")) && identical(as.character(head[[2L]]), "hbmmm")) {
    head <- head[[3L]]
  }
  if (!is.name(head)) return(NA_character_)
  nm <- as.character(head)
  if (nm %in% TIME_EFFECT_KINDS) nm else NA_character_
}

# The data columns an expression reads: all.vars(), except that a time
# helper reads only its time argument (its calendar or changepoints are
# objects, not columns).
model_columns <- function(expr) {
  if (!is.call(expr)) return(all.vars(expr))
  kind <- time_effect_kind(expr)
  if (!is.na(kind)) {
    fun <- switch(kind, trend = trend, seasonality = seasonality, events = events)
    t <- tryCatch(match.call(fun, expr)$time, error = function(e) NULL)
    return(if (is.null(t)) character(0) else all.vars(t))
  }
  # (by [[ ]]: `[` on a terms object selects terms)
  unique(unlist(lapply(seq_along(expr)[-1L], function(i) model_columns(expr[[i]]))))
}
