/* The Gibbs sampler with Metropolis steps for the hierarchical MMM.
 *
 * One sweep: fixed effects (joint normal; horseshoe scales when asked), each
 * grouping term's effects and covariance, residual variances, then one
 * Metropolis step per media channel on its transform parameters. The
 * residual r = y - fitted is kept current throughout, so each block only
 * adds back and subtracts its own contribution. */
#include <math.h>
#include <string.h>
#include <Rmath.h>
#include "gibbs.h"


/* ---- the blocks --------------------------------------------------------- */

/* Row precisions w_i / sigma^2, and w_i itself on a lift test's row (its
 * known precision); zero without the likelihood (prior_only), which turns
 * every block into a draw from its prior. */
static void update_prec(hb_model *g) {
  for (R_xlen_t i = 0; i < g->n; i++)
    g->prec[i] = g->prior_only ? 0.0 : g->w[i] * (i < g->nd ? g->inv_sig2[g->sg[i]] : 1.0);
}

static void update_sigma(hb_model *g) {
  double *ss = g->work, *cnt = ss + g->S;
  memset(ss, 0, sizeof(double) * 2 * g->S);
  for (R_xlen_t i = 0; i < g->nd && !g->prior_only; i++) { /* the data's rows */
    ss[g->sg[i]] += g->w[i] * g->r[i] * g->r[i];
    cnt[g->sg[i]] += 1.0;
  }
  for (int s = 0; s < g->S; s++)
    g->inv_sig2[s] = 1.0 / hb_inv_gamma_draw(g->rng, g->sig_a + 0.5 * cnt[s], g->sig_b + 0.5 * ss[s]);
  update_prec(g);
}

/* ---- set-up ---------------------------------------------------------------- */

typedef struct {
  int iter, warmup, thin, refresh, chain, threads, mode_at, mode_final;
  SEXP progress;
} gibbs_control;

/* The media mode search runs after this many sweeps of a longer warmup:
 * from the starting values of the other blocks, the conditional mode can
 * sit far out (half-saturations 100 times the data's spend at 120,000
 * rows); 20 sweeps take the variance components and effects near the
 * posterior. */
#define HB_MODE_AT 20
/* ... and again this many sweeps before the end of a warmup whose last
 * adaptation window is shorter than HB_MODE_FINAL_WINDOW sweeps, for the
 * independence proposal of the sampling phase. The centre and shape from
 * a short window's draws (100 at a warmup of 150, serially correlated)
 * fitted some chains badly (at 1.2M rows one chain accepted 8% of TV's
 * proposals, the others 25-42%), while with many rows the curvature at the
 * conditional mode is a close normal approximation (the transforms hardly
 * couple to the blocks that are not integrated out). With few rows a long
 * window is the better estimate: on the README model at the defaults (a
 * last window of 600) the curvature's proposal halved the transforms' bulk
 * ESS and cut `halfsat_email`'s tail ESS from over 1,200 to 171.
 * The sweeps after the search let the chain leave the mode and count the
 * new proposal's acceptance (hb_channel_independent_first() needs 20),
 * and are fewer than a window's first shape needs (25), so the shape is
 * kept. */
#define HB_MODE_FINAL 24
#define HB_MODE_FINAL_WINDOW 200

