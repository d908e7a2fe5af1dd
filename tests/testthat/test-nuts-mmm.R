# The MMM log density of hbmmm(sampler = "nuts"): analytic gradients against
# finite differences for every kind of term and prior, the density itself
# against a plain-R computation, and NUTS against the Gibbs sampler.

test_that("gradients equal finite differences for every covariance type and parameterization", {
  d <- mmm_weekly
  med <- c("tv", "search")
  specs <- list(
    hw_full = hbmmm_spec(sales ~ tv + search + price + (1 + tv | market), data = d, media = med, time = "week"),
    hw_diag = hbmmm_spec(sales ~ tv + search + price + (1 + tv || market), data = d, media = med, time = "week"),
    iw = hbmmm_spec(sales ~ tv + search + price + (1 + tv + price | market), data = d, media = med,
                    time = "week", prior = hbmmm_prior(cov = inv_wishart(5, 1))),
    ig_diag = hbmmm_spec(sales ~ tv + search + price + (1 + tv || market), data = d, media = med,
                         time = "week", prior = hbmmm_prior(cov = inv_gamma(2, 100))),
    factor = hbmmm_spec(sales ~ tv + search + price + (1 + tv + price | market), data = d, media = med,
                        time = "week", factors = c(market = 1)),
    lkj_t = hbmmm_spec(sales ~ tv + search + price + (1 + tv + price | market), data = d, media = med,
                       time = "week", prior = hbmmm_prior(cor = lkj(2), sd = half_student_t(3, 100))),
    lkj_n = hbmmm_spec(sales ~ tv + search + price + (1 + tv | market), data = d, media = med,
                       time = "week", prior = hbmmm_prior(cor = lkj(0.7), sd = half_normal(50))),
    lkj_e = hbmmm_spec(sales ~ tv + search + price + (1 + tv + search | market), data = d, media = med,
                       time = "week", prior = hbmmm_prior(sd = exponential(0.01)))
  )
  for (nm in names(specs)) {
    # all, none, or (not a factor term) the leading columns only
    q <- ncol(specs[[nm]]$ranef[[1]]$Z$static)
    cents <- c(list(FALSE, TRUE), if (nm != "factor") as.list(seq_len(q - 1L)))
    for (centered in cents) {
      for (seed in 1:2) {
        err <- grad_error(specs[[nm]], centered, seed)
        expect_lt(err, 1e-6, label = sprintf("%s (centered = %s, seed %d): %.1e", nm, centered, seed, err))
      }
    }
  }
})

test_that("a partly centred term has the density of the non-centred one, with the Jacobian of u_C = L_CC z_C", {
  ns <- asNamespace("hbmmm")
  # no translation pair on the intercept (no fixed intercept): the centred
  # intercept column holds u itself
  spec <- hbmmm_spec(sales ~ 0 + tv + search + price + (1 + tv + price | market), data = mmm_weekly,
                     media = c("tv", "search"), time = "week", prior = hbmmm_prior(cov = inv_wishart(5, 1)))
  d0 <- mmm_density(spec, FALSE)
  d1 <- mmm_density(spec, 1L)
  d2 <- mmm_density(spec, 2L)
  G <- length(spec$ranef$market$levels)
  th <- d0$start(4)
  r0 <- d0$eval(th)
  dr <- stats::setNames(r0$draw, ns$draw_names(spec))
  u <- sapply(c("Intercept", "tv", "price"), function(j) dr[sprintf("r_market[%s,%s]", spec$ranef$market$levels, j)])
  # the effects block is the one whose values are the z's: find it by the
  # non-centred u = L z of the first column, u_g1 = sd_1 z_g1
  z1 <- u[, 1] / dr[["sd_market__Intercept"]]
  pos <- which(abs(th - z1[1]) < 1e-12)
  pos <- pos[vapply(pos, function(p) isTRUE(all.equal(th[p + 3L * (seq_len(G) - 1L)], unname(z1), tolerance = 1e-10)), TRUE)]
  expect_length(pos, 1L)
  idx <- function(j) pos + (j - 1L) + 3L * (seq_len(G) - 1L)
  S <- matrix(0, 3, 3) # Sigma from the draw, for L
  sds <- dr[sprintf("sd_market__%s", c("Intercept", "tv", "price"))]
  cors <- diag(3)
  cors[1, 2] <- cors[2, 1] <- dr[["cor_market__Intercept__tv"]]
  cors[1, 3] <- cors[3, 1] <- dr[["cor_market__Intercept__price"]]
  cors[2, 3] <- cors[3, 2] <- dr[["cor_market__tv__price"]]
  L <- t(chol(diag(sds) %*% cors %*% diag(sds)))
  for (nc in 1:2) {
    th1 <- th
    # a centred column paired with a fixed one holds the level's whole
    # coefficient (hierarchical centring): tv's is b_tv + u
    for (j in seq_len(nc)) th1[idx(j)] <- u[, j] + if (j == 2L) dr[["b_tv"]] else 0
    r1 <- (if (nc == 1L) d1 else d2)$eval(th1)
    expect_equal(r1$lp, r0$lp - G * sum(log(diag(L))[seq_len(nc)]), tolerance = 1e-8, info = nc)
    expect_equal(r1$draw, r0$draw, tolerance = 1e-8)
  }
})

