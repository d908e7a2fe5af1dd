/* Sufficient statistics for designs that do not change during sampling (no
 * estimated media transform): rows sharing the levels of every grouping term
 * and the residual-variance group form a cell, and each cell keeps the
 * weighted Gram matrix of [X | Z_1 .. Z_K | y]. Both samplers use them: the
 * Gibbs blocks (gibbs_cells.c) and the NUTS likelihood (model_mmm.c). */
#include <string.h>
#include "model.h"

void hb_cells_build(hb_model *g, const int *cell, int ncell) {
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
  cs->acc = (double *) R_alloc((size_t) D, sizeof(double));
}

/* theta of cell c: (beta, u_1(level), ..., u_K(level), -1), so that the
 * residual sum of squares is theta' G theta and every conditional mean is a
 * product of a Gram block with theta. */
void hb_cell_theta(const hb_model *g, int c, double *th) {
  const hb_cells *cs = g->cells;
  memcpy(th, g->beta, sizeof(double) * g->p);
  for (int k = 0; k < g->K; k++) {
    const hb_term *t = g->t + k;
    memcpy(th + cs->off[k], t->u + (R_xlen_t) t->q * cs->lev[k][c], sizeof(double) * t->q);
  }
  th[cs->D - 1] = -1.0;
}
