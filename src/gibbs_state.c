/* The full state of a Gibbs chain: written at the end of a run and read
 * back as the starting point of a continued run (update(continue = TRUE)),
 * so that a chain resumes exactly where it stopped: fixed and group-level
 * effects, covariances and their auxiliaries (Huang-Wand a_j, factor
 * loadings, uniquenesses and scores), residual variances, horseshoe
 * auxiliaries, transform parameters, log-normal media effects, the adapted
 * Metropolis proposals and the chain's random number generator. */
#include <math.h>
#include <string.h>
#include "gibbs.h"

static const char *STATE_NAMES[] = {"beta", "sigma2", "transform_par", "u", "Sigma", "hw_a", "Lambda", "psi", "f",
                                    "hs_lambda2", "hs_nu", "hs_tau", "mh_log_scale", "mh_prop_chol",
                                    "collapse_log_step", "mh_center", "xoshiro", "mult"};
#define NSTATE 18
/* the generator's 256 bits as 8 whole numbers in [0, 2^32), most significant
 * first: exact in doubles and readable, unlike raw 64-bit words */
#define NRNGWORD 8

static SEXP real_copy(const double *x, R_xlen_t n) {
  SEXP v = Rf_allocVector(REALSXP, n);
  if (n) memcpy(REAL(v), x, sizeof(double) * n);
  return v;
}

static SEXP real_matrix(const double *x, int nr, int nc) {
  SEXP v = Rf_allocMatrix(REALSXP, nr, nc);
  if ((R_xlen_t) nr * nc > 0) memcpy(REAL(v), x, sizeof(double) * nr * nc);
  return v;
}

/* The number of adapted step sizes of the collapsed block: T's covariance
 * (q + q^2), and with nested set its parent's as well. */
static R_xlen_t collapse_steps(const hb_model *g, int nested) {
  if (!g->cl) return 0;
  const int q = g->t[g->cl->T].q;
  R_xlen_t len = (R_xlen_t) q * (q + 1);
  if (nested && g->cl->nest) len += (R_xlen_t) g->t[g->cl->nest->P].q * (g->t[g->cl->nest->P].q + 1);
  return len;
}

