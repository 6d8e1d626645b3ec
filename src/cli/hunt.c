/* dcomhunt hunt: run the rule pack (and the user's rules) over the inputs through the
 * engine (dcomhunt/engine.h) and print what it reports: findings (or detections) as a
 * table, JSON lines, OCSF or CSV, with a summary on stderr. This file parses arguments,
 * loads rules, tuning and the knowledge table through public calls, and prints; the
 * pipeline itself (reading, matching, correlating) is the engine's. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/timefmt.h"
#include "dcomhunt/correlate.h"
#include "dcomhunt/engine.h"
#include "dcomhunt/finding.h"
#include "dcomhunt/rules.h"
#include "output/html.h"
#include "output/json.h"
#include "output/text.h"

#define MAX_TABLE_ROWS   100000       /* detections kept for the grouped table; more are counted */
#define MAX_TABLE_BYTES  (256u << 20) /* and their bytes (a value may be 128 KiB) */
#define MAX_SUMMARY_ROWS 25
/* What a kept detection counts against MAX_TABLE_BYTES beyond its strings (its times,
 * ids and lengths), as the table's cap has always counted it. */
#define ROW_FIXED_BYTES 44u

enum { FMT_TABLE, FMT_JSONL, FMT_CSV, FMT_OCSF };

typedef struct hunt_opts {
    int format;
    int detections; /* 1: print detections (one per rule match), not findings */
    int64_t window_s, skew_s;
    int have_from, have_to;
    int64_t from, to;
    char **hosts;
    size_t nhosts;
    dh_level min_level;
    unsigned char *rule_on; /* per rule index; NULL = all */
    int color;
    int progress;
} hunt_opts;

/* A detection kept for the table: the engine's, its strings copied into mem. */
typedef struct row {
    size_t seq; /* arrival order, the last sort key so the table order is stable */
    dh_detection d;
    char *mem;
} row;

typedef struct hunt_ctx {
    hunt_opts o;
    const dh_ruleset *rs;
    dh_engine *eng;
    dh_findings_writer *fo; /* findings mode: where findings go */
    row *rows;
    size_t nrows, rows_cap;
    uint64_t rows_dropped;
    size_t rows_bytes;
    dh_buf line;
    int csv_header;
    int progress_shown;
    dh_status out_st; /* why a sink callback stopped the run (the engine says cancelled) */
} hunt_ctx;

/* ---- printing ------------------------------------------------------------------ */

static const char *level_color(dh_level l)
{
    switch (l) {
    case DH_LEVEL_CRITICAL:
        return "\033[1;35m";
    case DH_LEVEL_HIGH:
        return "\033[1;31m";
    case DH_LEVEL_MEDIUM:
        return "\033[33m";
    case DH_LEVEL_LOW:
        return "\033[36m";
    default:
        return "\033[2m";
    }
}

static void csv_cell(dh_buf *b, const char *s, size_t n)
{
    dh_csv_cell(b, s, n);
}

static void csv_str(dh_buf *b, dh_str s)
{
    dh_csv_cell(b, s.ptr, s.len);
}

static void tty_text(dh_buf *b, const char *s, size_t n)
{
    dh_text_escape(b, s, n, 0);
}

static void tty_str(dh_buf *b, dh_str s)
{
    dh_text_escape(b, s.ptr, s.len, 0);
}

static void print_line(hunt_ctx *c)
{
    fwrite(c->line.data, 1, c->line.len, stdout);
    c->line.len = 0;
}

static void emit_jsonl(hunt_ctx *c, const dh_detection *d)
{
    const dh_rule *r = d->rule;
    dh_buf *b = &c->line;
    dh_buf_puts(b, "{\"rule_id\":");
    dh_json_string(b, dh_rule_id(r), strlen(dh_rule_id(r)));
    dh_buf_puts(b, ",\"rule_name\":");
    dh_json_string(b, dh_rule_name(r), strlen(dh_rule_name(r)));
    dh_buf_puts(b, ",\"title\":");
    dh_json_string(b, dh_rule_title(r), strlen(dh_rule_title(r)));
    dh_buf_puts(b, ",\"level\":\"");
    dh_buf_puts(b, dh_level_name(dh_rule_level(r)));
    dh_buf_puts(b, "\",\"confidence\":");
    dh_json_string(b, dh_rule_confidence(r), strlen(dh_rule_confidence(r)));
    dh_buf_puts(b, ",\"time\":\"");
    dh_time_put_iso(b, d->time);
    dh_buf_puts(b, "\",\"host\":");
    dh_json_string(b, d->host.ptr, d->host.len);
    dh_buf_puts(b, ",\"channel\":");
    dh_json_string(b, d->channel.ptr, d->channel.len);
    dh_buf_puts(b, ",\"event_id\":");
    dh_buf_put_u64(b, d->event_id);
    dh_buf_puts(b, ",\"kind\":");
    dh_json_string(b, d->kind.ptr, d->kind.len);
    dh_buf_puts(b, ",\"fields\":");
    dh_json_string(b, d->fields.ptr, d->fields.len);
    dh_buf_puts(b, ",\"file\":");
    dh_json_string(b, d->file.ptr, d->file.len);
    dh_buf_puts(b, ",\"record_id\":");
    dh_buf_put_u64(b, d->record_id);
    if (d->undecided)
        dh_buf_puts(b, ",\"undecided\":true");
    dh_buf_puts(b, ",\"tags\":[");
    for (size_t i = 0; i < dh_rule_tag_count(r); i++) {
        if (i)
            dh_buf_putc(b, ',');
        dh_json_string(b, dh_rule_tag(r, i), strlen(dh_rule_tag(r, i)));
    }
    dh_buf_puts(b, "]}\n");
    print_line(c);
}

