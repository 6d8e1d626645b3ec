/* The candidates topic's key (key.h says what a key is and why): the places a candidate
 * must go, the address bindings a record teaches, the bounded address map, and the reading
 * of a remote activation's computer out of code and command lines.
 *
 * The correlator (src/correlate/) reads the same things for its own purposes, but its
 * helpers are internal to it and the stream may not include them (docs/architecture.md):
 * these are the stream's own, written to give the same answer on the shapes the technique
 * takes. Where they differ (a text shape only the correlator reads), the record goes under
 * its own host, and docs/stream.md says what that costs. */
#include "stream/key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "event/mappings/mappings.h"

#define TICKS      10000000LL
#define IP_TTL     (12LL * 3600 * TICKS) /* as the correlator: an address is owned near a time */
#define OWNERS     4                     /* owners kept per address */
#define MENTIONS   8                     /* computers read out of one text at most */
#define DECODE_CAP (64u << 10)           /* a decoded -EncodedCommand, at most */

/* ---- names ------------------------------------------------------------------------------ */

static int well_known_port(uint64_t p)
{
    return p == 135 || p == 139 || p == 445 || p == 3389 || p == 5985 || p == 5986 || p == 88 ||
           p == 389 || p == 636 || p == 53 || p == 80 || p == 443;
}

static dh_str field(const dh_event *ev, dh_field f)
{
    dh_str s = {"", 0};
    if (!dh_event_field(ev, f, &s) || !s.ptr)
        s = (dh_str){"", 0};
    return s;
}

static uint64_t port(const dh_event *ev, dh_field f)
{
    dh_str s = field(ev, f);
    uint64_t v = 0;
    if (!s.len || s.len > 5)
        return 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s.ptr[i] - '0');
    }
    return v;
}

static int is_true(dh_str s)
{
    return s.len == 4 && !strncasecmp(s.ptr, "true", 4);
}

static int loopback(dh_str ip)
{
    return !ip.len || (ip.len == 1 && ip.ptr[0] == '-') ||
           (ip.len >= 4 && !strncmp(ip.ptr, "127.", 4)) ||
           (ip.len == 3 && !strncmp(ip.ptr, "::1", 3)) ||
           (ip.len >= 11 && !strncasecmp(ip.ptr, "::ffff:127.", 11)) ||
           (ip.len == 7 && !strncmp(ip.ptr, "0.0.0.0", 7));
}

/* The host part the correlator compares: up to the first dot, except for an address. */
static dh_str bare(dh_str h)
{
    size_t n = 0;
    while (n < h.len && h.ptr[n] != '.')
        n++;
    if (n < h.len && h.ptr[0] >= '0' && h.ptr[0] <= '9')
        return h;
    return (dh_str){h.ptr, n};
}

/* s lower-cased into out; 0 when it does not fit or holds a control byte or a space. */
static int lower(dh_str s, char *out, size_t cap)
{
    if (!s.len || s.len >= cap)
        return 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c < 0x21 || c == 0x7f)
            return 0;
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[s.len] = 0;
    return 1;
}

/* A host name as a key: an address stays whole (and is to be resolved), a name is cut to
 * its bare part. 0 when nothing usable is left. */
static int host_ref(dh_str h, dh_keyref *r)
{
    memset(r, 0, sizeof *r);
    if (dh_map_is_ip(h)) {
        r->addr = 1;
        return lower(h, r->text, sizeof r->text);
    }
    return lower(bare(h), r->text, sizeof r->text);
}

/* A target as written in a record (quotes, a UNC prefix, spaces around), as the correlator
 * reads one: 0 for none, a local name, or a variable nobody resolved. */
static int target_ref(dh_str t, dh_keyref *r)
{
    static const char *const local[] = {"localhost", "127.0.0.1", ".", "::1", "0.0.0.0"};
    while (t.len && (t.ptr[0] == '\\' || t.ptr[0] == '"' || t.ptr[0] == '\'' || t.ptr[0] == ' ')) {
        t.ptr++;
        t.len--;
    }
    while (t.len &&
           (t.ptr[t.len - 1] == '"' || t.ptr[t.len - 1] == '\'' || t.ptr[t.len - 1] == ' '))
        t.len--;
    if (!t.len || t.ptr[0] == '$')
        return 0;
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
        if (t.len == strlen(local[i]) && !strncasecmp(t.ptr, local[i], t.len))
            return 0;
    return host_ref(t, r);
}

