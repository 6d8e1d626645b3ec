/* What the files of src/stream/ share: the stream handle, the stage-2 partition state and
 * the calls between the transaction loop (stream.c), stage 1 (stage1.c) and stage 2
 * (stage2.c). Not a public interface. */
#ifndef DH_STREAM_IMPL_H
#define DH_STREAM_IMPL_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "core/buf.h"
#include "dcomhunt/stream.h"
#include "stream/metrics.h"
#include "stream/idset.h"
#include "stream/key.h"
#include "stream/wire.h"

/* Message headers dcomhunt writes and reads (docs/stream.md). */
#define DH_HDR_NAME   "dcomhunt-name"   /* input: the name evidence and errors carry */
#define DH_HDR_ORIGIN "dcomhunt-origin" /* candidate / dead letter: topic/partition@offset[#n] */
#define DH_HDR_REASON "dcomhunt-reason" /* dead letter: why the message was refused */

/* Where a test may make dh_stream_run return as if the process died (nothing more is
 * produced, committed or aborted): tests/stream/ uses it to kill an instance. */
typedef enum dh_stream_kill {
    DH_KILL_NONE = 0,
    DH_KILL_MID_BATCH,      /* after the nth message of a transaction is processed */
    DH_KILL_BEFORE_OFFSETS, /* output produced and flushed, offsets not yet sent */
    DH_KILL_BEFORE_COMMIT,  /* offsets sent to the transaction, not committed */
    DH_KILL_FINDINGS,       /* findings produced and delivered, the transaction not committed */
} dh_stream_kill;

/* A candidate stage 2 holds behind the watermark. */
typedef struct s2_pending {
    int64_t time;
    uint64_t seq; /* arrival order: ties in time keep it */
    dh_wire_cand c;
    int64_t offset; /* stage2.c (s23-B): the message's offset, for the commit offset */
} s2_pending;

/* One candidates partition this instance owns. */
typedef struct s2_part {
    int32_t partition;
    dh_engine *eng;   /* the open windows (a findings-mode engine); NULL: none */
    s2_pending *heap; /* behind the watermark, a min-heap by (time, seq) */
    size_t nheap, capheap;
    int64_t max_time;     /* newest event time seen (FILETIME ticks); INT64_MIN: none */
    int64_t first_offset; /* the first message the open engine holds; -1: none */
    int64_t next_offset;  /* the message after the last one consumed; -1: none */
    int64_t last_ms;      /* wall clock of the last message, for the idle close */
    uint64_t seq;
    dh_idset seen; /* candidate origins taken since the partition was assigned */
    /* stage2.c (s23-B): event-time closing and the published ids' eviction */
    int64_t eng_newest;             /* newest time given to the open engine; INT64_MIN: none */
    int64_t flushed_mark;           /* the watermark at the engine's last flush */
    uint64_t gen;                   /* the open engine's generation (s->s2_gen when made) */
    uint64_t safe_gen, pending_gen; /* ids below these no rebuild reproduces (committed, staged) */
} s2_part;

struct dh_stream {
    const dh_stream_config *cfg;
    const dh_ruleset *rs;
    dh_tuning *tuning; /* borrowed (dh_stream_set_tuning); NULL: none */
    dh_stream_sink sink;
    const char *candidates_topic, *output_topic, *dead_letter_topic, *group_id;
    rd_kafka_t *consumer, *producer;
    rd_kafka_conf_t *base_conf; /* the user's properties, copied for each handle */
    atomic_int stop;
    pthread_mutex_t lock; /* counts, read by dh_stream_counts_get from any thread */
    dh_stream_counts counts;
    dh_error err;
    int in_txn;
    int64_t txn_start_ms;
    uint64_t txn_messages; /* consumed in the open transaction */
    uint64_t txn_produced; /* produced in it */
    int64_t idle_ms, skew_ticks;
    s2_part *parts;
    size_t nparts;
    dh_idset published; /* finding ids in the output topic (read at assignment) or produced */
    /* stage2.c (s23-B): engine generations (the tag of a published id) and the event-time
     * gap that closes an engine */
    uint64_t s2_gen;
    size_t s2_published_kept; /* ids held after the last eviction */
    int64_t s2_gap_ticks;     /* 0: not computed yet */
    char (*txn_ids)[17];      /* ids produced in the open transaction: forgotten on abort */
    size_t ntxn_ids, captxn_ids;
    dh_buf scratch;
    /* stage 1: one candidates-mode engine for every message (made on the first), and the
     * context its sink reads, set per message */
    dh_engine *s1_eng;
    struct s1_ctx *s1;
    /* stage 1's keys (key.h): the address map, the identities topic that shares it, and
     * the candidates held until a binding for the address they name arrives */
    const char *identities_topic;
    int64_t identity_wait_ms;
    dh_idmap *idmap;
    rd_kafka_t *ids;         /* reads the identities topic whole (assigned, no group) */
    int64_t ids_retry_ms;    /* when to look for its partitions again; -1: assigned */
    struct s1_held *held;    /* in arrival order */
    dh_key_binding *ids_txn; /* bindings produced in the open transaction: again after an abort */
    size_t nids_txn, capids_txn;
    int ids_again;
    size_t nheld, capheld;
    dh_metrics_server *metrics; /* the --metrics endpoint, when asked for */
    uint64_t s1_events_before;  /* events read by stage-1 engines already freed */
    int64_t last_progress_ms;
    /* tests */
    dh_stream_kill kill_at;
    uint64_t kill_after, kill_seen;
    int killed;
};

