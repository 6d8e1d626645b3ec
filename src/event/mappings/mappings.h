/* The mapping functions: how each source's events become dcomhunt's event model (kind and
 * taxonomy fields), by table. One file per source under src/event/mappings/. */
#ifndef DH_EVENT_MAPPINGS_H
#define DH_EVENT_MAPPINGS_H

#include <stdint.h>

#include "core/buf.h"
#include "event/event_impl.h"

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
/* Is s an IPv4 or IPv6 literal (digits, hex, dots and colons in an address's shape)? The
 * Windows mapping and the correlator ask the same question and must agree. */
int dh_map_is_ip(dh_str s);
/* Microsoft Defender tables: the table's name as a static string, or NULL if it is not
 * one dcomhunt maps; and the table of a row exported without its name, by ActionType. */
const char *dh_mde_table(dh_str name);
const char *dh_mde_table_for_action(dh_str action);
/* Elastic Endpoint / ECS documents flattened to dotted names: envelope, kind and taxonomy
 * fields (src/event/mappings/elastic.c); NULL, or why the document is not an event. */
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
/* Zeek records (src/event/mappings/zeek.c): the envelope and taxonomy of a record whose
 * data is filled (names as Zeek's fields: ts, uid, id.orig_h ...; id_orig_h as some
 * exporters write them is read the same). `path` is the log's name ("conn", "dce_rpc"),
 * or empty to tell it from the fields. Returns NULL, dh_map_zeek_not_used for a record of
 * a log without connection endpoints (packet_filter, files, pe, x509, ocsp...: valid, but
 * nothing dcomhunt uses; counted, not an error), or why it is not a Zeek record. */
const char *dh_map_zeek_apply(dh_event *ev, dh_str path);
extern const char dh_map_zeek_not_used[];
/* Kind refinements that depend on a value (Sysmon 12 create vs delete). */
dh_kind dh_map_refine_kind(const dh_map_row *row, const dh_event *ev);

#endif
