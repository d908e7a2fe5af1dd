/* Media transform kernels: adstock (carry-over) and saturation (diminishing
 * returns), with derivatives with respect to every parameter. Pure C on plain
 * arrays: the .Call wrappers (transforms_call.c) and the samplers share them. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <Rmath.h>
#include "hbmmm.h"
#include "vmath.h"

/* finite and non-negative: NaN fails both comparisons (& rather than &&:
 * no branch in the row loops) */
#define HB_BAD_MEDIA(v) (!(((v) >= 0.0) & ((v) <= DBL_MAX)))

int hb_adstock_npar(int type) { return type == HB_ADSTOCK_GEOMETRIC ? 1 : 2; }
int hb_saturation_npar(int type) { return type == HB_SAT_LOGISTIC ? 1 : 2; }

static int pos_finite(double v) { return v > 0.0 && v <= DBL_MAX; }

const char *hb_adstock_par_invalid(int type, const double *par, int max_lag,
                                   char *msg, size_t msglen) {
  char num[32];
  switch (type) {
  case HB_ADSTOCK_GEOMETRIC:
  case HB_ADSTOCK_DELAYED:
    if (!(par[0] >= 0.0 && par[0] < 1.0)) {
      snprintf(msg, msglen, "must be in [0, 1); found %s", hb_fmt_num(par[0], num, sizeof num));
      return "decay";
    }
    if (type == HB_ADSTOCK_DELAYED && !(par[1] >= 0.0 && par[1] <= max_lag)) {
      snprintf(msg, msglen, "must be in [0, max_lag = %d]; found %s", max_lag, hb_fmt_num(par[1], num, sizeof num));
      return "delay";
    }
    return NULL;
  default: /* Weibull */
    if (!pos_finite(par[0])) {
      snprintf(msg, msglen, "must be positive and finite; found %s", hb_fmt_num(par[0], num, sizeof num));
      return "shape";
    }
    if (!pos_finite(par[1])) {
      snprintf(msg, msglen, "must be positive and finite; found %s", hb_fmt_num(par[1], num, sizeof num));
      return "scale";
    }
    return NULL;
  }
}

const char *hb_saturation_par_invalid(int type, const double *par,
                                      char *msg, size_t msglen) {
  static const char *names[3][2] = {
    {"halfsat", "slope"}, {"lambda", ""}, {"vmax", "k"}};
  int np = hb_saturation_npar(type);
  char num[32];
  for (int p = 0; p < np; p++) {
    if (!pos_finite(par[p])) {
      snprintf(msg, msglen, "must be positive and finite; found %s", hb_fmt_num(par[p], num, sizeof num));
      return names[type - 1][p];
    }
  }
  return NULL;
}

/* Raw (unnormalized) weight and its parameter derivatives at lag l. */
static void lag_weight(int type, const double *par, int l, double *w,
                       double *d0, double *d1) {
  double a = par[0], b = type == HB_ADSTOCK_GEOMETRIC ? 0.0 : par[1];
  *d1 = 0.0;
  switch (type) {
  case HB_ADSTOCK_GEOMETRIC: /* decay^l */
    *w = R_pow_di(a, l);
    *d0 = l == 0 ? 0.0 : l * R_pow_di(a, l - 1);
    break;
  case HB_ADSTOCK_DELAYED: { /* decay^((l - delay)^2) */
    double dl = l - b, e = dl * dl;
    *w = e == 0.0 ? 1.0 : pow(a, e);
    *d0 = e == 0.0 ? 0.0 : e * pow(a, e - 1.0);
    *d1 = *w == 0.0 ? 0.0 : *w * log(a) * (-2.0 * dl);
    break;
  }
  case HB_ADSTOCK_WEIBULL_CDF: { /* survival exp(-(l / scale)^shape) */
    if (l == 0) { *w = 1.0; *d0 = 0.0; break; }
    double r = l / b, u = pow(r, a);
    *w = exp(-u);
    *d0 = -*w * u * log(r);
    *d1 = *w * u * a / b;
    break;
  }
  default: { /* Weibull density at x = l + 1: (shape / x) u exp(-u) */
    double x = l + 1.0, r = x / b, u = pow(r, a), e = exp(-u);
    *w = e == 0.0 ? 0.0 : a * u * e / x;
    *d0 = *w * (1.0 / a + log(r) * (1.0 - u));
    *d1 = *w * a * (u - 1.0) / b;
  }
  }
}

