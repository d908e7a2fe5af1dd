# The mixture of Hill curves in the NUTS density: gradients through the
# mixture and the stick-breaking transform against finite differences, one
# component against the single Hill curve, the draws' layout, and bad input.

mixture_data <- function(n = 60, seed = 1) {
  set.seed(seed)
  d <- data.frame(week = seq_len(n), tv = rexp(n) * rbinom(n, 1, 0.7) * 10, search = runif(n, 0, 5),
                  price = rnorm(n))
  a <- adstock_geometric(d$tv, 0.4, normalize = TRUE)
  d$sales <- 5 + 3 * saturation_hill_mixture(a, c(1, 8), c(2, 3), c(0.4, 0.6)) + 0.5 * d$search +
    0.3 * d$price + rnorm(n, 0, 0.3)
  d
}

test_that("gradients through the mixture and its weights (Dirichlet, stick-breaking) equal finite differences", {
  d <- mixture_data()
  sat <- c(tv = "hill_mixture", search = "hill")
  specs <- list(
    k3 = hbmmm_spec(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                    saturation = sat, saturation_control = list(components = 3)),
    k3_stick = hbmmm_spec(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                          saturation = sat, saturation_control = list(components = 3, weights = "stick_breaking")),
    k1 = hbmmm_spec(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                    saturation = sat, saturation_control = list(components = 1)),
    # Dirichlet weights on one channel, stick-breaking on the other, and a
    # concentration above 1
    mixed_weights = hbmmm_spec(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                               saturation = "hill_mixture",
                               saturation_control = list(components = c(tv = 4, search = 3),
                                                         weights = c(tv = "dirichlet", search = "stick_breaking"),
                                                         concentration = c(tv = 2.5))),
    both_k5_k2 = hbmmm_spec(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                            saturation = "hill_mixture", adstock = c(tv = "weibull_pdf", search = "geometric"),
                            saturation_control = list(components = c(tv = 5, search = 2), weights = "stick_breaking"),
                            prior = hbmmm_prior(alpha = list(tv = lognormal(0, 1), .default = exponential(2)),
                                                slope = gamma_dist(3, 2))),
    roi = hbmmm_spec(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                     saturation = sat, saturation_control = list(components = 4, weights = "stick_breaking"),
                     prior = hbmmm_prior(roi = list(tv = lognormal(0, 0.5))))
  )
  # a gamma prior with rate != 1 on a Hill channel too (its derivative used
  # the scale where the density has the rate)
  specs$hill_gamma <- hbmmm_spec(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                                 prior = hbmmm_prior(slope = gamma_dist(3, 2)))
  for (nm in names(specs)) {
    for (seed in 1:2) {
      err <- grad_error(specs[[nm]], FALSE, seed)
      expect_lt(err, 1e-6, label = sprintf("%s (seed %d): %.1e", nm, seed, err))
    }
  }
  # group-level effects on the mixture channel, centred and not
  sp <- hbmmm_spec(sales ~ tv + search + (1 + tv | market), mmm_weekly[mmm_weekly$market %in% c("M01", "M02", "M03"), ],
                   media = c("tv", "search"), time = "week", saturation = c(tv = "hill_mixture", search = "hill"),
                   saturation_control = list(components = 3))
  for (centered in c(FALSE, TRUE)) {
    err <- grad_error(sp, centered, 1)
    expect_lt(err, 1e-6, label = sprintf("ranef (centered = %s): %.1e", centered, err))
  }
})

