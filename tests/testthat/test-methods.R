
test_that("the summary lists population-level quantities first, per-level rows naturally, long families as one line", {
  sim <- simulate_mmm(n_markets = 14, n_weeks = 20, channels = "tv", seed = 2)
  d <- sim$data
  d$geo <- paste0("Geo", as.integer(d$market) - 1L)
  fit <- quiet_sampling(hbmmm(sales ~ tv + price, data = d, media = "tv", time = "week", panel = "geo",
                              sigma_by = "geo", chains = 1, iter = 60, seed = 1, refresh = 0))
  out <- capture.output(print(summary(fit)))
  pos <- function(p) grep(p, out, fixed = TRUE)[1]
  expect_lt(pos("Population-level effects"), pos("Media transforms"))
  expect_lt(pos("Media transforms"), pos("Residual"))
  expect_true(any(grepl("^sigma\\[<level>\\]: 14 rows", out)))
  expect_false(any(grepl("sigma[Geo10]", out, fixed = TRUE)))
  all_rows <- capture.output(print(summary(fit), all = TRUE))
  geo <- regmatches(all_rows, regexpr("sigma\\[Geo[0-9]+\\]", all_rows))
  expect_identical(geo, sprintf("sigma[Geo%d]", 0:13))
  expect_input_error(print(summary(fit), all = NA), "all")
  expect_identical(hbmmm:::natural_order(c("b_x", "b_a", "s[G10]", "s[G2]", "s[G1]")), c(1L, 2L, 5L, 4L, 3L))
})

test_that("a fit keeps the user's call, not the data or hbmmm_spec() inlined in its spec", {
  d <- small_panel()
  fit <- quiet_sampling(hbmmm(sales ~ tv + price, d, media = "tv", time = "week", panel = "market",
                              chains = 1, iter = 20, seed = 1, refresh = 0))
  expect_identical(fit$spec$call, fit$call)
  expect_lt(length(serialize(fit$spec$call, NULL)), 5000)
})

test_that("summary() at 95% reuses the diagnostics the fit computed, and recomputes them for its own draws otherwise", {
  fit <- quiet_sampling(hbmmm(sales ~ tv + price, small_panel(), media = "tv", time = "week", panel = "market",
                              chains = 1, iter = 40, seed = 1, refresh = 0))
  expect_identical(fit$diagnostics$probs, c(0.025, 0.975))
  expect_identical(hbmmm:::interval_probs(0.95), c(0.025, 0.975))
  fresh <- summary(fit)$table
  # a marked cached table comes back as it is: no recomputation
  marked <- fit
  marked$diagnostics$table$mean[1] <- 12345
  expect_identical(summary(marked)$table$mean[1], 12345)
  # other probabilities, or draws that are not the cached ones, are computed
  expect_identical(summary(marked, prob = 0.9)$table$mean, fresh$mean)
  moved <- marked
  moved$draws[dim(moved$draws)[1], 1, 1] <- moved$draws[dim(moved$draws)[1], 1, 1] + 1
  expect_false(identical(summary(moved)$table$mean[1], 12345))
  # the cached table is the one computed from the draws
  nm <- dimnames(fit$draws)[[3]]
  ref <- hbmmm:::summarise_draws_table(fit$draws[, , !startsWith(nm, "r_"), drop = FALSE], c(0.025, 0.975))
  expect_identical(fresh, ref)
})
