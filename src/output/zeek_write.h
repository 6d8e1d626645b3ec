/* Zeek logs in Zeek's TSV form (conn.log, dce_rpc.log...): the '#' header (separator,
 * set separator, empty and unset markers, path, open time, fields, types), one row per
 * record with tabs, backslashes and control characters \xHH-escaped as Zeek does, and the
 * '#close' line. dcomhunt's Zeek reader reads them back. */
#ifndef DH_OUTPUT_ZEEK_WRITE_H
#define DH_OUTPUT_ZEEK_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* The header; open_time is FILETIME ticks. */
dh_status dh_zeek_header(dh_buf *out, const char *path, const char *const *fields,
                         const char *const *types, size_t n, int64_t open_time);
/* One row: values in the header's field order; NULL or "-" is unset. */
dh_status dh_zeek_row(dh_buf *out, const char *const *values, const size_t *lens, size_t n);
dh_status dh_zeek_close(dh_buf *out, int64_t close_time);
/* Zeek's "ts": Unix seconds with six decimals, from FILETIME ticks. */
dh_status dh_zeek_time(dh_buf *out, int64_t filetime);

#endif
