# Simulators of the two published hierarchical models, and parameter
# recovery: data simulated from each model, fitted with hbmmm() through the
# formula the simulator returns, must give posterior intervals that cover the
# true population-level parameters. The long version (coverage over many
# replicates) is inst/validation/recovery.R.

# ---- helpers ---------------------------------------------------------------

# Vague conjugate priors on the variances: inverse-gamma(0.1, 0.1), close to
# Jeffreys' 1 / variance, whose intervals for a variance component have close
# to nominal frequentist coverage even with 12 groups. hbmmm's data-based
# defaults centre the residual and group-level variances near var(y)
# (scaled_inv_chisq(3, sd(y)), inv_wishart(q + 2, diag(sz^2))), which pulls
# variances much smaller than var(y) up by several posterior sds at these
# sample sizes; the recovery checks are about the sampler, so they use priors
# that the data dominate (inst/validation/recovery.R measures both).
recovery_prior <- function(factors = FALSE) {
  hbmmm_prior(cov = inv_gamma(0.1, 0.1), sigma = inv_gamma(0.1, 0.1),
              psi = if (factors) inv_gamma(0.1, 0.1))
}

fit_sim <- function(sim, iter, seed = 1, ...) {
  quiet_sampling(do.call(hbmmm, c(list(sim$formula, data = sim$data), sim$hbmmm_args,
                                  list(chains = 2, iter = iter, seed = seed, refresh = 0, ...))))
}

# Posterior summaries of the parameters in `truth`, with the truth.
recovery_table <- function(fit, truth) {
  s <- summary(fit)$table
  s <- s[match(names(truth), s$variable), c("variable", "mean", "sd", "q2.5", "q97.5", "rhat", "ess_bulk")]
  s$truth <- unname(truth)
  s
}

# The pass rule, calibrated on inst/validation/recovery.R (it held in all 150
# replicates of a 50-per-model run with these priors):
# * at least 75% of the population-level parameters lie in their 95%
#   intervals. A calibrated sampler covers each about 95% of the time; misses
#   of one dataset are correlated (a market sample whose effects sit far from
#   their population values moves several parameters at once), and 75% leaves
#   room for that, while a sampler biased on a block of parameters fails it;
# * every media coefficient (b_ terms involving a channel) lies within 4
#   posterior sds of its truth;
# * no parameter lies more than 7 posterior sds away (a gross failure; the
#   posterior of a standard deviation estimated from 12 groups is skewed, so
#   its |z| reaches 5 for a legitimately unlucky sample).
recovery_verdict <- function(tab, channels, truth = tab$truth) {
  covered <- tab$q2.5 <= truth & truth <= tab$q97.5
  z <- (tab$mean - truth) / tab$sd
  parts <- strsplit(sub("^b_", "", tab$variable), ":", fixed = TRUE)
  media <- startsWith(tab$variable, "b_") &
    vapply(parts, function(p) any(p %in% channels), logical(1))
  list(coverage = mean(covered), media_z = max(abs(z[media])), max_z = max(abs(z)),
       media = media,
       ok = mean(covered) >= 0.75 && all(abs(z[media]) < 4) && all(abs(z) < 7))
}

expect_recovered <- function(tab, channels) {
  v <- recovery_verdict(tab, channels)
  bad <- tab[!(tab$q2.5 <= tab$truth & tab$truth <= tab$q97.5), ]
  info <- paste(c("not covered:", capture.output(print(bad, digits = 3))), collapse = "\n")
  expect_gte(v$coverage, 0.75)
  expect_lt(v$media_z, 4)
  expect_lt(v$max_z, 7)
  expect_true(v$ok, info = info)
  # the same rule rejects a truth shifted by 5 posterior sds, whether the
  # shift hits every parameter or only the media coefficients
  expect_false(recovery_verdict(tab, channels, truth = tab$mean + 5 * tab$sd)$ok)
  shifted <- tab$truth
  shifted[v$media] <- tab$mean[v$media] - 5 * tab$sd[v$media]
  expect_false(recovery_verdict(tab, channels, truth = shifted)$ok)
  invisible(v)
}

# Plain-R normalized geometric adstock within each individual, then Hill.
ref_transformed <- function(x, group, decay, halfsat, slope) {
  a <- ref_adstock(x, "geometric", list(decay = decay), NULL, TRUE, group = group)
  a^slope / (a^slope + halfsat^slope)
}

