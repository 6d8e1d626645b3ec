/* Sigma correlation rules (specification 2.1): event_count, value_count, temporal,
 * temporal_ordered, value_sum, value_avg, value_percentile, chained correlations.
 *
 * State is one group per (correlation, group-by values): the events of the rules it names
 * that lie within a timespan of the last event the group was given, sorted by time. The
 * semantics (docs/rules.md, "Correlation semantics") decide how a group is judged:
 *
 *  - "eager" correlations (only gt/gte on a count that grows as events join a window:
 *    event_count, value_count, value_sum, temporal, temporal_ordered) are judged at every
 *    event over the timespan ending at it (a sliding window, as the specification asks the
 *    time frame not to be restricted to boundaries). Consecutive matching windows that
 *    overlap make one signal (an "episode"), fired once no later window can join it;
 *  - the others (an upper bound, eq, neq, value_avg, value_percentile) are judged once per
 *    window: a window opens at a group's first event and takes the events within the
 *    timespan of it; it is judged when an event falls outside it or at the end.
 *
 * A correlation's own matches feed the correlations that name it (chains): each time its
 * condition holds, a "firing" at that time with the group's values and the events it
 * covered enters them like an event.
 *
 * Memory follows the windows, not the input: a group holds what lies within a timespan of
 * its last event; idle groups are judged and freed; the events themselves (the caller's
 * items) are kept as evidence through a bounded ring (MAX_PINNED): past it the oldest
 * evidence is let go and signals say how many events they cover beyond what they show.
 * Events that come out of time order are placed among what their group still holds and
 * the windows around them judged again; how late an event may be is therefore bounded by
 * the timespan (counted in sc_stats.late). Every count, cap and loop is bounded. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "correlate/sigma_corr.h"
#include "rules/sigma.h"

#define TICKS      10000000LL
#define MAX_GROUPS (1u << 20) /* groups held at once; more are not opened (counted) */
#define MAX_HELD   (1u << 21) /* events held by all groups together (~64 bytes each) */
#define MAX_PINNED                                                                                 \
    (1u << 14)            /* events kept as evidence at once (the correlator holds                 \
                             them: as many again as it holds for its own window) */
#define MAX_EVIDENCE  256 /* per signal: the first 224 and the latest 32 */
#define EV_RING       32
#define META_EVIDENCE 32 /* events handed on with one firing to a chained correlation */
#define SWEEP_EVERY   4096

/* ---- evidence pins ------------------------------------------------------------------
 * A pin is a slot in a ring of held items with a generation: the ring lets go of its
 * oldest slot when full, and a stale pin then reads as "no longer held". */
typedef struct pin {
    uint32_t slot, gen; /* gen 0: none */
} pin;

typedef struct pin_slot {
    void *item;
    uint32_t gen;
} pin_slot;

typedef struct evref {
    int64_t t;
    uint64_t seq;
    pin p;
} evref;

typedef struct entry {
    int64_t t;
    uint64_t seq;   /* feed order: ties in time keep it */
    uint64_t mask;  /* positions of the correlation's rules this event matched */
    uint64_t vhash; /* value_count, value_percentile: the value(s), 0 when absent */
    double num;     /* value_sum, value_avg: the number, NAN when absent */
    pin p;
    uint32_t ep;  /* the episode it was added to */
    uint32_t win; /* the window it belongs to */
    evref *extra; /* a chained firing: the events it covered */
    uint32_t nextra;
} entry;

/* value_count's distinct values within the window: value hash -> how many events. */
typedef struct vmap {
    uint64_t *k;
    uint32_t *c;
    size_t cap, n;
} vmap;

/* The metric over a set of entries, kept as entries come and go. */
typedef struct mstate {
    uint64_t count;
    uint32_t *poscnt; /* temporal types: events per named rule */
    long double sum;
    uint64_t nnum;
    vmap distinct;
    int64_t *chain; /* temporal_ordered: [k * (K + 1) + L] latest start of an ordered chain
                       of L rules ending with rule k; INT64_MIN for none */
    size_t chain_cap;
} mstate;

typedef struct episode {
    int open;
    uint32_t serial;
    int hole; /* entries between added ones may be missing: scan the whole window */
    int64_t first, last;
    uint64_t nevents;
    double metric;
    evref *ev;
    size_t nev, ring;
} episode;

typedef struct group {
    struct group *next;
    uint32_t cc; /* compiled correlation */
    int rank;    /* its rank in chains */
    uint64_t hash;
    size_t klen;
    /* e[0..n) are the held entries, sorted; they live in buf[off..off+n) so that letting
     * the oldest go is moving off, not the array (a group can hold 131,072) */
    entry *buf, *e;
    size_t n, cap, off;
    int64_t cursor; /* time of the last event given */
    int dirty;      /* st does not describe e[0..n) */
    mstate st;
    episode ep;
    int win_open;
    uint32_t win;
    int64_t win_min, win_max;
    char key[]; /* per group-by entry: 4-byte length and the value, case folded */
} group;

typedef struct use {
    uint32_t cc, pos;
} use;

typedef struct ccorr {
    const dh_rule *rule;
    const corr_def *d;
    int64_t span;
    uint32_t nref;
    int report; /* fire findings (not when it only feeds other correlations) */
    const dh_rule **inner;
    size_t ninner;
} ccorr;

/* A firing handed on to a chained correlation, waiting its turn. */
typedef struct meta {
    uint32_t src_cc; /* the correlation that fired */
    char *gkey;      /* its group's key */
    size_t gklen;
    int64_t t;
    pin trigger; /* the event that completed the window, if still held */
    evref *ev;
    uint32_t nev;
} meta;

struct sc_engine {
    const dh_ruleset *rs;
    sc_hooks h;
    ccorr *cc;
    size_t ncc;
    use **uses; /* per rule index: the correlations naming it and where */
    uint32_t *nuses;
    size_t nrules;
    group **tab;
    size_t tabsize, ngroups, held;
    pin_slot *ring;
    uint32_t ring_cap, ring_tail, gen; /* the ring grows to MAX_PINNED, then turns */
    uint64_t seq, episodes, windows;
    size_t since_sweep;
    int64_t gcursor;
    meta *q;
    size_t nq, capq;
    mstate scratch, scratch2;
    char *kbuf;
    size_t kcap;
    char *tkeys; /* the keys of one event's touches */
    size_t tcap;
    sc_stats stats;
};

/* ---- small helpers ------------------------------------------------------------------ */

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

/* ---- pins ---------------------------------------------------------------------------- */

