# Convergence diagnostics of Vehtari, Gelman, Simpson, Carpenter & Buerkner
# (2021). Results match posterior 1.4.0 (rhat, ess_bulk, ess_tail, mcse_mean)
# to rounding. Everything below works on arrays [iteration, chain, variable]
# so that summarise_draws_table() handles hundreds of variables with a few
# vectorised passes instead of one R-level call per variable and statistic;
# the exported single-variable functions are that code with one variable.

#' Convergence diagnostics for MCMC draws
#'
#' Rank-normalized diagnostics of Vehtari et al. (2021), computed exactly as the
#' \pkg{posterior} package does, for the draws of one quantity.
#'
#' * `rhat()`: the larger of the rank-normalized split-R-hat and the
#'   rank-normalized split-R-hat of the draws folded around their median
#'   (`abs(x - median(x))`). Values above 1.01 signal chains that have not
#'   mixed.
#' * `ess_bulk()`: effective sample size of the rank-normalized split chains,
#'   a measure of how well the centre of the distribution is estimated.
#' * `ess_tail()`: the smaller of the effective sample sizes of the indicators
#'   `x <= q05` and `x <= q95`, for the reliability of 5% and 95% quantiles.
#' * `mcse_mean()`: Monte Carlo standard error of the posterior mean,
#'   `sd(x) / sqrt(ess_mean)`, where `ess_mean` is the effective sample size
#'   of the (not rank-normalized) split chains.
#'
#' Chains are split in half (the middle draw is dropped when the number of
#' iterations is odd). Ranks use the fractional offset 3/8 and average ties.
#' Autocorrelations are computed by FFT and truncated with Geyer's initial
#' positive and initial monotone sequences; the effective sample size is
#' capped at `S * log10(S)` for `S` draws, as in \pkg{posterior}.
#'
#' Edge cases follow \pkg{posterior}: any `NA` gives `NA`; infinite draws still
#' get rank-based `rhat()` and `ess_bulk()` but `NA` for `ess_tail()` and a
#' non-finite `mcse_mean()`; constant draws give `NA`. Chains that are each
#' constant but at different values give `rhat() = Inf` (\pkg{posterior}
#' returns a huge finite number there, from rounding). `rhat()` needs at least
#' 4 iterations and the effective sample sizes at least 6 (3 per half-chain);
#' fewer give `NA` (\pkg{posterior} 1.4.0 returns numbers for 2 or 3
#' iterations of several chains, an artefact of its chain splitting).
#'
#' @param x Draws of one quantity: a numeric matrix with one row per iteration
#'   and one column per chain, or a numeric vector (a single chain).
#' @return A single number (`NA` when undefined, see Details).
#' @references Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and
#'   Buerkner, P.-C. (2021). Rank-normalization, folding, and localization: an
#'   improved R-hat for assessing convergence of MCMC. *Bayesian Analysis*,
#'   16(2), 667-718. \doi{10.1214/20-BA1221}
#' @examples
#' set.seed(1)
#' draws <- matrix(rnorm(4000), nrow = 1000, ncol = 4) # iterations x chains
#' rhat(draws)
#' ess_bulk(draws)
#' ess_tail(draws)
#' mcse_mean(draws)
#'
#' # Chains stuck in different places are flagged.
#' stuck <- sweep(draws, 2, c(0, 0, 0, 3), "+")
#' rhat(stuck)
#' @name convergence
NULL

#' @rdname convergence
#' @export
rhat <- function(x) {
  diagnose_draws(as_draws_cube(x), "rhat")$rhat
}

#' @rdname convergence
#' @export
ess_bulk <- function(x) {
  diagnose_draws(as_draws_cube(x), "ess_bulk")$ess_bulk
}

#' @rdname convergence
#' @export
ess_tail <- function(x) {
  diagnose_draws(as_draws_cube(x), "ess_tail")$ess_tail
}

#' @rdname convergence
#' @export
mcse_mean <- function(x) {
  diagnose_draws(as_draws_cube(x), "mcse_mean")$mcse_mean
}

