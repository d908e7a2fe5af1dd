/* Group-level effects in the Gibbs sampler: per-level normal draws of the
 * effects of one grouping term, then its covariance (inverse-Wishart,
 * diagonal inverse-gamma, or factor-analytic Lambda Lambda' + Psi). */
#include <math.h>
#include <string.h>
#include <Rmath.h>
#include "gibbs.h"

/* Draw the effects u of level k given the data part of their precision P
 * (lower triangle) and of the precision-weighted mean b: adds the prior,
 * N(0, Sigma), or N(Lambda f_k, Psi) for a factor-analytic term. */
void hb_term_level_draw(hb_rng *rng, const hb_term *t, int k, double *P, double *b, double *uk) {
  const int q = t->q;
  if (t->type == HB_COV_FACTOR) {
    const double *fk = t->f + (R_xlen_t) t->nf * k;
    for (int j = 0; j < q; j++) {
      double m = 0.0;
      for (int h = 0; h < t->nf; h++) m += t->Lambda[j + h * q] * fk[h];
      P[j + j * q] += 1.0 / t->psi[j];
      b[j] += m / t->psi[j];
    }
  } else {
    for (int j = 0; j < q; j++) {
      double *Pj = P + j * q;
      const double *Sj = t->Sinv + j * q;
      for (int l = j; l < q; l++) Pj[l] += Sj[l];
    }
  }
  if (hb_mvn_precision_draw(rng, P, b, q, uk, NULL) != 0)
    hb_sampler_error("the conditional precision of group-level effects is not positive definite");
}

void hb_term_add_fit(const hb_term *t, const double *u, double f, double *y, R_xlen_t n) {
  const int q = t->q;
  for (R_xlen_t i = 0; i < n; i++) {
    const double *ul = u + (R_xlen_t) q * t->g[i];
    double zu = 0.0;
    for (int j = 0; j < q; j++) zu += t->Zcol[j][i] * ul[j];
    y[i] += f * zu;
  }
}

/* u_k | rest for every level k, from the rows of the level: the term's
 * current effects are added back into the residual, then subtracted again.
 * Levels stored as one run of rows work in place; others are gathered in
 * blocks. */
void hb_term_update_effects(hb_model *g, hb_term *t) {
  const int q = t->q;
  double *P = g->work, *b = P + q * q; /* P: lower triangle */
  double *pr = g->blk, *px = pr + HB_BLOCK, *rb = px + HB_BLOCK, *wb = rb + HB_BLOCK,
         *zb = wb + HB_BLOCK; /* zb: q x HB_BLOCK */
  const double *z[HB_MAX_Q];
  for (int k = 0; k < t->G; k++) {
    double *uk = t->u + (R_xlen_t) q * k;
    R_xlen_t s0 = t->start[k], s1 = t->start[k + 1];
    int run = s1 > s0 && t->ord[s1 - 1] - t->ord[s0] == s1 - 1 - s0;
    memset(P, 0, sizeof(double) * q * q);
    memset(b, 0, sizeof(double) * q);
    for (R_xlen_t s = s0; s < s1; s += HB_BLOCK) {
      R_xlen_t len = s1 - s < HB_BLOCK ? s1 - s : HB_BLOCK;
      double *rr;
      const double *ww;
      if (run) {
        R_xlen_t i0 = t->ord[s];
        for (int j = 0; j < q; j++) z[j] = t->Zcol[j] + i0;
        rr = g->r + i0;
        ww = g->prec + i0;
      } else {
        for (int j = 0; j < q; j++) {
          double *zj = zb + (R_xlen_t) j * HB_BLOCK;
          for (R_xlen_t i = 0; i < len; i++) zj[i] = t->Zcol[j][t->ord[s + i]];
          z[j] = zj;
        }
        for (R_xlen_t i = 0; i < len; i++) {
          rb[i] = g->r[t->ord[s + i]];
          wb[i] = g->prec[t->ord[s + i]];
        }
        rr = rb;
        ww = wb;
      }
      for (int j = 0; j < q; j++) hb_axpy(uk[j], z[j], rr, len);
      hb_vmul(ww, rr, pr, len);
      hb_crossprod_acc(z, q, ww, pr, len, P, b, px);
      if (!run)
        for (R_xlen_t i = 0; i < len; i++) g->r[t->ord[s + i]] = rb[i];
    }
    hb_term_level_draw(g->rng, t, k, P, b, uk);
    for (R_xlen_t s = s0; s < s1; s += HB_BLOCK) {
      R_xlen_t len = s1 - s < HB_BLOCK ? s1 - s : HB_BLOCK;
      if (run) {
        R_xlen_t i0 = t->ord[s];
        for (int j = 0; j < q; j++) hb_axpy(-uk[j], t->Zcol[j] + i0, g->r + i0, len);
        continue;
      }
      for (R_xlen_t i = 0; i < len; i++) {
        R_xlen_t row = t->ord[s + i];
        double zu = 0.0;
        for (int j = 0; j < q; j++) zu += t->Zcol[j][row] * uk[j];
        g->r[row] -= zu;
      }
    }
  }
}

