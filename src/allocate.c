/* Decisions: the heavy loops of response curves and budget allocation.
 *
 * A curve set holds K curves (channels, or segment x channel) and D posterior
 * draws. Curve k at draw d maps spend x to the response
 *
 *   f_dk(x) = beta[d, k] * sum_{t < T} sat_k(x * prof[t, d, k]; par[d, k, ])
 *
 * where prof is the carry-over profile of one unit of spend (the adstocked
 * flighting pattern, already divided by the media scale; T = 1 and
 * prof = sum of the adstock weights at steady state) and sat_k is one of the
 * package's saturation kernels (transforms.c: hb_saturation, and
 * hb_saturation_mixture for a mixture of Hill curves), or the identity
 * (type 0, linear response). Nothing here re-implements a transform.
 *
 * Entry points:
 *   hb_curves_eval  values (and marginal responses) over spend grids, per draw
 *                   or averaged over draws;
 *   hb_allocate_dp  dynamic programming over a budget grid (separable
 *                   objective: the global optimum on the grid, also for
 *                   S-shaped curves);
 *   hb_allocate_local  pattern search over pairwise transfers on the exact
 *                   objective over draws (mean, a quantile, or mean - k sd),
 *                   which is not separable for the risk-aware objectives. */
#include <math.h>
#include <string.h>
#include <R_ext/Utils.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "hbmmm.h"

typedef struct {
  int K, D, T, P;
  const int *type;      /* K: 0 linear, 1 hill, 2 logistic, 3 Michaelis-Menten, 4 Hill mixture */
  const double *beta;   /* D x K */
  /* D x K x P, kernel order (MM: vmax, k; a mixture: halfsat, slope, weight
   * of its P / 3 components, padded with weight-0 components) */
  const double *par;
  const double *prof;   /* T x D x K */
  int ncomp;            /* P / 3 when some curve is a mixture, else 0 */
} hb_curveset;

/* The kernel parameters of curve k at draw d: p[0 .. P). */
static void curve_par(const hb_curveset *cs, int k, int d, double *p) {
  R_xlen_t dk = d + (R_xlen_t) cs->D * k;
  for (int q = 0; q < cs->P; q++) p[q] = cs->par[dk + (R_xlen_t) cs->D * cs->K * q];
}

/* Read and check the curve set arguments shared by the entry points. */
static hb_curveset read_curves(SEXP type, SEXP beta, SEXP par, SEXP prof) {
  hb_curveset cs;
  if (TYPEOF(type) != INTSXP || XLENGTH(type) < 1)
    hb_input_error("type", "must be a non-empty integer vector of curve types; found type '%s'",
                   Rf_type2char(TYPEOF(type)));
  cs.K = (int) XLENGTH(type);
  cs.type = INTEGER(type);
  int any_mix = 0;
  for (int k = 0; k < cs.K; k++) {
    if (cs.type[k] < 0 || cs.type[k] > HB_CURVE_HILL_MIXTURE)
      hb_input_error("type", "curve types must be 0 (linear) to 4 (Hill mixture); found %d for curve %d",
                     cs.type[k], k + 1);
    any_mix |= cs.type[k] == HB_CURVE_HILL_MIXTURE;
  }
  if (TYPEOF(beta) != REALSXP || XLENGTH(beta) < cs.K || XLENGTH(beta) % cs.K)
    hb_input_error("beta", "must be a double matrix with one column per curve (%d)", cs.K);
  cs.D = (int) (XLENGTH(beta) / cs.K);
  hb_check_vector(par, "par", REALSXP, -1);
  R_xlen_t DK = (R_xlen_t) cs.D * cs.K;
  cs.P = (int) (XLENGTH(par) / DK);
  if (XLENGTH(par) % DK || cs.P < 2 || cs.P > 3 * HB_MAX_MIX || (any_mix && cs.P % 3))
    hb_input_error("par", "must be a D x K x P array of curve parameters (P = 2, or 3 per mixture component)");
  cs.ncomp = any_mix ? cs.P / 3 : 0;
  if (TYPEOF(prof) != REALSXP || XLENGTH(prof) < (R_xlen_t) cs.D * cs.K ||
      XLENGTH(prof) % ((R_xlen_t) cs.D * cs.K))
    hb_input_error("prof", "must be a double array T x %d draws x %d curves", cs.D, cs.K);
  cs.T = (int) (XLENGTH(prof) / ((R_xlen_t) cs.D * cs.K));
  cs.beta = REAL(beta);
  cs.par = REAL(par);
  cs.prof = REAL(prof);
  char msg[256], num[32];
  for (int k = 0; k < cs.K; k++) {
    for (int d = 0; d < cs.D; d++) {
      R_xlen_t dk = d + (R_xlen_t) cs.D * k;
      if (!R_FINITE(cs.beta[dk]))
        hb_input_error("beta", "must be finite; found %s (draw %d, curve %d)",
                       hb_fmt_num(cs.beta[dk], num, sizeof num), d + 1, k + 1);
      if (cs.type[k] > 0) {
        double p[3 * HB_MAX_MIX];
        curve_par(&cs, k, d, p);
        const char *bad = cs.type[k] == HB_CURVE_HILL_MIXTURE ? hb_mixture_par_invalid(cs.ncomp, p, msg, sizeof msg)
                                                             : hb_saturation_par_invalid(cs.type[k], p, msg, sizeof msg);
        if (bad) hb_input_error(bad, "%s (draw %d, curve %d)", msg, d + 1, k + 1);
      }
      const double *pr = cs.prof + dk * cs.T;
      for (int t = 0; t < cs.T; t++)
        if (!(pr[t] >= 0.0) || !R_FINITE(pr[t]))
          hb_input_error("prof", "carry-over profiles must be non-negative and finite; found %s (draw %d, curve %d)",
                         hb_fmt_num(pr[t], num, sizeof num), d + 1, k + 1);
    }
  }
  return cs;
}

