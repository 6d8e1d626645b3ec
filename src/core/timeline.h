/* Records put in order whatever order they come in (a timeline: by time; findings: by
 * their printing key): held in memory up to a budget, then sorted into runs in a temporary
 * file and merged at the end (an external merge sort), so output of any length is sorted
 * in bounded memory. Records compare by their key's bytes; ties keep their order of
 * arrival. */
#ifndef DH_CORE_TIMELINE_H
#define DH_CORE_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/status.h"

typedef struct timeline timeline;

/* budget: bytes of records held in memory before a run goes to disk. */
timeline *timeline_new(size_t budget);
/* Copies the record, with its key. */
dh_status timeline_add_key(timeline *t, const void *key, size_t keylen, const char *rec,
                           size_t len);
/* The same with a time as the key. */
dh_status timeline_add(timeline *t, int64_t time, const char *rec, size_t len);
/* Calls fn for every record in time order; stops at fn's first error and returns it. */
dh_status timeline_finish(timeline *t, dh_status (*fn)(void *ctx, const char *rec, size_t len),
                          void *ctx);
/* Runs written to disk (0 when everything fitted in memory). */
size_t timeline_runs(const timeline *t);
void timeline_free(timeline *t);

#endif
