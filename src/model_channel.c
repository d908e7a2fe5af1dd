/* Transformed media of one channel: saturation(adstock(x)) at given
 * parameters, adstock restarting at each panel; with derivatives with respect
 * to the estimated parameters for the NUTS density; and the design columns
 * that multiply a channel's transformed media. */
#include <string.h>
#include "model.h"

/* out[0..n) = saturation(adstock(x)) at the channel's parameters par[0..3]
 * (slots: adstock 1-2, saturation 1-2; a mixture's components after them),
 * adstock restarting at each panel. */
void hb_channel_transform(const hb_channel *ch, const double *par, const double *x,
                          R_xlen_t n, const R_xlen_t *pstart, const int *tpos, int npanel,
                          double *out, double *wbuf, double *tmp) {
  if (ch->ad_type == 0) {
    memcpy(out, x, (size_t) n * sizeof(double));
  } else {
    if (ch->max_lag == NA_INTEGER) { /* time positions: gaps decay */
      hb_geometric_panels(x, pstart, npanel, tpos, par[0], ch->normalize, out, NULL);
    } else {
      hb_adstock_weights(ch->ad_type, par, ch->max_lag, ch->normalize, wbuf, NULL);
      for (int k = 0; k < npanel; k++) {
        R_xlen_t s = pstart[k], len = pstart[k + 1] - s;
        hb_lag_convolve_at(x + s, tpos ? tpos + s : NULL, len, wbuf, ch->max_lag, out + s);
      }
    }
  }
  if (ch->sat_type == HB_SAT_MICHAELIS_MENTEN) {
    double mm[2] = {1.0, par[3]}; /* vmax = 1: the coefficient carries the scale */
    hb_saturation(ch->sat_type, mm, out, n, out, NULL);
  } else if (ch->sat_type == HB_SAT_HILL_MIXTURE) {
    /* the kernel accumulates into its output: the adstocked input moves to tmp */
    memcpy(tmp, out, (size_t) n * sizeof(double));
    hb_saturation_mixture(ch->mix_K, HB_MIX_PAR(par), tmp, n, out, NULL, tmp + n);
  } else if (ch->sat_type != 0) {
    hb_saturation(ch->sat_type, par + 2, out, n, out, NULL);
  }
}

/* The adstock columns of dm: the derivative of the adstocked input in each
 * estimated adstock slot, times dx, the saturation's slope there (NULL: no
 * saturation). */
static void adstock_columns(const hb_channel_ws *m, const hb_channel *ch, const double *dx, double *dm) {
  const R_xlen_t n = m->g->nd; /* the data's rows; scratch and dm columns are g->n long */
  for (int e = 0; e < ch->nest; e++) {
    int s = ch->est_slot[e];
    if (s >= 2) continue;
    double *d = dm + (R_xlen_t) e * m->g->n;
    const double *da = m->dad + (R_xlen_t) (ch->max_lag == NA_INTEGER ? 0 : s) * n;
    /* where the adstocked input does not move, the Hill slope at zero can
     * be infinite (slope < 1): the product is zero, not NaN */
    if (dx) hb_vmul_nz(da, dx, d, n);
    else memcpy(d, da, (size_t) n * sizeof(double));
  }
}

/* A mixture channel's saturation (hb_saturation_mixture()) of the adstocked
 * a into out; with dm, its adstock columns and then the 3K component
 * columns (halfsat, slope, weight). */
static int mixture_eval(hb_channel_ws *m, const hb_channel *ch, const double *par, const double *a,
                        double *out, double *dm) {
  const R_xlen_t n = m->g->nd, ld = m->g->n; /* the data's rows; column length */
  const int K = ch->mix_K;
  double *dptr[3 * HB_MAX_MIX + 1];
  /* the components' derivatives straight into their columns of dm, d / d
   * input into scratch */
  for (int q = 0; q < 3 * K && dm; q++) dptr[q] = dm + (R_xlen_t) (ch->nest + q) * ld;
  dptr[3 * K] = m->dsat;
  hb_saturation_mixture(K, HB_MIX_PAR(par), a, n, out, dm ? dptr : NULL, m->tmp);
  if (!hb_all_finite(out, n)) return 1;
  if (!dm) return 0;
  adstock_columns(m, ch, dptr[3 * K], dm);
  return 0;
}

