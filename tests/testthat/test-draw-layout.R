# The layout of one stored draw is defined once in C (src/model_layout.c).
# These tests check that the names (draw_names(), from C) label the values
# the samplers write: the NUTS density's draw against the parameters unpacked
# in R from theta, the Gibbs draw against the sampler's final state, for every
# covariance type, per-group residual sds, the horseshoe, estimated transform
# parameters and kept group-level effects; and that both samplers use the
# same names for the same spec.

layout_specs <- function() {
  d <- small_panel()
  list(
    # inverse-Wishart (full) and inverse-gamma (diagonal); sigma by group;
    # horseshoe; two channels with estimated adstock and saturation
    iw_ig = hbmmm_spec(sales ~ tv + search + price + (1 + tv | market) + (1 + price || week),
                       data = d, media = c("tv", "search"), time = "week", sigma_by = "promo",
                       horseshoe = TRUE, keep_ranef = 50,
                       prior = hbmmm_prior(cov = list(market = inv_wishart(5, diag(2)),
                                                      week = inv_gamma(2, 1)))),
    # Huang-Wand full and diagonal (the defaults); delayed adstock; some
    # levels of the larger term kept
    hw = hbmmm_spec(sales ~ tv + price + (1 + tv + price | market) + (1 + price || week),
                    data = d, media = "tv", adstock = "delayed", time = "week",
                    keep_ranef = 5, keep_levels = list(week = c("3", "17"))),
    # factor-analytic
    factor = hbmmm_spec(sales ~ tv + price + (1 + tv + price | market), data = d, media = "tv",
                        saturation = "logistic", time = "week", factors = c(market = 1)),
    # LKJ correlations with separate scales (NUTS only)
    lkj = hbmmm_spec(sales ~ tv + price + (1 + tv + price | market), data = d, media = "tv",
                     time = "week", prior = hbmmm_prior(cor = lkj(2)))
  )
}

