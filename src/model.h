/* The model layer: the hierarchical MMM that both samplers share.
 *
 * What the model list (built in R, read by model_read.c) holds, the structs
 * it is read into, links and priors of transform parameters with their
 * derivatives (model_prior.c), the transformed media of a channel with their
 * derivatives (model_channel.c), cell statistics of static designs
 * (model_cells.c) and the layout of one stored draw (model_layout.c). The
 * Gibbs engine (gibbs*.c) and the NUTS density (model_mmm.c) build on this
 * layer; nothing here calls into an engine. See README.md in this folder. */
#ifndef HBMMM_MODEL_H
#define HBMMM_MODEL_H

#include "hbmmm.h"

enum hb_link {
  HB_LINK_LOGIT = 0,       /* (0, 1) */
  HB_LINK_LOG = 1,         /* (0, Inf) */
  HB_LINK_SCALED_LOGIT = 2 /* (0, upper) */
};
#define HB_MAX_TPAR 4          /* transform slots per channel: 2 adstock, 2 saturation */
/* a channel's parameter vector: the slots, then (mixture of Hill curves
 * only) the 3K component parameters: halfsat 1..K (increasing), slope 1..K,
 * weight 1..K */
#define HB_MIX_PAR(par) ((par) + HB_MAX_TPAR)
#define HB_MAX_CHPAR (HB_MAX_TPAR + 3 * HB_MAX_MIX)
#define HB_MAX_P 1000          /* fixed effects */

typedef struct {
  int ad_type, sat_type, max_lag, normalize; /* max_lag NA_INTEGER: infinite memory */
  double par[HB_MAX_CHPAR];                  /* current constrained values by slot (then a mixture's) */
  int link[HB_MAX_TPAR], prior_code[HB_MAX_TPAR];
  double upper[HB_MAX_TPAR], prior_par[2 * HB_MAX_TPAR];
  int nest, est_slot[HB_MAX_TPAR];           /* estimated slots */
  double phi[HB_MAX_TPAR];                   /* their unconstrained values */
  double log_scale, prop_chol[HB_MAX_TPAR * HB_MAX_TPAR];
  double adapt_mean[HB_MAX_TPAR], adapt_cov[HB_MAX_TPAR * HB_MAX_TPAR];
  int adapt_n, scale_n;                      /* draws in the window; steps since the scale restarted */
  int ind_n, ind_acc;                        /* the window's independence steps, and those accepted */
  double center[HB_MAX_TPAR];                /* independence proposal: centre (shape prop_chol) */
  int has_center;
  /* both samplers' working coordinates (hb_phi_to_w()): phi, except a
   * Hill curve's log half-saturation replaced by the curve's logit at a
   * reference spend, slope (log ref - log halfsat); w_h < 0: phi itself */
  int w_h, w_s;
  double w_ref;
  /* mixture of Hill curves (sat_type HB_SAT_HILL_MIXTURE; NUTS only, see
   * model_mixture.c): mix_K components (0: none) in HB_MIX_PAR(par), the
   * weights' prior (mix_weights: HB_MIX_STICK, the stick-breaking
   * concentration alpha; HB_MIX_DIRICHLET, the fixed concentration mix_e0),
   * and the priors (family code, two parameters) of each half-saturation
   * (i.i.d. before ordering), each slope and alpha */
  int mix_K, mix_weights;
  double alpha, mix_e0;
  int mix_perm[HB_MAX_MIX];                  /* Dirichlet: unordered component of each rank */
  int mix_prior_code[3];
  double mix_prior_par[6];
  /* pooled components (hb_model's mix_pool): the current (mu_h, tau_h,
   * mu_s, tau_s) of the model, and where the density's pass adds its
   * gradient in (mu_h, log tau_h, mu_s, log tau_s); NULL when not pooled */
  const double *pool;
  double *pool_grad;
  int ntheta;                                /* its unconstrained parameters in the NUTS density */
} hb_channel;

