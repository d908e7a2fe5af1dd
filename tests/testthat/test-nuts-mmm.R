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

test_that("the density equals a plain-R log posterior (same model and priors as Gibbs)", {
  d <- mmm_weekly
  spec <- hbmmm_spec(sales ~ tv + price + (1 + price | market), data = d, media = "tv", time = "week",
                     prior = hbmmm_prior(cov = inv_wishart(4, diag(c(100, 10)))))
  dens <- mmm_density(spec, centered = TRUE)
  pr <- spec$priors
  ref <- function(th) {
    v <- dens$eval(th)$draw
    nm <- asNamespace("hbmmm")$draw_names(spec)
    names(v) <- nm
    b <- v[c("b_Intercept", "b_tv", "b_price")]
    sd <- v[c("sd_market__Intercept", "sd_market__price")]
    rho <- v[["cor_market__Intercept__price"]]
    Sigma <- diag(sd) %*% matrix(c(1, rho, rho, 1), 2) %*% diag(sd)
    sigma <- v[["sigma"]]
    decay <- v[["decay_tv"]]; halfsat <- v[["halfsat_tv"]]; slope <- v[["slope_tv"]]
    t <- spec$ranef$market
    G <- length(t$levels)
    u <- cbind(v[sprintf("r_market[%s,Intercept]", t$levels)], v[sprintf("r_market[%s,price]", t$levels)])
    m <- saturation_hill(adstock_geometric(spec$media_data[, "tv"], decay, normalize = spec$transforms$normalize[["tv"]],
                                           group = spec$panel_codes), halfsat, slope)
    X <- spec$X$static
    X[, !is.na(spec$X$channel)] <- X[, !is.na(spec$X$channel)] * m
    Z <- t$Z$static
    mu <- drop(X %*% b) + rowSums(Z * u[t$codes, ])
    ll <- sum(stats::dnorm(spec$y, mu, sigma, log = TRUE))
    lb <- sum(vapply(seq_along(b), function(j) stats::dnorm(b[j], pr$b[[j]]$par[["mean"]], pr$b[[j]]$par[["sd"]], log = TRUE), 0))
    Si <- solve(Sigma)
    lu <- sum(apply(u, 1, function(x) -0.5 * drop(t(x) %*% Si %*% x))) - 0.5 * G * log(det(Sigma))
    S <- pr$cov$market$S; df <- pr$cov$market$dist$par[["df"]]
    liw <- -0.5 * (df + 3) * log(det(Sigma)) - 0.5 * sum(diag(S %*% Si))
    L <- t(chol(Sigma))
    jac_sigma <- 2 * log(2) + 2 * log(L[1, 1]) + 1 * log(L[2, 2]) + sum(log(diag(L))) # Sigma = L L', log-diagonal
    ig <- asNamespace("hbmmm")$ig_params(pr$sigma)
    lsig <- -(ig[1] + 1) * log(sigma^2) - ig[2] / sigma^2 + log(2 * sigma^2)
    tp <- spec$transforms$priors
    ltr <- stats::dbeta(decay, tp$decay_tv$par[1], tp$decay_tv$par[2], log = TRUE) + log(decay * (1 - decay)) +
      stats::dlnorm(halfsat, tp$halfsat_tv$par[1], tp$halfsat_tv$par[2], log = TRUE) + log(halfsat) +
      stats::dlnorm(slope, tp$slope_tv$par[1], tp$slope_tv$par[2], log = TRUE) + log(slope)
    ll + lb + lu + liw + jac_sigma + lsig + ltr
  }
  th1 <- dens$start(1)
  th2 <- dens$start(2)
  expect_equal(dens$eval(th1)$lp - dens$eval(th2)$lp, unname(ref(th1) - ref(th2)), tolerance = 1e-8)
})