/* Channel c at parameters par: writes the media column (g->media) and, when
 * dm is given, the derivative of the column with respect to each estimated
 * parameter e (constrained scale) in dm[e * n + i]. Nonzero when some value
 * is not finite. */
static int eval_rows(hb_channel_ws *m, int c, const double *par, double *dm) {
  hb_model *g = m->g;
  const hb_channel *ch = g->ch + c;
  const R_xlen_t n = g->nd, ld = g->n; /* the data's rows; columns of dm are g->n long */
  const double *x = g->media_raw + (R_xlen_t) c * ld;
  double *out = g->media + (R_xlen_t) c * ld, *a = m->ad;
  int need_dad = 0;
  for (int e = 0; e < ch->nest; e++) need_dad |= ch->est_slot[e] < 2;
  need_dad = dm && ch->ad_type && need_dad;
  int nad = ch->ad_type ? hb_adstock_npar(ch->ad_type) : 0;
  /* adstock and, when needed, its derivatives dad[slot * n + i] */
  if (ch->ad_type == 0) {
    memcpy(a, x, (size_t) n * sizeof(double));
  } else {
    if (ch->max_lag == NA_INTEGER) {
      hb_geometric_panels(x, g->pstart, g->npanel, g->tpos, par[0], ch->normalize, a, need_dad ? m->dad : NULL);
    } else {
      hb_adstock_weights(ch->ad_type, par, ch->max_lag, ch->normalize, m->wbuf, need_dad ? m->dwbuf : NULL);
      for (int k = 0; k < g->npanel; k++) {
        R_xlen_t s = g->pstart[k], len = g->pstart[k + 1] - s;
        const int *tp = g->tpos ? g->tpos + s : NULL;
        hb_lag_convolve_at(x + s, tp, len, m->wbuf, ch->max_lag, a + s);
        if (need_dad)
          for (int q = 0; q < nad; q++)
            hb_lag_convolve_at(x + s, tp, len, m->dwbuf + (R_xlen_t) q * (ch->max_lag + 1), ch->max_lag,
                            m->dad + (R_xlen_t) q * n + s);
      }
    }
  }
  if (ch->sat_type == HB_SAT_HILL_MIXTURE) return mixture_eval(m, ch, par, a, out, dm);
  /* saturation; derivatives: each parameter, then d / d input; those of
   * estimated slots straight into their columns of dm, the others (and
   * d / d input) into scratch */
  double *dptr[3] = {m->dsat, m->dsat + n, m->dsat + 2 * n};
  double mm[2] = {1.0, par[3]}; /* Michaelis-Menten: vmax = 1 */
  const double *spar = ch->sat_type == HB_SAT_MICHAELIS_MENTEN ? mm : par + 2;
  int nsp = ch->sat_type ? hb_saturation_npar(ch->sat_type) : 0;
  for (int e = 0; e < ch->nest && dm && ch->sat_type; e++) {
    int s = ch->est_slot[e];
    if (s >= 2) dptr[ch->sat_type == HB_SAT_MICHAELIS_MENTEN ? 1 : s - 2] = dm + (R_xlen_t) e * ld;
  }
  if (ch->sat_type) hb_saturation(ch->sat_type, spar, a, n, out, dm ? dptr : NULL);
  else memcpy(out, a, (size_t) n * sizeof(double));
  if (!hb_all_finite(out, n)) return 1;
  if (!dm) return 0;
  const double *dx = ch->sat_type ? dptr[nsp] : NULL;
  adstock_columns(m, ch, dx, dm); /* adstock: through the saturation's input */
  return 0;
}

