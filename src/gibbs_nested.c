/* The parent of the collapsed term, drawn with the collapsed term's effects
 * integrated out.
 *
 * Why. When the collapsed term T (say individuals) is nested in a term P
 * (say markets, or market x product), the data fix each parent level's
 * total, u_P[m] + the mean of its children's u_T, far more sharply than
 * either part. Drawn given u_T, u_P barely moves, and P's covariance,
 * drawn given u_P, moves as slowly: on simulate_three_level() the sds of
 * market:product were among the slowest quantities of the chain. Given
 * beta, the transforms and the other terms, the model for the rows of
 * parent level m is linear with both effects Gaussian, so u_T integrates
 * out level by level of T and leaves a Gaussian likelihood for u_P[m]:
 *   precision K_m = sum_{l in m} (Z2_l' Pi_l Z2_l - C_l' M_l^-1 C_l),
 *   linear term k_m = sum_{l in m} (Z2_l' Pi_l r_l - C_l' M_l^-1 b_l),
 * with M_l = Sigma_T^-1 + Z_l' Pi_l Z_l, C_l = Z_l' Pi_l Z2_l, Z2 the parent's
 * columns, r = ytil - X beta with u_P added back and b_l = Z_l' Pi_l r_l.
 * Integrating u_P out as well,
 *   log p(r | beta, Sigma_P) = const - G_P log|Sigma_P| / 2
 *       + sum_m (k_m' M2_m^-1 k_m - log|M2_m|) / 2,   M2_m = Sigma_P^-1 + K_m.
 * This block draws Sigma_P by Metropolis steps on that marginal (the moves
 * of hb_sigma_round()), then u_P[m] ~ N(M2_m^-1 k_m, M2_m^-1), and leaves
 * u_T to hb_collapse_draw_effects(), which draws it given the new u_P:
 * together an exact draw of (Sigma_P, u_P, u_T) given beta and Sigma_T, so
 * the sweep stays a valid partially collapsed Gibbs sampler (T's own
 * covariance steps follow, given the new u_P). Only the K_m depend on
 * Sigma_T, so the steps on Sigma_P cost O(G_P q_P^3) each; the per-level
 * work is one Cholesky factor per level of T per sweep, and a pass over the
 * rows unless every column of P repeats a column of T (as (1 + tv | market)
 * over (1 + tv | market:individual)): then the statistics are sub-blocks of
 * the collapsed block's per-level ones.
 *
 * In that case the block can also be "full" (mode 2, chosen in R by
 * collapse_nest_mode()): the Metropolis steps on media and the draw of beta
 * integrate u_P out as well, through a second elimination per parent level
 * (hb_nested_reduce()), and a proposal rescales Sigma_P's channel columns
 * as it does T's. No step then holds a channel's transform against fixed
 * parent-level effects.
 *
 * Models with lift-test rows or log-normal media effects keep u_P's
 * ordinary draw (their rows or columns do not follow the nesting). */
#include <math.h>
#include <string.h>
#include <Rmath.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "gibbs.h"

/* per level of T: C_l (q x q2), then Z2' Pi Z2 (q2 x q2) and Z2' Pi r (q2),
 * which the reduction overwrites with that level's part of K_m and k_m */
static int level_stride(int q, int q2) { return q * q2 + q2 * q2 + q2; }

