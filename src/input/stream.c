/* Byte streams cut into units: a text file, standard input, a pipe, an archive member or
 * text in a caller's buffer (dh_scan_run_buffer) is read through a carry buffer and cut
 * into batches of whole records (by the reader's cut) or runs of chunks; a record over the
 * cap is read past and said once. What a stream's first bytes hold that is not records (an
 * EVTX file header, a CSV header, Zeek's '#' lines) is handled here through the reader's
 * row. */
#define _DEFAULT_SOURCE /* madvise and MADV_HUGEPAGE beside POSIX */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input/archive_lazy.h"
#include "input/scan_impl.h"

static ssize_t stream_read(stream *st, void *buf, size_t n)
{
    if (st->inner)
        return (ssize_t)archive_read_data(st->inner, buf, n);
    if (st->ar)
        return (ssize_t)archive_read_data(st->ar, buf, n);
    if (st->mem) { /* the caller's buffer (memory.c) */
        size_t k = st->mem_len - st->mem_pos < n ? st->mem_len - st->mem_pos : n;
        memcpy(buf, st->mem + st->mem_pos, k);
        st->mem_pos += k;
        return (ssize_t)k;
    }
    for (;;) {
        ssize_t r = read(st->fd, buf, n);
        if (r < 0 && errno == EINTR)
            continue;
        return r;
    }
}

/* A buffer for the carry (and so for a text unit, which is a carry handed out whole): 2 MiB
 * aligned and advised as huge pages. Why: on this kind of machine (a virtual machine) a page
 * fault costs ~19 us, and every unit was fresh memory: `hunt -j1` on the 49.5 MB OTRF
 * capture took 5,645 page faults, half its 185 ms of CPU (perf stat, 2026-12-07). With
 * huge pages a 4 MiB unit costs two faults. Freed with free(). */
#define CARRY_ALIGN ((size_t)2 << 20)
/* Below this a carry is plain heap memory of the size asked: a small input (a message of
 * dcomhunt stream, one of 100,000 small files) must not cost a fresh 2 MiB mapping, its
 * zeroing and its unmapping (which took most of the stream's time, perf record). */
#define CARRY_SMALL ((size_t)256 << 10)
static char *carry_alloc(size_t n, size_t *cap_out)
{
    if (n < CARRY_SMALL) {
        *cap_out = n ? n : 1;
        return malloc(*cap_out);
    }
    size_t cap = (n + CARRY_ALIGN - 1) & ~(CARRY_ALIGN - 1);
    if (cap < n)
        return NULL;
    char *b = aligned_alloc(CARRY_ALIGN, cap);
#ifdef MADV_HUGEPAGE
    if (b)
        (void)madvise(b, cap, MADV_HUGEPAGE); /* advice only: without it, 4 KiB pages */
#endif
    *cap_out = cap;
    return b;
}

/* Makes room for `want` bytes at st->carry, keeping what it holds. */
static int carry_reserve(stream *st, size_t want)
{
    if (!st->carry)
        st->carry_cap = 0; /* handed over (archive.c): start afresh */
    if (st->carry_cap >= want)
        return 0;
    size_t cap;
    char *n = carry_alloc(want, &cap);
    if (!n)
        return -1;
    if (st->carry_len)
        memcpy(n, st->carry, st->carry_len);
    free(st->carry);
    st->carry = n;
    st->carry_cap = cap;
    return 0;
}

