# Model specification: validate the inputs once, build plain numeric pieces
# for the C samplers, and resolve default priors from the data.

#' Specify a hierarchical Bayesian marketing mix model
#'
#' Validates the data and the model, builds the design and the priors, and
#' returns the specification that [hbmmm()] samples. Printing a spec shows the
#' model, its data and every prior, without fitting.
#'
#' The model is a linear mixed model on transformed media plus controls:
#' `y = X b + sum_k Z_k u_k + e`, with `u_k ~ N(0, Sigma_k)` for each grouping
#' term and `e_i ~ N(0, sigma^2 / w_i)`. Each media channel named in `media`
#' enters every term where it appears through its adstock and saturation
#' transforms, whose parameters are estimated (or fixed through
#' `fixed_transforms`). Media may be interacted with non-media variables
#' (`tv:income`), which gives cross-level interactions ("slopes as outcomes").
#'
#' Random effects use lme4 syntax: `(1 + tv | market)` (correlated intercept
#' and slope), `(1 + tv || market)` (uncorrelated), nested `(1 | market/store)`
#' (groups `market` and `market:store`), crossed `(1 | market) + (1 | week)`.
#'
#' @param formula A two-sided formula with optional random-effect bars.
#' @param data A data frame holding every variable of the model.
#' @param media Names of the media columns (numeric, non-negative spend or
#'   exposure). Each must appear in `formula`.
#' @param adstock Adstock per channel: one of `"geometric"`, `"delayed"`,
#'   `"weibull_cdf"`, `"weibull_pdf"`, `"none"`; a single value for all channels
#'   or a named vector by channel.
#' @param saturation Saturation per channel: `"hill"`, `"logistic"`,
#'   `"michaelis_menten"` (with `vmax = 1`, the coefficient carries the scale),
#'   `"hill_mixture"` (a mixture of Hill curves, one per latent audience
#'   segment, [saturation_hill_mixture()]; NUTS only, see
#'   `saturation_control`) or `"none"`.
#' @param prior An [hbmmm_prior()] object; unspecified slots get weakly
#'   informative, scale-aware defaults (shown by `print()`; what they mean on
#'   the data's scale is in the section "Default priors" of [hbmmm_prior()]).
#'   Each media channel's own coefficient is positive by default
#'   (`half_normal()`); `hbmmm_prior(b = list(tv = normal(0, 100)))` makes it
#'   signed.
#' @param organic Names of media channels that are not paid for (e.g. a
#'   newsletter, organic social posts, earned media): modelled like every
#'   channel (adstock, saturation, coefficient, contributions, response
#'   curves), but with no spend, so [roi()] reports no ROI for them and
#'   [allocate_budget()], [budget_for_target()] and curve scenarios never give
#'   them budget. A subset of `media`.
#' @param population Name of a column holding each row's population (e.g. of
#'   the geo), positive. The model is then fitted per capita: the response
#'   and every media column are divided by the row's population (Meridian's
#'   convention for geo panels, where sales and media scale with the size of
#'   the geo), so that the coefficients, transforms and group-level effects
#'   describe a person, and geos of different size share them. Controls
#'   enter as given (divide them yourself where per capita is the right
#'   scale). Every result a user reads is back in the data's units: fitted
#'   values, predictions and the log-likelihood are per row (per-capita value
#'   times the row's population), [contributions()] and [roi()] are totals in
#'   the response's and spend's units, and [response_curves()] of the fit are
#'   the response of a row of average population to its spend (per level of
#'   `group` with the level's population); `per_capita = TRUE` in
#'   [contributions()] and [response_curves()] gives the per-capita view. The
#'   response must be a column (not an expression).
#' @param spend Named character vector mapping media channels to the column
#'   of their spend, when the model uses another measure of exposure for the
#'   channel (e.g. `media = c("tv_grp", ...)`, `spend = c(tv_grp = "tv_spend")`):
#'   the channel's column (`tv_grp`) enters the model, the spend column is
#'   what [roi()] divides by, and response curves and allocation are in spend,
#'   converted to exposure at the channel's average cost per unit (total spend
#'   over total exposure in the data, shown by `print()` of the curves).
#'   Channels not named are their own spend; organic channels have none.
#' @param prior_only Leave the likelihood out, so that the samplers draw from
#'   the prior: a prior predictive check. The data still define the design,
#'   the media and the data-based default priors; [pp_check()],
#'   [posterior_predict()], [roi()], [response_curves()] and
#'   [contributions()] on such a fit show what the priors imply before the
#'   sales are seen. `hbmmm(..., prior_only = TRUE)` passes it here.
#' @param time Name of the time column. Rows are ordered by time within each
#'   panel series before adstock is applied. `NULL`: rows are in time order.
#' @param panel Name of the column identifying a series (for example `market` or
#'   `individual`); adstock restarts in each. `NULL` with `time` given: the
#'   coarsest grouping factor of the formula within which `time` is unique;
#'   `NULL` without `time`: one series.
#' @param sigma_by Name of a column: one residual variance per level.
#' @param weights Observation weights (a column name or a positive numeric
#'   vector, or the result of [ps_weight()] or [ps_match()]): observation `i`
#'   has residual variance `sigma^2 / w_i`. Weights
#'   are rescaled to mean one (only their relative sizes matter), so that the
#'   residual variance keeps its scale and the posterior of `sigma^2`, which
#'   counts rows, matches the data's information; this is what makes
#'   propensity score weights from [ps_weight()] usable here, fitting the
#'   model on the balanced pseudo-population.
#' @param horseshoe Put horseshoe shrinkage on the fixed media coefficients?
#' @param factors Named integer vector: grouping terms whose covariance is
#'   factor-analytic, `Sigma = Lambda Lambda' + Psi`, with that many factors,
#'   e.g. `c(individual = 2)`.
#' @param personalize One-sided formula of consumer characteristics `W`:
#'   adds the interactions of every media channel with `W`, so that media
#'   coefficients are `Theta W + eta` (with `eta` from a random slope).
#' @param calibration Lift tests (geo experiments, conversion-lift studies)
#'   that calibrate the channels' response curves, as a data frame with one
#'   row per test and the columns of PyMC-Marketing's lift tests: `channel`
#'   (a media channel with its own population-level coefficient in
#'   `formula`), `x` (its spend per period before the test, >= 0),
#'   `delta_x` (the spend added per period during the test, > 0), `delta_y`
#'   (the measured change in the response per period) and `sigma` (the
#'   standard error of `delta_y`, > 0). Each test adds the likelihood term
#'   `delta_y ~ N(f(x + delta_x) - f(x), sigma^2)`, where `f` is the
#'   channel's steady-state response curve, the curve [response_curves()]
#'   reports: `f(x) = b * sat(W x)` per period per row of the data (`W` the
#'   sum of the adstock weights: the carry-over of a steady spend), in the
#'   units of the spend column (see `spend`) and, with `population`, for a
#'   row of average population. A test run in one group (one market) names
#'   it in a column called after a grouping term of the model (e.g.
#'   `market`, `NA` for the other tests); its curve is then that level's,
#'   `b` plus the level's group-level effect of the channel when the term
#'   has one, for a row of the level's average population. Both samplers;
#'   `print()` of the fit shows each test against the fitted curve.
#' @param media_effects How a grouping term's media columns (`(1 + tv |
#'   market)`'s `tv`) vary by level. `"normal"` (default): additively, level
#'   l's coefficient is `b + u_l` with `u_l` normal around 0 (and
#'   correlated with the term's other columns). This lets a level's effect
#'   be negative even when the population effect `b` is positive, and gives
#'   small and large markets the same absolute spread. `"log_normal"` (as
#'   Meridian's `media_effects_dist`): multiplicatively, level l's
#'   coefficient is `b exp(v_l)` with `v_l ~ N(0, sd^2)`, so every level's
#'   effect has the sign of `b` (positive by default) and `b` is their
#'   median. The draws keep their names and meaning: `sd_<group>__<channel>`
#'   is the sd of `v` (log scale; prior through [hbmmm_prior()]'s
#'   `media_sd`) and `r_<group>[<level>,<channel>]` is `b (exp(v_l) - 1)`,
#'   so `b + r` is the level's coefficient either way. These columns have
#'   no correlation with the term's other columns. Each such channel must
#'   enter the fixed effects through its own column only (no
#'   interactions, `personalize`) and vary by one grouping term, whose
#'   effects are all kept (`keep_ranef`). Both samplers: the Gibbs sampler
#'   updates each level's multiplier by slice sampling (its likelihood is
#'   normal in `exp(v_l)`), moves `b` and all `v` jointly along the ridge
#'   `b exp(v_l)` fixed, and draws the sd through its Huang-Wand auxiliary;
#'   NUTS samples `v = sd z` non-centred.
#' @param saturation_control List for the `"hill_mixture"` channels, each
#'   element one value or named by channel: `components`, the number K of
#'   Hill curves, a whole number from 1 to 20 (default 5); `weights`, the
#'   prior of the mixture weights, `"dirichlet"` (default) or
#'   `"stick_breaking"`; `concentration`, the Dirichlet weights' e0 (default
#'   0.25 for every K); `pool`, `TRUE` to pool the components' parameters
#'   (default `FALSE`, one value for the model; see *Pooled components*). The channel's response is `b * sum_k w_k Hill(adstock;
#'   halfsat_k, slope_k)`; the components are stored ordered by
#'   half-saturation (no label switching: `halfsat_<channel>[1] <
#'   halfsat_<channel>[2] < ...` in every draw). Default priors: each
#'   half-saturation the Hill curve's default `lognormal(log(median
#'   adstocked spend), 1)` (i.i.d. before ordering), each slope
#'   `lognormal(log(1.5), 0.5)`; set them through `halfsat` and `slope` of
#'   [hbmmm_prior()].
#'
#'   *Dirichlet weights* (the default): `w ~ Dirichlet(e0, ..., e0)`, a
#'   sparse, exchangeable prior. Specify more components than you expect
#'   segments: in an overfitted mixture the unneeded components empty
#'   (rather than duplicate a needed one) when the concentration per
#'   component is below d / 2, d = 2 parameters per component (Rousseau and
#'   Mengersen 2011); the default 0.25 is well below that bound (much
#'   smaller values push the empty weights towards 1e-18, where NUTS needs
#'   deep trees and diverges when such a component takes mass again). NUTS targets an
#'   acceptance of 0.95 by default on a model with a mixture (see `control`
#'   of [hbmmm()]). Because the prior treats the components alike, NUTS samples
#'   them unordered and stores each draw sorted by half-saturation, which
#'   is exactly the posterior of the ordered model, while an empty
#'   component can move past an occupied one (the ordered parameterization
#'   has a barrier there). Which rank an empty component takes varies from
#'   draw to draw, so pruning shows in the number of components with a
#'   sizeable weight per draw (e.g. `rowSums(weights > 0.05)`), not always
#'   in the mean weight of one rank.
#'
#'   *Stick-breaking weights* (`weights = "stick_breaking"`, the previous
#'   default): `v_k ~ Beta(1, alpha)`, `w_k = v_k prod_(j<k) (1 - v_j)` in
#'   the order of the half-saturations, with `alpha` from `alpha` of
#'   [hbmmm_prior()] (default `gamma_dist(2, 2)`, mean 1; its density
#'   vanishes at 0, where all the weight would collapse onto the first
#'   component and the sampler diverges) and drawn as `alpha_<channel>`. It
#'   is not exchangeable: a small alpha favours the first, lowest
#'   half-saturation components, so a segment that needs sustained spend
#'   must be carried by components the prior wants empty, and in the
#'   validation benchmark (`inst/validation/mixture.R`) no component was
#'   pruned with it.
#'
#'   *Pooled components* (`pool = TRUE`, NUTS): the half-saturations and
#'   slopes of every component of every mixture channel are partially
#'   pooled, `log halfsat_ck ~ N(centre_c + mu_h, sd_h^2)` with `centre_c`
#'   the meanlog of channel c's (lognormal) half-saturation prior, by
#'   default the log of its median adstocked spend, and `log slope_ck ~
#'   N(mu_s, sd_s^2)`; hyperpriors `mu_h ~ normal(0, 1)`, `sd_h ~
#'   half_normal(1)`, `mu_s ~ normal(log(1.5), 0.5)`, `sd_s ~
#'   half_normal(0.5)` (the unpooled priors' centres and scales), drawn as
#'   `mix_halfsat_mu`, `mix_halfsat_sd`, `mix_slope_mu`, `mix_slope_sd`.
#'   Channels and components then borrow strength: a component the data
#'   say little about is shrunk towards where the others sit, relative to
#'   its channel's spend. Both are sampled non-centred (`log halfsat =
#'   centre + mu_h + sd_h z`, `log slope = mu_s + sd_s z'`, z and z'
#'   standard normal): centred, an empty component and a small pooled sd
#'   form a funnel. Pooling needs exchangeable components (Dirichlet
#'   weights, or one component); a `slope` prior on a pooled channel is
#'   refused (the pooled one replaces it).
#'
#'   Draws: `weight_<channel>[k]`, `halfsat_<channel>[k]`,
#'   `slope_<channel>[k]` (and `alpha_<channel>` with stick-breaking
#'   weights). With `components = 1` the model is the single Hill curve (the
#'   same log density).
#' @param fixed_transforms Named numeric vector of transform parameters held
#'   fixed, named like the draws: `c(decay_tv = 0.5, slope_tv = 1)`.
#' @param adstock_control List with `max_lag` (default `NULL`, infinite memory,
#'   for geometric; 13 otherwise) and `normalize` (default `TRUE`), each a
#'   single value or named by channel.
#' @param keep_ranef Grouping terms with at most this many group-level effects
#'   (levels x terms) keep every draw; larger ones are summarized online (mean,
#'   sd, 2.5% and 97.5% quantiles) so memory does not grow with the number of
#'   individuals times draws. Means and sds are exact; the quantiles come
#'   from a 128-bin histogram per effect and chain (its range set from the
#'   second half of warmup), averaged over chains: typically within 0.05
#'   posterior sd of the sample quantiles of the same draws, further when
#'   chains disagree. With fewer than 20 warmup iterations the quantiles are
#'   P-square estimates, which are less accurate on autocorrelated draws.
#' @param keep_levels Named list by grouping term of levels whose effects keep
#'   every draw even when the term is summarized online.
#' @return An object of class `hbmmm_spec`.
#' @seealso [hbmmm()] to fit, [hbmmm_prior()] for priors.
#' @examples
#' spec <- hbmmm_spec(sales ~ tv + search + price + (1 + tv | market),
#'                    data = mmm_weekly, media = c("tv", "search"),
#'                    time = "week")
#' spec
#' @export
hbmmm_spec <- function(formula, data, media = NULL, adstock = "geometric", saturation = "hill",
                       prior = NULL, time = NULL, panel = NULL, sigma_by = NULL, weights = NULL,
                       horseshoe = FALSE, factors = NULL, personalize = NULL,
                       fixed_transforms = NULL, adstock_control = list(), keep_ranef = 1000,
                       keep_levels = NULL, prior_only = FALSE, organic = NULL, population = NULL,
                       spend = NULL, saturation_control = list(), calibration = NULL,
                       media_effects = "normal") {
  call <- match.call()
  prior_only <- check_flag(prior_only, "prior_only")
  if (!is.data.frame(data)) {
    abort_input("data", sprintf("must be a data frame; found %s", describe_value(data)))
  }
  if (nrow(data) < 2L) abort_input("data", sprintf("must have at least 2 rows; found %d", nrow(data)))
  pf <- parse_formula(formula)
  media <- check_media_names(media, data)
  organic <- check_organic(organic, media)
  population <- check_population(population, data, media, pf$response)
  spend <- check_spend_map(spend, media, organic, data)
  if (!is.null(personalize)) pf$fixed <- add_personalization(pf$fixed, personalize, media, data)
  terms <- unlist(pf$bars, recursive = FALSE)

  # every column the model touches must exist, be complete and finite
  cols <- list(time = time, panel = panel, sigma_by = sigma_by)
  for (a in names(cols)) check_column_name(cols[[a]], data, a)
  if (!is.null(time)) check_time_column(data[[time]], time, "time")
  if (is.character(weights)) check_column_name(weights, data, "weights")
  used <- unique(c(model_columns(pf$fixed), unlist(lapply(terms, function(t) c(model_columns(t$lhs), t$group_vars))),
                   media, unlist(cols), if (is.character(weights)) weights, population, stats::na.omit(spend)))
  missing_cols <- setdiff(used, names(data))
  if (length(missing_cols)) {
    abort_input("formula", sprintf("column `%s` is not in `data`%s", missing_cols[1],
                                   suggest_name(missing_cols[1], names(data))))
  }
  check_complete(data, used)
  check_media_columns(data, media)
  unused <- setdiff(media, c(model_columns(pf$fixed), unlist(lapply(terms, function(t) model_columns(t$lhs)))))
  if (length(unused)) {
    abort_input("media", sprintf("channel `%s` does not appear in `formula`; add it as a term", unused[1]))
  }

  # order rows by panel, then time, so that each series is one contiguous block
  panel <- resolve_panel(panel, time, data, terms)
  ord <- if (!is.null(time) || !is.null(panel)) {
    pv <- if (!is.null(panel)) panel_values(data, panel)
    keys <- c(if (!is.null(panel)) list(match(pv, unique(pv))),
              if (!is.null(time)) list(xtfrm(data[[time]])))
    do.call(order, c(keys, list(method = "radix")))
  } else seq_len(nrow(data))
  data <- data[ord, , drop = FALSE]
  panel_codes <- if (is.null(panel)) rep(1L, nrow(data)) else {
    pv <- panel_values(data, panel)
    match(pv, unique(pv))
  }
  if (!is.null(time)) {
    dup <- anyDuplicated(data.frame(panel_codes, data[[time]]))
    if (dup) {
      where <- if (is.null(panel)) "" else sprintf(" for %s = %s", panel_label(panel), format(panel_values(data, panel)[dup]))
      abort_input("time", sprintf("`%s` = %s occurs more than once%s (row %d); every series needs one row per time point; give `panel` to name the series",
                                  time, format(data[[time]][dup]), where, ord[dup]))
    }
  }

  # time positions: carry-over counts periods, so gaps decay (R/time_axis.R)
  tm <- spec_time(data, time, panel, panel_codes)

  y <- spec_response(pf, data, formula, ord)
  # with a population, the model sees the response and the media per capita;
  # `data` keeps the user's units (spend, totals)
  pop <- if (!is.null(population)) as.double(data[[population]])
  mdata <- data
  if (!is.null(pop)) {
    y <- y / pop
    mdata[media] <- data[media] / pop
  }

  X <- media_design(stats::delete.response(stats::terms(pf$fixed)), data, media)
  if ("(Intercept)" %in% X$names && "Intercept" %in% X$names) {
    # both would be drawn as b_Intercept (brms names the intercept so)
    abort_input("formula", paste0("has a predictor named `Intercept` next to the model's intercept; ",
                                  "both would be named b_Intercept. Rename the column"))
  }
  if (!ncol(X$static)) {
    abort_input("formula", "has no fixed effects; keep the intercept or add a predictor (group-level effects are deviations from fixed effects)")
  }
  ranef <- lapply(terms, build_ranef_term, data = data, media = media)
  names(ranef) <- vapply(ranef, `[[`, "", "group")
  check_ranef_terms(ranef, nrow(data))
  if (is.null(prior)) prior <- hbmmm_prior()
  if (!inherits(prior, "hbmmm_prior")) {
    abort_input("prior", sprintf("must be made by hbmmm_prior(); found %s", describe_value(prior)))
  }
  transforms <- build_transforms(media, adstock, saturation, adstock_control, fixed_transforms,
                                 mdata, panel_codes, prior, tm$tpos, saturation_control)
  warn_stacked_series(time, panel, terms, transforms)
  w <- resolve_weights(weights, data, ord)
  sg <- if (is.null(sigma_by)) list(codes = rep(1L, nrow(data)), levels = character(0)) else {
    f <- factor(data[[sigma_by]])
    if (nlevels(f) < 2L) abort_input("sigma_by", sprintf("column `%s` has a single level", sigma_by))
    list(codes = as.integer(f), levels = levels(f))
  }
  media_init <- transform_media(mdata[media], transforms, transforms$init, panel_codes, tm$tpos)
  check_fixed_design(X, media_init, media)
  factors <- check_factors(factors, ranef)
  ranef <- mark_media_effects(ranef, X, media, media_effects, factors)
  horseshoe <- check_flag(horseshoe, "horseshoe")
  if (horseshoe && !any(!is.na(X$channel))) {
    abort_input("horseshoe", "needs at least one fixed media coefficient in `formula`")
  }
  # the covariance priors are those of the samplers' Gaussian terms (the
  # multiplicative columns of log-normal media effects have their own)
  priors <- resolve_priors(prior, y, X, engine_ranef(ranef), media_init, sg, horseshoe, factors,
                           saturated = media[transforms$saturation[media] != "none"],
                           spend = spend_for_priors(data, media, spend, population, prior))
  priors$media_sd <- resolve_media_sd_priors(prior, ranef)
  keep <- resolve_keep(keep_ranef, keep_levels, ranef)
  check_mult_keep(ranef, keep)

  spec <- structure(list(
    call = call, formula = formula, response = deparse(pf$response), y = y, weights = w,
    X = X, ranef = ranef, media = media, organic = organic, transforms = transforms, sigma_by = sigma_by, sigma_group = sg,
    time = time, panel = panel, panel_codes = panel_codes, row_order = ord, nobs = nrow(data),
    time_axis = tm$axis, time_pos = tm$pos, tpos = tm$tpos,
    media_data = media_matrix(mdata, media), population = population, pop = pop, spend = spend, horseshoe = horseshoe, factors = factors, priors = priors,
    prior = prior, keep = keep, data = data, prior_only = prior_only,
    media_effects = match_choice(media_effects, MEDIA_EFFECTS, "media_effects")
  ), class = "hbmmm_spec")
  spec$calibration <- check_calibration(calibration, spec)
  spec
}