static void emit_csv(hunt_ctx *c, const dh_detection *d)
{
    const dh_rule *r = d->rule;
    dh_buf *b = &c->line;
    if (!c->csv_header) {
        dh_buf_puts(b, "time,level,rule_id,rule_name,title,host,channel,event_id,kind,fields,file,"
                       "record_id,undecided\n");
        c->csv_header = 1;
    }
    char tbuf[40];
    dh_buf tb;
    dh_buf_init(&tb, 64);
    dh_time_put_iso(&tb, d->time);
    size_t tl = tb.len < sizeof tbuf - 1 ? tb.len : sizeof tbuf - 1;
    memcpy(tbuf, tb.data, tl);
    tbuf[tl] = 0;
    dh_buf_free(&tb);
    char num[24];
    csv_cell(b, tbuf, strlen(tbuf));
    dh_buf_putc(b, ',');
    csv_cell(b, dh_level_name(dh_rule_level(r)), strlen(dh_level_name(dh_rule_level(r))));
    dh_buf_putc(b, ',');
    csv_cell(b, dh_rule_id(r), strlen(dh_rule_id(r)));
    dh_buf_putc(b, ',');
    csv_cell(b, dh_rule_name(r), strlen(dh_rule_name(r)));
    dh_buf_putc(b, ',');
    csv_cell(b, dh_rule_title(r), strlen(dh_rule_title(r)));
    dh_buf_putc(b, ',');
    csv_str(b, d->host);
    dh_buf_putc(b, ',');
    csv_str(b, d->channel);
    dh_buf_putc(b, ',');
    snprintf(num, sizeof num, "%u", d->event_id);
    csv_cell(b, num, strlen(num));
    dh_buf_putc(b, ',');
    csv_str(b, d->kind);
    dh_buf_putc(b, ',');
    csv_str(b, d->fields);
    dh_buf_putc(b, ',');
    csv_str(b, d->file);
    dh_buf_putc(b, ',');
    snprintf(num, sizeof num, "%llu", (unsigned long long)d->record_id);
    csv_cell(b, num, strlen(num));
    dh_buf_putc(b, ',');
    csv_cell(b, d->undecided ? "yes" : "", d->undecided ? 3 : 0);
    dh_buf_putc(b, '\n');
    print_line(c);
}

/* A detection's strings copied into one allocation (the table keeps it past the call). */
static char *copy_detection(dh_detection *d, size_t bytes)
{
    char *mem = malloc(bytes ? bytes : 1), *p = mem;
    if (!mem)
        return NULL;
    dh_str *s[] = {&d->host, &d->file, &d->channel, &d->kind, &d->fields};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        if (s[i]->len)
            memcpy(p, s[i]->ptr, s[i]->len);
        s[i]->ptr = p;
        p += s[i]->len;
    }
    return mem;
}

/* The grouped table's rows: kept up to their caps, the others counted. */
static dh_status keep_row(hunt_ctx *c, const dh_detection *det)
{
    size_t strings =
        det->host.len + det->file.len + det->channel.len + det->kind.len + det->fields.len;
    size_t used = ROW_FIXED_BYTES + strings;
    if (c->nrows >= MAX_TABLE_ROWS || c->rows_bytes + used > MAX_TABLE_BYTES) {
        c->rows_dropped++;
        return DH_OK;
    }
    row d = {c->nrows, *det, NULL};
    if (!(d.mem = copy_detection(&d.d, strings)))
        return DH_ERR_NOMEM;
    c->rows_bytes += used;
    if (c->nrows == c->rows_cap) {
        size_t cap = c->rows_cap ? c->rows_cap * 2 : 256;
        row *nr = realloc(c->rows, cap * sizeof *nr);
        if (!nr) {
            free(d.mem);
            return DH_ERR_NOMEM;
        }
        c->rows = nr;
        c->rows_cap = cap;
    }
    c->rows[c->nrows++] = d;
    return DH_OK;
}

/* ---- the engine's sink ----------------------------------------------------------- */

static int hunt_detection(void *ctx, const dh_detection *d)
{
    hunt_ctx *c = ctx;
    if (c->o.format == FMT_TABLE) {
        c->out_st = keep_row(c, d);
    } else {
        if (c->o.format == FMT_JSONL)
            emit_jsonl(c, d);
        else
            emit_csv(c, d);
        c->out_st = ferror(stdout) ? DH_ERR_IO : DH_OK;
    }
    return c->out_st != DH_OK;
}

static int hunt_finding(void *ctx, const dh_finding *f)
{
    hunt_ctx *c = ctx;
    dh_findings_writer_add(c->fo, f);
    return 0;
}

static void hunt_error(void *ctx, const dh_error *e)
{
    hunt_ctx *c = ctx;
    if (c->progress_shown) {
        fputs("\r\033[K", stderr);
        c->progress_shown = 0;
    }
    cli_print_error(e);
}

