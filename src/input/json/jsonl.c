/* JSON lines of Windows events as log shippers flatten them: OTRF/Mordor (NXLog: the event
 * data at top level, beside Hostname, Channel (sometimes lower case), SourceName, EventID,
 * RecordNumber, EventTime in the collector's local time and @timestamp in UTC).
 *
 * Parsing uses jsmn's tokens (Debian libjsmn-dev): no allocation, offsets into the line;
 * strings are unescaped here into a per-line arena. Measured on the corpus OTRF file
 * (49.5 MB, 32,706 lines; bench/json_libs/, best of 5, 2026-11-23): jsmn 1,338 MB/s, cJSON
 * 506, json-c 225, jansson 89 (jq -c: 35). jsmn also keeps numbers as text, so 64-bit
 * values (Keywords, Defender's ReportId) stay exact, where cJSON rounds them through a
 * double. Parent links make skipping subtrees cheaper (915 MB/s without). The tokens come
 * from tokenize.c: a faster single pass for well-formed lines, jsmn itself for the rest.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/timefmt.h"
#include "core/escape.h"
#include "input/json/jsonl.h"
#include "input/json/tokenize.h"
#include "input/reader.h"

static int whole_number(const char *p, size_t n, uint64_t max, uint64_t *out);
#include "event/builder.h"
#include "event/mappings/system.h"
#include "event/mappings/mappings.h"

#define MAX_TOKENS 8192
#define MAX_LINE   (16u << 20)
#define SYS_MAX    24

/* What a member name is to decode_object, worked out once per distinct name and kept (a
 * line of an NXLog capture has some 40 members, nearly all with names seen on every line):
 * the envelope slot (slot_of) by shape, the System property (nxlog_sys), and flags. Before,
 * each member went through slot_of's compares, the two bucket tables and half a dozen
 * key_is: decode_object was 25% of `hunt -j1 --jsonl` on the OTRF capture (callgrind
 * 2026-12-07). Names over KC_NAME bytes, and names once the table is full, are worked out
 * each time (a hostile line cannot grow it). */
#define KC_SLOTS 512 /* a power of two */
#define KC_PROBE 8
#define KC_NAME  46
enum {
    KF_SKIP = 1,      /* is_skip */
    KF_EVENTTYPE = 2, /* "EventType" */
    KF_SOURCE = 4,    /* "Source" */
    KF_PARAMXML = 8,  /* "ParameterXml" */
    KF_EVENTID = 16,  /* "EventID" */
    KF_RECNO = 32,    /* "RecordNumber" */
    KF_REPORTID = 64, /* "ReportId" */
    KF_USED = 128     /* the table slot holds a name */
};
typedef struct key_class {
    const char *sn; /* nxlog_sys */
    size_t sn_len;  /* strlen(sn) */
    int8_t slot[3]; /* slot_of: NXLog, NXLog as dump --to otrf writes it, other shapes */
    uint8_t flags;  /* KF_* */
    uint8_t len;    /* of name */
    char name[KC_NAME + 1];
} key_class;

struct jsonl_reader {
    char envtext[6][512];  /* ECS envelope values, unescaped (outside the arena) */
    char scratch[1 << 16]; /* values the Defender mapping composes */
    dh_buf names;          /* the dotted name being built while an ECS document is flattened */
    dh_buf envbuf; /* an ECS envelope value being unescaped (4 KiB cap): kept, not made per line */
    jsmntok_t *tok;
    dh_buf arena;
    dh_kv *kv;
    size_t kv_cap;
    uint32_t *off; /* arena offsets while the line is read: name, name len, value, value len */
    uint64_t unused;
    int reference; /* tokenize with jsmn alone (jsonl_reader_use_reference) */
    int pretok;    /* tokens of the next value already in tok (their count), or -1 */
    /* The line is the flat layout as dcomhunt dump --to otrf writes it (no NXLog delivery
     * keys, no Sentinel columns): only the keys it writes are not event data. */
    int own_flat;
    /* System properties (dh_event_system): a static name, an arena value. */
    dh_str sys_name[SYS_MAX]; /* static, or in the line */
    uint32_t sys_off[SYS_MAX], sys_len[SYS_MAX];
    size_t nsys;
    dh_kv sys[SYS_MAX];
    char keywords[SYS_MAX][24]; /* NXLog's signed decimal Keywords, as Windows writes them */
    struct key_class *kc;       /* what each member name is, for decode_object (KC_SLOTS) */
};

static void sys_add_n(jsonl_reader *r, dh_str name, uint32_t off, uint32_t len)
{
    if (r->nsys < SYS_MAX) {
        r->sys_name[r->nsys] = name;
        r->sys_off[r->nsys] = off;
        r->sys_len[r->nsys] = len;
        r->nsys++;
    }
}

static void sys_add(jsonl_reader *r, const char *name, uint32_t off, uint32_t len)
{
    sys_add_n(r, (dh_str){name, strlen(name)}, off, len);
}

/* NXLog's signed decimal Keywords (v[0, n), n < 22, '-' or a digit first) as the value
 * strtoll (after '-') or strtoull reads it, saturated as they saturate; 0 when they would
 * not read all of it. Why not them and snprintf: they were 45 of sys_finish's 52 million
 * instructions on the OTRF capture (callgrind 2026-12-07), for one value per line. */
static int keywords_value(const char *v, size_t n, unsigned long long *out)
{
    int neg = v[0] == '-';
    size_t i = (size_t)neg;
    if (i >= n)
        return 0;
    unsigned long long u = 0;
    int over = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)v[i] - '0';
        if (d > 9)
            return 0;
        if (u > 1844674407370955161ULL || (u == 1844674407370955161ULL && d > 5))
            over = 1; /* u * 10 + d past 2^64 - 1 */
        else
            u = u * 10 + d;
    }
    if (neg) /* strtoll: LLONG_MIN at and past 2^63 */
        u = over || u >= 1ULL << 63 ? 1ULL << 63 : 0ULL - u;
    else if (over)
        u = ~0ULL;
    *out = u;
    return 1;
}

/* Hands the System properties collected for this object to the event. NXLog writes
 * Keywords as a signed decimal (-9223372036854775808): Windows' form is 0x8000000000000000. */
static void sys_finish(jsonl_reader *r, dh_event *ev)
{
    const char *a = r->arena.data ? r->arena.data : "";
    for (size_t i = 0; i < r->nsys; i++) {
        dh_str v = {a + r->sys_off[i], r->sys_len[i]};
        unsigned long long u;
        if (r->sys_name[i].len == 8 && !memcmp(r->sys_name[i].ptr, "Keywords", 8) && v.len &&
            v.len < 22 && (v.ptr[0] == '-' || (v.ptr[0] >= '0' && v.ptr[0] <= '9')) &&
            keywords_value(v.ptr, v.len, &u)) {
            char *k = r->keywords[i];
            size_t len = 2, digits = 1;
            for (unsigned long long t = u >> 4; t; t >>= 4)
                digits++;
            k[0] = '0';
            k[1] = 'x';
            for (size_t d = digits; d-- > 0; u >>= 4)
                k[len + d] = "0123456789abcdef"[u & 15];
            len += digits;
            k[len] = 0;
            v = (dh_str){k, len};
        }
        r->sys[i].name = r->sys_name[i];
        r->sys[i].value = v;
    }
    dh_event_set_system(ev, r->sys, r->nsys);
}

void jsonl_reader_use_reference(jsonl_reader *r, int on)
{
    r->reference = on;
}

uint64_t jsonl_reader_unused(const jsonl_reader *r)
{
    return r->unused;
}

static void tables_init(void);

jsonl_reader *jsonl_reader_new(void)
{
    tables_init();
    jsonl_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->tok = malloc(MAX_TOKENS * sizeof *r->tok);
    r->kv_cap = MAX_TOKENS / 2;
    r->kv = malloc(r->kv_cap * sizeof *r->kv);
    r->off = malloc(r->kv_cap * 4 * sizeof *r->off);
    r->kc = calloc(KC_SLOTS, sizeof *r->kc);
    r->pretok = -1;
    dh_buf_init(&r->arena, MAX_LINE * 2);
    dh_buf_init(&r->names, 4096);
    dh_buf_init(&r->envbuf, 4096);
    if (!r->tok || !r->kv || !r->off || !r->kc) {
        jsonl_reader_free(r);
        return NULL;
    }
    return r;
}

void jsonl_reader_free(jsonl_reader *r)
{
    if (!r)
        return;
    free(r->tok);
    free(r->kv);
    free(r->off);
    free(r->kc);
    dh_buf_free(&r->arena);
    dh_buf_free(&r->names);
    dh_buf_free(&r->envbuf);
    free(r);
}

/* Envelope and shipper fields that are not event data. */
static const struct {
    const char *s;
    size_t n;
} skip_keys[] = {
    {"@timestamp", sizeof "@timestamp" - 1},
    {"@version", sizeof "@version" - 1},
    {"EventTime", sizeof "EventTime" - 1},
    {"EventReceivedTime", sizeof "EventReceivedTime" - 1},
    {"Hostname", sizeof "Hostname" - 1},
    {"host", sizeof "host" - 1},
    {"port", sizeof "port" - 1},
    {"tags", sizeof "tags" - 1},
    {"Channel", sizeof "Channel" - 1},
    {"SourceName", sizeof "SourceName" - 1},
    {"EventID", sizeof "EventID" - 1},
    {"RecordNumber", sizeof "RecordNumber" - 1},
    {"Keywords", sizeof "Keywords" - 1},
    {"SeverityValue", sizeof "SeverityValue" - 1},
    {"Severity", sizeof "Severity" - 1},
    {"EventType", sizeof "EventType" - 1},
    {"Opcode", sizeof "Opcode" - 1},
    {"OpcodeValue", sizeof "OpcodeValue" - 1},
    {"Task", sizeof "Task" - 1},
    {"Version", sizeof "Version" - 1},
    {"Category", sizeof "Category" - 1},
    {"Message", sizeof "Message" - 1},
    {"SourceModuleName", sizeof "SourceModuleName" - 1},
    {"SourceModuleType", sizeof "SourceModuleType" - 1},
    {"ProviderGuid", sizeof "ProviderGuid" - 1},
    {"ExecutionProcessID", sizeof "ExecutionProcessID" - 1},
    {"ThreadID", sizeof "ThreadID" - 1},
    {"AccountType", sizeof "AccountType" - 1},
    {"AccountName", sizeof "AccountName" - 1},
    {"Domain", sizeof "Domain" - 1},
    {"UserID", sizeof "UserID" - 1},
    {"ActivityID", sizeof "ActivityID" - 1},
    {"RelatedActivityID", sizeof "RelatedActivityID" - 1},
    {"ERROR_EVT_UNRESOLVED", sizeof "ERROR_EVT_UNRESOLVED" - 1},
    {"Level", sizeof "Level" - 1},
    {"Qualifiers", sizeof "Qualifiers" - 1},
    {"KernelTime", sizeof "KernelTime" - 1},
    {"UserTime", sizeof "UserTime" - 1},
    {"ProcessorID", sizeof "ProcessorID" - 1},
};

