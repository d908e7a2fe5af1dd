# Media transforms: R wrappers over the C kernels in src/transforms.c.
# R coerces and recycles; parameter ranges and media values are checked once,
# in C, which raises the same classed hbmmm_input_error.

ADSTOCK_TYPES <- setdiff(names(HB_CODES$adstock), "none")
ADSTOCK_PARS <- list(geometric = "decay", delayed = c("decay", "delay"),
                     weibull_cdf = c("shape", "scale"), weibull_pdf = c("shape", "scale"))
SATURATION_TYPES <- setdiff(names(HB_CODES$saturation), c("none", "hill_mixture"))
SATURATION_PARS <- list(hill = c("halfsat", "slope"), logistic = "lambda",
                        michaelis_menten = c("vmax", "k"))

#' Adstock (carry-over) transforms of media
#'
#' Spread the effect of media spend over later periods. Each function takes a
#' numeric vector (one channel) or a matrix or data frame (rows = time,
#' columns = channels) and returns the adstocked series of the same shape
#' (a data frame comes back as a matrix).
#'
#' * `adstock_geometric()`: with `max_lag = NULL`, the infinite-memory
#'   recursion `a[t] = x[t] + decay * a[t-1]`; with a finite `max_lag`,
#'   `a[t] = sum_{l=0}^{max_lag} decay^l x[t-l]`. `normalize = TRUE` divides by
#'   the sum of the weights (`1 / (1 - decay)` for infinite memory), so that the
#'   adstocked series has the scale of spend.
#' * `adstock_delayed()`: weights `w[l] = decay^((l - delay)^2)`, peaking
#'   `delay` periods after spend.
#' * `adstock_weibull()`: `type = "cdf"` uses the Weibull survival function
#'   `w[l] = exp(-(l / scale)^shape)` (the share of the effect still active after
#'   `l` periods); `type = "pdf"` uses the Weibull density at `l + 1`.
#'
#' Finite-lag transforms compute `a[t] = sum_{l=0}^{min(max_lag, t)} w[l] x[t-l]`:
#' periods before the first row count as zero spend.
#'
#' @param x Non-negative, finite media values: a numeric vector, matrix or data
#'   frame of numeric columns.
#' @param decay Retention rate in `[0, 1)`: a scalar, or one value per column
#'   (a named vector is matched to the column names of `x`).
#' @param delay Lag of the peak effect, in `[0, max_lag]`; scalar or per column.
#' @param shape,scale Positive Weibull shape and scale; scalar or per column.
#' @param max_lag Longest lag carried, a whole number in `[0, 100000]`;
#'   `NULL` (geometric only) for infinite memory.
#' @param normalize Divide by the sum of the lag weights?
#' @param type Weibull weights from the survival function (`"cdf"`) or the
#'   density (`"pdf"`).
#' @param group Optional vector of length `NROW(x)` (for example the market of
#'   each row of a stacked panel). The carry-over restarts in each group, and the
#'   rows of a group are taken in their given order as time order; groups may be
#'   interleaved.
#' @return A numeric vector or matrix like `x` (names and dimnames kept).
#' @seealso [adstock_weights()] for the lag weights themselves,
#'   [saturation_hill()] for diminishing returns.
#' @examples
#' spend <- c(100, 0, 0, 50, 0, 0, 0)
#' adstock_geometric(spend, decay = 0.5)
#' adstock_geometric(spend, decay = 0.5, max_lag = 2, normalize = TRUE)
#' adstock_delayed(spend, decay = 0.6, delay = 1, max_lag = 4)
#' adstock_weibull(spend, shape = 2, scale = 2, max_lag = 4, type = "pdf")
#'
#' # a panel of two markets stacked by week: carry-over stays within market
#' panel <- data.frame(market = rep(c("A", "B"), times = 3), tv = c(10, 0, 0, 5, 0, 0))
#' adstock_geometric(panel$tv, decay = 0.5, group = panel$market)
#'
#' # several channels with one decay each
#' m <- cbind(tv = c(10, 0, 0), search = c(0, 4, 0))
#' adstock_geometric(m, decay = c(tv = 0.7, search = 0.1))
#' @name adstock
NULL

