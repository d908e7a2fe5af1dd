/* Reading the model list built by mmm_model_list() in R/model_list.R: the data,
 * priors, channels and grouping terms shared by both samplers (the Gibbs
 * sampler and the NUTS model density), each element checked for type,
 * length and range, with errors naming `model$<element>`. */
#include <limits.h>
#include <math.h>
#include <string.h>
#include <Rmath.h>
#include "model.h"

/* ---- reading the model list (built by mmm_model_list() in R/model_list.R) ---------- */

/* Elements of the model and control lists, named in errors as
 * `<where>$<name>` (where: "model", "control", "model$terms[[2]]"). */
SEXP hb_list_opt(SEXP list, const char *name) {
  SEXP names = Rf_getAttrib(list, R_NamesSymbol);
  if (TYPEOF(list) == VECSXP && TYPEOF(names) == STRSXP)
    for (R_xlen_t i = 0; i < XLENGTH(list); i++)
      if (strcmp(CHAR(STRING_ELT(names, i)), name) == 0) return VECTOR_ELT(list, i);
  return R_NilValue;
}

SEXP hb_list_elt(SEXP list, const char *where, const char *name) {
  SEXP names = Rf_getAttrib(list, R_NamesSymbol);
  if (TYPEOF(list) == VECSXP && TYPEOF(names) == STRSXP)
    for (R_xlen_t i = 0; i < XLENGTH(list); i++)
      if (strcmp(CHAR(STRING_ELT(names, i)), name) == 0) return VECTOR_ELT(list, i);
  hb_input_error(where, "element `%s` is missing", name);
  return R_NilValue;
}

const double *hb_list_real(SEXP list, const char *where, const char *name, R_xlen_t len) {
  SEXP x = hb_list_elt(list, where, name);
  char arg[96];
  snprintf(arg, sizeof arg, "%s$%s", where, name);
  hb_check_vector(x, arg, REALSXP, len);
  return REAL(x);
}

/* Integer element checked against [lo, hi]; NA is accepted only when na_ok
 * (an explicit flag: no value of lo can stand for "NA allowed", since NA is
 * INT_MIN and would open the range to every negative number). */
static const int *list_int(SEXP list, const char *where, const char *name, R_xlen_t len,
                           int lo, int hi, int na_ok) {
  SEXP x = hb_list_elt(list, where, name);
  char arg[96];
  snprintf(arg, sizeof arg, "%s$%s", where, name);
  hb_check_vector(x, arg, INTSXP, len);
  const int *v = INTEGER(x);
  for (R_xlen_t i = 0; i < XLENGTH(x); i++) {
    if (v[i] == NA_INTEGER ? na_ok : (v[i] >= lo && v[i] <= hi)) continue;
    char num[32];
    if (v[i] == NA_INTEGER) snprintf(num, sizeof num, "NA");
    else snprintf(num, sizeof num, "%d", v[i]);
    hb_input_error(arg, "values must lie in [%d, %d]%s; found %s at element %.0f", lo, hi,
                   na_ok ? " or be NA" : "", num, (double) i + 1);
  }
  return v;
}

const int *hb_list_int(SEXP list, const char *where, const char *name, R_xlen_t len, int lo, int hi) {
  return list_int(list, where, name, len, lo, hi, 0);
}

const int *hb_list_int_na(SEXP list, const char *where, const char *name, R_xlen_t len, int lo, int hi) {
  return list_int(list, where, name, len, lo, hi, 1);
}

int hb_list_int_scalar(SEXP list, const char *where, const char *name, int lo, int hi) {
  char arg[96];
  snprintf(arg, sizeof arg, "%s$%s", where, name);
  return hb_scalar_int(hb_list_elt(list, where, name), arg, lo, hi, 0);
}

void hb_check_positive(const double *x, R_xlen_t len, const char *arg) {
  char num[32];
  for (R_xlen_t i = 0; i < len; i++)
    if (!(x[i] > 0 && R_FINITE(x[i])))
      hb_input_error(arg, "must be positive and finite; found %s at element %.0f",
                     hb_fmt_num(x[i], num, sizeof num), (double) i + 1);
}

void hb_check_finite(const double *x, R_xlen_t len, const char *arg) {
  char num[32];
  for (R_xlen_t i = 0; i < len; i++)
    if (!R_FINITE(x[i]))
      hb_input_error(arg, "must be finite; found %s at element %.0f", hb_fmt_num(x[i], num, sizeof num),
                     (double) i + 1);
}

/* Column j of a design: the static part itself, or static x media. */
static double **design_columns(const double *Xs, const int *xc, int p, R_xlen_t n) {
  double **col = (double **) R_alloc((size_t) p + 1, sizeof(double *));
  for (int j = 0; j < p; j++)
    col[j] = xc[j] < 0 ? (double *) (Xs + (R_xlen_t) j * n)
                       : (double *) R_alloc((size_t) n, sizeof(double));
  return col;
}

