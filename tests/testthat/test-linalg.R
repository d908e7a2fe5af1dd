# Shared numerical kernels (src/linalg.c, src/online.c) through their test-only
# hooks, checked against base R: chol(), solve(), stats::rWishart(), rgamma(),
# quantile(), and known moments. Monte Carlo checks use |error| < 4 MC
# standard errors with fixed seeds.

hb_chol_ <- function(A) hbmmm:::hb_test_chol(A)
hb_mvn_ <- function(P, b, n) hbmmm:::hb_test_mvn_precision(P, b, n)
hb_iw_ <- function(df, S, n) hbmmm:::hb_test_inv_wishart(df, S, n)
hb_ig_ <- function(shape, scale, n) hbmmm:::hb_test_inv_gamma(shape, scale, n)
hb_online_ <- function(x, probs) hbmmm:::hb_test_online(x, probs)

rand_spd <- function(d, seed) {
  set.seed(seed)
  X <- matrix(rnorm(d * (d + 3)), d + 3, d)
  A <- crossprod(X) / (d + 3) + diag(0.5, d)
  (A + t(A)) / 2
}

test_that("hb_chol matches chol() and the solves match solve()", {
  # d = 80 runs the LAPACK/BLAS branch, the others the plain loops
  for (d in c(1, 2, 5, 12, 80)) {
    A <- rand_spd(d, 100 + d)
    r <- hb_chol_(A)
    expect_identical(r$info, 0L)
    U <- chol(A)
    expect_lt(max(abs(r$L - t(U))), 1e-12)
    expect_true(all(r$L[upper.tri(r$L)] == 0))
    expect_equal(r$logdet, as.numeric(determinant(A)$modulus), tolerance = 1e-12)
    Ainv <- solve(A)
    scale <- max(abs(Ainv))
    expect_lt(max(abs(r$solve - Ainv)) / scale, 1e-12)
    expect_lt(max(abs(r$inverse - Ainv)) / scale, 1e-12)
    expect_true(isSymmetric(r$inverse, tol = 0))
    expect_lt(max(abs(r$fwd - solve(t(U)))), 1e-11)
    expect_lt(max(abs(r$bwd - solve(U))), 1e-11)
  }
})

test_that("hb_chol reports the first non-positive-definite column", {
  expect_identical(hb_chol_(diag(c(1, -1, 2)))$info, 2L)
  expect_identical(hb_chol_(matrix(c(1, 2, 2, 1), 2))$info, 2L)
  expect_identical(hb_chol_(matrix(1, 3, 3))$info, 2L) # singular
  expect_identical(hb_chol_(matrix(0, 1, 1))$info, 1L)
  expect_identical(hb_chol_(matrix(-3, 1, 1))$info, 1L)
  A <- rand_spd(80, 7)
  A[50, 50] <- -1
  expect_identical(hb_chol_(A)$info, 50L)
  r <- hb_chol_(diag(c(1, -1, 2)))
  expect_null(r$L)
  expect_null(r$solve)
})

test_that("MVN draws from a precision have mean P^{-1} b and covariance P^{-1}", {
  P <- rand_spd(3, 11) * 4
  b <- c(1, -2, 0.5)
  n <- 20000
  set.seed(42)
  X <- hb_mvn_(P, b, n)
  expect_identical(dim(X), c(as.integer(n), 3L))
  mu <- solve(P, b)
  Sig <- solve(P)
  se_mean <- sqrt(diag(Sig) / n)
  expect_true(all(abs(colMeans(X) - mu) < 4 * se_mean))
  # Var of a sample covariance of Gaussians: (S_jj S_kk + S_jk^2) / n
  se_cov <- sqrt((outer(diag(Sig), diag(Sig)) + Sig^2) / n)
  expect_true(all(abs(cov(X) - Sig) < 4 * se_cov))
  # the mean-only path, and the mean a draw leaves in its work vector
  expect_lt(max(abs(attr(X, "mean") - mu)), 1e-12)
  expect_lt(max(abs(attr(X, "mean_work") - mu)), 1e-12)
  # reproducible from set.seed(); no draws: a 0-row matrix and an NA work mean
  set.seed(5)
  a <- hb_mvn_(P, b, 10)
  set.seed(5)
  expect_identical(hb_mvn_(P, b, 10), a)
  z <- hb_mvn_(P, b, 0)
  expect_identical(dim(z), c(0L, 3L))
  expect_true(all(is.na(attr(z, "mean_work"))))
})

