/* The string set of idset.h: linear probing, tombstones on removal, doubling at half
 * full. A slot points at one allocation: the 8-byte tag, then the string and its NUL. */
#include "stream/idset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TAG_BYTES sizeof(uint64_t)

static char tomb[1];

static uint64_t hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static const char *str_of(const char *held)
{
    return held + TAG_BYTES;
}

static uint64_t tag_of(const char *held)
{
    uint64_t t;
    memcpy(&t, held, sizeof t);
    return t;
}

static int same(const char *held, const char *p, size_t n)
{
    return held != tomb && strlen(str_of(held)) == n && memcmp(str_of(held), p, n) == 0;
}

void dh_idset_init(dh_idset *s, size_t limit)
{
    memset(s, 0, sizeof *s);
    s->limit = limit;
}

/* The slot holding str, or NULL. */
static char **find(const dh_idset *s, const char *str, size_t len)
{
    if (!s->cap)
        return NULL;
    for (size_t i = hash(str, len) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->slot[i])
            return NULL;
        if (same(s->slot[i], str, len))
            return &s->slot[i];
    }
}

int dh_idset_has(const dh_idset *s, const char *str, size_t len)
{
    return find(s, str, len) != NULL;
}

/* Rehashed into a table sized by the strings alone (a set that keeps adding and removing
 * stays this size); the tombstones go. */
static dh_status rehash(dh_idset *s, size_t want)
{
    size_t cap = 64;
    while (cap < want * 4)
        cap *= 2;
    char **slot = calloc(cap, sizeof *slot);
    if (!slot)
        return DH_ERR_NOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        char *held = s->slot[i];
        if (!held || held == tomb)
            continue;
        size_t j = hash(str_of(held), strlen(str_of(held))) & (cap - 1);
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

dh_status dh_idset_add_tagged(dh_idset *s, const char *str, size_t len, uint64_t tag)
{
    char **at = find(s, str, len);
    if (at) {
        if (tag > tag_of(*at))
            memcpy(*at, &tag, sizeof tag);
        return DH_OK;
    }
    if (s->n >= s->limit || memchr(str, 0, len))
        return DH_ERR_LIMIT;
    /* tombstones count as used, so probes always meet an empty slot; a rehash drops them */
    if ((s->used + 1) * 2 > s->cap) {
        dh_status st = rehash(s, s->n + 1);
        if (st != DH_OK)
            return st;
    }
    char *copy = malloc(TAG_BYTES + len + 1);
    if (!copy)
        return DH_ERR_NOMEM;
    memcpy(copy, &tag, sizeof tag);
    memcpy(copy + TAG_BYTES, str, len);
    copy[TAG_BYTES + len] = 0;
    size_t i = hash(str, len) & (s->cap - 1);
    while (s->slot[i] && s->slot[i] != tomb)
        i = (i + 1) & (s->cap - 1);
    if (!s->slot[i])
        s->used++;
    s->slot[i] = copy;
    s->n++;
    return DH_OK;
}

dh_status dh_idset_add(dh_idset *s, const char *str, size_t len)
{
    return dh_idset_add_tagged(s, str, len, 0);
}

void dh_idset_remove(dh_idset *s, const char *str, size_t len)
{
    char **at = find(s, str, len);
    if (at) {
        free(*at);
        *at = tomb;
        s->n--;
    }
}

size_t dh_idset_evict_below(dh_idset *s, uint64_t tag)
{
    size_t gone = 0;
    for (size_t i = 0; i < s->cap; i++) {
        char *held = s->slot[i];
        if (held && held != tomb && tag_of(held) < tag) {
            free(held);
            s->slot[i] = tomb;
            s->n--;
            gone++;
        }
    }
    /* probes stop at empty slots, so tombstones cannot simply be cleared: rehash (when
     * that fails for memory, the tombstones stay and the set is still right) */
    if (gone)
        rehash(s, s->n);
    return gone;
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