# ---- pieces ---------------------------------------------------------------

# Each channel's total spend, for ROI priors. With a population the ROI sums
# each row's per-capita contribution times its population, which the
# samplers' ROI prior (b times the sum of the model's column) cannot hold.
spend_for_priors <- function(data, media, spend, population, prior) {
  if (!is.null(population) && !is.null(prior$roi)) {
    abort_input("prior", paste0("`roi` priors cannot be combined with `population`: the ROI then weights each row's ",
                                "per-capita contribution by its population; put the prior on the coefficients (`b`) instead"))
  }
  column_totals(data, spend_or_exposure(spend[media]))
}

media_matrix <- function(data, media) {
  m <- matrix(as.double(unlist(data[media], use.names = FALSE)), nrow(data), length(media))
  colnames(m) <- media
  m
}

check_media_names <- function(media, data) {
  if (is.null(media)) return(character(0))
  if (!is.character(media) || anyNA(media) || anyDuplicated(media)) {
    abort_input("media", sprintf("must be distinct column names; found %s", describe_value(media)))
  }
  miss <- setdiff(media, names(data))
  if (length(miss)) {
    abort_input("media", sprintf("column `%s` is not in `data`%s", miss[1], suggest_name(miss[1], names(data))))
  }
  media
}

check_column_name <- function(x, data, arg) {
  if (is.null(x)) return(invisible())
  if (!is.character(x) || length(x) != 1L || is.na(x)) {
    abort_input(arg, sprintf("must be one column name; found %s", describe_value(x)))
  }
  if (!x %in% names(data)) {
    abort_input(arg, sprintf("column `%s` is not in `data`%s", x, suggest_name(x, names(data))))
  }
}

