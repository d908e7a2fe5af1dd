# Response curve sets: the one home through which every planning function
# (allocation, budget targets, scenarios, ROI of given curves, segment
# allocation) evaluates responses. A set holds K curves (channels, or
# segment x channel) with a saturation type, an adstock type, and D draws of
# their parameters; responses are computed by the package's transform
# kernels (saturation_*()/adstock_*() in R/transforms.R, src/transforms.c),
# the grids and optimizers in src/allocate.c.

CURVE_PARS <- list(linear = character(0), hill = c("halfsat", "slope"), logistic = "lambda",
                   michaelis_menten = "k", hill_mixture = character(0)) # a mixture's: pars$mix
CURVE_ADSTOCKS <- c("none", "geometric", "delayed", "weibull_cdf", "weibull_pdf")

#' Response curves: response as a function of spend, with posterior draws
#'
#' Builds the set of response curves that every planning function of hbmmm
#' ([allocate_budget()], [budget_for_target()], [simulate_scenario()],
#' [roi()], [allocate_segments()]) works on, and summarizes it: per channel
#' (and per segment or group), the posterior of the response at each spend,
#' the saturation point and the marginal response.
#'
#' A curve maps spend `x` per period (in the user's spend units) to the
#' incremental response `beta * sat(a(x) / spend_scale)`, where `a(x)` is the
#' adstocked spend and `sat` one of [saturation_hill()],
#' [saturation_logistic()], [saturation_michaelis_menten()] (type `"linear"`:
#' no saturation). At a steady spend `x` every period, `a(x) = x * sum(w)` with
#' `w` the adstock lag weights (`sum(w) = 1` when normalized). Planning over a
#' horizon of several periods (argument `horizon` of the planning functions)
#' adstocks the flighting pattern instead and adds the carry-over after the
#' horizon.
#'
#' Curves come from:
#' * a fit ([hbmmm()]): per channel, `beta` is the population coefficient
#'   `b_<channel>` (plus the group-level effect `r_<group>[<level>,<channel>]`
#'   for `group = ` curves), with the saturation and adstock parameters of every
#'   posterior draw; the reference spend is the channel's mean spend per row
#'   (panel and period) of the training data. Spend is in the channel's spend
#'   column (`hbmmm(spend = )`), converted to the model's exposure at the
#'   channel's average cost per unit (column `unit_cost` of `$curves`; 1 when
#'   the channel's column is its spend). For a model fitted per capita
#'   (`hbmmm(population = )`) a curve is the response of a row of the rows'
#'   average population (column `population`) to its spend, in the data's
#'   units; `per_capita = TRUE` gives per-capita spend and response instead. Terms that interact a channel
#'   with other variables (`tv:income`) are not part of these curves: use
#'   [contributions()], [roi()] or [simulate_scenario()] on the fit, which
#'   evaluate every term;
#' * a data frame, one row per curve (point values) or one row per curve and
#'   draw (column `draw`): columns `channel`, `type` (`"hill"`, `"logistic"`,
#'   `"michaelis_menten"`, `"linear"`), `beta`, the parameters of the type
#'   (`halfsat`, `slope`; `lambda`; `k`, optional `vmax`, which multiplies
#'   `beta`), and optionally `spend` (reference spend per period),
#'   `segment`, `adstock` (`"none"`, `"geometric"`, `"delayed"`,
#'   `"weibull_cdf"`, `"weibull_pdf"`) with `decay`, `delay`, `shape`, `scale`,
#'   `max_lag` (`NA`: infinite geometric memory), `normalize`, and
#'   `spend_scale` (model media units = spend / spend_scale);
#' * a numeric matrix of parameter draws (rows = draws) with columns named as in
#'   a fit: `b_<channel>`, `halfsat_<channel>`, `slope_<channel>`,
#'   `lambda_<channel>`, `k_<channel>`, `decay_<channel>`, ...; `saturation`
#'   and `adstock` name the types.
#'
#' @param x An `hbmmm_fit`, a data frame of curves, a numeric matrix of draws,
#'   or an `hbmmm_curves` object (returned as is).
#' @param ... Passed to the methods: for matrices, `saturation` (one type or
#'   one per channel, named), `adstock` (default `"none"`), `max_lag`,
#'   `normalize`, `spend` (named reference spend per channel), `channels`; for
#'   fits, `group` (a grouping term of the model: one curve per level and
#'   channel), `draws` (indices of draws to keep), `max_draws` (default 1000:
#'   larger fits are thinned evenly) and `per_capita` (see above).
#' @return An object of class `hbmmm_curves`: a list with `curves` (one row per
#'   curve: `id`, `channel`, `segment`, `type`, `adstock`, `max_lag`,
#'   `normalize`, `spend_scale` (spend per model unit), `spend` (reference
#'   spend per period; for a fit, the mean spend per row), `organic` and
#'   `spend_max` (the largest spend of a row in the data, curves of a fit;
#'   otherwise `NA`); for curves of a fit also `exposure` (the model's
#'   column), `spend_column`, `unit_cost` and `population`), `beta`
#'   (draws x curves), `par` (draws x curves x 2, saturation parameters),
#'   `adstock_par` (draws x curves x 2), `source` (`"fit"`, `"table"` or
#'   `"draws"`) and, for curves of a fit, `group`, `per_capita` and
#'   `population`. `summary()` returns an object of class
#'   `summary.hbmmm_curves`: `table` (one row per curve: `curve`, `type`,
#'   `spend`, `response`, `marginal` and `saturation_point`, each with
#'   `_lower`/`_upper`), `level`, `saturation_level`, `draws`, `source` and
#'   `units` (lines on the spend units of curves of a fit), which `print()`
#'   shows; `plot()` draws the curves with posterior bands and returns the
#'   plotted points invisibly.
#' @seealso [allocate_budget()], [roi()], [simulate_scenario()].
#' @examples
#' cv <- response_curves(data.frame(
#'   channel = c("tv", "search", "social"), type = c("hill", "michaelis_menten", "logistic"),
#'   beta = c(500, 300, 200), halfsat = c(100, NA, NA), slope = c(2, NA, NA),
#'   k = c(NA, 50, NA), lambda = c(NA, NA, 0.01), spend = c(120, 60, 80)))
#' cv
#' plot(cv)
#'
#' # parameter draws, as from a posterior
#' set.seed(1)
#' dr <- cbind(b_tv = rnorm(200, 500, 50), halfsat_tv = rlnorm(200, log(100), 0.1),
#'             slope_tv = 2, b_radio = rnorm(200, 200, 30), lambda_radio = 0.02)
#' response_curves(dr, saturation = c(tv = "hill", radio = "logistic"),
#'                 spend = c(tv = 100, radio = 40))
#' @export
response_curves <- function(x, ...) UseMethod("response_curves")

