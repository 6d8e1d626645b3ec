/* Reading a caller's buffer as an input: what dh_engine_run_buffer (dcomhunt/engine.h)
 * calls. The scan of dcomhunt/scan.h, with one input that is bytes in memory instead of
 * paths: its format is recognised as a file's would be (EVTX, event XML, JSON lines,
 * arrays and documents, Defender CSV, Zeek TSV; a zip, 7z or tar archive or a compressed
 * stream, opened where it lies), and it is read exactly as a regular file holding the same
 * bytes (EVTX chunks in time order with opts.time_order, the same checks, the same units),
 * so what comes out is the same. `name` stands for the path: errors and every event's
 * file name it.
 *
 * Ownership: data and name are borrowed for the duration of the call; EVTX units point
 * into the buffer (each worker copies one chunk at a time, as pread would), text is read
 * a batch at a time: never copied whole.
 * Returns as dh_scan_run does; DH_ERR_ARG for a NULL name, or NULL data with len not 0. */
#ifndef DH_INPUT_BUFFER_H
#define DH_INPUT_BUFFER_H

#include <stddef.h>

#include "dcomhunt/scan.h"

dh_status dh_scan_run_buffer(const void *data, size_t len, const char *name,
                             const dh_scan_opts *opts, const dh_scan_callbacks *cb,
                             dh_scan_stats *stats);

#endif