SEXP hb_gibbs_state_export(const hb_model *g) {
  const int K = g->K, C = g->C;
  SEXP st = PROTECT(Rf_allocVector(VECSXP, NSTATE));
  SET_VECTOR_ELT(st, 0, real_copy(g->beta, g->p));
  SEXP sig2 = Rf_allocVector(REALSXP, g->S);
  SET_VECTOR_ELT(st, 1, sig2);
  for (int s = 0; s < g->S; s++) REAL(sig2)[s] = 1.0 / g->inv_sig2[s];
  SEXP chp = Rf_allocMatrix(REALSXP, HB_MAX_TPAR, C);
  SET_VECTOR_ELT(st, 2, chp);
  for (int c = 0; c < C; c++) memcpy(REAL(chp) + HB_MAX_TPAR * c, g->ch[c].par, sizeof(double) * HB_MAX_TPAR);
  SEXP u = PROTECT(Rf_allocVector(VECSXP, K)), Sig = PROTECT(Rf_allocVector(VECSXP, K)),
       hwa = PROTECT(Rf_allocVector(VECSXP, K)), Lam = PROTECT(Rf_allocVector(VECSXP, K)),
       psi = PROTECT(Rf_allocVector(VECSXP, K)), f = PROTECT(Rf_allocVector(VECSXP, K));
  for (int k = 0; k < K; k++) {
    const hb_term *t = g->t + k;
    SET_VECTOR_ELT(u, k, real_matrix(t->u, t->q, t->G));
    SET_VECTOR_ELT(Sig, k, real_matrix(t->Sigma, t->q, t->q));
    if (hb_cov_huang_wand(t->type)) SET_VECTOR_ELT(hwa, k, real_copy(t->hw_a, t->q));
    if (t->type == HB_COV_FACTOR) {
      SET_VECTOR_ELT(Lam, k, real_matrix(t->Lambda, t->q, t->nf));
      SET_VECTOR_ELT(psi, k, real_copy(t->psi, t->q));
      SET_VECTOR_ELT(f, k, real_matrix(t->f, t->nf, t->G));
    }
  }
  SET_VECTOR_ELT(st, 3, u);
  SET_VECTOR_ELT(st, 4, Sig);
  SET_VECTOR_ELT(st, 5, hwa);
  SET_VECTOR_ELT(st, 6, Lam);
  SET_VECTOR_ELT(st, 7, psi);
  SET_VECTOR_ELT(st, 8, f);
  SET_VECTOR_ELT(st, 9, real_copy(g->hs_lambda2, g->p));
  SET_VECTOR_ELT(st, 10, real_copy(g->hs_nu, g->p));
  SEXP tau = Rf_allocVector(REALSXP, 2);
  SET_VECTOR_ELT(st, 11, tau);
  REAL(tau)[0] = g->hs_tau2;
  REAL(tau)[1] = g->hs_xi;
  SEXP ls = Rf_allocVector(REALSXP, C);
  SET_VECTOR_ELT(st, 12, ls);
  SEXP pc = Rf_allocMatrix(REALSXP, HB_MAX_TPAR * HB_MAX_TPAR, C);
  SET_VECTOR_ELT(st, 13, pc);
  for (int c = 0; c < C; c++) {
    REAL(ls)[c] = g->ch[c].log_scale;
    memcpy(REAL(pc) + (R_xlen_t) HB_MAX_TPAR * HB_MAX_TPAR * c, g->ch[c].prop_chol,
           sizeof(double) * HB_MAX_TPAR * HB_MAX_TPAR);
  }
  /* the adapted steps of the collapsed term's covariance (gibbs_collapse.c),
   * then of its parent's (gibbs_nested.c) */
  SEXP cls = Rf_allocVector(REALSXP, collapse_steps(g, 1));
  SET_VECTOR_ELT(st, 14, cls);
  if (g->cl) {
    R_xlen_t l1 = collapse_steps(g, 0);
    memcpy(REAL(cls), g->cl->sig_log_step, sizeof(double) * l1);
    if (g->cl->nest) memcpy(REAL(cls) + l1, g->cl->nest->log_step, sizeof(double) * (XLENGTH(cls) - l1));
  }
  /* centres of the independence proposals; NaN: none yet */
  SEXP ctr = Rf_allocMatrix(REALSXP, HB_MAX_TPAR, C);
  SET_VECTOR_ELT(st, 15, ctr);
  for (int c = 0; c < C; c++)
    for (int e = 0; e < HB_MAX_TPAR; e++)
      REAL(ctr)[e + HB_MAX_TPAR * c] = g->ch[c].has_center && e < g->ch[c].nest ? g->ch[c].center[e] : R_NaN;
  SEXP xo = Rf_allocVector(REALSXP, NRNGWORD);
  SET_VECTOR_ELT(st, 16, xo);
  for (int k = 0; k < 4; k++) {
    REAL(xo)[2 * k] = (double) (g->rng->s[k] >> 32);
    REAL(xo)[2 * k + 1] = (double) (g->rng->s[k] & UINT64_C(0xffffffff));
  }
  /* log-normal media effects: per block v (G), sd, Huang-Wand a */
  SEXP mu = Rf_allocVector(VECSXP, g->nmult);
  SET_VECTOR_ELT(st, 17, mu);
  for (int b = 0; b < g->nmult; b++) {
    SEXP vb = Rf_allocVector(REALSXP, (R_xlen_t) g->mu[b].G + 2);
    SET_VECTOR_ELT(mu, b, vb);
    memcpy(REAL(vb), g->mu[b].v, sizeof(double) * g->mu[b].G);
    REAL(vb)[g->mu[b].G] = g->mu[b].sd;
    REAL(vb)[g->mu[b].G + 1] = g->mu[b].hw_a;
  }
  hb_set_names(st, NSTATE, STATE_NAMES);
  UNPROTECT(7);
  return st;
}

/* ---- reading a state back ------------------------------------------------- */

static SEXP state_elt(SEXP st, const char *name) {
  SEXP names = Rf_getAttrib(st, R_NamesSymbol);
  if (TYPEOF(names) == STRSXP)
    for (R_xlen_t i = 0; i < XLENGTH(st); i++)
      if (strcmp(CHAR(STRING_ELT(names, i)), name) == 0) return VECTOR_ELT(st, i);
  hb_input_error("model$init_state", "element `%s` is missing", name);
  return R_NilValue;
}

