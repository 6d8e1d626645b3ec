/* Input discovery and the decode pipeline: paths to files, files to units (EVTX chunks),
 * units to events on the worker pool, results back in input order.
 *
 * Memory: each in-flight unit holds one 64 KiB chunk buffer per worker and its output;
 * the pipeline window caps the units in flight, so a 10 GB file needs no more than a
 * 10 MB one. Files are read with pread, never mapped, so resident memory does not grow
 * with the file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "core/buf.h"
#include "core/pool.h"
#include "input/evtx/evtx.h"
#include "input/evtx/file.h"
#include "input/reader.h"
#include "input/sniff.h"

#define OUT_LIMIT           (256u << 20) /* output of one unit */
#define MAX_ERRORS_PER_UNIT 64
#define MAX_FILES           (1u << 22)
/* Chunks per task: one chunk (~40 us of work) per hand-off made the threads spend their
 * time waking each other; eight keep two threads at ~1.4x -> see bench/. */
#define CHUNKS_PER_TASK 8
/* A named pipe with no writer: how long to wait before saying so. */
#define FIFO_NOTICE_MS 1000

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

#define BATCH_BYTES    (4u << 20) /* JSON lines per task */
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

/* Time order: every chunk of every file, by the time of its first record. */
typedef struct plan_entry {
    int64_t time;
    uint32_t file;
    uint32_t chunk;
} plan_entry;

#define MAX_OPEN_FILES 512 /* time order keeps files open; more are read file by file after */

/* A file read as a stream: JSON lines, or an archive whose members are JSON lines or
 * EVTX files (read chunk by chunk from the decompressed stream). */
typedef struct stream {
    int active;
    int fd;                 /* plain JSON file, or -1 */
    struct archive *ar;     /* archive, or NULL */
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
    uint64_t line, offset;
    int64_t chunk;
    int eof;
    uint64_t counted; /* file bytes already counted as progress */
    size_t members;   /* archive members recognised and read */
    int raw;          /* the archive is a lone compressed stream (.gz, .xz...) */
} stream;

