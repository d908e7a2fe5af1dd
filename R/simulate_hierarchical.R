# Simulators of the two published hierarchical models (Ni et al.'s
# three-level model; the individual/market model with a personalization
# layer), each returning the data, the truth under hbmmm's draw names, and the
# hbmmm() call that fits the generating model. Used by examples, the recovery
# tests and inst/validation/recovery.R. Conventions follow simulate_mmm().

# Default media parameters of the individual-level simulators. `level` is the
# weekly exposure of a typical individual while the channel is active; halfsat
# sits near the typical adstocked exposure so that the Hill curves are neither
# flat nor linear over the observed range (which keeps halfsat and slope
# identifiable). `beta` is the population effect of a saturated channel on
# weekly purchases (dollars).
HSIM_CHANNELS <- data.frame(
  channel = c("tv", "digital", "social", "search", "display", "email"),
  beta    = c(30, 20, 15, 18, 12, 10),
  decay   = c(0.5, 0.2, 0.3, 0.1, 0.4, 0.2),
  halfsat = c(10, 5, 4, 5, 6, 2),
  slope   = c(2.0, 1.5, 1.5, 1.2, 2.0, 1.0),
  level   = c(12, 8, 6, 7, 8, 3),
  stringsAsFactors = FALSE
)
HSIM_GENERIC <- list(beta = 15, decay = 0.3, halfsat = 5, slope = 1.5, level = 6)

# Names the simulators use for their own columns; channels may not take them.
HSIM_RESERVED_3L <- c("market", "product", "individual", "week", "date", "sales",
                      "loyalty", "distribution", "Intercept")
HSIM_RESERVED_PERS <- c("market", "individual", "week", "date", "sales", "age", "income",
                        "price", "promo", "Intercept")

