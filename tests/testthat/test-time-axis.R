# Time is a real axis: carry-over counts periods, not rows.

# The series with its missing periods filled by zero spend: the truth that
# gap-aware kernels must reproduce.
pad_zero <- function(x, pos) {
  out <- numeric(max(pos) - min(pos) + 1)
  out[pos - min(pos) + 1] <- x
  out
}

test_that("adstock over a gap equals adstock of the zero-filled series, derivatives included", {
  set.seed(11)
  pos <- c(1:9, 16:30, 34L, 60L)
  x <- stats::rexp(length(pos), 1 / 50)
  cases <- list(
    list("geometric", list(decay = 0.7), NULL), list("geometric", list(decay = 0.7), 9L),
    list("delayed", list(decay = 0.6, delay = 2.5), 13L),
    list("weibull_cdf", list(shape = 2, scale = 4), 13L), list("weibull_pdf", list(shape = 2, scale = 4), 13L))
  for (cs in cases) for (normalize in c(FALSE, TRUE)) {
    ap <- function(v, time, g = NULL) {
      hbmmm:::adstock_apply(v, cs[[1]], cs[[2]], cs[[3]], normalize, g, deriv = TRUE, time = time)
    }
    got <- ap(x, pos)
    full <- ap(pad_zero(x, pos), NULL)
    at <- pos - min(pos) + 1
    for (k in seq_along(got)) {
      expect_equal(got[[k]], full[[k]][at], tolerance = 1e-12,
                   label = sprintf("%s (max_lag %s, normalize %s), part %d", cs[[1]], format(cs[[3]]), normalize, k))
    }
    # interleaved groups: each group keeps its own gaps
    g <- rep(1:2, length.out = 2 * length(pos))
    two <- ap(rep(x, each = 2), rep(pos, each = 2), g)
    expect_equal(two[[1]][g == 2], full[[1]][at], tolerance = 1e-12)
  }
})

test_that("direct .Call of the adstock rejects time positions that do not increase", {
  expect_input_error(.Call(hbmmm:::C_hb_adstock, c(1, 2, 3), 1L, 0.5, 3L, FALSE, NULL, c(1L, 3L, 3L), FALSE), "time")
  expect_input_error(.Call(hbmmm:::C_hb_adstock, c(1, 2, 3), 1L, 0.5, 3L, FALSE, NULL, c(1L, NA, 3L), FALSE), "time")
  expect_input_error(.Call(hbmmm:::C_hb_adstock, c(1, 2, 3), 1L, 0.5, 3L, FALSE, NULL, c(1L, 2L), FALSE), "time")
  model <- hbmmm:::mmm_model_list(hbmmm_spec(sales ~ tv, data = mmm_weekly[mmm_weekly$market == "M01", ],
                                          media = "tv", time = "week"))
  model$tpos <- rev(seq_len(length(model$y)))
  expect_input_error(.Call(hbmmm:::C_hb_gibbs, model, gibbs_control()), "model$tpos")
})

# Weekly data of market M01 with weeks 10-15 missing.
gap_data <- function() {
  d <- mmm_weekly[mmm_weekly$market == "M01", ]
  d[!d$week %in% 10:15, ]
}