static pin pin_take(sc_engine *e, void *item)
{
    pin none = {0, 0};
    if (!item)
        return none;
    if (e->ring_tail == e->ring_cap && e->ring_cap < MAX_PINNED) {
        uint32_t cap = e->ring_cap ? e->ring_cap * 2 : 1024;
        pin_slot *r = realloc(e->ring, cap * sizeof *r);
        if (r) {
            memset(r + e->ring_cap, 0, (cap - e->ring_cap) * sizeof *r);
            e->ring = r;
            e->ring_cap = cap;
        }
    }
    if (!e->ring_cap)
        return none;
    if (e->ring_tail >= e->ring_cap)
        e->ring_tail = 0; /* full: the oldest slot goes */
    uint32_t s = e->ring_tail++;
    if (e->ring[s].item) {
        e->h.release(e->h.ctx, e->ring[s].item);
        e->stats.evidence_freed++;
    }
    if (++e->gen == 0)
        e->gen = 1;
    e->ring[s].item = item;
    e->ring[s].gen = e->gen;
    e->h.hold(e->h.ctx, item);
    return (pin){s, e->gen};
}

static void *pin_get(const sc_engine *e, pin p)
{
    return p.gen && e->ring[p.slot].gen == p.gen ? e->ring[p.slot].item : NULL;
}

static void pin_drop(sc_engine *e, pin *p)
{
    if (pin_get(e, *p)) {
        e->h.release(e->h.ctx, e->ring[p->slot].item);
        e->ring[p->slot].item = NULL;
        e->ring[p->slot].gen = 0;
    }
    p->gen = 0;
}

static void evrefs_drop(sc_engine *e, evref *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pin_drop(e, &v[i].p);
    free(v);
}

static void entry_drop(sc_engine *e, entry *x)
{
    pin_drop(e, &x->p);
    evrefs_drop(e, x->extra, x->nextra);
    x->extra = NULL;
    x->nextra = 0;
}

/* ---- the distinct-value map ------------------------------------------------------------ */

static int vmap_grow(vmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    uint64_t *k = calloc(cap, sizeof *k);
    uint32_t *c = calloc(cap, sizeof *c);
    if (!k || !c) {
        free(k);
        free(c);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->k[i])
            continue;
        size_t j = m->k[i] & (cap - 1);
        while (k[j])
            j = (j + 1) & (cap - 1);
        k[j] = m->k[i];
        c[j] = m->c[i];
    }
    free(m->k);
    free(m->c);
    m->k = k;
    m->c = c;
    m->cap = cap;
    return 0;
}

static void vmap_add(vmap *m, uint64_t key)
{
    if ((m->n + 1) * 2 > m->cap && vmap_grow(m))
        return;
    size_t j = key & (m->cap - 1);
    while (m->k[j] && m->k[j] != key)
        j = (j + 1) & (m->cap - 1);
    if (!m->k[j]) {
        m->k[j] = key;
        m->n++;
    }
    m->c[j]++;
}

static uint32_t vmap_get(const vmap *m, uint64_t key)
{
    if (!m->cap)
        return 0;
    size_t j = key & (m->cap - 1);
    while (m->k[j] && m->k[j] != key)
        j = (j + 1) & (m->cap - 1);
    return m->k[j] ? m->c[j] : 0;
}

/* Linear probing with backward-shift deletion: no tombstones to pile up. */
static void vmap_del(vmap *m, uint64_t key)
{
    if (!m->cap)
        return;
    size_t j = key & (m->cap - 1);
    while (m->k[j] && m->k[j] != key)
        j = (j + 1) & (m->cap - 1);
    if (!m->k[j] || --m->c[j])
        return;
    m->n--;
    size_t hole = j;
    for (size_t i = (j + 1) & (m->cap - 1); m->k[i]; i = (i + 1) & (m->cap - 1)) {
        size_t home = m->k[i] & (m->cap - 1);
        /* move i into the hole unless its home lies cyclically in (hole, i] */
        if ((i > hole && (home <= hole || home > i)) || (i < hole && home <= hole && home > i)) {
            m->k[hole] = m->k[i];
            m->c[hole] = m->c[i];
            hole = i;
        }
    }
    m->k[hole] = 0;
    m->c[hole] = 0;
}

static void vmap_clear(vmap *m)
{
    if (m->cap) {
        memset(m->k, 0, m->cap * sizeof *m->k);
        memset(m->c, 0, m->cap * sizeof *m->c);
    }
    m->n = 0;
}

/* ---- metrics ----------------------------------------------------------------------------- */

static int state_reset(mstate *s, const ccorr *c)
{
    s->count = 0;
    if (c->d->type == CORR_TEMPORAL || c->d->type == CORR_TEMPORAL_ORDERED) {
        if (!s->poscnt && !(s->poscnt = calloc(CORR_MAX_RULES, sizeof *s->poscnt)))
            return -1;
        memset(s->poscnt, 0, CORR_MAX_RULES * sizeof *s->poscnt);
    }
    s->sum = 0;
    s->nnum = 0;
    vmap_clear(&s->distinct);
    if (c->d->type == CORR_TEMPORAL_ORDERED) {
        size_t n = (size_t)c->nref * (c->nref + 1);
        if (n > s->chain_cap) {
            int64_t *ch = realloc(s->chain, n * sizeof *ch);
            if (!ch)
                return -1;
            s->chain = ch;
            s->chain_cap = n;
        }
        for (size_t i = 0; i < n; i++)
            s->chain[i] = INT64_MIN;
    }
    return 0;
}

static void state_free(mstate *s)
{
    free(s->distinct.k);
    free(s->distinct.c);
    free(s->chain);
    free(s->poscnt);
    memset(s, 0, sizeof *s);
}

/* Ordered chains: a chain of L rules ending with rule k may follow one of L-1 rules ending
 * with a rule listed before k; only the latest start matters. Entries come in time order. */
static void chain_add(mstate *s, const ccorr *c, const entry *x)
{
    size_t K = c->nref, W = K + 1;
    int64_t ext[CORR_MAX_RULES + 1];
    /* Positions from the last: a chain extended here reads only rules listed before, not
     * yet updated for this event, so one event is never two steps of a chain. */
    for (size_t k = K; k-- > 0;) {
        if (!(x->mask & (1ULL << k)))
            continue;
        ext[1] = x->t;
        for (size_t L = 2; L <= K; L++) {
            int64_t best = INT64_MIN;
            for (size_t j = 0; j < k; j++)
                if (s->chain[j * W + L - 1] > best)
                    best = s->chain[j * W + L - 1];
            ext[L] = best;
        }
        for (size_t L = 1; L <= K; L++)
            if (ext[L] > s->chain[k * W + L])
                s->chain[k * W + L] = ext[L];
    }
}

