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

/* Which columns of [X Z ytil] a block of L stores. When Z's columns are a
 * run of X's columns in order (random intercept and slopes of fixed
 * columns, the usual case), Z_l' Pi_l Z_l is part of Z_l' Pi_l X_l and
 * only [X ytil] is stored: at 1.2M rows with six of each, 42 doubles per
 * level instead of 78, and every proposal copies and reads L (its memory
 * traffic bounds a sweep when two chains share the cores). Otherwise all
 * p + q + 1 columns are stored, a column of Z equal to a fixed column
 * copied from it. */
static void collapse_layout(hb_collapse *cl, const hb_term *t, int p) {
  const int q = t->q, nc = p + q + 1;
  int run = t->xmap[0] >= 0;
  for (int j = 1; j < q && run; j++) run = t->xmap[j] == t->xmap[0] + j;
  cl->nc = nc;
  cl->D = run ? p + 1 : nc;
  cl->lc = (int *) R_alloc((size_t) nc, sizeof(int));
  cl->pl = (int *) R_alloc((size_t) cl->D, sizeof(int));
  for (int a = 0; a < nc; a++) {
    int at = a;
    if (run && a >= p) at = a == p + q ? p : t->xmap[a - p];
    cl->lc[a] = at;
    if (!run || a < p || a == p + q) cl->pl[at] = a;
  }
  cl->zz = cl->lc[p];
}

void hb_collapse_setup(hb_model *g, int T, int nth, int nest) {
  const hb_term *t = g->t + T;
  const int p = g->p, q = t->q, P1 = p + 1;
  hb_collapse *cl = (hb_collapse *) R_alloc(1, sizeof(hb_collapse));
  memset(cl, 0, sizeof *cl);
  cl->T = T;
  collapse_layout(cl, t, p);
  const int D = cl->D, nc = cl->nc;
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
  cl->lsum = (double *) R_alloc((size_t) (cl->nb + 1) * (q * D + 1), sizeof(double));
  /* per thread: M (q x q), W (q x (p + 1)), bq (q); row blocks of the nc
   * columns, weights and products; pointers to the columns, then to the
   * stored ones */
  cl->ws = (hb_collapse_ws *) R_alloc((size_t) nth, sizeof(hb_collapse_ws));
  for (int h = 0; h < nth; h++) {
    hb_collapse_ws *w = cl->ws + h;
    w->M = (double *) R_alloc((size_t) q * q + q * P1 + q, sizeof(double));
    w->W = w->M + q * q;
    w->bq = w->W + q * P1;
    w->cols = (double *) R_alloc((size_t) (nc + 2) * HB_BLOCK, sizeof(double));
    w->colp = (const double **) R_alloc((size_t) nc + D, sizeof(double *));
    w->lanes = hb_lanes_fit(q, P1) ? (double *) R_alloc(hb_lanes_ws_size(q, P1), sizeof(double)) : NULL;
  }
  if (hb_lanes_fit(q, P1)) { /* blocks of levels packed eight at a time for sigma_marginal() */
    cl->pk_off = (ptrdiff_t *) R_alloc((size_t) cl->nb + 1, sizeof(ptrdiff_t));
    cl->pk_off[0] = 0;
    for (int b = 0; b < cl->nb; b++) {
      int l0, l1;
      hb_block_range(t->G, cl->nb, b, &l0, &l1);
      cl->pk_off[b + 1] = cl->pk_off[b] + (ptrdiff_t) hb_lanes_pack_size(q, l1 - l0);
    }
    cl->pk = (double *) R_alloc((size_t) cl->pk_off[cl->nb] + 1, sizeof(double));
  }
  cl->bq = cl->ws[0].bq;
  cl->M = cl->ws[0].M;
  cl->cols = cl->ws[0].cols;
  cl->chg = (int *) R_alloc((size_t) nc, sizeof(int));
  cl->want = (int *) R_alloc((size_t) q + D, sizeof(int));
  cl->Bv = (double *) R_alloc((size_t) t->G * q, sizeof(double));
  cl->sig_log_step = (double *) R_alloc((size_t) q + q * q, sizeof(double));
  for (int j = 0; j < q + q * q; j++) cl->sig_log_step[j] = -0.5 * log((double) t->G);
  g->cl = cl;
  hb_nested_setup(g, nth, nest);
}

int hb_term_collapsed(const hb_model *g, int k) {
  const hb_collapse *cl = g->cl;
  return cl != NULL && (k == cl->T || (cl->nest != NULL && cl->nest->full && k == cl->nest->P));
}

