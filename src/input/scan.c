/* The scan: dh_scan_run (include/dcomhunt/scan.h), dh_scan_run_buffer (input/buffer.h)
 * and their producer. Paths become files (walk.c), files become units in input order
 * here, file by file (streams and archives: stream.c, archive.c) or by time (plan.c), and
 * units go through the worker pool (pipeline.c). Files are read with pread, never mapped,
 * so resident memory does not grow with the file; a caller's buffer is read as a file
 * holding its bytes, where it lies (memory.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/evtx_format.h"
#include "input/buffer.h"
#include "input/archive_lazy.h"
#include "input/scan_impl.h"

enum { NEXT_STOP = -1, NEXT_AGAIN = 0, NEXT_TASK = 1 };

/* The open stream's next unit, or the end of its file. */
static int stream_task(scan *s, scan_task *t, size_t *cur, int only_early)
{
    if (scan_stream_next(s, t)) {
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
    scan_stream_close(&s->str);
    if (only_early)
        s->planned[f] = 1; /* the later file-by-file pass skips it */
    memset(t, 0, sizeof *t);
    t->kind = T_FILE_END;
    if (none)
        scan_task_error(t, f, T_FILE_UNKNOWN, DH_ERR_UNSUPPORTED,
                        raw ? "decompressed, not a format dcomhunt reads"
                            : "archive: no member in a format dcomhunt reads");
    t->file = f;
    t->fd = -1;
    t->chunk = -1;
    (*cur)++;
    return 1;
}

/* The open EVTX file's next run of chunks, or its end. */
static int chunk_task(scan *s, scan_task *t, size_t *cur)
{
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
        scan_task_memory(s, t);
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

/* Opens the file at *cur and sniffs it: a stream is opened (text, archive, pipe), or the
 * EVTX file's layout read for chunk_task; what cannot be read becomes the task. */
static int open_file(scan *s, scan_task *t, size_t *cur)
{
    const char *path = s->files.v[(*cur)];
    int pre = s->files.fd ? s->files.fd[*cur] : -1;
    if (!s->mem && (pre >= 0 || !strcmp(path, "-"))) {
        if (pre >= 0)
            s->files.fd[*cur] = -1; /* the stream owns it now */
        int r = scan_fd_stream_open(s, *cur, pre >= 0 ? pre : 0, t);
        if (r < 0)
            return NEXT_STOP;
        if (r > 0) {
            (*cur)++;
            return NEXT_TASK;
        }
        return NEXT_AGAIN;
    }
    /* The caller's buffer (dh_scan_run_buffer) is read as a regular file of its size. */
    int fd = s->mem ? SCAN_FD_MEMORY : open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        char msg[160];
        snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
        scan_task_error(t, *cur, T_FILE_ERROR, DH_ERR_IO, msg);
        (*cur)++;
        return NEXT_TASK;
    }
    struct stat st;
    uint8_t head[4096]; /* a CSV header names its columns within this */
    ssize_t got = 0;
    if (s->mem) {
        memset(&st, 0, sizeof st);
        st.st_size = (off_t)s->mem_len;
        got = scan_read_at(s, fd, head, sizeof head, 0);
    } else if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        got = pread(fd, head, sizeof head, 0);
    else if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        (*cur)++;
        return NEXT_AGAIN;
    }
    dh_format f = got > 0 ? dh_sniff(head, (size_t)got) : DH_FORMAT_UNKNOWN;
    if (f == DH_FORMAT_UNKNOWN) {
        scan_close_fd(fd);
        scan_task_error(t, *cur, T_FILE_UNKNOWN, DH_ERR_UNSUPPORTED,
                        got < 0 ? "cannot read" : "not a format dcomhunt reads");
        (*cur)++;
        return NEXT_TASK;
    }
    const dh_reader *rd = dh_reader_for(f);
    if (rd && rd->not_events && !s->files.explicit_[*cur]) {
        char *peek = malloc(JSON_PEEK);
        ssize_t pn = peek ? scan_read_at(s, fd, peek, JSON_PEEK, 0) : -1;
        int other = pn > 0 && rd->not_events(peek, (size_t)pn);
        free(peek);
        if (other) {
            scan_close_fd(fd);
            scan_task_error(t, *cur, T_FILE_UNKNOWN, DH_ERR_UNSUPPORTED,
                            "JSON, but not events of a kind dcomhunt reads");
            (*cur)++;
            return NEXT_TASK;
        }
    }
    if (!rd || rd->cut) { /* an archive, or text: read as a stream */
        int r = scan_stream_open(s, *cur, fd, f, t);
        if (r < 0)
            return NEXT_STOP;
        if (r > 0) {
            (*cur)++;
            return NEXT_TASK;
        }
        return NEXT_AGAIN;
    }
    evtx_layout lay;
    const char *warn = NULL;
    if (evtx_file_layout(head, (size_t)got, (uint64_t)st.st_size, f == DH_FORMAT_EVTX_CHUNK, &lay,
                         &warn) != DH_OK) {
        scan_close_fd(fd);
        scan_task_error(t, *cur, T_FILE_ERROR, DH_ERR_FORMAT, "EVTX file header truncated");
        (*cur)++;
        return NEXT_TASK;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    if (fd >= 0)
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    s->cur_fd = fd;
    s->cur_open = 1;
    s->cur_chunk = 0;
    s->cur_first = lay.first_chunk;
    s->cur_size = (uint64_t)st.st_size;
    if (scan_evtx_file_notes(s, *cur, fd, &lay, warn, s->cur_size, &s->cur_nchunks))
        return NEXT_STOP;
    return NEXT_AGAIN; /* its chunks come from chunk_task */
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
        if (s->str.active)
            return stream_task(s, t, cur, only_early);
        if (s->cur_open)
            return chunk_task(s, t, cur);
        while (*cur < s->files.n &&
               ((s->planned && s->planned[*cur]) || (only_early && !s->early[*cur])))
            (*cur)++;
        if (*cur >= s->files.n)
            return 0;
        int r = open_file(s, t, cur);
        if (r != NEXT_AGAIN)
            return r == NEXT_TASK;
    }
}

