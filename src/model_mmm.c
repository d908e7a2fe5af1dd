/* The hierarchical MMM as a log density with analytic gradient on the
 * unconstrained scale, for the NUTS engine (nuts.c sees it only through
 * hb_nuts_model). Same model and priors as the Gibbs sampler (it reads the
 * same list, src/model_read.c), plus priors that suit NUTS: LKJ correlations
 * with half-normal / half-Student-t / exponential scales, and the regularized
 * horseshoe.
 *
 * Layout of theta (offsets in mmm_ctx):
 *   beta (p; horseshoe columns hold the standard-normal z_j instead,
 *     columns with a positive prior log beta_j, or, on a mixture of Hill
 *     curves, the log of their mean contribution (choose_sum_scaled()),
 *     columns with an ROI prior
 *     the log ROI (beta_j = ROI spend_j / sum_i x_ij), and the intercept column,
 *     when there is one, the centred intercept alpha = beta_0 + sum_j beta_j
 *     xbar_j, xbar_j the mean of column j at the current transforms),
 *   horseshoe: log lambda_j (H), log tau, [log c: slab],
 *   per term k: covariance parameters (by type, below), then effects q x G
 *     (non-centred: z with u_g = L z_g; centred: u itself),
 *   log sigma_s (S), channel transform parameters (the working
 *     coordinates of hb_phi_to_w(): unconstrained by link, a Hill curve's
 *     log half-saturation replaced by its logit at the mean spend; a
 *     mixture-of-Hills channel's block after its slots, model_mixture.c),
 *   with pooled mixture components, (mu_h, log tau_h, mu_s, log tau_s),
 *   per log-normal media block (hb_mult): log sd, then z (G) with v = sd z
 *     or, centred (nuts_model$mult_centered), v itself.
 * Covariance parameters by term type (enum hb_cov_type; passes in model_cov.c):
 *   HB_COV_FULL, HB_COV_HW_FULL: Cholesky factor L of Sigma, lower triangle
 *     by column, diagonal on the log scale; HW_FULL then log a_j (q);
 *   HB_COV_DIAG: log sd_j (q); HB_COV_HW_DIAG: log sd_j, log a_j;
 *   HB_COV_LKJ: log sd_j, then q(q-1)/2 unconstrained canonical partial
 *     correlations (tanh) building the correlation's Cholesky factor;
 *   HB_COV_FACTOR: loadings Lambda (q x nf), log psi_j (q), scores f
 *     (nf x G); the effects are then z (u = Lambda f + sqrt(psi) z) or u
 *     (centred). */
#include <limits.h>
#include <math.h>
#include <string.h>
#include <Rmath.h>
#include "model.h"

typedef struct {
  hb_model *g;
  int dim, nout;
  /* the intercept column (-1: none), sampled centred: the intercept and
   * the slopes of columns with a non-zero mean are otherwise nearly
   * collinear, and the step size collapses to the width of that ridge */
  int icpt;
  double g0prior;
  /* each fixed column's sum at the current transforms (refresh_column_sums()),
   * which the centred intercept and ROI-prior coefficients depend on, and,
   * p x chmax, its derivative in each unconstrained parameter of the
   * column's channel (set in the gradient's media pass); o_chc: the first
   * parameter of each channel after o_ch; chmax: the most unconstrained
   * parameters of a channel (ntheta), chcol the most derivative columns
   * (hb_channel_ncol()); gcon: scratch of 2 chcol */
  double *colsum, *dcolsum, *gcon;
  int *o_chc, chmax, chcol;
  /* columns sampled as their mean contribution (choose_sum_scaled()): per column
   * 1 or 0, and d log prior / d log beta_j at the current point */
  unsigned char *bsum;
  double *bprior;
  int any_scaled;             /* a column with an ROI prior or bsum */
  const double **cols;        /* scratch: column pointers for hb_dots(), max(chcol, HB_MAX_Q) */
  double **ueff;              /* per term: u of hierarchically centred terms, else NULL */
  /* runs of rows with one level of term k (run[k][r] .. run[k][r + 1] - 1,
   * nrun[k] of them; NULL when runs are too short to pay, see find_runs())
   * and with one residual group (srun, nsrun; the data's rows) */
  R_xlen_t **run, *srun;
  int *nrun, nsrun;
  /* horseshoe */
  int H, hs_reg, *hs_col;
  double hs_df, hs_df_global, hs_slab_df, hs_slab_scale;
  /* log-normal media blocks (hb_mult): per block log sd, then z (G) with
   * v = sd z, from o_mu[b]; gv[b]: d log density / d v (G), ds[b]: d (the
   * channel's column sum) / d v (G) */
  int *o_mu;
  const int *mcent;           /* per block: 1 centred (theta holds v), 0 not (z) */
  double **gv, **ds;
  /* offsets (o_pool: the pooled mixture components' hyperparameters) */
  int o_lam, o_tau, o_c, o_sig, o_ch, o_pool;
  int *o_cov, *o_eff;
  hb_cov_ws cv;               /* the terms' covariance passes (model_cov.c) */
  /* scratch */
  hb_channel_ws cw;           /* transformed media with derivatives */
  double *e, *coef, **dm;
  double **gu, *tmp;
  double *gbeta, *negb, *ss, *cnt, *lam_t, *gscratch;
  double lift_ss;              /* sum of w_i r_i^2 over the lift rows (known precisions) */
  /* the layout of one draw; online summaries */
  hb_draw_item *items;
  hb_moments_t *mom;
  hb_psquare_t *psq;
} mmm_ctx;

/* ---- unpacking theta ------------------------------------------------------ */

/* Fixed effects (horseshoe columns: beta_j = scale_j tau lambda~_j z_j) and
 * the horseshoe's scales. */
static void unpack_fixed(mmm_ctx *m, const double *th, double *grad, double *l) {
  hb_model *g = m->g;
  double tau = 0.0, c = 0.0;
  if (m->H) {
    tau = exp(th[m->o_tau]);
    *l += hb_half_t_log(m->hs_df_global, th[m->o_tau], grad + m->o_tau);
    if (m->hs_reg) {
      c = exp(th[m->o_c]);
      *l += hb_ig_sq_log(0.5 * m->hs_slab_df, 0.5 * m->hs_slab_df * m->hs_slab_scale * m->hs_slab_scale,
                      th[m->o_c], grad + m->o_c);
    }
  }
  for (int j = 0; j < g->p; j++) {
    g->beta[j] = th[j];
    if (j == m->icpt || (g->use_hs && g->hs[j])) continue; /* intercept: center_intercept() */
    if (g->b_roi && g->b_roi[j] > 0.0) { /* theta_j = log ROI: b = ROI spend / sum(column) */
      double e = (th[j] - g->b_mean[j]) / g->b_sd[j];
      g->beta[j] = exp(th[j]) * g->b_roi[j] / m->colsum[j];
      *l -= 0.5 * e * e; /* lognormal in ROI times the Jacobian ROI */
      grad[j] -= e / g->b_sd[j];
      continue;
    }
    if (g->b_code[j] != HB_PRIOR_NORMAL) { /* beta_j = exp(theta_j), Jacobian beta_j */
      double dlp, b = g->beta[j] = m->bsum[j] ? exp(th[j]) * (double) g->nd / m->colsum[j] : exp(th[j]);
      *l += hb_coef_pos_logprior(g->b_code[j], g->b_mean[j], g->b_sd[j], b, &dlp) + (m->bsum[j] ? log(b) : th[j]);
      if (m->bsum[j]) m->bprior[j] = dlp * b + 1.0; /* finish_scaled() */
      else grad[j] += dlp * b + 1.0;
      continue;
    }
    double d = (th[j] - g->b_mean[j]) / g->b_sd[j];
    *l -= 0.5 * d * d;
    grad[j] -= d / g->b_sd[j];
  }
  for (int h = 0; h < m->H; h++) {
    int j = m->hs_col[h];
    double ll = th[m->o_lam + h], lam = exp(ll);
    *l += hb_half_t_log(m->hs_df, ll, grad + m->o_lam + h);
    double lt = lam;
    if (m->hs_reg) lt = c * lam / sqrt(c * c + tau * tau * lam * lam);
    m->lam_t[h] = lt;
    g->beta[j] = g->hs_scale[j] * tau * lt * th[j];
    *l -= 0.5 * th[j] * th[j];
    grad[j] -= th[j];
  }
}

