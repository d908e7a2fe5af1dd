# Lift-test calibration: hbmmm(calibration = lift) adds, per test,
# delta_y ~ N(f(x + delta_x) - f(x), sigma^2) on the channel's steady-state
# curve. Checked against a plain-R log density, finite differences, the
# importance-reweighted posterior without tests, and simulated truth.

lift_panel <- function() {
  d <- small_panel()
  d$pop <- c(1, 2, 4, 8)[as.integer(factor(d$market))] * 1000
  d
}

lift_table <- function(d = lift_panel()) {
  m2 <- levels(factor(d$market))[2]
  data.frame(channel = c("tv", "tv", "search"), x = c(30, 20, 10), delta_x = c(10, 5, 4),
             delta_y = c(40, 15, 9), sigma = c(5, 4, 3), market = c(NA, m2, NA), stringsAsFactors = FALSE)
}

# The steady-state curve difference of test k at one draw (named vector of
# the density's draw), written from ?hbmmm's definition: W the sum of the
# adstock weights, sat() the channel's saturation, at spend / (cost * pop).
ref_lift_mean <- function(spec, dr, k) {
  lt <- spec$calibration
  tr <- spec$transforms
  ch <- spec$media[lt$channel[k]]
  val <- function(p) {
    nm <- paste0(p, "_", ch)
    if (nm %in% names(dr)) return(dr[[nm]])
    tr$pars$value[tr$pars$name == nm]
  }
  ad <- tr$adstock[[ch]]
  L <- tr$max_lag[[ch]]
  nrm <- tr$normalize[[ch]]
  W <- if (ad == "none") 1 else if (is.null(L)) {
    if (nrm) 1 else 1 / (1 - val("decay"))
  } else {
    par <- switch(ad, geometric = list(decay = val("decay")), list(shape = val("shape"), scale = val("scale")))
    sum(ref_weights(ad, par, L, nrm))
  }
  rows <- if (is.na(lt$term[k])) seq_len(spec$nobs) else which(spec$ranef[[lt$term[k]]]$codes == lt$level[k])
  pop <- if (is.null(spec$pop)) 1 else mean(spec$pop[rows])
  a <- W * c(lt$x[k], lt$x[k] + lt$delta_x[k]) / pop
  sat <- tr$saturation[[ch]]
  s <- switch(sat,
    hill = hill_r(a, val("halfsat"), val("slope")),
    logistic = ref_saturation(a, "logistic", list(lambda = val("lambda"))),
    hill_mixture = {
      K <- sum(grepl(sprintf("^weight_%s\\[", ch), names(dr)))
      Reduce(`+`, lapply(seq_len(K), function(j) {
        dr[[sprintf("weight_%s[%d]", ch, j)]] *
          hill_r(a, dr[[sprintf("halfsat_%s[%d]", ch, j)]], dr[[sprintf("slope_%s[%d]", ch, j)]])
      }))
    })
  coef <- dr[[paste0("b_", ch)]]
  if (!is.na(lt$term[k])) {
    r <- sprintf("r_%s[%s,%s]", lt$term[k], spec$ranef[[lt$term[k]]]$levels[lt$level[k]], ch)
    if (r %in% names(dr)) coef <- coef + dr[[r]]
  }
  list(mean = coef * (s[2] - s[1]), pop = pop)
}

lift_specs <- function() {
  d <- lift_panel()
  lift <- lift_table(d)
  f <- sales ~ tv + search + price + (1 + tv | market)
  list(
    hill_pop = list(args = list(f, data = d, media = c("tv", "search"), time = "week", population = "pop"),
                    lift = lift),
    weibull_logistic = list(args = list(f, data = d, media = c("tv", "search"), time = "week",
                                        adstock = c(tv = "weibull_pdf", search = "geometric"),
                                        saturation = c(tv = "hill", search = "logistic"),
                                        adstock_control = list(max_lag = 6)),
                            lift = lift),
    # tv's market effects multiplicative: the test in M2 gets M2's multiplier
    log_normal = list(args = list(f, data = d, media = c("tv", "search"), time = "week", population = "pop",
                                  media_effects = "log_normal"),
                      lift = lift),
    mixture = list(args = list(f, data = d, media = c("tv", "search"), time = "week",
                               saturation = c(tv = "hill_mixture", search = "hill"),
                               saturation_control = list(components = 2)),
                   lift = lift)
  )
}

