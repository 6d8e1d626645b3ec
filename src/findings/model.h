/* The finding model's small questions, asked by every writer of findings: names of a
 * confidence and a rule, which values a cap cut, which rules were undecided. Pure functions
 * of a borrowed dh_finding; nothing here renders or allocates. */
#ifndef DH_FINDINGS_MODEL_H
#define DH_FINDINGS_MODEL_H

#include <stddef.h>

#include "dcomhunt/finding.h"

/* "low", "medium", "high" (1, 2, 3; below 1 is low, above 3 high). */
const char *dh_confidence_name(int confidence);
/* A rule as people call it: its name, else its title, else its reference. */
const char *dh_rule_label(const dh_rule *r);
/* Is this cut value one of the three lists (commands, servers, session_commands), so
 * named with its index? */
int dh_cut_listed(const char *value);
/* A cut value's name as the writers show it: "commands[2]", "user". */
void dh_cut_name(const dh_cut *c, char *out, size_t size);
/* The length in the log of command i when it was cut, else 0. */
size_t dh_finding_command_cut(const dh_finding *f, size_t i);
/* Was rule r undecided on an event of f (counted as matched)? */
int dh_finding_is_undecided(const dh_finding *f, const dh_rule *r);

#endif