static void read_control(SEXP control, gibbs_control *ctl) {
  ctl->iter = hb_list_int_scalar(control, "control", "iter", 1, 100000000);
  ctl->warmup = hb_list_int_scalar(control, "control", "warmup", 0, ctl->iter - 1);
  ctl->thin = hb_list_int_scalar(control, "control", "thin", 1, ctl->iter);
  ctl->refresh = hb_list_int_scalar(control, "control", "refresh", 0, 100000000);
  ctl->chain = hb_list_int_scalar(control, "control", "chain", 1, 100000);
  ctl->progress = hb_list_elt(control, "control", "progress");
  SEXP th = hb_list_opt(control, "threads"); /* optional: 1 */
  ctl->threads = Rf_isNull(th) ? 1 : hb_scalar_int(th, "control$threads", 1, 1024, 0);
  SEXP ma = hb_list_opt(control, "mode_at"); /* optional (tests): -1 for none */
  ctl->mode_at = !Rf_isNull(ma) ? hb_scalar_int(ma, "control$mode_at", -1, ctl->iter - 1, 0)
                 : ctl->warmup > 2 * HB_MODE_AT ? HB_MODE_AT : -1;
  ctl->mode_final = ctl->mode_at >= 0 && ctl->warmup - HB_MODE_FINAL > ctl->mode_at + 2 * HB_MODE_FINAL &&
                        hb_channel_last_window(ctl->warmup) < HB_MODE_FINAL_WINDOW
                      ? ctl->warmup - HB_MODE_FINAL
                      : -1;
  if (ctl->refresh > 0 && !Rf_isFunction(ctl->progress))
    hb_input_error("control$progress", "must be a function when refresh > 0");
}

/* State and scratch of the sampler; a group-level column equal to a fixed
 * column shares its storage (no second copy of a media column to keep
 * current). */
static void alloc_state(hb_model *g, const double *sig2_init, int maxlag, int qmax) {
  const R_xlen_t n = g->n;
  const int p = g->p, C = g->C;
  hb_model_columns(g);
  g->beta = (double *) R_alloc((size_t) p, sizeof(double));
  memset(g->beta, 0, sizeof(double) * p);
  g->inv_sig2 = (double *) R_alloc((size_t) g->S, sizeof(double));
  for (int s = 0; s < g->S; s++) g->inv_sig2[s] = 1.0 / sig2_init[s];
  g->hs_lambda2 = (double *) R_alloc((size_t) p, sizeof(double));
  g->hs_nu = (double *) R_alloc((size_t) p, sizeof(double));
  for (int j = 0; j < p; j++) g->hs_lambda2[j] = g->hs_nu[j] = 1.0;
  g->hs_tau2 = g->hs_xi = 1.0;
  g->media = (double *) R_alloc((size_t) (n * C + 1), sizeof(double));
  g->r = (double *) R_alloc((size_t) n, sizeof(double));
  g->ystar = (double *) R_alloc((size_t) n, sizeof(double));
  g->prec = (double *) R_alloc((size_t) n, sizeof(double));
  g->blk = (double *) R_alloc((size_t) ((p > qmax ? p : qmax) + 8) * HB_BLOCK, sizeof(double));
  g->fx_A = (double *) R_alloc((size_t) 2 * p * p, sizeof(double));
  g->fx_c = (double *) R_alloc((size_t) 2 * p, sizeof(double));
  g->coef = (double *) R_alloc((size_t) n, sizeof(double));
  g->scratch_m = (double *) R_alloc((size_t) n, sizeof(double));
  g->wbuf = (double *) R_alloc((size_t) maxlag + 1, sizeof(double));
  int dmax = (p > qmax ? p : qmax) + 2; /* also covers the translation pairs (npair <= p) */
  g->work = (double *) R_alloc((size_t) 6 * dmax * dmax + 6 * dmax + 2 * g->S, sizeof(double));
  g->mh_ystar = (double *) R_alloc((size_t) n, sizeof(double));
}

/* The starting state: a continued chain's final state when given, the
 * transformed media and their columns, the Metropolis proposals, the
 * residual and the row precisions. */
