/* The Gibbs engine (gibbs.c, gibbs_media.c, gibbs_ranef.c, gibbs_cells.c,
 * gibbs_state.c): blocks of one sweep over the model of model.h. Only the
 * engine's own files include this header. */
#ifndef HBMMM_GIBBS_H
#define HBMMM_GIBBS_H

#include "model.h"

void hb_channel_init_mh(hb_channel *ch);
int hb_channel_mh(hb_model *g, int c, int iter, int adapt);
int hb_channel_par_ok(const hb_channel *ch, const double *par);
void hb_channel_zcoef(const hb_model *g, int c, double *coef);
double hb_channel_effects_logratio(const hb_model *g, int c, double rho);
void hb_channel_scale_effects(hb_model *g, int c, double rho);
void hb_cells_draw_beta(hb_model *g, const double *d0, const double *d0m);
void hb_cells_update_effects(hb_model *g, int k);
void hb_cells_update_sigma(hb_model *g);
/* gibbs_fixed.c: prior precision and precision-weighted mean of beta; the
 * statistics X' Pi X, X' Pi ystar, ystar' Pi ystar; beta | rest; horseshoe */
void hb_beta_prior(const hb_model *g, double *d0, double *d0m);
void hb_fixed_prepare(hb_model *g);
void hb_draw_beta(hb_model *g);
void hb_update_horseshoe(hb_model *g);
double hb_fixed_log_marginal(const hb_model *g, const double *A, const double *c, double yy);
void hb_term_level_draw(const hb_term *t, int k, double *P, double *b, double *uk);
void hb_term_update_effects(hb_model *g, hb_term *t);
void hb_term_update_cov(hb_model *g, hb_term *t);
void hb_term_shift(hb_model *g, hb_term *t, const double *d0, const double *d0m);
SEXP hb_gibbs_state_export(const hb_model *g);
void hb_gibbs_state_import(hb_model *g, SEXP st);
void hb_gibbs_state_import_mh(hb_model *g, SEXP st);
void hb_gibbs_residual(hb_model *g);

#endif
