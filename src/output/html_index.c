/* The HTML report's first pass (html_index.h): each finding's record (html_model.h) indexed
 * (offset, times, flags) and counted in the tallies; for `report`, each line read by the
 * findings reader (findings_read.c), skipped with its reason when it is not a finding, else
 * made a record; then the display order. */
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

int html_index_room(report *r, uint64_t offset, uint64_t line)
{
    if (r->ne >= r->max_findings) {
        if (r->cut++ == 0) {
            char why[128];
            snprintf(why, sizeof why,
                     "more than %llu findings: the rest are counted, not shown (the page says so)",
                     (unsigned long long)r->max_findings);
            html_report_error(r, DH_ERR_LIMIT, offset, line, why);
        }
        if (r->in_st == DH_OK)
            r->in_st = DH_ERR_LIMIT;
        return 0;
    }
    if (r->ne == r->ecap) {
        size_t nc = r->ecap ? r->ecap * 2 : 256;
        entry *ne = realloc(r->e, nc * sizeof *ne);
        if (!ne) {
            r->o.st = DH_ERR_NOMEM;
            return 0;
        }
        r->e = ne, r->ecap = nc;
    }
    return 1;
}

void html_index_record(report *r, size_t off, size_t len, uint64_t line)
{
    html_finding f;
    if (dh_buf_status(&r->recs) != DH_OK || html_rec_decode(r->recs.data + off, len, &f) < 0) {
        r->o.st = dh_buf_status(&r->recs) != DH_OK ? dh_buf_status(&r->recs) : DH_ERR_NOMEM;
        return;
    }
    int supp = (f.flags & HF_SUPPRESSED) != 0;
    entry *e = &r->e[r->ne];
    memset(e, 0, sizeof *e);
    e->off = off, e->len = (uint32_t)len, e->line = line, e->seq = (uint32_t)r->ne;
    e->suppressed = (uint8_t)supp;
    e->sev = (uint8_t)sev_index(f.v[HV_SEVERITY]);
    dh_jstr fs = f.v[HV_FIRST], ls = f.v[HV_LAST];
    e->has_first = fs.n && dh_time_parse_iso(fs.p, fs.n, &e->first) == 0;
    e->has_last = ls.n && dh_time_parse_iso(ls.p, ls.n, &e->last) == 0;
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

    dh_jstr kind = f.v[HV_KIND], sev = f.v[HV_SEVERITY], com = f.v[HV_COM];
    titem *it = html_tally_get(&r->kinds, kind.p, html_cut_utf8(kind.p, kind.n, MAX_KEY));
    if (it)
        it->c[supp]++;
    dh_buf_reset(&r->sc);
    html_key_part(&r->sc, kind);
    html_key_part(&r->sc, sev);
    if ((it = html_tally_get(&r->kindsev, r->sc.data, r->sc.len)))
        it->c[supp]++;
    if (com.n && (it = html_tally_get(&r->coms, com.p, html_cut_utf8(com.p, com.n, MAX_KEY))))
        it->c[supp]++;
    dh_jstr sh = f.v[HV_SRC_HOST], si = f.v[HV_SRC_IP], th = f.v[HV_DST_HOST], ti = f.v[HV_DST_IP];
    count_host(r, th, ti, 0);
    count_host(r, sh, si, 1);
    dh_jstr sk = host_key(sh, si), tk = host_key(th, ti);
    if (sk.n && tk.n) {
        dh_buf_reset(&r->sc);
        html_key_part(&r->sc, sk);
        html_key_part(&r->sc, tk);
        html_key_part(&r->sc, com);
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
        if (!html_index_room(r, s, lineno))
            continue;
        size_t off = r->recs.len;
        html_rec_from_jdoc(&r->recs, &d);
        html_index_record(r, off, r->recs.len - off, lineno);
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
