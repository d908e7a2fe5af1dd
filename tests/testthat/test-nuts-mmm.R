# The MMM log density of hbmmm(sampler = "nuts"): analytic gradients against
# finite differences for every kind of term and prior, the density itself
# against a plain-R computation, and NUTS against the Gibbs sampler.

test_that("gradients equal finite differences for every covariance type and parameterization", {
  d <- mmm_weekly
  med <- c("tv", "search")
  specs <- list(
    hw_full = hbmmm_spec(sales ~ tv + search + price + (1 + tv | market), data = d, media = med, time = "week"),
    hw_diag = hbmmm_spec(sales ~ tv + search + price + (1 + tv || market), data = d, media = med, time = "week"),
    iw = hbmmm_spec(sales ~ tv + search + price + (1 + tv + price | market), data = d, media = med,
                    time = "week", prior = hbmmm_prior(cov = inv_wishart(5, 1))),
    ig_diag = hbmmm_spec(sales ~ tv + search + price + (1 + tv || market), data = d, media = med,
                         time = "week", prior = hbmmm_prior(cov = inv_gamma(2, 100))),
    factor = hbmmm_spec(sales ~ tv + search + price + (1 + tv + price | market), data = d, media = med,
                        time = "week", factors = c(market = 1)),
    lkj_t = hbmmm_spec(sales ~ tv + search + price + (1 + tv + price | market), data = d, media = med,
                       time = "week", prior = hbmmm_prior(cor = lkj(2), sd = half_student_t(3, 100))),
    lkj_n = hbmmm_spec(sales ~ tv + search + price + (1 + tv | market), data = d, media = med,
                       time = "week", prior = hbmmm_prior(cor = lkj(0.7), sd = half_normal(50))),
    lkj_e = hbmmm_spec(sales ~ tv + search + price + (1 + tv + search | market), data = d, media = med,
                       time = "week", prior = hbmmm_prior(sd = exponential(0.01)))
  )
  for (nm in names(specs)) {
    for (centered in c(FALSE, TRUE)) {
      for (seed in 1:2) {
        err <- grad_error(specs[[nm]], centered, seed)
        expect_lt(err, 1e-6, label = sprintf("%s (centered = %s, seed %d): %.1e", nm, centered, seed, err))
      }
    }
  }
})

test_that("gradients are exact for every transform, horseshoe, per-group sigma, weights and fixed designs", {
  set.seed(3)
  sim <- simulate_mmm(n_weeks = 60, n_markets = 3, seed = 3)
  d <- sim$data
  med <- c("tv", "search", "social")
  f <- stats::as.formula(paste("sales ~", paste(med, collapse = " + "), "+ (1 | market)"))
  w <- stats::runif(nrow(d), 0.5, 2)
  specs <- list(
    geo_finite = hbmmm_spec(f, data = d, media = med, time = "week", adstock_control = list(max_lag = 6)),
    delayed = hbmmm_spec(f, data = d, media = med, time = "week", adstock = "delayed"),
    weibull_cdf = hbmmm_spec(f, data = d, media = med, time = "week", adstock = "weibull_cdf"),
    weibull_pdf = hbmmm_spec(f, data = d, media = med, time = "week", adstock = "weibull_pdf"),
    logistic = hbmmm_spec(f, data = d, media = med, time = "week", saturation = "logistic"),
    mm = hbmmm_spec(f, data = d, media = med, time = "week", saturation = "michaelis_menten"),
    no_sat = hbmmm_spec(f, data = d, media = med, time = "week", saturation = "none"),
    horseshoe = hbmmm_spec(f, data = d, media = med, time = "week", horseshoe = TRUE),
    reg_horseshoe = hbmmm_spec(f, data = d, media = med, time = "week", horseshoe = TRUE,
                               prior = hbmmm_prior(horseshoe = horseshoe(df = 3, scale_global = 50,
                                                                          scale_slab = 2, df_slab = 4))),
    sigma_by_weights = hbmmm_spec(f, data = d, media = med, time = "week", sigma_by = "market", weights = w),
    fixed_design = hbmmm_spec(f, data = d, media = med, time = "week", sigma_by = "market",
                              fixed_transforms = stats::setNames(rep(c(0.5, 30, 1.5), length(med)),
                                                                 paste0(c("decay_", "halfsat_", "slope_"),
                                                                        rep(med, each = 3))))
  )
  for (nm in names(specs)) {
    err <- grad_error(specs[[nm]], FALSE, 1)
    expect_lt(err, 1e-6, label = sprintf("%s: %.1e", nm, err))
  }
})