void hb_adstock_weights(int type, const double *par, int L, int normalize,
                        double *w, double *dw) {
  int np = hb_adstock_npar(type), m = L + 1;
  double s = 0.0, ds[2] = {0.0, 0.0}, d[2];
  for (int l = 0; l < m; l++) {
    lag_weight(type, par, l, w + l, d, d + 1);
    s += w[l];
    for (int p = 0; p < np; p++) {
      if (dw) dw[p * m + l] = d[p];
      ds[p] += d[p];
    }
  }
  if (!normalize) return;
  /* w / S has derivative (dw - (w / S) dS) / S */
  for (int l = 0; l < m; l++) w[l] /= s;
  if (dw)
    for (int p = 0; p < np; p++)
      for (int l = 0; l < m; l++)
        dw[p * m + l] = (dw[p * m + l] - w[l] * ds[p]) / s;
}

int hb_lag_convolve(const double *x, R_xlen_t n, const double *w, int L,
                    double *out) {
  if (L < 0) { /* callers check lags; never index before x or w */
    for (R_xlen_t t = 0; t < n; t++) out[t] = NA_REAL;
    return 1;
  }
  int bad = 0;
  R_xlen_t head = n < L ? n : L;
  for (R_xlen_t t = 0; t < head; t++) { /* fewer than L past values exist */
    bad |= HB_BAD_MEDIA(x[t]);
    double s = 0.0;
    for (R_xlen_t l = 0; l <= t; l++) s += w[l] * x[t - l];
    out[t] = s;
  }
  for (R_xlen_t t = head; t < n; t++) {
    bad |= HB_BAD_MEDIA(x[t]);
    const double *xt = x + t;
    double s = 0.0;
    for (int l = 0; l <= L; l++) s += w[l] * xt[-l];
    out[t] = s;
  }
  return bad;
}

/* Whether some x[i] is negative or not finite: a pass of its own, which
 * vectorizes, so that the recursions below carry no check per row. */
static HB_CLONES int any_bad_media(const double *x, R_xlen_t n) {
  int bad = 0;
#pragma omp simd reduction(|:bad)
  for (R_xlen_t i = 0; i < n; i++) bad |= HB_BAD_MEDIA(x[i]);
  return bad;
}

/* One panel's geometric recursion over n rows, continuing from the memory
 * *a (and its derivative in decay *da, with dout) carried over from the
 * rows before; c = 1 - decay when normalized, else 1. */
static void geometric_run(const double *x, R_xlen_t n, double decay, int normalize, double *out, double *dout,
                          double *a0, double *da0) {
  double a = *a0, c = normalize ? 1.0 - decay : 1.0;
  if (!dout) { /* the hot path: one dependent multiply-add per element */
    for (R_xlen_t t = 0; t < n; t++) {
      a = x[t] + decay * a;
      out[t] = c * a;
    }
    *a0 = a;
    return;
  }
  double da = *da0; /* d a[t] / d decay = a[t-1] + decay * d a[t-1] / d decay */
  for (R_xlen_t t = 0; t < n; t++) {
    da = a + decay * da;
    a = x[t] + decay * a;
    out[t] = c * a;
    dout[t] = normalize ? c * da - a : da;
  }
  *a0 = a;
  *da0 = da;
}

int hb_geometric_recursion(const double *x, R_xlen_t n, double decay,
                           int normalize, double *out, double *dout) {
  double a = 0.0, da = 0.0;
  geometric_run(x, n, decay, normalize, out, dout, &a, &da);
  return any_bad_media(x, n);
}

/* Panels that geometric_panels() advances together. */
#define HB_LANES 8

