/* The fixed effects in the Gibbs sampler: their prior (normal, or the
 * horseshoe's scale mixture), the sufficient statistics with beta taken out
 * of the residual, the joint normal draw of beta, its collapsed marginal
 * (for the Metropolis steps on media), and the horseshoe's scales. */
#include <math.h>
#include <string.h>
#include <Rmath.h>
#include "gibbs.h"

/* Prior precision (diagonal) and precision-weighted mean of the fixed effects. */
void hb_beta_prior(const hb_model *g, double *d0, double *d0m) {
  for (int j = 0; j < g->p; j++) {
    double sd = g->b_sd[j], mean = g->b_mean[j];
    if (g->use_hs && g->hs[j]) {
      sd = g->hs_scale[j] * sqrt(g->hs_lambda2[j] * g->hs_tau2);
      mean = 0.0;
    }
    d0[j] = 1.0 / (sd * sd);
    d0m[j] = mean * d0[j];
  }
}

/* The fixed effects' sufficient statistics with beta taken out of the
 * residual: ystar = y - Z u, A = X' Pi X, c = X' Pi ystar. They serve the
 * collapsed Metropolis steps on media (beta integrated out) and then the draw
 * of beta itself. Rows are taken in cache-sized blocks, columns inside. */
void hb_fixed_prepare(hb_model *g) {
  const int p = g->p;
  double *A = g->fx_A, *c = g->fx_c, *pys = g->blk, *px = pys + HB_BLOCK;
  memset(A, 0, sizeof(double) * p * p);
  memset(c, 0, sizeof(double) * p);
  double yy = 0.0;
  const double *xb[HB_MAX_P];
  for (R_xlen_t i0 = 0; i0 < g->n; i0 += HB_BLOCK) {
    R_xlen_t len = g->n - i0 < HB_BLOCK ? g->n - i0 : HB_BLOCK;
    double *ys = g->ystar + i0;
    memcpy(ys, g->r + i0, sizeof(double) * len);
    for (int j = 0; j < p; j++) {
      xb[j] = g->Xcol[j] + i0;
      hb_axpy(g->beta[j], xb[j], ys, len);
    }
    hb_vmul(g->prec + i0, ys, pys, len);
    yy += hb_dot(pys, ys, len);
    hb_crossprod_acc(xb, p, g->prec + i0, pys, len, A, c, px);
  }
  for (int j = 0; j < p; j++)
    for (int l = j + 1; l < p; l++) A[j + l * p] = A[l + j * p];
  g->fx_yy = yy;
}

/* beta ~ N(P^-1 b, P^-1) with P = A + D0 and b = c + D0 m: the fixed
 * effects given statistics A (p x p) and c of the likelihood and the prior. */
void hb_beta_draw_from(hb_model *g, const double *A, const double *c) {
  const int p = g->p;
  double *P = g->work, *b = P + p * p, *d0 = b + p, *d0m = d0 + p;
  hb_beta_prior(g, d0, d0m);
  memcpy(P, A, sizeof(double) * p * p);
  for (int j = 0; j < p; j++) {
    P[j + j * p] += d0[j];
    b[j] = c[j] + d0m[j];
  }
  if (hb_mvn_precision_draw(P, b, p, g->beta, NULL) != 0)
    hb_sampler_error("the conditional precision of the fixed effects is not positive definite");
}

/* beta | rest from the prepared statistics; the residual follows. */
void hb_draw_beta(hb_model *g) {
  const int p = g->p;
  hb_beta_draw_from(g, g->fx_A, g->fx_c);
  for (R_xlen_t i0 = 0; i0 < g->n; i0 += HB_BLOCK) {
    R_xlen_t len = g->n - i0 < HB_BLOCK ? g->n - i0 : HB_BLOCK;
    memcpy(g->r + i0, g->ystar + i0, sizeof(double) * len);
    for (int j = 0; j < p; j++) hb_axpy(-g->beta[j], g->Xcol[j] + i0, g->r + i0, len);
  }
}

/* log p(ystar | theta, u, sigma) with beta ~ N(mean, D0^-1) integrated out,
 * up to a constant: -yy/2 + b' P^-1 b / 2 - log det P / 2. */
double hb_fixed_log_marginal(const hb_model *g, const double *A, const double *c, double yy) {
  const int p = g->p;
  double *P = g->work, *b = P + p * p, *d0 = b + p, *d0m = d0 + p, *x = d0m + p;
  hb_beta_prior(g, d0, d0m);
  memcpy(P, A, sizeof(double) * p * p);
  for (int j = 0; j < p; j++) {
    P[j + j * p] += d0[j];
    b[j] = x[j] = c[j] + d0m[j];
  }
  if (hb_chol(P, p) != 0) return R_NegInf;
  hb_chol_solve(P, p, x);
  double q = 0.0;
  for (int j = 0; j < p; j++) q += b[j] * x[j];
  return -0.5 * yy + 0.5 * q - 0.5 * hb_log_det_chol(P, p);
}

/* Horseshoe through inverse-gamma auxiliaries (Makalic & Schmidt 2016). */
void hb_update_horseshoe(hb_model *g) {
  double ssum = 0.0;
  int H = 0;
  for (int j = 0; j < g->p; j++) {
    if (!g->hs[j]) continue;
    double b2 = g->beta[j] * g->beta[j] / (g->hs_scale[j] * g->hs_scale[j]);
    g->hs_lambda2[j] = hb_inv_gamma_draw(1.0, 1.0 / g->hs_nu[j] + 0.5 * b2 / g->hs_tau2);
    g->hs_nu[j] = hb_inv_gamma_draw(1.0, 1.0 + 1.0 / g->hs_lambda2[j]);
    ssum += b2 / g->hs_lambda2[j];
    H++;
  }
  g->hs_tau2 = hb_inv_gamma_draw(0.5 * (H + 1), 1.0 / g->hs_xi + 0.5 * ssum);
  g->hs_xi = hb_inv_gamma_draw(1.0, 1.0 + 1.0 / g->hs_tau2);
}
