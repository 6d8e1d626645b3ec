/* Network sensor records kept on disk until the clock comes near them (wirehold.h).
 *
 * The file is a heap of blocks, each [previous block of its bucket][length][records]; a
 * bucket remembers its newest block, so reading it back follows the chain from there. A
 * record is [time][arrival number][identity][length][the packed event]. Records of one
 * bucket arrive together when the input is in time order (one Zeek log after another), so
 * the open block collects them and is written when a record of another bucket comes or when
 * it is full: a log out of time order costs more, smaller blocks, not more memory. */
#include "correlate/wirehold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/buf.h"

#define OPEN_MAX  (256u << 10) /* the open block is written at this size */
#define BLOCK_MAX (1u << 30)   /* a block read back larger than this is damage */

typedef struct blk_hdr {
    int64_t prev; /* the bucket's previous block, -1 none */
    uint64_t len; /* bytes of records that follow */
} blk_hdr;

typedef struct rec_hdr {
    int64_t t;
    uint64_t seq;
    uint64_t ident;
    uint64_t len; /* bytes of the packed event that follow */
} rec_hdr;

typedef struct bucket {
    int64_t key;  /* floor(t / width) */
    int64_t last; /* its newest block in the file, -1 none */
} bucket;

struct wire_hold {
    int64_t width;
    FILE *f;
    int64_t fend; /* bytes written */
    bucket *b;    /* by key, the live ones from head */
    size_t head, nb, cap;
    dh_buf open; /* records of bucket `okey` not yet written */
    int64_t okey;
    int has_open;
    size_t count;
    dh_buf pk, rd;
};

wire_hold *wh_new(int64_t width)
{
    if (width <= 0)
        return NULL;
    wire_hold *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->width = width;
    dh_buf_init(&h->open, OPEN_MAX + (1u << 21)); /* one record may be up to ~1 MiB */
    dh_buf_init(&h->pk, 1u << 21);
    dh_buf_init(&h->rd, (size_t)1 << 34); /* one bucket read back */
    return h;
}

void wh_free(wire_hold *h)
{
    if (!h)
        return;
    if (h->f)
        fclose(h->f);
    free(h->b);
    dh_buf_free(&h->open);
    dh_buf_free(&h->pk);
    dh_buf_free(&h->rd);
    free(h);
}

size_t wh_count(const wire_hold *h)
{
    return h ? h->count : 0;
}

int wh_next(const wire_hold *h, int64_t *start)
{
    if (!h || h->head == h->nb)
        return 0;
    *start = h->b[h->head].key * h->width;
    return 1;
}

static int64_t key_of(const wire_hold *h, int64_t t)
{
    int64_t k = t / h->width;
    return (t % h->width < 0) ? k - 1 : k; /* floor */
}

/* The bucket of key k, made if new (the table stays sorted by key). NULL: no memory. */
static bucket *find_or_add(wire_hold *h, int64_t k)
{
    size_t lo = h->head, hi = h->nb;
    /* in time order the key is the last one or past it */
    if (hi > lo && h->b[hi - 1].key < k)
        lo = hi;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->b[mid].key < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < h->nb && h->b[lo].key == k)
        return &h->b[lo];
    if (h->head > 0 && h->head * 2 >= h->nb) { /* drop the given-back entries first */
        memmove(h->b, h->b + h->head, (h->nb - h->head) * sizeof *h->b);
        lo -= h->head;
        h->nb -= h->head;
        h->head = 0;
    }
    if (h->nb == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        bucket *v = realloc(h->b, cap * sizeof *v);
        if (!v)
            return NULL;
        h->b = v;
        h->cap = cap;
    }
    memmove(h->b + lo + 1, h->b + lo, (h->nb - lo) * sizeof *h->b);
    h->nb++;
    h->b[lo] = (bucket){k, -1};
    return &h->b[lo];
}

/* Writes the open block at the end of the file, chained to its bucket's newest. */
static dh_status write_open(wire_hold *h)
{
    if (!h->has_open)
        return DH_OK;
    h->has_open = 0;
    if (!h->open.len)
        return DH_OK;
    bucket *b = find_or_add(h, h->okey);
    if (!b)
        return DH_ERR_NOMEM;
    if (!h->f && !(h->f = tmpfile()))
        return DH_ERR_IO;
    blk_hdr bh = {b->last, h->open.len};
    if (fseeko(h->f, (off_t)h->fend, SEEK_SET) || fwrite(&bh, sizeof bh, 1, h->f) != 1 ||
        fwrite(h->open.data, h->open.len, 1, h->f) != 1)
        return DH_ERR_IO;
    b->last = h->fend;
    h->fend += (int64_t)(sizeof bh + h->open.len);
    dh_buf_reset(&h->open);
    return DH_OK;
}

