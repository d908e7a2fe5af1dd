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
