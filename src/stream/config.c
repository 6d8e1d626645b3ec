/* The stream's config file (dh_stream_config_load): YAML, one mapping, read strictly. An
 * unknown key, a value of the wrong type, a key given twice, a file too large, a librdkafka
 * property librdkafka does not know or refuses, or no input topic while stage 1 runs:
 * each refuses the whole file with its name, the line and the reason, since a stream that
 * starts on a half-read config would run for days doing the wrong thing.
 *
 *     kafka:                          # librdkafka properties, passed through verbatim
 *       bootstrap.servers: broker:9092
 *     input_topics: [winlogbeat, defender]
 *     group_id: dcomhunt
 *     candidates_topic: dcomhunt-candidates
 *     output_topic: dcomhunt-findings
 *     dead_letter_topic: dcomhunt-dead-letter
 *     transactional_id: dcomhunt-a
 *     format: auto                    # auto|ecs|nxlog|defender|eventhubs|xml
 *     findings: jsonl                 # jsonl|ocsf
 *     rules: [my-rules/]              # none: the built-in pack
 *     tuning: [tuning.yml]
 *     stages: both                    # 1|2|both
 *     window: 300                     # seconds
 *     skew: 120
 *     metrics: 127.0.0.1:9464
 *     identities_topic: dcomhunt-identities
 *     identity_wait: 2                # seconds; 0: never hold a candidate
 *
 * This file never connects anywhere: the kafka properties are only checked with
 * rd_kafka_conf_set on a throwaway configuration. */
#include "dcomhunt/stream.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_CONFIG_FILE (1u << 20) /* a config is a page of text; a megabyte is hostile */
#define MAX_LIST        1024       /* topics, rule paths, kafka properties */
#define MAX_STRING      4096       /* one value (a connection string is ~200 bytes) */
#define MAX_SECONDS     (366LL * 86400)

typedef struct ctx {
    const char *path;
    const char *text;
    size_t len;
    yaml_document_t *doc;
    dh_error *err;
    int failed;
    dh_status st; /* the first failure's */
} ctx;

/* The byte offset where line (1-based) starts, for the error record. */
static uint64_t line_offset(const ctx *c, int line)
{
    size_t i = 0;
    for (int l = 1; l < line && i < c->len; i++)
        if (c->text[i] == '\n')
            l++;
    return i;
}

static void fail_at(ctx *c, int line, dh_status st, const char *fmt, ...)
{
    if (c->failed)
        return;
    c->failed = 1;
    c->st = st;
    dh_error *e = c->err;
    if (!e)
        return;
    memset(e, 0, sizeof *e);
    e->status = st;
    e->chunk = -1;
    snprintf(e->file, sizeof e->file, "%s", c->path);
    e->offset = line > 0 ? line_offset(c, line) : 0;
    char msg[sizeof e->message - 24];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(e->message, sizeof e->message, "line %d: %s", line, msg);
    else
        snprintf(e->message, sizeof e->message, "%s", msg);
}

static int node_line(const yaml_node_t *n)
{
    return n ? (int)n->start_mark.line + 1 : 0;
}

static void fail(ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fail_at(c, node_line(n), DH_ERR_FORMAT, "%s", msg);
}

static yaml_node_t *node(ctx *c, int i)
{
    return yaml_document_get_node(c->doc, i);
}

/* A scalar's text, or NULL (after naming the problem) when n is not a usable one. */
static const char *scalar(ctx *c, const yaml_node_t *n, const char *key)
{
    if (!n || n->type != YAML_SCALAR_NODE) {
        fail(c, n, "'%s' must be a single value", key);
        return NULL;
    }
    if (n->data.scalar.length > MAX_STRING) {
        fail(c, n, "'%s' is longer than %d bytes", key, MAX_STRING);
        return NULL;
    }
    if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
        fail(c, n, "'%s' holds a NUL byte", key);
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

static char *dup_str(ctx *c, const char *s)
{
    char *p = strdup(s);
    if (!p)
        fail_at(c, 0, DH_ERR_NOMEM, "out of memory");
    return p;
}

/* A non-empty string value into *out (replacing the default). */
static void get_string(ctx *c, yaml_node_t *n, const char *key, char **out)
{
    const char *s = scalar(c, n, key);
    if (!s)
        return;
    if (!*s) {
        fail(c, n, "'%s' is empty", key);
        return;
    }
    char *p = dup_str(c, s);
    if (p) {
        free(*out);
        *out = p;
    }
}

static void get_list(ctx *c, yaml_node_t *n, const char *key, char ***out, size_t *nout)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        fail(c, n, "'%s' must be a list", key);
        return;
    }
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count > MAX_LIST) {
        fail(c, n, "'%s' has more than %d entries", key, MAX_LIST);
        return;
    }
    char **v = calloc(count ? count : 1, sizeof *v);
    if (!v) {
        fail_at(c, 0, DH_ERR_NOMEM, "out of memory");
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < count && !c->failed; i++) {
        yaml_node_t *e = node(c, n->data.sequence.items.start[i]);
        const char *s = scalar(c, e, key);
        if (s && !*s)
            fail(c, e, "'%s' has an empty entry", key);
        else if (s && (v[k] = dup_str(c, s)))
            k++;
    }
    if (c->failed) {
        for (size_t i = 0; i < k; i++)
            free(v[i]);
        free(v);
        return;
    }
    *out = v;
    *nout = k;
}

