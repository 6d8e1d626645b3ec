/* The DCOM chain assembler.
 *
 * Events kept for correlation are grouped per host and ordered by time. On each host an
 * anchor starts a chain: a COM server started by the DCOM launcher (svchost -k DcomLaunch
 * parent, -Embedding or /automation in its command line), or explorer.exe accepting an
 * inbound connection from another machine (ShellWindows / ShellBrowserWindow run inside
 * the running explorer). The chain then collects, within the window (plus the tolerated
 * clock skew): the network logon whose logon id the server runs under (or, failing that,
 * the nearest earlier network logon), inbound connections to the server process, and the
 * server's children and grandchildren. Remote DistributedCOM 10016 failures become
 * attempts; 10028 on a source becomes source activity; rule detections that no chain
 * explains become signals.
 *
 * Linking keys: logon id (4624 TargetLogonId = the server's LogonId), process GUID (Sysmon)
 * or process id (Security 4688), host and time. Hosts compare case-insensitively. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "correlate/sigma_corr.h"
#include "dcomhunt/correlate.h"

#define TICKS       10000000LL /* FILETIME ticks per second */
#define MAX_REASONS 16         /* distinct reasons: dcomhunt has fewer */
/* Inputs are read in order of their chunks' first record times; events within a chunk
 * span a little time, so the horizon keeps this much slack behind the newest event. */
#define FLUSH_SLACK_S 600
#define FLUSH_EVERY   16384 /* events between passes, at least */

typedef struct item {
    uint64_t hostkey; /* hash of the lowercased host name: sorting compares this first */
    int64_t t;        /* the event's time, and its host without its domain: kept here for */
    dh_str host;      /* the sorts, which compare them n log n times */
    dh_event *ev;
    const dh_rule **rules;
    unsigned char *undecided; /* per rule: undecided on this event; NULL when none was */
    size_t nrules;
    uint64_t seq;
    int used;
    int dup;
    int checked;   /* looked at as an anchor */
    int emitted;   /* attempt/signal decided */
    int fed;       /* given to the Sigma correlation engine */
    uint64_t mark; /* the finding being built that took it as evidence (fbuild.gen) */
    unsigned pins; /* the Sigma correlation engine still holds it (window or evidence) */
} item;

struct dh_correlator {
    dh_correlate_opts o;
    const dh_ruleset *rs;
    item **v; /* stable items (sigma correlation state points at them); sorted as pointers */
    size_t n, cap;
    uint64_t seq;
    /* Incremental assembly: inputs arrive in (roughly) time order, so what is older than
     * the newest time seen minus the window, the skew and a slack can be finished and
     * dropped. */
    int64_t newest;
    int64_t max_span; /* longest Sigma correlation timespan, in ticks */
    size_t since_flush, flush_every;
    dh_finding_fn fn;
    void *fctx;
    sc_engine *sc;
    int64_t sc_upto;       /* Sigma correlation has been fed everything older than this */
    uint64_t sc_late;      /* events for it taken after that: read out of time order */
    size_t peak;           /* most events held at once */
    size_t nwire;          /* sensor records held */
    uint64_t wire_dropped; /* let go past MAX_WIRE_HELD */
    uint64_t gen;          /* findings built, for fbuild.gen */
};

static dh_status process(dh_correlator *c, int64_t horizon);
static dh_str bare_host(dh_str h);
static int is_wire(const dh_event *ev);

/* Network sensor records are read before the host logs and held for the chains they join
 * (docs/formats.md); past this many, the oldest half of those no rule matched is let go. */
#define MAX_WIRE_HELD (1u << 19)

static const struct {
    const char *image; /* basename, lowercase */
    const char *object;
    const char *clsid;
} servers[] = {
    {"mmc.exe", "MMC20.Application", "{49B2791A-B1AE-4C90-9B8E-E860BA07F889}"},
    {"excel.exe", "Excel.Application", "{00024500-0000-0000-C000-000000000046}"},
    {"winword.exe", "Word.Application", "{000209FF-0000-0000-C000-000000000046}"},
    {"powerpnt.exe", "PowerPoint.Application", "{91493441-5A91-11CF-8700-00AA0060263B}"},
    {"outlook.exe", "Outlook.Application", "{0006F03A-0000-0000-C000-000000000046}"},
    {"visio.exe", "Visio.Application", "{00021A20-0000-0000-C000-000000000046}"},
    {"mshta.exe", "htafile (LethalHTA)", "{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}"},
    {"iexplore.exe", "InternetExplorer.Application", "{0002DF01-0000-0000-C000-000000000046}"},
};

/* COM servers started by DcomLaunch that are not DCOM lateral movement (DETECTION.md). */
static const char *const cousins[] = {
    "wmiprvse.exe",      "wsmprovhost.exe",        "winrshost.exe",          "dllhost.exe",
    "runtimebroker.exe", "searchprotocolhost.exe", "backgroundtaskhost.exe", "smartscreen.exe",
    "explorer.exe",      "searchindexer.exe",      "taskhostw.exe",
};

void dh_correlate_opts_init(dh_correlate_opts *o)
{
    o->window_s = 300;
    o->skew_s = 120;
}

dh_status dh_correlator_new(const dh_correlate_opts *o, const dh_ruleset *rs, dh_correlator **out)
{
    dh_correlator *c = calloc(1, sizeof *c);
    if (!c)
        return DH_ERR_NOMEM;
    c->rs = rs;
    for (size_t i = 0; rs && i < dh_ruleset_count(rs); i++) {
        int64_t span = dh_rule_correlation_timespan(dh_ruleset_rule(rs, i)) * TICKS;
        if (span > c->max_span)
            c->max_span = span;
    }
    c->flush_every = FLUSH_EVERY;
    if (o)
        c->o = *o;
    else
        dh_correlate_opts_init(&c->o);
    *out = c;
    return DH_OK;
}

void dh_correlator_free(dh_correlator *c)
{
    if (!c)
        return;
    sc_free(c->sc); /* releases what it holds before the items go */
    c->sc = NULL;
    for (size_t i = 0; i < c->n; i++) {
        dh_event_free(c->v[i]->ev);
        free(c->v[i]->rules);
        free(c->v[i]->undecided);
        free(c->v[i]);
    }
    free(c->v);
    free(c);
}

const char *dh_finding_kind_name(dh_finding_kind k)
{
    static const char *const names[] = {"lateral_movement", "attempt", "source_activity", "signal"};
    return (unsigned)k < 4 ? names[k] : "signal";
}

/* ---- small helpers ------------------------------------------------------------------ */

static dh_str field(const dh_event *ev, dh_field id)
{
    dh_str s = {"", 0};
    dh_event_field(ev, id, &s);
    return s;
}

static int str_ieq(dh_str a, dh_str b)
{
    return a.len == b.len && (a.len == 0 || strncasecmp(a.ptr, b.ptr, a.len) == 0);
}

static int ci_cmp(dh_str a, dh_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int r = n ? strncasecmp(a.ptr, b.ptr, n) : 0;
    return r ? r : a.len < b.len ? -1 : a.len > b.len;
}

static int contains_ci(dh_str h, const char *n)
{
    size_t nl = strlen(n);
    for (size_t i = 0; i + nl <= h.len; i++)
        if (strncasecmp(h.ptr + i, n, nl) == 0)
            return 1;
    return 0;
}

