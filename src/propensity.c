/* Logistic regression by iteratively reweighted least squares, for
 * propensity scores.
 *
 * Each iteration solves the weighted least-squares problem
 *   min || sqrt(W) (z - X beta) ||,  W = w mu (1 - mu),  z = eta + (y - mu) / (mu (1 - mu))
 * by a Householder QR of sqrt(W) X (LAPACK dgeqrf/dormqr/dtrtrs), which keeps
 * the accuracy of glm()'s QR-based fit on badly scaled covariates. Starting
 * values are glm()'s (mu = (w y + 0.5) / (w + 1)). Iterations stop when the
 * relative change in deviance is below `tol` AND the largest coefficient
 * change is below sqrt(tol) times its scale, or after `maxit` iterations. A
 * step that increases the deviance is halved (at most 30 times).
 *
 * The covariance of the coefficients is (X' W X)^{-1} = (R' R)^{-1} at the
 * final weights (dpotri on the QR factor R). */
#define USE_FC_LEN_T
#include <float.h>
#include <string.h>
#include <math.h>
#include <R_ext/BLAS.h>
#include <R_ext/Lapack.h>
#include "hbmmm.h"
#ifndef FCONE
# define FCONE
#endif

/* glm()'s binomial inverse link, clamped like stats:::logit_linkinv */
static double inv_logit(double eta) {
  const double thresh = 30.0, mthresh = -30.0;
  if (eta < mthresh) return DBL_EPSILON / (1.0 + DBL_EPSILON);
  if (eta > thresh) return 1.0 / (1.0 + DBL_EPSILON);
  return 1.0 / (1.0 + exp(-eta));
}

static double deviance(const double *y, const double *w, const double *mu, R_xlen_t n) {
  double d = 0.0;
  for (R_xlen_t i = 0; i < n; i++) {
    if (w[i] == 0.0) continue;
    double a = y[i] > 0.0 ? y[i] * log(y[i] / mu[i]) : 0.0;
    double b = y[i] < 1.0 ? (1.0 - y[i]) * log((1.0 - y[i]) / (1.0 - mu[i])) : 0.0;
    d += 2.0 * w[i] * (a + b);
  }
  return d;
}

/* eta = X beta */
static void lin_pred(const double *X, R_xlen_t n, int p, const double *beta, double *eta) {
  for (R_xlen_t i = 0; i < n; i++) eta[i] = 0.0;
  for (int j = 0; j < p; j++) {
    const double *xj = X + (size_t) j * n;
    double b = beta[j];
    if (b != 0.0) for (R_xlen_t i = 0; i < n; i++) eta[i] += b * xj[i];
  }
}

/* One weighted least-squares solve. A (n x p) gets sqrt(W) X and is
 * overwritten by the QR factors; b (n) gets sqrt(W) z, its first p entries
 * return the solution. Returns 0, or the column (1-based) whose pivot is
 * negligible (collinear design). */
static int wls_qr(double *A, double *b, int n, int p, double *tau, double *work, int lwork) {
  int info = 0, one = 1;
  F77_CALL(dgeqrf)(&n, &p, A, &n, tau, work, &lwork, &info);
  if (info != 0) return 1;
  double rmax = 0.0;
  for (int j = 0; j < p; j++) rmax = fmax(rmax, fabs(A[j + (size_t) j * n]));
  for (int j = 0; j < p; j++) {
    double r = fabs(A[j + (size_t) j * n]);
    if (!(r > 1e-10 * rmax) || !R_FINITE(r)) return j + 1;
  }
  F77_CALL(dormqr)("L", "T", &n, &one, &p, A, &n, tau, b, &n, work, &lwork, &info FCONE FCONE);
  if (info != 0) return 1;
  F77_CALL(dtrtrs)("U", "N", "N", &p, &one, A, &n, b, &n, &info FCONE FCONE FCONE);
  return info != 0 ? (info > 0 ? info : 1) : 0;
}

static void fill_working(const double *X, const double *y, const double *w, const double *eta,
                         const double *mu, int n, int p, double *A, double *b) {
  for (int i = 0; i < n; i++) {
    double v = mu[i] * (1.0 - mu[i]);
    double sw = sqrt(w[i] * v);
    b[i] = sw * (eta[i] + (y[i] - mu[i]) / v);
  }
  for (int j = 0; j < p; j++) {
    const double *xj = X + (size_t) j * n;
    double *aj = A + (size_t) j * n;
    for (int i = 0; i < n; i++) aj[i] = sqrt(w[i] * mu[i] * (1.0 - mu[i])) * xj[i];
  }
}

/* .Call entry: X (n x p double matrix), y (0/1 doubles), w (non-negative
 * prior weights), maxit, tol. Returns list(coefficients, cov, eta, mu,
 * deviance, iter, converged, boundary, collinear). */
