/* Log-normal media effects in the Gibbs sampler (hb_mult, model.h): in
 * level l channel c's column is multiplied by theta_l = exp(v_l). One
 * update per block and sweep:
 *   - each theta_l | rest. The fit of level l's rows is linear in theta_l
 *     (b m_i theta_l, m_i the column without the level's multiplier), so
 *     the likelihood is N(theta_l; A / B, 1 / B) and with the prior
 *     lognormal(0, sd) the update is the slice sampler of
 *     hb_lognormal_normal_draw(). With an ROI prior on b, whose meanlog
 *     moves with the column's sum, that slice update is the proposal of a
 *     Metropolis step that accepts on the ROI prior's ratio (a kernel
 *     reversible for one factor, corrected by the other);
 *   - a joint move of b and v that keeps every level's coefficient
 *     b exp(v_l): b exp(e), v_l - e, a slice update of e on the priors
 *     and on the rows without a level (lift tests outside the group), whose
 *     fit moves with b. Without it b and the mean of v trade along a ridge
 *     that alternating updates cross slowly;
 *   - sd | v with its half-t prior through the Huang-Wand auxiliary a:
 *     a | sd ~ IG((nu + 1) / 2, nu / sd^2 + 1 / A^2),
 *     sd^2 | a, v ~ IG((nu + G) / 2, nu / a + sum v^2 / 2);
 *   - a joint move of sd and all v by a common factor (see scale_move()).
 * The residual, the channel's media column and the design columns made
 * from it stay current. */
#include <math.h>
#include <string.h>
#include <Rmath.h>
#include "gibbs.h"
#include "linalg.h"

/* log prior of coefficient j at value b when its column sums to `sum` (an
 * ROI prior's meanlog moves with the sum), up to a constant */
static double coef_logprior(const hb_model *g, int j, double b, double sum) {
  int code = g->b_code[j];
  if (code == HB_PRIOR_NORMAL) {
    double d = (b - g->b_mean[j]) / g->b_sd[j];
    return -0.5 * d * d;
  }
  if (!(b > 0.0)) return R_NegInf;
  double mean = g->b_mean[j], dlp;
  if (g->b_roi && g->b_roi[j] > 0.0) mean += log(g->b_roi[j]) - log(sum);
  return hb_coef_pos_logprior(code, mean, g->b_sd[j], b, &dlp);
}

/* the joint move's log target in e (Jacobian exp(e) of b included) */
typedef struct {
  const hb_model *g;
  const hb_mult *mu;
  double b, sum, sv, sv2; /* coefficient, column sum, sum of v, sum of v^2 */
  double s1, s2;          /* rows without a level (lift tests outside the group): their fit moves with b */
} shift_ctx;

static double shift_logdens(double e, const void *ctx) {
  const shift_ctx *s = (const shift_ctx *) ctx;
  const double var = s->mu->sd * s->mu->sd, G = s->mu->G, d = expm1(e);
  double lv = -0.5 * (s->sv2 - 2.0 * e * s->sv + G * e * e) / var;
  return coef_logprior(s->g, s->mu->j, s->b * exp(e), s->sum * exp(-e)) + e + lv + d * s->s1 - 0.5 * d * d * s->s2;
}

/* slice sampling of e from 0 under the log density f (stepping out, then
 * shrinkage; Neal 2003) */
static double slice_draw(hb_rng *rng, double (*f)(double, const void *), const void *ctx, double w) {
  double ly = f(0.0, ctx) - hb_rng_exp(rng);
  double lo = -w * hb_rng_unif(rng), hi = lo + w;
  for (int k = 0; k < 100 && f(lo, ctx) > ly; k++) lo -= w;
  for (int k = 0; k < 100 && f(hi, ctx) > ly; k++) hi += w;
  for (int k = 0; k < 1000; k++) {
    double e = lo + (hi - lo) * hb_rng_unif(rng);
    if (f(e, ctx) > ly) return e;
    if (e < 0.0) lo = e;
    else hi = e;
  }
  return 0.0;
}

