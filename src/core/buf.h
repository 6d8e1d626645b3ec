/* A growable byte buffer with a hard cap (every buffer that grows has one).
 * Owns its bytes; dh_buf_free accepts NULL-initialised buffers. Pointers into data are
 * invalidated by any append: keep offsets while a buffer is still growing.
 *
 * Errors stick: the first failed append (cap reached, or no memory) is kept in the buffer
 * and every later append does nothing and returns it, so a writer may append a whole line
 * without checking each piece and check dh_buf_status() once before the line goes out:
 * what failed can never leave as a line with a piece missing. dh_buf_reset() and
 * dh_buf_truncate() to at or before the failure point discard the failed content and the
 * error with it. Code that cuts len back by hand below the failure point gets the same
 * (the next append clears the error); cutting back to exactly that point does not, since
 * it cannot be told apart from carrying on after the failure. */
#ifndef DH_CORE_BUF_H
#define DH_CORE_BUF_H

#include <stddef.h>
#include <string.h>

#include "dcomhunt/buf.h"
#include "dcomhunt/status.h"

struct dh_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit;  /* bytes; appends beyond it fail with DH_ERR_NOMEM */
    dh_status err; /* the first failure, DH_OK if none; see the top of this file */
    size_t err_at; /* len when it failed: the failed bytes would have started here */
};

void dh_buf_init(dh_buf *b, size_t limit);
void dh_buf_free(dh_buf *b);
/* Makes room for n more bytes; returns a pointer to write them, or NULL (and the error
 * sticks). The caller then adds what it wrote to b->len. */
char *dh_buf_reserve(dh_buf *b, size_t n);
static inline void dh_buf_reset(dh_buf *b)
{
    b->len = 0;
    b->err = DH_OK;
}
/* Cuts the contents back to n bytes (n <= len); clears the error when n is at or before
 * the point where it happened. */
void dh_buf_truncate(dh_buf *b, size_t n);
/* The first failure since the buffer was initialised or last reset, or DH_OK. */
static inline dh_status dh_buf_status(const dh_buf *b)
{
    return b->err != DH_OK && b->len >= b->err_at ? b->err : DH_OK;
}
static inline dh_status dh_buf_putc(dh_buf *b, char c)
{
    if (b->len < b->cap && b->err == DH_OK) {
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
