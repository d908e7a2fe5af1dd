/* Dense linear algebra kernels (linalg.c): plain C, no R objects, so that
 * the NUTS engine can use them without the R API. */
#ifndef HBMMM_LINALG_H
#define HBMMM_LINALG_H

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

#endif
