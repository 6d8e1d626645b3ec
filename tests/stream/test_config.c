/* Unit tests for the stream's config file (src/stream/config.c): a full file read into
 * every field, the defaults, and each hostile case refused with the file, the line and
 * the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dcomhunt/stream.h"

static char path[64];

/* Writes text (len bytes) to a fresh temporary file named in path. */
static void write_cfg(const char *text, size_t len)
{
    snprintf(path, sizeof path, "/tmp/dh-stream-cfg-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* Loads text; returns the status, with the config freed and the error in *err. */
static dh_status load_text(const char *text, dh_error *err)
{
    write_cfg(text, strlen(text));
    dh_stream_config *cfg = (dh_stream_config *)1;
    dh_status st = dh_stream_config_load(path, &cfg, err);
    if (st != DH_OK)
        assert_null(cfg);
    dh_stream_config_free(cfg);
    unlink(path);
    return st;
}

/* Expects a refusal naming the file, the line and a reason containing what. */
static void refused(const char *text, int line, const char *what)
{
    dh_error err;
    dh_status st = load_text(text, &err);
    assert_int_not_equal(st, DH_OK);
    assert_int_equal(err.status, st);
    assert_string_equal(err.file, path);
    if (line > 0) {
        char want[32];
        snprintf(want, sizeof want, "line %d: ", line);
        if (strncmp(err.message, want, strlen(want)))
            fail_msg("'%s' does not start with '%s'", err.message, want);
    }
    if (!strstr(err.message, what))
        fail_msg("'%s' does not say '%s'", err.message, what);
}

static void full_file(void **state)
{
    (void)state;
    const char *text = "# a stream\n"
                       "kafka:\n"
                       "  bootstrap.servers: ns.servicebus.windows.net:9093\n"
                       "  security.protocol: SASL_SSL\n"
                       "  sasl.mechanism: PLAIN\n"
                       "  sasl.username: $ConnectionString\n"
                       "  sasl.password: \"Endpoint=sb://ns/;SharedAccessKey=x=\"\n"
                       "  message.max.bytes: 1000000\n"
                       "input_topics: [winlogbeat, defender]\n"
                       "group_id: hunters\n"
                       "candidates_topic: cand\n"
                       "output_topic: out\n"
                       "dead_letter_topic: dead\n"
                       "transactional_id: tx-a\n"
                       "format: eventhubs\n"
                       "findings: ocsf\n"
                       "rules:\n  - r1.yml\n  - rules/\n"
                       "tuning: [t.yml]\n"
                       "stages: 1\n"
                       "window: 600\n"
                       "skew: 0\n"
                       "metrics: 127.0.0.1:9464\n"
                       "identities_topic: ids\n"
                       "identity_wait: 7\n";
    write_cfg(text, strlen(text));
    dh_stream_config *cfg = NULL;
    dh_error err;
    assert_int_equal(dh_stream_config_load(path, &cfg, &err), DH_OK);
    unlink(path);
    assert_non_null(cfg);
    assert_int_equal(cfg->nkafka, 6);
    assert_string_equal(cfg->kafka_keys[0], "bootstrap.servers");
    assert_string_equal(cfg->kafka_values[0], "ns.servicebus.windows.net:9093");
    assert_string_equal(cfg->kafka_keys[3], "sasl.username");
    assert_string_equal(cfg->kafka_values[3], "$ConnectionString");
    assert_string_equal(cfg->kafka_values[4], "Endpoint=sb://ns/;SharedAccessKey=x=");
    assert_string_equal(cfg->kafka_values[5], "1000000");
    assert_int_equal(cfg->ninput_topics, 2);
    assert_string_equal(cfg->input_topics[1], "defender");
    assert_string_equal(cfg->group_id, "hunters");
    assert_string_equal(cfg->candidates_topic, "cand");
    assert_string_equal(cfg->output_topic, "out");
    assert_string_equal(cfg->dead_letter_topic, "dead");
    assert_string_equal(cfg->transactional_id, "tx-a");
    assert_int_equal(cfg->format, DH_STREAM_EVENTHUBS);
    assert_int_equal(cfg->ocsf, 1);
    assert_int_equal(cfg->nrule_paths, 2);
    assert_string_equal(cfg->rule_paths[1], "rules/");
    assert_int_equal(cfg->ntuning_paths, 1);
    assert_int_equal(cfg->stages, DH_STREAM_STAGE1);
    assert_int_equal(cfg->window_s, 600);
    assert_int_equal(cfg->skew_s, 0);
    assert_string_equal(cfg->metrics_addr, "127.0.0.1:9464");
    assert_string_equal(cfg->identities_topic, "ids");
    assert_int_equal(cfg->identity_wait_ms, 7000);
    dh_stream_config_free(cfg);
}

static void defaults(void **state)
{
    (void)state;
    dh_stream_config *cfg = NULL;
    assert_int_equal(dh_stream_config_new(&cfg), DH_OK);
    assert_string_equal(cfg->group_id, "dcomhunt");
    assert_string_equal(cfg->candidates_topic, "dcomhunt-candidates");
    assert_string_equal(cfg->output_topic, "dcomhunt-findings");
    assert_string_equal(cfg->dead_letter_topic, "dcomhunt-dead-letter");
    assert_int_equal(cfg->stages, DH_STREAM_BOTH);
    assert_int_equal(cfg->window_s, 300);
    assert_int_equal(cfg->skew_s, 120);
    assert_int_equal(cfg->ninput_topics, 0);
    assert_null(cfg->metrics_addr);
    assert_string_equal(cfg->identities_topic, "dcomhunt-identities");
    assert_int_equal(cfg->identity_wait_ms, 0); /* the stream's default (2 s) */
    dh_stream_config_free(cfg);
    dh_stream_config_free(NULL);

    /* A file with only the input topics keeps every default. */
    write_cfg("input_topics: [a]\n", 18);
    dh_error err;
    assert_int_equal(dh_stream_config_load(path, &cfg, &err), DH_OK);
    unlink(path);
    assert_int_equal(cfg->format, DH_STREAM_AUTO);
    assert_int_equal(cfg->ocsf, 0);
    assert_int_equal(cfg->nkafka, 0);
    assert_string_equal(cfg->output_topic, "dcomhunt-findings");
    dh_stream_config_free(cfg);

    /* Stage 2 alone reads the candidates topic: no input topics needed. */
    dh_error e2;
    assert_int_equal(load_text("stages: 2\nkafka:\n  bootstrap.servers: b:9092\n", &e2), DH_OK);
}

static void hostile(void **state)
{
    (void)state;
    refused("input_topics: [a]\nbootstrap_servers: x\n", 2, "unknown key 'bootstrap_servers'");
    refused("input_topics: [a]\nkafka:\n  bootstrap.server: x:1\n", 3, "bootstrap.server");
    refused("input_topics: [a]\nkafka:\n  acks: all\n  acks: all\n", 4, "given twice");
    refused("input_topics: [a]\nwindow: 10\nwindow: 20\n", 3, "given twice (first on line 2)");
    refused("input_topics: a\n", 1, "must be a list");
    refused("input_topics: [a, [b]]\n", 1, "single value");
    refused("input_topics: [a, '']\n", 1, "empty entry");
    refused("input_topics: [a]\ngroup_id: {x: 1}\n", 2, "single value");
    refused("input_topics: [a]\ngroup_id: ''\n", 2, "is empty");
    refused("input_topics: [a]\nkafka: [x]\n", 2, "mapping");
    refused("input_topics: [a]\nkafka:\n  socket.timeout.ms: [1]\n", 3, "single value");
    refused("input_topics: [a]\nkafka:\n  socket.timeout.ms: soon\n", 3, "socket.timeout.ms");
    refused("input_topics: [a]\nformat: evtx\n", 2, "'format' must be");
    refused("input_topics: [a]\nfindings: csv\n", 2, "'findings' must be");
    refused("input_topics: [a]\nstages: 3\n", 2, "'stages' must be");
    refused("input_topics: [a]\nwindow: -5\n", 2, "'window' must be whole seconds");
    refused("input_topics: [a]\nwindow: 5m\n", 2, "'window' must be whole seconds");
    refused("input_topics: [a]\nidentity_wait: -1\n", 2, "'identity_wait' must be whole");
    refused("input_topics: [a]\nidentity_wait: 3601\n", 2, "at most 3600 seconds");
    refused("input_topics: [a]\nidentities_topic: ''\n", 2, "is empty");
    refused("input_topics: [a]\nskew: 99999999999999999999\n", 2, "'skew' must be");
    refused("kafka:\n  bootstrap.servers: b:9092\n", 1, "no input_topics");
    refused("stages: 1\n", 1, "no input_topics");
    refused("- a\n- b\n", 1, "must be a mapping");
    refused("", 1, "empty");
    refused("input_topics: [a\n", 0, "YAML");
    refused("input_topics: [a]\n---\ninput_topics: [b]\n", 2, "second YAML document");
    refused("input_topics: [a]\n? [x]\n: 1\n", 2, "single value");

    /* Too large: refused before parsing. */
    size_t big = (1u << 20) + 10;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, '#', big);
    text[big - 1] = '\n';
    write_cfg(text, big);
    free(text);
    dh_stream_config *cfg = (dh_stream_config *)1;
    dh_error err;
    assert_int_equal(dh_stream_config_load(path, &cfg, &err), DH_ERR_LIMIT);
    assert_null(cfg);
    assert_string_equal(err.file, path);
    assert_non_null(strstr(err.message, "larger than"));
    unlink(path);

    /* Missing file. */
    assert_int_equal(dh_stream_config_load("/nonexistent/dh.yml", &cfg, &err), DH_ERR_IO);
    assert_string_equal(err.file, "/nonexistent/dh.yml");
    assert_null(cfg);

    /* The offset is where the named line starts. */
    assert_int_not_equal(load_text("input_topics: [a]\nnope: 1\n", &err), DH_OK);
    assert_int_equal(err.offset, 18);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_file),
        cmocka_unit_test(defaults),
        cmocka_unit_test(hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
