# Geo populations (hbmmm(population = )) and spend columns apart from the
# model's exposure (hbmmm(spend = )): fitted per capita, reported in the
# data's units.

# A geo panel whose per-capita effects are known: populations differ
# 20-fold, spend and sales scale with them, and spend is flighted (on in
# about half the weeks) so that each channel's level is told apart from
# the intercept. Returns the data and the true ROI in dollars.
geo_panel <- function(G = 16, T = 80, seed = 1) {
  set.seed(seed)
  pop <- exp(seq(log(50), log(1000), length.out = G))
  d <- expand.grid(week = seq_len(T), geo = sprintf("G%02d", seq_len(G)))
  d$pop <- pop[as.integer(d$geo)]
  tv_pc <- stats::rgamma(nrow(d), 4, 2) * stats::rbinom(nrow(d), 1, 0.5)
  se_pc <- stats::rgamma(nrow(d), 3, 3) * stats::rbinom(nrow(d), 1, 0.6)
  d$tv <- tv_pc * d$pop
  d$search <- se_pc * d$pop
  adstock <- function(x, decay) {
    out <- x
    for (g in unique(d$geo)) {
      r <- which(d$geo == g)
      out[r] <- stats::filter((1 - decay) * x[r], decay, "recursive")
    }
    out
  }
  hill <- function(x, h, s) x^s / (x^s + h^s)
  m_tv <- 6 * hill(adstock(tv_pc, 0.5), 2, 1.5)
  m_se <- 3 * hill(adstock(se_pc, 0.2), 1, 1)
  d$temp <- stats::rnorm(nrow(d)) # a control with a small per-capita effect
  d$sales <- (10 + m_tv + m_se + 0.3 * d$temp + stats::rnorm(nrow(d), 0, 0.5)) * d$pop
  list(data = d, truth = c(tv = sum(m_tv * d$pop) / sum(d$tv), search = sum(m_se * d$pop) / sum(d$search)))
}

