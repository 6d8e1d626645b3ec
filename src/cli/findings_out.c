/* Rendering findings: table (by chain), JSON lines, OCSF Detection Finding (class 2004,
 * written by src/output/ocsf.c) and CSV. Every string from the logs is escaped for its sink.
 * Findings are collected, then printed in a fixed order (first seen, target host, id), so the
 * output does not depend on the thread count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/findings_out.h"
#include "cli/timeline.h"
#include "core/timefmt.h"
#include "findings/tune.h"
#include "output/guide.h"
#include "output/json.h"
#include "output/ocsf.h"
#include "output/text.h"

/* An owned byte string (values may hold a NUL). */
typedef struct bstr {
    char *p;
    size_t n;
} bstr;

/* A finding as an edge of the host graph (lateral movements and attempts): its printing
 * key, so the graph follows the findings' order, and its hosts (cut at GRAPH_HOST_MAX: the
 * graph is a summary; the findings show the names whole). */
typedef struct rendered {
    bstr key;
    bstr src, dst;
    int64_t first_seen, last_seen;
} rendered;

#define GRAPH_HOST_MAX 256
#define HELD_BYTES     (256u << 20) /* rendered findings held in memory, then sorted runs on disk */

struct findings_out {
    int format;
    int color;
    int explain; /* table: the guide and the pivots under each finding */
    const char *const *paths;
    size_t npaths;
    dh_tuning *tuning; /* borrowed; NULL: no tuning */
    int show_suppressed;
    uint64_t suppressed[4];
    size_t nshown_suppressed;
    findings_out *tee; /* another sink given every finding too (hunt --html) */
    dh_level min_level;
    const unsigned char *rule_on; /* borrowed; NULL: every rule */
    int require_rule;
    uint64_t hidden;
    uint64_t lost; /* out of memory or disk: not printed (said at the end) */
    uint64_t cut, commands_dropped, evidence_dropped, rules_dropped; /* over the caps */
    timeline *tl; /* the rendered findings, by their printing key (sort_key) */
    size_t nkept; /* findings kept (not a repeat, not hidden) */
    rendered *v;  /* the host graph's edges */
    size_t n, cap;
    uint64_t *ids; /* open-addressing set of the ids kept (two copies of an input) */
    size_t ids_cap;
    uint64_t per_kind[4];
    dh_buf b;
};

static const char *conf_name(int c)
{
    return c >= 3 ? "high" : c == 2 ? "medium" : "low";
}

/* A copy of at most max bytes of s (a cut one ends with "..."). */
static bstr dup_str(dh_str s, size_t max)
{
    size_t n = s.len > max ? max : s.len, extra = s.len > max ? 3 : 0;
    bstr d = {malloc(n + extra + 1), n + extra};
    if (d.p) {
        memcpy(d.p, s.ptr, n);
        memcpy(d.p + n, "...", extra);
        d.p[n + extra] = 0;
    } else {
        d.n = 0;
    }
    return d;
}

/* The order findings are printed in, as bytes memcmp compares: shown before suppressed,
 * chains before lone signals, by first seen, target host, id. */
static void sort_key(dh_buf *k, const dh_finding *f, int suppressed)
{
    k->len = 0;
    dh_buf_putc(k, (char)(suppressed ? 1 : 0));
    dh_buf_putc(k, (char)(f->kind == DH_FINDING_SIGNAL ? 1 : 0));
    uint64_t u = (uint64_t)f->first_seen ^ (1ULL << 63); /* big-endian, sign flipped */
    for (int i = 0; i < 8; i++)
        dh_buf_putc(k, (char)(u >> (56 - 8 * i)));
    /* the target's bytes, a NUL as 00 FF and 00 00 at the end, so a prefix sorts first */
    for (size_t i = 0; i < f->target_host.len; i++) {
        dh_buf_putc(k, f->target_host.ptr[i]);
        if (!f->target_host.ptr[i])
            dh_buf_putc(k, (char)0xFF);
    }
    dh_buf_append(k, "\0\0", 2);
    dh_buf_append(k, f->id, 16);
}

static int bstr_cmp(bstr a, bstr b, int ci)
{
    size_t n = a.n < b.n ? a.n : b.n;
    int r = n ? (ci ? strncasecmp(a.p, b.p, n) : memcmp(a.p, b.p, n)) : 0;
    return r ? r : a.n < b.n ? -1 : a.n > b.n;
}

findings_out *findings_out_new(int format, int color)
{
    findings_out *o = calloc(1, sizeof *o);
    if (o && !(o->tl = timeline_new(HELD_BYTES))) {
        free(o);
        o = NULL;
    }
    if (o) {
        o->format = format;
        o->color = color;
        dh_buf_init(&o->b, 64u << 20);
    }
    return o;
}