/* does channel c's column move with theta (estimated transforms or a
 * log-normal block)? */
static int channel_moves(const hb_model *g, int c) {
  return g->ch[c].ntheta > 0 || hb_mult_block(g, c) >= 0;
}

/* The log-normal blocks: sd half-t(nu, A) (log sd sampled, Jacobian
 * included); v itself with its N(0, sd^2) prior (centred) or v = sd z with
 * z standard normal; each channel's multipliers. */
static void unpack_mult(mmm_ctx *m, const double *th, double *grad, double *l) {
  hb_model *g = m->g;
  for (int b = 0; b < g->nmult; b++) {
    hb_mult *mu = g->mu + b;
    const int o = m->o_mu[b];
    mu->sd = exp(th[o]);
    *l += hb_half_t_log(mu->hw_nu, th[o] - log(mu->hw_A), grad + o);
    const double is2 = 1.0 / (mu->sd * mu->sd);
    for (int a = 0; a < mu->G; a++) {
      double x = th[o + 1 + a];
      if (m->mcent[b]) {
        mu->v[a] = x;
        *l -= 0.5 * x * x * is2 + th[o];
        grad[o + 1 + a] -= x * is2;
        grad[o] += x * x * is2 - 1.0;
      } else {
        mu->v[a] = mu->sd * x;
        *l -= 0.5 * x * x;
        grad[o + 1 + a] -= x;
      }
    }
    hb_mult_rows(g, mu->c);
  }
}

/* m->colsum of the columns whose channel has estimated transforms (all
 * columns with `all`, at set-up), over the data's rows. */
static void refresh_column_sums(mmm_ctx *m, int all) {
  hb_model *g = m->g;
  for (int j = 0; j < g->p; j++)
    if (all || (g->xc[j] >= 0 && channel_moves(g, g->xc[j]))) m->colsum[j] = hb_sum(g->Xcol[j], g->nd);
}

/* The intercept from the centred intercept alpha (theta) and the other
 * slopes, beta_0 = alpha - sum_j beta_j xbar_j, with its prior; needs the
 * current design columns (media ones depend on the transforms). The
 * reparameterization (alpha, others) -> (beta_0, others) is a shear with unit
 * Jacobian. m->g0prior keeps d log prior / d beta_0 for the gradient. */
static void center_intercept(mmm_ctx *m, const double *th, double *lp) {
  hb_model *g = m->g;
  const int j0 = m->icpt;
  if (j0 < 0) return;
  double b0 = th[j0];
  for (int j = 0; j < g->p; j++)
    if (j != j0) b0 -= g->beta[j] * m->colsum[j] / (double) g->nd;
  g->beta[j0] = b0;
  double d = (b0 - g->b_mean[j0]) / g->b_sd[j0];
  *lp -= 0.5 * d * d;
  m->g0prior = -d / g->b_sd[j0];
}

/* The fixed coefficient a translation pair of a term shifts: the centred
 * intercept alpha for the intercept column, beta_j otherwise. */
static double pair_coef(const mmm_ctx *m, int j, const double *th) {
  return j == m->icpt ? th[j] : m->g->beta[j];
}

/* The effects term k's covariance passes see. Centred terms with
 * translation pairs (hb_term: within level g, fixed column j_a equals
 * w_ga times term column l_a) are sampled hierarchically centred: theta
 * holds v_gl = u_gl + sum_a w_ga b_ja, the level's whole coefficient, which
 * the data pin down when each level has many rows; u = v - shift is a
 * unit-Jacobian shear. Without it the fixed coefficient and every level's
 * effect form a ridge as narrow as one level's standard error. */
static const double *term_effects(mmm_ctx *m, int k, const double *th) {
  const hb_term *t = m->g->t + k;
  const double *ef = th + m->o_eff[k];
  if (!m->ueff[k]) return ef;
  double *u = m->ueff[k];
  memcpy(u, ef, sizeof(double) * t->q * t->G);
  for (int a = 0; a < t->npair; a++) {
    if (t->pair_l[a] >= m->cv.ncent[k]) continue; /* a non-centred column */
    double b = pair_coef(m, t->pair_j[a], th);
    for (int gg = 0; gg < t->G; gg++) u[t->pair_l[a] + (R_xlen_t) t->q * gg] -= t->pair_w[a + (R_xlen_t) t->npair * gg] * b;
  }
  return u;
}

/* Term k: its factor Lc and effects u. Nonzero when Sigma is singular. */
static int unpack_term(mmm_ctx *m, int k, const double *th, double *grad, double *l) {
  return hb_cov_forward(&m->cv, k, th + m->o_cov[k], term_effects(m, k, th), grad + m->o_cov[k],
                        grad + m->o_eff[k], l);
}

/* Residual precisions and channel parameters (constrained, by link). */
static void unpack_scales(mmm_ctx *m, const double *th, double *grad, double *l) {
  hb_model *g = m->g;
  for (int s = 0; s < g->S; s++) {
    g->inv_sig2[s] = exp(-2.0 * th[m->o_sig + s]);
    *l += hb_ig_sq_log(g->sig_a, g->sig_b, th[m->o_sig + s], grad + m->o_sig + s);
  }
  if (g->mix_pool) { /* before the channels: their components' prior reads it */
    *l += hb_mix_pool_unpack(g, th + m->o_pool, grad + m->o_pool);
    for (int cc = 0; cc < g->C; cc++)
      if (g->ch[cc].pool) g->ch[cc].pool_grad = grad + m->o_pool;
  }
  int o = m->o_ch;
  for (int cc = 0; cc < g->C; cc++) {
    hb_channel *ch = g->ch + cc;
    /* theta holds the working coordinates w (hb_phi_to_w()) */
    double phi[HB_MAX_TPAR], gphi[HB_MAX_TPAR];
    hb_w_to_phi(ch, th + o, phi);
    for (int e = 0; e < ch->nest; e++) {
      int s = ch->est_slot[e];
      double v = hb_link_from_unc(ch->link[s], phi[e], ch->upper[s]), dv, dj;
      hb_link_derivs(ch->link[s], phi[e], ch->upper[s], &dv, &dj);
      ch->par[s] = v;
      *l += hb_prior_logdens(ch->prior_code[s], ch->prior_par + 2 * s, v) +
            hb_link_logjac(ch->link[s], phi[e], ch->upper[s]);
      gphi[e] = hb_prior_dlogdens(ch->prior_code[s], ch->prior_par + 2 * s, v) * dv + dj;
    }
    hb_w_backprop(ch, th + o, gphi, grad + o);
    if (ch->w_h >= 0) {
      *l += hb_w_logjac(ch, th + o);
      grad[o + ch->w_s] -= 1.0;
    }
    o += ch->nest;
    if (ch->mix_K) {
      *l += hb_mix_unpack(ch, th + o, grad + o);
      o += hb_mix_npar(ch->mix_K);
    }
  }
}

/* Builds beta, every term's factor Lc (u_g = Lc z_g) and effects u, residual
 * precisions and channel parameters from theta; adds the log prior of
 * everything (Jacobians included) to *lp and its direct gradient to grad.
 * Gradients that flow through beta, Lc and u are added later (backprop). */
