# Sensitivity analysis: the channel effects of a fit under alternative
# specifications (the personalization paper's section 4.5 and Figure 6).

SENSITIVITY_SCENARIOS <- c("prior_sd_x0.5", "prior_sd_x2", "prior_family", "train_split", "group_subsample",
                           "covariates")

#' How robust are the channel effects? Refits under alternative specifications
#'
#' Refits `fit` under a documented set of alternative specifications and
#' reports each channel's ROI (contribution over the data divided by spend,
#' as [roi()] computes it) with its interval, next to the original fit's:
#'
#' * `prior_sd_x0.5`, `prior_sd_x2`: the priors of the media coefficients
#'   with half and twice their standard deviation (means kept);
#' * `prior_family`: other prior families for the transform parameters:
#'   `uniform(0, 1)` for decays and `gamma_dist(3, 2)` (mean 1.5) for Hill
#'   slopes, instead of the defaults;
#' * `train_split`: only the first `train_fraction` of the periods (a
#'   time-ordered split; needs `time`);
#' * `group_subsample`: a random `group_fraction` of the levels of the first
#'   grouping term (needs a group-level term);
#' * `covariates`: the formula with `covariates` added.
#'
#' Scenarios that do not apply (no time axis, no grouping term, no
#' covariates given) are skipped and listed in `$skipped`.
#'
#' @param fit An `hbmmm_fit` made by [hbmmm()].
#' @param scenarios Which of the scenarios above to run.
#' @param covariates Column names added to the formula in `covariates`.
#' @param train_fraction,group_fraction Shares kept by `train_split` and
#'   `group_subsample`.
#' @param level Probability mass of the intervals.
#' @param cores Refits run at the same time (forked processes).
#' @param seed Seed of the group subsample and of every refit.
#' @param ... Arguments of [hbmmm()] for the refits (e.g. `iter`, `chains`).
#' @return An object of class `hbmmm_sensitivity`: `table` (one row per
#'   scenario and channel: `scenario`, `channel`, `roi`, `lower`, `upper`,
#'   `change` (ROI relative to the original fit)), `level`, `skipped`; with
#'   a `plot()` method drawing the heatmap of Figure 6.
#' @examples
#' \donttest{
#' fit <- hbmmm(sales ~ tv + search + price + (1 | market), data = mmm_weekly,
#'              media = c("tv", "search"), time = "week", chains = 2, iter = 500,
#'              seed = 1, refresh = 0)
#' s <- sensitivity(fit, covariates = "promo", iter = 500)
#' s
#' plot(s)
#' }
#' @export
sensitivity <- function(fit, scenarios = SENSITIVITY_SCENARIOS, covariates = NULL, train_fraction = 0.8,
                        group_fraction = 0.75, level = 0.9, cores = 1, seed = 1, ...) {
  check_model_fit(fit, what = "sensitivity()")
  if (!is.character(scenarios) || !length(scenarios) || any(!scenarios %in% SENSITIVITY_SCENARIOS)) {
    abort_input("scenarios", sprintf("must be among %s; found %s",
                                     paste0("\"", SENSITIVITY_SCENARIOS, "\"", collapse = ", "), describe_value(scenarios)))
  }
  level <- check_interval_prob(level, "level")
  cores <- check_count(cores, "cores", 1, 1024)
  seed <- check_seed(seed)
  for (a in c("train_fraction", "group_fraction")) {
    v <- get(a)
    if (!is.numeric(v) || length(v) != 1L || !(v > 0 && v < 1)) {
      abort_input(a, sprintf("must be a number in (0, 1); found %s", describe_value(v)))
    }
  }
  spec <- fit$spec
  if (!is.null(covariates)) {
    if (!is.character(covariates) || !all(covariates %in% names(spec$data))) {
      miss <- setdiff(as.character(covariates), names(spec$data))
      abort_input("covariates", sprintf("must name columns of the fit's data; `%s` is not one%s", miss[1],
                                        suggest_name(miss[1], names(spec$data))))
    }
  }
  alternatives <- sensitivity_scenarios(fit, unique(scenarios), covariates, train_fraction, group_fraction, seed)
  refit <- function(alt) {
    args <- c(alt$args, list(cores = 1, refresh = 0, seed = seed), list(...))
    f <- suppressWarnings(do.call(stats::update, c(list(fit), args)),
                          classes = c("hbmmm_warning_rhat", "hbmmm_warning_ess", "hbmmm_warning_time_gap"))
    roi_row(f, alt$name, level)
  }
  runs <- alternatives$run
  rows <- if (cores > 1L && .Platform$OS.type != "windows") parallel::mclapply(runs, refit, mc.cores = cores) else lapply(runs, refit)
  for (r in rows) if (inherits(r, "try-error")) stop(r)
  tab <- do.call(rbind, c(list(roi_row(fit, "original", level)), rows))
  base <- tab$roi[tab$scenario == "original"]
  tab$change <- tab$roi / base[match(tab$channel, tab$channel[tab$scenario == "original"])] - 1
  rownames(tab) <- NULL
  structure(list(table = tab, level = level, skipped = alternatives$skipped), class = "hbmmm_sensitivity")
}