static void add_ref(dh_keyset *ks, const dh_keyref *r)
{
    for (size_t i = 0; i < ks->n; i++)
        if (ks->k[i].addr == r->addr && !strcmp(ks->k[i].text, r->text))
            return;
    if (ks->n < DH_KEY_MAXN)
        ks->k[ks->n++] = *r;
}

/* ---- computers named in code and command lines ------------------------------------------ */

static int space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':';
}

static long find(dh_str t, size_t from, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = from; i + n <= t.len; i++)
        if (!strncasecmp(t.ptr + i, needle, n))
            return (long)i;
    return -1;
}

/* The text of a quoted string starting at p (len 0 if p is no quote or it never closes). */
static dh_str quoted_at(dh_str t, size_t p)
{
    if (p >= t.len || (t.ptr[p] != '"' && t.ptr[p] != '\''))
        return (dh_str){"", 0};
    for (size_t i = p + 1; i < t.len; i++)
        if (t.ptr[i] == t.ptr[p])
            return (dh_str){t.ptr + p + 1, i - p - 1};
    return (dh_str){"", 0};
}

/* The last value given to $name ($name = 'x' or "x") before offset `before`. */
static dh_str assigned(dh_str t, dh_str name, size_t before)
{
    dh_str v = {"", 0};
    for (long at = find(t, 0, "$"); at >= 0 && (size_t)at < before;
         at = find(t, (size_t)at + 1, "$")) {
        size_t k = (size_t)at;
        if (k + name.len > t.len || strncasecmp(t.ptr + k, name.ptr, name.len))
            continue;
        k += name.len;
        if (k < t.len && name_char(t.ptr[k]) && t.ptr[k] != ':')
            continue; /* a longer name */
        while (k < t.len && space(t.ptr[k]))
            k++;
        if (k >= t.len || t.ptr[k] != '=' || (k + 1 < t.len && t.ptr[k + 1] == '='))
            continue;
        k++;
        while (k < t.len && space(t.ptr[k]))
            k++;
        dh_str q = quoted_at(t, k);
        if (q.len)
            v = q;
    }
    return v;
}

/* The value at offset p: a quoted string (a variable inside it resolved), a variable given
 * a value earlier in the text, or a bare word. len 0: none, or a variable never given one. */
static dh_str value_at(dh_str t, size_t p, size_t stmt)
{
    while (p < t.len && space(t.ptr[p]))
        p++;
    if (p >= t.len)
        return (dh_str){"", 0};
    dh_str v = quoted_at(t, p);
    if (!v.len && p < t.len && t.ptr[p] != '$') {
        size_t e = p;
        while (e < t.len && !space(t.ptr[e]) && !strchr("\"';,()|", t.ptr[e]))
            e++;
        return (dh_str){t.ptr + p, e - p};
    }
    if (!v.len)
        v = (dh_str){t.ptr + p, t.len - p};
    if (v.len && v.ptr[0] == '$') {
        size_t n = 1;
        while (n < v.len && name_char(v.ptr[n]) && v.ptr[n] != '.' && v.ptr[n] != ':')
            n++;
        if (n == 1)
            return (dh_str){"", 0}; /* a lone '$' names nothing */
        return assigned(t, (dh_str){v.ptr, n}, stmt);
    }
    return v;
}

static size_t put(dh_str *out, size_t n, size_t max, dh_str v)
{
    while (v.len && space(v.ptr[0])) {
        v.ptr++;
        v.len--;
    }
    while (v.len && space(v.ptr[v.len - 1]))
        v.len--;
    if (!v.len || n >= max)
        return n;
    for (size_t i = 0; i < n; i++)
        if (out[i].len == v.len && !strncasecmp(out[i].ptr, v.ptr, v.len))
            return n;
    out[n] = v;
    return n + 1;
}

static int boolean(dh_str v)
{
    static const char *const b[] = {"$true", "$false", "true", "false", "0", "1"};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
        if (v.len == strlen(b[i]) && !strncasecmp(v.ptr, b[i], v.len))
            return 1;
    return 0;
}