static int unpack(mmm_ctx *m, const double *th, double *lp, double *grad, int derivs) {
  hb_model *g = m->g;
  double l = 0.0;
  unpack_scales(m, th, grad, &l);
  unpack_mult(m, th, grad, &l);
  /* transformed media at the current parameters (with their derivatives
   * for the gradient): the intercept and ROI-prior coefficients depend on
   * the columns' sums */
  for (int c = 0; c < g->C; c++) {
    if (!channel_moves(g, c)) continue;
    if (hb_channel_eval(&m->cw, c, g->ch[c].par, derivs ? m->dm[c] : NULL)) return 1;
    hb_refresh_channel_columns(g, c);
  }
  refresh_column_sums(m, 0);
  unpack_fixed(m, th, grad, &l);
  center_intercept(m, th, &l);
  for (int k = 0; k < g->K; k++)
    if (unpack_term(m, k, th, grad, &l)) return 1;
  *lp += l;
  return R_FINITE(l) ? 0 : 1;
}

/* ---- gradients that flow through the factors Lc ------------------------ */

/* m->gu[k] holds d log density / d u (likelihood); adds the effects' and
 * covariance parameters' gradients. */
static void backprop_term(mmm_ctx *m, int k, const double *th, double *grad) {
  const double *ef = m->ueff[k] ? m->ueff[k] : th + m->o_eff[k];
  hb_cov_reverse(&m->cv, k, th + m->o_cov[k], ef, m->gu[k], grad + m->o_cov[k], grad + m->o_eff[k]);
  if (!m->ueff[k]) return;
  /* hierarchically centred: d / d v = d / d u (already there), and each
   * pair's fixed coefficient moves every u_gl by -w_ga */
  const hb_term *t = m->g->t + k;
  for (int a = 0; a < t->npair; a++) {
    if (t->pair_l[a] >= m->cv.ncent[k]) continue;
    double acc = 0.0;
    for (int gg = 0; gg < t->G; gg++)
      acc += t->pair_w[a + (R_xlen_t) t->npair * gg] * grad[m->o_eff[k] + t->pair_l[a] + (R_xlen_t) t->q * gg];
    int j = t->pair_j[a];
    if (j == m->icpt) grad[j] -= acc;
    else m->gbeta[j] -= acc;
  }
}

/* The unconstrained parameters column j's sum moves with: its channel's,
 * and the pool block when its components are pooled (dcolsum holds them
 * in that order). */
static int column_sum_npar(const hb_channel *ch) { return ch->ntheta + (ch->pool ? 4 : 0); }

/* grad -= (num / den) d sum_j / d (those parameters), in that order of
 * operations */
static void add_column_sum_grad(const mmm_ctx *m, int j, double num, double den, double *grad) {
  const hb_model *g = m->g;
  const int c = g->xc[j], o = m->o_ch + m->o_chc[c];
  const double *ds = m->dcolsum + (R_xlen_t) m->chmax * j;
  for (int e = 0; e < g->ch[c].ntheta; e++) grad[o + e] -= num * ds[e] / den;
  if (g->ch[c].pool)
    for (int a = 0; a < 4; a++) grad[m->o_pool + a] -= num * ds[g->ch[c].ntheta + a] / den;
}

/* Gradients of the coefficients sampled relative to their column's sum,
 * b_j = exp(theta_j) c_j / sum_i x_ij (ROI priors: c_j the spend; mean
 * contributions, choose_sum_scaled(): c_j = n): with f = d log density / d b_j
 * (gbeta, which by now holds every path through b_j, and for mean
 * contributions the prior's d / d log b_j), f b_j into theta_j, and
 * -f b_j d sum / sum into the channel's parameters. */
static void finish_scaled(mmm_ctx *m, double *grad) {
  hb_model *g = m->g;
  if (!m->any_scaled) return;
  for (int j = 0; j < g->p; j++) {
    if (!m->bsum[j] && !(g->b_roi && g->b_roi[j] > 0.0)) continue;
    double fb = m->gbeta[j] * g->beta[j] + (m->bsum[j] ? m->bprior[j] : 0.0);
    grad[j] += fb;
    add_column_sum_grad(m, j, fb, m->colsum[j], grad);
    int b = hb_mult_block(g, g->xc[j]);
    if (b >= 0 && g->mu[b].j == j)
      for (int a = 0; a < g->mu[b].G; a++) m->gv[b][a] -= fb * m->ds[b][a] / m->colsum[j];
  }
}

/* d log likelihood / d v of block b (and its column sum's derivative):
 * dldm holds d log likelihood / d media of the block's channel; the
 * centred intercept moves with the column's sum (g0: d / d beta_0). */
static void mult_gradient(mmm_ctx *m, int b, const double *dldm, double g0) {
  hb_model *g = m->g;
  const hb_mult *mu = g->mu + b;
  const double *col = g->media + (R_xlen_t) mu->c * g->n;
  double *gv = m->gv[b], *ds = m->ds[b];
  for (int a = 0; a < mu->G; a++) {
    double s1 = 0.0, s2 = 0.0;
    for (R_xlen_t r = mu->start[a]; r < mu->start[a + 1]; r++) {
      R_xlen_t i = mu->ord[r];
      s1 += dldm[i] * col[i];
      if (i < g->nd) s2 += col[i];
    }
    gv[a] = s1;
    ds[a] = s2;
    if (m->icpt >= 0) gv[a] -= g0 * g->beta[mu->j] * s2 / (double) g->nd;
  }
}

/* the gradients of v, or of z and log sd through v = sd z, from those of v */
static void mult_backprop(mmm_ctx *m, double *grad) {
  hb_model *g = m->g;
  for (int b = 0; b < g->nmult; b++) {
    const hb_mult *mu = g->mu + b;
    const int o = m->o_mu[b];
    for (int a = 0; a < mu->G; a++) {
      if (m->mcent[b]) {
        grad[o + 1 + a] += m->gv[b][a];
        continue;
      }
      grad[o + 1 + a] += mu->sd * m->gv[b][a];
      grad[o] += mu->v[a] * m->gv[b][a];
    }
  }
}

/* ---- the likelihood --------------------------------------------------------- */

/* Row loops over a term's levels. Rows with one level usually come in runs
 * (a panel's weeks); there each run is one vectorized kernel call, and the
 * per-level accumulation does not chain every row through one memory
 * location. Rows in short runs keep the row-by-row loop. */

/* y[i] += sign u_{g[i] j} z[i], term k's column j */
static void term_axpy(const mmm_ctx *m, int k, int j, double sign, const double *z, double *y) {
  const hb_term *t = m->g->t + k;
  const double *u = t->u + j;
  if (!m->run[k]) {
    for (R_xlen_t i = 0; i < m->g->n; i++) y[i] += sign * u[(R_xlen_t) t->q * t->g[i]] * z[i];
    return;
  }
  const R_xlen_t *run = m->run[k];
  for (int r = 0; r < m->nrun[k]; r++)
    hb_axpy(sign * u[(R_xlen_t) t->q * t->g[run[r]]], z + run[r], y + run[r], run[r + 1] - run[r]);
}

/* gu_{g[i] j} += sum_i e[i] z_j[i] for each column j of term k: per run,
 * all columns in one hb_dots() pass */
static void term_dots(const mmm_ctx *m, int k, const double *e, double *gu) {
  const hb_term *t = m->g->t + k;
  const int q = t->q;
  if (!m->run[k]) {
    for (int j = 0; j < q; j++) {
      const double *z = t->Zcol[j];
      for (R_xlen_t i = 0; i < m->g->n; i++) gu[j + (R_xlen_t) q * t->g[i]] += e[i] * z[i];
    }
    return;
  }
  const R_xlen_t *run = m->run[k];
  double acc[HB_MAX_Q];
  for (int r = 0; r < m->nrun[k]; r++) {
    const R_xlen_t a = run[r];
    for (int j = 0; j < q; j++) m->cols[j] = t->Zcol[j] + a;
    hb_dots(e + a, m->cols, q, run[r + 1] - a, acc);
    double *gl = gu + (R_xlen_t) q * t->g[a];
    for (int j = 0; j < q; j++) gl[j] += acc[j];
  }
}

