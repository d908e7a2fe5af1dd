# Per-draw model components of a fit: the one home for the linear predictor
# split into baseline, media and controls (used by predict/log_lik/fitted,
# treatment effects and contributions).
#
# A design column j is s_j * m_c(j) (static part times transformed channel,
# R/formula.R); group-level columns likewise. For each draw the transformed
# media are recomputed at that draw's transform parameters.

# mmm_components(fit, newdata = NULL, draws = NULL, history = TRUE,
#                reference = "mean", per_capita = FALSE)
# Returns list(mu, baseline, controls, linear, media, sigma, draws, rows);
# matrices are [n_draws x n_rows] with rows in the order of `newdata` (or of
# the user's original data). `linear` holds the non-media components by name
# (linear_components(): baseline, trend, seasonality, events, each control),
# `controls` their sum without the baseline; with reference "mean" each
# control is its deviation from its training mean and the baseline holds the
# controls at their means (linear_layout()).
# With a population (hbmmm_spec(population = )) every component is in the
# data's units (the per-capita value times the row's population) unless
# `per_capita`.
mmm_components <- function(fit, newdata = NULL, draws = NULL, history = TRUE, reference = "mean",
                           per_capita = FALSE) {
  check_model_fit(fit, what = "its linear predictor (predictions, log-likelihood, contributions, ROI)")
  spec <- fit$spec
  mat <- as.matrix.hbmmm_fit(fit)
  S_all <- nrow(mat)
  draws <- check_draw_index(draws, S_all)
  mat <- mat[draws, , drop = FALSE]
  S <- nrow(mat)
  history <- check_flag(history, "history")
  des <- if (is.null(newdata)) training_design(spec) else newdata_design(spec, newdata, history)
  n <- des$n
  media <- spec$media
  C <- length(media)

  # transformed media per draw: list by channel of [S x n_ext] matrices
  tr <- spec$transforms
  pars <- tr$pars
  # a mixture's components are estimated too (tr$init holds their starts)
  mix_names <- unlist(lapply(names(tr$mixture), function(ch) mixture_kernel_names(ch, tr$components[[ch]])))
  est <- c(pars$name[!pars$fixed], mix_names)
  theta_fixed <- c(stats::setNames(pars$value, pars$name), tr$init[mix_names])
  mvals <- lapply(stats::setNames(seq_len(C), media), function(c) matrix(0, S, n))
  if (C) {
    if (!length(est)) {
      m1 <- transform_media(des$media_data, tr, theta_fixed, des$panel_codes, des$tpos)[des$keep, , drop = FALSE]
      for (c in seq_len(C)) mvals[[c]] <- matrix(m1[, c], S, n, byrow = TRUE)
    } else {
      th <- mat[, est, drop = FALSE]
      key <- do.call(paste, c(as.data.frame(th), sep = "\r"))
      uniq <- which(!duplicated(key))
      back_u <- match(key, key[uniq])
      theta <- matrix(theta_fixed, length(uniq), length(theta_fixed), byrow = TRUE,
                      dimnames = list(NULL, names(theta_fixed)))
      theta[, est] <- th[uniq, , drop = FALSE]
      # one C call per channel for a block of draws (columns), blocks of
      # about 2^22 values so that memory stays bounded
      block <- max(1L, floor(2^22 / max(1L, nrow(des$media_data))))
      for (c in seq_len(C)) {
        mu_c <- matrix(0, length(uniq), n)
        for (b in split(seq_along(uniq), ceiling(seq_along(uniq) / block))) {
          m <- transform_channel_draws(des$media_data[, c], media[c], tr, theta[b, , drop = FALSE],
                                       des$panel_codes, des$tpos)
          mu_c[b, ] <- t(m[des$keep, , drop = FALSE])
        }
        mvals[[c]] <- mu_c[back_u, , drop = FALSE]
      }
    }
  }

  lin_names <- linear_components(spec)
  lin <- lapply(stats::setNames(lin_names, lin_names), function(nm) matrix(0, S, n))
  media_out <- lapply(stats::setNames(media, media), function(ch) matrix(0, S, n))
  add_column <- function(coef, static, channel, comp, ref) {
    # coef: [S x n] (group-level) or length-S vector (fixed)
    static <- unname(static) - ref
    part <- if (is.matrix(coef)) coef * rep(static, each = S) else outer(unname(coef), static)
    if (!is.na(channel)) {
      media_out[[channel]] <<- media_out[[channel]] + part * mvals[[channel]]
      return(invisible())
    }
    lin[[comp]] <<- lin[[comp]] + part
    # the control at its reference value belongs to the baseline
    if (ref != 0) lin$baseline <<- lin$baseline + (if (is.matrix(coef)) coef * ref else matrix(coef * ref, S, n))
  }
  X <- des$X
  lay <- linear_layout(spec$X, reference)
  for (j in seq_along(spec$X$names)) {
    nm <- paste0("b_", term_label(spec$X$names[j]))
    add_column(mat[, nm], X$static[, j], spec$X$channel[j], lay$component[j], lay$ref[j])
  }
  online_used <- character(0)
  for (g in names(spec$ranef)) {
    t <- spec$ranef[[g]]
    codes <- des$codes[[g]]
    seen <- !is.na(codes)
    tn <- term_label(t$Z$names)
    lay <- linear_layout(t$Z, reference)
    for (l in seq_along(tn)) {
      U <- ranef_draws_matrix(fit, mat, g, l)
      if (isTRUE(attr(U, "online"))) online_used <- c(online_used, g)
      coef <- matrix(0, S, n)
      coef[, seen] <- U[, codes[seen], drop = FALSE]
      add_column(coef, des$Z[[g]]$static[, l], t$Z$channel[l], lay$component[l], lay$ref[l])
    }
  }
  warn_online_ranef(online_used)

  back <- des$back
  sel <- function(m) m[, back, drop = FALSE]
  # residual sd per row
  lv <- spec$sigma_group$levels
  sigma <- if (!length(lv)) {
    matrix(mat[, "sigma"], S, n)
  } else {
    sg <- mat[, paste0("sigma[", lv, "]"), drop = FALSE]
    out <- matrix(0, S, n)
    ok <- !is.na(des$sigma_codes)
    out[, ok] <- sg[, des$sigma_codes[ok], drop = FALSE]
    # levels not seen in training: the root mean residual variance of the levels
    if (any(!ok)) out[, !ok] <- sqrt(rowMeans(sg^2))
    out
  }
  sigma <- sigma / rep(sqrt(des$weights), each = S)

  controls <- Reduce(`+`, lin[-1L], matrix(0, S, n))
  mu <- lin$baseline + controls
  for (ch in media) mu <- mu + media_out[[ch]]
  if (!is.null(des$pop) && !per_capita) {
    # the model is per capita (hbmmm_spec(population = )): back to each row's units
    P <- rep(des$pop, each = S)
    mu <- mu * P
    lin <- lapply(lin, function(m) m * P)
    controls <- controls * P
    sigma <- sigma * P
    media_out <- lapply(media_out, function(m) m * P)
  }
  list(mu = sel(mu), baseline = sel(lin$baseline), controls = sel(controls), linear = lapply(lin, sel),
       media = lapply(media_out, sel), sigma = sel(sigma), draws = draws, rows = n)
}

