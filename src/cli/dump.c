/* dcomhunt dump: every event as a JSON line (or the record's XML). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "output/evtx_schema.h"
#include "output/evtx_write.h"
#include "output/json.h"
#include "output/mde.h"
#include "output/xml.h"

enum { TO_JSON, TO_XML, TO_OTRF, TO_ECS, TO_MDE_JSON, TO_MDE_CSV, TO_EVTX };

typedef struct dump_ctx {
    int to;
    int xml;
    unsigned flags;
    atomic_ullong not_written; /* events the output format has no place for */
    FILE *out;
    dh_evtx_writer *evtx;  /* --to evtx: fed in input order from emit */
    uint64_t evtx_refused; /* events the EVTX writer could not take */
} dump_ctx;

/* --to evtx: each worker turns its events into EVTX records (dh_evtx_record_from_text: the
 * schema looked up, every value parsed to its type) and writes each record whole into the
 * unit's output; the calling thread only reads them back, in input order, for the one
 * writer, whose chunk tables (templates and names defined at their first use in a chunk)
 * make the order matter. Building the records was 12% of the instructions of dump --to
 * evtx -j1 on the evtx-samples chunks, all of it on the calling thread. */
enum { EVTX_MAX_ITEMS = 1024 };

typedef struct dump_worker {
    dump_ctx *c;
    dh_buf scratch; /* the record's strings and values (dh_evtx_record_from_text) */
    dh_evtx_item items[EVTX_MAX_ITEMS];
    uint32_t nlen[EVTX_MAX_ITEMS]; /* the items' name lengths, while one is packed */
} dump_worker;

#define NO_STR UINT32_MAX /* a NULL string */

/* A string at q: its length (NO_STR for NULL), then its bytes and NUL. */
static char *put_cstr(char *q, const char *s, size_t n)
{
    uint32_t l = s ? (uint32_t)n : NO_STR;
    memcpy(q, &l, 4);
    q += 4;
    if (s) {
        memcpy(q, s, n + 1);
        q += n + 1;
    }
    return q;
}

/* 'R', the record's fields (the struct's bytes, its pointers rewritten on reading), its
 * strings, then per item the name, type, length and the value's bytes at a multiple of 8
 * from the start of the unit's output (where the calling thread reads them in place);
 * 'X' for an event that does not fit a record. Sized first and written in one piece: an
 * append per piece was a third of the packing. */
static dh_status pack_record(dump_worker *w, const dh_event *ev, dh_buf *b)
{
    size_t n;
    const dh_kv *kv = dh_event_data(ev, &n);
    dh_evtx_text_event e;
    memset(&e, 0, sizeof e);
    e.provider = dh_event_provider(ev);
    e.channel = dh_event_channel(ev);
    e.host = dh_event_host(ev);
    e.event_id = dh_event_id(ev);
    e.record_id = dh_event_record_id(ev);
    e.time = dh_event_time(ev);
    e.data = kv;
    e.ndata = n;
    dh_evtx_record r;
    dh_status st = n <= EVTX_MAX_ITEMS && e.event_id <= 0xFFFF
                       ? dh_evtx_record_from_text(&e, &r, w->items, EVTX_MAX_ITEMS, &w->scratch)
                       : DH_ERR_LIMIT;
    if (st == DH_ERR_LIMIT || st == DH_ERR_ARG)
        return dh_buf_putc(b, 'X');
    if (st)
        return st;
    const char *strs[] = {r.provider, r.provider_guid, r.event_source, r.channel,     r.computer,
                          r.user_sid, r.activity_id,   r.user_data,    r.user_data_ns};
    enum { NSTR = sizeof strs / sizeof strs[0] };
    size_t sl[NSTR], total = 1 + sizeof r + 4;
    for (size_t i = 0; i < NSTR; i++) {
        sl[i] = strs[i] ? strlen(strs[i]) : 0;
        total += 4 + (strs[i] ? sl[i] + 1 : 0);
    }
    for (size_t i = 0; i < r.nitems; i++) {
        w->nlen[i] = (uint32_t)strlen(r.items[i].name);
        total += 4 + w->nlen[i] + 1 + 1 + 4 + 7 + r.items[i].value.len;
    }
    size_t at = b->len;
    char *q0 = dh_buf_reserve(b, total), *q = q0;
    if (!q0)
        return dh_buf_status(b) ? dh_buf_status(b) : DH_ERR_NOMEM;
    *q++ = 'R';
    memcpy(q, &r, sizeof r);
    q += sizeof r;
    for (size_t i = 0; i < NSTR; i++)
        q = put_cstr(q, strs[i], sl[i]);
    uint32_t ni = (uint32_t)r.nitems;
    memcpy(q, &ni, 4);
    q += 4;
    for (uint32_t i = 0; i < ni; i++) {
        const dh_evtx_value *v = &r.items[i].value;
        q = put_cstr(q, r.items[i].name, w->nlen[i]);
        *q++ = (char)v->type;
        memcpy(q, &v->len, 4);
        q += 4;
        size_t pad = (8 - (at + (size_t)(q - q0)) % 8) % 8;
        memset(q, 0, pad);
        q += pad;
        if (v->len)
            memcpy(q, v->data, v->len);
        q += v->len;
    }
    b->len += (size_t)(q - q0);
    return DH_OK;
}

