/* The engine's calling-thread side: a unit's records (record.h) read back in input order.
 * A detection is counted and goes to the sink, or into the timeline when the caller
 * wants detections in time order; an event for the correlator is counted (the selected
 * rules it matched) and taken by the correlator, whose findings go to the sink (in
 * candidates mode, it goes to the sink itself). */
#include <stdlib.h>
#include <string.h>

#include "engine/engine_impl.h"
#include "engine/record.h"

void dh_engine_finding(void *ctx, const dh_finding *f)
{
    dh_engine *e = ctx;
    if (e->cancelled || !e->o.sink.on_finding)
        return;
    if (e->o.sink.on_finding(e->o.sink.ctx, f))
        e->cancelled = 1;
}

static dh_status detection_out(dh_engine *e, const dh_detection *d)
{
    if (e->o.sink.on_detection && e->o.sink.on_detection(e->o.sink.ctx, d)) {
        e->cancelled = 1;
        return DH_ERR_CANCELLED;
    }
    return DH_OK;
}

static dh_status grow_take(dh_engine *e, uint32_t n)
{
    if (n <= e->take_cap)
        return DH_OK;
    const dh_rule **r = realloc(e->take_rules, n * sizeof *r);
    if (r)
        e->take_rules = r;
    unsigned char *u = realloc(e->take_undecided, n);
    if (u)
        e->take_undecided = u;
    if (!r || !u)
        return DH_ERR_NOMEM;
    e->take_cap = n;
    return DH_OK;
}

dh_status dh_engine_take_candidate(dh_engine *e, dh_event *ev, const dh_rule *const *rules,
                                   const unsigned char *undecided, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!dh_engine_selected(e, rules[i]))
            continue;
        size_t ri = dh_rule_index(rules[i]);
        e->detections++;
        e->per_level[dh_rule_level(rules[i])]++;
        e->per_rule[ri]++;
    }
    e->kept++;
    if (e->o.mode == DH_ENGINE_CANDIDATES) {
        dh_candidate c = {ev, rules, undecided, n};
        int stop = e->o.sink.on_candidate && e->o.sink.on_candidate(e->o.sink.ctx, &c);
        dh_event_free(ev);
        if (stop)
            e->cancelled = 1;
        return stop ? DH_ERR_CANCELLED : DH_OK;
    }
    return dh_correlator_take_undecided(e->corr, ev, rules, n, undecided);
}

/* A 'C' body from *p: the rules it matched, then the event packed. */
static dh_status take_correlation(dh_engine *e, const char **pp, const char *end)
{
    const char *p = *pp;
    uint32_t n;
    if (end - p < 4)
        return DH_ERR_FORMAT;
    memcpy(&n, p, 4);
    p += 4;
    if (n > e->nrules || (size_t)(end - p) < n * 4u)
        return DH_ERR_FORMAT;
    if (grow_take(e, n))
        return DH_ERR_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t ri;
        memcpy(&ri, p + 4 * i, 4);
        e->take_undecided[i] = (ri & DH_REC_UNDECIDED) != 0;
        ri &= ~DH_REC_UNDECIDED;
        if (ri >= e->nrules)
            return DH_ERR_FORMAT;
        e->take_rules[i] = dh_ruleset_rule(e->rs, ri);
    }
    p += 4 * n;
    size_t used = 0;
    dh_event *ev = dh_event_unpack(p, (size_t)(end - p), &used);
    if (!ev)
        return DH_ERR_FORMAT;
    *pp = p + used;
    return dh_engine_take_candidate(e, ev, e->take_rules, e->take_undecided, n);
}

dh_status dh_engine_deliver(dh_engine *e, const char *bytes, size_t len)
{
    const char *p = bytes, *end = bytes + len;
    while (p < end && !e->cancelled) {
        char tag = *p++;
        dh_status st;
        if (tag == 'C') {
            if ((st = take_correlation(e, &p, end)) != DH_OK)
                return st;
            continue;
        }
        dh_detection d;
        uint32_t ri;
        size_t used = tag == 'D' ? dh_rec_get_detection(p, end, &d, &ri) : 0;
        if (!used || ri >= e->nrules)
            return DH_ERR_FORMAT;
        const char *rec = p;
        p += used;
        d.rule = dh_ruleset_rule(e->rs, ri);
        e->detections++;
        e->per_level[dh_rule_level(d.rule)]++;
        e->per_rule[ri]++;
        st = e->tl ? timeline_add(e->tl, d.time, rec, used) : detection_out(e, &d);
        if (st)
            return st;
    }
    return e->cancelled ? DH_ERR_CANCELLED : DH_OK;
}

static dh_status timeline_row(void *ctx, const char *rec, size_t len)
{
    dh_engine *e = ctx;
    dh_detection d;
    uint32_t ri;
    if (!dh_rec_get_detection(rec, rec + len, &d, &ri) || ri >= e->nrules)
        return DH_ERR_FORMAT;
    d.rule = dh_ruleset_rule(e->rs, ri);
    return detection_out(e, &d);
}

dh_status dh_engine_deliver_timeline(dh_engine *e)
{
    return e->tl ? timeline_finish(e->tl, timeline_row, e) : DH_OK;
}