/* Residuals e of n rows with weights w into w e / sigma^2 (is2 = 1 /
 * sigma^2); returns sum w e^2. */
static HB_CLONES double weigh_residuals(const double *w, double *e, R_xlen_t n, double is2) {
  double ss = 0.0;
#pragma omp simd reduction(+:ss)
  for (R_xlen_t i = 0; i < n; i++) {
    const double wr = w[i] * e[i];
    ss += wr * e[i];
    e[i] = wr * is2;
  }
  return ss;
}

/* Residual sums of squares per variance group and d loglik / d (beta, u) from
 * the rows (or the cells' Gram matrices); e[i] = w_i r_i / sigma^2 (rows). */
static void likelihood_rows(mmm_ctx *m) {
  hb_model *g = m->g;
  const R_xlen_t n = g->n;
  const int p = g->p;
  double *e = m->e;
  memset(m->ss, 0, sizeof(double) * g->S);
  memcpy(e, g->y, sizeof(double) * n);
  for (int j = 0; j < p; j++) m->negb[j] = -g->beta[j];
  hb_axpys(m->negb, (const double *const *) g->Xcol, p, n, e);
  for (int k = 0; k < g->K; k++)
    for (int j = 0; j < g->t[k].q; j++) term_axpy(m, k, j, -1.0, g->t[k].Zcol[j], e);
  if (m->srun) {
    for (int r = 0; r < m->nsrun; r++) {
      const R_xlen_t a = m->srun[r];
      const int sg = g->sg[a];
      m->ss[sg] += weigh_residuals(g->w + a, e + a, m->srun[r + 1] - a, g->inv_sig2[sg]);
    }
  } else {
    for (R_xlen_t i = 0; i < g->nd; i++) {
      double wr = g->w[i] * e[i];
      m->ss[g->sg[i]] += wr * e[i];
      e[i] = wr * g->inv_sig2[g->sg[i]];
    }
  }
  /* lift rows: w_i is the test's known precision */
  m->lift_ss = weigh_residuals(g->w + g->nd, e + g->nd, n - g->nd, 1.0);
  hb_dots(e, (const double *const *) g->Xcol, p, n, m->gbeta);
  for (int k = 0; k < g->K; k++) {
    memset(m->gu[k], 0, sizeof(double) * g->t[k].q * g->t[k].G);
    term_dots(m, k, e, m->gu[k]);
  }
}

static void likelihood_cells(mmm_ctx *m) {
  hb_model *g = m->g;
  const hb_cells *cs = g->cells;
  const int D = cs->D, p = g->p;
  double *th = cs->theta, *h = m->tmp;
  memset(m->ss, 0, sizeof(double) * g->S);
  memset(m->gbeta, 0, sizeof(double) * p);
  for (int k = 0; k < g->K; k++) memset(m->gu[k], 0, sizeof(double) * g->t[k].q * g->t[k].G);
  for (int c = 0; c < cs->ncell; c++) {
    hb_cell_theta(g, c, th);
    const double *Gc = cs->G + (R_xlen_t) c * D * D; /* lower triangle */
    for (int a = 0; a < D; a++) {
      double v = 0.0;
      for (int b = 0; b < D; b++) v += (a >= b ? Gc[a + b * D] : Gc[b + a * D]) * th[b];
      h[a] = v;
    }
    double is2 = g->inv_sig2[cs->sg[c]];
    m->ss[cs->sg[c]] += hb_dot(th, h, D);
    for (int j = 0; j < p; j++) m->gbeta[j] -= h[j] * is2;
    for (int k = 0; k < g->K; k++) {
      double *gu = m->gu[k] + (R_xlen_t) g->t[k].q * cs->lev[k][c];
      for (int j = 0; j < g->t[k].q; j++) gu[j] -= h[cs->off[k] + j] * is2;
    }
  }
}

/* prior_only: no likelihood, so no sums of squares and no gradient from it
 * (the row counts are zero too, see setup) */
static void no_likelihood(mmm_ctx *m) {
  hb_model *g = m->g;
  memset(m->ss, 0, sizeof(double) * g->S);
  m->lift_ss = 0.0;
  memset(m->e, 0, sizeof(double) * g->n);
  memset(m->gbeta, 0, sizeof(double) * g->p);
  for (int k = 0; k < g->K; k++) memset(m->gu[k], 0, sizeof(double) * g->t[k].q * g->t[k].G);
}

/* ---- log density and gradient ------------------------------------------- */

/* out += the derivatives gc of some function in channel ch's derivative
 * columns (hb_channel_ncol(): estimated slots, then a mixture's components)
 * carried to its unconstrained parameters u (th at the channel's offset):
 * the slots' link derivatives, and the mixture block's chain rule (pooled
 * components: also to the pool block, pool_out). */
static void to_unconstrained(const hb_channel *ch, const double *u, const double *gc, double *out, double *pool_out) {
  double phi[HB_MAX_TPAR], gphi[HB_MAX_TPAR];
  hb_w_to_phi(ch, u, phi);
  for (int e = 0; e < ch->nest; e++) {
    int s = ch->est_slot[e];
    double dv, dj;
    hb_link_derivs(ch->link[s], phi[e], ch->upper[s], &dv, &dj);
    gphi[e] = gc[e] * dv;
  }
  hb_w_backprop(ch, u, gphi, out);
  if (ch->mix_K) hb_mix_backprop(ch, u + ch->nest, gc + ch->nest, out + ch->nest, pool_out);
}