#' @export
response_curves.default <- function(x, ...) {
  abort_input("x", sprintf("must be an hbmmm_fit, a data frame of curves, a numeric matrix of parameter draws or an hbmmm_curves object; found %s",
                           describe_value(x)))
}

#' @export
response_curves.hbmmm_curves <- function(x, ...) x

#' @export
response_curves.data.frame <- function(x, ...) {
  if (!nrow(x)) abort_input("x", "has no rows; give one row per curve (or per curve and draw)")
  need <- c("channel", "beta")
  miss <- setdiff(need, names(x))
  if (length(miss)) {
    abort_input("x", sprintf("must have columns `channel` and `beta`; column `%s` is missing (columns: %s)",
                             miss[1], paste(names(x), collapse = ", ")))
  }
  col <- function(nm, default) if (nm %in% names(x)) x[[nm]] else rep(default, nrow(x))
  channel <- as.character(x$channel)
  if (anyNA(channel) || any(!nzchar(channel))) abort_input("x", "column `channel` must not contain NA or empty names")
  segment <- if ("segment" %in% names(x)) as.character(x$segment) else rep(NA_character_, nrow(x))
  id <- curve_ids(channel, segment)
  draw <- if ("draw" %in% names(x)) x$draw else rep(1L, nrow(x))
  if (!is.numeric(draw) || anyNA(draw)) abort_input("x", "column `draw` must hold draw numbers")
  ids <- unique(id)
  D <- length(unique(draw))
  tab <- table(factor(id, ids), factor(draw, sort(unique(draw))))
  if (any(tab != 1L)) {
    bad <- which(tab != 1L, arr.ind = TRUE)[1, ]
    abort_input("x", sprintf("every curve needs exactly one row per draw (%d draws); curve `%s` has %d row(s) for draw %s",
                             D, ids[bad[1]], tab[bad[1], bad[2]], colnames(tab)[bad[2]]))
  }
  ord <- order(match(id, ids), draw)
  x <- x[ord, , drop = FALSE]
  id <- id[ord]
  channel <- channel[ord]
  segment <- segment[ord]
  first <- !duplicated(id)
  type <- col("type", "hill")[first]
  adstock <- col("adstock", "none")[first]
  K <- length(ids)
  val <- function(nm, default = NA_real_) {
    v <- col(nm, default)
    if (!is.numeric(v)) abort_input("x", sprintf("column `%s` must be numeric; found %s", nm, class(v)[1]))
    matrix(as.double(v), D, K)
  }
  pars <- list(beta = val("beta"), halfsat = val("halfsat"), slope = val("slope"), lambda = val("lambda"),
               k = val("k"), vmax = val("vmax", 1), decay = val("decay"), delay = val("delay"),
               shape = val("shape"), scale = val("scale"))
  spend <- if ("spend" %in% names(x)) x$spend[first] else rep(NA_real_, K)
  max_lag <- if ("max_lag" %in% names(x)) x$max_lag[first] else rep(NA_real_, K)
  normalize <- if ("normalize" %in% names(x)) x$normalize[first] else rep(TRUE, K)
  new_curves(ids, channel[first], segment[first], type, adstock, pars, max_lag, normalize,
             spend_scale = col("spend_scale", 1)[first], spend = spend, source = "table")
}

#' @export
response_curves.matrix <- function(x, saturation = "hill", adstock = "none", max_lag = NA,
                                   normalize = TRUE, spend = NULL, channels = NULL, ...) {
  if (!is.numeric(x) || is.null(colnames(x)) || !nrow(x)) {
    abort_input("x", sprintf("must be a numeric matrix of draws with named columns (b_<channel>, halfsat_<channel>, ...); found %s",
                             describe_value(x)))
  }
  if (is.null(channels)) channels <- sub("^b_", "", grep("^b_", colnames(x), value = TRUE))
  channels <- setdiff(channels, "Intercept")
  if (!length(channels)) abort_input("x", "has no coefficient columns `b_<channel>`")
  sat <- recycle_named(saturation, channels, "saturation", choices = names(HB_CODES$curve))
  ad <- recycle_named(adstock, channels, "adstock", choices = CURVE_ADSTOCKS)
  ml <- recycle_named(max_lag, channels, "max_lag")
  nz <- recycle_named(normalize, channels, "normalize")
  sp <- if (is.null(spend)) rep(NA_real_, length(channels)) else recycle_named(spend, channels, "spend")
  D <- nrow(x)
  get <- function(prefix, required, default = NA_real_) {
    vapply(channels, function(ch) {
      nm <- paste0(prefix, "_", ch)
      if (nm %in% colnames(x)) return(as.double(x[, nm]))
      if (required[[ch]]) {
        abort_input("x", sprintf("has no column `%s`, which a %s curve for channel `%s` needs%s", nm,
                                 if (prefix %in% c("decay", "delay", "shape", "scale")) ad[[ch]] else sat[[ch]],
                                 ch, suggest_name(nm, colnames(x))))
      }
      rep(default, D)
    }, numeric(D))
  }
  needs <- function(p, types) {
    stats::setNames(if (p == "b") rep(TRUE, length(channels)) else sat %in% types | ad %in% types, channels)
  }
  pars <- list(beta = get("b", needs("b", NULL)),
               halfsat = get("halfsat", needs("halfsat", "hill")), slope = get("slope", needs("slope", "hill")),
               lambda = get("lambda", needs("lambda", "logistic")),
               k = get("k", needs("k", "michaelis_menten")), vmax = get("vmax", needs("vmax", NULL), 1),
               decay = get("decay", needs("decay", c("geometric", "delayed"))),
               delay = get("delay", needs("delay", "delayed")),
               shape = get("shape", needs("shape", c("weibull_cdf", "weibull_pdf"))),
               scale = get("scale", needs("scale", c("weibull_cdf", "weibull_pdf"))))
  pars <- lapply(pars, function(m) matrix(m, D, length(channels)))
  new_curves(channels, channels, rep(NA_character_, length(channels)), unname(sat), unname(ad), pars,
             unname(ml), unname(nz), spend_scale = rep(1, length(channels)), spend = unname(sp),
             source = "draws")
}