typedef struct {
  int G, q, type, nf;          /* type: enum hb_cov_type */
  const int *g;                /* group of each row, 0-based */
  const double *Zs;            /* static parts, n x q */
  const int *zc;               /* channel of each column, -1 for none */
  double **Zcol;               /* current columns (media ones materialized) */
  double *u;                   /* q x G, u[j + q * level] */
  double *Sigma, *Sinv;        /* q x q */
  R_xlen_t *ord, *start;       /* rows of level k: ord[start[k] .. start[k+1]) */
  double iw_df;                /* full: IW(df, S) */
  const double *iw_S;
  const double *ig;            /* diagonal: IG(shape, scale) per term, 2 x q */
  double *Lambda, *psi, *f;    /* factor: q x nf loadings, q uniquenesses, nf x G scores */
  const double *load_sd;       /* factor: prior sd of loadings, per term */
  const double *psi_ig;        /* factor: IG(shape, scale) per term, 2 x q */
  double hw_nu;                /* Huang-Wand: each sd half-t(nu, A_j) */
  const double *hw_A;
  double *hw_a;                /* their auxiliary variables */
  const int *xmap;             /* fixed column equal to each column, -1 for none */
  int npair;                   /* translation pairs (see hb_term_shift) */
  const int *pair_j, *pair_l;  /* fixed column, term column of each pair */
  const double *pair_w;        /* npair x G multipliers w[a + npair * level] */
  double *pair_ww;             /* npair x npair, lower triangle: sum over levels of w_a w_b */
  /* nesting (see hb_term_nest_shift): the term whose levels contain this
   * term's (-1: none), the parent level of each level, and nest_np pairs of
   * identical columns (this term's nest_l[a], the parent's nest_lp[a]);
   * nest_buf: scratch of (q + 1) x the parent's levels */
  int nest_parent, nest_np;
  const int *nest_map, *nest_l, *nest_lp;
  double *nest_buf;
} hb_term;

/* Log-normal group-level effects of a media channel (model$mult,
 * `hbmmm(media_effects = "log_normal")`): in level l the channel's
 * transformed media are multiplied by exp(v_l), v_l ~ N(0, sd^2), so its
 * coefficient there is b exp(v_l) (b: the channel's fixed column j). sd has
 * a half-t(hw_nu, hw_A) prior (Huang-Wand auxiliary hw_a in the Gibbs
 * sampler). Rows with level -1 (lift tests outside the group) get no
 * multiplier. A stored effect is b (exp(v_l) - 1), the additive
 * equivalent, so that b + r is the level's coefficient as with normal
 * effects; names come from the term `term` of the R specification. */
typedef struct {
  int c, j, G;                 /* channel, its fixed column, levels */
  const int *g;                /* level of each row (n), -1: none */
  double *v, sd, hw_nu, hw_A, hw_a;
  double *scratch;             /* 3 G, for the Gibbs sampler's moves */
  R_xlen_t *ord, *start;       /* rows of level l: ord[start[l] .. start[l+1]) */
  int nkeep;                   /* kept levels (stored with each draw) */
  const int *keep;
} hb_mult;

typedef struct {
  int ncell, D;                /* cells; Gram size p + sum q + 1 */
  double *G;                   /* ncell Gram matrices D x D of w [X | Z | y] */
  int *sg;                     /* residual group of each cell */
  double *cnt;                 /* rows in each cell */
  int **lev;                   /* lev[k][c]: level of term k in cell c */
  R_xlen_t **start, **ord;     /* cells of each level of each term */
  int *off;                    /* first Gram column of Z_k */
  double *theta, *acc;         /* scratch, length D each */
} hb_cells;

struct hb_collapse; /* the Gibbs engine's collapsed block (gibbs.h) */
typedef struct hb_collapse hb_collapse;

/* The model: data and structure read from the model list, the current value
 * of every parameter (both samplers write them here), and (from `blk` on)
 * scratch of the Gibbs sampler, which the NUTS density leaves unset. */