static void state_add(mstate *s, const ccorr *c, const entry *x)
{
    s->count++;
    for (uint64_t m = x->mask; s->poscnt && m; m &= m - 1)
        s->poscnt[__builtin_ctzll(m)]++;
    if (!isnan(x->num)) {
        s->sum += x->num;
        s->nnum++;
    }
    if (x->vhash && (c->d->type == CORR_VALUE_COUNT || c->d->type == CORR_VALUE_PERCENTILE))
        vmap_add(&s->distinct, x->vhash);
    if (c->d->type == CORR_TEMPORAL_ORDERED)
        chain_add(s, c, x);
}

/* temporal_ordered has no removal: its chains carry their start, and starts before the
 * window are not counted (state_value). */
static void state_remove(mstate *s, const ccorr *c, const entry *x)
{
    s->count--;
    for (uint64_t m = x->mask; s->poscnt && m; m &= m - 1)
        s->poscnt[__builtin_ctzll(m)]--;
    if (!isnan(x->num)) {
        s->sum -= x->num;
        s->nnum--;
    }
    if (x->vhash && (c->d->type == CORR_VALUE_COUNT || c->d->type == CORR_VALUE_PERCENTILE))
        vmap_del(&s->distinct, x->vhash);
}

/* The metric of a window whose first admissible start is `from`; 0 with *has = 0 when
 * there is none (an average of no numbers). */
static double state_value(const mstate *s, const ccorr *c, int64_t from, int *has)
{
    *has = 1;
    switch (c->d->type) {
    case CORR_EVENT_COUNT:
        return (double)s->count;
    case CORR_VALUE_COUNT:
        return (double)s->distinct.n;
    case CORR_TEMPORAL: {
        unsigned n = 0;
        for (uint32_t k = 0; k < c->nref; k++)
            n += s->poscnt[k] > 0;
        return n;
    }
    case CORR_TEMPORAL_ORDERED: {
        size_t W = c->nref + 1, best = 0;
        for (size_t k = 0; k < c->nref; k++)
            for (size_t L = best + 1; L <= c->nref; L++)
                if (s->chain[k * W + L] != INT64_MIN && s->chain[k * W + L] >= from)
                    best = L;
        return (double)best;
    }
    case CORR_VALUE_SUM:
        return (double)s->sum;
    case CORR_VALUE_AVG:
        *has = s->nnum > 0;
        return s->nnum ? (double)(s->sum / (long double)s->nnum) : 0;
    default:
        *has = 0;
        return 0;
    }
}

static int holds(const corr_def *d, double x)
{
    for (size_t i = 0; i < d->ncmp; i++) {
        double v = d->cmp[i].v;
        int ok;
        switch (d->cmp[i].op) {
        case CMP_CORR_GT:
            ok = x > v;
            break;
        case CMP_CORR_GTE:
            ok = x >= v;
            break;
        case CMP_CORR_LT:
            ok = x < v;
            break;
        case CMP_CORR_LTE:
            ok = x <= v;
            break;
        case CMP_CORR_EQ:
            ok = x == v;
            break;
        default:
            ok = x != v;
            break;
        }
        if (!ok)
            return 0;
    }
    return 1;
}

/* ---- engine ------------------------------------------------------------------------------- */

sc_engine *sc_new(const dh_ruleset *rs, const sc_hooks *hooks)
{
    sc_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->rs = rs;
    e->h = *hooks;
    e->nrules = dh_ruleset_count(rs);
    e->uses = calloc(e->nrules + 1, sizeof *e->uses);
    e->nuses = calloc(e->nrules + 1, sizeof *e->nuses);
    e->cc = calloc(e->nrules + 1, sizeof *e->cc);
    uint32_t *ccof = malloc((e->nrules + 1) * sizeof *ccof);
    e->tabsize = 4096;
    e->tab = calloc(e->tabsize, sizeof *e->tab);
    e->kcap = 256; /* never NULL: keys of no group-by are empty, not absent */
    e->kbuf = malloc(e->kcap);
    if (!e->uses || !e->nuses || !e->cc || !ccof || !e->tab || !e->kbuf)
        goto fail;
    for (size_t i = 0; i < e->nrules; i++) {
        const dh_rule *r = dh_ruleset_rule(rs, i);
        ccof[i] = UINT32_MAX;
        if (!r->corr || !r->corr->ref_idx)
            continue;
        ccof[i] = (uint32_t)e->ncc;
        ccorr *c = &e->cc[e->ncc++];
        c->rule = r;
        c->d = r->corr;
        c->nref = (uint32_t)r->corr->refs.n;
        c->span = r->corr->timespan_s * TICKS;
        c->report = dh_rule_reported_alone(r);
    }
    for (size_t x = 0; x < e->ncc; x++) {
        ccorr *c = &e->cc[x];
        c->inner = calloc(c->nref + 1, sizeof *c->inner);
        if (!c->inner)
            goto fail;
        for (uint32_t k = 0; k < c->nref; k++) {
            uint32_t b = c->d->ref_idx[k];
            if (b >= e->nrules)
                continue;
            use *u = realloc(e->uses[b], (e->nuses[b] + 1) * sizeof *u);
            if (!u)
                goto fail;
            e->uses[b] = u;
            u[e->nuses[b]++] = (use){(uint32_t)x, k};
            const dh_rule *br = dh_ruleset_rule(rs, b);
            if (br->corr) {
                size_t j;
                for (j = 0; j < c->ninner && c->inner[j] != br; j++)
                    ;
                if (j == c->ninner)
                    c->inner[c->ninner++] = br;
            }
        }
    }
    free(ccof);
    return e;
fail:
    free(ccof);
    sc_free(e);
    return NULL;
}

static void episode_release(sc_engine *e, episode *ep)
{
    evrefs_drop(e, ep->ev, ep->nev);
    ep->ev = NULL;
    ep->nev = 0;
    ep->open = 0;
}

static void group_free(sc_engine *e, group *g)
{
    for (size_t i = 0; i < g->n; i++)
        entry_drop(e, &g->e[i]);
    e->held -= g->n;
    episode_release(e, &g->ep);
    state_free(&g->st);
    free(g->buf);
    free(g);
}

static void meta_free(sc_engine *e, meta *m)
{
    pin_drop(e, &m->trigger);
    evrefs_drop(e, m->ev, m->nev);
    free(m->gkey);
}

