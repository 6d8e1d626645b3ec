/* dcomhunt stats: decode and normalize every event, count them per channel, event id and
 * kind. It exercises exactly the decode-and-normalize path, which makes it the benchmark
 * of that path too. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/tally.h"

typedef struct stats_ctx {
    pthread_mutex_t mu;
    table merged;
    uint64_t events;
} stats_ctx;

typedef struct stats_worker {
    stats_ctx *c;
    table t;
    uint64_t events;
    const char *last_ptr; /* last channel seen, to skip rehashing the same key */
    size_t last_len;
    uint32_t last_id;
    size_t last_slot;
} stats_worker;

static void *stats_worker_new(void *ctx)
{
    stats_worker *w = calloc(1, sizeof *w);
    if (w)
        w->c = ctx;
    return w;
}

static void stats_worker_free(void *wctx)
{
    stats_worker *w = wctx;
    if (!w)
        return;
    stats_ctx *c = w->c;
    pthread_mutex_lock(&c->mu);
    c->events += w->events;
    table_merge(&c->merged, &w->t);
    pthread_mutex_unlock(&c->mu);
    free(w);
}

static dh_status stats_event(void *wctx, const dh_event *ev, dh_buf *out)
{
    (void)out;
    stats_worker *w = wctx;
    if (!w)
        return DH_ERR_NOMEM;
    w->events++;
    dh_str ch = dh_event_channel(ev);
    uint32_t id = dh_event_id(ev);
    int kind = (int)dh_event_kind(ev);
    size_t slot;
    tally *e = table_find(&w->t, ch.ptr, ch.len, id, kind, &slot);
    if (!e)
        return DH_ERR_NOMEM;
    e->count++;
    return DH_OK;
}

static void stats_error(void *ctx, const dh_error *e)
{
    (void)ctx;
    cli_print_error(e);
}

int cli_stats(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"threads", required_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    dh_scan_opts opts;
    dh_scan_opts_init(&opts);
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "j:h", longopts, NULL)) != -1) {
        if (ch == 'j') {
            int t = cli_parse_threads(optarg);
            if (t < 0) {
                fputs("dcomhunt stats: -j wants a number from 0 to 256\n", stderr);
                return DH_EXIT_USAGE;
            }
            opts.threads = (unsigned)t;
        } else {
            fputs("usage: dcomhunt stats [-j N] PATH...\n"
                  "  Counts events per channel, event id and kind (tab-separated on stdout) and\n"
                  "  prints files, records, time and throughput on stderr.\n",
                  ch == 'h' ? stdout : stderr);
            return ch == 'h' ? DH_EXIT_OK : DH_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fputs("usage: dcomhunt stats [-j N] PATH...\n", stderr);
        return DH_EXIT_USAGE;
    }
    stats_ctx c = {0};
    pthread_mutex_init(&c.mu, NULL);
    dh_scan_callbacks cb = {
        .ctx = &c,
        .worker_new = stats_worker_new,
        .worker_free = stats_worker_free,
        .on_event = stats_event,
        .on_error = stats_error,
    };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    dh_scan_stats stats;
    dh_status st = dh_scan_run((const char *const *)argv + optind, (size_t)(argc - optind), &opts,
                               &cb, &stats);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

    size_t n = 0;
    tally *list = malloc((c.merged.n ? c.merged.n : 1) * sizeof *list);
    for (size_t i = 0; list && i < c.merged.cap; i++)
        if (c.merged.v[i].channel)
            list[n++] = c.merged.v[i];
    if (list && n > 1)
        qsort(list, n, sizeof *list, tally_cmp_count); /* most frequent first */
    printf("count\tchannel\tevent_id\tkind\n");
    for (size_t i = 0; i < n; i++) {
        printf("%llu\t", (unsigned long long)list[i].count);
        cli_put_safe_n(stdout, list[i].channel, list[i].channel_len);
        printf("\t%u\t%s\n", list[i].event_id, dh_kind_name((dh_kind)list[i].kind));
    }
    for (size_t i = 0; i < c.merged.cap; i++)
        free(c.merged.v[i].channel);
    free(c.merged.v);
    free(list);
    pthread_mutex_destroy(&c.mu);
    fprintf(stderr,
            "files %llu read, %llu skipped; chunks %llu (%llu damaged); records %llu "
            "(%llu damaged); %.3f s; %.0f records/s; %.1f MB/s\n",
            (unsigned long long)stats.files_read, (unsigned long long)stats.files_skipped,
            (unsigned long long)stats.chunks, (unsigned long long)stats.chunks_damaged,
            (unsigned long long)stats.records, (unsigned long long)stats.records_damaged, secs,
            secs > 0 ? (double)stats.records / secs : 0.0,
            secs > 0 ? (double)stats.bytes_read / secs / 1e6 : 0.0);
    if (stats.records_unused)
        fprintf(stderr, "records of logs not used (Zeek logs without connection endpoints): %llu\n",
                (unsigned long long)stats.records_unused);
    if (st != DH_OK && st != DH_ERR_FORMAT)
        fprintf(stderr, "dcomhunt stats: %s\n", dh_status_str(st));
    cli_nothing_read("stats", st, &stats);
    return cli_exit_for(st, &stats);
}
