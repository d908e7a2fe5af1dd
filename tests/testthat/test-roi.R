# ROI and marginal ROI: on curves against closed forms and finite
# differences; on fits against a plain-R computation of the channel
# contributions; contributions add up to the linear predictor.

test_that("ROI and marginal ROI of given curves follow the curves", {
  cv <- response_curves(data.frame(channel = c("tv", "search"), type = c("hill", "michaelis_menten"),
                                   beta = c(500, 300), halfsat = c(100, NA), slope = c(2, NA), k = c(NA, 50),
                                   spend = c(120, 60)))
  r <- roi(cv)
  expect_equal(r$roi, c(500 * hill_r(120, 100, 2) / 120, 300 * 60 / 110 / 60))
  h <- 1e-6
  expect_equal(r$mroi[1], 500 * (hill_r(120 + h, 100, 2) - hill_r(120 - h, 100, 2)) / (2 * h), tolerance = 1e-7)
  expect_equal(r$mroi[2], 300 * 50 / 110^2, tolerance = 1e-12)
  # zero spend: no ROI (not a division by zero), marginal ROI still defined
  r0 <- roi(cv, spend = c(tv = 0))
  expect_input_error(roi(cv, step = -1), "step")
  expect_input_error(roi(cv, step = 0.05), "step")
  expect_input_error(roi(cv, draws = 1:2), "draws")
  expect_input_error(roi(cv, horizon = -2), "horizon")
  expect_true(is.na(r0$roi[1]))
  expect_equal(r0$mroi[1], 0)
  expect_output(print(r), "marginal ROI")
  pdf(NULL)
  on.exit(dev.off())
  d <- plot(r)
  expect_equal(d$roi, r$roi)
})

test_that("ROI from draws carries credible intervals", {
  set.seed(3)
  D <- 400
  dr <- cbind(b_tv = rnorm(D, 500, 50), halfsat_tv = 100, slope_tv = 2)
  r <- roi(response_curves(dr, saturation = "hill", spend = c(tv = 100)), level = 0.8)
  want <- dr[, "b_tv"] * 0.5 / 100
  expect_equal(r$roi, mean(want))
  expect_equal(r$roi_lower, quantile(want, 0.1, names = FALSE))
  expect_equal(r$roi_upper, quantile(want, 0.9, names = FALSE))
})

test_that("ROI and contributions of a fit match a plain-R computation", {
  fit <- decide_fit(formula = sales ~ tv + search + price, panel = "market", iter = 30)
  spec <- fit$spec
  data <- hbmmm:::original_data(spec)
  dm <- as.matrix(fit)
  # plain-R: normalized infinite geometric adstock within market, Hill, coefficient
  contrib <- function(ch, d, scale = 1) {
    tot <- 0
    for (m in unique(data$market)) {
      rows <- data$market == m
      x <- data[[ch]][rows][order(data$week[rows])] * scale
      a <- as.numeric(stats::filter(x, dm[d, paste0("decay_", ch)], method = "recursive")) * (1 - dm[d, paste0("decay_", ch)])
      tot <- tot + sum(dm[d, paste0("b_", ch)] * hill_r(a, dm[d, paste0("halfsat_", ch)], dm[d, paste0("slope_", ch)]))
    }
    tot
  }
  r <- roi(fit, step = 0.01)
  # arguments of the other mode, and invalid values, are refused
  expect_input_error(roi(fit, horizon = -2), "horizon")
  expect_input_error(roi(fit, horizon = 4), "horizon")
  expect_input_error(roi(fit, spend = c(tv = 1)), "spend")
  expect_input_error(roi(fit, step = -1), "step")
  ctv <- vapply(seq_len(nrow(dm)), function(d) contrib("tv", d), 0)
  expect_equal(attr(r, "draws")$contribution[, "tv"], ctv, tolerance = 1e-8)
  expect_equal(r$roi[1], mean(ctv / sum(data$tv)), tolerance = 1e-8)
  up <- vapply(seq_len(nrow(dm)), function(d) contrib("tv", d, 1.01), 0)
  expect_equal(attr(r, "draws")$mroi[, "tv"], (up - ctv) / (0.01 * sum(data$tv)), tolerance = 1e-6)

  cb <- contributions(fit)
  comp <- hbmmm:::mmm_components(fit)
  expect_equal(sum(cb$totals$mean), mean(rowSums(comp$mu)), tolerance = 1e-10)
  expect_equal(cb$totals$mean[cb$totals$component == "tv"], mean(ctv), tolerance = 1e-8)
  # by time: sums over markets at each week
  wk <- cb$series[cb$series$component == "search", ]
  expect_equal(nrow(wk), length(unique(data$week)))
  expect_equal(sum(wk$mean), cb$totals$mean[cb$totals$component == "search"], tolerance = 1e-10)
  expect_equal(cb$observed$observed, as.vector(tapply(data$sales, data$week, sum)))
  expect_output(print(cb), "Contributions to sales")
  pdf(NULL)
  on.exit(dev.off())
  expect_identical(plot(cb), cb$series)
  expect_input_error(contributions(cb), "x")
})

