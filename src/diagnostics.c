/* Effective sample size by Geyer's initial monotone sequence on split,
 * centred chains (the estimator of Vehtari et al. 2021, as in posterior's
 * .ess()), with autocovariances summed directly lag by lag and only as far
 * as the truncation needs. For well-mixing draws that is a few lags, far less
 * work than the full FFT; a variable whose truncation lag would pass
 * `max_lag`, or whose lag-1 autocorrelation exceeds 0.85 (it would), is left
 * to the FFT path in R (returned as NA). */
#include <math.h>
#include <string.h>
#include "hbmmm.h"

/* Chain-averaged biased autocovariance at lag t of K centred chains of length h. */
static double mean_acov(const double *yc, int h, int K, int t) {
  double s = 0.0;
  for (int k = 0; k < K; k++) {
    const double *y = yc + (R_xlen_t) k * h;
    double a = 0.0;
    for (int i = 0; i + t < h; i++) a += y[i] * y[i + t];
    s += a / h;
  }
  return s / K;
}

/* ESS of one variable; NA when the truncation passes max_lag. */
static double ess_one(const double *x, int h, int K, int max_lag, double *yc, double *rh) {
  double *cmean = rh + h; /* K chain means after the h autocorrelations */
  for (int k = 0; k < K; k++) {
    const double *xk = x + (R_xlen_t) k * h;
    double m = 0.0;
    for (int i = 0; i < h; i++) m += xk[i];
    m /= h;
    cmean[k] = m;
    for (int i = 0; i < h; i++) yc[(R_xlen_t) k * h + i] = xk[i] - m;
  }
  double mean_var = mean_acov(yc, h, K, 0) * h / (h - 1.0);
  double var_plus = mean_var * (h - 1.0) / h;
  if (K > 1) {
    double gm = 0.0, ss = 0.0;
    for (int k = 0; k < K; k++) gm += cmean[k];
    gm /= K;
    for (int k = 0; k < K; k++) ss += (cmean[k] - gm) * (cmean[k] - gm);
    var_plus += ss / (K - 1.0);
  }
#define RHO(t) (1.0 - (mean_var - mean_acov(yc, h, K, (t))) / var_plus)
  memset(rh, 0, sizeof(double) * h);
  int t = 0;
  double even = 1.0, odd = RHO(1);
  rh[0] = even;
  rh[1] = odd;
  /* strongly autocorrelated draws truncate late: the FFT is cheaper */
  if (odd > 0.85 && max_lag < h) return NA_REAL;
  while (t < h - 5 && !ISNAN(even + odd) && even + odd > 0) {
    t += 2;
    if (t + 1 > max_lag) return NA_REAL;
    even = RHO(t);
    odd = RHO(t + 1);
    if (even + odd >= 0) {
      rh[t] = even;
      rh[t + 1] = odd;
    }
  }
#undef RHO
  int max_t = t;
  if (even > 0) rh[max_t] = even;
  for (t = 2; t <= max_t - 2; t += 2) { /* initial monotone sequence */
    if (rh[t] + rh[t + 1] > rh[t - 2] + rh[t - 1]) {
      rh[t] = (rh[t - 2] + rh[t - 1]) / 2;
      rh[t + 1] = rh[t];
    }
  }
  double sum = 0.0;
  if (max_t == 0) sum = rh[0]; /* R's rho[1:0] is rho[1] */
  for (int i = 0; i < max_t; i++) sum += rh[i];
  double S = (double) K * h;
  double tau = -1.0 + 2.0 * sum + rh[max_t];
  double floor_tau = 1.0 / log10(S);
  return S / (tau > floor_tau ? tau : floor_tau);
}

/* x: double array [h, K, V] of split chains (finite, non-constant
 * variables); returns the V effective sample sizes (NA: truncation beyond
 * max_lag). */
SEXP hb_ess_geyer(SEXP x, SEXP dims, SEXP max_lag) {
  hb_check_vector(dims, "dims", INTSXP, 3);
  const int h = INTEGER(dims)[0], K = INTEGER(dims)[1], V = INTEGER(dims)[2];
  if (h < 3 || K < 1 || V < 0 || h == NA_INTEGER || K == NA_INTEGER || V == NA_INTEGER)
    hb_input_error("dims", "must be (iterations >= 3, chains >= 1, variables >= 0)");
  hb_check_vector(x, "x", REALSXP, (R_xlen_t) h * K * V);
  int L = hb_scalar_int(max_lag, "max_lag", 1, 2000000000, 0);
  const double *xv = REAL(x);
  for (R_xlen_t i = 0; i < XLENGTH(x); i++)
    if (!R_FINITE(xv[i])) hb_input_error("x", "must be finite");
  double *yc = (double *) R_alloc((size_t) h * K, sizeof(double));
  double *rh = (double *) R_alloc((size_t) h + K, sizeof(double));
  SEXP out = PROTECT(Rf_allocVector(REALSXP, V));
  for (int v = 0; v < V; v++) {
    REAL(out)[v] = ess_one(xv + (R_xlen_t) v * h * K, h, K, L, yc, rh);
    if (v % 64 == 63) R_CheckUserInterrupt();
  }
  UNPROTECT(1);
  return out;
}
