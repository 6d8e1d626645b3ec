/* The engine's private byte format between its workers and the calling thread.
 *
 * A worker appends records to its unit's output; the calling thread reads them back in
 * input order (the scanner hands each unit's bytes over in order), so what the sink sees
 * does not depend on the thread count. Two records, each a tag byte then its body, in the
 * machine's byte order (the bytes never leave the process):
 *
 *   'D' a detection: u32 rule index (DH_REC_UNDECIDED set when undecided), i64 time,
 *       u64 record id, u32 event id, then host, file, channel, kind and the key fields,
 *       each a u32 length and its bytes.
 *   'C' an event for the correlator: u32 n, n u32 rule indexes (the rules it matched,
 *       DH_REC_UNDECIDED as above), then the event as dh_correlator_pack packs it.
 *
 * Never: read past the end given (a short record is DH_ERR_FORMAT, not a crash). */
#ifndef DH_ENGINE_RECORD_H
#define DH_ENGINE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/engine.h"

/* A rule index with this bit set in a record: the rule came out undecided on the event
 * (its regular expression hit the match limit) and is reported as matched. */
#define DH_REC_UNDECIDED 0x80000000u

/* The fixed part of a 'D' body, and one length prefix: what a detection's bytes cost
 * beyond its strings. */
#define DH_REC_DETECTION_FIXED (24u + 5u * 4u)

/* Appends a 'D' record for rule (with DH_REC_UNDECIDED if so) on ev; fields is the key
 * fields text. */
dh_status dh_rec_put_detection(dh_buf *out, uint32_t rule, const dh_event *ev, const char *fields,
                               size_t fields_len);
/* Reads a 'D' body (after its tag) from [p, end): fills d (strings pointing into the
 * bytes) and *rule (the index, flag cleared); returns the bytes it took, 0 if malformed. */
size_t dh_rec_get_detection(const char *p, const char *end, dh_detection *d, uint32_t *rule);

#endif
