/* Order in bounded memory. See timeline.h.
 *
 * A record is held as one allocation: its arrival number, the lengths of its key and its
 * bytes, then the key and the bytes. When the held bytes pass the budget they are sorted
 * and written to an anonymous temporary file as one run (the same layout, record after
 * record); at the end the runs (and what is still held, sorted) are merged by a linear
 * scan over the run heads: runs are few (one per budget's worth of records), so no heap
 * is needed. */
#include "core/timeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rec {
    uint64_t seq;
    uint64_t keylen, len;
    char bytes[]; /* the key, then the record */
} rec;

typedef struct run {
    long start; /* offset of its first record in the file */
    size_t count;
} run;

struct timeline {
    size_t budget, held_bytes;
    rec **v;
    size_t n, cap;
    uint64_t seq;
    FILE *spill;
    run *runs;
    size_t nruns;
};

timeline *timeline_new(size_t budget)
{
    timeline *t = calloc(1, sizeof *t);
    if (t)
        t->budget = budget;
    return t;
}

static int rec_cmp(const void *pa, const void *pb)
{
    const rec *a = *(rec *const *)pa, *b = *(rec *const *)pb;
    size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
    int r = n ? memcmp(a->bytes, b->bytes, n) : 0;
    if (r)
        return r;
    if (a->keylen != b->keylen)
        return a->keylen < b->keylen ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void drop_held(timeline *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    t->n = 0;
    t->held_bytes = 0;
}

/* Sorts what is held and writes it as one run. */
static dh_status spill(timeline *t)
{
    if (!t->n)
        return DH_OK;
    if (!t->spill && !(t->spill = tmpfile()))
        return DH_ERR_IO;
    run *nr = realloc(t->runs, (t->nruns + 1) * sizeof *nr);
    if (!nr)
        return DH_ERR_NOMEM;
    t->runs = nr;
    if (fseek(t->spill, 0, SEEK_END))
        return DH_ERR_IO;
    run *r = &t->runs[t->nruns];
    r->start = ftell(t->spill);
    r->count = t->n;
    qsort(t->v, t->n, sizeof *t->v, rec_cmp);
    for (size_t i = 0; i < t->n; i++)
        if (fwrite(t->v[i], sizeof(rec) + t->v[i]->keylen + t->v[i]->len, 1, t->spill) != 1)
            return DH_ERR_IO;
    t->nruns++;
    drop_held(t);
    return DH_OK;
}

dh_status timeline_add(timeline *t, int64_t time, const char *bytes, size_t len)
{
    /* the time as a key that memcmp orders: big-endian, the sign bit flipped */
    uint64_t u = (uint64_t)time ^ (1ULL << 63);
    unsigned char key[8];
    for (int i = 0; i < 8; i++)
        key[i] = (unsigned char)(u >> (56 - 8 * i));
    return timeline_add_key(t, key, sizeof key, bytes, len);
}

dh_status timeline_add_key(timeline *t, const void *key, size_t keylen, const char *bytes,
                           size_t len)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        rec **v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return DH_ERR_NOMEM;
        t->v = v;
        t->cap = cap;
    }
    rec *r = malloc(sizeof *r + keylen + len);
    if (!r)
        return DH_ERR_NOMEM;
    r->seq = t->seq++;
    r->keylen = keylen;
    r->len = len;
    memcpy(r->bytes, key, keylen);
    memcpy(r->bytes + keylen, bytes, len);
    t->v[t->n++] = r;
    t->held_bytes += sizeof *r + keylen + len;
    return t->held_bytes > t->budget ? spill(t) : DH_OK;
}

/* The head record of each run, read back one at a time. */
typedef struct head {
    rec *r;
    long pos;
    size_t left;
} head;

static dh_status read_head(timeline *t, head *h)
{
    free(h->r);
    h->r = NULL;
    if (!h->left)
        return DH_OK;
    rec hdr;
    if (fseek(t->spill, h->pos, SEEK_SET) || fread(&hdr, sizeof hdr, 1, t->spill) != 1 ||
        hdr.len > ((size_t)1 << 40) || hdr.keylen > ((size_t)1 << 40))
        return DH_ERR_IO;
    size_t n = hdr.keylen + hdr.len;
    rec *r = malloc(sizeof *r + n);
    if (!r)
        return DH_ERR_NOMEM;
    *r = hdr;
    if (n && fread(r->bytes, n, 1, t->spill) != 1) {
        free(r);
        return DH_ERR_IO;
    }
    h->r = r;
    h->pos += (long)(sizeof hdr + n);
    h->left--;
    return DH_OK;
}

dh_status timeline_finish(timeline *t, dh_status (*fn)(void *ctx, const char *rec, size_t len),
                          void *ctx)
{
    dh_status st = DH_OK;
    if (!t->nruns) {
        if (t->n > 1) /* qsort must not be given a null array */
            qsort(t->v, t->n, sizeof *t->v, rec_cmp);
        for (size_t i = 0; i < t->n && !st; i++)
            st = fn(ctx, t->v[i]->bytes + t->v[i]->keylen, t->v[i]->len);
        drop_held(t);
        return st;
    }
    if ((st = spill(t)))
        return st;
    head *hs = calloc(t->nruns, sizeof *hs);
    if (!hs)
        return DH_ERR_NOMEM;
    for (size_t i = 0; i < t->nruns && !st; i++) {
        hs[i].pos = t->runs[i].start;
        hs[i].left = t->runs[i].count;
        st = read_head(t, &hs[i]);
    }
    while (!st) {
        size_t best = t->nruns;
        for (size_t i = 0; i < t->nruns; i++)
            if (hs[i].r && (best == t->nruns || rec_cmp(&hs[i].r, &hs[best].r) < 0))
                best = i;
        if (best == t->nruns)
            break;
        st = fn(ctx, hs[best].r->bytes + hs[best].r->keylen, hs[best].r->len);
        if (!st)
            st = read_head(t, &hs[best]);
    }
    for (size_t i = 0; i < t->nruns; i++)
        free(hs[i].r);
    free(hs);
    return st;
}

size_t timeline_runs(const timeline *t)
{
    return t->nruns;
}

void timeline_free(timeline *t)
{
    if (!t)
        return;
    drop_held(t);
    free(t->v);
    free(t->runs);
    if (t->spill)
        fclose(t->spill);
    free(t);
}
