/* The HTML report's findings sections (html_findings.h): one section per finding in display
 * order, each line parsed again by the findings reader: what moved where, commands,
 * evidence, the guide's steps and pivots, limits; suppressed ones in a section apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "output/html_findings.h"
#include "output/html_page.h"

static void kv_row(report *r, const char *th)
{
    html_puts(&r->o, "<tr><th>");
    html_puts(&r->o, th);
    html_puts(&r->o, "</th><td>");
}

static void list_strings(report *r, const dh_jdoc *d, int arr, const char *olclass, unsigned flags,
                         const char *what)
{
    hout *o = &r->o;
    html_puts(o, "<ol class=\"");
    html_puts(o, olclass);
    html_puts(o, "\">");
    int shown = 0;
    for (int t = dh_jdoc_next(d, arr, -1); t >= 0 && shown < MAX_LIST;
         t = dh_jdoc_next(d, arr, t)) {
        html_puts(o, olclass[0] == 'c' ? "<li><code>" : "<li>");
        html_put_tok(r, d, t, flags);
        html_puts(o, olclass[0] == 'c' ? "</code></li>" : "</li>");
        shown++;
    }
    html_puts(o, "</ol>\n");
    html_put_more(o, dh_jdoc_len(d, arr), shown, what);
}

static void evidence_table(report *r, const dh_jdoc *d, int arr)
{
    static const char *const cols[] = {"role",     "time", "host",      "channel",
                                       "event_id", "kind", "record_id", "file"};
    static const char *const heads[] = {"role",  "time", "host",   "channel",
                                        "event", "kind", "record", "file"};
    hout *o = &r->o;
    html_puts(o, "<h4>Evidence</h4>\n<table class=\"ev\"><tr>");
    for (size_t c = 0; c < sizeof heads / sizeof heads[0]; c++) {
        html_puts(o, "<th>");
        html_puts(o, heads[c]);
        html_puts(o, "</th>");
    }
    html_puts(o, "</tr>\n");
    int shown = 0;
    for (int t = dh_jdoc_next(d, arr, -1); t >= 0 && shown < MAX_LIST;
         t = dh_jdoc_next(d, arr, t)) {
        html_puts(o, "<tr>");
        for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
            html_puts(o, c == 7 ? "<td><code>" : "<td>");
            html_put_tok(r, d, dh_jdoc_get(d, t, cols[c]), HT_MARK);
            html_puts(o, c == 7 ? "</code></td>" : "</td>");
        }
        html_puts(o, "</tr>\n");
        shown++;
    }
    if (!shown)
        html_puts(o, "<tr><td colspan=\"8\"><em>none</em></td></tr>\n");
    html_puts(o, "</table>\n");
    html_put_more(o, dh_jdoc_len(d, arr), shown, "evidence records");
}

static void pivots(report *r, const dh_jdoc *d, int arr)
{
    hout *o = &r->o;
    html_puts(o, "<h4>Pivot queries</h4>\n");
    int shown = 0;
    for (int t = dh_jdoc_next(d, arr, -1); t >= 0 && shown < MAX_LIST;
         t = dh_jdoc_next(d, arr, t)) {
        html_puts(o, "<div class=\"pivot\"><div class=\"pivot-head\"><span class=\"lang\">");
        dh_jstr lang = dh_jdoc_val(d, dh_jdoc_get(d, t, "language"), &r->sc);
        if (lang.n == 3 && memcmp(lang.p, "kql", 3) == 0)
            html_puts(o, "KQL");
        else if (lang.n == 8 && memcmp(lang.p, "dcomhunt", 8) == 0)
            html_puts(o, "dcomhunt");
        else if (lang.n)
            html_text(o, lang.p, lang.n, HT_MARK);
        else
            html_puts(o, "query");
        html_puts(o, "</span>");
        html_put_field(r, d, t, "title", NULL);
        html_puts(o, "</div><pre class=\"query\">");
        html_put_tok(r, d, dh_jdoc_get(d, t, "query"), HT_MARK | HT_LINES);
        html_puts(o, "</pre></div>\n");
        shown++;
    }
    html_put_more(o, dh_jdoc_len(d, arr), shown, "queries");
}

/* What the finding says it could not hold or decide (docs/findings.md, Limits): values cut
 * with their length in the log, what its caps left out, rules left undecided. */
