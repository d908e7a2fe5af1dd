# The main job on the bundled example data: look at the panel, transform its
# media with adstock and saturation, fit the hierarchical Bayesian MMM with
# the Gibbs sampler, check convergence, turn it into decisions, and write the
# plots and a one-page HTML report (report.html) to a folder.
# Usage (from the package root, after tools/install.sh):
#   Rscript inst/scripts/run-example.R [output-folder]   (default: hbmmm-output)
suppressPackageStartupMessages(library(hbmmm))

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args)) args[1] else "hbmmm-output"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
png_file <- function(name) file.path(out_dir, paste0(name, ".png"))
open_png <- function(name, width = 1400, height = 900) {
  png(png_file(name), width = width, height = height, res = 150)
}

data("mmm_weekly", package = "hbmmm", envir = environment())
truth <- attr(mmm_weekly, "truth")
channels <- c("tv", "search", "social", "display", "email")
pal <- c("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")
names(pal) <- channels

cat("== Example data: mmm_weekly ==\n")
cat(sprintf("%d rows: %d markets x %d weeks (%s to %s)\n", nrow(mmm_weekly),
            nlevels(mmm_weekly$market), length(unique(mmm_weekly$week)),
            format(min(mmm_weekly$date)), format(max(mmm_weekly$date))))
spend <- colSums(mmm_weekly[channels])
cat("\nTotal spend by channel (thousands):\n")
print(round(spend))
cat(sprintf("\nTotal sales: %.0f (thousands)\n", sum(mmm_weekly$sales)))

# Media transforms with the true parameters of the simulation, carry-over
# restarting in each market (rows are stacked market by market).
decay <- truth[paste0("decay_", channels)]
halfsat <- truth[paste0("halfsat_", channels)]
slope <- truth[paste0("slope_", channels)]
X <- as.matrix(mmm_weekly[channels])
ad <- adstock_geometric(X, decay = unname(decay), normalize = TRUE, group = mmm_weekly$market)
sat <- saturation_hill(ad, halfsat = unname(halfsat), slope = unname(slope))
contrib <- sweep(sat, 2, truth[paste0("b_", channels)], `*`)
cat("\nTrue transform parameters; media contribution at the population coefficients:\n")
print(data.frame(decay = round(decay, 2), halfsat = round(halfsat, 1), slope = round(slope, 2),
                 contribution = round(colSums(contrib)),
                 share_of_sales = sprintf("%.1f%%", 100 * colSums(contrib) / sum(mmm_weekly$sales)),
                 row.names = channels))

# 1. sales by market over time
open_png("01-sales-by-market")
mk <- levels(mmm_weekly$market)
cols <- grDevices::hcl.colors(length(mk), "Dark 3")
par(mar = c(4.5, 4.5, 3, 7), xpd = FALSE)
plot(range(mmm_weekly$date), range(mmm_weekly$sales), type = "n", xlab = "week",
     ylab = "sales (thousands)", main = "Weekly sales by market")
for (i in seq_along(mk)) {
  d <- mmm_weekly[mmm_weekly$market == mk[i], ]
  lines(d$date, d$sales, col = cols[i], lwd = 1.5)
}
legend("topright", inset = c(-0.2, 0), legend = mk, col = cols, lwd = 2, bty = "n", xpd = TRUE)
invisible(dev.off())

# 2. spend by channel, summed over markets
open_png("02-spend-by-channel")
wk <- aggregate(mmm_weekly[channels], by = list(date = mmm_weekly$date), FUN = sum)
par(mfrow = c(length(channels), 1), mar = c(1.5, 4.5, 1.5, 1), oma = c(3, 0, 2, 0))
for (ch in channels) {
  plot(wk$date, wk[[ch]], type = "h", col = pal[ch], lwd = 2, xlab = "", ylab = ch, las = 1,
       ylim = c(0, max(wk[[ch]])))
}
mtext("Weekly spend by channel (thousands, all markets)", outer = TRUE, line = 0.5, font = 2)
mtext("week", side = 1, outer = TRUE, line = 1.5)
invisible(dev.off())

