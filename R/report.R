# The one-page HTML report of a fit: data, convergence, channel effects,
# ROI, response curves, contributions, model comparison and the allocation,
# with every figure embedded so that the file opens offline on its own. It
# is built from the package's own results and plots (nothing is computed
# twice in another way) with base R only.

#' One-page HTML report of a marketing mix model
#'
#' Writes a single self-contained HTML file (figures embedded as PNG data,
#' no external files or links, opens offline) that summarizes a fit for the
#' people who act on it: the data, convergence (R-hat and ESS of every
#' population-level parameter, trace and rank plots of the slowest-mixing
#' ones), channel effects, ROI and marginal ROI ([roi()]), response curves
#' with their saturation points ([response_curves()]), contributions over
#' time ([contributions()]), a model comparison when given
#' ([compare_models()]) and the budget allocation ([allocate_budget()]) with
#' the current, optimal and any user-given plans and the change of the
#' response with its interval.
#'
#' @param fit An `hbmmm_fit` with media channels.
#' @param file Path of the HTML file to write.
#' @param title Title of the page (default: the model's formula).
#' @param allocation An `hbmmm_allocation` to report (default: computed by
#'   `allocate_budget(fit)` at the current total budget), or `FALSE` to leave
#'   the allocation out.
#' @param plans Named list of further plans to compare with the current one:
#'   each a vector of spend per period named by channel (channels not named
#'   keep their current spend), evaluated on the fit's response curves with
#'   [simulate_scenario()].
#' @param comparison The result of [compare_models()] to include, or `NULL`.
#' @param level Probability of the credible intervals.
#' @param max_draws Posterior draws used for curves, ROI and contributions
#'   (evenly thinned; all when fewer).
#' @return The path of the file, invisibly.
#' @seealso [roi()], [contributions()], [response_curves()],
#'   [allocate_budget()].
#' @examples
#' \donttest{
#' fit <- hbmmm(sales ~ tv + search + price + (1 | market), data = mmm_weekly,
#'              media = c("tv", "search"), time = "week", chains = 2, iter = 400,
#'              seed = 1, refresh = 0)
#' path <- mmm_report(fit, file.path(tempdir(), "report.html"),
#'                    plans = list("more search" = c(search = 12)))
#' }
#' @export
mmm_report <- function(fit, file = "hbmmm-report.html", title = NULL, allocation = NULL, plans = NULL,
                       comparison = NULL, level = 0.9, max_draws = 1000) {
  if (!inherits(fit, "hbmmm_fit")) {
    abort_input("fit", sprintf("must be an hbmmm_fit; found %s", describe_value(fit)))
  }
  check_model_fit(fit, "fit", "mmm_report()")
  if (!length(fit$spec$media)) abort_input("fit", "has no media channels; the report is about channels")
  if (!is.character(file) || length(file) != 1L || is.na(file) || !nzchar(file)) {
    abort_input("file", sprintf("must be one file path; found %s", describe_value(file)))
  }
  if (!dir.exists(dirname(file))) abort_input("file", sprintf("is in folder `%s`, which does not exist", dirname(file)))
  if (is.null(title)) title <- deparse1(fit$spec$formula)
  if (!is.character(title) || length(title) != 1L || is.na(title)) {
    abort_input("title", sprintf("must be one string; found %s", describe_value(title)))
  }
  level <- check_level(level)
  max_draws <- check_count(max_draws, "max_draws", 1, 1e7)
  if (!is.null(comparison) && !inherits(comparison, "hbmmm_comparison")) {
    abort_input("comparison", sprintf("must be the result of compare_models() or NULL; found %s", describe_value(comparison)))
  }
  if (!(is.null(allocation) || isFALSE(allocation) || inherits(allocation, "hbmmm_allocation"))) {
    abort_input("allocation", sprintf("must be an hbmmm_allocation, NULL (computed) or FALSE (left out); found %s",
                                      describe_value(allocation)))
  }
  S <- prod(dim(fit$draws)[1:2])
  draws <- if (S > max_draws) unique(round(seq(1, S, length.out = max_draws))) else seq_len(S)
  cv <- response_curves(fit, draws = draws)
  plans <- check_report_plans(plans, paid_curves(cv))
  if (is.null(allocation)) allocation <- allocate_budget(fit, level = level)
  sections <- c(
    report_data(fit),
    report_convergence(fit),
    report_effects(fit),
    report_roi(roi(fit, draws = draws, level = level)),
    report_curves(cv, level),
    report_contributions(contributions(fit, draws = draws, level = level)),
    if (!is.null(comparison)) report_comparison(comparison),
    if (!isFALSE(allocation)) report_allocation(allocation, paid_curves(cv), plans, level)
  )
  html <- html_page(title, sections)
  writeLines(html, file, useBytes = TRUE)
  invisible(file)
}

