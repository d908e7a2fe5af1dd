/* Dense linear algebra and random draws shared by the samplers.
 *
 * Pure C kernels: no R objects, no allocation. Matrices are column-major,
 * A[i + j * d] is row i, column j. Callers pass every workspace.
 *
 * Small matrices (d < HB_LINALG_BLAS_MIN, the common case: random-effect
 * blocks of dimension 1..20 factorized ~10^5 times per iteration) use plain
 * loops, which beat a BLAS call at that size. Larger ones go to R's
 * LAPACK/BLAS (dpotrf, dtrsv, dpotri), which allocate nothing either.
 *
 * Thread safety: the deterministic kernels (hb_chol, solves, hb_log_det_chol,
 * hb_chol_inverse, hb_cov_to_sd_cor, hb_mvn_precision_mean) touch no global
 * state and may run inside OpenMP loops. The draw functions draw from their
 * generator (rng.h: a Gibbs chain's own, or R's stream when NULL, between
 * GetRNGstate() and PutRNGstate() of the caller): main thread only. */
#define USE_FC_LEN_T
#include <float.h>
#include <string.h>
#include <Rmath.h>
#include <R_ext/BLAS.h>
#include <R_ext/Lapack.h>
#include "hbmmm.h"
#ifndef FCONE
# define FCONE
#endif

/* from this dimension on, factorizations and solves use LAPACK/BLAS */
#define HB_LINALG_BLAS_MIN 64

/* ---- Cholesky factorization and triangular solves ---------------------- */

/* Small dimensions: the loops below are inlined once per dimension 1..4 (a
 * random-effect block of one to four columns, factorized and solved for
 * every group level in every sweep) and once for any d (HB_SMALL_DIM_CASES
 * in hbmmm.h), so that the compiler unrolls the common ones. Every instance
 * does the same arithmetic in the same order, so results do not depend on
 * which one runs. */
/* right-looking: finish column j, then update the trailing lower triangle
 * with it (inner loops run down contiguous columns) */
static HB_ALWAYS_INLINE int chol_loops(double *A, const int d) {
  HB_UNROLL
  for (int j = 0; j < d; j++) {
    double *cj = A + (size_t) j * d;
    double s = cj[j];
    if (!(s > 0.0 && s <= DBL_MAX)) return j + 1;
    double ljj = sqrt(s);
    cj[j] = ljj;
    HB_UNROLL
    for (int i = j + 1; i < d; i++) cj[i] /= ljj;
    HB_UNROLL
    for (int k = j + 1; k < d; k++) {
      double *ck = A + (size_t) k * d;
      double lkj = cj[k];
      HB_UNROLL
      for (int i = k; i < d; i++) ck[i] -= cj[i] * lkj;
    }
    HB_UNROLL
    for (int i = 0; i < j; i++) cj[i] = 0.0;
  }
  return 0;
}

static HB_ALWAYS_INLINE void trsv_lower_loops(const double *L, const int d, double *b) {
  HB_UNROLL
  for (int j = 0; j < d; j++) {
    const double *cj = L + (size_t) j * d;
    double bj = b[j] / cj[j];
    b[j] = bj;
    HB_UNROLL
    for (int i = j + 1; i < d; i++) b[i] -= cj[i] * bj;
  }
}

static HB_ALWAYS_INLINE void trsv_lower_t_loops(const double *L, const int d, double *b) {
  HB_UNROLL
  for (int j = d - 1; j >= 0; j--) {
    const double *cj = L + (size_t) j * d;
    double s = b[j];
    HB_UNROLL
    for (int i = j + 1; i < d; i++) s -= cj[i] * b[i];
    b[j] = s / cj[j];
  }
}

/* In place: on success the lower triangle (with the diagonal) holds L with
 * A = L L' and the strict upper triangle is set to zero, so the array is L
 * itself. Only the lower triangle of A is read. Returns 0 on success, or
 * j >= 1 when the leading minor of order j is not positive definite (or a
 * pivot is not finite); A is then partly overwritten. */
