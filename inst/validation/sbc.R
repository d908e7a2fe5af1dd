# Long simulation-based calibration of the Gibbs sampler.
# Usage: Rscript inst/validation/sbc.R [replicates, default 500]
# Prints per parameter the chi-square p-value of rank uniformity and the
# mean normalized rank (0.5 expected), and draws the rank histograms.
args <- commandArgs(trailingOnly = TRUE)
R <- if (length(args)) as.integer(args[1]) else 500L
core <- system.file("validation", "sbc-core.R", package = "hbmmm")
if (!nzchar(core)) core <- "inst/validation/sbc-core.R"
source(core)
t0 <- proc.time()[["elapsed"]]
res <- sbc_run(R)
cat(sprintf("%d replicates in %.0f s\n", R, proc.time()[["elapsed"]] - t0))
print(data.frame(p_value = signif(res$p_value, 3), mean_rank = round(res$mean_rank, 3)))
cat(if (all(res$p_value > 0.001)) "calibrated: no parameter rejects uniformity at 0.001\n"
    else "NOT calibrated: some parameter's ranks are not uniform\n")
grDevices::png("sbc-ranks.png", 1400, 900, res = 120)
graphics::par(mfrow = c(2, 5))
for (v in colnames(res$ranks)) graphics::hist(res$ranks[, v], breaks = seq(-0.5, 39.5, by = 5), main = v, xlab = "rank")
invisible(grDevices::dev.off())
