# The units of a channel: what the model sees, and what the decisions are
# in. A channel's column is its exposure (or spend) per row; with
# `population`, the model sees the exposure and the response per capita
# (Meridian's convention for geo panels: sales and media scale with the
# population of the geo), and with `spend`, ROI, costs and allocation use
# a separate spend column. Everything a user reads is in the data's units:
# the per-row model quantities times the row's population
# (row_population()), and spend in the spend columns (spend_columns()).

# The population column: NULL, or one numeric column, positive and finite.
check_population <- function(population, data, media, response) {
  if (is.null(population)) return(NULL)
  check_column_name(population, data, "population")
  if (population %in% media) {
    abort_input("population", sprintf("column `%s` is a media channel; name the population column", population))
  }
  v <- data[[population]]
  if (!is.numeric(v) || anyNA(v) || any(!is.finite(v)) || any(v <= 0)) {
    bad <- if (is.numeric(v)) which(is.na(v) | !is.finite(v) | v <= 0)[1] else 1L
    abort_input("population", sprintf("column `%s` must hold positive, finite numbers in every row; found %s",
                                      population, if (is.numeric(v)) sprintf("%s at row %d", format(v[bad]), bad)
                                                  else describe_value(v)))
  }
  if (!is.name(response)) {
    abort_input("population", sprintf(paste0("needs a response that is a column (the model divides it by the population); ",
                                              "found `%s`: compute it as a column first"), deparse1(response)))
  }
  population
}

# The spend column of every channel: a named character vector (channel ->
# column), the channel's own column when not named, NA for organic channels
# (no spend).
check_spend_map <- function(spend, media, organic, data) {
  out <- stats::setNames(media, media)
  out[organic] <- NA_character_
  if (is.null(spend)) return(out)
  if (!is.character(spend) || is.null(names(spend)) || anyNA(spend) || any(names(spend) == "")) {
    abort_input("spend", sprintf("must be a character vector naming, for media channels, their spend column, e.g. c(tv = \"tv_spend\"); found %s",
                                 describe_value(spend)))
  }
  if (anyDuplicated(names(spend))) abort_input("spend", sprintf("names channel `%s` twice", names(spend)[anyDuplicated(names(spend))]))
  unknown <- setdiff(names(spend), media)
  if (length(unknown)) {
    abort_input("spend", sprintf("names `%s`, which is not a media channel (%s)%s", unknown[1],
                                 paste(media, collapse = ", "), suggest_name(unknown[1], media)))
  }
  org <- intersect(names(spend), organic)
  if (length(org)) abort_input("spend", sprintf("gives a spend column for `%s`, which is organic (no spend)", org[1]))
  for (ch in names(spend)) {
    check_column_name(spend[[ch]], data, "spend")
    v <- data[[spend[[ch]]]]
    if (!is.numeric(v) || anyNA(v) || any(!is.finite(v)) || any(v < 0)) {
      abort_input("spend", sprintf("column `%s` (spend of `%s`) must hold non-negative, finite numbers in every row",
                                   spend[[ch]], ch))
    }
    if (sum(v) > 0 && sum(data[[ch]]) == 0) {
      abort_input("spend", sprintf("channel `%s` has spend in `%s` but no exposure in `%s`", ch, spend[[ch]], ch))
    }
  }
  out[names(spend)] <- spend
  out
}

# The spend columns of a spec's channels (NA: organic). Specs made before
# spend mapping existed use each channel's own column.
spend_columns <- function(spec, media = spec$media) {
  sp <- spec$spend
  if (is.null(sp)) {
    sp <- stats::setNames(spec$media, spec$media)
    sp[spec$organic] <- NA_character_
  }
  sp[media]
}

# The spend columns with an organic channel's own (exposure) column standing
# in for its missing spend, where a number per channel is needed (curve
# reference spend, scenario totals, the spend behind ROI priors).
spend_or_exposure <- function(cols) {
  cols[is.na(cols)] <- names(cols)[is.na(cols)]
  cols
}

# The sum of each column `cols` (named by channel) over the rows of `d`.
column_totals <- function(d, cols) vapply(cols, function(cl) sum(d[[cl]]), numeric(1))

# Total spend of each (paid) channel over the rows of `data`.
spend_totals <- function(spec, data, media) column_totals(data, spend_columns(spec, media))

# The population of each row of `data` (NULL without population); for the
# training data in the model's row order use spec$pop.
row_population <- function(spec, data) {
  if (is.null(spec$population)) return(NULL)
  v <- data[[spec$population]]
  if (!is.numeric(v) || anyNA(v) || any(!is.finite(v)) || any(v <= 0)) {
    abort_input("newdata", sprintf("column `%s` (the population) must hold positive, finite numbers", spec$population))
  }
  as.double(v)
}

# The media of `data` in model units: per capita with a population.
model_media <- function(data, media, population = NULL) {
  m <- media_matrix(data, media)
  if (!is.null(population)) m <- m / data[[population]]
  m
}

# Spend per model unit of exposure for each channel: total spend over total
# exposure in the training data (1 when the channel is its own spend).
unit_cost <- function(spec, media = spec$media) {
  cols <- spend_columns(spec, media)
  data <- spec$data
  vapply(seq_along(media), function(i) {
    if (is.na(cols[i]) || cols[i] == media[i]) return(1)
    e <- sum(data[[media[i]]])
    if (e > 0) sum(data[[cols[i]]]) / e else 1
  }, numeric(1))
}

# A fit whose design rows are weighted by the population, so that sums over
# rows of the model's per-capita channel contributions (channel_totals())
# are totals in the data's units. Without population: the fit as is.
# (linear_sums() takes the population as row weights instead, since its
# controls are split around their per-row reference values.)
in_data_units <- function(fit) {
  pop <- fit$spec$pop
  if (is.null(pop)) return(fit)
  fit$spec$X$static <- fit$spec$X$static * pop
  for (g in names(fit$spec$ranef)) fit$spec$ranef[[g]]$Z$static <- fit$spec$ranef[[g]]$Z$static * pop
  fit
}