/* GetTypeFromProgID("X", "computer") and its kin: the second argument of the call. */
static size_t calls(dh_str t, dh_str *out, size_t n, size_t max)
{
    static const char *const fns[] = {"GetTypeFromProgID", "GetTypeFromCLSID", "CreateObject",
                                      "ActiveXObject"};
    for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++)
        for (long at = find(t, 0, fns[f]); at >= 0; at = find(t, (size_t)at + 1, fns[f])) {
            size_t i = (size_t)at + strlen(fns[f]);
            while (i < t.len && space(t.ptr[i]))
                i++;
            if (i >= t.len || t.ptr[i] != '(')
                continue;
            /* the first top-level comma, quotes and brackets skipped */
            size_t depth = 0, second = 0;
            char q = 0;
            for (size_t k = i + 1; k < t.len && k < i + 4096 && !second; k++) {
                char c = t.ptr[k];
                if (q)
                    q = c == q ? 0 : q;
                else if (c == '"' || c == '\'')
                    q = c;
                else if (c == '(' || c == '[' || c == '{')
                    depth++;
                else if ((c == ')' || c == ']' || c == '}') && depth)
                    depth--;
                else if (c == ')')
                    break;
                else if (c == ',' && !depth)
                    second = k + 1;
            }
            if (!second)
                continue; /* no computer: a local activation */
            dh_str v = value_at(t, second, (size_t)at);
            size_t e = 0;
            while (e < v.len && v.ptr[e] != ')' && v.ptr[e] != ',')
                e++;
            v.len = e;
            if (!boolean(v))
                n = put(out, n, max, v);
        }
    return n;
}

/* -ComputerName value, -ComputerName:value, /computername:value, computername=value inside
 * the statement [a, b). */
static dh_str param(dh_str t, size_t a, size_t b)
{
    static const char *const names[] = {"ComputerName", "Computer", "TargetHost", "Target", "Host"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        size_t nl = strlen(names[k]);
        for (size_t i = a; i + nl < b; i++) {
            if (strncasecmp(t.ptr + i, names[k], nl))
                continue;
            char pre = i > a ? t.ptr[i - 1] : ' ', pre2 = i > a + 1 ? t.ptr[i - 2] : ' ';
            size_t j = i + nl;
            if ((pre == '-' || pre == '/') && (space(pre2) || pre2 == '"' || i == a + 1)) {
                if (t.ptr[j] == ':')
                    j++;
                else if (!space(t.ptr[j]))
                    continue;
            } else if ((i == a || space(pre) || pre == '"') && t.ptr[j] == '=') {
                j++;
            } else {
                continue;
            }
            dh_str v = value_at((dh_str){t.ptr, b}, j, i);
            if (v.len)
                return v;
        }
    }
    return (dh_str){"", 0};
}

static size_t tools(dh_str t, dh_str *out, size_t n, size_t max)
{
    static const char *const marks[] = {"Invoke-DCOM",       "Invoke-DcomExec", "action=dcom",
                                        "action=hijackdcom", "CsDCOM",          "SharpDCOM"};
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++)
        for (long at = find(t, 0, marks[m]); at >= 0; at = find(t, (size_t)at + 1, marks[m])) {
            if (at >= 9 && !strncasecmp(t.ptr + at - 9, "function ", 9))
                continue; /* its definition, not a call */
            size_t a = (size_t)at, b = (size_t)at;
            while (a > 0 && t.ptr[a - 1] != '\n' && t.ptr[a - 1] != ';' && t.ptr[a - 1] != '|')
                a--;
            while (b < t.len && t.ptr[b] != '\n' && t.ptr[b] != ';' && t.ptr[b] != '|')
                b++;
            dh_str v = param(t, a, b);
            if (v.len && v.ptr[0] != '$')
                n = put(out, n, max, v);
        }
    /* module logging (4103): ParameterBinding(Invoke-DCOM): name="ComputerName"; value="x" */
    long pb = find(t, 0, "ParameterBinding(");
    if (pb >= 0 && find(t, (size_t)pb, "dcom") >= 0) {
        dh_str who = {"", 0};
        for (long nm = find(t, (size_t)pb, "name=\""); nm >= 0;) {
            size_t s = (size_t)nm + 6, e = s;
            while (e < t.len && t.ptr[e] != '"')
                e++;
            long val = find(t, e, "value=\"");
            if (val < 0)
                break;
            size_t vs = (size_t)val + 7, ve = vs;
            while (ve < t.len && t.ptr[ve] != '"')
                ve++;
            static const char *const names[] = {"ComputerName", "Computer", "Target", "TargetHost",
                                                "Host"};
            for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
                if (e - s == strlen(names[k]) && !strncasecmp(t.ptr + s, names[k], e - s))
                    who = (dh_str){t.ptr + vs, ve - vs};
            nm = find(t, ve, "name=\"");
        }
        n = put(out, n, max, who);
    }
    return n;
}

