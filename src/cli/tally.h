/* Counting events per (channel, event id, kind): per-worker tables merged at the end. */
#ifndef DH_CLI_TALLY_H
#define DH_CLI_TALLY_H

#include <stddef.h>
#include <stdint.h>

typedef struct tally {
    char *channel;
    size_t channel_len;
    uint32_t event_id;
    int kind;
    uint64_t count;
} tally;

typedef struct table {
    tally *v;
    size_t n, cap; /* open addressing, cap a power of two */
} table;

/* Finds or adds the entry; NULL when out of memory. */
tally *table_find(table *t, const char *s, size_t n, uint32_t id, int kind, size_t *slot);
/* Adds src's counts to dst and empties src (frees its entries). */
void table_merge(table *dst, table *src);
/* Orders by channel, event id, kind. */
int tally_cmp(const void *a, const void *b);
/* Most frequent first, then as tally_cmp. */
int tally_cmp_count(const void *a, const void *b);

#endif
