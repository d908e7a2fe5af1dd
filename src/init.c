/* Registration of every .Call entry point with its exact argument count. */
#include <R_ext/Rdynload.h>
#include "hbmmm.h"

static const R_CallMethodDef call_methods[] = {
  {"hb_adstock", (DL_FUNC) &hb_adstock, 7},
  {"hb_saturate", (DL_FUNC) &hb_saturate, 4},
  {NULL, NULL, 0}
};

void R_init_hbmmm(DllInfo *dll) {
  R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
  R_useDynamicSymbols(dll, FALSE);
  R_forceSymbols(dll, TRUE);
}
