# NUTS: the generic sampler nuts() for user-supplied log densities, and the
# pieces shared with hbmmm(sampler = "nuts"): control checks, running chains
# (streams, progress, parallel), assembling an hbmmm_fit, and resuming chains.
# The engine itself is src/nuts.c.

#' No-U-turn sampler for a user-supplied log density
#'
#' Samples a distribution on \eqn{R^d} from its (unnormalized) log density and
#' gradient with the no-U-turn sampler of Hoffman and Gelman (2014) in the
#' form Stan uses (Betancourt 2017): multinomial sampling of the trajectory,
#' the generalized U-turn criterion, a divergence when the energy error
#' exceeds 1000 or the density is not finite, and Stan's warmup: step-size
#' dual averaging towards `adapt_delta` and a diagonal or dense metric
#' estimated in doubling windows (75 initial, 25 first window, 50 terminal
#' iterations, scaled down for short warmups).
#'
#' Parameters must be unconstrained: map constrained ones (e.g. `log(sigma)`)
#' and add the log Jacobian to the log density. Where the log density returns
#' `-Inf`, `NaN` or `NA` (or the gradient is not finite) the point has zero
#' density: the trajectory stops there and the transition counts as
#' divergent. Each chain starts at its `init`; when the log density or the
#' gradient is not finite there, up to 100 points drawn uniformly in
#' \eqn{(-2, 2)^d} are tried, as in Stan.
#'
#' Chains run in parallel with `cores > 1` (forked processes, not on
#' Windows), each on its own L'Ecuyer-CMRG random number stream derived from
#' `seed`, so the draws do not depend on `cores`. Continue a run with
#' [resume_nuts()].
#'
#' @param log_density Function of the parameter vector `theta` returning the
#'   log density up to a constant (a single number).
#' @param grad Function of `theta` returning the gradient of `log_density`, a
#'   numeric vector of the same length as `theta`.
#' @param init Starting point: a numeric vector (its length is the dimension;
#'   used by every chain), a function returning one (called once per chain,
#'   with argument `chain_id` if it has one), or a list of vectors, one per
#'   chain.
#' @param iter Iterations per chain, including warmup.
#' @param warmup Warmup iterations per chain (adaptation; discarded).
#' @param chains Number of chains.
#' @param seed Whole number making the run reproducible; `NULL` draws one from
#'   R's current random number stream (so `set.seed()` also reproduces a run).
#' @param metric `"diag"` (a diagonal inverse metric, estimated variances) or
#'   `"dense"` (a full inverse metric, estimated covariance matrix).
#' @param adapt_delta Target mean acceptance statistic of step-size
#'   adaptation, in (0, 1); larger values give smaller steps and fewer
#'   divergences.
#' @param max_treedepth Largest tree depth (at most `2^max_treedepth`
#'   leapfrog steps per iteration), 1 to 30.
#' @param thin Keep every `thin`-th draw after warmup.
#' @param cores Number of chains run at the same time.
#' @param refresh Report progress every `refresh` iterations through
#'   [message()]; `0` is silent.
#' @param names Names of the parameters (default `theta[1]`, `theta[2]`, ...).
#' @param stepsize Initial step size (`NULL`: 1, then Stan's initialization
#'   heuristic). With `warmup = 0` a given step size is used as is.
#' @param inv_metric Initial inverse metric: `NULL` (identity), a vector of
#'   positive values (diagonal) or, with `metric = "dense"`, a symmetric
#'   positive definite matrix. With `warmup = 0` it is used as is.
#' @return An object of class `c("hbmmm_nuts_fit", "hbmmm_fit")` with
#'   `sampler = "nuts"` and no model (`spec = NULL`): draw-based methods
#'   (`summary()`, `as.matrix()`, diagnostics, trace plots, [resume_nuts()])
#'   work, while model methods (`predict()`, `log_lik()`, `waic()`,
#'   `contributions()`, `roi()`, ...) raise an `hbmmm_no_model_error`. It holds `draws`
#'   (array `[iteration, chain, variable]`), `sampler_diagnostics` (matrices
#'   `[iteration, chain]` of `divergent`, `treedepth`, `n_leapfrog`,
#'   `stepsize`, `energy`, `accept_stat`), `state` (per chain the last
#'   `theta`, the adapted `stepsize` and `inv_metric`), `control`, `timing`
#'   (elapsed seconds and gradient evaluations `n_grad`), `model` (the
#'   functions, for [resume_nuts()]) and `call`.
#' @references Hoffman, M. D. and Gelman, A. (2014). The No-U-Turn Sampler:
#'   adaptively setting path lengths in Hamiltonian Monte Carlo. *Journal of
#'   Machine Learning Research*, 15, 1593-1623.
#'
#'   Betancourt, M. (2017). A conceptual introduction to Hamiltonian Monte
#'   Carlo. arXiv:1701.02434.
#' @examples
#' # A correlated bivariate normal
#' S <- matrix(c(1, 0.9, 0.9, 1), 2)
#' P <- solve(S)
#' fit <- nuts(function(x) -0.5 * sum(x * (P %*% x)), function(x) -as.vector(P %*% x),
#'             init = c(0, 0), iter = 600, chains = 2, seed = 1, refresh = 0)
#' fit
#' @export
nuts <- function(log_density, grad, init, iter = 2000, warmup = floor(iter / 2), chains = 4,
                 seed = NULL, metric = c("diag", "dense"), adapt_delta = 0.8, max_treedepth = 10,
                 thin = 1, cores = getOption("mc.cores", 1L), refresh = max(iter %/% 10, 1),
                 names = NULL, stepsize = NULL, inv_metric = NULL) {
  call <- match.call()
  if (!is.function(log_density)) {
    abort_input("log_density", sprintf("must be a function of the parameter vector; found %s", describe_value(log_density)))
  }
  if (!is.function(grad)) {
    abort_input("grad", sprintf("must be a function of the parameter vector; found %s", describe_value(grad)))
  }
  ctl <- check_run_control(chains, iter, warmup, thin, cores, refresh, seed)
  dim <- init_dimension(init, ctl$chains)
  nuts_ctl <- check_nuts_control(metric, adapt_delta, max_treedepth, stepsize, inv_metric, dim = dim)
  names <- check_par_names(names, dim)
  chain_fun <- user_chain_fun(log_density, grad, init, dim)
  t0 <- proc.time()[["elapsed"]]
  runs <- run_nuts_chains(chain_fun, ctl, nuts_ctl)
  elapsed <- proc.time()[["elapsed"]] - t0
  # draws without a model: see check_model_fit()
  fit <- new_nuts_fit(runs, names, ctl, nuts_ctl, elapsed,
                      extra = list(model = list(log_density = log_density, grad = grad, init = init)),
                      class = "hbmmm_nuts_fit")
  fit$call <- call
  fit <- with_diagnostics(fit)
  check_sampling(fit) # Stan's warnings: divergences, tree depth, E-BFMI, R-hat, ESS
  fit
}

