# Functional-form selection: each channel's adstock and saturation chosen by
# an information criterion, as the budget-optimization case study does.

#' Select each channel's adstock and saturation form
#'
#' Fits the candidate forms and ranks them by a criterion. With `"bic"`
#' (the case study's choice) every candidate is fitted by maximum likelihood:
#' Gaussian errors, coefficients by least squares and transform parameters by
#' bounded nonlinear least squares (as [fit_baseline()] `type = "ols"`), and
#' \eqn{BIC = -2 \log L + k \log n} with \eqn{k} = coefficients + estimated
#' transform parameters + the residual sd. Group-level terms of `formula`
#' are not part of the BIC model: forms are selected on the fixed-effects
#' (pooled) model, and group-level effects are not counted. With `"loo"` or
#' `"waic"` every candidate is fitted by [hbmmm()] (group-level terms
#' included, further arguments in `...`) and ranked by LOOIC or WAIC with
#' their standard errors.
#'
#' Every combination of forms is fitted when there are at most `max_combos`
#' of them; otherwise a coordinate-wise search runs: starting from the first
#' form of each channel, each channel in turn gets the form that is best with
#' the others held, until a full pass changes nothing (said in `$search`).
#'
#' @param formula,data,media,time,panel As in [hbmmm()].
#' @param adstock,saturation Candidate forms (each channel tries every one).
#' @param criterion `"bic"`, `"loo"` or `"waic"`.
#' @param max_combos Largest number of combinations fitted exhaustively.
#' @param cores Candidates fitted at the same time (forked processes).
#' @param progress Print one line per candidate.
#' @param ... For `"loo"`/`"waic"`: arguments of [hbmmm()] (`chains`,
#'   `iter`, `seed`, ...).
#' @return An object of class `hbmmm_selection`: `table` (one row per
#'   candidate: each channel's adstock and saturation, `criterion`, `se`
#'   (`NA` for BIC), `k` (estimated parameters), `loglik` (maximized, BIC
#'   only), ranked best first), `best` (data frame `channel`, `adstock`,
#'   `saturation`), `args` (the best forms as `adstock` and `saturation`
#'   named vectors, ready for [hbmmm()]), `criterion` and `search`.
#' @examples
#' \donttest{
#' d <- mmm_weekly[mmm_weekly$market == "M01", ]
#' sel <- select_transforms(sales ~ tv + search + price, d, media = c("tv", "search"),
#'                          time = "week", adstock = c("geometric", "weibull_pdf"),
#'                          saturation = c("hill", "logistic"))
#' sel
#' sel$args
#' }
#' @export
select_transforms <- function(formula, data, media, time = NULL, panel = NULL,
                              adstock = c("geometric", "weibull_pdf"), saturation = c("hill", "logistic"),
                              criterion = c("bic", "loo", "waic"), max_combos = 64, cores = 1,
                              progress = interactive(), ...) {
  criterion <- match_choice(criterion, c("bic", "loo", "waic"), "criterion")
  if (!is.character(media) || !length(media)) abort_input("media", "must name at least one media channel")
  adstock <- check_forms(adstock, ADSTOCK_CHOICES, "adstock")
  saturation <- check_forms(saturation, SATURATION_CHOICES, "saturation")
  max_combos <- check_count(max_combos, "max_combos", 1, 1e6)
  cores <- check_count(cores, "cores", 1, 1024)
  progress <- check_flag(progress, "progress")
  dots <- list(...)
  if (criterion == "bic") check_dots_empty(...)
  forms <- expand.grid(adstock = adstock, saturation = saturation, stringsAsFactors = FALSE)
  nf <- nrow(forms)
  C <- length(media)
  fit_one <- function(idx) {
    ad <- stats::setNames(forms$adstock[idx], media)
    sat <- stats::setNames(forms$saturation[idx], media)
    res <- if (criterion == "bic") {
      bic_fit(formula, data, media, ad, sat, time, panel)
    } else {
      ic_fit(formula, data, media, ad, sat, time, panel, criterion, dots)
    }
    if (progress) {
      cat(sprintf("  %s: %s = %.1f\n", paste(sprintf("%s %s+%s", media, ad, sat), collapse = ", "),
                  criterion, res$criterion))
    }
    res
  }
  run <- function(combos) {
    fits <- if (cores > 1L && .Platform$OS.type != "windows") {
      parallel::mclapply(combos, fit_one, mc.cores = cores)
    } else {
      lapply(combos, fit_one)
    }
    for (f in fits) if (inherits(f, "try-error")) stop(f)
    fits
  }
  seen <- list()
  evaluate <- function(combos) {
    key <- vapply(combos, paste, "", collapse = ",")
    new <- combos[!key %in% names(seen)]
    if (length(new)) {
      fits <- run(new)
      for (i in seq_along(new)) seen[[paste(new[[i]], collapse = ",")]] <<- list(idx = new[[i]], fit = fits[[i]])
    }
    vapply(key, function(k) seen[[k]]$fit$criterion, 1)
  }
  if (nf^C <= max_combos) {
    grid <- as.matrix(expand.grid(rep(list(seq_len(nf)), C)))
    evaluate(lapply(seq_len(nrow(grid)), function(i) unname(grid[i, ])))
    search <- sprintf("all %d combinations of %d form(s) for %d channel(s)", nrow(grid), nf, C)
  } else {
    cur <- rep(1L, C)
    passes <- 0L
    repeat {
      passes <- passes + 1L
      changed <- FALSE
      for (c in seq_len(C)) {
        cand <- lapply(seq_len(nf), function(f) replace(cur, c, f))
        crit <- evaluate(cand)
        best <- which.min(crit)
        if (best != cur[c]) {
          cur[c] <- best
          changed <- TRUE
        }
      }
      if (!changed || passes >= 20L) break
    }
    search <- sprintf("coordinate-wise over %d channel(s) (%d form(s) each, %d^%d = %.0f combinations): %d pass(es), %d candidates fitted",
                      C, nf, nf, C, nf^C, passes, length(seen))
  }
  rows <- lapply(seen, function(s) {
    r <- data.frame(t(stats::setNames(forms$adstock[s$idx], paste0("adstock_", media))),
                    t(stats::setNames(forms$saturation[s$idx], paste0("saturation_", media))),
                    criterion = s$fit$criterion, se = s$fit$se, k = s$fit$k, loglik = s$fit$loglik,
                    stringsAsFactors = FALSE, check.names = FALSE)
    r
  })
  tab <- do.call(rbind, rows)
  tab <- tab[order(tab$criterion), , drop = FALSE]
  rownames(tab) <- NULL
  best <- data.frame(channel = media, adstock = unlist(tab[1, paste0("adstock_", media)]),
                     saturation = unlist(tab[1, paste0("saturation_", media)]), stringsAsFactors = FALSE,
                     row.names = NULL)
  structure(list(table = tab, best = best,
                 args = list(adstock = stats::setNames(best$adstock, media),
                             saturation = stats::setNames(best$saturation, media)),
                 criterion = criterion, search = search),
            class = "hbmmm_selection")
}