test_that("MVN draws are L'^{-1} (L^{-1} b + z) with z from rnorm(), for every unrolled dimension", {
  # d = 1..4 run the unrolled kernels, 5 and 70 the general loops and LAPACK
  for (d in c(1:5, 70)) {
    P <- rand_spd(d, 300 + d)
    set.seed(d)
    b <- rnorm(d)
    set.seed(7)
    x <- hb_mvn_(P, b, 2)
    set.seed(7)
    z <- matrix(rnorm(2 * d), 2, byrow = TRUE)
    L <- t(chol(P))
    ref <- do.call(rbind, lapply(1:2, function(r) drop(backsolve(t(L), forwardsolve(L, b) + z[r, ]))))
    expect_lt(max(abs(x - ref)) / max(abs(ref)), 1e-10, label = paste("d =", d))
    expect_lt(max(abs(attr(x, "mean_work") - solve(P, b))) / max(abs(solve(P, b))), 1e-12)
    r <- hb_chol_(P)
    expect_lt(max(abs(r$L - L)), 1e-12)
    expect_true(all(r$L[upper.tri(r$L)] == 0))
  }
})

test_that("the MVN mean-only path equals solve(P, b) in both branches", {
  for (d in c(1, 4, 80)) {
    P <- rand_spd(d, 200 + d)
    set.seed(d)
    b <- rnorm(d)
    m <- attr(hb_mvn_(P, b, 1), "mean")
    expect_lt(max(abs(m - solve(P, b))) / max(abs(solve(P, b))), 1e-12)
  }
  # d = 80: draws have the right mean too (one coordinate, 4000 draws)
  P <- rand_spd(80, 280)
  b <- rep(1, 80)
  set.seed(9)
  X <- hb_mvn_(P, b, 4000)
  Sig <- solve(P)
  expect_true(all(abs(colMeans(X) - solve(P, b)) < 4.5 * sqrt(diag(Sig) / 4000)))
})

test_that("inverse Wishart draws have the right mean, variance and distribution", {
  d <- 3
  df <- 20 # IG(9, .) marginals: moments well past the 4th, for the variance SE
  S <- rand_spd(d, 21) * (df - d - 1)
  n <- 20000
  set.seed(2024)
  W <- hb_iw_(df, S, n)
  expect_identical(dim(W), c(3L, 3L, as.integer(n)))
  # Var(Sigma_ij) = ((df-d+1) S_ij^2 + (df-d-1) S_ii S_jj) /
  #                 ((df-d) (df-d-1)^2 (df-d-3))
  V <- ((df - d + 1) * S^2 + (df - d - 1) * outer(diag(S), diag(S))) /
    ((df - d) * (df - d - 1)^2 * (df - d - 3))
  expect_true(all(abs(apply(W, 1:2, mean) - S / (df - d - 1)) < 4 * sqrt(V / n)))
  # variance of each diagonal element (2 S_ii^2 / ((df-d-1)^2 (df-d-3))),
  # MC error of the sample variance estimated from the draws
  for (i in seq_len(d)) {
    x <- W[i, i, ]
    v_true <- 2 * S[i, i]^2 / ((df - d - 1)^2 * (df - d - 3))
    se_v <- sd((x - mean(x))^2) / sqrt(n)
    expect_lt(abs(var(x) - v_true), 4 * se_v)
    expect_equal(V[i, i], v_true)
  }
  # draws are symmetric; the Cholesky factor left in the workspace and the
  # sd/cor summary of the last draw are right
  expect_true(all(W[1, 2, ] == W[2, 1, ]))
  last <- W[, , n]
  Tc <- attr(W, "chol")
  expect_true(all(Tc[upper.tri(Tc)] == 0))
  expect_lt(max(abs(Tc %*% t(Tc) - last)), 1e-12 * max(abs(last)))
  expect_equal(attr(W, "sd"), sqrt(diag(last)), tolerance = 1e-14)
  expect_equal(attr(W, "cor"), cov2cor(last), tolerance = 1e-14)
  expect_identical(diag(attr(W, "cor")), rep(1, d))
})

