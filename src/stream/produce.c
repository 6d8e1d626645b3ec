/* `dcomhunt produce` (dh_stream_produce): files, folders and archives read by the scanner
 * (dcomhunt/scan.h), each event sent to a topic as one message in `dcomhunt dump`'s
 * JSON-lines form (one JSON object, no newline), which the engine's JSON reader reads back
 * to the same event. The key is the event's host (so a host's events stay in order in one
 * partition); headers name where the event came from: dcomhunt-file (the path,
 * "archive!member" inside an archive) and dcomhunt-offset (the record's byte offset,
 * decimal), and dcomhunt-name (the path again: the name `dcomhunt stream` reads the
 * message under, so its findings name the original file).
 *
 * The producer is idempotent (enable.idempotence, whatever the config says): a retry after
 * a lost acknowledgement does not duplicate an event. Workers format the events; the
 * calling thread hands them to librdkafka in input order and serves its delivery reports,
 * so the sink is only ever called on the calling thread. A message that cannot be
 * delivered is counted and reported with its file and offset; it does not stop the run.
 *
 * Before anything is read the cluster must answer a metadata request (check_cluster): no
 * broker reachable fails the call at once (within CONNECT_MS at most) with DH_ERR_IO and
 * one error naming the brokers. message.timeout.ms defaults to MESSAGE_TIMEOUT_MS unless
 * the config sets it.
 *
 * Progress (sink->on_progress, about once a second) uses dh_stream_counts so: events_in is
 * events read, malformed is messages that failed delivery, lag is messages handed to
 * librdkafka and not yet acknowledged; delivered is events_in - lag - malformed.
 *
 * Nothing here prints: librdkafka's own log lines are dropped, its errors go to the sink. */
#include "dcomhunt/stream.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "dcomhunt/scan.h"
#include "output/json.h"

#define HDR_FILE   "dcomhunt-file"
#define HDR_OFFSET "dcomhunt-offset"
/* The name stage 1 reads the message under (the file of its evidence and errors): the
 * original file, so findings name it as hunt does. */
#define HDR_NAME      "dcomhunt-name"
#define FLUSH_STEP_MS 1000
#define ERR_KINDS     16
#define ERR_EVERY_MS  60000
/* Before reading anything, the cluster must answer a metadata request within this long
 * (less when message.timeout.ms is shorter): a loader pointed at no broker says so at once
 * instead of failing every message message.timeout.ms later. */
#define CONNECT_MS 10000
/* message.timeout.ms unless the config sets it: librdkafka's 300 s would hold a loader
 * whose cluster went away for five minutes before any event is reported undelivered. */
#define MESSAGE_TIMEOUT_MS "60000"

typedef struct produce_ctx {
    rd_kafka_t *rk;
    const char *topic;
    const dh_stream_sink *sink;
    dh_stream_counts counts;
    uint64_t delivered, failed;
    int64_t last_progress_ms;
    int fatal;           /* the producer hit a fatal error: stop */
    const char *brokers; /* named in librdkafka's own errors */
    /* error_cb: each kind of error is said once a minute (a cluster down repeats them
     * every second) */
    int err_code[ERR_KINDS];
    int64_t err_ms[ERR_KINDS];
    /* while the cluster is checked (reachable): librdkafka's errors are kept, not said */
    int checking, all_down;
    char check_why[256];
} produce_ctx;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void report(produce_ctx *c, dh_status st, const char *file, size_t file_len, uint64_t offset,
                   const char *what, const char *why)
{
    if (!c->sink || !c->sink->on_error)
        return;
    dh_error e;
    memset(&e, 0, sizeof e);
    e.status = st;
    e.chunk = -1;
    e.offset = offset;
    size_t n = file_len < sizeof e.file - 1 ? file_len : sizeof e.file - 1;
    memcpy(e.file, file, n);
    snprintf(e.message, sizeof e.message, "%s: %s", what, why);
    c->sink->on_error(c->sink->ctx, &e);
}

static void progress(produce_ctx *c, int force)
{
    if (!c->sink || !c->sink->on_progress)
        return;
    int64_t t = now_ms();
    if (!force && t - c->last_progress_ms < 1000)
        return;
    c->last_progress_ms = t;
    c->counts.malformed = c->failed;
    c->counts.lag = rd_kafka_outq_len(c->rk);
    c->sink->on_progress(c->sink->ctx, &c->counts);
}

