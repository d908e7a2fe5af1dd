/* The hierarchical MMM as a log density with analytic gradient on the
 * unconstrained scale, for the NUTS engine (nuts.c sees it only through
 * hb_nuts_model). Same model and priors as the Gibbs sampler (it reads the
 * same list, src/model_read.c), plus priors that suit NUTS: LKJ correlations
 * with half-normal / half-Student-t / exponential scales, and the regularized
 * horseshoe.
 *
 * Layout of theta (offsets in mmm_ctx):
 *   beta (p; horseshoe columns hold the standard-normal z_j instead),
 *   horseshoe: log lambda_j (H), log tau, [log c: slab],
 *   per term k: covariance parameters (by type, below), then effects q x G
 *     (non-centred: z with u_g = L z_g; centred: u itself),
 *   log sigma_s (S), channel transform parameters (unconstrained, by link).
 * Covariance parameters by term type:
 *   0 inverse-Wishart, 3 Huang-Wand full: Cholesky factor L of Sigma, lower
 *     triangle by column, diagonal on the log scale; type 3 then log a_j (q);
 *   1 diagonal inverse-gamma: log sd_j (q); 4 Huang-Wand diagonal: log sd_j,
 *     log a_j; 5 LKJ: log sd_j, then q(q-1)/2 unconstrained canonical partial
 *     correlations (tanh) building the correlation's Cholesky factor;
 *   2 factor: loadings Lambda (q x nf), log psi_j (q), scores f (nf x G); the
 *     effects are then z (u = Lambda f + sqrt(psi) z) or u (centred). */
#include <math.h>
#include <string.h>
#include <Rmath.h>
#include "model.h"

typedef struct {
  hb_model *g;
  int centered, dim, nout;
  /* horseshoe */
  int H, hs_reg, *hs_col;
  double hs_df, hs_df_global, hs_slab_df, hs_slab_scale;
  /* offsets */
  int o_lam, o_tau, o_c, o_sig, o_ch;
  int *o_cov, *o_a, *o_eff;
  /* LKJ terms */
  double *lkj_eta, *sd_par;
  int *sd_code, *sd_off;
  /* scratch */
  hb_channel_ws cw;           /* transformed media with derivatives */
  double *e, *coef, **dm;
  double **Lc, **gLc, **gu, **S, **Sinv, **M, *tmp;
  double *gbeta, *ss, *cnt, *lam_t, *gscratch;
  /* the layout of one draw; online summaries */
  hb_draw_item *items;
  hb_moments_t *mom;
  hb_psquare_t *psq;
} mmm_ctx;

static int ncov(const hb_term *t) {
  const int q = t->q;
  switch (t->type) {
  case HB_COV_FULL: return q * (q + 1) / 2;
  case HB_COV_HW_FULL: return q * (q + 1) / 2 + q;
  case HB_COV_DIAG: return q;
  case HB_COV_HW_DIAG: return 2 * q;
  case HB_COV_LKJ: return q + q * (q - 1) / 2;
  default: return q * t->nf + q + t->nf * t->G;
  }
}

/* ---- small densities on the log scale of a positive parameter ----------- */

/* x^2 ~ IG(a, b) with ell = log x, Jacobian included: -2 a ell - b exp(-2 ell) */
static double ig_sq_log(double a, double b, double ell, double *grad) {
  double e2 = exp(-2.0 * ell);
  *grad += -2.0 * a + 2.0 * b * e2;
  return -2.0 * a * ell - b * e2;
}

/* x ~ half-t(nu, 1) with ell = log x, Jacobian included */
static double half_t_log(double nu, double ell, double *grad) {
  double x2 = exp(2.0 * ell);
  *grad += 1.0 - (nu + 1.0) * x2 / (nu + x2);
  return ell - 0.5 * (nu + 1.0) * log1p(x2 / nu);
}

/* a ~ IG(1/2, 1 / A^2) with alpha = log a, Jacobian included */
static double hw_a_log(double A, double alpha, double *grad) {
  double ea = exp(-alpha) / (A * A);
  *grad += -0.5 + ea;
  return -0.5 * alpha - ea;
}

/* ---- covariance parameterizations: forward and reverse, side by side ------
 *
 * Forward (unpack): from a term's covariance parameters cp, the factor L
 * with u_g = L z_g (m->Lc[k]), adding the log prior with Jacobian to *l and
 * its direct gradient to gc. Reverse (backprop): from gL = d log density /
 * d L, the gradient of the parameters. The factor-analytic term has no L:
 * its passes work on loadings, uniquenesses and scores directly. */

/* HB_COV_FULL, HB_COV_HW_FULL: the Cholesky factor, lower triangle by
 * column, diagonal on the log scale */
static void chol_fwd(const hb_term *t, const double *cp, double *gc, double *L, double *l) {
  const int q = t->q;
  int a = 0;
  for (int j = 0; j < q; j++)
    for (int i = j; i < q; i++, a++) {
      L[i + j * q] = i == j ? exp(cp[a]) : cp[a];
      if (i == j) {
        *l += cp[a]; /* d L_jj / d log L_jj */
        gc[a] += 1.0;
      }
    }
}

static void chol_rev(const hb_term *t, const double *L, const double *gL, double *gc) {
  const int q = t->q;
  int a = 0;
  for (int j = 0; j < q; j++)
    for (int i = j; i < q; i++, a++) gc[a] += gL[i + j * q] * (i == j ? L[i + j * q] : 1.0);
}

/* HB_COV_DIAG: log sd_j, each sd^2 inverse-gamma */
static void diag_ig_fwd(const hb_term *t, const double *cp, double *gc, double *L, double *l) {
  const int q = t->q;
  for (int j = 0; j < q; j++) {
    L[j + j * q] = exp(cp[j]);
    *l += ig_sq_log(t->ig[2 * j], t->ig[2 * j + 1], cp[j], gc + j);
  }
}

/* HB_COV_HW_DIAG: log sd_j, then log a_j (sd_j^2 | a_j ~ IG(nu / 2, nu / a_j)) */
static void hw_diag_fwd(hb_term *t, const double *cp, double *gc, double *L, double *l) {
  const int q = t->q;
  const double nu = t->hw_nu;
  for (int j = 0; j < q; j++) {
    double ell = cp[j], al = cp[q + j], ex = exp(-al - 2.0 * ell);
    L[j + j * q] = exp(ell);
    t->hw_a[j] = exp(al);
    *l += 0.5 * nu * (log(nu) - al) - nu * ell - nu * ex;
    gc[j] += -nu + 2.0 * nu * ex;
    gc[q + j] += -0.5 * nu + nu * ex;
    *l += hw_a_log(t->hw_A[j], al, gc + q + j);
  }
}

