# S3 methods for specs and fits: summary() computes, print() formats.

#' @export
print.hbmmm_spec <- function(x, ...) {
  cat("<hbmmm_spec>", deparse1(x$formula), "\n")
  cat(sprintf("  %d observations", x$nobs))
  if (length(x$ranef)) {
    cat(";", paste(sprintf("%s (%d levels)", names(x$ranef),
                           vapply(x$ranef, function(t) length(t$levels), 1L)), collapse = ", "))
  }
  cat("\n")
  if (length(x$media)) {
    tr <- x$transforms
    series <- if (!is.null(x$panel)) sprintf("within `%s`", x$panel) else "over all rows"
    along <- if (!is.null(x$time)) sprintf("along `%s` ", x$time) else "in row order "
    cat(sprintf("  media: adstock runs %s%s\n", along, series))
    sp <- spend_columns(x)
    for (ch in x$media) {
      lag <- tr$max_lag[[ch]]
      money <- if (ch %in% x$organic) ", organic (no spend)" else if (sp[[ch]] != ch) sprintf(", spend in `%s`", sp[[ch]]) else ""
      cat(sprintf("    %-10s %s adstock (%s%s), %s saturation%s\n", ch, tr$adstock[[ch]],
                  if (is.null(lag)) "infinite memory" else paste("max_lag", lag),
                  if (tr$normalize[[ch]]) ", normalized" else "", tr$saturation[[ch]], money))
    }
    fx <- tr$pars[tr$pars$fixed, , drop = FALSE]
    if (nrow(fx)) cat("  fixed transform parameters:", paste(fx$name, "=", format(fx$value), collapse = ", "), "\n")
  }
  if (!is.null(x$population)) {
    cat(sprintf("  per capita: response and media divided by `%s`; results in the data's units\n", x$population))
  }
  if (!is.null(x$sigma_by)) cat(sprintf("  residual sd by `%s` (%d levels)\n", x$sigma_by, length(x$sigma_group$levels)))
  if (any(x$weights != 1)) cat("  observation weights given\n")
  cat("Priors:\n")
  print_priors(x)
  invisible(x)
}

print_priors <- function(x) {
  pr <- x$priors
  rows <- c(
    stats::setNames(vapply(pr$b, format, ""), paste0("b_", ifelse(x$X$names == "(Intercept)", "Intercept", x$X$names))),
    if (x$horseshoe) c("media b" = paste("horseshoe:", format(pr$horseshoe))),
    unlist(lapply(names(pr$cov), function(g) {
      cv <- pr$cov[[g]]
      lab <- paste0("cov_", g)
      val <- switch(cv$type,
        hw_full = sprintf("%s on each sd (per unit of its predictor), uniform correlations (Huang-Wand)", format(cv$dist)),
        hw_diag = sprintf("%s on each sd (per unit of its predictor)", format(cv$dist)),
        full = format(cv$dist),
        diag = paste(vapply(cv$dist, format, ""), collapse = "; "),
        factor = sprintf("factor model, %d factor(s): loadings %s, uniquenesses %s (relative to the term scales)",
                         cv$nf, format(cv$loadings), format(cv$psi)))
      stats::setNames(val, lab)
    })),
    unlist(lapply(mult_blocks(x), function(b) { # log-normal media effects
      stats::setNames(sprintf("%s on the log scale (log-normal effects: coefficient b_%s * exp(v), v ~ N(0, sd^2))",
                              format(pr$media_sd[[b$group]]), b$col),
                      sprintf("sd_%s__%s", b$group, b$col))
    })),
    c(sigma = paste(format(pr$sigma), "on sigma^2")),
    vapply(x$transforms$priors, format, ""),
    unlist(lapply(names(x$transforms$mixture), function(ch) { # a mixture's weights
      mb <- x$transforms$mixture[[ch]]
      if (mb$K < 2L) return(NULL)
      if (is.null(mb$priors$alpha)) {
        return(stats::setNames(sprintf("Dirichlet(%s) on the %d weights", format(signif(mb$e0, 3)), mb$K),
                               sprintf("weight_%s", ch)))
      }
      stats::setNames(sprintf("%s (stick-breaking, %d components)", format(mb$priors$alpha), mb$K),
                      paste0("alpha_", ch))
    })),
    if (isTRUE(x$transforms$mix_pool)) {
      pp <- MIX_POOL_PRIOR
      c(mix_pool = sprintf(paste0("components pooled: log halfsat ~ N(centre + mix_halfsat_mu, mix_halfsat_sd^2), ",
                                  "log slope ~ N(mix_slope_mu, mix_slope_sd^2); mu's normal(%s, %s) / normal(%s, %s), ",
                                  "sd's half_normal(%s) / half_normal(%s)"),
                           format(pp[1]), format(pp[2]), format(signif(pp[4], 3)), format(pp[5]), format(pp[3]), format(pp[6])))
    }
  )
  w <- max(nchar(names(rows)))
  cat(paste0("  ", formatC(names(rows), width = -w), "  ", rows, collapse = "\n"), "\n")
}

