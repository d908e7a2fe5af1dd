/* Streaming summaries of many parameters, so that individual-level draws need
 * not be stored: running mean and sd (Welford) and streaming quantiles
 * (P-square, Jain and Chlamtac 1985).
 *
 * Pure C, no allocation: the caller owns every array (R_alloc, or a workspace
 * of the sampler) and the small structs that point into them. An update takes
 * the m current values of the parameters as one contiguous vector. */
#include <limits.h>
#include <math.h>
#include <string.h>
#include "hbmmm.h"

/* ---- Welford running moments ------------------------------------------- */

/* mean, m2: caller-owned arrays of length m, zeroed here. Memory: 16 bytes
 * per parameter. */
void hb_moments_init(hb_moments_t *acc, R_xlen_t m, double *mean, double *m2) {
  acc->m = m;
  acc->n = 0;
  acc->mean = mean;
  acc->m2 = m2;
  if (m > 0) {
    memset(mean, 0, (size_t) m * sizeof(double));
    memset(m2, 0, (size_t) m * sizeof(double));
  }
}

/* One draw x[0 .. m). A NaN makes that parameter's mean and sd NaN. */
void hb_moments_update(hb_moments_t *acc, const double *x) {
  double n = (double) ++acc->n, *mean = acc->mean, *m2 = acc->m2;
  for (R_xlen_t i = 0; i < acc->m; i++) {
    double delta = x[i] - mean[i];
    mean[i] += delta / n;
    m2[i] += delta * (x[i] - mean[i]);
  }
}

/* mean (may be NULL) and sd (may be NULL), length m; sd uses the n - 1
 * denominator, like stats::sd(). With no draws both are NA; with one draw sd
 * is NA. mean may alias acc->mean and sd may alias acc->m2 (the accumulator
 * is then spent). */
void hb_moments_finalize(const hb_moments_t *acc, double *mean, double *sd) {
  R_xlen_t n = acc->n;
  for (R_xlen_t i = 0; i < acc->m; i++) {
    if (mean) mean[i] = n > 0 ? acc->mean[i] : NA_REAL;
    if (sd) sd[i] = n > 1 ? sqrt(acc->m2[i] / (double) (n - 1)) : NA_REAL;
  }
}

/* ---- P-square streaming quantiles -------------------------------------- */

/* Layout: one block per (parameter j, probability k), block b = j * nprob + k,
 * parameter-major so that one parameter's blocks are adjacent.
 *   q[5 b .. 5 b + 5): marker heights q0 <= ... <= q4 (q0 = running min,
 *     q4 = running max, q2 = the estimate). While fewer than 5 draws have
 *     been seen, q[5 b .. 5 b + n) holds them, sorted.
 *   pos[3 b .. 3 b + 3): positions (1-based ranks) of markers 1..3. Marker 0
 *     is always at 1 and marker 4 at n, so they are not stored. The desired
 *     positions depend only on n and p (1 + (n - 1) p / 2, 1 + (n - 1) p,
 *     1 + (n - 1) (1 + p) / 2), so they are not stored either.
 * Memory: 5 doubles + 3 ints = 52 bytes per parameter and probability (104
 * bytes per parameter for the usual pair 0.025, 0.975). At most INT_MAX
 * draws. */

/* prob: nprob values in (0, 1), caller-owned, must outlive the accumulator.
 * q: length 5 m nprob; pos: length 3 m nprob. */
void hb_psquare_init(hb_psquare_t *acc, R_xlen_t m, int nprob, const double *prob,
                     double *q, int *pos) {
  acc->m = m;
  acc->nprob = nprob;
  acc->prob = prob;
  acc->n = 0;
  acc->q = q;
  acc->pos = pos;
  size_t nb = (size_t) m * (size_t) (nprob > 0 ? nprob : 0);
  if (nb > 0) {
    memset(q, 0, 5 * nb * sizeof(double));
    for (size_t b = 0; b < 3 * nb; b++) pos[b] = 0;
  }
}

/* One step of P-square on block (q, np) for a new value x; N is the count
 * including x (N >= 6), d1..d3 the desired positions of markers 1..3. */