#' Continue the chains of a NUTS fit
#'
#' Runs more iterations of every chain of a fit made with `sampler = "nuts"`
#' (by [nuts()] or [hbmmm()]), starting from the last state of each chain and
#' keeping its adapted step size and metric (no further warmup), and returns
#' the fit with the new draws appended.
#'
#' @param fit An `hbmmm_fit` made by the NUTS sampler.
#' @param iter Further iterations per chain.
#' @param thin Keep every `thin`-th of them.
#' @param seed Whole number making the continuation reproducible; `NULL` draws
#'   one from R's current random number stream.
#' @param cores Number of chains run at the same time.
#' @param refresh Report progress every `refresh` iterations; `0` is silent.
#' @return The `hbmmm_fit` with `ceiling(iter / thin)` more draws per chain, updated
#'   diagnostics, state and timing; `control$iter` counts all iterations.
#' @examples
#' fit <- nuts(function(x) -0.5 * sum(x^2), function(x) -x, init = c(0, 0),
#'             iter = 400, chains = 2, seed = 1, refresh = 0)
#' fit2 <- resume_nuts(fit, iter = 200, seed = 2)
#' dim(fit2$draws)
#' @export
resume_nuts <- function(fit, iter, thin = 1, seed = NULL, cores = fit$control$cores,
                        refresh = 0) {
  if (!inherits(fit, "hbmmm_fit") || !identical(fit$sampler, "nuts")) {
    abort_input("fit", sprintf("must be an hbmmm_fit made by the NUTS sampler; found %s", describe_value(fit)))
  }
  if (!is.null(fit$spec)) check_state_layout(fit)
  chain_fun <- resume_chain_fun(fit)
  old <- fit$control
  ctl <- check_run_control(old$chains, iter, 0, thin, if (is.null(cores)) 1L else cores, refresh, seed)
  nuts_ctl <- check_nuts_control(old$metric, old$adapt_delta, old$max_treedepth)
  state <- fit$state
  t0 <- proc.time()[["elapsed"]]
  runs <- run_nuts_chains(function(i, control) {
    control$stepsize <- state[[i]]$stepsize
    control$inv_metric <- state[[i]]$inv_metric
    chain_fun(i, control, state[[i]]$theta)
  }, ctl, nuts_ctl)
  elapsed <- proc.time()[["elapsed"]] - t0
  new <- new_nuts_fit(runs, dimnames(fit$draws)[[3]], ctl, nuts_ctl, elapsed, spec = fit$spec)
  if (length(fit$ranef_summary)) new$ranef_summary <- combine_online(fit$spec, runs)
  out <- append_fit(fit, new, ctl$iter)
  out$control$resumed <- c(old$resumed, stats::setNames(ctl$iter, paste0("thin", ctl$thin)))
  out
}

