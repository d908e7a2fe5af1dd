# Small argument helpers shared by the R layer.

match_choice <- function(x, choices, arg) {
  if (identical(x, choices)) return(choices[1L])
  if (!is.character(x) || length(x) != 1L || is.na(x) || !x %in% choices) {
    abort_input(arg, sprintf("must be one of %s; found %s",
                             paste0("\"", choices, "\"", collapse = ", "), describe_value(x)))
  }
  x
}

check_count <- function(x, arg, min = 0, max = 1e5) {
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || x != round(x) || x < min || x > max) {
    abort_input(arg, sprintf("must be a whole number in [%s, %s]; found %s",
                             format(min), format(max), describe_value(x)))
  }
  as.integer(x)
}