static void limits_note(report *r, const dh_jdoc *d)
{
    hout *o = &r->o;
    int cut = dh_jdoc_get(d, 0, "truncated"), dropped = dh_jdoc_get(d, 0, "dropped"),
        und = dh_jdoc_get(d, 0, "undecided_rules");
    if (!dh_jdoc_len(d, cut) && dropped < 0 && !dh_jdoc_len(d, und))
        return;
    html_puts(o, "<ul class=\"limits\">");
    int n = 0;
    for (int t = dh_jdoc_next(d, cut, -1); t >= 0 && n < MAX_LIST;
         t = dh_jdoc_next(d, cut, t), n++) {
        html_puts(o, "<li><code>");
        html_put_tok(r, d, dh_jdoc_get(d, t, "value"), HT_MARK);
        html_puts(o, "</code> truncated: ");
        html_put_tok(r, d, dh_jdoc_get(d, t, "length"), HT_MARK);
        html_puts(o, " bytes in the log, the first ");
        html_put_tok(r, d, dh_jdoc_get(d, t, "kept"), HT_MARK);
        html_puts(o, " kept</li>");
    }
    if (dropped >= 0) {
        static const char *const keys[] = {"commands", "evidence", "rules"};
        static const char *const names[] = {" commands, ", " evidence records, ", " rules"};
        html_puts(o, "<li>over the finding's caps, not listed: ");
        for (size_t k = 0; k < 3; k++) {
            html_put_tok(r, d, dh_jdoc_get(d, dropped, keys[k]), HT_MARK);
            html_puts(o, names[k]);
        }
        html_puts(o, "</li>");
    }
    if (dh_jdoc_len(d, und)) {
        html_puts(o, "<li>undecided (a regular expression hit its match limit; counted as "
                     "matched):");
        n = 0;
        for (int t = dh_jdoc_next(d, und, -1); t >= 0 && n < MAX_LIST;
             t = dh_jdoc_next(d, und, t), n++) {
            html_puts(o, " <code>");
            html_put_tok(r, d, t, HT_MARK);
            html_puts(o, "</code>");
        }
        html_puts(o, "</li>");
    }
    html_puts(o, "</ul>\n");
}

/* The finding's heading: number, severity, kind, source -> target, object. */
static void finding_heading(report *r, const entry *e, const dh_jdoc *d)
{
    hout *o = &r->o;
    int src = dh_jdoc_get(d, 0, "source"), dst = dh_jdoc_get(d, 0, "target");
    html_puts(o, "<article class=\"finding s-");
    html_put_sev_class(o, e->sev);
    html_puts(o, e->suppressed ? " suppressed" : "");
    html_puts(o, "\" id=\"f");
    html_putu(o, e->num);
    html_puts(o, "\">\n<h3>#");
    html_putu(o, e->num);
    html_puts(o, " ");
    if (e->suppressed)
        html_puts(o, "<span class=\"badge supp-badge\">SUPPRESSED</span> ");
    html_puts(o, "<span class=\"badge sev-");
    html_put_sev_class(o, e->sev);
    html_puts(o, "\">");
    html_put_field(r, d, 0, "severity", "no severity");
    html_puts(o, "</span> ");
    html_put_field(r, d, 0, "kind", NULL);
    html_puts(o, ": ");
    html_put_endpoint(r, d, src, "unknown source");
    html_puts(o, " &rarr; ");
    html_put_endpoint(r, d, dst, "unknown target");
    dh_jstr com = dh_jdoc_val(d, dh_jdoc_get(d, 0, "com_object"), &r->sc);
    if (com.n) {
        html_puts(o, " via ");
        html_text(o, com.p, com.n, HT_MARK);
    }
    html_puts(o, "</h3>\n");
}

