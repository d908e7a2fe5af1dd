# The NUTS engine (src/nuts.c) through nuts(): exact agreement with a plain-R
# transition, moments of known targets within Monte Carlo error, adaptation,
# divergences, reproducibility, input errors and robustness.

# nuts() warns as Stan does after sampling; the short runs here are meant to be
# short, so those warnings are muffled (test-warnings.R tests them).
nuts <- function(...) quiet_sampling(hbmmm::nuts(...))

std_normal <- list(lp = function(x) -0.5 * sum(x^2), gr = function(x) -x)

test_that("transitions agree exactly with a plain-R NUTS (diagonal and dense metric)", {
  S <- matrix(c(1, 0.9, 0.9, 1), 2)
  P <- solve(S)
  lp <- function(x) -0.5 * sum(x * (P %*% x))
  gr <- function(x) -as.vector(P %*% x)
  n <- 150
  for (case in list(list(eps = 0.3, minv = c(1, 1)), list(eps = 0.9, minv = c(0.5, 2)),
                    list(eps = 0.5, minv = S), list(eps = 0.25, minv = diag(2)))) {
    fit <- nuts(lp, gr, init = c(0.1, 0.2), iter = n, warmup = 0, chains = 1, seed = 4, refresh = 0,
                stepsize = case$eps, inv_metric = case$minv,
                metric = if (is.matrix(case$minv)) "dense" else "diag")
    ref <- hbmmm:::with_stream(hbmmm:::chain_streams(4, 1)[[1]],
                               ref_nuts_chain(lp, gr, c(0.1, 0.2), case$eps, case$minv, n))
    expect_equal(unname(fit$draws[, 1, ]), ref$draws, tolerance = 1e-10)
    for (k in colnames(ref$diag)) {
      expect_equal(unname(fit$sampler_diagnostics[[k]][, 1]), unname(ref$diag[, k]), tolerance = 1e-10)
    }
    expect_gt(length(unique(fit$sampler_diagnostics$treedepth)), 1)
  }
})

test_that("max_treedepth and divergences match the plain-R NUTS", {
  # a stiff direction with a step size far beyond its stability limit diverges
  lp <- function(x) -0.5 * (x[1]^2 + (x[2] / 0.05)^2)
  gr <- function(x) -c(x[1], x[2] / 0.0025)
  fit <- nuts(lp, gr, init = c(0.5, 0.01), iter = 60, warmup = 0, chains = 1, seed = 9, refresh = 0,
              stepsize = 0.11, inv_metric = c(1, 1), max_treedepth = 3)
  ref <- hbmmm:::with_stream(hbmmm:::chain_streams(9, 1)[[1]],
                             ref_nuts_chain(lp, gr, c(0.5, 0.01), 0.11, c(1, 1), 60, max_depth = 3))
  expect_equal(unname(fit$draws[, 1, ]), ref$draws, tolerance = 1e-10)
  expect_equal(unname(fit$sampler_diagnostics$divergent[, 1]), unname(ref$diag[, "divergent"]))
  expect_gt(sum(fit$sampler_diagnostics$divergent), 0)
  # a tiny step size saturates the tree
  fit2 <- nuts(std_normal$lp, std_normal$gr, init = 1, iter = 20, warmup = 0, chains = 1, seed = 1,
               refresh = 0, stepsize = 0.01, max_treedepth = 4)
  expect_true(all(fit2$sampler_diagnostics$treedepth == 4))
  expect_true(all(fit2$sampler_diagnostics$n_leapfrog == 15))
  expect_output(print(fit2), "at max_treedepth = 4: 20")
})

