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
#include "hbmmm.h"

/* ---- reading the model list (built by gibbs_model() in R/fit.R) ---------- */

/* Elements of the model and control lists, named in errors as
 * `<where>$<name>` (where: "model", "control", "model$terms[[2]]"). */
static SEXP elt(SEXP list, const char *where, const char *name) {
  SEXP names = Rf_getAttrib(list, R_NamesSymbol);
  if (TYPEOF(list) == VECSXP && TYPEOF(names) == STRSXP)
    for (R_xlen_t i = 0; i < XLENGTH(list); i++)
      if (strcmp(CHAR(STRING_ELT(names, i)), name) == 0) return VECTOR_ELT(list, i);
  hb_input_error(where, "element `%s` is missing", name);
  return R_NilValue;
}

/* An element that may be absent (R_NilValue then). */
static SEXP opt_elt(SEXP list, const char *name) {
  SEXP names = Rf_getAttrib(list, R_NamesSymbol);
  if (TYPEOF(list) == VECSXP && TYPEOF(names) == STRSXP)
    for (R_xlen_t i = 0; i < XLENGTH(list); i++)
      if (strcmp(CHAR(STRING_ELT(names, i)), name) == 0) return VECTOR_ELT(list, i);
  return R_NilValue;
}

static const double *real_elt(SEXP list, const char *where, const char *name, R_xlen_t len) {
  SEXP x = elt(list, where, name);
  char arg[96];
  snprintf(arg, sizeof arg, "%s$%s", where, name);
  hb_check_vector(x, arg, REALSXP, len);
  return REAL(x);
}

static const int *int_elt(SEXP list, const char *where, const char *name, R_xlen_t len, int lo, int hi) {
  SEXP x = elt(list, where, name);
  char arg[96];
  snprintf(arg, sizeof arg, "%s$%s", where, name);
  hb_check_vector(x, arg, INTSXP, len);
  const int *v = INTEGER(x);
  for (R_xlen_t i = 0; i < XLENGTH(x); i++) {
    if (v[i] == NA_INTEGER ? lo == NA_INTEGER : (v[i] >= lo && v[i] <= hi)) continue;
    char num[32];
    if (v[i] == NA_INTEGER) snprintf(num, sizeof num, "NA");
    else snprintf(num, sizeof num, "%d", v[i]);
    hb_input_error(arg, "values must lie in [%d, %d]; found %s at element %.0f", lo == NA_INTEGER ? -1 : lo,
                   hi, num, (double) i + 1);
  }
  return v;
}

static int int_scalar(SEXP list, const char *where, const char *name, int lo, int hi) {
  char arg[96];
  snprintf(arg, sizeof arg, "%s$%s", where, name);
  return hb_scalar_int(elt(list, where, name), arg, lo, hi, 0);
}

static void check_positive(const double *x, R_xlen_t len, const char *arg) {
  char num[32];
  for (R_xlen_t i = 0; i < len; i++)
    if (!(x[i] > 0 && R_FINITE(x[i])))
      hb_input_error(arg, "must be positive and finite; found %s at element %.0f",
                     hb_fmt_num(x[i], num, sizeof num), (double) i + 1);
}

static void check_finite(const double *x, R_xlen_t len, const char *arg) {
  char num[32];
  for (R_xlen_t i = 0; i < len; i++)
    if (!R_FINITE(x[i]))
      hb_input_error(arg, "must be finite; found %s at element %.0f", hb_fmt_num(x[i], num, sizeof num),
                     (double) i + 1);
}

/* ---- materialized columns --------------------------------------------- */

/* Column j of a design: the static part itself, or static x media. */
static double **design_columns(const double *Xs, const int *xc, int p, R_xlen_t n) {
  double **col = (double **) R_alloc((size_t) p + 1, sizeof(double *));
  for (int j = 0; j < p; j++)
    col[j] = xc[j] < 0 ? (double *) (Xs + (R_xlen_t) j * n)
                       : (double *) R_alloc((size_t) n, sizeof(double));
  return col;
}