typedef struct scan {
    const dh_scan_opts *opts;
    stream str;
    char **names; /* "archive!member" strings, alive for the whole scan */
    size_t nnames;
    unsigned char *planned; /* time order: files already taken care of */
    unsigned char *early;   /* time order: network sensor logs, read before the plan */
    size_t early_cur;
    int early_left;
    /* time order */
    int time_mode;
    plan_entry *plan;
    size_t nplan, plan_pos;
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

typedef struct worker {
    scan *s;
    void *state[DH_FORMAT_COUNT]; /* per reader row, made on its first unit */
    unsigned char tried[DH_FORMAT_COUNT];
    void *user;
    scan_result *res; /* the unit being decoded */
    dh_reader_sink sink;
} worker;

static int add_path(path_list *l, const char *p, int explicit_)
{
    if (l->n >= MAX_FILES)
        return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        unsigned char *e = realloc(l->explicit_, cap);
        if (!e)
            return -1;
        l->explicit_ = e;
        if (l->fd) {
            int *f = realloc(l->fd, cap * sizeof *f);
            if (!f)
                return -1;
            l->fd = f;
        }
        l->cap = cap;
    }
    if (l->fd)
        l->fd[l->n] = -1;
    size_t n = strlen(p);
    char *c = malloc(n + 1);
    if (!c)
        return -1;
    memcpy(c, p, n + 1);
    l->v[l->n] = c;
    l->explicit_[l->n] = (unsigned char)explicit_;
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Recursively lists regular files under dir, sorted, without following symlinked
 * directories (no loops). */
static int walk_dir(scan *s, const char *dir, int depth)
{
    if (depth > 64)
        return 0;
    DIR *dh = opendir(dir);
    if (!dh)
        return 0;
    path_list local = {0};
    struct dirent *de;
    size_t dl = strlen(dir);
    while ((de = readdir(dh)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        size_t nl = strlen(de->d_name);
        char *full = malloc(dl + nl + 2);
        if (!full)
            break;
        memcpy(full, dir, dl);
        size_t k = dl;
        if (k == 0 || full[k - 1] != '/')
            full[k++] = '/';
        memcpy(full + k, de->d_name, nl + 1);
        if (add_path(&local, full, 0) != 0) {
            free(full);
            break;
        }
        free(full);
    }
    closedir(dh);
    if (local.n > 1) /* qsort must not be given a null array */
        qsort(local.v, local.n, sizeof *local.v, cmp_str);
    for (size_t i = 0; i < local.n; i++) {
        struct stat st;
        if (lstat(local.v[i], &st) == 0) {
            if (S_ISDIR(st.st_mode))
                walk_dir(s, local.v[i], depth + 1);
            else if (S_ISREG(st.st_mode)) {
                s->stats->files_seen++;
                s->stats->bytes_total += (uint64_t)st.st_size;
                add_path(&s->files, local.v[i], 0);
            }
        }
        free(local.v[i]);
    }
    free(local.v);
    free(local.explicit_);
    return 0;
}

static void task_error(scan_task *t, size_t file, int kind, dh_status st, const char *msg)
{
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->file = file;
    t->fd = -1;
    t->chunk = -1;
    t->st = st;
    snprintf(t->msg, sizeof t->msg, "%s", msg);
}

/* Junk after the last chunk of an EVTX file: said once, as a warning (nothing of the log
 * is lost), never as damage. */
static void junk_note(char *msg, size_t n, uint64_t from, uint64_t to)
{
    snprintf(msg, n,
             "warning: trailing data: the %llu bytes from here to the end hold no chunk and no "
             "record (data left on the disk after the log); ignored",
             (unsigned long long)(to - from));
}

/* Producer: the next unit in input order. Called with the pipeline lock held. */
static const char *keep_name(scan *s, const char *a, const char *b)
{
    size_t n = strlen(a) + (b ? strlen(b) + 1 : 0) + 1;
    char *c = malloc(n);
    char **v = realloc(s->names, (s->nnames + 1) * sizeof *v);
    if (!c || !v) {
        free(c);
        if (v)
            s->names = v;
        return a;
    }
    s->names = v;
    snprintf(c, n, "%s%s%s", a, b ? "!" : "", b ? b : "");
    s->names[s->nnames++] = c;
    return c;
}

static ssize_t stream_read(stream *st, void *buf, size_t n)
{
    if (st->inner)
        return (ssize_t)archive_read_data(st->inner, buf, n);
    if (st->ar)
        return (ssize_t)archive_read_data(st->ar, buf, n);
    for (;;) {
        ssize_t r = read(st->fd, buf, n);
        if (r < 0 && errno == EINTR)
            continue;
        return r;
    }
}

/* Fills st->carry up to `want` bytes (fewer at the end of the stream). */
static int stream_fill(stream *st, size_t want)
{
    if (st->carry_len >= want || st->eof)
        return 0;
    char *n = realloc(st->carry, want);
    if (!n)
        return -1;
    st->carry = n;
    while (st->carry_len < want) {
        ssize_t r = stream_read(st, st->carry + st->carry_len, want - st->carry_len);
        if (r < 0)
            return -1;
        if (r == 0) {
            st->eof = 1;
            break;
        }
        st->carry_len += (size_t)r;
    }
    return 0;
}

static void stream_close(stream *st)
{
    if (st->inner) {
        archive_read_free(st->inner);
        st->inner = NULL;
    }
    if (st->ar) {
        archive_read_free(st->ar);
        st->ar = NULL;
    }
    if (st->fd > 0)
        close(st->fd);
    if (st->pipe_fd > 0)
        close(st->pipe_fd);
    free(st->carry);
    dh_buf_free(&st->hdr);
    memset(st, 0, sizeof *st);
    st->fd = -1;
}

/* Hands out `n` bytes of the carry as an owned buffer. */
static char *take_carry(stream *st, size_t n)
{
    char *b = malloc(n ? n : 1);
    if (!b)
        return NULL;
    memcpy(b, st->carry, n);
    memmove(st->carry, st->carry + n, st->carry_len - n);
    st->carry_len -= n;
    return b;
}

/* What libarchive reads when dcomhunt already read the first bytes to recognise the
 * format: those bytes first, then the rest of the source: standard input (fd), or the
 * decompressed bytes of an archive member (outer: an archive inside an archive, never
 * extracted to disk). */
typedef struct replay_client {
    char *head;
    size_t head_len, head_pos;
    int fd;
    struct archive *outer; /* non-NULL: read from this archive's current member */
    char buf[1 << 16];
} replay_client;

static la_ssize_t replay_read(struct archive *a, void *cd, const void **out)
{
    (void)a;
    replay_client *c = cd;
    if (c->head_pos < c->head_len) {
        *out = c->head + c->head_pos;
        la_ssize_t n = (la_ssize_t)(c->head_len - c->head_pos);
        c->head_pos = c->head_len;
        return n;
    }
    *out = c->buf;
    if (c->outer) {
        la_ssize_t n = archive_read_data(c->outer, c->buf, sizeof c->buf);
        return n < 0 ? -1 : n;
    }
    for (;;) {
        ssize_t n = read(c->fd, c->buf, sizeof c->buf);
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 ? -1 : (la_ssize_t)n;
    }
}

static int replay_close(struct archive *a, void *cd)
{
    (void)a;
    replay_client *c = cd;
    free(c->head);
    free(c);
    return ARCHIVE_OK;
}

static int push_pending(scan *s, size_t file, int kind, dh_status st, const char *msg);

/* The containers dcomhunt opens (docs/formats.md): zip, 7z and tar, through any filter
 * (gzip, bzip2, xz, zstd...), or a lone compressed stream (raw). Not libarchive's other
 * formats: its mtree reader takes text whose first lines hold no space (Zeek's compact
 * JSON, a CSV export's rows) for a list of file names and gives each an empty body: the
 * log was read as nothing. */
static void archive_formats(struct archive *a)
{
    archive_read_support_filter_all(a);
    archive_read_support_format_zip(a);
    archive_read_support_format_7zip(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_empty(a); /* an empty .gz */
    archive_read_support_format_raw(a);   /* a lone .gz, .xz, .zst file or member */
}

/* A stream (an archive member, standard input, a pipe) whose first bytes are in the carry
 * and recognised as f is set up to be read exactly as a file of that format would be: an
 * EVTX file header is checked (its checksum) and skipped, bare chunks are read from the
 * first byte. What there is to say is queued (s->pending) ahead of the stream's units.
 * Sets member_open when there is something to read; -1: out of memory. */
static int stream_begin(scan *s, dh_format f)
{
    stream *st = &s->str;
    st->fmt = f;
    st->rd = dh_reader_for(f);
    st->member_open = 1;
    st->hdr.len = 0;
    st->have_hdr = 0;
    if (!st->rd->begin)
        return 0;
    size_t h = 0;
    const char *note = NULL;
    if (st->rd->begin(f, (const uint8_t *)st->carry, st->carry_len, &h, &note) != DH_OK) {
        st->member_open = 0;
        if (push_pending(s, st->file, T_FILE_ERROR, DH_ERR_FORMAT, note))
            return -1;
        s->pending[s->npending - 1].name = st->name;
        return 0;
    }
    if (note) {
        if (push_pending(s, st->file, T_FILE_NOTE, DH_ERR_CHECKSUM, note))
            return -1;
        s->pending[s->npending - 1].name = st->name;
    }
    memmove(st->carry, st->carry + h, st->carry_len - h);
    st->carry_len -= h;
    st->offset = h;
    return 0;
}

/* A JSON input whose first object is no event of a kind dcomhunt reads (a manifest, an
 * archive's metadata.json, a configuration) is another kind of file: found in a directory
 * or an archive, it is passed over like a README, not read object by object and reported.
 * Named on the command line it is read (and what is not an event said). */
#define JSON_PEEK (64u << 10)

/* Opens the next member of the archive that dcomhunt can read; 0 when there is none. An
 * archive member is opened as an archive in turn (one level deep) and its members read. */
static int next_member(scan *s, scan_task *t, int *made)
{
    stream *st = &s->str;
    struct archive_entry *e;
    *made = 0;
    if (st->failed)
        return 0;
    for (;;) {
        struct archive *a = st->inner ? st->inner : st->ar;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF && st->inner) {
            archive_read_free(st->inner);
            st->inner = NULL;
            continue;
        }
        if (r == ARCHIVE_EOF)
            return 0;
        if (r < ARCHIVE_WARN) {
            char msg[200];
            snprintf(msg, sizeof msg, "archive: %s", archive_error_string(a));
            task_error(t, st->file, T_FILE_ERROR, DH_ERR_FORMAT, msg);
            t->name = st->inner ? st->inner_name : st->name;
            *made = 1;
            if (st->inner) { /* the outer archive goes on next time */
                archive_read_free(st->inner);
                st->inner = NULL;
            } else {
                st->failed = 1; /* libarchive would say the same again */
            }
            return 0;
        }
        st->raw = archive_format(a) == ARCHIVE_FORMAT_RAW && !st->inner;
        if (archive_entry_filetype(e) != AE_IFREG)
            continue;
        const char *mname = archive_entry_pathname(e);
        const char *parent = st->inner ? st->inner_name : s->files.v[st->file];
        st->carry_len = 0;
        st->eof = 0;
        st->line = 1;
        st->offset = 0;
        st->chunk = 0;
        if (stream_fill(st, 4096)) {
            char msg[200];
            snprintf(msg, sizeof msg, "archive member unreadable: %s",
                     archive_error_string(st->ar));
            task_error(t, st->file, T_FILE_ERROR, DH_ERR_FORMAT, msg);
            t->name = keep_name(s, parent, mname ? mname : "?");
            *made = 1;
            return 0;
        }
        dh_format f = dh_sniff((const uint8_t *)st->carry, st->carry_len);
        if (f == DH_FORMAT_ARCHIVE && !st->inner && st->carry_len) {
            replay_client *c = calloc(1, sizeof *c);
            struct archive *in = archive_read_new();
            if (!c || !in) {
                free(c);
                if (in)
                    archive_read_free(in);
                continue;
            }
            c->head = st->carry; /* handed over: the carry starts afresh */
            c->head_len = st->carry_len;
            c->outer = st->ar;
            st->carry = NULL;
            st->carry_len = 0;
            archive_formats(in);
            st->inner_name = keep_name(s, parent, mname ? mname : "?");
            if (archive_read_open(in, c, NULL, replay_read, replay_close) != ARCHIVE_OK) {
                char msg[200];
                snprintf(msg, sizeof msg, "archive: %s", archive_error_string(in));
                archive_read_free(in);
                task_error(t, st->file, T_FILE_ERROR, DH_ERR_FORMAT, msg);
                t->name = st->inner_name;
                *made = 1;
                return 0; /* the error is this task; the outer archive goes on next time */
            }
            st->inner = in;
            continue;
        }
        const dh_reader *rd = dh_reader_for(f);
        if (!rd)
            continue; /* other members (a README, a pcap, an archive two levels down) */
        if (rd->not_events &&
            (stream_fill(st, JSON_PEEK) || rd->not_events(st->carry, st->carry_len)))
            continue; /* JSON, but not events: a manifest */
        st->members++;
        st->name = keep_name(s, parent, mname ? mname : "?");
        if (stream_begin(s, f) < 0)
            return 0;
        if (!st->member_open)
            continue; /* nothing to read in it (what to say is queued) */
        return 1;
    }
}

/* Where a record too large to read ends: state kept across the reads of a skip. */
typedef struct skip_state {
    int done;
    unsigned depth;   /* JSON: nesting */
    int in_str, esc;  /* JSON: inside a string, after a backslash */
    int started;      /* JSON: the element's first bracket was seen */
    unsigned matched; /* XML: bytes of "</Event>" matched */
} skip_state;

/* Bytes of buf up to and including the end of the record being skipped (ss->done), or n. */
static size_t skip_scan(skip_state *ss, enum dh_record_end how, const char *b, size_t n)
{
    static const char end_tag[] = "</Event>";
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (how == DH_END_XML_ELEMENT) {
            ss->matched = c == end_tag[ss->matched] ? ss->matched + 1 : c == '<' ? 1 : 0;
            if (ss->matched == 8)
                goto end;
        } else if (how == DH_END_JSON_VALUE) {
            if (ss->in_str) {
                if (ss->esc)
                    ss->esc = 0;
                else if (c == '\\')
                    ss->esc = 1;
                else if (c == '"')
                    ss->in_str = 0;
            } else if (c == '"') {
                ss->in_str = 1;
            } else if (c == '{' || c == '[') {
                ss->depth++;
                ss->started = 1;
            } else if ((c == '}' || c == ']') && ss->depth && --ss->depth == 0 && ss->started) {
                goto end;
            }
        } else if (c == '\n') { /* JSON lines, Zeek, a CSV line */
            goto end;
        }
        continue;
    end:
        ss->done = 1;
        return i + 1;
    }
    return n;
}

/* A record over the cap (MAX_LINE_BYTES) is read past, not into memory, and said once: a
 * T_RECORD_SKIPPED task. Returns 1 (t filled) or 0 (out of memory). */
static int skip_record(scan *s, scan_task *t)
{
    stream *st = &s->str;
    enum dh_record_end how = st->rd->record_end;
    /* The record starts after what separates it from the previous one. */
    size_t lead = 0;
    while (lead < st->carry_len &&
           (st->carry[lead] == ' ' || st->carry[lead] == '\t' || st->carry[lead] == '\r' ||
            st->carry[lead] == '\n' || (st->carry[lead] == ',' && how != DH_END_CSV_RECORD)))
        st->line += st->carry[lead++] == '\n';
    memmove(st->carry, st->carry + lead, st->carry_len - lead);
    st->carry_len -= lead;
    st->offset += lead;
    uint64_t line0 = st->line, off0 = st->offset, bytes = 0;
    skip_state ss = {0};
    for (;;) {
        size_t k = skip_scan(&ss, how, st->carry, st->carry_len);
        for (const char *q = st->carry; (q = memchr(q, '\n', (size_t)(st->carry + k - q))); q++)
            st->line++;
        memmove(st->carry, st->carry + k, st->carry_len - k);
        st->carry_len -= k;
        st->offset += k;
        bytes += k;
        if (ss.done || st->eof)
            break;
        if (stream_fill(st, 1u << 20))
            return 0;
        if (!st->carry_len)
            break;
    }
    char msg[200];
    snprintf(msg, sizeof msg, "line %llu: record over %u MiB (%llu bytes), skipped",
             (unsigned long long)line0, MAX_LINE_BYTES >> 20, (unsigned long long)bytes);
    task_error(t, st->file, T_RECORD_SKIPPED, DH_ERR_LIMIT, msg);
    t->name = st->name;
    t->off = off0;
    return 1;
}

/* The next task of the current stream; 0 when the stream is done. */
static int stream_next(scan *s, scan_task *t)
{
    stream *st = &s->str;
    for (;;) {
        if (st->ar && !st->member_open) {
            int made;
            if (!next_member(s, t, &made))
                return made;
        }
        if (s->pending_pos < s->npending) { /* what stream_begin had to say comes first */
            *t = s->pending[s->pending_pos++];
            return 1;
        }
        if (!st->ar && !st->member_open)
            return 0;
        const dh_reader *rd = st->rd;
        memset(t, 0, sizeof *t);
        t->file = st->file;
        t->fd = -1;
        t->name = st->name;
        t->kind = T_UNIT;
        t->reader = rd;
        t->format = st->fmt;
        if (rd->chunk_size) {
            size_t unit = (size_t)CHUNKS_PER_TASK * rd->chunk_size;
            if (stream_fill(st, unit) || !st->carry_len) {
                st->member_open = 0;
                if (!st->ar)
                    return 0;
                continue;
            }
            size_t n = st->carry_len < unit ? st->carry_len : unit;
            t->buf = take_carry(st, n);
            t->buflen = n;
            t->chunk = st->chunk;
            t->off = st->offset;
            t->len = n;
            t->nchunks = (uint32_t)((n + rd->chunk_size - 1) / rd->chunk_size);
            st->chunk += t->nchunks;
            st->offset += n;
            return t->buf != NULL;
        }
        /* Text: a batch of whole events (XML elements, JSON lines or array elements); one
         * larger than the cap is cut there and reported by the parser. */
        if (stream_fill(st, BATCH_BYTES)) {
            task_error(t, st->file, T_FILE_ERROR, DH_ERR_IO, "read failed");
            t->name = st->name;
            st->member_open = 0;
            st->eof = 1;
            st->carry_len = 0;
            return 1;
        }
        if (!st->carry_len) {
            st->member_open = 0;
            if (!st->ar)
                return 0;
            continue;
        }
        if (rd->header && !st->have_hdr) {
            /* The header record: kept, and handed to every batch of this file. */
            size_t h = rd->header(st->carry, st->carry_len);
            if (!h && !st->eof && st->carry_len < MAX_LINE_BYTES) {
                if (stream_fill(st, st->carry_len * 2 < MAX_LINE_BYTES ? st->carry_len * 2
                                                                       : MAX_LINE_BYTES))
                    return 0;
                continue;
            }
            if (!h)
                h = st->carry_len;
            st->hdr.len = 0;
            if (dh_buf_append(&st->hdr, st->carry, h)) {
                task_error(t, st->file, T_FILE_ERROR, DH_ERR_FORMAT, "CSV header too long");
                t->name = st->name;
                st->member_open = 0;
                st->eof = 1;
                st->carry_len = 0;
                return 1;
            }
            st->have_hdr = 1;
            free(take_carry(st, h));
            st->offset += h;
            for (size_t k = 0; k < h; k++)
                st->line += st->hdr.data[k] == '\n';
            continue;
        }
        size_t n = st->eof ? st->carry_len : rd->cut(st->carry, st->carry_len, st->offset);
        if (!n) {
            if (st->carry_len < MAX_LINE_BYTES) {
                if (stream_fill(st, st->carry_len * 2 < MAX_LINE_BYTES ? st->carry_len * 2
                                                                       : MAX_LINE_BYTES))
                    return 0;
                continue;
            }
            /* No whole record in 16 MiB. CSV: a quote that never closes makes everything
             * after it look like one record; lines are the fallback (the reader resumes at
             * the next line that holds a well-formed record). Else, or a single line over
             * the cap: one record too large, skipped whole and said once. */
            const char *nl = NULL;
            if (rd->record_end == DH_END_CSV_RECORD)
                for (size_t k = st->carry_len; k-- > 0 && !nl;)
                    if (st->carry[k] == '\n')
                        nl = st->carry + k;
            if (!nl)
                return skip_record(s, t);
            n = (size_t)(nl - st->carry) + 1;
        }
        if (rd->header || rd->header_update) {
            t->hdr = malloc(st->hdr.len ? st->hdr.len : 1);
            if (!t->hdr)
                return 0;
            memcpy(t->hdr, st->hdr.data ? st->hdr.data : "", st->hdr.len);
            t->hdrlen = st->hdr.len;
        }
        t->line = st->line;
        t->off = st->offset;
        t->buf = take_carry(st, n);
        t->buflen = n;
        t->len = n;
        if (t->buf && rd->header_update &&
            rd->header_update(&st->hdr, t->buf, n)) /* the header after this batch */
            st->hdr.len = 0;
        if (t->buf) {
            const char *q = t->buf, *end = t->buf + n;
            uint64_t lines = 0;
            while ((q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
                lines++;
                q++;
            }
            st->line += lines;
        }
        st->offset += n;
        return t->buf != NULL;
    }
}

/* Starts reading a file as a stream (JSON lines, or an archive). */
static int stream_open(scan *s, size_t file, int fd, dh_format f, scan_task *t)
{
    stream *st = &s->str;
    memset(st, 0, sizeof *st);
    st->fd = -1;
    st->file = file;
    st->name = s->files.v[file];
    st->line = 1;
    dh_buf_init(&st->hdr, 1u << 20);
    if (f == DH_FORMAT_ARCHIVE) {
        close(fd);
        st->ar = archive_read_new();
        if (!st->ar)
            return -1;
        archive_formats(st->ar);
        if (archive_read_open_filename(st->ar, s->files.v[file], 1 << 16) != ARCHIVE_OK) {
            char msg[200];
            snprintf(msg, sizeof msg, "archive: %s", archive_error_string(st->ar));
            task_error(t, file, T_FILE_ERROR, DH_ERR_FORMAT, msg);
            archive_read_free(st->ar);
            st->ar = NULL;
            return 1;
        }
    } else {
        st->fd = fd;
        st->fmt = f;
        st->rd = dh_reader_for(f);
        st->member_open = 1;
    }
    st->active = 1;
    return 0;
}

/* Standard input, a named pipe, process substitution (<(...)), a character device: read
 * as a stream from fd, its first bytes recognised exactly as a file's would be. Returns
 * 0 (go on: the stream is active, or what to say is queued), 1 (t says why nothing is read
 * from it), -1 (out of memory). */
static int fd_stream_open(scan *s, size_t file, int fd, scan_task *t)
{
    stream *st = &s->str;
    memset(st, 0, sizeof *st);
    st->fd = fd;
    st->file = file;
    st->name = s->files.v[file];
    st->line = 1;
    dh_buf_init(&st->hdr, 1u << 20);
    if (stream_fill(st, 4096)) {
        task_error(t, file, T_FILE_ERROR, DH_ERR_IO, strerror(errno));
        stream_close(st);
        return 1;
    }
    dh_format f = dh_sniff((const uint8_t *)st->carry, st->carry_len);
    if (f == DH_FORMAT_ARCHIVE) {
        replay_client *c = calloc(1, sizeof *c);
        st->ar = archive_read_new();
        if (!c || !st->ar) {
            free(c);
            return -1;
        }
        c->head = st->carry;
        c->head_len = st->carry_len;
        c->fd = fd;
        st->carry = NULL;
        st->carry_len = 0;
        st->eof = 0;
        st->fd = -1; /* the replay client reads it; closed with the stream below */
        archive_formats(st->ar);
        if (archive_read_open(st->ar, c, NULL, replay_read, replay_close) != ARCHIVE_OK) {
            char msg[200];
            snprintf(msg, sizeof msg, "archive: %s", archive_error_string(st->ar));
            task_error(t, file, T_FILE_ERROR, DH_ERR_FORMAT, msg);
            stream_close(st);
            if (fd > 0)
                close(fd);
            return 1;
        }
        st->pipe_fd = fd;
    } else if (dh_reader_for(f)) {
        if (stream_begin(s, f) < 0)
            return -1;
    } else {
        task_error(t, file, T_FILE_UNKNOWN, DH_ERR_UNSUPPORTED,
                   st->carry_len ? "not a format dcomhunt reads" : "empty: nothing to read");
        stream_close(st);
        return 1;
    }
    st->active = 1;
    return 0;
}

static int next_task_time(scan *s, scan_task *t);

static int next_task_seq(scan *s, scan_task *t, int only_early);
static int evtx_file_notes(scan *s, size_t file, int fd, const evtx_layout *lay, const char *warn,
                           uint64_t size, uint64_t *nchunks);

static int next_task(void *ctx, void *task)
{
    scan *s = ctx;
    scan_task *t = task;
    if (s->time_mode && s->early_left) {
        if (next_task_seq(s, t, 1))
            return 1;
        s->early_left = 0;
    }
    if (s->time_mode) {
        int r = next_task_time(s, t);
        if (r)
            return r;
    }
    return next_task_seq(s, t, 0);
}

/* File by file: streams and unplanned EVTX files (only_early: the sensor logs, first). */
static int next_task_seq(scan *s, scan_task *t, int only_early)
{
    size_t *cur = only_early ? &s->early_cur : &s->cur;
    for (;;) {
        /* Notes about the file just opened (time order delivers its own first). */
        if (!only_early && s->pending_pos < s->npending) {
            *t = s->pending[s->pending_pos++];
            return 1;
        }
        if (s->str.active) {
            if (stream_next(s, t)) {
                /* progress in bytes of the file on disk: an archive's compressed bytes,
                 * not the decompressed ones (which ran past 100%) */
                stream *st = &s->str;
                uint64_t at = st->ar ? (uint64_t)archive_filter_bytes(st->ar, -1) : st->offset;
                t->in_stream = 1;
                t->progress = at > st->counted ? at - st->counted : 0;
                if (at > st->counted)
                    st->counted = at;
                return 1;
            }
            /* The stream is done: its file is read, unless it is an archive that held
             * nothing dcomhunt reads (then it is skipped like any such file). */
            size_t f = s->str.file;
            int none = s->str.ar && !s->str.members && !s->str.failed, raw = s->str.raw;
            stream_close(&s->str);
            if (only_early)
                s->planned[f] = 1; /* the later file-by-file pass skips it */
            memset(t, 0, sizeof *t);
            t->kind = T_FILE_END;
            if (none)
                task_error(t, f, T_FILE_UNKNOWN, DH_ERR_UNSUPPORTED,
                           raw ? "decompressed, not a format dcomhunt reads"
                               : "archive: no member in a format dcomhunt reads");
            t->file = f;
            t->fd = -1;
            t->chunk = -1;
            (*cur)++;
            return 1;
        }
        if (s->cur_open) {
            if (s->cur_chunk < s->cur_nchunks) {
                memset(t, 0, sizeof *t);
                t->kind = T_UNIT;
                t->reader = &dh_reader_evtx;
                t->format = DH_FORMAT_EVTX;
                t->file = *cur;
                t->fd = s->cur_fd;
                t->chunk = (int64_t)s->cur_chunk;
                t->off = s->cur_first + s->cur_chunk * EVTX_CHUNK_SIZE;
                uint64_t left = s->cur_nchunks - s->cur_chunk;
                t->nchunks = left < CHUNKS_PER_TASK ? (uint32_t)left : CHUNKS_PER_TASK;
                uint64_t end = t->off + (uint64_t)t->nchunks * EVTX_CHUNK_SIZE;
                t->len = (end > s->cur_size ? s->cur_size : end) - t->off;
                s->cur_chunk += t->nchunks;
                return 1;
            }
            memset(t, 0, sizeof *t);
            t->kind = T_FILE_END;
            t->file = *cur;
            t->fd = s->cur_fd;
            t->chunk = -1;
            s->cur_open = 0;
            (*cur)++;
            return 1;
        }
        while (*cur < s->files.n &&
               ((s->planned && s->planned[*cur]) || (only_early && !s->early[*cur])))
            (*cur)++;
        if (*cur >= s->files.n)
            return 0;
        const char *path = s->files.v[(*cur)];
        int pre = s->files.fd ? s->files.fd[*cur] : -1;
        if (pre >= 0 || !strcmp(path, "-")) {
            if (pre >= 0)
                s->files.fd[*cur] = -1; /* the stream owns it now */
            int r = fd_stream_open(s, *cur, pre >= 0 ? pre : 0, t);
            if (r < 0)
                return 0;
            if (r > 0) {
                (*cur)++;
                return 1;
            }
            continue;
        }
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            char msg[160];
            snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
            task_error(t, *cur, T_FILE_ERROR, DH_ERR_IO, msg);
            (*cur)++;
            return 1;
        }
        struct stat st;
        uint8_t head[4096]; /* a CSV header names its columns within this */
        ssize_t got = 0;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
            got = pread(fd, head, sizeof head, 0);
        else if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
            close(fd);
            (*cur)++;
            continue;
        }
        dh_format f = got > 0 ? dh_sniff(head, (size_t)got) : DH_FORMAT_UNKNOWN;
        if (f == DH_FORMAT_UNKNOWN) {
            close(fd);
            task_error(t, *cur, T_FILE_UNKNOWN, DH_ERR_UNSUPPORTED,
                       got < 0 ? "cannot read" : "not a format dcomhunt reads");
            (*cur)++;
            return 1;
        }
        const dh_reader *rd = dh_reader_for(f);
        if (rd && rd->not_events && !s->files.explicit_[*cur]) {
            char *peek = malloc(JSON_PEEK);
            ssize_t pn = peek ? pread(fd, peek, JSON_PEEK, 0) : -1;
            int other = pn > 0 && rd->not_events(peek, (size_t)pn);
            free(peek);
            if (other) {
                close(fd);
                task_error(t, *cur, T_FILE_UNKNOWN, DH_ERR_UNSUPPORTED,
                           "JSON, but not events of a kind dcomhunt reads");
                (*cur)++;
                return 1;
            }
        }
        if (!rd || rd->cut) { /* an archive, or text: read as a stream */
            int r = stream_open(s, *cur, fd, f, t);
            if (r < 0)
                return 0;
            if (r > 0) {
                (*cur)++;
                return 1;
            }
            continue;
        }
        evtx_layout lay;
        const char *warn = NULL;
        if (evtx_file_layout(head, (size_t)got, (uint64_t)st.st_size, f == DH_FORMAT_EVTX_CHUNK,
                             &lay, &warn) != DH_OK) {
            close(fd);
            task_error(t, *cur, T_FILE_ERROR, DH_ERR_FORMAT, "EVTX file header truncated");
            (*cur)++;
            return 1;
        }
#ifdef POSIX_FADV_SEQUENTIAL
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
        s->cur_fd = fd;
        s->cur_open = 1;
        s->cur_chunk = 0;
        s->cur_first = lay.first_chunk;
        s->cur_size = (uint64_t)st.st_size;
        if (evtx_file_notes(s, *cur, fd, &lay, warn, s->cur_size, &s->cur_nchunks))
            return 0;
    }
}

