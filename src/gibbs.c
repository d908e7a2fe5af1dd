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

/* An element of the model list that may be absent (R_NilValue then). */
static SEXP opt_elt(SEXP list, const char *name) {
  SEXP names = Rf_getAttrib(list, R_NamesSymbol);
  if (TYPEOF(list) == VECSXP && TYPEOF(names) == STRSXP)
    for (R_xlen_t i = 0; i < XLENGTH(list); i++)
      if (strcmp(CHAR(STRING_ELT(names, i)), name) == 0) return VECTOR_ELT(list, i);
  return R_NilValue;
}

/* coef[i]: what multiplies channel c's transformed media in row i through
 * the group-level effects (the fixed-effect part is integrated out by the
 * Metropolis step). */
void hb_channel_zcoef(const hb_model *g, int c, double *coef) {
  memset(coef, 0, (size_t) g->n * sizeof(double));
  for (int k = 0; k < g->K; k++) {
    const hb_term *t = g->t + k;
    for (int j = 0; j < t->q; j++) {
      if (t->zc[j] != c) continue;
      const double *s = t->Zs + (R_xlen_t) j * g->n;
      for (R_xlen_t i = 0; i < g->n; i++) coef[i] += s[i] * t->u[j + (R_xlen_t) t->q * t->g[i]];
    }
  }
}

/* ---- the blocks --------------------------------------------------------- */

/* Prior precision (diagonal) and precision-weighted mean of the fixed effects. */
static void beta_prior(const hb_model *g, double *d0, double *d0m) {
  for (int j = 0; j < g->p; j++) {
    double sd = g->b_sd[j], mean = g->b_mean[j];
    if (g->use_hs && g->hs[j]) {
      sd = g->hs_scale[j] * sqrt(g->hs_lambda2[j] * g->hs_tau2);
      mean = 0.0;
    }
    d0[j] = 1.0 / (sd * sd);
    d0m[j] = mean * d0[j];
  }
}

/* The fixed effects' sufficient statistics with beta taken out of the
 * residual: ystar = y - Z u, A = X' Pi X, c = X' Pi ystar. They serve the
 * collapsed Metropolis steps on media (beta integrated out) and then the draw
 * of beta itself. Rows are taken in cache-sized blocks, columns inside. */
static void fixed_prepare(hb_model *g) {
  const int p = g->p;
  double *A = g->fx_A, *c = g->fx_c, *pys = g->blk, *px = pys + HB_BLOCK;
  memset(A, 0, sizeof(double) * p * p);
  memset(c, 0, sizeof(double) * p);
  double yy = 0.0;
  const double *xb[HB_MAX_P];
  for (R_xlen_t i0 = 0; i0 < g->n; i0 += HB_BLOCK) {
    R_xlen_t len = g->n - i0 < HB_BLOCK ? g->n - i0 : HB_BLOCK;
    double *ys = g->ystar + i0;
    memcpy(ys, g->r + i0, sizeof(double) * len);
    for (int j = 0; j < p; j++) {
      xb[j] = g->Xcol[j] + i0;
      hb_axpy(g->beta[j], xb[j], ys, len);
    }
    hb_vmul(g->prec + i0, ys, pys, len);
    yy += hb_dot(pys, ys, len);
    hb_crossprod_acc(xb, p, g->prec + i0, pys, len, A, c, px);
  }
  for (int j = 0; j < p; j++)
    for (int l = j + 1; l < p; l++) A[j + l * p] = A[l + j * p];
  g->fx_yy = yy;
}

/* beta | rest from the prepared statistics; the residual follows. */
static void draw_beta(hb_model *g) {
  const int p = g->p;
  double *P = g->work, *b = P + p * p, *d0 = b + p, *d0m = d0 + p;
  beta_prior(g, d0, d0m);
  memcpy(P, g->fx_A, sizeof(double) * p * p);
  for (int j = 0; j < p; j++) {
    P[j + j * p] += d0[j];
    b[j] = g->fx_c[j] + d0m[j];
  }
  if (hb_mvn_precision_draw(P, b, p, g->beta, NULL) != 0)
    hb_sampler_error("the conditional precision of the fixed effects is not positive definite");
  for (R_xlen_t i0 = 0; i0 < g->n; i0 += HB_BLOCK) {
    R_xlen_t len = g->n - i0 < HB_BLOCK ? g->n - i0 : HB_BLOCK;
    memcpy(g->r + i0, g->ystar + i0, sizeof(double) * len);
    for (int j = 0; j < p; j++) hb_axpy(-g->beta[j], g->Xcol[j] + i0, g->r + i0, len);
  }
}

