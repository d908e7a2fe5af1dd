# Simulator of weekly MMM panels with known truth, used for the shipped
# example data (data-raw/mmm_weekly.R), examples, and parameter-recovery tests.

# Default media parameters per known channel. `level` is the weekly spend
# (thousands of dollars) of an average-size market while the channel is active;
# halfsat sits near the typical adstocked spend of an average market so that the
# Hill curves are neither flat nor linear over the observed spend.
SIM_CHANNELS <- data.frame(
  channel = c("tv", "search", "social", "display", "email"),
  beta    = c(200, 130, 80, 70, 40),
  decay   = c(0.6, 0.1, 0.3, 0.4, 0.2),
  halfsat = c(40, 18, 11, 15, 3),
  slope   = c(2.0, 1.2, 1.5, 2.5, 1.0),
  level   = c(60, 18, 11, 25, 3),
  stringsAsFactors = FALSE
)
# Channels the simulator does not know: an always-on channel with occasional
# pushes, parameters in the same range as the defaults.
SIM_GENERIC <- list(beta = 60, decay = 0.3, halfsat = 10, slope = 1.5, level = 10)

# Population-level baseline and controls (sales in thousands of dollars per
# market-week); fixed so that media explain about 30% of sales by default.
SIM_FIXED <- c(b_Intercept = 800, b_price = -250, b_promo = 60,
               b_season_sin = 60, b_season_cos = 35)
SIM_SD_INTERCEPT <- 80     # market intercept sd: 10% of the intercept
SIM_SD_SLOPE_REL <- 0.15   # market slope sd relative to beta: slopes stay positive
SIM_PERIOD <- 52.18        # weeks per year
SIM_RESERVED <- c("market", "week", "date", "sales", "price", "promo",
                  "season_sin", "season_cos", "Intercept")