void findings_out_set_guide(findings_out *o, int explain, const char *const *paths, size_t npaths)
{
    o->explain = explain;
    o->paths = paths;
    o->npaths = npaths;
}

void findings_out_set_tuning(findings_out *o, dh_tuning *t, int show_suppressed)
{
    o->tuning = t;
    o->show_suppressed = show_suppressed;
}

static void js(dh_buf *b, const char *s)
{
    dh_json_string(b, s, strlen(s));
}

static void jstr(dh_buf *b, dh_str s)
{
    dh_json_string(b, s.ptr ? s.ptr : "", s.len);
}

static void jstrs(dh_buf *b, const dh_str *v, size_t n)
{
    dh_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            dh_buf_putc(b, ',');
        jstr(b, v[i]);
    }
    dh_buf_putc(b, ']');
}

/* A cut value of a list (commands, servers, session_commands): shown with its index. */
static int cut_listed(const char *value)
{
    return !strcmp(value, "commands") || !strcmp(value, "servers") ||
           !strcmp(value, "session_commands");
}

/* "truncated" (values cut at their cap, with their length in the log) and "dropped"
 * (what the finding's caps left out), when there is any. */
static void limits_json(dh_buf *b, const dh_finding *f)
{
    if (f->ncuts) {
        dh_buf_puts(b, ",\"truncated\":[");
        for (size_t i = 0; i < f->ncuts; i++) {
            const dh_cut *c = &f->cuts[i];
            char what[64];
            if (cut_listed(c->value))
                snprintf(what, sizeof what, "%s[%zu]", c->value, c->index);
            else
                snprintf(what, sizeof what, "%s", c->value);
            dh_buf_puts(b, i ? ",{\"value\":" : "{\"value\":");
            js(b, what);
            dh_buf_puts(b, ",\"length\":");
            dh_buf_put_u64(b, c->length);
            dh_buf_puts(b, ",\"kept\":");
            dh_buf_put_u64(b, c->kept);
            dh_buf_putc(b, '}');
        }
        dh_buf_putc(b, ']');
    }
    if (f->commands_dropped || f->evidence_dropped || f->rules_dropped) {
        dh_buf_puts(b, ",\"dropped\":{\"commands\":");
        dh_buf_put_u64(b, f->commands_dropped);
        dh_buf_puts(b, ",\"evidence\":");
        dh_buf_put_u64(b, f->evidence_dropped);
        dh_buf_puts(b, ",\"rules\":");
        dh_buf_put_u64(b, f->rules_dropped);
        dh_buf_putc(b, '}');
    }
}

/* "undecided_rules": the rules a regular expression limit left undecided on an event of
 * the finding (counted as matched there), when there are any. */
static void undecided_json(dh_buf *b, const dh_finding *f)
{
    if (!f->nundecided)
        return;
    dh_buf_puts(b, ",\"undecided_rules\":[");
    for (size_t i = 0; i < f->nundecided; i++) {
        if (i)
            dh_buf_putc(b, ',');
        js(b, dh_rule_id(f->undecided[i]));
    }
    dh_buf_putc(b, ']');
}

static int is_undecided(const dh_finding *f, const dh_rule *r)
{
    for (size_t i = 0; i < f->nundecided; i++)
        if (f->undecided[i] == r)
            return 1;
    return 0;
}

/* The length in the log of command i when it was cut, else 0. */
static size_t command_cut(const dh_finding *f, size_t i)
{
    for (size_t k = 0; k < f->ncuts; k++)
        if (f->cuts[k].index == i && !strcmp(f->cuts[k].value, "commands"))
            return f->cuts[k].length;
    return 0;
}

/* A rule as people call it: its name, else its title. */
static const char *rule_label(const dh_rule *r)
{
    return *dh_rule_name(r)    ? dh_rule_name(r)
           : *dh_rule_title(r) ? dh_rule_title(r)
                               : dh_rule_ref(r);
}

static void jtime(dh_buf *b, int64_t t)
{
    dh_buf_putc(b, '"');
    dh_time_put_iso(b, t);
    dh_buf_putc(b, '"');
}

static void tty(dh_buf *b, const char *s, size_t n)
{
    dh_text_escape(b, s, n, 0);
}

static void ttys(dh_buf *b, const char *s)
{
    tty(b, s, strlen(s));
}

static void ttyv(dh_buf *b, dh_str s)
{
    tty(b, s.ptr, s.len);
}