typedef struct {
  /* rows: the data's nd rows (panels, residual variance), then nlift rows
   * of lift tests (model$lift): one pseudo-observation each, the measured
   * change in the response with known precision w_i, whose channel column
   * holds the steady-state curve difference (hb_channel_lift()) */
  R_xlen_t n, nd;
  int nlift;
  const int *lift_c;           /* channel of each lift row */
  const double *lift_a0, *lift_a1; /* spend before and during the test, model media units */
  int p, K, C, S, npanel;
  hb_cells *cells;             /* NULL: work on rows */
  const double *y, *w;
  const int *sg;               /* residual-variance group of each row, 0-based */
  const double *Xs;            /* static parts of the fixed design, n x p */
  const int *xc;               /* channel of each fixed column, -1 for none */
  double **Xcol;
  double *beta;
  /* prior of each coefficient: family b_code (HB_PRIOR_NORMAL, or a
   * positive family: HALF_NORMAL, EXPONENTIAL, LOGNORMAL on a media
   * channel's column) with parameters b_mean, b_sd: normal (mean, sd),
   * half-normal (0, sd), exponential (0, 1 / rate), lognormal (meanlog,
   * sdlog); n_pos counts the positive ones */
  const double *b_mean, *b_sd;
  const int *b_code;
  int n_pos;
  /* ROI priors: b_roi[j] > 0 (the channel's total spend) when column j's
   * lognormal prior is on the ROI b sum(column) / spend, so that b's
   * meanlog moves with the transforms (hb_coef_meanlog()); NULL: none */
  const double *b_roi;
  int use_hs;                  /* horseshoe on the columns with hs[j] = 1 */
  const int *hs;
  const double *hs_scale;
  double *hs_lambda2, *hs_nu, hs_tau2, hs_xi;
  double *inv_sig2;            /* 1 / sigma^2 per residual group */
  double sig_a, sig_b;         /* IG prior of each sigma^2 */
  hb_term *t;
  int nmult;                   /* log-normal media effects (hb_mult) */
  hb_mult *mu;
  /* mixture components pooled across the mixture channels (NUTS,
   * model_mixture.c; exchangeable components only): log halfsat_ck =
   * centre_c + mu_h + tau_h zh_ck, log slope_ck = mu_s + tau_s zs_ck, the
   * z standard normal; pool_prior: mu_h ~
   * N(m, sd), tau_h ~ half-normal(scale), mu_s ~ N(m, sd), tau_s ~
   * half-normal(scale); pool_val the current (mu_h, tau_h, mu_s, tau_s) */
  int mix_pool;
  double pool_prior[6], pool_val[4];
  double *mult_row;            /* n x C: each row's multiplier exp(sum of v) per channel */
  hb_channel *ch;
  const double *media_raw;     /* n x C, rows in panel-then-time order */
  double *media;               /* n x C transformed at the current parameters */
  R_xlen_t *pstart;            /* panel k: rows pstart[k] .. pstart[k+1] */
  const int *tpos;             /* time position of each row; NULL: no gaps */
  double *r;                   /* residual y - fitted */
  double *prec;                /* w_i / sigma^2 of row i */
  double *blk;                 /* row-block scratch, (HB_MAX_Q + 8) x HB_BLOCK */
  double *ystar, *mh_ystar;    /* y - Z u (current, proposed) */
  double *fx_A, *fx_c, fx_yy;  /* X' Pi X (p x p, then scratch), X' Pi ystar, ystar' Pi ystar */
  double *coef, *scratch_m, *wbuf;
  double *work;                /* dense scratch, size HB_WORK(p, qmax) */
  hb_collapse *cl;             /* NULL: no term integrated out in the media steps */
  hb_rng *rng;                 /* the Gibbs chain's generator (rng.h); NULL: R's stream */
  int mode_at;                 /* warmup iteration of the media mode search (gibbs_media_mode.c); -1: none */
  int mode_final;              /* and of the second one, near the warmup's end; -1: none */
  int prior_only;              /* 1: the likelihood is left out (prior predictive checks) */
  /* output: levels of each term whose effects are stored with each draw
   * (0-based), and which terms get online summaries */
  int **keep, *nkeep;
  const int *online;
} hb_model;