#' @export
response_curves.hbmmm_fit <- function(x, group = NULL, draws = NULL, max_draws = 1000, per_capita = FALSE, ...) {
  check_dots_empty(...)
  check_model_fit(x, "x", "response_curves()")
  per_capita <- check_flag(per_capita, "per_capita")
  spec <- x$spec
  media <- spec$media
  if (!length(media)) abort_input("x", "the fit has no media channels (argument `media` of hbmmm())")
  dm <- as.matrix(x)
  if (is.null(draws)) {
    max_draws <- check_count(max_draws, "max_draws", 1, 1e7)
    draws <- if (nrow(dm) > max_draws) unique(round(seq(1, nrow(dm), length.out = max_draws))) else seq_len(nrow(dm))
  } else if (!is.numeric(draws) || any(draws < 1 | draws > nrow(dm) | draws != round(draws))) {
    abort_input("draws", sprintf("must be indices of draws in 1..%d; found %s", nrow(dm), describe_value(draws)))
  }
  dm <- dm[draws, , drop = FALSE]
  D <- nrow(dm)
  tr <- spec$transforms
  fixedv <- stats::setNames(tr$pars$value[tr$pars$fixed], tr$pars$name[tr$pars$fixed])
  has_b <- paste0("b_", media) %in% colnames(dm)
  if (!any(has_b)) {
    abort_input("x", "no media channel has a fixed coefficient `b_<channel>`; response curves need the population effect of each channel")
  }
  media <- media[has_b]
  units <- curve_units(spec, media, per_capita)
  pget <- function(p, ch, default) {
    nm <- paste0(p, "_", ch)
    if (nm %in% colnames(dm)) return(dm[, nm])
    if (nm %in% names(fixedv)) return(rep(fixedv[[nm]], D))
    rep(default, D)
  }
  sat <- unname(ifelse(tr$saturation[media] == "none", "linear", tr$saturation[media]))
  ad <- unname(tr$adstock[media])
  # rows: the training rows behind each curve; a curve is the response of a
  # row of the rows' average population to its spend
  build <- function(beta_fun, ids, chans, segs, rows) {
    idx <- match(chans, media)
    ref <- Map(function(r, c) curve_reference(units, r, c), rows, idx)
    pop <- vapply(ref, `[[`, 0, "pop")
    pars <- list(beta = vapply(seq_along(ids), function(i) beta_fun(i) * pop[i], numeric(D)))
    for (p in c("halfsat", "slope", "lambda", "k", "decay", "delay", "shape", "scale")) {
      pars[[p]] <- vapply(chans, function(ch) pget(p, ch, NA_real_), numeric(D))
    }
    pars$vmax <- matrix(1, D, length(ids))
    pars <- lapply(pars, function(m) matrix(m, D, length(ids)))
    pars$mix <- lapply(chans, function(ch) if (identical(tr$saturation[[ch]], "hill_mixture")) t(mixture_par_matrix(dm, ch, tr)))
    ml <- vapply(chans, function(ch) if (is.null(tr$max_lag[[ch]])) NA_real_ else as.double(tr$max_lag[[ch]]), 0)
    out <- new_curves(ids, chans, segs, sat[idx], ad[idx], pars, unname(ml), unname(tr$normalize[chans]),
                      spend_scale = unname(units$cost[idx] * pop), spend = vapply(ref, `[[`, 0, "spend"),
                      source = "fit", spend_max = vapply(ref, `[[`, 0, "max"))
    out$curves$exposure <- units$exposure[idx]
    out$curves$spend_column <- units$column[idx]
    out$curves$unit_cost <- unname(units$cost[idx])
    out$curves$population <- if (is.null(units$pop)) NA_real_ else pop
    out
  }
  out <- if (is.null(group)) {
    all_rows <- seq_len(spec$nobs)
    build(function(i) dm[, paste0("b_", media[i])], media, media, rep(NA_character_, length(media)),
          rep(list(all_rows), length(media)))
  } else {
    if (!is.character(group) || length(group) != 1L || !group %in% names(spec$ranef)) {
      abort_input("group", sprintf("must be a grouping term of the model (%s); found %s",
                                   if (length(spec$ranef)) paste(names(spec$ranef), collapse = ", ") else "none",
                                   describe_value(group)))
    }
    t <- spec$ranef[[group]]
    lev <- t$levels
    grid <- expand.grid(level = seq_along(lev), ch = seq_along(media))
    chans <- media[grid$ch]
    rnames <- sprintf("r_%s[%s,%s]", group, lev[grid$level], chans)
    online <- x$ranef_summary[[group]]
    rows <- lapply(grid$level, function(l) which(t$codes == l))
    warned <- FALSE
    build(function(i) {
      b <- dm[, paste0("b_", chans[i])]
      if (!chans[i] %in% t$Z$names) return(b)
      if (rnames[i] %in% colnames(dm)) return(b + dm[, rnames[i]])
      if (!is.null(online)) {
        m <- online$mean[online$level == lev[grid$level[i]] & online$term == chans[i]]
        if (length(m) == 1L) {
          if (!warned) {
            warned <<- TRUE
            warning(structure(class = c("hbmmm_warning_online_ranef", "hbmmm_warning", "warning", "condition"),
                              list(message = sprintf("group-level effects of `%s` were summarized online; the curves use their posterior means, so their uncertainty is not propagated", group),
                                   call = NULL)))
          }
          return(b + m)
        }
      }
      b
    }, curve_ids(chans, lev[grid$level]), chans, lev[grid$level], rows)
  }
  out$group <- group
  out$per_capita <- per_capita && !is.null(spec$pop)
  out$population <- spec$population
  out$curves$organic <- out$curves$channel %in% spec$organic
  out
}