static void evidence_json(dh_buf *b, const dh_evidence *e)
{
    dh_str f = dh_event_file_str(e->ev);
    dh_buf_puts(b, "{\"role\":");
    js(b, e->role);
    dh_buf_puts(b, ",\"file\":");
    jstr(b, f);
    dh_buf_puts(b, ",\"record_id\":");
    dh_buf_put_u64(b, dh_event_record_id(e->ev));
    dh_buf_puts(b, ",\"event_id\":");
    dh_buf_put_u64(b, dh_event_id(e->ev));
    dh_buf_puts(b, ",\"channel\":");
    jstr(b, dh_event_channel(e->ev));
    dh_buf_puts(b, ",\"host\":");
    jstr(b, dh_event_host(e->ev));
    dh_buf_puts(b, ",\"time\":");
    jtime(b, dh_event_time(e->ev));
    dh_buf_puts(b, ",\"kind\":\"");
    dh_buf_puts(b, dh_kind_name(dh_event_kind(e->ev)));
    dh_buf_puts(b, "\"}");
}

/* "investigate":[...],"respond":[...],"pivots":[{title,language,query}] */
static void guide_json(dh_buf *b, const dh_guide *g)
{
    dh_buf_puts(b, "\"investigate\":[");
    for (size_t i = 0; i < g->ninvestigate; i++) {
        if (i)
            dh_buf_putc(b, ',');
        js(b, g->investigate[i]);
    }
    dh_buf_puts(b, "],\"respond\":[");
    for (size_t i = 0; i < g->nrespond; i++) {
        if (i)
            dh_buf_putc(b, ',');
        js(b, g->respond[i]);
    }
    dh_buf_puts(b, "],\"pivots\":[");
    for (size_t i = 0; i < g->npivots; i++) {
        if (i)
            dh_buf_putc(b, ',');
        dh_buf_puts(b, "{\"title\":");
        js(b, g->pivots[i].title);
        dh_buf_puts(b, ",\"language\":");
        js(b, g->pivots[i].language);
        dh_buf_puts(b, ",\"query\":");
        js(b, g->pivots[i].query);
        dh_buf_putc(b, '}');
    }
    dh_buf_putc(b, ']');
}

static void suppressed_json(dh_buf *b, const dh_rule *sup)
{
    dh_buf_puts(b, "\"suppressed\":true,\"suppressed_by\":{\"filter\":");
    js(b, dh_rule_title(sup));
    dh_buf_puts(b, ",\"id\":");
    js(b, dh_rule_id(sup));
    dh_buf_puts(b, ",\"reason\":");
    js(b, dh_rule_filter_reason(sup));
    dh_buf_puts(b, ",\"expires\":");
    js(b, dh_rule_filter_expires(sup));
    dh_buf_puts(b, ",\"origin\":");
    js(b, dh_rule_origin(sup));
    dh_buf_putc(b, '}');
}

static void render_jsonl(dh_buf *b, const dh_finding *f, const dh_guide *g, const dh_rule *sup)
{
    dh_buf_puts(b, "{\"id\":\"");
    dh_buf_puts(b, f->id);
    dh_buf_putc(b, '"');
    if (sup) {
        dh_buf_putc(b, ',');
        suppressed_json(b, sup);
    }
    dh_buf_puts(b, ",\"kind\":\"");
    dh_buf_puts(b, dh_finding_kind_name(f->kind));
    dh_buf_puts(b, "\",\"severity\":\"");
    dh_buf_puts(b, dh_level_name(f->severity));
    dh_buf_puts(b, "\",\"confidence\":\"");
    dh_buf_puts(b, conf_name(f->confidence));
    dh_buf_puts(b, "\",\"confidence_reasons\":[");
    for (size_t i = 0; i < f->nreasons; i++) {
        if (i)
            dh_buf_putc(b, ',');
        js(b, f->reasons[i]);
    }
    dh_buf_puts(b, "],\"technique\":\"T1021.003\",\"com_object\":");
    jstr(b, f->com_object);
    dh_buf_puts(b, ",\"clsid\":");
    jstr(b, f->clsid);
    dh_buf_puts(b, ",\"objects\":[");
    for (size_t i = 0; i < f->nobjects; i++) {
        dh_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        js(b, f->objects[i].name);
        dh_buf_puts(b, ",\"clsid\":");
        js(b, f->objects[i].clsid);
        dh_buf_puts(b, ",\"appid\":");
        js(b, f->objects[i].appid);
        dh_buf_putc(b, '}');
    }
    dh_buf_puts(b, "],\"target\":{\"host\":");
    jstr(b, f->target_host);
    dh_buf_puts(b, ",\"ip\":");
    jstr(b, f->target_ip);
    dh_buf_puts(b, "},\"source\":{\"host\":");
    jstr(b, f->source_host);
    dh_buf_puts(b, ",\"ip\":");
    jstr(b, f->source_ip);
    dh_buf_puts(b, "},\"user\":");
    jstr(b, f->user);
    dh_buf_puts(b, ",\"logon_id\":");
    jstr(b, f->logon_id);
    dh_buf_puts(b, ",\"commands\":");
    jstrs(b, f->commands, f->ncommands);
    dh_buf_puts(b, ",\"servers\":");
    jstrs(b, f->servers, f->nservers);
    dh_buf_puts(b, ",\"session_commands\":");
    jstrs(b, f->session_commands, f->nsession_commands);
    limits_json(b, f);
    dh_buf_puts(b, ",\"first_seen\":");
    jtime(b, f->first_seen);
    dh_buf_puts(b, ",\"last_seen\":");
    jtime(b, f->last_seen);
    dh_buf_puts(b, ",\"rule_ids\":[");
    for (size_t i = 0; i < f->nrules; i++) {
        if (i)
            dh_buf_putc(b, ',');
        js(b, dh_rule_ref(f->rules[i])); /* the id; without one, the name or file:line */
    }
    dh_buf_puts(b, "],\"rule_names\":[");
    for (size_t i = 0; i < f->nrules; i++) {
        if (i)
            dh_buf_putc(b, ',');
        js(b, *dh_rule_name(f->rules[i]) ? dh_rule_name(f->rules[i]) : dh_rule_title(f->rules[i]));
    }
    dh_buf_putc(b, ']');
    undecided_json(b, f);
    dh_buf_puts(b, ",\"evidence\":[");
    for (size_t i = 0; i < f->nevidence; i++) {
        if (i)
            dh_buf_putc(b, ',');
        evidence_json(b, &f->evidence[i]);
    }
    dh_buf_puts(b, "],");
    guide_json(b, g);
    dh_buf_puts(b, "}\n");
}

