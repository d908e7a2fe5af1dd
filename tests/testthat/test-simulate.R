# simulate_mmm(): the data must follow the documented model exactly, so the
# truth it returns can be used to validate model fits.

# Independent plain-R reference of the transforms (not the C kernels):
# normalized infinite-memory geometric adstock per market, then Hill.
ref_adstock <- function(x, decay, group) {
  out <- numeric(length(x))
  for (g in unique(group)) {
    idx <- which(group == g)
    carry <- 0
    for (i in idx) {
      carry <- x[i] + decay * carry
      out[i] <- (1 - decay) * carry
    }
  }
  out
}
ref_hill <- function(x, halfsat, slope) x^slope / (x^slope + halfsat^slope)

ref_media <- function(sim) {
  d <- sim$data
  tr <- sim$truth
  ch <- colnames(sim$media_effect)
  mk <- as.character(d$market)
  sapply(ch, function(c) {
    a <- ref_adstock(d[[c]], tr[[paste0("decay_", c)]], mk)
    h <- ref_hill(a, tr[[paste0("halfsat_", c)]], tr[[paste0("slope_", c)]])
    (tr[[paste0("b_", c)]] + sim$r_market[mk, c]) * h
  })
}

ref_baseline <- function(sim) {
  d <- sim$data
  tr <- sim$truth
  tr[["b_Intercept"]] + sim$r_market[as.character(d$market), "Intercept"] +
    tr[["b_price"]] * d$price + tr[["b_promo"]] * d$promo +
    tr[["b_season_sin"]] * d$season_sin + tr[["b_season_cos"]] * d$season_cos
}

test_that("structure of the simulated panel follows the documentation", {
  sim <- simulate_mmm(n_markets = 3, n_weeks = 10, seed = 1)
  expect_s3_class(sim, "hbmmm_sim")
  expect_named(sim, c("data", "truth", "r_market", "media_effect", "transforms", "call"))
  ch <- c("tv", "search", "social", "display", "email")
  d <- sim$data
  expect_named(d, c("market", "week", "date", "sales", ch, "price", "promo",
                    "season_sin", "season_cos"))
  expect_identical(levels(d$market), c("M01", "M02", "M03"))
  expect_identical(as.character(d$market), rep(c("M01", "M02", "M03"), each = 10))
  expect_identical(d$week, rep(1:10, 3))
  expect_identical(d$date[1:2], as.Date(c("2023-01-02", "2023-01-09")))
  expect_true(all(as.matrix(d[ch]) >= 0))
  expect_true(all(d$promo %in% c(0L, 1L)))
  expect_true(all(abs(d$price - 1) < 0.2))
  expect_equal(d$season_sin, sin(2 * pi * d$week / 52.18))
  expect_equal(d$season_cos, cos(2 * pi * d$week / 52.18))
  expect_named(sim$truth, c("b_Intercept", paste0("b_", ch), "b_price", "b_promo",
                            "b_season_sin", "b_season_cos", "sd_market__Intercept",
                            paste0("sd_market__", ch), "sigma", paste0("decay_", ch),
                            paste0("halfsat_", ch), paste0("slope_", ch)))
  expect_identical(dimnames(sim$r_market), list(c("M01", "M02", "M03"), c("Intercept", ch)))
  expect_identical(dim(sim$media_effect), c(30L, 5L))
  expect_identical(sim$transforms, list(adstock = "geometric", normalize = TRUE,
                                        max_lag = NULL, saturation = "hill"))
  # Default slope sds are 15% of beta, so market slopes stay positive.
  expect_equal(unname(sim$truth[paste0("sd_market__", ch)]),
               0.15 * unname(sim$truth[paste0("b_", ch)]))
})

test_that("media_effect and sales match a plain-R reference of the model", {
  sim <- simulate_mmm(n_markets = 20, n_weeks = 200, seed = 11)
  ref <- ref_media(sim)
  expect_equal(unname(sim$media_effect), unname(ref), tolerance = 1e-10)
  resid <- sim$data$sales - ref_baseline(sim) - rowSums(ref)
  sigma <- sim$truth[["sigma"]]
  n <- length(resid)
  expect_lt(abs(mean(resid)), 4 * sigma / sqrt(n))
  expect_lt(abs(sd(resid) / sigma - 1), 0.10)
  # Media explain a realistic share of sales with the defaults.
  share <- sum(sim$media_effect) / sum(sim$data$sales)
  expect_gt(share, 0.2)
  expect_lt(share, 0.4)
})