#' Simulate the three-level hierarchical model of Ni et al.
#'
#' Generates weekly purchases of individuals who buy a product in a market,
#' from the three-level ("slopes-as-outcomes") hierarchical model of Ni et al.
#' (2024), with media entering through geometric adstock and Hill saturation.
#' The object returned holds the data, the true population-level parameters
#' under the names [hbmmm()] gives its draws, and the [hbmmm()] formula and
#' arguments that fit the generating model.
#'
#' @section The model:
#' Units are nested: individual \eqn{i} belongs to level-3 unit \eqn{j}, a
#' product sold in a market (`n_products` products in each of `n_markets`
#' markets, `n_individuals` individuals per product and market). For each
#' level-1 coefficient \eqn{k} (the intercept, \eqn{k = 0}, and one coefficient
#' per channel \eqn{c}):
#'
#' * Level 1 (individual-week): \deqn{y_{ijt} = \beta_{0ij} + \sum_c
#'   \beta_{cij} X_{cijt} + \varepsilon_{ijt},\quad \varepsilon_{ijt} \sim
#'   N(0, \sigma^2)}{y[ijt] = b0[ij] + sum_c bc[ij] X[c,ijt] + e[ijt], e ~ N(0, sigma^2)}
#'   where \eqn{X_{cijt} = hill(adstock(x_{cij\cdot}, decay_c)_t, halfsat_c,
#'   slope_c)}{X[c,ijt] = hill(adstock(x[c,ij,], decay_c)[t], halfsat_c, slope_c)}
#'   is the transformed exposure of individual \eqn{i} to channel \eqn{c}
#'   ([adstock_geometric()] with `normalize = TRUE`, restarted for each
#'   individual, then [saturation_hill()]).
#' * Level 2 (individual): \deqn{\beta_{kij} = \gamma_{k0j} + \gamma_{k1j}
#'   Z_{ij} + u_{kij}}{bk[ij] = gk0[j] + gk1[j] Z[ij] + uk[ij]} with the
#'   individual characteristic \eqn{Z} = `loyalty` (standard normal).
#' * Level 3 (product in market): \deqn{\gamma_{k0j} = \delta_{k00} +
#'   \delta_{k01} W_j + v_{k0j},\quad \gamma_{k1j} = \delta_{k10} + \delta_{k11}
#'   W_j + v_{k1j}}{gk0[j] = dk00 + dk01 W[j] + vk0[j], gk1[j] = dk10 + dk11 W[j] + vk1[j]}
#'   with the product-market characteristic \eqn{W} = `distribution`
#'   (standard normal, e.g. standardized weighted distribution of the product
#'   in that market).
#'
#' The level-2 errors \eqn{u_{kij}} are normal with standard deviations
#' `sd_individual` and one correlation `cor_individual` between every pair; the
#' level-3 errors \eqn{v_{k0j}}, \eqn{v_{k1j}} are normal with standard deviations
#' `sd_product` (for \eqn{v_{k0j}}) and `sd_product_z` (for \eqn{v_{k1j}}) and
#' one correlation `cor_product` between every pair. The exposures
#' \eqn{x_{cijt}} are the market's weekly flighting of the channel (campaigns
#' of a few weeks, timing differing by market) times the individual's media
#' consumption (lognormal) times weekly noise, so that they vary both between
#' and within individuals.
#'
#' The defaults (24 product-market units, 144 individuals, 20 weeks: 2,880
#' rows) are chosen so that [hbmmm()] fits in seconds and every population
#' parameter is identified: media effects are large relative to the noise, the
#' Hill curves are observed on both sides of their half-saturation points, and
#' individual media slopes are estimable from the within-individual variation
#' of exposure.
#'
#' @section Correspondence with hbmmm:
#' Substituting levels 3 and 2 into level 1 gives a linear mixed model with
#' cross-level interactions:
#' \deqn{y = \sum_k X_k (\delta_{k00} + \delta_{k10} Z + \delta_{k01} W +
#'   \delta_{k11} Z W) + \sum_k X_k (v_{k0j} + v_{k1j} Z) + \sum_k X_k u_{kij} +
#'   \varepsilon}{y = sum_k X_k (dk00 + dk10 Z + dk01 W + dk11 Z W) + sum_k X_k (vk0[j] + vk1[j] Z) + sum_k X_k uk[ij] + e}
#' (with \eqn{X_0 = 1}). With two channels `tv` and `digital` and the default
#' `sd_product_z = 0`, `cor_product = 0` and `cor_individual = 0`, the
#' `formula` returned is
#'
#' ```
#' sales ~ (tv + digital) * loyalty * distribution +
#'   (1 + tv + digital || market:product) +
#'   (1 + tv + digital || market:product:individual)
#' ```
#'
#' fitted with `media = c("tv", "digital")`, `time = "week"` and
#' `panel = "individual"`. The fixed part `(tv + digital) * loyalty *
#' distribution` holds the \eqn{\delta}s: main effects of the channels (and the
#' intercept) and their cross-level interactions with \eqn{Z} and \eqn{W}. The
#' errors are uncorrelated by default, hence `||`; a non-zero `cor_product` or
#' `cor_individual` gives `|` (correlated terms, with `cor_*` parameters in
#' `truth`). Parameter by parameter:
#' \tabular{lll}{
#'   model \tab hbmmm draw \tab `delta` cell \cr
#'   \eqn{\delta_{000}}, \eqn{\delta_{010}}, \eqn{\delta_{001}}, \eqn{\delta_{011}}
#'     \tab `b_Intercept`, `b_loyalty`, `b_distribution`, `b_loyalty:distribution`
#'     \tab `delta["Intercept", c("1", "Z", "W", "Z:W")]` \cr
#'   \eqn{\delta_{c00}}, \eqn{\delta_{c10}}, \eqn{\delta_{c01}}, \eqn{\delta_{c11}}
#'     \tab `b_tv`, `b_tv:loyalty`, `b_tv:distribution`, `b_tv:loyalty:distribution`
#'     \tab `delta["tv", c("1", "Z", "W", "Z:W")]` \cr
#'   sd of \eqn{v_{00j}}, \eqn{v_{c0j}} \tab `sd_market:product__Intercept`, `sd_market:product__tv`
#'     \tab `sd_product` \cr
#'   sd of \eqn{v_{01j}}, \eqn{v_{c1j}} \tab `sd_market:product__loyalty`, `sd_market:product__tv:loyalty`
#'     \tab `sd_product_z` \cr
#'   sd of \eqn{u_{0ij}}, \eqn{u_{cij}} \tab `sd_market:product:individual__Intercept`, `..._tv`
#'     \tab `sd_individual` \cr
#'   \eqn{\sigma} \tab `sigma` \tab `sigma` \cr
#'   transforms \tab `decay_tv`, `halfsat_tv`, `slope_tv` \tab `decay`, `halfsat`, `slope`
#' }
#' A level-3 random loyalty slope (\eqn{v_{k1j}}, switched on by a positive
#' `sd_product_z`) adds `loyalty` (for \eqn{k = 0}) or `tv:loyalty` (for
#' channel `tv`) to the `market:product` bar. The group-level effects are
#' `r_market:product[<market>:<product>,<term>]` (\eqn{v}) and
#' `r_market:product:individual[<market>:<product>:<individual>,<term>]`
#' (\eqn{u}). Terms whose standard deviation is 0 are left out of the bars (and
#' of `truth`), so the formula always matches the generating model.
#'
#' @param n_markets Number of markets, a whole number in `[1, 1000]`.
#' @param n_products Number of products sold in each market, in `[1, 1000]`.
#'   The level-3 units are the `n_markets * n_products` product-market pairs;
#'   at least 2 are needed (and more than about 20 to estimate their standard
#'   deviations well).
#' @param n_individuals Number of individuals per product and market, in
#'   `[1, 10000]`.
#' @param n_weeks Number of weeks, in `[2, 10000]`.
#' @param channels Names of the media channels: distinct, non-empty syntactic
#'   names that differ from the other columns (`market`, `product`,
#'   `individual`, `week`, `date`, `sales`, `loyalty`, `distribution`) and
#'   `Intercept`. Known channels (`tv`, `digital`, `social`, `search`,
#'   `display`, `email`) have their own defaults and flighting patterns; other
#'   names get generic ones.
#' @param delta Top-level coefficients: a numeric matrix with one row per
#'   level-1 coefficient (`"Intercept"`, then the channels) and four columns
#'   (`"1"`, `"Z"`, `"W"`, `"Z:W"`): `delta[k, "1"]` is \eqn{\delta_{k00}},
#'   `"Z"` \eqn{\delta_{k10}}, `"W"` \eqn{\delta_{k01}}, `"Z:W"`
#'   \eqn{\delta_{k11}}. With dimnames, rows and columns are matched by name.
#'   `NULL` (default): intercept row `c(40, 6, 4, 1)` and, for channel `c`
#'   with default effect \eqn{b_c} (30 for `tv`, 20 for `digital`),
#'   `b_c * c(1, 0.2, 0.15, 0.05)`.
#' @param sd_product Standard deviations of the level-3 errors \eqn{v_{k0j}},
#'   one per level-1 coefficient (`"Intercept"` and the channels; unnamed in
#'   that order or named), or one value for all. Non-negative; 0 removes the
#'   term from the level. `NULL`: 10 for the intercept and `0.3 * delta[c, "1"]`
#'   for the channels.
#' @param sd_product_z Standard deviations of the level-3 errors
#'   \eqn{v_{k1j}} of the loyalty slopes, given like `sd_product` (default 0:
#'   no random loyalty slopes across products).
#' @param sd_individual Standard deviations of the level-2 errors
#'   \eqn{u_{kij}}, given like `sd_product`. `NULL`: 4 for the intercept and
#'   `0.3 * delta[c, "1"]` for the channels.
#' @param cor_product,cor_individual Correlation between every pair of errors
#'   of the level (one number; the matrix must be positive definite, i.e.
#'   greater than `-1 / (q - 1)` for `q` terms).
#' @param sigma Positive residual standard deviation.
#' @param decay,halfsat,slope Media transform parameters by channel, given as
#'   in [simulate_mmm()]: unnamed in the order of `channels`, named by channel,
#'   or one unnamed value for all; `NULL` for the defaults (`tv`: 0.5, 10, 2;
#'   `digital`: 0.2, 5, 1.5).
#' @param start Date of the first week.
#' @param seed Optional whole number making the simulation reproducible (as in
#'   [simulate_mmm()]: Mersenne-Twister with `set.seed(seed)`, the caller's
#'   random number state restored on exit).
#' @return An object of class `c("hbmmm_sim_three_level", "hbmmm_sim")`, a
#'   list with
#'   \describe{
#'     \item{`data`}{One row per individual and week, ordered by market,
#'       product, individual and week: `market` (factor `"M01"`, ...),
#'       `product` (factor `"P1"`, ...), `individual` (factor `"I0001"`, ...,
#'       unique over markets and products), `week`, `date`, `sales`, one
#'       exposure column per channel (non-negative), `loyalty` (\eqn{Z}) and
#'       `distribution` (\eqn{W}).}
#'     \item{`truth`}{Named vector of the population-level parameters under
#'       hbmmm's draw names, in the order of hbmmm's draws: `b_*`, `sd_*`,
#'       `cor_*` (correlated terms only), `sigma`, then `decay_*`, `halfsat_*`,
#'       `slope_*` channel by channel.}
#'     \item{`formula`}{The [hbmmm()] formula of the generating model.}
#'     \item{`hbmmm_args`}{The other [hbmmm()] arguments it needs:
#'       `list(media = channels, time = "week", panel = "individual")`.}
#'     \item{`ranef`}{The true group-level effects, a list named by grouping
#'       term (`"market:product"`, `"market:product:individual"`) of matrices
#'       levels by terms.}
#'     \item{`coef`}{The true level-1 coefficients \eqn{\beta_{kij}}, a
#'       matrix individuals by `c("Intercept", channels)`.}
#'     \item{`media_effect`}{Matrix, rows of `data` by channels: the true
#'       contribution \eqn{\beta_{cij} X_{cijt}} of each channel.}
#'     \item{`delta`}{The matrix of top-level coefficients used.}
#'     \item{`transforms`}{`list(adstock = "geometric", normalize = TRUE,
#'       max_lag = NULL, saturation = "hill")`.}
#'     \item{`call`}{The matched call.}
#'   }
#' @references Ni, X., Yan, L., Xiong, K. and Liu, Y. (2024). A hierarchical
#'   Bayesian market mix model with causal inference for personalized marketing
#'   optimization. *Journal of Artificial Intelligence General Science*, 6(1).
#' @seealso [simulate_personalized()] for the individual/market model with a
#'   personalization layer, [simulate_mmm()] for market-level panels.
#' @examples
#' sim <- simulate_three_level(n_markets = 2, n_products = 3, n_individuals = 2,
#'                             n_weeks = 12, seed = 1)
#' sim
#' sim$formula
#' head(sim$data)
#' \donttest{
#' # fit the generating model (vague priors on the variances, as in the
#' # package's recovery checks) and compare with the truth
#' sim <- simulate_three_level(seed = 1)
#' vague <- hbmmm_prior(cov = inv_gamma(0.1, 0.1), sigma = inv_gamma(0.1, 0.1))
#' fit <- do.call(hbmmm, c(list(sim$formula, data = sim$data), sim$hbmmm_args,
#'                         list(prior = vague, chains = 2, iter = 2000,
#'                              seed = 1, refresh = 0)))
#' s <- summary(fit)$table
#' s$truth <- sim$truth[s$variable]
#' s[, c("variable", "mean", "q2.5", "q97.5", "truth")]
#' }
#' @export
simulate_three_level <- function(n_markets = 4, n_products = 6, n_individuals = 6,
                                 n_weeks = 20, channels = c("tv", "digital"),
                                 delta = NULL, sd_product = NULL, sd_product_z = 0,
                                 sd_individual = NULL, cor_product = 0, cor_individual = 0,
                                 sigma = 7, decay = NULL, halfsat = NULL, slope = NULL,
                                 start = as.Date("2023-01-02"), seed = NULL) {
  cl <- match.call()
  n_markets <- check_count(n_markets, "n_markets", min = 1, max = 1000)
  n_products <- check_count(n_products, "n_products", min = 1, max = 1000)
  n_individuals <- check_count(n_individuals, "n_individuals", min = 1, max = 1e4)
  n_weeks <- check_count(n_weeks, "n_weeks", min = 2, max = 1e4)
  n_cells <- n_markets * n_products
  if (n_cells < 2L) {
    abort_input("n_products", sprintf(
      "must give at least 2 product-market units (n_markets * n_products); found %d * %d",
      n_markets, n_products))
  }
  channels <- sim_check_channels(channels, HSIM_RESERVED_3L, dots = FALSE)
  ch_par <- hsim_channel_pars(channels, decay, halfsat, slope)
  terms <- c("Intercept", channels)
  delta <- hsim_check_delta(delta, terms, ch_par$beta)
  sd_product <- hsim_check_sd(sd_product, "sd_product", terms,
                              c(10, 0.3 * abs(delta[channels, "1"])))
  sd_product_z <- hsim_check_sd(sd_product_z, "sd_product_z", terms, rep(0, length(terms)))
  sd_individual <- hsim_check_sd(sd_individual, "sd_individual", terms,
                                 c(4, 0.3 * abs(delta[channels, "1"])))
  sigma <- hsim_check_positive(sigma, "sigma")
  start <- sim_check_start(start)
  # terms of each level that vary (sd > 0), under their hbmmm names
  z_names <- ifelse(terms == "Intercept", "loyalty", paste0(terms, ":loyalty"))
  # in the order of hbmmm's design for the bar `1 + tv + loyalty + tv:loyalty`:
  # intercept, channels, loyalty, then the channel:loyalty interactions
  l3_sd <- stats::setNames(c(sd_product, sd_product_z), c(terms, z_names))
  l3_sd <- l3_sd[c("Intercept", channels, "loyalty", paste0(channels, ":loyalty"))]
  l3_sd <- l3_sd[l3_sd > 0]
  l2_sd <- stats::setNames(sd_individual, terms)[sd_individual > 0]
  cor_product <- hsim_check_cor(cor_product, "cor_product", length(l3_sd))
  cor_individual <- hsim_check_cor(cor_individual, "cor_individual", length(l2_sd))
  restore <- sim_seed(seed)
  if (!is.null(restore)) on.exit(restore(), add = TRUE)

  mk_ids <- paste0("M", formatC(seq_len(n_markets), width = max(2L, nchar(n_markets)), flag = "0"))
  pr_ids <- paste0("P", formatC(seq_len(n_products), width = nchar(n_products), flag = "0"))
  n_ind <- n_cells * n_individuals
  ind_ids <- paste0("I", formatC(seq_len(n_ind), width = max(4L, nchar(n_ind)), flag = "0"))
  cell_mk <- rep(seq_len(n_markets), each = n_products)
  cell_pr <- rep(seq_len(n_products), times = n_markets)
  cell_ids <- paste(mk_ids[cell_mk], pr_ids[cell_pr], sep = ":")
  ind_cell <- rep(seq_len(n_cells), each = n_individuals)
  ind_full <- paste(cell_ids[ind_cell], ind_ids, sep = ":")

  # Draw order is fixed: characteristics, level-3 errors, level-2 errors,
  # exposures, noise.
  W <- stats::rnorm(n_cells)
  Z <- stats::rnorm(n_ind)
  v <- hsim_mvn(n_cells, l3_sd, cor_product)
  u <- hsim_mvn(n_ind, l2_sd, cor_individual)
  dimnames(v) <- list(cell_ids, names(l3_sd))
  dimnames(u) <- list(ind_full, names(l2_sd))
  v_full <- matrix(0, n_cells, length(terms) * 2L, dimnames = list(cell_ids, c(terms, z_names)))
  v_full[, colnames(v)] <- v
  u_full <- matrix(0, n_ind, length(terms), dimnames = list(ind_full, terms))
  u_full[, colnames(u)] <- u

  # level-3 then level-2 coefficients, individuals by terms
  g0 <- sapply(terms, function(k) delta[k, "1"] + delta[k, "W"] * W + v_full[, k])
  g1 <- sapply(seq_along(terms), function(i) {
    k <- terms[i]
    delta[k, "Z"] + delta[k, "Z:W"] * W + v_full[, z_names[i]]
  })
  g0 <- matrix(g0, n_cells)
  g1 <- matrix(g1, n_cells)
  coef <- g0[ind_cell, , drop = FALSE] + g1[ind_cell, , drop = FALSE] * Z + u_full
  dimnames(coef) <- list(ind_ids, terms)

  expo <- hsim_exposures(channels, ch_par$level, cell_mk[ind_cell], n_markets, n_weeks)
  row_ind <- rep(seq_len(n_ind), each = n_weeks)
  ad <- adstock_geometric(expo, decay = ch_par$decay, normalize = TRUE, group = row_ind)
  sat <- saturation_hill(ad, halfsat = ch_par$halfsat, slope = ch_par$slope)
  media_effect <- coef[row_ind, channels, drop = FALSE] * sat
  dimnames(media_effect) <- list(NULL, channels)
  mu <- coef[row_ind, "Intercept"] + rowSums(media_effect)
  sales <- unname(mu + stats::rnorm(length(mu), 0, sigma))

  weeks <- rep(seq_len(n_weeks), n_ind)
  data <- data.frame(
    market = factor(mk_ids[cell_mk[ind_cell]][row_ind], levels = mk_ids),
    product = factor(pr_ids[cell_pr[ind_cell]][row_ind], levels = pr_ids),
    individual = factor(ind_ids[row_ind], levels = ind_ids),
    week = weeks, date = start + 7L * (weeks - 1L), sales = sales,
    stringsAsFactors = FALSE)
  data <- cbind(data, as.data.frame(expo))
  data$loyalty <- Z[row_ind]
  data$distribution <- W[ind_cell][row_ind]

  # formula and truth
  g3 <- "market:product"
  g2 <- "market:product:individual"
  fixed <- sprintf(if (length(channels) > 1L) "sales ~ (%s) * loyalty * distribution" else
    "sales ~ %s * loyalty * distribution", paste(channels, collapse = " + "))
  bars <- c(if (length(l3_sd)) sprintf("(%s %s %s)", hsim_bar_lhs(names(l3_sd)),
                                       hsim_bar_op(length(l3_sd), cor_product), g3),
            if (length(l2_sd)) sprintf("(%s %s %s)", hsim_bar_lhs(names(l2_sd)),
                                       hsim_bar_op(length(l2_sd), cor_individual), g2))
  formula <- stats::as.formula(paste(c(fixed, bars), collapse = " + "), env = globalenv())

  fx_names <- colnames(stats::model.matrix(
    stats::as.formula(sub("^sales ", "", fixed)), data[seq_len(min(2L, nrow(data))), , drop = FALSE]))
  b <- vapply(fx_names, function(nm) {
    parts <- if (nm == "(Intercept)") character(0) else strsplit(nm, ":", fixed = TRUE)[[1]]
    k <- intersect(parts, channels)
    k <- if (length(k)) k else "Intercept"
    col <- paste(c(if ("loyalty" %in% parts) "Z", if ("distribution" %in% parts) "W"), collapse = ":")
    delta[k, if (nzchar(col)) col else "1"]
  }, numeric(1))
  names(b) <- paste0("b_", ifelse(fx_names == "(Intercept)", "Intercept", fx_names))
  truth <- c(b,
             hsim_cov_truth(g3, l3_sd, cor_product),
             hsim_cov_truth(g2, l2_sd, cor_individual),
             sigma = sigma,
             hsim_transform_truth(channels, ch_par))
  ranef <- list(v, u)
  names(ranef) <- c(g3, g2)
  ranef <- ranef[c(length(l3_sd) > 0, length(l2_sd) > 0)]

  structure(list(
    data = data, truth = truth, formula = formula,
    hbmmm_args = list(media = channels, time = "week", panel = "individual"),
    ranef = ranef, coef = coef, media_effect = media_effect, delta = delta,
    transforms = list(adstock = "geometric", normalize = TRUE, max_lag = NULL,
                      saturation = "hill"),
    call = cl), class = c("hbmmm_sim_three_level", "hbmmm_sim"))
}

