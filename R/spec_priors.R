# Default priors: weakly informative and scaled by the data, so that a model
# of sales in dollars and one in millions get equivalent priors.

resolve_priors <- function(prior, y, X, ranef, media_init, sg, use_hs, factors, saturated = character(0),
                           spend = NULL) {
  sy <- stats::sd(y)
  M <- materialize(X, media_init)
  nm <- X$names
  is_int <- nm == "(Intercept)"
  check_prior_names(prior, "b", nm[!is_int])
  sdx <- apply(M, 2, stats::sd)
  # coefficient that moves y by 2.5 sd for a 1 sd move of its predictor;
  # a saturated media column lies in [0, 1] and its coefficient is the effect
  # at full saturation, so its scale is 2.5 sd(y) per unit of its static part
  # (the column's sd at the initial transform can be tiny for a steady
  # channel and would make the prior nearly flat)
  auto <- ifelse(is_int, NA, 2.5 * sy / sdx)
  sat <- !is.na(X$channel) & colnames(media_init)[X$channel] %in% saturated
  if (any(sat)) {
    rms <- sqrt(colMeans(X$static[, sat, drop = FALSE]^2))
    auto[sat] <- 2.5 * sy / rms
  }
  # a media channel's own coefficient (not an interaction) is positive by
  # default: half-normal with the same scale; under the horseshoe it stays
  # signed (the horseshoe is the prior of every media column then)
  media_main <- media_main_columns(X, media_init)
  b <- lapply(seq_along(nm), function(j) {
    if (is_int[j]) {
      # wide enough for any intercept implied by uncentered predictors
      span <- sum(auto[!is_int] * abs(colMeans(M)[!is_int]))
      return(prior_for(prior, "Intercept", "(Intercept)", normal(mean(y), 10 * sy + span)))
    }
    prior_for(prior, "b", nm[j], if (media_main[j] && !use_hs) half_normal(auto[j]) else normal(0, auto[j]))
  })
  names(b) <- nm
  check_coef_families(b, media_main, use_hs)
  roi <- resolve_roi_priors(prior, X, media_init, media_main, use_hs, spend)
  roi_spend <- rep(0, length(nm))
  for (j in which(!is.na(roi$spend))) {
    b[[j]] <- roi$prior[[j]]
    roi_spend[j] <- roi$spend[j]
  }

  hs <- NULL
  if (use_hs) {
    # beta_j ~ N(0, (scale_global / sd(x_j) lambda_j tau)^2): the scale is on
    # the standardized coefficient, in units of y; the default unit is sd(y)
    hs <- prior_for(prior, "horseshoe", "horseshoe", horseshoe(scale_global = sy))
  }

  check_prior_names(prior, "cov", names(ranef))
  check_prior_names(prior, "cor", names(ranef))
  check_prior_names(prior, "sd", names(ranef))
  cov <- lapply(names(ranef), function(g) {
    t <- ranef[[g]]
    Zm <- materialize(t$Z, media_init)
    q <- ncol(Zm)
    sz <- ifelse(t$Z$names == "(Intercept)", sy, sy / apply(Zm, 2, stats::sd))
    sz[!is.finite(sz)] <- sy
    # per unit of each term's predictor (1 / sd(z_j); 1 for the intercept):
    # the design sets relative scales, the prior (data-based by default) the unit
    zs <- ifelse(t$Z$names == "(Intercept)", 1, 1 / apply(Zm, 2, stats::sd))
    zs[!is.finite(zs)] <- 1
    if (g %in% names(factors)) {
      return(list(type = "factor", scale = zs, nf = factors[[g]],
                  loadings = prior_for(prior, "loadings", g, normal(0, sy / 4)),
                  psi = prior_for(prior, "psi", g, inv_gamma(1, (sy / 10)^2 / 2))))
    }
    correlated <- t$correlated && q > 1L
    cor_d <- prior_for(prior, "cor", g)
    sd_d <- prior_for(prior, "sd", g)
    if (!is.null(cor_d) || !is.null(sd_d)) { # NUTS only: LKJ with separate scales
      if (!correlated) {
        abort_input("prior", sprintf("`cor`/`sd` priors (LKJ) need correlated terms; `%s` has %s", g,
                                     if (q == 1L) "a single term" else "uncorrelated `||` terms"))
      }
      return(list(type = "lkj", eta = (if (is.null(cor_d)) lkj(1) else cor_d)$par[["eta"]],
                  sd = if (is.null(sd_d)) half_student_t(3, sy) else sd_d, zs = zs, scale = sz))
    }
    # default: Huang-Wand, each sd half-t(2, sd(y) per unit of its predictor)
    # and uniform correlations; it does not pull variances towards zero when
    # the levels are few, as small inverse-gamma/Wishart scales do
    d <- prior_for(prior, "cov", g, half_student_t(2, sy))
    if (d$family == "half_student_t") {
      return(list(type = if (correlated) "hw_full" else "hw_diag", dist = d,
                  nu = d$par[["df"]], A = d$par[["scale"]] * zs, scale = sz))
    }
    if (d$family == "inv_wishart") {
      if (!correlated) {
        abort_input("prior", sprintf("inv_wishart() needs correlated terms; `%s` has %s", g,
                                     if (q == 1L) "a single term (use inv_gamma() or half_student_t())" else "uncorrelated `||` terms"))
      }
      S <- d$scale
      if (length(S) == 1L) S <- diag(S, q)
      if (!identical(dim(S), c(q, q))) {
        abort_input("prior", sprintf("inv_wishart() scale for `%s` must be a number or a %d x %d matrix", g, q, q))
      }
      if (d$par[["df"]] <= q - 1) {
        abort_input("prior", sprintf("inv_wishart() for `%s` needs df > %d (the dimension minus 1); found %s",
                                     g, q - 1, format(d$par[["df"]])))
      }
      return(list(type = "full", dist = d, S = S, scale = sz))
    }
    if (correlated) {
      abort_input("prior", sprintf("the covariance of `%s` (correlated terms) needs inv_wishart() or half_student_t(); found %s",
                                   g, format(d)))
    }
    list(type = "diag", dist = rep(list(d), q), scale = sz)
  })
  names(cov) <- names(ranef)

  # one pseudo-observation at a tenth of sd(y): weak, but scaled by the data
  sigma <- prior_for(prior, "sigma", "sigma", scaled_inv_chisq(1, sy / 10))
  if (!sigma$family %in% c("inv_gamma", "scaled_inv_chisq")) {
    abort_input("prior", sprintf("sigma needs inv_gamma() or scaled_inv_chisq() (on the variance); found %s", format(sigma)))
  }
  list(b = b, b_auto = auto, x_sd = sdx, horseshoe = hs, cov = cov, sigma = sigma, roi_spend = roi_spend)
}

