/* Archives, read with libarchive: zip, 7z and tar through any filter, or a lone
 * compressed stream; an archive member that is itself an archive is opened in turn (one
 * level deep, never extracted to disk). Also where a file, standard input or a pipe
 * becomes the stream (stream.c) that the producer reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input/archive_lazy.h"
#include "input/scan_impl.h"

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
            scan_task_error(t, st->file, T_FILE_ERROR, DH_ERR_FORMAT, msg);
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
        if (scan_stream_fill(st, 4096)) {
            char msg[200];
            snprintf(msg, sizeof msg, "archive member unreadable: %s",
                     archive_error_string(st->ar));
            scan_task_error(t, st->file, T_FILE_ERROR, DH_ERR_FORMAT, msg);
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
                scan_task_error(t, st->file, T_FILE_ERROR, DH_ERR_FORMAT, msg);
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
            (scan_stream_fill(st, JSON_PEEK) || rd->not_events(st->carry, st->carry_len)))
            continue; /* JSON, but not events: a manifest */
        st->members++;
        st->name = keep_name(s, parent, mname ? mname : "?");
        if (scan_stream_begin(s, f) < 0)
            return 0;
        if (!st->member_open)
            continue; /* nothing to read in it (what to say is queued) */
        return 1;
    }
}

/* Starts reading a file as a stream (JSON lines, or an archive). */
int scan_stream_open(scan *s, size_t file, int fd, dh_format f, scan_task *t)
{
    stream *st = &s->str;
    memset(st, 0, sizeof *st);
    st->fd = -1;
    st->file = file;
    st->name = s->files.v[file];
    st->line = 1;
    dh_buf_init(&st->hdr, 1u << 20);
    if (f == DH_FORMAT_ARCHIVE) {
        scan_close_fd(fd);
        st->ar = archive_read_new();
        st->next_member = next_member;
        if (!st->ar)
            return -1;
        archive_formats(st->ar);
        /* The caller's buffer is opened where it lies (libarchive reads it in place). */
        int r = fd == SCAN_FD_MEMORY
                    ? archive_read_open_memory(st->ar, s->mem, (size_t)s->mem_len)
                    : archive_read_open_filename(st->ar, s->files.v[file], 1 << 16);
        if (r != ARCHIVE_OK) {
            char msg[200];
            snprintf(msg, sizeof msg, "archive: %s", archive_error_string(st->ar));
            scan_task_error(t, file, T_FILE_ERROR, DH_ERR_FORMAT, msg);
            archive_read_free(st->ar);
            st->ar = NULL;
            return 1;
        }
    } else {
        if (fd == SCAN_FD_MEMORY) { /* text in the caller's buffer: read through the carry */
            st->mem = (const char *)s->mem;
            st->mem_len = (size_t)s->mem_len;
        } else {
            st->fd = fd;
        }
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
int scan_fd_stream_open(scan *s, size_t file, int fd, scan_task *t)
{
    stream *st = &s->str;
    memset(st, 0, sizeof *st);
    st->fd = fd;
    st->file = file;
    st->name = s->files.v[file];
    st->line = 1;
    dh_buf_init(&st->hdr, 1u << 20);
    if (scan_stream_fill(st, 4096)) {
        scan_task_error(t, file, T_FILE_ERROR, DH_ERR_IO, strerror(errno));
        scan_stream_close(st);
        return 1;
    }
    dh_format f = dh_sniff((const uint8_t *)st->carry, st->carry_len);
    if (f == DH_FORMAT_ARCHIVE) {
        replay_client *c = calloc(1, sizeof *c);
        st->ar = archive_read_new();
        st->next_member = next_member;
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
            scan_task_error(t, file, T_FILE_ERROR, DH_ERR_FORMAT, msg);
            scan_stream_close(st);
            if (fd > 0)
                close(fd);
            return 1;
        }
        st->pipe_fd = fd;
    } else if (dh_reader_for(f)) {
        if (scan_stream_begin(s, f) < 0)
            return -1;
    } else {
        scan_task_error(t, file, T_FILE_UNKNOWN, DH_ERR_UNSUPPORTED,
                        st->carry_len ? "not a format dcomhunt reads" : "empty: nothing to read");
        scan_stream_close(st);
        return 1;
    }
    st->active = 1;
    return 0;
}
