# Benchmark: media transforms against one-pass base R anchors, same run.
#   geometric adstock of 1e7 values   vs cumsum() of the same vector  (target <= 2x)
#   Hill saturation of 1e7 values     vs exp() of the same vector     (target <= 3x)
# Run: Rscript inst/bench/transforms.R   (after installing hbmmm)
library(hbmmm)

n <- 1e7
reps <- 7
set.seed(1)
x <- rexp(n, 1 / 100)

# median elapsed seconds over `reps` runs, interleaving the two contenders so
# that drifts in machine load hit both alike
time_pair <- function(f_hbmmm, f_anchor) {
  t <- matrix(NA_real_, reps, 2)
  for (r in seq_len(reps)) {
    t[r, 1] <- system.time(f_hbmmm())[["elapsed"]]
    t[r, 2] <- system.time(f_anchor())[["elapsed"]]
  }
  apply(t, 2, median)
}

report <- function(label, anchor, times, target) {
  ratio <- times[1] / times[2]
  cat(sprintf("%-34s %8.1f ms | %-8s %8.1f ms | ratio %.2f (target <= %.0f) %s\n",
              label, 1e3 * times[1], anchor, 1e3 * times[2], ratio, target,
              if (ratio <= target) "OK" else "SLOW"))
  invisible(ratio)
}

cat(sprintf("hbmmm %s, R %s, n = %.0e, median of %d runs\n",
            packageVersion("hbmmm"), getRversion(), n, reps))
r1 <- report("adstock_geometric(x, 0.6)", "cumsum",
             time_pair(function() adstock_geometric(x, 0.6), function() cumsum(x)), 2)
r2 <- report("saturation_hill(x, 100, 1.7)", "exp",
             time_pair(function() saturation_hill(x, 100, 1.7), function() exp(x)), 3)

# for context (no target): the finite-lag and grouped paths on the same data
g <- rep(seq_len(1000), each = n / 1000)
ctx <- c(
  "adstock_geometric, max_lag = 13" = system.time(adstock_geometric(x, 0.6, max_lag = 13))[["elapsed"]],
  "adstock_weibull, max_lag = 13" = system.time(adstock_weibull(x, 2, 3))[["elapsed"]],
  "adstock_geometric, 1000 groups" = system.time(adstock_geometric(x, 0.6, group = g))[["elapsed"]],
  "cumsum" = system.time(cumsum(x))[["elapsed"]]
)
cat("\ncontext (single run, ms):\n")
print(round(1e3 * ctx, 1))
invisible(c(adstock_vs_cumsum = r1, hill_vs_exp = r2))
