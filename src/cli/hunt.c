/* dcomhunt hunt: run the rule pack (and the user's rules) over the inputs and report
 * detections as a table, JSON lines or CSV, with a summary on stderr.
 *
 * Workers match events and write each detection, already rendered as its fields, into the
 * unit's output as a small length-prefixed record; the calling thread reads those records
 * in input order and prints them, so output is the same whatever the thread count. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/tally.h"
#include "core/timeline.h"
#include "dcomhunt/correlate.h"
#include "dcomhunt/finding.h"
#include "core/buf.h"
#include "core/timefmt.h"
#include "dcomhunt/rules.h"
#include "output/html.h"
#include "output/json.h"
#include "output/text.h"

#define MAX_TABLE_ROWS   100000       /* detections kept for the grouped table; more are counted */
#define MAX_TABLE_BYTES  (256u << 20) /* and their bytes (a value may be 128 KiB) */
#define MAX_SUMMARY_ROWS 25

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

/* A detection as the workers wrote it ('D' record); its strings are byte strings with a
 * length (a value from the logs may hold a NUL) pointing into the record. */
typedef struct row {
    size_t seq; /* arrival order, the last sort key so the table order is stable */
    uint32_t rule;
    int undecided; /* the rule could not be decided on the event (reported as matched) */
    int64_t time;
    uint64_t record_id;
    uint32_t event_id;
    dh_str host, file, channel, kind, fields;
    char *mem; /* the record's bytes, when the row is kept (the table) */
} row;

typedef struct hunt_ctx {
    hunt_opts o;
    const dh_ruleset *rs;
    pthread_mutex_t mu;
    table merged;
    uint64_t events, events_considered;
    uint64_t per_level[DH_LEVEL_CRITICAL + 1];
    uint64_t detections;
    uint64_t *per_rule;
    row *rows;
    size_t nrows, rows_cap;
    uint64_t rows_dropped;
    size_t rows_bytes;
    timeline *tl; /* --jsonl and --csv detections, put in time order */
    dh_buf line;
    int csv_header;
    int progress_shown;
    dh_correlator *corr;
    uint64_t kept;       /* events kept for correlation */
    uint64_t *undecided; /* per rule: events it could not decide (merged from the workers) */
    uint64_t undecided_events;
    const dh_rule **take_rules; /* scratch of hunt_emit for a 'C' record */
    unsigned char *take_undecided;
    size_t take_cap;
} hunt_ctx;

typedef struct hunt_worker {
    hunt_ctx *c;
    dh_matcher *m;
    table t;
    uint64_t events, considered;
    dh_buf *out;
    dh_buf scratch;
    dh_status st;
    uint32_t *hits;         /* rules that matched the current event (findings mode); the top bit */
    size_t nhits, hits_cap; /* marks a rule that was undecided (UNDECIDED_BIT) */
    uint64_t *undecided;    /* per rule: events it could not decide */
    uint64_t undecided_events;
    int event_undecided;
} hunt_worker;

/* A rule index with this bit set in a record: the rule came out undecided on the event
 * (its regular expression hit the match limit) and is reported as matched. */
#define UNDECIDED_BIT 0x80000000u

/* ---- key fields of a matched event, per kind -------------------------------------- */

static const char *const key_fields[][6] = {
    [DH_KIND_PROCESS_CREATION] = {"Image", "CommandLine", "ParentImage", "ParentCommandLine",
                                  "User", "LogonId"},
    [DH_KIND_NETWORK_CONNECTION] = {"Image", "Initiated", "SourceIp", "SourcePort", "DestinationIp",
                                    "DestinationPort"},
    [DH_KIND_LOGON] = {"TargetUserName", "TargetDomainName", "LogonType", "IpAddress",
                       "WorkstationName", "TargetLogonId"},
    [DH_KIND_IMAGE_LOAD] = {"Image", "ImageLoaded", "Signed", "SignatureStatus", "User", NULL},
    [DH_KIND_REGISTRY_ADD] = {"Image", "EventType", "TargetObject", "Details", NULL, NULL},
    [DH_KIND_REGISTRY_SET] = {"Image", "EventType", "TargetObject", "Details", NULL, NULL},
    [DH_KIND_REGISTRY_DELETE] = {"Image", "EventType", "TargetObject", NULL, NULL, NULL},
    [DH_KIND_REGISTRY_RENAME] = {"Image", "EventType", "TargetObject", "Details", NULL, NULL},
    [DH_KIND_DCOM_ERROR] = {"CLSID", "AppID", "User", "RemoteHost", "Image", NULL},
    [DH_KIND_PS_SCRIPT] = {"ScriptBlockText", "Path", NULL, NULL, NULL, NULL},
    [DH_KIND_PS_MODULE] = {"Payload", NULL, NULL, NULL, NULL, NULL},
    [DH_KIND_FILE_EVENT] = {"Image", "TargetFilename", NULL, NULL, NULL, NULL},
    [DH_KIND_SERVICE_INSTALL] = {"ServiceName", "ImagePath", "User", NULL, NULL, NULL},
    [DH_KIND_TASK_CREATE] = {"TaskName", "User", "LogonId", NULL, NULL, NULL},
};