SEXP hb_logit_irls(SEXP X, SEXP y, SEXP w, SEXP maxit, SEXP tol) {
  if (TYPEOF(X) != REALSXP || !Rf_isMatrix(X))
    hb_input_error("X", "must be a double matrix; found type '%s'", Rf_type2char(TYPEOF(X)));
  SEXP dim = Rf_getAttrib(X, R_DimSymbol);
  int n = INTEGER(dim)[0], p = INTEGER(dim)[1];
  if (n < 1 || p < 1) hb_input_error("X", "must have at least one row and one column; found %d x %d", n, p);
  if (p > n) hb_input_error("X", "has more columns (%d) than rows (%d)", p, n);
  hb_check_vector(y, "y", REALSXP, n);
  hb_check_vector(w, "w", REALSXP, n);
  int mx = hb_scalar_int(maxit, "maxit", 1, 100000, 0);
  if (TYPEOF(tol) != REALSXP || XLENGTH(tol) != 1 || !(REAL(tol)[0] > 0.0) || !R_FINITE(REAL(tol)[0]))
    hb_input_error("tol", "must be one positive, finite number");
  double eps = REAL(tol)[0];
  const double *x = REAL(X), *yy = REAL(y), *ww = REAL(w);
  for (R_xlen_t k = 0; k < (R_xlen_t) n * p; k++)
    if (!R_FINITE(x[k])) hb_input_error("X", "must be finite; found a non-finite value in row %d", (int) (k % n) + 1);
  for (int i = 0; i < n; i++) {
    if (!(yy[i] == 0.0 || yy[i] == 1.0)) hb_input_error("y", "must be 0 or 1; found %g in row %d", yy[i], i + 1);
    if (!(ww[i] >= 0.0) || !R_FINITE(ww[i])) hb_input_error("w", "must be non-negative and finite (row %d)", i + 1);
  }

  double *eta = (double *) R_alloc(n, sizeof(double));
  double *mu = (double *) R_alloc(n, sizeof(double));
  double *A = (double *) R_alloc((size_t) n * p, sizeof(double));
  double *b = (double *) R_alloc(n, sizeof(double));
  double *beta = (double *) R_alloc(p, sizeof(double));
  double *bnew = (double *) R_alloc(p, sizeof(double));
  double *tau = (double *) R_alloc(p, sizeof(double));
  double *etan = (double *) R_alloc(n, sizeof(double));
  double *mun = (double *) R_alloc(n, sizeof(double));
  int lwork = -1, info = 0;
  double wq;
  F77_CALL(dgeqrf)(&n, &p, A, &n, tau, &wq, &lwork, &info);
  lwork = (int) wq;
  int one = 1;
  double wq2;
  int lw2 = -1;
  F77_CALL(dormqr)("L", "T", &n, &one, &p, A, &n, tau, b, &n, &wq2, &lw2, &info FCONE FCONE);
  if ((int) wq2 > lwork) lwork = (int) wq2;
  if (lwork < p) lwork = p;
  double *work = (double *) R_alloc(lwork, sizeof(double));

  /* glm()'s start: mu = (w y + 0.5) / (w + 1) */
  for (int i = 0; i < n; i++) {
    mu[i] = (ww[i] * yy[i] + 0.5) / (ww[i] + 1.0);
    eta[i] = log(mu[i] / (1.0 - mu[i]));
  }
  double dev = deviance(yy, ww, mu, n);
  int converged = 0, iter = 0, collinear = 0;
  memset(beta, 0, (size_t) p * sizeof(double));
  for (iter = 1; iter <= mx; iter++) {
    if (iter % 16 == 0) R_CheckUserInterrupt();
    fill_working(x, yy, ww, eta, mu, n, p, A, b);
    int bad = wls_qr(A, b, n, p, tau, work, lwork);
    if (bad) { collinear = bad; break; }
    memcpy(bnew, b, (size_t) p * sizeof(double));
    double devn = 0.0;
    for (int half = 0; half <= 30; half++) {
      lin_pred(x, n, p, bnew, etan);
      for (int i = 0; i < n; i++) mun[i] = inv_logit(etan[i]);
      devn = deviance(yy, ww, mun, n);
      if (iter == 1 || !R_FINITE(dev) || devn <= dev * (1.0 + 1e-12) + 1e-12) break;
      for (int j = 0; j < p; j++) bnew[j] = 0.5 * (bnew[j] + beta[j]);
    }
    double dmax = 0.0, bscale = 0.0;
    for (int j = 0; j < p; j++) {
      dmax = fmax(dmax, fabs(bnew[j] - beta[j]));
      bscale = fmax(bscale, fabs(bnew[j]));
    }
    double rel = fabs(devn - dev) / (fabs(devn) + 0.1);
    memcpy(beta, bnew, (size_t) p * sizeof(double));
    memcpy(eta, etan, (size_t) n * sizeof(double));
    memcpy(mu, mun, (size_t) n * sizeof(double));
    dev = devn;
    if (iter > 1 && rel < eps && dmax <= sqrt(eps) * (bscale + 1e-3)) { converged = 1; break; }
  }
  if (iter > mx) iter = mx;

  /* covariance at the final fit */
  SEXP cov = PROTECT(Rf_allocMatrix(REALSXP, p, p));
  double *cv = REAL(cov);
  for (int k = 0; k < p * p; k++) cv[k] = NA_REAL;
  if (!collinear) {
    fill_working(x, yy, ww, eta, mu, n, p, A, b);
    int bad = wls_qr(A, b, n, p, tau, work, lwork);
    if (!bad) {
      for (int j = 0; j < p; j++)
        for (int i = 0; i < p; i++) cv[i + j * p] = i <= j ? A[i + (size_t) j * n] : 0.0;
      F77_CALL(dpotri)("U", &p, cv, &p, &info FCONE);
      if (info != 0) for (int k = 0; k < p * p; k++) cv[k] = NA_REAL;
      else for (int j = 0; j < p; j++) for (int i = j + 1; i < p; i++) cv[i + j * p] = cv[j + i * p];
    } else collinear = bad;
  }
  int boundary = 0;
  for (int i = 0; i < n; i++) {
    if (ww[i] > 0.0 && (mu[i] < 10.0 * DBL_EPSILON || mu[i] > 1.0 - 10.0 * DBL_EPSILON)) { boundary = 1; break; }
  }

  SEXP coef = PROTECT(Rf_allocVector(REALSXP, p));
  memcpy(REAL(coef), beta, (size_t) p * sizeof(double));
  SEXP eta_s = PROTECT(Rf_allocVector(REALSXP, n));
  SEXP mu_s = PROTECT(Rf_allocVector(REALSXP, n));
  memcpy(REAL(eta_s), eta, (size_t) n * sizeof(double));
  memcpy(REAL(mu_s), mu, (size_t) n * sizeof(double));
  const char *nms[] = {"coefficients", "cov", "eta", "mu", "deviance", "iter", "converged",
                       "boundary", "collinear", ""};
  SEXP out = PROTECT(Rf_mkNamed(VECSXP, nms));
  SET_VECTOR_ELT(out, 0, coef);
  SET_VECTOR_ELT(out, 1, cov);
  SET_VECTOR_ELT(out, 2, eta_s);
  SET_VECTOR_ELT(out, 3, mu_s);
  SET_VECTOR_ELT(out, 4, Rf_ScalarReal(dev));
  SET_VECTOR_ELT(out, 5, Rf_ScalarInteger(iter));
  SET_VECTOR_ELT(out, 6, Rf_ScalarLogical(converged));
  SET_VECTOR_ELT(out, 7, Rf_ScalarLogical(boundary));
  SET_VECTOR_ELT(out, 8, Rf_ScalarInteger(collinear));
  UNPROTECT(5);
  return out;
}