/* Impacket's dcomexec: [[domain/]user[:password]@]target. NetExec: smb TARGET ... mmcexec. */
static size_t toolargs(dh_str t, dh_str *out, size_t n, size_t max)
{
    long at = find(t, 0, "dcomexec");
    if (at >= 0)
        for (size_t i = (size_t)at; i < t.len; i++)
            if (t.ptr[i] == '@') {
                size_t s = i + 1, e = s;
                while (e < t.len && !space(t.ptr[e]) && t.ptr[e] != '"' && t.ptr[e] != '\'')
                    e++;
                n = put(out, n, max, (dh_str){t.ptr + s, e - s});
                break;
            }
    long mm = find(t, 0, "mmcexec"), smb = find(t, 0, " smb ");
    if (mm >= 0 && smb >= 0 && smb < mm && find(t, 0, "exec-method") >= 0) {
        size_t s = (size_t)smb + 5;
        while (s < t.len && space(t.ptr[s]))
            s++;
        size_t e = s;
        while (e < t.len && !space(t.ptr[e]) && t.ptr[e] != '"')
            e++;
        dh_str v = {t.ptr + s, e - s};
        if (!memchr(v.ptr, '/', v.len) && !memchr(v.ptr, '\\', v.len))
            n = put(out, n, max, v);
    }
    return n;
}

size_t dh_key_mentions(dh_str text, dh_str *out, size_t max)
{
    if (!text.ptr || !out)
        return 0;
    size_t n = calls(text, out, 0, max);
    n = tools(text, out, n, max);
    return toolargs(text, out, n, max);
}

/* powershell -EncodedCommand (-enc, -e, -ec): the base64 UTF-16LE script, read as ASCII
 * (every second byte) into buf. 0 when there is none. */
static size_t decode_encoded(dh_str cl, char *buf, size_t cap)
{
    static const char *const flags[] = {" -encodedcommand ", " -enc ", " -ec ", " -e "};
    for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) {
        long at = find(cl, 0, flags[f]);
        if (at < 0)
            continue;
        size_t i = (size_t)at + strlen(flags[f]);
        while (i < cl.len && space(cl.ptr[i]))
            i++;
        uint32_t acc = 0;
        unsigned bits = 0;
        size_t n = 0, byte = 0;
        for (; i < cl.len && n + 1 < cap; i++) {
            char c = cl.ptr[i];
            int v = c >= 'A' && c <= 'Z'   ? c - 'A'
                    : c >= 'a' && c <= 'z' ? c - 'a' + 26
                    : c >= '0' && c <= '9' ? c - '0' + 52
                    : c == '+'             ? 62
                    : c == '/'             ? 63
                                           : -1;
            if (v < 0)
                break;
            acc = (acc << 6) | (uint32_t)v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                char b = (char)((acc >> bits) & 0xff);
                if (!(byte++ & 1))
                    buf[n++] = b; /* UTF-16LE: the low byte */
            }
        }
        if (n)
            return n;
    }
    return 0;
}

/* ---- where a record goes ----------------------------------------------------------------- */

static void text_targets(dh_str text, const dh_keyref *own, dh_keyset *ks)
{
    dh_str m[MENTIONS];
    size_t n = dh_key_mentions(text, m, MENTIONS);
    for (size_t i = 0; i < n; i++) {
        dh_keyref r;
        if (target_ref(m[i], &r) && !(r.addr == own->addr && !strcmp(r.text, own->text)))
            add_ref(ks, &r);
    }
}

