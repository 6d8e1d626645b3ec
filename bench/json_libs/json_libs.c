/*
 * json_libs.c - which Debian bookworm JSON library is fastest for reading
 * OTRF/Mordor NXLog-flattened JSON-lines telemetry?
 *
 * For each library (jansson, json-c, cJSON, jsmn) the whole file is read into
 * memory once; then, timed (CLOCK_MONOTONIC, best of N rounds, libraries
 * interleaved round-robin so background load hits all of them alike), every
 * line is parsed and, for every top-level key, the key and its value are
 * obtained as text:
 *   - strings unescaped to UTF-8 (jsmn: by our own unescaper below),
 *   - numbers / booleans / null as their text,
 *   - nested arrays / objects as compact JSON text,
 * and the key and value lengths are summed so nothing is optimised away.
 * `jq -c . FILE >/dev/null` is timed in the same run for reference.
 *
 * A separate, untimed verification pass hashes every (key, value) pair
 * (order-independent sum of FNV-1a hashes) so the four libraries can be
 * checked to agree byte for byte, and a self-test checks the jsmn unescaper
 * against jansson's decoder.
 *
 * Usage: json_libs FILE [rounds]      (see run.sh)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* jansson and json-c both define json_object / json_type, so this one file
 * is compiled three times (see run.sh): -DJL_PART_JANSSON, -DJL_PART_JSONC,
 * and without either for cJSON, jsmn and main(). */
#if defined(JL_PART_JANSSON)
#include <jansson.h>
#elif defined(JL_PART_JSONC)
#include <json-c/json.h>
#else
#define JL_PART_MAIN
#include <cjson/cJSON.h>
#include <jansson.h> /* only for the unescaper self-test and the version */
#include <json-c/json_c_version.h>
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>
#endif

/* ------------------------------------------------------------------ */
/* result accumulation                                                 */

typedef struct {
    uint64_t lines_ok, lines_bad, pairs, key_bytes, val_bytes, hash;
} stats_t;

#ifdef JL_PART_MAIN
int g_verify; /* 1: also hash every pair (untimed pass) */
#else
extern int g_verify;
#endif

static inline uint64_t fnv1a(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static inline void emit(stats_t *st, const char *k, size_t kl, const char *v, size_t vl)
{
    st->pairs++;
    st->key_bytes += kl;
    st->val_bytes += vl;
    if (g_verify) {
        uint64_t h = fnv1a(1469598103934665603ULL, k, kl);
        h = fnv1a(h, "\0", 1);
        h = fnv1a(h, v, vl);
        st->hash += h; /* order-independent: jansson/json-c may reorder keys */
    }
}

/* int64 -> decimal text; returns length. buf must hold 21 bytes. */
static inline size_t i64toa(int64_t v, char *buf)
{
    char tmp[24];
    size_t n = 0, len = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = tmp[--n];
    return len;
}

static inline size_t u64toa(uint64_t u, char *buf)
{
    char tmp[24];
    size_t n = 0, len = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n)
        buf[len++] = tmp[--n];
    return len;
}

static inline size_t dbltoa(double d, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%.17g", d);
    return n < 0 ? 0 : (size_t)n;
}

/* Iterate the non-empty lines of buf as (p, n), CR stripped.  `continue`
 * in the body moves on to the next line. */
#define FOR_EACH_LINE(buf, len, p, n)                                                              \
    for (const char *p = (buf), *_e = (buf) + (len), *_nl; p < _e; p = _nl + 1)                    \
        for (size_t                                                                                \
                 n = (size_t)(((_nl = memchr(p, '\n', (size_t)(_e - p))) ? _nl : (_nl = _e)) - p), \
                 _once = 1;                                                                        \
             _once; _once = 0)                                                                     \
            if ((n && p[n - 1] == '\r') ? --n == 0 : n == 0) {                                     \
            } else

/* ------------------------------------------------------------------ */
#if defined(JL_PART_JANSSON)
void run_jansson(const char *buf, size_t len, stats_t *st);
/* jansson                                                             */

