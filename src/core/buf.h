/* A growable byte buffer with a hard cap (every buffer that grows has one).
 * Owns its bytes; dh_buf_free accepts NULL-initialised buffers. Pointers into data are
 * invalidated by any append: keep offsets while a buffer is still growing. */
#ifndef DH_CORE_BUF_H
#define DH_CORE_BUF_H

#include <stddef.h>
#include <string.h>

#include "dcomhunt/scan.h"
#include "dcomhunt/status.h"

struct dh_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit; /* bytes; appends beyond it fail with DH_ERR_NOMEM */
};

void dh_buf_init(dh_buf *b, size_t limit);
void dh_buf_free(dh_buf *b);
/* Makes room for n more bytes; returns a pointer to write them, or NULL. The caller then
 * adds what it wrote to b->len. */
char *dh_buf_reserve(dh_buf *b, size_t n);
static inline void dh_buf_reset(dh_buf *b)
{
    b->len = 0;
}
static inline dh_status dh_buf_putc(dh_buf *b, char c)
{
    if (b->len < b->cap) {
        b->data[b->len++] = c;
        return DH_OK;
    }
    return dh_buf_append(b, &c, 1);
}
static inline dh_status dh_buf_puts(dh_buf *b, const char *s)
{
    return dh_buf_append(b, s, strlen(s));
}
/* Decimal and hexadecimal integers, without the printf family on the hot path. */
dh_status dh_buf_put_u64(dh_buf *b, unsigned long long v);
dh_status dh_buf_put_i64(dh_buf *b, long long v);
/* "0x" then lowercase hex digits, no padding (as Windows renders HexInt32/64). */
dh_status dh_buf_put_hex(dh_buf *b, unsigned long long v);
/* The shortest decimal that reads back as the same value ("3199.234", not
 * "3199.2339999999999"); single: the value is a float (32-bit) and must read back as one. */
dh_status dh_buf_put_double(dh_buf *b, double v, int single);
/* The same into out (NUL-terminated); its length, or 0 if cap is too small. */
size_t dh_format_double(char *out, size_t cap, double v, int single);

#endif
