/* JSON lines for events. Owns escaping rules; decides nothing about content. */
#include "output/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/decimal.h"
#include "core/timefmt.h"
#include "core/utf8.h"

static const char hexd[] = "0123456789abcdef";

static int esc_u(char *o, unsigned c)
{
    o[0] = '\\';
    o[1] = 'u';
    o[2] = hexd[(c >> 12) & 15];
    o[3] = hexd[(c >> 8) & 15];
    o[4] = hexd[(c >> 4) & 15];
    o[5] = hexd[c & 15];
    return 6;
}

/* Does any of the 8 bytes in w need more than a copy: a control, DEL, a byte of a multibyte
 * character (>= 0x80), a quote or a backslash? Exact, with the bit tricks of "Bit
 * Twiddling Hacks" (a byte below n; a byte equal to zero): most names and values are
 * shorter than the 16 bytes of a vector step, and this is a third of the cost per byte of
 * the byte loop. */
#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
static inline uint64_t has_zero(uint64_t v)
{
    return (v - ONES) & ~v & HIGHS;
}
static inline uint64_t word_special(uint64_t w)
{
    return (w & HIGHS) | ((w - ONES * 0x20) & ~w & HIGHS) | has_zero(w ^ (ONES * 0x7f)) |
           has_zero(w ^ (ONES * '"')) | has_zero(w ^ (ONES * '\\'));
}
#ifdef __SSE2__
/* Whether none of the 16 bytes needs escaping (control, quote, backslash, DEL, non-ASCII). */
static inline int vec_plain(__m128i v)
{
    __m128i ctl = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)); /* also every byte >= 0x80 */
    __m128i q = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    __m128i b = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
    return _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(ctl, q), _mm_or_si128(b, del))) == 0;
}
#endif

#ifdef __SSE2__
/* One bit per byte of v that needs more than a copy (see vec_plain). */
static inline unsigned vec_special(__m128i v)
{
    __m128i ctl = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
    __m128i q = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    __m128i b = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(ctl, q), _mm_or_si128(b, del)));
}
#endif

/* The byte at s[i], which needs more than a copy (a quote, a backslash, a control, DEL or
 * the start of a multibyte character), written escaped at *o; returns the bytes of s
 * it took. */
static inline size_t put_special(char **op, const unsigned char *s, size_t i, size_t n)
{
    char *o = *op;
    unsigned c = s[i];
    size_t l = 1;
    if (c == '"' || c == '\\') {
        *o++ = '\\';
        *o++ = (char)c;
    } else if (c < 0x20 || c == 0x7f) {
        switch (c) {
        case '\n':
            *o++ = '\\';
            *o++ = 'n';
            break;
        case '\r':
            *o++ = '\\';
            *o++ = 'r';
            break;
        case '\t':
            *o++ = '\\';
            *o++ = 't';
            break;
        default:
            o += esc_u(o, c);
        }
    } else {
        long cp;
        l = dh_utf8_next(s + i, n - i, &cp);
        if (cp < 0) {
            o += esc_u(o, 0xFFFD);
        } else if (dh_char_hidden(cp)) {
            /* C1 controls and invisible or bidi formatting characters: escaped, so
             * the line reads as it is in any viewer; the value is unchanged */
            if (cp > 0xFFFF) {
                o += esc_u(o, 0xD800 + (((unsigned)cp - 0x10000) >> 10));
                o += esc_u(o, 0xDC00 + (((unsigned)cp - 0x10000) & 0x3FF));
            } else {
                o += esc_u(o, (unsigned)cp);
            }
        } else {
            for (size_t k = 0; k < l; k++)
                o[k] = (char)s[i + k];
            o += l;
        }
    }
    *op = o;
    return l;
}

