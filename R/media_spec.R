# Media transforms inside a model: which adstock and saturation each channel
# uses, the table of their parameters (link, prior, fixed or estimated), and
# the transformed media at given parameter values.

ADSTOCK_CHOICES <- c("geometric", "delayed", "weibull_cdf", "weibull_pdf", "none")
SATURATION_CHOICES <- c("hill", "logistic", "michaelis_menten", "hill_mixture", "none")
MAX_COMPONENTS <- 20L # HB_MAX_MIX in src/hbmmm.h

# Parameters of each transform type, with their C slot (0-1 adstock, 2-3
# saturation; see src/gibbs_media.c) and link to the unconstrained scale.
TRANSFORM_PARS <- list(
  geometric = data.frame(param = "decay", slot = 0L, link = HB_CODES$link[["logit"]]),
  delayed = data.frame(param = c("decay", "delay"), slot = 0:1, link = c(HB_CODES$link[["logit"]], HB_CODES$link[["scaled_logit"]])),
  weibull_cdf = data.frame(param = c("shape", "scale"), slot = 0:1, link = HB_CODES$link[["log"]]),
  weibull_pdf = data.frame(param = c("shape", "scale"), slot = 0:1, link = HB_CODES$link[["log"]]),
  none = data.frame(param = character(0), slot = integer(0), link = integer(0)),
  hill = data.frame(param = c("halfsat", "slope"), slot = 2:3, link = HB_CODES$link[["log"]]),
  logistic = data.frame(param = "lambda", slot = 2L, link = HB_CODES$link[["log"]]),
  michaelis_menten = data.frame(param = "k", slot = 3L, link = HB_CODES$link[["log"]]),
  # the mixture's components are a block of their own (tr$mixture)
  hill_mixture = data.frame(param = character(0), slot = integer(0), link = integer(0))
)

