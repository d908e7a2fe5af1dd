/* log and exp as inline, branch-free C that the compiler can vectorize in
 * `omp simd` row loops (a call to libm's log or exp cannot be vectorized
 * without -ffast-math and a vector math library). The algorithms are
 * fdlibm's (e_log.c, e_exp.c; Sun Microsystems, freely usable), which are
 * accurate to within one unit in the last place, with their special cases
 * left out: each function holds on a stated domain only, and callers send
 * the other values to libm (see hill() in transforms.c). Kernel layer:
 * pure C, no R API. */
#ifndef HB_VMATH_H
#define HB_VMATH_H

#include <stdint.h>
#include <string.h>
#include "hbmmm.h" /* HB_ALWAYS_INLINE: row functions of vectorized loops
                      must be inlined for the loop to vectorize, and GCC's
                      size limits at -O2 would keep these calls */

static inline uint64_t hb_dbits(double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

static inline double hb_bitsd(uint64_t u) {
  double x;
  memcpy(&x, &u, sizeof x);
  return x;
}

/* c ? a : b on the bits: both values are computed unconditionally. With
 * a plain ?: the compiler moves the work for a into a branch on c (its
 * floating-point operations might raise exceptions, so it will not
 * speculate them), and that branch keeps the loop from vectorizing. */
static HB_ALWAYS_INLINE double hb_select(int c, double a, double b) {
  const uint64_t m = (uint64_t) 0 - (uint64_t) (c != 0);
  return hb_bitsd((hb_dbits(a) & m) | (hb_dbits(b) & ~m));
}

#define HB_LN2_HI 6.93147180369123816490e-01 /* ln 2 in its upper 32 bits: k * HI is exact */
#define HB_LN2_LO 1.90821492927058770002e-10

/* log x for positive, normal, finite x (DBL_MIN <= x <= DBL_MAX).
 * x = 2^k z with z in [sqrt(1/2), sqrt(2)), log z = 2 atanh(f / (2 + f)),
 * f = z - 1, by fdlibm's polynomial. k comes from the exponent bits without
 * an integer-to-double conversion (which AVX2 lacks for 64-bit integers). */
static HB_ALWAYS_INLINE double hb_log_pos(double x) {
  const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01, Lg3 = 2.857142874366239149e-01,
               Lg4 = 2.222219843214978396e-01, Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
               Lg7 = 1.479819860511658591e-01;
  const uint64_t ix = hb_dbits(x);
  const uint64_t t = ix - UINT64_C(0x3fe6a09e667f3bcd); /* bits of sqrt(1/2): t >> 52 is k (two's complement) */
  const uint64_t kb = (t + (UINT64_C(1024) << 52)) >> 52; /* k + 1024, in [1, 2048] */
  const double k = hb_bitsd(kb | UINT64_C(0x4330000000000000)) - 0x1p52 - 1024.0;
  const double f = hb_bitsd(ix - (t & UINT64_C(0xfff0000000000000))) - 1.0;
  const double s = f / (2.0 + f), z = s * s, w = z * z;
  const double R = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7))) + w * (Lg2 + w * (Lg4 + w * Lg6));
  const double hfsq = 0.5 * f * f;
  return k * HB_LN2_HI - ((hfsq - (s * (hfsq + R) + k * HB_LN2_LO)) - f);
}

/* exp x for |x| <= 708 as a ratio num / den (the division left to the
 * caller, which can often share it: see hill_inline() in transforms.c).
 * x = k ln 2 + r, |r| <= ln(2) / 2; fdlibm approximates exp r =
 * 1 + r + r c / (2 - c) = (2 - c + 2 r) / (2 - c) with c = r - r^2 P(r^2);
 * num = (2 - c + 2 r) 2^k, den = 2 - c in [1.6, 2.4]. k is rounded by
 * adding 1.5 2^52, whose low bits then hold k, and 2^k is built from them
 * (a normal number for |x| <= 708). num / den is within one unit in the
 * last place of exp x. */
static HB_ALWAYS_INLINE void hb_exp_ratio(double x, double *num, double *den) {
  const double P1 = 1.66666666666666019037e-01, P2 = -2.77777777770155933842e-03,
               P3 = 6.61375632143793436117e-05, P4 = -1.65339022054652515390e-06,
               P5 = 4.13813679705723846039e-08, shift = 0x1.8p52;
  const double ks = x * 1.44269504088896338700e+00 + shift, k = ks - shift;
  const double hi = x - k * HB_LN2_HI, lo = k * HB_LN2_LO, r = hi - lo, t = r * r;
  const double c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  *den = 2.0 - c;
  *num = (*den + 2.0 * r) * hb_bitsd((hb_dbits(ks) + 1023) << 52);
}

#endif
