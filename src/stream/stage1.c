/* Stage 1: an input message read as the engine reads a buffer (the format sniffed), its
 * events matched, and the ones correlation needs produced to the candidates topic in the
 * wire encoding (wire.h), keyed by the correlation domain (DH_WIRE_KEY says why). A message the
 * engine cannot read (or reads with a problem) also goes to the dead-letter topic with the reason;
 * what it could read still counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stream_impl.h"

typedef struct s1_ctx {
    dh_stream *s;
    const rd_kafka_message_t *m;
    char origin[1200];
    uint64_t n; /* candidates so far */
    uint64_t errors;
    char reason[1400]; /* the first problem */
    dh_status st;
} s1_ctx;

static int on_candidate(void *ctx, const dh_candidate *c)
{
    s1_ctx *x = ctx;
    dh_stream *s = x->s;
    dh_buf_reset(&s->scratch);
    dh_status st = dh_wire_encode(c, &s->scratch);
    if (st != DH_OK) {
        dh_stream_report(s, st, x->origin, 0, "a candidate could not be encoded: %s",
                         dh_status_str(st));
        return 0;
    }
    char id[1300];
    /* the candidate's identity: stage 2 takes each once, whoever produced it */
    snprintf(id, sizeof id, "%s#%llu", x->origin, (unsigned long long)x->n++);
    rd_kafka_headers_t *h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, DH_HDR_ORIGIN, -1, id, -1);
    if (dh_stream_produce_msg(s, s->candidates_topic, DH_WIRE_KEY, strlen(DH_WIRE_KEY),
                              s->scratch.data, s->scratch.len, h) == DH_OK)
        dh_stream_count(s, &s->counts.candidates_out, 1);
    return 0;
}

static void on_error(void *ctx, const dh_error *e)
{
    s1_ctx *x = ctx;
    if (!x->errors++)
        snprintf(x->reason, sizeof x->reason, "%s at byte %llu: %s", e->file,
                 (unsigned long long)e->offset, e->message);
    if (x->s->sink.on_error)
        x->s->sink.on_error(x->s->sink.ctx, e);
}

/* The name evidence and errors carry: the producer's header when it gave one (the
 * original file, so findings name it as `hunt` does), else topic/partition@offset. */
static void name_of(const rd_kafka_message_t *m, const char *origin, char *out, size_t cap)
{
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    size_t n = 0;
    if (!rd_kafka_message_headers(m, &h) && !rd_kafka_header_get_last(h, DH_HDR_NAME, &v, &n) &&
        v && n > 0 && n < cap && !memchr(v, 0, n)) {
        memcpy(out, v, n);
        out[n] = 0;
        return;
    }
    snprintf(out, cap, "%.*s", (int)(cap - 1), origin);
}

/* One engine reads every message: making an engine per message (its correlator, its
 * counters) cost more than reading a one-event message. Candidates mode holds nothing from
 * one buffer to the next (each buffer is read whole by dh_engine_run_buffer and its
 * candidates leave at once), so a message's result is the same as with an engine of its own. */
static dh_status stage1_engine(dh_stream *s)
{
    if (s->s1_eng)
        return DH_OK;
    if (!s->s1 && !(s->s1 = calloc(1, sizeof *s->s1)))
        return DH_ERR_NOMEM;
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.mode = DH_ENGINE_CANDIDATES;
    o.threads = 1;
    o.sink = (dh_engine_sink){.ctx = s->s1, .on_candidate = on_candidate, .on_error = on_error};
    return dh_engine_new(&o, s->rs, &s->s1_eng);
}

/* events_in, from the engine's counts: dh_engine_stats sorts its tallies, so it is read
 * now and then (progress, the stop, a new engine), not per message. */
void dh_stage1_count(dh_stream *s)
{
    dh_engine_counts c;
    if (!s->s1_eng || dh_engine_stats(s->s1_eng, &c) != DH_OK)
        return;
    pthread_mutex_lock(&s->lock);
    s->counts.events_in = s->s1_events_before + c.events;
    pthread_mutex_unlock(&s->lock);
}

void dh_stage1_free(dh_stream *s)
{
    dh_stage1_count(s);
    s->s1_events_before = s->counts.events_in;
    dh_engine_free(s->s1_eng);
    s->s1_eng = NULL;
    free(s->s1);
    s->s1 = NULL;
}

void dh_stage1_take(dh_stream *s, const rd_kafka_message_t *m)
{
    dh_stream_count(s, &s->counts.messages_in, 1);
    char origin[sizeof s->s1->origin];
    dh_stream_origin(m, origin, sizeof origin);
    char name[1024];
    name_of(m, origin, name, sizeof name);
    dh_status st = stage1_engine(s);
    if (st != DH_OK) {
        char reason[1400];
        snprintf(reason, sizeof reason, "%s: %s", name, dh_status_str(st));
        dh_stream_dead_letter(s, m, reason);
        return;
    }
    s1_ctx *x = s->s1;
    memset(x, 0, sizeof *x);
    x->s = s;
    x->m = m;
    memcpy(x->origin, origin, sizeof origin);
    st = dh_engine_run_buffer(s->s1_eng, m->payload ? m->payload : "", m->len, name);
    if (st != DH_OK || x->errors) {
        if (!x->errors)
            snprintf(x->reason, sizeof x->reason, "%s: %s", name, dh_status_str(st));
        dh_stream_dead_letter(s, m, x->reason);
    }
    if (st != DH_OK && st != DH_ERR_FORMAT)
        dh_stage1_free(s); /* a run that stopped: the next message gets a fresh engine */
}
