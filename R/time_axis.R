# The time axis of a model: which period each row falls in.
#
# Carry-over is counted in periods, not rows: when a series skips periods
# (weeks 10-15 missing), the adstock of week 16 must hold what is left of
# week 9 after 7 periods of decay, and a forecast 20 periods after the end of
# the training data must hold 20 periods of decay. Every row therefore gets
# an integer time position; the C kernels and the R transforms take the lag
# between two rows as the difference of their positions, and spend in a
# missing period is zero.
#
# The axis is fixed when the model is specified: an origin, a step and a unit
# ("number" for numeric time, "day" for dates and date-times on a grid of
# days, "month" for dates on a monthly grid such as month starts or ends).
# New data (forecasts, scenarios) is placed on the same grid.

# The step of a numeric time column: the smallest difference between two
# distinct values (over all series: a period is the same length in every
# series); every value must then lie on the grid origin + k * step.
time_step <- function(t) {
  d <- diff(sort(unique(t)))
  if (!length(d)) return(1)
  min(d)
}

on_grid <- function(pos, tol = 1e-6) all(abs(pos - round(pos)) < tol)

# Numeric values of a time column on the unit chosen for it.
time_values <- function(x, unit) {
  switch(unit,
    number = as.double(x),
    second = as.double(as.POSIXct(x)),
    day = as.double(as.Date(x)),
    month = {
      lt <- as.POSIXlt(as.Date(x))
      (lt$year + 1900) * 12 + lt$mon
    })
}

# The axis of training time `t` (rows grouped by series `codes`).
# (`t` has passed check_time_column(), which hbmmm_spec() runs before sorting)
time_axis <- function(t, codes, time) {
  if (is.factor(t)) {
    # the levels are the periods, in their order
    return(list(unit = "level", levels = levels(t), origin = 0, step = 1))
  }
  units <- if (inherits(t, "POSIXt")) c("day", "month", "second") else if (inherits(t, "Date")) c("day", "month") else "number"
  for (u in units) {
    v <- time_values(t, u)
    step <- time_step(v)
    origin <- min(v)
    pos <- (v - origin) / step
    # a unit fits when every row falls on its grid, one row per period
    if (on_grid(pos) && !anyDuplicated(data.frame(codes, round(pos)))) {
      return(list(unit = u, origin = origin, step = step))
    }
  }
  abort_input("time", sprintf(paste0("`%s` is not on a regular grid: its values are not whole multiples of ",
                                     "the smallest step (%s) apart; carry-over needs periods of one length"),
                              time, format(time_step(time_values(t, units[1])))))
}

# Integer positions of time values `t` on `axis` (error when off the grid).
time_positions <- function(axis, t, time, arg) {
  check_time_column(t, time, arg)
  if (axis$unit == "level") {
    pos <- match(as.character(t), axis$levels)
    bad <- which(is.na(pos))
    if (length(bad)) {
      abort_input(arg, sprintf("has `%s` = %s, which is not a level of the training data's `%s`",
                               time, as.character(t[bad[1]]), time))
    }
    return(as.integer(pos))
  }
  if (axis$unit %in% c("day", "month", "second") && !inherits(t, c("Date", "POSIXt"))) {
    abort_input(arg, sprintf("column `%s` must be a date, as in the training data; found %s", time, class(t)[1]))
  }
  if (axis$unit == "number" && !is.numeric(t)) {
    abort_input(arg, sprintf("column `%s` must be numeric, as in the training data; found %s", time, class(t)[1]))
  }
  pos <- (time_values(t, axis$unit) - axis$origin) / axis$step
  bad <- which(abs(pos - round(pos)) > 1e-6)
  if (length(bad)) {
    abort_input(arg, sprintf("has `%s` = %s, which is not on the training data's grid of periods (step %s%s)",
                             time, format(t[bad[1]]), format(axis$step),
                             if (axis$unit == "number") "" else paste0(" ", axis$unit, "s")))
  }
  pos <- round(pos)
  if (any(abs(pos) > 1e8)) {
    abort_input(arg, sprintf("has `%s` = %s, more than 100 million periods from the training data",
                             time, format(t[which.max(abs(pos))])))
  }
  as.integer(pos)
}

# Time columns must order periods as time does: text that holds numbers or
# dates would be sorted as text ("10" before "2").
check_time_column <- function(t, time, arg) {
  if (!is.character(t)) {
    if (is.numeric(t) || is.factor(t) || inherits(t, c("Date", "POSIXt"))) return(invisible())
    abort_input(arg, sprintf("column `%s` must be numeric, a date or a factor; found %s", time, class(t)[1]))
  }
  num <- suppressWarnings(as.numeric(t))
  hint <- if (!anyNA(num)) {
    sprintf("it holds numbers; convert it with as.numeric(%s)", time)
  } else if (!anyNA(suppressWarnings(as.Date(t, optional = TRUE)))) {
    sprintf("it holds dates; convert it with as.Date(%s)", time)
  } else {
    sprintf("convert it to a factor whose levels are the periods in time order, or to numbers")
  }
  abort_input(arg, sprintf("column `%s` is character, so it would be sorted as text (\"10\" before \"2\"); %s",
                           time, hint))
}

# Gaps of the training series: a data frame with one row per gap (series,
# last period before, first period after, periods missing).
time_gaps <- function(tpos, codes, t) {
  brk <- which(diff(tpos) > 1L & diff(codes) == 0L)
  data.frame(series = codes[brk], before = t[brk], after = t[brk + 1L],
             missing = tpos[brk + 1L] - tpos[brk] - 1L)
}

warn_time_gaps <- function(gaps, time, panel, panel_names) {
  if (!nrow(gaps)) return(invisible())
  n_series <- length(unique(gaps$series))
  where <- if (is.null(panel)) "" else sprintf(" for %s = %s", panel_label(panel), panel_names[gaps$series[1]])
  warn_classed("time_gap", sprintf(paste0("`%s` skips periods in %d series (%d gap(s); first%s: %d period(s) missing between ",
                              "%s and %s). Carry-over decays over missing periods, as if there were no spend in them"),
                       time, n_series, nrow(gaps), where, gaps$missing[1], format(gaps$before[1]),
                       format(gaps$after[1])))
}