#' Simulate the individual/market model with a personalization layer
#'
#' Generates weekly purchases of individuals in markets from the hierarchical
#' model with a personalization layer (individual media coefficients explained
#' by consumer characteristics) and, optionally, latent factors for unobserved
#' heterogeneity, with media entering through geometric adstock and Hill
#' saturation. The object returned holds the data, the true population-level
#' parameters under the names [hbmmm()] gives its draws, and the [hbmmm()]
#' formula and arguments that fit the generating model.
#'
#' @section The model:
#' For individual \eqn{i} in market \eqn{j} and week \eqn{t}:
#' \deqn{y_{ijt} = \alpha_{ij} + \beta_{ij}' X_{ijt} + \gamma_j' Z_{jt} +
#'   \varepsilon_{ijt},\quad \varepsilon_{ijt} \sim N(0, \sigma^2)}{y[ijt] = a[ij] + b[ij]' X[ijt] + g[j]' Z[jt] + e[ijt], e ~ N(0, sigma^2)}
#' where \eqn{X_{cijt} = hill(adstock(x_{cij\cdot}, decay_c)_t, halfsat_c,
#' slope_c)}{X[c,ijt] = hill(adstock(x[c,ij,], decay_c)[t], halfsat_c, slope_c)}
#' is the transformed exposure of individual \eqn{i} to channel \eqn{c}
#' ([adstock_geometric()] with `normalize = TRUE`, restarted for each
#' individual, then [saturation_hill()]) and \eqn{Z_{jt}} are the market-level
#' controls `price` (percent deviation from the regular price) and `promo`
#' (0/1 promotion week).
#'
#' * Market level: \eqn{(\mu_{\alpha j}, \gamma_j) \sim N((\mu_\alpha,
#'   \mu_\gamma), \Sigma_\gamma)}{(mu_a[j], g[j]) ~ N((mu_a, mu_g), Sigma_g)}
#'   with standard deviations `sd_market` (intercept, `price`, `promo`) and one
#'   correlation `cor_market` between every pair.
#' * Individual level: \eqn{\alpha_{ij} = \mu_{\alpha j} + a_i} and the
#'   personalization layer \eqn{\beta_{ij} = \Theta W_i + \eta_i}{b[ij] = Theta W[i] + eta[i]}
#'   with consumer characteristics \eqn{W_i = (1, age_i, income_i)}
#'   (standardized) and coefficients \eqn{\Theta} = `cbind(beta, theta)`.
#' * Heterogeneity: \eqn{(a_i, \eta_i) \sim N(0, \Sigma)}{(a[i], eta[i]) ~ N(0, Sigma)}
#'   with standard deviations `sd_individual` (\eqn{\sigma_\alpha} for the
#'   intercept). With `n_factors = 0`, \eqn{\Sigma} is diagonal (\eqn{a_i}
#'   independent of \eqn{\eta_i}, and \eqn{\Sigma_\beta} diagonal). With
#'   `n_factors = m > 0` it is factor-analytic, \eqn{\Sigma = \Lambda
#'   \Lambda' + \Psi}, with \eqn{\Lambda = D L}, \eqn{\Psi = D (I - diag(L
#'   L')) D}, \eqn{D} = `diag(sd_individual)` and \eqn{L} = `loadings`
#'   (loadings on the correlation scale): \eqn{m} latent factors drive the
#'   unobserved heterogeneity of the media coefficients, \eqn{\Sigma_\beta =
#'   \Lambda_\beta \Lambda_\beta' + \Psi_\beta}. By default the intercept
#'   loads on no factor (its row of \eqn{L} is 0), so \eqn{a_i} stays
#'   independent of \eqn{\eta_i} as in the published model; give `loadings`
#'   to let it share the factors.
#'
#' @section Correspondence with hbmmm:
#' With channels `tv` and `digital` and the defaults, the `formula` returned is
#'
#' ```
#' sales ~ tv + digital + price + promo + (1 + price + promo || market) +
#'   (1 + tv + digital || individual)
#' ```
#'
#' fitted with `media = c("tv", "digital")`, `time = "week"`,
#' `panel = "individual"` and `personalize = ~ age + income` (which adds the
#' interactions `tv:age`, `tv:income`, ... so that media coefficients are
#' \eqn{\Theta W_i + \eta_i}). The market bar holds \eqn{\mu_{\alpha j}} and
#' \eqn{\gamma_j}; the individual bar holds \eqn{a_i} and \eqn{\eta_i}. With
#' `n_factors > 0` the individual bar is correlated, `(1 + tv + digital |
#' individual)`, and `hbmmm_args` adds `factors = c(individual = n_factors)`:
#' hbmmm then fits \eqn{\Sigma = \Lambda \Lambda' + \Psi} to the whole
#' individual term, a model that contains the generating one (whose intercept
#' row of \eqn{\Lambda} is 0). A non-zero `cor_market` makes the market bar
#' correlated (`|`). Parameter by parameter:
#' \tabular{ll}{
#'   model \tab hbmmm draw \cr
#'   \eqn{\mu_\alpha}, \eqn{\mu_\gamma} \tab `b_Intercept`, `b_price`, `b_promo` \cr
#'   \eqn{\Theta_{c,1}} (mean effect of channel \eqn{c}) \tab `b_tv` \cr
#'   \eqn{\Theta_{c,age}}, \eqn{\Theta_{c,income}} \tab `b_tv:age`, `b_tv:income` \cr
#'   \eqn{\Sigma_\gamma} \tab `sd_market__Intercept`, `sd_market__price`,
#'     `sd_market__promo`, `cor_market__*` \cr
#'   \eqn{\sigma_\alpha}, \eqn{\Sigma_\beta} \tab `sd_individual__Intercept`,
#'     `sd_individual__tv`, `cor_individual__*` \cr
#'   \eqn{\sigma} \tab `sigma` \cr
#'   transforms \tab `decay_tv`, `halfsat_tv`, `slope_tv`
#' }
#' The loadings \eqn{\Lambda} are identified only up to rotation, so `truth`
#' reports the covariance they imply (as `sd_individual__*` and
#' `cor_individual__*`), which is what hbmmm's draws describe. Market-level
#' media slopes (\eqn{\mu_{\beta j}} differing by market) can be added by
#' giving channel entries in `sd_market`; they then join the market bar.
#'
#' @inheritParams simulate_three_level
#' @param n_markets Number of markets, a whole number in `[2, 1000]`.
#' @param n_individuals Number of individuals per market, in `[1, 10000]`.
#' @param channels Names of the media channels, as in
#'   [simulate_three_level()]; they must differ from `market`, `individual`,
#'   `week`, `date`, `sales`, `age`, `income`, `price`, `promo` and
#'   `Intercept`.
#' @param n_factors Number of latent factors of the individual-level
#'   covariance, a whole number from 0 to `length(channels)`.
#' @param intercept Population mean intercept \eqn{\mu_\alpha}.
#' @param beta Mean media coefficients (first column of \eqn{\Theta}) by
#'   channel, given like `decay` in [simulate_mmm()]; `NULL` for the defaults
#'   (30 for `tv`, 20 for `digital`).
#' @param theta Personalization coefficients: a matrix with one row per channel
#'   and columns `"age"` and `"income"` (matched by name when dimnames are
#'   given). `NULL`: `cbind(age = 0.3 * beta * s, income = 0.25 * beta)` where
#'   `s` alternates `+1, -1` over channels (older consumers respond more to the
#'   first channel, less to the second).
#' @param gamma Mean control coefficients \eqn{\mu_\gamma}: `c(price = -2,
#'   promo = 10)` by default (named or in that order).
#' @param sd_market Standard deviations of the market-level effects: named by
#'   `"Intercept"`, `"price"`, `"promo"` and optionally channels (market-level
#'   media slopes), or unnamed of length 3 (intercept, price, promo). Terms not
#'   given (and terms with 0) do not vary by market. `NULL`:
#'   `c(Intercept = 15, price = 2, promo = 8)`.
#' @param cor_market Correlation between every pair of market-level effects.
#' @param sd_individual Standard deviations of \eqn{(a_i, \eta_i)}, one per
#'   term `"Intercept"` and the channels (unnamed in that order, named, or one
#'   value for all); all positive. `NULL`: 4 for the intercept and `0.3 * beta`
#'   for the channels.
#' @param loadings Factor loadings on the correlation scale when
#'   `n_factors > 0`: a matrix with one row per term (`"Intercept"` and the
#'   channels) and `n_factors` columns, every row with sum of squares below 1.
#'   `NULL`: 0 for the intercept; for the channels, loadings of 0.75, 0.6,
#'   -0.5, ... on the first factor and alternating patterns of about 0.4 on
#'   further factors, scaled to leave every term at least 20% unique variance.
#' @return An object of class `c("hbmmm_sim_personalized", "hbmmm_sim")`, a
#'   list with
#'   \describe{
#'     \item{`data`}{One row per individual and week, ordered by market,
#'       individual and week: `market` (factor `"M01"`, ...), `individual`
#'       (factor `"I0001"`, ...), `week`, `date`, `sales`, one exposure column
#'       per channel, `price`, `promo` (market-level), `age`, `income`
#'       (individual-level, standardized).}
#'     \item{`truth`}{Named vector of the population-level parameters under
#'       hbmmm's draw names, in the order of hbmmm's draws: `b_*`, `sd_*`,
#'       `cor_*` (correlated terms only), `sigma`, then `decay_*`, `halfsat_*`,
#'       `slope_*` channel by channel.}
#'     \item{`formula`}{The [hbmmm()] formula of the generating model.}
#'     \item{`hbmmm_args`}{The other [hbmmm()] arguments: `media`, `time`,
#'       `panel`, `personalize` and (with factors) `factors`.}
#'     \item{`ranef`}{The true group-level effects: list with `market`
#'       (markets by varying terms) and `individual` (individuals by
#'       `c("Intercept", channels)`: \eqn{a_i} and \eqn{\eta_i}).}
#'     \item{`coef`}{The true individual media coefficients \eqn{\beta_{ij}},
#'       individuals by channels (market-level media slopes included).}
#'     \item{`Theta`}{The matrix \eqn{\Theta}, channels by
#'       `c("1", "age", "income")`.}
#'     \item{`Sigma`}{The covariance of \eqn{(a_i, \eta_i)}; with factors also
#'       `Lambda` and `Psi`.}
#'     \item{`media_effect`, `transforms`, `call`}{As in
#'       [simulate_three_level()].}
#'   }
#' @seealso [simulate_three_level()], [simulate_mmm()].
#' @examples
#' sim <- simulate_personalized(n_markets = 3, n_individuals = 4, n_weeks = 12,
#'                              seed = 1)
#' sim
#' sim$formula
#' sim$hbmmm_args
#'
#' # two latent factors behind the individual-level heterogeneity
#' simf <- simulate_personalized(n_markets = 3, n_individuals = 4, n_weeks = 12,
#'                               n_factors = 2, seed = 1)
#' simf$Sigma$Lambda
#' \donttest{
#' sim <- simulate_personalized(seed = 1)
#' vague <- hbmmm_prior(cov = inv_gamma(0.1, 0.1), sigma = inv_gamma(0.1, 0.1))
#' fit <- do.call(hbmmm, c(list(sim$formula, data = sim$data), sim$hbmmm_args,
#'                         list(prior = vague, chains = 2, iter = 2000,
#'                              seed = 1, refresh = 0)))
#' s <- summary(fit)$table
#' s$truth <- sim$truth[s$variable]
#' s[, c("variable", "mean", "q2.5", "q97.5", "truth")]
#' }
#' @export
simulate_personalized <- function(n_markets = 12, n_individuals = 10, n_weeks = 20,
                                  channels = c("tv", "digital"), n_factors = 0,
                                  intercept = 50, beta = NULL, theta = NULL,
                                  gamma = c(price = -2, promo = 10), sd_market = NULL,
                                  cor_market = 0, sd_individual = NULL, loadings = NULL,
                                  sigma = 7, decay = NULL, halfsat = NULL, slope = NULL,
                                  start = as.Date("2023-01-02"), seed = NULL) {
  cl <- match.call()
  n_markets <- check_count(n_markets, "n_markets", min = 2, max = 1000)
  n_individuals <- check_count(n_individuals, "n_individuals", min = 1, max = 1e4)
  n_weeks <- check_count(n_weeks, "n_weeks", min = 2, max = 1e4)
  channels <- sim_check_channels(channels, HSIM_RESERVED_PERS, dots = FALSE)
  C <- length(channels)
  n_factors <- check_count(n_factors, "n_factors", min = 0, max = C)
  ch_par <- hsim_channel_pars(channels, decay, halfsat, slope)
  beta <- sim_channel_par(beta, "beta", channels, ch_par$beta, is.finite, "finite")
  intercept <- hsim_check_real(intercept, "intercept")
  theta <- hsim_check_matrix(theta, "theta", channels, c("age", "income"),
                             cbind(age = 0.3 * beta * rep_len(c(1, -1), C),
                                   income = 0.25 * beta))
  gamma <- stats::setNames(unname(recycle_named(gamma, c("price", "promo"), "gamma", what = "control", numeric = TRUE)),
                           c("price", "promo"))
  if (any(!is.finite(gamma))) abort_input("gamma", "must be finite")
  sd_market <- hsim_check_sd_market(sd_market, channels)
  terms_ind <- c("Intercept", channels)
  sd_individual <- hsim_check_sd(sd_individual, "sd_individual", terms_ind,
                                 c(4, 0.3 * abs(beta)))
  if (any(sd_individual <= 0)) {
    abort_input("sd_individual", sprintf("must be positive for every term; found %s = %s",
                                         terms_ind[sd_individual <= 0][1],
                                         format(sd_individual[sd_individual <= 0][1])))
  }
  sigma <- hsim_check_positive(sigma, "sigma")
  start <- sim_check_start(start)
  cor_market <- hsim_check_cor(cor_market, "cor_market", length(sd_market))
  Sigma <- diag(sd_individual^2, C + 1L)
  dimnames(Sigma) <- list(terms_ind, terms_ind)
  Lambda <- Psi <- NULL
  if (n_factors > 0L) {
    L <- hsim_check_loadings(loadings, terms_ind, n_factors)
    Lambda <- sd_individual * L
    Psi <- diag(sd_individual^2 * (1 - rowSums(L^2)), C + 1L)
    Sigma <- Lambda %*% t(Lambda) + Psi
    dimnames(Lambda) <- list(terms_ind, paste0("F", seq_len(n_factors)))
    dimnames(Psi) <- dimnames(Sigma) <- list(terms_ind, terms_ind)
  } else if (!is.null(loadings)) {
    abort_input("loadings", "must be NULL when n_factors is 0")
  }
  restore <- sim_seed(seed)
  if (!is.null(restore)) on.exit(restore(), add = TRUE)

  mk_ids <- paste0("M", formatC(seq_len(n_markets), width = max(2L, nchar(n_markets)), flag = "0"))
  n_ind <- n_markets * n_individuals
  ind_ids <- paste0("I", formatC(seq_len(n_ind), width = max(4L, nchar(n_ind)), flag = "0"))
  ind_mk <- rep(seq_len(n_markets), each = n_individuals)

  # Draw order is fixed: characteristics, market effects, individual effects,
  # controls, exposures, noise.
  age <- stats::rnorm(n_ind)
  income <- stats::rnorm(n_ind)
  r_market <- hsim_mvn(n_markets, sd_market, cor_market)
  dimnames(r_market) <- list(mk_ids, names(sd_market))
  r_ind <- matrix(stats::rnorm(n_ind * (C + 1L)), n_ind) %*% chol(Sigma)
  dimnames(r_ind) <- list(ind_ids, terms_ind)
  # market controls: price cuts in promotion weeks plus AR(1) drift
  promo <- stats::rbinom(n_markets * n_weeks, 1L, 0.2)
  price <- unlist(lapply(seq_len(n_markets), function(m) {
    as.numeric(stats::filter(stats::rnorm(n_weeks, 0, 2), 0.6, method = "recursive"))
  }))
  price <- round(price - 8 * promo, 2)

  mk_eff <- function(term) {
    if (term %in% colnames(r_market)) r_market[, term] else rep(0, n_markets)
  }
  Theta <- cbind("1" = beta, theta)
  rownames(Theta) <- channels
  W <- cbind(1, age, income)
  coef <- W %*% t(Theta) + r_ind[, channels, drop = FALSE] +
    sapply(channels, function(ch) mk_eff(ch)[ind_mk])
  coef <- matrix(coef, n_ind, C, dimnames = list(ind_ids, channels))

  expo <- hsim_exposures(channels, ch_par$level, ind_mk, n_markets, n_weeks)
  row_ind <- rep(seq_len(n_ind), each = n_weeks)
  row_mw <- (ind_mk[row_ind] - 1L) * n_weeks + rep(seq_len(n_weeks), n_ind)
  ad <- adstock_geometric(expo, decay = ch_par$decay, normalize = TRUE, group = row_ind)
  sat <- saturation_hill(ad, halfsat = ch_par$halfsat, slope = ch_par$slope)
  media_effect <- coef[row_ind, , drop = FALSE] * sat
  dimnames(media_effect) <- list(NULL, channels)
  mrow <- ind_mk[row_ind]
  mu <- intercept + mk_eff("Intercept")[mrow] + r_ind[row_ind, "Intercept"] +
    rowSums(media_effect) +
    (gamma[["price"]] + mk_eff("price")[mrow]) * price[row_mw] +
    (gamma[["promo"]] + mk_eff("promo")[mrow]) * promo[row_mw]
  sales <- unname(mu + stats::rnorm(length(mu), 0, sigma))

  weeks <- rep(seq_len(n_weeks), n_ind)
  data <- data.frame(
    market = factor(mk_ids[ind_mk][row_ind], levels = mk_ids),
    individual = factor(ind_ids[row_ind], levels = ind_ids),
    week = weeks, date = start + 7L * (weeks - 1L), sales = sales,
    stringsAsFactors = FALSE)
  data <- cbind(data, as.data.frame(expo))
  data$price <- price[row_mw]
  data$promo <- as.integer(promo[row_mw])
  data$age <- age[row_ind]
  data$income <- income[row_ind]

  ctl_terms <- intersect(c("price", "promo"), names(sd_market))
  mk_ch <- intersect(channels, names(sd_market))
  mk_lhs <- hsim_bar_lhs(c(if ("Intercept" %in% names(sd_market)) "Intercept", ctl_terms, mk_ch))
  formula <- stats::as.formula(paste0(
    "sales ~ ", paste(channels, collapse = " + "), " + price + promo",
    if (length(sd_market)) sprintf(" + (%s %s market)", mk_lhs, hsim_bar_op(length(sd_market), cor_market)),
    sprintf(" + (%s %s individual)", hsim_bar_lhs(terms_ind),
            if (n_factors > 0L) "|" else "||")), env = globalenv())
  args <- list(media = channels, time = "week", panel = "individual",
               personalize = stats::as.formula("~ age + income", env = globalenv()))
  if (n_factors > 0L) args$factors <- c(individual = n_factors)

  b <- c(b_Intercept = intercept, stats::setNames(beta, paste0("b_", channels)),
         b_price = gamma[["price"]], b_promo = gamma[["promo"]],
         stats::setNames(as.vector(theta), paste0("b_", rep(channels, 2), ":",
                                                  rep(c("age", "income"), each = C))))
  mk_sd <- sd_market[c(intersect("Intercept", names(sd_market)), ctl_terms, mk_ch)]
  ind_cov <- if (n_factors > 0L) hsim_cov_truth_matrix("individual", Sigma) else
    hsim_cov_truth("individual", stats::setNames(sd_individual, terms_ind), 0)
  truth <- c(b,
             if (length(mk_sd)) hsim_cov_truth("market", mk_sd, cor_market),
             ind_cov,
             sigma = sigma,
             hsim_transform_truth(channels, ch_par))
  # b_ names in hbmmm's order: Intercept, media, controls, then interactions
  # channel by channel (tv:age, tv:income, digital:age, ...)
  int_names <- paste0("b_", rep(channels, each = 2), ":", rep(c("age", "income"), C))
  truth <- truth[c(names(b)[seq_len(C + 3L)], int_names,
                   setdiff(names(truth), names(b)))]

  structure(list(
    data = data, truth = truth, formula = formula, hbmmm_args = args,
    ranef = list(market = r_market[, colnames(r_market) %in% names(mk_sd), drop = FALSE],
                 individual = r_ind),
    coef = coef, Theta = Theta,
    Sigma = if (n_factors > 0L) list(Sigma = Sigma, Lambda = Lambda, Psi = Psi) else list(Sigma = Sigma),
    media_effect = media_effect,
    transforms = list(adstock = "geometric", normalize = TRUE, max_lag = NULL,
                      saturation = "hill"),
    call = cl), class = c("hbmmm_sim_personalized", "hbmmm_sim"))
}