/* rows of level l: column, residual and multipliers times f */
static void scale_level(hb_model *g, const hb_mult *mu, int l, double f) {
  const double b = g->beta[mu->j];
  double *col = g->media + (R_xlen_t) mu->c * g->n, *mr = g->mult_row + (R_xlen_t) mu->c * g->n;
  for (R_xlen_t a = mu->start[l]; a < mu->start[l + 1]; a++) {
    R_xlen_t i = mu->ord[a];
    g->r[i] -= b * col[i] * (f - 1.0);
    col[i] *= f;
    mr[i] *= f;
  }
}

static void update_levels(hb_model *g, hb_mult *mu) {
  const double b = g->beta[mu->j];
  const int roi = g->b_roi && g->b_roi[mu->j] > 0.0;
  const double *col = g->media + (R_xlen_t) mu->c * g->n;
  double sum = roi ? hb_sum(col, g->nd) : 0.0;
  for (int l = 0; l < mu->G; l++) {
    double th = exp(mu->v[l]), A = 0.0, B = 0.0, sl = 0.0;
    for (R_xlen_t a = mu->start[l]; a < mu->start[l + 1]; a++) {
      R_xlen_t i = mu->ord[a];
      double base = b * col[i] / th; /* the fit per unit of theta */
      A += g->prec[i] * (g->r[i] + base * th) * base;
      B += g->prec[i] * base * base;
      if (i < g->nd) sl += col[i];
    }
    double th1 = B > 0.0 ? hb_lognormal_normal_draw(g->rng, A / B, 1.0 / sqrt(B), 0.0, mu->sd, th)
                         : exp(mu->sd * hb_rng_norm(g->rng));
    if (roi) {
      double sum1 = sum + sl * (th1 / th - 1.0);
      if (!(sum1 > 0.0) ||
          log(hb_rng_unif(g->rng)) >= coef_logprior(g, mu->j, b, sum1) - coef_logprior(g, mu->j, b, sum))
        continue;
      sum = sum1;
    }
    scale_level(g, mu, l, th1 / th);
    mu->v[l] = log(th1);
  }
}

static void shift_move(hb_model *g, hb_mult *mu) {
  shift_ctx s = {g, mu, g->beta[mu->j], 0.0, 0.0, 0.0, 0.0, 0.0};
  if (s.b == 0.0) return;
  double *col = g->media + (R_xlen_t) mu->c * g->n, *mr = g->mult_row + (R_xlen_t) mu->c * g->n;
  s.sum = hb_sum(col, g->nd);
  for (int l = 0; l < mu->G; l++) {
    s.sv += mu->v[l];
    s.sv2 += mu->v[l] * mu->v[l];
  }
  for (R_xlen_t i = g->nd; i < g->n; i++)
    if (mu->g[i] < 0) {
      double f = s.b * col[i];
      s.s1 += g->prec[i] * g->r[i] * f;
      s.s2 += g->prec[i] * f * f;
    }
  /* the mean of v has prior sd sd / sqrt(G): a width of that order */
  double e = slice_draw(g->rng, shift_logdens, &s, mu->sd / sqrt((double) mu->G) + 1e-3);
  if (e == 0.0) return;
  /* every level's coefficient b exp(v_l) is kept: there the fit and
   * residual stay and the column and multipliers scale by exp(-e); rows
   * without a level see b move */
  double f = exp(-e), d = expm1(e);
  for (R_xlen_t i = 0; i < g->n; i++) {
    if (mu->g[i] >= 0) {
      col[i] *= f;
      mr[i] *= f;
    } else {
      g->r[i] -= s.b * col[i] * d;
    }
  }
  g->beta[mu->j] *= exp(e);
  for (int l = 0; l < mu->G; l++) mu->v[l] -= e;
}