static void update_factor(hb_model *g, hb_term *t) {
  const int q = t->q, nf = t->nf, G = t->G;
  double *P = g->work, *b = P + q * q + nf * nf, *out = b + q + nf;
  /* scores f_k | u_k: precision I + Lambda' Psi^-1 Lambda (same for all k) */
  for (int k = 0; k < G; k++) {
    const double *uk = t->u + (R_xlen_t) q * k;
    for (int a = 0; a < nf; a++) {
      double s = 0.0;
      for (int j = 0; j < q; j++) s += t->Lambda[j + a * q] * uk[j] / t->psi[j];
      b[a] = s;
      for (int c = 0; c < nf; c++) {
        double v = a == c ? 1.0 : 0.0;
        for (int j = 0; j < q; j++) v += t->Lambda[j + a * q] * t->Lambda[j + c * q] / t->psi[j];
        P[a + c * nf] = v;
      }
    }
    if (hb_mvn_precision_draw(g->rng, P, b, nf, out, NULL) != 0)
      hb_sampler_error("factor-score precision is not positive definite");
    memcpy(t->f + (R_xlen_t) nf * k, out, sizeof(double) * nf);
  }
  /* loadings row j | f, u_j: regression of u_j on the scores */
  for (int j = 0; j < q; j++) {
    double prior_prec = 1.0 / (t->load_sd[j] * t->load_sd[j]);
    for (int a = 0; a < nf; a++) {
      double s = 0.0;
      for (int k = 0; k < G; k++) s += t->f[a + (R_xlen_t) nf * k] * t->u[j + (R_xlen_t) q * k];
      b[a] = s / t->psi[j];
      for (int c = 0; c < nf; c++) {
        double v = 0.0;
        for (int k = 0; k < G; k++) v += t->f[a + (R_xlen_t) nf * k] * t->f[c + (R_xlen_t) nf * k];
        P[a + c * nf] = v / t->psi[j] + (a == c ? prior_prec : 0.0);
      }
    }
    if (hb_mvn_precision_draw(g->rng, P, b, nf, out, NULL) != 0)
      hb_sampler_error("loading precision is not positive definite");
    for (int a = 0; a < nf; a++) t->Lambda[j + a * q] = out[a];
    /* uniqueness psi_j | residuals of u_j */
    double ss = 0.0;
    for (int k = 0; k < G; k++) {
      double e = t->u[j + (R_xlen_t) q * k];
      for (int a = 0; a < nf; a++) e -= t->Lambda[j + a * q] * t->f[a + (R_xlen_t) nf * k];
      ss += e * e;
    }
    t->psi[j] = hb_inv_gamma_draw(g->rng, t->psi_ig[2 * j] + 0.5 * G, t->psi_ig[2 * j + 1] + 0.5 * ss);
  }
  for (int j = 0; j < q; j++)
    for (int l = 0; l < q; l++) {
      double v = j == l ? t->psi[j] : 0.0;
      for (int a = 0; a < nf; a++) v += t->Lambda[j + a * q] * t->Lambda[l + a * q];
      t->Sigma[j + l * q] = v;
    }
}

