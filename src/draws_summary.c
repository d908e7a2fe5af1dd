/* Posterior summaries and convergence diagnostics of many variables in one
 * pass: mean, sd, type-7 quantiles, rank-normalized split R-hat, bulk and
 * tail ESS and the MCSE of the mean, with the definitions of Vehtari et al.
 * (2021) as the posterior package implements them (summarise_draws_table()
 * in R/diagnostics.R is the R reference, and the tests hold both to
 * posterior).
 *
 * Per variable the work is three sorts (all draws; the folded draws; for an
 * odd number of iterations the split draws) and a few autocovariance
 * sums. Sorting is an LSD radix sort on order-preserving 64-bit keys, linear
 * in the draws; rank-normalized values come from one table of qnorm values
 * per call (ranks are multiples of 1/2); autocovariances are summed lag by
 * lag while Geyer's truncation is near (the usual case) and by FFT when it
 * is not. hb_ess_mean() gives the ESS of the mean alone, for many
 * quantities at once (relative efficiencies of PSIS-LOO). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <Rmath.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "hbmmm.h"

/* ---- sorting ---------------------------------------------------------- */

/* Order-preserving key: negative numbers have every bit flipped, others
 * the sign bit set, so unsigned order equals numeric order. */
static uint64_t sort_key(double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  return (u >> 63) ? ~u : (u | 0x8000000000000000ULL);
}

#define RADIX_BITS 11
#define RADIX_SIZE (1 << RADIX_BITS)

/* idx[0..n) = permutation sorting x ascending (stable). keys/tmp are
 * scratch of n elements each; cnt of RADIX_SIZE. */
static void radix_order(const double *x, int n, int *idx, uint64_t *keys,
                        uint64_t *ktmp, int *itmp, int *cnt) {
  for (int i = 0; i < n; i++) {
    keys[i] = sort_key(x[i]);
    idx[i] = i;
  }
  for (int shift = 0; shift < 64; shift += RADIX_BITS) {
    memset(cnt, 0, RADIX_SIZE * sizeof(int));
    for (int i = 0; i < n; i++) cnt[(keys[i] >> shift) & (RADIX_SIZE - 1)]++;
    /* a digit shared by every key does not reorder anything */
    if (cnt[(keys[0] >> shift) & (RADIX_SIZE - 1)] == n) continue;
    int pos = 0;
    for (int b = 0; b < RADIX_SIZE; b++) {
      int c = cnt[b];
      cnt[b] = pos;
      pos += c;
    }
    for (int i = 0; i < n; i++) {
      int b = (int) ((keys[i] >> shift) & (RADIX_SIZE - 1));
      ktmp[cnt[b]] = keys[i];
      itmp[cnt[b]++] = idx[i];
    }
    memcpy(keys, ktmp, (size_t) n * sizeof(uint64_t));
    memcpy(idx, itmp, (size_t) n * sizeof(int));
  }
}

/* ---- scratch ------------------------------------------------------------ */

typedef struct {
  int n, C, N;             /* iterations, chains, draws */
  int h, K, Ns;            /* split: iterations per half, halves, draws */
  const double *ztab;      /* qnorm((r/2 - 3/8) / (Ns + 1/4)), r = 2..2Ns */
  double *split, *vals, *z, *sorted, *rh, *yc, *fre, *fim, *pow, *tc, *ts;
  uint64_t *keys, *ktmp;
  int *idx, *sidx, *fidx, *itmp, *cnt, fft_len;
} ws_t;

/* ---- rank normalization and R-hat ---------------------------------------- */

/* z[i] = normal score of the average rank of x[i] among x[0..Ns), given
 * the ascending order `ord` of x. */
static void z_scale(const ws_t *w, const double *x, const int *ord, double *z) {
  int N = w->Ns;
  for (int s = 0; s < N;) {
    int e = s;
    while (e + 1 < N && x[ord[e + 1]] == x[ord[s]]) e++;
    /* positions s..e (0-based) share rank ((s + 1) + (e + 1)) / 2 */
    double zv = w->ztab[s + e];
    for (int i = s; i <= e; i++) z[ord[i]] = zv;
    s = e + 1;
  }
}

/* The ascending order of |x - med| from the ascending order `ord` of x:
 * distances fall to the left of the median and rise to its right, so the
 * two runs merge outward from it without another sort. */
