/* Network sensor records kept on disk until the clock comes near them (wirehold.h).
 *
 * The file is a heap of blocks of about OPEN_MAX bytes, each [length][records]; a record is
 * [time][arrival number][identity][length][the packed event]. The table keeps one entry per
 * block (its earliest time, where it is), in a binary heap by that time: a block comes back
 * whole once the clock reaches its earliest record. Blocks are of a size, not of a span of
 * time, so the table follows the bytes put away (32 bytes a MiB), whatever span they cover,
 * and a block out of time order (a log not in time order) comes back early, never late. */
#include "correlate/wirehold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/buf.h"

#define OPEN_MAX  (1u << 20) /* the open block is written at this size */
#define BLOCK_MAX (1u << 30) /* a block read back larger than this is damage */

typedef struct rec_hdr {
    int64_t t;
    uint64_t seq;
    uint64_t ident;
    uint64_t len; /* bytes of the packed event that follow */
} rec_hdr;

typedef struct block {
    int64_t tmin; /* its earliest record */
    int64_t at;   /* where its bytes start in the file */
    uint64_t len;
} block;

struct wire_hold {
    FILE *f;
    int64_t fend; /* bytes written */
    block *b;     /* a binary heap by tmin */
    size_t nb, cap;
    dh_buf open; /* records not yet written */
    int64_t open_tmin;
    size_t count;
    dh_buf pk, rd;
};

wire_hold *wh_new(void)
{
    wire_hold *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    dh_buf_init(&h->open, OPEN_MAX + (1u << 21)); /* one record may be up to ~1 MiB */
    dh_buf_init(&h->pk, 1u << 21);
    dh_buf_init(&h->rd, (size_t)1 << 34); /* what one take brings back */
    h->open_tmin = INT64_MAX;
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
    if (!h || (!h->nb && !h->open.len))
        return 0;
    int64_t t = h->open.len ? h->open_tmin : INT64_MAX;
    if (h->nb && h->b[0].tmin < t)
        t = h->b[0].tmin;
    *start = t;
    return 1;
}

static void heap_up(block *v, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (v[p].tmin <= v[i].tmin)
            break;
        block x = v[p];
        v[p] = v[i];
        v[i] = x;
        i = p;
    }
}

static void heap_pop(block *v, size_t *n)
{
    v[0] = v[--*n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < *n && v[l].tmin < v[m].tmin)
            m = l;
        if (r < *n && v[r].tmin < v[m].tmin)
            m = r;
        if (m == i)
            break;
        block x = v[m];
        v[m] = v[i];
        v[i] = x;
        i = m;
    }
}

/* Writes the open block at the end of the file. */
static dh_status write_open(wire_hold *h)
{
    if (!h->open.len)
        return DH_OK;
    if (h->nb == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        block *v = realloc(h->b, cap * sizeof *v);
        if (!v)
            return DH_ERR_NOMEM;
        h->b = v;
        h->cap = cap;
    }
    if (!h->f && !(h->f = tmpfile()))
        return DH_ERR_IO;
    if (fseeko(h->f, (off_t)h->fend, SEEK_SET) || fwrite(h->open.data, h->open.len, 1, h->f) != 1)
        return DH_ERR_IO;
    h->b[h->nb] = (block){h->open_tmin, h->fend, h->open.len};
    heap_up(h->b, h->nb++);
    h->fend += (int64_t)h->open.len;
    dh_buf_reset(&h->open);
    h->open_tmin = INT64_MAX;
    return DH_OK;
}

dh_status wh_put(wire_hold *h, int64_t t, uint64_t seq, uint64_t ident, const dh_event *ev)
{
    dh_buf_reset(&h->pk);
    dh_status st = dh_event_pack(ev, 1, &h->pk);
    if (st != DH_OK)
        return st;
    rec_hdr rh = {t, seq, ident, h->pk.len};
    if (dh_buf_append(&h->open, &rh, sizeof rh) || dh_buf_append(&h->open, h->pk.data, h->pk.len))
        return DH_ERR_NOMEM;
    if (t < h->open_tmin)
        h->open_tmin = t;
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

/* Appends block b's bytes to rd. */
static dh_status read_block(wire_hold *h, const block *b)
{
    if (b->len > BLOCK_MAX)
        return DH_ERR_IO;
    char *dst = dh_buf_reserve(&h->rd, b->len);
    if (!dst)
        return DH_ERR_NOMEM;
    if (fseeko(h->f, (off_t)b->at, SEEK_SET) || fread(dst, b->len, 1, h->f) != 1)
        return DH_ERR_IO;
    h->rd.len += b->len;
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
    dh_buf_reset(&h->rd);
    while (h->nb && h->b[0].tmin <= upto) {
        block b = h->b[0];
        heap_pop(h->b, &h->nb);
        dh_status st = read_block(h, &b);
        if (st != DH_OK)
            return st;
    }
    if (h->open.len && h->open_tmin <= upto) {
        if (dh_buf_append(&h->rd, h->open.data, h->open.len))
            return DH_ERR_NOMEM;
        dh_buf_reset(&h->open);
        h->open_tmin = INT64_MAX;
    }
    /* all that comes back at once, in arrival order: of two copies of a record, the first
     * is the one held, as when both were taken */
    dh_status st = h->rd.len ? give_back(h, fn, ctx) : DH_OK;
    if (st == DH_OK && !h->count && h->f && h->fend) { /* everything back: start again */
        h->fend = 0;
        if (ftruncate(fileno(h->f), 0))
            return DH_ERR_IO;
    }
    return st;
}
