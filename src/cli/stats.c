/* dcomhunt stats: decode and normalize every event, count them per channel, event id and
 * kind. It exercises exactly the decode-and-normalize path, which makes it the benchmark
 * of that path too. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "dcomhunt/engine.h"

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
    dh_engine_opts opts;
    dh_engine_opts_init(&opts);
    opts.mode = DH_ENGINE_DETECTIONS; /* with no rules: events read and counted, no more */
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
    opts.sink = (dh_engine_sink){.on_error = stats_error};
    dh_engine *eng = NULL;
    dh_status st = dh_engine_new(&opts, NULL, &eng);
    if (st != DH_OK) {
        fprintf(stderr, "dcomhunt stats: %s\n", dh_status_str(st));
        return DH_EXIT_ERROR;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = dh_engine_run(eng, (const char *const *)argv + optind, (size_t)(argc - optind));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

    dh_engine_counts counts;
    if (dh_engine_stats(eng, &counts) != DH_OK && st == DH_OK)
        st = DH_ERR_NOMEM;
    const dh_scan_stats stats = counts.input;
    const dh_channel_count *list;
    size_t n = dh_engine_channels(eng, &list); /* most frequent first */
    if (!list && st == DH_OK)
        st = DH_ERR_NOMEM;
    printf("count\tchannel\tevent_id\tkind\n");
    for (size_t i = 0; i < n; i++) {
        printf("%llu\t", (unsigned long long)list[i].count);
        cli_put_safe_n(stdout, list[i].channel.ptr, list[i].channel.len);
        printf("\t%u\t%s\n", list[i].event_id, dh_kind_name(list[i].kind));
    }
    dh_engine_free(eng);
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
