#!/usr/bin/env Rscript
# Dependency rules of the C sources (src/README.md, "Layers"), checked from
# the text of src/*.c (plain R, no packages):
#   1. no function defined in src/gibbs*.c is called from src/nuts*.c or
#      src/model_*.c (the model layer and the NUTS engine do not depend on the
#      Gibbs engine);
#   2. no cycle between C files (file A calls a function defined in file B);
#   3. src/nuts.c and src/nuts.h use no R API (their R glue is nuts_call.c).
# Prints the offenders and exits with status 1 when a rule is broken.
# Usage: Rscript tools/check_layers.R [path to the package]

args <- commandArgs(trailingOnly = TRUE)
root <- if (length(args)) args[1] else "."
src <- file.path(root, "src")
files <- sort(list.files(src, pattern = "\\.c$"))
if (!length(files)) {
  cat("check_layers: no C files in", src, "\n")
  quit(status = 1)
}

# The code of a file without comments, string and character literals, and
# preprocessor lines (a call inside a comment or a message is no call).
strip_code <- function(path) {
  x <- paste(readLines(path, warn = FALSE), collapse = "\n")
  x <- gsub("(?s)/\\*.*?\\*/", " ", x, perl = TRUE) # (?s): comments span lines
  x <- gsub("//[^\n]*", " ", x, perl = TRUE)
  x <- gsub("\"(\\\\.|[^\"\\\\\n])*\"", "\"\"", x, perl = TRUE)
  x <- gsub("'(\\\\.|[^'\\\\\n])'", "' '", x, perl = TRUE)
  gsub("(?m)^[ \t]*#[^\n]*(\\\\\n[^\n]*)*", " ", x, perl = TRUE)
}

# Function definitions: at column 0, a name, its parameter list, then "{".
definitions <- function(code) {
  m <- gregexpr("(?m)^[A-Za-z_][A-Za-z0-9_ \t\\*]*?\\b([A-Za-z_][A-Za-z0-9_]*)[ \t]*\\(([^;{}()]|\\([^()]*\\))*\\)[ \t\n]*\\{",
                code, perl = TRUE)[[1]]
  if (m[1] == -1) return(data.frame(name = character(0), static = logical(0)))
  st <- attr(m, "capture.start")[, 1]
  len <- attr(m, "capture.length")[, 1]
  heads <- regmatches(code, list(m))[[1]]
  data.frame(name = substring(code, st, st + len - 1L), static = grepl("^static\\b", heads),
             stringsAsFactors = FALSE)
}

# Names called in the code: an identifier followed by "(", not a member
# (a->f(), s.f()), not a keyword.
calls <- function(code) {
  m <- gregexpr("(?<![A-Za-z0-9_>.])([A-Za-z_][A-Za-z0-9_]*)[ \t]*\\(", code, perl = TRUE)[[1]]
  if (m[1] == -1) return(character(0))
  st <- attr(m, "capture.start")[, 1]
  len <- attr(m, "capture.length")[, 1]
  nm <- unique(substring(code, st, st + len - 1L))
  setdiff(nm, c("if", "for", "while", "switch", "return", "sizeof", "defined"))
}

code <- setNames(lapply(file.path(src, files), strip_code), files)
defs <- lapply(code, definitions)
exported <- do.call(rbind, lapply(files, function(f) {
  d <- defs[[f]][!defs[[f]]$static, , drop = FALSE]
  if (nrow(d)) data.frame(name = d$name, file = f, stringsAsFactors = FALSE) else NULL
}))
dup <- unique(exported$name[duplicated(exported$name)])
problems <- character(0)
if (length(dup)) problems <- c(problems, paste("defined in more than one file:", paste(dup, collapse = ", ")))

# edges: caller file -> file defining the callee (own static functions win)
edges <- do.call(rbind, lapply(files, function(f) {
  cl <- setdiff(calls(code[[f]]), defs[[f]]$name)
  hit <- exported[exported$name %in% cl & exported$file != f, , drop = FALSE]
  if (nrow(hit)) data.frame(from = f, to = hit$file, fn = hit$name, stringsAsFactors = FALSE) else NULL
}))

# Rule 1: the model layer and the NUTS engine do not call the Gibbs engine.
bad <- edges[grepl("^(nuts.*|model_.*)\\.c$", edges$from) & grepl("^gibbs.*\\.c$", edges$to), , drop = FALSE]
for (i in seq_len(nrow(bad))) {
  problems <- c(problems, sprintf("%s calls %s() of the Gibbs engine (%s)", bad$from[i], bad$fn[i], bad$to[i]))
}

# Rule 2: no cycle between files (transitive closure of the file graph).
n <- length(files)
reach <- matrix(FALSE, n, n, dimnames = list(files, files))
for (i in seq_len(nrow(edges))) reach[edges$from[i], edges$to[i]] <- TRUE
direct <- reach
for (k in seq_len(n)) reach <- reach | outer(reach[, k], reach[k, ], `&`)
cyc <- files[diag(reach)]
if (length(cyc)) {
  for (f in cyc) {
    partners <- files[reach[f, ] & reach[, f] & files != f]
    for (g in intersect(partners, files[direct[f, ]])) {
      fns <- unique(edges$fn[edges$from == f & edges$to == g])
      problems <- c(problems, sprintf("cycle: %s calls %s (%s), and %s reaches %s back", f, g,
                                      paste0(fns, "()", collapse = ", "), g, f))
    }
  }
}

# Rule 3: the NUTS engine is plain C.
r_api <- c("\\bRf_[A-Za-z_]+", "\\bSEXP\\b", "\\bR_alloc\\b", "\\bS_alloc\\b", "(?<![A-Za-z0-9_>.])error[ \t]*\\(",
           "(?<![A-Za-z0-9_>.])warning[ \t]*\\(", "\\bPROTECT\\b", "\\bUNPROTECT\\b", "\\b[GP][eu]tRNGstate\\b",
           "\\bR_CheckUserInterrupt\\b", "(?<![A-Za-z0-9_>.])(norm|unif|exp)_rand[ \t]*\\(", "\\bR_(NegInf|PosInf|NaN|FINITE)\\b",
           "\\bISNAN\\b", "\\bR_xlen_t\\b", "\\bhb_(input|sampler)_error\\b", "\\bhb_call_progress\\b")
r_headers <- "(?m)^[ \t]*#[ \t]*include[ \t]*[<\"](R\\.h|Rinternals\\.h|Rmath\\.h|Rdefines\\.h|hbmmm\\.h|model\\.h)[>\"]"
for (f in intersect(c("nuts.c", "nuts.h"), list.files(src))) {
  raw <- paste(readLines(file.path(src, f), warn = FALSE), collapse = "\n")
  x <- strip_code(file.path(src, f))
  for (pat in r_api) {
    hits <- regmatches(x, gregexpr(pat, x, perl = TRUE))[[1]]
    if (length(hits)) problems <- c(problems, sprintf("%s uses the R API: %s", f, paste(unique(hits), collapse = ", ")))
  }
  inc <- regmatches(raw, gregexpr(r_headers, raw, perl = TRUE))[[1]]
  if (length(inc)) problems <- c(problems, sprintf("%s includes an R header: %s", f, paste(trimws(inc), collapse = ", ")))
}

if (length(problems)) {
  cat("check_layers: ", length(problems), " problem(s)\n", paste0("  ", problems, collapse = "\n"), "\n", sep = "")
  quit(status = 1)
}
cat(sprintf("check_layers: OK (%d C files, %d cross-file calls, no Gibbs calls from the model layer or NUTS, no cycles, nuts.c free of the R API)\n",
            n, nrow(edges)))