void hb_nested_setup(hb_model *g, int nth, int mode) {
  hb_collapse *cl = g->cl;
  const hb_term *t = g->t + cl->T;
  cl->nest = NULL;
  if (mode == 0 || g->nlift > 0 || g->nmult > 0) return;
  if (t->nest_parent < 0)
    hb_input_error("model$collapse_nest", "must be 0: the collapsed term %d nests in no other term", cl->T + 1);
  const hb_term *pt = g->t + t->nest_parent; /* conjugate: read_term_nesting() */
  const int q = t->q, q2 = pt->q, P1 = g->p + 1, m = P1 + q2;
  hb_nested *ne = (hb_nested *) R_alloc(1, sizeof(hb_nested));
  memset(ne, 0, sizeof *ne);
  ne->P = t->nest_parent;
  ne->nth = nth;
  ne->pcol = (int *) R_alloc((size_t) q2, sizeof(int));
  ne->paired = 1;
  for (int b = 0; b < q2; b++) {
    ne->pcol[b] = -1;
    for (int a = 0; a < t->nest_np; a++)
      if (t->nest_lp[a] == b) ne->pcol[b] = t->nest_l[a];
    if (ne->pcol[b] < 0) ne->paired = 0;
  }
  if (mode == 2 && !ne->paired)
    hb_input_error("model$collapse_nest", "must be 0 or 1: some column of term %d repeats no column of term %d",
                   ne->P + 1, cl->T + 1);
  ne->full = mode == 2;
  /* T's levels grouped by parent level, in level order within each */
  ne->kid_start = (int *) R_alloc((size_t) pt->G + 1, sizeof(int));
  ne->kids = (int *) R_alloc((size_t) t->G, sizeof(int));
  memset(ne->kid_start, 0, sizeof(int) * (pt->G + 1));
  for (int l = 0; l < t->G; l++) ne->kid_start[t->nest_map[l] + 1]++;
  for (int mp = 0; mp < pt->G; mp++) ne->kid_start[mp + 1] += ne->kid_start[mp];
  int *fill = (int *) R_alloc((size_t) pt->G, sizeof(int));
  memcpy(fill, ne->kid_start, sizeof(int) * pt->G);
  for (int l = 0; l < t->G; l++) ne->kids[fill[t->nest_map[l]]++] = l;
  ne->nb = pt->G < HB_LEVEL_BLOCKS ? pt->G : HB_LEVEL_BLOCKS;
  ne->Gacc = (double *) R_alloc((size_t) P1 * P1 * (ne->nb + 1), sizeof(double));
  ne->part = (double *) R_alloc((size_t) ne->nb, sizeof(double));
  ne->S = (double *) R_alloc((size_t) t->G * level_stride(q, q2), sizeof(double));
  ne->Bw = (double *) R_alloc((size_t) t->G * q, sizeof(double));
  ne->K = (double *) R_alloc((size_t) pt->G * (q2 * q2 + q2), sizeof(double));
  ne->du = (double *) R_alloc((size_t) pt->G * q2, sizeof(double));
  ne->Sig1 = (double *) R_alloc((size_t) 3 * q2 * q2 + q2 + q2 * q2, sizeof(double));
  ne->Sinv1 = ne->Sig1 + q2 * q2;
  ne->M2 = ne->Sinv1 + q2 * q2;
  ne->log_step = ne->M2 + q2 * q2;
  for (int j = 0; j < q2 + q2 * q2; j++) ne->log_step[j] = -0.5 * log((double) pt->G);
  ne->wsz = q * q + q * m + m * m + q2 * m + q2 * q2 + q;
  ne->ws = (double *) R_alloc((size_t) nth * ne->wsz, sizeof(double));
  cl->nest = ne;
}

static double *thread_ws(const hb_nested *ne) {
#ifdef _OPENMP
  return ne->ws + (R_xlen_t) omp_get_thread_num() * ne->wsz;
#else
  return ne->ws;
#endif
}

/* Parent level mp's part of the reduction (see hb_nested_reduce()): the
 * Schur terms of u_T's levels and then of u_P[mp] added to Gb ((p + 1) x
 * (p + 1), lower triangle); returns log|M2_mp| + sum_l log|M_l|, or NaN
 * when some factor is not positive definite. */
static double parent_reduce(const hb_model *g, const double *L, const double *Sinv, const double *Sinv2, int mp,
                            double *Gb, double *ws) {
  const hb_collapse *cl = g->cl;
  const hb_nested *ne = cl->nest;
  const hb_term *t = g->t + cl->T, *pt = g->t + ne->P;
  const int p = g->p, q = t->q, q2 = pt->q, P1 = p + 1, m = P1 + q2, D = cl->D;
  double *M = ws, *W = M + q * q, *Gm = W + q * m, *H = Gm + m * m, *M2 = H + q2 * m;
  int col[HB_MAX_P + 1 + HB_MAX_Q]; /* columns of L's blocks: X, ytil, then the parent's */
  for (int a = 0; a < p; a++) col[a] = cl->lc[a];
  col[p] = cl->lc[p + q];
  for (int b = 0; b < q2; b++) col[P1 + b] = cl->lc[p + ne->pcol[b]];
  memset(Gm, 0, sizeof(double) * m * m);
  memset(H, 0, sizeof(double) * q2 * m);
  double ld = 0.0;
  for (int k = ne->kid_start[mp]; k < ne->kid_start[mp + 1]; k++) {
    const double *Lb = L + (R_xlen_t) ne->kids[k] * q * D;
    hb_level_precision(Sinv, Lb, cl->zz, q, M);
    if (hb_chol(M, q) != 0) return R_NaN;
    ld += hb_log_det_chol(M, q);
    for (int a = 0; a < m; a++) {
      memcpy(W + (R_xlen_t) a * q, Lb + (R_xlen_t) q * col[a], sizeof(double) * q);
      for (int b = 0; b < q2; b++) H[b + q2 * a] += Lb[ne->pcol[b] + (R_xlen_t) q * col[a]];
    }
    hb_schur_acc(M, q, W, m, Gm);
  }
  /* H = Z2' Pi [X ytil Z2] - C' M^-1 Z' Pi [X ytil Z2] over the level's
   * children; T's Schur terms on [X ytil] go to Gb */
  for (int a = 0; a < m; a++)
    for (int b = 0; b < q2; b++) H[b + q2 * a] -= P1 + b >= a ? Gm[(P1 + b) + m * a] : Gm[a + m * (P1 + b)];
  for (int a = 0; a < P1; a++)
    for (int b = a; b < P1; b++) Gb[b + P1 * a] += Gm[b + m * a];
  for (int b = 0; b < q2; b++)
    for (int c = b; c < q2; c++) M2[c + q2 * b] = Sinv2[c + q2 * b] + H[c + q2 * (P1 + b)];
  if (hb_chol(M2, q2) != 0) return R_NaN;
  ld += hb_log_det_chol(M2, q2);
  hb_schur_acc(M2, q2, H, P1, Gb); /* H's first P1 columns: Z2 against [X ytil] */
  return ld;
}

