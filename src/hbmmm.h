/* hbmmm: prototypes shared across the C sources.
 *
 * Layers (src/README.md): kernels (pure C, no R objects, reused by the
 * samplers) are declared first; .Call entry points (hb_<verb>, registered in
 * init.c) last. The model layer is in model.h, the Gibbs engine in gibbs.h,
 * the NUTS engine in nuts.h, dense linear algebra in linalg.h, the Gibbs
 * chains' random number generator in rng.h. */
#ifndef HBMMM_H
#define HBMMM_H

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>
#ifdef HB_GUARDED_ALLOC /* sanitizer builds only: see hb_guarded_alloc.h */
#include "hb_guarded_alloc.h"
#endif

/* ---- argument checking (errors.c) ------------------------------------ */
/* Raise the classed R condition hbmmm_input_error naming `arg`. */
void hb_input_error(const char *arg, const char *fmt, ...);
/* Raise the classed R condition hbmmm_sampler_error. */
void hb_sampler_error(const char *fmt, ...);
/* Calls the R progress function fn(chain, it, iter, warmup). */
void hb_call_progress(SEXP fn, int chain, int it, int iter, int warmup);
/* names(x) <- names[0 .. n) */
void hb_set_names(SEXP x, int n, const char *const *names);
SEXP hb_named_pair(SEXP a, SEXP b, const char *na, const char *nb);
void hb_check_vector(SEXP x, const char *arg, SEXPTYPE type, R_xlen_t len);
int hb_scalar_int(SEXP x, const char *arg, int lo, int hi, int na_ok);
int hb_scalar_flag(SEXP x, const char *arg);
/* A number as R prints it (NA, NaN, Inf, or up to 6 significant digits). */
const char *hb_fmt_num(double v, char *buf, size_t len);

/* ---- integer codes shared with R (HB_CODES in R/codes.R; hb_codes() in
 * codes.c returns them and a test checks both sides agree) -------------- */
enum hb_curve_type { HB_CURVE_LINEAR = 0, HB_CURVE_HILL = 1, HB_CURVE_LOGISTIC = 2,
                     HB_CURVE_MICHAELIS_MENTEN = 3,
                     HB_CURVE_HILL_MIXTURE = 4 };
enum hb_prior_family { HB_PRIOR_NORMAL = 1, HB_PRIOR_LOGNORMAL = 2, HB_PRIOR_GAMMA = 3,
                       HB_PRIOR_BETA = 4, HB_PRIOR_UNIFORM = 5, HB_PRIOR_HALF_NORMAL = 6,
                       HB_PRIOR_EXPONENTIAL = 7, HB_PRIOR_HALF_STUDENT_T = 8 };
enum hb_cov_type { HB_COV_FULL = 0, HB_COV_DIAG = 1, HB_COV_FACTOR = 2, HB_COV_HW_FULL = 3,
                   HB_COV_HW_DIAG = 4, HB_COV_LKJ = 5 };
/* covariance types without correlations (one sd per column) */
static inline int hb_cov_diagonal(int type) { return type == HB_COV_DIAG || type == HB_COV_HW_DIAG; }
/* covariance types with Huang-Wand auxiliary variables a_j */
static inline int hb_cov_huang_wand(int type) { return type == HB_COV_HW_FULL || type == HB_COV_HW_DIAG; }
SEXP hb_codes(void);

/* ---- media transforms (transforms.c) ---------------------------------- */
enum hb_adstock_type {
  HB_ADSTOCK_NONE = 0,
  HB_ADSTOCK_GEOMETRIC = 1,
  HB_ADSTOCK_DELAYED = 2,
  HB_ADSTOCK_WEIBULL_CDF = 3,
  HB_ADSTOCK_WEIBULL_PDF = 4
};
enum hb_saturation_type {
  HB_SAT_NONE = 0,
  HB_SAT_HILL = 1,
  HB_SAT_LOGISTIC = 2,
  HB_SAT_MICHAELIS_MENTEN = 3,
  HB_SAT_HILL_MIXTURE = 4 /* components in a block of their own (hb_saturation_mixture) */
};
#define HB_MAX_MIX 20 /* components of a mixture of Hill curves */

int hb_adstock_npar(int type);
int hb_saturation_npar(int type);
/* Check parameter values of one column; returns NULL when valid, otherwise
 * the name of the offending parameter (message in msg). */
const char *hb_adstock_par_invalid(int type, const double *par, int max_lag,
                                   char *msg, size_t msglen);
