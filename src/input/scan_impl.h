/* What the files of the scan share (scan.c, walk.c, stream.c, archive.c, plan.c,
 * pipeline.c): the scan's state, the task a producer hands the worker pool and the result
 * a worker hands back. Internal to src/input/.
 *
 * Threads: the producer (scan_next_task and what it calls) and the deliverer run with the
 * pipeline's lock held, one at a time, and own `scan`; workers see only their task and
 * result, and the scan's options, callbacks and file names (never changed during the
 * pipeline). */
#ifndef DH_INPUT_SCAN_IMPL_H
#define DH_INPUT_SCAN_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/buf.h"
#include "dcomhunt/scan.h"
#include "input/evtx/file.h"
#include "input/readers.h"
#include "input/sniff.h"

struct archive;
struct scan;

#define OUT_LIMIT           (256u << 20) /* output of one unit */
#define MAX_ERRORS_PER_UNIT 64
#define MAX_FILES           (1u << 22)
/* Chunks per task: one chunk (~40 us of work) per hand-off made the threads spend their
 * time waking each other; eight keep two threads at ~1.4x -> see bench/. */
#define CHUNKS_PER_TASK 8
/* A named pipe with no writer: how long to wait before saying so. */
#define FIFO_NOTICE_MS 1000
/* The descriptor of the caller's buffer read as a file (dh_scan_run_buffer): never a real
 * one, never closed; its bytes are read in place (memory.c). */
#define SCAN_FD_MEMORY (-2)

typedef struct path_list {
    char **v;
    size_t n, cap;
    unsigned char *explicit_; /* named on the command line (not found in a directory) */
    int *fd; /* a named pipe or device opened before the scan (-1: none); NULL: none at all */
} path_list;

enum {
    T_UNIT, /* a unit for a reader: EVTX chunks, or whole text records in buf (with the
             * header in hdr for CSV and Zeek) */
    T_FILE_ERROR,
    T_FILE_NOTE,
    T_FILE_TRUNCATED,
    T_FILE_END,
    T_FILE_UNKNOWN,
    T_RECORD_SKIPPED, /* a text record over the size cap, read past (msg says which) */
};

/* Text records per task. 1 MiB, not 4: a 24-42 MB capture made 6-10 units, and at -j2
 * the worker that finished first sat idle for up to a unit (a tenth of the run) while the
 * other ended the last one; 4x the units costs 0.5-1.2% more instructions at -j1
 * (callgrind, Defender CSV and event XML captures, 2026-12-07). */
#define BATCH_BYTES    (1u << 20)
#define MAX_LINE_BYTES (16u << 20)

typedef struct scan_task {
    int kind;
    const dh_reader *reader; /* T_UNIT: the row that decodes it */
    dh_format format;        /* T_UNIT: as sniffed */
    size_t file;
    int fd;
    int64_t chunk; /* first chunk */
    uint32_t nchunks;
    uint64_t off; /* file offset of the first chunk */
    uint64_t len; /* bytes of all chunks */
    dh_status st;
    char msg[200];
    char *buf; /* owned bytes (JSON lines, or EVTX chunks read from an archive) */
    size_t buflen;
    const char *name; /* display name ("archive!member"); NULL: the file's path */
    uint64_t line;    /* text units: number of the first line */
    char *hdr;        /* CSV, Zeek: owned copy of the header */
    size_t hdrlen;
    int in_stream;     /* made from a stream: its file bytes are `progress`, not `len` */
    uint64_t progress; /* bytes of the file on disk this task used (compressed ones) */
    int borrowed;      /* buf points into the caller's buffer: never freed */
} scan_task;

typedef struct scan_result {
    dh_buf out;
    dh_error *errs;
    size_t nerrs;
    uint64_t errs_dropped;
    /* What the reader counted. EVTX read as a stream (no look-ahead): junk chunks are
     * damage when a real chunk follows, trailing data when none does; r says whether this
     * task had a real chunk and the junk after its last one (the deliverer decides, in
     * input order). */
    dh_reader_result r;
    dh_status st;
} scan_result;

/* Time order: a run of a file's chunks whose first records' times do not decrease (a log
 * is one run, or a few when it wrapped), at its next chunk: chunks chunk..end-1 of file,
 * time that of chunk. The plan is a heap of runs merged by (time, file, chunk), so memory
 * follows the runs, not the chunks (plan.c). */
typedef struct plan_entry {
    int64_t time;
    uint32_t file;
    uint32_t chunk;
    uint32_t end;
} plan_entry;

#define MAX_OPEN_FILES 512 /* time order keeps files open; more are read file by file after */

/* A file read as a stream: JSON lines, or an archive whose members are JSON lines or
 * EVTX files (read chunk by chunk from the decompressed stream). */
