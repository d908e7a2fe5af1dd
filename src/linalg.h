/* Dense linear algebra kernels (linalg.c): plain C, no R objects, so that
 * the NUTS engine can use them without the R API. */
#ifndef HBMMM_LINALG_H
#define HBMMM_LINALG_H

#include <stddef.h>
#include "rng.h"

/* ---- dense linear algebra and draws (linalg.c) ------------------------ */
/* Column-major d x d, no allocation; draws come from rng (rng.h: NULL is
 * R's stream, the caller bracketing with GetRNGstate/PutRNGstate), main
 * thread only. Contracts in linalg.c. */
/* 0, or j >= 1 when not PD at column j; L in the lower triangle, upper zeroed */
int hb_chol(double *A, int d);
void hb_trsv_lower(const double *L, int d, double *b);     /* b <- L^{-1} b */
void hb_trsv_lower_t(const double *L, int d, double *b);   /* b <- L'^{-1} b */
void hb_chol_solve(const double *L, int d, double *b);     /* b <- (L L')^{-1} b */
void hb_chol_inverse(const double *L, int d, double *out); /* out <- (L L')^{-1} */
double hb_log_det_chol(const double *L, int d);            /* log det(L L') */
/* W <- L^{-1} W (d x m), then G (m x m, lower triangle) += W' W: the
 * Schur-complement term R' (L L')^{-1} R of a block elimination */
void hb_schur_acc(const double *L, int d, double *W, int m, double *G);
/* out ~ N(P^{-1} b, P^{-1}) given L = chol(P); mean (NULL or d) <- P^{-1} b */
void hb_mvn_chol_draw(hb_rng *rng, const double *L, const double *b, int d, double *out,
                      double *mean);
/* the same from P itself (overwritten by L); work: NULL or d, gets the mean;
 * nonzero (no draw) when P is not PD */
int hb_mvn_precision_draw(hb_rng *rng, double *P, const double *b, int d, double *out,
                          double *work);
int hb_mvn_precision_mean(double *P, const double *b, int d, double *out);
/* Sigma ~ IW(df, S), E = S / (df - d - 1); work: 2 d^2, first d^2 gets
 * chol(Sigma); 0, -1 (df <= d - 1), > 0 (S not PD) or -2 (underflow) */
int hb_inv_wishart_draw(hb_rng *rng, double df, const double *S, int d, double *out,
                        double *work);
double hb_inv_gamma_draw(hb_rng *rng, double shape, double scale); /* 1 / Gamma(shape, 1 / scale) */
/* N(m, s^2) truncated to [0, Inf) */
double hb_trunc_normal_pos_draw(hb_rng *rng, double m, double s);
/* one slice-sampling update of b > 0 from N(b; m, s^2) x lognormal(b; ml, sl) */
double hb_lognormal_normal_draw(hb_rng *rng, double m, double s, double ml, double sl, double b0);
void hb_cov_to_sd_cor(const double *Sigma, int d, double *sd, double *cor);

/* ---- batched kernels over group levels (linalg_lanes.c) ---------------- */
/* Eight levels at a time, one per SIMD lane, for q <= HB_LANE_QMAX and at
 * most HB_LANE_MMAX right-hand columns (hb_lanes_fit()); callers fall back
 * to the one-level kernels above otherwise. Level l's block starts at
 * L + l * stride; its q x q matrix H_l (column-major) at offset hoff. */
#define HB_LANES 8
#define HB_LANE_QMAX 8
#define HB_LANE_MMAX 32
typedef struct {
  const double *Sinv; /* q x q, lower triangle read */
  const double *L;
  ptrdiff_t stride;
  int hoff, q;
} hb_level_mats;
int hb_lanes_fit(int q, int m);
size_t hb_lanes_ws_size(int q, int m); /* doubles of workspace */
/* The levels l0 <= l < l1 (H_l and b_l = Bv[l q .. l q + q)) into pk,
 * hb_lanes_pack_size(q, l1 - l0) doubles: for steps that change only Sinv */
size_t hb_lanes_pack_size(int q, int nlev);
void hb_lanes_pack(const hb_level_mats *lm, const double *Bv, int l0, int l1, double *pk);
/* *out = sum over the nlev levels packed in pk of (b_l' M_l^-1 b_l -
 * log|M_l|) / 2, M_l = Sinv + H_l; nonzero when some M_l is not positive
 * definite */
int hb_lanes_marginal(const double *Sinv, int q, const double *pk, int nlev, double *ws, double *out);
/* G (m x m, lower triangle) += sum_l W_l' M_l^-1 W_l, W_l's column c the q
 * values at offset col[c] of level l's block, and *ldsum += sum_l
 * log|M_l|; nonzero when some M_l is not positive definite */
int hb_lanes_schur(const hb_level_mats *lm, const int *col, int m, int l0, int l1, double *ws, double *G,
                   double *ldsum);

#endif
