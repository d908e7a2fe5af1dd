# Prior specification: distribution constructors, the hbmmm_prior() container,
# and the internal helpers that the model specification uses to resolve priors
# per term / channel / grouping term and to hand transform priors to C.
#
# A distribution is a plain list of class "hbmmm_dist" with `family` (the
# constructor's name) and `par` (named numeric, in constructor argument order),
# so it can be inspected, serialized and re-printed as the call that made it.

# ---------------------------------------------------------------------------
# Tables (the one home for what is allowed where)
# ---------------------------------------------------------------------------

# Families each slot accepts, and the support the slot's parameter lives on.
# `names` says what a named list in the slot is indexed by (NA = one prior only).
# NUTS will accept more families (e.g. half_normal on sds, lkj on correlations):
# add them to `families` here.
PRIOR_SLOTS <- list(
  Intercept = list(families = "normal", support = "real", names = NA),
  b         = list(families = c("normal", "half_normal", "exponential", "lognormal"),
                   support = "real", names = "term"),
  cov       = list(families = c("half_student_t", "inv_wishart", "inv_gamma", "scaled_inv_chisq"),
                   support = "positive", names = "grouping term"),
  sigma     = list(families = c("inv_gamma", "scaled_inv_chisq"),
                   support = "positive", names = NA),
  decay     = list(families = c("beta_dist", "uniform"), support = "unit", names = "channel"),
  delay     = list(families = c("uniform", "gamma_dist", "lognormal", "half_normal",
                                "exponential"), support = "positive", names = "channel"),
  shape     = list(families = NULL, support = "positive", names = "channel"),
  scale     = list(families = NULL, support = "positive", names = "channel"),
  halfsat   = list(families = NULL, support = "positive", names = "channel"),
  slope     = list(families = NULL, support = "positive", names = "channel"),
  lambda    = list(families = NULL, support = "positive", names = "channel"),
  k         = list(families = NULL, support = "positive", names = "channel"),
  horseshoe = list(families = "horseshoe", support = "real", names = NA),
  cor       = list(families = "lkj", support = "real", names = "grouping term"),
  sd        = list(families = c("half_normal", "half_student_t", "exponential"),
                   support = "positive", names = "grouping term"),
  loadings  = list(families = "normal", support = "real", names = NA),
  psi       = list(families = c("inv_gamma", "scaled_inv_chisq"),
                   support = "positive", names = NA),
  roi       = list(families = "lognormal", support = "positive", names = "channel"),
  media_sd  = list(families = "half_student_t", support = "positive", names = "grouping term"),
  # mixture of Hill curves: the stick-breaking concentration; the weights
  # themselves have no prior of their own to set (Beta(1, alpha) sticks)
  alpha     = list(families = c("gamma_dist", "lognormal", "exponential", "half_normal", "half_student_t"),
                   support = "positive", names = "channel"),
  weight    = list(families = character(0), support = "unit", names = "channel")
)
# The positive transform parameters share one family list.
POSITIVE_TRANSFORM_FAMILIES <- c("lognormal", "gamma_dist", "half_normal", "exponential",
                                 "uniform", "half_student_t")
PRIOR_SLOTS[c("shape", "scale", "halfsat", "slope", "lambda", "k")] <- lapply(
  PRIOR_SLOTS[c("shape", "scale", "halfsat", "slope", "lambda", "k")],
  function(def) utils::modifyList(def, list(families = POSITIVE_TRANSFORM_FAMILIES))
)


# ---------------------------------------------------------------------------
# Distribution constructors
# ---------------------------------------------------------------------------

