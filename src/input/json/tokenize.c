/* The JSON tokenizers (tokenize.h): a fast single pass for well-formed event lines and
 * jsmn, the reference, for everything the fast pass gives up on.
 *
 * Why a hand-written pass: perf on `hunt -j1 --jsonl` over the corpus OTRF capture (49.5 MB,
 * 32,706 lines, Release, 2026-12-07) put jsmn_parse at 13.5% of all samples, the largest
 * single cost of the reader after the stream copy: jsmn looks at every byte of a string
 * through its main switch, and most of an event's bytes are in strings (paths, command
 * lines, call traces). This pass skips string bytes eight at a time and leaves the
 * grammar's corner cases to jsmn: it answers only when the input is well-formed, so the
 * tokens it gives are the ones jsmn gives (checked by tests/fuzz/fuzz_jsontok.c). */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "input/json/tokenize.h"

int jsonl_tokenize_jsmn(const char *js, size_t n, jsmntok_t *tok, unsigned max)
{
    jsmn_parser p;
    jsmn_init(&p);
    return jsmn_parse(&p, js, n, tok, max);
}

static inline int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

#ifndef __SSE2__
/* Does any byte of x equal the byte repeated in b? (the classic zero-byte test on x ^ b) */
static inline uint64_t has_byte(uint64_t x, uint64_t b)
{
    uint64_t y = x ^ b;
    return (y - 0x0101010101010101ULL) & ~y & 0x8080808080808080ULL;
}
#endif

/* The closing quote of the string whose first byte (after the opening quote) is js[i]; its
 * index, or -1 where jsmn must decide (a NUL, a bad or cut escape, no closing quote). The
 * escapes jsmn accepts: \" \/ \\ \b \f \r \n \t and \u with four hex digits. */
static long string_end(const unsigned char *js, size_t n, size_t i)
{
    for (;;) {
#ifdef __SSE2__
        /* Sixteen bytes a time where SSE2 is there (every x86-64): string_end fell from
         * 5.5% to 2% of the run's samples (OTRF capture, perf 2026-12-07). */
        const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), z = _mm_setzero_si128();
        while (i + 16 <= n) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(js + i));
            int m = _mm_movemask_epi8(_mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)), _mm_cmpeq_epi8(x, z)));
            if (m) { /* the byte found decides here: no second look by the loop below */
                i += (size_t)__builtin_ctz((unsigned)m);
                if (js[i] == '"')
                    return (long)i;
                if (js[i] == 0)
                    return -1;
                goto escape;
            }
            i += 16;
        }
#else
        while (i + 8 <= n) {
            uint64_t x;
            memcpy(&x, js + i, 8);
            if (has_byte(x, 0x2222222222222222ULL) | has_byte(x, 0x5c5c5c5c5c5c5c5cULL) |
                has_byte(x, 0))
                break;
            i += 8;
        }
#endif
        for (; i < n; i++) {
            unsigned char c = js[i];
            if (c == '"')
                return (long)i;
            if (c == 0)
                return -1;
            if (c == '\\')
                break;
        }
#ifdef __SSE2__
    escape:
#endif
        if (i + 1 >= n)
            return -1;
        switch (js[i + 1]) {
        case '"':
        case '/':
        case '\\':
        case 'b':
        case 'f':
        case 'r':
        case 'n':
        case 't':
            i += 2;
            break;
        case 'u':
            if (i + 6 > n)
                return -1;
            for (size_t k = i + 2; k < i + 6; k++) {
                unsigned char h = js[k];
                if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
                    return -1;
            }
            i += 6;
            break;
        default:
            return -1;
        }
    }
}

/* The end of the primitive (number, true, false, null) starting at js[i], as jsmn's strict
 * mode delimits one: up to whitespace, a comma or a closing bracket; -1 on a byte jsmn
 * refuses or at the end of the input, and also on a quote or an opening bracket, which jsmn
 * keeps inside a primitive (1"a", 1[2) but which the array scan (array_next) reads as a
 * string or a nesting, and the reference's depth check (jsonl_deeper_than) counts as one:
 * the fast pass read -[[[...(130 brackets) as one primitive where the reference refused the
 * line as nested too deep (found by fuzz_jsontok, 2026-12-07). jsmn decides those lines. */