/* log p(ystar | theta, u, sigma) with beta ~ N(mean, D0^-1) integrated out,
 * up to a constant: -yy/2 + b' P^-1 b / 2 - log det P / 2. */
double hb_fixed_log_marginal(const hb_model *g, const double *A, const double *c, double yy) {
  const int p = g->p;
  double *P = g->work, *b = P + p * p, *d0 = b + p, *d0m = d0 + p, *x = d0m + p;
  beta_prior(g, d0, d0m);
  memcpy(P, A, sizeof(double) * p * p);
  for (int j = 0; j < p; j++) {
    P[j + j * p] += d0[j];
    b[j] = x[j] = c[j] + d0m[j];
  }
  if (hb_chol(P, p) != 0) return R_NegInf;
  hb_chol_solve(P, p, x);
  double q = 0.0;
  for (int j = 0; j < p; j++) q += b[j] * x[j];
  return -0.5 * yy + 0.5 * q - 0.5 * hb_log_det_chol(P, p);
}

/* Horseshoe through inverse-gamma auxiliaries (Makalic & Schmidt 2016). */
static void update_horseshoe(hb_model *g) {
  double ssum = 0.0;
  int H = 0;
  for (int j = 0; j < g->p; j++) {
    if (!g->hs[j]) continue;
    double b2 = g->beta[j] * g->beta[j] / (g->hs_scale[j] * g->hs_scale[j]);
    g->hs_lambda2[j] = hb_inv_gamma_draw(1.0, 1.0 / g->hs_nu[j] + 0.5 * b2 / g->hs_tau2);
    g->hs_nu[j] = hb_inv_gamma_draw(1.0, 1.0 + 1.0 / g->hs_lambda2[j]);
    ssum += b2 / g->hs_lambda2[j];
    H++;
  }
  g->hs_tau2 = hb_inv_gamma_draw(0.5 * (H + 1), 1.0 / g->hs_xi + 0.5 * ssum);
  g->hs_xi = hb_inv_gamma_draw(1.0, 1.0 + 1.0 / g->hs_tau2);
}

static void update_prec(hb_model *g) {
  for (R_xlen_t i = 0; i < g->n; i++) g->prec[i] = g->w[i] * g->inv_sig2[g->sg[i]];
}

static void update_sigma(hb_model *g) {
  double *ss = g->work, *cnt = ss + g->S;
  memset(ss, 0, sizeof(double) * 2 * g->S);
  for (R_xlen_t i = 0; i < g->n; i++) {
    ss[g->sg[i]] += g->w[i] * g->r[i] * g->r[i];
    cnt[g->sg[i]] += 1.0;
  }
  for (int s = 0; s < g->S; s++)
    g->inv_sig2[s] = 1.0 / hb_inv_gamma_draw(g->sig_a + 0.5 * cnt[s], g->sig_b + 0.5 * ss[s]);
  update_prec(g);
}

/* ---- entry point ---------------------------------------------------------- */