test_that("100-d correlated Gaussian (sds 0.01 to 10): moments within MC error, diag and dense", {
  # the log density in C (helper nuts_mvn_c()): the engine, not R callbacks
  tg <- gauss_target(100)
  fits <- list(diag = nuts_mvn_c(tg$mean, tg$S, iter = 2000, warmup = 1000, seed = 3, metric = "diag"),
               dense = nuts_mvn_c(tg$mean, tg$S, iter = 1500, warmup = 1000, seed = 3, metric = "dense"))
  for (fit in fits) {
    z <- moment_z(fit, tg$mean, diag(tg$S))
    expect_lt(max(abs(z$mean)), 4.5)
    expect_lt(max(abs(z$var)), 4.5)
    expect_lt(mean(z$mean^2), 2)
    expect_lt(mean(z$var^2), 2)
    acc <- mean(fit$sampler_diagnostics$accept_stat)
    expect_gt(acc, 0.8 - 0.05)
    expect_lt(acc, 0.8 + 0.1)
    expect_equal(sum(fit$sampler_diagnostics$divergent), 0)
  }
  # the adapted diagonal metric estimates the marginal variances
  for (st in fits$diag$state) {
    expect_lt(max(abs(log(st$inv_metric / diag(tg$S)))), log(2))
    expect_lt(abs(mean(log(st$inv_metric / diag(tg$S)))), 0.15)
  }
  # the dense metric captures the correlations: fewer leapfrog steps per
  # effective draw, and its correlations match the target's
  ess_per_grad <- vapply(fits, function(f) mean(apply(f$draws, 3, ess_bulk)) /
                           sum(f$sampler_diagnostics$n_leapfrog), 1)
  expect_gt(ess_per_grad[["dense"]], 3 * ess_per_grad[["diag"]])
  for (st in fits$dense$state) {
    R_hat <- stats::cov2cor(st$inv_metric)
    expect_gt(stats::cor(R_hat[upper.tri(R_hat)], stats::cov2cor(tg$S)[upper.tri(tg$S)]), 0.95)
    expect_lt(max(abs(log(diag(st$inv_metric) / diag(tg$S)))), log(2))
  }
})

test_that("100-d correlated Gaussian through R callbacks (long)", {
  skip_if_not(Sys.getenv("HBMMM_LONG_TESTS") == "true", "long test: set HBMMM_LONG_TESTS=true")
  tg <- gauss_target(100)
  for (metric in c("diag", "dense")) {
    fit <- nuts(tg$log_density, tg$grad, init = rep(0, tg$d), iter = 2000, chains = 2, seed = 3,
                metric = metric, refresh = 0)
    z <- moment_z(fit, tg$mean, diag(tg$S))
    expect_lt(max(abs(z$mean)), 4.5)
    expect_lt(max(abs(z$var)), 4.5)
    expect_lt(abs(mean(fit$sampler_diagnostics$accept_stat) - 0.85), 0.06)
  }
})

test_that("Student-t (df = 5): means 0, tail probabilities and variance df / (df - 2)", {
  df <- 5
  d <- 5
  lp <- function(x) -(df + 1) / 2 * sum(log1p(x^2 / df))
  gr <- function(x) -(df + 1) * x / (df + x^2)
  fit <- nuts(lp, gr, init = rep(0.5, d), iter = 2000, chains = 2, seed = 5, refresh = 0)
  z <- moment_z(fit, rep(0, d), rep(df / (df - 2), d))
  expect_lt(max(abs(z$mean)), 4)
  for (q in c(-2, 1)) {
    zq <- vapply(seq_len(d), function(j) {
      ind <- (fit$draws[, , j] <= q) * 1
      (mean(ind) - stats::pt(q, df)) / mcse_mean(ind)
    }, 1)
    expect_lt(max(abs(zq)), 4)
  }
  # the fourth moment is infinite: no CLT for the variance, so a loose check
  v <- apply(fit$draws, 3, function(x) mean(x^2))
  expect_lt(max(abs(v / (df / (df - 2)) - 1)), 0.3)
})

