# Lift-test calibration (the lift tests of PyMC-Marketing): each experiment
# that measured the change in the response when a channel's spend moved from
# x to x + delta_x per period is one more observation,
#   delta_y ~ N(f(x + delta_x) - f(x), sigma^2),
# on the channel's steady-state response curve f, the curve that
# response_curves() reports (a row of the training rows' average population;
# of one group's rows, with its group-level effect, for a test in a group).
# In the samplers a test is a row appended to the data (mmm_model_list()):
# its channel column holds the curve difference at the current transforms
# (src/model_channel.c, hb_channel_lift()), its weight is the test's known
# precision, and every block that sees rows sees the tests with no other
# machinery.

LIFT_COLUMNS <- c("channel", "x", "delta_x", "delta_y", "sigma")

# The lift tests of hbmmm(calibration = ): the data frame as given (`table`)
# and, per test, what the model rows need: the channel (index into media),
# the fixed column of its coefficient, the grouping term and level (NA for
# none), and the test in the model's units (a0, a1: spend in model media
# units before adstock; dy and prec per capita with a population).
check_calibration <- function(calibration, spec) {
  if (is.null(calibration)) return(NULL)
  if (!is.data.frame(calibration) || !nrow(calibration)) {
    abort_input("calibration", sprintf("must be a data frame of lift tests with columns %s (one row per test); found %s",
                                       paste(LIFT_COLUMNS, collapse = ", "), describe_value(calibration)))
  }
  miss <- setdiff(LIFT_COLUMNS, names(calibration))
  if (length(miss)) {
    abort_input("calibration", sprintf("has no column `%s`; a lift test needs %s", miss[1],
                                       paste(LIFT_COLUMNS, collapse = ", ")))
  }
  groups <- setdiff(names(calibration), LIFT_COLUMNS)
  bad <- setdiff(groups, names(spec$ranef))
  if (length(bad)) {
    abort_input("calibration", sprintf("has column `%s`, which is neither a lift-test column (%s) nor a grouping term of the model (%s)",
                                       bad[1], paste(LIFT_COLUMNS, collapse = ", "),
                                       if (length(spec$ranef)) paste(names(spec$ranef), collapse = ", ") else "none"))
  }
  ch <- calibration$channel
  if (is.factor(ch)) ch <- as.character(ch)
  if (!is.character(ch) || anyNA(ch) || any(!ch %in% spec$media)) {
    wrong <- if (is.character(ch)) ch[is.na(ch) | !ch %in% spec$media][1] else describe_value(ch)
    abort_input("calibration", sprintf("column `channel` must name media channels (%s); found `%s`",
                                       paste(spec$media, collapse = ", "), wrong))
  }
  num <- function(nm, ok, what) {
    v <- calibration[[nm]]
    if (!is.numeric(v) || any(!is.finite(v))) {
      abort_input("calibration", sprintf("column `%s` must be finite numbers; found %s", nm, describe_value(v)))
    }
    if (any(!ok(v))) {
      k <- which(!ok(v))[1]
      abort_input("calibration", sprintf("column `%s` must be %s; test %d has %s", nm, what, k, format(v[k])))
    }
    as.double(v)
  }
  x <- num("x", function(v) v >= 0, "non-negative (spend per period before the test)")
  dx <- num("delta_x", function(v) v > 0, "positive (the added spend per period)")
  dy <- num("delta_y", function(v) TRUE, "")
  sigma <- num("sigma", function(v) v > 0, "positive (the standard error of delta_y)")
  coef <- match(ch, spec$X$names)
  coef[!is.na(coef) & is.na(spec$X$channel[coef])] <- NA
  if (anyNA(coef)) {
    abort_input("calibration", sprintf("channel `%s` has no population-level coefficient in `formula`; a lift test measures the curve b_%s",
                                       ch[is.na(coef)][1], ch[is.na(coef)][1]))
  }
  lift_groups(calibration, spec, groups, list(
    table = calibration, channel = match(ch, spec$media), coef = coef, x = x, delta_x = dx, delta_y = dy,
    sigma = sigma))
}

# The term and level of each test (at most one grouping value per test) and
# the test in the model's units, on the rows it stands for.
lift_groups <- function(calibration, spec, groups, lt) {
  n <- length(lt$x)
  lt$term <- rep(NA_character_, n)
  lt$level <- rep(NA_integer_, n)
  for (gname in groups) {
    v <- calibration[[gname]]
    if (is.factor(v)) v <- as.character(v)
    has <- !is.na(v)
    lev <- match(as.character(v[has]), spec$ranef[[gname]]$levels)
    if (anyNA(lev)) {
      abort_input("calibration", sprintf("column `%s` has `%s`, which is not a level of `%s` in the data",
                                         gname, as.character(v[has][is.na(lev)][1]), gname))
    }
    both <- has & !is.na(lt$term)
    if (any(both)) {
      abort_input("calibration", sprintf("test %d is in a group of `%s` and of `%s`; a test may name one group (NA elsewhere)",
                                         which(both)[1], lt$term[both][1], gname))
    }
    lt$term[has] <- gname
    lt$level[has] <- lev
  }
  cost <- unit_cost(spec, spec$media)[lt$channel]
  pop <- vapply(seq_len(n), function(k) {
    if (is.null(spec$pop)) return(1)
    rows <- if (is.na(lt$term[k])) seq_len(spec$nobs) else which(spec$ranef[[lt$term[k]]]$codes == lt$level[k])
    mean(spec$pop[rows])
  }, 0)
  lt$pop <- pop
  lt$a0 <- lt$x / (cost * pop)
  lt$a1 <- (lt$x + lt$delta_x) / (cost * pop)
  lt$y <- lt$delta_y / pop
  lt$prec <- (pop / lt$sigma)^2
  lt
}

