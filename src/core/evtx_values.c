/* BinXML substitution values to text, rendered as Windows renders them (decimal integers,
 * 0x-prefixed unpadded hex, {GUID} uppercase, S-1-... SIDs, ISO-8601 UTC times). A value
 * whose length does not fit its type is rendered as hex bytes, never read past. */
#include <stdio.h>

#include "core/decimal.h"
#include "core/timefmt.h"
#include "core/utf16.h"
#include "core/evtx_format.h"

/* "00" to "FF": a byte's two digits in one copy. */
#define HP(h)                                                                                      \
    h "0" h "1" h "2" h "3" h "4" h "5" h "6" h "7" h "8" h "9" h "A" h "B" h "C" h "D" h "E" h "F"
static const char hex_pairs[513] = HP("0") HP("1") HP("2") HP("3") HP("4") HP("5") HP("6") HP("7")
    HP("8") HP("9") HP("A") HP("B") HP("C") HP("D") HP("E") HP("F");
#undef HP

static dh_status put_hex_bytes(dh_buf *out, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    if (n > EVTX_VALUE_LIMIT)
        return DH_ERR_LIMIT;
    char *o = evtx_room(out, n * 2);
    if (!o)
        return DH_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        o[2 * i] = digits[p[i] >> 4];
        o[2 * i + 1] = digits[p[i] & 15];
    }
    out->len += n * 2;
    return DH_OK;
}

static dh_status put_guid(dh_buf *out, const uint8_t *p)
{
    /* Data1..Data3 little-endian, Data4 as stored; where each byte's two digits go. */
    static const uint8_t order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    static const uint8_t at[16] = {1, 3, 5, 7, 10, 12, 15, 17, 20, 22, 25, 27, 29, 31, 33, 35};
    char *o = evtx_room(out, 38);
    if (!o)
        return DH_ERR_NOMEM;
    memcpy(o, "{00000000-0000-0000-0000-000000000000}", 38);
    for (int i = 0; i < 16; i++)
        memcpy(o + at[i], hex_pairs + 2 * p[order[i]], 2);
    out->len += 38;
    return DH_OK;
}

static dh_status put_u(dh_buf *out, uint64_t v);
static dh_status put_hex(dh_buf *out, uint64_t v);

/* Length of the SID at p (within n bytes), or 0 if malformed. */
static size_t sid_len(const uint8_t *p, size_t n)
{
    if (n < 8)
        return 0;
    size_t need = 8 + (size_t)p[1] * 4;
    return need <= n ? need : 0;
}

static dh_status put_sid(dh_buf *out, const uint8_t *p, size_t n)
{
    size_t need = sid_len(p, n);
    if (!need)
        return put_hex_bytes(out, p, n);
    dh_status st = dh_buf_append(out, "S-", 2);
    if (!st)
        st = put_u(out, p[0]);
    uint64_t auth = 0;
    for (int i = 2; i < 8; i++)
        auth = (auth << 8) | p[i];
    if (!st)
        st = dh_buf_putc(out, '-');
    if (!st)
        st = auth >= (1ULL << 32) ? put_hex(out, auth) : put_u(out, auth);
    for (unsigned i = 0; i < p[1] && !st; i++) {
        st = dh_buf_putc(out, '-');
        if (!st)
            st = put_u(out, rd32(p + 8 + 4 * i));
    }
    return st;
}

/* Decimal and hex integers written straight into reserved room: through dh_buf_put_u64
 * (digits to a temporary, then an append) they were a tenth of the decode time of a
 * Sysmon log, whose values are mostly integers (callgrind, 2026-12-07). */
static dh_status put_dec(dh_buf *out, uint64_t v, int neg)
{
    char *o = evtx_room(out, 21);
    if (!o)
        return DH_ERR_NOMEM;
    if (neg)
        *o++ = '-';
    size_t n = (size_t)(dh_put_u64(o, v) - o);
    out->len += n + (neg ? 1 : 0);
    return DH_OK;
}

static dh_status put_u(dh_buf *out, uint64_t v)
{
    return put_dec(out, v, 0);
}