static int get_cstr(const char **p, const char *end, const char **s)
{
    uint32_t n;
    if (end - *p < 4)
        return -1;
    memcpy(&n, *p, 4);
    *p += 4;
    if (n == NO_STR) {
        *s = NULL;
        return 0;
    }
    if ((size_t)(end - *p) <= n || (*p)[n] != '\0')
        return -1;
    *s = *p;
    *p += (size_t)n + 1;
    return 0;
}

/* One 'R' body from *pp into r, its items into items (room for EVTX_MAX_ITEMS); bytes is
 * where the unit's output starts (the values were aligned from there). */
static int get_record(const char **pp, const char *bytes, const char *end, dh_evtx_record *r,
                      dh_evtx_item *items)
{
    const char *p = *pp;
    uint32_t ni;
    if ((size_t)(end - p) < sizeof *r)
        return -1;
    memcpy(r, p, sizeof *r);
    p += sizeof *r;
    const char **strs[] = {&r->provider,    &r->provider_guid, &r->event_source,
                           &r->channel,     &r->computer,      &r->user_sid,
                           &r->activity_id, &r->user_data,     &r->user_data_ns};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (get_cstr(&p, end, strs[i]))
            return -1;
    if (end - p < 4)
        return -1;
    memcpy(&ni, p, 4);
    p += 4;
    if (ni > EVTX_MAX_ITEMS)
        return -1;
    for (uint32_t i = 0; i < ni; i++) {
        dh_evtx_value *v = &items[i].value;
        if (get_cstr(&p, end, &items[i].name) || !items[i].name || end - p < 5)
            return -1;
        v->type = (uint8_t)*p++;
        memcpy(&v->len, p, 4);
        p += 4;
        p += (8 - (size_t)(p - bytes) % 8) % 8;
        if (p > end || (size_t)(end - p) < v->len)
            return -1;
        v->data = p;
        p += v->len;
    }
    r->items = items;
    r->nitems = ni;
    *pp = p;
    return 0;
}

static dh_status write_evtx(dump_ctx *c, const char *bytes, size_t len)
{
    const char *p = bytes, *end = bytes + len;
    dh_evtx_item items[EVTX_MAX_ITEMS];
    while (p < end) {
        char tag = *p++;
        if (tag == 'X') {
            c->evtx_refused++;
            continue;
        }
        dh_evtx_record r;
        if (tag != 'R' || get_record(&p, bytes, end, &r, items))
            return DH_ERR_FORMAT;
        dh_status st = dh_evtx_writer_add(c->evtx, &r, NULL);
        if (st == DH_ERR_LIMIT || st == DH_ERR_ARG)
            c->evtx_refused++;
        else if (st)
            return st;
    }
    return DH_OK;
}

static void *dump_worker_new(void *ctx)
{
    dump_worker *w = malloc(sizeof *w);
    if (!w)
        return NULL;
    w->c = ctx;
    dh_buf_init(&w->scratch, 64u << 20);
    return w;
}

static void dump_worker_free(void *wctx)
{
    dump_worker *w = wctx;
    if (!w)
        return;
    dh_buf_free(&w->scratch);
    free(w);
}

