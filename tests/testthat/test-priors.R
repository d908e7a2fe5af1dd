# Prior API: constructors, hbmmm_prior(), and the helpers the spec and the C
# samplers rely on. Densities are checked against stats:: and by integration.

integrate1 <- function(dist, lower, upper) {
  stats::integrate(function(x) exp(hbmmm:::prior_logdens(dist, x)), lower, upper,
                   rel.tol = 1e-10)$value
}

test_that("constructors return hbmmm_dist with family and named par", {
  d <- normal(1, 2.5)
  expect_s3_class(d, "hbmmm_dist")
  expect_identical(d$family, "normal")
  expect_identical(d$par, c(mean = 1, sd = 2.5))
  expect_identical(half_normal()$par, c(sd = 1))
  expect_identical(student_t()$par, c(df = 3, location = 0, scale = 1))
  expect_identical(half_student_t()$par, c(df = 3, scale = 1))
  expect_identical(exponential()$par, c(rate = 1))
  expect_identical(lognormal()$par, c(meanlog = 0, sdlog = 1))
  expect_identical(gamma_dist()$par, c(shape = 2, rate = 1))
  expect_identical(beta_dist()$par, c(shape1 = 2, shape2 = 2))
  expect_identical(uniform()$par, c(lower = 0, upper = 1))
  expect_identical(inv_gamma()$par, c(shape = 1, scale = 1))
  expect_identical(scaled_inv_chisq()$par, c(df = 3, scale = 1))
  expect_identical(lkj()$par, c(eta = 1))
  expect_identical(horseshoe()$par, c(df = 1, scale_global = 1, df_global = 1,
                                      scale_slab = Inf, df_slab = 4))
  expect_identical(horseshoe(scale_slab = 2)$par[["scale_slab"]], 2) # regularized (NUTS)
  expect_identical(gamma_dist(2L, 1L)$par, c(shape = 2, rate = 1)) # integers stored as double
  iw <- inv_wishart(5, 2)
  expect_identical(iw$par, c(df = 5))
  expect_identical(iw$scale, 2)  # a number: 2 * I of the term's dimension
  S <- matrix(c(2, 0.5, 0.5, 1), 2)
  iw2 <- inv_wishart(3, S)
  expect_identical(iw2$scale, S)
  expect_identical(inv_wishart(3, matrix(2))$scale, 2)
})

test_that("constructors do not mask base or stats functions", {
  exported <- getNamespaceExports("hbmmm")
  for (pkg in c("base", "stats", "utils", "graphics", "grDevices", "methods")) {
    clash <- intersect(exported, getNamespaceExports(pkg))
    expect_identical(clash, character(0), info = pkg)
  }
})

test_that("every invalid constructor argument is a classed error naming it", {
  bad_pos <- list(0, -1, Inf, NA_real_, NaN, "1", TRUE, c(1, 2), numeric(0), NULL)
  bad_real <- list(Inf, -Inf, NA_real_, "0", TRUE, c(0, 1), numeric(0), NULL)
  cases <- list(
    list(normal, "sd", "pos"), list(normal, "mean", "real"),
    list(half_normal, "sd", "pos"),
    list(student_t, "df", "pos"), list(student_t, "location", "real"),
    list(student_t, "scale", "pos"),
    list(half_student_t, "df", "pos"), list(half_student_t, "scale", "pos"),
    list(exponential, "rate", "pos"),
    list(lognormal, "meanlog", "real"), list(lognormal, "sdlog", "pos"),
    list(gamma_dist, "shape", "pos"), list(gamma_dist, "rate", "pos"),
    list(beta_dist, "shape1", "pos"), list(beta_dist, "shape2", "pos"),
    list(uniform, "lower", "real"), list(uniform, "upper", "real"),
    list(inv_gamma, "shape", "pos"), list(inv_gamma, "scale", "pos"),
    list(scaled_inv_chisq, "df", "pos"), list(scaled_inv_chisq, "scale", "pos"),
    list(lkj, "eta", "pos"),
    list(horseshoe, "df", "pos"), list(horseshoe, "scale_global", "pos"),
    list(horseshoe, "df_global", "pos"), list(horseshoe, "scale_slab", "slab"),
    list(horseshoe, "df_slab", "pos"),
    list(inv_wishart, "scale", "pos")
  )
  for (cs in cases) {
    # the slab scale may be Inf (no slab: the plain horseshoe)
    vals <- switch(cs[[3]], pos = bad_pos, real = bad_real, slab = bad_pos[-3])
    for (v in vals) {
      args <- stats::setNames(list(v), cs[[2]])
      if (identical(cs[[1]], inv_wishart)) args$df <- 5
      cnd <- expect_input_error(do.call(cs[[1]], args), cs[[2]])
    }
  }
  cnd <- expect_input_error(normal(0, -1), "sd")
  expect_match(conditionMessage(cnd), "positive, finite")
  expect_match(conditionMessage(cnd), "-1")
  # uniform bounds must be ordered
  expect_input_error(uniform(1, 1), "upper")
  expect_input_error(uniform(2, 1), "upper")
  # inv_wishart: df required and positive; matrix scale symmetric positive definite
  expect_input_error(inv_wishart(), "df")
  for (v in list(0, -2, Inf, NA, "5")) expect_input_error(inv_wishart(v), "df")
  expect_input_error(inv_wishart(5, matrix(c(1, 0.5, 0.4, 1), 2)), "scale")  # asymmetric
  expect_input_error(inv_wishart(5, matrix(c(1, 2, 2, 1), 2)), "scale")      # indefinite
  expect_input_error(inv_wishart(5, matrix(1, 2, 3)), "scale")               # not square
  expect_input_error(inv_wishart(5, matrix(c(1, NA, NA, 1), 2)), "scale")
  expect_input_error(inv_wishart(5, matrix("a", 2, 2)), "scale")
  expect_input_error(inv_wishart(5, data.frame(a = 1)), "scale")
  # with a matrix scale the dimension is known: df > d - 1 now
  expect_input_error(inv_wishart(1.5, diag(3)), "df")
  expect_s3_class(inv_wishart(2.5, diag(3)), "hbmmm_dist")
})

