# update(): refit with changed arguments, or continue every chain from its
# last state without repeating warmup.

#' Refit a model, or continue its chains
#'
#' With `continue = FALSE` (the default), `update()` refits the model with the
#' arguments of the original call changed as given, like [stats::update()]:
#' `formula.` is combined with the old formula by [stats::update.formula()]
#' (`. ~ . + promo`), and any argument of [hbmmm()] can be replaced through
#' `...`. The data stored in the fit are used unless `data` is given.
#'
#' With `continue = TRUE`, each chain continues from its final state (every
#' parameter, including covariance auxiliaries, and the adapted Metropolis
#' proposal scales, which stay frozen) for `iter` more iterations without
#' warmup, and the new draws are appended to the old ones. Unless a `seed` is
#' given, each chain also continues its own random number stream, so that a
#' run continued from `iter = n1` for `n2` more iterations gives exactly the
#' draws of one run of `n1 + n2` iterations. Online summaries of large sets of
#' group-level effects are pooled over both runs (means and sds exactly,
#' quantiles as a draw-weighted average).
#'
#' @param object An `hbmmm_fit`.
#' @param formula. Changes to the formula, as in [stats::update.formula()]
#'   (refit only).
#' @param ... Arguments of [hbmmm()] to change (refit), or `seed`, `cores`,
#'   `refresh` (continue).
#' @param iter Refit: total iterations per chain. Continue: further
#'   post-warmup iterations per chain (default: as many as the fit has after
#'   warmup).
#' @param continue Continue the chains instead of refitting?
#' @return An `hbmmm_fit`.
#' @examples
#' \donttest{
#' fit <- hbmmm(sales ~ tv + price, data = mmm_weekly, media = "tv", time = "week",
#'              panel = "market", chains = 2, iter = 400, seed = 1, refresh = 0)
#' longer <- update(fit, continue = TRUE, iter = 600)
#' dim(as.array(longer))
#' refit <- update(fit, . ~ . + promo)
#' }
#' @export
update.hbmmm_fit <- function(object, formula., ..., iter, continue = FALSE) {
  continue <- check_flag(continue, "continue")
  dots <- list(...)
  if (continue) {
    if (!missing(formula.)) {
      abort_input("formula.", "cannot change when `continue = TRUE` (the chains continue the same model); use continue = FALSE to refit")
    }
    if (missing(iter)) iter <- object$control$iter - object$control$warmup
    return(continue_fit(object, iter, dots))
  }
  call <- object$call
  if (is.null(call)) abort("this fit has no stored call to refit", class = "hbmmm_input_error", arg = "object")
  is_mmm <- !is.null(object$spec)
  if (!missing(formula.)) {
    if (!is_mmm) abort_input("formula.", "applies to models fitted by hbmmm(), not to nuts() fits")
    call$formula <- update_bar_formula(object$spec$formula, formula.)
  }
  if (!missing(iter)) call$iter <- iter
  for (nm in names(dots)) call[[nm]] <- dots[[nm]]
  env <- new.env(parent = parent.frame())
  # a fit of nuts() on an R log density re-evaluates its own call
  if (!is_mmm) return(eval(call, env))
  if (is.null(dots$data)) {
    assign(".hbmmm_update_data", original_data(object$spec), envir = env)
    call$data <- quote(.hbmmm_update_data)
  }
  call[[1L]] <- quote(hbmmm::hbmmm)
  fit <- eval(call, env)
  # the stored call names the user's data, as the original did
  call[[1L]] <- quote(hbmmm)
  if (is.null(dots$data)) call$data <- object$call$data
  fit$call <- call
  fit
}

# update.formula() that keeps random-effect bars intact: bars are swapped
# for temporary symbol names while the formula is updated.
update_bar_formula <- function(old, new) {
  bars <- list()
  protect <- function(x) {
    if (is_bar(x) || (is.call(x) && identical(x[[1L]], as.name("(")) && is_bar(x[[2L]]))) {
      b <- if (is_bar(x)) x else x[[2L]]
      key <- deparse1(b)
      if (!key %in% names(bars)) bars[[key]] <<- b
      return(as.name(paste0(".hbmmm_bar", match(key, names(bars)))))
    }
    if (is.call(x)) for (i in seq_along(x)[-1L]) x[[i]] <- protect(x[[i]])
    x
  }
  f_old <- protect(old)
  f_new <- protect(new)
  upd <- stats::update.formula(f_old, f_new)
  restore <- function(x) {
    if (is.name(x)) {
      m <- regmatches(as.character(x), regexec("^\\.hbmmm_bar([0-9]+)$", as.character(x)))[[1]]
      if (length(m)) return(call("(", bars[[as.integer(m[2])]]))
      return(x)
    }
    if (is.call(x)) for (i in seq_along(x)[-1L]) x[[i]] <- restore(x[[i]])
    x
  }
  out <- restore(upd)
  environment(out) <- environment(old)
  out
}