/* Allocates the materialized design columns (fixed: Xcol, each term: Zcol);
 * a group-level column equal to a fixed column shares its storage, so a
 * media column has one copy to keep current. */
void hb_model_columns(hb_model *g) {
  g->Xcol = design_columns(g->Xs, g->xc, g->p, g->n);
  for (int k = 0; k < g->K; k++) {
    hb_term *t = g->t + k;
    t->Zcol = design_columns(t->Zs, t->zc, t->q, g->n);
    for (int j = 0; j < t->q; j++)
      if (t->xmap[j] >= 0) t->Zcol[j] = g->Xcol[t->xmap[j]];
  }
}

/* model$tpos: NULL when every series has consecutive periods, otherwise the
 * time position of each row, strictly increasing within a panel (missing
 * periods are gaps over which carry-over decays). */
static const int *read_time_positions(SEXP model, const hb_model *g) {
  SEXP tp = hb_list_elt(model, "model", "tpos");
  if (tp == R_NilValue) return NULL;
  const int *t = hb_list_int(model, "model", "tpos", g->n, 0, INT_MAX - 1);
  for (int k = 0; k < g->npanel; k++)
    for (R_xlen_t i = g->pstart[k] + 1; i < g->pstart[k + 1]; i++)
      if (t[i] <= t[i - 1])
        hb_input_error("model$tpos", "must increase strictly within each panel; element %.0f is %d after %d",
                       (double) i + 1, t[i], t[i - 1]);
  return t;
}

/* Families of the coefficients' priors: a positive family only on a media
 * channel's column, at most one per channel (the Gibbs sampler's
 * Metropolis step integrates that one out with its truncation), and not
 * with the horseshoe. */
static void read_coef_families(SEXP model, hb_model *g) {
  const int p = g->p;
  g->b_code = hb_list_int(model, "model", "b_code", p, HB_PRIOR_NORMAL, HB_PRIOR_HALF_STUDENT_T);
  g->n_pos = 0;
  for (int j = 0; j < p; j++) {
    int code = g->b_code[j];
    if (code == HB_PRIOR_NORMAL) continue;
    if (code != HB_PRIOR_HALF_NORMAL && code != HB_PRIOR_EXPONENTIAL && code != HB_PRIOR_LOGNORMAL)
      hb_input_error("model$b_code", "element %d must be the code of normal, half_normal, exponential or lognormal; found %d",
                     j + 1, code);
    if (g->xc[j] < 0)
      hb_input_error("model$b_code", "element %d: a positive prior needs a media channel's column", j + 1);
    if (g->use_hs && g->hs[j])
      hb_input_error("model$b_code", "element %d: a positive prior cannot be combined with the horseshoe", j + 1);
    for (int l = 0; l < j; l++)
      if (g->b_code[l] != HB_PRIOR_NORMAL && g->xc[l] == g->xc[j])
        hb_input_error("model$b_code", "elements %d and %d: at most one positive coefficient per channel", l + 1, j + 1);
    g->n_pos++;
  }
}

/* model$b_roi (optional): per fixed column 0, or the channel's total spend
 * when its lognormal prior (b_mean, b_sd) is on the ROI,
 * b sum(column) / spend (hb_coef_meanlog()). */
static void read_roi_priors(SEXP model, hb_model *g) {
  g->b_roi = NULL;
  if (hb_list_elt(model, "model", "b_roi") == R_NilValue) return;
  const double *r = hb_list_real(model, "model", "b_roi", g->p);
  for (int j = 0; j < g->p; j++) {
    if (!(r[j] >= 0.0) || !R_FINITE(r[j]))
      hb_input_error("model$b_roi", "element %d must be 0 or a positive finite spend; found %g", j + 1, r[j]);
    if (r[j] > 0.0 && g->b_code[j] != HB_PRIOR_LOGNORMAL)
      hb_input_error("model$b_roi", "element %d: an ROI prior needs the lognormal family (b_code)", j + 1);
    if (r[j] > 0.0) g->b_roi = r;
  }
}

/* model$lift (optional): list(c, a0, a1) of the lift tests, whose rows are
 * the last nlift rows of y, w, Xs and each term's design (hb_channel_lift()
 * writes their media). Without it every row is data. */
static void read_lift(SEXP model, hb_model *g) {
  g->nlift = 0;
  g->nd = g->n;
  SEXP lift = hb_list_opt(model, "lift");
  if (lift == R_NilValue) return;
  if (TYPEOF(lift) != VECSXP) hb_input_error("model$lift", "must be a list (c, a0, a1) or NULL");
  SEXP cs = hb_list_elt(lift, "model$lift", "c");
  hb_check_vector(cs, "model$lift$c", INTSXP, -1);
  R_xlen_t nl = XLENGTH(cs);
  if (nl < 1 || nl > g->n - 2) hb_input_error("model$lift$c", "must hold 1 to n - 2 tests; found %.0f", (double) nl);
  g->nlift = (int) nl;
  g->nd = g->n - nl;
  g->lift_c = hb_list_int(lift, "model$lift", "c", nl, 0, g->C - 1);
  g->lift_a0 = hb_list_real(lift, "model$lift", "a0", nl);
  g->lift_a1 = hb_list_real(lift, "model$lift", "a1", nl);
  for (R_xlen_t k = 0; k < nl; k++)
    if (!(g->lift_a0[k] >= 0.0 && g->lift_a1[k] > g->lift_a0[k] && R_FINITE(g->lift_a1[k])))
      hb_input_error("model$lift", "test %.0f: needs 0 <= a0 < a1 < Inf; found a0 = %g, a1 = %g",
                     (double) k + 1, g->lift_a0[k], g->lift_a1[k]);
}

