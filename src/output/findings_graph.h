/* The host graph under the findings table: which source reached which target (lateral
 * movements and attempts, suppressed ones left out), with counts, and the two-hop paths
 * A -> B -> C where B was reached before it reached C. Host names are cut at
 * DH_FINDINGS_GRAPH_HOST_MAX: the graph is a summary; the findings show the names whole.
 *
 * Ownership: the graph copies what it is given. Single-threaded. */
#ifndef DH_OUTPUT_FINDINGS_GRAPH_H
#define DH_OUTPUT_FINDINGS_GRAPH_H

#include <stdio.h>

#include "dcomhunt/finding.h"

#define DH_FINDINGS_GRAPH_HOST_MAX 256

typedef struct dh_findings_graph dh_findings_graph;

dh_findings_graph *dh_findings_graph_new(void);
/* Adds f as an edge when it is one (a lateral movement or an attempt); key: its printing
 * key, so the graph follows the findings' order. Out of memory: the edge is left out. */
void dh_findings_graph_add(dh_findings_graph *g, const dh_finding *f, dh_str key);
/* Writes the graph (nothing when it has no edges), every host name escaped for a terminal. */
void dh_findings_graph_print(dh_findings_graph *g, FILE *out);
void dh_findings_graph_free(dh_findings_graph *g);

#endif
