/* The host graph under the findings table (findings_graph.h). Sorted lists and binary
 * searches: a million findings cost n log n, not n^2. */
#include "output/findings_graph.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "output/text.h"

/* An owned byte string (values may hold a NUL). */
typedef struct bstr {
    char *p;
    size_t n;
} bstr;

/* A finding as an edge: its printing key and its hosts. */
typedef struct rendered {
    bstr key;
    bstr src, dst;
    int64_t first_seen, last_seen;
} rendered;

struct dh_findings_graph {
    rendered *v;
    size_t n, cap;
};

/* One edge per source and target (in order of first appearance) with its count. */
typedef struct edge {
    const rendered *r; /* its first finding */
    size_t first, count;
    int64_t min_first, max_last;
} edge;

/* A copy of at most max bytes of s (a cut one ends with "..."). */
static bstr dup_str(dh_str s, size_t max)
{
    size_t n = s.len > max ? max : s.len, extra = s.len > max ? 3 : 0;
    bstr d = {malloc(n + extra + 1), n + extra};
    if (d.p) {
        memcpy(d.p, s.ptr, n);
        memcpy(d.p + n, "...", extra);
        d.p[n + extra] = 0;
    } else {
        d.n = 0;
    }
    return d;
}

static int bstr_cmp(bstr a, bstr b, int ci)
{
    size_t n = a.n < b.n ? a.n : b.n;
    int r = n ? (ci ? strncasecmp(a.p, b.p, n) : memcmp(a.p, b.p, n)) : 0;
    return r ? r : a.n < b.n ? -1 : a.n > b.n;
}

dh_findings_graph *dh_findings_graph_new(void)
{
    return calloc(1, sizeof(dh_findings_graph));
}

static int grow_edges(dh_findings_graph *g)
{
    size_t cap = g->cap ? g->cap * 2 : 64;
    rendered *v = realloc(g->v, cap * sizeof *v);
    if (!v)
        return 0;
    g->v = v;
    g->cap = cap;
    return 1;
}

void dh_findings_graph_add(dh_findings_graph *g, const dh_finding *f, dh_str key)
{
    if (f->kind != DH_FINDING_LATERAL_MOVEMENT && f->kind != DH_FINDING_ATTEMPT)
        return;
    if (g->n == g->cap && !grow_edges(g))
        return;
    rendered *r = &g->v[g->n++];
    r->first_seen = f->first_seen;
    r->last_seen = f->last_seen;
    r->key = dup_str(key, 2 * DH_FINDINGS_GRAPH_HOST_MAX);
    r->src =
        dup_str(f->source_host.len ? f->source_host : f->source_ip, DH_FINDINGS_GRAPH_HOST_MAX);
    r->dst = dup_str(f->target_host, DH_FINDINGS_GRAPH_HOST_MAX);
}

static int cmp_rendered(const void *pa, const void *pb)
{
    const rendered *a = pa, *b = pb;
    return bstr_cmp(a->key, b->key, 0);
}

/* Rows of the same array: by source, target, then place in the array. */
static int cmp_edge_rows(const void *pa, const void *pb)
{
    const rendered *x = *(const rendered *const *)pa, *y = *(const rendered *const *)pb;
    int r = bstr_cmp(x->src, y->src, 0);
    if (!r)
        r = bstr_cmp(x->dst, y->dst, 0);
    return r ? r : x < y ? -1 : x > y;
}

static int cmp_edge_first(const void *pa, const void *pb)
{
    const edge *a = pa, *b = pb;
    return a->first < b->first ? -1 : a->first > b->first;
}

static int cmp_edge_src_ci(const void *pa, const void *pb)
{
    const edge *a = *(const edge *const *)pa, *b = *(const edge *const *)pb;
    int r = bstr_cmp(a->r->src, b->r->src, 1);
    return r ? r : a->first < b->first ? -1 : a->first > b->first;
}