/* Response, weights, residual groups, fixed design and its priors. */
static void read_data(SEXP model, hb_model *g) {
  SEXP ys = hb_list_elt(model, "model", "y");
  hb_check_vector(ys, "model$y", REALSXP, -1);
  R_xlen_t n = g->n = XLENGTH(ys);
  if (n < 2) hb_input_error("model$y", "needs at least 2 observations");
  g->y = REAL(ys);
  hb_check_finite(g->y, n, "model$y");
  g->w = hb_list_real(model, "model", "w", n);
  hb_check_positive(g->w, n, "model$w");
  g->S = hb_list_int_scalar(model, "model", "S", 1, (int) (n < 1000000 ? n : 1000000));
  g->sg = hb_list_int(model, "model", "sg", n, 0, g->S - 1);
  const double *sig_ig = hb_list_real(model, "model", "sig_ig", 2);
  hb_check_positive(sig_ig, 2, "model$sig_ig");
  g->sig_a = sig_ig[0];
  g->sig_b = sig_ig[1];
  g->C = hb_list_int_scalar(model, "model", "C", 0, 1000);
  g->p = hb_list_int_scalar(model, "model", "p", 1, HB_MAX_P);
  const int p = g->p, C = g->C;
  g->Xs = hb_list_real(model, "model", "Xs", n * p);
  hb_check_finite(g->Xs, n * p, "model$Xs");
  g->xc = hb_list_int(model, "model", "xc", p, -1, C - 1);
  g->b_mean = hb_list_real(model, "model", "b_mean", p);
  hb_check_finite(g->b_mean, p, "model$b_mean");
  g->b_sd = hb_list_real(model, "model", "b_sd", p);
  hb_check_positive(g->b_sd, p, "model$b_sd");
  g->use_hs = hb_list_int_scalar(model, "model", "use_hs", 0, 1);
  g->hs = hb_list_int(model, "model", "hs", p, 0, 1);
  g->hs_scale = hb_list_real(model, "model", "hs_scale", p);
  hb_check_positive(g->hs_scale, p, "model$hs_scale");
  read_coef_families(model, g);
  read_roi_priors(model, g);
  g->prior_only = hb_list_int_scalar(model, "model", "prior_only", 0, 1);
  read_lift(model, g);
}

/* Optional model$mix_pool (0/1) and model$mix_pool_prior (6: mu_h's mean
 * and sd, tau_h's half-normal scale, the same for the slopes): every
 * mixture channel's components drawn from the pooled distributions of
 * hb_model (a channel's centre is its half-saturation prior's meanlog, so
 * that prior must be lognormal). Starts at the hyperpriors' centres (the
 * scales at half their half-normal's scale). */
static void read_mixture_pool(SEXP model, hb_model *g) {
  g->mix_pool = hb_list_elt(model, "model", "mix_pool") == R_NilValue ? 0 : hb_list_int_scalar(model, "model", "mix_pool", 0, 1);
  if (!g->mix_pool) return;
  const double *pp = hb_list_real(model, "model", "mix_pool_prior", 6);
  for (int a = 0; a < 6; a++) {
    if (!R_FINITE(pp[a]) || (a % 3 != 0 && !(pp[a] > 0.0)))
      hb_input_error("model$mix_pool_prior", "element %d must be finite%s; found %g", a + 1, a % 3 ? " and positive" : "", pp[a]);
    g->pool_prior[a] = pp[a];
  }
  for (int a = 0; a < 2; a++) {
    g->pool_val[2 * a] = pp[3 * a];
    g->pool_val[2 * a + 1] = 0.5 * pp[3 * a + 2];
  }
  int any = 0;
  for (int c = 0; c < g->C; c++) {
    hb_channel *ch = g->ch + c;
    if (!ch->mix_K) continue;
    if (ch->mix_prior_code[0] != HB_PRIOR_LOGNORMAL)
      hb_input_error("model$ch_mix_prior_code", "pooled components need a lognormal half-saturation prior (channel %d)", c + 1);
    if (ch->mix_K > 1 && ch->mix_weights == HB_MIX_STICK)
      hb_input_error("model$ch_mix_weights", "pooled components need Dirichlet weights (channel %d has stick-breaking ones)", c + 1);
    ch->pool = g->pool_val;
    any = 1;
  }
  if (!any) hb_input_error("model$mix_pool", "is 1 but no channel is a mixture of Hill curves");
}

