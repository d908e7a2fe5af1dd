# Organic channels (hbmmm(organic = )): modelled like every channel, but with
# no spend, so no ROI and never any budget.

test_that("organic channels get contributions and curves, never an ROI or a budget", {
  d <- small_panel()
  args <- list(sales ~ tv + search + social + price + (1 | market), data = d,
               media = c("tv", "search", "social"), time = "week", chains = 1, iter = 200, seed = 3, refresh = 0)
  paid <- quiet_sampling(do.call(hbmmm, args))
  fit <- quiet_sampling(do.call(hbmmm, c(args, list(organic = "social"))))
  # the model is the same: only what the decisions do with the channel changes
  expect_identical(fit$draws, paid$draws)
  expect_identical(fit$spec$organic, "social")
  r <- roi(fit)
  expect_identical(r$channel, c("tv", "search"))
  expect_equal(r$roi, roi(paid)$roi[1:2], tolerance = 1e-12)
  cv <- response_curves(fit)
  expect_true("social" %in% cv$curves$channel)
  expect_identical(cv$curves$organic, cv$curves$channel == "social")
  expect_identical(roi(cv)$channel, c("tv", "search"))
  a <- suppressWarnings(allocate_budget(fit), classes = "hbmmm_warning_extrapolation")
  expect_identical(a$table$channel, c("tv", "search"))
  expect_output(print(a), "Organic channels \\(no spend, not allocated\\): social")
  expect_false("social" %in% allocate_budget(cv, budget = 40)$table$channel)
  bt <- suppressWarnings(budget_for_target(fit, target = 0.5 * sum(a$table$response)),
                         classes = "hbmmm_warning_extrapolation")
  expect_false("social" %in% bt$table$channel)
  cb <- contributions(fit, by = "total")
  expect_true("social" %in% cb$totals$component)
  # by-segment curves keep the flag on every segment's organic curve
  cvg <- suppressWarnings(response_curves(fit, group = "market"))
  expect_identical(cvg$curves$organic, cvg$curves$channel == "social")
})

test_that("organic must name media channels, with classed errors", {
  d <- small_panel()
  expect_input_error(hbmmm_spec(sales ~ tv + search, data = d, media = c("tv", "search"), time = "week", panel = "market",
                                organic = "radio"), "organic")
  expect_input_error(hbmmm_spec(sales ~ tv + search, data = d, media = c("tv", "search"), time = "week", panel = "market",
                                organic = 1), "organic")
  expect_input_error(hbmmm_spec(sales ~ tv + search, data = d, media = c("tv", "search"), time = "week", panel = "market",
                                organic = NA_character_), "organic")
  spec <- hbmmm_spec(sales ~ tv + search, data = d, media = c("tv", "search"), time = "week", panel = "market",
                     organic = c("tv", "search"))
  fit <- quiet_sampling(hbmmm(sales ~ tv + search, data = d, media = c("tv", "search"), time = "week", panel = "market",
                              organic = c("tv", "search"), chains = 1, iter = 60, seed = 1, refresh = 0))
  expect_input_error(roi(fit), "x")
  expect_input_error(allocate_budget(fit), "x")
  expect_identical(spec$organic, c("tv", "search"))
})
