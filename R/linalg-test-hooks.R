# Internal hooks into the numerical kernels of src/linalg.c and src/online.c,
# for tests only. They pass arguments to C untouched, so that the tests also
# exercise the argument checks of the C entry points (src/linalg_call.c).

#' Cholesky kernels on a symmetric matrix
#'
#' @return list(info, L, logdet, solve, inverse, fwd, bwd); see
#'   hb_test_chol() in src/linalg_call.c.
#' @noRd
hb_test_chol <- function(A) .Call(C_hb_test_chol, A)

#' The batched level kernels (src/linalg_lanes.c) over G levels split at
#' `split`: list(marginal, schur, logdet); see hb_test_lanes() in
#' src/linalg_call.c.
#' @noRd
hb_test_lanes <- function(Sinv, H, B, W, split) .Call(C_hb_test_lanes, Sinv, H, B, W, split)

#' Draws from N(P^{-1} b, P^{-1}) as an n_draws x length(b) matrix
#' (attributes "mean" and "mean_work")
#' @noRd
hb_test_mvn_precision <- function(P, b, n_draws) {
  .Call(C_hb_test_mvn_precision, P, b, n_draws)
}

#' Draws from InvWishart(df, S) as a d x d x n_draws array (attributes
#' "chol", "sd", "cor" of the last draw)
#' @noRd
hb_test_inv_wishart <- function(df, S, n_draws) {
  .Call(C_hb_test_inv_wishart, df, S, n_draws)
}

#' Stream the rows of x through the online moment and P-square accumulators
#' @return list(n, mean, sd, quantiles), quantiles ncol(x) x length(probs)
#' @noRd
hb_test_online <- function(x, probs) .Call(C_hb_test_online, x, probs)

#' n_draws draws from InvGamma(shape, scale) (density prop. to
#' x^(-shape - 1) exp(-scale / x))
#' @noRd
hb_test_inv_gamma <- function(shape, scale, n_draws) {
  .Call(C_hb_test_inv_gamma, shape, scale, n_draws)
}

#' n_draws draws of one distribution of the Gibbs chains' generator
#' (src/rng.c): dist "unif", "norm", "exp", "gamma" (par = c(shape, scale))
#' or "chisq" (par = df); seed: 4 whole numbers in [0, 2^32), or NULL to seed
#' from R's stream as a Gibbs chain does
#' @noRd
hb_test_rng <- function(seed, dist, par, n_draws) {
  .Call(C_hb_test_rng, seed, dist, par, n_draws)
}
