match_fixture <- function(n = 600, seed = 5) {
  d <- causal_sim(n, seed = seed)$data
  propensity_score(treat ~ age + income + loyal + region, data = d)
}

test_that("ps_match() agrees with a brute-force reference on every option", {
  ps <- match_fixture()
  fi <- which(ps$treat == 1L)
  d <- ps$score
  sdd <- stats::sd(d)
  cases <- list(
    list(), list(caliper = 0.1), list(ratio = 3), list(ratio = 2, caliper = 0.25),
    list(replace = TRUE), list(replace = TRUE, ratio = 3, caliper = 0.2),
    list(order = "smallest"), list(order = "data", ratio = 2), list(exact = "loyal", caliper = 0.2),
    list(exact = c("loyal", "region"), ratio = 2)
  )
  for (cs in cases) {
    a <- utils::modifyList(list(ratio = 1, replace = FALSE, order = "largest"), cs)
    ord <- switch(a$order, largest = fi[order(d[fi], decreasing = TRUE)], smallest = fi[order(d[fi])], data = fi)
    strat <- if (is.null(a$exact)) NULL else as.integer(interaction(ps$data[a$exact], drop = TRUE))
    ref <- ref_nn_match(d, ps$treat, ord, a$ratio, if (is.null(a$caliper)) Inf else a$caliper * sdd, a$replace, strat)
    got <- suppressWarnings(ps_match(ps, ratio = a$ratio, caliper = a$caliper, replace = a$replace, order = a$order,
                                     exact = a$exact))
    expect_identical(unname(got$match_matrix), ref, label = deparse(cs))
  }
  # ATC: controls are the focal units, matched smallest score first
  f0 <- 1L - ps$treat
  ci <- which(f0 == 1L)
  ref <- ref_nn_match(d, f0, ci[order(d[ci])], 1, 0.3 * sdd, TRUE)
  got <- ps_match(ps, estimand = "ATC", caliper = 0.3, replace = TRUE)
  expect_identical(unname(got$match_matrix), ref)
  expect_true(all(got$weights[ci[!is.na(ref[, 1])]] == 1))
})

test_that("ties are broken as documented (lower neighbour, then data order)", {
  # treated at 0.5; controls at 0.4 and 0.6 (equally far) and two at 0.7
  dd <- data.frame(t = c(0L, 1L, 0L, 0L, 0L, 1L), x = 1:6)
  ps <- propensity_score(t ~ x, data = dd)
  ps$score <- c(0.6, 0.5, 0.4, 0.7, 0.7, 0.7)
  m <- ps_match(ps, order = "data")
  # unit 2 (0.5) takes unit 3 (0.4, sorted below); unit 6 (0.7) takes unit 4,
  # the tied control at 0.7 sorted below it (data order among equal scores)
  expect_identical(unname(m$match_matrix[, 1]), c(3L, 5L))
  ref <- ref_nn_match(ps$score, ps$treat, c(2L, 6L))
  expect_identical(unname(m$match_matrix), ref)
})

test_that("ps_match() reproduces MatchIt's matched sets and weights", {
  skip_if_not_installed("MatchIt")
  ps <- match_fixture(800, seed = 6)
  for (cs in list(list(), list(caliper = 0.1), list(ratio = 3), list(replace = TRUE), list(ratio = 2, replace = TRUE),
                  list(ratio = 2, caliper = 0.2), list(order = "smallest"), list(exact = "loyal", caliper = 0.2),
                  list(order = "data", ratio = 2))) {
    a <- utils::modifyList(list(ratio = 1, replace = FALSE, order = "largest"), cs)
    ref <- do.call(matchit_reference, c(list(ps, ps$score), a))
    got <- suppressWarnings(ps_match(ps, ratio = a$ratio, caliper = a$caliper, replace = a$replace, order = a$order,
                                     exact = a$exact))
    expect_identical(unname(got$match_matrix), ref$mm, label = deparse(cs))
    expect_equal(got$weights, ref$w, tolerance = 1e-12, label = deparse(cs))
  }
  # logit distance with a caliper in sd of the logit
  ref <- matchit_reference(ps, ps$linear_predictor, caliper = 0.2)
  got <- ps_match(ps, distance = "logit", caliper = 0.2)
  expect_identical(unname(got$match_matrix), ref$mm)
  # Mahalanobis distance (MatchIt's own covariance and matching order)
  mi <- MatchIt::matchit(treat ~ age + income + loyal + region, data = ps$data, distance = "mahalanobis")
  got <- ps_match(ps, distance = "mahalanobis")
  expect_identical(unname(got$match_matrix[, 1]), as.integer(mi$match.matrix[, 1]))
  expect_equal(unname(got$weights), unname(mi$weights), tolerance = 1e-12)
  # caliper computed in MatchIt's way: sd of the distance over all units
  mi <- suppressWarnings(MatchIt::matchit(treat ~ age, data = ps$data, distance = ps$score, caliper = 0.1))
  expect_equal(unname(mi$caliper), 0.1 * stats::sd(ps$score))
  expect_equal(ps_match(ps, caliper = 0.1)$caliper_width, 0.1 * stats::sd(ps$score))
})

