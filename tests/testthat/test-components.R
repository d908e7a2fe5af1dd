# mmm_components() against a plain-R computation of the model: transformed
# media by the reference adstock/saturation of helper-reference.R, design by
# model.matrix() on the data with the media replaced by their transforms.

# Reference linear predictor and residual sd for one draw (a named vector of
# as.matrix(fit)), on `data` in its own row order. `rows` picks the rows
# returned (the media transforms run over all of `data`).
ref_components <- function(fit, draw, data, rows = seq_len(nrow(data)), weights = NULL) {
  spec <- fit$spec
  panel <- if (is.null(spec$panel)) rep(1, nrow(data)) else as.character(data[[spec$panel]])
  dd <- data
  tr <- spec$transforms
  for (ch in spec$media) {
    par <- function(nm) {
      full <- paste0(nm, "_", ch)
      if (full %in% names(draw)) draw[[full]] else tr$pars$value[tr$pars$name == full]
    }
    x <- numeric(nrow(data))
    for (p in unique(panel)) {
      r <- which(panel == p)
      r <- r[order(data[[spec$time]][r])]
      x[r] <- if (tr$adstock[[ch]] == "none") data[[ch]][r] else
        ref_adstock_series(data[[ch]][r], "geometric", list(decay = par("decay")), NULL, TRUE)
    }
    dd[[ch]] <- switch(tr$saturation[[ch]],
      hill = ref_saturation(x, "hill", list(halfsat = par("halfsat"), slope = par("slope"))),
      michaelis_menten = x / (par("k") + x))
  }
  fixed <- lme4_free_fixed(spec$formula)
  X <- model.matrix(fixed, dd)
  b <- draw[paste0("b_", sub("(Intercept)", "Intercept", colnames(X), fixed = TRUE))]
  mu <- drop(X %*% b)
  media <- sapply(spec$media, function(ch) {
    j <- grepl(paste0("(^|:)", ch, "($|:)"), colnames(X))
    drop(X[, j, drop = FALSE] %*% b[j])
  })
  for (g in names(spec$ranef)) {
    t <- spec$ranef[[g]]
    Z <- model.matrix(as.formula(call("~", t$lhs)), dd)
    lev <- as.character(data[[g]])
    for (l in seq_len(ncol(Z))) {
      tn <- sub("(Intercept)", "Intercept", colnames(Z)[l], fixed = TRUE)
      u <- if (spec$keep[[g]]$full) draw[sprintf("r_%s[%s,%s]", g, lev, tn)] else {
        rs <- fit$ranef_summary[[g]]
        rs$mean[rs$term == tn][match(lev, rs$level[rs$term == tn])]
      }
      mu <- mu + Z[, l] * u
      if (colnames(Z)[l] %in% spec$media) media[, colnames(Z)[l]] <- media[, colnames(Z)[l]] + Z[, l] * u
    }
  }
  sigma <- if (is.null(spec$sigma_by)) rep(draw[["sigma"]], nrow(data)) else
    draw[paste0("sigma[", as.character(data[[spec$sigma_by]]), "]")]
  if (!is.null(weights)) sigma <- sigma / sqrt(weights)
  list(mu = unname(mu[rows]), sigma = unname(sigma[rows]), media = media[rows, , drop = FALSE])
}

lme4_free_fixed <- function(formula) {
  rhs <- hbmmm:::parse_formula(formula)$fixed
  delete.response(terms(rhs))
}

check_against_reference <- function(fit, data, draws = c(1, 7, 20), tol = 1e-9, ...) {
  cm <- hbmmm:::mmm_components(fit, draws = draws)
  m <- as.matrix(fit)
  expect_identical(dim(cm$mu), c(length(draws), nrow(data)))
  for (k in seq_along(draws)) {
    ref <- ref_components(fit, m[draws[k], ], data, ...)
    expect_lt(max_rel_err(cm$mu[k, ], ref$mu), tol)
    expect_lt(max_rel_err(cm$sigma[k, ], ref$sigma), tol)
    for (ch in fit$spec$media) expect_lt(max_rel_err(cm$media[[ch]][k, ], ref$media[, ch]), tol)
  }
  parts <- cm$baseline + cm$controls + Reduce(`+`, cm$media)
  expect_lt(max_rel_err(parts, cm$mu), 1e-12)
  cm
}

test_that("components match the plain-R model: fixed effects only", {
  d <- small_panel()
  fit <- quick_fit(formula = sales ~ tv + search + price, panel = "market")
  cm <- check_against_reference(fit, d)
  expect_identical(cm$draws, c(1L, 7L, 20L))
  expect_identical(cm$rows, nrow(d))
  # the baseline holds the control (price) at its training mean, the price
  # component its deviation; with reference "zero" the baseline is the
  # intercept alone and price its coefficient times its value
  m <- as.matrix(fit)
  mp <- mean(d$price)
  expect_equal(cm$baseline[, 1], unname(m[c(1, 7, 20), "b_Intercept"] + m[c(1, 7, 20), "b_price"] * mp))
  expect_equal(cm$linear$price[, 5], unname(m[c(1, 7, 20), "b_price"] * (d$price[5] - mp)))
  raw <- hbmmm:::mmm_components(fit, draws = c(1, 7, 20), reference = "zero")
  expect_equal(raw$baseline[, 1], unname(m[c(1, 7, 20), "b_Intercept"]))
  expect_equal(raw$linear$price[, 5], unname(m[c(1, 7, 20), "b_price"] * d$price[5]))
  expect_equal(raw$mu, cm$mu)
})

