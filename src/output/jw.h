/* Writing nested JSON objects member by member, for the sinks whose documents follow a
 * standard's schema (OCSF findings, ECS events). The writer places the commas, leaves out
 * what is unknown (an empty string is not written; an object or array left empty is taken
 * back whole, key included, so no "device":{} reaches a schema that requires members of
 * it), and keeps the first failure (a full buffer) for the end, so callers write straight
 * through and check once.
 *
 * Strings go through dh_json_string: whatever the attacker wrote stays valid, inert JSON.
 * Keys are the caller's constants. Nesting deeper than DH_JW_DEPTH fails with
 * DH_ERR_LIMIT. */
#ifndef DH_OUTPUT_JW_H
#define DH_OUTPUT_JW_H

#include <stdint.h>

#include "core/buf.h"
#include "dcomhunt/event.h"

#define DH_JW_DEPTH 16

typedef struct dh_jw {
    dh_buf *b;
    dh_status st;
    int depth;
    size_t members[DH_JW_DEPTH]; /* members written in each open container */
    size_t mark[DH_JW_DEPTH];    /* where each container began (before its comma and key) */
    char close[DH_JW_DEPTH];     /* '}' or ']' */
} dh_jw;

/* Starts the top-level object. */
void dh_jw_init(dh_jw *w, dh_buf *b);
/* Closes the top-level object, appends a newline; returns the first failure. */
dh_status dh_jw_finish(dh_jw *w);

/* A member "key":{ (key NULL for an array element); closed by dh_jw_end. */
void dh_jw_object(dh_jw *w, const char *key);
/* A member "key":[ ; closed by dh_jw_end. */
void dh_jw_array(dh_jw *w, const char *key);
/* Closes the innermost object or array; an empty one is removed with its key. */
void dh_jw_end(dh_jw *w);
/* Members written so far in the innermost open container. */
size_t dh_jw_count(const dh_jw *w);

/* Values; key NULL inside arrays. Strings of length 0 are not written. */
void dh_jw_str(dh_jw *w, const char *key, dh_str s);
void dh_jw_strz(dh_jw *w, const char *key, const char *s);
void dh_jw_int(dh_jw *w, const char *key, long long v);
void dh_jw_uint(dh_jw *w, const char *key, unsigned long long v);
/* A member whose name comes from the input (escaped like a value), written even when the
 * value is empty: the record's own data, kept as read. */
void dh_jw_member(dh_jw *w, dh_str key, dh_str value);
void dh_jw_bool(dh_jw *w, const char *key, int v);
/* A string holding a FILETIME as ISO 8601 UTC (nothing when t is 0, unknown). */
void dh_jw_time(dh_jw *w, const char *key, int64_t filetime);

#endif
