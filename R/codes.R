# Integer codes shared by R and C: the one table. The C side defines the same
# values as enums in src/hbmmm.h and returns them from .Call(C_hb_codes), and
# a test checks that both agree, so neither side can drift alone.
HB_CODES <- list(
  adstock = c(none = 0L, geometric = 1L, delayed = 2L, weibull_cdf = 3L, weibull_pdf = 4L),
  saturation = c(none = 0L, hill = 1L, logistic = 2L, michaelis_menten = 3L, hill_mixture = 4L),
  curve = c(linear = 0L, hill = 1L, logistic = 2L, michaelis_menten = 3L, hill_mixture = 4L),
  # links of transform parameters to the unconstrained scale
  link = c(logit = 0L, log = 1L, scaled_logit = 2L),
  # families of transform-parameter priors (two parameters each, padded)
  prior = c(normal = 1L, lognormal = 2L, gamma_dist = 3L, beta_dist = 4L, uniform = 5L,
            half_normal = 6L, exponential = 7L, half_student_t = 8L),
  # covariance parameterizations of group-level effects
  cov = c(full = 0L, diag = 1L, factor = 2L, hw_full = 3L, hw_diag = 4L, lkj = 5L)
)

# Name of a link code (for switch()).
link_name <- function(link) names(HB_CODES$link)[match(link, HB_CODES$link)]