test_that("components = 1 is the single-Hill model: same log density and gradient at the same parameters", {
  d <- mixture_data()
  args <- list(sales ~ tv + search + price + price:tv, d, media = c("tv", "search"), time = "week")
  s1 <- do.call(hbmmm_spec, c(args, list(saturation = c(tv = "hill_mixture", search = "hill"),
                                         saturation_control = list(components = 1))))
  s0 <- do.call(hbmmm_spec, args)
  d0 <- mmm_density(s0)
  d1 <- mmm_density(s1)
  expect_equal(d1$info$dim, d0$info$dim)
  # both at the working coordinates (psi = slope (log ref - log halfsat), log slope)
  expect_equal(d1$info$init, d0$info$init)
  for (seed in 1:3) {
    th <- d0$start(seed)
    r0 <- d0$eval(th)
    r1 <- d1$eval(th)
    expect_equal(r1$lp, r0$lp, tolerance = 1e-12)
    expect_equal(r1$grad, r0$grad, tolerance = 1e-10)
    # the same values, with the mixture's names (and a weight of 1)
    names0 <- asNamespace("hbmmm")$draw_names(s0)
    names1 <- asNamespace("hbmmm")$draw_names(s1)
    v1 <- stats::setNames(r1$draw, names1)
    v0 <- stats::setNames(r0$draw, names0)
    expect_equal(unname(v1[c("halfsat_tv[1]", "slope_tv[1]", "weight_tv[1]")]),
                 c(v0[["halfsat_tv"]], v0[["slope_tv"]], 1))
  }
})

test_that("the density's draw holds ordered half-saturations, stick-breaking weights and alpha", {
  d <- mixture_data()
  sp <- hbmmm_spec(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                   saturation = c(tv = "hill_mixture", search = "hill"),
                   saturation_control = list(components = 4, weights = "stick_breaking"))
  nm <- asNamespace("hbmmm")$draw_names(sp)
  expect_equal(nm[grepl("^[a-z]+_tv", nm) & !startsWith(nm, "b_")], c("decay_tv", sprintf("weight_tv[%d]", 1:4), sprintf("halfsat_tv[%d]", 1:4),
                                       sprintf("slope_tv[%d]", 1:4), "alpha_tv"))
  den <- mmm_density(sp)
  th <- den$start(5)
  v <- stats::setNames(den$eval(th)$draw, nm)
  # the block of the tv channel: after decay, 4 log halfsat (first, then
  # log increments), 4 log slopes, 3 logit sticks, log alpha
  o <- length(th) - 3L - 12L # search's decay, halfsat and slope come last
  u <- th[o + seq_len(12)]
  h <- exp(cumsum(c(u[1], exp(u[2:4]))))
  # non-centred sticks: v = 1 - (1 - plogis(u))^(1 / alpha), Beta(1, alpha)
  vs <- 1 - (1 - stats::plogis(u[9:11]))^(1 / exp(u[12]))
  w <- c(vs, 1) * cumprod(c(1, 1 - vs))
  expect_equal(unname(v[sprintf("halfsat_tv[%d]", 1:4)]), h)
  expect_equal(unname(v[sprintf("slope_tv[%d]", 1:4)]), exp(u[5:8]))
  expect_equal(unname(v[sprintf("weight_tv[%d]", 1:4)]), w)
  expect_equal(unname(v[["alpha_tv"]]), exp(u[12]))
})

test_that("the log density of the mixture block matches a plain-R computation", {
  d <- mixture_data()
  sp <- hbmmm_spec(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                   saturation = c(tv = "hill_mixture", search = "hill"),
                   saturation_control = list(components = 3, weights = "stick_breaking"),
                   prior = hbmmm_prior(alpha = gamma_dist(2, 3)))
  den <- mmm_density(sp)
  th <- den$start(2)
  o <- length(th) - 3L - 9L
  lp_at <- function(u) {
    x <- th
    x[o + seq_len(9)] <- u
    den$eval(x)$lp
  }
  u0 <- th[o + seq_len(9)]
  # the likelihood depends on (h, s, w) only: move the prior's parts and
  # compare differences with the prior computed here
  tr <- sp$transforms
  ph <- tr$mixture$tv$priors$halfsat$par
  ps <- tr$mixture$tv$priors$slope$par
  # the prior of the block: ordered i.i.d. half-saturations, slopes, the
  # sticks' standard logistic (v = 1 - (1 - plogis(u))^(1 / alpha) is then
  # Beta(1, alpha)) and alpha, with the Jacobians of the log links
  block <- function(u) {
    lh <- cumsum(c(u[1], exp(u[2:3])))
    a <- exp(u[9])
    sum(stats::dlnorm(exp(lh), ph[["meanlog"]], ph[["sdlog"]], log = TRUE) + lh) + sum(u[2:3]) +
      sum(stats::dlnorm(exp(u[4:6]), ps[["meanlog"]], ps[["sdlog"]], log = TRUE) + u[4:6]) +
      sum(stats::dlogis(u[7:8], log = TRUE)) + stats::dgamma(a, 2, 3, log = TRUE) + u[9]
  }
  weights <- function(u) {
    v <- 1 - (1 - stats::plogis(u[7:8]))^(1 / exp(u[9]))
    c(v, 1) * cumprod(c(1, 1 - v))
  }
  # moves that leave (h, s, w) alone change only the prior: the sticks
  # and alpha together, keeping every v
  u1 <- u0
  u1[9] <- u0[9] + 0.7
  p1 <- 1 - (1 - (1 - (1 - stats::plogis(u0[7:8]))^(1 / exp(u0[9]))))^exp(u1[9])
  u1[7:8] <- stats::qlogis(p1)
  expect_equal(weights(u1), weights(u0), tolerance = 1e-12)
  expect_equal(lp_at(u1) - lp_at(u0), block(u1) - block(u0), tolerance = 1e-9)
  # and a stick's v ~ Beta(1, alpha): its quantiles from the logistic
  set.seed(1)
  v <- 1 - (1 - stats::plogis(stats::rlogis(2e4)))^(1 / 2.5)
  expect_gt(stats::ks.test(v, stats::pbeta, 1, 2.5)$p.value, 0.001)
})

