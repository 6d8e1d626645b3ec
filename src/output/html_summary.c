/* The HTML report's overview sections (html_summary.h): the summary (findings by kind and
 * severity, COM objects, hosts) and the timeline of findings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "output/html_summary.h"
#include "output/html_page.h"

#define MAX_TIMELINE 2000 /* timeline rows */
#define MAX_HOSTS    100  /* rows of the hosts table */

/* The facts: input, findings shown and suppressed, time range, hosts, what was skipped. */
static void summary_facts(report *r)
{
    hout *o = &r->o;
    html_puts(o, "<section id=\"summary\">\n<h2>Summary</h2>\n<dl class=\"facts\">");
    html_puts(o, "<dt>Input</dt><dd><code>");
    html_cstr(o, r->name);
    html_puts(o, "</code>: ");
    html_putu(o, r->lines);
    html_puts(o, " lines</dd><dt>Findings</dt><dd>");
    html_putu(o, r->ne - r->suppressed);
    html_puts(o, " shown");
    if (r->suppressed) {
        html_puts(o, ", <a href=\"#suppressed\">");
        html_putu(o, r->suppressed);
        html_puts(o, " suppressed</a> (listed separately)");
    }
    html_puts(o, "</dd><dt>Time range</dt><dd>");
    if (r->has_range) {
        html_put_time(o, r->tmin, 0);
        html_puts(o, " &ndash; ");
        html_put_time(o, r->tmax, 0);
    } else {
        html_puts(o, "<em>no times</em>");
    }
    html_puts(o, "</dd><dt>Hosts</dt><dd>");
    html_putu(o, r->hosts.n);
    html_puts(o, "</dd>");
    if (r->skipped) {
        html_puts(o, "<dt>Skipped lines</dt><dd class=\"note\">");
        html_putu(o, r->skipped);
        html_puts(o, " malformed lines were skipped (named on standard error)</dd>");
    }
    if (r->cut) {
        html_puts(o, "<dt>Cut</dt><dd class=\"note\">");
        html_putu(o, r->cut);
        html_puts(o, " findings past the first ");
        html_putu(o, r->max_findings);
        html_puts(o, " were left out of this page (not counted in the tables)</dd>");
    }
    html_puts(o, "</dl>\n<div class=\"cols\">\n");
}

/* Findings by kind and severity (a row per kind, most first), with the totals. */
static void summary_kinds(report *r)
{
    hout *o = &r->o;
    html_puts(o, "<div><h4>Findings by kind and severity</h4><table><tr><th>kind</th>");
    for (int s = 0; s < NSEV; s++) {
        html_puts(o, "<th>");
        html_puts(o, html_sev_names[s]);
        html_puts(o, "</th>");
    }
    html_puts(o, "<th>other</th><th>total</th><th>suppressed</th></tr>");
    item_ref *kv = html_sorted_items(&r->kinds);
    uint64_t col[NSEV + 1] = {0}, tot = 0, tsupp = 0;
    for (size_t i = 0; kv && i < r->kinds.n; i++) {
        const titem *it = kv[i].it;
        dh_jstr kind = {html_tkey(&r->kinds, it), it->klen};
        html_puts(o, "<tr><td>");
        html_text(o, kind.p, kind.n, HT_MARK);
        html_puts(o, "</td>");
        uint64_t known = 0;
        for (int s = 0; s <= NSEV; s++) {
            uint64_t c;
            if (s < NSEV) {
                dh_buf_reset(&r->sc);
                html_key_part(&r->sc, kind);
                dh_jstr sv = {html_sev_names[s], strlen(html_sev_names[s])};
                html_key_part(&r->sc, sv);
                const titem *ks = html_tally_find(&r->kindsev, r->sc.data, r->sc.len);
                c = ks ? ks->c[0] : 0;
                known += c;
            } else {
                c = it->c[0] >= known ? it->c[0] - known : 0;
            }
            col[s] += c;
            html_puts(o, "<td class=\"n\">");
            if (c)
                html_putu(o, c);
            html_puts(o, "</td>");
        }
        tot += it->c[0], tsupp += it->c[1];
        html_puts(o, "<td class=\"n\">");
        html_putu(o, it->c[0]);
        html_puts(o, "</td><td class=\"n\">");
        if (it->c[1])
            html_putu(o, it->c[1]);
        html_puts(o, "</td></tr>");
    }
    free(kv);
    html_puts(o, "<tr><th>all</th>");
    for (int s = 0; s <= NSEV; s++) {
        html_puts(o, "<th class=\"n\">");
        html_putu(o, col[s]);
        html_puts(o, "</th>");
    }
    html_puts(o, "<th class=\"n\">");
    html_putu(o, tot);
    html_puts(o, "</th><th class=\"n\">");
    html_putu(o, tsupp);
    html_puts(o, "</th></tr></table>");
    if (r->kinds.dropped)
        html_puts(o, "<p class=\"note\">Too many distinct kinds: some are not counted.</p>");
    html_puts(o, "</div>\n");
}

