/* UTF-8 as it comes from outside: one sequence at a time, checked (overlong forms,
 * surrogates, code points past U+10FFFF and cut sequences are invalid), and the
 * characters that make text read other than it is. Every output sink decides what to do
 * with them from these two answers (docs/output-escaping.md). */
#ifndef DH_CORE_UTF8_H
#define DH_CORE_UTF8_H

#include <stddef.h>

/* Decodes the sequence at s (n > 0 bytes left): returns its length with *cp set, or 1
 * with *cp = -1 for a byte that starts no valid sequence. */
size_t dh_utf8_next(const unsigned char *s, size_t n, long *cp);

/* A character no reader should see rendered: C0 and C1 controls, DEL, and the invisible
 * and bidirectional formatting characters (U+202E turns "exe.txt" around, the tag
 * characters U+E0000-U+E007F carry invisible ASCII). */
int dh_char_hidden(long cp);

/* A control character: C0, DEL or C1 (a subset of the hidden ones). */
static inline int dh_char_control(long cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

#endif
