/* The layout of one stored draw, defined once: hb_draw_layout() enumerates
 * the variables in storage order, and from it come the number of values per
 * draw (both samplers), the writer of one draw from the model state (both
 * samplers) and the variable names (hb_draw_names(), called by draw_names()
 * in R). Order: fixed effects; per grouping term its sds, then (unless the
 * covariance is diagonal) its correlations (i < j, by row of the upper
 * triangle); the sd of each log-normal media block (model.h's hb_mult);
 * residual sds; estimated transform parameters by channel and
 * slot, each mixture channel's weights, half-saturations and slopes by
 * component and its concentration right after its slots; the pooled
 * components' hyperparameters (mu and sd of log halfsat relative to each
 * channel's centre, of log slope) after every channel; the horseshoe's
 * global scale; the kept group-level effects per term,
 * by column and then kept level; each log-normal block's kept effects (as
 * b (exp(v) - 1), the additive equivalent). */
#include <math.h>
#include <string.h>
#include "model.h"

static int layout(const hb_model *g, hb_draw_item *items, int effects) {
  int m = 0;
#define HB_ADD(KIND, K, I, J)                                                   \
  do {                                                                          \
    if (items) {                                                                \
      items[m].kind = (KIND);                                                   \
      items[m].k = (K);                                                         \
      items[m].i = (I);                                                         \
      items[m].j = (J);                                                         \
    }                                                                           \
    m++;                                                                        \
  } while (0)
  for (int j = 0; j < g->p; j++) HB_ADD(HB_DRAW_BETA, 0, j, 0);
  for (int k = 0; k < g->K; k++) {
    const hb_term *t = g->t + k;
    for (int j = 0; j < t->q; j++) HB_ADD(HB_DRAW_SD, k, j, 0);
    if (hb_cov_diagonal(t->type)) continue;
    for (int j = 0; j < t->q; j++)
      for (int l = j + 1; l < t->q; l++) HB_ADD(HB_DRAW_COR, k, j, l);
  }
  for (int b = 0; b < g->nmult; b++) HB_ADD(HB_DRAW_MULT_SD, b, 0, 0);
  for (int s = 0; s < g->S; s++) HB_ADD(HB_DRAW_SIGMA, 0, s, 0);
  for (int c = 0; c < g->C; c++) {
    const hb_channel *ch = g->ch + c;
    for (int e = 0; e < ch->nest; e++) HB_ADD(HB_DRAW_TPAR, c, ch->est_slot[e], 0);
    for (int i = 0; i < ch->mix_K; i++) HB_ADD(HB_DRAW_MIX_WEIGHT, c, i, 0);
    for (int i = 0; i < ch->mix_K; i++) HB_ADD(HB_DRAW_MIX_HALFSAT, c, i, 0);
    for (int i = 0; i < ch->mix_K; i++) HB_ADD(HB_DRAW_MIX_SLOPE, c, i, 0);
    if (ch->mix_K > 1 && ch->mix_weights == HB_MIX_STICK) HB_ADD(HB_DRAW_MIX_ALPHA, c, 0, 0);
  }
  if (g->mix_pool)
    for (int i = 0; i < 4; i++) HB_ADD(HB_DRAW_MIX_POOL, 0, i, 0);
  if (g->use_hs) HB_ADD(HB_DRAW_HS_TAU, 0, 0, 0);
  if (effects && g->keep)
    for (int k = 0; k < g->K; k++)
      for (int j = 0; j < g->t[k].q; j++)
        for (int a = 0; a < g->nkeep[k]; a++) HB_ADD(HB_DRAW_EFFECT, k, j, a);
  if (effects)
    for (int b = 0; b < g->nmult; b++)
      for (int a = 0; a < g->mu[b].nkeep; a++) HB_ADD(HB_DRAW_MULT_EFFECT, b, 0, a);
#undef HB_ADD
  return m;
}

int hb_draw_layout(const hb_model *g, hb_draw_item *items) { return layout(g, items, 1); }

int hb_draw_npop(const hb_model *g) { return layout(g, NULL, 0); }

