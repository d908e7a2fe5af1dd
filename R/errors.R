# Classed conditions: the one home for how hbmmm reports bad input.
# Every error carries class c(<subclass>, "hbmmm_error", "error", "condition")
# and the offending argument name in `$arg`, so callers can catch precisely.

abort <- function(message, class = NULL, arg = NULL, call = NULL) {
  cond <- structure(
    class = c(class, "hbmmm_error", "error", "condition"),
    list(message = message, call = call, arg = arg)
  )
  stop(cond)
}

abort_input <- function(arg, message, call = NULL) {
  abort(sprintf("Invalid `%s`: %s", arg, message),
        class = "hbmmm_input_error", arg = arg, call = call)
}

# Classed warning c("hbmmm_warning_<what>", "hbmmm_warning", ...), so callers
# and tests can muffle exactly one kind.
warn_classed <- function(what, message) {
  warning(structure(class = c(paste0("hbmmm_warning_", what), "hbmmm_warning", "warning", "condition"),
                    list(message = message, call = NULL)))
}

# Called from C (see hb_input_error() in src/errors.c) so that argument
# checks done inside .Call entry points raise the same classed condition.
hb_raise_from_c <- function(arg, message) {
  abort_input(arg, message)
}

hb_sampler_error_from_c <- function(arg, message) {
  abort(paste0(message, "; check the scale of the data and the priors (extreme values can make the ",
               "sampler's linear algebra fail)"), class = "hbmmm_sampler_error")
}

# Short printable description of a value for error messages.
describe_value <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.function(x)) return("a function")
  cls <- class(x)[1L]
  if (is.atomic(x) && length(x) <= 4L && length(x) > 0L) {
    return(sprintf("%s %s", cls, paste(format(x, digits = 6), collapse = ", ")))
  }
  sprintf("%s of length %d", cls, length(x))
}