void sc_free(sc_engine *e)
{
    if (!e)
        return;
    for (size_t i = 0; e->tab && i < e->tabsize; i++) {
        group *g = e->tab[i];
        while (g) {
            group *n = g->next;
            group_free(e, g);
            g = n;
        }
    }
    for (size_t i = 0; i < e->nq; i++)
        meta_free(e, &e->q[i]);
    free(e->q);
    for (size_t i = 0; i < e->ring_cap; i++)
        if (e->ring[i].item)
            e->h.release(e->h.ctx, e->ring[i].item);
    for (size_t i = 0; e->uses && i < e->nrules; i++)
        free(e->uses[i]);
    for (size_t i = 0; e->cc && i < e->ncc; i++)
        free(e->cc[i].inner);
    state_free(&e->scratch);
    state_free(&e->scratch2);
    free(e->uses);
    free(e->nuses);
    free(e->cc);
    free(e->tab);
    free(e->ring);
    free(e->kbuf);
    free(e->tkeys);
    free(e);
}

sc_stats sc_get_stats(const sc_engine *e)
{
    return e->stats;
}

/* ---- group keys ----------------------------------------------------------------------------
 * A key holds, per group-by entry, its value with ASCII case folded (Sigma compares values
 * case-insensitively; Windows names are case-insensitive) and, for the host (Computer), the
 * name without its domain, so DC01 and dc01.corp.local are one host, as everywhere else in
 * dcomhunt (docs/formats.md). */

static int kput(sc_engine *e, size_t *len, const void *p, size_t n)
{
    if (!n)
        return 0;
    if (*len + n > e->kcap) {
        size_t cap = e->kcap ? e->kcap : 256;
        while (cap < *len + n)
            cap *= 2;
        char *k = realloc(e->kbuf, cap);
        if (!k)
            return -1;
        e->kbuf = k;
        e->kcap = cap;
    }
    memcpy(e->kbuf + *len, p, n);
    *len += n;
    return 0;
}

static dh_str bare_host(dh_str h)
{
    if (h.len && h.ptr[0] >= '0' && h.ptr[0] <= '9')
        return h; /* an address is not cut at its dots */
    size_t n = 0;
    while (n < h.len && h.ptr[n] != '.')
        n++;
    return (dh_str){h.ptr, n};
}

static int kvalue(sc_engine *e, size_t *len, dh_str v, int host)
{
    if (host)
        v = bare_host(v);
    uint32_t n = (uint32_t)(v.len > UINT32_MAX ? UINT32_MAX : v.len);
    if (kput(e, len, &n, 4))
        return -1;
    size_t at = *len;
    if (kput(e, len, v.ptr, n))
        return -1;
    for (size_t i = at; i < *len; i++)
        e->kbuf[i] = (char)sigma_lower[(unsigned char)e->kbuf[i]];
    return 0;
}

/* The i-th value of a key. */
static dh_str key_value(const char *key, size_t klen, size_t i)
{
    size_t o = 0;
    for (;;) {
        uint32_t n;
        if (o + 4 > klen)
            return (dh_str){"", 0};
        memcpy(&n, key + o, 4);
        if (o + 4 + n > klen)
            return (dh_str){"", 0};
        if (!i--)
            return (dh_str){key + o + 4, n};
        o += 4 + n;
    }
}

/* Where a field's value comes from for a firing of correlation `src`: its group's value
 * when it groups by that name, else the event that completed its window. */
static int meta_field(const sc_engine *e, const meta *m, const field_ref *f, char *num, dh_str *out)
{
    const corr_def *sd = e->cc[m->src_cc].d;
    for (size_t g = 0; g < sd->group_by.n; g++)
        if (!strcasecmp(sd->group_by.v[g], f->name)) {
            *out = key_value(m->gkey, m->gklen, g);
            return 1;
        }
    void *it = pin_get(e, m->trigger);
    return it ? sigma_field_value(f, e->h.event(e->h.ctx, it), num, out) : 0;
}

/* Reads field f for an event or a firing. */
static int read_field(const sc_engine *e, const dh_event *ev, const meta *m, const field_ref *f,
                      char *num, dh_str *out)
{
    if (m)
        return meta_field(e, m, f, num, out);
    return sigma_field_value(f, ev, num, out);
}

/* Builds the key of correlation c for rule position k into e->kbuf; returns its length,
 * or (size_t)-1 when out of memory. */
static size_t make_key(sc_engine *e, const ccorr *c, uint32_t k, const dh_event *ev, const meta *m)
{
    const corr_def *d = c->d;
    size_t len = 0;
    for (size_t g = 0; g < d->group_by.n; g++) {
        const field_ref *f = &d->gb[k * d->group_by.n + g];
        dh_str v = {"", 0};
        char num[24];
        read_field(e, ev, m, f, num, &v);
        if (kvalue(e, &len, v, f->id == FIELD_COMPUTER))
            return (size_t)-1;
    }
    return len;
}

/* The value fields: a hash of the (folded) values for value_count and value_percentile
 * (0 when one is absent or empty: "linked by an AND"), the number for the others. */
static void make_value(const sc_engine *e, const ccorr *c, uint32_t k, const dh_event *ev,
                       const meta *m, uint64_t *vh, double *num)
{
    const corr_def *d = c->d;
    *vh = 0;
    *num = NAN;
    if (!d->value_fields.n)
        return;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < d->value_fields.n; i++) {
        const field_ref *f = &d->vf[k * d->value_fields.n + i];
        dh_str v;
        char nb[24];
        if (!read_field(e, ev, m, f, nb, &v) || !v.len)
            return;
        if (d->type == CORR_VALUE_SUM || d->type == CORR_VALUE_AVG) {
            char buf[64];
            if (v.len >= sizeof buf)
                return;
            memcpy(buf, v.ptr, v.len);
            buf[v.len] = 0;
            char *end;
            double x = strtod(buf, &end);
            while (*end == ' ')
                end++;
            if (end != buf && !*end && isfinite(x))
                *num = x;
            return;
        }
        uint32_t n = (uint32_t)v.len;
        h = fnv(&n, 4, h);
        for (size_t j = 0; j < v.len; j++) {
            unsigned char ch = sigma_lower[(unsigned char)v.ptr[j]];
            h = fnv(&ch, 1, h);
        }
    }
    *vh = h | 1;
}

/* "Field=value, ..." for the signal (values as compared: folded; long ones cut at 200). */
static char *make_show(const ccorr *c, const char *key, size_t klen)
{
    const corr_def *d = c->d;
    size_t cap = 1;
    for (size_t g = 0; g < d->group_by.n; g++)
        cap += strlen(d->group_by.v[g]) + 4 + 203;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    size_t o = 0;
    for (size_t g = 0; g < d->group_by.n; g++) {
        dh_str v = key_value(key, klen, g);
        int vl = v.len > 200 ? 200 : (int)v.len;
        int k = snprintf(s + o, cap - o, "%s%s=%.*s%s", g ? ", " : "", d->group_by.v[g], vl, v.ptr,
                         (size_t)vl < v.len ? "..." : "");
        if (k > 0)
            o += (size_t)k < cap - o ? (size_t)k : cap - o - 1;
    }
    s[o] = 0;
    return s;
}

