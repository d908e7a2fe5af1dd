# Draws in other shapes, interoperability, and saving a fit.

fit_for_draws <- function() {
  quiet_sampling(hbmmm(sales ~ tv + price + (1 + tv | market), data = mmm_weekly, media = "tv", time = "week",
                       chains = 2, iter = 300, seed = 4, refresh = 0))
}

test_that("as.array, as.matrix and as.data.frame hold the same draws", {
  fit <- fit_for_draws()
  a <- as.array(fit)
  expect_identical(a, fit$draws)
  m <- as.matrix(fit)
  expect_identical(dim(m), c(300L, dim(a)[3]))
  expect_identical(m[151:300, "b_tv"], a[, 2, "b_tv"])
  df <- as.data.frame(fit, variable = c("b_tv", "decay_tv"))
  expect_named(df, c(".chain", ".iteration", ".draw", "b_tv", "decay_tv"))
  expect_identical(df$b_tv[df$.chain == 1], unname(a[, 1, "b_tv"]))
  expect_identical(nobs(fit), nrow(mmm_weekly))
  expect_input_error(as.array(fit, variable = "b_tvv"), "variable")
})

test_that("posterior and coda read fits directly, with the same diagnostics", {
  skip_if_not_installed("posterior")
  fit <- fit_for_draws()
  da <- posterior::as_draws_array(fit)
  expect_s3_class(da, "draws_array")
  expect_identical(posterior::variables(da), dimnames(fit$draws)[[3]])
  s <- posterior::summarise_draws(posterior::subset_draws(da, variable = c("b_tv", "sigma")),
                                  "rhat", "ess_bulk")
  ours <- summary(fit)$table
  expect_equal(as.numeric(s$rhat), ours$rhat[match(s$variable, ours$variable)], tolerance = 1e-10)
  expect_equal(as.numeric(s$ess_bulk), ours$ess_bulk[match(s$variable, ours$variable)], tolerance = 1e-10)
  skip_if_not_installed("coda")
  ml <- coda::as.mcmc.list(fit)
  expect_length(ml, 2)
  expect_identical(coda::varnames(ml), dimnames(fit$draws)[[3]])
})

test_that("saveRDS/readRDS round-trips a fit exactly", {
  fit <- fit_for_draws()
  f <- tempfile(fileext = ".rds")
  saveRDS(fit, f)
  back <- readRDS(f)
  expect_identical(back$draws, fit$draws)
  expect_identical(summary(back)$table, summary(fit)$table)
  expect_identical(capture.output(print(back)), capture.output(print(fit)))
  expect_identical(as.data.frame(back), as.data.frame(fit))
})