test_that("format() and print() show the rebuilding call", {
  expect_identical(format(normal(0, 2.5)), "normal(0, 2.5)")
  expect_identical(format(normal(-1, 0.001)), "normal(-1, 0.001)")
  expect_identical(format(half_normal(2)), "half_normal(2)")
  expect_identical(format(student_t(4, 1, 2)), "student_t(4, 1, 2)")
  expect_identical(format(beta_dist(3, 1)), "beta_dist(3, 1)")
  expect_identical(format(gamma_dist()), "gamma_dist(2, 1)")
  expect_identical(format(uniform(0, 13)), "uniform(0, 13)")
  expect_identical(format(scaled_inv_chisq(5, 0.5)), "scaled_inv_chisq(5, 0.5)")
  expect_identical(format(horseshoe(scale_global = 0.1)), "horseshoe(1, 0.1, 1, Inf, 4)")
  expect_identical(format(inv_wishart(5, 2)), "inv_wishart(5, 2 * I)")
  expect_identical(format(inv_wishart(5)), "inv_wishart(5, 1 * I)")
  expect_identical(format(inv_wishart(5, diag(3))), "inv_wishart(5, <3x3 matrix>)")
  expect_output(print(normal(0, 2.5)), "^normal\\(0, 2\\.5\\)$")
  expect_output(expect_invisible(print(lkj(2))))
  # the formatted call rebuilds the same object
  d <- student_t(4, -1, 2)
  expect_identical(eval(parse(text = format(d))), d)
})

test_that("prior_logdens equals the stats:: densities", {
  x <- c(-2, -0.3, 0, 0.2, 0.7, 1, 3.5)
  ld <- hbmmm:::prior_logdens
  expect_equal(ld(normal(0.5, 2), x), dnorm(x, 0.5, 2, log = TRUE), tolerance = 1e-14)
  expect_equal(ld(lognormal(0.3, 0.8), x), dlnorm(x, 0.3, 0.8, log = TRUE), tolerance = 1e-14)
  expect_equal(ld(gamma_dist(2.5, 1.5), x), dgamma(x, 2.5, 1.5, log = TRUE), tolerance = 1e-14)
  expect_equal(ld(beta_dist(2, 3), x), dbeta(x, 2, 3, log = TRUE), tolerance = 1e-14)
  expect_equal(ld(uniform(-1, 2), x), dunif(x, -1, 2, log = TRUE), tolerance = 1e-14)
  expect_equal(ld(exponential(1.7), x), dexp(x, 1.7, log = TRUE), tolerance = 1e-14)
  expect_equal(ld(student_t(4, 1, 2), x), dt((x - 1) / 2, 4, log = TRUE) - log(2),
               tolerance = 1e-14)
  expect_equal(ld(half_normal(2), x), ifelse(x >= 0, log(2 * dnorm(x, 0, 2)), -Inf),
               tolerance = 1e-14)
  expect_equal(ld(half_student_t(3, 2), x), ifelse(x >= 0, log(2 * dt(x / 2, 3) / 2), -Inf),
               tolerance = 1e-14)
  # uniform: constant inside the closed interval, -Inf outside
  expect_identical(ld(uniform(0, 4), c(-1e-9, 0, 2, 4, 4 + 1e-9)),
                   c(-Inf, -log(4), -log(4), -log(4), -Inf))
  expect_length(ld(normal(), numeric(0)), 0L)
})