# 3. the four adstock kernels
open_png("03-adstock-weights")
lags <- 0:13
W <- cbind(geometric = adstock_weights("geometric", decay = 0.6, max_lag = 13, normalize = TRUE),
           delayed = adstock_weights("delayed", decay = 0.7, delay = 3, max_lag = 13, normalize = TRUE),
           weibull_cdf = adstock_weights("weibull_cdf", shape = 1.5, scale = 4, max_lag = 13, normalize = TRUE),
           weibull_pdf = adstock_weights("weibull_pdf", shape = 2.5, scale = 4, max_lag = 13, normalize = TRUE))
matplot(lags, W, type = "b", pch = 16, lty = 1, col = pal[1:4], xlab = "lag (weeks)",
        ylab = "weight (normalized)", main = "Adstock lag weights")
legend("topright", bty = "n", col = pal[1:4], lwd = 2, pch = 16,
       legend = c("geometric, decay 0.6", "delayed, decay 0.7, delay 3",
                  "Weibull CDF, shape 1.5, scale 4", "Weibull PDF, shape 2.5, scale 4"))
invisible(dev.off())

# 4. raw vs adstocked spend in the first market
open_png("04-adstock-first-market")
rows <- mmm_weekly$market == mk[1]
par(mfrow = c(length(channels), 1), mar = c(1.5, 4.5, 1.5, 1), oma = c(3, 0, 3, 0))
for (ch in channels) {
  plot(mmm_weekly$date[rows], X[rows, ch], type = "h", col = "grey60", lwd = 2,
       xlab = "", ylab = ch, las = 1, ylim = range(0, X[rows, ch], ad[rows, ch]))
  lines(mmm_weekly$date[rows], ad[rows, ch], col = pal[ch], lwd = 2)
}
mtext(sprintf("Spend (grey bars) and geometric adstock (line), market %s", mk[1]),
      outer = TRUE, line = 1, font = 2)
mtext("week", side = 1, outer = TRUE, line = 1.5)
invisible(dev.off())

# 5. saturation (response) curves with the true parameters
open_png("05-response-curves")
grid_x <- seq(0, 3 * max(halfsat), length.out = 300)
resp <- sapply(channels, function(ch) {
  truth[[paste0("b_", ch)]] * saturation_hill(grid_x, halfsat[[paste0("halfsat_", ch)]],
                                              slope[[paste0("slope_", ch)]])
})
matplot(grid_x, resp, type = "l", lty = 1, lwd = 2, col = pal, xlab = "adstocked weekly spend (thousands)",
        ylab = "weekly sales response (thousands)", main = "True Hill response curves",
        sub = "dots: half-saturation points", ylim = c(0, 1.15 * max(resp)))
points(halfsat, truth[paste0("b_", channels)] / 2, pch = 19, col = pal)
legend("top", bty = "n", col = pal, lwd = 2, legend = channels, horiz = TRUE)
invisible(dev.off())

# 6. media contribution over time (all markets)
open_png("06-media-contribution")
ct <- aggregate(contrib, by = list(date = mmm_weekly$date), FUN = sum)
cum <- t(apply(as.matrix(ct[channels]), 1, cumsum))
plot(range(ct$date), c(0, 1.15 * max(cum)), type = "n", xlab = "week",
     ylab = "sales from media (thousands)",
     main = "Media contribution at the true population coefficients, all markets")
for (k in rev(seq_along(channels))) {
  lower <- if (k == 1) rep(0, nrow(cum)) else cum[, k - 1]
  polygon(c(ct$date, rev(ct$date)), c(cum[, k], rev(lower)), col = pal[k], border = NA)
}
legend("top", bty = "n", fill = pal, legend = channels, horiz = TRUE)
invisible(dev.off())

# 7. Fit the hierarchical MMM: media with estimated geometric adstock and Hill
# saturation, controls, and market-level intercepts and TV slopes.
cat("\n== Fitting the hierarchical Bayesian MMM (Gibbs sampler, 4 chains) ==\n")
fit <- hbmmm(sales ~ tv + search + social + display + email + price + promo + season_sin + season_cos +
               (1 + tv | market),
             data = mmm_weekly, media = channels, time = "week",
             chains = 4, iter = 3000, cores = 2, seed = 2024, refresh = 1500)
sm <- summary(fit)
print(sm)
tab <- sm$table
cat(sprintf("\nConvergence: max R-hat %.3f, min bulk ESS %.0f, min tail ESS %.0f over %d parameters\n",
            max(tab$rhat), min(tab$ess_bulk), min(tab$ess_tail), nrow(tab)))
