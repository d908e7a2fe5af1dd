# Segment allocation: the per-segment linear program against an LP solver
# and brute force, the published table's form, ROMI against hand
# computations, the saturation-aware version against grid search, errors.


paper_beta <- function() {
  rbind(high_value = c(television = 1.9, digital = 1.6, social = 1.8, email = 1.3, direct_mail = 1.05),
        medium_value = c(television = 1.5, digital = 1.6, social = 1.45, email = 1.3, direct_mail = 1.1),
        low_value = c(television = 1.2, digital = 1.45, social = 1.2, email = 1.3, direct_mail = 1.1),
        new_customers = c(television = 1.7, digital = 1.6, social = 1.75, email = 1.2, direct_mail = 1.02))
}

test_that("the linear program matches lpSolve on random instances with bounds", {
  skip_if_not_installed("lpSolve")
  set.seed(4)
  for (rep in 1:5) {
    S <- 3; J <- 4
    beta <- matrix(runif(S * J, 0.5, 2), S, J, dimnames = list(paste0("s", 1:S), paste0("c", 1:J)))
    cost <- setNames(runif(J, 0.6, 1.2), colnames(beta))
    bud <- setNames(runif(S, 50, 150), rownames(beta))
    lo <- matrix(runif(S * J, 0, 5), S, J, dimnames = dimnames(beta))
    hi <- lo + matrix(runif(S * J, 10, 60), S, J)
    res <- allocate_segments(beta, budget = bud, cost = cost, lower = lo, upper = hi)
    for (i in 1:S) {
      net <- beta[i, ] - cost
      # x = lo + y, 0 <= y <= hi - lo, sum(y) <= B - sum(lo)
      A <- rbind(rep(1, J), diag(J))
      rhs <- c(bud[i] - sum(lo[i, ]), hi[i, ] - lo[i, ])
      sol <- lpSolve::lp("max", net, A, rep("<=", J + 1), rhs)
      expect_equal(sum(net * (res$allocation[i, ] - lo[i, ])), sol$objval, tolerance = 1e-9)
      expect_true(all(res$allocation[i, ] >= lo[i, ] - 1e-12 & res$allocation[i, ] <= hi[i, ] + 1e-12))
      expect_lte(sum(res$allocation[i, ]), bud[i] + 1e-9)
    }
  }
})

test_that("the linear program matches brute force over a grid on a small case", {
  beta <- rbind(a = c(x = 1.5, y = 1.2, z = 0.8), b = c(x = 0.9, y = 1.4, z = 1.3))
  bud <- c(a = 15, b = 10)
  res <- allocate_segments(beta, budget = bud, cost = c(x = 1, y = 1, z = 1), upper = 6)
  g <- seq(0, 6, by = 0.5)
  for (i in 1:2) {
    best <- -Inf
    for (x in g) for (y in g) for (z in g) if (x + y + z <= bud[[i]]) best <- max(best, sum((beta[i, ] - 1) * c(x, y, z)))
    expect_equal(sum((beta[i, ] - 1) * res$allocation[i, ]), best)
  }
  # z has a negative net return for segment a: never funded, budget left over
  expect_equal(res$allocation["a", "z"], 0)
  expect_true("unspent" %in% colnames(res$percent))
})

test_that("the output has the published table's form and ROMI is computed by hand", {
  beta <- paper_beta()
  seg <- allocate_segments(beta, budget = 100, cost = 1, lower = 0.02, upper = 0.35, bounds = "share")
  p <- seg$percent
  expect_identical(dimnames(p), dimnames(beta))
  expect_equal(unname(rowSums(p)), rep(100, 4))
  expect_true(all(p >= 2 - 1e-9 & p <= 35 + 1e-9))
  # each segment funds its best net returns first
  expect_equal(unname(p["high_value", ]), c(35, 26, 35, 2, 2))
  # ROMI = net return / spend, per segment and overall
  net <- rowSums((beta - 1) * seg$allocation)
  expect_equal(seg$romi$romi[1:4], unname(net / rowSums(seg$allocation)))
  np <- rowSums((beta - 1) * seg$nonpersonalized)
  expect_equal(seg$romi$romi_nonpersonalized[5], sum(np) / sum(seg$nonpersonalized))
  # the personalized allocation is never worse than one mix for all
  expect_true(all(seg$romi$romi >= seg$romi$romi_nonpersonalized - 1e-12))
  expect_gt(seg$romi$uplift_percent[5], 0)
  expect_output(print(seg), "percent of each segment's budget")
  pdf(NULL)
  on.exit(dev.off())
  expect_equal(plot(seg), p)
})