double hb_nested_reduce(const hb_model *g, const double *L, const double *Gx, const double *Sinv, double ldS,
                        const double *Sinv2, double ldS2, double *A, double *c, double *yy) {
  const hb_collapse *cl = g->cl;
  const hb_nested *ne = cl->nest;
  const hb_term *t = g->t + cl->T, *pt = g->t + ne->P;
  const int P1 = g->p + 1, nb = ne->nb;
  int fail = 0;
#ifdef _OPENMP
#pragma omp parallel for num_threads(ne->nth) schedule(static) reduction(| : fail) if (ne->nth > 1)
#endif
  for (int b = 0; b < nb; b++) {
    double *ws = thread_ws(ne), *Gb = ne->Gacc + (R_xlen_t) b * P1 * P1, ldb = 0.0;
    memset(Gb, 0, sizeof(double) * P1 * P1);
    int m0, m1;
    hb_block_range(pt->G, nb, b, &m0, &m1);
    for (int mp = m0; mp < m1 && !fail; mp++) {
      double ld = parent_reduce(g, L, Sinv, Sinv2, mp, Gb, ws);
      if (ISNAN(ld)) fail = 1;
      else ldb += ld;
    }
    ne->part[b] = ldb;
  }
  if (fail) return R_NegInf;
  double ld = t->G * ldS + pt->G * ldS2 + hb_reduce_finish(g->p, nb, ne->Gacc, ne->part, Gx, A, c, yy);
  return -0.5 * ld;
}

/* C_l, Z2' Pi Z2 and Z2' Pi r over the rows of level l of T; rb = ytil -
 * X beta, u_P added back here row by row. (A paired block takes them from
 * the collapsed block's statistics: level_from_collapse().) */
static void level_cross(const hb_model *g, const hb_term *t, const hb_term *pt, const double *rb, int l,
                        double *Sl) {
  const int q = t->q, q2 = pt->q;
  double *C = Sl, *Z22 = C + q * q2, *zr = Z22 + q2 * q2;
  memset(Sl, 0, sizeof(double) * level_stride(q, q2));
  const double *up = pt->u + (R_xlen_t) q2 * t->nest_map[l];
  for (R_xlen_t s = t->start[l]; s < t->start[l + 1]; s++) {
    const R_xlen_t i = t->ord[s];
    const double w = g->prec[i];
    double z2[HB_MAX_Q], r = rb[i];
    for (int b = 0; b < q2; b++) {
      z2[b] = pt->Zcol[b][i];
      r += z2[b] * up[b];
    }
    for (int a = 0; a < q; a++) {
      const double wz = w * t->Zcol[a][i];
      for (int b = 0; b < q2; b++) C[a + q * b] += wz * z2[b];
    }
    for (int b = 0; b < q2; b++) {
      const double wz = w * z2[b];
      for (int c = b; c < q2; c++) Z22[c + q2 * b] += wz * z2[c];
      zr[b] += wz * r;
    }
  }
}

/* The same from the collapsed block's q x D statistics of level
 * l and its b_l (Bv), when every parent column is one of T's; u_P is added
 * back unless ytil holds it (full). */
