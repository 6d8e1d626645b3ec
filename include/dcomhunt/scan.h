/* dcomhunt: reading inputs into events, on a worker pool, in deterministic order.
 *
 * dh_scan_run() expands the paths (files; directories, recursively unless opts.recurse is
 * off; "-" for standard input; named pipes and devices, read as streams), recognises each
 * input's format by its content (EVTX, event XML, JSON lines/arrays/documents, Defender
 * CSV, Zeek TSV; archives are opened and their members recognised in turn), cuts it into
 * independent units (up to eight EVTX chunks, or a batch of whole text records), and
 * decodes the units on `threads` workers. For every event, on_event runs on the worker
 * thread that decoded it and may append bytes to that unit's output buffer. emit then
 * receives each unit's bytes on the calling thread, in input order (file by file, or by
 * chunk time with opts.time_order), so output is the same whatever the thread count.
 * Problems in the input (damaged chunks or records, unreadable or unrecognised files)
 * reach on_error on the calling thread, in input order too; they never stop the scan. A
 * callback that returns an error does.
 *
 * Ownership: paths are borrowed for the duration of the call. The dh_buf passed to
 * on_event is owned by the scanner. Worker contexts are created by worker_new and freed by
 * worker_free on the thread that owns them. */
#ifndef DCOMHUNT_SCAN_H
#define DCOMHUNT_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/buf.h"
#include "dcomhunt/event.h"
#include "dcomhunt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dh_scan_callbacks {
    void *ctx;
    void *(*worker_new)(void *ctx);  /* optional; NULL result means no per-worker state */
    void (*worker_free)(void *wctx); /* optional */
    /* Worker thread. Return DH_OK, or an error to stop the scan. */
    dh_status (*on_event)(void *wctx, const dh_event *ev, dh_buf *out);
    /* Calling thread, input order. Return DH_OK, or an error to stop the scan. */
    dh_status (*emit)(void *ctx, const char *bytes, size_t len);
    /* Calling thread, input order. */
    void (*on_error)(void *ctx, const dh_error *err);
    /* Calling thread, after each unit: bytes of input done so far and in all (optional). */
    void (*on_progress)(void *ctx, uint64_t bytes_done, uint64_t bytes_total);
} dh_scan_callbacks;

typedef struct dh_scan_opts {
    unsigned threads; /* 0: one per online core */
    int want_xml;     /* render each record's XML (dh_event_xml) */
    int want_system;  /* EVTX: the System properties beyond the envelope (dh_event_system:
                       * Level, Keywords, UserID...); converting them costs about a fifth of
                       * the decode time, so only when something reads them. Other formats
                       * give them whenever they carry them. */
    int recurse;      /* descend into directories (default on via dh_scan_opts_init) */
    int full_walk;    /* EVTX: never take the precomputed-plan fast path (a verification
                       * aid: output must not change, only speed) */
    int time_order;   /* EVTX: read the chunks of all files in order of their first record's
                       * time (what a time-windowed correlator needs), not file by file */
} dh_scan_opts;

typedef struct dh_scan_stats {
    uint64_t files_seen;    /* regular files found under the paths */
    uint64_t files_read;    /* files recognised and decoded */
    uint64_t files_skipped; /* not a supported format, or unreadable */
    uint64_t bytes_read;
    uint64_t bytes_total;     /* sizes of all files found */
    uint64_t chunks;          /* EVTX chunks decoded */
    uint64_t batches;         /* batches of JSON lines decoded */
    uint64_t chunks_damaged;  /* units skipped whole or in part */
    uint64_t records;         /* events delivered */
    uint64_t records_damaged; /* records skipped */
    uint64_t errors;          /* on_error calls */
    uint64_t records_unused;  /* valid records of logs dcomhunt does not use (Zeek logs
                               * without connection endpoints: files, x509, pe...) */
} dh_scan_stats;

void dh_scan_opts_init(dh_scan_opts *opts);

/* Returns DH_OK when every input was read whole; DH_ERR_FORMAT when something was skipped
 * (see stats and on_error); another error if a callback stopped the scan or a fatal
 * condition occurred. */
dh_status dh_scan_run(const char *const *paths, size_t npaths, const dh_scan_opts *opts,
                      const dh_scan_callbacks *cb, dh_scan_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
