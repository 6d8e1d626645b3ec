/* The HTML report (html.c), writing the page: a buffer flushed to the FILE whose first failure
 * sticks, and the escaping every byte of input goes through (text nodes, graph labels). Internal to
 * src/output/html*.c. */
#ifndef DH_OUTPUT_HTML_OUT_H
#define DH_OUTPUT_HTML_OUT_H

#include <stddef.h>
#include <stdio.h>

#include "core/buf.h"

#define MAX_VALUE   (256u << 10) /* bytes shown of one string; the rest is counted */
#define LABEL_CHARS 48           /* characters of a graph label */
#define FLUSH_AT    (256u << 10)

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

#endif