static void put_hosts(FILE *out, const char *lead, const bstr *h, size_t n, const char *tail)
{
    dh_buf b;
    dh_buf_init(&b, 1u << 20);
    dh_buf_puts(&b, lead);
    for (size_t i = 0; i < n; i++) {
        if (i)
            dh_buf_puts(&b, " -> ");
        dh_text_escape(&b, h[i].p, h[i].n, 0);
    }
    dh_buf_puts(&b, tail);
    if (dh_buf_status(&b) == DH_OK) /* never a path with a host missing */
        fwrite(b.data, 1, b.len, out);
    dh_buf_free(&b);
}

/* The edges, one per source and target, in order of their first finding; returns how
 * many. rows is scratch of g->n entries. */
static size_t merge_edges(const dh_findings_graph *g, const rendered **rows, edge *e)
{
    size_t nr = 0, ne = 0;
    for (size_t i = 0; i < g->n; i++)
        if (g->v[i].src.p && g->v[i].src.n)
            rows[nr++] = &g->v[i];
    if (nr > 1)
        qsort(rows, nr, sizeof *rows, cmp_edge_rows);
    for (size_t i = 0; i < nr; i++) {
        const rendered *r = rows[i];
        if (ne && !bstr_cmp(e[ne - 1].r->src, r->src, 0) &&
            !bstr_cmp(e[ne - 1].r->dst, r->dst, 0)) {
            edge *x = &e[ne - 1];
            x->count++;
            x->min_first = r->first_seen < x->min_first ? r->first_seen : x->min_first;
            x->max_last = r->last_seen > x->max_last ? r->last_seen : x->max_last;
            continue;
        }
        e[ne++] = (edge){r, (size_t)(r - g->v), 1, r->first_seen, r->last_seen};
    }
    if (ne > 1)
        qsort(e, ne, sizeof *e, cmp_edge_first);
    return ne;
}

/* The two-hop paths: for each edge x, the edges leaving x's target (found by binary
 * search in by_src, sorted by source without case) that end after x began. */
static void print_paths(FILE *out, const edge *e, const edge **by_src, size_t ne)
{
    for (size_t i = 0; i < ne; i++) {
        const edge *x = &e[i];
        if (!x->r->dst.n)
            continue;
        size_t lo = 0, hi = ne; /* the first edge whose source is x's target */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (bstr_cmp(by_src[mid]->r->src, x->r->dst, 1) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < ne && !bstr_cmp(by_src[lo]->r->src, x->r->dst, 1); lo++) {
            const edge *y = by_src[lo];
            if (x->min_first > y->max_last || !bstr_cmp(x->r->src, y->r->dst, 1))
                continue;
            bstr h[3] = {x->r->src, x->r->dst, y->r->dst};
            put_hosts(out, "  path ", h, 3, "\n");
        }
    }
}

void dh_findings_graph_print(dh_findings_graph *g, FILE *out)
{
    if (g->n > 1) /* qsort must not be given a null array */
        qsort(g->v, g->n, sizeof *g->v, cmp_rendered);
    const rendered **rows = malloc((g->n ? g->n : 1) * sizeof *rows);
    edge *e = malloc((g->n ? g->n : 1) * sizeof *e);
    const edge **by_src = malloc((g->n ? g->n : 1) * sizeof *by_src);
    if (!rows || !e || !by_src) {
        free(rows);
        free(e);
        free(by_src);
        return;
    }
    size_t ne = merge_edges(g, rows, e);
    for (size_t i = 0; i < ne; i++) {
        if (!i)
            fputs("\nhost graph (source -> target, findings)\n", out);
        bstr h[2] = {e[i].r->src, e[i].r->dst};
        char tail[48];
        snprintf(tail, sizeof tail, "  (%zu)\n", e[i].count);
        put_hosts(out, "  ", h, 2, tail);
        by_src[i] = &e[i];
    }
    if (ne > 1)
        qsort(by_src, ne, sizeof *by_src, cmp_edge_src_ci);
    print_paths(out, e, by_src, ne);
    free(rows);
    free(e);
    free(by_src);
}

void dh_findings_graph_free(dh_findings_graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++) {
        free(g->v[i].key.p);
        free(g->v[i].src.p);
        free(g->v[i].dst.p);
    }
    free(g->v);
    free(g);
}