/* np <= HB_LANES panels starting at rows ps[0 .. np) over their first len
 * rows, in lockstep: the panels' recursions are independent, so the
 * processor overlaps them instead of waiting on one multiply-add chain per
 * row (the latency that bounds geometric_run()). The operations on each
 * row are geometric_run()'s: identical results. */
static HB_ALWAYS_INLINE void lockstep_rows(const double *x, const R_xlen_t *ps, int np, R_xlen_t len,
                                            double decay, int normalize, double *out, double *dout, double *a0,
                                            double *da0) {
  const double c = normalize ? 1.0 - decay : 1.0;
  double a[HB_LANES] = {0.0}, da[HB_LANES] = {0.0}; /* registers when np is a constant and the loops unroll */
  HB_UNROLL_8
  for (int k = 0; k < np; k++) {
    a[k] = a0[k];
    da[k] = da0[k];
  }
  if (!dout) {
    for (R_xlen_t t = 0; t < len; t++) {
      HB_UNROLL_8
      for (int k = 0; k < np; k++) {
        const R_xlen_t i = ps[k] + t;
        a[k] = x[i] + decay * a[k];
        out[i] = c * a[k];
      }
    }
  } else {
    for (R_xlen_t t = 0; t < len; t++) {
      HB_UNROLL_8
      for (int k = 0; k < np; k++) {
        const R_xlen_t i = ps[k] + t;
        da[k] = a[k] + decay * da[k];
        a[k] = x[i] + decay * a[k];
        out[i] = c * a[k];
        dout[i] = normalize ? c * da[k] - a[k] : da[k];
      }
    }
  }
  HB_UNROLL_8
  for (int k = 0; k < np; k++) {
    a0[k] = a[k];
    da0[k] = da[k];
  }
}

static void geometric_lockstep(const double *x, const R_xlen_t *ps, int np, R_xlen_t len, double decay,
                               int normalize, double *out, double *dout, double *a, double *da) {
  if (np == HB_LANES) lockstep_rows(x, ps, HB_LANES, len, decay, normalize, out, dout, a, da);
  else lockstep_rows(x, ps, np, len, decay, normalize, out, dout, a, da);
}

void hb_geometric_panels(const double *x, const R_xlen_t *pstart, int npanel, const int *tpos, double decay,
                         int normalize, double *out, double *dout) {
  if (tpos) { /* gaps: per panel */
    for (int k = 0; k < npanel; k++) {
      const R_xlen_t s = pstart[k];
      hb_geometric_recursion_at(x + s, tpos + s, pstart[k + 1] - s, decay, normalize, out + s,
                                dout ? dout + s : NULL);
    }
    return;
  }
  for (int k0 = 0; k0 < npanel; k0 += HB_LANES) {
    const R_xlen_t *ps = pstart + k0;
    const int np = npanel - k0 < HB_LANES ? npanel - k0 : HB_LANES;
    R_xlen_t len = ps[1] - ps[0];
    for (int k = 1; k < np; k++)
      if (ps[k + 1] - ps[k] < len) len = ps[k + 1] - ps[k];
    double a[HB_LANES] = {0.0}, da[HB_LANES] = {0.0};
    geometric_lockstep(x, ps, np, len, decay, normalize, out, dout, a, da);
    for (int k = 0; k < np; k++) { /* the longer panels' remaining rows */
      const R_xlen_t s = ps[k] + len;
      geometric_run(x + s, ps[k + 1] - s, decay, normalize, out + s, dout ? dout + s : NULL, a + k, da + k);
    }
  }
}

int hb_lag_convolve_at(const double *x, const int *tpos, R_xlen_t n,
                       const double *w, int L, double *out) {
  if (!tpos || L < 0) return hb_lag_convolve(x, n, w, L, out);
  int bad = 0;
  for (R_xlen_t t = 0; t < n; t++) {
    bad |= HB_BAD_MEDIA(x[t]);
    double s = 0.0;
    for (R_xlen_t j = t; j >= 0; j--) {
      double d = (double) tpos[t] - tpos[j]; /* lag in periods, >= t - j */
      if (d > L) break;
      s += w[(int) d] * x[j];
    }
    out[t] = s;
  }
  return bad;
}

