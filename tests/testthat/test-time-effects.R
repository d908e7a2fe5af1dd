# Time effects in formulas (trend(), seasonality(), events()) and
# contributions() by named component: columns against hand-built bases,
# recovery of a known trend, seasonal curve and event effect, forecasts that
# continue them, components that add up to the fitted outcome, bad input.

# ---- columns against hand-built bases ----------------------------------------

test_that("trend() and seasonality() columns match hand-built bases (numeric and weekly dates)", {
  t <- 1:20
  tr <- unclass(trend(t))
  expect_equal(unname(tr[, 1]), (t - 1) / 19)
  # two equally spaced changepoints: at 1 + 19/3 and 1 + 38/3
  tr2 <- trend(t, changepoints = 2)
  cp <- 1 + 19 * (1:2) / 3
  expect_equal(unname(tr2[, 2]), pmax(0, t - cp[1]) / 19)
  expect_equal(unname(tr2[, 3]), pmax(0, t - cp[2]) / 19)
  # a location wrapped in I()
  expect_equal(unname(trend(t, changepoints = I(5))[, 2]), pmax(0, t - 5) / 19)

  dates <- as.Date("2023-01-02") + 7 * (0:59)
  s <- seasonality(dates, period = 52, order = 2)
  k <- 0:59 # weeks since the first date
  want <- cbind(sin(2 * pi * k / 52), cos(2 * pi * k / 52), sin(4 * pi * k / 52), cos(4 * pi * k / 52))
  expect_equal(unname(unclass(s)[, 1:4]), want)
  expect_identical(colnames(s), c("sin1", "cos1", "sin2", "cos2"))
  # a date changepoint, in weeks
  trd <- trend(dates, changepoints = as.Date("2023-06-05"))
  expect_equal(unname(trd[, 2]), pmax(0, k - 22) / 59)
  # monthly dates count months
  months <- seq(as.Date("2020-01-01"), by = "month", length.out = 30) - 1 # month ends
  expect_equal(unname(seasonality(months, 12, 1)[, 1]), sin(2 * pi * (0:29) / 12))
})

test_that("events() marks the period containing each event, one column per name", {
  dates <- as.Date("2023-01-02") + 7 * (0:9) # Mondays
  cal <- data.frame(event = c("xmas", "sale", "xmas"),
                    date = as.Date(c("2023-01-11", "2023-02-06", "2023-03-05")))
  e <- events(dates, calendar = cal)
  expect_identical(colnames(e), c("xmas", "sale"))
  # Wed 11 Jan falls in the week of Mon 9 Jan (row 2); Sun 5 Mar in the week of 27 Feb (row 9)
  expect_equal(which(e[, "xmas"] == 1), c(2L, 9L))
  expect_equal(which(e[, "sale"] == 1), 6L)
  # numeric time, calendar column `time`; repeated times (a panel) all marked
  e2 <- events(rep(1:5, 2), calendar = data.frame(event = "a", time = 3))
  expect_equal(which(e2[, 1] == 1), c(3L, 8L))
  # an event on no training period is dropped with a warning
  expect_warning(e3 <- events(1:5, calendar = data.frame(event = c("a", "b"), time = c(2, 99))),
                 class = "hbmmm_warning_unused_event")
  expect_identical(colnames(e3), "a")
})