# "; did you mean `x`?" for the closest name, or "" when nothing is close
# (at most one edit per three characters, and at least one).
suggest_name <- function(x, choices) {
  if (!length(choices)) return("")
  d <- utils::adist(tolower(x), tolower(choices))[1, ]
  best <- which.min(d)
  if (d[best] <= max(1, nchar(x) %/% 3)) sprintf("; did you mean `%s`?", choices[best]) else ""
}

check_complete <- function(data, cols, arg = "data") {
  for (v in cols) {
    x <- data[[v]]
    bad <- if (is.numeric(x)) !is.finite(x) else is.na(x)
    if (any(bad)) {
      rows <- which(bad)
      abort_input(arg, sprintf("column `%s` has %d missing or non-finite value(s), first at row(s) %s",
                                  v, length(rows), paste(utils::head(rows, 3), collapse = ", ")))
    }
  }
}

add_personalization <- function(fixed, personalize, media, data) {
  if (!inherits(personalize, "formula") || length(personalize) != 2L) {
    abort_input("personalize", sprintf("must be a one-sided formula of consumer characteristics such as `~ age + income`; found %s",
                                       describe_value(personalize)))
  }
  if (!length(media)) abort_input("personalize", "needs `media`: it interacts each media channel with the characteristics")
  miss <- setdiff(all.vars(personalize), names(data))
  if (length(miss)) {
    abort_input("personalize", sprintf("column `%s` is not in `data`%s", miss[1], suggest_name(miss[1], names(data))))
  }
  if (any(intersect(all.vars(personalize), media) %in% media)) {
    abort_input("personalize", "lists consumer characteristics; media channels cannot be among them")
  }
  used <- intersect(media, all.vars(fixed))
  if (!length(used)) {
    abort_input("personalize", "interacts the media channels of the fixed part with the characteristics, but no media channel is a fixed term of `formula`")
  }
  w <- paste(deparse(personalize[[2L]]), collapse = "")
  add <- sprintf("(%s):(%s)", paste(used, collapse = " + "), w)
  stats::update(fixed, stats::as.formula(paste("~ . +", add)))
}

