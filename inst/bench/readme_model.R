# Benchmark: both samplers on the README's model (mmm_weekly: 5 channels with
# estimated geometric adstock and Hill saturation, controls, market-level
# intercepts and tv slopes) at hbmmm()'s defaults, in one run. Prints, per
# sampler, convergence (max R-hat, min bulk and tail ESS over every
# population-level parameter, transforms included), negative draws of each
# channel's population effect and of each market's tv effect (population
# plus group-level), NUTS divergences and max tree depth, and min bulk ESS
# per second of the whole call, with the NUTS / Gibbs ratio; then both
# samplers again with log-normal (multiplicative) market effects of tv.
# Targets (issue 12): R-hat <= 1.01, bulk and tail ESS >= 400, no negative
# effect; NUTS without divergences, < 1% at max tree depth, ESS per second
# at least a tenth of Gibbs's (the goal is parity).
# Run: Rscript inst/bench/readme_model.R [gibbs chains, default 4] [nuts chains, default 2] [nuts iterations, default 1000]
suppressPackageStartupMessages(library(hbmmm))
args <- commandArgs(trailingOnly = TRUE)
gibbs_chains <- if (length(args) >= 1) as.integer(args[1]) else 4L
nuts_chains <- if (length(args) >= 2) as.integer(args[2]) else 2L
nuts_iter <- if (length(args) >= 3) as.integer(args[3]) else 1000L
data("mmm_weekly", package = "hbmmm", envir = environment())
channels <- c("tv", "search", "social", "display", "email")
f <- sales ~ tv + search + social + display + email + price + promo + season_sin + season_cos + (1 + tv | market)

run <- function(...) {
  t <- system.time(fit <- suppressWarnings(hbmmm(f, data = mmm_weekly, media = channels, time = "week",
                                                 seed = 1, refresh = 0, ...)))[["elapsed"]]
  list(fit = fit, seconds = t)
}

report <- function(label, r) {
  fit <- r$fit
  tab <- summary(fit)$table
  pop <- tab[!startsWith(tab$variable, "r_"), ]
  d <- fit$draws # iterations x chains x variables
  vars <- dimnames(d)[[3]]
  neg_b <- vapply(paste0("b_", channels), function(v) sum(d[, , v] < 0), 0)
  tv_cols <- grep("^r_market\\[.*,tv\\]$", vars, value = TRUE)
  neg_tv <- if (length(tv_cols)) sum(sweep(matrix(d[, , tv_cols], ncol = length(tv_cols)), 1, c(d[, , "b_tv"]), `+`) < 0) else NA
  ess_s <- min(pop$ess_bulk) / r$seconds
  cat(sprintf("%s: %d chains x %d iterations, %.1f s for the whole call\n", label, dim(d)[2],
              fit$control$iter, r$seconds))
  cat(sprintf("  max R-hat %.3f (`%s`); min bulk ESS %.0f (`%s`); min tail ESS %.0f (`%s`) over %d parameters\n",
              max(pop$rhat), pop$variable[which.max(pop$rhat)], min(pop$ess_bulk),
              pop$variable[which.min(pop$ess_bulk)], min(pop$ess_tail), pop$variable[which.min(pop$ess_tail)],
              nrow(pop)))
  cat(sprintf("  negative draws of channel effects: %s; of market tv effects: %s of %d\n",
              paste(sprintf("%s %d", channels, neg_b), collapse = ", "), format(neg_tv),
              length(tv_cols) * dim(d)[1] * dim(d)[2]))
  if (identical(fit$sampler, "nuts")) {
    sd <- fit$sampler_diagnostics
    # hbmmm()'s default max_treedepth is 10
    cat(sprintf("  divergent transitions %d; at max tree depth %.1f%%; step sizes %s\n",
                sum(sd$divergent), 100 * mean(sd$treedepth >= 10),
                paste(format(unique(signif(sd$stepsize, 3)), digits = 3), collapse = ", ")))
  }
  cat(sprintf("  min bulk ESS per second: %.1f\n", ess_s))
  ess_s
}

g <- run(chains = gibbs_chains, cores = min(gibbs_chains, 2L))
e_g <- report("Gibbs (defaults)", g)
n <- run(sampler = "nuts", chains = nuts_chains, iter = nuts_iter, cores = min(nuts_chains, 2L))
e_n <- report("NUTS", n)
cat(sprintf("NUTS / Gibbs min bulk ESS per second: %.3f (target >= 0.1, goal 1)\n", e_n / e_g))
# the same model with multiplicative (log-normal) market effects of tv
gl <- run(chains = gibbs_chains, cores = min(gibbs_chains, 2L), media_effects = "log_normal")
e_gl <- report("Gibbs, media_effects = \"log_normal\"", gl)
nl <- run(sampler = "nuts", chains = nuts_chains, iter = nuts_iter, cores = min(nuts_chains, 2L),
          media_effects = "log_normal")
e_nl <- report("NUTS, media_effects = \"log_normal\"", nl)
cat(sprintf("log-normal: NUTS / Gibbs min bulk ESS per second: %.3f\n", e_nl / e_gl))
