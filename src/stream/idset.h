/* A set of short strings (finding ids, candidate origins) with a cap on its size: what
 * stage 2 remembers to publish each finding once and take each candidate once. Open
 * addressing on a hash of the bytes; the strings are copied into the set. Each string
 * carries a tag (stage 2: the engine generation that made the finding), so what no
 * rebuild can reproduce any more is evicted by tag (dh_idset_evict_below). */
#ifndef DH_STREAM_IDSET_H
#define DH_STREAM_IDSET_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/status.h"

typedef struct dh_idset {
    char **slot;          /* each: the u64 tag, then the NUL-terminated string */
    size_t cap, n, limit; /* limit: most strings held; adds past it fail with DH_ERR_LIMIT */
    size_t used;          /* slots not empty: strings and tombstones (probes end at an empty one) */
} dh_idset;

void dh_idset_init(dh_idset *s, size_t limit);
/* 1 when held. */
int dh_idset_has(const dh_idset *s, const char *str, size_t len);
/* Adds a copy with tag 0 (nothing when held already). */
dh_status dh_idset_add(dh_idset *s, const char *str, size_t len);
/* Adds a copy with that tag; when held already, the tag becomes the larger of the two. */
dh_status dh_idset_add_tagged(dh_idset *s, const char *str, size_t len, uint64_t tag);
/* Removes it when held. */
void dh_idset_remove(dh_idset *s, const char *str, size_t len);
/* Removes every string whose tag is below `tag`; returns how many. One pass over the
 * slots, then a rehash (the tombstones go): call it when the set has grown, not per add. */
size_t dh_idset_evict_below(dh_idset *s, uint64_t tag);
void dh_idset_clear(dh_idset *s);

#endif
