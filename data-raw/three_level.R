# Regenerates data/three_level.rda, the three-level panel with a targeted
# campaign of vignette("three-level-causal") (Ni et al.'s analysis).
# Run from the package root after installing the current package
# (R CMD INSTALL .), so that the installed simulator is the one in R/:
#   Rscript data-raw/three_level.R
# tests/testthat/test-simulate-three-level-causal.R checks that the shipped
# data still equal simulate_three_level_causal(seed = 2024); rerun this
# script (and data-raw/three_level_comparison.R, whose shipped results are
# computed from these data) whenever the simulator changes.
library(hbmmm)

sim <- simulate_three_level_causal(seed = 2024)
three_level <- sim$data
# Keep the truth with the data so that users can check what they estimate.
attr(three_level, "truth") <- sim$truth
attr(three_level, "effects") <- sim$effects
attr(three_level, "cost") <- sim$cost
attr(three_level, "campaign_start") <- sim$params$campaign_start

save(three_level, file = "data/three_level.rda", compress = "xz")