static void start_state(hb_model *g, SEXP init_state) {
  const R_xlen_t n = g->n;
  if (!Rf_isNull(init_state)) hb_gibbs_state_import(g, init_state);
  for (int c = 0; c < g->C; c++) {
    hb_channel_transform(g->ch + c, g->ch[c].par, g->media_raw + (R_xlen_t) c * n, g->nd, g->pstart,
                         g->tpos, g->npanel, g->media + (R_xlen_t) c * n, g->wbuf, NULL);
    hb_channel_lift(g, c, g->ch[c].par, g->media + (R_xlen_t) c * n, NULL, g->wbuf, NULL);
    hb_mult_rows(g, c);
    hb_mult_apply(g, c, g->media + (R_xlen_t) c * n, NULL, 0);
    for (R_xlen_t i = 0; i < n; i++)
      if (!R_FINITE(g->media[(R_xlen_t) c * n + i]))
        hb_input_error("model$ch_par", "initial values give non-finite transformed media (channel %d)", c + 1);
    hb_refresh_channel_columns(g, c);
    hb_channel_init_mh(g->ch + c, g->media_raw + (R_xlen_t) c * n, g->nd);
  }
  if (Rf_isNull(init_state)) {
    memcpy(g->r, g->y, sizeof(double) * n); /* beta = 0, u = 0 */
  } else {
    hb_gibbs_state_import_mh(g, init_state); /* proposals as adapted */
    hb_gibbs_residual(g);
  }
  update_prec(g);
}

/* A static design (no transform parameter to estimate) can work on cell
 * statistics instead of rows. */
static void setup_cells(SEXP model, hb_model *g) {
  SEXP cell = hb_list_elt(model, "model", "cell");
  int nest_total = 0;
  for (int c = 0; c < g->C; c++) nest_total += g->ch[c].nest;
  if (Rf_isNull(cell)) return;
  if (nest_total > 0) hb_input_error("model$cell", "cells need a design without estimated transform parameters");
  if (g->nlift) hb_input_error("model$cell", "cells need a model without lift tests (model$lift)");
  if (g->nmult) hb_input_error("model$cell", "cells need a model without log-normal media effects (model$mult)");
  const R_xlen_t n = g->n;
  int ncell = hb_list_int_scalar(model, "model", "ncell", 1, (int) (n < 2000000000 ? n : 2000000000));
  hb_cells_build(g, hb_list_int(model, "model", "cell", n, 0, ncell - 1), ncell);
}

/* model$collapse (optional): the term whose effects the Metropolis steps on
 * media integrate out (0-based), or -1 for none; model$collapse_nest
 * (optional, 0 when absent): the mode of the nested block for the term it
 * nests in (gibbs_nested.c). */
static void setup_collapse(SEXP model, hb_model *g, int threads) {
  SEXP el = hb_list_opt(model, "collapse");
  if (Rf_isNull(el)) return;
  int T = hb_scalar_int(el, "model$collapse", -1, g->K - 1, 0);
  if (T < 0) return;
  if (!Rf_isNull(hb_list_opt(model, "cell"))) hb_input_error("model$collapse", "must be -1 for a design on cell statistics");
  if (g->t[T].type == HB_COV_FACTOR || g->t[T].type == HB_COV_LKJ)
    hb_input_error("model$collapse", "term %d has a factor or LKJ covariance, which cannot be integrated out", T + 1);
  SEXP ne = hb_list_opt(model, "collapse_nest");
  int nest = Rf_isNull(ne) ? 0 : hb_scalar_int(ne, "model$collapse_nest", 0, 2, 0);
  hb_collapse_setup(g, T, threads, nest);
}

/* ---- online summaries of the group-level effects ------------------------------ */

/* Moments, and quantiles from histograms whose range comes from the second
 * half of warmup (P-square when warmup is too short to give a range), for
 * the terms with g->online[k]. */
typedef struct {
  hb_moments_t *mom;
  hb_psquare_t *psq;
  hb_hist_t *hist;
  double **rlo, **rhi;
  int use_hist, range_from, nbins;
} online_acc;

static const double online_probs[2] = {0.025, 0.975};

