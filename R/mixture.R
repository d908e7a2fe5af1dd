# Pruning of a mixture of Hill curves, read from the draws.
#
# The draws store each channel's components sorted by half-saturation, which
# identifies the curves. It does not identify which component is empty: a
# component that the data do not need has a small weight and a
# half-saturation from its prior, so it takes a different rank from draw to
# draw, and the posterior mean weight of every rank mixes full and empty
# components. Pruning is therefore read per draw: the number of components
# whose weight exceeds a threshold, and the weights ranked by size within
# each draw (a labelling by weight, valid because the model is exchangeable
# in its components).

#' How many components a mixture of Hill curves uses
#'
#' For each channel fitted with `saturation = "hill_mixture"`, summarises
#' the posterior of the component weights in the two ways that show
#' pruning: the number of components whose weight exceeds `threshold` in a
#' draw, and the weights ranked by size within each draw (the largest weight
#' of the draw, the second largest, ...).
#'
#' The draws `weight_<channel>[k]` are ordered by half-saturation, which
#' identifies each component's curve. An unneeded component has a weight
#' near zero and a half-saturation drawn from its prior, so it lands at a
#' different rank in different draws; the posterior mean of
#' `weight_<channel>[k]` then mixes draws where rank `k` is occupied and
#' draws where it is empty, and stays away from zero even when the fit uses
#' few components. Ranking the weights by size within each draw removes that
#' mixing: with 5 components specified and 2 needed, the third to fifth
#' largest weights are near zero in every draw.
#'
#' @param fit An `hbmmm_fit` with at least one mixture channel.
#' @param threshold Weight above which a component counts as used, in (0, 1).
#' @param prob Probability mass of the central intervals of the ranked
#'   weights.
#' @return A list with
#'   \describe{
#'     \item{`by_size`}{Data frame, one row per channel and rank: `channel`,
#'       `rank` (1 = the largest weight in the draw), `mean`, `lower`,
#'       `upper` (the central `prob` interval) and `above` (the share of
#'       draws in which the weight of that rank exceeds `threshold`).}
#'     \item{`used`}{Data frame, one row per channel and number of
#'       components `n` (0 to K): `probability`, the share of draws with
#'       exactly `n` weights above `threshold`.}
#'     \item{`mean_used`}{Named vector: the posterior mean number of
#'       components used, per channel.}
#'     \item{`threshold`, `prob`}{As given.}
#'   }
#' @seealso [hbmmm()] (`saturation_control`), `plot(fit, type = "mixture")`.
#' @examples
#' \donttest{
#' sim <- simulate_mmm(n_markets = 2, n_weeks = 60, channels = c("tv", "search"),
#'                     mixture = list(tv = list(halfsat = c(5, 40), slope = c(3, 3),
#'                                              weight = c(0.4, 0.6))), seed = 3)
#' fit <- hbmmm(sales ~ tv + search + (1 | market), data = sim$data,
#'              media = c("tv", "search"), time = "week",
#'              saturation = c(tv = "hill_mixture", search = "hill"),
#'              saturation_control = list(components = 4), sampler = "nuts",
#'              chains = 1, iter = 400, seed = 1, refresh = 0)
#' mixture_weights(fit)
#' }
#' @export
mixture_weights <- function(fit, threshold = 0.05, prob = 0.9) {
  check_model_fit(fit)
  tr <- fit$spec$transforms
  mix <- names(tr$components)[tr$components > 0]
  if (!length(mix)) {
    abort_input("fit", "has no channel with saturation = \"hill_mixture\": mixture_weights() needs a mixture fit")
  }
  threshold <- check_interval_prob(threshold, "threshold")
  prob <- check_interval_prob(prob)
  m <- as.matrix(fit)
  by_size <- used <- list()
  mean_used <- stats::setNames(numeric(length(mix)), mix)
  for (ch in mix) {
    K <- tr$components[[ch]]
    W <- m[, sprintf("weight_%s[%d]", ch, seq_len(K)), drop = FALSE]
    ranked <- if (K > 1L) t(apply(W, 1L, sort, decreasing = TRUE)) else W
    qs <- apply(ranked, 2L, stats::quantile, probs = interval_probs(prob), names = FALSE)
    by_size[[ch]] <- data.frame(channel = ch, rank = seq_len(K), mean = colMeans(ranked),
                                lower = qs[1L, ], upper = qs[2L, ], above = colMeans(ranked > threshold))
    n_used <- rowSums(W > threshold)
    used[[ch]] <- data.frame(channel = ch, n = 0:K,
                             probability = tabulate(n_used + 1L, nbins = K + 1L) / length(n_used))
    mean_used[[ch]] <- mean(n_used)
  }
  structure(list(by_size = do.call(rbind, unname(by_size)), used = do.call(rbind, unname(used)),
                 mean_used = mean_used, threshold = threshold, prob = prob),
            class = "hbmmm_mixture_weights")
}

#' @rdname mixture_weights
#' @param x An `hbmmm_mixture_weights` object.
#' @param digits Significant digits.
#' @param ... Not used.
#' @export
print.hbmmm_mixture_weights <- function(x, digits = 2, ...) {
  check_dots_empty(...)
  fmt <- function(v) vapply(v, function(a) format(signif(a, digits), digits = digits), "")
  for (ch in names(x$mean_used)) {
    bs <- x$by_size[x$by_size$channel == ch, ]
    us <- x$used[x$used$channel == ch, ]
    cat(sprintf("%s: %d components; with weight above %s: %s on average (%s)\n", ch, nrow(bs),
                format(x$threshold), format(signif(x$mean_used[[ch]], 3)),
                paste(sprintf("P(%d) = %s", us$n, formatC(us$probability, format = "f", digits = 2)), collapse = ", ")))
    cat(sprintf("  weights by size (%s%% intervals): %s\n", format(100 * x$prob),
                paste(sprintf("%s [%s, %s]", fmt(bs$mean), fmt(bs$lower), fmt(bs$upper)), collapse = "; ")))
  }
  invisible(x)
}
