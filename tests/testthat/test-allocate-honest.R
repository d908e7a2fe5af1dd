# What an allocation may claim: default bounds relative to the current spend,
# uplift and P(gain) judged on posterior draws that did not choose the plan,
# the units of its figures, and prints that fit 80 columns.

# Five channels with long-ish names, spend in thousands, 400 posterior draws.
long_curves <- function(D = 400) {
  set.seed(1)
  ch <- c("tv_national", "display_programmatic", "paid_search_brand", "social_video", "affiliate_network")
  cols <- list()
  for (j in seq_along(ch)) {
    cols[[paste0("b_", ch[j])]] <- rlnorm(D, log(runif(1, 2e4, 9e4)), 0.3)
    cols[[paste0("halfsat_", ch[j])]] <- rlnorm(D, log(runif(1, 5e3, 3e4)), 0.2)
    cols[[paste0("slope_", ch[j])]] <- 1.3
  }
  response_curves(do.call(cbind, cols), saturation = "hill", spend = setNames(runif(5, 4e3, 25e3), ch))
}

# Output of code at a console width (no new test dependency for this).
at_width <- function(width, code) {
  op <- options(width = width)
  on.exit(options(op))
  utils::capture.output(code)
}

# What a print says, as one line (prose is wrapped at the console width).
printed <- function(obj) gsub("\\s+", " ", paste(utils::capture.output(print(obj)), collapse = " "))

test_that("default bounds keep every channel within 0.5-1.5 x its current spend", {
  cv <- long_curves()
  cur <- setNames(cv$curves$spend, cv$curves$id)
  free <- allocate_budget(cv, bounds = NULL)
  # unbounded, the optimum switches a channel off: what the default prevents
  expect_lt(min(free$table$optimal), 1e-6 * sum(cur))
  al <- allocate_budget(cv)
  x <- setNames(al$table$optimal, al$table$channel)
  expect_equal(sum(x), sum(cur), tolerance = 1e-10)
  expect_true(all(x >= 0.5 * cur - 1e-9 & x <= 1.5 * cur + 1e-9))
  expect_true(all(x > 0.4 * cur))
  expect_equal(al$table$lower, unname(0.5 * cur))
  expect_equal(al$table$upper, unname(1.5 * cur))
  # the same problem stated with explicit bounds in spend gives the same plan
  ex <- allocate_budget(cv, lower = 0.5 * cur, upper = 1.5 * cur, bounds = NULL)
  expect_equal(ex$table$optimal, al$table$optimal, tolerance = 1e-10)
  # other multipliers, and explicit bounds override them channel by channel
  nar <- allocate_budget(cv, bounds = c(0.8, 1.2))
  expect_true(all(nar$table$optimal >= 0.8 * cur - 1e-9 & nar$table$optimal <= 1.2 * cur + 1e-9))
  ov <- allocate_budget(cv, upper = c(social_video = 1.1 * cur[["social_video"]]), lower = c(tv_national = 0))
  xo <- setNames(ov$table$optimal, ov$table$channel)
  expect_lte(xo[["social_video"]], 1.1 * cur[["social_video"]] + 1e-9)
  expect_equal(ov$table$lower[1], 0)
  expect_equal(ov$table$upper[-4], unname(1.5 * cur[-4]))
  expect_true(all(xo[-1] >= 0.5 * cur[-1] - 1e-9))
  # the print states the bounds in force
  expect_match(printed(al), "within 0.5-1.5 x its current spend", fixed = TRUE)
  expect_match(printed(ov), "given by `lower`/`upper` for tv_national, social_video", fixed = TRUE)
  expect_match(printed(free), "bounds = NULL", fixed = TRUE)
  # budget_for_target uses the same default
  bt <- budget_for_target(cv, target = 1.05 * sum(al$totals["current", "response"]))
  expect_true(all(bt$table$optimal >= 0.5 * cur - 1e-9 & bt$table$optimal <= 1.5 * cur + 1e-9))
})

