/* Escapes in text from outside. */
#ifndef DH_CORE_ESCAPE_H
#define DH_CORE_ESCAPE_H

#include <stddef.h>

#include "core/buf.h"

/* The value of a hexadecimal digit, or -1. */
int dh_hexval(char c);
/* Appends the JSON string body [s, s+n) (between its quotes) with its escapes resolved,
 * as UTF-8: \uXXXX pairs joined, a lone surrogate as U+FFFD. -1 if an escape is malformed
 * or the buffer is full. */
int dh_json_unescape(dh_buf *out, const char *s, size_t n);

#endif
