/* .Call entry points for the media transforms: check every argument, lay out
 * columns and groups, and run the kernels of transforms.c. */
#include <float.h>
#include <string.h>
#include "hbmmm.h"

#define HB_MAX_LAG 100000
/* multiply-adds per convolution window: bounds the work between interrupt checks */
#define HB_CHUNK_WORK 50000000.0

typedef struct {
  R_xlen_t n, ncol;
  int is_matrix;
} dims_t;

static dims_t media_dims(SEXP x) {
  dims_t d;
  hb_check_vector(x, "x", REALSXP, -1);
  SEXP dim = Rf_getAttrib(x, R_DimSymbol);
  d.is_matrix = !Rf_isNull(dim);
  if (d.is_matrix) {
    if (LENGTH(dim) != 2)
      hb_input_error("x", "must be a vector or a matrix; found an array with %d dimensions",
                     LENGTH(dim));
    d.n = INTEGER(dim)[0];
    d.ncol = INTEGER(dim)[1];
  } else {
    d.n = XLENGTH(x);
    d.ncol = 1;
  }
  return d;
}

/* Report the first negative or non-finite value of column j. */
static void media_error(const double *col, dims_t d, R_xlen_t j) {
  char num[32];
  for (R_xlen_t i = 0; i < d.n; i++) {
    if (col[i] >= 0.0 && col[i] <= DBL_MAX) continue;
    hb_fmt_num(col[i], num, sizeof num);
    if (d.is_matrix)
      hb_input_error("x", "media values must be finite and non-negative; found %s at row %.0f, column %.0f",
                     num, (double) i + 1, (double) j + 1);
    hb_input_error("x", "media values must be finite and non-negative; found %s at element %.0f",
                   num, (double) i + 1);
  }
}

static SEXP new_like(SEXP x, R_xlen_t len) {
  SEXP out = PROTECT(Rf_allocVector(REALSXP, len));
  SEXP dim = Rf_getAttrib(x, R_DimSymbol);
  if (!Rf_isNull(dim)) Rf_setAttrib(out, R_DimSymbol, dim);
  UNPROTECT(1);
  return out;
}

/* Rows of each group in their given order (stable counting sort on codes
 * 1..G). Returns NULL when rows are already in blocks of ascending codes, so
 * the caller can work on the column in place. */
static R_xlen_t *group_order(SEXP group, R_xlen_t n, R_xlen_t **start, int *ngroup) {
  hb_check_vector(group, "group", INTSXP, n);
  const int *g = INTEGER(group);
  int G = 0;
  for (R_xlen_t i = 0; i < n; i++) {
    if (g[i] == NA_INTEGER || g[i] < 1)
      hb_input_error("group", "codes must be positive integers without NA; found %s at element %.0f",
                     g[i] == NA_INTEGER ? "NA" : "a value below 1", (double) i + 1);
    if (g[i] > G) G = g[i];
  }
  if ((R_xlen_t) G > n)
    hb_input_error("group", "codes must lie in 1..length(group) = %.0f; found %d",
                   (double) n, G);
  R_xlen_t *st = (R_xlen_t *) R_alloc((size_t) G + 1, sizeof(R_xlen_t));
  *start = st;
  *ngroup = G;
  if (hb_group_index(g, n, G, 1, st, NULL)) return NULL; /* blocks: work in place */
  R_xlen_t *ord = (R_xlen_t *) R_alloc((size_t) n + 1, sizeof(R_xlen_t));
  hb_group_index(g, n, G, 1, st, ord);
  return ord;
}

typedef struct {
  int type, L, normalize, np;
  const double *w, *dw; /* lag weights and derivatives (finite lag) */
  double decay;          /* infinite-memory geometric */
} adstock_t;

/* One series of length n: value into out, derivatives into dout[p]. tpos
 * (may be NULL): time position of each element, for series with gaps. */
static int adstock_series(const adstock_t *a, const double *x, const int *tpos,
                          R_xlen_t n, double *out, double **dout) {
  if (a->L == NA_INTEGER)
    return hb_geometric_recursion_at(x, tpos, n, a->decay, a->normalize, out,
                                     dout ? dout[0] : NULL);
  int bad = 0, m = a->L + 1;
  R_xlen_t chunk = (R_xlen_t) (HB_CHUNK_WORK / m) + 1;
  if (n <= chunk) {
    bad = hb_lag_convolve_at(x, tpos, n, a->w, a->L, out);
    for (int p = 0; dout && p < a->np; p++)
      hb_lag_convolve_at(x, tpos, n, a->dw + (R_xlen_t) p * m, a->L, dout[p]);
    return bad;
  }
  /* long series with long lags: convolve in windows so that an interrupt
   * can stop the run. Window rows t0..t1 need the L rows before t0 (time
   * positions increase strictly, so L periods back are at most L rows). */
  const void *vmax = vmaxget();
  double *buf = (double *) R_alloc((size_t) (chunk + a->L), sizeof(double));
  for (R_xlen_t t0 = 0; t0 < n; t0 += chunk) {
    R_xlen_t s = t0 > a->L ? t0 - a->L : 0, t1 = t0 + chunk < n ? t0 + chunk : n;
    R_xlen_t len = t1 - s, off = t0 - s;
    const int *ts = tpos ? tpos + s : NULL;
    bad |= hb_lag_convolve_at(x + s, ts, len, a->w, a->L, buf);
    memcpy(out + t0, buf + off, (size_t) (t1 - t0) * sizeof(double));
    for (int p = 0; dout && p < a->np; p++) {
      hb_lag_convolve_at(x + s, ts, len, a->dw + (R_xlen_t) p * m, a->L, buf);
      memcpy(dout[p] + t0, buf + off, (size_t) (t1 - t0) * sizeof(double));
    }
    R_CheckUserInterrupt();
  }
  vmaxset(vmax);
  return bad;
}

