/* The test cluster of mock.h. */
#include "mock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct dh_kt {
    rd_kafka_t *rk; /* producer for test input; owns the mock cluster */
    rd_kafka_mock_cluster_t *mock;
    rd_kafka_t *owner; /* the handle the mock cluster was made with: lives as long */
    char bootstrap[512];
    char run[64]; /* a real broker: the prefix making this run's topics its own */
    char *keys[8], *values[8];
};

dh_kt *dh_kt_start(void)
{
    dh_kt *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    char errstr[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    const char *broker = getenv("DCOMHUNT_KAFKA");
    if (broker && *broker) {
        snprintf(k->bootstrap, sizeof k->bootstrap, "%s", broker);
        snprintf(k->run, sizeof k->run, "dh%ld-%ld-", (long)time(NULL), (long)getpid());
        rd_kafka_conf_set(c, "bootstrap.servers", broker, errstr, sizeof errstr);
    }
    rd_kafka_conf_set(c, "message.max.bytes", "16000000", errstr, sizeof errstr);
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof errstr);
    if (!k->rk) {
        free(k);
        return NULL;
    }
    if (!broker || !*broker) {
        k->mock = rd_kafka_mock_cluster_new(k->rk, 3);
        if (!k->mock) {
            rd_kafka_destroy(k->rk);
            free(k);
            return NULL;
        }
        snprintf(k->bootstrap, sizeof k->bootstrap, "%s",
                 rd_kafka_mock_cluster_bootstraps(k->mock));
        /* the test producer reaches the cluster like any client */
        k->owner = k->rk;
        k->rk = NULL;
        c = rd_kafka_conf_new();
        rd_kafka_conf_set(c, "bootstrap.servers", k->bootstrap, errstr, sizeof errstr);
        rd_kafka_conf_set(c, "message.max.bytes", "16000000", errstr, sizeof errstr);
        k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof errstr);
    }
    return k;
}

rd_kafka_mock_cluster_t *dh_kt_mock(dh_kt *k)
{
    return k->mock;
}

const char *dh_kt_bootstrap(dh_kt *k)
{
    return k->bootstrap;
}