pop <- tab[!startsWith(tab$variable, "r_"), ]
known <- intersect(pop$variable, names(truth))
inside <- with(pop[match(known, pop$variable), ], q2.5 <= truth[known] & truth[known] <= q97.5)
cat(sprintf("True values inside their 95%% intervals: %d of %d\n", sum(inside), length(known)))

# 8. trace plots of the media coefficients and decays (plot(fit, type = "trace"))
open_png("07-trace", 1400, 1100)
show <- c(paste0("b_", channels), paste0("decay_", channels))
plot(fit, type = "trace", variable = show[order(rep(seq_along(channels), 2))])
invisible(dev.off())

# 9. posterior intervals of the population-level media effects, truth marked
open_png("08-media-effects")
bt <- pop[match(paste0("b_", channels), pop$variable), ]
par(mar = c(4.5, 6, 3, 1))
plot(bt$mean, seq_along(channels), xlim = range(bt$q2.5, bt$q97.5, truth[bt$variable]), yaxt = "n",
     pch = 19, xlab = "effect at full saturation (sales, thousands per week)", ylab = "",
     main = "Media coefficients: posterior mean and 95% interval (x: truth)")
segments(bt$q2.5, seq_along(channels), bt$q97.5, seq_along(channels), lwd = 2, col = pal)
points(truth[bt$variable], seq_along(channels), pch = 4, cex = 1.5, lwd = 2)
axis(2, at = seq_along(channels), labels = channels, las = 1)
invisible(dev.off())

# 10. posterior response curves (median and 95% band) against the truth
open_png("09-posterior-response-curves", 1400, 1000)
par(mfrow = c(2, 3), mar = c(4.5, 4.5, 2.5, 1))
dr <- apply(fit$draws, 3, c)
for (ch in channels) {
  xs <- seq(0, 3 * truth[[paste0("halfsat_", ch)]], length.out = 150)
  curves <- vapply(seq_len(nrow(dr)), function(i) {
    dr[i, paste0("b_", ch)] * saturation_hill(xs, dr[i, paste0("halfsat_", ch)], dr[i, paste0("slope_", ch)])
  }, numeric(length(xs)))
  band <- apply(curves, 1, quantile, c(0.025, 0.5, 0.975))
  tr_curve <- truth[[paste0("b_", ch)]] * saturation_hill(xs, truth[[paste0("halfsat_", ch)]], truth[[paste0("slope_", ch)]])
  plot(xs, band[2, ], type = "n", ylim = range(0, band, tr_curve), main = ch,
       xlab = "adstocked weekly spend (thousands)", ylab = "weekly sales response")
  polygon(c(xs, rev(xs)), c(band[1, ], rev(band[3, ])), col = adjustcolor(pal[ch], 0.3), border = NA)
  lines(xs, band[2, ], lwd = 2, col = pal[ch])
  lines(xs, tr_curve, lwd = 2, lty = 2)
}
plot.new()
legend("center", bty = "n", lwd = c(8, 2, 2), lty = c(1, 1, 2), col = c("grey80", "grey30", "black"),
       legend = c("95% posterior band", "posterior median", "truth"))
invisible(dev.off())

# 11. convergence and fit checks with the package's plots
open_png("10-rank-histograms", 1400, 1100)
plot(fit, type = "rank", variable = show[order(rep(seq_along(channels), 2))])
invisible(dev.off())
open_png("11-posterior-predictive-check")
pp_check(fit)
invisible(dev.off())
open_png("12-observed-vs-fitted")
plot(fit, type = "fit")
invisible(dev.off())
open_png("13-channel-contributions")
plot(fit, type = "effects")
invisible(dev.off())
open_png("14-tv-effect-by-market")
plot(fit, type = "violin")
invisible(dev.off())

# 12. information criteria and in-sample fit
cat("\n== Model comparison criteria ==\n")
print(compare_models(hierarchical = fit))

# 12b. The benchmark models of the published comparisons on held-out weeks:
# every model is fitted on weeks 1-80 and predicts weeks 81-104, continuing
# the adstock of the training weeks.
cat("\n== Benchmarks on held-out weeks 81-104 (OLS, ridge, pooled Bayes, multilevel, hbmmm) ==\n")
train <- mmm_weekly[mmm_weekly$week <= 80, ]
test <- mmm_weekly[mmm_weekly$week > 80, ]
f_bench <- sales ~ tv + search + social + display + email + price + promo + season_sin + season_cos +
  (1 + tv | market)
