/* Media channels inside the Gibbs sampler: transformed media at given
 * parameters, and the adaptive random-walk Metropolis step on each channel's
 * transform parameters (unconstrained scale), which recomputes only that
 * channel's column and the residual it moves. */
#include <math.h>
#include <string.h>
#include <Rmath.h>
#include "gibbs.h"

/* coef[i]: what multiplies channel c's transformed media in row i through
 * the group-level effects of every term, but those the collapsed block
 * integrates out when collapsed is set (the fixed-effect part is integrated
 * out by the Metropolis step). Returns the number of such columns. */
int hb_channel_zcoef(const hb_model *g, int c, int collapsed, double *coef) {
  memset(coef, 0, (size_t) g->n * sizeof(double));
  int any = 0;
  for (int k = 0; k < g->K; k++) {
    const hb_term *t = g->t + k;
    if (collapsed && hb_term_collapsed(g, k)) continue;
    for (int j = 0; j < t->q; j++) {
      if (t->zc[j] != c) continue;
      any++;
      const double *s = t->Zs + (R_xlen_t) j * g->n;
      for (R_xlen_t i = 0; i < g->n; i++) coef[i] += s[i] * t->u[j + (R_xlen_t) t->q * t->g[i]];
    }
  }
  return any;
}

/* log prior + log Jacobian of the channel's estimated parameters at
 * unconstrained values phi (one per estimated parameter). */
static double channel_logprior(const hb_channel *ch, const double *phi) {
  double lp = 0.0;
  for (int e = 0; e < ch->nest; e++) {
    int s = ch->est_slot[e];
    double v = hb_link_from_unc(ch->link[s], phi[e], ch->upper[s]);
    lp += hb_prior_logdens(ch->prior_code[s], ch->prior_par + 2 * s, v) +
          hb_link_logjac(ch->link[s], phi[e], ch->upper[s]);
  }
  return lp;
}

/* The constrained parameters (all slots) of unconstrained values phi: the
 * current ones, with the estimated slots from phi. */
void hb_channel_par_of_phi(const hb_channel *ch, const double *phi, double *par) {
  memcpy(par, ch->par, sizeof(double) * HB_MAX_TPAR);
  for (int e = 0; e < ch->nest; e++) {
    int s = ch->est_slot[e];
    par[s] = hb_link_from_unc(ch->link[s], phi[e], ch->upper[s]);
  }
}

/* A fresh adaptation window: no draws, and no count of independence steps. */
void hb_channel_window_restart(hb_channel *ch) {
  ch->adapt_n = ch->ind_n = ch->ind_acc = 0;
  memset(ch->adapt_mean, 0, sizeof ch->adapt_mean);
  memset(ch->adapt_cov, 0, sizeof ch->adapt_cov);
}

/* For a new proposal shape: the scale at the optimum for a Gaussian
 * target, 2.38 / sqrt(d), and a fresh (large) Robbins-Monro gain. */
void hb_channel_scale_restart(hb_channel *ch) {
  ch->log_scale = log(2.38 / sqrt((double) ch->nest));
  ch->scale_n = 0;
}

/* x: the channel's raw media on the data's rows (the reference spend) */
void hb_channel_init_mh(hb_channel *ch, const double *x, R_xlen_t n) {
  int d = ch->nest;
  for (int e = 0; e < d; e++) {
    int s = ch->est_slot[e];
    ch->phi[e] = hb_link_to_unc(ch->link[s], ch->par[s], ch->upper[s]);
  }
  hb_channel_working_init(ch, x, n);
  ch->log_scale = 0.0;
  memset(ch->prop_chol, 0, sizeof ch->prop_chol);
  for (int e = 0; e < d; e++) ch->prop_chol[e * d + e] = 0.1;
  hb_channel_window_restart(ch);
  ch->scale_n = 0;
  ch->has_center = 0;
}

/* Does a window of the covariance estimate end after iteration iter of a
 * warmup of `warmup` iterations? Windows of 50, 50, 100, 200, ...
 * iterations; a window after which the next would not fit in the warmup
 * runs to its end instead, so the last shape comes from the longest clean
 * stretch (as Stan's windowed adaptation stretches its last window). */
