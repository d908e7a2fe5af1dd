/* Random numbers of the Gibbs chains (rng.c): xoshiro256++ uniforms, ziggurat
 * normals, Marsaglia-Tsang gammas. Plain C, no R objects.
 *
 * Every function takes the generator; NULL means R's own stream (unif_rand,
 * norm_rand, ...: the caller brackets with GetRNGstate/PutRNGstate), so that
 * one kernel serves a Gibbs chain (its own generator, seeded from R's stream
 * at the start of the chain) and the test entry points (R's stream). Main
 * thread only either way. */
#ifndef HBMMM_RNG_H
#define HBMMM_RNG_H

#include <stdint.h>

typedef struct {
  uint64_t s[4]; /* xoshiro256++ state, never all zero */
} hb_rng;

/* Ziggurat tables; once, when the package is loaded (R_init_hbmmm). */
void hb_rng_init_tables(void);
/* The state from 128 bits (w[0] high .. w[3] low) through splitmix64, so
 * that similar seeds give unrelated states and the state is never zero. */
void hb_rng_seed(hb_rng *r, const uint32_t w[4]);
/* The same from four 32-bit words of R's current stream (main thread,
 * between GetRNGstate and PutRNGstate). */
void hb_rng_seed_from_r(hb_rng *r);

double hb_rng_unif(hb_rng *r);  /* U(0, 1), never 0 or 1 */
double hb_rng_norm(hb_rng *r);  /* N(0, 1) */
double hb_rng_exp(hb_rng *r);   /* Exp(1) */
/* Gamma(shape, scale), mean shape * scale; NaN for a shape or scale that is
 * not positive (0 when either is 0), Inf when either is infinite, as rgamma */
double hb_rng_gamma(hb_rng *r, double shape, double scale);
double hb_rng_chisq(hb_rng *r, double df); /* 2 Gamma(df / 2) */

#endif
