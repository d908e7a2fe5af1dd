/* The NUTS model of nuts(): log density and gradient are R functions of the
 * unconstrained parameter vector, called back from C. Entry point
 * hb_nuts_r(fns, init, control) runs one chain. */
#define USE_FC_LEN_T
#include <string.h>
#include <R_ext/BLAS.h>
#include "model.h"

typedef struct {
  int dim; /* first: see rcall_write() */
  SEXP lp_fn, grad_fn;
} rcall_ctx;

static SEXP call_with_theta(SEXP fn, const double *theta, int dim) {
  SEXP th = PROTECT(Rf_allocVector(REALSXP, dim));
  memcpy(REAL(th), theta, (size_t) dim * sizeof(double));
  SEXP call = PROTECT(Rf_lang2(fn, th));
  SEXP v = Rf_eval(call, R_GlobalEnv);
  UNPROTECT(2);
  return v;
}

/* Wrong types or lengths are the user's bug: an R error naming the function.
 * Non-finite values are a property of the point: nonzero return. */
static int rcall_logp_grad(void *vctx, const double *theta, double *lp, double *grad) {
  rcall_ctx *c = (rcall_ctx *) vctx;
  SEXP v = PROTECT(call_with_theta(c->lp_fn, theta, c->dim));
  if ((TYPEOF(v) != REALSXP && TYPEOF(v) != INTSXP) || XLENGTH(v) != 1)
    hb_input_error("log_density", "must return a single number; it returned type '%s' of length %.0f",
                   Rf_type2char(TYPEOF(v)), (double) Rf_xlength(v));
  double l = Rf_asReal(v);
  UNPROTECT(1);
  *lp = l;
  if (!R_FINITE(l)) return 1;
  SEXP g = PROTECT(call_with_theta(c->grad_fn, theta, c->dim));
  if ((TYPEOF(g) != REALSXP && TYPEOF(g) != INTSXP) || XLENGTH(g) != c->dim)
    hb_input_error("grad", "must return a numeric vector of length %d (one value per parameter); it returned type '%s' of length %.0f",
                   c->dim, Rf_type2char(TYPEOF(g)), (double) Rf_xlength(g));
  int bad = 0;
  if (TYPEOF(g) == REALSXP) {
    const double *gv = REAL(g);
    for (int i = 0; i < c->dim; i++) {
      grad[i] = gv[i];
      if (!R_FINITE(gv[i])) bad = 1;
    }
  } else {
    const int *gv = INTEGER(g);
    for (int i = 0; i < c->dim; i++) {
      if (gv[i] == NA_INTEGER) {
        bad = 1;
        grad[i] = NA_REAL;
      } else {
        grad[i] = gv[i];
      }
    }
  }
  UNPROTECT(1);
  return bad;
}

/* identity output; the dimension is the first int of both contexts */
static void rcall_write(void *vctx, const double *theta, double *out) {
  int dim = *(const int *) vctx;
  memcpy(out, theta, (size_t) dim * sizeof(double));
}

static SEXP fn_elt(SEXP fns, const char *name) {
  SEXP nms = Rf_getAttrib(fns, R_NamesSymbol);
  SEXP fn = R_NilValue;
  if (TYPEOF(nms) == STRSXP)
    for (R_xlen_t i = 0; i < XLENGTH(fns); i++)
      if (strcmp(CHAR(STRING_ELT(nms, i)), name) == 0) fn = VECTOR_ELT(fns, i);
  if (!Rf_isFunction(fn)) hb_input_error(name, "must be a function");
  return fn;
}

SEXP hb_nuts_r(SEXP fns, SEXP init, SEXP control) {
  if (TYPEOF(fns) != VECSXP) hb_input_error("fns", "must be a list(log_density = , grad = ) of functions");
  rcall_ctx ctx;
  ctx.lp_fn = fn_elt(fns, "log_density");
  ctx.grad_fn = fn_elt(fns, "grad");
  if (TYPEOF(init) != REALSXP || XLENGTH(init) < 1 || XLENGTH(init) > 100000)
    hb_input_error("init", "must be a double vector of length 1 to 100000; found type '%s' of length %.0f",
                   Rf_type2char(TYPEOF(init)), (double) Rf_xlength(init));
  int d = (int) XLENGTH(init);
  for (int i = 0; i < d; i++)
    if (!R_FINITE(REAL(init)[i])) hb_input_error("init", "must hold finite values");
  ctx.dim = d;
  hb_nuts_control ctl;
  hb_nuts_read_control(control, d, &ctl);
  hb_nuts_model m;
  m.dim = m.nout = d;
  m.ctx = &ctx;
  m.logp_grad = rcall_logp_grad;
  m.write = rcall_write;

  return hb_nuts_chain(&m, &ctl, REAL(init));
}

/* ---- test-only: a Gaussian model in C ------------------------------------
 * hb_test_nuts_mvn(mean, prec, init, control) runs one chain on
 * N(mean, prec^{-1}) without R callbacks, so the engine can be checked on
 * large targets in the default test suite. */
typedef struct {
  int d;
  const double *mean, *prec;
  double *r;
} mvn_ctx;

static int mvn_logp_grad(void *vctx, const double *theta, double *lp, double *grad) {
  mvn_ctx *c = (mvn_ctx *) vctx;
  int d = c->d, inc = 1;
  double one = 1.0, zero = 0.0;
  for (int i = 0; i < d; i++) c->r[i] = theta[i] - c->mean[i];
  F77_CALL(dsymv)("L", &d, &one, c->prec, &d, c->r, &inc, &zero, grad, &inc FCONE);
  double q = 0.0;
  for (int i = 0; i < d; i++) {
    q += c->r[i] * grad[i];
    grad[i] = -grad[i];
  }
  *lp = -0.5 * q;
  return !R_FINITE(*lp);
}

SEXP hb_test_nuts_mvn(SEXP mean, SEXP prec, SEXP init, SEXP control) {
  if (TYPEOF(mean) != REALSXP || XLENGTH(mean) < 1 || XLENGTH(mean) > 5000)
    hb_input_error("mean", "must be a double vector of length 1 to 5000");
  int d = (int) XLENGTH(mean);
  hb_check_vector(prec, "prec", REALSXP, (R_xlen_t) d * d);
  hb_check_vector(init, "init", REALSXP, d);
  for (int i = 0; i < d; i++)
    if (!R_FINITE(REAL(init)[i]) || !R_FINITE(REAL(mean)[i])) hb_input_error("init", "must be finite");
  for (R_xlen_t i = 0; i < (R_xlen_t) d * d; i++)
    if (!R_FINITE(REAL(prec)[i])) hb_input_error("prec", "must be finite");
  mvn_ctx ctx = {d, REAL(mean), REAL(prec), (double *) R_alloc((size_t) d, sizeof(double))};
  hb_nuts_control ctl;
  hb_nuts_read_control(control, d, &ctl);
  hb_nuts_model m = {d, d, &ctx, mvn_logp_grad, rcall_write};
  return hb_nuts_chain(&m, &ctl, REAL(init));
}