#' @rdname simulate_three_level
#' @param x An `hbmmm_sim_three_level` object.
#' @param digits Significant digits for printed numbers.
#' @param ... For `plot()`, graphical parameters passed to [graphics::matplot()];
#'   ignored by `print()`.
#' @details `print()` shows the design (levels and rows), each channel's share of
#'   sales, the hbmmm formula and arguments, and the true population-level
#'   parameters; it returns `x` invisibly.
#' @export
print.hbmmm_sim_three_level <- function(x, digits = 3, ...) {
  d <- x$data
  cat(sprintf(paste0("<hbmmm_sim> three-level model (Ni et al.): %d markets x %d products, ",
                     "%d individuals, %d weeks = %d rows\n"),
              nlevels(d$market), nlevels(d$product), nlevels(d$individual),
              length(unique(d$week)), nrow(d)))
  hsim_print_body(x, digits)
}

#' @rdname simulate_personalized
#' @param x An `hbmmm_sim_personalized` object.
#' @param digits Significant digits for printed numbers.
#' @param ... For `plot()`, graphical parameters passed to [graphics::matplot()];
#'   ignored by `print()`.
#' @details `print()` shows the design, each channel's share of sales, the
#'   hbmmm formula and arguments, and the true population-level parameters;
#'   it returns `x` invisibly.
#' @export
print.hbmmm_sim_personalized <- function(x, digits = 3, ...) {
  d <- x$data
  nf <- x$hbmmm_args$factors
  cat(sprintf(paste0("<hbmmm_sim> individual/market model with personalization%s: ",
                     "%d markets, %d individuals, %d weeks = %d rows\n"),
              if (length(nf)) sprintf(" and %d latent factor(s)", nf[[1]]) else "",
              nlevels(d$market), nlevels(d$individual), length(unique(d$week)), nrow(d)))
  hsim_print_body(x, digits)
}

