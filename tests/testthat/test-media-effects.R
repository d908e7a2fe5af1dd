# Log-normal group-level media effects (hbmmm_spec(media_effects =
# "log_normal")): level l's coefficient of a channel is b exp(v_l), v_l ~
# N(0, sd^2). Checked against a plain-R likelihood and prior, finite
# differences, Gibbs against NUTS, and simulated truth.

ln_spec <- function(...) small_spec(media_effects = "log_normal", ...)

test_that("the NUTS density's likelihood uses b exp(v) and its prior is half-t on sd, normal on z", {
  ns <- asNamespace("hbmmm")
  spec <- ln_spec()
  sp0 <- ln_spec(prior_only = TRUE)
  d <- mmm_density(spec)
  d0 <- mmm_density(sp0)
  expect_equal(d0$info$dim, d$info$dim)
  nm <- ns$draw_names(spec)
  expect_true(all(c("sd_market__tv", "sd_market__Intercept", sprintf("r_market[%s,tv]", spec$ranef$market$levels)) %in% nm))
  expect_false(any(grepl("^cor_market", nm)))
  for (seed in 1:2) {
    th <- d$start(seed)
    r <- d$eval(th)
    v <- stats::setNames(r$draw, nm)
    # the likelihood (full minus prior-only density at the same point)
    lv <- spec$ranef$market$levels
    bt <- v[["b_tv"]] + v[sprintf("r_market[%s,tv]", lv)][spec$ranef$market$codes]
    expect_true(all(bt > 0))
    tv <- hill_r(adstock_geometric(spec$media_data[, "tv"], v[["decay_tv"]], normalize = spec$transforms$normalize[["tv"]],
                                   group = spec$panel_codes), v[["halfsat_tv"]], v[["slope_tv"]])
    se <- hill_r(adstock_geometric(spec$media_data[, "search"], v[["decay_search"]],
                                   normalize = spec$transforms$normalize[["search"]], group = spec$panel_codes),
                 v[["halfsat_search"]], v[["slope_search"]])
    mu <- v[["b_Intercept"]] + bt * tv + v[["b_search"]] * se + v[["b_price"]] * spec$X$static[, "price"] +
      v[sprintf("r_market[%s,Intercept]", lv)][spec$ranef$market$codes]
    # the density leaves out the constant -n log(2 pi) / 2
    ll <- sum(stats::dnorm(spec$y, mu, v[["sigma"]], log = TRUE)) + length(spec$y) * log(2 * pi) / 2
    expect_equal(r$lp - d0$eval(th)$lp, ll, tolerance = 1e-8)
  }
  # the block's prior: move only its coordinates (log sd, then z), which
  # the layout puts last
  G <- length(spec$ranef$market$levels)
  blk <- (d$info$dim - G):d$info$dim
  th1 <- th2 <- d$start(3)
  th2[blk] <- th2[blk] + seq(0.3, -0.4, length.out = G + 1)
  lp_block <- function(th) {
    ls <- th[blk[1]]
    z <- th[blk[-1]]
    # sd ~ half-t(3, 0.5) with log sd sampled (Jacobian sd); z ~ N(0, 1)
    stats::dt(exp(ls) / 0.5, 3, log = TRUE) + ls + sum(stats::dnorm(z, log = TRUE))
  }
  # the centred intercept b_0 = alpha - sum_j b_j mean(x_j) moves with tv's
  # column, so its normal prior moves too
  pb <- spec$priors$b[["(Intercept)"]]$par
  b0 <- function(th) stats::setNames(d0$eval(th)$draw, nm)[["b_Intercept"]]
  lp_b0 <- function(th) stats::dnorm(b0(th), pb[["mean"]], pb[["sd"]], log = TRUE)
  expect_equal(d0$eval(th1)$lp - d0$eval(th2)$lp, lp_block(th1) - lp_block(th2) + lp_b0(th1) - lp_b0(th2),
               tolerance = 1e-9)
})

test_that("gradients are exact with log-normal effects, centred or not, with an ROI prior on the channel", {
  expect_lt(grad_error(ln_spec(), FALSE, 1), 1e-6)
  expect_lt(grad_error(ln_spec(), TRUE, 2), 1e-6)
  expect_lt(grad_error(ln_spec(prior = hbmmm_prior(roi = list(tv = lognormal(log(2), 0.5)))), FALSE, 3), 1e-6)
  # only the media column varies by market: no Gaussian term left
  expect_lt(grad_error(ln_spec(formula = sales ~ tv + search + price + (0 + tv | market)), FALSE, 4), 1e-6)
})

# Data with multiplicative market effects of tv and known transforms.
ln_truth <- function(seed = 7) {
  set.seed(seed)
  d <- mmm_weekly
  mk <- levels(factor(d$market))
  v <- stats::setNames(stats::rnorm(length(mk), 0, 0.35), mk)
  u <- stats::setNames(stats::rnorm(length(mk), 0, 80), mk) # market intercepts
  sat <- function(x, decay, h, s) hill_r(adstock_geometric(x, decay, normalize = TRUE, group = d$market), h, s)
  bt <- 300 * exp(v[as.character(d$market)])
  d$sales <- 1000 + u[as.character(d$market)] + bt * sat(d$tv, 0.5, 40, 1.5) + 200 * sat(d$search, 0.3, 20, 1) -
    30 * d$price + stats::rnorm(nrow(d), 0, 40)
  list(data = d, v = v, b = 300,
       fixed = c(decay_tv = 0.5, halfsat_tv = 40, slope_tv = 1.5, decay_search = 0.3, halfsat_search = 20, slope_search = 1))
}