# Summary table used by summary() of a fit.
# draws: numeric array [iteration, chain, variable] with variable names in
# dimnames(draws)[[3]]. Returns one row per variable with mean, sd, the
# quantiles in `probs` (columns named as posterior::quantile2 names them,
# e.g. q2.5), rhat, ess_bulk, ess_tail and mcse_mean; the values agree with
# posterior::summarise_draws().
summarise_draws_table <- function(draws, probs = c(0.025, 0.975)) {
  if (!is.array(draws) || length(dim(draws)) != 3L ||
      !(is.numeric(draws) || is.logical(draws))) {
    abort_input("draws", sprintf(
      "must be a numeric array [iteration, chain, variable]; found %s",
      describe_value(draws)))
  }
  vars <- dimnames(draws)[[3L]]
  if (dim(draws)[3L] == 0L) vars <- character(0) # e.g. a fit with no kept variable
  if (is.null(vars) || anyNA(vars)) {
    abort_input("draws", "needs variable names in dimnames(draws)[[3]]")
  }
  if (any(dim(draws)[1:2] == 0L)) {
    abort_input("draws", "must hold at least one iteration and one chain")
  }
  if (!is.numeric(probs) || length(probs) == 0L || anyNA(probs) ||
      any(probs < 0 | probs > 1)) {
    abort_input("probs", sprintf("must be probabilities in [0, 1]; found %s",
                                 describe_value(probs)))
  }
  storage.mode(draws) <- "double"
  # Blocks of about 2^18 draws: temporaries stay a few MB however many
  # variables there are, which bounds memory and is faster than one huge block.
  d <- dim(draws)
  per_block <- max(1L, floor(2^18 / (d[1L] * d[2L])))
  blocks <- split(seq_len(d[3L]), ceiling(seq_len(d[3L]) / per_block))
  what <- c("summary", "rhat", "ess_bulk", "ess_tail", "mcse_mean")
  res <- lapply(blocks, function(idx) {
    diagnose_draws(draws[, , idx, drop = FALSE], what, probs = probs)
  })
  pick <- function(name) as.numeric(unlist(lapply(res, `[[`, name), use.names = FALSE))
  out <- data.frame(variable = as.character(vars), mean = pick("mean"),
                    sd = pick("sd"), stringsAsFactors = FALSE)
  qs <- matrix(pick("quantiles"), nrow = length(probs))
  for (i in seq_along(probs)) out[[paste0("q", probs[i] * 100)]] <- qs[i, ]
  for (name in c("rhat", "ess_bulk", "ess_tail", "mcse_mean")) out[[name]] <- pick(name)
  rownames(out) <- NULL
  out
}

# ---------------------------------------------------------------------------
# Internals

# Validate `x` of the exported functions and return it as a double array
# [iteration, chain, 1].
as_draws_cube <- function(x, arg = "x") {
  if (!is.numeric(x) || is.data.frame(x)) {
    abort_input(arg, sprintf(
      "must be a numeric vector or an iterations x chains matrix; found %s",
      describe_value(x)))
  }
  d <- dim(x)
  if (is.null(d) || length(d) == 1L) {
    d <- c(length(x), 1L)
  } else if (length(d) != 2L) {
    abort_input(arg, sprintf(
      "must be a vector or an iterations x chains matrix; found an array with %d dimensions",
      length(d)))
  }
  if (any(d == 0L)) {
    abort_input(arg, "must hold at least one draw; found none")
  }
  array(as.double(x), c(d, 1L))
}

