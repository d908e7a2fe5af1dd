/* Covariance parameterizations of the grouping terms for gradient-based
 * densities (the MMM of model_mmm.c, and any model that shares its terms):
 * for each type of enum hb_cov_type the forward pass (from unconstrained
 * parameters to the factor L of Sigma and the effects u, with log prior and
 * direct gradient) and the reverse pass (gradients through L and u), side by
 * side; the effects and the priors written through Sigma^-1 are shared.
 * Term parameters and effects for term k: cp (hb_cov_npar()) and ef (q x G)
 * with their gradients gc and gef. */
#include <math.h>
#include <string.h>
#include <Rmath.h>
#include "model.h"

int hb_cov_npar(const hb_term *t) {
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
double hb_ig_sq_log(double a, double b, double ell, double *grad) {
  double e2 = exp(-2.0 * ell);
  *grad += -2.0 * a + 2.0 * b * e2;
  return -2.0 * a * ell - b * e2;
}

/* x ~ half-t(nu, 1) with ell = log x, Jacobian included */
double hb_half_t_log(double nu, double ell, double *grad) {
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
    *l += hb_ig_sq_log(t->ig[2 * j], t->ig[2 * j + 1], cp[j], gc + j);
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
static void lkj_fwd(const hb_cov_ws *m, int k, const double *cp, double *gc, double *L, double *l) {
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

static void lkj_rev(const hb_cov_ws *m, int k, const double *cp, const double *L, const double *gL,
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
static void factor_fwd(int centered, hb_term *t, const double *cp, const double *ef, double *gc,
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
      if (centered) {
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
static void factor_rev(int centered, const hb_term *t, const double *cp, const double *ef,
                       const double *gu, double *gc, double *gef) {
  const int q = t->q, G = t->G, nf = t->nf;
  const double *Lam = cp, *f = cp + q * nf + q;
  double *gLam = gc, *glpsi = gc + q * nf, *gf = glpsi + q;
  for (int gg = 0; gg < G; gg++)
    for (int j = 0; j < q; j++) {
      R_xlen_t a = j + (R_xlen_t) q * gg;
      double v = gu[a];
      if (centered) {
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
 * prior is part of sinv_fwd()); partly centred (0 < nc < q), the leading
 * nc effects u_C are given and z_C = L_CC^-1 u_C (L lower triangular, so
 * u_C = L_CC z_C), the others z_N: u = L z, with prior
 * N(u_C; 0, L_CC L_CC') N(z_N; 0, I) = N(z; 0, I) / prod_(j < nc) L_jj.
 * That prior's gradients are left to effects_rev(). */
static void effects_fwd(const hb_cov_ws *m, int k, const double *L, const double *ef, double *gef,
                        double *l) {
  hb_term *t = m->g->t + k;
  const int q = t->q, G = t->G, nc = m->ncent[k];
  double *Z = m->Zc[k];
  for (int gg = 0; gg < G; gg++) {
    const double *z = ef + (R_xlen_t) q * gg;
    double *u = t->u + (R_xlen_t) q * gg;
    if (nc == q) {
      memcpy(u, z, sizeof(double) * q);
      continue;
    }
    if (nc > 0) { /* z_C by forward substitution, then z = (z_C, z_N) */
      double *zz = Z + (R_xlen_t) q * gg;
      for (int i = 0; i < nc; i++) {
        double v = z[i];
        for (int j = 0; j < i; j++) v -= L[i + j * q] * zz[j];
        zz[i] = v / L[i + i * q];
      }
      memcpy(zz + nc, z + nc, sizeof(double) * (q - nc));
      z = zz;
    }
    for (int i = 0; i < q; i++) {
      double v = 0.0;
      for (int j = 0; j <= i; j++) v += L[i + j * q] * z[j];
      u[i] = v;
    }
    for (int j = 0; j < q; j++) {
      *l -= 0.5 * z[j] * z[j];
      if (!nc) gef[(R_xlen_t) q * gg + j] -= z[j];
    }
    for (int j = 0; j < nc; j++) *l -= log(L[j + j * q]);
  }
}

/* gu: d log likelihood / d u; adds to gef and (non-centred) to gL. Partly
 * centred: with gz = L' gu - z (the non-centred gradient, prior included),
 * d / d z_N = gz_N, d / d u_C = a = L_CC^-T gz_C, and L_CC also moves z_C:
 * gL_CC -= a z_C' (lower), plus the prior's - nc G log L_jj. */
static void effects_rev(const hb_cov_ws *m, int k, const double *ef, const double *gu, double *gef,
                        double *gL) {
  const hb_term *t = m->g->t + k;
  const int q = t->q, G = t->G, nc = m->ncent[k];
  const double *L = m->Lc[k];
  if (nc == q) {
    for (R_xlen_t a = 0; a < (R_xlen_t) q * G; a++) gef[a] += gu[a];
    /* the effects' prior: - Sigma^-1 u_g */
    for (int gg = 0; gg < G; gg++) {
      const double *u = t->u + (R_xlen_t) q * gg;
      for (int i = 0; i < q; i++) gef[(R_xlen_t) q * gg + i] -= hb_dot(m->Sinv[k] + (R_xlen_t) i * q, u, q);
    }
    return;
  }
  double gz[HB_MAX_Q], a[HB_MAX_Q];
  for (int gg = 0; gg < G; gg++) {
    const double *z = nc ? m->Zc[k] + (R_xlen_t) q * gg : ef + (R_xlen_t) q * gg, *v = gu + (R_xlen_t) q * gg;
    double *ge = gef + (R_xlen_t) q * gg;
    for (int j = 0; j < q; j++) {
      double s = 0.0;
      for (int i = j; i < q; i++) {
        s += L[i + j * q] * v[i];
        gL[i + j * q] += v[i] * z[j];
      }
      gz[j] = s;
    }
    if (!nc) {
      for (int j = 0; j < q; j++) ge[j] += gz[j];
      continue;
    }
    for (int j = 0; j < q; j++) gz[j] -= z[j];
    for (int j = nc; j < q; j++) ge[j] += gz[j];
    for (int i = nc - 1; i >= 0; i--) { /* a = L_CC^-T gz_C by back substitution */
      double s = gz[i];
      for (int j = i + 1; j < nc; j++) s -= L[j + i * q] * a[j];
      a[i] = s / L[i + i * q];
    }
    for (int i = 0; i < nc; i++) {
      ge[i] += a[i];
      for (int j = 0; j <= i; j++) gL[i + j * q] -= a[i] * z[j];
    }
  }
  for (int j = 0; j < nc; j++) gL[j + j * q] -= G / L[j + j * q];
}

/* Priors written through Sigma^-1 = (L L')^-1: the inverse-Wishart forms
 * (full, Huang-Wand full given a) and the centred effects' density. Keeps
 * Sinv and the scatter matrix for sinv_rev(). Nonzero when L is singular. */
static int sinv_fwd(hb_cov_ws *m, int k, const double *cp, double *gc, const double *L, double *l) {
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
  if (m->ncent[k] == q) {
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
static void sinv_rev(hb_cov_ws *m, int k, const double *L, double *gL) {
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
             (m->ncent[k] == q ? G : 0.0);
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

static int uses_sinv(const hb_cov_ws *m, int k) {
  const hb_term *t = m->g->t + k;
  return t->type == HB_COV_FULL || t->type == HB_COV_HW_FULL || m->ncent[k] == t->q;
}

int hb_cov_forward(hb_cov_ws *m, int k, const double *cp, const double *ef, double *gc, double *gef,
                   double *l) {
  hb_term *t = m->g->t + k;
  const int q = t->q;
  if (t->type == HB_COV_FACTOR) {
    factor_fwd(m->ncent[k] == q, t, cp, ef, gc, gef, l);
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
  for (int j = 0; j < m->ncent[k]; j++) /* partly centred: z_C = L_CC^-1 u_C */
    if (!(L[j + j * q] > 0.0)) return 1;
  effects_fwd(m, k, L, ef, gef, l);
  return uses_sinv(m, k) ? sinv_fwd(m, k, cp, gc, L, l) : 0;
}

void hb_cov_reverse(hb_cov_ws *m, int k, const double *cp, const double *ef, const double *gu, double *gc,
                    double *gef) {
  hb_term *t = m->g->t + k;
  const int q = t->q;
  if (t->type == HB_COV_FACTOR) {
    factor_rev(m->ncent[k] == q, t, cp, ef, gu, gc, gef);
    return;
  }
  const double *L = m->Lc[k];
  double *gL = m->gLc[k];
  memset(gL, 0, sizeof(double) * q * q);
  effects_rev(m, k, ef, gu, gef, gL);
  if (uses_sinv(m, k)) sinv_rev(m, k, L, gL);
  switch (t->type) {
  case HB_COV_FULL: case HB_COV_HW_FULL: chol_rev(t, L, gL, gc); break;
  case HB_COV_DIAG: case HB_COV_HW_DIAG: diag_rev(t, L, gL, gc); break;
  default: lkj_rev(m, k, cp, L, gL, gc); /* HB_COV_LKJ */
  }
}

/* Sigma of term k from its factor (Lc, or the loadings and uniquenesses in
 * cp), into t->Sigma. */
void hb_cov_sigma(const hb_cov_ws *m, int k, const double *cp) {
  hb_term *t = m->g->t + k;
  const int q = t->q;
  double *Sg = t->Sigma;
  for (int i = 0; i < q; i++)
    for (int j = 0; j < q; j++) {
      double v = 0.0;
      if (t->type == HB_COV_FACTOR) {
        const double *Lam = cp;
        for (int h = 0; h < t->nf; h++) v += Lam[i + h * q] * Lam[j + h * q];
        if (i == j) v += t->psi[i];
      } else {
        const double *L = m->Lc[k];
        for (int a = 0; a <= (i < j ? i : j); a++) v += L[i + a * q] * L[j + a * q];
      }
      Sg[i + j * q] = v;
    }
}