test_that("inverse Wishart matches solve(rWishart(df, solve(S))) by KS tests", {
  S <- rand_spd(3, 31)
  for (df in c(7, 4.5)) { # a whole and a fractional df
    n <- 20000
    set.seed(77)
    W <- hb_iw_(df, S, n)
    set.seed(78)
    R <- stats::rWishart(n, df, solve(S))
    Rinv <- vapply(seq_len(n), function(k) solve(R[, , k]), matrix(0, 3, 3))
    for (ij in list(c(1, 1), c(3, 3), c(1, 2), c(2, 3))) {
      p <- suppressWarnings(stats::ks.test(W[ij[1], ij[2], ], Rinv[ij[1], ij[2], ])$p.value)
      expect_gt(p, 1e-4)
    }
  }
  # d = 1 is the inverse gamma IG(df / 2, S / 2)
  set.seed(3)
  w <- hb_iw_(5, matrix(2), 20000)[1, 1, ]
  set.seed(4)
  expect_gt(stats::ks.test(w, 1 / rgamma(20000, 2.5, rate = 1))$p.value, 1e-4)
})

test_that("inverse gamma draws have the right moments and distribution", {
  shape <- 6
  scale <- 3
  n <- 20000
  set.seed(8)
  x <- hb_ig_(shape, scale, n)
  v <- scale^2 / ((shape - 1)^2 * (shape - 2))
  expect_lt(abs(mean(x) - scale / (shape - 1)), 4 * sqrt(v / n))
  set.seed(9)
  expect_gt(stats::ks.test(x, 1 / rgamma(n, shape, rate = scale))$p.value, 1e-4)
  set.seed(1)
  a <- hb_ig_(2, 1, 5)
  set.seed(1)
  expect_identical(a, 1 / rgamma(5, 2, rate = 1))
})

test_that("online moments equal colMeans and sd", {
  set.seed(10)
  x <- cbind(rnorm(5000), rnorm(5000, 1e4, 1e-2), rexp(5000), runif(5000, -3, 3))
  r <- hb_online_(x, 0.5)
  expect_identical(r$n, 5000L)
  expect_lt(max(abs(r$mean - colMeans(x)) / pmax(1, abs(colMeans(x)))), 1e-10)
  sds <- apply(x, 2, sd)
  expect_lt(max(abs(r$sd - sds) / sds), 1e-10)
})

test_that("P-square quantiles track qnorm() and quantile() on 20,000 draws", {
  set.seed(11)
  n <- 20000
  x <- matrix(rnorm(n * 4), n, 4)
  probs <- c(0.025, 0.975)
  r <- hb_online_(x, probs)
  expect_identical(dim(r$quantiles), c(4L, 2L))
  # P-square against the sample quantile of the same draws: the estimator's
  # own error (sd about 0.007 here, so 0.03 is more than 4 sd)
  emp <- t(apply(x, 2, quantile, probs = probs, names = FALSE))
  expect_lt(max(abs(r$quantiles - emp)), 0.03)
  # against the truth, the sampling error of the draws dominates: even the
  # exact 2.5% sample quantile of 20,000 N(0, 1) draws has sd
  # sqrt(p (1 - p) / n) / dnorm(qnorm(p)) = 0.019, so a fixed 0.03 would be a
  # 1.6 sd bound; use 4 MC standard errors (0.076) instead, and 0.03 for the
  # average over the 4 columns (sd 0.0095)
  truth <- matrix(qnorm(probs), 4, 2, byrow = TRUE)
  se_q <- sqrt(probs * (1 - probs) / n) / dnorm(qnorm(probs))
  expect_true(all(abs(r$quantiles - truth) < 4 * rep(se_q, each = 4)))
  expect_true(all(abs(colMeans(r$quantiles) - qnorm(probs)) < 0.03))
  # more probabilities, a skewed distribution (relative to its scale)
  set.seed(12)
  y <- matrix(rexp(n * 2, rate = 0.5), n, 2)
  probs <- c(0.05, 0.25, 0.5, 0.75, 0.95)
  r <- hb_online_(y, probs)
  emp <- t(apply(y, 2, quantile, probs = probs, names = FALSE))
  expect_lt(max(abs(r$quantiles - emp) / 2), 0.03)
  expect_true(all(apply(r$quantiles, 1, diff) > 0))
})