/* Why a suppressed finding is (or a matched suppression would have been) set apart. */
static void suppression_note(report *r, const entry *e, const dh_jdoc *d)
{
    hout *o = &r->o;
    int sb = dh_jdoc_get(d, 0, "suppressed_by");
    if (e->suppressed || sb >= 0) {
        html_puts(o, e->suppressed ? "<p class=\"suppressed-note\">Suppressed"
                                   : "<p class=\"suppressed-note\">A suppression matched");
        dh_jstr reason = dh_jdoc_val(d, dh_jdoc_get(d, sb, "reason"), &r->sc);
        if (reason.n) {
            html_puts(o, ": <span>");
            html_text(o, reason.p, reason.n, HT_MARK);
            html_puts(o, "</span>");
        }
        /* the filter's title, id, expiry and file (hunt --show-suppressed writes them) */
        static const char *const keys[] = {"filter", "id", "expires", "origin"};
        static const char *const names[] = {"filter", "id", "expires", "from"};
        int any = 0;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            dh_jstr v = dh_jdoc_val(d, dh_jdoc_get(d, sb, keys[k]), &r->sc);
            if (!v.n)
                continue;
            html_puts(o, any++ ? ", " : " <span>(");
            html_puts(o, names[k]);
            html_puts(o, " <code>");
            html_text(o, v.p, v.n, HT_MARK);
            html_puts(o, "</code>");
        }
        if (any)
            html_puts(o, ")</span>");
        html_puts(o, "</p>\n");
    }
}

/* The finding's values: id, confidence and why, hosts, account, object, times, rules. */
static void finding_values(report *r, const dh_jdoc *d)
{
    hout *o = &r->o;
    int src = dh_jdoc_get(d, 0, "source"), dst = dh_jdoc_get(d, 0, "target");
    html_puts(o, "<table class=\"kv\">\n");
    kv_row(r, "id");
    html_puts(o, "<code>");
    html_put_field(r, d, 0, "id", NULL);
    html_puts(o, "</code></td></tr>\n");
    kv_row(r, "confidence");
    html_put_field(r, d, 0, "confidence", "not given");
    int reasons = dh_jdoc_get(d, 0, "confidence_reasons");
    if (dh_jdoc_len(d, reasons)) {
        html_puts(o, "<ul>");
        int n = 0;
        for (int t = dh_jdoc_next(d, reasons, -1); t >= 0 && n < MAX_LIST;
             t = dh_jdoc_next(d, reasons, t), n++) {
            html_puts(o, "<li>");
            html_put_tok(r, d, t, HT_MARK);
            html_puts(o, "</li>");
        }
        html_puts(o, "</ul>");
    }
    html_puts(o, "</td></tr>\n");
    kv_row(r, "source");
    html_put_endpoint(r, d, src, "unknown");
    html_puts(o, "</td></tr>\n");
    kv_row(r, "target");
    html_put_endpoint(r, d, dst, "unknown");
    html_puts(o, "</td></tr>\n");
    kv_row(r, "account");
    html_put_field(r, d, 0, "user", "unknown");
    dh_jstr lid = dh_jdoc_val(d, dh_jdoc_get(d, 0, "logon_id"), &r->sc);
    if (lid.n) {
        html_puts(o, " <span class=\"mono\">logon id ");
        html_text(o, lid.p, lid.n, HT_MARK);
        html_puts(o, "</span>");
    }
    html_puts(o, "</td></tr>\n");
    kv_row(r, "COM object");
    html_put_field(r, d, 0, "com_object", "not named");
    dh_jstr clsid = dh_jdoc_val(d, dh_jdoc_get(d, 0, "clsid"), &r->sc);
    if (clsid.n) {
        html_puts(o, " <code>");
        html_text(o, clsid.p, clsid.n, HT_MARK);
        html_puts(o, "</code>");
    }
    html_puts(o, "</td></tr>\n");
    kv_row(r, "technique");
    html_put_field(r, d, 0, "technique", "T1021.003");
    html_puts(o, "</td></tr>\n");
    kv_row(r, "first seen");
    html_put_field(r, d, 0, "first_seen", "unknown");
    html_puts(o, "</td></tr>\n");
    kv_row(r, "last seen");
    html_put_field(r, d, 0, "last_seen", "unknown");
    html_puts(o, "</td></tr>\n");
    kv_row(r, "rules");
    int names = dh_jdoc_get(d, 0, "rule_names"), ids = dh_jdoc_get(d, 0, "rule_ids");
    int tn = dh_jdoc_next(d, names, -1), ti = dh_jdoc_next(d, ids, -1), nr = 0;
    while ((tn >= 0 || ti >= 0) && nr < MAX_LIST) {
        if (nr++)
            html_puts(o, "<br>");
        html_put_tok(r, d, tn, HT_MARK);
        if (ti >= 0) {
            html_puts(o, " <code>");
            html_put_tok(r, d, ti, HT_MARK);
            html_puts(o, "</code>");
        }
        if (tn >= 0)
            tn = dh_jdoc_next(d, names, tn);
        if (ti >= 0)
            ti = dh_jdoc_next(d, ids, ti);
    }
    if (!nr)
        html_puts(o, "<em>none</em>");
    html_puts(o, "</td></tr>\n</table>\n");
}

