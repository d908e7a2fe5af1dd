# The main job on the bundled example data: look at the panel, transform its
# media with adstock and saturation, and write the plots to a folder.
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

cat(sprintf("\nPlots written to %s/:\n", out_dir))
cat(paste0("  ", basename(list.files(out_dir, pattern = "\\.png$")), collapse = "\n"), "\n")