test_that("a per-capita geo model reports ROI and contributions in dollars", {
  s <- geo_panel()
  d <- s$data
  fit <- quiet_sampling(hbmmm(sales ~ tv + search + temp + (1 | geo), data = d, media = c("tv", "search"),
                              time = "week", population = "pop", chains = 2, iter = 600, seed = 11, refresh = 0))
  ord <- fit$spec$row_order
  expect_equal(fit$spec$y, d$sales[ord] / d$pop[ord])
  expect_equal(unname(fit$spec$media_data[, "tv"]), d$tv[ord] / d$pop[ord])
  expect_output(print(fit$spec), "per capita: response and media divided by `pop`")

  # ROI in dollars: the truth (known per-capita effects, 20-fold populations)
  # lies within the posterior's Monte Carlo and estimation error
  r <- roi(fit)
  expect_equal(r$spend, c(sum(d$tv), sum(d$search)))
  for (ch in c("tv", "search")) {
    v <- attr(r, "draws")$roi[, ch]
    expect_lt(abs(mean(v) - s$truth[[ch]]), 4 * stats::sd(v) + 0.02)
  }

  # ... and it is each row's per-capita contribution times its population,
  # summed (a hand computation from the per-capita components)
  dr <- 1:40
  cm <- hbmmm:::mmm_components(fit, draws = dr, per_capita = TRUE)
  for (ch in c("tv", "search")) {
    hand <- drop(cm$media[[ch]] %*% d$pop) / sum(d[[ch]])
    expect_equal(attr(r, "draws")$roi[dr, ch], hand, tolerance = 1e-8)
  }

  # contributions add up to the expected outcome in dollars, and that to
  # the observed total up to the noise
  cb <- contributions(fit, by = "total")
  tot <- sum(cb$totals$mean)
  mu <- colMeans(posterior_epred(fit))
  expect_equal(tot, sum(mu), tolerance = 1e-6)
  expect_equal(cb$observed$observed, sum(d$sales))
  expect_lt(abs(tot / sum(d$sales) - 1), 0.005)
  cbt <- contributions(fit, by = "time", draws = dr)
  cbr <- contributions(fit, by = "row", draws = dr)
  for (cmp in c("baseline", "temp", "tv")) {
    by_t <- cbt$series$mean[cbt$series$component == cmp]
    by_r <- tapply(cbr$series$mean[cbr$series$component == cmp], d$week, sum)
    expect_equal(unname(by_t), unname(as.vector(by_r)), tolerance = 1e-8)
  }
  # a centred control prints as such, with how far it moves sales per week
  out <- capture.output(print(cbt))
  expect_true(any(grepl("^ temp +0 \\(centred\\) +- ", out)))
  expect_true(any(grepl("mean |effect| per point", out, fixed = TRUE)))
  expect_false(any(grepl("per point", capture.output(print(cb)), fixed = TRUE)))
  pc <- contributions(fit, by = "total", draws = dr, per_capita = TRUE)
  expect_equal(pc$totals$mean[pc$totals$component == "tv"], mean(rowSums(cm$media$tv)), tolerance = 1e-8)

  # fitted values and predictions are per row, in dollars
  expect_gt(stats::cor(fitted(fit)$Estimate, d$sales), 0.99)
  nd <- d[d$week > 70, ]
  expect_equal(colMeans(posterior_epred(fit, newdata = nd, draws = dr)),
               colMeans(posterior_epred(fit, newdata = transform(nd, pop = pop), draws = dr)))
  half <- transform(nd, pop = pop / 2, sales = sales / 2, tv = tv / 2, search = search / 2)
  expect_equal(colMeans(posterior_epred(fit, newdata = half, draws = dr, history = FALSE)),
               colMeans(posterior_epred(fit, newdata = nd, draws = dr, history = FALSE)) / 2, tolerance = 1e-10)
  expect_error(predict(fit, newdata = nd[setdiff(names(nd), "pop")]), class = "hbmmm_input_error")

  # curves: a row of average population, in dollars; per capita on request
  cv <- response_curves(fit, draws = dr)
  expect_equal(cv$curves$population, rep(mean(d$pop), 2))
  expect_equal(unname(cv$beta[, "tv"]), unname(as.matrix(fit)[dr, "b_tv"] * mean(d$pop)))
  expect_equal(cv$curves$spend, c(mean(d$tv), mean(d$search)))
  cvp <- response_curves(fit, draws = dr, per_capita = TRUE)
  expect_equal(unname(cvp$beta[, "tv"]), unname(as.matrix(fit)[dr, "b_tv"]))
  expect_equal(cvp$curves$spend, c(mean(d$tv / d$pop), mean(d$search / d$pop)))
  # a curve at spend x is the per-capita curve at x / population, times it
  at <- summary(cv, spend = c(tv = 500, search = 200))$table$response
  atp <- summary(cvp, spend = c(tv = 500, search = 200) / mean(d$pop))$table$response
  expect_equal(at, atp * mean(d$pop), tolerance = 1e-8)
  cvg <- response_curves(fit, group = "geo", draws = dr)
  expect_equal(cvg$curves$population[cvg$curves$segment == "G16"], rep(1000, 2))
})

test_that("population is checked", {
  d <- geo_panel(G = 3, T = 20)$data
  spec <- function(...) hbmmm_spec(sales ~ tv + search, data = d, media = c("tv", "search"), time = "week",
                                   panel = "geo", ...)
  expect_error(spec(population = "people"), class = "hbmmm_input_error")
  expect_error(spec(population = "geo"), "positive, finite numbers", class = "hbmmm_input_error")
  d0 <- d
  d0$pop[5] <- 0
  expect_error(hbmmm_spec(sales ~ tv, data = d0, media = "tv", time = "week", panel = "geo", population = "pop"),
               "row 5", class = "hbmmm_input_error")
  expect_error(spec(population = "tv"), "media channel", class = "hbmmm_input_error")
  expect_error(hbmmm_spec(log(sales) ~ tv, data = d, media = "tv", time = "week", panel = "geo", population = "pop"),
               "response that is a column", class = "hbmmm_input_error")
  expect_error(spec(population = "pop", prior = hbmmm_prior(roi = list(tv = lognormal(0, 1)))),
               "cannot be combined with `population`", class = "hbmmm_input_error")
})

