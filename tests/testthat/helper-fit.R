# Small shared fixtures for specification and fit tests: a tiny simulated
# panel (4 markets x 40 weeks, two media channels used), a spec on it, and
# the plain model/control lists that the C Gibbs entry point reads.

.fit_fixture_cache <- new.env(parent = emptyenv())

# 160 rows: market (factor, 4 levels), week (1..40 within market), sales,
# media tv/search/social/display/email, price, promo, season_sin/cos.
small_panel <- function() {
  if (is.null(.fit_fixture_cache$panel)) {
    .fit_fixture_cache$panel <- simulate_mmm(n_markets = 4, n_weeks = 40, seed = 1)$data
  }
  .fit_fixture_cache$panel
}

small_formula <- sales ~ tv + search + price + (1 + tv | market)

# A valid spec on the small panel; any argument of hbmmm_spec() can be
# overridden (e.g. data = , formula = , media = ).
small_spec <- function(formula = small_formula, data = small_panel(), media = c("tv", "search"),
                       time = "week", ...) {
  hbmmm_spec(formula, data = data, media = media, time = time, ...)
}

# Arguments of hbmmm() for a quick fit on the small panel (use with do.call or
# modifyList to replace one of them).
small_fit_args <- function(...) {
  utils::modifyList(list(formula = small_formula, data = small_panel(), media = c("tv", "search"),
                         time = "week", chains = 1, iter = 20, seed = 1, refresh = 0),
                    list(...))
}

# The control list run_gibbs() hands to .Call(C_hb_gibbs, model, control).
gibbs_control <- function(iter = 5L, warmup = 2L, thin = 1L, refresh = 0L, chain = 1L,
                          progress = function(...) NULL) {
  list(iter = iter, warmup = warmup, thin = thin, refresh = refresh, chain = chain,
       progress = progress)
}

# One chain of the C sampler on a spec, as run_gibbs() calls it.
run_gibbs_once <- function(spec, control = gibbs_control(), seed = 1) {
  model <- hbmmm:::mmm_model_list(spec)
  set.seed(seed)
  .Call(hbmmm:::C_hb_gibbs, model, control)
}

# Is `res` what hb_gibbs returns for `iter`, `warmup`, `thin`?
is_gibbs_result <- function(res, control = gibbs_control()) {
  nsave <- (control$iter - control$warmup + control$thin - 1L) %/% control$thin
  is.list(res) && identical(names(res), c("draws", "accept", "ranef_summary", "state")) &&
    is.matrix(res$draws) && is.double(res$draws) && nrow(res$draws) == nsave &&
    is.matrix(res$accept) && nrow(res$accept) == control$iter && is.list(res$state)
}

# ---- post-sampling warnings -------------------------------------------------
# hbmmm() warns (classed, as Stan does) after short runs; tests of tiny fits
# muffle only those warnings, so any other warning still shows.
SAMPLING_WARNINGS <- paste0("hbmmm_warning_", c("rhat", "ess", "divergent", "treedepth", "ebfmi"))
# Online summaries `rs` of a term against the kept draws of the same run
# (`full`): exact means, sds to 1e-3, and each quantile within 0.6 sd (a
# wrong cell would be off by several sd). Returns the quantile errors in sd.
expect_online_summary <- function(full, rs, group) {
  errs <- numeric(0)
  for (i in seq_len(nrow(rs))) {
    x <- full$draws[, , sprintf("r_%s[%s,%s]", group, rs$level[i], rs$term[i])]
    expect_equal(rs$mean[i], mean(x), tolerance = 1e-10)
    expect_equal(rs$sd[i], sd(as.vector(x)), tolerance = 1e-3)
    e <- c(rs$q2.5[i] - quantile(x, 0.025), rs$q97.5[i] - quantile(x, 0.975)) / sd(x)
    expect_true(all(abs(e) < 0.6))
    errs <- c(errs, e)
  }
  errs
}

quiet_sampling <- function(expr) {
  withCallingHandlers(expr, hbmmm_warning = function(w) {
    if (inherits(w, SAMPLING_WARNINGS)) invokeRestart("muffleWarning")
  })
}

# Fixtures shared by the decision tests (curves, ROI, scenarios, allocation):
# a tiny fit of small_panel() with its expected sampling warnings muffled,
# and the Hill curve in plain R.
decide_fit <- function(...) quiet_sampling(do.call(hbmmm, small_fit_args(...)))
hill_r <- function(x, h, s) x^s / (x^s + h^s)

# A 2-chain, 40-iteration fit of small_panel() (or `data`) with every warning
# muffled: for tests of how components are computed, not of sampling.
quick_fit <- function(data = small_panel(), ...) {
  args <- small_fit_args(chains = 2, iter = 40, ...)
  args$data <- data # modifyList() would merge data frames column by column
  suppressWarnings(do.call(hbmmm, args))
}