#' Simulate a weekly marketing mix panel with known parameters
#'
#' Generates sales, media spend and controls for `n_markets` markets over
#' `n_weeks` weeks from a hierarchical marketing mix model whose parameters are
#' returned alongside the data, so that fitted models can be checked against
#' the truth.
#'
#' Sales of market `m` in week `t` are
#'
#' \deqn{sales_{mt} = b_0 + r_{m0} + \sum_c (b_c + r_{mc})\,
#'   hill(adstock(spend_{m\cdot c}, decay_c)_t, halfsat_c, slope_c) +
#'   b_{price} price_{mt} + b_{promo} promo_{mt} + b_{sin} \sin_t + b_{cos} \cos_t +
#'   e_{mt}}{sales[m,t] = b_Intercept + r[m,Intercept] + sum_c (b_c + r[m,c]) *
#'   hill(adstock(spend[m, , c], decay_c)[t], halfsat_c, slope_c) +
#'   b_price * price[m,t] + b_promo * promo[m,t] + b_season_sin * sin[t] +
#'   b_season_cos * cos[t] + e[m,t]}
#'
#' with `e ~ N(0, sigma^2)` and market effects `r[m, term] ~ N(0, sd^2)`,
#' independent across terms. The adstock is [adstock_geometric()] with infinite
#' memory and `normalize = TRUE` (so adstocked spend keeps the scale of spend),
#' restarted in each market; the saturation is [saturation_hill()].
#'
#' Spend is in thousands of dollars per market-week and is scaled by a
#' market-size factor (lognormal, sdlog 0.3). Each default channel has its own
#' flighting pattern: `tv` runs bursts of 3-6 weeks separated by 3-8 dark weeks;
#' `search` is always on and follows the seasonality of demand; `social` is
#' always on with noisy weekly spend; `display` runs 4-week campaigns every 13
#' weeks over a small always-on base; `email` is small and steady. Any other
#' channel name gets an always-on pattern with occasional pushes. The price
#' index varies around 1 (about 5% lower in promotion weeks) and `promo` marks
#' about 12% of weeks.
#'
#' Default parameters (NULL arguments) by channel:
#' \tabular{lrrrr}{
#'   channel \tab beta \tab decay \tab halfsat \tab slope \cr
#'   tv      \tab 200  \tab 0.6   \tab 40      \tab 2.0   \cr
#'   search  \tab 130  \tab 0.1   \tab 18      \tab 1.2   \cr
#'   social  \tab 80   \tab 0.3   \tab 11      \tab 1.5   \cr
#'   display \tab 70   \tab 0.4   \tab 15      \tab 2.5   \cr
#'   email   \tab 40   \tab 0.2   \tab 3       \tab 1.0   \cr
#'   other   \tab 60   \tab 0.3   \tab 10      \tab 1.5
#' }
#' The other population parameters are fixed: `b_Intercept = 800`,
#' `b_price = -250`, `b_promo = 60`, `b_season_sin = 60`, `b_season_cos = 35`.
#' With the defaults, media explain roughly 30% of sales.
#'
#' @param n_markets Number of markets, a whole number in `[1, 10000]`.
#' @param n_weeks Number of weeks, a whole number in `[1, 10000]`.
#' @param channels Names of the media channels: distinct, non-empty syntactic
#'   names that do not clash with the other columns (`market`, `week`, `date`,
#'   `sales`, `price`, `promo`, `season_sin`, `season_cos`) or `Intercept`.
#' @param beta Population media coefficients in sales units: the effect of a
#'   fully saturated channel. One value per channel, unnamed (in the order of
#'   `channels`) or named by channel, or a single unnamed value for all
#'   channels; `NULL` for the defaults above. The same rules apply to `decay`,
#'   `halfsat` and `slope`.
#' @param decay Geometric adstock retention rates, each in `[0, 1)`.
#' @param halfsat Positive Hill half-saturation points, in adstocked spend
#'   (thousands of dollars per week).
#' @param slope Positive Hill slopes (`> 1` gives an S-shaped curve).
#' @param sd_market Standard deviations of the market-level effects, for the
#'   intercept and each channel slope: a vector of length `1 + length(channels)`,
#'   unnamed (intercept first, then channels) or named `"Intercept"` and the
#'   channels, or one value for all terms. Each non-negative; `0` switches a
#'   market effect off. `NULL` (default) uses 80 for the intercept and
#'   `0.15 * abs(beta)` for the slopes.
#' @param mixture Optional heterogeneous audiences: a list named by channel,
#'   each element a list with `halfsat`, `slope` and `weight` (vectors of one
#'   value per latent segment; weights positive, summing to 1). That channel's
#'   saturation is then the mixture of Hill curves
#'   [saturation_hill_mixture()] (the model of `hbmmm(saturation =
#'   "hill_mixture")`) instead of one Hill curve; its `halfsat` and `slope`
#'   arguments are not used. Segments are sorted by half-saturation, as the
#'   model orders them.
#' @param sigma Positive residual standard deviation of weekly sales.
#' @param start Date of the first week (a `Date`, or a string `as.Date()`
#'   understands).
#' @param seed Optional whole number. When given, the simulation is
#'   reproducible (it uses the Mersenne-Twister generator with
#'   `set.seed(seed)`, whatever [RNGkind()] the session uses), and the caller's
#'   random number state is restored on exit. `NULL` draws from the current
#'   stream.
#' @return An object of class `hbmmm_sim`, a list with
#'   \describe{
#'     \item{`data`}{A data frame with one row per market and week, ordered by
#'       market then week: `market` (factor with levels `"M01"`, `"M02"`, ...),
#'       `week` (integer, `1..n_weeks`), `date` (Date), `sales`, one spend column
#'       per channel, `price`, `promo` (0/1), `season_sin` and `season_cos`
#'       (`sin` and `cos` of `2 * pi * week / 52.18`).}
#'     \item{`truth`}{Named vector of the population parameters with brms-style
#'       names: `b_Intercept`, `b_<channel>`, `b_price`, `b_promo`,
#'       `b_season_sin`, `b_season_cos`, `sd_market__Intercept`,
#'       `sd_market__<channel>`, `sigma`, `decay_<channel>`,
#'       `halfsat_<channel>`, `slope_<channel>` (for a `mixture` channel
#'       instead `weight_<channel>[k]`, `halfsat_<channel>[k]`,
#'       `slope_<channel>[k]`, named like the model's draws).}
#'     \item{`r_market`}{Matrix of the market effects, markets by terms
#'       (`"Intercept"` and the channels).}
#'     \item{`media_effect`}{Matrix, rows of `data` by channels: the true
#'       contribution of each channel to sales in each row.}
#'     \item{`transforms`}{List describing the media transforms:
#'       `adstock = "geometric"`, `normalize = TRUE`, `max_lag = NULL`,
#'       `saturation = "hill"` (with `mixture`: one value per channel,
#'       `"hill_mixture"` for the mixture channels).}
#'     \item{`call`}{The matched call.}
#'   }
#' @seealso [mmm_weekly], simulated with `simulate_mmm(seed = 2024)`;
#'   [adstock_geometric()], [saturation_hill()].
#' @examples
#' sim <- simulate_mmm(n_markets = 4, n_weeks = 52, seed = 1)
#' sim
#' head(sim$data)
#' sim$truth[c("b_tv", "decay_tv", "halfsat_tv", "slope_tv")]
#'
#' # share of sales explained by each channel
#' colSums(sim$media_effect) / sum(sim$data$sales)
#'
#' plot(sim, type = "sales")
#' plot(sim, type = "spend")
#'
#' # custom channels and parameters
#' sim2 <- simulate_mmm(n_markets = 3, n_weeks = 30, channels = c("tv", "radio"),
#'                      beta = c(tv = 150, radio = 50), decay = 0.5, seed = 2)
#' sim2$truth
#'
#' # a channel whose audience is three segments
#' sim3 <- simulate_mmm(n_markets = 2, n_weeks = 52, channels = c("tv", "search"), seed = 3,
#'                      mixture = list(tv = list(halfsat = c(8, 30, 90), slope = c(3, 3, 3),
#'                                               weight = c(0.3, 0.4, 0.3))))
#' sim3$truth[grep("_tv", names(sim3$truth))]
#' @export
simulate_mmm <- function(n_markets = 8, n_weeks = 104,
                         channels = c("tv", "search", "social", "display", "email"),
                         beta = NULL, decay = NULL, halfsat = NULL, slope = NULL,
                         sd_market = NULL, sigma = 40,
                         start = as.Date("2023-01-02"), seed = NULL, mixture = NULL) {
  cl <- match.call()
  n_markets <- check_count(n_markets, "n_markets", min = 1, max = 1e4)
  n_weeks <- check_count(n_weeks, "n_weeks", min = 1, max = 1e4)
  channels <- sim_check_channels(channels)
  known <- match(channels, SIM_CHANNELS$channel)
  dflt <- function(col) {
    ifelse(is.na(known), SIM_GENERIC[[col]], SIM_CHANNELS[[col]][known])
  }
  beta <- sim_channel_par(beta, "beta", channels, dflt("beta"), is.finite, "finite")
  decay <- sim_channel_par(decay, "decay", channels, dflt("decay"),
                           function(x) is.finite(x) & x >= 0 & x < 1, "in [0, 1)")
  halfsat <- sim_channel_par(halfsat, "halfsat", channels, dflt("halfsat"),
                             function(x) is.finite(x) & x > 0, "positive and finite")
  slope <- sim_channel_par(slope, "slope", channels, dflt("slope"),
                           function(x) is.finite(x) & x > 0, "positive and finite")
  mixture <- sim_check_mixture(mixture, channels)
  terms <- c("Intercept", channels)
  sd_market <- sim_check_sd(sd_market, terms,
                            c(SIM_SD_INTERCEPT, SIM_SD_SLOPE_REL * abs(beta)))
  if (!is.numeric(sigma) || length(sigma) != 1L || !is.finite(sigma) || sigma <= 0) {
    abort_input("sigma", sprintf("must be one positive, finite number; found %s",
                                 describe_value(sigma)))
  }
  sigma <- as.double(sigma[[1L]])
  start <- sim_check_start(start)
  restore_rng <- sim_seed(seed)
  if (!is.null(restore_rng)) on.exit(restore_rng(), add = TRUE)

  ids <- formatC(seq_len(n_markets), width = max(2L, nchar(n_markets)), flag = "0")
  ids <- paste0("M", ids)
  weeks <- seq_len(n_weeks)
  season_sin <- sin(2 * pi * weeks / SIM_PERIOD)
  season_cos <- cos(2 * pi * weeks / SIM_PERIOD)
  # Demand seasonality scaled to [-1, 1]; search spend follows it.
  demand <- SIM_FIXED[["b_season_sin"]] * season_sin + SIM_FIXED[["b_season_cos"]] * season_cos
  demand <- demand / sqrt(SIM_FIXED[["b_season_sin"]]^2 + SIM_FIXED[["b_season_cos"]]^2)

  # Draw order is fixed (sizes, market effects, controls, spend by channel,
  # noise) so a seed always gives the same panel for the same arguments.
  size <- stats::rlnorm(n_markets, 0, 0.3)
  r_market <- vapply(sd_market, function(s) stats::rnorm(n_markets, 0, s),
                     numeric(n_markets))
  r_market <- matrix(r_market, n_markets, length(terms), dimnames = list(ids, terms))
  promo <- stats::rbinom(n_markets * n_weeks, 1L, 0.12)
  price <- unlist(lapply(seq_len(n_markets), function(m) {
    ar <- stats::filter(stats::rnorm(n_weeks, 0, 0.015), 0.7, method = "recursive")
    1 + stats::rnorm(1, 0, 0.02) + as.numeric(ar)
  }))
  price <- round(price * ifelse(promo == 1L, 0.95, 1), 3)
  level <- dflt("level")
  spend <- vapply(seq_along(channels), function(j) {
    pattern <- if (is.na(known[j])) "generic" else channels[j]
    as.vector(vapply(size, function(s) {
      s * level[j] * sim_pattern(pattern, n_weeks, demand)
    }, numeric(n_weeks)))
  }, numeric(n_markets * n_weeks))
  spend <- matrix(round(spend, 3), ncol = length(channels),
                  dimnames = list(NULL, channels))

  mi <- rep(seq_len(n_markets), each = n_weeks)
  # The truth is computed from the rounded, stored spend so that the data
  # alone reproduce media_effect exactly.
  ad <- adstock_geometric(spend, decay = decay, normalize = TRUE, group = mi)
  sat <- saturation_hill(ad, halfsat = halfsat, slope = slope)
  for (ch in names(mixture)) {
    mx <- mixture[[ch]]
    sat[, ch] <- saturation_hill_mixture(ad[, ch], mx$halfsat, mx$slope, mx$weight)
  }
  coef <- sweep(r_market[mi, channels, drop = FALSE], 2L, beta, "+")
  media_effect <- coef * sat
  dimnames(media_effect) <- list(NULL, channels)

  sin_t <- rep(season_sin, n_markets)
  cos_t <- rep(season_cos, n_markets)
  mu <- SIM_FIXED[["b_Intercept"]] + r_market[mi, "Intercept"] +
    rowSums(media_effect) + SIM_FIXED[["b_price"]] * price +
    SIM_FIXED[["b_promo"]] * promo + SIM_FIXED[["b_season_sin"]] * sin_t +
    SIM_FIXED[["b_season_cos"]] * cos_t
  sales <- unname(mu + stats::rnorm(length(mu), 0, sigma))

  data <- data.frame(market = factor(ids[mi], levels = ids),
                     week = rep(weeks, n_markets),
                     date = start + 7L * (rep(weeks, n_markets) - 1L),
                     sales = sales, stringsAsFactors = FALSE)
  data <- cbind(data, as.data.frame(spend))
  data$price <- price
  data$promo <- as.integer(promo)
  data$season_sin <- sin_t
  data$season_cos <- cos_t

  truth <- c(SIM_FIXED["b_Intercept"],
             stats::setNames(beta, paste0("b_", channels)),
             SIM_FIXED[c("b_price", "b_promo", "b_season_sin", "b_season_cos")],
             stats::setNames(sd_market, paste0("sd_market__", terms)),
             sigma = sigma,
             stats::setNames(decay, paste0("decay_", channels)),
             stats::setNames(halfsat, paste0("halfsat_", channels)),
             stats::setNames(slope, paste0("slope_", channels)))
  saturation <- "hill"
  if (length(mixture)) {
    truth <- truth[!names(truth) %in% paste0(c("halfsat_", "slope_"), rep(names(mixture), each = 2))]
    for (ch in names(mixture)) {
      mx <- mixture[[ch]]
      k <- seq_along(mx$weight)
      truth <- c(truth, stats::setNames(c(mx$weight, mx$halfsat, mx$slope),
                                        sprintf("%s_%s[%d]", rep(c("weight", "halfsat", "slope"), each = length(k)), ch, k)))
    }
    saturation <- stats::setNames(ifelse(channels %in% names(mixture), "hill_mixture", "hill"), channels)
  }

  structure(list(data = data, truth = truth, r_market = r_market,
                 media_effect = media_effect,
                 transforms = list(adstock = "geometric", normalize = TRUE,
                                   max_lag = NULL, saturation = saturation),
                 call = cl),
            class = "hbmmm_sim")
}