/* From the window ending at *end, whose successor is *w long, to that one */
static void next_window(long *end, long *w) {
  *end += *w;
  if (*end > 50) *w *= 2;
}

static int window_end(int iter, int warmup) {
  long end = 50, w = 50;
  while (end < iter + 1) next_window(&end, &w);
  if (end != iter + 1) return 0;
  return end + w <= warmup; /* else this window is stretched to the warmup's end */
}

/* The number of sweeps in the last window of a warmup of `warmup` */
int hb_channel_last_window(int warmup) {
  long start = 0, end = 50, w = 50;
  for (; end + w <= warmup; next_window(&end, &w)) start = end;
  return (int) (warmup - start);
}

/* The proposal shape from the window's draws: their covariance, its
 * correlations shrunk a little towards zero while the window is short
 * (weight 5 / (n + 5) on the diagonal; scale-free, unlike adding a fixed
 * multiple of the identity, which with many rows would swamp a posterior
 * of width 0.01). Returns 0 when the Cholesky factor exists. */
static int window_shape(const hb_channel *ch, double *C) {
  int d = ch->nest;
  double nn = ch->adapt_n, shrink = 5.0 / (nn + 5.0);
  for (int a = 0; a < d; a++)
    for (int b = 0; b < d; b++) C[a * d + b] = (a == b ? 1.0 : 1.0 - shrink) * ch->adapt_cov[a * d + b] / (nn - 1.0);
  for (int e = 0; e < d; e++) C[e * d + e] *= 1.0 + 1e-9;
  return hb_chol(C, d);
}

/* Warmup adaptation: Robbins-Monro on the log scale towards the target
 * acceptance, and from 25 draws of a window on the empirical covariance of
 * phi (Haario et al. 2001) as the proposal shape and centre, refreshed
 * every 25 draws. Each window estimates the covariance afresh (the current
 * shape is kept until the new window has 25 draws): a cumulative estimate
 * would keep the path from the starting values to the posterior, whose
 * direction then dominates the proposal and leaves steps across the
 * posterior's ridges tiny. When a window's first shape replaces the last
 * one, the scale restarts at the optimum for a Gaussian target, 2.38 /
 * sqrt(d), with a fresh (large) gain: the old scale corrected the old
 * shape's size, and carried over it left steps 5x too short for hundreds
 * of iterations once the path had left the estimate (seen at 1.2M rows). */
static void channel_adapt(hb_channel *ch, int iter, int warmup, int accepted) {
  int d = ch->nest;
  double target = d == 1 ? 0.44 : 0.30;
  ch->log_scale += (accepted - target) / pow(++ch->scale_n, 0.6);
  if (ch->log_scale > 5) ch->log_scale = 5;
  if (ch->log_scale < -10) ch->log_scale = -10;
  if (window_end(iter, warmup)) {
    hb_channel_window_restart(ch);
    return;
  }
  double nn = ++ch->adapt_n;
  double dlt[HB_MAX_TPAR], w[HB_MAX_TPAR];
  hb_phi_to_w(ch, ch->phi, w);
  for (int e = 0; e < d; e++) {
    dlt[e] = w[e] - ch->adapt_mean[e];
    ch->adapt_mean[e] += dlt[e] / nn;
  }
  for (int a = 0; a < d; a++)
    for (int b = 0; b < d; b++)
      ch->adapt_cov[a * d + b] += dlt[a] * (w[b] - ch->adapt_mean[b]);
  if (ch->adapt_n < 25 || ch->adapt_n % 25) return;
  double C[HB_MAX_TPAR * HB_MAX_TPAR];
  if (window_shape(ch, C)) return;
  memcpy(ch->prop_chol, C, sizeof(double) * d * d);
  memcpy(ch->center, ch->adapt_mean, sizeof(double) * d);
  ch->has_center = 1;
  if (ch->adapt_n == 25) hb_channel_scale_restart(ch);
}

/* Proposals on the unconstrained scale, as phi_new and the constrained
 * parameters par_new (all slots). A random walk with the adapted shape, or
 * an independence draw from a multivariate t (HB_IND_DF degrees of freedom)
 * around the adapted centre with the same shape widened by HB_IND_WIDEN:
 * with many rows the posterior of a channel's parameters is close to
 * normal, and an independence draw then jumps across it where the random
 * walk needs many steps (a random walk's efficiency falls as 0.3 / d).
 * Returns the log proposal ratio q(phi | phi_new) / q(phi_new | phi). */
