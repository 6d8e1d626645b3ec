/* Events as Microsoft Defender advanced-hunting rows: JSON lines and CSV (one header, the
 * union of the tables' columns, the table in a "Table" column). `*written` is 0 for events
 * no Defender table holds (nothing is appended). */
#ifndef DH_OUTPUT_MDE_H
#define DH_OUTPUT_MDE_H

#include "core/buf.h"
#include "dcomhunt/event.h"

dh_status dh_mde_json_event(dh_buf *out, const dh_event *ev, int *written);
dh_status dh_mde_csv_header(dh_buf *out);
dh_status dh_mde_csv_event(dh_buf *out, const dh_event *ev, int *written);

#endif
