/* Terminal-safe text. See text.h. */
#include "output/text.h"

dh_status dh_text_escape(dh_buf *out, const char *s, size_t n, unsigned flags)
{
    static const char hx[] = "0123456789abcdef";
    dh_status st = DH_OK;
    for (size_t i = 0; i < n && !st; i++) {
        unsigned char ch = (unsigned char)s[i];
        unsigned esc = 0x100; /* none */
        if ((ch < 0x20 && !((flags & DH_TEXT_KEEP_LINES) && (ch == '\n' || ch == '\t'))) ||
            ch == 0x7f || (ch == '\\' && (flags & DH_TEXT_BACKSLASH)))
            esc = ch;
        else if (ch == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
                 (unsigned char)s[i + 1] < 0xA0)
            esc = (unsigned char)s[++i]; /* a C1 control, encoded in UTF-8 */
        if (esc < 0x100) {
            char e[4] = {'\\', 'x', hx[esc >> 4], hx[esc & 15]};
            st = dh_buf_append(out, e, 4);
        } else {
            st = dh_buf_putc(out, (char)ch);
        }
    }
    return st;
}