static dh_status put_u32(dh_buf *b, uint32_t v)
{
    return dh_buf_append(b, &v, 4);
}

static dh_status put_str(dh_buf *b, const char *s, size_t n)
{
    uint32_t l = (uint32_t)n;
    dh_status st = dh_buf_append(b, &l, 4);
    return st ? st : dh_buf_append(b, s, n);
}

/* One "Name=value" of the key fields: the value whole up to DH_VALUE_CAP, then marked. */
static dh_status key_value(dh_buf *b, dh_str name, dh_str v)
{
    dh_status st = dh_buf_append(b, name.ptr, name.len);
    if (!st)
        st = dh_buf_putc(b, '=');
    if (!st)
        st = dh_buf_append(b, v.ptr, v.len > DH_VALUE_CAP ? DH_VALUE_CAP : v.len);
    if (!st && v.len > DH_VALUE_CAP) {
        char mark[64];
        snprintf(mark, sizeof mark, " [truncated: %zu bytes]", v.len);
        st = dh_buf_puts(b, mark);
    }
    return st;
}

/* "Name=value; Name=value" of the event's key fields. */
static dh_status key_text(dh_buf *b, const dh_event *ev)
{
    unsigned k = (unsigned)dh_event_kind(ev);
    const char *const *names =
        k < sizeof key_fields / sizeof key_fields[0] && key_fields[k][0] ? key_fields[k] : NULL;
    int first = 1;
    dh_status st = DH_OK;
    if (names) {
        for (int i = 0; i < 6 && names[i] && !st; i++) {
            dh_str v;
            if (!dh_event_get(ev, names[i], strlen(names[i]), &v) || !v.len)
                continue;
            if (!first)
                st = dh_buf_append(b, "; ", 2);
            first = 0;
            if (!st)
                st = key_value(b, (dh_str){names[i], strlen(names[i])}, v);
        }
        return st;
    }
    size_t n;
    const dh_kv *kv = dh_event_data(ev, &n);
    for (size_t i = 0; i < n && i < 6 && !st; i++) {
        if (!first)
            st = dh_buf_append(b, "; ", 2);
        first = 0;
        if (!st)
            st = key_value(b, kv[i].name, kv[i].value);
    }
    return st;
}

/* Is a rule one the user asked for (--min-level, --rule)? Detections of other rules are
 * not reported; findings are built from every rule and filtered as findings. */
static int rule_selected(const hunt_opts *o, const dh_rule *r)
{
    return dh_rule_level(r) >= o->min_level && (!o->rule_on || o->rule_on[dh_rule_index(r)]);
}