/* Whole seconds, 0 to a year. */
static void get_seconds(ctx *c, yaml_node_t *n, const char *key, int64_t *out)
{
    const char *s = scalar(c, n, key);
    if (!s)
        return;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < 0 || v > MAX_SECONDS || *s == '-' || *s == '+' || *s == ' ')
        fail(c, n, "'%s' must be whole seconds from 0 to %lld, not '%s'", key, MAX_SECONDS, s);
    else
        *out = v;
}

static void get_kafka(ctx *c, dh_stream_config *cfg, yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE) {
        fail(c, n, "'kafka' must be a mapping of librdkafka properties");
        return;
    }
    size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (count > MAX_LIST) {
        fail(c, n, "'kafka' has more than %d properties", MAX_LIST);
        return;
    }
    rd_kafka_conf_t *probe = rd_kafka_conf_new();
    cfg->kafka_keys = calloc(count ? count : 1, sizeof *cfg->kafka_keys);
    cfg->kafka_values = calloc(count ? count : 1, sizeof *cfg->kafka_values);
    if (!probe || !cfg->kafka_keys || !cfg->kafka_values) {
        if (probe)
            rd_kafka_conf_destroy(probe);
        fail_at(c, 0, DH_ERR_NOMEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < count && !c->failed; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
        const char *k = scalar(c, kn, "kafka property name");
        const char *v = k ? scalar(c, vn, k) : NULL;
        if (!v)
            break;
        for (size_t j = 0; j < cfg->nkafka; j++)
            if (!strcmp(cfg->kafka_keys[j], k)) {
                fail(c, kn, "kafka property '%s' is given twice", k);
                break;
            }
        if (c->failed)
            break;
        char why[512];
        if (rd_kafka_conf_set(probe, k, v, why, sizeof why) != RD_KAFKA_CONF_OK) {
            fail(c, kn, "kafka property '%s': %s", k, why);
            break;
        }
        char *kd = dup_str(c, k), *vd = kd ? dup_str(c, v) : NULL;
        if (!vd) {
            free(kd);
            break;
        }
        cfg->kafka_keys[cfg->nkafka] = kd;
        cfg->kafka_values[cfg->nkafka++] = vd;
    }
    rd_kafka_conf_destroy(probe);
}

static const struct {
    const char *name;
    dh_stream_format f;
} formats[] = {
    {"auto", DH_STREAM_AUTO},           {"ecs", DH_STREAM_ECS},
    {"nxlog", DH_STREAM_NXLOG},         {"defender", DH_STREAM_DEFENDER},
    {"eventhubs", DH_STREAM_EVENTHUBS}, {"xml", DH_STREAM_XML},
};

static void get_format(ctx *c, dh_stream_config *cfg, yaml_node_t *n)
{
    const char *s = scalar(c, n, "format");
    if (!s)
        return;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (!strcmp(s, formats[i].name)) {
            cfg->format = formats[i].f;
            return;
        }
    fail(c, n, "'format' must be auto, ecs, nxlog, defender, eventhubs or xml, not '%s'", s);
}

static void get_findings(ctx *c, dh_stream_config *cfg, yaml_node_t *n)
{
    const char *s = scalar(c, n, "findings");
    if (s && !strcmp(s, "jsonl"))
        cfg->ocsf = 0;
    else if (s && !strcmp(s, "ocsf"))
        cfg->ocsf = 1;
    else if (s)
        fail(c, n, "'findings' must be jsonl or ocsf, not '%s'", s);
}

static void get_stages(ctx *c, dh_stream_config *cfg, yaml_node_t *n)
{
    const char *s = scalar(c, n, "stages");
    if (s && !strcmp(s, "1"))
        cfg->stages = DH_STREAM_STAGE1;
    else if (s && !strcmp(s, "2"))
        cfg->stages = DH_STREAM_STAGE2;
    else if (s && !strcmp(s, "both"))
        cfg->stages = DH_STREAM_BOTH;
    else if (s)
        fail(c, n, "'stages' must be 1, 2 or both, not '%s'", s);
}