const char *hb_saturation_par_invalid(int type, const double *par,
                                      char *msg, size_t msglen);

/* Lag weights w[0..L] (normalized to sum 1 when `normalize`) and, when dw is
 * not NULL, their derivatives: dw[p * (L + 1) + l] = d w[l] / d par[p]. */
void hb_adstock_weights(int type, const double *par, int L, int normalize,
                        double *w, double *dw);
/* out[t] = sum_{l = 0}^{min(L, t)} w[l] x[t - l]. Returns nonzero when some
 * x[t] is negative or not finite. */
int hb_lag_convolve(const double *x, R_xlen_t n, const double *w, int L,
                    double *out);
/* Infinite-memory geometric adstock a[t] = x[t] + decay a[t - 1], scaled by
 * (1 - decay) when `normalize`; dout (may be NULL) gets d a / d decay.
 * Returns nonzero when some x[t] is negative or not finite. */
int hb_geometric_recursion(const double *x, R_xlen_t n, double decay,
                           int normalize, double *out, double *dout);
/* The same two kernels on a series with missing periods: row t lies at time
 * position tpos[t] (strictly increasing), a missing period carries no spend,
 * so carry-over decays over the gap. tpos == NULL: consecutive periods. */
int hb_lag_convolve_at(const double *x, const int *tpos, R_xlen_t n,
                       const double *w, int L, double *out);
int hb_geometric_recursion_at(const double *x, const int *tpos, R_xlen_t n,
                              double decay, int normalize, double *out,
                              double *dout);
/* hb_geometric_recursion_at() on npanel panels, restarting at each: panel
 * k holds rows pstart[k] .. pstart[k + 1] - 1 of x, out and dout (may be
 * NULL), tpos (may be NULL) their time positions. Without gaps, panels
 * advance in lockstep, which overlaps their recursions; same results. x is
 * not checked: the model's media, validated when the model was read. */
void hb_geometric_panels(const double *x, const R_xlen_t *pstart, int npanel, const int *tpos, double decay,
                         int normalize, double *out, double *dout);
/* Saturation of x[0..n); dout (may be NULL) holds npar + 1 arrays of length n:
 * derivatives with respect to each parameter, then with respect to x.
 * Returns nonzero when some x[t] is negative or not finite. */
int hb_saturation(int type, const double *par, const double *x, R_xlen_t n,
                  double *out, double **dout);
/* Mixture of K Hill curves, par = (halfsat 1..K, slope 1..K, weight 1..K);
 * dout (may be NULL): 3K + 1 arrays (each parameter in that order, then x);
 * tmp: n doubles. Returns nonzero when some x[t] is negative or not finite. */
int hb_saturation_mixture(int K, const double *par, const double *x, R_xlen_t n,
                          double *out, double **dout, double *tmp);
/* NULL when the 3K parameters are valid (positive half-saturations and
 * slopes, weights in [0, 1] summing to 1), else the offending name. */
const char *hb_mixture_par_invalid(int K, const double *par, char *msg, size_t msglen);

/* Tiny loops (a block of one to six columns, visited per group level per
 * sweep) cost more in loop control than in arithmetic unless unrolled: a
 * kernel written as an HB_ALWAYS_INLINE function of its dimension d is
 * instantiated by HB_SMALL_DIM_CASES(call) for d = 1..6, where HB_UNROLL
 * loops unroll completely, and once for any d. call(dim) must return or
 * break out of the switch. */
#if defined(__GNUC__)
#define HB_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define HB_ALWAYS_INLINE inline
#endif
#if defined(__GNUC__) && !defined(__clang__)
#define HB_UNROLL _Pragma("GCC unroll 6")
#define HB_UNROLL_8 _Pragma("GCC unroll 8")
#else
#define HB_UNROLL
#define HB_UNROLL_8
#endif
#define HB_SMALL_DIM_CASES(call) \
  switch (d) {                   \
  case 1: call(1);               \
  case 2: call(2);               \
  case 3: call(3);               \
  case 4: call(4);               \
  case 5: call(5);               \
  case 6: call(6);               \
  default: call(d);              \
  }

/* ---- vector kernels (vec.c) ------------------------------------------ */
/* On x86-64 Linux with GCC, also build AVX2+FMA versions of the row
 * kernels marked HB_CLONES and let the loader pick one for the running CPU
 * (ifunc); elsewhere the portable baseline is the only version. */