test_that("bad input to the time helpers gets classed errors naming the argument", {
  expect_input_error(trend(letters), "time")
  expect_input_error(seasonality(factor(1:10)), "time")
  expect_input_error(trend(c(1, NA, 3)), "time")
  expect_input_error(trend(rep(3, 5)), "time")
  expect_input_error(seasonality(1:100, period = 0), "period")
  expect_input_error(seasonality(1:100, period = -52), "period")
  expect_input_error(seasonality(1:100, period = "52"), "period")
  expect_input_error(seasonality(1:100, period = 52, order = 1.5), "order")
  expect_input_error(seasonality(1:100, period = 52, order = 0), "order")
  expect_input_error(seasonality(1:100, period = 52, order = 27), "order")
  expect_input_error(seasonality(1:100, period = 10, order = 5), "order")
  expect_input_error(trend(1:100, changepoints = c(10, 150)), "changepoints")
  expect_input_error(trend(1:100, changepoints = I(1)), "changepoints")
  expect_input_error(trend(1:100, changepoints = 99), "changepoints")
  expect_input_error(trend(1:100, changepoints = 2.5), "changepoints")
  dates <- as.Date("2023-01-02") + 7 * (0:59)
  expect_input_error(trend(dates, changepoints = as.Date("2030-01-01")), "changepoints")
  expect_input_error(trend(dates, changepoints = I(20)), "changepoints")
  expect_input_error(events(1:10, calendar = data.frame(event = "a")), "calendar")
  expect_input_error(events(1:10, calendar = data.frame(when = 3, name = "a")), "calendar")
  expect_input_error(events(1:10, calendar = list(event = "a", time = 3)), "calendar")
  expect_input_error(events(1:10), "calendar")
  expect_input_error(events(1:10, calendar = data.frame(event = "a", time = 50)), "calendar")
  expect_input_error(events(dates, calendar = data.frame(event = "a", time = 3)), "calendar")
  # through the model: the helper's own argument is named
  expect_input_error(small_spec(sales ~ tv + search + seasonality(week, period = -1), panel = "market"), "period")
  expect_input_error(small_spec(sales ~ tv + search + events(week, calendar = data.frame(x = 1)),
                                panel = "market"), "calendar")
})

# ---- recovery and forecasts --------------------------------------------------

# One weekly series with a known trend (slope per week), a Fourier seasonal
# curve, an event effect and TV with carry-over.
sim_weekly <- function(n = 156, seed = 11) {
  set.seed(seed)
  k <- 0:(n - 1)
  date <- as.Date("2021-01-04") + 7 * k
  season <- 15 * sin(2 * pi * k / 52) + 8 * cos(2 * pi * k / 52) + 4 * sin(4 * pi * k / 52)
  xmas <- as.integer(k %% 52 == 51)
  tv <- rgamma(n, 2, 0.1) * rbinom(n, 1, 0.7)
  ad <- as.numeric(stats::filter(tv, 0.4, method = "recursive")) * 0.6
  data.frame(date = date, tv = tv, sales = 100 + 0.3 * k + season + 30 * xmas + 0.8 * ad + rnorm(n, 0, 3),
             season = season)
}
# the calendar puts Christmas on the Wednesday of the 52nd week of each year
# (and once in the future)
sim_calendar <- function(d) {
  data.frame(event = "xmas", date = c(d$date[seq(52, nrow(d), by = 52)] + 2, max(d$date) + 7 * 20 + 2))
}