# The non-media components of a spec's outcome, in the order contributions()
# reports them: the baseline, then trend, seasonality and events when the
# formula has them, then each control term in formula order (fixed part,
# then group-level terms).
linear_components <- function(spec) {
  comp <- c(linear_layout(spec$X)$component,
            unlist(lapply(spec$ranef, function(t) linear_layout(t$Z)$component)))
  comp <- unique(comp[!is.na(comp)])
  c("baseline", intersect(TIME_EFFECT_KINDS, comp), setdiff(comp, c("baseline", TIME_EFFECT_KINDS)))
}

# For each column of a training design D (spec$X or a grouping term's Z):
# its component (NA for media columns) and its reference value: with
# reference "mean", a control column (not the intercept, not a time effect)
# is split as coef * (x - mean(x)) in its component plus coef * mean(x) in
# the baseline, so that the baseline is the outcome with the controls at
# their training means and no media; with "zero" the reference is 0.
linear_layout <- function(D, reference = "mean") {
  comp <- D$component
  if (is.null(comp)) { # specs made before components were named
    comp <- ifelse(D$names == "(Intercept)", "baseline", "controls")
  }
  comp[!is.na(D$channel)] <- NA_character_
  centre <- reference == "mean" & !is.na(comp) & !comp %in% c("baseline", TIME_EFFECT_KINDS)
  ref <- numeric(length(comp))
  if (any(centre)) ref[centre] <- colMeans(D$static[, centre, drop = FALSE])
  list(component = comp, ref = ref)
}

