/* The HTML report's findings writer row (DH_FINDINGS_HTML): each finding, with its guide and
 * the filter that suppressed it, made into its page record (html_model.h) as it is added, so
 * `hunt --html` renders the page from the findings themselves (dh_findings_writer_html),
 * not from JSON lines written and parsed back.
 *
 * The record must be the one html_rec_from_jdoc() makes from the finding's JSON line
 * (findings_jsonl.c): the same values in the same text. Strings from the logs go through
 * html_rec_norm(), the JSON lines writer's own escaping and the reader's unescaping, so
 * invalid UTF-8 becomes U+FFFD exactly as there; numbers and times use the same
 * formatting functions. */
#include <string.h>

#include "core/timefmt.h"
#include "findings/model.h"
#include "output/findings_format.h"
#include "output/html_model.h"

typedef struct rec {
    dh_buf *b;
    dh_buf sc; /* scratch for html_rec_norm */
} rec;

static void str(rec *r, dh_str s)
{
    html_rec_norm(r->b, &r->sc, s.ptr, s.len);
}

static void cstr(rec *r, const char *s)
{
    html_rec_norm(r->b, &r->sc, s ? s : "", s ? strlen(s) : 0);
}

/* Text the JSON lines writer writes between quotes as it is (our own names, hex ids). */
static void raw(rec *r, const char *s)
{
    html_rec_str(r->b, s, strlen(s));
}

static void num(rec *r, unsigned long long v)
{
    dh_buf_reset(&r->sc);
    dh_buf_put_u64(&r->sc, v);
    html_rec_str(r->b, r->sc.data ? r->sc.data : "", r->sc.len);
}

static void time_str(rec *r, int64_t t)
{
    dh_buf_reset(&r->sc);
    dh_time_put_iso(&r->sc, t);
    html_rec_str(r->b, r->sc.data ? r->sc.data : "", r->sc.len);
}

static void counts(rec *r, size_t total)
{
    html_rec_u32(r->b, (uint32_t)total);
    html_rec_u32(r->b, (uint32_t)(total < MAX_LIST ? total : MAX_LIST));
}

static size_t kept(size_t total)
{
    return total < MAX_LIST ? total : MAX_LIST;
}

static void dstr_list(rec *r, const dh_str *v, size_t n)
{
    counts(r, n);
    for (size_t i = 0; i < kept(n); i++)
        str(r, v[i]);
}

static void cstr_list(rec *r, const char *const *v, size_t n)
{
    counts(r, n);
    for (size_t i = 0; i < kept(n); i++)
        cstr(r, v[i]);
}

/* The single values, in html_model.h's order. */
static void values(rec *r, const dh_finding *f, const dh_rule *sup)
{
    static const dh_str none = {"", 0};
    raw(r, f->id);
    raw(r, dh_finding_kind_name(f->kind));
    raw(r, dh_level_name(f->severity));
    raw(r, dh_confidence_name(f->confidence));
    raw(r, "T1021.003");
    str(r, f->com_object);
    str(r, f->clsid);
    str(r, f->target_host);
    str(r, f->target_ip);
    str(r, f->source_host);
    str(r, f->source_ip);
    str(r, f->user);
    str(r, f->logon_id);
    time_str(r, f->first_seen);
    time_str(r, f->last_seen);
    if (sup) {
        cstr(r, dh_rule_filter_reason(sup));
        cstr(r, dh_rule_title(sup));
        cstr(r, dh_rule_id(sup));
        cstr(r, dh_rule_filter_expires(sup));
        cstr(r, dh_rule_origin(sup));
    } else {
        for (int i = 0; i < 5; i++)
            str(r, none);
    }
    if (f->commands_dropped || f->evidence_dropped || f->rules_dropped) {
        num(r, f->commands_dropped);
        num(r, f->evidence_dropped);
        num(r, f->rules_dropped);
    } else {
        for (int i = 0; i < 3; i++)
            str(r, none);
    }
}

/* The lists, in html_model.h's order. */
static void lists(rec *r, const dh_finding *f, const dh_guide *g)
{
    cstr_list(r, f->reasons, f->nreasons);
    dstr_list(r, f->commands, f->ncommands);
    counts(r, f->ncuts);
    for (size_t i = 0; i < kept(f->ncuts); i++) {
        char what[64];
        dh_cut_name(&f->cuts[i], what, sizeof what);
        cstr(r, what);
        num(r, f->cuts[i].length);
        num(r, f->cuts[i].kept);
    }
    counts(r, f->nundecided);
    for (size_t i = 0; i < kept(f->nundecided); i++)
        cstr(r, dh_rule_id(f->undecided[i]));
    counts(r, f->nrules);
    for (size_t i = 0; i < kept(f->nrules); i++)
        cstr(r,
             *dh_rule_name(f->rules[i]) ? dh_rule_name(f->rules[i]) : dh_rule_title(f->rules[i]));
    counts(r, f->nrules);
    for (size_t i = 0; i < kept(f->nrules); i++)
        cstr(r, dh_rule_ref(f->rules[i]));
    counts(r, f->nevidence);
    for (size_t i = 0; i < kept(f->nevidence); i++) {
        const dh_event *ev = f->evidence[i].ev;
        cstr(r, f->evidence[i].role);
        time_str(r, dh_event_time(ev));
        str(r, dh_event_host(ev));
        str(r, dh_event_channel(ev));
        num(r, dh_event_id(ev));
        raw(r, dh_kind_name(dh_event_kind(ev)));
        num(r, dh_event_record_id(ev));
        str(r, dh_event_file_str(ev));
    }
    cstr_list(r, (const char *const *)g->investigate, g->ninvestigate);
    cstr_list(r, (const char *const *)g->respond, g->nrespond);
    counts(r, g->npivots);
    for (size_t i = 0; i < kept(g->npivots); i++) {
        cstr(r, g->pivots[i].language);
        cstr(r, g->pivots[i].title);
        cstr(r, g->pivots[i].query);
    }
}

static void html_render(dh_buf *b, const dh_finding *f, const dh_guide *g, const dh_rule *sup,
                        const dh_findings_style *st)
{
    static const dh_guide none; /* a guide that could not be built: empty lists */
    (void)st;
    rec r = {b, {0}};
    dh_buf_init(&r.sc, 64u << 20); /* the page's scratch cap (html.c) */
    unsigned flags =
        (sup ? HF_SUPPRESSED | HF_HAS_SB : 0u) |
        (f->commands_dropped || f->evidence_dropped || f->rules_dropped ? HF_HAS_DROP : 0u);
    html_rec_u32(b, flags);
    values(&r, f, sup);
    lists(&r, f, g ? g : &none);
    dh_buf_free(&r.sc);
}

const dh_findings_format_ops dh_findings_html_ops = {
    .format = DH_FINDINGS_HTML,
    .name = "html",
    .guide = DH_GUIDE_ALWAYS,
    .page = 1,
    .render = html_render,
};
