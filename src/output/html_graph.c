/* The HTML report's host graph (html_graph.h): the edges tallied in the first pass laid out
 * by graphviz (dot) and inlined as SVG, whose tags are checked against a whitelist. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/gv_lazy.h"
#include "output/html_graph.h"
#include "output/html_page.h"

#define MAX_EDGES 300 /* graph edges: dot's layout time grows fast past this */
#define MAX_NODES 400

/* The two graphviz plugins the graph needs are handed to gvContextPlugins() (graphviz's
 * "builtins" way, as in its library guide) instead of gvContext() loading every installed
 * plugin from its config file: without the pango plugin, text is measured with graphviz's
 * built-in font metrics, so the SVG is the same on every machine, fontconfig never runs (no
 * cache writes, nothing printed on stderr, none of its allocations left at exit for
 * LeakSanitizer), and no configuration is read. Graphviz itself is opened on the first
 * graph (gv_lazy.h), not at start-up. */

/* Graphviz reports problems through a process-wide hook; during our call it points here,
 * so nothing is printed (the library never prints), and is put back afterwards. */
static int gv_quiet(char *msg)
{
    (void)msg;
    return 0;
}

static int lower_eq(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != w[i])
            return 0;
    }
    return 1;
}

/* Every tag in the SVG must be one graphviz writes for our graph: the escaping above and
 * graphviz's own leave no '<' of input text, so anything else means a bug, and the graph
 * is withheld rather than inlined. */
static int svg_tags_ok(const char *s, size_t n)
{
    static const char *const ok[] = {"svg", "g", "text", "path", "polygon", "polyline", "ellipse"};
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '<')
            continue;
        size_t j = i + 1;
        if (j < n && s[j] == '/')
            j++;
        size_t k = j;
        while (k < n && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z')))
            k++;
        if (k >= n || !(s[k] == ' ' || s[k] == '>' || s[k] == '\n' || s[k] == '/'))
            return 0;
        int found = 0;
        for (size_t w = 0; w < sizeof ok / sizeof ok[0]; w++)
            if (strlen(ok[w]) == k - j && lower_eq(s + j, k - j, ok[w]))
                found = 1;
        if (!found)
            return 0;
    }
    return 1;
}

static size_t find(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(s + i, w, k) == 0)
            return i;
    return n;
}

/* Inlines graphviz's SVG: from "<svg" on (the XML prolog, DOCTYPE and comments before it
 * dropped), without the namespace attributes (HTML puts <svg> in its namespace itself),
 * without <title> lines (our node names n0, n1...) and comment lines; what is left must
 * pass svg_tags_ok() or nothing is written. */
static int emit_svg(hout *o, const char *s, size_t n)
{
    size_t at = find(s, n, "<svg");
    if (at == n)
        return -1;
    s += at, n -= at;
    size_t gt = find(s, n, ">");
    if (gt == n)
        return -1;
    dh_buf b;
    dh_buf_init(&b, (size_t)n + 256);
    /* the root tag, attributes copied except xmlns and xmlns:xlink */
    int bad = dh_buf_puts(&b, "<svg role=\"img\" aria-label=\"host graph\"");
    size_t i = 4;
    while (i < gt) {
        while (i < gt && (s[i] == ' ' || s[i] == '\n'))
            i++;
        size_t a = i;
        while (i < gt && s[i] != '"')
            i++;
        if (i >= gt)
            break;
        i++;
        while (i < gt && s[i] != '"')
            i++;
        if (i >= gt)
            break;
        i++;
        if (!(i - a >= 5 && memcmp(s + a, "xmlns", 5) == 0)) {
            bad |= dh_buf_putc(&b, ' ') | dh_buf_append(&b, s + a, i - a);
        }
    }
    bad |= dh_buf_puts(&b, ">\n");
    size_t p = gt + 1;
    while (p < n) {
        const char *nl = memchr(s + p, '\n', n - p);
        size_t e = nl ? (size_t)(nl - s) : n;
        if (e > p && !(e - p >= 7 && memcmp(s + p, "<title>", 7) == 0) &&
            !(e - p >= 4 && memcmp(s + p, "<!--", 4) == 0)) {
            bad |= dh_buf_append(&b, s + p, e - p) | dh_buf_putc(&b, '\n');
        }
        p = e + 1;
    }
    int ok = !bad && b.data && svg_tags_ok(b.data, b.len);
    if (ok)
        html_put(o, b.data, b.len);
    dh_buf_free(&b);
    return ok ? 0 : -1;
}

