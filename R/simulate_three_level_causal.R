# Simulator of the full analysis of Ni et al. (2024): the three-level data
# of simulate_three_level() (individuals in product-market units) with the
# paper's five channels and their costs, consumer segments, and a targeted
# campaign whose assignment is confounded by consumer characteristics. It
# reuses the three-level simulator's pieces (exposure flighting, normal
# draws of the group-level errors, argument checks); the generating model is
# linear in exposure, as the paper's level-1 equation is.

# Default channels of the paper's Table 8: effect of one unit of weekly
# exposure on weekly purchases (dollars) for a medium-value consumer, cost of
# one unit of exposure (dollars) and the typical weekly exposure of an
# individual while the channel is active (`level`, as in HSIM_CHANNELS).
TLC_CHANNELS <- data.frame(
  channel = c("tv", "display", "social", "email", "direct_mail"),
  beta    = c(0.45, 0.30, 0.50, 0.60, 0.80),
  cost    = c(0.20, 0.12, 0.18, 0.30, 0.70),
  level   = c(12, 8, 6, 5, 5),
  stringsAsFactors = FALSE
)
TLC_SEGMENTS <- c("high", "medium", "low", "new")
# Channel effects of each segment relative to the medium-value segment: the
# heterogeneity that makes a personalized plan pay (the paper's Table 10).
TLC_MULTIPLIER <- matrix(c(
  1.30, 0.90, 1.20, 1.10, 1.00,  # high value: TV and social
  1.00, 1.00, 1.00, 1.00, 1.00,  # medium value
  0.70, 1.20, 0.80, 1.20, 1.10,  # low value: display and email
  1.10, 1.00, 1.50, 0.60, 0.50   # new customers: social
), nrow = 5, dimnames = list(TLC_CHANNELS$channel, TLC_SEGMENTS))
# Baseline weekly purchases: intercept and effects of the consumer, product
# and market characteristics (raw units, the data's columns).
TLC_BASELINE <- c(Intercept = 5, loyalty = 2.5, income = 0.15, age = 0.1, past_value = 0.6,
                  tenure = 0.03, price = -0.3, purchasing_power = 0.25)
# The paper's data: 5 countries, 15 product categories, three years of weeks;
# 106 individuals per product and country give its ~1.24 million rows.
TLC_PAPER_SIZE <- c(n_markets = 5, n_products = 15, n_individuals = 106, n_weeks = 156)