#' @rdname simulate_mmm
#' @param x An `hbmmm_sim` object.
#' @param digits Significant digits for printed numbers.
#' @param ... For `plot()`, graphical parameters passed to [graphics::matplot()]
#'   (for example `main`, `ylab`, `col`); ignored by `print()`.
#' @details `print()` shows the panel dimensions, each channel's total spend and
#'   share of sales with its true parameters, and the remaining parameters; it
#'   returns `x` invisibly.
#' @export
print.hbmmm_sim <- function(x, digits = 3, ...) {
  d <- x$data
  tr <- x$truth
  ch <- colnames(x$media_effect)
  nm <- nlevels(d$market)
  nw <- length(unique(d$week))
  cat(sprintf("<hbmmm_sim> simulated weekly MMM panel: %d markets x %d weeks = %d rows\n",
              nm, nw, nrow(d)))
  cat(sprintf("  dates %s to %s; mean weekly sales per market %s; media explain %.1f%% of sales\n",
              format(min(d$date)), format(max(d$date)),
              format(mean(d$sales), digits = digits),
              100 * sum(x$media_effect) / sum(d$sales)))
  sat <- x$transforms$saturation
  if (length(sat) > 1L) sat <- paste(sprintf("%s: %s", names(sat), sat), collapse = ", ")
  cat(sprintf("  transforms: %s adstock (normalize = %s), %s saturation\n\n",
              x$transforms$adstock, x$transforms$normalize, sat))
  tab <- data.frame(
    spend = colSums(d[ch]),
    share = sprintf("%.1f%%", 100 * colSums(x$media_effect) / sum(d$sales)),
    beta = tr[paste0("b_", ch)],
    sd_market = tr[paste0("sd_market__", ch)],
    decay = tr[paste0("decay_", ch)],
    halfsat = tr[paste0("halfsat_", ch)],
    slope = tr[paste0("slope_", ch)],
    row.names = ch, check.names = FALSE)
  names(tab)[1:2] <- c("total spend", "share of sales")
  cat("Channels (share of sales = true media contribution / total sales):\n")
  print(format(tab, digits = digits), quote = FALSE)
  other <- tr[c("b_Intercept", "sd_market__Intercept", "b_price", "b_promo",
                "b_season_sin", "b_season_cos", "sigma")]
  cat("\nOther parameters:\n")
  cat_pairs(other, digits)
  invisible(x)
}

