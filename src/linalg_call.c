/* Test-only .Call hooks over the kernels of linalg.c, rng.c and online.c. They are
 * called from tests/testthat/test-linalg.R through the internal wrappers of
 * R/linalg-test-hooks.R, and check every argument like any entry point:
 * whatever is passed, the result is a value or a classed hbmmm_input_error. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "hbmmm.h"

#define HB_TEST_MAX_DRAWS 10000000
#define HB_TEST_MAX_PROBS 1000

/* d x d scratch copy of a REALSXP matrix */
static double *copy_matrix(const double *A, int d) {
  double *B = (double *) R_alloc((size_t) d * d, sizeof(double));
  memcpy(B, A, (size_t) d * d * sizeof(double));
  return B;
}

/* A double matrix (dim attribute of length 2) with finite entries; returns its
 * dimensions in nr, nc. */
static void finite_matrix(SEXP A, const char *arg, int *nr, int *nc) {
  hb_check_vector(A, arg, REALSXP, -1);
  SEXP dim = Rf_getAttrib(A, R_DimSymbol);
  if (TYPEOF(dim) != INTSXP || LENGTH(dim) != 2)
    hb_input_error(arg, "must be a numeric matrix; found %s",
                   Rf_isNull(dim) ? "a vector without dimensions"
                                  : "an array that is not two-dimensional");
  *nr = INTEGER(dim)[0];
  *nc = INTEGER(dim)[1];
  const double *a = REAL(A);
  char num[32];
  for (int j = 0; j < *nc; j++)
    for (int i = 0; i < *nr; i++) {
      double v = a[i + (size_t) j * *nr];
      if (!R_FINITE(v))
        hb_input_error(arg, "must have finite entries; found %s at row %d, column %d",
                       hb_fmt_num(v, num, sizeof num), i + 1, j + 1);
    }
}

/* A symmetric, square, non-empty double matrix with finite entries; returns d.
 * Symmetry is checked up to 1e-10 times the largest absolute entry. */
static int symmetric_matrix(SEXP A, const char *arg) {
  int nr, nc;
  finite_matrix(A, arg, &nr, &nc);
  if (nr != nc)
    hb_input_error(arg, "must be a square matrix; found %d x %d", nr, nc);
  if (nr < 1) hb_input_error(arg, "must have at least one row; found 0 x 0");
  int d = nr;
  const double *a = REAL(A);
  double amax = 0.0;
  for (size_t k = 0; k < (size_t) d * d; k++)
    if (fabs(a[k]) > amax) amax = fabs(a[k]);
  char n1[32], n2[32];
  for (int j = 0; j < d; j++)
    for (int i = j + 1; i < d; i++) {
      double lo = a[i + (size_t) j * d], up = a[j + (size_t) i * d];
      if (fabs(lo - up) > 1e-10 * amax)
        hb_input_error(arg, "must be symmetric; found [%d, %d] = %s but [%d, %d] = %s",
                       i + 1, j + 1, hb_fmt_num(lo, n1, sizeof n1),
                       j + 1, i + 1, hb_fmt_num(up, n2, sizeof n2));
    }
  return d;
}

static void require_pd(const double *A, int d, const char *arg) {
  const void *vmax = vmaxget();
  int info = hb_chol(copy_matrix(A, d), d);
  vmaxset(vmax);
  if (info)
    hb_input_error(arg, "must be positive definite; the Cholesky factorization fails at column %d",
                   info);
}

static SEXP alloc_matrix(int nr, int nc) {
  return Rf_allocMatrix(REALSXP, nr, nc);
}

/* A positive finite scalar (double or integer) */
static double positive_number(SEXP x, const char *arg) {
  if ((TYPEOF(x) != REALSXP && TYPEOF(x) != INTSXP) || XLENGTH(x) != 1)
    hb_input_error(arg, "must be a single number; found type '%s' of length %.0f",
                   Rf_type2char(TYPEOF(x)), (double) Rf_xlength(x));
  double v = Rf_asReal(x);
  char num[32];
  if (!(R_FINITE(v) && v > 0.0))
    hb_input_error(arg, "must be a finite positive number; found %s",
                   hb_fmt_num(v, num, sizeof num));
  return v;
}

/* list(info, L, logdet, solve, inverse, fwd, bwd): L the lower Cholesky
 * factor (upper triangle zero); solve = (L L')^{-1} by hb_chol_solve on the
 * columns of I; inverse by hb_chol_inverse; fwd = L^{-1} by hb_trsv_lower;
 * bwd = L'^{-1} by hb_trsv_lower_t. When A is not positive definite, info is
 * the failing column and the other elements are NULL. */