/* HB_CLONES_WIDE adds an AVX-512 version for compute-bound row kernels
 * (the Hill curve's inline log and exp: eight lanes and 32 registers make
 * the README model's gradient 25% faster), where the memory-bound kernels
 * gain nothing from it. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define HB_CLONES __attribute__((target_clones("avx2,fma", "default")))
#define HB_CLONES_WIDE __attribute__((target_clones("avx512f", "avx2,fma", "default")))
#else
#define HB_CLONES
#define HB_CLONES_WIDE
#endif
#define HB_BLOCK 512           /* rows per block in the samplers' row loops */
#define HB_MAX_Q 100           /* terms varying by one grouping factor */
double hb_dot(const double *a, const double *b, R_xlen_t n);
double hb_wdot(const double *w, const double *a, const double *b, R_xlen_t n); /* sum w a b */
double hb_sum(const double *x, R_xlen_t n);
/* out[a] = hb_dot(x, c[a], n) for a < m, several columns per pass */
void hb_dots(const double *x, const double *const *c, int m, R_xlen_t n, double *out);
void hb_axpy(double alpha, const double *x, double *y, R_xlen_t n);
/* y += sum_a alpha[a] c[a] for a < m (y apart from the columns), several columns per pass */
void hb_axpys(const double *alpha, const double *const *c, int m, R_xlen_t n, double *y);
void hb_vmul(const double *a, const double *b, double *out, R_xlen_t n);
void hb_vmul_nz(const double *a, const double *b, double *out, R_xlen_t n);
int hb_all_finite(const double *x, R_xlen_t n);
void hb_gram_block(const double *const *z, int q, const double *const *x, int m, const double *w,
                   R_xlen_t n, const int *rows, const int *cols, double *out);
void hb_crossprod_acc(const double *const *z, int q, const double *w, const double *wr,
                      R_xlen_t n, double *P, double *b, double *px);


/* ---- grouping (groups.c) ---------------------------------------------- */
int hb_group_index(const int *g, R_xlen_t n, int G, int base, R_xlen_t *start,
                   R_xlen_t *ord);

/* ---- dense linear algebra and draws (linalg.c) ------------------------ */
#include "linalg.h"

/* ---- streaming summaries (online.c) ----------------------------------- */
/* Caller-owned arrays; the structs only point into them. */
typedef struct {
  R_xlen_t m, n;       /* parameters, draws seen */
  double *mean, *m2;   /* length m each */
} hb_moments_t;
typedef struct {
  R_xlen_t m, n;       /* parameters, draws seen (at most INT_MAX) */
  int nprob;
  const double *prob;  /* nprob probabilities in (0, 1) */
  double *q;           /* 5 * m * nprob marker heights */
  int *pos;            /* 3 * m * nprob marker positions */
} hb_psquare_t;
void hb_moments_init(hb_moments_t *acc, R_xlen_t m, double *mean, double *m2);
void hb_moments_update(hb_moments_t *acc, const double *x);
void hb_moments_finalize(const hb_moments_t *acc, double *mean, double *sd);
void hb_psquare_init(hb_psquare_t *acc, R_xlen_t m, int nprob, const double *prob,
                     double *q, int *pos);
void hb_psquare_update(hb_psquare_t *acc, const double *x);
void hb_psquare_result(const hb_psquare_t *acc, double *out); /* m x nprob */
typedef struct {
  R_xlen_t m, n;
  int nb;
  double *lo, *width;  /* bin origin and width per parameter */
  int *counts;         /* m x nb */
  double *xmin, *xmax; /* observed extremes */
} hb_hist_t;
void hb_range_init(R_xlen_t m, double *lo, double *hi);
void hb_range_update(R_xlen_t m, const double *x, double *lo, double *hi);
void hb_hist_init(hb_hist_t *h, R_xlen_t m, int nb, double *lo, double *hi, int *counts,
                  double *xmin, double *xmax);
void hb_hist_update(hb_hist_t *h, const double *x);
void hb_hist_result(const hb_hist_t *h, int nprob, const double *prob, double *out);