static int mmm_logp_grad(void *vctx, const double *th, double *lp_out, double *grad) {
  mmm_ctx *m = (mmm_ctx *) vctx;
  hb_model *g = m->g;
  const R_xlen_t n = g->n;
  memset(grad, 0, sizeof(double) * m->dim);
  double lp = 0.0;
  if (unpack(m, th, &lp, grad, 1)) return 1;
  if (g->prior_only) no_likelihood(m);
  else if (g->cells) likelihood_cells(m);
  else likelihood_rows(m);
  lp -= 0.5 * m->lift_ss;
  for (int s = 0; s < g->S; s++) {
    double ell = th[m->o_sig + s];
    lp += -m->cnt[s] * ell - 0.5 * m->ss[s] * g->inv_sig2[s];
    grad[m->o_sig + s] += -m->cnt[s] + m->ss[s] * g->inv_sig2[s];
  }
  /* d log density / d beta_0, which moves with alpha and, through
   * beta_0 = alpha - sum_j beta_j xbar_j, with every other slope and the
   * transforms of the media columns' means */
  double g0 = m->icpt >= 0 ? m->gbeta[m->icpt] + m->g0prior : 0.0;
  /* media: d loglik / d media_c(i) = e_i times what multiplies the column */
  int o = m->o_ch;
  for (int c = 0; c < g->C; c++) {
    const hb_channel *ch = g->ch + c;
    if (!channel_moves(g, c)) continue;
    double *coef = m->coef;
    memset(coef, 0, sizeof(double) * n);
    for (int j = 0; j < g->p; j++)
      if (g->xc[j] == c) hb_axpy(g->beta[j], g->Xs + (R_xlen_t) j * n, coef, n);
    for (int k = 0; k < g->K; k++)
      for (int j = 0; j < g->t[k].q; j++)
        if (g->t[k].zc[j] == c) term_axpy(m, k, j, 1.0, g->t[k].Zs + (R_xlen_t) j * n, coef);
    /* d loglik / d each constrained parameter (derivative column), then
     * to the unconstrained scale */
    const int ncol = hb_channel_ncol(ch);
    double *gc = m->gcon;
    hb_vmul(m->e, coef, coef, n); /* d loglik / d media_c(i) */
    int b = hb_mult_block(g, c);
    if (b >= 0) mult_gradient(m, b, coef, g0);
    if (ch->ntheta == 0) continue;
    for (int e = 0; e < ncol; e++) m->cols[e] = m->dm[c] + (R_xlen_t) e * n;
    hb_dots(coef, m->cols, ncol, n, gc);
    to_unconstrained(ch, th + o, gc, grad + o, g->mix_pool ? grad + m->o_pool : NULL);
    if (m->icpt >= 0 || m->any_scaled) {
      /* the channel's columns' sums move too: the centred intercept's
       * b_0 by -b_j d sum_j / n, and coefficients sampled relative to
       * their column's sum (finish_scaled()) */
      for (int j = 0; j < g->p; j++) {
        if (g->xc[j] != c) continue;
        double *ds = m->dcolsum + (R_xlen_t) m->chmax * j, *sc = m->gcon + m->chcol;
        hb_dots(g->Xs + (R_xlen_t) j * n, m->cols, ncol, g->nd, sc);
        memset(ds, 0, sizeof(double) * column_sum_npar(ch));
        to_unconstrained(ch, th + o, sc, ds, ds + ch->ntheta);
        if (m->icpt >= 0) add_column_sum_grad(m, j, g0 * g->beta[j], (double) g->nd, grad);
      }
    }
    o += ch->ntheta;
  }
  for (int k = 0; k < g->K; k++) backprop_term(m, k, th, grad);
  /* fixed effects */
  if (m->icpt >= 0) {
    for (int j = 0; j < g->p; j++) m->gbeta[j] -= m->colsum[j] / (double) g->nd * g0;
    m->gbeta[m->icpt] = g0; /* alpha's gradient */
  }
  for (int j = 0; j < g->p; j++) {
    if ((g->use_hs && g->hs[j]) || (g->b_roi && g->b_roi[j] > 0.0) || m->bsum[j]) continue;
    grad[j] += m->gbeta[j] * (g->b_code[j] == HB_PRIOR_NORMAL ? 1.0 : g->beta[j]);
  }
  finish_scaled(m, grad);
  mult_backprop(m, grad);
  if (m->H) {
    double tau = exp(th[m->o_tau]), c = m->hs_reg ? exp(th[m->o_c]) : 0.0;
    for (int h = 0; h < m->H; h++) {
      int j = m->hs_col[h];
      double b = g->beta[j], gb = m->gbeta[j];
      grad[j] += gb * g->hs_scale[j] * tau * m->lam_t[h];
      double dl = 1.0, dt = 0.0, dc = 0.0; /* d log lam_t / d log (lambda, tau, c) */
      if (m->hs_reg) {
        double lam = exp(th[m->o_lam + h]), tl2 = tau * tau * lam * lam, den = c * c + tl2;
        dl = c * c / den;
        dt = -tl2 / den;
        dc = tl2 / den;
      }
      grad[m->o_lam + h] += gb * b * dl;
      grad[m->o_tau] += gb * b * (1.0 + dt);
      if (m->hs_reg) grad[m->o_c] += gb * b * dc;
    }
  }
  for (int a = 0; a < m->dim; a++)
    if (!R_FINITE(grad[a])) return 1;
  *lp_out = lp;
  return R_FINITE(lp) ? 0 : 1;
}

/* ---- one draw: the layout of model_layout.c ----------------------------- */


static void mmm_write(void *vctx, const double *th, double *out) {
  mmm_ctx *m = (mmm_ctx *) vctx;
  hb_model *g = m->g;
  double lp = 0.0;
  memset(m->gscratch, 0, sizeof(double) * m->dim);
  unpack(m, th, &lp, m->gscratch, 0);
  for (int k = 0; k < g->K; k++) hb_cov_sigma(&m->cv, k, th + m->o_cov[k]);
  if (g->use_hs) {
    double tau = exp(th[m->o_tau]);
    g->hs_tau2 = tau * tau;
  }
  hb_draw_write(g, m->items, m->nout, out);
  for (int k = 0; k < g->K; k++)
    if (g->online[k]) {
      hb_moments_update(m->mom + k, g->t[k].u);
      hb_psquare_update(m->psq + k, g->t[k].u);
    }
}

/* ---- set-up --------------------------------------------------------------- */

static const double *opt_real(SEXP opts, const char *name, R_xlen_t len) {
  return hb_list_real(opts, "nuts_model", name, len);
}

/* The priors only NUTS implements (nuts_model_options() in R/nuts_model.R):
 * LKJ scales and the (regularized) horseshoe. */
static void read_nuts_priors(mmm_ctx *m, SEXP opts) {
  hb_model *g = m->g;
  const int K = g->K;
  int qsum = 0;
  m->cv.sd_off = (int *) R_alloc((size_t) K + 1, sizeof(int));
  for (int k = 0; k < K; k++) {
    m->cv.sd_off[k] = qsum;
    qsum += g->t[k].q;
  }
  const double *lkj_eta = opt_real(opts, "lkj_eta", K), *sd_par = opt_real(opts, "sd_par", 2 * qsum);
  const int *sd_code = hb_list_int(opts, "nuts_model", "sd_code", K, 0, HB_PRIOR_HALF_STUDENT_T);
  m->cv.lkj_eta = (double *) lkj_eta;
  m->cv.sd_par = (double *) sd_par;
  m->cv.sd_code = (int *) sd_code;
  hb_check_positive(lkj_eta, K, "nuts_model$lkj_eta");
  for (int k = 0; k < K; k++)
    if (g->t[k].type == HB_COV_LKJ) {
      if (sd_code[k] != HB_PRIOR_HALF_NORMAL && sd_code[k] != HB_PRIOR_EXPONENTIAL &&
          sd_code[k] != HB_PRIOR_HALF_STUDENT_T)
        hb_input_error("nuts_model$sd_code", "must be 6, 7 or 8 (half-normal, exponential, half-t) for LKJ terms");
      for (int j = 0; j < g->t[k].q; j++)
        hb_check_positive(sd_par + 2 * (m->cv.sd_off[k] + j), sd_code[k] == HB_PRIOR_HALF_STUDENT_T ? 2 : 1, "nuts_model$sd_par");
    }
  const double *hp = opt_real(opts, "hs", 4); /* df, df_global, slab scale (Inf: none), slab df */
  hb_check_positive(hp, 2, "nuts_model$hs");
  if (!(hp[2] > 0) || !(hp[3] > 0 && R_FINITE(hp[3]))) hb_input_error("nuts_model$hs", "slab scale and df must be positive");
  if (g->use_hs) {
    m->hs_df = hp[0];
    m->hs_df_global = hp[1];
    m->hs_slab_scale = hp[2];
    m->hs_slab_df = hp[3];
    m->hs_reg = R_FINITE(hp[2]);
    m->hs_col = (int *) R_alloc((size_t) g->p, sizeof(int));
    for (int j = 0; j < g->p; j++)
      if (g->hs[j]) m->hs_col[m->H++] = j;
  }
}

/* The offsets of theta (layout in the header of this file) and each term's
 * scratch. */