/* A finite double vector of length len (an element of a list when k >= 0). */
static const double *state_real(SEXP st, const char *name, int k, R_xlen_t len) {
  SEXP x = state_elt(st, name);
  char arg[96];
  if (k >= 0) {
    snprintf(arg, sizeof arg, "model$init_state$%s", name);
    if (TYPEOF(x) != VECSXP || LENGTH(x) <= k) hb_input_error(arg, "must be a list with one element per term");
    x = VECTOR_ELT(x, k);
    snprintf(arg, sizeof arg, "model$init_state$%s[[%d]]", name, k + 1);
  } else {
    snprintf(arg, sizeof arg, "model$init_state$%s", name);
  }
  hb_check_vector(x, arg, REALSXP, len);
  const double *v = REAL(x);
  for (R_xlen_t i = 0; i < len; i++)
    if (!R_FINITE(v[i])) hb_input_error(arg, "must be finite; found a non-finite value at element %.0f", (double) i + 1);
  return v;
}

static void check_pos(const double *v, R_xlen_t len, const char *name) {
  for (R_xlen_t i = 0; i < len; i++)
    if (!(v[i] > 0)) hb_input_error("model$init_state", "`%s` must be positive", name);
}

/* Fixed effects, group-level effects and their covariances, residual
 * variances, horseshoe auxiliaries and transform parameters. Called after the
 * state is allocated and before the media are transformed. */
void hb_gibbs_state_import(hb_model *g, SEXP st) {
  if (TYPEOF(st) != VECSXP) hb_input_error("model$init_state", "must be NULL or a list (a chain's final state)");
  const int p = g->p, C = g->C;
  memcpy(g->beta, state_real(st, "beta", -1, p), sizeof(double) * p);
  const double *s2 = state_real(st, "sigma2", -1, g->S);
  check_pos(s2, g->S, "sigma2");
  for (int s = 0; s < g->S; s++) g->inv_sig2[s] = 1.0 / s2[s];
  const double *l2 = state_real(st, "hs_lambda2", -1, p), *nu = state_real(st, "hs_nu", -1, p),
               *tau = state_real(st, "hs_tau", -1, 2);
  check_pos(l2, p, "hs_lambda2");
  check_pos(nu, p, "hs_nu");
  check_pos(tau, 2, "hs_tau");
  memcpy(g->hs_lambda2, l2, sizeof(double) * p);
  memcpy(g->hs_nu, nu, sizeof(double) * p);
  g->hs_tau2 = tau[0];
  g->hs_xi = tau[1];
  const double *chp = state_real(st, "transform_par", -1, (R_xlen_t) HB_MAX_TPAR * C);
  for (int c = 0; c < C; c++) {
    hb_channel *ch = g->ch + c;
    for (int e = 0; e < ch->nest; e++) {
      int s = ch->est_slot[e];
      double v = chp[HB_MAX_TPAR * c + s];
      if (!R_FINITE(hb_link_to_unc(ch->link[s], v, ch->upper[s])))
        hb_input_error("model$init_state$transform_par", "value %g of channel %d is outside its range", v, c + 1);
      ch->par[s] = v;
    }
  }
  for (int b = 0; b < g->nmult; b++) {
    hb_mult *mu = g->mu + b;
    const double *vb = state_real(st, "mult", b, (R_xlen_t) mu->G + 2);
    check_pos(vb + mu->G, 2, "mult (sd, a)");
    memcpy(mu->v, vb, sizeof(double) * mu->G);
    mu->sd = vb[mu->G];
    mu->hw_a = vb[mu->G + 1];
  }
  double *L = g->work;
  for (int k = 0; k < g->K; k++) {
    hb_term *t = g->t + k;
    const int q = t->q;
    memcpy(t->u, state_real(st, "u", k, (R_xlen_t) q * t->G), sizeof(double) * q * t->G);
    const double *S = state_real(st, "Sigma", k, (R_xlen_t) q * q);
    memcpy(L, S, sizeof(double) * q * q);
    if (hb_chol(L, q) != 0) hb_input_error("model$init_state$Sigma", "term %d: must be positive definite", k + 1);
    memcpy(t->Sigma, S, sizeof(double) * q * q);
    hb_chol_inverse(L, q, t->Sinv);
    if (hb_cov_huang_wand(t->type)) {
      const double *a = state_real(st, "hw_a", k, q);
      check_pos(a, q, "hw_a");
      memcpy(t->hw_a, a, sizeof(double) * q);
    }
    if (t->type == HB_COV_FACTOR) {
      memcpy(t->Lambda, state_real(st, "Lambda", k, (R_xlen_t) q * t->nf), sizeof(double) * q * t->nf);
      const double *ps = state_real(st, "psi", k, q);
      check_pos(ps, q, "psi");
      memcpy(t->psi, ps, sizeof(double) * q);
      memcpy(t->f, state_real(st, "f", k, (R_xlen_t) t->nf * t->G), sizeof(double) * t->nf * t->G);
    }
  }
}

