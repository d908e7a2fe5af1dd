# The mixture-of-Hills saturation kernel against a plain-R reference.

hill_ref <- function(x, h, s) ifelse(x > 0, x^s / (x^s + h^s), 0)
mix_ref <- function(x, h, s, w) Reduce(`+`, Map(function(hk, sk, wk) wk * hill_ref(x, hk, sk), h, s, w))

test_that("saturation_hill_mixture() equals the weighted sum of Hill curves", {
  x <- c(0, 0.5, 3, 10, 40, 200)
  h <- c(2, 15, 80)
  s <- c(0.7, 1.8, 3)
  w <- c(0.2, 0.5, 0.3)
  expect_equal(saturation_hill_mixture(x, h, s, w), mix_ref(x, h, s, w), tolerance = 1e-12)
  # one component is the Hill curve
  expect_equal(saturation_hill_mixture(x, 15, 1.8, 1), saturation_hill(x, 15, 1.8), tolerance = 1e-14)
  # a matrix with one mixture per column
  X <- cbind(a = x, b = 2 * x)
  H <- cbind(h, 2 * h)
  out <- saturation_hill_mixture(X, H, s, w)
  expect_equal(dimnames(out), dimnames(X))
  expect_equal(out[, "b"], mix_ref(2 * x, 2 * h, s, w), tolerance = 1e-12)
  expect_equal(out[, "a"], out[, "b"], tolerance = 1e-12) # same curve in scaled units
})

test_that("the kernel's derivatives equal finite differences", {
  x <- c(0.3, 2, 9, 30, 120)
  par <- list(h = c(3, 20, 70), s = c(0.9, 2, 3.5), w = c(0.25, 0.35, 0.4))
  d <- saturation_hill_mixture(x, par$h, par$s, par$w, deriv = TRUE)
  expect_named(d, c("value", paste0("halfsat", 1:3), paste0("slope", 1:3), paste0("weight", 1:3), "x"))
  eps <- 1e-6
  for (p in c("h", "s", "w")) {
    for (k in 1:3) {
      up <- dn <- par
      up[[p]][k] <- up[[p]][k] + eps
      dn[[p]][k] <- dn[[p]][k] - eps
      # weights need not sum to 1 in the reference: the derivative is the component
      fd <- (mix_ref(x, up$h, up$s, up$w) - mix_ref(x, dn$h, dn$s, dn$w)) / (2 * eps)
      nm <- paste0(c(h = "halfsat", s = "slope", w = "weight")[[p]], k)
      expect_equal(d[[nm]], fd, tolerance = 1e-6, label = nm)
    }
  }
  fdx <- (mix_ref(x + eps, par$h, par$s, par$w) - mix_ref(x - eps, par$h, par$s, par$w)) / (2 * eps)
  expect_equal(d$x, fdx, tolerance = 1e-6)
})

test_that("bad mixture parameters raise classed errors naming them", {
  expect_error(saturation_hill_mixture(1:3, c(1, 2), c(1, 1), c(0.5, 0.6)), class = "hbmmm_input_error",
               regexp = "sum to 1")
  expect_error(saturation_hill_mixture(1:3, c(1, -2), c(1, 1), c(0.5, 0.5)), class = "hbmmm_input_error",
               regexp = "halfsat")
  expect_error(saturation_hill_mixture(1:3, c(1, 2), 1, c(0.5, 0.5)), class = "hbmmm_input_error",
               regexp = "slope")
  expect_error(saturation_hill_mixture(c(1, -1), 1, 1, 1), class = "hbmmm_input_error")
})