# The refits of each scenario as arguments of update(); scenarios that do
# not apply go to `skipped` with the reason.
sensitivity_scenarios <- function(fit, scenarios, covariates, train_fraction, group_fraction, seed) {
  spec <- fit$spec
  run <- list()
  skipped <- character(0)
  base_prior <- if (is.null(spec$prior)) hbmmm_prior() else spec$prior
  media_cols <- spec$X$names[!is.na(spec$X$channel)]
  scaled_b <- function(f) {
    b <- lapply(spec$priors$b[match(media_cols, spec$X$names)], scale_coef_prior, f = f)
    names(b) <- media_cols
    p <- base_prior
    p$b <- b
    p
  }
  for (s in scenarios) {
    if (s == "prior_sd_x0.5") run[[s]] <- list(args = list(prior = scaled_b(0.5)))
    if (s == "prior_sd_x2") run[[s]] <- list(args = list(prior = scaled_b(2)))
    if (s == "prior_family") {
      params <- unique(spec$transforms$pars$param[!spec$transforms$pars$fixed])
      p <- base_prior
      if ("decay" %in% params) p$decay <- uniform(0, 1)
      if ("slope" %in% params) p$slope <- gamma_dist(3, 2)
      if (identical(p, base_prior)) skipped[s] <- "no estimated decay or Hill slope" else run[[s]] <- list(args = list(prior = p))
    }
    if (s == "train_split") {
      if (is.null(spec$time)) {
        skipped[s] <- "the fit has no `time`"
      } else {
        t <- spec$data[[spec$time]]
        cut <- sort(unique(t))[max(1L, floor(train_fraction * length(unique(t))))]
        run[[s]] <- list(args = list(data = spec$data[t <= cut, , drop = FALSE]))
      }
    }
    if (s == "group_subsample") {
      if (!length(spec$ranef)) {
        skipped[s] <- "the fit has no group-level term"
      } else {
        t <- spec$ranef[[1]]
        restore <- save_rng()
        set.seed(seed)
        keep_lv <- sample(t$levels, max(2L, round(group_fraction * length(t$levels))))
        restore()
        lv <- do.call(paste, c(lapply(t$group_vars, function(v) as.character(spec$data[[v]])), sep = ":"))
        run[[s]] <- list(args = list(data = spec$data[lv %in% keep_lv, , drop = FALSE]))
      }
    }
    if (s == "covariates") {
      if (!length(covariates)) {
        skipped[s] <- "no `covariates` given"
      } else {
        f <- stats::as.formula(paste(". ~ . +", paste(covariates, collapse = " + ")))
        run[[s]] <- list(args = list(formula. = f))
      }
    }
  }
  for (s in names(run)) run[[s]]$name <- s
  list(run = unname(run), skipped = skipped)
}

roi_row <- function(f, name, level) {
  r <- roi(f, level = level)
  data.frame(scenario = name, channel = r$channel, roi = r$roi, lower = r$roi_lower, upper = r$roi_upper,
             stringsAsFactors = FALSE)
}

#' @export
print.hbmmm_sensitivity <- function(x, digits = 3, ...) {
  check_dots_empty(...)
  tab <- x$table
  cat(sprintf("<hbmmm_sensitivity> ROI per channel under %d specification(s), %s%% intervals\n",
              length(unique(tab$scenario)), format(100 * x$level)))
  show <- data.frame(scenario = tab$scenario, channel = tab$channel,
                     roi = sprintf("%s [%s, %s]", format(signif(tab$roi, digits)), format(signif(tab$lower, digits)),
                                   format(signif(tab$upper, digits))),
                     change = sprintf("%+.0f%%", 100 * tab$change))
  print(show, row.names = FALSE, right = FALSE)
  if (length(x$skipped)) cat(sprintf("Skipped: %s\n", paste(sprintf("%s (%s)", names(x$skipped), x$skipped), collapse = "; ")))
  invisible(x)
}

#' @export
plot.hbmmm_sensitivity <- function(x, ...) {
  check_dots_empty(...)
  tab <- x$table
  sc <- unique(tab$scenario)
  ch <- unique(tab$channel)
  m <- matrix(NA_real_, length(ch), length(sc), dimnames = list(ch, sc))
  lab <- matrix("", length(ch), length(sc))
  for (i in seq_len(nrow(tab))) {
    a <- match(tab$channel[i], ch)
    b <- match(tab$scenario[i], sc)
    m[a, b] <- tab$change[i]
    lab[a, b] <- sprintf("%.2f\n[%.2f, %.2f]", tab$roi[i], tab$lower[i], tab$upper[i])
  }
  lim <- max(0.05, max(abs(m), na.rm = TRUE))
  pal <- grDevices::hcl.colors(21, "Blue-Red 3")
  op <- graphics::par(mar = c(7, 2 + 0.55 * max(nchar(sc)), 3, 1))
  on.exit(graphics::par(op))
  graphics::image(seq_along(ch), seq_along(sc), m, col = pal, zlim = c(-lim, lim), axes = FALSE,
                  xlab = "", ylab = "", main = sprintf("ROI by channel and specification (%s%% intervals); colour: change from the original fit",
                                                       format(100 * x$level)), cex.main = 0.9)
  graphics::axis(1, seq_along(ch), ch, las = 2, tick = FALSE)
  graphics::axis(2, seq_along(sc), sc, las = 1, tick = FALSE, cex.axis = 0.8)
  # white text on the darkest cells
  ink <- ifelse(!is.na(m) & abs(m) > 0.55 * lim, "white", "black")
  graphics::text(rep(seq_along(ch), length(sc)), rep(seq_along(sc), each = length(ch)), lab, cex = 0.7, col = ink)
  invisible(x)
}
