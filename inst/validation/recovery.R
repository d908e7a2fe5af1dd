# Long parameter-recovery check of hbmmm on the two published hierarchical
# models: for each model, simulate R datasets (simulate_three_level(),
# simulate_personalized(), and simulate_personalized(n_factors = 1)), fit
# each with the formula and arguments the simulator returns, and measure how
# often the 50% and 95% central posterior intervals cover the true
# population-level parameters. A calibrated sampler with priors that the data
# dominate covers each parameter at close to the nominal rate.
#
# Usage (from the package root or anywhere once hbmmm is installed):
#   Rscript inst/validation/recovery.R [R] [key=value ...]
# with
#   R            replicates per model (default 50)
#   models=      comma-separated subset of three_level,personalized,factor
#   iter=        iterations per chain, half warmup (default 4000; 2 chains)
#   prior=       "vague" (default: inverse-gamma(ig, ig) on every variance, as in
#                tests/testthat/test-recovery.R) or "default" (hbmmm's
#                data-based defaults)
#   ig=          shape and scale of the vague inverse-gamma prior (default 0.1)
#   cores=       replicates fitted in parallel (default 1)
#   first_seed=  seed of the first replicate (default 1)
#   out=         optional .rds file for the raw per-replicate results
#
# Prints, per model and parameter, the empirical coverage of the 50% and 95%
# intervals with an exact (Clopper-Pearson) 95% binomial interval, the mean and
# sd of the standardized error (posterior mean - truth) / posterior sd, and a
# flag when the nominal rate lies outside a Bonferroni-adjusted binomial
# interval; then pooled coverage, how often the quick test's pass rule
# (tests/testthat/test-recovery.R) holds, and an overall verdict.

suppressPackageStartupMessages(library(hbmmm))
options(width = 200)

args <- commandArgs(trailingOnly = TRUE)
opt <- list(R = 50L, models = "three_level,personalized,factor", iter = 4000L,
            prior = "vague", ig = "0.1", cores = 1L, first_seed = 1L, out = "")
for (a in args) {
  if (!grepl("=", a, fixed = TRUE)) {
    opt$R <- as.integer(a)
  } else {
    kv <- strsplit(a, "=", fixed = TRUE)[[1]]
    if (!kv[1] %in% names(opt)) stop(sprintf("unknown option `%s`; options: %s", kv[1], paste(names(opt), collapse = ", ")))
    opt[[kv[1]]] <- if (is.integer(opt[[kv[1]]])) as.integer(kv[2]) else kv[2]
  }
}
stopifnot(opt$R >= 1, opt$iter >= 100, opt$prior %in% c("vague", "default"))
models <- strsplit(opt$models, ",", fixed = TRUE)[[1]]

MODELS <- list(
  three_level = list(sim = function(seed) simulate_three_level(seed = seed), factors = FALSE,
                     offset = 0L),
  personalized = list(sim = function(seed) simulate_personalized(seed = seed), factors = FALSE,
                      offset = 100000L),
  factor = list(sim = function(seed) simulate_personalized(n_factors = 1, seed = seed),
                factors = TRUE, offset = 200000L)
)
bad <- setdiff(models, names(MODELS))
if (length(bad)) stop(sprintf("unknown model `%s`; models: %s", bad[1], paste(names(MODELS), collapse = ", ")))

prior_for_model <- function(m) {
  if (opt$prior == "default") return(NULL)
  ig <- as.numeric(opt$ig)
  hbmmm_prior(cov = inv_gamma(ig, ig), sigma = inv_gamma(ig, ig),
              psi = if (MODELS[[m]]$factors) inv_gamma(ig, ig))
}

