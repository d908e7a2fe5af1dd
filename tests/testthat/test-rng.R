# The Gibbs chains' generator (src/rng.c): xoshiro256++ uniforms, ziggurat
# normals, Marsaglia-Tsang gammas, against R's distribution functions; its
# seeding from R's stream; and its place in a chain's final state.

rng_ <- function(seed, dist, par = NULL, n = 1e5) hbmmm:::hb_test_rng(seed, dist, par, n)
seed4 <- c(123456789, 362436069, 521288629, 4294967295)

# counts within binomial limits that fail with probability about 2e-6 each
expect_binom <- function(k, n, p, label) {
  lim <- stats::qbinom(c(1e-6, 1 - 1e-6), n, p)
  expect_gte(k, lim[1], label = label)
  expect_lte(k, lim[2], label = label)
}

test_that("uniforms lie in (0, 1), use 53 bits and pass Kolmogorov-Smirnov", {
  u <- rng_(seed4, "unif", n = 1e6)
  expect_true(all(u > 0 & u < 1))
  k <- u * 2^53
  expect_identical(k, floor(k)) # multiples of 2^-53 ...
  expect_gt(mean(k %% 2 == 1), 0.49) # ... with the lowest bit used
  expect_gt(suppressWarnings(stats::ks.test(u, "punif"))$p.value, 1e-3)
  # successive pairs: no serial dependence in a 10 x 10 grid
  cells <- table(factor(floor(10 * u[-1]) + 10 * floor(10 * u[-length(u)]), levels = 0:99))
  expect_gt(stats::chisq.test(cells)$p.value, 1e-4)
})

test_that("normals match pnorm in the body, the layers and the tails", {
  n <- 2e6
  z <- rng_(seed4, "norm", n = n)
  expect_gt(suppressWarnings(stats::ks.test(z, "pnorm"))$p.value, 1e-3)
  expect_lt(abs(mean(z)), 5 / sqrt(n))
  expect_lt(abs(stats::var(z) - 1), 5 * sqrt(2 / n))
  expect_lt(abs(mean(z^3)), 5 * sqrt(15 / n))
  expect_lt(abs(mean(z^4) - 3), 5 * sqrt(96 / n))
  # 400 equally likely bins resolve the ziggurat's 256 layers and wedges
  bins <- table(factor(findInterval(z, stats::qnorm((1:399) / 400)), levels = 0:399))
  expect_gt(stats::chisq.test(bins)$p.value, 1e-4)
  expect_binom(sum(abs(z) > 3), n, 2 * stats::pnorm(-3), "P(|z| > 3)")
  expect_binom(sum(z > 0), n, 0.5, "P(z > 0)")
  # beyond the ziggurat's base (r = 3.654) the tail algorithm takes over
  big <- rng_(seed4 + c(1, 0, 0, -1), "norm", n = 1e7)
  expect_binom(sum(abs(big) > 3.6541528853610088), 1e7, 2 * stats::pnorm(-3.6541528853610088), "P(|z| > r)")
  expect_binom(sum(abs(big) > 4.5), 1e7, 2 * stats::pnorm(-4.5), "P(|z| > 4.5)")
  tail <- abs(big[abs(big) > 3.6541528853610088]) # the tail's shape, conditionally
  ptail <- function(x) 1 - stats::pnorm(x, lower.tail = FALSE) / stats::pnorm(3.6541528853610088, lower.tail = FALSE)
  expect_gt(suppressWarnings(stats::ks.test(tail, ptail))$p.value, 1e-3)
})

test_that("exponentials, gammas and chi-squares match their distribution functions", {
  e <- rng_(seed4, "exp", n = 5e5)
  expect_true(all(e > 0))
  expect_gt(suppressWarnings(stats::ks.test(e, "pexp"))$p.value, 1e-3)
  n <- 5e5
  for (shape in c(0.3, 1, 2.5, 40)) {
    g <- rng_(seed4, "gamma", c(shape, 2), n = n)
    expect_true(all(g >= 0), label = shape)
    expect_gt(suppressWarnings(stats::ks.test(g, "pgamma", shape = shape, scale = 2))$p.value, 1e-3,
              label = paste("KS, shape", shape))
    expect_lt(abs(mean(g) - 2 * shape), 5 * 2 * sqrt(shape / n), label = paste("mean, shape", shape))
    expect_lt(abs(stats::var(g) / (4 * shape) - 1), 5 * sqrt((2 + 6 / shape) / n),
              label = paste("variance, shape", shape))
  }
  for (df in c(0.5, 3, 17)) {
    x <- rng_(seed4, "chisq", df, n = n)
    expect_gt(suppressWarnings(stats::ks.test(x, "pchisq", df = df))$p.value, 1e-3, label = df)
  }
})