check_report_plans <- function(plans, cv) {
  if (is.null(plans)) return(list())
  if (!is.list(plans) || is.null(names(plans)) || any(!nzchar(names(plans))) || anyDuplicated(names(plans))) {
    abort_input("plans", sprintf("must be a list of plans with distinct names, e.g. list(\"more tv\" = c(tv = 120)); found %s",
                                 describe_value(plans)))
  }
  for (nm in names(plans)) plan_vector(plans[[nm]], cv, "plans", default = NA_real_)
  plans
}

# ---- sections --------------------------------------------------------------

report_data <- function(fit) {
  spec <- fit$spec
  data <- original_data(spec)
  media <- spec$media
  rows <- c(Rows = format(spec$nobs, big.mark = ","),
            Response = sprintf("%s (total %s)", spec$response, fmt_num(sum(observed_y(fit)), 6)),
            Channels = paste(media, collapse = ", "))
  if (!is.null(spec$time)) {
    tm <- data[[spec$time]]
    rows <- c(rows, Time = sprintf("`%s` from %s to %s (%d periods)", spec$time, format(min(tm)), format(max(tm)),
                                   length(unique(tm))))
  }
  for (g in names(spec$ranef)) rows <- c(rows, stats::setNames(sprintf("%d levels", length(spec$ranef[[g]]$levels)), paste("Group", g)))
  if (!is.null(spec$population)) rows <- c(rows, Population = sprintf("per capita, by `%s`", spec$population))
  ctl <- fit$control
  rows <- c(rows, Sampler = sprintf("%s, %d chain(s) x %d iterations (%d warmup)", fit$sampler, ctl$chains,
                                    ctl$iter, ctl$warmup))
  paid <- setdiff(media, spec$organic)
  sp <- spend_totals(spec, data, paid)
  spend <- data.frame(channel = paid, `total spend` = fmt_num(sp, 6),
                      `share of spend` = sprintf("%.1f%%", 100 * sp / sum(sp)), check.names = FALSE)
  html_section("Data and model", c(
    html_table(data.frame(item = names(rows), value = unname(rows)), header = FALSE),
    html_table(spend),
    html_figure(function() plot(fit, "fit"), "Observed and fitted response")))
}

report_convergence <- function(fit) {
  tab <- population_table(fit)
  bad <- tab$rhat > 1.01 | tab$ess_bulk < 400 | tab$ess_tail < 400
  worst <- utils::head(tab$variable[order(tab$ess_bulk)], 4)
  note <- if (any(bad, na.rm = TRUE)) {
    sprintf("%d of %d population-level parameters have R-hat above 1.01 or an ESS below 400 (marked): run longer before acting on them.",
            sum(bad, na.rm = TRUE), nrow(tab))
  } else sprintf("All %d population-level parameters have R-hat at most 1.01 and bulk and tail ESS of at least 400.", nrow(tab))
  shown <- data.frame(parameter = tab$variable, mean = fmt_num(tab$mean, 4), sd = fmt_num(tab$sd, 3),
                      `95% interval` = sprintf("[%s, %s]", fmt_num(tab$q2.5, 3), fmt_num(tab$q97.5, 3)),
                      `R-hat` = sprintf("%.3f", tab$rhat), `bulk ESS` = sprintf("%.0f", tab$ess_bulk),
                      `tail ESS` = sprintf("%.0f", tab$ess_tail), check.names = FALSE)
  html_section("Convergence", c(
    html_p(note),
    html_table(shown, flag = bad),
    html_figure(function() plot(fit, "trace", variable = worst), "Trace plots of the slowest-mixing parameters"),
    html_figure(function() plot(fit, "rank", variable = worst), "Rank plots of the same parameters (uniform when chains agree)")))
}

report_effects <- function(fit) {
  html_section("Channel effects", c(
    html_p("Posterior of each channel's population-level coefficient (on the model's scale of transformed media)."),
    html_figure(function() plot(fit, "effects"), "Media effects")))
}