/* Basename of a Windows path, lowercased into buf. */
static const char *base_lower(dh_str path, char *buf, size_t cap)
{
    size_t s = 0;
    for (size_t i = 0; i < path.len; i++)
        if (path.ptr[i] == '\\' || path.ptr[i] == '/')
            s = i + 1;
    size_t n = path.len - s;
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++) {
        char ch = path.ptr[s + i];
        buf[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    buf[n] = 0;
    return buf;
}

/* "0x1ea3c6", "0x00000000001ea3c6" and "2008006" are numbers; 0 when not a number. */
static int parse_num(dh_str s, uint64_t *v)
{
    if (!s.len)
        return 0;
    uint64_t r = 0;
    size_t i = 0;
    int hex = s.len > 2 && s.ptr[0] == '0' && (s.ptr[1] == 'x' || s.ptr[1] == 'X');
    if (hex)
        i = 2;
    if (i == s.len)
        return 0;
    for (; i < s.len; i++) {
        char ch = s.ptr[i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (hex && ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else if (hex && ch >= 'A' && ch <= 'F')
            d = (unsigned)(ch - 'A' + 10);
        else
            return 0;
        r = r * (hex ? 16 : 10) + d;
    }
    *v = r;
    return 1;
}

static int num_eq(dh_str a, dh_str b)
{
    uint64_t x, y;
    return parse_num(a, &x) && parse_num(b, &y) && x == y;
}

static int is_loopback(dh_str ip)
{
    return (ip.len >= 4 && !strncmp(ip.ptr, "127.", 4)) ||
           (ip.len == 3 && !strncmp(ip.ptr, "::1", 3)) || (ip.len == 1 && ip.ptr[0] == '-') ||
           ip.len == 0;
}

static int is_true(dh_str s)
{
    return s.len == 4 && !strncasecmp(s.ptr, "true", 4);
}

/* ---- intake ------------------------------------------------------------------------ */

int dh_correlator_wants(const dh_event *ev, size_t nmatched)
{
    if (nmatched)
        return 1;
    switch (dh_event_kind(ev)) {
    case DH_KIND_PROCESS_CREATION:
        return 1;
    case DH_KIND_LOGON: {
        dh_str lt;
        return dh_event_field(ev, DH_FIELD_LOGON_TYPE, &lt) && lt.len == 1 && lt.ptr[0] == '3';
    }
    case DH_KIND_NETWORK_CONNECTION: {
        /* Inbound connections (the target side), and outbound ones to the endpoint mapper
         * or to a dynamic RPC port (the source side: they tell which host owns an
         * address). Ordinary outbound traffic goes to low well-known ports. */
        dh_str i, sp, dp;
        int inbound = dh_event_field(ev, DH_FIELD_INITIATED, &i) && !is_true(i);
        int rpc = (dh_event_field(ev, DH_FIELD_SOURCE_PORT, &sp) && sp.len == 3 &&
                   !memcmp(sp.ptr, "135", 3));
        if (dh_event_field(ev, DH_FIELD_DESTINATION_PORT, &dp)) {
            uint64_t port;
            if ((dp.len == 3 && !memcmp(dp.ptr, "135", 3)) ||
                (parse_num(dp, &port) && port >= 49152 && port <= 65535))
                rpc = 1;
        }
        return inbound || rpc;
    }
    case DH_KIND_DCOM_ERROR:
        return 1;
    case DH_KIND_RPC_CALL: {
        /* RPC seen on the wire: to the endpoint mapper (the activation) or to a dynamic
         * port (calls on the object). */
        dh_str dp;
        uint64_t port;
        return dh_event_field(ev, DH_FIELD_DESTINATION_PORT, &dp) && parse_num(dp, &port) &&
               (port == 135 || port >= 49152);
    }
    default:
        return 0;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Lets go of the older half of the sensor records no rule matched. */
static dh_status drop_old_wire(dh_correlator *c)
{
    int64_t *times = malloc(c->nwire * sizeof *times);
    if (!times)
        return DH_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        if (is_wire(c->v[i]->ev) && !c->v[i]->nrules)
            times[n++] = dh_event_time(c->v[i]->ev);
    if (n > 1)
        qsort(times, n, sizeof *times, cmp_i64);
    int64_t cut = n ? times[n / 2] : INT64_MIN;
    free(times);
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        item *it = c->v[i];
        if (is_wire(it->ev) && !it->nrules && dh_event_time(it->ev) < cut) {
            dh_event_free(it->ev);
            free(it);
            c->nwire--;
            c->wire_dropped++;
        } else {
            c->v[k++] = it;
        }
    }
    c->n = k;
    return DH_OK;
}

dh_status dh_correlator_pack(const dh_ruleset *rs, const dh_event *ev, dh_buf *out)
{
    const char *const *names = NULL;
    size_t n = rs ? dh_ruleset_correlation_fields(rs, &names) : 0;
    return dh_event_pack_named(ev, names, n, out);
}

uint64_t dh_correlator_sigma_late(const dh_correlator *c)
{
    return c->sc_late;
}

uint64_t dh_correlator_sigma_dropped(const dh_correlator *c)
{
    return c->sc ? sc_get_stats(c->sc).dropped : 0;
}

uint64_t dh_correlator_wire_dropped(const dh_correlator *c)
{
    return c->wire_dropped;
}

dh_status dh_correlator_take(dh_correlator *c, dh_event *ev, const dh_rule *const *rules,
                             size_t nrules)
{
    return dh_correlator_take_undecided(c, ev, rules, nrules, NULL);
}

dh_status dh_correlator_take_undecided(dh_correlator *c, dh_event *ev, const dh_rule *const *rules,
                                       size_t nrules, const unsigned char *undecided)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        item **v = realloc(c->v, cap * sizeof *v);
        if (!v) {
            dh_event_free(ev);
            return DH_ERR_NOMEM;
        }
        c->v = v;
        c->cap = cap;
    }
    item *it = calloc(1, sizeof *it);
    if (!it) {
        dh_event_free(ev);
        return DH_ERR_NOMEM;
    }
    c->v[c->n] = it;
    it->ev = ev;
    if (nrules) {
        it->rules = malloc(nrules * sizeof *it->rules);
        if (!it->rules) {
            dh_event_free(ev);
            return DH_ERR_NOMEM;
        }
        memcpy(it->rules, rules, nrules * sizeof *it->rules);
        it->nrules = nrules;
        if (undecided && memchr(undecided, 1, nrules)) {
            it->undecided = malloc(nrules);
            if (!it->undecided) {
                dh_event_free(ev);
                return DH_ERR_NOMEM;
            }
            memcpy(it->undecided, undecided, nrules);
        }
    }
    it->seq = c->seq++;
    dh_str h = bare_host(dh_event_host(ev));
    uint64_t k = 1469598103934665603ULL;
    for (size_t i = 0; i < h.len; i++) {
        unsigned char ch = (unsigned char)h.ptr[i];
        k = (k ^ (ch >= 'A' && ch <= 'Z' ? ch + 32u : ch)) * 1099511628211ULL;
    }
    it->hostkey = k;
    it->host = h;
    it->t = dh_event_time(ev);
    c->n++;
    if (c->n > c->peak)
        c->peak = c->n;
    int64_t t = dh_event_time(ev);
    if (nrules && c->max_span && t < c->sc_upto)
        c->sc_late++;
    if (is_wire(ev)) {
        /* Sensor records come first, all at once: they do not move the clock. */
        if (++c->nwire > MAX_WIRE_HELD)
            return drop_old_wire(c);
        return DH_OK;
    }
    if (t > c->newest)
        c->newest = t;
    /* Every so often, finish what the window has passed (only with a sink to report to).
     * A pass costs O(n log n) in the events held; waiting for as many new events as are
     * held keeps that O(log n) per event when the window holds many (one time for a
     * million events), and the held count within twice what the window needs. */
    if (c->fn && ++c->since_flush >= c->flush_every)
        return dh_correlator_flush(c);
    return DH_OK;
}

/* ---- ordering ---------------------------------------------------------------------- */

/* A host's name without its domain: Sysmon says WORKSTATION6.theshire.local where another
 * log of the same machine says WORKSTATION6; FQDN and bare name are one host. */
static dh_str bare_host(dh_str h)
{
    size_t n = 0;
    while (n < h.len && h.ptr[n] != '.')
        n++;
    /* An address is not cut at its dots. */
    if (n < h.len && h.ptr[0] >= '0' && h.ptr[0] <= '9')
        return h;
    return (dh_str){h.ptr, n};
}

static int item_cmp(const void *pa, const void *pb)
{
    const item *a = *(item *const *)pa, *b = *(item *const *)pb;
    if (a->hostkey != b->hostkey)
        return a->hostkey < b->hostkey ? -1 : 1;
    int r = ci_cmp(a->host, b->host);
    if (r)
        return r;
    int64_t ta = a->t, tb = b->t;
    if (ta != tb)
        return ta < tb ? -1 : 1;
    /* the same record read twice sorts next to itself (mark_duplicates) */
    uint64_t ra = dh_event_record_id(a->ev), rb = dh_event_record_id(b->ev);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    uint32_t ea = dh_event_id(a->ev), eb = dh_event_id(b->ev);
    if (ea != eb)
        return ea < eb ? -1 : 1;
    r = ci_cmp(dh_event_channel(a->ev), dh_event_channel(b->ev));
    if (r)
        return r;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int same_record(const dh_event *a, const dh_event *b)
{
    return dh_event_record_id(a) == dh_event_record_id(b) && dh_event_id(a) == dh_event_id(b) &&
           dh_event_time(a) == dh_event_time(b) &&
           str_ieq(dh_event_channel(a), dh_event_channel(b));
}

/* ---- finding under construction ------------------------------------------------------
 * Strings point into the events the correlator holds (alive while the sink runs); only a
 * composed account ("DOMAIN\name") is allocated. Lists grow up to the caps of
 * dcomhunt/correlate.h; what passes a cap is counted, and its events still belong to this
 * finding (they never become findings of their own). */

typedef struct fbuild {
    dh_finding f;
    const char *reasons[MAX_REASONS];
    dh_str *commands;
    const dh_rule **rules, **undecided;
    dh_evidence *ev;
    dh_cut *cuts;
    size_t commands_cap, rules_cap, ev_cap, cuts_cap, undecided_cap;
    size_t command_bytes;
    char *owned[8]; /* composed strings (an account, a correlation's reasons) */
    int nowned;
    uint64_t gen; /* marks the items already taken as evidence (item.mark) */
} fbuild;

static const dh_str none = {"", 0};

static dh_str cstr(const char *s)
{
    return (dh_str){s, strlen(s)};
}

/* Room for one more element in a list that grows by doubling; 0 when out of memory. */
static int grow(void *pv, size_t *cap, size_t n, size_t size)
{
    void **p = pv;
    if (n < *cap)
        return 1;
    size_t nc = *cap ? *cap * 2 : 16;
    void *v = realloc(*p, nc * size);
    if (!v)
        return 0;
    *p = v;
    *cap = nc;
    return 1;
}

static fbuild *fbuild_new(dh_correlator *c)
{
    fbuild *b = calloc(1, sizeof *b);
    if (b) {
        b->gen = ++c->gen;
        b->f.com_object = b->f.clsid = b->f.target_host = b->f.target_ip = none;
        b->f.source_host = b->f.source_ip = b->f.user = b->f.logon_id = none;
    }
    return b;
}

static void fbuild_free(fbuild *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->nowned; i++)
        free(b->owned[i]);
    free(b->commands);
    free(b->rules);
    free(b->undecided);
    free(b->ev);
    free(b->cuts);
    free(b);
}

static void note_cut(fbuild *b, const char *what, size_t index, size_t length, size_t kept)
{
    if (length <= kept || !grow(&b->cuts, &b->cuts_cap, b->f.ncuts, sizeof *b->cuts))
        return;
    b->cuts[b->f.ncuts++] = (dh_cut){what, index, length, kept};
}

/* A value of ev for the finding's `what`, as it is; its cut (if the copy cut it) noted. */
static dh_str val(fbuild *b, const char *what, const dh_event *ev, dh_str s)
{
    note_cut(b, what, 0, dh_event_value_length(ev, s), s.len);
    return s;
}

/* "DOMAIN\name" (or the name alone) from two fields of ev. */
static dh_str account(fbuild *b, const dh_event *ev, dh_field domain, dh_field name)
{
    dh_str dom = field(ev, domain), usr = field(ev, name);
    if (!dom.len || b->nowned >= (int)(sizeof b->owned / sizeof b->owned[0]))
        return val(b, "user", ev, usr);
    char *s = malloc(dom.len + 1 + usr.len + 1);
    if (!s)
        return val(b, "user", ev, usr);
    memcpy(s, dom.ptr, dom.len);
    s[dom.len] = '\\';
    memcpy(s + dom.len + 1, usr.ptr, usr.len);
    b->owned[b->nowned++] = s;
    size_t full = dh_event_value_length(ev, dom) + 1 + dh_event_value_length(ev, usr);
    note_cut(b, "user", 0, full, dom.len + 1 + usr.len);
    return (dh_str){s, dom.len + 1 + usr.len};
}

/* A composed text kept with the finding (NUL-terminated, for a reason); "" when no room. */
static const char *keep_text(fbuild *b, const char *text, size_t n)
{
    if (b->nowned >= (int)(sizeof b->owned / sizeof b->owned[0]))
        return "";
    char *s = malloc(n + 1);
    if (!s)
        return "";
    memcpy(s, text, n);
    s[n] = 0;
    b->owned[b->nowned++] = s;
    return s;
}

static void add_reason(fbuild *b, const char *r)
{
    for (size_t i = 0; i < b->f.nreasons; i++)
        if (b->reasons[i] == r)
            return; /* the same piece found again (a second connection) */
    if (b->f.nreasons < MAX_REASONS)
        b->reasons[b->f.nreasons++] = r;
}

static void add_rule(fbuild *b, const dh_rule *r)
{
    for (size_t j = 0; j < b->f.nrules; j++)
        if (b->rules[j] == r)
            return;
    if (b->f.nrules >= DH_FINDING_MAX_RULES ||
        !grow(&b->rules, &b->rules_cap, b->f.nrules, sizeof *b->rules)) {
        b->f.rules_dropped++;
        return;
    }
    b->rules[b->f.nrules++] = r;
}

static void add_undecided(fbuild *b, const dh_rule *r)
{
    for (size_t j = 0; j < b->f.nundecided; j++)
        if (b->undecided[j] == r)
            return;
    if (b->f.nundecided < DH_FINDING_MAX_RULES &&
        grow(&b->undecided, &b->undecided_cap, b->f.nundecided, sizeof *b->undecided))
        b->undecided[b->f.nundecided++] = r;
}

static void add_evidence(fbuild *b, const char *role, item *it)
{
    if (it->mark == b->gen)
        return; /* already evidence of this finding */
    it->mark = b->gen;
    if (b->f.nevidence < DH_FINDING_MAX_EVIDENCE &&
        grow(&b->ev, &b->ev_cap, b->f.nevidence, sizeof *b->ev)) {
        b->ev[b->f.nevidence].role = role;
        b->ev[b->f.nevidence].ev = it->ev;
        b->f.nevidence++;
    } else {
        b->f.evidence_dropped++;
    }
    /* Past the cap the event still belongs to the chain: its time, its rules and its
     * severity count, and it is used (no signal of its own). */
    int64_t t = dh_event_time(it->ev);
    if (!b->f.first_seen || t < b->f.first_seen)
        b->f.first_seen = t;
    if (t > b->f.last_seen)
        b->f.last_seen = t;
    for (size_t k = 0; k < it->nrules; k++) {
        add_rule(b, it->rules[k]);
        if (dh_rule_level(it->rules[k]) > b->f.severity)
            b->f.severity = dh_rule_level(it->rules[k]);
        if (it->undecided && it->undecided[k])
            add_undecided(b, it->rules[k]);
    }
    it->used = 1;
}

static void add_command(fbuild *b, const dh_event *ev)
{
    dh_str cl = field(ev, DH_FIELD_COMMAND_LINE);
    if (!cl.len)
        cl = field(ev, DH_FIELD_IMAGE);
    if (!cl.len)
        return;
    if (b->f.ncommands >= DH_FINDING_MAX_COMMANDS ||
        b->command_bytes + cl.len > DH_FINDING_MAX_COMMAND_BYTES ||
        !grow(&b->commands, &b->commands_cap, b->f.ncommands, sizeof *b->commands)) {
        b->f.commands_dropped++;
        return;
    }
    note_cut(b, "commands", b->f.ncommands, dh_event_value_length(ev, cl), cl.len);
    b->command_bytes += cl.len;
    b->commands[b->f.ncommands++] = cl;
}

static int contains_ci_n(dh_str h, dh_str n)
{
    for (size_t i = 0; n.len && i + n.len <= h.len; i++)
        if (strncasecmp(h.ptr + i, n.ptr, n.len) == 0)
            return 1;
    return 0;
}

/* FNV-1a 64 over the identity of the chain's anchor: its host and channel (ASCII case
 * folded: one host, however a log spells it), record id, time and event id (as they are:
 * folding their bytes made record 2 and record 8194 of one second the same finding). */
static void make_id(fbuild *b, const char *kind, const dh_event *anchor, const char *extra)
{
    uint64_t h = 1469598103934665603ULL;
#define MIX_TEXT(p, n)                                                                             \
    for (size_t i_ = 0; i_ < (n); i_++) {                                                          \
        unsigned char ch_ = (unsigned char)((const char *)(p))[i_];                                \
        h = (h ^ (ch_ >= 'A' && ch_ <= 'Z' ? ch_ + 32u : ch_)) * 1099511628211ULL;                 \
    }
#define MIX(p, n)                                                                                  \
    for (size_t i_ = 0; i_ < (n); i_++)                                                            \
        h = (h ^ ((const unsigned char *)(p))[i_]) * 1099511628211ULL;
    MIX_TEXT(kind, strlen(kind));
    dh_str host = dh_event_host(anchor), ch = dh_event_channel(anchor);
    MIX_TEXT(host.ptr, host.len);
    MIX_TEXT(ch.ptr, ch.len);
    uint64_t rid = dh_event_record_id(anchor);
    int64_t t = dh_event_time(anchor);
    uint32_t eid = dh_event_id(anchor);
    MIX(&rid, 8);
    MIX(&t, 8);
    MIX(&eid, 4);
    if (extra)
        MIX_TEXT(extra, strlen(extra));
#undef MIX
#undef MIX_TEXT
    snprintf(b->f.id, sizeof b->f.id, "%016llx", (unsigned long long)h);
}

static int evidence_cmp(const void *pa, const void *pb)
{
    const dh_evidence *a = pa, *b = pb;
    int64_t ta = dh_event_time(a->ev), tb = dh_event_time(b->ev);
    if (ta != tb)
        return ta < tb ? -1 : 1;
    uint64_t ra = dh_event_record_id(a->ev), rb = dh_event_record_id(b->ev);
    return ra < rb ? -1 : ra > rb;
}

static void finish_build(fbuild *b)
{
    if (b->f.nevidence > 1) /* qsort must not be given a null array */
        qsort(b->ev, b->f.nevidence, sizeof b->ev[0], evidence_cmp);
    b->f.reasons = b->reasons;
    b->f.commands = b->commands;
    b->f.rules = b->rules;
    b->f.evidence = b->ev;
    b->f.cuts = b->cuts;
    b->f.undecided = b->undecided;
}

/* ---- per host ------------------------------------------------------------------------
 * A chain is assembled from its anchor by looking up what relates to it: the logon by its
 * logon id, connections by the server's process GUID or id and by their remote address,
 * children by their parent's GUID or id, each within a time window. So that no anchor
 * costs more than the events related to it (a host with a million events at one time
 * must not cost a million squared), each relation is an index built once per pass: keys
 * sorted with the positions of their events (time order), searched by key, then by the
 * window's positions. */

/* An address a host owned at a time (and, in the all-hosts map, which host). */
typedef struct addr {
    dh_str ip;
    int64_t t;
    dh_str host;
} addr;

typedef struct addrs {
    addr *v;
    size_t n, cap;
} addrs;

/* key -> positions in the host's time-ordered items */
typedef struct kpos {
    uint64_t key;
    size_t pos;
} kpos;

typedef struct kindex {
    kpos *v;
    size_t n, cap;
} kindex;

typedef struct host_ctx {
    dh_correlator *c;
    item **v; /* this host's items, time ordered */
    size_t n;
    const dh_event *longest_host; /* the event naming the host most fully (FQDN) */
    addrs local;                  /* its own addresses, by address then time */
    addrs local_v4, local_v6;     /* the same by time, for the one nearest a time */
    dh_finding_fn fn;
    void *fctx;
    const struct pass_ctx *pass;
    /* indexes (enum below), built when the host has an anchor to look at */
    int indexed;
    kindex ix[8]; /* IX_COUNT */
} host_ctx;

enum {
    IX_LOGON_ID,        /* network logons by logon id */
    IX_LOGON_SRC,       /* and by source address */
    IX_CONN_GUID,       /* inbound connections by process GUID */
    IX_CONN_PID,        /* by process id */
    IX_CONN_REMOTE,     /* by remote address */
    IX_PROC_PGUID,      /* process creations by parent GUID */
    IX_PROC_PPID,       /* by parent process id */
    IX_EXPLORER_SHELLS, /* shells explorer started (one key) */
    IX_COUNT
};

/* What one pass over the held events shares between hosts: every host's addresses (to
 * name sources), script blocks and sensor records in time order, the sensor records by
 * source address. */
typedef struct pass_ctx {
    addrs ipmap; /* by address, then time */
    item **scripts, **wire;
    size_t nscripts, nwire;
    kindex wire_by_src; /* positions in wire */
} pass_ctx;

/* Addresses are tied to hosts only near the time they were seen (12 hours): lab host
 * names and addresses are reused across unrelated captures. */
#define IP_TTL (12LL * 3600 * TICKS)

static uint64_t key_str(dh_str s)
{
    if (!s.len)
        return 0; /* no key: never looked up */
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.ptr[i];
        h = (h ^ (ch >= 'A' && ch <= 'Z' ? ch + 32u : ch)) * 1099511628211ULL;
    }
    return h | 1; /* 0 is no key */
}

static uint64_t key_num(dh_str s)
{
    uint64_t v;
    return parse_num(s, &v) ? (v * 0x9E3779B97F4A7C15ULL) | 1 : 0;
}

static int addr_cmp(const void *pa, const void *pb)
{
    const addr *a = pa, *b = pb;
    int r = ci_cmp(a->ip, b->ip);
    if (r)
        return r;
    return a->t < b->t ? -1 : a->t > b->t;
}

static int addr_time_cmp(const void *pa, const void *pb)
{
    const addr *a = pa, *b = pb;
    return a->t < b->t ? -1 : a->t > b->t;
}

static int addrs_push(addrs *a, addr x)
{
    if (!grow(&a->v, &a->cap, a->n, sizeof *a->v))
        return 0;
    a->v[a->n++] = x;
    return 1;
}

/* The first address >= ip in a list sorted by address. */
static size_t addrs_lower(const addrs *a, dh_str ip)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ci_cmp(a->v[mid].ip, ip) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int is_local(const host_ctx *h, dh_str ip)
{
    size_t i = addrs_lower(&h->local, ip);
    return ip.len && i < h->local.n && ci_cmp(h->local.v[i].ip, ip) == 0;
}

/* The entry of a time-sorted list nearest to t within IP_TTL, or NULL. */
static const addr *nearest(const addr *v, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].t < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    const addr *best = NULL;
    int64_t bd = IP_TTL + 1;
    /* the nearest is one of the two around t; ties go to the earlier */
    for (size_t i = lo ? lo - 1 : 0; i < n && i <= lo; i++) {
        int64_t dd = v[i].t > t ? v[i].t - t : t - v[i].t;
        if (dd < bd) {
            bd = dd;
            best = &v[i];
        }
    }
    return best;
}

