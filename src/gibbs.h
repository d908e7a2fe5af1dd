/* The Gibbs engine (gibbs.c, gibbs_media.c, gibbs_ranef.c, gibbs_cells.c,
 * gibbs_state.c): blocks of one sweep over the model of model.h. Only the
 * engine's own files include this header. */
#ifndef HBMMM_GIBBS_H
#define HBMMM_GIBBS_H

#include "model.h"

/* gibbs_collapse.c: the Metropolis steps on media with the fixed effects
 * and one term's group-level effects integrated out (see there) */
typedef struct {               /* scratch of one thread */
  double *M, *W, *bq, *cols;
  const double **colp;
} hb_collapse_ws;
struct hb_collapse {
  int T, D;                    /* the collapsed term; columns of [X Z ytil] (p + q + 1) */
  double *L, *L1;              /* per level, q x D: Z_l' Pi_l [X_l Z_l ytil_l] (current, proposed) */
  double *Gx, *Gx1;            /* (p + 1) x (p + 1): [X ytil]' Pi [X ytil] */
  double *yt, *yt1;            /* ytil = y - the other terms' effects */
  double *A, *A1, *c, *c1, yy, yy1; /* the reduced statistics of beta */
  double lev, lev1, ldS, ldS1; /* the levels' part of the log marginal (see reduce()), log|Sigma| */
  double *Sig1, *Sinv1;        /* the proposal's Sigma of term T and its inverse */
  int ychg, *chg;              /* the proposal changes ytil; flagged columns of [X Z ytil] */
  int *want;                   /* rows and columns of the per-level cross-products to compute */
  double *Bv;                  /* per level, q: b_l = Zy_l - ZX_l beta */
  double *sig_log_step;        /* log step sizes of the Metropolis steps on Sigma: q sds, then q x q shears */
  int nth, nb;                 /* threads; fixed blocks of levels for sums */
  hb_collapse_ws *ws;          /* per thread */
  double *Gacc, *part;         /* per block (then the total): Schur terms, other sums */
  double *M, *bq, *cols;       /* thread 0's scratch, for the serial steps */
};
void hb_collapse_setup(hb_model *g, int T, int nth);
void hb_collapse_prepare(hb_model *g);
/* roi_f: the factor applied to c's ROI-prior coefficient (hb_fixed_log_marginal_at()) */
double hb_collapse_propose(hb_model *g, int c, const double *mnew, const double *zcoef, double rho, int ychg,
                           double roi_f);
void hb_collapse_accept(hb_model *g);
void hb_collapse_draw_beta(hb_model *g);
void hb_collapse_sigma_mh(hb_model *g, int it, int adapt);
void hb_collapse_draw_effects(hb_model *g);

/* gibbs_mult.c: the log-normal media effects of every block (v, the joint
 * move of b and v, sd) */
void hb_mult_update(hb_model *g);
/* x: the channel's raw media on the data's n rows */
void hb_channel_init_mh(hb_channel *ch, const double *x, R_xlen_t n);
int hb_channel_mh(hb_model *g, int c, int iter, int adapt, int independent);
int hb_channel_par_ok(const hb_channel *ch, const double *par);
/* skip: a term left out (the collapsed one), or -1 */
int hb_channel_zcoef(const hb_model *g, int c, int skip, double *coef);
double hb_channel_effects_logratio(const hb_model *g, int c, double rho, int skip);
void hb_channel_scale_effects(hb_model *g, int c, double rho, int skip);
void hb_cells_draw_beta(hb_model *g);
void hb_cells_update_effects(hb_model *g, int k);
void hb_cells_update_sigma(hb_model *g);
/* gibbs_fixed.c: prior precision and precision-weighted mean of beta; the
 * statistics X' Pi X, X' Pi ystar, ystar' Pi ystar; beta | rest; horseshoe */
void hb_beta_prior(const hb_model *g, double *d0, double *d0m);
void hb_fixed_prepare(hb_model *g);
void hb_beta_draw_from(hb_model *g, const double *A, const double *c);
void hb_beta_redraw_channel(hb_model *g, int c);
void hb_draw_beta(hb_model *g);
void hb_update_horseshoe(hb_model *g);
/* ch: the channel whose Metropolis step asks (its positive coefficient is
 * integrated out too), or -1 */
double hb_fixed_log_marginal(const hb_model *g, const double *A, const double *c, double yy, int ch);
double hb_fixed_log_marginal_at(hb_model *g, const double *A, const double *c, double yy, int ch, double f);
void hb_term_level_draw(hb_rng *rng, const hb_term *t, int k, double *P, double *b, double *uk);
void hb_term_update_effects(hb_model *g, hb_term *t);
void hb_term_update_cov(hb_model *g, hb_term *t);
void hb_term_shift(hb_model *g, hb_term *t, const double *d0, const double *d0m);
/* translation moves between term t and the term its levels nest in */
void hb_term_nest_shift(hb_model *g, hb_term *t);
SEXP hb_gibbs_state_export(const hb_model *g);
void hb_gibbs_state_import(hb_model *g, SEXP st);
void hb_gibbs_state_import_mh(hb_model *g, SEXP st);
/* The chain's generator from the state's `xoshiro` (a continued chain goes
 * on with its own numbers): 1; 0 when the state (NULL allowed) has none. */
int hb_gibbs_state_import_rng(hb_rng *r, SEXP st);
void hb_gibbs_residual(hb_model *g);

#endif