# The draws (rows of `mat`) of column l of grouping term g's effects, as a
# [draws x levels] matrix: kept levels from their draws, the others from
# their online posterior means (attribute `online` TRUE then).
ranef_draws_matrix <- function(fit, mat, g, l) {
  t <- fit$spec$ranef[[g]]
  tn <- term_label(t$Z$names)
  keep <- fit$spec$keep[[g]]
  U <- matrix(0, nrow(mat), length(t$levels))
  online <- !keep$full
  if (online) {
    rs <- fit$ranef_summary[[g]]
    mu_l <- rs$mean[rs$term == tn[l]][match(t$levels, rs$level[rs$term == tn[l]])]
    U[] <- rep(mu_l, each = nrow(mat))
  }
  kept <- keep$levels
  if (length(kept)) U[, kept] <- mat[, sprintf("r_%s[%s,%s]", g, t$levels[kept], tn[l]), drop = FALSE]
  structure(U, online = online)
}

warn_online_ranef <- function(groups) {
  if (!length(groups)) return(invisible())
  warn_classed("online_ranef",
    sprintf("group-level effects of %s are summarized online (no draws kept): their posterior means are used, so the uncertainty of those effects is not propagated; refit with a larger `keep_ranef` (or `keep_levels`) to keep their draws",
            paste0("`", unique(groups), "`", collapse = ", ")))
}

# Each channel's contribution summed over the training rows, per draw (rows
# of `mat`), at its spend (`at`) and with its spend raised by the proportion
# `step` in every row (`up`; step 0: none): [draws x channels] matrices
# computed in C (src/model_totals.c) without any [draws x rows] matrix.
# With `key` (each training row's key 1..K, in the model's row order), per
# key instead: `at` and `up` are lists of [draws x K] matrices by channel.
# `online`: the grouping terms whose effects came from online summaries
# (the caller warns, once).
channel_totals <- function(fit, mat, step, key = NULL, channels = fit$spec$media) {
  spec <- fit$spec
  media <- channels
  model <- mmm_model_list(spec, calibration = FALSE)
  pars <- spec$transforms$pars
  S <- nrow(mat)
  at <- up <- stats::setNames(vector("list", length(media)), media)
  online <- character(0)
  threads <- if (parallel::detectCores() >= 2L) 2L else 1L
  for (ci in seq_along(media)) {
    ch <- media[ci]
    c <- match(ch, spec$media) # the channel's index in the model
    # the four transform slots (2 adstock, 2 saturation; HB_MAX_TPAR in C):
    # fixed values from the model list, estimated ones from the draws
    par <- matrix(matrix(model$ch_par, 4L)[, c], S, 4L, byrow = TRUE)
    est <- pars$channel == ch & !pars$fixed
    for (r in which(est)) par[, pars$slot[r] + 1L] <- mat[, pars$name[r]]
    # a mixture's components follow the slots (HB_MIX_PAR in src/model.h)
    if (identical(spec$transforms$saturation[[ch]], "hill_mixture")) {
      par <- cbind(par, t(mixture_par_matrix(mat, ch, spec$transforms)))
    }
    fcols <- which(spec$X$channel == c)
    bfix <- mat[, paste0("b_", term_label(spec$X$names[fcols])), drop = FALSE]
    ueff <- list()
    for (g in names(spec$ranef)) {
      for (l in which(spec$ranef[[g]]$Z$channel == c)) {
        U <- ranef_draws_matrix(fit, mat, g, l)
        if (isTRUE(attr(U, "online"))) online <- c(online, g)
        ueff[[length(ueff) + 1L]] <- matrix(as.double(U), nrow(U))
      }
    }
    res <- .Call(C_hb_channel_totals, model, c, par, matrix(as.double(bfix), S), ueff, as.double(step), threads,
                 if (is.null(key)) NULL else as.integer(key))
    at[[ci]] <- res$at
    if (step > 0) up[[ci]] <- res$up
  }
  if (!is.null(key)) return(list(at = at, up = up, online = online))
  one <- function(l) matrix(vapply(l, function(m) m[, 1], numeric(S)), S, dimnames = list(NULL, media))
  list(at = one(at), up = if (step > 0) one(up), online = online)
}