# Version of the MMM density's unconstrained coordinates (src/model_mmm.c)
# stored with each chain's state. 2: the slope of a mixture-of-Hills
# channel is held as the log of its mean contribution; states without it
# (layout 1) hold log b there and cannot continue such a fit.
NUTS_THETA_LAYOUT <- 2L

# A state that the current density can continue: refused when the fit has a
# mixture of Hill curves and its state predates layout 2.
check_state_layout <- function(fit) {
  if (!has_mixture(fit$spec$transforms)) return(invisible(TRUE))
  old <- vapply(fit$state, function(s) is.null(s$layout) || s$layout < NUTS_THETA_LAYOUT, TRUE)
  if (any(old)) {
    abort_input("fit", paste0("was made by an hbmmm version whose NUTS coordinates of a mixture of Hill curves ",
                              "differ from this one's (the channel's slope is now held as its mean contribution); ",
                              "refit it with hbmmm() instead of continuing it"))
  }
  invisible(TRUE)
}

# The chain function that continues a fit: the fit's own (an MMM fit stores
# one in $model$chain_fun) or, for nuts() fits, one built from the user's
# functions.
resume_chain_fun <- function(fit) {
  if (is.function(fit$model$chain_fun)) return(fit$model$chain_fun)
  if (!is.null(fit$spec)) return(mmm_chain_fun(fit$spec, fit$control$centered))
  if (is.null(fit$spec) && is.function(fit$model$log_density) && is.function(fit$model$grad)) {
    return(user_chain_fun(fit$model$log_density, fit$model$grad, fit$model$init,
                          dim(fit$draws)[3]))
  }
  abort("this fit holds no model to continue sampling from", class = "hbmmm_input_error", arg = "fit")
}

# ---- shared pieces (also used by hbmmm(sampler = "nuts")) -------------------

# Checked NUTS settings: list(metric, dense, adapt_delta, max_treedepth,
# stepsize (0 = heuristic), inv_metric (NULL, vector or matrix)). `dim`,
# when known, checks the size of inv_metric.
check_nuts_control <- function(metric = "diag", adapt_delta = 0.8, max_treedepth = 10,
                               stepsize = NULL, inv_metric = NULL, dim = NULL) {
  metric <- match_choice(metric, c("diag", "dense"), "metric")
  if (!is.numeric(adapt_delta) || length(adapt_delta) != 1L || is.na(adapt_delta) ||
      adapt_delta <= 0 || adapt_delta >= 1) {
    abort_input("adapt_delta", sprintf("must be a number in (0, 1); found %s", describe_value(adapt_delta)))
  }
  max_treedepth <- check_count(max_treedepth, "max_treedepth", 1, 30)
  if (is.null(stepsize)) {
    stepsize <- 0
  } else if (!is.numeric(stepsize) || length(stepsize) != 1L || is.na(stepsize) ||
             !(stepsize > 0 && stepsize < 1e7)) {
    abort_input("stepsize", sprintf("must be NULL or a positive number below 1e7; found %s", describe_value(stepsize)))
  }
  if (!is.null(inv_metric)) inv_metric <- check_inv_metric(inv_metric, metric, dim)
  list(metric = metric, dense = metric == "dense", adapt_delta = as.double(adapt_delta),
       max_treedepth = max_treedepth, stepsize = as.double(stepsize), inv_metric = inv_metric)
}