int hb_geometric_recursion_at(const double *x, const int *tpos, R_xlen_t n,
                              double decay, int normalize, double *out,
                              double *dout) {
  if (!tpos) return hb_geometric_recursion(x, n, decay, normalize, out, dout);
  int bad = 0;
  double a = 0.0, da = 0.0, c = normalize ? 1.0 - decay : 1.0;
  for (R_xlen_t t = 0; t < n; t++) {
    double v = x[t], gap = t ? (double) tpos[t] - tpos[t - 1] : 1.0;
    /* over a gap of k periods the memory is multiplied by decay^k */
    double f = gap == 1.0 ? decay : pow(decay, gap);
    double df = gap == 1.0 ? 1.0 : gap * pow(decay, gap - 1.0);
    bad |= HB_BAD_MEDIA(v);
    da = df * a + f * da;
    a = v + f * a;
    out[t] = c * a;
    if (dout) dout[t] = normalize ? c * da - a : da;
  }
  return bad;
}

/* One row of the Hill curve at v > 0 with libm: y = x^s / (x^s + h^s) =
 * 1 / (1 + r), r = exp(s (log h - log x)), q = y (1 - y) = r y^2 (no
 * cancellation; 0 when r overflows), lx = log v. The reference that
 * hill_rows() falls back on outside the domain of its vectorized log and
 * exp. */
static double hill_libm(double v, double s, double lh, double *q, double *lx) {
  *lx = log(v);
  double r = exp(s * (lh - *lx)), y = 1.0 / (1.0 + r);
  *q = isfinite(r) ? r * y * y : 0.0;
  return y;
}

/* Whether row value v takes the vectorized path of hill_rows(): not
 * positive (the curve is 0 there), or a normal number whose exponent
 * s (log h - log v) is within hb_exp_ratio()'s domain. Bitwise & and | rather
 * than && and ||: no conditionally evaluated comparison, so that the
 * compiler can turn the row into branch-free vector code (it does not
 * speculate a comparison that may raise a floating-point exception). */
static HB_ALWAYS_INLINE int hill_fast(double v, double s, double lh, double lx) {
  return ((v > 0.0) == 0) | ((v >= DBL_MIN) & (v <= DBL_MAX) & (fabs(s * (lh - lx)) <= 708.0));
}

/* One row of hill_rows()'s vectorized pass: y and q as hill_libm(), with
 * inline log and exp; *lx = log x. Outside hill_fast() the values are
 * meaningless but harmless (integer arithmetic on the bits, floating-point
 * results that may be infinite or NaN: no undefined behaviour). Neither the
 * input nor the exponent is replaced by a safe value there: the compiler
 * would then specialize the row for it and leave a branch that keeps the
 * loop scalar. */
static HB_ALWAYS_INLINE double hill_inline(double v, double s, double lh, double *q, double *lx) {
  *lx = hb_log_pos(v);
  /* r = num / den: y = den / (den + num), q = r y^2 = y num / (den + num),
   * one division for both */
  double num, den;
  hb_exp_ratio(s * (lh - *lx), &num, &den);
  const double inv = 1.0 / (den + num), y = den * inv;
  *q = y * num * inv;
  return y;
}

/* Rows per chunk of hill_rows(): an in-place call copies its chunk of
 * input first, because the libm pass needs the inputs of its rows after the
 * vectorized pass has written the outputs. */
#define HB_HILL_CHUNK 256

/* The Hill curve at h = par[0], s = par[1] on n rows, with d0 (NULL: no
 * derivatives), d1, d2 its derivatives in h, s and x. One pass with inline
 * log and exp that the compiler vectorizes (every value computed, then
 * selected: no branch); rows outside their domain (subnormal or infinite
 * input, |s (log h - log x)| > 708: a steep curve far from its
 * half-saturation) are redone with libm afterwards, chunk by chunk. At
 * x <= 0 (and NaN) the curve and its parameter derivatives are 0. The
 * second pass re-decides hill_fast() from scalar code, which may round
 * log x differently from the vector code: harmless, since hb_exp_ratio()
 * still holds a little beyond 708. out may be x (in place). Returns
 * whether some input is negative or not finite. */