static void fold_order(const double *x, const int *ord, int N, double med, int *out) {
  int right = 0;
  while (right < N && x[ord[right]] < med) right++;
  int left = right - 1;
  for (int k = 0; k < N; k++) {
    if (left < 0 || (right < N && x[ord[right]] - med <= med - x[ord[left]]))
      out[k] = ord[right++];
    else
      out[k] = ord[left--];
  }
}

/* Basic R-hat of an [h, K] array (between/within-chain variances). */
static double rhat_basic(const double *x, int h, int K, double *cm) {
  if (h < 2 || K < 2) return NA_REAL;
  double mm = 0.0, vw = 0.0, ssb = 0.0;
  for (int k = 0; k < K; k++) {
    const double *xk = x + (R_xlen_t) k * h;
    double m = 0.0, ss = 0.0;
    for (int i = 0; i < h; i++) m += xk[i];
    m /= h;
    for (int i = 0; i < h; i++) ss += (xk[i] - m) * (xk[i] - m);
    cm[k] = m;
    mm += m;
    vw += ss / (h - 1.0);
  }
  mm /= K;
  for (int k = 0; k < K; k++) ssb += (cm[k] - mm) * (cm[k] - mm);
  double var_between = h * ssb / (K - 1.0), var_within = vw / K;
  return sqrt((var_between / var_within + h - 1.0) / h);
}

/* ---- effective sample size ---------------------------------------------- */

/* In-place iterative radix-2 complex FFT of length m (a power of two);
 * sign -1 forward, +1 inverse (unscaled). tc/ts: cos and sin of 2 pi k / m,
 * k < m / 2, tabulated once per call. */
static void fft_inplace(double *re, double *im, int m, int sign, const double *tc,
                        const double *ts) {
  for (int i = 1, j = 0; i < m; i++) {
    int bit = m >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      double t = re[i]; re[i] = re[j]; re[j] = t;
      t = im[i]; im[i] = im[j]; im[j] = t;
    }
  }
  for (int len = 2; len <= m; len <<= 1) {
    int half = len / 2, step = m / len;
    for (int i = 0; i < m; i += len) {
      for (int k = 0; k < half; k++) {
        double wr = tc[k * step], wi = sign * ts[k * step];
        double *ar = re + i + k, *ai = im + i + k, *br = ar + half, *bi = ai + half;
        double tr = *br * wr - *bi * wi, ti = *br * wi + *bi * wr;
        *br = *ar - tr;
        *bi = *ai - ti;
        *ar += tr;
        *ai += ti;
      }
    }
  }
}

/* Chain-averaged biased autocovariances at lags 0..h-1 of the K centred
 * chains yc, by FFT with zero padding (no wrap-around). The power spectra
 * of all chains are summed and inverted once; two real chains share one
 * complex forward transform z = a + ib, since
 * |A_f|^2 + |B_f|^2 = (|Z_f|^2 + |Z_(m-f)|^2) / 2. */
static void acov_fft(ws_t *w, const double *yc, int h, int K, double *acov) {
  int m = w->fft_len;
  double *P = w->pow;
  memset(P, 0, sizeof(double) * (size_t) m);
  for (int k = 0; k < K; k += 2) {
    memset(w->fre, 0, sizeof(double) * (size_t) m);
    memset(w->fim, 0, sizeof(double) * (size_t) m);
    memcpy(w->fre, yc + (R_xlen_t) k * h, sizeof(double) * (size_t) h);
    if (k + 1 < K) memcpy(w->fim, yc + (R_xlen_t) (k + 1) * h, sizeof(double) * (size_t) h);
    fft_inplace(w->fre, w->fim, m, -1, w->tc, w->ts);
    for (int f = 0; f < m; f++) {
      int g = f ? m - f : 0;
      P[f] += (w->fre[f] * w->fre[f] + w->fim[f] * w->fim[f] +
               w->fre[g] * w->fre[g] + w->fim[g] * w->fim[g]) / 2;
    }
  }
  memcpy(w->fre, P, sizeof(double) * (size_t) m);
  memset(w->fim, 0, sizeof(double) * (size_t) m);
  fft_inplace(w->fre, w->fim, m, 1, w->tc, w->ts);
  for (int t = 0; t < h; t++) acov[t] = w->fre[t] / ((double) m * h * K);
}

