# Precomputes the two slow parts of vignette("personalization") and saves
# them to inst/extdata/personalization_results.rds (labelled as precomputed
# in the vignette):
#   * Table 7: the hierarchical model against OLS, ridge and the
#     non-hierarchical Bayesian model, fitted on months 1-20 and judged on the
#     held-out months 21-24 (compare_models() with its information criteria);
#   * Figure 6: sensitivity() of each channel's effect per exposure to priors,
#     the training window, a subsample of markets and an extra covariate.
# Run from the package root after installing the current package (two to three
# minutes on two cores):
#   Rscript data-raw/personalization_results.R
library(hbmmm)

d <- personalized
cons <- attr(d, "consumers")
channels <- c("tv", "digital", "email", "social")
traits <- ~ age_z + income_z + frequency_z
# propensity weights of the targeting decision, one per consumer, on every month
ps <- propensity_score(targeted ~ age_z + income_z + frequency_z, data = cons)
w <- ps_weight(ps, estimand = "ATE", stabilize = TRUE)
d$ps_weight <- w$weights[match(d$individual, cons$individual)]

f <- purchase ~ tv + digital + email + social + age_z + income_z + frequency_z + econ + competitor +
  (1 + econ + competitor || market) + (1 + tv + digital + email + social || individual)
# the benchmarks have no `personalize` argument: the same interactions written out
f_bench <- purchase ~ tv + digital + email + social + age_z + income_z + frequency_z + econ + competitor +
  (tv + digital + email + social):(age_z + income_z + frequency_z)
mcmc <- list(chains = 2, iter = 3000, warmup = 1000, thin = 10, seed = 1, refresh = 0)
fit_hb <- function(data) {
  do.call(hbmmm, c(list(f, data = data, media = channels, adstock = "none", saturation = "none",
                        time = "month", panel = "individual", personalize = traits,
                        weights = "ps_weight", keep_ranef = 2500), mcmc))
}

# Table 7: train on months 1-20, predict months 21-24 of the same consumers
train <- d[d$month <= 20, ]
test <- d[d$month > 20, ]
hb <- fit_hb(train)
none <- list(media = channels, adstock = "none", saturation = "none")
ols <- do.call(fit_baseline, c(list(f_bench, train, type = "ols"), none))
ridge <- do.call(fit_baseline, c(list(f_bench, train, type = "ridge"), none))
pooled <- do.call(fit_baseline, c(list(f_bench, train, type = "pooled", weights = "ps_weight"), none, mcmc))
table7 <- compare_models(HBMMM = hb, OLS = ols, Ridge = ridge, `Non-hierarchical Bayesian` = pooled,
                         newdata = test)

# Figure 6: the full-data fit of the vignette, refitted under each alternative
fit <- fit_hb(d)
sens <- sensitivity(fit, scenarios = c("prior_sd_x0.5", "prior_sd_x2", "train_split", "group_subsample",
                                       "covariates"),
                    covariates = "targeted", level = 0.95)

results <- list(table7 = table7, sensitivity = sens,
                note = paste("Precomputed by data-raw/personalization_results.R with",
                             format(utils::packageVersion("hbmmm")), "on", format(Sys.Date())))
saveRDS(results, "inst/extdata/personalization_results.rds", compress = "xz")