#define HB_IND_DF 5.0
#define HB_IND_WIDEN 1.3
static double ind_log_dens(const hb_channel *ch, const double *w) {
  int d = ch->nest;
  double z[HB_MAX_TPAR];
  for (int e = 0; e < d; e++) z[e] = (w[e] - ch->center[e]) / HB_IND_WIDEN;
  for (int a = 0; a < d; a++) { /* z <- L^-1 z, L lower triangular */
    for (int b = 0; b < a; b++) z[a] -= ch->prop_chol[a + b * d] * z[b];
    z[a] /= ch->prop_chol[a + a * d];
  }
  double r2 = 0.0;
  for (int e = 0; e < d; e++) r2 += z[e] * z[e];
  return -0.5 * (HB_IND_DF + d) * log1p(r2 / HB_IND_DF);
}

static double channel_propose(hb_rng *rng, const hb_channel *ch, int independent, double *phi_new, double *par_new) {
  int d = ch->nest;
  double z[HB_MAX_TPAR], w[HB_MAX_TPAR], w_new[HB_MAX_TPAR], lq = 0.0;
  for (int e = 0; e < d; e++) z[e] = hb_rng_norm(rng);
  double sc = exp(ch->log_scale);
  if (independent) sc = HB_IND_WIDEN / sqrt(hb_rng_chisq(rng, HB_IND_DF) / HB_IND_DF);
  hb_phi_to_w(ch, ch->phi, w);
  for (int a = 0; a < d; a++) {
    double s = 0.0;
    for (int b = 0; b <= a; b++) s += ch->prop_chol[a + b * d] * z[b];
    w_new[a] = (independent ? ch->center[a] : w[a]) + sc * s;
  }
  if (independent) lq = ind_log_dens(ch, w) - ind_log_dens(ch, w_new);
  hb_w_to_phi(ch, w_new, phi_new);
  /* the target in w: the prior (in phi) times |d phi / d w| */
  lq += hb_w_logjac(ch, phi_new) - hb_w_logjac(ch, ch->phi);
  hb_channel_par_of_phi(ch, phi_new, par_new);
  return lq;
}

/* The fixed effects' statistics under the proposed media column mnew (group-
 * level effects on the channel scaled by rho): ystar into g->mh_ystar, and
 * X' Pi X, X' Pi ystar, ystar' Pi ystar into A1, c1, *yy1 (only the
 * channel's columns of A change). */
static void proposed_stats(hb_model *g, int c, const double *mnew, const double *zcoef, double rho,
                           double *A1, double *c1, double *yy1) {
  const R_xlen_t n = g->n;
  const int p = g->p;
  const double *mold = g->media + (R_xlen_t) c * n;
  memcpy(A1, g->fx_A, sizeof(double) * p * p);
  memset(c1, 0, sizeof(double) * p);
  int J[HB_MAX_P], nJ = 0; /* the channel's fixed columns */
  for (int j = 0; j < p; j++)
    if (g->xc[j] == c) {
      J[nJ] = j;
      for (int l = 0; l < p; l++) A1[j + l * p] = 0.0;
      nJ++;
    }
  double *pys = g->blk, *px = pys + HB_BLOCK, *xnew = px + HB_BLOCK; /* xnew: nJ x HB_BLOCK */
  const double *xl[HB_MAX_P];
  for (R_xlen_t i0 = 0; i0 < n; i0 += HB_BLOCK) {
    R_xlen_t len = n - i0 < HB_BLOCK ? n - i0 : HB_BLOCK;
    const double *mn = mnew + i0, *mo = mold + i0, *zc = zcoef + i0, *pr = g->prec + i0,
                 *ys0 = g->ystar + i0;
    double *ys = g->mh_ystar + i0;
#pragma omp simd
    for (R_xlen_t i = 0; i < len; i++) ys[i] = ys0[i] - zc[i] * (rho * mn[i] - mo[i]);
    hb_vmul(pr, ys, pys, len);
    *yy1 += hb_dot(pys, ys, len);
    for (int l = 0; l < p; l++) xl[l] = g->Xcol[l] + i0;
    for (int a = 0; a < nJ; a++) {
      double *xa = xnew + (R_xlen_t) a * HB_BLOCK;
      hb_vmul(g->Xs + (R_xlen_t) J[a] * n + i0, mn, xa, len);
      xl[J[a]] = xa;
    }
    for (int l = 0; l < p; l++) c1[l] += hb_dot(xl[l], pys, len);
    for (int a = 0; a < nJ; a++) {
      hb_vmul(pr, xl[J[a]], px, len);
      for (int l = 0; l < p; l++) A1[J[a] + l * p] += hb_dot(px, xl[l], len);
    }
  }
  for (int a = 0; a < nJ; a++)
    for (int l = 0; l < p; l++) A1[l + J[a] * p] = A1[J[a] + l * p];
}

