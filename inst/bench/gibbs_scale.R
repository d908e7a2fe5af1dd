# Benchmark: a 1,200,000-row individual-level MMM (60,000 individuals x 20
# weeks in 50 markets, 5 channels with estimated geometric adstock and Hill
# saturation, random intercepts and media slopes by individual and by
# market), by default 4 chains x 700 Gibbs iterations (150 warmup) on
# both cores, two chains at a time with one thread each (4 chains on 2
# cores is the issue's setting; 150 warmup sweeps suffice since each
# channel's transforms start at their conditional mode after 20, and the
# sampling phase's independence proposals are fitted at that mode again 24
# sweeps before the warmup's end). The anchor is the published run of this
# model: 18.76 hours and 64 GB.
# The number a user cares about is the time until every population-level
# parameter has a bulk ESS of 400 (goal <= 10 min, peak memory < 4 GB):
# the whole call with the warmup counted in full and the kept draws scaled
# to what ESS 400 needs (at the measured ESS per kept draw).
# Run: Rscript inst/bench/gibbs_scale.R [iterations per chain, default 700]
#      [individuals, default 60000] [threads, default 2: used with one chain]
#      [chains, default 4] [warmup, default 150]
# With chains > 1 the chains run two at a time (cores = 2), one thread each.
suppressPackageStartupMessages(library(hbmmm))
args <- commandArgs(trailingOnly = TRUE)
iter <- if (length(args) >= 1) as.integer(args[1]) else 700L
n_ind <- if (length(args) >= 2) as.integer(args[2]) else 60000L
threads <- if (length(args) >= 3) as.integer(args[3]) else 2L
chains <- if (length(args) >= 4) as.integer(args[4]) else 4L
warm <- if (length(args) >= 5) as.integer(args[5]) else 150L
cores <- min(chains, 2L)
if (chains > 1L) threads <- 1L
n_weeks <- 20L
n_mkt <- 50L
channels <- c("tv", "search", "social", "display", "email")

src <- if (file.exists("inst/bench/scale_panel.R")) "inst/bench/scale_panel.R" else
  system.file("bench", "scale_panel.R", package = "hbmmm", mustWork = TRUE)
source(src)

# peak memory of the whole process tree (the forked chains included):
# a shell loop samples the summed resident size of this process and its
# children twice a second
mem_log <- tempfile()
system(sprintf(paste("(peak=0; while kill -0 %d 2>/dev/null; do",
                     "s=$(ps -o rss= --pid %d --ppid %d | awk '{t+=$1} END {print t+0}');",
                     "[ \"$s\" -gt \"$peak\" ] && peak=$s && echo $peak > %s; sleep 0.5; done)"),
               Sys.getpid(), Sys.getpid(), Sys.getpid(), mem_log), wait = FALSE)
peak_tree_gb <- function() {
  v <- suppressWarnings(as.numeric(readLines(mem_log, warn = FALSE)))
  if (length(v)) max(v) / 1024^2 else NA_real_
}

t_data <- system.time(panel <- make_scale_panel(n_ind, n_weeks, n_mkt))[["elapsed"]]
d <- panel$data
f <- panel$formula
tm <- system.time(fit <- hbmmm(f, data = d, media = channels, time = "week", panel = "individual",
                               chains = chains, cores = cores, iter = iter, warmup = warm, seed = 1,
                               threads = threads,
                               refresh = max(iter %/% 10, 1)))
t_fit <- tm[["elapsed"]]
t_cpu <- tm[["user.self"]] + tm[["sys.self"]]
cat(sprintf("\n%d rows (%d individuals x %d weeks, %d markets), %d channels, %d iterations (%d warmup), %d chain(s) on %d core(s), %d thread(s) each\n",
            nrow(d), n_ind, n_weeks, n_mkt, length(channels), iter, warm, chains, cores, threads))
cat(sprintf("  data generation %.1f s; fit %.1f s elapsed, %.1f s CPU (%.1f ms per iteration, model building included)\n",
            t_data, t_fit, t_cpu, 1e3 * t_fit / iter))
t_samp <- fit$timing[["elapsed"]]
cat(sprintf("  sampling %.1f s (%.1f ms per iteration and chain), model building and checks %.1f s\n",
            t_samp, 1e3 * t_samp * min(chains, 2L) / (iter * chains), t_fit - t_samp))
rss <- max(peak_rss_gb(), peak_tree_gb(), na.rm = TRUE)
cat(sprintf("  peak resident memory of the process and its chains: %.2f GB (target < 4 GB) %s\n", rss,
            if (isTRUE(rss < 4)) "OK" else "CHECK"))
acc <- apply(fit$sampler_diagnostics$accept, 3, mean)
cat(sprintf("  Metropolis acceptance of the transforms after warmup: %s\n",
            paste(sprintf("%s %.2f", channels, acc), collapse = ", ")))
tab <- summary(fit)$table
print(tab[!grepl("^(r|cor)_", tab$variable), c("variable", "mean", "q2.5", "q97.5", "rhat", "ess_bulk")],
      row.names = FALSE, digits = 3)
# effective draws, the number a user cares about: the smallest bulk ESS over
# all population-level parameters (transforms and group-level sds included)
pop <- tab[!startsWith(tab$variable, "r_"), ]
min_ess <- min(pop$ess_bulk, na.rm = TRUE)
t_400 <- (t_fit - t_samp) + t_samp * (warm + (iter - warm) * 400 / min_ess) / iter
max_rhat <- max(pop$rhat, na.rm = TRUE)
# a verdict only for converged chains, and without extrapolating beyond the
# draws this run has: below ESS 400 the time is a projection
met <- max_rhat <= 1.01 && min_ess >= 400 && t_400 <= 600
cat(sprintf(paste0("  effective draws: min bulk ESS %.1f over %d population-level parameters (`%s`), max R-hat %.3f;\n",
                   "  %.3f per second of the whole call; time to ESS 400 for all of them: %.1f min%s (goal <= 10 min) %s\n"),
            min_ess, nrow(pop), pop$variable[which.min(pop$ess_bulk)], max_rhat, min_ess / t_fit, t_400 / 60,
            if (min_ess < 400) ", projected" else "", if (met) "MET" else "NOT MET"))
cat(sprintf("  ratio to the published run (18.76 h, ESS > 1,000): %.0fx sooner to ESS 400\n", 18.76 * 3600 / t_400))
