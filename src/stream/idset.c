/* The string set of idset.h: linear probing, tombstones on removal, doubling at half
 * full. */
#include "stream/idset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char tomb[1];

static uint64_t hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static int same(const char *held, const char *p, size_t n)
{
    return held != tomb && strlen(held) == n && memcmp(held, p, n) == 0;
}

void dh_idset_init(dh_idset *s, size_t limit)
{
    memset(s, 0, sizeof *s);
    s->limit = limit;
}

int dh_idset_has(const dh_idset *s, const char *str, size_t len)
{
    if (!s->cap)
        return 0;
    for (size_t i = hash(str, len) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->slot[i])
            return 0;
        if (same(s->slot[i], str, len))
            return 1;
    }
}

static dh_status grow(dh_idset *s)
{
    /* sized by the strings alone: a set that keeps adding and removing stays this size */
    size_t cap = 64;
    while (cap < (s->n + 1) * 4)
        cap *= 2;
    char **slot = calloc(cap, sizeof *slot);
    if (!slot)
        return DH_ERR_NOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        char *held = s->slot[i];
        if (!held || held == tomb)
            continue;
        size_t j = hash(held, strlen(held)) & (cap - 1);
        while (slot[j])
            j = (j + 1) & (cap - 1);
        slot[j] = held;
    }
    free(s->slot);
    s->slot = slot;
    s->cap = cap;
    s->used = s->n;
    return DH_OK;
}

dh_status dh_idset_add(dh_idset *s, const char *str, size_t len)
{
    if (dh_idset_has(s, str, len))
        return DH_OK;
    if (s->n >= s->limit || memchr(str, 0, len))
        return DH_ERR_LIMIT;
    /* tombstones count as used, so probes always meet an empty slot; a rehash drops them */
    if ((s->used + 1) * 2 > s->cap) {
        dh_status st = grow(s);
        if (st != DH_OK)
            return st;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return DH_ERR_NOMEM;
    memcpy(copy, str, len);
    copy[len] = 0;
    size_t i = hash(str, len) & (s->cap - 1);
    while (s->slot[i] && s->slot[i] != tomb)
        i = (i + 1) & (s->cap - 1);
    if (!s->slot[i])
        s->used++;
    s->slot[i] = copy;
    s->n++;
    return DH_OK;
}

void dh_idset_remove(dh_idset *s, const char *str, size_t len)
{
    if (!s->cap)
        return;
    for (size_t i = hash(str, len) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->slot[i])
            return;
        if (same(s->slot[i], str, len)) {
            free(s->slot[i]);
            s->slot[i] = tomb;
            s->n--;
            return;
        }
    }
}

void dh_idset_clear(dh_idset *s)
{
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i] != tomb)
            free(s->slot[i]);
    free(s->slot);
    s->slot = NULL;
    s->cap = s->n = s->used = 0;
}
