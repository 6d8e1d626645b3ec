/* Finding ids: 16 hex digits of FNV-1a 64 over what makes a finding the one it is, so the
 * same input gives the same id in every run, thread count and output format.
 *
 * A finding the correlator assembles is named by its kind and its anchor record (the
 * earliest activation's, the first refusal's, the first source record's, the signal's
 * record): host and channel (case-insensitively), record id, time and event id. A Sigma
 * correlation signal is named by the correlation's reference (dh_rule_ref), its group and
 * its first time, so two correlations firing on the same events stay two findings.
 *
 * The hash is this file's own, not the correlator's hash-map hash: ids are kept by users
 * (tuning files, tickets), so a change to a map's hashing must never move them. */
#ifndef DH_FINDINGS_IDS_H
#define DH_FINDINGS_IDS_H

#include <stdint.h>

#include "dcomhunt/event.h"

#define DH_ID_SIZE 17 /* 16 hex digits and the NUL (dh_finding's id) */

/* The record a finding is anchored to, as plain values. */
typedef struct dh_id_anchor {
    dh_str host, channel; /* hashed case-insensitively */
    uint64_t record_id;
    int64_t time; /* FILETIME ticks */
    uint32_t event_id;
} dh_id_anchor;

/* The anchor values of a record. */
dh_id_anchor dh_id_anchor_of(const dh_event *ev);
/* The id of a finding of kind (dh_finding_kind_name, or "attempt") anchored to a (NULL:
 * none, the kind alone). */
void dh_id_finding(char out[DH_ID_SIZE], const char *kind, const dh_id_anchor *a);
/* The id of a Sigma correlation signal: the correlation's reference, its group ("" when it
 * has none) and its first time. */
void dh_id_correlation(char out[DH_ID_SIZE], const char *ref, const char *group, int64_t first);

#endif
