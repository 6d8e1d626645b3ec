/* UTF-16LE and Windows-1252 to UTF-8, and UTF-8 to UTF-16LE (the EVTX writer). Unpaired
 * surrogates and invalid UTF-8 become U+FFFD: output is always valid whatever the input. */
#ifndef DH_CORE_UTF16_H
#define DH_CORE_UTF16_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Appends n UTF-16LE code units read from p (unaligned allowed). */
dh_status dh_utf16le_to_utf8(dh_buf *out, const uint8_t *p, size_t n);
/* Appends n bytes of Windows-1252 text. */
dh_status dh_cp1252_to_utf8(dh_buf *out, const uint8_t *p, size_t n);
/* Writes the UTF-8 text s[0, n) as UTF-16LE into out (at most cap bytes); returns the bytes
 * written, or (size_t)-1 if they do not fit. Invalid sequences (bad bytes, overlong forms,
 * surrogates) each become U+FFFD. */
size_t dh_utf8_to_utf16le(uint8_t *out, size_t cap, const char *s, size_t n);

#endif