/* A header's value (not NUL-terminated), or NULL. */
static const char *header(const rd_kafka_message_t *m, const char *name, size_t *len)
{
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, name, &v, len) || !v)
        return NULL;
    return v;
}

/* librdkafka's delivery report, on the calling thread (rd_kafka_poll / flush). */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    produce_ctx *c = opaque;
    if (!m->err) {
        c->delivered++;
        return;
    }
    c->failed++;
    size_t flen = 0, olen = 0;
    const char *file = header(m, HDR_FILE, &flen);
    const char *off = header(m, HDR_OFFSET, &olen);
    uint64_t offset = 0;
    for (size_t i = 0; off && i < olen && off[i] >= '0' && off[i] <= '9' && i < 20; i++)
        offset = offset * 10 + (uint64_t)(off[i] - '0');
    report(c, DH_ERR_IO, file ? file : "", file ? flen : 0, offset, "not delivered",
           rd_kafka_err2str(m->err));
}

static void on_kafka_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    produce_ctx *c = opaque;
    char fatal_why[256];
    if (c->checking && err != RD_KAFKA_RESP_ERR__FATAL) {
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
            c->all_down = 1;
        else /* the connection's own reason (refused, unresolved, TLS...) says more */
            snprintf(c->check_why, sizeof c->check_why, "%s", reason);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(rk, fatal_why, sizeof fatal_why);
        c->fatal = 1;
        reason = fatal_why;
    }
    int64_t t = now_ms();
    size_t slot = 0; /* this code's, else the oldest */
    for (size_t i = 0; i < ERR_KINDS; i++) {
        if (c->err_code[i] == err && c->err_ms[i]) {
            slot = i;
            break;
        }
        if (c->err_ms[i] < c->err_ms[slot])
            slot = i;
    }
    if (!c->fatal && c->err_code[slot] == err && c->err_ms[slot] &&
        t - c->err_ms[slot] < ERR_EVERY_MS)
        return;
    c->err_code[slot] = err;
    c->err_ms[slot] = t;
    report(c, c->fatal ? DH_ERR_IO : DH_OK, c->brokers, strlen(c->brokers), 0,
           c->fatal ? "kafka: fatal" : "kafka", reason);
}

static void drop_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)level;
    (void)fac;
    (void)buf;
}

/* ---- workers: each event into its frame ---------------------------------------- */

/* A frame in a unit's output: u32 host length, host, u32 file length, file, u64 offset,
 * u32 value length, value (the JSON object without its newline). */
static dh_status put_str(dh_buf *b, const char *s, size_t n)
{
    uint32_t n32 = (uint32_t)n;
    if (n > UINT32_MAX)
        return DH_ERR_LIMIT;
    dh_buf_append(b, &n32, 4);
    return dh_buf_append(b, s, n);
}

static dh_status frame_event(void *wctx, const dh_event *ev, dh_buf *out)
{
    (void)wctx;
    dh_str host = dh_event_host(ev), file = dh_event_file_str(ev);
    uint64_t offset = dh_event_offset(ev);
    put_str(out, host.ptr, host.len);
    put_str(out, file.ptr, file.len);
    dh_buf_append(out, &offset, 8);
    size_t at = out->len;
    uint32_t zero = 0;
    dh_buf_append(out, &zero, 4);
    dh_status st = dh_json_event(out, ev, 0);
    if (st == DH_OK && dh_buf_status(out) == DH_OK) {
        size_t n = out->len - at - 4;
        if (n && out->data[out->len - 1] == '\n') {
            out->len--;
            n--;
        }
        uint32_t n32 = (uint32_t)n;
        memcpy(out->data + at, &n32, 4);
    }
    return st != DH_OK ? st : dh_buf_status(out);
}

/* ---- the calling thread: frames to librdkafka, in input order ------------------- */

static int get_u32(const char **p, const char *end, uint32_t *v)
{
    if ((size_t)(end - *p) < 4)
        return -1;
    memcpy(v, *p, 4);
    *p += 4;
    return (size_t)(end - *p) < *v ? -1 : 0;
}

