# Simulator of the personalization paper's data (monthly consumer panel in
# markets, four channels counted as exposures, linear effects personalized by
# consumer characteristics, a targeting decision confounded with those
# characteristics). Reuses the checks and pieces of simulate_hierarchical.R.

# Exposure model by channel: `level` is the mean monthly count (the paper's
# Table 5 means), `age`, `income`, `frequency` how the consumer's rate moves
# per standard deviation of each characteristic (older consumers watch more
# TV and use less social media), `targeted` the rate multiplier for consumers
# in the CRM target segment (retargeted display, more emails), `spread` the
# lognormal sd of the consumer's own media habits.
PSIM_CHANNELS <- data.frame(
  channel   = c("tv", "digital", "email", "social"),
  mu_beta   = 25 * c(0.042, 0.035, 0.058, 0.029),
  sd_beta   = 25 * c(0.031, 0.028, 0.037, 0.025),
  level     = c(12.37, 45.63, 3.82, 6.41),
  age       = c(0.30, -0.15, 0.05, -0.40),
  income    = c(-0.05, 0.10, 0.10, 0.00),
  frequency = c(0.00, 0.15, 0.20, 0.10),
  targeted  = c(1.00, 1.40, 2.00, 1.00),
  spread    = c(0.45, 0.50, 0.35, 0.55),
  stringsAsFactors = FALSE
)
PSIM_TRAITS <- c("age_z", "income_z", "frequency_z")