/* both diagonal types: L = diag(sd) */
static void diag_rev(const hb_term *t, const double *L, const double *gL, double *gc) {
  const int q = t->q;
  for (int j = 0; j < q; j++) gc[j] += gL[j + j * q] * L[j + j * q];
}

/* HB_COV_LKJ: log sd_j, then q(q-1)/2 unconstrained canonical partial
 * correlations (tanh) building the correlation's Cholesky factor R;
 * L = diag(sd) R */
static void lkj_fwd(const mmm_ctx *m, int k, const double *cp, double *gc, double *L, double *l) {
  const int q = m->g->t[k].q;
  const double *y = cp + q;
  double *gy = gc + q;
  for (int j = 0; j < q; j++) {
    double sd = exp(cp[j]);
    const double *pp = m->sd_par + 2 * (m->sd_off[k] + j); /* per column */
    *l += hb_prior_logdens(m->sd_code[k], pp, sd) + cp[j];
    gc[j] += hb_prior_dlogdens(m->sd_code[k], pp, sd) * sd + 1.0;
  }
  L[0] = 1.0;
  for (int i = 1; i < q; i++) {
    double acc = 0.0;
    for (int j = 0; j < i; j++) {
      int a = (i - 1) * i / 2 + j;
      double z = tanh(y[a]);
      *l += log1p(-z * z) + 0.5 * log1p(-acc); /* Jacobian of the transform */
      gy[a] += -2.0 * z;
      L[i + j * q] = z * sqrt(1.0 - acc);
      acc += L[i + j * q] * L[i + j * q];
    }
    L[i + i * q] = sqrt(1.0 - acc);
    *l += (q - i + 2.0 * m->lkj_eta[k] - 3.0) * log(L[i + i * q]);
  }
  /* the LKJ term, the acc Jacobian and the sds reach the cpcs through L:
   * done in lkj_rev() */
  for (int i = 0; i < q; i++) {
    double sd = exp(cp[i]);
    for (int j = 0; j <= i; j++) L[i + j * q] *= sd;
  }
}

static void lkj_rev(const mmm_ctx *m, int k, const double *cp, const double *L, const double *gL,
                    double *gc) {
  const int q = m->g->t[k].q;
  const double *y = cp + q;
  double *gy = gc + q, R[HB_MAX_Q], gR[HB_MAX_Q];
  for (int i = 0; i < q; i++) {
    double sd = exp(cp[i]), gs = 0.0;
    for (int j = 0; j <= i; j++) {
      R[j] = L[i + j * q] / sd;
      gR[j] = gL[i + j * q] * sd;
      gs += gL[i + j * q] * R[j];
    }
    gc[i] += gs * sd;
    if (i == 0) continue;
    /* row i: the LKJ term and the reverse pass of the recursion */
    gR[i] += (q - i + 2.0 * m->lkj_eta[k] - 3.0) / R[i];
    double acc_end = 1.0 - R[i] * R[i];
    double gacc = gR[i] * (-0.5 / R[i]);
    double acc = acc_end;
    for (int j = i - 1; j >= 0; j--) {
      int a = (i - 1) * i / 2 + j;
      double z = tanh(y[a]);
      double acc_j = acc - R[j] * R[j]; /* before element j */
      double s = sqrt(1.0 - acc_j);
      double gtot = gR[j] + gacc * 2.0 * R[j];
      gy[a] += gtot * s * (1.0 - z * z);
      gacc += gtot * z * (-0.5 / s) - 0.5 / (1.0 - acc_j);
      acc = acc_j;
    }
  }
}

/* HB_COV_FACTOR: loadings Lambda (q x nf), log psi_j (q), scores f (nf x G);
 * the effects are z (u = Lambda f + sqrt(psi) z) or u itself (centred) */
static void factor_fwd(const mmm_ctx *m, hb_term *t, const double *cp, const double *ef, double *gc,
                       double *gef, double *l) {
  const int q = t->q, G = t->G, nf = t->nf;
  const double *Lam = cp, *lpsi = cp + q * nf, *f = lpsi + q;
  double *gLam = gc, *glpsi = gc + q * nf, *gf = glpsi + q;
  for (int j = 0; j < q; j++) {
    t->psi[j] = exp(lpsi[j]);
    double a = t->psi_ig[2 * j], b = t->psi_ig[2 * j + 1];
    *l += -a * lpsi[j] - b / t->psi[j];
    glpsi[j] += -a + b / t->psi[j];
    for (int h = 0; h < nf; h++) {
      double v = Lam[j + h * q] / t->load_sd[j];
      *l -= 0.5 * v * v;
      gLam[j + h * q] -= v / t->load_sd[j];
    }
  }
  for (R_xlen_t a = 0; a < (R_xlen_t) nf * G; a++) {
    *l -= 0.5 * f[a] * f[a];
    gf[a] -= f[a];
  }
  for (int gg = 0; gg < G; gg++)
    for (int j = 0; j < q; j++) {
      double mu = 0.0;
      for (int h = 0; h < nf; h++) mu += Lam[j + h * q] * f[h + (R_xlen_t) nf * gg];
      R_xlen_t a = j + (R_xlen_t) q * gg;
      if (m->centered) {
        t->u[a] = ef[a];
        double d = ef[a] - mu;
        *l += -0.5 * lpsi[j] - 0.5 * d * d / t->psi[j];
        /* gradient of the centred prior with respect to u, Lambda, f, psi */
        double r = d / t->psi[j];
        gef[a] -= r;
        for (int h = 0; h < nf; h++) {
          gLam[j + h * q] += r * f[h + (R_xlen_t) nf * gg];
          gf[h + (R_xlen_t) nf * gg] += r * Lam[j + h * q];
        }
        glpsi[j] += -0.5 + 0.5 * d * r;
      } else {
        t->u[a] = mu + sqrt(t->psi[j]) * ef[a];
        *l -= 0.5 * ef[a] * ef[a];
        gef[a] -= ef[a];
      }
    }
}

/* gu: d log likelihood / d u */
static void factor_rev(const mmm_ctx *m, const hb_term *t, const double *cp, const double *ef,
                       const double *gu, double *gc, double *gef) {
  const int q = t->q, G = t->G, nf = t->nf;
  const double *Lam = cp, *f = cp + q * nf + q;
  double *gLam = gc, *glpsi = gc + q * nf, *gf = glpsi + q;
  for (int gg = 0; gg < G; gg++)
    for (int j = 0; j < q; j++) {
      R_xlen_t a = j + (R_xlen_t) q * gg;
      double v = gu[a];
      if (m->centered) {
        gef[a] += v;
        continue;
      }
      double sp = sqrt(t->psi[j]);
      gef[a] += sp * v;
      glpsi[j] += 0.5 * v * sp * ef[a];
      for (int h = 0; h < nf; h++) {
        gLam[j + h * q] += v * f[h + (R_xlen_t) nf * gg];
        gf[h + (R_xlen_t) nf * gg] += v * Lam[j + h * q];
      }
    }
}

