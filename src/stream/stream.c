/* The stream handle and its transaction loop: the consumer of the input and candidates
 * topics, the transactional producer, consume-transform-produce in Kafka transactions
 * (the input offsets go into the transaction holding the output), rebalances (a revoked
 * partition's work is committed first) and the stop that drains. What a message becomes
 * is stage1.c's and stage2.c's. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stream/stream_impl.h"

#define TXN_MS       500  /* a transaction commits after this long ... */
#define TXN_MESSAGES 2000 /* ... or this many messages, whichever first */
#define IDLE_MS      5000 /* stage 2 closes a quiet partition's windows after this */

static void fail(dh_stream *s, dh_status st, const char *fmt, const char *detail)
{
    if (s->err.status != DH_OK)
        return;
    s->err.status = st;
    s->err.chunk = -1;
    snprintf(s->err.message, sizeof s->err.message, fmt, detail);
}

/* ---- handles ---------------------------------------------------------------------- */

/* librdkafka's own log lines are not printed: the library never prints; what matters
 * reaches the sink as errors of calls and messages */
static void quiet(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)level;
    (void)fac;
    (void)buf;
}

static rd_kafka_conf_t *conf_for(dh_stream *s)
{
    rd_kafka_conf_t *c = rd_kafka_conf_dup(s->base_conf);
    rd_kafka_conf_set_opaque(c, s);
    return c;
}

static int set(rd_kafka_conf_t *c, const char *k, const char *v, char *errstr, size_t cap)
{
    return rd_kafka_conf_set(c, k, v, errstr, cap) == RD_KAFKA_CONF_OK;
}

static dh_status commit(dh_stream *s);

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    dh_stream *s = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, parts);
        for (int i = 0; i < parts->cnt; i++)
            if (!strcmp(parts->elems[i].topic, s->candidates_topic)) {
                dh_stage2_load_published(s);
                break;
            }
        return;
    }
    /* revoked: what was done is committed, so the next owner starts after it */
    if (!s->killed && s->in_txn)
        commit(s);
    dh_stage2_drop(s);
    dh_stage1_drop(s);
    rd_kafka_assign(rk, NULL);
}

static dh_status make_handles(dh_stream *s)
{
    static atomic_uint instance;
    char errstr[512];
    const dh_stream_config *cfg = s->cfg;
    rd_kafka_conf_t *c = conf_for(s);
    int ok = set(c, "group.id", s->group_id, errstr, sizeof errstr) &&
             set(c, "enable.auto.commit", "false", errstr, sizeof errstr) &&
             set(c, "enable.auto.offset.store", "false", errstr, sizeof errstr) &&
             set(c, "isolation.level", "read_committed", errstr, sizeof errstr) &&
             set(c, "auto.offset.reset", "earliest", errstr, sizeof errstr);
    if (!ok) {
        rd_kafka_conf_destroy(c);
        fail(s, DH_ERR_ARG, "consumer settings: %.200s", errstr);
        return DH_ERR_ARG;
    }
    rd_kafka_conf_set_rebalance_cb(c, on_rebalance);
    s->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, c, errstr, sizeof errstr);
    if (!s->consumer) {
        rd_kafka_conf_destroy(c);
        fail(s, DH_ERR_ARG, "consumer: %.200s", errstr);
        return DH_ERR_ARG;
    }
    rd_kafka_poll_set_consumer(s->consumer);

    char txid[512], host[128] = "host";
    if (cfg->transactional_id) {
        snprintf(txid, sizeof txid, "%s-%u", cfg->transactional_id, atomic_fetch_add(&instance, 1));
    } else {
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = 0;
        snprintf(txid, sizeof txid, "%s-%s-%ld-%u", s->group_id, host, (long)getpid(),
                 atomic_fetch_add(&instance, 1));
    }
    c = conf_for(s);
    if (!set(c, "transactional.id", txid, errstr, sizeof errstr)) {
        rd_kafka_conf_destroy(c);
        fail(s, DH_ERR_ARG, "producer settings: %.200s", errstr);
        return DH_ERR_ARG;
    }
    s->producer = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof errstr);
    if (!s->producer) {
        rd_kafka_conf_destroy(c);
        fail(s, DH_ERR_ARG, "producer: %.200s", errstr);
        return DH_ERR_ARG;
    }
    if (dh_stream_reach(s, s->producer) != DH_OK) /* s23-B: no broker: say so in 10 s */
        return DH_ERR_IO;
    rd_kafka_error_t *e = rd_kafka_init_transactions(s->producer, 30000);
    if (e) {
        fail(s, DH_ERR_IO, "starting transactions: %.200s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return DH_ERR_IO;
    }
    return DH_OK;
}

/* The metrics endpoint's view of the counts (its own thread). */
static void metrics_counts(void *ctx, dh_stream_counts *out)
{
    dh_stream_counts_get(ctx, out);
}