/* The host's own address nearest in time to t (IPv4 preferred), or "". */
static dh_str local_ip_near(const host_ctx *h, int64_t t)
{
    const addr *a = nearest(h->local_v4.v, h->local_v4.n, t);
    if (!a)
        a = nearest(h->local_v6.v, h->local_v6.n, t);
    return a ? a->ip : none;
}

static int well_known_port(dh_str p)
{
    static const char *const ports[] = {"135", "139", "445", "3389", "5985", "5986"};
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++)
        if (p.len == strlen(ports[i]) && !memcmp(p.ptr, ports[i], p.len))
            return 1;
    return 0;
}

/* The remote end of a connection seen on this host, or "" if it cannot be told. */
static dh_str remote_ip(const host_ctx *h, const dh_event *ev)
{
    dh_str s = field(ev, DH_FIELD_SOURCE_IP), d = field(ev, DH_FIELD_DESTINATION_IP);
    int sl = is_local(h, s) || is_loopback(s), dl = is_local(h, d) || is_loopback(d);
    if (sl && !dl && !is_loopback(d))
        return d;
    if (dl && !sl && !is_loopback(s))
        return s;
    return none;
}

static int is_activation(const dh_event *ev, char *base, size_t cap)
{
    if (dh_event_kind(ev) != DH_KIND_PROCESS_CREATION)
        return 0;
    char pb[64];
    base_lower(field(ev, DH_FIELD_PARENT_IMAGE), pb, sizeof pb);
    if (strcmp(pb, "svchost.exe") != 0)
        return 0;
    dh_str pcl = field(ev, DH_FIELD_PARENT_COMMAND_LINE);
    if (pcl.len && !contains_ci(pcl, "dcomlaunch"))
        return 0;
    dh_str cl = field(ev, DH_FIELD_COMMAND_LINE);
    if (!contains_ci(cl, "embedding") && !contains_ci(cl, "/automation"))
        return 0;
    base_lower(field(ev, DH_FIELD_IMAGE), base, cap);
    for (size_t i = 0; i < sizeof cousins / sizeof cousins[0]; i++)
        if (!strcmp(base, cousins[i]))
            return 0;
    return 1;
}

