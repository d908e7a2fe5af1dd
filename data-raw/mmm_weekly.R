# Regenerates data/mmm_weekly.rda, the example panel shipped with hbmmm.
# Run from the package root after installing the current package
# (R CMD INSTALL .), so that the installed simulate_mmm() is the one in R/:
#   Rscript data-raw/mmm_weekly.R
# tests/testthat/test-simulate.R checks that the shipped data still equal
# simulate_mmm(seed = 2024); rerun this script whenever the simulator changes.
library(hbmmm)

sim <- simulate_mmm(seed = 2024)
mmm_weekly <- sim$data
# Keep the true parameters with the data so users can check recovery.
attr(mmm_weekly, "truth") <- sim$truth

save(mmm_weekly, file = "data/mmm_weekly.rda", compress = "xz")