#' @rdname simulate_three_level
#' @param type `"sales"`: mean weekly sales per individual in each market;
#'   `"spend"`: mean weekly exposure per individual to each channel.
#' @details `plot()` averages over the individuals of each market and week and
#'   draws the result as [plot.hbmmm_sim()] does for market panels; it returns
#'   the plotted data invisibly.
#' @export
plot.hbmmm_sim_three_level <- function(x, type = c("sales", "spend"), ...) {
  hsim_plot(x, type, ...)
}

#' @rdname simulate_personalized
#' @param type `"sales"`: mean weekly sales per individual in each market;
#'   `"spend"`: mean weekly exposure per individual to each channel.
#' @details `plot()` averages over the individuals of each market and week; it
#'   returns the plotted data invisibly.
#' @export
plot.hbmmm_sim_personalized <- function(x, type = c("sales", "spend"), ...) {
  hsim_plot(x, type, ...)
}

# ---- internals ---------------------------------------------------------

hsim_print_body <- function(x, digits) {
  d <- x$data
  tr <- x$truth
  ch <- colnames(x$media_effect)
  cat(sprintf("  mean weekly sales per individual %s; media explain %.1f%% of sales\n",
              format(mean(d$sales), digits = digits),
              100 * sum(x$media_effect) / sum(d$sales)))
  cat(sprintf("  transforms: %s adstock (normalize = %s) within each individual, %s saturation\n",
              x$transforms$adstock, x$transforms$normalize, x$transforms$saturation))
  cat("  hbmmm formula: ", paste(deparse(x$formula, width.cutoff = 500L), collapse = " "), "\n", sep = "")
  a <- x$hbmmm_args
  cat("  hbmmm arguments: ", paste(names(a), vapply(a, function(v) {
    if (inherits(v, "formula")) return(paste(deparse(v), collapse = ""))
    if (!is.null(names(v))) return(sprintf("c(%s)", paste(names(v), "=", v, collapse = ", ")))
    if (length(v) > 1L) sprintf("c(%s)", paste0("\"", v, "\"", collapse = ", ")) else sprintf("\"%s\"", v)
  }, ""), sep = " = ", collapse = ", "), "\n\n", sep = "")
  tab <- data.frame(
    share = sprintf("%.1f%%", 100 * colSums(x$media_effect) / sum(d$sales)),
    b = tr[paste0("b_", ch)], decay = tr[paste0("decay_", ch)],
    halfsat = tr[paste0("halfsat_", ch)], slope = tr[paste0("slope_", ch)],
    row.names = ch, check.names = FALSE)
  names(tab)[1] <- "share of sales"
  cat("Channels:\n")
  print(format(tab, digits = digits), quote = FALSE)
  shown <- c(paste0(c("b_", "decay_", "halfsat_", "slope_"), rep(ch, each = 4)))
  other <- tr[setdiff(names(tr), shown)]
  cat("\nOther population-level parameters:\n")
  cat_pairs(other, digits)
  invisible(x)
}

