/* dcomhunt: Sigma rules, compiled once and matched against dh_events.
 *
 * A dh_ruleset is built by adding rule sources (YAML text, files, directories) and then
 * finished: after dh_ruleset_finish it is immutable and may be shared, read-only, by any
 * number of threads. Each thread matches with its own dh_matcher (scratch space for
 * regular expressions and case folding).
 *
 * A rule that cannot be loaded is never half-compiled: it is refused whole and the reason
 * reaches the diagnostic callback with the file and line.
 *
 * Ownership: the caller frees what it creates (dh_ruleset_free, dh_matcher_free; both
 * accept NULL). A dh_rule pointer is borrowed from its ruleset and valid until the ruleset
 * is freed. Strings returned by rule accessors are NUL-terminated and owned by the rule. */
#ifndef DCOMHUNT_RULES_H
#define DCOMHUNT_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/event.h"
#include "dcomhunt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dh_ruleset dh_ruleset;
typedef struct dh_rule dh_rule;
typedef struct dh_matcher dh_matcher;

typedef enum dh_level {
    DH_LEVEL_INFORMATIONAL = 0,
    DH_LEVEL_LOW = 1,
    DH_LEVEL_MEDIUM = 2,
    DH_LEVEL_HIGH = 3,
    DH_LEVEL_CRITICAL = 4,
} dh_level;

/* A rule that was refused, or a warning about one that was loaded. */
typedef struct dh_rule_diag {
    const char *origin; /* file name or the name given to dh_ruleset_add_text */
    int line;           /* 1-based; 0 when not known */
    int is_error;       /* 1: the rule was refused; 0: a warning */
    const char *rule;   /* rule title or id if known, else "" */
    const char *message;
} dh_rule_diag;

typedef void (*dh_rule_diag_fn)(void *ctx, const dh_rule_diag *diag);

dh_status dh_ruleset_new(dh_ruleset **out);
void dh_ruleset_free(dh_ruleset *rs);

/* Values for `|expand` placeholders (%name%); call before adding rules that use them. */
dh_status dh_ruleset_set_placeholder(dh_ruleset *rs, const char *name, const char *const *values,
                                     size_t nvalues);

/* Adds the rules of one YAML text (one or more documents). Returns DH_OK when every rule
 * in it loaded, DH_ERR_FORMAT when some were refused (see diag), another error if the
 * ruleset could not grow. */
dh_status dh_ruleset_add_text(dh_ruleset *rs, const char *text, size_t len, const char *origin,
                              dh_rule_diag_fn diag, void *ctx);
/* A file, or every *.yml / *.yaml file under a directory (recursively, sorted). */
dh_status dh_ruleset_add_path(dh_ruleset *rs, const char *path, dh_rule_diag_fn diag, void *ctx);
/* The rule pack built into dcomhunt. */
dh_status dh_ruleset_add_builtin(dh_ruleset *rs, dh_rule_diag_fn diag, void *ctx);
/* The built-in pack's version: a digest of its files as built (and how many). */
uint64_t dh_builtin_digest(size_t *nfiles);
/* Builds the logsource index. No rule may be added afterwards. */
dh_status dh_ruleset_finish(dh_ruleset *rs);

size_t dh_ruleset_count(const dh_ruleset *rs);
/* Does a rule test a System property (Level, Keywords, UserID...: dh_event_system)? Then
 * the scan should be asked for them (dh_scan_opts.want_system). */
int dh_ruleset_wants_system(const dh_ruleset *rs);
const dh_rule *dh_ruleset_rule(const dh_ruleset *rs, size_t i);
/* By id, by name, or else by exact title; NULL if absent. */
const dh_rule *dh_ruleset_find(const dh_ruleset *rs, const char *id_or_name);

/* A Sigma correlation rule (met by no event itself; fed by the rules it names)? */
int dh_rule_is_correlation(const dh_rule *r);
/* A correlation rule's timespan in seconds; 0 for other rules. */
int64_t dh_rule_correlation_timespan(const dh_rule *r);
/* A correlation rule's type as written (event_count, value_count, temporal,
 * temporal_ordered, value_sum, value_avg, value_percentile); "" for other rules. */
const char *dh_rule_correlation_type(const dh_rule *r);
/* The original field names (outside the envelope) the ruleset's correlation rules read:
 * group-by entries, the fields aliases name, condition fields. Valid after finish. */
