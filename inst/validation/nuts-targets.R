# Long validation of the NUTS engine (src/nuts.c) on targets with known
# moments, and, when rstan is installed, a comparison with Stan on the same
# targets: effective sample size per gradient evaluation, mean acceptance,
# step size, divergences.
#
# Run from the package root with the package installed:
#   Rscript inst/validation/nuts-targets.R            (about 5-10 minutes)
#   HBMMM_NUTS_STAN=false Rscript ...                 (skip the Stan runs)
# Prints one table per target; z-scores use the package's mcse_mean().
# rstan needs the Boost headers under BH/include: Debian's r-cran-bh is a
# virtual package, so point a private copy of BH at /usr/include/boost
# (cp -r /usr/lib/R/site-library/BH /tmp/bhlib/; ln -s /usr/include/boost
# /tmp/bhlib/BH/include/boost; R_LIBS=/tmp/bhlib Rscript ...).
#
# Results on 2026-11-23 (2 shared cores): 100-d Gaussian ESS per gradient
# hbmmm diag 0.0011-0.0013 vs Stan 0.0012-0.0013, dense 0.0062-0.0081 vs
# Stan 0.0064-0.0083, same step sizes (0.22 / 0.40) and leapfrog counts;
# centered funnel 4 and 1 divergences (Stan 4 and 3) at adapt_delta 0.8 and
# 0.95, E-BFMI 0.05 (Stan 0.06-0.08); non-centered none.

library(hbmmm)
source(file.path("tests", "testthat", "helper-nuts.R"))
use_stan <- Sys.getenv("HBMMM_NUTS_STAN") != "false" && requireNamespace("rstan", quietly = TRUE)

ess_per_grad <- function(draws, n_grad) mean(apply(draws, 3, hbmmm::ess_bulk)) / n_grad

report <- function(label, fit, mean, var) {
  z <- moment_z(fit, mean, var)
  sd <- fit$sampler_diagnostics
  data.frame(run = label, max_abs_z_mean = max(abs(z$mean)), max_abs_z_var = max(abs(z$var)),
             mean_z2_mean = mean(z$mean^2), mean_z2_var = mean(z$var^2),
             accept_stat = mean(sd$accept_stat), stepsize = mean(sd$stepsize[1, ]),
             n_leapfrog = mean(sd$n_leapfrog), divergent = sum(sd$divergent),
             ess_per_grad = ess_per_grad(fit$draws, fit$timing[["n_grad"]]),
             seconds = fit$timing[["elapsed"]])
}

stan_fit <- function(model, data, metric, seed, iter = 2000, chains = 2, delta = 0.8) {
  f <- rstan::sampling(model, data = data, chains = chains, iter = iter, seed = seed, refresh = 0,
                       control = list(metric = metric, adapt_delta = delta))
  sp <- rstan::get_sampler_params(f, inc_warmup = TRUE)
  post <- rstan::get_sampler_params(f, inc_warmup = FALSE)
  arr <- rstan::extract(f, permuted = FALSE)
  arr <- arr[, , setdiff(dimnames(arr)[[3]], "lp__"), drop = FALSE]
  n_grad <- sum(vapply(sp, function(s) sum(s[, "n_leapfrog__"]), 1))
  t <- rstan::get_elapsed_time(f)
  list(draws = arr, n_grad = n_grad, seconds = sum(t),
       accept_stat = mean(vapply(post, function(s) mean(s[, "accept_stat__"]), 1)),
       stepsize = mean(vapply(post, function(s) s[1, "stepsize__"], 1)),
       n_leapfrog = mean(vapply(post, function(s) mean(s[, "n_leapfrog__"]), 1)),
       divergent = sum(vapply(post, function(s) sum(s[, "divergent__"]), 1)))
}

stan_report <- function(label, s, mean, var) {
  fit <- list(draws = s$draws)
  z <- moment_z(fit, mean, var)
  data.frame(run = label, max_abs_z_mean = max(abs(z$mean)), max_abs_z_var = max(abs(z$var)),
             mean_z2_mean = mean(z$mean^2), mean_z2_var = mean(z$var^2),
             accept_stat = s$accept_stat, stepsize = s$stepsize, n_leapfrog = s$n_leapfrog,
             divergent = s$divergent, ess_per_grad = ess_per_grad(s$draws, s$n_grad), seconds = s$seconds)
}

# ---- 1. 100-d correlated Gaussian, sds 0.01 to 10 -------------------------
cat("\n== 100-d correlated Gaussian (sds 0.01..10, three-factor correlations) ==\n")
tg <- gauss_target(100)
rows <- list()
for (metric in c("diag", "dense")) {
  for (seed in 1:2) {
    rows[[length(rows) + 1]] <- report(sprintf("hbmmm C model %s seed %d", metric, seed),
                                       nuts_mvn_c(tg$mean, tg$S, iter = 2000, seed = seed, metric = metric),
                                       tg$mean, diag(tg$S))
  }
  rows[[length(rows) + 1]] <- report(sprintf("hbmmm nuts() R callbacks %s", metric),
                                     nuts(tg$log_density, tg$grad, init = rep(0, 100), iter = 2000, chains = 2,
                                          seed = 1, metric = metric, refresh = 0),
                                     tg$mean, diag(tg$S))
}
if (use_stan) {
  code <- "data { int d; vector[d] mu; matrix[d, d] L; } parameters { vector[d] x; }
           model { x ~ multi_normal_cholesky(mu, L); }"
  sm <- rstan::stan_model(model_code = code)
  for (metric in c("diag_e", "dense_e")) for (seed in 1:2) {
    s <- stan_fit(sm, list(d = 100, mu = tg$mean, L = t(chol(tg$S))), metric, seed)
    rows[[length(rows) + 1]] <- stan_report(sprintf("Stan %s seed %d", metric, seed), s, tg$mean, diag(tg$S))
  }
}
print(do.call(rbind, rows), digits = 3)

