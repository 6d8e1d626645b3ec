/* dcomhunt stream: continuous detection on Kafka (dcomhunt/stream.h, docs/stream.md).
 * This file reads the config, loads the rules as hunt does (the built-in pack and the
 * config's rules), runs the stream until SIGTERM or SIGINT asks it to drain, and prints:
 * a progress line on stderr about once a second, and every problem with its file (or
 * topic) and offset. The stages, transactions and the metrics endpoint are the
 * library's. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "dcomhunt/rules.h"
#include "dcomhunt/stream.h"

/* The stream a signal stops: dh_stream_stop only sets a flag (async-signal-safe). */
static dh_stream *volatile running;

static void on_signal(int sig)
{
    (void)sig;
    dh_stream *s = running;
    if (s)
        dh_stream_stop(s);
}

static int usage(FILE *f, int rc)
{
    fputs("usage: dcomhunt stream --config FILE [--metrics HOST:PORT] [--stage 1|2|both]\n"
          "                       [--no-progress]\n"
          "  Consumes events from Kafka, matches them (stage 1), correlates them in event\n"
          "  time (stage 2) and produces findings to the output topic, exactly once, until\n"
          "  SIGTERM or SIGINT (a second one stops without draining). docs/stream.md.\n"
          "  --config FILE      kafka properties, topics, rules, tuning, window and skew\n"
          "  --metrics ADDR     serve Prometheus text at http://ADDR/metrics (instead of\n"
          "                     the config's `metrics`)\n"
          "  --stage 1|2|both   which stages this process runs (instead of the config's)\n"
          "  --no-progress      no progress lines on stderr\n"
          "  exit status: 0 stopped and drained, 2 usage or config error, 3 as 0 but some\n"
          "  rule was refused, 4 the stream could not go on (the reason on stderr)\n",
          f);
    return rc;
}

static void on_error(void *ctx, const dh_error *e)
{
    (void)ctx;
    cli_print_error(e);
}

static void on_progress(void *ctx, const dh_stream_counts *c)
{
    if (!*(const int *)ctx)
        return;
    fprintf(
        stderr,
        "dcomhunt stream: in %llu messages, %llu events; candidates out %llu, in %llu; "
        "findings %llu (suppressed %llu, tuned %llu); late %llu; malformed %llu; transactions %llu "
        "(aborted %llu); open windows %llu; lag ",
        (unsigned long long)c->messages_in, (unsigned long long)c->events_in,
        (unsigned long long)c->candidates_out, (unsigned long long)c->candidates_in,
        (unsigned long long)c->findings_out, (unsigned long long)c->findings_suppressed,
        (unsigned long long)c->findings_tuned, (unsigned long long)c->late,
        (unsigned long long)c->malformed, (unsigned long long)c->transactions,
        (unsigned long long)c->aborted, (unsigned long long)c->open_windows);
    if (c->lag < 0)
        fputs("unknown\n", stderr);
    else
        fprintf(stderr, "%lld\n", (long long)c->lag);
}

static const struct option longopts[] = {
    {"config", required_argument, NULL, 'c'}, {"metrics", required_argument, NULL, 'm'},
    {"stage", required_argument, NULL, 's'},  {"no-progress", no_argument, NULL, 'P'},
    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
};

