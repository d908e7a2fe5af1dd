# Fitting: hbmmm() runs chains of the C sampler on an hbmmm_spec and
# assembles one hbmmm_fit, whatever the sampler.

SPEC_ARGS <- c("panel", "sigma_by", "weights", "horseshoe", "factors", "personalize",
               "fixed_transforms", "adstock_control", "keep_ranef", "keep_levels", "prior_only", "organic",
               "population", "spend", "saturation_control", "calibration", "media_effects")

#' Fit a hierarchical Bayesian marketing mix model
#'
#' Builds the model with [hbmmm_spec()] and samples its posterior with a Gibbs
#' sampler written in C: a joint normal draw of the fixed effects, per-level
#' draws of group-level effects, inverse-Wishart (or diagonal, or
#' factor-analytic) covariance updates, inverse-gamma residual variances,
#' horseshoe auxiliary variables, and Metropolis steps for the adstock and
#' saturation parameters of each channel (tuned during warmup only).
#'
#' When transform parameters are estimated, the sweep is partially
#' collapsed around the grouping term with the most levels (unless its
#' covariance is factor-analytic or LKJ): the Metropolis steps on each
#' channel's parameters (a random walk with a shape learned in doubling
#' warmup windows, then an independence proposal around the learned centre;
#' after 20 sweeps of a warmup longer than 40, each channel first moves to
#' the mode of its conditional posterior, found by Newton steps, which also
#' gives the first shape; a warmup of 93 to 299 sweeps, whose last window
#' is short, repeats that 24 sweeps before its end for the independence
#' proposal) see the likelihood with the fixed effects and that term's effects
#' integrated out, using per-level cross-products; the term's covariance
#' gets Metropolis steps on the same marginal (each sd scaled, and shears
#' that move correlations); then the fixed effects and the term's effects
#' are drawn given the rest. Conditioning on tens of thousands of
#' individual-level effects instead would pin the transforms and the
#' covariance in place. When that term nests in another (individuals in
#' markets, or `market:product:individual` in `market:product`), the outer
#' term's covariance gets the same kind of Metropolis steps and its effects
#' are drawn with the inner effects integrated out; and when each outer
#' level holds at most 20 inner levels on average and every outer column is
#' also an inner one, the Metropolis steps on transforms integrate the
#' outer effects out too (their few levels per outer level leave the outer
#' effects loosely determined, and so coupled with the transforms). With `sampler = "nuts"` the same posterior is sampled by the
#' No-U-Turn sampler (src/nuts.c) on the unconstrained scale, with analytic
#' gradients of the model's log density through adstock and saturation.
#' Both samplers move a Hill curve at its log slope and its logit at the
#' channel's mean spend, `slope * (log(mean spend) - log(halfsat))`, instead
#' of the log half-saturation: the data pin down the curve where the spend
#' is, and far above the spend a half-saturation trades against the
#' coefficient along a curved ridge (the curve is then `b (x /
#' halfsat)^slope`) on which NUTS diverged.
#'
#' Group-level media effects: by default (`media_effects = "normal"`) a
#' term such as `(1 + tv | market)` gives each market the coefficient
#' `b_tv + u` with `u` normal around zero, so markets spread by the same
#' absolute amount and a market's effect can be negative although `b_tv`
#' is positive (when their sd is large next to `b_tv`).
#' `media_effects = "log_normal"` makes them multiplicative, `b_tv *
#' exp(v)`, each positive like `b_tv` (see [hbmmm_spec()]).
#'
#' A mixture of Hill curves (`saturation = "hill_mixture"`, see
#' `saturation_control` in [hbmmm_spec()]) needs `sampler = "nuts"`: its
#' gradients run through the mixture and its weights (Dirichlet or
#' stick-breaking), while
#' the Gibbs sampler's Metropolis step moves a channel's (at most four)
#' transform parameters with one random-walk proposal and cannot move the
#' 3K ordered, strongly dependent component parameters reliably, so the
#' Gibbs sampler refuses a mixture with a classed error.
#'
#' Chains run in parallel with `cores > 1` (forked processes, not on
#' Windows). Each chain draws from its own L'Ecuyer-CMRG random number stream
#' derived from `seed`, so results are identical whatever `cores` is.
#'
#' @inheritParams hbmmm_spec
#' @param sampler `"gibbs"` (Gibbs with Metropolis steps) or `"nuts"` (the
#'   No-U-Turn sampler on the same model and priors, with analytic gradients;
#'   the intercept sampled centred on the predictors' means, group-level
#'   effects centred or not as `control$centered` says).
#' @param chains Number of chains (at least 1).
#' @param iter Iterations per chain, including warmup.
#' @param warmup Warmup iterations per chain (discarded; Metropolis steps
#'   adapt only during warmup).
#' @param thin Keep every `thin`-th draw after warmup.
#' @param cores Number of chains run at the same time on this machine.
#' @param cluster A `parallel` cluster (from [parallel::makeCluster()]:
#'   PSOCK, fork, or workers on other machines over SSH) that runs the chains
#'   instead of `cores`, one chain per task. Every worker needs hbmmm
#'   installed. Each chain has its own L'Ecuyer-CMRG stream, so the draws are
#'   identical to those of `cores = 1` whatever the cluster. Progress is not
#'   reported from workers. For several machines:
#'   `cl <- parallel::makePSOCKcluster(c("node1", "node1", "node2", "node2"))`,
#'   then `hbmmm(..., chains = 4, cluster = cl)` and `parallel::stopCluster(cl)`.
#'   `cluster = "future"` runs each chain as a future under the current
#'   [future::plan()] (package future, installed separately), which reaches
#'   schedulers through its backends: for example
#'   `future::plan(future.batchtools::batchtools_slurm)` for Slurm, or
#'   `future::plan(future::cluster, workers = c("node1", "node2"))`; the
#'   draws are again identical to `cores = 1`.
#' @param threads Threads inside each Gibbs chain (OpenMP), separate from
#'   `cores` (chains at the same time): the per-level work of the collapsed
#'   block (see Details) is split over them, and the draws are identical for
#'   any number of threads. Useful when chains are fewer than cores, e.g. one
#'   long chain on a large panel. Chains run in forked processes (`cores >
#'   1`, or a fork cluster) get one thread each, with a warning, because
#'   OpenMP cannot start threads in a fork; PSOCK cluster workers use
#'   `threads`. Ignored by NUTS.
#' @param seed Whole number making the run reproducible; `NULL` draws one from
#'   R's current random number stream (so `set.seed()` also reproduces a fit).
#'   The Gibbs chains draw from a xoshiro256++ generator seeded from each
#'   chain's L'Ecuyer-CMRG stream, so a fit is reproducible with `seed` but
#'   differs from one made with the same `seed` by hbmmm versions before
#'   this generator (NEWS); NUTS draws from the L'Ecuyer streams directly.
#' @param refresh Report progress every `refresh` iterations through
#'   [message()]; `0` is silent.
#' @param control NUTS settings, a named list: `adapt_delta` (target
#'   acceptance, default 0.8, and 0.95 when a channel has a mixture of Hill
#'   curves with more than one component: where one of its components
#'   takes or loses mass the curvature changes, and the step size of 0.8
#'   diverges there), `max_treedepth` (10), `metric` (`"diag"` or
#'   `"dense"`), `stepsize` (initial; default from Stan's heuristic),
#'   `centered` (`TRUE`: group-level effects hierarchically centred, each
#'   level's whole coefficient sampled, as when the data pin down every
#'   level; `FALSE`: non-centred, standardized effects, as when the prior
#'   does; by default chosen per term: a term with at least 50 rows per
#'   level on average is centred up to its first slope on a channel with
#'   estimated transforms, and that slope and the columns after it are
#'   non-centred given the centred ones (in `(1 + tv | market)`, the
#'   market intercepts centred, the tv slopes not: a level's media slope
#'   scales a curve whose shape all levels share, so the data pin it down
#'   far less than an intercept). `fit$control$centered` holds the number of
#'   centred leading columns of each term).
#' @param ... Further arguments of [hbmmm_spec()]: `panel`, `sigma_by`,
#'   `weights`, `horseshoe`, `factors`, `personalize`, `fixed_transforms`,
#'   `adstock_control`, `keep_ranef`, `keep_levels`, `prior_only`, `organic`,
#'   `population`, `spend`, `saturation_control`, `calibration` (lift tests).
#' @return An object of class `hbmmm_fit`: draws as an array
#'   `[iteration, chain, variable]` named as in brms (`b_Intercept`,
#'   `sd_market__tv`, `cor_market__Intercept__tv`, `r_market[M01,tv]`, `sigma`,
#'   `decay_tv`, `halfsat_tv`, ...), sampler diagnostics (arrays with one row
#'   per kept draw: `accept`, the Metropolis acceptance of each channel's
#'   transform parameters, for Gibbs; `divergent`, `treedepth`, `n_leapfrog`,
#'   `stepsize`, `energy`, `accept_stat` for NUTS), online summaries of
#'   large sets of group-level effects, the spec, the call and timing.
#' @examples
#' \donttest{
#' fit <- hbmmm(sales ~ tv + search + price + (1 + tv | market), data = mmm_weekly,
#'              media = c("tv", "search"), time = "week", chains = 2, iter = 600,
#'              seed = 1, refresh = 0)
#' fit
#' summary(fit)
#' }
#' @export
hbmmm <- function(formula, data, media = NULL, adstock = "geometric", saturation = "hill",
                  prior = NULL, time = NULL, sampler = c("gibbs", "nuts"), chains = 4,
                  iter = 2000, warmup = floor(iter / 2), thin = 1,
                  cores = getOption("mc.cores", 1L), seed = NULL,
                  refresh = max(iter %/% 10, 1), control = list(), ..., cluster = NULL, threads = 1) {
  call <- match.call()
  sampler <- match_choice(sampler, c("gibbs", "nuts"), "sampler")
  ctl <- check_run_control(chains, iter, warmup, thin, cores, refresh, seed)
  ctl$cluster <- check_cluster(cluster)
  ctl$threads <- check_count(threads, "threads", 1, 1024)
  nuts_ctl <- check_hbmmm_control(control, sampler)
  extra <- list(...)
  bad <- setdiff(names(extra), SPEC_ARGS)
  if (length(bad) || (length(extra) && is.null(names(extra)))) {
    abort_input("...", sprintf("unknown argument `%s`; hbmmm() also takes %s",
                               if (length(bad)) bad[1] else "<unnamed>", paste(SPEC_ARGS, collapse = ", ")))
  }
  spec <- do.call(hbmmm_spec, c(list(formula = formula, data = data, media = media, adstock = adstock,
                                     saturation = saturation, prior = prior, time = time), extra))
  # do.call() put the evaluated arguments (the data, the hbmmm_spec function
  # itself) into the spec's own call; the user's call is what to keep
  spec$call <- call
  check_sampler_priors(spec, sampler)
  fit <- if (sampler == "nuts") run_nuts(spec, ctl, nuts_ctl) else run_gibbs(spec, ctl)
  fit$call <- call
  fit <- with_diagnostics(fit)
  check_sampling(fit)
  fit
}

