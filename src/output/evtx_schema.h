/* What Windows writes for the events dcomhunt writes as EVTX: per provider its GUID,
 * channel and System values, per event id its version, task, opcode, keywords and the
 * typed data items in Windows' order (read off real logs). The EVTX writer's callers
 * (dump --to evtx, simulate) use it to give text values their Windows types: a value is
 * typed only when its text is that type's canonical form, so a file written from text
 * reads back as exactly that text. */
#ifndef DH_OUTPUT_EVTX_SCHEMA_H
#define DH_OUTPUT_EVTX_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "dcomhunt/event.h"
#include "output/evtx_write.h"

typedef struct dh_evtx_field {
    const char *name;
    uint8_t type;
} dh_evtx_field;

typedef struct dh_evtx_provider {
    const char *name, *guid;
    const char *event_source; /* classic event sources: EventSourceName; NULL otherwise */
    const char *channel;
    int32_t qualifiers; /* -1: none */
    uint8_t level;
    uint64_t keywords;
    int task_is_id; /* Sysmon: the task number is the event id */
} dh_evtx_provider;

typedef struct dh_evtx_schema {
    const char *provider;
    uint16_t event_id;
    uint8_t version, level, opcode;
    uint16_t task;
    uint64_t keywords;           /* 0: the provider's */
    const dh_evtx_field *fields; /* terminated by a NULL name */
} dh_evtx_schema;

const dh_evtx_provider *dh_evtx_provider_find(const char *name, size_t len);
const dh_evtx_schema *dh_evtx_schema_find(const char *provider, size_t len, uint32_t event_id);
/* The declared type of a data item of that schema (0 when the schema or name is unknown). */
uint8_t dh_evtx_schema_type(const dh_evtx_schema *s, const char *name, size_t len);

/* Builds an EVTX record from an event given as text. NUL-terminated copies of the names,
 * channel and host, and the typed value bytes, go into scratch (reset by the call); items
 * (room for cap) and *r point into it until scratch changes. Consecutive items of the same
 * name become one string array, as the decoder gives arrays back. Returns DH_ERR_LIMIT if
 * there are more than cap items. */
typedef struct dh_evtx_text_event {
    dh_str provider, channel, host;
    uint32_t event_id;
    uint64_t record_id; /* 0: the writer numbers it */
    int64_t time;
    const dh_kv *data;
    size_t ndata;
    uint32_t process_id, thread_id; /* the logging process (0 when unknown) */
    const char *user_sid;           /* the Security UserID, or NULL */
    const char *activity_id;
} dh_evtx_text_event;

dh_status dh_evtx_record_from_text(const dh_evtx_text_event *e, dh_evtx_record *r,
                                   dh_evtx_item *items, size_t cap, dh_buf *scratch);

#endif
