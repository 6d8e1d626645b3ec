/* dcomhunt: findings, what the correlator concludes, and what is done with them: tuning
 * (Sigma filters that suppress findings) and the findings writers (table, JSON lines,
 * OCSF, CSV).
 *
 * Ownership: a dh_finding and everything it points to is borrowed for the duration of the
 * call that hands it over (a dh_finding_fn sink, dh_findings_writer_add,
 * dh_tuning_check); copy what must outlive it. A dh_tuning and a dh_findings_writer are
 * owned by their creator and freed with their *_free (NULL accepted); what their setters
 * are given (rulesets, paths, the rule selection, a tee writer) is borrowed until the
 * *_free. Neither is thread-safe: give each to one thread at a time. */
#ifndef DCOMHUNT_FINDING_H
#define DCOMHUNT_FINDING_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dcomhunt/event.h"
#include "dcomhunt/rules.h"
#include "dcomhunt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dh_finding_kind {
    DH_FINDING_LATERAL_MOVEMENT = 0,
    DH_FINDING_ATTEMPT = 1,
    DH_FINDING_SOURCE_ACTIVITY = 2,
    DH_FINDING_SIGNAL = 3,
} dh_finding_kind;

typedef struct dh_evidence {
    const char *role;   /* activation, logon, network, child, session, load, file, failure,
                           detection, script, source, source_network, explicit_logon, wire
                           (docs/findings.md) */
    const dh_event *ev; /* the event (an owned copy kept by the correlator) */
} dh_evidence;

/* A COM object a finding involves, as the knowledge table (docs/com-objects.md) names it. */
typedef struct dh_finding_object {
    const char *name;      /* "MMC20.Application" */
    const char *clsid;     /* "{49B2791A-...}", or "" */
    const char *appid;     /* or "" */
    const char *hardening; /* how to take remote activation away from it, or "" */
} dh_finding_object;

/* A value of a finding cut at DH_VALUE_CAP: which one, and its length in the log. */
typedef struct dh_cut {
    const char *value; /* "commands", "servers", "session_commands", "user", "target_host",
                          ... (static) */
    size_t index;      /* for the three lists: which one */
    size_t length;     /* bytes in the log */
    size_t kept;       /* bytes in the finding */
} dh_cut;

/* The most a finding holds; what is past a cap is counted in the finding (never silently
 * dropped, never split into another finding). The command cap holds for commands, servers
 * and session_commands each (and their bytes together); commands_dropped counts all three. */
#define DH_FINDING_MAX_COMMANDS      1024
#define DH_FINDING_MAX_COMMAND_BYTES (8u << 20)
#define DH_FINDING_MAX_EVIDENCE      4096
#define DH_FINDING_MAX_RULES         256

/* Every string of a finding is a byte string with a length (values from the logs may hold
 * a NUL), borrowed for the duration of the sink call. */
typedef struct dh_finding {
    char id[17]; /* stable: the same input gives the same id */
    dh_finding_kind kind;
    dh_level severity;
    int confidence;             /* 1 low, 2 medium, 3 high */
    const char *const *reasons; /* why this confidence (dcomhunt's own text) */
    size_t nreasons;
    dh_str com_object; /* the main object's name; empty when unknown */
    dh_str clsid;
    const dh_finding_object *objects; /* every object involved, the main one first */
    size_t nobjects;
    dh_str target_host, target_ip;
    dh_str source_host, source_ip;
    dh_str user, logon_id;
    /* What the COM servers ran (their descendants, by lineage), in time order: one per
     * process however many sensors logged it (docs/findings.md). */
    const dh_str *commands;
    size_t ncommands;
    const dh_str *servers; /* the COM server processes started (their command lines) */
    size_t nservers;
    /* other processes of the activation's network logon session, not started by a server */
    const dh_str *session_commands;
    size_t nsession_commands;
    int64_t first_seen, last_seen; /* FILETIME ticks */
    const dh_rule *const *rules;
    size_t nrules;
    const dh_evidence *evidence;
    size_t nevidence;
    const dh_cut *cuts; /* values cut at DH_VALUE_CAP */
    size_t ncuts;
    /* rules (among `rules`) that could not be decided on an event of the finding (a
     * regular expression hit its match limit) and count as matched there */
    const dh_rule *const *undecided;
    size_t nundecided;
    /* left out past the caps above */
    size_t commands_dropped, evidence_dropped, rules_dropped;
} dh_finding;

/* Where findings go: called once per finding, which is borrowed for the call. */
typedef void (*dh_finding_fn)(void *ctx, const dh_finding *f);

/* "lateral_movement", "attempt", "source_activity", "signal" (static). */
const char *dh_finding_kind_name(dh_finding_kind k);

/* ---- tuning ---------------------------------------------------------------------------- */

