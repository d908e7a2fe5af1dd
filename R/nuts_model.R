# hbmmm(sampler = "nuts"): the MMM log density (src/model_mmm.c) reads the
# same model list as the Gibbs sampler (mmm_model_list()) plus the options below,
# and runs on the NUTS engine (src/nuts.c).

# Options of the NUTS density that the Gibbs sampler does not have: the
# parameterization of group-level effects, LKJ correlation priors with their
# scale priors, and the regularized horseshoe's slab.
nuts_model_options <- function(spec, centered = FALSE) {
  eranef <- engine_ranef(spec$ranef)
  K <- length(eranef)
  cov <- spec$priors$cov[names(eranef)]
  lkj_eta <- rep(1, K)
  sd_code <- integer(K)
  sd_par <- list()
  for (k in seq_len(K)) {
    cv <- cov[[k]]
    q <- ncol(eranef[[k]]$Z$static)
    sd_par[[k]] <- matrix(1, 2, q)
    if (!identical(cv$type, "lkj")) next
    lkj_eta[k] <- cv$eta
    pc <- prior_code(cv$sd)
    sd_code[k] <- pc$code
    # per unit of each predictor, like the default priors: scales grow
    # with 1 / sd(z_j) (exponential: the rate shrinks)
    sd_par[[k]] <- switch(cv$sd$family,
      half_normal = rbind(pc$par[1] * cv$zs, 0),
      exponential = rbind(pc$par[1] / cv$zs, 0),
      half_student_t = rbind(pc$par[1], pc$par[2] * cv$zs))
  }
  hs <- c(1, 1, Inf, 4)
  if (spec$horseshoe) {
    d <- spec$priors$horseshoe$par
    hs <- c(d[["df"]], d[["df_global"]], d[["scale_slab"]], d[["df_slab"]])
  }
  list(centered = centred_columns(spec, centered), mult_centered = centred_blocks(spec, centered),
       lkj_eta = as.double(lkj_eta), sd_code = as.integer(sd_code),
       sd_par = as.double(unlist(sd_par)), hs = as.double(hs))
}

# Priors only the NUTS density implements, refused for the Gibbs sampler.
check_sampler_priors <- function(spec, sampler) {
  if (sampler != "gibbs") return(invisible(TRUE))
  mix <- names(spec$transforms$components)[spec$transforms$components > 0]
  if (length(mix)) {
    # the Gibbs sampler's Metropolis step moves a channel's (at most four)
    # transform parameters with one adaptive random-walk proposal; a mixture
    # has 3K strongly dependent, ordered parameters (weights trade off with
    # half-saturations), where random-walk steps mix too slowly to trust
    abort_input("sampler", sprintf("a mixture of Hill curves (saturation = \"hill_mixture\", channel `%s`) needs sampler = \"nuts\": the Gibbs sampler's random-walk Metropolis step cannot move its %d ordered, strongly dependent component parameters reliably",
                                   mix[1], 3L * spec$transforms$components[[mix[1]]]))
  }
  lkj <- vapply(spec$priors$cov, function(cv) identical(cv$type, "lkj"), TRUE)
  if (any(lkj)) {
    abort_input("prior", sprintf("`cor`/`sd` (LKJ) priors for `%s` need sampler = \"nuts\"; the Gibbs sampler takes cov = half_student_t() or inv_wishart()",
                                 names(spec$priors$cov)[lkj][1]))
  }
  hs <- spec$priors$horseshoe
  if (!is.null(hs) && (hs$par[["df"]] != 1 || hs$par[["df_global"]] != 1 || is.finite(hs$par[["scale_slab"]]))) {
    abort_input("prior", sprintf("the Gibbs sampler's horseshoe has df = 1, df_global = 1 and no slab; %s needs sampler = \"nuts\"",
                                 format(hs)))
  }
  invisible(TRUE)
}

NUTS_CONTROL_ARGS <- c("adapt_delta", "max_treedepth", "metric", "stepsize", "centered")

