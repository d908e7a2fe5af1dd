/* The fixed effects in the Gibbs sampler: their prior (normal, the
 * horseshoe's scale mixture, or a positive family on a media channel's
 * coefficient), the sufficient statistics with beta taken out of the
 * residual, the draw of beta, its collapsed marginal (for the Metropolis
 * steps on media), and the horseshoe's scales.
 *
 * Positive coefficients. A half-normal or exponential prior is a normal
 * kernel (precision d0, linear term d0m; 0 and -rate for the exponential)
 * truncated at zero, so given the other coefficients it stays conjugate.
 * The joint posterior of several truncated coefficients has no closed-form
 * marginal (an orthant probability), so every step works one positive
 * coefficient at a time with the normal ones integrated out:
 *   - the Metropolis step on channel c's transforms integrates out the
 *     normal coefficients and c's positive one (the truncated normal
 *     integral adds log Phi(m / s)), the other positive ones held fixed;
 *     then c's positive coefficient is drawn (hb_beta_redraw_channel), so
 *     the next channel conditions on a current value;
 *   - beta | rest: each positive coefficient from its conditional with the
 *     normal ones integrated out (a truncated normal; for a lognormal prior,
 *     which is not conjugate, a slice sampler on log beta), then the normal
 *     ones given them.
 * A lognormal coefficient is held fixed in its channel's Metropolis step;
 * one whose prior is on the channel's ROI is moved with the transforms at
 * fixed ROI (hb_fixed_log_marginal_at()).
 * Without positive coefficients every function takes the plain normal path,
 * so Gaussian models draw exactly what they drew before. */
#include <math.h>
#include <string.h>
#include <Rmath.h>
#include "gibbs.h"

