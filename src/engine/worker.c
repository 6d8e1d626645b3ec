/* The engine's worker side: on a decoding thread, each event is counted, filtered (time,
 * host), matched against the ruleset, and written to the unit's output as records
 * (record.h): a detection per selected rule match, or the event packed for the
 * correlator with the rules it matched. Never: touch the sink or the correlator's state
 * (they belong to the calling thread). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/engine_impl.h"
#include "engine/record.h"

struct engine_worker {
    dh_engine *e;
    dh_matcher *m; /* NULL when the engine has no ruleset */
    dh_tally_table t;
    uint64_t events, considered;
    dh_buf *out;
    dh_buf scratch; /* the key fields text of a detection */
    dh_status st;
    uint32_t *hits;         /* rules that matched the current event (findings mode); */
    size_t nhits, hits_cap; /* DH_REC_UNDECIDED marks an undecided one */
    uint64_t *undecided;    /* per rule: events it could not decide */
    uint64_t undecided_events;
    int event_undecided;
    uint64_t regex_errors_merged; /* of dh_matcher_regex_errors, already added to e's */
};

/* ---- key fields of a matched event, per kind -------------------------------------- */

static const char *const key_fields[][6] = {
    [DH_KIND_PROCESS_CREATION] = {"Image", "CommandLine", "ParentImage", "ParentCommandLine",
                                  "User", "LogonId"},
    [DH_KIND_NETWORK_CONNECTION] = {"Image", "Initiated", "SourceIp", "SourcePort", "DestinationIp",
                                    "DestinationPort"},
    [DH_KIND_LOGON] = {"TargetUserName", "TargetDomainName", "LogonType", "IpAddress",
                       "WorkstationName", "TargetLogonId"},
    [DH_KIND_IMAGE_LOAD] = {"Image", "ImageLoaded", "Signed", "SignatureStatus", "User", NULL},
    [DH_KIND_REGISTRY_ADD] = {"Image", "EventType", "TargetObject", "Details", NULL, NULL},
    [DH_KIND_REGISTRY_SET] = {"Image", "EventType", "TargetObject", "Details", NULL, NULL},
    [DH_KIND_REGISTRY_DELETE] = {"Image", "EventType", "TargetObject", NULL, NULL, NULL},
    [DH_KIND_REGISTRY_RENAME] = {"Image", "EventType", "TargetObject", "Details", NULL, NULL},
    [DH_KIND_DCOM_ERROR] = {"CLSID", "AppID", "User", "RemoteHost", "Image", NULL},
    [DH_KIND_PS_SCRIPT] = {"ScriptBlockText", "Path", NULL, NULL, NULL, NULL},
    [DH_KIND_PS_MODULE] = {"Payload", NULL, NULL, NULL, NULL, NULL},
    [DH_KIND_FILE_EVENT] = {"Image", "TargetFilename", NULL, NULL, NULL, NULL},
    [DH_KIND_SERVICE_INSTALL] = {"ServiceName", "ImagePath", "User", NULL, NULL, NULL},
    [DH_KIND_TASK_CREATE] = {"TaskName", "User", "LogonId", NULL, NULL, NULL},
};

/* One "Name=value" of the key fields: the value whole up to DH_VALUE_CAP, then marked. */
static dh_status key_value(dh_buf *b, dh_str name, dh_str v)
{
    dh_status st = dh_buf_append(b, name.ptr, name.len);
    if (!st)
        st = dh_buf_putc(b, '=');
    if (!st)
        st = dh_buf_append(b, v.ptr, v.len > DH_VALUE_CAP ? DH_VALUE_CAP : v.len);
    if (!st && v.len > DH_VALUE_CAP) {
        char mark[64];
        snprintf(mark, sizeof mark, " [truncated: %zu bytes]", v.len);
        st = dh_buf_puts(b, mark);
    }
    return st;
}

/* "Name=value; Name=value" of the event's key fields (the first six fields it carried,
 * for a kind without a list). */
static dh_status key_text(dh_buf *b, const dh_event *ev)
{
    unsigned k = (unsigned)dh_event_kind(ev);
    const char *const *names =
        k < sizeof key_fields / sizeof key_fields[0] && key_fields[k][0] ? key_fields[k] : NULL;
    int first = 1;
    dh_status st = DH_OK;
    if (names) {
        for (int i = 0; i < 6 && names[i] && !st; i++) {
            dh_str v;
            if (!dh_event_get(ev, names[i], strlen(names[i]), &v) || !v.len)
                continue;
            if (!first)
                st = dh_buf_append(b, "; ", 2);
            first = 0;
            if (!st)
                st = key_value(b, (dh_str){names[i], strlen(names[i])}, v);
        }
        return st;
    }
    size_t n;
    const dh_kv *kv = dh_event_data(ev, &n);
    for (size_t i = 0; i < n && i < 6 && !st; i++) {
        if (!first)
            st = dh_buf_append(b, "; ", 2);
        first = 0;
        if (!st)
            st = key_value(b, kv[i].name, kv[i].value);
    }
    return st;
}

/* ---- matching ---------------------------------------------------------------------- */

