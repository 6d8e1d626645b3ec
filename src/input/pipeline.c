/* The decode pipeline: units from the producer go to the worker pool (core/pool.h), each
 * decoded by its reader row into events handed to the caller's on_event on the worker;
 * results come back in input order, where stats are counted, errors reported and each
 * unit's output emitted. EVTX streams' junk chunks are settled here, in input order, as
 * damage or trailing data.
 *
 * Memory: each in-flight unit holds its bytes (or one 64 KiB chunk buffer per worker)
 * and its output; the pipeline window caps the units in flight, so a 10 GB file needs no
 * more than a 10 MB one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pool.h"
#include "input/scan_impl.h"

typedef struct worker {
    scan *s;
    void *state[DH_FORMAT_COUNT]; /* per reader row, made on its first unit */
    unsigned char tried[DH_FORMAT_COUNT];
    void *user;
    scan_result *res; /* the unit being decoded */
    dh_reader_sink sink;
} worker;

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
        .in_file = t->borrowed,
    };
    res->st = t->reader->decode(state, &u, &w->sink, &res->r);
    /* The unit's bytes go now, on the thread that read them, not at delivery: a task
     * waiting in the window for its turn then holds its output only (JSON lines: 4 MiB
     * units, 8 in the window at -j2 were 32 MiB and the heap's largest fragments). A
     * borrowed unit (the caller's buffer) is not ours to free. */
    if (!t->borrowed) {
        free(t->buf);
        t->buf = NULL;
    }
}

static void report(scan *s, const dh_error *e)
{
    s->stats->errors++;
    if (s->cb->on_error)
        s->cb->on_error(s->cb->ctx, e);
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
        scan_fill_error(&e, file, DH_ERR_FORMAT, j->chunk, j->off, 0, msg);
    } else {
        scan_junk_note(msg, sizeof msg, j->off, j->end);
        scan_fill_error(&e, file, DH_ERR_FORMAT, -1, j->off, 0, msg);
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
    if (!t->borrowed)
        free(t->buf); /* the worker is done with it */
    t->buf = NULL;
    free(t->hdr);
    t->hdr = NULL;
    switch (t->kind) {
    case T_FILE_ERROR:
        s->stats->files_skipped++;
        s->partial = 1;
        scan_fill_error(&e, file, t->st, -1, 0, 0, t->msg);
        report(s, &e);
        return DH_OK;
    case T_FILE_UNKNOWN:
        s->stats->files_skipped++;
        if (s->files.explicit_[t->file]) {
            s->partial = 1;
            scan_fill_error(&e, file, t->st, -1, 0, 0, t->msg);
            report(s, &e);
        }
        return DH_OK;
    case T_FILE_TRUNCATED: /* the chunks that are there are still read */
        s->partial = 1;
        scan_fill_error(&e, file, t->st, -1, 0, 0, t->msg);
        report(s, &e);
        return DH_OK;
    case T_RECORD_SKIPPED: /* the rest of the file is still read */
        s->partial = 1;
        s->stats->records_damaged++;
        scan_fill_error(&e, file, t->st, -1, t->off, 0, t->msg);
        report(s, &e);
        return DH_OK;
    case T_FILE_NOTE: /* a warning: nothing is skipped */
        scan_fill_error(&e, file, t->st, -1, t->off, 0, t->msg);
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
        scan_fill_error(&e, file, DH_ERR_FORMAT, t->chunk, t->off, 0, msg);
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

dh_status scan_pipeline_run(scan *s, unsigned threads, int (*next)(void *ctx, void *task))
{
    dh_pipeline_ops ops = {
        .ctx = s,
        .task_size = sizeof(scan_task),
        .result_size = sizeof(scan_result),
        .next = next,
        .worker_new = worker_new,
        .worker_free = worker_free,
        .work = work,
        .deliver = deliver,
        .result_init = result_init,
        .result_fini = result_fini,
    };
    dh_status st = dh_pipeline_run(&ops, threads, threads * 4);
    if (s->junk.n)
        junk_settle(s, 0);
    return st;
}