void hb_refresh_channel_columns(hb_gibbs_state *g, int c) {
  const double *m = g->media + (R_xlen_t) c * g->n;
  for (int j = 0; j < g->p; j++) {
    if (g->xc[j] != c) continue;
    const double *s = g->Xs + (R_xlen_t) j * g->n;
    for (R_xlen_t i = 0; i < g->n; i++) g->Xcol[j][i] = s[i] * m[i];
  }
  for (int k = 0; k < g->K; k++) {
    hb_term *t = g->t + k;
    for (int j = 0; j < t->q; j++) {
      if (t->zc[j] != c || t->xmap[j] >= 0) continue; /* shared columns are done */
      const double *s = t->Zs + (R_xlen_t) j * g->n;
      for (R_xlen_t i = 0; i < g->n; i++) t->Zcol[j][i] = s[i] * m[i];
    }
  }
}

/* coef[i]: what multiplies channel c's transformed media in row i through
 * the group-level effects (the fixed-effect part is integrated out by the
 * Metropolis step). */
void hb_channel_zcoef(const hb_gibbs_state *g, int c, double *coef) {
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
static void beta_prior(const hb_gibbs_state *g, double *d0, double *d0m) {
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
static void fixed_prepare(hb_gibbs_state *g) {
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
static void draw_beta(hb_gibbs_state *g) {
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
double hb_fixed_log_marginal(const hb_gibbs_state *g, const double *A, const double *c, double yy) {
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
static void update_horseshoe(hb_gibbs_state *g) {
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

static void update_prec(hb_gibbs_state *g) {
  for (R_xlen_t i = 0; i < g->n; i++) g->prec[i] = g->w[i] * g->inv_sig2[g->sg[i]];
}

static void update_sigma(hb_gibbs_state *g) {
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

/* ---- draws ---------------------------------------------------------------- */

static int npop(const hb_gibbs_state *g) {
  int m = g->p + g->S + (g->use_hs ? 1 : 0);
  for (int k = 0; k < g->K; k++)
    m += g->t[k].q + (g->t[k].type == 1 || g->t[k].type == 4 ? 0 : g->t[k].q * (g->t[k].q - 1) / 2);
  for (int c = 0; c < g->C; c++) m += g->ch[c].nest;
  return m;
}

static void population_draw(const hb_gibbs_state *g, double *v) {
  int m = 0;
  for (int j = 0; j < g->p; j++) v[m++] = g->beta[j];
  for (int k = 0; k < g->K; k++) {
    const hb_term *t = g->t + k;
    for (int j = 0; j < t->q; j++) v[m++] = sqrt(t->Sigma[j + j * t->q]);
    if (t->type == 1 || t->type == 4) continue; /* diagonal: no correlations */
    for (int j = 0; j < t->q; j++)
      for (int l = j + 1; l < t->q; l++)
        v[m++] = t->Sigma[j + l * t->q] / sqrt(t->Sigma[j + j * t->q] * t->Sigma[l + l * t->q]);
  }
  for (int s = 0; s < g->S; s++) v[m++] = sqrt(1.0 / g->inv_sig2[s]);
  for (int c = 0; c < g->C; c++)
    for (int e = 0; e < g->ch[c].nest; e++) v[m++] = g->ch[c].par[g->ch[c].est_slot[e]];
  if (g->use_hs) v[m++] = sqrt(g->hs_tau2);
}

static void progress(SEXP fn, int chain, int it, int iter, int warmup) {
  SEXP call = PROTECT(Rf_lang5(fn, Rf_ScalarInteger(chain), Rf_ScalarInteger(it),
                               Rf_ScalarInteger(iter), Rf_ScalarInteger(warmup)));
  Rf_eval(call, R_GlobalEnv);
  UNPROTECT(1);
}

/* ---- entry point ---------------------------------------------------------- */

SEXP hb_gibbs(SEXP model, SEXP control) {
  if (TYPEOF(model) != VECSXP) hb_input_error("model", "must be a list made by gibbs_model()");
  if (TYPEOF(control) != VECSXP) hb_input_error("control", "must be a list");
  hb_gibbs_state G0, *g = &G0;
  memset(g, 0, sizeof G0);
  SEXP ys = elt(model, "model", "y");
  hb_check_vector(ys, "model$y", REALSXP, -1);
  R_xlen_t n = g->n = XLENGTH(ys);
  if (n < 2) hb_input_error("model$y", "needs at least 2 observations");
  g->y = REAL(ys);
  check_finite(g->y, n, "model$y");
  g->w = real_elt(model, "model", "w", n);
  check_positive(g->w, n, "model$w");
  g->S = int_scalar(model, "model", "S", 1, (int) (n < 1000000 ? n : 1000000));
  g->sg = int_elt(model, "model", "sg", n, 0, g->S - 1);
  const double *sig_ig = real_elt(model, "model", "sig_ig", 2);
  check_positive(sig_ig, 2, "model$sig_ig");
  g->sig_a = sig_ig[0];
  g->sig_b = sig_ig[1];
  g->C = int_scalar(model, "model", "C", 0, 1000);
  g->p = int_scalar(model, "model", "p", 1, HB_MAX_P);
  const int p = g->p, C = g->C;
  g->Xs = real_elt(model, "model", "Xs", n * p);
  check_finite(g->Xs, n * p, "model$Xs");
  g->xc = int_elt(model, "model", "xc", p, -1, C - 1);
  g->b_mean = real_elt(model, "model", "b_mean", p);
  check_finite(g->b_mean, p, "model$b_mean");
  g->b_sd = real_elt(model, "model", "b_sd", p);
  check_positive(g->b_sd, p, "model$b_sd");
  g->use_hs = int_scalar(model, "model", "use_hs", 0, 1);
  g->hs = int_elt(model, "model", "hs", p, 0, 1);
  g->hs_scale = real_elt(model, "model", "hs_scale", p);
  check_positive(g->hs_scale, p, "model$hs_scale");

  /* media channels */
  g->npanel = int_scalar(model, "model", "npanel", 1, (int) (n < 2000000000 ? n : 2000000000));
  const int *pst = int_elt(model, "model", "pstart", g->npanel + 1, 0, (int) n);
  g->pstart = (R_xlen_t *) R_alloc((size_t) g->npanel + 1, sizeof(R_xlen_t));
  for (int k = 0; k <= g->npanel; k++) {
    g->pstart[k] = pst[k];
    if (k > 0 && pst[k] < pst[k - 1]) hb_input_error("model$pstart", "must be non-decreasing");
  }
  if (pst[0] != 0 || pst[g->npanel] != n) hb_input_error("model$pstart", "must run from 0 to n");
  g->media_raw = real_elt(model, "model", "media_raw", n * C);
  for (R_xlen_t i = 0; i < n * C; i++)
    if (!(g->media_raw[i] >= 0 && R_FINITE(g->media_raw[i])))
      hb_input_error("model$media_raw", "media must be finite and non-negative");
  const int *ad = int_elt(model, "model", "ch_ad_type", C, 0, 4), *sat = int_elt(model, "model", "ch_sat_type", C, 0, 3);
  const int *lag = int_elt(model, "model", "ch_max_lag", C, NA_INTEGER, 100000);
  const int *nrm = int_elt(model, "model", "ch_normalize", C, 0, 1);
  const double *cpar = real_elt(model, "model", "ch_par", (R_xlen_t) HB_MAX_TPAR * C);
  const int *cest = int_elt(model, "model", "ch_est", (R_xlen_t) HB_MAX_TPAR * C, 0, 1);
  const int *clink = int_elt(model, "model", "ch_link", (R_xlen_t) HB_MAX_TPAR * C, 0, 2);
  const double *cup = real_elt(model, "model", "ch_upper", (R_xlen_t) HB_MAX_TPAR * C);
  const int *cpc = int_elt(model, "model", "ch_prior_code", (R_xlen_t) HB_MAX_TPAR * C, 0, 8);
  const double *cpp = real_elt(model, "model", "ch_prior_par", (R_xlen_t) 2 * HB_MAX_TPAR * C);
  g->ch = (hb_channel *) R_alloc((size_t) C + 1, sizeof(hb_channel));
  int maxlag = 0;
  char msg[256];
  for (int c = 0; c < C; c++) {
    hb_channel *ch = g->ch + c;
    memset(ch, 0, sizeof *ch);
    ch->ad_type = ad[c];
    ch->sat_type = sat[c];
    ch->max_lag = lag[c];
    ch->normalize = nrm[c];
    if (ch->max_lag == NA_INTEGER && ch->ad_type != 0 && ch->ad_type != HB_ADSTOCK_GEOMETRIC)
      hb_input_error("model$ch_max_lag", "only geometric adstock has infinite memory (channel %d)", c + 1);
    if (ch->max_lag != NA_INTEGER && ch->max_lag > maxlag) maxlag = ch->max_lag;
    for (int s = 0; s < HB_MAX_TPAR; s++) {
      int a = c * HB_MAX_TPAR + s;
      ch->par[s] = cpar[a];
      ch->link[s] = clink[a];
      ch->upper[s] = cup[a];
      ch->prior_code[s] = cpc[a];
      ch->prior_par[2 * s] = cpp[2 * a];
      ch->prior_par[2 * s + 1] = cpp[2 * a + 1];
      if (!cest[a]) continue;
      if (cpc[a] == 0) hb_input_error("model$ch_prior_code", "estimated parameter without prior (channel %d)", c + 1);
      if (clink[a] == HB_LINK_SCALED_LOGIT && !(cup[a] > 0 && R_FINITE(cup[a])))
        hb_input_error("model$ch_upper", "must be positive for a scaled-logit parameter (channel %d)", c + 1);
      ch->est_slot[ch->nest++] = s;
    }
    if (ch->ad_type && (hb_adstock_par_invalid(ch->ad_type, ch->par,
                                               ch->max_lag == NA_INTEGER ? 0 : ch->max_lag, msg, sizeof msg)))
      hb_input_error("model$ch_par", "adstock parameters of channel %d: %s", c + 1, msg);
    if (ch->sat_type == HB_SAT_MICHAELIS_MENTEN ? !(ch->par[3] > 0) :
        (ch->sat_type && hb_saturation_par_invalid(ch->sat_type, ch->par + 2, msg, sizeof msg)))
      hb_input_error("model$ch_par", "saturation parameters of channel %d are out of range", c + 1);
    for (int e = 0; e < ch->nest; e++) { /* estimated values must be interior */
      int s = ch->est_slot[e];
      double u = hb_link_to_unc(ch->link[s], ch->par[s], ch->upper[s]);
      if (!R_FINITE(u)) hb_input_error("model$ch_par", "initial value %g of channel %d lies on a boundary",
                                       ch->par[s], c + 1);
    }
  }

  /* grouping terms */
  SEXP terms = elt(model, "model", "terms");
  if (TYPEOF(terms) != VECSXP) hb_input_error("model$terms", "must be a list");
  g->K = LENGTH(terms);
  g->t = (hb_term *) R_alloc((size_t) g->K + 1, sizeof(hb_term));
  int qmax = 1;
  for (int k = 0; k < g->K; k++) {
    SEXP tk = VECTOR_ELT(terms, k);
    char tw[48], ta[96];
    snprintf(tw, sizeof tw, "model$terms[[%d]]", k + 1);
    if (TYPEOF(tk) != VECSXP) hb_input_error(tw, "must be a list");
    hb_term *t = g->t + k;
    memset(t, 0, sizeof *t);
    t->G = int_scalar(tk, tw, "G", 1, (int) (n < 2000000000 ? n : 2000000000));
    t->q = int_scalar(tk, tw, "q", 1, HB_MAX_Q);
    t->type = int_scalar(tk, tw, "type", 0, 4);
    const int q = t->q;
    if (q > qmax) qmax = q;
    t->g = int_elt(tk, tw, "g", n, 0, t->G - 1);
    t->Zs = real_elt(tk, tw, "Zs", n * q);
    snprintf(ta, sizeof ta, "%s$Zs", tw);
    check_finite(t->Zs, n * q, ta);
    t->zc = int_elt(tk, tw, "zc", q, -1, C - 1);
    t->xmap = int_elt(tk, tw, "xmap", q, -1, p - 1);
    SEXP pj = elt(tk, tw, "pair_j");
    snprintf(ta, sizeof ta, "%s$pair_j", tw);
    hb_check_vector(pj, ta, INTSXP, -1);
    t->npair = LENGTH(pj);
    if (t->npair > p) hb_input_error(ta, "has more pairs (%d) than fixed columns (%d)", t->npair, p);
    t->pair_j = int_elt(tk, tw, "pair_j", t->npair, 0, p - 1);
    t->pair_l = int_elt(tk, tw, "pair_l", t->npair, 0, q - 1);
    t->pair_w = real_elt(tk, tw, "pair_w", (R_xlen_t) t->npair * t->G);
    snprintf(ta, sizeof ta, "%s$pair_w", tw);
    check_finite(t->pair_w, (R_xlen_t) t->npair * t->G, ta);
    for (int a = 0; a < t->npair; a++)
      for (int b = 0; b < a; b++)
        if (t->pair_j[a] == t->pair_j[b]) hb_input_error(ta, "pairs must name distinct fixed columns");
    t->Sigma = (double *) R_alloc((size_t) q * q, sizeof(double));
    t->Sinv = (double *) R_alloc((size_t) q * q, sizeof(double));
    memcpy(t->Sigma, real_elt(tk, tw, "Sigma0", q * q), sizeof(double) * q * q);
    t->iw_df = *real_elt(tk, tw, "iw_df", 1);
    t->iw_S = real_elt(tk, tw, "iw_S", q * q);
    t->ig = real_elt(tk, tw, "ig", 2 * q);
    t->nf = int_scalar(tk, tw, "nf", 0, q);
    t->load_sd = real_elt(tk, tw, "load_sd", q);
    t->psi_ig = real_elt(tk, tw, "psi_ig", 2 * q);
    double *L = (double *) R_alloc((size_t) q * q, sizeof(double));
    memcpy(L, t->Sigma, sizeof(double) * q * q);
    snprintf(ta, sizeof ta, "%s$Sigma0", tw);
    if (hb_chol(L, q) != 0) hb_input_error(ta, "must be positive definite");
    hb_chol_inverse(L, q, t->Sinv);
    if (t->type == 0) {
      snprintf(ta, sizeof ta, "%s$iw_df", tw);
      if (!(t->iw_df > q - 1 && R_FINITE(t->iw_df))) hb_input_error(ta, "must be finite and exceed q - 1 = %d", q - 1);
      memcpy(L, t->iw_S, sizeof(double) * q * q);
      snprintf(ta, sizeof ta, "%s$iw_S", tw);
      if (hb_chol(L, q) != 0) hb_input_error(ta, "must be positive definite");
    }
    snprintf(ta, sizeof ta, "%s$ig", tw);
    if (t->type == 1) check_positive(t->ig, 2 * q, ta);
    t->hw_nu = *real_elt(tk, tw, "hw_nu", 1);
    t->hw_A = real_elt(tk, tw, "hw_A", q);
    if (t->type >= 3) {
      snprintf(ta, sizeof ta, "%s$hw_nu", tw);
      check_positive(&t->hw_nu, 1, ta);
      snprintf(ta, sizeof ta, "%s$hw_A", tw);
      check_positive(t->hw_A, q, ta);
      t->hw_a = (double *) R_alloc((size_t) q, sizeof(double));
      for (int j = 0; j < q; j++) t->hw_a[j] = t->hw_A[j] * t->hw_A[j]; /* a starts at its prior scale */
    }
    if (t->type == 2) {
      snprintf(ta, sizeof ta, "%s$nf", tw);
      if (t->nf < 1 || t->nf >= q) hb_input_error(ta, "must be in 1..q-1 = %d", q - 1);
      snprintf(ta, sizeof ta, "%s$load_sd", tw);
      check_positive(t->load_sd, q, ta);
      snprintf(ta, sizeof ta, "%s$psi_ig", tw);
      check_positive(t->psi_ig, 2 * q, ta);
      t->Lambda = (double *) R_alloc((size_t) q * t->nf, sizeof(double));
      /* loadings start at zero: the first sweep draws scores from N(0, I)
       * and loadings by regressing the effects on them */
      memset(t->Lambda, 0, sizeof(double) * q * t->nf);
      t->psi = (double *) R_alloc((size_t) q, sizeof(double));
      t->f = (double *) R_alloc((size_t) t->nf * t->G, sizeof(double));
      memset(t->f, 0, sizeof(double) * t->nf * t->G);
      for (int j = 0; j < q; j++) t->psi[j] = t->Sigma[j + j * q];
    }
    t->u = (double *) R_alloc((size_t) q * t->G, sizeof(double));
    memset(t->u, 0, sizeof(double) * q * t->G);
    t->start = (R_xlen_t *) R_alloc((size_t) t->G + 1, sizeof(R_xlen_t));
    t->ord = (R_xlen_t *) R_alloc((size_t) n, sizeof(R_xlen_t));
    hb_group_index(t->g, n, t->G, 0, t->start, t->ord);
  }

  /* control */
  int iter = int_scalar(control, "control", "iter", 1, 100000000);
  int warmup = int_scalar(control, "control", "warmup", 0, iter - 1);
  int thin = int_scalar(control, "control", "thin", 1, iter);
  int refresh = int_scalar(control, "control", "refresh", 0, 100000000);
  int chain = int_scalar(control, "control", "chain", 1, 100000);
  SEXP progress_fn = elt(control, "control", "progress");
  if (refresh > 0 && !Rf_isFunction(progress_fn)) hb_input_error("control$progress", "must be a function when refresh > 0");
  const double *sig2_init = real_elt(model, "model", "sig2_init", g->S);
  check_positive(sig2_init, g->S, "model$sig2_init");
  SEXP keep = elt(model, "model", "keep");
  if (TYPEOF(keep) != VECSXP || LENGTH(keep) != g->K) hb_input_error("model$keep", "must be a list with one element per term");
  const int *online = int_elt(model, "model", "online", g->K, 0, 1);

  /* state and scratch; a group-level column equal to a fixed column shares
   * its storage (no second copy of a media column to keep current) */
  g->Xcol = design_columns(g->Xs, g->xc, p, n);
  for (int k = 0; k < g->K; k++) {
    hb_term *t = g->t + k;
    t->Zcol = design_columns(t->Zs, t->zc, t->q, n);
    for (int j = 0; j < t->q; j++)
      if (t->xmap[j] >= 0) t->Zcol[j] = g->Xcol[t->xmap[j]];
  }
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
  int nsave = (iter - warmup + thin - 1) / thin, m = npop(g), nkeep_cells = 0;
  for (int k = 0; k < g->K; k++) {
    SEXP kk = VECTOR_ELT(keep, k);
    hb_check_vector(kk, "model$keep", INTSXP, -1);
    for (R_xlen_t a = 0; a < XLENGTH(kk); a++)
      if (INTEGER(kk)[a] < 0 || INTEGER(kk)[a] >= g->t[k].G) hb_input_error("model$keep", "level index out of range");
    nkeep_cells += (int) XLENGTH(kk) * g->t[k].q;
  }
  SEXP draws = PROTECT(Rf_allocMatrix(REALSXP, nsave, m + nkeep_cells));
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
  SEXP cell = elt(model, "model", "cell");
  int nest_total = 0;
  for (int c = 0; c < C; c++) nest_total += g->ch[c].nest;
  if (!Rf_isNull(cell)) {
    if (nest_total > 0) hb_input_error("model$cell", "cells need a design without estimated transform parameters");
    int ncell = int_scalar(model, "model", "ncell", 1, (int) (n < 2000000000 ? n : 2000000000));
    hb_cells_build(g, int_elt(model, "model", "cell", n, 0, ncell - 1), ncell);
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
      population_draw(g, v);
      for (int j = 0; j < m; j++) dr[saved + (R_xlen_t) nsave * j] = v[j];
      int col = m;
      for (int k = 0; k < g->K; k++) {
        const hb_term *t = g->t + k;
        SEXP kk = VECTOR_ELT(keep, k);
        for (int j = 0; j < t->q; j++)
          for (R_xlen_t a = 0; a < XLENGTH(kk); a++)
            dr[saved + (R_xlen_t) nsave * col++] = t->u[j + (R_xlen_t) t->q * INTEGER(kk)[a]];
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
      progress(progress_fn, chain, it + 1, iter, warmup);
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
  SEXP nm = PROTECT(Rf_allocVector(STRSXP, 4));
  const char *names[4] = {"draws", "accept", "ranef_summary", "state"};
  for (int a = 0; a < 4; a++) SET_STRING_ELT(nm, a, Rf_mkChar(names[a]));
  Rf_setAttrib(out, R_NamesSymbol, nm);
  UNPROTECT(6);
  return out;
}
