# Regenerates data/brand_weekly.rda, the weekly brand series of the
# budget-optimization case study's vignette. Run from the package root after
# installing the current package (R CMD INSTALL .):
#   Rscript data-raw/brand_weekly.R
# tests/testthat/test-simulate.R checks that the shipped data still equal
# simulate_brand(seed = 2025); rerun this script whenever the simulator changes.
library(hbmmm)

sim <- simulate_brand(seed = 2025)
brand_weekly <- sim$data
# The truth travels with the data so users can check what a fit recovers.
attr(brand_weekly, "truth") <- sim$truth
attr(brand_weekly, "roi") <- sim$roi

save(brand_weekly, file = "data/brand_weekly.rda", compress = "xz")