static double acov_direct(const double *yc, int h, int K, int t) {
  double s = 0.0;
  for (int k = 0; k < K; k++) {
    const double *y = yc + (R_xlen_t) k * h;
    /* four partial sums: independent additions pipeline */
    double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
    int i = 0, end = h - t;
    for (; i + 3 < end; i += 4) {
      a0 += y[i] * y[i + t];
      a1 += y[i + 1] * y[i + 1 + t];
      a2 += y[i + 2] * y[i + 2 + t];
      a3 += y[i + 3] * y[i + 3 + t];
    }
    for (; i < end; i++) a0 += y[i] * y[i + t];
    s += ((a0 + a1) + (a2 + a3)) / h;
  }
  return s / K;
}

/* Lags summed directly before the FFT is the cheaper way (measured on
 * chains of 1,000 to 100,000 draws). */
static int direct_lags(int h) {
  int L = (int) ceil(4.0 * log2((double) h));
  return L > 16 ? L : 16;
}

/* ESS of an [h, K] array (posterior's .ess()); NA when fewer than 3
 * iterations or when the values are not usable (checked by the caller). */
static double ess_basic(ws_t *w, const double *x, int h, int K) {
  if (h < 3) return NA_REAL;
  double *yc = w->yc, *rh = w->rh, *cm = w->rh + h, *acov = w->rh + h + K;
  for (int k = 0; k < K; k++) {
    const double *xk = x + (R_xlen_t) k * h;
    double m = 0.0;
    for (int i = 0; i < h; i++) m += xk[i];
    m /= h;
    cm[k] = m;
    for (int i = 0; i < h; i++) yc[(R_xlen_t) k * h + i] = xk[i] - m;
  }
  double mean_var = acov_direct(yc, h, K, 0) * h / (h - 1.0);
  double var_plus = mean_var * (h - 1.0) / h;
  if (K > 1) {
    double gm = 0.0, ss = 0.0;
    for (int k = 0; k < K; k++) gm += cm[k];
    gm /= K;
    for (int k = 0; k < K; k++) ss += (cm[k] - gm) * (cm[k] - gm);
    var_plus += ss / (K - 1.0);
  }
  /* autocorrelations lag by lag while the truncation is near; past
   * direct_lags(), all of them at once by FFT */
  int use_fft = 0, L = direct_lags(h);
#define RHO(t) (1.0 - (mean_var - (use_fft ? acov[t] : acov_direct(yc, h, K, (t)))) / var_plus)
  memset(rh, 0, sizeof(double) * (size_t) h);
  int t = 0;
  double even = 1.0, odd = RHO(1);
  if (odd > 0.85 && L < h) { /* strongly autocorrelated: truncates late */
    acov_fft(w, yc, h, K, acov);
    use_fft = 1;
    odd = RHO(1);
  }
  rh[0] = even;
  rh[1] = odd;
  while (t < h - 5 && !ISNAN(even + odd) && even + odd > 0) {
    t += 2;
    if (!use_fft && t + 1 > L) {
      acov_fft(w, yc, h, K, acov);
      use_fft = 1;
    }
    even = RHO(t);
    odd = RHO(t + 1);
    if (even + odd >= 0) {
      rh[t] = even;
      rh[t + 1] = odd;
    }
  }
#undef RHO
  int max_t = t;
  if (even > 0) rh[max_t] = even;
  for (t = 2; t <= max_t - 2; t += 2) { /* initial monotone sequence */
    if (rh[t] + rh[t + 1] > rh[t - 2] + rh[t - 1]) {
      rh[t] = (rh[t - 2] + rh[t - 1]) / 2;
      rh[t + 1] = rh[t];
    }
  }
  double sum = 0.0;
  if (max_t == 0) sum = rh[0]; /* R's rho[1:0] is rho[1] */
  for (int i = 0; i < max_t; i++) sum += rh[i];
  double S = (double) K * h;
  double tau = -1.0 + 2.0 * sum + rh[max_t];
  double floor_tau = 1.0 / log10(S);
  return S / (tau > floor_tau ? tau : floor_tau);
}

/* ---- one variable ---------------------------------------------------------- */

/* Split chains [n, C] -> [h, 2C] (halves of each chain; the middle
 * iteration of an odd n dropped, as posterior does). */
