/* Gibbs blocks on the cell statistics of a static design (built by
 * hb_cells_build() in model_cells.c): every block then costs O(cells x D^2)
 * per sweep instead of a pass over all rows. */
#include <string.h>
#include "gibbs.h"

/* 1 / sigma^2 of cell k's rows; zero without the likelihood (prior_only) */
static double cell_prec(const hb_model *g, int k) {
  return g->prior_only ? 0.0 : g->inv_sig2[g->cells->sg[k]];
}

/* acc[0..m) += G[a0 + (0..m), col0 + j] theta_j over the len columns of one
 * run of theta (beta, or one term's effects of the cell's level): column
 * by column, each contiguous in the Gram (G0 points at row a0). */
static HB_ALWAYS_INLINE void acc_run(const double *G0, int D, const double *th, int col0, int len, const int m,
                                     double *acc) {
  for (int j = 0; j < len; j++) {
    const double *gc = G0 + (R_xlen_t) (col0 + j) * D;
    const double v = th[j];
    HB_UNROLL
    for (int a = 0; a < m; a++) acc[a] += gc[a] * v;
  }
}

/* For block `skip` of cell c's Gram (-1: the fixed effects, k: term k;
 * rows and columns [a0, a0 + m)): P += prec G[block, block] (lower) and b
 * -= prec G[block, outside] theta_outside, where theta = (beta,
 * u_1(level), ..., u_K(level), -1) as hb_cell_theta() lays it out, read in
 * place (no copy) and summed over the columns in order. acc: scratch of m. */
static HB_ALWAYS_INLINE void cell_block_m(const hb_model *g, int c, int skip, int a0, const int m, double *P,
                                          double *b, double *acc) {
  const hb_cells *cs = g->cells;
  const int D = cs->D;
  const double prec = cell_prec(g, c), *Gc = cs->G + (R_xlen_t) c * D * D, *G0 = Gc + a0;
  HB_UNROLL
  for (int a = 0; a < m; a++) acc[a] = 0.0;
  if (skip != -1) acc_run(G0, D, g->beta, 0, g->p, m, acc);
  for (int k = 0; k < g->K; k++) {
    if (k == skip) continue;
    const hb_term *t = g->t + k;
    acc_run(G0, D, t->u + (R_xlen_t) t->q * cs->lev[k][c], cs->off[k], t->q, m, acc);
  }
  const double *gy = G0 + (R_xlen_t) (D - 1) * D;
  HB_UNROLL
  for (int a = 0; a < m; a++) {
    b[a] -= prec * (acc[a] - gy[a]);
    const double *gblk = G0 + (R_xlen_t) (a0 + a) * D;
    double *Pa = P + (R_xlen_t) a * m;
    HB_UNROLL
    for (int l = a; l < m; l++) Pa[l] += prec * gblk[l];
  }
}

/* cell_block_m() for the blocks of cells ord[s0 .. s1) (or cells s0 .. s1
 * when ord is NULL), unrolled for blocks of one to four columns. */
static void cells_block(const hb_model *g, const R_xlen_t *ord, R_xlen_t s0, R_xlen_t s1, int skip, int a0,
                        int a1, double *P, double *b) {
  const int d = a1 - a0;
  double acc4[4], *acc = d <= 4 ? acc4 : g->cells->acc;
#define HB_CALL(dim)                                                                \
  for (R_xlen_t s = s0; s < s1; s++)                                               \
    cell_block_m(g, (int) (ord ? ord[s] : s), skip, a0, dim, P, b, acc);            \
  return
  HB_SMALL_DIM_CASES(HB_CALL)
#undef HB_CALL
}

/* theta' G theta of a cell (its weighted residual sum of squares), from the
 * lower triangle: each off-diagonal pair once, doubled. */
static HB_ALWAYS_INLINE double cell_quad_d(const double *Gc, const int D, const double *th) {
  double q = 0.0;
  HB_UNROLL_8
  for (int b = 0; b < D; b++) {
    const double *gb = Gc + (R_xlen_t) b * D;
    double s = 0.0;
    HB_UNROLL_8
    for (int a = b + 1; a < D; a++) s += gb[a] * th[a];
    q += th[b] * (gb[b] * th[b] + 2.0 * s);
  }
  return q;
}

/* cell_quad_d(), unrolled for the small Grams of most designs */
static double cell_quad(const double *Gc, int D, const double *th) {
  switch (D) {
  case 3: return cell_quad_d(Gc, 3, th);
  case 4: return cell_quad_d(Gc, 4, th);
  case 5: return cell_quad_d(Gc, 5, th);
  case 6: return cell_quad_d(Gc, 6, th);
  case 7: return cell_quad_d(Gc, 7, th);
  case 8: return cell_quad_d(Gc, 8, th);
  default: return cell_quad_d(Gc, D, th);
  }
}

/* beta | rest: the likelihood's statistics from the cells, then the draw
 * under the prior (gibbs_fixed.c). */
void hb_cells_draw_beta(hb_model *g) {
  const hb_cells *cs = g->cells;
  const int p = g->p;
  double *A = g->fx_A, *c = g->fx_c;
  memset(A, 0, sizeof(double) * p * p);
  memset(c, 0, sizeof(double) * p);
  cells_block(g, NULL, 0, cs->ncell, -1, 0, p, A, c);
  for (int j = 0; j < p; j++)
    for (int l = j + 1; l < p; l++) A[j + l * p] = A[l + j * p];
  hb_beta_draw_from(g, A, c);
}

void hb_cells_update_effects(hb_model *g, int k) {
  const hb_cells *cs = g->cells;
  hb_term *t = g->t + k;
  const int q = t->q, a0 = cs->off[k];
  double *P = g->work, *b = P + q * q;
  for (int lv = 0; lv < t->G; lv++) {
    memset(P, 0, sizeof(double) * q * q);
    memset(b, 0, sizeof(double) * q);
    cells_block(g, cs->ord[k], cs->start[k][lv], cs->start[k][lv + 1], k, a0, a0 + q, P, b);
    hb_term_level_draw(g->rng, t, lv, P, b, t->u + (R_xlen_t) q * lv);
  }
}

void hb_cells_update_sigma(hb_model *g) {
  const hb_cells *cs = g->cells;
  const int D = cs->D;
  double *ss = g->work, *cnt = ss + g->S;
  memset(ss, 0, sizeof(double) * 2 * g->S);
  for (int c = 0; c < cs->ncell && !g->prior_only; c++) {
    hb_cell_theta(g, c, cs->theta);
    ss[cs->sg[c]] += cell_quad(cs->G + (R_xlen_t) c * D * D, D, cs->theta);
    cnt[cs->sg[c]] += cs->cnt[c];
  }
  for (int s = 0; s < g->S; s++)
    g->inv_sig2[s] = 1.0 / hb_inv_gamma_draw(g->rng, g->sig_a + 0.5 * cnt[s], g->sig_b + 0.5 * ss[s]);
}