/* the scale move's log target in e: (sd, v) -> exp(e) (sd, v) */
typedef struct {
  const hb_model *g;
  const hb_mult *mu;
  const double *R1, *R2, *S; /* per level: sum prec r fit, sum prec fit^2, the column's sum on data rows */
  double sum;                /* the column's sum on data rows (ROI prior), 0 without one */
} scale_ctx;

static double scale_logdens(double e, const void *ctx) {
  const scale_ctx *s = (const scale_ctx *) ctx;
  const hb_mult *mu = s->mu;
  const double lam = exp(e), sd1 = mu->sd * lam, nu = mu->hw_nu;
  /* sd | a, from sd^2 ~ IG(nu / 2, nu / a); the levels' prior ratio
   * (lam^-G) and the Jacobian of the map (lam^(G + 1)) leave lam */
  double out = e - (nu + 1.0) * log(sd1) - nu / (mu->hw_a * sd1 * sd1), sum1 = 0.0;
  for (int l = 0; l < mu->G; l++) {
    const double d = expm1((lam - 1.0) * mu->v[l]); /* the level's fit moves by this fraction */
    out += d * s->R1[l] - 0.5 * d * d * s->R2[l];
    sum1 += s->S[l] * d;
  }
  if (s->sum > 0.0) {
    sum1 += s->sum;
    if (!(sum1 > 0.0)) return R_NegInf;
    out += coef_logprior(s->g, mu->j, s->g->beta[mu->j], sum1) - coef_logprior(s->g, mu->j, s->g->beta[mu->j], s->sum);
  }
  return out;
}

/* A joint move of sd and every v_l by a common factor exp(e), by slice
 * sampling of e. Alternating sd | v and v | sd crosses the funnel of the
 * levels' prior slowly where the data say little about each level (a bulk
 * ESS of 20-130 in 2,000 draws for sd from the prior alone); scaling both
 * keeps v / sd and moves along it. */
static void scale_move(hb_model *g, hb_mult *mu) {
  const double b = g->beta[mu->j];
  const double *col = g->media + (R_xlen_t) mu->c * g->n;
  double *R1 = mu->scratch, *R2 = R1 + mu->G, *S = R2 + mu->G;
  memset(R1, 0, sizeof(double) * 3 * mu->G);
  for (int l = 0; l < mu->G; l++)
    for (R_xlen_t a = mu->start[l]; a < mu->start[l + 1]; a++) {
      R_xlen_t i = mu->ord[a];
      double fit = b * col[i];
      R1[l] += g->prec[i] * g->r[i] * fit;
      R2[l] += g->prec[i] * fit * fit;
      if (i < g->nd) S[l] += col[i];
    }
  const int roi = g->b_roi && g->b_roi[mu->j] > 0.0;
  scale_ctx s = {g, mu, R1, R2, S, roi ? hb_sum(col, g->nd) : 0.0};
  double e = slice_draw(g->rng, scale_logdens, &s, 0.5);
  if (e == 0.0) return;
  const double lam = exp(e);
  for (int l = 0; l < mu->G; l++) {
    scale_level(g, mu, l, exp((lam - 1.0) * mu->v[l]));
    mu->v[l] *= lam;
  }
  mu->sd *= lam;
}

static void update_sd(hb_model *g, hb_mult *mu) {
  double ss = 0.0, nu = mu->hw_nu;
  for (int l = 0; l < mu->G; l++) ss += mu->v[l] * mu->v[l];
  mu->hw_a = hb_inv_gamma_draw(g->rng, 0.5 * (nu + 1.0), nu / (mu->sd * mu->sd) + 1.0 / (mu->hw_A * mu->hw_A));
  mu->sd = sqrt(hb_inv_gamma_draw(g->rng, 0.5 * (nu + mu->G), nu / mu->hw_a + 0.5 * ss));
}

void hb_mult_update(hb_model *g) {
  for (int b = 0; b < g->nmult; b++) {
    hb_mult *mu = g->mu + b;
    update_levels(g, mu);
    shift_move(g, mu);
    update_sd(g, mu);
    scale_move(g, mu);
    hb_refresh_channel_columns(g, mu->c);
  }
}