/* ---- effects and the priors written through Sigma^-1 (all but factor) ------ */

/* u_g = L z_g with z_g ~ N(0, I) (non-centred), or u_g itself (centred: its
 * prior is part of sinv_fwd()) */
static void effects_fwd(const mmm_ctx *m, hb_term *t, const double *L, const double *ef, double *gef,
                        double *l) {
  const int q = t->q, G = t->G;
  for (int gg = 0; gg < G; gg++) {
    const double *z = ef + (R_xlen_t) q * gg;
    double *u = t->u + (R_xlen_t) q * gg;
    if (m->centered) {
      memcpy(u, z, sizeof(double) * q);
    } else {
      for (int i = 0; i < q; i++) {
        double v = 0.0;
        for (int j = 0; j <= i; j++) v += L[i + j * q] * z[j];
        u[i] = v;
      }
      for (int j = 0; j < q; j++) {
        *l -= 0.5 * z[j] * z[j];
        gef[(R_xlen_t) q * gg + j] -= z[j];
      }
    }
  }
}

/* gu: d log likelihood / d u; adds to gef and (non-centred) to gL */
static void effects_rev(const mmm_ctx *m, int k, const double *ef, const double *gu, double *gef,
                        double *gL) {
  const hb_term *t = m->g->t + k;
  const int q = t->q, G = t->G;
  const double *L = m->Lc[k];
  if (m->centered) {
    for (R_xlen_t a = 0; a < (R_xlen_t) q * G; a++) gef[a] += gu[a];
    /* the effects' prior: - Sigma^-1 u_g */
    for (int gg = 0; gg < G; gg++) {
      const double *u = t->u + (R_xlen_t) q * gg;
      for (int i = 0; i < q; i++) gef[(R_xlen_t) q * gg + i] -= hb_dot(m->Sinv[k] + (R_xlen_t) i * q, u, q);
    }
    return;
  }
  for (int gg = 0; gg < G; gg++) {
    const double *z = ef + (R_xlen_t) q * gg, *v = gu + (R_xlen_t) q * gg;
    for (int j = 0; j < q; j++) {
      double s = 0.0;
      for (int i = j; i < q; i++) {
        s += L[i + j * q] * v[i];
        gL[i + j * q] += v[i] * z[j];
      }
      gef[(R_xlen_t) q * gg + j] += s;
    }
  }
}

/* Priors written through Sigma^-1 = (L L')^-1: the inverse-Wishart forms
 * (full, Huang-Wand full given a) and the centred effects' density. Keeps
 * Sinv and the scatter matrix for sinv_rev(). Nonzero when L is singular. */
static int sinv_fwd(mmm_ctx *m, int k, const double *cp, double *gc, const double *L, double *l) {
  hb_term *t = m->g->t + k;
  const int q = t->q, G = t->G;
  for (int j = 0; j < q; j++)
    if (!(L[j + j * q] > 0.0 && R_FINITE(L[j + j * q]))) return 1;
  hb_chol_inverse(L, q, m->Sinv[k]);
  double *Sm = m->S[k];
  double ldet = 0.0;
  for (int j = 0; j < q; j++) ldet += 2.0 * log(L[j + j * q]);
  memset(Sm, 0, sizeof(double) * q * q);
  double df = 0.0;
  if (t->type == HB_COV_FULL) {
    df = t->iw_df;
    for (int a = 0; a < q * q; a++) Sm[a] = t->iw_S[a];
    for (int j = 0; j < q; j++) *l += (q - j) * log(L[j + j * q]) + M_LN2; /* d Sigma / d L */
  } else if (t->type == HB_COV_HW_FULL) {
    const double nu = t->hw_nu;
    df = nu + q - 1.0;
    for (int j = 0; j < q; j++) {
      double al = cp[q * (q + 1) / 2 + j];
      t->hw_a[j] = exp(al);
      Sm[j + j * q] = 2.0 * nu / t->hw_a[j];
      *l += 0.5 * df * (log(2.0 * nu) - al);
      gc[q * (q + 1) / 2 + j] += -0.5 * df + nu * m->Sinv[k][j + j * q] / t->hw_a[j];
      *l += hw_a_log(t->hw_A[j], al, gc + q * (q + 1) / 2 + j);
      *l += (q - j) * log(L[j + j * q]) + M_LN2;
    }
  }
  if (t->type == HB_COV_FULL || t->type == HB_COV_HW_FULL) *l -= 0.5 * (df + q + 1.0) * ldet;
  if (m->centered) {
    *l -= 0.5 * G * ldet;
    for (int gg = 0; gg < G; gg++) {
      const double *u = t->u + (R_xlen_t) q * gg;
      for (int i = 0; i < q; i++)
        for (int j = 0; j < q; j++) Sm[i + j * q] += u[i] * u[j];
    }
  }
  double tr = 0.0;
  for (int a = 0; a < q * q; a++) tr += Sm[a] * m->Sinv[k][a];
  *l -= 0.5 * tr;
  return 0;
}

/* - c log det Sigma / 2 - tr(Sm Sigma^-1) / 2 (+ Jacobian of Sigma = L L'):
 * d/dL = - c diag(1 / L) + lower(Sigma^-1 Sm Sigma^-1 L) */
static void sinv_rev(mmm_ctx *m, int k, const double *L, double *gL) {
  const hb_term *t = m->g->t + k;
  const int q = t->q, G = t->G;
  const double *Si = m->Sinv[k], *Sm = m->S[k];
  double *T = m->tmp, *Mx = m->M[k];
  for (int i = 0; i < q; i++)
    for (int j = 0; j < q; j++) T[i + j * q] = hb_dot(Sm + (R_xlen_t) i * q, Si + (R_xlen_t) j * q, q); /* Sm' Si = Sm Si */
  for (int i = 0; i < q; i++)
    for (int j = 0; j < q; j++) {
      double v = 0.0;
      for (int a = 0; a < q; a++) v += Si[i + a * q] * T[a + j * q];
      Mx[i + j * q] = v;
    }
  double c = (t->type == HB_COV_FULL ? t->iw_df + q + 1.0 : t->type == HB_COV_HW_FULL ? t->hw_nu + 2.0 * q : 0.0) +
             (m->centered ? G : 0.0);
  for (int j = 0; j < q; j++) {
    gL[j + j * q] += -c / L[j + j * q];
    if (t->type == HB_COV_FULL || t->type == HB_COV_HW_FULL) gL[j + j * q] += (q - j) / L[j + j * q];
    for (int i = j; i < q; i++) {
      double v = 0.0;
      for (int a = j; a < q; a++) v += Mx[i + a * q] * L[a + j * q];
      gL[i + j * q] += v;
    }
  }
}

