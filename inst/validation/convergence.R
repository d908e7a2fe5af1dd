# Convergence checks of the Gibbs sampler on the package's own structures,
# with hbmmm()'s defaults unless stated: every population-level parameter
# (fixed effects, transforms, group-level sds and correlations, sigma) must
# reach R-hat <= 1.01 and bulk ESS >= 400.
#  1. the scale benchmark's model at 120,000 rows (6,000 individuals x 20
#     weeks, 30 markets), 2 chains x 2,000 iterations on 2 cores, in under
#     5 minutes;
#  2. simulate_personalized(seed = 1) and 3. simulate_three_level(seed = 1),
#     fitted with their formula and arguments (4 chains on 2 cores).
# Run: Rscript inst/validation/convergence.R [which: all, scale, personalized, three_level]
suppressPackageStartupMessages(library(hbmmm))
which_check <- commandArgs(trailingOnly = TRUE)
if (!length(which_check)) which_check <- "all"
src <- if (file.exists("inst/bench/scale_panel.R")) "inst/bench/scale_panel.R" else
  system.file("bench", "scale_panel.R", package = "hbmmm", mustWork = TRUE)
source(src)

report <- function(label, fit, seconds, limit = Inf) {
  tab <- summary(fit)$table
  pop <- tab[!startsWith(tab$variable, "r_"), ]
  worst_r <- pop[which.max(pop$rhat), ]
  worst_e <- pop[which.min(pop$ess_bulk), ]
  ok <- max(pop$rhat) <= 1.01 && min(pop$ess_bulk) >= 400 && seconds <= limit
  cat(sprintf(paste0("%s: %d population-level parameters; max R-hat %.4f (`%s`), min bulk ESS %.0f (`%s`); ",
                     "%.0f s%s  %s\n"),
              label, nrow(pop), worst_r$rhat, worst_r$variable, worst_e$ess_bulk, worst_e$variable, seconds,
              if (is.finite(limit)) sprintf(" (limit %.0f s)", limit) else "", if (ok) "PASS" else "FAIL"))
  invisible(ok)
}

timed_fit <- function(...) {
  t <- system.time(fit <- suppressWarnings(hbmmm(...)))[["elapsed"]]
  list(fit = fit, seconds = t)
}

if (which_check %in% c("all", "scale")) {
  panel <- make_scale_panel(6000L, 20L, 30L)
  r <- timed_fit(panel$formula, data = panel$data, media = panel$channels, time = "week", panel = "individual",
                 chains = 2, cores = 2, iter = 2000, seed = 1, refresh = 0)
  report("120,000 rows, 2 chains x 2,000", r$fit, r$seconds, limit = 300)
}
for (what in c("personalized", "three_level")) {
  if (!which_check %in% c("all", what)) next
  sim <- if (what == "personalized") simulate_personalized(seed = 1) else simulate_three_level(seed = 1)
  r <- do.call(timed_fit, c(list(sim$formula, data = sim$data), sim$hbmmm_args,
                            list(cores = 2, seed = 1, refresh = 0)))
  report(sprintf("simulate_%s(seed = 1), %d rows, hbmmm() defaults", what, nrow(sim$data)), r$fit, r$seconds)
}
