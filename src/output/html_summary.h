/* The HTML report (html.c), the summary (findings by kind and severity, COM objects, hosts) and the
 * timeline. Internal to src/output/html*.c. */
#ifndef DH_OUTPUT_HTML_SUMMARY_H
#define DH_OUTPUT_HTML_SUMMARY_H

#include "output/html_index.h"

void html_summary(report *r);
void html_timeline(report *r);

#endif