test_that("trend, seasonality and events are recovered and continued in forecasts", {
  d <- sim_weekly()
  cal <- sim_calendar(d)
  fit <- quiet_sampling(hbmmm(sales ~ tv + trend(date) + seasonality(date, 52, 2) + events(date, calendar = cal),
                              data = d, media = "tv", saturation = "none", time = "date", chains = 1,
                              iter = 600, seed = 3, refresh = 0))
  m <- as.matrix(fit)
  # the trend coefficient is the change over the training span (155 weeks)
  slope <- m[, "b_trend(date)"] / 155
  expect_lt(abs(mean(slope) - 0.3), 0.03)
  expect_true(stats::quantile(slope, 0.05) < 0.3 && 0.3 < stats::quantile(slope, 0.95))
  # (one event name: the column is named after the call alone, as model.matrix() does)
  expect_lt(abs(mean(m[, "b_events(date, calendar = cal)"]) - 30), 5)
  # the seasonal component follows the true curve
  cb <- contributions(fit, by = "time")
  expect_identical(cb$components, c("baseline", "trend", "seasonality", "events", "tv"))
  sea <- cb$series[cb$series$component == "seasonality", ]
  amp <- diff(range(d$season)) / 2
  expect_lt(max(abs(sea$mean - d$season)), 0.12 * amp)
  expect_gt(mean(sea$lower <= d$season & d$season <= sea$upper), 0.6)
  tr <- cb$series[cb$series$component == "trend", ]
  expect_equal(tr$mean, mean(m[, "b_trend(date)"]) * (0:155) / 155, tolerance = 1e-10)

  # forecast 26 weeks ahead with no TV: intercept + trend + seasonality +
  # events on the training basis, built by hand
  fut <- data.frame(date = max(d$date) + 7 * (1:26), tv = 0)
  mu <- posterior_epred(fit, newdata = fut, history = FALSE)
  k <- 155 + (1:26)
  B <- cbind(1, k / 155, sin(2 * pi * k / 52), cos(2 * pi * k / 52), sin(4 * pi * k / 52), cos(4 * pi * k / 52),
             as.integer(k == 155 + 20))
  cols <- c("b_Intercept", "b_trend(date)", paste0("b_seasonality(date, 52, 2)", c("sin1", "cos1", "sin2", "cos2")),
            "b_events(date, calendar = cal)")
  expect_equal(mu, m[, cols] %*% t(B), tolerance = 1e-10, ignore_attr = TRUE)
  # rows in any order, and predict() / simulate_scenario() take the same path
  sh <- fut[c(26, 3, 14), ]
  expect_equal(posterior_epred(fit, newdata = sh, history = FALSE), mu[, c(26, 3, 14)], ignore_attr = TRUE)
  expect_identical(dim(predict(fit, newdata = fut, history = FALSE, summary = FALSE)), c(300L, 26L))
  sc <- simulate_scenario(fit, scale = c(tv = 1.1), newdata = d[140:156, ])
  expect_s3_class(sc, "hbmmm_scenario")
  # new rows whose time is not a date, as in training
  cnd <- expect_input_error(posterior_epred(fit, newdata = transform(fut, date = 1:26)), "newdata")
  expect_match(conditionMessage(cnd), "`date` must be dates", fixed = TRUE)
  # a date on the wrong side when the training time is numeric
  expect_input_error(seasonality(1:10, 4, 1) |> attr("basis") |> hbmmm:::time_effect_predict(time = Sys.Date()),
                     "newdata")
})

# ---- contributions by named component ---------------------------------------

readme_fit <- function() {
  if (is.null(.fit_fixture_cache$readme)) {
    .fit_fixture_cache$readme <- quiet_sampling(hbmmm(
      sales ~ tv + search + social + display + email + price + promo + season_sin + season_cos + (1 + tv | market),
      data = mmm_weekly, media = c("tv", "search", "social", "display", "email"), time = "week",
      chains = 1, iter = 200, seed = 1, refresh = 0)) # 100 warmup sweeps: the media mode search runs
  }
  .fit_fixture_cache$readme
}