test_that("gradients are exact for every transform, horseshoe, per-group sigma, weights and fixed designs", {
  set.seed(3)
  sim <- simulate_mmm(n_weeks = 60, n_markets = 3, seed = 3)
  d <- sim$data
  med <- c("tv", "search", "social")
  f <- stats::as.formula(paste("sales ~", paste(med, collapse = " + "), "+ (1 | market)"))
  w <- stats::runif(nrow(d), 0.5, 2)
  specs <- list(
    geo_finite = hbmmm_spec(f, data = d, media = med, time = "week", adstock_control = list(max_lag = 6)),
    delayed = hbmmm_spec(f, data = d, media = med, time = "week", adstock = "delayed"),
    weibull_cdf = hbmmm_spec(f, data = d, media = med, time = "week", adstock = "weibull_cdf"),
    weibull_pdf = hbmmm_spec(f, data = d, media = med, time = "week", adstock = "weibull_pdf"),
    logistic = hbmmm_spec(f, data = d, media = med, time = "week", saturation = "logistic"),
    mm = hbmmm_spec(f, data = d, media = med, time = "week", saturation = "michaelis_menten"),
    no_sat = hbmmm_spec(f, data = d, media = med, time = "week", saturation = "none"),
    horseshoe = hbmmm_spec(f, data = d, media = med, time = "week", horseshoe = TRUE),
    reg_horseshoe = hbmmm_spec(f, data = d, media = med, time = "week", horseshoe = TRUE,
                               prior = hbmmm_prior(horseshoe = horseshoe(df = 3, scale_global = 50,
                                                                          scale_slab = 2, df_slab = 4))),
    sigma_by_weights = hbmmm_spec(f, data = d, media = med, time = "week", sigma_by = "market", weights = w),
    fixed_design = hbmmm_spec(f, data = d, media = med, time = "week", sigma_by = "market",
                              fixed_transforms = stats::setNames(rep(c(0.5, 30, 1.5), length(med)),
                                                                 paste0(c("decay_", "halfsat_", "slope_"),
                                                                        rep(med, each = 3))))
  )
  for (nm in names(specs)) {
    err <- grad_error(specs[[nm]], FALSE, 1)
    expect_lt(err, 1e-6, label = sprintf("%s: %.1e", nm, err))
  }
})