check_inv_metric <- function(x, metric, dim) {
  bad <- function(what) abort_input("inv_metric", sprintf("must be %s; found %s", what, describe_value(x)))
  if (!is.numeric(x) || anyNA(x) || any(!is.finite(x))) bad("a numeric vector or matrix of finite values")
  if (is.matrix(x)) {
    if (metric != "dense") bad("a vector of positive values with metric = \"diag\"")
    if (nrow(x) != ncol(x) || (!is.null(dim) && nrow(x) != dim)) {
      bad(sprintf("a square matrix of dimension %s", if (is.null(dim)) "d" else dim))
    }
    if (max(abs(x - t(x))) > 1e-8 * max(abs(x))) bad("a symmetric matrix")
    if (inherits(try(chol(x), silent = TRUE), "try-error")) bad("a positive definite matrix")
    storage.mode(x) <- "double"
    return(unname(x))
  }
  if (!is.null(dim) && length(x) != dim) bad(sprintf("of length %d (one value per parameter)", dim))
  if (any(x <= 0)) bad("positive")
  x <- as.double(x)
  if (metric == "dense") diag(x, length(x)) else x
}

# The list src/nuts.c reads (hb_nuts_read_control) for one chain.
nuts_control_list <- function(ctl, nuts_ctl, chain, progress = NULL) {
  list(iter = ctl$iter, warmup = ctl$warmup, thin = ctl$thin, refresh = ctl$refresh,
       chain = as.integer(chain), progress = progress, max_treedepth = nuts_ctl$max_treedepth,
       dense = nuts_ctl$dense, adapt_delta = nuts_ctl$adapt_delta, stepsize = nuts_ctl$stepsize,
       inv_metric = nuts_ctl$inv_metric)
}

# Runs chain_fun(i, control) for every chain through run_chains(), where
# `control` is the chain's list for the C engine (nuts_control_list());
# chain_fun may modify it (e.g. a per-chain step size) before passing it on.
run_nuts_chains <- function(chain_fun, ctl, nuts_ctl) {
  report <- if (ctl$refresh > 0) progress_reporter(ctl$chains) else NULL
  run_chains(function(i) chain_fun(i, nuts_control_list(ctl, nuts_ctl, i, report)), ctl)
}

NUTS_DIAGNOSTICS <- c("divergent", "treedepth", "n_leapfrog", "stepsize", "energy", "accept_stat")

# An hbmmm_fit from the chain results of run_nuts_chains().
new_nuts_fit <- function(runs, variable_names, ctl, nuts_ctl, elapsed, spec = NULL, extra = list(),
                         class = character(0)) {
  ns <- nrow(runs[[1]]$draws)
  nc <- length(runs)
  draws <- array(NA_real_, c(ns, nc, length(variable_names)),
                 dimnames = list(iteration = NULL, chain = NULL, variable = variable_names))
  for (i in seq_len(nc)) draws[, i, ] <- runs[[i]]$draws
  sd <- lapply(stats::setNames(NUTS_DIAGNOSTICS, NUTS_DIAGNOSTICS), function(k) {
    matrix(vapply(runs, function(r) r$diag[, k], numeric(ns)), ns, nc,
           dimnames = list(iteration = NULL, chain = NULL))
  })
  state <- lapply(runs, function(r) list(theta = r$theta, stepsize = r$stepsize, inv_metric = r$inv_metric,
                                         layout = NUTS_THETA_LAYOUT))
  control <- c(ctl, list(adapt_delta = nuts_ctl$adapt_delta, max_treedepth = nuts_ctl$max_treedepth,
                         metric = nuts_ctl$metric))
  new_hbmmm_fit(draws, "nuts", sd, state, spec, control,
                c(elapsed = elapsed, n_grad = sum(vapply(runs, `[[`, 1, "n_grad"))), extra = extra, class = class)
}

# ---- nuts() internals -----------------------------------------------------

