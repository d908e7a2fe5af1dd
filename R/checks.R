# Argument checks shared by many functions. (Checks of one topic stay in
# that topic's file; what several files need lives here.)

# `fit` must be an hbmmm_fit of a model: fits of nuts() on a user's log
# density (class hbmmm_nuts_fit) hold draws but no data or model, so
# anything that needs the linear predictor, the design or the media refuses
# them with a classed error instead of failing deep inside.
check_model_fit <- function(fit, arg = "fit", what = NULL) {
  if (!inherits(fit, "hbmmm_fit")) {
    abort_input(arg, sprintf("must be an hbmmm_fit; found %s", describe_value(fit)))
  }
  if (inherits(fit, "hbmmm_nuts_fit") || is.null(fit$spec)) {
    if (is.null(what)) what <- paste0(deparse(sys.call(-1L)[[1L]]), "()")
    abort(sprintf(paste0(
      "`%s` is a fit of nuts() on a user-supplied log density: it holds draws but no data or ",
      "model, so %s cannot be computed from it. Draw-based methods work: summary(), ",
      "as.matrix(), as_draws(), plot(type = \"trace\"), update(continue = TRUE)."), arg, what),
      class = c("hbmmm_no_model_error", "hbmmm_input_error"), arg = arg)
  }
  invisible(fit)
}

# Per-channel costs per unit of spend: finite and non-negative (a negative
# cost would reward spending and turn every allocation into "spend the
# maximum").
check_costs <- function(cost, arg = "cost") {
  bad <- !is.finite(cost) | cost < 0
  if (any(bad)) {
    i <- which(bad)[1]
    abort_input(arg, sprintf("must be finite and non-negative for every channel; found %s for %s",
                             format(cost[i]), if (is.null(names(cost))) paste("element", i) else names(cost)[i]))
  }
  cost
}

# Methods whose `...` exists only because the generic has it: anything passed
# there is a misspelled or misplaced argument, never silently ignored.
check_dots_empty <- function(...) {
  if (...length()) {
    nm <- names(list(...))
    what <- if (is.null(nm) || all(nm == "")) sprintf("%d unnamed argument(s)", ...length()) else
      paste0("`", nm[nm != ""], "`", collapse = ", ")
    abort_input("...", sprintf("unknown argument(s): %s; see the help page for the arguments allowed", what))
  }
  invisible(TRUE)
}

# Probability mass of a central interval: one number in (0, 1).
check_interval_prob <- function(prob, arg = "prob") {
  if (!is.numeric(prob) || length(prob) != 1L || !is.finite(prob) || prob <= 0 || prob >= 1) {
    abort_input(arg, sprintf("must be one probability in (0, 1), such as 0.9 for 90%% intervals; found %s",
                             describe_value(prob)))
  }
  as.double(prob)
}

# The one recycler of "one value, or one per key": a single unnamed value is
# repeated for every key; an unnamed vector with one value per key is taken
# in key order (when `in_order`); a named vector is matched by name. Names
# that are not keys are an error of class hbmmm_unknown_channel_error (with
# a suggestion); keys a named vector leaves out get `default`, or are an
# error when `default` is missing. NULL gives `default` for every key.
# `numeric`: the values must be numbers without NA; `choices`: the allowed
# values. Returns a vector named by `keys`, in their order.
recycle_named <- function(x, keys, arg, what = "channel", default, numeric = FALSE, choices = NULL,
                          in_order = TRUE) {
  k <- length(keys)
  has_default <- !missing(default)
  if (is.null(x)) {
    if (has_default) return(stats::setNames(rep(default, k), keys))
    abort_input(arg, sprintf("is missing; give one value or one per %s (%s)", what, paste(keys, collapse = ", ")))
  }
  if (is.list(x) && !is.data.frame(x) && !is.null(names(x)) && all(lengths(x) == 1L)) x <- unlist(x)
  if (!is.atomic(x) || !is.null(dim(x)) || !length(x) || (numeric && (!is.numeric(x) || anyNA(x)))) {
    abort_input(arg, sprintf("must be %s one value, one value per %s (%d) or a vector named by %s; found %s",
                             if (numeric) "numeric:" else "", what, k, what, describe_value(x)))
  }
  nm <- names(x)
  if (is.null(nm) || all(nm == "")) {
    if (length(x) == 1L) {
      x <- rep(x, k)
    } else if (!in_order || length(x) != k) {
      abort_input(arg, sprintf("must be one value, one value per %s (%d: %s) or a vector named by %s; found %s",
                               what, k, paste(keys, collapse = ", "), what, describe_value(x)))
    }
    out <- stats::setNames(x, keys)
  } else {
    if (any(nm == "") || anyDuplicated(nm)) {
      abort_input(arg, sprintf("must name each value once; found names %s", paste0("`", nm, "`", collapse = ", ")))
    }
    unknown <- setdiff(nm, keys)
    if (length(unknown)) {
      abort(sprintf("Invalid `%s`: %s `%s` is not one of %s%s", arg, what, unknown[1], paste(keys, collapse = ", "),
                    suggest_name(unknown[1], keys)),
            class = c("hbmmm_unknown_channel_error", "hbmmm_input_error"), arg = arg)
    }
    missing_keys <- setdiff(keys, nm)
    if (length(missing_keys) && !has_default) {
      abort_input(arg, sprintf("gives no value for %s `%s` (one value per %s: %s)", what, missing_keys[1], what,
                               paste(keys, collapse = ", ")))
    }
    out <- stats::setNames(rep(if (has_default) default else x[[1]], k), keys)
    out[nm] <- x
  }
  if (!is.null(choices)) {
    bad <- which(!out %in% choices)
    if (length(bad)) {
      abort_input(arg, sprintf("must be one of %s; found \"%s\" for %s `%s`",
                               paste0("\"", choices, "\"", collapse = ", "), out[bad[1]], what, keys[bad[1]]))
    }
  }
  if (numeric) storage.mode(out) <- "double"
  out
}