/* The string's bytes from i on, escaped, at o; returns the end. */
static char *put_from(char *o, const unsigned char *s, size_t i, size_t n)
{
    while (i < n) {
#ifdef __SSE2__
        /* Sixteen bytes per step, and where one needs escaping the plain ones before it
         * are kept from the same step and that byte is escaped at once (it is known to
         * need it): paths escape a backslash every few bytes, and byte by byte they were
         * a tenth of dump's instructions on the evtx-samples chunks (callgrind,
         * 2026-12-07). The output has room for 6 bytes per input byte, so the whole
         * vector can be stored ahead of what is kept. */
        if (i + 16 <= n) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            _mm_storeu_si128((__m128i *)(void *)o, v);
            unsigned mask = vec_special(v);
            if (!mask) {
                o += 16;
                i += 16;
                continue;
            }
            unsigned k = (unsigned)__builtin_ctz(mask);
            o += k;
            i += k;
            i += put_special(&o, s, i, n);
            continue;
        } else if (n >= 16) {
            /* Fewer than 16 bytes left: the last 16 of the string, those before i
             * masked off, and the plain ones copied exactly (no room is promised past
             * the string's own worst case). */
            unsigned char t[16];
            size_t back = i - (n - 16);
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));
            _mm_storeu_si128((__m128i *)(void *)t, v);
            unsigned mask = vec_special(v) >> back;
            size_t k = mask ? (size_t)__builtin_ctz(mask) : n - i;
            const unsigned char *src = t + back;
            if (k >= 8) {
                memcpy(o, src, 8);
                memcpy(o + k - 8, src + k - 8, 8);
            } else if (k >= 4) {
                memcpy(o, src, 4);
                memcpy(o + k - 4, src + k - 4, 4);
            } else {
                for (size_t j = 0; j < k; j++)
                    o[j] = (char)src[j];
            }
            o += k;
            i += k;
            if (i == n)
                break;
            i += put_special(&o, s, i, n);
            continue;
        }
#endif
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!word_special(w)) {
                memcpy(o, &w, 8);
                o += 8;
                i += 8;
                continue;
            }
        }
        unsigned c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            *o++ = (char)c;
            i++;
            continue;
        }
        i += put_special(&o, s, i, n);
    }
    return o;
}

/* Writes s as a quoted JSON string at o, which has room for 6 * n + 2 bytes (every byte
 * a 6-byte escape at worst); returns the end. Plain text is tested and copied in vectors:
 * 16-byte blocks with the last one overlapping what was written (the same bytes again),
 * and a string under 16 bytes as two overlapping halves filling one vector, so that no
 * string ends in a byte loop; the first block that needs escaping hands over to put_from
 * (kept out of line: inlined, its registers cost every call a long prologue, 15% of
 * put_string's instructions in dump, callgrind 2026-12-07). */
#if defined(__GNUC__)
#define COLD_PATH __attribute__((noinline, cold))
#else
#define COLD_PATH
#endif
static COLD_PATH char *put_from_cold(char *o, const unsigned char *s, size_t i, size_t n)
{
    o = put_from(o, s, i, n);
    *o++ = '"';
    return o;
}

#if defined(__GNUC__)
#define HOT_INLINE inline __attribute__((always_inline))
#else
#define HOT_INLINE inline
#endif
/* Inlined where it is called per item: the call was a sixth of its cost for the short
 * names and values most events hold (callgrind, 2026-12-07). */
static HOT_INLINE char *put_string(char *o, const unsigned char *s, size_t n)
{
    *o++ = '"';
#ifdef __SSE2__
    if (n >= 16) {
        size_t i = 0;
        for (; i + 16 <= n; i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            if (!vec_plain(v))
                return put_from_cold(o + i, s, i, n);
            _mm_storeu_si128((__m128i *)(void *)(o + i), v);
        }
        if (i < n) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));
            if (!vec_plain(v))
                return put_from_cold(o + i, s, i, n);
            _mm_storeu_si128((__m128i *)(void *)(o + n - 16), v);
        }
        o += n;
        *o++ = '"';
        return o;
    }
    if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        if (!vec_plain(_mm_set_epi64x((long long)b, (long long)a)))
            return put_from_cold(o, s, 0, n);
        memcpy(o + n - 8, &b, 8);
        memcpy(o, &a, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        if (!vec_plain(_mm_set_epi32((int)b, (int)a, (int)b, (int)a)))
            return put_from_cold(o, s, 0, n);
        memcpy(o + n - 4, &b, 4);
        memcpy(o, &a, 4);
    } else if (n >= 2) {
        uint16_t a, b;
        memcpy(&a, s, 2);
        memcpy(&b, s + n - 2, 2);
        if (!vec_plain(_mm_set1_epi32((int)((uint32_t)a | (uint32_t)b << 16))))
            return put_from_cold(o, s, 0, n);
        memcpy(o + n - 2, &b, 2);
        memcpy(o, &a, 2);
    } else if (n == 1) {
        if (!vec_plain(_mm_set1_epi8((char)s[0])))
            return put_from_cold(o, s, 0, n);
        o[0] = (char)s[0];
    }
    o += n;
    *o++ = '"';
    return o;