report_roi <- function(r) {
  lv <- format_pct(attr(r, "level"))
  tab <- data.frame(channel = r$channel, spend = fmt_num(r$spend, 6),
                    contribution = fmt_interval(r$contribution, r$contribution_lower, r$contribution_upper, 4),
                    ROI = fmt_interval(r$roi, r$roi_lower, r$roi_upper, 3),
                    `marginal ROI` = fmt_interval(r$mroi, r$mroi_lower, r$mroi_upper, 3), check.names = FALSE)
  html_section("Return on investment", c(
    html_p(sprintf("Contribution of each channel over the data divided by its spend, and the return of the next unit of spend (%s intervals).", lv)),
    html_table(tab),
    html_figure(function() plot(r), "ROI by channel")))
}

report_curves <- function(cv, level) {
  s <- summary(cv, level = level)
  t <- s$table
  tab <- data.frame(channel = t$curve, `spend per period` = fmt_num(t$spend, 4),
                    response = fmt_interval(t$response, t$response_lower, t$response_upper, 3),
                    marginal = fmt_interval(t$marginal, t$marginal_lower, t$marginal_upper, 3),
                    `saturation point` = ifelse(is.na(t$saturation_point), "none",
                                                fmt_interval(t$saturation_point, t$saturation_lower, t$saturation_upper, 3)),
                    check.names = FALSE)
  html_section("Response curves", c(
    html_p(paste(c("Response per period at a steady spend; the saturation point is the spend at which a channel reaches",
                   sprintf("%s of its maximum response.", format_pct(s$saturation_level)), s$units), collapse = " ")),
    html_table(tab),
    html_figure(function() plot(cv), "Response curves with their posterior bands")))
}

report_contributions <- function(cb) {
  tab <- contributions_table(cb)
  names(tab)[4] <- sprintf("mean |effect| per %s", if (cb$by == "time") "period" else "row")
  html_section("Contributions", c(
    html_p(paste(sprintf("What each part of the model adds to %s, summed over the data.", cb$response),
                 if (any(tab$centred)) "Controls are measured from their averages (their levels are in the baseline), so each sums to zero; the last column says how far each moves the outcome.")),
    html_table(tab[names(tab) != "centred"]),
    html_figure(function() plot(cb), "Contributions over time")))
}

report_comparison <- function(cmp) {
  d <- as.data.frame(unclass(cmp), stringsAsFactors = FALSE)
  num <- vapply(d, is.numeric, TRUE)
  d[num] <- lapply(d[num], function(v) ifelse(is.na(v), "", fmt_num(v, 4)))
  if (!is.null(rownames(cmp)) && !"model" %in% names(d)) d <- cbind(model = rownames(cmp), d)
  html_section("Model comparison", html_table(d))
}

report_allocation <- function(a, cv, plans, level) {
  tab <- a$table
  cur <- stats::setNames(tab$current, tab$channel)
  opt <- stats::setNames(tab$optimal, tab$channel)
  runs <- c(list(optimal = opt), lapply(plans, function(p) {
    v <- cur
    v[names(p)] <- p
    v
  }))
  rows <- lapply(names(runs), function(nm) {
    sc <- simulate_scenario(cv, plan = runs[[nm]][cv$curves$id], current = cur[cv$curves$id], level = level)
    o <- sc$outcome
    ch <- sc$change
    data.frame(plan = nm, spend = fmt_num(sum(runs[[nm]]), 5),
               response = fmt_interval(o$mean[2], o$lower[2], o$upper[2], 4),
               `change vs current` = sprintf("%s (%+.1f%%)", fmt_interval(ch$mean, ch$lower, ch$upper, 3), ch$percent),
               `P(gain)` = sprintf("%.2f", ch$prob_increase), check.names = FALSE)
  })
  first <- simulate_scenario(cv, plan = cur[cv$curves$id], current = cur[cv$curves$id], level = level)$outcome
  plans_tab <- rbind(data.frame(plan = "current", spend = fmt_num(sum(cur), 5),
                                response = fmt_interval(first$mean[1], first$lower[1], first$upper[1], 4),
                                `change vs current` = "", `P(gain)` = "", check.names = FALSE),
                     do.call(rbind, rows))
  by_channel <- data.frame(channel = tab$channel, current = fmt_num(tab$current, 4), optimal = fmt_num(tab$optimal, 4),
                           change = fmt_num(tab$optimal - tab$current, 3), `share of budget` = sprintf("%.1f%%", 100 * tab$share),
                           check.names = FALSE)
  printed <- utils::capture.output(print(a))
  html_section("Budget allocation", c(
    html_p(paste("Spend per period at steady state. The plans are evaluated on the fit's response curves, each against the current plan",
                 sprintf("(%s intervals; P(gain) is the posterior probability that the plan's response exceeds the current one's).", format_pct(level)))),
    html_table(plans_tab),
    html_table(by_channel),
    html_figure(function() plot(a), "Current and optimal spend by channel"),
    html_details("The allocation as printed by allocate_budget()", html_pre(printed))))
}