/* Scratch for one curve evaluation over n points: z (n T), s (n T), the
 * kernel's derivative arrays (3 n T, or 3 ncomp + 1 for mixtures) and the
 * mixture kernel's scratch (n T). */
typedef struct {
  double *z, *s, *dv[3 * HB_MAX_MIX + 1], *tmp;
} eval_buf;

static void buf_alloc(eval_buf *b, R_xlen_t nT, const hb_curveset *cs) {
  b->z = (double *) R_alloc(nT, sizeof(double));
  b->s = (double *) R_alloc(nT, sizeof(double));
  b->tmp = (double *) R_alloc(nT, sizeof(double));
  int nd = cs->ncomp ? 3 * cs->ncomp + 1 : 3;
  for (int q = 0; q < nd; q++) b->dv[q] = (double *) R_alloc(nT, sizeof(double));
}

/* f_dk at x[0..n): value[i] and (when deriv != NULL) df/dx at x[i]. */
static void eval_curve(const hb_curveset *cs, int k, int d, const double *x, int n,
                       double *value, double *deriv, eval_buf *b) {
  R_xlen_t dk = d + (R_xlen_t) cs->D * k;
  const double bt = cs->beta[dk];
  const double *pr = cs->prof + dk * cs->T;
  const int T = cs->T;
  if (cs->type[k] == 0) {
    double s = 0.0;
    for (int t = 0; t < T; t++) s += pr[t];
    for (int i = 0; i < n; i++) {
      value[i] = bt * s * x[i];
      if (deriv) deriv[i] = bt * s;
    }
    return;
  }
  double p[3 * HB_MAX_MIX];
  curve_par(cs, k, d, p);
  for (int i = 0; i < n; i++)
    for (int t = 0; t < T; t++) b->z[(R_xlen_t) i * T + t] = x[i] * pr[t];
  R_xlen_t nT = (R_xlen_t) n * T;
  const double *dx = NULL;
  if (cs->type[k] == HB_CURVE_HILL_MIXTURE) {
    hb_saturation_mixture(cs->ncomp, p, b->z, nT, b->s, deriv ? b->dv : NULL, b->tmp);
    if (deriv) dx = b->dv[3 * cs->ncomp];
  } else {
    hb_saturation(cs->type[k], p, b->z, nT, b->s, deriv ? b->dv : NULL);
    if (deriv) dx = b->dv[hb_saturation_npar(cs->type[k])];
  }
  for (int i = 0; i < n; i++) {
    double v = 0.0, g = 0.0;
    for (int t = 0; t < T; t++) {
      R_xlen_t it = (R_xlen_t) i * T + t;
      v += b->s[it];
      /* d sat / dx can be infinite at 0 for Hill slopes below 1: a zero
       * profile entry contributes nothing */
      if (dx && pr[t] > 0.0) g += dx[it] * pr[t];
    }
    value[i] = bt * v;
    if (deriv) deriv[i] = bt * g;
  }
}

