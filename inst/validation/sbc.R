# Long simulation-based calibration of the Gibbs sampler, for every feature
# set in sbc-core.R, and of NUTS on positive media effects. Usage: Rscript inst/validation/sbc.R [replicates, default 1000]
# Prints per parameter the chi-square p-value of rank uniformity and the
# mean normalized rank (0.5 expected).
args <- commandArgs(trailingOnly = TRUE)
R <- if (length(args)) as.integer(args[1]) else 1000L
core <- system.file("validation", "sbc-core.R", package = "hbmmm")
if (!nzchar(core)) core <- "inst/validation/sbc-core.R"
source(core)
runs <- list(media = function() sbc_run(R, first_seed = 10001),
             horseshoe = function() sbc_feature_ranks(sbc_draw_horseshoe, R, first_seed = 20001),
             factor = function() sbc_feature_ranks(sbc_draw_factor, R, first_seed = 30001),
             nested = function() sbc_feature_ranks(sbc_draw_nested, R, first_seed = 40001),
             huang_wand = function() sbc_feature_ranks(sbc_draw_huang_wand, R, first_seed = 50001),
             positive = function() sbc_feature_ranks(sbc_draw_positive, R, first_seed = 60001),
             positive_nuts = function() sbc_feature_ranks(sbc_draw_positive_nuts, R, thin = 4, first_seed = 70001),
             roi = function() sbc_feature_ranks(sbc_draw_roi, R, first_seed = 80001),
             roi_nuts = function() sbc_feature_ranks(sbc_draw_roi_nuts, R, thin = 4, first_seed = 90001))
ok <- TRUE
for (nm in names(runs)) {
  t0 <- proc.time()[["elapsed"]]
  res <- runs[[nm]]()
  cat(sprintf("\n== %s: %d replicates in %.0f s\n", nm, R, proc.time()[["elapsed"]] - t0))
  print(data.frame(p_value = signif(res$p_value, 3), mean_rank = round(res$mean_rank, 3)))
  ok <- ok && all(res$p_value > 0.001 / length(res$p_value))
}
cat(if (ok) "\ncalibrated: no parameter rejects rank uniformity (Bonferroni, 0.1%)\n"
    else "\nNOT calibrated: some parameter's ranks are not uniform\n")
