/* The public findings writer (dcomhunt/finding.h): a format's row from the table below
 * (findings_format.h) joined to the keeping and ordering every format shares
 * (src/findings/keep.c). Each finding kept is rendered at once (it is borrowed) and its
 * text stored; print writes the texts in their fixed order between the format's begin and
 * end, so the output does not depend on the thread count or the order of the inputs. */
#include <stdlib.h>

#include "core/buf.h"
#include "findings/keep.h"
#include "output/findings_format.h"

/* Adding a format is adding its file and its row here (and its name to the enum). */
static const dh_findings_format_ops *const formats[] = {
    [DH_FINDINGS_TABLE] = &dh_findings_table_ops, [DH_FINDINGS_JSONL] = &dh_findings_jsonl_ops,
    [DH_FINDINGS_OCSF] = &dh_findings_ocsf_ops,   [DH_FINDINGS_CSV] = &dh_findings_csv_ops,
    [DH_FINDINGS_HTML] = &dh_findings_html_ops,
};

struct dh_findings_writer {
    const dh_findings_format_ops *ops;
    dh_findings_style style;
    const char *const *paths; /* the hunt's inputs, for the guide's pivots (borrowed) */
    size_t npaths;
    dh_keep *keep;
    dh_findings_graph *graph; /* when the format draws the host graph */
    dh_findings_writer *tee;  /* another writer given every finding shown (borrowed) */
    dh_buf b;                 /* the finding being rendered */
};

dh_status dh_findings_writer_new(dh_findings_format format, int color, dh_findings_writer **out)
{
    if (!out)
        return DH_ERR_ARG;
    *out = NULL;
    if ((unsigned)format >= sizeof formats / sizeof formats[0] || !formats[format])
        return DH_ERR_ARG;
    dh_findings_writer *w = calloc(1, sizeof *w);
    if (!w)
        return DH_ERR_NOMEM;
    w->ops = formats[format];
    w->style.color = color;
    w->keep = dh_keep_new();
    if (w->ops->graph)
        w->graph = dh_findings_graph_new();
    dh_buf_init(&w->b, 64u << 20);
    if (!w->keep || (w->ops->graph && !w->graph)) {
        dh_findings_writer_free(w);
        return DH_ERR_NOMEM;
    }
    *out = w;
    return DH_OK;
}

void dh_findings_writer_set_guide(dh_findings_writer *w, int explain, const char *const *paths,
                                  size_t npaths)
{
    w->style.explain = explain;
    w->paths = paths;
    w->npaths = npaths;
}

void dh_findings_writer_set_tuning(dh_findings_writer *w, dh_tuning *t, int show_suppressed)
{
    dh_keep_set_tuning(w->keep, t, show_suppressed);
}

void dh_findings_writer_set_filter(dh_findings_writer *w, dh_level min_level,
                                   const unsigned char *rule_on, int require_rule)
{
    dh_keep_set_filter(w->keep, min_level, rule_on, require_rule);
}

void dh_findings_writer_tee(dh_findings_writer *w, dh_findings_writer *also)
{
    w->tee = also;
}

/* A finding built by hand (an embedding program, a test) may leave a value as {NULL, 0}:
 * every writer and the guide read "" there, never a null pointer. */
static dh_finding values_not_null(const dh_finding *f)
{
    dh_finding g = *f;
    dh_str *v[] = {&g.com_object,  &g.clsid,     &g.target_host, &g.target_ip,
                   &g.source_host, &g.source_ip, &g.user,        &g.logon_id};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        if (!v[i]->ptr)
            *v[i] = (dh_str){"", 0};
    return g;
}

void dh_findings_writer_add(dh_findings_writer *w, const dh_finding *given)
{
    dh_finding copy = values_not_null(given);
    const dh_finding *f = &copy;
    if (!dh_keep_selects(w->keep, f))
        return;
    if (w->tee)
        dh_findings_writer_add(w->tee, f);
    const dh_rule *sup;
    if (!dh_keep_admits(w->keep, f, &sup))
        return;
    dh_guide g;
    dh_guide_use use = w->ops->guide;
    int have_guide = (use == DH_GUIDE_ALWAYS || (use == DH_GUIDE_EXPLAIN && w->style.explain)) &&
                     dh_guide_build(f, w->paths, w->npaths, &g) == DH_OK;
    dh_buf_reset(&w->b);
    w->ops->render(&w->b, f, have_guide ? &g : NULL, sup, &w->style);
    if (have_guide)
        dh_guide_free(&g);
    dh_str key;
    if (dh_keep_store(w->keep, f, sup, w->b.data ? w->b.data : "", w->b.len, &key) == DH_OK &&
        w->graph && !sup)
        dh_findings_graph_add(w->graph, f, key);
}

void dh_findings_writer_sink(void *writer, const dh_finding *f)
{
    dh_findings_writer_add(writer, f);
}

static dh_status write_text(void *ctx, const char *text, size_t len)
{
    return fwrite(text, 1, len, ctx) == len ? DH_OK : DH_ERR_IO;
}

static dh_status page_add(void *page, const char *rec, size_t len)
{
    return dh_html_page_add(page, rec, len);
}

dh_status dh_findings_writer_html(dh_findings_writer *w, const char *source_name, FILE *out,
                                  dh_html_error_fn on_error, void *ctx)
{
    if (!w || !out || !w->ops->page)
        return DH_ERR_ARG;
    dh_html_page *p = dh_html_page_new(source_name, out, on_error, ctx);
    if (!p)
        return DH_ERR_NOMEM;
    dh_keep_replay(w->keep, page_add, p); /* a failure sticks in the page */
    return dh_html_page_finish(p);
}

size_t dh_findings_writer_print(dh_findings_writer *w, FILE *out)
{
    const dh_keep_counts *n = dh_keep_counts_of(w->keep);
    size_t nshown = n->nkept - n->nkept_suppressed;
    if (w->ops->page) { /* the whole page (dh_findings_writer_html says what went wrong) */
        (void)dh_findings_writer_html(w, NULL, out, NULL, NULL);
        return nshown;
    }
    if (w->ops->begin)
        w->ops->begin(out);
    dh_keep_replay(w->keep, write_text, out);
    if (w->ops->end)
        w->ops->end(out, nshown, w->graph);
    return nshown;
}

uint64_t dh_findings_writer_hidden(const dh_findings_writer *w)
{
    return dh_keep_counts_of(w->keep)->hidden;
}

uint64_t dh_findings_writer_lost(const dh_findings_writer *w)
{
    return dh_keep_counts_of(w->keep)->lost;
}

void dh_findings_writer_caps(const dh_findings_writer *w, uint64_t *cut, uint64_t *commands,
                             uint64_t *evidence, uint64_t *rules)
{
    const dh_keep_counts *n = dh_keep_counts_of(w->keep);
    *cut = n->cut;
    *commands = n->commands_dropped;
    *evidence = n->evidence_dropped;
    *rules = n->rules_dropped;
}

void dh_findings_writer_counts(const dh_findings_writer *w, uint64_t per_kind[4])
{
    for (int i = 0; i < 4; i++)
        per_kind[i] = dh_keep_counts_of(w->keep)->per_kind[i];
}

void dh_findings_writer_suppressed(const dh_findings_writer *w, uint64_t per_kind[4])
{
    for (int i = 0; i < 4; i++)
        per_kind[i] = dh_keep_counts_of(w->keep)->suppressed[i];
}

void dh_findings_writer_free(dh_findings_writer *w)
{
    if (!w)
        return;
    dh_keep_free(w->keep);
    dh_findings_graph_free(w->graph);
    dh_buf_free(&w->b);
    free(w);
}
