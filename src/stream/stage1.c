/* Stage 1: an input message read as the engine reads a buffer (the format sniffed), its
 * events matched, and the ones correlation needs produced to the candidates topic in the
 * wire encoding (wire.h), keyed by the correlation domain (DH_WIRE_KEY says why). A message the
 * engine cannot read (or reads with a problem) also goes to the dead-letter topic with the reason;
 * what it could read still counts. */
#include <stdio.h>
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

void dh_stage1_take(dh_stream *s, const rd_kafka_message_t *m)
{
    s1_ctx x;
    memset(&x, 0, sizeof x);
    x.s = s;
    x.m = m;
    dh_stream_origin(m, x.origin, sizeof x.origin);
    dh_stream_count(s, &s->counts.messages_in, 1);
    char name[1024];
    name_of(m, x.origin, name, sizeof name);
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.mode = DH_ENGINE_CANDIDATES;
    o.threads = 1;
    o.sink = (dh_engine_sink){.ctx = &x, .on_candidate = on_candidate, .on_error = on_error};
    dh_engine *eng = NULL;
    dh_status st = dh_engine_new(&o, s->rs, &eng);
    if (st == DH_OK) {
        st = dh_engine_run_buffer(eng, m->payload ? m->payload : "", m->len, name);
        dh_status fin = dh_engine_finish(eng);
        if (st == DH_OK)
            st = fin;
        dh_engine_counts c;
        if (dh_engine_stats(eng, &c) == DH_OK)
            dh_stream_count(s, &s->counts.events_in, c.events);
    }
    dh_engine_free(eng);
    if (st != DH_OK || x.errors) {
        if (!x.errors)
            snprintf(x.reason, sizeof x.reason, "%s: %s", name, dh_status_str(st));
        dh_stream_dead_letter(s, m, x.reason);
    }
}
