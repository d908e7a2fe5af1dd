/* NUTS engine: the no-U-turn sampler with multinomial sampling along the
 * trajectory and the generalized U-turn criterion, plus Stan-style warmup
 * (step-size dual averaging and windowed diagonal or dense metric
 * adaptation). The behaviour follows Stan's base_nuts (2.21 and later):
 *
 * - the trajectory doubles in a random direction; inside a subtree the
 *   proposal is sampled progressively with probability proportional to the
 *   summed weights exp(H0 - H) of each half; when a new subtree is merged
 *   at the top level its proposal replaces the current sample with
 *   probability min(1, W_new / W_old) (biased progressive sampling);
 * - the U-turn criterion uses the summed momenta rho and the sharp momenta
 *   M^{-1} p at both ends of every (sub)tree, with the two extra checks
 *   across merged halves (left half plus the first point of the right half,
 *   right half plus the last point of the left half);
 * - a leapfrog step with H - H0 > 1000, or where the model returns a
 *   non-finite log density or gradient, is divergent and ends the tree;
 * - accept_stat is the mean of min(1, exp(H0 - H)) over all leapfrog points.
 *
 * Models are seen only through hb_nuts_model, the host only through
 * hb_nuts_host (both in nuts.h): random numbers, memory, failures and
 * progress are the host's (R's, in nuts_call.c). No R API here. */
#define USE_FC_LEN_T
#include <math.h>
#include <string.h>
#include <float.h>
#include <stdio.h>
#include <stdarg.h>
#include <R_ext/BLAS.h>
#include "nuts.h"
#include "linalg.h"

#define MAX_DELTA_H 1000.0

/* a point in phase space: position, momentum, gradient and log density,
 * with the sharp momentum ps = M^{-1} p and mg = M^{-1} g kept up to date so
 * that a leapfrog step needs one product with M^{-1} (dense metric), not
 * three */
typedef struct {
  double *q, *p, *g, *ps, *mg;
  double lp;   /* -INFINITY when the model failed at q */
} phase_pt;

/* scratch of one recursion level of build_tree() */
typedef struct {
  double *p_init_end, *ps_init_end, *rho_init;
  double *p_final_beg, *ps_final_beg, *rho_final;
  phase_pt z_final;
} level_ws;

typedef struct {
  const hb_nuts_model *m;
  const hb_nuts_host *host;
  int d, dense, max_depth;
  double *minv;       /* inverse metric: d (diag) or d x d (dense) */
  double *L;          /* dense: lower Cholesky factor of minv */
  double eps;         /* step size of the current transition */
  phase_pt z;         /* the integrator's point */
  double *tmp2;       /* scratch for criterion sums */
  int divergent;
  double n_grad;
  level_ws *ws;       /* ws[1 .. max_depth - 1] */
} nuts_t;

/* ---- small helpers ------------------------------------------------------ */

/* Formats the message and hands it to the host, which does not return. */
static void fail(const hb_nuts_host *h, int sampler, const char *arg, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  h->fail(h->ctx, sampler, arg, msg);
}

static double *dalloc(const hb_nuts_host *h, size_t n) {
  double *x = (double *) h->alloc(h->ctx, n ? n : 1, sizeof(double));
  memset(x, 0, (n ? n : 1) * sizeof(double));
  return x;
}

static void pt_alloc(const hb_nuts_host *h, phase_pt *z, int d) {
  z->q = dalloc(h, (size_t) d);
  z->p = dalloc(h, (size_t) d);
  z->g = dalloc(h, (size_t) d);
  z->ps = dalloc(h, (size_t) d);
  z->mg = dalloc(h, (size_t) d);
  z->lp = -INFINITY;
}

static void pt_copy(phase_pt *dst, const phase_pt *src, int d) {
  size_t b = (size_t) d * sizeof(double);
  memcpy(dst->q, src->q, b);
  memcpy(dst->p, src->p, b);
  memcpy(dst->g, src->g, b);
  memcpy(dst->ps, src->ps, b);
  memcpy(dst->mg, src->mg, b);
  dst->lp = src->lp;
}

