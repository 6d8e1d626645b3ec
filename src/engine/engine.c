/* The engine's public calls (dcomhunt/engine.h): the handle, its options, feeding it
 * paths or a buffer (through the scanner, whose workers run worker.c) or single events
 * (the same worker code on the calling thread), and what it counted. Never: print or exit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_impl.h"
#include "input/buffer.h"

#define PUSH_OUT_LIMIT  (256u << 20)       /* one pushed event's records, as a scanned unit's */
#define TIMELINE_BUDGET ((size_t)16 << 20) /* detections held before a run goes to disk */

void dh_engine_opts_init(dh_engine_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = DH_ENGINE_FINDINGS;
    o->window_s = 300;
    o->skew_s = 120;
    o->min_level = DH_LEVEL_INFORMATIONAL;
}

static int rule_of(const dh_ruleset *rs, const dh_rule *r)
{
    return rs && r && dh_rule_index(r) < dh_ruleset_count(rs) &&
           dh_ruleset_rule(rs, dh_rule_index(r)) == r;
}

static dh_status check_opts(const dh_engine_opts *o, const dh_ruleset *rs)
{
    if ((o->mode != DH_ENGINE_FINDINGS && o->mode != DH_ENGINE_DETECTIONS &&
         o->mode != DH_ENGINE_CANDIDATES) ||
        o->window_s < 0 || o->skew_s < 0 || (o->have_from && o->have_to && o->from > o->to) ||
        (o->nhosts && !o->hosts) || (o->nrules && !o->rules) || o->min_level > DH_LEVEL_CRITICAL)
        return DH_ERR_ARG;
    for (size_t i = 0; i < o->nhosts; i++)
        if (!o->hosts[i])
            return DH_ERR_ARG;
    for (size_t i = 0; i < o->nrules; i++)
        if (!rule_of(rs, o->rules[i]))
            return DH_ERR_ARG;
    return DH_OK;
}

static dh_status setup(dh_engine *e)
{
    e->per_rule = calloc(e->nrules + 1, sizeof *e->per_rule);
    e->undecided = calloc(e->nrules + 1, sizeof *e->undecided);
    if (!e->per_rule || !e->undecided)
        return DH_ERR_NOMEM;
    if (e->o.nrules) {
        if (!(e->rule_on = calloc(e->nrules + 1, 1)))
            return DH_ERR_NOMEM;
        for (size_t i = 0; i < e->o.nrules; i++)
            e->rule_on[dh_rule_index(e->o.rules[i])] = 1;
    }
    if (e->o.mode != DH_ENGINE_DETECTIONS) {
        /* Candidates mode keeps a correlator too, unfed: it says which events it wants. */
        dh_correlate_opts co = {e->o.window_s, e->o.skew_s, e->o.comdb};
        dh_status st = dh_correlator_new(&co, e->rs, &e->corr);
        if (st)
            return st;
        /* Chains are finished as the window passes them: inputs are read in time order. */
        dh_correlator_set_sink(e->corr, dh_engine_finding, e);
    } else if (e->o.time_order && !(e->tl = timeline_new(TIMELINE_BUDGET))) {
        return DH_ERR_NOMEM;
    }
    return DH_OK;
}

dh_status dh_engine_new(const dh_engine_opts *opts, const dh_ruleset *rs, dh_engine **out)
{
    if (!out)
        return DH_ERR_ARG;
    *out = NULL;
    dh_engine_opts def;
    if (!opts) {
        dh_engine_opts_init(&def);
        opts = &def;
    }
    dh_status st = check_opts(opts, rs);
    if (st)
        return st;
    dh_engine *e = calloc(1, sizeof *e);
    if (!e)
        return DH_ERR_NOMEM;
    e->o = *opts;
    e->rs = rs;
    e->nrules = rs ? dh_ruleset_count(rs) : 0;
    e->err.chunk = -1;
    pthread_mutex_init(&e->mu, NULL);
    dh_buf_init(&e->push_out, PUSH_OUT_LIMIT);
    if ((st = setup(e)) != DH_OK) {
        dh_engine_free(e);
        return st;
    }
    *out = e;
    return DH_OK;
}

/* ---- the scanner's callbacks ------------------------------------------------------- */

static void *scan_worker_new(void *ctx)
{
    return dh_engine_worker_new(ctx);
}

static void scan_worker_free(void *wctx)
{
    dh_engine_worker_free(wctx);
}

static dh_status scan_event(void *wctx, const dh_event *ev, dh_buf *out)
{
    return wctx ? dh_engine_worker_event(wctx, ev, out) : DH_ERR_NOMEM;
}

static dh_status scan_emit(void *ctx, const char *bytes, size_t len)
{
    dh_engine *e = ctx;
    dh_status st = dh_engine_deliver(e, bytes, len);
    if (st)
        dh_engine_fail(e, st, NULL,
                       st == DH_ERR_CANCELLED ? "the sink asked to stop"
                                              : "cannot deliver results");
    return st;
}