test_that("the density equals a plain-R log posterior (same model and priors as Gibbs)", {
  d <- mmm_weekly
  spec <- hbmmm_spec(sales ~ tv + price + (1 + price | market), data = d, media = "tv", time = "week",
                     prior = hbmmm_prior(cov = inv_wishart(4, diag(c(100, 10)))))
  dens <- mmm_density(spec, centered = TRUE)
  pr <- spec$priors
  ref <- function(th) {
    v <- dens$eval(th)$draw
    nm <- asNamespace("hbmmm")$draw_names(spec)
    names(v) <- nm
    b <- v[c("b_Intercept", "b_tv", "b_price")]
    sd <- v[c("sd_market__Intercept", "sd_market__price")]
    rho <- v[["cor_market__Intercept__price"]]
    Sigma <- diag(sd) %*% matrix(c(1, rho, rho, 1), 2) %*% diag(sd)
    sigma <- v[["sigma"]]
    decay <- v[["decay_tv"]]; halfsat <- v[["halfsat_tv"]]; slope <- v[["slope_tv"]]
    t <- spec$ranef$market
    G <- length(t$levels)
    u <- cbind(v[sprintf("r_market[%s,Intercept]", t$levels)], v[sprintf("r_market[%s,price]", t$levels)])
    m <- saturation_hill(adstock_geometric(spec$media_data[, "tv"], decay, normalize = spec$transforms$normalize[["tv"]],
                                           group = spec$panel_codes), halfsat, slope)
    X <- spec$X$static
    X[, !is.na(spec$X$channel)] <- X[, !is.na(spec$X$channel)] * m
    Z <- t$Z$static
    mu <- drop(X %*% b) + rowSums(Z * u[t$codes, ])
    ll <- sum(stats::dnorm(spec$y, mu, sigma, log = TRUE))
    # tv's default prior is half-normal, sampled as log b (Jacobian b)
    lb <- sum(vapply(seq_along(b), function(j) {
      d <- pr$b[[j]]
      if (d$family == "half_normal") return(stats::dnorm(b[j], 0, d$par[["sd"]], log = TRUE) + log(b[j]))
      stats::dnorm(b[j], d$par[["mean"]], d$par[["sd"]], log = TRUE)
    }, 0))
    Si <- solve(Sigma)
    lu <- sum(apply(u, 1, function(x) -0.5 * drop(t(x) %*% Si %*% x))) - 0.5 * G * log(det(Sigma))
    S <- pr$cov$market$S; df <- pr$cov$market$dist$par[["df"]]
    liw <- -0.5 * (df + 3) * log(det(Sigma)) - 0.5 * sum(diag(S %*% Si))
    L <- t(chol(Sigma))
    jac_sigma <- 2 * log(2) + 2 * log(L[1, 1]) + 1 * log(L[2, 2]) + sum(log(diag(L))) # Sigma = L L', log-diagonal
    ig <- asNamespace("hbmmm")$ig_params(pr$sigma)
    lsig <- -(ig[1] + 1) * log(sigma^2) - ig[2] / sigma^2 + log(2 * sigma^2)
    tp <- spec$transforms$priors
    ltr <- stats::dbeta(decay, tp$decay_tv$par[1], tp$decay_tv$par[2], log = TRUE) + log(decay * (1 - decay)) +
      stats::dlnorm(halfsat, tp$halfsat_tv$par[1], tp$halfsat_tv$par[2], log = TRUE) + log(halfsat) +
      stats::dlnorm(slope, tp$slope_tv$par[1], tp$slope_tv$par[2], log = TRUE)
    # theta holds (slope (log ref - log halfsat), log slope): Jacobian halfsat
    ll + lb + lu + liw + jac_sigma + lsig + ltr
  }
  th1 <- dens$start(1)
  th2 <- dens$start(2)
  expect_equal(dens$eval(th1)$lp - dens$eval(th2)$lp, unname(ref(th1) - ref(th2)), tolerance = 1e-8)
})

