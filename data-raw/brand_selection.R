# Precomputes inst/extdata/brand_selection.rds, the BIC selection of each
# channel's adstock and saturation form on brand_weekly that the vignette
# "budget-optimization" shows. The search fits tens of candidates by
# nonlinear least squares (2 to 7 s each on eight channels), too long for a
# vignette build, so its result is shipped. Run from the package root after
# installing the current package (R CMD INSTALL .):
#   Rscript data-raw/brand_selection.R
# Rerun whenever brand_weekly, fit_baseline() or select_transforms() change;
# tests/testthat/test-select.R checks that the shipped best candidate's BIC
# is still the one fit_baseline() gives (one fit, not the whole search).
# One run: 49 candidates, 157 s on one core.
library(hbmmm)

brand_selection_formula <- revenue ~ tv + ooh + radio + print + video + display + social + search +
  price + distribution + promo + competitor + christmas + trend(week) + seasonality(week, 52, 2)
channels <- c("tv", "ooh", "radio", "print", "video", "display", "social", "search")

t0 <- proc.time()[["elapsed"]]
sel <- select_transforms(brand_selection_formula, brand_weekly, media = channels, time = "week",
                         adstock = c("geometric", "weibull_pdf"), saturation = c("hill", "logistic"))
seconds <- proc.time()[["elapsed"]] - t0
# labelled so that a reader of the file knows what it is and how it was made
sel$precomputed <- list(script = "data-raw/brand_selection.R", seconds = round(seconds),
                        formula = brand_selection_formula, hbmmm = as.character(utils::packageVersion("hbmmm")))
environment(sel$precomputed$formula) <- globalenv()
print(sel)
saveRDS(sel, "inst/extdata/brand_selection.rds", compress = "xz")