test_that("a budget beyond the default bounds is infeasible, and the error says how to widen them", {
  cv <- long_curves(50)
  tot <- sum(cv$curves$spend)
  e <- tryCatch(allocate_budget(cv, budget = 1.6 * tot), error = identity)
  expect_s3_class(e, "hbmmm_infeasible_error")
  expect_match(conditionMessage(e), "0.5-1.5 x each channel's current spend")
  expect_match(conditionMessage(e), "bounds = NULL")
  expect_match(conditionMessage(e), "short of the budget")
  e <- tryCatch(allocate_budget(cv, budget = 0.4 * tot), error = identity)
  expect_s3_class(e, "hbmmm_infeasible_error")
  expect_match(conditionMessage(e), "lower bounds sum to.*widen them")
  # wider bounds make the same budget feasible
  ok <- allocate_budget(cv, budget = 1.6 * tot, bounds = c(0.5, 3))
  expect_equal(sum(ok$table$optimal), 1.6 * tot, tolerance = 1e-10)
  e <- tryCatch(budget_for_target(cv, target = 10 * sum(ok$table$response)), error = identity)
  expect_s3_class(e, "hbmmm_target_unreachable_error")
  expect_match(conditionMessage(e), "widen them")
  # bad bounds, and bounds without a current spend to scale
  expect_input_error(allocate_budget(cv, bounds = c(1.5, 0.5)), "bounds")
  expect_input_error(allocate_budget(cv, bounds = 0.5), "bounds")
  expect_input_error(allocate_budget(cv, holdout = 1), "holdout")
  nosp <- response_curves(data.frame(channel = c("a", "b"), type = "michaelis_menten", beta = c(100, 50), k = 10))
  expect_input_error(allocate_budget(nosp, budget = 10, bounds = c(0.8, 1.2)), "bounds")
  a <- allocate_budget(nosp, budget = 10) # no default bounds to apply
  expect_equal(a$table$upper, c(Inf, Inf))
  expect_match(printed(a), "no current spend", fixed = TRUE)
})

test_that("P(gain) is judged on held-out draws: below 1, and below the in-sample figure, when the plan overfits", {
  # 200 geos with the same true curve and a wide posterior; spending equally
  # (the current plan) is optimal, so every reallocation truly loses. The
  # optimizer, fed 20 draws, finds geos that look good by chance.
  set.seed(4)
  G <- 200
  D <- 40
  geo <- sprintf("geo%03d", seq_len(G))
  beta <- matrix(100 * exp(rnorm(D * G, 0, 0.5)), D, G)
  cv <- response_curves(data.frame(channel = "tv", segment = rep(geo, each = D), draw = rep(seq_len(D), G),
                                   type = "michaelis_menten", beta = as.vector(beta), k = 20, spend = 10))
  al <- allocate_budget(cv)
  x <- al$table$optimal
  gain <- x / (20 + x) - 10 / 30 # change of each geo's curve, per unit of beta
  truth <- sum(100 * exp(0.5^2 / 2) * gain)
  expect_lt(truth, 0)
  # the draws are split in two halves that do not overlap
  expect_length(al$holdout$eval, D / 2)
  expect_setequal(c(al$holdout$eval, al$holdout$fit), seq_len(D))
  # held-out figures against a plain-R computation on those draws
  d_eval <- as.vector(beta[al$holdout$eval, ] %*% gain)
  d_fit <- as.vector(beta[al$holdout$fit, ] %*% gain)
  expect_equal(al$uplift$change, mean(d_eval), tolerance = 1e-10)
  expect_equal(al$uplift$prob_gain, mean(d_eval > 0))
  expect_equal(al$uplift_fit$prob_gain, mean(d_fit > 0))
  expect_lt(al$uplift$prob_gain, 1)
  expect_lt(al$uplift$prob_gain, al$uplift_fit$prob_gain - 0.5)
  expect_gte(al$uplift_fit$prob_gain, 0.8)    # in-sample: a near-sure gain...
  expect_gt(al$uplift_fit$change, 0)
  expect_lt(al$uplift$change, 0)               # ...that the held-out draws do not see
  expect_lt(abs(al$uplift$change - truth), abs(al$uplift_fit$change - truth))
  expect_match(printed(al), "on the 20 held-out draw(s) that did not choose the plan", fixed = TRUE)
  # seeded: the same call gives the same split and plan; another seed another
  expect_identical(allocate_budget(cv)$holdout$eval, al$holdout$eval)
  expect_false(identical(allocate_budget(cv, seed = 2)$holdout$eval, al$holdout$eval))
  # holdout = 0 reproduces the in-sample optimum and says so
  a0 <- allocate_budget(cv, holdout = 0)
  expect_identical(a0$holdout$eval, seq_len(D))
  expect_equal(a0$uplift$prob_gain, mean(as.vector(beta %*% (a0$table$optimal / (20 + a0$table$optimal) - 10 / 30)) > 0))
  expect_match(printed(a0), "in-sample (holdout = 0)", fixed = TRUE)
})