/* ---- the model list (model_read.c) ------------------------------------- */
/* Elements named in errors as `<where>$<name>`. */
SEXP hb_list_elt(SEXP list, const char *where, const char *name);
/* an element that may be absent (R_NilValue then) */
SEXP hb_list_opt(SEXP list, const char *name);
const double *hb_list_real(SEXP list, const char *where, const char *name, R_xlen_t len);
const int *hb_list_int(SEXP list, const char *where, const char *name, R_xlen_t len, int lo, int hi);
/* the same, NA also allowed */
const int *hb_list_int_na(SEXP list, const char *where, const char *name, R_xlen_t len, int lo, int hi);
int hb_list_int_scalar(SEXP list, const char *where, const char *name, int lo, int hi);
void hb_check_positive(const double *x, R_xlen_t len, const char *arg);
void hb_check_finite(const double *x, R_xlen_t len, const char *arg);
void hb_model_read(SEXP model, hb_model *g, int *maxlag, int *qmax);
/* model$keep and model$online into g->keep, g->nkeep, g->online */
void hb_model_read_output(SEXP model, hb_model *g);
void hb_model_columns(hb_model *g);

/* ---- links and priors of transform parameters (model_prior.c) ----------- */
double hb_link_to_unc(int link, double v, double upper);
double hb_link_from_unc(int link, double u, double upper);
double hb_link_logjac(int link, double u, double upper);
/* d link_from_unc / d u, and d logjac / d u */
void hb_link_derivs(int link, double u, double upper, double *dv, double *djac);
double hb_prior_logdens(int code, const double *par, double x);
/* d hb_prior_logdens / d x */
double hb_prior_dlogdens(int code, const double *par, double x);
/* Working coordinates w of a channel's estimated parameters (both
 * samplers; see model_prior.c): set up from its raw media x (n rows),
 * converted from and to the unconstrained values phi, log |d phi / d w| (u:
 * phi or w, which share the log slope), and gw += (d phi / d w)' gphi. */
void hb_channel_working_init(hb_channel *ch, const double *x, R_xlen_t n);
void hb_phi_to_w(const hb_channel *ch, const double *phi, double *w);
void hb_w_to_phi(const hb_channel *ch, const double *w, double *phi);
double hb_w_logjac(const hb_channel *ch, const double *u);
void hb_w_backprop(const hb_channel *ch, const double *w, const double *gphi, double *gw);
/* log prior (up to a constant) of a positive coefficient, and d / d b */
double hb_coef_pos_logprior(int code, double mean, double sd, double b, double *dlp);
/* meanlog of a lognormal coefficient j at the current design columns:
 * b_mean[j], or with an ROI prior b_mean[j] + log(spend / sum(column j)) */
double hb_coef_meanlog(const hb_model *g, int j);
/* the factor that keeps coefficient j's ROI when column j's sum moves
 * from the current one to `sum_new` (1 without an ROI prior; 0 when the
 * new column sums to nothing) */
double hb_roi_keep_factor(const hb_model *g, int j, double sum_new);
/* the fixed column of channel c with an ROI prior, or -1 */
int hb_roi_column(const hb_model *g, int c);

/* ---- transformed media (model_channel.c) -------------------------------- */
/* tmp: 2n doubles of scratch for a mixture channel (may be NULL otherwise) */
void hb_channel_transform(const hb_channel *ch, const double *par, const double *x,
                          R_xlen_t n, const R_xlen_t *pstart, const int *tpos, int npanel,
                          double *out, double *wbuf, double *tmp);
/* the derivative columns hb_channel_eval() writes for channel ch: its
 * estimated slots, then a mixture's 3K component parameters */
static inline int hb_channel_ncol(const hb_channel *ch) { return ch->nest + 3 * ch->mix_K; }
/* Scratch of hb_channel_eval(): ad (n), dad (2n), dsat ((3 Kmax + 1) n,
 * at least 3n), tmp (n), wbuf (maxlag + 1), dwbuf (2 (maxlag + 1)). */
typedef struct {
  hb_model *g;
  double *ad, *dad, *dsat, *tmp, *wbuf, *dwbuf;
} hb_channel_ws;
void hb_channel_ws_alloc(hb_channel_ws *ws, hb_model *g, int maxlag);
/* Channel c at par into g->media; with dm, the derivatives with respect to
 * each estimated parameter (dm[e * n + i], e < hb_channel_ncol()). Nonzero
 * when not finite. */
