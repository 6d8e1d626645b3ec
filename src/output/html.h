/* The HTML report: one self-contained page (inline CSS and SVG, no script, nothing fetched)
 * built from the findings JSON lines that `hunt --jsonl` prints (dh_html_report), or from
 * the page records of a DH_FINDINGS_HTML findings writer (dh_html_page_*, what `hunt
 * --html` uses through dh_findings_writer_html).
 *
 * Ownership: everything is borrowed for the duration of the call; the function keeps
 * nothing. `jsonl` need not be NUL-terminated. The page is written to `out` as it is built;
 * memory is the findings' records (about the size of their JSON lines), the index and the
 * capped tallies. Not thread-safe: graphviz, which lays
 * out the host graph, keeps global state; call it from one thread at a time. */
#ifndef DH_OUTPUT_HTML_H
#define DH_OUTPUT_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "dcomhunt/status.h"

/* Caps: a line longer than DH_HTML_MAX_LINE is skipped (reported); findings past
 * DH_HTML_MAX_FINDINGS are counted, not shown, and the page says so. */
#define DH_HTML_MAX_LINE     (16u << 20)
#define DH_HTML_MAX_FINDINGS 100000u

/* Called once per problem: a skipped line (status DH_ERR_FORMAT or DH_ERR_LIMIT, `offset`
 * the line's byte offset, `message` "line N: why"), the findings cap reached
 * (DH_ERR_LIMIT), a host graph that could not be drawn (DH_ERR_UNSUPPORTED; the page says
 * so and the status is unchanged). `file` is source_name. Strings in it may quote input:
 * escape them before printing to a terminal. */
typedef void (*dh_html_error_fn)(void *ctx, const dh_error *e);

/* Writes the page. Every string that came from the input is HTML-escaped (& < > " ' and
 * control, bidirectional and invisible characters shown as marked \xNN / \uNNNN escapes;
 * invalid UTF-8 bytes likewise), in the SVG labels too. Lines that are not a JSON object
 * with "id" and "kind" strings are reported through on_error and skipped; the page is
 * still complete.
 *
 * Returns DH_OK; DH_ERR_FORMAT when a line was skipped; DH_ERR_LIMIT when findings past
 * the cap were left out (and no line was skipped); DH_ERR_IO when writing to `out`
 * failed; DH_ERR_NOMEM. on_error may be NULL; source_name may be NULL. */
dh_status dh_html_report(const char *jsonl, size_t len, const char *source_name, FILE *out,
                         dh_html_error_fn on_error, void *ctx);

/* The same page from page records (html_model.h) rather than JSON lines: what a
 * DH_FINDINGS_HTML findings writer keeps (dh_findings_writer_html, findings_format.h, hands
 * them over). new: NULL when out is NULL or memory fails; add each record in the writer's
 * order (a record counts as a line of the page); finish writes the page, frees it and
 * returns as dh_html_report. */
typedef struct dh_html_page dh_html_page;
dh_html_page *dh_html_page_new(const char *source_name, FILE *out, dh_html_error_fn on_error,
                               void *ctx);
dh_status dh_html_page_add(dh_html_page *p, const char *rec, size_t len);
dh_status dh_html_page_finish(dh_html_page *p);

#endif
