/* Regular expressions for KQL (src/output/kql*.c only): which PCRE patterns RE2, KQL's
 * engine, reads the same way, writing them as KQL regex literals, and the seed queries'
 * term matches on file names turned back into `has` terms. Never prints. */
#ifndef DH_OUTPUT_KQL_REGEX_H
#define DH_OUTPUT_KQL_REGEX_H

#include <stddef.h>

#include "output/kql_text.h"
#include "rules/sigma.h"

/* NULL if RE2 (KQL's engine) reads this PCRE pattern the same way, else why not. The check
 * is conservative: what it cannot vouch for is refused. */
const char *kql_re2_unsupported(const char *p, size_t n);
/* A verbatim KQL string holding a regular expression. -1: control characters. */
int kql_regex(txt *t, const char *flags, const char *p, size_t n);
/* If the pattern is a term match, writes `("t1", "t2", ...)` to t and returns 1. */
int kql_term_match(txt *t, const needle *nd);

#endif