test_that("half and variance densities integrate to 1", {
  expect_equal(integrate1(half_normal(2.3), 0, Inf), 1, tolerance = 1e-8)
  expect_equal(integrate1(half_student_t(3, 1.5), 0, Inf), 1, tolerance = 1e-8)
  expect_equal(integrate1(half_student_t(1, 0.5), 0, Inf), 1, tolerance = 1e-6)
  expect_equal(integrate1(inv_gamma(2.5, 1.3), 0, Inf), 1, tolerance = 1e-8)
  expect_equal(integrate1(scaled_inv_chisq(5, 0.7), 0, Inf), 1, tolerance = 1e-8)
  expect_identical(hbmmm:::prior_logdens(half_normal(), -0.1), -Inf)
  expect_identical(hbmmm:::prior_logdens(inv_gamma(), c(-1, 0)), c(-Inf, -Inf))
})

test_that("inverse-gamma and scaled inverse chi-squared densities are right", {
  a <- 2.5; b <- 1.3
  x <- c(0.1, 0.5, 1, 4)
  hand <- b^a / gamma(a) * x^(-a - 1) * exp(-b / x)
  expect_equal(exp(hbmmm:::prior_logdens(inv_gamma(a, b), x)), hand, tolerance = 1e-12)
  # IG(a, b) on x is Gamma(a, rate = b) on 1/x with Jacobian 1/x^2
  expect_equal(hbmmm:::prior_logdens(inv_gamma(a, b), x),
               dgamma(1 / x, a, rate = b, log = TRUE) - 2 * log(x), tolerance = 1e-12)
  nu <- 7; s <- 0.6
  expect_equal(hbmmm:::ig_params(scaled_inv_chisq(nu, s)),
               c(shape = nu / 2, scale = nu * s^2 / 2))
  expect_equal(hbmmm:::prior_logdens(scaled_inv_chisq(nu, s), x),
               hbmmm:::prior_logdens(inv_gamma(nu / 2, nu * s^2 / 2), x))
  expect_equal(hbmmm:::ig_params(inv_gamma(3, 2)), c(shape = 3, scale = 2))
  # Monte Carlo: variance draws df * s^2 / chisq_df have the density's mean
  set.seed(1)
  v <- nu * s^2 / rchisq(2e5, nu)
  dens_mean <- stats::integrate(function(x) x * exp(hbmmm:::prior_logdens(scaled_inv_chisq(nu, s), x)),
                                0, Inf, rel.tol = 1e-10)$value
  expect_equal(dens_mean, nu * s^2 / (nu - 2), tolerance = 1e-8)
  expect_equal(mean(v), dens_mean, tolerance = 4 * sd(v) / sqrt(length(v)) / dens_mean)
  # and the density's median matches the draws
  expect_equal(hbmmm:::prior_median(scaled_inv_chisq(nu, s)), unname(median(v)), tolerance = 0.01)
  expect_error(hbmmm:::ig_params(normal()), class = "hbmmm_input_error")
})

