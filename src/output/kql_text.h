/* KQL text as the exporter (src/output/kql*.c) and the guide's pivot queries (guide.c)
 * write it: appends that remember the first failure (oom), so a rule's text is checked
 * once, scratch texts with their own buffer, and templates that name Defender's columns
 * through the schema table (event/mappings/defender.h) instead of spelling them again.
 * Never prints. */
#ifndef DH_OUTPUT_KQL_TEXT_H
#define DH_OUTPUT_KQL_TEXT_H

#include <stddef.h>

#include "core/buf.h"

#define KQL_TMP_LIMIT (64u << 20) /* cap of the scratch buffers (one rule's text) */

typedef struct txt {
    dh_buf *b;
    int oom;
} txt;

/* A scratch text with its own buffer. */
typedef struct scratch {
    dh_buf b;
    txt t;
} scratch;

void txt_put(txt *t, const char *s, size_t n);
void txt_puts(txt *t, const char *s);
void txt_printf(txt *t, const char *fmt, ...);
void txt_indent(txt *t, int n);
void txt_scratch_init(scratch *s);
/* The text so far as a NUL-terminated malloc'd string (the scratch is emptied). */
char *txt_scratch_take(scratch *s);
/* Comment text: control characters (a title is one line) become spaces. */
void txt_comment(txt *t, const char *s);
/* A KQL string literal: verbatim (@"...", quotes doubled) when the value has backslashes,
 * else "..." with \" \\ \t \n \r escapes. Returns -1 for control characters neither form
 * can hold. */
int txt_string(txt *t, const char *s, size_t n);

/* Template text naming Defender columns and tables: each "{Name}" in tmpl is the schema's
 * column or table Name, checked against the one table (event/mappings/defender.h) and
 * written as the table spells it; everything else is copied. Templates hold no other braces. A name
 * the table lacks is a defect of the template (every template is written by the golden tests),
 * never of the input: DH_ERR_ARG, with nothing of that hole written. */
dh_status kql_columns_put(dh_buf *b, const char *tmpl);
/* The same as a txt append (a failure sets oom, so the text is refused). */
void txt_columns(txt *t, const char *tmpl);
/* The same into out (NUL-terminated): 0, or -1 if it does not fit or names an unknown
 * column. */
int kql_columns_str(char *out, size_t cap, const char *tmpl);

#endif