static const double *split_chains(const ws_t *w, const double *x, double *out) {
  if (w->n == 1 || w->n % 2 == 0) return x; /* a reshape: same memory */
  for (int k = 0; k < w->C; k++) {
    const double *xk = x + (R_xlen_t) k * w->n;
    memcpy(out + (R_xlen_t) 2 * k * w->h, xk, sizeof(double) * (size_t) w->h);
    memcpy(out + (R_xlen_t) (2 * k + 1) * w->h, xk + w->h + 1, sizeof(double) * (size_t) w->h);
  }
  return out;
}

static double quantile7_sorted(const double *s, int N, double p) {
  double index = 1.0 + (N - 1) * p;
  int lo = (int) floor(index), hi = (int) ceil(index);
  double qs = s[lo - 1], xhi = s[hi - 1];
  double hh = index - lo;
  return (index > lo && xhi != qs) ? (1 - hh) * qs + hh * xhi : qs;
}

static int is_constant_range(const double *s, int N) {
  return fabs(s[N - 1] - s[0]) < DBL_EPSILON;
}

/* out[j * V + v]: column j of the result for variable v. */
static void summarise_one(ws_t *w, const double *x, const double *probs, int np,
                          double *out, int V, int v) {
  const int N = w->N;
  double *col[64];
  for (int j = 0; j < 6 + np; j++) col[j] = out + (R_xlen_t) j * V + v;
  int has_na = 0, finite = 1;
  double sum = 0.0;
  for (int i = 0; i < N; i++) {
    if (ISNAN(x[i])) has_na = 1;
    else if (!R_FINITE(x[i])) finite = 0;
    sum += x[i];
  }
  double mean = sum / N, ss = 0.0;
  for (int i = 0; i < N; i++) ss += (x[i] - mean) * (x[i] - mean);
  double sd = N > 1 ? sqrt(ss / (N - 1)) : NA_REAL;
  *col[0] = has_na ? NA_REAL : mean;
  *col[1] = has_na ? NA_REAL : sd;
  for (int j = 0; j < np + 4; j++) *col[2 + j] = NA_REAL;
  if (has_na) return;
  /* sorted draws: quantiles, median, constancy */
  double *s = w->sorted;
  radix_order(x, N, w->idx, w->keys, w->ktmp, w->itmp, w->cnt);
  for (int i = 0; i < N; i++) s[i] = x[w->idx[i]];
  for (int j = 0; j < np; j++) *col[2 + j] = quantile7_sorted(s, N, probs[j]);
  /* R-hat and bulk ESS need ranks that are not all tied (infinite draws
   * rank fine); tail ESS and MCSE also need finite, not nearly constant
   * draws (posterior's should_return_NA()) */
  if (s[N - 1] == s[0]) return;
  int usable = finite && !is_constant_range(s, N);
  const int h = w->h, K = w->K, Ns = w->Ns;
  double med = N % 2 ? s[N / 2] : s[N / 2 - 1] / 2 + s[N / 2] / 2;
  double q05 = quantile7_sorted(s, N, 0.05), q95 = quantile7_sorted(s, N, 0.95);

  /* split chains and their order (for an even n the same draws as x) */
  const double *xs = split_chains(w, x, w->split);
  const int *ord = w->idx;
  if (xs != x) {
    radix_order(xs, Ns, w->sidx, w->keys, w->ktmp, w->itmp, w->cnt);
    ord = w->sidx;
  }
  /* bulk: rank-normalized split draws */
  z_scale(w, xs, ord, w->z);
  double rb = rhat_basic(w->z, h, K, w->rh);
  *col[2 + np + 1] = ess_basic(w, w->z, h, K);
  /* folded: |x - median|, rank-normalized (NaN when x and the median are
   * the same infinity) */
  int fold_ok = 0;
  for (int i = 0; i < Ns; i++) {
    w->vals[i] = fabs(xs[i] - med);
    if (ISNAN(w->vals[i])) fold_ok = -1;
    else if (fold_ok == 0 && w->vals[i] != w->vals[0]) fold_ok = 1;
  }
  double rf = NA_REAL;
  if (fold_ok == 1) {
    fold_order(xs, ord, Ns, med, w->fidx);
    z_scale(w, w->vals, w->fidx, w->z);
    rf = rhat_basic(w->z, h, K, w->rh);
  }
  *col[2 + np] = (ISNAN(rb) || ISNAN(rf)) ? NA_REAL : (rb > rf ? rb : rf);
  if (!usable) return;
  /* tail: indicators of the 5% and 95% quantiles */
  double et = R_PosInf;
  const double qs[2] = {q05, q95};
  for (int j = 0; j < 2; j++) {
    int cnt = 0;
    for (int i = 0; i < Ns; i++) cnt += (w->vals[i] = xs[i] <= qs[j]);
    double e = (cnt > 0 && cnt < Ns) ? ess_basic(w, w->vals, h, K) : NA_REAL;
    if (ISNAN(e) || ISNAN(et)) et = NA_REAL;
    else if (e < et) et = e;
  }
  *col[2 + np + 2] = et;
  /* MCSE of the mean: ESS of the split draws themselves */
  double lo = xs[0], hi = xs[0];
  for (int i = 1; i < Ns; i++) {
    if (xs[i] < lo) lo = xs[i];
    if (xs[i] > hi) hi = xs[i];
  }
  double em = fabs(hi - lo) < DBL_EPSILON ? NA_REAL : ess_basic(w, xs, h, K);
  *col[2 + np + 3] = sd / sqrt(em);
}

