/* Rendering findings: table (by chain), JSON lines, OCSF Detection Finding (class 2004,
 * written by src/output/ocsf.c) and CSV. Every string from the logs is escaped for its sink.
 * Findings are collected, then printed in a fixed order (first seen, target host, id), so the
 * output does not depend on the thread count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/findings_out.h"
#include "core/timefmt.h"
#include "findings/tune.h"
#include "output/guide.h"
#include "output/json.h"
#include "output/ocsf.h"
#include "output/text.h"

typedef struct rendered {
    int64_t first_seen;
    char *target;
    char id[17];
    int kind;
    char *text;
    size_t len;
    char *src, *dst; /* for the host graph */
    int64_t last_seen;
    int suppressed;
} rendered;

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
    rendered *v;
    size_t n, cap;
    uint64_t per_kind[4];
    dh_buf b;
};

static const char *conf_name(int c)
{
    return c >= 3 ? "high" : c == 2 ? "medium" : "low";
}

static char *dupz(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

findings_out *findings_out_new(int format, int color)
{
    findings_out *o = calloc(1, sizeof *o);
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
    js(b, f->com_object);
    dh_buf_puts(b, ",\"clsid\":");
    js(b, f->clsid);
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
    js(b, f->target_host);
    dh_buf_puts(b, ",\"ip\":");
    js(b, f->target_ip);
    dh_buf_puts(b, "},\"source\":{\"host\":");
    js(b, f->source_host);
    dh_buf_puts(b, ",\"ip\":");
    js(b, f->source_ip);
    dh_buf_puts(b, "},\"user\":");
    js(b, f->user);
    dh_buf_puts(b, ",\"logon_id\":");
    js(b, f->logon_id);
    dh_buf_puts(b, ",\"commands\":");
    jstrs(b, f->commands, f->ncommands);
    if (f->commands_dropped) {
        dh_buf_puts(b, ",\"commands_dropped\":");
        dh_buf_put_u64(b, f->commands_dropped);
    }
    dh_buf_puts(b, ",\"servers\":");
    jstrs(b, f->servers, f->nservers);
    dh_buf_puts(b, ",\"session_commands\":");
    jstrs(b, f->session_commands, f->nsession_commands);
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
    dh_buf_puts(b, "],\"evidence\":[");
    for (size_t i = 0; i < f->nevidence; i++) {
        if (i)
            dh_buf_putc(b, ',');
        evidence_json(b, &f->evidence[i]);
    }
    dh_buf_puts(b, "],");
    if (f->evidence_dropped) {
        dh_buf_puts(b, "\"evidence_dropped\":");
        dh_buf_put_u64(b, f->evidence_dropped);
        dh_buf_putc(b, ',');
    }
    guide_json(b, g);
    dh_buf_puts(b, "}\n");
}

static void csv_cell(dh_buf *b, const char *s)
{
    dh_buf_putc(b, '"');
    if (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r')
        dh_buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '"')
            dh_buf_append(b, "\"\"", 2);
        else if ((unsigned char)*s < 0x20)
            dh_buf_putc(b, ' ');
        else
            dh_buf_putc(b, *s);
    }
    dh_buf_putc(b, '"');
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
    const char *cells[] = {f->id,
                           kind,
                           dh_level_name(f->severity),
                           conf_name(f->confidence),
                           t1,
                           t2,
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
    dh_buf cb;
    dh_buf_init(&cb, 1 << 20);
    for (size_t i = 0; i < f->ncommands; i++) {
        if (i)
            dh_buf_append(&cb, " | ", 3);
        /* a NUL inside a command is shown, not a cut */
        for (size_t k = 0; k < f->commands[i].len; k++)
            if (f->commands[i].ptr[k])
                dh_buf_putc(&cb, f->commands[i].ptr[k]);
            else
                dh_buf_puts(&cb, "\\x00");
    }
    dh_buf_putc(&cb, 0);
    csv_cell(b, cb.data ? cb.data : "");
    dh_buf_putc(b, ',');
    cb.len = 0;
    for (size_t i = 0; i < f->nrules; i++) {
        if (i)
            dh_buf_putc(&cb, ' ');
        dh_buf_puts(&cb, *dh_rule_name(f->rules[i]) ? dh_rule_name(f->rules[i])
                                                    : dh_rule_ref(f->rules[i]));
    }
    dh_buf_putc(&cb, 0);
    csv_cell(b, cb.data ? cb.data : "");
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
    ttys(b, *f->source_host ? f->source_host : *f->source_ip ? f->source_ip : "?");
    if (*f->source_host && *f->source_ip) {
        dh_buf_puts(b, " (");
        ttys(b, f->source_ip);
        dh_buf_puts(b, ")");
    }
    dh_buf_puts(b, " -> ");
    ttys(b, *f->target_host ? f->target_host : "?");
    if (*f->com_object) {
        dh_buf_puts(b, "  via ");
        ttys(b, f->com_object);
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
    if (*f->user) {
        dh_buf_puts(b, "\n  account ");
        ttys(b, f->user);
        if (*f->logon_id) {
            dh_buf_puts(b, "  logon id ");
            ttys(b, f->logon_id);
        }
    }
    if (*f->clsid) {
        dh_buf_puts(b, "\n  clsid ");
        ttys(b, f->clsid);
    }
    for (size_t i = 0; i < f->nservers; i++) {
        dh_buf_puts(b, i ? "\n           " : "\n  servers  ");
        tty(b, f->servers[i].ptr, f->servers[i].len);
    }
    for (size_t i = 0; i < f->ncommands; i++) {
        dh_buf_puts(b, i ? "\n           " : "\n  commands ");
        tty(b, f->commands[i].ptr, f->commands[i].len);
    }
    if (f->commands_dropped) {
        char num[80];
        snprintf(num, sizeof num, "\n           (and %zu more)", f->commands_dropped);
        dh_buf_puts(b, num);
    }
    for (size_t i = 0; i < f->nsession_commands; i++) {
        dh_buf_puts(b, i ? "\n           " : "\n  session  ");
        tty(b, f->session_commands[i].ptr, f->session_commands[i].len);
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
            ttys(b,
                 *dh_rule_name(f->rules[i]) ? dh_rule_name(f->rules[i]) : dh_rule_ref(f->rules[i]));
        }
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

void findings_out_tee(findings_out *o, findings_out *also)
{
    o->tee = also;
}

void findings_out_add(findings_out *o, const dh_finding *f)
{
    if (o->tee)
        findings_out_add(o->tee, f);
    /* Two copies of the same input give the same finding: keep one. */
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->v[i].id, f->id))
            return;
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
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        rendered *v = realloc(o->v, cap * sizeof *v);
        if (!v)
            return;
        o->v = v;
        o->cap = cap;
    }
    rendered *r = &o->v[o->n];
    memset(r, 0, sizeof *r);
    r->first_seen = f->first_seen;
    r->last_seen = f->last_seen;
    r->target = dupz(f->target_host);
    memcpy(r->id, f->id, sizeof r->id);
    r->kind = (int)f->kind;
    r->text = malloc(o->b.len + 1);
    if (r->text) {
        memcpy(r->text, o->b.data, o->b.len);
        r->len = o->b.len;
    }
    r->suppressed = sup != NULL;
    if (!sup && (f->kind == DH_FINDING_LATERAL_MOVEMENT || f->kind == DH_FINDING_ATTEMPT)) {
        r->src = dupz(*f->source_host ? f->source_host : f->source_ip);
        r->dst = dupz(f->target_host);
    }
    if (sup)
        o->nshown_suppressed++;
    else
        o->per_kind[f->kind & 3]++;
    o->n++;
}