#else
    size_t i = 0;
    if (n >= 8) {
        uint64_t w;
        for (; i + 8 <= n; i += 8, o += 8) {
            memcpy(&w, s + i, 8);
            if (word_special(w))
                return put_from_cold(o, s, i, n);
            memcpy(o, &w, 8);
        }
        if (i < n) {
            memcpy(&w, s + n - 8, 8);
            if (word_special(w))
                return put_from_cold(o, s, i, n);
            memcpy(o - (i - (n - 8)), &w, 8);
            o += n - i;
        }
        *o++ = '"';
        return o;
    }
    return put_from_cold(o, s, 0, n);
#endif
}

dh_status dh_json_string(dh_buf *out, const char *str, size_t n)
{
    /* Worst case: every byte becomes a 6-byte escape. */
    if (n > ((size_t)-1) / 8)
        return DH_ERR_LIMIT;
    char *o = dh_buf_reserve(out, n * 6 + 2);
    if (!o)
        return DH_ERR_NOMEM;
    out->len += (size_t)(put_string(o, (const unsigned char *)str, n) - o);
    return DH_OK;
}

static dh_status key(dh_buf *out, const char *k)
{
    /* Keys are ours: plain ASCII, no escaping needed. */
    dh_status st = dh_buf_putc(out, '"');
    if (!st)
        st = dh_buf_puts(out, k);
    if (!st)
        st = dh_buf_append(out, "\":", 2);
    return st;
}

