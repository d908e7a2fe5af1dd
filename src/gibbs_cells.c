/* Sufficient statistics for designs that do not change during sampling (no
 * estimated media transform): rows sharing the levels of every grouping term
 * and the residual-variance group form a cell, and each cell keeps the
 * weighted Gram matrix of [X | Z_1 .. Z_K | y]. Every Gibbs block then costs
 * O(cells x D^2) per sweep instead of a pass over all rows. */
#include <string.h>
#include "hbmmm.h"

/* theta of cell c: (beta, u_1(level), ..., u_K(level), -1), so that the
 * residual sum of squares is theta' G theta and every conditional mean is a
 * product of a Gram block with theta. */
static void cell_theta(const hb_gibbs_state *g, int c, double *th) {
  const hb_cells *cs = g->cells;
  memcpy(th, g->beta, sizeof(double) * g->p);
  for (int k = 0; k < g->K; k++) {
    const hb_term *t = g->t + k;
    memcpy(th + cs->off[k], t->u + (R_xlen_t) t->q * cs->lev[k][c], sizeof(double) * t->q);
  }
  th[cs->D - 1] = -1.0;
}

void hb_cells_build(hb_gibbs_state *g, const int *cell, int ncell) {
  const R_xlen_t n = g->n;
  hb_cells *cs = (hb_cells *) R_alloc(1, sizeof(hb_cells));
  g->cells = cs;
  cs->ncell = ncell;
  cs->off = (int *) R_alloc((size_t) g->K + 1, sizeof(int));
  int D = g->p;
  for (int k = 0; k < g->K; k++) {
    cs->off[k] = D;
    D += g->t[k].q;
  }
  cs->D = ++D;
  cs->G = (double *) R_alloc((size_t) ncell * D * D, sizeof(double));
  memset(cs->G, 0, sizeof(double) * (size_t) ncell * D * D);
  cs->sg = (int *) R_alloc((size_t) ncell, sizeof(int));
  cs->cnt = (double *) R_alloc((size_t) ncell, sizeof(double));
  memset(cs->cnt, 0, sizeof(double) * ncell);
  cs->lev = (int **) R_alloc((size_t) g->K + 1, sizeof(int *));
  for (int k = 0; k < g->K; k++) cs->lev[k] = (int *) R_alloc((size_t) ncell, sizeof(int));
  double *v = (double *) R_alloc((size_t) D, sizeof(double));
  for (R_xlen_t i = 0; i < n; i++) {
    int c = cell[i];
    if (cs->cnt[c] == 0.0) {
      cs->sg[c] = g->sg[i];
      for (int k = 0; k < g->K; k++) cs->lev[k][c] = g->t[k].g[i];
    } else {
      int same = cs->sg[c] == g->sg[i];
      for (int k = 0; k < g->K; k++) same = same && cs->lev[k][c] == g->t[k].g[i];
      if (!same) hb_input_error("model$cell", "rows of a cell must share every group level (row %.0f)", (double) i + 1);
    }
    cs->cnt[c] += 1.0;
    for (int j = 0; j < g->p; j++) v[j] = g->Xcol[j][i];
    for (int k = 0; k < g->K; k++)
      for (int j = 0; j < g->t[k].q; j++) v[cs->off[k] + j] = g->t[k].Zcol[j][i];
    v[D - 1] = g->y[i];
    double *Gc = cs->G + (R_xlen_t) c * D * D, wi = g->w[i];
    for (int b = 0; b < D; b++) {
      double wv = wi * v[b];
      for (int a = b; a < D; a++) Gc[a + b * D] += wv * v[a];
    }
  }
  for (int c = 0; c < ncell; c++) {
    if (cs->cnt[c] == 0.0) hb_input_error("model$cell", "cell %d has no rows", c + 1);
    double *Gc = cs->G + (R_xlen_t) c * D * D;
    for (int b = 0; b < D; b++)
      for (int a = b + 1; a < D; a++) Gc[b + a * D] = Gc[a + b * D];
  }
  /* cells of each level of each term */
  cs->start = (R_xlen_t **) R_alloc((size_t) g->K + 1, sizeof(R_xlen_t *));
  cs->ord = (R_xlen_t **) R_alloc((size_t) g->K + 1, sizeof(R_xlen_t *));
  for (int k = 0; k < g->K; k++) {
    cs->start[k] = (R_xlen_t *) R_alloc((size_t) g->t[k].G + 1, sizeof(R_xlen_t));
    cs->ord[k] = (R_xlen_t *) R_alloc((size_t) ncell, sizeof(R_xlen_t));
    hb_group_index(cs->lev[k], ncell, g->t[k].G, 0, cs->start[k], cs->ord[k]);
  }
  cs->theta = (double *) R_alloc((size_t) D, sizeof(double));
}