#' Prior distributions
#'
#' Constructors for the prior distributions used in [hbmmm_prior()]. Each checks
#' its arguments and returns an object of class `hbmmm_dist`: a list with the
#' `family` name and the named numeric parameter vector `par` (and, for
#' `inv_wishart()`, `scale`: the matrix, or the number that multiplies the
#' identity). The names end in `_dist` where the short
#' name would mask a base R function (`gamma()`, `beta()`).
#'
#' * `normal()`: normal with `mean` and standard deviation `sd`.
#' * `half_normal()`: a `normal(0, sd)` folded onto `[0, Inf)`.
#' * `student_t()`: Student-t with `df` degrees of freedom, `location`, `scale`.
#' * `half_student_t()`: a `student_t(df, 0, scale)` folded onto `[0, Inf)`.
#' * `exponential()`: exponential with `rate` (mean `1 / rate`).
#' * `lognormal()`: `log(x)` is normal with `meanlog`, `sdlog`.
#' * `gamma_dist()`: gamma with `shape` and `rate` (mean `shape / rate`).
#' * `beta_dist()`: beta with `shape1`, `shape2` on `[0, 1]`.
#' * `uniform()`: uniform on `[lower, upper]`.
#' * `inv_gamma()`: inverse gamma on a variance, with density
#'   `scale^shape / Gamma(shape) * x^(-shape - 1) * exp(-scale / x)`.
#' * `scaled_inv_chisq()`: scaled inverse chi-squared on a variance: the
#'   distribution of `df * scale^2 / X` with `X ~ chisq(df)`, i.e.
#'   `inv_gamma(df / 2, df * scale^2 / 2)`. `scale` is a prior guess of the
#'   standard deviation.
#' * `inv_wishart()`: inverse Wishart on a covariance matrix with `df` degrees of
#'   freedom and scale matrix `scale` (mean `scale / (df - d - 1)` for dimension
#'   `d`). A single positive number means `scale` times the identity matrix of
#'   whatever dimension the grouping term has; `df` must then exceed `d - 1`,
#'   which is checked when the model is specified.
#' * `lkj()`: LKJ distribution on a correlation matrix, density proportional to
#'   `det(R)^(eta - 1)`; `eta = 1` is uniform over correlation matrices.
#' * `horseshoe()`: horseshoe shrinkage on media coefficients: local scales
#'   are half-Student-t with `df`, the global scale half-Student-t with
#'   `df_global` and scale `scale_global` (per unit of each predictor's sd).
#'   A finite `scale_slab` makes it the regularized horseshoe of Piironen and
#'   Vehtari (2017), whose slab (scale `scale_slab` in units of
#'   `scale_global`, `df_slab` degrees of freedom) bounds the largest
#'   coefficients (NUTS sampler only).
#'
#' @param mean,location Location (any finite number).
#' @param sd,scale Positive, finite scale. For `inv_wishart()`, `scale` is a
#'   positive number (meaning `scale` times the identity) or a symmetric
#'   positive-definite matrix.
#' @param df Positive, finite degrees of freedom.
#' @param rate Positive, finite rate.
#' @param meanlog,sdlog Mean and (positive) standard deviation on the log scale.
#' @param shape,shape1,shape2 Positive, finite shape parameters.
#' @param lower,upper Finite bounds with `lower < upper`.
#' @param eta Positive, finite LKJ shape.
#' @param scale_global,df_global Scale and degrees of freedom of the global
#'   shrinkage scale.
#' @param scale_slab,df_slab Scale and degrees of freedom of the slab that
#'   regularizes the largest coefficients.
#' @param x An `hbmmm_dist` object.
#' @param ... Unused.
#' @return An object of class `hbmmm_dist`. `format()` returns the call that
#'   rebuilds it, such as `"normal(0, 2.5)"`; `print()` prints that and returns
#'   `x` invisibly.
#' @seealso [hbmmm_prior()] to assign priors to model parameters.
#' @references Lewandowski, D., Kurowicka, D. and Joe, H. (2009). Generating
#'   random correlation matrices based on vines and extended onion method.
#'   *Journal of Multivariate Analysis*, 100, 1989--2001.
#'
#'   Piironen, J. and Vehtari, A. (2017). Sparsity information and
#'   regularization in the horseshoe and other shrinkage priors. *Electronic
#'   Journal of Statistics*, 11, 5018--5051.
#' @examples
#' normal(0, 2.5)
#' half_student_t(3, 1)
#' beta_dist(3, 3)
#' scaled_inv_chisq(5, 0.5)
#' inv_wishart(5, 2)
#' inv_wishart(4, diag(c(1, 0.5)))
#' horseshoe(scale_global = 0.1)
#' @name prior_distributions
NULL

#' @rdname prior_distributions
#' @export
normal <- function(mean = 0, sd = 1) {
  new_dist("normal", c(mean = check_real(mean, "mean"), sd = check_positive(sd, "sd")))
}

#' @rdname prior_distributions
#' @export
half_normal <- function(sd = 1) {
  new_dist("half_normal", c(sd = check_positive(sd, "sd")))
}

#' @rdname prior_distributions
#' @export
student_t <- function(df = 3, location = 0, scale = 1) {
  new_dist("student_t", c(df = check_positive(df, "df"),
                          location = check_real(location, "location"),
                          scale = check_positive(scale, "scale")))
}

#' @rdname prior_distributions
#' @export
half_student_t <- function(df = 3, scale = 1) {
  new_dist("half_student_t", c(df = check_positive(df, "df"),
                               scale = check_positive(scale, "scale")))
}

#' @rdname prior_distributions
#' @export
exponential <- function(rate = 1) {
  new_dist("exponential", c(rate = check_positive(rate, "rate")))
}

#' @rdname prior_distributions
#' @export
lognormal <- function(meanlog = 0, sdlog = 1) {
  new_dist("lognormal", c(meanlog = check_real(meanlog, "meanlog"),
                          sdlog = check_positive(sdlog, "sdlog")))
}

#' @rdname prior_distributions
#' @export
gamma_dist <- function(shape = 2, rate = 1) {
  new_dist("gamma_dist", c(shape = check_positive(shape, "shape"),
                           rate = check_positive(rate, "rate")))
}

#' @rdname prior_distributions
#' @export
beta_dist <- function(shape1 = 2, shape2 = 2) {
  new_dist("beta_dist", c(shape1 = check_positive(shape1, "shape1"),
                          shape2 = check_positive(shape2, "shape2")))
}

