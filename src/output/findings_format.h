/* The findings writers' table: one row per output format (dh_findings_format), each
 * implemented in its own file (findings_table.c, findings_jsonl.c, findings_ocsf.c,
 * findings_csv.c, findings_html.c). A row says how one finding is rendered and what comes before
 * and after them all; which findings are rendered, and in what order, is src/findings/keep.c's, and
 * the writer that joins the two is findings_writer.c. Renderers escape every string from
 * the logs for their medium and never decide anything. */
#ifndef DH_OUTPUT_FINDINGS_FORMAT_H
#define DH_OUTPUT_FINDINGS_FORMAT_H

#include <stdio.h>

#include "core/buf.h"
#include "dcomhunt/finding.h"
#include "output/findings_graph.h"
#include "output/guide.h"
#include "output/html.h"

/* When a format wants each finding's guide built. */
typedef enum { DH_GUIDE_NEVER, DH_GUIDE_ALWAYS, DH_GUIDE_EXPLAIN } dh_guide_use;

/* How the writer was set up, for the renderers that care. */
typedef struct dh_findings_style {
    int color;   /* ANSI colors (table) */
    int explain; /* the guide and pivots under each finding (table) */
} dh_findings_style;

typedef struct dh_findings_format_ops {
    dh_findings_format format;
    const char *name;
    dh_guide_use guide;
    int graph; /* collects the host graph for `end` */
    int page;  /* print renders the HTML page from the texts (dh_findings_writer_html) */
    /* Appends f. g: its guide, NULL when none was wanted or it could not be built; sup: the
     * tuning filter that suppressed it (shown with show_suppressed), or NULL. */
    void (*render)(dh_buf *b, const dh_finding *f, const dh_guide *g, const dh_rule *sup,
                   const dh_findings_style *st);
    void (*begin)(FILE *out); /* before the findings, or NULL */
    /* After the findings, or NULL: nshown, the findings written that were not suppressed;
     * graph, when the row asked for it. */
    void (*end)(FILE *out, size_t nshown, dh_findings_graph *graph);
} dh_findings_format_ops;

extern const dh_findings_format_ops dh_findings_table_ops;
extern const dh_findings_format_ops dh_findings_jsonl_ops;
extern const dh_findings_format_ops dh_findings_ocsf_ops;
extern const dh_findings_format_ops dh_findings_csv_ops;
extern const dh_findings_format_ops dh_findings_html_ops;

/* The HTML report page (html.h) of a DH_FINDINGS_HTML writer's findings (what `hunt --html`
 * writes): the same bytes as dh_html_report on what a DH_FINDINGS_JSONL writer set up alike
 * would print, without writing or parsing JSON. The findings are replayed once: the writer
 * cannot print them again. DH_ERR_ARG if w is not of that format; else as dh_html_report. */
dh_status dh_findings_writer_html(dh_findings_writer *w, const char *source_name, FILE *out,
                                  dh_html_error_fn on_error, void *ctx);

#endif
