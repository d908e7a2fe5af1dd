# hbmmm(sampler = "nuts"): the MMM log density (src/model_mmm.c) reads the
# same model list as the Gibbs sampler (gibbs_model()) plus the options below,
# and runs on the NUTS engine (src/nuts.c).

# Options of the NUTS density that the Gibbs sampler does not have: the
# parameterization of group-level effects, LKJ correlation priors with their
# scale priors, and the regularized horseshoe's slab.
nuts_model_options <- function(spec, centered = FALSE) {
  K <- length(spec$ranef)
  cov <- spec$priors$cov
  lkj_eta <- rep(1, K)
  sd_code <- integer(K)
  sd_par <- matrix(1, 2, K)
  for (k in seq_len(K)) {
    cv <- cov[[k]]
    if (!identical(cv$type, "lkj")) next
    lkj_eta[k] <- cv$eta
    pc <- prior_code(cv$sd)
    sd_code[k] <- pc$code
    sd_par[, k] <- pc$par
  }
  hs <- c(1, 1, Inf, 4)
  if (spec$horseshoe) {
    d <- spec$priors$horseshoe$par
    hs <- c(d[["df"]], d[["df_global"]], d[["scale_slab"]], d[["df_slab"]])
  }
  list(centered = as.integer(centered), lkj_eta = as.double(lkj_eta), sd_code = as.integer(sd_code),
       sd_par = as.double(sd_par), hs = as.double(hs))
}