static dh_status dump_event(void *wctx, const dh_event *ev, dh_buf *out)
{
    dump_worker *w = wctx;
    if (!w)
        return DH_ERR_NOMEM;
    dump_ctx *c = w->c;
    if (c->to == TO_EVTX)
        return pack_record(w, ev, out);
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

/* A unit's output (tens of KiB) goes out with write(2) itself: through stdio it was
 * copied into the stream's buffer first, 4% of dump's instructions (callgrind,
 * 2026-12-07). What stdio holds is flushed first, so the order stays. */
#define DIRECT_WRITE (64u << 10)

static dh_status dump_emit(void *ctx, const char *bytes, size_t len)
{
    dump_ctx *c = ctx;
    if (c->to == TO_EVTX)
        return write_evtx(c, bytes, len);
    if (len < DIRECT_WRITE)
        return fwrite(bytes, 1, len, c->out) == len ? DH_OK : DH_ERR_IO;
    if (fflush(c->out) != 0)
        return DH_ERR_IO;
    int fd = fileno(c->out);
    while (len) {
        ssize_t n = write(fd, bytes, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return DH_ERR_IO;
        bytes += n;
        len -= (size_t)n;
    }
    return DH_OK;
}

static void dump_error(void *ctx, const dh_error *e)
{
    (void)ctx;
    cli_print_error(e);
}

static void usage(FILE *f)
{
    fputs("usage: dcomhunt dump [--to FORMAT] [-o FILE] [--xml] [--fields] [-j N] [--full-walk]\n"
          "                     PATH...\n"
          "  Decodes every event of the inputs (files or directories; formats are recognised\n"
          "  by content) and prints one JSON object per line: file, chunk, offset, record_id,\n"
          "  time, event_id, provider, channel, computer, kind, data.\n"
          "  --xml        print each event as Windows event XML instead (--to xml)\n"
          "  --to FORMAT  json (the default), xml, otrf (NXLog-style flat JSON), ecs\n"
          "               (Winlogbeat JSON): events dcomhunt reads back as they were;\n"
          "               mde-json, mde-csv (Defender advanced-hunting rows: process,\n"
          "               network, logon, image-load and registry events only);\n"
          "               evtx (a Windows event log file, with -o FILE)\n"
          "  -o, --output FILE  write to FILE instead of standard output\n"
          "  --fields     add the normalized taxonomy fields as \"fields\"\n"
          "  -j, --threads N   worker threads (default: one per core)\n"
          "  --full-walk  decode without the per-template fast path (a check: the output\n"
          "               must be the same, only slower)\n",
          f);
}

static const struct option longopts[] = {
    {"xml", no_argument, NULL, 'x'},           {"to", required_argument, NULL, 't'},
    {"output", required_argument, NULL, 'o'},  {"fields", no_argument, NULL, 'f'},
    {"threads", required_argument, NULL, 'j'}, {"full-walk", no_argument, NULL, 'W'},
    {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
};

/* --to: the output format into c; -1 (said why) when the name is unknown. */
static int parse_to(const char *arg, dump_ctx *c)
{
    if (!strcmp(arg, "json"))
        c->to = TO_JSON;
    else if (!strcmp(arg, "xml"))
        c->xml = 1;
    else if (!strcmp(arg, "otrf"))
        c->to = TO_OTRF;
    else if (!strcmp(arg, "ecs"))
        c->to = TO_ECS;
    else if (!strcmp(arg, "mde-json"))
        c->to = TO_MDE_JSON;
    else if (!strcmp(arg, "mde-csv"))
        c->to = TO_MDE_CSV;
    else if (!strcmp(arg, "evtx"))
        c->to = TO_EVTX;
    else {
        fputs("dcomhunt dump: --to takes json, xml, otrf, ecs, mde-json, mde-csv or evtx\n",
              stderr);
        return -1;
    }
    return 0;
}

/* The command line into c, *out_path and opts; with *stop set, the command ends with the
 * status returned (help, a usage error). The inputs start at argv[optind]. */
static int parse_args(int argc, char **argv, dump_ctx *c, const char **out_path, dh_scan_opts *opts,
                      int *stop)
{
    int ch;
    optind = 1;
    *stop = 1;
    while ((ch = getopt_long(argc, argv, "j:o:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'x':
            c->xml = 1;
            break;
        case 't':
            if (parse_to(optarg, c))
                return DH_EXIT_USAGE;
            break;
        case 'f':
            c->flags |= DH_JSON_FIELDS;
            break;
        case 'o':
            *out_path = optarg;
            break;
        case 'W':
            opts->full_walk = 1;
            break;
        case 'j': {
            int t = cli_parse_threads(optarg);
            if (t < 0) {
                fputs("dcomhunt dump: -j wants a number from 0 to 256\n", stderr);
                return DH_EXIT_USAGE;
            }
            opts->threads = (unsigned)t;
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
    if (c->xml && c->to == TO_EVTX) {
        fputs("dcomhunt dump: --xml and --to evtx exclude each other\n", stderr);
        return DH_EXIT_USAGE;
    }
    *stop = 0;
    return DH_EXIT_OK;
}

/* Opens where the events go (standard output, -o FILE, or the EVTX writer) and writes
 * the CSV header; DH_EXIT_OK or the exit status of the failure, said on stderr. */
static int open_output(dump_ctx *c, const char *out_path)
{
    c->out = stdout;
    if (c->to == TO_EVTX) {
        /* A file only: the header is written last, at offset 0, so neither a terminal nor
         * a pipe can take it, and standard output redirected to a file may be a log the
         * user appends to. */
        dh_status st = out_path ? dh_evtx_writer_open(out_path, NULL, &c->evtx) : DH_ERR_ARG;
        if (st == DH_ERR_ARG) {
            fputs("dcomhunt dump: --to evtx writes a file: give -o FILE (a regular file; not a "
                  "terminal, a pipe or standard output)\n",
                  stderr);
            return DH_EXIT_USAGE;
        }
        if (st) {
            fputs("dcomhunt dump: cannot create ", stderr);
            cli_put_safe(stderr, out_path);
            fprintf(stderr, ": %s\n", dh_status_str(st));
            return DH_EXIT_ERROR;
        }
        c->out = NULL;
    } else if (out_path) {
        c->out = fopen(out_path, "w");
        if (!c->out) {
            fputs("dcomhunt dump: cannot create ", stderr);
            cli_put_safe(stderr, out_path);
            fputc('\n', stderr);
            return DH_EXIT_ERROR;
        }
    }
    static char obuf[1 << 20];
    if (c->out)
        setvbuf(c->out, obuf, _IOFBF, sizeof obuf);
    if (c->to == TO_MDE_CSV) {
        dh_buf h;
        dh_buf_init(&h, 4096);
        if (dh_mde_csv_header(&h) == DH_OK)
            fwrite(h.data, 1, h.len, c->out);
        dh_buf_free(&h);
    }
    return DH_EXIT_OK;
}

/* Closes the output (the EVTX file's header is written here) and says what was not
 * written; st is the scan's status, returned with the first close failure added. */
static dh_status close_output(dump_ctx *c, dh_status st)
{
    if (c->to == TO_EVTX) {
        dh_status cs = dh_evtx_writer_close(c->evtx);
        if (cs != DH_OK && st == DH_OK)
            st = cs;
        if (c->evtx_refused)
            fprintf(stderr,
                    "dcomhunt dump: %llu events do not fit an EVTX record (more than 64 KiB of "
                    "values, an event id above 65535 or more than 1024 items) and were not "
                    "written\n",
                    (unsigned long long)c->evtx_refused);
    } else {
        if (fflush(c->out) != 0 && st == DH_OK)
            st = DH_ERR_IO;
        if (c->out != stdout && fclose(c->out) != 0 && st == DH_OK)
            st = DH_ERR_IO;
    }
    if (st != DH_OK && st != DH_ERR_FORMAT)
        fprintf(stderr, "dcomhunt dump: %s\n", dh_status_str(st));
    unsigned long long skipped = atomic_load(&c->not_written);
    if (skipped)
        fprintf(stderr,
                "dcomhunt dump: %llu events have no Defender table (DistributedCOM, PowerShell, "
                "special logons...) and were not written\n",
                skipped);
    return st;
}

int cli_dump(int argc, char **argv)
{
    dump_ctx c = {0};
    const char *out_path = NULL;
    dh_scan_opts opts;
    dh_scan_opts_init(&opts);
    int stop;
    int rc = parse_args(argc, argv, &c, &out_path, &opts, &stop);
    if (stop)
        return rc;
    opts.want_xml = c.xml;
    opts.want_system = 1; /* every format written keeps them */
    if ((rc = open_output(&c, out_path)) != DH_EXIT_OK)
        return rc;
    dh_scan_callbacks cb = {
        .ctx = &c,
        .worker_new = dump_worker_new,
        .worker_free = dump_worker_free,
        .on_event = dump_event,
        .emit = dump_emit,
        .on_error = dump_error,
    };
    dh_scan_stats stats;
    dh_status st = dh_scan_run((const char *const *)argv + optind, (size_t)(argc - optind), &opts,
                               &cb, &stats);
    st = close_output(&c, st);
    cli_nothing_read("dump", st, &stats);
    return cli_exit_for(st, &stats);
}