static int nthreads_for(int K) {
#ifdef _OPENMP
  int nt = omp_get_max_threads();
  if (nt > K) nt = K;
  return nt < 1 ? 1 : nt;
#else
  (void) K;
  return 1;
#endif
}

/* Responses of every curve over its spend grid x (G x K, spend units).
 * average = TRUE: list(value = G x K means over draws, deriv = G x K or NULL);
 * average = FALSE: list(value = D x G x K, deriv = D x G x K or NULL). */
SEXP hb_curves_eval(SEXP type, SEXP beta, SEXP par, SEXP prof, SEXP x, SEXP deriv,
                    SEXP average) {
  hb_curveset cs = read_curves(type, beta, par, prof);
  if (TYPEOF(x) != REALSXP || XLENGTH(x) % cs.K)
    hb_input_error("x", "must be a double matrix with one column per curve (%d)", cs.K);
  int G = (int) (XLENGTH(x) / cs.K);
  int der = hb_scalar_flag(deriv, "deriv"), avg = hb_scalar_flag(average, "average");
  const double *xs = REAL(x);
  char num[32];
  for (R_xlen_t i = 0; i < XLENGTH(x); i++)
    if (!(xs[i] >= 0.0) || !R_FINITE(xs[i]))
      hb_input_error("x", "spend must be non-negative and finite; found %s at position %.0f",
                     hb_fmt_num(xs[i], num, sizeof num), (double) i + 1);
  R_xlen_t nout = avg ? (R_xlen_t) G * cs.K : (R_xlen_t) cs.D * G * cs.K;
  SEXP val = PROTECT(Rf_allocVector(REALSXP, nout));
  SEXP dval = PROTECT(der ? Rf_allocVector(REALSXP, nout) : R_NilValue);
  double *V = REAL(val), *DV = der ? REAL(dval) : NULL;
  int nt = nthreads_for(cs.K);
  eval_buf *bufs = (eval_buf *) R_alloc(nt, sizeof(eval_buf));
  double **tv = (double **) R_alloc(nt, sizeof(double *));
  double **tg = (double **) R_alloc(nt, sizeof(double *));
  for (int i = 0; i < nt; i++) {
    buf_alloc(&bufs[i], (R_xlen_t) G * cs.T, &cs);
    tv[i] = (double *) R_alloc(G, sizeof(double));
    tg[i] = (double *) R_alloc(G, sizeof(double));
  }
  const double invD = 1.0 / cs.D;
  /* threads only pay off on large grids (waking a team costs more than a
   * small evaluation, especially on a busy machine) */
  int big = (double) G * cs.D * cs.T * cs.K > 2e5;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (big)
#endif
  for (int k = 0; k < cs.K; k++) {
    int th = 0;
#ifdef _OPENMP
    th = omp_get_thread_num();
#endif
    const double *xk = xs + (R_xlen_t) G * k;
    if (avg) {
      double *vk = V + (R_xlen_t) G * k, *gk = der ? DV + (R_xlen_t) G * k : NULL;
      memset(vk, 0, G * sizeof(double));
      if (gk) memset(gk, 0, G * sizeof(double));
      for (int d = 0; d < cs.D; d++) {
        eval_curve(&cs, k, d, xk, G, tv[th], der ? tg[th] : NULL, &bufs[th]);
        for (int g = 0; g < G; g++) {
          vk[g] += tv[th][g] * invD;
          if (gk) gk[g] += tg[th][g] * invD;
        }
      }
    } else {
      for (int d = 0; d < cs.D; d++) {
        eval_curve(&cs, k, d, xk, G, tv[th], der ? tg[th] : NULL, &bufs[th]);
        for (int g = 0; g < G; g++) {
          R_xlen_t o = d + (R_xlen_t) cs.D * (g + (R_xlen_t) G * k);
          V[o] = tv[th][g];
          if (der) DV[o] = tg[th][g];
        }
      }
    }
  }
  SEXP res = hb_named_pair(val, dval, "value", "deriv");
  UNPROTECT(2);
  return res;
}

/* Separable maximization over a budget grid. F is (G + 1) x K: F[j, k] is the
 * objective of curve k with j grid steps above its lower bound; cap[k] is the
 * largest step count allowed. V_k(b) = max_{j <= min(b, cap_k)} V_{k-1}(b - j)
 * + F[j, k], V_0 = 0 at b = 0 and -Inf elsewhere. Returns
 * list(value = V_K (length G + 1, -Inf where b cannot be spent exactly),
 *      choice = (G + 1) x K integer steps of curve k in the best V_k(b)). */