# Market-by-week means over individuals, drawn by plot.hbmmm_sim().
hsim_plot <- function(x, type, ...) {
  type <- match_choice(type, c("sales", "spend"), "type")
  d <- x$data
  ch <- colnames(x$media_effect)
  agg <- stats::aggregate(d[c("sales", ch)], by = list(market = d$market, week = d$week), FUN = mean)
  agg$date <- d$date[match(agg$week, d$week)]
  agg <- agg[order(agg$market, agg$week), c("market", "week", "date", "sales", ch)]
  shim <- structure(list(data = agg, media_effect = x$media_effect[0, , drop = FALSE]),
                    class = "hbmmm_sim")
  dots <- list(...)
  if (is.null(dots$ylab)) {
    dots$ylab <- if (type == "sales") "Mean weekly sales per individual" else
      "Mean weekly exposure per individual"
  }
  if (is.null(dots$main) && type == "spend") dots$main <- "Media exposure by channel"
  if (type == "spend") {
    # plot.hbmmm_sim sums over markets; average instead
    n_mk <- nlevels(d$market)
    shim$data[ch] <- shim$data[ch] / n_mk
  }
  do.call(plot.hbmmm_sim, c(list(shim, type = type), dots))
}

# Media parameters by channel: defaults from HSIM_CHANNELS, overridden by the
# user's decay/halfsat/slope.
hsim_channel_pars <- function(channels, decay, halfsat, slope) {
  known <- match(channels, HSIM_CHANNELS$channel)
  dflt <- function(col) ifelse(is.na(known), HSIM_GENERIC[[col]], HSIM_CHANNELS[[col]][known])
  list(
    beta = dflt("beta"), level = dflt("level"),
    decay = sim_channel_par(decay, "decay", channels, dflt("decay"),
                            function(x) is.finite(x) & x >= 0 & x < 1, "in [0, 1)"),
    halfsat = sim_channel_par(halfsat, "halfsat", channels, dflt("halfsat"),
                              function(x) is.finite(x) & x > 0, "positive and finite"),
    slope = sim_channel_par(slope, "slope", channels, dflt("slope"),
                            function(x) is.finite(x) & x > 0, "positive and finite"))
}