static int within(int64_t t, int64_t lo, int64_t hi)
{
    return t >= lo && t <= hi;
}

/* Network sensor records (Zeek): they belong to no host's own telemetry. */
static int is_wire(const dh_event *ev)
{
    dh_str p = dh_event_provider(ev);
    return p.len == 4 && !memcmp(p.ptr, "Zeek", 4);
}

/* A DCOM activation request on the wire: the remote activator's operations. */
static int is_wire_activation(const dh_event *ev)
{
    static const char *const endpoints[] = {"ISystemActivator", "IRemoteSCMActivator",
                                            "IActivation", "IRemoteActivation",
                                            "000001a0-0000-0000-c000-000000000046"};
    dh_str e;
    if (!is_wire(ev) || dh_event_kind(ev) != DH_KIND_RPC_CALL ||
        !dh_event_field(ev, DH_FIELD_RPC_ENDPOINT, &e))
        return 0;
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++)
        if (e.len == strlen(endpoints[i]) && !strncasecmp(e.ptr, endpoints[i], e.len))
            return 1;
    return 0;
}

static int is_shell_like(const char *base)
{
    static const char *const shells[] = {"cmd.exe",      "powershell.exe", "pwsh.exe",
                                         "wscript.exe",  "cscript.exe",    "mshta.exe",
                                         "rundll32.exe", "regsvr32.exe",   "whoami.exe"};
    for (size_t i = 0; i < sizeof shells / sizeof shells[0]; i++)
        if (!strcmp(base, shells[i]))
            return 1;
    return 0;
}

/* ---- time windows and indexes ---- */

/* The first position in v[0..n) (time ordered) whose time is >= t (after: > t). */
static size_t time_pos(item *const *v, size_t n, int64_t t, int after)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t x = v[mid]->t;
        if (x < t || (after && x == t))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void kindex_add(kindex *k, uint64_t key, size_t pos)
{
    if (key && grow(&k->v, &k->cap, k->n, sizeof *k->v))
        k->v[k->n++] = (kpos){key, pos};
}

static int kpos_cmp(const void *pa, const void *pb)
{
    const kpos *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* Positions with this key in [lo, hi), appended to out (kept sorted: callers merge). */
typedef struct poslist {
    size_t *v;
    size_t n, cap;
} poslist;

static void kindex_find(const kindex *k, uint64_t key, size_t lo, size_t hi, poslist *out)
{
    if (!key)
        return;
    size_t a = 0, b = k->n;
    while (a < b) { /* first entry >= (key, lo) */
        size_t mid = a + (b - a) / 2;
        if (k->v[mid].key < key || (k->v[mid].key == key && k->v[mid].pos < lo))
            a = mid + 1;
        else
            b = mid;
    }
    for (; a < k->n && k->v[a].key == key && k->v[a].pos < hi; a++)
        if (grow(&out->v, &out->cap, out->n, sizeof *out->v))
            out->v[out->n++] = k->v[a].pos;
}

static int size_cmp(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    return a < b ? -1 : a > b;
}

/* Sorts the positions (time order) and drops repeats. */
static void poslist_settle(poslist *p)
{
    if (p->n > 1)
        qsort(p->v, p->n, sizeof *p->v, size_cmp);
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++)
        if (!k || p->v[k - 1] != p->v[i])
            p->v[k++] = p->v[i];
    p->n = k;
}

static void build_indexes(host_ctx *h)
{
    h->indexed = 1;
    for (size_t i = 0; i < h->n; i++) {
        const item *it = h->v[i];
        const dh_event *ev = it->ev;
        if (it->dup)
            continue;
        switch (dh_event_kind(ev)) {
        case DH_KIND_LOGON:
            kindex_add(&h->ix[IX_LOGON_ID], key_num(field(ev, DH_FIELD_LOGON_ID)), i);
            kindex_add(&h->ix[IX_LOGON_SRC], key_str(field(ev, DH_FIELD_SOURCE_IP)), i);
            break;
        case DH_KIND_NETWORK_CONNECTION:
            if (is_true(field(ev, DH_FIELD_INITIATED)))
                break; /* outbound connections never count in a chain */
            kindex_add(&h->ix[IX_CONN_GUID], key_str(field(ev, DH_FIELD_PROCESS_GUID)), i);
            kindex_add(&h->ix[IX_CONN_PID], key_num(field(ev, DH_FIELD_PROCESS_ID)), i);
            kindex_add(&h->ix[IX_CONN_REMOTE], key_str(remote_ip(h, ev)), i);
            break;
        case DH_KIND_PROCESS_CREATION: {
            kindex_add(&h->ix[IX_PROC_PGUID], key_str(field(ev, DH_FIELD_PARENT_PROCESS_GUID)), i);
            kindex_add(&h->ix[IX_PROC_PPID], key_num(field(ev, DH_FIELD_PARENT_PROCESS_ID)), i);
            char cb[64], ib[64];
            base_lower(field(ev, DH_FIELD_PARENT_IMAGE), cb, sizeof cb);
            base_lower(field(ev, DH_FIELD_IMAGE), ib, sizeof ib);
            if (!strcmp(cb, "explorer.exe") && is_shell_like(ib))
                kindex_add(&h->ix[IX_EXPLORER_SHELLS], 1, i);
            break;
        }
        default:
            break;
        }
    }
    for (size_t i = 0; i < IX_COUNT; i++)
        if (h->ix[i].n > 1)
            qsort(h->ix[i].v, h->ix[i].n, sizeof *h->ix[i].v, kpos_cmp);
}