SEXP hb_allocate_dp(SEXP F, SEXP cap) {
  if (TYPEOF(cap) != INTSXP || XLENGTH(cap) < 1)
    hb_input_error("cap", "must be a non-empty integer vector; found type '%s'",
                   Rf_type2char(TYPEOF(cap)));
  int K = (int) XLENGTH(cap);
  if (TYPEOF(F) != REALSXP || XLENGTH(F) < K || XLENGTH(F) % K)
    hb_input_error("F", "must be a double matrix with one column per curve (%d)", K);
  R_xlen_t G1 = XLENGTH(F) / K;
  if (G1 > 10000001)
    hb_input_error("F", "has %.0f grid rows; at most 10000001 are allowed", (double) G1);
  int G = (int) G1 - 1;
  const double *f = REAL(F);
  const int *cp = INTEGER(cap);
  char num[32];
  for (int k = 0; k < K; k++) {
    if (cp[k] == NA_INTEGER || cp[k] < 0 || cp[k] > G)
      hb_input_error("cap", "must be in [0, %d]; found %d for curve %d", G, cp[k], k + 1);
    for (int j = 0; j <= cp[k]; j++)
      if (ISNAN(f[j + G1 * k]) || f[j + G1 * k] == R_PosInf)
        hb_input_error("F", "must not be NaN or Inf; found %s at step %d of curve %d",
                       hb_fmt_num(f[j + G1 * k], num, sizeof num), j, k + 1);
  }
  SEXP val = PROTECT(Rf_allocVector(REALSXP, G1));
  SEXP choice = PROTECT(Rf_allocMatrix(INTSXP, (int) G1, K));
  double *V = REAL(val), *W = (double *) R_alloc(G1, sizeof(double));
  int *C = INTEGER(choice);
  for (int b = 0; b <= G; b++) V[b] = b == 0 ? 0.0 : R_NegInf;
  int reach = 0; /* largest b with V finite */
  for (int k = 0; k < K; k++) {
    const double *fk = f + G1 * k;
    int *ck = C + G1 * k;
    int nreach = reach + cp[k] > G ? G : reach + cp[k];
    for (int b = 0; b <= G; b++) {
      double best = R_NegInf;
      int arg = 0;
      if (b <= nreach) {
        int jmax = b < cp[k] ? b : cp[k];
        int jmin = b - reach > 0 ? b - reach : 0;
        for (int j = jmin; j <= jmax; j++) {
          double v = V[b - j] + fk[j];
          if (v > best) {
            best = v;
            arg = j;
          }
        }
      }
      W[b] = best;
      ck[b] = arg;
    }
    memcpy(V, W, G1 * sizeof(double));
    reach = nreach;
    R_CheckUserInterrupt();
  }
  SEXP res = hb_named_pair(val, choice, "value", "choice");
  UNPROTECT(2);
  return res;
}

/* ---- exact objective over draws ---------------------------------------- */

typedef struct {
  int obj;          /* 0 mean, 1 quantile, 2 mean - k sd */
  double p;         /* quantile level or k */
  double *work;     /* D scratch for the quantile */
} objective_t;

/* Type-7 quantile of x[0..n) at probability p (x is copied). */
static double quantile7(const double *x, int n, double p, double *work) {
  memcpy(work, x, n * sizeof(double));
  double h = (n - 1) * p;
  int lo = (int) floor(h);
  rPsort(work, n, lo);
  double qlo = work[lo];
  if (lo + 1 >= n || h == lo) return qlo;
  /* the next order statistic is the minimum of the upper part */
  double qhi = R_PosInf;
  for (int i = lo + 1; i < n; i++) if (work[i] < qhi) qhi = work[i];
  return qlo + (h - lo) * (qhi - qlo);
}

static double objective_value(const objective_t *o, const double *tot, int D) {
  if (o->obj == 1) return quantile7(tot, D, o->p, o->work);
  double m = 0.0;
  for (int d = 0; d < D; d++) m += tot[d];
  m /= D;
  if (o->obj == 0) return m;
  double ss = 0.0;
  for (int d = 0; d < D; d++) ss += (tot[d] - m) * (tot[d] - m);
  double sd = D > 1 ? sqrt(ss / (D - 1)) : 0.0;
  return m - o->p * sd;
}