# The non-media components (linear_components(), split as linear_layout()
# says), per draw and key, [draws x K]: each is linear in the coefficients,
# so it is the draws of the coefficients times the column sums by key (fixed
# columns) or by level and key (group-level ones). Returns a list of those
# matrices by component and `online` as in channel_totals(). `weights`:
# each row's weight in the sums (the population, for totals in the data's
# units of a per-capita model), or NULL.
linear_sums <- function(fit, mat, key, K, reference = "mean", weights = NULL) {
  spec <- fit$spec
  S <- nrow(mat)
  comps <- linear_components(spec)
  out <- lapply(stats::setNames(comps, comps), function(nm) matrix(0, S, K))
  sum_by <- function(x, idx, m) { # sums of x by idx in 1..m (0 where idx has no row)
    s <- rowsum(x, idx)
    out <- numeric(m)
    out[as.integer(rownames(s))] <- s[, 1]
    out
  }
  w <- if (is.null(weights)) rep(1, length(key)) else weights
  X <- spec$X
  lay <- linear_layout(X, reference)
  n_k <- sum_by(w, key, K)
  for (j in which(is.na(X$channel))) {
    b <- mat[, paste0("b_", term_label(X$names[j]))]
    p <- lay$component[j]
    out[[p]] <- out[[p]] + outer(b, sum_by(w * (X$static[, j] - lay$ref[j]), key, K))
    if (lay$ref[j] != 0) out$baseline <- out$baseline + outer(b, lay$ref[j] * n_k)
  }
  online <- character(0)
  for (g in names(spec$ranef)) {
    t <- spec$ranef[[g]]
    G <- length(t$levels)
    lay <- linear_layout(t$Z, reference)
    cell <- t$codes + G * (key - 1L)
    for (l in which(is.na(t$Z$channel))) {
      # M[level, k]: the column summed over the rows of that level and key
      M <- matrix(sum_by(w * (t$Z$static[, l] - lay$ref[l]), cell, G * K), G, K)
      U <- ranef_draws_matrix(fit, mat, g, l)
      if (isTRUE(attr(U, "online"))) online <- c(online, g)
      p <- lay$component[l]
      out[[p]] <- out[[p]] + U %*% M
      if (lay$ref[l] != 0) out$baseline <- out$baseline + U %*% (lay$ref[l] * matrix(sum_by(w, cell, G * K), G, K))
    }
  }
  list(parts = out, online = online)
}

# Per-draw statistics of mmm_components() on the training rows, computed over
# blocks of draws so that no intermediate [draws x rows] matrix of all draws
# is held: `fun(comp)` returns a matrix (or a list of matrices) with one row
# per draw of the block, and the blocks' rows are stacked. The
# online-effects warning, raised by each block, is passed on once.
components_by_block <- function(fit, draws, fun, reference = "mean", per_capita = FALSE) {
  S <- length(draws)
  size <- max(1L, floor(2^20 / max(1L, fit$spec$nobs)))
  blocks <- split(seq_len(S), ceiling(seq_len(S) / size))
  warned <- FALSE
  out <- NULL
  withCallingHandlers({
    for (b in blocks) {
      comp <- mmm_components(fit, draws = draws[b], reference = reference, per_capita = per_capita)
      r <- fun(comp)
      if (!is.list(r)) r <- list(r)
      if (is.null(out)) out <- lapply(r, function(m) matrix(NA_real_, S, ncol(m), dimnames = list(NULL, colnames(m))))
      for (k in seq_along(r)) out[[k]][b, ] <- r[[k]]
    }
  }, hbmmm_warning_online_ranef = function(w) {
    if (warned) invokeRestart("muffleWarning")
    warned <<- TRUE
  })
  out
}

