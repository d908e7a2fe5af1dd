# Agreement with bayesm::rhierLinearModel on its cheese data: log VOLUME on
# DISP and log PRICE, every coefficient varying by RETAILER, one error
# variance per retailer, priors set to match bayesm's.

test_that("hbmmm's Gibbs sampler agrees with bayesm::rhierLinearModel on cheese", {
  skip_if_not_installed("bayesm")
  data("cheese", package = "bayesm", envir = environment())
  cheese$lvol <- log(cheese$VOLUME)
  cheese$lprice <- log(cheese$PRICE)
  s2 <- var(cheese$lvol)
  ret <- levels(cheese$RETAILER)
  regdata <- lapply(ret, function(r) {
    d <- cheese[cheese$RETAILER == r, ]
    list(y = d$lvol, X = cbind(1, d$DISP, d$lprice))
  })
  R <- 8000
  burn <- 1000
  set.seed(7)
  invisible(capture.output(bm <- bayesm::rhierLinearModel(
    Data = list(regdata = regdata),
    Prior = list(Deltabar = matrix(0, 1, 3), A = matrix(0.01), nu.e = 3,
                 ssq = rep(s2, length(ret)), nu = 6, V = 6 * diag(3)),
    Mcmc = list(R = R, keep = 1, nprint = 0))))
  keep <- -(1:burn)
  V <- bm$Vbetadraw[keep, ]
  ref <- cbind(
    b_Intercept = bm$Deltadraw[keep, 1], b_DISP = bm$Deltadraw[keep, 2], b_lprice = bm$Deltadraw[keep, 3],
    sd_RETAILER__Intercept = sqrt(V[, 1]), sd_RETAILER__DISP = sqrt(V[, 5]), sd_RETAILER__lprice = sqrt(V[, 9]),
    cor_RETAILER__Intercept__DISP = V[, 4] / sqrt(V[, 1] * V[, 5]),
    cor_RETAILER__Intercept__lprice = V[, 7] / sqrt(V[, 1] * V[, 9]),
    cor_RETAILER__DISP__lprice = V[, 8] / sqrt(V[, 5] * V[, 9]),
    sqrt(bm$taudraw[keep, ]))
  colnames(ref)[-(1:9)] <- paste0("sigma[", ret, "]")

  prior <- hbmmm_prior(Intercept = normal(0, 10), b = normal(0, 10),
                       cov = inv_wishart(6, 6 * diag(3)), sigma = scaled_inv_chisq(3, sqrt(s2)))
  fit <- hbmmm(lvol ~ DISP + lprice + (1 + DISP + lprice | RETAILER), data = cheese,
               sigma_by = "RETAILER", prior = prior, chains = 2, iter = R / 2 + burn,
               warmup = burn, seed = 7, refresh = 0)
  pop <- grep("^r_", dimnames(fit$draws)[[3]], invert = TRUE, value = TRUE)
  expect_setequal(pop, colnames(ref))
  for (v in colnames(ref)) {
    ours <- fit$draws[, , v]
    theirs <- matrix(ref[, v], ncol = 1)
    se <- sqrt(mcse_mean(ours)^2 + mcse_mean(theirs)^2)
    # means within 4.5 Monte Carlo standard errors (97 parameters compared)
    expect_lt(abs(mean(ours) - mean(theirs)), 4.5 * se, label = sprintf("posterior mean of %s", v))
    expect_lt(abs(sd(ours) / sd(theirs) - 1), 0.1, label = sprintf("posterior sd of %s", v))
  }
})