# The pass rule of the quick test (tests/testthat/test-recovery.R).
quick_rule <- function(tab, channels) {
  covered <- tab$lo95 <= tab$truth & tab$truth <= tab$hi95
  z <- (tab$mean - tab$truth) / tab$sd
  parts <- strsplit(sub("^b_", "", tab$variable), ":", fixed = TRUE)
  media <- startsWith(tab$variable, "b_") & vapply(parts, function(p) any(p %in% channels), logical(1))
  mean(covered) >= 0.75 && all(abs(z[media]) < 4) && all(abs(z) < 7)
}

one_replicate <- function(m, r) {
  seed <- opt$first_seed + r - 1L
  tryCatch(replicate_fit(m, seed), error = function(e) list(error = conditionMessage(e), seed = seed))
}

replicate_fit <- function(m, seed) {
  sim <- MODELS[[m]]$sim(MODELS[[m]]$offset + seed)
  t0 <- proc.time()[["elapsed"]]
  fit <- do.call(hbmmm, c(list(sim$formula, data = sim$data), sim$hbmmm_args,
                          list(prior = prior_for_model(m), chains = 2, iter = opt$iter, seed = seed,
                               refresh = 0)))
  el <- proc.time()[["elapsed"]] - t0
  v <- names(sim$truth)
  d <- fit$draws[, , v, drop = FALSE]
  q <- apply(d, 3, stats::quantile, probs = c(0.025, 0.25, 0.75, 0.975), names = FALSE)
  s <- summary(fit)$table
  s <- s[match(v, s$variable), ]
  tab <- data.frame(variable = v, truth = unname(sim$truth), mean = apply(d, 3, mean),
                    sd = apply(d, 3, stats::sd), lo95 = q[1, ], lo50 = q[2, ], hi50 = q[3, ],
                    hi95 = q[4, ], rhat = s$rhat, ess_bulk = s$ess_bulk, stringsAsFactors = FALSE)
  list(tab = tab, seconds = el, seed = seed,
       quick_pass = quick_rule(tab, sim$hbmmm_args$media))
}

binom_ci <- function(x, n, level = 0.95) stats::binom.test(x, n, conf.level = level)$conf.int