check_run_control <- function(chains, iter, warmup, thin, cores, refresh, seed) {
  chains <- check_count(chains, "chains", 1, 1000)
  iter <- check_count(iter, "iter", 2, 1e8)
  warmup <- check_count(warmup, "warmup", 0, iter - 1)
  thin <- check_count(thin, "thin", 1, iter - warmup)
  cores <- check_count(cores, "cores", 1, 1024)
  refresh <- check_count(refresh, "refresh", 0, 1e8)
  seed <- if (is.null(seed)) sample.int(.Machine$integer.max, 1L) else check_seed(seed)
  list(chains = chains, iter = iter, warmup = warmup, thin = thin, cores = cores,
       refresh = refresh, seed = seed) # any whole number: set.seed() takes it as is, no aliasing
}

# Independent L'Ecuyer-CMRG streams, one per chain; the caller's generator is
# left as it was.
chain_streams <- function(seed, chains) {
  restore <- save_rng()
  on.exit(restore())
  RNGkind("L'Ecuyer-CMRG")
  set.seed(seed)
  s <- get(".Random.seed", envir = globalenv())
  out <- vector("list", chains)
  for (i in seq_len(chains)) {
    out[[i]] <- s
    s <- parallel::nextRNGStream(s)
  }
  out
}

# Threads inside each Gibbs chain. OpenMP cannot start threads in a forked
# process once the parent has used them (libgomp then waits forever), so
# chains run in forks (cores > 1, or a fork cluster) get one thread each.
chain_threads <- function(ctl) {
  th <- if (is.null(ctl$threads)) 1L else ctl$threads
  forked <- if (is.null(ctl$cluster)) {
    ctl$cores > 1L && ctl$chains > 1L && .Platform$OS.type != "windows"
  } else if (identical(ctl$cluster, "future")) {
    inherits(future::plan(), "multicore") && future::nbrOfWorkers() > 1L
  } else {
    inherits(ctl$cluster[[1]], "forknode")
  }
  if (th > 1L && forked) {
    warn_classed("threads", sprintf(paste0(
      "`threads = %d` is ignored: chains run in forked processes (cores = %d%s), where OpenMP cannot start ",
      "threads; use `cores = 1` for threads within a chain, or a PSOCK cluster"),
      th, ctl$cores, if (is.null(ctl$cluster)) "" else ", fork cluster"))
    th <- 1L
  }
  th
}