test_that("Gibbs and NUTS agree on log-normal market effects and recover their truth", {
  tr <- ln_truth()
  f <- sales ~ tv + search + price + (1 + tv | market)
  args <- list(f, data = tr$data, media = c("tv", "search"), time = "week", media_effects = "log_normal",
               fixed_transforms = tr$fixed, refresh = 0, seed = 3)
  fg <- quiet_sampling(do.call(hbmmm, c(args, list(chains = 2, iter = 4000))))
  fn <- quiet_sampling(do.call(hbmmm, c(args, list(chains = 2, iter = 1000, sampler = "nuts"))))
  expect_equal(sum(fn$sampler_diagnostics$divergent), 0)
  lv <- levels(factor(tr$data$market))
  rv <- sprintf("r_market[%s,tv]", lv)
  expect_samplers_agree(fn, fg, c("b_tv", "sd_market__tv", "b_search", "sd_market__Intercept", "sigma", rv[1:3]))
  # each market's coefficient b exp(v) within its 95% interval (all 8, or 7)
  m <- as.matrix(fg)
  coef_m <- m[, "b_tv"] + m[, rv]
  expect_true(all(coef_m > 0))
  truth <- tr$b * exp(tr$v)
  q <- apply(coef_m, 2, stats::quantile, c(0.025, 0.975))
  expect_gte(sum(truth >= q[1, ] & truth <= q[2, ]), 7)
  # the sd of v on the log scale
  expect_true(stats::sd(tr$v) > stats::quantile(m[, "sd_market__tv"], 0.01) &&
              stats::sd(tr$v) < stats::quantile(m[, "sd_market__tv"], 0.99))
  # ROI, contributions and curves read b + r: tv's contribution over the
  # data is sum_i b exp(v_m(i)) sat_i, per draw
  ns <- asNamespace("hbmmm")
  mat <- m[1:20, ]
  tot <- ns$channel_totals(fg, mat, 0)$at[, "tv"]
  sat_tv <- hill_r(adstock_geometric(fg$spec$media_data[, "tv"], 0.5, normalize = TRUE, group = fg$spec$panel_codes), 40, 1.5)
  cm <- coef_m[1:20, fg$spec$ranef$market$codes]
  expect_equal(unname(tot), unname(drop(cm %*% sat_tv)), tolerance = 1e-9)
  expect_s3_class(roi(fg), "data.frame")
  expect_true(is.numeric(log_lik(fn)))
  expect_equal(dim(posterior_predict(fg, draws = 1:10)), c(10L, nrow(tr$data)))
})

test_that("log-normal effects run on the Gibbs row path, with lift tests, and from the prior", {
  d <- small_panel()
  m2 <- levels(factor(d$market))[2]
  lift <- data.frame(channel = "tv", x = 30, delta_x = 10, delta_y = 40, sigma = 5, market = m2)
  fit <- quiet_sampling(hbmmm(small_formula, data = d, media = c("tv", "search"), time = "week", chains = 1,
                              iter = 200, seed = 1, refresh = 0, media_effects = "log_normal", calibration = lift))
  m <- as.matrix(fit)
  expect_true(all(m[, "b_tv"] + m[, grep("^r_market\\[.*,tv\\]$", colnames(m))] > 0))
  expect_true(all(is.finite(m)))
  # print() says what sd_market__tv is
  out <- capture.output(print(fit))
  expect_true(any(grepl("sd_market__tv .*on the log scale", out)))
  pf <- quiet_sampling(hbmmm(small_formula, data = d, media = c("tv", "search"), time = "week", chains = 2,
                             iter = 4000, seed = 1, refresh = 0, media_effects = "log_normal", prior_only = TRUE))
  # sd's prior half-t(3, 0.5) has median 0.5 * qt(0.75, 3): half the draws
  # lie below it, within Monte Carlo error (of the indicator's mean)
  below <- (pf$draws[, , "sd_market__tv"] < 0.5 * stats::qt(0.75, 3)) + 0
  expect_lt(abs(mean(below) - 0.5), 4 * mcse_mean(below) + 0.01)
})

test_that("log-normal media effects refuse what they cannot mean", {
  d <- small_panel()
  expect_error(small_spec(media_effects = "lognormal"), class = "hbmmm_input_error", regexp = "media_effects")
  expect_error(small_spec(formula = sales ~ tv + search + price + tv:price + (1 + tv | market), media_effects = "log_normal"),
               class = "hbmmm_input_error", regexp = "own")
  expect_error(small_spec(formula = sales ~ tv + search + price + (1 + tv:price | market), media_effects = "log_normal"),
               class = "hbmmm_input_error", regexp = "interaction")
  d$region <- ifelse(d$market %in% levels(factor(d$market))[1:2], "north", "south")
  expect_error(small_spec(formula = sales ~ tv + search + price + (1 + tv | market) + (0 + tv | region), data = d,
                          media_effects = "log_normal"),
               class = "hbmmm_input_error", regexp = "more than one")
  expect_error(small_spec(media_effects = "log_normal", keep_ranef = 2), class = "hbmmm_input_error", regexp = "keep_ranef")
  expect_error(small_spec(media_effects = "log_normal", prior = hbmmm_prior(media_sd = half_normal(1))),
               class = "hbmmm_input_error")
  expect_error(small_spec(media_effects = "log_normal", prior = hbmmm_prior(media_sd = list(region = half_student_t(3, 1)))),
               class = "hbmmm_input_error", regexp = "media_sd")
})