static int same_name(dh_str a, dh_str b)
{
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

/* qsort has no context argument: the items being sorted (dh_json_event is called from
 * one thread at a time per buffer, but from several workers: thread-local). */
static _Thread_local const dh_kv *sort_kv;

/* Orders item indexes by name, then by position (the order of the values in an array). */
static int kv_name_cmp(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    dh_str x = sort_kv[a].name, y = sort_kv[b].name;
    size_t m = x.len < y.len ? x.len : y.len;
    int r = m ? memcmp(x.ptr, y.ptr, m) : 0;
    if (!r && x.len != y.len)
        r = x.len < y.len ? -1 : 1;
    return r ? r : a < b ? -1 : a > b;
}

/* The general writer: any number of items, repeated names grouped, the taxonomy fields. */
static dh_status event_general(dh_buf *out, const dh_event *ev, unsigned flags)
{
    dh_status st = dh_buf_putc(out, '{');
    const char *file = dh_event_file(ev);
    if (!st)
        st = key(out, "file");
    if (!st)
        st = dh_json_string(out, file, strlen(file));
    if (dh_event_chunk(ev) >= 0) {
        if (!st)
            st = dh_buf_append(out, ",\"chunk\":", 9);
        if (!st)
            st = dh_buf_put_i64(out, dh_event_chunk(ev));
    }
    if (!st)
        st = dh_buf_append(out, ",\"offset\":", 10);
    if (!st)
        st = dh_buf_put_u64(out, dh_event_offset(ev));
    if (!st)
        st = dh_buf_append(out, ",\"record_id\":", 13);
    if (!st)
        st = dh_buf_put_u64(out, dh_event_record_id(ev));
    if (!st)
        st = dh_buf_append(out, ",\"time\":\"", 9);
    if (!st)
        st = dh_time_put_iso(out, dh_event_time(ev));
    if (!st)
        st = dh_buf_append(out, "\",\"event_id\":", 13);
    if (!st)
        st = dh_buf_put_u64(out, dh_event_id(ev));
    dh_str s = dh_event_provider(ev);
    if (!st)
        st = dh_buf_append(out, ",\"provider\":", 12);
    if (!st)
        st = dh_json_string(out, s.ptr, s.len);
    s = dh_event_channel(ev);
    if (!st)
        st = dh_buf_append(out, ",\"channel\":", 11);
    if (!st)
        st = dh_json_string(out, s.ptr, s.len);
    s = dh_event_host(ev);
    if (!st)
        st = dh_buf_append(out, ",\"computer\":", 12);
    if (!st)
        st = dh_json_string(out, s.ptr, s.len);
    if (!st)
        st = dh_buf_append(out, ",\"kind\":\"", 9);
    if (!st)
        st = dh_buf_puts(out, dh_kind_name(dh_event_kind(ev)));
    if (!st)
        st = dh_buf_append(out, "\",\"data\":{", 10);
    /* Names can repeat (array values, repeated elements): the first occurrence carries
     * all values of that name, as an array. The items are grouped by sorting their
     * indexes by name (n log n: an event may hold thousands of items, and comparing every
     * pair cost 30 ms an event at 4,000). */
    size_t n;
    const dh_kv *kv = dh_event_data(ev, &n);
    size_t *ord = n > 1 ? malloc(2 * n * sizeof *ord) : NULL;
    if (n > 1 && !ord)
        st = DH_ERR_NOMEM;
    size_t *start = ord ? ord + n : NULL; /* start[i]: where item i's group begins in ord */
    if (ord) {
        for (size_t i = 0; i < n; i++)
            ord[i] = i;
        sort_kv = kv;
        qsort(ord, n, sizeof *ord, kv_name_cmp);
        for (size_t k = 0, g = 0; k < n; k++) {
            if (k && !same_name(kv[ord[k - 1]].name, kv[ord[k]].name))
                g = k;
            start[ord[k]] = g;
        }
    }
    int first = 1;
    for (size_t i = 0; i < n && !st; i++) {
        size_t g = ord ? start[i] : 0, end = g + 1;
        if (ord) {
            if (ord[g] != i)
                continue; /* not the first of its name: written with the first */
            while (end < n && start[ord[end]] == g)
                end++;
        }
        if (!first)
            st = dh_buf_putc(out, ',');
        first = 0;
        if (!st)
            st = dh_json_string(out, kv[i].name.ptr, kv[i].name.len);
        if (!st)
            st = dh_buf_putc(out, ':');
        if (end - g == 1) {
            if (!st)
                st = dh_json_string(out, kv[i].value.ptr, kv[i].value.len);
            continue;
        }
        if (!st)
            st = dh_buf_putc(out, '[');
        for (size_t k = g; k < end && !st; k++) {
            if (k > g)
                st = dh_buf_putc(out, ',');
            if (!st)
                st = dh_json_string(out, kv[ord[k]].value.ptr, kv[ord[k]].value.len);
        }
        if (!st)
            st = dh_buf_putc(out, ']');
    }
    free(ord);
    if (!st)
        st = dh_buf_putc(out, '}');
    /* The System properties beyond the envelope (Level, Keywords, UserID...), when any. */
    const dh_kv *sys = dh_event_system(ev, &n);
    for (size_t i = 0; i < n && !st; i++) {
        st = dh_buf_puts(out, i ? "," : ",\"system\":{");
        if (!st)
            st = dh_json_string(out, sys[i].name.ptr, sys[i].name.len);
        if (!st)
            st = dh_buf_putc(out, ':');
        if (!st)
            st = dh_json_string(out, sys[i].value.ptr, sys[i].value.len);
        if (!st && i + 1 == n)
            st = dh_buf_putc(out, '}');
    }
    if ((flags & DH_JSON_FIELDS) && !st) {
        st = dh_buf_append(out, ",\"fields\":{", 11);
        int f = 1;
        for (int id = 0; id < DH_FIELD_COUNT && !st; id++) {
            dh_str v;
            if (!dh_event_field(ev, (dh_field)id, &v))
                continue;
            if (!f)
                st = dh_buf_putc(out, ',');
            f = 0;
            if (!st)
                st = key(out, dh_field_name((dh_field)id));
            if (!st)
                st = dh_json_string(out, v.ptr, v.len);
        }
        if (!st)
            st = dh_buf_putc(out, '}');
    }
    if (!st)
        st = dh_buf_append(out, "}\n", 2);
    return st;
}

/* The common event, written in one reservation: no repeated item name, no taxonomy
 * fields, at most FAST_ITEMS items. The general writer, piece by piece with a sort to
 * group repeated names, cost dump a third of its time in buffer checks and sorting
 * (perf, 2026-12-07); this one writes the same bytes. */
#define FAST_ITEMS 256

/* A name's hash from at most two fixed-size loads (first and last bytes, overlapping):
 * a copy of a short name's own length was a memcpy call per item (callgrind,
 * 2026-12-07). Equal names hash alike; a collision only costs a comparison. */
static inline uint64_t name_hash(dh_str s)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    uint64_t a = 0;
    if (s.len >= 8) {
        uint64_t x, y;
        memcpy(&x, p, 8);
        memcpy(&y, p + s.len - 8, 8);
        a = x ^ (y * 0x9E3779B97F4A7C15ULL);
    } else if (s.len >= 4) {
        uint32_t x, y;
        memcpy(&x, p, 4);
        memcpy(&y, p + s.len - 4, 4);
        a = x | (uint64_t)y << 32;
    } else if (s.len) {
        a = p[0] | (uint64_t)p[s.len / 2] << 8 | (uint64_t)p[s.len - 1] << 16;
    }
    return ((a + s.len) * 0xC2B2AE3D27D4EB4FULL) >> 32;
}