# Lines saying what a fit's curves are in, for the prints of curves and
# plans: the conversion of spend to a channel's exposure, and the
# population a curve stands for.
units_note <- function(cv) {
  cu <- cv$curves
  out <- character(0)
  if (!is.null(cu$spend_column)) {
    k <- which(cu$spend_column != cu$exposure & !duplicated(cu$channel))
    out <- c(out, sprintf("Spend of %s: in `%s`, converted to `%s` at %s per unit (the average cost).",
                          cu$channel[k], cu$spend_column[k], cu$exposure[k], fmt_num(cu$unit_cost[k], 4)))
  }
  if (isTRUE(cv$per_capita)) {
    out <- c(out, sprintf("Per capita: spend and response divided by `%s`.", cv$population))
  } else if (!is.null(cu$population) && any(!is.na(cu$population))) {
    out <- c(out, if (all(is.na(cu$segment))) {
      sprintf("Population: a row of average `%s` (%s); response_curves(per_capita = TRUE) gives per-capita curves.",
              cv$population, fmt_num(cu$population[1], 4))
    } else sprintf("Population: a row of each level's average `%s`.", cv$population))
  }
  out
}

# What a fit's curves are in: each channel's spend per training row (the
# spend column, or the channel's own column; per capita on request), its
# cost per model unit of exposure (unit_cost()) and the rows' population
# (NULL: none, or the per-capita view).
curve_units <- function(spec, media, per_capita) {
  cols <- spend_or_exposure(spend_columns(spec, media))
  spend <- vapply(cols, function(cl) as.double(spec$data[[cl]]), numeric(spec$nobs))
  spend <- matrix(spend, spec$nobs)
  pop <- spec$pop
  if (per_capita && !is.null(pop)) {
    spend <- spend / pop
    pop <- NULL
  }
  list(spend = spend, cost = stats::setNames(unit_cost(spec, media), media), pop = pop,
       exposure = unname(media), column = unname(cols))
}

# The reference spend (mean per row), largest spend and mean population of
# channel c over the training rows `rows`.
curve_reference <- function(units, rows, c) {
  s <- units$spend[rows, c]
  list(spend = mean(s), max = max(s), pop = if (is.null(units$pop)) 1 else mean(units$pop[rows]))
}

curve_ids <- function(channel, segment) {
  ifelse(is.na(segment), channel, paste0(segment, ":", channel))
}

# Validate and assemble a curve set. `pars`: named list of D x K matrices
# (beta, halfsat, slope, lambda, k, vmax, decay, delay, shape, scale).
new_curves <- function(ids, channel, segment, type, adstock, pars, max_lag, normalize, spend_scale,
                       spend, source, spend_max = rep(NA_real_, length(ids))) {
  K <- length(ids)
  if (anyDuplicated(ids)) abort_input("x", sprintf("curve `%s` is given twice", ids[anyDuplicated(ids)]))
  type <- as.character(type)
  type[type == "none"] <- "linear"
  bad <- !type %in% names(HB_CODES$curve)
  if (any(bad)) {
    abort_input("type", sprintf("must be one of %s; found \"%s\" for curve `%s`",
                                paste0("\"", names(HB_CODES$curve), "\"", collapse = ", "), type[bad][1], ids[bad][1]))
  }
  adstock <- as.character(adstock)
  adstock[is.na(adstock)] <- "none"
  bad <- !adstock %in% CURVE_ADSTOCKS
  if (any(bad)) {
    abort_input("adstock", sprintf("must be one of %s; found \"%s\" for curve `%s`",
                                   paste0("\"", CURVE_ADSTOCKS, "\"", collapse = ", "), adstock[bad][1], ids[bad][1]))
  }
  D <- nrow(pars$beta)
  check_par <- function(nm, k, lower = 0, upper = Inf, open_lower = TRUE) {
    v <- pars[[nm]][, k]
    ok <- is.finite(v) & (if (open_lower) v > lower else v >= lower) & v <= upper
    if (!all(ok)) {
      abort_input(nm, sprintf("must be %s for curve `%s` (%s %s); found %s", if (is.finite(upper)) sprintf("in (%s, %s]", lower, upper) else "positive and finite",
                              ids[k], type[k], adstock[k], describe_value(v[!ok][1])))
    }
  }
  for (k in seq_len(K)) {
    b <- pars$beta[, k]
    if (!all(is.finite(b))) abort_input("beta", sprintf("must be finite for curve `%s`; found %s", ids[k], describe_value(b[!is.finite(b)][1])))
    for (p in CURVE_PARS[[type[k]]]) check_par(p, k)
    if (type[k] == "michaelis_menten") check_par("vmax", k)
    if (adstock[k] %in% c("geometric", "delayed")) {
      v <- pars$decay[, k]
      if (!all(is.finite(v) & v >= 0 & v < 1)) {
        abort_input("decay", sprintf("must be in [0, 1) for curve `%s`; found %s", ids[k], describe_value(v[!(is.finite(v) & v >= 0 & v < 1)][1])))
      }
    }
    if (adstock[k] == "delayed") check_par("delay", k, open_lower = FALSE)
    if (adstock[k] %in% c("weibull_cdf", "weibull_pdf")) for (p in c("shape", "scale")) check_par(p, k)
  }
  max_lag <- as.double(max_lag)
  need_lag <- adstock %in% c("delayed", "weibull_cdf", "weibull_pdf") & is.na(max_lag)
  max_lag[need_lag] <- 13
  if (any(!is.na(max_lag) & (max_lag < 0 | max_lag != round(max_lag) | max_lag > 1e4))) {
    abort_input("max_lag", "must be whole numbers in [0, 10000] (NA: infinite geometric memory)")
  }
  normalize <- as.logical(normalize)
  if (anyNA(normalize)) abort_input("normalize", "must be TRUE or FALSE for every curve")
  spend_scale <- as.double(spend_scale)
  if (any(!is.finite(spend_scale) | spend_scale <= 0)) abort_input("spend_scale", "must be positive and finite")
  spend <- as.double(spend)
  if (any(!is.na(spend) & (!is.finite(spend) | spend < 0))) {
    abort_input("spend", sprintf("reference spend must be non-negative and finite; found %s",
                                 describe_value(spend[!is.na(spend) & (!is.finite(spend) | spend < 0)][1])))
  }
  # saturation parameters in the kernel's order; vmax folds into beta; a
  # mixture's 3 x components (pars$mix[[k]], D x 3K, padded to the set's
  # largest with weight-0 components)
  ncomp <- vapply(seq_len(K), function(k) if (type[k] == "hill_mixture") ncol(pars$mix[[k]]) %/% 3L else 0L, 1L)
  if (any(type == "hill_mixture" & ncomp < 1L)) {
    abort_input("type", sprintf("\"hill_mixture\" curves need their components (curve `%s`): build them with response_curves(fit) from a mixture fit",
                                ids[type == "hill_mixture" & ncomp < 1L][1]))
  }
  Km <- max(ncomp)
  par <- array(1, c(D, K, max(2L, 3L * Km)))
  for (k in which(ncomp > 0L)) {
    kk <- ncomp[k]
    mk <- pars$mix[[k]]
    par[, k, 2L * Km + seq_len(Km)] <- 0
    for (b in 0:2) par[, k, b * Km + seq_len(kk)] <- mk[, b * kk + seq_len(kk)]
  }
  beta <- pars$beta
  for (k in seq_len(K)) {
    switch(type[k],
      hill = { par[, k, 1] <- pars$halfsat[, k]; par[, k, 2] <- pars$slope[, k] },
      logistic = par[, k, 1] <- pars$lambda[, k],
      michaelis_menten = { par[, k, 2] <- pars$k[, k]; beta[, k] <- beta[, k] * pars$vmax[, k] })
  }
  apar <- array(0, c(D, K, 2))
  for (k in seq_len(K)) {
    switch(adstock[k],
      geometric = apar[, k, 1] <- pars$decay[, k],
      delayed = { apar[, k, 1] <- pars$decay[, k]; apar[, k, 2] <- pars$delay[, k] },
      weibull_cdf = , weibull_pdf = { apar[, k, 1] <- pars$shape[, k]; apar[, k, 2] <- pars$scale[, k] })
  }
  colnames(beta) <- ids
  structure(list(
    curves = data.frame(id = ids, channel = channel, segment = segment, type = type, adstock = adstock,
                        max_lag = max_lag, normalize = normalize, spend_scale = spend_scale, spend = spend,
                        organic = FALSE, spend_max = as.double(spend_max), stringsAsFactors = FALSE),
    beta = beta, par = par, adstock_par = apar, source = source
  ), class = "hbmmm_curves")
}

