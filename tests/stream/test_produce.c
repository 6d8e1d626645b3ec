/* Tests of dh_stream_produce (src/stream/produce.c) on librdkafka's mock cluster (three
 * brokers inside the test process; a real broker when DCOMHUNT_KAFKA names one): corpus
 * files (EVTX and a zip of JSON) produced to a topic, the topic consumed whole, every
 * event there once, keyed by its host, with its file and offset in headers, and the
 * messages read back one by one with dh_engine_run_buffer give the same detections as
 * the files. Then the failures: no broker listening (the call, and dh_stream_new, fail
 * within their bound naming the broker), partitions without a leader (every message
 * reported with its file and offset, none counted as sent), no brokers named, a path
 * that is not there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "dcomhunt/engine.h"
#include "dcomhunt/rules.h"
#include "dcomhunt/scan.h"
#include "dcomhunt/stream.h"

#define PARTITIONS 4

static const char *const inputs[] = {
    DH_CORPUS_DIR "/EVTX-ATTACK-SAMPLES/Lateral Movement/LM_impacket_docmexec_mmc_sysmon_01.evtx",
    DH_CORPUS_DIR "/EVTX-ATTACK-SAMPLES/Lateral "
                  "Movement/LM_dcom_shwnd_shbrwnd_mmc20_failed_traces_system_10016.evtx",
    DH_CORPUS_DIR "/Security-Datasets/datasets/atomic/windows/lateral_movement/host/"
                  "empire_dcom_shellwindows_stager.zip",
};
#define NINPUTS (sizeof inputs / sizeof inputs[0])

/* ---- a list of strings, compared sorted ---------------------------------------- */

typedef struct strs {
    char **v;
    size_t n, cap;
} strs;

static void strs_add(strs *s, const char *p, size_t n)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        assert_non_null(s->v);
    }
    char *c = malloc(n + 1);
    assert_non_null(c);
    memcpy(c, p, n);
    c[n] = 0;
    s->v[s->n++] = c;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strs_free(strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- detections as text, without the file they name ---------------------------- */

static int on_detection(void *ctx, const dh_detection *d)
{
    char line[8192];
    int n =
        snprintf(line, sizeof line, "%s|%lld|%llu|%u|%.*s|%.*s|%.*s|%.*s|%d", dh_rule_id(d->rule),
                 (long long)d->time, (unsigned long long)d->record_id, d->event_id,
                 (int)d->host.len, d->host.ptr, (int)d->channel.len, d->channel.ptr,
                 (int)d->kind.len, d->kind.ptr, (int)d->fields.len, d->fields.ptr, d->undecided);
    assert_true(n > 0 && (size_t)n < sizeof line);
    strs_add(ctx, line, (size_t)n);
    return 0;
}

static dh_engine *detector(const dh_ruleset *rs, strs *out)
{
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.mode = DH_ENGINE_DETECTIONS;
    o.threads = 1;
    o.sink = (dh_engine_sink){.ctx = out, .on_detection = on_detection};
    dh_engine *e = NULL;
    assert_int_equal(dh_engine_new(&o, rs, &e), DH_OK);
    return e;
}

/* ---- the cluster --------------------------------------------------------------- */

typedef struct cluster {
    rd_kafka_t *owner; /* the mock cluster lives in this handle */
    char bootstraps[512];
} cluster;

static void cluster_start(cluster *k, const char *topic)
{
    const char *real = getenv("DCOMHUNT_KAFKA");
    memset(k, 0, sizeof *k);
    if (real && *real) {
        snprintf(k->bootstraps, sizeof k->bootstraps, "%s", real);
        return; /* the topic is created by the broker on first use */
    }
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "test.mock.num.brokers", "3", why, sizeof why),
                     RD_KAFKA_CONF_OK);
    rd_kafka_conf_set(conf, "log_level", "0", why, sizeof why);
    k->owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    assert_non_null(k->owner);
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(k->owner);
    assert_non_null(mc);
    assert_int_equal(rd_kafka_mock_topic_create(mc, topic, PARTITIONS, 3), 0);
    snprintf(k->bootstraps, sizeof k->bootstraps, "%s", rd_kafka_mock_cluster_bootstraps(mc));
}

static void cluster_stop(cluster *k)
{
    if (k->owner)
        rd_kafka_destroy(k->owner);
}