/* The keys a config may hold, each read once. */
enum {
    K_KAFKA,
    K_INPUT,
    K_GROUP,
    K_CANDIDATES,
    K_OUTPUT,
    K_DEAD,
    K_TXID,
    K_FORMAT,
    K_FINDINGS,
    K_RULES,
    K_TUNING,
    K_STAGES,
    K_WINDOW,
    K_SKEW,
    K_METRICS,
    K_IDENTITIES,
    K_IDENTITY_WAIT,
    K_COUNT
};
static const char *const key_names[K_COUNT] = {
    "kafka",
    "input_topics",
    "group_id",
    "candidates_topic",
    "output_topic",
    "dead_letter_topic",
    "transactional_id",
    "format",
    "findings",
    "rules",
    "tuning",
    "stages",
    "window",
    "skew",
    "metrics",
    "identities_topic",
    "identity_wait",
};

static void read_key(ctx *c, dh_stream_config *cfg, int k, yaml_node_t *v)
{
    switch (k) {
    case K_KAFKA:
        get_kafka(c, cfg, v);
        break;
    case K_INPUT:
        get_list(c, v, key_names[k], &cfg->input_topics, &cfg->ninput_topics);
        break;
    case K_GROUP:
        get_string(c, v, key_names[k], &cfg->group_id);
        break;
    case K_CANDIDATES:
        get_string(c, v, key_names[k], &cfg->candidates_topic);
        break;
    case K_OUTPUT:
        get_string(c, v, key_names[k], &cfg->output_topic);
        break;
    case K_DEAD:
        get_string(c, v, key_names[k], &cfg->dead_letter_topic);
        break;
    case K_TXID:
        get_string(c, v, key_names[k], &cfg->transactional_id);
        break;
    case K_FORMAT:
        get_format(c, cfg, v);
        break;
    case K_FINDINGS:
        get_findings(c, cfg, v);
        break;
    case K_RULES:
        get_list(c, v, key_names[k], &cfg->rule_paths, &cfg->nrule_paths);
        break;
    case K_TUNING:
        get_list(c, v, key_names[k], &cfg->tuning_paths, &cfg->ntuning_paths);
        break;
    case K_STAGES:
        get_stages(c, cfg, v);
        break;
    case K_WINDOW:
        get_seconds(c, v, key_names[k], &cfg->window_s);
        break;
    case K_SKEW:
        get_seconds(c, v, key_names[k], &cfg->skew_s);
        break;
    case K_METRICS:
        get_string(c, v, key_names[k], &cfg->metrics_addr);
        break;
    case K_IDENTITIES:
        get_string(c, v, key_names[k], &cfg->identities_topic);
        break;
    case K_IDENTITY_WAIT: {
        int64_t sec = -1;
        get_seconds(c, v, key_names[k], &sec);
        if (sec > 3600)
            fail(c, v,
                 "'identity_wait' must be at most 3600 seconds (a held candidate holds "
                 "its input offset back), not %lld",
                 (long long)sec);
        else if (sec >= 0)
            cfg->identity_wait_ms = sec ? sec * 1000 : -1; /* 0: no wait at all */
        break;
    }
    }
}

static void read_root(ctx *c, dh_stream_config *cfg, yaml_node_t *root)
{
    if (!root) {
        fail_at(c, 1, DH_ERR_FORMAT, "the file is empty");
        return;
    }
    if (root->type != YAML_MAPPING_NODE) {
        fail(c, root, "the config must be a mapping of keys (kafka, input_topics, ...)");
        return;
    }
    int seen[K_COUNT] = {0};
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         p < root->data.mapping.pairs.top && !c->failed; p++) {
        yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
        const char *k = scalar(c, kn, "a key");
        if (!k || !vn)
            break;
        int which = -1;
        for (int i = 0; i < K_COUNT; i++)
            if (!strcmp(k, key_names[i]))
                which = i;
        if (which < 0) {
            fail(c, kn, "unknown key '%s'", k);
            break;
        }
        if (seen[which]) {
            fail(c, kn, "'%s' is given twice (first on line %d)", k, seen[which]);
            break;
        }
        seen[which] = node_line(kn);
        read_key(c, cfg, which, vn);
    }
    if (!c->failed && (cfg->stages & DH_STREAM_STAGE1) && !cfg->ninput_topics)
        fail(c, root, "no input_topics, and stage 1 runs (stages: %s)",
             cfg->stages == DH_STREAM_BOTH ? "both" : "1");
}

