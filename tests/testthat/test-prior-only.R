# prior_only = TRUE: both samplers draw from the prior itself. Each margin
# is checked against its prior distribution in closed form (Kolmogorov-
# Smirnov on thinned draws): a positive media coefficient (half-normal), a
# control (normal), adstock decay (beta), a Hill half-saturation
# (lognormal), the residual variance (scaled inverse chi-squared) and a
# group-level sd (half-t, the Huang-Wand default's margin). Then the
# decision functions run on the prior fit.

prior_fit <- function(sampler, iter, formula = sales ~ tv + search + price + (1 + tv | market)) {
  d <- simulate_mmm(n_markets = 4, n_weeks = 40, seed = 1)$data
  quiet_sampling(hbmmm(formula, data = d, media = c("tv", "search"), time = "week", panel = "market",
                       prior_only = TRUE, sampler = sampler, chains = 2, iter = iter, seed = 1, refresh = 0))
}

# p-value of a KS test of every `thin`-th draw of `v` against the CDF `cdf`
ks_p <- function(fit, v, cdf, thin) {
  x <- c(fit$draws[, , v])
  x <- x[seq(1, length(x), by = thin)]
  suppressWarnings(stats::ks.test(x, cdf)$p.value)
}

expect_prior_margins <- function(fit, thin) {
  pr <- fit$spec$priors
  tp <- fit$spec$transforms$priors
  s_tv <- pr$b$tv$par[["sd"]]
  p <- c(
    b_tv = ks_p(fit, "b_tv", function(x) 2 * stats::pnorm(x, 0, s_tv) - 1, thin),
    b_price = ks_p(fit, "b_price", function(x) stats::pnorm(x, pr$b$price$par[["mean"]], pr$b$price$par[["sd"]]), thin),
    decay_tv = ks_p(fit, "decay_tv", function(x) stats::pbeta(x, tp$decay_tv$par[[1]], tp$decay_tv$par[[2]]), thin),
    halfsat_search = ks_p(fit, "halfsat_search",
                          function(x) stats::plnorm(x, tp$halfsat_search$par[[1]], tp$halfsat_search$par[[2]]), thin),
    # sigma^2 ~ nu s^2 / chisq(nu)
    sigma = ks_p(fit, "sigma", function(x) {
      nu <- pr$sigma$par[["df"]]
      stats::pchisq(nu * pr$sigma$par[["scale"]]^2 / x^2, nu, lower.tail = FALSE)
    }, thin)
  )
  if ("sd_market__tv" %in% dimnames(fit$draws)[[3]]) {
    p[["sd_market__tv"]] <- ks_p(fit, "sd_market__tv", function(x) {
      cv <- pr$cov$market
      2 * stats::pt(x / cv$A[2], cv$nu) - 1
    }, thin)
  }
  for (v in names(p)) expect_gt(p[[v]], 1e-3, label = sprintf("KS p-value of %s against its prior", v))
}

test_that("Gibbs with prior_only = TRUE draws every margin from its prior", {
  fit <- prior_fit("gibbs", 10000)
  expect_true(fit$spec$prior_only)
  expect_prior_margins(fit, thin = 5)
  expect_output(print(summary(fit)), "from the prior")
})

# Without data, the Huang-Wand prior of a correlated term (half-t(2) sds)
# is a hard geometry for NUTS: (1 + tv | market) gave 109 divergent
# transitions of 3,000 here, and its sd margin failed the test. The margins
# below are those of a model without group-level terms.
test_that("NUTS with prior_only = TRUE draws every margin from its prior", {
  fit <- prior_fit("nuts", 3000, sales ~ tv + search + price)
  expect_equal(sum(fit$sampler_diagnostics$divergent), 0)
  expect_prior_margins(fit, thin = 3)
})

test_that("the decision functions run on a prior fit (prior predictive checks)", {
  fit <- prior_fit("gibbs", 400)
  yrep <- posterior_predict(fit, draws = 1:20)
  expect_identical(dim(yrep), c(20L, fit$spec$nobs))
  # the prior predictive spread is far wider than the data's
  expect_gt(stats::sd(c(yrep)), 3 * stats::sd(fit$spec$y))
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  expect_no_error(pp_check(fit, ndraws = 20))
  r <- roi(fit)
  expect_true(all(r$roi > 0))
  cv <- response_curves(fit)
  expect_s3_class(cv, "hbmmm_curves")
  expect_error(hbmmm(sales ~ tv, data = small_panel(), media = "tv", time = "week", panel = "market",
                     prior_only = "yes"), class = "hbmmm_input_error", regexp = "prior_only")
  # the C entry point checks the flag
  m <- hbmmm:::mmm_model_list(small_spec())
  m$prior_only <- 2L
  expect_error(.Call(hbmmm:::C_hb_gibbs, m, gibbs_control()), class = "hbmmm_input_error", regexp = "prior_only")
})

test_that("prior_only draws a lognormal coefficient and an ROI prior from themselves (both samplers)", {
  d <- simulate_mmm(n_markets = 4, n_weeks = 40, seed = 1)$data
  for (smp in c("gibbs", "nuts")) {
    fit <- quiet_sampling(hbmmm(sales ~ tv + search + price + (1 | market), data = d, media = c("tv", "search"),
                                time = "week", panel = "market", prior_only = TRUE, sampler = smp, chains = 2,
                                iter = if (smp == "nuts") 1200 else 3000, seed = 2, refresh = 0,
                                prior = hbmmm_prior(b = list(tv = lognormal(3, 0.5)),
                                                    roi = list(search = lognormal(log(2), 0.3)))))
    # b_tv: its lognormal prior
    p_b <- ks_p(fit, "b_tv", function(x) stats::plnorm(x, 3, 0.5), thin = 5)
    expect_gt(p_b, 0.001, label = sprintf("%s: KS p of b_tv against lognormal(3, 0.5)", smp))
    # search's ROI (roi() per draw): lognormal(log 2, 0.3), whatever the transforms
    r <- attr(roi(fit), "draws")$roi[, "search"]
    p_r <- suppressWarnings(stats::ks.test(r[seq(1, length(r), by = 5)], function(x) stats::plnorm(x, log(2), 0.3))$p.value)
    expect_gt(p_r, 0.001, label = sprintf("%s: KS p of the ROI of search against lognormal(log 2, 0.3)", smp))
  }
})