/* The proposal becomes the state: media column, statistics, parameters,
 * the rescaled group-level effects and the design columns. */
static void channel_accept(hb_model *g, int c, const double *mnew, const double *A1, const double *c1,
                           double yy1, const double *phi_new, const double *par_new, double rho) {
  hb_channel *ch = g->ch + c;
  const R_xlen_t n = g->n;
  const int p = g->p;
  memcpy(g->media + (R_xlen_t) c * n, mnew, (size_t) n * sizeof(double));
  double *t = g->ystar;
  g->ystar = g->mh_ystar;
  g->mh_ystar = t;
  memcpy(g->fx_A, A1, sizeof(double) * p * p);
  memcpy(g->fx_c, c1, sizeof(double) * p);
  g->fx_yy = yy1;
  memcpy(ch->phi, phi_new, sizeof(double) * HB_MAX_TPAR);
  memcpy(ch->par, par_new, sizeof(double) * HB_MAX_TPAR);
  hb_channel_scale_effects(g, c, rho, 0);
  hb_refresh_channel_columns(g, c);
}

/* The collapsed version (gibbs_collapse.c): the fixed effects and the
 * collapsed term's effects integrated out, the other terms' effects on the
 * channel scaled by rho. Returns the log likelihood-and-effects part of the
 * ratio; the proposal is kept for collapsed_accept(). */
static double collapsed_ratio(hb_model *g, int c, const double *mnew, double rho, double roi_f) {
  int ychg = hb_channel_zcoef(g, c, 1, g->coef) > 0;
  double lp_u = hb_channel_effects_logratio(g, c, rho, 1);
  return hb_collapse_propose(g, c, mnew, g->coef, rho, ychg, roi_f) + lp_u;
}

/* The factor that keeps channel c's ROI (its ROI-prior coefficient) under
 * the proposed media column: 1 without an ROI prior, 0 when the proposed
 * column sums to nothing (the proposal is then refused). */
static double roi_factor(const hb_model *g, int c, const double *mnew) {
  int j = hb_roi_column(g, c);
  if (j < 0) return 1.0;
  return hb_roi_keep_factor(g, j, hb_dot(g->Xs + (R_xlen_t) j * g->n, mnew, g->nd)); /* the data's rows */
}

/* After an accepted step: the ROI-prior coefficient moves with its column. */
static void roi_move(hb_model *g, int c, double f) {
  int j = hb_roi_column(g, c);
  if (j >= 0) g->beta[j] *= f;
}

static void collapsed_accept(hb_model *g, int c, const double *mnew, const double *phi_new,
                             const double *par_new, double rho) {
  hb_channel *ch = g->ch + c;
  hb_collapse_accept(g);
  memcpy(g->media + (R_xlen_t) c * g->n, mnew, (size_t) g->n * sizeof(double));
  memcpy(ch->phi, phi_new, sizeof(double) * HB_MAX_TPAR);
  memcpy(ch->par, par_new, sizeof(double) * HB_MAX_TPAR);
  hb_channel_scale_effects(g, c, rho, 1);
  hb_refresh_channel_columns(g, c);
}

