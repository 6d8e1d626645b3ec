/* Which findings a writer keeps, and in what order (keep.h). */
#include "findings/keep.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/timeline.h"

/* Rendered findings held in memory, then sorted runs on disk: a finding's text is a few
 * KiB, so this holds thousands before the first run; 256 MiB let a findings-rich hunt's
 * resident size grow with its input. */
#define HELD_BYTES (16u << 20)

struct dh_keep {
    dh_tuning *tuning; /* borrowed; NULL: no tuning */
    int show_suppressed;
    dh_level min_level;
    const unsigned char *rule_on; /* borrowed; NULL: every rule */
    int require_rule;
    timeline *tl;  /* the rendered findings, by their printing key */
    uint64_t *ids; /* open-addressing set of the ids kept (two copies of an input) */
    size_t ids_cap;
    dh_buf key;
    dh_keep_counts n;
};

dh_keep *dh_keep_new(void)
{
    dh_keep *k = calloc(1, sizeof *k);
    if (k && !(k->tl = timeline_new(HELD_BYTES))) {
        free(k);
        return NULL;
    }
    if (k)
        dh_buf_init(&k->key, 4 * (size_t)DH_VALUE_CAP);
    return k;
}

void dh_keep_set_tuning(dh_keep *k, dh_tuning *t, int show_suppressed)
{
    k->tuning = t;
    k->show_suppressed = show_suppressed;
}

void dh_keep_set_filter(dh_keep *k, dh_level min_level, const unsigned char *rule_on,
                        int require_rule)
{
    k->min_level = min_level;
    k->rule_on = rule_on;
    k->require_rule = require_rule;
}

static int selected(const dh_keep *k, const dh_finding *f)
{
    if (f->severity < k->min_level)
        return 0;
    if (!k->require_rule)
        return 1;
    for (size_t i = 0; i < f->nrules; i++)
        if (!k->rule_on || k->rule_on[dh_rule_index(f->rules[i])])
            return 1;
    return 0;
}

int dh_keep_selects(dh_keep *k, const dh_finding *f)
{
    if (selected(k, f))
        return 1;
    k->n.hidden++;
    return 0;
}

/* Adds the finding's id to the set of ids kept; 0 if it was there already (two copies of
 * the same input give the same finding: one is kept). */
static int id_new(dh_keep *k, const char *id)
{
    uint64_t key = strtoull(id, NULL, 16) | 1; /* 0 marks a free slot */
    if ((k->n.nkept + 1) * 2 > k->ids_cap) {
        size_t cap = k->ids_cap ? k->ids_cap * 2 : 1024;
        uint64_t *v = calloc(cap, sizeof *v);
        if (!v)
            return 1; /* keep it: a repeat is better than a loss */
        for (size_t i = 0; i < k->ids_cap; i++)
            if (k->ids[i]) {
                size_t j = (size_t)(k->ids[i] * 0x9E3779B97F4A7C15ULL) & (cap - 1);
                while (v[j])
                    j = (j + 1) & (cap - 1);
                v[j] = k->ids[i];
            }
        free(k->ids);
        k->ids = v;
        k->ids_cap = cap;
    }
    size_t j = (size_t)(key * 0x9E3779B97F4A7C15ULL) & (k->ids_cap - 1);
    for (; k->ids[j]; j = (j + 1) & (k->ids_cap - 1))
        if (k->ids[j] == key)
            return 0;
    k->ids[j] = key;
    return 1;
}

int dh_keep_admits(dh_keep *k, const dh_finding *f, const dh_rule **sup)
{
    *sup = NULL;
    if (!id_new(k, f->id))
        return 0;
    k->n.cut += f->ncuts;
    k->n.commands_dropped += f->commands_dropped;
    k->n.evidence_dropped += f->evidence_dropped;
    k->n.rules_dropped += f->rules_dropped;
    *sup = k->tuning ? dh_tuning_check(k->tuning, f) : NULL;
    if (*sup) {
        k->n.suppressed[f->kind & 3]++;
        if (!k->show_suppressed)
            return 0; /* counted, and shown with show_suppressed */
    }
    return 1;
}

/* The order findings are printed in, as bytes memcmp compares: shown before suppressed,
 * chains before lone signals, by first seen, target host, id. */
static void sort_key(dh_buf *k, const dh_finding *f, int suppressed)
{
    dh_buf_reset(k);
    dh_buf_putc(k, (char)(suppressed ? 1 : 0));
    dh_buf_putc(k, (char)(f->kind == DH_FINDING_SIGNAL ? 1 : 0));
    uint64_t u = (uint64_t)f->first_seen ^ (1ULL << 63); /* big-endian, sign flipped */
    for (int i = 0; i < 8; i++)
        dh_buf_putc(k, (char)(u >> (56 - 8 * i)));
    /* the target's bytes, a NUL as 00 FF and 00 00 at the end, so a prefix sorts first */
    for (size_t i = 0; i < f->target_host.len; i++) {
        dh_buf_putc(k, f->target_host.ptr[i]);
        if (!f->target_host.ptr[i])
            dh_buf_putc(k, (char)0xFF);
    }
    dh_buf_append(k, "\0\0", 2);
    dh_buf_append(k, f->id, 16);
}

dh_status dh_keep_store(dh_keep *k, const dh_finding *f, const dh_rule *sup, const char *text,
                        size_t len, dh_str *key)
{
    sort_key(&k->key, f, sup != NULL);
    dh_status st = timeline_add_key(k->tl, k->key.data, k->key.len, text, len);
    if (st != DH_OK) {
        k->n.lost++;
        return st;
    }
    k->n.nkept++;
    if (sup)
        k->n.nkept_suppressed++;
    else
        k->n.per_kind[f->kind & 3]++;
    if (key)
        *key = (dh_str){k->key.data, k->key.len};
    return DH_OK;
}

dh_status dh_keep_replay(dh_keep *k, dh_status (*fn)(void *ctx, const char *text, size_t len),
                         void *ctx)
{
    dh_status st = timeline_finish(k->tl, fn, ctx);
    if (st != DH_OK)
        k->n.lost++;
    return st;
}

const dh_keep_counts *dh_keep_counts_of(const dh_keep *k)
{
    return &k->n;
}

void dh_keep_free(dh_keep *k)
{
    if (!k)
        return;
    timeline_free(k->tl);
    free(k->ids);
    dh_buf_free(&k->key);
    free(k);
}