/* The mixture-of-Hills channels: components (ch_mix_K), their starting
 * values (ch_mix_par: halfsat, slope, weight of each mixture channel in
 * turn), the concentration's (ch_mix_alpha), the weights' prior
 * (ch_mix_weights: 0 stick-breaking, 1 Dirichlet with concentration
 * ch_mix_e0) and the priors (ch_mix_prior_code 3 x C, ch_mix_prior_par 6 x C:
 * halfsat, slope, alpha). */
static void read_mixtures(SEXP model, hb_model *g) {
  const int C = g->C;
  const int *mk = hb_list_int(model, "model", "ch_mix_K", C, 0, HB_MAX_MIX);
  const double *alpha = hb_list_real(model, "model", "ch_mix_alpha", C);
  const int *wt = hb_list_int(model, "model", "ch_mix_weights", C, HB_MIX_STICK, HB_MIX_DIRICHLET);
  const double *e0 = hb_list_real(model, "model", "ch_mix_e0", C);
  const int *code = hb_list_int(model, "model", "ch_mix_prior_code", (R_xlen_t) 3 * C, 0, HB_PRIOR_HALF_STUDENT_T);
  const double *pp = hb_list_real(model, "model", "ch_mix_prior_par", (R_xlen_t) 6 * C);
  R_xlen_t tot = 0;
  for (int c = 0; c < C; c++) tot += 3 * mk[c];
  const double *mp = hb_list_real(model, "model", "ch_mix_par", tot);
  char msg[200];
  for (int c = 0; c < C; c++) {
    hb_channel *ch = g->ch + c;
    ch->mix_K = mk[c];
    ch->ntheta = ch->nest;
    if ((mk[c] > 0) != (ch->sat_type == HB_SAT_HILL_MIXTURE))
      hb_input_error("model$ch_mix_K", "must be positive exactly for the hill_mixture channels (channel %d)", c + 1);
    if (!mk[c]) continue;
    for (int s = 0; s < ch->nest; s++)
      if (ch->est_slot[s] >= 2) hb_input_error("model$ch_est", "a mixture channel estimates no saturation slot (channel %d)", c + 1);
    const int K = mk[c];
    memcpy(HB_MIX_PAR(ch->par), mp, sizeof(double) * 3 * K);
    mp += 3 * K;
    const double *h = HB_MIX_PAR(ch->par);
    if (hb_mixture_par_invalid(K, h, msg, sizeof msg))
      hb_input_error("model$ch_mix_par", "channel %d: %s", c + 1, msg);
    for (int k = 0; k < K; k++) {
      if (k > 0 && !(h[k] > h[k - 1])) hb_input_error("model$ch_mix_par", "half-saturations must increase (channel %d)", c + 1);
      if (!(h[2 * K + k] > 0.0)) hb_input_error("model$ch_mix_par", "starting weights must be positive (channel %d)", c + 1);
    }
    ch->alpha = alpha[c];
    ch->mix_weights = wt[c];
    ch->mix_e0 = e0[c];
    const int stick = K > 1 && wt[c] == HB_MIX_STICK;
    if (stick && !(alpha[c] > 0 && R_FINITE(alpha[c]))) hb_input_error("model$ch_mix_alpha", "must be positive (channel %d)", c + 1);
    if (K > 1 && wt[c] == HB_MIX_DIRICHLET && !(e0[c] > 0 && R_FINITE(e0[c])))
      hb_input_error("model$ch_mix_e0", "must be positive (channel %d)", c + 1);
    for (int q = 0; q < 3; q++) {
      ch->mix_prior_code[q] = code[3 * c + q];
      ch->mix_prior_par[2 * q] = pp[6 * c + 2 * q];
      ch->mix_prior_par[2 * q + 1] = pp[6 * c + 2 * q + 1];
      if (q < 2 || stick) {
        int f = code[3 * c + q];
        if (f == 0 || f == HB_PRIOR_NORMAL || f == HB_PRIOR_BETA || f == HB_PRIOR_UNIFORM)
          hb_input_error("model$ch_mix_prior_code", "must be a family on the positive numbers (channel %d)", c + 1);
      }
    }
    ch->ntheta = ch->nest + hb_mix_npar(K);
  }
  read_mixture_pool(model, g);
}

/* Media channels: raw media, panels, transform types and parameters with
 * their links and priors; returns the longest finite lag. */