/* The command line's choices over the config's; 0, or the exit status. */
static int apply_args(dh_stream_config *cfg, const char *metrics, const char *stage)
{
    if (metrics) {
        char *m = strdup(metrics);
        if (!m)
            return DH_EXIT_ERROR;
        free(cfg->metrics_addr);
        cfg->metrics_addr = m;
    }
    if (stage) {
        if (!strcmp(stage, "1"))
            cfg->stages = DH_STREAM_STAGE1;
        else if (!strcmp(stage, "2"))
            cfg->stages = DH_STREAM_STAGE2;
        else if (!strcmp(stage, "both"))
            cfg->stages = DH_STREAM_BOTH;
        else {
            fputs("dcomhunt stream: --stage is 1, 2 or both\n", stderr);
            return DH_EXIT_USAGE;
        }
    }
    if ((cfg->stages & DH_STREAM_STAGE1) && !cfg->ninput_topics) {
        fputs("dcomhunt stream: stage 1 runs and the config names no input_topics\n", stderr);
        return DH_EXIT_USAGE;
    }
    return 0;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* The first signal drains; the second, with the default action back, ends it. */
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

int cli_stream(int argc, char **argv)
{
    const char *config = NULL, *metrics = NULL, *stage = NULL;
    int progress = 1, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config = optarg;
            break;
        case 'm':
            metrics = optarg;
            break;
        case 's':
            stage = optarg;
            break;
        case 'P':
            progress = 0;
            break;
        case 'h':
            return usage(stdout, DH_EXIT_OK);
        default:
            return usage(stderr, DH_EXIT_USAGE);
        }
    }
    if (optind < argc) {
        fputs("dcomhunt stream: reads Kafka, not paths (dcomhunt produce sends files)\n", stderr);
        return usage(stderr, DH_EXIT_USAGE);
    }
    if (!config) {
        fputs("dcomhunt stream: --config FILE is required\n", stderr);
        return usage(stderr, DH_EXIT_USAGE);
    }
    dh_stream_config *cfg = NULL;
    dh_error err;
    if (dh_stream_config_load(config, &cfg, &err) != DH_OK) {
        cli_print_error(&err);
        return DH_EXIT_USAGE;
    }
    int rc = apply_args(cfg, metrics, stage);
    if (rc) {
        dh_stream_config_free(cfg);
        return rc;
    }
    if (cli_rule_paths_ok("dcomhunt stream: rules", cfg->rule_paths, cfg->nrule_paths) ||
        cli_rule_paths_ok("dcomhunt stream: tuning", cfg->tuning_paths, cfg->ntuning_paths)) {
        dh_stream_config_free(cfg);
        return DH_EXIT_USAGE;
    }
    dh_ruleset *rs = NULL;
    unsigned refused = 0;
    if (cli_load_rules(&rs, 1, cfg->rule_paths, cfg->nrule_paths, &refused) != DH_OK) {
        fputs("dcomhunt stream: cannot load rules\n", stderr);
        dh_stream_config_free(cfg);
        return DH_EXIT_ERROR;
    }
    dh_ruleset *tune_rs = NULL;
    dh_tuning *tuning = NULL;
    if (cfg->ntuning_paths && cli_load_tuning("dcomhunt stream", "tuning", cfg->tuning_paths,
                                              cfg->ntuning_paths, &tune_rs, &tuning)) {
        dh_tuning_free(tuning);
        dh_ruleset_free(tune_rs);
        dh_ruleset_free(rs);
        dh_stream_config_free(cfg);
        return DH_EXIT_USAGE;
    }
    dh_stream_sink sink = {.ctx = &progress, .on_error = on_error, .on_progress = on_progress};
    dh_stream *s = NULL;
    dh_status st = dh_stream_new(cfg, rs, &sink, &s);
    dh_stream_set_tuning(s, tuning);
    if (st != DH_OK) {
        const dh_error *e = s ? dh_stream_error(s) : NULL;
        if (e && (e->message[0] || e->file[0]))
            cli_print_error(e); /* the property, address or topic that failed */
        fprintf(stderr, "dcomhunt stream: cannot start: %s\n", dh_status_str(st));
        dh_stream_free(s);
        dh_tuning_free(tuning);
        dh_ruleset_free(tune_rs);
        dh_ruleset_free(rs);
        dh_stream_config_free(cfg);
        return st == DH_ERR_ARG ? DH_EXIT_USAGE : DH_EXIT_ERROR;
    }
    running = s;
    install_signals();
    st = dh_stream_run(s);
    running = NULL;
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    if (st != DH_OK) {
        const dh_error *e = dh_stream_error(s);
        if (e && (e->message[0] || e->file[0]))
            cli_print_error(e);
        fprintf(stderr, "dcomhunt stream: stopped: %s\n", dh_status_str(st));
        rc = DH_EXIT_ERROR;
    } else {
        dh_stream_counts c;
        dh_stream_counts_get(s, &c);
        int one = 1;
        fputs("dcomhunt stream: drained and stopped\n", stderr);
        on_progress(&one, &c);
        rc = refused ? DH_EXIT_PARTIAL : DH_EXIT_OK;
    }
    dh_stream_free(s);
    dh_tuning_free(tuning);
    dh_ruleset_free(tune_rs);
    dh_ruleset_free(rs);
    dh_stream_config_free(cfg);
    return rc;
}