test_that("P-square is exact for at most 5 draws and NA for none", {
  probs <- c(0.025, 0.3, 0.5, 0.975)
  for (n in 1:5) {
    set.seed(n)
    x <- matrix(rnorm(n * 3), n, 3)
    r <- hb_online_(x, probs)
    emp <- matrix(apply(x, 2, quantile, probs = probs, names = FALSE), 3, 4, byrow = TRUE)
    expect_equal(r$quantiles, emp, tolerance = 1e-14)
    expect_equal(r$mean, colMeans(x), tolerance = 1e-14)
    if (n == 1) expect_true(all(is.na(r$sd))) else
      expect_equal(r$sd, apply(x, 2, sd), tolerance = 1e-12)
  }
  r <- hb_online_(matrix(numeric(0), 0, 2), c(0.1, 0.9))
  expect_identical(r$n, 0L)
  expect_true(all(is.na(r$mean)) && all(is.na(r$sd)) && all(is.na(r$quantiles)))
  expect_identical(dim(r$quantiles), c(2L, 2L))
  r <- hb_online_(matrix(numeric(0), 10, 0), 0.5)
  expect_length(r$mean, 0)
  expect_identical(dim(r$quantiles), c(0L, 1L))
})

test_that("P-square stays within the data on ties and short streams", {
  set.seed(13)
  x <- matrix(sample(1:3, 3000, replace = TRUE), 1000, 3) + 0
  r <- hb_online_(x, c(0.025, 0.5, 0.975))
  expect_true(all(r$quantiles >= 1 & r$quantiles <= 3))
  x <- matrix(rep(2.5, 100), 50, 2) # constant
  expect_identical(unname(hb_online_(x, c(0.1, 0.9))$quantiles), matrix(2.5, 2, 2))
  for (n in 6:12) {
    x <- matrix(rnorm(n), n, 1)
    q <- hb_online_(x, c(0.025, 0.975))$quantiles
    expect_true(all(q >= min(x) & q <= max(x)))
  }
})

test_that("test hooks reject malformed input with a classed error", {
  A <- rand_spd(3, 1)
  bad_matrices <- list(NULL, "a", matrix("a", 2, 2), list(1), 1:4, c(1, 2, 3, 4),
                       matrix(1:4, 2), matrix(1, 2, 3), matrix(numeric(0), 0, 0),
                       array(1, c(2, 2, 2)), matrix(c(1, NA, NA, 1), 2),
                       matrix(c(1, NaN, NaN, 1), 2), matrix(c(Inf, 0, 0, 1), 2),
                       matrix(c(2, 1, 0, 2), 2), TRUE, sum)
  for (M in bad_matrices) {
    expect_input_error(hb_chol_(M), "A")
    expect_input_error(hb_mvn_(M, c(1, 1), 10), "P")
    expect_input_error(hb_iw_(5, M, 10), "S")
  }
  # a non-positive-definite precision or scale is an input error, not a crash
  expect_input_error(hb_mvn_(diag(c(1, -1)), c(1, 1), 10), "P")
  expect_input_error(hb_iw_(5, matrix(1, 2, 2), 10), "S")
  # vectors and counts
  for (b in list(NULL, "a", c(1, 2), 1:3, c(1, NA, 2), c(1, Inf, 2), list(1, 2, 3)))
    expect_input_error(hb_mvn_(A, b, 10), "b")
  for (n in list(NULL, -1, NA, NA_integer_, 1.5, "10", c(1, 2), 1e9, Inf, TRUE)) {
    expect_input_error(hb_mvn_(A, c(1, 2, 3), n), "n_draws")
    expect_input_error(hb_iw_(5, A, n), "n_draws")
    expect_input_error(hb_ig_(2, 1, n), "n_draws")
  }
  for (df in list(NULL, -1, 0, 1.5, 2, NA, NaN, Inf, "5", c(5, 6), TRUE, list(5)))
    expect_input_error(hb_iw_(df, A, 10), "df")
  expect_input_error(hb_iw_(1e-300, matrix(1), 10), "df") # chi-square underflow
  for (v in list(NULL, -1, 0, NA, Inf, "2", c(1, 2)))  {
    expect_input_error(hb_ig_(v, 1, 10), "shape")
    expect_input_error(hb_ig_(2, v, 10), "scale")
  }
  x <- matrix(rnorm(20), 10, 2)
  for (M in list(NULL, "a", rnorm(10), matrix("a", 2, 2), matrix(1:4, 2),
                 array(1, c(2, 2, 2)), matrix(c(1, NA), 1), matrix(c(1, -Inf), 1),
                 data.frame(a = 1)))
    expect_input_error(hb_online_(M, 0.5), "x")
  for (p in list(NULL, numeric(0), 0, 1, -0.1, 1.5, NA_real_, NaN, c(0.5, NA), "0.5",
                 0L, seq(0.0001, 0.9999, length.out = 1001)))
    expect_input_error(hb_online_(x, p), "probs")
  # the package is still alive and the hooks still work
  expect_identical(hb_chol_(matrix(4, 1, 1))$L, matrix(2, 1, 1))
})