static void host_free(host_ctx *h)
{
    for (size_t i = 0; i < IX_COUNT; i++)
        free(h->ix[i].v);
    free(h->local.v);
    free(h->local_v4.v);
    free(h->local_v6.v);
}

/* Positions of the host's items in the time window [lo, hi]. */
static void window(const host_ctx *h, int64_t lo, int64_t hi, size_t *a, size_t *b)
{
    *a = time_pos(h->v, h->n, lo, 0);
    *b = time_pos(h->v, h->n, hi, 1);
}

/* Wire records of this chain: from the source address to the target (its address, when
 * known; else the one address the source's activations went to), within the window. */
static int wire_evidence(fbuild *b, const host_ctx *h, dh_str src_ip, int64_t t0, int64_t W,
                         int64_t S)
{
    const pass_ctx *ps = h->pass;
    poslist from = {0};
    kindex_find(&ps->wire_by_src, key_str(src_ip), time_pos(ps->wire, ps->nwire, t0 - W - S, 0),
                time_pos(ps->wire, ps->nwire, t0 + W + S, 1), &from);
    dh_str target = b->f.target_ip;
    dh_str only = none;
    int ambiguous = 0;
    if (!target.len) {
        for (size_t k = 0; k < from.n; k++) {
            const dh_event *ev = ps->wire[from.v[k]]->ev;
            if (!is_wire_activation(ev) || dh_event_time(ev) > t0 + S ||
                !str_ieq(field(ev, DH_FIELD_SOURCE_IP), src_ip))
                continue;
            dh_str d = field(ev, DH_FIELD_DESTINATION_IP);
            if (only.len && !str_ieq(only, d))
                ambiguous = 1;
            only = d;
        }
        if (ambiguous || !only.len) {
            free(from.v);
            return 0;
        }
        target = only;
    }
    int activation = 0;
    for (size_t k = 0; k < from.n; k++) {
        item *it = ps->wire[from.v[k]];
        const dh_event *ev = it->ev;
        if (it->dup)
            continue;
        dh_str sip = field(ev, DH_FIELD_SOURCE_IP), dip = field(ev, DH_FIELD_DESTINATION_IP);
        if (!str_ieq(sip, src_ip) || !(str_ieq(dip, target) || is_local(h, dip)))
            continue;
        /* the endpoint mapper, the activation, then the COM server's dynamic port */
        uint64_t port = 0;
        int rpc = parse_num(field(ev, DH_FIELD_DESTINATION_PORT), &port) &&
                  (port == 135 || port >= 49152);
        if (!rpc && !is_wire_activation(ev))
            continue;
        add_evidence(b, "wire", it);
        activation |= is_wire_activation(ev) && dh_event_time(ev) <= t0 + S;
    }
    free(from.v);
    if (activation && !b->f.target_ip.len)
        b->f.target_ip = target;
    return activation;
}

static int is_child_of(const dh_event *child, const dh_event *parent)
{
    dh_str pg = field(parent, DH_FIELD_PROCESS_GUID),
           cg = field(child, DH_FIELD_PARENT_PROCESS_GUID);
    if (pg.len && cg.len)
        return str_ieq(pg, cg);
    return num_eq(field(child, DH_FIELD_PARENT_PROCESS_ID), field(parent, DH_FIELD_PROCESS_ID)) &&
           str_ieq(dh_event_channel(child), dh_event_channel(parent));
}

static void name_source(host_ctx *h, fbuild *b, dh_str ip, dh_str workstation, int64_t t)
{
    if (workstation.len && !(workstation.len == 1 && workstation.ptr[0] == '-')) {
        b->f.source_host = workstation;
        return;
    }
    const addrs *m = &h->pass->ipmap;
    size_t lo = addrs_lower(m, ip), hi = lo;
    while (hi < m->n && ci_cmp(m->v[hi].ip, ip) == 0)
        hi++;
    const addr *best = hi > lo ? nearest(m->v + lo, hi - lo, t) : NULL;
    if (best)
        b->f.source_host = best->host;
}

/* The network logon of an anchor: by its logon id, the latest in the window. */
static item *logon_of(host_ctx *h, dh_str logon, int64_t t0, int64_t W, int64_t S)
{
    if (!logon.len)
        return NULL;
    size_t a, z;
    window(h, t0 - W - S, t0 + S, &a, &z);
    poslist p = {0};
    kindex_find(&h->ix[IX_LOGON_ID], key_num(logon), a, z, &p);
    item *best = NULL;
    for (size_t k = 0; k < p.n; k++) {
        item *it = h->v[p.v[k]];
        if (num_eq(field(it->ev, DH_FIELD_LOGON_ID), logon) &&
            (!best || dh_event_time(it->ev) > dh_event_time(best->ev)))
            best = it;
    }
    free(p.v);
    return best;
}