/* Huang & Wand (2013): Sigma | a ~ IW(nu + q - 1, 2 nu diag(1 / a)),
 * a_j ~ IG(1/2, 1 / A_j^2) makes every sd half-t(nu, A_j) and, for nu = 2,
 * every correlation uniform; conditionally conjugate, so one extra draw of
 * the a_j per sweep. Unlike a small inverse-gamma or inverse-Wishart scale,
 * it does not pull variances towards zero when levels are few. */
static void update_huang_wand(hb_model *g, hb_term *t) {
  const int q = t->q, G = t->G;
  const double nu = t->hw_nu;
  if (t->type == HB_COV_HW_DIAG) { /* independent half-t sds */
    for (int j = 0; j < q; j++) {
      double ss = 0.0;
      for (int k = 0; k < G; k++) ss += t->u[j + (R_xlen_t) q * k] * t->u[j + (R_xlen_t) q * k];
      double v = hb_inv_gamma_draw(g->rng, 0.5 * (nu + G), nu / t->hw_a[j] + 0.5 * ss);
      for (int l = 0; l < q; l++) t->Sigma[j + l * q] = t->Sinv[j + l * q] = 0.0;
      t->Sigma[j + j * q] = v;
      t->Sinv[j + j * q] = 1.0 / v;
      t->hw_a[j] = hb_inv_gamma_draw(g->rng, 0.5 * (nu + 1.0), nu / v + 1.0 / (t->hw_A[j] * t->hw_A[j]));
    }
    return;
  }
  double *S = g->work, *wk = S + q * q;
  memset(S, 0, sizeof(double) * q * q);
  for (int j = 0; j < q; j++) S[j + j * q] = 2.0 * nu / t->hw_a[j];
  for (int k = 0; k < G; k++) {
    const double *uk = t->u + (R_xlen_t) q * k;
    for (int j = 0; j < q; j++)
      for (int l = 0; l < q; l++) S[j + l * q] += uk[j] * uk[l];
  }
  if (hb_inv_wishart_draw(g->rng, nu + q - 1.0 + G, S, q, t->Sigma, wk) != 0)
    hb_sampler_error("the Huang-Wand inverse-Wishart scale is not positive definite");
  hb_chol_inverse(wk, q, t->Sinv);
  for (int j = 0; j < q; j++)
    t->hw_a[j] = hb_inv_gamma_draw(g->rng, 0.5 * (nu + q), nu * t->Sinv[j + j * q] + 1.0 / (t->hw_A[j] * t->hw_A[j]));
}

void hb_term_update_cov(hb_model *g, hb_term *t) {
  const int q = t->q, G = t->G;
  if (t->type == HB_COV_FACTOR) {
    update_factor(g, t);
    return;
  }
  if (hb_cov_huang_wand(t->type)) {
    update_huang_wand(g, t);
    return;
  }
  if (t->type == HB_COV_DIAG) {
    for (int j = 0; j < q; j++) {
      double ss = 0.0;
      for (int k = 0; k < G; k++) ss += t->u[j + (R_xlen_t) q * k] * t->u[j + (R_xlen_t) q * k];
      double v = hb_inv_gamma_draw(g->rng, t->ig[2 * j] + 0.5 * G, t->ig[2 * j + 1] + 0.5 * ss);
      for (int l = 0; l < q; l++) t->Sigma[j + l * q] = t->Sinv[j + l * q] = 0.0;
      t->Sigma[j + j * q] = v;
      t->Sinv[j + j * q] = 1.0 / v;
    }
    return;
  }
  double *S = g->work, *wk = S + q * q;
  memcpy(S, t->iw_S, sizeof(double) * q * q);
  for (int k = 0; k < G; k++) { /* the lower triangle: all that the draw reads */
    const double *uk = t->u + (R_xlen_t) q * k;
    for (int l = 0; l < q; l++) {
      double *Sl = S + (R_xlen_t) l * q;
      const double ul = uk[l];
      for (int j = l; j < q; j++) Sl[j] += uk[j] * ul;
    }
  }
  if (hb_inv_wishart_draw(g->rng, t->iw_df + G, S, q, t->Sigma, wk) != 0)
    hb_sampler_error("inverse-Wishart scale is not positive definite");
  hb_chol_inverse(wk, q, t->Sinv); /* wk holds the draw's Cholesky factor */
}

