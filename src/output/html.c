/* The HTML report (docs/commands/report.md): one self-contained page from the findings
 * JSON lines of `hunt --jsonl`: summary, timeline, host graph (graphviz, inlined as SVG),
 * then one section per finding, suppressed findings in a section of their own.
 *
 * Two passes over the lines. The first checks each line, keeps an index entry (offset,
 * times, flags: 48 bytes a finding, at most DH_HTML_MAX_FINDINGS) and counts the summary,
 * the hosts and the graph's edges in capped tallies. The second parses each kept line again,
 * in display order, and writes its section. So memory is the index, the tallies and one
 * line's tokens, never every parsed finding at once; the page goes to the FILE as it grows.
 *
 * Everything in the input is attacker-controlled (host names, users, command lines, file
 * names are written by whoever controls the logged machines, and the JSONL file itself may
 * be crafted). The rule of this file: input bytes reach the page only through html_text()
 * (text nodes, never an attribute, URL, style, tag or comment) or, for the graph, through
 * gv_label() and graphviz's own SVG escaping, after which the SVG's tags are checked
 * against a whitelist. A Content-Security-Policy forbidding scripts and every fetch is the
 * second wall. */
#include <gvc.h>
#include <gvplugin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/utf8.h"
#include "core/timefmt.h"
#include "output/findings_read.h"
#include "output/html.h"

#define MAX_LIST     500          /* items shown per list: evidence rows, commands, steps */
#define MAX_VALUE    (256u << 10) /* bytes shown of one string; the rest is counted */
#define MAX_KEY      1024         /* bytes of a string kept as a tally key (host, COM object) */
#define MAX_TALLY    100000       /* distinct keys per tally */
#define MAX_TIMELINE 2000         /* timeline rows */
#define MAX_EDGES    300          /* graph edges: dot's layout time grows fast past this */
#define MAX_NODES    400
#define MAX_HOSTS    100 /* rows of the hosts table */
#define LABEL_CHARS  48  /* characters of a graph label */
#define FLUSH_AT     (256u << 10)

/* ---- output: a buffer flushed to the FILE; the first failure sticks ---------------- */

typedef struct hout {
    dh_buf b;
    FILE *f;
    dh_status st; /* first failure; later writes are dropped, so callers need not check */
} hout;

static void flush_out(hout *o)
{
    if (o->st == DH_OK && o->b.len && fwrite(o->b.data, 1, o->b.len, o->f) != o->b.len)
        o->st = DH_ERR_IO;
    o->b.len = 0;
}

static void put(hout *o, const char *s, size_t n)
{
    if (o->st != DH_OK || n == 0)
        return;
    if (n >= FLUSH_AT) { /* large pieces (the SVG) go straight out */
        flush_out(o);
        if (o->st == DH_OK && fwrite(s, 1, n, o->f) != n)
            o->st = DH_ERR_IO;
        return;
    }
    if (dh_buf_append(&o->b, s, n) != DH_OK) {
        o->st = DH_ERR_NOMEM;
        return;
    }
    if (o->b.len >= FLUSH_AT)
        flush_out(o);
}

static void puts_(hout *o, const char *s)
{
    put(o, s, strlen(s));
}

static void putu(hout *o, unsigned long long v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%llu", v);
    put(o, t, (size_t)n);
}

/* ---- text: UTF-8 checked, HTML-escaped, hidden characters shown -------------------- */

enum {
    HT_MARK = 1,  /* escapes in <span class="esc"> (not inside <title>) */
    HT_LINES = 2, /* newlines and tabs kept (multi-line text in <pre>) */
};

/* Writes n bytes of input as the content of a text node: & < > " ' as entities; hidden
 * characters and invalid UTF-8 bytes as \xNN or \uNNNN; at most MAX_VALUE bytes. */
static void html_text(hout *o, const char *str, size_t n, unsigned flags)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0;
    while (i < n) {
        if (i >= MAX_VALUE) {
            put(o, str + run, i - run);
            run = i;
            puts_(o, flags & HT_MARK ? " <span class=\"esc\">&hellip; " : " ... ");
            putu(o, (unsigned long long)(n - i));
            puts_(o, flags & HT_MARK ? " more bytes not shown</span>" : " more bytes");
            return;
        }
        long cp;
        size_t k = dh_utf8_next(s + i, n - i, &cp);
        const char *ent = NULL;
        char esc[16];
        if (cp < 0) {
            snprintf(esc, sizeof esc, "\\x%02X", s[i]);
            ent = esc;
        } else if ((cp == '\n' || cp == '\t') && (flags & HT_LINES)) {
            ent = NULL;
        } else if (dh_char_hidden(cp)) {
            snprintf(esc, sizeof esc,
                     cp < 0x100     ? "\\x%02lX"
                     : cp <= 0xFFFF ? "\\u%04lX"
                                    : "\\U%08lX",
                     cp);
            ent = esc;
        } else if (cp == '&') {
            ent = "&amp;";
        } else if (cp == '<') {
            ent = "&lt;";
        } else if (cp == '>') {
            ent = "&gt;";
        } else if (cp == '"') {
            ent = "&quot;";
        } else if (cp == '\'') {
            ent = "&#39;";
        }
        if (ent) {
            put(o, str + run, i - run);
            int marked = ent == esc && (flags & HT_MARK);
            if (marked)
                puts_(o, "<span class=\"esc\">");
            puts_(o, ent);
            if (marked)
                puts_(o, "</span>");
            run = i + k;
        }
        i += k;
    }
    put(o, str + run, n - run);
}

static void html_cstr(hout *o, const char *s)
{
    html_text(o, s, strlen(s), HT_MARK);
}

/* A graphviz label from input text: at most LABEL_CHARS characters; hidden characters and
 * invalid bytes become U+FFFD; & < > " ' become entities (graphviz decodes them for its
 * layout and escapes again when it writes SVG); a backslash is doubled so graphviz's own
 * escapes (\N, \G, \l, \n ...) never fire. NUL-terminated in b. */
static void gv_label(dh_buf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, chars = 0;
    while (i < n) {
        if (chars == LABEL_CHARS) {
            dh_buf_puts(b, "\xE2\x80\xA6"); /* U+2026 */
            break;
        }
        long cp;
        size_t k = dh_utf8_next(s + i, n - i, &cp);
        if (cp < 0 || dh_char_hidden(cp))
            dh_buf_puts(b, "\xEF\xBF\xBD");
        else if (cp == '&')
            dh_buf_puts(b, "&amp;");
        else if (cp == '<')
            dh_buf_puts(b, "&lt;");
        else if (cp == '>')
            dh_buf_puts(b, "&gt;");
        else if (cp == '"')
            dh_buf_puts(b, "&quot;");
        else if (cp == '\'')
            dh_buf_puts(b, "&#39;");
        else if (cp == '\\')
            dh_buf_puts(b, "\\\\");
        else
            dh_buf_append(b, s + i, k);
        i += k;
        chars++;
    }
    dh_buf_putc(b, '\0');
}

/* ---- tallies: string -> counts, open addressing, capped --------------------------- */

typedef struct titem {
    size_t key, klen;  /* in the tally's keys buffer */
    size_t note, nlen; /* a second string (a host's IP); nlen 0 if none */
    uint64_t c[2];     /* counts: active and suppressed findings (hosts: target, source) */
    uint32_t node;     /* graph node number + 1, 0 if none */
} titem;

typedef struct tally {
    dh_buf keys;
    titem *v;
    size_t n, vcap;
    uint32_t *slot; /* item index + 1; 0 empty */
    size_t nslot;
    uint64_t dropped; /* additions refused by MAX_TALLY */
} tally;

static void tally_init(tally *t)
{
    memset(t, 0, sizeof *t);
    dh_buf_init(&t->keys, 256u << 20);
}