/* Channel c at parameters par: writes the media column (g->media) and, when
 * dm is given, the derivative of the column with respect to each estimated
 * parameter e (constrained scale) in dm[e * n + i]: the data's rows, then
 * the lift rows. Nonzero when some value is not finite. */
int hb_channel_eval(hb_channel_ws *m, int c, const double *par, double *dm) {
  hb_model *g = m->g;
  if (eval_rows(m, c, par, dm)) return 1;
  hb_channel_lift(g, c, par, g->media + (R_xlen_t) c * g->n, dm, m->wbuf, m->dwbuf);
  hb_mult_apply(g, c, g->media + (R_xlen_t) c * g->n, dm, dm ? hb_channel_ncol(g->ch + c) : 0);
  return 0;
}

int hb_mult_block(const hb_model *g, int c) {
  for (int b = 0; b < g->nmult; b++)
    if (g->mu[b].c == c) return b;
  return -1;
}

void hb_mult_rows(hb_model *g, int c) {
  int b = hb_mult_block(g, c);
  if (b < 0) return;
  const hb_mult *mu = g->mu + b;
  double *m = g->mult_row + (R_xlen_t) c * g->n;
  for (R_xlen_t i = 0; i < g->n; i++) m[i] = 1.0; /* rows without a level */
  for (int a = 0; a < mu->G; a++) { /* one exp per level, not per row */
    const double f = exp(mu->v[a]);
    for (R_xlen_t r = mu->start[a]; r < mu->start[a + 1]; r++) m[mu->ord[r]] = f;
  }
}

void hb_mult_apply(const hb_model *g, int c, double *col, double *dm, int ncol) {
  if (hb_mult_block(g, c) < 0) return; /* the other channels' multipliers are 1 */
  const double *f = g->mult_row + (R_xlen_t) c * g->n;
  hb_vmul(f, col, col, g->n);
  for (int e = 0; e < ncol; e++) hb_vmul(f, dm + (R_xlen_t) e * g->n, dm + (R_xlen_t) e * g->n, g->n);
}

/* The steady-state multiplier of spend, W = the sum of channel ch's adstock
 * weights at par, and (with dwbuf) dW / d adstock slot 0 and 1 in dW. */
static double steady_weight(const hb_channel *ch, const double *par, double *wbuf, double *dwbuf, double *dW) {
  dW[0] = dW[1] = 0.0;
  if (ch->ad_type == HB_ADSTOCK_NONE || ch->normalize) return 1.0; /* weights sum to 1 */
  if (ch->max_lag == NA_INTEGER) { /* geometric, infinite memory: 1 / (1 - decay) */
    double v = 1.0 / (1.0 - par[0]);
    dW[0] = v * v;
    return v;
  }
  const int L = ch->max_lag, np = hb_adstock_npar(ch->ad_type);
  hb_adstock_weights(ch->ad_type, par, L, 0, wbuf, dwbuf);
  double W = 0.0;
  for (int l = 0; l <= L; l++) {
    W += wbuf[l];
    for (int q = 0; q < np && dwbuf; q++) dW[q] += dwbuf[q * (L + 1) + l];
  }
  return W;
}

