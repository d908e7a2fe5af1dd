/* Random numbers of the Gibbs chains.
 *
 * R's generator (L'Ecuyer-CMRG uniforms, normals by inversion through
 * qnorm) costs about 60 ns a normal; a Gibbs chain draws millions of them.
 * Here:
 *   - uniforms: xoshiro256++ (Blackman & Vigna 2021), 64-bit output, the top
 *     53 bits as k 2^-53 with k = 0 redrawn, so in (0, 1);
 *   - normals: the ziggurat of Marsaglia & Tsang (2000) with 256 layers, the
 *     layer, the sign and the 52-bit abscissa taken from disjoint bits of one
 *     64-bit output (the correlation of the original's shared bits is
 *     absent), Marsaglia's exact tail beyond r;
 *   - exponentials: -log U (rare: slice sampling only);
 *   - gammas: Marsaglia & Tsang (2000) for shape >= 1, and for shape < 1
 *     Gamma(shape + 1) U^(1 / shape); chi-square as 2 Gamma(df / 2).
 * Each function with r == NULL calls R's own generator instead (see rng.h). */
#include <math.h>
#include <Rmath.h>
#include "rng.h"

/* ---- xoshiro256++ and splitmix64 --------------------------------------- */

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t next_u64(hb_rng *r) {
  uint64_t *s = r->s;
  const uint64_t out = rotl(s[0] + s[3], 23) + s[0];
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return out;
}

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* Two splitmix64 outputs from each 64-bit half of the seed: consecutive
 * outputs of one splitmix64 stream differ (it is a bijection of distinct
 * counters), so the state is never all zero. */
void hb_rng_seed(hb_rng *r, const uint32_t w[4]) {
  uint64_t hi = ((uint64_t) w[0] << 32) | w[1], lo = ((uint64_t) w[2] << 32) | w[3];
  r->s[0] = splitmix64(&hi);
  r->s[1] = splitmix64(&hi);
  r->s[2] = splitmix64(&lo);
  r->s[3] = splitmix64(&lo);
}

void hb_rng_seed_from_r(hb_rng *r) {
  uint32_t w[4];
  for (int k = 0; k < 4; k++) w[k] = (uint32_t) floor(unif_rand() * 4294967296.0);
  hb_rng_seed(r, w);
}

static inline double unif53(hb_rng *r) {
  uint64_t k;
  do k = next_u64(r) >> 11; while (k == 0);
  return (double) k * 0x1p-53;
}

double hb_rng_unif(hb_rng *r) { return r ? unif53(r) : unif_rand(); }

double hb_rng_exp(hb_rng *r) { return r ? -log(unif53(r)) : exp_rand(); }

/* ---- ziggurat normals -------------------------------------------------- */

/* f(x) = exp(-x^2 / 2) is covered by ZN equal-area pieces: the base (the
 * rectangle [0, ZR] x [0, f(ZR)] plus the tail beyond ZR, as a virtual
 * rectangle of width zx[0] = area / f(ZR)) and rectangles i = 1 .. ZN - 1 of
 * width zx[i] between heights f(zx[i]) and f(zx[i + 1]), zx[1] = ZR >
 * zx[2] > ... > zx[ZN] = 0. ZR is the r of Marsaglia & Tsang for 256 pieces;
 * the area follows from it exactly. */
#define ZN 256
#define ZR 3.6541528853610088
static double zx[ZN + 1], zf[ZN + 1], zw[ZN];
static uint64_t zk[ZN]; /* abscissa m < zk[i]: x < zx[i + 1], under f */

void hb_rng_init_tables(void) {
  const double v = ZR * exp(-0.5 * ZR * ZR) + sqrt(M_PI / 2.0) * erfc(ZR / M_SQRT2);
  zx[0] = v / exp(-0.5 * ZR * ZR);
  zx[1] = ZR;
  for (int i = 1; i < ZN - 1; i++) zx[i + 1] = sqrt(-2.0 * log(v / zx[i] + exp(-0.5 * zx[i] * zx[i])));
  zx[ZN] = 0.0;
  for (int i = 0; i <= ZN; i++) zf[i] = exp(-0.5 * zx[i] * zx[i]);
  for (int i = 0; i < ZN; i++) {
    zw[i] = zx[i] * 0x1p-52;
    zk[i] = (uint64_t) floor(zx[i + 1] / zx[i] * 0x1p52);
  }
}

/* One 64-bit output as the layer i (bits 0-7), the sign (bit 8) and the
 * abscissa x = m zw[i] with m the top 52 bits (m < 2^52, so the signed
 * conversion to double is exact and one instruction). */
#define ZIG_DECODE(u, i, neg, m, x)                                  \
  const int i = (int) ((u) & 0xff), neg = (int) (((u) >> 8) & 1);  \
  const uint64_t m = (u) >> 12;                                      \
  const double x = (double) (int64_t) m * zw[i]

#if defined(__GNUC__)
#define ZIG_NOINLINE __attribute__((noinline))
#else
#define ZIG_NOINLINE
#endif

/* The rare rest (about 1%): the base's tail, a wedge, or a rejection and a
 * new output, out of line so that the common case stays small and inline. */
static ZIG_NOINLINE double zig_slow(hb_rng *r, uint64_t u) {
  for (;;) {
    ZIG_DECODE(u, i, neg, m, x);
    if (m < zk[i]) return neg ? -x : x;
    if (i == 0) {
      /* the tail beyond ZR (Marsaglia 1964): exact */
      double a, b;
      do {
        a = -log(unif53(r)) / ZR;
        b = -log(unif53(r));
      } while (b + b < a * a);
      return neg ? -(ZR + a) : ZR + a;
    }
    /* the wedge between the rectangle's inner part and f */
    if (zf[i] + unif53(r) * (zf[i + 1] - zf[i]) < exp(-0.5 * x * x)) return neg ? -x : x;
    u = next_u64(r);
  }
}

static inline double zig_norm(hb_rng *r) {
  const uint64_t u = next_u64(r);
  ZIG_DECODE(u, i, neg, m, x);
  if (m < zk[i]) return neg ? -x : x; /* inside the rectangle: about 99% */
  return zig_slow(r, u);
}

double hb_rng_norm(hb_rng *r) { return r ? zig_norm(r) : norm_rand(); }

/* ---- gamma and chi-square ---------------------------------------------- */

/* Marsaglia & Tsang (2000), shape >= 1, scale 1 */
static double mt_gamma(hb_rng *r, double a) {
  const double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = zig_norm(r);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = unif53(r), x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return d * v;
    if (log(u) < 0.5 * x2 + d * (1.0 - v + log(v))) return d * v;
  }
}

double hb_rng_gamma(hb_rng *r, double shape, double scale) {
  if (!r) return rgamma(shape, scale);
  if (isnan(shape) || isnan(scale)) return NAN;
  if (shape <= 0.0 || scale <= 0.0) return shape == 0.0 || scale == 0.0 ? 0.0 : NAN;
  if (!isfinite(shape) || !isfinite(scale)) return INFINITY;
  if (shape >= 1.0) return mt_gamma(r, shape) * scale;
  const double u = unif53(r);
  return mt_gamma(r, shape + 1.0) * pow(u, 1.0 / shape) * scale;
}

double hb_rng_chisq(hb_rng *r, double df) {
  if (!r) return rchisq(df);
  if (!(df >= 0.0) || !isfinite(df)) return NAN;
  return hb_rng_gamma(r, 0.5 * df, 2.0);
}
