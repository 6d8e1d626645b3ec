/* The KQL exporter's text output: see kql_text.h. */
#include "output/kql_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/mappings/defender.h"

/* ---- text ------------------------------------------------------------------------- */

void txt_put(txt *t, const char *s, size_t n)
{
    if (!t->oom && dh_buf_append(t->b, s, n) != DH_OK)
        t->oom = 1;
}

void txt_puts(txt *t, const char *s)
{
    txt_put(t, s, strlen(s));
}

void txt_printf(txt *t, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->oom = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        txt_put(t, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        t->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    txt_put(t, big, (size_t)n);
    free(big);
}

void txt_indent(txt *t, int n)
{
    for (int i = 0; i < n; i++)
        txt_put(t, " ", 1);
}

void txt_scratch_init(scratch *s)
{
    dh_buf_init(&s->b, KQL_TMP_LIMIT);
    s->t.b = &s->b;
    s->t.oom = 0;
}

/* The text so far as a NUL-terminated malloc'd string (the scratch is emptied). */
char *txt_scratch_take(scratch *s)
{
    txt_put(&s->t, "", 1);
    if (s->t.oom) {
        dh_buf_free(&s->b);
        return NULL;
    }
    char *p = s->b.data;
    s->b.data = NULL;
    s->b.len = s->b.cap = 0;
    return p;
}

/* Comment text: control characters (a title is one line) become spaces. */
void txt_comment(txt *t, const char *s)
{
    for (; *s; s++) {
        char c = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;
        txt_put(t, &c, 1);
    }
}

/* A KQL string literal: verbatim (@"...", quotes doubled) when the value has backslashes,
 * else "..." with \" \\ \t \n \r escapes. Returns -1 for control characters neither form
 * can hold. */
int txt_string(txt *t, const char *s, size_t n)
{
    int bs = 0, ctl = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\')
            bs = 1;
        else if (c == '\t' || c == '\n' || c == '\r')
            ctl = 1;
        else if (c < 0x20 || c == 0x7f)
            return -1;
    }
    if (bs && !ctl) {
        txt_puts(t, "@\"");
        for (size_t i = 0; i < n; i++)
            txt_put(t, s[i] == '"' ? "\"\"" : &s[i], s[i] == '"' ? 2 : 1);
        txt_puts(t, "\"");
        return 0;
    }
    txt_puts(t, "\"");
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '"':
            txt_puts(t, "\\\"");
            break;
        case '\\':
            txt_puts(t, "\\\\");
            break;
        case '\t':
            txt_puts(t, "\\t");
            break;
        case '\n':
            txt_puts(t, "\\n");
            break;
        case '\r':
            txt_puts(t, "\\r");
            break;
        default:
            txt_put(t, &s[i], 1);
        }
    }
    txt_puts(t, "\"");
    return 0;
}

/* ---- templates naming Defender columns --------------------------------------------- */

dh_status kql_columns_put(dh_buf *b, const char *tmpl)
{
    const char *p = tmpl;
    for (;;) {
        const char *open = strchr(p, '{');
        if (!open)
            return dh_buf_puts(b, p);
        const char *close = strchr(open, '}');
        if (!close)
            return DH_ERR_ARG;
        size_t n = (size_t)(close - open - 1);
        int c = dh_defender_col_named(open + 1, n);
        int t = c < 0 ? dh_defender_table_named(open + 1, n) : -1;
        if (c < 0 && t < 0)
            return DH_ERR_ARG;
        dh_buf_append(b, p, (size_t)(open - p));
        dh_buf_puts(b, c >= 0 ? dh_defender_name((dh_defender_col)c)
                              : dh_defender_table_name((dh_defender_table)t));
        p = close + 1;
    }
}

void txt_columns(txt *t, const char *tmpl)
{
    if (!t->oom && kql_columns_put(t->b, tmpl) != DH_OK)
        t->oom = 1;
}

int kql_columns_str(char *out, size_t cap, const char *tmpl)
{
    dh_buf b;
    dh_buf_init(&b, cap);
    int bad = kql_columns_put(&b, tmpl) != DH_OK || dh_buf_putc(&b, 0) != DH_OK;
    if (!bad)
        memcpy(out, b.data, b.len);
    else if (cap)
        *out = 0;
    dh_buf_free(&b);
    return bad ? -1 : 0;
}
