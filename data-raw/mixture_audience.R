# Regenerates data/mixture_audience.rda, the data of the vignette
# "mixture-of-hills" (the PyData talk on mixtures of Hill curves, paper 003 of
# issue 16): the same four markets and 104 weeks of flighted TV and always-on
# search, simulated twice with the same spend, controls and noise (same
# seed): once with a TV audience of three segments of different saturation
# (each a Hill curve), once with a homogeneous audience (one Hill curve).
# Run from the package root after installing the current package
# (R CMD INSTALL .):
#   Rscript data-raw/mixture_audience.R
# tests/testthat/test-simulate.R checks that the shipped data still equal
# these simulate_mmm() calls; rerun this script whenever the simulator
# changes. The talk's benchmark sizes (1 to 5 segments, more markets or
# weeks) come from the same call with other `mixture`, `n_markets`, `n_weeks`
# (inst/validation/mixture.R runs them).
library(hbmmm)

# The segments, as in inst/validation/mixture.R (its 3- and 1-segment
# scenarios): half-saturations spread over the spend range, steep curves, so
# that the mixture differs from any one Hill curve.
segments <- list(
  heterogeneous = list(halfsat = c(6, 25, 70), slope = c(3.5, 3.5, 3.5), weight = c(0.3, 0.35, 0.35)),
  homogeneous = list(halfsat = 30, slope = 2, weight = 1)
)
sims <- lapply(segments, function(s) {
  simulate_mmm(n_markets = 4, n_weeks = 104, channels = c("tv", "search"), beta = c(tv = 300, search = 130),
               sd_market = c(80, 0, 0), sigma = 20, seed = 2026, mixture = list(tv = s))
})
mixture_audience <- do.call(rbind, lapply(names(sims), function(a) {
  cbind(audience = factor(a, levels = names(sims)), sims[[a]]$data)
}))
rownames(mixture_audience) <- NULL
# the truth travels with the data: each audience's population parameters
# and its segments
attr(mixture_audience, "truth") <- lapply(sims, `[[`, "truth")
attr(mixture_audience, "segments") <- segments

save(mixture_audience, file = "data/mixture_audience.rda", compress = "xz")