static void theta_layout(mmm_ctx *m) {
  hb_model *g = m->g;
  const int K = g->K;
  int d = g->p;
  if (m->H) {
    m->o_lam = d;
    d += m->H;
    m->o_tau = d++;
    if (m->hs_reg) m->o_c = d++;
  }
  m->o_cov = (int *) R_alloc((size_t) K + 1, sizeof(int));
  m->o_eff = (int *) R_alloc((size_t) K + 1, sizeof(int));
  m->cv.Lc = (double **) R_alloc((size_t) 5 * (K + 1), sizeof(double *));
  m->cv.gLc = m->cv.Lc + (K + 1);
  m->cv.S = m->cv.gLc + (K + 1);
  m->cv.Sinv = m->cv.S + (K + 1);
  m->cv.M = m->cv.Sinv + (K + 1);
  m->gu = (double **) R_alloc((size_t) K + 1, sizeof(double *));
  m->ueff = (double **) R_alloc((size_t) K + 1, sizeof(double *));
  m->cv.Zc = (double **) R_alloc((size_t) K + 1, sizeof(double *));
  R_xlen_t qG_total = 0;
  for (int k = 0; k < K; k++) {
    hb_term *t = g->t + k;
    const int q = t->q;
    m->o_cov[k] = d;
    d += hb_cov_npar(t);
    m->o_eff[k] = d;
    d += q * t->G;
    qG_total += (R_xlen_t) q * t->G;
    for (int a = 0; a < 5; a++) m->cv.Lc[a * (K + 1) + k] = (double *) R_alloc((size_t) q * q, sizeof(double));
    m->gu[k] = (double *) R_alloc((size_t) q * t->G, sizeof(double));
    const int nc = m->cv.ncent[k];
    int shifted = 0; /* a translation pair on a centred column: hierarchical centring */
    for (int a = 0; a < t->npair; a++) shifted |= t->pair_l[a] < nc;
    m->ueff[k] = shifted ? (double *) R_alloc((size_t) q * t->G, sizeof(double)) : NULL;
    m->cv.Zc[k] = nc > 0 && nc < q ? (double *) R_alloc((size_t) q * t->G, sizeof(double)) : NULL;
    if (t->type == HB_COV_FACTOR && !t->psi) hb_input_error("model$terms", "factor term %d lacks its structure", k + 1);
  }
  if (qG_total + d > 200000000) hb_input_error("model", "has too many parameters for NUTS");
  m->o_sig = d;
  d += g->S;
  m->o_ch = d;
  m->o_chc = (int *) R_alloc((size_t) g->C + 1, sizeof(int));
  m->chmax = m->chcol = 1;
  for (int c = 0; c < g->C; c++) {
    const hb_channel *ch = g->ch + c;
    m->o_chc[c] = d - m->o_ch;
    d += ch->ntheta;
    if (column_sum_npar(ch) > m->chmax) m->chmax = column_sum_npar(ch);
    if (hb_channel_ncol(ch) > m->chcol) m->chcol = hb_channel_ncol(ch);
  }
  m->o_pool = d;
  if (g->mix_pool) d += 4;
  m->o_mu = (int *) R_alloc((size_t) g->nmult + 1, sizeof(int));
  m->gv = (double **) R_alloc((size_t) 2 * g->nmult + 1, sizeof(double *));
  m->ds = m->gv + g->nmult;
  for (int b = 0; b < g->nmult; b++) {
    m->o_mu[b] = d;
    d += 1 + g->mu[b].G;
    m->gv[b] = (double *) R_alloc((size_t) 2 * g->mu[b].G, sizeof(double));
    m->ds[b] = m->gv[b] + g->mu[b].G;
  }
  m->dim = d;
}

/* Runs of equal values in lev[0 .. n) (a level or group per row): their
 * starts and, after the last, n; *nrun of them. NULL when runs average
 * fewer than HB_RUN_MIN rows: a kernel call per run would then cost more
 * than the row-by-row loop. */
#define HB_RUN_MIN 16
static R_xlen_t *find_runs(const int *lev, R_xlen_t n, int *nrun) {
  R_xlen_t cnt = n > 0;
  for (R_xlen_t i = 1; i < n; i++) cnt += lev[i] != lev[i - 1];
  *nrun = 0;
  if (cnt == 0 || cnt * HB_RUN_MIN > n || cnt >= INT_MAX) return NULL;
  R_xlen_t *st = (R_xlen_t *) R_alloc((size_t) cnt + 1, sizeof(R_xlen_t));
  int r = 0;
  st[0] = 0;
  for (R_xlen_t i = 1; i < n; i++)
    if (lev[i] != lev[i - 1]) st[++r] = i;
  st[cnt] = n;
  *nrun = (int) cnt;
  return st;
}

/* Model state and the density's scratch. */
static void alloc_scratch(mmm_ctx *m, int maxlag, int qmax) {
  hb_model *g = m->g;
  const R_xlen_t n = g->n;
  const int p = g->p, C = g->C;
  g->beta = (double *) R_alloc((size_t) p, sizeof(double));
  g->inv_sig2 = (double *) R_alloc((size_t) g->S, sizeof(double));
  g->media = (double *) R_alloc((size_t) (n * C + 1), sizeof(double));
  hb_channel_ws_alloc(&m->cw, g, maxlag);
  m->e = (double *) R_alloc((size_t) n, sizeof(double));
  m->coef = (double *) R_alloc((size_t) n, sizeof(double));
  m->run = (R_xlen_t **) R_alloc((size_t) g->K + 1, sizeof(R_xlen_t *));
  m->nrun = (int *) R_alloc((size_t) g->K + 1, sizeof(int));
  for (int k = 0; k < g->K; k++) m->run[k] = find_runs(g->t[k].g, n, m->nrun + k);
  m->srun = find_runs(g->sg, g->nd, &m->nsrun);
  m->dm = (double **) R_alloc((size_t) C + 1, sizeof(double *));
  m->gbeta = (double *) R_alloc((size_t) p, sizeof(double));
  m->negb = (double *) R_alloc((size_t) p, sizeof(double));
  m->ss = (double *) R_alloc((size_t) 2 * g->S, sizeof(double));
  m->cnt = m->ss + g->S;
  memset(m->cnt, 0, sizeof(double) * g->S);
  for (R_xlen_t i = 0; i < g->nd && !g->prior_only; i++) m->cnt[g->sg[i]] += 1.0;
  m->lam_t = (double *) R_alloc((size_t) p, sizeof(double));
  m->gscratch = (double *) R_alloc((size_t) m->dim, sizeof(double));
  int D = p + 1;
  for (int k = 0; k < g->K; k++) D += g->t[k].q;
  m->tmp = (double *) R_alloc((size_t) (D > qmax * qmax ? D : qmax * qmax), sizeof(double));
  m->cv.tmp = m->tmp; /* shared: the cell likelihood and the covariance passes never overlap */
  for (int c = 0; c < C; c++) {
    hb_channel *ch = g->ch + c;
    int ncol = hb_channel_ncol(ch);
    m->dm[c] = ncol ? (double *) R_alloc((size_t) ncol * n, sizeof(double)) : NULL;
  }
}

/* Kept levels, online summaries of the terms' effects, the layout of one draw. */
static void setup_output(mmm_ctx *m, SEXP model) {
  hb_model *g = m->g;
  const int K = g->K;
  hb_model_read_output(model, g);
  m->mom = (hb_moments_t *) R_alloc((size_t) K + 1, sizeof(hb_moments_t));
  m->psq = (hb_psquare_t *) R_alloc((size_t) K + 1, sizeof(hb_psquare_t));
  static const double probs[2] = {0.025, 0.975};
  for (int k = 0; k < K; k++) {
    if (!g->online[k]) continue;
    R_xlen_t cells = (R_xlen_t) g->t[k].q * g->t[k].G;
    hb_moments_init(m->mom + k, cells, (double *) R_alloc((size_t) cells, sizeof(double)),
                    (double *) R_alloc((size_t) cells, sizeof(double)));
    hb_psquare_init(m->psq + k, cells, 2, probs, (double *) R_alloc((size_t) cells * 10, sizeof(double)),
                    (int *) R_alloc((size_t) cells * 6, sizeof(int)));
  }
  m->nout = hb_draw_layout(g, NULL);
  m->items = (hb_draw_item *) R_alloc((size_t) m->nout + 1, sizeof(hb_draw_item));
  hb_draw_layout(g, m->items);
}

/* The intercept column (all ones, normal prior, not a media column or a
 * horseshoe one) when there are other columns to centre it against. */
static void find_intercept(mmm_ctx *m) {
  hb_model *g = m->g;
  const R_xlen_t n = g->n;
  m->icpt = -1;
  for (int j = 0; j < g->p && m->icpt < 0 && g->p > 1; j++) {
    if (g->xc[j] >= 0 || g->b_code[j] != HB_PRIOR_NORMAL || (g->use_hs && g->hs[j])) continue;
    const double *x = g->Xs + (R_xlen_t) j * n;
    R_xlen_t i = 0;
    while (i < g->nd && x[i] == 1.0) i++; /* the data's rows (0 on lift rows) */
    if (i == g->nd) m->icpt = j;
  }
}

