/* Findings as OCSF 1.8.0 Detection Findings (class_uid 2004), one JSON object per line,
 * with the profiles they use declared in metadata.profiles (security_control: action,
 * disposition, attacks, is_alert; host: actor). docs/findings.md lists every attribute. */
#ifndef DH_OUTPUT_OCSF_H
#define DH_OUTPUT_OCSF_H

#include "core/buf.h"
#include "dcomhunt/correlate.h"
#include "output/guide.h"

#define DH_OCSF_VERSION "1.8.0"

/* Appends f as one line. g: its guide (remediation, and the steps and pivots kept under
 * unmapped); sup: the tuning filter that suppressed it, or NULL. */
dh_status dh_ocsf_finding(dh_buf *b, const dh_finding *f, const dh_guide *g, const dh_rule *sup);

#endif