# The engine behind the exported functions and summarise_draws_table().
# arr: double array [n, C, V]. `what` selects the statistics, so that a single
# rhat() call does not pay for the tail ESS. Every step handles all variables
# in a few vectorised passes; the rank-normalized split draws are computed
# once and shared by rhat and ess_bulk.
diagnose_draws <- function(arr, what, probs = NULL) {
  d <- dim(arr)
  n <- d[1L]; C <- d[2L]; V <- d[3L]; N <- n * C
  flat <- matrix(arr, N, V)
  res <- list()
  finite <- colSums(!is.finite(flat)) == 0L
  has_na <- !finite
  if (any(has_na)) has_na[has_na] <- colSums(is.na(flat[, has_na, drop = FALSE])) > 0L
  good <- which(!has_na) # columns that can be sorted and ranked
  # One sort of every variable gives quantiles, medians, ranges and, for an
  # even number of iterations, the ranks of the split chains (which then hold
  # exactly the same draws).
  srt <- sort_cols(if (length(good) == V) flat else flat[, good, drop = FALSE])
  s <- srt$sorted
  # posterior's is_constant(): absolute range below machine epsilon.
  constant <- rep(NA, V)
  constant[good] <- abs(s[N, ] - s[1L, ]) < .Machine$double.eps
  usable <- finite & !constant # posterior's !should_return_NA()
  even <- n %% 2L == 0L

  if (any(c("summary", "mcse_mean") %in% what)) {
    mu <- colMeans(flat)
    sdv <- sqrt(colSums((flat - rep(mu, each = N))^2) / (N - 1))
    res$mean <- mu
    res$sd <- sdv
  }
  if ("summary" %in% what) {
    q <- matrix(NA_real_, length(probs), V)
    q[, good] <- quantile7_sorted(s, probs)
    res$quantiles <- q
  }
  if (any(c("rhat", "ess_bulk") %in% what)) {
    if (even || n == 1L) {
      zb <- matrix(NA_real_, N, V)
      zb[, good] <- z_from_sorted(srt)
      # z-scores are constant exactly when all draws are equal.
      ok_b <- rep(FALSE, V)
      ok_b[good] <- s[N, ] != s[1L, ]
      zb <- split_chains(array(zb, d))
    } else {
      zb <- split_chains(arr)
      zz <- z_scale_cols(matrix(zb, length(zb) / V, V))
      ok_b <- attr(zz, "ok")
      zb <- array(zz, dim(zb))
    }
    if ("ess_bulk" %in% what) res$ess_bulk <- ess_cols(zb, ok_b)
    if ("rhat" %in% what) {
      med <- rep(NA_real_, V)
      med[good] <- median_sorted(s)
      folded <- split_chains(array(abs(flat - rep(med, each = N)), d))
      zf <- z_scale_cols(matrix(folded, length(folded) / V, V))
      ok_f <- attr(zf, "ok")
      zf <- array(zf, dim(folded))
      # max() of the two, NA when either is NA, as posterior.
      res$rhat <- pmax(rhat_cols(zb, ok_b), rhat_cols(zf, ok_f))
    }
  }
  if ("ess_tail" %in% what) {
    et <- rep(NA_real_, V)
    # posterior returns NA for non-finite or constant draws before looking
    # at the quantile indicators.
    use <- which(usable)
    if (length(use)) {
      q <- quantile7_sorted(s[, match(use, good), drop = FALSE], c(0.05, 0.95))
      sub <- if (length(use) == V) flat else flat[, use, drop = FALSE]
      d_use <- c(n, C, length(use))
      et[use] <- pmin(ess_indicator(sub <= rep(q[1L, ], each = N), d_use),
                      ess_indicator(sub <= rep(q[2L, ], each = N), d_use))
    }
    res$ess_tail <- et
  }
  if ("mcse_mean" %in% what) {
    # For odd n the split drops a draw, which can change constancy.
    ess_mean <- ess_cols(split_chains(arr), if (even) usable)
    res$mcse_mean <- sdv / sqrt(ess_mean)
  }
  res
}

# ESS of quantile indicators (logical matrix [n * C, V], chains stacked).
ess_indicator <- function(ind, d) {
  sp <- split_chains(array(ind, d))
  cnt <- colSums(matrix(sp, ncol = d[3L]))
  ess_cols(sp, cnt > 0 & cnt < length(sp) / d[3L])
}

# Split each chain into its first and second half, dropping the middle
# iteration when n is odd, as posterior does: [n, C, V] -> [n %/% 2, 2C, V].
# The halves come out as (chain 1 first, chain 1 second, chain 2 first, ...)
# where posterior puts all first halves first; every statistic is symmetric
# in the chains, and this order makes the split of an even n a plain
# reshape. One iteration is left unsplit (posterior's rule; all NA anyway).
split_chains <- function(arr) {
  d <- dim(arr)
  n <- d[1L]
  if (n == 1L) return(arr)
  h <- n %/% 2L
  if (n %% 2L == 1L) {
    arr <- matrix(arr, n, d[2L] * d[3L])[-(h + 1L), , drop = FALSE]
  }
  array(arr, c(h, 2L * d[2L], d[3L]))
}

# Sort every column of an NA-free matrix in one radix sort keyed by column.
# Returns the permutation `o` (into the matrix) and the sorted values as a
# matrix of the same shape.
sort_cols <- function(m) {
  N <- nrow(m); V <- ncol(m)
  if (V == 0L) return(list(o = integer(), sorted = m))
  o <- if (V == 1L) order(m) else order(rep.int(seq_len(V), rep.int(N, V)), m)
  list(o = o, sorted = matrix(m[o], N, V))
}