build_transforms <- function(media, adstock, saturation, control, fixed, data, panel_codes, prior, tpos = NULL,
                             saturation_control = list()) {
  adstock <- recycle_named(adstock, media, "adstock", choices = ADSTOCK_CHOICES, in_order = FALSE)
  saturation <- recycle_named(saturation, media, "saturation", choices = SATURATION_CHOICES, in_order = FALSE)
  mc <- mixture_controls(saturation_control, media, saturation)
  components <- mc$components
  if (!is.list(control) || length(setdiff(names(control), c("max_lag", "normalize")))) {
    abort_input("adstock_control", "must be a list with elements `max_lag` and/or `normalize`")
  }
  if (!is.null(names(control$max_lag)) && length(setdiff(names(control$max_lag), media))) {
    bad <- setdiff(names(control$max_lag), media)[1]
    abort_input("adstock_control", sprintf("`max_lag` names channel `%s`, which is not in `media` (%s)%s", bad,
                                           paste(media, collapse = ", "), suggest_name(bad, media)))
  }
  max_lag <- lapply(media, function(ch) {
    v <- control$max_lag
    if (!is.null(names(v))) v <- if (ch %in% names(v)) v[[ch]] else NULL
    if (is.null(v)) v <- if (adstock[[ch]] == "geometric") NULL else 13L
    if (!is.null(v)) v <- check_count(v, "adstock_control$max_lag")
    if (is.null(v) && adstock[[ch]] %in% c("delayed", "weibull_cdf", "weibull_pdf")) {
      abort_input("adstock_control", sprintf("`max_lag` must be a whole number for %s adstock (channel `%s`)",
                                             adstock[[ch]], ch))
    }
    v
  })
  names(max_lag) <- media
  normalize <- recycle_named(if (is.null(control$normalize)) TRUE else control$normalize, media,
                             "adstock_control$normalize", in_order = FALSE)
  if (!is.logical(normalize) || anyNA(normalize)) abort_input("adstock_control", "`normalize` must be TRUE or FALSE")

  pars <- do.call(rbind, lapply(media, function(ch) {
    p <- rbind(TRANSFORM_PARS[[adstock[[ch]]]], TRANSFORM_PARS[[saturation[[ch]]]])
    if (!nrow(p)) return(NULL)
    p$channel <- ch
    p$name <- paste0(p$param, "_", ch)
    p$upper <- ifelse(p$link == HB_CODES$link[["scaled_logit"]], if (is.null(max_lag[[ch]])) NA else max_lag[[ch]], NA)
    p
  }))
  if (is.null(pars)) pars <- data.frame(param = character(0), slot = integer(0), link = integer(0),
                                        channel = character(0), name = character(0), upper = numeric(0))
  pars$fixed <- rep(FALSE, nrow(pars))
  pars$value <- rep(NA_real_, nrow(pars))
  if (!is.null(fixed)) {
    if (!is.numeric(fixed) || is.null(names(fixed)) || any(!is.finite(fixed))) {
      abort_input("fixed_transforms", sprintf("must be a named numeric vector such as c(decay_tv = 0.5); found %s",
                                              describe_value(fixed)))
    }
    for (nm in names(fixed)) {
      i <- match(nm, pars$name)
      mix_ch <- mixture_channel_of(nm, components)
      if (!is.na(mix_ch)) {
        abort_input("fixed_transforms", sprintf("`%s` belongs to the mixture of Hill curves of channel `%s`, whose saturation is always estimated; use saturation = \"hill\" to fix a curve",
                                                nm, mix_ch))
      }
      if (is.na(i)) {
        abort_input("fixed_transforms", sprintf("`%s` is not a transform parameter of this model (parameters: %s)%s",
                                                nm, paste(pars$name, collapse = ", "), suggest_name(nm, pars$name)))
      }
      v <- fixed[[nm]]
      link <- link_name(pars$link[i])
      ok <- switch(link, logit = v >= 0 && v < 1, log = v > 0, scaled_logit = v >= 0 && v <= pars$upper[i])
      if (!ok) {
        abort_input("fixed_transforms", sprintf("`%s` = %s is outside its range (%s)", nm, format(v),
                                                switch(link, logit = "[0, 1)", log = "positive",
                                                       scaled_logit = sprintf("[0, %s]", format(pars$upper[i])))))
      }
      pars$fixed[i] <- TRUE
      pars$value[i] <- v
    }
  }
  tr <- list(adstock = adstock, saturation = saturation, max_lag = max_lag, normalize = normalize, pars = pars,
             components = components, mix_weights = mc$weights, mix_e0 = mc$concentration, mix_pool = mc$pool)
  tr$priors <- transform_priors(tr, prior, data, panel_codes, media, tpos)
  check_mixture_pool(tr, prior)
  est <- !pars$fixed
  tr$pars$value[est] <- vapply(tr$priors[pars$name[est]], prior_median, numeric(1))
  # a prior median outside a bounded range (e.g. delay) is pulled inside
  tr$pars$value <- clamp_to_range(tr$pars$value, tr$pars$link, tr$pars$upper)
  tr$mixture <- mixture_blocks(tr, prior)
  tr$init <- c(stats::setNames(tr$pars$value, tr$pars$name),
               unlist(lapply(unname(tr$mixture), `[[`, "init")))
  tr
}

# ---- mixture of Hill curves (saturation = "hill_mixture") ---------------

MIXTURE_WEIGHTS <- c("dirichlet", "stick_breaking")