static void on_match(void *ctx, const dh_rule *r, const dh_event *ev)
{
    hunt_worker *w = ctx;
    hunt_ctx *c = w->c;
    if (w->st)
        return;
    uint32_t und = dh_matcher_undecided(w->m) ? UNDECIDED_BIT : 0;
    if (und) {
        w->undecided[dh_rule_index(r)]++;
        w->event_undecided = 1;
    }
    if (!c->o.detections) {
        /* every rule: a chain's severity and confidence do not depend on the filters */
        if (w->nhits == w->hits_cap) {
            size_t cap = w->hits_cap ? w->hits_cap * 2 : 64;
            uint32_t *h = realloc(w->hits, cap * sizeof *h);
            if (!h) {
                w->st = DH_ERR_NOMEM;
                return;
            }
            w->hits = h;
            w->hits_cap = cap;
        }
        w->hits[w->nhits++] = (uint32_t)dh_rule_index(r) | und;
        return;
    }
    if (!rule_selected(&c->o, r))
        return;
    if (!dh_rule_reported_alone(r))
        return; /* a correlation's base rule: reported through findings only */
    dh_buf *b = w->out;
    if (dh_buf_putc(b, 'D')) {
        w->st = DH_ERR_NOMEM;
        return;
    }
    dh_str host = dh_event_host(ev), ch = dh_event_channel(ev);
    const char *file = dh_event_file(ev), *kind = dh_kind_name(dh_event_kind(ev));
    w->scratch.len = 0;
    dh_status st = key_text(&w->scratch, ev);
    int64_t t = dh_event_time(ev);
    uint64_t rid = dh_event_record_id(ev);
    if (!st)
        st = put_u32(b, (uint32_t)dh_rule_index(r) | und);
    if (!st)
        st = dh_buf_append(b, &t, 8);
    if (!st)
        st = dh_buf_append(b, &rid, 8);
    if (!st)
        st = put_u32(b, dh_event_id(ev));
    if (!st)
        st = put_str(b, host.ptr, host.len);
    if (!st)
        st = put_str(b, file, strlen(file));
    if (!st)
        st = put_str(b, ch.ptr, ch.len);
    if (!st)
        st = put_str(b, kind, strlen(kind));
    if (!st)
        st = put_str(b, w->scratch.data ? w->scratch.data : "", w->scratch.len);
    w->st = st;
}

static int host_selected(const hunt_opts *o, dh_str h)
{
    if (!o->nhosts)
        return 1;
    for (size_t i = 0; i < o->nhosts; i++) {
        size_t n = strlen(o->hosts[i]);
        if (h.len >= n && !strncasecmp(h.ptr, o->hosts[i], n) && (h.len == n || h.ptr[n] == '.'))
            return 1;
    }
    return 0;
}

static void *hunt_worker_new(void *ctx)
{
    hunt_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->c = ctx;
    dh_buf_init(&w->scratch, 64u << 20);
    w->undecided = calloc(dh_ruleset_count(w->c->rs) + 1, sizeof *w->undecided);
    if (!w->undecided || dh_matcher_new(w->c->rs, &w->m)) {
        free(w->undecided);
        free(w);
        return NULL;
    }
    return w;
}

static void hunt_worker_free(void *wctx)
{
    hunt_worker *w = wctx;
    if (!w)
        return;
    hunt_ctx *c = w->c;
    pthread_mutex_lock(&c->mu);
    c->events += w->events;
    c->events_considered += w->considered;
    table_merge(&c->merged, &w->t);
    c->undecided_events += w->undecided_events;
    for (size_t i = 0; i < dh_ruleset_count(c->rs); i++)
        c->undecided[i] += w->undecided[i];
    pthread_mutex_unlock(&c->mu);
    dh_buf_free(&w->scratch);
    dh_matcher_free(w->m);
    free(w->hits);
    free(w->undecided);
    free(w);
}

static dh_status hunt_event(void *wctx, const dh_event *ev, dh_buf *out)
{
    hunt_worker *w = wctx;
    if (!w)
        return DH_ERR_NOMEM;
    hunt_ctx *c = w->c;
    w->events++;
    dh_str ch = dh_event_channel(ev);
    size_t slot;
    tally *e = table_find(&w->t, ch.ptr, ch.len, dh_event_id(ev), (int)dh_event_kind(ev), &slot);
    if (!e)
        return DH_ERR_NOMEM;
    e->count++;
    int64_t t = dh_event_time(ev);
    if ((c->o.have_from && t < c->o.from) || (c->o.have_to && t > c->o.to) ||
        !host_selected(&c->o, dh_event_host(ev)))
        return DH_OK;
    w->considered++;
    w->out = out;
    w->st = DH_OK;
    w->nhits = 0;
    w->event_undecided = 0;
    dh_matcher_run(w->m, ev, on_match, w);
    w->undecided_events += (uint64_t)w->event_undecided;
    if (!c->o.detections && !w->st && dh_correlator_wants(c->corr, ev, w->nhits)) {
        /* 'C', the rules it matched, then the event packed for the correlator. */
        uint32_t n = (uint32_t)w->nhits;
        dh_status st = dh_buf_putc(out, 'C');
        if (!st)
            st = dh_buf_append(out, &n, 4);
        if (!st && n)
            st = dh_buf_append(out, w->hits, n * sizeof w->hits[0]);
        if (!st)
            st = dh_correlator_pack(c->rs, ev, out); /* with the fields correlation rules read */
        w->st = st;
    }
    return w->st;
}

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