# Every stored variable computed in R from theta (centred effects: u is in
# theta itself), following the layout of theta documented in model_mmm.c.
expected_draw <- function(spec, model, opts, theta) {
  nm <- hbmmm:::draw_names(spec)
  val <- setNames(rep(NA_real_, length(nm)), nm)
  term_name <- function(x) ifelse(x == "(Intercept)", "Intercept", x)
  p <- model$p
  o <- p
  xn <- term_name(spec$X$names)
  hs <- model$hs == 1L & model$use_hs == 1L
  val[paste0("b_", xn[!hs])] <- theta[seq_len(p)][!hs]
  pos <- model$b_code != HB_CODES$prior[["normal"]] # positive priors: theta holds log beta
  if (any(pos)) val[paste0("b_", xn[pos])] <- exp(theta[seq_len(p)][pos])
  # the intercept is sampled centred (alpha; the intercept itself follows
  # from the other slopes and the columns' means at the end)
  i0 <- match("Intercept", xn)
  if (is.na(i0) || pos[i0] || hs[i0]) i0 <- 0L
  if (model$use_hs == 1L) { # beta_j = scale_j tau lambda~_j z_j (regularized when the slab is finite)
    H <- sum(hs)
    lam <- exp(theta[o + seq_len(H)])
    tau <- exp(theta[o + H + 1L])
    if (is.finite(opts$hs[3])) {
      c <- exp(theta[o + H + 2L])
      lam <- c * lam / sqrt(c^2 + tau^2 * lam^2)
    }
    val[paste0("b_", xn[hs])] <- model$hs_scale[hs] * tau * lam * theta[seq_len(p)][hs]
    val["hs_tau"] <- tau
    o <- o + H + 1L + is.finite(opts$hs[3])
  }
  for (k in seq_along(model$terms)) {
    t <- model$terms[[k]]
    g <- names(spec$ranef)[k]
    q <- t$q
    cols <- term_name(spec$ranef[[g]]$Z$names)
    type <- names(HB_CODES$cov)[match(t$type, HB_CODES$cov)]
    chol_cols <- function(v) { # lower triangle by column, diagonal on the log scale
      L <- matrix(0, q, q)
      L[lower.tri(L, diag = TRUE)] <- v
      diag(L) <- exp(diag(L))
      L
    }
    nc <- switch(type, full = q * (q + 1) / 2, hw_full = q * (q + 1) / 2 + q, diag = q, hw_diag = 2 * q,
                 lkj = q + q * (q - 1) / 2, factor = q * t$nf + q + t$nf * t$G)
    cp <- theta[o + seq_len(nc)]
    Sigma <- switch(type,
      full = , hw_full = tcrossprod(chol_cols(cp[seq_len(q * (q + 1) / 2)])),
      diag = , hw_diag = diag(exp(2 * cp[seq_len(q)]), q),
      factor = {
        Lam <- matrix(cp[seq_len(q * t$nf)], q, t$nf)
        tcrossprod(Lam) + diag(exp(cp[q * t$nf + seq_len(q)]), q)
      },
      lkj = {
        y <- cp[q + seq_len(q * (q - 1) / 2)]
        R <- matrix(0, q, q)
        R[1, 1] <- 1
        for (i in 2:q) {
          acc <- 0
          for (j in seq_len(i - 1)) {
            R[i, j] <- tanh(y[(i - 2) * (i - 1) / 2 + j]) * sqrt(1 - acc)
            acc <- acc + R[i, j]^2
          }
          R[i, i] <- sqrt(1 - acc)
        }
        D <- diag(exp(cp[seq_len(q)]), q)
        D %*% tcrossprod(R) %*% D
      })
    o <- o + nc
    u <- matrix(theta[o + seq_len(q * t$G)], q, t$G)
    # hierarchically centred columns (the first opts$centered[k]): theta
    # holds u + w b per pair
    for (a in seq_along(t$pair_j)) {
      if (t$pair_l[a] >= opts$centered[k]) next
      j <- t$pair_j[a] + 1L
      coef <- if (j == i0) theta[j] else val[[paste0("b_", xn[j])]]
      u[t$pair_l[a] + 1L, ] <- u[t$pair_l[a] + 1L, ] - t$pair_w[a + length(t$pair_j) * (seq_len(t$G) - 1L)] * coef
    }
    o <- o + q * t$G
    val[paste0("sd_", g, "__", cols)] <- sqrt(diag(Sigma))
    if (!type %in% c("diag", "hw_diag")) {
      pr <- utils::combn(q, 2)
      val[paste0("cor_", g, "__", cols[pr[1, ]], "__", cols[pr[2, ]])] <- stats::cov2cor(Sigma)[t(pr)]
    }
    lev <- as.character(spec$ranef[[g]]$levels)
    for (j in seq_len(q)) {
      kept <- model$keep[[k]] + 1L
      val[sprintf("r_%s[%s,%s]", g, lev[kept], cols[j])] <- u[j, kept]
    }
  }
  S <- model$S
  val[names(val) == "sigma" | startsWith(names(val), "sigma[")] <- exp(theta[o + seq_len(S)])
  o <- o + S
  pars <- spec$transforms$pars
  for (c in seq_along(spec$media)) {
    est <- which(model$ch_est[, c] == 1L)
    u <- theta[o + seq_along(est)]
    o <- o + length(est)
    # a Hill curve with both parameters on the log scale is sampled at
    # psi = slope (log ref - log halfsat), ref the mean positive spend
    h <- match(3L, est)
    sl <- match(4L, est)
    x <- model$media_raw[seq_along(spec$y), c]
    if (model$ch_sat_type[c] == HB_CODES$saturation[["hill"]] && !is.na(h) && !is.na(sl) &&
        all(model$ch_link[3:4, c] == HB_CODES$link[["log"]]) && any(x > 0)) {
      u[h] <- log(mean(x[x > 0])) - u[h] * exp(-u[sl])
    }
    for (e in seq_along(est)) {
      s <- est[e]
      v <- u[e]
      link <- model$ch_link[s, c]
      val[pars$name[pars$channel == spec$media[c] & pars$slot == s - 1L]] <-
        switch(hbmmm:::link_name(link), logit = stats::plogis(v), log = exp(v),
               scaled_logit = model$ch_upper[s, c] * stats::plogis(v))
    }
  }
  expect_equal(o, length(theta))
  if (i0 > 0L && p > 1L) { # b_0 = alpha - sum_j b_j mean(x_j), media columns at this draw's transforms
    X <- spec$X$static
    tr <- spec$transforms
    for (j in which(!is.na(spec$X$channel))) {
      ch <- spec$media[spec$X$channel[j]]
      th <- matrix(val[tr$pars$name], 1L, dimnames = list(NULL, tr$pars$name))
      X[, j] <- X[, j] * hbmmm:::transform_channel_draws(spec$media_data[, ch], ch, tr, th, spec$panel_codes,
                                                         spec$tpos)[, 1]
    }
    b <- val[paste0("b_", xn)]
    val[[paste0("b_", xn[i0])]] <- theta[i0] - sum(b[-i0] * colMeans(X)[-i0])
  }
  val
}

test_that("the NUTS draw holds, under each name, the parameter of that name", {
  for (nm in names(layout_specs())) {
    spec <- layout_specs()[[nm]]
    model <- hbmmm:::mmm_model_list(spec)
    opts <- hbmmm:::nuts_model_options(spec, TRUE)
    info <- .Call(hbmmm:::C_hb_mmm_info, model, opts)
    # away from the starting point, every parameter distinct
    theta <- info$init + 0.3 * sin(seq_along(info$init))
    res <- .Call(hbmmm:::C_hb_mmm_logp, model, opts, theta)
    want <- expected_draw(spec, model, opts, theta)
    expect_false(anyNA(want), label = paste(nm, ": every name gets a value"))
    expect_identical(length(res$draw), length(want), label = paste(nm, ": values per draw"))
    expect_equal(setNames(res$draw, names(want)), want, tolerance = 1e-12, label = nm)
  }
})