funnel <- function(centered, d = 9) {
  if (centered) {
    list(lp = function(th) {
      y <- th[1]
      x <- th[-1]
      -y^2 / 18 - d * y / 2 - sum(x^2) / (2 * exp(y))
    }, gr = function(th) {
      y <- th[1]
      x <- th[-1]
      c(-y / 9 - d / 2 + sum(x^2) / (2 * exp(y)), -x / exp(y))
    })
  } else {
    list(lp = function(th) -th[1]^2 / 18 - sum(th[-1]^2) / 2,
         gr = function(th) c(-th[1] / 9, -th[-1]))
  }
}

test_that("Neal's funnel: divergences when centered, none when non-centered", {
  f <- funnel(TRUE)
  fc <- nuts(f$lp, f$gr, init = rep(0.1, 10), iter = 1000, chains = 4, seed = 2, refresh = 0)
  expect_gt(sum(fc$sampler_diagnostics$divergent), 5)
  # the centered chains cannot reach the neck: y is far from its N(0, 3^2)
  expect_output(print(fc), "divergent transitions: [1-9]")
  g <- funnel(FALSE)
  fn <- nuts(g$lp, g$gr, init = rep(0.1, 10), iter = 1000, chains = 2, seed = 2, refresh = 0)
  expect_equal(sum(fn$sampler_diagnostics$divergent), 0)
  z <- moment_z(fn, rep(0, 10), c(9, rep(1, 9)))
  expect_lt(max(abs(z$mean)), 4.5)
  expect_true(all(hbmmm:::ebfmi(fn$sampler_diagnostics$energy) > 0.6))
  expect_lt(min(hbmmm:::ebfmi(fc$sampler_diagnostics$energy)),
            min(hbmmm:::ebfmi(fn$sampler_diagnostics$energy)))
})

test_that("step-size adaptation reaches adapt_delta; a short warmup still adapts", {
  tg <- gauss_target(10, sd_range = c(0.1, 10))
  for (delta in c(0.65, 0.95)) {
    fit <- nuts(tg$log_density, tg$grad, init = rep(0, 10), iter = 1000, chains = 2, seed = 8,
                adapt_delta = delta, refresh = 0)
    acc <- mean(fit$sampler_diagnostics$accept_stat)
    # as in Stan, the mean acceptance after warmup exceeds the target on a
    # Gaussian (Stan 2.26 on this target: 0.76 to 0.85 for 0.65)
    expect_gt(acc, delta - 0.05)
    expect_lt(acc, delta + 0.22)
  }
  # warmup < 150 shrinks the windows (15% / 75% / 10%), < 20 adapts no metric
  fit <- nuts(tg$log_density, tg$grad, init = rep(0, 10), iter = 200, warmup = 100, chains = 1,
              seed = 8, refresh = 0)
  expect_false(isTRUE(all.equal(fit$state[[1]]$inv_metric, rep(1, 10))))
  fit <- nuts(tg$log_density, tg$grad, init = rep(0, 10), iter = 30, warmup = 15, chains = 1,
              seed = 8, refresh = 0)
  expect_identical(fit$state[[1]]$inv_metric, rep(1, 10))
  expect_true(fit$state[[1]]$stepsize > 0)
})

test_that("same seed gives identical draws; cores = 2 equals cores = 1; thinning", {
  f1 <- nuts(std_normal$lp, std_normal$gr, init = c(1, -1, 0), iter = 200, chains = 2, seed = 42, refresh = 0)
  f2 <- nuts(std_normal$lp, std_normal$gr, init = c(1, -1, 0), iter = 200, chains = 2, seed = 42, refresh = 0)
  expect_identical(f1$draws, f2$draws)
  expect_identical(f1$sampler_diagnostics, f2$sampler_diagnostics)
  skip_on_os("windows")
  f3 <- nuts(std_normal$lp, std_normal$gr, init = c(1, -1, 0), iter = 200, chains = 2, seed = 42,
             refresh = 0, cores = 2)
  expect_identical(f1$draws, f3$draws)
  expect_false(identical(f1$draws[, 1, ], f1$draws[, 2, ]))
  f4 <- nuts(std_normal$lp, std_normal$gr, init = c(1, -1, 0), iter = 200, chains = 2, seed = 42,
             refresh = 0, thin = 3)
  expect_identical(f4$draws, f1$draws[seq(1, 100, by = 3), , , drop = FALSE])
  set.seed(7)
  a <- nuts(std_normal$lp, std_normal$gr, init = 0, iter = 50, chains = 1, refresh = 0)
  set.seed(7)
  b <- nuts(std_normal$lp, std_normal$gr, init = 0, iter = 50, chains = 1, refresh = 0)
  expect_identical(a$draws, b$draws)
})