int hb_chol(double *A, int d) {
  if (d >= HB_LINALG_BLAS_MIN) {
    int info = 0;
    F77_CALL(dpotrf)("L", &d, A, &d, &info FCONE);
    if (info != 0) return info > 0 ? info : 1;
    for (int j = 1; j < d; j++) memset(A + (size_t) j * d, 0, (size_t) j * sizeof(double));
    /* dpotrf stops only on a non-positive pivot; reject NaN/Inf as well */
    for (int j = 0; j < d; j++) {
      double v = A[j + (size_t) j * d];
      if (!(v > 0.0 && v <= DBL_MAX)) return j + 1;
    }
    return 0;
  }
#define HB_CALL(dim) return chol_loops(A, dim)
  HB_SMALL_DIM_CASES(HB_CALL)
#undef HB_CALL
}

/* L x = b, b overwritten by x. Only the lower triangle of L is read. */
void hb_trsv_lower(const double *L, int d, double *b) {
  if (d >= HB_LINALG_BLAS_MIN) {
    int one = 1;
    F77_CALL(dtrsv)("L", "N", "N", &d, L, &d, b, &one FCONE FCONE FCONE);
    return;
  }
#define HB_CALL(dim) trsv_lower_loops(L, dim, b); return
  HB_SMALL_DIM_CASES(HB_CALL)
#undef HB_CALL
}

/* L' x = b, b overwritten by x. Only the lower triangle of L is read. */
void hb_trsv_lower_t(const double *L, int d, double *b) {
  if (d >= HB_LINALG_BLAS_MIN) {
    int one = 1;
    F77_CALL(dtrsv)("L", "T", "N", &d, L, &d, b, &one FCONE FCONE FCONE);
    return;
  }
#define HB_CALL(dim) trsv_lower_t_loops(L, dim, b); return
  HB_SMALL_DIM_CASES(HB_CALL)
#undef HB_CALL
}

/* (L L') x = b, b overwritten by x. */
void hb_chol_solve(const double *L, int d, double *b) {
  hb_trsv_lower(L, d, b);
  hb_trsv_lower_t(L, d, b);
}

/* out = (L L')^{-1}, full symmetric d x d (both triangles written). out must
 * not overlap L. */
void hb_chol_inverse(const double *L, int d, double *out) {
  if (d >= HB_LINALG_BLAS_MIN) {
    int info = 0;
    memcpy(out, L, (size_t) d * d * sizeof(double));
    F77_CALL(dpotri)("L", &d, out, &d, &info FCONE);
  } else {
    /* column j of the inverse solves (L L') x = e_j; its rows i >= j need
     * the forward solve from row j on and the back solve down to row j */
    for (int j = 0; j < d; j++) {
      double *x = out + (size_t) j * d;
      memset(x, 0, (size_t) d * sizeof(double));
      x[j] = 1.0;
      for (int k = j; k < d; k++) {
        const double *ck = L + (size_t) k * d;
        double xk = x[k] / ck[k];
        x[k] = xk;
        for (int i = k + 1; i < d; i++) x[i] -= ck[i] * xk;
      }
      for (int k = d - 1; k >= j; k--) {
        const double *ck = L + (size_t) k * d;
        double s = x[k];
        for (int i = k + 1; i < d; i++) s -= ck[i] * x[i];
        x[k] = s / ck[k];
      }
    }
  }
  for (int j = 1; j < d; j++)
    for (int i = 0; i < j; i++) out[i + (size_t) j * d] = out[j + (size_t) i * d];
}

static HB_ALWAYS_INLINE void schur_loops(const double *L, const int d, double *W, int m, double *G) {
  for (int a = 0; a < m; a++) {
    double *w = W + (size_t) a * d;
    HB_UNROLL
    for (int j = 0; j < d; j++) {
      const double *cj = L + (size_t) j * d;
      double wj = w[j] / cj[j];
      w[j] = wj;
      HB_UNROLL
      for (int i = j + 1; i < d; i++) w[i] -= cj[i] * wj;
    }
  }
  for (int a = 0; a < m; a++) {
    const double *wa = W + (size_t) a * d;
    for (int b = a; b < m; b++) {
      const double *wb = W + (size_t) b * d;
      double s = 0.0;
      HB_UNROLL
      for (int j = 0; j < d; j++) s += wa[j] * wb[j];
      G[b + (size_t) a * m] += s;
    }
  }
}

