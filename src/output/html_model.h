/* The HTML report's page model: per finding, exactly the values the page prints, as text
 * in the form the page prints it (decoded, invalid UTF-8 already U+FFFD), and the page's
 * lists (commands, evidence rows, guide steps, pivots, limits) cut at MAX_LIST with their
 * full length kept for the "N more" notes.
 *
 * A finding's model is stored as one record (its strings length-prefixed, in the fixed
 * order below) so that it holds its own copies and costs its bytes only: the findings
 * writer keeps records as it keeps every format's text (bounded memory, spilled to disk
 * past its budget, replayed in the writer's order), and `report` makes one per JSON line.
 * html_rec_decode() gives the plain struct back, its strings pointing into the record.
 *
 * Two fillers write records: html_rec_from_jdoc() (a finding's JSON line, for `report`)
 * and findings_html.c (a dh_finding with its guide and suppression, for `hunt --html`).
 * Both must give the same record for the same finding; the corpus tests compare them.
 * Internal to src/output/html*.c and findings_html.c. */
#ifndef DH_OUTPUT_HTML_MODEL_H
#define DH_OUTPUT_HTML_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "output/findings_read.h"

#define MAX_LIST 500 /* items shown per list: evidence rows, commands, steps */

/* The single values, in record order. */
enum {
    HV_ID,
    HV_KIND,
    HV_SEVERITY,
    HV_CONFIDENCE,
    HV_TECHNIQUE,
    HV_COM,
    HV_CLSID,
    HV_DST_HOST,
    HV_DST_IP,
    HV_SRC_HOST,
    HV_SRC_IP,
    HV_USER,
    HV_LOGON_ID,
    HV_FIRST,
    HV_LAST,
    HV_SB_REASON, /* suppressed_by: reason, filter, id, expires, origin */
    HV_SB_FILTER,
    HV_SB_ID,
    HV_SB_EXPIRES,
    HV_SB_ORIGIN,
    HV_DROP_COMMANDS, /* dropped: commands, evidence, rules (numbers as text) */
    HV_DROP_EVIDENCE,
    HV_DROP_RULES,
    HV_N
};

/* The lists, in record order; each item is `width` strings. */
enum {
    HL_REASONS,     /* confidence reasons */
    HL_COMMANDS,    /* commands */
    HL_CUTS,        /* truncated: value, length, kept */
    HL_UNDECIDED,   /* undecided rule ids */
    HL_RULE_NAMES,  /* rule names */
    HL_RULE_IDS,    /* rule ids */
    HL_EVIDENCE,    /* role, time, host, channel, event_id, kind, record_id, file */
    HL_INVESTIGATE, /* the guide's steps */
    HL_RESPOND,
    HL_PIVOTS, /* language, title, query */
    HL_N
};

#define HE_COLS 8 /* strings per evidence row */

extern const uint8_t html_list_width[HL_N];

enum {
    HF_SUPPRESSED = 1, /* "suppressed": true */
    HF_HAS_SB = 2,     /* a "suppressed_by" member */
    HF_HAS_DROP = 4,   /* a "dropped" member */
};

typedef struct html_list {
    const char *at; /* the first item's first string in the record */
    uint32_t total; /* items in the finding */
    uint32_t kept;  /* items in the record (at most MAX_LIST) */
} html_list;

/* The plain model of one finding (its strings point into its record). */
typedef struct html_finding {
    dh_jstr v[HV_N];
    unsigned flags;
    html_list l[HL_N];
} html_finding;

/* Writing a record, in order: the flags, the HV_N values, then each list's total and kept
 * counts and its kept items' strings. */
void html_rec_u32(dh_buf *b, uint32_t v);
void html_rec_str(dh_buf *b, const char *p, size_t n);
/* Appends s (length n, any bytes) as the JSON lines writer's output reads back: its text
 * through dh_json_string and back (invalid UTF-8 U+FFFD), the same function. */
void html_rec_norm(dh_buf *b, dh_buf *scratch, const char *p, size_t n);

/* Appends the record of a finding's JSON line (checked by the findings reader). */
void html_rec_from_jdoc(dh_buf *b, const dh_jdoc *d);

/* Decodes the record rec[0..n) (as written above); 0, or -1 if it is malformed. */
int html_rec_decode(const char *rec, size_t n, html_finding *f);
/* The next string of a list walk from *cur. */
dh_jstr html_rec_next(const char **cur);

#endif