static int uses_sinv(const mmm_ctx *m, const hb_term *t) {
  return t->type == HB_COV_FULL || t->type == HB_COV_HW_FULL || m->centered;
}

/* ---- unpacking theta ------------------------------------------------------ */

/* Fixed effects (horseshoe columns: beta_j = scale_j tau lambda~_j z_j) and
 * the horseshoe's scales. */
static void unpack_fixed(mmm_ctx *m, const double *th, double *grad, double *l) {
  hb_model *g = m->g;
  double tau = 0.0, c = 0.0;
  if (m->H) {
    tau = exp(th[m->o_tau]);
    *l += half_t_log(m->hs_df_global, th[m->o_tau], grad + m->o_tau);
    if (m->hs_reg) {
      c = exp(th[m->o_c]);
      *l += ig_sq_log(0.5 * m->hs_slab_df, 0.5 * m->hs_slab_df * m->hs_slab_scale * m->hs_slab_scale,
                      th[m->o_c], grad + m->o_c);
    }
  }
  for (int j = 0; j < g->p; j++) {
    g->beta[j] = th[j];
    if (g->use_hs && g->hs[j]) continue;
    double d = (th[j] - g->b_mean[j]) / g->b_sd[j];
    *l -= 0.5 * d * d;
    grad[j] -= d / g->b_sd[j];
  }
  for (int h = 0; h < m->H; h++) {
    int j = m->hs_col[h];
    double ll = th[m->o_lam + h], lam = exp(ll);
    *l += half_t_log(m->hs_df, ll, grad + m->o_lam + h);
    double lt = lam;
    if (m->hs_reg) lt = c * lam / sqrt(c * c + tau * tau * lam * lam);
    m->lam_t[h] = lt;
    g->beta[j] = g->hs_scale[j] * tau * lt * th[j];
    *l -= 0.5 * th[j] * th[j];
    grad[j] -= th[j];
  }
}

/* Term k: its factor Lc and effects u. Nonzero when Sigma is singular. */
static int unpack_term(mmm_ctx *m, int k, const double *th, double *grad, double *l) {
  hb_term *t = m->g->t + k;
  const int q = t->q;
  const double *cp = th + m->o_cov[k], *ef = th + m->o_eff[k];
  double *gc = grad + m->o_cov[k], *gef = grad + m->o_eff[k];
  if (t->type == HB_COV_FACTOR) {
    factor_fwd(m, t, cp, ef, gc, gef, l);
    return 0;
  }
  double *L = m->Lc[k];
  memset(L, 0, sizeof(double) * q * q);
  switch (t->type) {
  case HB_COV_FULL: case HB_COV_HW_FULL: chol_fwd(t, cp, gc, L, l); break;
  case HB_COV_DIAG: diag_ig_fwd(t, cp, gc, L, l); break;
  case HB_COV_HW_DIAG: hw_diag_fwd(t, cp, gc, L, l); break;
  default: lkj_fwd(m, k, cp, gc, L, l); /* HB_COV_LKJ */
  }
  effects_fwd(m, t, L, ef, gef, l);
  return uses_sinv(m, t) ? sinv_fwd(m, k, cp, gc, L, l) : 0;
}

/* Residual precisions and channel parameters (constrained, by link). */
static void unpack_scales(mmm_ctx *m, const double *th, double *grad, double *l) {
  hb_model *g = m->g;
  for (int s = 0; s < g->S; s++) {
    g->inv_sig2[s] = exp(-2.0 * th[m->o_sig + s]);
    *l += ig_sq_log(g->sig_a, g->sig_b, th[m->o_sig + s], grad + m->o_sig + s);
  }
  int o = m->o_ch;
  for (int cc = 0; cc < g->C; cc++) {
    hb_channel *ch = g->ch + cc;
    for (int e = 0; e < ch->nest; e++, o++) {
      int s = ch->est_slot[e];
      double v = hb_link_from_unc(ch->link[s], th[o], ch->upper[s]), dv, dj;
      hb_link_derivs(ch->link[s], th[o], ch->upper[s], &dv, &dj);
      ch->par[s] = v;
      *l += hb_prior_logdens(ch->prior_code[s], ch->prior_par + 2 * s, v) +
            hb_link_logjac(ch->link[s], th[o], ch->upper[s]);
      grad[o] += hb_prior_dlogdens(ch->prior_code[s], ch->prior_par + 2 * s, v) * dv + dj;
    }
  }
}

/* Builds beta, every term's factor Lc (u_g = Lc z_g) and effects u, residual
 * precisions and channel parameters from theta; adds the log prior of
 * everything (Jacobians included) to *lp and its direct gradient to grad.
 * Gradients that flow through beta, Lc and u are added later (backprop). */
static int unpack(mmm_ctx *m, const double *th, double *lp, double *grad) {
  double l = 0.0;
  unpack_fixed(m, th, grad, &l);
  for (int k = 0; k < m->g->K; k++)
    if (unpack_term(m, k, th, grad, &l)) return 1;
  unpack_scales(m, th, grad, &l);
  *lp += l;
  return R_FINITE(l) ? 0 : 1;
}

/* ---- gradients that flow through the factors Lc ------------------------ */

/* m->gu[k] holds d log density / d u (likelihood); adds the effects' and
 * covariance parameters' gradients. */
static void backprop_term(mmm_ctx *m, int k, const double *th, double *grad) {
  hb_term *t = m->g->t + k;
  const int q = t->q;
  const double *cp = th + m->o_cov[k], *ef = th + m->o_eff[k];
  double *gc = grad + m->o_cov[k], *gef = grad + m->o_eff[k];
  if (t->type == HB_COV_FACTOR) {
    factor_rev(m, t, cp, ef, m->gu[k], gc, gef);
    return;
  }
  const double *L = m->Lc[k];
  double *gL = m->gLc[k];
  memset(gL, 0, sizeof(double) * q * q);
  effects_rev(m, k, ef, m->gu[k], gef, gL);
  if (uses_sinv(m, t)) sinv_rev(m, k, L, gL);
  switch (t->type) {
  case HB_COV_FULL: case HB_COV_HW_FULL: chol_rev(t, L, gL, gc); break;
  case HB_COV_DIAG: case HB_COV_HW_DIAG: diag_rev(t, L, gL, gc); break;
  default: lkj_rev(m, k, cp, L, gL, gc); /* HB_COV_LKJ */
  }
}