static dh_stream_config *config_for(const char *bootstraps)
{
    dh_stream_config *cfg = NULL;
    assert_int_equal(dh_stream_config_new(&cfg), DH_OK);
    cfg->kafka_keys = calloc(3, sizeof(char *));
    cfg->kafka_values = calloc(3, sizeof(char *));
    assert_non_null(cfg->kafka_keys);
    assert_non_null(cfg->kafka_values);
    cfg->kafka_keys[0] = strdup("bootstrap.servers");
    cfg->kafka_values[0] = strdup(bootstraps);
    cfg->kafka_keys[1] = strdup("log_level");
    cfg->kafka_values[1] = strdup("0");
    /* Compressed: the mock cluster keeps only 5 MB of each partition's log, and the zip's
     * 40 MB of JSON is mostly one host's. */
    cfg->kafka_keys[2] = strdup("compression.type");
    cfg->kafka_values[2] = strdup("lz4");
    cfg->nkafka = 3;
    return cfg;
}

typedef struct errors {
    size_t n, with_place;
    char first[1024 + 300];
} errors;

static void on_error(void *ctx, const dh_error *e)
{
    errors *x = ctx;
    if (!x->n)
        snprintf(x->first, sizeof x->first, "%s: %llu: %s", e->file, (unsigned long long)e->offset,
                 e->message);
    x->n++;
    x->with_place += e->file[0] && strstr(e->file, ".evtx") != NULL;
}

/* Every message of topic, from the start to the end of each partition. */
typedef struct consumed {
    strs values, keys, files;
    size_t n;
} consumed;

static void consume_all(const char *bootstraps, const char *topic, consumed *out)
{
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, why, sizeof why);
    rd_kafka_conf_set(conf, "group.id", "test-produce", why, sizeof why);
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", why, sizeof why);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", why, sizeof why);
    rd_kafka_conf_set(conf, "log_level", "0", why, sizeof why);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    assert_non_null(c);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(PARTITIONS);
    for (int p = 0; p < PARTITIONS; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(c, parts), 0);
    rd_kafka_topic_partition_list_destroy(parts);
    /* To the high watermark of each partition (an end-of-partition event can come
     * before a fetch has caught up). */
    int64_t high[PARTITIONS], next[PARTITIONS];
    for (int p = 0; p < PARTITIONS; p++) {
        int64_t lo;
        assert_int_equal(rd_kafka_query_watermark_offsets(c, topic, p, &lo, &high[p], 10000), 0);
        assert_int_equal(lo, 0); /* the mock keeps 5 MB a partition: nothing let go */
        next[p] = lo;
    }
    time_t deadline = time(NULL) + 120;
    for (;;) {
        int done = 1;
        for (int p = 0; p < PARTITIONS; p++)
            done &= next[p] >= high[p];
        if (done || time(NULL) > deadline)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 500);
        if (!m)
            continue;
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            assert_int_equal(m->err, 0);
            assert_true(m->partition >= 0 && m->partition < PARTITIONS);
            next[m->partition] = m->offset + 1;
            strs_add(&out->values, m->payload, m->len);
            strs_add(&out->keys, m->key ? m->key : "", m->key ? m->key_len : 0);
            rd_kafka_headers_t *h = NULL;
            const void *f = NULL, *o = NULL;
            size_t fl = 0, ol = 0;
            assert_int_equal(rd_kafka_message_headers(m, &h), 0);
            assert_int_equal(rd_kafka_header_get_last(h, "dcomhunt-file", &f, &fl), 0);
            assert_int_equal(rd_kafka_header_get_last(h, "dcomhunt-offset", &o, &ol), 0);
            const void *nm = NULL;
            size_t nl = 0;
            assert_int_equal(rd_kafka_header_get_last(h, "dcomhunt-name", &nm, &nl), 0);
            assert_int_equal(nl, fl);
            assert_memory_equal(nm, f, fl);
            char both[1200];
            snprintf(both, sizeof both, "%.*s@%.*s", (int)fl, (const char *)f, (int)ol,
                     (const char *)o);
            strs_add(&out->files, both, strlen(both));
            out->n++;
        }
        rd_kafka_message_destroy(m);
    }
    for (int p = 0; p < PARTITIONS; p++)
        assert_true(next[p] >= high[p]);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
}

/* What the scanner reads from the inputs: each event's host and file@offset. */
static dh_status note_event(void *wctx, const dh_event *ev, dh_buf *out)
{
    (void)wctx;
    dh_str host = dh_event_host(ev), file = dh_event_file_str(ev);
    char line[1400];
    int n = snprintf(line, sizeof line, "%.*s\t%.*s@%llu", (int)host.len, host.ptr, (int)file.len,
                     file.ptr, (unsigned long long)dh_event_offset(ev));
    dh_status st = dh_buf_append(out, line, (size_t)n);
    return st ? st : dh_buf_append(out, "\n", 1);
}

static dh_status collect_lines(void *ctx, const char *bytes, size_t len)
{
    strs *s = ctx;
    const char *p = bytes, *end = bytes + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        strs_add(s, p, (size_t)(nl - p));
        p = nl + 1;
    }
    return DH_OK;
}