# ---- HTML ------------------------------------------------------------------

html_escape <- function(x) {
  x <- gsub("&", "&amp;", x, fixed = TRUE)
  x <- gsub("<", "&lt;", x, fixed = TRUE)
  x <- gsub(">", "&gt;", x, fixed = TRUE)
  gsub("\"", "&quot;", x, fixed = TRUE)
}

html_p <- function(text) sprintf("<p>%s</p>", html_escape(text))

html_pre <- function(lines) sprintf("<pre>%s</pre>", paste(html_escape(lines), collapse = "\n"))

html_details <- function(summary, body) {
  c(sprintf("<details><summary>%s</summary>", html_escape(summary)), body, "</details>")
}

html_section <- function(title, body) {
  c(sprintf("<section><h2>%s</h2>", html_escape(title)), body, "</section>")
}

# A data frame as a table; rows where `flag` is TRUE are marked.
html_table <- function(d, header = TRUE, flag = NULL) {
  cells <- vapply(d, function(v) html_escape(as.character(v)), character(nrow(d)))
  cells <- matrix(cells, nrow(d))
  cls <- if (is.null(flag)) rep("", nrow(d)) else ifelse(!is.na(flag) & flag, " class=\"flag\"", "")
  body <- sprintf("<tr%s>%s</tr>", cls, apply(cells, 1, function(r) paste0("<td>", r, "</td>", collapse = "")))
  head <- if (header) sprintf("<thead><tr>%s</tr></thead>", paste0("<th>", html_escape(names(d)), "</th>", collapse = ""))
  c("<table>", head, "<tbody>", body, "</tbody></table>")
}

# A figure drawn by `draw()` into a PNG, embedded as base64 data.
html_figure <- function(draw, caption, width = 1400, height = 850) {
  f <- tempfile(fileext = ".png")
  on.exit(unlink(f), add = TRUE)
  grDevices::png(f, width = width, height = height, res = 150)
  tryCatch(suppressWarnings(draw(), classes = "hbmmm_warning_online_ranef"), finally = grDevices::dev.off())
  bytes <- readBin(f, "raw", file.info(f)$size)
  sprintf("<figure><img alt=\"%s\" src=\"data:image/png;base64,%s\"><figcaption>%s</figcaption></figure>",
          html_escape(caption), base64_encode(bytes), html_escape(caption))
}

# RFC 4648 base64 of a raw vector (base R has no encoder).
base64_encode <- function(bytes) {
  if (!length(bytes)) return("")
  alphabet <- c(LETTERS, letters, 0:9, "+", "/")
  pad <- (3L - length(bytes) %% 3L) %% 3L
  v <- matrix(as.integer(c(bytes, as.raw(rep(0L, pad)))), 3L)
  n <- v[1L, ] * 65536L + v[2L, ] * 256L + v[3L, ]
  idx <- rbind(n %/% 262144L, (n %/% 4096L) %% 64L, (n %/% 64L) %% 64L, n %% 64L) + 1L
  out <- alphabet[idx]
  if (pad) out[length(out) - seq_len(pad) + 1L] <- "="
  paste(out, collapse = "")
}

html_page <- function(title, sections) {
  css <- paste(
    "body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}",
    "h1{font-size:1.6em;border-bottom:2px solid #446;padding-bottom:.3em}h2{font-size:1.25em;color:#335;margin-top:1.8em}",
    "table{border-collapse:collapse;margin:.8em 0;font-size:.9em}td,th{border:1px solid #ccd;padding:.25em .6em;text-align:left}",
    "th{background:#eef}tr.flag td{background:#fde8e8}figure{margin:1em 0}img{max-width:100%}",
    "figcaption{font-size:.85em;color:#555}pre{background:#f6f6f8;padding:.8em;overflow-x:auto;font-size:.8em}",
    "footer{margin-top:3em;font-size:.8em;color:#777}")
  c("<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
    sprintf("<title>%s</title>", html_escape(title)), sprintf("<style>%s</style>", css), "</head><body>",
    sprintf("<h1>%s</h1>", html_escape(title)), sections,
    sprintf("<footer>Written by hbmmm %s on %s.</footer>", utils::packageVersion("hbmmm"), format(Sys.Date())),
    "</body></html>")
}
