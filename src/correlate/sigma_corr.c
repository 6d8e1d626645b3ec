/* Sigma correlation rules (event_count, value_count, temporal, temporal_ordered) over the
 * events the correlator kept, fed in time order.
 *
 * State is one group per (correlation rule, group-by values): the events of the rules it
 * names seen within its timespan. Entries older than the timespan are dropped as time
 * advances and idle groups are swept, so memory follows the windows, with hard caps on
 * entries per group and on groups. When a group meets its condition it fires once and
 * starts over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/sigma_corr.h"
#include "rules/sigma.h"

#define TICKS       10000000LL
#define MAX_ENTRIES 10000   /* per group: the oldest are dropped past this */
#define MAX_GROUPS  1000000 /* new groups beyond this are not opened (counted) */
#define SWEEP_EVERY 4096

typedef struct entry {
    int64_t t;
    uint32_t pos;   /* which of the correlation's rules */
    uint64_t vhash; /* value_count: hash of the value, 0 when absent */
    void *item;
} entry;

typedef struct group {
    uint32_t corr; /* rule index of the correlation */
    uint64_t hash;
    char *key;
    entry *e;
    size_t n, cap;
    int64_t newest;
    struct group *next;
} group;

struct sc_engine {
    const dh_ruleset *rs;
    /* For each rule index: the correlations naming it, with its position there. */
    uint32_t **uses;
    uint32_t *nuses;
    size_t nrules;
    group **tab;
    size_t tabsize, ngroups;
    uint64_t dropped_groups, dropped_entries;
    uint64_t fed;
};

