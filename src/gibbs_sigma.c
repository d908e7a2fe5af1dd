/* Kernels shared by the Gibbs sampler's collapsed block (gibbs_collapse.c)
 * and its nested block (gibbs_nested.c): the per-level precision of a
 * group-level term, fixed blocks of levels for sums that do not depend on
 * the number of threads, the last step of the reduction to beta's
 * statistics, and Metropolis moves on a term's covariance with its effects
 * integrated out. */
#include <math.h>
#include <string.h>
#include <Rmath.h>
#include "gibbs.h"

/* levels of block b */
void hb_block_range(int G, int nb, int b, int *l0, int *l1) {
  *l0 = (int) ((long long) G * b / nb);
  *l1 = (int) ((long long) G * (b + 1) / nb);
}

/* M_l = Sigma^-1 + Z_l' Pi_l Z_l (lower triangle) from level l's block Lb;
 * instantiated per small q (HB_SMALL_DIM_CASES): it runs for every level at
 * every Metropolis proposal, and its loop control cost more than its adds */
static HB_ALWAYS_INLINE void level_precision_loops(const double *Sinv, const double *Lb, int zz, const int q,
                                                   double *M) {
  const double *Z = Lb + q * zz;
  HB_UNROLL
  for (int a = 0; a < q; a++) {
    HB_UNROLL
    for (int b = a; b < q; b++) M[b + a * q] = Sinv[b + a * q] + Z[b + q * a];
  }
}

void hb_level_precision(const double *Sinv, const double *Lb, int zz, int d, double *M) {
#define HB_CALL(dim) level_precision_loops(Sinv, Lb, zz, dim, M); return
  HB_SMALL_DIM_CASES(HB_CALL)
#undef HB_CALL
}

/* log|Sigma| of a q x q covariance from its inverse; M: q x q scratch */
double hb_log_det_sigma(const double *Sinv, int q, double *M) {
  memcpy(M, Sinv, sizeof(double) * q * q);
  if (hb_chol(M, q) != 0) return R_NaN;
  return -hb_log_det_chol(M, q);
}

double hb_reduce_finish(int p, int nb, double *Gacc, const double *part, const double *Gx, double *A, double *c,
                        double *yy) {
  const int P1 = p + 1;
  double *tot = Gacc + (R_xlen_t) nb * P1 * P1, sum = 0.0;
  memset(tot, 0, sizeof(double) * P1 * P1);
  for (int b = 0; b < nb; b++) {
    sum += part[b];
    const double *Gb = Gacc + (R_xlen_t) b * P1 * P1;
    for (int a = 0; a < P1 * P1; a++) tot[a] += Gb[a];
  }
  Gacc = tot;
  for (int a = 0; a < p; a++) {
    for (int b = a; b < p; b++) A[b + a * p] = A[a + b * p] = Gx[b + a * P1] - Gacc[b + a * P1];
    c[a] = Gx[p + a * P1] - Gacc[p + a * P1];
  }
  *yy = Gx[p + p * P1] - Gacc[p + p * P1];
  return sum;
}

/* log p(Sigma') - log p(Sigma) + log Jacobian for Sigma' = R Sigma R with
 * R = diag(exp(lr)) (Sinv1 = R^-1 Sigma^-1 R^-1), under the term's prior:
 * inverse-gamma variances (diag), IG(nu/2, nu/a_j) given the Huang-Wand
 * auxiliaries (hw_diag), inverse-Wishart IW(df, S) (full) or IW(nu + q - 1,
 * 2 nu diag(1/a)) (hw_full). The Jacobian of the map is prod_j R_j^2 on the
 * variances of a diagonal term and prod_j R_j^(q+1) on a full matrix. */
double hb_sigma_scale_logratio(const hb_term *t, const double *Sinv1, const double *lr) {
  const int q = t->q;
  double slr = 0.0;
  for (int j = 0; j < q; j++) slr += lr[j];
  if (hb_cov_diagonal(t->type)) {
    double out = 2.0 * slr;
    for (int j = 0; j < q; j++) {
      if (lr[j] == 0.0) continue;
      double a = t->type == HB_COV_DIAG ? t->ig[2 * j] : 0.5 * t->hw_nu;
      double b = t->type == HB_COV_DIAG ? t->ig[2 * j + 1] : t->hw_nu / t->hw_a[j];
      out += -(a + 1.0) * 2.0 * lr[j] - b * (Sinv1[j + j * q] - t->Sinv[j + j * q]);
    }
    return out;
  }
  double df = t->type == HB_COV_FULL ? t->iw_df : t->hw_nu + q - 1.0, tr = 0.0;
  for (int a = 0; a < q; a++)
    for (int b = 0; b < q; b++) {
      double sab = t->type == HB_COV_FULL ? t->iw_S[a + b * q] : (a == b ? 2.0 * t->hw_nu / t->hw_a[a] : 0.0);
      tr += sab * (Sinv1[b + a * q] - t->Sinv[b + a * q]);
    }
  return -(df + q + 1.0) * slr - 0.5 * tr + (q + 1.0) * slr;
}