/* Called for every member of every NXLog line: a 256-bucket table (length, first and
 * last byte) built once leaves one or two names to compare, where a scan of the list
 * compared a third of the time (perf, bench/otrf.sh capture). */
static unsigned skip_bucket(const char *k, size_t n)
{
    return ((unsigned)n * 31u + (unsigned char)k[0] * 7u + (unsigned char)k[n - 1]) & 255u;
}

enum { NSKIP = sizeof skip_keys / sizeof skip_keys[0] };
/* Built under pthread_once: readers on several threads ask at the same time. */
static int8_t skip_first[256], skip_next[NSKIP];
static pthread_once_t skip_table_once = PTHREAD_ONCE_INIT;

/* The names wl_scan looks for among the members of Winlogbeat's `winlog` object. */
#define WL_NAME(lit)                                                                               \
    {                                                                                              \
        lit, sizeof(lit) - 1                                                                       \
    }
static const struct {
    const char *s;
    size_t n;
} wl_names[] = {
    WL_NAME("channel"),
    WL_NAME("computer_name"),
    WL_NAME("event_id"),
    WL_NAME("record_id"),
    WL_NAME("provider_name"),
    WL_NAME("event_data"),
    WL_NAME("user_data"),
    WL_NAME("level"),
    WL_NAME("task"),
    WL_NAME("opcode"),
    WL_NAME("keywords"),
    WL_NAME("version"),
    WL_NAME("event_qualifiers"),
    WL_NAME("provider_guid"),
    WL_NAME("event_source_name"),
    WL_NAME("user"),
    WL_NAME("process"),
    WL_NAME("activity_id"),
    WL_NAME("related_activity_id"),
};
enum { WL_NAMES = sizeof wl_names / sizeof wl_names[0] };

/* The NXLog keys of the System properties (dh_sys_names), bucketed the same way: asked
 * for every member of every line, where dh_sys_from_nxlog's scan of the table was 6% of
 * `hunt -j1 --jsonl` on the corpus OTRF capture (perf, 2026-12-07). */
#define SYS_ROWS_MAX 64
static int8_t sys_first[256], sys_next[SYS_ROWS_MAX];
static size_t sys_len[SYS_ROWS_MAX];
/* Their Winlogbeat paths: the wl_names index of the first name (-1: not there) and the
 * rest of the path after it (NULL: none), so wl_path need not split them per line. */
static int8_t sys_wl_first[SYS_ROWS_MAX];
static const char *sys_wl_rest[SYS_ROWS_MAX];

static void build_skip_table(void)
{
    memset(skip_first, -1, sizeof skip_first);
    for (int i = NSKIP - 1; i >= 0; i--) {
        unsigned b = skip_bucket(skip_keys[i].s, skip_keys[i].n);
        skip_next[i] = skip_first[b];
        skip_first[b] = (int8_t)i;
    }
    memset(sys_first, -1, sizeof sys_first);
    for (int i = (int)(dh_sys_count < SYS_ROWS_MAX ? dh_sys_count : SYS_ROWS_MAX) - 1; i >= 0;
         i--) {
        const char *nx = dh_sys_names[i].nxlog;
        sys_len[i] = nx ? strlen(nx) : 0;
        if (!sys_len[i])
            continue;
        unsigned b = skip_bucket(nx, sys_len[i]);
        sys_next[i] = sys_first[b];
        sys_first[b] = (int8_t)i;
    }
    for (size_t i = 0; i < dh_sys_count && i < SYS_ROWS_MAX; i++) {
        const char *path = dh_sys_names[i].winlog;
        sys_wl_first[i] = -1;
        if (!path)
            continue;
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        for (int k = 0; k < WL_NAMES; k++)
            if (wl_names[k].n == n && !memcmp(wl_names[k].s, path, n))
                sys_wl_first[i] = (int8_t)k;
        sys_wl_rest[i] = dot ? dot + 1 : NULL;
    }
}

/* Builds the tables once, for readers made on several threads at the same time. */
static void tables_init(void)
{
    pthread_once(&skip_table_once, build_skip_table);
}

/* dh_sys_from_nxlog by the buckets: the property an NXLog key names, or NULL. */
static const char *nxlog_sys(const char *k, size_t n)
{
    if (!n)
        return NULL;
    if (dh_sys_count > SYS_ROWS_MAX)
        return dh_sys_from_nxlog(k, n);
    for (int i = sys_first[skip_bucket(k, n)]; i >= 0; i = sys_next[i])
        if (sys_len[i] == n && !memcmp(dh_sys_names[i].nxlog, k, n))
            return dh_sys_names[i].name;
    return NULL;
}

/* The tables are built when a reader is made (jsonl_reader_new): a pthread_once per member
 * was 1% of the reader's instructions. */
static int is_skip(const char *k, size_t n)
{
    if (!n)
        return 0;
    for (int i = skip_first[skip_bucket(k, n)]; i >= 0; i = skip_next[i])
        if (skip_keys[i].n == n && !memcmp(skip_keys[i].s, k, n))
            return 1;
    return 0;
}

/* dh_json_unescape into the arena, with the common case in place: a string whose escapes are
 * all one-byte ones (\\ \" \/ \b \f \n \r \t: Windows paths) is written straight into the
 * arena's room (its text is never longer than the escaped form), where dh_json_unescape
 * made a dh_buf_append per run between escapes (its 556,104 calls were 13.6% of the
 * instructions of `hunt -j1 --jsonl` on the OTRF capture, callgrind 2026-12-07). Anything
 * else (\u, a bad or cut escape, an arena without room or with an error) is left to
 * dh_json_unescape from the start, so results and errors stay its own. */
static int arena_unescape(dh_buf *b, const char *s, size_t n, size_t readable)
{
    /* room for the string and sixteen bytes more: whole blocks are stored before the
     * backslash in them is known (the text is never longer than the escaped form) */
    if (b->err != DH_OK || !b->data || b->cap - b->len < 16 || n > b->cap - b->len - 16)
        return dh_json_unescape(b, s, n);
    char *o = b->data + b->len;
    size_t i = 0, w = 0;
    (void)readable; /* SSE2 only */
    for (;;) {
#ifdef __SSE2__
        /* Sixteen bytes a time, no call: a memchr and a memcpy per run between escapes
         * were 101M instructions for 556,104 values of the OTRF capture (callgrind
         * 2026-12-07: its paths have a backslash every few bytes). */
        const __m128i vb = _mm_set1_epi8('\\');
        while (i + 16 <= n) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            _mm_storeu_si128((__m128i *)(void *)(o + w), x);
            unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vb));
            if (m) {
                unsigned k = (unsigned)__builtin_ctz(m);
                i += k;
                w += k;
                goto escape;
            }
            i += 16;
            w += 16;
        }
        if (i < n && readable - i >= 16) { /* the last bytes: one block, cut to the string */
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            _mm_storeu_si128((__m128i *)(void *)(o + w), x);
            unsigned m =
                (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vb)) & ((1u << (n - i)) - 1u);
            if (m) {
                unsigned k = (unsigned)__builtin_ctz(m);
                i += k;
                w += k;
                goto escape;
            }
            w += n - i;
            break;
        }
#endif
        while (i < n && s[i] != '\\')
            o[w++] = s[i++];
        if (i == n)
            break;
#ifdef __SSE2__
    escape:
#endif
        if (i + 1 >= n)
            return dh_json_unescape(b, s, n);
        char c;
        switch (s[i + 1]) {
        case '"':
        case '\\':
        case '/':
            c = s[i + 1];
            break;
        case 'b':
            c = '\b';
            break;
        case 'f':
            c = '\f';
            break;
        case 'n':
            c = '\n';
            break;
        case 'r':
            c = '\r';
            break;
        case 't':
            c = '\t';
            break;
        default:
            return dh_json_unescape(b, s, n);
        }
        o[w++] = c;
        i += 2;
    }
    b->len += w;
    return 0;
}

/* Bytes readable from the start of string token t: to the end of the line's top-level
 * value (tok[0], which holds every token; js and r in scope). */
#define READABLE(t) ((size_t)(r->tok[0].end - (t)->start))

/* Channel names as Windows spells them (shippers sometimes lower-case them). */
static dh_str canonical_channel(dh_str c)
{
    static const char *const known[] = {"Security",
                                        "System",
                                        "Application",
                                        "Microsoft-Windows-Sysmon/Operational",
                                        "Microsoft-Windows-PowerShell/Operational",
                                        "Windows PowerShell"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i]) == c.len && !strncasecmp(known[i], c.ptr, c.len))
            return (dh_str){known[i], c.len};
    return c;
}

static inline int key_eq(const char *js, const jsmntok_t *t, const char *k, size_t kn)
{
    return (size_t)(t->end - t->start) == kn && !memcmp(js + t->start, k, kn);
}
/* Per member, against a literal: the length is a constant, so the compare is inlined (a
 * macro: gcc left key_eq a call, 2.6% of `hunt -j1 --jsonl` on the OTRF capture). */
#define key_is(js, t, lit)                                                                         \
    ((size_t)((t)->end - (t)->start) == sizeof(lit) - 1 &&                                         \
     !memcmp((js) + (t)->start, "" lit "", sizeof(lit) - 1))

/* The time of an NXLog event: a Sysmon UtcTime (UTC, milliseconds) when there is one,
 * else EventTime (the collector's local time, seconds) moved to UTC by the offset between
 * EventReceivedTime (local) and @timestamp (UTC), else @timestamp. */
static int64_t event_time(dh_str utc, dh_str evt, dh_str recv, dh_str ts)
{
    int64_t t, a, b;
    if (utc.len && !dh_time_parse_iso(utc.ptr, utc.len, &t))
        return t;
    if (evt.len && !dh_time_parse_iso(evt.ptr, evt.len, &t)) {
        if (recv.len && ts.len && !dh_time_parse_iso(recv.ptr, recv.len, &a) &&
            !dh_time_parse_iso(ts.ptr, ts.len, &b)) {
            /* Offsets are whole quarter hours: round away the delivery delay. */
            int64_t q = 15LL * 60 * 10000000;
            int64_t off = b - a;
            off = (off >= 0 ? (off + q / 2) / q : -((-off + q / 2) / q)) * q;
            return t + off;
        }
        return t;
    }
    if (ts.len && !dh_time_parse_iso(ts.ptr, ts.len, &t))
        return t;
    return 0;
}

/* Index of the token after the subtree that starts at token i. */
static int skip_subtree(const jsmntok_t *tok, int nt, int i)
{
    int end = tok[i].end, next = i + 1;
    while (next < nt && tok[next].start < end)
        next++;
    return next;
}

enum { SHAPE_NXLOG, SHAPE_MDE, SHAPE_ECS };