# Rank-normalized values qnorm((r - 3/8) / (N - 2 * 3/8 + 1)) of each column,
# from the output of sort_cols(), where r is the within-column rank with ties
# averaged (rank(ties.method = "average")). A tie group starts wherever the
# sorted value changes or a new column begins, and its members share the
# mean of the group's first and last positions. Ranks are multiples of 1/2,
# so qnorm runs once per possible rank (2N - 1 values), not once per draw.
z_from_sorted <- function(srt) {
  s <- srt$sorted
  N <- nrow(s); L <- length(s)
  if (L == 0L) return(s)
  c0 <- 3 / 8
  tab <- stats::qnorm(((seq_len(2L * N - 1L) + 1) / 2 - c0) / (N - 2 * c0 + 1))
  brk <- c(TRUE, s[-1L] != s[-L])
  z <- numeric(L)
  if (all(brk)) { # no ties anywhere: ranks are the positions
    z[srt$o] <- tab[2L * seq_len(N) - 1L]
  } else {
    brk[seq.int(1L, L, by = N)] <- TRUE
    start <- which(brk)
    end <- c(start[-1L] - 1L, L)
    two_r <- start + end - 2L * ((start - 1L) %/% N * N) # 2 * average rank
    z[srt$o] <- tab[two_r - 1L][cumsum(brk)]
  }
  matrix(z, N, ncol(s))
}

# Rank-normalize each column of a matrix; columns with an NA become all NA
# (posterior's z_scale() marks them NA and every statistic is then NA).
# Attribute "ok": the column is NA-free and not constant.
z_scale_cols <- function(m) {
  z <- matrix(NA_real_, nrow(m), ncol(m))
  ok <- rep(FALSE, ncol(m))
  good <- which(colSums(is.na(m)) == 0L)
  if (length(good)) {
    srt <- sort_cols(if (length(good) == ncol(m)) m else m[, good, drop = FALSE])
    z[, good] <- z_from_sorted(srt)
    ok[good] <- srt$sorted[nrow(m), ] != srt$sorted[1L, ]
  }
  attr(z, "ok") <- ok
  z
}

# Type-7 quantiles (stats::quantile's default, same arithmetic) of each column
# of a column-sorted matrix; returns [length(probs), ncol].
quantile7_sorted <- function(s, probs) {
  N <- nrow(s)
  probs <- pmax(0, pmin(1, probs))
  index <- 1 + max(N - 1, 0) * probs
  lo <- floor(index); hi <- ceiling(index)
  out <- matrix(NA_real_, length(probs), ncol(s))
  for (p in seq_along(probs)) {
    qs <- s[lo[p], ]
    xhi <- s[hi[p], ]
    i <- index[p] > lo[p] & xhi != qs
    h <- index[p] - lo[p]
    qs[i] <- (1 - h) * qs[i] + h * xhi[i]
    out[p, ] <- qs
  }
  out
}

# Medians of the columns of a column-sorted matrix. a/2 + b/2 rounds exactly
# like stats::median's mean(c(a, b)) and cannot overflow.
median_sorted <- function(s) {
  N <- nrow(s)
  if (N %% 2L == 1L) return(s[(N + 1L) / 2L, ])
  s[N / 2L, ] / 2 + s[N / 2L + 1L, ] / 2
}

# TRUE for variables (slices [, , v]) whose draws are all finite and not
# constant; posterior's should_return_NA() is the negation. Used when the
# caller cannot tell this from sorted draws.
usable_vars <- function(arr) {
  d <- dim(arr)
  m <- matrix(arr, d[1L] * d[2L], d[3L])
  ok <- colSums(!is.finite(m)) == 0L
  ok[ok] <- vapply(which(ok), function(j) {
    r <- range(m[, j])
    abs(r[2L] - r[1L]) >= .Machine$double.eps
  }, logical(1))
  ok
}

