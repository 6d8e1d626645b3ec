/* The HTML report's writing (html_out.h): the page goes to the FILE through a buffer
 * whose first failure sticks, and every byte of input reaches it only through html_text
 * (text nodes) or html_gv_label (graph labels, escaped again by graphviz). */
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "core/escape.h"
#include "output/html_out.h"

void html_flush_out(hout *o)
{
    if (o->st == DH_OK && o->b.len && fwrite(o->b.data, 1, o->b.len, o->f) != o->b.len)
        o->st = DH_ERR_IO;
    dh_buf_reset(&o->b);
}

void html_put(hout *o, const char *s, size_t n)
{
    if (o->st != DH_OK || n == 0)
        return;
    if (n >= FLUSH_AT) { /* large pieces (the SVG) go straight out */
        html_flush_out(o);
        if (o->st == DH_OK && fwrite(s, 1, n, o->f) != n)
            o->st = DH_ERR_IO;
        return;
    }
    if (dh_buf_append(&o->b, s, n) != DH_OK) {
        o->st = DH_ERR_NOMEM;
        return;
    }
    if (o->b.len >= FLUSH_AT)
        html_flush_out(o);
}

void html_puts(hout *o, const char *s)
{
    html_put(o, s, strlen(s));
}

void html_putu(hout *o, unsigned long long v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%llu", v);
    html_put(o, t, (size_t)n);
}

/* Writes n bytes of input as the content of a text node: & < > " ' as entities; hidden
 * characters and invalid UTF-8 bytes as \xNN or \uNNNN; at most MAX_VALUE bytes. */
void html_text(hout *o, const char *str, size_t n, unsigned flags)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0;
    while (i < n) {
        if (i >= MAX_VALUE) {
            html_put(o, str + run, i - run);
            run = i;
            html_puts(o, flags & HT_MARK ? " <span class=\"esc\">&hellip; " : " ... ");
            html_putu(o, (unsigned long long)(n - i));
            html_puts(o, flags & HT_MARK ? " more bytes not shown</span>" : " more bytes");
            return;
        }
        long cp;
        size_t k = dh_utf8_next(s + i, n - i, &cp);
        const char *ent = NULL;
        char esc[16];
        if (cp < 0) {
            snprintf(esc, sizeof esc, "\\x%02X", s[i]);
            ent = esc;
        } else if ((cp == '\n' || cp == '\t') && (flags & HT_LINES)) {
            ent = NULL;
        } else if (dh_char_hidden(cp)) {
            snprintf(esc, sizeof esc,
                     cp < 0x100     ? "\\x%02lX"
                     : cp <= 0xFFFF ? "\\u%04lX"
                                    : "\\U%08lX",
                     cp);
            ent = esc;
        } else if (cp == '&') {
            ent = "&amp;";
        } else if (cp == '<') {
            ent = "&lt;";
        } else if (cp == '>') {
            ent = "&gt;";
        } else if (cp == '"') {
            ent = "&quot;";
        } else if (cp == '\'') {
            ent = "&#39;";
        }
        if (ent) {
            html_put(o, str + run, i - run);
            int marked = ent == esc && (flags & HT_MARK);
            if (marked)
                html_puts(o, "<span class=\"esc\">");
            html_puts(o, ent);
            if (marked)
                html_puts(o, "</span>");
            run = i + k;
        }
        i += k;
    }
    html_put(o, str + run, n - run);
}

void html_cstr(hout *o, const char *s)
{
    html_text(o, s, strlen(s), HT_MARK);
}

/* A graphviz label from input text: at most LABEL_CHARS characters; hidden characters and
 * invalid bytes become U+FFFD; & < > " ' become entities (graphviz decodes them for its
 * layout and escapes again when it writes SVG); a backslash is doubled so graphviz's own
 * escapes (\N, \G, \l, \n ...) never fire. NUL-terminated in b. */
void html_gv_label(dh_buf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, chars = 0;
    while (i < n) {
        if (chars == LABEL_CHARS) {
            dh_buf_puts(b, "\xE2\x80\xA6"); /* U+2026 */
            break;
        }
        long cp;
        size_t k = dh_utf8_next(s + i, n - i, &cp);
        if (cp < 0 || dh_char_hidden(cp))
            dh_buf_puts(b, "\xEF\xBF\xBD");
        else if (cp == '&')
            dh_buf_puts(b, "&amp;");
        else if (cp == '<')
            dh_buf_puts(b, "&lt;");
        else if (cp == '>')
            dh_buf_puts(b, "&gt;");
        else if (cp == '"')
            dh_buf_puts(b, "&quot;");
        else if (cp == '\'')
            dh_buf_puts(b, "&#39;");
        else if (cp == '\\')
            dh_buf_puts(b, "\\\\");
        else
            dh_buf_append(b, s + i, k);
        i += k;
        chars++;
    }
    dh_buf_putc(b, '\0');
}
