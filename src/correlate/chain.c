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

#define TICKS        10000000LL /* FILETIME ticks per second */
#define MAX_REASONS  12
#define MAX_COMMANDS 64
#define MAX_EVIDENCE 256
/* Inputs are read in order of their chunks' first record times; events within a chunk
 * span a little time, so the horizon keeps this much slack behind the newest event. */
#define FLUSH_SLACK_S 600

typedef struct item {
    uint64_t hostkey; /* hash of the lowercased host name: sorting compares this first */
    dh_event *ev;
    const dh_rule **rules;
    size_t nrules;
    uint64_t seq;
    int used;
    int dup;
    int checked;   /* looked at as an anchor */
    int emitted;   /* attempt/signal decided */
    int fed;       /* given to the Sigma correlation engine */
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
    size_t since_flush;
    dh_finding_fn fn;
    void *fctx;
    sc_engine *sc;
    int64_t sc_upto;       /* Sigma correlation has been fed everything older than this */
    uint64_t sc_late;      /* events for it taken after that: read out of time order */
    size_t peak;           /* most events held at once */
    size_t nwire;          /* sensor records held */
    uint64_t wire_dropped; /* let go past MAX_WIRE_HELD */
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
    }
    it->seq = c->seq++;
    dh_str h = bare_host(dh_event_host(ev));
    uint64_t k = 1469598103934665603ULL;
    for (size_t i = 0; i < h.len; i++) {
        unsigned char ch = (unsigned char)h.ptr[i];
        k = (k ^ (ch >= 'A' && ch <= 'Z' ? ch + 32u : ch)) * 1099511628211ULL;
    }
    it->hostkey = k;
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
    /* Every so often, finish what the window has passed (only with a sink to report to). */
    if (c->fn && ++c->since_flush >= 16384) {
        c->since_flush = 0;
        return dh_correlator_flush(c);
    }
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

static int host_cmp(const dh_event *a, const dh_event *b)
{
    dh_str x = bare_host(dh_event_host(a)), y = bare_host(dh_event_host(b));
    size_t n = x.len < y.len ? x.len : y.len;
    int r = n ? strncasecmp(x.ptr, y.ptr, n) : 0;
    if (r)
        return r;
    return x.len < y.len ? -1 : x.len > y.len;
}