static void level_from_collapse(const hb_model *g, const hb_term *pt, int l, double *Sl) {
  const hb_collapse *cl = g->cl;
  const hb_nested *ne = cl->nest;
  const int p = g->p, q = g->t[cl->T].q, q2 = pt->q;
  const double *Lb = cl->L + (R_xlen_t) l * q * cl->D, *bl = cl->Bv + (R_xlen_t) q * l;
  const double *up = pt->u + (R_xlen_t) q2 * g->t[cl->T].nest_map[l];
  double *C = Sl, *Z22 = C + q * q2, *zr = Z22 + q2 * q2;
  for (int b = 0; b < q2; b++) {
    const double *Lc = Lb + (R_xlen_t) q * cl->lc[p + ne->pcol[b]];
    memcpy(C + (R_xlen_t) q * b, Lc, sizeof(double) * q);
    for (int c = 0; c < q2; c++) Z22[c + q2 * b] = Lc[ne->pcol[c]];
  }
  for (int b = 0; b < q2; b++) {
    zr[b] = bl[ne->pcol[b]];
    if (!ne->full)
      for (int c = 0; c < q2; c++) zr[b] += Z22[b + q2 * c] * up[c];
  }
}

/* Level l's part of K_m and k_m, in place of its Z2' Pi Z2 and Z2' Pi r:
 * with L L' = M_l, W = L^-1 C_l and w = L^-1 b_l, subtract W'W and W'w. The
 * level's b_l with u_P added back goes to Bw. Nonzero when M_l is not
 * positive definite. */
static int level_reduce(const hb_model *g, const hb_term *t, const hb_term *pt, int l, double *Sl, double *ws) {
  const hb_collapse *cl = g->cl;
  const int q = t->q, q2 = pt->q;
  double *C = Sl, *Z22 = C + q * q2, *zr = Z22 + q2 * q2;
  double *M = ws, *W = M + q * q, *w = W + q * q2;
  const double *up = pt->u + (R_xlen_t) q2 * t->nest_map[l];
  double *bw = cl->nest->Bw + (R_xlen_t) q * l;
  memcpy(bw, cl->Bv + (R_xlen_t) q * l, sizeof(double) * q);
  if (!cl->nest->full) /* ytil left u_P out */
    for (int b = 0; b < q2; b++) hb_axpy(up[b], C + (R_xlen_t) q * b, bw, q);
  hb_level_precision(t->Sinv, cl->L + (R_xlen_t) l * q * cl->D, cl->zz, q, M);
  if (hb_chol(M, q) != 0) return 1;
  memcpy(W, C, sizeof(double) * q * q2);
  memcpy(w, bw, sizeof(double) * q);
  hb_trsv_lower(M, q, w);
  for (int b = 0; b < q2; b++) hb_trsv_lower(M, q, W + (R_xlen_t) q * b);
  for (int b = 0; b < q2; b++) {
    zr[b] -= hb_dot(W + (R_xlen_t) q * b, w, q);
    for (int c = b; c < q2; c++) Z22[c + q2 * b] -= hb_dot(W + (R_xlen_t) q * b, W + (R_xlen_t) q * c, q);
  }
  return 0;
}

/* The statistics K_m, k_m of every parent level at the current state. */
static void parent_stats(hb_model *g) {
  hb_collapse *cl = g->cl;
  hb_nested *ne = cl->nest;
  const hb_term *t = g->t + cl->T, *pt = g->t + ne->P;
  const int q = t->q, q2 = pt->q, sz = level_stride(q, q2), kz = q2 * q2 + q2;
  const R_xlen_t n = g->n;
  double *rb = cl->yt1; /* the proposals' scratch, free between their steps */
  if (!ne->paired) {
    memcpy(rb, cl->yt, sizeof(double) * n);
    for (int j = 0; j < g->p; j++) hb_axpy(-g->beta[j], g->Xcol[j], rb, n);
  }
  int fail = 0;
  /* each level writes only its own block: the result does not depend on
   * the number of threads */
#ifdef _OPENMP
#pragma omp parallel for num_threads(ne->nth) schedule(static) reduction(| : fail) if (ne->nth > 1)
#endif
  for (int l = 0; l < t->G; l++) {
    double *ws = thread_ws(ne), *Sl = ne->S + (R_xlen_t) l * sz;
    if (ne->paired) level_from_collapse(g, pt, l, Sl);
    else level_cross(g, t, pt, rb, l, Sl);
    fail |= level_reduce(g, t, pt, l, Sl, ws);
  }
  if (fail) hb_sampler_error("the conditional precision of group-level effects is not positive definite");
  memset(ne->K, 0, sizeof(double) * (size_t) pt->G * kz);
  for (int l = 0; l < t->G; l++) { /* in level order: the same sums on any number of threads */
    const double *part = ne->S + (R_xlen_t) l * sz + q * q2;
    double *Km = ne->K + (R_xlen_t) kz * t->nest_map[l];
    for (int a = 0; a < kz; a++) Km[a] += part[a];
  }
}

