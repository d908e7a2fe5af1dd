# Coverage of roi()'s intervals over repeated simulations (issue 12): R
# datasets from simulate_mmm() (8 markets x 104 weeks, market effects on the
# intercept and on every channel), each fitted with hbmmm()'s defaults on the
# model that generated it; the true ROI of a channel is its true
# contribution summed over the data divided by its spend. Prints, per channel
# and pooled, how often the 95% interval holds the truth (nominal 0.95) with
# its binomial standard error, and the mean ratio of estimate to truth.
# Usage: Rscript inst/validation/roi_coverage.R [replicates, default 100]
suppressPackageStartupMessages(library(hbmmm))

roi_coverage_run <- function(R, n_markets = 8, n_weeks = 104, first_seed = 1, chains = 2, cores = 2) {
  channels <- c("tv", "search", "social", "display", "email")
  f <- sales ~ tv + search + social + display + email + price + promo + season_sin + season_cos +
    (1 + tv + search + social + display + email || market)
  rows <- lapply(seq_len(R), function(r) {
    sim <- simulate_mmm(n_markets = n_markets, n_weeks = n_weeks, seed = first_seed + r - 1L)
    truth <- colSums(sim$media_effect)[channels] / colSums(sim$data[channels])
    fit <- suppressWarnings(hbmmm(f, data = sim$data, media = channels, time = "week", chains = chains,
                                  cores = cores, seed = r, refresh = 0))
    est <- roi(fit, level = 0.95)
    data.frame(rep = r, channel = est$channel, truth = unname(truth[est$channel]), mean = est$roi,
               lower = est$roi_lower, upper = est$roi_upper, stringsAsFactors = FALSE)
  })
  out <- do.call(rbind, rows)
  out$covered <- out$lower <= out$truth & out$truth <= out$upper
  out
}

roi_coverage_table <- function(res) {
  by <- split(res, res$channel)
  tab <- data.frame(channel = names(by),
                    coverage = vapply(by, function(d) mean(d$covered), 0),
                    ratio = vapply(by, function(d) mean(d$mean / d$truth), 0),
                    n = vapply(by, nrow, 0L), row.names = NULL)
  tab <- rbind(tab, data.frame(channel = "(pooled)", coverage = mean(res$covered),
                               ratio = mean(res$mean / res$truth), n = nrow(res)))
  tab$se <- sqrt(0.95 * 0.05 / tab$n)
  tab
}

if (sys.nframe() == 0L) {
  args <- commandArgs(trailingOnly = TRUE)
  R <- if (length(args)) as.integer(args[1]) else 100L
  t0 <- proc.time()[["elapsed"]]
  res <- roi_coverage_run(R)
  tab <- roi_coverage_table(res)
  cat(sprintf("95%% ROI intervals over %d simulations (%.0f s)\n", R, proc.time()[["elapsed"]] - t0))
  print(format(tab, digits = 3), row.names = FALSE)
}