/* With a positive coefficient among the pairs the joint normal draw of
 * delta would ignore its support, so the pairs move one at a time (each a
 * translation move of its own): delta_a from its normal conditional given
 * the earlier moves (P lower triangle, lin: the joint kernel) times the
 * positive prior of b_j + delta_a (truncation, or the lognormal density). */
static void shift_one_at_a_time(const hb_model *g, const hb_term *t, const double *P, double *lin,
                                double *delta) {
  const int m = t->npair;
  for (int a = 0; a < m; a++) {
    int x = t->pair_j[a], code = g->b_code[x];
    double prec = P[a + a * m], b0 = g->beta[x];
    delta[a] = 0.0;
    if (!(prec > 0.0)) continue;
    double mean = b0 + lin[a] / prec, s = 1.0 / sqrt(prec);
    double b1 = code == HB_PRIOR_NORMAL ? mean + s * hb_rng_norm(g->rng)
                : code == HB_PRIOR_LOGNORMAL ? hb_lognormal_normal_draw(g->rng, mean, s, hb_coef_meanlog(g, x), g->b_sd[x], b0)
                : hb_trunc_normal_pos_draw(g->rng, mean, s);
    delta[a] = b1 - b0;
    for (int b = a + 1; b < m; b++) lin[b] -= P[b + a * m] * delta[a];
  }
}

/* Translation moves along the ridges between fixed and group-level
 * effects. Pair a links fixed column j_a to column l_a of this term when,
 * within every level g, x_j = w_ga z_l (identical columns: w = 1; a
 * group-level covariate against the intercept; a cross-level interaction
 * such as tv:distribution against the tv slope). Then b_j + delta_a and
 * u_gl - w_ga delta_a leave the fit unchanged, so delta | rest depends only
 * on the priors and is normal (a generalized Gibbs step under translation,
 * Liu & Sabatti 2000). Without it the non-centred pair mixes slowly
 * whenever the data pin down each level's total effect. */
/* y - fitted of row i from the current state (beta, every term's effects) */
static double row_residual(const hb_model *g, R_xlen_t i) {
  double f = 0.0;
  for (int j = 0; j < g->p; j++) f += g->Xcol[j][i] * g->beta[j];
  for (int k = 0; k < g->K; k++) {
    const hb_term *t = g->t + k;
    for (int j = 0; j < t->q; j++) f += t->Zcol[j][i] * t->u[j + (R_xlen_t) t->q * t->g[i]];
  }
  return g->y[i] - f;
}

/* A translation leaves every data row's fit unchanged, but not a lift
 * test's row (its fixed and group-level columns differ unless the test is
 * in a level of this term): each adds its normal likelihood factor in the
 * shifts, prec (r_i - v_i' delta)^2 with v_ia the change of row i's fit per
 * unit of shift a. */
