/* A channel's contribution summed over the data (or over the rows of each
 * key, such as a time point), per posterior draw, at its spend and at its
 * spend raised by a small proportion: what roi() needs for the ROI and the
 * marginal ROI of a fit, and contributions() for its channels. Rows never leave C: per draw, the
 * channel's transformed media (model_channel.c's kernel) times what
 * multiplies it in each row (fixed coefficients times their static parts,
 * group-level effects of the row's level times theirs), summed. Draws are
 * independent, so they are split over OpenMP threads; each draw's sums are
 * formed by one thread in row order, so results do not depend on the
 * number of threads. */
#include <limits.h>
#include <string.h>
#include "model.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* The design pieces of channel c: its fixed columns, the group-level
 * columns (term, column) that multiply its media and its log-normal block
 * (mb, -1 for none), whose effects come as their additive equivalents
 * b (exp(v) - 1) after the terms' (ueff). */
typedef struct {
  int nf, nr, mb;
  int fcol[HB_MAX_P];
  int rterm[HB_MAX_P], rcol[HB_MAX_P];
} channel_pieces;

static void find_pieces(const hb_model *g, int c, channel_pieces *pc) {
  pc->nf = pc->nr = 0;
  for (int j = 0; j < g->p; j++)
    if (g->xc[j] == c) pc->fcol[pc->nf++] = j;
  for (int k = 0; k < g->K; k++)
    for (int l = 0; l < g->t[k].q; l++)
      if (g->t[k].zc[l] == c && pc->nr < HB_MAX_P) {
        pc->rterm[pc->nr] = k;
        pc->rcol[pc->nr++] = l;
      }
  pc->mb = -1;
  for (int b = 0; b < g->nmult; b++)
    if (g->mu[b].c == c) pc->mb = b;
}

/* A numeric matrix argument with `nrow` rows and `ncol` columns, finite. */
static const double *draw_matrix(SEXP x, const char *arg, R_xlen_t nrow, R_xlen_t ncol) {
  hb_check_vector(x, arg, REALSXP, nrow * ncol);
  SEXP dim = Rf_getAttrib(x, R_DimSymbol);
  if (TYPEOF(dim) != INTSXP || LENGTH(dim) != 2 || INTEGER(dim)[0] != nrow || INTEGER(dim)[1] != ncol)
    hb_input_error(arg, "must be a %.0f x %.0f matrix", (double) nrow, (double) ncol);
  hb_check_finite(REAL(x), nrow * ncol, arg);
  return REAL(x);
}

/* Every draw's transform parameters (S x npar: by slot, then a mixture's
 * components) must be valid for the channel's adstock and saturation. */
static void check_draw_params(const hb_channel *ch, const double *par, R_xlen_t S, int npar) {
  char msg[200];
  double p[HB_MAX_CHPAR];
  for (R_xlen_t s = 0; s < S; s++) {
    for (int a = 0; a < npar; a++) p[a] = par[s + a * S];
    const char *bad = NULL;
    if (ch->ad_type != HB_ADSTOCK_NONE)
      bad = hb_adstock_par_invalid(ch->ad_type, p, ch->max_lag == NA_INTEGER ? 0 : ch->max_lag, msg, sizeof msg);
    if (!bad && ch->sat_type == HB_SAT_MICHAELIS_MENTEN && !(p[3] > 0 && R_FINITE(p[3]))) bad = "k";
    if (!bad && ch->sat_type == HB_SAT_HILL_MIXTURE) bad = hb_mixture_par_invalid(ch->mix_K, HB_MIX_PAR(p), msg, sizeof msg);
    else if (!bad && ch->sat_type != HB_SAT_NONE && ch->sat_type != HB_SAT_MICHAELIS_MENTEN)
      bad = hb_saturation_par_invalid(ch->sat_type, p + 2, msg, sizeof msg);
    if (bad) hb_input_error("par", "draw %.0f: `%s` is out of range", (double) s + 1, bad);
  }
}

