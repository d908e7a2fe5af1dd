/* Pareto-smoothed importance sampling leave-one-out (PSIS-LOO; Vehtari,
 * Gelman & Gabry 2017, with the tail length of Vehtari et al. 2024): per
 * observation, the importance ratios of leaving it out are the inverse of
 * its likelihood over the draws; the largest M of them are replaced by the
 * expected order statistics of a generalized Pareto distribution fitted to
 * them (Zhang & Stephens 2009), whose shape k says how reliable the
 * estimate is. psis_loo() in R reads elpd_loo and k from here: the per-
 * observation loop was R's slowest diagnostic (seconds per thousand
 * observations). */
#include <math.h>
#include <float.h>
#include <string.h>
#include <R_ext/Utils.h>
#include "hbmmm.h"

static double log_sum_exp(const double *x, int n) {
  double m = R_NegInf, s = 0.0;
  for (int i = 0; i < n; i++)
    if (x[i] > m) m = x[i];
  if (!R_FINITE(m)) return m;
  for (int i = 0; i < n; i++) s += exp(x[i] - m);
  return m + log(s);
}

/* Generalized Pareto fit to exceedances x[0..n) > 0 in increasing order:
 * the posterior mean of theta = -k / sigma over Zhang & Stephens' grid,
 * weighted by the profile likelihood, then k from theta, shrunk towards
 * 0.5 by a weakly informative prior worth 10 observations. prof: scratch of
 * 30 + sqrt(n) doubles. */
static void gpd_fit(const double *x, int n, double *prof, double *k_out, double *sigma_out) {
  const int m = 30 + (int) floor(sqrt((double) n));
  const double xq = x[(int) floor(n / 4.0 + 0.5) - 1];
  double *theta = prof + m;
  for (int j = 0; j < m; j++) {
    double th = 1.0 / x[n - 1] + (1.0 - sqrt(m / (j + 0.5))) / 3.0 / xq, kk = 0.0;
    for (int i = 0; i < n; i++) kk += log1p(-th * x[i]);
    kk /= n;
    theta[j] = th;
    prof[j] = n * (log(-th / kk) - kk - 1.0);
  }
  double lse = log_sum_exp(prof, m), th = 0.0;
  for (int j = 0; j < m; j++) th += theta[j] * exp(prof[j] - lse);
  double k = 0.0;
  for (int i = 0; i < n; i++) k += log1p(-th * x[i]);
  k /= n;
  *sigma_out = -k / th;
  k = (k * n + 10.0 * 0.5) / (n + 10.0);
  *k_out = ISNAN(k) ? R_PosInf : k;
}

/* One observation: lr (S log ratios, overwritten by the smoothed log
 * weights), r_eff; returns k. idx, tail, prof: scratch. */
static double psis_smooth(double *lr, int S, double r_eff, int *idx, double *tail, double *prof) {
  double top = R_NegInf;
  for (int s = 0; s < S; s++)
    if (lr[s] > top) top = lr[s];
  for (int s = 0; s < S; s++) lr[s] -= top;
  double k = R_PosInf;
  int M = (int) ceil(fmin(0.2 * S, 3.0 * sqrt(S / r_eff)));
  if (M >= 5 && M < S) {
    /* the M largest ratios and the next one (the cutoff): a partial sort
     * finds the cutoff, then the M above it are sorted with their indices
     * (ties at the cutoff: the later draws, as a stable sort puts them) */
    double *tl = tail + M, *work = tl + M;
    memcpy(work, lr, sizeof(double) * S);
    rPsort(work, S, S - M - 1);
    const double cutv = work[S - M - 1];
    int c = 0;
    for (int s = 0; s < S; s++)
      if (lr[s] > cutv) idx[c++] = s;
    for (int s = S - 1; s >= 0 && c < M; s--)
      if (lr[s] == cutv) idx[c++] = s;
    for (int j = 0; j < M; j++) tl[j] = lr[idx[j]];
    rsort_with_index(tl, idx, M);
    if (tl[M - 1] - tl[0] >= DBL_EPSILON / 100.0) {
      double cut = exp(cutv), sigma;
      for (int j = 0; j < M; j++) tail[j] = exp(tl[j]) - cut;
      gpd_fit(tail, M, prof, &k, &sigma);
      if (R_FINITE(k)) {
        for (int j = 0; j < M; j++) {
          double p = (j + 0.5) / M;
          double q = ISNAN(sigma) || sigma <= 0.0 ? R_NaN : sigma * expm1(-k * log1p(-p)) / k;
          lr[idx[j]] = log(q + cut);
        }
      }
    }
  }
  for (int s = 0; s < S; s++) {
    if (lr[s] > 0.0) lr[s] = 0.0;
    lr[s] += top;
  }
  return k;
}

/* ll: S x n log-likelihood matrix; r_eff: n relative efficiencies.
 * list(elpd = elpd_loo, k = Pareto shape, lpd = log mean likelihood) per
 * observation */
SEXP hb_psis_loo(SEXP ll, SEXP r_eff) {
  if (!Rf_isReal(ll) || !Rf_isMatrix(ll)) hb_input_error("x", "must be a numeric matrix of log-likelihood draws");
  SEXP dim = Rf_getAttrib(ll, R_DimSymbol);
  const int S = INTEGER(dim)[0], n = INTEGER(dim)[1];
  if (S < 2) hb_input_error("x", "needs at least 2 draws; found %d", S);
  hb_check_vector(r_eff, "r_eff", REALSXP, n);
  const double *re = REAL(r_eff), *L = REAL(ll);
  for (int i = 0; i < n; i++)
    if (!(re[i] > 0.0) || !R_FINITE(re[i])) hb_input_error("r_eff", "must be positive and finite; element %d is %g", i + 1, re[i]);
  for (R_xlen_t a = 0; a < (R_xlen_t) S * n; a++)
    if (ISNAN(L[a]) || L[a] == R_PosInf) hb_input_error("x", "log-likelihood draws must not be NaN or +Inf");
  double *lw = (double *) R_alloc((size_t) S, sizeof(double));
  double *tail = (double *) R_alloc((size_t) 3 * S + 1, sizeof(double));
  double *prof = (double *) R_alloc((size_t) 2 * (31 + (int) sqrt((double) S)) + 2, sizeof(double));
  int *idx = (int *) R_alloc((size_t) S, sizeof(int));
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 3));
  SEXP elpd = PROTECT(Rf_allocVector(REALSXP, n)), kk = PROTECT(Rf_allocVector(REALSXP, n));
  SEXP lpd = PROTECT(Rf_allocVector(REALSXP, n));
  for (int i = 0; i < n; i++) {
    const double *li = L + (R_xlen_t) S * i;
    REAL(lpd)[i] = log_sum_exp(li, S) - log((double) S);
    for (int s = 0; s < S; s++) lw[s] = -li[s];
    REAL(kk)[i] = psis_smooth(lw, S, re[i], idx, tail, prof);
    double z = log_sum_exp(lw, S);
    for (int s = 0; s < S; s++) lw[s] += li[s] - z;
    REAL(elpd)[i] = log_sum_exp(lw, S);
    if (i % 256 == 0) R_CheckUserInterrupt();
  }
  SET_VECTOR_ELT(out, 0, elpd);
  SET_VECTOR_ELT(out, 1, kk);
  SET_VECTOR_ELT(out, 2, lpd);
  static const char *names[3] = {"elpd", "k", "lpd"};
  hb_set_names(out, 3, names);
  UNPROTECT(4);
  return out;
}