static dh_status send_one(produce_ctx *c, const char *host, uint32_t hlen, const char *file,
                          uint32_t flen, uint64_t offset, const char *val, uint32_t vlen)
{
    char off[24];
    int ol = snprintf(off, sizeof off, "%llu", (unsigned long long)offset);
    const void *key = hlen ? host : NULL; /* no host: no key (any partition) */
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            c->rk, RD_KAFKA_V_TOPIC(c->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, hlen), RD_KAFKA_V_VALUE((void *)val, vlen),
            RD_KAFKA_V_HEADER(HDR_FILE, file, (ssize_t)flen),
            RD_KAFKA_V_HEADER(HDR_OFFSET, off, (ssize_t)ol),
            RD_KAFKA_V_HEADER(HDR_NAME, file, (ssize_t)flen), RD_KAFKA_V_END);
        if (!err)
            return DH_OK;
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            /* librdkafka holds as much as queue.buffering.max.*: wait for deliveries. */
            rd_kafka_poll(c->rk, 100);
            progress(c, 0);
            if (c->fatal)
                return DH_ERR_IO;
            continue;
        }
        c->failed++;
        report(c, DH_ERR_IO, file, flen, offset, "not sent", rd_kafka_err2str(err));
        return c->fatal || err == RD_KAFKA_RESP_ERR__FATAL ? DH_ERR_IO : DH_OK;
    }
}

static dh_status emit_frames(void *ctx, const char *bytes, size_t len)
{
    produce_ctx *c = ctx;
    const char *p = bytes, *end = bytes + len;
    while (p < end) {
        uint32_t hl, fl, vl;
        uint64_t offset;
        const char *host, *file;
        if (get_u32(&p, end, &hl))
            return DH_ERR_FORMAT; /* our own framing: cannot happen */
        host = p;
        p += hl;
        if (get_u32(&p, end, &fl))
            return DH_ERR_FORMAT;
        file = p;
        p += fl;
        if ((size_t)(end - p) < 8)
            return DH_ERR_FORMAT;
        memcpy(&offset, p, 8);
        p += 8;
        if (get_u32(&p, end, &vl))
            return DH_ERR_FORMAT;
        c->counts.events_in++;
        dh_status st = send_one(c, host, hl, file, fl, offset, p, vl);
        p += vl;
        if (st != DH_OK)
            return st;
    }
    rd_kafka_poll(c->rk, 0);
    return c->fatal ? DH_ERR_IO : DH_OK;
}

static void scan_error(void *ctx, const dh_error *err)
{
    produce_ctx *c = ctx;
    if (c->sink && c->sink->on_error)
        c->sink->on_error(c->sink->ctx, err);
}

static void scan_progress(void *ctx, uint64_t done, uint64_t total)
{
    (void)done;
    (void)total;
    produce_ctx *c = ctx;
    rd_kafka_poll(c->rk, 0);
    progress(c, 0);
}

static const char *get_key(const dh_stream_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->nkafka; i++)
        if (!strcmp(cfg->kafka_keys[i], key))
            return cfg->kafka_values[i];
    return NULL;
}

static int has_key(const dh_stream_config *cfg, const char *key)
{
    return get_key(cfg, key) != NULL;
}

/* The producer: the config's properties, then what produce needs. */
static rd_kafka_t *make_producer(const dh_stream_config *cfg, produce_ctx *c)
{
    char why[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf)
        return NULL;
    for (size_t i = 0; i < cfg->nkafka; i++)
        if (rd_kafka_conf_set(conf, cfg->kafka_keys[i], cfg->kafka_values[i], why, sizeof why)) {
            report(c, DH_ERR_ARG, "kafka", 5, 0, cfg->kafka_keys[i], why);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    if (rd_kafka_conf_set(conf, "enable.idempotence", "true", why, sizeof why) ||
        (!has_key(cfg, "message.timeout.ms") && !has_key(cfg, "delivery.timeout.ms") &&
         rd_kafka_conf_set(conf, "message.timeout.ms", MESSAGE_TIMEOUT_MS, why, sizeof why)) ||
        (!has_key(cfg, "client.id") &&
         rd_kafka_conf_set(conf, "client.id", "dcomhunt-produce", why, sizeof why))) {
        report(c, DH_ERR_ARG, "kafka", 5, 0, "producer", why);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_kafka_error);
    rd_kafka_conf_set_log_cb(conf, drop_log);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        report(c, DH_ERR_ARG, "kafka", 5, 0, "producer", why);
    }
    return rk;
}

/* The cluster answers a metadata request for the topic within CONNECT_MS (or
 * message.timeout.ms when shorter); when every broker is down (connection refused, name
 * not resolved) it fails at once. DH_OK, or DH_ERR_IO said to the sink naming the
 * brokers. */
