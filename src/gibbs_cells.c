/* Gibbs blocks on the cell statistics of a static design (built by
 * hb_cells_build() in model_cells.c): every block then costs O(cells x D^2)
 * per sweep instead of a pass over all rows. */
#include <string.h>
#include "gibbs.h"

/* For block [a0, a1) of the Gram: P += prec G[block, block] (lower) and
 * b -= prec G[block, outside] theta_outside. The Gram is symmetric, so row
 * a is read as column a, contiguous. */
static void cell_block(const double *Gc, int D, const double *th, double prec, int a0, int a1,
                       double *P, double *b) {
  int m = a1 - a0;
  for (int a = a0; a < a1; a++) {
    const double *ga = Gc + (R_xlen_t) a * D;
    double s = 0.0;
    for (int col = 0; col < a0; col++) s += ga[col] * th[col];
    for (int col = a1; col < D; col++) s += ga[col] * th[col];
    b[a - a0] -= prec * s;
    for (int l = a; l < a1; l++) P[(l - a0) + (a - a0) * m] += prec * ga[l];
  }
}

/* theta' G theta of a cell (its weighted residual sum of squares), from the
 * lower triangle: each off-diagonal pair once, doubled. */
static double cell_quad(const double *Gc, int D, const double *th) {
  double q = 0.0;
  for (int b = 0; b < D; b++) {
    const double *gb = Gc + (R_xlen_t) b * D;
    double s = 0.0;
    for (int a = b + 1; a < D; a++) s += gb[a] * th[a];
    q += th[b] * (gb[b] * th[b] + 2.0 * s);
  }
  return q;
}

/* 1 / sigma^2 of cell k's rows; zero without the likelihood (prior_only) */
static double cell_prec(const hb_model *g, int k) {
  return g->prior_only ? 0.0 : g->inv_sig2[g->cells->sg[k]];
}

/* beta | rest: the likelihood's statistics from the cells, then the draw
 * under the prior (gibbs_fixed.c). */
void hb_cells_draw_beta(hb_model *g) {
  const hb_cells *cs = g->cells;
  const int p = g->p, D = cs->D;
  double *A = g->fx_A, *c = g->fx_c;
  memset(A, 0, sizeof(double) * p * p);
  memset(c, 0, sizeof(double) * p);
  for (int k = 0; k < cs->ncell; k++) {
    hb_cell_theta(g, k, cs->theta);
    cell_block(cs->G + (R_xlen_t) k * D * D, D, cs->theta, cell_prec(g, k), 0, p, A, c);
  }
  for (int j = 0; j < p; j++)
    for (int l = j + 1; l < p; l++) A[j + l * p] = A[l + j * p];
  hb_beta_draw_from(g, A, c);
}

void hb_cells_update_effects(hb_model *g, int k) {
  const hb_cells *cs = g->cells;
  hb_term *t = g->t + k;
  const int q = t->q, D = cs->D, a0 = cs->off[k];
  double *P = g->work, *b = P + q * q;
  for (int lv = 0; lv < t->G; lv++) {
    memset(P, 0, sizeof(double) * q * q);
    memset(b, 0, sizeof(double) * q);
    for (R_xlen_t s = cs->start[k][lv]; s < cs->start[k][lv + 1]; s++) {
      int c = (int) cs->ord[k][s];
      hb_cell_theta(g, c, cs->theta);
      cell_block(cs->G + (R_xlen_t) c * D * D, D, cs->theta, cell_prec(g, c), a0, a0 + q, P, b);
    }
    hb_term_level_draw(t, lv, P, b, t->u + (R_xlen_t) q * lv);
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
    g->inv_sig2[s] = 1.0 / hb_inv_gamma_draw(g->sig_a + 0.5 * cnt[s], g->sig_b + 0.5 * ss[s]);
}