/* Names of Sentinel's ParameterXml values are static (param1...): flagged in the offsets. */
#define PARAM_NAME 0x80000000u

typedef struct param_sink {
    jsonl_reader *r;
    size_t *nkv;
    int full;
} param_sink;

static void add_param(void *ctx, unsigned index, size_t off, size_t len)
{
    param_sink *ps = ctx;
    size_t k = *ps->nkv;
    if (k >= ps->r->kv_cap) {
        ps->full = 1;
        return;
    }
    ps->r->off[4 * k] = PARAM_NAME | index;
    ps->r->off[4 * k + 1] = (uint32_t)strlen(dh_sentinel_param_name(index));
    ps->r->off[4 * k + 2] = (uint32_t)off;
    ps->r->off[4 * k + 3] = (uint32_t)len;
    (*ps->nkv)++;
}

/* A record id for rows that carry none: a hash of the row's bytes (63 bits). */
static uint64_t row_id(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h >> 1;
}

/* Which envelope value a key is (the slots of decode_object's env), by the object's shape:
 * 0 host, 1 channel, 2 provider, 3 NXLog's EventTime, 4 EventReceivedTime, 5 the UTC time
 * stamp, 6 Defender's ActionType, 7 Sentinel's Computer; -1 none. */
static int slot_of(int own_flat, const char *js, const jsmntok_t *k, int shape)
{
    if (shape == SHAPE_NXLOG) {
        if (key_is(js, k, "Hostname"))
            return 0;
        if (key_is(js, k, "Channel"))
            return 1;
        if (key_is(js, k, "SourceName"))
            return 2;
        if (key_is(js, k, "EventTime"))
            return 3;
        if (key_is(js, k, "EventReceivedTime"))
            return 4;
        if (key_is(js, k, "@timestamp"))
            return 5;
        if (own_flat) /* only dcomhunt's own envelope keys */
            return -1;
        /* Sentinel's SecurityEvent rows: the same events, other envelope names */
        if (key_is(js, k, "Computer"))
            return 7;
        if (key_is(js, k, "EventSourceName"))
            return 2;
        if (key_is(js, k, "TimeGenerated"))
            return 5;
        if (key_is(js, k, "EventLog")) /* Sentinel's Event table */
            return 1;
        return -1;
    }
    if (key_is(js, k, "DeviceName"))
        return 0;
    if (key_is(js, k, "Timestamp"))
        return 5;
    if (key_is(js, k, "ActionType"))
        return 6;
    return -1;
}

/* Works out what the name kp[0, kn) is (key_class), as the calls it replaces answer. */
static void key_classify(const char *kp, size_t kn, key_class *c)
{
    jsmntok_t k = {JSMN_STRING, 0, (int)kn, 0, -1};
    c->slot[0] = (int8_t)slot_of(0, kp, &k, SHAPE_NXLOG);
    c->slot[1] = (int8_t)slot_of(1, kp, &k, SHAPE_NXLOG);
    c->slot[2] = (int8_t)slot_of(0, kp, &k, SHAPE_MDE);
    c->sn = nxlog_sys(kp, kn);
    c->sn_len = c->sn ? strlen(c->sn) : 0;
    c->flags = (uint8_t)((is_skip(kp, kn) ? KF_SKIP : 0) |
                         (key_is(kp, &k, "EventType") ? KF_EVENTTYPE : 0) |
                         (key_is(kp, &k, "Source") ? KF_SOURCE : 0) |
                         (key_is(kp, &k, "ParameterXml") ? KF_PARAMXML : 0) |
                         (key_is(kp, &k, "EventID") ? KF_EVENTID : 0) |
                         (key_is(kp, &k, "RecordNumber") ? KF_RECNO : 0) |
                         (key_is(kp, &k, "ReportId") ? KF_REPORTID : 0));
}

/* a[0, n) == b[0, n), inline: whole words, the last one overlapping (never past n). */
static inline int name_eq(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        uint64_t x, y;
        for (size_t i = 0; i + 8 <= n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y)
                return 0;
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t x, y, z, w;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        memcpy(&z, a + n - 4, 4);
        memcpy(&w, b + n - 4, 4);
        return x == y && z == w;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* The class of the name kp[0, kn): from the reader's table, worked out and kept on first
 * sight, or worked out into *tmp when the name is long or the table has no room near it. */
static const key_class *key_class_of(jsonl_reader *r, const char *kp, size_t kn, key_class *tmp)
{
    if (kn && kn <= KC_NAME) {
        /* length and three bytes: the names of a capture are told apart (probes settle the
         * rest); a hash of every byte cost more than the compares it saves */
        uint32_t h = ((uint32_t)kn * 0x9E3779B1u) ^ ((unsigned char)kp[0] * 0x85EBCA6Bu) ^
                     ((unsigned char)kp[kn - 1] * 0xC2B2AE35u) ^
                     ((unsigned char)kp[kn / 2] * 0x27D4EB2Fu);
        h ^= h >> 15;
        for (unsigned p = 0; p < KC_PROBE; p++) {
            key_class *c = &r->kc[(h + p) & (KC_SLOTS - 1)];
            if (!(c->flags & KF_USED)) {
                key_classify(kp, kn, c);
                memcpy(c->name, kp, kn);
                c->len = (uint8_t)kn;
                c->flags |= KF_USED;
                return c;
            }
            if (c->len == kn && name_eq(c->name, kp, kn))
                return c;
        }
    }
    key_classify(kp, kn, tmp);
    return tmp;
}

/* One event from the object at token `o`: NXLog-flattened Windows event or a Defender
 * row (table given, or inferred from ActionType). long because: one pass over the
 * object's members, per line on the JSON hot path, sorting each into envelope, System
 * property or data as it goes. */
static const char *decode_object(jsonl_reader *r, const char *js, int nt, int o, int shape,
                                 const char *table, dh_event *ev)
{
    r->arena.len = 0;
    r->nsys = 0;
    size_t nkv = 0;
    dh_str utc = {"", 0};
    int64_t event_id = -1;
    uint64_t recno = 0;
    uint32_t eid = 0, env[9][2];
    memset(env, 0, sizeof env);
    /* kept in locals: the arena's stores (through char *) would make the compiler load
     * them again for every member */
    const jsmntok_t *tok = r->tok;
    const int own_flat = r->own_flat, si = shape != SHAPE_NXLOG ? 2 : own_flat ? 1 : 0;
    int i = o + 1, remaining = tok[o].size;
    while (remaining-- > 0 && i + 1 < nt) {
        const jsmntok_t *k = &tok[i], *v = &tok[i + 1];
        if (k->type != JSMN_STRING)
            return "object key is not a string";
        int next = v->type == JSMN_STRING || v->type == JSMN_PRIMITIVE
                       ? i + 2 /* a scalar: no subtree */
                       : skip_subtree(tok, nt, i + 1);
        const char *kp = js + k->start;
        size_t kn = (size_t)(k->end - k->start);
        /* Defender leaves empty columns as null or "": they are not data. */
        int null = v->type == JSMN_PRIMITIVE && v->end - v->start == 4 &&
                   !memcmp(js + v->start, "null", 4);
        key_class ctmp;
        const key_class *kc = key_class_of(r, kp, kn, &ctmp);
        int kf = kc->flags;
        int slot = kc->slot[si];
        const char *sn = shape == SHAPE_NXLOG ? kc->sn : NULL;
        int skip_key = kf & KF_SKIP;
        if (shape == SHAPE_NXLOG && slot < 0 && !sn && !(kf & KF_EVENTTYPE) && !own_flat &&
            skip_key && !(kf & (KF_SOURCE | KF_PARAMXML | KF_EVENTID | KF_RECNO))) {
            /* A shipper's key that is neither envelope nor data (Message, Severity...): its
             * value is not unescaped at all. NXLog's Message repeats the event's data as
             * text and is often the largest value of the line. */
            i = next;
            continue;
        }
        size_t vstart = r->arena.len;
        int bad =
            v->type == JSMN_STRING
                ? arena_unescape(&r->arena, js + v->start, (size_t)(v->end - v->start), READABLE(v))
                : (dh_buf_append(&r->arena, js + v->start, (size_t)(v->end - v->start)) ? -1 : 0);
        if (bad)
            return "bad string escape or value too long";
        uint32_t vo = (uint32_t)vstart, vl = (uint32_t)(r->arena.len - vstart);
        if (slot >= 0) {
            env[slot][0] = vo;
            env[slot][1] = vl;
        }
        if (sn && !null)
            sys_add_n(r, (dh_str){sn, kc->sn_len}, vo, vl);
        if (shape == SHAPE_NXLOG && (kf & KF_SOURCE)) { /* kept as data too */
            env[8][0] = vo;
            env[8][1] = vl;
        }
        if (shape == SHAPE_NXLOG && (kf & KF_PARAMXML)) {
            /* Sentinel's Event table: the event data as <Param> values, param1... */
            param_sink ps = {r, &nkv, 0};
            char *xml = malloc(vl ? vl : 1); /* the arena grows while it is read */
            if (!xml)
                return "out of memory";
            memcpy(xml, r->arena.data + vo, vl);
            int malformed = dh_sentinel_params(xml, vl, &r->arena, add_param, &ps);
            free(xml);
            if (malformed || ps.full)
                return "ParameterXml not well-formed, or too many fields";
        }
        if (shape == SHAPE_NXLOG && (kf & KF_EVENTID)) {
            uint64_t id;
            if (!whole_number(r->arena.data + vo, vl, UINT32_MAX, &id))
                return "EventID is not a whole number from 0 to 4294967295";
            event_id = (int64_t)id;
        } else if (shape == SHAPE_NXLOG && (kf & KF_RECNO)) {
            uint64_t rec = 0;
            recno = whole_number(r->arena.data + vo, vl, UINT64_MAX, &rec) ? rec : 0;
        } else if (shape == SHAPE_MDE && (kf & KF_REPORTID)) {
            /* ReportId can exceed a double (kept exact); some exports write it as text
             * ("3ab9..._106830890_..."), whose leading digits stay the record id, as before */
            char tmp[24];
            size_t l = vl < 23 ? vl : 23;
            memcpy(tmp, r->arena.data + vo, l);
            tmp[l] = 0;
            recno = strtoull(tmp, NULL, 10);
        }
        /* NXLog's own EventType (INFO, AUDIT_SUCCESS...) shadows Sysmon's registry
         * EventType (SetValue, CreateKey...): keep the latter. */
        int nxlog_type = (kf & KF_EVENTTYPE) && vl && r->arena.data[vo] >= 'A' &&
                         r->arena.data[vo] <= 'Z' &&
                         (vl < 2 || (r->arena.data[vo + 1] >= 'A' && r->arena.data[vo + 1] <= 'Z'));
        int skip = skip_key && !((kf & KF_EVENTTYPE) && !nxlog_type);
        if (shape == SHAPE_NXLOG && own_flat) /* what dump --to otrf writes: all else is data */
            skip = sn != NULL;
        if (((shape == SHAPE_NXLOG && slot < 0 && !skip) || (shape == SHAPE_MDE && !null && vl) ||
             (shape == SHAPE_ECS && !null)) &&
            !(shape == SHAPE_NXLOG && (kf & (KF_EVENTID | KF_RECNO)))) {
            if (nkv >= r->kv_cap)
                return "too many fields";
            r->off[4 * nkv] = (uint32_t)(kp - js);
            r->off[4 * nkv + 1] = (uint32_t)kn;
            r->off[4 * nkv + 2] = vo;
            r->off[4 * nkv + 3] = vl;
            nkv++;
        }
        i = next;
    }
    const char *a = r->arena.data ? r->arena.data : "";
    dh_str host = {a + env[0][0], env[0][1]};
    dh_str evt = {a + env[3][0], env[3][1]}, recv = {a + env[4][0], env[4][1]};
    dh_str ts = {a + env[5][0], env[5][1]};
    for (size_t k = 0; k < nkv; k++) {
        uint32_t no = r->off[4 * k];
        r->kv[k].name = (no & PARAM_NAME)
                            ? (dh_str){dh_sentinel_param_name(no & ~PARAM_NAME), r->off[4 * k + 1]}
                            : (dh_str){js + no, r->off[4 * k + 1]};
        r->kv[k].value = (dh_str){a + r->off[4 * k + 2], r->off[4 * k + 3]};
        if (r->kv[k].name.len == 7 && !memcmp(r->kv[k].name.ptr, "UtcTime", 7))
            utc = r->kv[k].value;
    }
    if (shape == SHAPE_ECS) {
        /* The caller fills the envelope (from winlog and @timestamp). */
        dh_event_set_data(ev, r->kv, nkv);
        return NULL;
    }
    if (shape == SHAPE_NXLOG) {
        if (event_id < 0)
            return "no EventID: not a Windows event line";
        if (!host.len)
            host = (dh_str){a + env[7][0], env[7][1]};
        if (!env[2][1] && env[8][1]) /* Sentinel's Event table: Source is the provider */
            dh_event_set_provider(ev, dh_sentinel_provider((dh_str){a + env[8][0], env[8][1]}));
        else if (!env[2][1] && env[1][1] == 8 && !strncasecmp(a + env[1][0], "Security", 8)) {
            /* Sentinel leaves the provider out of some Security rows */
            dh_event_set_provider(ev, DH_STR("Microsoft-Windows-Security-Auditing"));
        }
        if (!recno) /* no record number (Sentinel): one from the row, so copies are one */
            recno = row_id(js + r->tok[o].start, (size_t)(r->tok[o].end - r->tok[o].start));
        dh_event_set_channel(ev, canonical_channel((dh_str){a + env[1][0], env[1][1]}));
        if (env[2][1])
            dh_event_set_provider(ev, (dh_str){a + env[2][0], env[2][1]});
        eid = (uint32_t)event_id;
        /* Without EventReceivedTime the line was not shipped by NXLog, and @timestamp is
         * the event's own time (as dcomhunt dump --to otrf writes it). */
        dh_event_set_time(ev, recv.len || !ts.len ? event_time(utc, evt, recv, ts)
                                                  : event_time((dh_str){"", 0}, (dh_str){"", 0},
                                                               (dh_str){"", 0}, ts));
    } else {
        if (!table)
            table = dh_mde_table_for_action((dh_str){a + env[6][0], env[6][1]});
        dh_event_set_provider(ev, (dh_str){table, strlen(table)});
        dh_event_set_channel(ev, (dh_str){table, strlen(table)});
        eid = 0;
        dh_event_set_time(ev, event_time((dh_str){"", 0}, (dh_str){"", 0}, (dh_str){"", 0}, ts));
        dh_event_set_scratch(ev, r->scratch, sizeof r->scratch);
    }
    dh_event_set_host(ev, host);
    dh_event_set_ids(ev, eid, recno);
    dh_event_set_data(ev, r->kv, nkv);
    if (shape == SHAPE_MDE) {
        dh_map_windows_apply(ev);
        return NULL;
    }
    /* NXLog's shape carries any source when dump --to otrf wrote it (Zeek, Elastic,
     * Defender rows): mapped by the source its provider names. */
    sys_finish(r, ev);
    dh_event_set_scratch(ev, r->scratch, sizeof r->scratch);
    return dh_map_any_apply(ev);
}

/* Finds key `name` among the members of the object at token o; its value's index or -1. */
static int member(const jsmntok_t *tok, int nt, const char *js, int o, const char *name)
{
    int i = o + 1, remaining = tok[o].size;
    size_t nn = strlen(name);
    while (remaining-- > 0 && i + 1 < nt) {
        if (tok[i].type == JSMN_STRING && key_eq(js, &tok[i], name, nn))
            return i + 1;
        i = skip_subtree(tok, nt, i + 1);
    }
    return -1;
}

/* A member by a dotted path ("process.thread.id") from the object at token o; -1. */
static int member_path(const jsmntok_t *tok, int nt, const char *js, int o, const char *path)
{
    char part[64];
    const char *p = path;
    while (o >= 0) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof part || tok[o].type != JSMN_OBJECT)
            return -1;
        memcpy(part, p, n);
        part[n] = 0;
        o = member(tok, nt, js, o, part);
        if (!dot)
            return o;
        p = dot + 1;
    }
    return -1;
}

