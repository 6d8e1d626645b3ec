/* Open-addressing table of event counts, keyed by channel, event id and kind (tally.h). */
#include <stdlib.h>
#include <string.h>

#include "engine/tally.h"

static uint64_t hash_key(const char *s, size_t n, uint32_t id)
{
    uint64_t h = 1469598103934665603ULL ^ id;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

dh_tally *dh_tally_find(dh_tally_table *t, const char *s, size_t n, uint32_t id, int kind,
                        size_t *slot)
{
    if (t->n * 2 >= t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        dh_tally *nv = calloc(cap, sizeof *nv);
        if (!nv)
            return NULL;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->v[i].count && !t->v[i].channel)
                continue;
            size_t j = hash_key(t->v[i].channel, t->v[i].channel_len, t->v[i].event_id) & (cap - 1);
            while (nv[j].channel)
                j = (j + 1) & (cap - 1);
            nv[j] = t->v[i];
        }
        free(t->v);
        t->v = nv;
        t->cap = cap;
    }
    size_t j = hash_key(s, n, id) & (t->cap - 1);
    while (t->v[j].channel) {
        dh_tally *e = &t->v[j];
        if (e->event_id == id && e->kind == kind && e->channel_len == n &&
            memcmp(e->channel, s, n) == 0) {
            *slot = j;
            return e;
        }
        j = (j + 1) & (t->cap - 1);
    }
    dh_tally *e = &t->v[j];
    e->channel = malloc(n + 1);
    if (!e->channel)
        return NULL;
    memcpy(e->channel, s, n);
    e->channel[n] = 0;
    e->channel_len = n;
    e->event_id = id;
    e->kind = kind;
    e->count = 0;
    t->n++;
    *slot = j;
    return e;
}

int dh_tally_cmp(const void *a, const void *b)
{
    const dh_tally *x = a, *y = b;
    size_t n = x->channel_len < y->channel_len ? x->channel_len : y->channel_len;
    int c = n ? memcmp(x->channel, y->channel, n) : 0;
    if (!c && x->channel_len != y->channel_len)
        c = x->channel_len < y->channel_len ? -1 : 1;
    if (c)
        return c;
    if (x->event_id != y->event_id)
        return x->event_id < y->event_id ? -1 : 1;
    return x->kind - y->kind;
}

int dh_tally_cmp_count(const void *a, const void *b)
{
    const dh_tally *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return dh_tally_cmp(a, b);
}

void dh_tally_merge(dh_tally_table *dst, dh_tally_table *src)
{
    for (size_t i = 0; i < src->cap; i++) {
        dh_tally *e = &src->v[i];
        if (!e->channel)
            continue;
        size_t slot;
        dh_tally *m = dh_tally_find(dst, e->channel, e->channel_len, e->event_id, e->kind, &slot);
        if (m)
            m->count += e->count;
        free(e->channel);
    }
    free(src->v);
    src->v = NULL;
    src->n = src->cap = 0;
}