test_that("NUTS and Gibbs agree on a simulated MMM with estimated adstock and Hill parameters", {
  sim <- simulate_mmm(n_weeks = 104, n_markets = 4, seed = 11)
  f <- sales ~ tv + search + price + (1 | market)
  fn <- quiet_sampling(hbmmm(f, data = sim$data, media = c("tv", "search"), time = "week", sampler = "nuts",
                              chains = 2, iter = 1000, seed = 1, refresh = 0))
  fg <- quiet_sampling(hbmmm(f, data = sim$data, media = c("tv", "search"), time = "week",
                              chains = 2, iter = 6000, seed = 1, refresh = 0))
  # positive media coefficients (log scale): over seeds 1-8, one divergent
  # transition in 8,000 (seed 1), none at max tree depth; the signed model
  # had none but hit tree depth 10 in most chains
  expect_lte(sum(fn$sampler_diagnostics$divergent), 1)
  expect_lt(max(fn$sampler_diagnostics$treedepth), 10)
  expect_samplers_agree(fn, fg, c("b_Intercept", "b_tv", "b_search", "b_price", "sd_market__Intercept",
                                  "sigma", "decay_tv", "slope_tv", "decay_search", "halfsat_search", "slope_search"))
})

test_that("NUTS and Gibbs agree on cheese with every coefficient varying by retailer", {
  skip_if_not_installed("bayesm")
  data("cheese", package = "bayesm", envir = environment())
  cheese$lvol <- log(cheese$VOLUME)
  cheese$lprice <- log(cheese$PRICE)
  f <- lvol ~ DISP + lprice + (1 + DISP + lprice | RETAILER)
  fn <- quiet_sampling(hbmmm(f, data = cheese, sampler = "nuts", chains = 2, iter = 1000, seed = 2, refresh = 0))
  fg <- quiet_sampling(hbmmm(f, data = cheese, chains = 2, iter = 6000, seed = 2, refresh = 0))
  expect_lt(mean(fn$sampler_diagnostics$divergent), 0.01)
  expect_samplers_agree(fn, fg, c("b_Intercept", "b_DISP", "b_lprice", "sd_RETAILER__Intercept",
                                  "sd_RETAILER__DISP", "sd_RETAILER__lprice", "sigma"))
})

test_that("the NUTS MMM entry points reject bad input with classed errors", {
  ns <- asNamespace("hbmmm")
  spec <- hbmmm_spec(sales ~ tv + price + (1 | market), data = mmm_weekly, media = "tv", time = "week")
  model <- ns$mmm_model_list(spec)
  opts <- ns$nuts_model_options(spec)
  info <- .Call(ns$C_hb_mmm_info, model, opts)
  ctl <- list(iter = 10L, warmup = 5L)
  garbage <- list(NULL, 1, "a", list(), list(a = 1), function(x) x, NA)
  for (x in garbage) {
    expect_error(.Call(ns$C_hb_mmm_info, x, opts), class = "hbmmm_input_error")
    expect_error(.Call(ns$C_hb_mmm_info, model, x), class = "hbmmm_input_error")
    expect_error(.Call(ns$C_hb_mmm_logp, model, opts, x), class = "hbmmm_input_error")
    expect_error(.Call(ns$C_hb_nuts_mmm, model, opts, x, ctl), class = "hbmmm_input_error")
    expect_error(.Call(ns$C_hb_nuts_mmm, model, opts, info$init, x), class = "hbmmm_input_error")
  }
  bad_opts <- list(centered = 2L, lkj_eta = -1, sd_code = 99L, hs = c(1, 1))
  for (k in names(bad_opts)) {
    o <- opts
    o[[k]] <- bad_opts[[k]]
    expect_error(.Call(ns$C_hb_mmm_info, model, o), class = "hbmmm_input_error")
  }
  expect_error(.Call(ns$C_hb_nuts_mmm, model, opts, rep(NaN, info$dim), ctl), class = "hbmmm_input_error")
  expect_error(.Call(ns$C_hb_mmm_logp, model, opts, info$init[-1]), class = "hbmmm_input_error")
  expect_error(hbmmm(sales ~ tv + price + (1 | market), data = mmm_weekly, media = "tv", time = "week",
                     sampler = "nuts", control = list(adapt_delta = 2)), class = "hbmmm_input_error")
  expect_error(hbmmm(sales ~ tv + price + (1 | market), data = mmm_weekly, media = "tv", time = "week",
                     sampler = "nuts", control = list(foo = 1)), class = "hbmmm_input_error")
  expect_error(hbmmm(sales ~ tv + price + (1 | market), data = mmm_weekly, media = "tv", time = "week",
                     control = list(adapt_delta = 0.9)), class = "hbmmm_input_error")
  expect_error(hbmmm(sales ~ tv + price + (1 + price | market), data = mmm_weekly, media = "tv", time = "week",
                     prior = hbmmm_prior(cor = lkj(2))), class = "hbmmm_input_error")
})