#' @rdname simulate_mmm
#' @param type `"sales"`: weekly sales of each market; `"spend"`: weekly spend
#'   of each channel summed over markets.
#' @details `plot()` draws with base graphics, one line per market or channel,
#'   with the legend in the right margin, and returns the plotted data
#'   invisibly: a data frame with `week`, `date` and one column per market
#'   (`type = "sales"`) or per channel (`type = "spend"`).
#' @export
plot.hbmmm_sim <- function(x, type = c("sales", "spend"), ...) {
  type <- match_choice(type, c("sales", "spend"), "type")
  d <- x$data
  ch <- colnames(x$media_effect)
  weeks <- sort(unique(d$week))
  dates <- d$date[match(weeks, d$week)]
  if (type == "sales") {
    y <- sapply(levels(d$market), function(m) {
      dm <- d[d$market == m, ]
      dm$sales[match(weeks, dm$week)]
    })
    y <- matrix(y, nrow = length(weeks), dimnames = list(NULL, levels(d$market)))
    ylab <- "Weekly sales"
    main <- "Simulated sales by market"
  } else {
    # aggregate() returns weeks in sorted order, as `weeks`.
    y <- as.matrix(stats::aggregate(d[ch], by = list(week = d$week), FUN = sum)[ch])
    ylab <- "Weekly spend, summed over markets"
    main <- "Media spend by channel"
  }
  labels <- colnames(y)
  k <- length(labels)
  # Okabe-Ito without its yellow, which is hard to see on white.
  col <- if (k <= 8) unname(grDevices::palette.colors(9, "Okabe-Ito")[-5][seq_len(k)]) else
    grDevices::hcl.colors(k, "Dark 3")
  lty <- rep_len(1:3, k)
  # Room in the right margin for the legend, so it never covers the lines.
  show_legend <- k <= 30
  ncol_leg <- if (k > 15) 2L else 1L
  right <- if (show_legend) 2 + ncol_leg * (3 + 0.7 * max(nchar(labels))) else 2
  op <- graphics::par(mar = c(5.1, 4.6, 4.1, right))
  on.exit(graphics::par(op), add = TRUE)
  args <- utils::modifyList(
    list(x = dates, y = y, type = "l", lty = lty, lwd = 1.5, col = col,
         xlab = "Week starting", ylab = ylab, main = main, xaxt = "n"),
    list(...))
  do.call(graphics::matplot, args)
  graphics::axis.Date(1, dates)
  if (show_legend) {
    usr <- graphics::par("usr")
    graphics::legend(x = usr[2] + 0.02 * diff(usr[1:2]), y = usr[4], legend = labels,
                     col = args$col, lty = args$lty, lwd = args$lwd, bty = "n",
                     ncol = ncol_leg, xpd = TRUE, cex = 0.85,
                     title = if (type == "sales") "market" else "channel")
  }
  out <- data.frame(week = weeks, date = dates, y, check.names = FALSE)
  invisible(out)
}

