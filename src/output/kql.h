/* Sigma rules as KQL hunting queries (dcomhunt rules export --to kql): Microsoft Defender
 * advanced hunting tables, and Microsoft Sentinel's Event/SecurityEvent tables for the logs
 * Defender does not collect. docs/rules.md ("Export to KQL") says what maps to what.
 *
 * Library code: it appends text to a dh_buf and never prints. A rule that cannot be
 * translated faithfully is written as a comment block saying why and reported through the
 * note callback; it never becomes a query that means something else.
 *
 * Ownership: rules are borrowed for the call; out is the caller's. */
#ifndef DH_OUTPUT_KQL_H
#define DH_OUTPUT_KQL_H

#include "core/buf.h"
#include "dcomhunt/rules.h"

typedef struct dh_kql_options {
    int split;     /* one query per rule; default: one query per table, rules or'ed */
    int no_enrich; /* leave out the network-logon and inbound-connection enrichment */
} dh_kql_options;

/* is_error 1: the rule was not exported (a comment block stands in its place);
 * is_error 0: it was exported with an approximation the query's comments name. */
typedef void (*dh_kql_note_fn)(void *ctx, const dh_rule *rule, int is_error, const char *msg);

/* Appends the queries for rules[0..n) to out, in rule order (combined per table unless
 * opt->split). *not_exported (may be NULL) counts the rules written as comments only.
 * Returns DH_OK, or DH_ERR_NOMEM when memory or out's cap ran out. */
dh_status dh_kql_export(const dh_rule *const *rules, size_t n, const dh_kql_options *opt,
                        dh_buf *out, dh_kql_note_fn note, void *ctx, size_t *not_exported);

#endif
