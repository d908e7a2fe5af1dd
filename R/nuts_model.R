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
  sd_par <- list()
  for (k in seq_len(K)) {
    cv <- cov[[k]]
    q <- ncol(spec$ranef[[k]]$Z$static)
    sd_par[[k]] <- matrix(1, 2, q)
    if (!identical(cv$type, "lkj")) next
    lkj_eta[k] <- cv$eta
    pc <- prior_code(cv$sd)
    sd_code[k] <- pc$code
    # per unit of each predictor, like the default priors: scales grow
    # with 1 / sd(z_j) (exponential: the rate shrinks)
    sd_par[[k]] <- switch(cv$sd$family,
      half_normal = rbind(pc$par[1] * cv$zs, 0),
      exponential = rbind(pc$par[1] / cv$zs, 0),
      half_student_t = rbind(pc$par[1], pc$par[2] * cv$zs))
  }
  hs <- c(1, 1, Inf, 4)
  if (spec$horseshoe) {
    d <- spec$priors$horseshoe$par
    hs <- c(d[["df"]], d[["df_global"]], d[["scale_slab"]], d[["df_slab"]])
  }
  list(centered = as.integer(centered), lkj_eta = as.double(lkj_eta), sd_code = as.integer(sd_code),
       sd_par = as.double(unlist(sd_par)), hs = as.double(hs))
}

# Priors only the NUTS density implements, refused for the Gibbs sampler.
check_sampler_priors <- function(spec, sampler) {
  if (sampler != "gibbs") return(invisible(TRUE))
  lkj <- vapply(spec$priors$cov, function(cv) identical(cv$type, "lkj"), TRUE)
  if (any(lkj)) {
    abort_input("prior", sprintf("`cor`/`sd` (LKJ) priors for `%s` need sampler = \"nuts\"; the Gibbs sampler takes cov = half_student_t() or inv_wishart()",
                                 names(spec$priors$cov)[lkj][1]))
  }
  hs <- spec$priors$horseshoe
  if (!is.null(hs) && (hs$par[["df"]] != 1 || hs$par[["df_global"]] != 1 || is.finite(hs$par[["scale_slab"]]))) {
    abort_input("prior", sprintf("the Gibbs sampler's horseshoe has df = 1, df_global = 1 and no slab; %s needs sampler = \"nuts\"",
                                 format(hs)))
  }
  invisible(TRUE)
}
