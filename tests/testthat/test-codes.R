# R and C number transforms, links, prior families and covariance types the
# same way: the table HB_CODES (R/codes.R) against the enums of src/hbmmm.h.
test_that("the integer codes of R and C agree", {
  expect_identical(.Call(hbmmm:::C_hb_codes), hbmmm:::HB_CODES)
})

test_that("every prior family with a code has an R constructor", {
  fams <- names(hbmmm:::HB_CODES$prior)
  expect_true(all(vapply(fams, function(f) exists(f, asNamespace("hbmmm")), TRUE)))
})
