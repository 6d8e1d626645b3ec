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
#include "output/findings_format.h"
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

/* Prints the line built in c->line, or nothing when a piece of it could not be appended
 * (the buffer's first failure sticks): no detection goes out with a field missing. */
static dh_status print_line(hunt_ctx *c)
{
    dh_status st = dh_buf_status(&c->line);
    if (st == DH_OK)
        fwrite(c->line.data, 1, c->line.len, stdout);
    dh_buf_reset(&c->line);
    return st;
}

static dh_status emit_jsonl(hunt_ctx *c, const dh_detection *d)
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
    return print_line(c);
}

static dh_status emit_csv(hunt_ctx *c, const dh_detection *d)
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
    return print_line(c);
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
        dh_status st = c->o.format == FMT_JSONL ? emit_jsonl(c, d) : emit_csv(c, d);
        c->out_st = st != DH_OK ? st : ferror(stdout) ? DH_ERR_IO : DH_OK;
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
        if (print_line(c) != DH_OK)
            c->rows_dropped++; /* a row that could not be built whole is counted, not cut */
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
    if (es->regex_errors) {
        /* the regular-expression engine failed (not a miss, not a limit): said once */
        fprintf(stderr,
                "dcomhunt hunt: warning: the regular-expression engine failed %llu times "
                "(the tests concerned count as undecided); the first: ",
                (unsigned long long)es->regex_errors);
        cli_put_safe(stderr, es->regex_error);
        fputc('\n', stderr);
    }
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
 * closed here, rendered from the findings the HTML writer kept; nonzero if it could not be
 * written. */