#' @rdname adstock
#' @export
adstock_geometric <- function(x, decay, max_lag = NULL, normalize = FALSE, group = NULL) {
  adstock_apply(x, "geometric", list(decay = decay), max_lag, normalize, group)
}

#' @rdname adstock
#' @export
adstock_delayed <- function(x, decay, delay, max_lag = 13, normalize = TRUE, group = NULL) {
  adstock_apply(x, "delayed", list(decay = decay, delay = delay), max_lag, normalize, group)
}

#' @rdname adstock
#' @export
adstock_weibull <- function(x, shape, scale, max_lag = 13, type = c("cdf", "pdf"),
                            normalize = TRUE, group = NULL) {
  type <- match_choice(type, c("cdf", "pdf"), "type")
  adstock_apply(x, paste0("weibull_", type), list(shape = shape, scale = scale),
                max_lag, normalize, group)
}

#' Lag weights of an adstock transform
#'
#' The weights `w[0..max_lag]` that an adstock transform applies to current and
#' past spend: the response to one unit of spend in period 0. Useful to see and
#' plot what a parameter choice means.
#'
#' @param type One of `"geometric"`, `"delayed"`, `"weibull_cdf"`,
#'   `"weibull_pdf"`.
#' @param ... Parameters of the transform, by name (`decay`; `decay`, `delay`;
#'   `shape`, `scale`), each a single value.
#' @param max_lag Longest lag, a whole number.
#' @param normalize Scale the weights to sum to one?
#' @return A numeric vector of length `max_lag + 1` named `lag0`, `lag1`, ...
#' @examples
#' adstock_weights("geometric", decay = 0.6, max_lag = 8)
#' w <- adstock_weights("weibull_pdf", shape = 2, scale = 3, max_lag = 12)
#' plot(0:12, w, type = "h", xlab = "lag", ylab = "weight")
#' @export
adstock_weights <- function(type = c("geometric", "delayed", "weibull_cdf", "weibull_pdf"),
                            ..., max_lag = 13, normalize = FALSE) {
  type <- match_choice(type, ADSTOCK_TYPES, "type")
  lag <- check_count(max_lag, "max_lag")
  par <- list(...)
  need <- ADSTOCK_PARS[[type]]
  missing_par <- setdiff(need, names(par))
  if (length(missing_par) || length(setdiff(names(par), need))) {
    abort_input("...", sprintf("adstock type '%s' takes parameters %s; found %s", type,
                               paste(need, collapse = ", "),
                               if (length(par)) paste(names(par), collapse = ", ") else "none"))
  }
  impulse <- c(1, numeric(lag))
  out <- adstock_apply(impulse, type, par[need], lag, normalize, NULL)
  names(out) <- paste0("lag", 0:lag)
  out
}

#' Saturation (diminishing-returns) transforms of media
#'
#' Map (adstocked) media to response through a concave or S-shaped curve.
#' `x` is a numeric vector, matrix or data frame (rows = time, columns =
#' channels); parameters are scalars or one value per column.
#'
#' * Hill: `x^slope / (x^slope + halfsat^slope)`, which is 1/2 at
#'   `x = halfsat`; S-shaped for `slope > 1`.
#' * logistic: `(1 - exp(-lambda x)) / (1 + exp(-lambda x))`.
#' * Michaelis-Menten: `vmax x / (k + x)`, which reaches `vmax / 2` at `x = k`.
#'
#' @param x Non-negative, finite media values.
#' @param halfsat,slope Positive Hill half-saturation point and slope.
#' @param lambda Positive logistic rate.
#' @param vmax,k Positive Michaelis-Menten maximum and half-saturation constant.
#' @return A numeric vector or matrix like `x`.
#' @seealso [adstock_geometric()] for carry-over.
#' @examples
#' spend <- seq(0, 300, by = 50)
#' saturation_hill(spend, halfsat = 100, slope = 2)
#' saturation_logistic(spend, lambda = 0.01)
#' saturation_michaelis_menten(spend, vmax = 1, k = 100)
#' @name saturation
NULL

#' @rdname saturation
#' @export
saturation_hill <- function(x, halfsat, slope) {
  saturation_apply(x, "hill", list(halfsat = halfsat, slope = slope))
}

#' @rdname saturation
#' @export
saturation_logistic <- function(x, lambda) {
  saturation_apply(x, "logistic", list(lambda = lambda))
}