/* ---- the likelihood --------------------------------------------------------- */

/* Residual sums of squares per variance group and d loglik / d (beta, u) from
 * the rows (or the cells' Gram matrices); e[i] = w_i r_i / sigma^2 (rows). */
static void likelihood_rows(mmm_ctx *m) {
  hb_model *g = m->g;
  const R_xlen_t n = g->n;
  const int p = g->p;
  double *e = m->e;
  memset(m->ss, 0, sizeof(double) * g->S);
  for (R_xlen_t i = 0; i < n; i++) e[i] = g->y[i];
  for (int j = 0; j < p; j++) hb_axpy(-g->beta[j], g->Xcol[j], e, n);
  for (int k = 0; k < g->K; k++) {
    const hb_term *t = g->t + k;
    for (int j = 0; j < t->q; j++) {
      const double *z = t->Zcol[j];
      for (R_xlen_t i = 0; i < n; i++) e[i] -= z[i] * t->u[j + (R_xlen_t) t->q * t->g[i]];
    }
  }
  for (R_xlen_t i = 0; i < n; i++) {
    double wr = g->w[i] * e[i];
    m->ss[g->sg[i]] += wr * e[i];
    e[i] = wr * g->inv_sig2[g->sg[i]];
  }
  for (int j = 0; j < p; j++) m->gbeta[j] = hb_dot(e, g->Xcol[j], n);
  for (int k = 0; k < g->K; k++) {
    const hb_term *t = g->t + k;
    double *gu = m->gu[k];
    memset(gu, 0, sizeof(double) * t->q * t->G);
    for (int j = 0; j < t->q; j++) {
      const double *z = t->Zcol[j];
      for (R_xlen_t i = 0; i < n; i++) gu[j + (R_xlen_t) t->q * t->g[i]] += e[i] * z[i];
    }
  }
}

static void likelihood_cells(mmm_ctx *m) {
  hb_model *g = m->g;
  const hb_cells *cs = g->cells;
  const int D = cs->D, p = g->p;
  double *th = cs->theta, *h = m->tmp;
  memset(m->ss, 0, sizeof(double) * g->S);
  memset(m->gbeta, 0, sizeof(double) * p);
  for (int k = 0; k < g->K; k++) memset(m->gu[k], 0, sizeof(double) * g->t[k].q * g->t[k].G);
  for (int c = 0; c < cs->ncell; c++) {
    memcpy(th, g->beta, sizeof(double) * p);
    for (int k = 0; k < g->K; k++)
      memcpy(th + cs->off[k], g->t[k].u + (R_xlen_t) g->t[k].q * cs->lev[k][c], sizeof(double) * g->t[k].q);
    th[D - 1] = -1.0;
    const double *Gc = cs->G + (R_xlen_t) c * D * D; /* lower triangle */
    for (int a = 0; a < D; a++) {
      double v = 0.0;
      for (int b = 0; b < D; b++) v += (a >= b ? Gc[a + b * D] : Gc[b + a * D]) * th[b];
      h[a] = v;
    }
    double is2 = g->inv_sig2[cs->sg[c]];
    m->ss[cs->sg[c]] += hb_dot(th, h, D);
    for (int j = 0; j < p; j++) m->gbeta[j] -= h[j] * is2;
    for (int k = 0; k < g->K; k++) {
      double *gu = m->gu[k] + (R_xlen_t) g->t[k].q * cs->lev[k][c];
      for (int j = 0; j < g->t[k].q; j++) gu[j] -= h[cs->off[k] + j] * is2;
    }
  }
}

/* ---- log density and gradient ------------------------------------------- */

static int mmm_logp_grad(void *vctx, const double *th, double *lp_out, double *grad) {
  mmm_ctx *m = (mmm_ctx *) vctx;
  hb_model *g = m->g;
  const R_xlen_t n = g->n;
  memset(grad, 0, sizeof(double) * m->dim);
  double lp = 0.0;
  if (unpack(m, th, &lp, grad)) return 1;
  /* transformed media at the current parameters, with derivatives */
  for (int c = 0; c < g->C; c++) {
    if (g->ch[c].nest == 0) continue;
    if (hb_channel_eval(&m->cw, c, g->ch[c].par, m->dm[c])) return 1;
    hb_refresh_channel_columns(g, c);
  }
  if (g->cells) likelihood_cells(m);
  else likelihood_rows(m);
  for (int s = 0; s < g->S; s++) {
    double ell = th[m->o_sig + s];
    lp += -m->cnt[s] * ell - 0.5 * m->ss[s] * g->inv_sig2[s];
    grad[m->o_sig + s] += -m->cnt[s] + m->ss[s] * g->inv_sig2[s];
  }
  /* media: d loglik / d media_c(i) = e_i times what multiplies the column */
  int o = m->o_ch;
  for (int c = 0; c < g->C; c++) {
    const hb_channel *ch = g->ch + c;
    if (ch->nest == 0) continue;
    double *coef = m->coef;
    memset(coef, 0, sizeof(double) * n);
    for (int j = 0; j < g->p; j++)
      if (g->xc[j] == c) hb_axpy(g->beta[j], g->Xs + (R_xlen_t) j * n, coef, n);
    for (int k = 0; k < g->K; k++) {
      const hb_term *t = g->t + k;
      for (int j = 0; j < t->q; j++) {
        if (t->zc[j] != c) continue;
        const double *s = t->Zs + (R_xlen_t) j * n;
        for (R_xlen_t i = 0; i < n; i++) coef[i] += s[i] * t->u[j + (R_xlen_t) t->q * t->g[i]];
      }
    }
    for (int e = 0; e < ch->nest; e++, o++) {
      int s = ch->est_slot[e];
      double dv, dj;
      hb_link_derivs(ch->link[s], th[o], ch->upper[s], &dv, &dj);
      const double *d = m->dm[c] + (R_xlen_t) e * n;
      double acc = 0.0;
      for (R_xlen_t i = 0; i < n; i++) acc += m->e[i] * coef[i] * d[i];
      grad[o] += acc * dv;
    }
  }
  /* fixed effects */
  for (int j = 0; j < g->p; j++) {
    if (!(g->use_hs && g->hs[j])) grad[j] += m->gbeta[j];
  }
  if (m->H) {
    double tau = exp(th[m->o_tau]), c = m->hs_reg ? exp(th[m->o_c]) : 0.0;
    for (int h = 0; h < m->H; h++) {
      int j = m->hs_col[h];
      double b = g->beta[j], gb = m->gbeta[j];
      grad[j] += gb * g->hs_scale[j] * tau * m->lam_t[h];
      double dl = 1.0, dt = 0.0, dc = 0.0; /* d log lam_t / d log (lambda, tau, c) */
      if (m->hs_reg) {
        double lam = exp(th[m->o_lam + h]), tl2 = tau * tau * lam * lam, den = c * c + tl2;
        dl = c * c / den;
        dt = -tl2 / den;
        dc = tl2 / den;
      }
      grad[m->o_lam + h] += gb * b * dl;
      grad[m->o_tau] += gb * b * (1.0 + dt);
      if (m->hs_reg) grad[m->o_c] += gb * b * dc;
    }
  }
  for (int k = 0; k < g->K; k++) backprop_term(m, k, th, grad);
  for (int a = 0; a < m->dim; a++)
    if (!R_FINITE(grad[a])) return 1;
  *lp_out = lp;
  return R_FINITE(lp) ? 0 : 1;
}

