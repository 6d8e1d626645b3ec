/* Recognising an input's format from its first bytes, never from its name: archives here,
 * every other format by its reader's row (input/reader.h), tried in the table's order. */
#ifndef DH_INPUT_SNIFF_H
#define DH_INPUT_SNIFF_H

#include <stddef.h>
#include <stdint.h>

#include "input/format.h"

dh_format dh_sniff(const uint8_t *p, size_t n);
/* Formats read as a stream of text records (cut into batches of whole records). */
int dh_format_is_text(dh_format f);
const char *dh_format_name(dh_format f);

#endif
