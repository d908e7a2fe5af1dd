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
