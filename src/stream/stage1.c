/* Stage 1: an input message read as the engine reads a buffer (the format sniffed), its
 * events matched, and the ones correlation needs produced to the candidates topic in the
 * wire encoding (wire.h), keyed by the correlation key (key.h): the target host, so that the
 * stage-2 partition holding a target's records also gets the source-side records naming
 * it. A message's candidates are keyed after the whole message is read, so a binding the
 * message itself teaches (the target's own outbound connection giving its address) serves
 * every candidate of it. A candidate naming an address no binding gives yet is held (at
 * most HOLD_MAX, at most identity_wait) until one arrives from the identities topic, then
 * goes keyed by the address; its input offset is not committed while it is held. A message
 * the engine cannot read (or reads with a problem) also goes to the dead-letter topic with
 * the reason; what it could read still counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stream_impl.h"

#define HOLD_MAX      100000  /* candidates held at once; the oldest leaves first beyond it */
#define WAIT_MS       2000    /* identity_wait's default */
#define MSG_CANDS_MAX 1000000 /* candidates of one message kept for keying at once */

/* A candidate encoded, with where it must go: kept until the message is read (pending), or
 * until the address it names is bound (held). */
typedef struct s1_held {
    char origin[1300]; /* its identity (dcomhunt-origin) */
    char *topic;       /* the input message's topic, partition and offset */
    int32_t partition;
    int64_t offset;
    int64_t since_ms;
    dh_keyset keys;
    unsigned char *val;
    size_t len;
} s1_held;

typedef struct s1_ctx {
    dh_stream *s;
    const rd_kafka_message_t *m;
    char origin[1200];
    uint64_t n; /* candidates so far */
    uint64_t errors;
    char reason[1400]; /* the first problem */
    dh_status st;
    s1_held *pend; /* this message's candidates, keyed once it is read */
    size_t npend, cappend;
} s1_ctx;

static void held_free(s1_held *h)
{
    free(h->topic);
    free(h->val);
}

/* Produces the candidate under each of its keys, once per distinct partition key; force:
 * an address still unbound goes as the address. 0 when an address is unbound (not
 * produced). */
static int release(dh_stream *s, s1_held *h, int force)
{
    char keys[DH_KEY_MAXN][DH_KEY_CAP];
    size_t n = 0;
    for (size_t i = 0; i < h->keys.n; i++) {
        char k[DH_KEY_CAP];
        if (!dh_key_resolve(s->idmap, &h->keys.k[i], h->keys.t, k) && !force)
            return 0;
        size_t j = 0;
        while (j < n && strcmp(keys[j], k))
            j++;
        if (j == n)
            memcpy(keys[n++], k, sizeof k);
    }
    for (size_t i = 0; i < n; i++) {
        /* the same origin under every key: a partition that gets two copies takes one */
        rd_kafka_headers_t *hd = rd_kafka_headers_new(1);
        rd_kafka_header_add(hd, DH_HDR_ORIGIN, -1, h->origin, -1);
        if (dh_stream_produce_msg(s, s->candidates_topic, keys[i], strlen(keys[i]), h->val, h->len,
                                  hd) == DH_OK)
            dh_stream_count(s, &s->counts.candidates_out, 1);
    }
    return 1;
}

static void hold(dh_stream *s, s1_held *h)
{
    if (s->nheld >= HOLD_MAX) {
        release(s, &s->held[0], 1);
        held_free(&s->held[0]);
        memmove(s->held, s->held + 1, --s->nheld * sizeof *s->held);
    }
    if (s->nheld == s->capheld) {
        size_t cap = s->capheld ? s->capheld * 2 : 64;
        s1_held *v = realloc(s->held, cap * sizeof *v);
        if (!v) {
            release(s, h, 1);
            held_free(h);
            return;
        }
        s->held = v;
        s->capheld = cap;
    }
    s->held[s->nheld++] = *h;
}