/* Fills st->carry up to `want` bytes (fewer at the end of the stream). */
int scan_stream_fill(stream *st, size_t want)
{
    if (st->carry_len >= want || st->eof)
        return 0;
    /* a caller's buffer: room for what is left of it, not for a whole batch */
    size_t room = want;
    if (st->mem && !st->inner && !st->ar && st->mem_len - st->mem_pos < want - st->carry_len)
        room = st->carry_len + (st->mem_len - st->mem_pos);
    if (carry_reserve(st, room))
        return -1;
    size_t limit = want < st->carry_cap ? want : st->carry_cap;
    while (st->carry_len < want) {
        /* 0 only for a caller's buffer read to its end: the read says so (returns 0) */
        ssize_t r = stream_read(st, st->carry + st->carry_len, limit - st->carry_len);
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

void scan_stream_close(stream *st)
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

/* Hands out `n` bytes of the carry as an owned buffer. A unit that is most of the carry (a
 * batch of lines, a run of chunks) takes the carry itself, and the rest (a part of a line)
 * moves to a new carry: no copy of the unit. A few bytes (a header) are copied out. */
char *scan_take_carry(stream *st, size_t n)
{
    size_t rest = st->carry_len - n;
    if (n >= rest) {
        char *b = st->carry;
        if (!rest && st->eof) { /* the last unit: no carry after it */
            st->carry = NULL;
            st->carry_cap = st->carry_len = 0;
            return b;
        }
        size_t cap = st->carry_cap <= BATCH_BYTES ? st->carry_cap : BATCH_BYTES, got;
        char *next = carry_alloc(rest > cap ? rest : cap, &got);
        if (!next)
            return NULL;
        memcpy(next, st->carry + n, rest);
        st->carry = next;
        st->carry_cap = got;
        st->carry_len = rest;
        return b;
    }
    char *b = malloc(n ? n : 1);
    if (!b)
        return NULL;
    memcpy(b, st->carry, n);
    memmove(st->carry, st->carry + n, rest);
    st->carry_len = rest;
    return b;
}

/* A stream (an archive member, standard input, a pipe) whose first bytes are in the carry
 * and recognised as f is set up to be read exactly as a file of that format would be: an
 * EVTX file header is checked (its checksum) and skipped, bare chunks are read from the
 * first byte. What there is to say is queued (s->pending) ahead of the stream's units.
 * Sets member_open when there is something to read; -1: out of memory. */
int scan_stream_begin(scan *s, dh_format f)
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
        if (scan_push_pending(s, st->file, T_FILE_ERROR, DH_ERR_FORMAT, note))
            return -1;
        s->pending[s->npending - 1].name = st->name;
        return 0;
    }
    if (note) {
        if (scan_push_pending(s, st->file, T_FILE_NOTE, DH_ERR_CHECKSUM, note))
            return -1;
        s->pending[s->npending - 1].name = st->name;
    }
    memmove(st->carry, st->carry + h, st->carry_len - h);
    st->carry_len -= h;
    st->offset = h;
    return 0;
}

/* Where a record too large to read ends: state kept across the reads of a skip. */
typedef struct skip_state {
    int done;
    unsigned depth;   /* JSON: nesting */
    int in_str, esc;  /* JSON: inside a string, after a backslash */
    int started;      /* JSON: the element's first bracket was seen */
    unsigned matched; /* XML: bytes of "</Event>" matched */
    /* CSV, by the Defender reader's rules (mdecsv.c record_end_q and libcsv's strict mode):
     * a quote opens quoting only at a field's start; inside quotes a quote closes, or with
     * the next one is a quote (the next byte tells: closing); a record ends at a line end
     * outside quotes (LF, CRLF, or a CR alone). broken: a quote the reader refuses (one
     * inside an unquoted field, or text after a closing quote): the record's end is then
     * not its quotes' (the caller goes back to lines). */
    int quoted, field_start, closing, after_close, cr, broken;
} skip_state;

/* CSV: one byte c of a record being skipped; 1 when the record ended before c (a CR alone)
 * or at c. *before: the record ended before c. */
static int csv_skip_byte(skip_state *ss, char c, int *before)
{
    *before = 0;
    if (ss->cr) { /* a CR outside quotes: with LF a CRLF, else a line end of its own */
        ss->cr = 0;
        if (c == '\n')
            return 1;
        *before = 1;
        return 1;
    }
    if (ss->closing) { /* a quote inside quotes: a doubled quote, or the closing one */
        ss->closing = 0;
        if (c == '"')
            return 0;
        ss->quoted = 0;
        ss->after_close = 1;
    }
    if (ss->quoted) {
        ss->closing = c == '"';
        return 0;
    }
    int after_close = ss->after_close;
    ss->after_close = 0;
    if (c == '\n')
        return 1;
    if (c == '\r') {
        ss->cr = 1;
        return 0;
    }
    if (c == ',') {
        ss->field_start = 1;
        return 0;
    }
    if (after_close || (c == '"' && !ss->field_start))
        ss->broken = 1;
    else if (c == '"')
        ss->quoted = 1;
    ss->field_start = 0;
    return 0;
}