#' @rdname prior_distributions
#' @export
uniform <- function(lower = 0, upper = 1) {
  lower <- check_real(lower, "lower")
  upper <- check_real(upper, "upper")
  if (upper <= lower) {
    abort_input("upper", sprintf("must be greater than `lower` (%s); found %s",
                                 format(lower), describe_value(upper)))
  }
  new_dist("uniform", c(lower = lower, upper = upper))
}

#' @rdname prior_distributions
#' @export
inv_gamma <- function(shape = 1, scale = 1) {
  new_dist("inv_gamma", c(shape = check_positive(shape, "shape"),
                          scale = check_positive(scale, "scale")))
}

#' @rdname prior_distributions
#' @export
scaled_inv_chisq <- function(df = 3, scale = 1) {
  new_dist("scaled_inv_chisq", c(df = check_positive(df, "df"),
                                 scale = check_positive(scale, "scale")))
}

#' @rdname prior_distributions
#' @export
inv_wishart <- function(df, scale = 1) {
  if (missing(df)) abort_input("df", "is required (degrees of freedom, > dimension - 1)")
  df <- check_positive(df, "df")
  # A 1x1 matrix is the same prior as that number times I, so store it so.
  if (is.matrix(scale) && length(scale) == 1L && is.numeric(scale)) scale <- drop(scale)
  if (is.matrix(scale)) {
    scale <- check_spd(scale, "scale")
    d <- nrow(scale)
    if (df <= d - 1) {
      abort_input("df", sprintf("must be greater than dimension - 1 = %d for a %dx%d `scale`; found %s",
                                d - 1L, d, d, describe_value(df)))
    }
  } else {
    if (!is.numeric(scale) || length(scale) != 1L || is.na(scale) || !is.finite(scale) ||
        scale <= 0) {
      abort_input("scale", sprintf(
        "must be a positive, finite number (times the identity) or a symmetric positive-definite matrix; found %s",
        describe_value(scale)))
    }
    scale <- as.double(scale)
  }
  # A number (not a matrix) means scale * I, the dimension fixed by the model.
  dist <- new_dist("inv_wishart", c(df = df))
  dist$scale <- scale
  dist
}

#' @rdname prior_distributions
#' @export
lkj <- function(eta = 1) {
  new_dist("lkj", c(eta = check_positive(eta, "eta")))
}

#' @rdname prior_distributions
#' @export
horseshoe <- function(df = 1, scale_global = 1, df_global = 1, scale_slab = Inf, df_slab = 4) {
  new_dist("horseshoe", c(df = check_positive(df, "df"),
                          scale_global = check_positive(scale_global, "scale_global"),
                          df_global = check_positive(df_global, "df_global"),
                          scale_slab = if (identical(scale_slab, Inf)) Inf else check_positive(scale_slab, "scale_slab"),
                          df_slab = check_positive(df_slab, "df_slab")))
}

new_dist <- function(family, par) {
  structure(list(family = family, par = par), class = "hbmmm_dist")
}

is_dist <- function(x) inherits(x, "hbmmm_dist")

# Scalar argument checks for the constructors. Integers are accepted and
# stored as double; logicals and strings are not numbers here.
check_scalar_num <- function(x, arg, what) {
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || !is.finite(x)) {
    abort_input(arg, sprintf("must be %s; found %s", what, describe_value(x)))
  }
  as.double(x)
}

check_real <- function(x, arg) check_scalar_num(x, arg, "a finite number")

check_positive <- function(x, arg) {
  what <- "a positive, finite number"
  x <- check_scalar_num(x, arg, what)
  if (x <= 0) abort_input(arg, sprintf("must be %s; found %s", what, describe_value(x)))
  x
}

check_spd <- function(x, arg) {
  if (!is.numeric(x) || nrow(x) != ncol(x) || nrow(x) < 1L) {
    abort_input(arg, sprintf("must be a positive number or a square numeric matrix; found %s",
                             describe_dims(x)))
  }
  if (anyNA(x) || !all(is.finite(x))) abort_input(arg, "must have finite entries only")
  storage.mode(x) <- "double"
  if (!isSymmetric(unname(x))) abort_input(arg, "must be a symmetric matrix")
  if (inherits(try(chol(x), silent = TRUE), "try-error")) {
    abort_input(arg, "must be positive definite (its Cholesky factorization failed)")
  }
  x
}

describe_dims <- function(x) {
  if (is.matrix(x)) sprintf("a %s %dx%d matrix", typeof(x), nrow(x), ncol(x)) else describe_value(x)
}

#' @rdname prior_distributions
#' @export
format.hbmmm_dist <- function(x, ...) {
  num <- function(v) format(v, digits = 6)
  if (identical(x$family, "inv_wishart")) {
    s <- if (!is.matrix(x$scale)) {
      paste(num(x$scale), "* I")
    } else {
      sprintf("<%dx%d matrix>", nrow(x$scale), ncol(x$scale))
    }
    return(sprintf("inv_wishart(%s, %s)", num(x$par[["df"]]), s))
  }
  sprintf("%s(%s)", x$family, paste(vapply(unname(x$par), num, ""), collapse = ", "))
}

