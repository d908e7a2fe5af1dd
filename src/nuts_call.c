/* R glue of the NUTS engine: the engine's host callbacks (memory from
 * R_alloc, R's RNG, classed R errors, progress and user interrupts), the
 * control list, the output arrays and the result list shared by every NUTS
 * entry point (hb_nuts_mmm, hb_nuts_r, hb_test_nuts_mvn). */
#include <math.h>
#include <string.h>
#include <float.h>
#include <Rmath.h>
#include "hbmmm.h"

/* ---- the host ------------------------------------------------------------- */

typedef struct {
  SEXP progress; /* R function(chain, it, iter, warmup) or R_NilValue */
  int refresh, chain;
} host_state;

static void *host_alloc(void *ctx, size_t nmemb, size_t size) {
  (void) ctx;
  return R_alloc(nmemb, size);
}

static double host_norm_rand(void *ctx) {
  (void) ctx;
  return norm_rand();
}

static double host_unif_rand(void *ctx) {
  (void) ctx;
  return unif_rand();
}

static void host_fail(void *ctx, int sampler, const char *arg, const char *msg) {
  (void) ctx;
  if (sampler) hb_sampler_error("%s", msg);
  hb_input_error(arg, "%s", msg);
}

/* The chain runs between GetRNGstate() and PutRNGstate() (hb_nuts_chain):
 * the progress function may use R's RNG, so the state is handed over. */
static void host_iteration(void *ctx, int it, int iter, int warmup) {
  const host_state *hs = (const host_state *) ctx;
  if (hs->refresh > 0 && hs->progress != R_NilValue && (it % hs->refresh == 0 || it == iter)) {
    PutRNGstate();
    hb_call_progress(hs->progress, hs->chain, it, iter, warmup);
    GetRNGstate();
  }
  R_CheckUserInterrupt();
}

static double *dalloc(size_t n) {
  double *x = (double *) R_alloc(n ? n : 1, sizeof(double));
  memset(x, 0, (n ? n : 1) * sizeof(double));
  return x;
}

/* ---- control, output, result ------------------------------------------------ */


static SEXP ctl_elt(SEXP list, const char *name) {
  SEXP nms = Rf_getAttrib(list, R_NamesSymbol);
  if (TYPEOF(nms) != STRSXP) return R_NilValue;
  for (R_xlen_t i = 0; i < XLENGTH(list); i++)
    if (strcmp(CHAR(STRING_ELT(nms, i)), name) == 0) return VECTOR_ELT(list, i);
  return R_NilValue;
}

static int ctl_int(SEXP list, const char *name, int lo, int hi, int dflt, int required) {
  char arg[64];
  snprintf(arg, sizeof arg, "control$%s", name);
  SEXP x = ctl_elt(list, name);
  if (x == R_NilValue) {
    if (required) hb_input_error(arg, "is missing");
    return dflt;
  }
  if (TYPEOF(x) == LGLSXP && XLENGTH(x) == 1 && LOGICAL(x)[0] != NA_LOGICAL && lo <= 0 && hi >= 1)
    return LOGICAL(x)[0];
  return hb_scalar_int(x, arg, lo, hi, 0);
}

static double ctl_real(SEXP list, const char *name, double lo, double hi, double dflt) {
  char arg[64], b1[32];
  snprintf(arg, sizeof arg, "control$%s", name);
  SEXP x = ctl_elt(list, name);
  if (x == R_NilValue) return dflt;
  if ((TYPEOF(x) != REALSXP && TYPEOF(x) != INTSXP) || XLENGTH(x) != 1)
    hb_input_error(arg, "must be a single number; found type '%s' of length %.0f",
                   Rf_type2char(TYPEOF(x)), (double) Rf_xlength(x));
  double v = Rf_asReal(x);
  if (!(v >= lo && v <= hi))
    hb_input_error(arg, "must be a number in [%g, %g]; found %s", lo, hi, hb_fmt_num(v, b1, sizeof b1));
  return v;
}

