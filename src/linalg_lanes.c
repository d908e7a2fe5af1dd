/* Batched small-matrix kernels over the levels of a grouping term.
 *
 * Why. The collapsed Gibbs sampler factorizes M_l = Sigma^-1 + H_l, a q x q
 * matrix per level l of its largest term (q <= 8 in practice: an intercept
 * and a few media slopes), about 80 times per sweep for every one of tens of
 * thousands of levels: once per Metropolis step on the term's covariance
 * and once per step on a channel's transforms. One small factorization at
 * a time is bound by the latency of its square roots and divisions and by
 * loop control, and took about 40% of a sweep at 1.2M rows. Here eight
 * levels go through the same arithmetic side by side, one per SIMD lane
 * (lane v of entry e at a[e * HB_LANES + v]), in an LDL' factorization
 * (no square roots; one reciprocal per pivot), with one log per level for
 * the determinant.
 *
 * Results do not depend on the number of threads: callers hand over fixed
 * ranges of levels, taken eight at a time from the range's start, and each
 * lane's sums are added in lane order at the end of a range. A level whose
 * pivot is not a normal positive number (DBL_MIN .. DBL_MAX) counts as not
 * positive definite: the caller rejects the state, as it does for a
 * failed Cholesky factor.
 *
 * Kernel layer: pure C, no R API, no allocation (callers pass the
 * workspace, hb_lanes_ws_size() doubles). */
#include <float.h>
#include <string.h>
#include "hbmmm.h"
#include "vmath.h"

#define LN HB_LANES

/* ---- gathering eight levels into lanes ---------------------------------- */

/* entries of a q x q lower triangle, packed column by column */
static HB_ALWAYS_INLINE int packed_size(const int q) { return q * (q + 1) / 2; }

/* pk (packed lower triangle, lanes) <- H_l for the levels l = l0 + v < l1,
 * zero in the lanes past l1 (masked out by the kernels) */
static HB_ALWAYS_INLINE void gather_packed(const hb_level_mats *lm, int l0, int l1, double *pk, const int q) {
  for (int v = 0; v < LN; v++) {
    const int l = l0 + v;
    const double *H = l < l1 ? lm->L + (ptrdiff_t) l * lm->stride + lm->hoff : NULL;
    int e = 0;
    HB_UNROLL_8
    for (int j = 0; j < q; j++) {
      HB_UNROLL_8
      for (int i = j; i < q; i++, e++) pk[e * LN + v] = H != NULL ? H[i + j * q] : 0.0;
    }
  }
}

/* a (q x q lanes, lower triangle) <- Sinv + the packed H of pk */
static HB_ALWAYS_INLINE void add_sinv(const double *Sinv, const double *restrict pk, double *restrict a, const int q) {
  int e = 0;
  HB_UNROLL_8
  for (int j = 0; j < q; j++) {
    HB_UNROLL_8
    for (int i = j; i < q; i++, e++) {
      const double s = Sinv[i + j * q];
      double *ae = a + (i + j * q) * LN;
      const double *pe = pk + e * LN;
#pragma omp simd
      for (int v = 0; v < LN; v++) ae[v] = s + pe[v];
    }
  }
}

/* w (q x m, lanes) <- column c of level l at offset col[c] of its block, zero past l1 */
static HB_ALWAYS_INLINE void gather_columns(const hb_level_mats *lm, const int *col, int m, int l0, int l1,
                                            double *w, const int q) {
  for (int v = 0; v < LN; v++) {
    const int l = l0 + v;
    const double *B = l < l1 ? lm->L + (ptrdiff_t) l * lm->stride : NULL;
    for (int c = 0; c < m; c++) {
      HB_UNROLL_8
      for (int i = 0; i < q; i++) w[(i + c * q) * LN + v] = B != NULL ? B[col[c] + i] : 0.0;
    }
  }
}

/* ---- the factorization ---------------------------------------------------- */

/* In place, per lane: A = L D L' with L unit lower triangular in A's strict
 * lower triangle, D on its diagonal, dinv[j] = 1 / D_jj; ld[v] += log det
 * A for the lanes v < nvalid (all when nvalid >= 8). Returns nonzero when some lane's pivot is
 * not in [DBL_MIN, DBL_MAX]. The lanes from nvalid on are padding (H = 0,
 * so they hold Sinv itself, positive definite in any valid state). */
