/* Two warmup sweeps (gibbs.c: HB_MODE_AT, HB_MODE_FINAL) move each
 * channel's transform parameters to the mode of their conditional
 * posterior, found by Newton steps (the other blocks at their current
 * values; the fixed effects, and the collapsed term's effects, integrated
 * out as in the Metropolis step; the channel's other group-level effects
 * held, since the step's rescaling of them carries a Jacobian that a mode
 * search would climb towards a vanishing column), and take the curvature
 * there as the proposal shape and the independence proposal's centre: the
 * first one's for the warmup's windows, the second one's for the sampling
 * phase (a window's draws estimate it worse). With many rows that
 * posterior is narrow and close to normal: a random walk from the starting
 * values needed 100-200 iterations to reach it at 1.2M rows, and a shape
 * estimated from that path did not fit the posterior (steps along the
 * path, rejected across it). Warmup draws are discarded, so the chain may
 * jump; no random numbers are drawn, so draws stay independent of
 * `threads`. Derivatives are finite differences of the log target in the
 * working coordinates (hb_phi_to_w()). */
#include <math.h>
#include <string.h>
#include "gibbs.h"
#include "linalg.h"

#define MODE_MAX_NEWTON 12
#define MODE_MAX_STEP 1.0 /* largest move of one coordinate per Newton step */
#define MODE_H0 0.1       /* first difference step; then half a posterior sd */

typedef struct {
  hb_model *g;
  int c, d;
  double lj0; /* log Jacobian of the working coordinates at the current phi */
} mode_fn;

/* The log target at working coordinates w minus at the current state; the
 * parameters of w into phi and par (all slots), the proposal into pr. */
static double target_at(const mode_fn *m, const double *w, double *phi, double *par, hb_media_prop *pr) {
  hb_channel *ch = m->g->ch + m->c;
  hb_w_to_phi(ch, w, phi);
  hb_channel_par_of_phi(ch, phi, par);
  double lr = hb_channel_log_ratio(m->g, m->c, phi, par, 0, pr);
  return R_FINITE(lr) ? lr + hb_w_logjac(ch, phi) - m->lj0 : R_NegInf;
}

static double f_at(const mode_fn *m, const double *w) {
  double phi[HB_MAX_TPAR], par[HB_MAX_TPAR];
  hb_media_prop pr;
  return target_at(m, w, phi, par, &pr);
}

/* Gradient gr and negated Hessian H (d x d) of the log target at w, where
 * it is f0: central differences with steps h, and forward ones across
 * pairs. Returns 1 when a point is refused (non-finite). */
static int derivs(const mode_fn *m, const double *w, double f0, const double *h, double *gr, double *H) {
  const int d = m->d;
  double fp[HB_MAX_TPAR], x[HB_MAX_TPAR];
  for (int a = 0; a < d; a++) {
    memcpy(x, w, sizeof(double) * d);
    x[a] = w[a] + h[a];
    fp[a] = f_at(m, x);
    x[a] = w[a] - h[a];
    double fm = f_at(m, x);
    if (!R_FINITE(fp[a]) || !R_FINITE(fm)) return 1;
    gr[a] = (fp[a] - fm) / (2.0 * h[a]);
    H[a + a * d] = -(fp[a] - 2.0 * f0 + fm) / (h[a] * h[a]);
  }
  for (int a = 0; a < d; a++)
    for (int b = a + 1; b < d; b++) {
      memcpy(x, w, sizeof(double) * d);
      x[a] += h[a];
      x[b] += h[b];
      double fab = f_at(m, x);
      if (!R_FINITE(fab)) return 1;
      H[a + b * d] = H[b + a * d] = -(fab - fp[a] - fp[b] + f0) / (h[a] * h[b]);
    }
  return 0;
}

/* A Newton step from w (curvature factor L when pd, else a gradient step
 * of the difference scale), at most MODE_MAX_STEP in any coordinate, halved
 * until the target rises. Returns the new value, or f0 when none rose. */
