/* Links of transform parameters between their constrained values and the
 * unconstrained scale, and the log prior densities of their families
 * (enum hb_prior_family), each with the derivatives the NUTS density needs. */
#include <math.h>
#include <string.h>
#include <Rmath.h>
#include "model.h"

double hb_link_to_unc(int link, double v, double upper) {
  switch (link) {
  case HB_LINK_LOGIT: return log(v) - log1p(-v);
  case HB_LINK_LOG: return log(v);
  default: { double p = v / upper; return log(p) - log1p(-p); }
  }
}

double hb_link_from_unc(int link, double u, double upper) {
  switch (link) {
  case HB_LINK_LOGIT: return 1.0 / (1.0 + exp(-u));
  case HB_LINK_LOG: return exp(u);
  default: return upper / (1.0 + exp(-u));
  }
}

/* log |d constrained / d unconstrained| */
double hb_link_logjac(int link, double u, double upper) {
  switch (link) {
  case HB_LINK_LOG: return u;
  default: {
    /* log p + log(1 - p) with p = logistic(u), stable for large |u| */
    double lj = -fabs(u) - 2.0 * log1p(exp(-fabs(u)));
    return link == HB_LINK_LOGIT ? lj : lj + log(upper);
  }
  }
}

/* d link_from_unc / d u, and d logjac / d u */
void hb_link_derivs(int link, double u, double upper, double *dv, double *djac) {
  if (link == HB_LINK_LOG) {
    *dv = exp(u);
    *djac = 1.0;
    return;
  }
  double pr = 1.0 / (1.0 + exp(-u));
  *dv = pr * (1.0 - pr) * (link == HB_LINK_LOGIT ? 1.0 : upper);
  *djac = 1.0 - 2.0 * pr;
}

/* Log density of the prior families used for transform parameters (codes of
 * prior_code() in R/priors.R), on the constrained scale. */
double hb_prior_logdens(int code, const double *p, double x) {
  switch (code) {
  case HB_PRIOR_NORMAL: return dnorm(x, p[0], p[1], 1);
  case HB_PRIOR_LOGNORMAL: return dlnorm(x, p[0], p[1], 1);
  case HB_PRIOR_GAMMA: return dgamma(x, p[0], 1.0 / p[1], 1);
  case HB_PRIOR_BETA: return dbeta(x, p[0], p[1], 1);
  case HB_PRIOR_UNIFORM: return (x >= p[0] && x <= p[1]) ? -log(p[1] - p[0]) : R_NegInf;
  case HB_PRIOR_HALF_NORMAL: return x < 0 ? R_NegInf : M_LN2 + dnorm(x, 0.0, p[0], 1);
  case HB_PRIOR_EXPONENTIAL: return dexp(x, 1.0 / p[0], 1);
  case HB_PRIOR_HALF_STUDENT_T: return x < 0 ? R_NegInf : M_LN2 + dt(x / p[1], p[0], 1) - log(p[1]);
  default: return R_NegInf;
  }
}

/* d/dx of hb_prior_logdens() for the families of PRIOR_CODES */
double hb_prior_dlogdens(int code, const double *p, double x) {
  switch (code) {
  case HB_PRIOR_NORMAL: return -(x - p[0]) / (p[1] * p[1]);
  case HB_PRIOR_LOGNORMAL: return -(1.0 + (log(x) - p[0]) / (p[1] * p[1])) / x;
  case HB_PRIOR_GAMMA: return (p[0] - 1.0) / x - p[1]; /* (shape, rate), as hb_prior_logdens() */
  case HB_PRIOR_BETA: return (p[0] - 1.0) / x - (p[1] - 1.0) / (1.0 - x);
  case HB_PRIOR_UNIFORM: return 0.0;
  case HB_PRIOR_HALF_NORMAL: return -x / (p[0] * p[0]);
  case HB_PRIOR_EXPONENTIAL: return -p[0]; /* rate */
  case HB_PRIOR_HALF_STUDENT_T: return -(p[0] + 1.0) * x / (p[0] * p[1] * p[1] + x * x);
  default: return 0.0;
  }
}

/* Log prior, up to a constant, of a positive coefficient b > 0 under its
 * family (hb_model's b_code; parameters b_mean, b_sd: half-normal (mean 0)
 * sd, exponential 1 / rate, lognormal meanlog, sdlog), and its derivative
 * in b through *dlp. */