test_that("a per-geo plan far beyond the observed spend warns", {
  fit <- decide_fit(iter = 60)
  cv <- response_curves(fit, group = "market")
  expect_equal(nrow(cv$curves), 2L * length(fit$spec$ranef$market$levels))
  # unbounded and with four times the budget, the plan goes far outside the data
  expect_warning(al <- allocate_budget(cv, budget = 4 * sum(cv$curves$spend), bounds = NULL),
                 class = "hbmmm_warning_extrapolation")
  expect_true(any(al$table$optimal > cv$curves$spend_max))
  # the default bounds keep every geo's channel near its own current spend
  ad <- suppressWarnings(allocate_budget(cv), classes = "hbmmm_warning_extrapolation")
  expect_true(all(ad$table$optimal >= 0.5 * cv$curves$spend - 1e-9 & ad$table$optimal <= 1.5 * cv$curves$spend + 1e-9))
  # curves of a fit say what a row is
  expect_match(printed(ad), "per period per row at steady state (a row = one panel x period of the training data",
               fixed = TRUE)
})

test_that("the decision prints fit 80 columns and state their units", {
  cv <- long_curves(200)
  al <- allocate_budget(cv)
  width_ok <- function(obj) {
    out <- at_width(80, print(obj))
    expect_lte(max(nchar(out)), 80)
    out
  }
  out <- width_ok(al)
  expect_true(any(grepl("Units: spend and response per period at steady state", out)))
  expect_true(any(grepl("display_programmatic", out)))
  # every channel's row and every column of the plan still printed
  expect_true(all(c("current", "bounds", "optimal", "change", "ROI", "mROI") %in% unlist(strsplit(out, " +"))))
  h <- width_ok(allocate_budget(cv, horizon = 4, budget = 4 * sum(cv$curves$spend)))
  expect_match(gsub("\\s+", " ", paste(h, collapse = " ")), "totals over the horizon of 4 period(s)", fixed = TRUE)
  width_ok(budget_for_target(cv, target = 1.05 * al$totals["current", "response"]))
  r <- width_ok(roi(cv))
  expect_true(any(grepl("mROI", r)))
  width_ok(simulate_scenario(cv, scale = 0.9))
  s <- width_ok(cv)
  expect_true(any(grepl("saturation at", s)))
  width_ok(summary(cv))
  beta <- rbind(high_value = c(tv_national = 1.6, display_programmatic = 1.4, paid_search_brand = 1.5,
                               social_video = 1.2, affiliate_network = 0.9),
                low_value = c(tv_national = 1.1, display_programmatic = 1.5, paid_search_brand = 1.2,
                              social_video = 1.3, affiliate_network = 1.0))
  dr <- array(rep(beta, each = 50) * exp(rnorm(500, 0, 0.2)), c(50, 2, 5), dimnames = c(list(NULL), dimnames(beta)))
  sg <- width_ok(allocate_segments(dr, budget = c(high_value = 100, low_value = 60), cost = 1, lower = 0.02,
                                   upper = 0.35, bounds = "share"))
  expect_true(any(grepl("affiliate_network", sg)))
})

test_that("print_table splits wide tables by columns, repeating the row labels", {
  out <- data.frame(key = c("a_rather_long_row_label", "b"), x = strrep("x", 30), y = strrep("y", 30), z = "z")
  lines <- at_width(60, hbmmm:::print_table(out))
  expect_lte(max(nchar(lines)), 60)
  expect_equal(sum(grepl("^ key", lines)), 2L)  # two blocks, each with the labels
  expect_equal(sum(grepl("a_rather_long_row_label", lines)), 2L)
  # narrow enough: one block, exactly print.data.frame's
  expect_identical(at_width(200, hbmmm:::print_table(out)),
                   at_width(200, print(out, row.names = FALSE, right = FALSE)))
})