# Dimension implied by `init` (vector, function or list of vectors), with
# checks.
init_dimension <- function(init, chains) {
  if (is.function(init)) {
    x <- call_init(init, 1L)
    check_init_vector(x, "init", "the function `init` must return")
    return(length(x))
  }
  if (is.list(init)) {
    if (length(init) != chains) {
      abort_input("init", sprintf("must have one vector per chain (%d); found a list of length %d", chains, length(init)))
    }
    for (i in seq_along(init)) check_init_vector(init[[i]], "init", sprintf("init[[%d]] must be", i))
    lens <- vapply(init, length, 1L)
    if (any(lens != lens[1])) abort_input("init", sprintf("vectors must all have the same length; found lengths %s", paste(lens, collapse = ", ")))
    return(lens[1])
  }
  check_init_vector(init, "init", "must be")
  length(init)
}

check_init_vector <- function(x, arg, what) {
  if (!is.numeric(x) || length(x) < 1L || length(x) > 1e5 || is.matrix(x) && min(dim(x)) > 1L) {
    abort_input(arg, sprintf("%s a numeric vector (one value per parameter), a function returning one, or a list of them; found %s",
                             what, describe_value(x)))
  }
  if (any(!is.finite(x))) abort_input(arg, sprintf("%s finite; found %s", what, describe_value(x)))
  invisible(x)
}

call_init <- function(init, chain) {
  if ("chain_id" %in% names(formals(init))) init(chain_id = chain) else init()
}

check_par_names <- function(names, dim) {
  if (is.null(names)) return(sprintf("theta[%d]", seq_len(dim)))
  if (!is.character(names) || length(names) != dim || anyNA(names) || anyDuplicated(names) || any(names == "")) {
    abort_input("names", sprintf("must be %d distinct non-empty strings (one per parameter); found %s", dim, describe_value(names)))
  }
  names
}

# The log density and gradient at theta, with the type checks of nuts():
# list(lp, grad, ok) where ok says both are finite.
eval_user_density <- function(log_density, grad, theta) {
  lp <- log_density(theta)
  if (!is.numeric(lp) || length(lp) != 1L) {
    abort_input("log_density", sprintf("must return a single number; it returned %s", describe_value(lp)))
  }
  if (!is.finite(lp)) return(list(lp = lp, grad = NULL, ok = FALSE))
  g <- grad(theta)
  if (!is.numeric(g) || length(g) != length(theta)) {
    abort_input("grad", sprintf("must return a numeric vector of length %d (one value per parameter); it returned %s",
                                length(theta), describe_value(g)))
  }
  list(lp = lp, grad = g, ok = all(is.finite(g)))
}

# A starting point where the log density and gradient are finite: the
# user's, else up to 100 uniform(-2, 2) draws (Stan's rule).
find_init <- function(log_density, grad, init, chain, dim) {
  theta <- if (is.function(init)) call_init(init, chain) else if (is.list(init)) init[[chain]] else init
  check_init_vector(theta, "init", "the function `init` must return")
  if (length(theta) != dim) {
    abort_input("init", sprintf("must give vectors of length %d for every chain; chain %d got length %d", dim, chain, length(theta)))
  }
  theta <- as.double(theta)
  first <- eval_user_density(log_density, grad, theta)
  if (first$ok) return(theta)
  for (k in seq_len(100)) {
    theta <- stats::runif(dim, -2, 2)
    if (eval_user_density(log_density, grad, theta)$ok) return(theta)
  }
  abort(sprintf(paste0("chain %d: the log density or its gradient is not finite at `init` (log density %s) ",
                       "nor at 100 random points in (-2, 2)^%d; give an `init` where both are finite"),
                chain, format(first$lp), dim),
        class = c("hbmmm_init_error", "hbmmm_input_error"), arg = "init")
}

# chain_fun for nuts(): function(i, control, theta = NULL) running chain i
# from theta (or from an initial point found by find_init()).
user_chain_fun <- function(log_density, grad, init, dim) {
  force(log_density)
  force(grad)
  force(init)
  function(i, control, theta = NULL) {
    if (is.null(theta)) theta <- find_init(log_density, grad, init, i, dim)
    .Call(C_hb_nuts_r, list(log_density = log_density, grad = grad), as.double(theta), control)
  }
}