SEXP hb_test_chol(SEXP A) {
  int d = symmetric_matrix(A, "A");
  const char *names[] = {"info", "L", "logdet", "solve", "inverse", "fwd", "bwd", ""};
  SEXP res = PROTECT(Rf_mkNamed(VECSXP, names));
  double *L = copy_matrix(REAL(A), d);
  int info = hb_chol(L, d);
  SET_VECTOR_ELT(res, 0, Rf_ScalarInteger(info));
  if (info) {
    UNPROTECT(1);
    return res;
  }
  size_t dd = (size_t) d * d;
  SEXP Ls = PROTECT(alloc_matrix(d, d));
  memcpy(REAL(Ls), L, dd * sizeof(double));
  SET_VECTOR_ELT(res, 1, Ls);
  SET_VECTOR_ELT(res, 2, Rf_ScalarReal(hb_log_det_chol(L, d)));
  SEXP out[3];
  for (int r = 0; r < 3; r++) {
    out[r] = PROTECT(alloc_matrix(d, d));
    double *o = REAL(out[r]);
    memset(o, 0, dd * sizeof(double));
    for (int j = 0; j < d; j++) {
      double *col = o + (size_t) j * d;
      col[j] = 1.0;
      if (r == 0) hb_chol_solve(L, d, col);
      else if (r == 1) hb_trsv_lower(L, d, col);
      else hb_trsv_lower_t(L, d, col);
    }
  }
  SEXP inv = PROTECT(alloc_matrix(d, d));
  hb_chol_inverse(L, d, REAL(inv));
  SET_VECTOR_ELT(res, 3, out[0]);
  SET_VECTOR_ELT(res, 4, inv);
  SET_VECTOR_ELT(res, 5, out[1]);
  SET_VECTOR_ELT(res, 6, out[2]);
  UNPROTECT(6);
  return res;
}

/* n_draws x d matrix of draws from N(P^{-1} b, P^{-1}) by
 * hb_mvn_precision_draw, with attributes "mean" (hb_mvn_precision_mean) and
 * "mean_work" (the mean the first draw left in its work vector; NA when
 * n_draws = 0). */
SEXP hb_test_mvn_precision(SEXP P, SEXP b, SEXP n_draws) {
  int d = symmetric_matrix(P, "P");
  hb_check_vector(b, "b", REALSXP, d);
  char num[32];
  for (int i = 0; i < d; i++)
    if (!R_FINITE(REAL(b)[i]))
      hb_input_error("b", "must be finite; found %s at element %d",
                     hb_fmt_num(REAL(b)[i], num, sizeof num), i + 1);
  int n = hb_scalar_int(n_draws, "n_draws", 0, HB_TEST_MAX_DRAWS, 0);
  require_pd(REAL(P), d, "P");

  SEXP res = PROTECT(alloc_matrix(n, d));
  SEXP mean = PROTECT(Rf_allocVector(REALSXP, d));
  SEXP mean_work = PROTECT(Rf_allocVector(REALSXP, d));
  double *Pw = copy_matrix(REAL(P), d);
  hb_mvn_precision_mean(Pw, REAL(b), d, REAL(mean));
  for (int i = 0; i < d; i++) REAL(mean_work)[i] = NA_REAL;

  double *draw = (double *) R_alloc((size_t) d, sizeof(double));
  double *o = REAL(res);
  GetRNGstate();
  for (int r = 0; r < n; r++) {
    memcpy(Pw, REAL(P), (size_t) d * d * sizeof(double));
    hb_mvn_precision_draw(NULL, Pw, REAL(b), d, draw, r == 0 ? REAL(mean_work) : NULL);
    for (int j = 0; j < d; j++) o[r + (size_t) j * n] = draw[j];
    if ((r & 1023) == 1023) R_CheckUserInterrupt();
  }
  PutRNGstate();
  Rf_setAttrib(res, Rf_install("mean"), mean);
  Rf_setAttrib(res, Rf_install("mean_work"), mean_work);
  UNPROTECT(3);
  return res;
}

/* d x d x n_draws array of draws from InvWishart(df, S) by
 * hb_inv_wishart_draw (parametrization documented there), with attributes
 * "chol" (the d x d Cholesky factor the last draw left in its workspace) and
 * "sd", "cor" (hb_cov_to_sd_cor of the last draw); NA when n_draws = 0. */