/* Elastic Endpoint / ECS documents: nested objects flattened into dotted names
 * ("process.parent.executable"), arrays of scalars as repeated names. */
static const char *flatten(jsonl_reader *r, const char *js, int nt, int i, size_t *nkv, int depth)
{
    const jsmntok_t *o = &r->tok[i];
    if (depth > 8)
        return "objects nested too deep";
    int k = i + 1, remaining = o->size;
    while (remaining-- > 0 && k + 1 < nt) {
        const jsmntok_t *key = &r->tok[k], *v = &r->tok[k + 1];
        int next = skip_subtree(r->tok, nt, k + 1);
        if (key->type != JSMN_STRING)
            return "object key is not a string";
        int is_obj = v->type == JSMN_OBJECT;
        size_t saved = r->names.len;
        if (r->names.len && dh_buf_putc(&r->names, '.'))
            return "name too long";
        if (dh_buf_append(&r->names, js + key->start, (size_t)(key->end - key->start)))
            return "name too long";
        if (is_obj) {
            const char *why = flatten(r, js, nt, k + 1, nkv, depth + 1);
            if (why)
                return why;
        } else {
            int first = v->type == JSMN_ARRAY ? k + 2 : k + 1;
            int count = v->type == JSMN_ARRAY ? v->size : 1;
            int e = first;
            for (int c = 0; c < count && e < nt; c++) {
                const jsmntok_t *x = &r->tok[e];
                int enext = skip_subtree(r->tok, nt, e);
                int null = x->type == JSMN_PRIMITIVE && x->end - x->start == 4 &&
                           !memcmp(js + x->start, "null", 4);
                if (!null && x->type != JSMN_OBJECT && x->type != JSMN_ARRAY) {
                    if (*nkv >= r->kv_cap)
                        return "too many fields";
                    size_t no = r->arena.len;
                    if (dh_buf_append(&r->arena, r->names.data, r->names.len))
                        return "value too long";
                    size_t vo = r->arena.len;
                    int bad =
                        x->type == JSMN_STRING
                            ? arena_unescape(&r->arena, js + x->start, (size_t)(x->end - x->start),
                                             READABLE(x))
                            : dh_buf_append(&r->arena, js + x->start, (size_t)(x->end - x->start));
                    if (bad)
                        return "bad string escape or value too long";
                    r->off[4 * *nkv] = (uint32_t)no;
                    r->off[4 * *nkv + 1] = (uint32_t)(vo - no);
                    r->off[4 * *nkv + 2] = (uint32_t)vo;
                    r->off[4 * *nkv + 3] = (uint32_t)(r->arena.len - vo);
                    (*nkv)++;
                }
                e = enext;
            }
        }
        r->names.len = saved;
        k = next;
    }
    return NULL;
}

/* An Elastic Endpoint (or other ECS) event with no winlog part: flattened, then mapped. */
static const char *decode_elastic(jsonl_reader *r, const char *js, int nt, dh_event *ev)
{
    r->arena.len = 0;
    dh_buf_reset(&r->names);
    size_t nkv = 0;
    const char *why = flatten(r, js, nt, 0, &nkv, 0);
    if (why)
        return why;
    const char *a = r->arena.data ? r->arena.data : "";
    for (size_t k = 0; k < nkv; k++) {
        r->kv[k].name = (dh_str){a + r->off[4 * k], r->off[4 * k + 1]};
        r->kv[k].value = (dh_str){a + r->off[4 * k + 2], r->off[4 * k + 3]};
    }
    dh_event_set_data(ev, r->kv, nkv);
    dh_event_set_scratch(ev, r->scratch, sizeof r->scratch);
    return dh_map_elastic_apply(ev);
}

/* ---- evtx_dump and dcomhunt dump objects ----------------------------------------------
 * Items are collected as (name offset in the line, name length, value offset in the arena,
 * value length) in r->off, as decode_object does; values are unescaped into the arena. */

/* Appends the text of a scalar token (a string unescaped; a number, true, false as
 * written; null as empty) to the arena; its offset and length. */
static int tok_text(jsonl_reader *r, const char *js, const jsmntok_t *t, uint32_t *off,
                    uint32_t *len)
{
    size_t at = r->arena.len;
    int bad = 0;
    if (t->type == JSMN_STRING)
        bad = arena_unescape(&r->arena, js + t->start, (size_t)(t->end - t->start), READABLE(t));
    else if (!(t->end - t->start == 4 && !memcmp(js + t->start, "null", 4)))
        bad = dh_buf_append(&r->arena, js + t->start, (size_t)(t->end - t->start)) ? -1 : 0;
    *off = (uint32_t)at;
    *len = (uint32_t)(r->arena.len - at);
    return bad;
}

static int item_add(jsonl_reader *r, size_t *nkv, uint32_t name_off, uint32_t name_len, uint32_t vo,
                    uint32_t vl)
{
    if (*nkv >= r->kv_cap)
        return -1;
    r->off[4 * *nkv] = name_off;
    r->off[4 * *nkv + 1] = name_len;
    r->off[4 * *nkv + 2] = vo;
    r->off[4 * *nkv + 3] = vl;
    (*nkv)++;
    return 0;
}

/* The value at token v as items named by key token k: a scalar is one item, an array one
 * item per scalar element, {"#text": ...} its text; other objects are walked for their
 * leaves (UserData), "#attributes" left out. */
