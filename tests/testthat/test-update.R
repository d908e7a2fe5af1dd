# update(): refits with changes; continued chains resume exactly.

cont_fit <- function(iter, warmup = 40, data = small_panel(), ...) {
  args <- small_fit_args(chains = 2, iter = iter, warmup = warmup, ...)
  args$data <- data
  quiet_sampling(do.call(hbmmm, args))
}

test_that("continuing a run gives the draws of one long run (every state block)", {
  d <- small_panel()
  d$region <- ifelse(d$market %in% c("M01", "M02"), "north", "south")
  configs <- list(
    huang_wand = list(),
    inverse_wishart = list(prior = hbmmm_prior(cov = inv_wishart(4, diag(2)))),
    diagonal = list(formula = sales ~ tv + search + price + (1 + tv || market)),
    factor = list(formula = sales ~ tv + search + price + (1 + tv + search | market), factors = c(market = 1)),
    horseshoe_sigma_by = list(horseshoe = TRUE, sigma_by = "region"),
    online = list(keep_ranef = 2),
    log_normal = list(media_effects = "log_normal"),
    cells = list(fixed_transforms = c(decay_tv = 0.5, halfsat_tv = 30, slope_tv = 1,
                                      decay_search = 0.3, halfsat_search = 10, slope_search = 1))
  )
  for (nm in names(configs)) {
    a <- do.call(cont_fit, c(list(iter = 70, data = d), configs[[nm]]))
    long <- do.call(cont_fit, c(list(iter = 100, data = d), configs[[nm]]))
    b <- quiet_sampling(update(a, continue = TRUE, iter = 30))
    expect_identical(dim(b$draws), dim(long$draws))
    # the residual is recomputed from the state, so equal up to rounding
    expect_lt(max(abs(b$draws - long$draws) / (1 + abs(long$draws))), 1e-7, label = nm)
    expect_identical(b$control$iter, 100L)
    expect_identical(b$control$warmup, 40L)
    expect_identical(dim(b$sampler_diagnostics$accept), dim(long$sampler_diagnostics$accept))
    expect_equal(b$sampler_diagnostics$accept, long$sampler_diagnostics$accept)
    expect_identical(names(b$state[[1]]), names(long$state[[1]]))
    if (nm == "online") {
      rs_b <- b$ranef_summary$market
      rs_l <- long$ranef_summary$market
      expect_equal(rs_b$mean, rs_l$mean, tolerance = 1e-6)
      expect_equal(rs_b$sd, rs_l$sd, tolerance = 1e-6)
    }
  }
})

test_that("a continued run with fresh streams passes the same diagnostics as one long run", {
  d <- small_panel()
  args <- list(formula = sales ~ price + promo + (1 | market), time = "week", media = NULL,
               warmup = 100, seed = 11)
  short <- do.call(cont_fit, c(list(iter = 400, data = d), args))
  more <- update(short, continue = TRUE, iter = 400, seed = 5)
  long <- do.call(cont_fit, c(list(iter = 800, data = d), args))
  expect_identical(dim(more$draws), dim(long$draws))
  expect_false(isTRUE(all.equal(more$draws[301:700, , ], long$draws[301:700, , ]))) # fresh streams
  # both pass Stan's checks: no warning
  expect_silent(check_sampling(more))
  expect_silent(check_sampling(long))
  tm <- summary(more)$table
  tl <- summary(long)$table
  expect_true(all(tm$rhat < 1.01))
  expect_true(all(pmin(tm$ess_bulk, tm$ess_tail) > 400))
  # and agree on the posterior within Monte Carlo error
  z <- (tm$mean - tl$mean) / sqrt(tm$mcse_mean^2 + tl$mcse_mean^2)
  expect_true(all(abs(z) < 4.5))
  # the frozen proposals are used: no adaptation after warmup
  expect_identical(more$control$warmup, 100L)
})

test_that("update() refits with a changed formula or arguments, on the stored data", {
  fit <- cont_fit(iter = 60)
  f2 <- quiet_sampling(update(fit, . ~ . + promo))
  expect_true("b_promo" %in% dimnames(f2$draws)[[3]])
  expect_true("sd_market__tv" %in% dimnames(f2$draws)[[3]])
  expect_identical(deparse1(f2$spec$formula), "sales ~ tv + search + price + (1 + tv | market) + promo")
  f3 <- quiet_sampling(update(fit, iter = 50, chains = 1))
  expect_identical(dim(f3$draws)[1:2], c(10L, 1L))
  # the same arguments give the same draws (the seed is in the call)
  f4 <- quiet_sampling(update(fit))
  expect_identical(f4$draws, fit$draws)
  expect_identical(f4$call$data, fit$call$data)
  # bars survive formula updates
  expect_identical(deparse1(hbmmm:::update_bar_formula(y ~ x + (1 + x | g) + (1 | h), . ~ . - x)),
                   "y ~ (1 + x | g) + (1 | h)")
})