static void online_init(online_acc *o, const hb_model *g, int warmup) {
  const int K = g->K;
  o->mom = (hb_moments_t *) R_alloc((size_t) K + 1, sizeof(hb_moments_t));
  o->psq = (hb_psquare_t *) R_alloc((size_t) K + 1, sizeof(hb_psquare_t));
  o->hist = (hb_hist_t *) R_alloc((size_t) K + 1, sizeof(hb_hist_t));
  o->rlo = (double **) R_alloc((size_t) K + 1, sizeof(double *));
  o->rhi = (double **) R_alloc((size_t) K + 1, sizeof(double *));
  o->use_hist = warmup >= 20;
  o->range_from = warmup / 2;
  o->nbins = 128;
  for (int k = 0; k < K; k++) {
    if (!g->online[k]) continue;
    R_xlen_t cells = (R_xlen_t) g->t[k].q * g->t[k].G;
    hb_moments_init(o->mom + k, cells, (double *) R_alloc((size_t) cells, sizeof(double)),
                    (double *) R_alloc((size_t) cells, sizeof(double)));
    if (o->use_hist) {
      o->rlo[k] = (double *) R_alloc((size_t) cells, sizeof(double));
      o->rhi[k] = (double *) R_alloc((size_t) cells, sizeof(double));
      hb_range_init(cells, o->rlo[k], o->rhi[k]);
    } else {
      hb_psquare_init(o->psq + k, cells, 2, online_probs, (double *) R_alloc((size_t) cells * 10, sizeof(double)),
                      (int *) R_alloc((size_t) cells * 6, sizeof(int)));
    }
  }
}

/* After iteration it: the histogram ranges during warmup, the bins from its end. */
static void online_warmup(online_acc *o, const hb_model *g, int it, int warmup) {
  if (o->use_hist && it >= o->range_from && it < warmup)
    for (int k = 0; k < g->K; k++)
      if (g->online[k]) hb_range_update((R_xlen_t) g->t[k].q * g->t[k].G, g->t[k].u, o->rlo[k], o->rhi[k]);
  if (o->use_hist && it == warmup)
    for (int k = 0; k < g->K; k++) {
      if (!g->online[k]) continue;
      R_xlen_t cells = (R_xlen_t) g->t[k].q * g->t[k].G;
      hb_hist_init(o->hist + k, cells, o->nbins, o->rlo[k], o->rhi[k],
                   (int *) R_alloc((size_t) cells * o->nbins, sizeof(int)),
                   (double *) R_alloc((size_t) cells, sizeof(double)),
                   (double *) R_alloc((size_t) cells, sizeof(double)));
    }
}

static void online_update(online_acc *o, const hb_model *g) {
  for (int k = 0; k < g->K; k++) {
    if (!g->online[k]) continue;
    const hb_term *t = g->t + k;
    hb_moments_update(o->mom + k, t->u);
    if (o->use_hist) hb_hist_update(o->hist + k, t->u);
    else hb_psquare_update(o->psq + k, t->u);
  }
}

/* ---- one sweep ------------------------------------------------------------------- */

/* Per channel a random-walk step, then an independence step once the
 * adaptation has a centre (after warmup, two independence steps when they
 * fit: hb_channel_independent_first()); acc (row it of iter): the fraction
 * accepted.
 * At sweeps g->mode_at and g->mode_final of the warmup each channel first
 * moves to its conditional mode (gibbs_media_mode.c).
 * The steps integrate out the channel's positive coefficient, which is
 * then drawn before the next channel's steps condition on it. */
static void media_steps(hb_model *g, int it, int iter, int warmup, double *acc) {
  for (int c = 0; c < g->C; c++) {
    if (it < warmup && (it == g->mode_at || it == g->mode_final)) hb_channel_mode(g, c);
    int first = hb_channel_mh(g, c, it, warmup, hb_channel_independent_first(g->ch + c, it, warmup));
    if (g->ch[c].has_center)
      acc[it + (R_xlen_t) iter * c] = 0.5 * (first + hb_channel_mh(g, c, it, warmup, 1));
    else
      acc[it + (R_xlen_t) iter * c] = first;
    if (g->n_pos) hb_beta_redraw_channel(g, c);
  }
}

