/* The HTML report's findings sections (html_findings.h): one section per finding in display
 * order, each decoded again from its record (html_model.h): what moved where, commands,
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

static void list_strings(report *r, const html_list *l, const char *olclass, unsigned flags,
                         const char *what)
{
    hout *o = &r->o;
    html_puts(o, "<ol class=\"");
    html_puts(o, olclass);
    html_puts(o, "\">");
    const char *cur = l->at;
    for (uint32_t i = 0; i < l->kept; i++) {
        html_puts(o, olclass[0] == 'c' ? "<li><code>" : "<li>");
        dh_jstr v = html_rec_next(&cur);
        html_text(o, v.p, v.n, flags);
        html_puts(o, olclass[0] == 'c' ? "</code></li>" : "</li>");
    }
    html_puts(o, "</ol>\n");
    html_put_more(o, l->total, l->kept, what);
}

static void evidence_table(report *r, const html_list *l)
{
    /* the record's columns: role, time, host, channel, event_id, kind, record_id, file */
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
    const char *cur = l->at;
    for (uint32_t i = 0; i < l->kept; i++) {
        html_puts(o, "<tr>");
        for (size_t c = 0; c < HE_COLS; c++) {
            html_puts(o, c == 7 ? "<td><code>" : "<td>");
            dh_jstr v = html_rec_next(&cur);
            html_text(o, v.p, v.n, HT_MARK);
            html_puts(o, c == 7 ? "</code></td>" : "</td>");
        }
        html_puts(o, "</tr>\n");
    }
    if (!l->kept)
        html_puts(o, "<tr><td colspan=\"8\"><em>none</em></td></tr>\n");
    html_puts(o, "</table>\n");
    html_put_more(o, l->total, l->kept, "evidence records");
}

static void pivots(report *r, const html_list *l)
{
    hout *o = &r->o;
    html_puts(o, "<h4>Pivot queries</h4>\n");
    const char *cur = l->at;
    for (uint32_t i = 0; i < l->kept; i++) {
        dh_jstr lang = html_rec_next(&cur), title = html_rec_next(&cur);
        dh_jstr query = html_rec_next(&cur);
        html_puts(o, "<div class=\"pivot\"><div class=\"pivot-head\"><span class=\"lang\">");
        if (lang.n == 3 && memcmp(lang.p, "kql", 3) == 0)
            html_puts(o, "KQL");
        else if (lang.n == 8 && memcmp(lang.p, "dcomhunt", 8) == 0)
            html_puts(o, "dcomhunt");
        else if (lang.n)
            html_text(o, lang.p, lang.n, HT_MARK);
        else
            html_puts(o, "query");
        html_puts(o, "</span>");
        html_put_field(r, title, NULL);
        html_puts(o, "</div><pre class=\"query\">");
        html_text(o, query.p, query.n, HT_MARK | HT_LINES);
        html_puts(o, "</pre></div>\n");
    }
    html_put_more(o, l->total, l->kept, "queries");
}

/* What the finding says it could not hold or decide (docs/findings.md, Limits): values cut
 * with their length in the log, what its caps left out, rules left undecided. */