test_that("matrix densities: LKJ and inverse Wishart are normalized", {
  ld <- hbmmm:::prior_logdens
  # LKJ, d = 2: density of r on (-1, 1) integrates to 1
  for (eta in c(0.7, 1, 3)) {
    f <- function(r) vapply(r, function(ri) exp(ld(lkj(eta), matrix(c(1, ri, ri, 1), 2))), 0)
    expect_equal(integrate(f, -1, 1)$value, 1, tolerance = 1e-6)
  }
  # LKJ(1), d = 3 is uniform: 1 / volume of 3x3 correlation matrices (pi^2 / 2)
  R <- matrix(c(1, 0.3, -0.2, 0.3, 1, 0.1, -0.2, 0.1, 1), 3)
  expect_equal(ld(lkj(1), R), -log(pi^2 / 2))
  expect_identical(ld(lkj(2), matrix(c(1, 1.2, 1.2, 1), 2)), -Inf)
  # inverse Wishart d = 1 is IG(df / 2, s / 2)
  expect_equal(ld(inv_wishart(5, 3), list(matrix(0.5), matrix(2))),
               ld(inv_gamma(2.5, 1.5), c(0.5, 2)))
  # d = 2: against the Wishart density of the inverse (stats::rWishart has no
  # density, so use the explicit formula with Jacobian |X|^-(d+1))
  S <- matrix(c(2, 0.5, 0.5, 1), 2)
  X <- matrix(c(1, -0.2, -0.2, 0.6), 2)
  nu <- 6; d <- 2
  W <- solve(X); Sinv <- solve(S)
  lw <- (nu - d - 1) / 2 * log(det(W)) - sum(diag(S %*% W)) / 2 - nu * d / 2 * log(2) -
    nu / 2 * log(det(Sinv)) - (d * (d - 1) / 4 * log(pi) + lgamma(nu / 2) + lgamma((nu - 1) / 2))
  expect_equal(ld(inv_wishart(nu, S), X), lw - (d + 1) * log(det(X)))
  expect_equal(ld(inv_wishart(nu, 2), X), ld(inv_wishart(nu, diag(2, 2)), X))
  expect_error(ld(horseshoe(), 1), class = "hbmmm_input_error")
})

test_that("prior_median matches the quantile functions", {
  md <- hbmmm:::prior_median
  expect_equal(md(normal(1, 3)), qnorm(0.5, 1, 3))
  expect_equal(md(half_normal(2)), qnorm(0.75, 0, 2))
  expect_equal(md(student_t(3, -1, 2)), -1)
  expect_equal(md(half_student_t(3, 2)), 2 * qt(0.75, 3))
  expect_equal(md(exponential(2)), qexp(0.5, 2))
  expect_equal(md(lognormal(0.4, 2)), qlnorm(0.5, 0.4, 2))
  expect_equal(md(gamma_dist(2.5, 3)), qgamma(0.5, 2.5, 3))
  expect_equal(md(beta_dist(2, 5)), qbeta(0.5, 2, 5))
  expect_equal(md(uniform(2, 6)), qunif(0.5, 2, 6))
  expect_equal(md(inv_gamma(3, 2)), 1 / qgamma(0.5, 3, rate = 2))
  # half distributions: half the mass on each side of the median
  expect_equal(integrate1(half_normal(2), 0, md(half_normal(2))), 0.5, tolerance = 1e-8)
  expect_equal(integrate1(half_student_t(2, 1), 0, md(half_student_t(2, 1))), 0.5,
               tolerance = 1e-8)
  expect_equal(integrate1(inv_gamma(3, 2), 0, md(inv_gamma(3, 2))), 0.5, tolerance = 1e-8)
  expect_equal(md(horseshoe()), 0)
  expect_equal(md(inv_wishart(5, 2), d = 2), diag(2, 2) / 8)
  expect_equal(md(inv_wishart(5, diag(3))), diag(3) / 9)
  expect_equal(md(lkj(2), d = 3), diag(3))
  expect_error(md(lkj(2)), class = "hbmmm_input_error")
})

test_that("prior_code uses the fixed table", {
  pc <- hbmmm:::prior_code
  expect_identical(pc(normal(1, 2)), list(code = 1L, par = c(1, 2)))
  expect_identical(pc(lognormal(0, 0.5)), list(code = 2L, par = c(0, 0.5)))
  expect_identical(pc(gamma_dist(3, 2)), list(code = 3L, par = c(3, 2)))
  expect_identical(pc(beta_dist(2, 4)), list(code = 4L, par = c(2, 4)))
  expect_identical(pc(uniform(0, 13)), list(code = 5L, par = c(0, 13)))
  expect_identical(pc(half_normal(2)), list(code = 6L, par = c(2, 0)))
  expect_identical(pc(exponential(3)), list(code = 7L, par = c(3, 0)))
  expect_identical(pc(half_student_t(3, 0.5)), list(code = 8L, par = c(3, 0.5)))
  expect_error(pc(inv_gamma()), class = "hbmmm_input_error")
  expect_error(pc("normal"), class = "hbmmm_input_error")
})