/* tests/stream/: dh_stream_run returns DH_ERR_CANCELLED at that point, the nth time it is
 * reached, and dh_stream_free then leaves like a killed process (no leave, no commit). */
void dh_stream_test_kill(dh_stream *s, dh_stream_kill at, uint64_t nth);
/* tests/stream/: stage 2 closes a partition's windows after this much quiet (ms). */
void dh_stream_test_idle(dh_stream *s, int64_t idle_ms);

int64_t dh_stream_now_ms(void);
void dh_stream_count(dh_stream *s, uint64_t *field, uint64_t by);
void dh_stream_report(dh_stream *s, dh_status st, const char *file, uint64_t offset,
                      const char *fmt, ...);
/* Produces inside the open transaction; waits while the queue is full. */
dh_status dh_stream_produce_msg(dh_stream *s, const char *topic, const void *key, size_t keylen,
                                const void *value, size_t len, rd_kafka_headers_t *hdrs);
/* Sends a message to the dead-letter topic with the reason; counts it as malformed. */
void dh_stream_dead_letter(dh_stream *s, const rd_kafka_message_t *m, const char *reason);
/* emit.c (s23-B): the cluster answers a metadata request within DH_STREAM_REACH_MS, or
 * s->err names the brokers and DH_ERR_IO is returned: a stream pointed at no broker says
 * so at start instead of waiting in the transaction setup. */
#define DH_STREAM_REACH_MS 10000
dh_status dh_stream_reach(dh_stream *s, rd_kafka_t *rk);
/* "topic/partition@offset" of a message. */
void dh_stream_origin(const rd_kafka_message_t *m, char *out, size_t cap);

/* stage1.c: one input message. */
void dh_stage1_take(dh_stream *s, const rd_kafka_message_t *m);
/* counts.events_in brought up to date from the stage-1 engine. */
void dh_stage1_count(dh_stream *s);
/* The stage-1 engine and its context, freed. */
void dh_stage1_free(dh_stream *s);

/* Before a commit and at each turn of the loop: bindings read from the identities topic,
 * held candidates released (resolved, or waited long enough: keyed by the address). */
void dh_stage1_tick(dh_stream *s, int64_t now_ms);
/* The first offset of a held candidate's message in that input partition, -1 when none:
 * a commit stores no offset past it, so a new owner reads the message again. */
int64_t dh_stage1_floor(dh_stream *s, const char *topic, int32_t partition);
/* Forgets the held candidates (revoked, or the transaction aborted: their messages are
 * read again from the committed offsets). */
void dh_stage1_drop(dh_stream *s);
/* identities.c: the identities topic. */
dh_status dh_ids_open(dh_stream *s);
void dh_ids_poll(dh_stream *s, int64_t now_ms);
void dh_ids_publish(dh_stream *s, const dh_key_binding *b);
/* After a transaction: committed (its bindings are out) or aborted (they go again). */
void dh_ids_committed(dh_stream *s, int aborted);
/* In the open transaction: the bindings an aborted one took with it, produced again. */
void dh_ids_again(dh_stream *s);
void dh_ids_close(dh_stream *s);

/* stage2.c */
void dh_stage2_take(dh_stream *s, const rd_kafka_message_t *m);
/* Releases what the watermark passed; closes idle partitions (all when closing). */
void dh_stage2_tick(dh_stream *s, int64_t now_ms);
/* The offset a commit may store for a partition: the open window's first message, or the
 * next one when none is open; -1 when nothing was consumed. */
int64_t dh_stage2_commit_offset(dh_stream *s, int32_t partition);
/* Forgets every partition's state (revoked, or the transaction aborted). */
void dh_stage2_drop(dh_stream *s);
/* Reads the finding ids already in the output topic into s->published. */
void dh_stage2_load_published(dh_stream *s);

#endif