static HB_ALWAYS_INLINE int ldl_lanes(double *restrict a, double *restrict dinv, double *restrict ld, int nvalid,
                                      const int q) {
  double prod[LN], lp[LN];
  for (int v = 0; v < LN; v++) prod[v] = 1.0;
  HB_UNROLL_8
  for (int j = 0; j < q; j++) {
    double *cj = a + (ptrdiff_t) j * q * LN, *dj = dinv + j * LN;
#pragma omp simd
    for (int v = 0; v < LN; v++) {
      dj[v] = 1.0 / cj[j * LN + v]; /* a bad pivot is caught below */
      prod[v] *= cj[j * LN + v];
    }
    HB_UNROLL_8
    for (int k = j + 1; k < q; k++) {
      double *ck = a + (ptrdiff_t) k * q * LN, lk[LN];
#pragma omp simd
      for (int v = 0; v < LN; v++) lk[v] = cj[k * LN + v] * dj[v];
      HB_UNROLL_8
      for (int i = k; i < q; i++) {
#pragma omp simd
        for (int v = 0; v < LN; v++) ck[i * LN + v] -= cj[i * LN + v] * lk[v];
      }
    }
    HB_UNROLL_8
    for (int i = j + 1; i < q; i++) {
#pragma omp simd
      for (int v = 0; v < LN; v++) cj[i * LN + v] *= dj[v];
    }
  }
  /* the pivots stay on the diagonal: every one must be a normal positive
   * number (a later pivot computed from a bad one is not, or is NaN) */
  for (int v = 0; v < LN; v++)
    for (int j = 0; j < q; j++) {
      const double d = a[(j + j * q) * LN + v];
      if (!(d >= DBL_MIN && d <= DBL_MAX)) return 1;
    }
  /* one log per level (vectorized: clamped into the normal range); a
   * product outside 1e-300 .. 1e300, possible only for extreme pivots,
   * takes a log per pivot instead */
#pragma omp simd
  for (int v = 0; v < LN; v++) {
    const double x = hb_select(prod[v] < 1e-300, 1e-300, prod[v]);
    lp[v] = hb_log_pos(hb_select(x > 1e300, 1e300, x));
  }
  for (int v = 0; v < nvalid && v < LN; v++) {
    if (prod[v] > 1e-300 && prod[v] < 1e300) {
      ld[v] += lp[v];
    } else {
      for (int j = 0; j < q; j++) ld[v] += log(a[(j + j * q) * LN + v]);
    }
  }
  return 0;
}

/* w <- L^-1 w for the m columns of w (q x m, lanes) */
static HB_ALWAYS_INLINE void forward_lanes(const double *restrict a, double *restrict w, int m, const int q) {
  for (int c = 0; c < m; c++) {
    double *wc = w + (ptrdiff_t) c * q * LN;
    HB_UNROLL_8
    for (int j = 0; j < q; j++) {
      const double *cj = a + (ptrdiff_t) j * q * LN;
      HB_UNROLL_8
      for (int i = j + 1; i < q; i++) {
#pragma omp simd
        for (int v = 0; v < LN; v++) wc[i * LN + v] -= cj[i * LN + v] * wc[j * LN + v];
      }
    }
  }
}

/* ---- the two reductions ------------------------------------------------------- */

/* one group of eight levels in the packed form of hb_lanes_pack(): their
 * packed H, then their b */
static HB_ALWAYS_INLINE ptrdiff_t group_size(const int q) { return (ptrdiff_t) (packed_size(q) + q) * LN; }

static HB_ALWAYS_INLINE void pack_loops(const hb_level_mats *lm, const double *Bv, int l0, int l1, double *pk,
                                        const int q) {
  for (int g0 = l0; g0 < l1; g0 += LN, pk += group_size(q)) {
    gather_packed(lm, g0, l1, pk, q);
    double *b = pk + packed_size(q) * LN;
    for (int v = 0; v < LN; v++) {
      HB_UNROLL_8
      for (int i = 0; i < q; i++) b[i * LN + v] = g0 + v < l1 ? Bv[(ptrdiff_t) (g0 + v) * q + i] : 0.0;
    }
  }
}

static HB_ALWAYS_INLINE int marginal_loops(const double *Sinv, const double *pk, int nlev, double *ws, double *out,
                                           const int q) {
  double *a = ws, *dinv = a + q * q * LN, *w = dinv + q * LN, acc[LN];
  for (int v = 0; v < LN; v++) acc[v] = 0.0;
  for (int g0 = 0; g0 < nlev; g0 += LN, pk += group_size(q)) {
    double ld[LN];
    const double *b = pk + packed_size(q) * LN;
    add_sinv(Sinv, pk, a, q);
    memcpy(w, b, sizeof(double) * q * LN);
    for (int v = 0; v < LN; v++) ld[v] = 0.0;
    if (ldl_lanes(a, dinv, ld, nlev - g0, q)) return 1;
    forward_lanes(a, w, 1, q);
    HB_UNROLL_8
    for (int j = 0; j < q; j++) {
#pragma omp simd
      for (int v = 0; v < LN; v++) acc[v] += w[j * LN + v] * w[j * LN + v] * dinv[j * LN + v];
    }
#pragma omp simd
    for (int v = 0; v < LN; v++) acc[v] -= ld[v];
  }
  double s = 0.0;
  for (int v = 0; v < LN; v++) s += acc[v];
  *out = 0.5 * s;
  return 0;
}