# The mixture options of saturation_control: `components` per channel (0
# for channels that are not mixtures; default 5, more than most audiences
# have segments, the unneeded ones getting weights near zero), the weights'
# prior `weights` per channel, the Dirichlet `concentration` per channel,
# and `pool` (one flag: components pooled across the mixture channels).
mixture_controls <- function(control, media, saturation) {
  opts <- c("components", "weights", "concentration", "pool")
  if (!is.list(control) || is.object(control) || length(setdiff(names(control), opts)) ||
      (length(control) && is.null(names(control)))) {
    abort_input("saturation_control", sprintf("must be a list with elements `components`, `weights`, `concentration` and/or `pool`; found %s",
                                              describe_value(control)))
  }
  mix <- media[saturation[media] == "hill_mixture"]
  pool <- if (is.null(control$pool)) FALSE else control$pool
  if (!is.logical(pool) || length(pool) != 1L || is.na(pool)) {
    abort_input("saturation_control", sprintf("`pool` must be TRUE or FALSE; found %s", describe_value(control$pool)))
  }
  if (pool && !length(mix)) {
    abort_input("saturation_control", "`pool = TRUE` pools the components of mixture channels, but no channel has saturation = \"hill_mixture\"")
  }
  components <- mixture_option(control$components, "components", 5L, media, saturation, function(v) {
    is.numeric(v) && !anyNA(v) && all(v == round(v)) && all(v >= 1) && all(v <= MAX_COMPONENTS)
  }, sprintf("a whole number between 1 and %d (1 is the single Hill curve)", MAX_COMPONENTS))
  weights <- mixture_option(control$weights, "weights", "dirichlet", media, saturation,
                            function(v) is.character(v) && !anyNA(v) && all(v %in% MIXTURE_WEIGHTS),
                            sprintf("one of %s", paste0("\"", MIXTURE_WEIGHTS, "\"", collapse = ", ")))
  conc <- mixture_option(control$concentration, "concentration", NA_real_, media, saturation,
                         function(v) is.numeric(v) && !anyNA(v) && all(is.finite(v) & v > 0), "a positive number")
  stick <- mix[weights[mix] == "stick_breaking"]
  named <- names(control$concentration)
  if (!is.null(control$concentration) && length(intersect(if (is.null(named)) mix else named, stick))) {
    abort_input("saturation_control", sprintf("`concentration` sets the Dirichlet weights' e0, but channel `%s` has weights = \"stick_breaking\" (its concentration alpha has a prior: set it through hbmmm_prior(alpha = ))",
                                              intersect(if (is.null(named)) mix else named, stick)[1]))
  }
  stick_pool <- mix[weights[mix] == "stick_breaking" & components[mix] > 1]
  if (pool && length(stick_pool)) {
    abort_input("saturation_control", sprintf("`pool = TRUE` needs exchangeable components (Dirichlet weights), but channel `%s` has weights = \"stick_breaking\", which orders them by half-saturation",
                                              stick_pool[1]))
  }
  # the default e0: see dirichlet_concentration()
  default_e0 <- vapply(media, function(ch) dirichlet_concentration(components[[ch]]), 0)
  conc[is.na(conc)] <- default_e0[is.na(conc)]
  list(components = stats::setNames(as.integer(components), media), weights = weights, concentration = conc,
       pool = pool)
}

# Hyperpriors of pooled mixture components (saturation_control$pool), in
# the order of src/model.h's pool_prior: the mean of log(halfsat / the
# channel's centre) ~ normal(0, 1) and its sd ~ half_normal(1) (the
# unpooled prior is lognormal(centre, 1)); the mean of log slope ~
# normal(log 1.5, 0.5) and its sd ~ half_normal(0.5) (the unpooled prior
# is lognormal(log 1.5, 0.5)).
MIX_POOL_PRIOR <- c(0, 1, 1, log(1.5), 0.5, 0.5)

# With pooled components, each mixture channel's half-saturation prior
# gives its centre (a lognormal's meanlog) and the slopes' prior is the
# pooled one: a slope prior of the user's on a mixture channel would be
# ignored, so it is refused.
check_mixture_pool <- function(tr, prior) {
  if (!isTRUE(tr$mix_pool)) return(invisible(TRUE))
  for (ch in names(tr$components)[tr$components > 0L]) {
    hp <- tr$priors[[paste0("halfsat_", ch)]]
    if (!identical(hp$family, "lognormal")) {
      abort_input("prior", sprintf("with `saturation_control$pool = TRUE`, the half-saturation prior of mixture channel `%s` must be lognormal (its meanlog is the channel's centre); found %s",
                                   ch, format(hp)))
    }
    if (!is.null(prior_for(prior, "slope", ch, NULL))) {
      abort_input("prior", sprintf("with `saturation_control$pool = TRUE`, the slopes of mixture channel `%s` have the pooled prior; remove its `slope` prior",
                                   ch))
    }
  }
  invisible(TRUE)
}