# ---- the three-level model ------------------------------------------------

test_that("simulate_three_level() follows its documented model", {
  sim <- simulate_three_level(n_markets = 2, n_products = 3, n_individuals = 3, n_weeks = 10,
                              seed = 11)
  expect_s3_class(sim, c("hbmmm_sim_three_level", "hbmmm_sim"), exact = TRUE)
  expect_named(sim, c("data", "truth", "formula", "hbmmm_args", "ranef", "coef", "media_effect",
                      "delta", "transforms", "call"))
  d <- sim$data
  expect_named(d, c("market", "product", "individual", "week", "date", "sales", "tv", "digital",
                    "loyalty", "distribution"))
  expect_identical(nrow(d), 2L * 3L * 3L * 10L)
  expect_identical(levels(d$market), c("M01", "M02"))
  expect_identical(levels(d$product), c("P1", "P2", "P3"))
  expect_identical(nlevels(d$individual), 18L)
  expect_identical(d$week, rep(1:10, 18))
  expect_true(all(d$tv >= 0) && all(d$digital >= 0))
  # Z varies by individual only, W by product-market only
  expect_true(all(tapply(d$loyalty, d$individual, function(v) length(unique(v))) == 1))
  cell <- paste(d$market, d$product, sep = ":")
  expect_true(all(tapply(d$distribution, cell, function(v) length(unique(v))) == 1))
  expect_identical(sim$hbmmm_args, list(media = c("tv", "digital"), time = "week",
                                        panel = "individual"))
  expect_identical(
    deparse1(sim$formula),
    paste("sales ~ (tv + digital) * loyalty * distribution + (1 + tv + digital || market:product) +",
          "(1 + tv + digital || market:product:individual)"))

  # level 2 and 3: coef = delta decomposition + v + u, exactly
  ind <- as.integer(d$individual)[!duplicated(d$individual)]
  first <- !duplicated(d$individual)
  Z <- d$loyalty[first]
  W <- d$distribution[first]
  v <- sim$ranef[["market:product"]][cell[first], ]
  u <- sim$ranef[["market:product:individual"]]
  dl <- sim$delta
  for (k in c("Intercept", "tv", "digital")) {
    expect_equal(unname(sim$coef[, k]),
                 unname(dl[k, "1"] + dl[k, "Z"] * Z + dl[k, "W"] * W + dl[k, "Z:W"] * Z * W +
                          v[, k] + u[, k]))
  }
  # level 1: media effects from the stored exposures with plain-R transforms
  tr <- sim$truth
  for (ch in c("tv", "digital")) {
    X <- ref_transformed(d[[ch]], as.integer(d$individual), tr[[paste0("decay_", ch)]],
                         tr[[paste0("halfsat_", ch)]], tr[[paste0("slope_", ch)]])
    expect_equal(sim$media_effect[, ch], unname(sim$coef[as.integer(d$individual), ch]) * X)
  }
  # the truth holds the delta matrix under hbmmm's names
  expect_equal(tr[["b_tv:loyalty:distribution"]], dl["tv", "Z:W"])
  expect_equal(tr[["b_digital:distribution"]], dl["digital", "W"])
  expect_equal(tr[["b_loyalty"]], dl["Intercept", "Z"])
  expect_equal(tr[["sd_market:product__tv"]], 0.3 * dl["tv", "1"])

  # the residuals have the documented sd
  big <- simulate_three_level(seed = 3)
  e <- big$data$sales - big$coef[as.integer(big$data$individual), "Intercept"] - rowSums(big$media_effect)
  expect_equal(sd(e), big$truth[["sigma"]], tolerance = 0.05)
  expect_lt(abs(mean(e)), 0.5)
})

test_that("the formula of simulate_three_level() gives exactly the draws named in truth", {
  sim <- simulate_three_level(n_markets = 2, n_products = 3, n_individuals = 3, n_weeks = 10,
                              seed = 1)
  fit <- fit_sim(sim, iter = 20)
  pop <- grep("^r_", dimnames(fit$draws)[[3]], invert = TRUE, value = TRUE)
  expect_identical(pop, names(sim$truth))
  # correlated errors and random loyalty slopes across products
  sim <- simulate_three_level(n_markets = 2, n_products = 3, n_individuals = 3, n_weeks = 10,
                              channels = "tv", sd_product_z = c(2, 3), cor_product = 0.3,
                              cor_individual = -0.2, seed = 1)
  expect_identical(deparse1(sim$formula),
                   paste("sales ~ tv * loyalty * distribution + (1 + tv + loyalty + tv:loyalty | market:product) +",
                         "(1 + tv | market:product:individual)"))
  fit <- fit_sim(sim, iter = 20)
  pop <- grep("^r_", dimnames(fit$draws)[[3]], invert = TRUE, value = TRUE)
  expect_identical(pop, names(sim$truth))
  expect_equal(sim$truth[["cor_market:product__tv__tv:loyalty"]], 0.3)
  expect_equal(sim$truth[["cor_market:product:individual__Intercept__tv"]], -0.2)
  expect_equal(sim$truth[["sd_market:product__tv:loyalty"]], 3)
})