static HB_CLONES_WIDE int hill_rows(double h, double s, const double *x, R_xlen_t n, double *out,
                                    double *restrict d0, double *restrict d1, double *restrict d2) {
  int bad = 0;
  const double lh = log(h), sh = -s / h;
  const double dx0 = s > 1.0 ? 0.0 : (s == 1.0 ? 1.0 / h : R_PosInf); /* d / dx at 0 */
  double in[HB_HILL_CHUNK];
  for (R_xlen_t i0 = 0; i0 < n; i0 += HB_HILL_CHUNK) {
    const R_xlen_t len = n - i0 < HB_HILL_CHUNK ? n - i0 : HB_HILL_CHUNK;
    const double *xc = x + i0;
    if (out == x) {
      memcpy(in, xc, sizeof(double) * (size_t) len);
      xc = in;
    }
    double *oc = out + i0;
    int slow = 0;
    if (!d0) {
#pragma omp simd reduction(|:bad, slow)
      for (R_xlen_t i = 0; i < len; i++) {
        const double v = xc[i];
        double q, lx, y = hill_inline(v, s, lh, &q, &lx);
        bad |= HB_BAD_MEDIA(v);
        slow |= !hill_fast(v, s, lh, lx);
        oc[i] = hb_select(v > 0.0, y, 0.0);
      }
    } else {
      double *restrict e0 = d0 + i0, *restrict e1 = d1 + i0, *restrict e2 = d2 + i0;
#pragma omp simd reduction(|:bad, slow)
      for (R_xlen_t i = 0; i < len; i++) {
        const double v = xc[i];
        double q, lx, y = hill_inline(v, s, lh, &q, &lx);
        bad |= HB_BAD_MEDIA(v);
        slow |= !hill_fast(v, s, lh, lx);
        const int pos = v > 0.0;
        const double dh = sh * q, ds = q * (lx - lh), dx = s * q / v;
        oc[i] = hb_select(pos, y, 0.0);
        e0[i] = hb_select(pos, dh, 0.0);
        e1[i] = hb_select(pos, ds, 0.0);
        e2[i] = hb_select(pos, dx, dx0);
      }
    }
    if (!slow) continue;
    for (R_xlen_t i = 0; i < len; i++) {
      const double v = xc[i];
      double q, lx;
      hill_inline(v, s, lh, &q, &lx);
      if (hill_fast(v, s, lh, lx)) continue;
      oc[i] = hill_libm(v, s, lh, &q, &lx);
      if (!d0) continue;
      d0[i0 + i] = sh * q;
      d1[i0 + i] = q * (lx - lh);
      d2[i0 + i] = s * q / v;
    }
  }
  return bad;
}

static int hill(const double *par, const double *x, R_xlen_t n, double *out,
                double **dout) {
  return hill_rows(par[0], par[1], x, n, out, dout ? dout[0] : NULL, dout ? dout[1] : NULL, dout ? dout[2] : NULL);
}

static int logistic(const double *par, const double *x, R_xlen_t n,
                    double *out, double **dout) {
  int bad = 0;
  const double lam = par[0];
  for (R_xlen_t i = 0; i < n; i++) {
    double v = x[i];
    bad |= HB_BAD_MEDIA(v);
    double e = exp(-lam * v), g = 1.0 + e;
    out[i] = (1.0 - e) / g;
    if (dout) { /* d tanh(u / 2) = 2 e / (1 + e)^2 du, no cancellation */
      double k = 2.0 * e / (g * g);
      dout[0][i] = v * k;
      dout[1][i] = lam * k;
    }
  }
  return bad;
}