test_that("a series with missing periods warns and says where the gap is", {
  d <- gap_data()
  expect_warning(s <- hbmmm_spec(sales ~ tv, data = d, media = "tv", time = "week"),
                 class = "hbmmm_warning_time_gap")
  expect_warning(hbmmm_spec(sales ~ tv, data = d, media = "tv", time = "week"), "6 period\\(s\\) missing between 9 and 16")
  expect_identical(s$tpos, d$week - 1L)
  # one market with a gap: the warning names it
  d2 <- mmm_weekly[!(mmm_weekly$market == "M03" & mmm_weekly$week %in% 20:21), ]
  expect_warning(hbmmm_spec(sales ~ tv + (1 | market), data = d2, media = "tv", time = "week", panel = "market"),
                 "market = M03")
  # dates: weekly and monthly grids
  expect_warning(hbmmm_spec(sales ~ tv, data = d, media = "tv", time = "date"), "2023-02-27 and 2023-04-17")
  m <- data.frame(month = seq(as.Date("2020-01-01"), by = "month", length.out = 36), y = stats::rnorm(36), tv = stats::runif(36))
  expect_silent(s <- hbmmm_spec(y ~ tv, data = m, media = "tv", time = "month"))
  expect_identical(s$time_pos, 0:35)
  expect_warning(hbmmm_spec(y ~ tv, data = m[-5, ], media = "tv", time = "month"), class = "hbmmm_warning_time_gap")
  # a date off the month grid is still in its month; numbers off the grid are refused
  m$month[3] <- m$month[3] + 10
  expect_identical(suppressWarnings(hbmmm_spec(y ~ tv, data = m, media = "tv", time = "month"))$time_pos, 0:35)
  m$t <- c(1:10, 11.7, 13:37)
  expect_input_error(hbmmm_spec(y ~ tv, data = m, media = "tv", time = "t"), "time")
  expect_error(hbmmm_spec(y ~ tv, data = m, media = "tv", time = "t"), "regular grid")
})

test_that("the samplers' C model counts the gap (density equals a plain-R reference)", {
  d <- suppressWarnings(mmm_weekly[!(mmm_weekly$market == "M02" & mmm_weekly$week %in% 10:15), ])
  spec <- suppressWarnings(hbmmm_spec(sales ~ tv + (1 | market), data = d, media = "tv", time = "week",
                                      panel = "market"))
  dens <- mmm_density(spec)
  nm <- hbmmm:::draw_names(spec)
  # the log-likelihood part of the density: everything else does not depend on the media
  loglik <- function(th) {
    v <- stats::setNames(dens$eval(th)$draw, nm)
    a <- hbmmm:::adstock_apply(spec$media_data[, "tv"], "geometric", list(decay = v[["decay_tv"]]), NULL,
                               spec$transforms$normalize[["tv"]], spec$panel_codes, time = spec$time_pos)
    m <- saturation_hill(a, v[["halfsat_tv"]], v[["slope_tv"]])
    u <- v[sprintf("r_market[%s,Intercept]", spec$ranef$market$levels)][spec$ranef$market$codes]
    mu <- v[["b_Intercept"]] + v[["b_tv"]] * m + u
    sum(stats::dnorm(spec$y, mu, v[["sigma"]], log = TRUE))
  }
  th <- dens$start(1)
  # move only the coefficient of tv: the prior changes by a known normal term
  th2 <- th
  j <- match("b_tv", nm)
  th2[j] <- th[j] + 0.5
  # tv's default prior is half-normal, sampled as log b (Jacobian b)
  expect_identical(spec$priors$b[[2]]$family, "half_normal")
  pb <- spec$priors$b[[2]]$par
  lprior <- function(b) stats::dnorm(b, 0, pb[["sd"]], log = TRUE) + log(b)
  v1 <- dens$eval(th)$draw[j]
  v2 <- dens$eval(th2)$draw[j]
  # the intercept is sampled centred (b_0 = alpha - b_tv mean(tv column)),
  # so it moves with b_tv: its normal prior changes too
  i0 <- match("b_Intercept", nm)
  pi <- spec$priors$b[[1]]$par
  l0 <- function(th) stats::dnorm(dens$eval(th)$draw[i0], pi[["mean"]], pi[["sd"]], log = TRUE)
  expect_equal(dens$eval(th2)$lp - dens$eval(th)$lp,
               loglik(th2) - loglik(th) + lprior(v2) - lprior(v1) + l0(th2) - l0(th), tolerance = 1e-8)
  expect_lt(grad_error(spec, FALSE, 1), 1e-6)
})