static void emit_jsonl(hunt_ctx *c, const row *d)
{
    const dh_rule *r = dh_ruleset_rule(c->rs, d->rule);
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

static void emit_csv(hunt_ctx *c, const row *d)
{
    const dh_rule *r = dh_ruleset_rule(c->rs, d->rule);
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

static int read_str(const char **p, const char *end, dh_str *out)
{
    uint32_t n;
    if (end - *p < 4)
        return -1;
    memcpy(&n, *p, 4);
    *p += 4;
    if ((size_t)(end - *p) < n)
        return -1;
    *out = (dh_str){*p, n};
    *p += n;
    return 0;
}

/* A 'D' record (after its tag) into d, whose strings point into it; the bytes it took, or
 * 0 if it is not one. */
static size_t parse_row(const char *p, const char *end, row *d)
{
    const char *start = p;
    memset(d, 0, sizeof *d);
    if (end - p < 24)
        return 0;
    memcpy(&d->rule, p, 4);
    memcpy(&d->time, p + 4, 8);
    memcpy(&d->record_id, p + 12, 8);
    memcpy(&d->event_id, p + 20, 4);
    d->undecided = (d->rule & UNDECIDED_BIT) != 0;
    d->rule &= ~UNDECIDED_BIT;
    p += 24;
    if (read_str(&p, end, &d->host) || read_str(&p, end, &d->file) ||
        read_str(&p, end, &d->channel) || read_str(&p, end, &d->kind) ||
        read_str(&p, end, &d->fields))
        return 0;
    return (size_t)(p - start);
}

static dh_status emit_timeline_row(void *ctx, const char *rec, size_t len)
{
    hunt_ctx *c = ctx;
    row d;
    if (!parse_row(rec, rec + len, &d))
        return DH_ERR_FORMAT;
    if (c->o.format == FMT_JSONL)
        emit_jsonl(c, &d);
    else
        emit_csv(c, &d);
    return ferror(stdout) ? DH_ERR_IO : DH_OK;
}

static dh_status hunt_emit(void *ctx, const char *bytes, size_t len)
{
    hunt_ctx *c = ctx;
    const char *p = bytes, *end = bytes + len;
    if (c->progress_shown) {
        fputs("\r\033[K", stderr);
        c->progress_shown = 0;
    }
    while (end - p >= 1) {
        char tag = *p++;
        if (tag == 'C') {
            uint32_t n;
            if (end - p < 4)
                return DH_ERR_FORMAT;
            memcpy(&n, p, 4);
            p += 4;
            if (n > dh_ruleset_count(c->rs) || (size_t)(end - p) < n * 4u)
                return DH_ERR_FORMAT;
            if (n > c->take_cap) {
                const dh_rule **r = realloc(c->take_rules, n * sizeof *r);
                if (r)
                    c->take_rules = r;
                unsigned char *u = realloc(c->take_undecided, n);
                if (u)
                    c->take_undecided = u;
                if (!r || !u)
                    return DH_ERR_NOMEM;
                c->take_cap = n;
            }
            const dh_rule **rules = c->take_rules;
            for (uint32_t i = 0; i < n; i++) {
                uint32_t ri;
                memcpy(&ri, p + 4 * i, 4);
                c->take_undecided[i] = (ri & UNDECIDED_BIT) != 0;
                ri &= ~UNDECIDED_BIT;
                if (ri >= dh_ruleset_count(c->rs))
                    return DH_ERR_FORMAT;
                rules[i] = dh_ruleset_rule(c->rs, ri);
                if (!rule_selected(&c->o, rules[i]))
                    continue;
                c->detections++;
                c->per_level[dh_rule_level(rules[i])]++;
                c->per_rule[ri]++;
            }
            p += 4 * n;
            size_t used = 0;
            dh_event *ev = dh_event_unpack(p, (size_t)(end - p), &used);
            if (!ev)
                return DH_ERR_FORMAT;
            p += used;
            c->kept++;
            dh_status st = dh_correlator_take_undecided(c->corr, ev, rules, n, c->take_undecided);
            if (st)
                return st;
            continue;
        }
        row d;
        size_t used = tag == 'D' ? parse_row(p, end, &d) : 0;
        if (!used)
            return DH_ERR_FORMAT;
        const char *rec = p;
        p += used;
        const dh_rule *r = dh_ruleset_rule(c->rs, d.rule);
        c->detections++;
        c->per_level[dh_rule_level(r)]++;
        c->per_rule[d.rule]++;
        if (c->tl) {
            dh_status st = timeline_add(c->tl, d.time, rec, used);
            if (st)
                return st;
        } else if (c->nrows >= MAX_TABLE_ROWS || c->rows_bytes + used > MAX_TABLE_BYTES) {
            c->rows_dropped++;
        } else {
            char *mem = malloc(used);
            if (!mem)
                return DH_ERR_NOMEM;
            memcpy(mem, rec, used);
            parse_row(mem, mem + used, &d);
            d.mem = mem;
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
            d.seq = c->nrows;
            c->rows[c->nrows++] = d;
        }
    }
    return ferror(stdout) ? DH_ERR_IO : DH_OK;
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

static const hunt_ctx *sort_ctx;

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    const dh_rule *rx = dh_ruleset_rule(sort_ctx->rs, x->rule);
    const dh_rule *ry = dh_ruleset_rule(sort_ctx->rs, y->rule);
    if (dh_rule_level(rx) != dh_rule_level(ry))
        return dh_rule_level(rx) > dh_rule_level(ry) ? -1 : 1;
    if (x->rule != y->rule)
        return x->rule < y->rule ? -1 : 1;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void print_table(hunt_ctx *c)
{
    /* Order: level (highest first), rule, time, arrival. */
    sort_ctx = c;
    if (c->nrows > 1) /* qsort must not be given a null array */
        qsort(c->rows, c->nrows, sizeof *c->rows, cmp_row);
    dh_buf *b = &c->line;
    uint32_t cur = UINT32_MAX;
    for (size_t i = 0; i < c->nrows; i++) {
        const row *d = &c->rows[i];
        const dh_rule *r = dh_ruleset_rule(c->rs, d->rule);
        if (d->rule != cur) {
            cur = d->rule;
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
            char num[48];
            snprintf(num, sizeof num, ", %llu detection%s)\n",
                     (unsigned long long)c->per_rule[d->rule],
                     c->per_rule[d->rule] == 1 ? "" : "s");
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
    if (!c->detections)
        fputs("no detections\n", stdout);
}

static void print_summary(hunt_ctx *c, const dh_scan_stats *st, double secs, unsigned refused)
{
    FILE *f = stderr;
    fprintf(f,
            "\nsummary\n  input: %llu files read, %llu skipped; %llu chunks (%llu damaged); "
            "%llu events (%llu records damaged)\n",
            (unsigned long long)st->files_read, (unsigned long long)st->files_skipped,
            (unsigned long long)st->chunks, (unsigned long long)st->chunks_damaged,
            (unsigned long long)st->records, (unsigned long long)st->records_damaged);
    if (st->records_unused)
        fprintf(f, "  records of logs not used (Zeek logs without connection endpoints): %llu\n",
                (unsigned long long)st->records_unused);
    size_t n = 0;
    tally *list = malloc((c->merged.n ? c->merged.n : 1) * sizeof *list);
    for (size_t i = 0; list && i < c->merged.cap; i++)
        if (c->merged.v[i].channel)
            list[n++] = c->merged.v[i];
    if (list) {
        if (n > 1)
            qsort(list, n, sizeof *list, tally_cmp_count);
        fprintf(f, "  events by channel and id (most first):\n");
        for (size_t i = 0; i < n && i < MAX_SUMMARY_ROWS; i++) {
            fprintf(f, "    %10llu  ", (unsigned long long)list[i].count);
            if (list[i].channel_len)
                cli_put_safe_n(f, list[i].channel, list[i].channel_len);
            else
                fputs("(no channel)", f);
            fprintf(f, " %u (%s)\n", list[i].event_id, dh_kind_name((dh_kind)list[i].kind));
        }
        if (n > MAX_SUMMARY_ROWS)
            fprintf(f, "    ... %zu more (dcomhunt stats lists them all)\n", n - MAX_SUMMARY_ROWS);
    }
    /* Rules applicable: those whose logsource met at least one event read. */
    size_t applicable = 0, nr = dh_ruleset_count(c->rs);
    for (size_t i = 0; i < nr; i++) {
        const dh_rule *r = dh_ruleset_rule(c->rs, i);
        int hit = 0;
        for (size_t k = 0; k < n && !hit; k++)
            hit = dh_rule_meets(r, (dh_kind)list[k].kind, list[k].channel, list[k].channel_len);
        applicable += (size_t)hit;
    }
    free(list);
    fprintf(f, "  rules: %zu loaded, %u refused, %zu applicable to the events read\n", nr, refused,
            applicable);
    fprintf(f,
            "  detections: %llu (critical %llu, high %llu, medium %llu, low %llu, "
            "informational %llu)\n",
            (unsigned long long)c->detections, (unsigned long long)c->per_level[4],
            (unsigned long long)c->per_level[3], (unsigned long long)c->per_level[2],
            (unsigned long long)c->per_level[1], (unsigned long long)c->per_level[0]);
    if (st->errors)
        fprintf(f, "  problems reported above: %llu\n", (unsigned long long)st->errors);
    fprintf(f, "  time: %.3f s, %.0f events/s, %.1f MB/s\n", secs,
            secs > 0 ? (double)st->records / secs : 0.0,
            secs > 0 ? (double)st->bytes_read / secs / 1e6 : 0.0);
}

/* Events where a rule's regular expression hit the match limit: a summary line, and a
 * warning naming each such rule once. */
static void print_undecided(const hunt_ctx *c)
{
    if (!c->undecided_events)
        return;
    fprintf(stderr,
            "  undecided: %llu events where a rule's regular expression hit its match limit "
            "(reported as matched, marked undecided)\n",
            (unsigned long long)c->undecided_events);
    for (size_t i = 0; i < dh_ruleset_count(c->rs); i++) {
        if (!c->undecided[i])
            continue;
        const dh_rule *r = dh_ruleset_rule(c->rs, i);
        fputs("dcomhunt hunt: warning: rule '", stderr);
        cli_put_safe(stderr, dh_rule_title(r));
        fputs("' (", stderr);
        cli_put_safe(stderr, dh_rule_id(r));
        fprintf(stderr,
                "): a regular expression hit its match limit on %llu events; they are reported "
                "as undecided matches (docs/rules.md)\n",
                (unsigned long long)c->undecided[i]);
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
    dh_scan_opts opts;
    dh_scan_opts_init(&opts);
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
            opts.threads = (unsigned)t;
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
    c.per_rule = calloc(dh_ruleset_count(rs) + 1, sizeof *c.per_rule);
    c.undecided = calloc(dh_ruleset_count(rs) + 1, sizeof *c.undecided);
    if (nonly) {
        c.o.rule_on = calloc(dh_ruleset_count(rs) + 1, 1);
        for (size_t i = 0; i < nonly && c.o.rule_on; i++) {
            const dh_rule *r = dh_ruleset_find(rs, only[i]);
            if (!r) {
                fputs("dcomhunt hunt: --rule: no loaded rule has the id or name '", stderr);
                cli_put_safe(stderr, only[i]);
                fputs("'\n", stderr);
                rc = DH_EXIT_USAGE;
                break;
            }
            c.o.rule_on[dh_rule_index(r)] = 1;
        }
    }
    if (rc == DH_EXIT_OK && (!c.per_rule || !c.undecided || (nonly && !c.o.rule_on)))
        rc = DH_EXIT_ERROR;
    if (rc != DH_EXIT_OK) {
        dh_ruleset_free(rs);
        goto out;
    }
    c.o.color = color < 0 ? isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL : color;
    c.o.progress = progress && isatty(STDERR_FILENO);
    pthread_mutex_init(&c.mu, NULL);
    dh_buf_init(&c.line, 64u << 20);
    dh_correlate_opts copts = {c.o.window_s, c.o.skew_s, comdb};
    dh_findings_writer *fo = NULL;
    if (!c.o.detections) {
        dh_findings_format fmt = c.o.format == FMT_JSONL  ? DH_FINDINGS_JSONL
                                 : c.o.format == FMT_OCSF ? DH_FINDINGS_OCSF
                                 : c.o.format == FMT_CSV  ? DH_FINDINGS_CSV
                                                          : DH_FINDINGS_TABLE;
        dh_findings_writer_new(fmt, c.o.color, &fo);
        if (fo) {
            dh_findings_writer_set_guide(fo, explain, (const char *const *)argv + optind,
                                         (size_t)(argc - optind));
            dh_findings_writer_set_tuning(fo, tuning, show_suppressed);
            /* --min-level, --rule, and rules of the user's alone (--no-builtin): only the
             * findings they select are shown; every rule still builds the chains */
            dh_findings_writer_set_filter(fo, c.o.min_level, c.o.rule_on, nonly || !builtin);
        }
        if (fo && html_path) {
            /* the report is built from the same findings as JSON lines, suppressed ones
             * included (the page lists them apart) */
            dh_findings_writer_new(DH_FINDINGS_JSONL, 0, &fo_html);
            if (fo_html) {
                dh_findings_writer_set_guide(fo_html, 0, (const char *const *)argv + optind,
                                             (size_t)(argc - optind));
                dh_findings_writer_set_tuning(fo_html, tuning, 1);
                dh_findings_writer_tee(fo, fo_html);
            }
        }
        dh_status cst = fo ? dh_correlator_new(&copts, rs, &c.corr) : DH_ERR_NOMEM;
        if (cst != DH_OK) {
            fprintf(stderr, "dcomhunt hunt: cannot start the correlator: %s\n", dh_status_str(cst));
            dh_findings_writer_free(fo);
            dh_ruleset_free(rs);
            rc = DH_EXIT_ERROR;
            goto out;
        }
        /* Chains are finished as the window passes them: inputs are read in time order. */
        dh_correlator_set_sink(c.corr, dh_findings_writer_sink, fo);
        opts.time_order = 1;
    }
    if (c.o.detections && c.o.format != FMT_TABLE) {
        /* a timeline: detections in time order whatever the order of the inputs */
        c.tl = timeline_new((size_t)256 << 20);
        if (!c.tl) {
            dh_ruleset_free(rs);
            rc = DH_EXIT_ERROR;
            goto out;
        }
    }
    opts.want_system = dh_ruleset_wants_system(rs);
    static char obuf[1 << 20];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    dh_scan_callbacks cb = {
        .ctx = &c,
        .worker_new = hunt_worker_new,
        .worker_free = hunt_worker_free,
        .on_event = hunt_event,
        .emit = hunt_emit,
        .on_error = hunt_error,
        .on_progress = hunt_progress,
    };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    dh_scan_stats stats;
    dh_status st = dh_scan_run((const char *const *)argv + optind, (size_t)(argc - optind), &opts,
                               &cb, &stats);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (c.progress_shown)
        fputs("\r\033[K", stderr);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    size_t nfindings = 0;
    uint64_t hidden = 0, caps[4] = {0, 0, 0, 0};
    uint64_t per_kind[4] = {0, 0, 0, 0}, sup[4] = {0, 0, 0, 0};
    /* Nothing read is not "no findings": the table says nothing then (stderr says why). */
    int nothing = cli_nothing_read("hunt", st, &stats);
    if (c.o.detections) {
        if (c.o.format == FMT_TABLE && !nothing) {
            print_table(&c);
        } else if (c.tl) {
            dh_status tst = timeline_finish(c.tl, emit_timeline_row, &c);
            if (tst != DH_OK && st == DH_OK)
                st = tst;
        }
    } else {
        if (dh_correlator_finish(c.corr, dh_findings_writer_sink, fo) == DH_OK) {
            if (!nothing)
                nfindings = dh_findings_writer_print(fo, stdout);
            hidden = dh_findings_writer_hidden(fo);
            if (dh_findings_writer_lost(fo) && st == DH_OK)
                st = DH_ERR_NOMEM; /* a finding could not be kept or printed: said, and 4 */
            dh_findings_writer_caps(fo, &caps[0], &caps[1], &caps[2], &caps[3]);
            dh_findings_writer_counts(fo, per_kind);
            dh_findings_writer_suppressed(fo, sup);
            if (html_out && write_html(fo_html, html_out, html_path) && st == DH_OK)
                st = DH_ERR_IO;
        } else if (st == DH_OK) {
            st = DH_ERR_NOMEM;
        }
        dh_findings_writer_free(fo);
        dh_findings_writer_free(fo_html);
    }
    if (fflush(stdout) != 0 && st == DH_OK)
        st = DH_ERR_IO;
    print_summary(&c, &stats, secs, refused);
    if (!c.o.detections)
        fprintf(stderr,
                "  findings: %zu (lateral_movement %llu, attempt %llu, source_activity %llu, "
                "signal %llu); %llu events kept for correlation, at most %zu at once\n",
                nfindings, (unsigned long long)per_kind[0], (unsigned long long)per_kind[1],
                (unsigned long long)per_kind[2], (unsigned long long)per_kind[3],
                (unsigned long long)c.kept, dh_correlator_peak(c.corr));
    if (caps[0] || caps[1] || caps[2] || caps[3])
        fprintf(stderr,
                "  over the findings' caps (docs/findings.md, Limits): %llu values cut, not "
                "listed: %llu commands, %llu evidence records, %llu rules\n",
                (unsigned long long)caps[0], (unsigned long long)caps[1],
                (unsigned long long)caps[2], (unsigned long long)caps[3]);
    if (!c.o.detections && hidden)
        fprintf(stderr, "  not shown: %llu findings below --min-level or without a selected rule\n",
                (unsigned long long)hidden);
    print_undecided(&c);
    if (!c.o.detections && dh_correlator_wire_dropped(c.corr))
        fprintf(stderr,
                "  network sensor records let go, too many held at once: %llu (their chains "
                "may lack wire evidence)\n",
                (unsigned long long)dh_correlator_wire_dropped(c.corr));
    if (!c.o.detections && dh_correlator_sigma_late(c.corr))
        fprintf(stderr,
                "  Sigma correlation: %llu events came after it had passed their time (inputs "
                "read out of time order); they were judged with what their groups still held, "
                "so signals across inputs may be missing\n",
                (unsigned long long)dh_correlator_sigma_late(c.corr));
    if (!c.o.detections && dh_correlator_sigma_dropped(c.corr))
        fprintf(stderr, "  Sigma correlation: %llu events not held, a memory cap was reached\n",
                (unsigned long long)dh_correlator_sigma_dropped(c.corr));
    if (!c.o.detections && tuning)
        fprintf(stderr,
                "  suppressed by tuning: %llu (lateral_movement %llu, attempt %llu, "
                "source_activity %llu, signal %llu)%s\n",
                (unsigned long long)(sup[0] + sup[1] + sup[2] + sup[3]), (unsigned long long)sup[0],
                (unsigned long long)sup[1], (unsigned long long)sup[2], (unsigned long long)sup[3],
                show_suppressed || !(sup[0] + sup[1] + sup[2] + sup[3])
                    ? ""
                    : "; --show-suppressed shows them");
    if (!c.o.detections)
        c.detections = nfindings;
    if (st != DH_OK && st != DH_ERR_FORMAT)
        fprintf(stderr, "dcomhunt hunt: %s\n", dh_status_str(st));
    if ((st != DH_OK && st != DH_ERR_FORMAT) || nothing)
        rc = DH_EXIT_ERROR;
    else if (st == DH_ERR_FORMAT || refused)
        rc = c.detections ? DH_EXIT_FOUND_PARTIAL : DH_EXIT_PARTIAL;
    else
        rc = c.detections ? DH_EXIT_FOUND : DH_EXIT_OK;
    for (size_t i = 0; i < c.nrows; i++)
        free(c.rows[i].mem);
    free(c.rows);
    timeline_free(c.tl);
    for (size_t i = 0; i < c.merged.cap; i++)
        free(c.merged.v[i].channel);
    free(c.merged.v);
    free(c.per_rule);
    free(c.undecided);
    free(c.take_rules);
    free(c.take_undecided);
    free(c.o.rule_on);
    dh_buf_free(&c.line);
    pthread_mutex_destroy(&c.mu);
    dh_correlator_free(c.corr);
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
    free(c.o.hosts);
    return rc;
}