void run_jansson(const char *buf, size_t len, stats_t *st)
{
    char nb[40];
    FOR_EACH_LINE(buf, len, p, n)
    {
        json_error_t err;
        json_t *root = json_loadb(p, n, JSON_ALLOW_NUL, &err);
        if (!root || !json_is_object(root)) {
            st->lines_bad++;
            if (g_verify && st->lines_bad <= 3)
                fprintf(stderr, "jansson: line rejected: %s\n", err.text);
            json_decref(root);
            continue;
        }
        st->lines_ok++;
        const char *key;
        size_t kl;
        json_t *v;
        json_object_keylen_foreach(root, key, kl, v)
        {
            switch (json_typeof(v)) {
            case JSON_STRING:
                emit(st, key, kl, json_string_value(v), json_string_length(v));
                break;
            case JSON_INTEGER:
                emit(st, key, kl, nb, i64toa(json_integer_value(v), nb));
                break;
            case JSON_REAL:
                emit(st, key, kl, nb, dbltoa(json_real_value(v), nb, sizeof nb));
                break;
            case JSON_TRUE:
                emit(st, key, kl, "true", 4);
                break;
            case JSON_FALSE:
                emit(st, key, kl, "false", 5);
                break;
            case JSON_NULL:
                emit(st, key, kl, "null", 4);
                break;
            default: { /* object / array */
                char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                emit(st, key, kl, s, s ? strlen(s) : 0);
                free(s);
            }
            }
        }
        json_decref(root);
    }
}

#endif /* JL_PART_JANSSON */

/* ------------------------------------------------------------------ */
#if defined(JL_PART_JSONC)
void run_jsonc(const char *buf, size_t len, stats_t *st);
/* json-c                                                              */

void run_jsonc(const char *buf, size_t len, stats_t *st)
{
    char nb[40];
    struct json_tokener *tok = json_tokener_new();
    FOR_EACH_LINE(buf, len, p, n)
    {
        json_tokener_reset(tok);
        struct json_object *root = json_tokener_parse_ex(tok, p, (int)n);
        if (!root || json_tokener_get_error(tok) != json_tokener_success ||
            !json_object_is_type(root, json_type_object)) {
            st->lines_bad++;
            if (g_verify && st->lines_bad <= 3)
                fprintf(stderr, "json-c: line rejected: %s\n",
                        json_tokener_error_desc(json_tokener_get_error(tok)));
            json_object_put(root);
            continue;
        }
        st->lines_ok++;
        json_object_object_foreach(root, key, v)
        {
            size_t kl = strlen(key);
            switch (json_object_get_type(v)) {
            case json_type_string:
                emit(st, key, kl, json_object_get_string(v), (size_t)json_object_get_string_len(v));
                break;
            case json_type_int: {
                int64_t i = json_object_get_int64(v);
                if (i == INT64_MAX) /* json-c keeps > INT64_MAX as uint64 */
                    emit(st, key, kl, nb, u64toa(json_object_get_uint64(v), nb));
                else
                    emit(st, key, kl, nb, i64toa(i, nb));
                break;
            }
            case json_type_double:
                emit(st, key, kl, nb, dbltoa(json_object_get_double(v), nb, sizeof nb));
                break;
            case json_type_boolean:
                if (json_object_get_boolean(v))
                    emit(st, key, kl, "true", 4);
                else
                    emit(st, key, kl, "false", 5);
                break;
            case json_type_null:
                emit(st, key, kl, "null", 4);
                break;
            default: { /* object / array; string owned by v */
                size_t sl;
                const char *s = json_object_to_json_string_length(
                    v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &sl);
                emit(st, key, kl, s, sl);
            }
            }
        }
        json_object_put(root);
    }
    json_tokener_free(tok);
}

#endif /* JL_PART_JSONC */

/* ------------------------------------------------------------------ */
#if defined(JL_PART_MAIN)
void run_jansson(const char *buf, size_t len, stats_t *st);
void run_jsonc(const char *buf, size_t len, stats_t *st);

/* cJSON                                                               */

static void run_cjson(const char *buf, size_t len, stats_t *st)
{
    char nb[40];
    FOR_EACH_LINE(buf, len, p, n)
    {
        cJSON *root = cJSON_ParseWithLength(p, n);
        if (!root || !cJSON_IsObject(root)) {
            st->lines_bad++;
            if (g_verify && st->lines_bad <= 3)
                fprintf(stderr, "cJSON: line rejected\n");
            cJSON_Delete(root);
            continue;
        }
        st->lines_ok++;
        for (cJSON *it = root->child; it; it = it->next) {
            const char *key = it->string;
            size_t kl = strlen(key);
            switch (it->type & 0xFF) {
            case cJSON_String:
                emit(st, key, kl, it->valuestring, strlen(it->valuestring));
                break;
            case cJSON_Number: {
                /* cJSON keeps only a double: integers beyond 2^53 are rounded */
                double d = it->valuedouble;
                if (d == (double)(int64_t)d && d >= -9223372036854775808.0 &&
                    d < 9223372036854775808.0)
                    emit(st, key, kl, nb, i64toa((int64_t)d, nb));
                else
                    emit(st, key, kl, nb, dbltoa(d, nb, sizeof nb));
                break;
            }
            case cJSON_True:
                emit(st, key, kl, "true", 4);
                break;
            case cJSON_False:
                emit(st, key, kl, "false", 5);
                break;
            case cJSON_NULL:
                emit(st, key, kl, "null", 4);
                break;
            default: {
                char *s = cJSON_PrintUnformatted(it);
                emit(st, key, kl, s, s ? strlen(s) : 0);
                cJSON_free(s);
            }
            }
        }
        cJSON_Delete(root);
    }
}