static void limits_note(report *r, const html_finding *f)
{
    hout *o = &r->o;
    const html_list *cut = &f->l[HL_CUTS], *und = &f->l[HL_UNDECIDED];
    int dropped = (f->flags & HF_HAS_DROP) != 0;
    if (!cut->total && !dropped && !und->total)
        return;
    html_puts(o, "<ul class=\"limits\">");
    const char *cur = cut->at;
    for (uint32_t i = 0; i < cut->kept; i++) {
        dh_jstr value = html_rec_next(&cur), length = html_rec_next(&cur);
        dh_jstr kept = html_rec_next(&cur);
        html_puts(o, "<li><code>");
        html_text(o, value.p, value.n, HT_MARK);
        html_puts(o, "</code> truncated: ");
        html_text(o, length.p, length.n, HT_MARK);
        html_puts(o, " bytes in the log, the first ");
        html_text(o, kept.p, kept.n, HT_MARK);
        html_puts(o, " kept</li>");
    }
    if (dropped) {
        static const char *const names[] = {" commands, ", " evidence records, ", " rules"};
        html_puts(o, "<li>over the finding's caps, not listed: ");
        for (int k = 0; k < 3; k++) {
            dh_jstr v = f->v[HV_DROP_COMMANDS + k];
            html_text(o, v.p, v.n, HT_MARK);
            html_puts(o, names[k]);
        }
        html_puts(o, "</li>");
    }
    if (und->total) {
        html_puts(o, "<li>undecided (a regular expression hit its match limit; counted as "
                     "matched):");
        cur = und->at;
        for (uint32_t i = 0; i < und->kept; i++) {
            html_puts(o, " <code>");
            dh_jstr v = html_rec_next(&cur);
            html_text(o, v.p, v.n, HT_MARK);
            html_puts(o, "</code>");
        }
        html_puts(o, "</li>");
    }
    html_puts(o, "</ul>\n");
}

/* The finding's heading: number, severity, kind, source -> target, object. */
static void finding_heading(report *r, const entry *e, const html_finding *f)
{
    hout *o = &r->o;
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
    html_put_field(r, f->v[HV_SEVERITY], "no severity");
    html_puts(o, "</span> ");
    html_put_field(r, f->v[HV_KIND], NULL);
    html_puts(o, ": ");
    html_put_endpoint(r, f->v[HV_SRC_HOST], f->v[HV_SRC_IP], "unknown source");
    html_puts(o, " &rarr; ");
    html_put_endpoint(r, f->v[HV_DST_HOST], f->v[HV_DST_IP], "unknown target");
    dh_jstr com = f->v[HV_COM];
    if (com.n) {
        html_puts(o, " via ");
        html_text(o, com.p, com.n, HT_MARK);
    }
    html_puts(o, "</h3>\n");
}

