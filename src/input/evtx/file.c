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

static int read_at(int fd, uint8_t *p, size_t n, uint64_t off)
{
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

uint64_t evtx_trailing_junk(int fd, const evtx_layout *lay, uint64_t file_size, uint64_t *junk_from,
                            dh_status *st)
{
    *st = DH_OK;
    *junk_from = file_size;
    uint64_t keep = lay->nchunks, k = lay->nchunks;
    int junk = 0;
    uint8_t *slot = NULL;
    while (k > 0) {
        uint64_t off = lay->first_chunk + (k - 1) * EVTX_CHUNK_SIZE;
        size_t n = file_size - off < EVTX_CHUNK_SIZE ? (size_t)(file_size - off) : EVTX_CHUNK_SIZE;
        uint8_t sig[8];
        if (n >= 8 && read_at(fd, sig, 8, off) == 0 && !memcmp(sig, "ElfChnk\0", 8))
            break; /* the last chunk: most files stop here after one 8-byte read */
        if (!slot && !(slot = malloc(EVTX_CHUNK_SIZE))) {
            *st = DH_ERR_NOMEM;
            break;
        }
        if (read_at(fd, slot, n, off)) {
            *st = DH_ERR_IO;
            break;
        }
        int kind = evtx_slot_kind(slot, n);
        if (kind == EVTX_SLOT_RECORDS)
            break; /* a damaged chunk: reported when it is read */
        if (kind == EVTX_SLOT_JUNK) {
            junk = 1;
            keep = k - 1;
            *junk_from = off;
        }
        k--;
    }
    free(slot);
    if (*st != DH_OK || !junk) {
        *junk_from = file_size;
        return lay->nchunks;
    }
    return keep;
}