#' Simulate the three-level causal analysis of Ni et al.
#'
#' Generates weekly purchases of individuals who buy a product in a market,
#' exposed to five media channels and possibly targeted by a campaign, with
#' the structure of the empirical application of Ni et al. (2024): three
#' levels (individuals in product-market units in markets), consumer
#' segments whose channel and campaign effects differ, channel costs, and a
#' campaign whose targeting depends on the consumers' characteristics, so that
#' comparing targeted and other consumers is biased while matching or
#' weighting on those characteristics is not. `size = "paper"` gives the
#' paper's dimensions (5 markets, 15 products, 156 weeks, about 1.24 million
#' rows); the defaults are small enough to fit in seconds.
#'
#' @section The model:
#' Individual \eqn{i} of product-market unit \eqn{j} in week \eqn{t}:
#' \deqn{y_{ijt} = \beta_{0ij} + \sum_c \beta_{cij} x_{cijt} + \tau_{s(i)}
#'   T_i 1(t \ge t_0) + \varepsilon_{ijt},\quad \varepsilon \sim N(0, \sigma^2)}{y = b0[ij] + sum_c bc[ij] x[c,ijt] + tau[s(i)] T[i] 1(t >= t0) + e, e ~ N(0, sigma^2)}
#' where \eqn{x_{cijt}} is the exposure (units of the channel) and
#' \eqn{s(i)} the consumer's segment. Coefficients:
#' * baseline \eqn{\beta_{0ij} = \delta_0 + \delta' X_i + \delta_p
#'   price_j + \delta_w purchasing\_power_j + v_{0j} + u_{0i}}{b0 = d0 + d'X[i] + dp price[j] + dw purchasing_power[j] + v0[j] + u0[i]}
#'   with the consumer characteristics \eqn{X_i} (`loyalty`, `income`, `age`,
#'   `past_value`, `tenure`), the product's price and the market's
#'   purchasing power: \eqn{\delta_0 = 5} and coefficients 2.5, 0.15, 0.1,
#'   0.6, 0.03, -0.3 and 0.25 (in the data's units; `truth` holds them);
#' * channel slopes \eqn{\beta_{cij} = b_c m_{c,s(i)} + v_{cj} + u_{ci}}{bc = b_c m[c, s(i)] + vc[j] + uc[i]}:
#'   the effect `beta` of the channel for a medium-value consumer times the
#'   segment's `multiplier`, plus normal errors of the product-market unit
#'   (sd `sd_product` times \eqn{b_c}) and of the individual (sd
#'   `sd_individual` times \eqn{b_c}). By default the TV, display and social
#'   slopes vary across product-market units and individual slopes vary by
#'   segment only: the Gibbs sampler mixes slowly on standard deviations of
#'   slopes near zero, and email and direct mail reach too few consumers
#'   per unit to identify theirs;
#' * the campaign: consumers are targeted (\eqn{T_i = 1}) with probability
#'   \eqn{logit^{-1}(a_0 + a' \tilde X_i)}{plogis(a0 + a' Xs[i])}, \eqn{\tilde
#'   X}{Xs} the standardized characteristics and \eqn{a} = `confounding`; the
#'   campaign runs from week `campaign_start` on and adds `campaign_effect`
#'   (by segment) to the weekly purchases of targeted consumers.
#'
#' Segments come from the history: `"new"` when `tenure` is below 6 months,
#' otherwise `"high"`, `"medium"` or `"low"` value by the thirds of
#' `past_value` among the other consumers. Since targeting favours loyal,
#' high-value consumers who buy more anyway, the naive difference between
#' targeted and other consumers overstates the campaign effect; the five
#' characteristics are the only confounders.
#'
#' @section Correspondence with hbmmm:
#' `formula` is the generating model in [hbmmm()]'s terms:
#' ```
#' sales ~ (tv + display + social + email + direct_mail + campaign) * segment +
#'   targeted + loyalty + income + age + past_value + tenure + price + purchasing_power +
#'   (1 + tv + display + social || market:product) + (1 | market:product:individual)
#' ```
#' fitted with `media` = the channels, `adstock = "none"`, `saturation =
#' "none"`, `spend` mapping each channel to its spend column, `time = "week"`
#' and `panel = "individual"` (`hbmmm_args`). `truth` gives every
#' population-level parameter under hbmmm's draw names (segment `"high"` is the
#' reference level, so `b_tv` is the high-value effect and
#' `b_tv:segmentnew` the difference of new customers; `b_targeted` and the
#' segment main effects are 0). Slopes whose standard deviation is 0 are left
#' out of the bars (and of `truth`), so the formula always matches the
#' generating model. Centring the characteristics before fitting (as the
#' vignette does, for the sampler's sake) changes `b_Intercept` only.
#'
#' @param n_markets,n_products,n_individuals,n_weeks Markets, products per
#'   market, individuals per product and market, and weeks (whole numbers;
#'   at least 2 product-market units, 8 individuals in all and 4 weeks).
#' @param size `NULL` (use the four sizes above) or `"paper"`: the paper's
#'   dimensions, 5 markets x 15 products x 106 individuals x 156 weeks
#'   (1,240,200 rows; the four size arguments must then be left out).
#' @param beta Effect of one unit of exposure of each channel on weekly
#'   purchases of a medium-value consumer: one value per channel (`tv`,
#'   `display`, `social`, `email`, `direct_mail`), unnamed in that order or
#'   named; `NULL` for the defaults (0.45, 0.30, 0.50, 0.60, 0.80).
#' @param cost Cost (dollars) of one unit of exposure of each channel, given
#'   like `beta`; `NULL`: 0.20, 0.12, 0.18, 0.30, 0.70. The spend columns are
#'   exposure times cost.
#' @param multiplier Channel effects of each segment relative to `beta`: a
#'   positive matrix, channels by segments (`high`, `medium`, `low`, `new`);
#'   `NULL` for the default (TV and social stronger for high-value consumers,
#'   display and email for low-value ones, social for new customers).
#' @param campaign_effect Effect of the campaign on the weekly purchases of a
#'   targeted consumer, by segment (one value or one per segment, named or in
#'   the order `high`, `medium`, `low`, `new`); default `c(8, 5, 3, 10)`.
#' @param confounding Coefficients of the true targeting model on the
#'   standardized characteristics: intercept, loyalty, income, age,
#'   past_value, tenure. Larger values: stronger confounding, less overlap.
#' @param campaign_start Week the campaign starts (`NULL`: the middle week).
#' @param sd_product,sd_individual Standard deviations of the channel slopes
#'   across product-market units and across individuals, relative to `beta`:
#'   one value for all channels, or one per channel (named, or unnamed in the
#'   order of `beta`); 0 keeps a slope fixed at that level.
#' @param sd_intercept Standard deviations of the baseline's errors across
#'   product-market units and across individuals (two numbers).
#' @param sigma Residual standard deviation (dollars).
#' @param start Date of the first week.
#' @param seed Optional whole number making the simulation reproducible (the
#'   caller's random number state is restored on exit).
#' @return An object of class `hbmmm_sim_three_level_causal`, a list with
#'   \describe{
#'     \item{`data`}{One row per individual and week, ordered by market,
#'       product, individual and week: `market`, `product`, `individual`
#'       (factors), `week`, `date`, `sales` (weekly purchases, dollars), the
#'       exposure of each channel (`tv`, `display`, `social`, `email`,
#'       `direct_mail`), its spend (`tv_spend`, ...), the product's `price`
#'       (dollars) and the market's `purchasing_power` (index, 100 = average),
#'       the consumer's `loyalty` (score 1-10), `income` (thousands of
#'       dollars), `age` (years), `past_value` (average weekly purchases in the
#'       past year, dollars), `tenure` (months) and `segment` (factor `high`,
#'       `medium`, `low`, `new`), `targeted` (0/1: targeted by the campaign)
#'       and `campaign` (0/1: targeted and the campaign is running).}
#'     \item{`individuals`}{One row per individual: `individual`, `market`,
#'       `product`, the characteristics, `segment`, `targeted`, the true
#'       `propensity`, the true campaign effect `tau` and `outcome`, the mean
#'       weekly purchases while the campaign runs.}
#'     \item{`truth`}{Named vector of the population-level parameters of
#'       `formula` under hbmmm's draw names.}
#'     \item{`effects`}{The effects a marketer reads: `channel` (population
#'       effect of one unit of exposure of each channel, the segments weighted
#'       by their share of individuals), `channel_segment` (segments by
#'       channels), `roi_segment` (the same per dollar: incremental purchases
#'       per dollar of spend), `campaign` (`ATE` and `ATT` over the simulated
#'       individuals and `naive_bias`, the bias of the targeted-minus-other
#'       difference of `outcome` in this sample), `campaign_segment` and
#'       `segment_share`.}
#'     \item{`cost`}{Cost of one unit of exposure by channel.}
#'     \item{`formula`, `hbmmm_args`}{The [hbmmm()] formula and other
#'       arguments of the generating model.}
#'     \item{`coef`}{True coefficients of each individual: baseline and
#'       channel slopes (matrix, individuals by `c("Intercept", channels)`).}
#'     \item{`params`}{The settings used, including `campaign_start`,
#'       `multiplier` and `confounding`.}
#'   }
#' @references Ni, X., Yan, L., Xiong, K. and Liu, Y. (2024). A hierarchical
#'   Bayesian market mix model with causal inference for personalized marketing
#'   optimization. *Journal of Artificial Intelligence General Science*, 6(1).
#' @seealso [simulate_three_level()] for the three-level model with Hill
#'   saturation and cross-level interactions; the dataset [three_level] and
#'   `vignette("three-level-causal")`.
#' @examples
#' sim <- simulate_three_level_causal(seed = 1)
#' sim
#' sim$effects$campaign
#' # the naive comparison of targeted and other consumers is biased
#' ind <- sim$individuals
#' mean(ind$outcome[ind$targeted == 1]) - mean(ind$outcome[ind$targeted == 0])
#' @export
simulate_three_level_causal <- function(n_markets = 4, n_products = 3, n_individuals = 32,
                                        n_weeks = 20, size = NULL, beta = NULL, cost = NULL,
                                        multiplier = NULL, campaign_effect = c(8, 5, 3, 10),
                                        confounding = c(-0.7, 0.6, 0.4, 0.3, 0.6, -0.5),
                                        campaign_start = NULL,
                                        sd_product = c(tv = 0.3, display = 0.3, social = 0.3,
                                                       email = 0, direct_mail = 0),
                                        sd_individual = 0, sd_intercept = c(6, 10), sigma = 10,
                                        start = as.Date("2023-01-02"), seed = NULL) {
  cl <- match.call()
  if (!is.null(size)) {
    size <- match_choice(size, "paper", "size")
    given <- intersect(names(cl), names(TLC_PAPER_SIZE))
    if (length(given)) {
      abort_input("size", sprintf("sets the dimensions itself; leave out `%s`", given[1]))
    }
    n_markets <- TLC_PAPER_SIZE[["n_markets"]]
    n_products <- TLC_PAPER_SIZE[["n_products"]]
    n_individuals <- TLC_PAPER_SIZE[["n_individuals"]]
    n_weeks <- TLC_PAPER_SIZE[["n_weeks"]]
  }
  n_markets <- check_count(n_markets, "n_markets", min = 1, max = 1000)
  n_products <- check_count(n_products, "n_products", min = 1, max = 1000)
  n_individuals <- check_count(n_individuals, "n_individuals", min = 1, max = 1e4)
  n_weeks <- check_count(n_weeks, "n_weeks", min = 4, max = 1e4)
  n_cells <- n_markets * n_products
  n_ind <- n_cells * n_individuals
  if (n_cells < 2L || n_ind < 8L) {
    abort_input("n_individuals", sprintf(
      "must give at least 2 product-market units and 8 individuals in all; found %d unit(s), %d individual(s)",
      n_cells, n_ind))
  }
  channels <- TLC_CHANNELS$channel
  beta <- recycle_named(beta, channels, "beta", default = NA_real_, numeric = TRUE)
  beta[is.na(beta)] <- TLC_CHANNELS$beta[is.na(beta)]
  cost <- recycle_named(cost, channels, "cost", default = NA_real_, numeric = TRUE)
  cost[is.na(cost)] <- TLC_CHANNELS$cost[is.na(cost)]
  if (any(!is.finite(cost) | cost <= 0)) abort_input("cost", "must be positive and finite for every channel")
  if (any(!is.finite(beta))) abort_input("beta", "must be finite for every channel")
  multiplier <- hsim_check_matrix(multiplier, "multiplier", channels, TLC_SEGMENTS, TLC_MULTIPLIER)
  if (any(multiplier <= 0)) abort_input("multiplier", "must be positive")
  campaign_effect <- recycle_named(campaign_effect, TLC_SEGMENTS, "campaign_effect", what = "segment",
                                   numeric = TRUE)
  if (any(!is.finite(campaign_effect))) abort_input("campaign_effect", "must be finite for every segment")
  if (!is.numeric(confounding) || length(confounding) != 6L || any(!is.finite(confounding))) {
    abort_input("confounding", sprintf("must be 6 finite numbers (intercept, loyalty, income, age, past_value, tenure); found %s",
                                       describe_value(confounding)))
  }
  if (is.null(campaign_start)) campaign_start <- n_weeks %/% 2L + 1L
  campaign_start <- check_count(campaign_start, "campaign_start", min = 2, max = n_weeks)
  sd_product <- hsim_check_sd(sd_product, "sd_product", channels, 0)
  sd_individual <- hsim_check_sd(sd_individual, "sd_individual", channels, 0)
  if (!is.numeric(sd_intercept) || length(sd_intercept) != 2L || any(!is.finite(sd_intercept) | sd_intercept < 0)) {
    abort_input("sd_intercept", sprintf("must be 2 non-negative numbers (product-market, individual); found %s",
                                        describe_value(sd_intercept)))
  }
  sigma <- hsim_check_positive(sigma, "sigma")
  start <- sim_check_start(start)
  restore <- sim_seed(seed)
  if (!is.null(restore)) on.exit(restore(), add = TRUE)

  ids <- tlc_ids(n_markets, n_products, n_individuals)
  ind_cell <- rep(seq_len(n_cells), each = n_individuals)
  ind_mk <- ids$cell_mk[ind_cell]
  # Draw order is fixed: unit characteristics, consumers, targeting,
  # group-level errors, exposures, noise.
  price <- round(stats::rlnorm(n_products, log(30), 0.5), 2)
  power <- round(100 + stats::rnorm(n_markets, 0, 10), 1)
  ind <- tlc_consumers(n_ind)
  ind$propensity <- tlc_propensity(ind, confounding)
  ind$targeted <- stats::rbinom(n_ind, 1L, ind$propensity)
  eff <- c("Intercept", channels)
  v <- hsim_mvn(n_cells, c(sd_intercept[1], sd_product * abs(beta)), 0)
  u <- hsim_mvn(n_ind, c(sd_intercept[2], sd_individual * abs(beta)), 0)
  dimnames(v) <- list(ids$cell, eff)
  dimnames(u) <- list(ids$individual, eff)

  X <- cbind(Intercept = 1, loyalty = ind$loyalty, income = ind$income, age = ind$age,
             past_value = ind$past_value, tenure = ind$tenure,
             price = price[ids$cell_pr[ind_cell]], purchasing_power = power[ind_mk])
  seg <- as.integer(ind$segment)
  coef <- cbind(Intercept = drop(X %*% TLC_BASELINE[colnames(X)]),
                t(multiplier[, seg, drop = FALSE] * beta)) + v[ind_cell, , drop = FALSE] + u
  dimnames(coef) <- list(ids$individual, eff)
  ind$tau <- unname(campaign_effect[seg])

  expo <- hsim_exposures(channels, TLC_CHANNELS$level, ind_mk, n_markets, n_weeks)
  row_ind <- rep(seq_len(n_ind), each = n_weeks)
  weeks <- rep(seq_len(n_weeks), n_ind)
  campaign <- as.integer(ind$targeted[row_ind] == 1L & weeks >= campaign_start)
  mu <- coef[row_ind, "Intercept"] + rowSums(coef[row_ind, channels, drop = FALSE] * expo) +
    ind$tau[row_ind] * campaign
  sales <- round(unname(mu + stats::rnorm(length(mu), 0, sigma)), 2)

  spend <- round(sweep(expo, 2, cost, `*`), 3)
  colnames(spend) <- paste0(channels, "_spend")
  data <- data.frame(
    market = factor(ids$market[ind_mk][row_ind], levels = ids$market),
    product = factor(ids$product[ids$cell_pr[ind_cell]][row_ind], levels = ids$product),
    individual = factor(ids$individual[row_ind], levels = ids$individual),
    week = weeks, date = start + 7L * (weeks - 1L), sales = sales)
  data <- cbind(data, as.data.frame(expo), as.data.frame(spend))
  data$price <- X[row_ind, "price"]
  data$purchasing_power <- X[row_ind, "purchasing_power"]
  for (nm in c("loyalty", "income", "age", "past_value", "tenure", "segment", "targeted")) {
    data[[nm]] <- ind[[nm]][row_ind]
  }
  data$campaign <- campaign

  in_campaign <- weeks >= campaign_start
  ind$outcome <- as.vector(rowsum(sales * in_campaign, row_ind)) / sum(seq_len(n_weeks) >= campaign_start)
  individuals <- data.frame(individual = factor(ids$individual, levels = ids$individual),
                            market = factor(ids$market[ind_mk], levels = ids$market),
                            product = factor(ids$product[ids$cell_pr[ind_cell]], levels = ids$product),
                            ind, stringsAsFactors = FALSE)
  structure(list(
    data = data, individuals = individuals,
    truth = tlc_truth(beta, multiplier, campaign_effect, sd_product, sd_individual, sd_intercept, sigma),
    effects = tlc_effects(individuals, beta, cost, multiplier, campaign_effect),
    cost = cost,
    formula = tlc_formula(channels, c(sd_intercept[1], sd_product * abs(beta)),
                          c(sd_intercept[2], sd_individual * abs(beta))),
    hbmmm_args = list(media = channels, adstock = "none", saturation = "none",
                      spend = stats::setNames(colnames(spend), channels), time = "week",
                      panel = "individual"),
    coef = coef,
    params = list(beta = beta, multiplier = multiplier, campaign_effect = campaign_effect,
                  confounding = confounding, campaign_start = campaign_start,
                  baseline = TLC_BASELINE, sd_product = sd_product, sd_individual = sd_individual,
                  sd_intercept = sd_intercept, sigma = sigma),
    call = cl), class = "hbmmm_sim_three_level_causal")
}