test_that("hbmmm_prior() collects valid slots", {
  p <- hbmmm_prior(
    Intercept = normal(0, 10),
    b = list(tv = normal(0.5, 0.2), `price:promo` = normal(0, 1), .default = normal(0, 2.5)),
    cov = list(market = inv_wishart(4, 1), `market:store` = inv_gamma(1, 1)),
    sigma = scaled_inv_chisq(3, 1),
    decay = list(tv = beta_dist(3, 3), search = uniform(0, 0.5)),
    delay = uniform(0, 4), shape = gamma_dist(), scale = lognormal(),
    halfsat = half_normal(), slope = half_student_t(), lambda = exponential(),
    k = uniform(0.1, 10), horseshoe = horseshoe(scale_global = 0.1),
    loadings = normal(0, 1), psi = inv_gamma(2, 1)
  )
  expect_s3_class(p, "hbmmm_prior")
  expect_named(p, c("Intercept", "b", "cov", "sigma", "decay", "delay", "shape", "scale",
                    "halfsat", "slope", "lambda", "k", "horseshoe", "cor", "sd", "loadings", "psi", "roi",
                    "media_sd", "alpha", "weight"))
  expect_identical(p$sigma, scaled_inv_chisq(3, 1))
  empty <- hbmmm_prior()
  expect_s3_class(empty, "hbmmm_prior")
  expect_length(empty, 21L)
  expect_true(all(vapply(empty, is.null, TRUE)))
})

test_that("hbmmm_prior() rejects unknown slots and invalid families", {
  cnd <- expect_input_error(hbmmm_prior(sigmaa = inv_gamma()), "...")
  expect_match(conditionMessage(cnd), "\"sigmaa\"")
  expect_match(conditionMessage(cnd), "Intercept, b, cov, sigma")
  # no partial matching of slot names
  expect_input_error(hbmmm_prior(sig = inv_gamma()), "...")
  cnd <- expect_input_error(hbmmm_prior(normal(), foo = 1, bar = 2), "...")
  expect_match(conditionMessage(cnd), "unnamed argument 1")
  expect_match(conditionMessage(cnd), "\"foo\", \"bar\"")

  bad <- list(
    Intercept = lognormal(), b = student_t(), sigma = half_normal(), sigma = normal(),
    cov = lkj(), cov = half_normal(), decay = gamma_dist(), decay = uniform(0, 1.5),
    decay = uniform(-0.1, 1), delay = uniform(-1, 3), delay = beta_dist(),
    shape = normal(), scale = uniform(-1, 1), halfsat = inv_gamma(), slope = beta_dist(),
    lambda = student_t(), k = normal(1, 1), horseshoe = normal(), loadings = half_normal(),
    psi = exponential(), b = horseshoe()
  )
  for (i in seq_along(bad)) {
    args <- bad[i]
    expect_input_error(do.call(hbmmm_prior, args), names(bad)[i])
  }
  cnd <- expect_input_error(hbmmm_prior(sigma = normal()), "sigma")
  expect_match(conditionMessage(cnd), "inv_gamma(), scaled_inv_chisq()", fixed = TRUE)
  # uniform ranges: decay in [0, 1] and positives with lower >= 0 are fine
  expect_silent(hbmmm_prior(decay = uniform(0, 1), halfsat = uniform(0, 5),
                            delay = uniform(0, 13)))
})

test_that("hbmmm_prior() checks list slots", {
  # list elements named in the error
  cnd <- expect_input_error(hbmmm_prior(b = list(tv = normal(), radio = inv_gamma())),
                            "b[[\"radio\"]]")
  expect_match(conditionMessage(cnd), "inv_gamma() is not allowed", fixed = TRUE)
  expect_input_error(hbmmm_prior(b = list(tv = normal(), radio = 3)), "b[[\"radio\"]]")
  expect_input_error(hbmmm_prior(decay = list(tv = uniform(0, 2))), "decay[[\"tv\"]]")
  # malformed lists
  expect_input_error(hbmmm_prior(b = list(normal(), normal())), "b")
  expect_input_error(hbmmm_prior(b = list(tv = normal(), normal())), "b")
  expect_input_error(hbmmm_prior(b = list()), "b")
  cnd <- expect_input_error(hbmmm_prior(b = list(tv = normal(), tv = normal(1))), "b")
  expect_match(conditionMessage(cnd), "\"tv\" more than once")
  expect_input_error(hbmmm_prior(b = 1), "b")
  expect_input_error(hbmmm_prior(b = "normal"), "b")
  # slots without names take one prior only
  expect_input_error(hbmmm_prior(sigma = list(a = inv_gamma())), "sigma")
  expect_input_error(hbmmm_prior(Intercept = list(.default = normal())), "Intercept")
  expect_input_error(hbmmm_prior(horseshoe = list(horseshoe())), "horseshoe")
})