# Number of draws and of curves.
n_draws <- function(cv) nrow(cv$beta)

# The curves that spend budget: organic channels (hbmmm(organic = )) have a
# response curve but no spend to plan, so planning functions drop them.
paid_curves <- function(cv, arg = "x") {
  org <- cv$curves$organic
  if (is.null(org) || !any(org)) return(cv)
  if (all(org)) abort_input(arg, "has only organic channels (hbmmm(organic = )); there is no budget to plan")
  out <- subset_curves(cv, which(!org))
  attr(out, "organic") <- unique(cv$curves$channel[org])
  out
}

# The curves as a set to plan with: x may be a fit, a data frame, a matrix or
# a curve set.
as_curves <- function(x, arg = "x") {
  if (inherits(x, "hbmmm_curves")) return(x)
  if (inherits(x, c("hbmmm_fit", "data.frame", "matrix"))) return(response_curves(x))
  abort_input(arg, sprintf("must be an hbmmm_fit, an hbmmm_curves object (response_curves()), a data frame of curves or a matrix of parameter draws; found %s",
                           describe_value(x)))
}

# Adstock of the columns of `m` (periods x draws) for curve k, with each
# draw's parameters (one column per draw), through the package's kernels.
adstock_draws <- function(cv, k, m) {
  ty <- cv$curves$adstock[k]
  if (ty == "none") return(m)
  ap <- cv$adstock_par[, k, ]
  ap <- matrix(ap, ncol = 2)
  par <- switch(ty,
    geometric = list(decay = ap[, 1]),
    delayed = list(decay = ap[, 1], delay = ap[, 2]),
    list(shape = ap[, 1], scale = ap[, 2]))
  lag <- cv$curves$max_lag[k]
  adstock_apply(m, ty, par, if (is.na(lag)) NULL else as.integer(lag), cv$curves$normalize[k], NULL)
}

# Sum of the adstock lag weights of curve k per draw: the steady-state
# multiplier of spend.
steady_multiplier <- function(cv, k) {
  D <- n_draws(cv)
  ty <- cv$curves$adstock[k]
  if (ty == "none") return(rep(1, D))
  lag <- cv$curves$max_lag[k]
  if (is.na(lag)) { # infinite geometric memory
    return(if (cv$curves$normalize[k]) rep(1, D) else 1 / (1 - cv$adstock_par[, k, 1]))
  }
  impulse <- matrix(0, lag + 1, D)
  impulse[1, ] <- 1
  colSums(adstock_draws(cv, k, impulse))
}

# Periods after the last spend until carry-over is negligible.
tail_length <- function(cv, k) {
  lag <- cv$curves$max_lag[k]
  if (cv$curves$adstock[k] == "none") return(0L)
  if (!is.na(lag)) return(as.integer(lag))
  dmax <- max(cv$adstock_par[, k, 1])
  if (dmax <= 0) return(0L)
  as.integer(min(520, ceiling(log(1e-8) / log(dmax))))
}