static void csv_cell(dh_buf *b, dh_str s)
{
    dh_csv_cell(b, s.ptr ? s.ptr : "", s.len);
}

static void render_csv(dh_buf *b, const dh_finding *f, const dh_rule *sup)
{
    char kind[64];
    snprintf(kind, sizeof kind, "%s%s", dh_finding_kind_name(f->kind), sup ? " (suppressed)" : "");
    char t1[40] = "", t2[40] = "";
    dh_buf tb;
    dh_buf_init(&tb, 64);
    dh_time_put_iso(&tb, f->first_seen);
    snprintf(t1, sizeof t1, "%.*s", (int)tb.len, tb.data);
    tb.len = 0;
    dh_time_put_iso(&tb, f->last_seen);
    snprintf(t2, sizeof t2, "%.*s", (int)tb.len, tb.data);
    dh_buf_free(&tb);
    const dh_str cells[] = {{f->id, strlen(f->id)},
                            {kind, strlen(kind)},
                            {dh_level_name(f->severity), strlen(dh_level_name(f->severity))},
                            {conf_name(f->confidence), strlen(conf_name(f->confidence))},
                            {t1, strlen(t1)},
                            {t2, strlen(t2)},
                            f->source_host,
                            f->source_ip,
                            f->target_host,
                            f->target_ip,
                            f->com_object,
                            f->clsid,
                            f->user,
                            f->logon_id};
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
        csv_cell(b, cells[i]);
        dh_buf_putc(b, ',');
    }
    /* commands joined with " | ", each cut one marked with its length in the log */
    dh_buf cb;
    dh_buf_init(&cb, 64u << 20);
    for (size_t i = 0; i < f->ncommands; i++) {
        if (i)
            dh_buf_append(&cb, " | ", 3);
        dh_buf_append(&cb, f->commands[i].ptr, f->commands[i].len);
        size_t full = command_cut(f, i);
        if (full) {
            char mark[64];
            snprintf(mark, sizeof mark, " [truncated: %zu bytes]", full);
            dh_buf_puts(&cb, mark);
        }
    }
    if (f->commands_dropped) {
        char mark[64];
        snprintf(mark, sizeof mark, " | [%zu more commands not kept]", f->commands_dropped);
        dh_buf_puts(&cb, mark);
    }
    csv_cell(b, (dh_str){cb.data ? cb.data : "", cb.len});
    dh_buf_putc(b, ',');
    cb.len = 0;
    for (size_t i = 0; i < f->nrules; i++) {
        if (i)
            dh_buf_putc(&cb, ' ');
        dh_buf_puts(&cb, rule_label(f->rules[i]));
        if (is_undecided(f, f->rules[i]))
            dh_buf_puts(&cb, " (undecided)");
    }
    csv_cell(b, (dh_str){cb.data ? cb.data : "", cb.len});
    dh_buf_free(&cb);
    dh_buf_putc(b, '\n');
}

static const char *kind_color(dh_finding_kind k)
{
    switch (k) {
    case DH_FINDING_LATERAL_MOVEMENT:
        return "\033[1;31m";
    case DH_FINDING_ATTEMPT:
        return "\033[33m";
    case DH_FINDING_SOURCE_ACTIVITY:
        return "\033[35m";
    default:
        return "\033[2m";
    }
}

