/* dcomhunt: the growable byte buffer as callers of the public API see it.
 *
 * A dh_buf is handed to callbacks (dh_scan_callbacks.on_event) and to the packing
 * functions (dh_event_pack, dh_correlator_pack); its layout stays private to the library.
 * Appends past the buffer's cap fail with DH_ERR_NOMEM, and the first failure sticks:
 * later appends do nothing and return it, so a record can never go out with a piece
 * missing.
 *
 * Ownership: whoever hands out the dh_buf owns it; the callee only appends. */
#ifndef DCOMHUNT_BUF_H
#define DCOMHUNT_BUF_H

#include <stddef.h>

#include "dcomhunt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dh_buf dh_buf;
/* Appends len bytes; returns DH_ERR_NOMEM if the buffer's cap is reached (or an earlier
 * append failed). */
dh_status dh_buf_append(dh_buf *b, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