#' Simulate the consumer panel of the personalization paper
#'
#' Generates monthly purchases of consumers in markets from the individual-level
#' hierarchical model of the personalization paper: media exposures to TV,
#' digital display, email and social media act linearly on (log) purchases,
#' each consumer's media coefficients depend on their characteristics (the
#' personalization layer) plus an individual random effect, markets differ in
#' their baseline and in their response to market-level covariates, and a
#' targeting decision (the binary treatment of the paper's propensity model)
#' depends on the same characteristics that drive purchases. The defaults are
#' the paper's Table 6 estimates, used here as the truth, in dollars: the
#' paper does not give the unit of its response, and 25 dollars per unit makes
#' the average monthly purchase about the paper's 128 dollars (Table 5), so
#' every default effect and standard deviation is 25 times the paper's.
#'
#' @section The model:
#' For consumer \eqn{i} in market \eqn{j} and month \eqn{t}:
#' \deqn{y_{ijt} = \alpha_{ij} + \delta' W_i + \beta_{i}' X_{ijt} + \gamma_j' Z_{jt}
#'   + \varepsilon_{ijt},\quad \varepsilon_{ijt} \sim N(0, \sigma^2)}{y[ijt] = a[ij] +
#'   delta' W[i] + b[i]' X[ijt] + g[j]' Z[jt] + e[ijt], e ~ N(0, sigma^2)}
#' where \eqn{y} is the monthly purchase amount in dollars (net of returns,
#' so a few consumer-months are negative), \eqn{X_{ijt}} the
#' monthly exposure counts (no carry-over, no saturation: the paper's model is
#' linear in exposures), \eqn{W_i} the standardized characteristics
#' `age_z`, `income_z`, `frequency_z` and \eqn{Z_{jt}} the market covariates
#' `econ` (economic index) and `competitor` (competitors' activity), both
#' standardized.
#' * Market level: \eqn{\alpha_{ij} = \mu_\alpha + v_{0j} + a_i}, \eqn{\gamma_j
#'   = \mu_\gamma + v_j}, with \eqn{v} normal with standard deviations
#'   `sd_market` (intercept, `econ`, `competitor`), independent.
#' * Personalization layer: \eqn{\beta_{ic} = \mu_{\beta c} + \Theta_c' W_i +
#'   \eta_{ic}}{b[ic] = mu_b[c] + Theta[c,] W[i] + eta[ic]}, with
#'   \eqn{a_i \sim N(0, \sigma_\alpha^2)} and \eqn{\eta_{ic} \sim N(0,
#'   \sigma_{\beta c}^2)}, all independent.
#' * Exposures: Poisson counts whose rate is the channel's level times the
#'   market's monthly flighting (campaign months and dark months) times the
#'   consumer's media habits (lognormal, shifted by the characteristics:
#'   older consumers see more TV and less social media; frequent buyers and
#'   higher incomes get more digital and email) times a multiplier for
#'   targeted consumers.
#' * Targeting: \eqn{P(targeted_i = 1) = logit^{-1}(\lambda' (1, W_i))}. Both
#'   exposures and purchases depend on \eqn{W_i}, so exposure is confounded
#'   with the baseline purchase level: a comparison of targeted and other
#'   consumers that ignores the characteristics is biased.
#'
#' Because \eqn{W_i} is standardized in the sample, \eqn{\mu_{\beta c}} is the
#' effect of one more exposure to channel \eqn{c} for the average consumer,
#' the paper's average treatment effect (ATE) per exposure; the sample ATE is
#' the mean of the consumers' true \eqn{\beta_{ic}} (`ate`).
#'
#' @section Correspondence with hbmmm:
#' The `formula` returned is
#'
#' ```
#' purchase ~ tv + digital + email + social + age_z + income_z +
#'   frequency_z + econ + competitor + (1 + econ + competitor || market) +
#'   (1 + tv + digital + email + social || individual)
#' ```
#'
#' fitted with `media` the channels, `adstock = "none"`, `saturation =
#' "none"` and `personalize = ~ age_z + income_z + frequency_z` (which adds
#' the interactions `tv:age_z`, ...: \eqn{\Theta}). Parameter by parameter:
#' \eqn{\mu_\alpha} is `b_Intercept`, \eqn{\mu_{\beta c}} `b_<c>`, \eqn{\delta}
#' `b_age_z`, ..., \eqn{\mu_\gamma} `b_econ`, `b_competitor`, \eqn{\Theta}
#' `b_<c>:age_z`, ..., the market sds `sd_market__Intercept`,
#' `sd_market__econ`, `sd_market__competitor`, \eqn{\sigma_\alpha}
#' `sd_individual__Intercept`, \eqn{\sigma_{\beta c}} `sd_individual__<c>`
#' and \eqn{\sigma} `sigma`.
#'
#' The paper's data had 500,000 consumers in 50 markets over 24 months:
#' `simulate_consumer_panel(n_markets = 50, n_consumers = 10000)` has that
#' size (12 million rows; a few GB of memory).
#'
#' @param n_markets Number of markets, a whole number in `[2, 1000]`.
#' @param n_consumers Number of consumers per market, in `[1, 10000]`.
#' @param n_months Number of months, in `[2, 1000]`.
#' @param channels Channels, a subset of `"tv"`, `"digital"`, `"email"`,
#'   `"social"` (each has its own exposure model).
#' @param intercept \eqn{\mu_\alpha}, the mean monthly purchase (dollars) of
#'   an average consumer with no exposure in an average market (Table 6's 2.487
#'   times 25).
#' @param mu_beta Mean effect of one exposure by channel (named or in the order
#'   of `channels`); `NULL`: the paper's Table 6 times 25 dollars (`tv` 1.05,
#'   `digital` 0.875, `email` 1.45, `social` 0.725).
#' @param sd_beta Standard deviations of the individual effects \eqn{\eta}
#'   by channel, positive; `NULL`: Table 6 times 25 (0.775, 0.7, 0.925, 0.625).
#' @param sd_intercept \eqn{\sigma_\alpha}, positive (Table 6's 0.872 times
#'   25).
#' @param theta Personalization coefficients \eqn{\Theta}: a matrix with one
#'   row per channel and columns `"age_z"`, `"income_z"`, `"frequency_z"`.
#'   `NULL`: older consumers respond more to TV and less to social media,
#'   higher incomes more to email, frequent buyers a little more to every
#'   channel (see the value's `Theta`).
#' @param delta Effects of the characteristics on the baseline, named
#'   `age_z`, `income_z`, `frequency_z` (or in that order).
#' @param gamma Mean effects of the market covariates, `c(econ = ,
#'   competitor = )`.
#' @param sd_market Standard deviations of the market effects on the
#'   intercept, `econ` and `competitor` (named or in that order), non-negative.
#' @param targeting Coefficients \eqn{\lambda} of the true propensity model,
#'   `c(Intercept, age_z, income_z, frequency_z)`.
#' @param sigma Positive residual standard deviation (dollars).
#' @param start First day of the first month (Date or string).
#' @param seed Optional whole number making the simulation reproducible (the
#'   caller's random number state is restored on exit).
#' @return An object of class `c("hbmmm_sim_consumers", "hbmmm_sim")`, a list
#'   with
#'   \describe{
#'     \item{`data`}{One row per consumer and month, ordered by market,
#'       consumer and month: `market` (factor `"M01"`, ...), `individual`
#'       (factor `"C00001"`, ...), `month`, `date`, `purchase` (dollars a
#'       month), the exposure counts, `econ`,
#'       `competitor`, `age` (years), `income` (thousands of dollars),
#'       `frequency` (purchases in the previous year), their standardized
#'       versions `age_z`, `income_z`, `frequency_z`, `age_band` (factor
#'       `"18-34"`, `"35-54"`, `"55+"`) and `targeted` (0/1).}
#'     \item{`consumers`}{One row per consumer: `individual`, `market`, the
#'       characteristics, `targeted`, `propensity` (the true score), `alpha`
#'       (\eqn{\alpha_{ij} + \delta' W_i}, market effect included) and one
#'       column per channel with the true individual effect \eqn{\beta_{ic}}.}
#'     \item{`truth`}{Named vector of the population-level parameters under
#'       hbmmm's draw names.}
#'     \item{`ate`}{The sample ATE per exposure by channel: the mean of the
#'       consumers' true effects.}
#'     \item{`Theta`}{Channels by `c("1", "age_z", "income_z", "frequency_z")`: \eqn{\mu_\beta} and
#'       \eqn{\Theta}.}
#'     \item{`formula`, `hbmmm_args`}{The [hbmmm()] formula and the other
#'       arguments (`media`, `adstock`, `saturation`, `time`, `panel`,
#'       `personalize`) of the generating model.}
#'     \item{`media_effect`}{Matrix, rows of `data` by channels: each
#'       channel's true contribution \eqn{\beta_{ic} X_{ijt}} to
#'       `purchase`.}
#'     \item{`ranef`}{The true market effects (markets by terms).}
#'     \item{`call`}{The matched call.}
#'   }
#' @seealso [simulate_personalized()] for weekly individual panels with
#'   carry-over and saturation; the dataset [personalized]; `vignette("personalization")`.
#' @examples
#' sim <- simulate_consumer_panel(n_markets = 3, n_consumers = 5, n_months = 12, seed = 1)
#' sim
#' head(sim$consumers)
#' sim$ate
#' @export
simulate_consumer_panel <- function(n_markets = 20, n_consumers = 25, n_months = 24,
                                    channels = c("tv", "digital", "email", "social"),
                                    intercept = 62.175, mu_beta = NULL, sd_beta = NULL,
                                    sd_intercept = 21.8, theta = NULL,
                                    delta = c(age_z = -1, income_z = 6, frequency_z = 9),
                                    gamma = c(econ = 4, competitor = -2.5),
                                    sd_market = c(Intercept = 5, econ = 1.25, competitor = 1),
                                    targeting = c(-0.4, 0.3, 0.6, 0.8), sigma = 25,
                                    start = as.Date("2021-01-01"), seed = NULL) {
  cl <- match.call()
  n_markets <- check_count(n_markets, "n_markets", min = 2, max = 1000)
  n_consumers <- check_count(n_consumers, "n_consumers", min = 1, max = 1e4)
  n_months <- check_count(n_months, "n_months", min = 2, max = 1000)
  channels <- psim_check_channels(channels)
  C <- length(channels)
  par <- PSIM_CHANNELS[match(channels, PSIM_CHANNELS$channel), ]
  mu_beta <- sim_channel_par(mu_beta, "mu_beta", channels, par$mu_beta, is.finite, "finite")
  sd_beta <- sim_channel_par(sd_beta, "sd_beta", channels, par$sd_beta, function(x) is.finite(x) & x > 0,
                             "positive and finite")
  intercept <- hsim_check_real(intercept, "intercept")
  sd_intercept <- hsim_check_positive(sd_intercept, "sd_intercept")
  theta <- hsim_check_matrix(theta, "theta", channels, PSIM_TRAITS, psim_default_theta(channels))
  delta <- psim_named(delta, "delta", PSIM_TRAITS)
  gamma <- psim_named(gamma, "gamma", c("econ", "competitor"))
  sd_market <- hsim_check_sd(sd_market, "sd_market", c("Intercept", "econ", "competitor"), c(5, 1.25, 1))
  names(sd_market) <- c("Intercept", "econ", "competitor")
  if (!is.numeric(targeting) || length(targeting) != 4L || any(!is.finite(targeting))) {
    abort_input("targeting", sprintf("must be 4 finite numbers (intercept, age_z, income_z, frequency_z); found %s",
                                     describe_value(targeting)))
  }
  sigma <- hsim_check_positive(sigma, "sigma")
  start <- sim_check_start(start)
  restore <- sim_seed(seed)
  if (!is.null(restore)) on.exit(restore(), add = TRUE)

  n_ind <- n_markets * n_consumers
  mk_ids <- paste0("M", formatC(seq_len(n_markets), width = max(2L, nchar(n_markets)), flag = "0"))
  ind_ids <- paste0("C", formatC(seq_len(n_ind), width = max(5L, nchar(n_ind)), flag = "0"))
  ind_mk <- rep(seq_len(n_markets), each = n_consumers)

  # Draw order is fixed: characteristics, targeting, market effects, individual
  # effects, market covariates, exposures, noise.
  cons <- psim_characteristics(n_ind)
  W <- as.matrix(cons[PSIM_TRAITS])
  propensity <- stats::plogis(drop(cbind(1, W) %*% targeting))
  targeted <- stats::rbinom(n_ind, 1L, propensity)
  r_market <- hsim_mvn(n_markets, sd_market, 0)
  dimnames(r_market) <- list(mk_ids, names(sd_market))
  a <- stats::rnorm(n_ind, 0, sd_intercept)
  eta <- matrix(stats::rnorm(n_ind * C), n_ind) * rep(sd_beta, each = n_ind)
  Theta <- cbind("1" = mu_beta, theta)
  rownames(Theta) <- channels
  beta <- cbind(1, W) %*% t(Theta) + eta
  dimnames(beta) <- list(ind_ids, channels)
  alpha <- intercept + r_market[ind_mk, "Intercept"] + a + drop(W %*% delta)

  Z <- psim_market_covariates(n_markets, n_months)
  expo <- psim_exposures(par, W, targeted, ind_mk, n_markets, n_months)

  row_ind <- rep(seq_len(n_ind), each = n_months)
  row_mm <- (ind_mk[row_ind] - 1L) * n_months + rep(seq_len(n_months), n_ind)
  media_effect <- beta[row_ind, , drop = FALSE] * expo
  dimnames(media_effect) <- list(NULL, channels)
  mrow <- ind_mk[row_ind]
  mu <- alpha[row_ind] + rowSums(media_effect) +
    (gamma[["econ"]] + r_market[mrow, "econ"]) * Z$econ[row_mm] +
    (gamma[["competitor"]] + r_market[mrow, "competitor"]) * Z$competitor[row_mm]
  y <- mu + stats::rnorm(length(mu), 0, sigma)

  months <- rep(seq_len(n_months), n_ind)
  dates <- seq(start, by = "month", length.out = n_months)
  data <- data.frame(
    market = factor(mk_ids[ind_mk][row_ind], levels = mk_ids),
    individual = factor(ind_ids[row_ind], levels = ind_ids),
    month = months, date = dates[months],
    purchase = round(y, 2))
  data <- cbind(data, as.data.frame(expo))
  data$econ <- Z$econ[row_mm]
  data$competitor <- Z$competitor[row_mm]
  data <- cbind(data, cons[row_ind, , drop = FALSE])
  data$targeted <- targeted[row_ind]
  rownames(data) <- NULL

  consumers <- data.frame(individual = factor(ind_ids, levels = ind_ids),
                          market = factor(mk_ids[ind_mk], levels = mk_ids), cons,
                          targeted = targeted, propensity = propensity, alpha = alpha, beta,
                          check.names = FALSE)
  rownames(consumers) <- NULL

  formula <- stats::as.formula(paste0(
    "purchase ~ ", paste(channels, collapse = " + "), " + ", paste(PSIM_TRAITS, collapse = " + "),
    " + econ + competitor",
    if (any(sd_market > 0)) sprintf(" + (%s || market)", hsim_bar_lhs(names(sd_market)[sd_market > 0])),
    sprintf(" + (%s || individual)", hsim_bar_lhs(c("Intercept", channels)))), env = globalenv())
  args <- list(media = channels, adstock = "none", saturation = "none", time = "month",
               panel = "individual",
               personalize = stats::as.formula(paste("~", paste(PSIM_TRAITS, collapse = " + ")),
                                               env = globalenv()))
  truth <- c(b_Intercept = intercept, stats::setNames(mu_beta, paste0("b_", channels)),
             stats::setNames(delta, paste0("b_", PSIM_TRAITS)),
             b_econ = gamma[["econ"]], b_competitor = gamma[["competitor"]],
             stats::setNames(as.vector(t(theta)), paste0("b_", rep(channels, each = 3L), ":",
                                                         rep(PSIM_TRAITS, C))),
             hsim_cov_truth("market", sd_market[sd_market > 0], 0),
             hsim_cov_truth("individual", stats::setNames(c(sd_intercept, sd_beta), c("Intercept", channels)), 0),
             sigma = sigma)
  structure(list(
    data = data, consumers = consumers, truth = truth,
    ate = stats::setNames(colMeans(beta), channels), Theta = Theta,
    formula = formula, hbmmm_args = args, media_effect = media_effect,
    ranef = r_market[, sd_market > 0, drop = FALSE], call = cl),
    class = c("hbmmm_sim_consumers", "hbmmm_sim"))
}

