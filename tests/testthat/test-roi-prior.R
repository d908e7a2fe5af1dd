# ROI priors (hbmmm_prior(roi = )): a lognormal prior on the quantity
# roi() reports, b * sum(transformed media) / spend. The NUTS density samples
# the log ROI (gradients against finite differences, the draw against the
# definition); the Gibbs sampler moves the coefficient with the transforms
# at fixed ROI. Both samplers: a tight prior pins roi(fit) and leaves the
# other channels free. Calibration is in test-sbc.R.

roi_spec <- function(prior, data = small_panel(), formula = sales ~ tv + search + price + (1 + tv | market), ...) {
  hbmmm_spec(formula, data = data, media = c("tv", "search"), time = "week", prior = prior, ...)
}

test_that("the NUTS density samples the log ROI with exact gradients", {
  spec <- roi_spec(hbmmm_prior(roi = list(search = lognormal(log(2), 0.3), tv = lognormal(log(3), 0.5))))
  for (centered in c(FALSE, TRUE)) {
    for (seed in 1:2) {
      err <- grad_error(spec, centered, seed)
      expect_lt(err, 1e-6, label = sprintf("centered = %s, seed %d: %.1e", centered, seed, err))
    }
  }
  # the stored coefficient is ROI * spend / sum(transformed column) at this draw's transforms
  d <- mmm_density(spec)
  th <- d$start(3)
  v <- stats::setNames(d$eval(th)$draw, hbmmm:::draw_names(spec))
  j <- match("search", spec$X$names)
  tr <- spec$transforms
  par <- matrix(v[tr$pars$name], 1L, dimnames = list(NULL, tr$pars$name))
  m <- hbmmm:::transform_channel_draws(spec$media_data[, "search"], "search", tr, par, spec$panel_codes, spec$tpos)[, 1]
  expect_equal(v[["b_search"]], exp(th[j]) * sum(spec$media_data[, "search"]) / sum(m), tolerance = 1e-10)
})

test_that("a tight ROI prior pins roi(fit) within 3% for both samplers; other channels stay free", {
  d <- mmm_weekly[mmm_weekly$market %in% c("M01", "M02", "M03"), ]
  f <- sales ~ tv + search + social + price + (1 | market)
  med <- c("tv", "search", "social")
  tight <- hbmmm_prior(roi = list(search = lognormal(log(2), 0.02)))
  for (smp in c("gibbs", "nuts")) {
    it <- if (smp == "nuts") 600 else 2000
    free <- quiet_sampling(hbmmm(f, data = d, media = med, time = "week", sampler = smp, chains = 2,
                                 iter = it, seed = 1, refresh = 0))
    fit <- quiet_sampling(hbmmm(f, data = d, media = med, time = "week", sampler = smp, chains = 2,
                                iter = it, seed = 1, refresh = 0, prior = tight))
    r0 <- roi(free)
    r1 <- roi(fit)
    s <- r1$channel == "search"
    expect_lt(abs(r1$roi[s] / 2 - 1), 0.03, label = sprintf("%s: ROI of search %.3f", smp, r1$roi[s]))
    # the data pull search's ROI towards 6, so the posterior sits about 1.6%
    # above the prior's median (both samplers: 2.032 [1.965, 2.099])
    expect_true(r1$roi_lower[s] > 2 * 0.93 && r1$roi_upper[s] < 2 * 1.07, label = smp)
    # without the prior the data alone leave search's ROI far wider
    expect_gt(r0$roi_upper[s] - r0$roi_lower[s], 5 * (r1$roi_upper[s] - r1$roi_lower[s]))
    # the other channels are not pulled to 2: their ROI intervals overlap the free fit's
    for (ch in c("tv", "social")) {
      a <- r0$channel == ch
      b <- r1$channel == ch
      expect_true(r1$roi_lower[b] < r0$roi_upper[a] && r0$roi_lower[a] < r1$roi_upper[b],
                  label = sprintf("%s: %s ROI free [%.2f, %.2f] vs with the search prior [%.2f, %.2f]", smp, ch,
                                  r0$roi_lower[a], r0$roi_upper[a], r1$roi_lower[b], r1$roi_upper[b]))
    }
  }
})

test_that("models without ROI priors draw exactly what they drew before (Gibbs)", {
  # the ROI machinery leaves the random number stream alone: a lognormal
  # coefficient prior without ROI is held fixed in the Metropolis step as before
  spec_args <- list(sales ~ tv + search + price + (1 | market), data = small_panel(), media = c("tv", "search"),
                    time = "week", chains = 1, iter = 300, seed = 4, refresh = 0)
  a <- quiet_sampling(do.call(hbmmm, c(spec_args, list(prior = hbmmm_prior(b = list(tv = lognormal(3, 1)))))))
  b <- quiet_sampling(do.call(hbmmm, c(spec_args, list(prior = hbmmm_prior(b = list(tv = lognormal(3, 1)),
                                                                          roi = NULL)))))
  expect_identical(a$draws, b$draws)
})

test_that("ROI priors reject what they cannot mean, with classed errors", {
  ok <- hbmmm_prior(roi = list(tv = lognormal(log(2), 0.5)))
  expect_s3_class(roi_spec(ok), "hbmmm_spec")
  # the family: lognormal only
  expect_input_error(hbmmm_prior(roi = list(tv = normal(2, 1))), "roi[[\"tv\"]]")
  expect_input_error(hbmmm_prior(roi = half_normal(2)), "roi")
  # a channel not in the model
  expect_input_error(roi_spec(hbmmm_prior(roi = list(radio = lognormal(0, 1)))), "prior")
  # no spend: the channel is constant, which the design already refuses
  d0 <- small_panel()
  d0$search <- 0
  expect_error(roi_spec(hbmmm_prior(roi = list(search = lognormal(0, 1))), data = d0), class = "hbmmm_input_error")
  # the channel also enters through an interaction, which roi() would add
  cnd <- expect_input_error(roi_spec(ok, formula = sales ~ tv + tv:price + search + (1 | market)), "prior")
  expect_match(conditionMessage(cnd), "tv:price", fixed = TRUE)
  # both a coefficient prior and an ROI prior for the channel
  cnd <- expect_input_error(roi_spec(hbmmm_prior(b = list(tv = half_normal(10)), roi = list(tv = lognormal(0, 1)))),
                            "prior")
  expect_match(conditionMessage(cnd), "give one of the two")
  # the horseshoe
  expect_input_error(roi_spec(ok, horseshoe = TRUE), "prior")
  # no fixed coefficient of its own
  expect_input_error(roi_spec(ok, formula = sales ~ search + price + (1 + tv | market)), "prior")
})

test_that("the C entry points check model$b_roi", {
  ns <- asNamespace("hbmmm")
  spec <- roi_spec(hbmmm_prior(roi = list(tv = lognormal(log(2), 0.5))))
  model <- ns$mmm_model_list(spec)
  opts <- ns$nuts_model_options(spec)
  for (bad in list(-1, NA_real_, Inf)) {
    m <- model
    m$b_roi[2] <- bad
    expect_error(.Call(ns$C_hb_mmm_info, m, opts), class = "hbmmm_input_error")
  }
  m <- model
  m$b_roi[3] <- 10 # search's prior is half-normal, not lognormal
  expect_error(.Call(ns$C_hb_mmm_info, m, opts), "lognormal", class = "hbmmm_input_error")
  m <- model
  m$b_roi <- m$b_roi[-1]
  expect_error(.Call(ns$C_hb_mmm_info, m, opts), class = "hbmmm_input_error")
})
