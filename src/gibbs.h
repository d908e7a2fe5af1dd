/* The Gibbs engine (gibbs.c, gibbs_fixed.c, gibbs_media.c, gibbs_collapse.c,
 * gibbs_nested.c, gibbs_sigma.c, gibbs_ranef.c, gibbs_cells.c, gibbs_mult.c,
 * gibbs_state.c): blocks of one sweep over the model of model.h. Only the
 * engine's own files include this header. */
#ifndef HBMMM_GIBBS_H
#define HBMMM_GIBBS_H

#include "model.h"

/* gibbs_collapse.c: the Metropolis steps on media with the fixed effects
 * and one term's group-level effects integrated out (see there) */
typedef struct {               /* scratch of one thread */
  double *M, *W, *bq, *cols;
  double *lanes;               /* the batched kernels' workspace (NULL when they do not fit) */
  const double **colp;
} hb_collapse_ws;
struct hb_collapse {
  int T;                       /* the collapsed term */
  int nc, D, zz;               /* columns of [X Z ytil] (p + q + 1); of them, stored in L (see
                                  hb_collapse_setup()); where Z_l' Pi_l Z_l starts in a block of L */
  int *lc, *pl;                /* the stored column of each column of [X Z ytil], and back */
  double *L, *L1;              /* per level, q x D: Z_l' Pi_l [X_l Z_l ytil_l] (current, proposed) */
  double *Gx, *Gx1;            /* (p + 1) x (p + 1): [X ytil]' Pi [X ytil] */
  double *yt, *yt1;            /* ytil = y - the other terms' effects */
  double *A, *A1, *c, *c1, yy, yy1; /* the reduced statistics of beta */
  double lev, lev1, ldS, ldS1; /* the levels' part of the log marginal (see reduce()), log|Sigma| */
  double *Sig1, *Sinv1;        /* the proposal's Sigma of term T and its inverse */
  int ychg, *chg;              /* the proposal changes ytil; flagged columns of [X Z ytil] */
  int *want;                   /* rows and stored columns of the per-level cross-products to compute */
  double *Bv;                  /* per level, q: b_l = Zy_l - ZX_l beta */
  double *sig_log_step;        /* log step sizes of the Metropolis steps on Sigma: q sds, then q x q shears */
  int nth, nb;                 /* threads; fixed blocks of levels for sums */
  hb_collapse_ws *ws;          /* per thread */
  double *pk;                  /* NULL, or the levels' H_l and b_l packed for the covariance steps */
  ptrdiff_t *pk_off;           /* where each block of levels starts in pk */
  double *Gacc, *part;         /* per block (then the total): Schur terms, other sums */
  double *lsum;                /* per block (then the total): sums of L's blocks, then ytil' Pi ytil */
  double *M, *bq, *cols;       /* thread 0's scratch, for the serial steps */
  struct hb_nested *nest;      /* NULL, or the parent term drawn with u_T integrated out */
};
/* nest: the nested block's mode (model$collapse_nest, hb_nested_setup()) */
void hb_collapse_setup(hb_model *g, int T, int nth, int nest);
/* whether the media steps integrate out term k's effects: the collapsed
 * term, and its parent when the nested block is full */
int hb_term_collapsed(const hb_model *g, int k);
void hb_collapse_prepare(hb_model *g);
/* roi_f: the factor applied to c's ROI-prior coefficient (hb_fixed_log_marginal_at()) */
double hb_collapse_propose(hb_model *g, int c, const double *mnew, const double *zcoef, double rho, int ychg,
                           double roi_f);
void hb_collapse_accept(hb_model *g);
void hb_collapse_draw_beta(hb_model *g);
void hb_collapse_sigma_mh(hb_model *g, int it, int adapt);
void hb_collapse_draw_effects(hb_model *g);

/* gibbs_sigma.c: kernels shared by the collapsed and the nested block */
/* sums over levels are taken per fixed block of levels (at most
 * HB_LEVEL_BLOCKS, whatever the number of threads), then added in block
 * order; hb_block_range() gives block b's levels */
#define HB_LEVEL_BLOCKS 64
void hb_block_range(int G, int nb, int b, int *l0, int *l1);
double hb_log_det_sigma(const double *Sinv, int q, double *M);
/* The end of a reduction over nb blocks of levels: Gacc holds nb + 1
 * (p + 1) x (p + 1) lower triangles, the blocks' Schur terms of the
 * integrated effects and then (written here) their sum in block order;
 * with Gx = [X ytil]' Pi [X ytil], A = Gx - sum on X's rows and columns, c
 * and yy the same on ytil's. Returns the sum of part (nb, in block order). */
double hb_reduce_finish(int p, int nb, double *Gacc, const double *part, const double *Gx, double *A, double *c,
                        double *yy);
/* M = Sigma^-1 + Z_l' Pi_l Z_l (lower triangle) from level l's block Lb of
 * the collapsed statistics, where Z_l' Pi_l Z_l starts at column zz */