static int on_candidate(void *ctx, const dh_candidate *c)
{
    s1_ctx *x = ctx;
    dh_stream *s = x->s;
    /* the addresses its host owns: learnt at once, shared through the identities topic */
    dh_key_binding b[2];
    size_t nb = dh_key_learn(c->event, b);
    for (size_t i = 0; i < nb; i++)
        if (dh_idmap_bind(s->idmap, &b[i]) == 1)
            dh_ids_publish(s, &b[i]);
    dh_buf_reset(&s->scratch);
    dh_status st = dh_wire_encode(c, &s->scratch);
    if (st != DH_OK) {
        dh_stream_report(s, st, x->origin, 0, "a candidate could not be encoded: %s",
                         dh_status_str(st));
        return 0;
    }
    if (x->npend == x->cappend) {
        size_t cap = x->cappend ? x->cappend * 2 : 64;
        s1_held *v = cap <= MSG_CANDS_MAX ? realloc(x->pend, cap * sizeof *v) : NULL;
        if (!v) {
            dh_stream_report(s, DH_ERR_NOMEM, x->origin, 0, "a candidate could not be kept");
            return 0;
        }
        x->pend = v;
        x->cappend = cap;
    }
    s1_held *h = &x->pend[x->npend];
    memset(h, 0, sizeof *h);
    /* the candidate's identity: stage 2 takes each once, whoever produced it */
    snprintf(h->origin, sizeof h->origin, "%s#%llu", x->origin, (unsigned long long)x->n++);
    h->val = malloc(s->scratch.len ? s->scratch.len : 1);
    if (!h->val)
        return 0;
    memcpy(h->val, s->scratch.data, s->scratch.len);
    h->len = s->scratch.len;
    dh_key_refs(c->event, &h->keys);
    x->npend++;
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
    if (s->s1)
        free(s->s1->pend);
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
    s1_held *pend = x->pend;
    size_t cappend = x->cappend;
    memset(x, 0, sizeof *x);
    x->pend = pend;
    x->cappend = cappend;
    x->s = s;
    x->m = m;
    memcpy(x->origin, origin, sizeof origin);
    st = dh_engine_run_buffer(s->s1_eng, m->payload ? m->payload : "", m->len, name);
    /* keyed now that every binding the message teaches is known */
    const char *topic = rd_kafka_topic_name(m->rkt);
    for (size_t i = 0; i < x->npend; i++) {
        s1_held *h = &x->pend[i];
        if (release(s, h, s->identity_wait_ms < 0)) {
            held_free(h);
            continue;
        }
        h->topic = strdup(topic);
        h->partition = m->partition;
        h->offset = m->offset;
        h->since_ms = dh_stream_now_ms();
        hold(s, h);
    }
    x->npend = 0;
    if (st != DH_OK || x->errors) {
        if (!x->errors)
            snprintf(x->reason, sizeof x->reason, "%s: %s", name, dh_status_str(st));
        dh_stream_dead_letter(s, m, x->reason);
    }
    if (st != DH_OK && st != DH_ERR_FORMAT)
        dh_stage1_free(s); /* a run that stopped: the next message gets a fresh engine */
}

void dh_stage1_tick(dh_stream *s, int64_t now_ms)
{
    dh_ids_poll(s, now_ms);
    int64_t wait = s->identity_wait_ms ? s->identity_wait_ms : WAIT_MS;
    size_t k = 0;
    for (size_t i = 0; i < s->nheld; i++) {
        s1_held *h = &s->held[i];
        if (release(s, h, now_ms - h->since_ms >= wait))
            held_free(h);
        else
            s->held[k++] = *h;
    }
    s->nheld = k;
}

int64_t dh_stage1_floor(dh_stream *s, const char *topic, int32_t partition)
{
    int64_t floor = -1;
    for (size_t i = 0; i < s->nheld; i++)
        if (s->held[i].partition == partition && !strcmp(s->held[i].topic, topic) &&
            (floor < 0 || s->held[i].offset < floor))
            floor = s->held[i].offset;
    return floor;
}

void dh_stage1_drop(dh_stream *s)
{
    for (size_t i = 0; i < s->nheld; i++)
        held_free(&s->held[i]);
    s->nheld = 0;
}