static void shift_lift_rows(const hb_model *g, const hb_term *t, double *P, double *lin) {
  const int m = t->npair;
  double v[HB_MAX_P]; /* pairs: at most one per fixed column */
  for (R_xlen_t i = g->nd; i < g->n; i++) {
    if (!(g->prec[i] > 0.0)) continue;
    const double *wk = t->pair_w + (R_xlen_t) m * t->g[i];
    for (int a = 0; a < m; a++) v[a] = g->Xcol[t->pair_j[a]][i] - wk[a] * t->Zcol[t->pair_l[a]][i];
    double r = row_residual(g, i);
    for (int a = 0; a < m; a++) {
      lin[a] += g->prec[i] * v[a] * r;
      for (int b = 0; b <= a; b++) P[a + b * m] += g->prec[i] * v[a] * v[b];
    }
  }
}

/* E_a = sum over levels k of w_ka e_k (q each, a = 0..npair-1), e_k the
 * effects of level k centred at their prior mean (ec: scratch of q). */
static HB_ALWAYS_INLINE void level_sums_q(const hb_term *t, const int q, double *ec, double *E) {
  const int m = t->npair;
  memset(E, 0, sizeof(double) * m * q);
  for (int k = 0; k < t->G; k++) {
    const double *e = t->u + (R_xlen_t) q * k, *wk = t->pair_w + (R_xlen_t) m * k;
    if (t->type == HB_COV_FACTOR) {
      for (int j = 0; j < q; j++) {
        double mu = 0.0;
        for (int h = 0; h < t->nf; h++) mu += t->Lambda[j + h * q] * t->f[h + (R_xlen_t) t->nf * k];
        ec[j] = e[j] - mu;
      }
      e = ec;
    }
    for (int a = 0; a < m; a++) {
      const double wa = wk[a];
      double *Ea = E + (R_xlen_t) a * q;
      HB_UNROLL
      for (int j = 0; j < q; j++) Ea[j] += wa * e[j];
    }
  }
}

static void shift_level_sums(const hb_term *t, double *ec, double *E) {
  const int d = t->q;
#define HB_CALL(dim) level_sums_q(t, dim, ec, E); return
  HB_SMALL_DIM_CASES(HB_CALL)
#undef HB_CALL
}

void hb_term_shift(hb_model *g, hb_term *t, const double *d0, const double *d0m) {
  const int q = t->q, m = t->npair;
  if (m == 0) return;
  double *P = g->work, *lin = P + m * m, *delta = lin + m, *Q = delta + m, *ec = Q + q * q, *E = ec + q;
  for (int a = 0; a < q * q; a++) Q[a] = t->type == HB_COV_FACTOR ? 0.0 : t->Sinv[a];
  if (t->type == HB_COV_FACTOR)
    for (int j = 0; j < q; j++) Q[j + j * q] = 1.0 / t->psi[j];
  /* the prior of the levels, sum_k (e_k - W_k delta)' Q (e_k - W_k delta) with
   * W_k delta placing w_ka delta_a in column l_a, through two sums over the
   * levels: E_a = sum_k w_ka e_k (q each) and P_ab = sum_k w_ka w_kb (the
   * latter fixed by the design, t->pair_ww) */
  memset(P, 0, sizeof(double) * m * m);
  shift_level_sums(t, ec, E);
  for (int a = 0; a < m; a++) {
    const double *Qa = Q + (R_xlen_t) t->pair_l[a] * q, *Ea = E + (R_xlen_t) a * q;
    double s = 0.0;
    for (int j = 0; j < q; j++) s += Qa[j] * Ea[j];
    lin[a] = s;
    for (int b = 0; b <= a; b++) P[a + b * m] = t->pair_ww[a + b * m] * Q[t->pair_l[a] + t->pair_l[b] * q];
  }
  for (int a = 0; a < m; a++) {
    int x = t->pair_j[a];
    lin[a] += d0m[x] - d0[x] * g->beta[x];
    P[a + a * m] += d0[x];
  }
  shift_lift_rows(g, t, P, lin);
  int positive = 0;
  for (int a = 0; a < m; a++) positive |= g->b_code[t->pair_j[a]] != HB_PRIOR_NORMAL;
  if (positive) {
    shift_one_at_a_time(g, t, P, lin, delta);
  } else if (hb_mvn_precision_draw(g->rng, P, lin, m, delta, NULL) != 0) {
    return; /* keep the state */
  }
  for (int a = 0; a < m; a++) {
    g->beta[t->pair_j[a]] += delta[a];
    for (int k = 0; k < t->G; k++)
      t->u[t->pair_l[a] + (R_xlen_t) q * k] -= t->pair_w[a + (R_xlen_t) m * k] * delta[a];
  }
  for (R_xlen_t i = g->nd; i < g->n; i++) g->r[i] = row_residual(g, i); /* lift rows moved */
}