/* Time positions (NULL or integer, one per row): within each group, in row
 * order, strictly increasing. */
static const int *read_time(SEXP time, R_xlen_t n, const R_xlen_t *start,
                            const R_xlen_t *ord, int G) {
  if (Rf_isNull(time)) return NULL;
  hb_check_vector(time, "time", INTSXP, n);
  const int *t = INTEGER(time);
  for (int k = 0; k < G; k++)
    for (R_xlen_t i = start[k]; i < start[k + 1]; i++) {
      R_xlen_t r = ord ? ord[i] : i;
      if (t[r] == NA_INTEGER)
        hb_input_error("time", "must not contain NA; found NA at element %.0f", (double) r + 1);
      if (i > start[k] && t[r] <= t[ord ? ord[i - 1] : i - 1])
        hb_input_error("time", "must increase strictly within each group; element %.0f is %d after %d",
                       (double) r + 1, t[r], t[ord ? ord[i - 1] : i - 1]);
    }
  return t;
}

SEXP hb_adstock(SEXP x, SEXP type, SEXP par, SEXP max_lag, SEXP normalize,
                SEXP group, SEXP time, SEXP deriv) {
  dims_t d = media_dims(x);
  int ty = hb_scalar_int(type, "type", 1, 4, 0);
  adstock_t a = {ty, 0, 0, hb_adstock_npar(ty), NULL, NULL, 0.0};
  hb_check_vector(par, "par", REALSXP, a.np * d.ncol);
  a.L = hb_scalar_int(max_lag, "max_lag", 0, HB_MAX_LAG, ty == HB_ADSTOCK_GEOMETRIC);
  a.normalize = hb_scalar_flag(normalize, "normalize");
  int der = hb_scalar_flag(deriv, "deriv");

  /* group k spans positions start[k] .. start[k + 1] of the ordering */
  R_xlen_t whole[2] = {0, d.n}, *start = whole, *ord = NULL;
  int G = 1;
  if (!Rf_isNull(group)) ord = group_order(group, d.n, &start, &G);
  const int *tpos = read_time(time, d.n, start, ord, G);

  const double *p = REAL(par);
  char msg[256];
  int m = a.L == NA_INTEGER ? 0 : a.L + 1;
  double *w = (double *) R_alloc((size_t) m + 1, sizeof(double));
  double *dw = (double *) R_alloc((size_t) m * a.np + 1, sizeof(double));
  for (R_xlen_t j = 0; j < d.ncol; j++) {
    const double *pj = p + j * a.np;
    const char *bad = hb_adstock_par_invalid(ty, pj, a.L, msg, sizeof msg);
    if (bad) {
      if (d.ncol > 1) hb_input_error(bad, "%s (column %.0f)", msg, (double) j + 1);
      hb_input_error(bad, "%s", msg);
    }
    if (m > 0) {
      hb_adstock_weights(ty, pj, a.L, a.normalize, w, dw);
      double s = 0.0;
      for (int l = 0; l < m; l++) s += w[l];
      if (!(s > 0.0 && s <= DBL_MAX))
        hb_input_error(ty == HB_ADSTOCK_DELAYED ? "delay" : "scale",
                       "gives lag weights that are all zero or not finite (column %.0f); "
                       "choose parameters that put weight on lags 0..max_lag",
                       (double) j + 1);
    }
  }

  R_xlen_t N = d.n * d.ncol;
  SEXP val = PROTECT(new_like(x, N));
  SEXP res = PROTECT(Rf_allocVector(VECSXP, der ? a.np + 1 : 1));
  SET_VECTOR_ELT(res, 0, val);
  double *dout[2] = {NULL, NULL};
  for (int q = 0; der && q < a.np; q++) SET_VECTOR_ELT(res, q + 1, new_like(x, N));

  R_xlen_t maxlen = 0;
  for (int k = 0; k < G; k++)
    if (start[k + 1] - start[k] > maxlen) maxlen = start[k + 1] - start[k];
  /* gather/scatter buffers, used only for interleaved groups */
  double *gx = NULL, *gy = NULL, *gd[2] = {NULL, NULL};
  int *gt = NULL;
  if (ord) {
    gx = (double *) R_alloc((size_t) maxlen, sizeof(double));
    if (tpos) gt = (int *) R_alloc((size_t) maxlen, sizeof(int));
    gy = (double *) R_alloc((size_t) maxlen, sizeof(double));
    for (int q = 0; der && q < a.np; q++)
      gd[q] = (double *) R_alloc((size_t) maxlen, sizeof(double));
  }

  for (R_xlen_t j = 0; j < d.ncol; j++) {
    const double *xj = REAL(x) + j * d.n;
    double *yj = REAL(val) + j * d.n;
    a.decay = p[j * a.np];
    if (m > 0) hb_adstock_weights(ty, p + j * a.np, a.L, a.normalize, w, dw);
    a.w = w;
    a.dw = dw;
    for (int q = 0; der && q < a.np; q++) dout[q] = REAL(VECTOR_ELT(res, q + 1)) + j * d.n;
    int bad = 0;
    for (int k = 0; k < G; k++) {
      R_xlen_t s = start[k], len = start[k + 1] - s;
      if (!ord) {
        double *dk[2] = {dout[0] ? dout[0] + s : NULL, dout[1] ? dout[1] + s : NULL};
        bad |= adstock_series(&a, xj + s, tpos ? tpos + s : NULL, len, yj + s, der ? dk : NULL);
        continue;
      }
      for (R_xlen_t i = 0; i < len; i++) gx[i] = xj[ord[s + i]];
      for (R_xlen_t i = 0; gt && i < len; i++) gt[i] = tpos[ord[s + i]];
      bad |= adstock_series(&a, gx, gt, len, gy, der ? gd : NULL);
      for (R_xlen_t i = 0; i < len; i++) {
        R_xlen_t r = ord[s + i];
        yj[r] = gy[i];
        for (int q = 0; der && q < a.np; q++) dout[q][r] = gd[q][i];
      }
    }
    if (bad) media_error(xj, d, j);
    R_CheckUserInterrupt();
  }
  UNPROTECT(2);
  return der ? res : val;
}

