/* Microsoft Defender for Endpoint / Sentinel advanced-hunting CSV exports: a header record
 * naming the columns (Timestamp or "TimeGenerated [UTC]", DeviceName, ActionType, ...),
 * then one row per event. Fields follow RFC 4180: quoted fields may hold commas, doubled
 * quotes and newlines, so records are found by quote parity, not by lines. */
#ifndef DH_INPUT_MDECSV_H
#define DH_INPUT_MDECSV_H

#include <stddef.h>
#include <stdint.h>

#include "input/reader.h"

typedef struct mdecsv_reader mdecsv_reader;

mdecsv_reader *mdecsv_reader_new(void);
void mdecsv_reader_free(mdecsv_reader *r);

/* How many leading bytes of [buf, buf+len) hold whole records (each ends with a newline
 * outside quotes); 0: none yet. `buf` must begin at a record's start. */
size_t mdecsv_cut(const char *buf, size_t len);
/* The length of the first record (the header), newline included; 0 if not complete. */
size_t mdecsv_first(const char *buf, size_t len);

/* Decodes the records of a batch cut as above; `hdr` is the file's header record.
 * Records that are not well-formed CSV are reported by line and skipped. */
dh_status mdecsv_decode(mdecsv_reader *r, const char *hdr, size_t hdrlen, const char *buf,
                        size_t len, const char *file, uint64_t first_line, uint64_t base_offset,
                        dh_reader_event_fn on_event, void *ectx, dh_reader_line_error_fn on_error,
                        void *errctx, uint64_t *events, uint64_t *bad);

#endif