#' @rdname simulate_three_level_causal
#' @param x An `hbmmm_sim_three_level_causal` object.
#' @param digits Significant digits for printed numbers.
#' @param ... Ignored.
#' @details `print()` shows the design, the campaign's targeting and effects,
#'   the channel effects by segment and the hbmmm formula; it returns `x`
#'   invisibly.
#' @export
print.hbmmm_sim_three_level_causal <- function(x, digits = 3, ...) {
  d <- x$data
  ind <- x$individuals
  cat(sprintf(paste0("<hbmmm_sim> three-level causal analysis (Ni et al.): %d markets x %d products, ",
                     "%d individuals, %d weeks = %d rows\n"),
              nlevels(d$market), nlevels(d$product), nrow(ind), length(unique(d$week)), nrow(d)))
  cat(sprintf("  mean weekly sales per individual %s; %d of %d individuals targeted (campaign from week %d)\n",
              format(mean(d$sales), digits = digits), sum(ind$targeted), nrow(ind),
              x$params$campaign_start))
  cat("  segments: ", paste(names(x$effects$segment_share), sprintf("%.0f%%", 100 * x$effects$segment_share),
                            collapse = ", "), "\n", sep = "")
  cat("Campaign effect on weekly sales:\n")
  cat_pairs(x$effects$campaign, digits)
  cat("Effect of one unit of exposure, by segment:\n")
  print(signif(x$effects$channel_segment, digits))
  cat("Cost of one unit of exposure:\n")
  cat_pairs(x$cost, digits)
  cat("hbmmm formula: ", paste(deparse(x$formula, width.cutoff = 500L), collapse = " "), "\n", sep = "")
  invisible(x)
}

