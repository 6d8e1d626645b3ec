/* The DCOM correlator: events in, findings out (docs/findings.md).
 *
 * Events kept for correlation are held as items. A record read twice (two copies of a log,
 * one log in two formats) has one identity and is dropped on arrival. Every so often a
 * pass runs over what is held: entities first (processes merged across sensors, logon
 * sessions, connections: entities.c), then activations and the evidence each claims
 * (activations.c), the source side (source.c), one finding per intrusion with exclusive
 * evidence (assemble.c), confidence and severity (src/findings/score.c). A pass decides
 * what is older than the horizon (the newest event minus the window, twice the skew and a
 * slack: inputs arrive in roughly time order) and emits a group once nothing later can
 * join it; then what no later pass can use is dropped, so memory follows the window, not
 * the input. Sigma correlation rules run beside it, on the same items, in time order
 * (sigma_glue.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "correlate/corr.h"
#include "correlate/wirehold.h"

/* Inputs are read in order of their chunks' first record times; events within a chunk
 * span a little time, so the horizon keeps this much slack behind the newest event. */
#define FLUSH_SLACK_S 600
#define FLUSH_EVERY   16384 /* events between passes, at least */
/* Network sensor records are read before the host logs and held for the findings they join
 * (docs/formats.md). Those ahead of the clock wait on disk (below), so only a window of time
 * that holds this many reaches it; then the oldest half of those no rule matched is let go.
 * A held Zeek record costs about 900 bytes (measured: 43,019 held, +33 MiB peak RSS), so
 * 2^19 of them held 465 MB (a 1.4 GB simulated estate peaked at 939 MiB); 2^17 bound them
 * to about 115 MB. */
#define MAX_WIRE_HELD (1u << 17)
/* Past this many held, sensor records ahead of the clock go to disk (wirehold.h) and come
 * back when the host logs' clock comes within wire_ahead() of them: the records held then
 * follow the window's span of time, not the size of the logs. */
#define WIRE_IN_MEMORY 4096

/* ---- lifecycle --------------------------------------------------------------------------- */

void dh_correlate_opts_init(dh_correlate_opts *o)
{
    o->window_s = 300;
    o->skew_s = 120;
    o->comdb = NULL;
}

dh_status dh_correlator_new(const dh_correlate_opts *o, const dh_ruleset *rs, dh_correlator **out)
{
    if (!out)
        return DH_ERR_ARG;
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
    c->db = c->o.comdb;
    if (!c->db) {
        dh_status st = dh_comdb_new(&c->own_db);
        if (st != DH_OK) {
            free(c);
            return st;
        }
        c->db = c->own_db;
    }
    c->min_held = INT64_MAX;
    c->open_min = INT64_MAX;
    c->flush_every = FLUSH_EVERY;
    c->wire_upto = INT64_MIN;
    *out = c;
    return DH_OK;
}

static void item_free(item *it)
{
    dh_event_free(it->ev);
    free(it->rules);
    free(it->undecided);
    free(it);
}

void dh_correlator_free(dh_correlator *c)
{
    if (!c)
        return;
    sc_free(c->sc); /* releases what it holds before the items go */
    c->sc = NULL;
    for (size_t i = 0; i < c->n; i++)
        item_free(c->v[i]);
    free(c->v);
    free(c->seen);
    wh_free(c->wh);
    dh_comdb_free(c->own_db);
    free(c);
}

/* ---- intake ------------------------------------------------------------------------------ */

static int ends_with_ci(dh_str s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s.len >= n && !strncasecmp(s.ptr + s.len - n, suffix, n);
}

static int base_starts(dh_str path, const char *prefix)
{
    size_t s = 0;
    for (size_t i = 0; i < path.len; i++)
        if (path.ptr[i] == '\\' || path.ptr[i] == '/')
            s = i + 1;
    size_t n = strlen(prefix);
    return path.len - s >= n && !strncmp(path.ptr + s, prefix, n);
}

static int binary_name(dh_str s)
{
    return ends_with_ci(s, ".dll") || ends_with_ci(s, ".xll") || ends_with_ci(s, ".exe") ||
           ends_with_ci(s, ".ocx") || ends_with_ci(s, ".cpl");
}