#' @rdname prior_distributions
#' @export
print.hbmmm_dist <- function(x, ...) {
  cat(format(x), "\n", sep = "")
  invisible(x)
}

# ---------------------------------------------------------------------------
# hbmmm_prior(): the container
# ---------------------------------------------------------------------------

#' Specify the priors of a hierarchical MMM
#'
#' Collects prior distributions by model component. Every component left `NULL`
#' gets a weakly informative default derived from the data when the model is
#' specified (see `hbmmm()`).
#'
#' Slots `b`, `cov` and the transform slots take either one distribution,
#' which then applies to every term, grouping term or channel, or a named list
#' of distributions: names are term names as they appear in the draws without
#' the `b_` prefix (`tv`, `price:promo`), grouping terms (`market`,
#' `market:store`) or media channels (`tv`). An element named `.default` gives
#' the prior of the names not listed; names neither listed nor covered by
#' `.default` get the data-based default. Names are checked against the model
#' when it is specified.
#'
#' @section Default priors:
#' Every default is scaled by the data, so a model of sales in dollars and
#' one in millions get equivalent priors:
#' * the intercept: `normal(mean(y), 10 sd(y) + ...)`, wide enough for any
#'   intercept the uncentred predictors imply;
#' * a control's coefficient (and an interaction with a channel):
#'   `normal(0, 2.5 sd(y) / sd(x))`, signed;
#' * **a media channel's own coefficient: `half_normal()`** with the same
#'   scale, so every channel's effect is positive. On a saturated channel
#'   the scale is `2.5 sd(y)` per unit of the saturation curve (the effect at
#'   full saturation): with 95% prior probability that effect is below about
#'   5 sd(y). Give `normal()` to let a channel's effect be negative, or
#'   `exponential()` / `lognormal()` for another positive prior. Under
#'   `horseshoe = TRUE` the media coefficients keep the (signed) horseshoe.
#'   Group-level deviations of a media slope (`(1 + tv | market)`) stay
#'   normal: a market's tv effect is the positive population effect plus a
#'   normal deviation, so it can fall below zero in a market where the data
#'   say so.
#'
#' A positive coefficient in the Gibbs sampler: half-normal and exponential
#' priors are normal kernels truncated at zero, so the sampler stays
#' conjugate; each channel's Metropolis step on its transform parameters
#' integrates its coefficient out over `[0, Inf)` together with the normal
#' coefficients. A `lognormal()` coefficient is drawn by slice sampling and
#' held fixed in its channel's Metropolis step, which then mixes more slowly.
#' NUTS samples positive coefficients on the log scale.
#'
#' Families allowed by the Gibbs sampler:
#'
#' | Slot | Families |
#' |---|---|
#' | `Intercept`, `loadings` | `normal()` |
#' | `b` | `normal()`; on a media channel's coefficient also the positive `half_normal()`, `exponential()`, `lognormal()` |
#' | `sigma`, `psi` | `inv_gamma()`, `scaled_inv_chisq()` |
#' | `cov` | `inv_wishart()` for correlated terms; `inv_gamma()`, `scaled_inv_chisq()` on each variance of uncorrelated (double-bar) terms |
#' | `decay` | `beta_dist()`, `uniform()` within `[0, 1]` |
#' | `delay` | `uniform()` with `lower >= 0`, `gamma_dist()`, `lognormal()`, `half_normal()`, `exponential()` |
#' | `shape`, `scale`, `halfsat`, `slope`, `lambda`, `k` | `lognormal()`, `gamma_dist()`, `half_normal()`, `exponential()`, `half_student_t()`, `uniform()` with `lower >= 0` |
#' | `horseshoe` | `horseshoe()` with `df = 1`, `df_global = 1` and no slab (`scale_slab = Inf`) |
#' | `roi` | `lognormal()` on a media channel's return on investment |
#' | `media_sd` | `half_student_t()` on the log-scale sd of a grouping term's log-normal media effects (`hbmmm_spec(media_effects = "log_normal")`) |
#'
#' The NUTS sampler (`hbmmm(sampler = "nuts")`) accepts all of these and also:
#'
#' | Slot | Families |
#' |---|---|
#' | `cor` | `lkj()` on the correlations of a correlated grouping term |
#' | `sd` | `half_normal()`, `half_student_t()`, `exponential()` on each of its standard deviations (with `cor`) |
#' | `horseshoe` | `horseshoe()` with any degrees of freedom and a finite slab (regularized horseshoe) |
#'
#' With `cor` or `sd` for a grouping term, its covariance is
#' `diag(sd) R diag(sd)` with `R ~ lkj(eta)` (default `lkj(1)`) and each sd
#' from the `sd` prior (default `half_student_t(3, sd(y))`), scaled like the
#' default per unit of its predictor (divided by the predictor's sd; the
#' intercept's as is).
#'
#' @param ... Must be empty: every prior is given by slot name. Anything
#'   else is an error that lists the allowed slots.
#' @param Intercept Prior of the population-level intercept.
#' @param b Priors of the population-level coefficients.
#' @param cov Priors of the random-effect covariance matrix of each grouping
#'   term (or of its variances, for uncorrelated `||` terms).
#' @param sigma Prior of the residual variance (of each group's variance with
#'   per-group residual variances).
#' @param decay,delay,shape,scale Priors of the adstock parameters of each channel.
#' @param halfsat,slope,lambda,k Priors of the saturation parameters of each channel
#'   (for a mixture of Hill curves: of each component's half-saturation, i.i.d.
#'   before the components are ordered, and of each slope).
#' @param horseshoe A [horseshoe()] prior to shrink the media coefficients.
#' @param loadings Prior of the factor loadings of a factor-analytic
#'   random-effect covariance `Lambda Lambda' + Psi`.
#' @param psi Prior of the unique variances `Psi` of the factor model.
#' @param cor,sd NUTS only: LKJ prior of the correlations of a grouping term's
#'   effects, and the prior of their standard deviations.
#' @param alpha Prior of the stick-breaking concentration of each mixture of
#'   Hill curves with `saturation_control = list(weights =
#'   "stick_breaking")` (see [hbmmm_spec()]), named by channel or
#'   `.default`: `gamma_dist()`, `lognormal()`, `exponential()`,
#'   `half_normal()` or `half_student_t()`; default `gamma_dist(2, 2)` (mean
#'   1, no mass at 0). Small values put the weight on few components.
#'   Dirichlet weights (the default) have no alpha: their concentration is
#'   fixed by `saturation_control = list(concentration = )`.
#' @param weight Not a distribution: the mixture weights' prior is chosen
#'   by `saturation_control` of [hbmmm_spec()] (`weights = "dirichlet"` with
#'   its `concentration`, or `"stick_breaking"` with `v_k ~ Beta(1, alpha)`,
#'   `w_k = v_k prod_(j<k) (1 - v_j)`); any value here is an error that says
#'   so.
#' @param roi Priors of each media channel's return on investment, the
#'   quantity [roi()] reports: the channel's contribution summed over the
#'   data divided by its spend summed over the data. `lognormal()` only (as
#'   Meridian), named by channel or `.default`. It replaces the prior of the
#'   channel's own coefficient `b`: given the transform parameters,
#'   `b = roi * spend / sum(transformed media)`, so the prior implies a
#'   lognormal coefficient whose location moves with the adstock and
#'   saturation. The channel must enter the fixed effects through its own
#'   column only (no interactions, not under the horseshoe) and have some
#'   spend. With group-level effects on the channel, the prior is on the ROI
#'   of the population-level coefficient; `roi(fit)` adds the group-level
#'   effects' contributions, whose prior mean is zero. The Gibbs sampler
#'   moves the coefficient with the transforms at fixed ROI in their
#'   Metropolis step; NUTS samples the log ROI itself.
#' @param media_sd Prior of the sd of the log-scale group-level media
#'   effects of each grouping term with `media_effects = "log_normal"` (see
#'   [hbmmm_spec()]), named by grouping term or `.default`:
#'   `half_student_t()` only; default `half_student_t(3, 0.5)`. Level l's
#'   coefficient of a channel is `b exp(v_l)` with `v_l ~ N(0, sd^2)`: with
#'   sd 0.5, the levels' coefficients typically lie within a factor of
#'   about 1.5 of `b`, their median.
#' @param x An `hbmmm_prior` object.
#' @return An object of class `hbmmm_prior`: a list with one element per slot
#'   (`NULL` for data-based defaults).
#' @seealso [prior_distributions] for the constructors.
#' @examples
#' p <- hbmmm_prior(
#'   b = list(tv = normal(0.5, 0.2), .default = normal(0, 2.5)),
#'   sigma = inv_gamma(2, 1),
#'   decay = list(tv = beta_dist(3, 3), search = beta_dist(1, 3)),
#'   halfsat = lognormal(0, 1)
#' )
#' p
#' @export
hbmmm_prior <- function(..., Intercept = NULL, b = NULL, cov = NULL, sigma = NULL,
                        decay = NULL, delay = NULL, shape = NULL, scale = NULL,
                        halfsat = NULL, slope = NULL, lambda = NULL, k = NULL,
                        horseshoe = NULL, loadings = NULL, psi = NULL, cor = NULL, sd = NULL,
                        roi = NULL, alpha = NULL, weight = NULL, media_sd = NULL) {
  # `...` comes first so that slot names are matched exactly, never partially.
  dots <- list(...)
  if (length(dots)) {
    nms <- names(dots)
    if (is.null(nms)) nms <- rep("", length(dots))
    bad <- ifelse(nms == "", sprintf("<unnamed argument %d>", seq_along(nms)), nms)
    abort_input("...", sprintf("unknown prior slot%s %s; allowed slots are %s",
                               if (length(bad) > 1L) "s" else "",
                               paste0("\"", bad, "\"", collapse = ", "),
                               paste(names(PRIOR_SLOTS), collapse = ", ")))
  }
  slots <- list(Intercept = Intercept, b = b, cov = cov, sigma = sigma, decay = decay,
                delay = delay, shape = shape, scale = scale, halfsat = halfsat,
                slope = slope, lambda = lambda, k = k, horseshoe = horseshoe,
                loadings = loadings, psi = psi, cor = cor, sd = sd, roi = roi, alpha = alpha, weight = weight,
                media_sd = media_sd)
  out <- lapply(names(PRIOR_SLOTS), function(s) check_slot(slots[[s]], s))
  names(out) <- names(PRIOR_SLOTS)
  structure(out, class = "hbmmm_prior")
}

