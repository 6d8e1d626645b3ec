/* Zeek logs (conn.log, dce_rpc.log and the others), in their TSV form and as JSON lines.
 *
 * TSV: a header of '#' lines (#separator, #set_separator, #empty_field, #unset_field,
 * #path, #fields, #types), then one row per line; a new header may start a new block
 * (logs concatenated). The producer cuts batches at line ends and hands each batch the
 * header in effect at its first byte (see zeek_header_update). JSON lines are decoded by
 * the JSON reader, which calls dh_map_zeek_apply for objects that carry Zeek's "uid" and "id.*"
 * fields. */
#ifndef DH_INPUT_ZEEK_H
#define DH_INPUT_ZEEK_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "input/reader.h"

typedef struct zeek_reader zeek_reader;

zeek_reader *zeek_reader_new(void);
void zeek_reader_free(zeek_reader *r);

/* Folds the '#' lines of [buf, buf+len) into `hdr`, the header in effect after them: a
 * "#separator" line starts a new header. `hdr` is capped (64 KiB); -1 if it overflows. */
int zeek_header_update(dh_buf *hdr, const char *buf, size_t len);

/* Decodes whole lines of a TSV batch; `hdr` holds the header lines in effect at its start.
 * Rows before any #fields line, or not matching it, are reported by line and skipped. */
dh_status zeek_decode(zeek_reader *r, const char *hdr, size_t hdrlen, const char *buf, size_t len,
                      const char *file, uint64_t first_line, uint64_t base_offset,
                      dh_reader_event_fn on_event, void *ectx, dh_reader_line_error_fn on_error,
                      void *errctx, uint64_t *events, uint64_t *bad);

/* Records of logs not used (see dh_map_zeek_apply in event/mappings/mappings.h) since the reader
 * was made. */
uint64_t zeek_reader_unused(const zeek_reader *r);

#endif
