/* Growable capped byte buffer. Never prints, never aborts. */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>

void dh_buf_init(dh_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
    b->err = DH_OK;
    b->err_at = 0;
}

void dh_buf_free(dh_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = DH_OK;
}

void dh_buf_truncate(dh_buf *b, size_t n)
{
    if (n < b->len)
        b->len = n;
    if (b->err != DH_OK && n <= b->err_at)
        b->err = DH_OK;
}

/* Keeps the first failure; see buf.h. */
static char *fail(dh_buf *b, dh_status st)
{
    b->err = st;
    b->err_at = b->len;
    return NULL;
}

char *dh_buf_reserve(dh_buf *b, size_t n)
{
    if (b->err != DH_OK) {
        if (b->len >= b->err_at)
            return NULL;
        b->err = DH_OK; /* cut back by hand below the failure: its bytes are gone */
    }
    if (b->data && n <= b->cap - b->len)
        return b->data + b->len;
    if (n > b->limit || b->len > b->limit - n)
        return fail(b, DH_ERR_NOMEM);
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
        return fail(b, DH_ERR_NOMEM);
    b->data = p;
    b->cap = cap;
    return b->data + b->len;
}

dh_status dh_buf_append(dh_buf *b, const void *data, size_t len)
{
    if (len == 0)
        return dh_buf_status(b);
    char *p = dh_buf_reserve(b, len);
    if (!p)
        return b->err;
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

/* No Debian-packaged C library prints the shortest round-trip form (glibc's printf has no
 * such conversion), so: %.17g (%.9g for a float) always reads back exactly; shorter
 * precisions are tried first and the first that reads back equal wins. Its exponent form
 * ("1e+01") becomes plain digits ("10") while they fit the type's precision, as Windows
 * writes numbers. A handful of snprintf calls per value is nothing next to decoding the
 * record that holds it. */
size_t dh_format_double(char *out, size_t cap, double v, int single)
{
    char tmp[48];
    int max = single ? 9 : 17, n = 0, prec;
    for (prec = 1; prec <= max; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (n < 0 || (size_t)n >= sizeof tmp)
            return 0;
        if (v != v) /* NaN never compares equal: its text is the same at any precision */
            break;
        if (single ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v)
            break;
    }
    const char *e = memchr(tmp, 'e', (size_t)n);
    if (e) {
        long x = strtol(e + 1, NULL, 10);
        if (x >= 0 && x < max && x + 1 > prec) {
            n = snprintf(tmp, sizeof tmp, "%.*g", (int)x + 1, v);
            if (n < 0 || (size_t)n >= sizeof tmp)
                return 0;
        }
    }
    if ((size_t)n >= cap)
        return 0;
    memcpy(out, tmp, (size_t)n + 1);
    return (size_t)n;
}

dh_status dh_buf_put_double(dh_buf *b, double v, int single)
{
    char tmp[48];
    size_t n = dh_format_double(tmp, sizeof tmp, v, single);
    return n ? dh_buf_append(b, tmp, n) : DH_ERR_FORMAT;
}