/* ------------------------------------------------------------------ */
/* jsmn + our own string unescaper                                     */

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

/*
 * Unescape the body of a JSON string (without the quotes) into out, which
 * must hold n bytes (the result is never longer than the input).  Handles
 * \" \\ \/ \b \f \n \r \t and \uXXXX including surrogate pairs; \u0000 gives
 * a NUL byte (length is returned, so that is representable).  Returns the
 * output length, or -1 on a bad escape or a lone/unpaired surrogate (as
 * jansson does).
 */
static long json_unescape(const char *s, size_t n, char *out)
{
    const char *e = s + n;
    char *o = out;
    while (s < e) {
        const char *bs = memchr(s, '\\', (size_t)(e - s));
        if (!bs) {
            memcpy(o, s, (size_t)(e - s));
            o += e - s;
            break;
        }
        memcpy(o, s, (size_t)(bs - s));
        o += bs - s;
        s = bs + 1;
        if (s >= e)
            return -1;
        switch (*s++) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '/':
            *o++ = '/';
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            if (e - s < 4)
                return -1;
            long cp = hex4(s);
            if (cp < 0)
                return -1;
            s += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (e - s < 6 || s[0] != '\\' || s[1] != 'u')
                    return -1;
                long lo = hex4(s + 2);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return -1;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return -1;
            }
            if (cp < 0x80) {
                *o++ = (char)cp;
            } else if (cp < 0x800) {
                *o++ = (char)(0xC0 | (cp >> 6));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                *o++ = (char)(0xE0 | (cp >> 12));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else {
                *o++ = (char)(0xF0 | (cp >> 18));
                *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default:
            return -1;
        }
    }
    return (long)(o - out);
}

static jsmntok_t *g_toks;
static unsigned g_ntoks = 256;
static char *g_scratch; /* per-line unescape area, >= longest line */
static size_t g_scratch_cap;

/* Get string token text: in place if it has no backslash, else unescaped
 * into the scratch area (valid until the next line). */
static inline int jsmn_str(const char *p, const jsmntok_t *t, char **sp, const char **out,
                           size_t *ol)
{
    const char *s = p + t->start;
    size_t n = (size_t)(t->end - t->start);
    if (!memchr(s, '\\', n)) {
        *out = s;
        *ol = n;
        return 0;
    }
    long r = json_unescape(s, n, *sp);
    if (r < 0)
        return -1;
    *out = *sp;
    *ol = (size_t)r;
    *sp += r;
    return 0;
}

static void run_jsmn(const char *buf, size_t len, stats_t *st)
{
    FOR_EACH_LINE(buf, len, p, n)
    {
        jsmn_parser P;
        int r;
        for (;;) {
            jsmn_init(&P);
            r = jsmn_parse(&P, p, n, g_toks, g_ntoks);
            if (r != JSMN_ERROR_NOMEM)
                break;
            g_ntoks *= 2;
            g_toks = realloc(g_toks, g_ntoks * sizeof *g_toks);
        }
        /* exactly one top-level object spanning the line (modulo spaces) */
        int ok = r >= 1 && g_toks[0].type == JSMN_OBJECT;
        if (ok)
            for (size_t i = (size_t)g_toks[0].end; i < n; i++)
                if (p[i] != ' ' && p[i] != '\t')
                    ok = 0;
        if (!ok) {
            st->lines_bad++;
            if (g_verify && st->lines_bad <= 3)
                fprintf(stderr, "jsmn: line rejected (r=%d)\n", r);
            continue;
        }
        char *sp = g_scratch;
        int i = 1, bad = 0;
        for (int k = 0; k < g_toks[0].size && !bad; k++) {
            const jsmntok_t *kt = &g_toks[i], *vt = &g_toks[i + 1];
            const char *key, *val;
            size_t kl, vl;
            if (kt->type != JSMN_STRING || jsmn_str(p, kt, &sp, &key, &kl)) {
                bad = 1;
                break;
            }
            if (vt->type == JSMN_STRING) {
                if (jsmn_str(p, vt, &sp, &val, &vl)) {
                    bad = 1;
                    break;
                }
            } else { /* primitive: its text; object/array: raw (compact) text */
                val = p + vt->start;
                vl = (size_t)(vt->end - vt->start);
            }
            emit(st, key, kl, val, vl);
            /* skip the value and everything nested inside it */
            int j = i + 2;
            while (j < r && g_toks[j].start < vt->end)
                j++;
            i = j;
        }
        if (bad) {
            st->lines_bad++;
            if (g_verify && st->lines_bad <= 3)
                fprintf(stderr, "jsmn: bad string escape\n");
        } else {
            st->lines_ok++;
        }
    }
}