static void psquare_step(double *q, int *np, double x, int N, const double *dp) {
  if (ISNAN(x)) { /* sticky: the estimate stays NaN from here on */
    for (int i = 0; i < 5; i++) q[i] = NAN;
    return;
  }
  int n[5] = {1, np[0], np[1], np[2], N - 1}, k;
  if (x < q[0]) {
    q[0] = x;
    k = 0;
  } else if (x >= q[4]) {
    q[4] = x;
    k = 3;
  } else { /* q[k] <= x < q[k + 1] */
    k = 0;
    while (k < 3 && x >= q[k + 1]) k++;
  }
  for (int i = k + 1; i < 5; i++) n[i]++;
  for (int i = 1; i <= 3; i++) {
    double dd = dp[i - 1] - n[i];
    int s;
    if (dd >= 1.0 && n[i + 1] - n[i] > 1) s = 1;
    else if (dd <= -1.0 && n[i - 1] - n[i] < -1) s = -1;
    else continue;
    /* piecewise-parabolic prediction; linear if it leaves (q[i-1], q[i+1]) */
    double ni = n[i], nl = n[i - 1], nr = n[i + 1];
    double qp = q[i] + s / (nr - nl) *
      ((ni - nl + s) * (q[i + 1] - q[i]) / (nr - ni) +
       (nr - ni - s) * (q[i] - q[i - 1]) / (ni - nl));
    if (q[i - 1] < qp && qp < q[i + 1]) q[i] = qp;
    else q[i] += s * (q[i + s] - q[i]) / (double) (n[i + s] - n[i]);
    n[i] += s;
  }
  np[0] = n[1];
  np[1] = n[2];
  np[2] = n[3];
}

/* One draw x[0 .. m). Finite values expected; a NaN makes that parameter's
 * quantiles NaN from then on; +-Inf give no out-of-range access but
 * meaningless (possibly NaN) estimates. */
void hb_psquare_update(hb_psquare_t *acc, const double *x) {
  R_xlen_t n = acc->n, m = acc->m;
  int K = acc->nprob;
  if (K <= 0 || n >= INT_MAX) return;
  if (n < 5) { /* store the first five draws, sorted by insertion */
    for (R_xlen_t j = 0; j < m; j++) {
      for (int k = 0; k < K; k++) {
        double *q = acc->q + 5 * ((size_t) j * K + k);
        R_xlen_t i = n;
        while (i > 0 && q[i - 1] > x[j]) {
          q[i] = q[i - 1];
          i--;
        }
        q[i] = x[j];
        if (n == 4) {
          int *np = acc->pos + 3 * ((size_t) j * K + k);
          int has_nan = 0;
          for (int r = 0; r < 5; r++) has_nan |= ISNAN(q[r]);
          if (has_nan) /* sticky NaN, as in psquare_step */
            for (int r = 0; r < 5; r++) q[r] = NAN;
          np[0] = 2;
          np[1] = 3;
          np[2] = 4;
        }
      }
    }
    acc->n = n + 1;
    return;
  }
  int N = (int) n + 1;
  for (int k = 0; k < K; k++) {
    /* desired positions are common to all parameters */
    double p = acc->prob[k], dp[3];
    dp[0] = 1.0 + (N - 1) * p / 2.0;
    dp[1] = 1.0 + (N - 1) * p;
    dp[2] = 1.0 + (N - 1) * (1.0 + p) / 2.0;
    for (R_xlen_t j = 0; j < m; j++) {
      size_t b = (size_t) j * K + k;
      psquare_step(acc->q + 5 * b, acc->pos + 3 * b, x[j], N, dp);
    }
  }
  acc->n = N;
}

/* out: m x nprob, column-major (out[j + k m] for parameter j, probability k).
 * n = 0: NA. 1 <= n <= 5: the exact sample quantile of the stored draws, as
 * quantile(x, p, type = 7) computes it. n > 5: the P-square estimate (the
 * middle marker). */
void hb_psquare_result(const hb_psquare_t *acc, double *out) {
  R_xlen_t n = acc->n, m = acc->m;
  int K = acc->nprob;
  for (int k = 0; k < K; k++) {
    double p = acc->prob[k];
    /* type 7: index h = 1 + (n - 1) p between order statistics lo and hi */
    double h = (n > 0 ? (double) (n - 1) : 0.0) * p;
    R_xlen_t lo = (R_xlen_t) floor(h), hi = (R_xlen_t) ceil(h);
    double f = h - (double) lo;
    for (R_xlen_t j = 0; j < m; j++) {
      const double *q = acc->q + 5 * ((size_t) j * K + k);
      double v;
      if (n == 0) v = NA_REAL;
      else if (n > 5) v = q[2];
      else {
        int has_nan = 0;
        for (R_xlen_t i = 0; i < n; i++) has_nan |= ISNAN(q[i]);
        v = q[lo];
        if (has_nan) v = NAN;
        else if (f > 0.0 && q[hi] != v) v = (1.0 - f) * v + f * q[hi];
      }
      out[j + (size_t) k * m] = v;
    }
  }
}