test_that("matching output is consistent", {
  ps <- match_fixture()
  expect_warning(m <- ps_match(ps, ratio = 2, caliper = 0.2), class = "hbmmm_warning_ratio")
  fi <- which(ps$treat == 1L)
  expect_identical(nrow(m$pairs), sum(!is.na(m$match_matrix)))
  expect_true(all(ps$treat[m$pairs$focal] == 1L) && all(ps$treat[m$pairs$match] == 0L))
  expect_false(anyDuplicated(m$pairs$match) > 0)
  expect_true(all(abs(m$pairs$focal_distance - m$pairs$match_distance) <= m$caliper_width))
  expect_setequal(m$unmatched$focal, fi[is.na(m$match_matrix[, 1])])
  expect_true(all(m$weights[m$unmatched$other] == 0))
  expect_equal(sum(m$weights[ps$treat == 0L]), sum(m$weights[ps$treat == 0L] > 0))
  # subclass: each matched set shares one
  expect_true(all(m$subclass[m$pairs$focal] == m$subclass[m$pairs$match]))
  expect_output(print(m), "nearest-neighbour matching")
  # ATC: treated units are matched to controls
  a <- ps_match(ps, estimand = "ATC", replace = TRUE)
  expect_true(all(ps$treat[a$pairs$focal] == 0L))
  expect_identical(a$order, "smallest")
  # formula interface and random order with a seed
  f <- ps_match(treat ~ age + income + loyal + region, data = ps$data)
  expect_identical(f$match_matrix, ps_match(ps)$match_matrix)
  r1 <- ps_match(ps, order = "random", seed = 3)
  r2 <- ps_match(ps, order = "random", seed = 3)
  expect_identical(r1$match_matrix, r2$match_matrix)
})

test_that("bad matching input gives classed errors and warnings", {
  ps <- match_fixture(300, seed = 7)
  e <- expect_error(ps_match(ps, caliper = 0), class = "hbmmm_no_match_error")
  expect_identical(e$arg, "caliper")
  n0 <- sum(ps$treat == 0L)
  expect_input_error(ps_match(ps, ratio = n0 + 1), "ratio")
  expect_warning(ps_match(ps, ratio = 3), class = "hbmmm_warning_ratio")
  expect_input_error(ps_match(ps, caliper = -1), "caliper")
  expect_input_error(ps_match(ps, order = "best"), "order")
  expect_input_error(ps_match(ps, exact = "nope"), "exact")
  expect_input_error(ps_match(ps, distance = "euclid"), "distance")
  expect_input_error(ps_match(42), "x")
  expect_input_error(ps_match(treat ~ age), "data")
  f <- function(...) .Call(hbmmm:::C_hb_nn_match, ...)
  dist <- c(0.1, 0.2, 0.3, 0.4)
  tr <- c(1L, 0L, 1L, 0L)
  ok <- list(dist, tr, 1:4, c(1L, 3L), rep(1L, 4), 1L, NA_real_, FALSE, NULL)
  expect_identical(dim(do.call(f, ok)), c(2L, 1L))
  bad <- function(i, v, arg) {
    a <- ok
    a[i] <- list(v)
    expect_input_error(do.call(f, a), arg)
  }
  bad(1, 1:4, "dist")
  bad(2, c(1L, 2L, 0L, 0L), "treat")
  bad(3, c(2L, 1L, 3L, 4L), "ord_all")
  bad(3, c(1L, 1L, 3L, 4L), "ord_all")
  bad(4, c(1L, 2L), "order_t")
  bad(4, 1L, "order_t")
  bad(6, 0L, "ratio")
  bad(7, -1, "caliper")
  bad(8, NA, "replace")
  bad(9, matrix(1, 3, 1), "mahal")
})

test_that("matching scales: 200,000 units in well under a few seconds", {
  set.seed(1)
  n <- 2e5
  x <- stats::rnorm(n)
  t <- stats::rbinom(n, 1, stats::plogis(-2 + x))
  d <- data.frame(t = t, x = x)
  ps <- propensity_score(t ~ x, data = d)
  el <- system.time(m <- ps_match(ps, caliper = 0.2))[["elapsed"]]
  expect_lt(el, 5)
  expect_gt(sum(m$weights > 0), sum(t))
})
