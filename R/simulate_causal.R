# Simulator of confounded exposure data with known treatment effects, for
# testing and demonstrating the causal tools.

#' Simulate confounded exposure data with known treatment effects
#'
#' Simulates `n` consumers with characteristics that drive both their
#' exposure to a marketing channel (the binary treatment) and their sales,
#' so that the naive exposed-minus-unexposed difference is biased. The
#' effect of exposure differs between consumers (it grows with age and with
#' income), so the average effect on the exposed (ATT) differs from the
#' average effect on everyone (ATE).
#'
#' The model, with `age_z` and `income_z` standard normal and
#' `loyal ~ Bernoulli(0.3)`:
#' \deqn{P(T = 1 \mid X) = \mathrm{logit}^{-1}(\alpha_0 + \alpha_1 \mathrm{age\_z} +
#'   \alpha_2 \mathrm{income\_z} + \alpha_3 \mathrm{loyal})}{P(T = 1 | X) =
#'   plogis(a0 + a1 age_z + a2 income_z + a3 loyal)}
#' \deqn{\tau_i = \tau + \gamma_1 \mathrm{age\_z} + \gamma_2 \mathrm{income\_z}}{tau_i =
#'   tau + g1 age_z + g2 income_z}
#' \deqn{y_i = 100 + 8 \mathrm{age\_z} + 6 \mathrm{income\_z} + 5 \mathrm{loyal} +
#'   u_{\mathrm{region}} + \tau_i T_i + \varepsilon_i}{y = 100 + 8 age_z + 6 income_z
#'   + 5 loyal + u_region + tau_i T + e}
#' with `e ~ N(0, sigma^2)` and region effects `u ~ N(0, 2^2)` (4 regions).
#'
#' @param n Number of consumers (at least 20).
#' @param tau Average treatment effect in the population (`tau` above).
#' @param heterogeneity Two numbers `c(age, income)`: how much the effect
#'   grows per standard deviation of age and of income (`gamma` above).
#' @param confounding Numbers `c(intercept, age, income, loyal)`: the
#'   coefficients of the true propensity model (`alpha` above). Larger values
#'   mean stronger confounding and less overlap.
#' @param sigma Residual standard deviation.
#' @param seed Optional whole number making the simulation reproducible (the
#'   caller's random number state is restored).
#' @return An object of class `hbmmm_causal_sim`, a list with
#'   \describe{
#'     \item{`data`}{A data frame: `id`, `age` (years, `45 + 14 age_z`), `age_z`, `age_band`
#'       (factor `"18-34"`, `"35-54"`, `"55+"`), `income` (thousands, `55 + 12 income_z`),
#'       `income_z`, `income_band` (factor `"low"`, `"mid"`, `"high"`),
#'       `loyal` (0/1), `region` (factor), `treat` (0/1 exposure),
#'       `propensity` (the true score), `tau` (each consumer's true effect),
#'       `y0`, `y1` (both potential outcomes) and `sales` (the observed one).}
#'     \item{`truth`}{Named vector: population `ATE`, `ATT`, `ATC` (exact,
#'       by quadrature over the covariate distribution), the sample
#'       `SATE`, `SATT`, `SATC` (averages of `tau` over everyone, the exposed
#'       and the unexposed), and `naive_bias`, the population bias of the
#'       exposed-minus-unexposed difference for the ATE.}
#'     \item{`params`}{The parameters used.}
#'   }
#' @seealso [propensity_score()], [ps_match()], [ps_weight()],
#'   [estimate_effect()].
#' @examples
#' sim <- simulate_confounded(n = 1000, seed = 1)
#' sim$truth
#' d <- sim$data
#' # the naive difference is biased upwards
#' mean(d$sales[d$treat == 1]) - mean(d$sales[d$treat == 0])
#' @export
simulate_confounded <- function(n = 2000, tau = 10, heterogeneity = c(3, 2),
                                confounding = c(-1, 0.8, 0.6, 0.8), sigma = 10, seed = NULL) {
  n <- check_count(n, "n", min = 20, max = 1e8)
  check_num <- function(x, arg, len) {
    if (!is.numeric(x) || length(x) != len || any(!is.finite(x))) {
      abort_input(arg, sprintf("must be %d finite number(s); found %s", len, describe_value(x)))
    }
    as.double(x)
  }
  tau <- check_num(tau, "tau", 1L)
  heterogeneity <- check_num(heterogeneity, "heterogeneity", 2L)
  confounding <- check_num(confounding, "confounding", 4L)
  sigma <- check_num(sigma, "sigma", 1L)
  if (sigma <= 0) abort_input("sigma", sprintf("must be positive; found %s", describe_value(sigma)))
  restore <- sim_seed(seed)
  if (!is.null(restore)) on.exit(restore(), add = TRUE)

  age_z <- stats::rnorm(n)
  income_z <- stats::rnorm(n)
  loyal <- stats::rbinom(n, 1L, 0.3)
  region_eff <- stats::rnorm(4L, 0, 2)
  region <- sample.int(4L, n, replace = TRUE)
  lp <- confounding[1] + confounding[2] * age_z + confounding[3] * income_z + confounding[4] * loyal
  e <- stats::plogis(lp)
  treat <- stats::rbinom(n, 1L, e)
  tau_i <- tau + heterogeneity[1] * age_z + heterogeneity[2] * income_z
  y0 <- 100 + 8 * age_z + 6 * income_z + 5 * loyal + region_eff[region] + stats::rnorm(n, 0, sigma)
  y1 <- y0 + tau_i
  sales <- ifelse(treat == 1L, y1, y0)
  age <- 45 + 14 * age_z
  income <- 55 + 12 * income_z
  data <- data.frame(
    id = seq_len(n), age = age, age_z = age_z,
    age_band = cut(age, c(-Inf, 35, 55, Inf), right = FALSE, labels = c("18-34", "35-54", "55+")),
    income = income, income_z = income_z,
    income_band = cut(income_z, c(-Inf, -0.5, 0.5, Inf), labels = c("low", "mid", "high")),
    loyal = loyal, region = factor(paste0("R", region), levels = paste0("R", 1:4)),
    treat = treat, propensity = e, tau = tau_i, y0 = y0, y1 = y1, sales = sales
  )
  pop <- causal_population_truth(tau, heterogeneity, confounding)
  truth <- c(pop, SATE = mean(tau_i), SATT = mean(tau_i[treat == 1L]), SATC = mean(tau_i[treat == 0L]))
  structure(list(data = data, truth = truth,
                 params = list(n = n, tau = tau, heterogeneity = heterogeneity,
                               confounding = confounding, sigma = sigma)),
            class = "hbmmm_causal_sim")
}