test_that("components match with (1 + tv | market), rows shuffled", {
  d <- small_panel()
  set.seed(3)
  d <- d[sample(nrow(d)), ]
  fit <- quick_fit(data = d)
  check_against_reference(fit, d)
  # all draws by default
  expect_identical(nrow(hbmmm:::mmm_components(fit)$mu), 40L)
})

test_that("components match with sigma_by and with weights", {
  d <- small_panel()
  d$region <- ifelse(d$market %in% c("M01", "M02"), "north", "south")
  fit <- quick_fit(data = d, sigma_by = "region")
  check_against_reference(fit, d)
  w <- rep(c(0.5, 2), length.out = nrow(d))
  d$w <- w
  fit_w <- quick_fit(data = d, weights = "w")
  # the spec rescales weights to mean one
  check_against_reference(fit_w, d, weights = w / mean(w))
})

test_that("components match with no adstock and Michaelis-Menten saturation", {
  d <- small_panel()
  fit <- quick_fit(adstock = c(tv = "none", search = "geometric"),
                   saturation = c(tv = "michaelis_menten", search = "hill"))
  check_against_reference(fit, d)
})

test_that("terms summarized online use posterior means, with a classed warning", {
  d <- small_panel()
  fit <- quick_fit(keep_ranef = 2)
  expect_length(fit$ranef_summary, 1)
  expect_warning(cm <- hbmmm:::mmm_components(fit, draws = 1:3), class = "hbmmm_warning_online_ranef")
  m <- as.matrix(fit)
  for (k in 1:3) {
    ref <- ref_components(fit, m[k, ], d)
    expect_lt(max_rel_err(cm$mu[k, ], ref$mu), 1e-9)
  }
})

test_that("newdata continues the adstock memory of the training panels", {
  d <- small_panel()
  train <- d[d$week <= 30, ]
  test <- d[d$week > 30, ]
  test <- test[nrow(test):1, ] # any row order
  fit <- quick_fit(data = train)
  m <- as.matrix(fit)
  cm <- hbmmm:::mmm_components(fit, newdata = test, draws = c(2, 9))
  full <- rbind(train, test)
  rows <- nrow(train) + seq_len(nrow(test))
  for (k in 1:2) {
    ref <- ref_components(fit, m[c(2, 9)[k], ], full, rows = rows)
    expect_lt(max_rel_err(cm$mu[k, ], ref$mu), 1e-9)
  }
  # without history the series restarts at the first new week
  cm0 <- hbmmm:::mmm_components(fit, newdata = test, draws = 2, history = FALSE)
  ref0 <- ref_components(fit, m[2, ], test)
  expect_lt(max_rel_err(cm0$mu[1, ], ref0$mu), 1e-9)
  expect_gt(max(abs(cm0$mu[1, ] - cm$mu[1, ])), 1e-6)
  # training rows given as newdata (not after the training weeks) reproduce the fit
  expect_equal(hbmmm:::mmm_components(fit, newdata = train, draws = 2)$mu,
               hbmmm:::mmm_components(fit, draws = 2)$mu)
})

test_that("unseen levels get zero group-level effects; bad inputs are refused", {
  d <- small_panel()
  fit <- quick_fit()
  nd <- d[d$market == "M01", ]
  nd$market <- "M99"
  m <- as.matrix(fit)
  cm <- hbmmm:::mmm_components(fit, newdata = nd, draws = 4, history = FALSE)
  fx <- quick_ref_fixed <- ref_components(fit, replace(m[4, ], grepl("^r_", colnames(m)), 0),
                                          transform(nd, market = factor("M01", levels = levels(d$market))))
  expect_lt(max_rel_err(cm$mu[1, ], fx$mu), 1e-9)
  expect_input_error(hbmmm:::mmm_components(fit, draws = 0), "draws")
  expect_input_error(hbmmm:::mmm_components(fit, draws = 1e6), "draws")
  expect_input_error(hbmmm:::mmm_components(fit, newdata = d[, -5]), "newdata")
  expect_input_error(hbmmm:::mmm_components(fit, newdata = 1), "newdata")
  expect_input_error(hbmmm:::mmm_components(1), "fit")
})

test_that("NUTS fits (same draw names) go through the same components", {
  d <- small_panel()
  fit <- quick_fit(sampler = "nuts")
  expect_identical(fit$sampler, "nuts")
  check_against_reference(fit, d, draws = c(1, 33))
})