dh_status wh_put(wire_hold *h, int64_t t, uint64_t seq, uint64_t ident, const dh_event *ev)
{
    int64_t k = key_of(h, t);
    if (h->has_open && h->okey != k) {
        dh_status st = write_open(h);
        if (st != DH_OK)
            return st;
    }
    if (!h->has_open) {
        if (!find_or_add(h, k)) /* the bucket exists while its records are only here */
            return DH_ERR_NOMEM;
        h->okey = k;
        h->has_open = 1;
    }
    dh_buf_reset(&h->pk);
    dh_status st = dh_event_pack(ev, 1, &h->pk);
    if (st != DH_OK)
        return st;
    rec_hdr rh = {t, seq, ident, h->pk.len};
    if (dh_buf_append(&h->open, &rh, sizeof rh) || dh_buf_append(&h->open, h->pk.data, h->pk.len))
        return DH_ERR_NOMEM;
    h->count++;
    return h->open.len >= OPEN_MAX ? write_open(h) : DH_OK;
}

typedef struct rec_ref {
    uint64_t seq;
    size_t at; /* offset of its rec_hdr in rd */
} rec_ref;

static int cmp_ref(const void *pa, const void *pb)
{
    const rec_ref *a = pa, *b = pb;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Reads bucket b's blocks (and the open block when it is b's) into rd. */
static dh_status read_bucket(wire_hold *h, const bucket *b)
{
    dh_buf_reset(&h->rd);
    if (h->has_open && h->okey == b->key) {
        if (dh_buf_append(&h->rd, h->open.data, h->open.len))
            return DH_ERR_NOMEM;
        dh_buf_reset(&h->open);
        h->has_open = 0;
    }
    for (int64_t at = b->last; at >= 0;) {
        blk_hdr bh;
        if (fseeko(h->f, (off_t)at, SEEK_SET) || fread(&bh, sizeof bh, 1, h->f) != 1 ||
            bh.len > BLOCK_MAX || bh.prev >= at)
            return DH_ERR_IO;
        char *dst = dh_buf_reserve(&h->rd, bh.len);
        if (!dst)
            return DH_ERR_NOMEM;
        if (fread(dst, bh.len, 1, h->f) != 1)
            return DH_ERR_IO;
        h->rd.len += bh.len;
        at = bh.prev;
    }
    return DH_OK;
}

/* Gives back the records in rd, in arrival order. */
static dh_status give_back(wire_hold *h, wh_fn fn, void *ctx)
{
    size_t n = 0;
    for (size_t at = 0; at + sizeof(rec_hdr) <= h->rd.len; n++) {
        rec_hdr rh;
        memcpy(&rh, h->rd.data + at, sizeof rh);
        if (rh.len > h->rd.len - at - sizeof rh)
            return DH_ERR_IO;
        at += sizeof rh + rh.len;
    }
    rec_ref *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return DH_ERR_NOMEM;
    size_t i = 0;
    for (size_t at = 0; i < n; i++) {
        rec_hdr rh;
        memcpy(&rh, h->rd.data + at, sizeof rh);
        v[i] = (rec_ref){rh.seq, at};
        at += sizeof rh + rh.len;
    }
    qsort(v, n, sizeof *v, cmp_ref);
    dh_status st = DH_OK;
    for (i = 0; i < n && st == DH_OK; i++) {
        rec_hdr rh;
        memcpy(&rh, h->rd.data + v[i].at, sizeof rh);
        size_t used = 0;
        dh_event *ev = dh_event_unpack(h->rd.data + v[i].at + sizeof rh, rh.len, &used);
        if (!ev) {
            st = DH_ERR_IO;
            break;
        }
        h->count--;
        st = fn(ctx, ev, rh.t, rh.seq, rh.ident);
    }
    free(v);
    return st;
}

dh_status wh_take(wire_hold *h, int64_t upto, wh_fn fn, void *ctx)
{
    int64_t start;
    while (wh_next(h, &start) && start <= upto) {
        bucket b = h->b[h->head++];
        dh_status st = read_bucket(h, &b);
        if (st == DH_OK)
            st = give_back(h, fn, ctx);
        if (st != DH_OK)
            return st;
    }
    if (h->head == h->nb) /* everything given back: the file starts again */
        h->head = h->nb = 0;
    if (!h->count && h->f && h->fend) {
        h->fend = 0;
        if (ftruncate(fileno(h->f), 0))
            return DH_ERR_IO;
    }
    return DH_OK;
}