# One option of saturation_control for the mixture channels, by channel
# (`default` elsewhere; `default` for non-mixture channels too): NULL, one
# value, or values named by mixture channel; `ok(v)` validates, `what`
# says what it must be.
mixture_option <- function(v, opt, default, media, saturation, ok, what) {
  mix <- media[saturation[media] == "hill_mixture"]
  out <- stats::setNames(rep(default, length(media)), media)
  if (opt == "components") out[!media %in% mix] <- 0L
  if (is.null(v)) return(out)
  if (!length(v) || !ok(v)) {
    abort_input("saturation_control", sprintf("`%s` must be %s; found %s", opt, what, describe_value(v)))
  }
  nm <- names(v)
  if (is.null(nm)) {
    if (length(v) != 1L) {
      abort_input("saturation_control", sprintf("`%s` must be one value or one per channel, named; found %d unnamed values",
                                                opt, length(v)))
    }
    if (!length(mix)) {
      abort_input("saturation_control", sprintf("`%s` applies to channels with saturation = \"hill_mixture\"; no channel has it (saturation: %s)",
                                                opt, paste(sprintf("%s = %s", media, saturation[media]), collapse = ", ")))
    }
    out[mix] <- v
    return(out)
  }
  for (ch in nm) {
    if (!ch %in% media) {
      abort_input("saturation_control", sprintf("`%s` names channel `%s`, which is not in `media` (%s)%s",
                                                opt, ch, paste(media, collapse = ", "), suggest_name(ch, media)))
    }
    if (saturation[[ch]] != "hill_mixture") {
      abort_input("saturation_control", sprintf("`%s` gives a mixture to channel `%s`, whose saturation is \"%s\"; a mixture of Hill curves needs saturation = \"hill_mixture\" for that channel",
                                                opt, ch, saturation[[ch]]))
    }
  }
  out[nm] <- v
  out
}

# Default concentration e0 of the Dirichlet weights, whatever the number of
# components K: well below d / 2 = 1 (d = 2 parameters per component), so
# that unneeded components empty (Rousseau and Mengersen 2011). Not much
# smaller: the sampler holds each weight as a log-gamma variable whose
# spread on an empty component is sqrt(trigamma(e0)), 4.1 at 0.25 but 10 at
# 0.1 (the earlier default 0.5 / K with K = 5), where weights fell to 1e-18,
# NUTS needed trees of depth 9-10 and diverged where such a component took
# mass again. At 0.5 the sampler is faster still, but on three segments a
# fourth component keeps a mean weight near 8% (0.04 at 0.25).
dirichlet_concentration <- function(K) 0.25

# Does the model have a mixture of Hill curves with more than one component
# (tr$components is 0 on channels that are not mixtures)?
has_mixture <- function(tr) any(tr$components > 1L)

# The mixture channel a stored-variable name belongs to (NA for none).
mixture_channel_of <- function(name, components) {
  for (ch in names(components)[components > 0]) {
    if (name %in% c(mixture_draw_names(ch, components[[ch]], TRUE), paste0(c("halfsat_", "slope_", "alpha_"), ch))) {
      return(ch)
    }
  }
  NA_character_
}

# Stored names of channel ch's mixture: weights, half-saturations, slopes
# (the draw's order), and alpha with stick-breaking weights (K > 1).
mixture_draw_names <- function(ch, K, stick = FALSE) {
  c(sprintf("%s_%s[%d]", rep(c("weight", "halfsat", "slope"), each = K), ch, rep(seq_len(K), 3)),
    if (stick && K > 1L) paste0("alpha_", ch))
}

# The channels whose mixture has stick-breaking weights and so a
# concentration alpha (K > 1).
mixture_stick_channels <- function(tr) {
  names(tr$components)[tr$components > 1L & tr$mix_weights[names(tr$components)] == "stick_breaking"]
}

