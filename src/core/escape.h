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
/* Appends [s, s+n) as XML 1.0 character data (attr: an attribute value in double quotes):
 * & < > (and ") as entities; tab, line feed and carriage return as character references,
 * so the text survives a parser's newline handling and stays on one line; what XML 1.0
 * cannot hold at all (other C0 controls, DEL, U+FFFE, U+FFFF, bytes that are not UTF-8)
 * becomes U+FFFD. */
dh_status dh_xml_escape(dh_buf *out, const char *s, size_t n, int attr);

#endif
