/* The HTML report's first pass (html_index.h): each line read by the findings reader
 * (findings_read.c), skipped with its reason when it is not a finding, else indexed
 * (offset, times, flags) and counted in the tallies; then the display order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "output/html_index.h"

const char *const html_sev_names[] = {"critical", "high", "medium", "low", "informational"};

void html_report_error(report *r, dh_status st, uint64_t offset, uint64_t line, const char *why)
{
    if (!r->on_error)
        return;
    dh_error e;
    memset(&e, 0, sizeof e);
    e.status = st;
    e.chunk = -1;
    e.offset = offset;
    snprintf(e.file, sizeof e.file, "%s", r->name);
    if (line)
        snprintf(e.message, sizeof e.message, "line %llu: %s", (unsigned long long)line, why);
    else
        snprintf(e.message, sizeof e.message, "%s", why);
    r->on_error(r->ctx, &e);
}

static int sev_index(dh_jstr s)
{
    for (int i = 0; i < NSEV; i++)
        if (s.n == strlen(html_sev_names[i]) && memcmp(s.p, html_sev_names[i], s.n) == 0)
            return i;
    return NSEV;
}

typedef struct span {
    size_t off, n;
} span;

static span take(report *r, const dh_jdoc *d, int t)
{
    span s = {r->ar.len, 0};
    dh_jdoc_text(d, t, &r->ar);
    s.n = r->ar.len - s.off;
    return s;
}

static dh_jstr at(const report *r, span s)
{
    dh_jstr h = {r->ar.data ? r->ar.data + s.off : "", s.n};
    return h;
}

/* A host's name for the summary and graph: the host name, else the IP. */
static dh_jstr host_key(dh_jstr host, dh_jstr ip)
{
    return host.n ? host : ip;
}

static void count_host(report *r, dh_jstr host, dh_jstr ip, int as_source)
{
    dh_jstr k = host_key(host, ip);
    if (!k.n)
        return;
    titem *it = html_tally_get(&r->hosts, k.p, html_cut_utf8(k.p, k.n, MAX_KEY));
    if (!it)
        return;
    it->c[as_source]++;
    if (!it->nlen && host.n && ip.n) {
        size_t off = r->hosts.keys.len;
        size_t n = html_cut_utf8(ip.p, ip.n, MAX_KEY);
        if (dh_buf_append(&r->hosts.keys, ip.p, n) == DH_OK &&
            dh_buf_putc(&r->hosts.keys, '\0') == DH_OK)
            it->note = off, it->nlen = n;
    }
}

