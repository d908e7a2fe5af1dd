# Memory at the size of the seed's larger analysis: 12,000,000 rows
# (500,000 individuals x 24 months in 50 markets), 4 channels with estimated
# geometric adstock and Hill saturation, intercept and media slopes by
# individual and by market; individual-level effects kept as online
# summaries only. Measures the peak resident memory of the whole process
# (data, model building and sampler) and the seconds per Gibbs iteration
# after model building, on one core (threads = 1), and projects a run of
# 4 chains x 2,000 iterations on 2 cores. Target: fits in 24 GB.
# Run: Rscript inst/bench/gibbs_12m.R [iterations, default 20] [individuals, default 500000]
suppressPackageStartupMessages(library(hbmmm))
args <- commandArgs(trailingOnly = TRUE)
iter <- if (length(args) >= 1) as.integer(args[1]) else 20L
n_ind <- if (length(args) >= 2) as.integer(args[2]) else 500000L
src <- if (file.exists("inst/bench/scale_panel.R")) "inst/bench/scale_panel.R" else
  system.file("bench", "scale_panel.R", package = "hbmmm", mustWork = TRUE)
source(src)
t_data <- system.time(panel <- make_scale_panel(n_ind, 24L, 50L, n_channels = 4L))[["elapsed"]]
cat(sprintf("data: %d rows generated in %.0f s; peak memory so far %.2f GB\n", nrow(panel$data), t_data, peak_rss_gb()))
# model building alone (the spec), then the fit, which builds it again: the
# difference is the sampler's time
t_spec <- system.time(spec <- hbmmm_spec(panel$formula, data = panel$data, media = panel$channels,
                                         time = "week", panel = "individual"))[["elapsed"]]
rm(spec)
gc()
t_fit <- system.time(fit <- suppressWarnings(hbmmm(panel$formula, data = panel$data, media = panel$channels,
                                                    time = "week", panel = "individual", chains = 1,
                                                    iter = iter, warmup = iter %/% 2, seed = 1, refresh = 0)))[["elapsed"]]
per_iter <- max(t_fit - t_spec, 0) / iter
cat(sprintf(paste0("%d rows (%d individuals x 24 months, 50 markets), 4 channels, 1 chain x %d iterations, 1 thread\n",
                   "  model building %.0f s; whole fit %.0f s; about %.1f s per iteration\n",
                   "  peak resident memory of the process: %.2f GB (machine: 24 GB) %s\n",
                   "  projection, 4 chains x 2,000 iterations on 2 cores: %.1f h\n"),
            nrow(panel$data), n_ind, iter, t_spec, t_fit, per_iter, peak_rss_gb(),
            if (peak_rss_gb() < 24) "OK" else "TOO LARGE", 2 * 2000 * per_iter / 3600))
