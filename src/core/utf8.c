/* UTF-8 checking and hidden characters. See utf8.h. */
#include "core/utf8.h"

size_t dh_utf8_next(const unsigned char *s, size_t n, long *cp)
{
    unsigned c = s[0];
    size_t len;
    long v, min;
    if (c < 0x80) {
        *cp = (long)c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        *cp = -1;
        return 1;
    }
    if (n < len) {
        *cp = -1;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = -1;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = -1;
        return 1;
    }
    *cp = v;
    return len;
}

int dh_char_hidden(long cp)
{
    /* A table of ranges: controls, soft hyphen, Arabic letter mark, Mongolian vowel
     * separator, zero-width and bidi marks (U+200B-U+200F), line and paragraph
     * separators and the bidi embeddings and overrides (U+2028-U+202E), word joiner,
     * invisible operators and bidi isolates (U+2060-U+206F), the byte-order mark,
     * interlinear annotations, and the tag characters. */
    static const struct {
        long lo, hi;
    } ranges[] = {
        {0x00, 0x1F},     {0x7F, 0x9F},     {0xAD, 0xAD},       {0x061C, 0x061C},
        {0x180E, 0x180E}, {0x200B, 0x200F}, {0x2028, 0x202E},   {0x2060, 0x206F},
        {0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFB}, {0xE0000, 0xE007F},
    };
    if (cp >= 0x20 && cp < 0x7F)
        return 0; /* printable ASCII: the common case */
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (cp >= ranges[i].lo && cp <= ranges[i].hi)
            return 1;
    return 0;
}