/* COM objects by findings. */
static void summary_objects(report *r)
{
    hout *o = &r->o;
    html_puts(o, "<div><h4>COM objects</h4><table><tr><th>COM object</th><th>findings</th>"
                 "<th>suppressed</th></tr>");
    item_ref *cv = html_sorted_items(&r->coms);
    for (size_t i = 0; cv && i < r->coms.n && i < MAX_HOSTS; i++) {
        html_puts(o, "<tr><td>");
        html_text(o, html_tkey(&r->coms, cv[i].it), cv[i].it->klen, HT_MARK);
        html_puts(o, "</td><td class=\"n\">");
        html_putu(o, cv[i].it->c[0]);
        html_puts(o, "</td><td class=\"n\">");
        if (cv[i].it->c[1])
            html_putu(o, cv[i].it->c[1]);
        html_puts(o, "</td></tr>");
    }
    if (!r->coms.n)
        html_puts(o, "<tr><td colspan=\"3\"><em>none named</em></td></tr>");
    html_puts(o, "</table>");
    if (r->coms.n > MAX_HOSTS) {
        html_puts(o, "<p class=\"note\">");
        html_putu(o, r->coms.n - MAX_HOSTS);
        html_puts(o, " more COM objects not listed.</p>");
    }
    free(cv);
    html_puts(o, "</div>\n");
}

/* Hosts by findings, as target and as source. */
static void summary_hosts(report *r)
{
    hout *o = &r->o;
    html_puts(o, "<div><h4>Hosts</h4><table><tr><th>host</th><th>IP</th><th>as target</th>"
                 "<th>as source</th></tr>");
    item_ref *hv = html_sorted_items(&r->hosts);
    for (size_t i = 0; hv && i < r->hosts.n && i < MAX_HOSTS; i++) {
        const titem *it = hv[i].it;
        html_puts(o, "<tr><td>");
        html_text(o, html_tkey(&r->hosts, it), it->klen, HT_MARK);
        html_puts(o, "</td><td>");
        if (it->nlen)
            html_text(o, r->hosts.keys.data + it->note, it->nlen, HT_MARK);
        html_puts(o, "</td><td class=\"n\">");
        html_putu(o, it->c[0]);
        html_puts(o, "</td><td class=\"n\">");
        html_putu(o, it->c[1]);
        html_puts(o, "</td></tr>");
    }
    if (!r->hosts.n)
        html_puts(o, "<tr><td colspan=\"4\"><em>none named</em></td></tr>");
    html_puts(o, "</table>");
    if (r->hosts.n > MAX_HOSTS) {
        html_puts(o, "<p class=\"note\">");
        html_putu(o, r->hosts.n - MAX_HOSTS);
        html_puts(o, " more hosts not listed.</p>");
    }
    if (r->hosts.dropped)
        html_puts(o, "<p class=\"note\">Too many distinct hosts: some are not counted.</p>");
    free(hv);
    html_puts(o, "</div>\n");
}

void html_summary(report *r)
{
    summary_facts(r);
    summary_kinds(r);
    summary_objects(r);
    summary_hosts(r);
    html_puts(&r->o, "</div>\n</section>\n");
}