int hb_channel_eval(hb_channel_ws *m, int c, const double *par, double *dm);
/* The lift rows of channel c's column at par (model$lift): the steady-state
 * curve difference sat(W a1) - sat(W a0), W the sum of the adstock weights,
 * on the lift rows of channel c and 0 on the others, written to
 * out[nd .. n); with dm, the derivative columns as hb_channel_eval() lays
 * them out (dm[e * n + i]). wbuf: maxlag + 1 doubles, dwbuf: 2 (maxlag + 1)
 * (only read with dm). */
void hb_channel_lift(const hb_model *g, int c, const double *par, double *out, double *dm,
                     double *wbuf, double *dwbuf);
/* the log-normal block of channel c (at most one), or -1 */
int hb_mult_block(const hb_model *g, int c);
/* each row's multiplier of channel c from its block's current v into
 * g->mult_row (allocated by hb_model_read() when there are blocks);
 * nothing for a channel without a block */
void hb_mult_rows(hb_model *g, int c);
/* col (n rows) and its first ncol derivative columns dm[e * n + i] times
 * channel c's log-normal multipliers (g->mult_row); nothing for a channel
 * without a block */
void hb_mult_apply(const hb_model *g, int c, double *col, double *dm, int ncol);
/* the materialized design columns of channel c from g->media */
void hb_refresh_channel_columns(hb_model *g, int c);

/* ---- the mixture-of-Hills block of a channel (model_mixture.c) ---------- */
/* Unconstrained parameters of K components: K == 1: psi = slope (w_ref -
 * log halfsat), log slope (a Hill channel's working coordinates);
 * stick-breaking weights: K ordered log half-saturations (the first, then
 * log increments), K log slopes, K - 1 logistic sticks and log alpha;
 * Dirichlet weights: K psi_k and K log slopes (unordered), K log-gamma
 * variables. */
enum hb_mix_weights { HB_MIX_STICK = 0, HB_MIX_DIRICHLET = 1 };
int hb_mix_npar(int K);
/* From the block u: the channel's components (HB_MIX_PAR(ch->par)) and
 * alpha; returns their log prior with the Jacobian and adds its gradient
 * to grad[0 .. hb_mix_npar()) (and, pooled, to ch->pool_grad). With
 * pooled components the slopes' coordinates are the standardized z_k
 * (log slope_k = mu_s + tau_s z_k). */
double hb_mix_unpack(hb_channel *ch, const double *u, double *grad);
/* gu += J' gc: gc holds d f / d (halfsat, slope, weight) (3K), gu gets
 * d f / d u, and, pooled, gpool (4) gets d f / d (mu_h, log tau_h, mu_s,
 * log tau_s), at the point of the last hb_mix_unpack(). */
void hb_mix_backprop(const hb_channel *ch, const double *u, const double *gc, double *gu, double *gpool);
/* The log hyperprior of the pooled components' (mu_h, log tau_h, mu_s,
 * log tau_s) = th, Jacobians included; sets g->pool_val and adds the
 * gradient to grad (4). */
double hb_mix_pool_unpack(hb_model *g, const double *th, double *grad);
/* Starting values of the pool block: the hyperpriors' centres. */
void hb_mix_pool_init(const hb_model *g, double *th);
/* The block u of the channel's current components and alpha. */
void hb_mix_to_unc(const hb_channel *ch, double *u);

/* ---- covariance parameterizations of the terms (model_cov.c) ------------ */
/* Workspace of the passes: per term k the factor Lc[k] (u_g = Lc z_g), its
 * gradient gLc[k], the scatter matrix S[k], Sinv[k] and M[k] (q x q each),
 * tmp (q x q); centred or non-centred effects; LKJ priors by term. */
typedef struct {
  hb_model *g;
  /* per term k: its leading ncent[k] columns are sampled centred (their
   * effects u themselves), the others non-centred (z with u = Lc z):
   * q all centred, 0 none; a factor term all or none. Zc[k] keeps z of a
   * partly centred term for the reverse pass (NULL otherwise). */
  const int *ncent;
  double **Zc;
  double *lkj_eta, *sd_par;   /* LKJ: eta per term, scale prior parameters 2 x sum q */
  int *sd_code, *sd_off;      /* LKJ: scale prior family per term, first column of term k */
  double **Lc, **gLc, **S, **Sinv, **M, *tmp;
} hb_cov_ws;
/* unconstrained covariance parameters of a term */
int hb_cov_npar(const hb_term *t);
/* Forward: Lc[k] and t->u from cp and ef; adds the log prior (Jacobians
 * included) to *l and its direct gradient to gc, gef. Nonzero when Sigma is
 * singular. */