static void tally_free(tally *t)
{
    dh_buf_free(&t->keys);
    free(t->v);
    free(t->slot);
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static const char *tkey(const tally *t, const titem *it)
{
    return t->keys.data + it->key;
}

static int tally_rehash(tally *t, size_t nslot)
{
    uint32_t *s = calloc(nslot, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        size_t h = (size_t)fnv1a(tkey(t, &t->v[i]), t->v[i].klen) & (nslot - 1);
        while (s[h])
            h = (h + 1) & (nslot - 1);
        s[h] = (uint32_t)(i + 1);
    }
    free(t->slot);
    t->slot = s;
    t->nslot = nslot;
    return 0;
}

/* The item for key k, created with zero counts if missing; NULL when the cap or memory
 * refuses it (counted in dropped). */
static titem *tally_get(tally *t, const char *k, size_t kn)
{
    if (t->nslot == 0 && tally_rehash(t, 64) < 0)
        return NULL;
    size_t h = (size_t)fnv1a(k, kn) & (t->nslot - 1);
    while (t->slot[h]) {
        titem *it = &t->v[t->slot[h] - 1];
        if (it->klen == kn && memcmp(tkey(t, it), k, kn) == 0)
            return it;
        h = (h + 1) & (t->nslot - 1);
    }
    if (t->n >= MAX_TALLY) {
        t->dropped++;
        return NULL;
    }
    if (t->n == t->vcap) {
        size_t nc = t->vcap ? t->vcap * 2 : 64;
        titem *nv = realloc(t->v, nc * sizeof *nv);
        if (!nv) {
            t->dropped++;
            return NULL;
        }
        t->v = nv, t->vcap = nc;
    }
    size_t off = t->keys.len;
    if (dh_buf_append(&t->keys, k, kn) != DH_OK || dh_buf_putc(&t->keys, '\0') != DH_OK) {
        t->keys.len = off;
        t->dropped++;
        return NULL;
    }
    titem *it = &t->v[t->n];
    memset(it, 0, sizeof *it);
    it->key = off, it->klen = kn;
    t->slot[h] = (uint32_t)(++t->n);
    if (t->n * 2 >= t->nslot && tally_rehash(t, t->nslot * 2) < 0) {
        /* still consistent at this load; the next miss may fail instead */
    }
    return it;
}

static titem *tally_find(const tally *t, const char *k, size_t kn)
{
    if (!t->nslot)
        return NULL;
    size_t h = (size_t)fnv1a(k, kn) & (t->nslot - 1);
    while (t->slot[h]) {
        titem *it = &t->v[t->slot[h] - 1];
        if (it->klen == kn && memcmp(tkey(t, it), k, kn) == 0)
            return it;
        h = (h + 1) & (t->nslot - 1);
    }
    return NULL;
}

/* Length of s cut to at most max bytes on a UTF-8 character boundary. */
static size_t cut_utf8(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* A composite key: each part as a 4-byte length then its bytes (parts may hold any byte). */
static void key_part(dh_buf *k, dh_jstr p)
{
    uint32_t n = (uint32_t)cut_utf8(p.p, p.n, MAX_KEY);
    dh_buf_append(k, &n, sizeof n);
    dh_buf_append(k, p.p, n);
}

/* Part i of composite key k (length kn). */
static dh_jstr key_at(const char *k, size_t kn, int i)
{
    size_t at = 0;
    dh_jstr r = {"", 0};
    for (int j = 0; at + 4 <= kn; j++) {
        uint32_t n;
        memcpy(&n, k + at, 4);
        if (at + 4 + n > kn)
            break;
        if (j == i) {
            r.p = k + at + 4, r.n = n;
            return r;
        }
        at += 4 + (size_t)n;
    }
    return r;
}

/* ---- the report ------------------------------------------------------------------- */

typedef struct entry {
    size_t off;    /* the line in the input */
    uint32_t len;  /* <= DH_HTML_MAX_LINE */
    uint32_t seq;  /* input order, the last sort key */
    uint64_t line; /* 1-based */
    int64_t first; /* FILETIME ticks when has_first */
    int64_t last;  /* FILETIME ticks when has_last */
    uint32_t num;  /* display number (1-based) */
    uint8_t has_first, has_last, suppressed, sev;
} entry;

static const char *const sev_names[] = {"critical", "high", "medium", "low", "informational"};
enum { NSEV = 5 }; /* sev index NSEV: anything else */

typedef struct report {
    const char *js;
    size_t len;
    const char *name;
    dh_html_error_fn on_error;
    void *ctx;
    hout o;
    dh_findings_reader *rd;
    dh_buf sc, ar, lb; /* scratch: values, a line's strings, a graph label */
    entry *e;
    size_t ne, ecap;
    tally kinds, kindsev, coms, hosts, edges;
    uint64_t lines, skipped, cut, suppressed;
    int64_t tmin, tmax;
    int has_range;
    dh_status in_st; /* DH_ERR_FORMAT (a line skipped) or DH_ERR_LIMIT (findings cut) */
    char graph_note[160];
} report;

static void report_error(report *r, dh_status st, uint64_t offset, uint64_t line, const char *why)
{
    if (!r->on_error)
        return;
    dh_error e;
    memset(&e, 0, sizeof e);
    e.status = st;
    e.chunk = -1;
    e.offset = offset;
    snprintf(e.file, sizeof e.file, "%s", r->name);
    if (line)
        snprintf(e.message, sizeof e.message, "line %llu: %s", (unsigned long long)line, why);
    else
        snprintf(e.message, sizeof e.message, "%s", why);
    r->on_error(r->ctx, &e);
}

static int sev_index(dh_jstr s)
{
    for (int i = 0; i < NSEV; i++)
        if (s.n == strlen(sev_names[i]) && memcmp(s.p, sev_names[i], s.n) == 0)
            return i;
    return NSEV;
}

typedef struct span {
    size_t off, n;
} span;

static span take(report *r, const dh_jdoc *d, int t)
{
    span s = {r->ar.len, 0};
    dh_jdoc_text(d, t, &r->ar);
    s.n = r->ar.len - s.off;
    return s;
}

static dh_jstr at(const report *r, span s)
{
    dh_jstr h = {r->ar.data ? r->ar.data + s.off : "", s.n};
    return h;
}

/* A host's name for the summary and graph: the host name, else the IP. */
static dh_jstr host_key(dh_jstr host, dh_jstr ip)
{
    return host.n ? host : ip;
}

static void count_host(report *r, dh_jstr host, dh_jstr ip, int as_source)
{
    dh_jstr k = host_key(host, ip);
    if (!k.n)
        return;
    titem *it = tally_get(&r->hosts, k.p, cut_utf8(k.p, k.n, MAX_KEY));
    if (!it)
        return;
    it->c[as_source]++;
    if (!it->nlen && host.n && ip.n) {
        size_t off = r->hosts.keys.len;
        size_t n = cut_utf8(ip.p, ip.n, MAX_KEY);
        if (dh_buf_append(&r->hosts.keys, ip.p, n) == DH_OK &&
            dh_buf_putc(&r->hosts.keys, '\0') == DH_OK)
            it->note = off, it->nlen = n;
    }
}

/* Pass one on a checked line: the index entry and the tallies. */
static void index_finding(report *r, const dh_jdoc *d, size_t off, size_t len, uint64_t line)
{
    if (r->ne >= DH_HTML_MAX_FINDINGS) {
        if (r->cut++ == 0) {
            char why[128];
            snprintf(why, sizeof why,
                     "more than %u findings: the rest are counted, not shown (the page says so)",
                     DH_HTML_MAX_FINDINGS);
            report_error(r, DH_ERR_LIMIT, off, line, why);
        }
        if (r->in_st == DH_OK)
            r->in_st = DH_ERR_LIMIT;
        return;
    }
    if (r->ne == r->ecap) {
        size_t nc = r->ecap ? r->ecap * 2 : 256;
        entry *ne = realloc(r->e, nc * sizeof *ne);
        if (!ne) {
            r->o.st = DH_ERR_NOMEM;
            return;
        }
        r->e = ne, r->ecap = nc;
    }
    r->ar.len = 0;
    int src = dh_jdoc_get(d, 0, "source"), dst = dh_jdoc_get(d, 0, "target");
    span kind = take(r, d, dh_jdoc_get(d, 0, "kind"));
    span sev = take(r, d, dh_jdoc_get(d, 0, "severity"));
    span first = take(r, d, dh_jdoc_get(d, 0, "first_seen"));
    span last = take(r, d, dh_jdoc_get(d, 0, "last_seen"));
    span sh = take(r, d, dh_jdoc_get(d, src, "host")), si = take(r, d, dh_jdoc_get(d, src, "ip"));
    span th = take(r, d, dh_jdoc_get(d, dst, "host")), ti = take(r, d, dh_jdoc_get(d, dst, "ip"));
    span com = take(r, d, dh_jdoc_get(d, 0, "com_object"));
    int supp = dh_jdoc_true(d, dh_jdoc_get(d, 0, "suppressed"));

    entry *e = &r->e[r->ne];
    memset(e, 0, sizeof *e);
    e->off = off, e->len = (uint32_t)len, e->line = line, e->seq = (uint32_t)r->ne;
    e->suppressed = (uint8_t)supp;
    e->sev = (uint8_t)sev_index(at(r, sev));
    dh_jstr f = at(r, first), l = at(r, last);
    e->has_first = f.n && dh_time_parse_iso(f.p, f.n, &e->first) == 0;
    e->has_last = l.n && dh_time_parse_iso(l.p, l.n, &e->last) == 0;
    if (e->has_last && e->has_first && e->last < e->first)
        e->has_last = 0;
    if (e->has_first) {
        int64_t hi = e->has_last ? e->last : e->first;
        if (!r->has_range || e->first < r->tmin)
            r->tmin = e->first;
        if (!r->has_range || hi > r->tmax)
            r->tmax = hi;
        r->has_range = 1;
    }
    r->ne++;
    r->suppressed += (uint64_t)supp;

    titem *it = tally_get(&r->kinds, at(r, kind).p, cut_utf8(at(r, kind).p, kind.n, MAX_KEY));
    if (it)
        it->c[supp]++;
    dh_buf_reset(&r->sc);
    key_part(&r->sc, at(r, kind));
    key_part(&r->sc, at(r, sev));
    if ((it = tally_get(&r->kindsev, r->sc.data, r->sc.len)))
        it->c[supp]++;
    if (com.n && (it = tally_get(&r->coms, at(r, com).p, cut_utf8(at(r, com).p, com.n, MAX_KEY))))
        it->c[supp]++;
    count_host(r, at(r, th), at(r, ti), 0);
    count_host(r, at(r, sh), at(r, si), 1);
    dh_jstr sk = host_key(at(r, sh), at(r, si)), tk = host_key(at(r, th), at(r, ti));
    if (sk.n && tk.n) {
        dh_buf_reset(&r->sc);
        key_part(&r->sc, sk);
        key_part(&r->sc, tk);
        key_part(&r->sc, at(r, com));
        if ((it = tally_get(&r->edges, r->sc.data, r->sc.len)))
            it->c[supp]++;
    }
}

static void pass_one(report *r)
{
    size_t pos = 0, s, e, start;
    uint64_t lineno = 0;
    while (r->o.st == DH_OK &&
           dh_findings_next_line(r->js, r->len, &pos, &lineno, &s, &e, &start)) {
        r->lines++;
        const char *why = NULL;
        dh_jdoc d;
        if (e - s > DH_HTML_MAX_LINE)
            why = "line longer than 16 MiB";
        else
            why = dh_findings_reader_finding(r->rd, r->js + s, e - s, &d);
        if (why) {
            r->skipped++;
            r->in_st = DH_ERR_FORMAT;
            report_error(r, DH_ERR_FORMAT, start, lineno, why);
            continue;
        }
        index_finding(r, &d, s, e - s, lineno);
    }
}

/* Display order: active findings, then suppressed ones; each by first seen (unknown times
 * last), then input order. */
static int cmp_display(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->suppressed != y->suppressed)
        return x->suppressed - y->suppressed;
    if (x->has_first != y->has_first)
        return y->has_first - x->has_first;
    if (x->has_first && x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_time(const void *a, const void *b)
{
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- page pieces ------------------------------------------------------------------ */

static const char css[] =
    ":root{color-scheme:light}"
    "body{font:14px/1.45 system-ui,\"Segoe UI\",Roboto,\"DejaVu Sans\",Arial,sans-serif;"
    "margin:0;color:#1d2430;background:#f4f6f9}"
    "header{background:#1d2a3a;color:#fff;padding:14px 24px}"
    "header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#c8d3e0}"
    "nav{padding:6px 24px;background:#e3e9f1;position:sticky;top:0;z-index:1}"
    "nav a{margin-right:18px;color:#1a4f8b}"
    "main{padding:4px 24px 40px;max-width:1500px}"
    "h2{font-size:18px;border-bottom:2px solid #c9d2de;padding-bottom:4px;margin-top:28px}"
    "h3{font-size:16px;margin:6px 0 10px}h4{font-size:14px;margin:14px 0 6px}"
    "table{border-collapse:collapse;background:#fff;margin:6px 0}"
    "th,td{border:1px solid #d5dbe3;padding:3px 8px;text-align:left;vertical-align:top}"
    "th{background:#eef2f7;font-weight:600}td.n{text-align:right;font-variant-numeric:"
    "tabular-nums}table.kv th{width:150px}table.ev td{font-size:12.5px;white-space:nowrap;"
    "overflow-wrap:normal}table.ev td:last-child{white-space:normal;overflow-wrap:anywhere}"
    "code,pre,.mono{font-family:\"DejaVu Sans Mono\",Consolas,Menlo,monospace;font-size:12.5px}"
    "td,li,code{overflow-wrap:anywhere}"
    ".esc{background:#ffe08a;color:#5a3b00;border-radius:3px;padding:0 2px}"
    ".badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;"
    "font-weight:600;color:#fff;background:#6b7785;vertical-align:middle}"
    ".sev-critical{background:#7b1fa2}.sev-high{background:#c62828}"
    ".sev-medium{background:#e65100}.sev-low{background:#1565c0}"
    ".sev-informational{background:#546e7a}.sev-other{background:#6b7785}"
    ".supp-badge{background:#616161}"
    ".facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}"
    ".facts dt{font-weight:600}.facts dd{margin:0}"
    ".cols{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}"
    ".note{background:#fff4e5;border:1px solid #f0c890;padding:6px 10px;border-radius:4px}"
    "article.finding{background:#fff;border:1px solid #d5dbe3;border-left:6px solid #c62828;"
    "border-radius:4px;padding:6px 16px 12px;margin:16px 0}"
    "article.finding.s-critical{border-left-color:#7b1fa2}"
    "article.finding.s-medium{border-left-color:#e65100}"
    "article.finding.s-low,article.finding.s-informational,article.finding.s-other"
    "{border-left-color:#1565c0}"
    "article.finding.suppressed{border:2px dashed #8a8a8a;border-left:6px solid #8a8a8a;"
    "background:#f3f3f3}"
    ".suppressed-note{background:#e6e6e6;border:1px dashed #777;padding:6px 10px;"
    "border-radius:4px;font-weight:600}.suppressed-note span{font-weight:normal}"
    "ol.cmds code{white-space:pre-wrap}ol.steps li{white-space:pre-wrap;margin:2px 0}"
    ".pivot{margin:8px 0}.pivot-head{font-weight:600;margin-bottom:2px}"
    ".lang{display:inline-block;font-size:11px;padding:0 6px;border-radius:3px;"
    "background:#dfe7f1;color:#1a3a5f;margin-right:6px;font-family:monospace}"
    "pre.query{white-space:pre-wrap;overflow-wrap:anywhere;background:#0f1720;color:#e6edf3;"
    "padding:10px 12px;border-radius:4px;margin:0;user-select:all;-webkit-user-select:all}"
    "pre.query .esc{background:#6b5300;color:#fff}"
    ".tl{background:#fff;border:1px solid #d5dbe3;padding:8px 12px}"
    ".tl-row{display:flex;align-items:center;min-height:20px}"
    ".tl-label{flex:0 0 380px;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;"
    "font-size:12px;padding-right:8px}"
    ".tl-track{position:relative;flex:1;height:10px;background:#eef2f7;border-radius:5px}"
    ".tl-bar{position:absolute;top:0;height:10px;border-radius:5px;min-width:4px}"
    ".tl-bar.supp{background:repeating-linear-gradient(45deg,#8a8a8a 0 3px,#d6d6d6 3px 6px)}"
    ".tl-axis{position:relative;height:30px;margin-left:380px;font-size:11px;color:#555}"
    ".tl-axis span{position:absolute;top:4px;white-space:nowrap}"
    ".graph{background:#fff;border:1px solid #d5dbe3;padding:8px;overflow:auto}"
    ".graph svg{max-width:100%;height:auto}"
    ".graph svg text{font-family:Arial,Helvetica,\"Liberation Sans\",\"DejaVu Sans "
    "Condensed\",sans-serif}"
    "footer{color:#555;font-size:12px;padding:12px 24px}";

static void put_time(hout *o, int64_t t, int seconds_only)
{
    dh_buf b;
    dh_buf_init(&b, 64);
    if (dh_time_put_iso(&b, t) == DH_OK) {
        if (seconds_only && b.len > 19) {
            put(o, b.data, 19);
            puts_(o, "Z");
        } else {
            put(o, b.data, b.len);
        }
    }
    dh_buf_free(&b);
}

static void put_sev_class(hout *o, int sev)
{
    puts_(o, sev < NSEV ? sev_names[sev] : "other");
}

/* Escaped text of token t (nothing if absent). */
static void put_tok(report *r, const dh_jdoc *d, int t, unsigned flags)
{
    dh_jstr v = dh_jdoc_val(d, t, &r->sc);
    html_text(&r->o, v.p, v.n, flags);
}

/* Escaped text of obj[key], or `dflt` (our own text, in <em>) when empty. */
static void put_field(report *r, const dh_jdoc *d, int obj, const char *key, const char *dflt)
{
    dh_jstr v = dh_jdoc_val(d, dh_jdoc_get(d, obj, key), &r->sc);
    if (v.n)
        html_text(&r->o, v.p, v.n, HT_MARK);
    else if (dflt) {
        puts_(&r->o, "<em>");
        puts_(&r->o, dflt);
        puts_(&r->o, "</em>");
    }
}

/* "host (ip)", "host", "ip" or dflt, for an endpoint object. */
static void put_endpoint(report *r, const dh_jdoc *d, int ep, const char *dflt)
{
    dh_jstr h = dh_jdoc_val(d, dh_jdoc_get(d, ep, "host"), &r->sc);
    int has_host = h.n > 0;
    if (has_host)
        html_text(&r->o, h.p, h.n, HT_MARK);
    dh_jstr ip = dh_jdoc_val(d, dh_jdoc_get(d, ep, "ip"), &r->sc);
    if (ip.n) {
        if (has_host)
            puts_(&r->o, " (");
        html_text(&r->o, ip.p, ip.n, HT_MARK);
        if (has_host)
            puts_(&r->o, ")");
    } else if (!has_host) {
        puts_(&r->o, "<em>");
        puts_(&r->o, dflt);
        puts_(&r->o, "</em>");
    }
}

static void put_more(hout *o, int total, int shown, const char *what)
{
    if (total <= shown)
        return;
    puts_(o, "<p class=\"note\">");
    putu(o, (unsigned long long)(total - shown));
    puts_(o, " more ");
    puts_(o, what);
    puts_(o, " not shown (the page shows ");
    putu(o, MAX_LIST);
    puts_(o, ").</p>");
}

static void head_and_header(report *r)
{
    hout *o = &r->o;
    puts_(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
             "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n"
             "<meta name=\"referrer\" content=\"no-referrer\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             "<meta name=\"generator\" content=\"dcomhunt report\">\n<title>dcomhunt report: ");
    html_text(o, r->name, strlen(r->name), 0);
    puts_(o, "</title>\n<style>");
    puts_(o, css);
    puts_(o, "</style>\n</head>\n<body>\n<header><h1>DCOM lateral movement (T1021.003): "
             "dcomhunt report</h1><p>Findings from <code>");
    html_cstr(o, r->name);
    puts_(o, "</code></p></header>\n<nav><a href=\"#summary\">Summary</a><a "
             "href=\"#timeline\">Timeline</a><a href=\"#graph\">Host graph</a><a "
             "href=\"#findings\">Findings</a><a href=\"#suppressed\">Suppressed</a></nav>\n"
             "<main>\n");
}

/* Tally items by count, most first, then in first-seen order (qsort has no context
 * argument, so items are sorted through references that carry their index). */
typedef struct item_ref {
    const titem *it;
    size_t idx;
} item_ref;

static int cmp_refs(const void *a, const void *b)
{
    const item_ref *x = a, *y = b;
    uint64_t cx = x->it->c[0] + x->it->c[1], cy = y->it->c[0] + y->it->c[1];
    if (cx != cy)
        return cx > cy ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Items of t by count, most first (then first seen); NULL if t is empty or memory fails. */
static item_ref *sorted_items(const tally *t)
{
    if (!t->n)
        return NULL;
    item_ref *v = malloc(t->n * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < t->n; i++)
        v[i].it = &t->v[i], v[i].idx = i;
    qsort(v, t->n, sizeof *v, cmp_refs);
    return v;
}

static void summary(report *r)
{
    hout *o = &r->o;
    puts_(o, "<section id=\"summary\">\n<h2>Summary</h2>\n<dl class=\"facts\">");
    puts_(o, "<dt>Input</dt><dd><code>");
    html_cstr(o, r->name);
    puts_(o, "</code>: ");
    putu(o, r->lines);
    puts_(o, " lines</dd><dt>Findings</dt><dd>");
    putu(o, r->ne - r->suppressed);
    puts_(o, " shown");
    if (r->suppressed) {
        puts_(o, ", <a href=\"#suppressed\">");
        putu(o, r->suppressed);
        puts_(o, " suppressed</a> (listed separately)");
    }
    puts_(o, "</dd><dt>Time range</dt><dd>");
    if (r->has_range) {
        put_time(o, r->tmin, 0);
        puts_(o, " &ndash; ");
        put_time(o, r->tmax, 0);
    } else {
        puts_(o, "<em>no times</em>");
    }
    puts_(o, "</dd><dt>Hosts</dt><dd>");
    putu(o, r->hosts.n);
    puts_(o, "</dd>");
    if (r->skipped) {
        puts_(o, "<dt>Skipped lines</dt><dd class=\"note\">");
        putu(o, r->skipped);
        puts_(o, " malformed lines were skipped (named on standard error)</dd>");
    }
    if (r->cut) {
        puts_(o, "<dt>Cut</dt><dd class=\"note\">");
        putu(o, r->cut);
        puts_(o, " findings past the first ");
        putu(o, DH_HTML_MAX_FINDINGS);
        puts_(o, " were left out of this page (not counted in the tables)</dd>");
    }
    puts_(o, "</dl>\n<div class=\"cols\">\n");

    /* kind x severity */
    puts_(o, "<div><h4>Findings by kind and severity</h4><table><tr><th>kind</th>");
    for (int s = 0; s < NSEV; s++) {
        puts_(o, "<th>");
        puts_(o, sev_names[s]);
        puts_(o, "</th>");
    }
    puts_(o, "<th>other</th><th>total</th><th>suppressed</th></tr>");
    item_ref *kv = sorted_items(&r->kinds);
    uint64_t col[NSEV + 1] = {0}, tot = 0, tsupp = 0;
    for (size_t i = 0; kv && i < r->kinds.n; i++) {
        const titem *it = kv[i].it;
        dh_jstr kind = {tkey(&r->kinds, it), it->klen};
        puts_(o, "<tr><td>");
        html_text(o, kind.p, kind.n, HT_MARK);
        puts_(o, "</td>");
        uint64_t known = 0;
        for (int s = 0; s <= NSEV; s++) {
            uint64_t c;
            if (s < NSEV) {
                dh_buf_reset(&r->sc);
                key_part(&r->sc, kind);
                dh_jstr sv = {sev_names[s], strlen(sev_names[s])};
                key_part(&r->sc, sv);
                const titem *ks = tally_find(&r->kindsev, r->sc.data, r->sc.len);
                c = ks ? ks->c[0] : 0;
                known += c;
            } else {
                c = it->c[0] >= known ? it->c[0] - known : 0;
            }
            col[s] += c;
            puts_(o, "<td class=\"n\">");
            if (c)
                putu(o, c);
            puts_(o, "</td>");
        }
        tot += it->c[0], tsupp += it->c[1];
        puts_(o, "<td class=\"n\">");
        putu(o, it->c[0]);
        puts_(o, "</td><td class=\"n\">");
        if (it->c[1])
            putu(o, it->c[1]);
        puts_(o, "</td></tr>");
    }
    free(kv);
    puts_(o, "<tr><th>all</th>");
    for (int s = 0; s <= NSEV; s++) {
        puts_(o, "<th class=\"n\">");
        putu(o, col[s]);
        puts_(o, "</th>");
    }
    puts_(o, "<th class=\"n\">");
    putu(o, tot);
    puts_(o, "</th><th class=\"n\">");
    putu(o, tsupp);
    puts_(o, "</th></tr></table>");
    if (r->kinds.dropped)
        puts_(o, "<p class=\"note\">Too many distinct kinds: some are not counted.</p>");
    puts_(o, "</div>\n");

    /* COM objects */
    puts_(o, "<div><h4>COM objects</h4><table><tr><th>COM object</th><th>findings</th>"
             "<th>suppressed</th></tr>");
    item_ref *cv = sorted_items(&r->coms);
    for (size_t i = 0; cv && i < r->coms.n && i < MAX_HOSTS; i++) {
        puts_(o, "<tr><td>");
        html_text(o, tkey(&r->coms, cv[i].it), cv[i].it->klen, HT_MARK);
        puts_(o, "</td><td class=\"n\">");
        putu(o, cv[i].it->c[0]);
        puts_(o, "</td><td class=\"n\">");
        if (cv[i].it->c[1])
            putu(o, cv[i].it->c[1]);
        puts_(o, "</td></tr>");
    }
    if (!r->coms.n)
        puts_(o, "<tr><td colspan=\"3\"><em>none named</em></td></tr>");
    puts_(o, "</table>");
    if (r->coms.n > MAX_HOSTS) {
        puts_(o, "<p class=\"note\">");
        putu(o, r->coms.n - MAX_HOSTS);
        puts_(o, " more COM objects not listed.</p>");
    }
    free(cv);
    puts_(o, "</div>\n");

    /* hosts */
    puts_(o, "<div><h4>Hosts</h4><table><tr><th>host</th><th>IP</th><th>as target</th>"
             "<th>as source</th></tr>");
    item_ref *hv = sorted_items(&r->hosts);
    for (size_t i = 0; hv && i < r->hosts.n && i < MAX_HOSTS; i++) {
        const titem *it = hv[i].it;
        puts_(o, "<tr><td>");
        html_text(o, tkey(&r->hosts, it), it->klen, HT_MARK);
        puts_(o, "</td><td>");
        if (it->nlen)
            html_text(o, r->hosts.keys.data + it->note, it->nlen, HT_MARK);
        puts_(o, "</td><td class=\"n\">");
        putu(o, it->c[0]);
        puts_(o, "</td><td class=\"n\">");
        putu(o, it->c[1]);
        puts_(o, "</td></tr>");
    }
    if (!r->hosts.n)
        puts_(o, "<tr><td colspan=\"4\"><em>none named</em></td></tr>");
    puts_(o, "</table>");
    if (r->hosts.n > MAX_HOSTS) {
        puts_(o, "<p class=\"note\">");
        putu(o, r->hosts.n - MAX_HOSTS);
        puts_(o, " more hosts not listed.</p>");
    }
    if (r->hosts.dropped)
        puts_(o, "<p class=\"note\">Too many distinct hosts: some are not counted.</p>");
    free(hv);
    puts_(o, "</div>\n</div>\n</section>\n");
}

static void put_pct(hout *o, double v)
{
    char t[32];
    int n = snprintf(t, sizeof t, "%.3f%%", v);
    put(o, t, (size_t)n);
}

static void timeline(report *r)
{
    hout *o = &r->o;
    puts_(o, "<section id=\"timeline\">\n<h2>Timeline</h2>\n");
    size_t n = 0;
    entry **v = r->ne ? malloc(r->ne * sizeof *v) : NULL;
    for (size_t i = 0; v && i < r->ne; i++)
        if (r->e[i].has_first)
            v[n++] = &r->e[i];
    if (!n) {
        puts_(o, "<p><em>No finding has a first-seen time.</em></p>\n</section>\n");
        free(v);
        return;
    }
    qsort(v, n, sizeof *v, cmp_time);
    puts_(o, "<p>Each bar spans a finding from first to last seen, across ");
    put_time(o, r->tmin, 0);
    puts_(o, " &ndash; ");
    put_time(o, r->tmax, 0);
    puts_(o, ". Hatched: suppressed.</p>\n<div class=\"tl\">\n<div class=\"tl-axis\">");
    double range = (double)(r->tmax - r->tmin);
    if (range <= 0)
        range = 1;
    for (int k = 0; k <= 2; k++) { /* start, middle, end: the labels never overlap */
        puts_(o, k == 0   ? "<span style=\"left:0\">"
                 : k == 1 ? "<span style=\"left:50%;transform:translateX(-50%)\">"
                          : "<span style=\"right:0\">");
        put_time(o, r->tmin + (int64_t)(range * k / 2), 1);
        puts_(o, "</span>");
    }
    puts_(o, "</div>\n");
    size_t shown = n < MAX_TIMELINE ? n : MAX_TIMELINE;
    for (size_t i = 0; i < shown && o->st == DH_OK; i++) {
        const entry *e = v[i];
        dh_jdoc d;
        if (dh_findings_reader_parse(r->rd, r->js + e->off, e->len, &d))
            continue;
        puts_(o, "<div class=\"tl-row\"><a class=\"tl-label\" href=\"#f");
        putu(o, e->num);
        puts_(o, "\">#");
        putu(o, e->num);
        puts_(o, " ");
        put_time(o, e->first, 1);
        puts_(o, " ");
        put_tok(r, &d, dh_jdoc_get(&d, 0, "kind"), HT_MARK);
        puts_(o, " &rarr; ");
        int dst = dh_jdoc_get(&d, 0, "target");
        dh_jstr th = dh_jdoc_val(&d, dh_jdoc_get(&d, dst, "host"), &r->sc);
        if (!th.n)
            th = dh_jdoc_val(&d, dh_jdoc_get(&d, dst, "ip"), &r->sc);
        html_text(o, th.p, th.n, HT_MARK);
        if (e->suppressed)
            puts_(o, " (suppressed)");
        puts_(o, "</a><div class=\"tl-track\"><span class=\"tl-bar ");
        if (e->suppressed) {
            puts_(o, "supp");
        } else {
            puts_(o, "sev-");
            put_sev_class(o, e->sev);
        }
        double left = (double)(e->first - r->tmin) / range * 100.0;
        double width = e->has_last ? (double)(e->last - e->first) / range * 100.0 : 0;
        if (width < 0.3)
            width = 0.3;
        if (left + width > 100.0)
            left = 100.0 - width;
        puts_(o, "\" style=\"left:");
        put_pct(o, left);
        puts_(o, ";width:");
        put_pct(o, width);
        puts_(o, "\"></span></div></div>\n");
    }
    puts_(o, "</div>\n");
    if (n > shown) {
        puts_(o, "<p class=\"note\">The timeline shows the first ");
        putu(o, shown);
        puts_(o, " of ");
        putu(o, n);
        puts_(o, " findings.</p>\n");
    }
    if (n < r->ne) {
        puts_(o, "<p class=\"note\">");
        putu(o, r->ne - n);
        puts_(o, " findings without a readable first-seen time are not on the timeline.</p>\n");
    }
    puts_(o, "</section>\n");
    free(v);
}

/* ---- host graph: graphviz, dot layout, SVG ---------------------------------------- */

/* The two graphviz plugins the graph needs, linked in and handed to gvContextPlugins()
 * (graphviz's "builtins" way, as in its library guide) instead of gvContext() loading every
 * installed plugin from its config file: without the pango plugin, text is measured with
 * graphviz's built-in font metrics, so the SVG is the same on every machine, fontconfig
 * never runs (no cache writes, nothing printed on stderr, none of its allocations left at
 * exit for LeakSanitizer), and nothing is looked up at run time. */
extern gvplugin_library_t gvplugin_dot_layout_LTX_library;
extern gvplugin_library_t gvplugin_core_LTX_library;

/* Graphviz reports problems through a process-wide hook; during our call it points here,
 * so nothing is printed (the library never prints), and is put back afterwards. */
static int gv_quiet(char *msg)
{
    (void)msg;
    return 0;
}

static int lower_eq(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != w[i])
            return 0;
    }
    return 1;
}

/* Every tag in the SVG must be one graphviz writes for our graph: the escaping above and
 * graphviz's own leave no '<' of input text, so anything else means a bug, and the graph
 * is withheld rather than inlined. */
static int svg_tags_ok(const char *s, size_t n)
{
    static const char *const ok[] = {"svg", "g", "text", "path", "polygon", "polyline", "ellipse"};
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '<')
            continue;
        size_t j = i + 1;
        if (j < n && s[j] == '/')
            j++;
        size_t k = j;
        while (k < n && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z')))
            k++;
        if (k >= n || !(s[k] == ' ' || s[k] == '>' || s[k] == '\n' || s[k] == '/'))
            return 0;
        int found = 0;
        for (size_t w = 0; w < sizeof ok / sizeof ok[0]; w++)
            if (strlen(ok[w]) == k - j && lower_eq(s + j, k - j, ok[w]))
                found = 1;
        if (!found)
            return 0;
    }
    return 1;
}

static size_t find(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(s + i, w, k) == 0)
            return i;
    return n;
}

/* Inlines graphviz's SVG: from "<svg" on (the XML prolog, DOCTYPE and comments before it
 * dropped), without the namespace attributes (HTML puts <svg> in its namespace itself),
 * without <title> lines (our node names n0, n1...) and comment lines; what is left must
 * pass svg_tags_ok() or nothing is written. */
static int emit_svg(hout *o, const char *s, size_t n)
{
    size_t at = find(s, n, "<svg");
    if (at == n)
        return -1;
    s += at, n -= at;
    size_t gt = find(s, n, ">");
    if (gt == n)
        return -1;
    dh_buf b;
    dh_buf_init(&b, (size_t)n + 256);
    /* the root tag, attributes copied except xmlns and xmlns:xlink */
    int bad = dh_buf_puts(&b, "<svg role=\"img\" aria-label=\"host graph\"");
    size_t i = 4;
    while (i < gt) {
        while (i < gt && (s[i] == ' ' || s[i] == '\n'))
            i++;
        size_t a = i;
        while (i < gt && s[i] != '"')
            i++;
        if (i >= gt)
            break;
        i++;
        while (i < gt && s[i] != '"')
            i++;
        if (i >= gt)
            break;
        i++;
        if (!(i - a >= 5 && memcmp(s + a, "xmlns", 5) == 0)) {
            bad |= dh_buf_putc(&b, ' ') | dh_buf_append(&b, s + a, i - a);
        }
    }
    bad |= dh_buf_puts(&b, ">\n");
    size_t p = gt + 1;
    while (p < n) {
        const char *nl = memchr(s + p, '\n', n - p);
        size_t e = nl ? (size_t)(nl - s) : n;
        if (e > p && !(e - p >= 7 && memcmp(s + p, "<title>", 7) == 0) &&
            !(e - p >= 4 && memcmp(s + p, "<!--", 4) == 0)) {
            bad |= dh_buf_append(&b, s + p, e - p) | dh_buf_putc(&b, '\n');
        }
        p = e + 1;
    }
    int ok = !bad && b.data && svg_tags_ok(b.data, b.len);
    if (ok)
        put(o, b.data, b.len);
    dh_buf_free(&b);
    return ok ? 0 : -1;
}

typedef struct gv {
    report *r;
    Agraph_t *g;
    tally nodes; /* host key -> node */
    Agnode_t **node;
    size_t nnode;
} gv;

static Agnode_t *gv_node(gv *x, dh_jstr key, int target)
{
    titem *it = tally_get(&x->nodes, key.p, key.n);
    if (!it)
        return NULL;
    if (it->node)
        return x->node[it->node - 1];
    if (x->nnode >= MAX_NODES)
        return NULL;
    char name[24];
    snprintf(name, sizeof name, "n%zu", x->nnode);
    Agnode_t *nd = agnode(x->g, name, 1);
    if (!nd)
        return NULL;
    dh_buf *lb = &x->r->lb;
    dh_buf_reset(lb);
    gv_label(lb, key.p, key.n);
    const titem *h = tally_find(&x->r->hosts, key.p, key.n);
    if (h && h->nlen && lb->len) {
        lb->len--; /* the NUL */
        dh_buf_puts(lb, "\\n");
        gv_label(lb, x->r->hosts.keys.data + h->note, h->nlen);
    }
    if (lb->len && lb->data[lb->len - 1] == '\0')
        agsafeset(nd, "label", lb->data, "");
    int is_target = h && h->c[0] > 0;
    agsafeset(nd, "fillcolor", is_target || target ? "#fde0dc" : "#dce8fa", "");
    agsafeset(nd, "color", is_target || target ? "#c62828" : "#1565c0", "");
    x->node[x->nnode++] = nd;
    it->node = (uint32_t)x->nnode;
    return nd;
}

static void build_graph(gv *x, item_ref *ev, size_t nedges)
{
    report *r = x->r;
    agsafeset(x->g, "rankdir", "LR", "");
    agsafeset(x->g, "bgcolor", "white", "");
    agsafeset(x->g, "pad", "0.2", "");
    agattr(x->g, AGNODE, "shape", "box");
    agattr(x->g, AGNODE, "style", "rounded,filled");
    agattr(x->g, AGNODE, "fontname", "Helvetica");
    agattr(x->g, AGNODE, "fontsize", "11");
    agattr(x->g, AGNODE, "margin", "0.2,0.06"); /* room for a browser font wider than Arial */
    agattr(x->g, AGNODE, "label", "");
    agattr(x->g, AGEDGE, "fontname", "Helvetica");
    agattr(x->g, AGEDGE, "fontsize", "10");
    agattr(x->g, AGEDGE, "label", "");
    for (size_t i = 0; i < nedges; i++) {
        const titem *it = ev[i].it;
        const char *k = tkey(&r->edges, it);
        dh_jstr src = key_at(k, it->klen, 0), dst = key_at(k, it->klen, 1);
        dh_jstr com = key_at(k, it->klen, 2);
        Agnode_t *a = gv_node(x, src, 0), *b = gv_node(x, dst, 1);
        if (!a || !b)
            continue;
        Agedge_t *e = agedge(x->g, a, b, NULL, 1);
        if (!e)
            continue;
        dh_buf *lb = &r->lb;
        dh_buf_reset(lb);
        if (com.n)
            gv_label(lb, com.p, com.n);
        else
            dh_buf_puts(lb, "(no COM object)"), dh_buf_putc(lb, '\0');
        if (lb->len)
            lb->len--; /* the NUL */
        char cnt[64];
        if (it->c[1])
            snprintf(cnt, sizeof cnt, " \xC3\x97%llu (%llu suppressed)",
                     (unsigned long long)(it->c[0] + it->c[1]), (unsigned long long)it->c[1]);
        else
            snprintf(cnt, sizeof cnt, " \xC3\x97%llu", (unsigned long long)it->c[0]);
        dh_buf_puts(lb, cnt);
        dh_buf_putc(lb, '\0');
        if (lb->len && lb->data[lb->len - 1] == '\0')
            agsafeset(e, "label", lb->data, "");
        if (!it->c[0]) {
            agsafeset(e, "style", "dashed", "");
            agsafeset(e, "color", "#8a8a8a", "");
        } else {
            agsafeset(e, "color", "#c62828", "");
            agsafeset(e, "penwidth", it->c[0] > 1 ? "2" : "1.2", "");
        }
    }
    /* targets named by findings without a known source, as lone nodes */
    for (size_t i = 0; i < r->hosts.n && x->nnode < MAX_NODES; i++)
        if (r->hosts.v[i].c[0]) {
            dh_jstr k = {tkey(&r->hosts, &r->hosts.v[i]), r->hosts.v[i].klen};
            gv_node(x, k, 1);
        }
}

static void graph(report *r)
{
    hout *o = &r->o;
    puts_(o, "<section id=\"graph\">\n<h2>Host graph</h2>\n<p>Source host (or IP) &rarr; target "
             "host, labelled with the COM object and the number of findings; red: targets, "
             "blue: sources only, dashed grey: suppressed findings only.</p>\n");
    if (!r->hosts.n) {
        puts_(o, "<p><em>No hosts named.</em></p>\n</section>\n");
        return;
    }
    item_ref *ev = sorted_items(&r->edges);
    size_t nedges = r->edges.n < MAX_EDGES ? r->edges.n : MAX_EDGES;
    gv x;
    memset(&x, 0, sizeof x);
    x.r = r;
    tally_init(&x.nodes);
    x.node = calloc(MAX_NODES, sizeof *x.node);
    lt_symlist_t builtins[] = {
        {"gvplugin_dot_layout_LTX_library", &gvplugin_dot_layout_LTX_library},
        {"gvplugin_core_LTX_library", &gvplugin_core_LTX_library},
        {NULL, NULL},
    };
    agusererrf prev = agseterrf(gv_quiet);
    GVC_t *gvc = gvContextPlugins(builtins, 0);
    const char *fail = NULL;
    char *data = NULL;
    unsigned int dlen = 0;
    int laid = 0;
    if (!gvc || !x.node || (r->edges.n && !ev)) {
        fail = "out of memory";
        goto done;
    }
    x.g = agopen("hosts", Agdirected, NULL);
    if (!x.g) {
        fail = "graphviz could not make the graph";
        goto done;
    }
    build_graph(&x, ev, nedges);
    if (gvLayout(gvc, x.g, "dot") != 0) {
        fail = "graphviz could not lay the graph out";
        goto done;
    }
    laid = 1;
    if (gvRenderData(gvc, x.g, "svg", &data, &dlen) != 0 || !data) {
        fail = "graphviz could not write the SVG";
        goto done;
    }
    puts_(o, "<div class=\"graph\">\n");
    if (emit_svg(o, data, dlen) < 0) {
        puts_(o, "</div>\n");
        fail = "the SVG graphviz wrote was not the expected markup; withheld";
        goto done;
    }
    puts_(o, "</div>\n");
    if (r->edges.n > nedges || x.nnode >= MAX_NODES || r->edges.dropped) {
        puts_(o, "<p class=\"note\">The graph shows the ");
        putu(o, nedges);
        puts_(o, " most frequent of ");
        putu(o, r->edges.n);
        puts_(o, r->edges.dropped ? "+" : "");
        puts_(o, " edges and at most ");
        putu(o, MAX_NODES);
        puts_(o, " hosts.</p>\n");
    }
done:
    if (data)
        gvFreeRenderData(data);
    if (laid)
        gvFreeLayout(gvc, x.g);
    if (x.g)
        agclose(x.g);
    if (gvc)
        gvFreeContext(gvc);
    agseterrf(prev);
    if (fail) {
        snprintf(r->graph_note, sizeof r->graph_note, "host graph not drawn: %s", fail);
        puts_(o, "<p class=\"note\">The host graph could not be drawn: ");
        puts_(o, fail);
        puts_(o, ".</p>\n");
        report_error(r, DH_ERR_UNSUPPORTED, 0, 0, r->graph_note);
    }
    tally_free(&x.nodes);
    free(x.node);
    free(ev);
    puts_(o, "</section>\n");
}

/* ---- findings ---------------------------------------------------------------------- */

static void kv_row(report *r, const char *th)
{
    puts_(&r->o, "<tr><th>");
    puts_(&r->o, th);
    puts_(&r->o, "</th><td>");
}

static void list_strings(report *r, const dh_jdoc *d, int arr, const char *olclass, unsigned flags,
                         const char *what)
{
    hout *o = &r->o;
    puts_(o, "<ol class=\"");
    puts_(o, olclass);
    puts_(o, "\">");
    int shown = 0;
    for (int t = dh_jdoc_next(d, arr, -1); t >= 0 && shown < MAX_LIST;
         t = dh_jdoc_next(d, arr, t)) {
        puts_(o, olclass[0] == 'c' ? "<li><code>" : "<li>");
        put_tok(r, d, t, flags);
        puts_(o, olclass[0] == 'c' ? "</code></li>" : "</li>");
        shown++;
    }
    puts_(o, "</ol>\n");
    put_more(o, dh_jdoc_len(d, arr), shown, what);
}

static void evidence_table(report *r, const dh_jdoc *d, int arr)
{
    static const char *const cols[] = {"role",     "time", "host",      "channel",
                                       "event_id", "kind", "record_id", "file"};
    static const char *const heads[] = {"role",  "time", "host",   "channel",
                                        "event", "kind", "record", "file"};
    hout *o = &r->o;
    puts_(o, "<h4>Evidence</h4>\n<table class=\"ev\"><tr>");
    for (size_t c = 0; c < sizeof heads / sizeof heads[0]; c++) {
        puts_(o, "<th>");
        puts_(o, heads[c]);
        puts_(o, "</th>");
    }
    puts_(o, "</tr>\n");
    int shown = 0;
    for (int t = dh_jdoc_next(d, arr, -1); t >= 0 && shown < MAX_LIST;
         t = dh_jdoc_next(d, arr, t)) {
        puts_(o, "<tr>");
        for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
            puts_(o, c == 7 ? "<td><code>" : "<td>");
            put_tok(r, d, dh_jdoc_get(d, t, cols[c]), HT_MARK);
            puts_(o, c == 7 ? "</code></td>" : "</td>");
        }
        puts_(o, "</tr>\n");
        shown++;
    }
    if (!shown)
        puts_(o, "<tr><td colspan=\"8\"><em>none</em></td></tr>\n");
    puts_(o, "</table>\n");
    put_more(o, dh_jdoc_len(d, arr), shown, "evidence records");
}