/* Bytes of buf up to and including the end of the record being skipped (ss->done), or n.
 * CSV: also stops just past a byte that breaks the record's quoting (ss->broken). */
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
        } else if (how == DH_END_CSV_RECORD) {
            int before;
            if (csv_skip_byte(ss, c, &before)) {
                ss->done = 1;
                return before ? i : i + 1;
            }
            if (ss->broken)
                return i + 1;
        } else if (c == '\n') { /* JSON lines, Zeek */
            goto end;
        }
        continue;
    end:
        ss->done = 1;
        return i + 1;
    }
    return n;
}

/* The stream read again from stream offset `to`, its carry dropped; delta: the stream's
 * read position minus the stream offset at the same byte. 0, or -1 when it cannot be read
 * again (a pipe, an archive member). */
static int csv_stream_rewind(stream *st, uint64_t to, int64_t delta)
{
    if (st->ar || st->inner || (int64_t)to + delta < 0)
        return -1;
    if (st->mem) {
        st->mem_pos = (size_t)((int64_t)to + delta);
    } else {
        off_t at = (off_t)((int64_t)to + delta);
        if (st->fd < 0 || lseek(st->fd, at, SEEK_SET) != at)
            return -1;
    }
    st->carry_len = 0;
    st->eof = 0;
    st->offset = to;
    return 0;
}

/* The read position of a plain stream (the file's, or the buffer's), or -1. */
static int64_t csv_stream_position(const stream *st)
{
    if (st->ar || st->inner)
        return -1;
    if (st->mem)
        return (int64_t)st->mem_pos;
    off_t at = st->fd >= 0 ? lseek(st->fd, 0, SEEK_CUR) : -1;
    return at < 0 ? -1 : (int64_t)at;
}

/* Bytes of b up to and including its first line end (LF, CRLF, or a CR alone), or 0. */
static size_t csv_line_end(const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] == '\n' || b[i] == '\r')
            return i + 1 + (b[i] == '\r' && i + 1 < n && b[i + 1] == '\n');
    return 0;
}

/* A Defender CSV record with no end in the first 16 MiB at the carry's start. Its end is
 * found by its quotes, as the reader would (a record is never read line by line while its
 * quoting holds: the lines of a quoted field, a forged row among them, are not records):
 * - quoting that holds to a line end outside quotes: one record over 16 MiB, read past
 *   whole and said once;
 * - quoting that breaks (a quote that never closes, a stray quote): as the reader does for
 *   such a record, only its first line is lost and reading resumes on the next line: the
 *   stream is read again from there (a file, the caller's buffer). A pipe or an archive
 *   member cannot be: what was read past is lost, and the message says how much.
 * Returns 1 (t filled) or 0 (out of memory). */
