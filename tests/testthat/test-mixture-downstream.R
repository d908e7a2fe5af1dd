# Everything downstream of a mixture-of-Hills fit, each value checked
# against a plain-R computation from the draws.

local_mixture_fit <- function() {
  set.seed(11)
  n <- 80
  d <- data.frame(week = seq_len(n), tv = rexp(n) * rbinom(n, 1, 0.7) * 10, search = runif(n, 0, 5),
                  price = rnorm(n))
  a <- adstock_geometric(d$tv, 0.4, normalize = TRUE)
  d$sales <- 5 + 3 * saturation_hill_mixture(a, c(1, 8), c(2, 3), c(0.4, 0.6)) + 0.5 * d$search +
    0.3 * d$price + rnorm(n, 0, 0.3)
  fit <- suppressWarnings(hbmmm(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                                saturation = c(tv = "hill_mixture", search = "hill"),
                                saturation_control = list(components = 3), sampler = "nuts",
                                chains = 2, iter = 300, refresh = 0, seed = 3))
  list(fit = fit, data = d)
}
mf <- local_mixture_fit()

# the tv channel's media term per draw, in plain R
tv_term <- function(m, tv) {
  t(vapply(seq_len(nrow(m)), function(s) {
    a <- adstock_geometric(tv, m[s, "decay_tv"], normalize = TRUE)
    h <- m[s, sprintf("halfsat_tv[%d]", 1:3)]
    sl <- m[s, sprintf("slope_tv[%d]", 1:3)]
    w <- m[s, sprintf("weight_tv[%d]", 1:3)]
    m[s, "b_tv"] * Reduce(`+`, Map(function(hk, sk, wk) wk * ifelse(a > 0, a^sk / (a^sk + hk^sk), 0), h, sl, w))
  }, numeric(length(tv))))
}

test_that("the linear predictor, contributions and ROI use the mixture", {
  fit <- mf$fit
  m <- as.matrix(fit)
  idx <- c(1, 57, 300)
  ref <- tv_term(m[idx, , drop = FALSE], mf$data$tv)
  comp <- asNamespace("hbmmm")$mmm_components(fit, draws = idx)
  expect_equal(comp$media$tv, ref, tolerance = 1e-10)
  # roi(): contributions summed in C (model_totals.c) per draw
  tot <- asNamespace("hbmmm")$channel_totals(fit, m[idx, , drop = FALSE], step = 0)
  expect_equal(unname(tot$at[, "tv"]), rowSums(ref), tolerance = 1e-10)
  r <- roi(fit)
  expect_equal(r$contribution[r$channel == "tv"], mean(rowSums(tv_term(m, mf$data$tv))), tolerance = 1e-8)
  ct <- contributions(fit)
  expect_true("tv" %in% ct$series$component)
  expect_equal(sum(ct$series$mean[ct$series$component == "tv"]), mean(rowSums(tv_term(m, mf$data$tv))),
               tolerance = 1e-8)
  # predictions and the log-likelihood come from the same components
  mu <- fitted(fit)
  expect_equal(length(mu[, 1]), nrow(mf$data))
  ll <- log_lik(fit)
  expect_equal(dim(ll), c(nrow(m), nrow(mf$data)))
  expect_true(all(is.finite(ll)))
  pp <- posterior_predict(fit, draws = 1:5)
  expect_equal(dim(pp), c(5L, nrow(mf$data)))
  nd <- mf$data[71:80, ]
  expect_equal(dim(predict(fit, newdata = nd, summary = FALSE)), c(nrow(m), 10L))
  expect_s3_class(suppressWarnings(psis_loo(fit)), "hbmmm_ic")
})

test_that("response curves of a mixture fit evaluate the mixture per draw", {
  fit <- mf$fit
  cv <- response_curves(fit)
  expect_equal(cv$curves$type, c("hill_mixture", "hill"))
  ns <- asNamespace("hbmmm")
  x <- c(0, 2, 7.5, 20)
  prof <- ns$curve_profiles(cv)
  val <- ns$curves_eval(cv, matrix(x, length(x), 2), prof)$value # D x G x K
  m <- as.matrix(fit)
  mult <- ns$steady_multiplier(cv, 1)
  for (s in c(1, 200)) {
    h <- m[s, sprintf("halfsat_tv[%d]", 1:3)]
    sl <- m[s, sprintf("slope_tv[%d]", 1:3)]
    w <- m[s, sprintf("weight_tv[%d]", 1:3)]
    z <- x * mult[s] / cv$curves$spend_scale[1]
    ref <- m[s, "b_tv"] * Reduce(`+`, Map(function(hk, sk, wk) wk * ifelse(z > 0, z^sk / (z^sk + hk^sk), 0), h, sl, w))
    expect_equal(val[s, , 1], ref, tolerance = 1e-10)
  }
  # the saturation point: the mixture reaches 90% of its maximum there
  sp <- ns$saturation_points(cv, 0.9)[, 1]
  z <- sp[1:3] * mult[1:3] / cv$curves$spend_scale[1]
  P <- t(matrix(cv$par[1:3, 1, ], 3))
  got <- vapply(1:3, function(s) saturation_hill_mixture(z[s], P[1:3, s], P[4:6, s], P[7:9, s]), 0)
  expect_equal(got, rep(0.9, 3), tolerance = 1e-8)
  # flighted responses (scenarios) use the same kernel
  plan <- matrix(c(5, 0, 5, 2, 2, 2), 3, 2)
  fl <- ns$curves_flight(cv, plan, carryover = FALSE)
  expect_true(all(is.finite(fl)))
  expect_equal(dim(fl)[1], nrow(cv$beta))
  # planning functions run on mixture curves
  al <- suppressWarnings(allocate_budget(cv, budget = 15))
  expect_equal(sum(al$table$optimal), 15, tolerance = 1e-6)
  sc <- simulate_scenario(cv, scale = 1.1)
  expect_s3_class(sc, "hbmmm_scenario")
  bt <- suppressWarnings(budget_for_target(cv, target = 2.5))
  expect_true(is.finite(bt$budget))
})