/* Block b of levels' part of the reduction at Sigma^-1 = Sinv: the Schur
 * terms of its levels into Gacc's block b and the sum of their log|M_l|
 * into part[b]; nonzero when some M_l is not positive definite. */
static int reduce_block(const hb_model *g, const double *L, const double *Sinv, int b, hb_collapse_ws *w) {
  const hb_collapse *cl = g->cl;
  const hb_term *t = g->t + cl->T;
  const int p = g->p, q = t->q, D = cl->D, P1 = p + 1;
  double *M = w->M, *W = w->W, *Gb = cl->Gacc + (R_xlen_t) b * P1 * P1, ldb = 0.0;
  memset(Gb, 0, sizeof(double) * P1 * P1);
  int l0, l1, fail = 0;
  hb_block_range(t->G, cl->nb, b, &l0, &l1);
  if (w->lanes != NULL) {
    hb_level_mats lm = {Sinv, L, (ptrdiff_t) q * D, q * cl->zz, q};
    int col[HB_LANE_MMAX];
    for (int a = 0; a < P1; a++) col[a] = q * cl->lc[a < p ? a : p + q];
    fail = hb_lanes_schur(&lm, col, P1, l0, l1, w->lanes, Gb, &ldb);
    l1 = l0; /* done */
  }
  for (int l = l0; l < l1; l++) {
    const double *Lb = L + (R_xlen_t) l * q * D;
    hb_level_precision(Sinv, Lb, cl->zz, q, M);
    if (hb_chol(M, q) != 0) {
      fail = 1;
      break;
    }
    ldb += hb_log_det_chol(M, q);
    for (int a = 0; a < P1; a++)
      memcpy(W + (R_xlen_t) a * q, Lb + (R_xlen_t) q * cl->lc[a < p ? a : p + q], sizeof(double) * q);
    hb_schur_acc(M, q, W, P1, Gb);
  }
  cl->part[b] = ldb;
  return fail;
}

/* The reduction, once every block's part is in (level_stats() computes
 * them): A, c, *yy from the blocks' Schur terms and the global Gx;
 * returns the levels' part of the log marginal, -(sum_l log|M_l| + G
 * log|Sigma|) / 2, or -Inf when some M_l is not positive definite (fail).
 * The fixed effects' part, hb_fixed_log_marginal(), depends on the channel
 * asking when some coefficients are positive. A full nested block
 * eliminates per parent level instead (hb_nested_reduce()). */
static double reduce_flat_finish(const hb_model *g, int fail, const double *Gx, double ldS, double *A, double *c,
                                 double *yy) {
  const hb_collapse *cl = g->cl;
  if (fail) return R_NegInf;
  return -0.5 * (g->t[cl->T].G * ldS + hb_reduce_finish(g->p, cl->nb, cl->Gacc, cl->part, Gx, A, c, yy));
}

/* Gx: every entry (chg NULL), or only the rows and columns of [X ytil]
 * whose column of [X Z ytil] is flagged in chg, the others kept. Every row
 * is in some level of T, so an entry that involves a fixed column repeated
 * by a column j of Z is a sum over levels of row j of the blocks
 * level_stats() just computed, and ytil' Pi ytil is summed there too; only
 * the entries of fixed columns that T's effects do not repeat take a pass
 * over the rows. A flagged fixed column is the proposal's, Xs x mnew; yt is
 * ytil. */
/* whether entry (a, b) of Gx (p + 1 columns, ytil last) comes from the
 * per-level sums: a fixed column repeated by a column of Z (zof >= 0) is
 * in it, or it is ytil' Pi ytil */
static int from_levels(const int *zof, int p, int a, int b) {
  return zof[a] >= 0 || (b < p && zof[b] >= 0) || (a == p && b == p);
}