static void produce_then_detect(void **state)
{
    (void)state;
    const char *topic = "dcomhunt-test-produce";
    cluster k;
    cluster_start(&k, topic);
    dh_stream_config *cfg = config_for(k.bootstraps);
    errors errs = {0};
    dh_stream_sink sink = {.ctx = &errs, .on_error = on_error};
    uint64_t sent = 0;
    dh_status st = dh_stream_produce(cfg, topic, inputs, NINPUTS, &sink, &sent);
    if (st != DH_OK)
        fail_msg("produce: %s (%zu errors; first %s)", dh_status_str(st), errs.n, errs.first);
    assert_int_equal(errs.n, 0);

    /* What the files hold. */
    strs want_events = {0};
    dh_scan_opts so;
    dh_scan_opts_init(&so);
    dh_scan_callbacks cb = {.ctx = &want_events, .on_event = note_event, .emit = collect_lines};
    dh_scan_stats stats;
    assert_int_equal(dh_scan_run(inputs, NINPUTS, &so, &cb, &stats), DH_OK);
    assert_true(want_events.n > 30000);
    assert_int_equal(sent, want_events.n);

    consumed got = {0};
    consume_all(k.bootstraps, topic, &got);
    assert_int_equal(got.n, want_events.n);

    /* Every event once, keyed by its host, with its file and offset. */
    strs got_events = {0};
    for (size_t i = 0; i < got.n; i++) {
        char line[1400];
        int n = snprintf(line, sizeof line, "%s\t%s", got.keys.v[i], got.files.v[i]);
        strs_add(&got_events, line, (size_t)n);
    }
    qsort(want_events.v, want_events.n, sizeof *want_events.v, cmp);
    qsort(got_events.v, got_events.n, sizeof *got_events.v, cmp);
    for (size_t i = 0; i < got_events.n; i++)
        if (strcmp(want_events.v[i], got_events.v[i]))
            fail_msg("event %zu: want '%s', got '%s'", i, want_events.v[i], got_events.v[i]);

    /* Each message, read as a buffer, gives that event's detections. */
    dh_ruleset *rs = NULL;
    assert_int_equal(dh_ruleset_new(&rs), DH_OK);
    assert_int_equal(dh_ruleset_add_builtin(rs, NULL, NULL), DH_OK);
    assert_int_equal(dh_ruleset_finish(rs), DH_OK);
    strs want = {0}, have = {0};
    dh_engine *e = detector(rs, &want);
    assert_int_equal(dh_engine_run(e, inputs, NINPUTS), DH_OK);
    assert_int_equal(dh_engine_finish(e), DH_OK);
    dh_engine_free(e);
    e = detector(rs, &have);
    for (size_t i = 0; i < got.n; i++) {
        st = dh_engine_run_buffer(e, got.values.v[i], strlen(got.values.v[i]), "message");
        if (st != DH_OK)
            fail_msg("message %zu does not read back: %s: %.200s", i, dh_status_str(st),
                     got.values.v[i]);
    }
    assert_int_equal(dh_engine_finish(e), DH_OK);
    dh_engine_free(e);
    assert_true(want.n >= 18); /* the MMC20 and ShellWindows detections at least */
    assert_int_equal(have.n, want.n);
    qsort(want.v, want.n, sizeof *want.v, cmp);
    qsort(have.v, have.n, sizeof *have.v, cmp);
    for (size_t i = 0; i < want.n; i++)
        if (strcmp(want.v[i], have.v[i]))
            fail_msg("detection %zu: file '%s', messages '%s'", i, want.v[i], have.v[i]);

    strs_free(&want);
    strs_free(&have);
    strs_free(&want_events);
    strs_free(&got_events);
    strs_free(&got.values);
    strs_free(&got.keys);
    strs_free(&got.files);
    dh_ruleset_free(rs);
    dh_stream_config_free(cfg);
    cluster_stop(&k);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void add_kafka(dh_stream_config *cfg, const char *key, const char *value)
{
    char **k = realloc(cfg->kafka_keys, (cfg->nkafka + 1) * sizeof *k), **v;
    assert_non_null(k);
    cfg->kafka_keys = k;
    v = realloc(cfg->kafka_values, (cfg->nkafka + 1) * sizeof *v);
    assert_non_null(v);
    cfg->kafka_values = v;
    cfg->kafka_keys[cfg->nkafka] = strdup(key);
    cfg->kafka_values[cfg->nkafka] = strdup(value);
    cfg->nkafka++;
}

/* No broker listens: the call fails at once (not message.timeout.ms later, 300 s by
 * librdkafka's default), with one error naming the broker; nothing is read or sent. */
static void unreachable(void **state)
{
    (void)state;
    dh_stream_config *cfg = config_for("127.0.0.1:1");
    errors errs = {0};
    dh_stream_sink sink = {.ctx = &errs, .on_error = on_error};
    uint64_t sent = 99;
    int64_t t0 = mono_ms();
    assert_int_equal(dh_stream_produce(cfg, "t", inputs, 1, &sink, &sent), DH_ERR_IO);
    int64_t took = mono_ms() - t0;
    assert_true(took < 12000); /* the bound is 10 s; a refused connection fails sooner */
    assert_int_equal(sent, 0);
    assert_int_equal(errs.n, 1);
    assert_non_null(strstr(errs.first, "127.0.0.1:1"));
    assert_non_null(strstr(errs.first, "no broker"));
    assert_int_equal(errs.with_place, 0);
    dh_stream_config_free(cfg);

    /* The stream too: dh_stream_new says so within its bound, naming the brokers. */
    cfg = config_for("127.0.0.1:1");
    dh_ruleset *rs = NULL;
    assert_int_equal(dh_ruleset_new(&rs), DH_OK);
    assert_int_equal(dh_ruleset_add_builtin(rs, NULL, NULL), DH_OK);
    assert_int_equal(dh_ruleset_finish(rs), DH_OK);
    dh_stream *s = NULL;
    t0 = mono_ms();
    assert_int_equal(dh_stream_new(cfg, rs, NULL, &s), DH_ERR_IO);
    took = mono_ms() - t0;
    assert_true(took < 15000);
    assert_non_null(s);
    const dh_error *e = dh_stream_error(s);
    assert_int_equal(e->status, DH_ERR_IO);
    assert_non_null(strstr(e->file, "127.0.0.1:1"));
    assert_non_null(strstr(e->message, "no broker answered"));
    dh_stream_free(s);
    dh_ruleset_free(rs);
    dh_stream_config_free(cfg);
}

static void failures(void **state)
{
    (void)state;
    /* The cluster answers but no partition has a leader: every event fails delivery at
     * message.timeout.ms, each named with file and offset, none counted as sent. */
    const char *topic = "dcomhunt-test-undelivered";
    cluster k;
    cluster_start(&k, topic);
    dh_stream_config *cfg;
    errors errs = {0};
    dh_stream_sink sink = {.ctx = &errs, .on_error = on_error};
    uint64_t sent = 99;
    if (k.owner) { /* a real broker's leaders cannot be taken away */
        rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(k.owner);
        for (int p = 0; p < PARTITIONS; p++)
            assert_int_equal(rd_kafka_mock_partition_set_leader(mc, topic, p, -1), 0);
        cfg = config_for(k.bootstraps);
        add_kafka(cfg, "message.timeout.ms", "1000");
        assert_int_equal(dh_stream_produce(cfg, topic, inputs, 1, &sink, &sent), DH_ERR_IO);
        assert_int_equal(sent, 0);
        if (errs.with_place < 9) /* the 9 events of the MMC20 file */
            fail_msg("%zu errors with a place; first %s", errs.with_place, errs.first);
        dh_stream_config_free(cfg);
    }

    /* No brokers named; no topic; no paths. */
    assert_int_equal(dh_stream_config_new(&cfg), DH_OK);
    memset(&errs, 0, sizeof errs);
    assert_int_equal(dh_stream_produce(cfg, "t", inputs, 1, &sink, &sent), DH_ERR_ARG);
    assert_int_equal(errs.n, 1);
    assert_non_null(strstr(errs.first, "bootstrap.servers"));
    dh_stream_config_free(cfg);
    cfg = config_for("127.0.0.1:1");
    assert_int_equal(dh_stream_produce(cfg, "", inputs, 1, &sink, &sent), DH_ERR_ARG);
    assert_int_equal(dh_stream_produce(cfg, "t", inputs, 0, &sink, &sent), DH_ERR_ARG);
    assert_int_equal(dh_stream_produce(NULL, "t", inputs, 1, &sink, &sent), DH_ERR_ARG);

    dh_stream_config_free(cfg);

    /* A path that is not there: named, nothing sent. */
    cfg = config_for(k.bootstraps);
    const char *none[] = {"/nonexistent/dcomhunt-produce.evtx"};
    memset(&errs, 0, sizeof errs);
    dh_status st = dh_stream_produce(cfg, "t", none, 1, &sink, &sent);
    assert_int_equal(st, DH_ERR_FORMAT);
    assert_int_equal(sent, 0);
    assert_true(errs.n >= 1);
    assert_non_null(strstr(errs.first, "/nonexistent/dcomhunt-produce.evtx"));
    dh_stream_config_free(cfg);
    cluster_stop(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(produce_then_detect),
        cmocka_unit_test(unreachable),
        cmocka_unit_test(failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