static void pivots(report *r, const dh_jdoc *d, int arr)
{
    hout *o = &r->o;
    puts_(o, "<h4>Pivot queries</h4>\n");
    int shown = 0;
    for (int t = dh_jdoc_next(d, arr, -1); t >= 0 && shown < MAX_LIST;
         t = dh_jdoc_next(d, arr, t)) {
        puts_(o, "<div class=\"pivot\"><div class=\"pivot-head\"><span class=\"lang\">");
        dh_jstr lang = dh_jdoc_val(d, dh_jdoc_get(d, t, "language"), &r->sc);
        if (lang.n == 3 && memcmp(lang.p, "kql", 3) == 0)
            puts_(o, "KQL");
        else if (lang.n == 8 && memcmp(lang.p, "dcomhunt", 8) == 0)
            puts_(o, "dcomhunt");
        else if (lang.n)
            html_text(o, lang.p, lang.n, HT_MARK);
        else
            puts_(o, "query");
        puts_(o, "</span>");
        put_field(r, d, t, "title", NULL);
        puts_(o, "</div><pre class=\"query\">");
        put_tok(r, d, dh_jdoc_get(d, t, "query"), HT_MARK | HT_LINES);
        puts_(o, "</pre></div>\n");
        shown++;
    }
    put_more(o, dh_jdoc_len(d, arr), shown, "queries");
}

