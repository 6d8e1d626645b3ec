/* The EVTX file header: where the chunks are and how many. The header's 16-bit chunk
 * count wraps on files over 4 GiB and lags on dirty files, so the count comes from the
 * file size: every 64 KiB after the header is a chunk, the last one possibly short. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "input/evtx/evtx.h"
#include "input/evtx/file.h"

dh_status evtx_file_layout(const uint8_t *head, size_t head_len, uint64_t file_size,
                           int header_less, evtx_layout *out, const char **warning)
{
    memset(out, 0, sizeof *out);
    *warning = NULL;
    if (header_less) {
        out->first_chunk = 0;
    } else {
        if (head_len < 128)
            return DH_ERR_FORMAT;
        out->header_chunks = rd16(head + 42);
        out->flags = rd32(head + 120);
        out->major = rd16(head + 38);
        out->minor = rd16(head + 36);
        uint32_t crc = (uint32_t)crc32(0, head, 120);
        if (crc != rd32(head + 124))
            *warning = "warning: file header checksum mismatch; chunks are read anyway";
        out->first_chunk = EVTX_FILE_HEADER_SIZE;
    }
    if (file_size == 0 && !header_less) /* a stream: its size is not known */
        return DH_OK;
    if (file_size <= out->first_chunk)
        out->nchunks = 0;
    else
        out->nchunks = (file_size - out->first_chunk + EVTX_CHUNK_SIZE - 1) / EVTX_CHUNK_SIZE;
    if (!header_less) {
        /* The 64-bit last chunk number does not wrap like the 16-bit count: a header that
         * lists more chunks than the file holds means the file was cut. */
        uint64_t first = rd64(head + 8), last = rd64(head + 16);
        if (first <= last && last - first < (1ULL << 40) && last - first + 1 > out->nchunks) {
            out->truncated_chunks = last - first + 1;
            *warning = "file truncated: its header lists more chunks than the file holds";
        }
    }
    return DH_OK;
}

/* n bytes at off of the file: from mem when the file is in memory (off + n within it). */
static int read_at(int fd, const uint8_t *mem, uint8_t *p, size_t n, uint64_t off)
{
    if (mem) {
        memcpy(p, mem + off, n);
        return 0;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, p + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* What the slot at off holds, reading as little as it takes: 8 bytes for a chunk, the
 * first 4 KiB for what looks empty (*quick set: not verified past them), else all of it. */
static int slot_kind_at(int fd, const uint8_t *mem, uint8_t *slot, size_t n, uint64_t off,
                        int *quick)
{
    size_t head = n < 4096 ? n : 4096;
    *quick = 0;
    if (read_at(fd, mem, slot, n < 8 ? n : 8, off))
        return -1;
    if (n >= 8 && !memcmp(slot, "ElfChnk\0", 8))
        return EVTX_SLOT_CHUNK;
    if (read_at(fd, mem, slot, head, off))
        return -1;
    if (evtx_slot_kind(slot, head) == EVTX_SLOT_EMPTY && head < n) {
        *quick = 1;
        return EVTX_SLOT_EMPTY;
    }
    if (read_at(fd, mem, slot, n, off))
        return -1;
    return evtx_slot_kind(slot, n);
}

uint64_t evtx_trailing_junk(int fd, const uint8_t *mem, const evtx_layout *lay, uint64_t file_size,
                            uint64_t *junk_from, dh_status *st)
{
    *st = DH_OK;
    *junk_from = file_size;
    uint64_t keep = lay->nchunks, k = lay->nchunks;
    uint8_t *slot = malloc(EVTX_CHUNK_SIZE);
    if (!slot) {
        *st = DH_ERR_NOMEM;
        return lay->nchunks;
    }
#define SLOT(i) (lay->first_chunk + (i) * (uint64_t)EVTX_CHUNK_SIZE)
#define SLOT_LEN(i)                                                                                \
    (file_size - SLOT(i) < EVTX_CHUNK_SIZE ? (size_t)(file_size - SLOT(i)) : EVTX_CHUNK_SIZE)
    /* Backwards from the end to the last chunk (or damaged chunk): the lowest junk slot
     * found on the way is where the junk starts. Slots that look empty by their first
     * 4 KiB are checked whole only if they would be cut off. */
    while (k > 0) {
        int quick, kind = slot_kind_at(fd, mem, slot, SLOT_LEN(k - 1), SLOT(k - 1), &quick);
        if (kind < 0) {
            *st = DH_ERR_IO;
            break;
        }
        if (kind == EVTX_SLOT_CHUNK || kind == EVTX_SLOT_RECORDS)
            break;
        if (kind == EVTX_SLOT_JUNK)
            keep = k - 1;
        k--;
    }
    /* What would be cut off is read whole once: any record in it, and nothing is cut (the
     * slots are then decoded and reported one by one). */
    for (uint64_t i = keep; *st == DH_OK && i < lay->nchunks; i++) {
        if (read_at(fd, mem, slot, SLOT_LEN(i), SLOT(i))) {
            *st = DH_ERR_IO;
        } else {
            int kind = evtx_slot_kind(slot, SLOT_LEN(i));
            if (kind == EVTX_SLOT_RECORDS || kind == EVTX_SLOT_CHUNK) {
                keep = lay->nchunks;
                break;
            }
        }
    }
#undef SLOT
#undef SLOT_LEN
    free(slot);
    if (*st != DH_OK || keep >= lay->nchunks)
        return lay->nchunks;
    *junk_from = lay->first_chunk + keep * (uint64_t)EVTX_CHUNK_SIZE;
    return keep;
}