static void grow_table(sc_engine *e)
{
    size_t ns = e->tabsize * 4;
    group **nt = calloc(ns, sizeof *nt);
    if (!nt)
        return;
    for (size_t i = 0; i < e->tabsize; i++)
        for (group *g = e->tab[i], *n; g; g = n) {
            n = g->next;
            g->next = nt[g->hash % ns];
            nt[g->hash % ns] = g;
        }
    free(e->tab);
    e->tab = nt;
    e->tabsize = ns;
}

static group *find_group(sc_engine *e, uint32_t cc, const char *key, size_t klen)
{
    uint64_t h = fnv(key, klen, 1469598103934665603ULL ^ ((uint64_t)cc * 0x9E3779B97F4A7C15ULL));
    for (group *g = e->tab[h % e->tabsize]; g; g = g->next)
        if (g->hash == h && g->cc == cc && g->klen == klen && !memcmp(g->key, key, klen))
            return g;
    if (e->ngroups >= MAX_GROUPS)
        return NULL;
    group *g = calloc(1, sizeof *g + klen);
    if (!g)
        return NULL;
    /* the running metric is for eager correlations; the others judge whole windows */
    if (e->cc[cc].d->eager && state_reset(&g->st, &e->cc[cc])) {
        state_free(&g->st);
        free(g);
        return NULL;
    }
    if (klen)
        memcpy(g->key, key, klen);
    g->klen = klen;
    g->cc = cc;
    g->rank = e->cc[cc].d->rank;
    g->hash = h;
    g->next = e->tab[h % e->tabsize];
    e->tab[h % e->tabsize] = g;
    if (++e->ngroups > e->tabsize * 2)
        grow_table(e);
    return g;
}

/* ---- firing -------------------------------------------------------------------------------- */