test_that("the NUTS density adds exactly the tests' normal log likelihood, with exact gradients", {
  ns <- asNamespace("hbmmm")
  for (nm in names(lift_specs())) {
    cfg <- lift_specs()[[nm]]
    s0 <- do.call(hbmmm_spec, cfg$args)
    s1 <- do.call(hbmmm_spec, c(cfg$args, list(calibration = cfg$lift)))
    d0 <- mmm_density(s0)
    d1 <- mmm_density(s1)
    expect_equal(d1$info$dim, d0$info$dim)
    for (seed in 1:3) {
      th <- d0$start(seed)
      r0 <- d0$eval(th)
      r1 <- d1$eval(th)
      dr <- stats::setNames(r0$draw, ns$draw_names(s0))
      want <- 0
      for (k in seq_len(nrow(cfg$lift))) {
        ref <- ref_lift_mean(s1, dr, k)
        # per capita: the test's change and its sd divided by the population
        e <- (cfg$lift$delta_y[k] - ref$mean * ref$pop) / cfg$lift$sigma[k]
        want <- want - 0.5 * e^2
      }
      expect_equal(r1$lp - r0$lp, want, tolerance = 1e-9, info = paste(nm, seed))
    }
    expect_lt(grad_error(s1, seed = 2), 1e-6)
  }
})

test_that("the Gibbs posterior with lift tests is the posterior without them reweighted by their likelihood", {
  d <- lift_panel()
  # the tests sit in the lower part of what the data alone imply (90%:
  # 14-42 and 7-16), so that they move the posterior
  lift <- data.frame(channel = c("tv", "tv"), x = c(30, 20), delta_x = c(10, 5), delta_y = c(18, 8),
                     sigma = c(5, 3), market = c(NA, levels(factor(d$market))[2]))
  args <- list(sales ~ tv + search + price + (1 + tv | market), d, media = c("tv", "search"), time = "week",
               chains = 4, iter = 6000, warmup = 1000, seed = 3, refresh = 0)
  f0 <- quiet_sampling(do.call(hbmmm, args))
  f1 <- quiet_sampling(do.call(hbmmm, c(args, list(calibration = lift))))
  m0 <- as.matrix(f0)
  m1 <- as.matrix(f1)
  spec <- f1$spec
  logw <- numeric(nrow(m0))
  for (i in seq_len(nrow(m0))) {
    for (k in seq_len(nrow(lift))) {
      ref <- ref_lift_mean(spec, m0[i, ], k)
      logw[i] <- logw[i] + stats::dnorm(lift$delta_y[k], ref$mean, lift$sigma[k], log = TRUE)
    }
  }
  w <- exp(logw - max(logw))
  w <- w / sum(w)
  expect_gt(1 / sum(w^2), 2000) # the reweighting has enough draws
  for (p in c("b_tv", "decay_tv", "halfsat_tv", "slope_tv", "b_search", "sd_market__tv", "r_market[M2,tv]")) {
    p <- if (p %in% colnames(m1)) p else grep("^r_market\\[.*2,tv\\]$", colnames(m1), value = TRUE)[1]
    ref_mean <- sum(w * m0[, p])
    ref_sd <- sqrt(sum(w * (m0[, p] - ref_mean)^2))
    moved <- abs(mean(m0[, p]) - ref_mean)
    # within a tenth of a posterior sd (about 3-4 MCSE of these chains)
    expect_lt(abs(mean(m1[, p]) - ref_mean), 0.1 * ref_sd, label = p)
  }
  # the tests moved the tv effect: the check above is not vacuous
  expect_gt(abs(mean(m0[, "b_tv"]) - sum(w * m0[, "b_tv"])), 0.1 * sd(m0[, "b_tv"]))
})

# Two channels whose spends move together (correlation > 0.9): the data fit
# their sum; a lift test on one pins its ROI.
correlated_channels <- function(seed = 1, n_markets = 4, n_weeks = 104) {
  set.seed(seed)
  d <- do.call(rbind, lapply(seq_len(n_markets), function(m) {
    base <- pmax(0, 50 + 30 * sin(2 * pi * (1:n_weeks) / 52) + stats::rnorm(n_weeks, 0, 10))
    data.frame(market = sprintf("M%d", m), week = 1:n_weeks,
               a = base * exp(stats::rnorm(n_weeks, 0, 0.08)), b = 0.8 * base * exp(stats::rnorm(n_weeks, 0, 0.08)))
  }))
  beta <- c(a = 2, b = 3)
  decay <- c(a = 0.5, b = 0.3)
  ca <- beta[["a"]] * adstock_geometric(d$a, decay[["a"]], group = d$market)
  cb <- beta[["b"]] * adstock_geometric(d$b, decay[["b"]], group = d$market)
  d$sales <- 1000 + ca + cb + stats::rnorm(nrow(d), 0, 40)
  x <- mean(d$a)
  list(data = d, roi = c(a = sum(ca) / sum(d$a), b = sum(cb) / sum(d$b)),
       lift = data.frame(channel = "a", x = x, delta_x = 0.3 * x,
                         delta_y = beta[["a"]] / (1 - decay[["a"]]) * 0.3 * x, sigma = 0.05 * beta[["a"]] / (1 - decay[["a"]]) * 0.3 * x))
}

