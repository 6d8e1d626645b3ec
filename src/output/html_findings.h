/* The HTML report (html.c), one section per finding, in display order, suppressed ones apart.
 * Internal to src/output/html*.c. */
#ifndef DH_OUTPUT_HTML_FINDINGS_H
#define DH_OUTPUT_HTML_FINDINGS_H

#include "output/html_index.h"

void html_findings(report *r);

#endif