# The series along which adstock runs: a column name, or (found
# automatically) the columns of a nested grouping term such as market:store.
# Media columns: numeric, non-negative; a channel with one non-zero value in
# every row is fitted only through its adstock ramp-up, so it warns.
check_media_columns <- function(data, media) {
  for (m in media) {
    v <- data[[m]]
    if (!is.numeric(v)) abort_input("media", sprintf("column `%s` must be numeric; found %s", m, class(v)[1]))
    if (any(v < 0)) {
      abort_input("media", sprintf("column `%s` has %d negative value(s), first at row %d; media must be non-negative",
                                   m, sum(v < 0), which(v < 0)[1]))
    }
  }
  for (m in media) {
    v <- data[[m]]
    # (a channel that is zero everywhere is refused by check_fixed_design())
    if (v[1] != 0 && all(v == v[1])) {
      warn_classed("constant_channel", sprintf(paste0(
        "media column `%s` is %s in every row: its effect cannot be told apart from the intercept ",
        "(only the carry-over ramp-up at the start of each series separates them), so its posterior ",
        "rests on the prior; drop it or use data where its spend varies"), m, format(v[1])))
    }
  }
  invisible()
}

# The time axis of the sorted data: positions of every row and, when some
# series skips periods (with a warning saying where), the positions the
# kernels need (tpos; NULL keeps their fast path for consecutive periods).
spec_time <- function(data, time, panel, panel_codes) {
  if (is.null(time)) return(list(axis = NULL, pos = NULL, tpos = NULL))
  axis <- time_axis(data[[time]], panel_codes, time)
  pos <- time_positions(axis, data[[time]], time, "time")
  gaps <- time_gaps(pos, panel_codes, data[[time]])
  warn_time_gaps(gaps, time, panel, if (!is.null(panel)) unique(panel_values(data, panel)))
  list(axis = axis, pos = pos, tpos = if (nrow(gaps)) pos)
}