void dh_key_refs(const dh_event *ev, dh_keyset *out)
{
    memset(out, 0, sizeof *out);
    out->t = dh_event_time(ev);
    dh_keyref own;
    if (!host_ref(dh_event_host(ev), &own)) {
        memset(&own, 0, sizeof own);
        own.text[0] = '-';
    }
    switch (dh_event_kind(ev)) {
    case DH_KIND_PS_SCRIPT:
        text_targets(field(ev, DH_FIELD_SCRIPT_BLOCK_TEXT), &own, out);
        break;
    case DH_KIND_PS_MODULE:
        text_targets(field(ev, DH_FIELD_PAYLOAD), &own, out);
        break;
    case DH_KIND_PROCESS_CREATION: {
        dh_str cl = field(ev, DH_FIELD_COMMAND_LINE);
        text_targets(cl, &own, out);
        char *buf = malloc(DECODE_CAP);
        size_t n = buf ? decode_encoded(cl, buf, DECODE_CAP) : 0;
        if (n)
            text_targets((dh_str){buf, n}, &own, out);
        free(buf);
        break;
    }
    case DH_KIND_EXPLICIT_LOGON: {
        dh_keyref r;
        if (target_ref(field(ev, DH_FIELD_DESTINATION_HOSTNAME), &r) && strcmp(r.text, own.text))
            add_ref(out, &r);
        break;
    }
    case DH_KIND_DCOM_ERROR: {
        dh_keyref r;
        if (dh_event_id(ev) == 10028 && target_ref(field(ev, DH_FIELD_REMOTE_HOST), &r) &&
            strcmp(r.text, own.text))
            add_ref(out, &r);
        break;
    }
    case DH_KIND_NETWORK_CONNECTION: {
        /* an outbound connection goes under both ends: its host's (whose addresses it
         * teaches) and the remote's (whose chain it may be the source of) */
        add_ref(out, &own);
        dh_str d = field(ev, DH_FIELD_DESTINATION_IP);
        dh_keyref r;
        if (is_true(field(ev, DH_FIELD_INITIATED)) && !loopback(d) && dh_map_is_ip(d) &&
            host_ref(d, &r))
            add_ref(out, &r);
        break;
    }
    default:
        break;
    }
    if (!out->n)
        add_ref(out, &own);
}

size_t dh_key_learn(const dh_event *ev, dh_key_binding out[2])
{
    if (dh_event_kind(ev) != DH_KIND_NETWORK_CONNECTION)
        return 0;
    dh_str h = dh_event_host(ev), s = field(ev, DH_FIELD_SOURCE_IP),
           d = field(ev, DH_FIELD_DESTINATION_IP);
    if (dh_map_is_ip(h))
        return 0; /* a network sensor's record: its "host" is an address, it owns none */
    uint64_t sp = port(ev, DH_FIELD_SOURCE_PORT), dp = port(ev, DH_FIELD_DESTINATION_PORT);
    dh_str ip = {"", 0};
    /* the local end, as the correlator tells it from the host's own traffic */
    if (is_true(field(ev, DH_FIELD_INITIATED))) {
        if (well_known_port(dp) || !well_known_port(sp))
            ip = s;
    } else if (well_known_port(sp) && !well_known_port(dp)) {
        ip = s;
    } else if (well_known_port(dp) && !well_known_port(sp)) {
        ip = d;
    }
    if (!ip.len || loopback(ip) || !dh_map_is_ip(ip) || ip.len >= sizeof out[0].addr)
        return 0;
    memset(&out[0], 0, sizeof out[0]);
    if (!lower(ip, out[0].addr, sizeof out[0].addr) ||
        !lower(bare(h), out[0].host, sizeof out[0].host))
        return 0;
    out[0].t = dh_event_time(ev);
    return 1;
}

/* ---- the address map ------------------------------------------------------------------------ */

typedef struct owner {
    char host[DH_KEY_CAP];
    int64_t t;
} owner;

typedef struct slot {
    char addr[48]; /* "" : empty */
    owner o[OWNERS];
    size_t n;
} slot;

