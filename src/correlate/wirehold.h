/* Network sensor records kept on disk until the host logs' clock comes near them (the
 * correlator's retention of Zeek records: chain.c decides what goes here and when it comes
 * back). Records are written in blocks of about 1 MiB; a block comes back whole once the
 * clock reaches its earliest record. Memory: one table entry per block written and the
 * open block; the records are in a temporary file. */
#ifndef DH_CORRELATE_WIREHOLD_H
#define DH_CORRELATE_WIREHOLD_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/event.h"
#include "dcomhunt/status.h"

typedef struct wire_hold wire_hold;

/* NULL when out of memory. */
wire_hold *wh_new(void);
void wh_free(wire_hold *h); /* NULL accepted */
/* Keeps a copy of ev (an owned copy or not) with its time, arrival number and identity. */
dh_status wh_put(wire_hold *h, int64_t t, uint64_t seq, uint64_t ident, const dh_event *ev);
/* Records kept and not yet given back. */
size_t wh_count(const wire_hold *h);
/* The earliest time of a block (or of the open one): 1 and *start, or 0 when none. */
int wh_next(const wire_hold *h, int64_t *start);
/* Gives back (and forgets) every record of every block whose earliest record is at or
 * before upto, all of them in the order they were put: fn receives an owned copy (its to
 * free) and stops the walk with a status other than DH_OK. */
typedef dh_status (*wh_fn)(void *ctx, dh_event *ev, int64_t t, uint64_t seq, uint64_t ident);
dh_status wh_take(wire_hold *h, int64_t upto, wh_fn fn, void *ctx);

#endif
