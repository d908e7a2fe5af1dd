# Translation moves between nested grouping terms (add_nested_pairs() in
# R/model_list.R, hb_term_nest_shift() in src/gibbs_ranef.c). Their
# calibration is checked by SBC (test-sbc.R: nested terms on cells, and
# media slopes at nested levels through the collapsed block).

nested_panel <- function(seed = 1) {
  set.seed(seed)
  n_w <- 8
  d <- expand.grid(week = seq_len(n_w), store = 1:6, market = c("a", "b", "c"))
  d$store <- paste0(d$market, d$store)
  d$region <- ifelse(d$market == "c", "south", "north")
  d$tv <- stats::rexp(nrow(d))
  d$price <- stats::rnorm(nrow(d))
  d$sales <- 10 + 2 * d$tv + stats::rnorm(nrow(d))
  d
}

nested_spec <- function(formula, data = nested_panel()) {
  hbmmm_spec(formula, data = data, media = "tv", time = "week", panel = "store", saturation = "none")
}

test_that("each term pairs with the closest term its levels nest in, on identical columns", {
  ns <- asNamespace("hbmmm")
  s <- nested_spec(sales ~ tv + price + (1 + tv || market) + (1 + tv + price || market:store) + (1 | region))
  m <- ns$mmm_model_list(s)
  terms <- stats::setNames(m$terms, names(s$ranef))
  # market:store nests in market (3 levels) rather than region (2 levels)
  k_market <- match("market", names(s$ranef)) - 1L
  st <- terms[["market:store"]]
  expect_identical(st$nest_parent, k_market)
  expect_identical(st$nest_l, 0:1) # intercept and tv; price has no partner
  expect_identical(st$nest_lp, 0:1)
  lev_store <- s$ranef[["market:store"]]$levels
  lev_market <- s$ranef[["market"]]$levels
  d <- nested_panel()
  truth <- match(d$market[match(lev_store, paste(d$market, d$store, sep = ":"))], lev_market) - 1L
  expect_identical(st$nest_map, truth)
  # market nests in region: only their intercepts pair
  mk <- terms[["market"]]
  expect_identical(mk$nest_parent, match("region", names(s$ranef)) - 1L)
  expect_identical(mk$nest_l, 0L)
  expect_identical(terms[["region"]]$nest_parent, -1L)
})

test_that("crossed terms and factor-analytic terms take no part", {
  ns <- asNamespace("hbmmm")
  s <- nested_spec(sales ~ tv + (1 | market) + (1 | week))
  m <- ns$mmm_model_list(s)
  expect_true(all(vapply(m$terms, `[[`, 1L, "nest_parent") == -1L))
  s2 <- hbmmm_spec(sales ~ tv + (1 + tv | market) + (1 + tv | market:store), data = nested_panel(),
                   media = "tv", time = "week", panel = "store", saturation = "none",
                   factors = c("market:store" = 1))
  m2 <- ns$mmm_model_list(s2)
  expect_true(all(vapply(m2$terms, `[[`, 1L, "nest_parent") == -1L))
})

test_that("a fit with media slopes at nested levels recovers the simulated effect and noise", {
  # estimated adstock (the collapsed block) with the nested moves on
  d <- nested_panel(2)
  mk <- match(d$market, c("a", "b", "c"))
  st <- match(d$store, unique(d$store))
  d$sales <- d$sales + c(-2, 0, 2)[mk] + stats::rnorm(18)[st] + c(-0.5, 0, 0.5)[mk] * d$tv
  fit <- suppressWarnings(hbmmm(sales ~ tv + (1 + tv || market) + (1 + tv || market:store), data = d,
                                media = "tv", time = "week", panel = "store", saturation = "none",
                                chains = 2, iter = 1000, seed = 3, refresh = 0),
                          classes = "hbmmm_warning")
  s <- summary(fit)$table
  expect_lt(abs(s$mean[s$variable == "sigma"] - 1), 0.25)
  expect_lt(abs(s$mean[s$variable == "b_tv"] - 2), 1)
})