/* Translation moves between nested terms. When every level of term t lies
 * in one level m of its parent term P and column l_a of t equals column
 * lp_a of P on every row, then u_P[m, lp_a] + delta_a together with
 * u_t[c, l_a] - delta_a for every child level c of m leaves every row's fit
 * unchanged, so delta | rest depends only on the two terms' priors and is
 * normal: precision Q_P + n_m Q_t (restricted to the pairs), linear term
 * -Q_P u_P[m] + Q_t sum_c u_t[c] (Liu & Sabatti 2000, as hb_term_shift()).
 * Without it the sampler moves the parent's effects only as fast as the
 * children's mean follows: on simulate_three_level()'s market:product
 * term nested in market:product:individual this pinned the parent's sds.
 * Lift-test rows are not rows of the data's nesting, so models with lift
 * tests skip the move. */
void hb_term_nest_shift(hb_model *g, hb_term *t) {
  const int m = t->nest_np;
  if (m == 0 || g->nlift) return;
  hb_term *pt = g->t + t->nest_parent;
  const int q = t->q, qp = pt->q, Gp = pt->G;
  /* per parent level: the sum of its children's effects (every column)
   * and their count */
  double *sum = t->nest_buf, *cnt = sum + (R_xlen_t) q * Gp;
  memset(sum, 0, sizeof(double) * (size_t) (q + 1) * Gp);
  for (int c = 0; c < t->G; c++) {
    const int mp = t->nest_map[c];
    cnt[mp] += 1.0;
    hb_axpy(1.0, t->u + (R_xlen_t) q * c, sum + (R_xlen_t) q * mp, q);
  }
  double P[HB_MAX_Q * HB_MAX_Q], lin[HB_MAX_Q], delta[HB_MAX_Q];
  for (int mp = 0; mp < Gp; mp++) {
    if (cnt[mp] == 0.0) continue;
    double *up = pt->u + (R_xlen_t) qp * mp;
    const double *sm = sum + (R_xlen_t) q * mp;
    for (int a = 0; a < m; a++) {
      const double *qpa = pt->Sinv + (R_xlen_t) qp * t->nest_lp[a], *qta = t->Sinv + (R_xlen_t) q * t->nest_l[a];
      lin[a] = hb_dot(qta, sm, q) - hb_dot(qpa, up, qp); /* Sinv symmetric: row = column */
      for (int b = 0; b < m; b++) P[a + m * b] = qpa[t->nest_lp[b]] + cnt[mp] * qta[t->nest_l[b]];
    }
    if (hb_mvn_precision_draw(g->rng, P, lin, m, delta, NULL) != 0)
      for (int a = 0; a < m; a++) delta[a] = 0.0; /* keep the state */
    for (int a = 0; a < m; a++) up[t->nest_lp[a]] += delta[a];
    memcpy(sum + (R_xlen_t) q * mp, delta, sizeof(double) * m); /* the sums are used up */
  }
  for (int c = 0; c < t->G; c++) { /* children follow their level's shift */
    const int mp = t->nest_map[c];
    if (cnt[mp] == 0.0) continue;
    for (int a = 0; a < m; a++) t->u[t->nest_l[a] + (R_xlen_t) q * c] -= sum[a + (R_xlen_t) q * mp];
  }
}
