/* The engine's handle and its workers, shared by the files of src/engine/:
 * engine.c (the public calls), worker.c (decoding threads: matching, writing records) and
 * deliver.c (the calling thread: reading records back, counting, correlating, handing
 * results to the sink).
 *
 * Who shares what: the handle is read by every worker (options, ruleset, correlator's
 * immutable tables) and written only by the calling thread, except the merged counts and
 * the first error, which workers add under `mu` when they finish or fail. */
#ifndef DH_ENGINE_IMPL_H
#define DH_ENGINE_IMPL_H

#include <pthread.h>

#include "core/buf.h"
#include "core/timeline.h"
#include "dcomhunt/engine.h"
#include "engine/tally.h"

typedef struct engine_worker engine_worker;

struct dh_engine {
    dh_engine_opts o;
    const dh_ruleset *rs; /* NULL: count events only */
    size_t nrules;
    unsigned char *rule_on; /* per rule index: selected (NULL: every rule of min_level) */
    dh_correlator *corr;    /* findings mode */
    timeline *tl;           /* detections in time order */

    pthread_mutex_t mu; /* guards what workers merge: */
    dh_tally_table merged;
    uint64_t events, considered, undecided_events;
    uint64_t *undecided;   /* per rule: events it could not decide */
    uint64_t regex_errors; /* the matchers' regular-expression engine failures */
    char regex_error[256]; /* the first one's text */
    dh_error err;          /* the first failure (status DH_OK when none) */

    /* Calling thread only. */
    dh_scan_stats input;
    uint64_t detections, kept;
    uint64_t per_level[DH_LEVEL_CRITICAL + 1];
    uint64_t *per_rule;
    const dh_rule **take_rules; /* scratch for a 'C' record */
    unsigned char *take_undecided;
    size_t take_cap;
    engine_worker *self; /* dh_engine_push's worker, on the calling thread */
    dh_buf push_out;
    dh_channel_count *channels; /* dh_engine_channels' answer */
    int cancelled;              /* a sink callback asked to stop */
    int finished;
};

/* Worker side (worker.c). */
engine_worker *dh_engine_worker_new(dh_engine *e);
/* Matches ev and appends its records to out. */
dh_status dh_engine_worker_event(engine_worker *w, const dh_event *ev, dh_buf *out);
/* Adds the worker's counts to the engine's (under its lock) and empties them. */
void dh_engine_worker_merge(engine_worker *w);
/* Merges and frees (NULL accepted). */
void dh_engine_worker_free(engine_worker *w);

/* Calling-thread side (deliver.c). */
/* Reads a unit's records: counts, correlator, detections to the sink or the timeline. */
dh_status dh_engine_deliver(dh_engine *e, const char *bytes, size_t len);
/* An event for the correlator (owned: taken or freed), with the rules it matched: the
 * selected ones counted, then to the correlator, or to on_candidate in candidates mode. */
dh_status dh_engine_take_candidate(dh_engine *e, dh_event *ev, const dh_rule *const *rules,
                                   const unsigned char *undecided, size_t n);
/* The correlator's finding callback: to the sink, unless it asked to stop. */
void dh_engine_finding(void *ctx, const dh_finding *f);
/* The held detections, in time order, to the sink. */
dh_status dh_engine_deliver_timeline(dh_engine *e);

/* Is the rule selected (min_level, the rule list)? */
static inline int dh_engine_selected(const dh_engine *e, const dh_rule *r)
{
    return dh_rule_level(r) >= e->o.min_level && (!e->rule_on || e->rule_on[dh_rule_index(r)]);
}

/* Keeps the first failure: its status, a message, and the event's file and record when
 * there is one (ev may be NULL). Thread-safe. */
void dh_engine_fail(dh_engine *e, dh_status st, const dh_event *ev, const char *message);

#endif