static void on_match(void *ctx, const dh_rule *r, const dh_event *ev)
{
    engine_worker *w = ctx;
    dh_engine *e = w->e;
    if (w->st)
        return;
    uint32_t und = dh_matcher_undecided(w->m) ? DH_REC_UNDECIDED : 0;
    if (und) {
        w->undecided[dh_rule_index(r)]++;
        w->event_undecided = 1;
    }
    if (e->o.mode != DH_ENGINE_DETECTIONS) {
        /* every rule: a chain's severity and confidence do not depend on the selection */
        if (w->nhits == w->hits_cap) {
            size_t cap = w->hits_cap ? w->hits_cap * 2 : 64;
            uint32_t *h = realloc(w->hits, cap * sizeof *h);
            if (!h) {
                w->st = DH_ERR_NOMEM;
                return;
            }
            w->hits = h;
            w->hits_cap = cap;
        }
        w->hits[w->nhits++] = (uint32_t)dh_rule_index(r) | und;
        return;
    }
    if (!dh_engine_selected(e, r))
        return;
    if (!e->o.base_rules && !dh_rule_reported_alone(r))
        return; /* a correlation's base rule: reported through findings only */
    w->scratch.len = 0;
    dh_status st = key_text(&w->scratch, ev);
    if (!st)
        st = dh_rec_put_detection(w->out, (uint32_t)dh_rule_index(r) | und, ev, w->scratch.data,
                                  w->scratch.len);
    w->st = st;
}

static int host_selected(const dh_engine_opts *o, dh_str h)
{
    if (!o->nhosts)
        return 1;
    for (size_t i = 0; i < o->nhosts; i++) {
        size_t n = strlen(o->hosts[i]);
        if (h.len >= n && !strncasecmp(h.ptr, o->hosts[i], n) && (h.len == n || h.ptr[n] == '.'))
            return 1;
    }
    return 0;
}

engine_worker *dh_engine_worker_new(dh_engine *e)
{
    engine_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->e = e;
    dh_buf_init(&w->scratch, 64u << 20);
    w->undecided = calloc(e->nrules + 1, sizeof *w->undecided);
    if (!w->undecided || (e->rs && dh_matcher_new(e->rs, &w->m))) {
        free(w->undecided);
        free(w);
        return NULL;
    }
    return w;
}

void dh_engine_worker_merge(engine_worker *w)
{
    dh_engine *e = w->e;
    pthread_mutex_lock(&e->mu);
    e->events += w->events;
    e->considered += w->considered;
    dh_tally_merge(&e->merged, &w->t);
    e->undecided_events += w->undecided_events;
    char msg[sizeof e->regex_error];
    uint64_t rx = w->m ? dh_matcher_regex_errors(w->m, msg, sizeof msg) : 0;
    if (rx > w->regex_errors_merged) {
        if (!e->regex_errors)
            memcpy(e->regex_error, msg, sizeof msg);
        e->regex_errors += rx - w->regex_errors_merged;
        w->regex_errors_merged = rx;
    }
    for (size_t i = 0; i < e->nrules; i++) {
        e->undecided[i] += w->undecided[i];
        w->undecided[i] = 0;
    }
    pthread_mutex_unlock(&e->mu);
    w->events = w->considered = w->undecided_events = 0;
}

void dh_engine_worker_free(engine_worker *w)
{
    if (!w)
        return;
    dh_engine_worker_merge(w);
    dh_buf_free(&w->scratch);
    dh_matcher_free(w->m);
    free(w->hits);
    free(w->undecided);
    free(w);
}

/* The 'C' record: the rules ev matched, then ev packed with the fields correlation rules
 * read. */
static dh_status put_correlation(engine_worker *w, const dh_event *ev, dh_buf *out)
{
    uint32_t n = (uint32_t)w->nhits;
    dh_status st = dh_buf_putc(out, 'C');
    if (!st)
        st = dh_buf_append(out, &n, 4);
    if (!st && n)
        st = dh_buf_append(out, w->hits, n * sizeof w->hits[0]);
    if (!st)
        st = dh_correlator_pack(w->e->rs, ev, out);
    return st;
}

dh_status dh_engine_worker_event(engine_worker *w, const dh_event *ev, dh_buf *out)
{
    dh_engine *e = w->e;
    w->events++;
    dh_str ch = dh_event_channel(ev);
    size_t slot;
    dh_tally *t =
        dh_tally_find(&w->t, ch.ptr, ch.len, dh_event_id(ev), (int)dh_event_kind(ev), &slot);
    if (!t) {
        dh_engine_fail(e, DH_ERR_NOMEM, ev, "out of memory counting events");
        return DH_ERR_NOMEM;
    }
    t->count++;
    int64_t time = dh_event_time(ev);
    if ((e->o.have_from && time < e->o.from) || (e->o.have_to && time > e->o.to) ||
        !host_selected(&e->o, dh_event_host(ev)))
        return DH_OK;
    w->considered++;
    if (!w->m)
        return DH_OK;
    w->out = out;
    w->st = DH_OK;
    w->nhits = 0;
    w->event_undecided = 0;
    dh_matcher_run(w->m, ev, on_match, w);
    w->undecided_events += (uint64_t)w->event_undecided;
    if (e->o.mode != DH_ENGINE_DETECTIONS && !w->st && dh_correlator_wants(e->corr, ev, w->nhits))
        w->st = put_correlation(w, ev, out);
    if (w->st)
        dh_engine_fail(e, w->st, ev, "cannot keep the results of an event");
    return w->st;
}
