/* Rows of each group, in their given order: a stable counting sort shared by
 * the transforms (adstock per group) and the samplers (effects per level). */
#include <string.h>
#include "hbmmm.h"

/* Codes g[i] in base..base+G-1. On return rows of group k (0-based) are
 * ord[start[k] .. start[k + 1]), start has G + 1 entries. Returns 1 when
 * the codes are already non-decreasing (then ord is the identity). With
 * ord = NULL only start and the return value are computed. */
int hb_group_index(const int *g, R_xlen_t n, int G, int base, R_xlen_t *start,
                   R_xlen_t *ord) {
  memset(start, 0, ((size_t) G + 1) * sizeof(R_xlen_t));
  int sorted = 1;
  for (R_xlen_t i = 0; i < n; i++) {
    start[g[i] - base + 1]++;
    if (i > 0 && g[i] < g[i - 1]) sorted = 0;
  }
  for (int k = 1; k <= G; k++) start[k] += start[k - 1];
  if (!ord) return sorted;
  if (sorted) {
    for (R_xlen_t i = 0; i < n; i++) ord[i] = i;
    return 1;
  }
  R_xlen_t *fill = (R_xlen_t *) R_alloc((size_t) G + 1, sizeof(R_xlen_t));
  memcpy(fill, start, ((size_t) G + 1) * sizeof(R_xlen_t));
  for (R_xlen_t i = 0; i < n; i++) ord[fill[g[i] - base]++] = i;
  return 0;
}