test_that("the fit has the hbmmm_fit structure; print, summary and resume work", {
  fit <- nuts(std_normal$lp, std_normal$gr, init = function() c(0, 0), iter = 300, chains = 2,
              seed = 1, refresh = 0, names = c("a", "b"))
  expect_s3_class(fit, "hbmmm_fit")
  expect_identical(fit$sampler, "nuts")
  expect_identical(dim(fit$draws), c(150L, 2L, 2L))
  expect_identical(names(dimnames(fit$draws)), c("iteration", "chain", "variable"))
  expect_identical(dimnames(fit$draws)$variable, c("a", "b"))
  expect_setequal(names(fit$sampler_diagnostics),
                  c("divergent", "treedepth", "n_leapfrog", "stepsize", "energy", "accept_stat"))
  for (m in fit$sampler_diagnostics) expect_identical(dim(m), c(150L, 2L))
  expect_true(all(fit$sampler_diagnostics$stepsize[, 1] == fit$state[[1]]$stepsize))
  expect_identical(fit$control$metric, "diag")
  expect_true(fit$timing[["n_grad"]] >= sum(fit$sampler_diagnostics$n_leapfrog))
  expect_null(fit$spec)
  expect_output(print(fit), "NUTS diagnostics")
  expect_output(print(fit), "E-BFMI")
  s <- summary(fit)
  expect_identical(s$table$variable, c("a", "b"))
  f2 <- readRDS({ p <- tempfile(); saveRDS(fit, p); p })
  expect_identical(f2$draws, fit$draws)

  r <- resume_nuts(fit, iter = 100, seed = 3)
  expect_identical(dim(r$draws), c(250L, 2L, 2L))
  expect_identical(r$draws[1:150, , ], fit$draws)
  expect_identical(r$control$iter, 400L)
  expect_true(all(r$sampler_diagnostics$stepsize[151:250, 1] == fit$state[[1]]$stepsize))
  expect_identical(r$state[[2]]$inv_metric, fit$state[[2]]$inv_metric)
  expect_gt(r$timing[["n_grad"]], fit$timing[["n_grad"]])
  # continuing = running the chain's transitions from its last state
  direct <- nuts(std_normal$lp, std_normal$gr, init = list(fit$state[[1]]$theta, fit$state[[2]]$theta),
                 iter = 100, warmup = 0, chains = 2, seed = 3, refresh = 0,
                 stepsize = fit$state[[1]]$stepsize, inv_metric = fit$state[[1]]$inv_metric)
  expect_identical(unname(r$draws[151:250, 1, ]), unname(direct$draws[, 1, ]))
  expect_input_error(resume_nuts(list(), 10), "fit")
})

