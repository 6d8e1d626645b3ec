/* Escapes in text from outside: hexadecimal digits, JSON string bodies, XML text. */
#include "core/escape.h"

#include <string.h>

#include "core/utf16.h"

int dh_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int hex4(const char *p, unsigned *v)
{
    unsigned r = 0;
    for (int i = 0; i < 4; i++) {
        int h = dh_hexval(p[i]);
        if (h < 0)
            return -1;
        r = r * 16 + (unsigned)h;
    }
    *v = r;
    return 0;
}

int dh_json_unescape(dh_buf *out, const char *s, size_t n)
{
    size_t i = 0, run = 0;
    while (i < n) {
        const char *bs = memchr(s + i, '\\', n - i); /* most strings hold no escape */
        if (!bs) {
            i = n;
            break;
        }
        i = (size_t)(bs - s);
        if (dh_buf_append(out, s + run, i - run))
            return -1;
        if (i + 1 >= n)
            return -1;
        char e = s[i + 1];
        const char *simple = NULL;
        switch (e) {
        case '"':
            simple = "\"";
            break;
        case '\\':
            simple = "\\";
            break;
        case '/':
            simple = "/";
            break;
        case 'b':
            simple = "\b";
            break;
        case 'f':
            simple = "\f";
            break;
        case 'n':
            simple = "\n";
            break;
        case 'r':
            simple = "\r";
            break;
        case 't':
            simple = "\t";
            break;
        }
        if (simple) {
            if (dh_buf_putc(out, simple[0]))
                return -1;
            i += 2;
        } else if (e == 'u') {
            unsigned cp, lo;
            if (i + 6 > n || hex4(s + i + 2, &cp))
                return -1;
            i += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u' &&
                !hex4(s + i + 2, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            uint8_t u16[4];
            size_t units;
            if (cp >= 0x10000) {
                unsigned v = cp - 0x10000, hi = 0xD800 | (v >> 10), l2 = 0xDC00 | (v & 0x3FF);
                u16[0] = (uint8_t)hi;
                u16[1] = (uint8_t)(hi >> 8);
                u16[2] = (uint8_t)l2;
                u16[3] = (uint8_t)(l2 >> 8);
                units = 2;
            } else {
                u16[0] = (uint8_t)cp;
                u16[1] = (uint8_t)(cp >> 8);
                units = 1;
            }
            if (dh_utf16le_to_utf8(out, u16, units))
                return -1;
        } else {
            return -1;
        }
        run = i;
    }
    return dh_buf_append(out, s + run, n - run) ? -1 : 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes left) that XML 1.0 can hold, or 0. */
static size_t xml_char_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return c >= 0x20 && c != 0x7f ? 1 : 0;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0))
            return 0; /* overlong, surrogate */
        if (c == 0xEF && s[1] == 0xBF && (s[2] == 0xBE || s[2] == 0xBF))
            return 0; /* U+FFFE, U+FFFF */
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

dh_status dh_xml_escape(dh_buf *out, const char *s, size_t n, int attr)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0, i = 0;
    while (i < n) {
        unsigned char ch = u[i];
        const char *rep = NULL;
        size_t len = 1;
        switch (ch) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = attr ? "&quot;" : NULL;
            break;
        case '\t':
            rep = "&#x9;";
            break;
        case '\n':
            rep = "&#xA;";
            break;
        case '\r':
            rep = "&#xD;";
            break;
        default:
            len = xml_char_len(u + i, n - i);
            if (!len) {
                rep = "\xEF\xBF\xBD";
                len = 1;
            }
        }
        if (rep) {
            dh_status st = dh_buf_append(out, s + run, i - run);
            if (!st)
                st = dh_buf_puts(out, rep);
            if (st)
                return st;
            run = i + len;
        }
        i += len;
    }
    return dh_buf_append(out, s + run, n - run);
}