test_that("hbmmm recovers the parameters of the three-level model", {
  sim <- simulate_three_level(seed = 1)
  fit <- fit_sim(sim, iter = 4000, prior = recovery_prior())
  tab <- recovery_table(fit, sim$truth)
  expect_false(anyNA(tab$mean))
  expect_recovered(tab, c("tv", "digital"))
})

# ---- the personalization model --------------------------------------------

test_that("simulate_personalized() follows its documented model", {
  sim <- simulate_personalized(n_markets = 3, n_individuals = 4, n_weeks = 10, seed = 5)
  expect_s3_class(sim, c("hbmmm_sim_personalized", "hbmmm_sim"), exact = TRUE)
  expect_named(sim, c("data", "truth", "formula", "hbmmm_args", "ranef", "coef", "Theta", "Sigma",
                      "media_effect", "transforms", "call"))
  d <- sim$data
  expect_named(d, c("market", "individual", "week", "date", "sales", "tv", "digital", "price",
                    "promo", "age", "income"))
  expect_identical(nrow(d), 3L * 4L * 10L)
  expect_true(all(d$promo %in% 0:1))
  # controls vary by market and week only; characteristics by individual only
  mw <- paste(d$market, d$week)
  expect_true(all(tapply(d$price, mw, function(v) length(unique(v))) == 1))
  expect_true(all(tapply(d$age, d$individual, function(v) length(unique(v))) == 1))
  expect_identical(deparse1(sim$formula),
                   "sales ~ tv + digital + price + promo + (1 + price + promo || market) + (1 + tv + digital || individual)")
  expect_identical(sim$hbmmm_args[c("media", "time", "panel")],
                   list(media = c("tv", "digital"), time = "week", panel = "individual"))
  expect_identical(deparse1(sim$hbmmm_args$personalize), "~age + income")
  expect_null(sim$hbmmm_args$factors)

  # b_ij = Theta W_i + eta_i, and the whole mean reconstructs the sales
  first <- !duplicated(d$individual)
  Wi <- cbind(1, d$age[first], d$income[first])
  eta <- sim$ranef$individual
  expect_equal(unname(sim$coef), unname(Wi %*% t(sim$Theta) + eta[, c("tv", "digital")]))
  tr <- sim$truth
  i <- as.integer(d$individual)
  m <- as.character(d$market)
  rm <- sim$ranef$market
  X <- sapply(c("tv", "digital"), function(ch) {
    ref_transformed(d[[ch]], i, tr[[paste0("decay_", ch)]], tr[[paste0("halfsat_", ch)]],
                    tr[[paste0("slope_", ch)]])
  })
  expect_equal(sim$media_effect, sim$coef[i, ] * X, ignore_attr = TRUE)
  mu <- tr[["b_Intercept"]] + rm[m, "Intercept"] + eta[i, "Intercept"] + rowSums(sim$coef[i, ] * X) +
    (tr[["b_price"]] + rm[m, "price"]) * d$price + (tr[["b_promo"]] + rm[m, "promo"]) * d$promo
  big <- simulate_personalized(seed = 2)
  bd <- big$data
  bi <- as.integer(bd$individual)
  bm <- as.character(bd$market)
  brm <- big$ranef$market
  bmu <- big$truth[["b_Intercept"]] + brm[bm, "Intercept"] + big$ranef$individual[bi, "Intercept"] +
    rowSums(big$media_effect) + (big$truth[["b_price"]] + brm[bm, "price"]) * bd$price +
    (big$truth[["b_promo"]] + brm[bm, "promo"]) * bd$promo
  expect_equal(sd(bd$sales - bmu), big$truth[["sigma"]], tolerance = 0.05)
  expect_lt(abs(mean(d$sales - mu)), 3 * tr[["sigma"]] / sqrt(nrow(d)) + 1e-8)
  expect_equal(tr[c("b_tv:age", "b_digital:income")],
               c("b_tv:age" = sim$Theta["tv", "age"], "b_digital:income" = sim$Theta["digital", "income"]))
})