static int michaelis_menten(const double *par, const double *x, R_xlen_t n,
                            double *out, double **dout) {
  int bad = 0;
  const double vmax = par[0], k = par[1];
  for (R_xlen_t i = 0; i < n; i++) {
    double v = x[i];
    bad |= HB_BAD_MEDIA(v);
    double g = 1.0 / (k + v);
    out[i] = vmax * v * g;
    if (dout) {
      dout[0][i] = v * g;
      dout[1][i] = -vmax * v * g * g;
      dout[2][i] = vmax * k * g * g;
    }
  }
  return bad;
}

/* Component k of a mixture with weight wk: out += wk yk, its derivatives
 * in h_k and s_k (dh, ds) times wk, and, with dxk, dx += wk dxk. */
static HB_CLONES void mixture_add(double wk, const double *restrict yk, double *restrict dh, double *restrict ds,
                                  const double *restrict dxk, double *restrict out, double *restrict dx, R_xlen_t n) {
#pragma omp simd
  for (R_xlen_t i = 0; i < n; i++) {
    out[i] += wk * yk[i];
    dh[i] *= wk;
    ds[i] *= wk;
  }
  if (!dxk) return;
#pragma omp simd
  for (R_xlen_t i = 0; i < n; i++) dx[i] += wk * dxk[i];
}

/* Mixture of Hill curves sum_k w_k Hill(x; h_k, s_k), par = (h_1..h_K,
 * s_1..s_K, w_1..w_K): each component is the Hill kernel above, never a copy
 * of it. dout (may be NULL): 3K + 1 arrays, d / d h_k at k, d / d s_k at
 * K + k, d / d w_k (the component's own curve) at 2K + k, then d / d x.
 * tmp: n doubles of scratch. */
int hb_saturation_mixture(int K, const double *par, const double *x, R_xlen_t n,
                          double *out, double **dout, double *tmp) {
  int bad = 0;
  const double *w = par + 2 * K;
  memset(out, 0, sizeof(double) * n);
  if (dout) memset(dout[3 * K], 0, sizeof(double) * n);
  for (int k = 0; k < K; k++) {
    double hp[2] = {par[k], par[K + k]};
    if (!dout) {
      bad |= hill(hp, x, n, tmp, NULL);
      if (w[k] != 0.0) hb_axpy(w[k], tmp, out, n);
      continue;
    }
    double *dk[3] = {dout[k], dout[K + k], tmp};
    bad |= hill(hp, x, n, dout[2 * K + k], dk);
    /* an infinite slope at zero spend (s < 1) counts only when the
     * component has weight */
    mixture_add(w[k], dout[2 * K + k], dk[0], dk[1], w[k] != 0.0 ? tmp : NULL, out, dout[3 * K], n);
  }
  return bad;
}

const char *hb_mixture_par_invalid(int K, const double *par, char *msg, size_t msglen) {
  char num[32];
  static const char *names[3] = {"halfsat", "slope", "weight"};
  double sw = 0.0;
  for (int a = 0; a < 3 * K; a++) {
    double v = par[a];
    int ok = a < 2 * K ? pos_finite(v) : (v >= 0.0 && v <= 1.0);
    if (!ok) {
      snprintf(msg, msglen, "must be %s; found %s (component %d)",
               a < 2 * K ? "positive and finite" : "in [0, 1]", hb_fmt_num(v, num, sizeof num), a % K + 1);
      return names[a / K];
    }
    if (a >= 2 * K) sw += v;
  }
  if (!(fabs(sw - 1.0) <= 1e-6)) {
    snprintf(msg, msglen, "must sum to 1 over the components; found a sum of %s", hb_fmt_num(sw, num, sizeof num));
    return "weight";
  }
  return NULL;
}

int hb_saturation(int type, const double *par, const double *x, R_xlen_t n,
                  double *out, double **dout) {
  switch (type) {
  case HB_SAT_HILL: return hill(par, x, n, out, dout);
  case HB_SAT_LOGISTIC: return logistic(par, x, n, out, dout);
  default: return michaelis_menten(par, x, n, out, dout);
  }
}