static const char *items_of(jsonl_reader *r, const char *js, int nt, int k, int v, size_t *nkv,
                            int depth)
{
    const jsmntok_t *kt = &r->tok[k], *vt = &r->tok[v];
    uint32_t no = (uint32_t)kt->start, nl = (uint32_t)(kt->end - kt->start), vo, vl;
    if (depth > 8)
        return "objects nested too deep";
    if (vt->type == JSMN_OBJECT) {
        int text = member(r->tok, nt, js, v, "#text");
        if (text >= 0)
            return items_of(r, js, nt, k, text, nkv, depth + 1);
        int i = v + 1, remaining = vt->size;
        while (remaining-- > 0 && i + 1 < nt) {
            int next = skip_subtree(r->tok, nt, i + 1);
            if (!key_is(js, &r->tok[i], "#attributes")) {
                const char *why = items_of(r, js, nt, i, i + 1, nkv, depth + 1);
                if (why)
                    return why;
            }
            i = next;
        }
        return NULL;
    }
    if (vt->type == JSMN_ARRAY) {
        int i = v + 1;
        for (int c = 0; c < vt->size && i < nt; c++) {
            int next = skip_subtree(r->tok, nt, i);
            if (r->tok[i].type != JSMN_OBJECT && r->tok[i].type != JSMN_ARRAY) {
                if (tok_text(r, js, &r->tok[i], &vo, &vl) || item_add(r, nkv, no, nl, vo, vl))
                    return "value too long, or too many fields";
            }
            i = next;
        }
        return NULL;
    }
    if (tok_text(r, js, vt, &vo, &vl) || item_add(r, nkv, no, nl, vo, vl))
        return "value too long, or too many fields";
    return NULL;
}

/* The text of the member at `path` (dotted, from object o) into the arena; 0 if absent. */
static int path_text(jsonl_reader *r, const char *js, int nt, int o, const char *path,
                     uint32_t *off, uint32_t *len)
{
    int v = member_path(r->tok, nt, js, o, path);
    if (v >= 0 && r->tok[v].type == JSMN_OBJECT) /* {"#text": 4624, "#attributes": ...} */
        v = member(r->tok, nt, js, v, "#text");
    if (v < 0 || r->tok[v].type == JSMN_OBJECT || r->tok[v].type == JSMN_ARRAY)
        return 0;
    return tok_text(r, js, &r->tok[v], off, len) == 0;
}

/* An id written by the attacker's log: only decimal digits, at most max, count. 1.5, 1e9,
 * -1 or "1abc" would otherwise read as another valid id (strtoull stops at the first
 * non-digit), and a cut copy would read 000...0003 as 0. */
