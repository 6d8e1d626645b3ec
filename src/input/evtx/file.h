/* EVTX file layout from its header and size. */
#ifndef DH_INPUT_EVTX_FILE_H
#define DH_INPUT_EVTX_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/status.h"

typedef struct evtx_layout {
    uint64_t first_chunk;   /* byte offset of chunk 0 */
    uint64_t nchunks;       /* from the file size, the last possibly short */
    uint16_t header_chunks; /* what the header says (informational) */
    uint16_t major, minor;
    uint32_t flags;            /* 1 dirty, 2 full */
    uint64_t truncated_chunks; /* non-zero: the header lists this many, the file holds fewer */
} evtx_layout;

dh_status evtx_file_layout(const uint8_t *head, size_t head_len, uint64_t file_size,
                           int header_less, evtx_layout *out, const char **warning);

#endif