test_that("Dirichlet weights: the draw is the softmax of log-gamma variables, with their density and no alpha", {
  d <- mixture_data()
  sp <- hbmmm_spec(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                   saturation = c(tv = "hill_mixture", search = "hill"),
                   saturation_control = list(components = 4, concentration = 0.3))
  nm <- asNamespace("hbmmm")$draw_names(sp)
  expect_equal(nm[grepl("^[a-z]+_tv", nm) & !startsWith(nm, "b_")],
               c("decay_tv", sprintf("weight_tv[%d]", 1:4), sprintf("halfsat_tv[%d]", 1:4), sprintf("slope_tv[%d]", 1:4)))
  den <- mmm_density(sp)
  th <- den$start(3)
  off <- length(th) - 3L - 12L # search's decay, halfsat and slope come last
  u0 <- th[off + seq_len(12)]
  v <- stats::setNames(den$eval(th)$draw, nm)
  # sampled unordered (4 psi_k = slope_k (log ref - log halfsat_k), 4 log
  # slopes, 4 log-gamma), stored sorted by half-saturation
  x <- sp$media_data[, "tv"]
  lh <- log(mean(x[x > 0])) - u0[1:4] * exp(-u0[5:8])
  o <- order(lh)
  expect_equal(unname(v[sprintf("halfsat_tv[%d]", 1:4)]), exp(lh)[o])
  expect_equal(unname(v[sprintf("slope_tv[%d]", 1:4)]), exp(u0[5:8])[o])
  expect_equal(unname(v[sprintf("weight_tv[%d]", 1:4)]), (exp(u0[9:12]) / sum(exp(u0[9:12])))[o])
  # the components permuted: the same draw and log density
  th2 <- th
  perm <- c(3, 1, 4, 2)
  th2[off + c(perm, 4 + perm, 8 + perm)] <- th[off + 1:12]
  expect_equal(den$eval(th2)$draw, den$eval(th)$draw, tolerance = 1e-14)
  expect_equal(den$eval(th2)$lp, den$eval(th)$lp, tolerance = 1e-12)
  # the weights' variables x = log g, g ~ Gamma(e0, 1): moving them all by
  # the same amount leaves the weights and the likelihood alone, so the
  # change of the log density is that of the log-gamma densities
  lp_at <- function(x) {
    th[off + 9:12] <- x
    den$eval(th)$lp
  }
  lg <- function(x) sum(stats::dgamma(exp(x), 0.3, 1, log = TRUE) + x)
  for (shift in c(-2, 0.5, 3)) {
    x1 <- u0[9:12] + shift
    expect_equal(lp_at(x1) - lp_at(u0[9:12]), lg(x1) - lg(u0[9:12]), tolerance = 1e-9)
  }
  # the normalized Gamma(e0) variables are Dirichlet(e0): a weight's
  # margin is Beta(e0, (K - 1) e0)
  set.seed(4)
  g <- matrix(stats::rgamma(4 * 2e4, 0.3), ncol = 4)
  expect_gt(stats::ks.test(g[, 1] / rowSums(g), stats::pbeta, 0.3, 0.9)$p.value, 0.001)
  # the default concentration is 0.25 whatever K, shown by print()
  for (K in c(2, 5, 12)) {
    spK <- hbmmm_spec(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                      saturation = c(tv = "hill_mixture", search = "hill"), saturation_control = list(components = K))
    expect_equal(spK$transforms$mixture$tv$e0, 0.25)
    expect_output(print(spK), sprintf("Dirichlet\\(0.25\\) on the %d weights", K))
  }
})

