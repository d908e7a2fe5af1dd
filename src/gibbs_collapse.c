/* The collapsed block of the Gibbs sampler: the Metropolis steps on media
 * transform parameters with the fixed effects and the group-level effects of
 * one grouping term (the collapsed term T, chosen in R: the one with the most
 * levels) integrated out, then the joint draw of those effects.
 *
 * Why. With tens of thousands of individual-level media slopes held fixed,
 * a change of a channel's decay or Hill shape must be paid for by the fit of
 * every level, so the Metropolis step barely moves (a bulk ESS of a few per
 * thousand draws at 1.2M rows). Given the transforms the model is a linear
 * mixed model, and with u_l ~ N(0, Sigma) integrated out its likelihood
 * factorizes over the levels l of T:
 *   ytil_l ~ N(X_l beta, Pi_l^-1 + Z_l Sigma Z_l'),
 * where ytil = y - (the other terms' effects). With M_l = Sigma^-1 +
 * Z_l' Pi_l Z_l, the determinant lemma and Woodbury's identity reduce it to
 * per-level cross products Z_l' Pi_l [X_l Z_l ytil_l]:
 *   log p(ytil | beta) = const - 1/2 sum_l (log|M_l| + log|Sigma|)
 *                        - 1/2 (beta' A beta - 2 beta' c + yy),
 *   A  = X' Pi X      - sum_l ZX_l' M_l^-1 ZX_l,
 *   c  = X' Pi ytil   - sum_l ZX_l' M_l^-1 Zy_l,
 *   yy = ytil' Pi ytil - sum_l Zy_l' M_l^-1 Zy_l,
 * and beta's normal prior integrates out as in gibbs_fixed.c. A proposal
 * recomputes only the entries that involve the channel's columns: O(n (p +
 * q)) per proposal, plus O(G q^2 (p + q)) for the reduction.
 *
 * A proposal also rescales the channel's rows and columns of Sigma by rho
 * (the ratio of the column's root mean squares, the same factor that scales
 * the other terms' effects on the channel), so that the spread of the
 * channel's effects on the response survives a change of the column's
 * scale; the prior ratio and the Jacobian of that map enter the ratio.
 *
 * After the Metropolis steps, beta is drawn from its marginal and each
 * u_l | beta from N(M_l^-1 (Zy_l - ZX_l beta), M_l^-1): together an exact
 * draw of (beta, u_T) given the rest, so the sweep stays a valid (partially
 * collapsed) Gibbs sampler. */
#include <math.h>
#include <string.h>
#include <Rmath.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "gibbs.h"

/* Threads: the per-level loops (cross-products, reductions, the marginal of
 * Sigma) run on cl->nth threads. Sums over levels are taken per fixed block
 * of levels (HB_LEVEL_BLOCKS, whatever the number of threads) and then added
 * in block order, so every number, and so every draw, is the same for any
 * number of threads. Random numbers are drawn outside these loops. */