#' @rdname simulate_confounded
#' @param x An `hbmmm_causal_sim` object.
#' @param ... Ignored.
#' @export
print.hbmmm_causal_sim <- function(x, ...) {
  d <- x$data
  cat(sprintf("<hbmmm_causal_sim> %d consumers, %d exposed (%.1f%%)\n", nrow(d), sum(d$treat),
              100 * mean(d$treat)))
  cat("True effects (population, then sample):\n")
  cat_pairs(x$truth, 4)
  cat(sprintf("Naive exposed - unexposed difference in this sample: %.3f\n",
              mean(d$sales[d$treat == 1]) - mean(d$sales[d$treat == 0])))
  invisible(x)
}

# Gauss-Hermite nodes and weights for integrals against the standard normal
# density (Golub-Welsch).
gauss_hermite_normal <- function(m) {
  b <- sqrt(seq_len(m - 1L))
  J <- matrix(0, m, m)
  J[cbind(seq_len(m - 1L), 2:m)] <- b
  J[cbind(2:m, seq_len(m - 1L))] <- b
  e <- eigen(J, symmetric = TRUE)
  list(x = e$values, w = e$vectors[1, ]^2)
}

# Population ATE, ATT, ATC and the naive difference's bias, by quadrature
# over (age_z, income_z) for each value of loyal.
causal_population_truth <- function(tau, g, a) {
  gh <- gauss_hermite_normal(60L)
  z1 <- rep(gh$x, each = length(gh$x))
  z2 <- rep(gh$x, times = length(gh$x))
  w <- rep(gh$w, each = length(gh$x)) * rep(gh$w, times = length(gh$x))
  mom <- c(p = 0, pt = 0, pc = 0, y1 = 0, y0 = 0)
  for (l in 0:1) {
    pl <- if (l == 1) 0.3 else 0.7
    e <- stats::plogis(a[1] + a[2] * z1 + a[3] * z2 + a[4] * l)
    ti <- tau + g[1] * z1 + g[2] * z2
    mu0 <- 100 + 8 * z1 + 6 * z2 + 5 * l
    mom <- mom + pl * c(sum(w * e), sum(w * e * ti), sum(w * (1 - e) * ti),
                        sum(w * e * (mu0 + ti)), sum(w * (1 - e) * mu0))
  }
  p1 <- mom[["p"]]
  att <- mom[["pt"]] / p1
  atc <- mom[["pc"]] / (1 - p1)
  naive <- mom[["y1"]] / p1 - mom[["y0"]] / (1 - p1)
  c(ATE = tau, ATT = att, ATC = atc, naive_bias = naive - tau)
}