test_that("posterior draws give ROMI intervals and allocate on the mean", {
  set.seed(8)
  beta <- paper_beta()
  dr <- array(NA_real_, c(200, dim(beta)), dimnames = c(list(NULL), dimnames(beta)))
  for (d in 1:200) dr[d, , ] <- beta + matrix(rnorm(length(beta), 0, 0.05), nrow(beta))
  seg <- allocate_segments(dr, budget = c(high_value = 50, medium_value = 80, low_value = 60, new_customers = 40),
                           cost = 1, lower = 0.02, upper = 0.4, bounds = "share")
  seg_mean <- allocate_segments(apply(dr, c(2, 3), mean), budget = c(high_value = 50, medium_value = 80,
                                low_value = 60, new_customers = 40), cost = 1, lower = 0.02, upper = 0.4, bounds = "share")
  expect_equal(seg$allocation, seg_mean$allocation)
  expect_true(all(seg$romi$romi_lower < seg$romi$romi & seg$romi$romi < seg$romi$romi_upper))
  expect_equal(seg$draws, 200L)
})

test_that("the saturation-aware version matches grid search per segment", {
  tab <- data.frame(segment = rep(c("young", "old"), each = 2), channel = rep(c("social", "tv"), 2),
                    type = "hill", beta = c(120, 60, 40, 150), halfsat = c(20, 30, 25, 40), slope = c(1.5, 2.5, 1, 3))
  seg <- allocate_segments(tab, budget = c(young = 60, old = 90), cost = 0.4)
  for (s in c("young", "old")) {
    r <- tab[tab$segment == s, ]
    B <- c(young = 60, old = 90)[[s]]
    f <- function(a, b) r$beta[1] * hill_r(a, r$halfsat[1], r$slope[1]) + r$beta[2] * hill_r(b, r$halfsat[2], r$slope[2]) -
      0.4 * (a + b)
    g <- seq(0, B, by = 0.05)
    best <- max(outer(g, g, function(a, b) ifelse(a + b <= B, f(a, b), -Inf)))
    x <- seg$allocation[s, ]
    expect_gte(f(x[["social"]], x[["tv"]]), best - 1e-6)
    expect_lte(sum(x), B + 1e-9)
  }
  expect_true(all(seg$romi$romi >= seg$romi$romi_nonpersonalized - 1e-9))
})

test_that("bad segment inputs raise classed errors", {
  beta <- paper_beta()
  e <- tryCatch(allocate_segments(beta, budget = 100, lower = 0.3, bounds = "share"), error = identity)
  expect_s3_class(e, "hbmmm_infeasible_error")
  expect_match(conditionMessage(e), "exceeding its budget 100 by 50")
  expect_error(allocate_segments(beta, budget = c(high_value = -1, medium_value = 1, low_value = 1, new_customers = 1)),
               class = "hbmmm_negative_budget_error")
  expect_error(allocate_segments(beta, budget = 10, cost = c(tv = 1)), class = "hbmmm_unknown_channel_error")
  expect_error(allocate_segments(beta, budget = c(vip = 10)), class = "hbmmm_unknown_channel_error")
  expect_input_error(allocate_segments(unname(beta), budget = 10), "x")
  expect_input_error(allocate_segments(beta, budget = 10, bounds = "percent"), "bounds")
  expect_error(allocate_segments(beta, budget = 10, lower = c(email = 5), upper = c(email = 2)),
               class = "hbmmm_infeasible_error")
})
