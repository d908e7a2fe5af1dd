/* The NUTS engine (nuts.c): plain C, free of the R API. A model is seen only
 * through hb_nuts_model, the host (R: nuts_call.c) only through
 * hb_nuts_host. */
#ifndef HBMMM_NUTS_H
#define HBMMM_NUTS_H

#include <stddef.h>

/* A model is seen by the engine only through this interface. logp_grad
 * returns 0 when lp and every gradient element are finite, nonzero otherwise
 * (the engine then treats the point as having log density -Inf: a divergence
 * during sampling, a failed attempt during initialization). write maps an
 * unconstrained point to the nout values stored as one draw. */
typedef struct {
  int dim, nout;
  void *ctx;
  int (*logp_grad)(void *ctx, const double *theta, double *lp, double *grad);
  void (*write)(void *ctx, const double *theta, double *out);
} hb_nuts_model;

/* What the engine needs from its host (nuts_call.c for R): memory that the
 * host frees (zeroed by the engine), standard normal and uniform draws,
 * failure (does not return; sampler: 0 bad input named by arg, 1 sampler
 * failure), and a call after every iteration (progress, interrupts). */
typedef struct {
  void *ctx;
  void *(*alloc)(void *ctx, size_t nmemb, size_t size);
  double (*norm_rand)(void *ctx);
  double (*unif_rand)(void *ctx);
  void (*fail)(void *ctx, int sampler, const char *arg, const char *msg);
  void (*iteration)(void *ctx, int it, int iter, int warmup);
} hb_nuts_host;

typedef struct {
  int iter, warmup, thin, max_treedepth, dense, chain, refresh;
  double adapt_delta, stepsize;   /* stepsize <= 0: initialization heuristic */
  double gamma, kappa, t0;        /* dual averaging (Stan: 0.05, 0.75, 10) */
  int init_buffer, term_buffer, base_window; /* Stan: 75, 50, 25 */
  const double *inv_metric;       /* NULL (unit) or dim (diag) or dim x dim (dense) */
  hb_nuts_host host;
} hb_nuts_control;

#define HB_NUTS_MAX_DEPTH 30 /* largest max_treedepth */
#define HB_NUTS_NDIAG 6 /* accept_stat, stepsize, treedepth, n_leapfrog, divergent, energy */
typedef struct {
  double *draws;       /* nsave x nout, draws[s + nsave * v] */
  double *diag;        /* nsave x HB_NUTS_NDIAG */
  double *theta;       /* dim: last state */
  double *inv_metric;  /* dim or dim x dim: metric at the end */
  double stepsize;     /* step size used after warmup */
  double n_grad;       /* gradient evaluations, warmup included */
} hb_nuts_output;

int hb_nuts_nsave(const hb_nuts_control *ctl);
/* Runs one chain from theta (dim, modified: holds the last state). Output
 * arrays are allocated by the caller (sizes above). Returns 0. Random
 * numbers, memory, errors and progress go through ctl->host. */
int hb_nuts_run(const hb_nuts_model *m, const hb_nuts_control *ctl, double *theta,
                hb_nuts_output *out);

#endif
