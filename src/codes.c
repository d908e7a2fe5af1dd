/* The integer codes of src/hbmmm.h as the R list HB_CODES (R/codes.R), so
 * that a test can check that R and C number everything the same way. */
#include "model.h"

typedef struct {
  const char *name;
  int code;
} code_entry;

static SEXP named_ints(const code_entry *e, int n) {
  SEXP v = PROTECT(Rf_allocVector(INTSXP, n));
  const char *names[16];
  for (int i = 0; i < n; i++) {
    INTEGER(v)[i] = e[i].code;
    names[i] = e[i].name;
  }
  hb_set_names(v, n, names);
  UNPROTECT(1);
  return v;
}

#define N_OF(a) ((int) (sizeof(a) / sizeof((a)[0])))

SEXP hb_codes(void) {
  static const code_entry adstock[] = {
    {"none", HB_ADSTOCK_NONE}, {"geometric", HB_ADSTOCK_GEOMETRIC},
    {"delayed", HB_ADSTOCK_DELAYED}, {"weibull_cdf", HB_ADSTOCK_WEIBULL_CDF},
    {"weibull_pdf", HB_ADSTOCK_WEIBULL_PDF}};
  static const code_entry saturation[] = {
    {"none", HB_SAT_NONE}, {"hill", HB_SAT_HILL}, {"logistic", HB_SAT_LOGISTIC},
    {"michaelis_menten", HB_SAT_MICHAELIS_MENTEN}, {"hill_mixture", HB_SAT_HILL_MIXTURE}};
  static const code_entry curve[] = {
    {"linear", HB_CURVE_LINEAR}, {"hill", HB_CURVE_HILL}, {"logistic", HB_CURVE_LOGISTIC},
    {"michaelis_menten", HB_CURVE_MICHAELIS_MENTEN}, {"hill_mixture", HB_CURVE_HILL_MIXTURE}};
  static const code_entry link[] = {
    {"logit", HB_LINK_LOGIT}, {"log", HB_LINK_LOG}, {"scaled_logit", HB_LINK_SCALED_LOGIT}};
  static const code_entry prior[] = {
    {"normal", HB_PRIOR_NORMAL}, {"lognormal", HB_PRIOR_LOGNORMAL}, {"gamma_dist", HB_PRIOR_GAMMA},
    {"beta_dist", HB_PRIOR_BETA}, {"uniform", HB_PRIOR_UNIFORM},
    {"half_normal", HB_PRIOR_HALF_NORMAL}, {"exponential", HB_PRIOR_EXPONENTIAL},
    {"half_student_t", HB_PRIOR_HALF_STUDENT_T}};
  static const code_entry cov[] = {
    {"full", HB_COV_FULL}, {"diag", HB_COV_DIAG}, {"factor", HB_COV_FACTOR},
    {"hw_full", HB_COV_HW_FULL}, {"hw_diag", HB_COV_HW_DIAG}, {"lkj", HB_COV_LKJ}};
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 6));
  SET_VECTOR_ELT(out, 0, named_ints(adstock, N_OF(adstock)));
  SET_VECTOR_ELT(out, 1, named_ints(saturation, N_OF(saturation)));
  SET_VECTOR_ELT(out, 2, named_ints(curve, N_OF(curve)));
  SET_VECTOR_ELT(out, 3, named_ints(link, N_OF(link)));
  SET_VECTOR_ELT(out, 4, named_ints(prior, N_OF(prior)));
  SET_VECTOR_ELT(out, 5, named_ints(cov, N_OF(cov)));
  static const char *names[6] = {"adstock", "saturation", "curve", "link", "prior", "cov"};
  hb_set_names(out, 6, names);
  UNPROTECT(1);
  return out;
}