/* Text indented under a heading, wrapped lines kept as they are. */
static void indented(dh_buf *b, const char *text, const char *indent)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        dh_buf_puts(b, indent);
        tty(b, p, n);
        dh_buf_putc(b, '\n');
        p += n + (nl ? 1 : 0);
    }
}

static void numbered(dh_buf *b, const char *heading, char *const *steps, size_t n)
{
    char num[32];
    dh_buf_puts(b, heading);
    for (size_t i = 0; i < n; i++) {
        snprintf(num, sizeof num, "    %zu. ", i + 1);
        dh_buf_puts(b, num);
        ttys(b, steps[i]);
        dh_buf_putc(b, '\n');
    }
}

static void render_explain(dh_buf *b, const dh_guide *g)
{
    numbered(b, "  investigate\n", g->investigate, g->ninvestigate);
    numbered(b, "  respond\n", g->respond, g->nrespond);
    dh_buf_puts(b, "  pivots\n");
    for (size_t i = 0; i < g->npivots; i++) {
        dh_buf_puts(b, "    ");
        ttys(b, g->pivots[i].title);
        dh_buf_puts(b, " (");
        ttys(b, g->pivots[i].language);
        dh_buf_puts(b, ")\n");
        indented(b, g->pivots[i].query, "      ");
    }
}

static void render_table(findings_out *o, dh_buf *b, const dh_finding *f, const dh_guide *g,
                         const dh_rule *sup)
{
    if (o->color)
        dh_buf_puts(b, sup ? "\033[2m" : kind_color(f->kind));
    dh_buf_puts(b, "\n");
    if (sup)
        dh_buf_puts(b, "SUPPRESSED ");
    dh_buf_puts(b, dh_finding_kind_name(f->kind));
    dh_buf_puts(b, " [");
    dh_buf_puts(b, dh_level_name(f->severity));
    dh_buf_puts(b, ", confidence ");
    dh_buf_puts(b, conf_name(f->confidence));
    dh_buf_puts(b, "]  ");
    if (f->source_host.len)
        ttyv(b, f->source_host);
    else if (f->source_ip.len)
        ttyv(b, f->source_ip);
    else
        dh_buf_putc(b, '?');
    if (f->source_host.len && f->source_ip.len) {
        dh_buf_puts(b, " (");
        ttyv(b, f->source_ip);
        dh_buf_puts(b, ")");
    }
    dh_buf_puts(b, " -> ");
    if (f->target_host.len)
        ttyv(b, f->target_host);
    else
        dh_buf_putc(b, '?');
    if (f->com_object.len) {
        dh_buf_puts(b, "  via ");
        ttyv(b, f->com_object);
    }
    if (o->color)
        dh_buf_puts(b, "\033[0m");
    if (sup) {
        dh_buf_puts(b, "\n  suppressed by ");
        ttys(b, dh_rule_title(sup));
        dh_buf_puts(b, ": ");
        ttys(b, dh_rule_filter_reason(sup));
        if (*dh_rule_filter_expires(sup)) {
            dh_buf_puts(b, " (until ");
            ttys(b, dh_rule_filter_expires(sup));
            dh_buf_puts(b, ")");
        }
    }
    dh_buf_puts(b, "\n  id ");
    dh_buf_puts(b, f->id);
    dh_buf_puts(b, "  ");
    dh_time_put_iso(b, f->first_seen);
    dh_buf_puts(b, " .. ");
    dh_time_put_iso(b, f->last_seen);
    if (f->user.len) {
        dh_buf_puts(b, "\n  account ");
        ttyv(b, f->user);
        if (f->logon_id.len) {
            dh_buf_puts(b, "  logon id ");
            ttyv(b, f->logon_id);
        }
    }
    if (f->clsid.len) {
        dh_buf_puts(b, "\n  clsid ");
        ttyv(b, f->clsid);
    }
    for (size_t i = 0; i < f->nservers; i++) {
        dh_buf_puts(b, i ? "\n           " : "\n  servers  ");
        ttyv(b, f->servers[i]);
    }
    for (size_t i = 0; i < f->ncommands; i++) {
        dh_buf_puts(b, i ? "\n           " : "\n  commands ");
        ttyv(b, f->commands[i]);
        size_t full = command_cut(f, i);
        if (full) {
            char mark[96];
            snprintf(mark, sizeof mark, " [truncated: %zu bytes, first %zu shown]", full,
                     f->commands[i].len);
            dh_buf_puts(b, mark);
        }
    }
    for (size_t i = 0; i < f->nsession_commands; i++) {
        dh_buf_puts(b, i ? "\n           " : "\n  session  ");
        ttyv(b, f->session_commands[i]);
    }
    for (size_t i = 0; i < f->ncuts; i++) {
        if (!strcmp(f->cuts[i].value, "commands"))
            continue; /* marked on the command */
        char what[64], mark[200];
        if (cut_listed(f->cuts[i].value))
            snprintf(what, sizeof what, "%s[%zu]", f->cuts[i].value, f->cuts[i].index);
        else
            snprintf(what, sizeof what, "%s", f->cuts[i].value);
        snprintf(mark, sizeof mark, "\n  (%s truncated: %zu bytes, first %zu shown)", what,
                 f->cuts[i].length, f->cuts[i].kept);
        dh_buf_puts(b, mark);
    }
    if (f->commands_dropped || f->evidence_dropped || f->rules_dropped) {
        char mark[200];
        snprintf(mark, sizeof mark,
                 "\n  (over the finding's caps, not listed: %zu commands, %zu evidence records, "
                 "%zu rules)",
                 f->commands_dropped, f->evidence_dropped, f->rules_dropped);
        dh_buf_puts(b, mark);
    }
    for (size_t i = 0; i < f->nreasons; i++) {
        dh_buf_puts(b, i ? "\n           " : "\n  because  ");
        ttys(b, f->reasons[i]);
    }
    if (f->nrules) {
        dh_buf_puts(b, "\n  rules    ");
        for (size_t i = 0; i < f->nrules; i++) {
            if (i)
                dh_buf_puts(b, ", ");
            ttys(b, rule_label(f->rules[i]));
        }
    }
    for (size_t i = 0; i < f->nundecided; i++) {
        dh_buf_puts(b, i ? "\n           " : "\n  undecided ");
        ttys(b, rule_label(f->undecided[i]));
        dh_buf_puts(b, ": a regular expression of the rule hit its match limit on an event of "
                       "this finding (counted as matched)");
    }
    for (size_t i = 0; i < f->nevidence; i++) {
        const dh_event *ev = f->evidence[i].ev;
        dh_buf_puts(b, i ? "\n           " : "\n  evidence ");
        dh_time_put_iso(b, dh_event_time(ev));
        dh_buf_puts(b, " ");
        ttys(b, f->evidence[i].role);
        char tmp[64];
        snprintf(tmp, sizeof tmp, " event %u record %llu ", dh_event_id(ev),
                 (unsigned long long)dh_event_record_id(ev));
        dh_buf_puts(b, tmp);
        dh_str fs = dh_event_file_str(ev);
        tty(b, fs.ptr, fs.len);
    }
    dh_buf_putc(b, '\n');
    if (o->explain && g)
        render_explain(b, g);
}