/* opts$centered: per term, how many leading columns are sampled centred
 * (0 to q; a factor term 0 or q). */
static void read_centering(mmm_ctx *m, SEXP opts) {
  const hb_model *g = m->g;
  const int *nc = hb_list_int(opts, "nuts_model", "centered", g->K, 0, HB_MAX_Q);
  for (int k = 0; k < g->K; k++) {
    const hb_term *t = g->t + k;
    if (nc[k] > t->q || (t->type == HB_COV_FACTOR && nc[k] != 0 && nc[k] != t->q))
      hb_input_error("nuts_model$centered", "element %d must be 0 to %d%s; found %d", k + 1, t->q,
                     t->type == HB_COV_FACTOR ? " (a factor term: 0 or all)" : "", nc[k]);
  }
  m->cv.ncent = nc;
  m->mcent = hb_list_int(opts, "nuts_model", "mult_centered", g->nmult, 0, 1);
}

/* Which positive-prior slopes are sampled as the log of their column's
 * mean contribution, theta_j = log(b_j sum_i x_ij / n) (sums over the
 * data's rows): those of the columns of a mixture of Hill curves (more
 * than one component) with a positive sum. The data pin the contribution
 * down, but b_j multiplies a sum of curves whose level the components
 * change: a component far above the spend is b w_k (x / h_k)^s_k there,
 * and as h_k grows b must grow with it (where NUTS diverged on
 * homogeneous data, inst/validation/mixture.R); with the contribution
 * held, the components move the curve's shape only. One Hill curve keeps
 * log b_j: its working coordinates (hb_phi_to_w()) already straighten
 * that ridge, and there the contribution scale gave more divergent
 * transitions, not fewer (the README model: 3 against 0; a weakly
 * identified second channel: about twice as many). (theta_j, transforms)
 * -> (log b_j, transforms) is a shear with unit Jacobian. */
static void choose_sum_scaled(mmm_ctx *m) {
  hb_model *g = m->g;
  m->bsum = (unsigned char *) R_alloc((size_t) g->p, 1);
  m->bprior = (double *) R_alloc((size_t) g->p, sizeof(double));
  m->any_scaled = 0;
  for (int j = 0; j < g->p; j++) {
    int roi = g->b_roi && g->b_roi[j] > 0.0;
    m->bsum[j] = j != m->icpt && !(g->use_hs && g->hs[j]) && !roi && g->b_code[j] != HB_PRIOR_NORMAL &&
                 g->xc[j] >= 0 && g->ch[g->xc[j]].mix_K > 1 && m->colsum[j] > 0.0 && g->nd > 0;
    m->any_scaled |= roi || m->bsum[j];
  }
}

static mmm_ctx *mmm_setup(SEXP model, SEXP opts) {
  if (TYPEOF(model) != VECSXP) hb_input_error("model", "must be a list made by mmm_model_list()");
  if (TYPEOF(opts) != VECSXP) hb_input_error("nuts_model", "must be a list made by nuts_model_options()");
  mmm_ctx *m = (mmm_ctx *) R_alloc(1, sizeof(mmm_ctx));
  memset(m, 0, sizeof *m);
  hb_model *g = (hb_model *) R_alloc(1, sizeof(hb_model));
  memset(g, 0, sizeof *g);
  m->g = m->cv.g = g;
  int maxlag = 0, qmax = 1;
  hb_model_read(model, g, &maxlag, &qmax);
  hb_model_columns(g);
  for (int c = 0; c < g->C; c++) hb_channel_working_init(g->ch + c, g->media_raw + (R_xlen_t) c * g->n, g->nd);
  read_centering(m, opts);
  read_nuts_priors(m, opts);
  theta_layout(m);
  alloc_scratch(m, maxlag, qmax);
  for (int c = 0; c < g->C; c++) {
    if (hb_channel_eval(&m->cw, c, g->ch[c].par, NULL))
      hb_input_error("model$ch_par", "initial values give non-finite transformed media (channel %d)", c + 1);
    hb_refresh_channel_columns(g, c);
  }
  /* sufficient statistics when the design is fixed */
  const R_xlen_t n = g->n;
  int ncell = hb_list_int_scalar(model, "model", "ncell", 0, (int) (n < 2000000000 ? n : 2000000000));
  if (ncell > 0 && g->nlift) hb_input_error("model$cell", "cells need a model without lift tests (model$lift)");
  if (ncell > 0 && g->nmult) hb_input_error("model$cell", "cells need a model without log-normal media effects (model$mult)");
  if (ncell > 0) hb_cells_build(g, hb_list_int(model, "model", "cell", n, 0, ncell - 1), ncell);
  setup_output(m, model);
  find_intercept(m);
  m->colsum = (double *) R_alloc((size_t) (1 + m->chmax) * g->p, sizeof(double));
  m->dcolsum = m->colsum + g->p;
  m->gcon = (double *) R_alloc((size_t) 2 * m->chcol, sizeof(double));
  m->cols = (const double **) R_alloc((size_t) (m->chcol > HB_MAX_Q ? m->chcol : HB_MAX_Q), sizeof(double *));
  refresh_column_sums(m, 1);
  choose_sum_scaled(m);
  for (int j = 0; j < g->p && g->b_roi; j++)
    if (g->b_roi[j] > 0.0 && !(m->colsum[j] > 0.0))
      hb_input_error("model$b_roi", "element %d: an ROI prior needs a column with a positive sum", j + 1);
  return m;
}

/* Starting point and the spread of over-dispersed starting points (R adds
 * uniform(-1, 1) times spread per chain). */
