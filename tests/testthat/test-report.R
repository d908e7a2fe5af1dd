# mmm_report(): one self-contained HTML page with embedded figures.

test_that("base64 encoding follows RFC 4648", {
  enc <- function(s) hbmmm:::base64_encode(charToRaw(s))
  # the RFC's test vectors
  expect_identical(hbmmm:::base64_encode(raw(0)), "")
  expect_identical(enc("f"), "Zg==")
  expect_identical(enc("fo"), "Zm8=")
  expect_identical(enc("foo"), "Zm9v")
  expect_identical(enc("foob"), "Zm9vYg==")
  expect_identical(enc("fooba"), "Zm9vYmE=")
  expect_identical(enc("foobar"), "Zm9vYmFy")
  set.seed(1)
  b <- as.raw(sample(0:255, 1000, replace = TRUE))
  expect_identical(hbmmm:::base64_encode(as.raw(c(0, 255, 254))), "AP/+")
  skip_if_not_installed("jsonlite")
  # jsonlite wraps its output into lines
  expect_identical(hbmmm:::base64_encode(b), gsub("\\s", "", as.character(jsonlite::base64_enc(b))))
})

test_that("the report is one HTML file with every section and embedded figures only", {
  fit <- quiet_sampling(hbmmm(sales ~ tv + search + price + (1 | market), data = small_panel(),
                              media = c("tv", "search"), time = "week", chains = 2, iter = 300, seed = 5,
                              refresh = 0))
  dir <- tempfile("report")
  dir.create(dir)
  f <- file.path(dir, "r.html")
  cmp <- suppressWarnings(compare_models(a = fit))
  out <- suppressWarnings(mmm_report(fit, f, plans = list("more search" = c(search = 30)), comparison = cmp),
                          classes = "hbmmm_warning_extrapolation")
  expect_identical(out, f)
  expect_identical(list.files(dir), "r.html") # nothing beside it
  html <- paste(readLines(f, warn = FALSE), collapse = "\n")
  imgs <- gregexpr("<img [^>]*src=\"data:image/png;base64,[A-Za-z0-9+/=]+\"", html)[[1]]
  expect_gte(length(imgs), 5)
  # no reference leaves the file: every src is embedded data, no links,
  # scripts, style sheets or fonts from elsewhere
  srcs <- regmatches(html, gregexpr("src=\"[^\"]{0,20}", html))[[1]]
  expect_true(all(startsWith(srcs, "src=\"data:")))
  expect_false(grepl("href=|<script|<link|@import|url\\(", html))
  for (h in c("Data and model", "Convergence", "Channel effects", "Return on investment", "Response curves",
              "Contributions", "Model comparison", "Budget allocation")) {
    expect_match(html, sprintf("<h2>%s</h2>", h), fixed = TRUE)
  }
  expect_match(html, "<td>more search</td>", fixed = TRUE)
  expect_match(html, "<td>optimal</td>", fixed = TRUE)
  # the ROI table shows what roi() returns
  r <- roi(fit)
  expect_match(html, sprintf("<td>%s</td>", hbmmm:::fmt_interval(r$roi, r$roi_lower, r$roi_upper, 3)[1]), fixed = TRUE)

  # leaving out the allocation; the page renders in a headless browser
  f2 <- file.path(dir, "r2.html")
  mmm_report(fit, f2, allocation = FALSE)
  expect_false(grepl("Budget allocation", paste(readLines(f2), collapse = "\n")))
  chromium <- Sys.which(c("chromium", "chromium-browser", "google-chrome"))
  chromium <- chromium[nzchar(chromium)]
  skip_if(!length(chromium), "no headless Chromium")
  shot <- file.path(dir, "shot.png")
  system2(chromium[[1]], c("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1100,3000",
                           paste0("--screenshot=", shot), paste0("file://", normalizePath(f))),
          stdout = FALSE, stderr = FALSE, timeout = 120)
  expect_true(file.exists(shot))
  expect_gt(file.size(shot), 50000) # a rendered page, not a blank one
})

test_that("mmm_report() checks its arguments", {
  fit <- quiet_sampling(hbmmm(sales ~ tv + price, data = small_panel()[small_panel()$market == "M01", ],
                              media = "tv", time = "week", chains = 1, iter = 100, seed = 1, refresh = 0))
  f <- tempfile(fileext = ".html")
  expect_error(mmm_report(list(), f), class = "hbmmm_input_error")
  expect_error(mmm_report(fit, file.path(tempfile(), "x", "r.html")), "does not exist", class = "hbmmm_input_error")
  expect_error(mmm_report(fit, c(f, f)), class = "hbmmm_input_error")
  expect_error(mmm_report(fit, f, plans = list(c(tv = 1))), "distinct names", class = "hbmmm_input_error")
  expect_error(mmm_report(fit, f, plans = list(a = c(radio = 1))), class = "hbmmm_input_error")
  expect_error(mmm_report(fit, f, comparison = data.frame()), "compare_models", class = "hbmmm_input_error")
  expect_error(mmm_report(fit, f, allocation = TRUE), "hbmmm_allocation", class = "hbmmm_input_error")
  expect_false(file.exists(f))
})