/* Scratch for draws of n iterations x C chains (R_alloc'd); `ranks`: with
 * the table of normal scores. */
static ws_t workspace(int n, int C, int ranks) {
  ws_t w;
  int N = n * C;
  w.n = n; w.C = C; w.N = N;
  w.h = n == 1 ? 1 : n / 2;
  w.K = n == 1 ? C : 2 * C;
  w.Ns = w.h * w.K;
  int m = 1;
  while (m < 2 * w.h) m <<= 1;
  w.fft_len = m;
  double *ztab = (double *) R_alloc(ranks ? (size_t) 2 * w.Ns : 1, sizeof(double));
  for (int r = 0; ranks && r < 2 * w.Ns - 1; r++) /* average rank (r + 2) / 2 */
    ztab[r] = qnorm(((r + 2) / 2.0 - 0.375) / (w.Ns + 0.25), 0.0, 1.0, 1, 0);
  w.ztab = ztab;
  w.split = (double *) R_alloc((size_t) w.Ns, sizeof(double));
  w.vals = (double *) R_alloc((size_t) w.Ns, sizeof(double));
  w.z = (double *) R_alloc((size_t) w.Ns, sizeof(double));
  w.sorted = (double *) R_alloc((size_t) N, sizeof(double));
  w.rh = (double *) R_alloc((size_t) w.h * 2 + w.K + 1, sizeof(double));
  w.yc = (double *) R_alloc((size_t) w.Ns, sizeof(double));
  w.fre = (double *) R_alloc((size_t) m, sizeof(double));
  w.fim = (double *) R_alloc((size_t) m, sizeof(double));
  w.pow = (double *) R_alloc((size_t) m, sizeof(double));
  w.tc = (double *) R_alloc((size_t) m / 2 + 1, sizeof(double));
  w.ts = (double *) R_alloc((size_t) m / 2 + 1, sizeof(double));
  for (int k = 0; k < m / 2; k++) {
    w.tc[k] = cos(2.0 * M_PI * k / m);
    w.ts[k] = sin(2.0 * M_PI * k / m);
  }
  w.keys = (uint64_t *) R_alloc((size_t) N, sizeof(uint64_t));
  w.ktmp = (uint64_t *) R_alloc((size_t) N, sizeof(uint64_t));
  w.idx = (int *) R_alloc((size_t) N, sizeof(int));
  w.itmp = (int *) R_alloc((size_t) N, sizeof(int));
  w.sidx = (int *) R_alloc((size_t) w.Ns, sizeof(int));
  w.fidx = (int *) R_alloc((size_t) w.Ns, sizeof(int));
  w.cnt = (int *) R_alloc(RADIX_SIZE, sizeof(int));
  return w;
}

/* dims of a draws array [iterations >= 1, chains >= 1, variables >= 0]. */
static const int *read_dims(SEXP dims, SEXP draws) {
  hb_check_vector(dims, "dims", INTSXP, 3);
  const int *d = INTEGER(dims);
  for (int j = 0; j < 3; j++)
    if (d[j] == NA_INTEGER || d[j] < (j < 2 ? 1 : 0))
      hb_input_error("dims", "must be (iterations >= 1, chains >= 1, variables >= 0)");
  if ((double) d[0] * d[1] > 1e9)
    hb_input_error("dims", "must give at most 1e9 draws per variable");
  hb_check_vector(draws, "draws", REALSXP, (R_xlen_t) d[0] * d[1] * d[2]);
  return d;
}

