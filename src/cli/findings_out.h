/* Findings output sinks of the CLI (table, JSON lines, OCSF, CSV). */
#ifndef DH_CLI_FINDINGS_OUT_H
#define DH_CLI_FINDINGS_OUT_H

#include <stdio.h>

#include "core/buf.h"
#include "dcomhunt/correlate.h"
#include "findings/tune.h"

enum { FOUT_TABLE, FOUT_JSONL, FOUT_OCSF, FOUT_CSV };

typedef struct findings_out findings_out;

findings_out *findings_out_new(int format, int color);
/* The guide: under each finding in the table (explain), always in JSONL and OCSF; `paths`
 * (the hunt's inputs, borrowed) go into the dcomhunt pivot command line. */
void findings_out_set_guide(findings_out *o, int explain, const char *const *paths, size_t npaths);
/* Tuning (borrowed): suppressed findings are counted, and rendered (marked, after the
 * others) only with show_suppressed. */
void findings_out_set_tuning(findings_out *o, dh_tuning *t, int show_suppressed);
/* Which findings are shown (hunt --min-level, --rule, --no-builtin): severity at least
 * min_level and, with require_rule, at least one rule involved that rule_on selects (per
 * rule index, borrowed; NULL: any rule). The others are counted, not shown, not teed. */
void findings_out_set_filter(findings_out *o, dh_level min_level, const unsigned char *rule_on,
                             int require_rule);
uint64_t findings_out_hidden(const findings_out *o);
/* Findings that could not be kept or printed (out of memory, a temporary file that could
 * not be written): 0 normally. */
uint64_t findings_out_lost(const findings_out *o);
/* What the findings' caps left out, summed (values cut, commands, evidence, rules). */
void findings_out_caps(const findings_out *o, uint64_t *cut, uint64_t *commands, uint64_t *evidence,
                       uint64_t *rules);
/* Every finding given to o is given to `also` too (borrowed). */
void findings_out_tee(findings_out *o, findings_out *also);
/* Renders f now (it is borrowed) and keeps the text for printing in order. */
void findings_out_add(findings_out *o, const dh_finding *f);
/* Prints everything in a fixed order; returns the number of findings (suppressed ones
 * not counted). */
size_t findings_out_print(findings_out *o, FILE *out);
/* Findings by kind, suppressed ones not counted; and the suppressed ones by kind. */
void findings_out_counts(const findings_out *o, uint64_t per_kind[4]);
void findings_out_suppressed(const findings_out *o, uint64_t per_kind[4]);
void findings_out_free(findings_out *o);

#endif