static void put_pct(hout *o, double v)
{
    char t[32];
    int n = snprintf(t, sizeof t, "%.3f%%", v);
    html_put(o, t, (size_t)n);
}

void html_timeline(report *r)
{
    hout *o = &r->o;
    html_puts(o, "<section id=\"timeline\">\n<h2>Timeline</h2>\n");
    size_t n = 0;
    entry **v = r->ne ? malloc(r->ne * sizeof *v) : NULL;
    for (size_t i = 0; v && i < r->ne; i++)
        if (r->e[i].has_first)
            v[n++] = &r->e[i];
    if (!n) {
        html_puts(o, "<p><em>No finding has a first-seen time.</em></p>\n</section>\n");
        free(v);
        return;
    }
    qsort(v, n, sizeof *v, html_cmp_time);
    html_puts(o, "<p>Each bar spans a finding from first to last seen, across ");
    html_put_time(o, r->tmin, 0);
    html_puts(o, " &ndash; ");
    html_put_time(o, r->tmax, 0);
    html_puts(o, ". Hatched: suppressed.</p>\n<div class=\"tl\">\n<div class=\"tl-axis\">");
    double range = (double)(r->tmax - r->tmin);
    if (range <= 0)
        range = 1;
    for (int k = 0; k <= 2; k++) { /* start, middle, end: the labels never overlap */
        html_puts(o, k == 0   ? "<span style=\"left:0\">"
                     : k == 1 ? "<span style=\"left:50%;transform:translateX(-50%)\">"
                              : "<span style=\"right:0\">");
        html_put_time(o, r->tmin + (int64_t)(range * k / 2), 1);
        html_puts(o, "</span>");
    }
    html_puts(o, "</div>\n");
    size_t shown = n < MAX_TIMELINE ? n : MAX_TIMELINE;
    for (size_t i = 0; i < shown && o->st == DH_OK; i++) {
        const entry *e = v[i];
        html_finding f;
        if (html_rec_decode(r->recs.data + e->off, e->len, &f) < 0)
            continue;
        html_puts(o, "<div class=\"tl-row\"><a class=\"tl-label\" href=\"#f");
        html_putu(o, e->num);
        html_puts(o, "\">#");
        html_putu(o, e->num);
        html_puts(o, " ");
        html_put_time(o, e->first, 1);
        html_puts(o, " ");
        html_text(o, f.v[HV_KIND].p, f.v[HV_KIND].n, HT_MARK);
        html_puts(o, " &rarr; ");
        dh_jstr th = f.v[HV_DST_HOST].n ? f.v[HV_DST_HOST] : f.v[HV_DST_IP];
        html_text(o, th.p, th.n, HT_MARK);
        if (e->suppressed)
            html_puts(o, " (suppressed)");
        html_puts(o, "</a><div class=\"tl-track\"><span class=\"tl-bar ");
        if (e->suppressed) {
            html_puts(o, "supp");
        } else {
            html_puts(o, "sev-");
            html_put_sev_class(o, e->sev);
        }
        double left = (double)(e->first - r->tmin) / range * 100.0;
        double width = e->has_last ? (double)(e->last - e->first) / range * 100.0 : 0;
        if (width < 0.3)
            width = 0.3;
        if (left + width > 100.0)
            left = 100.0 - width;
        html_puts(o, "\" style=\"left:");
        put_pct(o, left);
        html_puts(o, ";width:");
        put_pct(o, width);
        html_puts(o, "\"></span></div></div>\n");
    }
    html_puts(o, "</div>\n");
    if (n > shown) {
        html_puts(o, "<p class=\"note\">The timeline shows the first ");
        html_putu(o, shown);
        html_puts(o, " of ");
        html_putu(o, n);
        html_puts(o, " findings.</p>\n");
    }
    if (n < r->ne) {
        html_puts(o, "<p class=\"note\">");
        html_putu(o, r->ne - n);
        html_puts(o, " findings without a readable first-seen time are not on the timeline.</p>\n");
    }
    html_puts(o, "</section>\n");
    free(v);
}
