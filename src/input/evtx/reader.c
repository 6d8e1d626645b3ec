/* The EVTX row of the reader table: recognising a log (or bare chunks), checking and
 * skipping a stream's file header, and decoding a unit of consecutive 64 KiB chunks on a
 * worker, read with pread from the file or handed over from a stream. Chunks that hold
 * neither a signature nor a record are junk: damage inside a file (its trailing junk was
 * cut off when it was opened), a run reported to the scanner inside a stream. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "input/evtx/evtx.h"
#include "input/evtx/file.h"
#include "input/reader.h"

typedef struct evtx_state {
    evtx_decoder *dec;
    uint8_t *chunk; /* one chunk, copied or read here so the decoder sees whole bytes */
} evtx_state;

static dh_format evtx_sniff(const uint8_t *p, size_t n)
{
    if (n >= 8 && !memcmp(p, "ElfFile\0", 8))
        return DH_FORMAT_EVTX;
    if (n >= 8 && !memcmp(p, "ElfChnk\0", 8))
        return DH_FORMAT_EVTX_CHUNK;
    return DH_FORMAT_UNKNOWN;
}

/* A stream's file header is checked (its checksum) and skipped: the chunks that follow do
 * not need it. Bare chunks are read from the first byte. */
static dh_status evtx_begin(dh_format f, const uint8_t *head, size_t n, size_t *skip,
                            const char **note)
{
    *skip = 0;
    *note = NULL;
    if (f != DH_FORMAT_EVTX)
        return DH_OK;
    evtx_layout lay;
    if (evtx_file_layout(head, n, 0, 0, &lay, note) != DH_OK) {
        *note = "EVTX file header truncated";
        return DH_ERR_FORMAT;
    }
    *skip = n < EVTX_FILE_HEADER_SIZE ? n : EVTX_FILE_HEADER_SIZE;
    return DH_OK;
}

static void *evtx_state_new(const dh_scan_opts *opts)
{
    evtx_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->dec = evtx_decoder_new(opts->want_xml);
    s->chunk = malloc(EVTX_CHUNK_SIZE);
    if (!s->dec || !s->chunk) {
        evtx_decoder_free(s->dec);
        free(s->chunk);
        free(s);
        return NULL;
    }
    s->dec->full_walk = opts->full_walk;
    s->dec->want_sys = opts->want_system || opts->want_xml;
    return s;
}

static void evtx_state_free(void *state)
{
    evtx_state *s = state;
    if (!s)
        return;
    evtx_decoder_free(s->dec);
    free(s->chunk);
    free(s);
}

/* Junk chunks followed by a real chunk within the unit: one message for the run. */
static void junk_damage(const dh_reader_sink *sink, dh_reader_junk *j)
{
    char msg[200];
    dh_reader_junk_msg(msg, sizeof msg, j);
    sink->on_error(sink->ctx, DH_ERR_FORMAT, j->chunk, j->off, 0, msg);
    memset(j, 0, sizeof *j);
}

/* Reads chunk k of the unit into the state's buffer; returns the bytes got (fewer than
 * wanted: a read failed or the file shrank, said through the sink). */
static uint32_t read_chunk(evtx_state *s, const dh_reader_unit *u, uint32_t k, uint64_t off,
                           uint32_t want, const dh_reader_sink *sink)
{
    uint32_t got = 0;
    if (u->buf) { /* read already (an archive member, a pipe) */
        memcpy(s->chunk, u->buf + (size_t)k * EVTX_CHUNK_SIZE, want);
        got = want;
    }
    while (got < want) {
        ssize_t n = pread(u->fd, s->chunk + got, want - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (uint32_t)n;
    }
    if (got < want)
        sink->on_error(sink->ctx, DH_ERR_IO, u->chunk + k, off + got, 0,
                       "read failed or file shrank");
    return got;
}

static dh_status evtx_decode_unit(void *state, const dh_reader_unit *u, const dh_reader_sink *sink,
                                  dh_reader_result *res)
{
    evtx_state *s = state;
    dh_status st = DH_OK;
    evtx_error_fn ef = {sink->on_error, sink->ctx};
    for (uint32_t k = 0; k < u->nchunks; k++) {
        uint64_t off = u->offset + (uint64_t)k * EVTX_CHUNK_SIZE;
        uint64_t want64 = u->offset + u->len - off;
        uint32_t want = want64 < EVTX_CHUNK_SIZE ? (uint32_t)want64 : EVTX_CHUNK_SIZE;
        int64_t chunk = u->chunk + k;
        uint32_t got = read_chunk(s, u, k, off, want, sink);
        int short_read = got < want;
        if (got == 0) {
            res->damaged++;
            continue;
        }
        evtx_chunk_result cr;
        st = evtx_decode_chunk(s->dec, s->chunk, got, u->file, chunk, off, sink->on_event,
                               sink->ctx, &ef, &cr);
        if (cr.junk && (!u->buf || u->in_file)) {
            /* A file: the junk after its last chunk was cut off when it was opened. */
            cr.damaged = 1;
            sink->on_error(sink->ctx, DH_ERR_FORMAT, chunk, off, 0,
                           "chunk signature missing, chunk skipped");
        } else if (cr.junk) {
            if (!res->junk.n) {
                res->junk.off = off;
                res->junk.chunk = chunk;
            }
            res->junk.n++;
            res->junk.end = off + got;
        } else if (!cr.empty) {
            if (res->junk.n) { /* junk, then a chunk: damage */
                res->damaged += res->junk.n;
                junk_damage(sink, &res->junk);
            }
            res->has_chunk = 1;
        } else if (res->junk.n) {
            res->junk.end = off + got;
        }
        res->records += cr.records;
        res->records_bad += cr.records_bad;
        res->damaged += cr.damaged || short_read ? 1 : 0;
        res->chunks_done++;
        if (st != DH_OK)
            break;
    }
    return st;
}

const dh_reader dh_reader_evtx = {
    .name = "evtx",
    .format = DH_FORMAT_EVTX,
    .variant = DH_FORMAT_EVTX_CHUNK,
    .sniff = evtx_sniff,
    .chunk_size = EVTX_CHUNK_SIZE,
    .begin = evtx_begin,
    .record_end = DH_END_LINE, /* not a text format: never skipped by record */
    .state_new = evtx_state_new,
    .state_free = evtx_state_free,
    .decode = evtx_decode_unit,
};
