# Plain-R reference implementations for the causal tools, written from
# their definitions (independent of src/matching.c and R/balance.R).

# Greedy nearest-neighbour matching by brute force: focal units in `ord`
# (row indices), `ratio` rounds, nearest available unit by |distance|; equal
# distances: the unit sorted lower (by distance, then data order) wins.
ref_nn_match <- function(dist, focal, ord, ratio = 1, caliper = Inf, replace = FALSE, stratum = NULL) {
  n <- length(dist)
  if (is.null(stratum)) stratum <- rep(1L, n)
  rank <- integer(n)
  rank[order(dist)] <- seq_len(n)  # stable: ties in data order
  avail <- focal == 0L
  fi <- which(focal == 1L)
  mm <- matrix(NA_integer_, length(fi), ratio)
  for (r in seq_len(ratio)) {
    for (t in ord) {
      row <- match(t, fi)
      cand <- which(avail & stratum == stratum[t])
      if (replace) cand <- setdiff(cand, mm[row, ])
      if (!length(cand)) next
      dd <- abs(dist[cand] - dist[t])
      cand <- cand[dd <= caliper]
      dd <- dd[dd <= caliper]
      if (!length(cand)) next
      best <- cand[dd == min(dd)]
      if (length(best) > 1L) {
        below <- best[rank[best] < rank[t]]
        best <- if (length(below)) below[which.max(rank[below])] else best[which.min(rank[best])]
      }
      mm[row, r] <- best
      if (!replace) avail[best] <- FALSE
    }
  }
  mm
}

# MatchIt's general (distance-matrix) nearest-neighbour path on our inputs:
# focal units are put first, in matching order, so that m.order = "data"
# reproduces the requested order. Returns the match matrix (rows: focal
# units in data order) and the weights, both in the original row order.
matchit_reference <- function(ps, dist, order = "largest", caliper = NULL, ratio = 1, replace = FALSE,
                              exact = NULL) {
  d <- ps$data
  tr <- ps$treat
  focal <- tr == 1L
  o <- switch(order, largest = order(dist[focal], decreasing = TRUE), smallest = order(dist[focal]),
              data = seq_len(sum(focal)))
  perm <- c(which(focal)[o], which(!focal))
  dd <- d[perm, ]
  dd$.t <- tr[perm]
  D <- abs(outer(dist[perm][focal[perm]], dist[perm][!focal[perm]], "-"))
  args <- list(.t ~ 1, data = dd, distance = D, m.order = "data", ratio = ratio, replace = replace)
  if (!is.null(caliper)) {
    args$caliper <- caliper * stats::sd(dist)
    args$std.caliper <- FALSE
  }
  if (!is.null(exact)) args$exact <- stats::reformulate(exact)
  m <- suppressWarnings(do.call(MatchIt::matchit, args))
  mm <- matrix(as.integer(m$match.matrix), nrow(m$match.matrix))
  mm <- mm[order(as.integer(rownames(m$match.matrix))), , drop = FALSE]
  w <- numeric(nrow(d))
  w[as.integer(names(m$weights))] <- m$weights
  list(mm = mm, w = w)
}

# Standardized mean difference with the MatchIt/cobalt denominators, for a
# continuous covariate (sample variances) or a binary one (p (1 - p)).
ref_smd <- function(x, t, w, estimand) {
  bin <- all(x %in% 0:1)
  v <- function(z) if (bin) mean(z) * (1 - mean(z)) else stats::var(z)
  s <- switch(estimand, ATT = sqrt(v(x[t == 1])), ATC = sqrt(v(x[t == 0])),
              sqrt((v(x[t == 1]) + v(x[t == 0])) / 2))
  (stats::weighted.mean(x[t == 1], w[t == 1]) - stats::weighted.mean(x[t == 0], w[t == 0])) / s
}

causal_sim <- function(n = 1000, seed = 1, ...) simulate_confounded(n = n, seed = seed, ...)
