# The model list: the specification as the plain list that both C engines
# read (src/model_read.c; every element is described in src/README.md), and
# the names of one stored draw (whose layout C states once,
# src/model_layout.c).

# `calibration = FALSE` leaves the lift tests out (post-processing reads the
# data's rows only).
mmm_model_list <- function(spec, calibration = TRUE) {
  calibration <- calibration && !is.null(spec$calibration)
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
  mx <- mixture_model_list(tr, media)
  eranef <- engine_ranef(spec$ranef)
  terms <- lapply(names(eranef), function(g) {
    t <- eranef[[g]]
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
  terms <- add_nested_pairs(terms)
  b_par <- vapply(pr$b, coef_prior_par, numeric(2))
  b_code <- vapply(pr$b, function(d) HB_CODES$prior[[d$family]], 1L)
  hs <- if (spec$horseshoe) !is.na(X$channel) else rep(FALSE, p)
  hs_scale <- rep(1, p)
  if (spec$horseshoe) hs_scale[hs] <- pr$horseshoe$par[["scale_global"]] / pr$x_sd[hs]
  S <- max(1L, length(spec$sigma_group$levels))
  # the tests' rows are not cells of the data's design
  cells <- if (calibration) list(cell = NULL, ncell = 0L) else design_cells(spec, p)
  collapse <- collapse_term(terms, cells, ch_est)
  model <- list(cell = cells$cell, ncell = cells$ncell, collapse = collapse,
       collapse_nest = collapse_nest_mode(terms, collapse),
       prior_only = as.integer(isTRUE(spec$prior_only)),
       y = as.double(spec$y), w = spec$weights, S = S, sg = spec$sigma_group$codes - 1L,
       sig_ig = ig_params(pr$sigma), C = C, p = p, Xs = X$static,
       xc = ifelse(is.na(X$channel), -1L, X$channel - 1L),
       b_mean = b_par[1, ], b_sd = b_par[2, ], b_code = unname(b_code),
       b_roi = if (is.null(pr$roi_spend)) double(p) else as.double(pr$roi_spend),
       use_hs = as.integer(spec$horseshoe),
       hs = as.integer(hs), hs_scale = hs_scale,
       npanel = max(spec$panel_codes), pstart = c(0L, cumsum(tabulate(spec$panel_codes))),
       tpos = spec$tpos,
       media_raw = spec$media_data,
       ch_ad_type = unname(HB_CODES$adstock[tr$adstock]), ch_sat_type = unname(HB_CODES$saturation[tr$saturation]),
       ch_max_lag = vapply(media, function(ch) if (is.null(tr$max_lag[[ch]])) NA_integer_ else tr$max_lag[[ch]], 1L),
       ch_normalize = as.integer(tr$normalize), ch_par = ch_par, ch_est = ch_est, ch_link = ch_link,
       ch_upper = ch_up, ch_prior_code = ch_pc, ch_prior_par = ch_pp,
       ch_mix_K = mx$K, ch_mix_par = mx$par, ch_mix_alpha = mx$alpha, ch_mix_weights = mx$weights,
       ch_mix_e0 = mx$e0, ch_mix_prior_code = mx$code,
       ch_mix_prior_par = mx$pp,
       mix_pool = as.integer(isTRUE(tr$mix_pool)), mix_pool_prior = MIX_POOL_PRIOR,
       terms = terms, sig2_init = rep(stats::var(spec$y), S),
       keep = lapply(spec$keep[names(eranef)], function(k) as.integer(k$levels) - 1L),
       online = as.integer(!vapply(spec$keep[names(eranef)], `[[`, TRUE, "full")))
  mult <- mult_model_list(spec, X)
  if (length(mult)) model$mult <- mult
  if (calibration) model <- add_lift_rows(model, spec)
  model
}

# The mixture-of-Hills block of the model list (src/model_read.c,
# read_mixtures()): components per channel, starting values in the kernel's
# order, alpha, the weights' prior (0 stick-breaking, 1 Dirichlet) and
# its e0, and the priors of halfsat, slope and alpha (code, two numbers
# each; none for alpha without stick-breaking).
mixture_model_list <- function(tr, media) {
  C <- length(media)
  K <- if (is.null(tr$components)) integer(C) else unname(as.integer(tr$components[media]))
  code <- matrix(0L, 3L, C)
  pp <- matrix(0, 6L, C)
  alpha <- rep(1, C)
  weights <- integer(C)
  e0 <- rep(1, C)
  par <- numeric(0)
  for (c in which(K > 0L)) {
    mb <- tr$mixture[[media[c]]]
    par <- c(par, unname(mixture_par_matrix(mb$init, media[c], tr)[, 1]))
    if (!is.null(mb$priors$alpha)) alpha[c] <- mb$init[[paste0("alpha_", media[c])]]
    # enum hb_mix_weights; a spec saved before the Dirichlet option has none
    weights[c] <- match(if (is.null(mb$weights)) "stick_breaking" else mb$weights, c("stick_breaking", "dirichlet")) - 1L
    if (!is.null(mb$e0)) e0[c] <- mb$e0
    for (q in seq_along(mb$priors)[!vapply(mb$priors, is.null, TRUE)]) {
      pc <- prior_code(mb$priors[[q]])
      code[q, c] <- pc$code
      pp[2 * q - 1:0, c] <- pc$par
    }
  }
  list(K = K, par = as.double(par), alpha = alpha, weights = weights, e0 = as.double(e0), code = code, pp = pp)
}

# The grouping term whose effects the Gibbs sampler's Metropolis steps on
# media transforms integrate out, with the fixed effects
# (src/gibbs_collapse.c), 0-based, or -1 for none: when some transform
# parameter is estimated on rows (not cells), the term with the most levels
# whose covariance is conjugate (not factor-analytic or LKJ). That is the
# term whose many effects otherwise pin the transforms in place.
collapse_term <- function(terms, cells, ch_est) {
  if (!is.null(cells$cell) || !any(ch_est == 1L) || !length(terms)) return(-1L)
  ok <- vapply(terms, function(t) !t$type %in% HB_CODES$cov[c("factor", "lkj")], TRUE)
  if (!any(ok)) return(-1L)
  G <- vapply(terms, `[[`, 1L, "G")
  G[!ok] <- -1L
  which.max(G) - 1L
}

# How the collapsed block treats the term the collapsed term T nests in
# (src/gibbs_nested.c): 0 not at all; 1 that term's covariance and effects
# are drawn with T's effects integrated out; 2 the media steps integrate its
# effects out as well, which needs each of its columns to repeat one of T's.
# Mode 2 costs a wider elimination per level of T on every Metropolis
# proposal: with 20,000 levels in 30 parents (the 120,000-row check in
# inst/validation/convergence.R) it cost 68% more time for the same ESS,
# while with 6 levels per parent (simulate_three_level()) it more than
# doubled the smallest ESS for 22% more time. Few levels per parent are what
# leaves the parent's effects loosely determined and so coupled with the
# transforms; mode 2 is chosen with at most 20 per parent on average.
collapse_nest_mode <- function(terms, collapse) {
  if (collapse < 0L) return(0L)
  t <- terms[[collapse + 1L]]
  if (t$nest_parent < 0L) return(0L)
  pt <- terms[[t$nest_parent + 1L]]
  if (length(t$nest_lp) == pt$q && t$G <= 20 * pt$G) 2L else 1L
}

# Nested terms for the Gibbs sampler's translation moves between a term and
# the term its levels nest in (src/gibbs_ranef.c, hb_term_nest_shift()):
# each term gets `nest_parent` (0-based, -1 for none), `nest_map` (the parent
# level of each of its levels, 0-based) and the pairs of its columns and the
# parent's with identical values and channel (`nest_l`, `nest_lp`, 0-based).
# The parent is the nesting term with the most levels; factor-analytic and
# LKJ terms (no conjugate covariance in the Gibbs sampler) take no part.
add_nested_pairs <- function(terms) {
  conj <- vapply(terms, function(t) !t$type %in% HB_CODES$cov[c("factor", "lkj")], TRUE)
  for (k in seq_along(terms)) {
    t <- terms[[k]]
    best <- NULL
    for (kp in seq_along(terms)) {
      tp <- terms[[kp]]
      if (kp == k || !conj[k] || !conj[kp] || tp$G >= t$G) next
      if (!is.null(best) && terms[[best$kp]]$G >= tp$G) next
      map <- nest_map(t$g, tp$g, t$G)
      if (is.null(map)) next
      pairs <- matrix(integer(0), 0, 2)
      for (l in seq_len(t$q)) {
        for (lp in seq_len(tp$q)) {
          if (t$zc[l] == tp$zc[lp] && !lp %in% pairs[, 2] && identical(unname(t$Zs[, l]), unname(tp$Zs[, lp]))) {
            pairs <- rbind(pairs, c(l, lp))
            break
          }
        }
      }
      if (nrow(pairs)) best <- list(kp = kp, map = map, pairs = pairs)
    }
    terms[[k]]$nest_parent <- if (is.null(best)) -1L else best$kp - 1L
    terms[[k]]$nest_map <- if (is.null(best)) integer(0) else best$map
    terms[[k]]$nest_l <- if (is.null(best)) integer(0) else best$pairs[, 1] - 1L
    terms[[k]]$nest_lp <- if (is.null(best)) integer(0) else best$pairs[, 2] - 1L
  }
  terms
}

# The level of the coarser grouping (0-based codes gp) that each level of
# the finer one (codes g, G levels) lies in, or NULL when some level of g
# spans two levels of gp. Levels without rows map to 0.
nest_map <- function(g, gp, G) {
  lo <- rep(NA_integer_, G)
  first <- !duplicated(g)
  lo[g[first] + 1L] <- gp[first]
  if (any(gp != lo[g + 1L])) return(NULL)
  lo[is.na(lo)] <- 0L
  as.integer(lo)
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
  # log-normal media effects move the media columns: no fixed design
  if (any(!spec$transforms$pars$fixed) || length(mult_blocks(spec))) return(none)
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
link_from_unc <- function(link, u, upper) links_from_unc(link_name(link), u, upper)
# Vectorized over parameters: `links` are link names (link_name()), `u` and
# `upper` one value per parameter; each value as link_from_unc() gives it.
links_from_unc <- function(links, u, upper) {
  out <- rep(NA_real_, length(u))
  i <- links == "logit"
  out[i] <- stats::plogis(u[i])
  i <- links == "log"
  out[i] <- exp(u[i])
  i <- links == "scaled_logit"
  out[i] <- upper[i] * stats::plogis(u[i])
  out
}

# Names of the stored variables of one draw (both samplers). The layout is
# defined once, in C (src/model_layout.c); R supplies the labels it combines:
# column names, per grouping term its group, columns and levels, the residual
# groups, and the transform parameters' names by slot and channel.
draw_names <- function(spec, model = mmm_model_list(spec)) {
  .Call(C_hb_draw_names, with_draw_labels(model, spec))
}

# The model list with the labels the C layout combines into variable names:
# column names, per grouping term its group, columns and levels, the residual
# groups, and the transform parameters' names by slot and channel.
with_draw_labels <- function(model, spec) {
  term_name <- function(x) ifelse(x == "(Intercept)", "Intercept", x)
  pars <- spec$transforms$pars
  tpar <- matrix(NA_character_, 4L, length(spec$media))
  tpar[cbind(pars$slot + 1L, match(pars$channel, spec$media))] <- pars$name
  model$labels <- list(
    x = term_name(spec$X$names),
    terms = lapply(engine_ranef(spec$ranef), function(t) {
      list(group = t$group, cols = term_name(t$Z$names), levels = as.character(t$levels))
    }),
    sigma = as.character(spec$sigma_group$levels),
    tpar = as.character(tpar), media = as.character(spec$media),
    mult = lapply(mult_blocks(spec), function(b) list(group = b$group, col = b$col, levels = as.character(b$levels))))
  model
}