test_that("custom channels, parameters and named vectors are honoured", {
  sim <- simulate_mmm(n_markets = 4, n_weeks = 30, channels = c("radio", "tv"),
                      beta = c(tv = 150, radio = 50), decay = 0.5,
                      halfsat = c(12, 30), slope = c(radio = 1, tv = 2.5),
                      sd_market = c(tv = 5, Intercept = 20, radio = 0),
                      sigma = 10, start = "2024-01-01", seed = 3)
  tr <- sim$truth
  expect_equal(tr[c("b_radio", "b_tv", "decay_radio", "decay_tv", "halfsat_radio",
                    "halfsat_tv", "slope_radio", "slope_tv", "sd_market__Intercept",
                    "sd_market__radio", "sd_market__tv", "sigma")],
               c(b_radio = 50, b_tv = 150, decay_radio = 0.5, decay_tv = 0.5,
                 halfsat_radio = 12, halfsat_tv = 30, slope_radio = 1, slope_tv = 2.5,
                 sd_market__Intercept = 20, sd_market__radio = 0, sd_market__tv = 5,
                 sigma = 10))
  expect_true(all(sim$r_market[, "radio"] == 0))
  expect_identical(sim$data$date[1], as.Date("2024-01-01"))
  expect_equal(unname(sim$media_effect), unname(ref_media(sim)), tolerance = 1e-10)
  # Named and unnamed (channel order) parameters give the same panel.
  sim2 <- simulate_mmm(n_markets = 4, n_weeks = 30, channels = c("radio", "tv"),
                       beta = c(50, 150), decay = c(0.5, 0.5), halfsat = c(12, 30),
                       slope = c(1, 2.5), sd_market = c(20, 0, 5), sigma = 10,
                       start = as.Date("2024-01-01"), seed = 3)
  expect_identical(sim2$data, sim$data)
  expect_identical(sim2$truth, sim$truth)
})

test_that("a seed reproduces the panel and restores the caller's RNG state", {
  a <- simulate_mmm(n_markets = 3, n_weeks = 20, seed = 42)
  b <- simulate_mmm(n_markets = 3, n_weeks = 20, seed = 42)
  expect_identical(a, b)
  expect_false(identical(a$data, simulate_mmm(n_markets = 3, n_weeks = 20, seed = 43)$data))

  set.seed(99)
  before <- get(".Random.seed", envir = globalenv())
  simulate_mmm(n_markets = 2, n_weeks = 5, seed = 1)
  expect_identical(get(".Random.seed", envir = globalenv()), before)

  # No RNG state before the call: none after it either.
  local({
    rm(".Random.seed", envir = globalenv())
    on.exit(assign(".Random.seed", before, envir = globalenv()))
    simulate_mmm(n_markets = 2, n_weeks = 5, seed = 1)
    expect_false(exists(".Random.seed", envir = globalenv(), inherits = FALSE))
  })

  # A different generator kind is restored, and does not change the data.
  local({
    old <- RNGkind()
    on.exit({
      RNGkind(old[1], old[2], old[3])
      assign(".Random.seed", before, envir = globalenv())
    })
    RNGkind("L'Ecuyer-CMRG")
    set.seed(7)
    state <- get(".Random.seed", envir = globalenv())
    c2 <- simulate_mmm(n_markets = 3, n_weeks = 20, seed = 42)
    expect_identical(RNGkind()[1], "L'Ecuyer-CMRG")
    expect_identical(get(".Random.seed", envir = globalenv()), state)
    expect_identical(c2$data, a$data)
  })

  # Without a seed, draws come from (and advance) the current stream.
  set.seed(5)
  x1 <- simulate_mmm(n_markets = 2, n_weeks = 8)
  set.seed(5)
  x2 <- simulate_mmm(n_markets = 2, n_weeks = 8)
  expect_identical(x1$data, x2$data)
  expect_false(identical(get(".Random.seed", envir = globalenv()), {
    set.seed(5)
    get(".Random.seed", envir = globalenv())
  }))
})