# ---- internals ---------------------------------------------------------

# Weekly activity of one market (multiplied by the channel level and market
# size by the caller); mean about 1 while active.
sim_pattern <- function(pattern, n_weeks, demand) {
  switch(pattern,
    tv = {
      on <- sim_flights(n_weeks, on = 3:6, off = 3:8)
      on * stats::rlnorm(n_weeks, 0, 0.15)
    },
    search = (1 + 0.3 * demand) * stats::rlnorm(n_weeks, 0, 0.1),
    social = stats::rgamma(n_weeks, shape = 4, rate = 4),
    display = {
      # Campaign timing differs by market; a small always-on base in between.
      offset <- sample.int(13L, 1L) - 1L
      on <- ((seq_len(n_weeks) - 1L + offset) %% 13L) < 4L
      ifelse(on, 1, 0.1) * stats::rlnorm(n_weeks, 0, 0.1)
    },
    email = stats::rlnorm(n_weeks, 0, 0.05),
    generic = stats::rgamma(n_weeks, shape = 6, rate = 6) *
      (1 + (stats::runif(n_weeks) < 0.1))
  )
}

# Alternating on/off flights with random lengths and a random initial state.
sim_flights <- function(n, on, off) {
  state <- stats::runif(1) < 0.5
  x <- logical(0)
  while (length(x) < n) {
    len <- if (state) on[sample.int(length(on), 1L)] else off[sample.int(length(off), 1L)]
    x <- c(x, rep(state, len))
    state <- !state
  }
  as.numeric(x[seq_len(n)])
}