static double ascend(const mode_fn *m, double *w, double f0, const double *gr, const double *L, int pd,
                     const double *h) {
  const int d = m->d;
  double step[HB_MAX_TPAR], x[HB_MAX_TPAR], mx = 0.0;
  memcpy(step, gr, sizeof(double) * d);
  if (pd) hb_chol_solve(L, d, step);
  else
    for (int e = 0; e < d; e++) step[e] *= h[e] * h[e];
  for (int e = 0; e < d; e++) mx = fmax(mx, fabs(step[e]));
  double shrink = mx > MODE_MAX_STEP ? MODE_MAX_STEP / mx : 1.0;
  for (int k = 0; k < 10; k++, shrink *= 0.5) {
    for (int e = 0; e < d; e++) x[e] = w[e] + shrink * step[e];
    double fn = f_at(m, x);
    if (fn > f0) {
      memcpy(w, x, sizeof(double) * d);
      return fn;
    }
  }
  return f0;
}

/* The proposal's shape from the negated Hessian's factor L: the Cholesky
 * factor of its inverse. Returns 0 on success. */
static int shape_from_curvature(const double *L, int d, double *S) {
  hb_chol_inverse(L, d, S);
  return hb_chol(S, d);
}

void hb_channel_mode(hb_model *g, int c) {
  hb_channel *ch = g->ch + c;
  const int d = ch->nest;
  if (d == 0) return;
  mode_fn m = {g, c, d, hb_w_logjac(ch, ch->phi)};
  double w[HB_MAX_TPAR], h[HB_MAX_TPAR], gr[HB_MAX_TPAR];
  double H[HB_MAX_TPAR * HB_MAX_TPAR], L[HB_MAX_TPAR * HB_MAX_TPAR], S[HB_MAX_TPAR * HB_MAX_TPAR];
  hb_phi_to_w(ch, ch->phi, w);
  /* differences over half a posterior sd: once there is a proposal shape
   * (the search near the warmup's end), its sds give the first scale */
  for (int e = 0; e < d; e++) {
    h[e] = MODE_H0;
    if (ch->has_center) {
      double v = 0.0;
      for (int b = 0; b <= e; b++) v += ch->prop_chol[e + b * d] * ch->prop_chol[e + b * d];
      h[e] = fmin(MODE_H0, fmax(1e-6, 0.5 * sqrt(v)));
    }
  }
  double f0 = f_at(&m, w), start = f0;
  if (!R_FINITE(f0)) return;
  int pd = 0;
  for (int it = 0; it <= MODE_MAX_NEWTON; it++) {
    pd = 0;
    if (derivs(&m, w, f0, h, gr, H)) break;
    memcpy(L, H, sizeof(double) * d * d);
    pd = hb_chol(L, d) == 0;
    if (it == MODE_MAX_NEWTON) break;
    double fn = ascend(&m, w, f0, gr, L, pd, h);
    if (pd) { /* next differences over half a posterior sd */
      hb_chol_inverse(L, d, S);
      for (int e = 0; e < d; e++) h[e] = fmin(MODE_H0, fmax(1e-6, 0.5 * sqrt(S[e + e * d])));
    }
    double gain = fn - f0;
    f0 = fn;
    if (gain == 0.0 || (gain < 1e-3 && pd)) break; /* at the mode: L is its curvature */
  }
  if (f0 > start) {
    double phi[HB_MAX_TPAR], par[HB_MAX_TPAR];
    hb_media_prop pr;
    if (R_FINITE(target_at(&m, w, phi, par, &pr))) hb_channel_move(g, c, phi, par, &pr);
  }
  if (!pd || shape_from_curvature(L, d, S)) return;
  hb_channel_window_restart(ch); /* the window so far holds the path to the mode */
  memset(ch->prop_chol, 0, sizeof ch->prop_chol);
  memcpy(ch->prop_chol, S, sizeof(double) * d * d);
  hb_phi_to_w(ch, ch->phi, ch->center);
  ch->has_center = 1;
  hb_channel_scale_restart(ch);
}