/* Does a name occur twice among the n items (n <= FAST_ITEMS)? */
static int names_repeat(const dh_kv *kv, size_t n)
{
    uint16_t slot[4 * FAST_ITEMS]; /* item index + 1, 0 = free */
    size_t mask = 31;
    while (mask + 1 < 2 * n)
        mask = mask * 2 + 1;
    memset(slot, 0, (mask + 1) * sizeof slot[0]);
    for (size_t i = 0; i < n; i++) {
        size_t h = (size_t)name_hash(kv[i].name) & mask;
        while (slot[h]) {
            if (same_name(kv[slot[h] - 1].name, kv[i].name))
                return 1;
            h = (h + 1) & mask;
        }
        slot[h] = (uint16_t)(i + 1);
    }
    return 0;
}

/* The event's time as dh_time_put_iso writes it ("YYYY-MM-DDThh:mm:ss.fffffffZ"), with
 * the date of the last day seen kept per thread: events come in runs of one day, and the
 * calendar arithmetic was 3% of dump (callgrind, 2026-12-07). Returns NULL where the
 * general formatter must write it (a year outside 0-9999, or no room). */
#define ISO_LEN 28
static _Thread_local struct {
    uint64_t day;  /* FILETIME days + 1, 0 = none */
    char date[11]; /* "YYYY-MM-DDT" */
} iso_cache;

static char *put_time(char *o, int64_t ft)
{
    uint64_t u = (uint64_t)ft, secs = u / 10000000, day = secs / 86400;
    if (iso_cache.day != day + 1) {
        dh_buf b;
        dh_buf_init(&b, 256);
        int ok = dh_time_put_iso(&b, ft) == DH_OK && b.len == ISO_LEN;
        if (ok)
            memcpy(iso_cache.date, b.data, 11);
        dh_buf_free(&b);
        if (!ok)
            return NULL;
        iso_cache.day = day + 1;
    }
    uint32_t frac = (uint32_t)(u % 10000000);
    unsigned sod = (unsigned)(secs % 86400);
    memcpy(o, iso_cache.date, 11);
    memcpy(o + 11, dh_digit_pairs + 2 * (sod / 3600), 2);
    o[13] = ':';
    memcpy(o + 14, dh_digit_pairs + 2 * (sod / 60 % 60), 2);
    o[16] = ':';
    memcpy(o + 17, dh_digit_pairs + 2 * (sod % 60), 2);
    o[19] = '.';
    memcpy(o + 20, dh_digit_pairs + 2 * (frac / 100000), 2);
    memcpy(o + 22, dh_digit_pairs + 2 * (frac / 1000 % 100), 2);
    memcpy(o + 24, dh_digit_pairs + 2 * (frac / 10 % 100), 2);
    o[26] = (char)('0' + frac % 10);
    o[27] = 'Z';
    return o + ISO_LEN;
}

static char *put_lit(char *o, const char *lit, size_t n)
{
    memcpy(o, lit, n);
    return o + n;
}
#define LIT(o, s) put_lit(o, s, sizeof s - 1)

