# The individual-level panel of the scale benchmark (gibbs_scale.R) and of
# the convergence check (inst/validation/convergence.R): n_ind individuals x
# n_weeks weeks in n_mkt markets, 5 channels with geometric adstock and Hill
# saturation, random intercepts and media slopes by individual and by market.
# Exposures are generated directly (simulate_mmm() is market level).
# The first n_channels of the five channels are used. Returns list(data,
# formula, channels, truth).
make_scale_panel <- function(n_ind, n_weeks = 20L, n_mkt = 50L, seed = 1, n_channels = 5L) {
  set.seed(seed)
  channels <- c("tv", "search", "social", "display", "email")[seq_len(n_channels)]
  n <- n_ind * n_weeks
  ind <- rep(seq_len(n_ind), each = n_weeks)
  mkt <- ((seq_len(n_ind) - 1L) %% n_mkt + 1L)[ind]
  d <- data.frame(individual = ind, market = mkt, week = rep(seq_len(n_weeks), n_ind))
  decay <- c(0.6, 0.2, 0.3, 0.4, 0.3); halfsat <- c(3, 1.5, 1, 2, 0.8); slope <- c(2, 1.2, 1.5, 2.5, 1)
  beta <- c(4, 3, 2, 1.5, 2.5)
  y <- 10 + rnorm(n_mkt, 0, 1)[mkt] + rnorm(n_ind, 0, 1.5)[ind]
  for (j in seq_along(channels)) {
    x <- rexp(n, 1 / halfsat[j]) * rbinom(n, 1, 0.6)
    d[[channels[j]]] <- x
    m <- saturation_hill(adstock_geometric(x, decay[j], normalize = TRUE, group = ind), halfsat[j], slope[j])
    b <- beta[j] + rnorm(n_mkt, 0, 0.3)[mkt] + rnorm(n_ind, 0, 0.5)[ind]
    y <- y + b * m
  }
  d$y <- y + rnorm(n, 0, 1)
  rhs <- paste(channels, collapse = " + ")
  f <- stats::as.formula(sprintf("y ~ %s + (1 + %s | market) + (1 + %s | individual)", rhs, rhs, rhs))
  list(data = d, formula = f, channels = channels,
       truth = list(decay = decay, halfsat = halfsat, slope = slope, beta = beta))
}

# Peak resident memory of this process in GB (Linux), NA elsewhere.
peak_rss_gb <- function() {
  s <- tryCatch(readLines("/proc/self/status"), error = function(e) character(0))
  hwm <- grep("^VmHWM", s, value = TRUE)
  if (!length(hwm)) return(NA_real_)
  as.numeric(gsub("[^0-9]", "", hwm)) / 1024^2
}