static dh_status put_i(dh_buf *out, int64_t v)
{
    return v < 0 ? put_dec(out, 0ULL - (uint64_t)v, 1) : put_dec(out, (uint64_t)v, 0);
}

/* "0x" and lowercase hex digits, no padding (as dh_buf_put_hex). */
static dh_status put_hex(dh_buf *out, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char *o = evtx_room(out, 18);
    if (!o)
        return DH_ERR_NOMEM;
    unsigned n = 1;
    while (n < 16 && (v >> (4 * n)))
        n++;
    o[0] = '0';
    o[1] = 'x';
    for (unsigned k = 0; k < n; k++)
        o[2 + k] = digits[(v >> (4 * (n - 1 - k))) & 15];
    out->len += 2 + n;
    return DH_OK;
}

static dh_status put_systemtime(dh_buf *out, const uint8_t *p)
{
    return dh_time_put_fields(out, rd16(p), rd16(p + 2), rd16(p + 6), rd16(p + 8), rd16(p + 10),
                              rd16(p + 12), rd16(p + 14), 3);
}

/* Fixed element size of a scalar type, 0 for variable-size types. */
static size_t type_size(uint8_t t, size_t len)
{
    switch (t) {
    case 0x03:
    case 0x04:
        return 1;
    case 0x05:
    case 0x06:
        return 2;
    case 0x07:
    case 0x08:
    case 0x0b:
    case 0x0d:
    case 0x14:
        return 4;
    case 0x09:
    case 0x0a:
    case 0x0c:
    case 0x11:
    case 0x15:
        return 8;
    case 0x0f:
    case 0x12:
        return 16;
    case 0x10:
        return len == 4 || len % 8 ? 4 : 8;
    default:
        return 0;
    }
}

/* type_size as a table for the fixed-size types (0 for 0x10, whose size depends on the
 * length, and for the variable ones): scalar_text runs for every value of every record. */
static const uint8_t fixed_size[0x16] = {
    [0x03] = 1, [0x04] = 1, [0x05] = 2,  [0x06] = 2, [0x07] = 4, [0x08] = 4,
    [0x0b] = 4, [0x0d] = 4, [0x14] = 4,  [0x09] = 8, [0x0a] = 8, [0x0c] = 8,
    [0x11] = 8, [0x15] = 8, [0x0f] = 16, [0x12] = 16};

static dh_status scalar_text(dh_buf *out, uint8_t t, const uint8_t *p, size_t n)
{
    size_t sz = t < sizeof fixed_size ? fixed_size[t] : 0;
    if (t == 0x10)
        sz = type_size(t, n);
    if (sz && n != sz)
        return put_hex_bytes(out, p, n);
    switch (t) {
    case 0x00:
        return DH_OK;
    case 0x01:
        while (n >= 2 && p[n - 1] == 0 && p[n - 2] == 0)
            n -= 2;
        return dh_utf16le_to_utf8(out, p, n / 2);
    case 0x02:
        while (n >= 1 && p[n - 1] == 0)
            n--;
        return dh_cp1252_to_utf8(out, p, n);
    case 0x03:
        return put_i(out, (int8_t)p[0]);
    case 0x04:
        return put_u(out, p[0]);
    case 0x05:
        return put_i(out, (int16_t)rd16(p));
    case 0x06:
        return put_u(out, rd16(p));
    case 0x07:
        return put_i(out, (int32_t)rd32(p));
    case 0x08:
        return put_u(out, rd32(p));
    case 0x09:
        return put_i(out, (int64_t)rd64(p));
    case 0x0a:
        return put_u(out, rd64(p));
    case 0x0b: {
        uint32_t u = rd32(p);
        float f;
        memcpy(&f, &u, 4);
        return dh_buf_put_double(out, f, 1);
    }
    case 0x0c: {
        uint64_t u = rd64(p);
        double f;
        memcpy(&f, &u, 8);
        return dh_buf_put_double(out, f, 0);
    }
    case 0x0d:
        return dh_buf_puts(out, rd32(p) ? "true" : "false");
    case 0x0f:
        return put_guid(out, p);
    case 0x10:
        return put_hex(out, n == 4 ? rd32(p) : rd64(p));
    case 0x11:
        return dh_time_put_iso(out, (int64_t)rd64(p));
    case 0x12:
        return put_systemtime(out, p);
    case 0x13:
        return put_sid(out, p, n);
    case 0x14:
        return put_hex(out, rd32(p));
    case 0x15:
        return put_hex(out, rd64(p));
    default:
        return put_hex_bytes(out, p, n);
    }
}

