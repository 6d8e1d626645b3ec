/* The EVTX file header: where the chunks are and how many. The header's 16-bit chunk
 * count wraps on files over 4 GiB and lags on dirty files, so the count comes from the
 * file size: every 64 KiB after the header is a chunk, the last one possibly short. */
#include <string.h>
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