# plain-R references for the batched level kernels
lanes_reference <- function(Sinv, H, B, W) {
  q <- nrow(Sinv); G <- ncol(B); m <- ncol(W) / G
  marg <- 0; ld <- 0; S <- matrix(0, m, m)
  for (l in seq_len(G)) {
    M <- Sinv + H[, (l - 1) * q + seq_len(q), drop = FALSE]
    b <- B[, l]
    Wl <- W[, (l - 1) * m + seq_len(m), drop = FALSE]
    ldl <- as.numeric(determinant(M)$modulus)
    marg <- marg + 0.5 * (sum(b * solve(M, b)) - ldl)
    ld <- ld + ldl
    S <- S + crossprod(Wl, solve(M, Wl))
  }
  list(marginal = marg, schur = S, logdet = ld)
}

random_levels <- function(q, G, m, scale = 1, rows = 3) {
  A <- matrix(rnorm(q * q), q); Sinv <- crossprod(A) + diag(q)
  H <- do.call(cbind, lapply(seq_len(G), function(l) {
    Z <- matrix(rnorm(rows * q), rows); scale * crossprod(Z)
  }))
  list(Sinv = Sinv, H = H, B = matrix(rnorm(q * G), q), W = matrix(rnorm(q * m * G), q))
}

test_that("the batched level kernels equal one level at a time in plain R", {
  set.seed(11)
  for (q in 1:8) for (G in c(1, 7, 8, 13, 21)) for (m in c(1, 3)) {
    x <- random_levels(q, G, m)
    ref <- lanes_reference(x$Sinv, x$H, x$B, x$W)
    for (split in unique(c(0, G %/% 2, G))) {
      got <- hb_test_lanes(x$Sinv, x$H, x$B, x$W, split)
      expect_equal(got$marginal, ref$marginal, tolerance = 1e-10, info = sprintf("q %d G %d split %d", q, G, split))
      expect_equal(got$schur, ref$schur, tolerance = 1e-10, info = sprintf("q %d G %d m %d", q, G, m))
      expect_equal(got$logdet, ref$logdet, tolerance = 1e-10)
    }
  }
})

test_that("the batched level kernels take determinants outside the double range and refuse indefinite levels", {
  set.seed(12)
  x <- random_levels(6, 11, 2, scale = 1e60, rows = 12) # pivots ~1e60: their product overflows
  ref <- lanes_reference(x$Sinv, x$H, x$B, x$W)
  got <- hb_test_lanes(x$Sinv, x$H, x$B, x$W, 5)
  expect_equal(got$logdet, ref$logdet, tolerance = 1e-12)
  expect_equal(got$marginal, ref$marginal, tolerance = 1e-12)
  x$Sinv <- x$Sinv * 1e-120; x$H <- x$H * 1e-120 # pivots ~1e-60: the product underflows
  ref <- lanes_reference(x$Sinv, x$H, x$B, x$W)
  got <- hb_test_lanes(x$Sinv, x$H, x$B, x$W, 5)
  expect_equal(got$logdet, ref$logdet, tolerance = 1e-12)
  expect_equal(got$schur, ref$schur, tolerance = 1e-10)
  x <- random_levels(4, 10, 2)
  x$H[, 9:12] <- -x$Sinv - diag(4) # the third level's M is -I
  got <- hb_test_lanes(x$Sinv, x$H, x$B, x$W, 4)
  expect_true(is.na(got$marginal))
  expect_null(got$schur)
  x$H[1, 9] <- NA
  expect_error(hb_test_lanes(x$Sinv, x$H, x$B, x$W, 4), class = "hbmmm_input_error")
  y <- random_levels(9, 2, 1)
  expect_error(hb_test_lanes(y$Sinv, y$H, y$B, y$W, 1), class = "hbmmm_input_error")
  y <- random_levels(2, 3, 1)
  expect_error(hb_test_lanes(y$Sinv, y$H[, 1:4], y$B, y$W, 1), class = "hbmmm_input_error")
  expect_error(hb_test_lanes(y$Sinv, y$H, y$B, y$W, 4), class = "hbmmm_input_error")
  expect_error(hb_test_lanes(y$Sinv, y$H, y$B, y$W[, 1:2], 1), class = "hbmmm_input_error")
})