test_that("the Gibbs draw holds, under each name, the sampler's state of that name", {
  for (nm in setdiff(names(layout_specs()), "lkj")) {
    spec <- layout_specs()[[nm]]
    ctl <- gibbs_control(iter = 4L, warmup = 1L)
    res <- run_gibbs_once(spec, ctl, seed = 5)
    model <- hbmmm:::mmm_model_list(spec)
    nms <- hbmmm:::draw_names(spec)
    expect_identical(ncol(res$draws), length(nms), label = nm)
    last <- setNames(res$draws[nrow(res$draws), ], nms)  # the final state
    st <- res$state
    term_name <- function(x) ifelse(x == "(Intercept)", "Intercept", x)
    expect_equal(unname(last[paste0("b_", term_name(spec$X$names))]), st$beta, tolerance = 1e-14)
    expect_equal(unname(last[names(last) == "sigma" | startsWith(names(last), "sigma[")]), sqrt(st$sigma2),
                 tolerance = 1e-14)
    for (k in seq_along(model$terms)) {
      g <- names(spec$ranef)[k]
      cols <- term_name(spec$ranef[[g]]$Z$names)
      Sg <- st$Sigma[[k]]
      expect_equal(unname(last[paste0("sd_", g, "__", cols)]), sqrt(diag(Sg)), tolerance = 1e-14)
      if (length(cols) > 1L && any(startsWith(names(last), paste0("cor_", g, "__")))) {
        pr <- utils::combn(length(cols), 2)
        expect_equal(unname(last[paste0("cor_", g, "__", cols[pr[1, ]], "__", cols[pr[2, ]])]),
                     stats::cov2cor(Sg)[t(pr)], tolerance = 1e-14)
      }
      kept <- model$keep[[k]] + 1L
      lev <- as.character(spec$ranef[[g]]$levels)
      for (j in seq_along(cols)) {
        expect_equal(unname(last[sprintf("r_%s[%s,%s]", g, lev[kept], cols[j])]), st$u[[k]][j, kept],
                     tolerance = 0)
      }
    }
    pars <- spec$transforms$pars
    est <- pars[!pars$fixed, , drop = FALSE]
    for (i in seq_len(nrow(est))) {
      expect_equal(unname(last[est$name[i]]),
                   st$transform_par[est$slot[i] + 1L, match(est$channel[i], spec$media)], tolerance = 0)
    }
    if (spec$horseshoe) expect_equal(unname(last["hs_tau"]), sqrt(st$hs_tau[1]), tolerance = 1e-14)
  }
})

test_that("both samplers store draws of the same length for the same spec, named alike", {
  for (nm in names(layout_specs())) {
    spec <- layout_specs()[[nm]]
    model <- hbmmm:::mmm_model_list(spec)
    nms <- hbmmm:::draw_names(spec)
    expect_false(anyDuplicated(nms) > 0, label = paste(nm, ": unique names"))
    info <- .Call(hbmmm:::C_hb_mmm_info, model, hbmmm:::nuts_model_options(spec, FALSE))
    expect_identical(info$nout, length(nms), label = paste(nm, ": NUTS values per draw"))
    if (nm != "lkj") {
      res <- run_gibbs_once(spec, gibbs_control(iter = 3L, warmup = 1L))
      expect_identical(ncol(res$draws), length(nms), label = paste(nm, ": Gibbs values per draw"))
    }
  }
  # fitted through hbmmm(): the two samplers give the same variable names
  args <- small_fit_args(iter = 6, warmup = 2, chains = 1, horseshoe = TRUE, sigma_by = "promo")
  fg <- suppressWarnings(do.call(hbmmm, args))
  fn <- suppressWarnings(do.call(hbmmm, c(args, list(sampler = "nuts"))))
  expect_identical(dimnames(fg$draws)$variable, dimnames(fn$draws)$variable)
})

test_that("hb_draw_names() refuses labels that do not fit the model", {
  spec <- layout_specs()$hw
  model <- hbmmm:::mmm_model_list(spec)
  expect_input_error(.Call(hbmmm:::C_hb_draw_names, model), "model")
  model$labels <- list(x = "a", terms = list(), sigma = character(0), tpar = rep(NA_character_, 4))
  expect_input_error(.Call(hbmmm:::C_hb_draw_names, model), "model$labels$x")
})

test_that("given control$names, the Gibbs sampler returns the chain as a fit's draws array, same values", {
  spec <- layout_specs()[["iw_ig"]]
  ctl <- gibbs_control(iter = 4L, warmup = 1L)
  nms <- hbmmm:::draw_names(spec)
  plain <- run_gibbs_once(spec, ctl, seed = 5)
  named <- run_gibbs_once(spec, c(ctl, list(names = nms)), seed = 5)
  expect_identical(dim(named$draws), c(3L, 1L, length(nms)))
  expect_identical(dimnames(named$draws), list(iteration = NULL, chain = NULL, variable = nms))
  expect_identical(unname(named$draws[, 1, ]), plain$draws)
  expect_input_error(run_gibbs_once(spec, c(ctl, list(names = nms[-1]))), "control$names")
  expect_input_error(run_gibbs_once(spec, c(ctl, list(names = seq_along(nms)))), "control$names")
})
