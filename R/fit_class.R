# The fit object: one constructor for both samplers, and its validator.

#' The `hbmmm_fit` object
#'
#' [hbmmm()], [nuts()] and `update(fit, continue = TRUE)` return a list of
#' class `hbmmm_fit` (fits of [nuts()] on a user's log density also carry
#' the class `hbmmm_nuts_fit` first: they have draws but no model, so the
#' methods that need the model refuse them with an `hbmmm_no_model_error`).
#' Its components:
#'
#' | component | type | meaning |
#' |---|---|---|
#' | `draws` | numeric array `[iteration, chain, variable]` | the kept draws (after warmup, thinned); variables named `b_*`, `sd_*`, `cor_*`, `sigma`, transform parameters (`decay_tv`, ...), `hs_tau`, kept group-level effects `r_<group>[<level>,<term>]` |
#' | `sampler` | `"gibbs"` or `"nuts"` | the engine that made the draws |
#' | `sampler_diagnostics` | named list of arrays `[iteration, chain, ...]` | one row per kept draw: Gibbs `accept` (Metropolis acceptance per channel); NUTS `accept_stat`, `stepsize`, `treedepth`, `n_leapfrog`, `divergent`, `energy` |
#' | `ranef_summary` | named list of data frames (or empty) | online summaries (mean, sd, 2.5% and 97.5% quantiles) of group-level effects whose draws are not kept, one data frame per grouping term |
#' | `state` | list, one element per chain | the final state of each chain, from which `update(continue = TRUE)` continues |
#' | `spec` | `hbmmm_spec` or `NULL` | the model specification ([hbmmm_spec()]); `NULL` for [nuts()] on a user's density |
#' | `control` | list | run settings: `chains`, `iter` (all iterations run, continuations included), `warmup`, `thin`, `cores`, `refresh`, `seed`, and for NUTS `adapt_delta`, `max_treedepth`, `metric` |
#' | `timing` | named numeric | `elapsed` seconds of sampling; NUTS also `n_grad` (gradient evaluations) |
#' | `diagnostics` | list or `NULL` | the summary table of the population-level parameters (`table`), computed once after sampling and reused by [summary.hbmmm_fit()] while the draws are unchanged (`key`) |
#' | `model` | list or `NULL` | [nuts()] on a user's density: `log_density`, `grad`, `init` |
#' | `call` | call | the call that made the fit |
#' | `version` | `package_version` | the hbmmm version that made the fit |
#'
#' @name hbmmm_fit-class
#' @aliases hbmmm_fit hbmmm_nuts_fit
#' @seealso [hbmmm()], [summary.hbmmm_fit()], [as.matrix.hbmmm_fit()]
NULL

# A fit from its parts; `extra` holds sampler-specific components (`model`).
new_hbmmm_fit <- function(draws, sampler, sampler_diagnostics, state, spec, control, timing,
                          ranef_summary = list(), extra = list(), class = character(0)) {
  control$cluster <- NULL # connections to workers do not belong in a saved fit
  fit <- c(list(draws = draws, sampler = sampler, sampler_diagnostics = sampler_diagnostics,
                ranef_summary = ranef_summary, state = state, spec = spec, control = control,
                timing = timing, version = utils::packageVersion("hbmmm")), extra)
  validate_hbmmm_fit(structure(fit, class = c(class, "hbmmm_fit")))
}

# Checks the invariants every method relies on; an hbmmm_internal_error
# when one fails (a bug, never a user error).
validate_hbmmm_fit <- function(fit) {
  fail <- function(what) abort(sprintf("invalid hbmmm_fit: %s", what), class = "hbmmm_internal_error")
  d <- fit$draws
  if (!is.array(d) || length(dim(d)) != 3L || !is.double(d)) fail("`draws` must be a double array [iteration, chain, variable]")
  if (is.null(dimnames(d)[[3L]]) || anyDuplicated(dimnames(d)[[3L]])) fail("`draws` needs unique variable names")
  if (!fit$sampler %in% c("gibbs", "nuts")) fail("`sampler` must be \"gibbs\" or \"nuts\"")
  if (!is.list(fit$sampler_diagnostics)) fail("`sampler_diagnostics` must be a list")
  for (k in names(fit$sampler_diagnostics)) {
    x <- fit$sampler_diagnostics[[k]]
    if (!identical(dim(x)[1:2], dim(d)[1:2])) {
      fail(sprintf("sampler diagnostic `%s` must have one row per kept draw and one column per chain", k))
    }
  }
  if (!is.list(fit$state) || length(fit$state) != dim(d)[2L]) fail("`state` must hold one element per chain")
  if (!is.null(fit$spec) && !inherits(fit$spec, "hbmmm_spec")) fail("`spec` must be an hbmmm_spec or NULL")
  ctl <- fit$control
  if (!is.list(ctl) || !identical(as.integer(ctl$chains), dim(d)[2L])) fail("`control$chains` must equal the chains of `draws`")
  if (!is.numeric(fit$timing) || !"elapsed" %in% names(fit$timing)) fail("`timing` must hold `elapsed`")
  if (!is.list(fit$ranef_summary)) fail("`ranef_summary` must be a list")
  fit
}