double hb_coef_pos_logprior(int code, double mean, double sd, double b, double *dlp) {
  switch (code) {
  case HB_PRIOR_HALF_NORMAL: {
    double d = (b - mean) / sd;
    *dlp = -d / sd;
    return -0.5 * d * d;
  }
  case HB_PRIOR_EXPONENTIAL:
    *dlp = -1.0 / sd;
    return -b / sd;
  default: { /* lognormal */
    double lb = log(b), e = (lb - mean) / sd;
    *dlp = -(1.0 + e / sd) / b;
    return -0.5 * e * e - lb;
  }
  }
}

double hb_coef_meanlog(const hb_model *g, int j) {
  if (!g->b_roi || !(g->b_roi[j] > 0.0)) return g->b_mean[j];
  return g->b_mean[j] + log(g->b_roi[j]) - log(hb_sum(g->Xcol[j], g->nd)); /* the data's rows */
}

double hb_roi_keep_factor(const hb_model *g, int j, double sum_new) {
  if (!g->b_roi || !(g->b_roi[j] > 0.0)) return 1.0;
  return sum_new > 0.0 ? hb_sum(g->Xcol[j], g->nd) / sum_new : 0.0;
}

int hb_roi_column(const hb_model *g, int c) {
  if (!g->b_roi) return -1;
  for (int j = 0; j < g->p; j++)
    if (g->xc[j] == c && g->b_roi[j] > 0.0) return j;
  return -1;
}

/* ---- working coordinates of a channel ----------------------------------- */

/* Both samplers move a channel in working coordinates w. For a Hill curve
 * with both parameters estimated on the log scale, the log half-saturation
 * is replaced by psi = slope (log ref - log halfsat), the curve's logit at
 * a reference spend (the mean positive spend): the data pin down the curve
 * where the spend is, so psi and log slope are close to uncorrelated and
 * straight, where log halfsat and log slope form a curved ridge. That ridge
 * slows a random walk with one shape (on simulate_three_level()'s digital
 * channel the quadratic trend of log halfsat in log slope has t = 22; of
 * psi, about 5) and makes NUTS diverge where the half-saturation is far
 * above the spend (the curve is then b (x / halfsat)^slope, and log b moves
 * with slope times log halfsat). Every other parameter: w = phi. */
void hb_channel_working_init(hb_channel *ch, const double *x, R_xlen_t n) {
  ch->w_h = ch->w_s = -1;
  double sx = 0.0, nx = 0.0;
  for (R_xlen_t i = 0; i < n; i++)
    if (x[i] > 0.0) {
      sx += x[i];
      nx += 1.0;
    }
  for (int e = 0; e < ch->nest && ch->sat_type == HB_SAT_HILL && nx > 0.0; e++) {
    if (ch->link[ch->est_slot[e]] != HB_LINK_LOG) continue;
    if (ch->est_slot[e] == 2) ch->w_h = e;
    if (ch->est_slot[e] == 3) ch->w_s = e;
  }
  if (ch->w_h < 0 || ch->w_s < 0) ch->w_h = ch->w_s = -1;
  ch->w_ref = nx > 0.0 ? log(sx / nx) : 0.0;
}

void hb_phi_to_w(const hb_channel *ch, const double *phi, double *w) {
  memcpy(w, phi, sizeof(double) * ch->nest);
  if (ch->w_h >= 0) w[ch->w_h] = exp(phi[ch->w_s]) * (ch->w_ref - phi[ch->w_h]);
}

void hb_w_to_phi(const hb_channel *ch, const double *w, double *phi) {
  memcpy(phi, w, sizeof(double) * ch->nest);
  if (ch->w_h >= 0) phi[ch->w_h] = ch->w_ref - w[ch->w_h] * exp(-w[ch->w_s]);
}

/* log |d phi / d w| = -log slope */
double hb_w_logjac(const hb_channel *ch, const double *u) {
  return ch->w_h >= 0 ? -u[ch->w_s] : 0.0;
}

void hb_w_backprop(const hb_channel *ch, const double *w, const double *gphi, double *gw) {
  for (int e = 0; e < ch->nest; e++)
    if (e != ch->w_h) gw[e] += gphi[e];
  if (ch->w_h < 0) return;
  /* phi_h = ref - w_h exp(-w_s) */
  double es = exp(-w[ch->w_s]);
  gw[ch->w_h] -= gphi[ch->w_h] * es;
  gw[ch->w_s] += gphi[ch->w_h] * w[ch->w_h] * es;
}