# The one chain runner of both samplers: one_chain(i) runs chain i inside
# its own L'Ecuyer-CMRG stream (streams[[i]]), serially or forked
# (ctl$cores > 1), so the draws do not depend on the number of cores. An
# error in a chain is re-raised with its original condition (same class
# whether the chain ran in this process or in a fork); a fork that died
# without a result is an hbmmm_sampler_error.
run_chains <- function(one_chain, ctl, streams = chain_streams(ctl$seed, ctl$chains)) {
  run <- function(i) with_stream(streams[[i]], one_chain(i))
  runs <- if (identical(ctl$cluster, "future")) {
    # one future per chain under the user's plan; its seed is the chain's
    # stream, which run() sets again, so the draws match cores = 1
    fs <- lapply(seq_len(ctl$chains), function(i) {
      future::future(try(run(i), silent = TRUE), seed = streams[[i]], packages = "hbmmm",
                     label = sprintf("hbmmm chain %d", i))
    })
    lapply(fs, future::value)
  } else if (!is.null(ctl$cluster)) {
    # one task per chain; try() keeps a failed chain's condition for below
    parallel::parLapply(ctl$cluster, seq_len(ctl$chains), function(i) try(run(i), silent = TRUE))
  } else if (ctl$cores > 1L && ctl$chains > 1L && .Platform$OS.type != "windows") {
    # a failed chain is re-raised below with its own condition, so
    # mclapply's generic warning about it is noise
    withCallingHandlers(
      parallel::mclapply(seq_len(ctl$chains), run, mc.cores = min(ctl$cores, ctl$chains),
                         mc.preschedule = FALSE),
      warning = function(w) {
        if (grepl("resulted in an error|encountered errors in user code", conditionMessage(w))) {
          invokeRestart("muffleWarning")
        }
      })
  } else lapply(seq_len(ctl$chains), run)
  for (i in seq_along(runs)) {
    r <- runs[[i]]
    if (inherits(r, "try-error")) {
      cnd <- attr(r, "condition")
      if (inherits(cnd, "condition")) stop(cnd)
      abort(sprintf("chain %d failed: %s", i, as.character(r)), class = "hbmmm_sampler_error")
    }
    if (!is.list(r) || is.null(r$draws)) {
      abort(sprintf("chain %d failed (the forked process returned no result)", i), class = "hbmmm_sampler_error")
    }
  }
  runs
}