void hb_nuts_read_control(SEXP control, int dim, hb_nuts_control *ctl) {
  if (TYPEOF(control) != VECSXP) hb_input_error("control", "must be a list");
  memset(ctl, 0, sizeof *ctl);
  ctl->iter = ctl_int(control, "iter", 1, 1000000000, 0, 1);
  ctl->warmup = ctl_int(control, "warmup", 0, ctl->iter, 0, 1);
  ctl->thin = ctl_int(control, "thin", 1, ctl->iter, 1, 0);
  ctl->max_treedepth = ctl_int(control, "max_treedepth", 1, HB_NUTS_MAX_DEPTH, 10, 0);
  ctl->dense = ctl_int(control, "dense", 0, 1, 0, 0);
  ctl->chain = ctl_int(control, "chain", 1, 1000000, 1, 0);
  ctl->refresh = ctl_int(control, "refresh", 0, 1000000000, 0, 0);
  ctl->adapt_delta = ctl_real(control, "adapt_delta", 1e-6, 1 - 1e-12, 0.8);
  if (!(ctl->adapt_delta > 0 && ctl->adapt_delta < 1))
    hb_input_error("control$adapt_delta", "must be in (0, 1)");
  ctl->stepsize = ctl_real(control, "stepsize", 0, 1e7, 0);
  ctl->gamma = ctl_real(control, "gamma", 1e-12, 1e6, 0.05);
  ctl->kappa = ctl_real(control, "kappa", 1e-12, 1, 0.75);
  ctl->t0 = ctl_real(control, "t0", 1e-12, 1e12, 10);
  ctl->init_buffer = ctl_int(control, "init_buffer", 1, 1000000000, 75, 0);
  ctl->term_buffer = ctl_int(control, "term_buffer", 1, 1000000000, 50, 0);
  ctl->base_window = ctl_int(control, "base_window", 1, 1000000000, 25, 0);
  SEXP im = ctl_elt(control, "inv_metric");
  ctl->inv_metric = NULL;
  if (im != R_NilValue) {
    R_xlen_t want = ctl->dense ? (R_xlen_t) dim * dim : dim;
    if (TYPEOF(im) != REALSXP || XLENGTH(im) != want)
      hb_input_error("control$inv_metric", "must be NULL or a double %s of %s %d; found type '%s' of length %.0f",
                     ctl->dense ? "matrix" : "vector", ctl->dense ? "dimension" : "length", dim,
                     Rf_type2char(TYPEOF(im)), (double) Rf_xlength(im));
    const double *v = REAL(im);
    if (!ctl->dense) {
      for (int i = 0; i < dim; i++)
        if (!(v[i] > 0 && v[i] <= DBL_MAX))
          hb_input_error("control$inv_metric", "must hold finite positive values");
    } else {
      for (int j = 0; j < dim; j++)
        for (int i = 0; i < dim; i++) {
          double a = v[i + (size_t) j * dim], b = v[j + (size_t) i * dim];
          if (!R_FINITE(a) || fabs(a - b) > 1e-8 * (fabs(a) + fabs(b) + 1e-300))
            hb_input_error("control$inv_metric", "must be a finite symmetric matrix");
        }
      double *L = dalloc((size_t) dim * dim);
      memcpy(L, v, (size_t) dim * dim * sizeof(double));
      if (hb_chol(L, dim) != 0) hb_input_error("control$inv_metric", "must be positive definite");
    }
    ctl->inv_metric = v;
  }
  host_state *hs = (host_state *) R_alloc(1, sizeof(host_state));
  hs->progress = R_NilValue;
  hs->refresh = ctl->refresh;
  hs->chain = ctl->chain;
  if (ctl->refresh > 0) {
    SEXP pr = ctl_elt(control, "progress");
    if (pr != R_NilValue && !Rf_isFunction(pr))
      hb_input_error("control$progress", "must be a function (or NULL)");
    hs->progress = pr; /* protected as an element of control */
  }
  ctl->host.ctx = hs;
  ctl->host.alloc = host_alloc;
  ctl->host.norm_rand = host_norm_rand;
  ctl->host.unif_rand = host_unif_rand;
  ctl->host.fail = host_fail;
  ctl->host.iteration = host_iteration;
}