void findings_out_set_filter(findings_out *o, dh_level min_level, const unsigned char *rule_on,
                             int require_rule)
{
    o->min_level = min_level;
    o->rule_on = rule_on;
    o->require_rule = require_rule;
}

uint64_t findings_out_hidden(const findings_out *o)
{
    return o->hidden;
}

void findings_out_caps(const findings_out *o, uint64_t *cut, uint64_t *commands, uint64_t *evidence,
                       uint64_t *rules)
{
    *cut = o->cut;
    *commands = o->commands_dropped;
    *evidence = o->evidence_dropped;
    *rules = o->rules_dropped;
}

static int shown(const findings_out *o, const dh_finding *f)
{
    if (f->severity < o->min_level)
        return 0;
    if (!o->require_rule)
        return 1;
    for (size_t i = 0; i < f->nrules; i++)
        if (!o->rule_on || o->rule_on[dh_rule_index(f->rules[i])])
            return 1;
    return 0;
}

void findings_out_tee(findings_out *o, findings_out *also)
{
    o->tee = also;
}

/* Adds the finding's id to the set of ids kept; 0 if it was there already (two copies of
 * the same input give the same finding: one is kept). */
static int id_new(findings_out *o, const char *id)
{
    uint64_t k = strtoull(id, NULL, 16) | 1; /* 0 marks a free slot */
    if ((o->nkept + 1) * 2 > o->ids_cap) {
        size_t cap = o->ids_cap ? o->ids_cap * 2 : 1024;
        uint64_t *v = calloc(cap, sizeof *v);
        if (!v)
            return 1; /* keep it: a repeat is better than a loss */
        for (size_t i = 0; i < o->ids_cap; i++)
            if (o->ids[i]) {
                size_t j = (size_t)(o->ids[i] * 0x9E3779B97F4A7C15ULL) & (cap - 1);
                while (v[j])
                    j = (j + 1) & (cap - 1);
                v[j] = o->ids[i];
            }
        free(o->ids);
        o->ids = v;
        o->ids_cap = cap;
    }
    size_t j = (size_t)(k * 0x9E3779B97F4A7C15ULL) & (o->ids_cap - 1);
    for (; o->ids[j]; j = (j + 1) & (o->ids_cap - 1))
        if (o->ids[j] == k)
            return 0;
    o->ids[j] = k;
    return 1;
}

