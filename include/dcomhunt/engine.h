/* dcomhunt: the engine, one pipeline from inputs to detections and findings.
 *
 * A dh_engine reads inputs (files and directories with dh_engine_run, bytes in memory with
 * dh_engine_run_buffer) on a worker pool or takes events one at a time (dh_engine_push), matches
 * each event against a finished ruleset, and either reports every rule match as a detection or
 * hands the events that correlation can use to the correlator, in time order, which makes findings
 * (DCOM chains, attempts, source activity, signals). Results, input problems and progress reach the
 * caller through one sink. The engine never prints and never exits.
 *
 *     dh_engine_opts o;
 *     dh_engine_opts_init(&o);
 *     o.sink = (dh_engine_sink){.ctx = me, .on_finding = my_finding};
 *     dh_engine *eng;
 *     if (dh_engine_new(&o, ruleset, &eng) == DH_OK) {
 *         st = dh_engine_run(eng, paths, npaths);
 *         fin = dh_engine_finish(eng); // the findings still open come out here
 *     }
 *     dh_engine_free(eng);
 *
 * Ownership: the caller frees the engine (dh_engine_free accepts NULL). The ruleset, the
 * knowledge table, the host names and the rule list in the options are borrowed until
 * dh_engine_free. Paths and buffers given to dh_engine_run and dh_engine_run_buffer are
 * borrowed for the call. Everything a sink callback receives (detections, findings, errors) is
 * borrowed for the duration of the call: copy what you keep. Events given to
 * dh_engine_push are borrowed for the call. What dh_engine_channels returns is owned by
 * the engine, valid until the next call on it.
 *
 * Threading: an engine is used by one thread at a time. The sink is called on that thread
 * only, in input order (detections in time order with time_order), so output is the same
 * whatever the thread count. Any number of engines may share one ruleset.
 *
 * Errors: every function returns a dh_status (dcomhunt/status.h, pinned numbers). Input
 * problems (a damaged chunk, an unreadable file) go to on_error, with the file and
 * offset, and do not stop the run: dh_engine_run then returns DH_ERR_FORMAT. A failure
 * that stops the run is kept in the record dh_engine_error returns, naming the file and
 * record of the event concerned where there is one. A nonzero return from on_finding or
 * on_detection stops the run: the calls return DH_ERR_CANCELLED from then on. */
#ifndef DCOMHUNT_ENGINE_H
#define DCOMHUNT_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/correlate.h"
#include "dcomhunt/event.h"
#include "dcomhunt/finding.h"
#include "dcomhunt/rules.h"
#include "dcomhunt/scan.h"
#include "dcomhunt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dh_engine dh_engine;

typedef enum dh_engine_mode {
    DH_ENGINE_FINDINGS = 0,   /* matches feed the correlator; findings reach on_finding */
    DH_ENGINE_DETECTIONS = 1, /* every match of a selected rule reaches on_detection */
    /* The first half of findings mode, for a correlator elsewhere (dcomhunt stream): the
     * events findings are made of reach on_candidate with the rules they matched, in the
     * order the correlator would take them; nothing is correlated here. Another engine's
     * dh_engine_push_candidate takes them back. */
    DH_ENGINE_CANDIDATES = 2,
} dh_engine_mode;

/* An event correlation can use, with every rule it matched (selected or not). The event is
 * an owned copy holding what the correlator keeps (the envelope, the taxonomy fields and
 * the original fields correlation rules name): dh_event_pack(event, 1, ...) serialises all
 * of it. undecided[i] is 1 when rules[i] matched only because a regular expression hit its
 * limit. */
typedef struct dh_candidate {
    const dh_event *event;
    const dh_rule *const *rules;
    const unsigned char *undecided;
    size_t nrules;
} dh_candidate;

/* One rule match on one event. Strings are byte strings with a length (a value from the
 * logs may hold a NUL); file is the input's name. */