bench <- function(type, ...) {
  fit_baseline(f_bench, train, type = type, media = channels, time = "week", panel = "market", ...)
}
ols <- bench("ols")
ridge <- bench("ridge", fixed_transforms = ols$transforms)
multilevel <- bench("multilevel", fixed_transforms = ols$transforms)
# short runs, enough for point predictions: their convergence checks are
# muffled here and reported as one line (the main fit above is checked in full)
quiet <- function(expr) suppressWarnings(expr, classes = c("hbmmm_warning_rhat", "hbmmm_warning_ess"))
pooled <- quiet(bench("pooled", chains = 2, iter = 2000, seed = 1, refresh = 0))
hier_train <- quiet(hbmmm(f_bench, train, media = channels, time = "week", chains = 2, iter = 2000, seed = 1,
                          refresh = 0))
cat(sprintf("(short runs for the comparison: max R-hat %.3f pooled, %.3f hierarchical)\n",
            max(summary(pooled)$table$rhat), max(summary(hier_train)$table$rhat)))
# PSIS flags a few influential weeks of the hierarchical fit: said as a line
# under the table rather than as a warning
psis_note <- character(0)
bench_tab <- withCallingHandlers(
  compare_models(OLS = ols, ridge = ridge, pooled = pooled, multilevel = multilevel, hbmmm = hier_train,
                 newdata = test),
  hbmmm_warning_pareto_k = function(w) {
    psis_note <<- c(psis_note, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
print(bench_tab)
if (length(psis_note)) cat("LOOIC note:", paste0(psis_note, "\n"), sep = "\n  ")

# 13. Decisions from the fit: response curves, ROI, contributions and the
# budget allocation. Curves are per market and week, in spend units
# (thousands); the budget is the current mean weekly spend per market.
cat("\n== Decisions: response curves, ROI, contributions and budget allocation ==\n")
cv <- response_curves(fit, max_draws = 1000)
print(cv)
open_png("15-response-curves-fit", 1400, 1000)
plot(cv)
invisible(dev.off())

sub <- unique(round(seq(1, nrow(as.matrix(fit)), length.out = 400)))
r <- roi(fit, draws = sub)
print(r)
open_png("16-roi", 1400, 800)
plot(r)
invisible(dev.off())

cb <- contributions(fit, draws = sub)
print(cb)
open_png("17-contributions", 1600, 900)
plot(cb)
invisible(dev.off())

# reallocate the same weekly budget, each channel between half and twice its
# current spend, and never beyond the largest weekly spend seen in the data
# (where the curve would be extrapolated)
current <- cv$curves$spend
names(current) <- cv$curves$id
upper <- pmin(2 * current, cv$curves$spend_max)
al <- allocate_budget(cv, bounds = c(0.5, 2), upper = upper)
print(al)
open_png("18-allocation", 1400, 800)
plot(al)
invisible(dev.off())

# risk-aware: the plan that maximizes the 10% quantile of the response
al_q <- allocate_budget(cv, bounds = c(0.5, 2), upper = upper, objective = "quantile", quantile = 0.1)
cat("\nRisk-aware plan (10% quantile):\n")
print(round(setNames(al_q$table$optimal, al_q$table$channel), 2))

# what-if: move 10% of the TV budget to search
sc <- simulate_scenario(cv, shift = list(from = "tv", to = "search", amount = 0.1 * current[["tv"]]))
print(sc)

# 19. the one-page HTML report: data, convergence, effects, ROI, curves,
# contributions, the held-out benchmark comparison and the allocation with
# the what-if plan above, figures embedded (opens offline)
shifted <- current
shifted[["tv"]] <- 0.9 * current[["tv"]]
shifted[["search"]] <- current[["search"]] + 0.1 * current[["tv"]]
report <- mmm_report(fit, file.path(out_dir, "report.html"), title = "hbmmm example: weekly sales by market",
                     allocation = al, comparison = bench_tab, plans = list("10% of TV to search" = shifted))

cat(sprintf("\nPlots written to %s/:\n", out_dir))
cat(paste0("  ", basename(list.files(out_dir, pattern = "\\.png$")), collapse = "\n"), "\n")
cat(sprintf("Report: %s\n", report))