# Carry-over profiles (T x D x K) of one unit of spend, divided by the media
# scale: steady state (horizon NULL: T = 1, the sum of the lag weights) or
# the adstocked flighting pattern over `horizon` periods plus, with
# `carryover`, the periods after it until the effect dies out.
curve_profiles <- function(cv, horizon = NULL, flighting = NULL, carryover = TRUE) {
  K <- nrow(cv$curves)
  D <- n_draws(cv)
  if (is.null(horizon)) {
    prof <- array(0, c(1L, D, K))
    for (k in seq_len(K)) prof[1, , k] <- steady_multiplier(cv, k) / cv$curves$spend_scale[k]
    return(prof)
  }
  pattern <- flighting_pattern(horizon, flighting)
  tails <- if (carryover) vapply(seq_len(K), function(k) tail_length(cv, k), integer(1)) else integer(K)
  Tn <- horizon + max(tails)
  prof <- array(0, c(Tn, D, K))
  for (k in seq_len(K)) {
    m <- matrix(0, Tn, D)
    m[seq_len(horizon), ] <- pattern
    a <- adstock_draws(cv, k, m)
    if (!carryover) a[-seq_len(horizon), ] <- 0
    prof[, , k] <- a / cv$curves$spend_scale[k]
  }
  prof
}

flighting_pattern <- function(horizon, flighting) {
  if (is.null(flighting)) return(rep(1 / horizon, horizon))
  if (!is.numeric(flighting) || length(flighting) != horizon || any(!is.finite(flighting)) ||
      any(flighting < 0) || sum(flighting) <= 0) {
    abort_input("flighting", sprintf("must be %d non-negative weights (one per period of the horizon) with a positive sum; found %s",
                                     horizon, describe_value(flighting)))
  }
  flighting / sum(flighting)
}

# Responses of every curve at spend x (vector: the same grid for every curve,
# or matrix G x K). average = TRUE: G x K means over draws (and derivatives);
# FALSE: D x G x K arrays.
curves_eval <- function(cv, x, prof, deriv = FALSE, average = FALSE) {
  K <- nrow(cv$curves)
  if (!is.matrix(x)) x <- matrix(as.double(x), length(x), K)
  storage.mode(x) <- "double"
  out <- .Call(C_hb_curves_eval, HB_CODES$curve[cv$curves$type], cv$beta, cv$par, prof, x, deriv, average)
  G <- nrow(x)
  dims <- if (average) c(G, K) else c(n_draws(cv), G, K)
  out$value <- array(out$value, dims)
  if (deriv) out$deriv <- array(out$deriv, dims)
  out
}

# Per-draw response (D x K) of each curve at one spend per curve.
curves_at <- function(cv, spend, prof, deriv = FALSE) {
  r <- curves_eval(cv, matrix(spend, 1L), prof, deriv = deriv)
  out <- list(value = matrix(r$value, n_draws(cv), length(spend), dimnames = list(NULL, cv$curves$id)))
  if (deriv) out$deriv <- matrix(r$deriv, n_draws(cv), length(spend), dimnames = list(NULL, cv$curves$id))
  out
}

# Response per draw and period of a spend plan: `plan` is periods x K (spend
# per period; the columns in curve order). Returns D x T' x K, with T' the
# plan's periods plus, with `carryover`, the periods after it.
curves_flight <- function(cv, plan, carryover = TRUE) {
  K <- nrow(cv$curves)
  D <- n_draws(cv)
  tails <- if (carryover) vapply(seq_len(K), function(k) tail_length(cv, k), integer(1)) else integer(K)
  H <- nrow(plan)
  Tn <- H + max(tails)
  out <- array(0, c(D, Tn, K))
  for (k in seq_len(K)) {
    m <- matrix(0, Tn, D)
    m[seq_len(H), ] <- plan[, k]
    a <- adstock_draws(cv, k, m) / cv$curves$spend_scale[k]
    ty <- cv$curves$type[k]
    s <- if (ty == "linear") a else {
      p <- matrix(cv$par[, k, 1:2], ncol = 2)
      switch(ty,
        hill_mixture = mixture_curve_values(cv, k, a),
        hill = saturation_apply(a, "hill", list(halfsat = p[, 1], slope = p[, 2])),
        logistic = saturation_apply(a, "logistic", list(lambda = p[, 1])),
        michaelis_menten = saturation_apply(a, "michaelis_menten", list(vmax = p[, 1], k = p[, 2])))
    }
    out[, , k] <- t(s) * cv$beta[, k]
  }
  out
}

# Spend (per period, steady state) at which each draw's response reaches
# `level` of its maximum: D x K (NA for linear curves).
saturation_points <- function(cv, level = 0.9) {
  K <- nrow(cv$curves)
  out <- matrix(NA_real_, n_draws(cv), K, dimnames = list(NULL, cv$curves$id))
  odds <- level / (1 - level)
  for (k in seq_len(K)) {
    p <- matrix(cv$par[, k, 1:2], ncol = 2)
    z <- switch(cv$curves$type[k],
      linear = rep(NA_real_, nrow(p)),
      hill_mixture = mixture_level_point(cv, k, level),
      hill = p[, 1] * odds^(1 / p[, 2]),
      logistic = log((1 + level) / (1 - level)) / p[, 1],
      michaelis_menten = odds * p[, 2])
    out[, k] <- z * cv$curves$spend_scale[k] / steady_multiplier(cv, k)
  }
  out
}

# A mixture curve k (type "hill_mixture"): its saturation of `a` (one
# column per draw) through the kernel, with each draw's components
# (cv$par[d, k, ]: halfsat, slope, weight, padded with weight-0 components).
mixture_curve_values <- function(cv, k, a) {
  P <- dim(cv$par)[3]
  .Call(C_hb_saturate_mixture, as_media(a), P %/% 3L, t(matrix(cv$par[, k, ], ncol = P)), FALSE)
}

# The input at which each draw's mixture reaches `level` of its maximum (1):
# bisection on the log scale (a mixture of Hill curves increases, with no
# closed-form inverse).
mixture_level_point <- function(cv, k, level) {
  P <- dim(cv$par)[3]
  p <- matrix(cv$par[, k, ], ncol = P)
  K <- P %/% 3L
  h <- p[, seq_len(K), drop = FALSE]
  lo <- log(apply(h, 1, min)) - 50
  hi <- log(apply(h, 1, max)) + 50
  for (it in 1:80) {
    mid <- (lo + hi) / 2
    v <- mixture_curve_values(cv, k, matrix(exp(mid), 1L))
    up <- as.vector(v) >= level
    hi[up] <- mid[up]
    lo[!up] <- mid[!up]
  }
  exp((lo + hi) / 2)
}