static int plan_cmp(const void *pa, const void *pb)
{
    const plan_entry *a = pa, *b = pb;
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    if (a->file != b->file)
        return a->file < b->file ? -1 : 1;
    return a->chunk < b->chunk ? -1 : a->chunk > b->chunk;
}

static int push_pending(scan *s, size_t file, int kind, dh_status st, const char *msg)
{
    scan_task *p = realloc(s->pending, (s->npending + 1) * sizeof *p);
    if (!p)
        return -1;
    s->pending = p;
    task_error(&s->pending[s->npending++], file, kind, st, msg);
    return 0;
}

/* What the opening of an EVTX file has to say (a cut file, a header checksum, junk after
 * the last chunk), queued as notes; *nchunks: the chunks worth reading. -1: no memory. */
static int evtx_file_notes(scan *s, size_t file, int fd, const evtx_layout *lay, const char *warn,
                           uint64_t size, uint64_t *nchunks)
{
    char msg[200];
    if (lay->truncated_chunks) {
        snprintf(msg, sizeof msg,
                 "file truncated: its header lists %llu chunks, the file holds %llu",
                 (unsigned long long)lay->truncated_chunks, (unsigned long long)lay->nchunks);
        if (push_pending(s, file, T_FILE_TRUNCATED, DH_ERR_FORMAT, msg))
            return -1;
    } else if (warn && push_pending(s, file, T_FILE_NOTE, DH_ERR_CHECKSUM, warn)) {
        return -1;
    }
    uint64_t junk_from;
    dh_status jst;
    *nchunks = evtx_trailing_junk(fd, lay, size, &junk_from, &jst);
    if (*nchunks < lay->nchunks) {
        junk_note(msg, sizeof msg, junk_from, size);
        if (push_pending(s, file, T_FILE_NOTE, DH_ERR_FORMAT, msg))
            return -1;
        s->pending[s->npending - 1].off = junk_from;
    }
    return 0;
}