static dh_status check_cluster(const dh_stream_config *cfg, produce_ctx *c)
{
    int64_t limit = CONNECT_MS;
    const char *mt = get_key(cfg, "message.timeout.ms");
    if (!mt)
        mt = get_key(cfg, "delivery.timeout.ms");
    if (mt) {
        long long v = strtoll(mt, NULL, 10);
        if (v > 0 && v < limit)
            limit = v;
    }
    rd_kafka_topic_t *t = rd_kafka_topic_new(c->rk, c->topic, NULL);
    if (!t) {
        report(c, DH_ERR_ARG, "kafka", 5, 0, "topic", rd_kafka_err2str(rd_kafka_last_error()));
        return DH_ERR_ARG;
    }
    c->checking = 1;
    int64_t until = now_ms() + limit;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    for (;;) {
        const struct rd_kafka_metadata *md = NULL;
        int64_t left = until - now_ms();
        err = rd_kafka_metadata(c->rk, 0, t, &md, (int)(left < 250 ? (left > 0 ? left : 1) : 250));
        if (md)
            rd_kafka_metadata_destroy(md);
        rd_kafka_poll(c->rk, 0); /* the error callback: every broker down? */
        if (!err || c->all_down || c->fatal || now_ms() >= until)
            break;
    }
    c->checking = 0;
    rd_kafka_topic_destroy(t);
    if (!err)
        return DH_OK;
    char why[512];
    if (c->all_down)
        snprintf(why, sizeof why, "no broker reachable (%s)",
                 c->check_why[0] ? c->check_why : "every broker is down");
    else
        snprintf(why, sizeof why, "no broker answered within %lld ms (%s)", (long long)limit,
                 c->check_why[0] ? c->check_why : rd_kafka_err2str(err));
    report(c, DH_ERR_IO, c->brokers, strlen(c->brokers), 0, "cluster", why);
    return DH_ERR_IO;
}

dh_status dh_stream_produce(const dh_stream_config *cfg, const char *topic,
                            const char *const *paths, size_t npaths, const dh_stream_sink *sink,
                            uint64_t *sent)
{
    if (sent)
        *sent = 0;
    if (!cfg || !topic || !*topic || !paths || !npaths)
        return DH_ERR_ARG;
    produce_ctx c = {.topic = topic, .sink = sink};
    c.counts.lag = 0;
    /* librdkafka's in-process mock cluster (test.mock.num.brokers) needs no brokers. */
    if (!(c.brokers = get_key(cfg, "bootstrap.servers")) &&
        !(c.brokers = get_key(cfg, "metadata.broker.list")) &&
        !(c.brokers = has_key(cfg, "test.mock.num.brokers") ? "mock cluster" : NULL)) {
        report(&c, DH_ERR_ARG, "kafka", 5, 0, "producer", "no bootstrap.servers: name the brokers");
        return DH_ERR_ARG;
    }
    if (!(c.rk = make_producer(cfg, &c)))
        return DH_ERR_ARG;
    dh_status cst = check_cluster(cfg, &c);
    if (cst != DH_OK) {
        rd_kafka_destroy(c.rk);
        return cst;
    }
    dh_scan_opts opts;
    dh_scan_opts_init(&opts);
    opts.want_system = 1; /* as dump writes them: the reader gets the event whole */
    dh_scan_callbacks cb = {
        .ctx = &c,
        .on_event = frame_event,
        .emit = emit_frames,
        .on_error = scan_error,
        .on_progress = scan_progress,
    };
    dh_scan_stats stats;
    dh_status st = dh_scan_run(paths, npaths, &opts, &cb, &stats);
    /* Every message handed over is delivered or has failed before we return. A broker
     * that never answers fails them at message.timeout.ms, so this ends. */
    while (rd_kafka_outq_len(c.rk) > 0 && !c.fatal) {
        rd_kafka_flush(c.rk, FLUSH_STEP_MS);
        progress(&c, 0);
    }
    if (c.fatal) {
        /* The idempotent producer cannot go on: what is still queued is not delivered. */
        rd_kafka_purge(c.rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(c.rk, FLUSH_STEP_MS);
    }
    progress(&c, 1);
    rd_kafka_destroy(c.rk);
    if (sent)
        *sent = c.delivered;
    if ((c.failed || c.fatal) && (st == DH_OK || st == DH_ERR_FORMAT))
        st = DH_ERR_IO;
    return st;
}