typedef struct gv {
    report *r;
    const dh_gv_api *api; /* graphviz's calls */
    Agraph_t *g;
    tally nodes; /* host key -> node */
    Agnode_t **node;
    size_t nnode;
} gv;

static Agnode_t *gv_node(gv *x, dh_jstr key, int target)
{
    titem *it = html_tally_get(&x->nodes, key.p, key.n);
    if (!it)
        return NULL;
    if (it->node)
        return x->node[it->node - 1];
    if (x->nnode >= MAX_NODES)
        return NULL;
    char name[24];
    snprintf(name, sizeof name, "n%zu", x->nnode);
    Agnode_t *nd = x->api->agnode(x->g, name, 1);
    if (!nd)
        return NULL;
    dh_buf *lb = &x->r->lb;
    dh_buf_reset(lb);
    html_gv_label(lb, key.p, key.n);
    const titem *h = html_tally_find(&x->r->hosts, key.p, key.n);
    if (h && h->nlen && lb->len) {
        lb->len--; /* the NUL */
        dh_buf_puts(lb, "\\n");
        html_gv_label(lb, x->r->hosts.keys.data + h->note, h->nlen);
    }
    if (lb->len && lb->data[lb->len - 1] == '\0')
        x->api->agsafeset(nd, "label", lb->data, "");
    int is_target = h && h->c[0] > 0;
    x->api->agsafeset(nd, "fillcolor", is_target || target ? "#fde0dc" : "#dce8fa", "");
    x->api->agsafeset(nd, "color", is_target || target ? "#c62828" : "#1565c0", "");
    x->node[x->nnode++] = nd;
    it->node = (uint32_t)x->nnode;
    return nd;
}

static void build_graph(gv *x, item_ref *ev, size_t nedges)
{
    report *r = x->r;
    x->api->agsafeset(x->g, "rankdir", "LR", "");
    x->api->agsafeset(x->g, "bgcolor", "white", "");
    x->api->agsafeset(x->g, "pad", "0.2", "");
    x->api->agattr(x->g, AGNODE, "shape", "box");
    x->api->agattr(x->g, AGNODE, "style", "rounded,filled");
    x->api->agattr(x->g, AGNODE, "fontname", "Helvetica");
    x->api->agattr(x->g, AGNODE, "fontsize", "11");
    x->api->agattr(x->g, AGNODE, "margin",
                   "0.2,0.06"); /* room for a browser font wider than Arial */
    x->api->agattr(x->g, AGNODE, "label", "");
    x->api->agattr(x->g, AGEDGE, "fontname", "Helvetica");
    x->api->agattr(x->g, AGEDGE, "fontsize", "10");
    x->api->agattr(x->g, AGEDGE, "label", "");
    for (size_t i = 0; i < nedges; i++) {
        const titem *it = ev[i].it;
        const char *k = html_tkey(&r->edges, it);
        dh_jstr src = html_key_at(k, it->klen, 0), dst = html_key_at(k, it->klen, 1);
        dh_jstr com = html_key_at(k, it->klen, 2);
        Agnode_t *a = gv_node(x, src, 0), *b = gv_node(x, dst, 1);
        if (!a || !b)
            continue;
        Agedge_t *e = x->api->agedge(x->g, a, b, NULL, 1);
        if (!e)
            continue;
        dh_buf *lb = &r->lb;
        dh_buf_reset(lb);
        if (com.n)
            html_gv_label(lb, com.p, com.n);
        else
            dh_buf_puts(lb, "(no COM object)"), dh_buf_putc(lb, '\0');
        if (lb->len)
            lb->len--; /* the NUL */
        char cnt[64];
        if (it->c[1])
            snprintf(cnt, sizeof cnt, " \xC3\x97%llu (%llu suppressed)",
                     (unsigned long long)(it->c[0] + it->c[1]), (unsigned long long)it->c[1]);
        else
            snprintf(cnt, sizeof cnt, " \xC3\x97%llu", (unsigned long long)it->c[0]);
        dh_buf_puts(lb, cnt);
        dh_buf_putc(lb, '\0');
        if (lb->len && lb->data[lb->len - 1] == '\0')
            x->api->agsafeset(e, "label", lb->data, "");
        if (!it->c[0]) {
            x->api->agsafeset(e, "style", "dashed", "");
            x->api->agsafeset(e, "color", "#8a8a8a", "");
        } else {
            x->api->agsafeset(e, "color", "#c62828", "");
            x->api->agsafeset(e, "penwidth", it->c[0] > 1 ? "2" : "1.2", "");
        }
    }
    /* targets named by findings without a known source, as lone nodes */
    for (size_t i = 0; i < r->hosts.n && x->nnode < MAX_NODES; i++)
        if (r->hosts.v[i].c[0]) {
            dh_jstr k = {html_tkey(&r->hosts, &r->hosts.v[i]), r->hosts.v[i].klen};
            gv_node(x, k, 1);
        }
}

