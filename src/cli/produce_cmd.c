/* dcomhunt produce: files, folders and archives sent to a Kafka topic as events, one
 * message each (dh_stream_produce, dcomhunt/stream.h), so a large batch can be hunted by
 * `dcomhunt stream` instances spread over many machines. This file parses arguments and
 * prints; the reading and the producing are the library's. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "dcomhunt/stream.h"

#define MAX_ERRORS_SHOWN 20 /* a dead cluster fails every message: say it, not 100,000 times */

typedef struct produce_cli {
    int progress;
    int progress_shown;
    uint64_t errors, delivery_errors;
} produce_cli;

static int usage(FILE *f, int rc)
{
    fputs("usage: dcomhunt produce (--config FILE | --brokers HOST:PORT[,...]) [--topic T]\n"
          "                        [--no-progress] PATH...\n"
          "  Sends every event of the inputs (files, directories, archives of any format\n"
          "  dcomhunt reads) to a Kafka topic, one message per event in dump's JSON form,\n"
          "  keyed by host, for `dcomhunt stream` (docs/stream.md).\n"
          "  --config FILE      the stream's config file: its kafka properties, and its first\n"
          "                     input topic as the topic\n"
          "  --brokers LIST     bootstrap.servers (with --config: instead of the file's)\n"
          "  --topic T          the topic (required without --config)\n"
          "  --no-progress      no progress line on stderr\n"
          "  exit status: 0 every event delivered, 2 usage or config error, 3 some input\n"
          "  skipped (the rest delivered), 4 some events not delivered, a fatal error or\n"
          "  nothing read\n",
          f);
    return rc;
}

static void clear_progress(produce_cli *c)
{
    if (c->progress_shown) {
        fputs("\r\033[K", stderr);
        c->progress_shown = 0;
    }
}

static void on_error(void *ctx, const dh_error *e)
{
    produce_cli *c = ctx;
    int delivery = e->status == DH_ERR_IO && !strncmp(e->message, "not ", 4);
    c->errors++;
    c->delivery_errors += delivery;
    if (delivery && c->delivery_errors > MAX_ERRORS_SHOWN)
        return;
    clear_progress(c);
    cli_print_error(e);
    if (delivery && c->delivery_errors == MAX_ERRORS_SHOWN)
        fputs("dcomhunt produce: more events not delivered are counted, not shown\n", stderr);
}

static void on_progress(void *ctx, const dh_stream_counts *s)
{
    produce_cli *c = ctx;
    if (!c->progress)
        return;
    uint64_t pending = s->lag > 0 ? (uint64_t)s->lag : 0;
    uint64_t done = s->events_in - pending - s->malformed;
    fprintf(stderr, "\r\033[Kdcomhunt produce: %llu events read, %llu delivered, %llu pending",
            (unsigned long long)s->events_in, (unsigned long long)done,
            (unsigned long long)pending);
    if (s->malformed)
        fprintf(stderr, ", %llu not delivered", (unsigned long long)s->malformed);
    c->progress_shown = 1;
}

/* Sets (or adds) a kafka property of cfg. */
static int set_kafka(dh_stream_config *cfg, const char *key, const char *value)
{
    for (size_t i = 0; i < cfg->nkafka; i++)
        if (!strcmp(cfg->kafka_keys[i], key)) {
            char *v = strdup(value);
            if (!v)
                return -1;
            free(cfg->kafka_values[i]);
            cfg->kafka_values[i] = v;
            return 0;
        }
    char **k = realloc(cfg->kafka_keys, (cfg->nkafka + 1) * sizeof *k);
    if (!k)
        return -1;
    cfg->kafka_keys = k;
    char **v = realloc(cfg->kafka_values, (cfg->nkafka + 1) * sizeof *v);
    if (!v)
        return -1;
    cfg->kafka_values = v;
    if (!(k[cfg->nkafka] = strdup(key)))
        return -1;
    if (!(v[cfg->nkafka] = strdup(value))) {
        free(k[cfg->nkafka]);
        return -1;
    }
    cfg->nkafka++;
    return 0;
}

static const struct option longopts[] = {
    {"config", required_argument, NULL, 'c'}, {"brokers", required_argument, NULL, 'b'},
    {"topic", required_argument, NULL, 't'},  {"no-progress", no_argument, NULL, 'P'},
    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
};

int cli_produce(int argc, char **argv)
{
    const char *config = NULL, *brokers = NULL, *topic = NULL;
    produce_cli c = {.progress = 1};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config = optarg;
            break;
        case 'b':
            brokers = optarg;
            break;
        case 't':
            topic = optarg;
            break;
        case 'P':
            c.progress = 0;
            break;
        case 'h':
            return usage(stdout, DH_EXIT_OK);
        default:
            return usage(stderr, DH_EXIT_USAGE);
        }
    }
    if (optind >= argc) {
        fputs("dcomhunt produce: no PATH to send\n", stderr);
        return usage(stderr, DH_EXIT_USAGE);
    }
    if (!config && !brokers) {
        fputs("dcomhunt produce: --config FILE or --brokers LIST names the cluster\n", stderr);
        return usage(stderr, DH_EXIT_USAGE);
    }
    if (brokers && !*brokers) {
        fputs("dcomhunt produce: --brokers is empty\n", stderr);
        return DH_EXIT_USAGE;
    }
    dh_stream_config *cfg = NULL;
    dh_error err;
    if (config) {
        if (dh_stream_config_load(config, &cfg, &err) != DH_OK) {
            cli_print_error(&err);
            return DH_EXIT_USAGE;
        }
    } else if (dh_stream_config_new(&cfg) != DH_OK) {
        fputs("dcomhunt produce: out of memory\n", stderr);
        return DH_EXIT_ERROR;
    }
    if (!topic && cfg->ninput_topics)
        topic = cfg->input_topics[0];
    if (!topic || !*topic) {
        fputs("dcomhunt produce: no --topic (and no input_topics in a --config)\n", stderr);
        dh_stream_config_free(cfg);
        return DH_EXIT_USAGE;
    }
    if (brokers && set_kafka(cfg, "bootstrap.servers", brokers)) {
        fputs("dcomhunt produce: out of memory\n", stderr);
        dh_stream_config_free(cfg);
        return DH_EXIT_ERROR;
    }
    c.progress = c.progress && isatty(STDERR_FILENO);
    dh_stream_sink sink = {.ctx = &c, .on_error = on_error, .on_progress = on_progress};
    uint64_t sent = 0;
    dh_status st = dh_stream_produce(cfg, topic, (const char *const *)argv + optind,
                                     (size_t)(argc - optind), &sink, &sent);
    clear_progress(&c);
    fprintf(stderr, "dcomhunt produce: %llu events delivered to ", (unsigned long long)sent);
    cli_put_safe(stderr, topic);
    if (c.delivery_errors)
        fprintf(stderr, "; %llu not delivered", (unsigned long long)c.delivery_errors);
    fputc('\n', stderr);
    dh_stream_config_free(cfg);
    if (st == DH_ERR_ARG)
        return DH_EXIT_USAGE; /* the kafka properties or the cluster named (said above) */
    if (st == DH_OK)
        return DH_EXIT_OK;
    if (st == DH_ERR_FORMAT && sent)
        return DH_EXIT_PARTIAL;
    if (st == DH_ERR_FORMAT)
        fputs("dcomhunt produce: nothing was read\n", stderr);
    else
        fprintf(stderr, "dcomhunt produce: %s\n", dh_status_str(st));
    return DH_EXIT_ERROR;
}