/* Opens the first MAX_OPEN_FILES files, peeks at each chunk's first record time, and
 * orders all their chunks by it. Files past the cap are read file by file afterwards. */
static dh_status plan_time_order(scan *s)
{
    size_t nf = s->files.n < MAX_OPEN_FILES ? s->files.n : MAX_OPEN_FILES;
    s->planned = calloc(s->files.n ? s->files.n : 1, 1);
    s->early = calloc(s->files.n ? s->files.n : 1, 1);
    s->fds = malloc((nf ? nf : 1) * sizeof *s->fds);
    s->sizes = calloc(nf ? nf : 1, sizeof *s->sizes);
    s->firsts = calloc(nf ? nf : 1, sizeof *s->firsts);
    if (!s->fds || !s->sizes || !s->firsts || !s->planned || !s->early)
        return DH_ERR_NOMEM;
    size_t cap = 0;
    for (size_t f = 0; f < nf; f++) {
        s->fds[f] = -1;
        const char *path = s->files.v[f];
        if (!strcmp(path, "-") || (s->files.fd && s->files.fd[f] >= 0))
            continue; /* standard input and pipes are read as streams, after the plan */
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            char msg[160];
            snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
            s->planned[f] = 1;
            if (push_pending(s, f, T_FILE_ERROR, DH_ERR_IO, msg))
                return DH_ERR_NOMEM;
            continue;
        }
        struct stat st;
        uint8_t head[512];
        ssize_t got = 0;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
            got = pread(fd, head, sizeof head, 0);
        dh_format fmt = got > 0 ? dh_sniff(head, (size_t)got) : DH_FORMAT_UNKNOWN;
        evtx_layout lay;
        const char *warn = NULL;
        const dh_reader *rd = dh_reader_for(fmt);
        if (!rd || !rd->chunk_size) {
            close(fd); /* read later, file by file, by the stream producer */
            /* Network sensor logs (Zeek, TSV or JSON): evidence that joins the chains of
             * the host logs, so it is read first and held (it does not move the
             * correlator's clock); read after time-ordered host logs, it would come when
             * their chains were closed. */
            if (rd && rd->sensor && rd->sensor(head, (size_t)got)) {
                s->early[f] = 1; /* ... but before the planned chunks */
                s->early_left = 1;
            }
            continue;
        }
        s->planned[f] = 1;
        if (evtx_file_layout(head, (size_t)got, (uint64_t)st.st_size, fmt == DH_FORMAT_EVTX_CHUNK,
                             &lay, &warn) != DH_OK) {
            close(fd);
            if (push_pending(s, f, T_FILE_ERROR, DH_ERR_FORMAT, "EVTX file header truncated"))
                return DH_ERR_NOMEM;
            continue;
        }
        uint64_t nchunks;
        if (evtx_file_notes(s, f, fd, &lay, warn, (uint64_t)st.st_size, &nchunks))
            return DH_ERR_NOMEM;
        lay.nchunks = nchunks;
        s->fds[f] = fd;
        s->sizes[f] = (uint64_t)st.st_size;
        s->firsts[f] = lay.first_chunk;
        int64_t prev = 0;
        for (uint64_t k = 0; k < lay.nchunks && k < UINT32_MAX; k++) {
            uint8_t rec[24];
            uint64_t off = lay.first_chunk + k * EVTX_CHUNK_SIZE + EVTX_CHUNK_HEADER_SIZE;
            if (pread(fd, rec, sizeof rec, (off_t)off) == (ssize_t)sizeof rec &&
                !memcmp(rec, "\x2a\x2a\x00\x00", 4))
                prev = (int64_t)rd64(rec + 16);
            if (s->nplan == cap) {
                cap = cap ? cap * 2 : 1024;
                plan_entry *np = realloc(s->plan, cap * sizeof *np);
                if (!np)
                    return DH_ERR_NOMEM;
                s->plan = np;
            }
            s->plan[s->nplan++] = (plan_entry){prev, (uint32_t)f, (uint32_t)k};
        }
    }
    if (s->nplan > 1) /* qsort must not be given a null array */
        qsort(s->plan, s->nplan, sizeof *s->plan, plan_cmp);
    s->planned_files = nf;
    s->cur = 0; /* the file-by-file producer then takes what was not planned */
    return DH_OK;
}