# Validate one slot: NULL, one dist, or (where the slot is indexed) a named
# list of dists. Returns the value unchanged.
check_slot <- function(value, slot) {
  if (is.null(value)) return(NULL)
  def <- PRIOR_SLOTS[[slot]]
  if (is_dist(value)) {
    check_family(value, slot, slot)
    return(value)
  }
  indexed <- !is.na(def$names)
  expect <- if (indexed) {
    sprintf("a prior distribution such as %s() or a named list of them (names = %s names or `.default`)",
            def$families[1L], def$names)
  } else {
    sprintf("a prior distribution (%s)", paste0(def$families, "()", collapse = ", "))
  }
  if (!indexed || !is.list(value) || is.object(value)) {
    abort_input(slot, sprintf("must be %s; found %s", expect, describe_value(value)))
  }
  nms <- names(value)
  if (length(value) == 0L) abort_input(slot, sprintf("must be %s; found an empty list", expect))
  if (is.null(nms) || anyNA(nms) || any(nms == "")) {
    abort_input(slot, sprintf("must be %s; found a list with unnamed elements", expect))
  }
  if (anyDuplicated(nms)) {
    abort_input(slot, sprintf("names the %s \"%s\" more than once",
                              def$names, nms[anyDuplicated(nms)]))
  }
  for (nm in nms) {
    arg <- sprintf("%s[[\"%s\"]]", slot, nm)
    if (!is_dist(value[[nm]])) {
      abort_input(arg, sprintf("must be a prior distribution such as %s(); found %s",
                               def$families[1L], describe_value(value[[nm]])))
    }
    check_family(value[[nm]], slot, arg)
  }
  value
}

