/* The time-order plan: with time_order, the chunks of all EVTX files (up to
 * MAX_OPEN_FILES of them, kept open) are read in order of their first record's time, not
 * file by file, which is what a time-windowed correlator needs. Network sensor logs are
 * marked to be read before the planned chunks; other files are read file by file after.
 *
 * The order is that of sorting every chunk by (time, file, chunk), made without holding
 * every chunk: each file is cut into runs whose times do not decrease, and the runs are
 * merged through a heap, a chunk's time read again (24 bytes) when its run reaches it. A
 * log is one run (a few when it wrapped), so memory follows the files: 512 files of
 * 100 MB made 780,000 entries of 16 bytes before (25 MB while the array grew). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/evtx_format.h"
#include "input/scan_impl.h"

static int plan_cmp(const plan_entry *a, const plan_entry *b)
{
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    if (a->file != b->file)
        return a->file < b->file ? -1 : 1;
    return a->chunk < b->chunk ? -1 : a->chunk > b->chunk;
}

/* The time chunk k of an open file is ordered by: its first record's, or the previous
 * chunk's (prev) when the chunk has no readable first record. */
static int64_t chunk_time(const scan *s, int fd, uint64_t first, uint64_t k, int64_t prev)
{
    uint8_t rec[24];
    uint64_t off = first + k * EVTX_CHUNK_SIZE + EVTX_CHUNK_HEADER_SIZE;
    if (scan_read_at(s, fd, rec, sizeof rec, off) == (ssize_t)sizeof rec &&
        !memcmp(rec, "\x2a\x2a\x00\x00", 4))
        return (int64_t)rd64(rec + 16);
    return prev;
}

static void sift_down(plan_entry *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && plan_cmp(&h[l], &h[m]) < 0)
            m = l;
        if (l + 1 < n && plan_cmp(&h[l + 1], &h[m]) < 0)
            m = l + 1;
        if (m == i)
            return;
        plan_entry x = h[i];
        h[i] = h[m];
        h[m] = x;
        i = m;
    }
}

static int push_run(scan *s, size_t *cap, plan_entry run)
{
    if (s->nplan == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        plan_entry *np = realloc(s->plan, c * sizeof *np);
        if (!np)
            return -1;
        s->plan = np;
        *cap = c;
    }
    s->plan[s->nplan++] = run;
    return 0;
}

/* The top run moves to its next chunk, or leaves the heap when it has none. */
static void advance(scan *s)
{
    plan_entry *e = &s->plan[0];
    if (e->chunk + 1 < e->end) {
        e->chunk++;
        e->time = chunk_time(s, s->fds[e->file], s->firsts[e->file], e->chunk, e->time);
    } else {
        s->plan[0] = s->plan[--s->nplan];
    }
    sift_down(s->plan, s->nplan, 0);
}

/* Opens the first MAX_OPEN_FILES files, peeks at each chunk's first record time, and
 * orders all their chunks by it. Files past the cap are read file by file afterwards. */
dh_status scan_plan_time_order(scan *s)
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
        if (!s->mem && (!strcmp(path, "-") || (s->files.fd && s->files.fd[f] >= 0)))
            continue; /* standard input and pipes are read as streams, after the plan */
        /* The caller's buffer (dh_scan_run_buffer) is planned as a regular file. */
        int fd = s->mem ? SCAN_FD_MEMORY : open(path, O_RDONLY | O_CLOEXEC);
        if (fd == -1) {
            char msg[160];
            snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
            s->planned[f] = 1;
            if (scan_push_pending(s, f, T_FILE_ERROR, DH_ERR_IO, msg))
                return DH_ERR_NOMEM;
            continue;
        }
        struct stat st;
        uint8_t head[512];
        ssize_t got = 0;
        if (s->mem) {
            memset(&st, 0, sizeof st);
            st.st_size = (off_t)s->mem_len;
            got = scan_read_at(s, fd, head, sizeof head, 0);
        } else if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
            got = pread(fd, head, sizeof head, 0);
        dh_format fmt = got > 0 ? dh_sniff(head, (size_t)got) : DH_FORMAT_UNKNOWN;
        evtx_layout lay;
        const char *warn = NULL;
        const dh_reader *rd = dh_reader_for(fmt);
        if (!rd || !rd->chunk_size) {
            scan_close_fd(fd); /* read later, file by file, by the stream producer */
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
            scan_close_fd(fd);
            if (scan_push_pending(s, f, T_FILE_ERROR, DH_ERR_FORMAT, "EVTX file header truncated"))
                return DH_ERR_NOMEM;
            continue;
        }
        uint64_t nchunks;
        if (scan_evtx_file_notes(s, f, fd, &lay, warn, (uint64_t)st.st_size, &nchunks))
            return DH_ERR_NOMEM;
        lay.nchunks = nchunks;
        s->fds[f] = fd;
        s->sizes[f] = (uint64_t)st.st_size;
        s->firsts[f] = lay.first_chunk;
        uint64_t n = lay.nchunks < UINT32_MAX ? lay.nchunks : UINT32_MAX;
        plan_entry run = {0, (uint32_t)f, 0, 0};
        int64_t prev = 0;
        for (uint64_t k = 0; k < n; k++) {
            int64_t t = chunk_time(s, fd, lay.first_chunk, k, prev);
            if (k == 0) {
                run.time = t;
            } else if (t < prev) { /* time went back: a new run */
                run.end = (uint32_t)k;
                if (push_run(s, &cap, run))
                    return DH_ERR_NOMEM;
                run = (plan_entry){t, (uint32_t)f, (uint32_t)k, 0};
            }
            prev = t;
        }
        run.end = (uint32_t)n;
        if (n && push_run(s, &cap, run))
            return DH_ERR_NOMEM;
    }
    for (size_t i = s->nplan / 2; i-- > 0;)
        sift_down(s->plan, s->nplan, i);
    s->planned_files = nf;
    s->cur = 0; /* the file-by-file producer then takes what was not planned */
    return DH_OK;
}

/* Time-order producer: pending notes, then chunks by time (consecutive chunks of one file
 * go together), then the planned files' ends. Returns 0 when done with them. */
int scan_next_task_time(scan *s, scan_task *t)
{
    if (s->pending_pos < s->npending) {
        *t = s->pending[s->pending_pos++];
        return 1;
    }
    if (s->nplan) {
        uint32_t file = s->plan[0].file, chunk = s->plan[0].chunk;
        memset(t, 0, sizeof *t);
        t->kind = T_UNIT;
        t->reader = &dh_reader_evtx;
        t->format = DH_FORMAT_EVTX;
        t->file = file;
        t->fd = s->fds[file];
        t->chunk = chunk;
        t->off = s->firsts[file] + (uint64_t)chunk * EVTX_CHUNK_SIZE;
        t->nchunks = 1;
        advance(s);
        while (t->nchunks < CHUNKS_PER_TASK && s->nplan && s->plan[0].file == file &&
               s->plan[0].chunk == chunk + t->nchunks) {
            advance(s);
            t->nchunks++;
        }
        uint64_t end = t->off + (uint64_t)t->nchunks * EVTX_CHUNK_SIZE;
        t->len = (end > s->sizes[file] ? s->sizes[file] : end) - t->off;
        scan_task_memory(s, t);
        return 1;
    }
    while (s->end_pos < s->planned_files) {
        size_t f = s->end_pos++;
        if (s->fds[f] == -1)
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