/* ------------------------------------------------------------------ */
/* baseline: only find the lines                                       */

static void run_split(const char *buf, size_t len, stats_t *st)
{
    FOR_EACH_LINE(buf, len, p, n)
    {
        st->lines_ok++;
        st->val_bytes += n + (unsigned char)p[0];
    }
}

/* ------------------------------------------------------------------ */
/* unescaper self-test against jansson                                 */

static int selftest(void)
{
    static const char *cases[] = {
        "plain",
        "a\\\"b",
        "C:\\\\Windows\\\\x",
        "\\/",
        "\\b\\f\\n\\r\\t",
        "\\u0041",
        "\\u00e9\\u00E9",
        "\\u20ac",
        "\\ud83d\\ude00x",
        "\\uD834\\uDD1E",
        "x\\u0000y",
        "\\u07ff\\u0800\\uffff",
        "\\udbff\\udfff",
        /* must be rejected */
        "\\ud83d",
        "\\ud83dx",
        "\\udc00",
        "\\ud83d\\u0041",
        "\\x",
        "\\u12",
        "\\u12g4",
    };
    int fails = 0;
    char out[256], doc[300];
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const char *s = cases[c];
        long r = json_unescape(s, strlen(s), out);
        snprintf(doc, sizeof doc, "[\"%s\"]", s);
        json_error_t err;
        json_t *j = json_loads(doc, JSON_ALLOW_NUL, &err);
        int jok = j != NULL;
        int same = (r >= 0) == jok;
        if (same && jok) {
            json_t *e = json_array_get(j, 0);
            same = (size_t)r == json_string_length(e) &&
                   memcmp(out, json_string_value(e), (size_t)r) == 0;
        }
        if (!same) {
            fprintf(stderr, "selftest FAIL: %s (ours %ld, jansson %s)\n", s, r,
                    jok ? "ok" : "reject");
            fails++;
        }
        json_decref(j);
    }
    /* random round trips: code points -> jansson (ASCII-escaped) -> ours */
    srand(12345);
    for (int t = 0; t < 20000; t++) {
        json_t *s;
        char u[200];
        size_t ul = 0;
        int m = rand() % 12;
        for (int k = 0; k < m; k++) {
            long cp;
            do {
                int pick = rand() % 4;
                cp = pick == 0   ? rand() % 0x80
                     : pick == 1 ? rand() % 0x800
                     : pick == 2 ? rand() % 0x10000
                                 : 0x10000 + rand() % 0x100000;
            } while ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0);
            /* utf-8 encode */
            if (cp < 0x80)
                u[ul++] = (char)cp;
            else if (cp < 0x800) {
                u[ul++] = (char)(0xC0 | (cp >> 6));
                u[ul++] = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                u[ul++] = (char)(0xE0 | (cp >> 12));
                u[ul++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                u[ul++] = (char)(0x80 | (cp & 0x3F));
            } else {
                u[ul++] = (char)(0xF0 | (cp >> 18));
                u[ul++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                u[ul++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                u[ul++] = (char)(0x80 | (cp & 0x3F));
            }
        }
        s = json_stringn(u, ul);
        char *enc = json_dumps(s, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
        size_t el = strlen(enc);
        long r = json_unescape(enc + 1, el - 2, out);
        if (r != (long)ul || memcmp(out, u, ul) != 0) {
            if (fails++ < 5)
                fprintf(stderr, "selftest FAIL round trip: %s\n", enc);
        }
        free(enc);
        json_decref(s);
    }
    printf("unescaper self-test: %s\n",
           fails ? "FAILED" : "ok (20 fixed cases + 20000 random round trips vs jansson)");
    return fails;
}

/* ------------------------------------------------------------------ */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef void (*runner_t)(const char *, size_t, stats_t *);
static const struct {
    const char *name, *version;
    runner_t fn;
} libs[] = {
    {"jansson", JANSSON_VERSION, run_jansson},
    {"json-c", JSON_C_VERSION, run_jsonc},
    {"cJSON", "1.7.15", run_cjson},
    {"jsmn", "1.1.0 (+own unescaper)", run_jsmn},
    {"(line split only)", "-", run_split},
};
#define NLIBS (sizeof libs / sizeof *libs)

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [rounds]\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    int rounds = argc > 2 ? atoi(argv[2]) : 5;

    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 1;
    }
    fseek(f, 0, SEEK_END);
    size_t len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(len + 1);
    if (fread(buf, 1, len, f) != len) {
        fprintf(stderr, "short read\n");
        return 1;
    }
    buf[len] = 0;
    fclose(f);

    size_t nlines = 0, maxline = 0;
    FOR_EACH_LINE(buf, len, p, n)
    {
        (void)p;
        nlines++;
        if (n > maxline)
            maxline = n;
    }
    g_toks = malloc(g_ntoks * sizeof *g_toks);
    g_scratch_cap = maxline + 1;
    g_scratch = malloc(g_scratch_cap);

    printf("file: %s\n%zu bytes, %zu non-empty lines, longest %zu bytes\n\n", path, len, nlines,
           maxline);

    int rc = selftest() ? 1 : 0;

    /* untimed verification pass */
    g_verify = 1;
    stats_t ref = {0};
    printf("\nverification (untimed):\n%-18s %8s %5s %9s %10s %11s %18s\n", "library", "ok", "bad",
           "pairs", "key bytes", "value bytes", "pair-hash");
    for (size_t l = 0; l < NLIBS - 1; l++) {
        stats_t st = {0};
        libs[l].fn(buf, len, &st);
        printf("%-18s %8" PRIu64 " %5" PRIu64 " %9" PRIu64 " %10" PRIu64 " %11" PRIu64
               " %018" PRIx64 "%s\n",
               libs[l].name, st.lines_ok, st.lines_bad, st.pairs, st.key_bytes, st.val_bytes,
               st.hash,
               l == 0 ? ""
               : (st.lines_ok == ref.lines_ok && st.pairs == ref.pairs &&
                  st.key_bytes == ref.key_bytes && st.val_bytes == ref.val_bytes &&
                  st.hash == ref.hash)
                   ? "  = jansson"
                   : "  DIFFERS");
        if (l == 0)
            ref = st;
        else if (st.hash != ref.hash || st.lines_ok != ref.lines_ok)
            rc = 1;
    }
    g_verify = 0;
    if (rounds <= 0)
        return rc;

    /* timed: round-robin, best of `rounds` */
    double best[NLIBS + 1];
    for (size_t l = 0; l <= NLIBS; l++)
        best[l] = 1e30;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "jq -c . '%s' >/dev/null", path);
    volatile uint64_t sink = 0;
    for (int r = 0; r < rounds; r++) {
        for (size_t l = 0; l < NLIBS; l++) {
            stats_t st = {0};
            double t0 = now();
            libs[l].fn(buf, len, &st);
            double t = now() - t0;
            sink += st.key_bytes + st.val_bytes + st.lines_ok;
            if (t < best[l])
                best[l] = t;
        }
        double t0 = now();
        int jr = system(cmd);
        double t = now() - t0;
        if (jr != 0)
            fprintf(stderr, "jq exited %d\n", jr);
        if (t < best[NLIBS])
            best[NLIBS] = t;
        fprintf(stderr, "round %d/%d done\n", r + 1, rounds);
    }
    (void)sink;

    printf("\ntimed, best of %d (MB = 10^6 bytes):\n", rounds);
    printf("| %-18s | %-22s | %8s | %8s | %10s |\n", "library", "version", "best s", "MB/s",
           "lines/s");
    printf("|--------------------|------------------------|----------|----------|------------|\n");
    for (size_t l = 0; l <= NLIBS; l++) {
        const char *name = l < NLIBS ? libs[l].name : "jq -c . (process)";
        const char *ver = l < NLIBS ? libs[l].version : "1.6";
        printf("| %-18s | %-22s | %8.3f | %8.1f | %10.0f |\n", name, ver, best[l],
               len / best[l] / 1e6, nlines / best[l]);
    }
    return rc;
}
#endif /* JL_PART_MAIN */