#' @rdname saturation
#' @export
saturation_michaelis_menten <- function(x, vmax, k) {
  saturation_apply(x, "michaelis_menten", list(vmax = vmax, k = k))
}

#' Mixture of Hill curves
#'
#' The response of a heterogeneous audience: `sum_k weight[k] *
#' saturation_hill(x, halfsat[k], slope[k])`, one Hill curve per latent
#' segment (some convert with little exposure, others need sustained spend),
#' weighted by the segments' shares. With one component it is
#' [saturation_hill()]. This is the saturation of
#' `hbmmm(..., saturation = "hill_mixture")`, evaluated by the same C kernel.
#'
#' @param x Non-negative, finite media values: a numeric vector or matrix
#'   (rows = time, columns = channels or draws).
#' @param halfsat,slope,weight The components' positive half-saturation
#'   points and slopes, and their weights (in `[0, 1]`, summing to 1): vectors
#'   of length K (the same components for every column of `x`), or K x
#'   `ncol(x)` matrices (one mixture per column).
#' @param deriv Also return the derivatives (a list: `value`, then one
#'   element per parameter, `halfsat1`, ..., `slope1`, ..., `weight1`, ...,
#'   and `x`)?
#' @return A numeric vector or matrix like `x` (with `deriv`, a list of them).
#' @seealso [saturation_hill()]; [hbmmm()] for the model.
#' @examples
#' spend <- seq(0, 300, by = 50)
#' saturation_hill_mixture(spend, halfsat = c(30, 200), slope = c(1, 3), weight = c(0.4, 0.6))
#' all.equal(saturation_hill_mixture(spend, 100, 2, 1), saturation_hill(spend, 100, 2))
#' @export
saturation_hill_mixture <- function(x, halfsat, slope, weight, deriv = FALSE) {
  m <- as_media(x)
  deriv <- check_flag(deriv, "deriv")
  P <- mixture_params(list(halfsat = halfsat, slope = slope, weight = weight), NCOL(m))
  K <- nrow(P) %/% 3L
  out <- .Call(C_hb_saturate_mixture, m, K, P, deriv)
  check_no_overflow(out, m, "saturation")
  restore_media(out, m, c(paste0(rep(c("halfsat", "slope", "weight"), each = K), seq_len(K)), "x"), deriv)
}

# Parameters of a mixture as a 3K x ncol matrix (halfsat, slope, weight):
# each a vector of length K (shared by the columns) or a K x ncol matrix.
mixture_params <- function(par, ncol) {
  K <- NROW(par$halfsat)
  if (K < 1L || K > 20L) {
    abort_input("halfsat", sprintf("must give between 1 and 20 components; found %d", K))
  }
  mats <- lapply(names(par), function(nm) {
    v <- par[[nm]]
    if (!is.numeric(v) || (!is.null(dim(v)) && length(dim(v)) != 2L)) {
      abort_input(nm, sprintf("must be a numeric vector or matrix; found %s", describe_value(v)))
    }
    if (is.matrix(v)) {
      if (nrow(v) != K || !ncol(v) %in% c(1L, ncol)) {
        abort_input(nm, sprintf("must be a %d x %d matrix (components x columns of `x`); found %d x %d",
                                K, ncol, nrow(v), ncol(v)))
      }
    } else if (length(v) != K) {
      abort_input(nm, sprintf("must have one value per component (%d, the length of `halfsat`); found length %d",
                              K, length(v)))
    }
    matrix(as.double(v), K, ncol)
  })
  unname(do.call(rbind, mats))
}

# ---- internals ---------------------------------------------------------

# `time` (internal): integer time positions of the rows, strictly increasing
# within each group, or NULL for consecutive periods.
adstock_apply <- function(x, type, par, max_lag, normalize, group, deriv = FALSE, time = NULL) {
  m <- as_media(x)
  g <- group_codes(group, NROW(m))
  P <- media_params(par, m)
  lag <- if (is.null(max_lag)) NA_integer_ else max_lag
  out <- .Call(C_hb_adstock, m, HB_CODES$adstock[[type]], P, lag, normalize, g,
               if (!is.null(time)) as.integer(time), deriv)
  check_no_overflow(out, m, "adstock")
  restore_media(out, m, names(par), deriv)
}

