/* The HTML report's tallies (html_tally.h): string -> counts for the summary, the hosts and
 * the graph's edges, open addressing, at most MAX_TALLY keys each (more are counted). */
#include <stdlib.h>
#include <string.h>

#include "output/html_tally.h"

void html_tally_init(tally *t)
{
    memset(t, 0, sizeof *t);
    dh_buf_init(&t->keys, 256u << 20);
}

void html_tally_free(tally *t)
{
    dh_buf_free(&t->keys);
    free(t->v);
    free(t->slot);
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

const char *html_tkey(const tally *t, const titem *it)
{
    return t->keys.data + it->key;
}

static int tally_rehash(tally *t, size_t nslot)
{
    uint32_t *s = calloc(nslot, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        size_t h = (size_t)fnv1a(html_tkey(t, &t->v[i]), t->v[i].klen) & (nslot - 1);
        while (s[h])
            h = (h + 1) & (nslot - 1);
        s[h] = (uint32_t)(i + 1);
    }
    free(t->slot);
    t->slot = s;
    t->nslot = nslot;
    return 0;
}

/* The item for key k, created with zero counts if missing; NULL when the cap or memory
 * refuses it (counted in dropped). */
titem *html_tally_get(tally *t, const char *k, size_t kn)
{
    if (t->nslot == 0 && tally_rehash(t, 64) < 0)
        return NULL;
    size_t h = (size_t)fnv1a(k, kn) & (t->nslot - 1);
    while (t->slot[h]) {
        titem *it = &t->v[t->slot[h] - 1];
        if (it->klen == kn && memcmp(html_tkey(t, it), k, kn) == 0)
            return it;
        h = (h + 1) & (t->nslot - 1);
    }
    if (t->n >= MAX_TALLY) {
        t->dropped++;
        return NULL;
    }
    if (t->n == t->vcap) {
        size_t nc = t->vcap ? t->vcap * 2 : 64;
        titem *nv = realloc(t->v, nc * sizeof *nv);
        if (!nv) {
            t->dropped++;
            return NULL;
        }
        t->v = nv, t->vcap = nc;
    }
    size_t off = t->keys.len;
    if (dh_buf_append(&t->keys, k, kn) != DH_OK || dh_buf_putc(&t->keys, '\0') != DH_OK) {
        dh_buf_truncate(&t->keys, off);
        t->dropped++;
        return NULL;
    }
    titem *it = &t->v[t->n];
    memset(it, 0, sizeof *it);
    it->key = off, it->klen = kn;
    t->slot[h] = (uint32_t)(++t->n);
    if (t->n * 2 >= t->nslot && tally_rehash(t, t->nslot * 2) < 0) {
        /* still consistent at this load; the next miss may fail instead */
    }
    return it;
}

titem *html_tally_find(const tally *t, const char *k, size_t kn)
{
    if (!t->nslot)
        return NULL;
    size_t h = (size_t)fnv1a(k, kn) & (t->nslot - 1);
    while (t->slot[h]) {
        titem *it = &t->v[t->slot[h] - 1];
        if (it->klen == kn && memcmp(html_tkey(t, it), k, kn) == 0)
            return it;
        h = (h + 1) & (t->nslot - 1);
    }
    return NULL;
}

/* Length of s cut to at most max bytes on a UTF-8 character boundary. */
size_t html_cut_utf8(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* A composite key: each part as a 4-byte length then its bytes (parts may hold any byte). */
void html_key_part(dh_buf *k, dh_jstr p)
{
    uint32_t n = (uint32_t)html_cut_utf8(p.p, p.n, MAX_KEY);
    dh_buf_append(k, &n, sizeof n);
    dh_buf_append(k, p.p, n);
}

/* Part i of composite key k (length kn). */
dh_jstr html_key_at(const char *k, size_t kn, int i)
{
    size_t at = 0;
    dh_jstr r = {"", 0};
    for (int j = 0; at + 4 <= kn; j++) {
        uint32_t n;
        memcpy(&n, k + at, 4);
        if (at + 4 + n > kn)
            break;
        if (j == i) {
            r.p = k + at + 4, r.n = n;
            return r;
        }
        at += 4 + (size_t)n;
    }
    return r;
}
