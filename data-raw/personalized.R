# Regenerates data/personalized.rda, the consumer panel of
# vignette("personalization") (the personalization paper's analysis).
# Run from the package root after installing the current package
# (R CMD INSTALL .), so that the installed simulator is the one in R/:
#   Rscript data-raw/personalized.R
# tests/testthat/test-simulate-consumers.R checks that the shipped data still
# equal simulate_consumer_panel(seed = 2021); rerun this script whenever the
# simulator changes. The paper's full size (500,000 consumers in 50 markets)
# is simulate_consumer_panel(n_markets = 50, n_consumers = 10000).
library(hbmmm)

sim <- simulate_consumer_panel(seed = 2021)
personalized <- sim$data
# Keep the truth with the data so users can check recovery: population
# parameters under hbmmm's draw names, the sample ATE per exposure, and one
# row per consumer with the true propensity score and individual effects.
attr(personalized, "truth") <- sim$truth
attr(personalized, "ate") <- sim$ate
attr(personalized, "consumers") <- sim$consumers

save(personalized, file = "data/personalized.rda", compress = "xz")