dh_status dh_stream_new(const dh_stream_config *cfg, const dh_ruleset *rs,
                        const dh_stream_sink *sink, dh_stream **out)
{
    if (!out)
        return DH_ERR_ARG;
    *out = NULL;
    if (!cfg || !rs || (cfg->nkafka && (!cfg->kafka_keys || !cfg->kafka_values)))
        return DH_ERR_ARG;
    dh_stream *s = calloc(1, sizeof *s);
    if (!s)
        return DH_ERR_NOMEM;
    s->cfg = cfg;
    s->rs = rs;
    if (sink)
        s->sink = *sink;
    s->candidates_topic = cfg->candidates_topic ? cfg->candidates_topic : "dcomhunt-candidates";
    s->output_topic = cfg->output_topic ? cfg->output_topic : "dcomhunt-findings";
    s->dead_letter_topic = cfg->dead_letter_topic ? cfg->dead_letter_topic : "dcomhunt-dead-letter";
    s->group_id = cfg->group_id ? cfg->group_id : "dcomhunt";
    s->identities_topic = cfg->identities_topic ? cfg->identities_topic : "dcomhunt-identities";
    s->identity_wait_ms = cfg->identity_wait_ms;
    s->idle_ms = IDLE_MS;
    s->skew_ticks = (cfg->skew_s > 0 ? cfg->skew_s : 120) * 10000000LL;
    s->counts.lag = -1;
    pthread_mutex_init(&s->lock, NULL);
    dh_idset_init(&s->published, (size_t)1 << 24);
    dh_buf_init(&s->scratch, (size_t)1 << 30);
    *out = s;
    s->base_conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(s->base_conf, quiet);
    char errstr[512];
    for (size_t i = 0; i < cfg->nkafka; i++)
        if (!set(s->base_conf, cfg->kafka_keys[i], cfg->kafka_values[i], errstr, sizeof errstr)) {
            fail(s, DH_ERR_ARG, "Kafka property: %.200s", errstr);
            return DH_ERR_ARG;
        }
    if ((cfg->stages ? cfg->stages : DH_STREAM_BOTH) & DH_STREAM_STAGE1) {
        dh_status st = dh_ids_open(s);
        if (st != DH_OK) {
            fail(s, st, "the identities topic's reader: %s", dh_status_str(st));
            return st;
        }
    }
    if (cfg->metrics_addr) {
        dh_status st =
            dh_metrics_server_start(cfg->metrics_addr, metrics_counts, s, &s->metrics, &s->err);
        if (st != DH_OK)
            return st;
    }
    return make_handles(s);
}

/* ---- the loop ------------------------------------------------------------------------ */

static int kill_here(dh_stream *s, dh_stream_kill at)
{
    /* only transactions that carry something count: an empty one kills nothing */
    if (s->kill_at != at || s->killed || (!s->txn_messages && !s->txn_produced))
        return 0;
    if (++s->kill_seen < s->kill_after)
        return 0;
    s->killed = 1;
    return 1;
}

/* Offsets to commit: stage 1's positions, stage 2's oldest open window. */
static rd_kafka_topic_partition_list_t *offsets(dh_stream *s)
{
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(s->consumer, &a) || !a)
        return NULL;
    rd_kafka_position(s->consumer, a);
    rd_kafka_topic_partition_list_t *out = rd_kafka_topic_partition_list_new(a->cnt);
    for (int i = 0; i < a->cnt; i++) {
        rd_kafka_topic_partition_t *p = &a->elems[i];
        int64_t off = p->offset;
        if (!strcmp(p->topic, s->candidates_topic)) {
            off = dh_stage2_commit_offset(s, p->partition);
        } else {
            /* not past a held candidate's message: a new owner reads it again */
            int64_t floor = dh_stage1_floor(s, p->topic, p->partition);
            if (floor >= 0 && (off < 0 || floor < off))
                off = floor;
        }
        if (off >= 0)
            rd_kafka_topic_partition_list_add(out, p->topic, p->partition)->offset = off;
    }
    rd_kafka_topic_partition_list_destroy(a);
    return out;
}

/* After an abort: the work of the transaction is redone from the committed offsets. */
static void rewind_to_committed(dh_stream *s)
{
    for (size_t i = 0; i < s->ntxn_ids; i++)
        dh_idset_remove(&s->published, s->txn_ids[i], strlen(s->txn_ids[i]));
    s->ntxn_ids = 0;
    dh_stage2_drop(s);
    dh_stage1_drop(s);
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(s->consumer, &a) || !a)
        return;
    if (!rd_kafka_committed(s->consumer, a, 10000)) {
        for (int i = 0; i < a->cnt; i++)
            if (a->elems[i].offset < 0)
                a->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_error_t *e = rd_kafka_seek_partitions(s->consumer, a, 10000);
        if (e)
            rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(a);
}