# Family allowed for the slot, and its support inside the slot's parameter
# space (a uniform prior on decay must stay within [0, 1], etc.).
check_family <- function(dist, slot, arg) {
  def <- PRIOR_SLOTS[[slot]]
  if (slot == "weight") {
    abort_input(arg, sprintf("takes no prior distribution (found %s): the weights of a mixture of Hill curves have a Dirichlet prior (saturation_control = list(concentration = )) or, with saturation_control = list(weights = \"stick_breaking\"), the stick-breaking prior v_k ~ Beta(1, alpha), w_k = v_k prod_(j<k) (1 - v_j), whose concentration's prior is set through `alpha` (%s)",
                             format(dist), paste0(PRIOR_SLOTS$alpha$families, "()", collapse = ", ")))
  }
  if (!dist$family %in% def$families) {
    abort_input(arg, sprintf("family %s() is not allowed for `%s`; use %s",
                             dist$family, slot,
                             paste0(def$families, "()", collapse = ", ")))
  }
  if (identical(dist$family, "uniform")) {
    lo <- dist$par[["lower"]]
    hi <- dist$par[["upper"]]
    if (def$support %in% c("positive", "unit") && lo < 0) {
      abort_input(arg, sprintf("%s has `lower` < 0, but `%s` is non-negative",
                               format(dist), slot))
    }
    if (def$support == "unit" && hi > 1) {
      abort_input(arg, sprintf("%s has `upper` > 1, but `%s` lies in [0, 1]",
                               format(dist), slot))
    }
  }
  invisible(dist)
}

#' @rdname hbmmm_prior
#' @export
format.hbmmm_prior <- function(x, ...) {
  rows <- list()
  for (s in names(PRIOR_SLOTS)) {
    v <- x[[s]]
    if (is.null(v)) next
    if (is_dist(v)) {
      rows[[length(rows) + 1L]] <- c(s, "", format(v))
    } else {
      # `.default` first, then the named overrides in the order given.
      nms <- c(intersect(".default", names(v)), setdiff(names(v), ".default"))
      for (nm in nms) rows[[length(rows) + 1L]] <- c(s, nm, format(v[[nm]]))
    }
  }
  defaults <- names(PRIOR_SLOTS)[vapply(names(PRIOR_SLOTS), function(s) is.null(x[[s]]), TRUE)]
  out <- "hbmmm prior"
  if (length(rows)) {
    tab <- do.call(rbind, c(list(c("slot", "name", "prior")), rows))
    w <- apply(nchar(tab), 2L, max)
    lines <- sprintf("  %s  %s  %s", formatC(tab[, 1L], width = -w[1L]),
                     formatC(tab[, 2L], width = -w[2L]), tab[, 3L])
    out <- c(out, lines)
  } else {
    out <- c(out, "  (no priors set)")
  }
  if (length(defaults)) {
    out <- c(out, strwrap(paste0("Data-based defaults: ", paste(defaults, collapse = ", ")),
                          indent = 2L, exdent = 4L))
  }
  out
}