size_t evtx_array_count(uint8_t type, const uint8_t *p, size_t len)
{
    uint8_t t = type & 0x7f;
    if (t == 0x01 || t == 0x02) {
        size_t unit = t == 0x01 ? 2 : 1, count = 0, i = 0;
        while (i + unit <= len) {
            size_t j = i;
            while (j + unit <= len && (unit == 1 ? p[j] != 0 : (p[j] | p[j + 1]) != 0))
                j += unit;
            count++;
            i = j + unit;
        }
        return count;
    }
    if (t == 0x13) {
        size_t count = 0, i = 0, l;
        while (i < len && (l = sid_len(p + i, len - i)) != 0) {
            count++;
            i += l;
        }
        return count;
    }
    size_t sz = type_size(t, len);
    return sz ? len / sz : 0;
}

int evtx_array_item(uint8_t type, const uint8_t *p, size_t len, size_t idx, const uint8_t **ip,
                    size_t *ilen)
{
    uint8_t t = type & 0x7f;
    if (t == 0x01 || t == 0x02) {
        size_t unit = t == 0x01 ? 2 : 1, count = 0, i = 0;
        while (i + unit <= len) {
            size_t j = i;
            while (j + unit <= len && (unit == 1 ? p[j] != 0 : (p[j] | p[j + 1]) != 0))
                j += unit;
            if (count++ == idx) {
                *ip = p + i;
                *ilen = j - i;
                return 1;
            }
            i = j + unit;
        }
        return 0;
    }
    if (t == 0x13) {
        size_t count = 0, i = 0, l;
        while (i < len && (l = sid_len(p + i, len - i)) != 0) {
            if (count++ == idx) {
                *ip = p + i;
                *ilen = l;
                return 1;
            }
            i += l;
        }
        return 0;
    }
    size_t sz = type_size(t, len);
    if (!sz || (idx + 1) * sz > len)
        return 0;
    *ip = p + idx * sz;
    *ilen = sz;
    return 1;
}

int evtx_array_next(uint8_t type, const uint8_t *p, size_t len, size_t *pos, const uint8_t **ip,
                    size_t *ilen)
{
    uint8_t t = type & 0x7f;
    size_t i = *pos;
    if (t == 0x01 || t == 0x02) {
        size_t unit = t == 0x01 ? 2 : 1, j = i;
        if (i + unit > len)
            return 0;
        while (j + unit <= len && (unit == 1 ? p[j] != 0 : (p[j] | p[j + 1]) != 0))
            j += unit;
        *ip = p + i;
        *ilen = j - i;
        *pos = j + unit;
        return 1;
    }
    if (t == 0x13) {
        size_t l;
        if (i >= len || (l = sid_len(p + i, len - i)) == 0)
            return 0;
        *ip = p + i;
        *ilen = l;
        *pos = i + l;
        return 1;
    }
    size_t sz = type_size(t, len);
    if (!sz || i + sz > len)
        return 0;
    *ip = p + i;
    *ilen = sz;
    *pos = i + sz;
    return 1;
}

dh_status evtx_value_text(dh_buf *out, uint8_t type, const uint8_t *p, size_t len)
{
    if (!(type & 0x80))
        return scalar_text(out, type, p, len);
    /* Arrays render as their elements joined by ", " when one piece of text is needed. */
    const uint8_t *ip;
    size_t il, pos = 0;
    for (size_t i = 0; evtx_array_next(type, p, len, &pos, &ip, &il); i++) {
        dh_status st = i ? dh_buf_append(out, ", ", 2) : DH_OK;
        if (!st)
            st = scalar_text(out, type & 0x7f, ip, il);
        if (st)
            return st;
    }
    return DH_OK;
}
