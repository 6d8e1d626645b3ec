/* dcomhunt: continuous detection on Kafka (`dcomhunt stream`) and loading files into it
 * (`dcomhunt produce`), built on librdkafka. docs/stream.md describes the topics, the two
 * stages and the guarantees.
 *
 * Two stages, both scaled by the consumer group:
 *  - stage 1 consumes the input topics (any partitioning), reads each message as the
 *    engine reads a buffer (format sniffed per message), matches, and produces the events
 *    correlation needs (dh_candidate, DH_ENGINE_CANDIDATES) to the candidates topic, keyed
 *    by the correlation key (the host the event belongs to; source-side events by the host
 *    they name);
 *  - stage 2 consumes the candidates topic, correlates per partition with event time, a
 *    watermark per partition and the batch skew tolerance, and produces findings (JSON
 *    lines or OCSF, keyed by finding id) to the output topic.
 * Both run consume-transform-produce in Kafka transactions: the input offsets are
 * committed in the transaction that holds the output, so a finding is published once
 * even when an instance dies mid-window.
 *
 *     dh_stream_config *cfg;
 *     dh_error err;
 *     if (dh_stream_config_load("stream.yml", &cfg, &err) == DH_OK &&
 *         dh_stream_new(cfg, ruleset, &sink, &s) == DH_OK)
 *         st = dh_stream_run(s); // until dh_stream_stop (a SIGTERM handler may call it)
 *     dh_stream_free(s);
 *     dh_stream_config_free(cfg);
 *
 * Ownership: the caller frees what it creates (every _free accepts NULL). The config and
 * the ruleset are borrowed until dh_stream_free. What a sink callback receives is
 * borrowed for the call. The library never prints: progress and problems go to the sink. */
#ifndef DCOMHUNT_STREAM_H
#define DCOMHUNT_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/engine.h"
#include "dcomhunt/finding.h"
#include "dcomhunt/rules.h"
#include "dcomhunt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which stages one process runs. */
enum { DH_STREAM_STAGE1 = 1, DH_STREAM_STAGE2 = 2, DH_STREAM_BOTH = 3 };

/* The message format of the input topics. */
typedef enum dh_stream_format {
    DH_STREAM_AUTO = 0,  /* sniffed per message, as the engine sniffs a buffer */
    DH_STREAM_ECS,       /* Winlogbeat / ECS documents */
    DH_STREAM_NXLOG,     /* NXLog / OTRF JSON */
    DH_STREAM_DEFENDER,  /* Defender rows (Advanced Hunting / streaming API JSON) */
    DH_STREAM_EVENTHUBS, /* the Event Hubs envelope {"records":[...]} */
    DH_STREAM_XML,       /* event XML */
} dh_stream_format;

/* A stream's settings, as dh_stream_config_load reads them from a file (docs/stream.md).
 * Every string is owned by the config. */
typedef struct dh_stream_config {
    /* librdkafka properties passed through as given (bootstrap.servers,
     * security.protocol, sasl.mechanism, sasl.username, sasl.password, ...). */
    char **kafka_keys, **kafka_values;
    size_t nkafka;
    char **input_topics;
    size_t ninput_topics;
    char *group_id;         /* the consumer group; default "dcomhunt" */
    char *candidates_topic; /* stage 1 -> stage 2; default "dcomhunt-candidates" */
    char *output_topic;     /* findings; default "dcomhunt-findings" */
    char
        *dead_letter_topic; /* malformed messages with the reason; default "dcomhunt-dead-letter" */
    char *transactional_id; /* this instance's prefix for its transactional ids; default: group +
                               host name + pid */
    dh_stream_format format;
    int ocsf;          /* findings as OCSF instead of dcomhunt's JSON lines */
    char **rule_paths; /* none: the built-in pack */
    size_t nrule_paths;
    char **tuning_paths;
    size_t ntuning_paths;
    int stages;               /* DH_STREAM_STAGE1, _STAGE2 or _BOTH (default) */
    int64_t window_s, skew_s; /* as dh_engine_opts (defaults 300 and 120) */
    char *metrics_addr;       /* "host:port" serving Prometheus text; NULL: none */
    /* address -> host bindings shared by the stage-1 instances (compacted, read whole by
     * each); default "dcomhunt-identities" */
    char *identities_topic;
    /* how long stage 1 holds a candidate naming an address no binding gives yet, before it
     * goes keyed by the address (ms; 0: the default, 2000; negative: never held) */
    int64_t identity_wait_ms;
} dh_stream_config;