/* The 0-based variables that `vars` (1-based, or NULL for all V) selects. */
static int *read_vars(SEXP vars, int V, int *nv) {
  if (Rf_isNull(vars)) {
    int *idx = (int *) R_alloc((size_t) V + 1, sizeof(int));
    for (int v = 0; v < V; v++) idx[v] = v;
    *nv = V;
    return idx;
  }
  hb_check_vector(vars, "vars", INTSXP, -1);
  const int *x = INTEGER(vars);
  *nv = LENGTH(vars);
  int *idx = (int *) R_alloc((size_t) *nv + 1, sizeof(int));
  for (int a = 0; a < *nv; a++) {
    if (x[a] == NA_INTEGER || x[a] < 1 || x[a] > V)
      hb_input_error("vars", "must be variable indices in 1..%d", V);
    idx[a] = x[a] - 1;
  }
  return idx;
}

/* draws: double array [n, C, V]; probs: quantile probabilities; vars: the
 * variables to summarise (1-based), NULL for all, so that a subset needs no
 * copy of its draws. Returns a length(vars) x (6 + length(probs)) matrix:
 * mean, sd, quantiles, rhat, ess_bulk, ess_tail, mcse_mean. */
SEXP hb_draws_summary(SEXP draws, SEXP dims, SEXP probs, SEXP vars) {
  const int *d = read_dims(dims, draws);
  const int n = d[0], C = d[1], N = n * C;
  int V;
  const int *vix = read_vars(vars, d[2], &V);
  hb_check_vector(probs, "probs", REALSXP, -1);
  int np = LENGTH(probs);
  if (np > 58) hb_input_error("probs", "must have at most 58 elements; found %d", np);
  const double *pr = REAL(probs);
  for (int j = 0; j < np; j++)
    if (!(pr[j] >= 0.0 && pr[j] <= 1.0))
      hb_input_error("probs", "must be probabilities in [0, 1]");

  /* variables are independent: a team of threads, each with its own
   * scratch, gives the same numbers as one thread */
  int nt = 1;
#ifdef _OPENMP
  nt = omp_get_max_threads();
  if ((double) N * V < 1e6) nt = 1; /* waking a team costs more than it saves */
  if (nt > V) nt = V > 0 ? V : 1;
#endif
  ws_t *w = (ws_t *) R_alloc((size_t) nt, sizeof(ws_t));
  for (int t = 0; t < nt; t++) {
    w[t] = workspace(n, C, t == 0);
    w[t].ztab = w[0].ztab; /* read-only: one table for the team */
  }
  SEXP out = PROTECT(Rf_allocMatrix(REALSXP, V, 6 + np));
  const double *x = REAL(draws);
  double *res = REAL(out);
  const int block = 64;
  for (int v0 = 0; v0 < V; v0 += block) {
    int v1 = v0 + block < V ? v0 + block : V;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
#endif
    for (int v = v0; v < v1; v++) {
      int th = 0;
#ifdef _OPENMP
      th = omp_get_thread_num();
#endif
      summarise_one(w + th, x + (R_xlen_t) vix[v] * N, pr, np, res, V, v);
    }
    R_CheckUserInterrupt();
  }
  UNPROTECT(1);
  return out;
}

/* ESS of the mean (split chains, not rank-normalized) of each variable of
 * draws [n, C, V]; NA where the draws are not finite or nearly constant. */
SEXP hb_ess_mean(SEXP draws, SEXP dims) {
  const int *d = read_dims(dims, draws);
  const int n = d[0], C = d[1], V = d[2], N = n * C;
  ws_t w = workspace(n, C, 0);
  SEXP out = PROTECT(Rf_allocVector(REALSXP, V));
  const double *x = REAL(draws);
  for (int v = 0; v < V; v++) {
    const double *xv = x + (R_xlen_t) v * N;
    const double *xs = split_chains(&w, xv, w.split);
    double lo = xs[0], hi = xs[0];
    int finite = 1;
    for (int i = 0; i < w.Ns; i++) {
      finite &= R_FINITE(xs[i]);
      if (xs[i] < lo) lo = xs[i];
      if (xs[i] > hi) hi = xs[i];
    }
    REAL(out)[v] = finite && fabs(hi - lo) >= DBL_EPSILON ? ess_basic(&w, xs, w.h, w.K) : NA_REAL;
    if (v % 64 == 63) R_CheckUserInterrupt();
  }
  UNPROTECT(1);
  return out;
}