test_that("summaries, plots and model comparison work on mixture fits", {
  fit <- mf$fit
  s <- summary(fit)
  expect_true(all(c("weight_tv[1]", "halfsat_tv[3]", "slope_tv[2]") %in% s$table$variable))
  expect_false("alpha_tv" %in% s$table$variable) # Dirichlet weights: no concentration drawn
  pdf(NULL)
  on.exit(grDevices::dev.off())
  out <- plot(fit, type = "mixture")
  expect_named(out, "tv")
  expect_equal(out$tv$weights$mean, unname(colMeans(as.matrix(fit)[, sprintf("weight_tv[%d]", 1:3)])),
               tolerance = 1e-12)
  # the mixture's curve is the sum of the components' parts in every draw,
  # so their posterior means add up too
  cd <- out$tv$curves
  parts <- Reduce(`+`, lapply(1:3, function(k) cd$mean[cd$curve == sprintf("component %d", k)]))
  expect_equal(cd$mean[cd$curve == "mixture"], parts, tolerance = 1e-10)
  expect_error(plot(suppressWarnings(hbmmm(sales ~ tv + search + price, mf$data, media = c("tv", "search"),
                                           sampler = "nuts", chains = 1, iter = 60, refresh = 0, seed = 1)),
                    type = "mixture"), class = "hbmmm_input_error")
  plot(response_curves(fit))
  single <- suppressWarnings(hbmmm(sales ~ tv + search + price, mf$data, media = c("tv", "search"), time = "week",
                                   sampler = "nuts", chains = 2, iter = 300, refresh = 0, seed = 3))
  cmp <- suppressWarnings(compare_models(mixture = fit, hill = single))
  expect_named(cmp, c("mixture", "hill"))
})

test_that("mixture_weights() ranks the weights within each draw and counts the components used", {
  fit <- mf$fit
  W <- as.matrix(fit)[, sprintf("weight_tv[%d]", 1:3)]
  ranked <- t(apply(W, 1, function(w) rev(sort(w))))
  mw <- mixture_weights(fit, threshold = 0.1, prob = 0.8)
  expect_s3_class(mw, "hbmmm_mixture_weights")
  bs <- mw$by_size
  expect_equal(bs$rank, 1:3)
  expect_equal(bs$mean, unname(colMeans(ranked)), tolerance = 1e-12)
  expect_equal(bs$lower, unname(apply(ranked, 2, quantile, 0.1)), tolerance = 1e-12)
  expect_equal(bs$upper, unname(apply(ranked, 2, quantile, 0.9)), tolerance = 1e-12)
  expect_equal(bs$above, unname(colMeans(ranked > 0.1)), tolerance = 1e-12)
  expect_true(all(diff(bs$mean) <= 0))
  n_used <- rowSums(W > 0.1)
  expect_equal(mw$used$n, 0:3)
  expect_equal(mw$used$probability, vapply(0:3, function(k) mean(n_used == k), 0), tolerance = 1e-12)
  expect_equal(mw$mean_used[["tv"]], mean(n_used), tolerance = 1e-12)
  # the mean number used is the sum of the ranks' shares above the threshold
  expect_equal(sum(bs$above), mean(n_used), tolerance = 1e-12)
  expect_output(print(mw), "tv: 3 components; with weight above 0.1")
  expect_output(print(summary(fit)), "components used")
  expect_s3_class(summary(fit)$mixture, "hbmmm_mixture_weights")
  pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_equal(plot(fit, type = "mixture")$tv$weights_by_size$mean, mixture_weights(fit)$by_size$mean)
  expect_error(mixture_weights(fit, threshold = 1), class = "hbmmm_input_error")
  expect_error(mixture_weights(fit, prob = NA), class = "hbmmm_input_error")
  expect_error(mixture_weights(list()), class = "hbmmm_input_error")
  single <- suppressWarnings(hbmmm(sales ~ tv + search + price, mf$data, media = c("tv", "search"),
                                   sampler = "nuts", chains = 1, iter = 60, refresh = 0, seed = 1))
  expect_error(mixture_weights(single), class = "hbmmm_input_error")
  expect_null(summary(single)$mixture)
})