#' @rdname simulate_consumer_panel
#' @param x An `hbmmm_sim_consumers` object.
#' @param digits Significant digits for printed numbers.
#' @param ... For `plot()`, graphical parameters passed to
#'   [graphics::matplot()]; ignored by `print()`.
#' @export
print.hbmmm_sim_consumers <- function(x, digits = 3, ...) {
  d <- x$data
  ch <- colnames(x$media_effect)
  cat(sprintf("<hbmmm_sim> consumer panel with personalized media effects: %d markets, %d consumers, %d months = %d rows\n",
              nlevels(d$market), nlevels(d$individual), length(unique(d$month)), nrow(d)))
  cat(sprintf("  %.0f%% of consumers targeted\n", 100 * mean(x$consumers$targeted)))
  cat("  hbmmm formula: ", paste(deparse(x$formula, width.cutoff = 500L), collapse = " "), "\n\n", sep = "")
  tab <- data.frame(exposure = colMeans(d[ch]), mu_beta = x$Theta[, "1"], sample_ate = x$ate,
                    x$Theta[, PSIM_TRAITS, drop = FALSE],
                    sd_beta = x$truth[paste0("sd_individual__", ch)], row.names = ch, check.names = FALSE)
  cat("Channels (effects of one exposure on monthly purchases, dollars):\n")
  print(format(tab, digits = digits), quote = FALSE)
  invisible(x)
}