static int thread_id(void) {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

/* levels of block b */
void hb_block_range(int G, int nb, int b, int *l0, int *l1) {
  *l0 = (int) ((long long) G * b / nb);
  *l1 = (int) ((long long) G * (b + 1) / nb);
}

/* rows ord[s .. s + len) of x: in place when they are one run, else gathered */
static const double *rows_of(const double *x, const R_xlen_t *ord, R_xlen_t s, R_xlen_t len, int run,
                             double *buf) {
  if (run) return x + ord[s];
  for (R_xlen_t i = 0; i < len; i++) buf[i] = x[ord[s + i]];
  return buf;
}

/* the same rows of the elementwise product a * b */
static const double *rows_prod(const double *a, const double *b, const R_xlen_t *ord, R_xlen_t s,
                               R_xlen_t len, double *buf) {
  for (R_xlen_t i = 0; i < len; i++) buf[i] = a[ord[s + i]] * b[ord[s + i]];
  return buf;
}

static int level_is_run(const hb_term *t, int l) {
  R_xlen_t s0 = t->start[l], s1 = t->start[l + 1];
  return s1 > s0 && t->ord[s1 - 1] - t->ord[s0] == s1 - 1 - s0;
}

void hb_collapse_setup(hb_model *g, int T, int nth, int nest) {
  const hb_term *t = g->t + T;
  const int p = g->p, q = t->q, D = p + q + 1, P1 = p + 1;
  hb_collapse *cl = (hb_collapse *) R_alloc(1, sizeof(hb_collapse));
  memset(cl, 0, sizeof *cl);
  cl->T = T;
  cl->D = D;
  R_xlen_t nl = (R_xlen_t) t->G * q * D;
  cl->L = (double *) R_alloc((size_t) nl, sizeof(double));
  cl->L1 = (double *) R_alloc((size_t) nl, sizeof(double));
  cl->Gx = (double *) R_alloc((size_t) 2 * P1 * P1, sizeof(double));
  cl->Gx1 = cl->Gx + P1 * P1;
  cl->yt = (double *) R_alloc((size_t) g->n, sizeof(double));
  cl->yt1 = (double *) R_alloc((size_t) g->n, sizeof(double));
  cl->A = (double *) R_alloc((size_t) 2 * (p * p + p), sizeof(double));
  cl->A1 = cl->A + p * p;
  cl->c = cl->A1 + p * p;
  cl->c1 = cl->c + p;
  cl->Sig1 = (double *) R_alloc((size_t) 2 * q * q, sizeof(double));
  cl->Sinv1 = cl->Sig1 + q * q;
  cl->nth = nth;
  cl->nb = t->G < HB_LEVEL_BLOCKS ? t->G : HB_LEVEL_BLOCKS;
  cl->Gacc = (double *) R_alloc((size_t) P1 * P1 * (cl->nb + 1), sizeof(double));
  cl->part = (double *) R_alloc((size_t) cl->nb, sizeof(double));
  /* per thread: M (q x q), W (q x (p + 1)), bq (q); row blocks of D
   * columns, weights and products; column pointers */
  cl->ws = (hb_collapse_ws *) R_alloc((size_t) nth, sizeof(hb_collapse_ws));
  for (int h = 0; h < nth; h++) {
    hb_collapse_ws *w = cl->ws + h;
    w->M = (double *) R_alloc((size_t) q * q + q * P1 + q, sizeof(double));
    w->W = w->M + q * q;
    w->bq = w->W + q * P1;
    w->cols = (double *) R_alloc((size_t) (D + 2) * HB_BLOCK, sizeof(double));
    w->colp = (const double **) R_alloc((size_t) D, sizeof(double *));
  }
  cl->bq = cl->ws[0].bq;
  cl->M = cl->ws[0].M;
  cl->cols = cl->ws[0].cols;
  cl->chg = (int *) R_alloc((size_t) D, sizeof(int));
  cl->want = (int *) R_alloc((size_t) q + D, sizeof(int));
  cl->Bv = (double *) R_alloc((size_t) t->G * q, sizeof(double));
  cl->sig_log_step = (double *) R_alloc((size_t) q + q * q, sizeof(double));
  for (int j = 0; j < q + q * q; j++) cl->sig_log_step[j] = -0.5 * log((double) t->G);
  g->cl = cl;
  hb_nested_setup(g, nth, nest);
}

/* M_l = Sigma^-1 + Z_l' Pi_l Z_l (lower triangle) from level l's block Lb;
 * instantiated per small q (HB_SMALL_DIM_CASES): it runs for every level at
 * every Metropolis proposal, and its loop control cost more than its adds */
static HB_ALWAYS_INLINE void level_precision_loops(const double *Sinv, const double *Lb, int p, const int q,
                                                   double *M) {
  const double *Z = Lb + q * p;
  HB_UNROLL
  for (int a = 0; a < q; a++) {
    HB_UNROLL
    for (int b = a; b < q; b++) M[b + a * q] = Sinv[b + a * q] + Z[b + q * a];
  }
}

void hb_level_precision(const double *Sinv, const double *Lb, int p, int d, double *M) {
#define HB_CALL(dim) level_precision_loops(Sinv, Lb, p, dim, M); return
  HB_SMALL_DIM_CASES(HB_CALL)
#undef HB_CALL
}

/* log|Sigma| of a q x q covariance from its inverse; M: q x q scratch */
double hb_log_det_sigma(const double *Sinv, int q, double *M) {
  memcpy(M, Sinv, sizeof(double) * q * q);
  if (hb_chol(M, q) != 0) return R_NaN;
  return -hb_log_det_chol(M, q);
}

int hb_term_collapsed(const hb_model *g, int k) {
  const hb_collapse *cl = g->cl;
  return cl != NULL && (k == cl->T || (cl->nest != NULL && cl->nest->full && k == cl->nest->P));
}

/* Index in Gx ((p + 1) x (p + 1), [X ytil]) of column a of [X Z ytil], or -1. */
static int gx_index(int a, int p, int q) { return a < p ? a : (a == p + q ? p : -1); }

/* The reduction: A, c, *yy from the per-level statistics L and the global
 * Gx at Sigma^-1 = Sinv; returns the levels' part of the log marginal,
 * -(sum_l log|M_l| + G log|Sigma|) / 2, or -Inf when some M_l is not
 * positive definite. The fixed effects' part, hb_fixed_log_marginal(),
 * depends on the channel asking when some coefficients are positive. */
static double reduce_flat(const hb_model *g, const double *L, const double *Gx, const double *Sinv, double ldS,
                          double *A, double *c, double *yy) {
  const hb_collapse *cl = g->cl;
  const hb_term *t = g->t + cl->T;
  const int p = g->p, q = t->q, D = cl->D, P1 = p + 1, nb = cl->nb;
  double *Gacc = cl->Gacc + (R_xlen_t) nb * P1 * P1;
  int fail = 0;
#ifdef _OPENMP
#pragma omp parallel for num_threads(cl->nth) schedule(static) reduction(| : fail) if (cl->nth > 1)
#endif
  for (int b = 0; b < nb; b++) {
    hb_collapse_ws *w = cl->ws + thread_id();
    double *M = w->M, *W = w->W, *Gb = cl->Gacc + (R_xlen_t) b * P1 * P1, ldb = 0.0;
    memset(Gb, 0, sizeof(double) * P1 * P1);
    int l0, l1;
    hb_block_range(t->G, nb, b, &l0, &l1);
    for (int l = l0; l < l1 && !fail; l++) {
      const double *Lb = L + (R_xlen_t) l * q * D;
      hb_level_precision(Sinv, Lb, p, q, M);
      if (hb_chol(M, q) != 0) {
        fail = 1;
        break;
      }
      ldb += hb_log_det_chol(M, q);
      for (int a = 0; a < P1; a++)
        memcpy(W + (R_xlen_t) a * q, Lb + (R_xlen_t) q * (a < p ? a : p + q), sizeof(double) * q);
      hb_schur_acc(M, q, W, P1, Gb);
    }
    cl->part[b] = ldb;
  }
  if (fail) return R_NegInf;
  double ld = t->G * ldS;
  memset(Gacc, 0, sizeof(double) * P1 * P1);
  for (int b = 0; b < nb; b++) {
    ld += cl->part[b];
    const double *Gb = cl->Gacc + (R_xlen_t) b * P1 * P1;
    for (int a = 0; a < P1 * P1; a++) Gacc[a] += Gb[a];
  }
  hb_reduce_finish(p, Gx, Gacc, A, c, yy);
  return -0.5 * ld;
}

void hb_reduce_finish(int p, const double *Gx, const double *Gacc, double *A, double *c, double *yy) {
  const int P1 = p + 1;
  for (int a = 0; a < p; a++) {
    for (int b = a; b < p; b++) A[b + a * p] = A[a + b * p] = Gx[b + a * P1] - Gacc[b + a * P1];
    c[a] = Gx[p + a * P1] - Gacc[p + a * P1];
  }
  *yy = Gx[p + p * P1] - Gacc[p + p * P1];
}

/* The reduction at T's Sigma^-1 = Sinv and, when the nested block is full
 * (its parent term integrated out as well), the parent's Sinv2. */
static double reduce(const hb_model *g, const double *L, const double *Gx, const double *Sinv, double ldS,
                     const double *Sinv2, double ldS2, double *A, double *c, double *yy) {
  if (g->cl->nest != NULL && g->cl->nest->full)
    return hb_nested_reduce(g, L, Gx, Sinv, ldS, Sinv2, ldS2, A, c, yy);
  return reduce_flat(g, L, Gx, Sinv, ldS, A, c, yy);
}

/* Gx over all rows: every entry (chg NULL), or only the rows and columns of
 * [X ytil] whose column of [X Z ytil] is flagged in chg, the others kept.
 * A flagged fixed column is the proposal's, Xs x mnew; yt is ytil. */
static void global_stats(const hb_model *g, double *Gx, const int *chg, const double *mnew, const double *yt) {
  const hb_collapse *cl = g->cl;
  const int p = g->p, P1 = p + 1, q = g->t[cl->T].q;
  const R_xlen_t n = g->n;
  int fl[HB_MAX_P + 1];
  for (int a = 0; a < P1; a++) {
    fl[a] = chg == NULL || chg[a < p ? a : p + q];
    if (fl[a])
      for (int b = 0; b < P1; b++) Gx[a + b * P1] = 0.0;
  }
  const double *x[HB_MAX_P + 1];
  double *pw = cl->cols + (R_xlen_t) P1 * HB_BLOCK;
  for (R_xlen_t i0 = 0; i0 < n; i0 += HB_BLOCK) {
    R_xlen_t len = n - i0 < HB_BLOCK ? n - i0 : HB_BLOCK;
    for (int a = 0; a < p; a++) {
      if (chg != NULL && chg[a]) {
        double *buf = cl->cols + (R_xlen_t) a * HB_BLOCK;
        hb_vmul(g->Xs + (R_xlen_t) a * n + i0, mnew + i0, buf, len);
        x[a] = buf;
      } else {
        x[a] = g->Xcol[a] + i0;
      }
    }
    x[p] = yt + i0;
    for (int a = 0; a < P1; a++) {
      if (!fl[a]) continue;
      hb_vmul(g->prec + i0, x[a], pw, len);
      for (int b = 0; b < P1; b++) Gx[a + b * P1] += hb_dot(pw, x[b], len);
    }
  }
  for (int a = 0; a < P1; a++)
    if (fl[a])
      for (int b = 0; b < P1; b++) Gx[b + a * P1] = Gx[a + b * P1];
}

/* Where the columns of [X Z ytil] come from: the current state, or, for the
 * columns flagged in chg, the proposal (the channel's new media mnew times
 * the static part, and the proposal's ytil yt). */
typedef struct {
  const hb_model *g;
  const double *mnew, *yt; /* proposal: the channel's new media, ytil */
  const int *chg;
} col_src;

/* Columns of rows ord[s .. s + len) of level rows into colp[0 .. D) */
static void level_columns(const col_src *src, R_xlen_t s, R_xlen_t len, int run, const double **colp,
                          double *buf) {
  const hb_model *g = src->g;
  const hb_term *t = g->t + g->cl->T;
  const int p = g->p, q = t->q, D = g->cl->D;
  const R_xlen_t n = g->n;
  for (int a = 0; a < D; a++) {
    double *b = buf + (R_xlen_t) a * HB_BLOCK;
    int fresh = src->chg != NULL && src->chg[a];
    if (a == p + q) {
      colp[a] = rows_of(fresh ? src->yt : g->cl->yt, t->ord, s, len, run, b);
    } else if (a < p) {
      colp[a] = fresh ? rows_prod(g->Xs + (R_xlen_t) a * n, src->mnew, t->ord, s, len, b)
                      : rows_of(g->Xcol[a], t->ord, s, len, run, b);
    } else if (t->xmap[a - p] >= 0) {
      colp[a] = colp[t->xmap[a - p]]; /* the same values as a fixed column */
    } else {
      colp[a] = fresh ? rows_prod(t->Zs + (R_xlen_t) (a - p) * n, src->mnew, t->ord, s, len, b)
                      : rows_of(t->Zcol[a - p], t->ord, s, len, run, b);
    }
  }
}

/* Per level, Z_l' Pi_l [X_l Z_l ytil_l] into L: every entry (chg NULL), or
 * only the entries in a flagged row or column, the others copied from L0.
 * A column of Z equal to a fixed column (xmap) is not computed twice. */
static void level_stats(const col_src *src, const double *L0, double *L) {
  const hb_model *g = src->g;
  const hb_collapse *cl = g->cl;
  const hb_term *t = g->t + cl->T;
  const int p = g->p, q = t->q, D = cl->D;
  const int *chg = src->chg;
  int *rows = cl->want, *cols = rows + q;
  for (int j = 0; j < q; j++) rows[j] = chg == NULL || chg[p + j];
  for (int a = 0; a < D; a++) {
    int dup = a >= p && a < p + q && t->xmap[a - p] >= 0;
    cols[a] = dup ? 0 : (chg != NULL && chg[a] ? 2 : 1);
  }
  /* the changed rows of Z (a proposal changes one channel's: few) and the
   * columns of Z that repeat a fixed column, listed once for all levels */
  int nrow = 0, row_chg[HB_MAX_Q], ndup = 0, dup_col[HB_MAX_Q];
  for (int j = 0; j < q; j++) {
    if (chg != NULL && chg[p + j]) row_chg[nrow++] = j;
    if (t->xmap[j] >= 0) dup_col[ndup++] = j;
  }
  /* each level writes only its own block of L: no sums across levels */
#ifdef _OPENMP
#pragma omp parallel for num_threads(cl->nth) schedule(static) if (cl->nth > 1)
#endif
  for (int l = 0; l < t->G; l++) {
    hb_collapse_ws *w = cl->ws + thread_id();
    double *Lb = L + (R_xlen_t) l * q * D;
    if (chg == NULL) {
      memset(Lb, 0, sizeof(double) * q * D);
    } else {
      memcpy(Lb, L0 + (R_xlen_t) l * q * D, sizeof(double) * q * D);
      for (int a = 0; a < D; a++) {
        double *col = Lb + (R_xlen_t) q * a;
        if (chg[a]) {
          memset(col, 0, sizeof(double) * q);
        } else {
          for (int k = 0; k < nrow; k++) col[row_chg[k]] = 0.0;
        }
      }
    }
    R_xlen_t s0 = t->start[l], s1 = t->start[l + 1];
    int run = level_is_run(t, l);
    for (R_xlen_t s = s0; s < s1; s += HB_BLOCK) {
      R_xlen_t len = s1 - s < HB_BLOCK ? s1 - s : HB_BLOCK;
      level_columns(src, s, len, run, w->colp, w->cols);
      const double *wt = rows_of(g->prec, t->ord, s, len, run, w->cols + (R_xlen_t) D * HB_BLOCK);
      hb_gram_block(w->colp + p, q, w->colp, D, wt, len, rows, cols, Lb);
    }
    for (int k = 0; k < ndup; k++) {
      int j2 = dup_col[k];
      memcpy(Lb + (R_xlen_t) q * (p + j2), Lb + (R_xlen_t) q * t->xmap[j2], sizeof(double) * q);
    }
  }
}

/* Start of the Metropolis steps: ytil with beta and u_T added back, every
 * statistic at the current state, and its log marginal. */
void hb_collapse_prepare(hb_model *g) {
  hb_collapse *cl = g->cl;
  const hb_term *t = g->t + cl->T;
  const R_xlen_t n = g->n;
  const int q = t->q;
  memcpy(cl->yt, g->r, sizeof(double) * n);
  for (int j = 0; j < g->p; j++) hb_axpy(g->beta[j], g->Xcol[j], cl->yt, n);
  for (R_xlen_t i = 0; i < n; i++) {
    const double *ul = t->u + (R_xlen_t) q * t->g[i];
    double zu = 0.0;
    for (int j = 0; j < q; j++) zu += t->Zcol[j][i] * ul[j];
    cl->yt[i] += zu;
  }
  hb_nested *ne = cl->nest;
  const hb_term *pt = ne != NULL ? g->t + ne->P : NULL;
  if (ne != NULL && ne->full) { /* the parent's effects are integrated out too */
    for (R_xlen_t i = 0; i < n; i++) {
      const double *ul = pt->u + (R_xlen_t) pt->q * pt->g[i];
      double zu = 0.0;
      for (int j = 0; j < pt->q; j++) zu += pt->Zcol[j][i] * ul[j];
      cl->yt[i] += zu;
    }
    ne->ldS = hb_log_det_sigma(pt->Sinv, pt->q, ne->M2);
  }
  col_src src = {g, NULL, NULL, NULL};
  level_stats(&src, NULL, cl->L);
  global_stats(g, cl->Gx, NULL, NULL, cl->yt);
  cl->ldS = hb_log_det_sigma(t->Sinv, q, cl->M);
  cl->lev = reduce(g, cl->L, cl->Gx, t->Sinv, cl->ldS, pt ? pt->Sinv : NULL, ne ? ne->ldS : 0.0, cl->A, cl->c,
                   &cl->yy);
  if (!R_FINITE(cl->lev) || !R_FINITE(hb_fixed_log_marginal(g, cl->A, cl->c, cl->yy, -1)))
    hb_sampler_error("the collapsed likelihood of group-level term %d is not finite", cl->T + 1);
}

/* log p(Sigma') - log p(Sigma) + log Jacobian for Sigma' = R Sigma R with
 * R = diag(exp(lr)) (Sinv1 = R^-1 Sigma^-1 R^-1), under the term's prior:
 * inverse-gamma variances (diag), IG(nu/2, nu/a_j) given the Huang-Wand
 * auxiliaries (hw_diag), inverse-Wishart IW(df, S) (full) or IW(nu + q - 1,
 * 2 nu diag(1/a)) (hw_full). The Jacobian of the map is prod_j R_j^2 on the
 * variances of a diagonal term and prod_j R_j^(q+1) on a full matrix. */
double hb_sigma_scale_logratio(const hb_term *t, const double *Sinv1, const double *lr) {
  const int q = t->q;
  double slr = 0.0;
  for (int j = 0; j < q; j++) slr += lr[j];
  if (hb_cov_diagonal(t->type)) {
    double out = 2.0 * slr;
    for (int j = 0; j < q; j++) {
      if (lr[j] == 0.0) continue;
      double a = t->type == HB_COV_DIAG ? t->ig[2 * j] : 0.5 * t->hw_nu;
      double b = t->type == HB_COV_DIAG ? t->ig[2 * j + 1] : t->hw_nu / t->hw_a[j];
      out += -(a + 1.0) * 2.0 * lr[j] - b * (Sinv1[j + j * q] - t->Sinv[j + j * q]);
    }
    return out;
  }
  double df = t->type == HB_COV_FULL ? t->iw_df : t->hw_nu + q - 1.0, tr = 0.0;
  for (int a = 0; a < q; a++)
    for (int b = 0; b < q; b++) {
      double sab = t->type == HB_COV_FULL ? t->iw_S[a + b * q] : (a == b ? 2.0 * t->hw_nu / t->hw_a[a] : 0.0);
      tr += sab * (Sinv1[b + a * q] - t->Sinv[b + a * q]);
    }
  return -(df + q + 1.0) * slr - 0.5 * tr + (q + 1.0) * slr;
}

/* Sigma' = R Sigma R and its inverse for R = diag(exp(lr)) into Sig1, Sinv1. */
void hb_sigma_scaled(const hb_term *t, const double *lr, double *Sig1, double *Sinv1) {
  const int q = t->q;
  for (int a = 0; a < q; a++)
    for (int b = 0; b < q; b++) {
      double r = exp(lr[a] + lr[b]);
      Sig1[a + b * q] = t->Sigma[a + b * q] * r;
      Sinv1[a + b * q] = t->Sinv[a + b * q] / r;
    }
}

/* The log Metropolis ratio (likelihood and Sigma's prior part) of moving
 * channel c's media to mnew, the other terms' effects on it scaled by rho
 * (zcoef: what multiplies the media in their fit; ychg: whether they have
 * any), and T's Sigma rescaled by rho. The proposal is kept for
 * hb_collapse_accept(). */
double hb_collapse_propose(hb_model *g, int c, const double *mnew, const double *zcoef, double rho, int ychg,
                           double roi_f) {
  hb_collapse *cl = g->cl;
  const hb_term *t = g->t + cl->T;
  const R_xlen_t n = g->n;
  const int p = g->p, q = t->q;
  int *chg = cl->chg, nz = 0;
  for (int a = 0; a < p; a++) chg[a] = g->xc[a] == c;
  for (int j = 0; j < q; j++) nz += chg[p + j] = t->zc[j] == c;
  chg[p + q] = cl->ychg = ychg;
  if (ychg) {
    const double *mold = g->media + (R_xlen_t) c * n;
    for (R_xlen_t i = 0; i < n; i++) cl->yt1[i] = cl->yt[i] - zcoef[i] * (rho * mnew[i] - mold[i]);
  }
  col_src src = {g, mnew, ychg ? cl->yt1 : cl->yt, chg};
  level_stats(&src, cl->L, cl->L1);
  memcpy(cl->Gx1, cl->Gx, sizeof(double) * (p + 1) * (p + 1));
  global_stats(g, cl->Gx1, chg, mnew, ychg ? cl->yt1 : cl->yt);
  double lr[HB_MAX_Q];
  for (int j = 0; j < q; j++) lr[j] = chg[p + j] ? log(rho) : 0.0;
  hb_sigma_scaled(t, lr, cl->Sig1, cl->Sinv1);
  cl->ldS1 = cl->ldS + 2.0 * nz * log(rho);
  /* a full nested block's parent: its Sigma rescaled by rho like T's */
  hb_nested *ne = cl->nest;
  const hb_term *pt = ne != NULL && ne->full ? g->t + ne->P : NULL;
  double lprior = nz ? hb_sigma_scale_logratio(t, cl->Sinv1, lr) : 0.0;
  if (pt != NULL) {
    double lr2[HB_MAX_Q];
    int nz2 = 0;
    for (int j = 0; j < pt->q; j++) {
      lr2[j] = pt->zc[j] == c ? log(rho) : 0.0;
      nz2 += pt->zc[j] == c;
    }
    hb_sigma_scaled(pt, lr2, ne->Sig1, ne->Sinv1);
    ne->ldS1 = ne->ldS + 2.0 * nz2 * log(rho);
    if (nz2) lprior += hb_sigma_scale_logratio(pt, ne->Sinv1, lr2);
  }
  cl->lev1 = reduce(g, cl->L1, cl->Gx1, cl->Sinv1, cl->ldS1, pt ? ne->Sinv1 : NULL, pt ? ne->ldS1 : 0.0, cl->A1,
                    cl->c1, &cl->yy1);
  if (!R_FINITE(cl->lev1)) return R_NegInf;
  double lm1 = hb_fixed_log_marginal_at(g, cl->A1, cl->c1, cl->yy1, c, roi_f) + cl->lev1;
  double lm0 = hb_fixed_log_marginal(g, cl->A, cl->c, cl->yy, c) + cl->lev;
  return lm1 - lm0 + lprior;
}

/* The kept proposal becomes the state (the caller updates the media, the
 * parameters, the other terms' effects and the design columns). */
void hb_collapse_accept(hb_model *g) {
  hb_collapse *cl = g->cl;
  hb_term *t = g->t + cl->T;
  const int q = t->q;
  double *s;
#define SWAP(x, y) (s = (x), (x) = (y), (y) = s)
  SWAP(cl->L, cl->L1);
  SWAP(cl->Gx, cl->Gx1);
  SWAP(cl->A, cl->A1);
  SWAP(cl->c, cl->c1);
  if (cl->ychg) SWAP(cl->yt, cl->yt1);
#undef SWAP
  cl->yy = cl->yy1;
  cl->lev = cl->lev1;
  cl->ldS = cl->ldS1;
  memcpy(t->Sigma, cl->Sig1, sizeof(double) * q * q);
  memcpy(t->Sinv, cl->Sinv1, sizeof(double) * q * q);
  hb_nested *ne = cl->nest;
  if (ne != NULL && ne->full) {
    hb_term *pt = g->t + ne->P;
    memcpy(pt->Sigma, ne->Sig1, sizeof(double) * pt->q * pt->q);
    memcpy(pt->Sinv, ne->Sinv1, sizeof(double) * pt->q * pt->q);
    ne->ldS = ne->ldS1;
  }
}

/* After the Metropolis steps on media: beta from its marginal (u_T
 * integrated out), and each level's b_l = Zy_l - ZX_l beta for the steps on
 * Sigma and the draw of u_T. */
void hb_collapse_draw_beta(hb_model *g) {
  hb_collapse *cl = g->cl;
  const hb_term *t = g->t + cl->T;
  const int p = g->p, q = t->q, D = cl->D;
  hb_beta_draw_from(g, cl->A, cl->c);
  for (int l = 0; l < t->G; l++) {
    const double *Lb = cl->L + (R_xlen_t) l * q * D;
    double *bl = cl->Bv + (R_xlen_t) l * q;
    for (int a = 0; a < q; a++) {
      double s = Lb[a + q * (p + q)];
      for (int j = 0; j < p; j++) s -= Lb[a + q * j] * g->beta[j];
      bl[a] = s;
    }
  }
}

/* log p(ytil | beta, Sigma) up to a constant, u_T integrated out:
 * sum_l (b_l' M_l^-1 b_l - log|M_l|) / 2 - G log|Sigma| / 2. */
static double sigma_marginal(const hb_model *g, const double *Sinv, double ldS) {
  const hb_collapse *cl = g->cl;
  const hb_term *t = g->t + cl->T;
  const int p = g->p, q = t->q, D = cl->D, nb = cl->nb;
  int fail = 0;
#ifdef _OPENMP
#pragma omp parallel for num_threads(cl->nth) schedule(static) reduction(| : fail) if (cl->nth > 1)
#endif
  for (int b = 0; b < nb; b++) {
    hb_collapse_ws *ws = cl->ws + thread_id();
    double *M = ws->M, *w = ws->bq, fb = 0.0;
    int l0, l1;
    hb_block_range(t->G, nb, b, &l0, &l1);
    for (int l = l0; l < l1; l++) {
      const double *Lb = cl->L + (R_xlen_t) l * q * D;
      hb_level_precision(Sinv, Lb, p, q, M);
      if (hb_chol(M, q) != 0) {
        fail = 1;
        break;
      }
      memcpy(w, cl->Bv + (R_xlen_t) l * q, sizeof(double) * q);
      hb_trsv_lower(M, q, w);
      fb += 0.5 * hb_dot(w, w, q) - 0.5 * hb_log_det_chol(M, q);
    }
    cl->part[b] = fb;
  }
  if (fail) return R_NegInf;
  double out = -0.5 * t->G * ldS;
  for (int b = 0; b < nb; b++) out += cl->part[b];
  return out;
}

/* Robbins-Monro adaptation of a log step size towards 44% acceptance. */
static void adapt_step(double *ls, int it, int accepted) {
  *ls += (accepted - 0.44) / pow(it + 1.0, 0.6);
  if (*ls > 2.0) *ls = 2.0;
  if (*ls < -12.0) *ls = -12.0;
}

/* Sigma' = A Sigma A' and Sigma'^-1 for the shear A = I + e E_ab (column b
 * added e times to column a): det A = 1, so log|Sigma| and the Jacobian
 * are unchanged. */
static void sigma_sheared(const hb_term *t, int a, int b, double e, double *Sig1, double *Sinv1) {
  const int q = t->q;
  const double *S = t->Sigma, *Si = t->Sinv;
  for (int i = 0; i < q; i++)
    for (int j = 0; j < q; j++) {
      double v = S[i + j * q], w = Si[i + j * q];
      if (i == a) v += e * S[b + j * q];
      if (j == a) v += e * S[i + b * q];
      if (i == a && j == a) v += e * e * S[b + b * q];
      if (i == b) w -= e * Si[a + j * q];
      if (j == b) w -= e * Si[i + a * q];
      if (i == b && j == b) w += e * e * Si[a + a * q];
      Sig1[i + j * q] = v;
      Sinv1[i + j * q] = w;
    }
}

/* One Metropolis step of mv's covariance to (Sig1, Sinv1, ldS1) given the
 * current marginal *f0 and the log prior-and-Jacobian ratio; returns 1 if
 * taken. */
static int sigma_step(hb_model *g, const hb_sigma_mover *mv, double ldS1, double lprior, double *f0) {
  hb_term *t = mv->t;
  const int q = t->q;
  double f1 = mv->marginal(g, mv->Sinv1, ldS1), log_ratio = f1 - *f0 + lprior;
  if (!(R_FINITE(log_ratio) && log(hb_rng_unif(g->rng)) < log_ratio)) return 0;
  memcpy(t->Sigma, mv->Sig1, sizeof(double) * q * q);
  memcpy(t->Sinv, mv->Sinv1, sizeof(double) * q * q);
  *mv->ldS = ldS1;
  *f0 = f1;
  return 1;
}

/* One round of Metropolis steps on a term's covariance with its effects
 * integrated out (mv->marginal). Conditioning on the effects instead, the
 * conjugate draw of Sigma barely moves when the data say little about each
 * level (a lag-1 autocorrelation of 0.95 for an individual-level media sd
 * with 20 rows per individual), while the marginal given beta is sharp only
 * in what the data determine. Two moves: each column's sd scaled by exp(e)
 * (correlations kept), and, for a full covariance, shears that move the
 * correlation of column j with a column chosen at random. Step sizes adapt
 * during warmup towards 44% acceptance; the prior ratio is that of the
 * term's covariance prior. */
void hb_sigma_round(hb_model *g, const hb_sigma_mover *mv, int it, int adapt) {
  hb_term *t = mv->t;
  const int q = t->q;
  double f0 = mv->marginal(g, t->Sinv, *mv->ldS);
  double lr[HB_MAX_Q];
  memset(lr, 0, sizeof(double) * q);
  for (int j = 0; j < q; j++) {
    lr[j] = exp(mv->log_step[j]) * hb_rng_norm(g->rng);
    hb_sigma_scaled(t, lr, mv->Sig1, mv->Sinv1);
    int acc = sigma_step(g, mv, *mv->ldS + 2.0 * lr[j], hb_sigma_scale_logratio(t, mv->Sinv1, lr), &f0);
    if (adapt) adapt_step(mv->log_step + j, it, acc);
    lr[j] = 0.0;
  }
  if (hb_cov_diagonal(t->type) || q < 2) return;
  /* two shears per column: the correlations are otherwise the slowest */
  for (int a2 = 0; a2 < 2 * q; a2++) {
    int a = a2 % q;
    int b = (a + 1 + (int) (hb_rng_unif(g->rng) * (q - 1))) % q; /* another column, uniformly */
    if (b == a) continue; /* a uniform of 1 cannot happen, but stay safe */
    double *ls = mv->log_step + q + a + q * b;
    sigma_sheared(t, a, b, exp(*ls) * hb_rng_norm(g->rng), mv->Sig1, mv->Sinv1);
    int acc = sigma_step(g, mv, *mv->ldS, hb_sigma_scale_logratio(t, mv->Sinv1, lr), &f0);
    if (adapt) adapt_step(ls, it, acc);
  }
}

/* Three rounds of both moves per sweep on the collapsed term's covariance
 * (u_T integrated out, given beta and the other terms): sds and
 * correlations of a term whose levels carry little information each are the
 * slowest quantities of the chain, and a step costs one Cholesky factor of
 * order q per level. */
void hb_collapse_sigma_mh(hb_model *g, int it, int adapt) {
  hb_collapse *cl = g->cl;
  hb_sigma_mover mv = {g->t + cl->T, &cl->ldS, cl->sig_log_step, cl->Sig1, cl->Sinv1, sigma_marginal};
  for (int round = 0; round < 3; round++) hb_sigma_round(g, &mv, it, adapt);
}

/* u_l | beta, Sigma ~ N(M_l^-1 b_l, M_l^-1) for every level, then the
 * residual r = ytil - X beta - Z_T u_T. */
void hb_collapse_draw_effects(hb_model *g) {
  hb_collapse *cl = g->cl;
  hb_term *t = g->t + cl->T;
  const int p = g->p, q = t->q, D = cl->D;
  const R_xlen_t n = g->n;
  double *M = cl->M;
  for (int l = 0; l < t->G; l++) {
    const double *Lb = cl->L + (R_xlen_t) l * q * D;
    hb_level_precision(t->Sinv, Lb, p, q, M);
    if (hb_mvn_precision_draw(g->rng, M, cl->Bv + (R_xlen_t) l * q, q, t->u + (R_xlen_t) q * l, NULL) != 0)
      hb_sampler_error("the conditional precision of group-level effects is not positive definite");
  }
  memcpy(g->r, cl->yt, sizeof(double) * n);
  for (int j = 0; j < p; j++) hb_axpy(-g->beta[j], g->Xcol[j], g->r, n);
  for (R_xlen_t i = 0; i < n; i++) {
    const double *ul = t->u + (R_xlen_t) q * t->g[i];
    double zu = 0.0;
    for (int j = 0; j < q; j++) zu += t->Zcol[j][i] * ul[j];
    g->r[i] -= zu;
  }
}
