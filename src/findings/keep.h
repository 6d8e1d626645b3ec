/* Which findings a writer keeps, and in what order: the part of every findings writer
 * that does not depend on its format. A finding passes the filter (severity, rules), is
 * kept once per id (two copies of an input give the same finding), is checked against the
 * tuning, and its rendered text is stored under its printing key (shown before suppressed,
 * chains before lone signals, first seen, target host, id) in bounded memory (sorted runs
 * on disk past a budget); replay gives the texts back in that order. Everything is
 * counted: hidden, suppressed, kept by kind, what the caps left out, what was lost.
 *
 * Ownership: the tuning and the rule selection are borrowed until dh_keep_free; texts are
 * copied. Single-threaded. */
#ifndef DH_FINDINGS_KEEP_H
#define DH_FINDINGS_KEEP_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/finding.h"

typedef struct dh_keep dh_keep;

typedef struct dh_keep_counts {
    uint64_t hidden;        /* not selected by the filter */
    uint64_t lost;          /* could not be stored or written back (out of memory or disk) */
    uint64_t suppressed[4]; /* by kind, shown or not */
    uint64_t per_kind[4];   /* kept and not suppressed, by kind */
    uint64_t cut, commands_dropped, evidence_dropped, rules_dropped; /* over the caps */
    size_t nkept;            /* stored (not a repeat, not hidden) */
    size_t nkept_suppressed; /* of which suppressed (with show_suppressed) */
} dh_keep_counts;

dh_keep *dh_keep_new(void);
void dh_keep_set_tuning(dh_keep *k, dh_tuning *t, int show_suppressed);
void dh_keep_set_filter(dh_keep *k, dh_level min_level, const unsigned char *rule_on,
                        int require_rule);
/* Does the filter select f? Counts it as hidden when not. */
int dh_keep_selects(dh_keep *k, const dh_finding *f);
/* Is f to be rendered and stored: not a repeat of an id kept, and not suppressed (or
 * suppressed and shown)? *sup: the filter that suppresses it, or NULL. */
int dh_keep_admits(dh_keep *k, const dh_finding *f, const dh_rule **sup);
/* Stores f's rendered text under its printing key; *key (if not NULL) is set to the key,
 * valid until the next call. A failure is counted as lost. */
dh_status dh_keep_store(dh_keep *k, const dh_finding *f, const dh_rule *sup, const char *text,
                        size_t len, dh_str *key);
/* Calls fn on every text stored, in order (once); a failure is counted as lost. */
dh_status dh_keep_replay(dh_keep *k, dh_status (*fn)(void *ctx, const char *text, size_t len),
                         void *ctx);
const dh_keep_counts *dh_keep_counts_of(const dh_keep *k);
void dh_keep_free(dh_keep *k);

#endif