/* Prior precision (diagonal) and precision-weighted mean of the fixed effects. */
void hb_beta_prior(const hb_model *g, double *d0, double *d0m) {
  for (int j = 0; j < g->p; j++) {
    double sd = g->b_sd[j], mean = g->b_mean[j];
    switch (g->b_code[j]) {
    case HB_PRIOR_EXPONENTIAL: /* rate 1 / b_sd */
      d0[j] = 0.0;
      d0m[j] = -1.0 / sd;
      continue;
    case HB_PRIOR_LOGNORMAL: /* not a normal kernel: enters the 1-D draw */
      d0[j] = d0m[j] = 0.0;
      continue;
    default: break;
    }
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

static int conj_positive(int code) { return code == HB_PRIOR_HALF_NORMAL || code == HB_PRIOR_EXPONENTIAL; }

/* The normal kernel of beta_F (F: nF column indices, flags inF) given the
 * other coefficients at their current values, from likelihood statistics
 * A, c and the prior kernel d0, d0m: precision P = A_FF + D0_F (nF x nF)
 * and linear term h = c_F + d0m_F - A_FK beta_K. Returns the part of the
 * quadratic form that beta_K fixes, beta_K' A_KK beta_K - 2 beta_K' c_K. */
static double kernel_given(const hb_model *g, const double *A, const double *c, const int *F, int nF,
                           const int *inF, const double *d0, const double *d0m, double *P, double *h) {
  const int p = g->p;
  for (int a = 0; a < nF; a++) {
    int j = F[a];
    h[a] = c[j] + d0m[j];
    for (int b = 0; b < nF; b++) P[a + b * nF] = A[j + F[b] * p];
    P[a + a * nF] += d0[j];
    for (int l = 0; l < p; l++)
      if (!inF[l]) h[a] -= A[j + l * p] * g->beta[l];
  }
  double k = 0.0;
  for (int l = 0; l < p; l++) {
    if (inF[l]) continue;
    k -= 2.0 * g->beta[l] * c[l];
    for (int m = 0; m < p; m++)
      if (!inF[m]) k += g->beta[l] * A[l + m * p] * g->beta[m];
  }
  return k;
}

/* The columns with a normal prior, and column `extra` (or none: -1);
 * returns nF, and the position of `extra` in F through *pos. */
static int normal_set(const hb_model *g, int extra, int *F, int *inF, int *pos) {
  int nF = 0;
  *pos = -1;
  for (int j = 0; j < g->p; j++) {
    inF[j] = g->b_code[j] == HB_PRIOR_NORMAL || j == extra;
    if (j == extra) *pos = nF;
    if (inF[j]) F[nF++] = j;
  }
  return nF;
}

/* Scratch of the conditional kernels, in g->work: P (p x p), h, d0, d0m,
 * x, z (p each). */
typedef struct {
  double *P, *h, *d0, *d0m, *x, *z;
} given_ws;

static given_ws given_scratch(const hb_model *g) {
  const int p = g->p;
  given_ws w;
  w.P = g->work;
  w.h = w.P + p * p;
  w.d0 = w.h + p;
  w.d0m = w.d0 + p;
  w.x = w.d0m + p;
  w.z = w.x + p;
  return w;
}

/* The normal kernel (P, h in w) of the normal coefficients and `extra`
 * given the other coefficients; returns nF with their columns in F, the
 * position of `extra` (*pos) and the constant that the fixed ones add to
 * yy (*k). */
static int kernel_of(const hb_model *g, const double *A, const double *c, int extra, given_ws *w, int *F,
                     int *pos, double *k) {
  int inF[HB_MAX_P];
  int nF = normal_set(g, extra, F, inF, pos);
  hb_beta_prior(g, w->d0, w->d0m);
  *k = kernel_given(g, A, c, F, nF, inF, w->d0, w->d0m, w->P, w->h);
  return nF;
}

/* With P Cholesky-factored: the mean x = P^-1 h, and the variance of
 * element pos (z = P^-1 e_pos). */
static void solve_mean(given_ws *w, int nF) {
  memcpy(w->x, w->h, sizeof(double) * nF);
  hb_chol_solve(w->P, nF, w->x);
}

static double var_at(given_ws *w, int nF, int pos) {
  memset(w->z, 0, sizeof(double) * nF);
  w->z[pos] = 1.0;
  hb_chol_solve(w->P, nF, w->z);
  return w->z[pos];
}

/* Coefficient j of a positive family drawn from its conditional given the
 * other positive coefficients, the normal ones integrated out. */
static void draw_positive(hb_model *g, const double *A, const double *c, int j) {
  given_ws w = given_scratch(g);
  int F[HB_MAX_P], pos;
  double k;
  int nF = kernel_of(g, A, c, j, &w, F, &pos, &k);
  if (g->b_code[j] == HB_PRIOR_LOGNORMAL && !(w.P[pos + pos * nF] > 0.0)) {
    /* no likelihood term for it (prior_only) and no normal kernel in its
     * prior: its conditional is its lognormal prior */
    g->beta[j] = exp(hb_coef_meanlog(g, j) + g->b_sd[j] * hb_rng_norm(g->rng));
    return;
  }
  if (hb_chol(w.P, nF) != 0)
    hb_sampler_error("the conditional precision of the fixed effects is not positive definite");
  solve_mean(&w, nF);
  double s = sqrt(var_at(&w, nF, pos)), m = w.x[pos];
  g->beta[j] = g->b_code[j] == HB_PRIOR_LOGNORMAL
                   ? hb_lognormal_normal_draw(g->rng, m, s, hb_coef_meanlog(g, j), g->b_sd[j], g->beta[j])
                   : hb_trunc_normal_pos_draw(g->rng, m, s);
}

/* The normal coefficients given the positive ones. */
static void draw_normal_given_positive(hb_model *g, const double *A, const double *c) {
  given_ws w = given_scratch(g);
  int F[HB_MAX_P], pos;
  double k;
  int nF = kernel_of(g, A, c, -1, &w, F, &pos, &k);
  if (nF == 0) return;
  if (hb_mvn_precision_draw(g->rng, w.P, w.h, nF, w.x, NULL) != 0)
    hb_sampler_error("the conditional precision of the fixed effects is not positive definite");
  for (int a = 0; a < nF; a++) g->beta[F[a]] = w.x[a];
}

/* beta | rest from statistics A (p x p) and c of the likelihood and the
 * prior: N(P^-1 b, P^-1) with P = A + D0 and b = c + D0 m when every prior
 * is normal; otherwise the positive coefficients one at a time, then the
 * normal ones (see the top of this file). */
void hb_beta_draw_from(hb_model *g, const double *A, const double *c) {
  const int p = g->p;
  if (g->n_pos) {
    for (int j = 0; j < p; j++)
      if (g->b_code[j] != HB_PRIOR_NORMAL) draw_positive(g, A, c, j);
    draw_normal_given_positive(g, A, c);
    return;
  }
  double *P = g->work, *b = P + p * p, *d0 = b + p, *d0m = d0 + p;
  hb_beta_prior(g, d0, d0m);
  memcpy(P, A, sizeof(double) * p * p);
  for (int j = 0; j < p; j++) {
    P[j + j * p] += d0[j];
    b[j] = c[j] + d0m[j];
  }
  if (hb_mvn_precision_draw(g->rng, P, b, p, g->beta, NULL) != 0)
    hb_sampler_error("the conditional precision of the fixed effects is not positive definite");
}

/* After the Metropolis steps on channel c, which integrated out its
 * positive (half-normal or exponential) coefficient: that coefficient from
 * its conditional, under the current statistics of the sweep's path. */
void hb_beta_redraw_channel(hb_model *g, int c) {
  for (int j = 0; j < g->p; j++)
    if (g->xc[j] == c && conj_positive(g->b_code[j]))
      draw_positive(g, g->cl ? g->cl->A : g->fx_A, g->cl ? g->cl->c : g->fx_c, j);
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

/* log p(ystar | theta, u, sigma) with beta integrated out, up to a
 * constant: -yy/2 + b' P^-1 b / 2 - log det P / 2 for beta ~ N(mean,
 * D0^-1). With positive coefficients, for the Metropolis step on channel
 * ch (or -1): the normal coefficients and ch's conjugate positive one are
 * integrated out (the latter over [0, Inf): + log Phi(m / s) of its
 * conditional), the other positive ones held at their values. */
double hb_fixed_log_marginal(const hb_model *g, const double *A, const double *c, double yy, int ch) {
  const int p = g->p;
  if (g->n_pos) {
    given_ws w = given_scratch(g);
    int F[HB_MAX_P], pos, extra = -1;
    double k;
    for (int j = 0; j < p; j++)
      if (ch >= 0 && g->xc[j] == ch && conj_positive(g->b_code[j])) extra = j;
    int nF = kernel_of(g, A, c, extra, &w, F, &pos, &k);
    if (nF == 0) return -0.5 * (yy + k);
    if (hb_chol(w.P, nF) != 0) return R_NegInf;
    solve_mean(&w, nF);
    double q = 0.0;
    for (int a = 0; a < nF; a++) q += w.h[a] * w.x[a];
    double lm = -0.5 * (yy + k) + 0.5 * q - 0.5 * hb_log_det_chol(w.P, nF);
    /* the truncated coefficient integrated over [0, Inf) */
    if (pos >= 0) lm += pnorm(w.x[pos] / sqrt(var_at(&w, nF, pos)), 0.0, 1.0, 1, 1);
    return lm;
  }
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

/* hb_fixed_log_marginal() with channel ch's ROI-prior coefficient, which
 * its Metropolis step holds, multiplied by f: the step moves it with the
 * transforms so that its ROI stays (f from hb_roi_keep_factor()). Then the
 * coefficient's prior ratio, s' / s for the ROI's lognormal, cancels the
 * move's Jacobian s / s', and the acceptance ratio is the likelihood's and
 * the transforms' prior's alone. */
double hb_fixed_log_marginal_at(hb_model *g, const double *A, const double *c, double yy, int ch, double f) {
  int j = hb_roi_column(g, ch);
  if (j < 0 || f == 1.0) return hb_fixed_log_marginal(g, A, c, yy, ch);
  double b = g->beta[j];
  g->beta[j] = b * f;
  double lm = hb_fixed_log_marginal(g, A, c, yy, ch);
  g->beta[j] = b;
  return lm;
}

/* Horseshoe through inverse-gamma auxiliaries (Makalic & Schmidt 2016). */
void hb_update_horseshoe(hb_model *g) {
  double ssum = 0.0;
  int H = 0;
  for (int j = 0; j < g->p; j++) {
    if (!g->hs[j]) continue;
    double b2 = g->beta[j] * g->beta[j] / (g->hs_scale[j] * g->hs_scale[j]);
    g->hs_lambda2[j] = hb_inv_gamma_draw(g->rng, 1.0, 1.0 / g->hs_nu[j] + 0.5 * b2 / g->hs_tau2);
    g->hs_nu[j] = hb_inv_gamma_draw(g->rng, 1.0, 1.0 + 1.0 / g->hs_lambda2[j]);
    ssum += b2 / g->hs_lambda2[j];
    H++;
  }
  g->hs_tau2 = hb_inv_gamma_draw(g->rng, 0.5 * (H + 1), 1.0 / g->hs_xi + 0.5 * ssum);
  g->hs_xi = hb_inv_gamma_draw(g->rng, 1.0, 1.0 + 1.0 / g->hs_tau2);
}