saturation_apply <- function(x, type, par, deriv = FALSE) {
  m <- as_media(x)
  P <- media_params(par, m)
  out <- .Call(C_hb_saturate, m, HB_CODES$saturation[[type]], P, deriv)
  check_no_overflow(out, m, "saturation")
  restore_media(out, m, c(names(par), "x"), deriv)
}

# The kernels accept only finite media, so an infinite result means the sum
# over lags overflowed (|x| near the largest double): an error, not a
# silent Inf that would poison every later computation.
check_no_overflow <- function(out, m, what) {
  v <- if (is.list(out)) out[[1L]] else out
  if (any(is.infinite(v))) {
    abort_input("x", sprintf(paste0("its %s overflows to Inf (largest |x| is %s); rescale `x` ",
                                    "(e.g. to thousands or millions)"), what, format(max(abs(m)), digits = 3)))
  }
}

# Value and derivatives with respect to each parameter (and, for saturation,
# x), as a named list of arrays shaped like x. Used by tests and samplers.
adstock_jacobian <- function(x, type, par, max_lag = 13, normalize = FALSE, group = NULL) {
  adstock_apply(x, type, par, max_lag, normalize, group, deriv = TRUE)
}
saturation_jacobian <- function(x, type, par) {
  saturation_apply(x, type, par, deriv = TRUE)
}

# Numeric media as a double vector or matrix, keeping names and dimnames.
as_media <- function(x) {
  if (is.data.frame(x)) {
    ok <- vapply(x, function(col) is.numeric(col) && !is.object(col), logical(1))
    if (!all(ok)) {
      abort_input("x", sprintf("data frame columns must be numeric; column %s is %s",
                               names(x)[!ok][1], class(x[[which(!ok)[1]]])[1]))
    }
    x <- as.matrix(x)
  }
  if (!is.numeric(x) || is.object(x) && !is.matrix(x)) {
    abort_input("x", sprintf("must be a numeric vector, matrix or data frame of media values; found %s",
                             describe_value(x)))
  }
  if (length(dim(x)) > 2L) {
    abort_input("x", sprintf("must be a vector or a matrix; found an array with %d dimensions",
                             length(dim(x))))
  }
  if (!is.double(x)) storage.mode(x) <- "double"
  x
}

# Parameters as a (n_par x n_col) double matrix: each scalar or one per column.
media_params <- function(par, m) {
  ncol <- NCOL(m)
  cn <- colnames(m)
  cols <- lapply(names(par), function(nm) {
    v <- par[[nm]]
    if (!is.numeric(v) || length(v) == 0L) {
      abort_input(nm, sprintf("must be numeric; found %s", describe_value(v)))
    }
    if (length(v) != 1L && length(v) != ncol) {
      abort_input(nm, sprintf("must have length 1 or one value per column of `x` (%d); found length %d",
                              ncol, length(v)))
    }
    if (!is.null(names(v)) && length(v) == ncol && !is.null(cn)) {
      if (!setequal(names(v), cn)) {
        abort_input(nm, sprintf("names (%s) must match the column names of `x` (%s)",
                                paste(names(v), collapse = ", "), paste(cn, collapse = ", ")))
      }
      v <- v[cn]
    }
    rep_len(as.double(v), ncol)
  })
  matrix(unlist(cols), nrow = length(par), byrow = TRUE)
}

# Integer codes 1..G in order of first appearance, or NULL.
group_codes <- function(group, n) {
  if (is.null(group)) return(NULL)
  if (!is.atomic(group) || !is.null(dim(group))) {
    abort_input("group", sprintf("must be a vector; found %s", describe_value(group)))
  }
  if (length(group) != n) {
    abort_input("group", sprintf("must have one value per row of `x` (%d); found length %d",
                                 n, length(group)))
  }
  if (anyNA(group)) {
    abort_input("group", sprintf("must not contain NA; found %d NA, first at row %d",
                                 sum(is.na(group)), which(is.na(group))[1]))
  }
  match(group, unique(group))
}

restore_media <- function(out, m, par_names, deriv) {
  keep <- function(v) {
    if (is.matrix(m)) dimnames(v) <- dimnames(m) else names(v) <- names(m)
    v
  }
  if (!deriv) return(keep(out))
  out <- lapply(out, keep)
  names(out) <- c("value", par_names)
  out
}
