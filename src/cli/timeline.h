/* Records put in time order whatever order they come in: held in memory up to a budget,
 * then sorted into runs in a temporary file and merged at the end (an external merge
 * sort), so a timeline of any length is sorted in bounded memory. Ties keep their order
 * of arrival. */
#ifndef DH_CLI_TIMELINE_H
#define DH_CLI_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/status.h"

typedef struct timeline timeline;

/* budget: bytes of records held in memory before a run goes to disk. */
timeline *timeline_new(size_t budget);
/* Copies the record. */
dh_status timeline_add(timeline *t, int64_t time, const char *rec, size_t len);
/* Calls fn for every record in time order; stops at fn's first error and returns it. */
dh_status timeline_finish(timeline *t, dh_status (*fn)(void *ctx, const char *rec, size_t len),
                          void *ctx);
/* Runs written to disk (0 when everything fitted in memory). */
size_t timeline_runs(const timeline *t);
void timeline_free(timeline *t);

#endif