static int grow_edges(findings_out *o)
{
    size_t cap = o->cap ? o->cap * 2 : 64;
    rendered *v = realloc(o->v, cap * sizeof *v);
    if (!v)
        return 0;
    o->v = v;
    o->cap = cap;
    return 1;
}

void findings_out_add(findings_out *o, const dh_finding *f)
{
    if (!shown(o, f)) {
        o->hidden++;
        return;
    }
    if (o->tee)
        findings_out_add(o->tee, f);
    if (!id_new(o, f->id))
        return;
    o->cut += f->ncuts;
    o->commands_dropped += f->commands_dropped;
    o->evidence_dropped += f->evidence_dropped;
    o->rules_dropped += f->rules_dropped;
    const dh_rule *sup = o->tuning ? dh_tuning_check(o->tuning, f) : NULL;
    if (sup) {
        o->suppressed[f->kind & 3]++;
        if (!o->show_suppressed)
            return; /* counted, and shown with --show-suppressed */
    }
    o->b.len = 0;
    dh_guide g;
    int have_guide = (o->format == FOUT_JSONL || o->format == FOUT_OCSF ||
                      (o->format == FOUT_TABLE && o->explain)) &&
                     dh_guide_build(f, o->paths, o->npaths, &g) == DH_OK;
    static const dh_guide none;
    const dh_guide *gp = have_guide ? &g : &none;
    switch (o->format) {
    case FOUT_JSONL:
        render_jsonl(&o->b, f, gp, sup);
        break;
    case FOUT_OCSF:
        dh_ocsf_finding(&o->b, f, gp, sup);
        break;
    case FOUT_CSV:
        render_csv(&o->b, f, sup);
        break;
    default:
        render_table(o, &o->b, f, have_guide ? &g : NULL, sup);
        break;
    }
    if (have_guide)
        dh_guide_free(&g);
    dh_buf key;
    dh_buf_init(&key, 4 * (size_t)DH_VALUE_CAP);
    sort_key(&key, f, sup != NULL);
    if (timeline_add_key(o->tl, key.data, key.len, o->b.data ? o->b.data : "", o->b.len)) {
        dh_buf_free(&key);
        o->lost++;
        return;
    }
    o->nkept++;
    if (sup)
        o->nshown_suppressed++;
    else
        o->per_kind[f->kind & 3]++;
    if (!sup && (f->kind == DH_FINDING_LATERAL_MOVEMENT || f->kind == DH_FINDING_ATTEMPT) &&
        (o->n < o->cap || grow_edges(o))) {
        rendered *r = &o->v[o->n++];
        r->first_seen = f->first_seen;
        r->last_seen = f->last_seen;
        r->key = dup_str((dh_str){key.data, key.len}, 2 * GRAPH_HOST_MAX);
        r->src = dup_str(f->source_host.len ? f->source_host : f->source_ip, GRAPH_HOST_MAX);
        r->dst = dup_str(f->target_host, GRAPH_HOST_MAX);
    }
    dh_buf_free(&key);
}

static int cmp_rendered(const void *pa, const void *pb)
{
    const rendered *a = pa, *b = pb;
    return bstr_cmp(a->key, b->key, 0);
}

/* The host graph: one edge per source and target (in order of first appearance) with its
 * count, then the two-hop paths A -> B -> C where B was reached before it reached C, each
 * once. Sorted lists and binary searches: a million findings cost n log n, not n^2. */
typedef struct edge {
    const rendered *r; /* its first finding */
    size_t first, count;
    int64_t min_first, max_last;
} edge;

static const findings_out *graph_o;

static int cmp_edge_rows(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    const rendered *x = &graph_o->v[a], *y = &graph_o->v[b];
    int r = bstr_cmp(x->src, y->src, 0);
    if (!r)
        r = bstr_cmp(x->dst, y->dst, 0);
    return r ? r : a < b ? -1 : a > b;
}

static int cmp_edge_first(const void *pa, const void *pb)
{
    const edge *a = pa, *b = pb;
    return a->first < b->first ? -1 : a->first > b->first;
}

static int cmp_edge_src_ci(const void *pa, const void *pb)
{
    const edge *a = *(const edge *const *)pa, *b = *(const edge *const *)pb;
    int r = bstr_cmp(a->r->src, b->r->src, 1);
    return r ? r : a->first < b->first ? -1 : a->first > b->first;
}