#' Summaries of a fitted hbmmm model
#'
#' `summary()` computes the posterior mean, sd, 2.5% and 97.5% quantiles,
#' R-hat, bulk and tail effective sample sizes and the Monte Carlo standard
#' error of every population-level parameter (and, with `ranef = TRUE`, of the
#' group-level effects whose draws are kept), plus sampler diagnostics.
#'
#' @param object,x An `hbmmm_fit`.
#' @param ranef Include group-level effects `r_...`?
#' @param prob Probability mass of the central credible intervals (as in
#'   brms and rstanarm): 0.95 gives the 2.5% and 97.5% quantiles, 0.9 the 5%
#'   and 95% ones.
#' @param digits Significant digits when printing.
#' @param ... Not used; any argument passed here is an error (a misspelled
#'   argument would otherwise be ignored silently).
#' @return `summary()`: an object of class `summary.hbmmm_fit`, a list with
#'   `table` (a data frame with columns `variable`, `mean`, `sd`, the two
#'   quantiles named `q<percent>` such as `q2.5` and `q97.5`, `rhat`,
#'   `ess_bulk`, `ess_tail`, `mcse_mean`; there is no `$fixed` element),
#'   `prob`, `accept` (mean acceptance per chain), `nuts` (NUTS diagnostics,
#'   or `NULL`), `control` (the run settings), `nobs`, `formula`,
#'   `prior_only`, `sampler`, `elapsed`, `ranef_summary` and, for a mixture of Hill
#'   curves, `mixture` ([mixture_weights()]). `print()`
#'   returns its argument invisibly.
#' @export
summary.hbmmm_fit <- function(object, ranef = FALSE, prob = 0.95, ...) {
  check_dots_empty(...)
  prob <- check_interval_prob(prob)
  probs <- interval_probs(prob)
  tab <- if (ranef) summarise_draws_table(object$draws, probs) else population_table(object, probs)
  acc <- object$sampler_diagnostics[["accept", exact = TRUE]]
  ctl <- object$control
  accept <- numeric(0)
  if (!is.null(acc) && dim(acc)[3]) {
    # fits made before hbmmm 0.1.0 kept warmup rows too
    legacy <- dim(acc)[1] == ctl$iter && ctl$warmup > 0 && dim(acc)[1] > dim(object$draws)[1]
    post <- if (legacy) acc[(ctl$warmup + 1):ctl$iter, , , drop = FALSE] else acc
    accept <- apply(post, 3, mean)
  }
  structure(list(
    table = tab,
    prob = prob,
    accept = accept,
    nuts = if (identical(object$sampler, "nuts")) nuts_diagnostics(object),
    control = ctl, nobs = object$spec$nobs, formula = object$spec$formula,
    prior_only = isTRUE(object$spec$prior_only), sampler = object$sampler, elapsed = object$timing[["elapsed"]],
    ranef_summary = object$ranef_summary,
    mixture = if (any(object$spec$transforms$components > 0)) mixture_weights(object, prob = prob)
  ), class = "summary.hbmmm_fit")
}

