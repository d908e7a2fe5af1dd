# Benchmark: post-processing of a geo-panel fit at the size of issue 17's
# report (40 geos x 156 weeks = 6,240 rows, 5 channels with estimated
# adstock and Hill, market intercepts and tv slopes; 4 chains x 2,000
# iterations = 4,000 kept draws). Times roi() and contributions() and
# measures the peak R heap of each call (gc() "max used" after a reset).
# Goal (issue 17): roi() <= 5 s and < 1 GB; the first measurement on this
# size was 123 s and 13 GB.
# Run: Rscript inst/bench/roi_scale.R
suppressPackageStartupMessages(library(hbmmm))
sim <- simulate_mmm(n_markets = 40, n_weeks = 156, seed = 1)
channels <- c("tv", "search", "social", "display", "email")
f <- sales ~ tv + search + social + display + email + price + promo + (1 + tv | market)
t_fit <- system.time(fit <- suppressWarnings(hbmmm(f, data = sim$data, media = channels, time = "week",
                                                   seed = 1, refresh = 0, cores = 2)))[["elapsed"]]
cat(sprintf("fit: %d rows, %d draws, %.1f s\n", nrow(sim$data), dim(fit$draws)[1] * dim(fit$draws)[2], t_fit))

measure <- function(label, expr) {
  invisible(gc(reset = TRUE))
  t <- system.time(res <- force(expr))[["elapsed"]]
  g <- gc()
  peak_mb <- sum(g[, ncol(g) - 1L] * c(56, 8)) / 2^20 # max used: Ncells (56 bytes), Vcells (8 bytes)
  cat(sprintf("%s: %.1f s, peak R heap %.0f MB\n", label, t, peak_mb))
  invisible(list(seconds = t, mb = peak_mb, value = res))
}
r <- measure("roi(fit)", roi(fit))
cb <- measure("contributions(fit)", contributions(fit))
cat(sprintf("roi(): %.2fx the 5 s goal, %.2fx the 1 GB goal\n", r$seconds / 5, r$mb / 1024))
print(r$value)

# The same panel fitted per capita (hbmmm(population = )): populations that
# follow each market's spend level, so that roi() sums each row's per-capita
# contribution times its population (rows weighted in the same C sums).
size <- tapply(sim$data$tv + sim$data$search + sim$data$social, sim$data$market, mean)
sim$data$pop <- round(1000 * size[as.character(sim$data$market)] / mean(size))
t_pop <- system.time(fit_pop <- suppressWarnings(hbmmm(f, data = sim$data, media = channels, time = "week",
                                                       population = "pop", seed = 1, refresh = 0,
                                                       cores = 2)))[["elapsed"]]
cat(sprintf("\nper-capita fit (population = \"pop\", %d to %d): %.1f s\n", min(sim$data$pop), max(sim$data$pop), t_pop))
rp <- measure("roi(fit_pop)", roi(fit_pop))
cbp <- measure("contributions(fit_pop)", contributions(fit_pop))
cat(sprintf("roi() per capita: %.2fx the 5 s goal, %.2fx the 1 GB goal\n", rp$seconds / 5, rp$mb / 1024))