test_that("NUTS fits of the MMM are reproducible, serial or parallel, and continue with resume_nuts()", {
  args <- list(sales ~ tv + price + (1 + price | market), data = mmm_weekly, media = "tv", time = "week",
               sampler = "nuts", chains = 2, iter = 120, seed = 9, refresh = 0)
  a <- quiet_sampling(do.call(hbmmm, c(args, cores = 1)))
  b <- quiet_sampling(do.call(hbmmm, c(args, cores = 2)))
  expect_identical(a$draws, b$draws)
  expect_identical(a$sampler_diagnostics, b$sampler_diagnostics)
  expect_setequal(names(a$sampler_diagnostics),
                  c("divergent", "treedepth", "n_leapfrog", "stepsize", "energy", "accept_stat"))
  g <- quiet_sampling(do.call(hbmmm, c(args[names(args) != "sampler"], cores = 1)))
  expect_identical(dimnames(a$draws)[[3]], dimnames(g$draws)[[3]])
  r <- resume_nuts(a, iter = 40, seed = 3)
  expect_equal(dim(r$draws)[1], dim(a$draws)[1] + 40)
  expect_identical(r$draws[seq_len(dim(a$draws)[1]), , ], a$draws)
  # the continued draws use the adapted step size: no warmup
  expect_true(all(r$sampler_diagnostics$stepsize[-seq_len(60), 1] == a$state[[1]]$stepsize))
})

test_that("a long NUTS run can be interrupted, and reports progress with time left", {
  setTimeLimit(elapsed = 1, transient = TRUE)
  on.exit(setTimeLimit(elapsed = Inf))
  t0 <- proc.time()[["elapsed"]]
  expect_error(hbmmm(sales ~ tv + price + (1 | market), data = mmm_weekly, media = "tv", time = "week",
                     sampler = "nuts", chains = 1, iter = 1e6, seed = 1, refresh = 0), "time limit")
  setTimeLimit(elapsed = Inf)
  expect_lt(proc.time()[["elapsed"]] - t0, 5)
  msgs <- character(0)
  withCallingHandlers(
    quiet_sampling(hbmmm(sales ~ tv + price + (1 | market), data = mmm_weekly, media = "tv", time = "week",
                         sampler = "nuts", chains = 1, iter = 40, seed = 1, refresh = 20)),
    message = function(m) {
      msgs <<- c(msgs, conditionMessage(m))
      invokeRestart("muffleMessage")
    })
  expect_true(any(grepl("Chain 1: +20 / 40 .*warmup.*left", msgs)))
  expect_true(any(grepl("Chain 1: +40 / 40 .*sampling", msgs)))
})