int hb_cov_forward(hb_cov_ws *w, int k, const double *cp, const double *ef, double *gc, double *gef,
                   double *l);
/* Reverse: with gu = d log likelihood / d u, adds the gradients flowing
 * through u and Lc to gc and gef (after hb_cov_forward() at the same point). */
void hb_cov_reverse(hb_cov_ws *w, int k, const double *cp, const double *ef, const double *gu, double *gc,
                    double *gef);
/* t->Sigma of term k after hb_cov_forward() */
void hb_cov_sigma(const hb_cov_ws *w, int k, const double *cp);
/* x^2 ~ IG(a, b) and x ~ half-t(nu, 1) with ell = log x, Jacobian included;
 * the derivative is added to *grad */
double hb_ig_sq_log(double a, double b, double ell, double *grad);
double hb_half_t_log(double nu, double ell, double *grad);

/* ---- cell statistics of a static design (model_cells.c) ----------------- */
void hb_cells_build(hb_model *g, const int *cell, int ncell);
/* theta of cell c: (beta, u_1(level), ..., u_K(level), -1), so that the
 * residual sum of squares is theta' G theta */
void hb_cell_theta(const hb_model *g, int c, double *th);

/* ---- the layout of one stored draw (model_layout.c) --------------------- */
typedef enum {
  HB_DRAW_BETA,   /* b_<column>: i = fixed column */
  HB_DRAW_SD,     /* sd_<group>__<column>: k = term, i = column */
  HB_DRAW_COR,    /* cor_<group>__<i>__<j>: k = term, i < j columns */
  HB_DRAW_SIGMA,  /* sigma or sigma[<level>]: i = residual group */
  HB_DRAW_TPAR,   /* <par>_<channel>: k = channel, i = slot */
  HB_DRAW_HS_TAU, /* hs_tau: horseshoe global scale */
  HB_DRAW_MIX_WEIGHT,  /* weight_<channel>[i]: k = channel, i = component */
  HB_DRAW_MIX_HALFSAT, /* halfsat_<channel>[i] */
  HB_DRAW_MIX_SLOPE,   /* slope_<channel>[i] */
  HB_DRAW_MIX_ALPHA,   /* alpha_<channel>: stick-breaking concentration (K > 1) */
  HB_DRAW_MIX_POOL,    /* mix_{halfsat,slope}_{mu,sd}: pooled components, i = 0..3 */
  HB_DRAW_EFFECT, /* r_<group>[<level>,<column>]: k = term, i = column, j = kept level */
  HB_DRAW_MULT_SD,     /* sd_<group>__<channel> of a log-normal block k */
  HB_DRAW_MULT_EFFECT  /* r_<group>[<level>,<channel>] = b (exp(v) - 1): k = block, j = kept level */
} hb_draw_kind;
typedef struct {
  hb_draw_kind kind;
  int k, i, j;
} hb_draw_item;
/* Enumerates the variables of one draw in storage order into items (when
 * not NULL); returns their number. Population variables come first (npop:
 * every kind but HB_DRAW_EFFECT), then the kept group-level effects. */
int hb_draw_layout(const hb_model *g, hb_draw_item *items);
int hb_draw_npop(const hb_model *g);
/* One draw from the current state (beta, Sigma of each term, inv_sig2,
 * channel par, hs_tau2, u) into out, in the order of hb_draw_layout(). */
void hb_draw_write(const hb_model *g, const hb_draw_item *items, int nitems, double *out);
SEXP hb_draw_names(SEXP model);

/* the online summaries a run returns (model_layout.c) */
SEXP hb_online_summaries(const hb_model *g, const hb_moments_t *mom, const hb_psquare_t *psq,
                         const hb_hist_t *hist);

#endif