test_that("prior_for resolves named element, .default, single dist, default", {
  pf <- hbmmm:::prior_for
  dflt <- normal(0, 100)
  p <- hbmmm_prior(b = list(tv = normal(1, 1), .default = normal(0, 2.5)),
                   decay = beta_dist(3, 3),
                   halfsat = list(tv = lognormal(1, 1)))
  expect_identical(pf(p, "b", "tv", dflt), normal(1, 1))
  expect_identical(pf(p, "b", "radio", dflt), normal(0, 2.5))
  expect_identical(pf(p, "decay", "tv", dflt), beta_dist(3, 3))
  expect_identical(pf(p, "decay", "radio", dflt), beta_dist(3, 3))
  expect_identical(pf(p, "halfsat", "tv", dflt), lognormal(1, 1))
  expect_identical(pf(p, "halfsat", "radio", dflt), dflt)   # no .default: data default
  expect_identical(pf(p, "sigma", NULL, dflt), dflt)        # NULL slot
  expect_identical(pf(NULL, "b", "tv", dflt), dflt)          # no prior at all
  expect_null(pf(p, "slope", "tv"))
  expect_error(pf(p, "bogus", "tv", dflt), class = "hbmmm_input_error")
})

test_that("check_prior_names flags unknown names with a suggestion", {
  cpn <- hbmmm:::check_prior_names
  p <- hbmmm_prior(b = list(tvv = normal(), .default = normal()),
                   decay = list(tv = beta_dist()), cov = inv_wishart(3))
  expect_invisible(cpn(p, "decay", c("tv", "search")))
  expect_invisible(cpn(p, "cov", "market"))         # single dist: nothing to check
  expect_invisible(cpn(p, "sigma", "anything"))     # NULL slot
  cnd <- expect_input_error(cpn(p, "b", c("Intercept", "tv", "price:promo")), "prior")
  msg <- conditionMessage(cnd)
  expect_match(msg, "`b` names term not in the model", fixed = TRUE)
  expect_match(msg, "\"tvv\" (did you mean \"tv\"?)", fixed = TRUE)
  expect_match(msg, "\"price:promo\"", fixed = TRUE)
  p2 <- hbmmm_prior(halfsat = list(television = lognormal(), xyz = lognormal()))
  cnd <- expect_input_error(cpn(p2, "halfsat", c("tv", "search")), "prior")
  expect_match(conditionMessage(cnd), "names channels not in the model")
  expect_no_match(conditionMessage(cnd), "did you mean")
  cnd <- expect_input_error(cpn(hbmmm_prior(cov = list(markte = inv_wishart(3))), "cov",
                                c("market", "market:store")), "prior")
  expect_match(conditionMessage(cnd), "did you mean \"market\"")
})

test_that("iw_scale expands scalar scales and checks df against dimension", {
  expect_identical(hbmmm:::iw_scale(inv_wishart(4, 2), 3), diag(2, 3))
  expect_input_error(hbmmm:::iw_scale(inv_wishart(1.5, 2), 3), "prior")
  expect_input_error(hbmmm:::iw_scale(inv_wishart(4, diag(2)), 3), "prior")
  expect_identical(hbmmm:::iw_scale(inv_wishart(4, diag(2)), 2), diag(2))
})

test_that("print.hbmmm_prior shows a slot table", {
  p <- hbmmm_prior(b = list(tv = normal(1, 1), .default = normal(0, 2.5)),
                   sigma = inv_gamma(2, 1))
  out <- format(p)
  expect_identical(out[1:5], c(
    "hbmmm prior",
    "  slot   name      prior",
    "  b      .default  normal(0, 2.5)",
    "  b      tv        normal(1, 1)",
    "  sigma            inv_gamma(2, 1)"
  ))
  expect_match(paste(out[-(1:5)], collapse = " "), "Data-based defaults: Intercept, cov, decay")
  expect_output(print(p), "b      tv        normal(1, 1)", fixed = TRUE)
  expect_output(expect_invisible(print(p)))
  expect_output(print(hbmmm_prior()), "(no priors set)", fixed = TRUE)
})