void hb_draw_write(const hb_model *g, const hb_draw_item *items, int nitems, double *out) {
  for (int a = 0; a < nitems; a++) {
    const hb_draw_item *it = items + a;
    const hb_term *t = it->kind == HB_DRAW_SD || it->kind == HB_DRAW_COR || it->kind == HB_DRAW_EFFECT ? g->t + it->k : NULL;
    double v = 0.0;
    switch (it->kind) {
    case HB_DRAW_BETA: v = g->beta[it->i]; break;
    case HB_DRAW_SD: v = sqrt(t->Sigma[it->i + it->i * t->q]); break;
    case HB_DRAW_COR:
      v = t->Sigma[it->i + it->j * t->q] /
          sqrt(t->Sigma[it->i + it->i * t->q] * t->Sigma[it->j + it->j * t->q]);
      break;
    case HB_DRAW_SIGMA: v = sqrt(1.0 / g->inv_sig2[it->i]); break;
    case HB_DRAW_TPAR: v = g->ch[it->k].par[it->i]; break;
    case HB_DRAW_HS_TAU: v = sqrt(g->hs_tau2); break;
    case HB_DRAW_MIX_HALFSAT: v = HB_MIX_PAR(g->ch[it->k].par)[it->i]; break;
    case HB_DRAW_MIX_SLOPE: v = HB_MIX_PAR(g->ch[it->k].par)[g->ch[it->k].mix_K + it->i]; break;
    case HB_DRAW_MIX_WEIGHT: v = HB_MIX_PAR(g->ch[it->k].par)[2 * g->ch[it->k].mix_K + it->i]; break;
    case HB_DRAW_MIX_ALPHA: v = g->ch[it->k].alpha; break;
    case HB_DRAW_MIX_POOL: v = g->pool_val[it->i]; break;
    case HB_DRAW_EFFECT: v = t->u[it->i + (R_xlen_t) t->q * g->keep[it->k][it->j]]; break;
    case HB_DRAW_MULT_SD: v = g->mu[it->k].sd; break;
    case HB_DRAW_MULT_EFFECT: {
      const hb_mult *mu = g->mu + it->k;
      v = g->beta[mu->j] * expm1(mu->v[mu->keep[it->j]]);
      break;
    }
    }
    out[a] = v;
  }
}

/* ---- names ------------------------------------------------------------------ */

/* A character vector of model$labels (made by draw_names() in R/model_list.R). */
static SEXP label_vec(SEXP list, const char *where, const char *name, R_xlen_t len) {
  SEXP x = hb_list_elt(list, where, name);
  char arg[96];
  snprintf(arg, sizeof arg, "%s$%s", where, name);
  hb_check_vector(x, arg, STRSXP, len);
  return x;
}

static const char *label(SEXP x, R_xlen_t i, const char *arg) {
  SEXP s = STRING_ELT(x, i);
  if (s == NA_STRING) hb_input_error(arg, "has NA at element %.0f, which names a stored variable", (double) i + 1);
  return Rf_translateCharUTF8(s);
}

/* model$labels: x (p column names), terms (per term: group, cols (q),
 * levels (G)), sigma (residual group levels; empty for one group), tpar
 * (4 x C parameter names by slot and channel, NA for slots not estimated),
 * media (C channel names, for the mixture channels' variables) and, with
 * log-normal media blocks, mult (per block: group, col, levels (G)). */