#' @rdname simulate_consumer_panel
#' @param type `"purchase"`: mean monthly purchase per consumer in each
#'   market; `"exposure"`: mean monthly exposure per consumer to each channel.
#' @details `plot()` averages over the consumers of each market (or of all
#'   markets) and month, draws the result against the date with
#'   [graphics::matplot()] and returns the plotted matrix invisibly.
#' @export
plot.hbmmm_sim_consumers <- function(x, type = c("purchase", "exposure"), ...) {
  type <- match_choice(type, c("purchase", "exposure"), "type")
  d <- x$data
  dates <- sort(unique(d$date))
  if (type == "purchase") {
    y <- tapply(d$purchase, list(d$date, d$market), mean)
    dflt <- list(ylab = "Mean monthly purchase per consumer ($)", main = "Purchases by market")
  } else {
    ch <- colnames(x$media_effect)
    y <- as.matrix(stats::aggregate(d[ch], by = list(date = d$date), FUN = mean)[ch])
    dflt <- list(ylab = "Mean monthly exposures per consumer", main = "Media exposure by channel")
  }
  args <- utils::modifyList(c(list(x = dates, y = y, type = "l", lty = 1, xlab = "Month",
                                   col = grDevices::hcl.colors(ncol(y), "Dark 3")), dflt), list(...))
  do.call(graphics::matplot, args)
  if (type == "exposure") {
    graphics::legend("topright", legend = colnames(y), col = args$col, lty = 1, bty = "n", cex = 0.8)
  }
  invisible(y)
}