static int cmp_rendered(const void *pa, const void *pb)
{
    const rendered *a = pa, *b = pb;
    if (a->suppressed != b->suppressed)
        return a->suppressed ? 1 : -1; /* suppressed findings last */
    if (a->kind != b->kind && (a->kind == DH_FINDING_SIGNAL || b->kind == DH_FINDING_SIGNAL))
        return a->kind == DH_FINDING_SIGNAL ? 1 : -1; /* chains first, lone signals last */
    if (a->first_seen != b->first_seen)
        return a->first_seen < b->first_seen ? -1 : 1;
    int r = strcmp(a->target ? a->target : "", b->target ? b->target : "");
    return r ? r : strcmp(a->id, b->id);
}

static void print_graph(findings_out *o, FILE *out)
{
    /* Edges source -> target with counts, then two-hop paths A -> B -> C where B was
     * reached before it reached C. */
    size_t printed = 0;
    for (size_t i = 0; i < o->n; i++) {
        rendered *r = &o->v[i];
        if (!r->src || !*r->src)
            continue;
        size_t k;
        for (k = 0; k < i; k++)
            if (o->v[k].src && !strcmp(o->v[k].src, r->src) && !strcmp(o->v[k].dst, r->dst))
                break;
        if (k < i)
            continue;
        size_t count = 0;
        for (k = i; k < o->n; k++)
            if (o->v[k].src && !strcmp(o->v[k].src, r->src) && !strcmp(o->v[k].dst, r->dst))
                count++;
        if (!printed++)
            fputs("\nhost graph (source -> target, findings)\n", out);
        dh_buf b;
        dh_buf_init(&b, 1 << 16);
        dh_buf_puts(&b, "  ");
        ttys(&b, r->src);
        dh_buf_puts(&b, " -> ");
        ttys(&b, r->dst);
        fwrite(b.data, 1, b.len, out);
        fprintf(out, "  (%zu)\n", count);
        dh_buf_free(&b);
    }
    for (size_t i = 0; i < o->n; i++)
        for (size_t j = 0; j < o->n; j++) {
            rendered *x = &o->v[i], *y = &o->v[j];
            if (!x->src || !y->src || !*x->dst || strcasecmp(x->dst, y->src) ||
                x->first_seen > y->last_seen || !strcasecmp(x->src, y->dst))
                continue;
            dh_buf b;
            dh_buf_init(&b, 1 << 16);
            dh_buf_puts(&b, "  path ");
            ttys(&b, x->src);
            dh_buf_puts(&b, " -> ");
            ttys(&b, x->dst);
            dh_buf_puts(&b, " -> ");
            ttys(&b, y->dst);
            dh_buf_putc(&b, '\n');
            fwrite(b.data, 1, b.len, out);
            dh_buf_free(&b);
        }
}

size_t findings_out_print(findings_out *o, FILE *out)
{
    if (o->n > 1) /* qsort must not be given a null array */
        qsort(o->v, o->n, sizeof *o->v, cmp_rendered);
    if (o->format == FOUT_CSV)
        fputs("id,kind,severity,confidence,first_seen,last_seen,source_host,source_ip,"
              "target_host,target_ip,com_object,clsid,user,logon_id,commands,rules\n",
              out);
    for (size_t i = 0; i < o->n; i++)
        fwrite(o->v[i].text, 1, o->v[i].len, out);
    if (o->format == FOUT_TABLE) {
        if (o->n == o->nshown_suppressed)
            fputs("no findings\n", out);
        print_graph(o, out);
    }
    return o->n - o->nshown_suppressed;
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
        free(o->v[i].text);
        free(o->v[i].target);
        free(o->v[i].src);
        free(o->v[i].dst);
    }
    free(o->v);
    dh_buf_free(&o->b);
    free(o);
}