check_cluster <- function(cluster) {
  if (is.null(cluster)) return(NULL)
  if (identical(cluster, "future")) {
    if (!requireNamespace("future", quietly = TRUE)) {
      abort_input("cluster", "\"future\" needs the future package; install it, or pass a parallel cluster")
    }
    return(cluster)
  }
  if (!inherits(cluster, "cluster")) {
    abort_input("cluster", sprintf(paste0("must be a cluster made by parallel::makeCluster(), \"future\" ",
                                          "(the current future::plan()), or NULL; found %s"),
                                   describe_value(cluster)))
  }
  cluster
}

with_stream <- function(stream, expr) {
  restore <- save_rng()
  on.exit(restore())
  RNGkind("L'Ecuyer-CMRG")
  assign(".Random.seed", stream, envir = globalenv())
  expr
}

progress_reporter <- function(chains) {
  start <- proc.time()[["elapsed"]]
  function(chain, it, iter, warmup) {
    el <- proc.time()[["elapsed"]] - start
    left <- el / it * (iter - it)
    message(sprintf("Chain %d: %*d / %d [%3.0f%%] (%s)  %s elapsed, about %s left",
                    chain, nchar(iter), it, iter, 100 * it / iter,
                    if (it <= warmup) "warmup" else "sampling", format_secs(el), format_secs(left)))
  }
}

format_secs <- function(s) {
  if (s < 60) sprintf("%.1f s", s) else if (s < 3600) sprintf("%.1f min", s / 60) else sprintf("%.1f h", s / 3600)
}


