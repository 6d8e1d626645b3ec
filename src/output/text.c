/* Terminal-safe text and CSV cells. See text.h. */
#include "output/text.h"

#include "core/utf8.h"

static const char hx[] = "0123456789abcdef";

static dh_status put_hex(dh_buf *out, const char *prefix, unsigned long v, int digits)
{
    char e[12];
    size_t n = 0;
    e[n++] = prefix[0];
    e[n++] = prefix[1];
    for (int d = digits - 1; d >= 0; d--)
        e[n++] = hx[(v >> (4 * d)) & 15];
    return dh_buf_append(out, e, n);
}

dh_status dh_text_escape(dh_buf *out, const char *s, size_t n, unsigned flags)
{
    const unsigned char *u = (const unsigned char *)s;
    dh_status st = DH_OK;
    size_t i = 0, run = 0; /* bytes [run, i) pass as they are */
    while (i < n && !st) {
        unsigned char ch = u[i];
        if (ch >= 0x20 && ch < 0x7f && !(ch == '\\' && (flags & DH_TEXT_BACKSLASH))) {
            i++;
            continue;
        }
        long cp;
        size_t k = dh_utf8_next(u + i, n - i, &cp);
        int keep = cp >= 0 && !dh_char_hidden(cp) && cp != '\\';
        if ((flags & DH_TEXT_KEEP_LINES) && (cp == '\n' || cp == '\t'))
            keep = 1;
        if (keep) {
            i += k;
            continue;
        }
        st = dh_buf_append(out, s + run, i - run);
        if (st)
            break;
        if (cp < 0)
            st = put_hex(out, "\\x", ch, 2);
        else if (cp <= 0xFF)
            st = put_hex(out, "\\x", (unsigned long)cp, 2);
        else if (cp <= 0xFFFF)
            st = put_hex(out, "\\u", (unsigned long)cp, 4);
        else
            st = put_hex(out, "\\U", (unsigned long)cp, 8);
        i += k;
        run = i;
    }
    if (!st)
        st = dh_buf_append(out, s + run, n - run);
    return st;
}

dh_status dh_csv_cell(dh_buf *out, const char *s, size_t n)
{
    return dh_csv_cell_flags(out, s, n, 0);
}

dh_status dh_csv_cell_flags(dh_buf *out, const char *s, size_t n, unsigned flags)
{
    dh_buf t;
    dh_buf_init(&t, out->limit);
    dh_status st = dh_text_escape(&t, s, n, flags);
    if (!st)
        st = dh_buf_putc(out, '"');
    if (!st && t.len &&
        (t.data[0] == '=' || t.data[0] == '+' || t.data[0] == '-' || t.data[0] == '@'))
        st = dh_buf_putc(out, '\'');
    for (size_t i = 0, run = 0; i <= t.len && !st; i++) {
        if (i == t.len) {
            if (i > run)
                st = dh_buf_append(out, t.data + run, i - run);
        } else if (t.data[i] == '"') {
            st = dh_buf_append(out, t.data + run, i + 1 - run);
            run = i;
        }
    }
    if (!st)
        st = dh_buf_putc(out, '"');
    dh_buf_free(&t);
    return st;
}
