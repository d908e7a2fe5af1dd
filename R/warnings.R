# Post-sampling warnings, in one home for every sampler: the checks Stan
# runs after sampling (R-hat, bulk and tail ESS, divergences, tree depth,
# E-BFMI), each raised as a classed warning so that it can be caught or
# silenced with suppressWarnings().

RHAT_LIMIT <- 1.01
ESS_LIMIT <- 400
EBFMI_LIMIT <- 0.3

#' Check a fit for sampling problems
#'
#' Runs the checks that Stan runs after sampling and raises one classed
#' warning (all of class `hbmmm_warning`) per problem found:
#'
#' * `hbmmm_warning_rhat`: some parameter has R-hat above 1.01;
#' * `hbmmm_warning_ess`: some parameter has bulk or tail effective sample
#'   size below 400;
#' * `hbmmm_warning_divergent` (NUTS): transitions after warmup ended with a
#'   divergence;
#' * `hbmmm_warning_treedepth` (NUTS): transitions after warmup hit the
#'   maximum tree depth;
#' * `hbmmm_warning_ebfmi` (NUTS): a chain has E-BFMI below 0.3 (see [ebfmi()]).
#'
#' R-hat and ESS are checked on the population-level parameters (every
#' parameter except the group-level effects `r_...`, which are many and are
#' summarized, not checked), as `summary()` shows them. [hbmmm()] calls it at
#' the end of sampling and keeps the table in the fit, so that `summary()`
#' and `print()` do not compute it again. Silence the warnings with
#' [suppressWarnings()].
#'
#' @param fit An `hbmmm_fit`.
#' @return Invisibly, a list: `rhat` and `ess` (names of the parameters
#'   flagged), `divergent` and `treedepth` (counts), `ebfmi` (per chain, or
#'   `NULL` for samplers without energy).
#' @examples
#' fit <- hbmmm(sales ~ tv + price, data = mmm_weekly, media = "tv", time = "week",
#'              panel = "market", chains = 2, iter = 200, seed = 1, refresh = 0)
#' res <- withCallingHandlers(check_sampling(fit),
#'   hbmmm_warning = function(w) invokeRestart("muffleWarning"))
#' res$ess
#' @seealso [summary.hbmmm_fit()], [ebfmi()], [rhat()]
#' @export
check_sampling <- function(fit) {
  if (!inherits(fit, "hbmmm_fit")) {
    abort_input("fit", sprintf("must be an hbmmm_fit; found %s", describe_value(fit)))
  }
  tab <- population_table(fit)
  out <- list(rhat = character(0), ess = character(0), divergent = 0L, treedepth = 0L, ebfmi = NULL)
  bad_rhat <- which(tab$rhat > RHAT_LIMIT)
  if (length(bad_rhat)) {
    out$rhat <- tab$variable[bad_rhat]
    warn_classed("rhat", sprintf(paste0(
      "%d parameter(s) have R-hat above %.2f (largest %.3f, `%s`), indicating that the chains have not mixed. ",
      "Running the chains for more iterations may help."),
      length(bad_rhat), RHAT_LIMIT, max(tab$rhat[bad_rhat]), tab$variable[bad_rhat][which.max(tab$rhat[bad_rhat])]))
  }
  low_bulk <- which(tab$ess_bulk < ESS_LIMIT)
  low_tail <- which(tab$ess_tail < ESS_LIMIT)
  if (length(low_bulk) || length(low_tail)) {
    out$ess <- tab$variable[sort(union(low_bulk, low_tail))]
    msg <- character(0)
    if (length(low_bulk)) {
      msg <- c(msg, sprintf(paste0("Bulk effective sample size (ESS) is below %d for %d parameter(s) (smallest %.0f), ",
                                   "so posterior means and medians may be unreliable."),
                            ESS_LIMIT, length(low_bulk), min(tab$ess_bulk[low_bulk])))
    }
    if (length(low_tail)) {
      msg <- c(msg, sprintf(paste0("Tail effective sample size (ESS) is below %d for %d parameter(s) (smallest %.0f), ",
                                   "so posterior variances and tail quantiles may be unreliable."),
                            ESS_LIMIT, length(low_tail), min(tab$ess_tail[low_tail])))
    }
    warn_classed("ess", paste(c(msg, "Running the chains for more iterations may help."), collapse = " "))
  }
  sd <- fit$sampler_diagnostics
  if (!is.null(sd$divergent)) {
    nd <- sum(sd$divergent > 0, na.rm = TRUE)
    out$divergent <- as.integer(nd)
    if (nd > 0) {
      warn_classed("divergent", sprintf(paste0(
        "There were %d divergent transition(s) after warmup (of %d). The posterior may be biased there; ",
        "increase `adapt_delta` above its current value or reparameterize the model."),
        nd, length(sd$divergent)))
    }
  }
  if (!is.null(sd$treedepth)) {
    mt <- fit$control$max_treedepth
    if (!is.null(mt)) {
      nt <- sum(sd$treedepth >= mt, na.rm = TRUE)
      out$treedepth <- as.integer(nt)
      if (nt > 0) {
        warn_classed("treedepth", sprintf(paste0(
          "%d transition(s) after warmup (of %d) hit the maximum tree depth of %d, so the sampler explored slowly; ",
          "increase `max_treedepth`."), nt, length(sd$treedepth), mt))
      }
    }
  }
  if (!is.null(sd$energy)) {
    e <- ebfmi(fit)
    out$ebfmi <- e
    low <- which(e < EBFMI_LIMIT)
    if (length(low)) {
      warn_classed("ebfmi", sprintf(paste0(
        "%d of %d chain(s) had an E-BFMI below %.1f (chain %s: %s), indicating that the sampler may not explore the ",
        "posterior well; reparameterizing the model may help."),
        length(low), length(e), EBFMI_LIMIT, paste(low, collapse = ", "),
        paste(sprintf("%.3f", e[low]), collapse = ", ")))
    }
  }
  invisible(out)
}