/* Time-order producer: pending notes, then chunks by time (runs of consecutive chunks of
 * one file go together), then the planned files' ends. Returns 0 when done with them. */
static int next_task_time(scan *s, scan_task *t)
{
    if (s->pending_pos < s->npending) {
        *t = s->pending[s->pending_pos++];
        return 1;
    }
    if (s->plan_pos < s->nplan) {
        plan_entry *e = &s->plan[s->plan_pos++];
        memset(t, 0, sizeof *t);
        t->kind = T_UNIT;
        t->reader = &dh_reader_evtx;
        t->format = DH_FORMAT_EVTX;
        t->file = e->file;
        t->fd = s->fds[e->file];
        t->chunk = e->chunk;
        t->off = s->firsts[e->file] + (uint64_t)e->chunk * EVTX_CHUNK_SIZE;
        t->nchunks = 1;
        while (t->nchunks < CHUNKS_PER_TASK && s->plan_pos < s->nplan &&
               s->plan[s->plan_pos].file == e->file &&
               s->plan[s->plan_pos].chunk == e->chunk + t->nchunks) {
            s->plan_pos++;
            t->nchunks++;
        }
        uint64_t end = t->off + (uint64_t)t->nchunks * EVTX_CHUNK_SIZE;
        t->len = (end > s->sizes[e->file] ? s->sizes[e->file] : end) - t->off;
        return 1;
    }
    while (s->end_pos < s->planned_files) {
        size_t f = s->end_pos++;
        if (s->fds[f] < 0)
            continue;
        memset(t, 0, sizeof *t);
        t->kind = T_FILE_END;
        t->file = f;
        t->fd = s->fds[f];
        t->chunk = -1;
        s->fds[f] = -1;
        return 1;
    }
    return 0;
}

