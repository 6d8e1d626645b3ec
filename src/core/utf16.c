/* UTF-16LE -> UTF-8. This is on the decoder's hot path (every string value of every
 * record), so the common all-ASCII case moves four code units per step with one 64-bit
 * load and mask; iconv costs a call and a state object per string. */
#include "core/utf16.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

/* dh_buf_reserve with the common case (room already there) inline: one call per string
 * value of every record otherwise. */
static inline char *room(dh_buf *b, size_t n)
{
    if (b->err == DH_OK && b->data && n <= b->cap - b->len)
        return b->data + b->len;
    return dh_buf_reserve(b, n);
}

/* The all-ASCII prefix of p[0, n) copied to o, 16 code units per step, and the last
 * partial step done again overlapping what was written (the same bytes) so that no
 * string of 4 units or more ends in a unit loop: most values are short (a median of ~12
 * units in the corpus) and the loop's tail cost more than its body. Returns the units
 * done: n, or where the first block holding a non-ASCII unit starts. */
static size_t ascii_prefix16(char *o, const uint8_t *p, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i mask = _mm_set1_epi16((short)0xFF80), zero = _mm_setzero_si128();
    for (; i + 16 <= n; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + 2 * i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 2 * i + 16));
        __m128i hi = _mm_and_si128(_mm_or_si128(a, b), mask);
        if (_mm_movemask_epi8(_mm_cmpeq_epi16(hi, zero)) != 0xFFFF)
            return i;
        _mm_storeu_si128((__m128i *)(void *)(o + i), _mm_packus_epi16(a, b));
    }
    if (i == n)
        return n;
    if (n >= 8) {
        /* One or two 8-unit blocks end the string: [i, i + 8) when there is room, and the
         * last 8 units (overlapping). */
        if (i + 8 <= n) {
            __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + 2 * i));
            if (_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_and_si128(a, mask), zero)) != 0xFFFF)
                return i;
            _mm_storel_epi64((__m128i *)(void *)(o + i), _mm_packus_epi16(a, a));
            i += 8;
            if (i == n)
                return n;
        }
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + 2 * (n - 8)));
        if (_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_and_si128(a, mask), zero)) != 0xFFFF)
            return i;
        _mm_storel_epi64((__m128i *)(void *)(o + n - 8), _mm_packus_epi16(a, a));
        return n;
    }
    if (n >= 4) {
        /* The first and the last 4 units (overlapping for 5 to 7) in one vector: one test
         * and one pack for both; unit by unit the 8 bytes were a tenth of the conversion
         * (callgrind, 2026-12-07). */
        uint64_t w, v;
        memcpy(&w, p, 8);
        memcpy(&v, p + 2 * (n - 4), 8);
        __m128i a = _mm_set_epi64x((long long)v, (long long)w);
        if (_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_and_si128(a, mask), zero)) != 0xFFFF)
            return 0;
        uint64_t t;
        _mm_storel_epi64((__m128i *)(void *)&t, _mm_packus_epi16(a, a));
        uint32_t lo = (uint32_t)t, hi = (uint32_t)(t >> 32);
        memcpy(o + n - 4, &hi, 4);
        memcpy(o, &lo, 4);
        return n;
    }
    return 0;
#else
    if (n >= 4) {
        /* Two 4-unit words, overlapping for 5 to 7 units. */
        uint64_t w, v;
        memcpy(&w, p, 8);
        memcpy(&v, p + 2 * (n - 4), 8);
        if (((w | v) & 0xFF80FF80FF80FF80ULL) != 0)
            return 0;
        char t[8];
        t[0] = (char)(w & 0x7F);
        t[1] = (char)((w >> 16) & 0x7F);
        t[2] = (char)((w >> 32) & 0x7F);
        t[3] = (char)((w >> 48) & 0x7F);
        t[4] = (char)(v & 0x7F);
        t[5] = (char)((v >> 16) & 0x7F);
        t[6] = (char)((v >> 32) & 0x7F);
        t[7] = (char)((v >> 48) & 0x7F);
        memcpy(o, t, 4);
        memcpy(o + n - 4, t + 4, 4);
        return n;
    }
    return 0;
#endif
}

dh_status dh_utf16le_to_utf8(dh_buf *out, const uint8_t *p, size_t n)
{
    /* Worst case 3 bytes per code unit (a surrogate pair is 4 bytes for 2 units). */
    if (n > ((size_t)-1) / 4)
        return DH_ERR_LIMIT;
    char *o = room(out, n * 3);
    if (!o)
        return DH_ERR_NOMEM;
    size_t i = ascii_prefix16(o, p, n);
    if (i == n) {
        out->len += n;
        return DH_OK;
    }
    char *start = o;
    o += i;
    while (i < n) {
#ifdef __SSE2__
        /* Eight ASCII code units per step: the stats benchmark spends a quarter of its
         * instructions here with the 4-unit step (callgrind, 2026-11-23). */
        if (i + 8 <= n) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 2 * i));
            __m128i hi = _mm_and_si128(v, _mm_set1_epi16((short)0xFF80));
            if (_mm_movemask_epi8(_mm_cmpeq_epi16(hi, _mm_setzero_si128())) == 0xFFFF) {
                _mm_storel_epi64((__m128i *)(void *)o, _mm_packus_epi16(v, v));
                o += 8;
                i += 8;
                continue;
            }
        }