static char *read_file(ctx *c)
{
    FILE *f = fopen(c->path, "rb");
    if (!f) {
        fail_at(c, 0, DH_ERR_IO, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *buf = malloc(MAX_CONFIG_FILE + 1);
    size_t n = buf ? fread(buf, 1, MAX_CONFIG_FILE + 1, f) : 0;
    int bad = buf && ferror(f);
    fclose(f);
    if (!buf) {
        fail_at(c, 0, DH_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (bad) {
        free(buf);
        fail_at(c, 0, DH_ERR_IO, "read failed");
        return NULL;
    }
    if (n > MAX_CONFIG_FILE) {
        free(buf);
        fail_at(c, 0, DH_ERR_LIMIT, "larger than %u bytes: not a config file", MAX_CONFIG_FILE);
        return NULL;
    }
    buf[n] = 0;
    c->len = n;
    return buf;
}

dh_status dh_stream_config_new(dh_stream_config **out)
{
    if (!out)
        return DH_ERR_ARG;
    *out = NULL;
    dh_stream_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return DH_ERR_NOMEM;
    cfg->group_id = strdup("dcomhunt");
    cfg->candidates_topic = strdup("dcomhunt-candidates");
    cfg->output_topic = strdup("dcomhunt-findings");
    cfg->dead_letter_topic = strdup("dcomhunt-dead-letter");
    cfg->identities_topic = strdup("dcomhunt-identities");
    cfg->format = DH_STREAM_AUTO;
    cfg->stages = DH_STREAM_BOTH;
    cfg->window_s = 300;
    cfg->skew_s = 120;
    if (!cfg->group_id || !cfg->candidates_topic || !cfg->output_topic || !cfg->dead_letter_topic ||
        !cfg->identities_topic) {
        dh_stream_config_free(cfg);
        return DH_ERR_NOMEM;
    }
    *out = cfg;
    return DH_OK;
}

dh_status dh_stream_config_load(const char *path, dh_stream_config **out, dh_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!out)
        return DH_ERR_ARG;
    *out = NULL;
    if (!path)
        return DH_ERR_ARG;
    ctx c = {.path = path, .err = err};
    dh_stream_config *cfg = NULL;
    dh_status st = dh_stream_config_new(&cfg);
    if (st != DH_OK) {
        fail_at(&c, 0, st, "out of memory");
        return st;
    }
    char *text = read_file(&c);
    if (!text) {
        dh_stream_config_free(cfg);
        return c.st;
    }
    c.text = text;
    yaml_parser_t parser;
    yaml_document_t doc;
    int have_doc = 0;
    if (!yaml_parser_initialize(&parser)) {
        fail_at(&c, 0, DH_ERR_NOMEM, "out of memory");
    } else {
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, c.len);
        if (!yaml_parser_load(&parser, &doc)) {
            fail_at(&c, (int)parser.problem_mark.line + 1, DH_ERR_FORMAT, "YAML: %s%s%s",
                    parser.problem ? parser.problem : "error", parser.context ? " " : "",
                    parser.context ? parser.context : "");
        } else {
            have_doc = 1;
            c.doc = &doc;
            read_root(&c, cfg, yaml_document_get_root_node(&doc));
            /* One document: a second one would be silently ignored otherwise. */
            yaml_document_t more;
            if (!c.failed && yaml_parser_load(&parser, &more)) {
                if (yaml_document_get_root_node(&more))
                    fail_at(&c, (int)more.start_mark.line + 1, DH_ERR_FORMAT,
                            "a second YAML document: a config is one mapping");
                yaml_document_delete(&more);
            } else if (!c.failed) {
                fail_at(&c, (int)parser.problem_mark.line + 1, DH_ERR_FORMAT, "YAML: %s",
                        parser.problem ? parser.problem : "error");
            }
        }
        yaml_parser_delete(&parser);
    }
    if (have_doc)
        yaml_document_delete(&doc);
    free(text);
    if (c.failed) {
        dh_stream_config_free(cfg);
        return c.st;
    }
    *out = cfg;
    return DH_OK;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void dh_stream_config_free(dh_stream_config *cfg)
{
    if (!cfg)
        return;
    free_list(cfg->kafka_keys, cfg->nkafka);
    free_list(cfg->kafka_values, cfg->nkafka);
    free_list(cfg->input_topics, cfg->ninput_topics);
    free_list(cfg->rule_paths, cfg->nrule_paths);
    free_list(cfg->tuning_paths, cfg->ntuning_paths);
    free(cfg->group_id);
    free(cfg->candidates_topic);
    free(cfg->output_topic);
    free(cfg->dead_letter_topic);
    free(cfg->transactional_id);
    free(cfg->metrics_addr);
    free(cfg->identities_topic);
    free(cfg);
}