int dh_kt_topic(dh_kt *k, const char *base, int partitions, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s", k->run, base);
    if (k->mock)
        return rd_kafka_mock_topic_create(k->mock, out, partitions, 3) ? -1 : 0;
    rd_kafka_NewTopic_t *t = rd_kafka_NewTopic_new(out, partitions, 1, NULL, 0);
    rd_kafka_queue_t *q = rd_kafka_queue_new(k->rk);
    rd_kafka_CreateTopics(k->rk, &t, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    int rc = ev ? 0 : -1;
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(t);
    return rc;
}

int dh_kt_produce(dh_kt *k, const char *topic, const char *key, const void *value, size_t len,
                  const char *header, const char *header_value)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(1);
    if (header)
        rd_kafka_header_add(h, header, -1, header_value, -1);
    rd_kafka_resp_err_t e = rd_kafka_producev(
        k->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
        RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
    if (e) {
        rd_kafka_headers_destroy(h);
        return -1;
    }
    return rd_kafka_flush(k->rk, 30000) ? -1 : 0;
}

int dh_kt_produce_at(dh_kt *k, const char *topic, const char *key, const void *value, size_t len,
                     int64_t timestamp_ms)
{
    rd_kafka_resp_err_t e = rd_kafka_producev(
        k->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
        RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_END);
    if (e)
        return -1;
    return rd_kafka_flush(k->rk, 30000) ? -1 : 0;
}

static char *dup_bytes(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        if (n)
            memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

static int by_place(const void *a, const void *b)
{
    const dh_kt_msg *x = a, *y = b;
    if (x->partition != y->partition)
        return x->partition < y->partition ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

size_t dh_kt_read(dh_kt *k, const char *topic, const char *header, dh_kt_msg **out)
{
    *out = NULL;
    char errstr[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", k->bootstrap, errstr, sizeof errstr);
    rd_kafka_conf_set(c, "isolation.level", "read_committed", errstr, sizeof errstr);
    rd_kafka_conf_set(c, "enable.partition.eof", "true", errstr, sizeof errstr);
    /* never joins (partitions are assigned), but rd_kafka_consumer_poll wants a group */
    rd_kafka_conf_set(c, "group.id", "dcomhunt-test-reader", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, errstr, sizeof errstr);
    if (!rk)
        return 0;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    size_t n = 0, cap = 0;
    dh_kt_msg *v = NULL;
    if (!rd_kafka_metadata(rk, 0, t, &md, 10000) && md->topic_cnt && !md->topics[0].err) {
        rd_kafka_topic_partition_list_t *a = rd_kafka_topic_partition_list_new(4);
        int waiting = 0;
        for (int i = 0; i < md->topics[0].partition_cnt; i++) {
            int64_t lo, hi;
            int32_t id = md->topics[0].partitions[i].id;
            rd_kafka_resp_err_t qe =
                rd_kafka_query_watermark_offsets(rk, topic, id, &lo, &hi, 10000);
            if (getenv("DH_TEST_VERBOSE"))
                fprintf(stderr, "%s[%d]: %s %lld..%lld\n", topic, (int)id, rd_kafka_err2str(qe),
                        (long long)lo, (long long)hi);
            if (qe || hi <= lo)
                continue;
            rd_kafka_topic_partition_list_add(a, topic, id)->offset = RD_KAFKA_OFFSET_BEGINNING;
            waiting++;
        }
        rd_kafka_assign(rk, a);
        time_t until = time(NULL) + 30;
        while (waiting > 0 && time(NULL) < until) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
            if (!m)
                continue;
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                waiting--;
            } else if (!m->err) {
                if (n == cap) {
                    cap = cap ? cap * 2 : 64;
                    v = realloc(v, cap * sizeof *v);
                }
                dh_kt_msg *x = &v[n++];
                memset(x, 0, sizeof *x);
                x->key = dup_bytes(m->key, m->key_len);
                x->key_len = m->key_len;
                x->value = dup_bytes(m->payload, m->len);
                x->len = m->len;
                x->partition = m->partition;
                x->offset = m->offset;
                rd_kafka_headers_t *h = NULL;
                const void *hv;
                size_t hn;
                if (header && !rd_kafka_message_headers(m, &h) &&
                    !rd_kafka_header_get_last(h, header, &hv, &hn))
                    x->header = dup_bytes(hv, hn);
            }
            rd_kafka_message_destroy(m);
        }
        rd_kafka_topic_partition_list_destroy(a);
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (n)
        qsort(v, n, sizeof *v, by_place);
    *out = v;
    return n;
}

void dh_kt_msgs_free(dh_kt_msg *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].key);
        free(m[i].value);
        free(m[i].header);
    }
    free(m);
}

void dh_kt_config(dh_kt *k, dh_stream_config *cfg)
{
    static const char *const keys[] = {
        "bootstrap.servers",      "session.timeout.ms", "heartbeat.interval.ms",
        "transaction.timeout.ms", "message.max.bytes",  "topic.metadata.refresh.interval.ms"};
    const char *values[] = {k->bootstrap, "3000", "300", "10000", "16000000", "1000"};
    for (size_t i = 0; i < 6; i++) {
        k->keys[i] = (char *)keys[i];
        k->values[i] = (char *)values[i];
    }
    cfg->kafka_keys = k->keys;
    cfg->kafka_values = k->values;
    cfg->nkafka = 6;
}

void dh_kt_stop(dh_kt *k)
{
    if (!k)
        return;
    if (k->rk) {
        rd_kafka_flush(k->rk, 5000);
        rd_kafka_destroy(k->rk);
    }
    if (k->mock)
        rd_kafka_mock_cluster_destroy(k->mock);
    if (k->owner)
        rd_kafka_destroy(k->owner);
    free(k);
}