int dh_correlator_wants(const dh_correlator *c, const dh_event *ev, size_t nmatched)
{
    if (nmatched)
        return 1;
    switch (dh_event_kind(ev)) {
    case DH_KIND_PROCESS_CREATION:
    case DH_KIND_DCOM_ERROR:
    case DH_KIND_SERVICE_INSTALL:
    case DH_KIND_TASK_CREATE:
        return 1;
    case DH_KIND_LOGON: {
        dh_str lt;
        return dh_event_field(ev, DH_FIELD_LOGON_TYPE, &lt) && lt.len == 1 && lt.ptr[0] == '3';
    }
    case DH_KIND_EXPLICIT_LOGON: {
        /* explicit credentials for another computer (the source side) */
        dh_str t = corr_field(ev, DH_FIELD_DESTINATION_HOSTNAME);
        return t.len && !(t.len == 9 && !strncasecmp(t.ptr, "localhost", 9));
    }
    case DH_KIND_NETWORK_CONNECTION: {
        /* Inbound connections (the target side), and outbound ones to the endpoint mapper
         * or to a dynamic RPC port (the source side: they tell which host owns an
         * address). Ordinary outbound traffic goes to low well-known ports. */
        dh_str i, sp, dp;
        int inbound = dh_event_field(ev, DH_FIELD_INITIATED, &i) && !corr_true(i);
        int rpc = (dh_event_field(ev, DH_FIELD_SOURCE_PORT, &sp) && sp.len == 3 &&
                   !memcmp(sp.ptr, "135", 3));
        if (dh_event_field(ev, DH_FIELD_DESTINATION_PORT, &dp)) {
            uint64_t port;
            if ((dp.len == 3 && !memcmp(dp.ptr, "135", 3)) ||
                (corr_num(dp, &port) && port >= 49152 && port <= 65535))
                rpc = 1;
        }
        return inbound || rpc;
    }
    case DH_KIND_RPC_CALL: {
        /* RPC seen on the wire: to the endpoint mapper (the activation) or to a dynamic
         * port (calls on the object). */
        dh_str dp;
        uint64_t port;
        return dh_event_field(ev, DH_FIELD_DESTINATION_PORT, &dp) && corr_num(dp, &port) &&
               (port == 135 || port >= 49152);
    }
    case DH_KIND_PS_SCRIPT:
    case DH_KIND_PS_MODULE: {
        /* code that may activate a COM object on another host */
        dh_str t =
            corr_field(ev, dh_event_kind(ev) == DH_KIND_PS_SCRIPT ? DH_FIELD_SCRIPT_BLOCK_TEXT
                                                                  : DH_FIELD_PAYLOAD);
        return corr_contains(t, "GetTypeFrom") || corr_contains(t, "Invoke-DCOM") ||
               corr_contains(t, "CreateObject") || corr_contains(t, "DcomExec");
    }
    case DH_KIND_IMAGE_LOAD: {
        /* DLLs loaded by COM server processes, unless signed (a planted DLL is not) */
        dh_str sig = corr_field(ev, DH_FIELD_SIGNED);
        return comdb_is_server_image(c->db, corr_field(ev, DH_FIELD_IMAGE)) && !corr_true(sig);
    }
    case DH_KIND_FILE_EVENT: {
        /* binaries written over SMB (by System), and Impacket's output files */
        dh_str f = corr_field(ev, DH_FIELD_TARGET_FILENAME), img = corr_field(ev, DH_FIELD_IMAGE);
        return base_starts(f, "__") ||
               (binary_name(f) && (img.len == 6 && !strncasecmp(img.ptr, "System", 6)));
    }
    case DH_KIND_SHARE_ACCESS: {
        dh_str f = corr_field(ev, DH_FIELD_RELATIVE_TARGET_NAME);
        return base_starts(f, "__") || binary_name(f);
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

/* ---- the set of held identities ---------------------------------------------------------- */

static int seen_insert(dh_correlator *c, uint64_t id)
{
    if ((c->seen_n + 1) * 2 > c->seen_cap) {
        size_t cap = c->seen_cap ? c->seen_cap * 2 : 4096;
        uint64_t *v = calloc(cap, sizeof *v);
        if (!v)
            return -1;
        for (size_t i = 0; i < c->seen_cap; i++) {
            uint64_t k = c->seen[i];
            if (!k)
                continue;
            size_t j = (size_t)(k * 0x9e3779b97f4a7c15ULL >> 20) & (cap - 1);
            while (v[j])
                j = (j + 1) & (cap - 1);
            v[j] = k;
        }
        free(c->seen);
        c->seen = v;
        c->seen_cap = cap;
    }
    size_t j = (size_t)(id * 0x9e3779b97f4a7c15ULL >> 20) & (c->seen_cap - 1);
    while (c->seen[j]) {
        if (c->seen[j] == id)
            return 1;
        j = (j + 1) & (c->seen_cap - 1);
    }
    c->seen[j] = id;
    c->seen_n++;
    return 0;
}

/* The held identities again, after a pass dropped items. */
static int seen_rebuild(dh_correlator *c)
{
    free(c->seen);
    c->seen = NULL;
    c->seen_cap = c->seen_n = 0;
    for (size_t i = 0; i < c->n; i++)
        if (seen_insert(c, c->v[i]->ident) < 0)
            return -1;
    return 0;
}

/* A record's identity: where it came from (host, channel, provider, event id, record id,
 * time) and, for records without a number, what it says. */
static uint64_t identity(const dh_event *ev)
{
    uint64_t h = corr_hash_ci(corr_bare_host(dh_event_host(ev)), CORR_HASH0);
    h = corr_hash_ci(dh_event_channel(ev), h);
    h = corr_hash_ci(dh_event_provider(ev), h);
    uint32_t eid = dh_event_id(ev);
    uint64_t rid = dh_event_record_id(ev);
    int64_t t = dh_event_time(ev);
    h = corr_hash(&eid, sizeof eid, h);
    h = corr_hash(&rid, sizeof rid, h);
    h = corr_hash(&t, sizeof t, h);
    if (!rid || corr_is_wire(ev))
        for (int f = 0; f < DH_FIELD_COUNT; f++) {
            dh_str v;
            if (dh_event_field(ev, (dh_field)f, &v)) {
                h = corr_hash(&f, sizeof f, h);
                h = corr_hash(v.ptr, v.len, h);
            }
        }
    return h | 1;
}

/* A sensor record as an endpoint-mapper anchor: an activation call, or anything to port 135,
 * keyed by its source and destination addresses. */
typedef struct wire_anchor {
    uint64_t pair;
    int64_t t;
} wire_anchor;

static int cmp_anchor(const void *pa, const void *pb)
{
    const wire_anchor *a = pa, *b = pb;
    if (a->pair != b->pair)
        return a->pair < b->pair ? -1 : 1;
    return a->t < b->t ? -1 : a->t > b->t;
}

static uint64_t wire_pair(const dh_event *ev)
{
    return corr_hash_ci(corr_field(ev, DH_FIELD_DESTINATION_IP),
                        corr_hash_ci(corr_field(ev, DH_FIELD_SOURCE_IP), CORR_HASH0));
}

static int wire_to_135(const dh_event *ev)
{
    uint64_t port = 0;
    return corr_num(corr_field(ev, DH_FIELD_DESTINATION_PORT), &port) && port == 135;
}

/* Is a connection of its pair to the endpoint mapper (or an activation call) held within
 * [t - 2(W + S), t + 2S]? A call to a dynamic port is wire evidence only after one. */
static int wire_anchored(const wire_anchor *v, size_t n, uint64_t pair, int64_t t, int64_t W,
                         int64_t S)
{
    size_t lo = 0, hi = n; /* first entry >= (pair, t - 2(W + S)) */
    wire_anchor key = {pair, t - 2 * (W + S)};
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_anchor(&v[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo].pair == pair && v[lo].t <= t + 2 * S;
}

/* Over MAX_WIRE_HELD: lets go of sensor records no rule matched, down to half the cap. First
 * the connections no endpoint-mapper record of their pair comes near (no DCOM activation
 * can claim them), then, if still over, the older half of the rest. Counted (the hunt's
 * summary says how many). */
static dh_status drop_old_wire(dh_correlator *c)
{
    int64_t W = c->o.window_s * TICKS, S = c->o.skew_s * TICKS;
    wire_anchor *anc = malloc(c->nwire * sizeof *anc);
    if (!anc)
        return DH_ERR_NOMEM;
    size_t na = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i]->wire && (wire_to_135(c->v[i]->ev) || corr_wire_activation(c->v[i]->ev)))
            anc[na++] = (wire_anchor){wire_pair(c->v[i]->ev), c->v[i]->t};
    if (na > 1)
        qsort(anc, na, sizeof *anc, cmp_anchor);
    size_t k = 0, target = MAX_WIRE_HELD / 2;
    for (size_t i = 0; i < c->n; i++) {
        item *it = c->v[i];
        if (c->nwire > target && it->wire && !it->nrules && !wire_to_135(it->ev) &&
            !corr_wire_activation(it->ev) &&
            !wire_anchored(anc, na, wire_pair(it->ev), it->t, W, S)) {
            item_free(it);
            c->nwire--;
            c->wire_dropped++;
        } else {
            c->v[k++] = it;
        }
    }
    c->n = k;
    free(anc);
    if (c->nwire > target) {
        int64_t *times = malloc(c->nwire * sizeof *times);
        if (!times)
            return DH_ERR_NOMEM;
        size_t n = 0;
        for (size_t i = 0; i < c->n; i++)
            if (c->v[i]->wire && !c->v[i]->nrules)
                times[n++] = c->v[i]->t;
        if (n > 1)
            qsort(times, n, sizeof *times, cmp_i64);
        int64_t cut = n ? times[n / 2] : INT64_MIN;
        free(times);
        k = 0;
        for (size_t i = 0; i < c->n; i++) {
            item *it = c->v[i];
            if (it->wire && !it->nrules && it->t < cut) {
                item_free(it);
                c->nwire--;
                c->wire_dropped++;
            } else {
                c->v[k++] = it;
            }
        }
        c->n = k;
    }
    return seen_rebuild(c) ? DH_ERR_NOMEM : DH_OK;
}

/* How far ahead of the newest host event a pass may look at sensor records: a pass decides
 * up to its horizon (the newest minus the window, twice the skew and the slack) and joins
 * sensor records within the window and the skew of what it decides; twice that is room. */
static int64_t wire_ahead(const dh_correlator *c)
{
    return (4 * (c->o.window_s + c->o.skew_s) + FLUSH_SLACK_S) * TICKS;
}

/* A sensor record no rule matched, past the first WIRE_IN_MEMORY held and later than what
 * the clock has brought back: it waits on disk. Its identity is checked when it comes back
 * (the set of held identities would otherwise grow with every record put away). */
static int wire_goes_to_disk(const dh_correlator *c, const dh_event *ev)
{
    return c->nwire >= WIRE_IN_MEMORY && corr_is_wire(ev) && dh_event_time(ev) > c->wire_upto;
}

static dh_status wire_spill(dh_correlator *c, dh_event *ev, uint64_t id)
{
    if (!c->wh && !(c->wh = wh_new())) {
        dh_event_free(ev);
        return DH_ERR_NOMEM;
    }
    /* its arrival number now: passes order records of one time by it */
    dh_status st = wh_put(c->wh, dh_event_time(ev), c->seq++, id, ev);
    dh_event_free(ev);
    return st;
}

/* A new item for a record not held yet, with room for it in c->v; NULL when the record is
 * one already held (dropped and counted, *st DH_OK) or memory ran out (*st
 * DH_ERR_NOMEM): the event is freed either way. */
static item *item_new(dh_correlator *c, dh_event *ev, uint64_t id, dh_status *st)
{
    int dup = seen_insert(c, id);
    if (dup) {
        /* the same record read again (two copies of a log): it counts once */
        c->duplicates += dup > 0;
        dh_event_free(ev);
        *st = dup < 0 ? DH_ERR_NOMEM : DH_OK;
        return NULL;
    }
    *st = DH_ERR_NOMEM;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        item **v = realloc(c->v, cap * sizeof *v);
        if (!v) {
            dh_event_free(ev);
            return NULL;
        }
        c->v = v;
        c->cap = cap;
    }
    item *it = calloc(1, sizeof *it);
    if (!it) {
        dh_event_free(ev);
        return NULL;
    }
    it->ev = ev;
    it->ident = id;
    *st = DH_OK;
    return it;
}

/* A record back from disk: held as if it had just been taken (a duplicate of one held is
 * dropped and counted, as on intake). */
static dh_status wire_back(void *ctx, dh_event *ev, int64_t t, uint64_t seq, uint64_t id)
{
    dh_correlator *c = ctx;
    dh_status st;
    item *it = item_new(c, ev, id, &st);
    if (!it)
        return st;
    it->seq = seq;
    it->bare = corr_bare_host(dh_event_host(ev));
    it->hostkey = corr_hash_ci(it->bare, CORR_HASH0);
    it->t = t;
    it->claim = -1;
    it->wire = 1;
    c->v[c->n++] = it;
    if (c->n > c->peak)
        c->peak = c->n;
    if (it->t < c->min_held)
        c->min_held = it->t;
    if (++c->nwire > MAX_WIRE_HELD)
        return drop_old_wire(c);
    return DH_OK;
}

/* Brings back the sensor records of every block on disk whose earliest is at or before
 * upto. */
static dh_status wire_release(dh_correlator *c, int64_t upto)
{
    if (upto > c->wire_upto)
        c->wire_upto = upto;
    return c->wh ? wh_take(c->wh, upto, wire_back, c) : DH_OK;
}

static dh_status process(dh_correlator *c, int64_t horizon);

/* At the end, the sensor records still on disk (later than the host logs, or no host logs)
 * come back a block at a time, each followed by the pass the clock at its time would have
 * made, so they are held no longer than while the host logs were read. */
static dh_status wire_drain(dh_correlator *c)
{
    int64_t start;
    while (wh_next(c->wh, &start)) {
        if (start > c->newest)
            c->newest = start;
        dh_status st = wire_release(c, c->newest + wire_ahead(c));
        if (st != DH_OK)
            return st;
        if (!wh_count(c->wh))
            break;
        int64_t horizon = c->newest - (c->o.window_s + 2 * c->o.skew_s + FLUSH_SLACK_S) * TICKS;
        int64_t oldest = INT64_MAX;
        for (size_t i = 0; i < c->n; i++)
            if (c->v[i]->t < oldest)
                oldest = c->v[i]->t;
        if (horizon > oldest && (st = process(c, horizon)) != DH_OK)
            return st;
    }
    return DH_OK;
}

dh_status dh_correlator_pack(const dh_ruleset *rs, const dh_event *ev, dh_buf *out)
{
    const char *const *names = NULL;
    size_t n = rs ? dh_ruleset_correlation_fields(rs, &names) : 0;
    if (dh_event_kind(ev) != DH_KIND_TASK_CREATE)
        return dh_event_pack_named(ev, names, n, out);
    /* the correlator's own original field: a task's name joins it to the command that
     * created it (activations.c) */
    const char **all = malloc((n + 1) * sizeof *all);
    if (!all)
        return DH_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        all[i] = names[i];
    all[n] = "TaskName";
    dh_status st = dh_event_pack_named(ev, all, n + 1, out);
    free(all);
    return st;
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
    uint64_t id = identity(ev);
    if (!nrules && wire_goes_to_disk(c, ev))
        return wire_spill(c, ev, id);
    dh_status st;
    item *it = item_new(c, ev, id, &st);
    if (!it)
        return st;
    if (nrules) {
        it->rules = malloc(nrules * sizeof *it->rules);
        if (!it->rules) {
            dh_event_free(ev);
            free(it);
            return DH_ERR_NOMEM;
        }
        memcpy(it->rules, rules, nrules * sizeof *it->rules);
        it->nrules = nrules;
        if (undecided && memchr(undecided, 1, nrules)) {
            it->undecided = malloc(nrules);
            if (!it->undecided) {
                dh_event_free(ev);
                free(it->rules);
                free(it);
                return DH_ERR_NOMEM;
            }
            memcpy(it->undecided, undecided, nrules);
        }
    }
    c->v[c->n++] = it;
    it->seq = c->seq++;
    it->bare = corr_bare_host(dh_event_host(ev));
    it->hostkey = corr_hash_ci(it->bare, CORR_HASH0);
    it->t = dh_event_time(ev);
    it->claim = -1;
    it->wire = corr_is_wire(ev) != 0;
    if (c->n > c->peak)
        c->peak = c->n;
    if (it->t < c->min_held)
        c->min_held = it->t;
    if (nrules && c->max_span && it->t < c->sc_upto)
        c->sc_late++;
    if (it->wire) {
        /* sensor records come first, all at once: they do not move the clock */
        if (++c->nwire > MAX_WIRE_HELD)
            return drop_old_wire(c);
        return DH_OK;
    }
    if (it->t > c->newest)
        c->newest = it->t;
    /* Every so often, finish what the window has passed (only with a sink to report to). A
     * pass costs O(n log n) in the events held; waiting for as many new events as are held
     * keeps that O(log n) per event when the window holds many. */
    if (c->fn && ++c->since_flush >= c->flush_every)
        return dh_correlator_flush(c);
    return DH_OK;
}

/* ---- a pass ------------------------------------------------------------------------------ */

/* Network sensor records first (their own "host"), then per host in time order. */
static int item_cmp(const void *pa, const void *pb)
{
    const item *a = *(item *const *)pa, *b = *(item *const *)pb;
    if (a->wire != b->wire)
        return a->wire ? -1 : 1;
    if (!a->wire) {
        if (a->hostkey != b->hostkey)
            return a->hostkey < b->hostkey ? -1 : 1;
        /* the same bytes are the same host: the case-blind comparison (strncasecmp on
         * both names cut at their first dot) is for names written differently, and was
         * a tenth of a pass on a Defender capture (callgrind, 2026-12-07) */
        if (a->bare.len != b->bare.len || memcmp(a->bare.ptr, b->bare.ptr, a->bare.len)) {
            int r = corr_host_cmp(a->ev, b->ev);
            if (r)
                return r;
        }
    }
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static dh_status process(dh_correlator *c, int64_t horizon)
{
    int64_t W = c->o.window_s * TICKS, S = c->o.skew_s * TICKS;
    if (c->n > 1)
        qsort(c->v, c->n, sizeof *c->v, item_cmp);
    dh_status st = corr_run_sigma(c, horizon);
    if (st != DH_OK)
        return st;
    pass *p = calloc(1, sizeof *p);
    if (!p)
        return DH_ERR_NOMEM;
    p->c = c;
    p->horizon = horizon;
    /* a group is emitted once nothing later can join it */
    p->settled = horizon == INT64_MAX ? INT64_MAX : horizon - W - S;
    p->W = W;
    p->S = S;
    p->fn = c->fn;
    p->fctx = c->fctx;
    if (entities_build(p) || activations_find(p) || source_scan(p) || assemble(p))
        st = DH_ERR_NOMEM;
    c->open_min = p->open_min;
    int64_t settled = p->settled;
    entities_free(p);
    arena_free(&p->a);
    free(p);
    if (st != DH_OK || horizon == INT64_MAX)
        return st;
    /* Drop what is settled and older than any open group or window reaches. The Sigma
     * correlation engine holds (pins) the events it may still show, for as long as it may,
     * and keeps compact entries of the rest: its timespans do not keep events here. */
    int64_t from = c->open_min < settled ? c->open_min : settled;
    int64_t keep_from = from - W - S;
    size_t k = 0;
    c->min_held = INT64_MAX;
    for (size_t i = 0; i < c->n; i++) {
        item *it = c->v[i];
        if (!it->pins && it->t < keep_from && (!it->nrules || it->fed || !c->max_span)) {
            if (it->wire)
                c->nwire--;
            item_free(it);
        } else {
            c->v[k++] = it;
            if (!it->wire && it->t < c->min_held)
                c->min_held = it->t;
        }
    }
    c->n = k;
    return seen_rebuild(c) ? DH_ERR_NOMEM : DH_OK;
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
    dh_status st = wire_release(c, c->newest + wire_ahead(c));
    if (st != DH_OK)
        return st;
    int64_t horizon = c->newest - (c->o.window_s + 2 * c->o.skew_s + FLUSH_SLACK_S) * TICKS;
    /* nothing held is older than the horizon: a pass would decide nothing (many events with
     * one time do not make passes over and over) */
    if (horizon <= c->min_held)
        return DH_OK;
    st = process(c, horizon);
    /* as many new events as host events are held: the sensor records held (which do not
     * move the clock) would otherwise let host events pile up as many again between passes */
    size_t host_held = c->n - c->nwire;
    c->flush_every = host_held > FLUSH_EVERY ? host_held : FLUSH_EVERY;
    return st;
}

dh_status dh_correlator_finish(dh_correlator *c, dh_finding_fn fn, void *ctx)
{
    c->fn = fn;
    c->fctx = ctx;
    dh_status st = wire_drain(c);
    return st != DH_OK ? st : process(c, INT64_MAX);
}