test_that("continue refuses what it cannot do", {
  fit <- cont_fit(iter = 60)
  expect_input_error(update(fit, . ~ . + promo, continue = TRUE), "formula.")
  expect_input_error(update(fit, continue = TRUE, iter = 0), "iter")
  expect_input_error(update(fit, continue = TRUE, chains = 3), "...")
  expect_input_error(update(fit, continue = NA), "continue")
  # a NUTS fit that has lost its model (no spec, no density) cannot continue
  orphan <- fit
  orphan$sampler <- "nuts"
  orphan$spec <- NULL
  orphan$model <- NULL
  expect_error(hbmmm::resume_nuts(orphan, iter = 10), class = "hbmmm_input_error")
})

test_that("NUTS fits continue through resume_nuts()", {
  fit <- quiet_sampling(do.call(hbmmm, small_fit_args(formula = sales ~ price + (1 | market), media = NULL,
                                                      sampler = "nuts", chains = 2, iter = 100)))
  more <- quiet_sampling(update(fit, continue = TRUE, iter = 40))
  expect_identical(dim(more$draws)[1], dim(fit$draws)[1] + 40L)
  expect_identical(more$sampler, "nuts")
})

test_that("nuts() fits of an R log density refit from their own call and continue", {
  fit <- quiet_sampling(nuts(function(x) -0.5 * sum(x^2), function(x) -x, init = c(0, 0), iter = 200,
                             chains = 2, seed = 1, refresh = 0))
  again <- quiet_sampling(update(fit, iter = 100))
  expect_identical(dim(again$draws)[1], 50L)
  more <- quiet_sampling(update(fit, continue = TRUE, iter = 40))
  expect_identical(dim(more$draws)[1], dim(fit$draws)[1] + 40L)
  expect_input_error(update(fit, . ~ .), "formula.")
})

test_that("summary(prob =) gives central intervals at that level; stray arguments are refused", {
  fit <- cont_fit(iter = 60)
  s90 <- summary(fit, prob = 0.9)
  x <- as.vector(fit$draws[, , "b_price"])
  row <- s90$table[s90$table$variable == "b_price", ]
  expect_equal(unname(c(row$q5, row$q95)), unname(quantile(x, c(0.05, 0.95))), tolerance = 1e-10)
  expect_output(print(s90), "l-90% CI")
  expect_output(print(summary(fit)), "l-95% CI")
  for (bad in list(2, 0, 1, NA, c(0.5, 0.9), "0.9")) expect_input_error(summary(fit, prob = bad), "prob")
  expect_input_error(summary(fit, probs = 0.9), "...")
  expect_input_error(print(fit, ranef = TRUE), "...")
})

test_that("both samplers continue through one path: the same components, iterations bound alike", {
  fits <- list(gibbs = decide_fit(chains = 2, iter = 60),
               nuts = decide_fit(chains = 2, iter = 60, sampler = "nuts"))
  for (nm in names(fits)) {
    f <- fits[[nm]]
    more <- suppressWarnings(update(f, iter = 40, continue = TRUE))
    expect_identical(names(more), names(f), label = nm)
    expect_identical(dim(more$draws)[1], dim(f$draws)[1] + 40L, label = nm)
    expect_identical(more$control$iter, f$control$iter + 40L, label = nm)
    for (k in names(f$sampler_diagnostics)) {
      expect_identical(dim(more$sampler_diagnostics[[k]])[1], dim(more$draws)[1], label = paste(nm, k))
    }
    expect_gt(more$timing[["elapsed"]], f$timing[["elapsed"]] - 1e-9)
    expect_equal(more$draws[seq_len(dim(f$draws)[1]), , ], f$draws)
  }
})

test_that("every kind of fit passes the fit validator", {
  g <- decide_fit(chains = 2, iter = 40)
  n <- decide_fit(chains = 2, iter = 40, sampler = "nuts")
  r <- quiet_sampling(nuts(function(x) -0.5 * sum(x^2), function(x) -x, init = c(0, 0), iter = 100, chains = 2,
                           seed = 1, refresh = 0))
  fits <- list(gibbs = g, nuts = n, rdensity = r,
               gibbs_more = suppressWarnings(update(g, iter = 20, continue = TRUE)),
               nuts_more = suppressWarnings(update(n, iter = 20, continue = TRUE)),
               rdensity_more = suppressWarnings(resume_nuts(r, iter = 20, seed = 2)))
  for (nm in names(fits)) expect_identical(hbmmm:::validate_hbmmm_fit(fits[[nm]]), fits[[nm]], label = nm)
  expect_s3_class(fits$rdensity_more, "hbmmm_nuts_fit")
  broken <- g
  broken$state <- broken$state[1]
  expect_error(hbmmm:::validate_hbmmm_fit(broken), class = "hbmmm_internal_error")
  broken <- g
  broken$sampler_diagnostics$accept <- broken$sampler_diagnostics$accept[-1, , , drop = FALSE]
  expect_error(hbmmm:::validate_hbmmm_fit(broken), "one row per kept draw")
})