void html_graph(report *r)
{
    hout *o = &r->o;
    html_puts(o,
              "<section id=\"graph\">\n<h2>Host graph</h2>\n<p>Source host (or IP) &rarr; target "
              "host, labelled with the COM object and the number of findings; red: targets, "
              "blue: sources only, dashed grey: suppressed findings only.</p>\n");
    if (!r->hosts.n) {
        html_puts(o, "<p><em>No hosts named.</em></p>\n</section>\n");
        return;
    }
    item_ref *ev = html_sorted_items(&r->edges);
    size_t nedges = r->edges.n < MAX_EDGES ? r->edges.n : MAX_EDGES;
    gv x;
    memset(&x, 0, sizeof x);
    x.r = r;
    html_tally_init(&x.nodes);
    x.node = calloc(MAX_NODES, sizeof *x.node);
    const dh_gv_api *g = x.api = dh_gv_api_get();
    const char *fail = NULL;
    char *data = NULL;
    unsigned int dlen = 0;
    int laid = 0;
    agusererrf prev = NULL;
    GVC_t *gvc = NULL;
    if (!g) {
        fail = "graphviz could not be loaded";
        goto unloaded;
    }
    lt_symlist_t builtins[] = {
        {"gvplugin_dot_layout_LTX_library", g->dot_layout},
        {"gvplugin_core_LTX_library", g->core},
        {NULL, NULL},
    };
    prev = g->agseterrf(gv_quiet);
    gvc = g->gvContextPlugins(builtins, 0);
    if (!gvc || !x.node || (r->edges.n && !ev)) {
        fail = "out of memory";
        goto done;
    }
    x.g = g->agopen("hosts", *g->directed, NULL);
    if (!x.g) {
        fail = "graphviz could not make the graph";
        goto done;
    }
    build_graph(&x, ev, nedges);
    if (g->gvLayout(gvc, x.g, "dot") != 0) {
        fail = "graphviz could not lay the graph out";
        goto done;
    }
    laid = 1;
    if (g->gvRenderData(gvc, x.g, "svg", &data, &dlen) != 0 || !data) {
        fail = "graphviz could not write the SVG";
        goto done;
    }
    html_puts(o, "<div class=\"graph\">\n");
    if (emit_svg(o, data, dlen) < 0) {
        html_puts(o, "</div>\n");
        fail = "the SVG graphviz wrote was not the expected markup; withheld";
        goto done;
    }
    html_puts(o, "</div>\n");
    if (r->edges.n > nedges || x.nnode >= MAX_NODES || r->edges.dropped) {
        html_puts(o, "<p class=\"note\">The graph shows the ");
        html_putu(o, nedges);
        html_puts(o, " most frequent of ");
        html_putu(o, r->edges.n);
        html_puts(o, r->edges.dropped ? "+" : "");
        html_puts(o, " edges and at most ");
        html_putu(o, MAX_NODES);
        html_puts(o, " hosts.</p>\n");
    }
done:
    if (data)
        g->gvFreeRenderData(data);
    if (laid)
        g->gvFreeLayout(gvc, x.g);
    if (x.g)
        g->agclose(x.g);
    if (gvc)
        g->gvFreeContext(gvc);
    g->agseterrf(prev);
unloaded:
    if (fail) {
        snprintf(r->graph_note, sizeof r->graph_note, "host graph not drawn: %s", fail);
        html_puts(o, "<p class=\"note\">The host graph could not be drawn: ");
        html_puts(o, fail);
        html_puts(o, ".</p>\n");
        html_report_error(r, DH_ERR_UNSUPPORTED, 0, 0, r->graph_note);
    }
    html_tally_free(&x.nodes);
    free(x.node);
    free(ev);
    html_puts(o, "</section>\n");
}
