/* Sigma correlation rules over the events the correlator kept (internal to the correlator).
 *
 * The caller feeds events with the rules each matched and its own handle for each (an
 * "item"); sc_flush closes what is still open at the end of the input. A signal names the
 * correlation and carries the items it covers. sc never frees an item: it tells the caller
 * when it starts and stops holding one (hooks.hold / hooks.release), so an item lives as
 * long as a window, an open signal or a chained correlation may still show it. */
#ifndef DH_CORRELATE_SIGMA_CORR_H
#define DH_CORRELATE_SIGMA_CORR_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/event.h"
#include "dcomhunt/rules.h"

typedef struct sc_engine sc_engine;

typedef struct sc_signal {
    const dh_rule *corr;
    void *const *items; /* evidence still held, in time order (at most 256) */
    size_t nitems;
    uint64_t nevents;            /* events the signal covers (more than nitems when cut) */
    int64_t first, last;         /* their first and last times (FILETIME ticks) */
    double metric;               /* the value the condition was met with (the highest reached) */
    const char *why;             /* "event_count reached 12 (condition: >= 3) within 300s" */
    const char *group;           /* "Field=value, ..." of its group-by ("" without group-by) */
    const dh_rule *const *inner; /* correlations it chains, whose signals it includes */
    size_t ninner;
} sc_signal;

typedef struct sc_hooks {
    void (*fire)(void *ctx, const sc_signal *s);
    void (*hold)(void *ctx, void *item);
    void (*release)(void *ctx, void *item);
    const dh_event *(*event)(void *ctx, void *item); /* the event of a held item */
    void *ctx;
} sc_hooks;

typedef struct sc_stats {
    uint64_t late;           /* events that came after newer events of their group */
    uint64_t dropped;        /* events not held: a cap on groups or held events was reached */
    uint64_t evidence_freed; /* evidence let go because too many events were kept as evidence */
} sc_stats;

/* NULL when out of memory; rs must be finished and outlive the engine. */
sc_engine *sc_new(const dh_ruleset *rs, const sc_hooks *hooks);
/* Releases every held item; open signals are dropped (call sc_flush first to have them). */
void sc_free(sc_engine *e);
/* Events should come in time order; one that does not is placed among what its groups
 * still hold (docs/rules.md, "Correlation semantics"). */
void sc_feed(sc_engine *e, void *item, const dh_event *ev, const dh_rule *const *matched,
             size_t nmatched);
/* The end of the input: every open window is judged and every open signal fired. */
void sc_flush(sc_engine *e);
sc_stats sc_get_stats(const sc_engine *e);

#endif
