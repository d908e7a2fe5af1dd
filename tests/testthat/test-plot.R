# Plots draw without error at the default PNG size and return their data.

plot_fit_fixture <- function() {
  if (is.null(.fit_fixture_cache$plot_fit)) {
    .fit_fixture_cache$plot_fit <- quiet_sampling(
      hbmmm(sales ~ tv + search + price + (1 + tv + search | market), data = small_panel(),
            media = c("tv", "search"), time = "week", chains = 2, iter = 120, seed = 2, refresh = 0))
  }
  .fit_fixture_cache$plot_fit
}

to_png <- function(expr) {
  path <- tempfile(fileext = ".png")
  grDevices::png(path)
  on.exit(if (grDevices::dev.cur() > 1) grDevices::dev.off())
  value <- force(expr)
  grDevices::dev.off()
  expect_gt(file.size(path), 1000)
  value
}

test_that("draw diagnostics plots return the draws they show", {
  fit <- plot_fit_fixture()
  tr <- to_png(plot(fit, type = "trace", variable = c("b_tv", "decay_tv")))
  expect_identical(names(tr), c("b_tv", "decay_tv"))
  expect_equal(tr$b_tv, unname(fit$draws[, , "b_tv"]))
  rk <- to_png(plot(fit, type = "rank", variable = "b_tv"))
  expect_equal(sum(rk$b_tv), length(fit$draws[, , "b_tv"]))
  dn <- to_png(plot(fit, type = "dens", variable = "sigma"))
  expect_equal(dn$sigma$mean, mean(fit$draws[, , "sigma"]))
  expect_equal(dn$sigma$interval, unname(quantile(fit$draws[, , "sigma"], c(0.025, 0.975))))
  ac <- to_png(plot(fit, type = "acf", variable = "b_price"))
  expect_equal(ac$b_price[1, ], c(1, 1))
  expect_equal(ac$b_price[2, 1], acf(fit$draws[, 1, "b_price"], plot = FALSE)$acf[2])
  expect_length(to_png(plot(fit)), 9) # default: nine population-level variables
  expect_input_error(plot(fit, type = "nope"), "type")
  expect_input_error(plot(fit, variable = "b_nope"), "variable")
})

test_that("effects, violin, fit and predictive-check plots return their data", {
  fit <- plot_fit_fixture()
  ef <- to_png(plot(fit, type = "effects"))
  cm <- hbmmm:::mmm_components(fit)
  expect_equal(ef$mean[ef$channel == "tv"], mean(cm$media$tv))
  vi <- to_png(plot(fit, type = "violin"))
  co <- coef(fit)$market
  expect_equal(vi$effect[vi$channel == "search"], co$Estimate[co$term == "search"])
  ft <- to_png(plot(fit, type = "fit"))
  d <- small_panel()
  expect_equal(ft$observed, as.vector(tapply(d$sales, d$week, sum)))
  expect_equal(ft$fitted, as.vector(tapply(colMeans(cm$mu), d$week, sum)))
  pp <- to_png(pp_check(fit))
  expect_identical(dim(pp$yrep), c(50L, nrow(d)))
  expect_equal(pp$y, d$sales)
  expect_identical(to_png(plot(fit, type = "ppc"))$yrep, pp$yrep)
  ph <- to_png(pp_check(fit, type = "hist"))
  expect_identical(nrow(ph$yrep), 8L)
  f0 <- quiet_sampling(hbmmm(sales ~ price + (1 | market), data = d, time = "week", chains = 1, iter = 30,
                             seed = 1, refresh = 0))
  expect_input_error(plot(f0, type = "violin"), "type")
  expect_input_error(plot(f0, type = "effects"), "type")
})
