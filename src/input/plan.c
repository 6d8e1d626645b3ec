/* The time-order plan: with time_order, the chunks of all EVTX files (up to
 * MAX_OPEN_FILES of them, kept open) are read in order of their first record's time, not
 * file by file, which is what a time-windowed correlator needs. Network sensor logs are
 * marked to be read before the planned chunks; other files are read file by file after. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/evtx_format.h"
#include "input/scan_impl.h"

static int plan_cmp(const void *pa, const void *pb)
{
    const plan_entry *a = pa, *b = pb;
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    if (a->file != b->file)
        return a->file < b->file ? -1 : 1;
    return a->chunk < b->chunk ? -1 : a->chunk > b->chunk;
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
        int64_t prev = 0;
        for (uint64_t k = 0; k < lay.nchunks && k < UINT32_MAX; k++) {
            uint8_t rec[24];
            uint64_t off = lay.first_chunk + k * EVTX_CHUNK_SIZE + EVTX_CHUNK_HEADER_SIZE;
            if (scan_read_at(s, fd, rec, sizeof rec, off) == (ssize_t)sizeof rec &&
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
int scan_next_task_time(scan *s, scan_task *t)
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
