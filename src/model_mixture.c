/* The mixture of Hill curves as a parameter block of the NUTS density
 * (issue 14). A mixture channel's saturation is
 *
 *   sum_k w_k Hill(a; h_k, s_k),  k = 1..K,
 *
 * evaluated by hb_saturation_mixture() (transforms.c) inside
 * hb_channel_eval() (model_channel.c); the MMM density (model_mmm.c) holds
 * the block's unconstrained parameters after the channel's adstock ones and
 * calls the three functions here for the prior, the Jacobian and the chain
 * rule. Nothing else of the density is repeated.
 *
 * Identification and pruning:
 *   - half-saturations are ordered, log h_1 = u_1, log h_k = log h_(k-1) +
 *     exp(u_k): no label switching in any draw. Their prior is that of K
 *     i.i.d. draws from the channel's halfsat prior, restricted to the
 *     ordered region (the constant log K! is left out);
 *   - weights come from truncated stick-breaking, v_k ~ Beta(1, alpha)
 *     (k < K), w_k = v_k prod_(j<k) (1 - v_j), w_K = prod_(j<K) (1 - v_j),
 *     with v_k = logistic(u) and alpha = exp(u) under its own prior: a small
 *     alpha puts the mass on the first sticks, so unneeded components get
 *     weights near zero;
 *   - slopes are i.i.d. under the channel's slope prior, log link.
 * With K = 1 the block is (log halfsat, log slope) under the same priors
 * and links as a Hill channel's, so the log density is the Hill model's. */
#include <math.h>
#include <string.h>
#include "model.h"

int hb_mix_npar(int K) { return K == 1 ? 2 : 3 * K; }

/* log f(x) + log x and its derivative in log x: a positive parameter with a
 * log link */
static double log_link_prior(int code, const double *pp, double x, double *dlog) {
  *dlog = hb_prior_dlogdens(code, pp, x) * x + 1.0;
  return hb_prior_logdens(code, pp, x) + log(x);
}

double hb_mix_unpack(hb_channel *ch, const double *u, double *grad) {
  const int K = ch->mix_K;
  double *h = HB_MIX_PAR(ch->par), *s = h + K, *w = s + K;
  double l = 0.0, d;
  /* ordered half-saturations: a_k = d (prior + log h_k) / d log h_k, and
   * log h_j moves with u_k (k >= 1) by exp(u_k) for every j >= k */
  double lh = u[0], acc = 0.0, a[HB_MAX_MIX];
  for (int k = 0; k < K; k++) {
    if (k > 0) {
      lh += exp(u[k]);
      l += u[k]; /* Jacobian of the increment */
      grad[k] += 1.0;
    }
    h[k] = exp(lh);
    l += log_link_prior(ch->mix_prior_code[0], ch->mix_prior_par, h[k], &a[k]);
  }
  for (int k = K - 1; k >= 0; k--) {
    acc += a[k];
    grad[k] += k == 0 ? acc : acc * exp(u[k]);
  }
  for (int k = 0; k < K; k++) {
    s[k] = exp(u[K + k]);
    l += log_link_prior(ch->mix_prior_code[1], ch->mix_prior_par + 2, s[k], &d);
    grad[K + k] += d;
  }
  if (K == 1) {
    w[0] = 1.0;
    return l;
  }
  /* stick-breaking: v_k ~ Beta(1, alpha), logit link (Jacobian v (1 - v)) */
  const double la = u[3 * K - 1], alpha = exp(la);
  ch->alpha = alpha;
  l += log_link_prior(ch->mix_prior_code[2], ch->mix_prior_par + 4, alpha, &d);
  grad[3 * K - 1] += d;
  double rest = 1.0;
  for (int k = 0; k < K - 1; k++) {
    double x = u[2 * K + k];
    /* log v and log(1 - v) without cancellation */
    double lv = -log1p(exp(-x)), l1v = -log1p(exp(x));
    if (!R_FINITE(lv)) lv = x;      /* x -> -Inf */
    if (!R_FINITE(l1v)) l1v = -x;   /* x -> +Inf */
    double v = exp(lv);
    l += la + (alpha - 1.0) * l1v + lv + l1v;
    grad[2 * K + k] += 1.0 - (alpha + 1.0) * v;
    grad[3 * K - 1] += 1.0 + alpha * l1v;
    w[k] = v * rest;
    rest *= exp(l1v);
  }
  w[K - 1] = rest;
  return l;
}

void hb_mix_backprop(const hb_channel *ch, const double *u, const double *gc, double *gu) {
  const int K = ch->mix_K;
  const double *h = HB_MIX_PAR(ch->par), *s = h + K, *w = s + K;
  const double *gh = gc, *gs = gc + K, *gw = gc + 2 * K;
  double acc = 0.0;
  for (int k = K - 1; k >= 0; k--) {
    acc += gh[k] * h[k]; /* d / d log h_k */
    gu[k] += k == 0 ? acc : acc * exp(u[k]);
  }
  for (int k = 0; k < K; k++) gu[K + k] += gs[k] * s[k];
  if (K == 1) return;
  /* w_k = v_k prod_(j<k) (1 - v_j): d / d u_j = gw_j w_j (1 - v_j) -
   * v_j sum_(k>j) gw_k w_k */
  double tail = gw[K - 1] * w[K - 1];
  for (int j = K - 2; j >= 0; j--) {
    double v = 1.0 / (1.0 + exp(-u[2 * K + j]));
    gu[2 * K + j] += gw[j] * w[j] * (1.0 - v) - v * tail;
    tail += gw[j] * w[j];
  }
}

void hb_mix_to_unc(const hb_channel *ch, double *u) {
  const int K = ch->mix_K;
  const double *h = HB_MIX_PAR(ch->par), *s = h + K, *w = s + K;
  u[0] = log(h[0]);
  for (int k = 1; k < K; k++) u[k] = log(log(h[k]) - log(h[k - 1]));
  for (int k = 0; k < K; k++) u[K + k] = log(s[k]);
  if (K == 1) return;
  double rest = 1.0;
  for (int k = 0; k < K - 1; k++) {
    double v = w[k] / rest;
    u[2 * K + k] = log(v) - log1p(-v);
    rest -= w[k];
  }
  u[3 * K - 1] = log(ch->alpha);
}