test_that("the C reader checks the nesting block of the model list", {
  ns <- asNamespace("hbmmm")
  s <- nested_spec(sales ~ tv + (1 + tv || market) + (1 + tv || market:store))
  model <- ns$mmm_model_list(s)
  k <- which(vapply(model$terms, `[[`, 1L, "nest_parent") >= 0L)
  run <- function(m) .Call(ns$C_hb_gibbs, m, gibbs_control())
  m <- model
  m$terms[[k]]$nest_parent <- 5L
  expect_error(run(m), "nest_parent", class = "hbmmm_input_error")
  m <- model
  m$terms[[k]]$nest_parent <- as.integer(k - 1L)
  expect_error(run(m), "fewer levels", class = "hbmmm_input_error")
  m <- model
  m$terms[[k]]$nest_map[1] <- m$terms[[k]]$nest_map[1] + 1L
  expect_error(run(m), "parent's level", class = "hbmmm_input_error")
  m <- model
  m$terms[[k]]$nest_lp <- c(1L, 0L)
  expect_error(run(m), "differ in their media channel", class = "hbmmm_input_error")
  m <- model
  m$terms[[k]]$Zs[1, 1] <- 2
  expect_error(run(m), "columns differ on row 1", class = "hbmmm_input_error")
  m <- model
  m$terms[[k]]$nest_l <- c(0L, 0L)
  expect_error(run(m), "distinct", class = "hbmmm_input_error")
  m <- model
  m$terms[[k]]$nest_l <- 0:3
  expect_error(run(m), "nest_l", class = "hbmmm_input_error")
  m <- model
  m$terms[[k]]$nest_map <- m$terms[[k]]$nest_map[-1]
  expect_error(run(m), "nest_map", class = "hbmmm_input_error")
  m <- model
  m$terms[[k]]$nest_l <- "a"
  expect_error(run(m), "nest_l", class = "hbmmm_input_error")
})

# The parent of the collapsed term drawn with the collapsed term's effects
# integrated out (src/gibbs_nested.c): when every parent column repeats a
# column of the collapsed term, the media steps and beta integrate the
# parent's effects out too ("full"); otherwise only the parent's covariance
# and effects are drawn that way. Both must sample the posterior NUTS
# samples (an engine that shares none of this code).
nested_agreement <- function(f, seed) {
  sim <- simulate_three_level(n_markets = 2, n_products = 4, n_individuals = 4, n_weeks = 16, seed = seed)
  args <- list(f, data = sim$data, media = c("tv", "digital"), time = "week", panel = "individual",
               chains = 4, seed = 1, refresh = 0)
  fg <- quiet_sampling(do.call(hbmmm, c(args, list(iter = 3000))))
  fn <- quiet_sampling(do.call(hbmmm, c(args, list(iter = 1500, sampler = "nuts"))))
  rv <- grep("^r_", dimnames(fg$draws)[[3]], value = TRUE)
  list(fg = fg, fn = fn, vars = c(summary(fg)$table$variable, rv[c(1, 5, 9, 40, 80)]))
}

test_that("the full nested block samples NUTS's posterior", {
  f <- sales ~ tv + digital + (1 + tv + digital || market:product) + (1 + tv + digital || market:product:individual)
  r <- nested_agreement(f, 3)
  # the state carries the adapted steps of both covariances: q (q + 1) each
  expect_length(r$fg$state[[1]]$collapse_log_step, 2 * 3 * 4)
  expect_samplers_agree(r$fn, r$fg, r$vars)
})

test_that("the nested block with a correlated parent that has a column of its own samples NUTS's posterior", {
  f <- sales ~ tv + digital + (1 + tv + digital | market:product) + (1 + tv | market:product:individual)
  r <- nested_agreement(f, 3)
  expect_length(r$fg$state[[1]]$collapse_log_step, 2 * 3 + 3 * 4)
  expect_samplers_agree(r$fn, r$fg, r$vars)
})

three_level_spec <- function(f, n_individuals = 4, seed = 3) {
  sim <- simulate_three_level(n_markets = 2, n_products = 4, n_individuals = n_individuals, n_weeks = 16,
                              seed = seed)
  hbmmm_spec(f, data = sim$data, media = c("tv", "digital"), time = "week", panel = "individual")
}
f_paired <- sales ~ tv + digital + (1 + tv + digital || market:product) +
  (1 + tv + digital || market:product:individual)