test_that("init: list per chain, function, and retries where the density is not finite", {
  lp <- function(x) if (x[1] > 0) -0.5 * sum(x^2) else -Inf
  gr <- function(x) -x
  fit <- nuts(lp, gr, init = c(-5, 0), iter = 100, chains = 2, seed = 1, refresh = 0)
  expect_true(all(fit$draws[, , 1] > 0))
  fit <- nuts(std_normal$lp, std_normal$gr, init = list(c(1, 2), c(3, 4)), iter = 20, chains = 2,
              seed = 1, refresh = 0)
  expect_identical(dim(fit$draws), c(10L, 2L, 2L))
  ids <- integer(0)
  fit <- nuts(std_normal$lp, std_normal$gr, init = function(chain_id) { ids <<- c(ids, chain_id); c(0, 0) },
              iter = 20, chains = 3, seed = 1, refresh = 0)
  expect_true(all(1:3 %in% ids))
  never <- function(x) -Inf
  cnd <- expect_error(nuts(never, gr, init = c(0, 0), iter = 20, chains = 1, seed = 1, refresh = 0),
                      class = "hbmmm_init_error")
  expect_identical(cnd$arg, "init")
  expect_match(conditionMessage(cnd), "100 random points")
  nan_grad <- function(x) c(NaN, 0)
  expect_error(nuts(std_normal$lp, nan_grad, init = c(0, 0), iter = 20, chains = 1, seed = 1, refresh = 0),
               class = "hbmmm_init_error")
})

test_that("bad input gives classed errors naming the argument", {
  lp <- std_normal$lp
  gr <- std_normal$gr
  run <- function(...) {
    args <- utils::modifyList(list(log_density = lp, grad = gr, init = c(0, 0), iter = 20, chains = 1,
                                   seed = 1, refresh = 0), list(...))
    do.call(nuts, args)
  }
  expect_input_error(run(log_density = 1), "log_density")
  expect_input_error(run(grad = "x"), "grad")
  expect_input_error(run(init = "a"), "init")
  expect_input_error(run(init = c(1, NA)), "init")
  expect_input_error(run(init = numeric(0)), "init")
  expect_input_error(run(init = list(1, 2), chains = 1), "init")
  expect_input_error(run(init = list(1, c(1, 2)), chains = 2), "init")
  expect_input_error(run(metric = "full"), "metric")
  expect_input_error(run(adapt_delta = 1), "adapt_delta")
  expect_input_error(run(adapt_delta = NA), "adapt_delta")
  expect_input_error(run(max_treedepth = 0), "max_treedepth")
  expect_input_error(run(max_treedepth = 31), "max_treedepth")
  expect_input_error(run(stepsize = -1), "stepsize")
  expect_input_error(run(inv_metric = c(1, -1)), "inv_metric")
  expect_input_error(run(inv_metric = c(1, 1, 1)), "inv_metric")
  expect_input_error(run(inv_metric = matrix(c(1, 2, 2, 1), 2), metric = "dense"), "inv_metric")
  expect_input_error(run(inv_metric = diag(2)), "inv_metric")
  expect_input_error(run(names = c("a", "a")), "names")
  expect_input_error(run(names = "a"), "names")
  expect_input_error(run(chains = 0), "chains")
  expect_input_error(run(iter = 1), "iter")
  expect_input_error(run(warmup = 20), "warmup")
  expect_input_error(run(seed = "x"), "seed")
  # wrong returns of the user's functions, at the start or later
  expect_input_error(run(log_density = function(x) c(1, 2)), "log_density")
  expect_input_error(run(log_density = function(x) "a"), "log_density")
  expect_input_error(run(log_density = function(x) NULL), "log_density")
  expect_input_error(run(grad = function(x) 1), "grad")
  expect_input_error(run(grad = function(x) NA), "grad")
  expect_input_error(run(grad = function(x) list(1, 2)), "grad")
  late_lp <- function(x) if (sum(x^2) > 0.5) c(1, 2) else -0.5 * sum(x^2)
  expect_input_error(run(log_density = late_lp, init = c(0.1, 0.1)), "log_density")
  late_gr <- function(x) if (sum(x^2) > 0.5) "g" else -x
  expect_input_error(run(grad = late_gr, init = c(0.1, 0.1)), "grad")
  if (.Platform$OS.type != "windows") {
    expect_input_error(run(grad = late_gr, init = c(0.1, 0.1), chains = 2, cores = 2), "grad")
  }
})

