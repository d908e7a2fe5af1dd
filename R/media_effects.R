# Log-normal group-level media effects: hbmmm_spec(media_effects =
# "log_normal"). A grouping term's media columns then multiply the channel's
# population coefficient instead of adding to it: in level l the channel's
# coefficient is b exp(v_l), v_l ~ N(0, sd^2), positive whenever b is, and
# b is the median over levels. The samplers see these columns as blocks of
# their own (model$mult, src/model.h's hb_mult) and the term's other columns
# as an ordinary (Gaussian) term; the stored effects r_<group>[<level>,
# <channel>] are the additive equivalents b (exp(v_l) - 1), so b + r is the
# level's coefficient under both choices and everything downstream (curves,
# ROI, contributions, predictions) reads them unchanged.

MEDIA_EFFECTS <- c("normal", "log_normal")

# Marks each term's multiplicative columns (t$mult) and checks what the
# multiplicative form needs: a channel's own fixed column with no
# interactions (b is then one number per draw), one grouping term per
# channel (two would multiply), plain media columns in the term, no
# factor-analytic structure on it.
mark_media_effects <- function(ranef, X, media, media_effects, factors) {
  media_effects <- match_choice(media_effects, MEDIA_EFFECTS, "media_effects")
  seen <- character(0)
  for (g in names(ranef)) {
    t <- ranef[[g]]
    t$mult <- media_effects == "log_normal" & !is.na(t$Z$channel)
    for (l in which(t$mult)) {
      ch <- media[t$Z$channel[l]]
      if (any(t$Z$static[, l] != 1)) {
        abort_input("media_effects", sprintf(
          "\"log_normal\" multiplies a channel's own coefficient; `%s` in `(%s)` is an interaction of channel `%s`; use media_effects = \"normal\"",
          t$Z$names[l], t$label, ch))
      }
      own <- which(X$channel == t$Z$channel[l])
      if (length(own) != 1L || any(X$static[, own] != 1)) {
        abort_input("media_effects", sprintf(
          "\"log_normal\" needs channel `%s` as one fixed term of its own, without interactions (found %d fixed columns of it); use media_effects = \"normal\"",
          ch, length(own)))
      }
      if (ch %in% seen) {
        abort_input("media_effects", sprintf(
          "\"log_normal\" allows channel `%s` to vary by one grouping term; it varies by more than one", ch))
      }
      seen <- c(seen, ch)
    }
    if (any(t$mult) && g %in% names(factors)) {
      abort_input("media_effects", sprintf("\"log_normal\" media effects and a factor structure (`factors`) on the same term `%s`", g))
    }
    ranef[[g]] <- t
  }
  ranef
}

# The Gaussian part of the grouping terms, as the samplers' terms see it:
# each term without its multiplicative columns, terms left without columns
# dropped. Indexes model$terms, model$keep and the online summaries.
engine_ranef <- function(ranef) {
  out <- lapply(ranef, function(t) {
    keep <- if (is.null(t$mult)) rep(TRUE, ncol(t$Z$static)) else !t$mult
    if (!any(keep)) return(NULL)
    if (all(keep)) return(t)
    t$Z$static <- t$Z$static[, keep, drop = FALSE]
    t$Z$channel <- t$Z$channel[keep]
    t$Z$names <- t$Z$names[keep]
    t$mult <- t$mult[keep]
    t
  })
  out[!vapply(out, is.null, TRUE)]
}

# The multiplicative blocks: one per (term, media column), each with its
# group, channel, level codes and the term's kept levels.
mult_blocks <- function(spec) {
  out <- list()
  for (g in names(spec$ranef)) {
    t <- spec$ranef[[g]]
    for (l in which(if (is.null(t$mult)) FALSE else t$mult)) {
      out[[length(out) + 1L]] <- list(group = g, col = t$Z$names[l], channel = t$Z$channel[l],
                                      codes = t$codes, levels = t$levels, keep = spec$keep[[g]]$levels)
    }
  }
  out
}

# The blocks' part of the model list (src/model_read.c, read_mult()): lift
# tests in the block's group get its level, others none (-1).
mult_model_list <- function(spec, X) {
  pr <- spec$priors$media_sd
  lapply(mult_blocks(spec), function(b) {
    d <- pr[[b$group]]
    list(c = b$channel - 1L, j = match(b$channel, X$channel) - 1L, G = length(b$levels),
         g = b$codes - 1L, sd0 = d$par[["scale"]] / 2, hw_nu = d$par[["df"]], hw_A = d$par[["scale"]],
         keep = as.integer(b$keep) - 1L)
  })
}

# Checks that every term with multiplicative columns keeps all its draws
# (the blocks have no online summaries).
check_mult_keep <- function(ranef, keep) {
  for (g in names(ranef)) {
    if (isTRUE(any(ranef[[g]]$mult)) && !keep[[g]]$full) {
      abort_input("keep_ranef", sprintf(
        "grouping term `%s` has \"log_normal\" media effects, which keep every draw; it has %d effects: set keep_ranef to at least that",
        g, length(ranef[[g]]$levels) * ncol(ranef[[g]]$Z$static)))
    }
  }
}

# Default prior of each term's log-scale sd: half-t(3, 0.5), so that
# levels' coefficients typically lie within a factor of about 1.5 of the
# median and a factor of 3 is possible.
resolve_media_sd_priors <- function(prior, ranef) {
  groups <- names(ranef)[vapply(ranef, function(t) isTRUE(any(t$mult)), TRUE)]
  check_prior_names(prior, "media_sd", groups)
  stats::setNames(lapply(groups, function(g) prior_for(prior, "media_sd", g, half_student_t(3, 0.5))), groups)
}