# The response: numeric, finite, not beyond what sums of squares hold, not
# constant.
spec_response <- function(pf, data, formula, ord) {
  y <- eval(pf$response, data, environment(formula))
  if (!is.numeric(y) || length(y) != nrow(data)) {
    abort_input("formula", sprintf("the response `%s` must evaluate to a numeric vector with one value per row",
                                   deparse(pf$response)))
  }
  bad <- which(!is.finite(y))
  if (length(bad)) {
    abort_input("formula", sprintf("the response `%s` is not finite in %d row(s), first at row %d",
                                   deparse(pf$response), length(bad), ord[bad[1]]))
  }
  if (max(abs(y)) > 1e100) {
    # the default priors and the samplers' sums of squares would overflow
    abort_input("formula", sprintf("the response `%s` reaches %s; rescale it (e.g. to thousands or millions)",
                                   deparse(pf$response), format(max(abs(y)), digits = 3)))
  }
  if (all(y == y[1])) {
    abort_input("formula", sprintf("the response `%s` is constant (%s in every row); there is nothing to model",
                                   deparse(pf$response), format(y[1])))
  }
  y
}

resolve_panel <- function(panel, time, data, terms) {
  if (!is.null(panel) || is.null(time)) return(panel)
  if (!anyDuplicated(data[[time]])) return(NULL)
  cand <- unique(lapply(terms, `[[`, "group_vars"))
  ok <- vapply(cand, function(g) !anyDuplicated(data.frame(panel_values(data, g), data[[time]])), logical(1))
  cand <- cand[ok]
  if (!length(cand)) abort_repeated_time(time, data, unique(lapply(terms, `[[`, "group_vars")))
  cand[[which.min(vapply(cand, function(g) length(unique(panel_values(data, g))), numeric(1)))]]
}

