/* Greedy nearest-neighbour matching (the semantics of MatchIt's
 * method = "nearest").
 *
 * One-dimensional distance (a propensity score or its logit): units are
 * sorted by (exact stratum, distance), ties in data order; the controls of
 * that order form one array, and each treated unit's insertion point in it
 * is the number of controls sorted before it. A lookup takes the nearest
 * available control on each side of the insertion point (within the
 * stratum and the caliper) and keeps the left one when both are equally
 * far. Without replacement, used controls are spliced out of two
 * union-find structures ("next available to the left / right", with path
 * compression), so a lookup costs O(alpha(n)) after the O(n log n) sort
 * (done in R with a stable radix order). Ratio k:1 proceeds in k rounds over
 * the treated units in matching order, as MatchIt does. With replacement,
 * each treated unit takes its k nearest distinct controls by walking
 * outward from its insertion point.
 *
 * Mahalanobis distance: covariates arrive whitened (Mahalanobis distance =
 * Euclidean distance), and each lookup scans the available controls of the
 * stratum in data order (ties: the first in data order), O(n0) per lookup.
 * A caliper then applies to the one-dimensional distance. */
#include <limits.h>
#include <math.h>
#include <string.h>
#include "hbmmm.h"

static R_xlen_t uf_find(R_xlen_t *par, R_xlen_t x) {
  R_xlen_t r = x;
  while (par[r] != r) r = par[r];
  while (par[x] != r) {
    R_xlen_t nx = par[x];
    par[x] = r;
    x = nx;
  }
  return r;
}

static int in_row(const int *mm, R_xlen_t n1, int row, int upto, int unit1) {
  for (int c = 0; c < upto; c++)
    if (mm[row + (R_xlen_t) c * n1] == unit1) return 1;
  return 0;
}