check_forms <- function(x, choices, arg) {
  if (!is.character(x) || !length(x) || anyNA(x)) {
    abort_input(arg, sprintf("must be candidate forms among %s; found %s",
                             paste0("\"", choices, "\"", collapse = ", "), describe_value(x)))
  }
  bad <- setdiff(x, choices)
  if (length(bad)) {
    abort_input(arg, sprintf("must be among %s; found \"%s\"%s", paste0("\"", choices, "\"", collapse = ", "),
                             bad[1], suggest_name(bad[1], choices)))
  }
  unique(x)
}

# Maximum likelihood of one candidate (fixed-effects model) and its BIC.
bic_fit <- function(formula, data, media, adstock, saturation, time, panel) {
  b <- fit_baseline(formula, data, type = "ols", media = media, adstock = adstock, saturation = saturation,
                    time = time, panel = panel)
  k <- length(b$coefficients) + length(b$transforms) + 1
  list(criterion = -2 * b$logLik + k * log(b$nobs), se = NA_real_, k = k, loglik = b$logLik)
}

# LOOIC or WAIC of one candidate fitted by hbmmm().
ic_fit <- function(formula, data, media, adstock, saturation, time, panel, criterion, dots) {
  fit <- suppressWarnings(do.call(hbmmm, c(list(formula, data = data, media = media, adstock = adstock,
                                                saturation = saturation, time = time, panel = panel), dots)),
                          classes = c("hbmmm_warning_rhat", "hbmmm_warning_ess"))
  ic <- suppressWarnings(if (criterion == "loo") psis_loo(fit) else waic(fit),
                         classes = c("hbmmm_warning_pareto_k", "hbmmm_warning_online_ranef"))
  row <- if (criterion == "loo") "looic" else "waic"
  list(criterion = ic$estimates[row, "Estimate"], se = ic$estimates[row, "SE"],
       k = dim(fit$draws)[3], loglik = NA_real_)
}

#' @export
print.hbmmm_selection <- function(x, digits = 1, ...) {
  check_dots_empty(...)
  cat(sprintf("<hbmmm_selection> by %s; search: %s\n", toupper(x$criterion), x$search))
  cat("Best forms:\n")
  print(x$best, row.names = FALSE)
  cat("\nCandidates, best first:\n")
  tab <- x$table
  tab$criterion <- round(tab$criterion, digits)
  tab$loglik <- round(tab$loglik, digits)
  tab$se <- round(tab$se, digits)
  print(utils::head(tab, 10), row.names = FALSE)
  if (nrow(tab) > 10) cat(sprintf("... and %d more\n", nrow(tab) - 10))
  invisible(x)
}

#' @export
plot.hbmmm_selection <- function(x, top = 20, ...) {
  check_dots_empty(...)
  tab <- utils::head(x$table, top)
  lab <- apply(tab[grepl("^(adstock|saturation)_", names(tab))], 1, paste, collapse = " / ")
  d <- tab$criterion - min(tab$criterion)
  op <- graphics::par(mar = c(4, max(8, max(nchar(lab)) * 0.45), 2, 1))
  on.exit(graphics::par(op))
  graphics::barplot(rev(d), names.arg = rev(lab), horiz = TRUE, las = 1, cex.names = 0.7,
                    xlab = sprintf("%s - best", toupper(x$criterion)),
                    main = "Candidate forms, best at the top", col = "grey60", border = NA)
  invisible(x)
}
