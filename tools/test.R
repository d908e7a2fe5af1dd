# Runs the test suite against the installed hbmmm and prints one closing line
# "N passed, N failed, N skipped"; exits non-zero if anything failed.
# Set HBMMM_LONG_TESTS=true to include the long statistical validations.
# An optional argument is a regular expression selecting test files
# (Rscript tools/test.R "fuzz|nuts").
library(testthat)
options(testthat.progress.max_fails = Inf) # report every failure, never stop early
filter <- commandArgs(trailingOnly = TRUE)
res <- test_dir("tests/testthat", package = "hbmmm", load_package = "installed",
                filter = if (length(filter)) filter[1],
                reporter = ProgressReporter$new(show_praise = FALSE),
                stop_on_failure = FALSE)
df <- as.data.frame(res)
failed <- sum(df$failed) + sum(df$error)
skipped <- sum(df$skipped)
passed <- sum(df$nb) - sum(df$failed) - sum(df$skipped)
cat(sprintf("\n%d passed, %d failed, %d skipped\n", passed, failed, skipped))
quit(status = if (failed > 0) 1 else 0)
