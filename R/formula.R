# Formula interface: lme4-style random-effect bars, and design matrices whose
# media columns are "static part x transformed channel".
#
# A design column j equals s_j * m_c(j), where m_c is the adstocked and
# saturated channel c and s_j a fixed vector (1 for `tv`, income for
# `tv:income`). Samplers keep s_j and recompute only m_c when a transform
# parameter moves. Columns that do not involve media have c(j) = NA.

# Split a formula into its fixed part and its bars.
parse_formula <- function(formula) {
  if (!inherits(formula, "formula") || length(formula) != 3L) {
    abort_input("formula", sprintf("must be a two-sided formula such as `sales ~ tv + (1 | market)`; found %s",
                                   describe_value(formula)))
  }
  rhs <- formula[[3L]]
  if ("." %in% all.vars(rhs)) {
    abort_input("formula", "`.` (all other columns) cannot be used: name the media, controls and grouping terms explicitly")
  }
  if (any(grepl("^offset\\(", attr(stats::terms(formula, allowDotAsName = TRUE), "variables") |>
                  vapply(deparse1, "") |> utils::tail(-1L)))) {
    abort_input("formula", "offset() terms cannot be used; subtract the offset from the response instead")
  }
  bars <- find_bars(rhs)
  fixed_rhs <- drop_bars(rhs)
  if (is.null(fixed_rhs)) fixed_rhs <- 1
  fixed <- formula
  fixed[[3L]] <- fixed_rhs
  list(response = formula[[2L]], fixed = fixed, bars = lapply(bars, expand_bar))
}

is_bar <- function(x) is.call(x) && (identical(x[[1L]], as.name("|")) || identical(x[[1L]], as.name("||")))

# Bars are terms added to the formula: inside `+`, `-` (e.g. `(1 | g) - 1`)
# and parentheses. A bar under any other operator (`(1 | g) * x`) is an error.
find_bars <- function(x) {
  if (!is.call(x)) return(list())
  if (is_bar(x)) return(list(x))
  op <- as.character(x[[1L]])
  if (op %in% c("(", "+", "-")) return(do.call(c, lapply(as.list(x)[-1L], find_bars)))
  if (length(find_bars_anywhere(x))) {
    abort_input("formula", sprintf("random-effect bars must be added as terms, e.g. `y ~ x + (1 | g)`; found one inside `%s`",
                                   paste(deparse(x), collapse = "")))
  }
  list()
}

find_bars_anywhere <- function(x) {
  if (!is.call(x)) return(list())
  if (is_bar(x)) return(list(x))
  do.call(c, lapply(as.list(x)[-1L], find_bars_anywhere))
}

# The right-hand side without its bars (NULL when nothing is left).
drop_bars <- function(x) {
  if (!is.call(x)) return(x)
  if (is_bar(x)) return(NULL)
  if (identical(x[[1L]], as.name("("))) {
    inner <- drop_bars(x[[2L]])
    return(if (is.null(inner)) NULL else if (identical(inner, x[[2L]])) x else inner)
  }
  op <- as.character(x[[1L]])
  if (op %in% c("+", "-") && length(x) == 3L) {
    a <- drop_bars(x[[2L]])
    b <- drop_bars(x[[3L]])
    if (is.null(b)) return(a)
    if (is.null(a)) return(if (op == "-") call("-", b) else b)
    return(call(op, a, b))
  }
  x
}

# One bar `lhs | g` into one term per grouping factor: nested `a/b` gives the
# groups a and a:b, as in lme4.
expand_bar <- function(bar) {
  correlated <- identical(bar[[1L]], as.name("|"))
  lhs <- bar[[2L]]
  groups <- expand_nesting(bar[[3L]])
  lapply(groups, function(g) {
    list(lhs = lhs, group_vars = g, group = paste(g, collapse = ":"), correlated = correlated,
         label = paste(deparse(lhs), if (correlated) "|" else "||", paste(g, collapse = ":")))
  })
}