SEXP hb_nn_match(SEXP dist, SEXP treat, SEXP ord_all, SEXP order_t, SEXP stratum,
                 SEXP ratio, SEXP caliper, SEXP replace, SEXP mahal) {
  if (TYPEOF(dist) != REALSXP) hb_input_error("dist", "must be a double vector; found type '%s'", Rf_type2char(TYPEOF(dist)));
  R_xlen_t n = XLENGTH(dist);
  if (n < 2) hb_input_error("dist", "must have at least 2 units; found %.0f", (double) n);
  if (n > INT_MAX - 2) hb_input_error("dist", "has too many units (%.0f)", (double) n);
  hb_check_vector(treat, "treat", INTSXP, n);
  hb_check_vector(ord_all, "ord_all", INTSXP, n);
  hb_check_vector(stratum, "stratum", INTSXP, n);
  if (TYPEOF(order_t) != INTSXP) hb_input_error("order_t", "must be an integer vector");
  int k = hb_scalar_int(ratio, "ratio", 1, 1000, 0);
  int repl = hb_scalar_flag(replace, "replace");
  if (TYPEOF(caliper) != REALSXP || XLENGTH(caliper) != 1)
    hb_input_error("caliper", "must be one double (NA for none)");
  double cal = REAL(caliper)[0];
  int use_cal = !ISNAN(cal);
  if (use_cal && !(cal >= 0.0)) hb_input_error("caliper", "must be non-negative or NA");
  int q = 0;
  const double *M = NULL;
  if (mahal != R_NilValue) {
    if (TYPEOF(mahal) != REALSXP || !Rf_isMatrix(mahal) || Rf_nrows(mahal) != n)
      hb_input_error("mahal", "must be NULL or a double matrix with one row per unit");
    q = Rf_ncols(mahal);
    if (q < 1) hb_input_error("mahal", "must have at least one column");
    M = REAL(mahal);
    for (R_xlen_t i = 0; i < n * q; i++)
      if (!R_FINITE(M[i])) hb_input_error("mahal", "must be finite");
  }
  const double *d = REAL(dist);
  const int *tr = INTEGER(treat), *ord = INTEGER(ord_all), *st = INTEGER(stratum);
  R_xlen_t n1 = 0;
  for (R_xlen_t i = 0; i < n; i++) {
    if (tr[i] != 0 && tr[i] != 1) hb_input_error("treat", "must be 0 or 1; found %d at %.0f", tr[i], (double) i + 1);
    if (!R_FINITE(d[i])) hb_input_error("dist", "must be finite; found a non-finite value at %.0f", (double) i + 1);
    if (st[i] == NA_INTEGER) hb_input_error("stratum", "must not be NA");
    n1 += tr[i];
  }
  R_xlen_t n0 = n - n1;
  if (XLENGTH(order_t) != n1) hb_input_error("order_t", "must have one entry per treated unit (%.0f)", (double) n1);

  /* row of each treated unit in the output (data order among treated) */
  int *trow = (int *) R_alloc(n, sizeof(int));
  {
    int r = 0;
    for (R_xlen_t i = 0; i < n; i++) trow[i] = tr[i] ? r++ : -1;
  }
  const int *ot = INTEGER(order_t);
  {
    char *seen = (char *) R_alloc(n, 1);
    for (R_xlen_t z = 0; z < n; z++) seen[z] = 0;
    for (R_xlen_t i = 0; i < n1; i++) {
      int u = ot[i];
      if (u == NA_INTEGER || u < 1 || u > n || !tr[u - 1] || seen[u - 1])
        hb_input_error("order_t", "must list every treated unit once (1-based indices)");
      seen[u - 1] = 1;
    }
  }
  /* sorted order: a permutation, strata contiguous, distance non-decreasing within */
  int *cunit = (int *) R_alloc(n0 > 0 ? n0 : 1, sizeof(int)); /* control at sorted rank */
  R_xlen_t *ins = (R_xlen_t *) R_alloc(n, sizeof(R_xlen_t));   /* insertion point of treated */
  R_xlen_t *crank = (R_xlen_t *) R_alloc(n, sizeof(R_xlen_t)); /* rank of each control */
  {
    char *seen = (char *) R_alloc(n, 1);
    for (R_xlen_t z = 0; z < n; z++) seen[z] = 0;
    R_xlen_t c = 0;
    for (R_xlen_t j = 0; j < n; j++) {
      int u = ord[j];
      if (u == NA_INTEGER || u < 1 || u > n || seen[u - 1])
        hb_input_error("ord_all", "must be a permutation of 1..n");
      seen[u - 1] = 1;
      if (j > 0) {
        int up = ord[j - 1] - 1;
        if (st[u - 1] < st[up] || (st[u - 1] == st[up] && d[u - 1] < d[up]))
          hb_input_error("ord_all", "must sort units by stratum, then distance");
      }
      if (tr[u - 1]) ins[u - 1] = c;
      else { crank[u - 1] = c; cunit[c++] = u - 1; }
    }
  }
  /* stratum range of controls [lo, hi) for each unit's stratum, via ranks */
  R_xlen_t *lo = (R_xlen_t *) R_alloc(n, sizeof(R_xlen_t));
  R_xlen_t *hi = (R_xlen_t *) R_alloc(n, sizeof(R_xlen_t));
  {
    R_xlen_t c = 0, j = 0;
    while (j < n) {
      int s = st[ord[j] - 1];
      R_xlen_t j2 = j, c2 = c;
      while (j2 < n && st[ord[j2] - 1] == s) { if (!tr[ord[j2] - 1]) c2++; j2++; }
      for (R_xlen_t jj = j; jj < j2; jj++) { lo[ord[jj] - 1] = c; hi[ord[jj] - 1] = c2; }
      j = j2;
      c = c2;
    }
  }

  SEXP out = PROTECT(Rf_allocMatrix(INTSXP, (int) n1, k));
  int *mm = INTEGER(out);
  for (R_xlen_t i = 0; i < n1 * k; i++) mm[i] = NA_INTEGER;
  if (n0 == 0 || n1 == 0) { UNPROTECT(1); return out; }

  if (M == NULL && repl) {
    for (R_xlen_t i = 0; i < n1; i++) {
      if (i % 4096 == 0) R_CheckUserInterrupt();
      int t = ot[i] - 1, row = trow[t];
      double dt = d[t];
      R_xlen_t l = ins[t] - 1, r = ins[t];
      for (int m = 0; m < k; m++) {
        int okl = l >= lo[t] && (!use_cal || fabs(d[cunit[l]] - dt) <= cal);
        int okr = r < hi[t] && (!use_cal || fabs(d[cunit[r]] - dt) <= cal);
        if (!okl && !okr) break;
        int take_left = okl && (!okr || fabs(d[cunit[l]] - dt) <= fabs(d[cunit[r]] - dt));
        if (take_left) mm[row + (R_xlen_t) m * n1] = cunit[l--] + 1;
        else mm[row + (R_xlen_t) m * n1] = cunit[r++] + 1;
      }
    }
  } else if (M == NULL) {
    /* union-find over ranks shifted by one; 0 and n0 + 1 are sentinels */
    R_xlen_t *pl = (R_xlen_t *) R_alloc(n0 + 2, sizeof(R_xlen_t));
    R_xlen_t *pr = (R_xlen_t *) R_alloc(n0 + 2, sizeof(R_xlen_t));
    for (R_xlen_t j = 0; j < n0 + 2; j++) pl[j] = pr[j] = j;
    R_xlen_t left = n0;
    for (int m = 0; m < k && left > 0; m++) {
      for (R_xlen_t i = 0; i < n1 && left > 0; i++) {
        if (i % 4096 == 0) R_CheckUserInterrupt();
        int t = ot[i] - 1, row = trow[t];
        double dt = d[t];
        R_xlen_t l = uf_find(pl, ins[t]) - 1;      /* rank, or -1 */
        R_xlen_t r = uf_find(pr, ins[t] + 1) - 1;  /* rank, or n0 */
        int okl = l >= lo[t] && (!use_cal || fabs(d[cunit[l]] - dt) <= cal);
        int okr = r < hi[t] && (!use_cal || fabs(d[cunit[r]] - dt) <= cal);
        if (!okl && !okr) continue;
        int take_left = okl && (!okr || fabs(d[cunit[l]] - dt) <= fabs(d[cunit[r]] - dt));
        R_xlen_t c = take_left ? l : r;
        mm[row + (R_xlen_t) m * n1] = cunit[c] + 1;
        pl[c + 1] = c;      /* splice rank c out of both structures */
        pr[c + 1] = c + 2;
        left--;
      }
    }
  } else {
    /* Mahalanobis: controls of each stratum in data order */
    R_xlen_t *cstart = (R_xlen_t *) R_alloc(n + 1, sizeof(R_xlen_t));
    int *clist = (int *) R_alloc(n0, sizeof(int));
    char *used = (char *) R_alloc(n, 1);
    for (R_xlen_t z = 0; z < n; z++) used[z] = 0;
    /* bucket controls by their stratum range start lo[] (unique per stratum) */
    R_xlen_t *cnt = (R_xlen_t *) R_alloc(n0 + 1, sizeof(R_xlen_t));
    for (R_xlen_t j = 0; j <= n0; j++) cnt[j] = 0;
    for (R_xlen_t i = 0; i < n; i++) if (!tr[i]) cnt[lo[i]]++;
    R_xlen_t acc = 0;
    for (R_xlen_t j = 0; j <= n0; j++) { R_xlen_t c = cnt[j]; cstart[j] = acc; cnt[j] = acc; acc += c; }
    for (R_xlen_t i = 0; i < n; i++) if (!tr[i]) clist[cnt[lo[i]]++] = (int) i;
    R_xlen_t left = n0;
    for (int m = 0; m < k && left > 0; m++) {
      for (R_xlen_t i = 0; i < n1 && left > 0; i++) {
        if (i % 256 == 0) R_CheckUserInterrupt();
        int t = ot[i] - 1, row = trow[t];
        R_xlen_t a = lo[t], b = lo[t] + (hi[t] - lo[t]);
        if (a >= b) continue;
        R_xlen_t from = cstart[a], to = from + (b - a);
        int best = -1;
        double bestd = R_PosInf;
        for (R_xlen_t j = from; j < to; j++) {
          int c = clist[j];
          if (!repl && used[c]) continue;
          if (repl && in_row(mm, n1, row, m, c + 1)) continue;
          if (use_cal && fabs(d[c] - d[t]) > cal) continue;
          double s = 0.0;
          for (int v = 0; v < q; v++) {
            double e = M[t + (R_xlen_t) v * n] - M[c + (R_xlen_t) v * n];
            s += e * e;
          }
          if (s < bestd) { bestd = s; best = c; }
        }
        if (best < 0) continue;
        mm[row + (R_xlen_t) m * n1] = best + 1;
        if (!repl) { used[best] = 1; left--; }
      }
    }
  }
  UNPROTECT(1);
  return out;
}