test_that("the shipped mmm_weekly equals simulate_mmm(seed = 2024)", {
  sim <- simulate_mmm(seed = 2024)
  shipped <- hbmmm::mmm_weekly
  truth <- attr(shipped, "truth")
  attr(shipped, "truth") <- NULL
  # expect_equal rather than identical: the data are regenerated on this
  # platform, and libm may differ in the last bit across platforms.
  expect_equal(shipped, sim$data)
  expect_equal(truth, sim$truth)
  expect_identical(dim(shipped), c(832L, 13L))
})

test_that("the shipped brand_weekly equals simulate_brand(seed = 2025), and its truth adds up", {
  sim <- simulate_brand(seed = 2025)
  shipped <- hbmmm::brand_weekly
  expect_equal(attr(shipped, "truth"), sim$truth)
  expect_equal(attr(shipped, "roi"), sim$roi)
  attr(shipped, "truth") <- attr(shipped, "roi") <- NULL
  expect_equal(shipped, sim$data)
  expect_identical(dim(shipped), c(156L, 16L))
  # the true contributions are the package's transforms at the true parameters
  tr <- sim$truth
  ch <- sim$channels$channel
  X <- as.matrix(sim$data[ch])
  ad <- adstock_geometric(X, decay = unname(tr[paste0("decay_", ch)]), normalize = TRUE)
  m <- sweep(saturation_hill(ad, unname(tr[paste0("halfsat_", ch)]), unname(tr[paste0("slope_", ch)])), 2,
             tr[paste0("b_", ch)], `*`)
  expect_equal(unname(m), unname(sim$media_effect))
  expect_equal(sim$roi, colSums(m) / colSums(X), ignore_attr = TRUE)
  # reproducible, and the caller's random state is left alone
  set.seed(3)
  a <- stats::runif(1)
  set.seed(3)
  invisible(simulate_brand(n_weeks = 30, seed = 1))
  expect_identical(stats::runif(1), a)
  expect_error(simulate_brand(n_weeks = 5), class = "hbmmm_input_error")
  expect_error(simulate_brand(sigma = -1), class = "hbmmm_input_error")
  expect_error(simulate_brand(start = "2022-01-03"), class = "hbmmm_input_error")
})

test_that("invalid arguments raise hbmmm_input_error", {
  bad <- list(
    quote(simulate_mmm(n_markets = 0)),
    quote(simulate_mmm(n_markets = 2.5)),
    quote(simulate_mmm(n_markets = "8")),
    quote(simulate_mmm(n_weeks = -1)),
    quote(simulate_mmm(n_weeks = c(10, 20))),
    quote(simulate_mmm(n_weeks = NA)),
    quote(simulate_mmm(channels = character(0))),
    quote(simulate_mmm(channels = c("tv", "tv"))),
    quote(simulate_mmm(channels = c("tv", ""))),
    quote(simulate_mmm(channels = c("tv", NA))),
    quote(simulate_mmm(channels = c("tv", "paid search"))),
    quote(simulate_mmm(channels = c("tv", "price"))),
    quote(simulate_mmm(channels = 1:2)),
    quote(simulate_mmm(beta = c(1, 2))),
    quote(simulate_mmm(beta = c(tv = 1, search = 2, social = 3, display = 4, radio = 5))),
    quote(simulate_mmm(beta = c(tv = 100))),
    quote(simulate_mmm(beta = c(100, 100, 100, 100, Inf))),
    quote(simulate_mmm(beta = "100")),
    quote(simulate_mmm(decay = 1)),
    quote(simulate_mmm(decay = -0.1)),
    quote(simulate_mmm(decay = c(0.5, 0.5, 0.5, 0.5, NA))),
    quote(simulate_mmm(halfsat = 0)),
    quote(simulate_mmm(halfsat = c(10, 10, 10, 10, -1))),
    quote(simulate_mmm(slope = 0)),
    quote(simulate_mmm(slope = c(1, 2))),
    quote(simulate_mmm(sd_market = -1)),
    quote(simulate_mmm(sd_market = c(1, 2, 3))),
    quote(simulate_mmm(sd_market = c(Intercept = 1, tv = 1, search = 1, social = 1,
                                     display = 1, radio = 1))),
    quote(simulate_mmm(sigma = 0)),
    quote(simulate_mmm(sigma = -2)),
    quote(simulate_mmm(sigma = c(1, 2))),
    quote(simulate_mmm(sigma = NA_real_)),
    quote(simulate_mmm(start = "not a date")),
    quote(simulate_mmm(start = 5)),
    quote(simulate_mmm(start = as.Date(c("2023-01-02", "2023-01-09")))),
    quote(simulate_mmm(seed = 1.5)),
    quote(simulate_mmm(seed = "a")),
    quote(simulate_mmm(seed = c(1, 2)))
  )
  for (call in bad) {
    expect_error(eval(call), class = "hbmmm_input_error", label = deparse(call))
  }
  # The message names the argument, the value found and what is allowed.
  err <- tryCatch(simulate_mmm(decay = 1.2), error = identity)
  expect_identical(err$arg, "decay")
  expect_match(conditionMessage(err), "`decay`.*\\[0, 1\\).*tv = 1.2")
  expect_error(plot(simulate_mmm(n_markets = 2, n_weeks = 5, seed = 1), type = "roi"),
               class = "hbmmm_input_error")
})