/* Why a suppressed finding is (or a matched suppression would have been) set apart. */
static void suppression_note(report *r, const entry *e, const html_finding *f)
{
    hout *o = &r->o;
    if (e->suppressed || (f->flags & HF_HAS_SB)) {
        html_puts(o, e->suppressed ? "<p class=\"suppressed-note\">Suppressed"
                                   : "<p class=\"suppressed-note\">A suppression matched");
        dh_jstr reason = f->v[HV_SB_REASON];
        if (reason.n) {
            html_puts(o, ": <span>");
            html_text(o, reason.p, reason.n, HT_MARK);
            html_puts(o, "</span>");
        }
        /* the filter's title, id, expiry and file (hunt --show-suppressed writes them) */
        static const int keys[] = {HV_SB_FILTER, HV_SB_ID, HV_SB_EXPIRES, HV_SB_ORIGIN};
        static const char *const names[] = {"filter", "id", "expires", "from"};
        int any = 0;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            dh_jstr v = f->v[keys[k]];
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
static void finding_values(report *r, const html_finding *f)
{
    hout *o = &r->o;
    html_puts(o, "<table class=\"kv\">\n");
    kv_row(r, "id");
    html_puts(o, "<code>");
    html_put_field(r, f->v[HV_ID], NULL);
    html_puts(o, "</code></td></tr>\n");
    kv_row(r, "confidence");
    html_put_field(r, f->v[HV_CONFIDENCE], "not given");
    const html_list *reasons = &f->l[HL_REASONS];
    if (reasons->total) {
        html_puts(o, "<ul>");
        const char *cur = reasons->at;
        for (uint32_t i = 0; i < reasons->kept; i++) {
            html_puts(o, "<li>");
            dh_jstr v = html_rec_next(&cur);
            html_text(o, v.p, v.n, HT_MARK);
            html_puts(o, "</li>");
        }
        html_puts(o, "</ul>");
    }
    html_puts(o, "</td></tr>\n");
    kv_row(r, "source");
    html_put_endpoint(r, f->v[HV_SRC_HOST], f->v[HV_SRC_IP], "unknown");
    html_puts(o, "</td></tr>\n");
    kv_row(r, "target");
    html_put_endpoint(r, f->v[HV_DST_HOST], f->v[HV_DST_IP], "unknown");
    html_puts(o, "</td></tr>\n");
    kv_row(r, "account");
    html_put_field(r, f->v[HV_USER], "unknown");
    dh_jstr lid = f->v[HV_LOGON_ID];
    if (lid.n) {
        html_puts(o, " <span class=\"mono\">logon id ");
        html_text(o, lid.p, lid.n, HT_MARK);
        html_puts(o, "</span>");
    }
    html_puts(o, "</td></tr>\n");
    kv_row(r, "COM object");
    html_put_field(r, f->v[HV_COM], "not named");
    dh_jstr clsid = f->v[HV_CLSID];
    if (clsid.n) {
        html_puts(o, " <code>");
        html_text(o, clsid.p, clsid.n, HT_MARK);
        html_puts(o, "</code>");
    }
    html_puts(o, "</td></tr>\n");
    kv_row(r, "technique");
    html_put_field(r, f->v[HV_TECHNIQUE], "T1021.003");
    html_puts(o, "</td></tr>\n");
    kv_row(r, "first seen");
    html_put_field(r, f->v[HV_FIRST], "unknown");
    html_puts(o, "</td></tr>\n");
    kv_row(r, "last seen");
    html_put_field(r, f->v[HV_LAST], "unknown");
    html_puts(o, "</td></tr>\n");
    kv_row(r, "rules");
    /* names and ids side by side, as many rows as the longer list (at most MAX_LIST) */
    const html_list *names = &f->l[HL_RULE_NAMES], *ids = &f->l[HL_RULE_IDS];
    const char *cn = names->at, *ci = ids->at;
    uint32_t nr = 0;
    while ((nr < names->kept || nr < ids->kept) && nr < MAX_LIST) {
        if (nr)
            html_puts(o, "<br>");
        if (nr < names->kept) {
            dh_jstr v = html_rec_next(&cn);
            html_text(o, v.p, v.n, HT_MARK);
        }
        if (nr < ids->kept) {
            dh_jstr v = html_rec_next(&ci);
            html_puts(o, " <code>");
            html_text(o, v.p, v.n, HT_MARK);
            html_puts(o, "</code>");
        }
        nr++;
    }
    if (!nr)
        html_puts(o, "<em>none</em>");
    html_puts(o, "</td></tr>\n</table>\n");
}

static void finding(report *r, const entry *e)
{
    hout *o = &r->o;
    html_finding f;
    if (html_rec_decode(r->recs.data + e->off, e->len, &f) < 0)
        return; /* decoded in pass one: cannot happen */
    finding_heading(r, e, &f);
    suppression_note(r, e, &f);
    finding_values(r, &f);
    if (f.l[HL_COMMANDS].total) {
        html_puts(o, "<h4>Commands</h4>\n");
        list_strings(r, &f.l[HL_COMMANDS], "cmds", HT_MARK, "commands");
    }
    limits_note(r, &f);
    evidence_table(r, &f.l[HL_EVIDENCE]);
    if (f.l[HL_INVESTIGATE].total) {
        html_puts(o, "<h4>Investigate</h4>\n");
        list_strings(r, &f.l[HL_INVESTIGATE], "steps", HT_MARK | HT_LINES, "steps");
    }
    if (f.l[HL_RESPOND].total) {
        html_puts(o, "<h4>Respond</h4>\n");
        list_strings(r, &f.l[HL_RESPOND], "steps", HT_MARK | HT_LINES, "steps");
    }
    if (f.l[HL_PIVOTS].total)
        pivots(r, &f.l[HL_PIVOTS]);
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