/* Net value per draw of curve k at spend x: f_dk(x) - cost_k x, into out[D]. */
static void curve_column(const hb_curveset *cs, int k, double x, double cost, double *out,
                         eval_buf *b) {
  for (int d = 0; d < cs->D; d++) {
    eval_curve(cs, k, d, &x, 1, out + d, NULL, b);
    out[d] -= cost * x;
  }
}

/* Steps of curve k at step size s: down by td[k] = min(s, x - lo) and up by
 * tu[k] = min(s, hi - x), with the per-draw net columns at both ends. */
static void refresh_steps(const hb_curveset *cs, int k, double s, const double *x, const double *L,
                          const double *H, const double *c, double *td, double *tu, double *dn,
                          double *up, eval_buf *b) {
  R_xlen_t off = (R_xlen_t) cs->D * k;
  td[k] = fmin(s, x[k] - L[k]);
  tu[k] = fmin(s, H[k] - x[k]);
  if (td[k] > 0) curve_column(cs, k, x[k] - td[k], c[k], dn + off, b);
  if (tu[k] > 0) curve_column(cs, k, x[k] + tu[k], c[k], up + off, b);
}

/* Local search from x0 on the exact objective over draws: moves of size s
 * from curve i to curve j (and, when spend_all is FALSE, single-curve moves
 * within the budget slack), accepted when they improve the objective by more
 * than a relative 1e-12; s halves from step0 down to tol. Bounds lo <= x <= hi
 * always hold. Returns list(x, value, per_draw). */
