/* Registration of every .Call entry point with its exact argument count. */
#include <R_ext/Rdynload.h>
#include "hbmmm.h"

static const R_CallMethodDef call_methods[] = {
  {"hb_codes", (DL_FUNC) &hb_codes, 0},
  {"hb_adstock", (DL_FUNC) &hb_adstock, 8},
  {"hb_saturate", (DL_FUNC) &hb_saturate, 4},
  {"hb_saturate_mixture", (DL_FUNC) &hb_saturate_mixture, 4},
  {"hb_gibbs", (DL_FUNC) &hb_gibbs, 2},
  {"hb_draw_names", (DL_FUNC) &hb_draw_names, 1},
  {"hb_logit_irls", (DL_FUNC) &hb_logit_irls, 5},
  {"hb_nn_match", (DL_FUNC) &hb_nn_match, 9},
  {"hb_ps_weights", (DL_FUNC) &hb_ps_weights, 5},
  {"hb_ess_mean", (DL_FUNC) &hb_ess_mean, 2},
  {"hb_psis_loo", (DL_FUNC) &hb_psis_loo, 2},
  {"hb_draws_summary", (DL_FUNC) &hb_draws_summary, 4},
  {"hb_mmm_info", (DL_FUNC) &hb_mmm_info, 2},
  {"hb_mmm_logp", (DL_FUNC) &hb_mmm_logp, 3},
  {"hb_channel_totals", (DL_FUNC) &hb_channel_totals, 8},
  {"hb_nuts_mmm", (DL_FUNC) &hb_nuts_mmm, 4},
  {"hb_nuts_r", (DL_FUNC) &hb_nuts_r, 3},
  {"hb_curves_eval", (DL_FUNC) &hb_curves_eval, 7},
  {"hb_allocate_dp", (DL_FUNC) &hb_allocate_dp, 2},
  {"hb_allocate_local", (DL_FUNC) &hb_allocate_local, 11},
  {"hb_test_chol", (DL_FUNC) &hb_test_chol, 1},
  {"hb_test_lanes", (DL_FUNC) &hb_test_lanes, 5},
  {"hb_test_mvn_precision", (DL_FUNC) &hb_test_mvn_precision, 3},
  {"hb_test_inv_wishart", (DL_FUNC) &hb_test_inv_wishart, 3},
  {"hb_test_inv_gamma", (DL_FUNC) &hb_test_inv_gamma, 3},
  {"hb_test_rng", (DL_FUNC) &hb_test_rng, 4},
  {"hb_test_online", (DL_FUNC) &hb_test_online, 2},
  {"hb_test_nuts_mvn", (DL_FUNC) &hb_test_nuts_mvn, 4},
  {NULL, NULL, 0}
};

void R_init_hbmmm(DllInfo *dll) {
  R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
  R_useDynamicSymbols(dll, FALSE);
  R_forceSymbols(dll, TRUE);
  hb_rng_init_tables();
}
