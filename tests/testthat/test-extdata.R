# The precomputed results shipped for the mixture-of-Hills vignette
# (data-raw/mixture_fits.R) agree with the fit they ship and with the truth
# of mixture_audience.

test_that("the shipped mixture fits' weights and true-curve coverage follow from the shipped fit", {
  res <- readRDS(system.file("extdata", "mixture_fits.rds", package = "hbmmm"))
  expect_identical(sort(names(res$curves)), c("heterogeneous", "homogeneous"))
  expect_identical(res$table$model, rep(c("hill", "mixture"), 2))
  fit <- res$fit
  expect_s3_class(fit, "hbmmm_fit")
  expect_identical(unname(fit$spec$transforms$saturation[["tv"]]), "hill_mixture")
  m <- as.matrix(fit)
  K <- res$precomputed$components
  w <- m[, sprintf("weight_tv[%d]", seq_len(K))]
  expect_equal(rowSums(w), rep(1, nrow(w)), tolerance = 1e-8)
  expect_equal(res$weights$heterogeneous$weight, unname(colMeans(w)))
  # the default (Dirichlet) weights, and the pruning read from the shipped fit
  expect_identical(unname(fit$spec$transforms$mix_weights[["tv"]]), "dirichlet")
  expect_equal(res$pruning$heterogeneous$by_size, mixture_weights(fit)$by_size)
  expect_equal(res$pruning$heterogeneous$mean_used, mixture_weights(fit)$mean_used)
  # the 90% band of b_tv times the mixture, recomputed draw by draw in plain
  # R, holds the true curve on the share of the grid the table reports
  g <- res$truth_grid$heterogeneous
  hill <- function(x, h, s) x^s / (x^s + h^s)
  band <- vapply(g$x, function(x) {
    v <- m[, "b_tv"] * rowSums(w * hill(x, m[, sprintf("halfsat_tv[%d]", seq_len(K))],
                                          m[, sprintf("slope_tv[%d]", seq_len(K))]))
    stats::quantile(v, c(0.05, 0.95), names = FALSE)
  }, numeric(2))
  row <- res$table$audience == "heterogeneous" & res$table$model == "mixture"
  expect_equal(res$table$curve90[row], mean(g$curve >= band[1, ] & g$curve <= band[2, ]))
  # the true curve on the grid is the stored segments' mixture
  seg <- attr(mixture_audience, "segments")$heterogeneous
  expect_equal(g$curve, 300 * rowSums(sapply(1:3, function(k) seg$weight[k] * hill(g$x, seg$halfsat[k], seg$slope[k]))))
  # the shipped curves are the fit's draws
  cv <- res$curves$heterogeneous$mixture
  expect_true(all(cv$beta[, cv$curves$id == "tv"] %in% m[, "b_tv"]))
})