static int evref_cmp(const void *a, const void *b)
{
    const evref *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hands a signal to the caller: the evidence still held, in time order. */
static void fire(sc_engine *e, const ccorr *c, group *g, evref *ev, size_t nev, uint64_t nevents,
                 int64_t first, int64_t last, double metric)
{
    if (!c->report)
        return;
    if (nev > 1)
        qsort(ev, nev, sizeof *ev, evref_cmp);
    void **items = malloc((nev ? nev : 1) * sizeof *items);
    if (!items)
        return;
    size_t n = 0;
    for (size_t i = 0; i < nev; i++) {
        void *it = pin_get(e, ev[i].p);
        size_t j = 0;
        while (it && j < n && items[j] != it)
            j++;
        if (it && j == n)
            items[n++] = it;
        /* a chained firing's events count and bound the signal too */
        first = ev[i].t < first ? ev[i].t : first;
        last = ev[i].t > last ? ev[i].t : last;
    }
    if (n > nevents)
        nevents = n;
    const corr_def *d = c->d;
    char why[400], crit[160], fields[160] = "";
    sigma_corr_condition_text(d, crit, sizeof crit);
    for (size_t i = 0, o = 0; i < d->value_fields.n && o + 1 < sizeof fields; i++) {
        int k = snprintf(fields + o, sizeof fields - o, "%s%s", i ? " and " : " ",
                         d->value_fields.v[i]);
        o += k > 0 ? (size_t)k : 0;
    }
    char mnum[48]; /* 1234567, not %g's 1.23457e+06 */
    dh_format_double(mnum, sizeof mnum, metric, 0);
    snprintf(why, sizeof why, "%s: %s%s = %s (condition: %s) %s %llds",
             sigma_corr_type_name(d->type), sigma_corr_metric_name(d->type), fields, mnum, crit,
             d->eager ? "within" : "in a window of", (long long)d->timespan_s);
    char *show = make_show(c, g->key, g->klen);
    sc_signal s = {c->rule,          items,    n,        nevents, first, last, metric, why,
                   show ? show : "", c->inner, c->ninner};
    e->h.fire(e->h.ctx, &s);
    free(show);
    free(items);
}

/* Queues a firing of correlation c for the correlations that name it. */
static void hand_on(sc_engine *e, uint32_t cc, group *g, size_t trig, size_t lo, size_t hi)
{
    const ccorr *c = &e->cc[cc];
    if (!e->nuses[c->rule->index])
        return;
    if (e->nq == e->capq) {
        size_t cap = e->capq ? e->capq * 2 : 16;
        meta *q = realloc(e->q, cap * sizeof *q);
        if (!q)
            return;
        e->q = q;
        e->capq = cap;
    }
    meta *m = &e->q[e->nq];
    memset(m, 0, sizeof *m);
    m->src_cc = cc;
    m->t = g->e[trig].t;
    if (!(m->gkey = malloc(g->klen ? g->klen : 1)))
        return;
    memcpy(m->gkey, g->key, g->klen);
    m->gklen = g->klen;
    m->trigger = pin_take(e, pin_get(e, g->e[trig].p));
    /* the latest META_EVIDENCE entries of e[lo..hi) (with the events they carry) */
    size_t from = hi - lo > META_EVIDENCE ? hi - META_EVIDENCE : lo;
    m->ev = malloc(META_EVIDENCE * 2 * sizeof *m->ev);
    if (m->ev)
        for (size_t i = from; i < hi; i++) {
            const entry *x = &g->e[i];
            void *it = pin_get(e, x->p);
            if (it)
                m->ev[m->nev++] = (evref){x->t, x->seq, pin_take(e, it)};
            for (uint32_t j = 0; j < x->nextra && m->nev < META_EVIDENCE * 2; j++) {
                void *xi = pin_get(e, x->extra[j].p);
                if (xi)
                    m->ev[m->nev++] = (evref){x->extra[j].t, x->extra[j].seq, pin_take(e, xi)};
            }
            if (m->nev >= META_EVIDENCE * 2)
                break;
        }
    e->nq++;
}

/* ---- episodes (eager correlations) ------------------------------------------------------- */

static void ep_keep(sc_engine *e, episode *ep, int64_t t, uint64_t seq, void *item)
{
    if (!item || !ep->ev)
        return;
    size_t slot;
    if (ep->nev < MAX_EVIDENCE) {
        slot = ep->nev++;
    } else { /* the first ones stay; the latest EV_RING rotate */
        slot = MAX_EVIDENCE - EV_RING + ep->ring++ % EV_RING;
        pin_drop(e, &ep->ev[slot].p);
    }
    ep->ev[slot] = (evref){t, seq, pin_take(e, item)};
}

static void episode_close(sc_engine *e, group *g)
{
    episode *ep = &g->ep;
    if (!ep->open)
        return;
    fire(e, &e->cc[g->cc], g, ep->ev, ep->nev, ep->nevents, ep->first, ep->last, ep->metric);
    episode_release(e, ep);
}

/* A matching window e[lo..hi) joins the group's episode (opening one if none is open). */
static void episode_add(sc_engine *e, group *g, size_t lo, size_t hi, double metric, int fast)
{
    episode *ep = &g->ep;
    if (!ep->open) {
        memset(ep, 0, sizeof *ep);
        ep->open = 1;
        ep->serial = (uint32_t)++e->episodes;
        if (!ep->serial)
            ep->serial = (uint32_t)++e->episodes;
        ep->first = INT64_MAX;
        ep->last = INT64_MIN;
        ep->metric = metric;
        /* evidence only for what is reported: a correlation that only feeds others hands
         * its events on with each firing instead */
        ep->ev = e->cc[g->cc].report ? malloc(MAX_EVIDENCE * sizeof *ep->ev) : NULL;
    }
    if (metric > ep->metric)
        ep->metric = metric;
    int whole = !fast || ep->hole;
    for (size_t i = hi; i-- > lo;) {
        entry *x = &g->e[i];
        if (x->ep == ep->serial) {
            if (!whole)
                break; /* in time order, everything before is in already */
            continue;
        }
        x->ep = ep->serial;
        ep->nevents++;
        if (x->t < ep->first)
            ep->first = x->t;
        if (x->t > ep->last)
            ep->last = x->t;
        ep_keep(e, ep, x->t, x->seq, pin_get(e, x->p));
        for (uint32_t j = 0; j < x->nextra; j++)
            ep_keep(e, ep, x->extra[j].t, x->extra[j].seq, pin_get(e, x->extra[j].p));
    }
    ep->hole = !fast && (lo > 0 || hi < g->n);
    if (fast)
        ep->hole = 0;
}

/* ---- windows (correlations judged once per window) ---------------------------------------- */

/* value_percentile: the share, in percent, of the window's events that carry a value; the
 * condition holds for the events whose value's share meets it ("a computer spawned a
 * process name in the last 24h [in] less than 1% of all the processes"). */
static void window_close(sc_engine *e, group *g)
{
    if (!g->win_open)
        return;
    g->win_open = 0;
    const ccorr *c = &e->cc[g->cc];
    size_t *idx = malloc((g->n ? g->n : 1) * sizeof *idx), n = 0;
    if (!idx)
        return;
    mstate *s = &e->scratch;
    if (state_reset(s, c)) {
        free(idx);
        return;
    }
    for (size_t i = 0; i < g->n; i++)
        if (g->e[i].win == g->win) {
            idx[n++] = i;
            state_add(s, c, &g->e[i]);
        }
    int has = 0;
    double x = 0;
    size_t keep = n;
    if (c->d->type == CORR_VALUE_PERCENTILE) {
        uint64_t total = 0;
        for (size_t i = 0; i < n; i++)
            total += g->e[idx[i]].vhash != 0;
        keep = 0;
        double best = NAN;
        for (size_t i = 0; total && i < n; i++) {
            const entry *y = &g->e[idx[i]];
            if (!y->vhash)
                continue;
            double share = 100.0 * vmap_get(&s->distinct, y->vhash) / (double)total;
            if (holds(c->d, share)) {
                idx[keep++] = idx[i];
                if (isnan(best) || share < best)
                    best = share;
            }
        }
        has = keep > 0;
        x = has ? best : 0;
    } else {
        x = state_value(s, c, INT64_MIN, &has);
        has = has && holds(c->d, x);
    }
    if (has && keep) {
        evref *ev = malloc((keep < MAX_EVIDENCE ? keep : MAX_EVIDENCE) * sizeof *ev + sizeof *ev);
        size_t nev = 0;
        int64_t first = INT64_MAX, last = INT64_MIN;
        for (size_t i = 0; i < keep; i++) {
            const entry *y = &g->e[idx[i]];
            first = y->t < first ? y->t : first;
            last = y->t > last ? y->t : last;
            void *it = pin_get(e, y->p);
            if (ev && it && nev < MAX_EVIDENCE)
                ev[nev++] = (evref){y->t, y->seq, pin_take(e, it)};
        }
        fire(e, c, g, ev, nev, keep, first, last, x);
        if (ev)
            evrefs_drop(e, ev, nev);
        hand_on(e, g->cc, g, idx[keep - 1], idx[0], idx[keep - 1] + 1);
    }
    free(idx);
}

/* ---- feeding ------------------------------------------------------------------------------ */

/* Lets go of what lies more than a timespan from the group's last event. */
static void evict(sc_engine *e, group *g, const ccorr *c, int64_t t)
{
    int64_t lo = sat_add(t, -c->span), hi = sat_add(t, c->span);
    size_t a = 0;
    while (a < g->n && g->e[a].t < lo) {
        if (!g->dirty && c->d->eager)
            state_remove(&g->st, c, &g->e[a]);
        entry_drop(e, &g->e[a]);
        a++;
    }
    size_t b = g->n;
    while (b > a && g->e[b - 1].t > hi) {
        entry_drop(e, &g->e[b - 1]);
        b--;
        g->dirty = 1;
    }
    if (a) {
        g->e += a;
        g->off += a;
    }
    e->held -= g->n - (b - a);
    g->n = b - a;
}

/* The late path: the windows of a timespan that contain the entry at p, each judged; the
 * best matching one joins the episode. */
static void judge_around(sc_engine *e, uint32_t cc, group *g, size_t p)
{
    const ccorr *c = &e->cc[cc];
    mstate *s = &e->scratch, *s2 = &e->scratch2;
    if (state_reset(s, c) || state_reset(s2, c))
        return;
    /* With no signal open, a window that matched without this event was judged (and
     * reported) when it came: only windows this event completes count here. */
    int need_p = !g->ep.open;
    int64_t t = g->e[p].t;
    size_t i0 = p;
    while (i0 > 0 && g->e[i0 - 1].t >= sat_add(t, -c->span))
        i0--;
    double best = NAN;
    size_t blo = 0, bhi = 0;
    int has, has2;
    if (c->d->type == CORR_TEMPORAL_ORDERED) {
        /* Chains over [i0, end], with and without the entry at p, judged at every end
         * from p on over the timespan before it. */
        for (size_t j = i0; j < g->n && g->e[j].t <= sat_add(t, c->span); j++) {
            state_add(s, c, &g->e[j]);
            if (j != p)
                state_add(s2, c, &g->e[j]);
            if (j < p)
                continue;
            int64_t from = sat_add(g->e[j].t, -c->span);
            double x = state_value(s, c, from, &has);
            double x2 = state_value(s2, c, from, &has2);
            if (has && holds(c->d, x) && !(need_p && has2 && holds(c->d, x2)) &&
                (isnan(best) || x > best)) {
                best = x;
                blo = i0;
                bhi = j + 1;
            }
        }
    } else {
        size_t j = i0;
        for (size_t i = i0; i <= p; i++) {
            if (i > i0)
                state_remove(s, c, &g->e[i - 1]);
            while (j < g->n && g->e[j].t <= sat_add(g->e[i].t, c->span))
                state_add(s, c, &g->e[j++]);
            double x = state_value(s, c, INT64_MIN, &has);
            if (!has || !holds(c->d, x))
                continue;
            if (need_p) { /* the window without the entry at p */
                state_remove(s, c, &g->e[p]);
                double x2 = state_value(s, c, INT64_MIN, &has2);
                state_add(s, c, &g->e[p]);
                if (has2 && holds(c->d, x2))
                    continue;
            }
            if (isnan(best) || x > best) {
                best = x;
                blo = i;
                bhi = j;
            }
        }
    }
    if (isnan(best))
        return;
    while (blo < p && g->e[blo].t < sat_add(g->e[bhi - 1].t, -c->span))
        blo++;
    episode_add(e, g, blo, bhi, best, 0);
    hand_on(e, cc, g, p, blo, bhi);
}

static void group_feed(sc_engine *e, uint32_t cc, group *g, uint64_t mask, int64_t t, void *item,
                       uint64_t vh, double num, evref *extra, uint32_t nextra)
{
    const ccorr *c = &e->cc[cc];
    /* What this event cannot join is closed first. */
    if (!c->d->eager && g->win_open &&
        sat_add(t > g->win_max ? t : g->win_max, -(t < g->win_min ? t : g->win_min)) > c->span)
        window_close(e, g);
    if (c->d->eager && g->ep.open &&
        (t > sat_add(g->ep.last, c->span) || t < sat_add(g->ep.first, -c->span)))
        episode_close(e, g);
    g->cursor = t;
    evict(e, g, c, t);
    /* Caps: a group holds at most CORR_MAX_EVENTS, all groups MAX_HELD. */
    if (g->n && (g->n >= CORR_MAX_EVENTS || e->held >= MAX_HELD)) {
        if (!g->dirty && c->d->eager)
            state_remove(&g->st, c, &g->e[0]);
        entry_drop(e, &g->e[0]);
        g->e++;
        g->off++;
        g->n--;
        e->held--;
        e->stats.dropped++;
    } else if (e->held >= MAX_HELD) {
        e->stats.dropped++;
        evrefs_drop(e, extra, nextra);
        return;
    }
    if (g->off + g->n == g->cap) {
        if (g->off && g->off >= g->cap / 2) { /* half of it is behind: move the live part */
            memmove(g->buf, g->e, g->n * sizeof *g->e);
        } else {
            size_t cap = g->cap ? g->cap * 2 : 2;
            entry *nb = realloc(g->buf, cap * sizeof *nb);
            if (!nb) {
                evrefs_drop(e, extra, nextra);
                return;
            }
            memmove(nb, nb + g->off, g->n * sizeof *nb);
            g->buf = nb;
            g->cap = cap;
        }
        g->off = 0;
        g->e = g->buf;
    }
    size_t p = g->n;
    while (p > 0 && g->e[p - 1].t > t)
        p--;
    int late = p != g->n;
    memmove(g->e + p + 1, g->e + p, (g->n - p) * sizeof *g->e);
    entry *x = &g->e[p];
    memset(x, 0, sizeof *x);
    x->t = t;
    x->seq = ++e->seq;
    x->mask = mask;
    x->vhash = vh;
    x->num = num;
    x->p = pin_take(e, item);
    x->extra = extra;
    x->nextra = nextra;
    g->n++;
    e->held++;
    if (late)
        e->stats.late++;
    if (!c->d->eager) {
        if (!g->win_open) {
            g->win_open = 1;
            g->win = (uint32_t)++e->windows;
            if (!g->win)
                g->win = (uint32_t)++e->windows;
            g->win_min = g->win_max = t;
        }
        g->win_min = t < g->win_min ? t : g->win_min;
        g->win_max = t > g->win_max ? t : g->win_max;
        x->win = g->win;
        return;
    }
    if (late) {
        g->dirty = 1;
        judge_around(e, cc, g, p);
        return;
    }
    if (g->dirty) {
        if (state_reset(&g->st, c))
            return;
        for (size_t i = 0; i + 1 < g->n; i++)
            state_add(&g->st, c, &g->e[i]);
        g->dirty = 0;
    }
    state_add(&g->st, c, x);
    int has;
    double v = state_value(&g->st, c, sat_add(t, -c->span), &has);
    if (!has || !holds(c->d, v))
        return;
    episode_add(e, g, 0, g->n, v, 1);
    hand_on(e, cc, g, p, 0, g->n);
}

/* One event (ev, or a firing m) for correlation cc at the positions in mask. */
static void feed_one(sc_engine *e, uint32_t cc, uint32_t pos, uint64_t mask, int64_t t, void *item,
                     const dh_event *ev, const meta *m, evref *extra, uint32_t nextra)
{
    const ccorr *c = &e->cc[cc];
    size_t klen = make_key(e, c, pos, ev, m);
    group *g = klen == (size_t)-1 ? NULL : find_group(e, cc, e->kbuf, klen);
    if (!g) {
        e->stats.dropped++;
        evrefs_drop(e, extra, nextra);
        return;
    }
    uint64_t vh;
    double num;
    make_value(e, c, pos, ev, m, &vh, &num);
    group_feed(e, cc, g, mask, t, item, vh, num, extra, nextra);
}

typedef struct touch {
    uint32_t cc, pos;
    uint64_t mask;
    size_t kfrom, klen; /* in e->tkeys */
} touch;

/* An event's touch of one correlation (its key already made). */
static void feed_touch(sc_engine *e, const touch *tc, int64_t t, void *item, const dh_event *ev)
{
    const ccorr *c = &e->cc[tc->cc];
    group *g = find_group(e, tc->cc, e->tkeys ? e->tkeys + tc->kfrom : e->kbuf, tc->klen);
    if (!g) {
        e->stats.dropped++;
        return;
    }
    uint64_t vh;
    double num;
    make_value(e, c, tc->pos, ev, NULL, &vh, &num);
    group_feed(e, tc->cc, g, tc->mask, t, item, vh, num, NULL, 0);
}

/* Firings queued by the correlations fed so far go to those that name them. */
static void drain(sc_engine *e)
{
    for (size_t qi = 0; qi < e->nq; qi++) {
        meta m = e->q[qi]; /* the queue may grow (and move) while this one is fed */
        const ccorr *src = &e->cc[m.src_cc];
        uint32_t b = (uint32_t)src->rule->index;
        for (uint32_t u = 0; u < e->nuses[b]; u++) {
            use us = e->uses[b][u];
            evref *extra = malloc((m.nev + 1) * sizeof *extra);
            uint32_t nx = 0;
            for (uint32_t j = 0; extra && j < m.nev; j++) {
                void *it = pin_get(e, m.ev[j].p);
                if (it)
                    extra[nx++] = (evref){m.ev[j].t, m.ev[j].seq, pin_take(e, it)};
            }
            void *trig = pin_get(e, m.trigger);
            feed_one(e, us.cc, us.pos, 1ULL << us.pos, m.t, trig, NULL, &m, extra, nx);
        }
        meta_free(e, &m);
    }
    e->nq = 0;
}

static int group_idle(const sc_engine *e, const group *g)
{
    int64_t span = e->cc[g->cc].span;
    return g->cursor < sat_add(e->gcursor, -2 * (span > INT64_MAX / 4 ? INT64_MAX / 4 : span)) ||
           g->cursor > sat_add(e->gcursor, 2 * (span > INT64_MAX / 4 ? INT64_MAX / 4 : span));
}

/* Inner correlations first, then by time: the order signals come out in does not depend
 * on the hash table. */
static int group_order(const void *pa, const void *pb)
{
    const group *a = *(group *const *)pa, *b = *(group *const *)pb;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    if (a->cursor != b->cursor)
        return a->cursor < b->cursor ? -1 : 1;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return a->cc < b->cc ? -1 : a->cc > b->cc;
}

/* What must be closed now: an idle group (everything when final), a signal no later
 * window can join, a window whose timespan has passed. */
static int due(const sc_engine *e, const group *g, int final)
{
    const ccorr *c = &e->cc[g->cc];
    int idle = final || group_idle(e, g);
    return (g->ep.open && (idle || e->gcursor > sat_add(g->ep.last, c->span))) ||
           (g->win_open && (idle || e->gcursor > sat_add(g->win_min, c->span))) || idle;
}

/* Closes what is due, inner correlations first (their firings reach those that name them
 * before these are looked at), in a fixed order (output does not depend on the table),
 * then frees idle groups. Called every max(SWEEP_EVERY, groups) events: a scan of the
 * table costs at most one step per event. */
static void sweep(sc_engine *e, int final)
{
    size_t n = 0;
    group **due_v = malloc((e->ngroups ? e->ngroups : 1) * sizeof *due_v);
    if (!due_v)
        return;
    for (size_t i = 0; i < e->tabsize; i++)
        for (group *g = e->tab[i]; g; g = g->next)
            if (due(e, g, final))
                due_v[n++] = g;
    if (n > 1)
        qsort(due_v, n, sizeof *due_v, group_order);
    for (size_t i = 0; i < n; i++) {
        group *g = due_v[i];
        const ccorr *c = &e->cc[g->cc];
        int idle = final || group_idle(e, g);
        if (g->ep.open && (idle || e->gcursor > sat_add(g->ep.last, c->span)))
            episode_close(e, g);
        if (g->win_open && (idle || e->gcursor > sat_add(g->win_min, c->span)))
            window_close(e, g);
        if (i + 1 == n || due_v[i + 1]->rank != g->rank)
            drain(e);
    }
    free(due_v);
    for (size_t i = 0; i < e->tabsize; i++) {
        group **pp = &e->tab[i];
        while (*pp) {
            group *g = *pp;
            if ((final || group_idle(e, g)) && !g->ep.open && !g->win_open) {
                *pp = g->next;
                group_free(e, g);
                e->ngroups--;
            } else {
                pp = &g->next;
            }
        }
    }
    e->since_sweep = 0;
}

void sc_feed(sc_engine *e, void *item, const dh_event *ev, const dh_rule *const *matched,
             size_t nmatched)
{
    int64_t t = dh_event_time(ev);
    e->gcursor = t;
    /* Which (correlation, group) pairs the event touches, and at which positions: an event
     * matching two rules of one correlation is one event (of both rules) when both give
     * it the same group. */
    touch tl[64];
    size_t nt = 0, tlen = 0;
    for (size_t m = 0; m < nmatched; m++) {
        size_t b = dh_rule_index(matched[m]);
        for (uint32_t u = 0; b < e->nrules && u < e->nuses[b]; u++) {
            use us = e->uses[b][u];
            size_t klen = make_key(e, &e->cc[us.cc], us.pos, ev, NULL);
            if (klen == (size_t)-1)
                continue;
            size_t k;
            for (k = 0; k < nt; k++)
                if (tl[k].cc == us.cc && tl[k].klen == klen &&
                    (!klen || !memcmp(e->tkeys + tl[k].kfrom, e->kbuf, klen)))
                    break;
            if (k < nt) {
                tl[k].mask |= 1ULL << us.pos;
                continue;
            }
            if (tlen + klen > e->tcap) {
                size_t cap = e->tcap ? e->tcap : 256;
                while (cap < tlen + klen)
                    cap *= 2;
                char *nk = realloc(e->tkeys, cap);
                if (!nk) {
                    e->stats.dropped++;
                    continue;
                }
                e->tkeys = nk;
                e->tcap = cap;
            }
            if (nt == sizeof tl / sizeof tl[0]) {
                e->stats.dropped++;
                continue;
            }
            if (klen)
                memcpy(e->tkeys + tlen, e->kbuf, klen);
            tl[nt] = (touch){us.cc, us.pos, 1ULL << us.pos, tlen, klen};
            tlen += klen;
            nt++;
        }
    }
    for (size_t i = 0; i < nt; i++)
        feed_touch(e, &tl[i], t, item, ev);
    drain(e);
    if (++e->since_sweep >= SWEEP_EVERY && e->since_sweep >= e->ngroups)
        sweep(e, 0);
}

void sc_flush(sc_engine *e)
{
    /* A firing closed at the end may open groups of the correlations that name it: sweep
     * until nothing is left (chains are at most as deep as there are correlations). */
    for (size_t round = 0; round <= e->ncc + 1 && e->ngroups; round++)
        sweep(e, 1);
}
