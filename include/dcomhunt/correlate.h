/* dcomhunt: from events to DCOM lateral-movement findings.
 *
 * The correlator receives owned copies of the events that can take part in a chain
 * (process creations, network logons, network connections, DistributedCOM errors, and
 * every event a rule matched) with the rules each matched, and at the end assembles,
 * per target host, the chain: inbound RPC, the network logon, the COM server's start, and
 * what it ran; failed remote activations become attempts; lone detections become signals.
 *
 * Ownership: dh_correlator_take takes the event (freed with the correlator). Findings
 * passed to the sink are borrowed for the duration of the call. Single-threaded. The
 * finding itself, and what is done with it (tuning, writers), is dcomhunt/finding.h. */
#ifndef DCOMHUNT_CORRELATE_H
#define DCOMHUNT_CORRELATE_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/event.h"
#include "dcomhunt/finding.h"
#include "dcomhunt/rules.h"
#include "dcomhunt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
}
#endif
#endif