test_that("simulate_personalized() builds the factor-analytic covariance", {
  sim <- simulate_personalized(n_markets = 3, n_individuals = 4, n_weeks = 10, n_factors = 2, seed = 5)
  S <- sim$Sigma
  expect_named(S, c("Sigma", "Lambda", "Psi"))
  expect_equal(S$Sigma, S$Lambda %*% t(S$Lambda) + S$Psi)
  expect_identical(dim(S$Lambda), c(3L, 2L))
  expect_equal(unname(S$Lambda["Intercept", ]), c(0, 0))
  expect_true(all(diag(S$Psi) > 0))
  R <- cov2cor(S$Sigma)
  expect_equal(sim$truth[["sd_individual__tv"]], sqrt(S$Sigma["tv", "tv"]))
  expect_equal(sim$truth[["cor_individual__tv__digital"]], R["tv", "digital"])
  expect_identical(sim$hbmmm_args$factors, c(individual = 2L))
  expect_match(deparse1(sim$formula), "(1 + tv + digital | individual)", fixed = TRUE)
  fit <- fit_sim(sim, iter = 20, prior = recovery_prior(TRUE))
  pop <- grep("^r_", dimnames(fit$draws)[[3]], invert = TRUE, value = TRUE)
  expect_identical(pop, names(sim$truth))
  # user loadings, including on the intercept
  L <- cbind(F1 = c(Intercept = 0.5, tv = 0.6, digital = -0.7))
  sim <- simulate_personalized(n_markets = 3, n_individuals = 4, n_weeks = 10, n_factors = 1,
                               loadings = L, sd_individual = c(2, 3, 4), seed = 5)
  D <- diag(c(2, 3, 4))
  expect_equal(unname(sim$Sigma$Sigma), unname(D %*% (L %*% t(L) + diag(1 - drop(L^2))) %*% D))
})

test_that("the formula of simulate_personalized() gives exactly the draws named in truth", {
  sim <- simulate_personalized(n_markets = 3, n_individuals = 4, n_weeks = 10, seed = 1,
                               sd_market = c(Intercept = 5, promo = 2, tv = 3), cor_market = 0.2)
  expect_match(deparse1(sim$formula), "(1 + promo + tv | market)", fixed = TRUE)
  fit <- fit_sim(sim, iter = 20)
  pop <- grep("^r_", dimnames(fit$draws)[[3]], invert = TRUE, value = TRUE)
  expect_identical(pop, names(sim$truth))
  expect_equal(sim$truth[["cor_market__promo__tv"]], 0.2)
})

test_that("hbmmm recovers the parameters of the personalization model", {
  sim <- simulate_personalized(seed = 1)
  fit <- fit_sim(sim, iter = 4000, prior = recovery_prior())
  tab <- recovery_table(fit, sim$truth)
  expect_false(anyNA(tab$mean))
  expect_recovered(tab, c("tv", "digital"))
})

test_that("hbmmm recovers the personalization model with a latent factor", {
  sim <- simulate_personalized(n_factors = 1, seed = 1)
  fit <- fit_sim(sim, iter = 4000, prior = recovery_prior(TRUE))
  tab <- recovery_table(fit, sim$truth)
  expect_false(anyNA(tab$mean))
  expect_recovered(tab, c("tv", "digital"))
})

# ---- reproducibility and input checks -------------------------------------

test_that("the simulators are reproducible with `seed` and leave the caller's RNG alone", {
  for (f in list(simulate_three_level, simulate_personalized)) {
    small <- function(...) {
      if (identical(f, simulate_three_level)) {
        f(n_markets = 2, n_products = 2, n_individuals = 2, n_weeks = 8, ...)
      } else {
        f(n_markets = 2, n_individuals = 3, n_weeks = 8, ...)
      }
    }
    a <- small(seed = 42)
    b <- small(seed = 42)
    expect_identical(a$data, b$data)
    expect_identical(a$truth, b$truth)
    expect_false(identical(a$data$sales, small(seed = 43)$data$sales))
    set.seed(99)
    before <- .Random.seed
    small(seed = 1)
    expect_identical(.Random.seed, before)
    # without a seed, the current stream is used
    set.seed(7)
    c1 <- small()
    set.seed(7)
    c2 <- small()
    expect_identical(c1$data, c2$data)
  }
})