test_that("non-finite densities in parts of the space are divergences, never crashes", {
  # NaN outside the unit box, Inf gradient on a band, NA on another
  lp <- function(x) if (any(abs(x) > 1)) NaN else -0.5 * sum(x^2)
  gr <- function(x) if (abs(x[1] - 0.5) < 0.01) c(Inf, 0) else if (x[2] > 0.9) c(NA, 1) else -x
  fit <- nuts(lp, gr, init = c(0, 0), iter = 400, chains = 1, seed = 1, refresh = 0)
  expect_true(all(abs(fit$draws) <= 1))
  expect_gt(sum(fit$sampler_diagnostics$divergent), 0)
  expect_true(all(is.finite(fit$sampler_diagnostics$energy)))
  # -Inf log density is zero density: a truncated normal
  lp2 <- function(x) if (x < 0) -Inf else -0.5 * x^2
  fit2 <- nuts(lp2, function(x) -x, init = 1, iter = 1000, chains = 2, seed = 2, refresh = 0)
  expect_true(all(fit2$draws >= 0))
  expect_lt(abs(mean(fit2$draws) - sqrt(2 / pi)) / mcse_mean(fit2$draws[, , 1]), 4.5)
})

test_that("errors in the user's functions propagate as R errors", {
  bad_gr <- function(x) if (x[1] > 0.3) stop("boom in grad") else -x
  expect_error(nuts(std_normal$lp, bad_gr, init = c(0, 0), iter = 50, chains = 1, seed = 1, refresh = 0),
               "boom in grad")
  skip_on_os("windows")
  expect_error(nuts(std_normal$lp, bad_gr, init = c(0, 0), iter = 50, chains = 2, seed = 1, refresh = 0,
                    cores = 2), "boom in grad")
})

test_that("progress is reported through message() and silenced by refresh = 0", {
  expect_message(nuts(std_normal$lp, std_normal$gr, init = 0, iter = 20, chains = 1, seed = 1, refresh = 20),
                 "Chain 1: 20 / 20")
  expect_silent(nuts(std_normal$lp, std_normal$gr, init = 0, iter = 20, chains = 1, seed = 1, refresh = 0))
})

test_that("direct .Call of the entry point with garbage errors cleanly", {
  f <- list(log_density = std_normal$lp, grad = std_normal$gr)
  ok_ctl <- list(iter = 10L, warmup = 5L)
  call <- function(fns = f, init = c(0, 0), control = ok_ctl) .Call(hbmmm:::C_hb_nuts_r, fns, init, control)
  expect_identical(dim(call()$draws), c(5L, 2L))
  garbage <- list(NULL, 1, "a", list(), list(1, 2), NA, c(0, NA), numeric(0), 1:2, list(iter = "a"),
                  function(x) x, quote(x), new.env())
  for (g in garbage) {
    expect_error(call(fns = g), class = "hbmmm_input_error")
    if (!is.double(g) || length(g) == 0 || anyNA(g)) expect_error(call(init = g), class = "hbmmm_input_error")
    expect_error(call(control = g), class = "hbmmm_input_error")
  }
  bad_ctl <- list(list(iter = -1L, warmup = 0L), list(iter = 10L), list(iter = 10L, warmup = 11L),
                  list(iter = 10L, warmup = 5L, thin = 0L), list(iter = 10L, warmup = 5L, max_treedepth = 40L),
                  list(iter = 10L, warmup = 5L, adapt_delta = 1.5), list(iter = 10L, warmup = 5L, adapt_delta = "a"),
                  list(iter = 10L, warmup = 5L, stepsize = NaN), list(iter = 10L, warmup = 5L, inv_metric = 1),
                  list(iter = 10L, warmup = 5L, inv_metric = c(1, -1)),
                  list(iter = 10L, warmup = 5L, dense = TRUE, inv_metric = c(1, 1)),
                  list(iter = 10L, warmup = 5L, dense = TRUE, inv_metric = matrix(c(1, 2, 2, 1), 2)),
                  list(iter = 10L, warmup = 5L, dense = NA), list(iter = 10L, warmup = 5L, refresh = 1L, progress = 1),
                  list(iter = 1e10, warmup = 5L), list(iter = 10L, warmup = 5L, gamma = -1))
  for (ctl in bad_ctl) expect_error(call(control = ctl), class = "hbmmm_input_error")
  expect_error(call(fns = list(log_density = std_normal$lp)), class = "hbmmm_input_error")
  expect_error(call(init = c(5, Inf)), class = "hbmmm_input_error")
  expect_error(call(fns = list(log_density = function(x) -Inf, grad = std_normal$gr)), class = "hbmmm_input_error")
})