# ---- internals ---------------------------------------------------------

# Identifiers of markets, products, product-market cells and individuals,
# named as simulate_three_level() names them.
tlc_ids <- function(n_markets, n_products, n_individuals) {
  n_cells <- n_markets * n_products
  n_ind <- n_cells * n_individuals
  market <- paste0("M", formatC(seq_len(n_markets), width = max(2L, nchar(n_markets)), flag = "0"))
  product <- paste0("P", formatC(seq_len(n_products), width = max(2L, nchar(n_products)), flag = "0"))
  cell_mk <- rep(seq_len(n_markets), each = n_products)
  cell_pr <- rep(seq_len(n_products), times = n_markets)
  list(market = market, product = product, cell_mk = cell_mk, cell_pr = cell_pr,
       cell = paste(market[cell_mk], product[cell_pr], sep = ":"),
       individual = paste0("I", formatC(seq_len(n_ind), width = max(4L, nchar(n_ind)), flag = "0")))
}

# Consumer characteristics and segments. Loyal, higher-income consumers have
# a higher past value; 15% are new (tenure under 6 months).
tlc_consumers <- function(n) {
  age <- round(pmin(pmax(stats::rnorm(n, 45, 13), 18), 80))
  income <- round(55 * exp(stats::rnorm(n, 0, 0.35)), 1)
  loyalty <- round(pmin(pmax(stats::rnorm(n, 6.9, 2.1), 1), 10), 1)
  new <- stats::runif(n) < 0.15
  tenure <- ifelse(new, sample.int(5L, n, replace = TRUE), round(6 + stats::rexp(n, 1 / 30)))
  past_value <- round(40 * exp(0.12 * (loyalty - 6.9) + 0.4 * log(income / 55) + stats::rnorm(n, 0, 0.3)), 2)
  segment <- rep("new", n)
  old <- tenure >= 6
  if (any(old)) {
    cuts <- stats::quantile(past_value[old], c(1, 2) / 3, names = FALSE)
    segment[old] <- ifelse(past_value[old] > cuts[2], "high", ifelse(past_value[old] > cuts[1], "medium", "low"))
  }
  data.frame(loyalty = loyalty, income = income, age = age, past_value = past_value,
             tenure = tenure, segment = factor(segment, levels = TLC_SEGMENTS))
}