# Reference spend per curve; NA (not given) falls back to `default`.
reference_spend <- function(cv, default = NULL) {
  s <- cv$curves$spend
  if (anyNA(s)) {
    if (is.null(default)) return(NULL)
    s[is.na(s)] <- default[is.na(s)]
  }
  stats::setNames(s, cv$curves$id)
}

# The probabilities of a central interval, rounded so that a level gives the
# same numbers however it was computed (0.95 gives exactly 0.025 and 0.975,
# which the diagnostics cached in a fit are keyed on).
interval_probs <- function(level) round(c((1 - level) / 2, 1 - (1 - level) / 2), 12)

check_level <- function(level, arg = "level") {
  if (!is.numeric(level) || length(level) != 1L || !is.finite(level) || level <= 0 || level >= 1) {
    abort_input(arg, sprintf("must be one number in (0, 1); found %s", describe_value(level)))
  }
  level
}

#' @rdname response_curves
#' @param object An `hbmmm_curves` object.
#' @param spend Spend per period at which to summarize each curve: `NULL` (the
#'   reference spend of each curve, or its saturation point when none is known)
#'   or a named vector by curve id.
#' @param level Probability of the credible intervals.
#' @param saturation_level The saturation point is the spend at which the
#'   response reaches this share of its maximum.
#' @export
summary.hbmmm_curves <- function(object, spend = NULL, level = 0.9, saturation_level = 0.9, ...) {
  cv <- object
  level <- check_level(level)
  sat_level <- check_level(saturation_level, "saturation_level")
  sp_pts <- saturation_points(cv, sat_level)
  sp_med <- apply(sp_pts, 2, stats::median)
  if (is.null(spend)) {
    spend <- reference_spend(cv, default = ifelse(is.na(sp_med), 1, sp_med))
  } else {
    spend <- plan_vector(spend, cv, "spend", default = NA_real_)
    if (anyNA(spend)) abort_input("spend", "must give a spend for every curve")
  }
  prof <- curve_profiles(cv)
  at <- curves_at(cv, spend, prof, deriv = TRUE)
  pr <- interval_probs(level)
  q <- function(m) apply(m, 2, stats::quantile, probs = pr, names = FALSE)
  rq <- q(at$value)
  mq <- q(at$deriv)
  sq <- apply(sp_pts, 2, function(v) if (all(is.na(v))) c(NA, NA) else stats::quantile(v, pr, names = FALSE))
  tab <- data.frame(curve = cv$curves$id, type = cv$curves$type, spend = unname(spend),
                    response = colMeans(at$value), response_lower = rq[1, ], response_upper = rq[2, ],
                    marginal = colMeans(at$deriv), marginal_lower = mq[1, ], marginal_upper = mq[2, ],
                    saturation_point = unname(sp_med), saturation_lower = sq[1, ], saturation_upper = sq[2, ],
                    stringsAsFactors = FALSE, row.names = NULL)
  structure(list(table = tab, level = level, saturation_level = sat_level, draws = n_draws(cv),
                 source = cv$source, units = units_note(cv)), class = "summary.hbmmm_curves")
}

#' @export
print.hbmmm_curves <- function(x, digits = 3, ...) {
  print(summary(x, ...), digits = digits)
  invisible(x)
}

#' @export
print.summary.hbmmm_curves <- function(x, digits = 3, ...) {
  tab <- x$table
  pct <- format_pct(x$level)
  cat(sprintf("Response curves: %d curve(s), %d draw(s) (from %s)\n", nrow(tab), x$draws, x$source))
  cat_wrap(units_text(x$source))
  for (u in x$units) cat_wrap(u)
  cat_wrap(sprintf("marginal = response of the next unit of spend; saturation at = spend (posterior median) where the response reaches %s of its maximum",
                   format_pct(x$saturation_level)))
  cat("\n")
  out <- data.frame(curve = tab$curve, type = tab$type, spend = fmt_num(tab$spend, digits),
                    response = fmt_interval(tab$response, tab$response_lower, tab$response_upper, digits),
                    marginal = fmt_interval(tab$marginal, tab$marginal_lower, tab$marginal_upper, digits),
                    saturation = ifelse(is.na(tab$saturation_point), "none", fmt_num(tab$saturation_point, digits)),
                    stringsAsFactors = FALSE)
  names(out)[4:6] <- c(sprintf("response [%s]", pct), "marginal [interval]", "saturation at")
  print_table(out)
  invisible(x)
}

