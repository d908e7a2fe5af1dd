/* Argument checks for .Call entry points. Failures raise the same classed
 * condition as the R layer (hbmmm_input_error), by calling back into the
 * package namespace, so direct .Call misuse is reported, never a crash. */
#include <stdarg.h>
#include <stdio.h>
#include "hbmmm.h"

/* Sets the names of x (protected by the caller) from n C strings: the one
 * home for naming the lists the entry points return. */
void hb_set_names(SEXP x, int n, const char *const *names) {
  SEXP nm = PROTECT(Rf_allocVector(STRSXP, n));
  for (int a = 0; a < n; a++) SET_STRING_ELT(nm, a, Rf_mkChar(names[a]));
  Rf_setAttrib(x, R_NamesSymbol, nm);
  UNPROTECT(1);
}

/* list(<na> = a, <nb> = b); a and b must be protected by the caller, the
 * result is not. */
SEXP hb_named_pair(SEXP a, SEXP b, const char *na, const char *nb) {
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 2));
  SET_VECTOR_ELT(out, 0, a);
  SET_VECTOR_ELT(out, 1, b);
  const char *names[2] = {na, nb};
  hb_set_names(out, 2, names);
  UNPROTECT(1);
  return out;
}

/* Evaluate hbmmm:::<fn>(arg, msg) in the package namespace (it signals a
 * classed condition and does not return). */
static void raise_classed(const char *fn_name, const char *arg, const char *msg) {
  SEXP ns = PROTECT(R_FindNamespace(Rf_mkString("hbmmm")));
  SEXP fn = PROTECT(Rf_findFun(Rf_install(fn_name), ns));
  /* each argument protected before Rf_lang3 allocates the call */
  SEXP a1 = PROTECT(Rf_mkString(arg)), a2 = PROTECT(Rf_mkString(msg));
  SEXP call = PROTECT(Rf_lang3(fn, a1, a2));
  Rf_eval(call, ns);
  UNPROTECT(5);
}

void hb_call_progress(SEXP fn, int chain, int it, int iter, int warmup) {
  /* each argument protected before Rf_lang5 allocates the call */
  SEXP a1 = PROTECT(Rf_ScalarInteger(chain)), a2 = PROTECT(Rf_ScalarInteger(it));
  SEXP a3 = PROTECT(Rf_ScalarInteger(iter)), a4 = PROTECT(Rf_ScalarInteger(warmup));
  SEXP call = PROTECT(Rf_lang5(fn, a1, a2, a3, a4));
  Rf_eval(call, R_GlobalEnv);
  UNPROTECT(5);
}

void hb_input_error(const char *arg, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  raise_classed("hb_raise_from_c", arg, msg);
  Rf_error("Invalid `%s`: %s", arg, msg); /* not reached */
}

/* A numerical failure inside a sampler (for example a conditional precision
 * that is not positive definite): class hbmmm_sampler_error. */
void hb_sampler_error(const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  raise_classed("hb_sampler_error_from_c", "", msg);
  Rf_error("%s", msg); /* not reached */
}

/* %g prints NA_real_ as "nan"; say what an R user typed instead */
const char *hb_fmt_num(double v, char *buf, size_t len) {
  if (ISNA(v)) snprintf(buf, len, "NA");
  else if (ISNAN(v)) snprintf(buf, len, "NaN");
  else if (!R_FINITE(v)) snprintf(buf, len, v > 0 ? "Inf" : "-Inf");
  else snprintf(buf, len, "%.6g", v);
  return buf;
}

static const char *type_name(SEXP x) { return Rf_type2char(TYPEOF(x)); }

/* x must be a vector of `type` (REALSXP, INTSXP, ...) and, when len >= 0,
 * of length len. */
void hb_check_vector(SEXP x, const char *arg, SEXPTYPE type, R_xlen_t len) {
  if (TYPEOF(x) != type)
    hb_input_error(arg, "must be %s %s vector; found type '%s'",
                   type == INTSXP ? "an" : "a", Rf_type2char(type), type_name(x));
  if (len >= 0 && XLENGTH(x) != len)
    hb_input_error(arg, "must have length %.0f; found length %.0f",
                   (double) len, (double) XLENGTH(x));
}

/* A length-one integer (or whole double) in [lo, hi]; NA allowed when na_ok
 * (returned as NA_INTEGER). */
int hb_scalar_int(SEXP x, const char *arg, int lo, int hi, int na_ok) {
  if ((TYPEOF(x) != INTSXP && TYPEOF(x) != REALSXP) || XLENGTH(x) != 1)
    hb_input_error(arg, "must be a single whole number; found type '%s' of length %.0f",
                   type_name(x), (double) Rf_xlength(x));
  double v = Rf_asReal(x);
  if (ISNAN(v)) {
    if (na_ok) return NA_INTEGER;
    hb_input_error(arg, "must not be NA");
  }
  /* range first: casting Inf or huge values to an integer is undefined */
  if (!(v >= lo && v <= hi) || v != (double) (long long) v)
    hb_input_error(arg, "must be a whole number in [%d, %d]; found %g", lo, hi, v);
  return (int) v;
}

int hb_scalar_flag(SEXP x, const char *arg) {
  if (TYPEOF(x) != LGLSXP || XLENGTH(x) != 1 || LOGICAL(x)[0] == NA_LOGICAL)
    hb_input_error(arg, "must be TRUE or FALSE");
  return LOGICAL(x)[0];
}