/* ---- one draw: the layout of model_layout.c ----------------------------- */

/* Sigma of term k from its factor (Lc, or the loadings and uniquenesses) */
static void term_sigma(mmm_ctx *m, int k, const double *th) {
  hb_term *t = m->g->t + k;
  const int q = t->q;
  double *Sg = t->Sigma;
  for (int i = 0; i < q; i++)
    for (int j = 0; j < q; j++) {
      double v = 0.0;
      if (t->type == HB_COV_FACTOR) {
        const double *Lam = th + m->o_cov[k];
        for (int h = 0; h < t->nf; h++) v += Lam[i + h * q] * Lam[j + h * q];
        if (i == j) v += t->psi[i];
      } else {
        const double *L = m->Lc[k];
        for (int a = 0; a <= (i < j ? i : j); a++) v += L[i + a * q] * L[j + a * q];
      }
      Sg[i + j * q] = v;
    }
}

static void mmm_write(void *vctx, const double *th, double *out) {
  mmm_ctx *m = (mmm_ctx *) vctx;
  hb_model *g = m->g;
  double lp = 0.0;
  memset(m->gscratch, 0, sizeof(double) * m->dim);
  unpack(m, th, &lp, m->gscratch);
  for (int k = 0; k < g->K; k++) term_sigma(m, k, th);
  if (g->use_hs) {
    double tau = exp(th[m->o_tau]);
    g->hs_tau2 = tau * tau;
  }
  hb_draw_write(g, m->items, m->nout, out);
  for (int k = 0; k < g->K; k++)
    if (g->online[k]) {
      hb_moments_update(m->mom + k, g->t[k].u);
      hb_psquare_update(m->psq + k, g->t[k].u);
    }
}

/* ---- set-up --------------------------------------------------------------- */

static const double *opt_real(SEXP opts, const char *name, R_xlen_t len) {
  return hb_list_real(opts, "nuts_model", name, len);
}

/* The priors only NUTS implements (nuts_model_options() in R/nuts_model.R):
 * LKJ scales and the (regularized) horseshoe. */
static void read_nuts_priors(mmm_ctx *m, SEXP opts) {
  hb_model *g = m->g;
  const int K = g->K;
  int qsum = 0;
  m->sd_off = (int *) R_alloc((size_t) K + 1, sizeof(int));
  for (int k = 0; k < K; k++) {
    m->sd_off[k] = qsum;
    qsum += g->t[k].q;
  }
  const double *lkj_eta = opt_real(opts, "lkj_eta", K), *sd_par = opt_real(opts, "sd_par", 2 * qsum);
  const int *sd_code = hb_list_int(opts, "nuts_model", "sd_code", K, 0, HB_PRIOR_HALF_STUDENT_T);
  m->lkj_eta = (double *) lkj_eta;
  m->sd_par = (double *) sd_par;
  m->sd_code = (int *) sd_code;
  hb_check_positive(lkj_eta, K, "nuts_model$lkj_eta");
  for (int k = 0; k < K; k++)
    if (g->t[k].type == HB_COV_LKJ) {
      if (sd_code[k] != HB_PRIOR_HALF_NORMAL && sd_code[k] != HB_PRIOR_EXPONENTIAL &&
          sd_code[k] != HB_PRIOR_HALF_STUDENT_T)
        hb_input_error("nuts_model$sd_code", "must be 6, 7 or 8 (half-normal, exponential, half-t) for LKJ terms");
      for (int j = 0; j < g->t[k].q; j++)
        hb_check_positive(sd_par + 2 * (m->sd_off[k] + j), sd_code[k] == HB_PRIOR_HALF_STUDENT_T ? 2 : 1, "nuts_model$sd_par");
    }
  const double *hp = opt_real(opts, "hs", 4); /* df, df_global, slab scale (Inf: none), slab df */
  hb_check_positive(hp, 2, "nuts_model$hs");
  if (!(hp[2] > 0) || !(hp[3] > 0 && R_FINITE(hp[3]))) hb_input_error("nuts_model$hs", "slab scale and df must be positive");
  if (g->use_hs) {
    m->hs_df = hp[0];
    m->hs_df_global = hp[1];
    m->hs_slab_scale = hp[2];
    m->hs_slab_df = hp[3];
    m->hs_reg = R_FINITE(hp[2]);
    m->hs_col = (int *) R_alloc((size_t) g->p, sizeof(int));
    for (int j = 0; j < g->p; j++)
      if (g->hs[j]) m->hs_col[m->H++] = j;
  }
}

/* The offsets of theta (layout in the header of this file) and each term's
 * scratch. */
static void theta_layout(mmm_ctx *m) {
  hb_model *g = m->g;
  const int K = g->K;
  int d = g->p;
  if (m->H) {
    m->o_lam = d;
    d += m->H;
    m->o_tau = d++;
    if (m->hs_reg) m->o_c = d++;
  }
  m->o_cov = (int *) R_alloc((size_t) K + 1, sizeof(int));
  m->o_eff = (int *) R_alloc((size_t) K + 1, sizeof(int));
  m->Lc = (double **) R_alloc((size_t) 5 * (K + 1), sizeof(double *));
  m->gLc = m->Lc + (K + 1);
  m->S = m->gLc + (K + 1);
  m->Sinv = m->S + (K + 1);
  m->M = m->Sinv + (K + 1);
  m->gu = (double **) R_alloc((size_t) K + 1, sizeof(double *));
  R_xlen_t qG_total = 0;
  for (int k = 0; k < K; k++) {
    hb_term *t = g->t + k;
    const int q = t->q;
    m->o_cov[k] = d;
    d += ncov(t);
    m->o_eff[k] = d;
    d += q * t->G;
    qG_total += (R_xlen_t) q * t->G;
    for (int a = 0; a < 5; a++) m->Lc[a * (K + 1) + k] = (double *) R_alloc((size_t) q * q, sizeof(double));
    m->gu[k] = (double *) R_alloc((size_t) q * t->G, sizeof(double));
    if (t->type == HB_COV_FACTOR && !t->psi) hb_input_error("model$terms", "factor term %d lacks its structure", k + 1);
  }
  if (qG_total + d > 200000000) hb_input_error("model", "has too many parameters for NUTS");
  m->o_sig = d;
  d += g->S;
  m->o_ch = d;
  for (int c = 0; c < g->C; c++) d += g->ch[c].nest;
  m->dim = d;
}