test_that("a lift test separates two channels that always move together, in both samplers", {
  sim <- correlated_channels()
  expect_gt(stats::cor(sim$data$a, sim$data$b), 0.9)
  for (sampler in c("gibbs", "nuts")) {
    fit <- function(cal) {
      quiet_sampling(hbmmm(sales ~ a + b, sim$data, media = c("a", "b"), saturation = "none", time = "week",
                           panel = "market", sampler = sampler, chains = 2, iter = if (sampler == "nuts") 1000 else 2000,
                           seed = 1, refresh = 0, calibration = cal))
    }
    r0 <- roi(fit(NULL))
    f1 <- fit(sim$lift)
    r1 <- roi(f1)
    a <- which(r1$channel == "a")
    truth <- sim$roi[["a"]]
    expect_lt(abs(r1$roi[a] / truth - 1), 0.15, label = sampler)
    expect_true(r1$roi_lower[a] <= truth && truth <= r1$roi_upper[a], label = sampler)
    expect_lt(r1$roi_upper[a] - r1$roi_lower[a], 0.5 * (r0$roi_upper[a] - r0$roi_lower[a]), label = sampler)
    # the print shows the test against the fit
    out <- paste(capture.output(print(f1)), collapse = "\n")
    expect_match(out, "Lift tests")
    chk <- hbmmm:::lift_check(f1)
    expect_lt(abs(chk$model - sim$lift$delta_y) / sim$lift$sigma, 2)
  }
})

test_that("bad lift tests get classed errors naming the problem", {
  d <- lift_panel()
  ok <- lift_table(d)
  spec <- function(cal) small_spec(data = d, calibration = cal)
  expect_silent(spec(ok))
  bad <- function(mod, pattern) {
    cal <- ok
    cal <- mod(cal)
    expect_error(spec(cal), pattern, class = "hbmmm_input_error")
  }
  bad(function(x) { x$channel[1] <- "radio"; x }, "radio")
  bad(function(x) { x$sigma[2] <- 0; x }, "sigma")
  bad(function(x) { x$sigma[2] <- -1; x }, "sigma")
  bad(function(x) { x$x[1] <- -5; x }, "non-negative")
  bad(function(x) { x$delta_x[1] <- -5; x }, "delta_x")
  bad(function(x) { x$delta_y[1] <- NA; x }, "delta_y")
  bad(function(x) { x$market[3] <- "Atlantis"; x }, "Atlantis")
  bad(function(x) { x$region <- "north"; x }, "region")
  bad(function(x) x[setdiff(names(x), "delta_y")], "delta_y")
  bad(function(x) x[0, ], "data frame")
  expect_error(spec(list(channel = "tv")), "data frame", class = "hbmmm_input_error")
  # a channel without its own population-level coefficient
  expect_error(small_spec(data = d, formula = sales ~ search + price + (1 + tv | market), media = c("tv", "search"),
                          calibration = ok), "coefficient", class = "hbmmm_input_error")
  # through hbmmm() too
  expect_error(hbmmm(small_formula, d, media = c("tv", "search"), time = "week", chains = 1, iter = 20,
                     calibration = ok[-1]), "channel", class = "hbmmm_input_error")
})

test_that("the C entry points check the lift block of the model list", {
  ns <- asNamespace("hbmmm")
  s <- small_spec(data = lift_panel(), calibration = lift_table())
  model <- ns$mmm_model_list(s)
  run <- function(m) .Call(ns$C_hb_gibbs, m, gibbs_control())
  m <- model
  m$lift$a1[1] <- m$lift$a0[1]
  expect_error(run(m), "a0 < a1", class = "hbmmm_input_error")
  m <- model
  m$lift$c[1] <- 7L
  expect_error(run(m), "model\\$lift\\$c", class = "hbmmm_input_error")
  m <- model
  m$lift$a0 <- m$lift$a0[-1]
  expect_error(run(m), "model\\$lift\\$a0", class = "hbmmm_input_error")
  m <- model
  m$lift <- "tests"
  expect_error(run(m), "model\\$lift", class = "hbmmm_input_error")
  m <- model
  m$lift$c <- c(m$lift$c, 0L, 0L, 0L)[seq_len(length(m$y) - 1L)]
  expect_error(run(m), "model\\$lift", class = "hbmmm_input_error")
  # the post-processing model list has no tests
  expect_null(ns$mmm_model_list(s, calibration = FALSE)$lift)
  expect_equal(length(ns$mmm_model_list(s, calibration = FALSE)$y), s$nobs)
})
