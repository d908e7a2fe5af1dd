# Bad input gets a classed error naming the argument; nothing crashes R.

test_that("media values must be numeric, finite and non-negative", {
  expect_input_error(adstock_geometric(c(1, -2, 3), 0.5), "x")
  expect_input_error(adstock_geometric(c(1, NA, 3), 0.5), "x")
  expect_input_error(adstock_delayed(c(1, Inf), 0.5, 1), "x")
  expect_input_error(adstock_weibull(c(1, NaN), 1, 1), "x")
  expect_input_error(saturation_hill(c(1, -1), 1, 1), "x")
  expect_input_error(saturation_logistic(Inf, 1), "x")
  expect_input_error(saturation_michaelis_menten(NA_real_, 1, 1), "x")
  expect_input_error(adstock_geometric(c("1", "2"), 0.5), "x")
  expect_input_error(adstock_geometric(list(1, 2), 0.5), "x")
  expect_input_error(saturation_hill(TRUE, 1, 1), "x")
  expect_input_error(adstock_geometric(data.frame(a = 1, b = "x"), 0.5), "x")
  expect_input_error(adstock_geometric(array(1, c(2, 2, 2)), 0.5), "x")
  cnd <- expect_input_error(adstock_geometric(cbind(1, c(2, -7)), 0.5), "x")
  expect_match(conditionMessage(cnd), "found -7 at row 2, column 2")
  cnd <- expect_input_error(saturation_hill(c(1, NA), 1, 1), "x")
  expect_match(conditionMessage(cnd), "found NA at element 2")
})

test_that("parameters outside their range are named", {
  expect_input_error(adstock_geometric(1:3, 1), "decay")
  expect_input_error(adstock_geometric(1:3, -0.1), "decay")
  expect_input_error(adstock_geometric(1:3, NA_real_), "decay")
  expect_input_error(adstock_delayed(1:3, 1.5, 1), "decay")
  expect_input_error(adstock_delayed(1:3, 0.5, -1), "delay")
  expect_input_error(adstock_delayed(1:3, 0.5, 20, max_lag = 13), "delay")
  expect_input_error(adstock_weibull(1:3, 0, 1), "shape")
  expect_input_error(adstock_weibull(1:3, 1, -2), "scale")
  expect_input_error(adstock_weibull(1:3, 1, Inf), "scale")
  expect_input_error(saturation_hill(1:3, 0, 1), "halfsat")
  expect_input_error(saturation_hill(1:3, 1, -1), "slope")
  expect_input_error(saturation_logistic(1:3, 0), "lambda")
  expect_input_error(saturation_michaelis_menten(1:3, 1, 0), "k")
  expect_input_error(saturation_michaelis_menten(1:3, -1, 1), "vmax")
  expect_input_error(saturation_hill(1:3, "a", 1), "halfsat")
  # one value per column: the message says which column is wrong
  cnd <- expect_input_error(adstock_geometric(cbind(1, 2, 3), c(0.1, 0.2, 1.1)), "decay")
  expect_match(conditionMessage(cnd), "column 3")
})

test_that("parameter lengths, names, max_lag, normalize and group are checked", {
  m <- cbind(tv = 1:4, radio = 4:1)
  expect_input_error(adstock_geometric(m, c(0.1, 0.2, 0.3)), "decay")
  expect_input_error(adstock_geometric(m, numeric(0)), "decay")
  expect_input_error(adstock_geometric(m, c(tv = 0.1, print = 0.2)), "decay")
  expect_input_error(saturation_hill(m, 1, c(1, 2, 3)), "slope")
  expect_input_error(adstock_geometric(1:4, 0.5, max_lag = -1), "max_lag")
  expect_input_error(adstock_geometric(1:4, 0.5, max_lag = 2.5), "max_lag")
  expect_input_error(adstock_geometric(1:4, 0.5, max_lag = 1e6), "max_lag")
  expect_input_error(adstock_delayed(1:4, 0.5, 1, max_lag = NULL), "max_lag")
  expect_input_error(adstock_geometric(1:4, 0.5, normalize = NA), "normalize")
  expect_input_error(adstock_geometric(1:4, 0.5, normalize = "yes"), "normalize")
  expect_input_error(adstock_geometric(1:4, 0.5, group = 1:3), "group")
  expect_input_error(adstock_geometric(1:4, 0.5, group = c(1, NA, 1, 1)), "group")
  expect_input_error(adstock_geometric(1:4, 0.5, group = list(1, 2, 3, 4)), "group")
  expect_input_error(adstock_weibull(1:4, 1, 1, type = "cfd"), "type")
  # decay = 0 with a fractional delay leaves no weight to normalize
  expect_input_error(adstock_delayed(1:4, 0, 1.5), "delay")
})

test_that(".Call entry points reject any malformed argument without crashing", {
  garbage <- list(NULL, "a", TRUE, NA, NA_real_, NA_integer_, -1L, 0L, 5L, 1e10, -Inf,
                  numeric(0), integer(0), list(1), c(1, 2), matrix(1, 2, 2), c(0L, 2L),
                  quote(x), function() 1, 0.5, 2L, c(1L, 1L))
  valid <- list(
    list(fn = hbmmm:::C_hb_adstock,
         args = list(c(1, 0, 2), 1L, 0.5, 3L, TRUE, c(1L, 2L, 1L), c(1L, 2L, 5L), FALSE)),
    list(fn = hbmmm:::C_hb_saturate, args = list(c(1, 0, 2), 1L, c(1, 2), TRUE))
  )
  outcomes <- character(0)
  for (v in valid) {
    expect_type(do.call(.Call, c(list(v$fn), v$args)), if (isTRUE(v$args[[length(v$args)]])) "list" else "double")
    for (i in seq_along(v$args)) for (bad in garbage) {
      args <- v$args
      args[i] <- list(bad)
      res <- tryCatch(do.call(.Call, c(list(v$fn), args), quote = TRUE), error = function(e) e)
      # each outcome is a classed error or a well-formed numeric result
      ok <- inherits(res, "hbmmm_input_error") || is.double(res) ||
        (is.list(res) && all(vapply(res, is.double, logical(1))))
      expect_true(ok, label = sprintf("argument %d replaced by %s", i, deparse(bad)[1]))
      outcomes <- c(outcomes, class(res)[1])
    }
  }
  expect_true("hbmmm_input_error" %in% outcomes)
})

test_that("a transform that overflows to Inf is a classed error naming x", {
  expect_input_error(adstock_geometric(c(1e308, 1e308, 1e308), decay = 0.9), "x")
  expect_error(adstock_geometric(c(1e308, 1e308), decay = 0.9), "overflows")
  expect_input_error(adstock_weibull(rep(1.7e308, 5), shape = 2, scale = 3, normalize = FALSE), "x")
  # large but representable results are fine
  expect_true(all(is.finite(adstock_geometric(c(1e300, 1e300), decay = 0.5))))
})