/* Sigma filters applied to findings (docs/tuning.md). A finding a filter removes is
 * suppressed, not dropped: it is counted, and shown on request, with the filter and its
 * reason. */
typedef struct dh_tuning dh_tuning;

/* `filters`: a finished ruleset of filters (borrowed until dh_tuning_free). Filters whose
 * `expires` date is before `today` ("YYYY-MM-DD") are not applied; each is named once to
 * `expired` (may be NULL). */
dh_status dh_tuning_new(const dh_ruleset *filters, const char *today,
                        void (*expired)(void *ctx, const dh_rule *filter), void *ctx,
                        dh_tuning **out);
/* The filter that suppresses f, or NULL. */
const dh_rule *dh_tuning_check(dh_tuning *t, const dh_finding *f);
void dh_tuning_free(dh_tuning *t);

/* ---- writers --------------------------------------------------------------------------- */

/* The output formats of findings (docs/findings.md). */
typedef enum dh_findings_format {
    DH_FINDINGS_TABLE = 0, /* for people: one block per finding, then the host graph */
    DH_FINDINGS_JSONL = 1, /* one JSON object per line (the layout `report` and `tune` read) */
    DH_FINDINGS_OCSF = 2,  /* OCSF 1.8.0 Detection Findings, one per line */
    DH_FINDINGS_CSV = 3,   /* a header row, then one row per finding */
    DH_FINDINGS_HTML = 4,  /* the HTML report page (hunt --html), printed whole at the end */
} dh_findings_format;

/* A findings writer: each finding added is filtered, de-duplicated (two copies of an input
 * give the same finding id: one is kept), checked against the tuning, rendered at once
 * and kept; dh_findings_writer_print writes them all in a fixed order (shown before
 * suppressed, chains before lone signals, first seen, target host, id), so the output does
 * not depend on the order findings came in. Memory is bounded: past 256 MiB of rendered
 * findings, sorted runs go to a temporary file. */
typedef struct dh_findings_writer dh_findings_writer;

/* color: ANSI colors in the table. DH_ERR_ARG for an unknown format, DH_ERR_NOMEM. */
dh_status dh_findings_writer_new(dh_findings_format format, int color, dh_findings_writer **out);
/* The guide: under each finding in the table with explain, always in JSONL and OCSF;
 * `paths` (the hunt's inputs) go into the dcomhunt pivot command line. */
void dh_findings_writer_set_guide(dh_findings_writer *w, int explain, const char *const *paths,
                                  size_t npaths);
/* Tuning: suppressed findings are counted, and written (marked, after the others) only
 * with show_suppressed. */
void dh_findings_writer_set_tuning(dh_findings_writer *w, dh_tuning *t, int show_suppressed);
/* Which findings are shown: severity at least min_level and, with require_rule, at least
 * one rule involved that rule_on selects (indexed by dh_rule_index; NULL: any rule). The
 * others are counted (dh_findings_writer_hidden), not kept, not teed. */
void dh_findings_writer_set_filter(dh_findings_writer *w, dh_level min_level,
                                   const unsigned char *rule_on, int require_rule);
/* Every finding w shows is given to `also` too (before de-duplication and tuning, which
 * `also` does by its own settings). */
void dh_findings_writer_tee(dh_findings_writer *w, dh_findings_writer *also);
/* Renders f now and keeps the text for dh_findings_writer_print. */
void dh_findings_writer_add(dh_findings_writer *w, const dh_finding *f);
/* dh_findings_writer_add as a dh_finding_fn: ctx is the writer. */
void dh_findings_writer_sink(void *writer, const dh_finding *f);
/* Writes everything kept, in order, to out (once); returns the number of findings written
 * that were not suppressed. A failure to write counts in dh_findings_writer_lost. */
size_t dh_findings_writer_print(dh_findings_writer *w, FILE *out);
/* Findings filtered out by dh_findings_writer_set_filter. */
uint64_t dh_findings_writer_hidden(const dh_findings_writer *w);
/* Findings that could not be kept or written (out of memory, a temporary file or `out`
 * that could not be written): 0 normally. */
uint64_t dh_findings_writer_lost(const dh_findings_writer *w);
/* What the findings' caps left out, summed over the findings kept: values cut, commands,
 * evidence records, rules. */
void dh_findings_writer_caps(const dh_findings_writer *w, uint64_t *cut, uint64_t *commands,
                             uint64_t *evidence, uint64_t *rules);
/* Findings kept by kind (dh_finding_kind), suppressed ones not counted; and the
 * suppressed ones by kind (shown or not). */
void dh_findings_writer_counts(const dh_findings_writer *w, uint64_t per_kind[4]);
void dh_findings_writer_suppressed(const dh_findings_writer *w, uint64_t per_kind[4]);
void dh_findings_writer_free(dh_findings_writer *w);

#ifdef __cplusplus
}
#endif
#endif