/* Model state and the density's scratch. */
static void alloc_scratch(mmm_ctx *m, int maxlag, int qmax) {
  hb_model *g = m->g;
  const R_xlen_t n = g->n;
  const int p = g->p, C = g->C;
  g->beta = (double *) R_alloc((size_t) p, sizeof(double));
  g->inv_sig2 = (double *) R_alloc((size_t) g->S, sizeof(double));
  g->media = (double *) R_alloc((size_t) (n * C + 1), sizeof(double));
  hb_channel_ws_alloc(&m->cw, g, maxlag);
  m->e = (double *) R_alloc((size_t) n, sizeof(double));
  m->coef = (double *) R_alloc((size_t) n, sizeof(double));
  m->dm = (double **) R_alloc((size_t) C + 1, sizeof(double *));
  m->gbeta = (double *) R_alloc((size_t) p, sizeof(double));
  m->ss = (double *) R_alloc((size_t) 2 * g->S, sizeof(double));
  m->cnt = m->ss + g->S;
  memset(m->cnt, 0, sizeof(double) * g->S);
  for (R_xlen_t i = 0; i < n; i++) m->cnt[g->sg[i]] += 1.0;
  m->lam_t = (double *) R_alloc((size_t) p, sizeof(double));
  m->gscratch = (double *) R_alloc((size_t) m->dim, sizeof(double));
  int D = p + 1;
  for (int k = 0; k < g->K; k++) D += g->t[k].q;
  m->tmp = (double *) R_alloc((size_t) (D > qmax * qmax ? D : qmax * qmax), sizeof(double));
  for (int c = 0; c < C; c++) {
    hb_channel *ch = g->ch + c;
    m->dm[c] = ch->nest ? (double *) R_alloc((size_t) ch->nest * n, sizeof(double)) : NULL;
  }
}

/* Kept levels, online summaries of the terms' effects, the layout of one draw. */
static void setup_output(mmm_ctx *m, SEXP model) {
  hb_model *g = m->g;
  const int K = g->K;
  hb_model_read_output(model, g);
  m->mom = (hb_moments_t *) R_alloc((size_t) K + 1, sizeof(hb_moments_t));
  m->psq = (hb_psquare_t *) R_alloc((size_t) K + 1, sizeof(hb_psquare_t));
  static const double probs[2] = {0.025, 0.975};
  for (int k = 0; k < K; k++) {
    if (!g->online[k]) continue;
    R_xlen_t cells = (R_xlen_t) g->t[k].q * g->t[k].G;
    hb_moments_init(m->mom + k, cells, (double *) R_alloc((size_t) cells, sizeof(double)),
                    (double *) R_alloc((size_t) cells, sizeof(double)));
    hb_psquare_init(m->psq + k, cells, 2, probs, (double *) R_alloc((size_t) cells * 10, sizeof(double)),
                    (int *) R_alloc((size_t) cells * 6, sizeof(int)));
  }
  m->nout = hb_draw_layout(g, NULL);
  m->items = (hb_draw_item *) R_alloc((size_t) m->nout + 1, sizeof(hb_draw_item));
  hb_draw_layout(g, m->items);
}

static mmm_ctx *mmm_setup(SEXP model, SEXP opts) {
  if (TYPEOF(model) != VECSXP) hb_input_error("model", "must be a list made by gibbs_model()");
  if (TYPEOF(opts) != VECSXP) hb_input_error("nuts_model", "must be a list made by nuts_model_options()");
  mmm_ctx *m = (mmm_ctx *) R_alloc(1, sizeof(mmm_ctx));
  memset(m, 0, sizeof *m);
  hb_model *g = (hb_model *) R_alloc(1, sizeof(hb_model));
  memset(g, 0, sizeof *g);
  m->g = g;
  int maxlag = 0, qmax = 1;
  hb_model_read(model, g, &maxlag, &qmax);
  hb_model_columns(g);
  m->centered = hb_list_int_scalar(opts, "nuts_model", "centered", 0, 1);
  read_nuts_priors(m, opts);
  theta_layout(m);
  alloc_scratch(m, maxlag, qmax);
  for (int c = 0; c < g->C; c++) {
    if (hb_channel_eval(&m->cw, c, g->ch[c].par, NULL))
      hb_input_error("model$ch_par", "initial values give non-finite transformed media (channel %d)", c + 1);
    hb_refresh_channel_columns(g, c);
  }
  /* sufficient statistics when the design is fixed */
  const R_xlen_t n = g->n;
  int ncell = hb_list_int_scalar(model, "model", "ncell", 0, (int) (n < 2000000000 ? n : 2000000000));
  if (ncell > 0) hb_cells_build(g, hb_list_int(model, "model", "cell", n, 0, ncell - 1), ncell);
  setup_output(m, model);
  return m;
}

/* Starting point and the spread of over-dispersed starting points (R adds
 * uniform(-1, 1) times spread per chain). */