test_that("nuts() fits of an R density are hbmmm_nuts_fit: model methods refuse with a classed error, draw methods work", {
  fit <- quiet_sampling(nuts(function(x) -0.5 * sum(x^2), function(x) -x, init = c(0, 0),
                             iter = 200, chains = 2, seed = 1, refresh = 0))
  expect_s3_class(fit, c("hbmmm_nuts_fit", "hbmmm_fit"), exact = TRUE)
  refused <- list(
    predict = function() predict(fit), fitted = function() fitted(fit),
    residuals = function() residuals(fit), posterior_epred = function() posterior_epred(fit),
    posterior_predict = function() posterior_predict(fit), log_lik = function() log_lik(fit),
    fixef = function() fixef(fit), ranef = function() ranef(fit), coef = function() coef(fit),
    waic = function() waic(fit), psis_loo = function() psis_loo(fit), dic = function() dic(fit),
    kfold = function() kfold(fit, 2), compare_models = function() compare_models(fit, fit),
    contributions = function() contributions(fit), roi = function() roi(fit),
    response_curves = function() response_curves(fit),
    treatment_effects = function() treatment_effects(fit),
    simulate_scenario = function() simulate_scenario(fit, shift = c(a = 1)),
    allocate_budget = function() allocate_budget(fit, 100),
    budget_for_target = function() budget_for_target(fit, 100),
    pp_check = function() pp_check(fit), plot_fit = function() plot(fit, "fit"))
  pdf(NULL) # plot methods may open a device before they refuse
  on.exit(dev.off(), add = TRUE)
  for (nm in names(refused)) {
    err <- tryCatch({refused[[nm]](); NULL}, error = identity)
    expect_s3_class(err, "hbmmm_no_model_error")
    expect_s3_class(err, "hbmmm_error")
    expect_match(conditionMessage(err), "no data or model", info = nm)
  }
  # draws-only methods still work
  expect_s3_class(summary(fit), "summary.hbmmm_fit")
  expect_equal(dim(as.matrix(fit)), c(200L, 2L))
  more <- quiet_sampling(resume_nuts(fit, iter = 50, seed = 2))
  expect_s3_class(more, "hbmmm_nuts_fit")
  expect_equal(dim(more$draws)[1], 150L)
})

test_that("hbmmm(sampler = \"nuts\") fits keep the plain hbmmm_fit class (they have a model)", {
  fit <- quick_fit(sampler = "nuts")
  expect_s3_class(fit, "hbmmm_fit", exact = TRUE)
  expect_equal(ncol(log_lik(fit)), nobs(fit))
})

test_that("distinct seeds never alias (no reduction modulo .Machine$integer.max)", {
  draw <- function(seed) {
    quiet_sampling(nuts(function(x) -0.5 * sum(x^2), function(x) -x, init = 0, iter = 20, warmup = 10,
                        chains = 1, seed = seed, refresh = 0))$draws
  }
  expect_false(identical(draw(.Machine$integer.max), draw(0)))
  expect_false(identical(draw(-1), draw(.Machine$integer.max - 1)))
  expect_identical(draw(-5), draw(-5))
  expect_input_error(draw(.Machine$integer.max + 1), "seed")
  expect_input_error(draw(1.5), "seed")
})
