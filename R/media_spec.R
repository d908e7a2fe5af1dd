# Media transforms inside a model: which adstock and saturation each channel
# uses, the table of their parameters (link, prior, fixed or estimated), and
# the transformed media at given parameter values.

ADSTOCK_CHOICES <- c("geometric", "delayed", "weibull_cdf", "weibull_pdf", "none")
SATURATION_CHOICES <- c("hill", "logistic", "michaelis_menten", "none")

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
  michaelis_menten = data.frame(param = "k", slot = 3L, link = HB_CODES$link[["log"]])
)

build_transforms <- function(media, adstock, saturation, control, fixed, data, panel_codes, prior, tpos = NULL) {
  adstock <- recycle_named(adstock, media, "adstock", choices = ADSTOCK_CHOICES, in_order = FALSE)
  saturation <- recycle_named(saturation, media, "saturation", choices = SATURATION_CHOICES, in_order = FALSE)
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
  tr <- list(adstock = adstock, saturation = saturation, max_lag = max_lag, normalize = normalize, pars = pars)
  tr$priors <- transform_priors(tr, prior, data, panel_codes, media, tpos)
  est <- !pars$fixed
  tr$pars$value[est] <- vapply(tr$priors[pars$name[est]], prior_median, numeric(1))
  # a prior median outside a bounded range (e.g. delay) is pulled inside
  tr$pars$value <- clamp_to_range(tr$pars$value, tr$pars$link, tr$pars$upper)
  tr$init <- stats::setNames(tr$pars$value, tr$pars$name)
  tr
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
  slots <- c("decay", "delay", "shape", "scale", "halfsat", "slope", "lambda", "k")
  given <- slots[vapply(slots, function(s) !is.null(prior[[s]]), logical(1))]
  unused <- setdiff(given, pars$param)
  if (length(unused)) {
    abort_input("prior", sprintf("gives a prior for `%s`, but no channel of this model has that transform parameter (parameters: %s)",
                                 unused[1], if (nrow(pars)) paste(unique(pars$param), collapse = ", ") else "none"))
  }
  for (slot in unique(pars$param)) check_prior_names(prior, slot, unique(pars$channel[pars$param == slot]))
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
    if (!length(sat_rows)) next
    ad_rows <- which(pars$channel == ch & pars$slot <= 1L)
    ad_par <- stats::setNames(vapply(ad_rows, function(i) {
      if (pars$fixed[i]) pars$value[i] else prior_median(out[[pars$name[i]]])
    }, numeric(1)), pars$param[ad_rows])
    ad_par <- clamp_to_range(ad_par, pars$link[ad_rows], pars$upper[ad_rows])
    a <- adstock_channel(data[[ch]], tr$adstock[[ch]], as.list(ad_par), tr$max_lag[[ch]],
                         tr$normalize[[ch]], panel_codes, tpos)
    pos <- a[a > 0]
    ref <- if (length(pos)) stats::median(pos) else 1
    for (i in sat_rows) {
      p <- pars[i, ]
      default <- switch(p$param,
        halfsat = lognormal(log(ref), 1),
        slope = lognormal(log(1.5), 0.5),
        lambda = lognormal(log(1 / ref), 1),
        k = lognormal(log(ref), 1))
      out[[p$name]] <- prior_for(prior, p$param, ch, default)
    }
  }
  out
}

# `tpos`: time positions of the rows (NULL: consecutive periods).
adstock_channel <- function(x, type, par, max_lag, normalize, group, tpos = NULL) {
  if (type == "none") return(as.double(x))
  adstock_apply(x, type, par, max_lag, normalize, group, time = tpos)
}

saturate_channel <- function(x, type, par) {
  switch(type,
    none = x,
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
    saturate_channel(a, tr$saturation[[ch]], par)
  }, numeric(length(panel_codes)))
  matrix(out, ncol = length(media), dimnames = list(NULL, media))
}