test_that("roi() of a fit with group-level slopes, interactions and online effects equals the per-row components", {
  d <- small_panel()
  fit <- quiet_sampling(hbmmm(sales ~ tv + tv:price + search + (1 + tv | market), data = d,
                              media = c("tv", "search"), time = "week", chains = 1, iter = 40, seed = 2,
                              refresh = 0, keep_ranef = 2))
  expect_warning(r <- roi(fit, step = 0.02), class = "hbmmm_warning_online_ranef")
  comp <- suppressWarnings(hbmmm:::mmm_components(fit))
  data <- hbmmm:::original_data(fit$spec)
  for (ch in c("tv", "search")) {
    expect_equal(attr(r, "draws")$contribution[, ch], rowSums(comp$media[[ch]]), tolerance = 1e-9, label = ch)
    nd <- data
    nd[[ch]] <- nd[[ch]] * 1.02
    up <- suppressWarnings(hbmmm:::mmm_components(fit, newdata = nd, history = FALSE))
    expect_equal(attr(r, "draws")$mroi[, ch], (rowSums(up$media[[ch]]) - rowSums(comp$media[[ch]])) /
                   (0.02 * sum(data[[ch]])), tolerance = 1e-7, label = ch)
  }
  # contributions() by time (sums by key: linear parts from column sums,
  # channels in C) equals the per-row components summed by week
  expect_warning(cb <- contributions(fit), class = "hbmmm_warning_online_ranef")
  wk <- data[[fit$spec$time]]
  expect_identical(unique(cb$series$component), c("baseline", "tv", "search"))
  for (part in c("baseline", "tv", "search")) {
    m <- if (part == "baseline") comp$linear[[part]] else comp$media[[part]]
    want <- colMeans(t(rowsum(t(m), wk)))
    got <- cb$series$mean[cb$series$component == part]
    expect_equal(got, unname(want), tolerance = 1e-9, label = part)
  }
  expect_equal(sum(cb$totals$mean), mean(rowSums(comp$mu)), tolerance = 1e-9)
  # the C kernel: thread-independent, and its arguments checked
  ns <- asNamespace("hbmmm")
  mat <- as.matrix(fit)
  model <- ns$mmm_model_list(fit$spec)
  par <- matrix(matrix(model$ch_par, 4)[, 1], nrow(mat), 4, byrow = TRUE)
  par[, c(1, 3, 4)] <- mat[, c("decay_tv", "halfsat_tv", "slope_tv")] # slots: decay, (unused), halfsat, slope
  bfix <- mat[, c("b_tv", "b_tv:price")]
  U <- suppressWarnings(ns$ranef_draws_matrix(fit, mat, "market", 2L))
  ueff <- list(matrix(as.double(U), nrow(U)))
  one <- .Call(ns$C_hb_channel_totals, model, 1L, par, bfix, ueff, 0.02, 1L, NULL)
  two <- .Call(ns$C_hb_channel_totals, model, 1L, par, bfix, ueff, 0.02, 2L, NULL)
  expect_identical(one, two)
  expect_equal(one$at[, 1], attr(r, "draws")$contribution[, "tv"], tolerance = 1e-12)
  bad_par <- par
  bad_par[3, 1] <- 1.5 # decay outside [0, 1)
  expect_error(.Call(ns$C_hb_channel_totals, model, 1L, bad_par, bfix, ueff, 0.02, 1L, NULL), "draw 3",
               class = "hbmmm_input_error")
  expect_error(.Call(ns$C_hb_channel_totals, model, 3L, par, bfix, ueff, 0.02, 1L, NULL), class = "hbmmm_input_error")
  expect_error(.Call(ns$C_hb_channel_totals, model, 1L, par, bfix[, 1, drop = FALSE], ueff, 0.02, 1L, NULL),
               class = "hbmmm_input_error")
  expect_error(.Call(ns$C_hb_channel_totals, model, 1L, par, bfix, list(), 0.02, 1L, NULL), class = "hbmmm_input_error")
  expect_error(.Call(ns$C_hb_channel_totals, model, 1L, par, bfix, list(U[, -1]), 0.02, 1L, NULL),
               class = "hbmmm_input_error")
  expect_error(.Call(ns$C_hb_channel_totals, model, 1L, par, bfix, ueff, -0.5, 1L, NULL), class = "hbmmm_input_error")
  expect_error(.Call(ns$C_hb_channel_totals, model, 1L, par, bfix, ueff, 0.02, 0L, NULL), class = "hbmmm_input_error")
  expect_error(.Call(ns$C_hb_channel_totals, model, 1L, par, bfix, ueff, 0.02, 1L, rep(0L, nrow(fit$spec$X$static))),
               class = "hbmmm_input_error")
  expect_error(.Call(ns$C_hb_channel_totals, model, 1L, par, bfix, ueff, 0.02, 1L, 1:3), class = "hbmmm_input_error")
  nan_b <- bfix
  nan_b[1, 1] <- NaN
  expect_error(.Call(ns$C_hb_channel_totals, model, 1L, par, nan_b, ueff, 0.02, 1L, NULL), class = "hbmmm_input_error")
  expect_error(.Call(ns$C_hb_channel_totals, list(), 1L, par, bfix, ueff, 0.02, 1L, NULL), class = "hbmmm_input_error")
})