/* Per draw s and key k: sum over the rows i with key k of coef_i(s) m_i(s)
 * at the spend x (at[s + S k]) and, when up is given, at (1 + step) x
 * (x1 holds it). key: 0-based key of each row, or NULL (one key). */
static void totals(const hb_model *g, int c, const channel_pieces *pc, const double *par, int npar, const double *bfix,
                   const double *const *U, R_xlen_t S, const double *x1, const int *key, int maxlag, int threads,
                   double *at, double *up) {
  const R_xlen_t n = g->n;
  const double *x = g->media_raw + (R_xlen_t) c * n;
  /* per thread: two media columns, the coefficients, a mixture's scratch
   * (2n) and adstock weights */
  const size_t per = 5 * (size_t) n + maxlag + 1;
  double *scratch = (double *) R_alloc((size_t) threads * per, sizeof(double));
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(dynamic, 16) if (threads > 1)
#endif
  for (R_xlen_t s = 0; s < S; s++) {
    int th = 0;
#ifdef _OPENMP
    th = omp_get_thread_num();
#endif
    double *m0 = scratch + (size_t) th * per, *m1 = m0 + n, *cf = m1 + n, *tmp = cf + n, *wbuf = tmp + 2 * n;
    hb_channel ch = g->ch[c];
    for (int a = 0; a < npar; a++) ch.par[a] = par[s + a * S];
    hb_channel_transform(&ch, ch.par, x, n, g->pstart, g->tpos, g->npanel, m0, wbuf, tmp);
    if (up) hb_channel_transform(&ch, ch.par, x1, n, g->pstart, g->tpos, g->npanel, m1, wbuf, tmp);
    memset(cf, 0, sizeof(double) * n);
    for (int f = 0; f < pc->nf; f++)
      hb_axpy(bfix[s + f * S], g->Xs + (R_xlen_t) pc->fcol[f] * n, cf, n);
    for (int r = 0; r < pc->nr; r++) {
      const hb_term *t = g->t + pc->rterm[r];
      const double *z = t->Zs + (R_xlen_t) pc->rcol[r] * n, *u = U[r];
      for (R_xlen_t i = 0; i < n; i++) cf[i] += z[i] * u[s + (R_xlen_t) t->g[i] * S];
    }
    if (pc->mb >= 0) {
      const int *lv = g->mu[pc->mb].g;
      const double *u = U[pc->nr];
      for (R_xlen_t i = 0; i < n; i++)
        if (lv[i] >= 0) cf[i] += u[s + (R_xlen_t) lv[i] * S];
    }
    if (!key) {
      at[s] = hb_dot(cf, m0, n);
      if (up) up[s] = hb_dot(cf, m1, n);
      continue;
    }
    for (R_xlen_t i = 0; i < n; i++) at[s + S * key[i]] += cf[i] * m0[i];
    if (up)
      for (R_xlen_t i = 0; i < n; i++) up[s + S * key[i]] += cf[i] * m1[i];
  }
}

/* .Call entry: model (mmm_model_list()), channel (1-based), par (S x 4
 * transform parameters by slot per draw, then 3K for a mixture channel:
 * halfsat, slope, weight of each component), bfix (S x number of the
 * channel's fixed columns, in column order), ueff (one S x G matrix per
 * group-level column of the channel, terms then columns in order), step
 * (0: the contribution only; otherwise in (0, 1]), threads, and key (NULL,
 * or each row's key 1..K in the model's row order). Returns list(at, up):
 * S x K matrices of the channel's contribution summed over the rows of
 * each key at its spend, and at (1 + step) times it (NULL for step 0). */
