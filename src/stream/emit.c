/* What both stages send and say: a message produced inside the open transaction, a
 * message refused to the dead-letter topic with the reason, the counts and the problems
 * reported to the sink; and the check that the cluster answers at all, before the stream
 * starts (dh_stream_reach). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "stream/stream_impl.h"

int64_t dh_stream_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dh_stream_count(dh_stream *s, uint64_t *field, uint64_t by)
{
    pthread_mutex_lock(&s->lock);
    *field += by;
    pthread_mutex_unlock(&s->lock);
}

void dh_stream_report(dh_stream *s, dh_status st, const char *file, uint64_t offset,
                      const char *fmt, ...)
{
    if (!s->sink.on_error)
        return;
    dh_error e;
    memset(&e, 0, sizeof e);
    e.status = st;
    e.chunk = -1;
    e.offset = offset;
    snprintf(e.file, sizeof e.file, "%s", file ? file : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    s->sink.on_error(s->sink.ctx, &e);
}

void dh_stream_origin(const rd_kafka_message_t *m, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%d@%lld", m->rkt ? rd_kafka_topic_name(m->rkt) : "?", (int)m->partition,
             (long long)m->offset);
}

/* After a stop, how long a full queue is waited for: it drains in that time when the
 * cluster answers; when it does not, the stop must not wait for it forever. */
#define STOP_WAIT_MS 10000

dh_status dh_stream_produce_msg(dh_stream *s, const char *topic, const void *key, size_t keylen,
                                const void *value, size_t len, rd_kafka_headers_t *hdrs)
{
    int64_t stop_at = -1; /* when the wait for room saw the stop */
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            s->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY((void *)key, keylen),
            RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            s->txn_produced++;
            return DH_OK; /* the headers now belong to the message */
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            if (hdrs) /* NULL: no headers; librdkafka does not take NULL */
                rd_kafka_headers_destroy(hdrs);
            dh_stream_report(s, DH_ERR_IO, topic, 0, "producing: %s", rd_kafka_err2str(e));
            return DH_ERR_IO;
        }
        if (atomic_load(&s->stop)) {
            int64_t now = dh_stream_now_ms();
            if (stop_at < 0)
                stop_at = now;
            if (now - stop_at >= STOP_WAIT_MS) {
                /* Given up: this message is not produced, so the transaction must not
                 * commit. Purging what is queued fails those deliveries, which makes the
                 * transaction abortable: its commit fails, it is aborted and its offsets
                 * are not committed; the next run redoes its input. */
                if (hdrs) /* NULL: no headers; librdkafka does not take NULL */
                    rd_kafka_headers_destroy(hdrs);
                rd_kafka_purge(s->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
                rd_kafka_poll(s->producer, 0);
                dh_stream_report(s, DH_ERR_CANCELLED, topic, 0,
                                 "stopping: the producer's queue stayed full for %d s (is the "
                                 "cluster reachable?); the open transaction is abandoned",
                                 STOP_WAIT_MS / 1000);
                return DH_ERR_CANCELLED;
            }
        }
        rd_kafka_poll(s->producer, 100);
    }
}

void dh_stream_dead_letter(dh_stream *s, const rd_kafka_message_t *m, const char *reason)
{
    char origin[1200];
    dh_stream_origin(m, origin, sizeof origin);
    rd_kafka_headers_t *h = rd_kafka_headers_new(2);
    rd_kafka_header_add(h, DH_HDR_REASON, -1, reason, -1);
    rd_kafka_header_add(h, DH_HDR_ORIGIN, -1, origin, -1);
    dh_stream_count(s, &s->counts.malformed, 1);
    dh_stream_report(s, DH_ERR_FORMAT, origin, 0, "to the dead-letter topic: %s", reason);
    dh_stream_produce_msg(s, s->dead_letter_topic, m->key, m->key_len, m->payload, m->len, h);
}

/* The brokers the config names, for messages. */
static const char *brokers_of(const dh_stream_config *cfg)
{
    for (size_t i = 0; i < cfg->nkafka; i++)
        if (!strcmp(cfg->kafka_keys[i], "bootstrap.servers") ||
            !strcmp(cfg->kafka_keys[i], "metadata.broker.list"))
            return cfg->kafka_values[i];
    return "(no bootstrap.servers)";
}

dh_status dh_stream_reach(dh_stream *s, rd_kafka_t *rk)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, NULL, &md, DH_STREAM_REACH_MS);
    if (md)
        rd_kafka_metadata_destroy(md);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        return DH_OK;
    if (s->err.status == DH_OK) {
        s->err.status = DH_ERR_IO;
        s->err.chunk = -1;
        snprintf(s->err.file, sizeof s->err.file, "%s", brokers_of(s->cfg));
        snprintf(s->err.message, sizeof s->err.message,
                 "cluster: no broker answered within %d s (%s)", DH_STREAM_REACH_MS / 1000,
                 rd_kafka_err2str(e));
    }
    return DH_ERR_IO;
}
