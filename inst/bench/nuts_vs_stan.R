# Benchmark: hbmmm's NUTS against rstan on the same hierarchical model and
# priors: bayesm's cheese data, log VOLUME on DISP and log PRICE with all
# coefficients varying by RETAILER (88), an inverse-Wishart covariance, one
# residual variance per retailer; non-centred effects in both. Reports the
# minimum bulk ESS per second over the population-level parameters (target:
# hbmmm >= 2x rstan) and ESS per gradient evaluation (target: no worse).
# rstan runs the model written from per-retailer sufficient statistics (the
# fastest exact Stan formulation; the posterior and its geometry are those of
# the row-wise model); `rowwise` adds the row-wise Stan model as well (much
# slower: 2 ms per gradient). ESS per gradient depends only on the posterior
# and the algorithm, so it is compared over all Stan runs.
# Skipped (with a message) when rstan or bayesm is absent.
# Run: Rscript inst/bench/nuts_vs_stan.R [iter, default 2000] [chains, default 4] [rowwise]
suppressPackageStartupMessages(library(hbmmm))
for (p in c("rstan", "bayesm")) {
  if (!requireNamespace(p, quietly = TRUE)) {
    cat(sprintf("nuts_vs_stan: skipped, package %s is not installed\n", p))
    quit(save = "no")
  }
}
args <- commandArgs(trailingOnly = TRUE)
iter <- if (length(args) >= 1) as.integer(args[1]) else 2000L
chains <- if (length(args) >= 2) as.integer(args[2]) else 4L
rowwise <- length(args) >= 3 && args[3] == "rowwise"
data("cheese", package = "bayesm")
cheese$lvol <- log(cheese$VOLUME)
cheese$lprice <- log(cheese$PRICE)
s2 <- var(cheese$lvol)
prior <- hbmmm_prior(Intercept = normal(0, 10), b = normal(0, 10),
                     cov = inv_wishart(6, 6 * diag(3)), sigma = scaled_inv_chisq(3, sqrt(s2)))
form <- lvol ~ DISP + lprice + (1 + DISP + lprice | RETAILER)

