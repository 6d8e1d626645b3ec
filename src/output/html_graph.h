/* The HTML report (html.c), the host graph: the tallied edges laid out by graphviz and inlined as
 * SVG. Internal to src/output/html*.c. */
#ifndef DH_OUTPUT_HTML_GRAPH_H
#define DH_OUTPUT_HTML_GRAPH_H

#include "output/html_index.h"

void html_graph(report *r);

#endif