# Time repeats and no grouping factor makes it unique. When a grouping
# factor leaves only a few repeats, the data most likely holds a duplicated
# row of a series: name it. Otherwise the series column is missing.
abort_repeated_time <- function(time, data, groups) {
  if (length(groups)) {
    ndup <- vapply(groups, function(g) sum(duplicated(data.frame(panel_values(data, g), data[[time]]))), 1)
    g <- groups[[which.min(ndup)]]
    key <- data.frame(panel_values(data, g), data[[time]])
    if (min(ndup) <= nrow(data) / 10) {
      dup <- which(duplicated(key))[1]
      first <- which(duplicated(key, fromLast = TRUE) & key[[1]] == key[[1]][dup] & key[[2]] == key[[2]][dup])[1]
      abort_input("data", sprintf(paste0("has %d row(s) repeating a series and period, first rows %d and %d ",
                                         "(%s = %s, %s = %s); each series needs one row per period"),
                                  min(ndup), first, dup, panel_label(g), format(key[[1]][dup]), time,
                                  format(data[[time]][dup])))
    }
  }
  abort_input("panel", sprintf("`%s` repeats in the data and no grouping factor identifies the series; name the series column with `panel`",
                               time))
}

# Without `time` the rows are one series in their given order; with grouping
# terms in the formula the data is most likely a stacked panel, and the
# carry-over would run from one group's rows into the next group's.
warn_stacked_series <- function(time, panel, terms, transforms) {
  if (!is.null(time) || !is.null(panel) || !length(terms) || all(transforms$adstock == "none")) return(invisible())
  g <- panel_label(terms[[1]]$group_vars)
  warn_classed("stacked_series", sprintf(paste0(
    "no `time` is given, so the rows are taken as one series in their order and carry-over runs from ",
    "the rows of one `%s` into the next; give `time` (and `panel`) so that it restarts in each series"), g))
}

