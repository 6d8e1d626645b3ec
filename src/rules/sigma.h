/* Sigma engine internals: the compiled form of a rule.
 *
 * A rule compiles to search identifiers (each an OR of selections, a selection an AND of
 * field tests, a field test an OR - or with |all an AND - of needles) and a condition tree
 * over them. Needles are pre-lowered (unless |cased), regular expressions pre-compiled,
 * encodings (base64, utf16, windash, expand) expanded into plain alternatives at compile
 * time, so matching does no allocation. The whole thing is read-only after compile. */
#ifndef DH_RULES_SIGMA_H
#define DH_RULES_SIGMA_H

#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "dcomhunt/rules.h"

/* Fields a rule can name: a taxonomy id (>= 0), an envelope field, or any other name
 * looked up in the event's data by name. */
enum {
    FIELD_BY_NAME = -1,
    FIELD_EVENT_ID = -2,
    FIELD_CHANNEL = -3,
    FIELD_PROVIDER = -4,
    FIELD_COMPUTER = -5,
    FIELD_RECORD_ID = -6,
    FIELD_KEYWORDS = -7, /* keyword search: every value of the event */
};

typedef struct field_ref {
    int id;
    char *name; /* as written */
    size_t len;
} field_ref;

enum needle_kind {
    N_EQ, /* whole value */
    N_CONTAINS,
    N_STARTS,
    N_ENDS,
    N_GLOB, /* with * and ? */
    N_RE,
    N_CIDR,
    N_NUM, /* gt/gte/lt/lte */
    N_EXISTS,
    N_NULL,     /* absent or empty */
    N_FIELDREF, /* equal (or contains/startswith/endswith) to another field's value */
};

enum num_cmp { CMP_GT, CMP_GTE, CMP_LT, CMP_LTE };

typedef struct needle {
    uint8_t kind;
    uint8_t cased;
    uint8_t cmp;      /* N_NUM */
    uint8_t exists;   /* N_EXISTS: wanted presence */
    uint8_t ref_mode; /* N_FIELDREF: N_EQ, N_CONTAINS, N_STARTS, N_ENDS */
    char *s;          /* lowered unless cased; the glob pattern for N_GLOB */
    size_t len;
    /* The value as written (escapes resolved, case kept; the pattern for N_RE, the
     * network for N_CIDR), for exports such as KQL; matching never reads it. */
    char *orig;
    size_t orig_len;
    pcre2_code *re;
    uint8_t jit; /* N_RE: compiled by the JIT (its match limit is per call) */
    double num;
    uint8_t family; /* N_CIDR: 4 or 6 */
    uint8_t addr[16];
    unsigned prefix;
    field_ref ref; /* N_FIELDREF */
} needle;

/* One value of a field test with its alternatives (windash and base64offset variants,
 * expanded placeholders): the value matches if any alternative does. */
typedef struct needle_group {
    needle *alt;
    size_t nalt;
} needle_group;

typedef struct field_test {
    field_ref field;
    needle_group *g;
    size_t ng;
    int all;      /* every value must match (|all); else any */
    int presence; /* 1: the test is about presence only (exists, null) */
    char *text;   /* "Field|mod|mod" as written, for describe */
} field_test;

typedef struct selection {
    field_test *t; /* AND */
    size_t nt;
} selection;

typedef struct search_id {
    char *name;
    selection *sel; /* OR */
    size_t nsel;
} search_id;

enum cond_op { C_REF, C_AND, C_OR, C_NOT, C_OF, C_TRUE };

typedef struct cond {
    uint8_t op;
    int ref;        /* C_REF: search id index */
    unsigned count; /* C_OF: how many must hold; 0 = all */
    int *refs;      /* C_OF: search ids */
    size_t nrefs;
    struct cond *a, *b; /* C_AND/C_OR: both; C_NOT: a */
} cond;

typedef struct str_list {
    char **v;
    size_t n;
} str_list;

/* A Sigma correlation rule (specification 2.1). The loader fills what the YAML says; at
 * finish (correlation.c) the references are resolved, chains ranked, and every field a
 * referenced rule's events are read by (group-by, aliases, condition.field) is compiled. */
enum corr_type {
    CORR_EVENT_COUNT,
    CORR_VALUE_COUNT,
    CORR_TEMPORAL,
    CORR_TEMPORAL_ORDERED,
    CORR_VALUE_SUM,
    CORR_VALUE_AVG,
    CORR_VALUE_PERCENTILE,
    CORR_TYPE_COUNT
};
enum corr_op { CMP_CORR_GT, CMP_CORR_GTE, CMP_CORR_LT, CMP_CORR_LTE, CMP_CORR_EQ, CMP_CORR_NEQ };

/* A correlation names at most this many rules (positions are bits of a 64-bit mask). */
#define CORR_MAX_RULES 64
/* Events one group holds within its timespan; count conditions above it are refused. */
#define CORR_MAX_EVENTS (1u << 17)

typedef struct corr_alias {
    char *alias;
    str_list rules;  /* rule name or id ... */
    str_list fields; /* ... and the field that plays the alias in it */
} corr_alias;

