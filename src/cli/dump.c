/* dcomhunt dump: every event as a JSON line (or the record's XML). */
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "output/json.h"
#include "output/mde.h"
#include "output/xml.h"

enum { TO_JSON, TO_XML, TO_OTRF, TO_ECS, TO_MDE_JSON, TO_MDE_CSV };

typedef struct dump_ctx {
    int to;
    int xml;
    unsigned flags;
    atomic_ullong not_written; /* events the output format has no place for */
} dump_ctx;

static void *dump_worker_new(void *ctx)
{
    return ctx;
}

static dh_status dump_event(void *wctx, const dh_event *ev, dh_buf *out)
{
    dump_ctx *c = wctx;
    if (c->to == TO_MDE_JSON || c->to == TO_MDE_CSV) {
        int written;
        dh_status st = c->to == TO_MDE_JSON ? dh_mde_json_event(out, ev, &written)
                                            : dh_mde_csv_event(out, ev, &written);
        if (!written)
            atomic_fetch_add(&c->not_written, 1);
        return st;
    }
    if (c->to == TO_OTRF)
        return dh_json_event_otrf(out, ev);
    if (c->to == TO_ECS)
        return dh_json_event_ecs(out, ev);
    if (c->xml)
        return dh_xml_event(out, ev);
    return dh_json_event(out, ev, c->flags);
}

static dh_status dump_emit(void *ctx, const char *bytes, size_t len)
{
    (void)ctx;
    return fwrite(bytes, 1, len, stdout) == len ? DH_OK : DH_ERR_IO;
}

static void dump_error(void *ctx, const dh_error *e)
{
    (void)ctx;
    cli_print_error(e);
}

static void usage(FILE *f)
{
    fputs("usage: dcomhunt dump [--to FORMAT] [--xml] [--fields] [-j N] [--full-walk] PATH...\n"
          "  Decodes every event of the inputs (files or directories; formats are recognised\n"
          "  by content) and prints one JSON object per line: file, chunk, offset, record_id,\n"
          "  time, event_id, provider, channel, computer, kind, data.\n"
          "  --xml        print each event as Windows event XML instead (--to xml)\n"
          "  --to FORMAT  json (the default), xml, otrf (NXLog-style flat JSON), ecs\n"
          "               (Winlogbeat JSON): events dcomhunt reads back as they were;\n"
          "               mde-json, mde-csv (Defender advanced-hunting rows: process,\n"
          "               network, logon, image-load and registry events only)\n"
          "  --fields     add the normalized taxonomy fields as \"fields\"\n"
          "  -j, --threads N   worker threads (default: one per core)\n"
          "  --full-walk  decode without the per-template fast path (a check: the output\n"
          "               must be the same, only slower)\n",
          f);
}

int cli_dump(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"xml", no_argument, NULL, 'x'},
        {"to", required_argument, NULL, 't'},
        {"fields", no_argument, NULL, 'f'},
        {"threads", required_argument, NULL, 'j'},
        {"full-walk", no_argument, NULL, 'W'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    dump_ctx c = {0};
    dh_scan_opts opts;
    dh_scan_opts_init(&opts);
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "j:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'x':
            c.xml = 1;
            break;
        case 't':
            if (!strcmp(optarg, "json"))
                c.to = TO_JSON;
            else if (!strcmp(optarg, "xml"))
                c.xml = 1;
            else if (!strcmp(optarg, "otrf"))
                c.to = TO_OTRF;
            else if (!strcmp(optarg, "ecs"))
                c.to = TO_ECS;
            else if (!strcmp(optarg, "mde-json"))
                c.to = TO_MDE_JSON;
            else if (!strcmp(optarg, "mde-csv"))
                c.to = TO_MDE_CSV;
            else {
                fputs("dcomhunt dump: --to takes json, xml, otrf, ecs, mde-json or mde-csv\n",
                      stderr);
                return DH_EXIT_USAGE;
            }
            break;
        case 'f':
            c.flags |= DH_JSON_FIELDS;
            break;
        case 'W':
            opts.full_walk = 1;
            break;
        case 'j': {
            int t = cli_parse_threads(optarg);
            if (t < 0) {
                fputs("dcomhunt dump: -j wants a number from 0 to 256\n", stderr);
                return DH_EXIT_USAGE;
            }
            opts.threads = (unsigned)t;
            break;
        }
        case 'h':
            usage(stdout);
            return DH_EXIT_OK;
        default:
            usage(stderr);
            return DH_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return DH_EXIT_USAGE;
    }
    opts.want_xml = c.xml;
    opts.want_system = 1; /* every format written keeps them */
    static char obuf[1 << 20];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    if (c.to == TO_MDE_CSV) {
        dh_buf h;
        dh_buf_init(&h, 4096);
        if (dh_mde_csv_header(&h) == DH_OK)
            fwrite(h.data, 1, h.len, stdout);
        dh_buf_free(&h);
    }
    dh_scan_callbacks cb = {
        .ctx = &c,
        .worker_new = dump_worker_new,
        .on_event = dump_event,
        .emit = dump_emit,
        .on_error = dump_error,
    };
    dh_scan_stats stats;
    dh_status st = dh_scan_run((const char *const *)argv + optind, (size_t)(argc - optind), &opts,
                               &cb, &stats);
    if (fflush(stdout) != 0 && st == DH_OK)
        st = DH_ERR_IO;
    if (st != DH_OK && st != DH_ERR_FORMAT)
        fprintf(stderr, "dcomhunt dump: %s\n", dh_status_str(st));
    unsigned long long skipped = atomic_load(&c.not_written);
    if (skipped)
        fprintf(stderr,
                "dcomhunt dump: %llu events have no Defender table (DistributedCOM, PowerShell, "
                "special logons...) and were not written\n",
                skipped);
    cli_nothing_read("dump", st, &stats);
    return cli_exit_for(st, &stats);
}