test_that("a seed gives the same draws; a chain's seed is four words of R's stream", {
  expect_identical(rng_(seed4, "norm", n = 1000), rng_(seed4, "norm", n = 1000))
  expect_false(isTRUE(all.equal(rng_(seed4, "norm", n = 10), rng_(seed4 + c(0, 0, 0, -1), "norm", n = 10))))
  # seeds differing in one bit give unrelated streams (splitmix64 pass)
  a <- rng_(c(0, 0, 0, 1), "unif", n = 1e4)
  b <- rng_(c(0, 0, 0, 2), "unif", n = 1e4)
  expect_lt(abs(stats::cor(a, b)), 5 / sqrt(1e4))
  old <- RNGkind()
  on.exit(RNGkind(old[1], old[2], old[3]))
  RNGkind("L'Ecuyer-CMRG")
  set.seed(42)
  from_r <- rng_(NULL, "norm", n = 100)
  after <- stats::runif(1)
  set.seed(42)
  words <- floor(stats::runif(4) * 2^32)
  expect_identical(from_r, rng_(words, "norm", n = 100))
  expect_identical(after, stats::runif(1)) # exactly four uniforms used
})

test_that("the generator's entry point rejects bad arguments with classed errors", {
  expect_input_error(rng_(c(1, 2, 3), "norm"), "seed")
  expect_input_error(rng_(c(1, 2, 3, -1), "norm"), "seed")
  expect_input_error(rng_(c(1, 2, 3, 0.5), "norm"), "seed")
  expect_input_error(rng_(c(1, 2, 3, 2^32), "norm"), "seed")
  expect_input_error(rng_(c(1, 2, 3, NA), "norm"), "seed")
  expect_input_error(rng_(1:4, "norm"), "seed")
  expect_input_error(rng_(seed4, "cauchy"), "dist")
  expect_input_error(rng_(seed4, NA_character_), "dist")
  expect_input_error(rng_(seed4, c("norm", "exp")), "dist")
  expect_input_error(rng_(seed4, 1), "dist")
  expect_input_error(rng_(seed4, "gamma", 2), "par")
  expect_input_error(rng_(seed4, "gamma", c(-1, 1)), "par")
  expect_input_error(rng_(seed4, "gamma", c(1, Inf)), "par")
  expect_input_error(rng_(seed4, "chisq", NULL), "par")
  expect_input_error(rng_(seed4, "chisq", 0), "par")
  expect_input_error(rng_(seed4, "norm", n = -1), "n_draws")
  expect_input_error(rng_(seed4, "norm", n = NA), "n_draws")
  expect_identical(rng_(seed4, "norm", n = 0), numeric(0))
})

test_that("a chain keeps its generator in its final state and continues it", {
  fit <- quiet_sampling(do.call(hbmmm, small_fit_args(chains = 2, iter = 30, warmup = 10)))
  for (st in fit$state) {
    x <- st$xoshiro
    expect_length(x, 8)
    expect_true(all(x >= 0 & x < 2^32 & x == floor(x)))
  }
  expect_false(identical(fit$state[[1]]$xoshiro, fit$state[[2]]$xoshiro))
  # the same seed: the same fit, whatever the number of cores
  fit2 <- quiet_sampling(do.call(hbmmm, small_fit_args(chains = 2, iter = 30, warmup = 10, cores = 2)))
  expect_identical(fit2$draws, fit$draws)
  expect_identical(fit2$state, fit$state)
  # a state without the generator (an older version's) continues from R's stream, reproducibly
  old <- fit
  old$state <- lapply(old$state, function(s) {
    s$xoshiro <- NULL
    s
  })
  a <- quiet_sampling(update(old, continue = TRUE, iter = 10))
  b <- quiet_sampling(update(old, continue = TRUE, iter = 10))
  expect_identical(a$draws, b$draws)
  c1 <- quiet_sampling(update(fit, continue = TRUE, iter = 10))
  expect_false(isTRUE(all.equal(a$draws[21:30, , ], c1$draws[21:30, , ])))
  # a corrupt generator state is an input error naming it
  bad <- fit
  bad$state[[1]]$xoshiro <- rep(0, 8)
  expect_input_error(quiet_sampling(update(bad, continue = TRUE, iter = 10)), "model$init_state$xoshiro")
  bad$state[[1]]$xoshiro <- c(1:7, 2^32)
  expect_input_error(quiet_sampling(update(bad, continue = TRUE, iter = 10)), "model$init_state$xoshiro")
  bad$state[[1]]$xoshiro <- 1:8
  expect_input_error(quiet_sampling(update(bad, continue = TRUE, iter = 10)), "model$init_state$xoshiro")
})

test_that("the test hooks of linalg.c still draw from R's stream", {
  set.seed(3)
  x <- hbmmm:::hb_test_inv_gamma(2.5, 1.5, 20)
  set.seed(3)
  expect_identical(x, 1 / stats::rgamma(20, 2.5, rate = 1.5))
  set.seed(4)
  z <- hbmmm:::hb_test_mvn_precision(diag(2), c(0, 0), 5)
  set.seed(4)
  expect_equal(as.vector(t(z)), stats::rnorm(10), tolerance = 1e-14, ignore_attr = TRUE)
})
