# Frequentist coverage of roi()'s 95% intervals on simulate_mmm() data
# fitted with the generating model (inst/validation/roi_coverage.R; 100
# simulations there: pooled 0.964 over 500 intervals, per channel 0.90 to
# 1.00). Here 12 simulations, 60 intervals: a sampler or roi() that lost the
# truth's scale would cover far less.
test_that("roi() intervals cover the true ROI near the nominal rate", {
  source(system.file("validation", "roi_coverage.R", package = "hbmmm"), local = TRUE)
  res <- roi_coverage_run(12, n_markets = 8, n_weeks = 104, first_seed = 101, chains = 2, cores = 1)
  tab <- roi_coverage_table(res)
  pooled <- tab$coverage[tab$channel == "(pooled)"]
  expect_gt(pooled, 0.85, label = sprintf("pooled coverage %.3f of 60 intervals", pooled))
  # and no channel misses most of the time
  expect_true(all(tab$coverage >= 0.5), label = paste(format(tab$coverage, digits = 2), collapse = " "))
})