static void scan_error(void *ctx, const dh_error *err)
{
    dh_engine *e = ctx;
    if (e->o.sink.on_error)
        e->o.sink.on_error(e->o.sink.ctx, err);
}

static void scan_progress(void *ctx, uint64_t done, uint64_t total)
{
    dh_engine *e = ctx;
    if (e->o.sink.on_progress)
        e->o.sink.on_progress(e->o.sink.ctx, done, total);
}

static void add_input(dh_scan_stats *a, const dh_scan_stats *b)
{
    a->files_seen += b->files_seen;
    a->files_read += b->files_read;
    a->files_skipped += b->files_skipped;
    a->bytes_read += b->bytes_read;
    a->bytes_total += b->bytes_total;
    a->chunks += b->chunks;
    a->batches += b->batches;
    a->chunks_damaged += b->chunks_damaged;
    a->records += b->records;
    a->records_damaged += b->records_damaged;
    a->errors += b->errors;
    a->records_unused += b->records_unused;
}

/* Can the engine take more input? */
static dh_status open_for_input(dh_engine *e)
{
    if (e->cancelled)
        return DH_ERR_CANCELLED;
    if (e->finished) {
        dh_engine_fail(e, DH_ERR_ARG, NULL, "input after dh_engine_finish");
        return DH_ERR_ARG;
    }
    return DH_OK;
}

/* The scan of paths (paths != NULL or npaths 0) or of a buffer (name != NULL). */
static dh_status scan(dh_engine *e, const char *const *paths, size_t npaths, const void *data,
                      size_t len, const char *name)
{
    dh_status st = open_for_input(e);
    if (st)
        return st;
    dh_scan_opts so;
    dh_scan_opts_init(&so);
    so.threads = e->o.threads;
    so.want_system = e->rs && dh_ruleset_wants_system(e->rs);
    so.time_order = e->o.mode != DH_ENGINE_DETECTIONS;
    dh_scan_callbacks cb = {
        .ctx = e,
        .worker_new = scan_worker_new,
        .worker_free = scan_worker_free,
        .on_event = scan_event,
        .emit = scan_emit,
        .on_error = scan_error,
        .on_progress = scan_progress,
    };
    dh_scan_stats s;
    memset(&s, 0, sizeof s);
    st = name ? dh_scan_run_buffer(data, len, name, &so, &cb, &s)
              : dh_scan_run(paths, npaths, &so, &cb, &s);
    add_input(&e->input, &s);
    return e->cancelled ? DH_ERR_CANCELLED : st;
}

dh_status dh_engine_run(dh_engine *e, const char *const *paths, size_t npaths)
{
    if (!e || (npaths && !paths))
        return DH_ERR_ARG;
    return scan(e, paths, npaths, NULL, 0, NULL);
}

dh_status dh_engine_run_buffer(dh_engine *e, const void *data, size_t len, const char *name)
{
    if (!e || (!data && len) || !name)
        return DH_ERR_ARG;
    return scan(e, NULL, 0, data, len, name);
}

dh_status dh_engine_push(dh_engine *e, const dh_event *ev)
{
    if (!e || !ev)
        return DH_ERR_ARG;
    dh_status st = open_for_input(e);
    if (st)
        return st;
    if (!e->self && !(e->self = dh_engine_worker_new(e))) {
        dh_engine_fail(e, DH_ERR_NOMEM, ev, "cannot start matching");
        return DH_ERR_NOMEM;
    }
    e->push_out.len = 0;
    st = dh_engine_worker_event(e->self, ev, &e->push_out);
    if (!st && e->push_out.len)
        st = scan_emit(e, e->push_out.data, e->push_out.len);
    return st;
}

dh_status dh_engine_push_candidate(dh_engine *e, const dh_candidate *c)
{
    if (!e || !c || !c->event || (c->nrules && !c->rules) || e->o.mode != DH_ENGINE_FINDINGS)
        return DH_ERR_ARG;
    for (size_t i = 0; i < c->nrules; i++)
        if (!rule_of(e->rs, c->rules[i]))
            return DH_ERR_ARG;
    dh_status st = open_for_input(e);
    if (st)
        return st;
    e->push_out.len = 0;
    if ((st = dh_event_pack(c->event, 1, &e->push_out)) != DH_OK)
        return st;
    size_t used = 0;
    dh_event *ev = dh_event_unpack(e->push_out.data, e->push_out.len, &used);
    if (!ev)
        return DH_ERR_NOMEM;
    return dh_engine_take_candidate(e, ev, c->rules, c->undecided, c->nrules);
}

dh_status dh_engine_flush(dh_engine *e)
{
    if (!e)
        return DH_ERR_ARG;
    dh_status st = open_for_input(e);
    if (st || !e->corr)
        return st;
    st = dh_correlator_flush(e->corr);
    if (st)
        dh_engine_fail(e, st, NULL, "cannot finish the chains the window has passed");
    return e->cancelled ? DH_ERR_CANCELLED : st;
}