#' @rdname hbmmm_prior
#' @export
print.hbmmm_prior <- function(x, ...) {
  cat(format(x), sep = "\n")
  invisible(x)
}

# ---------------------------------------------------------------------------
# Internal helpers for the model specification
# ---------------------------------------------------------------------------

# The hbmmm_dist that applies to term/channel/group `name` in `slot`: the
# element named `name`, else `.default`, else the slot's single dist, else
# `default`. `prior` may be NULL (no user priors at all).
prior_for <- function(prior, slot, name, default = NULL) {
  if (!slot %in% names(PRIOR_SLOTS)) {
    abort_input("slot", sprintf("must be one of %s; found %s",
                                paste(names(PRIOR_SLOTS), collapse = ", "),
                                describe_value(slot)))
  }
  v <- if (is.null(prior)) NULL else prior[[slot]]
  if (is.null(v)) return(default)
  if (is_dist(v)) return(v)
  if (!is.null(name) && name %in% names(v)) return(v[[name]])
  if (".default" %in% names(v)) return(v[[".default"]])
  default
}

# Error if a named list in `slot` names terms/channels/groups not in `known`
# (the model's names), suggesting the closest known name for typos.
check_prior_names <- function(prior, slot, known) {
  v <- if (is.null(prior)) NULL else prior[[slot]]
  if (is.null(v) || is_dist(v)) return(invisible(TRUE))
  what <- PRIOR_SLOTS[[slot]]$names
  bad <- setdiff(names(v), c(".default", known))
  if (!length(bad)) return(invisible(TRUE))
  hints <- vapply(bad, function(b) {
    if (!length(known)) return("")
    d <- utils::adist(b, known, ignore.case = TRUE)[1L, ]
    best <- which.min(d)
    # Suggest only plausible typos: a few edits relative to the name's length.
    if (d[best] <= max(2L, nchar(b) %/% 3L)) sprintf(" (did you mean \"%s\"?)", known[best]) else ""
  }, "")
  abort_input("prior", sprintf(
    "`%s` names %s%s not in the model: %s. The model's %ss are %s",
    slot, what, if (length(bad) > 1L) "s" else "",
    paste0("\"", bad, "\"", hints, collapse = ", "), what,
    if (length(known)) paste0("\"", known, "\"", collapse = ", ") else "(none)"))
}

# Integer family code and two parameters of a transform-parameter prior, as
# passed to the C samplers (table HB_CODES$prior).
prior_code <- function(dist) {
  if (!is_dist(dist) || !dist$family %in% names(HB_CODES$prior)) {
    abort_input("dist", sprintf("must be one of %s for a transform parameter; found %s",
                                paste0(names(HB_CODES$prior), "()", collapse = ", "),
                                if (is_dist(dist)) format(dist) else describe_value(dist)))
  }
  p <- unname(dist$par)
  list(code = HB_CODES$prior[[dist$family]], par = c(p, 0)[1:2])
}

# Log density of `dist` at `x` on the constrained scale, normalized, vectorized
# over x. For inv_wishart and lkj, x is one matrix or a list of matrices.
prior_logdens <- function(dist, x) {
  p <- as.list(dist$par)
  f <- dist$family
  if (f %in% c("inv_wishart", "lkj")) {
    if (is.matrix(x)) x <- list(x)
    fun <- if (f == "lkj") lkj_logdens else iw_logdens
    return(vapply(x, function(m) fun(dist, m), 0))
  }
  pos <- x >= 0
  switch(f,
    normal = stats::dnorm(x, p$mean, p$sd, log = TRUE),
    half_normal = ifelse(pos, log(2) + stats::dnorm(x, 0, p$sd, log = TRUE), -Inf),
    student_t = stats::dt((x - p$location) / p$scale, p$df, log = TRUE) - log(p$scale),
    half_student_t = ifelse(pos, log(2) + stats::dt(x / p$scale, p$df, log = TRUE) -
                                   log(p$scale), -Inf),
    exponential = stats::dexp(x, p$rate, log = TRUE),
    lognormal = stats::dlnorm(x, p$meanlog, p$sdlog, log = TRUE),
    gamma_dist = stats::dgamma(x, shape = p$shape, rate = p$rate, log = TRUE),
    beta_dist = stats::dbeta(x, p$shape1, p$shape2, log = TRUE),
    uniform = ifelse(x >= p$lower & x <= p$upper, -log(p$upper - p$lower), -Inf),
    inv_gamma = ,
    scaled_inv_chisq = {
      ig <- ig_params(dist)
      a <- ig[[1L]]
      b <- ig[[2L]]
      # max() keeps log(x) finite where x <= 0; those entries are -Inf anyway.
      out <- a * log(b) - lgamma(a) - (a + 1) * log(pmax(x, .Machine$double.xmin)) - b / x
      ifelse(x > 0, out, -Inf)
    },
    abort_input("dist", sprintf("%s has no closed-form log density", format(dist)))
  )
}