# hbmmm(control = ): NUTS settings, checked; `centered` chooses the
# parameterization of group-level effects.
check_hbmmm_control <- function(control, sampler) {
  if (!is.list(control) || (length(control) && is.null(names(control)))) {
    abort_input("control", sprintf("must be a named list with elements among %s; found %s",
                                   paste(NUTS_CONTROL_ARGS, collapse = ", "), describe_value(control)))
  }
  bad <- setdiff(names(control), NUTS_CONTROL_ARGS)
  if (length(bad)) {
    abort_input("control", sprintf("unknown element `%s`; allowed: %s", bad[1], paste(NUTS_CONTROL_ARGS, collapse = ", ")))
  }
  if (length(control) && sampler != "nuts") {
    abort_input("control", sprintf("holds NUTS settings (%s), but sampler = \"%s\"",
                                   paste(names(control), collapse = ", "), sampler))
  }
  nc <- check_nuts_control(if (is.null(control$metric)) "diag" else control$metric,
                           if (is.null(control$adapt_delta)) 0.8 else control$adapt_delta,
                           if (is.null(control$max_treedepth)) 10 else control$max_treedepth,
                           control$stepsize)
  # NULL: chosen from the data by default_centering() once the spec is known
  if (!is.null(control$centered)) nc$centered <- check_flag(control$centered, "control$centered")
  # unset: chosen from the model by default_adapt_delta() once the spec is known
  nc$adapt_delta_default <- is.null(control$adapt_delta)
  nc
}

# The target acceptance when the user sets none: 0.95 for a model with a
# mixture of Hill curves (more than one component), else 0.8. An overfitted
# mixture has regions of very different curvature (a component whose weight
# is near zero has a half-saturation and slope held by the prior alone; with
# weight, the data pin them down), and the step size that suits the bulk at
# 0.8 diverges where a component takes mass (inst/validation/mixture.R).
default_adapt_delta <- function(spec) if (has_mixture(spec$transforms)) 0.95 else 0.8

# Centred (hierarchically, around the fixed coefficient a term's column
# shares) or non-centred group-level effects, per term: how many of its
# leading columns are centred (src/model_cov.c samples the rest non-centred
# given them). Centring pays when the data pin down each level's effect,
# non-centring when the prior does. Rows per level is the data's side of
# that balance, known before fitting: a term with at least CENTRE_ROWS rows
# per level on average is centred up to its first column on a media channel
# with estimated transforms. A level's media slope is a coefficient of a
# curve whose shape the transforms set, shared by all levels: the data pin
# it down much less than an intercept, and centred it forms a funnel with
# the term's sd (on the README model, 2 chains x 1,000: centred min ESS
# 63-119 with R-hat up to 1.046 on b_tv; non-centred 258-283, R-hat <=
# 1.007, at 3x the gradients; the intercept centred and the tv slope not
# combine the cheap steps of the first with the mixing of the second).
# A factor-analytic term is centred whole or not at all.
CENTRE_ROWS <- 50
default_centering <- function(spec) {
  n <- length(spec$y)
  est <- unique(spec$transforms$pars$channel[!spec$transforms$pars$fixed])
  eranef <- engine_ranef(spec$ranef)
  vapply(seq_along(eranef), function(k) {
    t <- eranef[[k]]
    q <- ncol(t$Z$static)
    if (n / length(t$levels) < CENTRE_ROWS) return(0L)
    media <- !is.na(t$Z$channel) & spec$media[pmax(1L, t$Z$channel)] %in% est
    nc <- if (any(media)) which(media)[1] - 1L else q
    if (identical(spec$priors$cov[[names(eranef)[k]]]$type, "factor") && nc < q) 0L else as.integer(nc)
  }, 1L)
}