/* M2_m = Sigma_P^-1 + K_m (lower triangle) into M2 */
static void parent_precision(const double *Sinv, const double *Km, int q2, double *M2) {
  for (int b = 0; b < q2; b++)
    for (int c = b; c < q2; c++) M2[c + q2 * b] = Sinv[c + q2 * b] + Km[c + q2 * b];
}

/* log p(r | beta, Sigma_P) up to a constant, u_T and u_P integrated out */
static double parent_marginal(const hb_model *g, const double *Sinv, double ldS) {
  const hb_nested *ne = g->cl->nest;
  const hb_term *pt = g->t + ne->P;
  const int q2 = pt->q, kz = q2 * q2 + q2;
  double *M2 = ne->M2, w[HB_MAX_Q], out = -0.5 * pt->G * ldS;
  for (int m = 0; m < pt->G; m++) {
    const double *Km = ne->K + (R_xlen_t) kz * m;
    parent_precision(Sinv, Km, q2, M2);
    if (hb_chol(M2, q2) != 0) return R_NegInf;
    memcpy(w, Km + q2 * q2, sizeof(double) * q2);
    hb_trsv_lower(M2, q2, w);
    out += 0.5 * hb_dot(w, w, q2) - 0.5 * hb_log_det_chol(M2, q2);
  }
  return out;
}

/* Sigma_P by Metropolis steps on its marginal, then u_P | beta, Sigma_P (u_T
 * integrated out); ytil and each level's b_l follow the new u_P, ready for
 * hb_collapse_draw_effects(). Five rounds: each costs O(G_P) small factors. */
void hb_nested_update(hb_model *g, int it, int adapt) {
  hb_collapse *cl = g->cl;
  hb_nested *ne = cl->nest;
  hb_term *t = g->t + cl->T, *pt = g->t + ne->P;
  const int q = t->q, q2 = pt->q, kz = q2 * q2 + q2, sz = level_stride(q, q2);
  parent_stats(g);
  double *M2 = ne->M2, ldS = hb_log_det_sigma(pt->Sinv, q2, M2);
  if (ISNAN(ldS)) hb_sampler_error("the covariance of group-level term %d is not positive definite", ne->P + 1);
  hb_sigma_mover mv = {pt, &ldS, ne->log_step, ne->Sig1, ne->Sinv1, parent_marginal};
  double f = R_NaN;
  for (int round = 0; round < 5; round++) hb_sigma_round(g, &mv, it, adapt, &f);
  /* u_P, and what ytil must lose, du = u_P(new) - (the u_P it holds: the
   * old one, or none in a full block) */
  for (int m = 0; m < pt->G; m++) {
    const double *Km = ne->K + (R_xlen_t) kz * m;
    double *um = pt->u + (R_xlen_t) q2 * m, *dm = ne->du + (R_xlen_t) q2 * m, unew[HB_MAX_Q];
    parent_precision(pt->Sinv, Km, q2, M2);
    if (hb_mvn_precision_draw(g->rng, M2, Km + q2 * q2, q2, unew, NULL) != 0)
      hb_sampler_error("the conditional precision of group-level effects is not positive definite");
    for (int b = 0; b < q2; b++) {
      dm[b] = unew[b] - (ne->full ? 0.0 : um[b]);
      um[b] = unew[b];
    }
  }
  /* ytil = y - the other terms' effects, u_P among them */
  hb_term_add_fit(pt, ne->du, -1.0, cl->yt, g->n);
  /* b_l = Z_l' Pi_l (ytil - X beta) at the new u_P */
  for (int l = 0; l < t->G; l++) {
    const double *C = ne->S + (R_xlen_t) l * sz, *un = pt->u + (R_xlen_t) q2 * t->nest_map[l];
    double *bl = cl->Bv + (R_xlen_t) q * l;
    memcpy(bl, ne->Bw + (R_xlen_t) q * l, sizeof(double) * q);
    for (int b = 0; b < q2; b++) hb_axpy(-un[b], C + (R_xlen_t) q * b, bl, q);
  }
}