test_that("online summaries of NUTS fits describe the same draws as the kept ones", {
  d <- simulate_mmm(n_markets = 6, n_weeks = 30, channels = "tv", seed = 4)$data
  args <- list(formula = sales ~ tv + (1 + tv | market), data = d, media = "tv", time = "week",
               sampler = "nuts", chains = 2, iter = 1300, warmup = 300, seed = 2, refresh = 0)
  full <- quiet_sampling(do.call(hbmmm, args))
  online <- quiet_sampling(do.call(hbmmm, c(args, list(keep_ranef = 4, keep_levels = list(market = c("M02", "M05"))))))
  # what is stored does not change the sampler's path
  expect_identical(full$draws[, , "b_tv"], online$draws[, , "b_tv"])
  rs <- online$ranef_summary$market
  expect_identical(nrow(rs), 12L)
  expect_true("r_market[M05,tv]" %in% dimnames(online$draws)[[3]])
  expect_false(any(grepl("^r_market\\[M01,", dimnames(online$draws)[[3]])))
  # P-square quantiles per chain, averaged over chains
  errs <- expect_online_summary(full, rs, "market")
  expect_lt(median(abs(errs)), 0.15)
  # continuation pools the online summaries of both runs (the same path as
  # the fit that keeps every draw)
  full2 <- quiet_sampling(update(full, continue = TRUE, iter = 400, seed = 9))
  online2 <- quiet_sampling(update(online, continue = TRUE, iter = 400, seed = 9))
  expect_identical(full2$draws[, , "b_tv"], online2$draws[, , "b_tv"])
  expect_identical(dim(online2$draws)[1], 1400L)
  errs2 <- expect_online_summary(full2, online2$ranef_summary$market, "market")
  expect_lt(median(abs(errs2)), 0.15)
})

test_that("warmup starts from the density's own scales unless a metric is given", {
  ns <- asNamespace("hbmmm")
  expect_equal(ns$initial_inv_metric(c(2, 0.5), FALSE), c(1, 0.0625))
  expect_equal(ns$initial_inv_metric(c(2, 0.5), TRUE), diag(c(1, 0.0625)))
  # the chain function hands those scales to the engine; a fit keeps the
  # adapted metric, which differs from them after warmup
  spec <- small_spec()
  cf <- ns$mmm_chain_fun(spec, FALSE)
  info <- environment(cf)$info
  ctl <- ns$nuts_control_list(list(iter = 30L, warmup = 20L, thin = 1L, refresh = 0L),
                              ns$check_nuts_control(), 1L)
  set.seed(1)
  r <- cf(1L, ctl)
  expect_length(r$inv_metric, info$dim)
  expect_true(all(r$inv_metric > 0))
  ctl$warmup <- 0L
  set.seed(1)
  r0 <- cf(1L, ctl)
  expect_equal(r0$inv_metric, ns$initial_inv_metric(info$spread, FALSE))
})

test_that("the density of unbalanced panels, more than are adstocked in lockstep, equals a plain-R log posterior", {
  # 15 series of 14 to 90 weeks: the geometric adstock advances eight panels
  # at a time over their common length, then finishes each on its own
  d <- mmm_weekly
  cut <- c(M01 = 14, M02 = 30, M03 = 45, M04 = 52, M05 = 60, M06 = 75, M07 = 90, M08 = 200)
  d$series <- paste(d$market, d$week > cut[as.character(d$market)])
  spec <- hbmmm_spec(sales ~ tv, data = d, media = "tv", time = "week", panel = "series")
  expect_equal(max(spec$panel_codes), 15L)
  dens <- mmm_density(spec)
  nm <- asNamespace("hbmmm")$draw_names(spec)
  pr <- spec$priors
  tp <- spec$transforms$priors
  ref <- function(th) {
    v <- stats::setNames(dens$eval(th)$draw, nm)
    m <- saturation_hill(adstock_geometric(spec$media_data[, "tv"], v[["decay_tv"]],
                                           normalize = spec$transforms$normalize[["tv"]], group = spec$panel_codes),
                         v[["halfsat_tv"]], v[["slope_tv"]])
    b <- v[c("b_Intercept", "b_tv")]
    ll <- sum(stats::dnorm(spec$y, b[1] + b[2] * spec$X$static[, 2] * m, v[["sigma"]], log = TRUE))
    lb <- stats::dnorm(b[1], pr$b[[1]]$par[["mean"]], pr$b[[1]]$par[["sd"]], log = TRUE) +
      stats::dnorm(b[2], 0, pr$b[[2]]$par[["sd"]], log = TRUE) + log(b[2]) # half-normal, sampled as log b
    ig <- asNamespace("hbmmm")$ig_params(pr$sigma)
    s2 <- v[["sigma"]]^2
    lsig <- -(ig[1] + 1) * log(s2) - ig[2] / s2 + log(2 * s2)
    ltr <- stats::dbeta(v[["decay_tv"]], tp$decay_tv$par[1], tp$decay_tv$par[2], log = TRUE) +
      log(v[["decay_tv"]] * (1 - v[["decay_tv"]])) +
      stats::dlnorm(v[["halfsat_tv"]], tp$halfsat_tv$par[1], tp$halfsat_tv$par[2], log = TRUE) + log(v[["halfsat_tv"]]) +
      stats::dlnorm(v[["slope_tv"]], tp$slope_tv$par[1], tp$slope_tv$par[2], log = TRUE)
    # theta holds (slope (log ref - log halfsat), log slope): Jacobian halfsat
    ll + lb + lsig + ltr
  }
  th1 <- dens$start(1)
  th2 <- dens$start(2)
  expect_equal(dens$eval(th1)$lp - dens$eval(th2)$lp, unname(ref(th1) - ref(th2)), tolerance = 1e-8)
  expect_lt(grad_error(spec, seed = 3), 1e-6)
})