# Inverse Wishart log density of covariance matrix X.
iw_logdens <- function(dist, X) {
  d <- nrow(X)
  S <- iw_scale(dist, d)
  nu <- dist$par[["df"]]
  cx <- tryCatch(chol(X), error = function(e) NULL)
  if (is.null(cx)) return(-Inf)
  logdet_x <- 2 * sum(log(diag(cx)))
  logdet_s <- 2 * sum(log(diag(chol(S))))
  lmvgamma <- d * (d - 1) / 4 * log(pi) + sum(lgamma((nu + 1 - seq_len(d)) / 2))
  -nu * d / 2 * log(2) - lmvgamma + nu / 2 * logdet_s - (nu + d + 1) / 2 * logdet_x -
    sum(diag(S %*% chol2inv(cx))) / 2
}

# LKJ log density of correlation matrix R (Lewandowski et al. 2009, eq. 16).
lkj_logdens <- function(dist, R) {
  d <- nrow(R)
  eta <- dist$par[["eta"]]
  if (d == 1L) return(0)
  cr <- tryCatch(chol(R), error = function(e) NULL)
  if (is.null(cr) || any(abs(diag(R) - 1) > 1e-8)) return(-Inf)
  k <- seq_len(d - 1L)
  b <- eta + (d - k - 1) / 2
  log_c <- log(2) * sum((2 * eta - 2 + d - k) * (d - k)) + sum((d - k) * lbeta(b, b))
  (eta - 1) * 2 * sum(log(diag(cr))) - log_c
}

# The d x d scale matrix of an inv_wishart prior for a term of dimension d,
# checking df > d - 1 (the constructor cannot know d for a scalar scale).
iw_scale <- function(dist, d, arg = "prior") {
  nu <- dist$par[["df"]]
  if (!is.matrix(dist$scale)) {
    S <- diag(dist$scale, d)
  } else {
    S <- dist$scale
    if (nrow(S) != d) {
      abort_input(arg, sprintf("%s has a %dx%d `scale`, but the covariance is %dx%d",
                               format(dist), nrow(S), nrow(S), d, d))
    }
  }
  if (nu <= d - 1) {
    abort_input(arg, sprintf("%s needs `df` > %d for a %dx%d covariance",
                             format(dist), d - 1L, d, d))
  }
  S
}

# Inverse-gamma c(shape, scale) on the variance of an inv_gamma or
# scaled_inv_chisq prior, for the conjugate Gibbs updates.
ig_params <- function(dist) {
  p <- dist$par
  switch(dist$family,
    inv_gamma = c(shape = p[["shape"]], scale = p[["scale"]]),
    scaled_inv_chisq = c(shape = p[["df"]] / 2, scale = p[["df"]] * p[["scale"]]^2 / 2),
    abort_input("dist", sprintf("must be inv_gamma() or scaled_inv_chisq(); found %s",
                                if (is_dist(dist)) format(dist) else describe_value(dist)))
  )
}

# Median of a prior (used for initial values). Matrix families have no median:
# inv_wishart gives its mode S / (df + d + 1) and lkj the identity (its mode
# for eta >= 1), both needing the dimension `d`; horseshoe gives 0, the median
# of the coefficients it shrinks.
prior_median <- function(dist, d = NULL) {
  p <- as.list(dist$par)
  switch(dist$family,
    normal = p$mean,
    half_normal = p$sd * stats::qnorm(0.75),
    student_t = p$location,
    half_student_t = p$scale * stats::qt(0.75, p$df),
    exponential = stats::qexp(0.5, p$rate),
    lognormal = exp(p$meanlog),
    gamma_dist = stats::qgamma(0.5, shape = p$shape, rate = p$rate),
    beta_dist = stats::qbeta(0.5, p$shape1, p$shape2),
    uniform = (p$lower + p$upper) / 2,
    inv_gamma = ,
    scaled_inv_chisq = {
      ig <- ig_params(dist)
      # 1/X ~ Gamma(shape, rate = scale), and 1/x is monotone.
      1 / stats::qgamma(0.5, shape = ig[[1L]], rate = ig[[2L]])
    },
    horseshoe = 0,
    inv_wishart = {
      if (is.null(d) && is.matrix(dist$scale)) d <- nrow(dist$scale)
      if (is.null(d)) abort_input("d", "is needed for an inv_wishart() prior with scalar `scale`")
      iw_scale(dist, d) / (p$df + d + 1)
    },
    lkj = {
      if (is.null(d)) abort_input("d", "is needed for an lkj() prior")
      diag(d)
    }
  )
}