/* ---- range tracking and fixed-bin histograms ------------------------------
 * Quantiles from a histogram per parameter, with the range set before the
 * draws arrive (from the second half of warmup, widened). On autocorrelated MCMC
 * draws this is far more accurate than P-square, whose markers drift with
 * the chain; with 128 bins over three times the warmup range, the error is a small
 * fraction of a bin after interpolation. Memory: 4 bytes per bin plus 32
 * bytes per parameter. */

void hb_range_init(R_xlen_t m, double *lo, double *hi) {
  for (R_xlen_t i = 0; i < m; i++) {
    lo[i] = R_PosInf;
    hi[i] = R_NegInf;
  }
}

void hb_range_update(R_xlen_t m, const double *x, double *lo, double *hi) {
  for (R_xlen_t i = 0; i < m; i++) {
    if (x[i] < lo[i]) lo[i] = x[i];
    if (x[i] > hi[i]) hi[i] = x[i];
  }
}

/* lo, hi: the observed range of each parameter (overwritten by the bin
 * range: widened by the whole range on each side). counts: m * nb ints. */
void hb_hist_init(hb_hist_t *h, R_xlen_t m, int nb, double *lo, double *hi, int *counts,
                  double *xmin, double *xmax) {
  h->m = m;
  h->nb = nb;
  h->n = 0;
  h->lo = lo;
  h->width = hi;
  h->counts = counts;
  h->xmin = xmin;
  h->xmax = xmax;
  memset(counts, 0, sizeof(int) * (size_t) m * nb);
  for (R_xlen_t i = 0; i < m; i++) {
    double a = lo[i], b = hi[i];
    if (!R_FINITE(a) || !R_FINITE(b)) a = b = 0.0;
    double r = b - a, pad = r > 0 ? r : (fabs(a) > 0 ? fabs(a) : 1.0);
    lo[i] = a - pad;
    hi[i] = (b + pad - (a - pad)) / nb; /* the bin width, stored in place of hi */
    xmin[i] = R_PosInf;
    xmax[i] = R_NegInf;
  }
}

void hb_hist_update(hb_hist_t *h, const double *x) {
  h->n++;
  for (R_xlen_t i = 0; i < h->m; i++) {
    double v = x[i];
    if (ISNAN(v)) continue;
    double t = (v - h->lo[i]) / h->width[i];
    int b = t < 0 ? 0 : (t >= h->nb ? h->nb - 1 : (int) t);
    h->counts[i * h->nb + b]++;
    if (v < h->xmin[i]) h->xmin[i] = v;
    if (v > h->xmax[i]) h->xmax[i] = v;
  }
}

/* out[i + k m]: quantile prob[k] of parameter i, interpolating linearly
 * inside the bin that holds it; the outer edges of the first and last bins
 * are replaced by the observed extremes, which may lie beyond the range. */
void hb_hist_result(const hb_hist_t *h, int nprob, const double *prob, double *out) {
  for (R_xlen_t i = 0; i < h->m; i++) {
    const int *c = h->counts + i * h->nb;
    double total = 0.0;
    for (int b = 0; b < h->nb; b++) total += c[b];
    for (int k = 0; k < nprob; k++) {
      if (total == 0) {
        out[i + k * h->m] = NA_REAL;
        continue;
      }
      double target = prob[k] * total, cum = 0.0;
      int b = 0;
      while (b < h->nb - 1 && cum + c[b] < target) cum += c[b++];
      /* the edge bins also hold clamped values: their outer edge is the
       * observed extreme; inner bins are clipped to the observed range */
      double left = h->lo[i] + b * h->width[i], right = left + h->width[i];
      left = b == 0 ? h->xmin[i] : (left > h->xmin[i] ? left : h->xmin[i]);
      right = b == h->nb - 1 ? h->xmax[i] : (right < h->xmax[i] ? right : h->xmax[i]);
      double frac = c[b] > 0 ? (target - cum) / c[b] : 0.5;
      out[i + k * h->m] = left + frac * (right - left);
    }
  }
}