/* Sigma' = R Sigma R and its inverse for R = diag(exp(lr)) into Sig1, Sinv1. */
void hb_sigma_scaled(const hb_term *t, const double *lr, double *Sig1, double *Sinv1) {
  const int q = t->q;
  for (int a = 0; a < q; a++)
    for (int b = 0; b < q; b++) {
      double r = exp(lr[a] + lr[b]);
      Sig1[a + b * q] = t->Sigma[a + b * q] * r;
      Sinv1[a + b * q] = t->Sinv[a + b * q] / r;
    }
}

/* Robbins-Monro adaptation of a log step size towards 44% acceptance. */
static void adapt_step(double *ls, int it, int accepted) {
  *ls += (accepted - 0.44) / pow(it + 1.0, 0.6);
  if (*ls > 2.0) *ls = 2.0;
  if (*ls < -12.0) *ls = -12.0;
}

/* Sigma' = A Sigma A' and Sigma'^-1 for the shear A = I + e E_ab (column b
 * added e times to column a): det A = 1, so log|Sigma| and the Jacobian
 * are unchanged. */
static void sigma_sheared(const hb_term *t, int a, int b, double e, double *Sig1, double *Sinv1) {
  const int q = t->q;
  const double *S = t->Sigma, *Si = t->Sinv;
  for (int i = 0; i < q; i++)
    for (int j = 0; j < q; j++) {
      double v = S[i + j * q], w = Si[i + j * q];
      if (i == a) v += e * S[b + j * q];
      if (j == a) v += e * S[i + b * q];
      if (i == a && j == a) v += e * e * S[b + b * q];
      if (i == b) w -= e * Si[a + j * q];
      if (j == b) w -= e * Si[i + a * q];
      if (i == b && j == b) w += e * e * Si[a + a * q];
      Sig1[i + j * q] = v;
      Sinv1[i + j * q] = w;
    }
}

/* One Metropolis step of mv's covariance to (Sig1, Sinv1, ldS1) given the
 * current marginal *f0 and the log prior-and-Jacobian ratio; returns 1 if
 * taken. */
static int sigma_step(hb_model *g, const hb_sigma_mover *mv, double ldS1, double lprior, double *f0) {
  hb_term *t = mv->t;
  const int q = t->q;
  double f1 = mv->marginal(g, mv->Sinv1, ldS1), log_ratio = f1 - *f0 + lprior;
  if (!(R_FINITE(log_ratio) && log(hb_rng_unif(g->rng)) < log_ratio)) return 0;
  memcpy(t->Sigma, mv->Sig1, sizeof(double) * q * q);
  memcpy(t->Sinv, mv->Sinv1, sizeof(double) * q * q);
  *mv->ldS = ldS1;
  *f0 = f1;
  return 1;
}

/* One round of Metropolis steps on a term's covariance with its effects
 * integrated out (mv->marginal). Conditioning on the effects instead, the
 * conjugate draw of Sigma barely moves when the data say little about each
 * level (a lag-1 autocorrelation of 0.95 for an individual-level media sd
 * with 20 rows per individual), while the marginal given beta is sharp only
 * in what the data determine. Two moves: each column's sd scaled by exp(e)
 * (correlations kept), and, for a full covariance, shears that move the
 * correlation of column j with a column chosen at random. Step sizes adapt
 * during warmup towards 44% acceptance; the prior ratio is that of the
 * term's covariance prior. *fcur: the marginal at the current covariance,
 * NaN when not known (then computed); on return the marginal at the new
 * one, so that consecutive rounds do not evaluate it again. */
void hb_sigma_round(hb_model *g, const hb_sigma_mover *mv, int it, int adapt, double *fcur) {
  hb_term *t = mv->t;
  const int q = t->q;
  double f0 = ISNAN(*fcur) ? mv->marginal(g, t->Sinv, *mv->ldS) : *fcur;
  double lr[HB_MAX_Q];
  memset(lr, 0, sizeof(double) * q);
  for (int j = 0; j < q; j++) {
    lr[j] = exp(mv->log_step[j]) * hb_rng_norm(g->rng);
    hb_sigma_scaled(t, lr, mv->Sig1, mv->Sinv1);
    int acc = sigma_step(g, mv, *mv->ldS + 2.0 * lr[j], hb_sigma_scale_logratio(t, mv->Sinv1, lr), &f0);
    if (adapt) adapt_step(mv->log_step + j, it, acc);
    lr[j] = 0.0;
  }
  *fcur = f0;
  if (hb_cov_diagonal(t->type) || q < 2) return;
  /* two shears per column: the correlations are otherwise the slowest */
  for (int a2 = 0; a2 < 2 * q; a2++) {
    int a = a2 % q;
    int b = (a + 1 + (int) (hb_rng_unif(g->rng) * (q - 1))) % q; /* another column, uniformly */
    if (b == a) continue; /* a uniform of 1 cannot happen, but stay safe */
    double *ls = mv->log_step + q + a + q * b;
    sigma_sheared(t, a, b, exp(*ls) * hb_rng_norm(g->rng), mv->Sig1, mv->Sinv1);
    int acc = sigma_step(g, mv, *mv->ldS, hb_sigma_scale_logratio(t, mv->Sinv1, lr), &f0);
    if (adapt) adapt_step(ls, it, acc);
  }
  *fcur = f0;
}