test_that("the nested block's mode follows the nesting, and the C reader checks it", {
  ns <- asNamespace("hbmmm")
  m2 <- ns$mmm_model_list(three_level_spec(f_paired))
  expect_identical(m2$collapse_nest, 2L)
  # a parent column that repeats none of the collapsed term's: mode 1
  f1 <- sales ~ tv + digital + (1 + tv + digital || market:product) + (1 + tv || market:product:individual)
  m1 <- ns$mmm_model_list(three_level_spec(f1))
  expect_identical(m1$collapse_nest, 1L)
  # more than 20 levels per parent level: mode 1
  expect_identical(ns$mmm_model_list(three_level_spec(f_paired, n_individuals = 21))$collapse_nest, 1L)
  # no nesting: 0
  s0 <- three_level_spec(sales ~ tv + digital + (1 + tv || market:product:individual))
  expect_identical(ns$mmm_model_list(s0)$collapse_nest, 0L)
  run <- function(m) .Call(ns$C_hb_gibbs, m, gibbs_control())
  m <- m1
  m$collapse_nest <- 2L
  expect_error(run(m), "collapse_nest.*repeats no column", class = "hbmmm_input_error")
  m <- ns$mmm_model_list(s0)
  m$collapse_nest <- 1L
  expect_error(run(m), "collapse_nest.*nests in no other term", class = "hbmmm_input_error")
  m <- m2
  m$collapse_nest <- 3L
  expect_error(run(m), "collapse_nest", class = "hbmmm_input_error")
  m$collapse_nest <- "2"
  expect_error(run(m), "collapse_nest", class = "hbmmm_input_error")
})

test_that("no mode of the nested block depends on the number of threads", {
  m <- hbmmm:::mmm_model_list(three_level_spec(f_paired))
  for (mode in 0:2) {
    m$collapse_nest <- mode
    draws <- lapply(1:2, function(th) {
      set.seed(5)
      .Call(hbmmm:::C_hb_gibbs, m, c(gibbs_control(iter = 30, warmup = 10), list(threads = th)))$draws
    })
    expect_identical(draws[[1]], draws[[2]], label = sprintf("mode %d", mode))
  }
})

test_that("mode 1 on paired columns samples the posterior that mode 2 and NUTS do", {
  # mode 2 is checked against NUTS above; mode 1 takes its statistics from
  # the collapsed block's, with the parent's effects added back
  m <- hbmmm:::mmm_model_list(three_level_spec(f_paired))
  runs <- lapply(1:2, function(mode) {
    m$collapse_nest <- mode
    lapply(1:2, function(chain) {
      set.seed(10 + chain)
      .Call(hbmmm:::C_hb_gibbs, m, gibbs_control(iter = 3000, warmup = 1000, chain = chain))$draws
    })
  })
  for (j in seq_len(ncol(runs[[1]][[1]]))) {
    a <- sapply(runs[[1]], function(d) d[, j])
    b <- sapply(runs[[2]], function(d) d[, j])
    if (stats::sd(a) == 0) next
    z <- (mean(a) - mean(b)) / sqrt(mcse_mean(a)^2 + mcse_mean(b)^2)
    expect_lt(abs(z), 4.5, label = sprintf("draw column %d: mode 1 %.4g vs mode 2 %.4g, z = %.2f", j, mean(a),
                                           mean(b), z))
  }
})

test_that("a continued chain with the full nested block equals one long run", {
  m <- hbmmm:::mmm_model_list(three_level_spec(f_paired))
  expect_identical(m$collapse_nest, 2L)
  run <- function(model, iter, warmup) {
    set.seed(2)
    .Call(hbmmm:::C_hb_gibbs, model, gibbs_control(iter = iter, warmup = warmup))
  }
  long <- run(m, 60, 30)
  first <- run(m, 40, 30)
  more <- .Call(hbmmm:::C_hb_gibbs, c(m, list(init_state = first$state)), gibbs_control(iter = 20, warmup = 0))
  expect_equal(rbind(first$draws, more$draws), long$draws, tolerance = 1e-8)
  # a state written without the parent's steps (before the nested block)
  # still continues, from the parent's starting steps
  st <- first$state
  st$collapse_log_step <- st$collapse_log_step[seq_len(3 * 4)]
  res <- .Call(hbmmm:::C_hb_gibbs, c(m, list(init_state = st)), gibbs_control(iter = 5, warmup = 0))
  expect_true(all(is.finite(res$draws)))
})

test_that("the nested block runs from the prior, and steps aside for lift tests", {
  sim <- simulate_three_level(n_markets = 2, n_products = 4, n_individuals = 4, n_weeks = 16, seed = 3)
  args <- list(f_paired, data = sim$data, media = c("tv", "digital"), time = "week", panel = "individual",
               chains = 1, iter = 200, seed = 1, refresh = 0)
  pf <- quiet_sampling(do.call(hbmmm, c(args, list(prior_only = TRUE))))
  expect_true(all(is.finite(as.matrix(pf))))
  lift <- data.frame(channel = "tv", x = 30, delta_x = 10, delta_y = 40, sigma = 5)
  fl <- quiet_sampling(do.call(hbmmm, c(args, list(calibration = lift))))
  expect_true(all(is.finite(as.matrix(fl))))
})