static int write_html(dh_findings_writer *fo, FILE *out, const char *path)
{
    if (!fo) {
        fputs("dcomhunt hunt: --html: out of memory\n", stderr);
        return -1;
    }
    dh_status st = dh_findings_writer_html(fo, "dcomhunt hunt", out, html_problem, NULL);
    if (fflush(out) != 0 && st == DH_OK)
        st = DH_ERR_IO;
    if (st != DH_OK && st != DH_ERR_LIMIT) {
        fputs("dcomhunt hunt: --html: cannot write ", stderr);
        cli_put_safe(stderr, path);
        fputc('\n', stderr);
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

/* What the command line asked for beyond hunt_opts; the arrays hold argv's strings. */
typedef struct hunt_args {
    int explain, show_suppressed, window_set, skew_set;
    int builtin, color, progress;
    unsigned threads;
    const char *html_path;
    char **rule_paths, **tune_paths, **com_paths, **only;
    size_t nrp, ntune, ncom, nonly;
    const char *const *paths; /* the inputs */
    size_t npaths;
    int stop; /* parse_args: the command ends here, with the status returned */
} hunt_args;

/* What is loaded for the hunt (rules, knowledge table, tuning, the report's file), freed
 * or closed by loaded_free. */
typedef struct hunt_loaded {
    dh_ruleset *rs;
    unsigned refused;
    dh_comdb *comdb;
    dh_ruleset *tune_rs;
    dh_tuning *tuning;
    const dh_rule **selected; /* --rule, for the engine */
    FILE *html_out;
    dh_findings_writer *fo_html;
} hunt_loaded;

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

/* --window, --skew: seconds. */
static int parse_seconds(int ch, const char *arg, hunt_args *a, hunt_opts *o)
{
    char *endp;
    long v = strtol(arg, &endp, 10);
    if (*arg == 0 || *endp || v < 0 || v > 86400 * 7) {
        fprintf(stderr, "dcomhunt hunt: --%s wants seconds (0 to 604800)\n",
                ch == 'W' ? "window" : "skew");
        return DH_EXIT_USAGE;
    }
    if (ch == 'W') {
        o->window_s = v;
        a->window_set = 1;
    } else {
        o->skew_s = v;
        a->skew_set = 1;
    }
    return DH_EXIT_OK;
}

/* --from, --to: an ISO 8601 date or time. */
static int parse_time(int ch, const char *arg, hunt_opts *o)
{
    int64_t t;
    int date_only;
    if (dh_time_parse_user(arg, strlen(arg), &t, &date_only)) {
        fprintf(stderr,
                "dcomhunt hunt: --%s wants an ISO 8601 date or time, such as 2019-04-30, "
                "2019-04-30T20:35:00Z or 2019-04-30T22:35:00+02:00\n",
                ch == 'f' ? "from" : "to");
        return DH_EXIT_USAGE;
    }
    if (ch == 't' && date_only)
        t += 86400LL * 10000000 - 1; /* a date alone: the whole day */
    if (ch == 'f') {
        o->from = t;
        o->have_from = 1;
    } else {
        o->to = t;
        o->have_to = 1;
    }
    return DH_EXIT_OK;
}

/* The options whose value is checked; DH_EXIT_USAGE (said why) when it is not valid. */
static int parse_value(int ch, const char *arg, hunt_args *a, hunt_opts *o)
{
    switch (ch) {
    case 'J':
    case 'O':
    case 'C': {
        int f = ch == 'J' ? FMT_JSONL : ch == 'O' ? FMT_OCSF : FMT_CSV;
        if (o->format != FMT_TABLE && o->format != f) {
            fputs("dcomhunt hunt: --jsonl, --csv and --ocsf each choose the output: give one\n",
                  stderr);
            return DH_EXIT_USAGE;
        }
        o->format = f;
        return DH_EXIT_OK;
    }
    case 'W':
    case 'S':
        return parse_seconds(ch, arg, a, o);
    case 'f':
    case 't':
        return parse_time(ch, arg, o);
    case 'l':
        if (dh_level_parse(arg, &o->min_level)) {
            fputs("dcomhunt hunt: --min-level wants informational, low, medium, high or "
                  "critical\n",
                  stderr);
            return DH_EXIT_USAGE;
        }
        return DH_EXIT_OK;
    case 'c':
        if (strcmp(arg, "always") && strcmp(arg, "never") && strcmp(arg, "auto")) {
            fputs("dcomhunt hunt: --color wants auto, always or never\n", stderr);
            return DH_EXIT_USAGE;
        }
        a->color = !strcmp(arg, "always") ? 1 : !strcmp(arg, "never") ? 0 : -1;
        return DH_EXIT_OK;
    default: { /* 'j' */
        int t = cli_parse_threads(arg);
        if (t < 0) {
            fputs("dcomhunt hunt: -j wants a number from 0 to 256\n", stderr);
            return DH_EXIT_USAGE;
        }
        a->threads = (unsigned)t;
        return DH_EXIT_OK;
    }
    }
}

/* The command line into a and o; with a->stop set, the command ends with the status
 * returned (help, a usage error). */
static int parse_args(int argc, char **argv, hunt_args *a, hunt_opts *o)
{
    int ch, rc = DH_EXIT_OK;
    optind = 1;
    a->stop = 1;
    while ((ch = getopt_long(argc, argv, "j:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r':
            a->rule_paths[a->nrp++] = optarg;
            break;
        case 'B':
            a->builtin = 0;
            break;
        case 'D':
            o->detections = 1;
            break;
        case 'H':
            o->hosts[o->nhosts++] = optarg;
            break;
        case 'E':
            a->explain = 1;
            break;
        case 'T':
            a->tune_paths[a->ntune++] = optarg;
            break;
        case 'K':
            a->com_paths[a->ncom++] = optarg;
            break;
        case 'U':
            a->show_suppressed = 1;
            break;
        case 'X':
            a->html_path = optarg;
            break;
        case 'R':
            a->only[a->nonly++] = optarg;
            break;
        case 'P':
            a->progress = 0;
            break;
        case 'J':
        case 'O':
        case 'C':
        case 'W':
        case 'S':
        case 'f':
        case 't':
        case 'l':
        case 'c':
        case 'j':
            if ((rc = parse_value(ch, optarg, a, o)) != DH_EXIT_OK)
                return rc;
            break;
        case 'h':
            return usage(stdout, DH_EXIT_OK);
        default:
            return usage(stderr, DH_EXIT_USAGE);
        }
    }
    if (optind >= argc)
        return usage(stderr, DH_EXIT_USAGE);
    a->paths = (const char *const *)argv + optind;
    a->npaths = (size_t)(argc - optind);
    a->stop = 0;
    return DH_EXIT_OK;
}

/* Flags that would do nothing in this mode are refused, not ignored: why, or NULL. */
static const char *flag_clash(const hunt_args *a, const hunt_opts *o)
{
    if (o->detections && o->format == FMT_OCSF)
        return "--ocsf writes findings (OCSF Detection Findings); with --detections use --jsonl "
               "or --csv";
    if (o->detections && a->explain)
        return "--explain writes the guide of findings; --detections has none";
    if (o->detections && a->html_path)
        return "--html writes the report of findings; --detections has none";
    if (o->detections && (a->ntune || a->show_suppressed))
        return "--tune and --show-suppressed apply to findings, not to --detections";
    if (o->detections && (a->window_set || a->skew_set))
        return "--window and --skew set how events are joined into findings; --detections "
               "joins none";
    if (o->detections && a->ncom)
        return "--com-objects names the objects of findings; --detections has none";
    if (a->explain && o->format == FMT_CSV)
        return "--explain: CSV has no room for the guide (the table shows it; --jsonl and "
               "--ocsf always carry it)";
    if (a->show_suppressed && !a->ntune)
        return "--show-suppressed shows what --tune suppresses: give --tune FILE";
    if (o->have_from && o->have_to && o->from > o->to)
        return "--from is after --to";
    return NULL;
}

/* --rule: the rules named, as the findings writer's per-index selection (o->rule_on) and
 * as the engine's list (l->selected). */
static int select_rules(const hunt_args *a, hunt_opts *o, hunt_loaded *l)
{
    if (!a->nonly)
        return DH_EXIT_OK;
    o->rule_on = calloc(dh_ruleset_count(l->rs) + 1, 1);
    l->selected = calloc(a->nonly, sizeof *l->selected);
    if (!o->rule_on || !l->selected)
        return DH_EXIT_ERROR;
    for (size_t i = 0; i < a->nonly; i++) {
        const dh_rule *r = dh_ruleset_find(l->rs, a->only[i]);
        if (!r) {
            fputs("dcomhunt hunt: --rule: no loaded rule has the id or name '", stderr);
            cli_put_safe(stderr, a->only[i]);
            fputs("'\n", stderr);
            return DH_EXIT_USAGE;
        }
        o->rule_on[dh_rule_index(r)] = 1;
        l->selected[i] = r;
    }
    return DH_EXIT_OK;
}

/* Everything the hunt needs before reading: the report's file, rules, knowledge table,
 * tuning, the rule selection. The status to exit with when something cannot be used. */
static int load(const hunt_args *a, hunt_opts *o, hunt_loaded *l)
{
    if (cli_rule_paths_ok("dcomhunt hunt: --rules", a->rule_paths, a->nrp) ||
        cli_rule_paths_ok("dcomhunt hunt: --tune", a->tune_paths, a->ntune))
        return DH_EXIT_USAGE;
    /* The report's file is opened now: a path that cannot be written fails before the hunt. */
    if (a->html_path && !(l->html_out = fopen(a->html_path, "w"))) {
        fputs("dcomhunt hunt: --html: cannot write ", stderr);
        cli_put_safe(stderr, a->html_path);
        fprintf(stderr, ": %s\n", strerror(errno));
        return DH_EXIT_USAGE;
    }
    if (cli_load_rules(&l->rs, a->builtin, a->rule_paths, a->nrp, &l->refused)) {
        fputs("dcomhunt hunt: cannot load rules\n", stderr);
        return DH_EXIT_ERROR;
    }
    if (a->ncom && load_com_objects(a->com_paths, a->ncom, &l->comdb))
        return DH_EXIT_USAGE;
    if (a->ntune && cli_load_tuning("dcomhunt hunt", "--tune", a->tune_paths, a->ntune, &l->tune_rs,
                                    &l->tuning))
        return DH_EXIT_USAGE;
    return select_rules(a, o, l);
}

static void loaded_free(hunt_loaded *l, const char *html_path, int rc)
{
    if (l->html_out) {
        fclose(l->html_out);
        if (rc == DH_EXIT_USAGE || rc == DH_EXIT_ERROR)
            remove(html_path); /* nothing was written: no empty report left behind */
    }
    dh_findings_writer_free(l->fo_html);
    dh_tuning_free(l->tuning);
    dh_ruleset_free(l->tune_rs);
    dh_comdb_free(l->comdb);
    free(l->selected);
    dh_ruleset_free(l->rs);
}

/* Findings mode: the writer the findings are printed with (c->fo), and the HTML report's
 * (l->fo_html) fed from it. */
static void open_writers(hunt_ctx *c, const hunt_args *a, hunt_loaded *l)
{
    dh_findings_format fmt = c->o.format == FMT_JSONL  ? DH_FINDINGS_JSONL
                             : c->o.format == FMT_OCSF ? DH_FINDINGS_OCSF
                             : c->o.format == FMT_CSV  ? DH_FINDINGS_CSV
                                                       : DH_FINDINGS_TABLE;
    if (dh_findings_writer_new(fmt, c->o.color, &c->fo) != DH_OK)
        return;
    dh_findings_writer_set_guide(c->fo, a->explain, a->paths, a->npaths);
    dh_findings_writer_set_tuning(c->fo, l->tuning, a->show_suppressed);
    /* --min-level, --rule, and rules of the user's alone (--no-builtin): only the findings
     * they select are shown; every rule still builds the chains */
    dh_findings_writer_set_filter(c->fo, c->o.min_level, c->o.rule_on, a->nonly || !a->builtin);
    if (!a->html_path)
        return;
    /* the page is built from the same findings, suppressed ones included (the page lists
     * them apart), each made into the page's model as it is added */
    if (dh_findings_writer_new(DH_FINDINGS_HTML, 0, &l->fo_html) != DH_OK)
        return;
    dh_findings_writer_set_guide(l->fo_html, 0, a->paths, a->npaths);
    dh_findings_writer_set_tuning(l->fo_html, l->tuning, 1);
    dh_findings_writer_tee(c->fo, l->fo_html);
}

/* The engine, as the options ask, with this command as its sink. */
static dh_status start_engine(hunt_ctx *c, const hunt_args *a, const hunt_loaded *l)
{
    dh_engine_opts eo;
    dh_engine_opts_init(&eo);
    eo.mode = c->o.detections ? DH_ENGINE_DETECTIONS : DH_ENGINE_FINDINGS;
    eo.threads = a->threads;
    /* --jsonl and --csv detections: a timeline, in time order whatever the inputs' order */
    eo.time_order = c->o.detections && c->o.format != FMT_TABLE;
    eo.window_s = c->o.window_s;
    eo.skew_s = c->o.skew_s;
    eo.comdb = l->comdb;
    eo.have_from = c->o.have_from;
    eo.from = c->o.from;
    eo.have_to = c->o.have_to;
    eo.to = c->o.to;
    eo.hosts = (const char *const *)c->o.hosts;
    eo.nhosts = c->o.nhosts;
    eo.min_level = c->o.min_level;
    eo.rules = l->selected;
    eo.nrules = l->selected ? a->nonly : 0;
    eo.sink = (dh_engine_sink){
        .ctx = c,
        .on_finding = hunt_finding,
        .on_detection = hunt_detection,
        .on_error = hunt_error,
        .on_progress = hunt_progress,
    };
    return c->o.detections || c->fo ? dh_engine_new(&eo, l->rs, &c->eng) : DH_ERR_NOMEM;
}

/* What the findings writer counted, for the summary. */
typedef struct findings_tally {
    size_t shown;
    uint64_t hidden, caps[4], per_kind[4], suppressed[4];
} findings_tally;

/* Findings mode, after the run: the last findings out of the engine, printed (unless
 * nothing was read), and the HTML report written. Updates *st. */
static void print_findings(hunt_ctx *c, const hunt_args *a, hunt_loaded *l, int nothing,
                           dh_status *st, findings_tally *ft)
{
    if (dh_engine_finish(c->eng) != DH_OK) {
        if (*st == DH_OK)
            *st = DH_ERR_NOMEM;
        return;
    }
    if (!nothing)
        ft->shown = dh_findings_writer_print(c->fo, stdout);
    ft->hidden = dh_findings_writer_hidden(c->fo);
    if (dh_findings_writer_lost(c->fo) && *st == DH_OK)
        *st = DH_ERR_NOMEM; /* a finding could not be kept or printed: said, and 4 */
    dh_findings_writer_caps(c->fo, &ft->caps[0], &ft->caps[1], &ft->caps[2], &ft->caps[3]);
    dh_findings_writer_counts(c->fo, ft->per_kind);
    dh_findings_writer_suppressed(c->fo, ft->suppressed);
    if (l->html_out && write_html(l->fo_html, l->html_out, a->html_path) && *st == DH_OK)
        *st = DH_ERR_IO;
}

/* The summary's lines about findings and what the engine let go. */
static void print_findings_summary(const hunt_ctx *c, const hunt_args *a, const hunt_loaded *l,
                                   const dh_engine_counts *es, const findings_tally *ft)
{
    const uint64_t *k = ft->per_kind, *cap = ft->caps, *sup = ft->suppressed;
    int findings = !c->o.detections;
    if (findings)
        fprintf(stderr,
                "  findings: %zu (lateral_movement %llu, attempt %llu, source_activity %llu, "
                "signal %llu); %llu events kept for correlation, at most %zu at once\n",
                ft->shown, (unsigned long long)k[0], (unsigned long long)k[1],
                (unsigned long long)k[2], (unsigned long long)k[3], (unsigned long long)es->kept,
                es->kept_peak);
    if (cap[0] || cap[1] || cap[2] || cap[3])
        fprintf(stderr,
                "  over the findings' caps (docs/findings.md, Limits): %llu values cut, not "
                "listed: %llu commands, %llu evidence records, %llu rules\n",
                (unsigned long long)cap[0], (unsigned long long)cap[1], (unsigned long long)cap[2],
                (unsigned long long)cap[3]);
    if (findings && ft->hidden)
        fprintf(stderr, "  not shown: %llu findings below --min-level or without a selected rule\n",
                (unsigned long long)ft->hidden);
    print_undecided(c, es);
    if (findings && es->wire_dropped)
        fprintf(stderr,
                "  network sensor records let go, too many held at once: %llu (their chains "
                "may lack wire evidence)\n",
                (unsigned long long)es->wire_dropped);
    if (findings && es->sigma_late)
        fprintf(stderr,
                "  Sigma correlation: %llu events came after it had passed their time (inputs "
                "read out of time order); they were judged with what their groups still held, "
                "so signals across inputs may be missing\n",
                (unsigned long long)es->sigma_late);
    if (findings && es->sigma_dropped)
        fprintf(stderr, "  Sigma correlation: %llu events not held, a memory cap was reached\n",
                (unsigned long long)es->sigma_dropped);
    uint64_t nsup = sup[0] + sup[1] + sup[2] + sup[3];
    if (findings && l->tuning)
        fprintf(stderr,
                "  suppressed by tuning: %llu (lateral_movement %llu, attempt %llu, "
                "source_activity %llu, signal %llu)%s\n",
                (unsigned long long)nsup, (unsigned long long)sup[0], (unsigned long long)sup[1],
                (unsigned long long)sup[2], (unsigned long long)sup[3],
                a->show_suppressed || !nsup ? "" : "; --show-suppressed shows them");
}

/* Reads the inputs through the engine and prints everything; the exit status. */
static int hunt_run(hunt_ctx *c, const hunt_args *a, hunt_loaded *l)
{
    static char obuf[1 << 20];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    dh_status st = sink_status(c, dh_engine_run(c->eng, a->paths, a->npaths));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (c->progress_shown)
        fputs("\r\033[K", stderr);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    findings_tally ft;
    memset(&ft, 0, sizeof ft);
    dh_engine_counts es;
    if (dh_engine_stats(c->eng, &es) != DH_OK && st == DH_OK)
        st = DH_ERR_NOMEM;
    /* Nothing read is not "no findings": the table says nothing then (stderr says why). */
    int nothing = cli_nothing_read("hunt", st, &es.input);
    if (c->o.detections) {
        /* the timeline's detections come out now; the table's were kept as they came */
        dh_status tst = sink_status(c, dh_engine_finish(c->eng));
        if (tst != DH_OK && st == DH_OK)
            st = tst;
        if (c->o.format == FMT_TABLE && !nothing)
            print_table(c, es.detections);
    } else {
        print_findings(c, a, l, nothing, &st, &ft);
    }
    if (dh_engine_stats(c->eng, &es) != DH_OK && st == DH_OK)
        st = DH_ERR_NOMEM;
    if (fflush(stdout) != 0 && st == DH_OK)
        st = DH_ERR_IO;
    print_summary(c, &es, secs, l->refused);
    print_findings_summary(c, a, l, &es, &ft);
    uint64_t reported = c->o.detections ? es.detections : ft.shown;
    if (st != DH_OK && st != DH_ERR_FORMAT)
        fprintf(stderr, "dcomhunt hunt: %s\n", dh_status_str(st));
    if ((st != DH_OK && st != DH_ERR_FORMAT) || nothing)
        return DH_EXIT_ERROR;
    if (st == DH_ERR_FORMAT || l->refused)
        return reported ? DH_EXIT_FOUND_PARTIAL : DH_EXIT_PARTIAL;
    return reported ? DH_EXIT_FOUND : DH_EXIT_OK;
}

int cli_hunt(int argc, char **argv)
{
    hunt_ctx c;
    memset(&c, 0, sizeof c);
    c.o.window_s = 300;
    c.o.skew_s = 120;
    hunt_args a;
    memset(&a, 0, sizeof a);
    a.builtin = 1;
    a.color = -1;
    a.progress = 1;
    hunt_loaded l;
    memset(&l, 0, sizeof l);
    /* every option can repeat at most argc times */
    a.rule_paths = calloc((size_t)argc + 1, sizeof *a.rule_paths);
    a.tune_paths = calloc((size_t)argc + 1, sizeof *a.tune_paths);
    a.com_paths = calloc((size_t)argc + 1, sizeof *a.com_paths);
    a.only = calloc((size_t)argc + 1, sizeof *a.only);
    c.o.hosts = calloc((size_t)argc + 1, sizeof *c.o.hosts);
    int rc = DH_EXIT_ERROR;
    if (!a.rule_paths || !a.tune_paths || !a.com_paths || !a.only || !c.o.hosts)
        goto out;
    rc = parse_args(argc, argv, &a, &c.o);
    if (a.stop)
        goto out;
    const char *clash = flag_clash(&a, &c.o);
    if (clash) {
        fprintf(stderr, "dcomhunt hunt: %s\n", clash);
        rc = DH_EXIT_USAGE;
        goto out;
    }
    if ((rc = load(&a, &c.o, &l)) != DH_EXIT_OK)
        goto out;
    c.rs = l.rs;
    c.o.color = a.color < 0 ? isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL : a.color;
    c.o.progress = a.progress && isatty(STDERR_FILENO);
    dh_buf_init(&c.line, 64u << 20);
    if (!c.o.detections)
        open_writers(&c, &a, &l);
    dh_status est = start_engine(&c, &a, &l);
    if (est != DH_OK) {
        fprintf(stderr, "dcomhunt hunt: cannot start the %s: %s\n",
                c.o.detections ? "engine" : "correlator", dh_status_str(est));
        rc = DH_EXIT_ERROR;
    } else {
        rc = hunt_run(&c, &a, &l);
    }
    for (size_t i = 0; i < c.nrows; i++)
        free(c.rows[i].mem);
    free(c.rows);
    dh_buf_free(&c.line);
    dh_engine_free(c.eng);
    dh_findings_writer_free(c.fo);
out:
    loaded_free(&l, a.html_path, rc);
    free(a.rule_paths);
    free(a.tune_paths);
    free(a.com_paths);
    free(a.only);
    free(c.o.rule_on);
    free(c.o.hosts);
    return rc;
}
