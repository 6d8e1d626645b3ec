/* The candidate wire encoding: what stage 1 writes to the candidates topic and stage 2
 * reads back (docs/stream.md, "Candidate encoding"). One message value is one candidate:
 *
 *     u8  version            DH_WIRE_VERSION (1); any other version is refused
 *     u8  flags              0 (reserved; a reader refuses bits it does not know)
 *     u16 nrules             big-endian, at most DH_WIRE_MAX_RULES
 *     nrules x { u8 undecided (0 or 1), u16 id length (big-endian), id bytes }
 *     u32 event length       big-endian
 *     the event              dh_event_pack(event, 1, ...): the envelope and every field
 *
 * and nothing after it. Rules travel by id (dh_rule_id), so both stages must load the same
 * rules; an id the reader's ruleset does not hold refuses the message. The message key is
 * the correlation key (key.h). Decoding never trusts a length: every one is checked
 * against what is left. */
#ifndef DH_STREAM_WIRE_H
#define DH_STREAM_WIRE_H

#include <stddef.h>

#include "core/buf.h"
#include "dcomhunt/engine.h"
#include "dcomhunt/status.h"

#define DH_WIRE_VERSION   1
#define DH_WIRE_MAX_RULES 4096

/* Appends the candidate's encoding to out. */
dh_status dh_wire_encode(const dh_candidate *c, dh_buf *out);

/* A decoded candidate: the event and the rules are owned (dh_wire_clear frees them). */
typedef struct dh_wire_cand {
    dh_event *event;
    const dh_rule **rules;
    unsigned char *undecided;
    size_t nrules;
} dh_wire_cand;

/* Decodes len bytes at data with the rules of rs. DH_ERR_FORMAT (or DH_ERR_UNSUPPORTED for
 * another version) with why in why[256] when the bytes are not one candidate. */
dh_status dh_wire_decode(const void *data, size_t len, const dh_ruleset *rs, dh_wire_cand *out,
                         char why[256]);
void dh_wire_clear(dh_wire_cand *c);

#endif