static int item_cmp(const void *pa, const void *pb)
{
    const item *a = *(item *const *)pa, *b = *(item *const *)pb;
    if (a->hostkey != b->hostkey)
        return a->hostkey < b->hostkey ? -1 : 1;
    int r = host_cmp(a->ev, b->ev);
    if (r)
        return r;
    int64_t ta = dh_event_time(a->ev), tb = dh_event_time(b->ev);
    if (ta != tb)
        return ta < tb ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int same_record(const dh_event *a, const dh_event *b)
{
    return dh_event_record_id(a) == dh_event_record_id(b) && dh_event_id(a) == dh_event_id(b) &&
           dh_event_time(a) == dh_event_time(b) &&
           str_ieq(dh_event_channel(a), dh_event_channel(b));
}

/* ---- finding under construction ------------------------------------------------------ */

typedef struct fbuild {
    dh_finding f;
    const char *reasons[MAX_REASONS];
    const char *commands[MAX_COMMANDS];
    const dh_rule *rules[64];
    dh_evidence ev[MAX_EVIDENCE];
    char strings[12][512];
    int nstr;
    char cmdtext[MAX_COMMANDS][1024];
} fbuild;

static const char *keep(fbuild *b, dh_str s)
{
    if (b->nstr >= 12)
        return "";
    char *d = b->strings[b->nstr++];
    size_t n = s.len < 511 ? s.len : 511;
    memcpy(d, s.ptr, n);
    d[n] = 0;
    return d;
}

static void add_reason(fbuild *b, const char *r)
{
    if (b->f.nreasons < MAX_REASONS)
        b->reasons[b->f.nreasons++] = r;
}

static void add_evidence(fbuild *b, const char *role, item *it)
{
    for (size_t i = 0; i < b->f.nevidence; i++)
        if (b->ev[i].ev == it->ev)
            return;
    if (b->f.nevidence >= MAX_EVIDENCE)
        return;
    b->ev[b->f.nevidence].role = role;
    b->ev[b->f.nevidence].ev = it->ev;
    b->f.nevidence++;
    int64_t t = dh_event_time(it->ev);
    if (!b->f.first_seen || t < b->f.first_seen)
        b->f.first_seen = t;
    if (t > b->f.last_seen)
        b->f.last_seen = t;
    for (size_t k = 0; k < it->nrules; k++) {
        size_t j;
        for (j = 0; j < b->f.nrules; j++)
            if (b->rules[j] == it->rules[k])
                break;
        if (j == b->f.nrules && b->f.nrules < 64)
            b->rules[b->f.nrules++] = it->rules[k];
        if (dh_rule_level(it->rules[k]) > b->f.severity)
            b->f.severity = dh_rule_level(it->rules[k]);
    }
    it->used = 1;
}

static void add_command(fbuild *b, const dh_event *ev)
{
    dh_str cl = field(ev, DH_FIELD_COMMAND_LINE);
    if (!cl.len)
        cl = field(ev, DH_FIELD_IMAGE);
    if (!cl.len || b->f.ncommands >= MAX_COMMANDS)
        return;
    char *d = b->cmdtext[b->f.ncommands];
    size_t n = cl.len < 1023 ? cl.len : 1023;
    memcpy(d, cl.ptr, n);
    d[n] = 0;
    b->commands[b->f.ncommands++] = d;
}

/* FNV-1a 64 over the identity of the chain's anchor. */
static void make_id(fbuild *b, const char *kind, const dh_event *anchor, const char *extra)
{
    uint64_t h = 1469598103934665603ULL;
#define MIX(p, n)                                                                                  \
    for (size_t i_ = 0; i_ < (n); i_++)                                                            \
        h = (h ^ (unsigned char)(((const char *)(p))[i_] | 0x20)) * 1099511628211ULL;
    MIX(kind, strlen(kind));
    dh_str host = dh_event_host(anchor), ch = dh_event_channel(anchor);
    MIX(host.ptr, host.len);
    MIX(ch.ptr, ch.len);
    uint64_t rid = dh_event_record_id(anchor);
    int64_t t = dh_event_time(anchor);
    uint32_t eid = dh_event_id(anchor);
    MIX(&rid, 8);
    MIX(&t, 8);
    MIX(&eid, 4);
    if (extra)
        MIX(extra, strlen(extra));
#undef MIX
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
    qsort(b->ev, b->f.nevidence, sizeof b->ev[0], evidence_cmp);
    b->f.reasons = b->reasons;
    b->f.commands = b->commands;
    b->f.rules = b->rules;
    b->f.evidence = b->ev;
}

/* ---- per host ------------------------------------------------------------------------ */

typedef struct host_ctx {
    dh_correlator *c;
    item **v; /* this host's items, time ordered */
    size_t n;
    dh_str local_ips[64];
    int64_t local_t[64]; /* when the address was seen: host names repeat across captures */
    size_t nlocal;
    dh_finding_fn fn;
    void *fctx;
    /* all hosts' local IPs, for naming sources */
    const struct ipmap *ipmap;
} host_ctx;

typedef struct ipmap {
    dh_str ip[1024];
    dh_str host[1024];
    int64_t t[1024];
    size_t n;
} ipmap;

/* Addresses are tied to hosts only near the time they were seen (12 hours): lab host
 * names and addresses are reused across unrelated captures. */
#define IP_TTL (12LL * 3600 * TICKS)

static int is_local(const host_ctx *h, dh_str ip)
{
    for (size_t i = 0; i < h->nlocal; i++)
        if (str_ieq(h->local_ips[i], ip))
            return 1;
    return 0;
}

static void learn_local(host_ctx *h, dh_str ip, int64_t t)
{
    if (is_loopback(ip) || h->nlocal >= 64)
        return;
    for (size_t i = 0; i < h->nlocal; i++)
        if (str_ieq(h->local_ips[i], ip) && h->local_t[i] / IP_TTL == t / IP_TTL)
            return;
    h->local_t[h->nlocal] = t;
    h->local_ips[h->nlocal++] = ip;
}

/* The host's own address nearest in time to t (IPv4 preferred), or "". */
static dh_str local_ip_near(const host_ctx *h, int64_t t)
{
    dh_str best = {"", 0};
    int64_t bd = IP_TTL + 1;
    int best_v4 = 0;
    for (size_t i = 0; i < h->nlocal; i++) {
        int64_t dd = h->local_t[i] > t ? h->local_t[i] - t : t - h->local_t[i];
        int v4 = memchr(h->local_ips[i].ptr, ':', h->local_ips[i].len) == NULL;
        if (dd > IP_TTL)
            continue;
        if ((v4 && !best_v4) || (v4 == best_v4 && dd < bd)) {
            best = h->local_ips[i];
            bd = dd;
            best_v4 = v4;
        }
    }
    return best;
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
    return (dh_str){"", 0};
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

/* Wire records of this chain: from the source address to the target (its address, when
 * known; else the one address the source's activations went to), within the window. */
static int wire_evidence(dh_correlator *c, fbuild *b, const host_ctx *h, dh_str src_ip, int64_t t0,
                         int64_t W, int64_t S)
{
    dh_str target = {b->f.target_ip, strlen(b->f.target_ip)};
    dh_str only = {"", 0};
    int ambiguous = 0;
    if (!target.len) {
        for (size_t i = 0; i < c->n; i++) {
            const dh_event *ev = c->v[i]->ev;
            if (!is_wire_activation(ev) || !within(dh_event_time(ev), t0 - W - S, t0 + S) ||
                !str_ieq(field(ev, DH_FIELD_SOURCE_IP), src_ip))
                continue;
            dh_str d = field(ev, DH_FIELD_DESTINATION_IP);
            if (only.len && !str_ieq(only, d))
                ambiguous = 1;
            only = d;
        }
        if (ambiguous || !only.len)
            return 0;
        target = only;
    }
    int activation = 0;
    for (size_t i = 0; i < c->n; i++) {
        item *it = c->v[i];
        const dh_event *ev = it->ev;
        if (it->dup || !is_wire(ev) || !within(dh_event_time(ev), t0 - W - S, t0 + W + S))
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
    if (activation && !b->f.target_ip[0])
        b->f.target_ip = keep(b, target);
    return activation;
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
        b->f.source_host = keep(b, workstation);
        return;
    }
    int64_t bd = IP_TTL + 1;
    const dh_str *best = NULL;
    for (size_t i = 0; i < h->ipmap->n; i++) {
        int64_t dd = h->ipmap->t[i] > t ? h->ipmap->t[i] - t : t - h->ipmap->t[i];
        if (str_ieq(h->ipmap->ip[i], ip) && dd <= IP_TTL && dd < bd) {
            bd = dd;
            best = &h->ipmap->host[i];
        }
    }
    if (best)
        b->f.source_host = keep(b, *best);
}

static void chain_from(host_ctx *h, size_t ai, const char *object, const char *clsid, int explorer)
{
    dh_correlator *c = h->c;
    item *a = h->v[ai];
    const dh_event *aev = a->ev;
    int64_t t0 = dh_event_time(aev), W = c->o.window_s * TICKS, S = c->o.skew_s * TICKS;
    fbuild *b = calloc(1, sizeof *b);
    if (!b)
        return;
    b->f.kind = DH_FINDING_SIGNAL;
    b->f.severity = DH_LEVEL_MEDIUM;
    b->f.com_object = object;
    b->f.clsid = clsid;
    {
        dh_str best = dh_event_host(aev);
        for (size_t i = 0; i < h->n; i++)
            if (dh_event_host(h->v[i]->ev).len > best.len)
                best = dh_event_host(h->v[i]->ev);
        b->f.target_host = keep(b, best);
    }
    b->f.target_ip = keep(b, local_ip_near(h, t0));
    b->f.source_host = b->f.source_ip = b->f.user = b->f.logon_id = "";
    int pieces = 1, remote = 0;
    add_evidence(b, explorer ? "network" : "activation", a);
    add_reason(b, explorer ? "explorer.exe accepted an inbound connection from another host"
                           : "COM server started by the DCOM launcher with -Embedding");
    dh_str src_ip = {"", 0}, workstation = {"", 0};
    dh_str logon = field(aev, DH_FIELD_LOGON_ID);
    const dh_event *server = explorer ? NULL : aev;

    /* The network logon: by logon id, else the nearest earlier one. */
    if (!explorer) {
        item *best = NULL;
        int by_id = 0;
        for (size_t i = 0; i < h->n; i++) {
            item *it = h->v[i];
            if (it->dup || dh_event_kind(it->ev) != DH_KIND_LOGON)
                continue;
            int64_t t = dh_event_time(it->ev);
            if (logon.len && num_eq(field(it->ev, DH_FIELD_LOGON_ID), logon) &&
                within(t, t0 - W - S, t0 + S)) {
                if (!by_id || t > dh_event_time(best->ev))
                    best = it;
                by_id = 1;
            }
        }
        if (best) {
            add_evidence(b, "logon", best);
            src_ip = field(best->ev, DH_FIELD_SOURCE_IP);
            workstation = field(best->ev, DH_FIELD_SOURCE_HOSTNAME);
            dh_str dom = field(best->ev, DH_FIELD_TARGET_DOMAIN_NAME),
                   usr = field(best->ev, DH_FIELD_TARGET_USER_NAME);
            char acct[300];
            snprintf(acct, sizeof acct, "%.*s%s%.*s", (int)(dom.len > 140 ? 140 : dom.len), dom.ptr,
                     dom.len ? "\\" : "", (int)(usr.len > 140 ? 140 : usr.len), usr.ptr);
            b->f.user = keep(b, (dh_str){acct, strlen(acct)});
            b->f.logon_id = keep(b, field(best->ev, DH_FIELD_LOGON_ID));
            if (!is_loopback(src_ip)) {
                remote = 1;
                pieces++;
                add_reason(b, "network logon (type 3) from another host, linked by logon id");
            }
        }
    }
    /* Inbound connections: to the server process (or the explorer connection itself)
     * first, which give the source when no logon did; then the endpoint-mapper (135)
     * connections from that same source. Outbound connections never count here. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < h->n; i++) {
            item *it = h->v[i];
            if (it->dup || dh_event_kind(it->ev) != DH_KIND_NETWORK_CONNECTION ||
                is_true(field(it->ev, DH_FIELD_INITIATED)))
                continue;
            int64_t t = dh_event_time(it->ev);
            if (!within(t, t0 - S, t0 + W + S))
                continue;
            dh_str r = remote_ip(h, it->ev);
            if (!r.len && explorer && i == ai) {
                dh_str sa = field(it->ev, DH_FIELD_SOURCE_IP),
                       da = field(it->ev, DH_FIELD_DESTINATION_IP);
                r = is_loopback(sa) ? da : sa;
            }
            if (!r.len || is_loopback(r))
                continue;
            int to_server;
            if (server) {
                /* by process GUID (Sysmon); where either side has none (Defender,
                 * Security 4688/5156), by process id from the server's start on */
                dh_str sg = field(server, DH_FIELD_PROCESS_GUID),
                       ng = field(it->ev, DH_FIELD_PROCESS_GUID);
                to_server = sg.len && ng.len
                                ? str_ieq(ng, sg)
                                : t >= t0 && num_eq(field(it->ev, DH_FIELD_PROCESS_ID),
                                                    field(server, DH_FIELD_PROCESS_ID));
            } else {
                /* explorer: the anchor, and the same connection as another log saw it
                 * (Sysmon 3 and Security 5156 both record it) */
                char ib[64];
                base_lower(field(it->ev, DH_FIELD_IMAGE), ib, sizeof ib);
                to_server =
                    i == ai || (!strcmp(ib, "explorer.exe") && src_ip.len && str_ieq(r, src_ip) &&
                                within(t, t0 - S, t0 + 60 * TICKS + S));
                if (i == ai && !src_ip.len)
                    src_ip = r;
            }
            dh_str sp = field(it->ev, DH_FIELD_SOURCE_PORT),
                   dp = field(it->ev, DH_FIELD_DESTINATION_PORT);
            int rpc = (sp.len == 3 && !memcmp(sp.ptr, "135", 3)) ||
                      (dp.len == 3 && !memcmp(dp.ptr, "135", 3));
            if (pass == 0) {
                if (!to_server || (src_ip.len && !str_ieq(r, src_ip)))
                    continue;
                add_evidence(b, "network", it);
                if (!src_ip.len)
                    src_ip = r;
                remote = 1;
                if (!explorer) {
                    pieces++;
                    add_reason(b, "inbound connection to the COM server process from another host");
                }
            } else {
                if (to_server || !rpc || !src_ip.len || !str_ieq(r, src_ip))
                    continue;
                add_evidence(b, "network", it);
                add_reason(b,
                           "inbound RPC endpoint-mapper connection (port 135) from the same host");
            }
        }
    }
    /* ShellWindows / ShellBrowserWindow: the attacker's network logons from that source
     * (the explorer child runs as the desktop user, so no logon id links them). */
    if (explorer && src_ip.len) {
        for (size_t i = 0; i < h->n; i++) {
            item *it = h->v[i];
            if (it->dup || dh_event_kind(it->ev) != DH_KIND_LOGON ||
                !within(dh_event_time(it->ev), t0 - W - S, t0 + S) ||
                !str_ieq(field(it->ev, DH_FIELD_SOURCE_IP), src_ip))
                continue;
            add_evidence(b, "logon", it);
            if (!b->f.user[0]) {
                dh_str dom = field(it->ev, DH_FIELD_TARGET_DOMAIN_NAME),
                       usr = field(it->ev, DH_FIELD_TARGET_USER_NAME);
                char acct[300];
                snprintf(acct, sizeof acct, "%.*s%s%.*s", (int)(dom.len > 140 ? 140 : dom.len),
                         dom.ptr, dom.len ? "\\" : "", (int)(usr.len > 140 ? 140 : usr.len),
                         usr.ptr);
                b->f.user = keep(b, (dh_str){acct, strlen(acct)});
                b->f.logon_id = keep(b, field(it->ev, DH_FIELD_LOGON_ID));
                workstation = field(it->ev, DH_FIELD_SOURCE_HOSTNAME);
                pieces++;
                add_reason(b, "network logon (type 3) from the same source just before");
            }
        }
    }
    /* Children and grandchildren. */
    const dh_event *parents[32];
    size_t np = 0;
    if (server)
        parents[np++] = server;
    else {
        /* explorer: its children around the connection, shells only (explorer starts
         * everything the user clicks). */
        dh_str eg = field(aev, DH_FIELD_PROCESS_GUID);
        for (size_t i = 0; i < h->n; i++) {
            item *it = h->v[i];
            if (it->dup || dh_event_kind(it->ev) != DH_KIND_PROCESS_CREATION)
                continue;
            char cb[64];
            base_lower(field(it->ev, DH_FIELD_PARENT_IMAGE), cb, sizeof cb);
            char ib[64];
            base_lower(field(it->ev, DH_FIELD_IMAGE), ib, sizeof ib);
            int64_t t = dh_event_time(it->ev);
            if (strcmp(cb, "explorer.exe") || !is_shell_like(ib) ||
                !within(t, t0 - S, t0 + 60 * TICKS + S))
                continue;
            if (eg.len && field(it->ev, DH_FIELD_PARENT_PROCESS_GUID).len &&
                !str_ieq(eg, field(it->ev, DH_FIELD_PARENT_PROCESS_GUID)))
                continue;
            add_evidence(b, "child", it);
            add_command(b, it->ev);
            if (np < 32)
                parents[np++] = it->ev;
        }
    }
    size_t first_gen = np;
    for (size_t p = 0; p < np; p++) {
        for (size_t i = 0; i < h->n; i++) {
            item *it = h->v[i];
            if (it->dup || dh_event_kind(it->ev) != DH_KIND_PROCESS_CREATION ||
                it->ev == parents[p])
                continue;
            int64_t t = dh_event_time(it->ev);
            if (!within(t, t0 - S, t0 + W + S) || !is_child_of(it->ev, parents[p]))
                continue;
            add_evidence(b, "child", it);
            add_command(b, it->ev);
            if (p < first_gen && np < 32)
                parents[np++] = it->ev; /* one more generation */
        }
    }
    if (b->f.ncommands) {
        pieces++;
        add_reason(b, "the COM server started processes (commands run)");
    }
    if (!b->f.user[0]) {
        dh_str u = field(aev, DH_FIELD_USER);
        b->f.user = keep(b, u);
        if (!b->f.logon_id[0])
            b->f.logon_id = keep(b, logon);
    }
    b->f.source_ip = keep(b, src_ip);
    if (src_ip.len)
        name_source(h, b, src_ip, workstation, t0);
    /* A script block on another host that names this target (by its bare host name or
     * its address) just before: that host is the source. */
    {
        dh_str th = dh_event_host(aev);
        size_t bare = 0;
        while (bare < th.len && th.ptr[bare] != '.')
            bare++;
        char name[128], addr[64];
        snprintf(name, sizeof name, "%.*s", (int)(bare < 127 ? bare : 127), th.ptr);
        snprintf(addr, sizeof addr, "%s", b->f.target_ip);
        for (size_t i = 0; i < c->n; i++) {
            item *it = c->v[i];
            if (it->dup || dh_event_kind(it->ev) != DH_KIND_PS_SCRIPT ||
                !within(dh_event_time(it->ev), t0 - W - S, t0 + S) ||
                str_ieq(bare_host(dh_event_host(it->ev)), bare_host(th)))
                continue;
            dh_str text = field(it->ev, DH_FIELD_SCRIPT_BLOCK_TEXT);
            if (!((strlen(name) >= 3 && contains_ci(text, name)) ||
                  (addr[0] && contains_ci(text, addr))))
                continue;
            add_evidence(b, "script", it);
            if (!b->f.source_host[0])
                b->f.source_host = keep(b, dh_event_host(it->ev));
            add_reason(b, "a script block on the source host names the target");
            pieces++;
            break;
        }
    }
    if (src_ip.len && wire_evidence(c, b, h, src_ip, t0, W, S)) {
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
        free(b);
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
    free(b);
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
            fbuild *b = calloc(1, sizeof *b);
            if (!b)
                return;
            b->f.kind = DH_FINDING_SOURCE_ACTIVITY;
            b->f.severity = DH_LEVEL_MEDIUM;
            b->f.confidence = 2;
            b->f.com_object = "";
            b->f.clsid = keep(b, field(it->ev, DH_FIELD_CLSID));
            b->f.target_host = keep(b, field(it->ev, DH_FIELD_REMOTE_HOST));
            b->f.target_ip = "";
            b->f.source_host = keep(b, dh_event_host(it->ev));
            b->f.source_ip = keep(b, local_ip_near(h, dh_event_time(it->ev)));
            b->f.user = "";
            b->f.logon_id = "";
            add_evidence(b, "failure", it);
            add_reason(b, "DCOM could not reach the named computer (System 10028 on the source)");
            make_id(b, "source_activity", it->ev, NULL);
            finish_build(b);
            h->fn(h->fctx, &b->f);
            free(b);
            continue;
        }
        if (!src.len)
            continue; /* local (LRPC) noise */
        fbuild *b = calloc(1, sizeof *b);
        if (!b)
            return;
        b->f.kind = DH_FINDING_ATTEMPT;
        b->f.severity = DH_LEVEL_MEDIUM;
        b->f.confidence = 2;
        dh_str clsid = field(it->ev, DH_FIELD_CLSID);
        b->f.com_object = "";
        for (size_t k = 0; k < sizeof servers / sizeof servers[0]; k++)
            if (clsid.len == strlen(servers[k].clsid) &&
                !strncasecmp(clsid.ptr, servers[k].clsid, clsid.len))
                b->f.com_object = servers[k].object;
        if (clsid.len == 38 &&
            !strncasecmp(clsid.ptr, "{9BA05972-F6A8-11CF-A442-00A0C90A8F39}", 38))
            b->f.com_object = "ShellWindows";
        if (clsid.len == 38 &&
            !strncasecmp(clsid.ptr, "{C08AFD90-F2A1-11D1-8455-00A0C91F3880}", 38))
            b->f.com_object = "ShellBrowserWindow";
        b->f.clsid = keep(b, clsid);
        b->f.target_host = keep(b, dh_event_host(it->ev));
        b->f.target_ip = keep(b, local_ip_near(h, dh_event_time(it->ev)));
        b->f.source_host = "";
        b->f.source_ip = keep(b, src);
        dh_str dom = field(it->ev, DH_FIELD_TARGET_DOMAIN_NAME), usr = field(it->ev, DH_FIELD_USER);
        char acct[300];
        snprintf(acct, sizeof acct, "%.*s%s%.*s", (int)(dom.len > 140 ? 140 : dom.len), dom.ptr,
                 dom.len ? "\\" : "", (int)(usr.len > 140 ? 140 : usr.len), usr.ptr);
        b->f.user = keep(b, (dh_str){acct, strlen(acct)});
        b->f.logon_id = "";
        add_evidence(b, "failure", it);
        add_reason(b, "remote DCOM launch or activation refused (System 10016 with a network "
                      "address)");
        name_source(h, b, src, (dh_str){"", 0}, dh_event_time(it->ev));
        if (b->f.com_object[0]) {
            b->f.confidence = 3;
            add_reason(b, "the class is one used for lateral movement");
        }
        make_id(b, "attempt", it->ev, NULL);
        finish_build(b);
        h->fn(h->fctx, &b->f);
        free(b);
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
        fbuild *b = calloc(1, sizeof *b);
        if (!b)
            return;
        int script = dh_event_kind(it->ev) == DH_KIND_PS_SCRIPT;
        b->f.kind = script ? DH_FINDING_SOURCE_ACTIVITY : DH_FINDING_SIGNAL;
        b->f.severity = DH_LEVEL_INFORMATIONAL;
        b->f.confidence = 1;
        b->f.com_object = b->f.clsid = "";
        b->f.target_host = script ? "" : keep(b, dh_event_host(it->ev));
        b->f.target_ip = "";
        b->f.source_host = script ? keep(b, dh_event_host(it->ev)) : "";
        b->f.source_ip = "";
        b->f.user = keep(b, field(it->ev, DH_FIELD_USER));
        b->f.logon_id = keep(b, field(it->ev, DH_FIELD_LOGON_ID));
        add_evidence(b, script ? "script" : "detection", it);
        if (dh_event_kind(it->ev) == DH_KIND_PROCESS_CREATION)
            add_command(b, it->ev);
        add_reason(b, script ? "a script block on this host calls DCOM objects of another host"
                             : "a rule matched this event alone; no DCOM chain explains it");
        make_id(b, dh_finding_kind_name(b->f.kind), it->ev, NULL);
        finish_build(b);
        h->fn(h->fctx, &b->f);
        free(b);
    }
}

