/* The HTML report's insides, shared by its files (internal to src/output/html*.c):
 *
 *   html.c           dh_html_report: the passes in order
 *   html_out.c       writing the page (the first failure sticks) and escaping input
 *   html_tally.c     capped string -> counts tallies
 *   html_index.c     the first pass: lines read, checked, indexed and counted
 *   html_page.c      the frame (style, head, header) and the pieces every section writes
 *   html_summary.c   the summary and the timeline
 *   html_graph.c     the host graph (graphviz, inlined SVG)
 *   html_findings.c  one section per finding
 *
 * The report's memory is the index, the tallies and one line's tokens (html.c says why). */
#ifndef DH_OUTPUT_HTML_IMPL_H
#define DH_OUTPUT_HTML_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "output/findings_read.h"
#include "output/html.h"

#define MAX_LIST     500          /* items shown per list: evidence rows, commands, steps */
#define MAX_VALUE    (256u << 10) /* bytes shown of one string; the rest is counted */
#define MAX_KEY      1024         /* bytes of a string kept as a tally key (host, COM object) */
#define MAX_TALLY    100000       /* distinct keys per tally */
#define MAX_TIMELINE 2000         /* timeline rows */
#define MAX_EDGES    300          /* graph edges: dot's layout time grows fast past this */
#define MAX_NODES    400
#define MAX_HOSTS    100 /* rows of the hosts table */
#define LABEL_CHARS  48  /* characters of a graph label */
#define FLUSH_AT     (256u << 10)

/* ---- html_out.c ---------------------------------------------------------- */

typedef struct hout {
    dh_buf b;
    FILE *f;
    dh_status st; /* first failure; later writes are dropped, so callers need not check */
} hout;

enum {
    HT_MARK = 1,  /* escapes in <span class="esc"> (not inside <title>) */
    HT_LINES = 2, /* newlines and tabs kept (multi-line text in <pre>) */
};

void html_flush_out(hout *o);
void html_gv_label(dh_buf *b, const char *str, size_t n);
void html_cstr(hout *o, const char *s);
void html_text(hout *o, const char *str, size_t n, unsigned flags);
void html_put(hout *o, const char *s, size_t n);
void html_puts(hout *o, const char *s);
void html_putu(hout *o, unsigned long long v);

/* ---- html_tally.c -------------------------------------------------------- */

typedef struct titem {
    size_t key, klen;  /* in the tally's keys buffer */
    size_t note, nlen; /* a second string (a host's IP); nlen 0 if none */
    uint64_t c[2];     /* counts: active and suppressed findings (hosts: target, source) */
    uint32_t node;     /* graph node number + 1, 0 if none */
} titem;

typedef struct tally {
    dh_buf keys;
    titem *v;
    size_t n, vcap;
    uint32_t *slot; /* item index + 1; 0 empty */
    size_t nslot;
    uint64_t dropped; /* additions refused by MAX_TALLY */
} tally;

size_t html_cut_utf8(const char *s, size_t n, size_t max);
dh_jstr html_key_at(const char *k, size_t kn, int i);
void html_key_part(dh_buf *k, dh_jstr p);
titem *html_tally_find(const tally *t, const char *k, size_t kn);
void html_tally_free(tally *t);
titem *html_tally_get(tally *t, const char *k, size_t kn);
void html_tally_init(tally *t);
const char *html_tkey(const tally *t, const titem *it);

/* ---- html_index.c -------------------------------------------------------- */

typedef struct entry {
    size_t off;    /* the line in the input */
    uint32_t len;  /* <= DH_HTML_MAX_LINE */
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
    dh_html_error_fn on_error;
    void *ctx;
    hout o;
    dh_findings_reader *rd;
    dh_buf sc, ar, lb; /* scratch: values, a line's strings, a graph label */
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
void html_report_error(report *r, dh_status st, uint64_t offset, uint64_t line, const char *why);

/* ---- html_page.c --------------------------------------------------------- */

/* Tally items by count, most first, then in first-seen order (qsort has no context
 * argument, so items are sorted through references that carry their index). */
typedef struct item_ref {
    const titem *it;
    size_t idx;
} item_ref;

void html_head_and_header(report *r);
void html_put_endpoint(report *r, const dh_jdoc *d, int ep, const char *dflt);
void html_put_field(report *r, const dh_jdoc *d, int obj, const char *key, const char *dflt);
void html_put_more(hout *o, int total, int shown, const char *what);
void html_put_sev_class(hout *o, int sev);
void html_put_time(hout *o, int64_t t, int seconds_only);
void html_put_tok(report *r, const dh_jdoc *d, int t, unsigned flags);
item_ref *html_sorted_items(const tally *t);

/* ---- html_summary.c ------------------------------------------------------ */

void html_summary(report *r);
void html_timeline(report *r);

/* ---- html_graph.c -------------------------------------------------------- */

void html_graph(report *r);

/* ---- html_findings.c ----------------------------------------------------- */

void html_findings(report *r);

#endif