static void mmm_init(const mmm_ctx *m, SEXP model, double *init, double *spread) {
  const hb_model *g = m->g;
  memset(init, 0, sizeof(double) * m->dim);
  for (int a = 0; a < m->dim; a++) spread[a] = 1.0;
  for (int j = 0; j < g->p; j++) {
    if (g->use_hs && g->hs[j]) continue;
    if (g->b_roi && g->b_roi[j] > 0.0) { /* log ROI: the prior's median */
      init[j] = g->b_mean[j];
      spread[j] = 0.5;
      continue;
    }
    if (g->b_code[j] != HB_PRIOR_NORMAL) { /* log beta_j: a tenth of the prior's scale */
      init[j] = g->b_code[j] == HB_PRIOR_LOGNORMAL ? g->b_mean[j] : log(0.1 * g->b_sd[j]);
      if (m->bsum[j]) init[j] += log(m->colsum[j] / (double) g->nd);
      spread[j] = 0.5;
      continue;
    }
    init[j] = g->b_mean[j];
    spread[j] = 0.05 * g->b_sd[j];
  }
  if (m->icpt >= 0) { /* alpha: the mean of the fixed part, near the mean response */
    double sy = 0.0, sw = 0.0;
    for (R_xlen_t i = 0; i < g->nd; i++) {
      sy += g->w[i] * g->y[i];
      sw += g->w[i];
    }
    if (sw > 0 && R_FINITE(sy / sw)) init[m->icpt] = sy / sw;
  }
  if (m->hs_reg) {
    init[m->o_c] = log(m->hs_slab_scale);
    spread[m->o_c] = 0.5;
  }
  for (int k = 0; k < g->K; k++) {
    const hb_term *t = g->t + k;
    const int q = t->q;
    double *c = init + m->o_cov[k], *sc = spread + m->o_cov[k];
    double sd0[HB_MAX_Q];
    for (int j = 0; j < q; j++) sd0[j] = sqrt(t->Sigma[j + j * q]);
    switch (t->type) {
    case HB_COV_FULL: case HB_COV_HW_FULL: {
      int a = 0;
      for (int j = 0; j < q; j++)
        for (int i = j; i < q; i++, a++) {
          c[a] = i == j ? log(sd0[j]) : 0.0;
          sc[a] = i == j ? 0.5 : 0.1 * sd0[i];
        }
      if (t->type == HB_COV_HW_FULL)
        for (int j = 0; j < q; j++) {
          c[a + j] = 2.0 * log(t->hw_A[j]);
          sc[a + j] = 0.5;
        }
      break;
    }
    case HB_COV_DIAG: case HB_COV_HW_DIAG: case HB_COV_LKJ:
      for (int j = 0; j < q; j++) {
        c[j] = log(sd0[j]);
        sc[j] = 0.5;
        if (t->type == HB_COV_HW_DIAG) {
          c[q + j] = 2.0 * log(t->hw_A[j]);
          sc[q + j] = 0.5;
        }
      }
      if (t->type == HB_COV_LKJ)
        for (int a = 0; a < q * (q - 1) / 2; a++) sc[q + a] = 0.5;
      break;
    default: /* HB_COV_FACTOR */
      for (int j = 0; j < q; j++) {
        for (int h = 0; h < t->nf; h++) sc[j + h * q] = 0.5 * t->load_sd[j];
        c[q * t->nf + j] = 2.0 * log(sd0[j]);
        sc[q * t->nf + j] = 0.5;
      }
    }
    for (int gg = 0; gg < t->G; gg++) /* centred columns: on the scale of their sd */
      for (int j = 0; j < m->cv.ncent[k]; j++) spread[m->o_eff[k] + (R_xlen_t) q * gg + j] = 0.5 * sd0[j];
    if (m->ueff[k]) /* hierarchically centred: v starts at the shift of u = 0 */
      for (int a = 0; a < t->npair; a++) {
        if (t->pair_l[a] >= m->cv.ncent[k]) continue;
        int j = t->pair_j[a];
        double b = j == m->icpt || g->b_code[j] == HB_PRIOR_NORMAL ? init[j] : exp(init[j]);
        if (g->b_roi && g->b_roi[j] > 0.0) b *= g->b_roi[j] / m->colsum[j];
        if (m->bsum[j]) b *= (double) g->nd / m->colsum[j];
        if (g->use_hs && g->hs[j]) b = 0.0;
        for (int gg = 0; gg < t->G; gg++)
          init[m->o_eff[k] + t->pair_l[a] + (R_xlen_t) q * gg] = t->pair_w[a + (R_xlen_t) t->npair * gg] * b;
      }
  }
  const double *sig2 = hb_list_real(model, "model", "sig2_init", g->S);
  hb_check_positive(sig2, g->S, "model$sig2_init");
  for (int s = 0; s < g->S; s++) {
    init[m->o_sig + s] = 0.5 * log(sig2[s]);
    spread[m->o_sig + s] = 0.35;
  }
  int o = m->o_ch;
  for (int c = 0; c < g->C; c++) {
    const hb_channel *ch = g->ch + c;
    double phi[HB_MAX_TPAR];
    for (int e = 0; e < ch->nest; e++) {
      int s = ch->est_slot[e];
      phi[e] = hb_link_to_unc(ch->link[s], ch->par[s], ch->upper[s]);
    }
    hb_phi_to_w(ch, phi, init + o);
    for (int e = 0; e < ch->nest; e++, o++) spread[o] = 0.5;
    if (ch->mix_K) { /* spread 0.5 on every unconstrained scale, as the slots */
      hb_mix_to_unc(ch, init + o);
      for (int e = 0; e < hb_mix_npar(ch->mix_K); e++, o++) spread[o] = 0.5;
    }
  }
  if (g->mix_pool) { /* the hyperpriors' centres; hb_mix_to_unc() above used them */
    hb_mix_pool_init(g, init + m->o_pool);
    for (int a = 0; a < 4; a++) spread[m->o_pool + a] = 0.5;
  }
  /* log-normal blocks: sd at the model list's start, z = 0 (spread 1) */
  for (int b = 0; b < g->nmult; b++) {
    init[m->o_mu[b]] = log(g->mu[b].sd);
    spread[m->o_mu[b]] = 0.5;
  }
}

/* ---- entry points ------------------------------------------------------------ */

/* list(dim, nout, init, spread) */
SEXP hb_mmm_info(SEXP model, SEXP opts) {
  mmm_ctx *m = mmm_setup(model, opts);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 4));
  SEXP init = PROTECT(Rf_allocVector(REALSXP, m->dim)), spread = PROTECT(Rf_allocVector(REALSXP, m->dim));
  mmm_init(m, model, REAL(init), REAL(spread));
  SET_VECTOR_ELT(out, 0, Rf_ScalarInteger(m->dim));
  SET_VECTOR_ELT(out, 1, Rf_ScalarInteger(m->nout));
  SET_VECTOR_ELT(out, 2, init);
  SET_VECTOR_ELT(out, 3, spread);
  static const char *names[4] = {"dim", "nout", "init", "spread"};
  hb_set_names(out, 4, names);
  UNPROTECT(3);
  return out;
}

/* list(lp, grad, ok, draw): the density at theta, for tests */
SEXP hb_mmm_logp(SEXP model, SEXP opts, SEXP theta) {
  mmm_ctx *m = mmm_setup(model, opts);
  hb_check_vector(theta, "theta", REALSXP, m->dim);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 4));
  SEXP grad = PROTECT(Rf_allocVector(REALSXP, m->dim)), draw = PROTECT(Rf_allocVector(REALSXP, m->nout));
  double lp = R_NegInf;
  int bad = mmm_logp_grad(m, REAL(theta), &lp, REAL(grad));
  mmm_write(m, REAL(theta), REAL(draw));
  SET_VECTOR_ELT(out, 0, Rf_ScalarReal(bad ? R_NegInf : lp));
  SET_VECTOR_ELT(out, 1, grad);
  SET_VECTOR_ELT(out, 2, Rf_ScalarLogical(!bad));
  SET_VECTOR_ELT(out, 3, draw);
  static const char *names[4] = {"lp", "grad", "ok", "draw"};
  hb_set_names(out, 4, names);
  UNPROTECT(3);
  return out;
}

/* One NUTS chain on the MMM density from init (unconstrained): the list of
 * hb_nuts_result() plus `ranef_summary`, the online summaries (mean, sd,
 * 2.5% and 97.5% quantiles) of terms whose draws are not kept. */
SEXP hb_nuts_mmm(SEXP model, SEXP opts, SEXP init, SEXP control) {
  mmm_ctx *m = mmm_setup(model, opts);
  hb_check_vector(init, "init", REALSXP, m->dim);
  hb_nuts_control ctl;
  hb_nuts_read_control(control, m->dim, &ctl);
  hb_nuts_model nm;
  nm.dim = m->dim;
  nm.nout = m->nout;
  nm.ctx = m;
  nm.logp_grad = mmm_logp_grad;
  nm.write = mmm_write;
  SEXP res = PROTECT(hb_nuts_chain(&nm, &ctl, REAL(init)));
  const hb_model *g = m->g;
  SEXP summ = PROTECT(hb_online_summaries(g, m->mom, m->psq, NULL));
  R_xlen_t len = XLENGTH(res);
  SEXP out2 = PROTECT(Rf_allocVector(VECSXP, len + 1)), nm2 = PROTECT(Rf_allocVector(STRSXP, len + 1));
  SEXP nm1 = Rf_getAttrib(res, R_NamesSymbol);
  for (R_xlen_t a = 0; a < len; a++) {
    SET_VECTOR_ELT(out2, a, VECTOR_ELT(res, a));
    SET_STRING_ELT(nm2, a, STRING_ELT(nm1, a));
  }
  SET_VECTOR_ELT(out2, len, summ);
  SET_STRING_ELT(nm2, len, Rf_mkChar("ranef_summary"));
  Rf_setAttrib(out2, R_NamesSymbol, nm2);
  UNPROTECT(4);
  return out2;
}