/* The log target ratio of channel c's parameters at phi_new (constrained:
 * par_new) against the current state, with the fixed effects integrated out
 * (their conjugate normal prior makes the marginal likelihood exact), and
 * the collapsed term's effects too when there is one (gibbs_collapse.c).
 * With rescale set, the channel's other group-level effects move with the
 * scale of its column (factor pr->rho, whose Jacobian makes this the ratio
 * of a joint move, not of a density: a mode search keeps rescale 0). No
 * proposal density; -Inf when the parameters are refused. The proposal's
 * media column (g->scratch_m) and statistics are kept for
 * hb_channel_move(). Without a collapsed term, only the channel's columns
 * of X' Pi X and the whole X' Pi ystar are recomputed. */
double hb_channel_log_ratio(hb_model *g, int c, const double *phi_new, const double *par_new, int rescale,
                            hb_media_prop *pr) {
  hb_channel *ch = g->ch + c;
  const R_xlen_t n = g->n;
  const int p = g->p;
  double lp_new = channel_logprior(ch, phi_new);
  if (!R_FINITE(lp_new) || !hb_channel_par_ok(ch, par_new)) return R_NegInf;
  double *mnew = g->scratch_m;
  hb_channel_transform(ch, par_new, g->media_raw + (R_xlen_t) c * n, g->nd, g->pstart,
                       g->tpos, g->npanel, mnew, g->wbuf, NULL); /* no mixtures: NUTS only */
  hb_channel_lift(g, c, par_new, mnew, NULL, g->wbuf, NULL);
  hb_mult_apply(g, c, mnew, NULL, 0);
  const double *mold = g->media + (R_xlen_t) c * n;
  /* group-level effects on this channel move with the scale of its column
   * (on the data's rows), so a proposal that shrinks the column keeps their
   * fit */
  pr->rho = 1.0;
  if (rescale) {
    double ss_old = hb_dot(mold, mold, g->nd), ss_new = hb_dot(mnew, mnew, g->nd);
    if (ss_new > 0.0 && ss_old > 0.0) pr->rho = sqrt(ss_old / ss_new);
  }
  pr->f = roi_factor(g, c, mnew);
  if (!(pr->f > 0.0)) return R_NegInf; /* the proposed column carries no ROI */
  double lp_prior = lp_new - channel_logprior(ch, ch->phi);
  if (g->cl) return collapsed_ratio(g, c, mnew, pr->rho, pr->f) + lp_prior;
  double *zcoef = g->coef;
  hb_channel_zcoef(g, c, 0, zcoef);
  double lp_u = hb_channel_effects_logratio(g, c, pr->rho, 0);
  double *A1 = g->fx_A + p * p, *c1 = g->fx_c + p;
  pr->yy1 = 0.0;
  proposed_stats(g, c, mnew, zcoef, pr->rho, A1, c1, &pr->yy1);
  return hb_fixed_log_marginal_at(g, A1, c1, pr->yy1, c, pr->f) -
         hb_fixed_log_marginal(g, g->fx_A, g->fx_c, g->fx_yy, c) + lp_prior + lp_u;
}

/* The proposal last evaluated by hb_channel_log_ratio() becomes the state. */
void hb_channel_move(hb_model *g, int c, const double *phi_new, const double *par_new, const hb_media_prop *pr) {
  roi_move(g, c, pr->f); /* before the columns change: f used the current sum */
  if (g->cl) {
    collapsed_accept(g, c, g->scratch_m, phi_new, par_new, pr->rho);
    return;
  }
  channel_accept(g, c, g->scratch_m, g->fx_A + g->p * g->p, g->fx_c + g->p, pr->yy1, phi_new, par_new, pr->rho);
}

/* One Metropolis step on channel c's transform parameters, a random walk
 * (adapted while iter < warmup) or an independence proposal (independent = 1,
 * once the adaptation has a centre). Returns 1 when accepted. */
int hb_channel_mh(hb_model *g, int c, int iter, int warmup, int independent) {
  hb_channel *ch = g->ch + c;
  if (ch->nest == 0 || (independent && !ch->has_center)) return 0;
  double phi_new[HB_MAX_TPAR], par_new[HB_MAX_TPAR];
  hb_media_prop pr;
  double lq = channel_propose(g->rng, ch, independent, phi_new, par_new);
  double log_ratio = hb_channel_log_ratio(g, c, phi_new, par_new, 1, &pr) + lq;
  int accepted = R_FINITE(log_ratio) && log(hb_rng_unif(g->rng)) < log_ratio;
  if (accepted) hb_channel_move(g, c, phi_new, par_new, &pr);
  if (iter < warmup && !independent) channel_adapt(ch, iter, warmup, accepted);
  if (iter < warmup && independent) {
    ch->ind_n++;
    ch->ind_acc += accepted;
  }
  return accepted;
}