test_that("Gibbs with a gap recovers the coefficient of the gap-aware regressor", {
  set.seed(5)
  n <- 120
  week <- setdiff(1:(n + 20), 41:60)
  tv <- stats::rexp(n, 1 / 20) * stats::rbinom(n, 1, 0.5)
  # geometric adstock is normalized by default
  a <- hbmmm:::adstock_apply(tv, "geometric", list(decay = 0.8), NULL, TRUE, NULL, time = week)
  a_naive <- adstock_geometric(tv, 0.8, normalize = TRUE)
  y <- 100 + 15 * a + stats::rnorm(n, 0, 1)
  d <- data.frame(week = week, tv = tv, y = y)
  fit <- suppressWarnings(hbmmm(y ~ tv, data = d, media = "tv", time = "week", adstock = "geometric",
                                saturation = "none", fixed_transforms = c(decay_tv = 0.8),
                                chains = 1, iter = 600, warmup = 200, seed = 1, refresh = 0))
  b <- as.matrix(fit)[, "b_tv"]
  ols <- stats::coef(stats::lm(y ~ a))[["a"]]
  ols_naive <- stats::coef(stats::lm(y ~ a_naive))[["a_naive"]]
  expect_lt(abs(mean(b) - ols), 4 * stats::sd(b))
  expect_gt(abs(mean(b) - ols_naive), 10 * stats::sd(b))
})

test_that("a forecast 20 weeks out holds the carry-over of 19 more weeks of decay", {
  d <- mmm_weekly[mmm_weekly$market == "M01" & mmm_weekly$week <= 40, ]
  decay <- 0.6
  fit <- quiet_sampling(hbmmm(sales ~ tv, data = d, media = "tv", time = "week", adstock = "geometric",
                              saturation = "none", fixed_transforms = c(decay_tv = decay),
                              adstock_control = list(normalize = FALSE),
                              chains = 1, iter = 300, warmup = 100, seed = 2, refresh = 0))
  nd <- data.frame(week = c(41, 60), tv = 0, market = "M01")
  med <- hbmmm:::mmm_components(fit, newdata = nd)$media[[1]]
  # by hand: the adstock at week 41 is sum over training weeks j of decay^(41 - j) tv_j
  a41 <- sum(decay^(41 - d$week) * d$tv)
  b <- as.matrix(fit)[, "b_tv"]
  expect_equal(med[, 1], b * a41, tolerance = 1e-10)
  expect_equal(med[, 2], b * a41 * decay^19, tolerance = 1e-10)
})

test_that("new rows inside the training period use the training history", {
  fit <- quick_fit()
  d <- fit$spec$data
  rows <- which(d$week == 10)
  nd <- d[rows, ]
  expect_equal(posterior_epred(fit, newdata = nd), posterior_epred(fit)[, match(rows, order(fit$spec$row_order))],
               tolerance = 1e-10, ignore_attr = TRUE)
  # changed spend in a training week changes that week and carries on into the next
  nd2 <- d[d$week %in% 10:11, ]
  nd2$tv[nd2$week == 10] <- nd2$tv[nd2$week == 10] + 100
  e <- posterior_epred(fit, newdata = nd2) - posterior_epred(fit, newdata = d[d$week %in% 10:11, ])
  expect_true(all(e[, nd2$week == 11] != 0))
})

test_that("duplicated periods in newdata are refused as in training", {
  fit <- quick_fit()
  d <- fit$spec$data
  nd <- d[d$week == 40, ][c(1, 1), ]
  expect_input_error(predict(fit, newdata = nd), "newdata")
  expect_error(predict(fit, newdata = nd), "more than one row")
  nd <- d[d$week == 40, ][1, ]
  nd$week <- 40.5
  expect_error(predict(fit, newdata = nd), "not on the training data's grid")
})

test_that("character time columns are refused with the conversion to use", {
  d <- mmm_weekly[mmm_weekly$market == "M01", ]
  d$wk <- as.character(d$week)
  expect_input_error(hbmmm_spec(sales ~ tv, data = d, media = "tv", time = "wk"), "time")
  expect_error(hbmmm_spec(sales ~ tv, data = d, media = "tv", time = "wk"), "as.numeric(wk)", fixed = TRUE)
  d$wk <- as.character(d$date)
  expect_error(hbmmm_spec(sales ~ tv, data = d, media = "tv", time = "wk"), "as.Date(wk)", fixed = TRUE)
  # factors are ordered by their levels
  d$wk <- factor(d$week)
  expect_silent(s <- hbmmm_spec(sales ~ tv, data = d, media = "tv", time = "wk"))
  expect_identical(s$time_pos, d$week)
})