# Basic R-hat (between/within chain variance) of each variable of a split,
# rank-normalized array [h, K, V]. Within-chain variances use the same
# formula as matrixStats::colVars(center = ) (mean of squared deviations
# times h / (h - 1)) so that degenerate chains agree with posterior too.
rhat_cols <- function(arr, ok = NULL) {
  d <- dim(arr)
  h <- d[1L]; K <- d[2L]; V <- d[3L]
  out <- rep(NA_real_, V)
  if (h < 2L || K < 2L) return(out)
  if (is.null(ok)) ok <- usable_vars(arr)
  if (!any(ok)) return(out)
  m <- matrix(if (all(ok)) arr else arr[, , ok, drop = FALSE], h, K * sum(ok))
  cm <- colMeans(m)
  cv <- colMeans((m - rep(cm, each = h))^2) * (h / (h - 1))
  cm <- matrix(cm, K, sum(ok))
  cv <- matrix(cv, K, sum(ok))
  var_between <- h * colSums((cm - rep(colMeans(cm), each = K))^2) / (K - 1)
  var_within <- colMeans(cv)
  out[ok] <- sqrt((var_between / var_within + h - 1) / h)
  out
}

# Effective sample size of each variable of a split array [h, K, V]
# (posterior's .ess()): average the chains' autocovariances, turn them into
# autocorrelations with the multi-chain variance estimate, truncate with
# Geyer's initial positive sequence, enforce monotonicity, cap at S log10 S.
ess_cols <- function(arr, ok = NULL) {
  d <- dim(arr)
  h <- d[1L]; K <- d[2L]; V <- d[3L]
  out <- rep(NA_real_, V)
  if (h < 3L) return(out)
  ok <- which(if (is.null(ok)) usable_vars(arr) else ok)
  if (!length(ok)) return(out)
  # Direct autocovariances in C for variables whose Geyer truncation comes
  # within a few dozen lags (the usual case); the FFT below for the rest.
  sub <- if (length(ok) == V) arr else arr[, , ok, drop = FALSE]
  storage.mode(sub) <- "double"
  direct <- .Call(C_hb_ess_geyer, sub, c(h, K, length(ok)), ess_direct_lags(h))
  out[ok] <- direct
  ok <- ok[is.na(direct)]
  if (!length(ok)) return(out)
  # Chunk the variables so that the FFT workspace stays near 32 MB.
  per_chunk <- max(1L, floor(2^22 / (2 * stats::nextn(h) * K)))
  if (length(ok) == V && V <= per_chunk) {
    out[] <- ess_geyer(arr) # common case: no copy of the draws
  } else {
    for (idx in split(ok, ceiling(seq_along(ok) / per_chunk))) {
      out[idx] <- ess_geyer(arr[, , idx, drop = FALSE])
    }
  }
  out
}

# Longest lag summed directly before the FFT is cheaper (measured:
# inst/bench/diagnostics.R).
ess_direct_lags <- function(h) as.integer(max(16, ceiling(4 * log2(h))))

# The ESS computation proper for usable variables; all variables at once.
ess_geyer <- function(arr) {
  d <- dim(arr)
  h <- d[1L]; K <- d[2L]; V <- d[3L]
  m <- matrix(arr, h, K * V)
  cm <- colMeans(m)
  acov_means <- mean_autocov(m - rep(cm, each = h), K)
  mean_var <- acov_means[1L, ] * h / (h - 1)
  var_plus <- mean_var * (h - 1) / h
  if (K > 1L) {
    cm <- matrix(cm, K, V)
    var_plus <- var_plus + colSums((cm - rep(colMeans(cm), each = K))^2) / (K - 1)
  }
  rho <- 1 - (rep(mean_var, each = h) - acov_means) / rep(var_plus, each = h)

  # Pair sums P_k = rho[2k] + rho[2k + 1] (lags 2k, 2k + 1), with rho at lag 0
  # set to 1. posterior's loop computes pairs k = 1, 2, ... while the previous
  # pair sum is positive and 2(k - 1) < h - 5; k_end is the pair that stopped
  # it (or the last one allowed).
  p0 <- 1 + rho[2L, ]
  kmax <- if (h > 5L) as.integer(ceiling((h - 5) / 2)) else 0L
  k_end <- integer(V)
  if (kmax > 0L) {
    ev <- rho[seq.int(3L, by = 2L, length.out = kmax), , drop = FALSE]
    pk <- ev + rho[seq.int(4L, by = 2L, length.out = kmax), , drop = FALSE]
    bad <- !(pk > 0)
    bad[is.na(bad)] <- TRUE
    k_end <- rep(kmax, V)
    hit <- which(bad) - 1L
    # Assigning in reverse lets the first non-positive pair of a column win.
    k_end[rev(hit %/% kmax + 1L)] <- rev(hit %% kmax + 1L)
  }
  k_end[!(p0 > 0) | is.na(p0)] <- 0L

  tau <- rep(2, V) # loop never ran: -1 + 2 * rho[0] + rho[0]
  run <- which(k_end > 0L)
  if (length(run)) {
    ke <- k_end[run]
    pairs <- rbind(p0[run], pk[, run, drop = FALSE])
    # Initial monotone sequence: each pair sum is at most the previous one.
    if (max(ke) > 1L) {
      for (r in 2:max(ke)) pairs[r, ] <- pmin(pairs[r, ], pairs[r - 1L, ])
    }
    pairs[row(pairs) > rep(ke, each = nrow(pairs))] <- 0
    j <- cbind(ke, seq_along(run))
    even_end <- ev[, run, drop = FALSE][j]
    sum_end <- pk[, run, drop = FALSE][j]
    # The stopping pair's even term is kept if positive, or if the pair was
    # stored (sum >= 0).
    last <- ifelse(even_end > 0 | sum_end >= 0, even_end, 0)
    tau[run] <- -1 + 2 * colSums(pairs) + last
  }
  S <- K * h
  S / pmax(tau, 1 / log10(S))
}

