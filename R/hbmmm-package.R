#' hbmmm: hierarchical Bayesian marketing mix models
#'
#' Media transforms (adstock and saturation), hierarchical Bayesian marketing
#' mix models sampled in C, causal effects of channels and budget allocation.
#' Start with `vignette("hbmmm")`.
#'
#' @keywords internal
#' @docType package
#' @name hbmmm-package
#' @aliases hbmmm-package
#' @useDynLib hbmmm, .registration = TRUE, .fixes = "C_"
NULL
