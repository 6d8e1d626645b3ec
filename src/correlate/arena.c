/* The memory of one correlation pass: a bump allocator freed all at once when the pass
 * ends, and a small uint64 -> int32 hash map built in it. A failed allocation is
 * remembered (arena.failed) so the pass can report it once instead of checking every
 * call site's partial state. */
#include <stdlib.h>
#include <string.h>

#include "correlate/corr.h"

struct arena_block {
    arena_block *next;
    size_t used, cap;
    max_align_t data[]; /* aligned for anything */
};

#define BLOCK_MIN (256u << 10)

void *arena_alloc(arena *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!n)
        n = sizeof(max_align_t);
    arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > BLOCK_MIN ? n : BLOCK_MIN;
        b = malloc(sizeof *b + cap);
        if (!b) {
            a->failed = 1;
            return NULL;
        }
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

void *arena_grow(arena *a, void *old, size_t old_n, size_t new_n)
{
    void *p = arena_alloc(a, new_n);
    if (p && old && old_n)
        memcpy(p, old, old_n < new_n ? old_n : new_n);
    return p;
}

char *arena_strdup(arena *a, dh_str s)
{
    char *d = arena_alloc(a, s.len + 1);
    if (d && s.len)
        memcpy(d, s.ptr, s.len);
    return d;
}

void arena_free(arena *a)
{
    for (arena_block *b = a->head, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    a->head = NULL;
}

/* 0 marks an empty slot: the key 0 is stored as this constant instead. */
#define KEY_ZERO 0x9e3779b97f4a7c15ULL

static size_t slot(uint64_t key, size_t cap)
{
    uint64_t h = key * 0xff51afd7ed558ccdULL;
    return (size_t)(h ^ (h >> 32)) & (cap - 1);
}

int32_t u64map_get(const u64map *m, uint64_t key)
{
    if (!m->cap)
        return -1;
    if (!key)
        key = KEY_ZERO;
    for (size_t i = slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key)
            return m->vals[i];
        if (!m->keys[i])
            return -1;
    }
}

int u64map_put(arena *a, u64map *m, uint64_t key, int32_t val)
{
    if (!key)
        key = KEY_ZERO;
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        uint64_t *keys = arena_alloc(a, cap * sizeof *keys);
        int32_t *vals = arena_alloc(a, cap * sizeof *vals);
        if (!keys || !vals)
            return -1;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->keys[i])
                continue;
            size_t j = slot(m->keys[i], cap);
            while (keys[j])
                j = (j + 1) & (cap - 1);
            keys[j] = m->keys[i];
            vals[j] = m->vals[i];
        }
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    size_t i = slot(key, m->cap);
    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i])
        m->n++;
    m->keys[i] = key;
    m->vals[i] = val;
    return 0;
}