static void finding(report *r, const entry *e)
{
    hout *o = &r->o;
    dh_jdoc d;
    if (dh_findings_reader_parse(r->rd, r->js + e->off, e->len, &d))
        return; /* checked in pass one: cannot happen */
    finding_heading(r, e, &d);
    suppression_note(r, e, &d);
    finding_values(r, &d);
    int cmds = dh_jdoc_get(&d, 0, "commands");
    if (dh_jdoc_len(&d, cmds)) {
        html_puts(o, "<h4>Commands</h4>\n");
        list_strings(r, &d, cmds, "cmds", HT_MARK, "commands");
    }
    limits_note(r, &d);
    evidence_table(r, &d, dh_jdoc_get(&d, 0, "evidence"));
    int inv = dh_jdoc_get(&d, 0, "investigate");
    if (dh_jdoc_len(&d, inv)) {
        html_puts(o, "<h4>Investigate</h4>\n");
        list_strings(r, &d, inv, "steps", HT_MARK | HT_LINES, "steps");
    }
    int resp = dh_jdoc_get(&d, 0, "respond");
    if (dh_jdoc_len(&d, resp)) {
        html_puts(o, "<h4>Respond</h4>\n");
        list_strings(r, &d, resp, "steps", HT_MARK | HT_LINES, "steps");
    }
    int piv = dh_jdoc_get(&d, 0, "pivots");
    if (dh_jdoc_len(&d, piv))
        pivots(r, &d, piv);
    html_puts(o, "</article>\n");
}

void html_findings(report *r)
{
    hout *o = &r->o;
    size_t active = r->ne - r->suppressed;
    html_puts(o, "<section id=\"findings\">\n<h2>Findings (");
    html_putu(o, active);
    html_puts(o, ")</h2>\n");
    if (!active)
        html_puts(o, "<p><em>No findings.</em></p>\n");
    for (size_t i = 0; i < active && o->st == DH_OK; i++)
        finding(r, &r->e[i]);
    html_puts(o, "</section>\n<section id=\"suppressed\">\n<h2>Suppressed findings (");
    html_putu(o, r->suppressed);
    html_puts(o, ")</h2>\n");
    if (!r->suppressed)
        html_puts(o, "<p><em>None.</em></p>\n");
    else
        html_puts(o, "<p>Findings a suppression matched. They are kept and marked here, and "
                     "counted only in the summary's &ldquo;suppressed&rdquo; columns, so a wrong "
                     "suppression can be seen.</p>\n");
    for (size_t i = active; i < r->ne && o->st == DH_OK; i++)
        finding(r, &r->e[i]);
    html_puts(o, "</section>\n");
}