static int whole_number(const char *p, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)p[i] - '0';
        if (d > 9 || v > (max - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

/* An id from the arena; 0 (none) when it is not a whole number in range. */
static uint64_t arena_u64(const jsonl_reader *r, uint32_t off, uint32_t len, uint64_t max)
{
    uint64_t v = 0;
    return whole_number(r->arena.data + off, len, max, &v) ? v : 0;
}

/* The envelope (env: provider, channel, computer, event id, record id, time, each an arena
 * offset and length, or 0 0) and the items collected in r->off, into ev: the data names
 * point into the line, the values into the arena (which no longer moves). Then the System
 * properties and the mapping of the event's source. */
static const char *finish_event(jsonl_reader *r, const char *js, size_t nkv, uint32_t env[6][2],
                                dh_event *ev)
{
    const char *a = r->arena.data ? r->arena.data : "";
    for (size_t k = 0; k < nkv; k++) {
        r->kv[k].name = (dh_str){js + r->off[4 * k], r->off[4 * k + 1]};
        r->kv[k].value = (dh_str){a + r->off[4 * k + 2], r->off[4 * k + 3]};
    }
    dh_event_set_provider(ev, (dh_str){a + env[0][0], env[0][1]});
    dh_event_set_channel(ev, (dh_str){a + env[1][0], env[1][1]});
    dh_event_set_host(ev, (dh_str){a + env[2][0], env[2][1]});
    dh_event_set_ids(ev, env[3][1] ? (uint32_t)arena_u64(r, env[3][0], env[3][1], UINT32_MAX) : 0,
                     env[4][1] ? arena_u64(r, env[4][0], env[4][1], UINT64_MAX) : 0);
    int64_t t = 0;
    if (env[5][1])
        dh_time_parse_iso(a + env[5][0], env[5][1], &t);
    dh_event_set_time(ev, t);
    dh_event_set_data(ev, r->kv, nkv);
    dh_event_set_scratch(ev, r->scratch, sizeof r->scratch);
    sys_finish(r, ev);
    return dh_map_any_apply(ev);
}

/* evtx_dump's JSON of a record (the Rust evtx tools, Chainsaw, SigmaHQ's regression data):
 * {"Event": {"#attributes": ..., "System": {"Provider": {"#attributes": {"Name": ...}},
 * "EventID": 4688 or {"#text": 4688, "#attributes": {"Qualifiers": ...}}, "TimeCreated":
 * {"#attributes": {"SystemTime": ...}}, ...}, "EventData": {name: value, ...} or
 * "UserData": {wrapper: {leaf: value}}}}. The same event as the EVTX record. */
static const char *decode_evtxdump(jsonl_reader *r, const char *js, int nt, int event, dh_event *ev)
{
    r->arena.len = 0;
    r->nsys = 0;
    size_t nkv = 0;
    int sys = member(r->tok, nt, js, event, "System");
    if (sys < 0 || r->tok[sys].type != JSMN_OBJECT)
        return "an Event object without System";
    uint32_t env[6][2];
    static const char *const env_paths[] = {
        "Provider.#attributes.Name",         "Channel", "Computer", "EventID", "EventRecordID",
        "TimeCreated.#attributes.SystemTime"};
    for (int k = 0; k < 6; k++)
        if (!path_text(r, js, nt, sys, env_paths[k], &env[k][0], &env[k][1]))
            env[k][0] = env[k][1] = 0;
    /* System properties: the element's text (Level...) or its attributes (Security...). */
    int i = sys + 1, remaining = r->tok[sys].size;
    while (remaining-- > 0 && i + 1 < nt) {
        int next = skip_subtree(r->tok, nt, i + 1);
        const jsmntok_t *k = &r->tok[i], *v = &r->tok[i + 1];
        static const char *const props[] = {"Level", "Task", "Opcode", "Keywords", "Version"};
        for (size_t p = 0; p < sizeof props / sizeof props[0]; p++) {
            uint32_t vo, vl;
            if (key_eq(js, k, props[p], strlen(props[p])) && v->type != JSMN_OBJECT &&
                v->type != JSMN_ARRAY && !tok_text(r, js, v, &vo, &vl))
                sys_add(r, props[p], vo, vl);
        }
        int at = v->type == JSMN_OBJECT ? member(r->tok, nt, js, i + 1, "#attributes") : -1;
        if (at >= 0 && r->tok[at].type == JSMN_OBJECT) {
            static const char *const attrs[] = {"Guid",       "EventSourceName",   "Qualifiers",
                                                "UserID",     "ProcessID",         "ThreadID",
                                                "ActivityID", "RelatedActivityID", "KernelTime",
                                                "UserTime",   "ProcessorID",       "SessionID"};
            for (size_t p = 0; p < sizeof attrs / sizeof attrs[0]; p++) {
                int a = member(r->tok, nt, js, at, attrs[p]);
                uint32_t vo, vl;
                if (a >= 0 && r->tok[a].type != JSMN_OBJECT && r->tok[a].type != JSMN_ARRAY &&
                    !tok_text(r, js, &r->tok[a], &vo, &vl))
                    sys_add(r, attrs[p], vo, vl);
            }
        }
        i = next;
    }
    int ed = member(r->tok, nt, js, event, "EventData");
    int ud = member(r->tok, nt, js, event, "UserData");
    const char *why = NULL;
    if (ed >= 0 && r->tok[ed].type == JSMN_OBJECT) {
        i = ed + 1;
        remaining = r->tok[ed].size;
        while (!why && remaining-- > 0 && i + 1 < nt) {
            int next = skip_subtree(r->tok, nt, i + 1);
            if (!key_is(js, &r->tok[i], "#attributes"))
                why = items_of(r, js, nt, i, i + 1, &nkv, 0);
            i = next;
        }
    }
    if (!why && ud >= 0 && r->tok[ud].type == JSMN_OBJECT) {
        i = ud + 1;
        remaining = r->tok[ud].size;
        while (!why && remaining-- > 0 && i + 1 < nt) { /* the wrapper element, then leaves */
            int next = skip_subtree(r->tok, nt, i + 1);
            if (r->tok[i + 1].type == JSMN_OBJECT)
                why = items_of(r, js, nt, i, i + 1, &nkv, 0);
            i = next;
        }
    }
    return why ? why : finish_event(r, js, nkv, env, ev);
}

/* dcomhunt dump's own JSON ({"record_id", "time", "event_id", "provider", "channel",
 * "computer", "kind", "data": {name: value or [values]}, "system": {...}}): read back as
 * the event it was written from, mapped again by the table of its source (Zeek, Elastic
 * Endpoint, Windows and Defender). */
static const char *decode_dump(jsonl_reader *r, const char *js, int nt, dh_event *ev)
{
    r->arena.len = 0;
    r->nsys = 0;
    size_t nkv = 0;
    uint32_t env[6][2];
    static const char *const env_keys[] = {"provider", "channel",   "computer",
                                           "event_id", "record_id", "time"};
    for (int k = 0; k < 6; k++)
        if (!path_text(r, js, nt, 0, env_keys[k], &env[k][0], &env[k][1]))
            env[k][0] = env[k][1] = 0;
    int data = member(r->tok, nt, js, 0, "data");
    const char *why = NULL;
    int i = data + 1, remaining = r->tok[data].size;
    while (!why && remaining-- > 0 && i + 1 < nt) {
        int next = skip_subtree(r->tok, nt, i + 1);
        why = items_of(r, js, nt, i, i + 1, &nkv, 0);
        i = next;
    }
    int sys = member(r->tok, nt, js, 0, "system");
    if (!why && sys >= 0 && r->tok[sys].type == JSMN_OBJECT) {
        i = sys + 1;
        remaining = r->tok[sys].size;
        while (remaining-- > 0 && i + 1 < nt && r->nsys < SYS_MAX) {
            int next = skip_subtree(r->tok, nt, i + 1);
            uint32_t vo, vl;
            /* The name: dh_event_system's own, as a static string when it is one (any
             * other, such as a classic source's Execution attribute, kept as written). */
            dh_str nm = {js + r->tok[i].start, (size_t)(r->tok[i].end - r->tok[i].start)};
            const char *c = dh_sys_canonical(nm.ptr, nm.len);
            if (c)
                nm = (dh_str){c, strlen(c)};
            if (r->tok[i + 1].type != JSMN_OBJECT && r->tok[i + 1].type != JSMN_ARRAY &&
                !tok_text(r, js, &r->tok[i + 1], &vo, &vl))
                sys_add_n(r, nm, vo, vl);
            i = next;
        }
    }
    return why ? why : finish_event(r, js, nkv, env, ev);
}

/* Hands a decoded event on; a callback's stop status goes to *stop. Returns NULL (the line
 * was an event). */
static const char *emit(dh_event *ev, jsonl_event_fn on_event, void *ectx, uint64_t *events,
                        dh_status *stop)
{
    (*events)++;
    dh_status st = on_event(ectx, ev);
    if (st)
        *stop = st;
    return NULL;
}

/* The top-level keys that tell an object's shape, found in one pass (a member() per key
 * would scan the object again for each): token indexes of their values, or -1. */
typedef struct line_keys {
    int recs, wl, eventid, stamp, device, orig, uid, eobj, tbl, zts, evt, drec, ddata;
    int shipped, ts_key;
} line_keys;

/* The names compared by length first (a switch), then bytes: the chain of key_is asked
 * each of some forty names per line up to twenty times (scan_keys was 5.7% of `hunt -j1
 * --jsonl` on the OTRF capture, callgrind 2026-12-07). The names are distinct, so which
 * one is asked first does not matter. */
static void scan_keys(const jsmntok_t *tok, int nt, const char *js, line_keys *lk)
{
    memset(lk, -1, sizeof *lk);
    lk->shipped = lk->ts_key = 0;
    for (int i = 1, remaining = tok[0].size; remaining-- > 0 && i + 1 < nt;) {
        const jsmntok_t *k = &tok[i];
        if (k->type == JSMN_STRING) {
            const char *p = js + k->start;
            switch (k->end - k->start) {
            case 2:
                if (!memcmp(p, "ts", 2))
                    lk->zts = i + 1;
                break;
            case 3:
                if (!memcmp(p, "uid", 3))
                    lk->uid = i + 1;
                break;
            case 4:
                if (!memcmp(p, "fuid", 4))
                    lk->uid = i + 1;
                else if (!memcmp(p, "data", 4))
                    lk->ddata = i + 1;
                break;
            case 5:
                if (!memcmp(p, "_path", 5))
                    lk->uid = i + 1;
                else if (!memcmp(p, "event", 5))
                    lk->eobj = i + 1;
                else if (!memcmp(p, "Table", 5))
                    lk->tbl = i + 1;
                else if (!memcmp(p, "Event", 5))
                    lk->evt = i + 1;
                break;
            case 6:
                if (!memcmp(p, "winlog", 6))
                    lk->wl = i + 1;
                break;
            case 7:
                if (!memcmp(p, "EventID", 7))
                    lk->eventid = i + 1;
                else if (!memcmp(p, "records", 7))
                    lk->recs = i + 1;
                break;
            case 9:
                if (!memcmp(p, "Timestamp", 9))
                    lk->stamp = i + 1;
                else if (!memcmp(p, "id.orig_h", 9) || !memcmp(p, "id_orig_h", 9))
                    lk->orig = i + 1;
                else if (!memcmp(p, "record_id", 9))
                    lk->drec = i + 1;
                break;
            case 10:
                if (!memcmp(p, "DeviceName", 10))
                    lk->device = i + 1;
                else if (!memcmp(p, "@timestamp", 10))
                    lk->ts_key = 1;
                break;
            case 13:
                if (!memcmp(p, "TimeGenerated", 13))
                    lk->shipped = 1;
                break;
            case 16:
                if (!memcmp(p, "SourceModuleName", 16))
                    lk->shipped = 1;
                break;
            case 17:
                if (!memcmp(p, "EventReceivedTime", 17))
                    lk->shipped = 1;
                break;
            default:
                break;
            }
        }
        const jsmntok_t *v = &tok[i + 1];
        i = v->type == JSMN_STRING || v->type == JSMN_PRIMITIVE ? i + 2
                                                                : skip_subtree(tok, nt, i + 1);
    }
}

/* Which shape an object is, by its keys (in the order decode_line tries them). */
enum { S_NONE, S_EVTXDUMP, S_DUMP, S_BATCH, S_WINLOG, S_ZEEK, S_ELASTIC, S_NXLOG, S_MDE };

static int shape_of(const jsmntok_t *tok, int nt, const char *js, const line_keys *k)
{
    if (k->evt >= 0 && tok[k->evt].type == JSMN_OBJECT &&
        member(tok, nt, js, k->evt, "System") >= 0)
        return S_EVTXDUMP;
    if (k->drec >= 0 && k->ddata >= 0 && tok[k->ddata].type == JSMN_OBJECT &&
        member(tok, nt, js, 0, "event_id") >= 0)
        return S_DUMP;
    if (k->recs >= 0 && tok[k->recs].type == JSMN_ARRAY)
        return S_BATCH;
    if (k->wl >= 0 && tok[k->wl].type == JSMN_OBJECT)
        return S_WINLOG;
    if (((k->orig >= 0 && k->uid >= 0) || (k->zts >= 0 && k->uid >= 0)) && k->eventid < 0)
        return S_ZEEK;
    if (k->eventid < 0 && k->eobj >= 0 && tok[k->eobj].type == JSMN_OBJECT &&
        member(tok, nt, js, k->eobj, "category") >= 0)
        return S_ELASTIC;
    if (k->eventid >= 0)
        return S_NXLOG;
    if (k->stamp >= 0 && k->device >= 0)
        return S_MDE;
    return S_NONE;
}

/* The members of a Winlogbeat `winlog` object the reader asks for, found in one pass over
 * it: a member() per name walked the object (and event_data's tokens inside it) again for
 * each of some twenty names, 9.6% of `hunt -j1 --jsonl` on an ECS capture of the corpus
 * OTRF events (member and member_path, perf 2026-12-07). First match wins, as in member(). */

static void wl_scan(const jsmntok_t *tok, int nt, const char *js, int o, int at[WL_NAMES])
{
    for (int k = 0; k < WL_NAMES; k++)
        at[k] = -1;
    int i = o + 1, remaining = tok[o].size;
    while (remaining-- > 0 && i + 1 < nt) {
        if (tok[i].type == JSMN_STRING) {
            size_t kn = (size_t)(tok[i].end - tok[i].start);
            for (int k = 0; k < WL_NAMES; k++)
                if (wl_names[k].n == kn && !memcmp(js + tok[i].start, wl_names[k].s, kn)) {
                    if (at[k] < 0)
                        at[k] = i + 1;
                    break;
                }
        }
        i = skip_subtree(tok, nt, i + 1);
    }
}

/* member_path(tok, nt, js, wl, path) with the first name taken from wl_scan's answers (a
 * path whose first name is not in wl_names is looked up the long way). */
static int wl_path(const jsmntok_t *tok, int nt, const char *js, int wl, const int at[WL_NAMES],
                   const char *path)
{
    const char *dot = strchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : strlen(path);
    for (int k = 0; k < WL_NAMES; k++)
        if (wl_names[k].n == n && !memcmp(wl_names[k].s, path, n))
            return !dot || at[k] < 0 ? at[k] : member_path(tok, nt, js, at[k], dot + 1);
    return member_path(tok, nt, js, wl, path);
}

/* A line: a Windows event (NXLog), a Defender row, or an Event Hubs batch of Defender rows
 * ({"records":[{"category":"AdvancedHunting-<table>","properties":{...}}]}).
 * long because: the per-line entry of the JSON hot path, one dispatch on the line's
 * shape with each shape's envelope filled inline. */
static const char *decode_line(jsonl_reader *r, const char *js, size_t n, dh_event *ev,
                               jsonl_event_fn on_event, void *ectx, uint64_t *events,
                               dh_status *stop)
{
    int nt = r->pretok >= 0 ? r->pretok
             : r->reference ? jsonl_tokenize_reference(js, n, r->tok, MAX_TOKENS)
                            : jsonl_tokenize(js, n, r->tok, MAX_TOKENS);
    r->pretok = -1;
    _Static_assert(JSONL_TOK_DEPTH == 64, "the message names the depth");
    if (nt == JSONL_ERROR_DEPTH)
        return "JSON nested deeper than 64 levels";
    if (nt == JSMN_ERROR_NOMEM)
        return "line has too many JSON tokens";
    if (nt < 0)
        return "not valid JSON";
    if (nt < 1 || r->tok[0].type != JSMN_OBJECT)
        return "not a JSON object";
    /* jsmn accepts several values in a row ({..} {..}, or lines ended by CR alone): the line
     * is refused rather than read as its first object with the rest silently dropped */
    if ((size_t)r->tok[0].end < n)
        return "text after the JSON object";
    line_keys lk;
    scan_keys(r->tok, nt, js, &lk);
    int recs = lk.recs, wl = lk.wl, eventid = lk.eventid, stamp = lk.stamp, device = lk.device,
        orig = lk.orig, uid = lk.uid, eobj = lk.eobj, tbl = lk.tbl, zts = lk.zts, evt = lk.evt,
        drec = lk.drec, ddata = lk.ddata, shipped = lk.shipped, ts_key = lk.ts_key;
    (void)stamp;
    (void)device;
    switch (shape_of(r->tok, nt, js, &lk)) {
    case S_NONE:
        return "not a Windows event (event XML as JSON, NXLog, Winlogbeat, dcomhunt dump), a "
               "Defender row, an Event Hubs batch, an Elastic document or a Zeek record";
    default:
        break;
    }
    if (evt >= 0 && r->tok[evt].type == JSMN_OBJECT && member(r->tok, nt, js, evt, "System") >= 0) {
        const char *why = decode_evtxdump(r, js, nt, evt, ev);
        if (why)
            return why;
        return emit(ev, on_event, ectx, events, stop);
    }
    if (drec >= 0 && ddata >= 0 && r->tok[ddata].type == JSMN_OBJECT &&
        member(r->tok, nt, js, 0, "event_id") >= 0) {
        const char *why = decode_dump(r, js, nt, ev);
        if (why)
            return why;
        return emit(ev, on_event, ectx, events, stop);
    }
    if (recs >= 0 && r->tok[recs].type == JSMN_ARRAY) {
        int i = recs + 1, remaining = r->tok[recs].size;
        while (remaining-- > 0 && i < nt) {
            int next = skip_subtree(r->tok, nt, i);
            if (r->tok[i].type == JSMN_OBJECT) {
                int cat = member(r->tok, nt, js, i, "category");
                int props = member(r->tok, nt, js, i, "properties");
                const char *tname = NULL;
                if (cat >= 0) {
                    size_t cl = (size_t)(r->tok[cat].end - r->tok[cat].start);
                    const char *cp = js + r->tok[cat].start;
                    if (cl > 16 && !memcmp(cp, "AdvancedHunting-", 16)) {
                        cp += 16;
                        cl -= 16;
                    }
                    tname = dh_mde_table((dh_str){cp, cl});
                }
                if (props >= 0 && r->tok[props].type == JSMN_OBJECT) {
                    const char *why = decode_object(r, js, nt, props, SHAPE_MDE, tname, ev);
                    if (why)
                        return why;
                    (*events)++;
                    dh_status st = on_event(ectx, ev);
                    if (st) {
                        *stop = st;
                        return NULL;
                    }
                }
            }
            i = next;
        }
        return NULL;
    }
    if (wl >= 0 && r->tok[wl].type == JSMN_OBJECT) {
        /* Winlogbeat / ECS: the envelope in winlog (and @timestamp, host.name), the data in
         * winlog.event_data (or winlog.user_data). */
        static const char *const keys[] = {"channel", "computer_name", "event_id", "record_id",
                                           "provider_name"};
        for (int k = 0; k < 6; k++)
            r->envtext[k][0] = 0;
        int wat[WL_NAMES];
        wl_scan(r->tok, nt, js, wl, wat);
        dh_buf *tmp = &r->envbuf;
        for (int k = 0; k < 6; k++) {
            int v = k < 5 ? wl_path(r->tok, nt, js, wl, wat, keys[k])
                          : member(r->tok, nt, js, 0, "@timestamp");
            if (v < 0 || r->tok[v].type == JSMN_OBJECT || r->tok[v].type == JSMN_ARRAY)
                continue;
            dh_buf_reset(tmp); /* a value past the cap must not fail the next */
            if (r->tok[v].type == JSMN_STRING
                    ? dh_json_unescape(tmp, js + r->tok[v].start,
                                       (size_t)(r->tok[v].end - r->tok[v].start))
                    : dh_buf_append(tmp, js + r->tok[v].start,
                                    (size_t)(r->tok[v].end - r->tok[v].start)))
                continue;
            /* what "%.*s" gave (snprintf was 3.8% of the ECS capture's instructions): the
             * readers of envtext stop at a NUL as it did */
            size_t l = tmp->len < 511 ? tmp->len : 511;
            if (l)
                memcpy(r->envtext[k], tmp->data, l);
            r->envtext[k][l] = 0;
        }
        int ed = wl_path(r->tok, nt, js, wl, wat, "event_data");
        if (ed < 0)
            ed = wl_path(r->tok, nt, js, wl, wat, "user_data");
        if (ed >= 0 && r->tok[ed].type == JSMN_OBJECT) {
            const char *why = decode_object(r, js, nt, ed, SHAPE_ECS, NULL, ev);
            if (why)
                return why;
        } else {
            r->arena.len = 0;
            dh_event_set_data(ev, r->kv, 0);
        }
        /* The System properties Winlogbeat keeps (and dcomhunt's ECS writer adds). */
        r->nsys = 0;
        for (size_t k = 0; k < dh_sys_count; k++) {
            if (!dh_sys_names[k].winlog)
                continue;
            int v;
            if (k < SYS_ROWS_MAX && sys_wl_first[k] >= 0) { /* wl_path, split once */
                v = wat[sys_wl_first[k]];
                if (v >= 0 && sys_wl_rest[k])
                    v = member_path(r->tok, nt, js, v, sys_wl_rest[k]);
            } else {
                v = wl_path(r->tok, nt, js, wl, wat, dh_sys_names[k].winlog);
            }
            if (v >= 0 && r->tok[v].type == JSMN_ARRAY && r->tok[v].size > 0)
                v++; /* keywords: the first */
            if (v < 0 || r->tok[v].type == JSMN_OBJECT || r->tok[v].type == JSMN_ARRAY)
                continue;
            size_t at = r->arena.len;
            if (r->tok[v].type == JSMN_STRING
                    ? arena_unescape(&r->arena, js + r->tok[v].start,
                                     (size_t)(r->tok[v].end - r->tok[v].start),
                                     READABLE(&r->tok[v]))
                    : dh_buf_append(&r->arena, js + r->tok[v].start,
                                    (size_t)(r->tok[v].end - r->tok[v].start)))
                return "value too long";
            sys_add(r, dh_sys_names[k].name, (uint32_t)at, (uint32_t)(r->arena.len - at));
        }
        sys_finish(r, ev);
        /* The arena may have moved while they were added: the data values point into it
         * (their names point into the line). */
        for (size_t k = 0; k < ev->ndata; k++)
            r->kv[k].value = (dh_str){r->arena.data + r->off[4 * k + 2], r->off[4 * k + 3]};
        dh_event_set_channel(ev, canonical_channel((dh_str){r->envtext[0], strlen(r->envtext[0])}));
        dh_event_set_host(ev, (dh_str){r->envtext[1], strlen(r->envtext[1])});
        uint64_t id = 0, rec = 0;
        whole_number(r->envtext[2], strlen(r->envtext[2]), UINT32_MAX, &id);
        whole_number(r->envtext[3], strlen(r->envtext[3]), UINT64_MAX, &rec);
        dh_event_set_ids(ev, (uint32_t)id, rec);
        dh_event_set_provider(ev, (dh_str){r->envtext[4], strlen(r->envtext[4])});
        int64_t t = 0;
        if (r->envtext[5][0])
            dh_time_parse_iso(r->envtext[5], strlen(r->envtext[5]), &t);
        dh_event_set_time(ev, t);
        /* a Defender row written as Winlogbeat JSON */
        dh_event_set_scratch(ev, r->scratch, sizeof r->scratch);
        const char *why = dh_map_any_apply(ev);
        if (why)
            return why;
        return emit(ev, on_event, ectx, events, stop);
    }
    if (((orig >= 0 && uid >= 0) || (zts >= 0 && uid >= 0)) && eventid < 0) {
        /* A Zeek log line (conn, dce_rpc, ..., and logs without endpoints such as files or
         * x509, counted and let go): flat, Zeek's own field names. */
        const char *why = decode_object(r, js, nt, 0, SHAPE_ECS, NULL, ev);
        if (!why)
            why = dh_map_zeek_apply(ev, (dh_str){"", 0});
        if (why == dh_map_zeek_not_used) {
            r->unused++;
            return NULL;
        }
        if (why)
            return why;
        return emit(ev, on_event, ectx, events, stop);
    }
    if (eventid < 0 && eobj >= 0 && r->tok[eobj].type == JSMN_OBJECT &&
        member(r->tok, nt, js, eobj, "category") >= 0) {
        const char *why = decode_elastic(r, js, nt, ev);
        if (why)
            return why;
        return emit(ev, on_event, ectx, events, stop);
    }
    int shape = eventid >= 0 ? SHAPE_NXLOG : (stamp >= 0 && device >= 0) ? SHAPE_MDE : -1;
    r->own_flat = shape == SHAPE_NXLOG && ts_key && !shipped;
    if (shape < 0)
        return "not a Windows event (event XML as JSON, NXLog, Winlogbeat, dcomhunt dump), a "
               "Defender row, an Event Hubs batch, an Elastic document or a Zeek record";
    const char *tname = tbl >= 0
                            ? dh_mde_table((dh_str){js + r->tok[tbl].start,
                                                    (size_t)(r->tok[tbl].end - r->tok[tbl].start)})
                            : NULL;
    const char *why = decode_object(r, js, nt, 0, shape, tname, ev);
    if (why)
        return why;
    return emit(ev, on_event, ectx, events, stop);
}

/* One line or array element, buf[s, e): NULL, or why it is not an event. */
static const char *decode_one(jsonl_reader *r, const char *buf, size_t s, size_t e,
                              const char *file, uint64_t base_offset, jsonl_event_fn on_event,
                              void *ectx, uint64_t *events, dh_status *stop)
{
    dh_event ev;
    dh_event_begin(&ev, file);
    dh_event_set_origin(&ev, file, -1, base_offset + s);
    return decode_line(r, buf + s, e - s, &ev, on_event, ectx, events, stop);
}

dh_status jsonl_decode(jsonl_reader *r, const char *buf, size_t len, const char *file,
                       uint64_t first_line, uint64_t base_offset, jsonl_event_fn on_event,
                       void *ectx, jsonl_error_fn on_error, void *errctx, uint64_t *events,
                       uint64_t *bad)
{
    size_t pos = 0;
    uint64_t line = first_line;
    /* a UTF-8 BOM at the input's start (Windows tools write one) is not part of line 1 */
    if (base_offset == 0 && len >= 3 && (unsigned char)buf[0] == 0xEF &&
        (unsigned char)buf[1] == 0xBB && (unsigned char)buf[2] == 0xBF)
        pos = 3;
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        size_t s = pos, e = end;
        while (s < e && (buf[s] == ' ' || buf[s] == '\t' || buf[s] == '\r'))
            s++;
        while (e > s && (buf[e - 1] == ' ' || buf[e - 1] == '\t' || buf[e - 1] == '\r'))
            e--;
        if (e > s) {
            dh_status stop = DH_OK;
            const char *why =
                decode_one(r, buf, s, e, file, base_offset, on_event, ectx, events, &stop);
            if (stop)
                return stop;
            if (why) {
                (*bad)++;
                if (on_error)
                    on_error(errctx, line, base_offset + s, why);
            }
        }
        line++;
        pos = end + 1;
    }
    return DH_OK;
}

/* ---- JSON arrays ----------------------------------------------------------------------
 * Elements are found by a scan that tracks only nesting and strings; each element is
 * then parsed alone, exactly as a line would be. */

enum { ARR_NONE, ARR_ELEMENT, ARR_END };

/* The element at or after *pos: [*s, *e). ARR_NONE when no complete element is left,
 * ARR_END at the closing bracket. quick: an object or array element's end is found by
 * jsonl_container_close's masks, the byte-by-byte scan below deciding where it gives up
 * (the reference, jsonl_array_cut_reference, scans byte by byte alone). */
static int array_next_how(const char *b, size_t n, size_t *pos, size_t *s, size_t *e, int quick)
{
    size_t i = *pos;
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n' || b[i] == ','))
        i++;
    *pos = i;
    if (i >= n)
        return ARR_NONE;
    if (b[i] == ']') {
        *pos = i + 1;
        return ARR_END;
    }
    size_t start = i;
    if (quick && (b[i] == '{' || b[i] == '[')) {
        long close = jsonl_container_close(b, n, i + 1);
        if (close == -1)
            return ARR_NONE;
        if (close >= 0) {
            *s = start;
            *e = (size_t)close + 1;
            *pos = *e;
            return ARR_ELEMENT;
        }
    }
    unsigned depth = 0;
    for (; i < n; i++) {
        char c = b[i];
        if (c == '"') {
            /* to the closing quote: one after an even run of backslashes (sixteen bytes at a
             * time, since most of an event's bytes are inside strings) */
            i = jsonl_quote_close(b, n, i + 1);
            if (i >= n)
                return ARR_NONE;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']' || (c == ',' && depth == 0)) {
            if (depth == 0) { /* the end of a scalar element (or a stray bracket) */
                *s = start;
                *e = i > start ? i : i + 1;
                *pos = *e;
                return ARR_ELEMENT;
            }
            if (c != ',' && --depth == 0) {
                *s = start;
                *e = i + 1;
                *pos = i + 1;
                return ARR_ELEMENT;
            }
        }
    }
    return ARR_NONE;
}

static int array_next(const char *b, size_t n, size_t *pos, size_t *s, size_t *e)
{
    return array_next_how(b, n, pos, s, e, 1);
}

/* Where the elements begin: after a BOM and the opening bracket at the input's start. */
static size_t array_body(const char *b, size_t n, int at_start)
{
    size_t i = 0;
    if (!at_start)
        return 0;
    if (n >= 3 && (unsigned char)b[0] == 0xEF && (unsigned char)b[1] == 0xBB &&
        (unsigned char)b[2] == 0xBF)
        i = 3;
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
        i++;
    return i < n && b[i] == '[' ? i + 1 : i;
}

static size_t array_cut(const char *buf, size_t len, int at_start, int quick)
{
    size_t pos = array_body(buf, len, at_start), cut = 0, s, e;
    for (;;) {
        int k = array_next_how(buf, len, &pos, &s, &e, quick);
        if (k == ARR_NONE)
            return cut;
        if (k == ARR_END)
            return len; /* what follows the closing bracket goes with it */
        cut = pos;
    }
}

size_t jsonl_array_cut(const char *buf, size_t len, int at_start)
{
    return array_cut(buf, len, at_start, 1);
}

size_t jsonl_array_cut_reference(const char *buf, size_t len, int at_start)
{
    return array_cut(buf, len, at_start, 0);
}

/* Newlines in [b+from, b+to). */
static uint64_t newlines(const char *b, size_t from, size_t to)
{
    uint64_t n = 0;
    for (const char *q = b + from; (q = memchr(q, '\n', (size_t)(b + to - q))) != NULL; q++)
        n++;
    return n;
}

dh_status jsonl_decode_array(jsonl_reader *r, const char *buf, size_t len, int at_start,
                             const char *file, uint64_t first_line, uint64_t base_offset,
                             jsonl_event_fn on_event, void *ectx, jsonl_error_fn on_error,
                             void *errctx, uint64_t *events, uint64_t *bad)
{
    size_t pos = array_body(buf, len, at_start), s = 0, e = 0, counted = 0;
    uint64_t line = first_line; /* the line of buf[counted] */
    for (;;) {
        /* An object element is tokenized where it starts, its end found by the fast pass
         * itself: array_next's scan of it (with a memchr per string) and a count of its
         * newlines (wanted only to name a damaged element) were a quarter of `hunt -j1`
         * on the OTRF capture as an array (callgrind 2026-12-07). Where the fast pass gives
         * up, array_next finds the element as before and it is read as a line is. */
        int k;
        while (pos < len && (buf[pos] == ' ' || buf[pos] == '\t' || buf[pos] == '\r' ||
                             buf[pos] == '\n' || buf[pos] == ','))
            pos++;
        size_t vend;
        int nt = pos < len && buf[pos] == '{' && !r->reference
                     ? jsonl_tokenize_fast_prefix(buf + pos, len - pos, r->tok, MAX_TOKENS, &vend)
                     : -1;
        if (nt > 0) {
            s = pos;
            e = pos + vend;
            pos = e;
            r->pretok = nt;
            k = ARR_ELEMENT;
        } else {
            k = array_next_how(buf, len, &pos, &s, &e, !r->reference);
        }
        const char *why = NULL;
        size_t at = s;
        if (k == ARR_END) {
            at = pos;
            while (at < len &&
                   (buf[at] == ' ' || buf[at] == '\t' || buf[at] == '\r' || buf[at] == '\n'))
                at++;
            if (at == len)
                return DH_OK;
            why = "data after the end of the array";
        } else if (k == ARR_NONE) {
            if (pos == len)
                return DH_OK;
            at = pos; /* an element cut short (the input ends, or it is too large) */
            why = "array element not complete";
        }
        if (k == ARR_ELEMENT) {
            dh_status stop = DH_OK;
            why = decode_one(r, buf, s, e, file, base_offset, on_event, ectx, events, &stop);
            r->pretok = -1;
            if (stop)
                return stop;
        }
        if (why) {
            line += newlines(buf, counted, at); /* counted only where one is named */
            counted = at;
            (*bad)++;
            if (on_error)
                on_error(errctx, line, base_offset + at, why);
        }
        if (k != ARR_ELEMENT)
            return DH_OK;
    }
}

/* Is the first object of the input an event of a shape dcomhunt reads? */
int jsonl_first_is_event(const char *buf, size_t len, int how)
{
    size_t s = 0, e = 0, pos = array_body(buf, len, 1); /* past a BOM (and a '[') */
    if (how != JSONL_LINES) {
        if (array_next(buf, len, &pos, &s, &e) != ARR_ELEMENT)
            return -1;
    } else {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        if (!nl)
            return -1;
        s = pos;
        e = (size_t)(nl - buf);
    }
    jsmntok_t *tok = malloc(MAX_TOKENS * sizeof *tok);
    if (!tok)
        return -1;
    int nt = jsonl_tokenize(buf + s, e - s, tok, MAX_TOKENS), r = -1;
    if (nt > 0 && tok[0].type == JSMN_OBJECT) {
        line_keys lk;
        scan_keys(tok, nt, buf + s, &lk);
        r = shape_of(tok, nt, buf + s, &lk) != S_NONE;
    }
    free(tok);
    return r;
}

/* The JSON rows of the reader table: lines, arrays and pretty-printed documents share
 * this reader; documents are cut into objects like an array's elements. */

/* Does the object at p go on past the end of its first line (a pretty-printed document,
 * as evtx_dump and many exporters write), rather than end on it (JSON lines)? Strings
 * are skipped whole, so braces and newlines inside them do not count. */
static int json_object_spans_lines(const uint8_t *p, size_t n)
{
    unsigned depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"') {
            for (i++; i < n && p[i] != '"'; i++)
                if (p[i] == '\\')
                    i++;
        } else if (p[i] == '{' || p[i] == '[') {
            depth++;
        } else if (p[i] == '}' || p[i] == ']') {
            if (--depth == 0)
                return 0;
        } else if (p[i] == '\n') {
            return 1;
        }
    }
    return 0; /* one long line, or cut short in the first bytes: read as lines */
}

