/* A finding's evidence records: which are listed when there are more than the cap, and in
 * what order. Past the cap, the records that say what happened first (activations, logons,
 * connections, the source side) are kept before the minor roles (child processes, session
 * processes, loads, files, the wire, detections), and the earliest before the latest;
 * those kept are listed in time order (then record id, then role). */
#ifndef DH_FINDINGS_EVIDENCE_H
#define DH_FINDINGS_EVIDENCE_H

#include <stddef.h>

#include "dcomhunt/finding.h"

/* Keeps at most max of the *n records in ev (*n lowered), sorted; returns how many were
 * left out. */
size_t dh_evidence_keep(dh_evidence *ev, size_t *n, size_t max);

#endif