test_that("bad mixture input raises classed errors naming the argument", {
  d <- mixture_data()
  spec <- function(...) hbmmm_spec(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week", ...)
  mix <- c(tv = "hill_mixture", search = "hill")
  for (bad in list(0, 2.5, -1, "3", NA, 21, c(2, 3))) {
    expect_error(spec(saturation = mix, saturation_control = list(components = bad)),
                 class = "hbmmm_input_error", regexp = "saturation_control")
  }
  expect_error(spec(saturation = mix, saturation_control = list(n = 3)), class = "hbmmm_input_error",
               regexp = "saturation_control")
  for (bad in list("dp", NA_character_, 1, c("dirichlet", "dirichlet"), c(radio = "dirichlet"))) {
    expect_error(spec(saturation = mix, saturation_control = list(weights = bad)), class = "hbmmm_input_error",
                 regexp = "saturation_control.*weights")
  }
  for (bad in list(0, -1, Inf, NA_real_, "1", c(search = 1))) {
    expect_error(spec(saturation = mix, saturation_control = list(concentration = bad)), class = "hbmmm_input_error",
                 regexp = "saturation_control.*concentration")
  }
  # a concentration for stick-breaking weights, an alpha prior for Dirichlet ones
  expect_error(spec(saturation = mix, saturation_control = list(weights = "stick_breaking", concentration = 1)),
               class = "hbmmm_input_error", regexp = "stick_breaking")
  expect_error(spec(saturation = mix, prior = hbmmm_prior(alpha = gamma_dist(2, 2))),
               class = "hbmmm_input_error", regexp = "alpha.*stick_breaking")
  # a mixture on a channel without an estimated mixture saturation
  expect_error(spec(saturation = mix, saturation_control = list(components = c(search = 3))),
               class = "hbmmm_input_error", regexp = "search.*hill_mixture")
  expect_error(spec(saturation = c(tv = "none", search = "hill"), saturation_control = list(components = 3)),
               class = "hbmmm_input_error", regexp = "no channel")
  expect_error(spec(saturation = mix, fixed_transforms = c(`halfsat_tv[1]` = 2)),
               class = "hbmmm_input_error", regexp = "always estimated")
  # priors of the wrong family for the weights and their concentration
  expect_error(hbmmm_prior(weight = beta_dist(1, 2)), class = "hbmmm_input_error", regexp = "stick-breaking")
  expect_error(hbmmm_prior(alpha = normal(1, 1)), class = "hbmmm_input_error", regexp = "alpha")
  expect_error(spec(prior = hbmmm_prior(alpha = gamma_dist(1, 1))), class = "hbmmm_input_error",
               regexp = "alpha")
  # Gibbs cannot carry the mixture: a classed error that says to use NUTS
  expect_error(hbmmm(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                     saturation = mix, chains = 1, iter = 20, refresh = 0),
               class = "hbmmm_input_error", regexp = "nuts")
})

test_that("a NUTS fit keeps the components ordered in every draw", {
  d <- mixture_data()
  fit <- suppressWarnings(hbmmm(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                                saturation = c(tv = "hill_mixture", search = "hill"),
                                saturation_control = list(components = 3), sampler = "nuts",
                                chains = 2, iter = 300, refresh = 0, seed = 2))
  m <- as.matrix(fit)
  h <- m[, sprintf("halfsat_tv[%d]", 1:3)]
  expect_true(all(h[, 2] > h[, 1] & h[, 3] > h[, 2]))
  expect_equal(rowSums(m[, sprintf("weight_tv[%d]", 1:3)]), rep(1, nrow(m)), tolerance = 1e-12)
  expect_false("alpha_tv" %in% colnames(m)) # Dirichlet weights (the default) have a fixed concentration
  # a mixture's default target acceptance is 0.95; the user's is kept, and a
  # model without a mixture (or with one component) keeps 0.8
  expect_equal(fit$control$adapt_delta, 0.95)
  fit_own <- suppressWarnings(hbmmm(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                                    saturation = c(tv = "hill_mixture", search = "hill"),
                                    saturation_control = list(components = 3), sampler = "nuts",
                                    chains = 1, iter = 40, refresh = 0, seed = 2, control = list(adapt_delta = 0.85)))
  expect_equal(fit_own$control$adapt_delta, 0.85)
  # the fit continues; a state from before the mean-contribution coordinates
  # (no layout) is refused rather than read as log b
  more <- suppressWarnings(resume_nuts(fit_own, iter = 10, seed = 3))
  expect_equal(dim(more$draws)[1], dim(fit_own$draws)[1] + 10)
  old <- fit_own
  old$state <- lapply(old$state, function(s) s[names(s) != "layout"])
  expect_error(resume_nuts(old, iter = 10), class = "hbmmm_input_error", regexp = "refit")
  for (K in c(1, 3)) {
    sp <- hbmmm_spec(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                     saturation = c(tv = if (K > 1) "hill_mixture" else "hill", search = "hill"))
    expect_equal(hbmmm:::default_adapt_delta(sp), if (K > 1) 0.95 else 0.8)
  }
  sp1 <- hbmmm_spec(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                    saturation = c(tv = "hill_mixture", search = "hill"), saturation_control = list(components = 1))
  expect_equal(hbmmm:::default_adapt_delta(sp1), 0.8)
})

test_that("simulate_mmm(mixture = ) draws a channel from a mixture of Hill curves with known truth", {
  mx <- list(tv = list(halfsat = c(30, 8, 90), slope = c(2, 3, 4), weight = c(0.5, 0.2, 0.3)))
  s <- simulate_mmm(n_markets = 2, n_weeks = 40, channels = c("tv", "search"), seed = 3, mixture = mx)
  tr <- s$truth
  # sorted by half-saturation, named like the model's draws
  expect_equal(unname(tr[sprintf("halfsat_tv[%d]", 1:3)]), c(8, 30, 90))
  expect_equal(unname(tr[sprintf("slope_tv[%d]", 1:3)]), c(3, 2, 4))
  expect_equal(unname(tr[sprintf("weight_tv[%d]", 1:3)]), c(0.2, 0.5, 0.3))
  expect_false("halfsat_tv" %in% names(tr))
  expect_equal(s$transforms$saturation, c(tv = "hill_mixture", search = "hill"))
  d <- s$data
  ref <- unlist(lapply(split(d, d$market), function(dm) {
    a <- stats::filter(0.4 * dm$tv, 0.6, method = "recursive") # normalized geometric adstock
    h <- c(8, 30, 90); sl <- c(3, 2, 4); w <- c(0.2, 0.5, 0.3)
    (tr[["b_tv"]] + s$r_market[as.character(dm$market[1]), "tv"]) *
      Reduce(`+`, Map(function(hk, sk, wk) wk * a^sk / (a^sk + hk^sk), h, sl, w))
  }))
  expect_equal(unname(s$media_effect[, "tv"]), unname(ref), tolerance = 1e-10)
  expect_error(simulate_mmm(n_markets = 1, n_weeks = 10, channels = "tv",
                            mixture = list(tv = list(halfsat = 1, slope = 1, weight = 0.5))),
               class = "hbmmm_input_error", regexp = "mixture")
  expect_error(simulate_mmm(n_markets = 1, n_weeks = 10, channels = "tv",
                            mixture = list(radio = list(halfsat = 1, slope = 1, weight = 1))),
               class = "hbmmm_input_error", regexp = "mixture")
})

test_that("pooled components: gradients, the pooled prior against plain R, draws and bad input", {
  d <- mixture_data()
  d$g <- rep(c("a", "b"), length.out = nrow(d))
  spec <- function(..., formula = sales ~ tv + search + price) {
    hbmmm_spec(formula, d, media = c("tv", "search"), time = "week", ...)
  }
  specs <- list(
    one = spec(saturation = c(tv = "hill_mixture", search = "hill"), saturation_control = list(components = 3, pool = TRUE)),
    two = spec(saturation = "hill_mixture", saturation_control = list(components = c(tv = 3, search = 2), pool = TRUE)),
    two_centred = spec(saturation = "hill_mixture", formula = sales ~ tv + search + price + (1 + tv | g),
                       saturation_control = list(components = c(tv = 2, search = 4), pool = TRUE)),
    k1 = spec(saturation = c(tv = "hill_mixture", search = "hill"), saturation_control = list(components = 1, pool = TRUE)),
    roi = spec(saturation = c(tv = "hill_mixture", search = "hill"), saturation_control = list(components = 2, pool = TRUE),
               prior = hbmmm_prior(roi = list(tv = lognormal(0, 0.5))))
  )
  for (nm in names(specs)) {
    for (seed in 1:2) {
      err <- grad_error(specs[[nm]], nm == "two_centred", seed)
      expect_lt(err, 1e-6, label = sprintf("pooled %s (seed %d): %.1e", nm, seed, err))
    }
  }
  sp <- specs$one
  nm <- asNamespace("hbmmm")$draw_names(sp)
  pool_names <- c("mix_halfsat_mu", "mix_halfsat_sd", "mix_slope_mu", "mix_slope_sd")
  expect_equal(nm[match("slope_search", nm) + 1:4], pool_names)
  den <- mmm_density(sp)
  th <- den$start(3)
  r <- den$eval(th)
  v <- stats::setNames(r$draw, nm)
  pb <- length(th) - 3:0 # the pool block comes after every channel
  expect_equal(unname(v[pool_names]), c(th[pb[1]], exp(th[pb[2]]), th[pb[3]], exp(th[pb[4]])))
  # non-centred: log halfsat_k = centre + mu_h + sd_h zh_k and log slope_k =
  # mu_s + sd_s zs_k, so moving mu_h (mu_s) by a moves every log
  # half-saturation (slope) by a
  lhs <- function(v) log(unname(v[sprintf("halfsat_tv[%d]", 1:3)]))
  lss <- function(v) log(unname(v[sprintf("slope_tv[%d]", 1:3)]))
  at <- function(a, by) {
    x <- th
    x[pb[a]] <- x[pb[a]] + by
    stats::setNames(den$eval(x)$draw, nm)
  }
  expect_equal(lhs(at(1, 0.7)), lhs(v) + 0.7, tolerance = 1e-12)
  expect_equal(lss(at(1, 0.7)), lss(v), tolerance = 1e-12)
  expect_equal(lss(at(3, 0.3)), lss(v) + 0.3, tolerance = 1e-12)
  expect_equal(lhs(at(3, 0.3)), lhs(v), tolerance = 1e-12)
  # and the sds scale the deviations: (log h - centre - mu_h) / sd_h fixed
  centre <- sp$transforms$priors$halfsat_tv$par[[1]]
  v2 <- at(2, 0.4)
  expect_equal((lhs(v2) - centre - v2[["mix_halfsat_mu"]]) / v2[["mix_halfsat_sd"]],
               (lhs(v) - centre - v[["mix_halfsat_mu"]]) / v[["mix_halfsat_sd"]], tolerance = 1e-10)
  # the log density against plain R, from the prior alone: moving the pool
  # block changes its hyperpriors and, through tv's column sum, b_tv (held
  # as its mean contribution); the standardized coordinates keep their
  # N(0, 1) density
  spp <- spec(saturation = c(tv = "hill_mixture", search = "hill"), saturation_control = list(components = 3, pool = TRUE),
              prior_only = TRUE)
  denp <- mmm_density(spp)
  thp <- denp$start(5)
  bsd <- spp$priors$b$tv$par[["sd"]]
  plain <- function(x) {
    v <- stats::setNames(denp$eval(x)$draw, nm)
    b <- v[["b_tv"]]
    stats::dnorm(v[["mix_halfsat_mu"]], 0, 1, log = TRUE) +
      stats::dnorm(v[["mix_halfsat_sd"]], 0, 1, log = TRUE) + log(v[["mix_halfsat_sd"]]) +
      stats::dnorm(v[["mix_slope_mu"]], log(1.5), 0.5, log = TRUE) +
      stats::dnorm(v[["mix_slope_sd"]], 0, 0.5, log = TRUE) + log(v[["mix_slope_sd"]]) +
      stats::dnorm(b, 0, bsd, log = TRUE) + log(b)
  }
  for (k in 1:4) {
    x <- thp
    x[pb[k]] <- x[pb[k]] + c(0.5, -0.4, 0.3, 0.6)[k]
    expect_equal(denp$eval(x)$lp - denp$eval(thp)$lp, plain(x) - plain(thp), tolerance = 1e-9)
  }
  expect_output(print(sp), "components pooled")
  # bad input
  expect_error(spec(saturation = c(tv = "hill_mixture", search = "hill"), saturation_control = list(pool = NA)),
               class = "hbmmm_input_error", regexp = "pool")
  expect_error(spec(saturation = c(tv = "hill_mixture", search = "hill"), saturation_control = list(pool = "yes")),
               class = "hbmmm_input_error", regexp = "pool")
  expect_error(spec(saturation = "hill", saturation_control = list(pool = TRUE)),
               class = "hbmmm_input_error", regexp = "hill_mixture")
  expect_error(spec(saturation = c(tv = "hill_mixture", search = "hill"),
                    saturation_control = list(pool = TRUE, weights = "stick_breaking")),
               class = "hbmmm_input_error", regexp = "Dirichlet")
  expect_error(spec(saturation = c(tv = "hill_mixture", search = "hill"), saturation_control = list(pool = TRUE),
                    prior = hbmmm_prior(slope = list(tv = lognormal(0, 1)))),
               class = "hbmmm_input_error", regexp = "slope")
  expect_error(spec(saturation = c(tv = "hill_mixture", search = "hill"), saturation_control = list(pool = TRUE),
                    prior = hbmmm_prior(halfsat = list(tv = gamma_dist(2, 0.1)))),
               class = "hbmmm_input_error", regexp = "lognormal")
  # the C reader: a pool flag with no mixture channel, bad hyperpriors
  ns <- asNamespace("hbmmm")
  m0 <- ns$mmm_model_list(spec())
  m0$mix_pool <- 1L
  expect_error(.Call(ns$C_hb_mmm_info, m0, ns$nuts_model_options(spec())), class = "hbmmm_input_error", regexp = "mix_pool")
  m1 <- ns$mmm_model_list(sp)
  m1$mix_pool_prior[3] <- -1
  expect_error(.Call(ns$C_hb_mmm_info, m1, ns$nuts_model_options(sp)), class = "hbmmm_input_error", regexp = "mix_pool_prior")
})

test_that("pooled components: from the prior alone NUTS draws the hyperpriors", {
  d <- mixture_data()
  fit <- suppressWarnings(hbmmm(sales ~ tv + search + price, d, media = c("tv", "search"), time = "week",
                                saturation = "hill_mixture",
                                saturation_control = list(components = c(tv = 3, search = 2), pool = TRUE),
                                prior_only = TRUE, sampler = "nuts", chains = 2, iter = 2000, seed = 4, refresh = 0))
  expect_equal(fit$control$adapt_delta, 0.95)
  # P(x < the hyperprior's median) = 0.5 within 4 Monte Carlo standard errors
  medians <- c(mix_halfsat_mu = 0, mix_halfsat_sd = stats::qnorm(0.75), mix_slope_mu = log(1.5),
               mix_slope_sd = 0.5 * stats::qnorm(0.75))
  for (v in names(medians)) {
    ind <- fit$draws[, , v] < medians[[v]] # iterations x chains
    storage.mode(ind) <- "double"
    expect_lt(abs(mean(ind) - 0.5), 4 * mcse_mean(ind),
              label = sprintf("%s: P(below median) = %.3f, MCSE %.3f", v, mean(ind), mcse_mean(ind)))
  }
})
