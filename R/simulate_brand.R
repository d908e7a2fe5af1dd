# Simulator of a national weekly brand series with known truth: the structure
# of the budget-optimization case study (a petcare brand with traditional and
# digital channels, price, distribution, trade promotions, competitor
# activity and seasonality), used by data-raw/brand_weekly.R and the case
# study's vignette.

# Media parameters per channel: weekly spend level while active ($k), the
# share of weeks the channel is active, its maximum weekly effect on revenue
# ($k), decay and Hill curve. Social saturates near its spend (the case
# study's "Facebook saturates at about $75K a week"); video and search have
# room to grow; print and TV sit past their best.
BRAND_CHANNELS <- data.frame(
  channel = c("tv", "ooh", "radio", "print", "video", "display", "social", "search"),
  type    = c("traditional", "traditional", "traditional", "traditional", "digital", "digital", "digital", "digital"),
  level   = c(180, 60, 40, 50, 70, 45, 75, 90),
  active  = c(0.55, 0.45, 0.6, 0.7, 0.8, 1, 1, 1),
  beta    = c(420, 90, 80, 60, 520, 110, 190, 480),
  decay   = c(0.6, 0.5, 0.35, 0.3, 0.45, 0.2, 0.2, 0.05),
  halfsat = c(150, 70, 45, 60, 130, 55, 30, 110),
  slope   = c(1.6, 1.4, 1.2, 1.3, 1.3, 1.5, 1.8, 1.2),
  stringsAsFactors = FALSE
)

#' Simulate a weekly brand series like the budget-optimization case study
#'
#' Generates national weekly revenue of a consumer brand from traditional
#' (`tv`, `ooh`, `radio`, `print`) and digital (`video`, `display`, `social`,
#' `search`) media with geometric adstock and Hill saturation, plus a price
#' index, distribution (share of stores carrying the brand), trade
#' promotions, competitor media and yearly seasonality with a Christmas
#' peak, so that a fitted model can be checked against the truth: the true
#' transform parameters, every channel's contribution and its ROI.
#'
#' Revenue in week `t` (thousands of dollars) is
#' `base + trend t + season_t + b_price (price_t - 1) + b_dist (distribution_t - 0.8)
#' + b_promo promo_t + b_comp competitor_t + sum_c beta_c hill(adstock(spend_c)_t) + e_t`,
#' `e ~ N(0, sigma^2)`, with [adstock_geometric()] (normalized) and
#' [saturation_hill()]. Spend is in thousands of dollars per week; traditional
#' channels run in flights (`tv` in bursts of 4-8 weeks, `ooh` in 4-week
#' blocks, `radio` and `print` on most weeks), digital channels are always on
#' (`video` in campaigns over a base) with noise.
#'
#' @param n_weeks Number of weeks (default 156, three years; the case study's
#'   data had the same structure).
#' @param sigma Residual sd of weekly revenue ($k).
#' @param start First week's date (a Monday).
#' @param seed Optional whole number: reproducible simulation (Mersenne-Twister
#'   with `set.seed(seed)`; the caller's random state is restored).
#' @return An object of class `hbmmm_sim_brand`: a list with `data` (one row
#'   per week: `week`, `date`, `revenue`, one spend column per channel,
#'   `price`, `distribution`, `promo`, `competitor`, `christmas`), `truth`
#'   (named vector: `b_<channel>`, `decay_<channel>`, `halfsat_<channel>`,
#'   `slope_<channel>`, the control coefficients and `sigma`), `media_effect`
#'   (weeks by channels: each channel's true contribution), `roi` (true ROI
#'   per channel over the data), `channels` (name and type) and `call`.
#' @seealso [brand_weekly], simulated with `simulate_brand(seed = 2025)`.
#' @examples
#' sim <- simulate_brand(n_weeks = 104, seed = 1)
#' sim
#' head(sim$data)
#' sim$roi
#' @export
simulate_brand <- function(n_weeks = 156, sigma = 120, start = as.Date("2022-01-03"), seed = NULL) {
  cl <- match.call()
  n_weeks <- check_count(n_weeks, "n_weeks", min = 20, max = 1e5)
  if (!is.numeric(sigma) || length(sigma) != 1L || !is.finite(sigma) || sigma < 0) {
    abort_input("sigma", sprintf("must be one non-negative number; found %s", describe_value(sigma)))
  }
  if (!inherits(start, "Date") || length(start) != 1L || is.na(start)) {
    abort_input("start", sprintf("must be one Date; found %s", describe_value(start)))
  }
  if (!is.null(seed)) {
    restore <- save_rng()
    on.exit(restore(), add = TRUE)
    set.seed(check_seed(seed), kind = "Mersenne-Twister")
  }
  ch <- BRAND_CHANNELS
  week <- seq_len(n_weeks)
  date <- start + 7L * (week - 1L)
  doy <- as.numeric(format(date, "%j"))
  season <- 250 * sin(2 * pi * doy / 365.25 - 1) + 120 * cos(4 * pi * doy / 365.25)
  christmas <- as.integer(format(date, "%m") == "12" & as.numeric(format(date, "%d")) >= 10)
  spend <- vapply(seq_len(nrow(ch)), function(k) brand_flighting(ch$channel[k], ch$level[k], ch$active[k], n_weeks),
                  numeric(n_weeks))
  spend <- round(matrix(spend, n_weeks, dimnames = list(NULL, ch$channel)), 1)
  ad <- adstock_geometric(spend, decay = ch$decay, normalize = TRUE)
  media_effect <- sweep(saturation_hill(ad, halfsat = ch$halfsat, slope = ch$slope), 2, ch$beta, `*`)
  dimnames(media_effect) <- list(NULL, ch$channel)
  price <- round(1 + 0.04 * sin(2 * pi * week / 26) + stats::rnorm(n_weeks, 0, 0.015), 3)
  promo <- stats::rbinom(n_weeks, 1, 0.2)
  price[promo == 1] <- round(price[promo == 1] - 0.06, 3)
  distribution <- round(pmin(0.97, 0.72 + 0.15 * week / n_weeks + stats::rnorm(n_weeks, 0, 0.01)), 3)
  competitor <- round(pmax(0, 100 + 40 * sin(2 * pi * week / 52 + 1) + stats::rnorm(n_weeks, 0, 15)), 1)
  fixed <- c(b_Intercept = 4200, b_trend = 3, b_price = -3000, b_distribution = 2500, b_promo = 350,
             b_competitor = -2.5, b_christmas = 600, sigma = sigma)
  revenue <- fixed[["b_Intercept"]] + fixed[["b_trend"]] * week + season +
    fixed[["b_price"]] * (price - 1) + fixed[["b_distribution"]] * (distribution - 0.8) +
    fixed[["b_promo"]] * promo + fixed[["b_competitor"]] * competitor + fixed[["b_christmas"]] * christmas +
    rowSums(media_effect) + stats::rnorm(n_weeks, 0, sigma)
  data <- data.frame(week = week, date = date, revenue = round(revenue, 1), spend, price = price,
                     distribution = distribution, promo = promo, competitor = competitor, christmas = christmas)
  truth <- c(stats::setNames(ch$beta, paste0("b_", ch$channel)), fixed,
             stats::setNames(ch$decay, paste0("decay_", ch$channel)),
             stats::setNames(ch$halfsat, paste0("halfsat_", ch$channel)),
             stats::setNames(ch$slope, paste0("slope_", ch$channel)))
  structure(list(data = data, truth = truth, media_effect = media_effect,
                 roi = colSums(media_effect) / colSums(spend), channels = ch[c("channel", "type")],
                 season = season, call = cl),
            class = "hbmmm_sim_brand")
}

