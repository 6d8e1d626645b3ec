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

/* Junk after the last chunk (disk data left past the log, no chunk signature and no record
 * in it): reads the file's last slots backwards with pread (from mem instead when the
 * file's file_size bytes are in memory; fd is then unused). Returns the number of chunks
 * worth reading (lay->nchunks when there is no such junk) and sets *junk_from to the file
 * offset where the junk starts; DH_ERR_IO through *st if a read failed (then nothing is
 * cut). */
uint64_t evtx_trailing_junk(int fd, const uint8_t *mem, const evtx_layout *lay, uint64_t file_size,
                            uint64_t *junk_from, dh_status *st);

/* file_size 0: a stream whose size is not known (only the header is checked). */
dh_status evtx_file_layout(const uint8_t *head, size_t head_len, uint64_t file_size,
                           int header_less, evtx_layout *out, const char **warning);

#endif