SEXP hb_test_inv_wishart(SEXP df, SEXP S, SEXP n_draws) {
  int d = symmetric_matrix(S, "S");
  double v = positive_number(df, "df");
  char num[32];
  if (!(v > d - 1.0))
    hb_input_error("df", "must be a finite number greater than nrow(S) - 1 = %d; found %s",
                   d - 1, hb_fmt_num(v, num, sizeof num));
  int n = hb_scalar_int(n_draws, "n_draws", 0, HB_TEST_MAX_DRAWS, 0);
  require_pd(REAL(S), d, "S");
  size_t dd = (size_t) d * d;
  if ((double) dd * n > (double) R_XLEN_T_MAX)
    hb_input_error("n_draws", "is too large for a %d x %d x %d array", d, d, n);

  SEXP res = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t) (dd * n)));
  SEXP dim = PROTECT(Rf_allocVector(INTSXP, 3));
  INTEGER(dim)[0] = d;
  INTEGER(dim)[1] = d;
  INTEGER(dim)[2] = n;
  Rf_setAttrib(res, R_DimSymbol, dim);
  SEXP chol = PROTECT(alloc_matrix(d, d));
  double *ch = REAL(chol);
  for (size_t k = 0; k < dd; k++) ch[k] = NA_REAL;
  double *work = (double *) R_alloc(2 * dd, sizeof(double));
  int status = 0;
  GetRNGstate();
  for (int r = 0; r < n && !status; r++) {
    status = hb_inv_wishart_draw(NULL, v, REAL(S), d, REAL(res) + dd * r, work);
    if ((r & 1023) == 1023) R_CheckUserInterrupt();
  }
  PutRNGstate();
  if (status)
    hb_input_error("df", "is too close to nrow(S) - 1 = %d: a chi-square draw underflowed to 0",
                   d - 1);
  SEXP sd = PROTECT(Rf_allocVector(REALSXP, d));
  SEXP cor = PROTECT(alloc_matrix(d, d));
  if (n > 0) {
    memcpy(ch, work, dd * sizeof(double));
    hb_cov_to_sd_cor(REAL(res) + dd * (n - 1), d, REAL(sd), REAL(cor));
  } else {
    for (int i = 0; i < d; i++) REAL(sd)[i] = NA_REAL;
    for (size_t k = 0; k < dd; k++) REAL(cor)[k] = NA_REAL;
  }
  Rf_setAttrib(res, Rf_install("chol"), chol);
  Rf_setAttrib(res, Rf_install("sd"), sd);
  Rf_setAttrib(res, Rf_install("cor"), cor);
  UNPROTECT(5);
  return res;
}

/* n_draws draws of hb_inv_gamma_draw(shape, scale) on R's stream */
SEXP hb_test_inv_gamma(SEXP shape, SEXP scale, SEXP n_draws) {
  double a = positive_number(shape, "shape"), s = positive_number(scale, "scale");
  int n = hb_scalar_int(n_draws, "n_draws", 0, HB_TEST_MAX_DRAWS, 0);
  SEXP res = PROTECT(Rf_allocVector(REALSXP, n));
  GetRNGstate();
  for (int r = 0; r < n; r++) REAL(res)[r] = hb_inv_gamma_draw(NULL, a, s);
  PutRNGstate();
  UNPROTECT(1);
  return res;
}

/* n_draws draws of one distribution of rng.c: dist "unif", "norm", "exp",
 * "gamma" (par = c(shape, scale)) or "chisq" (par = df), from the
 * generator seeded with seed (4 whole numbers in [0, 2^32), hb_rng_seed), or
 * with seed NULL from R's stream as a Gibbs chain seeds it. */
