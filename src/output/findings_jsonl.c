/* Findings as JSON lines: one object per finding, the layout docs/findings.md describes
 * and `report` and `tune` read back (findings_jsonl_read.c). Every string goes through
 * dh_json_string, so whatever the logs hold stays valid, inert JSON. */
#include <string.h>

#include "core/timefmt.h"
#include "findings/model.h"
#include "output/findings_format.h"
#include "output/json.h"

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

/* "truncated" (values cut at their cap, with their length in the log) and "dropped"
 * (what the finding's caps left out), when there is any. */
static void limits_json(dh_buf *b, const dh_finding *f)
{
    if (f->ncuts) {
        dh_buf_puts(b, ",\"truncated\":[");
        for (size_t i = 0; i < f->ncuts; i++) {
            const dh_cut *c = &f->cuts[i];
            char what[64];
            dh_cut_name(c, what, sizeof what);
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

static void jtime(dh_buf *b, int64_t t)
{
    dh_buf_putc(b, '"');
    dh_time_put_iso(b, t);
    dh_buf_putc(b, '"');
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
    dh_buf_puts(b, dh_confidence_name(f->confidence));
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

static void jsonl_render(dh_buf *b, const dh_finding *f, const dh_guide *g, const dh_rule *sup,
                         const dh_findings_style *st)
{
    static const dh_guide none; /* a guide that could not be built: empty lists */
    (void)st;
    render_jsonl(b, f, g ? g : &none, sup);
}

const dh_findings_format_ops dh_findings_jsonl_ops = {
    .format = DH_FINDINGS_JSONL,
    .name = "jsonl",
    .guide = DH_GUIDE_ALWAYS,
    .render = jsonl_render,
};
