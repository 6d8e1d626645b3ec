/* Findings as a table for people: one block per finding (what moved where, when, the
 * commands, why this confidence, the rules, the evidence), the guide under it with
 * --explain, and the host graph at the end. Every string from the logs is escaped for a
 * terminal (dh_text_escape), so a log cannot move the cursor or change colors. */
#include <stdio.h>
#include <string.h>

#include "core/timefmt.h"
#include "findings/model.h"
#include "output/findings_format.h"
#include "output/text.h"

static void tty(dh_buf *b, const char *s, size_t n)
{
    dh_text_escape(b, s, n, 0);
}

static void ttys(dh_buf *b, const char *s)
{
    tty(b, s, strlen(s));
}

static void ttyv(dh_buf *b, dh_str s)
{
    tty(b, s.ptr, s.len);
}

static const char *kind_color(dh_finding_kind k)
{
    switch (k) {
    case DH_FINDING_LATERAL_MOVEMENT:
        return "\033[1;31m";
    case DH_FINDING_ATTEMPT:
        return "\033[33m";
    case DH_FINDING_SOURCE_ACTIVITY:
        return "\033[35m";
    default:
        return "\033[2m";
    }
}

/* Text indented under a heading, wrapped lines kept as they are. */
static void indented(dh_buf *b, const char *text, const char *indent)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        dh_buf_puts(b, indent);
        tty(b, p, n);
        dh_buf_putc(b, '\n');
        p += n + (nl ? 1 : 0);
    }
}

static void numbered(dh_buf *b, const char *heading, char *const *steps, size_t n)
{
    char num[32];
    dh_buf_puts(b, heading);
    for (size_t i = 0; i < n; i++) {
        snprintf(num, sizeof num, "    %zu. ", i + 1);
        dh_buf_puts(b, num);
        ttys(b, steps[i]);
        dh_buf_putc(b, '\n');
    }
}

static void render_explain(dh_buf *b, const dh_guide *g)
{
    numbered(b, "  investigate\n", g->investigate, g->ninvestigate);
    numbered(b, "  respond\n", g->respond, g->nrespond);
    dh_buf_puts(b, "  pivots\n");
    for (size_t i = 0; i < g->npivots; i++) {
        dh_buf_puts(b, "    ");
        ttys(b, g->pivots[i].title);
        dh_buf_puts(b, " (");
        ttys(b, g->pivots[i].language);
        dh_buf_puts(b, ")\n");
        indented(b, g->pivots[i].query, "      ");
    }
}

/* The first line (kind, severity, confidence, source -> target, object) and, for a
 * suppressed finding, the filter that suppressed it. */
static void render_heading(const dh_findings_style *o, dh_buf *b, const dh_finding *f,
                           const dh_rule *sup)
{
    if (o->color)
        dh_buf_puts(b, sup ? "\033[2m" : kind_color(f->kind));
    dh_buf_puts(b, "\n");
    if (sup)
        dh_buf_puts(b, "SUPPRESSED ");
    dh_buf_puts(b, dh_finding_kind_name(f->kind));
    dh_buf_puts(b, " [");
    dh_buf_puts(b, dh_level_name(f->severity));
    dh_buf_puts(b, ", confidence ");
    dh_buf_puts(b, dh_confidence_name(f->confidence));
    dh_buf_puts(b, "]  ");
    if (f->source_host.len)
        ttyv(b, f->source_host);
    else if (f->source_ip.len)
        ttyv(b, f->source_ip);
    else
        dh_buf_putc(b, '?');
    if (f->source_host.len && f->source_ip.len) {
        dh_buf_puts(b, " (");
        ttyv(b, f->source_ip);
        dh_buf_puts(b, ")");
    }
    dh_buf_puts(b, " -> ");
    if (f->target_host.len)
        ttyv(b, f->target_host);
    else
        dh_buf_putc(b, '?');
    if (f->com_object.len) {
        dh_buf_puts(b, "  via ");
        ttyv(b, f->com_object);
    }
    if (o->color)
        dh_buf_puts(b, "\033[0m");
    if (sup) {
        dh_buf_puts(b, "\n  suppressed by ");
        ttys(b, dh_rule_title(sup));
        dh_buf_puts(b, ": ");
        ttys(b, dh_rule_filter_reason(sup));
        if (*dh_rule_filter_expires(sup)) {
            dh_buf_puts(b, " (until ");
            ttys(b, dh_rule_filter_expires(sup));
            dh_buf_puts(b, ")");
        }
    }
}

/* The finding's values: id and times, account, object, what the servers ran, and what
 * the caps cut or left out. */