static void hunt_progress(void *ctx, uint64_t done, uint64_t total)
{
    hunt_ctx *c = ctx;
    if (!c->o.progress || !total)
        return;
    static struct timespec last;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (c->progress_shown &&
        (now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 < 100)
        return;
    last = now;
    unsigned pct = (unsigned)(done * 100 / total);
    if (pct > 100)
        pct = 100;
    char bar[31];
    for (unsigned i = 0; i < 30; i++)
        bar[i] = i < pct * 30 / 100 ? '#' : '.';
    bar[30] = 0;
    fprintf(stderr, "\r[%s] %3u%%  %.1f / %.1f MB", bar, pct, (double)done / 1e6,
            (double)total / 1e6);
    c->progress_shown = 1;
}

/* A status from the engine, with the sink's own reason when it was the sink that stopped
 * it (a write that failed, memory for the table). */
static dh_status sink_status(const hunt_ctx *c, dh_status st)
{
    return st == DH_ERR_CANCELLED && c->out_st != DH_OK ? c->out_st : st;
}

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    dh_level lx = dh_rule_level(x->d.rule), ly = dh_rule_level(y->d.rule);
    size_t ix = dh_rule_index(x->d.rule), iy = dh_rule_index(y->d.rule);
    if (lx != ly)
        return lx > ly ? -1 : 1;
    if (ix != iy)
        return ix < iy ? -1 : 1;
    if (x->d.time != y->d.time)
        return x->d.time < y->d.time ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void print_table(hunt_ctx *c, uint64_t detections)
{
    /* Order: level (highest first), rule, time, arrival. */
    if (c->nrows > 1) /* qsort must not be given a null array */
        qsort(c->rows, c->nrows, sizeof *c->rows, cmp_row);
    dh_buf *b = &c->line;
    const dh_rule *cur = NULL;
    for (size_t i = 0; i < c->nrows; i++) {
        const dh_detection *d = &c->rows[i].d;
        const dh_rule *r = d->rule;
        if (r != cur) {
            cur = r;
            dh_buf_putc(b, '\n');
            if (c->o.color)
                dh_buf_puts(b, level_color(dh_rule_level(r)));
            dh_buf_putc(b, '[');
            dh_buf_puts(b, dh_level_name(dh_rule_level(r)));
            dh_buf_puts(b, "] ");
            tty_text(b, dh_rule_title(r), strlen(dh_rule_title(r)));
            if (c->o.color)
                dh_buf_puts(b, "\033[0m");
            dh_buf_puts(b, "  (");
            if (*dh_rule_name(r)) {
                tty_text(b, dh_rule_name(r), strlen(dh_rule_name(r)));
                dh_buf_puts(b, ", ");
            }
            tty_text(b, dh_rule_id(r), strlen(dh_rule_id(r)));
            uint64_t n = dh_engine_rule_detections(c->eng, r);
            char num[48];
            snprintf(num, sizeof num, ", %llu detection%s)\n", (unsigned long long)n,
                     n == 1 ? "" : "s");
            dh_buf_puts(b, num);
        }
        dh_buf_puts(b, "  ");
        dh_time_put_iso(b, d->time);
        dh_buf_puts(b, "  ");
        tty_str(b, d->host);
        dh_buf_puts(b, "  ");
        tty_str(b, d->fields);
        dh_buf_puts(b, "\n      ");
        if (c->o.color)
            dh_buf_puts(b, "\033[2m");
        tty_str(b, d->file);
        char num[64];
        snprintf(num, sizeof num, " record %llu, event %u", (unsigned long long)d->record_id,
                 d->event_id);
        dh_buf_puts(b, num);
        if (d->undecided)
            dh_buf_puts(b, "  [undecided: a regular expression of the rule hit its match limit]");
        if (c->o.color)
            dh_buf_puts(b, "\033[0m");
        dh_buf_putc(b, '\n');
        print_line(c);
    }
    if (c->rows_dropped) {
        fprintf(stdout, "\n(%llu more detections not shown in the table: use --jsonl or --csv)\n",
                (unsigned long long)c->rows_dropped);
    }
    if (!detections)
        fputs("no detections\n", stdout);
}

static void print_summary(hunt_ctx *c, const dh_engine_counts *es, double secs, unsigned refused)
{
    FILE *f = stderr;
    const dh_scan_stats *st = &es->input;
    fprintf(f,
            "\nsummary\n  input: %llu files read, %llu skipped; %llu chunks (%llu damaged); "
            "%llu events (%llu records damaged)\n",
            (unsigned long long)st->files_read, (unsigned long long)st->files_skipped,
            (unsigned long long)st->chunks, (unsigned long long)st->chunks_damaged,
            (unsigned long long)st->records, (unsigned long long)st->records_damaged);
    if (st->records_unused)
        fprintf(f, "  records of logs not used (Zeek logs without connection endpoints): %llu\n",
                (unsigned long long)st->records_unused);
    const dh_channel_count *list;
    size_t n = dh_engine_channels(c->eng, &list);
    if (list) {
        fprintf(f, "  events by channel and id (most first):\n");
        for (size_t i = 0; i < n && i < MAX_SUMMARY_ROWS; i++) {
            fprintf(f, "    %10llu  ", (unsigned long long)list[i].count);
            if (list[i].channel.len)
                cli_put_safe_n(f, list[i].channel.ptr, list[i].channel.len);
            else
                fputs("(no channel)", f);
            fprintf(f, " %u (%s)\n", list[i].event_id, dh_kind_name(list[i].kind));
        }
        if (n > MAX_SUMMARY_ROWS)
            fprintf(f, "    ... %zu more (dcomhunt stats lists them all)\n", n - MAX_SUMMARY_ROWS);
    }
    fprintf(f, "  rules: %zu loaded, %u refused, %zu applicable to the events read\n",
            dh_ruleset_count(c->rs), refused, es->rules_applicable);
    fprintf(f,
            "  detections: %llu (critical %llu, high %llu, medium %llu, low %llu, "
            "informational %llu)\n",
            (unsigned long long)es->detections, (unsigned long long)es->per_level[4],
            (unsigned long long)es->per_level[3], (unsigned long long)es->per_level[2],
            (unsigned long long)es->per_level[1], (unsigned long long)es->per_level[0]);
    if (st->errors)
        fprintf(f, "  problems reported above: %llu\n", (unsigned long long)st->errors);
    fprintf(f, "  time: %.3f s, %.0f events/s, %.1f MB/s\n", secs,
            secs > 0 ? (double)st->records / secs : 0.0,
            secs > 0 ? (double)st->bytes_read / secs / 1e6 : 0.0);
}

/* Events where a rule's regular expression hit the match limit: a summary line, and a
 * warning naming each such rule once. */
static void print_undecided(const hunt_ctx *c, const dh_engine_counts *es)
{
    if (!es->undecided_events)
        return;
    fprintf(stderr,
            "  undecided: %llu events where a rule's regular expression hit its match limit "
            "(reported as matched, marked undecided)\n",
            (unsigned long long)es->undecided_events);
    for (size_t i = 0; i < dh_ruleset_count(c->rs); i++) {
        const dh_rule *r = dh_ruleset_rule(c->rs, i);
        uint64_t n = dh_engine_rule_undecided(c->eng, r);
        if (!n)
            continue;
        fputs("dcomhunt hunt: warning: rule '", stderr);
        cli_put_safe(stderr, dh_rule_title(r));
        fputs("' (", stderr);
        cli_put_safe(stderr, dh_rule_id(r));
        fprintf(stderr,
                "): a regular expression hit its match limit on %llu events; they are reported "
                "as undecided matches (docs/rules.md)\n",
                (unsigned long long)n);
    }
}

static void html_problem(void *ctx, const dh_error *e)
{
    (void)ctx;
    cli_print_error(e);
}

/* The HTML report of the findings (hunt --html FILE) into out, opened before the hunt and
 * closed here; nonzero if it could not be written. */
static int write_html(dh_findings_writer *fo, FILE *out, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!fo || !mem) {
        if (mem)
            fclose(mem);
        free(text);
        fputs("dcomhunt hunt: --html: out of memory\n", stderr);
        return -1;
    }
    dh_findings_writer_print(fo, mem);
    int bad = fclose(mem) != 0;
    dh_status st =
        bad ? DH_ERR_NOMEM : dh_html_report(text, len, "dcomhunt hunt", out, html_problem, NULL);
    if (fflush(out) != 0 && st == DH_OK)
        st = DH_ERR_IO;
    free(text);
    if (st != DH_OK && st != DH_ERR_LIMIT) {
        fputs("dcomhunt hunt: --html: cannot write ", stderr);
        cli_put_safe(stderr, path);
        fputc('\n', stderr);
        return -1;
    }
    return 0;
}