static int csv_skip_record(scan *s, scan_task *t)
{
    stream *st = &s->str;
    uint64_t line0 = st->line, off0 = st->offset, bytes = 0, first_end = 0;
    int64_t pos = csv_stream_position(st);
    int64_t delta = pos < 0 ? 0 : pos - (int64_t)(st->offset + st->carry_len);
    skip_state ss = {0};
    ss.field_start = 1;
    for (;;) {
        size_t k = skip_scan(&ss, DH_END_CSV_RECORD, st->carry, st->carry_len);
        size_t e = first_end ? 0 : csv_line_end(st->carry, k);
        if (e)
            first_end = st->offset + e;
        for (const char *q = st->carry; (q = memchr(q, '\n', (size_t)(st->carry + k - q))); q++)
            st->line++;
        memmove(st->carry, st->carry + k, st->carry_len - k);
        st->carry_len -= k;
        st->offset += k;
        bytes += k;
        if (ss.done || ss.broken || st->eof)
            break;
        if (scan_stream_fill(st, 1u << 20))
            return 0;
        if (!st->carry_len)
            break;
    }
    char msg[200];
    if (ss.broken || (!ss.done && ss.quoted && !ss.closing)) {
        const char *why = ss.broken ? "stray quote" : "a quote that never closes";
        if (!first_end) { /* broken on its first line: that line is the one lost */
            for (;;) {
                size_t k = csv_line_end(st->carry, st->carry_len);
                size_t m = k ? k : st->carry_len;
                st->line += k && memchr(st->carry, '\n', k) != NULL;
                memmove(st->carry, st->carry + m, st->carry_len - m);
                st->carry_len -= m;
                st->offset += m;
                bytes += m;
                if (k || st->eof || scan_stream_fill(st, 1u << 20) || !st->carry_len)
                    break;
            }
            snprintf(msg, sizeof msg,
                     "line %llu: malformed CSV record (%s) on a line over %u MiB (%llu bytes), "
                     "skipped",
                     (unsigned long long)line0, why, MAX_LINE_BYTES >> 20,
                     (unsigned long long)bytes);
        } else if (pos >= 0 && !csv_stream_rewind(st, first_end, delta)) {
            st->line = line0 + 1;
            snprintf(msg, sizeof msg, "line %llu: malformed CSV record (%s)",
                     (unsigned long long)line0, why);
        } else {
            snprintf(msg, sizeof msg,
                     "line %llu: malformed CSV record (%s) over %u MiB: %llu bytes skipped (the "
                     "input cannot be read again from its next line)",
                     (unsigned long long)line0, why, MAX_LINE_BYTES >> 20,
                     (unsigned long long)bytes);
        }
    } else {
        snprintf(msg, sizeof msg, "line %llu: record over %u MiB (%llu bytes), skipped",
                 (unsigned long long)line0, MAX_LINE_BYTES >> 20, (unsigned long long)bytes);
    }
    scan_task_error(t, st->file, T_RECORD_SKIPPED, DH_ERR_LIMIT, msg);
    t->name = st->name;
    t->off = off0;
    return 1;
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
        if (scan_stream_fill(st, 1u << 20))
            return 0;
        if (!st->carry_len)
            break;
    }
    char msg[200];
    snprintf(msg, sizeof msg, "line %llu: record over %u MiB (%llu bytes), skipped",
             (unsigned long long)line0, MAX_LINE_BYTES >> 20, (unsigned long long)bytes);
    scan_task_error(t, st->file, T_RECORD_SKIPPED, DH_ERR_LIMIT, msg);
    t->name = st->name;
    t->off = off0;
    return 1;
}

/* The next task of the current stream; 0 when the stream is done. */
int scan_stream_next(scan *s, scan_task *t)
{
    stream *st = &s->str;
    for (;;) {
        if (st->ar && !st->member_open) {
            int made;
            if (!st->next_member(s, t, &made))
                return made;
        }
        if (s->pending_pos < s->npending) { /* what scan_stream_begin had to say comes first */
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
            if (scan_stream_fill(st, unit) || !st->carry_len) {
                st->member_open = 0;
                if (!st->ar)
                    return 0;
                continue;
            }
            size_t n = st->carry_len < unit ? st->carry_len : unit;
            t->buf = scan_take_carry(st, n);
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
        if (scan_stream_fill(st, BATCH_BYTES)) {
            scan_task_error(t, st->file, T_FILE_ERROR, DH_ERR_IO, "read failed");
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
                if (scan_stream_fill(st, st->carry_len * 2 < MAX_LINE_BYTES ? st->carry_len * 2
                                                                            : MAX_LINE_BYTES))
                    return 0;
                continue;
            }
            if (!h)
                h = st->carry_len;
            st->hdr.len = 0;
            if (dh_buf_append(&st->hdr, st->carry, h)) {
                scan_task_error(t, st->file, T_FILE_ERROR, DH_ERR_FORMAT, "CSV header too long");
                t->name = st->name;
                st->member_open = 0;
                st->eof = 1;
                st->carry_len = 0;
                return 1;
            }
            st->have_hdr = 1;
            free(scan_take_carry(st, h));
            st->offset += h;
            for (size_t k = 0; k < h; k++)
                st->line += st->hdr.data[k] == '\n';
            continue;
        }
        size_t n = st->eof ? st->carry_len : rd->cut(st->carry, st->carry_len, st->offset);
        if (!n) {
            if (st->carry_len < MAX_LINE_BYTES) {
                if (scan_stream_fill(st, st->carry_len * 2 < MAX_LINE_BYTES ? st->carry_len * 2
                                                                            : MAX_LINE_BYTES))
                    return 0;
                continue;
            }
            /* No whole record in 16 MiB: one too large, skipped whole and said once (CSV:
             * found by its quotes, csv_skip_record). */
            if (rd->record_end == DH_END_CSV_RECORD)
                return csv_skip_record(s, t);
            return skip_record(s, t);
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
        t->buf = scan_take_carry(st, n);
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