# Chain-averaged autocovariances, lags 0..N-1, of the centred chains in `yc`
# (columns: K chains of variable 1, then of variable 2, ...); returns [N, V].
# posterior averages per-chain autocovariance() values, each the inverse FFT
# of |FFT|^2 rescaled so that lag 0 is var(x) (N - 1) / N; that rescaling is
# exactly 1 / (M N) for transform length M, so the average is the inverse FFT
# of the summed power spectra / (K M N). This needs one inverse transform per
# variable instead of one per chain. Further, two real chains share one
# complex forward FFT (as real and imaginary part): for z = a + ib,
# |A_f|^2 + |B_f|^2 = (|Z_f|^2 + |Z_-f|^2) / 2, and summing chains is all we
# need. Two variables' (real, even) spectra likewise share one inverse FFT,
# each scaled to unit size first so that neither loses precision to the other.
mean_autocov <- function(yc, K) {
  N <- nrow(yc); V <- ncol(yc) / K
  M <- 2L * stats::nextn(N) # zero padding: no circular wrap-around up to lag N - 1
  # Pair chain j with chain j + K/2 of the same variable (K is even for split
  # chains; an odd K gets a zero partner).
  Kh <- (K + 1L) %/% 2L
  dim(yc) <- c(N, K, V)
  re <- yc[, seq_len(Kh), , drop = FALSE]
  im <- if (K > Kh) yc[, (Kh + 1L):K, , drop = FALSE] else 0
  if (K %% 2L == 1L && K > 1L) {
    im0 <- array(0, c(N, Kh, V))
    im0[, seq_len(K - Kh), ] <- im
    im <- im0
  }
  z <- matrix(0 + 0i, M, Kh * V)
  z[seq_len(N), ] <- complex(real = re, imaginary = im)
  f <- stats::mvfft(z)
  q <- Re(f)^2 + Im(f)^2
  dim(q) <- c(M, Kh, V)
  spec <- q[, 1L, ]
  if (Kh > 1L) for (k in 2:Kh) spec <- spec + q[, k, ]
  spec <- matrix(spec, M, V)
  spec <- (spec + spec[c(1L, M:2L), , drop = FALSE]) / 2
  # Inverse FFTs, two variables per transform.
  sc <- colMeans(spec)
  sc[sc == 0] <- 1
  spec <- spec / rep(sc, each = M)
  Vh <- (V + 1L) %/% 2L
  im <- if (V > Vh) spec[, (Vh + 1L):V] else 0
  if (V %% 2L == 1L && V > 1L) im <- cbind(im, 0)
  ac <- stats::mvfft(matrix(complex(real = spec[, seq_len(Vh)], imaginary = im),
                            M, Vh), inverse = TRUE)[seq_len(N), , drop = FALSE]
  ac <- cbind(Re(ac), Im(ac))[, seq_len(V), drop = FALSE]
  ac * rep(sc / (K * M * N), each = N)
}
