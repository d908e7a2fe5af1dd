# Benchmark: 1:1 nearest-neighbour propensity score matching with a caliper,
# hbmmm::ps_match() against MatchIt::matchit(method = "nearest"), same run.
#
#   Rscript inst/bench/matching.R            (needs MatchIt for the ratio)
#
# 1. ps_match() on 1,000,000 units (10% treated), caliper 0.2 sd: target <= 10 s.
# 2. Both packages on growing sizes with the same propensity scores (given to
#    MatchIt as a numeric `distance`, its fastest path), until MatchIt needs
#    more than a minute (or would, by its growth so far); the speed ratio is
#    reported at the largest size MatchIt finished within a minute
#    (target: hbmmm at least 20x faster).
suppressPackageStartupMessages(library(hbmmm))
has_mi <- requireNamespace("MatchIt", quietly = TRUE)

make_data <- function(n, seed = 1) {
  set.seed(seed)
  x1 <- stats::rnorm(n)
  x2 <- stats::rnorm(n)
  # intercept chosen for about 10% treated
  t <- stats::rbinom(n, 1, stats::plogis(-2.45 + 0.8 * x1 + 0.5 * x2))
  data.frame(t = t, x1 = x1, x2 = x2)
}
elapsed <- function(expr) system.time(expr, gcFirst = TRUE)[["elapsed"]]

cat("== 1. ps_match() on 1,000,000 units ==\n")
d <- make_data(1e6)
t_ps <- elapsed(ps <- propensity_score(t ~ x1 + x2, data = d))
t_m <- elapsed(m <- ps_match(ps, caliper = 0.2))
cat(sprintf("treated: %d (%.1f%%); propensity_score(): %.2f s; ps_match(caliper = 0.2): %.2f s (target <= 10 s: %s)\n",
            sum(d$t), 100 * mean(d$t), t_ps, t_m, if (t_m <= 10) "PASS" else "FAIL"))
cat(sprintf("matched treated: %d of %d\n", sum(m$weights > 0 & d$t == 1), sum(d$t)))
rm(d, ps, m)
invisible(gc())

cat("\n== 2. hbmmm vs MatchIt on growing sizes ==\n")
if (!has_mi) {
  cat("MatchIt is not installed: skipped\n")
} else {
  sizes <- c(1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6)
  res <- data.frame()
  for (n in sizes) {
    d <- make_data(n, seed = 2)
    ps <- propensity_score(t ~ x1 + x2, data = d)
    th <- elapsed(m <- ps_match(ps, caliper = 0.2))
    tm <- elapsed(mi <- MatchIt::matchit(t ~ x1 + x2, data = d, distance = ps$score, caliper = 0.2))
    res <- rbind(res, data.frame(n = n, hbmmm = th, MatchIt = tm, ratio = tm / max(th, 1e-3)))
    cat(sprintf("n = %7d: hbmmm %.3f s, MatchIt %.2f s, ratio %.0fx\n", n, th, tm, tm / max(th, 1e-3)))
    if (tm > 60) break
    nxt <- sizes[match(n, sizes) + 1L]
    if (!is.na(nxt) && nrow(res) >= 2) {
      g <- log(tm / res$MatchIt[nrow(res) - 1]) / log(n / res$n[nrow(res) - 1])
      if (tm * (nxt / n)^max(g, 1) > 90) break  # the next size would take well over a minute
    }
  }
  ok <- res[res$MatchIt <= 60, ]
  best <- ok[nrow(ok), ]
  cat(sprintf("\nLargest size MatchIt finished within a minute: n = %d; hbmmm %.3f s vs MatchIt %.2f s: %.0fx faster (target >= 20x: %s)\n",
              best$n, best$hbmmm, best$MatchIt, best$ratio, if (best$ratio >= 20) "PASS" else "FAIL"))
}