static void put_hosts(FILE *out, const char *lead, const bstr *h, size_t n, const char *tail)
{
    dh_buf b;
    dh_buf_init(&b, 1u << 20);
    dh_buf_puts(&b, lead);
    for (size_t i = 0; i < n; i++) {
        if (i)
            dh_buf_puts(&b, " -> ");
        tty(&b, h[i].p, h[i].n);
    }
    dh_buf_puts(&b, tail);
    fwrite(b.data, 1, b.len, out);
    dh_buf_free(&b);
}

static void print_graph(findings_out *o, FILE *out)
{
    size_t *rows = malloc((o->n ? o->n : 1) * sizeof *rows), nr = 0;
    edge *e = malloc((o->n ? o->n : 1) * sizeof *e);
    const edge **by_src = malloc((o->n ? o->n : 1) * sizeof *by_src);
    if (!rows || !e || !by_src) {
        free(rows);
        free(e);
        free(by_src);
        return;
    }
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].src.p && o->v[i].src.n)
            rows[nr++] = i;
    graph_o = o;
    if (nr > 1)
        qsort(rows, nr, sizeof *rows, cmp_edge_rows);
    size_t ne = 0;
    for (size_t i = 0; i < nr; i++) {
        const rendered *r = &o->v[rows[i]];
        if (ne && !bstr_cmp(e[ne - 1].r->src, r->src, 0) &&
            !bstr_cmp(e[ne - 1].r->dst, r->dst, 0)) {
            edge *g = &e[ne - 1];
            g->count++;
            g->min_first = r->first_seen < g->min_first ? r->first_seen : g->min_first;
            g->max_last = r->last_seen > g->max_last ? r->last_seen : g->max_last;
            continue;
        }
        e[ne++] = (edge){r, rows[i], 1, r->first_seen, r->last_seen};
    }
    if (ne > 1)
        qsort(e, ne, sizeof *e, cmp_edge_first);
    for (size_t i = 0; i < ne; i++) {
        if (!i)
            fputs("\nhost graph (source -> target, findings)\n", out);
        bstr h[2] = {e[i].r->src, e[i].r->dst};
        char tail[48];
        snprintf(tail, sizeof tail, "  (%zu)\n", e[i].count);
        put_hosts(out, "  ", h, 2, tail);
        by_src[i] = &e[i];
    }
    if (ne > 1)
        qsort(by_src, ne, sizeof *by_src, cmp_edge_src_ci);
    for (size_t i = 0; i < ne; i++) {
        const edge *x = &e[i];
        if (!x->r->dst.n)
            continue;
        size_t lo = 0, hi = ne; /* the first edge whose source is x's target */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (bstr_cmp(by_src[mid]->r->src, x->r->dst, 1) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < ne && !bstr_cmp(by_src[lo]->r->src, x->r->dst, 1); lo++) {
            const edge *y = by_src[lo];
            if (x->min_first > y->max_last || !bstr_cmp(x->r->src, y->r->dst, 1))
                continue;
            bstr h[3] = {x->r->src, x->r->dst, y->r->dst};
            put_hosts(out, "  path ", h, 3, "\n");
        }
    }
    free(rows);
    free(e);
    free(by_src);
}

static dh_status write_finding(void *ctx, const char *text, size_t len)
{
    return fwrite(text, 1, len, ctx) == len ? DH_OK : DH_ERR_IO;
}

uint64_t findings_out_lost(const findings_out *o)
{
    return o->lost;
}

size_t findings_out_print(findings_out *o, FILE *out)
{
    if (o->n > 1) /* qsort must not be given a null array */
        qsort(o->v, o->n, sizeof *o->v, cmp_rendered);
    if (o->format == FOUT_CSV)
        fputs("id,kind,severity,confidence,first_seen,last_seen,source_host,source_ip,"
              "target_host,target_ip,com_object,clsid,user,logon_id,commands,rules\n",
              out);
    if (timeline_finish(o->tl, write_finding, out) != DH_OK)
        o->lost++;
    if (o->format == FOUT_TABLE) {
        if (o->nkept == o->nshown_suppressed)
            fputs("no findings\n", out);
        print_graph(o, out);
    }
    return o->nkept - o->nshown_suppressed;
}

void findings_out_counts(const findings_out *o, uint64_t per_kind[4])
{
    memcpy(per_kind, o->per_kind, sizeof o->per_kind);
}

void findings_out_suppressed(const findings_out *o, uint64_t per_kind[4])
{
    memcpy(per_kind, o->suppressed, sizeof o->suppressed);
}

void findings_out_free(findings_out *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++) {
        free(o->v[i].key.p);
        free(o->v[i].src.p);
        free(o->v[i].dst.p);
    }
    timeline_free(o->tl);
    free(o->v);
    free(o->ids);
    dh_buf_free(&o->b);
    free(o);
}