# `init`: NULL, or one final state per chain (fit$state) to continue from;
# a state's `rng` (R's stream) and `xoshiro` (the chain's own generator,
# src/rng.c) then continue that chain's random numbers unless
# `ctl$new_streams` asks for fresh streams from `ctl$seed` (the C side seeds
# a new generator from the stream when the state has no `xoshiro`).
run_gibbs <- function(spec, ctl, init = NULL) {
  model <- mmm_model_list(spec)
  streams <- chain_streams(ctl$seed, ctl$chains)
  if (!is.null(init)) {
    if (isTRUE(ctl$new_streams)) {
      init <- lapply(init, function(s) {
        s$xoshiro <- NULL
        s
      })
    } else streams <- lapply(init, `[[`, "rng")
  }
  report <- if (ctl$refresh > 0) progress_reporter(ctl$chains) else function(...) NULL
  threads <- chain_threads(ctl)
  nm <- draw_names(spec, model)
  one_chain <- function(i) {
    m <- if (is.null(init)) jitter_init(model, spec) else c(model, list(init_state = init[[i]]))
    # with the names, C returns the chain as a fit's draws array
    res <- .Call(C_hb_gibbs, m, list(iter = ctl$iter, warmup = ctl$warmup, thin = ctl$thin,
                                     refresh = ctl$refresh, chain = i, progress = report,
                                     threads = threads, names = nm))
    res$state$rng <- get(".Random.seed", envir = globalenv())
    res
  }
  t0 <- proc.time()[["elapsed"]]
  runs <- run_chains(one_chain, ctl, streams)
  elapsed <- proc.time()[["elapsed"]] - t0
  new_fit(spec, runs, ctl, elapsed, nm)
}

# The chains' draws [iteration, variable] (each run's array [iteration, 1,
# variable] or matrix) as one array [iteration, chain, variable]; a single
# chain's array as it is, without a copy.
combine_chain_draws <- function(runs, nm) {
  d1 <- runs[[1]]$draws
  if (length(runs) == 1L && length(dim(d1)) == 3L && identical(dimnames(d1)[[3L]], nm)) return(d1)
  draws <- array(NA_real_, c(dim(d1)[1L], length(runs), length(nm)),
                 dimnames = list(iteration = NULL, chain = NULL, variable = nm))
  for (i in seq_along(runs)) draws[, i, ] <- runs[[i]]$draws
  draws
}

new_fit <- function(spec, runs, ctl, elapsed, nm) {
  draws <- combine_chain_draws(runs, nm)
  ns <- dim(draws)[1L]
  # acceptance of the kept iterations only (post-warmup, thinned), row for
  # row with the draws, as NUTS stores its per-iteration diagnostics
  kept <- seq(ctl$warmup + 1L, ctl$iter, by = ctl$thin)
  acc <- array(NA_real_, c(ns, ctl$chains, length(spec$media)),
               dimnames = list(iteration = NULL, chain = NULL, channel = spec$media))
  for (i in seq_len(ctl$chains)) acc[, i, ] <- runs[[i]]$accept[kept, , drop = FALSE]
  new_hbmmm_fit(draws, "gibbs", list(accept = acc), lapply(runs, `[[`, "state"), spec, ctl,
                c(elapsed = elapsed), ranef_summary = combine_online(spec, runs))
}

# Online summaries of large terms, pooled over chains: the mean of chain
# means, the sd of all draws (from each chain's mean and sample sd), and
# quantiles averaged over chains.
# Sample variance of pooled groups from their means and sample sds
# (columns: groups), n draws each, pooled mean m.
pooled_var <- function(means, sds, n, m) {
  N <- sum(n)
  ss <- (sds^2) %*% (n - 1) + (means^2) %*% n
  pmax(drop(ss) - N * m^2, 0) / (N - 1)
}

combine_online <- function(spec, runs) {
  out <- list()
  eranef <- engine_ranef(spec$ranef) # the samplers' terms, which the summaries index
  for (k in seq_along(eranef)) {
    g <- names(eranef)[k]
    if (spec$keep[[g]]$full) next
    t <- eranef[[g]]
    S <- lapply(runs, function(r) r$ranef_summary[[k]])
    mean_c <- sapply(S, function(s) s[, 1])
    sd_c <- sapply(S, function(s) s[, 2])
    n_c <- dim(runs[[1]]$draws)[1L] # draws per chain
    m <- rowMeans(as.matrix(mean_c))
    v <- pooled_var(as.matrix(mean_c), as.matrix(sd_c), rep(n_c, length(runs)), m)
    tn <- ifelse(t$Z$names == "(Intercept)", "Intercept", t$Z$names)
    out[[g]] <- data.frame(
      level = rep(t$levels, times = length(tn)),
      term = rep(tn, each = length(t$levels)),
      mean = m, sd = sqrt(pmax(v, 0)),
      q2.5 = rowMeans(as.matrix(sapply(S, function(s) s[, 3]))),
      q97.5 = rowMeans(as.matrix(sapply(S, function(s) s[, 4]))),
      stringsAsFactors = FALSE)
    # C stores u as q x G (term fastest); reorder rows to level-within-term
    idx <- as.vector(t(matrix(seq_len(nrow(out[[g]])), nrow = length(tn))))
    out[[g]][, c("mean", "sd", "q2.5", "q97.5")] <- out[[g]][idx, c("mean", "sd", "q2.5", "q97.5")]
  }
  out
}