void hb_level_precision(const double *Sinv, const double *Lb, int zz, int q, double *M);
/* Metropolis moves on one term's covariance with its effects integrated
 * out: marginal(g, Sinv, log|Sigma|) is the log density of the data given
 * the rest, up to a constant (-Inf when impossible); *ldS is kept current,
 * log_step (q sds, then q x q shears) adapts during warmup, Sig1 and Sinv1
 * are q x q scratch. */
typedef struct {
  hb_term *t;
  double *ldS, *log_step, *Sig1, *Sinv1;
  double (*marginal)(const hb_model *g, const double *Sinv, double ldS);
} hb_sigma_mover;
void hb_sigma_round(hb_model *g, const hb_sigma_mover *mv, int it, int adapt, double *fcur);
/* Sigma' = R Sigma R for R = diag(exp(lr)), its inverse; the log prior
 * ratio and Jacobian of that map under the term's covariance prior */
void hb_sigma_scaled(const hb_term *t, const double *lr, double *Sig1, double *Sinv1);
double hb_sigma_scale_logratio(const hb_term *t, const double *Sinv1, const double *lr);

/* gibbs_nested.c: the parent term of the collapsed one (the term its
 * levels nest in), its covariance and effects drawn with u_T integrated
 * out (see there) */
typedef struct hb_nested {
  int P, nth;                  /* the parent term; threads */
  int paired;                  /* every parent column equals a column of T (pcol) */
  int full;                    /* paired, and the media steps integrate the parent's effects out too */
  int *pcol;                   /* paired: the column of T equal to each parent column */
  int *kids, *kid_start;       /* T's levels by parent level: kids[kid_start[m] .. kid_start[m + 1]) */
  double *S;                   /* per level of T: Z_l' Pi_l Z2_l, then its part of K_m and k_m */
  double *Bw;                  /* per level of T, q: b_l with u_P added back */
  double *K;                   /* per parent level: K_m (q2 x q2), k_m (q2) */
  double *du;                  /* per parent level, q2: the change of u_P that ytil takes */
  double *Sig1, *Sinv1, *M2, *log_step; /* proposals; q2 x q2 scratch; step sizes */
  double ldS, ldS1;            /* full: log|Sigma_P| (current, proposed) */
  int nb;                      /* full: fixed blocks of parent levels for sums */
  double *Gacc, *part;         /* full: per block, Schur terms and log determinants */
  double *ws;                  /* per thread scratch, wsz each */
  int wsz;
} hb_nested;
/* mode (R/model_list.R, collapse_nest_mode()): 0 none; 1 the parent's
 * covariance and effects; 2 full. Models with lift-test rows or log-normal
 * media effects get none. */
void hb_nested_setup(hb_model *g, int nth, int mode);
void hb_nested_update(hb_model *g, int it, int adapt);
/* the reduction of gibbs_collapse.c with the parent's effects integrated
 * out as well (full blocks): returns the levels' part of the log marginal */
double hb_nested_reduce(const hb_model *g, const double *L, const double *Gx, const double *Sinv, double ldS,
                        const double *Sinv2, double ldS2, double *A, double *c, double *yy);

/* gibbs_mult.c: the log-normal media effects of every block (v, the joint
 * move of b and v, sd) */
void hb_mult_update(hb_model *g);
/* x: the channel's raw media on the data's n rows */
void hb_channel_init_mh(hb_channel *ch, const double *x, R_xlen_t n);
int hb_channel_mh(hb_model *g, int c, int iter, int warmup, int independent);
int hb_channel_independent_first(const hb_channel *ch, int iter, int warmup);
int hb_channel_last_window(int warmup);
void hb_channel_par_of_phi(const hb_channel *ch, const double *phi, double *par);
void hb_channel_window_restart(hb_channel *ch);
void hb_channel_scale_restart(hb_channel *ch);
/* a proposal of a channel's parameters as hb_channel_log_ratio() leaves it
 * for hb_channel_move(): the factor on the channel's group-level effects,
 * the ROI-keeping factor, ystar' Pi ystar (without a collapsed term) */
typedef struct {
  double rho, f, yy1;
} hb_media_prop;
double hb_channel_log_ratio(hb_model *g, int c, const double *phi_new, const double *par_new, int rescale,
                            hb_media_prop *pr);
void hb_channel_move(hb_model *g, int c, const double *phi_new, const double *par_new, const hb_media_prop *pr);
/* gibbs_media_mode.c: warmup's start at each channel's conditional mode */
void hb_channel_mode(hb_model *g, int c);
int hb_channel_par_ok(const hb_channel *ch, const double *par);
/* collapsed: leave out the terms the collapsed block integrates out in the
 * media steps (hb_term_collapsed()) */
int hb_channel_zcoef(const hb_model *g, int c, int collapsed, double *coef);
double hb_channel_effects_logratio(const hb_model *g, int c, double rho, int collapsed);
void hb_channel_scale_effects(hb_model *g, int c, double rho, int collapsed);
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
/* y[i] += f * Z_i u[level of row i] over the n rows; u: G x q like t->u */
void hb_term_add_fit(const hb_term *t, const double *u, double f, double *y, R_xlen_t n);
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