panel_values <- function(data, panel) {
  if (length(panel) == 1L) return(data[[panel]])
  do.call(paste, c(lapply(panel, function(v) data[[v]]), sep = ":"))
}
panel_label <- function(panel) paste(panel, collapse = ":")

build_ranef_term <- function(term, data, media) {
  f <- factor(do.call(paste, c(lapply(term$group_vars, function(v) data[[v]]), sep = ":")))
  lhs <- stats::as.formula(call("~", term$lhs))
  Z <- media_design(lhs, data, media)
  if (!ncol(Z$static)) abort_input("formula", sprintf("random-effect term `(%s)` has no terms", term$label))
  c(term, list(codes = as.integer(f), levels = levels(f), Z = Z))
}

check_ranef_terms <- function(ranef, n) {
  grp <- names(ranef)
  for (k in seq_along(ranef)) {
    t <- ranef[[k]]
    G <- length(t$levels)
    q <- ncol(t$Z$static)
    if (G < 2L) {
      abort_input("formula", sprintf("grouping factor `%s` in `(%s)` has a single level; a random effect needs at least 2",
                                     t$group, t$label))
    }
    if (G * q >= n) {
      abort_input("formula", sprintf("`(%s)` asks for %d group-level effects (%d levels x %d terms) but there are only %d observations",
                                     t$label, G * q, G, q, n))
    }
    dup <- intersect(t$Z$names, unlist(lapply(ranef[-k][grp[-k] == t$group], function(o) o$Z$names)))
    if (length(dup)) {
      abort_input("formula", sprintf("term `%s` varies by `%s` in more than one bar", dup[1], t$group))
    }
  }
}

check_fixed_design <- function(X, media_init, media) {
  M <- materialize(X, media_init)
  nm <- X$names
  const <- apply(M, 2, function(v) all(v == v[1]))
  is_int <- nm == "(Intercept)"
  if (any(const & !is_int)) {
    abort_input("formula", sprintf("predictor `%s` is constant%s; drop it (the intercept already carries a constant)",
                                   nm[const & !is_int][1],
                                   if (!is.na(X$channel[const & !is_int][1])) " after its media transform" else ""))
  }
  qrM <- qr(M)
  if (qrM$rank < ncol(M)) {
    alias <- nm[qrM$pivot[(qrM$rank + 1L):ncol(M)]]
    abort_input("formula", sprintf("predictor `%s` is a linear combination of the others (perfectly collinear); drop it",
                                   alias[1]))
  }
}