typedef struct stream {
    int active;
    int fd;          /* plain JSON file, or -1 */
    const char *mem; /* the caller's buffer read as a text file, or NULL */
    size_t mem_len, mem_pos;
    struct archive *ar; /* archive, or NULL */
    /* archive: opens its next member (archive.c sets it, so that stream.c, which cuts
     * whatever the stream holds, needs nothing of archive.c) */
    int (*next_member)(struct scan *s, struct scan_task *t, int *made);
    struct archive *inner;  /* an archive inside it being read (one level), or NULL */
    const char *inner_name; /* "archive!member" of the inner archive */
    int failed;             /* the archive cannot be read further */
    int pipe_fd;            /* an archive read from a pipe: its descriptor, closed at the end */
    size_t file;
    const char *name;
    /* what the stream (or the archive's current member) holds: chunks from the carry's
     * first byte on (EVTX) or text records, and the row that reads them */
    dh_format fmt;
    const dh_reader *rd;
    dh_buf hdr; /* CSV: the header record; Zeek: the header lines in effect */
    int have_hdr;
    int member_open;
    char *carry; /* bytes read but not yet handed out */
    size_t carry_len;
    size_t carry_cap; /* bytes allocated at carry (meaningless while carry is NULL) */
    uint64_t line, offset;
    int64_t chunk;
    int eof;
    uint64_t counted; /* file bytes already counted as progress */
    size_t members;   /* archive members recognised and read */
    int raw;          /* the archive is a lone compressed stream (.gz, .xz...) */
} stream;

typedef struct scan {
    const dh_scan_opts *opts;
    /* dh_scan_run_buffer: the caller's bytes, read as the one file of the scan would be
     * (borrowed for the scan, never copied whole); NULL when the inputs are paths. */
    const uint8_t *mem;
    uint64_t mem_len;
    stream str;
    char **names; /* "archive!member" strings, alive for the whole scan */
    size_t nnames;
    unsigned char *planned; /* time order: files already taken care of */
    unsigned char *early;   /* time order: network sensor logs, read before the plan */
    size_t early_cur;
    int early_left;
    /* time order */
    int time_mode;
    plan_entry *plan; /* a heap of runs, the next chunk on top */
    size_t nplan;
    scan_task *pending; /* errors and notes found while planning, delivered first */
    size_t npending, pending_pos;
    int *fds; /* per file, -1 when not open */
    uint64_t *sizes, *firsts;
    size_t end_pos; /* FILE_END tasks emitted */
    size_t planned_files;
    dh_reader_junk junk; /* EVTX stream: junk chunks not yet known to be damage or trailing */
    const dh_scan_callbacks *cb;
    dh_scan_stats *stats;
    path_list files;
    /* Producer state (pipeline lock held). */
    size_t cur;
    int cur_fd;
    int cur_open;
    uint64_t cur_chunk, cur_nchunks, cur_first, cur_size;
    int partial;
    dh_status fatal;
    uint64_t progress; /* bytes of the input files used so far (for on_progress) */
} scan;
/* A JSON input whose first object is no event of a kind dcomhunt reads (a manifest, an
 * archive's metadata.json, a configuration) is another kind of file: found in a directory
 * or an archive, it is passed over like a README, not read object by object and reported.
 * Named on the command line it is read (and what is not an event said). This many bytes
 * are looked at to tell. */
#define JSON_PEEK (64u << 10)

/* task.c */
void scan_task_error(scan_task *t, size_t file, int kind, dh_status st, const char *msg);
/* Queues a note or error to be delivered ahead of the next units; -1: no memory. */
int scan_push_pending(scan *s, size_t file, int kind, dh_status st, const char *msg);
/* Junk after the last chunk of an EVTX file: the warning said for it. */
void scan_junk_note(char *msg, size_t n, uint64_t from, uint64_t to);
void scan_fill_error(dh_error *e, const char *file, dh_status st, int64_t chunk, uint64_t off,
                     uint64_t rid, const char *msg);
int scan_evtx_file_notes(scan *s, size_t file, int fd, const evtx_layout *lay, const char *warn,
                         uint64_t size, uint64_t *nchunks);

/* walk.c */
int scan_add_path(path_list *l, const char *p, int explicit_);
int scan_walk_dir(scan *s, const char *dir, int depth);
dh_status scan_open_special(scan *s, size_t file, const struct stat *sb);
dh_status scan_collect(scan *s, const char *const *paths, size_t npaths);
void scan_paths_free(path_list *l);

/* memory.c: the caller's buffer where a file would be read. */
/* Up to n bytes at off of the file open as fd (SCAN_FD_MEMORY: the buffer); the bytes
 * got, or -1 when a read failed. */
ssize_t scan_read_at(const scan *s, int fd, void *buf, size_t n, uint64_t off);
/* A unit of chunks of the buffer read as a file: its bytes in place (t->buf borrowed). */
void scan_task_memory(const scan *s, scan_task *t);
/* Closes fd unless it is none (-1) or the buffer. */
void scan_close_fd(int fd);

/* stream.c */
int scan_stream_fill(stream *st, size_t want);
void scan_stream_close(stream *st);
char *scan_take_carry(stream *st, size_t n);
int scan_stream_begin(scan *s, dh_format f);
int scan_stream_next(scan *s, scan_task *t);

/* archive.c */
int scan_stream_open(scan *s, size_t file, int fd, dh_format f, scan_task *t);
int scan_fd_stream_open(scan *s, size_t file, int fd, scan_task *t);

/* plan.c */
dh_status scan_plan_time_order(scan *s);
int scan_next_task_time(scan *s, scan_task *t);

/* scan.c: the producer, the next unit in input order (pipeline lock held); 0 when done. */
int scan_next_task(void *ctx, void *task);

/* pipeline.c: runs the producer `next` (scan_next_task), the workers and the deliverer
 * to the end. */
dh_status scan_pipeline_run(scan *s, unsigned threads, int (*next)(void *ctx, void *task));

#endif
