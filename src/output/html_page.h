/* The HTML report (html.c), the page's frame (style, head, header) and the pieces every section
 * writes: times, severities, a finding's values (from its model), "N more" notes, tally items by
 * count. Internal to src/output/html*.c. */
#ifndef DH_OUTPUT_HTML_PAGE_H
#define DH_OUTPUT_HTML_PAGE_H

#include <stdint.h>

#include "output/html_index.h"
#include "output/html_out.h"
#include "output/html_tally.h"

/* Tally items by count, most first, then in first-seen order (qsort has no context
 * argument, so items are sorted through references that carry their index). */
typedef struct item_ref {
    const titem *it;
    size_t idx;
} item_ref;

void html_head_and_header(report *r);
void html_put_endpoint(report *r, dh_jstr host, dh_jstr ip, const char *dflt);
void html_put_field(report *r, dh_jstr v, const char *dflt);
void html_put_more(hout *o, uint32_t total, uint32_t shown, const char *what);
void html_put_sev_class(hout *o, int sev);
void html_put_time(hout *o, int64_t t, int seconds_only);
item_ref *html_sorted_items(const tally *t);

#endif
