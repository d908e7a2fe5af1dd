# Sensitivity of channel ROI to alternative specifications.

test_that("sensitivity() refits each applicable scenario and tabulates ROI with intervals", {
  fit <- decide_fit(chains = 1, iter = 200)
  s <- sensitivity(fit, covariates = "promo", iter = 200, chains = 1)
  tab <- s$table
  expect_setequal(unique(tab$scenario), c("original", "prior_sd_x0.5", "prior_sd_x2", "prior_family",
                                          "train_split", "group_subsample", "covariates"))
  expect_identical(nrow(tab), 7L * length(fit$spec$media))
  orig <- tab[tab$scenario == "original", ]
  r <- roi(fit)
  expect_equal(orig$roi, r$roi)
  expect_equal(orig$change, rep(0, nrow(orig)))
  expect_true(all(tab$lower <= tab$roi & tab$roi <= tab$upper))
  expect_length(s$skipped, 0L)
  expect_output(print(s), "prior_sd_x2")
  f <- tempfile(fileext = ".png")
  grDevices::png(f, 900, 600)
  plot(s)
  grDevices::dev.off()
  expect_gt(file.size(f), 5000)
  # scenarios that do not apply are skipped and said
  s2 <- sensitivity(fit, scenarios = c("covariates", "prior_sd_x2"), iter = 100, chains = 1)
  expect_identical(names(s2$skipped), "covariates")
})

test_that("sensitivity() refuses unknown scenarios and covariates", {
  fit <- decide_fit(chains = 1, iter = 40)
  expect_input_error(sensitivity(fit, scenarios = "priors"), "scenarios")
  expect_input_error(sensitivity(fit, covariates = "promoo"), "covariates")
  expect_input_error(sensitivity(fit, train_fraction = 1.2), "train_fraction")
})
