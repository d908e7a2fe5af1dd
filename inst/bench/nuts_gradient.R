# Benchmark: the cost of one log density + gradient of the NUTS MMM density
# on the README's model (mmm_weekly: 832 rows, 5 channels with estimated
# geometric adstock and Hill saturation, controls, (1 + tv | market)), and
# on the same model with a 3-component mixture of Hills on every channel.
# One chain with a fixed small step size, no warmup and tree depth 6: every
# iteration takes exactly 63 gradients, so time per gradient does not depend
# on how the trajectories go (draws change with rounding). Prints the
# minimum over repetitions. Profile one evaluation with callgrind
# (--toggle-collect=mmm_logp_grad) for instruction counts.
# Run: Rscript inst/bench/nuts_gradient.R [iterations, default 100] [repetitions, default 5]
suppressPackageStartupMessages(library(hbmmm))
args <- commandArgs(trailingOnly = TRUE)
iter <- if (length(args) >= 1) as.integer(args[1]) else 100L
reps <- if (length(args) >= 2) as.integer(args[2]) else 5L
data("mmm_weekly", package = "hbmmm", envir = environment())
channels <- c("tv", "search", "social", "display", "email")
f <- sales ~ tv + search + social + display + email + price + promo + season_sin + season_cos + (1 + tv | market)
ns <- asNamespace("hbmmm")

per_gradient <- function(label, spec) {
  model <- ns$mmm_model_list(spec)
  opts <- ns$nuts_model_options(spec, ns$default_centering(spec))
  info <- .Call(ns$C_hb_mmm_info, model, opts)
  ctl <- list(iter = iter, warmup = 0L, max_treedepth = 6L, stepsize = 1e-5,
              inv_metric = (0.5 * info$spread)^2, refresh = 0L)
  res <- NULL
  t <- min(vapply(seq_len(reps), function(k) {
    set.seed(1)
    system.time(res <<- .Call(ns$C_hb_nuts_mmm, model, opts, info$init, ctl))[["elapsed"]]
  }, 0))
  cat(sprintf("%s: %d parameters, %.0f gradients in %.3f s, %.1f us per gradient (min of %d)\n",
              label, info$dim, res$n_grad, t, 1e6 * t / res$n_grad, reps))
}

per_gradient("README model", hbmmm_spec(f, data = mmm_weekly, media = channels, time = "week"))
per_gradient("README model, 3-component mixture of Hills",
             hbmmm_spec(f, data = mmm_weekly, media = channels, time = "week", saturation = "hill_mixture",
                        saturation_control = list(components = 3)))