SEXP hb_allocate_local(SEXP type, SEXP beta, SEXP par, SEXP prof, SEXP x0, SEXP lo,
                       SEXP hi, SEXP cost, SEXP objective, SEXP spend_all, SEXP control) {
  hb_curveset cs = read_curves(type, beta, par, prof);
  int K = cs.K, D = cs.D;
  hb_check_vector(x0, "x0", REALSXP, K);
  hb_check_vector(lo, "lo", REALSXP, K);
  hb_check_vector(hi, "hi", REALSXP, K);
  hb_check_vector(cost, "cost", REALSXP, K);
  hb_check_vector(objective, "objective", REALSXP, 2);
  hb_check_vector(control, "control", REALSXP, 3);
  int all = hb_scalar_flag(spend_all, "spend_all");
  const double *L = REAL(lo), *H = REAL(hi), *c = REAL(cost), *ctl = REAL(control);
  char num[32];
  for (int k = 0; k < K; k++) {
    double x = REAL(x0)[k];
    if (!R_FINITE(L[k]) || L[k] < 0 || !(H[k] >= L[k]) || ISNAN(H[k]))
      hb_input_error("hi", "bounds must satisfy 0 <= lo <= hi (lo finite); curve %d has lo %s", k + 1,
                     hb_fmt_num(L[k], num, sizeof num));
    if (!R_FINITE(x) || x < L[k] || x > H[k])
      hb_input_error("x0", "the start must lie within the bounds; found %s for curve %d",
                     hb_fmt_num(x, num, sizeof num), k + 1);
    if (!R_FINITE(c[k])) hb_input_error("cost", "must be finite (curve %d)", k + 1);
  }
  objective_t o;
  o.obj = (int) REAL(objective)[0];
  o.p = REAL(objective)[1];
  if (o.obj < 0 || o.obj > 2 || !R_FINITE(o.p) || (o.obj == 1 && (o.p < 0 || o.p > 1)))
    hb_input_error("objective", "must be c(code 0-2, parameter); quantile levels in [0, 1]");
  double step0 = ctl[0], tol = ctl[1], slack = ctl[2];
  if (!(step0 > 0) || !R_FINITE(step0) || !(tol > 0) || tol > step0 || !(slack >= 0) || !R_FINITE(slack))
    hb_input_error("control", "must be c(step0 > 0, 0 < tol <= step0, slack >= 0)");
  o.work = (double *) R_alloc(D, sizeof(double));
  eval_buf b;
  buf_alloc(&b, cs.T, &cs);
  double *x = (double *) R_alloc(K, sizeof(double));
  memcpy(x, REAL(x0), K * sizeof(double));
  double *col = (double *) R_alloc((R_xlen_t) D * K, sizeof(double));
  double *tot = (double *) R_alloc(D, sizeof(double));
  double *ci = (double *) R_alloc(D, sizeof(double)), *cj = (double *) R_alloc(D, sizeof(double));
  double *trial = (double *) R_alloc(D, sizeof(double));
  memset(tot, 0, D * sizeof(double));
  for (int k = 0; k < K; k++) {
    curve_column(&cs, k, x[k], c[k], col + (R_xlen_t) D * k, &b);
    for (int d = 0; d < D; d++) tot[d] += col[d + (R_xlen_t) D * k];
  }
  double best = objective_value(&o, tot, D);
  /* per-draw columns of each curve one step down and up, refreshed when the
   * step changes or the curve moves: a pair's trial then costs O(D) */
  double *dn = (double *) R_alloc((R_xlen_t) D * K, sizeof(double));
  double *up = (double *) R_alloc((R_xlen_t) D * K, sizeof(double));
  double *td = (double *) R_alloc(K, sizeof(double)), *tu = (double *) R_alloc(K, sizeof(double));
  for (double s = step0; s >= tol; s *= 0.5) {
    for (int k = 0; k < K; k++) refresh_steps(&cs, k, s, x, L, H, c, td, tu, dn, up, &b);
    int improved = 1, sweeps = 0;
    while (improved && sweeps < 1000) {
      improved = 0;
      sweeps++;
      for (int i = 0; i < K; i++) {
        for (int j = -1; j < K; j++) {
          /* j = -1: a single-curve move (only with budget slack allowed) */
          if (j == i) continue;
          if (j < 0 && all) continue;
          for (int dir = 0; dir < (j < 0 ? 2 : 1); dir++) {
            double t, xi, xj = 0.0;
            const double *ni, *nj = NULL;
            if (j >= 0) {
              t = fmin(td[i], tu[j]);
              if (!(t > 0)) continue;
              xi = x[i] - t;
              xj = x[j] + t;
              if (t == td[i]) ni = dn + (R_xlen_t) D * i;
              else { curve_column(&cs, i, xi, c[i], ci, &b); ni = ci; }
              if (t == tu[j]) nj = up + (R_xlen_t) D * j;
              else { curve_column(&cs, j, xj, c[j], cj, &b); nj = cj; }
            } else {
              t = dir == 0 ? td[i] : fmin(tu[i], slack);
              if (!(t > 0)) continue;
              xi = dir == 0 ? x[i] - t : x[i] + t;
              if (dir == 0) ni = dn + (R_xlen_t) D * i;
              else if (t == tu[i]) ni = up + (R_xlen_t) D * i;
              else { curve_column(&cs, i, xi, c[i], ci, &b); ni = ci; }
            }
            const double *oi = col + (R_xlen_t) D * i;
            if (j >= 0) {
              const double *oj = col + (R_xlen_t) D * j;
              for (int d = 0; d < D; d++) trial[d] = tot[d] - oi[d] + ni[d] - oj[d] + nj[d];
            } else {
              for (int d = 0; d < D; d++) trial[d] = tot[d] - oi[d] + ni[d];
            }
            double v = objective_value(&o, trial, D);
            if (v > best + 1e-12 * fabs(best)) {
              best = v;
              memcpy(tot, trial, D * sizeof(double));
              memcpy(col + (R_xlen_t) D * i, ni, D * sizeof(double));
              if (j >= 0) {
                memcpy(col + (R_xlen_t) D * j, nj, D * sizeof(double));
                x[j] = xj;
              } else {
                slack += dir == 0 ? t : -t;
              }
              x[i] = xi;
              refresh_steps(&cs, i, s, x, L, H, c, td, tu, dn, up, &b);
              if (j >= 0) refresh_steps(&cs, j, s, x, L, H, c, td, tu, dn, up, &b);
              improved = 1;
            }
          }
        }
      }
      R_CheckUserInterrupt();
    }
  }
  SEXP res = PROTECT(Rf_allocVector(VECSXP, 3));
  SEXP xr = PROTECT(Rf_allocVector(REALSXP, K));
  memcpy(REAL(xr), x, K * sizeof(double));
  SEXP tr = PROTECT(Rf_allocVector(REALSXP, D));
  memcpy(REAL(tr), tot, D * sizeof(double));
  SET_VECTOR_ELT(res, 0, xr);
  SET_VECTOR_ELT(res, 1, Rf_ScalarReal(best));
  SET_VECTOR_ELT(res, 2, tr);
  static const char *names[3] = {"x", "value", "per_draw"};
  hb_set_names(res, 3, names);
  UNPROTECT(3);
  return res;
}
