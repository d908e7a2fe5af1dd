# Fitting: hbmmm() runs chains of the C sampler on an hbmmm_spec and
# assembles one hbmmm_fit, whatever the sampler.

SPEC_ARGS <- c("panel", "sigma_by", "weights", "horseshoe", "factors", "personalize",
               "fixed_transforms", "adstock_control", "keep_ranef", "keep_levels")

#' Fit a hierarchical Bayesian marketing mix model
#'
#' Builds the model with [hbmmm_spec()] and samples its posterior with a Gibbs
#' sampler written in C: a joint normal draw of the fixed effects, per-level
#' draws of group-level effects, inverse-Wishart (or diagonal, or
#' factor-analytic) covariance updates, inverse-gamma residual variances,
#' horseshoe auxiliary variables, and adaptive random-walk Metropolis steps
#' for the adstock and saturation parameters of each channel (tuned during
#' warmup only). With `sampler = "nuts"` the same posterior is sampled by the
#' No-U-Turn sampler (src/nuts.c) on the unconstrained scale, with analytic
#' gradients of the model's log density through adstock and saturation.
#'
#' Chains run in parallel with `cores > 1` (forked processes, not on
#' Windows). Each chain draws from its own L'Ecuyer-CMRG random number stream
#' derived from `seed`, so results are identical whatever `cores` is.
#'
#' @inheritParams hbmmm_spec
#' @param sampler `"gibbs"` (Gibbs with Metropolis steps) or `"nuts"` (the
#'   No-U-Turn sampler on the same model and priors, with analytic gradients;
#'   group-level effects non-centred unless `control$centered`).
#' @param chains Number of chains (at least 1).
#' @param iter Iterations per chain, including warmup.
#' @param warmup Warmup iterations per chain (discarded; Metropolis steps
#'   adapt only during warmup).
#' @param thin Keep every `thin`-th draw after warmup.
#' @param cores Number of chains run at the same time.
#' @param seed Whole number making the run reproducible; `NULL` draws one from
#'   R's current random number stream (so `set.seed()` also reproduces a fit).
#' @param refresh Report progress every `refresh` iterations through
#'   [message()]; `0` is silent.
#' @param control NUTS settings, a named list: `adapt_delta` (target
#'   acceptance, default 0.8), `max_treedepth` (10), `metric` (`"diag"` or
#'   `"dense"`), `stepsize` (initial; default from Stan's heuristic),
#'   `centered` (`FALSE`: non-centred group-level effects).
#' @param ... Further arguments of [hbmmm_spec()]: `panel`, `sigma_by`,
#'   `weights`, `horseshoe`, `factors`, `personalize`, `fixed_transforms`,
#'   `adstock_control`, `keep_ranef`, `keep_levels`.
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
                  refresh = max(iter %/% 10, 1), control = list(), ...) {
  call <- match.call()
  sampler <- match_choice(sampler, c("gibbs", "nuts"), "sampler")
  ctl <- check_run_control(chains, iter, warmup, thin, cores, refresh, seed)
  nuts_ctl <- check_hbmmm_control(control, sampler)
  extra <- list(...)
  bad <- setdiff(names(extra), SPEC_ARGS)
  if (length(bad) || (length(extra) && is.null(names(extra)))) {
    abort_input("...", sprintf("unknown argument `%s`; hbmmm() also takes %s",
                               if (length(bad)) bad[1] else "<unnamed>", paste(SPEC_ARGS, collapse = ", ")))
  }
  spec <- do.call(hbmmm_spec, c(list(formula = formula, data = data, media = media, adstock = adstock,
                                     saturation = saturation, prior = prior, time = time), extra))
  check_sampler_priors(spec, sampler)
  fit <- if (sampler == "nuts") run_nuts(spec, ctl, nuts_ctl) else run_gibbs(spec, ctl)
  fit$call <- call
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

# The one chain runner of both samplers: one_chain(i) runs chain i inside
# its own L'Ecuyer-CMRG stream (streams[[i]]), serially or forked
# (ctl$cores > 1), so the draws do not depend on the number of cores. An
# error in a chain is re-raised with its original condition (same class
# whether the chain ran in this process or in a fork); a fork that died
# without a result is an hbmmm_sampler_error.
run_chains <- function(one_chain, ctl, streams = chain_streams(ctl$seed, ctl$chains)) {
  run <- function(i) with_stream(streams[[i]], one_chain(i))
  runs <- if (ctl$cores > 1L && ctl$chains > 1L && .Platform$OS.type != "windows") {
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


# The plain list that src/gibbs.c reads.
gibbs_model <- function(spec) {
  pr <- spec$priors
  X <- spec$X
  tr <- spec$transforms
  media <- spec$media
  C <- length(media)
  n <- spec$nobs
  p <- ncol(X$static)
  ch_par <- matrix(0, 4, C)
  ch_par[3, ] <- 1 # Michaelis-Menten vmax; unused slots stay harmless
  ch_est <- ch_link <- ch_pc <- matrix(0L, 4, C)
  ch_up <- matrix(1, 4, C)
  ch_pp <- matrix(0, 8, C)
  for (i in seq_len(nrow(tr$pars))) {
    r <- tr$pars[i, ]
    c <- match(r$channel, media)
    s <- r$slot + 1L
    ch_par[s, c] <- r$value
    ch_link[s, c] <- r$link
    if (!is.na(r$upper)) ch_up[s, c] <- r$upper
    if (!r$fixed) {
      ch_est[s, c] <- 1L
      pc <- prior_code(tr$priors[[r$name]])
      ch_pc[s, c] <- pc$code
      ch_pp[2 * s - 1:0, c] <- pc$par
    }
  }
  terms <- lapply(names(spec$ranef), function(g) {
    t <- spec$ranef[[g]]
    tp <- translation_pairs(t, X)
    cv <- pr$cov[[g]]
    q <- ncol(t$Z$static)
    type <- HB_CODES$cov[[cv$type]]
    list(G = length(t$levels), q = q, type = type, g = t$codes - 1L, Zs = t$Z$static,
         zc = ifelse(is.na(t$Z$channel), -1L, t$Z$channel - 1L), xmap = shared_columns(t$Z, X),
         pair_j = tp$j, pair_l = tp$l, pair_w = tp$w,
         Sigma0 = diag((cv$scale / 2)^2, q),
         iw_df = if (cv$type == "full") cv$dist$par[["df"]] else q + 2,
         iw_S = if (cv$type == "full") cv$S else diag(q),
         ig = if (cv$type == "diag") vapply(cv$dist, ig_params, numeric(2)) else matrix(1, 2, q),
         nf = if (cv$type == "factor") cv$nf else 0L,
         load_sd = if (cv$type == "factor") cv$loadings$par[["sd"]] * cv$scale else rep(1, q),
         psi_ig = if (cv$type == "factor") rbind(ig_params(cv$psi)[1], ig_params(cv$psi)[2] * cv$scale^2) else matrix(1, 2, q),
         hw_nu = if (cv$type %in% c("hw_full", "hw_diag")) cv$nu else 1,
         hw_A = if (cv$type %in% c("hw_full", "hw_diag")) cv$A else rep(1, q))
  })
  b_par <- vapply(pr$b, function(d) d$par[c("mean", "sd")], numeric(2))
  hs <- if (spec$horseshoe) !is.na(X$channel) else rep(FALSE, p)
  hs_scale <- rep(1, p)
  if (spec$horseshoe) hs_scale[hs] <- pr$horseshoe$par[["scale_global"]] / pr$x_sd[hs]
  S <- max(1L, length(spec$sigma_group$levels))
  cells <- design_cells(spec, p)
  list(cell = cells$cell, ncell = cells$ncell, y = as.double(spec$y), w = spec$weights, S = S, sg = spec$sigma_group$codes - 1L,
       sig_ig = ig_params(pr$sigma), C = C, p = p, Xs = X$static,
       xc = ifelse(is.na(X$channel), -1L, X$channel - 1L),
       b_mean = b_par[1, ], b_sd = b_par[2, ], use_hs = as.integer(spec$horseshoe),
       hs = as.integer(hs), hs_scale = hs_scale,
       npanel = max(spec$panel_codes), pstart = c(0L, cumsum(tabulate(spec$panel_codes))),
       media_raw = spec$media_data,
       ch_ad_type = unname(HB_CODES$adstock[tr$adstock]), ch_sat_type = unname(HB_CODES$saturation[tr$saturation]),
       ch_max_lag = vapply(media, function(ch) if (is.null(tr$max_lag[[ch]])) NA_integer_ else tr$max_lag[[ch]], 1L),
       ch_normalize = as.integer(tr$normalize), ch_par = ch_par, ch_est = ch_est, ch_link = ch_link,
       ch_upper = ch_up, ch_prior_code = ch_pc, ch_prior_par = ch_pp,
       terms = terms, sig2_init = rep(stats::var(spec$y), S),
       keep = lapply(spec$keep, function(k) as.integer(k$levels) - 1L),
       online = as.integer(!vapply(spec$keep, `[[`, TRUE, "full")))
}

# For each column of a random-effect design, the fixed column with the same
# values and channel (0-based), or -1: the pairs the sampler's translation
# move shifts together.
shared_columns <- function(Z, X) {
  vapply(seq_len(ncol(Z$static)), function(l) {
    for (j in seq_len(ncol(X$static))) {
      if (identical(X$channel[j], Z$channel[l]) && identical(unname(X$static[, j]), unname(Z$static[, l]))) {
        return(j - 1L)
      }
    }
    -1L
  }, 1L)
}

# Pairs (fixed column j, term column l) with x_j = w_g z_l inside every
# level g, for the sampler's translation moves: returns 0-based j, l and the
# multipliers as an npair x G matrix. Each fixed column pairs at most once
# per term, and both columns must carry the same media channel (or none).
translation_pairs <- function(t, X) {
  G <- length(t$levels)
  js <- ls <- integer(0)
  W <- matrix(0, 0, G)
  for (j in seq_len(ncol(X$static))) {
    for (l in seq_len(ncol(t$Z$static))) {
      if (!identical(X$channel[j], t$Z$channel[l])) next
      w <- level_multipliers(X$static[, j], t$Z$static[, l], t$codes, G)
      if (is.null(w)) next
      js <- c(js, j - 1L)
      ls <- c(ls, l - 1L)
      W <- rbind(W, w)
      break
    }
  }
  list(j = js, l = ls, w = W)
}

# w_g with x = w_g z in every level g, or NULL when x is not such a multiple
# (x must vanish where z does; levels where z is all zero get w = 0).
level_multipliers <- function(x, z, codes, G) {
  nz <- z != 0
  if (!any(nz) || any(x[!nz] != 0)) return(NULL)
  ratio <- x[nz] / z[nz]
  lo <- tapply(ratio, factor(codes[nz], levels = seq_len(G)), min)
  hi <- tapply(ratio, factor(codes[nz], levels = seq_len(G)), max)
  lo[is.na(lo)] <- 0
  hi[is.na(hi)] <- 0
  if (any(hi - lo > 1e-10 * pmax(1, abs(hi)))) return(NULL)
  w <- unname((lo + hi) / 2)
  if (all(w == 0)) return(NULL)
  w
}

# Cells for the sufficient-statistics path (src/gibbs_cells.c): rows that
# share every group level and residual group. Used when no transform
# parameter is estimated (the design is then fixed) and the cells are few
# enough that a D x D Gram per cell beats a pass over the rows.
design_cells <- function(spec, p) {
  none <- list(cell = NULL, ncell = 0L)
  if (any(!spec$transforms$pars$fixed)) return(none)
  codes <- c(list(spec$sigma_group$codes), lapply(spec$ranef, `[[`, "codes"))
  key <- do.call(paste, c(codes, sep = "\r"))
  cell <- match(key, unique(key))
  ncell <- max(cell)
  D <- p + sum(vapply(spec$ranef, function(t) ncol(t$Z$static), 1L)) + 1
  if (ncell * D >= spec$nobs) return(none)
  list(cell = cell - 1L, ncell = ncell)
}

# Over-dispersed starting points: transform parameters moved on the
# unconstrained scale, residual variances scaled, so that R-hat can see
# chains that have not mixed.
jitter_init <- function(model, spec) {
  pars <- spec$transforms$pars
  for (i in which(!pars$fixed)) {
    c <- match(pars$channel[i], spec$media)
    s <- pars$slot[i] + 1L
    up <- if (is.na(pars$upper[i])) 1 else pars$upper[i]
    u <- link_to_unc(pars$link[i], model$ch_par[s, c], up) + stats::runif(1, -0.5, 0.5)
    model$ch_par[s, c] <- link_from_unc(pars$link[i], u, up)
  }
  model$sig2_init <- model$sig2_init * exp(stats::runif(length(model$sig2_init), -0.7, 0.7))
  model
}

link_to_unc <- function(link, v, upper) {
  switch(link_name(link), logit = stats::qlogis(v), log = log(v), scaled_logit = stats::qlogis(v / upper))
}
link_from_unc <- function(link, u, upper) {
  switch(link_name(link), logit = stats::plogis(u), log = exp(u), scaled_logit = upper * stats::plogis(u))
}

# `init`: NULL, or one final state per chain (fit$state) to continue from;
# a state's `rng` then continues that chain's random number stream unless
# `ctl$new_streams` asks for fresh streams from `ctl$seed`.
run_gibbs <- function(spec, ctl, init = NULL) {
  model <- gibbs_model(spec)
  streams <- chain_streams(ctl$seed, ctl$chains)
  if (!is.null(init) && !isTRUE(ctl$new_streams)) streams <- lapply(init, `[[`, "rng")
  report <- if (ctl$refresh > 0) progress_reporter(ctl$chains) else function(...) NULL
  one_chain <- function(i) {
    m <- if (is.null(init)) jitter_init(model, spec) else c(model, list(init_state = init[[i]]))
    res <- .Call(C_hb_gibbs, m, list(iter = ctl$iter, warmup = ctl$warmup, thin = ctl$thin,
                                     refresh = ctl$refresh, chain = i, progress = report))
    res$state$rng <- get(".Random.seed", envir = globalenv())
    res
  }
  t0 <- proc.time()[["elapsed"]]
  runs <- run_chains(one_chain, ctl, streams)
  elapsed <- proc.time()[["elapsed"]] - t0
  new_fit(spec, runs, ctl, elapsed)
}

# Names of the stored variables of one draw (both samplers). The layout is
# defined once, in C (src/model_layout.c); R supplies the labels it combines:
# column names, per grouping term its group, columns and levels, the residual
# groups, and the transform parameters' names by slot and channel.
draw_names <- function(spec) {
  term_name <- function(x) ifelse(x == "(Intercept)", "Intercept", x)
  model <- gibbs_model(spec)
  pars <- spec$transforms$pars
  tpar <- matrix(NA_character_, 4L, length(spec$media))
  tpar[cbind(pars$slot + 1L, match(pars$channel, spec$media))] <- pars$name
  model$labels <- list(
    x = term_name(spec$X$names),
    terms = lapply(names(spec$ranef), function(g) {
      list(group = g, cols = term_name(spec$ranef[[g]]$Z$names),
           levels = as.character(spec$ranef[[g]]$levels))
    }),
    sigma = as.character(spec$sigma_group$levels),
    tpar = as.character(tpar))
  .Call(C_hb_draw_names, model)
}

new_fit <- function(spec, runs, ctl, elapsed) {
  nm <- draw_names(spec)
  ns <- nrow(runs[[1]]$draws)
  draws <- array(NA_real_, c(ns, ctl$chains, length(nm)),
                 dimnames = list(iteration = NULL, chain = NULL, variable = nm))
  for (i in seq_len(ctl$chains)) draws[, i, ] <- runs[[i]]$draws
  # acceptance of the kept iterations only (post-warmup, thinned), row for
  # row with the draws, as NUTS stores its per-iteration diagnostics
  kept <- seq(ctl$warmup + 1L, ctl$iter, by = ctl$thin)
  acc <- array(NA_real_, c(ns, ctl$chains, length(spec$media)),
               dimnames = list(iteration = NULL, chain = NULL, channel = spec$media))
  for (i in seq_len(ctl$chains)) acc[, i, ] <- runs[[i]]$accept[kept, , drop = FALSE]
  structure(list(
    draws = draws,
    sampler = "gibbs",
    sampler_diagnostics = list(accept = acc),
    ranef_summary = combine_online(spec, runs),
    state = lapply(runs, `[[`, "state"),
    spec = spec,
    control = ctl,
    timing = c(elapsed = elapsed),
    version = utils::packageVersion("hbmmm")
  ), class = "hbmmm_fit")
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
  for (k in seq_along(spec$ranef)) {
    g <- names(spec$ranef)[k]
    if (spec$keep[[g]]$full) next
    t <- spec$ranef[[g]]
    S <- lapply(runs, function(r) r$ranef_summary[[k]])
    mean_c <- sapply(S, function(s) s[, 1])
    sd_c <- sapply(S, function(s) s[, 2])
    n_c <- nrow(runs[[1]]$draws) # draws per chain
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