static void chain_from(host_ctx *h, size_t ai, const char *object, const char *clsid, int explorer)
{
    dh_correlator *c = h->c;
    item *a = h->v[ai];
    const dh_event *aev = a->ev;
    int64_t t0 = dh_event_time(aev), W = c->o.window_s * TICKS, S = c->o.skew_s * TICKS;
    fbuild *b = fbuild_new(c);
    if (!b)
        return;
    if (!h->indexed)
        build_indexes(h);
    b->f.kind = DH_FINDING_SIGNAL;
    b->f.severity = DH_LEVEL_MEDIUM;
    b->f.com_object = cstr(object);
    b->f.clsid = cstr(clsid);
    b->f.target_host = val(b, "target_host", h->longest_host, dh_event_host(h->longest_host));
    b->f.target_ip = local_ip_near(h, t0);
    int pieces = 1, remote = 0;
    add_evidence(b, explorer ? "network" : "activation", a);
    add_reason(b, explorer ? "explorer.exe accepted an inbound connection from another host"
                           : "COM server started by the DCOM launcher with -Embedding");
    dh_str src_ip = none, workstation = none;
    dh_str logon = field(aev, DH_FIELD_LOGON_ID);
    const dh_event *server = explorer ? NULL : aev;
    poslist p = {0};
    size_t wa, wz;

    /* The network logon, by logon id. */
    item *best = explorer ? NULL : logon_of(h, logon, t0, W, S);
    if (best) {
        add_evidence(b, "logon", best);
        src_ip = field(best->ev, DH_FIELD_SOURCE_IP);
        workstation = field(best->ev, DH_FIELD_SOURCE_HOSTNAME);
        b->f.user = account(b, best->ev, DH_FIELD_TARGET_DOMAIN_NAME, DH_FIELD_TARGET_USER_NAME);
        b->f.logon_id = val(b, "logon_id", best->ev, field(best->ev, DH_FIELD_LOGON_ID));
        if (!is_loopback(src_ip)) {
            remote = 1;
            pieces++;
            add_reason(b, "network logon (type 3) from another host, linked by logon id");
        }
    }
    /* Inbound connections: to the server process (or the explorer connection itself)
     * first, which give the source when no logon did; then the endpoint-mapper (135)
     * connections from that same source. Outbound connections are not indexed. */
    window(h, t0 - S, t0 + W + S, &wa, &wz);
    if (server) {
        /* by process GUID (Sysmon); where either side has none (Defender, Security
         * 4688/5156), by process id from the server's start on */
        dh_str sg = field(server, DH_FIELD_PROCESS_GUID), spid = field(server, DH_FIELD_PROCESS_ID);
        kindex_find(&h->ix[IX_CONN_GUID], key_str(sg), wa, wz, &p);
        kindex_find(&h->ix[IX_CONN_PID], key_num(spid), wa, wz, &p);
        poslist_settle(&p);
        for (size_t k = 0; k < p.n; k++) {
            item *it = h->v[p.v[k]];
            dh_str ng = field(it->ev, DH_FIELD_PROCESS_GUID);
            int to_server = sg.len && ng.len ? str_ieq(ng, sg)
                                             : dh_event_time(it->ev) >= t0 &&
                                                   num_eq(field(it->ev, DH_FIELD_PROCESS_ID), spid);
            dh_str r = remote_ip(h, it->ev);
            if (!to_server || !r.len || is_loopback(r) || (src_ip.len && !str_ieq(r, src_ip)))
                continue;
            add_evidence(b, "network", it);
            if (!src_ip.len)
                src_ip = r;
            remote = 1;
            pieces++;
            add_reason(b, "inbound connection to the COM server process from another host");
        }
    } else {
        /* explorer: the anchor, and the same connection as another log saw it (Sysmon 3
         * and Security 5156 both record it) */
        dh_str r = remote_ip(h, aev);
        if (!r.len) {
            dh_str sa = field(aev, DH_FIELD_SOURCE_IP), da = field(aev, DH_FIELD_DESTINATION_IP);
            r = is_loopback(sa) ? da : sa;
        }
        if (r.len && !is_loopback(r)) {
            src_ip = r;
            add_evidence(b, "network", a);
            remote = 1;
            size_t ea, ez;
            window(h, t0 - S, t0 + 60 * TICKS + S, &ea, &ez);
            kindex_find(&h->ix[IX_CONN_REMOTE], key_str(src_ip), ai + 1 > ea ? ai + 1 : ea, ez, &p);
            for (size_t k = 0; k < p.n; k++) {
                item *it = h->v[p.v[k]];
                char ib[64];
                base_lower(field(it->ev, DH_FIELD_IMAGE), ib, sizeof ib);
                if (!strcmp(ib, "explorer.exe") && str_ieq(remote_ip(h, it->ev), src_ip))
                    add_evidence(b, "network", it);
            }
        }
    }
    if (src_ip.len) {
        p.n = 0;
        kindex_find(&h->ix[IX_CONN_REMOTE], key_str(src_ip), wa, wz, &p);
        for (size_t k = 0; k < p.n; k++) {
            item *it = h->v[p.v[k]];
            dh_str sp = field(it->ev, DH_FIELD_SOURCE_PORT),
                   dp = field(it->ev, DH_FIELD_DESTINATION_PORT);
            int rpc = (sp.len == 3 && !memcmp(sp.ptr, "135", 3)) ||
                      (dp.len == 3 && !memcmp(dp.ptr, "135", 3));
            if (it->mark == b->gen || !rpc || !str_ieq(remote_ip(h, it->ev), src_ip))
                continue; /* to the server: taken above */
            if (server) {
                dh_str sg = field(server, DH_FIELD_PROCESS_GUID),
                       ng = field(it->ev, DH_FIELD_PROCESS_GUID);
                if (sg.len && ng.len
                        ? str_ieq(ng, sg)
                        : dh_event_time(it->ev) >= t0 && num_eq(field(it->ev, DH_FIELD_PROCESS_ID),
                                                                field(server, DH_FIELD_PROCESS_ID)))
                    continue;
            } else {
                char ib[64];
                base_lower(field(it->ev, DH_FIELD_IMAGE), ib, sizeof ib);
                if (p.v[k] == ai || (!strcmp(ib, "explorer.exe") &&
                                     within(dh_event_time(it->ev), t0 - S, t0 + 60 * TICKS + S)))
                    continue;
            }
            add_evidence(b, "network", it);
            add_reason(b, "inbound RPC endpoint-mapper connection (port 135) from the same host");
        }
    }
    /* ShellWindows / ShellBrowserWindow: the attacker's network logons from that source
     * (the explorer child runs as the desktop user, so no logon id links them). */
    if (explorer && src_ip.len) {
        p.n = 0;
        window(h, t0 - W - S, t0 + S, &wa, &wz);
        kindex_find(&h->ix[IX_LOGON_SRC], key_str(src_ip), wa, wz, &p);
        for (size_t k = 0; k < p.n; k++) {
            item *it = h->v[p.v[k]];
            if (!str_ieq(field(it->ev, DH_FIELD_SOURCE_IP), src_ip))
                continue;
            add_evidence(b, "logon", it);
            if (!b->f.user.len) {
                b->f.user =
                    account(b, it->ev, DH_FIELD_TARGET_DOMAIN_NAME, DH_FIELD_TARGET_USER_NAME);
                b->f.logon_id = val(b, "logon_id", it->ev, field(it->ev, DH_FIELD_LOGON_ID));
                workstation = field(it->ev, DH_FIELD_SOURCE_HOSTNAME);
                pieces++;
                add_reason(b, "network logon (type 3) from the same source just before");
            }
        }
    }
    /* Children and grandchildren: the server's (or, for explorer, the shells it started
     * around the connection: explorer starts everything the user clicks), and theirs. */
    const dh_event **parents = NULL;
    size_t np = 0, pcap = 0;
    if (server && grow(&parents, &pcap, np, sizeof *parents))
        parents[np++] = server;
    if (!server) {
        dh_str eg = field(aev, DH_FIELD_PROCESS_GUID);
        p.n = 0;
        window(h, t0 - S, t0 + 60 * TICKS + S, &wa, &wz);
        kindex_find(&h->ix[IX_EXPLORER_SHELLS], 1, wa, wz, &p);
        for (size_t k = 0; k < p.n; k++) {
            item *it = h->v[p.v[k]];
            dh_str pg = field(it->ev, DH_FIELD_PARENT_PROCESS_GUID);
            if (eg.len && pg.len && !str_ieq(eg, pg))
                continue;
            add_evidence(b, "child", it);
            add_command(b, it->ev);
            if (grow(&parents, &pcap, np, sizeof *parents))
                parents[np++] = it->ev;
        }
    }
    size_t first_gen = np;
    window(h, t0 - S, t0 + W + S, &wa, &wz);
    for (size_t q = 0; q < np; q++) {
        p.n = 0;
        kindex_find(&h->ix[IX_PROC_PGUID], key_str(field(parents[q], DH_FIELD_PROCESS_GUID)), wa,
                    wz, &p);
        kindex_find(&h->ix[IX_PROC_PPID], key_num(field(parents[q], DH_FIELD_PROCESS_ID)), wa, wz,
                    &p);
        poslist_settle(&p);
        for (size_t k = 0; k < p.n; k++) {
            item *it = h->v[p.v[k]];
            if (it->ev == parents[q] || !is_child_of(it->ev, parents[q]))
                continue;
            if (it->mark != b->gen) /* a child of two parents is one child */
                add_command(b, it->ev);
            add_evidence(b, "child", it);
            if (q < first_gen && grow(&parents, &pcap, np, sizeof *parents))
                parents[np++] = it->ev; /* one more generation */
        }
    }
    free(parents);
    free(p.v);
    if (b->f.ncommands) {
        pieces++;
        add_reason(b, "the COM server started processes (commands run)");
    }
    if (!b->f.user.len) {
        b->f.user = val(b, "user", aev, field(aev, DH_FIELD_USER));
        if (!b->f.logon_id.len)
            b->f.logon_id = val(b, "logon_id", aev, logon);
    }
    b->f.source_ip = src_ip;
    if (src_ip.len)
        name_source(h, b, src_ip, workstation, t0);
    /* A script block on another host that names this target (by its bare host name or
     * its address) just before: that host is the source. */
    {
        const pass_ctx *ps = h->pass;
        dh_str th = dh_event_host(aev);
        dh_str name = th;
        name.len = 0;
        while (name.len < th.len && th.ptr[name.len] != '.')
            name.len++;
        dh_str tip = b->f.target_ip;
        size_t sa = time_pos(ps->scripts, ps->nscripts, t0 - W - S, 0),
               sz = time_pos(ps->scripts, ps->nscripts, t0 + S, 1);
        for (size_t i = sa; i < sz; i++) {
            item *it = ps->scripts[i];
            if (it->dup || str_ieq(bare_host(dh_event_host(it->ev)), bare_host(th)))
                continue;
            dh_str text = field(it->ev, DH_FIELD_SCRIPT_BLOCK_TEXT);
            if (!((name.len >= 3 && contains_ci_n(text, name)) ||
                  (tip.len && contains_ci_n(text, tip))))
                continue;
            add_evidence(b, "script", it);
            if (!b->f.source_host.len)
                b->f.source_host = val(b, "source_host", it->ev, dh_event_host(it->ev));
            add_reason(b, "a script block on the source host names the target");
            pieces++;
            break;
        }
    }
    if (src_ip.len && wire_evidence(b, h, src_ip, t0, W, S)) {
        pieces++;
        add_reason(b, "the network sensor saw the source ask the target's DCOM activator to "
                      "create the object (RPC to port 135)");
    }
    for (size_t k = 0; k < b->f.nrules; k++)
        if (dh_rule_level(b->rules[k]) >= DH_LEVEL_HIGH) {
            pieces++;
            add_reason(b, "a high-level rule matched an event of the chain");
            break;
        }
    if (!remote && !b->f.nrules) {
        /* A local COM server with nothing unusual about it: the everyday -Embedding
         * servers (OneDrive, Office helpers) of an interactive session. */
        fbuild_free(b);
        return;
    }
    if (remote) {
        b->f.kind = DH_FINDING_LATERAL_MOVEMENT;
        if (b->f.severity < DH_LEVEL_HIGH)
            b->f.severity = DH_LEVEL_HIGH;
    } else {
        add_reason(b, "no remote logon or connection found behind it: a local activation, or "
                      "telemetry of that side is missing");
    }
    b->f.confidence = pieces >= 3 ? 3 : pieces == 2 ? 2 : (remote ? 2 : 1);
    make_id(b, dh_finding_kind_name(b->f.kind), aev, NULL);
    finish_build(b);
    h->fn(h->fctx, &b->f);
    fbuild_free(b);
}

static void run_host(host_ctx *h, int64_t horizon)
{
    for (size_t i = 0; i < h->n; i++) {
        item *it = h->v[i];
        if (it->dup || it->checked || dh_event_time(it->ev) >= horizon)
            continue;
        it->checked = 1;
        char base[64];
        if (is_activation(it->ev, base, sizeof base)) {
            const char *object = "", *clsid = "";
            for (size_t k = 0; k < sizeof servers / sizeof servers[0]; k++)
                if (!strcmp(base, servers[k].image)) {
                    object = servers[k].object;
                    clsid = servers[k].clsid;
                }
            chain_from(h, i, object, clsid, 0);
        } else if (dh_event_kind(it->ev) == DH_KIND_NETWORK_CONNECTION && !it->used) {
            char ib[64];
            base_lower(field(it->ev, DH_FIELD_IMAGE), ib, sizeof ib);
            if (!strcmp(ib, "explorer.exe") && !is_true(field(it->ev, DH_FIELD_INITIATED))) {
                dh_str r = remote_ip(h, it->ev);
                if (r.len)
                    chain_from(h, i, "ShellWindows", "{9BA05972-F6A8-11CF-A442-00A0C90A8F39}", 1);
            }
        }
    }
}

/* The host's own addresses, from its connections: the end with a well-known server port,
 * or the source of an outbound connection. One entry per address and 12 hours. */
