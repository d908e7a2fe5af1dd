# Simulation-based calibration of the Gibbs sampler (quick version; the
# long one is inst/validation/sbc.R). Ranks of true values among posterior
# draws must be uniform when the sampler targets the right posterior.

test_that("the Gibbs sampler is calibrated on a small hierarchical MMM", {
  source(system.file("validation", "sbc-core.R", package = "hbmmm"), local = TRUE)
  R <- if (identical(Sys.getenv("HBMMM_LONG_TESTS"), "true")) 400 else 120
  res <- sbc_run(R)
  # Bonferroni over 10 parameters at an overall 1% level
  for (v in names(res$p_value)) {
    expect_gt(res$p_value[[v]], 0.001, label = sprintf("rank-uniformity p-value of %s", v))
  }
  # a biased sampler shifts mean ranks; 120 uniform ranks have sd ~ 0.026
  expect_true(all(abs(res$mean_rank - 0.5) < 0.1))
})
