/* Network sensor records kept on disk until the host logs' clock comes near them (the
 * correlator's retention of Zeek records: chain.c decides what goes here and when it comes
 * back). Records are grouped by time into buckets of a fixed width; a bucket comes back
 * whole, its records in the order they were put. Memory: the bucket table (one entry per
 * bucket of time that holds records) and one open block; the records are in a temporary
 * file. */
#ifndef DH_CORRELATE_WIREHOLD_H
#define DH_CORRELATE_WIREHOLD_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/event.h"
#include "dcomhunt/status.h"

typedef struct wire_hold wire_hold;

/* width: a bucket's span of time (ticks, > 0). NULL when out of memory. */
wire_hold *wh_new(int64_t width);
void wh_free(wire_hold *h); /* NULL accepted */
/* Keeps a copy of ev (an owned copy or not) with its time, arrival number and identity. */
dh_status wh_put(wire_hold *h, int64_t t, uint64_t seq, uint64_t ident, const dh_event *ev);
/* Records kept and not yet given back. */
size_t wh_count(const wire_hold *h);
/* The start of the earliest bucket that holds records: 1 and *start, or 0 when none. */
int wh_next(const wire_hold *h, int64_t *start);
/* Gives back (and forgets) every record of every bucket that starts at or before upto, a
 * bucket at a time, in the order they were put: fn receives an owned copy (its to free)
 * and stops the walk with a status other than DH_OK. */
typedef dh_status (*wh_fn)(void *ctx, dh_event *ev, int64_t t, uint64_t seq, uint64_t ident);
dh_status wh_take(wire_hold *h, int64_t upto, wh_fn fn, void *ctx);

#endif