static dh_format sniff_doc(const uint8_t *p, size_t n)
{
    return n && p[0] == '{' && json_object_spans_lines(p, n) ? DH_FORMAT_JSON_DOC
                                                             : DH_FORMAT_UNKNOWN;
}

static dh_format sniff_lines(const uint8_t *p, size_t n)
{
    return n && p[0] == '{' ? DH_FORMAT_JSONL : DH_FORMAT_UNKNOWN;
}

/* A JSON array: of objects, or empty. */
static dh_format sniff_array(const uint8_t *p, size_t n)
{
    if (!n || p[0] != '[')
        return DH_FORMAT_UNKNOWN;
    size_t k = 1;
    while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r' || p[k] == '\n'))
        k++;
    return k < n && (p[k] == '{' || p[k] == ']') ? DH_FORMAT_JSON_ARRAY : DH_FORMAT_UNKNOWN;
}

static size_t cut_elements(const char *buf, size_t len, uint64_t offset)
{
    return jsonl_array_cut(buf, len, offset == 0);
}

static int not_events_lines(const char *buf, size_t len)
{
    return jsonl_first_is_event(buf, len, JSONL_LINES) == 0;
}

static int not_events_array(const char *buf, size_t len)
{
    return jsonl_first_is_event(buf, len, JSONL_ARRAY) == 0;
}