static int read_channels(SEXP model, hb_model *g) {
  const R_xlen_t n = g->n;
  const int C = g->C;
  g->npanel = hb_list_int_scalar(model, "model", "npanel", 1, (int) (n < 2000000000 ? n : 2000000000));
  const int *pst = hb_list_int(model, "model", "pstart", g->npanel + 1, 0, (int) g->nd);
  g->pstart = (R_xlen_t *) R_alloc((size_t) g->npanel + 1, sizeof(R_xlen_t));
  for (int k = 0; k <= g->npanel; k++) {
    g->pstart[k] = pst[k];
    if (k > 0 && pst[k] < pst[k - 1]) hb_input_error("model$pstart", "must be non-decreasing");
  }
  if (pst[0] != 0 || pst[g->npanel] != g->nd) hb_input_error("model$pstart", "must run from 0 to n (the data's rows)");
  g->tpos = read_time_positions(model, g);
  g->media_raw = hb_list_real(model, "model", "media_raw", n * C);
  for (R_xlen_t i = 0; i < n * C; i++)
    if (!(g->media_raw[i] >= 0 && R_FINITE(g->media_raw[i])))
      hb_input_error("model$media_raw", "media must be finite and non-negative");
  const int *ad = hb_list_int(model, "model", "ch_ad_type", C, HB_ADSTOCK_NONE, HB_ADSTOCK_WEIBULL_PDF);
  const int *sat = hb_list_int(model, "model", "ch_sat_type", C, HB_SAT_NONE, HB_SAT_HILL_MIXTURE);
  /* NA: infinite memory (geometric adstock only, checked below) */
  const int *lag = hb_list_int_na(model, "model", "ch_max_lag", C, 0, 100000);
  const int *nrm = hb_list_int(model, "model", "ch_normalize", C, 0, 1);
  const double *cpar = hb_list_real(model, "model", "ch_par", (R_xlen_t) HB_MAX_TPAR * C);
  const int *cest = hb_list_int(model, "model", "ch_est", (R_xlen_t) HB_MAX_TPAR * C, 0, 1);
  const int *clink = hb_list_int(model, "model", "ch_link", (R_xlen_t) HB_MAX_TPAR * C, HB_LINK_LOGIT, HB_LINK_SCALED_LOGIT);
  const double *cup = hb_list_real(model, "model", "ch_upper", (R_xlen_t) HB_MAX_TPAR * C);
  const int *cpc = hb_list_int(model, "model", "ch_prior_code", (R_xlen_t) HB_MAX_TPAR * C, 0, HB_PRIOR_HALF_STUDENT_T); /* 0: none */
  const double *cpp = hb_list_real(model, "model", "ch_prior_par", (R_xlen_t) 2 * HB_MAX_TPAR * C);
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
    if (ch->max_lag == NA_INTEGER && ch->ad_type != HB_ADSTOCK_NONE && ch->ad_type != HB_ADSTOCK_GEOMETRIC)
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
      if (cpc[a] == 0 /* none */) hb_input_error("model$ch_prior_code", "estimated parameter without prior (channel %d)", c + 1);
      if (clink[a] == HB_LINK_SCALED_LOGIT && !(cup[a] > 0 && R_FINITE(cup[a])))
        hb_input_error("model$ch_upper", "must be positive for a scaled-logit parameter (channel %d)", c + 1);
      ch->est_slot[ch->nest++] = s;
    }
    if (ch->ad_type != HB_ADSTOCK_NONE && (hb_adstock_par_invalid(ch->ad_type, ch->par,
                                               ch->max_lag == NA_INTEGER ? 0 : ch->max_lag, msg, sizeof msg)))
      hb_input_error("model$ch_par", "adstock parameters of channel %d: %s", c + 1, msg);
    if (ch->sat_type == HB_SAT_MICHAELIS_MENTEN ? !(ch->par[3] > 0) :
        (ch->sat_type != HB_SAT_NONE && ch->sat_type != HB_SAT_HILL_MIXTURE &&
         hb_saturation_par_invalid(ch->sat_type, ch->par + 2, msg, sizeof msg)))
      hb_input_error("model$ch_par", "saturation parameters of channel %d are out of range", c + 1);
    for (int e = 0; e < ch->nest; e++) { /* estimated values must be interior */
      int s = ch->est_slot[e];
      double u = hb_link_to_unc(ch->link[s], ch->par[s], ch->upper[s]);
      if (!R_FINITE(u)) hb_input_error("model$ch_par", "initial value %g of channel %d lies on a boundary",
                                       ch->par[s], c + 1);
    }
  }
  read_mixtures(model, g);
  return maxlag;
}