SEXP hb_channel_totals(SEXP model, SEXP channel, SEXP par, SEXP bfix, SEXP ueff, SEXP step, SEXP threads,
                       SEXP key) {
  if (TYPEOF(model) != VECSXP) hb_input_error("model", "must be a list made by mmm_model_list()");
  hb_model *g = (hb_model *) R_alloc(1, sizeof(hb_model));
  memset(g, 0, sizeof *g);
  int maxlag = 0, qmax = 1;
  hb_model_read(model, g, &maxlag, &qmax);
  int c = hb_scalar_int(channel, "channel", 1, g->C, 0) - 1;
  hb_check_vector(step, "step", REALSXP, 1);
  double stp = REAL(step)[0];
  if (!(stp == 0.0 || (stp > 0.0 && stp <= 1.0))) hb_input_error("step", "must be 0 or a number in (0, 1]");
  int nth = hb_scalar_int(threads, "threads", 1, 1024, 0);
  hb_check_vector(par, "par", REALSXP, -1);
  const int npar = HB_MAX_TPAR + 3 * g->ch[c].mix_K; /* a mixture's components after the slots */
  R_xlen_t S = XLENGTH(par) / npar;
  if (S < 1 || S > INT_MAX) hb_input_error("par", "must have between 1 and %d draws", INT_MAX);
  const double *pr = draw_matrix(par, "par", S, npar);
  check_draw_params(g->ch + c, pr, S, npar);
  channel_pieces pc;
  find_pieces(g, c, &pc);
  const double *bf = pc.nf ? draw_matrix(bfix, "bfix", S, pc.nf) : NULL;
  if (!pc.nf) hb_check_vector(bfix, "bfix", REALSXP, 0);
  const int nu = pc.nr + (pc.mb >= 0);
  if (TYPEOF(ueff) != VECSXP || LENGTH(ueff) != nu)
    hb_input_error("ueff", "must be a list of %d matrices (one per group-level column of the channel)", nu);
  const double **U = (const double **) R_alloc((size_t) nu + 1, sizeof(double *));
  for (int r = 0; r < pc.nr; r++)
    U[r] = draw_matrix(VECTOR_ELT(ueff, r), "ueff", S, g->t[pc.rterm[r]].G);
  if (pc.mb >= 0) U[pc.nr] = draw_matrix(VECTOR_ELT(ueff, pc.nr), "ueff", S, g->mu[pc.mb].G);
  const R_xlen_t n = g->n;
  int K = 1, *k0 = NULL;
  if (key != R_NilValue) {
    hb_check_vector(key, "key", INTSXP, n);
    k0 = (int *) R_alloc((size_t) n, sizeof(int));
    for (R_xlen_t i = 0; i < n; i++) {
      int v = INTEGER(key)[i];
      if (v == NA_INTEGER || v < 1 || v > 100000000) hb_input_error("key", "must hold whole numbers from 1; found %d", v);
      if (v > K) K = v;
      k0[i] = v - 1;
    }
    if ((double) K * (double) S > 5e8) hb_input_error("key", "has too many keys for this many draws");
  }
  double *x1 = NULL;
  if (stp > 0.0) {
    x1 = (double *) R_alloc((size_t) n, sizeof(double));
    const double *x = g->media_raw + (R_xlen_t) c * n;
    for (R_xlen_t i = 0; i < n; i++) x1[i] = (1.0 + stp) * x[i];
  }
  SEXP at = PROTECT(Rf_allocMatrix(REALSXP, (int) S, K));
  SEXP up = PROTECT(stp > 0.0 ? Rf_allocMatrix(REALSXP, (int) S, K) : R_NilValue);
  memset(REAL(at), 0, sizeof(double) * S * K);
  if (stp > 0.0) memset(REAL(up), 0, sizeof(double) * S * K);
  totals(g, c, &pc, pr, npar, bf, U, S, x1, k0, maxlag, nth, REAL(at), stp > 0.0 ? REAL(up) : NULL);
  SEXP out = hb_named_pair(at, up, "at", "up");
  UNPROTECT(2);
  return out;
}
