/* The KQL exporter's text output (src/output/kql*.c only): appends that remember the first
 * failure (oom), so a rule's text is checked once, and scratch texts with their own buffer.
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

#endif
