/* The HTML report (html.c), the report and its first pass: the state every section reads, each
 * finding's record (html_model.h; for `report`, made from each line checked) indexed (offset,
 * times, flags) and counted, and the display order. Internal to
 * src/output/html*.c. */
#ifndef DH_OUTPUT_HTML_INDEX_H
#define DH_OUTPUT_HTML_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "dcomhunt/status.h"
#include "output/findings_read.h"
#include "output/html_model.h"
#include "output/html_out.h"
#include "output/html_tally.h"

typedef struct entry {
    size_t off;    /* the finding's record in recs */
    uint32_t len;  /* its length */
    uint32_t seq;  /* input order, the last sort key */
    uint64_t line; /* 1-based */
    int64_t first; /* FILETIME ticks when has_first */
    int64_t last;  /* FILETIME ticks when has_last */
    uint32_t num;  /* display number (1-based) */
    uint8_t has_first, has_last, suppressed, sev;
} entry;

typedef struct report {
    const char *js;
    size_t len;
    const char *name;
    void (*on_error)(void *ctx, const dh_error *e); /* a dh_html_error_fn, or NULL */
    uint64_t max_findings;                          /* DH_HTML_MAX_FINDINGS */
    size_t max_line;                                /* DH_HTML_MAX_LINE */
    void *ctx;
    hout o;
    dh_findings_reader *rd;
    dh_buf recs;   /* the findings' records (html_model.h), in input order */
    dh_buf sc, lb; /* scratch: keys, a graph label */
    entry *e;
    size_t ne, ecap;
    tally kinds, kindsev, coms, hosts, edges;
    uint64_t lines, skipped, cut, suppressed;
    int64_t tmin, tmax;
    int has_range;
    dh_status in_st; /* DH_ERR_FORMAT (a line skipped) or DH_ERR_LIMIT (findings cut) */
    char graph_note[160];
} report;

extern const char *const html_sev_names[];
enum { NSEV = 5 }; /* sev index NSEV: anything else */

int html_cmp_display(const void *a, const void *b);
int html_cmp_time(const void *a, const void *b);
void html_pass_one(report *r);
/* Whether another finding fits (else it is counted as cut, the first one reported at
 * offset/line); makes room for its entry. */
int html_index_room(report *r, uint64_t offset, uint64_t line);
/* Indexes and counts the record recs[off, off+len) (room made by html_index_room). */
void html_index_record(report *r, size_t off, size_t len, uint64_t line);
void html_report_error(report *r, dh_status st, uint64_t offset, uint64_t line, const char *why);

#endif