test_that("print and plot run and return invisibly", {
  sim <- simulate_mmm(n_markets = 3, n_weeks = 26, seed = 5)
  expect_output(out <- expect_invisible(print(sim)), "3 markets x 26 weeks")
  expect_identical(out, sim)
  expect_output(print(sim), "media explain")

  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  mar <- graphics::par("mar")
  p1 <- expect_invisible(plot(sim))
  expect_identical(graphics::par("mar"), mar)
  expect_named(p1, c("week", "date", "M01", "M02", "M03"))
  expect_equal(p1$M02, sim$data$sales[sim$data$market == "M02"])
  p2 <- expect_invisible(plot(sim, type = "spend", main = "Spend", col = 1:5))
  expect_named(p2, c("week", "date", "tv", "search", "social", "display", "email"))
  expect_equal(p2$tv, as.vector(tapply(sim$data$tv, sim$data$week, sum)))
  # Many markets and unknown channels still plot.
  many <- simulate_mmm(n_markets = 40, n_weeks = 8, channels = c("a", "b"), seed = 1)
  expect_invisible(plot(many))
  expect_invisible(plot(many, type = "spend"))
})

test_that("the shipped mixture_audience is its two simulate_mmm() audiences, differing only in TV's curve", {
  shipped <- hbmmm::mixture_audience
  seg <- attr(shipped, "segments")
  truth <- attr(shipped, "truth")
  expect_identical(names(seg), c("heterogeneous", "homogeneous"))
  expect_identical(dim(shipped), c(832L, 11L))
  expect_identical(levels(shipped$audience), names(seg))
  for (a in names(seg)) {
    sim <- simulate_mmm(n_markets = 4, n_weeks = 104, channels = c("tv", "search"), beta = c(tv = 300, search = 130),
                        sd_market = c(80, 0, 0), sigma = 20, seed = 2026, mixture = list(tv = seg[[a]]))
    part <- shipped[shipped$audience == a, names(shipped) != "audience"]
    rownames(part) <- NULL
    expect_equal(part, sim$data)
    expect_equal(truth[[a]], sim$truth)
  }
  expect_equal(seg$heterogeneous$weight, c(0.3, 0.35, 0.35))
  expect_equal(unname(truth$heterogeneous[sprintf("halfsat_tv[%d]", 1:3)]), c(6, 25, 70))
  # same spend, controls and noise: the sales differ by the two TV curves
  # applied to the same adstocked spend, and by nothing else
  het <- shipped[shipped$audience == "heterogeneous", ]
  hom <- shipped[shipped$audience == "homogeneous", ]
  expect_identical(het[c("market", "week", "tv", "search", "price", "promo")],
                   hom[c("market", "week", "tv", "search", "price", "promo")], ignore_attr = TRUE)
  a <- adstock_geometric(het$tv, 0.6, normalize = TRUE, group = het$market)
  diff_true <- 300 * (saturation_hill_mixture(a, c(6, 25, 70), rep(3.5, 3), c(0.3, 0.35, 0.35)) -
                        saturation_hill(a, 30, 2))
  expect_equal(het$sales - hom$sales, diff_true, tolerance = 1e-6)
  expect_gt(max(abs(diff_true)), 20)
})
