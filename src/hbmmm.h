/* hbmmm: prototypes shared across the C sources.
 *
 * Layers: kernels (pure C, no R objects, reused by the samplers) are declared
 * first; .Call entry points (hb_<verb>, registered in init.c) last. */
#ifndef HBMMM_H
#define HBMMM_H

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>

/* ---- argument checking (errors.c) ------------------------------------ */
/* Raise the classed R condition hbmmm_input_error naming `arg`. */
void hb_input_error(const char *arg, const char *fmt, ...);
void hb_check_vector(SEXP x, const char *arg, SEXPTYPE type, R_xlen_t len);
int hb_scalar_int(SEXP x, const char *arg, int lo, int hi, int na_ok);
int hb_scalar_flag(SEXP x, const char *arg);
/* A number as R prints it (NA, NaN, Inf, or up to 6 significant digits). */
const char *hb_fmt_num(double v, char *buf, size_t len);

/* ---- media transforms (transforms.c) ---------------------------------- */
enum hb_adstock_type {
  HB_ADSTOCK_GEOMETRIC = 1,
  HB_ADSTOCK_DELAYED = 2,
  HB_ADSTOCK_WEIBULL_CDF = 3,
  HB_ADSTOCK_WEIBULL_PDF = 4
};
enum hb_saturation_type {
  HB_SAT_HILL = 1,
  HB_SAT_LOGISTIC = 2,
  HB_SAT_MICHAELIS_MENTEN = 3
};

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
/* Saturation of x[0..n); dout (may be NULL) holds npar + 1 arrays of length n:
 * derivatives with respect to each parameter, then with respect to x.
 * Returns nonzero when some x[t] is negative or not finite. */
int hb_saturation(int type, const double *par, const double *x, R_xlen_t n,
                  double *out, double **dout);

/* ---- .Call entry points ------------------------------------------------ */
SEXP hb_adstock(SEXP x, SEXP type, SEXP par, SEXP max_lag, SEXP normalize,
                SEXP group, SEXP deriv);
SEXP hb_saturate(SEXP x, SEXP type, SEXP par, SEXP deriv);

#endif