# The kernel's order (halfsat 1..K, slope 1..K, weight 1..K): the names.
mixture_kernel_names <- function(ch, K) {
  sprintf("%s_%s[%d]", rep(c("halfsat", "slope", "weight"), each = K), ch, rep(seq_len(K), 3))
}

# Per mixture channel: K, the weights' prior (`weights`, and `e0` for
# Dirichlet ones), the priors of each half-saturation (i.i.d. before
# ordering: the Hill curve's default), each slope and (stick-breaking) the
# concentration alpha, and starting values: half-saturations spread around
# the prior median (the median itself for K = 1, as the Hill curve), equal
# weights.
mixture_blocks <- function(tr, prior) {
  out <- list()
  stick_ch <- mixture_stick_channels(tr)
  for (ch in names(tr$components)[tr$components > 0]) {
    K <- tr$components[[ch]]
    stick <- ch %in% stick_ch
    pri <- list(halfsat = tr$priors[[paste0("halfsat_", ch)]], slope = tr$priors[[paste0("slope_", ch)]],
                alpha = if (stick) prior_for(prior, "alpha", ch, gamma_dist(2, 2)))
    h0 <- prior_median(pri$halfsat) * exp(if (K > 1L) seq(-1, 1, length.out = K) else 0)
    init <- c(rep(1 / K, K), h0, rep(prior_median(pri$slope), K), if (stick) prior_median(pri$alpha))
    out[[ch]] <- list(K = K, weights = tr$mix_weights[[ch]], e0 = if (K > 1L) tr$mix_e0[[ch]],
                      priors = pri, init = stats::setNames(init, mixture_draw_names(ch, K, stick)))
  }
  out
}

# Channel ch's mixture parameters in the kernel's order (3K x draws) from
# named values: a vector or a draws x names matrix (as.matrix(fit));
# missing names take the starting values.
mixture_par_matrix <- function(theta, ch, tr) {
  nm <- mixture_kernel_names(ch, tr$components[[ch]])
  if (is.null(dim(theta))) theta <- matrix(theta, 1L, dimnames = list(NULL, names(theta)))
  out <- matrix(tr$mixture[[ch]]$init[nm], length(nm), nrow(theta))
  have <- nm %in% colnames(theta)
  out[have, ] <- t(theta[, nm[have], drop = FALSE])
  out
}

clamp_to_range <- function(v, link, upper) {
  eps <- 1e-6
  v[link == HB_CODES$link[["logit"]]] <- pmin(pmax(v[link == HB_CODES$link[["logit"]]], eps), 1 - eps)
  s <- link == HB_CODES$link[["scaled_logit"]]
  v[s] <- pmin(pmax(v[s], eps * upper[s]), (1 - eps) * upper[s])
  v
}