dh_status dh_engine_finish(dh_engine *e)
{
    if (!e)
        return DH_ERR_ARG;
    dh_status st = open_for_input(e);
    if (st)
        return st;
    e->finished = 1;
    if (e->self)
        dh_engine_worker_merge(e->self);
    st = dh_engine_deliver_timeline(e);
    if (!st && e->corr)
        st = dh_correlator_finish(e->corr, dh_engine_finding, e);
    if (e->cancelled)
        st = DH_ERR_CANCELLED;
    if (st)
        dh_engine_fail(e, st, NULL,
                       st == DH_ERR_CANCELLED ? "the sink asked to stop" : "cannot finish");
    return st;
}

/* ---- what the engine counted ------------------------------------------------------- */

/* The merged counts as a list, most frequent first; NULL when out of memory. */
static dh_tally *sorted_tallies(dh_engine *e, size_t *n)
{
    if (e->self)
        dh_engine_worker_merge(e->self);
    *n = 0;
    dh_tally *list = malloc((e->merged.n ? e->merged.n : 1) * sizeof *list);
    for (size_t i = 0; list && i < e->merged.cap; i++)
        if (e->merged.v[i].channel)
            list[(*n)++] = e->merged.v[i];
    if (list && *n > 1)
        qsort(list, *n, sizeof *list, dh_tally_cmp_count);
    return list;
}

dh_status dh_engine_stats(dh_engine *e, dh_engine_counts *out)
{
    if (!e || !out)
        return DH_ERR_ARG;
    size_t n;
    dh_tally *list = sorted_tallies(e, &n);
    if (!list)
        return DH_ERR_NOMEM;
    memset(out, 0, sizeof *out);
    out->input = e->input;
    out->events = e->events;
    out->events_considered = e->considered;
    out->detections = e->detections;
    memcpy(out->per_level, e->per_level, sizeof out->per_level);
    out->undecided_events = e->undecided_events;
    out->regex_errors = e->regex_errors;
    memcpy(out->regex_error, e->regex_error, sizeof out->regex_error);
    /* Rules applicable: those whose logsource met at least one event read. */
    for (size_t i = 0; i < e->nrules; i++) {
        const dh_rule *r = dh_ruleset_rule(e->rs, i);
        int hit = 0;
        for (size_t k = 0; k < n && !hit; k++)
            hit = dh_rule_meets(r, (dh_kind)list[k].kind, list[k].channel, list[k].channel_len);
        out->rules_applicable += (size_t)hit;
    }
    free(list);
    out->kept = e->kept;
    if (e->corr) {
        out->kept_peak = dh_correlator_peak(e->corr);
        out->wire_dropped = dh_correlator_wire_dropped(e->corr);
        out->sigma_late = dh_correlator_sigma_late(e->corr);
        out->sigma_dropped = dh_correlator_sigma_dropped(e->corr);
    }
    return DH_OK;
}

uint64_t dh_engine_rule_detections(const dh_engine *e, const dh_rule *r)
{
    return e && rule_of(e->rs, r) ? e->per_rule[dh_rule_index(r)] : 0;
}

uint64_t dh_engine_rule_undecided(const dh_engine *e, const dh_rule *r)
{
    return e && rule_of(e->rs, r) ? e->undecided[dh_rule_index(r)] : 0;
}

size_t dh_engine_channels(dh_engine *e, const dh_channel_count **out)
{
    if (!e || !out)
        return 0;
    *out = NULL;
    free(e->channels);
    e->channels = NULL;
    size_t n;
    dh_tally *list = sorted_tallies(e, &n);
    if (!list)
        return 0;
    e->channels = malloc((n ? n : 1) * sizeof *e->channels);
    for (size_t i = 0; e->channels && i < n; i++)
        e->channels[i] = (dh_channel_count){{list[i].channel, list[i].channel_len},
                                            list[i].event_id,
                                            (dh_kind)list[i].kind,
                                            list[i].count};
    free(list);
    *out = e->channels;
    return e->channels ? n : 0;
}

const dh_error *dh_engine_error(const dh_engine *e)
{
    return e ? &e->err : NULL;
}

void dh_engine_free(dh_engine *e)
{
    if (!e)
        return;
    dh_engine_worker_free(e->self);
    for (size_t i = 0; i < e->merged.cap; i++)
        free(e->merged.v[i].channel);
    free(e->merged.v);
    free(e->channels);
    free(e->per_rule);
    free(e->undecided);
    free(e->rule_on);
    free(e->take_rules);
    free(e->take_undecided);
    timeline_free(e->tl);
    dh_correlator_free(e->corr);
    dh_buf_free(&e->push_out);
    pthread_mutex_destroy(&e->mu);
    free(e);
}
