/* Test-only allocation for sanitizer builds (tools/sanitize.sh compiles with
 * -DHB_GUARDED_ALLOC; a normal build never includes this header).
 *
 * R_alloc() carves blocks out of R's own heap with padding and no poisoned
 * red zones, so AddressSanitizer does not see a write just before or after
 * an R_alloc'd block: such an overwrite corrupts R's memory silently and
 * crashes later, at a garbage collection. Here every R_alloc() of the package
 * becomes a malloc() block, which ASan surrounds with red zones, filled with
 * a byte pattern so that code reading scratch before writing it gets
 * garbage (as it may from R_alloc) rather than zeros that hide the bug.
 * The blocks are never freed: vmaxset() frees nothing in this build, which
 * costs memory in a test run and nothing else. */
#ifndef HB_GUARDED_ALLOC_H
#define HB_GUARDED_ALLOC_H

#include <stdlib.h>
#include <string.h>

static inline char *hb_guarded_alloc(size_t n, int size) {
  size_t bytes = n * (size_t) size;
  char *p = (char *) malloc(bytes ? bytes : 1);
  if (!p) Rf_error("guarded allocation of %.0f bytes failed", (double) bytes);
  memset(p, 0xA5, bytes);
  return p;
}

#define R_alloc(n, size) hb_guarded_alloc((n), (size))

#endif