# Priors of transform parameters: user's, else data-based defaults.
transform_priors <- function(tr, prior, data, panel_codes, media, tpos = NULL) {
  pars <- tr$pars
  # a mixture channel's components take its halfsat and slope priors, and
  # its stick-breaking weights a concentration alpha
  mix <- names(tr$components)[tr$components > 0]
  stick <- mixture_stick_channels(tr)
  mix_par <- if (length(mix)) c("halfsat", "slope", if (length(stick)) "alpha")
  params <- unique(c(pars$param, mix_par))
  slots <- c("decay", "delay", "shape", "scale", "halfsat", "slope", "lambda", "k", "alpha")
  given <- slots[vapply(slots, function(s) !is.null(prior[[s]]), logical(1))]
  unused <- setdiff(given, params)
  if ("alpha" %in% unused && has_mixture(tr)) {
    abort_input("prior", "gives a prior for `alpha`, the concentration of stick-breaking mixture weights, but the mixtures of this model have Dirichlet weights (fixed concentration: saturation_control = list(concentration = )); use saturation_control = list(weights = \"stick_breaking\") for stick-breaking weights")
  }
  if (length(unused)) {
    abort_input("prior", sprintf("gives a prior for `%s`, but no channel of this model has that transform parameter (parameters: %s)",
                                 unused[1], if (length(params)) paste(params, collapse = ", ") else "none"))
  }
  for (slot in params) {
    chans <- pars$channel[pars$param == slot]
    if (slot %in% mix_par) chans <- c(chans, if (slot == "alpha") stick else mix)
    check_prior_names(prior, slot, unique(chans))
  }
  out <- list()
  # adstock first: the saturation defaults look at adstocked spend
  for (i in which(pars$slot <= 1L)) {
    p <- pars[i, ]
    default <- switch(p$param,
      decay = beta_dist(2, 2),
      delay = uniform(0, p$upper),
      shape = lognormal(0, 1),
      scale = lognormal(log(max(1, tr$max_lag[[p$channel]] / 4)), 1))
    out[[p$name]] <- prior_for(prior, p$param, p$channel, default)
  }
  for (ch in media) {
    sat_rows <- which(pars$channel == ch & pars$slot >= 2L)
    if (!length(sat_rows) && !ch %in% mix) next
    ad_rows <- which(pars$channel == ch & pars$slot <= 1L)
    ad_par <- stats::setNames(vapply(ad_rows, function(i) {
      if (pars$fixed[i]) pars$value[i] else prior_median(out[[pars$name[i]]])
    }, numeric(1)), pars$param[ad_rows])
    ad_par <- clamp_to_range(ad_par, pars$link[ad_rows], pars$upper[ad_rows])
    a <- adstock_channel(data[[ch]], tr$adstock[[ch]], as.list(ad_par), tr$max_lag[[ch]],
                         tr$normalize[[ch]], panel_codes, tpos)
    pos <- a[a > 0]
    ref <- if (length(pos)) stats::median(pos) else 1
    sat_par <- if (ch %in% mix) c("halfsat", "slope") else pars$param[sat_rows]
    for (param in sat_par) {
      default <- switch(param,
        halfsat = lognormal(log(ref), 1),
        slope = lognormal(log(1.5), 0.5),
        lambda = lognormal(log(1 / ref), 1),
        k = lognormal(log(ref), 1))
      out[[paste0(param, "_", ch)]] <- prior_for(prior, param, ch, default)
    }
  }
  out
}

# `tpos`: time positions of the rows (NULL: consecutive periods).
adstock_channel <- function(x, type, par, max_lag, normalize, group, tpos = NULL) {
  if (type == "none") return(as.double(x))
  adstock_apply(x, type, par, max_lag, normalize, group, time = tpos)
}

# `mix`: a mixture channel's parameters, 3K x (1 or ncol(x)) in the
# kernel's order (mixture_par_matrix()).
saturate_channel <- function(x, type, par, mix = NULL) {
  switch(type,
    none = x,
    hill_mixture = {
      K <- nrow(mix) %/% 3L
      P <- matrix(mix, 3L * K, NCOL(x))
      out <- .Call(C_hb_saturate_mixture, as_media(x), K, P, FALSE)
      check_no_overflow(out, x, "saturation")
      out
    },
    michaelis_menten = saturation_apply(x, "michaelis_menten", list(vmax = 1, k = par$k)),
    saturation_apply(x, type, par[TRANSFORM_PARS[[type]]$param]))
}

# Transformed media (n x channels) at parameter values `theta` (named by
# parameter name, e.g. decay_tv).
transform_media <- function(media_data, tr, theta, panel_codes, tpos = NULL) {
  media <- names(tr$adstock)
  out <- vapply(media, function(ch) {
    rows <- tr$pars$channel == ch
    par <- as.list(stats::setNames(theta[tr$pars$name[rows]], tr$pars$param[rows]))
    a <- adstock_channel(media_data[, ch], tr$adstock[[ch]], par[tr$pars$param[rows & tr$pars$slot <= 1L]],
                         tr$max_lag[[ch]], tr$normalize[[ch]], panel_codes, tpos)
    saturate_channel(a, tr$saturation[[ch]], par, if (tr$saturation[[ch]] == "hill_mixture") mixture_par_matrix(theta, ch, tr))
  }, numeric(length(panel_codes)))
  matrix(out, ncol = length(media), dimnames = list(NULL, media))
}