/* Term k's structure: levels, design, translation pairs. */
static void read_term_design(SEXP tk, const char *tw, const hb_model *g, hb_term *t) {
  const R_xlen_t n = g->n;
  const int p = g->p, C = g->C;
  char ta[96];
  t->G = hb_list_int_scalar(tk, tw, "G", 1, (int) (n < 2000000000 ? n : 2000000000));
  t->q = hb_list_int_scalar(tk, tw, "q", 1, HB_MAX_Q);
  t->type = hb_list_int_scalar(tk, tw, "type", HB_COV_FULL, HB_COV_LKJ); /* LKJ: NUTS only */
  const int q = t->q;
  t->g = hb_list_int(tk, tw, "g", n, 0, t->G - 1);
  t->Zs = hb_list_real(tk, tw, "Zs", n * q);
  snprintf(ta, sizeof ta, "%s$Zs", tw);
  hb_check_finite(t->Zs, n * q, ta);
  t->zc = hb_list_int(tk, tw, "zc", q, -1, C - 1);
  t->xmap = hb_list_int(tk, tw, "xmap", q, -1, p - 1);
  SEXP pj = hb_list_elt(tk, tw, "pair_j");
  snprintf(ta, sizeof ta, "%s$pair_j", tw);
  hb_check_vector(pj, ta, INTSXP, -1);
  t->npair = LENGTH(pj);
  if (t->npair > p) hb_input_error(ta, "has more pairs (%d) than fixed columns (%d)", t->npair, p);
  t->pair_j = hb_list_int(tk, tw, "pair_j", t->npair, 0, p - 1);
  t->pair_l = hb_list_int(tk, tw, "pair_l", t->npair, 0, q - 1);
  t->pair_w = hb_list_real(tk, tw, "pair_w", (R_xlen_t) t->npair * t->G);
  snprintf(ta, sizeof ta, "%s$pair_w", tw);
  hb_check_finite(t->pair_w, (R_xlen_t) t->npair * t->G, ta);
  for (int a = 0; a < t->npair; a++)
    for (int b = 0; b < a; b++)
      if (t->pair_j[a] == t->pair_j[b]) hb_input_error(ta, "pairs must name distinct fixed columns");
  /* the design's part of the pairs' prior precision, fixed for the run */
  const int m = t->npair;
  t->pair_ww = (double *) R_alloc((size_t) m * m + 1, sizeof(double));
  memset(t->pair_ww, 0, sizeof(double) * ((size_t) m * m + 1));
  for (int k = 0; k < t->G; k++) {
    const double *wk = t->pair_w + (R_xlen_t) m * k;
    for (int b = 0; b < m; b++)
      for (int a = b; a < m; a++) t->pair_ww[a + b * m] += wk[a] * wk[b];
  }
}

/* Term k's covariance: starting value, prior by type, state of the type's
 * auxiliary variables; then the effects (zero) and the rows of each level. */