size_t dh_ruleset_correlation_fields(const dh_ruleset *rs, const char *const **names);
/* 0 for a base rule of a correlation without generate: true (report it only through the
 * correlation), else 1. */
int dh_rule_reported_alone(const dh_rule *r);

/* Rule metadata. Absent text attributes are "". */
size_t dh_rule_index(const dh_rule *r);
/* A stable reference for the rule, never "": its id; without one, its name; without
 * either, where it was loaded ("file:line"). Findings name rules by it. */
const char *dh_rule_ref(const dh_rule *r);
const char *dh_rule_id(const dh_rule *r);
const char *dh_rule_name(const dh_rule *r);
const char *dh_rule_title(const dh_rule *r);
const char *dh_rule_status(const dh_rule *r);
const char *dh_rule_description(const dh_rule *r);
const char *dh_rule_origin(const dh_rule *r);
dh_level dh_rule_level(const dh_rule *r);
const char *dh_rule_confidence(const dh_rule *r);
size_t dh_rule_tag_count(const dh_rule *r);
const char *dh_rule_tag(const dh_rule *r, size_t i);
size_t dh_rule_falsepositive_count(const dh_rule *r);
const char *dh_rule_falsepositive(const dh_rule *r, size_t i);
/* The guide: steps to investigate (which = 0) and to respond (which = 1). */
size_t dh_rule_guide_count(const dh_rule *r, int which);
const char *dh_rule_guide_step(const dh_rule *r, int which, size_t i);
/* Logsource as written ("" when absent). */
const char *dh_rule_logsource(const dh_rule *r, const char *key);
/* Can the rule meet events of this kind from this channel (by its logsource)? */
int dh_rule_meets(const dh_rule *r, dh_kind kind, const char *channel, size_t channel_len);
/* Appends a readable description of the compiled logic to out (NUL-terminated, truncated
 * to cap). Returns the length it needed. */
size_t dh_rule_describe(const dh_rule *r, char *out, size_t cap);
/* The rule's YAML document as it was loaded (for the built-in pack, the embedded text),
 * not NUL-terminated: *len bytes. Between documents of one file it may start with the
 * "---" line that opened it. NULL (and *len 0) if the text was not kept. */
const char *dh_rule_source(const dh_rule *r, size_t *len);

/* Sigma filters (the sigma-filters specification), dcomhunt's tuning: a filter applies to
 * the rules it names (every rule when it names none) and keeps an item only where its
 * condition holds. dcomhunt adds `reason` (required, else the description) and `expires`
 * (YYYY-MM-DD, "" for none). Filters meet no event: they are applied to findings. */
int dh_rule_is_filter(const dh_rule *r);
size_t dh_rule_filter_rule_count(const dh_rule *r);
const char *dh_rule_filter_rule(const dh_rule *r, size_t i);
const char *dh_rule_filter_reason(const dh_rule *r);
const char *dh_rule_filter_expires(const dh_rule *r);
/* 1 when the filter's condition holds for ev (it stays), 0 when the filter removes it. */
int dh_rule_filter_keeps(dh_matcher *m, const dh_rule *filter, const dh_event *ev);

const char *dh_level_name(dh_level level);
/* Returns 0 and sets *level for informational/low/medium/high/critical, else -1. */
int dh_level_parse(const char *s, dh_level *level);

dh_status dh_matcher_new(const dh_ruleset *rs, dh_matcher **out);
void dh_matcher_free(dh_matcher *m);

typedef void (*dh_match_fn)(void *ctx, const dh_rule *rule, const dh_event *ev);
/* Runs every rule whose logsource can match ev; calls fn for each rule that matches, in
 * rule order. Returns the number of rules evaluated. */
size_t dh_matcher_run(dh_matcher *m, const dh_event *ev, dh_match_fn fn, void *ctx);
/* While fn runs: 1 when the rule could not be decided for this event (one of its regular
 * expressions hit the match limit, and the rest of its condition does not settle it). Such
 * a rule is reported as matched, so that padding a value cannot hide an event; the caller
 * marks it undecided (docs/rules.md, Regular expressions). */
int dh_matcher_undecided(const dh_matcher *m);
/* Failures of the regular-expression engine itself (out of memory, an internal error; not
 * a miss, not a limit) since m was created. Each left its test undecided, as a limit does;
 * the caller reports the count once. msg (may be NULL) receives the first one's text. */
uint64_t dh_matcher_regex_errors(const dh_matcher *m, char *msg, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
