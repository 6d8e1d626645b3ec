/* The layout behind the opaque dh_event. Readers fill it; everything else reads it through
 * include/dcomhunt/event.h. Strings point into the reader's per-record arena or into a
 * compiled template's string pool: both outlive the on_event callback, nothing more. */
#ifndef DH_INPUT_EVENT_IMPL_H
#define DH_INPUT_EVENT_IMPL_H

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

/* One row of a mapping table: which events of which provider become which kind, and how
 * their original field names map to taxonomy fields (names equal to a taxonomy name map to
 * it without a pair when `identity` is set). */
typedef struct dh_map_pair {
    const char *src;
    dh_field dst;
} dh_map_pair;

typedef struct dh_map_row {
    const char *provider; /* exact provider name */
    uint32_t event_id;
    dh_kind kind;
    int identity;
    const dh_map_pair *pairs;  /* terminated by src == NULL */
    void (*fix)(dh_event *ev); /* optional: rules no pair can say (which of two wins) */
} dh_map_row;

/* Finds the row for a provider and event id, or NULL. */
const dh_map_row *dh_map_windows_find(dh_str provider, uint32_t event_id);
/* The taxonomy fields a row gives to an original name (at most DH_MAP_MAX_TARGETS);
 * returns how many were written to out. */
#define DH_MAP_MAX_TARGETS 3
int dh_map_row_fields(const dh_map_row *row, dh_str name, int8_t out[DH_MAP_MAX_TARGETS]);
/* Sets kind and taxonomy fields of an event whose envelope and data are filled, by the
 * table (the EVTX decoder does the same with a per-template cache). */
void dh_map_windows_apply(dh_event *ev);
/* Microsoft Defender tables: the table's name as a static string, or NULL if it is not
 * one dcomhunt maps; and the table of a row exported without its name, by ActionType. */
const char *dh_mde_table(dh_str name);
const char *dh_mde_table_for_action(dh_str action);
/* Elastic Endpoint / ECS documents flattened to dotted names: envelope, kind and taxonomy
 * fields (src/input/mappings/elastic.c); NULL, or why the document is not an event. */
const char *dh_map_elastic_apply(dh_event *ev);
/* Sentinel's Event table: the values of ParameterXml ("<Param>v</Param>...") in order,
 * appended to out, entities decoded; fn gets each one's number (1-based), offset and
 * length in out. -1 if a Param is not closed or out is full. Names: param1, param2... */
#define DH_SENTINEL_MAX_PARAMS 16
int dh_sentinel_params(const char *x, size_t n, dh_buf *out,
                       void (*fn)(void *ctx, unsigned index, size_t off, size_t len), void *ctx);
const char *dh_sentinel_param_name(unsigned index);
/* The provider of an Event-table row from its Source ("DistributedCOM" ->
 * "Microsoft-Windows-DistributedCOM"). */
dh_str dh_sentinel_provider(dh_str source);
/* An event read back from a format that carries any source (event XML, dump's JSON): the
 * mapping of its source (Zeek, Elastic Endpoint, else Windows and Defender), envelope
 * kept as read. NULL, or why it is not an event. (mappings/any.c) */
const char *dh_map_any_apply(dh_event *ev);
/* Kind refinements that depend on a value (Sysmon 12 create vs delete). */
dh_kind dh_map_refine_kind(const dh_map_row *row, const dh_event *ev);

#endif