static long primitive_end(const unsigned char *js, size_t n, size_t i)
{
    for (; i < n; i++) {
        unsigned char c = js[i];
        if (c == ',' || c == '}' || c == ']' || is_ws(c))
            return (long)i;
        if (c < 32 || c >= 127 || c == '"' || c == '{' || c == '[')
            return -1;
    }
    return -1;
}

static inline int tok_new(jsmntok_t *tok, unsigned *nt, unsigned max, jsmntype_t type, size_t start,
                          size_t end, int parent)
{
    if (*nt >= max)
        return -1;
    jsmntok_t *t = &tok[*nt];
    t->type = type;
    t->start = (int)start;
    t->end = end == (size_t)-1 ? -1 : (int)end;
    t->size = 0;
    t->parent = parent;
    if (parent >= 0)
        tok[parent].size++;
    return (int)(*nt)++;
}

/* long because: one state machine (value, after a value, key) with the container stack
 * inline, so a line is read in one pass with no call per token. */
static int tokenize_fast(const char *text, size_t n, jsmntok_t *tok, unsigned max, size_t *vend)
{
    const unsigned char *js = (const unsigned char *)text;
    int stack[JSONL_TOK_DEPTH];
    int depth = 0, parent = -1;
    unsigned nt = 0;
    size_t i = 0;
    if (n >= INT_MAX)
        return -1;
    while (i < n && is_ws(js[i]))
        i++;
    if (i >= n || (js[i] != '{' && js[i] != '['))
        return -1;
value:
    if (i >= n)
        return -1;
    switch (js[i]) {
    case '{':
    case '[': {
        if (depth == JSONL_TOK_DEPTH)
            return -1;
        int obj = js[i] == '{';
        int t = tok_new(tok, &nt, max, obj ? JSMN_OBJECT : JSMN_ARRAY, i, (size_t)-1, parent);
        if (t < 0)
            return -1;
        stack[depth++] = t;
        for (i++; i < n && is_ws(js[i]); i++)
            ;
        if (i >= n)
            return -1;
        if (js[i] == (obj ? '}' : ']')) {
            tok[t].end = (int)i + 1;
            depth--;
            i++;
            goto after;
        }
        if (obj)
            goto key;
        parent = t;
        goto value;
    }
    case '"': {
        long e = string_end(js, n, i + 1);
        if (e < 0 || tok_new(tok, &nt, max, JSMN_STRING, i + 1, (size_t)e, parent) < 0)
            return -1;
        i = (size_t)e + 1;
        goto after;
    }
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
    case 't':
    case 'f':
    case 'n': {
        long e = primitive_end(js, n, i);
        if (e < 0 || tok_new(tok, &nt, max, JSMN_PRIMITIVE, i, (size_t)e, parent) < 0)
            return -1;
        i = (size_t)e;
        goto after;
    }
    default:
        return -1;
    }
after:
    if (depth == 0) { /* the top-level value is closed: only whitespace may follow */
        if (vend) {   /* or anything: the caller reads on (an array's next element) */
            *vend = i;
            return (int)nt;
        }
        while (i < n && is_ws(js[i]))
            i++;
        return i == n ? (int)nt : -1;
    }
    while (i < n && is_ws(js[i]))
        i++;
    if (i >= n)
        return -1;
    {
        int top = stack[depth - 1];
        int obj = tok[top].type == JSMN_OBJECT;
        if (js[i] == ',') {
            for (i++; i < n && is_ws(js[i]); i++)
                ;
            if (obj)
                goto key;
            parent = top;
            goto value;
        }
        if (js[i] != (obj ? '}' : ']'))
            return -1;
        tok[top].end = (int)i + 1;
        depth--;
        i++;
        goto after;
    }
key:
    if (i >= n || js[i] != '"')
        return -1;
    {
        int obj = stack[depth - 1];
        long e = string_end(js, n, i + 1);
        if (e < 0)
            return -1;
        int k = tok_new(tok, &nt, max, JSMN_STRING, i + 1, (size_t)e, obj);
        if (k < 0)
            return -1;
        for (i = (size_t)e + 1; i < n && is_ws(js[i]); i++)
            ;
        if (i >= n || js[i] != ':')
            return -1;
        for (i++; i < n && is_ws(js[i]); i++)
            ;
        parent = k;
        goto value;
    }
}

int jsonl_tokenize_fast(const char *js, size_t n, jsmntok_t *tok, unsigned max)
{
    return tokenize_fast(js, n, tok, max, NULL);
}