/* G += W' M^-1 W (lower triangle of G, m x m) with L the Cholesky factor of
 * M (d x d); W (d x m) is overwritten by L^-1 W. The Schur complement of the
 * collapsed samplers, taken for every group level and every proposal. */
void hb_schur_acc(const double *L, int d, double *W, int m, double *G) {
#define HB_CALL(dim) schur_loops(L, dim, W, m, G); return
  HB_SMALL_DIM_CASES(HB_CALL)
#undef HB_CALL
}

/* log det(L L') = 2 sum log L_jj */
/* One log per 8 diagonal entries (the samplers take this for every group
 * level many times per sweep); a chunk whose product leaves the normal
 * range falls back to a log per entry. */
double hb_log_det_chol(const double *L, int d) {
  double s = 0.0;
  for (int j0 = 0; j0 < d; j0 += 8) {
    int j1 = j0 + 8 < d ? j0 + 8 : d;
    double prod = 1.0;
    for (int j = j0; j < j1; j++) prod *= L[j + (size_t) j * d];
    if (prod > 1e-300 && prod < 1e300) {
      s += log(prod);
    } else {
      for (int j = j0; j < j1; j++) s += log(L[j + (size_t) j * d]);
    }
  }
  return 2.0 * s;
}

/* ---- multivariate normal from a precision ------------------------------ */

/* Given the Cholesky factor L of a precision P = L L', out ~ N(P^{-1} b,
 * P^{-1}): out = L'^{-1} (L^{-1} b + z), z ~ N(0, I) from rng drawn
 * in order z[0], ..., z[d-1]; equivalently mean + L'^{-1} z. When mean is not
 * NULL it receives P^{-1} b (length d). out may alias b; mean may not. */
void hb_mvn_chol_draw(hb_rng *rng, const double *L, const double *b, int d, double *out,
                      double *mean) {
  if (out != b) memcpy(out, b, (size_t) d * sizeof(double));
  hb_trsv_lower(L, d, out);
  if (mean) {
    memcpy(mean, out, (size_t) d * sizeof(double));
    hb_trsv_lower_t(L, d, mean);
  }
  for (int i = 0; i < d; i++) out[i] += hb_rng_norm(rng);
  hb_trsv_lower_t(L, d, out);
}

/* out ~ N(P^{-1} b, P^{-1}). P (d x d, lower triangle read) is overwritten by
 * its Cholesky factor. work: NULL, or length d, receiving the mean P^{-1} b.
 * Returns 0, or the hb_chol code when P is not positive definite (then out
 * and work are untouched and no random number is used). out may alias b. */
/* hb_mvn_precision_draw() in one piece, for an unrolled small d: the same
 * steps as hb_chol() then hb_mvn_chol_draw(). */
static HB_ALWAYS_INLINE int mvn_precision_draw_loops(hb_rng *rng, double *P, const double *b, const int d, double *out,
                                                     double *work) {
  int info = chol_loops(P, d);
  if (info) return info;
  if (out != b) memcpy(out, b, (size_t) d * sizeof(double));
  trsv_lower_loops(P, d, out);
  if (work) {
    memcpy(work, out, (size_t) d * sizeof(double));
    trsv_lower_t_loops(P, d, work);
  }
  HB_UNROLL
  for (int i = 0; i < d; i++) out[i] += hb_rng_norm(rng);
  trsv_lower_t_loops(P, d, out);
  return 0;
}

int hb_mvn_precision_draw(hb_rng *rng, double *P, const double *b, int d, double *out,
                          double *work) {
  if (d <= 4) {
#define HB_CALL(dim) return mvn_precision_draw_loops(rng, P, b, dim, out, work)
    HB_SMALL_DIM_CASES(HB_CALL)
#undef HB_CALL
  }
  int info = hb_chol(P, d);
  if (info) return info;
  hb_mvn_chol_draw(rng, P, b, d, out, work);
  return 0;
}