hsim_check_sd <- function(x, arg, terms, default) {
  if (is.null(x)) return(default)
  x <- unname(recycle_named(x, terms, arg, what = "term", numeric = TRUE))
  bad <- !is.finite(x) | x < 0
  if (any(bad)) {
    abort_input(arg, sprintf("must be non-negative and finite for every term; found %s = %s",
                             terms[bad][1], format(x[bad][1])))
  }
  x
}

# sd_market: named subset of Intercept, price, promo and channels (terms left
# out do not vary), or unnamed for Intercept, price, promo. Returns the
# positive entries, named, in the order Intercept, price, promo, channels.
hsim_check_sd_market <- function(x, channels) {
  allowed <- c("Intercept", "price", "promo", channels)
  if (is.null(x)) return(c(Intercept = 15, price = 2, promo = 8))
  if (!is.numeric(x) || is.object(x) || !is.null(dim(x)) || !length(x)) {
    abort_input("sd_market", sprintf("must be a numeric vector; found %s", describe_value(x)))
  }
  if (is.null(names(x))) {
    if (length(x) != 3L) {
      abort_input("sd_market", sprintf("unnamed, must have 3 values (Intercept, price, promo); found length %d",
                                       length(x)))
    }
    names(x) <- c("Intercept", "price", "promo")
  }
  bad <- setdiff(names(x), allowed)
  if (length(bad) || anyDuplicated(names(x))) {
    abort_input("sd_market", sprintf("names must be distinct and among %s; found \"%s\"",
                                     paste(allowed, collapse = ", "),
                                     if (length(bad)) bad[1] else names(x)[anyDuplicated(names(x))]))
  }
  bad <- !is.finite(x) | x < 0
  if (any(bad)) {
    abort_input("sd_market", sprintf("must be non-negative and finite for every term; found %s = %s",
                                     names(x)[bad][1], format(x[bad][1])))
  }
  x <- x[intersect(allowed, names(x))]
  x[x > 0]
}

hsim_check_positive <- function(x, arg) {
  if (!is.numeric(x) || length(x) != 1L || !is.finite(x) || x <= 0) {
    abort_input(arg, sprintf("must be one positive, finite number; found %s", describe_value(x)))
  }
  as.double(x)
}

hsim_check_real <- function(x, arg) {
  if (!is.numeric(x) || length(x) != 1L || !is.finite(x)) {
    abort_input(arg, sprintf("must be one finite number; found %s", describe_value(x)))
  }
  as.double(x)
}