/* The adapted Metropolis proposals (after hb_channel_init_mh and the set-up
 * of the collapsed block). A state without collapse_log_step (written
 * before that block existed, or without a collapsed term) keeps the
 * starting steps. */
void hb_gibbs_state_import_mh(hb_model *g, SEXP st) {
  const int C = g->C;
  SEXP nm = Rf_getAttrib(st, R_NamesSymbol);
  int has_steps = 0;
  for (R_xlen_t i = 0; TYPEOF(nm) == STRSXP && i < XLENGTH(nm); i++)
    if (strcmp(CHAR(STRING_ELT(nm, i)), "collapse_log_step") == 0 && XLENGTH(VECTOR_ELT(st, i)) > 0) has_steps = 1;
  for (R_xlen_t i = 0; TYPEOF(nm) == STRSXP && i < XLENGTH(nm); i++) {
    SEXP v = VECTOR_ELT(st, i);
    if (strcmp(CHAR(STRING_ELT(nm, i)), "mh_center") != 0) continue;
    hb_check_vector(v, "model$init_state$mh_center", REALSXP, (R_xlen_t) HB_MAX_TPAR * C);
    for (int c = 0; c < C; c++) {
      hb_channel *ch = g->ch + c;
      const double *x = REAL(v) + (R_xlen_t) HB_MAX_TPAR * c;
      int ok = ch->nest > 0;
      for (int e = 0; e < ch->nest; e++) ok = ok && R_FINITE(x[e]);
      ch->has_center = ok;
      if (ok) memcpy(ch->center, x, sizeof(double) * ch->nest);
    }
  }
  if (g->cl && has_steps) {
    /* a state from a sampler without the nested block has T's steps only */
    R_xlen_t l1 = collapse_steps(g, 0), len = collapse_steps(g, 1);
    if (XLENGTH(state_elt(st, "collapse_log_step")) == l1) len = l1;
    const double *v = state_real(st, "collapse_log_step", -1, len);
    memcpy(g->cl->sig_log_step, v, sizeof(double) * l1);
    if (len > l1) memcpy(g->cl->nest->log_step, v + l1, sizeof(double) * (len - l1));
  }
  const double *ls = state_real(st, "mh_log_scale", -1, C);
  const double *pc = state_real(st, "mh_prop_chol", -1, (R_xlen_t) HB_MAX_TPAR * HB_MAX_TPAR * C);
  for (int c = 0; c < C; c++) {
    hb_channel *ch = g->ch + c;
    ch->log_scale = ls[c];
    memcpy(ch->prop_chol, pc + (R_xlen_t) HB_MAX_TPAR * HB_MAX_TPAR * c, sizeof(double) * HB_MAX_TPAR * HB_MAX_TPAR);
  }
}

int hb_gibbs_state_import_rng(hb_rng *r, SEXP st) {
  if (Rf_isNull(st)) return 0;
  SEXP nm = Rf_getAttrib(st, R_NamesSymbol);
  SEXP x = R_NilValue;
  for (R_xlen_t i = 0; TYPEOF(nm) == STRSXP && i < XLENGTH(nm); i++)
    if (strcmp(CHAR(STRING_ELT(nm, i)), "xoshiro") == 0) x = VECTOR_ELT(st, i);
  if (Rf_isNull(x)) return 0; /* a state of an older version: a new generator */
  hb_check_vector(x, "model$init_state$xoshiro", REALSXP, NRNGWORD);
  uint64_t any = 0;
  for (int k = 0; k < NRNGWORD; k++) {
    double v = REAL(x)[k];
    if (!(v >= 0.0 && v < 4294967296.0 && v == floor(v)))
      hb_input_error("model$init_state$xoshiro", "must hold whole numbers in [0, 2^32); found %g at element %d", v, k + 1);
    uint64_t w = (uint64_t) v;
    if (k % 2 == 0) r->s[k / 2] = w << 32;
    else r->s[k / 2] |= w;
    any |= w;
  }
  if (!any) hb_input_error("model$init_state$xoshiro", "must not be all zero");
  return 1;
}

/* r = y - X beta - sum_k Z_k u_k at the current state. */
void hb_gibbs_residual(hb_model *g) {
  const R_xlen_t n = g->n;
  memcpy(g->r, g->y, sizeof(double) * n);
  for (int j = 0; j < g->p; j++) hb_axpy(-g->beta[j], g->Xcol[j], g->r, n);
  for (int k = 0; k < g->K; k++) hb_term_add_fit(g->t + k, g->t[k].u, -1.0, g->r, n);
}