/* What the finding says it could not hold or decide (docs/findings.md, Limits): values cut
 * with their length in the log, what its caps left out, rules left undecided. */
static void limits_note(report *r, const dh_jdoc *d)
{
    hout *o = &r->o;
    int cut = dh_jdoc_get(d, 0, "truncated"), dropped = dh_jdoc_get(d, 0, "dropped"),
        und = dh_jdoc_get(d, 0, "undecided_rules");
    if (!dh_jdoc_len(d, cut) && dropped < 0 && !dh_jdoc_len(d, und))
        return;
    puts_(o, "<ul class=\"limits\">");
    int n = 0;
    for (int t = dh_jdoc_next(d, cut, -1); t >= 0 && n < MAX_LIST;
         t = dh_jdoc_next(d, cut, t), n++) {
        puts_(o, "<li><code>");
        put_tok(r, d, dh_jdoc_get(d, t, "value"), HT_MARK);
        puts_(o, "</code> truncated: ");
        put_tok(r, d, dh_jdoc_get(d, t, "length"), HT_MARK);
        puts_(o, " bytes in the log, the first ");
        put_tok(r, d, dh_jdoc_get(d, t, "kept"), HT_MARK);
        puts_(o, " kept</li>");
    }
    if (dropped >= 0) {
        static const char *const keys[] = {"commands", "evidence", "rules"};
        static const char *const names[] = {" commands, ", " evidence records, ", " rules"};
        puts_(o, "<li>over the finding's caps, not listed: ");
        for (size_t k = 0; k < 3; k++) {
            put_tok(r, d, dh_jdoc_get(d, dropped, keys[k]), HT_MARK);
            puts_(o, names[k]);
        }
        puts_(o, "</li>");
    }
    if (dh_jdoc_len(d, und)) {
        puts_(o, "<li>undecided (a regular expression hit its match limit; counted as "
                 "matched):");
        n = 0;
        for (int t = dh_jdoc_next(d, und, -1); t >= 0 && n < MAX_LIST;
             t = dh_jdoc_next(d, und, t), n++) {
            puts_(o, " <code>");
            put_tok(r, d, t, HT_MARK);
            puts_(o, "</code>");
        }
        puts_(o, "</li>");
    }
    puts_(o, "</ul>\n");
}

