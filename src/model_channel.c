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
    if (ch->max_lag != NA_INTEGER)
      hb_adstock_weights(ch->ad_type, par, ch->max_lag, ch->normalize, wbuf, NULL);
    for (int k = 0; k < npanel; k++) {
      R_xlen_t s = pstart[k], len = pstart[k + 1] - s;
      const int *tp = tpos ? tpos + s : NULL; /* time positions: gaps decay */
      if (ch->max_lag == NA_INTEGER)
        hb_geometric_recursion_at(x + s, tp, len, par[0], ch->normalize, out + s, NULL);
      else
        hb_lag_convolve_at(x + s, tp, len, wbuf, ch->max_lag, out + s);
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
  const R_xlen_t n = m->g->n;
  for (int e = 0; e < ch->nest; e++) {
    int s = ch->est_slot[e];
    if (s >= 2) continue;
    double *d = dm + (R_xlen_t) e * n;
    const double *da = m->dad + (R_xlen_t) (ch->max_lag == NA_INTEGER ? 0 : s) * n;
    /* where the adstocked input does not move, the Hill slope at zero can
     * be infinite (slope < 1): the product is zero, not NaN */
    if (dx) for (R_xlen_t i = 0; i < n; i++) d[i] = da[i] == 0.0 ? 0.0 : dx[i] * da[i];
    else memcpy(d, da, (size_t) n * sizeof(double));
  }
}

/* A mixture channel's saturation (hb_saturation_mixture()) of the adstocked
 * a into out; with dm, its adstock columns and then the 3K component
 * columns (halfsat, slope, weight). */
static int mixture_eval(hb_channel_ws *m, const hb_channel *ch, const double *par, const double *a,
                        double *out, double *dm) {
  const R_xlen_t n = m->g->n;
  const int K = ch->mix_K;
  double *dptr[3 * HB_MAX_MIX + 1];
  for (int q = 0; q <= 3 * K; q++) dptr[q] = m->dsat + (R_xlen_t) q * n;
  hb_saturation_mixture(K, HB_MIX_PAR(par), a, n, out, dm ? dptr : NULL, m->tmp);
  for (R_xlen_t i = 0; i < n; i++)
    if (!R_FINITE(out[i])) return 1;
  if (!dm) return 0;
  adstock_columns(m, ch, dptr[3 * K], dm);
  memcpy(dm + (R_xlen_t) ch->nest * n, m->dsat, (size_t) 3 * K * n * sizeof(double));
  return 0;
}

/* Channel c at parameters par: writes the media column (g->media) and, when
 * dm is given, the derivative of the column with respect to each estimated
 * parameter e (constrained scale) in dm[e * n + i]. Nonzero when some value
 * is not finite. */
int hb_channel_eval(hb_channel_ws *m, int c, const double *par, double *dm) {
  hb_model *g = m->g;
  const hb_channel *ch = g->ch + c;
  const R_xlen_t n = g->n;
  const double *x = g->media_raw + (R_xlen_t) c * n;
  double *out = g->media + (R_xlen_t) c * n, *a = m->ad;
  int need_dad = 0;
  for (int e = 0; e < ch->nest; e++) need_dad |= ch->est_slot[e] < 2;
  need_dad = dm && ch->ad_type && need_dad;
  int nad = ch->ad_type ? hb_adstock_npar(ch->ad_type) : 0;
  /* adstock and, when needed, its derivatives dad[slot * n + i] */
  if (ch->ad_type == 0) {
    memcpy(a, x, (size_t) n * sizeof(double));
  } else {
    if (ch->max_lag != NA_INTEGER)
      hb_adstock_weights(ch->ad_type, par, ch->max_lag, ch->normalize, m->wbuf, need_dad ? m->dwbuf : NULL);
    for (int k = 0; k < g->npanel; k++) {
      R_xlen_t s = g->pstart[k], len = g->pstart[k + 1] - s;
      const int *tp = g->tpos ? g->tpos + s : NULL;
      if (ch->max_lag == NA_INTEGER) {
        hb_geometric_recursion_at(x + s, tp, len, par[0], ch->normalize, a + s, need_dad ? m->dad + s : NULL);
      } else {
        hb_lag_convolve_at(x + s, tp, len, m->wbuf, ch->max_lag, a + s);
        if (need_dad)
          for (int q = 0; q < nad; q++)
            hb_lag_convolve_at(x + s, tp, len, m->dwbuf + (R_xlen_t) q * (ch->max_lag + 1), ch->max_lag,
                            m->dad + (R_xlen_t) q * n + s);
      }
    }
  }
  if (ch->sat_type == HB_SAT_HILL_MIXTURE) return mixture_eval(m, ch, par, a, out, dm);
  /* saturation; derivatives: each parameter, then d / d input */
  double *dptr[3] = {m->dsat, m->dsat + n, m->dsat + 2 * n};
  double mm[2] = {1.0, par[3]}; /* Michaelis-Menten: vmax = 1 */
  const double *spar = ch->sat_type == HB_SAT_MICHAELIS_MENTEN ? mm : par + 2;
  int nsp = ch->sat_type ? hb_saturation_npar(ch->sat_type) : 0;
  if (ch->sat_type) hb_saturation(ch->sat_type, spar, a, n, out, dm ? dptr : NULL);
  else memcpy(out, a, (size_t) n * sizeof(double));
  for (R_xlen_t i = 0; i < n; i++)
    if (!R_FINITE(out[i])) return 1;
  if (!dm) return 0;
  const double *dx = ch->sat_type ? dptr[nsp] : NULL;
  adstock_columns(m, ch, dx, dm); /* adstock: through the saturation's input */
  for (int e = 0; e < ch->nest; e++) {
    int s = ch->est_slot[e];
    if (s >= 2)
      memcpy(dm + (R_xlen_t) e * n, dptr[ch->sat_type == HB_SAT_MICHAELIS_MENTEN ? 1 : s - 2], (size_t) n * sizeof(double));
  }
  return 0;
}

void hb_refresh_channel_columns(hb_model *g, int c) {
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