static int learn_all(host_ctx *h)
{
    for (size_t i = 0; i < h->n; i++) {
        const dh_event *ev = h->v[i]->ev;
        if (dh_event_host(ev).len > dh_event_host(h->longest_host).len)
            h->longest_host = ev;
        if (dh_event_kind(ev) != DH_KIND_NETWORK_CONNECTION || is_wire(ev))
            continue;
        dh_str s = field(ev, DH_FIELD_SOURCE_IP), d = field(ev, DH_FIELD_DESTINATION_IP);
        dh_str sp = field(ev, DH_FIELD_SOURCE_PORT), dp = field(ev, DH_FIELD_DESTINATION_PORT);
        dh_str ip = none;
        if (is_true(field(ev, DH_FIELD_INITIATED))) {
            if (well_known_port(dp) || !well_known_port(sp))
                ip = s;
        } else if (well_known_port(sp) && !well_known_port(dp)) {
            ip = s;
        } else if (well_known_port(dp) && !well_known_port(sp)) {
            ip = d;
        }
        if (!is_loopback(ip) && !addrs_push(&h->local, (addr){ip, dh_event_time(ev), none}))
            return -1;
    }
    if (h->local.n > 1)
        qsort(h->local.v, h->local.n, sizeof *h->local.v, addr_cmp);
    size_t k = 0;
    for (size_t i = 0; i < h->local.n; i++) {
        addr x = h->local.v[i];
        if (k && !ci_cmp(h->local.v[k - 1].ip, x.ip) &&
            h->local.v[k - 1].t / IP_TTL == x.t / IP_TTL)
            continue;
        h->local.v[k++] = x;
        int v4 = memchr(x.ip.ptr, ':', x.ip.len) == NULL;
        if (!addrs_push(v4 ? &h->local_v4 : &h->local_v6, x))
            return -1;
    }
    h->local.n = k;
    if (h->local_v4.n > 1)
        qsort(h->local_v4.v, h->local_v4.n, sizeof *h->local_v4.v, addr_time_cmp);
    if (h->local_v6.n > 1)
        qsort(h->local_v6.v, h->local_v6.n, sizeof *h->local_v6.v, addr_time_cmp);
    return 0;
}

static int time_cmp(const void *pa, const void *pb);

/* The pass's shared lists: every host's addresses, script blocks and sensor records. */
static int pass_build(pass_ctx *ps, dh_correlator *c, host_ctx *hosts, size_t nh)
{
    for (size_t k = 0; k < nh; k++)
        for (size_t i = 0; i < hosts[k].local.n; i++) {
            addr x = hosts[k].local.v[i];
            x.host = dh_event_host(hosts[k].v[0]->ev);
            if (!addrs_push(&ps->ipmap, x))
                return -1;
        }
    if (ps->ipmap.n > 1)
        qsort(ps->ipmap.v, ps->ipmap.n, sizeof *ps->ipmap.v, addr_cmp);
    size_t ns = 0, nw = 0;
    for (size_t i = 0; i < c->n; i++) {
        ns += dh_event_kind(c->v[i]->ev) == DH_KIND_PS_SCRIPT;
        nw += (size_t)is_wire(c->v[i]->ev);
    }
    ps->scripts = malloc((ns ? ns : 1) * sizeof *ps->scripts);
    ps->wire = malloc((nw ? nw : 1) * sizeof *ps->wire);
    if (!ps->scripts || !ps->wire)
        return -1;
    for (size_t i = 0; i < c->n; i++) {
        if (dh_event_kind(c->v[i]->ev) == DH_KIND_PS_SCRIPT)
            ps->scripts[ps->nscripts++] = c->v[i];
        if (is_wire(c->v[i]->ev))
            ps->wire[ps->nwire++] = c->v[i];
    }
    if (ps->nscripts > 1)
        qsort(ps->scripts, ps->nscripts, sizeof *ps->scripts, time_cmp);
    if (ps->nwire > 1)
        qsort(ps->wire, ps->nwire, sizeof *ps->wire, time_cmp);
    for (size_t i = 0; i < ps->nwire; i++)
        kindex_add(&ps->wire_by_src, key_str(field(ps->wire[i]->ev, DH_FIELD_SOURCE_IP)), i);
    if (ps->wire_by_src.n > 1)
        qsort(ps->wire_by_src.v, ps->wire_by_src.n, sizeof *ps->wire_by_src.v, kpos_cmp);
    return 0;
}

static void pass_free(pass_ctx *ps)
{
    free(ps->ipmap.v);
    free(ps->scripts);
    free(ps->wire);
    free(ps->wire_by_src.v);
}

static void attempts(host_ctx *h, int64_t settled)
{
    for (size_t i = 0; i < h->n; i++) {
        item *it = h->v[i];
        if (it->dup || it->used || it->emitted || dh_event_time(it->ev) >= settled ||
            dh_event_kind(it->ev) != DH_KIND_DCOM_ERROR)
            continue;
        it->emitted = 1;
        uint32_t id = dh_event_id(it->ev);
        dh_str src = field(it->ev, DH_FIELD_SOURCE_IP);
        if (id == 10028) {
            fbuild *b = fbuild_new(h->c);
            if (!b)
                return;
            b->f.kind = DH_FINDING_SOURCE_ACTIVITY;
            b->f.severity = DH_LEVEL_MEDIUM;
            b->f.confidence = 2;
            b->f.clsid = val(b, "clsid", it->ev, field(it->ev, DH_FIELD_CLSID));
            b->f.target_host = val(b, "target_host", it->ev, field(it->ev, DH_FIELD_REMOTE_HOST));
            b->f.source_host = val(b, "source_host", it->ev, dh_event_host(it->ev));
            b->f.source_ip = local_ip_near(h, dh_event_time(it->ev));
            add_evidence(b, "failure", it);
            add_reason(b, "DCOM could not reach the named computer (System 10028 on the source)");
            make_id(b, "source_activity", it->ev, NULL);
            finish_build(b);
            h->fn(h->fctx, &b->f);
            fbuild_free(b);
            continue;
        }
        if (!src.len)
            continue; /* local (LRPC) noise */
        fbuild *b = fbuild_new(h->c);
        if (!b)
            return;
        b->f.kind = DH_FINDING_ATTEMPT;
        b->f.severity = DH_LEVEL_MEDIUM;
        b->f.confidence = 2;
        dh_str clsid = field(it->ev, DH_FIELD_CLSID);
        for (size_t k = 0; k < sizeof servers / sizeof servers[0]; k++)
            if (clsid.len == strlen(servers[k].clsid) &&
                !strncasecmp(clsid.ptr, servers[k].clsid, clsid.len))
                b->f.com_object = cstr(servers[k].object);
        if (clsid.len == 38 &&
            !strncasecmp(clsid.ptr, "{9BA05972-F6A8-11CF-A442-00A0C90A8F39}", 38))
            b->f.com_object = cstr("ShellWindows");
        if (clsid.len == 38 &&
            !strncasecmp(clsid.ptr, "{C08AFD90-F2A1-11D1-8455-00A0C91F3880}", 38))
            b->f.com_object = cstr("ShellBrowserWindow");
        b->f.clsid = val(b, "clsid", it->ev, clsid);
        b->f.target_host = val(b, "target_host", it->ev, dh_event_host(it->ev));
        b->f.target_ip = local_ip_near(h, dh_event_time(it->ev));
        b->f.source_ip = val(b, "source_ip", it->ev, src);
        b->f.user = account(b, it->ev, DH_FIELD_TARGET_DOMAIN_NAME, DH_FIELD_USER);
        add_evidence(b, "failure", it);
        add_reason(b, "remote DCOM launch or activation refused (System 10016 with a network "
                      "address)");
        name_source(h, b, src, (dh_str){"", 0}, dh_event_time(it->ev));
        if (b->f.com_object.len) {
            b->f.confidence = 3;
            add_reason(b, "the class is one used for lateral movement");
        }
        make_id(b, "attempt", it->ev, NULL);
        finish_build(b);
        h->fn(h->fctx, &b->f);
        fbuild_free(b);
    }
}

static void signals(host_ctx *h, int64_t settled)
{
    for (size_t i = 0; i < h->n; i++) {
        item *it = h->v[i];
        if (it->dup || it->used || it->emitted || !it->nrules || dh_event_time(it->ev) >= settled)
            continue;
        it->emitted = 1;
        size_t alone = 0;
        for (size_t k = 0; k < it->nrules; k++)
            alone += (size_t)dh_rule_reported_alone(it->rules[k]);
        if (!alone) {
            it->emitted = 1;
            continue; /* only correlation rules report these */
        }
        fbuild *b = fbuild_new(h->c);
        if (!b)
            return;
        int script = dh_event_kind(it->ev) == DH_KIND_PS_SCRIPT;
        b->f.kind = script ? DH_FINDING_SOURCE_ACTIVITY : DH_FINDING_SIGNAL;
        b->f.severity = DH_LEVEL_INFORMATIONAL;
        b->f.confidence = 1;
        if (script)
            b->f.source_host = val(b, "source_host", it->ev, dh_event_host(it->ev));
        else
            b->f.target_host = val(b, "target_host", it->ev, dh_event_host(it->ev));
        b->f.user = val(b, "user", it->ev, field(it->ev, DH_FIELD_USER));
        b->f.logon_id = val(b, "logon_id", it->ev, field(it->ev, DH_FIELD_LOGON_ID));
        add_evidence(b, script ? "script" : "detection", it);
        if (dh_event_kind(it->ev) == DH_KIND_PROCESS_CREATION)
            add_command(b, it->ev);
        add_reason(b, script ? "a script block on this host calls DCOM objects of another host"
                             : "a rule matched this event alone; no DCOM chain explains it");
        make_id(b, dh_finding_kind_name(b->f.kind), it->ev, NULL);
        finish_build(b);
        h->fn(h->fctx, &b->f);
        fbuild_free(b);
    }
}

/* Duplicates (the same record read twice) count once: they sort next to each other. */
static void mark_duplicates(host_ctx *h)
{
    for (size_t i = 1; i < h->n; i++)
        if (!h->v[i]->dup && same_record(h->v[i - 1]->ev, h->v[i]->ev))
            h->v[i]->dup = 1;
}