static void finding(report *r, const entry *e)
{
    hout *o = &r->o;
    dh_jdoc d;
    if (dh_findings_reader_parse(r->rd, r->js + e->off, e->len, &d))
        return; /* checked in pass one: cannot happen */
    int src = dh_jdoc_get(&d, 0, "source"), dst = dh_jdoc_get(&d, 0, "target");
    puts_(o, "<article class=\"finding s-");
    put_sev_class(o, e->sev);
    puts_(o, e->suppressed ? " suppressed" : "");
    puts_(o, "\" id=\"f");
    putu(o, e->num);
    puts_(o, "\">\n<h3>#");
    putu(o, e->num);
    puts_(o, " ");
    if (e->suppressed)
        puts_(o, "<span class=\"badge supp-badge\">SUPPRESSED</span> ");
    puts_(o, "<span class=\"badge sev-");
    put_sev_class(o, e->sev);
    puts_(o, "\">");
    put_field(r, &d, 0, "severity", "no severity");
    puts_(o, "</span> ");
    put_field(r, &d, 0, "kind", NULL);
    puts_(o, ": ");
    put_endpoint(r, &d, src, "unknown source");
    puts_(o, " &rarr; ");
    put_endpoint(r, &d, dst, "unknown target");
    dh_jstr com = dh_jdoc_val(&d, dh_jdoc_get(&d, 0, "com_object"), &r->sc);
    if (com.n) {
        puts_(o, " via ");
        html_text(o, com.p, com.n, HT_MARK);
    }
    puts_(o, "</h3>\n");

    int sb = dh_jdoc_get(&d, 0, "suppressed_by");
    if (e->suppressed || sb >= 0) {
        puts_(o, e->suppressed ? "<p class=\"suppressed-note\">Suppressed"
                               : "<p class=\"suppressed-note\">A suppression matched");
        dh_jstr reason = dh_jdoc_val(&d, dh_jdoc_get(&d, sb, "reason"), &r->sc);
        if (reason.n) {
            puts_(o, ": <span>");
            html_text(o, reason.p, reason.n, HT_MARK);
            puts_(o, "</span>");
        }
        /* the filter's title, id, expiry and file (hunt --show-suppressed writes them) */
        static const char *const keys[] = {"filter", "id", "expires", "origin"};
        static const char *const names[] = {"filter", "id", "expires", "from"};
        int any = 0;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            dh_jstr v = dh_jdoc_val(&d, dh_jdoc_get(&d, sb, keys[k]), &r->sc);
            if (!v.n)
                continue;
            puts_(o, any++ ? ", " : " <span>(");
            puts_(o, names[k]);
            puts_(o, " <code>");
            html_text(o, v.p, v.n, HT_MARK);
            puts_(o, "</code>");
        }
        if (any)
            puts_(o, ")</span>");
        puts_(o, "</p>\n");
    }

    puts_(o, "<table class=\"kv\">\n");
    kv_row(r, "id");
    puts_(o, "<code>");
    put_field(r, &d, 0, "id", NULL);
    puts_(o, "</code></td></tr>\n");
    kv_row(r, "confidence");
    put_field(r, &d, 0, "confidence", "not given");
    int reasons = dh_jdoc_get(&d, 0, "confidence_reasons");
    if (dh_jdoc_len(&d, reasons)) {
        puts_(o, "<ul>");
        int n = 0;
        for (int t = dh_jdoc_next(&d, reasons, -1); t >= 0 && n < MAX_LIST;
             t = dh_jdoc_next(&d, reasons, t), n++) {
            puts_(o, "<li>");
            put_tok(r, &d, t, HT_MARK);
            puts_(o, "</li>");
        }
        puts_(o, "</ul>");
    }
    puts_(o, "</td></tr>\n");
    kv_row(r, "source");
    put_endpoint(r, &d, src, "unknown");
    puts_(o, "</td></tr>\n");
    kv_row(r, "target");
    put_endpoint(r, &d, dst, "unknown");
    puts_(o, "</td></tr>\n");
    kv_row(r, "account");
    put_field(r, &d, 0, "user", "unknown");
    dh_jstr lid = dh_jdoc_val(&d, dh_jdoc_get(&d, 0, "logon_id"), &r->sc);
    if (lid.n) {
        puts_(o, " <span class=\"mono\">logon id ");
        html_text(o, lid.p, lid.n, HT_MARK);
        puts_(o, "</span>");
    }
    puts_(o, "</td></tr>\n");
    kv_row(r, "COM object");
    put_field(r, &d, 0, "com_object", "not named");
    dh_jstr clsid = dh_jdoc_val(&d, dh_jdoc_get(&d, 0, "clsid"), &r->sc);
    if (clsid.n) {
        puts_(o, " <code>");
        html_text(o, clsid.p, clsid.n, HT_MARK);
        puts_(o, "</code>");
    }
    puts_(o, "</td></tr>\n");
    kv_row(r, "technique");
    put_field(r, &d, 0, "technique", "T1021.003");
    puts_(o, "</td></tr>\n");
    kv_row(r, "first seen");
    put_field(r, &d, 0, "first_seen", "unknown");
    puts_(o, "</td></tr>\n");
    kv_row(r, "last seen");
    put_field(r, &d, 0, "last_seen", "unknown");
    puts_(o, "</td></tr>\n");
    kv_row(r, "rules");
    int names = dh_jdoc_get(&d, 0, "rule_names"), ids = dh_jdoc_get(&d, 0, "rule_ids");
    int tn = dh_jdoc_next(&d, names, -1), ti = dh_jdoc_next(&d, ids, -1), nr = 0;
    while ((tn >= 0 || ti >= 0) && nr < MAX_LIST) {
        if (nr++)
            puts_(o, "<br>");
        put_tok(r, &d, tn, HT_MARK);
        if (ti >= 0) {
            puts_(o, " <code>");
            put_tok(r, &d, ti, HT_MARK);
            puts_(o, "</code>");
        }
        if (tn >= 0)
            tn = dh_jdoc_next(&d, names, tn);
        if (ti >= 0)
            ti = dh_jdoc_next(&d, ids, ti);
    }
    if (!nr)
        puts_(o, "<em>none</em>");
    puts_(o, "</td></tr>\n</table>\n");

    int cmds = dh_jdoc_get(&d, 0, "commands");
    if (dh_jdoc_len(&d, cmds)) {
        puts_(o, "<h4>Commands</h4>\n");
        list_strings(r, &d, cmds, "cmds", HT_MARK, "commands");
    }
    limits_note(r, &d);
    evidence_table(r, &d, dh_jdoc_get(&d, 0, "evidence"));
    int inv = dh_jdoc_get(&d, 0, "investigate");
    if (dh_jdoc_len(&d, inv)) {
        puts_(o, "<h4>Investigate</h4>\n");
        list_strings(r, &d, inv, "steps", HT_MARK | HT_LINES, "steps");
    }
    int resp = dh_jdoc_get(&d, 0, "respond");
    if (dh_jdoc_len(&d, resp)) {
        puts_(o, "<h4>Respond</h4>\n");
        list_strings(r, &d, resp, "steps", HT_MARK | HT_LINES, "steps");
    }
    int piv = dh_jdoc_get(&d, 0, "pivots");
    if (dh_jdoc_len(&d, piv))
        pivots(r, &d, piv);
    puts_(o, "</article>\n");
}