SEXP hb_test_rng(SEXP seed, SEXP dist, SEXP par, SEXP n_draws) {
  static const char *dists[] = {"unif", "norm", "exp", "gamma", "chisq"};
  if (TYPEOF(dist) != STRSXP || XLENGTH(dist) != 1 || STRING_ELT(dist, 0) == NA_STRING)
    hb_input_error("dist", "must be a single string");
  int which = -1;
  for (int k = 0; k < 5; k++)
    if (strcmp(CHAR(STRING_ELT(dist, 0)), dists[k]) == 0) which = k;
  if (which < 0)
    hb_input_error("dist", "must be one of \"unif\", \"norm\", \"exp\", \"gamma\", \"chisq\"; found \"%s\"",
                   CHAR(STRING_ELT(dist, 0)));
  int npar = which == 3 ? 2 : which == 4 ? 1 : 0;
  if (npar) hb_check_vector(par, "par", REALSXP, npar);
  char num[32];
  for (int k = 0; k < npar; k++)
    if (!(R_FINITE(REAL(par)[k]) && REAL(par)[k] > 0.0))
      hb_input_error("par", "must hold finite positive numbers; found %s", hb_fmt_num(REAL(par)[k], num, sizeof num));
  int n = hb_scalar_int(n_draws, "n_draws", 0, HB_TEST_MAX_DRAWS, 0);
  hb_rng rng;
  if (!Rf_isNull(seed)) {
    hb_check_vector(seed, "seed", REALSXP, 4);
    uint32_t w[4];
    for (int k = 0; k < 4; k++) {
      double v = REAL(seed)[k];
      if (!(v >= 0.0 && v < 4294967296.0 && v == floor(v)))
        hb_input_error("seed", "must hold whole numbers in [0, 2^32); found %s", hb_fmt_num(v, num, sizeof num));
      w[k] = (uint32_t) v;
    }
    hb_rng_seed(&rng, w);
  } else {
    GetRNGstate();
    hb_rng_seed_from_r(&rng);
    PutRNGstate();
  }
  SEXP res = PROTECT(Rf_allocVector(REALSXP, n));
  double *o = REAL(res);
  for (int r = 0; r < n; r++) {
    switch (which) {
    case 0: o[r] = hb_rng_unif(&rng); break;
    case 1: o[r] = hb_rng_norm(&rng); break;
    case 2: o[r] = hb_rng_exp(&rng); break;
    case 3: o[r] = hb_rng_gamma(&rng, REAL(par)[0], REAL(par)[1]); break;
    default: o[r] = hb_rng_chisq(&rng, REAL(par)[0]); break;
    }
    if ((r & 65535) == 65535) R_CheckUserInterrupt();
  }
  UNPROTECT(1);
  return res;
}

/* Streams the rows of x (draws x parameters) through the Welford and
 * P-square accumulators: list(n, mean, sd, quantiles), quantiles an
 * ncol(x) x length(probs) matrix. */
SEXP hb_test_online(SEXP x, SEXP probs) {
  int n, m;
  finite_matrix(x, "x", &n, &m);
  hb_check_vector(probs, "probs", REALSXP, -1);
  R_xlen_t K = XLENGTH(probs);
  if (K < 1 || K > HB_TEST_MAX_PROBS)
    hb_input_error("probs", "must have length in [1, %d]; found length %.0f",
                   HB_TEST_MAX_PROBS, (double) K);
  const double *p = REAL(probs);
  char num[32];
  for (R_xlen_t k = 0; k < K; k++)
    if (!(p[k] > 0.0 && p[k] < 1.0))
      hb_input_error("probs", "must lie strictly between 0 and 1; found %s at element %.0f",
                     hb_fmt_num(p[k], num, sizeof num), (double) k + 1);

  size_t nb = (size_t) m * K;
  double *mean = (double *) R_alloc((size_t) m + 1, sizeof(double));
  double *m2 = (double *) R_alloc((size_t) m + 1, sizeof(double));
  double *q = (double *) R_alloc(5 * nb + 1, sizeof(double));
  int *pos = (int *) R_alloc(3 * nb + 1, sizeof(int));
  double *row = (double *) R_alloc((size_t) m + 1, sizeof(double));
  hb_moments_t mo;
  hb_psquare_t ps;
  hb_moments_init(&mo, m, mean, m2);
  hb_psquare_init(&ps, m, (int) K, p, q, pos);
  const double *xx = REAL(x);
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < m; j++) row[j] = xx[i + (size_t) j * n];
    hb_moments_update(&mo, row);
    hb_psquare_update(&ps, row);
    if ((i & 1023) == 1023) R_CheckUserInterrupt();
  }

  const char *names[] = {"n", "mean", "sd", "quantiles", ""};
  SEXP res = PROTECT(Rf_mkNamed(VECSXP, names));
  SET_VECTOR_ELT(res, 0, Rf_ScalarInteger(n));
  SEXP mo_mean = PROTECT(Rf_allocVector(REALSXP, m));
  SEXP mo_sd = PROTECT(Rf_allocVector(REALSXP, m));
  SEXP qs = PROTECT(alloc_matrix(m, (int) K));
  hb_moments_finalize(&mo, REAL(mo_mean), REAL(mo_sd));
  hb_psquare_result(&ps, REAL(qs));
  SET_VECTOR_ELT(res, 1, mo_mean);
  SET_VECTOR_ELT(res, 2, mo_sd);
  SET_VECTOR_ELT(res, 3, qs);
  UNPROTECT(4);
  return res;
}