static uint64_t fnv(const char *s, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

sc_engine *sc_new(const dh_ruleset *rs)
{
    sc_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->rs = rs;
    e->nrules = dh_ruleset_count(rs);
    e->uses = calloc(e->nrules + 1, sizeof *e->uses);
    e->nuses = calloc(e->nrules + 1, sizeof *e->nuses);
    e->tabsize = 4096;
    e->tab = calloc(e->tabsize, sizeof *e->tab);
    if (!e->uses || !e->nuses || !e->tab) {
        sc_free(e);
        return NULL;
    }
    for (size_t i = 0; i < e->nrules; i++) {
        const dh_rule *r = dh_ruleset_rule(rs, i);
        if (!r->corr || !r->corr->ref_idx)
            continue;
        for (size_t k = 0; k < r->corr->refs.n; k++) {
            uint32_t b = r->corr->ref_idx[k];
            uint32_t *nu = realloc(e->uses[b], (e->nuses[b] + 1) * 2 * sizeof *nu);
            if (!nu)
                continue;
            e->uses[b] = nu;
            nu[2 * e->nuses[b]] = (uint32_t)i;
            nu[2 * e->nuses[b] + 1] = (uint32_t)k;
            e->nuses[b]++;
        }
    }
    return e;
}

static void group_free(group *g)
{
    free(g->key);
    free(g->e);
    free(g);
}

void sc_free(sc_engine *e)
{
    if (!e)
        return;
    for (size_t i = 0; e->tab && i < e->tabsize; i++) {
        group *g = e->tab[i];
        while (g) {
            group *n = g->next;
            group_free(g);
            g = n;
        }
    }
    for (size_t i = 0; e->uses && i < e->nrules; i++)
        free(e->uses[i]);
    free(e->uses);
    free(e->nuses);
    free(e->tab);
    free(e);
}

/* A Sigma field's value in an event: envelope names, then taxonomy and original names. */
static int get_value(const dh_event *ev, const char *name, char *num, dh_str *out)
{
    if (!strcmp(name, "EventID")) {
        int k = snprintf(num, 24, "%u", dh_event_id(ev));
        *out = (dh_str){num, (size_t)k};
        return 1;
    }
    if (!strcmp(name, "Computer") || !strcmp(name, "ComputerName") || !strcmp(name, "Hostname")) {
        *out = dh_event_host(ev);
        return 1;
    }
    if (!strcmp(name, "Channel")) {
        *out = dh_event_channel(ev);
        return 1;
    }
    if (!strcmp(name, "Provider_Name")) {
        *out = dh_event_provider(ev);
        return 1;
    }
    return dh_event_get(ev, name, strlen(name), out);
}

/* The field that plays `name` for base rule `rule` (an alias, else the name itself). */
static const char *field_for(const corr_def *d, const dh_rule *rule, const char *name)
{
    for (size_t a = 0; a < d->naliases; a++) {
        if (strcmp(d->aliases[a].alias, name))
            continue;
        for (size_t k = 0; k < d->aliases[a].rules.n; k++) {
            const char *rn = d->aliases[a].rules.v[k];
            if ((*rule->name && !strcmp(rule->name, rn)) || (*rule->id && !strcmp(rule->id, rn)))
                return d->aliases[a].fields.v[k];
        }
    }
    return name;
}

static int condition_holds(const corr_def *d, double x)
{
    return (!d->has_gt || x > d->gt) && (!d->has_gte || x >= d->gte) && (!d->has_lt || x < d->lt) &&
           (!d->has_lte || x <= d->lte) && (!d->has_eq || x == d->eq);
}

static group *find_group(sc_engine *e, uint32_t corr, const char *key, size_t klen)
{
    uint64_t h = fnv(key, klen, 1469598103934665603ULL ^ corr);
    group **slot = &e->tab[h % e->tabsize];
    for (group *g = *slot; g; g = g->next)
        if (g->hash == h && g->corr == corr && strlen(g->key) == klen && !memcmp(g->key, key, klen))
            return g;
    if (e->ngroups >= MAX_GROUPS) {
        e->dropped_groups++;
        return NULL;
    }
    group *g = calloc(1, sizeof *g);
    if (!g || !(g->key = malloc(klen + 1))) {
        free(g);
        return NULL;
    }
    memcpy(g->key, key, klen);
    g->key[klen] = 0;
    g->corr = corr;
    g->hash = h;
    g->next = *slot;
    *slot = g;
    e->ngroups++;
    return g;
}

static void evict(group *g, int64_t horizon)
{
    size_t k = 0;
    while (k < g->n && g->e[k].t < horizon)
        k++;
    if (k) {
        memmove(g->e, g->e + k, (g->n - k) * sizeof *g->e);
        g->n -= k;
    }
}

static void sweep(sc_engine *e, int64_t now)
{
    for (size_t i = 0; i < e->tabsize; i++) {
        group **pp = &e->tab[i];
        while (*pp) {
            group *g = *pp;
            const dh_rule *cr = dh_ruleset_rule(e->rs, g->corr);
            if (g->newest < now - cr->corr->timespan_s * TICKS) {
                *pp = g->next;
                group_free(g);
                e->ngroups--;
            } else {
                pp = &g->next;
            }
        }
    }
}

static int fires(const corr_def *d, const group *g)
{
    switch (d->type) {
    case CORR_EVENT_COUNT:
        return condition_holds(d, (double)g->n);
    case CORR_VALUE_COUNT: {
        size_t distinct = 0;
        for (size_t i = 0; i < g->n; i++) {
            if (!g->e[i].vhash)
                continue;
            size_t j;
            for (j = 0; j < i; j++)
                if (g->e[j].vhash == g->e[i].vhash)
                    break;
            distinct += j == i;
        }
        return condition_holds(d, (double)distinct);
    }
    case CORR_TEMPORAL:
        for (size_t k = 0; k < d->refs.n; k++) {
            size_t i;
            for (i = 0; i < g->n; i++)
                if (g->e[i].pos == k)
                    break;
            if (i == g->n)
                return 0;
        }
        return 1;
    default: { /* temporal_ordered: the rules matched in the order listed */
        size_t want = 0;
        for (size_t i = 0; i < g->n && want < d->refs.n; i++)
            if (g->e[i].pos == want)
                want++;
        return want == d->refs.n;
    }
    }
}

void sc_feed(sc_engine *e, void *item, const dh_event *ev, const dh_rule *const *matched,
             size_t nmatched, sc_fire_fn fire, void *ctx)
{
    int64_t t = dh_event_time(ev);
    if (++e->fed % SWEEP_EVERY == 0)
        sweep(e, t);
    for (size_t m = 0; m < nmatched; m++) {
        uint32_t b = (uint32_t)dh_rule_index(matched[m]);
        for (uint32_t u = 0; b < e->nrules && u < e->nuses[b]; u++) {
            uint32_t ci = e->uses[b][2 * u], pos = e->uses[b][2 * u + 1];
            const dh_rule *cr = dh_ruleset_rule(e->rs, ci);
            const corr_def *d = cr->corr;
            char key[1024];
            size_t kl = 0;
            char num[24];
            for (size_t gi = 0; gi < d->group_by.n; gi++) {
                dh_str v = {"", 0};
                get_value(ev, field_for(d, matched[m], d->group_by.v[gi]), num, &v);
                if (kl + v.len + 1 >= sizeof key)
                    break;
                memcpy(key + kl, v.ptr, v.len);
                kl += v.len;
                key[kl++] = '\x1f';
            }
            group *g = find_group(e, ci, key, kl);
            if (!g)
                continue;
            evict(g, t - d->timespan_s * TICKS);
            if (g->n == g->cap) {
                if (g->cap >= MAX_ENTRIES) {
                    memmove(g->e, g->e + 1, (g->n - 1) * sizeof *g->e);
                    g->n--;
                    e->dropped_entries++;
                } else {
                    size_t cap = g->cap ? g->cap * 2 : 8;
                    entry *ne = realloc(g->e, cap * sizeof *ne);
                    if (!ne)
                        continue;
                    g->e = ne;
                    g->cap = cap;
                }
            }
            uint64_t vh = 0;
            if (d->value_field) {
                dh_str v;
                if (get_value(ev, field_for(d, matched[m], d->value_field), num, &v) && v.len)
                    vh = fnv(v.ptr, v.len, 1469598103934665603ULL) | 1;
            }
            g->e[g->n++] = (entry){t, pos, vh, item};
            g->newest = t;
            if (fires(d, g)) {
                void *items[256];
                size_t n = g->n < 256 ? g->n : 256;
                for (size_t i = 0; i < n; i++)
                    items[i] = g->e[g->n - n + i].item;
                fire(ctx, cr, items, n);
                g->n = 0;
            }
        }
    }
}