/* The Sigma correlation engine holds items it may still show (sigma_corr.h): they are not
 * freed while it does. */
static void sc_hold(void *ctx, void *p)
{
    (void)ctx;
    ((item *)p)->pins++;
}

static void sc_release(void *ctx, void *p)
{
    (void)ctx;
    ((item *)p)->pins--;
}

static const dh_event *sc_event(void *ctx, void *p)
{
    (void)ctx;
    return ((item *)p)->ev;
}

/* A Sigma correlation signal as a finding: the correlation, the correlations it chains and
 * the base rules of its events; its identity is the correlation's (dh_rule_ref), its group
 * and its first time, so two correlations firing on the same events stay two findings. */
static void corr_fired(void *ctx, const sc_signal *s)
{
    dh_correlator *c = ctx;
    if (!c->fn)
        return;
    fbuild *b = fbuild_new(c);
    if (!b)
        return;
    const dh_event *last = s->nitems ? ((item *)s->items[s->nitems - 1])->ev : NULL;
    b->f.kind = DH_FINDING_SIGNAL;
    b->f.severity = dh_rule_level(s->corr);
    b->f.confidence = 2;
    if (last) {
        b->f.target_host = val(b, "target_host", last, dh_event_host(last));
        b->f.source_ip = val(b, "source_ip", last, field(last, DH_FIELD_SOURCE_IP));
        b->f.user = val(b, "user", last, field(last, DH_FIELD_USER));
        b->f.logon_id = val(b, "logon_id", last, field(last, DH_FIELD_LOGON_ID));
    }
    add_rule(b, s->corr);
    for (size_t i = 0; i < s->ninner; i++)
        add_rule(b, s->inner[i]);
    for (size_t i = 0; i < s->nitems; i++) {
        item *it = s->items[i];
        /* A correlation does not explain its events away: a base rule with generate: true
         * is a stand-alone rule too, and its matches are reported on their own. */
        int used = it->used;
        add_evidence(b, "detection", it);
        it->used = used;
        if (dh_event_kind(it->ev) == DH_KIND_PROCESS_CREATION)
            add_command(b, it->ev);
    }
    if (dh_rule_level(s->corr) > b->f.severity)
        b->f.severity = dh_rule_level(s->corr);
    b->f.first_seen = s->first;
    b->f.last_seen = s->last;
    add_reason(b, keep_text(b, s->why, strlen(s->why)));
    if (*s->group) {
        char g[512];
        int n = snprintf(g, sizeof g, "grouped by %s", s->group);
        add_reason(b, keep_text(b, g, n < 0 ? 0 : (size_t)n < sizeof g ? (size_t)n : sizeof g - 1));
    }
    if (s->nevents > b->f.nevidence) {
        char g[160];
        int n = snprintf(g, sizeof g, "%llu events; %zu shown", (unsigned long long)s->nevents,
                         b->f.nevidence);
        add_reason(b, keep_text(b, g, n < 0 ? 0 : (size_t)n));
    }
    uint64_t h = 1469598103934665603ULL;
    const char *ref = dh_rule_ref(s->corr);
    for (const char *p = "correlation"; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (size_t i = 0, n = strlen(ref); i <= n; i++)
        h = (h ^ (unsigned char)ref[i]) * 1099511628211ULL;
    for (size_t i = 0, n = strlen(s->group); i <= n; i++)
        h = (h ^ (unsigned char)s->group[i]) * 1099511628211ULL;
    for (size_t i = 0; i < 8; i++)
        h = (h ^ (unsigned char)((uint64_t)s->first >> (8 * i))) * 1099511628211ULL;
    snprintf(b->f.id, sizeof b->f.id, "%016llx", (unsigned long long)h);
    finish_build(b);
    c->fn(c->fctx, &b->f);
    fbuild_free(b);
}

static int time_cmp(const void *pa, const void *pb)
{
    const item *a = *(item *const *)pa, *b = *(item *const *)pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sigma correlation rules see every kept event that matched a rule, all hosts together,
 * in time order (group-by decides what belongs together). */
static dh_status run_sigma_correlations(dh_correlator *c, int64_t horizon)
{
    if (!c->rs || c->max_span == 0)
        return DH_OK;
    size_t n = 0;
    item **order = malloc((c->n ? c->n : 1) * sizeof *order);
    if (!c->sc) {
        sc_hooks hooks = {corr_fired, sc_hold, sc_release, sc_event, c};
        c->sc = sc_new(c->rs, &hooks);
    }
    sc_engine *e = c->sc;
    if (!order || !e) {
        free(order);
        return DH_ERR_NOMEM;
    }
    for (size_t i = 0; i < c->n; i++)
        if (!c->v[i]->dup && c->v[i]->nrules && !c->v[i]->fed &&
            dh_event_time(c->v[i]->ev) < horizon)
            order[n++] = c->v[i];
    if (n > 1) /* qsort must not be given a null array */
        qsort(order, n, sizeof *order, time_cmp);
    for (size_t i = 0; i < n; i++) {
        order[i]->fed = 1;
        sc_feed(e, order[i], order[i]->ev, order[i]->rules, order[i]->nrules);
    }
    free(order);
    if (horizon > c->sc_upto)
        c->sc_upto = horizon;
    if (horizon == INT64_MAX)
        sc_flush(e); /* the end: every window judged, every open signal fired */
    return DH_OK;
}

/* Finishes what is older than `horizon` (chains whose window has passed), and drops what
 * no later chain or correlation can need. */
static dh_status process(dh_correlator *c, int64_t horizon)
{
    dh_finding_fn fn = c->fn;
    void *ctx = c->fctx;
    int64_t W = c->o.window_s * TICKS, S = c->o.skew_s * TICKS;
    /* Attempts and signals wait until no anchor can still claim them. */
    int64_t settled = horizon == INT64_MAX ? INT64_MAX : horizon - W - S;
    if (c->n > 1) /* qsort must not be given a null array */
        qsort(c->v, c->n, sizeof *c->v, item_cmp);
    /* Every host's items and own addresses (to name the sources of the others). */
    host_ctx *hosts = NULL;
    size_t nh = 0, hcap = 0;
    pass_ctx ps;
    memset(&ps, 0, sizeof ps);
    dh_status st = DH_OK;
    for (size_t i = 0; i < c->n && st == DH_OK;) {
        size_t j = i;
        while (j < c->n && c->v[j]->hostkey == c->v[i]->hostkey &&
               ci_cmp(c->v[i]->host, c->v[j]->host) == 0)
            j++;
        if (!grow(&hosts, &hcap, nh, sizeof *hosts)) {
            st = DH_ERR_NOMEM;
            break;
        }
        host_ctx *h = &hosts[nh++];
        memset(h, 0, sizeof *h);
        h->c = c;
        h->v = &c->v[i];
        h->n = j - i;
        h->longest_host = h->v[0]->ev;
        h->fn = fn;
        h->fctx = ctx;
        h->pass = &ps;
        if (learn_all(h))
            st = DH_ERR_NOMEM;
        mark_duplicates(h);
        i = j;
    }
    if (st == DH_OK && pass_build(&ps, c, hosts, nh))
        st = DH_ERR_NOMEM;
    if (st == DH_OK)
        st = run_sigma_correlations(c, horizon);
    /* Chains first on every host (a chain may claim a script block of another host),
     * then what no chain claimed. */
    for (size_t k = 0; k < nh && st == DH_OK; k++)
        run_host(&hosts[k], horizon);
    for (size_t k = 0; k < nh && st == DH_OK; k++) {
        attempts(&hosts[k], settled);
        signals(&hosts[k], settled);
    }
    for (size_t k = 0; k < nh; k++)
        host_free(&hosts[k]);
    free(hosts);
    pass_free(&ps);
    if (st != DH_OK || horizon == INT64_MAX)
        return st;
    /* Drop what is settled and older than any window reaches. The Sigma correlation
     * engine holds (pins) the events it may still show, for as long as it may, and keeps
     * compact entries of the rest: its timespans do not keep events here. */
    int64_t keep_from = settled - W - S;
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        item *it = c->v[i];
        int64_t t = dh_event_time(it->ev);
        int needs_emit =
            (it->nrules || dh_event_kind(it->ev) == DH_KIND_DCOM_ERROR) && !it->used && !it->dup;
        /* A duplicate (the same record read again) goes at once: its original stays. */
        if (!it->pins &&
            (it->dup || (t < keep_from && it->checked && (!needs_emit || it->emitted) &&
                         (!it->nrules || it->fed || !c->max_span)))) {
            if (is_wire(it->ev))
                c->nwire--;
            dh_event_free(it->ev);
            free(it->rules);
            free(it->undecided);
            free(it);
        } else {
            c->v[k++] = it;
        }
    }
    c->n = k;
    return DH_OK;
}

void dh_correlator_set_sink(dh_correlator *c, dh_finding_fn fn, void *ctx)
{
    c->fn = fn;
    c->fctx = ctx;
}

size_t dh_correlator_peak(const dh_correlator *c)
{
    return c->peak;
}

dh_status dh_correlator_flush(dh_correlator *c)
{
    if (!c->fn)
        return DH_ERR_ARG;
    c->since_flush = 0;
    dh_status st =
        process(c, c->newest - (c->o.window_s + 2 * c->o.skew_s + FLUSH_SLACK_S) * TICKS);
    c->flush_every = c->n > FLUSH_EVERY ? c->n : FLUSH_EVERY;
    return st;
}

dh_status dh_correlator_finish(dh_correlator *c, dh_finding_fn fn, void *ctx)
{
    c->fn = fn;
    c->fctx = ctx;
    if (c->n > c->peak)
        c->peak = c->n;
    return process(c, INT64_MAX);
}
