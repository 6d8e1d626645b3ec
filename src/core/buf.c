/* Growable capped byte buffer. Never prints, never aborts. */
#include "core/buf.h"

#include <stdlib.h>

void dh_buf_init(dh_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

void dh_buf_free(dh_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *dh_buf_reserve(dh_buf *b, size_t n)
{
    if (b->data && n <= b->cap - b->len)
        return b->data + b->len;
    if (n > b->limit || b->len > b->limit - n)
        return NULL;
    size_t want = b->len + n;
    size_t cap = b->cap ? b->cap : 4096;
    if (want == 0)
        want = 1;
    while (cap < want)
        cap = cap > ((size_t)-1) / 2 ? want : cap * 2;
    if (cap > b->limit)
        cap = b->limit;
    char *p = realloc(b->data, cap);
    if (!p)
        return NULL;
    b->data = p;
    b->cap = cap;
    return b->data + b->len;
}

dh_status dh_buf_append(dh_buf *b, const void *data, size_t len)
{
    if (len == 0)
        return DH_OK;
    char *p = dh_buf_reserve(b, len);
    if (!p)
        return DH_ERR_NOMEM;
    memcpy(p, data, len);
    b->len += len;
    return DH_OK;
}

dh_status dh_buf_put_u64(dh_buf *b, unsigned long long v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return dh_buf_append(b, tmp + i, sizeof tmp - i);
}

dh_status dh_buf_put_i64(dh_buf *b, long long v)
{
    if (v < 0) {
        dh_status st = dh_buf_putc(b, '-');
        if (st)
            return st;
        return dh_buf_put_u64(b, 0ULL - (unsigned long long)v);
    }
    return dh_buf_put_u64(b, (unsigned long long)v);
}

dh_status dh_buf_put_hex(dh_buf *b, unsigned long long v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[20];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = digits[v & 15];
        v >>= 4;
    } while (v);
    tmp[--i] = 'x';
    tmp[--i] = '0';
    return dh_buf_append(b, tmp + i, sizeof tmp - i);
}
