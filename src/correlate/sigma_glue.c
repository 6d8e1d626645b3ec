/* Sigma correlation rules beside the DCOM chains (corr.h): the correlator's kept items fed
 * to the Sigma correlation engine (sigma_corr.c) in time order, the items it still holds
 * pinned, and the signals it fires built into findings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/corr.h"
#include "findings/ids.h"

/* The Sigma correlation engine holds items it may still show (sigma_corr.h): they are not
 * freed while it does. */
static void sc_hold(void *ctx, void *p)
{
    (void)ctx;
    ((item *)p)->pins++;
}

static void sc_release(void *ctx, void *p)
{
    (void)ctx;
    ((item *)p)->pins--;
}

static const dh_event *sc_event(void *ctx, void *p)
{
    (void)ctx;
    return ((item *)p)->ev;
}

/* A Sigma correlation signal as a finding: the correlation, the correlations it chains and
 * the base rules of its events; its identity is the correlation's (dh_rule_ref), its group
 * and its first time, so two correlations firing on the same events stay two findings. A
 * correlation does not explain its events away: a base rule with generate: true is a
 * stand-alone rule too, and its matches are reported on their own. */
static void corr_fired(void *ctx, const sc_signal *s)
{
    dh_correlator *c = ctx;
    if (!c->fn)
        return;
    dh_fb *b = malloc(sizeof *b);
    if (!b)
        return;
    dh_fb_init(b);
    const dh_event *last = s->nitems ? ((item *)s->items[s->nitems - 1])->ev : NULL;
    b->f.kind = DH_FINDING_SIGNAL;
    b->f.severity = dh_rule_level(s->corr);
    b->f.confidence = dh_score_correlation();
    dh_fb_rule(b, s->corr);
    for (size_t i = 0; i < s->ninner; i++)
        dh_fb_rule(b, s->inner[i]);
    dh_level sev = b->f.severity;
    for (size_t i = 0; i < s->nitems; i++) {
        item *it = s->items[i];
        /* its records stay free for chains and signals: corr_fb_record marks nothing */
        if (corr_fb_record(b, "detection", it, &sev) ||
            (dh_event_kind(it->ev) == DH_KIND_PROCESS_CREATION &&
             corr_fb_process(b, DH_FB_COMMANDS, NULL, -1, it->ev)))
            goto out;
    }
    b->f.severity = sev;
    if (last) {
        b->f.target_host = dh_fb_value(b, "target_host", dh_event_host(last), last);
        b->f.source_ip = dh_fb_value(b, "source_ip", corr_field(last, DH_FIELD_SOURCE_IP), last);
        b->f.user = dh_fb_value(b, "user", corr_field(last, DH_FIELD_USER), last);
        b->f.logon_id = dh_fb_value(b, "logon_id", corr_field(last, DH_FIELD_LOGON_ID), last);
    }
    dh_fb_reason(b, dh_fb_text(b, s->why, strlen(s->why)));
    if (*s->group) {
        char g[512];
        int n = snprintf(g, sizeof g, "grouped by %s", s->group);
        dh_fb_reason(b, dh_fb_text(b, g,
                                   n < 0                  ? 0
                                   : (size_t)n < sizeof g ? (size_t)n
                                                          : sizeof g - 1));
    }
    if (s->nevents > s->nitems) {
        char g[160];
        int n = snprintf(g, sizeof g, "%llu events; %zu shown", (unsigned long long)s->nevents,
                         s->nitems < DH_FINDING_MAX_EVIDENCE ? s->nitems
                                                             : (size_t)DH_FINDING_MAX_EVIDENCE);
        dh_fb_reason(b, dh_fb_text(b, g,
                                   n < 0                  ? 0
                                   : (size_t)n < sizeof g ? (size_t)n
                                                          : sizeof g - 1));
    }
    if (dh_fb_finish(b))
        goto out;
    b->f.first_seen = s->first;
    b->f.last_seen = s->last;
    dh_id_correlation(b->f.id, dh_rule_ref(s->corr), s->group, s->first);
    c->fn(c->fctx, &b->f);
out:
    dh_fb_free(b);
    free(b);
}

static int time_cmp(const void *pa, const void *pb)
{
    const item *a = *(item *const *)pa, *b = *(item *const *)pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sigma correlation rules see every kept event that matched a rule, all hosts together,
 * in time order (group-by decides what belongs together). */
dh_status corr_run_sigma(dh_correlator *c, int64_t horizon)
{
    if (!c->rs || c->max_span == 0)
        return DH_OK;
    size_t n = 0;
    item **order = malloc((c->n ? c->n : 1) * sizeof *order);
    if (!c->sc) {
        sc_hooks hooks = {corr_fired, sc_hold, sc_release, sc_event, c};
        c->sc = sc_new(c->rs, &hooks);
    }
    sc_engine *e = c->sc;
    if (!order || !e) {
        free(order);
        return DH_ERR_NOMEM;
    }
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i]->nrules && !c->v[i]->fed && c->v[i]->t < horizon)
            order[n++] = c->v[i];
    if (n > 1)
        qsort(order, n, sizeof *order, time_cmp);
    for (size_t i = 0; i < n; i++) {
        order[i]->fed = 1;
        sc_feed(e, order[i], order[i]->ev, order[i]->rules, order[i]->nrules);
    }
    free(order);
    if (horizon > c->sc_upto)
        c->sc_upto = horizon;
    if (horizon == INT64_MAX)
        sc_flush(e); /* the end: every window judged, every open signal fired */
    return DH_OK;
}
