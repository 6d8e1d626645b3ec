/* The HTML report (docs/commands/report.md): one self-contained page from the findings
 * JSON lines of `hunt --jsonl`: summary, timeline, host graph (graphviz, inlined as SVG),
 * then one section per finding, suppressed findings in a section of their own.
 *
 * The page is rendered from a page model (html_model.h): per finding, one record of the
 * values the page prints. `report` makes them from JSON lines (html_rec_from_jdoc);
 * `hunt --html` gets them from a DH_FINDINGS_HTML findings writer (findings_html.c, handed
 * to the page by dh_findings_writer_html), which made them from each finding as it was added, so
 * nothing is written and parsed back.
 *
 * Two passes. The first takes each record, keeps an index entry (offset, times, flags: 48
 * bytes a finding, at most DH_HTML_MAX_FINDINGS) and counts the summary, the hosts and the
 * graph's edges in capped tallies. The second decodes each record again, in display order,
 * and writes its section. So memory is the records, the index and the tallies; the page
 * goes to the FILE as it grows.
 *
 * The passes and sections each have their file: html_out.c (writing, escaping),
 * html_tally.c, html_index.c (the report's state, the first pass), html_page.c (frame,
 * shared pieces), html_summary.c, html_graph.c, html_findings.c; this one runs them in
 * order.
 *
 * Everything in the input is attacker-controlled (host names, users, command lines, file
 * names are written by whoever controls the logged machines, and the JSONL file itself may
 * be crafted). The rule of these files: input bytes reach the page only through html_text()
 * (text nodes, never an attribute, URL, style, tag or comment) or, for the graph, through
 * gv_label() and graphviz's own SVG escaping, after which the SVG's tags are checked
 * against a whitelist. A Content-Security-Policy forbidding scripts and every fetch is the
 * second wall. */
#include <stdint.h>
#include <stdlib.h>

#include "output/html.h"
#include "output/html_findings.h"
#include "output/html_graph.h"
#include "output/html_index.h"
#include "output/html_page.h"
#include "output/html_summary.h"

static report *report_new(const char *source_name, FILE *out, dh_html_error_fn on_error, void *ctx)
{
    report *r = calloc(1, sizeof *r);
    if (r && !(r->rd = dh_findings_reader_new())) {
        free(r);
        r = NULL;
    }
    if (!r)
        return NULL;
    r->js = "";
    r->name = source_name ? source_name : "(findings)";
    r->on_error = on_error;
    r->ctx = ctx;
    r->max_findings = DH_HTML_MAX_FINDINGS;
    r->max_line = DH_HTML_MAX_LINE;
    r->o.f = out;
    dh_buf_init(&r->o.b, 64u << 20);
    dh_buf_init(&r->recs, SIZE_MAX);
    dh_buf_init(&r->sc, (size_t)DH_HTML_MAX_LINE * 4);
    dh_buf_init(&r->lb, 4096);
    html_tally_init(&r->kinds);
    html_tally_init(&r->kindsev);
    html_tally_init(&r->coms);
    html_tally_init(&r->hosts);
    html_tally_init(&r->edges);
    return r;
}

/* Everything after the first pass: the display order, the sections, the status; frees r. */
static dh_status report_finish(report *r, FILE *out)
{
    if (r->ne)
        qsort(r->e, r->ne, sizeof *r->e, html_cmp_display);
    for (size_t i = 0; i < r->ne; i++)
        r->e[i].num = (uint32_t)(i + 1);

    html_head_and_header(r);
    html_summary(r);
    html_timeline(r);
    html_graph(r);
    html_findings(r);
    html_puts(&r->o, "</main>\n<footer>Made by dcomhunt report. Every value above comes from the "
                     "logs and is shown as text: highlighted <span class=\"esc\">\\xNN</span> "
                     "marks stand for control, invisible or invalid characters.</footer>\n"
                     "</body>\n</html>\n");
    html_flush_out(&r->o);
    if (r->o.st == DH_OK && fflush(out) != 0)
        r->o.st = DH_ERR_IO;

    dh_status st = r->o.st != DH_OK ? r->o.st : r->in_st;
    dh_buf_free(&r->o.b);
    dh_buf_free(&r->recs);
    dh_buf_free(&r->sc);
    dh_buf_free(&r->lb);
    html_tally_free(&r->kinds);
    html_tally_free(&r->kindsev);
    html_tally_free(&r->coms);
    html_tally_free(&r->hosts);
    html_tally_free(&r->edges);
    dh_findings_reader_free(r->rd);
    free(r->e);
    free(r);
    return st;
}

dh_status dh_html_report(const char *jsonl, size_t len, const char *source_name, FILE *out,
                         dh_html_error_fn on_error, void *ctx)
{
    if ((!jsonl && len) || !out)
        return DH_ERR_ARG;
    report *r = report_new(source_name, out, on_error, ctx);
    if (!r)
        return DH_ERR_NOMEM;
    r->js = jsonl ? jsonl : "";
    r->len = len;
    html_pass_one(r);
    return report_finish(r, out);
}

struct dh_html_page {
    report *r;
    FILE *out;
};

dh_html_page *dh_html_page_new(const char *source_name, FILE *out, dh_html_error_fn on_error,
                               void *ctx)
{
    if (!out)
        return NULL;
    dh_html_page *p = calloc(1, sizeof *p);
    if (p && !(p->r = report_new(source_name, out, on_error, ctx))) {
        free(p);
        p = NULL;
    }
    if (p)
        p->out = out;
    return p;
}

/* A finding's record, in the writer's order (the input order of the page): one line. */
dh_status dh_html_page_add(dh_html_page *p, const char *rec, size_t len)
{
    report *r = p->r;
    if (r->o.st != DH_OK)
        return r->o.st;
    r->lines++;
    if (!html_index_room(r, 0, r->lines))
        return DH_OK;
    size_t off = r->recs.len;
    if (dh_buf_append(&r->recs, rec, len) != DH_OK) {
        r->o.st = DH_ERR_NOMEM;
        return DH_ERR_NOMEM;
    }
    html_index_record(r, off, len, r->lines);
    return r->o.st;
}

dh_status dh_html_page_finish(dh_html_page *p)
{
    if (!p)
        return DH_ERR_ARG;
    dh_status st = report_finish(p->r, p->out);
    free(p);
    return st;
}