static void result_init(void *r)
{
    scan_result *res = r;
    memset(res, 0, sizeof *res);
    dh_buf_init(&res->out, OUT_LIMIT);
}

static void result_fini(void *r)
{
    scan_result *res = r;
    dh_buf_free(&res->out);
    free(res->errs);
}

static void unit_error(void *ctx, dh_status st, int64_t chunk, uint64_t offset, uint64_t record_id,
                       const char *msg);
static dh_status unit_event(void *ctx, const dh_event *ev);

static void *worker_new(void *ctx)
{
    scan *s = ctx;
    worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->s = s;
    w->sink = (dh_reader_sink){unit_event, unit_error, w};
    if (s->cb->worker_new)
        w->user = s->cb->worker_new(s->cb->ctx);
    return w;
}

static void worker_free(void *ctx, void *wctx)
{
    scan *s = ctx;
    worker *w = wctx;
    if (!w)
        return;
    if (s->cb->worker_free)
        s->cb->worker_free(w->user);
    size_t nrows;
    const dh_reader *const *rows = dh_reader_rows(&nrows);
    for (size_t i = 0; i < nrows; i++)
        if (w->state[rows[i]->format])
            rows[i]->state_free(w->state[rows[i]->format]);
    free(w);
}

static void unit_error(void *ctx, dh_status st, int64_t chunk, uint64_t offset, uint64_t record_id,
                       const char *msg)
{
    worker *w = ctx;
    scan_result *res = w->res;
    if (res->nerrs >= MAX_ERRORS_PER_UNIT) {
        res->errs_dropped++;
        return;
    }
    if (!res->errs) {
        res->errs = malloc(MAX_ERRORS_PER_UNIT * sizeof *res->errs);
        if (!res->errs) {
            res->errs_dropped++;
            return;
        }
    }
    dh_error *e = &res->errs[res->nerrs++];
    memset(e, 0, sizeof *e);
    e->status = st;
    e->chunk = chunk;
    e->offset = offset;
    e->record_id = record_id;
    snprintf(e->message, sizeof e->message, "%s", msg);
}