# Design matrix at given transformed media (n x channels).
materialize <- function(D, media_values) {
  M <- D$static
  j <- which(!is.na(D$channel))
  if (length(j)) M[, j] <- M[, j] * media_values[, D$channel[j]]
  M
}

resolve_weights <- function(weights, data, ord) {
  n <- nrow(data)
  if (is.null(weights)) return(rep(1, n))
  if (inherits(weights, c("hbmmm_weight", "hbmmm_match"))) weights <- weights$weights
  w <- if (is.character(weights)) data[[weights]] else {
    if (!is.numeric(weights) || length(weights) != n) {
      abort_input("weights", sprintf("must be a column name or a numeric vector with one value per row (%d); found %s",
                                     n, describe_value(weights)))
    }
    weights[ord]
  }
  if (!is.numeric(w)) abort_input("weights", sprintf("must be numeric; found %s", class(w)[1]))
  bad <- !is.finite(w) | w <= 0
  if (any(bad)) {
    abort_input("weights", sprintf("must be positive and finite; found %d invalid value(s) (first: %s)%s",
                                   sum(bad), format(w[bad][1]),
                                   if (any(w == 0, na.rm = TRUE)) "; rows with weight zero (trimmed or unmatched units) must be dropped from `data` (with their weights) before fitting" else ""))
  }
  # precision weights: only relative sizes matter; mean one keeps sigma^2 on
  # the scale of the data (the sampler counts rows, not sum(w))
  w <- as.double(w)
  w / mean(w)
}

check_factors <- function(factors, ranef) {
  if (is.null(factors)) return(stats::setNames(integer(0), character(0)))
  if (!is.numeric(factors) || is.null(names(factors)) || anyNA(factors) || any(factors != round(factors)) ||
      any(factors < 1)) {
    abort_input("factors", sprintf("must be a named vector of positive whole numbers, e.g. c(individual = 2); found %s",
                                   describe_value(factors)))
  }
  for (g in names(factors)) {
    if (!g %in% names(ranef)) {
      abort_input("factors", sprintf("`%s` is not a grouping term of the formula (terms: %s)%s", g,
                                     paste(names(ranef), collapse = ", "), suggest_name(g, names(ranef))))
    }
    q <- ncol(ranef[[g]]$Z$static)
    if (q < 2L || factors[[g]] >= q) {
      abort_input("factors", sprintf("`%s` has %d varying term(s); the number of factors must be between 1 and %d",
                                     g, q, q - 1L))
    }
    if (!ranef[[g]]$correlated) {
      abort_input("factors", sprintf("`%s` uses `||` (uncorrelated); a factor covariance needs `|`", g))
    }
  }
  stats::setNames(as.integer(factors), names(factors))
}


# `organic`: NULL or names among the media channels (no spend: no ROI, no
# budget).
check_organic <- function(organic, media) {
  if (is.null(organic)) return(character(0))
  if (!is.character(organic) || anyNA(organic) || !length(organic)) {
    abort_input("organic", sprintf("must be NULL or names of media channels; found %s", describe_value(organic)))
  }
  bad <- setdiff(organic, media)
  if (length(bad)) {
    abort_input("organic", sprintf("names `%s`, which is not a media channel (media: %s)", bad[1],
                                   if (length(media)) paste(media, collapse = ", ") else "none"))
  }
  unique(organic)
}

resolve_keep <- function(keep_ranef, keep_levels, ranef) {
  keep_ranef <- check_count(keep_ranef, "keep_ranef", 0, .Machine$integer.max)
  if (!is.null(keep_levels) && (!is.list(keep_levels) || is.null(names(keep_levels)))) {
    abort_input("keep_levels", sprintf("must be a named list of levels by grouping term; found %s", describe_value(keep_levels)))
  }
  unknown <- setdiff(names(keep_levels), names(ranef))
  if (length(unknown)) {
    abort_input("keep_levels", sprintf("`%s` is not a grouping term of the formula (terms: %s)%s", unknown[1],
                                       paste(names(ranef), collapse = ", "), suggest_name(unknown[1], names(ranef))))
  }
  lapply(stats::setNames(names(ranef), names(ranef)), function(g) {
    t <- ranef[[g]]
    full <- length(t$levels) * ncol(t$Z$static) <= keep_ranef
    lv <- keep_levels[[g]]
    idx <- if (is.null(lv)) integer(0) else {
      i <- match(as.character(lv), t$levels)
      if (anyNA(i)) abort_input("keep_levels", sprintf("level `%s` is not a level of `%s`", lv[is.na(i)][1], g))
      i
    }
    list(full = full, levels = if (full) seq_along(t$levels) else sort(unique(idx)))
  })
}

# The user's data in its original row order (specs hold it sorted by panel
# and time).
original_data <- function(spec) {
  d <- spec$data[order(spec$row_order), , drop = FALSE]
  rownames(d) <- NULL
  d
}
