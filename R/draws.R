# Draws of a fit in the shapes other tools expect, and lazy interoperability
# with posterior and coda (registered only when those packages load, so
# hbmmm does not depend on them).

#' Posterior draws of a fitted model
#'
#' `as.array()` returns the draws as an array `[iteration, chain, variable]`;
#' `as.matrix()` stacks the chains (rows: draws, chain by chain; columns:
#' variables); `as.data.frame()` adds `.chain`, `.iteration` and `.draw`
#' columns. When posterior or coda is installed, `posterior::as_draws_array()`
#' and friends, and `coda::as.mcmc.list()`, work on fits directly.
#'
#' @param x An `hbmmm_fit`.
#' @param variable Optional character vector of variables to keep (names as
#'   in `dimnames(as.array(x))[[3]]`).
#' @param row.names,optional Ignored (part of the `as.data.frame()` generic).
#' @param ... Unused.
#' @return An array, matrix or data frame of draws.
#' @examples
#' fit <- hbmmm(sales ~ tv + price + (1 | market), data = mmm_weekly, media = "tv",
#'              time = "week", chains = 2, iter = 400, seed = 1, refresh = 0)
#' dim(as.array(fit))
#' head(as.data.frame(fit, variable = c("b_tv", "decay_tv")))
#' nobs(fit)
#' @name hbmmm-draws
NULL

select_draws <- function(x, variable) {
  d <- x$draws
  if (is.null(variable)) return(d)
  if (!is.character(variable) || anyNA(variable)) {
    abort_input("variable", sprintf("must be a character vector of variable names; found %s", describe_value(variable)))
  }
  nm <- dimnames(d)[[3]]
  bad <- setdiff(variable, nm)
  if (length(bad)) {
    abort_input("variable", sprintf("`%s` is not a variable of this fit%s", bad[1], suggest_name(bad[1], nm)))
  }
  d[, , variable, drop = FALSE]
}

#' @rdname hbmmm-draws
#' @export
as.array.hbmmm_fit <- function(x, variable = NULL, ...) select_draws(x, variable)

#' @rdname hbmmm-draws
#' @export
as.matrix.hbmmm_fit <- function(x, variable = NULL, ...) {
  d <- select_draws(x, variable)
  m <- matrix(d, prod(dim(d)[1:2]), dim(d)[3])
  colnames(m) <- dimnames(d)[[3]]
  m
}

#' @rdname hbmmm-draws
#' @export
as.data.frame.hbmmm_fit <- function(x, row.names = NULL, optional = FALSE, variable = NULL, ...) {
  d <- select_draws(x, variable)
  ni <- dim(d)[1]
  nc <- dim(d)[2]
  out <- as.data.frame(as.matrix.hbmmm_fit(x, variable), optional = TRUE)
  cbind(data.frame(.chain = rep(seq_len(nc), each = ni), .iteration = rep(seq_len(ni), nc),
                   .draw = seq_len(ni * nc)), out)
}

#' @rdname hbmmm-draws
#' @param object An `hbmmm_fit`.
#' @importFrom stats nobs
#' @export
nobs.hbmmm_fit <- function(object, ...) object$spec$nobs

# Registered in .onLoad when posterior / coda are (or get) loaded.
as_draws_array.hbmmm_fit <- function(x, ...) posterior::as_draws_array(as.array.hbmmm_fit(x))
as_draws.hbmmm_fit <- function(x, ...) as_draws_array.hbmmm_fit(x)
as.mcmc.list.hbmmm_fit <- function(x, ...) {
  d <- x$draws
  coda::as.mcmc.list(lapply(seq_len(dim(d)[2]), function(i) coda::mcmc(d[, i, , drop = TRUE])))
}

# loo::loo() and loo::waic() on a fit: the pointwise log-likelihood with
# loo's own relative efficiencies.
loo.hbmmm_fit <- function(x, ..., r_eff = NULL) {
  ll <- log_lik.hbmmm_fit(x)
  if (is.null(r_eff)) {
    d <- dim(x$draws)
    r_eff <- loo::relative_eff(exp(ll), chain_id = rep(seq_len(d[2]), each = d[1]))
  }
  loo::loo(ll, r_eff = r_eff, ...)
}
waic_loo.hbmmm_fit <- function(x, ...) loo::waic(log_lik.hbmmm_fit(x), ...)

# Register an S3 method for a generic of a package that may load later.
register_s3 <- function(pkg, generic, class, fun) {
  register <- function(...) registerS3method(generic, class, fun, envir = asNamespace(pkg))
  if (isNamespaceLoaded(pkg)) register()
  setHook(packageEvent(pkg, "onLoad"), function(...) register())
}

.onLoad <- function(libname, pkgname) {
  register_s3("posterior", "as_draws_array", "hbmmm_fit", as_draws_array.hbmmm_fit)
  register_s3("posterior", "as_draws", "hbmmm_fit", as_draws.hbmmm_fit)
  register_s3("coda", "as.mcmc.list", "hbmmm_fit", as.mcmc.list.hbmmm_fit)
  register_s3("loo", "loo", "hbmmm_fit", loo.hbmmm_fit)
  register_s3("loo", "waic", "hbmmm_fit", waic_loo.hbmmm_fit)
  register_s3("rstantools", "log_lik", "hbmmm_fit", log_lik.hbmmm_fit)
  register_s3("rstantools", "posterior_predict", "hbmmm_fit", posterior_predict.hbmmm_fit)
  register_s3("rstantools", "posterior_epred", "hbmmm_fit", posterior_epred.hbmmm_fit)
  register_s3("bayesplot", "pp_check", "hbmmm_fit", pp_check.hbmmm_fit)
}