# The model list with the lift tests appended as rows (src/README.md,
# `lift`): response delta_y, weight the test's precision, the channel's own
# fixed column 1 and every other column 0, its group-level column 1 in the
# test's level (when the term has one for the channel), no media of their
# own (C writes the curve difference) and no panel.
add_lift_rows <- function(model, spec) {
  lt <- spec$calibration
  nl <- length(lt$x)
  n <- length(model$y)
  X <- matrix(0, nl, model$p)
  X[cbind(seq_len(nl), lt$coef)] <- 1
  model$y <- c(model$y, lt$y)
  model$w <- c(model$w, lt$prec)
  model$sg <- c(model$sg, integer(nl))
  model$Xs <- rbind(model$Xs, X)
  model$media_raw <- rbind(model$media_raw, matrix(0, nl, model$C))
  if (!is.null(model$tpos)) model$tpos <- c(model$tpos, integer(nl))
  eranef <- engine_ranef(spec$ranef)
  for (k in seq_along(model$terms)) {
    t <- model$terms[[k]]
    gname <- names(eranef)[k]
    Z <- matrix(0, nl, t$q)
    g <- integer(nl)
    col <- match(spec$media[lt$channel], eranef[[k]]$Z$names)
    inside <- which(!is.na(lt$term) & lt$term == gname)
    g[inside] <- lt$level[inside] - 1L
    here <- inside[!is.na(col[inside])]
    Z[cbind(here, col[here])] <- 1
    t$g <- c(t$g, g)
    t$Zs <- rbind(t$Zs, Z)
    # a term column shares the fixed column's storage only where both agree
    # on every row, the tests' rows included
    for (l in which(t$xmap >= 0L)) {
      if (!identical(unname(model$Xs[, t$xmap[l] + 1L]), unname(t$Zs[, l]))) t$xmap[l] <- -1L
    }
    model$terms[[k]] <- t
  }
  # log-normal blocks: a test in the block's group and channel gets its
  # level's multiplier, every other test none
  blocks <- mult_blocks(spec)
  for (b in seq_along(model$mult)) {
    lv <- rep(-1L, nl)
    inside <- which(!is.na(lt$term) & lt$term == blocks[[b]]$group & lt$channel == blocks[[b]]$channel)
    lv[inside] <- lt$level[inside] - 1L
    model$mult[[b]]$g <- c(model$mult[[b]]$g, lv)
  }
  model$lift <- list(c = as.integer(lt$channel - 1L), a0 = lt$a0, a1 = lt$a1)
  model
}

# The tests against the fit: each test's measured change and the model's
# change on the same curve, per posterior draw (response_curves() of the
# fit, of the test's group when it has one).
lift_check <- function(fit, level = 0.9, max_draws = 1000) {
  lt <- fit$spec$calibration
  if (is.null(lt)) return(NULL)
  n <- length(lt$x)
  ch <- fit$spec$media[lt$channel]
  mean_ci <- matrix(NA_real_, n, 3)
  pr <- interval_probs(level)
  for (term in unique(lt$term)) {
    k <- which(identical_na(lt$term, term))
    cv <- suppressWarnings(response_curves(fit, group = if (is.na(term)) NULL else term, max_draws = max_draws))
    ids <- if (is.na(term)) ch[k] else curve_ids(ch[k], fit$spec$ranef[[term]]$levels[lt$level[k]])
    prof <- curve_profiles(cv) # steady-state multipliers of every curve, per draw
    for (i in seq_along(k)) {
      j <- match(ids[i], cv$curves$id)
      v0 <- curves_at(cv, replace(cv$curves$spend, j, lt$x[k[i]]), prof)$value[, j]
      v1 <- curves_at(cv, replace(cv$curves$spend, j, lt$x[k[i]] + lt$delta_x[k[i]]), prof)$value[, j]
      d <- v1 - v0
      mean_ci[k[i], ] <- c(mean(d), stats::quantile(d, pr, names = FALSE))
    }
  }
  group <- ifelse(is.na(lt$term), "", paste0(lt$term, " = ",
                  vapply(seq_len(n), function(k) if (is.na(lt$term[k])) "" else fit$spec$ranef[[lt$term[k]]]$levels[lt$level[k]], "")))
  data.frame(channel = ch, group = group, x = lt$x, delta_x = lt$delta_x, delta_y = lt$delta_y, sigma = lt$sigma,
             model = mean_ci[, 1], lower = mean_ci[, 2], upper = mean_ci[, 3], stringsAsFactors = FALSE)
}

identical_na <- function(x, value) if (is.na(value)) is.na(x) else !is.na(x) & x == value

print_lift_check <- function(tab, digits = 3, level = 0.9) {
  cat("\nLift tests (calibration: delta_y ~ N(f(x + delta_x) - f(x), sigma^2) on each channel's steady-state curve):\n")
  out <- data.frame(channel = tab$channel, x = fmt_num(tab$x, digits), delta_x = fmt_num(tab$delta_x, digits),
                    measured = sprintf("%s (sd %s)", fmt_num(tab$delta_y, digits), fmt_num(tab$sigma, digits)),
                    model = sprintf("%s [%s, %s]", fmt_num(tab$model, digits), fmt_num(tab$lower, digits),
                                    fmt_num(tab$upper, digits)),
                    stringsAsFactors = FALSE)
  if (any(nzchar(tab$group))) out <- cbind(out[1], group = tab$group, out[-1])
  names(out)[names(out) == "model"] <- sprintf("model %d%%", round(100 * level))
  print_table(out)
}