/* The mean only: out = P^{-1} b, P overwritten by its Cholesky factor; no
 * random numbers. Returns as hb_mvn_precision_draw. out may alias b. */
int hb_mvn_precision_mean(double *P, const double *b, int d, double *out) {
  int info = hb_chol(P, d);
  if (info) return info;
  if (out != b) memcpy(out, b, (size_t) d * sizeof(double));
  hb_chol_solve(P, d, out);
  return 0;
}

/* ---- inverse Wishart and inverse gamma --------------------------------- */

/* Sigma ~ InvWishart(df, S): density proportional to
 *   |Sigma|^{-(df + d + 1) / 2} exp(-tr(S Sigma^{-1}) / 2),
 * so Sigma^{-1} ~ Wishart(df, S^{-1}) and E[Sigma] = S / (df - d - 1) for
 * df > d + 1 (the parametrization of MCMCpack::riwish and of
 * solve(stats::rWishart(1, df, solve(S)))). Requires df > d - 1; df need not
 * be a whole number.
 *
 * Method (no inversion of S): with S = L L' (Cholesky) and the Bartlett
 * factor in "upper-lower" form, X'X = B'B for X an df x d standard normal
 * matrix, B lower triangular with B_jj^2 ~ chisq(df - d + 1 + j) (j = 0..d-1)
 * and B_ij ~ N(0, 1) for i > j, the Wishart(df, S^{-1}) draw is
 * W = L'^{-1} B'B L^{-1}, so Sigma = W^{-1} = T T' with T = L B^{-1} lower
 * triangular: T is the Cholesky factor of the draw. Random numbers are
 * drawn column by column: B_jj (chi-square) then B_{j+1,j}, ..., B_{d-1,j}
 * (normal).
 *
 * S: d x d, lower triangle read, not modified. out: d x d, receives Sigma
 * (both triangles). work: length 2 d^2; on success work[0 .. d^2) holds T
 * (strict upper triangle zero), e.g. for hb_chol_inverse(work, d, Sinv) when
 * the precision Sigma^{-1} is needed next. Returns 0; -1 when df is not a
 * number > d - 1 (no random numbers used); the hb_chol code (> 0) when S is
 * not positive definite (no random numbers used); -2 when a chi-square draw
 * underflowed to 0 (only possible for df - d + 1 extremely close to 0). */
int hb_inv_wishart_draw(hb_rng *rng, double df, const double *S, int d, double *out,
                        double *work) {
  if (!(df > d - 1.0 && df <= DBL_MAX)) return -1;
  size_t dd = (size_t) d * d;
  double *T = work, *B = work + dd;
  memcpy(T, S, dd * sizeof(double));
  int info = hb_chol(T, d);
  if (info) return info;
  int underflow = 0;
  for (int j = 0; j < d; j++) {
    double *bj = B + (size_t) j * d;
    for (int i = 0; i < j; i++) bj[i] = 0.0;
    bj[j] = sqrt(hb_rng_chisq(rng, df - d + 1.0 + j));
    if (!(bj[j] > 0.0)) underflow = 1;
    for (int i = j + 1; i < d; i++) bj[i] = hb_rng_norm(rng);
  }
  if (underflow) return -2;
  /* T B = L, solved in place over L from the last column back:
   * T[, j] = (L[, j] - sum_{k > j} B_kj T[, k]) / B_jj, rows >= j */
  for (int j = d - 1; j >= 0; j--) {
    double *tj = T + (size_t) j * d;
    const double *bj = B + (size_t) j * d;
    for (int k = j + 1; k < d; k++) {
      const double *tk = T + (size_t) k * d;
      double bkj = bj[k];
      for (int i = k; i < d; i++) tj[i] -= bkj * tk[i];
    }
    double inv = 1.0 / bj[j];
    for (int i = j; i < d; i++) tj[i] *= inv;
  }
  /* Sigma = T T': lower triangle by rank-one updates, then mirror */
  memset(out, 0, dd * sizeof(double));
  for (int k = 0; k < d; k++) {
    const double *tk = T + (size_t) k * d;
    for (int j = k; j < d; j++) {
      double *oj = out + (size_t) j * d;
      double tjk = tk[j];
      for (int i = j; i < d; i++) oj[i] += tk[i] * tjk;
    }
  }
  for (int j = 1; j < d; j++)
    for (int i = 0; i < j; i++) out[i + (size_t) j * d] = out[j + (size_t) i * d];
  return 0;
}