#endif
        if (i + 4 <= n) {
            uint64_t w;
            memcpy(&w, p + 2 * i, 8);
            if ((w & 0xFF80FF80FF80FF80ULL) == 0) {
                o[0] = (char)(w & 0x7F);
                o[1] = (char)((w >> 16) & 0x7F);
                o[2] = (char)((w >> 32) & 0x7F);
                o[3] = (char)((w >> 48) & 0x7F);
                o += 4;
                i += 4;
                continue;
            }
        }
        uint32_t c = rd16(p + 2 * i);
        i++;
        if (c < 0x80) {
            *o++ = (char)c;
        } else if (c < 0x800) {
            *o++ = (char)(0xC0 | (c >> 6));
            *o++ = (char)(0x80 | (c & 0x3F));
        } else if (c >= 0xD800 && c <= 0xDBFF && i < n && rd16(p + 2 * i) >= 0xDC00 &&
                   rd16(p + 2 * i) <= 0xDFFF) {
            uint32_t lo = rd16(p + 2 * i);
            i++;
            uint32_t cp = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
            *o++ = (char)(0xF0 | (cp >> 18));
            *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
            *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
            *o++ = (char)(0x80 | (cp & 0x3F));
        } else {
            if (c >= 0xD800 && c <= 0xDFFF)
                c = 0xFFFD;
            *o++ = (char)(0xE0 | (c >> 12));
            *o++ = (char)(0x80 | ((c >> 6) & 0x3F));
            *o++ = (char)(0x80 | (c & 0x3F));
        }
    }
    out->len += (size_t)(o - start);
    return DH_OK;
}

/* Windows-1252 bytes 0x80-0x9F; 0 marks the five undefined positions (kept as U+FFFD). */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

dh_status dh_cp1252_to_utf8(dh_buf *out, const uint8_t *p, size_t n)
{
    if (n > ((size_t)-1) / 4)
        return DH_ERR_LIMIT;
    char *o = room(out, n * 3);
    if (!o)
        return DH_ERR_NOMEM;
    char *start = o;
    for (size_t i = 0; i < n; i++) {
        /* ASCII runs in whole words: ANSI strings are plain ASCII almost always, and a
         * byte at a time this was 5% of hunt's instructions on the evtx-samples chunks
         * (callgrind, 2026-12-07). */
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & 0x8080808080808080ULL)) {
                memcpy(o, &w, 8);
                o += 8;
                i += 7;
                continue;
            }
        }
        uint32_t c = p[i];
        if (c >= 0x80 && c < 0xA0)
            c = cp1252_high[c - 0x80] ? cp1252_high[c - 0x80] : 0xFFFD;
        if (c < 0x80) {
            *o++ = (char)c;
        } else if (c < 0x800) {
            *o++ = (char)(0xC0 | (c >> 6));
            *o++ = (char)(0x80 | (c & 0x3F));
        } else {
            *o++ = (char)(0xE0 | (c >> 12));
            *o++ = (char)(0x80 | ((c >> 6) & 0x3F));
            *o++ = (char)(0x80 | (c & 0x3F));
        }
    }
    out->len += (size_t)(o - start);
    return DH_OK;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes) and its code point; 0 when the
 * bytes do not start a well-formed sequence (RFC 3629: no overlong forms, no surrogates). */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

size_t dh_utf8_to_utf16le(uint8_t *out, size_t cap, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0, i = 0;
    while (i < n) {
        /* ASCII runs, the common case of every log value, one byte at a time but with no
         * decoding. */
        if (p[i] < 0x80) {
            if (cap - o < 2)
                return (size_t)-1;
            out[o++] = p[i++];
            out[o++] = 0;
            continue;
        }
        uint32_t cp;
        size_t l = utf8_seq(p + i, n - i, &cp);
        if (!l) {
            cp = 0xFFFD;
            l = 1;
        }
        i += l;
        if (cp >= 0x10000) {
            if (cap - o < 4)
                return (size_t)-1;
            uint32_t v = cp - 0x10000, hi = 0xD800 + (v >> 10), lo = 0xDC00 + (v & 0x3FF);
            out[o++] = (uint8_t)(hi & 0xFF);
            out[o++] = (uint8_t)(hi >> 8);
            out[o++] = (uint8_t)(lo & 0xFF);
            out[o++] = (uint8_t)(lo >> 8);
        } else {
            if (cap - o < 2)
                return (size_t)-1;
            out[o++] = (uint8_t)(cp & 0xFF);
            out[o++] = (uint8_t)(cp >> 8);
        }
    }
    return o;
}