continue_fit <- function(object, iter, dots) {
  bad <- setdiff(names(dots), c("seed", "cores", "refresh"))
  if (length(bad)) {
    abort_input("...", sprintf("`%s` cannot change when `continue = TRUE`; only seed, cores and refresh can", bad[1]))
  }
  iter <- check_count(iter, "iter", 1, 1e8)
  ctl0 <- object$control
  thin <- ctl0$thin
  if (object$sampler == "nuts") {
    out <- resume_nuts(object, iter, thin, seed = dots$seed,
                       cores = if (is.null(dots$cores)) ctl0$cores else dots$cores,
                       refresh = if (is.null(dots$refresh)) 0 else dots$refresh)
    out <- with_diagnostics(out)
    check_sampling(out)
    return(out)
  }
  ctl <- ctl0
  ctl$iter <- iter
  ctl$warmup <- 0L
  if (iter < thin) abort_input("iter", sprintf("must be at least the fit's thin (%d); found %d", thin, iter))
  if (!is.null(dots$cores)) ctl$cores <- check_count(dots$cores, "cores", 1, 1024)
  if (!is.null(dots$refresh)) ctl$refresh <- check_count(dots$refresh, "refresh", 0, 1e8)
  ctl$new_streams <- !is.null(dots$seed)
  if (ctl$new_streams) ctl$seed <- check_seed(dots$seed)
  if (is.null(object$state) || length(object$state) != ctl0$chains || is.null(object$state[[1]]$mh_log_scale)) {
    abort("this fit does not hold the full final state of its chains (it was made by an older version of hbmmm); refit it",
          class = "hbmmm_input_error", arg = "object")
  }
  more <- run_gibbs(object$spec, ctl, init = object$state)
  out <- with_diagnostics(append_fit(object, more, iter))
  check_sampling(out)
  out
}

# Online summaries of group-level effects (combine_online()) of a run of n1
# draws per chain followed by one of n2, each over nc chains: exact pooled
# means and sds; quantiles as the draw-weighted average of the runs'
# quantiles (the P-square markers cannot be merged exactly). Used by the
# continuation of both samplers.
pool_ranef_summary <- function(a_all, b_all, n1, n2, nc) {
  for (g in names(a_all)) {
    a <- a_all[[g]]
    b <- b_all[[g]]
    w1 <- n1 / (n1 + n2)
    w2 <- 1 - w1
    m <- w1 * a$mean + w2 * b$mean
    v <- pooled_var(cbind(a$mean, b$mean), cbind(a$sd, b$sd), c(n1, n2) * nc, m)
    a$mean <- m
    a$sd <- sqrt(v)
    a$q2.5 <- w1 * a$q2.5 + w2 * b$q2.5
    a$q97.5 <- w1 * a$q97.5 + w2 * b$q97.5
    a_all[[g]] <- a
  }
  a_all
}

# The one continuation path of both samplers: the old fit followed by
# `more` (a fit of the new iterations from the old final state): draws and
# every per-iteration sampler diagnostic bound by iteration, online summaries
# of group-level effects pooled, the final state, iterations and timing
# updated.
append_fit <- function(old, more, iter) {
  out <- old
  out$draws <- bind_iterations(old$draws, more$draws)
  for (k in names(more$sampler_diagnostics)) {
    out$sampler_diagnostics[[k]] <- bind_iterations(old$sampler_diagnostics[[k]], more$sampler_diagnostics[[k]])
  }
  if (length(old$ranef_summary)) {
    out$ranef_summary <- pool_ranef_summary(old$ranef_summary, more$ranef_summary, dim(old$draws)[1],
                                            dim(more$draws)[1], dim(old$draws)[2])
  }
  out$state <- more$state
  out$control$iter <- old$control$iter + iter
  timing <- c(elapsed = old$timing[["elapsed"]] + more$timing[["elapsed"]])
  if ("n_grad" %in% names(old$timing)) timing[["n_grad"]] <- old$timing[["n_grad"]] + more$timing[["n_grad"]]
  out$timing <- timing
  validate_hbmmm_fit(out)
}

# Append iterations (first dimension) of two arrays or matrices, keeping
# dimnames.
bind_iterations <- function(a, b) {
  da <- dim(a)
  db <- dim(b)
  out <- array(NA_real_, c(da[1] + db[1], da[-1]), dimnames = dimnames(a))
  if (length(da) == 2L) {
    out[seq_len(da[1]), ] <- a
    out[da[1] + seq_len(db[1]), ] <- b
  } else {
    out[seq_len(da[1]), , ] <- a
    out[da[1] + seq_len(db[1]), , ] <- b
  }
  out
}