# The media series behind new rows, one per panel, on the training time axis.
# With `history` and a `time` column, each panel's series is the training
# series up to the last new period, with the new rows' media in their periods
# (replacing training media there): rows inside the training period get the
# carry-over of the training weeks before them, and rows after a gap get the
# decay over the missing periods. Without `time`, new rows are taken to
# follow the training rows. Returns the extended media matrix, its panel
# codes and time positions, `keep` (the new rows in it) and `ord` (the order
# of the new rows in `keep`).
newdata_series <- function(spec, nd, history) {
  n <- nrow(nd)
  train <- spec$data
  has_time <- !is.null(spec$time)
  pv_new <- if (!is.null(spec$panel)) as.character(panel_values(nd, spec$panel)) else rep("1", n)
  pv_train <- if (!is.null(spec$panel)) as.character(panel_values(train, spec$panel)) else rep("1", nrow(train))
  if (has_time && is.null(spec$time_axis)) { # a fit saved before time axes existed
    spec$time_axis <- time_axis(train[[spec$time]], spec$panel_codes, spec$time)
    spec$time_pos <- time_positions(spec$time_axis, train[[spec$time]], spec$time, "time")
  }
  pos_new <- if (has_time) time_positions(spec$time_axis, nd[[spec$time]], spec$time, "newdata") else seq_len(n)
  if (has_time) {
    # as in training: one row per series and period
    dup <- which(duplicated(data.frame(pv_new, pos_new)))
    if (length(dup)) {
      abort_input("newdata", sprintf("has more than one row for %s%s = %s (row %d); give each series one row per period",
                                     if (is.null(spec$panel)) "" else sprintf("%s = %s and ", panel_label(spec$panel), pv_new[dup[1]]),
                                     spec$time, format(nd[[spec$time]][dup[1]]), dup[1]))
    }
  }
  panels <- unique(pv_new)
  ord <- order(match(pv_new, panels), pos_new, method = "radix")
  new_media <- model_media(nd, spec$media, spec$population)
  blocks <- vector("list", length(panels))
  for (k in seq_along(panels)) {
    rows_new <- ord[pv_new[ord] == panels[k]]
    tr_rows <- if (history && length(spec$media)) which(pv_train == panels[k]) else integer(0)
    if (has_time) {
      tr_pos <- spec$time_pos[tr_rows]
      tr_rows <- tr_rows[tr_pos <= max(pos_new[rows_new]) & !tr_pos %in% pos_new[rows_new]]
      pos <- c(spec$time_pos[tr_rows], pos_new[rows_new])
    } else {
      pos <- seq_len(length(tr_rows) + length(rows_new))
    }
    media <- rbind(spec$media_data[tr_rows, , drop = FALSE], new_media[rows_new, , drop = FALSE])
    o <- order(pos, method = "radix")
    blocks[[k]] <- list(media = media[o, , drop = FALSE], pos = pos[o],
                        keep = match(length(tr_rows) + seq_along(rows_new), o))
  }
  sizes <- vapply(blocks, function(b) length(b$pos), 1L)
  offset <- c(0L, cumsum(sizes))[seq_along(blocks)]
  media_data <- do.call(rbind, lapply(blocks, `[[`, "media"))
  colnames(media_data) <- spec$media
  list(media_data = media_data, panel_codes = rep(seq_along(blocks), sizes),
       tpos = as.integer(unlist(lapply(blocks, `[[`, "pos"))),
       keep = unlist(Map(function(b, o) o + b$keep, blocks, offset)), ord = ord)
}

# Channel `ch` transformed at the parameter rows of `theta` (draws x all
# transform parameters): an [n x draws] matrix, one column per draw.
transform_channel_draws <- function(x, ch, tr, theta, panel_codes, tpos = NULL) {
  rows <- tr$pars$channel == ch
  X <- matrix(x, length(x), nrow(theta))
  par <- lapply(stats::setNames(tr$pars$name[rows], tr$pars$param[rows]), function(nm) unname(theta[, nm]))
  ad <- par[tr$pars$param[rows & tr$pars$slot <= 1L]]
  a <- adstock_channel(X, tr$adstock[[ch]], ad, tr$max_lag[[ch]], tr$normalize[[ch]], panel_codes, tpos)
  dim(a) <- dim(X)
  out <- saturate_channel(a, tr$saturation[[ch]], par,
                          if (identical(tr$saturation[[ch]], "hill_mixture")) mixture_par_matrix(theta, ch, tr))
  dim(out) <- dim(X)
  out
}

term_label <- function(x) ifelse(x == "(Intercept)", "Intercept", x)

check_draw_index <- function(draws, S) {
  if (is.null(draws)) return(seq_len(S))
  if (!is.numeric(draws) || !length(draws) || anyNA(draws) || any(draws != round(draws)) ||
      any(draws < 1) || any(draws > S)) {
    abort_input("draws", sprintf("must be whole numbers between 1 and %d (rows of as.matrix(fit)); found %s",
                                 S, describe_value(draws)))
  }
  as.integer(draws)
}

# The design on the training rows (internal, panel-sorted order).
training_design <- function(spec) {
  n <- spec$nobs
  list(n = n, X = spec$X, Z = lapply(spec$ranef, `[[`, "Z"),
       codes = lapply(spec$ranef, `[[`, "codes"),
       media_data = spec$media_data, panel_codes = spec$panel_codes, tpos = spec$tpos, keep = seq_len(n),
       sigma_codes = spec$sigma_group$codes, weights = spec$weights, pop = spec$pop,
       back = order(spec$row_order))
}