static void mmm_init(const mmm_ctx *m, SEXP model, double *init, double *spread) {
  const hb_model *g = m->g;
  memset(init, 0, sizeof(double) * m->dim);
  for (int a = 0; a < m->dim; a++) spread[a] = 1.0;
  for (int j = 0; j < g->p; j++) {
    if (g->use_hs && g->hs[j]) continue;
    init[j] = g->b_mean[j];
    spread[j] = 0.05 * g->b_sd[j];
  }
  if (m->hs_reg) {
    init[m->o_c] = log(m->hs_slab_scale);
    spread[m->o_c] = 0.5;
  }
  for (int k = 0; k < g->K; k++) {
    const hb_term *t = g->t + k;
    const int q = t->q;
    double *c = init + m->o_cov[k], *sc = spread + m->o_cov[k];
    double sd0[HB_MAX_Q];
    for (int j = 0; j < q; j++) sd0[j] = sqrt(t->Sigma[j + j * q]);
    switch (t->type) {
    case HB_COV_FULL: case HB_COV_HW_FULL: {
      int a = 0;
      for (int j = 0; j < q; j++)
        for (int i = j; i < q; i++, a++) {
          c[a] = i == j ? log(sd0[j]) : 0.0;
          sc[a] = i == j ? 0.5 : 0.1 * sd0[i];
        }
      if (t->type == HB_COV_HW_FULL)
        for (int j = 0; j < q; j++) {
          c[a + j] = 2.0 * log(t->hw_A[j]);
          sc[a + j] = 0.5;
        }
      break;
    }
    case HB_COV_DIAG: case HB_COV_HW_DIAG: case HB_COV_LKJ:
      for (int j = 0; j < q; j++) {
        c[j] = log(sd0[j]);
        sc[j] = 0.5;
        if (t->type == HB_COV_HW_DIAG) {
          c[q + j] = 2.0 * log(t->hw_A[j]);
          sc[q + j] = 0.5;
        }
      }
      if (t->type == HB_COV_LKJ)
        for (int a = 0; a < q * (q - 1) / 2; a++) sc[q + a] = 0.5;
      break;
    default: /* HB_COV_FACTOR */
      for (int j = 0; j < q; j++) {
        for (int h = 0; h < t->nf; h++) sc[j + h * q] = 0.5 * t->load_sd[j];
        c[q * t->nf + j] = 2.0 * log(sd0[j]);
        sc[q * t->nf + j] = 0.5;
      }
    }
    if (m->centered)
      for (int gg = 0; gg < t->G; gg++)
        for (int j = 0; j < q; j++) spread[m->o_eff[k] + (R_xlen_t) q * gg + j] = 0.5 * sd0[j];
  }
  const double *sig2 = hb_list_real(model, "model", "sig2_init", g->S);
  hb_check_positive(sig2, g->S, "model$sig2_init");
  for (int s = 0; s < g->S; s++) {
    init[m->o_sig + s] = 0.5 * log(sig2[s]);
    spread[m->o_sig + s] = 0.35;
  }
  int o = m->o_ch;
  for (int c = 0; c < g->C; c++) {
    const hb_channel *ch = g->ch + c;
    for (int e = 0; e < ch->nest; e++, o++) {
      int s = ch->est_slot[e];
      init[o] = hb_link_to_unc(ch->link[s], ch->par[s], ch->upper[s]);
      spread[o] = 0.5;
    }
  }
}

/* ---- entry points ------------------------------------------------------------ */

/* list(dim, nout, init, spread) */
SEXP hb_mmm_info(SEXP model, SEXP opts) {
  mmm_ctx *m = mmm_setup(model, opts);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 4));
  SEXP init = PROTECT(Rf_allocVector(REALSXP, m->dim)), spread = PROTECT(Rf_allocVector(REALSXP, m->dim));
  mmm_init(m, model, REAL(init), REAL(spread));
  SET_VECTOR_ELT(out, 0, Rf_ScalarInteger(m->dim));
  SET_VECTOR_ELT(out, 1, Rf_ScalarInteger(m->nout));
  SET_VECTOR_ELT(out, 2, init);
  SET_VECTOR_ELT(out, 3, spread);
  static const char *names[4] = {"dim", "nout", "init", "spread"};
  hb_set_names(out, 4, names);
  UNPROTECT(3);
  return out;
}

/* list(lp, grad, ok, draw): the density at theta, for tests */
SEXP hb_mmm_logp(SEXP model, SEXP opts, SEXP theta) {
  mmm_ctx *m = mmm_setup(model, opts);
  hb_check_vector(theta, "theta", REALSXP, m->dim);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 4));
  SEXP grad = PROTECT(Rf_allocVector(REALSXP, m->dim)), draw = PROTECT(Rf_allocVector(REALSXP, m->nout));
  double lp = R_NegInf;
  int bad = mmm_logp_grad(m, REAL(theta), &lp, REAL(grad));
  mmm_write(m, REAL(theta), REAL(draw));
  SET_VECTOR_ELT(out, 0, Rf_ScalarReal(bad ? R_NegInf : lp));
  SET_VECTOR_ELT(out, 1, grad);
  SET_VECTOR_ELT(out, 2, Rf_ScalarLogical(!bad));
  SET_VECTOR_ELT(out, 3, draw);
  static const char *names[4] = {"lp", "grad", "ok", "draw"};
  hb_set_names(out, 4, names);
  UNPROTECT(3);
  return out;
}

/* One NUTS chain on the MMM density from init (unconstrained): the list of
 * hb_nuts_result() plus `ranef_summary`, the online summaries (mean, sd,
 * 2.5% and 97.5% quantiles) of terms whose draws are not kept. */
SEXP hb_nuts_mmm(SEXP model, SEXP opts, SEXP init, SEXP control) {
  mmm_ctx *m = mmm_setup(model, opts);
  hb_check_vector(init, "init", REALSXP, m->dim);
  hb_nuts_control ctl;
  hb_nuts_read_control(control, m->dim, &ctl);
  hb_nuts_model nm;
  nm.dim = m->dim;
  nm.nout = m->nout;
  nm.ctx = m;
  nm.logp_grad = mmm_logp_grad;
  nm.write = mmm_write;
  SEXP res = PROTECT(hb_nuts_chain(&nm, &ctl, REAL(init)));
  const hb_model *g = m->g;
  SEXP summ = PROTECT(Rf_allocVector(VECSXP, g->K));
  for (int k = 0; k < g->K; k++) {
    if (!g->online[k]) continue;
    R_xlen_t cells = (R_xlen_t) g->t[k].q * g->t[k].G;
    SEXP sk = PROTECT(Rf_allocMatrix(REALSXP, cells, 4));
    double *sv = REAL(sk);
    hb_moments_finalize(m->mom + k, sv, sv + cells);
    hb_psquare_result(m->psq + k, sv + 2 * cells);
    SET_VECTOR_ELT(summ, k, sk);
    UNPROTECT(1);
  }
  R_xlen_t len = XLENGTH(res);
  SEXP out2 = PROTECT(Rf_allocVector(VECSXP, len + 1)), nm2 = PROTECT(Rf_allocVector(STRSXP, len + 1));
  SEXP nm1 = Rf_getAttrib(res, R_NamesSymbol);
  for (R_xlen_t a = 0; a < len; a++) {
    SET_VECTOR_ELT(out2, a, VECTOR_ELT(res, a));
    SET_STRING_ELT(nm2, a, STRING_ELT(nm1, a));
  }
  SET_VECTOR_ELT(out2, len, summ);
  SET_STRING_ELT(nm2, len, Rf_mkChar("ranef_summary"));
  Rf_setAttrib(out2, R_NamesSymbol, nm2);
  UNPROTECT(4);
  return out2;
}