static void global_stats(const hb_model *g, double *Gx, const int *chg, const double *mnew, const double *yt) {
  const hb_collapse *cl = g->cl;
  const hb_term *t = g->t + cl->T;
  const int p = g->p, P1 = p + 1, q = t->q, QD = q * cl->D;
  const R_xlen_t n = g->n;
  /* the levels' sums, added in block order */
  double *S = cl->lsum + (R_xlen_t) cl->nb * (QD + 1);
  memset(S, 0, sizeof(double) * (QD + 1));
  for (int bk = 0; bk < cl->nb; bk++) {
    const double *sb = cl->lsum + (R_xlen_t) bk * (QD + 1);
    for (int e = 0; e <= QD; e++) S[e] += sb[e];
  }
  int fl[HB_MAX_P + 1], zof[HB_MAX_P + 1], rowpass = 0;
  for (int a = 0; a < P1; a++) zof[a] = -1;
  for (int j = q - 1; j >= 0; j--)
    if (t->xmap[j] >= 0) zof[t->xmap[j]] = j;
  /* need[a]: row a of Gx has entries that only a pass over the rows gives */
  char need[HB_MAX_P + 1];
  for (int a = 0; a < P1; a++) {
    fl[a] = chg == NULL || chg[a < p ? a : p + q];
    need[a] = 0;
    if (!fl[a]) continue;
    for (int b = 0; b < P1; b++) {
      const int cb = cl->lc[b < p ? b : p + q], ca = cl->lc[a < p ? a : p + q];
      double v = 0.0;
      if (!from_levels(zof, p, a, b)) need[a] = 1;
      else if (zof[a] >= 0) v = S[zof[a] + (R_xlen_t) q * cb];
      else if (b < p && zof[b] >= 0) v = S[zof[b] + (R_xlen_t) q * ca];
      else v = S[QD]; /* ytil' Pi ytil */
      Gx[a + b * P1] = v;
    }
    rowpass |= need[a];
  }
  if (rowpass) {
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
        if (!need[a]) continue;
        hb_vmul(g->prec + i0, x[a], pw, len);
        for (int b = 0; b < P1; b++)
          if (!from_levels(zof, p, a, b)) Gx[a + b * P1] += hb_dot(pw, x[b], len);
      }
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

/* Rows ord[s .. s + len) of level rows: of the columns of [X Z ytil] into
 * colp[0 .. nc), then of the stored ones into colp[nc .. nc + D) */
static void level_columns(const col_src *src, R_xlen_t s, R_xlen_t len, int run, const double **colp,
                          double *buf) {
  const hb_model *g = src->g;
  const hb_collapse *cl = g->cl;
  const hb_term *t = g->t + cl->T;
  const int p = g->p, q = t->q, nc = cl->nc;
  const R_xlen_t n = g->n;
  for (int a = 0; a < nc; a++) {
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
  for (int a = 0; a < cl->D; a++) colp[nc + a] = colp[cl->pl[a]];
}

/* Per level, the stored columns of Z_l' Pi_l [X_l Z_l ytil_l] into L:
 * every entry (chg NULL), or only the entries in a flagged row or column,
 * the others copied from L0. A stored column of Z equal to a fixed column
 * (xmap) is not computed twice.
 * Per block of levels, the sums of the new blocks and, when ytil is
 * recomputed, of ytil' Pi ytil over the block's rows go to cl->lsum
 * (global_stats() takes [X ytil]' Pi [X ytil] from them). With Sinv, each
 * block's part of the reduction at Sigma^-1 = Sinv follows its statistics
 * (a second pass over all of L would read it from memory again); returns
 * nonzero when some M_l is not positive definite. */
static int level_stats(const col_src *src, const double *L0, double *L, const double *Sinv) {
  const hb_model *g = src->g;
  const hb_collapse *cl = g->cl;
  const hb_term *t = g->t + cl->T;
  const int p = g->p, q = t->q, D = cl->D, QD = q * D, nc = cl->nc, full = D == nc;
  const int *chg = src->chg, want_yy = chg == NULL || chg[p + q];
  /* rows and stored columns to compute: 2 every entry, 1 the flagged rows' */
  int *rows = cl->want, *cols = rows + q;
  for (int j = 0; j < q; j++) rows[j] = chg == NULL || chg[p + j];
  for (int a = 0; a < D; a++) {
    int dup = full && a >= p && a < p + q && t->xmap[a - p] >= 0;
    cols[a] = dup ? 0 : (chg != NULL && chg[cl->pl[a]] ? 2 : 1);
  }
  /* the changed rows of Z (a proposal changes one channel's: few) and the
   * stored columns of Z that repeat a fixed column, listed once for all
   * levels */
  int nrow = 0, row_chg[HB_MAX_Q], ndup = 0, dup_col[HB_MAX_Q];
  for (int j = 0; j < q; j++) {
    if (chg != NULL && chg[p + j]) row_chg[nrow++] = j;
    if (full && t->xmap[j] >= 0) dup_col[ndup++] = j;
  }
  /* each level writes only its own block of L, each block of levels only
   * its own sums */
  int fail = 0;
#ifdef _OPENMP
#pragma omp parallel for num_threads(cl->nth) schedule(static) reduction(| : fail) if (cl->nth > 1)
#endif
  for (int bk = 0; bk < cl->nb; bk++) {
    hb_collapse_ws *w = cl->ws + thread_id();
    double *sb = cl->lsum + (R_xlen_t) bk * (QD + 1);
    memset(sb, 0, sizeof(double) * (QD + 1));
    int l0, l1;
    hb_block_range(t->G, cl->nb, bk, &l0, &l1);
    for (int l = l0; l < l1; l++) {
      double *Lb = L + (R_xlen_t) l * QD;
      if (chg == NULL) {
        memset(Lb, 0, sizeof(double) * QD);
      } else {
        memcpy(Lb, L0 + (R_xlen_t) l * QD, sizeof(double) * QD);
        for (int a = 0; a < D; a++) {
          double *col = Lb + (R_xlen_t) q * a;
          if (cols[a] == 2) {
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
        const double *wt = rows_of(g->prec, t->ord, s, len, run, w->cols + (R_xlen_t) nc * HB_BLOCK);
        hb_gram_block(w->colp + p, q, w->colp + nc, D, wt, len, rows, cols, Lb);
        if (want_yy) sb[QD] += hb_wdot(wt, w->colp[p + q], w->colp[p + q], len);
      }
      for (int k = 0; k < ndup; k++) {
        int j2 = dup_col[k];
        memcpy(Lb + (R_xlen_t) q * (p + j2), Lb + (R_xlen_t) q * t->xmap[j2], sizeof(double) * q);
      }
      for (int e = 0; e < QD; e++) sb[e] += Lb[e];
    }
    /* the block's part of the reduction while its statistics are in cache */
    if (Sinv != NULL) fail |= reduce_block(g, L, Sinv, bk, w);
  }
  return fail;
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
  hb_term_add_fit(t, t->u, 1.0, cl->yt, n);
  hb_nested *ne = cl->nest;
  const hb_term *pt = ne != NULL ? g->t + ne->P : NULL;
  if (ne != NULL && ne->full) { /* the parent's effects are integrated out too */
    hb_term_add_fit(pt, pt->u, 1.0, cl->yt, n);
    ne->ldS = hb_log_det_sigma(pt->Sinv, pt->q, ne->M2);
  }
  col_src src = {g, NULL, NULL, NULL};
  const int fused = ne == NULL || !ne->full;
  int fail = level_stats(&src, NULL, cl->L, fused ? t->Sinv : NULL);
  global_stats(g, cl->Gx, NULL, NULL, cl->yt);
  cl->ldS = hb_log_det_sigma(t->Sinv, q, cl->M);
  cl->lev = fused ? reduce_flat_finish(g, fail, cl->Gx, cl->ldS, cl->A, cl->c, &cl->yy)
                  : hb_nested_reduce(g, cl->L, cl->Gx, t->Sinv, cl->ldS, pt->Sinv, ne->ldS, cl->A, cl->c, &cl->yy);
  if (!R_FINITE(cl->lev) || !R_FINITE(hb_fixed_log_marginal(g, cl->A, cl->c, cl->yy, -1)))
    hb_sampler_error("the collapsed likelihood of group-level term %d is not finite", cl->T + 1);
}

/* lr[j] = log(rho) on term t's columns of channel c, else 0; returns their
 * number: the scaling of t's Sigma that goes with a proposal */
static int channel_log_scales(const hb_term *t, int c, double rho, double *lr) {
  int nz = 0;
  for (int j = 0; j < t->q; j++) {
    lr[j] = t->zc[j] == c ? log(rho) : 0.0;
    nz += t->zc[j] == c;
  }
  return nz;
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
  double lr[HB_MAX_Q];
  channel_log_scales(t, c, rho, lr);
  hb_sigma_scaled(t, lr, cl->Sig1, cl->Sinv1);
  cl->ldS1 = cl->ldS + 2.0 * nz * log(rho);
  col_src src = {g, mnew, ychg ? cl->yt1 : cl->yt, chg};
  hb_nested *ne = cl->nest;
  const hb_term *pt = ne != NULL && ne->full ? g->t + ne->P : NULL;
  int fail = level_stats(&src, cl->L, cl->L1, pt == NULL ? cl->Sinv1 : NULL);
  memcpy(cl->Gx1, cl->Gx, sizeof(double) * (p + 1) * (p + 1));
  global_stats(g, cl->Gx1, chg, mnew, ychg ? cl->yt1 : cl->yt);
  /* a full nested block's parent: its Sigma rescaled by rho like T's */
  double lprior = nz ? hb_sigma_scale_logratio(t, cl->Sinv1, lr) : 0.0;
  if (pt != NULL) {
    double lr2[HB_MAX_Q];
    int nz2 = channel_log_scales(pt, c, rho, lr2);
    hb_sigma_scaled(pt, lr2, ne->Sig1, ne->Sinv1);
    ne->ldS1 = ne->ldS + 2.0 * nz2 * log(rho);
    if (nz2) lprior += hb_sigma_scale_logratio(pt, ne->Sinv1, lr2);
  }
  cl->lev1 = pt == NULL ? reduce_flat_finish(g, fail, cl->Gx1, cl->ldS1, cl->A1, cl->c1, &cl->yy1)
                        : hb_nested_reduce(g, cl->L1, cl->Gx1, cl->Sinv1, cl->ldS1, ne->Sinv1, ne->ldS1, cl->A1,
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
      double s = Lb[a + q * cl->lc[p + q]];
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
  const int q = t->q, D = cl->D, nb = cl->nb;
  int fail = 0;
#ifdef _OPENMP
#pragma omp parallel for num_threads(cl->nth) schedule(static) reduction(| : fail) if (cl->nth > 1)
#endif
  for (int b = 0; b < nb; b++) {
    hb_collapse_ws *ws = cl->ws + thread_id();
    double *M = ws->M, *w = ws->bq, fb = 0.0;
    int l0, l1;
    hb_block_range(t->G, nb, b, &l0, &l1);
    if (cl->pk != NULL) {
      fail |= hb_lanes_marginal(Sinv, q, cl->pk + cl->pk_off[b], l1 - l0, ws->lanes, &fb);
      l1 = l0; /* done */
    }
    for (int l = l0; l < l1; l++) {
      const double *Lb = cl->L + (R_xlen_t) l * q * D;
      hb_level_precision(Sinv, Lb, cl->zz, q, M);
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

/* Four rounds of both moves per sweep on the collapsed term's covariance
 * (u_T integrated out, given beta and the other terms): sds and
 * correlations of a term whose levels carry little information each are the
 * slowest quantities of the chain, and a step costs one Cholesky factor of
 * order q per level. (Three rounds left an individual-level correlation the
 * slowest quantity of the 120,000-row check in
 * inst/validation/convergence.R, ESS 525 of 4,000 draws and R-hat 1.011;
 * four gave ESS 664, now on a transform, R-hat 1.007, in no more time.) */
void hb_collapse_sigma_mh(hb_model *g, int it, int adapt) {
  hb_collapse *cl = g->cl;
  if (cl->pk != NULL) { /* the levels' H_l and b_l do not change during the steps */
    const hb_term *t = g->t + cl->T;
    const hb_level_mats lm = {NULL, cl->L, (ptrdiff_t) t->q * cl->D, t->q * cl->zz, t->q};
#ifdef _OPENMP
#pragma omp parallel for num_threads(cl->nth) schedule(static) if (cl->nth > 1)
#endif
    for (int b = 0; b < cl->nb; b++) {
      int l0, l1;
      hb_block_range(t->G, cl->nb, b, &l0, &l1);
      hb_lanes_pack(&lm, cl->Bv, l0, l1, cl->pk + cl->pk_off[b]);
    }
  }
  hb_sigma_mover mv = {g->t + cl->T, &cl->ldS, cl->sig_log_step, cl->Sig1, cl->Sinv1, sigma_marginal};
  double f = R_NaN;
  for (int round = 0; round < 4; round++) hb_sigma_round(g, &mv, it, adapt, &f);
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
    hb_level_precision(t->Sinv, Lb, cl->zz, q, M);
    if (hb_mvn_precision_draw(g->rng, M, cl->Bv + (R_xlen_t) l * q, q, t->u + (R_xlen_t) q * l, NULL) != 0)
      hb_sampler_error("the conditional precision of group-level effects is not positive definite");
  }
  memcpy(g->r, cl->yt, sizeof(double) * n);
  for (int j = 0; j < p; j++) hb_axpy(-g->beta[j], g->Xcol[j], g->r, n);
  hb_term_add_fit(t, t->u, -1.0, g->r, n);
}
