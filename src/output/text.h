/* Terminal-safe text: what the logs carry (attacker-written strings) is shown, never
 * interpreted: control characters (C0, DEL, C1) become \xNN. */
#ifndef DH_OUTPUT_TEXT_H
#define DH_OUTPUT_TEXT_H

#include <stddef.h>

#include "core/buf.h"

enum {
    DH_TEXT_KEEP_LINES = 1, /* newlines and tabs pass (our own multi-line text) */
    DH_TEXT_BACKSLASH = 2,  /* a backslash becomes \x5c, so every \x escape is ours */
};

dh_status dh_text_escape(dh_buf *out, const char *s, size_t n, unsigned flags);

#endif