typedef struct corr_cmp {
    uint8_t op; /* enum corr_op */
    double v;
} corr_cmp;

typedef struct corr_def {
    int type;
    str_list refs;     /* referenced rules as written */
    uint32_t *ref_idx; /* resolved at finish: indexes into the ruleset */
    str_list group_by;
    corr_alias *aliases;
    size_t naliases;
    int64_t timespan_s;
    corr_cmp cmp[6]; /* all must hold; at most one of each op */
    size_t ncmp;
    int has_condition;     /* temporal types: without one, every named rule must appear */
    str_list value_fields; /* condition.field (a list only for value_count) */
    int generate;
    /* Resolved at finish. gb[k * group_by.n + g]: the field group-by entry g is read from
     * in events of rule k (its alias for that rule, else the name itself); vf likewise for
     * value_fields. */
    field_ref *gb, *vf;
    int eager; /* judged at every event (lower bounds on a growing count), else per window */
    int rank;  /* 0: names single-event rules only; else 1 + the highest rank it names */
} corr_def;

struct dh_rule {
    size_t index;
    corr_def *corr; /* non-NULL: a correlation rule (no detection of its own) */
    int base_only;  /* referenced by a correlation without generate: not reported alone */
    char *id, *name, *title, *status, *description, *origin, *confidence;
    int line;  /* where its YAML document starts (1-based; 0 unknown) */
    char *ref; /* dh_rule_ref: id, else name, else origin:line */
    dh_level level;
    str_list tags, falsepositives, guide[2];
    char *ls_category, *ls_product, *ls_service;
    /* Which events the rule can meet: kinds (bit per dh_kind; all ones = any) and,
     * for service rules, a channel. */
    uint64_t kinds;
    char *channel;
    search_id *ids;
    size_t nids;
    cond *cond;
    /* A Sigma filter (tuning): applies to the rules named in filter_rules (all when
     * empty); an item the condition does not hold for is filtered out. */
    int is_filter;
    str_list filter_rules;
    char *reason, *expires; /* dcomhunt's filter keys: why, and until when (YYYY-MM-DD) */
    char *source;           /* the rule's YAML document as loaded (dh_rule_source) */
    size_t source_len;
};

typedef struct placeholder {
    char *name;
    str_list values;
} placeholder;

struct dh_ruleset {
    dh_rule **rules;
    size_t n, cap;
    placeholder *ph;
    size_t nph;
    int finished;
    dh_rule_diag_fn diag; /* the last diagnostic callback given, for what finish finds */
    void *dctx;
    /* Rules named by correlation rules refused while loading (without generate: true):
     * at finish they are refused too, unless a loaded correlation names them. */
    str_list refused_refs;
    /* The original field names correlation rules read (dh_ruleset_correlation_fields). */
    str_list corr_fields;
    /* Index: per kind, the rules that can meet it, in rule order. */
    uint32_t *by_kind[64];
    size_t by_kind_n[64];
};

/* logsource.c: resolves category/product/service into kinds and channel; NULL on success,
 * else why the logsource cannot be served. */
const char *sigma_logsource(const char *category, const char *product, const char *service,
                            uint64_t *kinds, const char **channel);

/* condition.c: parses a condition over the rule's search identifiers. */
cond *sigma_cond_parse(const char *text, const search_id *ids, size_t nids, char *err,
                       size_t errcap);
void sigma_cond_free(cond *c);

/* loader.c */
void sigma_corr_free(corr_def *d);
int sigma_field_ref_resolve(const char *name, field_ref *f);
void sigma_list_free(str_list *l);
int sigma_list_push(str_list *l, const char *s);
void sigma_emit_diag(dh_ruleset *rs, const dh_rule *r, int is_error, const char *msg);

/* correlation.c: resolves correlation rules once everything is loaded (dh_ruleset_finish):
 * references, chains, aliases and fields; refuses what cannot run, with its base rules. */
int sigma_resolve_correlations(dh_ruleset *rs);
const char *sigma_corr_type_name(int type);
/* What a correlation type measures ("distinct values of"), and its condition as text
 * ("> 100 and <= 200"); returns the text's length. */
const char *sigma_corr_metric_name(int type);
size_t sigma_corr_condition_text(const corr_def *d, char *buf, size_t cap);

/* match.c: pcre2_match's return code as a test's outcome: 1 yes, 0 no, 2 undecided (a
 * limit: match, depth, heap, JIT stack), SIGMA_RE_ERROR for any other failure of the
 * engine (the matcher counts it and leaves the test undecided). */
#define SIGMA_RE_ERROR 3
int sigma_re_outcome(int rc);
/* match.c: 0 no, 1 yes, 2 undecided (a regular expression hit its match limit). */
int sigma_rule_matches(dh_matcher *m, const dh_rule *r, const dh_event *ev);
/* The first value of a field as the matcher reads it (envelope names, taxonomy ids, then
 * original names, case-insensitively); num is scratch for numbers (24 bytes). 1 if present. */
int sigma_field_value(const field_ref *f, const dh_event *ev, char *num, dh_str *out);
void sigma_rule_free(dh_rule *r);

/* case folding */
extern const unsigned char sigma_lower[256];

#endif
