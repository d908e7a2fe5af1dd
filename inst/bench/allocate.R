# Benchmark: budget allocation of 20 channels x 1,000 posterior draws of Hill
# curves (S-shaped and concave), against plain-R anchors in the same run:
#   greedy  - the classical incremental heuristic: 1,000 budget increments,
#             each given to the channel with the largest expected gain
#             (posterior mean over draws, vectorized base R);
#   optim   - stats::optim (BFGS on a softmax parametrization of the shares,
#             from the even split): a local optimizer.
# Prints time and objective of each, the time ratio hbmmm / greedy, and the
# absolute time of hbmmm (target: at most 2 seconds).
# Run: Rscript inst/bench/allocate.R   (after installing hbmmm)
library(hbmmm)

K <- 20
D <- 1000
B <- 1000
reps <- 3
set.seed(42)
cols <- list()
for (j in seq_len(K)) {
  cols[[paste0("b_c", j)]] <- rlnorm(D, log(runif(1, 50, 500)), 0.2)
  cols[[paste0("halfsat_c", j)]] <- rlnorm(D, log(runif(1, 10, 150)), 0.2)
  cols[[paste0("slope_c", j)]] <- rlnorm(D, log(runif(1, 0.8, 3.5)), 0.1)
}
dr <- do.call(cbind, cols)
beta <- dr[, paste0("b_c", seq_len(K))]
hs <- dr[, paste0("halfsat_c", seq_len(K))]
sl <- dr[, paste0("slope_c", seq_len(K))]

# expected total response of a plan, in plain R
expected <- function(x) {
  xm <- matrix(x, D, K, byrow = TRUE)
  sum(colMeans(beta * xm^sl / (xm^sl + hs^sl)))
}
channel_mean <- function(j, xj) mean(beta[, j] * xj^sl[, j] / (xj^sl[, j] + hs[, j]^sl[, j]))

greedy <- function(steps = 1000) {
  x <- numeric(K)
  cur <- vapply(seq_len(K), function(j) channel_mean(j, 0), 0)
  d <- B / steps
  for (s in seq_len(steps)) {
    nxt <- vapply(seq_len(K), function(j) channel_mean(j, x[j] + d), 0)
    j <- which.max(nxt - cur)
    x[j] <- x[j] + d
    cur[j] <- nxt[j]
  }
  x
}

optim_alloc <- function() {
  to_x <- function(z) B * exp(z - max(z)) / sum(exp(z - max(z)))
  r <- stats::optim(numeric(K), function(z) -expected(to_x(z)), method = "BFGS")
  to_x(r$par)
}

time_it <- function(f) {
  t <- numeric(reps)
  for (r in seq_len(reps)) t[r] <- system.time(out <- f())[["elapsed"]]
  list(time = stats::median(t), x = out)
}

cat(sprintf("hbmmm %s, R %s: %d channels x %d draws, budget %g, median of %d runs\n",
            packageVersion("hbmmm"), getRversion(), K, D, B, reps))
cv <- response_curves(dr, saturation = "hill")
# holdout = 0: the anchors optimize the mean over every draw, so hbmmm does too
h <- time_it(function() allocate_budget(cv, budget = B, holdout = 0)$table$optimal)
g <- time_it(greedy)
o <- time_it(optim_alloc)
res <- data.frame(method = c("hbmmm allocate_budget (DP + zoom)", "plain-R greedy increments", "stats::optim BFGS"),
                  seconds = c(h$time, g$time, o$time),
                  objective = c(expected(h$x), expected(g$x), expected(o$x)))
res$gap_vs_hbmmm <- sprintf("%.4f%%", 100 * (res$objective[1] - res$objective) / res$objective[1])
print(res, row.names = FALSE, digits = 6)
cat(sprintf("\nratio hbmmm / greedy time: %.3f\n", h$time / g$time))
cat(sprintf("hbmmm absolute time for %d channels x %d draws: %.3f s (target <= 2 s) %s\n", K, D, h$time,
            if (h$time <= 2) "OK" else "SLOW"))
q <- time_it(function() allocate_budget(cv, budget = B, objective = "quantile", quantile = 0.1, holdout = 0)$table$optimal)
cat(sprintf("for context (no target): risk-aware objective (10%% quantile): %.3f s\n", q$time))