void hb_channel_lift(const hb_model *g, int c, const double *par, double *out, double *dm,
                     double *wbuf, double *dwbuf) {
  if (!g->nlift) return;
  const hb_channel *ch = g->ch + c;
  const R_xlen_t n = g->n, nd = g->nd;
  const int ncol = dm ? hb_channel_ncol(ch) : 0, K = ch->mix_K;
  double dW[2];
  double W = steady_weight(ch, par, wbuf, dm ? dwbuf : NULL, dW);
  /* the saturation at the two steady-state inputs: values, then the
   * derivative arrays of the kernel (parameters, then d / d input) */
  double x2[2], v2[2], dbuf[2 * (3 * HB_MAX_MIX + 1)], tmp[2];
  double *dptr[3 * HB_MAX_MIX + 1];
  const int nd_arr = K ? 3 * K + 1 : 3;
  for (int q = 0; q < nd_arr; q++) dptr[q] = dbuf + 2 * q;
  double mm[2] = {1.0, par[3]}; /* Michaelis-Menten: vmax = 1 */
  const double *spar = ch->sat_type == HB_SAT_MICHAELIS_MENTEN ? mm : par + 2;
  const int nsp = K ? 3 * K : (ch->sat_type ? hb_saturation_npar(ch->sat_type) : 0);
  for (int k = 0; k < g->nlift; k++) {
    R_xlen_t i = nd + k;
    for (int e = 0; e < ncol; e++) dm[(R_xlen_t) e * n + i] = 0.0;
    if (g->lift_c[k] != c) {
      out[i] = 0.0;
      continue;
    }
    const double a[2] = {g->lift_a0[k], g->lift_a1[k]};
    x2[0] = W * a[0];
    x2[1] = W * a[1];
    if (K) hb_saturation_mixture(K, HB_MIX_PAR(par), x2, 2, v2, dm ? dptr : NULL, tmp);
    else if (ch->sat_type) hb_saturation(ch->sat_type, spar, x2, 2, v2, dm ? dptr : NULL);
    else {
      v2[0] = x2[0];
      v2[1] = x2[1];
      dbuf[0] = dbuf[1] = 1.0; /* d / d input of the identity */
    }
    out[i] = v2[1] - v2[0];
    if (!dm) continue;
    const double *dx = ch->sat_type ? dptr[nsp] : dbuf;
    for (int e = 0; e < ch->nest; e++) {
      int s = ch->est_slot[e];
      double d;
      if (s < 2) { /* adstock: through W; a zero input does not move (and its slope can be infinite) */
        d = 0.0;
        for (int h = 0; h < 2; h++)
          if (a[h] > 0.0) d += (h ? 1.0 : -1.0) * dx[h] * a[h] * dW[s];
      } else {
        const double *ds = dptr[ch->sat_type == HB_SAT_MICHAELIS_MENTEN ? 1 : s - 2];
        d = ds[1] - ds[0];
      }
      dm[(R_xlen_t) e * n + i] = d;
    }
    for (int q = 0; q < 3 * K; q++) dm[(R_xlen_t) (ch->nest + q) * n + i] = dptr[q][1] - dptr[q][0];
  }
}

void hb_refresh_channel_columns(hb_model *g, int c) {
  const double *m = g->media + (R_xlen_t) c * g->n;
  for (int j = 0; j < g->p; j++) {
    if (g->xc[j] != c) continue;
    const double *s = g->Xs + (R_xlen_t) j * g->n;
    hb_vmul(s, m, g->Xcol[j], g->n);
  }
  for (int k = 0; k < g->K; k++) {
    hb_term *t = g->t + k;
    for (int j = 0; j < t->q; j++) {
      if (t->zc[j] != c || t->xmap[j] >= 0) continue; /* shared columns are done */
      const double *s = t->Zs + (R_xlen_t) j * g->n;
      hb_vmul(s, m, t->Zcol[j], g->n);
    }
  }
}

void hb_channel_ws_alloc(hb_channel_ws *ws, hb_model *g, int maxlag) {
  const R_xlen_t n = g->n;
  ws->g = g;
  ws->wbuf = (double *) R_alloc((size_t) maxlag + 1, sizeof(double));
  ws->dwbuf = (double *) R_alloc((size_t) 2 * (maxlag + 1), sizeof(double));
  ws->ad = (double *) R_alloc((size_t) n, sizeof(double));
  ws->dad = (double *) R_alloc((size_t) 2 * n, sizeof(double));
  int kmax = 1; /* the largest mixture: its 3K + 1 derivative arrays */
  for (int c = 0; c < g->C; c++)
    if (g->ch[c].mix_K > kmax) kmax = g->ch[c].mix_K;
  ws->dsat = (double *) R_alloc((size_t) (3 * kmax + 1) * n, sizeof(double));
  ws->tmp = (double *) R_alloc((size_t) 2 * n, sizeof(double));
}