int jsonl_tokenize_fast_prefix(const char *js, size_t n, jsmntok_t *tok, unsigned max, size_t *end)
{
    return tokenize_fast(js, n, tok, max, end);
}

size_t jsonl_quote_close(const char *text, size_t n, size_t i)
{
    const unsigned char *js = (const unsigned char *)text;
    size_t open = i;
    for (;;) {
#ifdef __SSE2__
        const __m128i q = _mm_set1_epi8('"');
        while (i + 16 <= n) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(js + i));
            int m = _mm_movemask_epi8(_mm_cmpeq_epi8(x, q));
            if (m) {
                i += (size_t)__builtin_ctz((unsigned)m);
                break;
            }
            i += 16;
        }
#endif
        while (i < n && js[i] != '"')
            i++;
        if (i >= n)
            return n;
        size_t k = i; /* the backslashes before it: an odd run escapes it */
        while (k > open && js[k - 1] == '\\')
            k--;
        if (((i - k) & 1) == 0)
            return i;
        i++;
    }
}

/* ---- the array cut's scan -----------------------------------------------------------------
 * Cutting a JSON array into batches must find where elements end, which a byte-by-byte scan
 * (array_next in jsonl.c, with a jsonl_quote_close per string) did at 180 million
 * instructions for the 49.6 MB OTRF capture as an array, a sixth of `hunt -j1` (callgrind
 * 2026-12-07). Here 64 bytes are classified at a time into bit masks: quotes, backslashes
 * and bracket candidates; escapes and the inside of strings come from the masks, so only
 * the brackets outside strings (a few per element) are looked at one by one. */

/* Bits of the 64 bytes at p: quotes, backslashes, and bytes that may be brackets ({ [ } ]
 * and a few others, told apart by the caller: x | 0x26 is 0x7f for exactly
 * Y [ ] _ y { } and 0x7f). */
static inline void block_masks(const unsigned char *p, uint64_t *q, uint64_t *bs, uint64_t *br)
{
#ifdef __SSE2__
    const __m128i vq = _mm_set1_epi8('"'), vb = _mm_set1_epi8('\\'), v26 = _mm_set1_epi8(0x26),
                  v7f = _mm_set1_epi8(0x7f);
    __m128i x[4];
    uint64_t m[3][4];
    for (unsigned k = 0; k < 4; k++) { /* unrolled by the compiler: constant shifts below */
        x[k] = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        m[0][k] = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x[k], vq));
        m[1][k] = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x[k], vb));
        m[2][k] = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(x[k], v26), v7f));
    }
    *q = m[0][0] | m[0][1] << 16 | m[0][2] << 32 | m[0][3] << 48;
    *bs = m[1][0] | m[1][1] << 16 | m[1][2] << 32 | m[1][3] << 48;
    *br = m[2][0] | m[2][1] << 16 | m[2][2] << 32 | m[2][3] << 48;
#else
    uint64_t a = 0, b = 0, c = 0;
    for (unsigned k = 0; k < 64; k++) {
        a |= (uint64_t)(p[k] == '"') << k;
        b |= (uint64_t)(p[k] == '\\') << k;
        c |= (uint64_t)((p[k] | 0x26) == 0x7f) << k;
    }
    *q = a;
    *bs = b;
    *br = c;
#endif
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The same masks 32 bytes a time, for processors with AVX2 (asked at run time: the build
 * assumes only SSE2), and the prefix XOR as one carry-less multiply by all ones. */
#define DH_MASKS_AVX2 1
__attribute__((target("avx2"))) static inline void
block_masks_avx2(const unsigned char *p, uint64_t *q, uint64_t *bs, uint64_t *br)
{
    const __m256i vq = _mm256_set1_epi8('"'), vb = _mm256_set1_epi8('\\'),
                  v26 = _mm256_set1_epi8(0x26), v7f = _mm256_set1_epi8(0x7f);
    __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)p),
            hi = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
    *q = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, vq)) |
         (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, vq)) << 32;
    *bs = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, vb)) |
          (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, vb)) << 32;
    *br = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_or_si256(lo, v26), v7f)) |
          (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_or_si256(hi, v26), v7f))
              << 32;
}

