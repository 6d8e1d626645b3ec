/* The layout behind the opaque dh_event (the event model, src/event/). Readers and tests fill it
 * through event/builder.h; the mappings (event/mappings/) set kind and taxonomy fields; everything
 * else reads it through include/dcomhunt/event.h. Strings point into the reader's per-record
 * arena, the unit's bytes or a compiled template's string pool: all outlive the on_event
 * callback, nothing more (owned copies: their packed block, see copy below). */
#ifndef DH_EVENT_EVENT_IMPL_H
#define DH_EVENT_EVENT_IMPL_H

#include <stdint.h>

#include "core/buf.h"
#include "dcomhunt/event.h"

_Static_assert(DH_FIELD_COUNT <= 64, "present is a 64-bit mask");
_Static_assert(DH_KIND_COUNT <= 64, "a rule's kinds are a 64-bit mask");

struct dh_event {
    dh_kind kind;
    uint32_t event_id;
    uint64_t record_id;
    int64_t time;
    dh_str host;
    dh_str channel;
    dh_str provider;
    dh_str xml;
    const char *file;
    dh_str file_str; /* owned copies (dh_event_unpack): the file name, not NUL-terminated */
    /* owned copies: the packed block the strings point into; each value's length in the
     * log is stored just before its bytes (dh_event_value_length) */
    const char *copy;
    size_t copy_len;
    int64_t chunk;
    uint64_t offset;
    uint64_t present; /* bit i set: fields[i] holds taxonomy field i */
    const dh_kv *data;
    size_t ndata;
    const dh_kv *sys; /* System properties beyond the envelope (dh_event_system) */
    size_t nsys;
    /* Room a mapping may use for values it composes (Defender's AccountDomain and
     * AccountName into one User); set by readers whose mappings need it, else NULL. */
    char *scratch;
    size_t scratch_len, scratch_cap;
    /* Last, so that an owned copy can leave it out: a copy's fields are read from its
     * packed block (copy_fields) and never from here. */
    const char *copy_fields;
    dh_str fields[DH_FIELD_COUNT];
};

#endif
