/* dcomhunt: from events to DCOM lateral-movement findings.
 *
 * The correlator receives owned copies of the events that can take part in a chain
 * (process creations, network logons, network connections, DistributedCOM errors, and
 * every event a rule matched) with the rules each matched, and at the end assembles,
 * per target host, the chain: inbound RPC, the network logon, the COM server's start, and
 * what it ran; failed remote activations become attempts; lone detections become signals.
 *
 * Ownership: dh_correlator_take takes the event (freed with the correlator). Findings
 * passed to the sink are borrowed for the duration of the call. Single-threaded. */
#ifndef DCOMHUNT_CORRELATE_H
#define DCOMHUNT_CORRELATE_H

#include <stddef.h>
#include <stdint.h>

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

/* The knowledge table of COM objects (rules/knowledge/com-objects.yml, docs/com-objects.md):
 * dh_comdb_new builds the built-in table; the add functions add rows of the same YAML form
 * (a row naming a known object replaces it); err, if not NULL, names the file and the
 * problem. Immutable once given to a correlator; freed by the caller (NULL accepted). */
typedef struct dh_comdb dh_comdb;
dh_status dh_comdb_new(dh_comdb **out);
dh_status dh_comdb_add_text(dh_comdb *db, const char *text, size_t len, const char *origin,
                            dh_error *err);
dh_status dh_comdb_add_file(dh_comdb *db, const char *path, dh_error *err);
void dh_comdb_free(dh_comdb *db);

typedef struct dh_correlate_opts {
    int64_t window_s;      /* how long after a COM server start its activity belongs to it */
    int64_t skew_s;        /* clock disagreement tolerated between channels and hosts */
    const dh_comdb *comdb; /* borrowed until dh_correlator_free; NULL: the built-in table */
} dh_correlate_opts;

typedef struct dh_correlator dh_correlator;
typedef void (*dh_finding_fn)(void *ctx, const dh_finding *f);

void dh_correlate_opts_init(dh_correlate_opts *o);
/* rs: the rules whose matches will be passed in (its correlation rules run too); may be
 * NULL when no Sigma correlation rules are wanted. Borrowed until dh_correlator_free. */
dh_status dh_correlator_new(const dh_correlate_opts *o, const dh_ruleset *rs, dh_correlator **out);
void dh_correlator_free(dh_correlator *c);
/* Is this event worth keeping for correlation (with the number of rules it matched)? Safe
 * to call from several threads at once (it reads the correlator's immutable tables). */
int dh_correlator_wants(const dh_correlator *c, const dh_event *ev, size_t nmatched);
/* Packs the copy of ev the correlator needs (dh_event_unpack gives it back): the envelope,
 * the taxonomy fields and the original fields rs's correlation rules read (group-by,
 * aliases, condition fields), and no other. Thread-safe: rs is only read. */
dh_status dh_correlator_pack(const dh_ruleset *rs, const dh_event *ev, dh_buf *out);
/* Takes an owned event copy and the rules it matched. */
dh_status dh_correlator_take(dh_correlator *c, dh_event *ev, const dh_rule *const *rules,
                             size_t nrules);
/* The same, with undecided[i] nonzero for a rule that was undecided on the event
 * (dh_matcher_undecided); undecided may be NULL. */
dh_status dh_correlator_take_undecided(dh_correlator *c, dh_event *ev, const dh_rule *const *rules,
                                       size_t nrules, const unsigned char *undecided);
/* Where findings go while events are still coming: with a sink set, the correlator
 * finishes chains as their window passes and drops what no later chain can use, so its
 * memory follows the window (inputs must come in time order, as hunt reads them). */
void dh_correlator_set_sink(dh_correlator *c, dh_finding_fn fn, void *ctx);
/* With a sink set: finishes now what the window has passed (as every 16,384 events). */
dh_status dh_correlator_flush(dh_correlator *c);
/* Sigma correlation: events taken after correlation had already passed their time (inputs
 * read out of time order: each is judged with what its group still holds), and events not
 * held because a memory cap was reached. */
uint64_t dh_correlator_sigma_late(const dh_correlator *c);
uint64_t dh_correlator_sigma_dropped(const dh_correlator *c);
/* Network sensor (Zeek) records let go because too many were held at once (0 normally). */
uint64_t dh_correlator_wire_dropped(const dh_correlator *c);
/* The most events the correlator held at once (to show its memory bound). */
size_t dh_correlator_peak(const dh_correlator *c);
/* Assembles and emits what is left. */
dh_status dh_correlator_finish(dh_correlator *c, dh_finding_fn fn, void *ctx);

const char *dh_finding_kind_name(dh_finding_kind k);

#ifdef __cplusplus
}
#endif
#endif