/* Commits the open transaction with the offsets; on an abortable failure aborts it and
 * rewinds. DH_OK, or the failure that stops the stream. */
static dh_status commit(dh_stream *s)
{
    if (!s->in_txn)
        return DH_OK;
    /* delivered before the kill point, so "produced, not committed" is what a test sees */
    if (rd_kafka_flush(s->producer, 30000))
        dh_stream_report(s, DH_ERR_IO, s->output_topic, 0, "producing: flush timed out");
    rd_kafka_error_t *e = NULL;
    if (kill_here(s, DH_KILL_BEFORE_OFFSETS) || (s->ntxn_ids && kill_here(s, DH_KILL_FINDINGS)))
        return DH_ERR_CANCELLED;
    rd_kafka_topic_partition_list_t *offs = offsets(s);
    if (offs && offs->cnt) {
        rd_kafka_consumer_group_metadata_t *md = rd_kafka_consumer_group_metadata(s->consumer);
        e = rd_kafka_send_offsets_to_transaction(s->producer, offs, md, 30000);
        rd_kafka_consumer_group_metadata_destroy(md);
    }
    if (!e && kill_here(s, DH_KILL_BEFORE_COMMIT)) {
        rd_kafka_topic_partition_list_destroy(offs);
        return DH_ERR_CANCELLED;
    }
    if (!e)
        e = rd_kafka_commit_transaction(s->producer, 30000);
    dh_status st = DH_OK;
    if (!e) {
        s->in_txn = 0;
        s->ntxn_ids = 0;
        dh_ids_committed(s, 0);
        dh_stream_count(s, &s->counts.transactions, 1);
        /* the same offsets stored plainly: a no-op on a broker, where the transaction
         * stored them; librdkafka 2.0.2's mock cluster ignores transactional offsets */
        if (offs && offs->cnt)
            rd_kafka_commit(s->consumer, offs, 0);
    } else if (rd_kafka_error_txn_requires_abort(e) || rd_kafka_error_is_retriable(e)) {
        dh_stream_report(s, DH_ERR_IO, s->output_topic, 0, "transaction aborted: %s",
                         rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        e = rd_kafka_abort_transaction(s->producer, 30000);
        s->in_txn = 0;
        dh_ids_committed(s, 1);
        dh_stream_count(s, &s->counts.aborted, 1);
        rewind_to_committed(s);
    }
    if (e) {
        if (s->in_txn || rd_kafka_error_is_fatal(e)) {
            fail(s, DH_ERR_IO, "transaction: %.200s", rd_kafka_error_string(e));
            st = DH_ERR_IO;
        }
        rd_kafka_error_destroy(e);
    }
    if (offs)
        rd_kafka_topic_partition_list_destroy(offs);
    return st;
}

static dh_status subscribe(dh_stream *s)
{
    const dh_stream_config *cfg = s->cfg;
    int stages = cfg->stages ? cfg->stages : DH_STREAM_BOTH;
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(4);
    if (stages & DH_STREAM_STAGE1)
        for (size_t i = 0; i < cfg->ninput_topics; i++)
            rd_kafka_topic_partition_list_add(t, cfg->input_topics[i], RD_KAFKA_PARTITION_UA);
    if (stages & DH_STREAM_STAGE2)
        rd_kafka_topic_partition_list_add(t, s->candidates_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e =
        t->cnt ? rd_kafka_subscribe(s->consumer, t) : RD_KAFKA_RESP_ERR__INVALID_ARG;
    rd_kafka_topic_partition_list_destroy(t);
    if (e) {
        fail(s, DH_ERR_ARG, "subscribing: %.200s", rd_kafka_err2str(e));
        return DH_ERR_ARG;
    }
    return DH_OK;
}

static void take(dh_stream *s, rd_kafka_message_t *m)
{
    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            dh_stream_report(s, DH_ERR_IO, m->rkt ? rd_kafka_topic_name(m->rkt) : "", 0,
                             "consuming: %s", rd_kafka_message_errstr(m));
        return;
    }
    s->txn_messages++;
    if (!strcmp(rd_kafka_topic_name(m->rkt), s->candidates_topic))
        dh_stage2_take(s, m);
    else
        dh_stage1_take(s, m);
}

static void progress(dh_stream *s, int64_t now)
{
    if (now - s->last_progress_ms < 1000)
        return;
    s->last_progress_ms = now;
    dh_stage1_count(s);
    size_t open = 0;
    for (size_t i = 0; i < s->nparts; i++)
        open += s->parts[i].eng != NULL;
    /* lag: what the assigned partitions hold past the position, from the high watermarks
     * the fetches last brought (no request here) */
    int64_t lag = -1;
    rd_kafka_topic_partition_list_t *a = NULL;
    if (!rd_kafka_assignment(s->consumer, &a) && a) {
        rd_kafka_position(s->consumer, a);
        for (int i = 0; i < a->cnt; i++) {
            int64_t lo = -1, hi = -1;
            const rd_kafka_topic_partition_t *p = &a->elems[i];
            if (rd_kafka_get_watermark_offsets(s->consumer, p->topic, p->partition, &lo, &hi) ||
                hi < 0)
                continue;
            int64_t pos = p->offset >= 0 ? p->offset : lo;
            lag = (lag < 0 ? 0 : lag) + (hi > pos && pos >= 0 ? hi - pos : 0);
        }
        rd_kafka_topic_partition_list_destroy(a);
    }
    pthread_mutex_lock(&s->lock);
    s->counts.open_windows = open;
    s->counts.lag = lag;
    dh_stream_counts c = s->counts;
    pthread_mutex_unlock(&s->lock);
    if (s->sink.on_progress)
        s->sink.on_progress(s->sink.ctx, &c);
}

dh_status dh_stream_run(dh_stream *s)
{
    if (!s || !s->consumer || !s->producer)
        return DH_ERR_ARG;
    if (s->killed)
        return DH_ERR_CANCELLED;
    dh_status st = subscribe(s);
    while (st == DH_OK && !atomic_load(&s->stop)) {
        int64_t now = dh_stream_now_ms();
        if (!s->in_txn) {
            rd_kafka_error_t *e = rd_kafka_begin_transaction(s->producer);
            if (e) {
                fail(s, DH_ERR_IO, "starting a transaction: %.200s", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
                st = DH_ERR_IO;
                break;
            }
            s->in_txn = 1;
            s->txn_start_ms = now;
            s->txn_messages = s->txn_produced = 0;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->consumer, 100);
        if (s->killed)
            return DH_ERR_CANCELLED; /* killed in a rebalance callback */
        if (m) {
            take(s, m);
            rd_kafka_message_destroy(m);
            if (kill_here(s, DH_KILL_MID_BATCH))
                return DH_ERR_CANCELLED;
        }
        now = dh_stream_now_ms();
        dh_ids_again(s);
        dh_stage1_tick(s, now);
        dh_stage2_tick(s, now);
        if (s->in_txn && (now - s->txn_start_ms >= TXN_MS || s->txn_messages >= TXN_MESSAGES))
            st = commit(s);
        if (s->killed)
            return DH_ERR_CANCELLED;
        progress(s, now);
    }
    if (st != DH_OK)
        return st == DH_ERR_CANCELLED ? st : s->err.status ? s->err.status : st;
    /* stopped: what was read is produced and committed (open windows stay open: their
     * first offsets are what is committed, and the next owner rebuilds them) */
    dh_ids_again(s);
    dh_stage1_tick(s, dh_stream_now_ms());
    dh_stage2_tick(s, dh_stream_now_ms());
    dh_stage1_count(s);
    st = commit(s);
    if (s->killed)
        return DH_ERR_CANCELLED;
    rd_kafka_consumer_close(s->consumer);
    return st;
}

void dh_stream_stop(dh_stream *s)
{
    if (s)
        atomic_store(&s->stop, 1);
}

void dh_stream_counts_get(const dh_stream *s, dh_stream_counts *out)
{
    if (!s || !out)
        return;
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    *out = s->counts;
    pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
}

const dh_error *dh_stream_error(const dh_stream *s)
{
    return s ? &s->err : NULL;
}

void dh_stream_test_kill(dh_stream *s, dh_stream_kill at, uint64_t nth)
{
    s->kill_at = at;
    s->kill_after = nth;
    s->kill_seen = 0;
}

void dh_stream_set_tuning(dh_stream *s, dh_tuning *t)
{
    if (s)
        s->tuning = t;
}

void dh_stream_test_idle(dh_stream *s, int64_t idle_ms)
{
    s->idle_ms = idle_ms;
}

void dh_stream_free(dh_stream *s)
{
    if (!s)
        return;
    dh_metrics_server_stop(s->metrics); /* first: it reads the counts */
    if (s->consumer)
        rd_kafka_destroy_flags(s->consumer, s->killed ? RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE : 0);
    if (s->producer) {
        if (s->killed) /* what was not sent dies with the process */
            rd_kafka_purge(s->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_destroy(s->producer);
    }
    if (s->base_conf)
        rd_kafka_conf_destroy(s->base_conf);
    dh_stage1_free(s);
    dh_stage1_drop(s);
    free(s->held);
    dh_ids_close(s); /* after the stage-1 engine: nothing binds any more */
    dh_stage2_drop(s);
    free(s->parts);
    dh_idset_clear(&s->published);
    free(s->txn_ids);
    dh_buf_free(&s->scratch);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