#' Energy Bayesian fraction of missing information
#'
#' E-BFMI of each chain of a NUTS fit: the sum of squared differences of
#' successive energies divided by the sum of squared deviations of the
#' energies from their mean. Values below 0.3 suggest that the momentum
#' resampling does not explore the energy distribution well (Betancourt,
#' 2016).
#'
#' @param x An `hbmmm_fit` sampled with NUTS, or a numeric matrix of
#'   energies (rows: iterations after warmup, columns: chains).
#' @return A numeric vector, one value per chain.
#' @references Betancourt, M. (2016). Diagnosing suboptimal cotangent
#'   disintegrations in Hamiltonian Monte Carlo. arXiv:1604.00695.
#' @examples
#' set.seed(1)
#' energy <- matrix(rnorm(2000), 1000, 2) # independent energies: E-BFMI near 2
#' ebfmi(energy)
#' ebfmi(apply(energy, 2, cumsum)) # a random walk: E-BFMI near 0
#' @export
ebfmi <- function(x) {
  e <- if (inherits(x, "hbmmm_fit")) {
    if (is.null(x$sampler_diagnostics$energy)) {
      abort(sprintf("E-BFMI needs the energy of a Hamiltonian sampler; this fit was sampled with `%s`", x$sampler),
            class = c("hbmmm_unsupported_error", "hbmmm_input_error"), arg = "x")
    }
    x$sampler_diagnostics$energy
  } else x
  if (is.numeric(e) && is.null(dim(e))) e <- matrix(e, ncol = 1)
  if (!is.numeric(e) || !is.matrix(e) || nrow(e) < 2 || anyNA(e) || any(!is.finite(e))) {
    abort_input("x", sprintf("must be an hbmmm_fit from NUTS or a finite numeric matrix of energies with at least 2 rows; found %s",
                             describe_value(x)))
  }
  apply(e, 2, function(v) sum(diff(v)^2) / sum((v - mean(v))^2))
}