/* The batched level kernels of linalg_lanes.c over G levels, called on the
 * ranges [0, split) and [split, G) and summed: H (q x qG) holds the levels'
 * H_l side by side, B (q x G) their b_l, W (q x mG) their W_l. Returns
 * list(marginal, schur, logdet): sum_l (b_l' M_l^-1 b_l - log|M_l|) / 2,
 * sum_l W_l' M_l^-1 W_l (m x m) and sum_l log|M_l| with M_l = Sinv + H_l;
 * NA and NULL when some M_l is not positive definite. */
SEXP hb_test_lanes(SEXP Sinv, SEXP H, SEXP B, SEXP W, SEXP split) {
  const int q = symmetric_matrix(Sinv, "Sinv");
  if (q > HB_LANE_QMAX) hb_input_error("Sinv", "must have at most %d rows; found %d", HB_LANE_QMAX, q);
  int nr, nc, G, m;
  finite_matrix(B, "B", &nr, &G);
  if (nr != q || G < 1) hb_input_error("B", "must be %d x G with G >= 1; found %d x %d", q, nr, G);
  finite_matrix(H, "H", &nr, &nc);
  /* q G in 64 bits: with more than 2^31 / q levels it leaves int */
  if (nr != q || (int64_t) nc != (int64_t) q * G)
    hb_input_error("H", "must be %d x %.0f; found %d x %d", q, (double) q * G, nr, nc);
  finite_matrix(W, "W", &nr, &nc);
  if (nr != q || nc % G != 0 || nc / G < 1 || nc / G > HB_LANE_MMAX)
    hb_input_error("W", "must be %d x (m G) with 1 <= m <= %d and G = %d; found %d x %d", q, HB_LANE_MMAX, G, nr,
                   nc);
  m = nc / G;
  const int s = hb_scalar_int(split, "split", 0, G, 0);
  /* the levels' blocks as the sampler lays them out: [H_l b_l W_l] */
  const int stride = q * q + q + q * m;
  double *Lv = (double *) R_alloc((size_t) G * stride, sizeof(double));
  for (int l = 0; l < G; l++) {
    double *blk = Lv + (size_t) l * stride;
    memcpy(blk, REAL(H) + (size_t) l * q * q, sizeof(double) * q * q);
    memcpy(blk + q * q, REAL(B) + (size_t) l * q, sizeof(double) * q);
    memcpy(blk + q * q + q, REAL(W) + (size_t) l * q * m, sizeof(double) * q * m);
  }
  double *Bv = (double *) R_alloc((size_t) G * q, sizeof(double));
  memcpy(Bv, REAL(B), sizeof(double) * G * q);
  const hb_level_mats lm = {REAL(Sinv), Lv, stride, 0, q};
  double *ws = (double *) R_alloc(hb_lanes_ws_size(q, m), sizeof(double));
  double *pk = (double *) R_alloc(hb_lanes_pack_size(q, s) + hb_lanes_pack_size(q, G - s) + 1, sizeof(double));
  double *pk2 = pk + hb_lanes_pack_size(q, s);
  hb_lanes_pack(&lm, Bv, 0, s, pk);
  hb_lanes_pack(&lm, Bv, s, G, pk2);
  double f1 = 0.0, f2 = 0.0, ld = 0.0;
  int fail = hb_lanes_marginal(REAL(Sinv), q, pk, s, ws, &f1) | hb_lanes_marginal(REAL(Sinv), q, pk2, G - s, ws, &f2);
  int col[HB_LANE_MMAX];
  for (int c = 0; c < m; c++) col[c] = q * q + q + q * c;
  double *Gm = (double *) R_alloc((size_t) m * m, sizeof(double));
  memset(Gm, 0, sizeof(double) * m * m);
  fail |= hb_lanes_schur(&lm, col, m, 0, s, ws, Gm, &ld) | hb_lanes_schur(&lm, col, m, s, G, ws, Gm, &ld);
  const char *names[] = {"marginal", "schur", "logdet", ""};
  SEXP res = PROTECT(Rf_mkNamed(VECSXP, names));
  SET_VECTOR_ELT(res, 0, Rf_ScalarReal(fail ? NA_REAL : f1 + f2));
  if (!fail) {
    SEXP Gs = PROTECT(alloc_matrix(m, m));
    for (int a = 0; a < m; a++)
      for (int b = a; b < m; b++) REAL(Gs)[a + (size_t) b * m] = REAL(Gs)[b + (size_t) a * m] = Gm[b + (size_t) a * m];
    SET_VECTOR_ELT(res, 1, Gs);
    SET_VECTOR_ELT(res, 2, Rf_ScalarReal(ld));
    UNPROTECT(1);
  }
  UNPROTECT(1);
  return res;
}