/* A saturation kernel applied column by column: `id` is the kernel's type
 * (single curves) or number of components (mixtures), np its parameters per
 * column, `invalid` checks one column's parameters and `eval` computes a
 * column's value and, with dout, its derivatives (np parameters, then x). */
typedef const char *(*sat_check)(int id, const double *par, char *msg, size_t msglen);
typedef int (*sat_eval)(int id, const double *par, const double *x, R_xlen_t n, double *out, double **dout,
                        double *tmp);

static SEXP saturate_columns(SEXP x, int id, int np, SEXP par, SEXP deriv, sat_check invalid, sat_eval eval) {
  dims_t d = media_dims(x);
  hb_check_vector(par, "par", REALSXP, (R_xlen_t) np * d.ncol);
  int der = hb_scalar_flag(deriv, "deriv");
  const double *p = REAL(par);
  char msg[256];
  for (R_xlen_t j = 0; j < d.ncol; j++) {
    const char *bad = invalid(id, p + j * np, msg, sizeof msg);
    if (!bad) continue;
    if (d.ncol > 1) hb_input_error(bad, "%s (column %.0f)", msg, (double) j + 1);
    hb_input_error(bad, "%s", msg);
  }
  R_xlen_t N = d.n * d.ncol;
  SEXP val = PROTECT(new_like(x, N));
  SEXP res = PROTECT(Rf_allocVector(VECSXP, der ? np + 2 : 1));
  SET_VECTOR_ELT(res, 0, val);
  for (int q = 0; der && q <= np; q++) SET_VECTOR_ELT(res, q + 1, new_like(x, N));
  double **dout = (double **) R_alloc((size_t) np + 1, sizeof(double *));
  double *tmp = (double *) R_alloc((size_t) d.n + 1, sizeof(double));
  for (R_xlen_t j = 0; j < d.ncol; j++) {
    for (int q = 0; der && q <= np; q++) dout[q] = REAL(VECTOR_ELT(res, q + 1)) + j * d.n;
    const double *xj = REAL(x) + j * d.n;
    if (eval(id, p + j * np, xj, d.n, REAL(val) + j * d.n, der ? dout : NULL, tmp)) media_error(xj, d, j);
    R_CheckUserInterrupt();
  }
  UNPROTECT(2);
  return der ? res : val;
}

static int eval_single(int type, const double *par, const double *x, R_xlen_t n, double *out, double **dout,
                       double *tmp) {
  (void) tmp;
  return hb_saturation(type, par, x, n, out, dout);
}

SEXP hb_saturate(SEXP x, SEXP type, SEXP par, SEXP deriv) {
  int ty = hb_scalar_int(type, "type", 1, 3, 0);
  return saturate_columns(x, ty, hb_saturation_npar(ty), par, deriv, hb_saturation_par_invalid, eval_single);
}

/* Mixture of K Hill curves on each column of x, with the column's 3K
 * parameters (halfsat 1..K, slope 1..K, weight 1..K) in par[, j]; with
 * deriv, list(value, one array per parameter in that order, d / d x). */
SEXP hb_saturate_mixture(SEXP x, SEXP ncomp, SEXP par, SEXP deriv) {
  int K = hb_scalar_int(ncomp, "components", 1, HB_MAX_MIX, 0);
  return saturate_columns(x, K, 3 * K, par, deriv, hb_mixture_par_invalid, hb_saturation_mixture);
}