# The design on new rows. Rows are sorted by panel and time for the adstock
# and placed in media series by newdata_series(). `keep` picks the new rows
# out of the extended media series; `back` restores the order of `newdata`.
newdata_design <- function(spec, newdata, history) {
  if (!is.data.frame(newdata)) {
    abort_input("newdata", sprintf("must be a data frame; found %s", describe_value(newdata)))
  }
  if (!nrow(newdata)) abort_input("newdata", "has no rows")
  train <- spec$data
  pf <- parse_formula(spec$formula)
  rhs_vars <- unique(c(model_columns(stats::delete.response(stats::terms(pf$fixed))),
                       unlist(lapply(spec$ranef, function(t) c(model_columns(t$lhs), t$group_vars))),
                       spec$media, spec$time, spec$panel, spec$sigma_by, spec$population))
  miss <- setdiff(rhs_vars, names(newdata))
  if (length(miss)) {
    abort_input("newdata", sprintf("lacks column `%s`, which the model uses%s", miss[1],
                                   suggest_name(miss[1], names(newdata))))
  }
  check_complete(newdata, rhs_vars, "newdata")
  for (m in spec$media) {
    v <- newdata[[m]]
    if (!is.numeric(v) || any(v < 0)) abort_input("newdata", sprintf("media column `%s` must be numeric and non-negative", m))
  }
  nd <- newdata[rhs_vars]
  tr_part <- train[rhs_vars]
  # dates must stay dates (rbind() below would fail on a mix, and the time
  # effects and the time axis read them as dates)
  for (v in rhs_vars) {
    if (inherits(tr_part[[v]], c("Date", "POSIXt")) && !inherits(nd[[v]], c("Date", "POSIXt"))) {
      abort_input("newdata", sprintf("column `%s` must be dates, as in the training data; found %s", v,
                                     describe_value(nd[[v]])))
    }
  }
  # factors keep the training levels so that the design has the same columns
  for (v in rhs_vars) {
    if (is.factor(tr_part[[v]]) || is.character(tr_part[[v]])) {
      tr_part[[v]] <- as.character(tr_part[[v]])
      nd[[v]] <- as.character(nd[[v]])
    }
  }
  both <- rbind(tr_part, nd)
  for (v in rhs_vars) if (is.factor(train[[v]])) both[[v]] <- factor(both[[v]], levels = union(levels(train[[v]]), unique(both[[v]])))
  idx_new <- nrow(tr_part) + seq_len(nrow(nd))
  # the training terms: their `predvars` rebuild time effects with the
  # training basis (specs made before they were kept: from the formula)
  fixed_terms <- spec$X$terms
  if (is.null(fixed_terms)) fixed_terms <- stats::delete.response(stats::terms(pf$fixed))
  X <- media_design(fixed_terms, both, spec$media, arg = "newdata")
  if (!identical(X$names, spec$X$names)) {
    extra <- setdiff(X$names, spec$X$names)
    abort_input("newdata", sprintf("gives a design with column(s) %s that the fitted model does not have (new factor levels?)",
                                   paste0("`", extra, "`", collapse = ", ")))
  }
  X$static <- X$static[idx_new, , drop = FALSE]
  Z <- codes <- list()
  for (g in names(spec$ranef)) {
    t <- spec$ranef[[g]]
    z_terms <- t$Z$terms
    if (is.null(z_terms)) z_terms <- stats::as.formula(call("~", t$lhs))
    Zg <- media_design(z_terms, both, spec$media, arg = "newdata")
    Zg$static <- Zg$static[idx_new, , drop = FALSE]
    Z[[g]] <- Zg
    lev <- do.call(paste, c(lapply(t$group_vars, function(v) as.character(nd[[v]])), sep = ":"))
    codes[[g]] <- match(lev, t$levels)
  }

  # series for the adstock
  n <- nrow(nd)
  ser <- newdata_series(spec, nd, history)
  sigma_codes <- if (length(spec$sigma_group$levels)) match(as.character(nd[[spec$sigma_by]]), spec$sigma_group$levels) else rep(1L, n)
  # reorder the design and codes to the sorted order used for the media
  ord <- ser$ord
  list(n = n,
       X = list(static = X$static[ord, , drop = FALSE], channel = X$channel, names = X$names),
       Z = lapply(Z, function(z) list(static = z$static[ord, , drop = FALSE], channel = z$channel, names = z$names)),
       codes = lapply(codes, function(cd) cd[ord]),
       media_data = ser$media_data, panel_codes = ser$panel_codes, tpos = ser$tpos, keep = ser$keep,
       sigma_codes = sigma_codes[ord], weights = rep(1, n), pop = row_population(spec, nd)[ord],
       back = order(ord))
}
