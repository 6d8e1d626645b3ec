/* The identities topic: the address -> host bindings stage 1 learns (key.h), shared by
 * every stage-1 instance. Each instance produces the bindings it learns (key: the address,
 * value: "host time", dh_key_binding_value) in its open transaction, and reads the whole
 * topic with a consumer of its own that joins no group: all partitions assigned from the
 * beginning, so every instance ends up with every binding, whichever input partitions it
 * owns. The topic should be compacted (one message per address survives). A message that
 * is no binding is skipped (counted as malformed, not dead-lettered: nobody acts on it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stream_impl.h"

#define RETRY_MS  1000       /* looking for the topic's partitions again, when it had none */
#define POLL_MAX  4096       /* bindings read per turn of the loop at most */
#define MAP_LIMIT (1u << 17) /* addresses remembered (at most ~1.2 KB each with the table) */

dh_status dh_ids_open(dh_stream *s)
{
    char errstr[512];
    s->idmap = dh_idmap_new(MAP_LIMIT);
    if (!s->idmap)
        return DH_ERR_NOMEM;
    rd_kafka_conf_t *c = rd_kafka_conf_dup(s->base_conf);
    char group[600];
    /* never joins (partitions are assigned), but rd_kafka_consumer_poll wants a group */
    snprintf(group, sizeof group, "%s-identities-reader", s->group_id);
    if (rd_kafka_conf_set(c, "group.id", group, errstr, sizeof errstr) ||
        rd_kafka_conf_set(c, "enable.auto.commit", "false", errstr, sizeof errstr) ||
        rd_kafka_conf_set(c, "isolation.level", "read_committed", errstr, sizeof errstr)) {
        rd_kafka_conf_destroy(c);
        return DH_ERR_ARG;
    }
    s->ids = rd_kafka_new(RD_KAFKA_CONSUMER, c, errstr, sizeof errstr);
    if (!s->ids) {
        rd_kafka_conf_destroy(c);
        return DH_ERR_ARG;
    }
    s->ids_retry_ms = 0;
    return DH_OK;
}

/* Every partition of the topic, from the beginning; 0 when the topic has none (yet). */
static int assign_all(dh_stream *s)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(s->ids, s->identities_topic, NULL);
    int n = 0;
    if (t && rd_kafka_metadata(s->ids, 0, t, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topic_cnt && !md->topics[0].err && md->topics[0].partition_cnt > 0) {
        rd_kafka_topic_partition_list_t *a =
            rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
        for (int i = 0; i < md->topics[0].partition_cnt; i++)
            rd_kafka_topic_partition_list_add(a, s->identities_topic,
                                              md->topics[0].partitions[i].id)
                ->offset = RD_KAFKA_OFFSET_BEGINNING;
        n = rd_kafka_assign(s->ids, a) == RD_KAFKA_RESP_ERR_NO_ERROR ? a->cnt : 0;
        rd_kafka_topic_partition_list_destroy(a);
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    if (t)
        rd_kafka_topic_destroy(t);
    return n;
}

void dh_ids_poll(dh_stream *s, int64_t now_ms)
{
    if (!s->ids)
        return;
    if (s->ids_retry_ms >= 0) {
        if (now_ms < s->ids_retry_ms)
            return;
        s->ids_retry_ms = assign_all(s) ? -1 : now_ms + RETRY_MS;
        if (s->ids_retry_ms >= 0)
            return;
    }
    for (int i = 0; i < POLL_MAX; i++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->ids, 0);
        if (!m)
            break;
        dh_key_binding b;
        if (!m->err) {
            if (dh_key_binding_parse(m->key, m->key_len, m->payload, m->len, &b))
                dh_idmap_bind(s->idmap, &b);
            else
                dh_stream_count(s, &s->counts.malformed, 1);
        }
        rd_kafka_message_destroy(m);
    }
}

/* Remembered until the transaction commits: an aborted one takes the binding with it,
 * while the map keeps it (and would not publish it again). */
static void remember(dh_stream *s, const dh_key_binding *in)
{
    dh_key_binding b = *in; /* in may be an element of ids_txn itself (dh_ids_again) */
    if (s->nids_txn == s->capids_txn) {
        size_t cap = s->capids_txn ? s->capids_txn * 2 : 16;
        dh_key_binding *v = realloc(s->ids_txn, cap * sizeof *v);
        if (!v)
            return;
        s->ids_txn = v;
        s->capids_txn = cap;
    }
    s->ids_txn[s->nids_txn++] = b;
}

void dh_ids_publish(dh_stream *s, const dh_key_binding *b)
{
    char v[DH_KEY_CAP + 32];
    size_t n = dh_key_binding_value(b, v, sizeof v);
    if (n && dh_stream_produce_msg(s, s->identities_topic, b->addr, strlen(b->addr), v, n, NULL) ==
                 DH_OK)
        remember(s, b);
}

void dh_ids_committed(dh_stream *s, int aborted)
{
    if (!aborted) {
        s->nids_txn = 0;
        return;
    }
    s->ids_again = 1;
}

void dh_ids_again(dh_stream *s)
{
    if (!s->ids_again)
        return;
    s->ids_again = 0;
    size_t n = s->nids_txn;
    s->nids_txn = 0;
    for (size_t i = 0; i < n; i++)
        dh_ids_publish(s, &s->ids_txn[i]); /* appends behind: index i is read first */
}

void dh_ids_close(dh_stream *s)
{
    if (s->ids) {
        rd_kafka_consumer_close(s->ids);
        rd_kafka_destroy(s->ids);
    }
    s->ids = NULL;
    dh_idmap_free(s->idmap);
    s->idmap = NULL;
    free(s->ids_txn);
    s->ids_txn = NULL;
    s->nids_txn = s->capids_txn = 0;
}