# True targeting probability: logistic in the characteristics standardized
# by their population location and scale (fixed, so that the model does not
# depend on the sample).
tlc_propensity <- function(ind, a) {
  z <- cbind((ind$loyalty - 6.9) / 2.1, log(ind$income / 55) / 0.35, (ind$age - 45) / 13,
             (log(ind$past_value) - log(40)) / 0.45, (pmin(ind$tenure, 60) - 30) / 20)
  stats::plogis(a[1] + drop(z %*% a[-1]))
}

# The generating model; terms whose sd is 0 are left out of the bars (as
# simulate_three_level() does), so the formula always matches the simulation.
tlc_formula <- function(channels, sd3, sd2) {
  bar <- function(sd, group) {
    terms <- c("Intercept", channels)[sd > 0]
    if (!length(terms)) return(NULL)
    sprintf("(%s %s %s)", hsim_bar_lhs(terms), hsim_bar_op(length(terms), 0), group)
  }
  stats::as.formula(paste(c(paste0(
    "sales ~ (", paste(channels, collapse = " + "), " + campaign) * segment + targeted + loyalty + ",
    "income + age + past_value + tenure + price + purchasing_power"),
    bar(sd3, "market:product"), bar(sd2, "market:product:individual")), collapse = " + "),
    env = globalenv())
}