test_that("group-level terms with levels in long runs and with alternating levels give the plain-R density", {
  # market: 104-row runs (one kernel call per run); parity: levels alternate
  # row by row (the row-by-row loop); sigma by market: runs of residual groups
  d <- mmm_weekly
  d$parity <- factor(d$week %% 2)
  spec <- hbmmm_spec(sales ~ price + (1 | market) + (1 | parity), data = d, time = "week", panel = "market",
                     sigma_by = "market", prior = hbmmm_prior(cov = inv_gamma(2, 100)))
  dens <- mmm_density(spec, centered = TRUE)
  nm <- asNamespace("hbmmm")$draw_names(spec)
  pr <- spec$priors
  ig <- asNamespace("hbmmm")$ig_params(pr$sigma)
  ref <- function(th) {
    v <- stats::setNames(dens$eval(th)$draw, nm)
    b <- v[c("b_Intercept", "b_price")]
    mu <- drop(spec$X$static %*% b)
    lu <- 0
    for (term in c("market", "parity")) {
      t <- spec$ranef[[term]]
      u <- v[sprintf("r_%s[%s,Intercept]", term, t$levels)]
      mu <- mu + u[t$codes]
      lu <- lu + sum(stats::dnorm(u, 0, v[[sprintf("sd_%s__Intercept", term)]], log = TRUE))
    }
    sig <- v[sprintf("sigma[%s]", spec$sigma_group$levels)]
    s2 <- sig^2
    ll <- sum(stats::dnorm(spec$y, mu, sig[spec$sigma_group$codes], log = TRUE))
    lb <- sum(vapply(1:2, function(j) stats::dnorm(b[j], pr$b[[j]]$par[["mean"]], pr$b[[j]]$par[["sd"]], log = TRUE), 0))
    ll + lb + lu + sum(-(ig[1] + 1) * log(s2) - ig[2] / s2 + log(2 * s2))
  }
  # two points with the same covariance parameters (whose priors cancel):
  # theta is (alpha, b_price), then per term log sd and the effects
  G <- c(length(spec$ranef$market$levels), length(spec$ranef$parity$levels))
  cov_idx <- c(3L, 3L + 1L + G[1])
  th1 <- dens$start(1)
  th2 <- dens$start(2)
  th2[cov_idx] <- th1[cov_idx]
  sds <- function(th) stats::setNames(dens$eval(th)$draw, nm)[c("sd_market__Intercept", "sd_parity__Intercept")]
  expect_equal(sds(th1), sds(th2))
  expect_false(isTRUE(all.equal(th1[-cov_idx], th2[-cov_idx])))
  expect_equal(dens$eval(th1)$lp - dens$eval(th2)$lp, unname(ref(th1) - ref(th2)), tolerance = 1e-8)
  expect_lt(grad_error(spec, centered = TRUE, seed = 3), 1e-6)
})
