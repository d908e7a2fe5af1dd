# Benchmark: the bayesm-equivalent hierarchical linear model on bayesm's cheese
# data (log VOLUME on DISP and log PRICE, all coefficients varying by
# RETAILER, one error variance per retailer), hbmmm's Gibbs sampler against
# bayesm::rhierLinearModel in the same run. Targets (issue 13): draws per
# second and min bulk ESS per second of the population means both >= 5x.
# Run: Rscript inst/bench/gibbs_cheese.R [draws, default 20000]
suppressPackageStartupMessages(library(hbmmm))
if (!requireNamespace("bayesm", quietly = TRUE)) stop("this benchmark needs bayesm")
args <- commandArgs(trailingOnly = TRUE)
R <- if (length(args)) as.integer(args[1]) else 20000L
data("cheese", package = "bayesm")
cheese$lvol <- log(cheese$VOLUME)
cheese$lprice <- log(cheese$PRICE)
s2 <- var(cheese$lvol)
ret <- levels(cheese$RETAILER)
regdata <- lapply(ret, function(r) {
  d <- cheese[cheese$RETAILER == r, ]
  list(y = d$lvol, X = cbind(1, d$DISP, d$lprice))
})
prior <- hbmmm_prior(Intercept = normal(0, 10), b = normal(0, 10),
                     cov = inv_wishart(6, 6 * diag(3)), sigma = scaled_inv_chisq(3, sqrt(s2)))

time_bayesm <- function() {
  set.seed(1)
  system.time(invisible(capture.output(bm <<- bayesm::rhierLinearModel(
    Data = list(regdata = regdata),
    Prior = list(Deltabar = matrix(0, 1, 3), A = matrix(0.01), nu.e = 3,
                 ssq = rep(s2, length(ret)), nu = 6, V = 6 * diag(3)),
    Mcmc = list(R = R, keep = 1, nprint = 0)))))[["elapsed"]]
}
# the whole call as a user makes it: the fit, its checks, and the summary
time_hbmmm <- function() {
  system.time({
    fit <<- hbmmm(lvol ~ DISP + lprice + (1 + DISP + lprice | RETAILER), data = cheese,
                  sigma_by = "RETAILER", prior = prior, chains = 1, iter = R,
                  warmup = 0, seed = 1, refresh = 0)
    invisible(utils::capture.output(print(summary(fit))))
  })[["elapsed"]]
}
# alternate the two, three times each, and keep the medians
t <- replicate(3, c(bayesm = time_bayesm(), hbmmm = time_hbmmm()))
med <- apply(t, 1, median)
dps <- R / med
cat(sprintf("cheese: %d observations, %d retailers, %d draws per run (median of 3 runs, same session)\n",
            nrow(cheese), length(ret), R))
cat(sprintf("  bayesm::rhierLinearModel  %8.2f s  %9.0f draws/s\n", med[["bayesm"]], dps[["bayesm"]]))
cat(sprintf("  hbmmm Gibbs               %8.2f s  %9.0f draws/s  (whole call: model, sampling, checks, summary)\n",
            med[["hbmmm"]], dps[["hbmmm"]]))
cat(sprintf("  ratio hbmmm / bayesm draws per second: %.2f (target >= 5) %s\n",
            dps[["hbmmm"]] / dps[["bayesm"]], if (dps[["hbmmm"]] >= 5 * dps[["bayesm"]]) "OK" else "SLOW"))
# effective draws per second for the population means
ess_h <- vapply(c("b_Intercept", "b_DISP", "b_lprice"), function(v) ess_bulk(fit$draws[, , v]), 1)
ess_b <- apply(bm$Deltadraw, 2, function(x) ess_bulk(matrix(x, ncol = 1)))
ess_ratio <- (min(ess_h) / med[["hbmmm"]]) / (min(ess_b) / med[["bayesm"]])
cat(sprintf("  min bulk ESS per second of Delta: bayesm %.0f, hbmmm %.0f, ratio %.2f (target >= 5) %s\n",
            min(ess_b) / med[["bayesm"]], min(ess_h) / med[["hbmmm"]], ess_ratio, if (ess_ratio >= 5) "OK" else "SLOW"))
