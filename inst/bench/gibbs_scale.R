# Benchmark: a 1,200,000-row individual-level MMM (60,000 individuals x 20
# weeks in 50 markets, 5 channels with estimated geometric adstock and Hill
# saturation, random intercepts and media slopes by individual and by
# market), 1 chain x 2,000 Gibbs iterations using both cores (threads = 2).
# Targets: at most 10 minutes, peak memory under 4 GB. The anchor is the
# published run of this model: 18.76 hours and 64 GB.
# The number a user cares about is the last: the time for every
# population-level parameter to reach a bulk ESS of 400 (goal <= 10 min).
# Run: Rscript inst/bench/gibbs_scale.R [iterations, default 2000] [individuals, default 60000]
#      [threads, default 2] [chains, default 1]
# With chains > 1 the chains run two at a time (cores = 2), one thread each
# (the issue's setting: 4 chains on 2 cores; about 4 times the 1-chain run's
# time at 1.2M rows, since each chain has its own warmup).
suppressPackageStartupMessages(library(hbmmm))
args <- commandArgs(trailingOnly = TRUE)
iter <- if (length(args) >= 1) as.integer(args[1]) else 2000L
n_ind <- if (length(args) >= 2) as.integer(args[2]) else 60000L
threads <- if (length(args) >= 3) as.integer(args[3]) else 2L
chains <- if (length(args) >= 4) as.integer(args[4]) else 1L
cores <- min(chains, 2L)
if (chains > 1L) threads <- 1L
n_weeks <- 20L
n_mkt <- 50L
channels <- c("tv", "search", "social", "display", "email")

src <- if (file.exists("inst/bench/scale_panel.R")) "inst/bench/scale_panel.R" else
  system.file("bench", "scale_panel.R", package = "hbmmm", mustWork = TRUE)
source(src)

t_data <- system.time(panel <- make_scale_panel(n_ind, n_weeks, n_mkt))[["elapsed"]]
d <- panel$data
f <- panel$formula
tm <- system.time(fit <- hbmmm(f, data = d, media = channels, time = "week", panel = "individual",
                               chains = chains, cores = cores, iter = iter, warmup = iter %/% 2, seed = 1,
                               threads = threads,
                               refresh = max(iter %/% 10, 1)))
t_fit <- tm[["elapsed"]]
t_cpu <- tm[["user.self"]] + tm[["sys.self"]]
cat(sprintf("\n%d rows (%d individuals x %d weeks, %d markets), %d channels, %d iterations, %d chain(s) on %d core(s), %d thread(s) each\n",
            nrow(d), n_ind, n_weeks, n_mkt, length(channels), iter, chains, cores, threads))
cat(sprintf("  data generation %.1f s; fit %.1f s elapsed, %.1f s CPU (%.1f ms per iteration, model building included)\n",
            t_data, t_fit, t_cpu, 1e3 * t_fit / iter))
full <- 2000 / iter * t_fit
cat(sprintf("  2000 iterations: %.1f min (target <= 10 min) %s\n", full / 60, if (full <= 600) "OK" else "SLOW"))
rss <- peak_rss_gb()
cat(sprintf("  peak resident memory of the process: %.2f GB (target < 4 GB) %s\n", rss,
            if (isTRUE(rss < 4)) "OK" else "CHECK"))
cat(sprintf("  ratio to the published run (18.76 h): %.0fx faster\n", 18.76 * 3600 / full))
tab <- summary(fit)$table
print(tab[!grepl("^(r|cor)_", tab$variable), c("variable", "mean", "q2.5", "q97.5", "rhat", "ess_bulk")],
      row.names = FALSE, digits = 3)
# effective draws, the number a user cares about: the smallest bulk ESS over
# all population-level parameters (transforms and group-level sds included)
pop <- tab[!startsWith(tab$variable, "r_"), ]
min_ess <- min(pop$ess_bulk, na.rm = TRUE)
ess_per_s <- min_ess / t_fit
cat(sprintf(paste0("  effective draws: min bulk ESS %.1f over %d population-level parameters (`%s`), %.3f per second;\n",
                   "  ESS 400 for all of them at this rate: about %.1f min (goal <= 10 min)\n"),
            min_ess, nrow(pop), pop$variable[which.min(pop$ess_bulk)], ess_per_s, 400 / ess_per_s / 60))