# Channel names usable in formulas, distinct from the other columns of the
# simulated data; `dots = FALSE` also refuses dots (names that end up in
# interaction terms).
sim_check_channels <- function(channels, reserved = SIM_RESERVED, dots = TRUE) {
  if (!is.character(channels) || length(channels) == 0L || is.object(channels)) {
    abort_input("channels", sprintf("must be a non-empty character vector of channel names; found %s",
                                    describe_value(channels)))
  }
  bad <- is.na(channels) | !nzchar(channels)
  if (any(bad)) {
    abort_input("channels", sprintf("names must be non-empty and not NA; found %s at position %d",
                                    encodeString(channels[bad][1], quote = "\""), which(bad)[1]))
  }
  if (anyDuplicated(channels)) {
    abort_input("channels", sprintf("names must be distinct; found \"%s\" more than once",
                                    channels[anyDuplicated(channels)]))
  }
  bad <- make.names(channels) != channels | (!dots & grepl(".", channels, fixed = TRUE))
  if (any(bad)) {
    abort_input("channels", sprintf("names must be syntactic R names%s (usable in formulas); found \"%s\"",
                                    if (dots) "" else " without dots", channels[bad][1]))
  }
  bad <- channels %in% reserved
  if (any(bad)) {
    abort_input("channels", sprintf("names must differ from %s; found \"%s\"",
                                    paste(reserved, collapse = ", "), channels[bad][1]))
  }
  unname(channels)
}