SEXP hb_gibbs(SEXP model, SEXP control) {
  if (TYPEOF(model) != VECSXP) hb_input_error("model", "must be a list made by gibbs_model()");
  if (TYPEOF(control) != VECSXP) hb_input_error("control", "must be a list");
  hb_model G0, *g = &G0;
  memset(g, 0, sizeof G0);
  int maxlag = 0, qmax = 1;
  hb_model_read(model, g, &maxlag, &qmax);
  for (int k = 0; k < g->K; k++)
    if (g->t[k].type == HB_COV_LKJ)
      hb_input_error("model$terms", "term %d has an LKJ prior, which only the NUTS sampler supports", k + 1);
  const R_xlen_t n = g->n;
  const int p = g->p, C = g->C;
  /* control */
  int iter = hb_list_int_scalar(control, "control", "iter", 1, 100000000);
  int warmup = hb_list_int_scalar(control, "control", "warmup", 0, iter - 1);
  int thin = hb_list_int_scalar(control, "control", "thin", 1, iter);
  int refresh = hb_list_int_scalar(control, "control", "refresh", 0, 100000000);
  int chain = hb_list_int_scalar(control, "control", "chain", 1, 100000);
  SEXP progress_fn = hb_list_elt(control, "control", "progress");
  if (refresh > 0 && !Rf_isFunction(progress_fn)) hb_input_error("control$progress", "must be a function when refresh > 0");
  const double *sig2_init = hb_list_real(model, "model", "sig2_init", g->S);
  hb_check_positive(sig2_init, g->S, "model$sig2_init");
  hb_model_read_output(model, g);
  const int *online = g->online;

  /* state and scratch; a group-level column equal to a fixed column shares
   * its storage (no second copy of a media column to keep current) */
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
  /* a continued chain starts from the final state of an earlier run */
  SEXP init_state = opt_elt(model, "init_state");
  if (!Rf_isNull(init_state)) hb_gibbs_state_import(g, init_state);
  for (int c = 0; c < C; c++) {
    hb_channel_transform(g->ch + c, g->ch[c].par, g->media_raw + (R_xlen_t) c * n, n, g->pstart,
                         g->npanel, g->media + (R_xlen_t) c * n, g->wbuf);
    for (R_xlen_t i = 0; i < n; i++)
      if (!R_FINITE(g->media[(R_xlen_t) c * n + i]))
        hb_input_error("model$ch_par", "initial values give non-finite transformed media (channel %d)", c + 1);
    hb_refresh_channel_columns(g, c);
    hb_channel_init_mh(g->ch + c);
  }
  if (Rf_isNull(init_state)) {
    memcpy(g->r, g->y, sizeof(double) * n); /* beta = 0, u = 0 */
  } else {
    hb_gibbs_state_import_mh(g, init_state); /* proposals as adapted */
    hb_gibbs_residual(g);
  }
  update_prec(g);

  /* outputs */
  int nsave = (iter - warmup + thin - 1) / thin, m = hb_draw_layout(g, NULL);
  hb_draw_item *items = (hb_draw_item *) R_alloc((size_t) m + 1, sizeof(hb_draw_item));
  hb_draw_layout(g, items);
  SEXP draws = PROTECT(Rf_allocMatrix(REALSXP, nsave, m));
  SEXP accept = PROTECT(Rf_allocMatrix(REALSXP, iter, C));
  double *dr = REAL(draws), *acc = REAL(accept), *v = (double *) R_alloc((size_t) m + 1, sizeof(double));
  /* online summaries of the group-level effects of large terms: moments,
   * and quantiles from histograms whose range comes from the second half of
   * warmup (P-square when warmup is too short to give a range) */
  hb_moments_t *mom = (hb_moments_t *) R_alloc((size_t) g->K + 1, sizeof(hb_moments_t));
  hb_psquare_t *psq = (hb_psquare_t *) R_alloc((size_t) g->K + 1, sizeof(hb_psquare_t));
  hb_hist_t *hist = (hb_hist_t *) R_alloc((size_t) g->K + 1, sizeof(hb_hist_t));
  double **rlo = (double **) R_alloc((size_t) g->K + 1, sizeof(double *));
  double **rhi = (double **) R_alloc((size_t) g->K + 1, sizeof(double *));
  static const double probs[2] = {0.025, 0.975};
  const int use_hist = warmup >= 20, range_from = warmup / 2, nbins = 128;
  for (int k = 0; k < g->K; k++) {
    if (!online[k]) continue;
    R_xlen_t cells = (R_xlen_t) g->t[k].q * g->t[k].G;
    hb_moments_init(mom + k, cells, (double *) R_alloc((size_t) cells, sizeof(double)),
                    (double *) R_alloc((size_t) cells, sizeof(double)));
    if (use_hist) {
      rlo[k] = (double *) R_alloc((size_t) cells, sizeof(double));
      rhi[k] = (double *) R_alloc((size_t) cells, sizeof(double));
      hb_range_init(cells, rlo[k], rhi[k]);
    } else {
      hb_psquare_init(psq + k, cells, 2, probs, (double *) R_alloc((size_t) cells * 10, sizeof(double)),
                      (int *) R_alloc((size_t) cells * 6, sizeof(int)));
    }
  }

  /* a static design (no transform parameter to estimate) can work on cell
   * statistics instead of rows */
  SEXP cell = hb_list_elt(model, "model", "cell");
  int nest_total = 0;
  for (int c = 0; c < C; c++) nest_total += g->ch[c].nest;
  if (!Rf_isNull(cell)) {
    if (nest_total > 0) hb_input_error("model$cell", "cells need a design without estimated transform parameters");
    int ncell = hb_list_int_scalar(model, "model", "ncell", 1, (int) (n < 2000000000 ? n : 2000000000));
    hb_cells_build(g, hb_list_int(model, "model", "cell", n, 0, ncell - 1), ncell);
  }
  double *d0 = (double *) R_alloc((size_t) 2 * p, sizeof(double)), *d0m = d0 + p;

  GetRNGstate();
  int saved = 0;
  for (int it = 0; it < iter; it++) {
    if (g->cells) {
      beta_prior(g, d0, d0m);
      hb_cells_draw_beta(g, d0, d0m);
      for (int k = 0; k < g->K; k++) {
        hb_cells_update_effects(g, k);
        hb_term_update_cov(g, g->t + k);
        hb_term_shift(g, g->t + k, d0, d0m);
      }
      hb_cells_update_sigma(g);
      for (int c = 0; c < C; c++) acc[it + (R_xlen_t) iter * c] = 0.0;
    } else {
      /* media parameters with beta integrated out, then beta | media:
       * together a draw from p(theta, beta | u, sigma, y) */
      fixed_prepare(g);
      for (int c = 0; c < C; c++) acc[it + (R_xlen_t) iter * c] = hb_channel_mh(g, c, it, it < warmup);
      draw_beta(g);
      beta_prior(g, d0, d0m);
      for (int k = 0; k < g->K; k++) {
        hb_term_update_effects(g, g->t + k);
        hb_term_update_cov(g, g->t + k);
        hb_term_shift(g, g->t + k, d0, d0m);
      }
      update_sigma(g);
    }
    if (g->use_hs) update_horseshoe(g);
    if (use_hist && it >= range_from && it < warmup)
      for (int k = 0; k < g->K; k++)
        if (online[k]) hb_range_update((R_xlen_t) g->t[k].q * g->t[k].G, g->t[k].u, rlo[k], rhi[k]);
    if (use_hist && it == warmup)
      for (int k = 0; k < g->K; k++) {
        if (!online[k]) continue;
        R_xlen_t cells = (R_xlen_t) g->t[k].q * g->t[k].G;
        hb_hist_init(hist + k, cells, nbins, rlo[k], rhi[k],
                     (int *) R_alloc((size_t) cells * nbins, sizeof(int)),
                     (double *) R_alloc((size_t) cells, sizeof(double)),
                     (double *) R_alloc((size_t) cells, sizeof(double)));
      }
    if (it >= warmup && (it - warmup) % thin == 0) {
      hb_draw_write(g, items, m, v);
      for (int j = 0; j < m; j++) dr[saved + (R_xlen_t) nsave * j] = v[j];
      for (int k = 0; k < g->K; k++) {
        const hb_term *t = g->t + k;
        if (online[k]) {
          hb_moments_update(mom + k, t->u);
          if (use_hist) hb_hist_update(hist + k, t->u);
          else hb_psquare_update(psq + k, t->u);
        }
      }
      saved++;
    }
    if (refresh > 0 && ((it + 1) % refresh == 0 || it + 1 == iter)) {
      PutRNGstate();
      hb_call_progress(progress_fn, chain, it + 1, iter, warmup);
      GetRNGstate();
    }
    R_CheckUserInterrupt();
  }
  PutRNGstate();

  /* results: draws, acceptance, online summaries, final state */
  SEXP summ = PROTECT(Rf_allocVector(VECSXP, g->K));
  for (int k = 0; k < g->K; k++) {
    if (!online[k]) continue;
    R_xlen_t cells = (R_xlen_t) g->t[k].q * g->t[k].G;
    SEXP s = PROTECT(Rf_allocMatrix(REALSXP, cells, 4));
    double *sv = REAL(s);
    hb_moments_finalize(mom + k, sv, sv + cells);
    if (use_hist) hb_hist_result(hist + k, 2, probs, sv + 2 * cells);
    else hb_psquare_result(psq + k, sv + 2 * cells);
    SET_VECTOR_ELT(summ, k, s);
    UNPROTECT(1);
  }
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
