/* Memory hints for the samplers' large outputs. */
#include <stdint.h>
#include "hbmmm.h"
#if defined(__linux__)
#include <sys/mman.h>
#endif

/* Ask Linux to back [p, p + bytes) with transparent huge pages where it
 * leaves that choice to programs (THP in "madvise" mode, a common default):
 * a draws array of tens of MB is then faulted in 2 MB at a time rather than
 * 4 kB, and first-touch page faults, slow under virtualization, can cost as
 * much as the sampling of a small model. Only the whole 2 MB pages inside
 * the range are advised, before anything is written there. A hint: failure
 * is harmless and ignored; elsewhere a no-op. */
void hb_advise_huge_pages(void *p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t H = (uintptr_t) 1 << 21;
  uintptr_t a = ((uintptr_t) p + H - 1) & ~(H - 1), e = ((uintptr_t) p + bytes) & ~(H - 1);
  if (e > a) (void) madvise((void *) a, (size_t) (e - a), MADV_HUGEPAGE);
#else
  (void) p;
  (void) bytes;
#endif
}