/* .Call entry: balancing weights from propensity scores. estimand: 1 ATE,
 * 2 ATT, 3 ATC, 4 ATO (overlap); stabilize (ATE only) multiplies by the
 * share of the unit's group; trim (NA for none) in (0, 0.5) zeroes the
 * weights of units with scores outside [trim, 1 - trim]. */
SEXP hb_ps_weights(SEXP score, SEXP treat, SEXP estimand, SEXP stabilize, SEXP trim) {
  if (TYPEOF(score) != REALSXP) hb_input_error("score", "must be a double vector; found type '%s'", Rf_type2char(TYPEOF(score)));
  R_xlen_t n = XLENGTH(score);
  hb_check_vector(treat, "treat", INTSXP, n);
  int est = hb_scalar_int(estimand, "estimand", 1, 4, 0);
  int stab = hb_scalar_flag(stabilize, "stabilize");
  if (TYPEOF(trim) != REALSXP || XLENGTH(trim) != 1) hb_input_error("trim", "must be one double (NA for none)");
  double a = REAL(trim)[0];
  int use_trim = !ISNAN(a);
  if (use_trim && !(a > 0.0 && a < 0.5)) hb_input_error("trim", "must be in (0, 0.5) or NA");
  const double *e = REAL(score);
  const int *t = INTEGER(treat);
  double n1 = 0.0;
  for (R_xlen_t i = 0; i < n; i++) {
    if (t[i] != 0 && t[i] != 1) hb_input_error("treat", "must be 0 or 1; found %d at %.0f", t[i], (double) i + 1);
    if (!(e[i] > 0.0 && e[i] < 1.0)) hb_input_error("score", "must be in (0, 1); found a value outside at %.0f", (double) i + 1);
    n1 += t[i];
  }
  double p1 = n > 0 ? n1 / (double) n : 0.0;
  SEXP out = PROTECT(Rf_allocVector(REALSXP, n));
  double *w = REAL(out);
  for (R_xlen_t i = 0; i < n; i++) {
    double ei = e[i];
    int ti = t[i];
    double wi;
    switch (est) {
    case 1: wi = ti ? 1.0 / ei : 1.0 / (1.0 - ei); if (stab) wi *= ti ? p1 : 1.0 - p1; break;
    case 2: wi = ti ? 1.0 : ei / (1.0 - ei); break;
    case 3: wi = ti ? (1.0 - ei) / ei : 1.0; break;
    default: wi = ti ? 1.0 - ei : ei; break;
    }
    if (use_trim && (ei < a || ei > 1.0 - a)) wi = 0.0;
    w[i] = wi;
  }
  UNPROTECT(1);
  return out;
}