/* Pass one on a checked line: the index entry and the tallies. */
static void index_finding(report *r, const dh_jdoc *d, size_t off, size_t len, uint64_t line)
{
    if (r->ne >= r->max_findings) {
        if (r->cut++ == 0) {
            char why[128];
            snprintf(why, sizeof why,
                     "more than %llu findings: the rest are counted, not shown (the page says so)",
                     (unsigned long long)r->max_findings);
            html_report_error(r, DH_ERR_LIMIT, off, line, why);
        }
        if (r->in_st == DH_OK)
            r->in_st = DH_ERR_LIMIT;
        return;
    }
    if (r->ne == r->ecap) {
        size_t nc = r->ecap ? r->ecap * 2 : 256;
        entry *ne = realloc(r->e, nc * sizeof *ne);
        if (!ne) {
            r->o.st = DH_ERR_NOMEM;
            return;
        }
        r->e = ne, r->ecap = nc;
    }
    dh_buf_reset(&r->ar);
    int src = dh_jdoc_get(d, 0, "source"), dst = dh_jdoc_get(d, 0, "target");
    span kind = take(r, d, dh_jdoc_get(d, 0, "kind"));
    span sev = take(r, d, dh_jdoc_get(d, 0, "severity"));
    span first = take(r, d, dh_jdoc_get(d, 0, "first_seen"));
    span last = take(r, d, dh_jdoc_get(d, 0, "last_seen"));
    span sh = take(r, d, dh_jdoc_get(d, src, "host")), si = take(r, d, dh_jdoc_get(d, src, "ip"));
    span th = take(r, d, dh_jdoc_get(d, dst, "host")), ti = take(r, d, dh_jdoc_get(d, dst, "ip"));
    span com = take(r, d, dh_jdoc_get(d, 0, "com_object"));
    int supp = dh_jdoc_true(d, dh_jdoc_get(d, 0, "suppressed"));

    entry *e = &r->e[r->ne];
    memset(e, 0, sizeof *e);
    e->off = off, e->len = (uint32_t)len, e->line = line, e->seq = (uint32_t)r->ne;
    e->suppressed = (uint8_t)supp;
    e->sev = (uint8_t)sev_index(at(r, sev));
    dh_jstr f = at(r, first), l = at(r, last);
    e->has_first = f.n && dh_time_parse_iso(f.p, f.n, &e->first) == 0;
    e->has_last = l.n && dh_time_parse_iso(l.p, l.n, &e->last) == 0;
    if (e->has_last && e->has_first && e->last < e->first)
        e->has_last = 0;
    if (e->has_first) {
        int64_t hi = e->has_last ? e->last : e->first;
        if (!r->has_range || e->first < r->tmin)
            r->tmin = e->first;
        if (!r->has_range || hi > r->tmax)
            r->tmax = hi;
        r->has_range = 1;
    }
    r->ne++;
    r->suppressed += (uint64_t)supp;

    titem *it =
        html_tally_get(&r->kinds, at(r, kind).p, html_cut_utf8(at(r, kind).p, kind.n, MAX_KEY));
    if (it)
        it->c[supp]++;
    dh_buf_reset(&r->sc);
    html_key_part(&r->sc, at(r, kind));
    html_key_part(&r->sc, at(r, sev));
    if ((it = html_tally_get(&r->kindsev, r->sc.data, r->sc.len)))
        it->c[supp]++;
    if (com.n &&
        (it = html_tally_get(&r->coms, at(r, com).p, html_cut_utf8(at(r, com).p, com.n, MAX_KEY))))
        it->c[supp]++;
    count_host(r, at(r, th), at(r, ti), 0);
    count_host(r, at(r, sh), at(r, si), 1);
    dh_jstr sk = host_key(at(r, sh), at(r, si)), tk = host_key(at(r, th), at(r, ti));
    if (sk.n && tk.n) {
        dh_buf_reset(&r->sc);
        html_key_part(&r->sc, sk);
        html_key_part(&r->sc, tk);
        html_key_part(&r->sc, at(r, com));
        if ((it = html_tally_get(&r->edges, r->sc.data, r->sc.len)))
            it->c[supp]++;
    }
}

void html_pass_one(report *r)
{
    size_t pos = 0, s, e, start;
    uint64_t lineno = 0;
    while (r->o.st == DH_OK &&
           dh_findings_next_line(r->js, r->len, &pos, &lineno, &s, &e, &start)) {
        r->lines++;
        const char *why = NULL;
        dh_jdoc d;
        if (e - s > r->max_line)
            why = "line longer than 16 MiB";
        else
            why = dh_findings_reader_finding(r->rd, r->js + s, e - s, &d);
        if (why) {
            r->skipped++;
            r->in_st = DH_ERR_FORMAT;
            html_report_error(r, DH_ERR_FORMAT, start, lineno, why);
            continue;
        }
        index_finding(r, &d, s, e - s, lineno);
    }
}

/* Display order: active findings, then suppressed ones; each by first seen (unknown times
 * last), then input order. */
int html_cmp_display(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->suppressed != y->suppressed)
        return x->suppressed - y->suppressed;
    if (x->has_first != y->has_first)
        return y->has_first - x->has_first;
    if (x->has_first && x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int html_cmp_time(const void *a, const void *b)
{
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}