# Log-normal media blocks (R/media_effects.R) by the same balance: v itself
# (centred) when the level's rows pin down its coefficient, which they do
# with CENTRE_ROWS rows per level and the channel's transforms fixed; z = v
# / sd otherwise. `centered`: TRUE or FALSE for all, else this default.
centred_blocks <- function(spec, centered) {
  blocks <- mult_blocks(spec)
  if (is.logical(centered)) return(rep(as.integer(isTRUE(centered)), length(blocks)))
  est <- unique(spec$transforms$pars$channel[!spec$transforms$pars$fixed])
  vapply(blocks, function(b) {
    as.integer(length(spec$y) / length(b$levels) >= CENTRE_ROWS && !spec$media[b$channel] %in% est)
  }, 1L)
}

# The number of centred leading columns of each term (the density's
# `centered`): TRUE all, FALSE none, or the counts (default_centering()).
centred_columns <- function(spec, centered) {
  q <- vapply(engine_ranef(spec$ranef), function(t) ncol(t$Z$static), 1L)
  if (is.logical(centered)) return(as.integer(q * isTRUE(centered)))
  as.integer(centered)
}

# The function running one chain of the MMM density: fresh (from an
# over-dispersed start drawn in the chain's stream) or continued from theta.
mmm_chain_fun <- function(spec, centered) {
  model <- mmm_model_list(spec)
  opts <- nuts_model_options(spec, centered)
  info <- .Call(C_hb_mmm_info, model, opts)
  function(i, control, theta = NULL) {
    if (is.null(theta)) theta <- mmm_start(model, opts, info)
    if (is.null(control$inv_metric)) control$inv_metric <- initial_inv_metric(info$spread, control$dense)
    .Call(C_hb_nuts_mmm, model, opts, theta, control)
  }
}

# The inverse metric warmup starts from: the squared scales of the
# parameters as the density knows them before sampling (half the spread of
# its starting points: a twentieth of a coefficient's prior sd, half of a
# log scale, ...) instead of the identity. The MMM's parameters span four
# orders of magnitude (intercept ~ 1e3, log sigma ~ 1e-2), so with the
# identity the first warmup windows run at the step size of the narrowest
# one and at maximum tree depth: on the README model 2/3 of all gradients
# went into warmup, and these scales save a quarter of them.
initial_inv_metric <- function(spread, dense) {
  v <- (0.5 * spread)^2
  if (isTRUE(dense)) diag(v, length(v)) else v
}

# Over-dispersed starting points (uniform within +-spread of the default
# start, as the Gibbs sampler's jitter_init()); a start where the density is
# not finite is redrawn, up to 100 times, as Stan does.
mmm_start <- function(model, opts, info) {
  for (a in seq_len(100)) {
    th <- info$init + stats::runif(info$dim, -1, 1) * info$spread
    if (isTRUE(.Call(C_hb_mmm_logp, model, opts, th)$ok)) return(th)
  }
  abort("no starting point with a finite log density and gradient was found in 100 tries; check the scale of the data and the priors",
        class = "hbmmm_sampler_error")
}

run_nuts <- function(spec, ctl, nuts_ctl) {
  if (is.null(nuts_ctl$centered)) nuts_ctl$centered <- default_centering(spec)
  if (isTRUE(nuts_ctl$adapt_delta_default)) nuts_ctl$adapt_delta <- default_adapt_delta(spec)
  nuts_ctl$adapt_delta_default <- NULL
  chain_fun <- mmm_chain_fun(spec, nuts_ctl$centered)
  t0 <- proc.time()[["elapsed"]]
  runs <- run_nuts_chains(function(i, control) chain_fun(i, control), ctl, nuts_ctl)
  elapsed <- proc.time()[["elapsed"]] - t0
  fit <- new_nuts_fit(runs, draw_names(spec, environment(chain_fun)$model), ctl, nuts_ctl, elapsed, spec = spec)
  fit$control$centered <- nuts_ctl$centered
  fit$ranef_summary <- combine_online(spec, runs)
  fit
}