SEXP hb_draw_names(SEXP model) {
  if (TYPEOF(model) != VECSXP) hb_input_error("model", "must be a list made by mmm_model_list()");
  hb_model G0, *g = &G0;
  memset(g, 0, sizeof G0);
  int maxlag = 0, qmax = 1;
  hb_model_read(model, g, &maxlag, &qmax);
  hb_model_read_output(model, g);
  SEXP lab = hb_list_elt(model, "model", "labels");
  if (TYPEOF(lab) != VECSXP) hb_input_error("model$labels", "must be a list");
  SEXP x = label_vec(lab, "model$labels", "x", g->p);
  SEXP terms = hb_list_elt(lab, "model$labels", "terms");
  if (TYPEOF(terms) != VECSXP || LENGTH(terms) != g->K)
    hb_input_error("model$labels$terms", "must be a list with one element per term");
  SEXP sig = label_vec(lab, "model$labels", "sigma", -1);
  if (XLENGTH(sig) != 0 && XLENGTH(sig) != g->S)
    hb_input_error("model$labels$sigma", "must have length 0 or S = %d", g->S);
  SEXP tpar = label_vec(lab, "model$labels", "tpar", (R_xlen_t) HB_MAX_TPAR * g->C);
  SEXP chn = label_vec(lab, "model$labels", "media", g->C);
  SEXP mlab = g->nmult ? hb_list_elt(lab, "model$labels", "mult") : R_NilValue;
  int n = hb_draw_layout(g, NULL);
  hb_draw_item *items = (hb_draw_item *) R_alloc((size_t) n + 1, sizeof(hb_draw_item));
  hb_draw_layout(g, items);
  SEXP out = PROTECT(Rf_allocVector(STRSXP, n));
  for (int a = 0; a < n; a++) {
    const hb_draw_item *it = items + a;
    SEXP tk = it->kind == HB_DRAW_SD || it->kind == HB_DRAW_COR || it->kind == HB_DRAW_EFFECT
                  ? VECTOR_ELT(terms, it->k) : R_NilValue;
    char tw[64];
    snprintf(tw, sizeof tw, "model$labels$terms[[%d]]", it->k + 1);
    SEXP grp = Rf_isNull(tk) ? R_NilValue : label_vec(tk, tw, "group", 1);
    SEXP cols = Rf_isNull(tk) ? R_NilValue : label_vec(tk, tw, "cols", g->t[it->k].q);
    const char *gn = Rf_isNull(grp) ? "" : label(grp, 0, tw);
    char buf[1024];
    switch (it->kind) {
    case HB_DRAW_BETA: snprintf(buf, sizeof buf, "b_%s", label(x, it->i, "model$labels$x")); break;
    case HB_DRAW_SD: snprintf(buf, sizeof buf, "sd_%s__%s", gn, label(cols, it->i, tw)); break;
    case HB_DRAW_COR:
      snprintf(buf, sizeof buf, "cor_%s__%s__%s", gn, label(cols, it->i, tw), label(cols, it->j, tw));
      break;
    case HB_DRAW_SIGMA:
      if (XLENGTH(sig) == 0) snprintf(buf, sizeof buf, "sigma");
      else snprintf(buf, sizeof buf, "sigma[%s]", label(sig, it->i, "model$labels$sigma"));
      break;
    case HB_DRAW_TPAR:
      snprintf(buf, sizeof buf, "%s", label(tpar, (R_xlen_t) it->k * HB_MAX_TPAR + it->i, "model$labels$tpar"));
      break;
    case HB_DRAW_HS_TAU: snprintf(buf, sizeof buf, "hs_tau"); break;
    case HB_DRAW_MIX_WEIGHT: case HB_DRAW_MIX_HALFSAT: case HB_DRAW_MIX_SLOPE: {
      const char *what = it->kind == HB_DRAW_MIX_WEIGHT ? "weight" : it->kind == HB_DRAW_MIX_HALFSAT ? "halfsat" : "slope";
      snprintf(buf, sizeof buf, "%s_%s[%d]", what, label(chn, it->k, "model$labels$media"), it->i + 1);
      break;
    }
    case HB_DRAW_MIX_ALPHA: snprintf(buf, sizeof buf, "alpha_%s", label(chn, it->k, "model$labels$media")); break;
    case HB_DRAW_MIX_POOL: {
      static const char *const pool_names[4] = {"mix_halfsat_mu", "mix_halfsat_sd", "mix_slope_mu", "mix_slope_sd"};
      snprintf(buf, sizeof buf, "%s", pool_names[it->i]);
      break;
    }
    case HB_DRAW_EFFECT: {
      SEXP lev = label_vec(tk, tw, "levels", g->t[it->k].G);
      snprintf(buf, sizeof buf, "r_%s[%s,%s]", gn, label(lev, g->keep[it->k][it->j], tw),
               label(cols, it->i, tw));
      break;
    }
    case HB_DRAW_MULT_SD: case HB_DRAW_MULT_EFFECT: {
      char mw[64];
      snprintf(mw, sizeof mw, "model$labels$mult[[%d]]", it->k + 1);
      if (TYPEOF(mlab) != VECSXP || LENGTH(mlab) <= it->k) hb_input_error("model$labels$mult", "must be a list with one element per block");
      SEXP mb = VECTOR_ELT(mlab, it->k);
      const char *mg = label(label_vec(mb, mw, "group", 1), 0, mw), *mc = label(label_vec(mb, mw, "col", 1), 0, mw);
      if (it->kind == HB_DRAW_MULT_SD) snprintf(buf, sizeof buf, "sd_%s__%s", mg, mc);
      else snprintf(buf, sizeof buf, "r_%s[%s,%s]", mg,
                    label(label_vec(mb, mw, "levels", g->mu[it->k].G), g->mu[it->k].keep[it->j], mw), mc);
      break;
    }
    }
    SET_STRING_ELT(out, a, Rf_mkCharCE(buf, CE_UTF8));
  }
  UNPROTECT(1);
  return out;
}

/* What a run returns for the terms summarized online instead of stored: a
 * list with, per term, NULL or a (q G) x 4 matrix of mean, sd and the 2.5%
 * and 97.5% quantiles, from histograms when hist is given and from P-square
 * markers otherwise. Both engines call it. */
SEXP hb_online_summaries(const hb_model *g, const hb_moments_t *mom, const hb_psquare_t *psq,
                         const hb_hist_t *hist) {
  static const double probs[2] = {0.025, 0.975};
  SEXP summ = PROTECT(Rf_allocVector(VECSXP, g->K));
  for (int k = 0; k < g->K; k++) {
    if (!g->online[k]) continue;
    R_xlen_t cells = (R_xlen_t) g->t[k].q * g->t[k].G;
    SEXP s = PROTECT(Rf_allocMatrix(REALSXP, cells, 4));
    double *sv = REAL(s);
    hb_moments_finalize(mom + k, sv, sv + cells);
    if (hist) hb_hist_result(hist + k, 2, probs, sv + 2 * cells);
    else hb_psquare_result(psq + k, sv + 2 * cells);
    SET_VECTOR_ELT(summ, k, s);
    UNPROTECT(1);
  }
  UNPROTECT(1);
  return summ;
}