# ---- 2. Student-t, 5-d, df = 5 --------------------------------------------
cat("\n== Student-t, 5 dimensions, df = 5 (variance 5/3; 4th moment infinite) ==\n")
df <- 5
lp_t <- function(x) -(df + 1) / 2 * sum(log1p(x^2 / df))
gr_t <- function(x) -(df + 1) * x / (df + x^2)
ft <- nuts(lp_t, gr_t, init = rep(0.5, 5), iter = 20000, chains = 4, seed = 1, refresh = 0)
print(report("hbmmm Student-t", ft, rep(0, 5), rep(df / (df - 2), 5)), digits = 3)
q <- c(0.05, 0.25, 0.5, 0.75, 0.95)
cat("quantiles (pooled over coordinates) vs qt():\n")
print(rbind(hbmmm = stats::quantile(ft$draws, q), exact = stats::qt(q, df)), digits = 3)

# ---- 3. Neal's funnel -------------------------------------------------------
cat("\n== Neal's funnel (y ~ N(0, 3), 9 x ~ N(0, exp(y / 2))) ==\n")
funnel_c <- list(
  lp = function(th) -th[1]^2 / 18 - 9 * th[1] / 2 - sum(th[-1]^2) / (2 * exp(th[1])),
  gr = function(th) c(-th[1] / 9 - 9 / 2 + sum(th[-1]^2) / (2 * exp(th[1])), -th[-1] / exp(th[1])))
funnel_nc <- list(lp = function(th) -th[1]^2 / 18 - sum(th[-1]^2) / 2, gr = function(th) c(-th[1] / 9, -th[-1]))
frows <- list()
for (delta in c(0.8, 0.95)) {
  for (param in c("centered", "non-centered")) {
    f <- if (param == "centered") funnel_c else funnel_nc
    fit <- nuts(f$lp, f$gr, init = rep(0.1, 10), iter = 2000, chains = 4, seed = 1, adapt_delta = delta, refresh = 0)
    sd <- fit$sampler_diagnostics
    y <- fit$draws[, , 1]
    frows[[length(frows) + 1]] <- data.frame(run = sprintf("hbmmm %s delta %.2f", param, delta),
      divergent = sum(sd$divergent), ebfmi_min = min(hbmmm:::ebfmi(sd$energy)),
      y_mean = mean(y), y_sd = stats::sd(y), y_q05 = stats::quantile(y, 0.05), rhat_y = rhat(y))
  }
}
if (use_stan) {
  fm <- rstan::stan_model(model_code = "parameters { real y; vector[9] x; }
                                        model { y ~ normal(0, 3); x ~ normal(0, exp(y / 2)); }")
  for (delta in c(0.8, 0.95)) {
    f <- rstan::sampling(fm, chains = 4, iter = 2000, seed = 1, refresh = 0, control = list(adapt_delta = delta))
    sp <- rstan::get_sampler_params(f, inc_warmup = FALSE)
    y <- rstan::extract(f, "y", permuted = FALSE)[, , 1]
    en <- vapply(sp, function(s) s[, "energy__"], numeric(1000))
    frows[[length(frows) + 1]] <- data.frame(run = sprintf("Stan centered delta %.2f", delta),
      divergent = sum(vapply(sp, function(s) sum(s[, "divergent__"]), 1)), ebfmi_min = min(hbmmm:::ebfmi(en)),
      y_mean = mean(y), y_sd = stats::sd(y), y_q05 = stats::quantile(y, 0.05), rhat_y = rhat(y))
  }
}
cat("(exact: y mean 0, sd 3, 5% quantile -4.93)\n")
print(do.call(rbind, frows), digits = 3, row.names = FALSE)

# ---- 4. adaptation target ----------------------------------------------------
cat("\n== mean accept_stat after warmup vs adapt_delta (10-d Gaussian, 4 chains) ==\n")
tg10 <- gauss_target(10, sd_range = c(0.1, 10))
arows <- list()
for (delta in c(0.6, 0.8, 0.9, 0.95, 0.99)) {
  fit <- nuts_mvn_c(tg10$mean, tg10$S, iter = 2000, chains = 4, seed = 1, adapt_delta = delta)
  arows[[length(arows) + 1]] <- data.frame(adapt_delta = delta, accept_stat = mean(fit$sampler_diagnostics$accept_stat),
                                           stepsize = mean(vapply(fit$state, `[[`, 1, "stepsize")))
}
print(do.call(rbind, arows), digits = 3)
