/* Building a dh_event: the one way readers and tests fill the event model, instead of
 * writing the fields of struct dh_event (event/event_impl.h) themselves.
 *
 * Two levels:
 * - Setters on a dh_event the caller holds (dh_event_begin, dh_event_set_*): inline, so a
 *   reader's per-record path costs what direct writes cost. Strings are borrowed: they
 *   must outlive every use of the event (a reader's per-record arena, a literal).
 * - dh_event_builder, for code that has no arena of its own (tests, tools): fields added
 *   by name and value are copied into the builder, which owns them until it is cleared or
 *   freed. dh_event_builder_event gives the event, valid until the next add, clear or
 *   free.
 *
 *     dh_event_builder b;
 *     dh_event_builder_init(&b);
 *     dh_event *ev = dh_event_builder_ev(&b);   // set the envelope with the setters
 *     dh_event_set_provider(ev, DH_STR("Microsoft-Windows-Security-Auditing"));
 *     dh_event_set_ids(ev, 4688, 1);
 *     dh_event_builder_add(&b, DH_STR("NewProcessName"), DH_STR("C:\\cmd.exe"));
 *     dh_map_windows_apply(dh_event_builder_event(&b));  // kind and taxonomy by table
 *     ...
 *     dh_event_builder_free(&b);
 *
 * Not thread-safe: a builder belongs to one thread. */
#ifndef DH_EVENT_BUILDER_H
#define DH_EVENT_BUILDER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "event/event_impl.h"

/* A dh_str from a string literal. */
#define DH_STR(lit) ((dh_str){(lit), sizeof(lit) - 1})

/* An empty event read from `file` (chunk -1: not from an EVTX chunk). */
static inline void dh_event_begin(dh_event *ev, const char *file)
{
    memset(ev, 0, sizeof *ev);
    ev->file = file;
    ev->chunk = -1;
}

static inline void dh_event_set_kind(dh_event *ev, dh_kind kind)
{
    ev->kind = kind;
}

/* 100-nanosecond ticks since 1601-01-01 UTC (FILETIME); 0: unknown. */
static inline void dh_event_set_time(dh_event *ev, int64_t time)
{
    ev->time = time;
}

static inline void dh_event_set_host(dh_event *ev, dh_str host)
{
    ev->host = host;
}

static inline void dh_event_set_channel(dh_event *ev, dh_str channel)
{
    ev->channel = channel;
}

static inline void dh_event_set_provider(dh_event *ev, dh_str provider)
{
    ev->provider = provider;
}

static inline void dh_event_set_ids(dh_event *ev, uint32_t event_id, uint64_t record_id)
{
    ev->event_id = event_id;
    ev->record_id = record_id;
}

/* Provenance: the file, the EVTX chunk (-1 for none) and the record's byte offset. */
static inline void dh_event_set_origin(dh_event *ev, const char *file, int64_t chunk,
                                       uint64_t offset)
{
    ev->file = file;
    ev->chunk = chunk;
    ev->offset = offset;
}

/* A taxonomy field (what the mappings set; a reader normally leaves it to them). */
static inline void dh_event_set_field(dh_event *ev, dh_field id, dh_str value)
{
    ev->fields[id] = value;
    ev->present |= 1ULL << id;
}

/* No taxonomy field (before the mappings set them). */
static inline void dh_event_clear_fields(dh_event *ev)
{
    ev->present = 0;
}

/* The fields the input carried, in input order (borrowed). */
static inline void dh_event_set_data(dh_event *ev, const dh_kv *data, size_t n)
{
    ev->data = data;
    ev->ndata = n;
}

/* The System properties beyond the envelope (dh_event_system; borrowed). */
static inline void dh_event_set_system(dh_event *ev, const dh_kv *sys, size_t n)
{
    ev->sys = sys;
    ev->nsys = n;
}

/* The record as XML (dh_event_xml; borrowed). */
static inline void dh_event_set_xml(dh_event *ev, dh_str xml)
{
    ev->xml = xml;
}

/* Room the mappings may use for values they compose (Defender's domain and account into
 * one User); NULL for none. */
static inline void dh_event_set_scratch(dh_event *ev, char *scratch, size_t cap)
{
    ev->scratch = scratch;
    ev->scratch_len = 0;
    ev->scratch_cap = cap;
}

typedef struct dh_event_builder {
    dh_event ev;
    dh_buf text;   /* the names and values added, copied */
    dh_kv *kv;     /* their slices, made by dh_event_builder_event */
    uint32_t *off; /* per field: name offset, name length, value offset, value length */
    size_t n, cap;
} dh_event_builder;

/* An empty builder (its event as dh_event_begin(ev, NULL) leaves one). */
void dh_event_builder_init(dh_event_builder *b);
/* Frees what the builder owns; NULL accepted. */
void dh_event_builder_free(dh_event_builder *b);
/* Empties it for the next event, keeping its memory. */
void dh_event_builder_clear(dh_event_builder *b);
/* The event, for the setters above (its data is set by dh_event_builder_event). */
dh_event *dh_event_builder_ev(dh_event_builder *b);
/* Adds a field the input carried: name and value are copied. DH_ERR_NOMEM or DH_ERR_LIMIT
 * (over 64 MiB of text, or 65,536 fields) when it cannot. */
dh_status dh_event_builder_add(dh_event_builder *b, dh_str name, dh_str value);
/* The event with the fields added so far as its data, in order. */
dh_event *dh_event_builder_event(dh_event_builder *b);

#endif