# One correlation for every pair of q terms: positive definite iff
# -1 / (q - 1) < rho < 1.
hsim_check_cor <- function(x, arg, q) {
  if (!is.numeric(x) || length(x) != 1L || !is.finite(x)) {
    abort_input(arg, sprintf("must be one number in (-1, 1); found %s", describe_value(x)))
  }
  lower <- if (q > 1L) -1 / (q - 1) else -1
  if (x >= 1 || x <= lower) {
    abort_input(arg, sprintf("must lie in (%s, 1) so that the correlation matrix of %d terms is positive definite; found %s",
                             format(lower, digits = 3), q, format(x)))
  }
  as.double(x)
}

# A numeric matrix with given rows and columns (matched by name when it has
# dimnames), or the default when NULL.
hsim_check_matrix <- function(x, arg, rows, cols, default) {
  if (is.null(x)) {
    dimnames(default) <- list(rows, cols)
    return(default)
  }
  if (!is.numeric(x) || !is.matrix(x) || !identical(dim(x), c(length(rows), length(cols)))) {
    abort_input(arg, sprintf("must be a numeric %d x %d matrix (rows %s; columns %s); found %s",
                             length(rows), length(cols), paste(rows, collapse = ", "),
                             paste(cols, collapse = ", "),
                             if (is.matrix(x)) sprintf("a %d x %d %s matrix", nrow(x), ncol(x), typeof(x))
                             else describe_value(x)))
  }
  rn <- rownames(x)
  cn <- colnames(x)
  if (!is.null(rn)) {
    if (!setequal(rn, rows) || anyDuplicated(rn)) {
      abort_input(arg, sprintf("row names must be %s; found %s", paste(rows, collapse = ", "),
                               paste(rn, collapse = ", ")))
    }
    x <- x[rows, , drop = FALSE]
  }
  if (!is.null(cn)) {
    if (!setequal(cn, cols) || anyDuplicated(cn)) {
      abort_input(arg, sprintf("column names must be %s; found %s", paste(cols, collapse = ", "),
                               paste(cn, collapse = ", ")))
    }
    x <- x[, cols, drop = FALSE]
  }
  if (any(!is.finite(x))) abort_input(arg, "must contain only finite numbers")
  storage.mode(x) <- "double"
  dimnames(x) <- list(rows, cols)
  x
}

hsim_check_delta <- function(delta, terms, beta) {
  default <- rbind(c(40, 6, 4, 1), outer(beta, c(1, 0.2, 0.15, 0.05)))
  hsim_check_matrix(delta, "delta", terms, c("1", "Z", "W", "Z:W"), default)
}

hsim_check_loadings <- function(x, terms, nf) {
  q <- length(terms)
  if (is.null(x)) {
    # the intercept (first term) loads on no factor: a_i independent of eta_i
    L <- matrix(0, q, nf)
    L[-1, 1] <- rep_len(c(0.75, 0.6, -0.5, 0.55, -0.45), q - 1L)
    if (nf > 1L) {
      for (f in 2:nf) L[-1, f] <- 0.4 * rep_len(c(1, -1, 0)[((seq_len(q - 1L) + f) %% 3) + 1], q - 1L)
    }
    # leave every term at least 20% unique variance
    s <- sqrt(pmax(rowSums(L^2) / 0.8, 1))
    L <- L / s
  } else {
    L <- hsim_check_matrix(x, "loadings", terms, paste0("F", seq_len(nf)), NULL)
    if (!is.null(colnames(x)) && !setequal(colnames(x), paste0("F", seq_len(nf)))) {
      abort_input("loadings", "column names, if given, must be F1, F2, ...")
    }
    h <- rowSums(L^2)
    if (any(h >= 1)) {
      abort_input("loadings", sprintf("every row must have a sum of squares below 1 (loadings on the correlation scale); found %s for `%s`",
                                      format(h[h >= 1][1], digits = 3), terms[h >= 1][1]))
    }
  }
  dimnames(L) <- list(terms, paste0("F", seq_len(nf)))
  L
}

# n draws of a normal vector with sds `sd` and one correlation `rho` for every
# pair (n x length(sd), no names).
hsim_mvn <- function(n, sd, rho) {
  q <- length(sd)
  if (!q) return(matrix(0, n, 0))
  R <- matrix(rho, q, q)
  diag(R) <- 1
  z <- matrix(stats::rnorm(n * q), n, q)
  z %*% chol(R) %*% diag(sd, q)
}

# Exposure of each individual (rows: individual-major, weeks within) to each
# channel: market flighting x the individual's media consumption x weekly
# noise. Every channel runs in flights (campaigns of 2-6 weeks, dark or at a
# low base level in between, timing differing by market), so that exposure
# varies strongly within each individual: this is what identifies the
# adstock and Hill parameters and the individual media slopes.
hsim_exposures <- function(channels, level, ind_market, n_markets, n_weeks) {
  n_ind <- length(ind_market)
  out <- vapply(seq_along(channels), function(c) {
    tv_like <- channels[c] == "tv"
    flight <- vapply(seq_len(n_markets), function(m) {
      on <- if (tv_like) sim_flights(n_weeks, on = 3:6, off = 2:5) else
        sim_flights(n_weeks, on = 2:5, off = 2:4)
      ifelse(on > 0, 1, if (tv_like) 0 else 0.15) * stats::rlnorm(n_weeks, 0, 0.15)
    }, numeric(n_weeks))
    reach <- stats::rlnorm(n_ind, 0, 0.5)
    noise <- stats::rlnorm(n_ind * n_weeks, 0, 0.3)
    level[c] * as.vector(flight[, ind_market, drop = FALSE]) * rep(reach, each = n_weeks) * noise
  }, numeric(n_ind * n_weeks))
  matrix(round(out, 3), ncol = length(channels), dimnames = list(NULL, channels))
}

# Left-hand side of a bar for these term names ("Intercept" -> 1).
hsim_bar_lhs <- function(terms) {
  lhs <- ifelse(terms == "Intercept", "1", terms)
  if (!"Intercept" %in% terms) lhs <- c("0", lhs)
  paste(lhs, collapse = " + ")
}

# `||` (uncorrelated, which is what the simulators draw when the correlation
# is 0) or `|` for a bar with q terms.
hsim_bar_op <- function(q, rho) if (q > 1L && rho == 0) "||" else "|"

# sd_ and cor_ truth of a grouping term with sds `sd` (named by term) and one
# correlation for every pair, in hbmmm's order; no cor_ for an uncorrelated
# (`||`) term.
hsim_cov_truth <- function(group, sd, rho) {
  q <- length(sd)
  if (!q) return(numeric(0))
  if (rho == 0) return(stats::setNames(sd, paste0("sd_", group, "__", names(sd))))
  S <- diag(sd, q) %*% (matrix(rho, q, q) + diag(1 - rho, q)) %*% diag(sd, q)
  dimnames(S) <- list(names(sd), names(sd))
  hsim_cov_truth_matrix(group, S)
}

hsim_cov_truth_matrix <- function(group, S) {
  tn <- rownames(S)
  q <- length(tn)
  out <- stats::setNames(sqrt(diag(S)), paste0("sd_", group, "__", tn))
  if (q > 1L) {
    R <- stats::cov2cor(S)
    pr <- utils::combn(q, 2)
    out <- c(out, stats::setNames(R[t(pr)], paste0("cor_", group, "__", tn[pr[1, ]], "__", tn[pr[2, ]])))
  }
  out
}

# Transform parameters named as hbmmm's draws, channel by channel.
hsim_transform_truth <- function(channels, ch_par) {
  v <- rbind(ch_par$decay, ch_par$halfsat, ch_par$slope)
  stats::setNames(as.vector(v), paste0(c("decay_", "halfsat_", "slope_"), rep(channels, each = 3)))
}
