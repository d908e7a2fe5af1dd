# Long validation of the causal tools on simulated confounded data with
# known effects (simulate_confounded()): bias of the naive difference,
# bias/RMSE/coverage of matching, weighting and the hierarchical model,
# and balance after adjustment.
#
#   Rscript inst/validation/causal.R [reps] [n] [fit_reps] [seed]
#
# Defaults: 200 replicates of n = 2000 for the matching and weighting
# estimators, 40 replicates for the hierarchical model (Gibbs, 2 chains x
# 1000 iterations). 95% intervals should cover the truth in about 95% of
# replicates (binomial sd about 1.5% at 200 replicates, 3.4% at 40).
suppressPackageStartupMessages(library(hbmmm))

causal_validation <- function(reps = 200, n = 2000, fit_reps = 40, seed = 1) {
  rows <- list()
  add <- function(r, method, estimand, est, lower, upper, truth) {
    rows[[length(rows) + 1L]] <<- data.frame(rep = r, method = method, estimand = estimand, estimate = est,
                                             lower = lower, upper = upper, truth = truth)
  }
  smd_ok <- matrix(NA, reps, 3, dimnames = list(NULL, c("match", "ipw_ate", "ipw_att")))
  for (r in seq_len(reps)) {
    sim <- simulate_confounded(n = n, seed = seed * 10000 + r)
    d <- sim$data
    tr <- sim$truth
    naive <- mean(d$sales[d$treat == 1]) - mean(d$sales[d$treat == 0])
    add(r, "naive difference", "ATE", naive, NA, NA, tr[["ATE"]])
    # oracle: the correctly specified outcome regression (shows how far this
    # set of replicates' coverage strays from 95% by chance alone)
    ols <- stats::lm(sales ~ treat + treat:age_z + treat:income_z + age_z + income_z + loyal + region, data = d)
    k <- c("treat", "treat:age_z", "treat:income_z")
    a <- c(1, mean(d$age_z), mean(d$income_z))
    oe <- sum(a * stats::coef(ols)[k])
    os <- sqrt(drop(t(a) %*% stats::vcov(ols)[k, k] %*% a))
    add(r, "oracle outcome regression (OLS)", "SATE", oe, oe - 1.96 * os, oe + 1.96 * os, tr[["SATE"]])
    ps <- propensity_score(treat ~ age + income + loyal + region, data = d)
    m <- ps_match(ps, replace = TRUE)
    mc <- suppressWarnings(ps_match(ps, caliper = 0.2))
    wa <- ps_weight(ps, estimand = "ATE")
    wt <- ps_weight(ps, estimand = "ATT")
    smd_ok[r, ] <- c(all(abs(balance(mc)$table$smd_after) < 0.1), all(abs(balance(wa)$table$smd_after) < 0.1),
                     all(abs(balance(wt)$table$smd_after) < 0.1))
    for (spec in list(list("matching (replace), regression", m, "regression", "robust", "ATT"),
                      list("IPW, difference", wa, "difference", "robust", "ATE"),
                      list("IPW, regression", wa, "regression", "robust", "ATE"),
                      list("IPW, regression, Bayes", wa, "regression", "bayes", "ATE"),
                      list("ATT weights, regression", wt, "regression", "robust", "ATT"),
                      list("ATT weights, regression, Bayes", wt, "regression", "bayes", "ATT"))) {
      e <- estimate_effect(spec[[2]], "sales", method = spec[[3]], inference = spec[[4]], draws = 1000,
                           seed = r)$estimate
      add(r, spec[[1]], spec[[5]], e$estimate, e$lower, e$upper, tr[[spec[[5]]]])
    }
    if (r <= fit_reps) {
      fit <- hbmmm(sales ~ treat + treat:age_z + treat:income_z + age_z + income_z + loyal + (1 | region),
                   data = d, media = "treat", adstock = "none", saturation = "none", chains = 2, iter = 1000,
                   seed = r, refresh = 0)
      te <- treatment_effects(fit, on = 1)$ate
      # the model conditions on the sample's covariates: its target is the
      # sample average effect (SATE, SATT)
      add(r, "hierarchical model", "SATE", te$mean[1], te$lower[1], te$upper[1], tr[["SATE"]])
      add(r, "hierarchical model", "SATT", te$mean[2], te$lower[2], te$upper[2], tr[["SATT"]])
      fw <- hbmmm(sales ~ treat + age_z + income_z + loyal + (1 | region), data = d, media = "treat",
                  adstock = "none", saturation = "none", weights = wa$weights, chains = 2, iter = 1000,
                  seed = r, refresh = 0)
      tw <- treatment_effects(fw, on = 1)$ate
      add(r, "hierarchical model, IPW weights", "ATE (point)", tw$mean[1], NA, NA, tr[["ATE"]])
    }
    if (r %% 20 == 0) message(sprintf("%d / %d replicates", r, reps))
  }
  res <- do.call(rbind, rows)
  tab <- do.call(rbind, lapply(split(res, list(res$method, res$estimand), drop = TRUE), function(s) {
    data.frame(method = s$method[1], estimand = s$estimand[1], reps = nrow(s),
               bias = mean(s$estimate - s$truth), rmse = sqrt(mean((s$estimate - s$truth)^2)),
               coverage = if (all(is.na(s$lower))) NA else mean(s$lower <= s$truth & s$truth <= s$upper),
               width = if (all(is.na(s$lower))) NA else mean(s$upper - s$lower))
  }))
  rownames(tab) <- NULL
  list(table = tab[order(tab$estimand, tab$method), ], balance = colMeans(smd_ok), raw = res)
}

if (sys.nframe() == 0L) {
  a <- as.numeric(commandArgs(trailingOnly = TRUE))
  reps <- if (length(a) >= 1) a[1] else 200
  n <- if (length(a) >= 2) a[2] else 2000
  fit_reps <- if (length(a) >= 3) a[3] else 40
  seed <- if (length(a) >= 4) a[4] else 1
  t0 <- proc.time()[["elapsed"]]
  v <- causal_validation(reps, n, fit_reps, seed)
  cat(sprintf("Causal validation: %d replicates of n = %d (%d with hierarchical fits), %.0f s\n\n", reps, n,
              fit_reps, proc.time()[["elapsed"]] - t0))
  print(format(v$table, digits = 3), row.names = FALSE)
  cat("\nShare of replicates with every |SMD| < 0.1 after adjustment:\n")
  print(round(v$balance, 3))
}