psim_check_channels <- function(channels) {
  ok <- is.character(channels) && length(channels) > 0L && !anyNA(channels) && !anyDuplicated(channels) &&
    all(channels %in% PSIM_CHANNELS$channel)
  if (!ok) {
    abort_input("channels", sprintf("must be distinct names among %s; found %s",
                                    paste0("\"", PSIM_CHANNELS$channel, "\"", collapse = ", "), describe_value(channels)))
  }
  channels
}

# A numeric vector with the given names (named in any order, or unnamed in
# that order).
psim_named <- function(x, arg, keys) {
  x <- recycle_named(x, keys, arg, what = "term", numeric = TRUE)
  if (any(!is.finite(x))) abort_input(arg, "must be finite")
  stats::setNames(as.double(x[keys]), keys)
}

# The paper's segment findings (Section 5.1): older consumers respond more to
# TV and less to social media, higher incomes more to email; frequent buyers
# respond a little more to every channel.
psim_default_theta <- function(channels) {
  th <- rbind(tv = c(0.30, 0.00, 0.10), digital = c(-0.10, 0.10, 0.15),
              email = c(0.00, 0.375, 0.20), social = c(-0.25, 0.00, 0.10))
  th[channels, , drop = FALSE]
}

# Consumer characteristics on the paper's scales (Table 5: age 18-80, mean
# about 39; income in thousands, 20-250, mean about 73, right-skewed) and
# their sample standardization, which makes the model's intercept and main
# media effects those of the average consumer.
psim_characteristics <- function(n) {
  age <- round(pmin(80, pmax(18, stats::rnorm(n, 38.7, 13.5))))
  income <- round(pmin(250, pmax(20, stats::rlnorm(n, 4.144, 0.529))), 1)
  frequency <- stats::rnbinom(n, size = 3, mu = 6)
  z <- function(v) if (length(v) > 1L && stats::sd(v) > 0) (v - mean(v)) / stats::sd(v) else v - mean(v)
  data.frame(age = age, income = income, frequency = frequency,
             age_z = z(age), income_z = z(income), frequency_z = z(frequency),
             age_band = cut(age, c(-Inf, 34, 54, Inf), labels = c("18-34", "35-54", "55+")))
}

