/* The NUTS model of nuts(): log density and gradient are R functions of the
 * unconstrained parameter vector, called back from C. Entry point
 * hb_nuts_r(fns, init, control) runs one chain. */
#include <string.h>
#include "hbmmm.h"

typedef struct {
  SEXP lp_fn, grad_fn;
  int dim;
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

static void rcall_write(void *vctx, const double *theta, double *out) {
  rcall_ctx *c = (rcall_ctx *) vctx;
  memcpy(out, theta, (size_t) c->dim * sizeof(double));
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

  double *theta = (double *) R_alloc((size_t) d, sizeof(double));
  memcpy(theta, REAL(init), (size_t) d * sizeof(double));
  double lp;
  double *g0 = (double *) R_alloc((size_t) d, sizeof(double));
  if (rcall_logp_grad(&ctx, theta, &lp, g0) != 0)
    hb_input_error("init", "the log density and its gradient must be finite at the initial values");
  hb_nuts_output out;
  hb_nuts_alloc_output(&m, &ctl, &out);
  GetRNGstate();
  hb_nuts_run(&m, &ctl, theta, &out);
  PutRNGstate();
  return hb_nuts_result(&m, &ctl, &out);
}
