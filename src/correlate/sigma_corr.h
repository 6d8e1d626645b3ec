/* Sigma correlation rules over time-ordered events (internal to the correlator). */
#ifndef DH_CORRELATE_SIGMA_CORR_H
#define DH_CORRELATE_SIGMA_CORR_H

#include <stddef.h>

#include "dcomhunt/event.h"
#include "dcomhunt/rules.h"

typedef struct sc_engine sc_engine;
/* items: the caller's handles of the events that made the correlation fire, oldest first. */
typedef void (*sc_fire_fn)(void *ctx, const dh_rule *corr, void *const *items, size_t n);

sc_engine *sc_new(const dh_ruleset *rs);
void sc_free(sc_engine *e);
/* Events must come in time order. item is the caller's handle, returned when firing. */
void sc_feed(sc_engine *e, void *item, const dh_event *ev, const dh_rule *const *matched,
             size_t nmatched, sc_fire_fn fire, void *ctx);

#endif