static void tuning_expired(void *ctx, const dh_rule *r)
{
    (void)ctx;
    fputs("dcomhunt hunt: tuning: filter '", stderr);
    cli_put_safe(stderr, dh_rule_title(r));
    fputs("' expired on ", stderr);
    cli_put_safe(stderr, dh_rule_filter_expires(r));
    fputs(" and is not applied\n", stderr);
}

/* Loads the tuning files: Sigma filters only. Returns nonzero (after saying why) when a
 * file cannot be used. */
static int load_tuning(char **paths, size_t n, dh_ruleset **rs, dh_tuning **t)
{
    unsigned refused = 0;
    if (cli_load_rules(rs, 0, paths, n, &refused) != DH_OK || refused) {
        fputs("dcomhunt hunt: --tune: the tuning files have errors (above)\n", stderr);
        return -1;
    }
    for (size_t i = 0; i < dh_ruleset_count(*rs); i++) {
        const dh_rule *r = dh_ruleset_rule(*rs, i);
        if (!dh_rule_is_filter(r)) {
            fputs("dcomhunt hunt: --tune: '", stderr);
            cli_put_safe(stderr, dh_rule_title(r));
            fputs("' in ", stderr);
            cli_put_safe(stderr, dh_rule_origin(r));
            fputs(" is a rule, not a filter (a tuning file holds Sigma filters)\n", stderr);
            return -1;
        }
    }
    char today[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    if (dh_tuning_new(*rs, today, tuning_expired, NULL, t) != DH_OK) {
        fputs("dcomhunt hunt: out of memory\n", stderr);
        return -1;
    }
    return 0;
}

/* The knowledge table: the built-in rows, then each --com-objects file (a row naming a known
 * object replaces it). Nonzero, with the reason printed, if a file cannot be used. */
static int load_com_objects(char **paths, size_t n, dh_comdb **out)
{
    dh_comdb *db = NULL;
    if (dh_comdb_new(&db) != DH_OK) {
        fputs("dcomhunt hunt: out of memory\n", stderr);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        dh_error e;
        memset(&e, 0, sizeof e);
        if (dh_comdb_add_file(db, paths[i], &e) != DH_OK) {
            fputs("dcomhunt hunt: --com-objects ", stderr);
            cli_put_safe(stderr, paths[i]);
            fputs(": ", stderr);
            cli_put_safe(stderr, e.message[0] ? e.message : dh_status_str(e.status));
            fputc('\n', stderr);
            dh_comdb_free(db);
            return -1;
        }
    }
    *out = db;
    return 0;
}

static int usage(FILE *f, int rc)
{
    fputs("usage: dcomhunt hunt [OPTIONS] PATH...\n"
          "  Runs the built-in DCOM rule pack (and --rules) over the inputs.\n"
          "  --rules PATH       add Sigma rules (file or directory; repeatable)\n"
          "  --no-builtin       do not load the built-in pack\n"
          "  Prints findings: DCOM chains (source -> target, account, COM object, commands,\n"
          "  evidence), failed attempts, source-side activity and lone signals.\n"
          "  --jsonl | --csv    machine-readable output (default: a table by chain)\n"
          "  --ocsf             OCSF Detection Finding (class 2004) objects, one per line\n"
          "                     (--jsonl, --csv and --ocsf: one of them)\n"
          "  --detections       print single-event detections (one per rule match) instead:\n"
          "                     a table by rule, or a timeline with --jsonl or --csv\n"
          "  --tune FILE        apply a tuning file (Sigma filters with a reason and an\n"
          "                     optional expiry; repeatable): findings a filter removes are\n"
          "                     counted as suppressed, not printed (docs/tuning.md)\n"
          "  --show-suppressed  print suppressed findings too, marked, after the others\n"
          "  --html FILE        also write the HTML report of the findings to FILE\n"
          "  --com-objects FILE add rows to the knowledge table of COM objects (YAML, as\n"
          "                     docs/com-objects.md describes; repeatable)\n"
          "  --explain          under each finding: investigation and response steps written\n"
          "                     with its values, and pivot queries (KQL, dcomhunt); JSONL and\n"
          "                     OCSF always carry them\n"
          "  --window SECONDS   how long after a COM server start its activity belongs to it\n"
          "                     (default 300)\n"
          "  --skew SECONDS     clock difference tolerated between logs (default 120)\n"
          "  --from TIME        only events at or after TIME (ISO 8601: 2019-04-30,\n"
          "                     2019-04-30T20:35:00Z, 2019-04-30T22:35:00+02:00)\n"
          "  --to TIME          only events at or before TIME (a date alone: its whole day)\n"
          "  --host NAME        only events of this host (repeatable; NAME matches NAME.domain)\n"
          "  --min-level LEVEL  only findings (detections) of this severity or above:\n"
          "                     informational, low, medium, high or critical\n"
          "  --rule ID|NAME     only findings (detections) of this rule (repeatable); with\n"
          "                     --no-builtin, only findings of the rules given\n"
          "  --color WHEN       auto (default), always, never\n"
          "  --no-progress      no progress bar on stderr\n"
          "  -j, --threads N    worker threads (default: one per core)\n"
          "  Flags that do nothing in the mode chosen are refused (exit status 2).\n"
          "  exit status: 0 nothing found, 1 findings (or detections), 2 usage, 3 input partly\n"
          "  skipped and nothing found, 4 fatal error or nothing read, 5 found and input\n"
          "  partly skipped\n",
          f);
    return rc;
}

int cli_hunt(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rules", required_argument, NULL, 'r'},
        {"no-builtin", no_argument, NULL, 'B'},
        {"jsonl", no_argument, NULL, 'J'},
        {"csv", no_argument, NULL, 'C'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"host", required_argument, NULL, 'H'},
        {"min-level", required_argument, NULL, 'l'},
        {"rule", required_argument, NULL, 'R'},
        {"color", required_argument, NULL, 'c'},
        {"no-progress", no_argument, NULL, 'P'},
        {"threads", required_argument, NULL, 'j'},
        {"detections", no_argument, NULL, 'D'},
        {"ocsf", no_argument, NULL, 'O'},
        {"window", required_argument, NULL, 'W'},
        {"skew", required_argument, NULL, 'S'},
        {"explain", no_argument, NULL, 'E'},
        {"help", no_argument, NULL, 'h'},
        {"tune", required_argument, NULL, 'T'},
        {"show-suppressed", no_argument, NULL, 'U'},
        {"html", required_argument, NULL, 'X'},
        {"com-objects", required_argument, NULL, 'K'},
        {NULL, 0, NULL, 0},
    };
    int explain = 0, show_suppressed = 0, window_set = 0, skew_set = 0;
    const char *html_path = NULL;
    FILE *html_out = NULL;
    dh_findings_writer *fo_html = NULL;
    char **tune_paths = calloc((size_t)argc + 1, sizeof *tune_paths);
    size_t ntune = 0;
    char **com_paths = calloc((size_t)argc + 1, sizeof *com_paths);
    size_t ncom = 0;
    dh_comdb *comdb = NULL;
    dh_ruleset *tune_rs = NULL;
    dh_tuning *tuning = NULL;
    hunt_ctx c;
    memset(&c, 0, sizeof c);
    c.o.window_s = 300;
    c.o.skew_s = 120;
    unsigned threads = 0;
    const dh_rule **selected = NULL; /* --rule, for the engine */
    char **rule_paths = calloc((size_t)argc + 1, sizeof *rule_paths);
    char **only = calloc((size_t)argc + 1, sizeof *only);
    c.o.hosts = calloc((size_t)argc + 1, sizeof *c.o.hosts);
    size_t nrp = 0, nonly = 0;
    int builtin = 1, color = -1, progress = 1, rc = DH_EXIT_OK;
    if (!rule_paths || !only || !c.o.hosts) {
        rc = DH_EXIT_ERROR;
        goto out;
    }
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "j:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r':
            rule_paths[nrp++] = optarg;
            break;
        case 'B':
            builtin = 0;
            break;
        case 'J':
        case 'O':
        case 'C': {
            int f = ch == 'J' ? FMT_JSONL : ch == 'O' ? FMT_OCSF : FMT_CSV;
            if (c.o.format != FMT_TABLE && c.o.format != f) {
                fputs("dcomhunt hunt: --jsonl, --csv and --ocsf each choose the output: give "
                      "one\n",
                      stderr);
                rc = DH_EXIT_USAGE;
                goto out;
            }
            c.o.format = f;
            break;
        }
        case 'D':
            c.o.detections = 1;
            break;
        case 'W':
        case 'S': {
            char *endp;
            long v = strtol(optarg, &endp, 10);
            if (*optarg == 0 || *endp || v < 0 || v > 86400 * 7) {
                fprintf(stderr, "dcomhunt hunt: --%s wants seconds (0 to 604800)\n",
                        ch == 'W' ? "window" : "skew");
                rc = DH_EXIT_USAGE;
                goto out;
            }
            if (ch == 'W') {
                c.o.window_s = v;
                window_set = 1;
            } else {
                c.o.skew_s = v;
                skew_set = 1;
            }
            break;
        }
        case 'f':
        case 't': {
            int64_t t;
            int date_only;
            if (dh_time_parse_user(optarg, strlen(optarg), &t, &date_only)) {
                fprintf(stderr,
                        "dcomhunt hunt: --%s wants an ISO 8601 date or time, such as 2019-04-30, "
                        "2019-04-30T20:35:00Z or 2019-04-30T22:35:00+02:00\n",
                        ch == 'f' ? "from" : "to");
                rc = DH_EXIT_USAGE;
                goto out;
            }
            if (ch == 't' && date_only)
                t += 86400LL * 10000000 - 1; /* a date alone: the whole day */
            if (ch == 'f') {
                c.o.from = t;
                c.o.have_from = 1;
            } else {
                c.o.to = t;
                c.o.have_to = 1;
            }
            break;
        }
        case 'H':
            c.o.hosts[c.o.nhosts++] = optarg;
            break;
        case 'E':
            explain = 1;
            break;
        case 'T':
            if (tune_paths)
                tune_paths[ntune++] = optarg;
            break;
        case 'K':
            if (com_paths)
                com_paths[ncom++] = optarg;
            break;
        case 'U':
            show_suppressed = 1;
            break;
        case 'X':
            html_path = optarg;
            break;
        case 'l':
            if (dh_level_parse(optarg, &c.o.min_level)) {
                fputs("dcomhunt hunt: --min-level wants informational, low, medium, high or "
                      "critical\n",
                      stderr);
                rc = DH_EXIT_USAGE;
                goto out;
            }
            break;
        case 'R':
            only[nonly++] = optarg;
            break;
        case 'c':
            if (strcmp(optarg, "always") && strcmp(optarg, "never") && strcmp(optarg, "auto")) {
                fputs("dcomhunt hunt: --color wants auto, always or never\n", stderr);
                rc = DH_EXIT_USAGE;
                goto out;
            }
            color = !strcmp(optarg, "always") ? 1 : !strcmp(optarg, "never") ? 0 : -1;
            break;
        case 'P':
            progress = 0;
            break;
        case 'j': {
            int t = cli_parse_threads(optarg);
            if (t < 0) {
                fputs("dcomhunt hunt: -j wants a number from 0 to 256\n", stderr);
                rc = DH_EXIT_USAGE;
                goto out;
            }
            threads = (unsigned)t;
            break;
        }
        case 'h':
            rc = usage(stdout, DH_EXIT_OK);
            goto out;
        default:
            rc = usage(stderr, DH_EXIT_USAGE);
            goto out;
        }
    }
    if (optind >= argc) {
        rc = usage(stderr, DH_EXIT_USAGE);
        goto out;
    }
    /* Flags that would do nothing in this mode are refused, not ignored. */
    const char *clash = NULL;
    if (c.o.detections && c.o.format == FMT_OCSF)
        clash = "--ocsf writes findings (OCSF Detection Findings); with --detections use --jsonl "
                "or --csv";
    else if (c.o.detections && explain)
        clash = "--explain writes the guide of findings; --detections has none";
    else if (c.o.detections && html_path)
        clash = "--html writes the report of findings; --detections has none";
    else if (c.o.detections && (ntune || show_suppressed))
        clash = "--tune and --show-suppressed apply to findings, not to --detections";
    else if (c.o.detections && (window_set || skew_set))
        clash = "--window and --skew set how events are joined into findings; --detections "
                "joins none";
    else if (c.o.detections && ncom)
        clash = "--com-objects names the objects of findings; --detections has none";
    else if (explain && c.o.format == FMT_CSV)
        clash = "--explain: CSV has no room for the guide (the table shows it; --jsonl and "
                "--ocsf always carry it)";
    else if (show_suppressed && !ntune)
        clash = "--show-suppressed shows what --tune suppresses: give --tune FILE";
    else if (c.o.have_from && c.o.have_to && c.o.from > c.o.to)
        clash = "--from is after --to";
    if (clash) {
        fprintf(stderr, "dcomhunt hunt: %s\n", clash);
        rc = DH_EXIT_USAGE;
        goto out;
    }
    if (cli_rule_paths_ok("dcomhunt hunt: --rules", rule_paths, nrp) ||
        cli_rule_paths_ok("dcomhunt hunt: --tune", tune_paths, ntune)) {
        rc = DH_EXIT_USAGE;
        goto out;
    }
    /* The report's file is opened now: a path that cannot be written fails before the hunt. */
    if (html_path && !(html_out = fopen(html_path, "w"))) {
        fputs("dcomhunt hunt: --html: cannot write ", stderr);
        cli_put_safe(stderr, html_path);
        fprintf(stderr, ": %s\n", strerror(errno));
        rc = DH_EXIT_USAGE;
        goto out;
    }
    dh_ruleset *rs = NULL;
    unsigned refused = 0;
    if (cli_load_rules(&rs, builtin, rule_paths, nrp, &refused)) {
        fputs("dcomhunt hunt: cannot load rules\n", stderr);
        rc = DH_EXIT_ERROR;
        goto out;
    }
    c.rs = rs;
    if (ncom && load_com_objects(com_paths, ncom, &comdb)) {
        dh_ruleset_free(rs);
        rc = DH_EXIT_USAGE;
        goto out;
    }
    if (ntune && load_tuning(tune_paths, ntune, &tune_rs, &tuning)) {
        dh_ruleset_free(rs);
        rc = DH_EXIT_USAGE;
        goto out;
    }
    if (nonly) {
        c.o.rule_on = calloc(dh_ruleset_count(rs) + 1, 1);
        selected = calloc(nonly, sizeof *selected);
        for (size_t i = 0; i < nonly && c.o.rule_on && selected; i++) {
            const dh_rule *r = dh_ruleset_find(rs, only[i]);
            if (!r) {
                fputs("dcomhunt hunt: --rule: no loaded rule has the id or name '", stderr);
                cli_put_safe(stderr, only[i]);
                fputs("'\n", stderr);
                rc = DH_EXIT_USAGE;
                break;
            }
            c.o.rule_on[dh_rule_index(r)] = 1;
            selected[i] = r;
        }
    }
    if (rc == DH_EXIT_OK && nonly && (!c.o.rule_on || !selected))
        rc = DH_EXIT_ERROR;
    if (rc != DH_EXIT_OK) {
        dh_ruleset_free(rs);
        goto out;
    }
    c.o.color = color < 0 ? isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL : color;
    c.o.progress = progress && isatty(STDERR_FILENO);
    dh_buf_init(&c.line, 64u << 20);
    dh_engine_opts eo;
    dh_engine_opts_init(&eo);
    eo.mode = c.o.detections ? DH_ENGINE_DETECTIONS : DH_ENGINE_FINDINGS;
    eo.threads = threads;
    /* --jsonl and --csv detections: a timeline, in time order whatever the inputs' order */
    eo.time_order = c.o.detections && c.o.format != FMT_TABLE;
    eo.window_s = c.o.window_s;
    eo.skew_s = c.o.skew_s;
    eo.comdb = comdb;
    eo.have_from = c.o.have_from;
    eo.from = c.o.from;
    eo.have_to = c.o.have_to;
    eo.to = c.o.to;
    eo.hosts = (const char *const *)c.o.hosts;
    eo.nhosts = c.o.nhosts;
    eo.min_level = c.o.min_level;
    eo.rules = selected;
    eo.nrules = selected ? nonly : 0;
    eo.sink = (dh_engine_sink){
        .ctx = &c,
        .on_finding = hunt_finding,
        .on_detection = hunt_detection,
        .on_error = hunt_error,
        .on_progress = hunt_progress,
    };
    if (!c.o.detections) {
        dh_findings_format fmt = c.o.format == FMT_JSONL  ? DH_FINDINGS_JSONL
                                 : c.o.format == FMT_OCSF ? DH_FINDINGS_OCSF
                                 : c.o.format == FMT_CSV  ? DH_FINDINGS_CSV
                                                          : DH_FINDINGS_TABLE;
        dh_findings_writer_new(fmt, c.o.color, &c.fo);
        if (c.fo) {
            dh_findings_writer_set_guide(c.fo, explain, (const char *const *)argv + optind,
                                         (size_t)(argc - optind));
            dh_findings_writer_set_tuning(c.fo, tuning, show_suppressed);
            /* --min-level, --rule, and rules of the user's alone (--no-builtin): only the
             * findings they select are shown; every rule still builds the chains */
            dh_findings_writer_set_filter(c.fo, c.o.min_level, c.o.rule_on, nonly || !builtin);
        }
        if (c.fo && html_path) {
            /* the report is built from the same findings as JSON lines, suppressed ones
             * included (the page lists them apart) */
            dh_findings_writer_new(DH_FINDINGS_JSONL, 0, &fo_html);
            if (fo_html) {
                dh_findings_writer_set_guide(fo_html, 0, (const char *const *)argv + optind,
                                             (size_t)(argc - optind));
                dh_findings_writer_set_tuning(fo_html, tuning, 1);
                dh_findings_writer_tee(c.fo, fo_html);
            }
        }
    }
    dh_status est = c.o.detections || c.fo ? dh_engine_new(&eo, rs, &c.eng) : DH_ERR_NOMEM;
    if (est != DH_OK) {
        fprintf(stderr, "dcomhunt hunt: cannot start the %s: %s\n",
                c.o.detections ? "engine" : "correlator", dh_status_str(est));
        dh_findings_writer_free(c.fo);
        dh_findings_writer_free(fo_html);
        dh_buf_free(&c.line);
        dh_ruleset_free(rs);
        rc = DH_EXIT_ERROR;
        goto out;
    }
    static char obuf[1 << 20];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    dh_status st = sink_status(
        &c, dh_engine_run(c.eng, (const char *const *)argv + optind, (size_t)(argc - optind)));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (c.progress_shown)
        fputs("\r\033[K", stderr);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    size_t nfindings = 0;
    uint64_t hidden = 0, caps[4] = {0, 0, 0, 0};
    uint64_t per_kind[4] = {0, 0, 0, 0}, sup[4] = {0, 0, 0, 0};
    dh_engine_counts es;
    if (dh_engine_stats(c.eng, &es) != DH_OK && st == DH_OK)
        st = DH_ERR_NOMEM;
    /* Nothing read is not "no findings": the table says nothing then (stderr says why). */
    int nothing = cli_nothing_read("hunt", st, &es.input);
    if (c.o.detections) {
        /* the timeline's detections come out now; the table's were kept as they came */
        dh_status tst = sink_status(&c, dh_engine_finish(c.eng));
        if (tst != DH_OK && st == DH_OK)
            st = tst;
        if (c.o.format == FMT_TABLE && !nothing)
            print_table(&c, es.detections);
    } else {
        if (dh_engine_finish(c.eng) == DH_OK) {
            if (!nothing)
                nfindings = dh_findings_writer_print(c.fo, stdout);
            hidden = dh_findings_writer_hidden(c.fo);
            if (dh_findings_writer_lost(c.fo) && st == DH_OK)
                st = DH_ERR_NOMEM; /* a finding could not be kept or printed: said, and 4 */
            dh_findings_writer_caps(c.fo, &caps[0], &caps[1], &caps[2], &caps[3]);
            dh_findings_writer_counts(c.fo, per_kind);
            dh_findings_writer_suppressed(c.fo, sup);
            if (html_out && write_html(fo_html, html_out, html_path) && st == DH_OK)
                st = DH_ERR_IO;
        } else if (st == DH_OK) {
            st = DH_ERR_NOMEM;
        }
        dh_findings_writer_free(c.fo);
        dh_findings_writer_free(fo_html);
    }
    if (dh_engine_stats(c.eng, &es) != DH_OK && st == DH_OK)
        st = DH_ERR_NOMEM;
    if (fflush(stdout) != 0 && st == DH_OK)
        st = DH_ERR_IO;
    print_summary(&c, &es, secs, refused);
    if (!c.o.detections)
        fprintf(stderr,
                "  findings: %zu (lateral_movement %llu, attempt %llu, source_activity %llu, "
                "signal %llu); %llu events kept for correlation, at most %zu at once\n",
                nfindings, (unsigned long long)per_kind[0], (unsigned long long)per_kind[1],
                (unsigned long long)per_kind[2], (unsigned long long)per_kind[3],
                (unsigned long long)es.kept, es.kept_peak);
    if (caps[0] || caps[1] || caps[2] || caps[3])
        fprintf(stderr,
                "  over the findings' caps (docs/findings.md, Limits): %llu values cut, not "
                "listed: %llu commands, %llu evidence records, %llu rules\n",
                (unsigned long long)caps[0], (unsigned long long)caps[1],
                (unsigned long long)caps[2], (unsigned long long)caps[3]);
    if (!c.o.detections && hidden)
        fprintf(stderr, "  not shown: %llu findings below --min-level or without a selected rule\n",
                (unsigned long long)hidden);
    print_undecided(&c, &es);
    if (!c.o.detections && es.wire_dropped)
        fprintf(stderr,
                "  network sensor records let go, too many held at once: %llu (their chains "
                "may lack wire evidence)\n",
                (unsigned long long)es.wire_dropped);
    if (!c.o.detections && es.sigma_late)
        fprintf(stderr,
                "  Sigma correlation: %llu events came after it had passed their time (inputs "
                "read out of time order); they were judged with what their groups still held, "
                "so signals across inputs may be missing\n",
                (unsigned long long)es.sigma_late);
    if (!c.o.detections && es.sigma_dropped)
        fprintf(stderr, "  Sigma correlation: %llu events not held, a memory cap was reached\n",
                (unsigned long long)es.sigma_dropped);
    if (!c.o.detections && tuning)
        fprintf(stderr,
                "  suppressed by tuning: %llu (lateral_movement %llu, attempt %llu, "
                "source_activity %llu, signal %llu)%s\n",
                (unsigned long long)(sup[0] + sup[1] + sup[2] + sup[3]), (unsigned long long)sup[0],
                (unsigned long long)sup[1], (unsigned long long)sup[2], (unsigned long long)sup[3],
                show_suppressed || !(sup[0] + sup[1] + sup[2] + sup[3])
                    ? ""
                    : "; --show-suppressed shows them");
    uint64_t reported = c.o.detections ? es.detections : nfindings;
    if (st != DH_OK && st != DH_ERR_FORMAT)
        fprintf(stderr, "dcomhunt hunt: %s\n", dh_status_str(st));
    if ((st != DH_OK && st != DH_ERR_FORMAT) || nothing)
        rc = DH_EXIT_ERROR;
    else if (st == DH_ERR_FORMAT || refused)
        rc = reported ? DH_EXIT_FOUND_PARTIAL : DH_EXIT_PARTIAL;
    else
        rc = reported ? DH_EXIT_FOUND : DH_EXIT_OK;
    for (size_t i = 0; i < c.nrows; i++)
        free(c.rows[i].mem);
    free(c.rows);
    dh_buf_free(&c.line);
    dh_engine_free(c.eng);
    dh_ruleset_free(rs);
out:
    if (html_out) {
        fclose(html_out);
        if (rc == DH_EXIT_USAGE || rc == DH_EXIT_ERROR)
            remove(html_path); /* nothing was written: no empty report left behind */
    }
    dh_tuning_free(tuning);
    dh_ruleset_free(tune_rs);
    free(tune_paths);
    free(com_paths);
    dh_comdb_free(comdb);
    free(rule_paths);
    free(only);
    free(selected);
    free(c.o.rule_on);
    free(c.o.hosts);
    return rc;
}