stan_code <- "
data {
  int<lower=1> N; int<lower=1> J; int<lower=1> K;
  int<lower=1, upper=J> g[N];
  matrix[N, K] X; vector[N] y;
  real iw_df; cov_matrix[K] iw_S; real sig_nu; real sig_s;
}
parameters {
  vector[K] beta;
  cov_matrix[K] Sigma;
  matrix[K, J] z;
  vector<lower=0>[J] sigma2;
}
model {
  matrix[J, K] B = rep_matrix(beta', J) + (cholesky_decompose(Sigma) * z)';
  beta ~ normal(0, 10);
  Sigma ~ inv_wishart(iw_df, iw_S);
  to_vector(z) ~ std_normal();
  sigma2 ~ scaled_inv_chi_square(sig_nu, sig_s);
  y ~ normal(rows_dot_product(X, B[g]), sqrt(sigma2[g]));
}
"
stan_code_ss <- "
data {
  int<lower=1> J; int<lower=1> K;
  vector[J] n; matrix[K, K] XX[J]; vector[K] Xy[J]; vector[J] yy;
  real iw_df; cov_matrix[K] iw_S; real sig_nu; real sig_s;
}
parameters {
  vector[K] beta;
  cov_matrix[K] Sigma;
  matrix[K, J] z;
  vector<lower=0>[J] sigma2;
}
model {
  matrix[K, J] U = cholesky_decompose(Sigma) * z;
  beta ~ normal(0, 10);
  Sigma ~ inv_wishart(iw_df, iw_S);
  to_vector(z) ~ std_normal();
  sigma2 ~ scaled_inv_chi_square(sig_nu, sig_s);
  for (j in 1:J) {
    vector[K] bj = beta + col(U, j);
    real ss = yy[j] - 2 * dot_product(bj, Xy[j]) + quad_form(XX[j], bj);
    target += -0.5 * n[j] * log(sigma2[j]) - 0.5 * ss / sigma2[j];
  }
}
"
ret <- as.integer(cheese$RETAILER)
sdata <- list(N = nrow(cheese), J = max(ret), K = 3L, g = ret,
              X = cbind(1, cheese$DISP, cheese$lprice), y = cheese$lvol,
              iw_df = 6, iw_S = 6 * diag(3), sig_nu = 3, sig_s = sqrt(s2))
Xm <- cbind(1, cheese$DISP, cheese$lprice)
sdata_ss <- list(J = max(ret), K = 3L, n = as.numeric(tabulate(ret)),
                 XX = lapply(seq_len(max(ret)), function(j) crossprod(Xm[ret == j, , drop = FALSE])),
                 Xy = lapply(seq_len(max(ret)), function(j) drop(crossprod(Xm[ret == j, , drop = FALSE], cheese$lvol[ret == j]))),
                 yy = as.numeric(tapply(cheese$lvol^2, ret, sum)),
                 iw_df = 6, iw_S = 6 * diag(3), sig_nu = 3, sig_s = sqrt(s2))
cat("compiling the Stan models (not timed) ...\n")
sm_ss <- suppressMessages(rstan::stan_model(model_code = stan_code_ss))
sm <- if (rowwise) suppressMessages(rstan::stan_model(model_code = stan_code))

pop_stan <- c("beta[1]", "beta[2]", "beta[3]")
pop_hb <- c("b_Intercept", "b_DISP", "b_lprice")
run_stan <- function(seed, model = sm_ss, data = sdata_ss) {
  t <- system.time(sf <- suppressWarnings(rstan::sampling(model, data = data, chains = chains, iter = iter,
                                                          seed = seed, refresh = 0, cores = 1)))[["elapsed"]]
  a <- as.array(sf)
  ess <- vapply(pop_stan, function(v) ess_bulk(a[, , v]), 1)
  np <- rstan::get_sampler_params(sf, inc_warmup = TRUE)
  ngrad <- sum(vapply(np, function(m) sum(m[, "n_leapfrog__"]), 1))
  list(time = t, ess = ess, ngrad = ngrad, mean = colMeans(matrix(a[, , pop_stan], ncol = 3)))
}
run_hbmmm <- function(seed) {
  t <- system.time(fit <- hbmmm(form, data = cheese, sigma_by = "RETAILER", prior = prior,
                                sampler = "nuts", chains = chains, iter = iter, seed = seed,
                                cores = 1, refresh = 0))[["elapsed"]]
  ess <- vapply(pop_hb, function(v) ess_bulk(fit$draws[, , v]), 1)
  list(time = t, ess = ess, ngrad = fit$timing[["n_grad"]],
       mean = colMeans(matrix(fit$draws[, , pop_hb], ncol = 3)))
}
# alternate the two, twice each; report the medians
res <- lapply(1:2, function(r) {
  out <- list(stan = run_stan(r), hbmmm = run_hbmmm(r))
  if (rowwise) out$stan_rowwise <- run_stan(r, sm, sdata)
  out
})
med <- function(who, f) stats::median(vapply(res, function(x) f(x[[who]]), 1))
for (who in names(res[[1]])) {
  cat(sprintf("  %-6s time %6.2f s  min bulk ESS %6.0f  min ESS/s %8.1f  gradients %9.0f  min ESS per 1000 gradients %6.2f\n",
              who, med(who, function(x) x$time), med(who, function(x) min(x$ess)),
              med(who, function(x) min(x$ess) / x$time), med(who, function(x) x$ngrad),
              med(who, function(x) 1000 * min(x$ess) / x$ngrad)))
}
cat(sprintf("  posterior means (last run): stan %s | hbmmm %s\n",
            paste(sprintf("%.4f", res[[2]]$stan$mean), collapse = " "),
            paste(sprintf("%.4f", res[[2]]$hbmmm$mean), collapse = " ")))
r_ess_s <- med("hbmmm", function(x) min(x$ess) / x$time) / med("stan", function(x) min(x$ess) / x$time)
stan_runs <- unlist(lapply(res, function(x) x[grep("^stan", names(x))]), recursive = FALSE)
ess_grad_stan <- stats::median(vapply(stan_runs, function(x) min(x$ess) / x$ngrad, 1))
r_ess_g <- med("hbmmm", function(x) min(x$ess) / x$ngrad) / ess_grad_stan
cat(sprintf("cheese (%d rows, %d retailers, %d chains x %d iterations):\n", nrow(cheese), max(ret), chains, iter))
cat(sprintf("  ratio hbmmm / rstan (sufficient statistics), min bulk ESS per second: %.2f (target >= 2) %s\n", r_ess_s,
            if (r_ess_s >= 2) "OK" else "SLOW"))
cat(sprintf("  ratio hbmmm / rstan, min bulk ESS per gradient: %.2f (target >= 1, within Monte Carlo noise)\n", r_ess_g))