/* After warmup, may both of the channel's steps be independence proposals?
 * Yes when the last window accepted at least 30% of them: each accepted one
 * is a draw nearly independent of the last, where a random-walk step moves
 * a fraction of the posterior's width (at 120,000 rows, two independence
 * steps gave a 25% higher bulk ESS for the transforms than a random walk
 * and one, at the same cost). A poor fit keeps the random walk. */
int hb_channel_independent_first(const hb_channel *ch, int iter, int warmup) {
  return iter >= warmup && ch->has_center && ch->ind_n >= 20 && ch->ind_acc >= 0.3 * ch->ind_n;
}

/* Log of prior ratio times Jacobian for scaling the group-level effects of
 * channel c by rho: sum over levels of log N(rho u) - log N(u), plus
 * (number of scaled effects) x log rho. */
double hb_channel_effects_logratio(const hb_model *g, int c, double rho, int collapsed) {
  if (rho == 1.0) return 0.0;
  double lr = 0.0;
  for (int k = 0; k < g->K; k++) {
    if (collapsed && hb_term_collapsed(g, k)) continue;
    const hb_term *t = g->t + k;
    const int q = t->q;
    int J[HB_MAX_Q], nj = 0;
    for (int j = 0; j < q; j++)
      if (t->zc[j] == c) J[nj++] = j;
    if (!nj) continue;
    lr += (double) nj * t->G * log(rho);
    /* e1 = e0 + d with d = (rho - 1) u on the channel's columns only, so
     * e1'Qe1 - e0'Qe0 = 2 d'Q e0 + d'Q d costs O(nj q) per level */
    for (int lv = 0; lv < t->G; lv++) {
      const double *u = t->u + (R_xlen_t) q * lv;
      double e0[HB_MAX_Q];
      for (int j = 0; j < q; j++) {
        double mu = 0.0;
        if (t->type == HB_COV_FACTOR)
          for (int h = 0; h < t->nf; h++) mu += t->Lambda[j + h * q] * t->f[h + (R_xlen_t) t->nf * lv];
        e0[j] = u[j] - mu;
      }
      double cross = 0.0, dqd = 0.0;
      for (int a = 0; a < nj; a++) {
        double da = (rho - 1.0) * u[J[a]];
        if (t->type == HB_COV_FACTOR) {
          cross += da * e0[J[a]] / t->psi[J[a]];
          dqd += da * da / t->psi[J[a]];
          continue;
        }
        const double *Qa = t->Sinv + (R_xlen_t) J[a] * q; /* symmetric: row = column */
        cross += da * hb_dot(Qa, e0, q);
        for (int b2 = 0; b2 < nj; b2++) dqd += da * Qa[J[b2]] * (rho - 1.0) * u[J[b2]];
      }
      lr -= 0.5 * (2.0 * cross + dqd);
    }
  }
  return lr;
}

void hb_channel_scale_effects(hb_model *g, int c, double rho, int collapsed) {
  if (rho == 1.0) return;
  for (int k = 0; k < g->K; k++) {
    if (collapsed && hb_term_collapsed(g, k)) continue;
    hb_term *t = g->t + k;
    for (int j = 0; j < t->q; j++)
      if (t->zc[j] == c)
        for (int lv = 0; lv < t->G; lv++) t->u[j + (R_xlen_t) t->q * lv] *= rho;
  }
}

/* Parameters must be finite; a proposal whose transformed media are not
 * finite (e.g. lag weights that underflow to zero) gives a non-finite log
 * ratio and is rejected by hb_channel_mh. */
int hb_channel_par_ok(const hb_channel *ch, const double *par) {
  (void) ch;
  for (int k = 0; k < HB_MAX_TPAR; k++)
    if (!R_FINITE(par[k])) return 0;
  return 1;
}
