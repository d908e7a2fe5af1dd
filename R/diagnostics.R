# Convergence diagnostics of Vehtari, Gelman, Simpson, Carpenter & Buerkner
# (2021). Results match posterior 1.4.0 (rhat, ess_bulk, ess_tail, mcse_mean)
# to rounding. The computation is in C (src/draws_summary.c), one pass per
# variable for every statistic; the exported single-variable functions and
# summarise_draws_table() are thin wrappers around it.

#' Convergence diagnostics for MCMC draws
#'
#' Rank-normalized diagnostics of Vehtari et al. (2021), computed exactly as the
#' \pkg{posterior} package does, for the draws of one quantity.
#'
#' * `rhat()`: the larger of the rank-normalized split-R-hat and the
#'   rank-normalized split-R-hat of the draws folded around their median
#'   (`abs(x - median(x))`). Values above 1.01 signal chains that have not
#'   mixed.
#' * `ess_bulk()`: effective sample size of the rank-normalized split chains,
#'   a measure of how well the centre of the distribution is estimated.
#' * `ess_tail()`: the smaller of the effective sample sizes of the indicators
#'   `x <= q05` and `x <= q95`, for the reliability of 5% and 95% quantiles.
#' * `mcse_mean()`: Monte Carlo standard error of the posterior mean,
#'   `sd(x) / sqrt(ess_mean)`, where `ess_mean` is the effective sample size
#'   of the (not rank-normalized) split chains.
#'
#' Chains are split in half (the middle draw is dropped when the number of
#' iterations is odd). Ranks use the fractional offset 3/8 and average ties.
#' Autocorrelations are computed by FFT and truncated with Geyer's initial
#' positive and initial monotone sequences; the effective sample size is
#' capped at `S * log10(S)` for `S` draws, as in \pkg{posterior}.
#'
#' Edge cases follow \pkg{posterior}: any `NA` gives `NA`; infinite draws still
#' get rank-based `rhat()` and `ess_bulk()` but `NA` for `ess_tail()` and a
#' non-finite `mcse_mean()`; constant draws give `NA`. Chains that are each
#' constant but at different values give `rhat() = Inf` (\pkg{posterior}
#' returns a huge finite number there, from rounding). `rhat()` needs at least
#' 4 iterations and the effective sample sizes at least 6 (3 per half-chain);
#' fewer give `NA` (\pkg{posterior} 1.4.0 returns numbers for 2 or 3
#' iterations of several chains, an artefact of its chain splitting).
#'
#' @param x Draws of one quantity: a numeric matrix with one row per iteration
#'   and one column per chain, or a numeric vector (a single chain).
#' @return A single number (`NA` when undefined, see Details).
#' @references Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and
#'   Buerkner, P.-C. (2021). Rank-normalization, folding, and localization: an
#'   improved R-hat for assessing convergence of MCMC. *Bayesian Analysis*,
#'   16(2), 667-718. \doi{10.1214/20-BA1221}
#' @examples
#' set.seed(1)
#' draws <- matrix(rnorm(4000), nrow = 1000, ncol = 4) # iterations x chains
#' rhat(draws)
#' ess_bulk(draws)
#' ess_tail(draws)
#' mcse_mean(draws)
#'
#' # Chains stuck in different places are flagged.
#' stuck <- sweep(draws, 2, c(0, 0, 0, 3), "+")
#' rhat(stuck)
#' @name convergence
NULL

#' @rdname convergence
#' @export
rhat <- function(x) {
  unname(draws_stats(as_draws_cube(x))[, "rhat"])
}

#' @rdname convergence
#' @export
ess_bulk <- function(x) {
  unname(draws_stats(as_draws_cube(x))[, "ess_bulk"])
}

#' @rdname convergence
#' @export
ess_tail <- function(x) {
  unname(draws_stats(as_draws_cube(x))[, "ess_tail"])
}

#' @rdname convergence
#' @export
mcse_mean <- function(x) {
  unname(draws_stats(as_draws_cube(x))[, "mcse_mean"])
}

