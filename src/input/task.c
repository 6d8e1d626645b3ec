/* Tasks that carry no unit: errors and notes about a file, queued by whichever part of
 * the producer found them (the file-by-file producer, the plan, a stream or an archive)
 * and delivered in input order; and the notes an EVTX file's opening has to say. A leaf of
 * the scan: it calls none of the other parts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/scan_impl.h"

void scan_task_error(scan_task *t, size_t file, int kind, dh_status st, const char *msg)
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
void scan_junk_note(char *msg, size_t n, uint64_t from, uint64_t to)
{
    snprintf(msg, n,
             "warning: trailing data: the %llu bytes from here to the end hold no chunk and no "
             "record (data left on the disk after the log); ignored",
             (unsigned long long)(to - from));
}

int scan_push_pending(scan *s, size_t file, int kind, dh_status st, const char *msg)
{
    scan_task *p = realloc(s->pending, (s->npending + 1) * sizeof *p);
    if (!p)
        return -1;
    s->pending = p;
    scan_task_error(&s->pending[s->npending++], file, kind, st, msg);
    return 0;
}

void scan_fill_error(dh_error *e, const char *file, dh_status st, int64_t chunk, uint64_t off,
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

/* What the opening of an EVTX file has to say (a cut file, a header checksum, junk after
 * the last chunk), queued as notes; *nchunks: the chunks worth reading. -1: no memory. */
int scan_evtx_file_notes(scan *s, size_t file, int fd, const evtx_layout *lay, const char *warn,
                         uint64_t size, uint64_t *nchunks)
{
    char msg[200];
    if (lay->truncated_chunks) {
        snprintf(msg, sizeof msg,
                 "file truncated: its header lists %llu chunks, the file holds %llu",
                 (unsigned long long)lay->truncated_chunks, (unsigned long long)lay->nchunks);
        if (scan_push_pending(s, file, T_FILE_TRUNCATED, DH_ERR_FORMAT, msg))
            return -1;
    } else if (warn && scan_push_pending(s, file, T_FILE_NOTE, DH_ERR_CHECKSUM, warn)) {
        return -1;
    }
    uint64_t junk_from;
    dh_status jst;
    *nchunks =
        evtx_trailing_junk(fd, fd == SCAN_FD_MEMORY ? s->mem : NULL, lay, size, &junk_from, &jst);
    if (*nchunks < lay->nchunks) {
        scan_junk_note(msg, sizeof msg, junk_from, size);
        if (scan_push_pending(s, file, T_FILE_NOTE, DH_ERR_FORMAT, msg))
            return -1;
        s->pending[s->npending - 1].off = junk_from;
    }
    return 0;
}
