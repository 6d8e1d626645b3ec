/* A Kafka cluster for tests of dcomhunt stream: librdkafka's mock cluster with three
 * brokers started in the test process, or, when the environment variable DCOMHUNT_KAFKA
 * names a broker ("host:port"), that broker (topics then get a name unique to the run and
 * are created with the admin API). Also: producing test input, reading a topic whole and
 * the Kafka properties a dh_stream_config needs to reach the cluster. */
#ifndef DH_TESTS_STREAM_MOCK_H
#define DH_TESTS_STREAM_MOCK_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stddef.h>

#include "dcomhunt/stream.h"

typedef struct dh_kt dh_kt;

typedef struct dh_kt_msg {
    char *key, *value; /* NUL-terminated copies */
    size_t key_len, len;
    int32_t partition;
    int64_t offset;
    char *header; /* the value of the header asked for, or NULL */
} dh_kt_msg;

/* Starts (or reaches) the cluster; NULL when it cannot. */
dh_kt *dh_kt_start(void);
/* The mock cluster, or NULL against a real broker. */
rd_kafka_mock_cluster_t *dh_kt_mock(dh_kt *k);
const char *dh_kt_bootstrap(dh_kt *k);
/* Creates a topic with that many partitions; out receives its name (base, made unique
 * against a real broker). 0 on success. */
int dh_kt_topic(dh_kt *k, const char *base, int partitions, char *out, size_t cap);
/* Produces one message (and waits for it); header may be NULL. 0 on success. */
int dh_kt_produce(dh_kt *k, const char *topic, const char *key, const void *value, size_t len,
                  const char *header, const char *header_value);
/* As dh_kt_produce, with the message's timestamp (ms since 1970) and no header. */
int dh_kt_produce_at(dh_kt *k, const char *topic, const char *key, const void *value, size_t len,
                     int64_t timestamp_ms);
/* Every message now in the topic (read_committed), in partition then offset order; with
 * each the last value of header when it is not NULL. Returns how many; *out is freed with
 * dh_kt_msgs_free. */
size_t dh_kt_read(dh_kt *k, const char *topic, const char *header, dh_kt_msg **out);
void dh_kt_msgs_free(dh_kt_msg *m, size_t n);
/* Fills cfg's Kafka properties (bootstrap.servers and short timeouts for tests). The
 * arrays are static to k. */
void dh_kt_config(dh_kt *k, dh_stream_config *cfg);
void dh_kt_stop(dh_kt *k);

#endif