/* ---- test-only .Call hooks (linalg_call.c) ---------------------------- */
SEXP hb_test_chol(SEXP A);
SEXP hb_test_lanes(SEXP Sinv, SEXP H, SEXP B, SEXP W, SEXP split);
SEXP hb_test_mvn_precision(SEXP P, SEXP b, SEXP n_draws);
SEXP hb_test_inv_wishart(SEXP df, SEXP S, SEXP n_draws);
SEXP hb_test_inv_gamma(SEXP shape, SEXP scale, SEXP n_draws);
SEXP hb_test_rng(SEXP seed, SEXP dist, SEXP par, SEXP n_draws);
SEXP hb_test_online(SEXP x, SEXP probs);
SEXP hb_test_nuts_mvn(SEXP mean, SEXP prec, SEXP init, SEXP control); /* model_rcall.c */

/* ---- R glue of the NUTS engine (nuts_call.c) ---------------------------- */
#include "nuts.h"
/* The chain's results as the R list both NUTS entry points return. */
SEXP hb_nuts_result(const hb_nuts_model *m, const hb_nuts_control *ctl,
                    const hb_nuts_output *out);
/* Fills ctl from the R list made by nuts_control_list() (R/nuts.R): iter,
 * warmup (required), thin, max_treedepth, dense, chain, refresh, adapt_delta,
 * stepsize, gamma, kappa, t0, init_buffer, term_buffer, base_window,
 * inv_metric (NULL, dim or dim x dim; pointer into the list), progress; and
 * the host callbacks (R_alloc, R's RNG, classed errors, progress and user
 * interrupts). Raises hbmmm_input_error on anything malformed. */
void hb_nuts_read_control(SEXP control, int dim, hb_nuts_control *ctl);
SEXP hb_nuts_chain(const hb_nuts_model *m, const hb_nuts_control *ctl, const double *init);
/* Output arrays of the sizes hb_nuts_run() fills, from R_alloc. */
void hb_nuts_alloc_output(const hb_nuts_model *m, const hb_nuts_control *ctl,
                          hb_nuts_output *out);

/* ---- .Call entry points ------------------------------------------------ */
SEXP hb_adstock(SEXP x, SEXP type, SEXP par, SEXP max_lag, SEXP normalize,
                SEXP group, SEXP time, SEXP deriv);
SEXP hb_saturate(SEXP x, SEXP type, SEXP par, SEXP deriv);
SEXP hb_saturate_mixture(SEXP x, SEXP ncomp, SEXP par, SEXP deriv);
SEXP hb_gibbs(SEXP model, SEXP control);
/* convergence diagnostics (draws_summary.c) */
SEXP hb_draws_summary(SEXP draws, SEXP dims, SEXP probs, SEXP vars);
/* memory.c: transparent huge pages for a large output before it is written */
void hb_advise_huge_pages(void *p, size_t bytes);
SEXP hb_ess_mean(SEXP draws, SEXP dims);
/* psis.c: PSIS-LOO per observation of an S x n log-likelihood matrix */
SEXP hb_psis_loo(SEXP ll, SEXP r_eff);
SEXP hb_ess_geyer(SEXP x, SEXP dims, SEXP max_lag);
SEXP hb_draw_names(SEXP model);
/* causal inference (propensity.c, matching.c) */
SEXP hb_logit_irls(SEXP X, SEXP y, SEXP w, SEXP maxit, SEXP tol);
SEXP hb_nn_match(SEXP dist, SEXP treat, SEXP ord_all, SEXP order_t, SEXP stratum,
                 SEXP ratio, SEXP caliper, SEXP replace, SEXP mahal);
SEXP hb_ps_weights(SEXP score, SEXP treat, SEXP estimand, SEXP stabilize, SEXP trim);
SEXP hb_mmm_info(SEXP model, SEXP opts);
SEXP hb_mmm_logp(SEXP model, SEXP opts, SEXP theta);
SEXP hb_channel_totals(SEXP model, SEXP channel, SEXP par, SEXP bfix, SEXP ueff, SEXP step, SEXP threads,
                       SEXP key);
SEXP hb_nuts_mmm(SEXP model, SEXP opts, SEXP init, SEXP control);
SEXP hb_nuts_r(SEXP fns, SEXP init, SEXP control);
/* decisions (allocate.c) */
SEXP hb_curves_eval(SEXP type, SEXP beta, SEXP par, SEXP prof, SEXP x, SEXP deriv,
                    SEXP average);
SEXP hb_allocate_dp(SEXP F, SEXP cap);
SEXP hb_allocate_local(SEXP type, SEXP beta, SEXP par, SEXP prof, SEXP x0, SEXP lo,
                       SEXP hi, SEXP cost, SEXP objective, SEXP spend_all, SEXP control);

#endif
