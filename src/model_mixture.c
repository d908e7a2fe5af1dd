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
 *     with alpha = exp(u) under its own prior: a small alpha puts the mass
 *     on the first sticks, so unneeded components get weights near zero.
 *     The sticks are non-centred: u_k has the standard logistic density,
 *     p_k = logistic(u_k) is uniform and v_k = 1 - (1 - p_k)^(1 / alpha),
 *     the Beta(1, alpha) quantile of p_k. Centred (logit v_k), the sticks
 *     that the data do not inform form a funnel with log alpha (their logit
 *     scale has an exponential tail of rate alpha), where NUTS diverges;
 *   - slopes are i.i.d. under the channel's slope prior, log link.
 * With K = 1 the block is (log halfsat, log slope) under the same priors
 * and links as a Hill channel's, so the log density is the Hill model's. */
#include <math.h>
#include <string.h>
#include "model.h"

int hb_mix_npar(int K) { return K == 1 ? 2 : 3 * K; }

/* log(1 + e^x) without overflow */
static double softplus(double x) { return x > 0.0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

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
  /* stick-breaking, non-centred: u_k standard logistic, log(1 - v_k) =
   * log(1 - p_k) / alpha = -softplus(u_k) / alpha */
  const double la = u[3 * K - 1], alpha = exp(la);
  ch->alpha = alpha;
  l += log_link_prior(ch->mix_prior_code[2], ch->mix_prior_par + 4, alpha, &d);
  grad[3 * K - 1] += d;
  double rest = 1.0;
  for (int k = 0; k < K - 1; k++) {
    double x = u[2 * K + k];
    double sp = softplus(x), p = 1.0 / (1.0 + exp(-x));
    l += x - 2.0 * sp; /* log p + log(1 - p) */
    grad[2 * K + k] += 1.0 - 2.0 * p;
    double l1v = -sp / alpha;
    w[k] = -expm1(l1v) * rest;
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
  /* w_k = v_k R_k, R_k = prod_(j<k) (1 - v_j): (1 - v_j) d / d v_j =
   * gw_j R_j (1 - v_j) - sum_(k>j) gw_k w_k =: a_j; with L_j = log(1 - v_j)
   * = -softplus(u_j) / alpha, d v_j / d u_j = (1 - v_j) p_j / alpha and
   * d v_j / d log alpha = (1 - v_j) L_j */
  const double alpha = ch->alpha;
  double L[HB_MAX_MIX], R[HB_MAX_MIX];
  R[0] = 1.0;
  for (int j = 0; j < K - 1; j++) {
    L[j] = -softplus(u[2 * K + j]) / alpha;
    R[j + 1] = R[j] * exp(L[j]);
  }
  double tail = gw[K - 1] * w[K - 1], ga = 0.0;
  for (int j = K - 2; j >= 0; j--) {
    double a = gw[j] * R[j + 1] - tail; /* R_j (1 - v_j) = R_(j+1) */
    gu[2 * K + j] += a / (1.0 + exp(-u[2 * K + j])) / alpha;
    ga += a * L[j];
    tail += gw[j] * w[j];
  }
  gu[3 * K - 1] += ga;
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
    double p = -expm1(ch->alpha * log1p(-v)); /* 1 - (1 - v)^alpha */
    u[2 * K + k] = log(p) - log1p(-p);
    rest -= w[k];
  }
  u[3 * K - 1] = log(ch->alpha);
}