static dh_status unit_event(void *ctx, const dh_event *ev)
{
    worker *w = ctx;
    return w->s->cb->on_event(w->user, ev, &w->res->out);
}

/* The reader row's state of this worker, made on its first unit (NULL: no memory). */
static void *reader_state(worker *w, const dh_reader *rd)
{
    if (!w->tried[rd->format]) {
        w->tried[rd->format] = 1;
        w->state[rd->format] = rd->state_new(w->s->opts);
    }
    return w->state[rd->format];
}

/* Worker thread: one unit through its reader. */
static void work(void *ctx, void *wctx, void *task, void *result)
{
    scan *s = ctx;
    worker *w = wctx;
    scan_task *t = task;
    scan_result *res = result;
    res->out.len = 0;
    res->nerrs = 0;
    res->errs_dropped = 0;
    res->st = DH_OK;
    memset(&res->r, 0, sizeof res->r);
    if (t->kind != T_UNIT)
        return;
    void *state = w ? reader_state(w, t->reader) : NULL;
    if (!state) {
        res->st = DH_ERR_NOMEM;
        return;
    }
    w->res = res;
    dh_reader_unit u = {
        .format = t->format,
        .file = t->name ? t->name : s->files.v[t->file],
        .buf = t->buf,
        .len = t->len,
        .hdr = t->hdr,
        .hdrlen = t->hdrlen,
        .fd = t->fd,
        .offset = t->off,
        .line = t->line,
        .chunk = t->chunk,
        .nchunks = t->nchunks,
    };
    res->st = t->reader->decode(state, &u, &w->sink, &res->r);
}

static void report(scan *s, const dh_error *e)
{
    s->stats->errors++;
    if (s->cb->on_error)
        s->cb->on_error(s->cb->ctx, e);
}

static void fill_error(dh_error *e, const char *file, dh_status st, int64_t chunk, uint64_t off,
                       uint64_t rid, const char *msg)
{
    memset(e, 0, sizeof *e);
    e->status = st;
    e->chunk = chunk;
    e->offset = off;
    e->record_id = rid;
    snprintf(e->file, sizeof e->file, "%s", file);
    snprintf(e->message, sizeof e->message, "%s", msg);
}

/* The pending junk of an EVTX stream is settled: damage (a chunk followed) or trailing
 * data (the stream ended), said once. */
static void junk_settle(scan *s, int damage)
{
    dh_reader_junk *j = &s->junk;
    const char *file = j->name ? j->name : s->files.v[j->file];
    char msg[200];
    dh_error e;
    if (damage) {
        s->partial = 1;
        s->stats->chunks_damaged += j->n;
        dh_reader_junk_msg(msg, sizeof msg, j);
        fill_error(&e, file, DH_ERR_FORMAT, j->chunk, j->off, 0, msg);
    } else {
        junk_note(msg, sizeof msg, j->off, j->end);
        fill_error(&e, file, DH_ERR_FORMAT, -1, j->off, 0, msg);
    }
    report(s, &e);
    memset(j, 0, sizeof *j);
}

