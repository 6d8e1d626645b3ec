/* UTF-16LE and Windows-1252 to UTF-8. Unpaired surrogates become U+FFFD: output is
 * always valid UTF-8 whatever the input. */
#ifndef DH_CORE_UTF16_H
#define DH_CORE_UTF16_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Appends n UTF-16LE code units read from p (unaligned allowed). */
dh_status dh_utf16le_to_utf8(dh_buf *out, const uint8_t *p, size_t n);
/* Appends n bytes of Windows-1252 text. */
dh_status dh_cp1252_to_utf8(dh_buf *out, const uint8_t *p, size_t n);

#endif