# Weekly spend of one channel: flights for traditional media, always-on
# with noise (and campaigns for video) for digital.
brand_flighting <- function(channel, level, active, n) {
  on <- switch(channel,
    tv = {
      x <- integer(0)
      while (length(x) < n) x <- c(x, rep(1L, sample(4:8, 1)), rep(0L, sample(3:7, 1)))
      x[seq_len(n)]
    },
    ooh = rep(rep(c(1L, 0L), each = 4), length.out = n) * stats::rbinom(n, 1, 0.9),
    video = 0.6 + 0.8 * rep(rep(c(1, 0), c(6, 7)), length.out = n),
    stats::rbinom(n, 1, active))
  level * on * stats::rlnorm(n, 0, 0.25)
}

#' @export
print.hbmmm_sim_brand <- function(x, digits = 3, ...) {
  d <- x$data
  cat(sprintf("<hbmmm_sim> weekly brand series: %d weeks (%s to %s), %d channels\n", nrow(d),
              format(min(d$date)), format(max(d$date)), nrow(x$channels)))
  tab <- data.frame(channel = x$channels$channel, type = x$channels$type,
                    spend = round(colSums(d[x$channels$channel])),
                    contribution = round(colSums(x$media_effect)), roi = signif(x$roi, digits))
  print(tab, row.names = FALSE)
  cat(sprintf("Revenue %s in total; media explain %.1f%%\n", format(round(sum(d$revenue)), big.mark = ","),
              100 * sum(x$media_effect) / sum(d$revenue)))
  invisible(x)
}