expand_nesting <- function(g) {
  if (is.name(g)) return(list(as.character(g)))
  if (is.call(g) && identical(g[[1L]], as.name("/"))) {
    outer <- expand_nesting(g[[2L]])
    inner <- expand_nesting(g[[3L]])
    last <- outer[[length(outer)]]
    return(c(outer, lapply(inner, function(v) c(last, v))))
  }
  if (is.call(g) && identical(g[[1L]], as.name(":"))) {
    return(list(unlist(lapply(as.list(g)[-1L], function(v) expand_nesting(v)[[1L]]))))
  }
  if (is.call(g) && identical(g[[1L]], as.name("("))) return(expand_nesting(g[[2L]]))
  abort_input("formula", sprintf("grouping factor `%s` must be a column name, `a/b` (nested) or `a:b`",
                                 paste(deparse(g), collapse = "")))
}

# The column a terms variable names: terms() keeps backticks around
# non-syntactic names (`paid search`), the data has none.
term_variable <- function(v) {
  e <- str2lang(v)
  if (is.name(e)) as.character(e) else v
}

# Design of a one-sided formula with media columns separated out.
# Returns list(static = n x p matrix, channel = integer p (index into
# `media`, NA for non-media columns), names). Which columns involve which
# channel is read from the terms object: a media variable that appears as a
# plain variable of a term enters that term's columns linearly; one that
# appears inside an expression (I(tv^2), log(tv)) does not, and is refused.
# The static part is the design evaluated with every channel set to 1.
media_design <- function(rhs_formula, data, media, arg = "formula") {
  tt <- stats::terms(rhs_formula)
  fac <- attr(tt, "factors")
  used <- intersect(media, all.vars(rhs_formula))
  if (length(used) && length(fac)) {
    for (v in rownames(fac)) {
      inside <- intersect(all.vars(str2lang(v)), used)
      if (length(inside) && !term_variable(v) %in% used) {
        term <- colnames(fac)[fac[v, ] > 0][1]
        abort_input(arg, sprintf(paste0("media channel `%s` enters term `%s` non-linearly; media enter through ",
                                        "their adstock and saturation transforms, so use `%s` itself ",
                                        "(optionally interacted with non-media variables)"),
                                 inside[1], if (is.na(term)) v else term, inside[1]))
      }
    }
  }
  d <- data
  for (ch in used) d[[ch]] <- rep(1, nrow(d))
  mf <- stats::model.frame(tt, d, na.action = stats::na.pass)
  # the terms now hold `predvars`: how to rebuild data-dependent variables
  # (the time effects' bases, R/time_effects.R) on new rows
  tt <- attr(mf, "terms")
  M1 <- stats::model.matrix(tt, mf)
  channel <- rep(NA_integer_, ncol(M1))
  assign <- attr(M1, "assign")
  for (k in seq_len(if (length(fac)) ncol(fac) else 0L)) {
    chs <- intersect(vapply(rownames(fac)[fac[, k] > 0], term_variable, ""), used)
    if (length(chs) > 1L) {
      abort_input(arg, sprintf("term `%s` multiplies two media channels (`%s` and `%s`); interactions between media channels are not part of the model",
                               colnames(fac)[k], chs[1], chs[2]))
    }
    if (length(chs)) channel[assign == k] <- match(chs, media)
  }
  # draw names carry the column names: without the backticks that
  # model.matrix() keeps around non-syntactic names (b_paid search)
  colnames(M1) <- gsub("`", "", colnames(M1), fixed = TRUE)
  list(static = M1, channel = channel, names = colnames(M1),
       component = column_components(tt, assign, channel, media), terms = tt)
}

# The component of the outcome each design column belongs to, as
# contributions() reports it: "baseline" (intercept), "trend",
# "seasonality", "events" (terms with a time helper), the media channel, or
# the control's term label (e.g. `price`; with " (control)" appended when it
# would read as another component's name).
column_components <- function(tt, assign, channel, media) {
  labels <- gsub("`", "", attr(tt, "term.labels"), fixed = TRUE)
  fac <- attr(tt, "factors")
  term_comp <- vapply(seq_along(labels), function(k) {
    kinds <- vapply(rownames(fac)[fac[, k] > 0], function(v) time_effect_kind(str2lang(v)), "")
    kinds <- kinds[!is.na(kinds)]
    if (length(kinds)) return(kinds[1])
    if (labels[k] %in% c("baseline", TIME_EFFECT_KINDS, media)) paste(labels[k], "(control)") else labels[k]
  }, "")
  comp <- ifelse(assign == 0L, "baseline", term_comp[pmax(assign, 1L)])
  comp[!is.na(channel)] <- media[channel[!is.na(channel)]]
  unname(comp)
}