static void findings(report *r)
{
    hout *o = &r->o;
    size_t active = r->ne - r->suppressed;
    puts_(o, "<section id=\"findings\">\n<h2>Findings (");
    putu(o, active);
    puts_(o, ")</h2>\n");
    if (!active)
        puts_(o, "<p><em>No findings.</em></p>\n");
    for (size_t i = 0; i < active && o->st == DH_OK; i++)
        finding(r, &r->e[i]);
    puts_(o, "</section>\n<section id=\"suppressed\">\n<h2>Suppressed findings (");
    putu(o, r->suppressed);
    puts_(o, ")</h2>\n");
    if (!r->suppressed)
        puts_(o, "<p><em>None.</em></p>\n");
    else
        puts_(o, "<p>Findings a suppression matched. They are kept and marked here, and "
                 "counted only in the summary's &ldquo;suppressed&rdquo; columns, so a wrong "
                 "suppression can be seen.</p>\n");
    for (size_t i = active; i < r->ne && o->st == DH_OK; i++)
        finding(r, &r->e[i]);
    puts_(o, "</section>\n");
}

dh_status dh_html_report(const char *jsonl, size_t len, const char *source_name, FILE *out,
                         dh_html_error_fn on_error, void *ctx)
{
    if ((!jsonl && len) || !out)
        return DH_ERR_ARG;
    report *r = calloc(1, sizeof *r);
    if (r && !(r->rd = dh_findings_reader_new())) {
        free(r);
        r = NULL;
    }
    if (!r)
        return DH_ERR_NOMEM;
    r->js = jsonl ? jsonl : "";
    r->len = len;
    r->name = source_name ? source_name : "(findings)";
    r->on_error = on_error;
    r->ctx = ctx;
    r->o.f = out;
    dh_buf_init(&r->o.b, 64u << 20);
    dh_buf_init(&r->sc, (size_t)DH_HTML_MAX_LINE * 4);
    dh_buf_init(&r->ar, (size_t)DH_HTML_MAX_LINE * 4);
    dh_buf_init(&r->lb, 4096);
    tally_init(&r->kinds);
    tally_init(&r->kindsev);
    tally_init(&r->coms);
    tally_init(&r->hosts);
    tally_init(&r->edges);

    pass_one(r);
    if (r->ne)
        qsort(r->e, r->ne, sizeof *r->e, cmp_display);
    for (size_t i = 0; i < r->ne; i++)
        r->e[i].num = (uint32_t)(i + 1);

    head_and_header(r);
    summary(r);
    timeline(r);
    graph(r);
    findings(r);
    puts_(&r->o, "</main>\n<footer>Made by dcomhunt report. Every value above comes from the "
                 "logs and is shown as text: highlighted <span class=\"esc\">\\xNN</span> "
                 "marks stand for control, invisible or invalid characters.</footer>\n"
                 "</body>\n</html>\n");
    flush_out(&r->o);
    if (r->o.st == DH_OK && fflush(out) != 0)
        r->o.st = DH_ERR_IO;

    dh_status st = r->o.st != DH_OK ? r->o.st : r->in_st;
    dh_buf_free(&r->o.b);
    dh_buf_free(&r->sc);
    dh_buf_free(&r->ar);
    dh_buf_free(&r->lb);
    tally_free(&r->kinds);
    tally_free(&r->kindsev);
    tally_free(&r->coms);
    tally_free(&r->hosts);
    tally_free(&r->edges);
    dh_findings_reader_free(r->rd);
    free(r->e);
    free(r);
    return st;
}
