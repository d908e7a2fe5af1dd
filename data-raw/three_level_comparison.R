# Precomputes the model comparisons of vignette("three-level-causal") (the
# paper's Tables 3, 5 and 9) and saves them to
# inst/extdata/three_level_comparison.rds. compare_models() evaluates
# PSIS-LOO for every one of the 6,528 training rows of seven models, which
# takes a few minutes: too long for a vignette build. The fits below are the
# vignette's (same data, formulas, settings and seeds; the vignette stops if
# the stored formulas, settings or data differ from its own).
# Run from the package root after installing the current package and
# regenerating data/three_level.rda:
#   Rscript data-raw/three_level_comparison.R
library(hbmmm)

d <- three_level
chars <- c("loyalty", "income", "age", "past_value", "tenure", "price", "purchasing_power")
for (v in chars) d[[paste0(v, "_c")]] <- d[[v]] - mean(d[[v]])
train <- d[d$week <= 17, ]
test <- d[d$week > 17, ]

channels <- c("tv", "display", "social", "email", "direct_mail")
controls <- "loyalty_c + income_c + age_c + past_value_c + tenure_c + price_c + purchasing_power_c"
bars <- "(1 + tv + display + social || market:product) + (1 | market:product:individual)"
media <- "tv + display + social + email + direct_mail"
formulas <- list(
  base = paste("sales ~", media),
  hierarchical = paste("sales ~", media, "+", controls, "+", bars),
  causal = paste("sales ~", media, "+ campaign + targeted +", controls, "+", bars),
  full = paste("sales ~ (", media, "+ campaign) * segment + targeted +", controls, "+", bars),
  multilevel = paste("sales ~ (", media, "+ campaign) * segment + targeted +", controls,
                     "+ (1 | individual)"))
settings <- list(media = channels, adstock = "none", saturation = "none",
                 spend = setNames(paste0(channels, "_spend"), channels), time = "week",
                 panel = "individual", chains = 2, iter = 1000, seed = 1, refresh = 0)
fit_model <- function(f) do.call(hbmmm, c(list(as.formula(f), data = train), settings))

fits <- lapply(formulas[c("base", "hierarchical", "causal", "full")], fit_model)
tr <- settings[c("media", "adstock", "saturation", "time", "panel")]
ols <- do.call(fit_baseline, c(list(as.formula(formulas$full), train, type = "ols"), tr))
pooled <- do.call(fit_baseline, c(list(as.formula(formulas$full), train, type = "pooled"), tr,
                                  settings[c("spend", "chains", "iter", "seed", "refresh")]))
multilevel <- do.call(fit_baseline, c(list(as.formula(formulas$multilevel), train, type = "multilevel"), tr))

comparison <- compare_models(base = fits$base, hierarchical = fits$hierarchical, causal = fits$causal,
                             full = fits$full, traditional = ols, pooled = pooled,
                             multilevel = multilevel, newdata = test)
saveRDS(list(comparison = structure(comparison, class = "data.frame"),
             formulas = formulas, settings = settings,
             # identifies the data the comparison was run on (checked by the
             # vignette and the tests, so stale results cannot ship unnoticed)
             data_check = sum(three_level$sales),
             created = format(Sys.Date()), hbmmm = as.character(utils::packageVersion("hbmmm"))),
        file = "inst/extdata/three_level_comparison.rds", version = 2)