static int not_events_doc(const char *buf, size_t len)
{
    return jsonl_first_is_event(buf, len, JSONL_DOC) == 0;
}

static int has_bytes(const uint8_t *h, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    for (size_t i = 0; i + k <= n; i++)
        if (h[i] == (uint8_t)lit[0] && !memcmp(h + i, lit, k))
            return 1;
    return 0;
}

/* Zeek's logs as JSON lines: the first line names "uid" and the connection's origin. */
static int zeek_json(const uint8_t *head, size_t n)
{
    const uint8_t *nl = memchr(head, '\n', n);
    size_t line = nl ? (size_t)(nl - head) : n;
    return (has_bytes(head, line, "\"id.orig_h\"") || has_bytes(head, line, "\"id_orig_h\"")) &&
           has_bytes(head, line, "\"uid\"");
}

static void *json_state_new(const dh_scan_opts *opts)
{
    (void)opts;
    return jsonl_reader_new();
}

static void json_state_free(void *state)
{
    jsonl_reader_free(state);
}

static dh_status decode_lines(void *state, const dh_reader_unit *u, const dh_reader_sink *sink,
                              dh_reader_result *res)
{
    jsonl_reader *r = state;
    uint64_t unused0 = jsonl_reader_unused(r);
    dh_status st =
        jsonl_decode(r, u->buf, u->len, u->file, u->line, u->offset, sink->on_event, sink->ctx,
                     dh_reader_line_error, (void *)sink, &res->records, &res->records_bad);
    res->damaged = res->records_bad ? 1 : 0;
    res->unused = jsonl_reader_unused(r) - unused0;
    return st;
}

static dh_status decode_elements(void *state, const dh_reader_unit *u, const dh_reader_sink *sink,
                                 dh_reader_result *res)
{
    jsonl_reader *r = state;
    uint64_t unused0 = jsonl_reader_unused(r);
    dh_status st = jsonl_decode_array(r, u->buf, u->len, u->offset == 0, u->file, u->line,
                                      u->offset, sink->on_event, sink->ctx, dh_reader_line_error,
                                      (void *)sink, &res->records, &res->records_bad);
    res->damaged = res->records_bad ? 1 : 0;
    res->unused = jsonl_reader_unused(r) - unused0;
    return st;
}

const dh_reader dh_reader_jsonl = {
    .name = "jsonl",
    .format = DH_FORMAT_JSONL,
    .sniff = sniff_lines,
    .cut = dh_reader_cut_lines,
    .record_end = DH_END_LINE,
    .not_events = not_events_lines,
    .sensor = zeek_json,
    .state_new = json_state_new,
    .state_free = json_state_free,
    .decode = decode_lines,
};

const dh_reader dh_reader_json_array = {
    .name = "json-array",
    .format = DH_FORMAT_JSON_ARRAY,
    .sniff = sniff_array,
    .cut = cut_elements,
    .record_end = DH_END_JSON_VALUE,
    .not_events = not_events_array,
    .state_new = json_state_new,
    .state_free = json_state_free,
    .decode = decode_elements,
};

const dh_reader dh_reader_json_doc = {
    .name = "json-document",
    .format = DH_FORMAT_JSON_DOC,
    .sniff = sniff_doc,
    .cut = cut_elements,
    .record_end = DH_END_JSON_VALUE,
    .not_events = not_events_doc,
    .state_new = json_state_new,
    .state_free = json_state_free,
    .decode = decode_elements,
};