#' @rdname response_curves
#' @param curves Curve ids to plot (default: all, at most 12).
#' @param max_spend Right end of the spend axis: a number, or `NULL` for the
#'   spend range observed in the data (curves of a fit: the largest spend of
#'   a period, and at least 1.2 times the reference spend), otherwise twice
#'   the larger of the reference spend and the saturation point.
#' @param n_points Points per curve.
#' @export
plot.hbmmm_curves <- function(x, curves = NULL, level = 0.9, max_spend = NULL, n_points = 100, ...) {
  cv <- x
  level <- check_level(level)
  ids <- cv$curves$id
  if (is.null(curves)) curves <- utils::head(ids, 12)
  bad <- setdiff(curves, ids)
  if (length(bad)) abort_input("curves", sprintf("`%s` is not a curve of this set (%s)%s", bad[1],
                                                 paste(ids, collapse = ", "), suggest_name(bad[1], ids)))
  n_points <- check_count(n_points, "n_points", 2, 1e4)
  k_sel <- match(curves, ids)
  sp_med <- apply(saturation_points(cv), 2, stats::median)
  ref <- cv$curves$spend
  obs <- if (is.null(cv$curves$spend_max)) rep(NA_real_, length(ids)) else cv$curves$spend_max
  top <- if (is.null(max_spend)) {
    # the spend range seen in the data, where the curve is learned; without
    # it, twice the larger of the reference spend and the saturation point
    ifelse(!is.na(obs) & obs > 0, pmax(obs, 1.2 * ifelse(is.na(ref), 0, ref)),
           2 * pmax(ifelse(is.na(ref), 0, ref), ifelse(is.na(sp_med), 0, sp_med), 1e-8))
  } else rep(max_spend, length(ids))
  grid <- vapply(seq_along(ids), function(k) seq(0, top[k], length.out = n_points), numeric(n_points))
  prof <- curve_profiles(cv)
  val <- curves_eval(cv, grid, prof)$value
  pr <- interval_probs(level)
  data <- lapply(k_sel, function(k) {
    m <- val[, , k, drop = TRUE]
    m <- matrix(m, n_draws(cv))
    data.frame(curve = ids[k], spend = grid[, k], mean = colMeans(m),
               lower = apply(m, 2, stats::quantile, pr[1], names = FALSE),
               upper = apply(m, 2, stats::quantile, pr[2], names = FALSE))
  })
  n <- length(k_sel)
  nc <- ceiling(sqrt(n))
  op <- graphics::par(mfrow = c(ceiling(n / nc), nc), mar = c(4.2, 4.5, 2.5, 1), oma = c(0, 0, 2, 0))
  on.exit(graphics::par(op))
  for (i in seq_len(n)) {
    d <- data[[i]]
    k <- k_sel[i]
    graphics::plot(d$spend, d$mean, type = "n", ylim = range(0, d$lower, d$upper), main = ids[k],
                   xlab = "spend per period", ylab = "response per period")
    graphics::polygon(c(d$spend, rev(d$spend)), c(d$lower, rev(d$upper)),
                      col = grDevices::adjustcolor("steelblue", 0.3), border = NA)
    graphics::lines(d$spend, d$mean, lwd = 2, col = "steelblue4")
    if (!is.na(ref[k])) graphics::abline(v = ref[k], lty = 2, col = "grey40")
    if (!is.na(sp_med[k]) && sp_med[k] <= max(d$spend)) {
      graphics::abline(v = sp_med[k], lty = 3, col = "firebrick")
    } else if (!is.na(sp_med[k])) { # beyond the observed range: say where
      graphics::legend("bottomright", legend = sprintf("saturation at %s,\nbeyond the axis", fmt_num(sp_med[k])),
                       bty = "n", text.col = "firebrick", cex = 0.75)
    }
  }
  graphics::mtext(sprintf("Posterior mean and %s band; dashed: reference spend; dotted: saturation point (90%% of the maximum)",
                          format_pct(level)), outer = TRUE, line = 0.5, cex = 0.85)
  invisible(do.call(rbind, data))
}

# ---- formatting helpers shared by the decision print methods ------------

fmt_num <- function(x, digits = 3) {
  sci <- !is.na(x) & is.finite(x) & x != 0 & (abs(x) < 1e-3 | abs(x) >= 1e12)
  out <- ifelse(is.na(x), "NA", trimws(formatC(signif(x, digits), format = "fg", digits = digits, big.mark = ",")))
  out[sci] <- formatC(x[sci], format = "e", digits = max(0, digits - 1))
  out
}

fmt_interval <- function(m, lo, hi, digits = 3) {
  sprintf("%s [%s, %s]", fmt_num(m, digits), fmt_num(lo, digits), fmt_num(hi, digits))
}

format_pct <- function(p) paste0(format(100 * p, digits = 3), "%")


# A per-curve vector from one value for all, one per curve, or a vector named
# by curve (channel names when each channel has one curve); `default` fills
# curves not named.
plan_vector <- function(v, cv, arg, default = NA_real_) {
  recycle_named(v, cv$curves$id, arg, what = "curve", default = default, numeric = TRUE)
}

# Print prose wrapped at the console width (continuation lines indented).
cat_wrap <- function(..., indent = 0L, exdent = 2L) {
  txt <- paste0(...)
  cat(strwrap(txt, width = getOption("width"), indent = indent, exdent = exdent), sep = "\n")
}

# Print a table of formatted columns left-aligned without row names. When it
# is wider than the console, its columns go into blocks that fit, each with
# the `keys` columns (the row labels) again, so that no line wraps.
print_table <- function(out, keys = 1L) {
  width <- getOption("width")
  show <- function(cols) { # at a width that never wraps, to measure
    op <- options(width = 10000L)
    on.exit(options(op))
    utils::capture.output(print(out[, cols, drop = FALSE], row.names = FALSE, right = FALSE))
  }
  lines <- show(seq_along(out))
  if (max(nchar(lines)) <= width || ncol(out) <= length(keys) + 1L) {
    cat(lines, sep = "\n")
    return(invisible(out))
  }
  rest <- setdiff(seq_along(out), keys)
  block <- integer(0)
  blocks <- list()
  for (j in rest) {
    if (length(block) && max(nchar(show(c(keys, block, j)))) > width) {
      blocks[[length(blocks) + 1L]] <- block
      block <- integer(0)
    }
    block <- c(block, j)
  }
  blocks[[length(blocks) + 1L]] <- block
  for (i in seq_along(blocks)) {
    if (i > 1L) cat("\n")
    cat(show(c(keys, blocks[[i]])), sep = "\n")
  }
  invisible(out)
}

# The units of a plan's spend and response, for the decision prints: per
# period at steady state or totals over a horizon; for curves of a fit, per
# row (one panel x period of the training data), the row of the curves'
# reference spend.
units_text <- function(source, horizon = NULL, carryover = TRUE, what = "spend and response") {
  fit <- identical(source, "fit")
  if (is.null(horizon)) {
    return(sprintf("Units: %s per period%s at steady state%s.", what, if (fit) " per row" else "",
                   if (fit) " (a row = one panel x period of the training data, whose mean spend per row is each curve's reference spend)" else ""))
  }
  sprintf("Units: %s are totals over the horizon of %d period(s)%s%s.", what, as.integer(horizon),
          if (fit) " per row series (one panel of the training data; a row = one panel x period, whose mean spend per row is each curve's reference spend per period)" else "",
          if (carryover) "; the response counts the carry-over after the horizon" else "")
}