__attribute__((target("pclmul,sse2"))) static inline uint64_t prefix_xor_clmul(uint64_t x)
{
    __m128i r = _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)x), _mm_set1_epi8(-1), 0);
    return (uint64_t)_mm_cvtsi128_si64(r);
}
#endif

/* x with each bit replaced by the XOR of it and all lower bits: 1 from an opening quote up
 * to the byte before its closing quote. */
static inline uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

/* long because: the scan, with the block's masks (SSE2 or AVX2, wide) inline. */
static inline __attribute__((always_inline)) long container_close(const char *text, size_t n,
                                                                  size_t i, int wide)
{
    const unsigned char *js = (const unsigned char *)text;
    unsigned char tail[64];
    uint64_t inside_carry = 0; /* all ones when the previous block ended inside a string */
    uint64_t esc_carry = 0;    /* 1 when its last byte was a backslash escaping the next */
    unsigned depth = 1;
    for (size_t base = i; base < n; base += 64) {
        const unsigned char *p = js + base;
        if (n - base < 64) { /* the last bytes, padded with NULs (which match nothing) */
            memset(tail, 0, sizeof tail);
            memcpy(tail, p, n - base);
            p = tail;
        }
        uint64_t q, bs, br;
#ifdef DH_MASKS_AVX2
        if (wide)
            block_masks_avx2(p, &q, &bs, &br);
        else
#endif
            block_masks(p, &q, &bs, &br);
        /* Escaped bytes: a backslash escapes the next byte unless it is escaped itself. Read
         * this way everywhere; it is the strings' reading, and outside strings a backslash
         * makes the scan give up (below). */
        uint64_t esc = esc_carry;
        esc_carry = 0;
        if (bs) {
            uint64_t starts = bs & ~esc;
            while (starts) {
                uint64_t b = starts & (0 - starts), next = b << 1;
                if (!next)
                    esc_carry = 1;
                esc |= next;
                starts &= ~(b | next);
            }
        }
        uint64_t inside;
#ifdef DH_MASKS_AVX2
        if (wide)
            inside = prefix_xor_clmul(q & ~esc) ^ inside_carry;
        else
#endif
            inside = prefix_xor(q & ~esc) ^ inside_carry;
        inside_carry = 0 - (inside >> 63);
        /* A backslash outside strings is not JSON; a byte-by-byte scan reads a quote after it
         * as opening a string, where these masks would read it as escaped: give up. */
        if (bs & ~inside)
            return -2;
        for (uint64_t m = br & ~inside; m; m &= m - 1) {
            size_t at = base + (size_t)__builtin_ctzll(m);
            unsigned char c = js[at];
            if (c == '{' || c == '[')
                depth++;
            else if ((c == '}' || c == ']') && --depth == 0)
                return (long)at;
        }
    }
    return -1;
}

#ifdef DH_MASKS_AVX2
__attribute__((target("avx2,pclmul"))) static long container_close_avx2(const char *js, size_t n,
                                                                        size_t i)
{
    return container_close(js, n, i, 1);
}
#endif

long jsonl_container_close_narrow(const char *js, size_t n, size_t i)
{
    return container_close(js, n, i, 0);
}

long jsonl_container_close(const char *js, size_t n, size_t i)
{
#ifdef DH_MASKS_AVX2
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("pclmul"))
        return container_close_avx2(js, n, i);
#endif
    return container_close(js, n, i, 0);
}

int jsonl_deeper_than(const char *js, size_t n, unsigned limit)
{
    unsigned depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = js[i];
        if (c == '"') { /* a string: to its closing quote, escapes skipped */
            for (i++; i < n && js[i] != '"'; i++)
                if (js[i] == '\\')
                    i++;
        } else if (c == '{' || c == '[') {
            if (++depth > limit)
                return 1;
        } else if ((c == '}' || c == ']') && depth) {
            depth--;
        }
    }
    return 0;
}

int jsonl_tokenize_reference(const char *js, size_t n, jsmntok_t *tok, unsigned max)
{
    if (jsonl_deeper_than(js, n, JSONL_TOK_DEPTH))
        return JSONL_ERROR_DEPTH;
    return jsonl_tokenize_jsmn(js, n, tok, max);
}

int jsonl_tokenize(const char *js, size_t n, jsmntok_t *tok, unsigned max)
{
    int nt = jsonl_tokenize_fast(js, n, tok, max);
    return nt >= 0 ? nt : jsonl_tokenize_reference(js, n, tok, max);
}