# Summary table used by summary() of a fit.
# draws: numeric array [iteration, chain, variable] with variable names in
# dimnames(draws)[[3]]. Returns one row per variable with mean, sd, the
# quantiles in `probs` (columns named as posterior::quantile2 names them,
# e.g. q2.5), rhat, ess_bulk, ess_tail and mcse_mean; the values agree with
# posterior::summarise_draws().
summarise_draws_table <- function(draws, probs = c(0.025, 0.975), vars = NULL) {
  if (!is.array(draws) || length(dim(draws)) != 3L ||
      !(is.numeric(draws) || is.logical(draws))) {
    abort_input("draws", sprintf(
      "must be a numeric array [iteration, chain, variable]; found %s",
      describe_value(draws)))
  }
  nm <- dimnames(draws)[[3L]]
  if (dim(draws)[3L] == 0L) nm <- character(0) # e.g. a fit with no kept variable
  if (is.null(nm) || anyNA(nm)) {
    abort_input("draws", "needs variable names in dimnames(draws)[[3]]")
  }
  if (any(dim(draws)[1:2] == 0L)) {
    abort_input("draws", "must hold at least one iteration and one chain")
  }
  if (!is.numeric(probs) || length(probs) == 0L || anyNA(probs) ||
      any(probs < 0 | probs > 1)) {
    abort_input("probs", sprintf("must be probabilities in [0, 1]; found %s",
                                 describe_value(probs)))
  }
  st <- draws_stats(draws, probs, vars)
  if (!is.null(vars)) nm <- nm[vars]
  out <- data.frame(variable = as.character(nm), st, check.names = FALSE, stringsAsFactors = FALSE)
  rownames(out) <- NULL
  out
}

# Every statistic of every variable of a draws array [iteration, chain,
# variable]: a matrix with columns mean, sd, one per quantile (named as
# posterior::quantile2 names them, e.g. q2.5), rhat, ess_bulk, ess_tail,
# mcse_mean. `vars`: indices of the variables to summarise (rows in that
# order), NULL for all; a subset this way costs no copy of its draws.
draws_stats <- function(draws, probs = numeric(0), vars = NULL) {
  d <- dim(draws)
  if (!is.double(draws)) storage.mode(draws) <- "double"
  out <- .Call(C_hb_draws_summary, draws, as.integer(d), as.double(probs),
               if (is.null(vars)) NULL else as.integer(vars))
  colnames(out) <- c("mean", "sd", if (length(probs)) paste0("q", probs * 100),
                     "rhat", "ess_bulk", "ess_tail", "mcse_mean")
  out
}

# The table of a fit's population-level parameters (every variable but the
# group-level effects r_...) at 95% intervals: computed once after sampling
# and kept in the fit as `fit$diagnostics`, then reused by the checks after
# sampling, summary() and print() for as long as the fit holds the draws it
# was computed from (a continued fit has more iterations, hence another key).
population_table <- function(fit, probs = c(0.025, 0.975)) {
  d <- fit$draws
  key <- draws_key(d)
  cached <- fit$diagnostics
  if (is.list(cached) && identical(cached$key, key) && identical(cached$probs, probs)) return(cached$table)
  summarise_draws_table(d, probs, vars = which(!startsWith(dimnames(d)[[3L]], "r_")))
}

# fit with fit$diagnostics computed for its current draws.
with_diagnostics <- function(fit) {
  probs <- c(0.025, 0.975)
  fit$diagnostics <- list(key = draws_key(fit$draws), probs = probs, table = population_table(fit, probs))
  fit
}

# Identifies a draws array: its dimensions, names and last iteration.
draws_key <- function(d) {
  list(dim = dim(d), names = dimnames(d)[[3L]], last = d[dim(d)[1L], , , drop = TRUE])
}

# ---------------------------------------------------------------------------
# Internals

# Validate `x` of the exported functions and return it as a double array
# [iteration, chain, 1].
as_draws_cube <- function(x, arg = "x") {
  if (!is.numeric(x) || is.data.frame(x)) {
    abort_input(arg, sprintf(
      "must be a numeric vector or an iterations x chains matrix; found %s",
      describe_value(x)))
  }
  d <- dim(x)
  if (is.null(d) || length(d) == 1L) {
    d <- c(length(x), 1L)
  } else if (length(d) != 2L) {
    abort_input(arg, sprintf(
      "must be a vector or an iterations x chains matrix; found an array with %d dimensions",
      length(d)))
  }
  if (any(d == 0L)) {
    abort_input(arg, "must hold at least one draw; found none")
  }
  array(as.double(x), c(d, 1L))
}