# One value per channel, in channel order. `x` may be NULL (defaults), one
# unnamed value (recycled), or one value per channel, unnamed or named.
sim_channel_par <- function(x, arg, channels, default, ok, rule) {
  if (is.null(x)) return(default)
  x <- unname(recycle_named(x, channels, arg, numeric = TRUE))
  bad <- !ok(x)
  if (any(bad)) {
    abort_input(arg, sprintf("must be %s for every channel; found %s = %s",
                             rule, channels[bad][1], format(x[bad][1])))
  }
  x
}

# `mixture` of simulate_mmm(): NULL, or a list named by channels, each a
# list of halfsat, slope, weight (one value per segment), sorted here by
# half-saturation as the model orders its components.
sim_check_mixture <- function(x, channels) {
  if (is.null(x)) return(NULL)
  if (!is.list(x) || is.object(x) || !length(x) || is.null(names(x)) || any(!names(x) %in% channels) ||
      anyDuplicated(names(x))) {
    abort_input("mixture", sprintf("must be a list named by channels (%s), each a list with halfsat, slope and weight; found %s",
                                   paste(channels, collapse = ", "), describe_value(x)))
  }
  lapply(stats::setNames(names(x), names(x)), function(ch) {
    m <- x[[ch]]
    ok <- is.list(m) && all(c("halfsat", "slope", "weight") %in% names(m)) &&
      all(vapply(m[c("halfsat", "slope", "weight")], function(v) is.numeric(v) && all(is.finite(v)), TRUE))
    K <- if (ok) length(m$weight) else 0L
    if (!ok || K < 1L || K > MAX_COMPONENTS || length(m$halfsat) != K || length(m$slope) != K ||
        any(m$halfsat <= 0) || any(m$slope <= 0) || any(m$weight <= 0) || abs(sum(m$weight) - 1) > 1e-8) {
      abort_input("mixture", sprintf("`%s` must be a list of halfsat and slope (positive) and weight (positive, summing to 1), one value per segment (1 to %d); found %s",
                                     ch, MAX_COMPONENTS, describe_value(m)))
    }
    o <- order(m$halfsat)
    list(halfsat = as.double(m$halfsat[o]), slope = as.double(m$slope[o]), weight = as.double(m$weight[o]))
  })
}

sim_check_sd <- function(x, terms, default) {
  if (is.null(x)) return(default)
  x <- unname(recycle_named(x, terms, "sd_market", what = "term", numeric = TRUE))
  bad <- !is.finite(x) | x < 0
  if (any(bad)) {
    abort_input("sd_market", sprintf("must be non-negative and finite for every term; found %s = %s",
                                     terms[bad][1], format(x[bad][1])))
  }
  x
}

sim_check_start <- function(start) {
  date <- start
  if (is.character(start) && length(start) == 1L && !is.na(start)) {
    date <- tryCatch(as.Date(start), error = function(e) as.Date(NA))
  }
  if (!inherits(date, "Date") || length(date) != 1L || is.na(date)) {
    abort_input("start", sprintf("must be one Date (or a date string such as \"2023-01-02\"); found %s",
                                 describe_value(start)))
  }
  date
}

