# Small argument helpers shared by the R layer.

match_choice <- function(x, choices, arg) {
  if (identical(x, choices)) return(choices[1L])
  if (!is.character(x) || length(x) != 1L || is.na(x) || !x %in% choices) {
    abort_input(arg, sprintf("must be one of %s; found %s",
                             paste0("\"", choices, "\"", collapse = ", "), describe_value(x)))
  }
  x
}

check_flag <- function(x, arg) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) abort_input(arg, sprintf("must be TRUE or FALSE; found %s", describe_value(x)))
  x
}

check_count <- function(x, arg, min = 0, max = 1e5) {
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || x != round(x) || x < min || x > max) {
    abort_input(arg, sprintf("must be a whole number in [%s, %s]; found %s",
                             format(min), format(max), describe_value(x)))
  }
  as.integer(x)
}

# Snapshot of the caller's random number generator (kind and state, or the
# absence of a state); returns a function that puts it back. Used wherever
# hbmmm seeds its own streams, so a seeded call leaves the session as it was.
save_rng <- function() {
  genv <- globalenv()
  had <- exists(".Random.seed", envir = genv, inherits = FALSE)
  old <- if (had) get(".Random.seed", envir = genv, inherits = FALSE)
  kind <- RNGkind()
  function() {
    # suppressWarnings: restoring a "Rounding" sample.kind warns again
    suppressWarnings(RNGkind(kind[1], kind[2], kind[3]))
    if (had) {
      assign(".Random.seed", old, envir = genv)
    } else if (exists(".Random.seed", envir = genv, inherits = FALSE)) {
      rm(".Random.seed", envir = genv)
    }
  }
}

check_seed <- function(seed) {
  if (!is.numeric(seed) || length(seed) != 1L || !is.finite(seed) || seed != round(seed) ||
      abs(seed) > .Machine$integer.max) {
    abort_input("seed", sprintf("must be NULL or one whole number; found %s", describe_value(seed)))
  }
  as.integer(seed)
}

# Print named values as "name = value" pairs, wrapped at the console width
# between pairs, never inside one.
cat_pairs <- function(values, digits) {
  pairs <- paste(names(values), "=", format(values, digits = digits, trim = TRUE))
  line <- cumsum(nchar(pairs) + 2L) %/% (getOption("width") - 2L)
  cat(paste0("  ", tapply(pairs, line, paste, collapse = ", ")), sep = ",\n")
  cat("\n")
}

# Seed a reproducible stream (Mersenne-Twister, whatever RNGkind() the
# session uses) and return the function that restores the caller's
# generator; NULL when no seed is given.
sim_seed <- function(seed) {
  if (is.null(seed)) return(NULL)
  seed <- check_seed(seed)
  restore <- save_rng()
  set.seed(seed, kind = "Mersenne-Twister", normal.kind = "Inversion", sample.kind = "Rejection")
  restore
}