/* The producer: the next unit in input order. Called with the pipeline lock held. */
int scan_next_task(void *ctx, void *task)
{
    scan *s = ctx;
    scan_task *t = task;
    if (s->time_mode && s->early_left) {
        if (next_task_seq(s, t, 1))
            return 1;
        s->early_left = 0;
    }
    if (s->time_mode) {
        int r = scan_next_task_time(s, t);
        if (r)
            return r;
    }
    return next_task_seq(s, t, 0);
}

void dh_scan_opts_init(dh_scan_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->recurse = 1;
}

/* A caller's buffer to read instead of paths (dh_scan_run_buffer). */
typedef struct mem_input {
    const void *data;
    size_t len;
    const char *name;
} mem_input;

/* dh_scan_run and dh_scan_run_buffer: the paths, or the buffer as the one file. */
static dh_status run(const char *const *paths, size_t npaths, const mem_input *mem,
                     const dh_scan_opts *opts, const dh_scan_callbacks *cb, dh_scan_stats *stats)
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
    if (mem) {
        /* An empty buffer is an empty file, not "no input": the pointer only has to be
         * non-NULL to say the scan reads memory. */
        s.mem = mem->len ? mem->data : (const uint8_t *)"";
        s.mem_len = mem->len;
        stats->files_seen = 1;
        stats->bytes_total = mem->len;
        if (scan_add_path(&s.files, mem->name, 1) != 0)
            st = DH_ERR_NOMEM;
    } else {
        st = scan_collect(&s, paths, npaths);
    }
    if (st != DH_OK)
        goto done;
    unsigned threads = opts->threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    if (threads > 256)
        threads = 256;
    if (opts->time_order) {
        s.time_mode = 1;
        st = scan_plan_time_order(&s);
        if (st != DH_OK)
            goto done;
    }
    st = scan_pipeline_run(&s, threads, scan_next_task);
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
        scan_stream_close(&s.str);
    for (size_t i = 0; i < s.nnames; i++)
        free(s.names[i]);
    free(s.names);
    scan_paths_free(&s.files);
    return st;
}

dh_status dh_scan_run(const char *const *paths, size_t npaths, const dh_scan_opts *opts,
                      const dh_scan_callbacks *cb, dh_scan_stats *stats)
{
    return run(paths, npaths, NULL, opts, cb, stats);
}

dh_status dh_scan_run_buffer(const void *data, size_t len, const char *name,
                             const dh_scan_opts *opts, const dh_scan_callbacks *cb,
                             dh_scan_stats *stats)
{
    if ((!data && len) || !name) {
        if (stats)
            memset(stats, 0, sizeof *stats);
        return DH_ERR_ARG;
    }
    mem_input m = {data, len, name};
    return run(NULL, 0, &m, opts, cb, stats);
}