test_that("the simulators reject bad arguments with classed errors", {
  e <- "hbmmm_input_error"
  expect_error(simulate_three_level(n_markets = 0), class = e)
  expect_error(simulate_three_level(n_markets = 1, n_products = 1), class = e)
  expect_error(simulate_three_level(n_individuals = 2.5), class = e)
  expect_error(simulate_three_level(n_weeks = 1), class = e)
  expect_error(simulate_three_level(channels = c("tv", "tv")), class = e)
  expect_error(simulate_three_level(channels = "loyalty"), class = e)
  expect_error(simulate_three_level(channels = "my.tv"), class = e)
  expect_error(simulate_three_level(channels = character(0)), class = e)
  expect_error(simulate_three_level(delta = matrix(1, 2, 2)), class = e)
  expect_error(simulate_three_level(delta = matrix(1, 3, 4, dimnames = list(c("a", "b", "c"), NULL))),
               class = e)
  expect_error(simulate_three_level(sd_product = -1), class = e)
  expect_error(simulate_three_level(sd_individual = c(1, 2)), class = e)
  expect_error(simulate_three_level(cor_individual = 1), class = e)
  expect_error(simulate_three_level(cor_product = -0.6), class = e) # 3 terms: > -1/2
  expect_error(simulate_three_level(sigma = 0), class = e)
  expect_error(simulate_three_level(decay = 1), class = e)
  expect_error(simulate_three_level(halfsat = c(tv = 1, radio = 2)), class = e)
  expect_error(simulate_three_level(start = "not a date"), class = e)
  expect_error(simulate_three_level(seed = 1.5), class = e)

  expect_error(simulate_personalized(n_markets = 1), class = e)
  expect_error(simulate_personalized(n_factors = 3), class = e)
  expect_error(simulate_personalized(n_factors = -1), class = e)
  expect_error(simulate_personalized(channels = "price"), class = e)
  expect_error(simulate_personalized(theta = matrix(1, 3, 2)), class = e)
  expect_error(simulate_personalized(gamma = c(price = 1)), class = e)
  expect_error(simulate_personalized(sd_market = c(Intercept = 1, radio = 2)), class = e)
  expect_error(simulate_personalized(sd_individual = c(1, 0, 1)), class = e)
  expect_error(simulate_personalized(loadings = matrix(0.5, 3, 1)), class = e)
  expect_error(simulate_personalized(n_factors = 1, loadings = matrix(0.9, 3, 2)), class = e)
  expect_error(simulate_personalized(n_factors = 1, loadings = matrix(c(0.5, 1.2, 0.1), 3, 1)),
               class = e)
  expect_error(simulate_personalized(intercept = NA), class = e)
  expect_error(simulate_personalized(beta = c(1, 2, 3)), class = e)
  err <- tryCatch(simulate_personalized(n_factors = 5), error = identity)
  expect_identical(err$arg, "n_factors")
  expect_match(conditionMessage(err), "n_factors")
})

test_that("print() and plot() of the hierarchical simulations work", {
  sim <- simulate_three_level(n_markets = 2, n_products = 2, n_individuals = 2, n_weeks = 8, seed = 1)
  out <- capture.output(res <- print(sim))
  expect_identical(res, sim)
  expect_match(out[1], "three-level model")
  expect_true(any(grepl("hbmmm formula: sales ~", out, fixed = TRUE)))
  simp <- simulate_personalized(n_markets = 2, n_individuals = 2, n_weeks = 8, n_factors = 1, seed = 1)
  out <- capture.output(print(simp))
  expect_match(out[1], "1 latent factor")
  expect_true(any(grepl("factors = c(individual = 1)", out, fixed = TRUE)))
  pdf(NULL)
  on.exit(dev.off(), add = TRUE)
  p <- plot(sim)
  expect_named(p, c("week", "date", "M01", "M02"))
  expect_equal(p$M01[1], mean(sim$data$sales[sim$data$market == "M01" & sim$data$week == 1]))
  p <- plot(simp, type = "spend")
  expect_named(p, c("week", "date", "tv", "digital"))
  expect_equal(p$tv[2], mean(simp$data$tv[simp$data$week == 2]))
})