/* acc: the acceptance of each channel's Metropolis steps (row it of iter) */
static void sweep(hb_model *g, int it, int iter, int warmup, double *acc, double *d0, double *d0m) {
  if (g->cells) {
    hb_cells_draw_beta(g);
    hb_beta_prior(g, d0, d0m);
    for (int k = 0; k < g->K; k++) {
      hb_cells_update_effects(g, k);
      hb_term_update_cov(g, g->t + k);
      hb_term_shift(g, g->t + k, d0, d0m);
    }
    for (int k = 0; k < g->K; k++) hb_term_nest_shift(g, g->t + k);
    hb_cells_update_sigma(g);
    for (int c = 0; c < g->C; c++) acc[it + (R_xlen_t) iter * c] = 0.0;
  } else if (g->cl) {
    /* media parameters, then beta, with the effects u_T of the collapsed
     * term integrated out (and its parent's, when T nests in a term whose
     * columns it repeats); then the parent's Sigma and effects (when T
     * nests in one), then T's Sigma, with u_T integrated out; then u_T |
     * rest and the other blocks (a partially collapsed Gibbs sweep: every
     * step that leaves some effects out comes before their draw) */
    hb_collapse_prepare(g);
    media_steps(g, it, iter, warmup, acc);
    hb_collapse_draw_beta(g);
    if (g->cl->nest) hb_nested_update(g, it, it < warmup);
    hb_collapse_sigma_mh(g, it, it < warmup);
    hb_collapse_draw_effects(g);
    hb_beta_prior(g, d0, d0m);
    for (int k = 0; k < g->K; k++) {
      if (k != g->cl->T && !(g->cl->nest && k == g->cl->nest->P)) hb_term_update_effects(g, g->t + k);
      hb_term_update_cov(g, g->t + k);
      hb_term_shift(g, g->t + k, d0, d0m);
    }
    for (int k = 0; k < g->K; k++) hb_term_nest_shift(g, g->t + k);
    update_sigma(g);
  } else {
    /* media parameters with beta integrated out, then beta | media:
     * together a draw from p(theta, beta | u, sigma, y) */
    hb_fixed_prepare(g);
    media_steps(g, it, iter, warmup, acc);
    hb_draw_beta(g);
    hb_beta_prior(g, d0, d0m);
    for (int k = 0; k < g->K; k++) {
      hb_term_update_effects(g, g->t + k);
      hb_term_update_cov(g, g->t + k);
      hb_term_shift(g, g->t + k, d0, d0m);
    }
    for (int k = 0; k < g->K; k++) hb_term_nest_shift(g, g->t + k);
    update_sigma(g);
  }
  if (g->nmult) hb_mult_update(g);
  if (g->use_hs) hb_update_horseshoe(g);
}

/* ---- entry point ---------------------------------------------------------- */

/* The draws of the chain: an nsave x m matrix, or, when control$names (the
 * m variable names) is given, the fit's own [iteration, chain, variable]
 * array of this one chain with its dimnames, which a one-chain fit then
 * keeps without copying 8 nsave m bytes. Huge pages are asked for before
 * the sampler first writes it (memory.c). */
static SEXP alloc_draws(SEXP control, int nsave, int m) {
  SEXP nm = hb_list_opt(control, "names");
  if (!Rf_isNull(nm)) hb_check_vector(nm, "control$names", STRSXP, m);
  SEXP draws = PROTECT(Rf_isNull(nm) ? Rf_allocMatrix(REALSXP, nsave, m) : Rf_alloc3DArray(REALSXP, nsave, 1, m));
  hb_advise_huge_pages(REAL(draws), sizeof(double) * (size_t) nsave * m);
  if (Rf_isNull(nm)) {
    UNPROTECT(1);
    return draws;
  }
  SEXP dn = PROTECT(Rf_allocVector(VECSXP, 3));
  SET_VECTOR_ELT(dn, 2, nm);
  static const char *dnn[3] = {"iteration", "chain", "variable"};
  hb_set_names(dn, 3, dnn);
  Rf_setAttrib(draws, R_DimNamesSymbol, dn);
  UNPROTECT(2);
  return draws;
}