# Row order of a summary section: rows keep their order, except that the
# per-level rows of one family (sigma[<level>], ...) are sorted naturally,
# numbers by value (Geo2 before Geo10).
natural_order <- function(x) {
  fam <- sub("\\[.*$", "", x)
  key <- ifelse(grepl("\\[", x), x, formatC(seq_along(x), width = 15, flag = "0"))
  m <- gregexpr("[0-9]+", key)
  regmatches(key, m) <- lapply(regmatches(key, m), function(d) formatC(d, width = 15, flag = "0"))
  order(match(fam, unique(fam)), key)
}

# A section of the summary table: families of more than SUMMARY_MAX_LEVELS
# per-level rows (sigma[<level>], the sd of each level) print as one line
# with their range and worst diagnostics unless `all`.
SUMMARY_MAX_LEVELS <- 12L
print_summary_rows <- function(s, all) {
  fam <- sub("\\[.*$", "", rownames(s))
  big <- if (all) character(0) else names(which(table(fam[grepl("\\[", rownames(s))]) > SUMMARY_MAX_LEVELS))
  keep <- !fam %in% big | !grepl("\\[", rownames(s))
  if (any(keep)) print(s[keep, , drop = FALSE])
  for (f in big) {
    r <- s[fam == f & grepl("\\[", rownames(s)), , drop = FALSE]
    cat(sprintf("%s[<level>]: %d rows, estimates %s to %s; max R-hat %.3f, min bulk / tail ESS %d / %d (print(summary(fit), all = TRUE) lists them)\n",
                f, nrow(r), format(min(r$Estimate)), format(max(r$Estimate)), max(r$Rhat),
                as.integer(min(r$Bulk_ESS)), as.integer(min(r$Tail_ESS))))
  }
}

#' @rdname summary.hbmmm_fit
#' @param all Print every per-level row (e.g. one residual sd per level of
#'   `sigma_by`); by default a family of more than 12 is one line with its
#'   range and worst diagnostics.
#' @export
print.summary.hbmmm_fit <- function(x, digits = 3, all = FALSE, ...) {
  check_dots_empty(...)
  all <- check_flag(all, "all")
  ctl <- x$control
  if (!is.null(x$formula)) {
    cat(sprintf(" Formula: %s\n    Data: %d observations\n", deparse1(x$formula), x$nobs))
  } else {
    cat(sprintf("   Model: user log density, %d parameter(s)\n", nrow(x$table)))
  }
  cat(sprintf(" Sampler: %s, %d chain(s) x %d iterations (%d warmup, thin %d), %s\n",
              x$sampler, ctl$chains, ctl$iter, ctl$warmup, ctl$thin, format_secs(x$elapsed)))
  if (isTRUE(x$prior_only)) cat("   Draws: from the prior (prior_only = TRUE): the likelihood was left out\n")
  cat("\n")
  tab <- x$table
  prob <- if (is.null(x$prob)) 0.95 else x$prob # summaries saved before `prob` existed
  qcols <- paste0("q", interval_probs(prob) * 100)
  pct <- format(100 * prob)
  show <- data.frame(row.names = tab$variable, Estimate = tab$mean, Est.Error = tab$sd,
                     lo = tab[[qcols[1]]], hi = tab[[qcols[2]]], Rhat = tab$rhat,
                     Bulk_ESS = round(tab$ess_bulk), Tail_ESS = round(tab$ess_tail), check.names = FALSE)
  names(show)[3:4] <- paste0(c("l-", "u-"), pct, "% CI")
  # population-level quantities first (coefficients, then the media
  # transforms), then the group-level and residual scales
  groups <- list(
    "Population-level effects" = startsWith(tab$variable, "b_"),
    "Media transforms" = !grepl("^(b|sd|cor|sigma|r|hs)_|^sigma", tab$variable),
    "Group-level effects" = grepl("^(sd|cor)_", tab$variable),
    "Residual" = startsWith(tab$variable, "sigma"),
    "Shrinkage" = startsWith(tab$variable, "hs_"),
    "Group-level effects (draws kept)" = startsWith(tab$variable, "r_")
  )
  if (is.null(x$formula)) groups <- list(Parameters = rep(TRUE, nrow(tab)))
  for (g in names(groups)) {
    if (!any(groups[[g]])) next
    cat(g, ":\n", sep = "")
    s <- show[groups[[g]], , drop = FALSE]
    s <- s[natural_order(rownames(s)), , drop = FALSE]
    s[1:4] <- lapply(s[1:4], signif, digits)
    s$Rhat <- round(s$Rhat, 3)
    print_summary_rows(s, all)
    cat("\n")
  }
  if (length(x$accept)) {
    cat("Metropolis acceptance after warmup:", paste(sprintf("%s %.2f", names(x$accept), x$accept), collapse = ", "), "\n")
  }
  if (!is.null(x$nuts)) print_nuts_diagnostics(x$nuts)
  if (!is.null(x$mixture)) {
    cat("Mixture of Hill curves, components used (mixture_weights()):\n")
    print(x$mixture)
  }
  if (length(x$ranef_summary)) {
    cat("Summarized online (no draws kept):",
        paste(sprintf("%s (%d effects)", names(x$ranef_summary), vapply(x$ranef_summary, nrow, 1L)), collapse = ", "),
        "\n")
  }
  bad_rhat <- sum(x$table$rhat > 1.01, na.rm = TRUE)
  low_ess <- sum(pmin(x$table$ess_bulk, x$table$ess_tail) < 400, na.rm = TRUE)
  if (bad_rhat) cat(sprintf("Warning: %d parameter(s) have R-hat > 1.01; run longer chains.\n", bad_rhat))
  if (low_ess) cat(sprintf("Warning: %d parameter(s) have bulk or tail ESS < 400.\n", low_ess))
  invisible(x)
}

