/* Counting events per (channel, event id, kind): per-worker tables merged at the end
 * (the engine's channel counts, dh_engine_channels). */
#ifndef DH_ENGINE_TALLY_H
#define DH_ENGINE_TALLY_H

#include <stddef.h>
#include <stdint.h>

typedef struct dh_tally {
    char *channel;
    size_t channel_len;
    uint32_t event_id;
    int kind;
    uint64_t count;
} dh_tally;

typedef struct dh_tally_table {
    dh_tally *v;
    size_t n, cap; /* open addressing, cap a power of two */
} dh_tally_table;

/* Finds or adds the entry; NULL when out of memory. */
dh_tally *dh_tally_find(dh_tally_table *t, const char *s, size_t n, uint32_t id, int kind,
                        size_t *slot);
/* Adds src's counts to dst and empties src (frees its entries). */
void dh_tally_merge(dh_tally_table *dst, dh_tally_table *src);
/* Orders by channel, event id, kind. */
int dh_tally_cmp(const void *a, const void *b);
/* Most frequent first, then as dh_tally_cmp. */
int dh_tally_cmp_count(const void *a, const void *b);

#endif