struct dh_idmap {
    slot *v;
    size_t cap, n, limit; /* open addressing: cap a power of two, at most limit addresses */
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

dh_idmap *dh_idmap_new(size_t cap)
{
    dh_idmap *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->limit = cap ? cap : 1;
    m->cap = 64; /* grows with what is learnt: an estate's addresses, not the limit */
    m->v = calloc(m->cap, sizeof *m->v);
    if (!m->v) {
        free(m);
        return NULL;
    }
    return m;
}

void dh_idmap_free(dh_idmap *m)
{
    if (!m)
        return;
    free(m->v);
    free(m);
}

static slot *slot_of(const dh_idmap *m, const char *addr)
{
    for (size_t i = hash(addr) & (m->cap - 1);; i = (i + 1) & (m->cap - 1))
        if (!m->v[i].addr[0] || !strcmp(m->v[i].addr, addr))
            return &m->v[i];
}

int dh_idmap_bind(dh_idmap *m, const dh_key_binding *b)
{
    dh_keyref r;
    if (!m || !b || !b->host[0] || b->host[0] == '-' ||
        !host_ref((dh_str){b->addr, strnlen(b->addr, sizeof b->addr)}, &r) || !r.addr ||
        strnlen(b->host, DH_KEY_CAP) >= DH_KEY_CAP)
        return -1;
    slot *s = slot_of(m, r.text);
    if (!s->addr[0]) {
        if (m->n >= m->limit)
            return -1;
        if ((m->n + 1) * 2 > m->cap) { /* at most half full: probes stay short */
            slot *old = m->v;
            size_t oldcap = m->cap;
            slot *v = calloc(oldcap * 2, sizeof *v);
            if (!v)
                return -1;
            m->v = v;
            m->cap = oldcap * 2;
            for (size_t i = 0; i < oldcap; i++)
                if (old[i].addr[0])
                    *slot_of(m, old[i].addr) = old[i];
            free(old);
            s = slot_of(m, r.text);
        }
        memcpy(s->addr, r.text, sizeof s->addr);
        m->n++;
    }
    /* the same owner near the same time: known; a newer time moves it on */
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->o[i].host, b->host)) {
            int64_t dd = s->o[i].t > b->t ? s->o[i].t - b->t : b->t - s->o[i].t;
            if (b->t > s->o[i].t)
                s->o[i].t = b->t;
            return dd > IP_TTL ? 1 : 0;
        }
    size_t at = s->n < OWNERS ? s->n++ : 0;
    if (at == 0 && s->n == OWNERS)
        for (size_t i = 1; i < OWNERS; i++)
            if (s->o[i].t < s->o[at].t)
                at = i;
    snprintf(s->o[at].host, sizeof s->o[at].host, "%s", b->host);
    s->o[at].t = b->t;
    return 1;
}

const char *dh_idmap_owner(const dh_idmap *m, const char *addr, int64_t t)
{
    if (!m || !addr)
        return NULL;
    const slot *s = slot_of(m, addr);
    const char *best = NULL;
    int64_t bd = IP_TTL + 1;
    for (size_t i = 0; s->addr[0] && i < s->n; i++) {
        int64_t dd = s->o[i].t > t ? s->o[i].t - t : t - s->o[i].t;
        if (dd <= IP_TTL && dd < bd) {
            bd = dd;
            best = s->o[i].host;
        }
    }
    return best;
}

size_t dh_idmap_count(const dh_idmap *m)
{
    return m ? m->n : 0;
}

int dh_key_resolve(const dh_idmap *m, const dh_keyref *r, int64_t t, char out[DH_KEY_CAP])
{
    const char *o = r->addr ? dh_idmap_owner(m, r->text, t) : r->text;
    snprintf(out, DH_KEY_CAP, "%s", o ? o : r->text);
    return o != NULL;
}

size_t dh_key_binding_value(const dh_key_binding *b, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s %lld", b->host, (long long)b->t);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int dh_key_binding_parse(const void *key, size_t klen, const void *val, size_t vlen,
                         dh_key_binding *out)
{
    memset(out, 0, sizeof *out);
    if (!key || !val || !klen || klen >= sizeof out->addr || vlen >= DH_KEY_CAP + 24)
        return 0;
    const char *v = val;
    size_t sp = 0;
    while (sp < vlen && v[sp] != ' ')
        sp++;
    if (!sp || sp >= DH_KEY_CAP || sp + 1 >= vlen)
        return 0;
    if (!lower((dh_str){key, klen}, out->addr, sizeof out->addr) ||
        !dh_map_is_ip((dh_str){out->addr, klen}) ||
        !lower((dh_str){v, sp}, out->host, sizeof out->host))
        return 0;
    int neg = v[sp + 1] == '-';
    int64_t t = 0;
    size_t i = sp + 1 + (size_t)neg;
    if (i >= vlen)
        return 0;
    for (; i < vlen; i++) {
        if (v[i] < '0' || v[i] > '9' || t > (INT64_MAX - 9) / 10)
            return 0;
        t = t * 10 + (v[i] - '0');
    }
    out->t = neg ? -t : t;
    return 1;
}