/* Reads a config file. On failure *out is NULL and err names the file, line and problem. */
dh_status dh_stream_config_load(const char *path, dh_stream_config **out, dh_error *err);
/* The defaults, with no input topic. */
dh_status dh_stream_config_new(dh_stream_config **out);
void dh_stream_config_free(dh_stream_config *cfg);

/* What a stream has done so far (each a running total). */
typedef struct dh_stream_counts {
    uint64_t messages_in;         /* stage 1: input messages consumed */
    uint64_t events_in;           /* stage 1: events read from them */
    uint64_t candidates_out;      /* stage 1: candidates produced */
    uint64_t candidates_in;       /* stage 2: candidates consumed */
    uint64_t findings_out;        /* stage 2: findings produced */
    uint64_t findings_suppressed; /* stage 2: already published (rebuilt after a move) */
    uint64_t findings_tuned;      /* stage 2: removed by a tuning filter, not produced */
    uint64_t late;                /* stage 2: behind the watermark on arrival (still correlated) */
    uint64_t malformed;           /* messages sent to the dead-letter topic */
    uint64_t transactions;        /* committed */
    uint64_t aborted;             /* transactions aborted (and retried) */
    uint64_t open_windows;        /* stage 2: hosts with a window open now */
    int64_t lag; /* messages behind the end of the assigned partitions; -1 unknown */
} dh_stream_counts;

typedef struct dh_stream_sink {
    void *ctx;
    /* A problem that does not stop the stream (a malformed message, a retried
     * transaction, a partition moved). */
    void (*on_error)(void *ctx, const dh_error *err);
    /* Now and then (about once a second): the counts so far. */
    void (*on_progress)(void *ctx, const dh_stream_counts *c);
} dh_stream_sink;

typedef struct dh_stream dh_stream;

/* rs: a finished ruleset, borrowed. sink may be NULL. When the handle was made but could
 * not start (a Kafka property librdkafka refuses, no broker answering the transaction
 * setup) the status says so and *out is still set, so dh_stream_error names the problem:
 * free it. */
dh_status dh_stream_new(const dh_stream_config *cfg, const dh_ruleset *rs,
                        const dh_stream_sink *sink, dh_stream **out);
/* The tuning filters stage 2 applies (dcomhunt/finding.h, docs/tuning.md): a finding a
 * filter removes is not produced, and is counted in findings_tuned. t is borrowed until
 * dh_stream_free, used by the thread that runs dh_stream_run only; NULL applies none. Set
 * before dh_stream_run. */
void dh_stream_set_tuning(dh_stream *s, dh_tuning *t);
/* Consumes until dh_stream_stop, then drains: what was read is produced and committed.
 * DH_OK after a stop; another status when the stream could not go on (named in
 * dh_stream_error). */
dh_status dh_stream_run(dh_stream *s);
/* Asks dh_stream_run to drain and return. Async-signal-safe (a flag), from any thread. */
void dh_stream_stop(dh_stream *s);
/* The counts so far; safe from any thread while dh_stream_run runs. */
void dh_stream_counts_get(const dh_stream *s, dh_stream_counts *out);
const dh_error *dh_stream_error(const dh_stream *s);
void dh_stream_free(dh_stream *s);

/* `dcomhunt produce`: files and archives of any format the engine reads, sent as events
 * to a topic (one message per event, keyed by host), so a batch hunt can be spread over a
 * consumer group. Returns as dh_engine_run; *sent counts the messages delivered. */
dh_status dh_stream_produce(const dh_stream_config *cfg, const char *topic,
                            const char *const *paths, size_t npaths, const dh_stream_sink *sink,
                            uint64_t *sent);

/* Prometheus text of the counts (the metrics endpoint's body), appended to out. */
dh_status dh_stream_metrics_text(const dh_stream_counts *c, dh_buf *out);

#ifdef __cplusplus
}
#endif
#endif