/* For block [a0, a1) of the Gram: P += prec G[block, block] (lower) and
 * b -= prec G[block, outside] theta_outside. */
static void cell_block(const double *Gc, int D, const double *th, double prec, int a0, int a1,
                       double *P, double *b) {
  int m = a1 - a0;
  for (int a = a0; a < a1; a++) {
    const double *row = Gc + a; /* G[a, col] = row[col * D] */
    double s = 0.0;
    for (int col = 0; col < a0; col++) s += row[(R_xlen_t) col * D] * th[col];
    for (int col = a1; col < D; col++) s += row[(R_xlen_t) col * D] * th[col];
    b[a - a0] -= prec * s;
    for (int l = a; l < a1; l++) P[(l - a0) + (a - a0) * m] += prec * Gc[l + (R_xlen_t) a * D];
  }
}

void hb_cells_draw_beta(hb_gibbs_state *g, const double *d0, const double *d0m) {
  const hb_cells *cs = g->cells;
  const int p = g->p, D = cs->D;
  double *P = g->work, *b = P + p * p;
  memset(P, 0, sizeof(double) * p * p);
  memset(b, 0, sizeof(double) * p);
  for (int c = 0; c < cs->ncell; c++) {
    cell_theta(g, c, cs->theta);
    cell_block(cs->G + (R_xlen_t) c * D * D, D, cs->theta, g->inv_sig2[cs->sg[c]], 0, p, P, b);
  }
  for (int j = 0; j < p; j++) {
    P[j + j * p] += d0[j];
    b[j] += d0m[j];
  }
  if (hb_mvn_precision_draw(P, b, p, g->beta, NULL) != 0)
    hb_sampler_error("the conditional precision of the fixed effects is not positive definite");
}

void hb_cells_update_effects(hb_gibbs_state *g, int k) {
  const hb_cells *cs = g->cells;
  hb_term *t = g->t + k;
  const int q = t->q, D = cs->D, a0 = cs->off[k];
  double *P = g->work, *b = P + q * q;
  for (int lv = 0; lv < t->G; lv++) {
    memset(P, 0, sizeof(double) * q * q);
    memset(b, 0, sizeof(double) * q);
    for (R_xlen_t s = cs->start[k][lv]; s < cs->start[k][lv + 1]; s++) {
      int c = (int) cs->ord[k][s];
      cell_theta(g, c, cs->theta);
      cell_block(cs->G + (R_xlen_t) c * D * D, D, cs->theta, g->inv_sig2[cs->sg[c]], a0, a0 + q, P, b);
    }
    hb_term_level_draw(t, lv, P, b, t->u + (R_xlen_t) q * lv);
  }
}

void hb_cells_update_sigma(hb_gibbs_state *g) {
  const hb_cells *cs = g->cells;
  const int D = cs->D;
  double *ss = g->work, *cnt = ss + g->S;
  memset(ss, 0, sizeof(double) * 2 * g->S);
  for (int c = 0; c < cs->ncell; c++) {
    const double *Gc = cs->G + (R_xlen_t) c * D * D;
    cell_theta(g, c, cs->theta);
    double q = 0.0;
    for (int b = 0; b < D; b++) {
      double s = 0.0;
      for (int a = 0; a < D; a++) s += Gc[a + (R_xlen_t) b * D] * cs->theta[a];
      q += s * cs->theta[b];
    }
    ss[cs->sg[c]] += q;
    cnt[cs->sg[c]] += cs->cnt[c];
  }
  for (int s = 0; s < g->S; s++)
    g->inv_sig2[s] = 1.0 / hb_inv_gamma_draw(g->sig_a + 0.5 * cnt[s], g->sig_b + 0.5 * ss[s]);
}