# Market covariates, standardized: an economic index (AR(1) drift per market)
# and competitors' activity (independent months).
psim_market_covariates <- function(n_markets, n_months) {
  econ <- unlist(lapply(seq_len(n_markets), function(m) {
    as.numeric(stats::filter(stats::rnorm(n_months, 0, 0.6), 0.8, method = "recursive"))
  }))
  competitor <- stats::rnorm(n_markets * n_months)
  list(econ = round(econ, 3), competitor = round(competitor, 3))
}

# Monthly exposure counts (rows consumer-major, months within): Poisson around
# the channel level x market flighting x the consumer's habits, which depend
# on the characteristics and the targeting. Flighting (campaign and dark
# months) makes exposure vary within each consumer, which identifies the
# individual effects.
psim_exposures <- function(par, W, targeted, ind_mk, n_markets, n_months) {
  n_ind <- nrow(W)
  out <- vapply(seq_len(nrow(par)), function(c) {
    p <- par[c, ]
    flight <- vapply(seq_len(n_markets), function(m) {
      on <- sim_flights(n_months, on = 2:4, off = 1:3)
      ifelse(on > 0, 1.5, 0.4) * stats::rlnorm(n_months, 0, 0.2)
    }, numeric(n_months))
    flight <- flight / mean(flight)
    habit <- drop(W %*% c(p$age, p$income, p$frequency)) + stats::rnorm(n_ind, 0, p$spread)
    habit <- exp(habit) * ifelse(targeted == 1L, p$targeted, 1)
    habit <- habit / mean(habit)
    rate <- p$level * as.vector(flight[, ind_mk, drop = FALSE]) * rep(habit, each = n_months)
    as.double(stats::rpois(length(rate), rate))
  }, numeric(n_ind * n_months))
  matrix(out, ncol = nrow(par), dimnames = list(NULL, par$channel))
}
