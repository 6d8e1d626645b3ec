/* Text for people: the terminal (tables, --explain, messages on stderr) and CSV cells.
 * What the logs carry (attacker-written strings) is shown, never interpreted
 * (docs/output-escaping.md): bytes that are not valid UTF-8 and control characters (C0,
 * DEL, C1) become \xNN; invisible and bidirectional formatting characters become \uNNNN
 * (\UNNNNNNNN past U+FFFF); everything else is kept, a NUL included (as \x00): values are
 * byte strings with a length, never cut at a NUL. */
#ifndef DH_OUTPUT_TEXT_H
#define DH_OUTPUT_TEXT_H

#include <stddef.h>

#include "core/buf.h"

enum {
    DH_TEXT_KEEP_LINES = 1, /* newlines and tabs pass (our own multi-line text) */
    DH_TEXT_BACKSLASH = 2,  /* a backslash becomes \x5c, so every \x escape is ours */
};

dh_status dh_text_escape(dh_buf *out, const char *s, size_t n, unsigned flags);

/* One CSV cell (RFC 4180): the text escaped as for the terminal (so a record is one
 * line and holds no control character), in double quotes with quotes doubled, and a cell
 * that would start with = + - or @ (a spreadsheet formula) prefixed with a quote. */
dh_status dh_csv_cell(dh_buf *out, const char *s, size_t n);
/* The same with dh_text_escape's flags: DH_TEXT_KEEP_LINES keeps line feeds and tabs inside
 * the quotes (rows meant to be read back: dump --to mde-csv), a CR is still \x0d. */
dh_status dh_csv_cell_flags(dh_buf *out, const char *s, size_t n, unsigned flags);

#endif