#' @rdname summary.hbmmm_fit
#' @export
print.hbmmm_fit <- function(x, digits = 3, ...) {
  check_dots_empty(...)
  print(summary(x), digits = digits)
  if (!is.null(x$spec$calibration)) print_lift_check(lift_check(x), digits = digits)
  if (!is.null(x$spec)) {
    cat("\nPriors:\n")
    print_priors(x$spec)
  }
  invisible(x)
}

# Per-chain NUTS diagnostics of a fit: divergent transitions, transitions
# that hit max_treedepth, E-BFMI, mean acceptance statistic, step size.
nuts_diagnostics <- function(fit) {
  sd <- fit$sampler_diagnostics
  list(n = nrow(sd$divergent),
       divergent = colSums(sd$divergent == 1),
       treedepth_hits = colSums(sd$treedepth >= fit$control$max_treedepth),
       max_treedepth = fit$control$max_treedepth,
       ebfmi = ebfmi(sd$energy),
       accept_stat = colMeans(sd$accept_stat),
       stepsize = vapply(fit$state, `[[`, 1, "stepsize"),
       n_leapfrog = colMeans(sd$n_leapfrog))
}

print_nuts_diagnostics <- function(d) {
  per_chain <- function(v, fmt) paste(sprintf(fmt, v), collapse = ", ")
  nc <- length(d$divergent)
  cat(sprintf("NUTS diagnostics (%d chain(s) x %d draws):\n", nc, d$n))
  cat(sprintf("  divergent transitions: %d (per chain %s)\n", sum(d$divergent), per_chain(d$divergent, "%d")))
  cat(sprintf("  at max_treedepth = %d: %d (per chain %s)\n", d$max_treedepth, sum(d$treedepth_hits),
              per_chain(d$treedepth_hits, "%d")))
  cat(sprintf("  E-BFMI per chain: %s\n", per_chain(d$ebfmi, "%.2f")))
  cat(sprintf("  mean accept_stat per chain: %s; step size %s; mean leapfrog steps %s\n",
              per_chain(d$accept_stat, "%.2f"), per_chain(d$stepsize, "%.3g"), per_chain(d$n_leapfrog, "%.1f")))
}