# Population-level parameters of tlc_formula() under hbmmm's draw names, in
# the order of its design: the main effects, then the segment interactions,
# the group-level sds and sigma.
tlc_truth <- function(beta, multiplier, campaign_effect, sd_product, sd_individual, sd_intercept, sigma) {
  channels <- names(beta)
  seg <- TLC_SEGMENTS[-1]
  eff_high <- c(beta * multiplier[, "high"], campaign = campaign_effect[["high"]])
  diff <- cbind(sweep(multiplier[, seg, drop = FALSE] - multiplier[, "high"], 1, beta, `*`))
  diff <- rbind(diff, campaign = campaign_effect[seg] - campaign_effect[["high"]])
  base <- TLC_BASELINE
  b <- c(Intercept = base[["Intercept"]], eff_high,
         stats::setNames(rep(0, length(seg)), paste0("segment", seg)),
         targeted = 0, base[-1],
         stats::setNames(as.vector(t(diff)), paste0(rep(rownames(diff), each = length(seg)), ":segment", seg)))
  terms <- c("Intercept", channels)
  sd3 <- c(sd_intercept[1], sd_product * abs(beta))
  sd2 <- c(sd_intercept[2], sd_individual * abs(beta))
  c(stats::setNames(b, paste0("b_", names(b))),
    stats::setNames(sd3, paste0("sd_market:product__", terms))[sd3 > 0],
    stats::setNames(sd2, paste0("sd_market:product:individual__", terms))[sd2 > 0],
    sigma = sigma)
}

tlc_effects <- function(ind, beta, cost, multiplier, campaign_effect) {
  share <- as.vector(table(ind$segment)) / nrow(ind)
  names(share) <- TLC_SEGMENTS
  ch_seg <- t(multiplier * beta)
  tr <- ind$targeted == 1L
  naive <- mean(ind$outcome[tr]) - mean(ind$outcome[!tr])
  att <- mean(ind$tau[tr])
  list(channel = drop(share %*% ch_seg), channel_segment = ch_seg,
       roi_segment = sweep(ch_seg, 2, cost, `/`),
       campaign = c(ATE = mean(ind$tau), ATT = att, naive_bias = naive - att),
       campaign_segment = campaign_effect, segment_share = share)
}
