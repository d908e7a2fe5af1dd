# Precomputes inst/extdata/mixture_fits.rds, the fits behind the vignette
# "mixture-of-hills": on each audience of `mixture_audience` (heterogeneous:
# three TV segments; homogeneous: one), the single Hill curve and a mixture of
# five Hill curves for TV, both by NUTS, trained on weeks 1-78 and judged on
# weeks 79-104 and against the true curve with the metrics of
# inst/validation/mixture.R (sourced: one home for them). Four NUTS fits take
# a few minutes, too long for a vignette build, so their results are shipped:
# the calibration table, each mixture's component weights (by
# half-saturation, and mixture_weights(): ranked by size, components used), every fit's
# response curves (for the allocation) and the heterogeneous mixture fit
# itself (for plot(fit, type = "mixture")).
# Run from the package root after installing the current package
# (R CMD INSTALL .):
#   Rscript data-raw/mixture_fits.R
# Rerun whenever mixture_audience, the samplers or the fit object change.
library(hbmmm)
source("inst/validation/mixture.R")

ITER <- 1000
# every 4th draw is kept (500 in all): enough for the metrics and the plan, and
# the shipped fit stays small
THIN <- 4
CHAINS <- 4
COMPONENTS <- 5
f <- sales ~ tv + search + price + promo + season_sin + season_cos + (1 | market)
segs <- attr(mixture_audience, "segments")
truth <- attr(mixture_audience, "truth")

rows <- list()
weights <- list()
pruning <- list()
curves <- list()
fits <- list()
t_all <- proc.time()[["elapsed"]]
for (aud in levels(mixture_audience$audience)) {
  d <- mixture_audience[mixture_audience$audience == aud, names(mixture_audience) != "audience"]
  train <- d[d$week <= 78, ]
  test <- d[d$week > 78, ]
  tc <- mixture_truth_grid(train, truth[[aud]], segs[[aud]])
  for (model in c("hill", "mixture")) {
    t0 <- proc.time()[["elapsed"]]
    # convergence warnings are kept in the table (divergent, max_rhat)
    fit <- suppressWarnings(hbmmm(f, data = train, media = c("tv", "search"), time = "week",
                                  saturation = if (model == "hill") "hill" else c(tv = "hill_mixture", search = "hill"),
                                  saturation_control = if (model == "hill") list() else list(components = COMPONENTS),
                                  sampler = "nuts", iter = ITER, thin = THIN, chains = CHAINS, cores = 1, seed = 1, refresh = 0))
    secs <- proc.time()[["elapsed"]] - t0
    met <- mixture_fit_metrics(fit, test, tc$curve, tc$x, secs)
    rows[[length(rows) + 1L]] <- cbind(data.frame(audience = aud, model = model), met)
    # 250 draws are plenty for a plan and keep the shipped file small
    curves[[aud]][[model]] <- response_curves(fit, max_draws = 250)
    if (model == "mixture") {
      m <- as.matrix(fit)
      w <- m[, grep("^weight_tv\\[", colnames(m)), drop = FALSE]
      weights[[aud]] <- data.frame(component = seq_len(ncol(w)),
                                   halfsat = colMeans(m[, sprintf("halfsat_tv[%d]", seq_len(ncol(w)))]),
                                   weight = colMeans(w), lower = apply(w, 2, stats::quantile, 0.05),
                                   upper = apply(w, 2, stats::quantile, 0.95), row.names = NULL)
      pruning[[aud]] <- mixture_weights(fit)
      if (aud == "heterogeneous") {
        # the specification's call holds the function object it was called
        # with (600 kB); its name is all a reader of the shipped fit needs
        fit$spec$call[[1]] <- as.name("hbmmm_spec")
        fits$heterogeneous_mixture <- fit
      }
    }
    cat(sprintf("%s / %s: %.0f s\n", aud, model, secs))
  }
}
table <- do.call(rbind, rows)
rownames(table) <- NULL
mixture_fits <- list(table = table, weights = weights, pruning = pruning, curves = curves, fit = fits$heterogeneous_mixture,
                     truth_grid = lapply(stats::setNames(levels(mixture_audience$audience), levels(mixture_audience$audience)),
                                         function(a) mixture_truth_grid(mixture_audience[mixture_audience$audience == a &
                                                                                            mixture_audience$week <= 78, ],
                                                                        truth[[a]], segs[[a]])),
                     precomputed = list(script = "data-raw/mixture_fits.R", iter = ITER, thin = THIN, chains = CHAINS,
                                        components = COMPONENTS, train_weeks = 78, formula = f,
                                        seconds = round(proc.time()[["elapsed"]] - t_all),
                                        hbmmm = as.character(utils::packageVersion("hbmmm"))))
environment(mixture_fits$precomputed$formula) <- globalenv()
print(table)
print(weights)
cat("fit object:", format(utils::object.size(mixture_fits$fit), units = "KB"), "\n")
saveRDS(mixture_fits, "inst/extdata/mixture_fits.rds", compress = "xz")