static HB_ALWAYS_INLINE int schur_loops(const hb_level_mats *lm, const int *col, int m, int l0, int l1,
                                        double *ws, double *G, double *ldsum, const int q) {
  double *a = ws, *dinv = a + q * q * LN, *w = dinv + q * LN, *gl = w + (ptrdiff_t) q * m * LN,
         *pk = gl + (ptrdiff_t) m * m * LN, ld[LN];
  memset(gl, 0, sizeof(double) * (size_t) m * m * LN);
  for (int v = 0; v < LN; v++) ld[v] = 0.0;
  for (int g0 = l0; g0 < l1; g0 += LN) {
    gather_packed(lm, g0, l1, pk, q);
    add_sinv(lm->Sinv, pk, a, q);
    gather_columns(lm, col, m, g0, l1, w, q);
    if (ldl_lanes(a, dinv, ld, l1 - g0, q)) return 1;
    forward_lanes(a, w, m, q);
    /* G += (L^-1 W)' D^-1 (L^-1 W), lower triangle, per lane */
    for (int c = 0; c < m; c++) {
      const double *wc = w + (ptrdiff_t) c * q * LN;
      double sc[8 * LN];
      HB_UNROLL_8
      for (int j = 0; j < q; j++) {
#pragma omp simd
        for (int v = 0; v < LN; v++) sc[j * LN + v] = wc[j * LN + v] * dinv[j * LN + v];
      }
      for (int b = c; b < m; b++) {
        const double *wb = w + (ptrdiff_t) b * q * LN;
        double *gb = gl + (ptrdiff_t) (b + c * m) * LN;
        HB_UNROLL_8
        for (int j = 0; j < q; j++) {
#pragma omp simd
          for (int v = 0; v < LN; v++) gb[v] += sc[j * LN + v] * wb[j * LN + v];
        }
      }
    }
  }
  for (int c = 0; c < m; c++)
    for (int b = c; b < m; b++) {
      const double *gb = gl + (ptrdiff_t) (b + c * m) * LN;
      double s = 0.0;
      for (int v = 0; v < LN; v++) s += gb[v];
      G[b + (ptrdiff_t) c * m] += s;
    }
  double s = 0.0;
  for (int v = 0; v < LN; v++) s += ld[v];
  *ldsum += s;
  return 0;
}

/* HB_SMALL_DIM_CASES (hbmmm.h) instantiates the kernels for q = d = 1..6,
 * whose loops then unroll, and once for any d (q <= 8: hb_lanes_fit()) */

int hb_lanes_fit(int q, int m) {
  return q >= 1 && q <= HB_LANE_QMAX && m >= 0 && m <= HB_LANE_MMAX;
}

size_t hb_lanes_ws_size(int q, int m) {
  return (size_t) HB_LANES * ((size_t) q * q + q + (size_t) q * (m > 1 ? m : 1) + (size_t) m * m + (size_t) q * q);
}

size_t hb_lanes_pack_size(int q, int nlev) {
  return (size_t) ((nlev + HB_LANES - 1) / HB_LANES) * HB_LANES * ((size_t) q * (q + 1) / 2 + q);
}

void hb_lanes_pack(const hb_level_mats *lm, const double *Bv, int l0, int l1, double *pk) {
  const int d = lm->q;
#define HB_CALL(dim) pack_loops(lm, Bv, l0, l1, pk, dim); return
  HB_SMALL_DIM_CASES(HB_CALL)
#undef HB_CALL
}

HB_CLONES_WIDE int hb_lanes_marginal(const double *Sinv, int d, const double *pk, int nlev, double *ws,
                                     double *out) {
#define HB_CALL(dim) return marginal_loops(Sinv, pk, nlev, ws, out, dim)
  HB_SMALL_DIM_CASES(HB_CALL)
#undef HB_CALL
}

HB_CLONES_WIDE int hb_lanes_schur(const hb_level_mats *lm, const int *col, int m, int l0, int l1, double *ws,
                                  double *G, double *ldsum) {
  const int d = lm->q;
#define HB_CALL(dim) return schur_loops(lm, col, m, l0, l1, ws, G, ldsum, dim)
  HB_SMALL_DIM_CASES(HB_CALL)
#undef HB_CALL
}
