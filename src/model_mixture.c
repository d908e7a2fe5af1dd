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
 * Identification: every draw stores the components sorted by
 * half-saturation (no label switching). The half-saturations' prior is that
 * of K i.i.d. draws from the channel's halfsat prior (restricted to the
 * ordered region: the constant log K! is left out); slopes are i.i.d. under
 * the channel's slope prior, log link. The weights:
 *   - Dirichlet(e0, ..., e0) (HB_MIX_DIRICHLET, the default), sparse and
 *     exchangeable: the components are sampled unordered and sorted on
 *     the way out (exchangeable_unpack());
 *   - stick-breaking (HB_MIX_STICK): the half-saturations are ordered in
 *     the sampler, log h_1 = u_1, log h_k = log h_(k-1) + exp(u_k), and
 *     the weights come from truncated stick-breaking, v_k ~ Beta(1, alpha)
 *     (k < K), w_k = v_k prod_(j<k) (1 - v_j), w_K = prod_(j<K) (1 - v_j),
 *     with alpha = exp(u) under its own prior: a small alpha puts the mass
 *     on the first sticks, so unneeded components get weights near zero.
 *     The sticks are non-centred: u_k has the standard logistic density,
 *     p_k = logistic(u_k) is uniform and v_k = 1 - (1 - p_k)^(1 / alpha),
 *     the Beta(1, alpha) quantile of p_k. Centred (logit v_k), the sticks
 *     that the data do not inform form a funnel with log alpha (their logit
 *     scale has an exponential tail of rate alpha), where NUTS diverges.
 * Half-saturations of exchangeable components (Dirichlet weights, and K =
 * 1) are sampled at the working coordinates of a Hill channel
 * (hb_phi_to_w(), model_prior.c): psi_k = s_k (log ref - log h_k), the
 * component's logit at the channel's mean spend, and log s_k; the Jacobian
 * |d log h_k / d psi_k| = 1 / s_k. A component far above the spend is b w_k
 * (x / h_k)^s_k there, whose log h_k trades against log w_k along a curved
 * ridge in (log h_k, log s_k) and a straight one in (psi_k, log s_k). With
 * K = 1 the block is (psi, log slope) under the same priors and links as a
 * Hill channel's, so the log density is the Hill model's at the same
 * unconstrained point.
 * Pooled components (hb_model's mix_pool; exchangeable ones only): the
 * block holds standardized zh_k and zs_k instead of psi_k and log s_k, the
 * half-saturation and slope priors are the pooled normals of hb_model,
 * and hb_mix_unpack() / hb_mix_backprop() map them to the working
 * coordinates and back (pool_forward(), pool_back()) around the same
 * functions, with the pool block's gradient on the side. The channel's
 * slope b (model_mmm.c) is held as its mean contribution, so a component
 * that moves changes the curve's shape and not its level. */
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

/* A component's slope prior on log s (log f(s) + log s) with its
 * derivative: the channel's own; pooled, none here (the standardized
 * coordinates carry it, hb_mix_unpack()). */
static double slope_prior(const hb_channel *ch, double s, double *dlog) {
  if (ch->pool) {
    *dlog = 0.0;
    return 0.0;
  }
  return log_link_prior(ch->mix_prior_code[1], ch->mix_prior_par + 2, s, dlog);
}

/* Component k's log half-saturation from its working coordinates (psi_k =
 * u[k], log s_k = u[K + k]); *es = 1 / s_k */
static double work_log_h(const hb_channel *ch, const double *u, int k, double *es) {
  *es = exp(-u[ch->mix_K + k]);
  return ch->w_ref - u[k] * *es;
}

/* gu += the chain rule of work_log_h() for a derivative g in log h_k */
static void work_back(const hb_channel *ch, const double *u, int k, double g, double *gu) {
  double es = exp(-u[ch->mix_K + k]);
  gu[k] -= es * g;
  gu[ch->mix_K + k] += u[k] * es * g;
}

/* the half-saturation prior (with log h's link Jacobian) of component k at
 * its working coordinates, with the coordinates' Jacobian -log s_k (none
 * when pooled: the coordinates are then functions of the standardized
 * ones, hb_mix_unpack()) */
static double work_prior(hb_channel *ch, const double *u, int k, double *lh, double *grad) {
  double es, d;
  *lh = work_log_h(ch, u, k, &es);
  if (ch->pool) return 0.0;
  double l = log_link_prior(ch->mix_prior_code[0], ch->mix_prior_par, exp(*lh), &d) - u[ch->mix_K + k];
  work_back(ch, u, k, d, grad);
  grad[ch->mix_K + k] -= 1.0;
  return l;
}

/* Dirichlet(e0, ..., e0) weights as normalized Gamma(e0, 1) variables
 * g_k = exp(x_k): each x_k has the log-gamma density e0 x - e^x (the
 * constant -lgamma(e0) left out), independent of the others, so that no
 * parameter sets another's scale; w = softmax(x). The sum of the g_k is a
 * direction the likelihood does not see, held by the prior alone. */
static double dirichlet_unpack(double e0, int K, const double *x, double *w, double *grad) {
  double mx = x[0], tot = 0.0, l = 0.0;
  for (int k = 1; k < K; k++) mx = x[k] > mx ? x[k] : mx;
  for (int k = 0; k < K; k++) {
    double g = exp(x[k]);
    l += e0 * x[k] - g;
    grad[k] += e0 - g;
    w[k] = exp(x[k] - mx);
    tot += w[k];
  }
  for (int k = 0; k < K; k++) w[k] /= tot;
  return l;
}

/* Dirichlet weights, an exchangeable prior: the components are sampled
 * unordered (u: K log half-saturations, K log slopes, K log-gamma
 * variables) and stored sorted by half-saturation, ch->mix_perm[r] the
 * unordered component of rank r. The likelihood and the prior are
 * symmetric in the components, so the sorted draws have exactly the
 * posterior of the model restricted to ordered half-saturations; but an
 * empty component moves past an occupied one freely, where the ordered
 * parameterization must pass the weight through both (a barrier, and a
 * curved ridge when a low component anchors the others). */
static double exchangeable_unpack(hb_channel *ch, const double *u, double *grad) {
  const int K = ch->mix_K;
  double *h = HB_MIX_PAR(ch->par), *s = h + K, *w = s + K;
  double l = 0.0, d, wu[HB_MAX_MIX], lh[HB_MAX_MIX];
  int *perm = ch->mix_perm;
  for (int k = 0; k < K; k++) {
    l += work_prior(ch, u, k, lh + k, grad);
    l += slope_prior(ch, exp(u[K + k]), &d);
    grad[K + k] += d;
  }
  l += dirichlet_unpack(ch->mix_e0, K, u + 2 * K, wu, grad + 2 * K);
  for (int k = 0; k < K; k++) { /* insertion sort by log half-saturation (K is small) */
    int r = k;
    for (; r > 0 && lh[perm[r - 1]] > lh[k]; r--) perm[r] = perm[r - 1];
    perm[r] = k;
  }
  for (int r = 0; r < K; r++) {
    h[r] = exp(lh[perm[r]]);
    s[r] = exp(u[K + perm[r]]);
    w[r] = wu[perm[r]];
  }
  return l;
}

static double mix_unpack(hb_channel *ch, const double *u, double *grad) {
  const int K = ch->mix_K;
  double *h = HB_MIX_PAR(ch->par), *s = h + K, *w = s + K;
  double l = 0.0, d;
  if (K > 1 && ch->mix_weights == HB_MIX_DIRICHLET) return exchangeable_unpack(ch, u, grad);
  if (K == 1) {
    double lh;
    l += work_prior(ch, u, 0, &lh, grad);
    h[0] = exp(lh);
    s[0] = exp(u[1]);
    l += slope_prior(ch, s[0], &d);
    grad[1] += d;
    w[0] = 1.0;
    return l;
  }
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
    l += slope_prior(ch, s[k], &d);
    grad[K + k] += d;
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

static void mix_backprop(const hb_channel *ch, const double *u, const double *gc, double *gu) {
  const int K = ch->mix_K;
  const double *h = HB_MIX_PAR(ch->par), *s = h + K, *w = s + K;
  const double *gh = gc, *gs = gc + K, *gw = gc + 2 * K;
  double acc = 0.0;
  if (K > 1 && ch->mix_weights == HB_MIX_DIRICHLET) { /* back to the unordered components */
    const int *perm = ch->mix_perm;
    double m = 0.0; /* softmax: d w_j / d x_k = w_j (delta_jk - w_k) */
    for (int r = 0; r < K; r++) m += gw[r] * w[r];
    for (int r = 0; r < K; r++) {
      work_back(ch, u, perm[r], gh[r] * h[r], gu);
      gu[K + perm[r]] += gs[r] * s[r];
      gu[2 * K + perm[r]] += w[r] * (gw[r] - m);
    }
    return;
  }
  if (K == 1) {
    work_back(ch, u, 0, gh[0] * h[0], gu);
    gu[1] += gs[0] * s[0];
    return;
  }
  for (int k = K - 1; k >= 0; k--) {
    acc += gh[k] * h[k]; /* d / d log h_k */
    gu[k] += k == 0 ? acc : acc * exp(u[k]);
  }
  for (int k = 0; k < K; k++) gu[K + k] += gs[k] * s[k];
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

/* Pooled components (exchangeable: Dirichlet weights or K = 1), sampled
 * non-centred: u[k] = zh_k and u[K + k] = zs_k, standard normal, with
 *   log h_k = centre + mu_h + tau_h zh_k,  log s_k = mu_s + tau_s zs_k;
 * from them the block v of the functions above (psi_k = s_k (log ref -
 * log h_k), log s_k), whose priors are then skipped. Centred, an empty
 * component's parameters and the pool's sds form a funnel (from the prior
 * alone, 50-90 divergent transitions in 4,000; on homogeneous data a chain
 * stuck at a small sd). */
static void pool_forward(const hb_channel *ch, const double *u, double *v) {
  const int K = ch->mix_K;
  const double *pl = ch->pool, centre = ch->mix_prior_par[0];
  memcpy(v, u, sizeof(double) * hb_mix_npar(K));
  for (int k = 0; k < K; k++) {
    double ls = pl[2] + pl[3] * u[K + k], lh = centre + pl[0] + pl[1] * u[k];
    v[K + k] = ls;
    v[k] = exp(ls) * (ch->w_ref - lh);
  }
}

/* the chain rule back: gu += d / d u and gpool += d / d (mu_h, log tau_h,
 * mu_s, log tau_s) for gv = d / d v (v from pool_forward()) */
static void pool_back(const hb_channel *ch, const double *u, const double *v, const double *gv, double *gu,
                      double *gpool) {
  const int K = ch->mix_K, np = hb_mix_npar(K);
  const double *pl = ch->pool;
  for (int a = 0; a < np; a++)
    if (a >= 2 * K) gu[a] += gv[a];
  for (int k = 0; k < K; k++) {
    const double es = exp(v[K + k]);
    const double gls = gv[K + k] + gv[k] * v[k]; /* psi moves with log s too */
    const double glh = -gv[k] * es;
    gu[k] += glh * pl[1];
    gpool[0] += glh;
    gpool[1] += glh * pl[1] * u[k];
    gu[K + k] += gls * pl[3];
    gpool[2] += gls;
    gpool[3] += gls * pl[3] * u[K + k];
  }
}

double hb_mix_unpack(hb_channel *ch, const double *u, double *grad) {
  if (!ch->pool) return mix_unpack(ch, u, grad);
  const int K = ch->mix_K;
  double v[3 * HB_MAX_MIX], gv[3 * HB_MAX_MIX];
  pool_forward(ch, u, v);
  memset(gv, 0, sizeof gv);
  double l = mix_unpack(ch, v, gv);
  for (int a = 0; a < 2 * K; a++) { /* zh_k, zs_k ~ N(0, 1) */
    l -= 0.5 * u[a] * u[a];
    grad[a] -= u[a];
  }
  pool_back(ch, u, v, gv, grad, ch->pool_grad);
  return l;
}

void hb_mix_backprop(const hb_channel *ch, const double *u, const double *gc, double *gu, double *gpool) {
  if (!ch->pool) {
    mix_backprop(ch, u, gc, gu);
    return;
  }
  double v[3 * HB_MAX_MIX], gv[3 * HB_MAX_MIX];
  pool_forward(ch, u, v);
  memset(gv, 0, sizeof gv);
  mix_backprop(ch, v, gc, gv);
  pool_back(ch, u, v, gv, gu, gpool);
}

double hb_mix_pool_unpack(hb_model *g, const double *th, double *grad) {
  const double *pp = g->pool_prior;
  double l = 0.0;
  for (int a = 0; a < 2; a++) { /* a = 0: half-saturations, 1: slopes */
    const double mu = th[2 * a], tau = exp(th[2 * a + 1]);
    const double d = (mu - pp[3 * a]) / pp[3 * a + 1], t = tau / pp[3 * a + 2];
    l += -0.5 * d * d - 0.5 * t * t + th[2 * a + 1]; /* normal, half-normal with the Jacobian tau */
    grad[2 * a] -= d / pp[3 * a + 1];
    grad[2 * a + 1] += 1.0 - t * t;
    g->pool_val[2 * a] = mu;
    g->pool_val[2 * a + 1] = tau;
  }
  return l;
}

void hb_mix_pool_init(const hb_model *g, double *th) {
  for (int a = 0; a < 2; a++) {
    th[2 * a] = g->pool_val[2 * a];
    th[2 * a + 1] = log(g->pool_val[2 * a + 1]);
  }
}

/* the standardized coordinates of the current components (pooled) */
static void pool_to_z(const hb_channel *ch, double *u) {
  if (!ch->pool) return;
  const int K = ch->mix_K;
  const double *h = HB_MIX_PAR(ch->par), *pl = ch->pool;
  for (int k = 0; k < K; k++) {
    u[k] = (log(h[k]) - ch->mix_prior_par[0] - pl[0]) / pl[1];
    u[K + k] = (u[K + k] - pl[2]) / pl[3];
  }
}

void hb_mix_to_unc(const hb_channel *ch, double *u) {
  const int K = ch->mix_K;
  const double *h = HB_MIX_PAR(ch->par), *s = h + K, *w = s + K;
  if (K == 1 || ch->mix_weights == HB_MIX_DIRICHLET) { /* unordered: the sorted ones will do */
    for (int k = 0; k < K; k++) {
      u[k] = s[k] * (ch->w_ref - log(h[k])); /* working coordinates */
      u[K + k] = log(s[k]);
      if (K > 1) u[2 * K + k] = log(w[k]) + log(K * ch->mix_e0); /* the g_k summing to their prior mean K e0 */
    }
    pool_to_z(ch, u);
    return;
  }
  u[0] = log(h[0]);
  for (int k = 1; k < K; k++) u[k] = log(log(h[k]) - log(h[k - 1]));
  for (int k = 0; k < K; k++) u[K + k] = log(s[k]);
  double rest = 1.0;
  for (int k = 0; k < K - 1; k++) {
    double v = w[k] / rest;
    double p = -expm1(ch->alpha * log1p(-v)); /* 1 - (1 - v)^alpha */
    u[2 * K + k] = log(p) - log1p(-p);
    rest -= w[k];
  }
  u[3 * K - 1] = log(ch->alpha);
}