static void read_term_cov(SEXP tk, const char *tw, const hb_model *g, hb_term *t) {
  const R_xlen_t n = g->n;
  const int q = t->q;
  char ta[96];
  t->Sigma = (double *) R_alloc((size_t) q * q, sizeof(double));
  t->Sinv = (double *) R_alloc((size_t) q * q, sizeof(double));
  memcpy(t->Sigma, hb_list_real(tk, tw, "Sigma0", q * q), sizeof(double) * q * q);
  t->iw_df = *hb_list_real(tk, tw, "iw_df", 1);
  t->iw_S = hb_list_real(tk, tw, "iw_S", q * q);
  t->ig = hb_list_real(tk, tw, "ig", 2 * q);
  t->nf = hb_list_int_scalar(tk, tw, "nf", 0, q);
  t->load_sd = hb_list_real(tk, tw, "load_sd", q);
  t->psi_ig = hb_list_real(tk, tw, "psi_ig", 2 * q);
  double *L = (double *) R_alloc((size_t) q * q, sizeof(double));
  memcpy(L, t->Sigma, sizeof(double) * q * q);
  snprintf(ta, sizeof ta, "%s$Sigma0", tw);
  if (hb_chol(L, q) != 0) hb_input_error(ta, "must be positive definite");
  hb_chol_inverse(L, q, t->Sinv);
  if (t->type == HB_COV_FULL) {
    snprintf(ta, sizeof ta, "%s$iw_df", tw);
    if (!(t->iw_df > q - 1 && R_FINITE(t->iw_df))) hb_input_error(ta, "must be finite and exceed q - 1 = %d", q - 1);
    memcpy(L, t->iw_S, sizeof(double) * q * q);
    snprintf(ta, sizeof ta, "%s$iw_S", tw);
    if (hb_chol(L, q) != 0) hb_input_error(ta, "must be positive definite");
  }
  snprintf(ta, sizeof ta, "%s$ig", tw);
  if (t->type == HB_COV_DIAG) hb_check_positive(t->ig, 2 * q, ta);
  t->hw_nu = *hb_list_real(tk, tw, "hw_nu", 1);
  t->hw_A = hb_list_real(tk, tw, "hw_A", q);
  if (hb_cov_huang_wand(t->type) || t->type == HB_COV_LKJ) { /* LKJ: read, unused */
    snprintf(ta, sizeof ta, "%s$hw_nu", tw);
    hb_check_positive(&t->hw_nu, 1, ta);
    snprintf(ta, sizeof ta, "%s$hw_A", tw);
    hb_check_positive(t->hw_A, q, ta);
    t->hw_a = (double *) R_alloc((size_t) q, sizeof(double));
    for (int j = 0; j < q; j++) t->hw_a[j] = t->hw_A[j] * t->hw_A[j]; /* a starts at its prior scale */
  }
  if (t->type == HB_COV_FACTOR) {
    snprintf(ta, sizeof ta, "%s$nf", tw);
    if (t->nf < 1 || t->nf >= q) hb_input_error(ta, "must be in 1..q-1 = %d", q - 1);
    snprintf(ta, sizeof ta, "%s$load_sd", tw);
    hb_check_positive(t->load_sd, q, ta);
    snprintf(ta, sizeof ta, "%s$psi_ig", tw);
    hb_check_positive(t->psi_ig, 2 * q, ta);
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

/* Term k's parent term, the parent level of each level, the paired
 * columns (add_nested_pairs() in R/model_list.R). A parent must have fewer
 * levels, and each pair must join columns with the same values on every
 * data row, so that the translation leaves every row's fit unchanged. */
static void read_term_nesting(SEXP tk, const char *tw, const hb_model *g, int k) {
  hb_term *t = g->t + k;
  char ta[96];
  t->nest_parent = hb_list_int_scalar(tk, tw, "nest_parent", -1, g->K - 1);
  t->nest_np = 0;
  if (t->nest_parent < 0) return;
  const hb_term *pt = g->t + t->nest_parent;
  snprintf(ta, sizeof ta, "%s$nest_parent", tw);
  if (t->nest_parent == k || pt->G >= t->G) hb_input_error(ta, "must name a term with fewer levels");
  if (t->type == HB_COV_FACTOR || t->type == HB_COV_LKJ || pt->type == HB_COV_FACTOR || pt->type == HB_COV_LKJ)
    hb_input_error(ta, "must join terms with a conjugate covariance (not factor-analytic or LKJ)");
  SEXP nl = hb_list_elt(tk, tw, "nest_l");
  snprintf(ta, sizeof ta, "%s$nest_l", tw);
  hb_check_vector(nl, ta, INTSXP, -1);
  int np = LENGTH(nl);
  if (np < 1 || np > t->q || np > pt->q) hb_input_error(ta, "must pair 1 to %d columns", t->q < pt->q ? t->q : pt->q);
  t->nest_l = hb_list_int(tk, tw, "nest_l", np, 0, t->q - 1);
  t->nest_lp = hb_list_int(tk, tw, "nest_lp", np, 0, pt->q - 1);
  t->nest_map = hb_list_int(tk, tw, "nest_map", t->G, 0, pt->G - 1);
  for (int a = 0; a < np; a++) {
    for (int b = 0; b < a; b++)
      if (t->nest_l[a] == t->nest_l[b] || t->nest_lp[a] == t->nest_lp[b])
        hb_input_error(ta, "pairs must name distinct columns");
    if (t->zc[t->nest_l[a]] != pt->zc[t->nest_lp[a]])
      hb_input_error(ta, "pair %d: the columns differ in their media channel", a + 1);
  }
  for (R_xlen_t i = 0; i < g->nd; i++) {
    if (t->nest_map[t->g[i]] != pt->g[i]) hb_input_error(ta, "row %lld: its level does not lie in the parent's level", (long long) i + 1);
    for (int a = 0; a < np; a++)
      if (t->Zs[i + g->n * t->nest_l[a]] != pt->Zs[i + g->n * t->nest_lp[a]])
        hb_input_error(ta, "pair %d: the columns differ on row %lld", a + 1, (long long) i + 1);
  }
  t->nest_np = np;
  t->nest_buf = (double *) R_alloc((size_t) (t->q + 1) * pt->G, sizeof(double));
}

/* model$mult (optional): the log-normal media effects (hb_mult), each a
 * list of c, j (0-based channel and its fixed column), G, g (n levels,
 * -1 for none), sd0, hw_nu, hw_A and keep (0-based kept levels). */
static void read_mult(SEXP model, hb_model *g) {
  SEXP ml = hb_list_opt(model, "mult");
  g->nmult = 0;
  if (Rf_isNull(ml)) return;
  if (TYPEOF(ml) != VECSXP) hb_input_error("model$mult", "must be a list");
  g->nmult = LENGTH(ml);
  g->mu = (hb_mult *) R_alloc((size_t) g->nmult + 1, sizeof(hb_mult));
  int *seen = (int *) R_alloc((size_t) g->C + 1, sizeof(int));
  memset(seen, 0, sizeof(int) * (g->C + 1));
  for (int b = 0; b < g->nmult; b++) {
    SEXP mb = VECTOR_ELT(ml, b);
    char mw[48];
    snprintf(mw, sizeof mw, "model$mult[[%d]]", b + 1);
    if (TYPEOF(mb) != VECSXP) hb_input_error(mw, "must be a list");
    hb_mult *mu = g->mu + b;
    memset(mu, 0, sizeof *mu);
    mu->c = hb_list_int_scalar(mb, mw, "c", 0, g->C - 1);
    if (seen[mu->c]++) hb_input_error(mw, "channel %d has a second log-normal block", mu->c + 1);
    mu->j = hb_list_int_scalar(mb, mw, "j", 0, g->p - 1);
    if (g->xc[mu->j] != mu->c) hb_input_error(mw, "fixed column %d is not channel %d's", mu->j + 1, mu->c + 1);
    for (R_xlen_t i = 0; i < g->nd; i++) /* a lift test's row has 1 for its own channel only */
      if (g->Xs[i + (R_xlen_t) mu->j * g->n] != 1.0)
        hb_input_error(mw, "fixed column %d must be the channel itself (static part 1)", mu->j + 1);
    mu->G = hb_list_int_scalar(mb, mw, "G", 1, (int) (g->n < 2000000000 ? g->n : 2000000000));
    mu->g = hb_list_int(mb, mw, "g", g->n, -1, mu->G - 1);
    mu->sd = *hb_list_real(mb, mw, "sd0", 1);
    mu->hw_nu = *hb_list_real(mb, mw, "hw_nu", 1);
    mu->hw_A = *hb_list_real(mb, mw, "hw_A", 1);
    double chk[3] = {mu->sd, mu->hw_nu, mu->hw_A};
    char arg[96];
    snprintf(arg, sizeof arg, "%s$sd0, hw_nu, hw_A", mw);
    hb_check_positive(chk, 3, arg);
    mu->hw_a = 1.0;
    mu->v = (double *) R_alloc((size_t) mu->G, sizeof(double));
    mu->scratch = (double *) R_alloc((size_t) 3 * mu->G, sizeof(double));
    memset(mu->v, 0, sizeof(double) * mu->G);
    SEXP kp = hb_list_elt(mb, mw, "keep");
    hb_check_vector(kp, "model$mult$keep", INTSXP, -1);
    mu->nkeep = LENGTH(kp);
    mu->keep = hb_list_int(mb, mw, "keep", mu->nkeep, 0, mu->G - 1);
    /* rows by level, for the Gibbs updates and gradients: codes -1 .. G - 1
     * as groups 0 .. G, so that level l's rows start at start[l + 1] */
    R_xlen_t *st = (R_xlen_t *) R_alloc((size_t) mu->G + 2, sizeof(R_xlen_t));
    mu->ord = (R_xlen_t *) R_alloc((size_t) g->n + 1, sizeof(R_xlen_t));
    hb_group_index(mu->g, g->n, mu->G + 1, -1, st, mu->ord);
    mu->start = st + 1;
  }
  g->mult_row = (double *) R_alloc((size_t) (g->n * g->C + 1), sizeof(double));
  for (int c = 0; c < g->C; c++) hb_mult_rows(g, c);
}

/* Fills the data, prior and structure fields of g (and the starting values
 * of the terms' state); maxlag and qmax get the longest finite adstock lag
 * and the largest term dimension. */
void hb_model_read(SEXP model, hb_model *g, int *maxlag_out, int *qmax_out) {
  read_data(model, g);
  int maxlag = read_channels(model, g);
  /* grouping terms */
  SEXP terms = hb_list_elt(model, "model", "terms");
  if (TYPEOF(terms) != VECSXP) hb_input_error("model$terms", "must be a list");
  g->K = LENGTH(terms);
  g->t = (hb_term *) R_alloc((size_t) g->K + 1, sizeof(hb_term));
  int qmax = 1;
  for (int k = 0; k < g->K; k++) {
    SEXP tk = VECTOR_ELT(terms, k);
    char tw[48];
    snprintf(tw, sizeof tw, "model$terms[[%d]]", k + 1);
    if (TYPEOF(tk) != VECSXP) hb_input_error(tw, "must be a list");
    hb_term *t = g->t + k;
    memset(t, 0, sizeof *t);
    read_term_design(tk, tw, g, t);
    if (t->q > qmax) qmax = t->q;
    read_term_cov(tk, tw, g, t);
  }
  for (int k = 0; k < g->K; k++) {
    char tw[48];
    snprintf(tw, sizeof tw, "model$terms[[%d]]", k + 1);
    read_term_nesting(VECTOR_ELT(terms, k), tw, g, k);
  }
  read_mult(model, g);
  *maxlag_out = maxlag;
  *qmax_out = qmax;
}

/* The kept levels of each term (stored with every draw) and which terms get
 * online summaries of all their effects. */
void hb_model_read_output(SEXP model, hb_model *g) {
  SEXP keep = hb_list_elt(model, "model", "keep");
  if (TYPEOF(keep) != VECSXP || LENGTH(keep) != g->K) hb_input_error("model$keep", "must be a list with one element per term");
  g->online = hb_list_int(model, "model", "online", g->K, 0, 1);
  g->keep = (int **) R_alloc((size_t) g->K + 1, sizeof(int *));
  g->nkeep = (int *) R_alloc((size_t) g->K + 1, sizeof(int));
  for (int k = 0; k < g->K; k++) {
    SEXP kk = VECTOR_ELT(keep, k);
    hb_check_vector(kk, "model$keep", INTSXP, -1);
    g->nkeep[k] = LENGTH(kk);
    g->keep[k] = INTEGER(kk);
    for (int a = 0; a < g->nkeep[k]; a++)
      if (g->keep[k][a] < 0 || g->keep[k][a] >= g->t[k].G) hb_input_error("model$keep", "level index out of range");
  }
}