/* list(draws, accept, ranef_summary, state): one chain. */
SEXP hb_gibbs(SEXP model, SEXP control) {
  if (TYPEOF(model) != VECSXP) hb_input_error("model", "must be a list made by mmm_model_list()");
  if (TYPEOF(control) != VECSXP) hb_input_error("control", "must be a list");
  hb_model G0, *g = &G0;
  memset(g, 0, sizeof G0);
  int maxlag = 0, qmax = 1;
  hb_model_read(model, g, &maxlag, &qmax);
  for (int k = 0; k < g->K; k++)
    if (g->t[k].type == HB_COV_LKJ)
      hb_input_error("model$terms", "term %d has an LKJ prior, which only the NUTS sampler supports", k + 1);
  for (int c = 0; c < g->C; c++)
    if (g->ch[c].mix_K)
      hb_input_error("model$ch_sat_type", "channel %d is a mixture of Hill curves, which only the NUTS sampler supports", c + 1);
  gibbs_control ctl;
  read_control(control, &ctl);
  const int iter = ctl.iter, warmup = ctl.warmup, thin = ctl.thin;
  const double *sig2_init = hb_list_real(model, "model", "sig2_init", g->S);
  hb_check_positive(sig2_init, g->S, "model$sig2_init");
  hb_model_read_output(model, g);
  alloc_state(g, sig2_init, maxlag, qmax);
  setup_collapse(model, g, ctl.threads);
  start_state(g, hb_list_opt(model, "init_state"));

  int nsave = (iter - warmup + thin - 1) / thin, m = hb_draw_layout(g, NULL);
  hb_draw_item *items = (hb_draw_item *) R_alloc((size_t) m + 1, sizeof(hb_draw_item));
  hb_draw_layout(g, items);
  SEXP draws = PROTECT(alloc_draws(control, nsave, m));
  SEXP accept = PROTECT(Rf_allocMatrix(REALSXP, iter, g->C));
  double *dr = REAL(draws), *acc = REAL(accept), *v = (double *) R_alloc((size_t) m + 1, sizeof(double));
  online_acc onl;
  online_init(&onl, g, warmup);
  setup_cells(model, g);
  double *d0 = (double *) R_alloc((size_t) 2 * g->p, sizeof(double)), *d0m = d0 + g->p;

  /* the chain's own generator: a continued chain's, or a new one seeded
   * from R's stream (the chain's L'Ecuyer stream, set by the R side) */
  hb_rng rng;
  g->rng = &rng;
  g->mode_at = ctl.mode_at;
  g->mode_final = ctl.mode_final;
  int restored = hb_gibbs_state_import_rng(&rng, hb_list_opt(model, "init_state"));
  GetRNGstate();
  if (!restored) hb_rng_seed_from_r(&rng);
  int saved = 0;
  for (int it = 0; it < iter; it++) {
    sweep(g, it, iter, warmup, acc, d0, d0m);
    online_warmup(&onl, g, it, warmup);
    if (it >= warmup && (it - warmup) % thin == 0) {
      hb_draw_write(g, items, m, v);
      for (int j = 0; j < m; j++) dr[saved + (R_xlen_t) nsave * j] = v[j];
      online_update(&onl, g);
      saved++;
    }
    if (ctl.refresh > 0 && ((it + 1) % ctl.refresh == 0 || it + 1 == iter)) {
      PutRNGstate();
      hb_call_progress(ctl.progress, ctl.chain, it + 1, iter, warmup);
      GetRNGstate();
    }
    R_CheckUserInterrupt();
  }
  PutRNGstate();

  SEXP summ = PROTECT(hb_online_summaries(g, onl.mom, onl.psq, onl.use_hist ? onl.hist : NULL));
  SEXP st = PROTECT(hb_gibbs_state_export(g));
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 4));
  SET_VECTOR_ELT(out, 0, draws);
  SET_VECTOR_ELT(out, 1, accept);
  SET_VECTOR_ELT(out, 2, summ);
  SET_VECTOR_ELT(out, 3, st);
  static const char *names[4] = {"draws", "accept", "ranef_summary", "state"};
  hb_set_names(out, 4, names);
  UNPROTECT(5);
  return out;
}