SEXP hb_nuts_result(const hb_nuts_model *m, const hb_nuts_control *ctl,
                    const hb_nuts_output *out) {
  static const char *dnames[HB_NUTS_NDIAG] = {"accept_stat", "stepsize", "treedepth",
                                              "n_leapfrog", "divergent", "energy"};
  static const char *names[] = {"draws", "diag", "theta", "inv_metric", "stepsize", "n_grad"};
  int nsave = hb_nuts_nsave(ctl), d = m->dim;
  SEXP res = PROTECT(Rf_allocVector(VECSXP, 6));
  hb_set_names(res, 6, names);

  SEXP dr = PROTECT(Rf_allocMatrix(REALSXP, nsave, m->nout));
  if ((R_xlen_t) nsave * m->nout > 0)
    memcpy(REAL(dr), out->draws, (size_t) nsave * m->nout * sizeof(double));
  SET_VECTOR_ELT(res, 0, dr);
  SEXP dg = PROTECT(Rf_allocMatrix(REALSXP, nsave, HB_NUTS_NDIAG));
  if (nsave > 0) memcpy(REAL(dg), out->diag, (size_t) nsave * HB_NUTS_NDIAG * sizeof(double));
  SEXP dn = PROTECT(Rf_allocVector(VECSXP, 2));
  SEXP cn = PROTECT(Rf_allocVector(STRSXP, HB_NUTS_NDIAG));
  for (int k = 0; k < HB_NUTS_NDIAG; k++) SET_STRING_ELT(cn, k, Rf_mkChar(dnames[k]));
  SET_VECTOR_ELT(dn, 1, cn);
  Rf_setAttrib(dg, R_DimNamesSymbol, dn);
  SET_VECTOR_ELT(res, 1, dg);
  SEXP th = PROTECT(Rf_allocVector(REALSXP, d));
  memcpy(REAL(th), out->theta, (size_t) d * sizeof(double));
  SET_VECTOR_ELT(res, 2, th);
  SEXP im = PROTECT(ctl->dense ? Rf_allocMatrix(REALSXP, d, d) : Rf_allocVector(REALSXP, d));
  memcpy(REAL(im), out->inv_metric, (ctl->dense ? (size_t) d * d : (size_t) d) * sizeof(double));
  SET_VECTOR_ELT(res, 3, im);
  SET_VECTOR_ELT(res, 4, Rf_ScalarReal(out->stepsize));
  SET_VECTOR_ELT(res, 5, Rf_ScalarReal(out->n_grad));
  UNPROTECT(7);
  return res;
}

/* Output arrays of the sizes hb_nuts_run() fills, from R_alloc. */
void hb_nuts_alloc_output(const hb_nuts_model *m, const hb_nuts_control *ctl,
                          hb_nuts_output *out) {
  int nsave = hb_nuts_nsave(ctl), d = m->dim;
  memset(out, 0, sizeof *out);
  out->draws = dalloc((size_t) nsave * (m->nout > 0 ? m->nout : 1));
  out->diag = dalloc((size_t) nsave * HB_NUTS_NDIAG);
  out->theta = dalloc((size_t) d);
  out->inv_metric = dalloc(ctl->dense ? (size_t) d * d : (size_t) d);
}

/* One chain from init (not modified): checks that the model is finite
 * there, runs with R's RNG state, and returns hb_nuts_result(). The shared
 * body of every NUTS entry point. */
SEXP hb_nuts_chain(const hb_nuts_model *m, const hb_nuts_control *ctl, const double *init) {
  double *theta = dalloc((size_t) m->dim), *g0 = dalloc((size_t) m->dim), lp;
  memcpy(theta, init, (size_t) m->dim * sizeof(double));
  if (m->logp_grad(m->ctx, theta, &lp, g0) != 0)
    hb_input_error("init", "the log density and its gradient must be finite at the initial values");
  hb_nuts_output out;
  hb_nuts_alloc_output(m, ctl, &out);
  GetRNGstate();
  hb_nuts_run(m, ctl, theta, &out);
  PutRNGstate();
  return hb_nuts_result(m, ctl, &out);
}