test_that("a channel modelled on exposure reports ROI, curves and plans in spend", {
  set.seed(4)
  n <- 150
  d <- data.frame(week = seq_len(n), grp = stats::rgamma(n, 3, 0.1) * stats::rbinom(n, 1, 0.7),
                  search = stats::rgamma(n, 2, 0.1))
  cost <- stats::runif(n, 8, 12) # cost per GRP varies by week
  d$tv_spend <- d$grp * cost
  d$sales <- 100 + 0.8 * d$grp + 0.5 * d$search + stats::rnorm(n, 0, 5)
  args <- list(sales ~ grp + search, data = d, media = c("grp", "search"), time = "week",
               adstock = "none", saturation = "none", chains = 1, iter = 400, seed = 2, refresh = 0)
  fit <- quiet_sampling(do.call(hbmmm, c(args, list(spend = c(grp = "tv_spend")))))
  plain <- quiet_sampling(do.call(hbmmm, args))
  expect_identical(fit$draws, plain$draws) # the model is the same
  expect_output(print(fit$spec), "spend in `tv_spend`")
  r <- roi(fit)
  expect_equal(r$spend, c(sum(d$tv_spend), sum(d$search)))
  b <- as.matrix(fit)[, "b_grp"]
  expect_equal(attr(r, "draws")$roi[, "grp"], b * sum(d$grp) / sum(d$tv_spend), tolerance = 1e-10)
  expect_equal(attr(r, "draws")$roi[, "search"], attr(roi(plain), "draws")$roi[, "search"])
  # the curve converts spend to GRPs at the average cost per GRP
  cv <- response_curves(fit)
  ucost <- sum(d$tv_spend) / sum(d$grp)
  expect_equal(cv$curves$unit_cost, c(ucost, 1))
  expect_equal(cv$curves$exposure, c("grp", "search"))
  expect_equal(cv$curves$spend[1], mean(d$tv_spend))
  expect_equal(cv$curves$spend_max[1], max(d$tv_spend))
  resp <- summary(cv, spend = c(grp = 1000, search = 50))$table$response
  expect_equal(resp[1], mean(cv$beta[, "grp"]) * 1000 / ucost, tolerance = 1e-8)
  # a scenario in spend scales the exposure with it
  sc <- simulate_scenario(fit, scale = 1.1, seed = 1)
  expect_equal(unname(sc$spend["plan", "grp"]), 1.1 * sum(d$tv_spend))
})

test_that("spend columns are checked", {
  d <- data.frame(week = 1:30, grp = (1:30) %% 5, tv_spend = 10 * ((1:30) %% 5), email = (1:30) %% 3,
                  sales = stats::rnorm(30, 100))
  sp <- function(...) hbmmm_spec(sales ~ grp + email, data = d, media = c("grp", "email"), time = "week", ...)
  expect_error(sp(spend = "tv_spend"), "naming, for media channels", class = "hbmmm_input_error")
  expect_error(sp(spend = c(tv = "tv_spend")), "not a media channel", class = "hbmmm_input_error")
  expect_error(sp(spend = c(grp = "tv_cost")), class = "hbmmm_input_error")
  expect_error(sp(spend = c(email = "tv_spend"), organic = "email"), "organic", class = "hbmmm_input_error")
  d$neg <- -d$tv_spend
  expect_error(sp(spend = c(grp = "neg")), "non-negative", class = "hbmmm_input_error")
  d$zero <- 0
  expect_error(hbmmm_spec(sales ~ grp + zero, data = d, media = c("grp", "zero"), time = "week",
                          spend = c(zero = "tv_spend")), "no exposure", class = "hbmmm_input_error")
})
