/* The EVTX format as both its reader (src/input/evtx/) and its writer
 * (src/output/evtx_write.c) know it: the file's layout constants, little-endian reads,
 * and BinXML substitution values rendered as text (evtx_values.c), as Windows renders
 * them. Format knowledge only: no decoder state, nothing of the event model. */
#ifndef DH_CORE_EVTX_FORMAT_H
#define DH_CORE_EVTX_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "dcomhunt/status.h"

#define EVTX_FILE_HEADER_SIZE  4096
#define EVTX_CHUNK_SIZE        65536
#define EVTX_CHUNK_HEADER_SIZE 512
#define EVTX_VALUE_LIMIT       (64u << 20) /* the longest value rendered as hex bytes */

static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

/* dh_buf_reserve with its common case inline: room already there. The values of a record
 * go to one arena that rarely grows, and the call was 4% of the decode (callgrind,
 * 2026-12-07). */
static inline char *evtx_room(dh_buf *b, size_t n)
{
    if (b->err == DH_OK && b->data && n <= b->cap - b->len)
        return b->data + b->len;
    return dh_buf_reserve(b, n);
}

/* Appends a substitution value's text to out (array types: every element). A value whose
 * length does not fit its type is rendered as hex bytes, never read past. */
dh_status evtx_value_text(dh_buf *out, uint8_t type, const uint8_t *p, size_t len);
/* Number of elements of an array value and the bounds of element i. */
size_t evtx_array_count(uint8_t type, const uint8_t *p, size_t len);
int evtx_array_item(uint8_t type, const uint8_t *p, size_t len, size_t i, const uint8_t **ip,
                    size_t *ilen);
/* The element at *pos (start at 0) and *pos moved past it; 0 after the last. In order, the
 * same elements as evtx_array_item for 0..count-1, without rescanning from the start. */
int evtx_array_next(uint8_t type, const uint8_t *p, size_t len, size_t *pos, const uint8_t **ip,
                    size_t *ilen);

#endif