/* x ~ InvGamma(shape, scale): density proportional to
 * x^{-shape - 1} exp(-scale / x), i.e. 1 / Gamma(shape, rate = scale);
 * E[x] = scale / (shape - 1). Requires shape > 0, scale > 0 (otherwise the
 * result is NaN, as from rgamma). */
double hb_inv_gamma_draw(hb_rng *rng, double shape, double scale) {
  return 1.0 / hb_rng_gamma(rng, shape, 1.0 / scale);
}

/* N(m, s^2) truncated to [0, Inf) by inversion on the upper tail's log
 * scale, P(Z > z) = U P(Z > a) with a = -m / s: accurate from a far below
 * zero (a plain normal draw) to far in the tail. */
double hb_trunc_normal_pos_draw(hb_rng *rng, double m, double s) {
  double a = -m / s;
  double z = qnorm(log(hb_rng_unif(rng)) + pnorm(a, 0.0, 1.0, 0, 1), 0.0, 1.0, 0, 1);
  if (!(z >= a)) z = a; /* rounding at the bound */
  double b = m + s * z;
  return b > 0.0 ? b : 0.0;
}

/* log density in eta = log b of N(b; m, s^2) x lognormal(b; ml, sl), the
 * Jacobian included, up to a constant */
static double lnn_logdens(double eta, double m, double s, double ml, double sl) {
  double d = (exp(eta) - m) / s, e = (eta - ml) / sl;
  return -0.5 * (d * d + e * e);
}

/* One slice-sampling update (stepping out, then shrinkage; Neal 2003) of b
 * > 0 with density proportional to N(b; m, s^2) x lognormal(b; ml, sl), on
 * eta = log b, from the current value b0 (a non-positive b0 starts at
 * exp(ml)). The initial width depends on m, s and sl only, not on b0, as
 * the update's invariance needs. */
double hb_lognormal_normal_draw(hb_rng *rng, double m, double s, double ml, double sl, double b0) {
  double eta = b0 > 0.0 ? log(b0) : ml;
  double w = fmin(sl, s / fmax(fabs(m), s));
  double ly = lnn_logdens(eta, m, s, ml, sl) - hb_rng_exp(rng);
  double lo = eta - w * hb_rng_unif(rng), hi = lo + w;
  for (int k = 0; k < 200 && lnn_logdens(lo, m, s, ml, sl) > ly; k++) lo -= w;
  for (int k = 0; k < 200 && lnn_logdens(hi, m, s, ml, sl) > ly; k++) hi += w;
  for (int k = 0; k < 1000; k++) {
    double e1 = lo + (hi - lo) * hb_rng_unif(rng);
    if (lnn_logdens(e1, m, s, ml, sl) > ly) return exp(e1);
    if (e1 < eta) lo = e1;
    else hi = e1;
  }
  return exp(eta);
}

/* ---- summaries ---------------------------------------------------------- */

/* sd[i] = sqrt(Sigma_ii); cor (may be NULL) = d x d correlation matrix, unit
 * diagonal exactly. A zero variance gives NaN correlations in its row and
 * column. Sigma is read in full (both triangles). */
void hb_cov_to_sd_cor(const double *Sigma, int d, double *sd, double *cor) {
  for (int i = 0; i < d; i++) sd[i] = sqrt(Sigma[i + (size_t) i * d]);
  if (!cor) return;
  for (int j = 0; j < d; j++)
    for (int i = 0; i < d; i++)
      cor[i + (size_t) j * d] =
        i == j ? 1.0 : Sigma[i + (size_t) j * d] / (sd[i] * sd[j]);
}