/* Duplicates (the same record read twice) count once. */
static void mark_duplicates(host_ctx *h)
{
    for (size_t i = 0; i < h->n; i++)
        for (size_t j = i + 1; j < h->n && dh_event_time(h->v[j]->ev) == dh_event_time(h->v[i]->ev);
             j++)
            if (!h->v[j]->dup && same_record(h->v[i]->ev, h->v[j]->ev))
                h->v[j]->dup = 1;
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
    fbuild *b = calloc(1, sizeof *b);
    if (!b)
        return;
    const dh_event *last = s->nitems ? ((item *)s->items[s->nitems - 1])->ev : NULL;
    b->f.kind = DH_FINDING_SIGNAL;
    b->f.severity = dh_rule_level(s->corr);
    b->f.confidence = 2;
    b->f.com_object = b->f.clsid = "";
    b->f.target_host = last ? keep(b, dh_event_host(last)) : "";
    b->f.target_ip = b->f.source_host = "";
    b->f.source_ip = last ? keep(b, field(last, DH_FIELD_SOURCE_IP)) : "";
    b->f.user = last ? keep(b, field(last, DH_FIELD_USER)) : "";
    b->f.logon_id = last ? keep(b, field(last, DH_FIELD_LOGON_ID)) : "";
    b->rules[b->f.nrules++] = s->corr;
    for (size_t i = 0; i < s->ninner && b->f.nrules < 64; i++)
        b->rules[b->f.nrules++] = s->inner[i];
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
    add_reason(b, keep(b, (dh_str){s->why, strlen(s->why)}));
    if (*s->group) {
        char g[512];
        int n = snprintf(g, sizeof g, "grouped by %s", s->group);
        add_reason(b, keep(b, (dh_str){g, n < 0                  ? 0
                                          : (size_t)n < sizeof g ? (size_t)n
                                                                 : sizeof g - 1}));
    }
    if (s->nevents > b->f.nevidence) {
        char g[160];
        int n = snprintf(g, sizeof g, "%llu events; %zu shown", (unsigned long long)s->nevents,
                         b->f.nevidence);
        add_reason(b, keep(b, (dh_str){g, n < 0 ? 0 : (size_t)n}));
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
    free(b);
}

static int time_cmp(const void *pa, const void *pb)
{
    const item *a = *(item *const *)pa, *b = *(item *const *)pb;
    int64_t ta = dh_event_time(a->ev), tb = dh_event_time(b->ev);
    if (ta != tb)
        return ta < tb ? -1 : 1;
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

static void run_host(host_ctx *h, int64_t horizon, int64_t settled)
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
    (void)settled;
}

static void learn_all(host_ctx *h)
{
    for (size_t i = 0; i < h->n; i++) {
        const dh_event *ev = h->v[i]->ev;
        if (dh_event_kind(ev) != DH_KIND_NETWORK_CONNECTION || is_wire(ev))
            continue;
        dh_str s = field(ev, DH_FIELD_SOURCE_IP), d = field(ev, DH_FIELD_DESTINATION_IP);
        dh_str sp = field(ev, DH_FIELD_SOURCE_PORT), dp = field(ev, DH_FIELD_DESTINATION_PORT);
        int64_t t = dh_event_time(ev);
        if (is_true(field(ev, DH_FIELD_INITIATED))) {
            if (well_known_port(dp) || !well_known_port(sp))
                learn_local(h, s, t);
        } else if (well_known_port(sp) && !well_known_port(dp)) {
            learn_local(h, s, t);
        } else if (well_known_port(dp) && !well_known_port(sp)) {
            learn_local(h, d, t);
        }
    }
}

typedef struct collected {
    dh_finding_fn fn;
    void *ctx;
} collected;

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
    /* Pass 1: every host's local addresses, to name the sources of the others. */
    ipmap *map = calloc(1, sizeof *map);
    if (!map)
        return DH_ERR_NOMEM;
    host_ctx *hosts = NULL;
    size_t nh = 0;
    for (size_t i = 0; i < c->n;) {
        size_t j = i;
        while (j < c->n && c->v[j]->hostkey == c->v[i]->hostkey &&
               host_cmp(c->v[i]->ev, c->v[j]->ev) == 0)
            j++;
        host_ctx *nhv = realloc(hosts, (nh + 1) * sizeof *hosts);
        if (!nhv) {
            free(hosts);
            free(map);
            return DH_ERR_NOMEM;
        }
        hosts = nhv;
        host_ctx *h = &hosts[nh++];
        memset(h, 0, sizeof *h);
        h->c = c;
        h->v = &c->v[i];
        h->n = j - i;
        h->fn = fn;
        h->fctx = ctx;
        h->ipmap = map;
        learn_all(h);
        for (size_t k = 0; k < h->nlocal && map->n < 1024; k++) {
            map->ip[map->n] = h->local_ips[k];
            map->t[map->n] = h->local_t[k];
            map->host[map->n] = dh_event_host(h->v[0]->ev);
            map->n++;
        }
        i = j;
    }
    for (size_t k = 0; k < nh; k++)
        mark_duplicates(&hosts[k]);
    dh_status st = run_sigma_correlations(c, horizon);
    /* Chains first on every host (a chain may claim a script block of another host),
     * then what no chain claimed. */
    for (size_t k = 0; k < nh && st == DH_OK; k++)
        run_host(&hosts[k], horizon, settled);
    for (size_t k = 0; k < nh && st == DH_OK; k++) {
        attempts(&hosts[k], settled);
        signals(&hosts[k], settled);
    }
    free(hosts);
    free(map);
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
    return process(c, c->newest - (c->o.window_s + 2 * c->o.skew_s + FLUSH_SLACK_S) * TICKS);
}

dh_status dh_correlator_finish(dh_correlator *c, dh_finding_fn fn, void *ctx)
{
    c->fn = fn;
    c->fctx = ctx;
    if (c->n > c->peak)
        c->peak = c->n;
    return process(c, INT64_MAX);
}