summarise_model <- function(m, res) {
  # mclapply returns a "try-error" string for a worker that died
  res <- lapply(res, function(x) if (is.list(x)) x else list(error = as.character(x), seed = NA_integer_))
  ok <- vapply(res, function(x) is.null(x$error), logical(1))
  if (any(!ok)) {
    cat(sprintf("  %d of %d fits failed; first error (seed %d): %s\n", sum(!ok), length(res),
                res[!ok][[1]]$seed, res[!ok][[1]]$error))
  }
  res <- res[ok]
  n <- length(res)
  if (!n) return(list(pass = FALSE))
  all_tab <- do.call(rbind, lapply(seq_along(res), function(i) cbind(rep = i, res[[i]]$tab)))
  all_tab$in50 <- all_tab$lo50 <= all_tab$truth & all_tab$truth <= all_tab$hi50
  all_tab$in95 <- all_tab$lo95 <= all_tab$truth & all_tab$truth <= all_tab$hi95
  all_tab$z <- (all_tab$mean - all_tab$truth) / all_tab$sd
  vars <- unique(all_tab$variable)
  # Bonferroni over both interval levels of every parameter of the model
  level_b <- 1 - 0.05 / (2 * length(vars))
  rows <- lapply(vars, function(v) {
    t <- all_tab[all_tab$variable == v, ]
    c50 <- sum(t$in50)
    c95 <- sum(t$in95)
    ci50 <- binom_ci(c50, n)
    ci95 <- binom_ci(c95, n)
    flag <- !(0.5 >= binom_ci(c50, n, level_b)[1] && 0.5 <= binom_ci(c50, n, level_b)[2]) ||
      !(0.95 >= binom_ci(c95, n, level_b)[1] && 0.95 <= binom_ci(c95, n, level_b)[2])
    data.frame(parameter = v, truth = signif(t$truth[1], 4),
               cover50 = sprintf("%.2f [%.2f, %.2f]", c50 / n, ci50[1], ci50[2]),
               cover95 = sprintf("%.2f [%.2f, %.2f]", c95 / n, ci95[1], ci95[2]),
               mean_z = round(mean(t$z), 2), sd_z = round(stats::sd(t$z), 2),
               max_rhat = round(max(t$rhat), 3), min_ess = round(min(t$ess_bulk)),
               flag = if (flag) "<--" else "", stringsAsFactors = FALSE)
  })
  out <- do.call(rbind, rows)
  print(out, row.names = FALSE, right = FALSE)
  p50 <- mean(all_tab$in50)
  p95 <- mean(all_tab$in95)
  # pooled coverage: the parameters of one replicate are not independent, so
  # its interval is a cluster bootstrap over replicates
  boot <- replicate(2000, {
    i <- sample.int(n, n, replace = TRUE)
    c(mean(vapply(i, function(k) mean(all_tab$in50[all_tab$rep == k]), 0)),
      mean(vapply(i, function(k) mean(all_tab$in95[all_tab$rep == k]), 0)))
  })
  b50 <- stats::quantile(boot[1, ], c(0.025, 0.975))
  b95 <- stats::quantile(boot[2, ], c(0.025, 0.975))
  quick <- vapply(res, `[[`, TRUE, "quick_pass")
  secs <- vapply(res, `[[`, 0, "seconds")
  cat(sprintf("\n  pooled coverage over %d parameters x %d replicates: 50%% intervals %.3f [%.3f, %.3f], 95%% intervals %.3f [%.3f, %.3f]\n",
              length(vars), n, p50, b50[1], b50[2], p95, b95[1], b95[2]))
  cat(sprintf("  standardized errors: mean %.2f, sd %.2f; |z| > 3 in %.1f%% of parameter-replicates\n",
              mean(all_tab$z), stats::sd(all_tab$z), 100 * mean(abs(all_tab$z) > 3)))
  cat(sprintf("  quick-test rule holds in %d of %d replicates (%.0f%%)\n", sum(quick), n, 100 * mean(quick)))
  cat(sprintf("  fit time per replicate: median %.1f s (2 chains x %d iterations)\n", stats::median(secs), opt$iter))
  flagged <- out$parameter[out$flag != ""]
  pass <- !length(flagged) && p50 > 0.42 && p50 < 0.58 && p95 > 0.9 && p95 < 0.985
  cat(sprintf("  %s%s\n", if (pass) "PASS" else "FAIL",
              if (length(flagged)) paste0(": coverage off nominal for ", paste(flagged, collapse = ", ")) else ""))
  list(pass = pass, table = all_tab)
}

cat(sprintf("hbmmm %s parameter recovery: %d replicates per model, 2 chains x %d iterations, %s priors\n",
            format(utils::packageVersion("hbmmm")), opt$R, opt$iter,
            if (opt$prior == "vague") sprintf("vague (inverse-gamma(%s, %s) on variances)", opt$ig, opt$ig) else "hbmmm's default"))
verdict <- TRUE
raw <- list()
for (m in models) {
  t0 <- proc.time()[["elapsed"]]
  res <- if (opt$cores > 1L) {
    parallel::mclapply(seq_len(opt$R), function(r) one_replicate(m, r), mc.cores = opt$cores,
                       mc.preschedule = FALSE)
  } else lapply(seq_len(opt$R), function(r) one_replicate(m, r))
  cat(sprintf("\n== %s: %d replicates in %.0f s\n", m, opt$R, proc.time()[["elapsed"]] - t0))
  s <- summarise_model(m, res)
  raw[[m]] <- res
  verdict <- verdict && s$pass
}
if (nzchar(opt$out)) saveRDS(raw, opt$out)
cat(if (verdict) "\nOVERALL: PASS - posterior intervals cover the truth at close to the nominal rates\n"
    else "\nOVERALL: FAIL - coverage is off nominal for some model or parameter (see above)\n")