dh_status dh_json_event(dh_buf *out, const dh_event *ev, unsigned flags)
{
    size_t n, nsys;
    const dh_kv *kv = dh_event_data(ev, &n);
    const dh_kv *sys = dh_event_system(ev, &nsys);
    if ((flags & DH_JSON_FIELDS) || n > FAST_ITEMS || out->err != DH_OK ||
        (n > 1 && names_repeat(kv, n)))
        return event_general(out, ev, flags);
    const char *file = dh_event_file(ev);
    size_t flen = strlen(file);
    dh_str prov = dh_event_provider(ev), chan = dh_event_channel(ev), host = dh_event_host(ev);
    const char *kind = dh_kind_name(dh_event_kind(ev));
    size_t klen = strlen(kind);
    /* Text bytes, each 6 bytes at worst; then quotes and punctuation per string, the
     * keys (131 bytes), numbers (4 of 20 digits at most) and time (28): 320 bytes cover
     * them. */
    size_t text = flen + prov.len + chan.len + host.len, strings = 4;
    for (size_t i = 0; i < n; i++)
        text += kv[i].name.len + kv[i].value.len;
    for (size_t i = 0; i < nsys; i++)
        text += sys[i].name.len + sys[i].value.len;
    strings += 2 * (n + nsys);
    if (text > ((size_t)-1) / 16)
        return event_general(out, ev, flags);
    size_t bound = 6 * text + 4 * strings + klen + 320;
    if (bound > out->limit || out->len > out->limit - bound)
        return event_general(out, ev, flags); /* may fit piece by piece */
    char *o = dh_buf_reserve(out, bound);
    if (!o)
        return dh_buf_status(out) ? dh_buf_status(out) : DH_ERR_NOMEM;
    char *start = o;
    o = LIT(o, "{\"file\":");
    o = put_string(o, (const unsigned char *)file, flen);
    if (dh_event_chunk(ev) >= 0) {
        o = LIT(o, ",\"chunk\":");
        o = dh_put_u64(o, (uint64_t)dh_event_chunk(ev));
    }
    o = LIT(o, ",\"offset\":");
    o = dh_put_u64(o, dh_event_offset(ev));
    o = LIT(o, ",\"record_id\":");
    o = dh_put_u64(o, dh_event_record_id(ev));
    o = LIT(o, ",\"time\":\"");
    char *t = put_time(o, dh_event_time(ev));
    if (t) {
        o = t;
    } else {
        /* The time through its formatter (which reserves its own room, inside ours). */
        out->len += (size_t)(o - start);
        dh_status st = dh_time_put_iso(out, dh_event_time(ev));
        if (st)
            return st;
        o = start = out->data + out->len;
    }
    o = LIT(o, "\",\"event_id\":");
    o = dh_put_u64(o, dh_event_id(ev));
    o = LIT(o, ",\"provider\":");
    o = put_string(o, (const unsigned char *)prov.ptr, prov.len);
    o = LIT(o, ",\"channel\":");
    o = put_string(o, (const unsigned char *)chan.ptr, chan.len);
    o = LIT(o, ",\"computer\":");
    o = put_string(o, (const unsigned char *)host.ptr, host.len);
    o = LIT(o, ",\"kind\":\"");
    o = put_lit(o, kind, klen);
    o = LIT(o, "\",\"data\":{");
    for (size_t i = 0; i < n; i++) {
        if (i)
            *o++ = ',';
        o = put_string(o, (const unsigned char *)kv[i].name.ptr, kv[i].name.len);
        *o++ = ':';
        o = put_string(o, (const unsigned char *)kv[i].value.ptr, kv[i].value.len);
    }
    *o++ = '}';
    for (size_t i = 0; i < nsys; i++) {
        o = i ? LIT(o, ",") : LIT(o, ",\"system\":{");
        o = put_string(o, (const unsigned char *)sys[i].name.ptr, sys[i].name.len);
        *o++ = ':';
        o = put_string(o, (const unsigned char *)sys[i].value.ptr, sys[i].value.len);
    }
    if (nsys)
        *o++ = '}';
    o = LIT(o, "}\n");
    out->len += (size_t)(o - start);
    return DH_OK;
}
