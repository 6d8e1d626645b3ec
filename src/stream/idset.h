/* A set of short strings (finding ids, candidate origins) with a cap on its size: what
 * stage 2 remembers to publish each finding once and take each candidate once. Open
 * addressing on a hash of the bytes; the strings are copied into the set. */
#ifndef DH_STREAM_IDSET_H
#define DH_STREAM_IDSET_H

#include <stddef.h>

#include "dcomhunt/status.h"

typedef struct dh_idset {
    char **slot;
    size_t cap, n, limit; /* limit: most strings held; adds past it fail with DH_ERR_LIMIT */
    size_t used;          /* slots not empty: strings and tombstones (probes end at an empty one) */
} dh_idset;

void dh_idset_init(dh_idset *s, size_t limit);
/* 1 when held. */
int dh_idset_has(const dh_idset *s, const char *str, size_t len);
/* Adds a copy (nothing when held already). */
dh_status dh_idset_add(dh_idset *s, const char *str, size_t len);
/* Removes it when held. */
void dh_idset_remove(dh_idset *s, const char *str, size_t len);
void dh_idset_clear(dh_idset *s);

#endif