# ROI priors (slot `roi`): per fixed column, the lognormal prior of the
# channel's ROI and the channel's total spend (NA: no ROI prior). The ROI
# is b * sum(transformed media) / spend, so the channel must enter the fixed
# effects through its own column only (roi() sums every term containing
# the channel) and have some spend; the samplers turn it into b's prior.
resolve_roi_priors <- function(prior, X, media_init, media_main, use_hs, spend) {
  channels <- colnames(media_init)
  check_prior_names(prior, "roi", channels)
  p <- length(X$names)
  out <- list(prior = vector("list", p), spend = rep(NA_real_, p))
  if (is.null(prior$roi)) return(out)
  named_b <- if (is.list(prior$b) && !is_dist(prior$b)) setdiff(names(prior$b), ".default") else character(0)
  for (c in seq_along(channels)) {
    ch <- channels[c]
    d <- prior_for(prior, "roi", ch)
    if (is.null(d)) next
    cols <- which(X$channel == c)
    own <- cols[media_main[cols]]
    why <- if (!length(own)) {
      "it has no fixed coefficient of its own in `formula`"
    } else if (length(cols) > 1L) {
      sprintf("it also enters through %s, which roi() adds to its contribution",
              paste0("`", X$names[setdiff(cols, own)], "`", collapse = ", "))
    } else if (use_hs) {
      "its coefficient has the horseshoe prior"
    } else if (ch %in% named_b) {
      "`b` also gives it a prior; give one of the two"
    } else if (!(spend[[ch]] > 0)) {
      "it has no spend in the data"
    }
    if (!is.null(why)) {
      abort_input("prior", sprintf("`roi` gives channel `%s` a prior, but %s", ch, why))
    }
    out$prior[[own]] <- d
    out$spend[own] <- spend[[ch]]
  }
  out
}

# Which fixed columns are a media channel's own coefficient (named after the
# channel), the columns a positive prior may go on.
media_main_columns <- function(X, media_init) {
  out <- rep(FALSE, length(X$names))
  ch <- X$channel
  on <- !is.na(ch)
  out[on] <- X$names[on] == colnames(media_init)[ch[on]]
  out
}

# Positive families only where they mean "this channel's effect is
# positive": on a media channel's own coefficient (the intercept's slot
# allows normal() only), not under the horseshoe.
check_coef_families <- function(b, media_main, use_hs) {
  fam <- vapply(b, `[[`, "", "family")
  nm <- names(b)
  pos <- fam != "normal"
  bad <- pos & !media_main
  if (any(bad)) {
    abort_input("prior", sprintf(paste0(
      "%s() is a positive prior, for a media channel's own coefficient; `%s` is not one (use normal())"),
      fam[bad][1], nm[bad][1]))
  }
  if (any(pos) && use_hs) {
    abort_input("prior", sprintf("`%s` has the horseshoe prior of the media coefficients; %s() cannot be combined with it",
                                 nm[pos][1], fam[pos][1]))
  }
  invisible(TRUE)
}

# The two numbers that describe a coefficient's prior to the samplers
# (model list elements b_mean, b_sd with family b_code): normal (mean, sd),
# half-normal (0, sd), exponential (0, 1 / rate), lognormal (meanlog, sdlog).
coef_prior_par <- function(d) {
  switch(d$family,
         normal = unname(d$par[c("mean", "sd")]),
         half_normal = c(0, d$par[["sd"]]),
         exponential = c(0, 1 / d$par[["rate"]]),
         lognormal = unname(d$par[c("meanlog", "sdlog")]))
}

# `d` for a coefficient scaled by f (x f): the prior-sensitivity refits.
scale_coef_prior <- function(d, f) {
  switch(d$family,
         normal = normal(d$par[["mean"]], d$par[["sd"]] * f),
         half_normal = half_normal(d$par[["sd"]] * f),
         exponential = exponential(d$par[["rate"]] / f),
         lognormal = lognormal(d$par[["meanlog"]] + log(f), d$par[["sdlog"]]))
}
