/* Group-level effects in the Gibbs sampler: per-level normal draws of the
 * effects of one grouping term, then its covariance (inverse-Wishart,
 * diagonal inverse-gamma, or factor-analytic Lambda Lambda' + Psi). */
#include <math.h>
#include <string.h>
#include <Rmath.h>
#include "hbmmm.h"

/* u_k | rest for every level k: precision Z_k' Pi Z_k + prior precision,
 * with the term's current effects added back into the residual first. */
void hb_term_update_effects(hb_gibbs_state *g, hb_term *t) {
  const int q = t->q;
  double *P = g->work, *b = P + q * q, *out = b + q; /* P: lower triangle */
  for (int k = 0; k < t->G; k++) {
    double *uk = t->u + (R_xlen_t) q * k;
    memset(P, 0, sizeof(double) * q * q);
    memset(b, 0, sizeof(double) * q);
    for (R_xlen_t s = t->start[k]; s < t->start[k + 1]; s++) {
      R_xlen_t i = t->ord[s];
      double prec = g->w[i] * g->inv_sig2[g->sg[i]], zu = 0.0;
      for (int j = 0; j < q; j++) zu += t->Zcol[j][i] * uk[j];
      double ri = g->r[i] + zu;
      g->r[i] = ri;
      for (int j = 0; j < q; j++) {
        double pz = prec * t->Zcol[j][i];
        b[j] += pz * ri;
        for (int l = j; l < q; l++) P[l + j * q] += pz * t->Zcol[l][i];
      }
    }
    if (t->type == 2) { /* u_k ~ N(Lambda f_k, Psi) */
      const double *fk = t->f + (R_xlen_t) t->nf * k;
      for (int j = 0; j < q; j++) {
        double m = 0.0;
        for (int h = 0; h < t->nf; h++) m += t->Lambda[j + h * q] * fk[h];
        P[j + j * q] += 1.0 / t->psi[j];
        b[j] += m / t->psi[j];
      }
    } else {
      for (int j = 0; j < q; j++)
        for (int l = j; l < q; l++) P[l + j * q] += t->Sinv[l + j * q];
    }
    if (hb_mvn_precision_draw(P, b, q, out, NULL) != 0)
      Rf_error("hbmmm: the conditional precision of group-level effects is not positive definite");
    memcpy(uk, out, sizeof(double) * q);
    for (R_xlen_t s = t->start[k]; s < t->start[k + 1]; s++) {
      R_xlen_t i = t->ord[s];
      double zu = 0.0;
      for (int j = 0; j < q; j++) zu += t->Zcol[j][i] * uk[j];
      g->r[i] -= zu;
    }
  }
}

static void update_factor(hb_gibbs_state *g, hb_term *t) {
  const int q = t->q, nf = t->nf, G = t->G;
  double *P = g->work, *b = P + q * q + nf * nf, *out = b + q + nf;
  /* scores f_k | u_k: precision I + Lambda' Psi^-1 Lambda (same for all k) */
  for (int k = 0; k < G; k++) {
    const double *uk = t->u + (R_xlen_t) q * k;
    for (int a = 0; a < nf; a++) {
      double s = 0.0;
      for (int j = 0; j < q; j++) s += t->Lambda[j + a * q] * uk[j] / t->psi[j];
      b[a] = s;
      for (int c = 0; c < nf; c++) {
        double v = a == c ? 1.0 : 0.0;
        for (int j = 0; j < q; j++) v += t->Lambda[j + a * q] * t->Lambda[j + c * q] / t->psi[j];
        P[a + c * nf] = v;
      }
    }
    if (hb_mvn_precision_draw(P, b, nf, out, NULL) != 0)
      Rf_error("hbmmm: factor-score precision is not positive definite");
    memcpy(t->f + (R_xlen_t) nf * k, out, sizeof(double) * nf);
  }
  /* loadings row j | f, u_j: regression of u_j on the scores */
  for (int j = 0; j < q; j++) {
    double prior_prec = 1.0 / (t->load_sd[j] * t->load_sd[j]);
    for (int a = 0; a < nf; a++) {
      double s = 0.0;
      for (int k = 0; k < G; k++) s += t->f[a + (R_xlen_t) nf * k] * t->u[j + (R_xlen_t) q * k];
      b[a] = s / t->psi[j];
      for (int c = 0; c < nf; c++) {
        double v = 0.0;
        for (int k = 0; k < G; k++) v += t->f[a + (R_xlen_t) nf * k] * t->f[c + (R_xlen_t) nf * k];
        P[a + c * nf] = v / t->psi[j] + (a == c ? prior_prec : 0.0);
      }
    }
    if (hb_mvn_precision_draw(P, b, nf, out, NULL) != 0)
      Rf_error("hbmmm: loading precision is not positive definite");
    for (int a = 0; a < nf; a++) t->Lambda[j + a * q] = out[a];
    /* uniqueness psi_j | residuals of u_j */
    double ss = 0.0;
    for (int k = 0; k < G; k++) {
      double e = t->u[j + (R_xlen_t) q * k];
      for (int a = 0; a < nf; a++) e -= t->Lambda[j + a * q] * t->f[a + (R_xlen_t) nf * k];
      ss += e * e;
    }
    t->psi[j] = hb_inv_gamma_draw(t->psi_ig[2 * j] + 0.5 * G, t->psi_ig[2 * j + 1] + 0.5 * ss);
  }
  for (int j = 0; j < q; j++)
    for (int l = 0; l < q; l++) {
      double v = j == l ? t->psi[j] : 0.0;
      for (int a = 0; a < nf; a++) v += t->Lambda[j + a * q] * t->Lambda[l + a * q];
      t->Sigma[j + l * q] = v;
    }
}

void hb_term_update_cov(hb_gibbs_state *g, hb_term *t) {
  const int q = t->q, G = t->G;
  if (t->type == 2) {
    update_factor(g, t);
    return;
  }
  if (t->type == 1) {
    for (int j = 0; j < q; j++) {
      double ss = 0.0;
      for (int k = 0; k < G; k++) ss += t->u[j + (R_xlen_t) q * k] * t->u[j + (R_xlen_t) q * k];
      double v = hb_inv_gamma_draw(t->ig[2 * j] + 0.5 * G, t->ig[2 * j + 1] + 0.5 * ss);
      for (int l = 0; l < q; l++) t->Sigma[j + l * q] = t->Sinv[j + l * q] = 0.0;
      t->Sigma[j + j * q] = v;
      t->Sinv[j + j * q] = 1.0 / v;
    }
    return;
  }
  double *S = g->work, *wk = S + q * q;
  memcpy(S, t->iw_S, sizeof(double) * q * q);
  for (int k = 0; k < G; k++) {
    const double *uk = t->u + (R_xlen_t) q * k;
    for (int j = 0; j < q; j++)
      for (int l = 0; l < q; l++) S[j + l * q] += uk[j] * uk[l];
  }
  if (hb_inv_wishart_draw(t->iw_df + G, S, q, t->Sigma, wk) != 0)
    Rf_error("hbmmm: inverse-Wishart scale is not positive definite");
  hb_chol_inverse(wk, q, t->Sinv); /* wk holds the draw's Cholesky factor */
}