test_that("contributions of the README model: positive baseline, named controls, adding up to fitted()", {
  fit <- readme_fit()
  media <- c("tv", "search", "social", "display", "email")
  ctl <- c("price", "promo", "season_sin", "season_cos")
  mu <- fitted(fit)$Estimate # posterior mean of mu by row, original order
  d <- mmm_weekly
  tot <- contributions(fit, by = "total")
  expect_identical(tot$totals$component, c("baseline", ctl, media))
  expect_gt(tot$totals$mean[1], 0)
  # the posterior mean share of the baseline is about 0.50 on these data
  # (0.504 at hbmmm() defaults; 0.51-0.54 for seeds 1-4 of this short fit):
  # a bound at 0.5 would fail by chance
  expect_gt(tot$totals$share[1], 0.35)
  expect_lt(tot$totals$share[1], 1)
  expect_equal(sum(tot$totals$mean), sum(mu), tolerance = 1e-10)
  # centred controls sum to zero over the data (fixed slopes)
  expect_lt(max(abs(tot$totals$mean[tot$totals$component %in% ctl])), 1e-6 * sum(mu))

  tm <- contributions(fit, by = "time")
  per_week <- tapply(tm$series$mean, tm$series$week, sum)
  expect_equal(as.vector(per_week), as.vector(tapply(mu, d$week, sum)), tolerance = 1e-10)
  rw <- contributions(fit, by = "row")
  per_row <- tapply(rw$series$mean, rw$series$row, sum)
  expect_equal(as.vector(per_row), mu, tolerance = 1e-10)
  # the fast path (by time) equals the per-row components summed by week
  for (cm in c("baseline", "price", "tv")) {
    want <- tapply(rw$series$mean[rw$series$component == cm], d$week, sum)
    expect_equal(tm$series$mean[tm$series$component == cm], unname(as.vector(want)), tolerance = 1e-9, label = cm)
  }
  # baseline + controls = the outcome with every medium at zero
  nomedia <- d
  nomedia[media] <- 0
  mu0 <- fitted(fit, newdata = nomedia, history = FALSE)$Estimate
  lin_rows <- rw$series[!rw$series$component %in% media, ]
  expect_equal(as.vector(tapply(lin_rows$mean, lin_rows$row, sum)), mu0, tolerance = 1e-10)

  # plain-R reference: the baseline is the intercepts plus each control at its mean
  m <- as.matrix(fit)
  u <- m[, sprintf("r_market[%s,Intercept]", d$market)]
  base_rows <- m[, "b_Intercept"] + u + drop(m[, paste0("b_", ctl)] %*% colMeans(d[ctl]))
  expect_equal(tot$totals$mean[1], mean(rowSums(base_rows)), tolerance = 1e-10)
  # reference "zero": the raw split (price times its value, baseline the intercepts)
  raw <- contributions(fit, by = "total", reference = "zero")
  expect_equal(raw$totals$mean[raw$totals$component == "price"], mean(m[, "b_price"]) * sum(d$price),
               tolerance = 1e-10)
  expect_equal(raw$totals$mean[1], mean(rowSums(m[, "b_Intercept"] + u)), tolerance = 1e-10)
  expect_equal(sum(raw$totals$mean), sum(mu), tolerance = 1e-10)
  expect_identical(raw$reference, "zero")
  expect_input_error(contributions(fit, reference = "median"), "reference")
  expect_output(print(tot), "price")
})

test_that("group-level slopes on a control and time effects split the same way on both paths", {
  d <- small_panel()
  fit <- quick_fit(formula = sales ~ tv + search + price + trend(week) + seasonality(week, 20, 1) + (1 + price | market))
  tm <- contributions(fit, by = "time")
  rw <- contributions(fit, by = "row")
  expect_identical(tm$components, c("baseline", "trend", "seasonality", "price", "tv", "search"))
  data <- hbmmm:::original_data(fit$spec)
  for (cm in tm$components) {
    want <- tapply(rw$series$mean[rw$series$component == cm], data$week, sum)
    expect_equal(tm$series$mean[tm$series$component == cm], unname(as.vector(want)), tolerance = 1e-9, label = cm)
  }
  mu <- fitted(fit)$Estimate
  expect_equal(as.vector(tapply(rw$series$mean, rw$series$row, sum)), mu, tolerance = 1e-10)
  # the price component: fixed and market slopes times price's deviation from its mean
  m <- as.matrix(fit)
  slope <- m[, "b_price"] + m[, sprintf("r_market[%s,price]", data$market)]
  want <- colMeans(slope * rep(data$price - mean(data$price), each = nrow(m)))
  expect_equal(rw$series$mean[rw$series$component == "price"], unname(want), tolerance = 1e-10)
})

test_that("the contributions plot stacks negative parts below zero and names every component", {
  fit <- readme_fit()
  cb <- contributions(fit, draws = 1:20)
  pdf(NULL)
  on.exit(dev.off())
  expect_identical(plot(cb), cb$series)
  cols <- hbmmm:::contribution_colours(cb$components, cb$media)
  expect_length(unique(cols), length(cb$components))
})