static void render_values(dh_buf *b, const dh_finding *f)
{
    dh_buf_puts(b, "\n  id ");
    dh_buf_puts(b, f->id);
    dh_buf_puts(b, "  ");
    dh_time_put_iso(b, f->first_seen);
    dh_buf_puts(b, " .. ");
    dh_time_put_iso(b, f->last_seen);
    if (f->user.len) {
        dh_buf_puts(b, "\n  account ");
        ttyv(b, f->user);
        if (f->logon_id.len) {
            dh_buf_puts(b, "  logon id ");
            ttyv(b, f->logon_id);
        }
    }
    if (f->clsid.len) {
        dh_buf_puts(b, "\n  clsid ");
        ttyv(b, f->clsid);
    }
    for (size_t i = 0; i < f->nservers; i++) {
        dh_buf_puts(b, i ? "\n           " : "\n  servers  ");
        ttyv(b, f->servers[i]);
    }
    for (size_t i = 0; i < f->ncommands; i++) {
        dh_buf_puts(b, i ? "\n           " : "\n  commands ");
        ttyv(b, f->commands[i]);
        size_t full = dh_finding_command_cut(f, i);
        if (full) {
            char mark[96];
            snprintf(mark, sizeof mark, " [truncated: %zu bytes, first %zu shown]", full,
                     f->commands[i].len);
            dh_buf_puts(b, mark);
        }
    }
    for (size_t i = 0; i < f->nsession_commands; i++) {
        dh_buf_puts(b, i ? "\n           " : "\n  session  ");
        ttyv(b, f->session_commands[i]);
    }
    for (size_t i = 0; i < f->ncuts; i++) {
        if (!strcmp(f->cuts[i].value, "commands"))
            continue; /* marked on the command */
        char what[64], mark[200];
        dh_cut_name(&f->cuts[i], what, sizeof what);
        snprintf(mark, sizeof mark, "\n  (%s truncated: %zu bytes, first %zu shown)", what,
                 f->cuts[i].length, f->cuts[i].kept);
        dh_buf_puts(b, mark);
    }
    if (f->commands_dropped || f->evidence_dropped || f->rules_dropped) {
        char mark[200];
        snprintf(mark, sizeof mark,
                 "\n  (over the finding's caps, not listed: %zu commands, %zu evidence records, "
                 "%zu rules)",
                 f->commands_dropped, f->evidence_dropped, f->rules_dropped);
        dh_buf_puts(b, mark);
    }
}

/* Why: the confidence's reasons, the rules (and those left undecided), the evidence. */
static void render_why(dh_buf *b, const dh_finding *f)
{
    for (size_t i = 0; i < f->nreasons; i++) {
        dh_buf_puts(b, i ? "\n           " : "\n  because  ");
        ttys(b, f->reasons[i]);
    }
    if (f->nrules) {
        dh_buf_puts(b, "\n  rules    ");
        for (size_t i = 0; i < f->nrules; i++) {
            if (i)
                dh_buf_puts(b, ", ");
            ttys(b, dh_rule_label(f->rules[i]));
        }
    }
    for (size_t i = 0; i < f->nundecided; i++) {
        dh_buf_puts(b, i ? "\n           " : "\n  undecided ");
        ttys(b, dh_rule_label(f->undecided[i]));
        dh_buf_puts(b, ": a regular expression of the rule hit its match limit on an event of "
                       "this finding (counted as matched)");
    }
    for (size_t i = 0; i < f->nevidence; i++) {
        const dh_event *ev = f->evidence[i].ev;
        dh_buf_puts(b, i ? "\n           " : "\n  evidence ");
        dh_time_put_iso(b, dh_event_time(ev));
        dh_buf_puts(b, " ");
        ttys(b, f->evidence[i].role);
        char tmp[64];
        snprintf(tmp, sizeof tmp, " event %u record %llu ", dh_event_id(ev),
                 (unsigned long long)dh_event_record_id(ev));
        dh_buf_puts(b, tmp);
        dh_str fs = dh_event_file_str(ev);
        tty(b, fs.ptr, fs.len);
    }
}

static void render_table(const dh_findings_style *o, dh_buf *b, const dh_finding *f,
                         const dh_guide *g, const dh_rule *sup)
{
    render_heading(o, b, f, sup);
    render_values(b, f);
    render_why(b, f);
    dh_buf_putc(b, '\n');
    if (o->explain && g)
        render_explain(b, g);
}

static void table_render(dh_buf *b, const dh_finding *f, const dh_guide *g, const dh_rule *sup,
                         const dh_findings_style *st)
{
    render_table(st, b, f, g, sup);
}

static void table_end(FILE *out, size_t nshown, dh_findings_graph *graph)
{
    if (!nshown)
        fputs("no findings\n", out);
    if (graph)
        dh_findings_graph_print(graph, out);
}

const dh_findings_format_ops dh_findings_table_ops = {
    .format = DH_FINDINGS_TABLE,
    .name = "table",
    .guide = DH_GUIDE_EXPLAIN,
    .graph = 1,
    .render = table_render,
    .end = table_end,
};