typedef struct dh_detection {
    const dh_rule *rule; /* borrowed from the engine's ruleset */
    int64_t time;        /* FILETIME ticks, as dh_event_time */
    uint64_t record_id;
    uint32_t event_id;
    dh_str host, file, channel;
    dh_str kind;   /* dh_kind_name of the event's kind */
    dh_str fields; /* the event's key fields, "Name=value; Name=value" (per kind: for a
                      process creation Image, CommandLine, ParentImage, ParentCommandLine,
                      User, LogonId); a value longer than DH_VALUE_CAP is cut there and
                      marked " [truncated: N bytes]" */
    int undecided; /* 1: a regular expression of the rule hit its match limit on the event,
                      and the match is reported so padding cannot hide it (docs/rules.md) */
} dh_detection;

/* Where results go. Every member is optional (NULL: not wanted). */
typedef struct dh_engine_sink {
    void *ctx;
    /* Findings mode: a finding, as the correlator completes it. Nonzero stops the run. */
    int (*on_finding)(void *ctx, const dh_finding *f);
    /* Detections mode: a detection. Nonzero stops the run. */
    int (*on_detection)(void *ctx, const dh_detection *d);
    /* Candidates mode: an event for a correlator elsewhere. Nonzero stops the run. */
    int (*on_candidate)(void *ctx, const dh_candidate *c);
    /* A problem with the input (damaged, unreadable, unknown format); the run goes on. */
    void (*on_error)(void *ctx, const dh_error *err);
    /* After each unit of input: bytes done so far, and of all the inputs found. */
    void (*on_progress)(void *ctx, uint64_t bytes_done, uint64_t bytes_total);
} dh_engine_sink;

typedef struct dh_engine_opts {
    dh_engine_mode mode;
    unsigned threads; /* workers decoding and matching; 0: one per online core */
    /* Detections mode: deliver the detections in time order (ties in input order) at
     * dh_engine_finish, held in bounded memory with the excess sorted into a temporary
     * file, instead of in input order as they are found. */
    int time_order;
    /* Findings mode: how long after a COM server start its activity belongs to it, and
     * the clock difference tolerated between logs, in seconds (default 300 and 120). */
    int64_t window_s, skew_s;
    /* Findings mode: the knowledge table of COM objects; NULL: the built-in one. */
    const dh_comdb *comdb;
    /* Only events at or after `from` / at or before `to` (FILETIME ticks), when set. */
    int have_from, have_to;
    int64_t from, to;
    /* Only events of these hosts (case-insensitive; NAME also matches NAME.domain);
     * none: every host. */
    const char *const *hosts;
    size_t nhosts;
    /* Selected rules: those of at least min_level and, when nrules is not 0, among
     * `rules` (borrowed from the engine's ruleset). Only they make detections and count
     * in the statistics. In findings mode every rule still builds the findings (a chain's
     * severity and confidence do not depend on the selection): filter findings where they
     * are written. */
    dh_level min_level;
    const dh_rule *const *rules;
    size_t nrules;
    /* Detections mode: also report the matches of a correlation's base rules, which
     * otherwise reach the caller only through the correlation's findings. */
    int base_rules;
    dh_engine_sink sink;
} dh_engine_opts;

/* What the engine has seen so far. */
typedef struct dh_engine_counts {
    dh_scan_stats input;        /* what dh_engine_run read, summed over its calls */
    uint64_t events;            /* events read and pushed */
    uint64_t events_considered; /* of them, within from/to and the hosts */
    uint64_t detections;        /* matches of selected rules (findings mode: on the events
                                   kept for correlation, which every matched event is) */
    uint64_t per_level[DH_LEVEL_CRITICAL + 1]; /* the detections by their rule's level */
    uint64_t undecided_events;                 /* events where a rule came out undecided */
    /* Failures of the regular-expression engine itself (out of memory, an internal error;
     * not a miss, not a limit): each left its test undecided, as a limit does.
     * regex_error is the first one's text ("" when none). */
    uint64_t regex_errors;
    char regex_error[256];
    size_t rules_applicable; /* rules whose logsource met at least one event seen */
    /* Findings mode. */
    uint64_t kept;          /* events kept for correlation */
    size_t kept_peak;       /* the most the correlator held at once */
    uint64_t wire_dropped;  /* network sensor records let go, too many held at once */
    uint64_t sigma_late;    /* Sigma correlation: events after their time had passed */
    uint64_t sigma_dropped; /* Sigma correlation: events not held, a memory cap reached */
} dh_engine_counts;

