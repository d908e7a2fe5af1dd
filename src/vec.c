/* Vector kernels for the samplers' row loops. The `omp simd` pragmas let the
 * compiler vectorize the reductions (OpenMP's SIMD directives only; no
 * threads), which plain -O2 does not do for floating-point sums. */
#include "hbmmm.h"
#include "vmath.h"

HB_CLONES double hb_dot(const double *a, const double *b, R_xlen_t n) {
  double s = 0.0;
#pragma omp simd reduction(+:s)
  for (R_xlen_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/* out[a] = sum_i x[i] c[a][i] for a < m. A single dot product waits on its
 * one accumulator every step (the add's latency); here up to four columns
 * share a pass over x, and their independent sums overlap. */
HB_CLONES double hb_wdot(const double *w, const double *a, const double *b, R_xlen_t n) {
  double s = 0.0;
#pragma omp simd reduction(+:s)
  for (R_xlen_t i = 0; i < n; i++) s += w[i] * a[i] * b[i];
  return s;
}

HB_CLONES void hb_dots(const double *x, const double *const *c, int m, R_xlen_t n, double *out) {
  int a = 0;
  for (; a + 4 <= m; a += 4) {
    const double *c0 = c[a], *c1 = c[a + 1], *c2 = c[a + 2], *c3 = c[a + 3];
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
#pragma omp simd reduction(+:s0, s1, s2, s3)
    for (R_xlen_t i = 0; i < n; i++) {
      s0 += x[i] * c0[i];
      s1 += x[i] * c1[i];
      s2 += x[i] * c2[i];
      s3 += x[i] * c3[i];
    }
    out[a] = s0;
    out[a + 1] = s1;
    out[a + 2] = s2;
    out[a + 3] = s3;
  }
  if (m - a == 3) {
    const double *c0 = c[a], *c1 = c[a + 1], *c2 = c[a + 2];
    double s0 = 0.0, s1 = 0.0, s2 = 0.0;
#pragma omp simd reduction(+:s0, s1, s2)
    for (R_xlen_t i = 0; i < n; i++) {
      s0 += x[i] * c0[i];
      s1 += x[i] * c1[i];
      s2 += x[i] * c2[i];
    }
    out[a] = s0;
    out[a + 1] = s1;
    out[a + 2] = s2;
    return;
  }
  if (m - a == 2) {
    const double *c0 = c[a], *c1 = c[a + 1];
    double s0 = 0.0, s1 = 0.0;
#pragma omp simd reduction(+:s0, s1)
    for (R_xlen_t i = 0; i < n; i++) {
      s0 += x[i] * c0[i];
      s1 += x[i] * c1[i];
    }
    out[a] = s0;
    out[a + 1] = s1;
    return;
  }
  if (a < m) out[a] = hb_dot(x, c[a], n);
}

HB_CLONES double hb_sum(const double *x, R_xlen_t n) {
  double s = 0.0;
#pragma omp simd reduction(+:s)
  for (R_xlen_t i = 0; i < n; i++) s += x[i];
  return s;
}

/* y += alpha x */
HB_CLONES void hb_axpy(double alpha, const double *x, double *y, R_xlen_t n) {
#pragma omp simd
  for (R_xlen_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

/* y += sum_a alpha[a] c[a], the columns added in order as by m calls of
 * hb_axpy() (same results), up to four per pass over y. */
HB_CLONES void hb_axpys(const double *alpha, const double *const *c, int m, R_xlen_t n, double *restrict y) {
  int a = 0;
  for (; a + 4 <= m; a += 4) {
    const double a0 = alpha[a], a1 = alpha[a + 1], a2 = alpha[a + 2], a3 = alpha[a + 3];
    const double *c0 = c[a], *c1 = c[a + 1], *c2 = c[a + 2], *c3 = c[a + 3];
#pragma omp simd
    for (R_xlen_t i = 0; i < n; i++) y[i] = y[i] + a0 * c0[i] + a1 * c1[i] + a2 * c2[i] + a3 * c3[i];
  }
  if (m - a >= 2) {
    const double a0 = alpha[a], a1 = alpha[a + 1];
    const double *c0 = c[a], *c1 = c[a + 1];
#pragma omp simd
    for (R_xlen_t i = 0; i < n; i++) y[i] = y[i] + a0 * c0[i] + a1 * c1[i];
    a += 2;
  }
  if (a < m) hb_axpy(alpha[a], c[a], y, n);
}

/* out = a * b, elementwise */
HB_CLONES void hb_vmul(const double *a, const double *b, double *out, R_xlen_t n) {
#pragma omp simd
  for (R_xlen_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}

/* out = a * b, elementwise, and 0 where a is 0 whatever b is (an infinite
 * slope times a zero derivative). hb_select() keeps the product
 * unconditional, so that the loop vectorizes. */
HB_CLONES void hb_vmul_nz(const double *a, const double *b, double *out, R_xlen_t n) {
#pragma omp simd
  for (R_xlen_t i = 0; i < n; i++) out[i] = hb_select(a[i] == 0.0, 0.0, a[i] * b[i]);
}

/* Whether every x[i] is finite: x * 0 is 0 for finite x and NaN for an
 * infinite or NaN one, so the sum is 0 exactly when all are finite (a
 * reduction that vectorizes, unlike a loop that stops at the first). */
HB_CLONES int hb_all_finite(const double *x, R_xlen_t n) {
  double s = 0.0;
#pragma omp simd reduction(+:s)
  for (R_xlen_t i = 0; i < n; i++) s += x[i] * 0.0;
  return s == 0.0;
}

/* Weighted cross-products of q columns over n rows: P (q x q, lower
 * triangle) += sum_i w_i z_ij z_il and b += sum_i z_ij wr_i, where the
 * caller passes wr_i = w_i r_i. px is scratch of length n. */
void hb_crossprod_acc(const double *const *z, int q, const double *w, const double *wr,
                      R_xlen_t n, double *P, double *b, double *px) {
  for (int j = 0; j < q; j++) {
    b[j] += hb_dot(z[j], wr, n);
    hb_vmul(w, z[j], px, n);
    for (int l = j; l < q; l++) P[l + j * q] += hb_dot(px, z[l], n);
  }
}

/* Weighted cross-products of q columns z against m columns x over n rows:
 * out[j + q a] += sum_i w_i z_j(i) x_a(i) for the pairs that `cols` asks
 * for: cols[a] = 2 for every j, 1 only for the j with rows[j] nonzero, 0
 * never. One call for the whole block, so that short runs of rows (a group
 * level's few rows) do not pay a call per pair. */
HB_CLONES void hb_gram_block(const double *const *z, int q, const double *const *x, int m, const double *w,
                             R_xlen_t n, const int *rows, const int *cols, double *out) {
  for (int j = 0; j < q; j++) {
    const double *zj = z[j];
    for (int a = 0; a < m; a++) {
      if (cols[a] == 0 || (cols[a] == 1 && !rows[j])) continue;
      const double *xa = x[a];
      double s = 0.0;
#pragma omp simd reduction(+:s)
      for (R_xlen_t i = 0; i < n; i++) s += w[i] * zj[i] * xa[i];
      out[j + (R_xlen_t) q * a] += s;
    }
  }
}
