# What-if scenarios on given curves (against plain-R evaluations) and on a
# fit (against the model components), plus consistency with allocation.

two_curves <- function() {
  response_curves(data.frame(channel = c("print", "video"), type = "hill", beta = c(300, 800),
                             halfsat = c(50, 150), slope = c(1.2, 1.5), spend = c(100, 100)))
}
f_print <- function(x) 300 * hill_r(x, 50, 1.2)
f_video <- function(x) 800 * hill_r(x, 150, 1.5)

test_that("moving budget between channels changes the outcome as the curves say", {
  s <- simulate_scenario(two_curves(), shift = list(from = "print", to = "video", amount = 30))
  want <- f_print(70) + f_video(130) - f_print(100) - f_video(100)
  expect_equal(s$change$mean, want, tolerance = 1e-12)
  expect_equal(s$by_channel$change, c(f_print(70) - f_print(100), f_video(130) - f_video(100)), tolerance = 1e-12)
  expect_equal(unname(s$spend["plan", ]), c(70, 130))
  expect_output(print(s), "Change of the expected outcome")
})

test_that("a 10% cut and an explicit plan agree", {
  a <- simulate_scenario(two_curves(), scale = 0.9)
  b <- simulate_scenario(two_curves(), plan = c(print = 90, video = 90))
  expect_equal(a$change, b$change)
  expect_equal(a$change$mean, f_print(90) + f_video(90) - f_print(100) - f_video(100), tolerance = 1e-12)
  expect_lt(a$change$mean, 0)
  expect_equal(a$change$prob_increase, 0)
})

test_that("a weekly flighting is adstocked draw by draw with carry-over", {
  set.seed(1)
  D <- 100
  dr <- cbind(b_tv = rlnorm(D, log(50), 0.2), halfsat_tv = 30, slope_tv = 2, decay_tv = runif(D, 0.3, 0.7))
  cv <- response_curves(dr, saturation = "hill", adstock = c(tv = "geometric"), normalize = FALSE,
                        spend = c(tv = 20))
  burst <- matrix(c(80, 0, 0, 0), 4, 1, dimnames = list(NULL, "tv"))
  even <- matrix(20, 4, 1, dimnames = list(NULL, "tv"))
  s <- simulate_scenario(cv, plan = burst, current = even)
  ref <- function(plan, d) {
    sp <- c(plan, numeric(200))
    a <- as.numeric(stats::filter(sp, dr[d, "decay_tv"], method = "recursive"))
    sum(dr[d, "b_tv"] * hill_r(a, 30, 2))
  }
  want <- vapply(1:D, function(d) ref(burst[, 1], d) - ref(even[, 1], d), 0)
  expect_equal(s$per_draw$change, want, tolerance = 1e-6)
  expect_equal(dim(s$series$plan)[1], D)
})

test_that("the scenario of an optimal plan reproduces the allocation's uplift", {
  set.seed(4)
  D <- 200
  dr <- cbind(b_print = rlnorm(D, log(300), 0.3), halfsat_print = 50, slope_print = 1.2,
              b_video = rlnorm(D, log(800), 0.3), halfsat_video = 150, slope_video = 1.5)
  cv <- response_curves(dr, spend = c(print = 100, video = 100))
  al <- allocate_budget(cv)
  expect_equal(length(al$holdout$eval), D / 2)
  s <- simulate_scenario(cv, plan = setNames(al$table$optimal, al$table$channel))
  # the allocation judges its plan on the held-out draws; in-sample on the others
  expect_equal(mean(s$per_draw$change[al$holdout$eval]), al$uplift$change, tolerance = 1e-10)
  expect_equal(mean(s$per_draw$change[al$holdout$fit]), al$uplift_fit$change, tolerance = 1e-10)
  expect_equal(mean(s$per_draw$change[al$holdout$eval] > 0), al$uplift$prob_gain)
  expect_length(intersect(al$holdout$eval, al$holdout$fit), 0L)
})

test_that("bad scenarios raise classed errors", {
  cv <- two_curves()
  expect_error(simulate_scenario(cv, shift = list(from = "radio", to = "video", amount = 1)),
               class = "hbmmm_unknown_channel_error")
  e <- tryCatch(simulate_scenario(cv, shift = list(from = "print", to = "video", amount = 150)), error = identity)
  expect_s3_class(e, "hbmmm_infeasible_error")
  expect_match(conditionMessage(e), "50 short")
  expect_input_error(simulate_scenario(cv), "plan")
  expect_input_error(simulate_scenario(cv, scale = -1), "scale")
  expect_error(simulate_scenario(cv, plan = c(tv = 3)), class = "hbmmm_unknown_channel_error")
})

test_that("scenarios on a fit compare the model's expected outcomes", {
  fit <- decide_fit(iter = 30)
  s0 <- simulate_scenario(fit, scale = 1, seed = 1)
  expect_equal(s0$change$mean, 0)
  # newdata without a media column or a model column: classed errors naming newdata
  nd <- hbmmm:::original_data(fit$spec)
  expect_input_error(simulate_scenario(fit, newdata = nd[c("market", "week", "tv")], scale = 1.1), "newdata")
  expect_input_error(simulate_scenario(fit, newdata = nd[setdiff(names(nd), "price")], scale = 1.1), "newdata")
  s <- simulate_scenario(fit, scale = 0.5, seed = 1)
  data <- hbmmm:::original_data(fit$spec)
  half <- data
  half[c("tv", "search")] <- half[c("tv", "search")] * 0.5
  c0 <- hbmmm:::mmm_components(fit, newdata = data, history = FALSE)
  c1 <- hbmmm:::mmm_components(fit, newdata = half, history = FALSE)
  expect_equal(s$per_draw$change, rowSums(c1$mu) - rowSums(c0$mu), tolerance = 1e-10)
  expect_equal(unname(s$spend["plan", ]), unname(0.5 * colSums(data[c("tv", "search")])))
  # the same seed gives the same predictive draws
  expect_identical(simulate_scenario(fit, scale = 0.5, seed = 1)$per_draw, s$per_draw)
  pdf(NULL)
  on.exit(dev.off())
  expect_equal(plot(s), s$change)
})