/* Events counted by channel, event id and kind. */
typedef struct dh_channel_count {
    dh_str channel; /* empty: the event named none */
    uint32_t event_id;
    dh_kind kind;
    uint64_t count;
} dh_channel_count;

void dh_engine_opts_init(dh_engine_opts *opts);
/* rs: a finished ruleset, borrowed until dh_engine_free. NULL is allowed: the engine then
 * only reads and counts events (no matching, no findings). DH_ERR_ARG for options that
 * contradict each other (from after to, a negative window, a rule of another ruleset). */
dh_status dh_engine_new(const dh_engine_opts *opts, const dh_ruleset *rs, dh_engine **out);
/* Reads the paths (files, directories recursively, archives, "-" for standard input), as
 * dh_scan_run does; in findings mode EVTX chunks are read in time order across files.
 * DH_OK when every input was read whole, DH_ERR_FORMAT when something was skipped
 * (on_error said what), another status when the run stopped. May be called more than
 * once, and mixed with dh_engine_run_buffer and push. */
dh_status dh_engine_run(dh_engine *eng, const char *const *paths, size_t npaths);
/* Reads len bytes at data as dh_engine_run reads a regular file holding them: the format
 * is recognised the same way (EVTX, event XML, JSON lines, arrays and documents, Defender
 * CSV, Zeek TSV; a zip, 7z or tar archive or a compressed stream, opened in memory), and
 * the detections and findings are the same as the file's. `name` stands for the path: it
 * is the file of every detection, piece of evidence and error ("name!member" inside an
 * archive), with the byte offset in the buffer. The bytes are borrowed for the call and
 * never copied whole (a unit at a time, as a file is read). An empty buffer is an empty
 * file: on_error says it is not a format dcomhunt reads, and the call returns
 * DH_ERR_FORMAT. Returns as dh_engine_run; DH_ERR_ARG when eng or name is NULL, or data is
 * NULL with len not 0. */
dh_status dh_engine_run_buffer(dh_engine *eng, const void *data, size_t len, const char *name);
/* One event from the caller's own reader, through the same matching and correlation, on
 * the calling thread. Findings mode wants events in time order (late ones are still
 * judged, with what their window still holds). */
dh_status dh_engine_push(dh_engine *eng, const dh_event *ev);
/* Findings mode: a candidate another engine made (DH_ENGINE_CANDIDATES), straight to the
 * correlator without matching again; its rules are counted as a match of each. The rules
 * must belong to this engine's ruleset (look them up by id when the candidate came from
 * another process); the event is copied. DH_ERR_ARG in another mode or for a foreign rule. */
dh_status dh_engine_push_candidate(dh_engine *eng, const dh_candidate *c);
/* Findings mode: finishes now the chains the window has passed (the engine does it every
 * 16,384 events anyway); their findings reach on_finding. Nothing in detections mode. */
dh_status dh_engine_flush(dh_engine *eng);
/* The end of the input: findings still open, or detections held for time order, reach
 * the sink. Call once; the engine takes no more input afterwards. */
dh_status dh_engine_finish(dh_engine *eng);
/* Fills *out with the counts so far. */
dh_status dh_engine_stats(dh_engine *eng, dh_engine_counts *out);
/* Detections of a selected rule, and events on which a rule (any) came out undecided. */
uint64_t dh_engine_rule_detections(const dh_engine *eng, const dh_rule *r);
uint64_t dh_engine_rule_undecided(const dh_engine *eng, const dh_rule *r);
/* The events counted by channel, event id and kind, most frequent first (then by
 * channel, event id, kind); *out is owned by the engine. Returns how many. */
size_t dh_engine_channels(dh_engine *eng, const dh_channel_count **out);
/* The first failure that stopped a call (status DH_OK when none); kept until the engine
 * is freed. */
const dh_error *dh_engine_error(const dh_engine *eng);
void dh_engine_free(dh_engine *eng);

#ifdef __cplusplus
}
#endif
#endif
