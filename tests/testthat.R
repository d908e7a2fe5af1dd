library(testthat)
library(hbmmm)

test_check("hbmmm")