static double log_sum_exp(double a, double b) {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

static double dot(const double *a, const double *b, int d) {
  double s = 0.0;
  for (int i = 0; i < d; i++) s += a[i] * b[i];
  return s;
}


/* out = M^{-1} p (the sharp momentum, d tau / d p) */
static void sharp(const nuts_t *s, const double *p, double *out) {
  int d = s->d;
  if (!s->dense) {
    for (int i = 0; i < d; i++) out[i] = s->minv[i] * p[i];
    return;
  }
  double one = 1.0, zero = 0.0;
  int inc = 1;
  F77_CALL(dsymv)("L", &d, &one, s->minv, &d, p, &inc, &zero, out, &inc FCONE);
}

/* log density and gradient at z->q, and mg = M^{-1} g; nonzero (and
 * lp = -Inf) on failure */
static int evaluate(nuts_t *s, phase_pt *z) {
  double lp = -INFINITY;
  int bad = s->m->logp_grad(s->m->ctx, z->q, &lp, z->g);
  s->n_grad += 1.0;
  if (bad || !isfinite(lp)) {
    z->lp = -INFINITY;
    return 1;
  }
  z->lp = lp;
  sharp(s, z->g, z->mg);
  return 0;
}

static double hamiltonian(const nuts_t *s, const phase_pt *z) {
  if (z->lp == -INFINITY) return INFINITY;
  double h = 0.5 * dot(z->p, z->ps, s->d) - z->lp;
  return isnan(h) ? INFINITY : h;
}

/* p ~ N(0, M): diag p_i = u_i / sqrt(minv_i); dense p = L'^{-1} u with
 * minv = L L', so Cov(p) = (L L')^{-1} = M; then ps = M^{-1} p */
static void sample_p(const nuts_t *s, phase_pt *z) {
  for (int i = 0; i < s->d; i++) z->p[i] = s->host->norm_rand(s->host->ctx);
  if (s->dense) {
    hb_trsv_lower_t(s->L, s->d, z->p);
  } else {
    for (int i = 0; i < s->d; i++) z->p[i] /= sqrt(s->minv[i]);
  }
  sharp(s, z->p, z->ps);
}

/* one leapfrog step of size eps (signed); the closing half step of the
 * momentum is skipped when the model fails (the point is divergent). The
 * drift uses M^{-1} p_half = ps + eps/2 M^{-1} g. */
static void leapfrog(nuts_t *s, phase_pt *z, double eps) {
  int d = s->d;
  double h = 0.5 * eps;
  for (int i = 0; i < d; i++) {
    z->p[i] += h * z->g[i];
    z->ps[i] += h * z->mg[i];
    z->q[i] += eps * z->ps[i];
  }
  if (evaluate(s, z) == 0)
    for (int i = 0; i < d; i++) {
      z->p[i] += h * z->g[i];
      z->ps[i] += h * z->mg[i];
    }
}

/* generalized no-U-turn criterion: both sharp end momenta point along rho */
static int no_uturn(int d, const double *ps_minus, const double *ps_plus, const double *rho) {
  return dot(ps_plus, rho, d) > 0 && dot(ps_minus, rho, d) > 0;
}

/* s->tmp2 = a + b */
static const double *sum2(nuts_t *s, const double *a, const double *b) {
  for (int i = 0; i < s->d; i++) s->tmp2[i] = a[i] + b[i];
  return s->tmp2;
}

/* ---- trajectory --------------------------------------------------------- */

/* Builds a subtree of 2^depth leapfrog steps from s->z in direction sign.
 * On return s->z is the outer end; z_propose the subtree's multinomial
 * sample; ps_beg/p_beg the (sharp) momentum of the first point, ps_end/p_end
 * of the last; rho gets the subtree's momenta added; log_sum_weight the
 * log-sum-exp of its weights. Returns 0 when the subtree diverged or made a
 * U-turn (it is then rejected). */
static int build_tree(nuts_t *s, int depth, phase_pt *z_propose, double *ps_beg,
                      double *ps_end, double *rho, double *p_beg, double *p_end,
                      double H0, double sign, int *n_leapfrog, double *log_sum_weight,
                      double *sum_metro_prob) {
  int d = s->d;
  size_t b = (size_t) d * sizeof(double);
  if (depth == 0) {
    leapfrog(s, &s->z, sign * s->eps);
    (*n_leapfrog)++;
    double h = hamiltonian(s, &s->z);
    if (h - H0 > MAX_DELTA_H) s->divergent = 1;
    *log_sum_weight = log_sum_exp(*log_sum_weight, H0 - h);
    *sum_metro_prob += H0 - h > 0 ? 1.0 : exp(H0 - h);
    pt_copy(z_propose, &s->z, d);
    memcpy(ps_beg, s->z.ps, b);
    memcpy(ps_end, ps_beg, b);
    for (int i = 0; i < d; i++) rho[i] += s->z.p[i];
    memcpy(p_beg, s->z.p, b);
    memcpy(p_end, s->z.p, b);
    return !s->divergent;
  }
  level_ws *w = s->ws + depth;

  /* initial half */
  double lsw_init = -INFINITY;
  memset(w->rho_init, 0, b);
  if (!build_tree(s, depth - 1, z_propose, ps_beg, w->ps_init_end, w->rho_init, p_beg,
                  w->p_init_end, H0, sign, n_leapfrog, &lsw_init, sum_metro_prob))
    return 0;

  /* final half */
  double lsw_final = -INFINITY;
  memset(w->rho_final, 0, b);
  if (!build_tree(s, depth - 1, &w->z_final, w->ps_final_beg, ps_end, w->rho_final,
                  w->p_final_beg, p_end, H0, sign, n_leapfrog, &lsw_final, sum_metro_prob))
    return 0;

  /* multinomial sample from the merged subtree */
  double lsw_sub = log_sum_exp(lsw_init, lsw_final);
  *log_sum_weight = log_sum_exp(*log_sum_weight, lsw_sub);
  if (lsw_final > lsw_sub) {
    pt_copy(z_propose, &w->z_final, d);
  } else if (s->host->unif_rand(s->host->ctx) < exp(lsw_final - lsw_sub)) {
    pt_copy(z_propose, &w->z_final, d);
  }

  /* U-turn across the merged subtree, then across the two halves */
  const double *r = sum2(s, w->rho_init, w->rho_final);
  for (int i = 0; i < d; i++) rho[i] += r[i];
  int persist = no_uturn(d, ps_beg, ps_end, r);
  persist = persist && no_uturn(d, ps_beg, w->ps_final_beg, sum2(s, w->rho_init, w->p_final_beg));
  persist = persist && no_uturn(d, w->ps_init_end, ps_end, sum2(s, w->rho_final, w->p_init_end));
  return persist;
}

typedef struct {
  phase_pt z_fwd, z_bck, z_sample, z_propose;
  double *p_ff, *ps_ff, *p_fb, *ps_fb, *p_bf, *ps_bf, *p_bb, *ps_bb;
  double *rho, *rho_fwd, *rho_bck;
} top_ws;

/* One NUTS transition from cur (q, g, lp valid); cur becomes the sample.
 * diag gets accept_stat, stepsize, treedepth, n_leapfrog, divergent, energy. */
static void transition(nuts_t *s, top_ws *t, phase_pt *cur, double *diag) {
  int d = s->d;
  size_t b = (size_t) d * sizeof(double);
  pt_copy(&s->z, cur, d);
  sample_p(s, &s->z);
  double H0 = hamiltonian(s, &s->z);
  pt_copy(&t->z_fwd, &s->z, d);
  pt_copy(&t->z_bck, &s->z, d);
  pt_copy(&t->z_sample, &s->z, d);
  pt_copy(&t->z_propose, &s->z, d);
  memcpy(t->ps_ff, s->z.ps, b);
  memcpy(t->ps_fb, t->ps_ff, b);
  memcpy(t->ps_bf, t->ps_ff, b);
  memcpy(t->ps_bb, t->ps_ff, b);
  memcpy(t->p_ff, s->z.p, b);
  memcpy(t->p_fb, s->z.p, b);
  memcpy(t->p_bf, s->z.p, b);
  memcpy(t->p_bb, s->z.p, b);
  memcpy(t->rho, s->z.p, b);

  double log_sum_weight = 0.0; /* log(exp(H0 - H0)) */
  int n_leapfrog = 0, depth = 0;
  double sum_metro_prob = 0.0;
  s->divergent = 0;

  while (depth < s->max_depth) {
    memset(t->rho_fwd, 0, b);
    memset(t->rho_bck, 0, b);
    int valid;
    double lsw_sub = -INFINITY;
    if (s->host->unif_rand(s->host->ctx) > 0.5) {
      /* forward: the old trajectory becomes the backward subtree */
      pt_copy(&s->z, &t->z_fwd, d);
      memcpy(t->rho_bck, t->rho, b);
      memcpy(t->p_bf, t->p_ff, b);
      memcpy(t->ps_bf, t->ps_ff, b);
      valid = build_tree(s, depth, &t->z_propose, t->ps_fb, t->ps_ff, t->rho_fwd, t->p_fb,
                         t->p_ff, H0, 1.0, &n_leapfrog, &lsw_sub, &sum_metro_prob);
      pt_copy(&t->z_fwd, &s->z, d);
    } else {
      /* backward: the old trajectory becomes the forward subtree */
      pt_copy(&s->z, &t->z_bck, d);
      memcpy(t->rho_fwd, t->rho, b);
      memcpy(t->p_fb, t->p_bb, b);
      memcpy(t->ps_fb, t->ps_bb, b);
      valid = build_tree(s, depth, &t->z_propose, t->ps_bf, t->ps_bb, t->rho_bck, t->p_bf,
                         t->p_bb, H0, -1.0, &n_leapfrog, &lsw_sub, &sum_metro_prob);
      pt_copy(&t->z_bck, &s->z, d);
    }
    if (!valid) break;
    depth++;

    /* biased progressive sampling of the new subtree */
    if (lsw_sub > log_sum_weight) {
      pt_copy(&t->z_sample, &t->z_propose, d);
    } else if (s->host->unif_rand(s->host->ctx) < exp(lsw_sub - log_sum_weight)) {
      pt_copy(&t->z_sample, &t->z_propose, d);
    }
    log_sum_weight = log_sum_exp(log_sum_weight, lsw_sub);

    for (int i = 0; i < d; i++) t->rho[i] = t->rho_bck[i] + t->rho_fwd[i];
    int persist = no_uturn(d, t->ps_bb, t->ps_ff, t->rho);
    persist = persist && no_uturn(d, t->ps_bb, t->ps_fb, sum2(s, t->rho_bck, t->p_fb));
    persist = persist && no_uturn(d, t->ps_bf, t->ps_ff, sum2(s, t->rho_fwd, t->p_bf));
    if (!persist) break;
  }

  pt_copy(cur, &t->z_sample, d);
  diag[0] = sum_metro_prob / (double) n_leapfrog;
  diag[1] = s->eps;
  diag[2] = depth;
  diag[3] = n_leapfrog;
  diag[4] = s->divergent;
  diag[5] = hamiltonian(s, cur);
}

/* ---- warmup ------------------------------------------------------------- */

/* Stan's heuristic: double (or halve) the step size until the acceptance
 * probability of one leapfrog step from cur crosses 0.8. */
static void init_stepsize(nuts_t *s, const phase_pt *cur) {
  if (s->eps == 0 || s->eps > 1e7 || isnan(s->eps)) return;
  const double l08 = log(0.8);
  int direction = 0;
  for (;;) {
    pt_copy(&s->z, cur, s->d);
    sample_p(s, &s->z);
    double H0 = hamiltonian(s, &s->z);
    leapfrog(s, &s->z, s->eps);
    double h = hamiltonian(s, &s->z);
    double delta_H = H0 - h;
    if (direction == 0) {
      direction = delta_H > l08 ? 1 : -1;
      continue;
    }
    if (direction == 1 && !(delta_H > l08)) break;
    if (direction == -1 && !(delta_H < l08)) break;
    s->eps = direction == 1 ? 2 * s->eps : 0.5 * s->eps;
    if (s->eps > 1e7)
      fail(s->host, 1, NULL, "the step size grew beyond 1e7 while initializing: the posterior looks improper (is the log density bounded above and normalizable?)");
    if (s->eps == 0)
      fail(s->host, 1, NULL, "no acceptably small step size was found while initializing: the log density may be discontinuous or its gradient wrong");
  }
  pt_copy(&s->z, cur, s->d);
}

/* Nesterov dual averaging of log(step size) */
typedef struct {
  double counter, s_bar, x_bar, mu, delta, gamma, kappa, t0;
} dual_avg;

static void da_restart(dual_avg *a) { a->counter = a->s_bar = a->x_bar = 0.0; }

static void da_learn(dual_avg *a, double *eps, double adapt_stat) {
  a->counter += 1.0;
  if (adapt_stat > 1) adapt_stat = 1;
  double eta = 1.0 / (a->counter + a->t0);
  a->s_bar = (1.0 - eta) * a->s_bar + eta * (a->delta - adapt_stat);
  double x = a->mu - a->s_bar * sqrt(a->counter) / a->gamma;
  double x_eta = pow(a->counter, -a->kappa);
  a->x_bar = (1.0 - x_eta) * a->x_bar + x_eta * x;
  *eps = exp(x);
}

/* Stan's windowed adaptation schedule */
typedef struct {
  int active;                   /* 0: no metric adaptation (warmup < 20) */
  int num_warmup, init_buffer, term_buffer, base_window;
  int counter, window_size, next_window;
} windows;

static void win_restart(windows *w) {
  w->counter = 0;
  w->window_size = w->base_window;
  w->next_window = w->init_buffer + w->window_size - 1;
}

static void win_setup(windows *w, int num_warmup, int init_buffer, int term_buffer,
                      int base_window) {
  memset(w, 0, sizeof *w);
  if (num_warmup < 20) return;
  w->active = 1;
  w->num_warmup = num_warmup;
  if (init_buffer + base_window + term_buffer > num_warmup) {
    w->init_buffer = (int) (0.15 * num_warmup);
    w->term_buffer = (int) (0.1 * num_warmup);
    w->base_window = num_warmup - (w->init_buffer + w->term_buffer);
  } else {
    w->init_buffer = init_buffer;
    w->term_buffer = term_buffer;
    w->base_window = base_window;
  }
  win_restart(w);
}

static int win_in_window(const windows *w) {
  return w->counter >= w->init_buffer && w->counter < w->num_warmup - w->term_buffer &&
         w->counter != w->num_warmup;
}

static int win_end(const windows *w) {
  return w->counter == w->next_window && w->counter != w->num_warmup;
}

static void win_next(windows *w) {
  int last = w->num_warmup - w->term_buffer - 1;
  if (w->next_window == last) return;
  w->window_size *= 2;
  w->next_window = w->counter + w->window_size;
  if (w->next_window != last) {
    int boundary = w->next_window + 2 * w->window_size;
    if (boundary >= w->num_warmup - w->term_buffer) w->next_window = last;
  }
}

/* Welford accumulation of positions (diagonal or full covariance) */
typedef struct {
  int d, dense;
  double n;
  double *mean, *m2, *delta;
} welford;

static void wf_init(const hb_nuts_host *h, welford *e, int d, int dense) {
  e->d = d;
  e->dense = dense;
  e->n = 0;
  e->mean = dalloc(h, (size_t) d);
  e->delta = dalloc(h, (size_t) d);
  e->m2 = dalloc(h, dense ? (size_t) d * d : (size_t) d);
}

static void wf_restart(welford *e) {
  e->n = 0;
  memset(e->mean, 0, (size_t) e->d * sizeof(double));
  memset(e->m2, 0, (e->dense ? (size_t) e->d * e->d : (size_t) e->d) * sizeof(double));
}

static void wf_add(welford *e, const double *q) {
  int d = e->d;
  e->n += 1;
  for (int i = 0; i < d; i++) {
    e->delta[i] = q[i] - e->mean[i];
    e->mean[i] += e->delta[i] / e->n;
  }
  if (!e->dense) {
    for (int i = 0; i < d; i++) e->m2[i] += e->delta[i] * (q[i] - e->mean[i]);
    return;
  }
  for (int j = 0; j < d; j++) {
    double a = q[j] - e->mean[j];
    double *col = e->m2 + (size_t) j * d;
    for (int i = 0; i < d; i++) col[i] += e->delta[i] * a;
  }
}

/* Regularized estimate (n/(n+5)) S + 1e-3 (5/(n+5)) I into a candidate
 * metric; the metric (and its Cholesky factor) is replaced only when the
 * candidate is finite and positive definite. Returns 1 when replaced. */
static int wf_update_metric(const welford *e, nuts_t *s, double *cand, double *cand_L) {
  int d = e->d;
  double n = e->n;
  double a = n / (n + 5.0), c = 1e-3 * (5.0 / (n + 5.0));
  if (n < 2) return 0;
  if (!e->dense) {
    for (int i = 0; i < d; i++) {
      cand[i] = a * e->m2[i] / (n - 1.0) + c;
      if (!(cand[i] > 0 && cand[i] <= DBL_MAX)) return 0;
    }
    memcpy(s->minv, cand, (size_t) d * sizeof(double));
    return 1;
  }
  for (int j = 0; j < d; j++)
    for (int i = 0; i < d; i++) {
      /* symmetrize: m2 is accumulated with delta_i (q_j - mean_j) */
      double v = 0.5 * (e->m2[i + (size_t) j * d] + e->m2[j + (size_t) i * d]) / (n - 1.0);
      cand[i + (size_t) j * d] = a * v + (i == j ? c : 0.0);
      if (!isfinite(cand[i + (size_t) j * d])) return 0;
    }
  memcpy(cand_L, cand, (size_t) d * d * sizeof(double));
  if (hb_chol(cand_L, d) != 0) return 0;
  memcpy(s->minv, cand, (size_t) d * d * sizeof(double));
  memcpy(s->L, cand_L, (size_t) d * d * sizeof(double));
  return 1;
}


/* ---- driver ------------------------------------------------------------- */

int hb_nuts_nsave(const hb_nuts_control *ctl) {
  if (ctl->iter <= ctl->warmup || ctl->thin < 1) return 0;
  return (ctl->iter - ctl->warmup + ctl->thin - 1) / ctl->thin;
}

/* The sampler's state and workspace for dimension m->dim: the metric (given
 * or unit), the integrator's point, one scratch set per tree depth, and the
 * top-level trajectory. */
static void sampler_alloc(nuts_t *s, top_ws *t, const hb_nuts_model *m, const hb_nuts_control *ctl) {
  const hb_nuts_host *h = &ctl->host;
  int d = m->dim;
  memset(s, 0, sizeof *s);
  s->m = m;
  s->host = h;
  s->d = d;
  s->dense = ctl->dense != 0;
  s->max_depth = ctl->max_treedepth;
  size_t msz = s->dense ? (size_t) d * d : (size_t) d;
  s->minv = dalloc(h, msz);
  s->L = s->dense ? dalloc(h, msz) : NULL;
  if (ctl->inv_metric) {
    memcpy(s->minv, ctl->inv_metric, msz * sizeof(double));
  } else if (s->dense) {
    for (int i = 0; i < d; i++) s->minv[i + (size_t) i * d] = 1.0;
  } else {
    for (int i = 0; i < d; i++) s->minv[i] = 1.0;
  }
  if (s->dense) {
    memcpy(s->L, s->minv, msz * sizeof(double));
    if (hb_chol(s->L, d) != 0) fail(h, 0, "inv_metric", "must be positive definite");
  }
  s->tmp2 = dalloc(h, (size_t) d);
  pt_alloc(h, &s->z, d);
  s->ws = (level_ws *) h->alloc(h->ctx, (size_t) s->max_depth, sizeof(level_ws));
  for (int k = 1; k < s->max_depth; k++) {
    level_ws *w = s->ws + k;
    w->p_init_end = dalloc(h, (size_t) d);
    w->ps_init_end = dalloc(h, (size_t) d);
    w->rho_init = dalloc(h, (size_t) d);
    w->p_final_beg = dalloc(h, (size_t) d);
    w->ps_final_beg = dalloc(h, (size_t) d);
    w->rho_final = dalloc(h, (size_t) d);
    pt_alloc(h, &w->z_final, d);
  }
  pt_alloc(h, &t->z_fwd, d);
  pt_alloc(h, &t->z_bck, d);
  pt_alloc(h, &t->z_sample, d);
  pt_alloc(h, &t->z_propose, d);
  double **vecs[] = {&t->p_ff, &t->ps_ff, &t->p_fb, &t->ps_fb, &t->p_bf, &t->ps_bf,
                     &t->p_bb, &t->ps_bb, &t->rho, &t->rho_fwd, &t->rho_bck};
  for (size_t k = 0; k < sizeof vecs / sizeof vecs[0]; k++) *vecs[k] = dalloc(h, (size_t) d);
}

/* Warmup: step-size dual averaging and the windowed metric estimate. */
typedef struct {
  dual_avg da;
  windows win;
  welford est;
  double *cand, *cand_L;
} adaptation;

static void adapt_init(adaptation *a, nuts_t *s, const hb_nuts_control *ctl, double eps0) {
  const hb_nuts_host *h = s->host;
  size_t msz = s->dense ? (size_t) s->d * s->d : (size_t) s->d;
  a->da.mu = log(10 * eps0);
  a->da.delta = ctl->adapt_delta;
  a->da.gamma = ctl->gamma > 0 ? ctl->gamma : 0.05;
  a->da.kappa = ctl->kappa > 0 ? ctl->kappa : 0.75;
  a->da.t0 = ctl->t0 > 0 ? ctl->t0 : 10.0;
  da_restart(&a->da);
  win_setup(&a->win, ctl->warmup, ctl->init_buffer > 0 ? ctl->init_buffer : 75,
            ctl->term_buffer > 0 ? ctl->term_buffer : 50,
            ctl->base_window > 0 ? ctl->base_window : 25);
  memset(&a->est, 0, sizeof a->est); /* used only when win.active; zeroed for the compiler */
  a->cand = a->cand_L = NULL;
  if (a->win.active) {
    wf_init(h, &a->est, s->d, s->dense);
    a->cand = dalloc(h, msz);
    a->cand_L = s->dense ? dalloc(h, msz) : NULL;
  }
}

/* After warmup iteration it with acceptance statistic accept_stat. */
static void adapt_step(adaptation *a, nuts_t *s, phase_pt *cur, int it, int warmup, double accept_stat) {
  da_learn(&a->da, &s->eps, accept_stat);
  if (a->win.active) {
    int update = 0;
    if (win_in_window(&a->win)) wf_add(&a->est, cur->q);
    if (win_end(&a->win)) {
      win_next(&a->win);
      if (wf_update_metric(&a->est, s, a->cand, a->cand_L)) sharp(s, cur->g, cur->mg);
      wf_restart(&a->est);
      update = 1;
    }
    a->win.counter++;
    if (update) {
      init_stepsize(s, cur);
      a->da.mu = log(10 * s->eps);
      da_restart(&a->da);
    }
  }
  if (it == warmup - 1) s->eps = exp(a->da.x_bar);
}

int hb_nuts_run(const hb_nuts_model *m, const hb_nuts_control *ctl, double *theta,
                hb_nuts_output *out) {
  int d = m->dim;
  const hb_nuts_host *h = &ctl->host;
  if (d < 1) fail(h, 0, "model", "must have at least one parameter");
  if (ctl->max_treedepth < 1 || ctl->max_treedepth > HB_NUTS_MAX_DEPTH)
    fail(h, 0, "max_treedepth", "must be in [1, %d]", HB_NUTS_MAX_DEPTH);
  nuts_t S, *s = &S;
  top_ws T, *t = &T;
  sampler_alloc(s, t, m, ctl);

  phase_pt cur;
  pt_alloc(h, &cur, d);
  memcpy(cur.q, theta, (size_t) d * sizeof(double));
  if (evaluate(s, &cur) != 0)
    fail(h, 1, NULL, "the log density or its gradient is not finite at the initial point");

  int iter = ctl->iter, warmup = ctl->warmup, thin = ctl->thin > 0 ? ctl->thin : 1;
  int nsave = hb_nuts_nsave(ctl);
  int adapt = warmup > 0;

  /* step size: given, or Stan's heuristic from the given value (or 1) */
  double eps0 = ctl->stepsize > 0 ? ctl->stepsize : 1.0;
  s->eps = eps0;
  if (adapt || !(ctl->stepsize > 0)) init_stepsize(s, &cur);
  adaptation ad;
  adapt_init(&ad, s, ctl, eps0);

  double diag[HB_NUTS_NDIAG];
  double *wbuf = dalloc(h, (size_t) (m->nout > 0 ? m->nout : 1));
  int saved = 0;
  for (int it = 0; it < iter; it++) {
    transition(s, t, &cur, diag);
    if (it < warmup) {
      adapt_step(&ad, s, &cur, it, warmup, diag[0]);
    } else if ((it - warmup) % thin == 0 && saved < nsave) {
      m->write(m->ctx, cur.q, wbuf);
      for (int v = 0; v < m->nout; v++) out->draws[saved + (size_t) nsave * v] = wbuf[v];
      for (int k = 0; k < HB_NUTS_NDIAG; k++) out->diag[saved + (size_t) nsave * k] = diag[k];
      saved++;
    }
    if (h->iteration) h->iteration(h->ctx, it + 1, iter, warmup);
  }

  size_t msz = s->dense ? (size_t) d * d : (size_t) d;
  memcpy(theta, cur.q, (size_t) d * sizeof(double));
  if (out->theta) memcpy(out->theta, cur.q, (size_t) d * sizeof(double));
  if (out->inv_metric) memcpy(out->inv_metric, s->minv, msz * sizeof(double));
  out->stepsize = s->eps;
  out->n_grad = s->n_grad;
  return 0;
}