static dh_status deliver(void *ctx, void *task, void *result)
{
    scan *s = ctx;
    scan_task *t = task;
    scan_result *res = result;
    const char *file = t->name ? t->name : s->files.v[t->file];
    dh_error e;
    int chunked = t->kind == T_UNIT && t->reader->chunk_size;
    if (s->junk.n && (!chunked || t->file != s->junk.file || t->name != s->junk.name))
        junk_settle(s, 0); /* that stream ended with junk */
    else if (s->junk.n && res->r.has_chunk)
        junk_settle(s, 1); /* a chunk followed */
    free(t->buf);          /* the worker is done with it */
    t->buf = NULL;
    free(t->hdr);
    t->hdr = NULL;
    switch (t->kind) {
    case T_FILE_ERROR:
        s->stats->files_skipped++;
        s->partial = 1;
        fill_error(&e, file, t->st, -1, 0, 0, t->msg);
        report(s, &e);
        return DH_OK;
    case T_FILE_UNKNOWN:
        s->stats->files_skipped++;
        if (s->files.explicit_[t->file]) {
            s->partial = 1;
            fill_error(&e, file, t->st, -1, 0, 0, t->msg);
            report(s, &e);
        }
        return DH_OK;
    case T_FILE_TRUNCATED: /* the chunks that are there are still read */
        s->partial = 1;
        fill_error(&e, file, t->st, -1, 0, 0, t->msg);
        report(s, &e);
        return DH_OK;
    case T_RECORD_SKIPPED: /* the rest of the file is still read */
        s->partial = 1;
        s->stats->records_damaged++;
        fill_error(&e, file, t->st, -1, t->off, 0, t->msg);
        report(s, &e);
        return DH_OK;
    case T_FILE_NOTE: /* a warning: nothing is skipped */
        fill_error(&e, file, t->st, -1, t->off, 0, t->msg);
        report(s, &e);
        return DH_OK;
    case T_FILE_END:
        if (t->fd >= 0)
            close(t->fd);
        s->stats->files_read++;
        return DH_OK;
    }
    if (!chunked)
        s->stats->batches++;
    s->stats->chunks += res->r.chunks_done;
    s->stats->bytes_read += t->len;
    s->stats->records += res->r.records;
    s->stats->records_damaged += res->r.records_bad;
    s->stats->records_unused += res->r.unused;
    if (res->r.damaged) {
        s->stats->chunks_damaged += res->r.damaged;
        s->partial = 1;
    }
    for (size_t i = 0; i < res->nerrs; i++) {
        snprintf(res->errs[i].file, sizeof res->errs[i].file, "%s", file);
        report(s, &res->errs[i]);
    }
    if (chunked && res->r.junk.n) {
        if (s->junk.n) { /* the same run, across tasks */
            s->junk.n += res->r.junk.n;
            s->junk.end = res->r.junk.end;
        } else {
            s->junk = res->r.junk;
            s->junk.file = t->file;
            s->junk.name = t->name;
        }
    }
    if (res->errs_dropped) {
        char msg[96];
        snprintf(msg, sizeof msg, "%llu more problems in these chunks not shown",
                 (unsigned long long)res->errs_dropped);
        fill_error(&e, file, DH_ERR_FORMAT, t->chunk, t->off, 0, msg);
        report(s, &e);
    }
    s->progress += t->in_stream ? t->progress : t->len;
    if (s->cb->on_progress)
        s->cb->on_progress(
            s->cb->ctx, s->progress < s->stats->bytes_total ? s->progress : s->stats->bytes_total,
            s->stats->bytes_total);
    if (res->st != DH_OK)
        return res->st;
    if (res->out.len && s->cb->emit)
        return s->cb->emit(s->cb->ctx, res->out.data, res->out.len);
    return DH_OK;
}

/* A named pipe, process substitution (/dev/fd/N), a device or socket named on the command
 * line is opened before the scan, without blocking, and read later as a stream like
 * standard input. A named pipe that nothing writes to yet would block the open (and the
 * whole scan) without a word: dcomhunt says what it waits for, then waits for a writer. */
static dh_status open_special(scan *s, size_t file, const struct stat *sb)
{
    if (!s->files.fd) {
        s->files.fd = malloc(s->files.cap * sizeof *s->files.fd);
        if (!s->files.fd)
            return DH_ERR_NOMEM;
        for (size_t k = 0; k < s->files.cap; k++)
            s->files.fd[k] = -1;
    }
    const char *path = s->files.v[file];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return DH_OK; /* said when its turn comes: "cannot open" */
    if (S_ISFIFO(sb->st_mode)) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int r;
        while ((r = poll(&pf, 1, FIFO_NOTICE_MS)) < 0 && errno == EINTR)
            ;
        if (r == 0 && s->cb->on_error) {
            dh_error e;
            fill_error(&e, path, DH_OK, -1, 0, 0,
                       "waiting for a writer: nothing has opened this named pipe for writing "
                       "yet (dcomhunt reads it once something does; interrupt to stop)");
            s->cb->on_error(s->cb->ctx, &e);
            while (poll(&pf, 1, -1) < 0 && errno == EINTR)
                ;
        }
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    s->files.fd[file] = fd;
    return DH_OK;
}

void dh_scan_opts_init(dh_scan_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->recurse = 1;
}

dh_status dh_scan_run(const char *const *paths, size_t npaths, const dh_scan_opts *opts,
                      const dh_scan_callbacks *cb, dh_scan_stats *stats)
{
    dh_scan_stats local_stats;
    if (!stats)
        stats = &local_stats;
    memset(stats, 0, sizeof *stats);
    if (!cb || !cb->on_event || (npaths && !paths))
        return DH_ERR_ARG;
    dh_scan_opts defaults;
    if (!opts) {
        dh_scan_opts_init(&defaults);
        opts = &defaults;
    }
    scan s = {.opts = opts, .cb = cb, .stats = stats, .cur_fd = -1};
    s.str.fd = -1;
    dh_status st = DH_OK;
    for (size_t i = 0; i < npaths; i++) {
        struct stat sb;
        if (!strcmp(paths[i], "-")) {
            stats->files_seen++;
            if (add_path(&s.files, paths[i], 1) != 0) {
                st = DH_ERR_NOMEM;
                goto done;
            }
            continue;
        }
        if (stat(paths[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (opts->recurse)
                walk_dir(&s, paths[i], 0);
        } else {
            stats->files_seen++;
            int special = stat(paths[i], &sb) == 0 && !S_ISREG(sb.st_mode);
            if (!special)
                stats->bytes_total += (uint64_t)sb.st_size;
            if (add_path(&s.files, paths[i], 1) != 0) {
                st = DH_ERR_NOMEM;
                goto done;
            }
            if (special && (st = open_special(&s, s.files.n - 1, &sb)) != DH_OK)
                goto done;
        }
    }
    unsigned threads = opts->threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    if (threads > 256)
        threads = 256;
    if (opts->time_order) {
        s.time_mode = 1;
        st = plan_time_order(&s);
        if (st != DH_OK)
            goto done;
    }
    dh_pipeline_ops ops = {
        .ctx = &s,
        .task_size = sizeof(scan_task),
        .result_size = sizeof(scan_result),
        .next = next_task,
        .worker_new = worker_new,
        .worker_free = worker_free,
        .work = work,
        .deliver = deliver,
        .result_init = result_init,
        .result_fini = result_fini,
    };
    st = dh_pipeline_run(&ops, threads, threads * 4);
    if (s.junk.n)
        junk_settle(&s, 0);
    if (s.cur_open && s.cur_fd >= 0)
        close(s.cur_fd);
    if (st == DH_OK && s.partial)
        st = DH_ERR_FORMAT;
done:
    for (size_t f = 0; s.fds && f < s.planned_files; f++)
        if (s.fds[f] >= 0)
            close(s.fds[f]);
    free(s.fds);
    free(s.sizes);
    free(s.firsts);
    free(s.plan);
    free(s.pending);
    free(s.planned);
    free(s.early);
    if (s.str.active || s.str.ar || s.str.carry)
        stream_close(&s.str);
    for (size_t i = 0; i < s.nnames; i++)
        free(s.names[i]);
    free(s.names);
    for (size_t i = 0; i < s.files.n; i++)
        free(s.files.v[i]);
    for (size_t i = 0; s.files.fd && i < s.files.n; i++)
        if (s.files.fd[i] >= 0)
            close(s.files.fd[i]);
    free(s.files.v);
    free(s.files.explicit_);
    free(s.files.fd);
    return st;
}
