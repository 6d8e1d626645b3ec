/* The HTML report's frame (html_page.h): the style sheet, the head with its
 * Content-Security-Policy, the header and navigation, and the small pieces every section
 * writes (times, severities, values of a finding, "N more" notes, tallies by count). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "output/html_page.h"

static const char css[] =
    ":root{color-scheme:light}"
    "body{font:14px/1.45 system-ui,\"Segoe UI\",Roboto,\"DejaVu Sans\",Arial,sans-serif;"
    "margin:0;color:#1d2430;background:#f4f6f9}"
    "header{background:#1d2a3a;color:#fff;padding:14px 24px}"
    "header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#c8d3e0}"
    "nav{padding:6px 24px;background:#e3e9f1;position:sticky;top:0;z-index:1}"
    "nav a{margin-right:18px;color:#1a4f8b}"
    "main{padding:4px 24px 40px;max-width:1500px}"
    "h2{font-size:18px;border-bottom:2px solid #c9d2de;padding-bottom:4px;margin-top:28px}"
    "h3{font-size:16px;margin:6px 0 10px}h4{font-size:14px;margin:14px 0 6px}"
    "table{border-collapse:collapse;background:#fff;margin:6px 0}"
    "th,td{border:1px solid #d5dbe3;padding:3px 8px;text-align:left;vertical-align:top}"
    "th{background:#eef2f7;font-weight:600}td.n{text-align:right;font-variant-numeric:"
    "tabular-nums}table.kv th{width:150px}table.ev td{font-size:12.5px;white-space:nowrap;"
    "overflow-wrap:normal}table.ev td:last-child{white-space:normal;overflow-wrap:anywhere}"
    "code,pre,.mono{font-family:\"DejaVu Sans Mono\",Consolas,Menlo,monospace;font-size:12.5px}"
    "td,li,code{overflow-wrap:anywhere}"
    ".esc{background:#ffe08a;color:#5a3b00;border-radius:3px;padding:0 2px}"
    ".badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;"
    "font-weight:600;color:#fff;background:#6b7785;vertical-align:middle}"
    ".sev-critical{background:#7b1fa2}.sev-high{background:#c62828}"
    ".sev-medium{background:#e65100}.sev-low{background:#1565c0}"
    ".sev-informational{background:#546e7a}.sev-other{background:#6b7785}"
    ".supp-badge{background:#616161}"
    ".facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}"
    ".facts dt{font-weight:600}.facts dd{margin:0}"
    ".cols{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}"
    ".note{background:#fff4e5;border:1px solid #f0c890;padding:6px 10px;border-radius:4px}"
    "article.finding{background:#fff;border:1px solid #d5dbe3;border-left:6px solid #c62828;"
    "border-radius:4px;padding:6px 16px 12px;margin:16px 0}"
    "article.finding.s-critical{border-left-color:#7b1fa2}"
    "article.finding.s-medium{border-left-color:#e65100}"
    "article.finding.s-low,article.finding.s-informational,article.finding.s-other"
    "{border-left-color:#1565c0}"
    "article.finding.suppressed{border:2px dashed #8a8a8a;border-left:6px solid #8a8a8a;"
    "background:#f3f3f3}"
    ".suppressed-note{background:#e6e6e6;border:1px dashed #777;padding:6px 10px;"
    "border-radius:4px;font-weight:600}.suppressed-note span{font-weight:normal}"
    "ol.cmds code{white-space:pre-wrap}ol.steps li{white-space:pre-wrap;margin:2px 0}"
    ".pivot{margin:8px 0}.pivot-head{font-weight:600;margin-bottom:2px}"
    ".lang{display:inline-block;font-size:11px;padding:0 6px;border-radius:3px;"
    "background:#dfe7f1;color:#1a3a5f;margin-right:6px;font-family:monospace}"
    "pre.query{white-space:pre-wrap;overflow-wrap:anywhere;background:#0f1720;color:#e6edf3;"
    "padding:10px 12px;border-radius:4px;margin:0;user-select:all;-webkit-user-select:all}"
    "pre.query .esc{background:#6b5300;color:#fff}"
    ".tl{background:#fff;border:1px solid #d5dbe3;padding:8px 12px}"
    ".tl-row{display:flex;align-items:center;min-height:20px}"
    ".tl-label{flex:0 0 380px;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;"
    "font-size:12px;padding-right:8px}"
    ".tl-track{position:relative;flex:1;height:10px;background:#eef2f7;border-radius:5px}"
    ".tl-bar{position:absolute;top:0;height:10px;border-radius:5px;min-width:4px}"
    ".tl-bar.supp{background:repeating-linear-gradient(45deg,#8a8a8a 0 3px,#d6d6d6 3px 6px)}"
    ".tl-axis{position:relative;height:30px;margin-left:380px;font-size:11px;color:#555}"
    ".tl-axis span{position:absolute;top:4px;white-space:nowrap}"
    ".graph{background:#fff;border:1px solid #d5dbe3;padding:8px;overflow:auto}"
    ".graph svg{max-width:100%;height:auto}"
    ".graph svg text{font-family:Arial,Helvetica,\"Liberation Sans\",\"DejaVu Sans "
    "Condensed\",sans-serif}"
    "footer{color:#555;font-size:12px;padding:12px 24px}";

void html_put_time(hout *o, int64_t t, int seconds_only)
{
    dh_buf b;
    dh_buf_init(&b, 64);
    if (dh_time_put_iso(&b, t) == DH_OK) {
        if (seconds_only && b.len > 19) {
            html_put(o, b.data, 19);
            html_puts(o, "Z");
        } else {
            html_put(o, b.data, b.len);
        }
    }
    dh_buf_free(&b);
}

void html_put_sev_class(hout *o, int sev)
{
    html_puts(o, sev < NSEV ? html_sev_names[sev] : "other");
}

/* v escaped, or `dflt` (our own text, in <em>) when empty. */
void html_put_field(report *r, dh_jstr v, const char *dflt)
{
    if (v.n)
        html_text(&r->o, v.p, v.n, HT_MARK);
    else if (dflt) {
        html_puts(&r->o, "<em>");
        html_puts(&r->o, dflt);
        html_puts(&r->o, "</em>");
    }
}

/* "host (ip)", "host", "ip" or dflt, for an endpoint. */
void html_put_endpoint(report *r, dh_jstr h, dh_jstr ip, const char *dflt)
{
    int has_host = h.n > 0;
    if (has_host)
        html_text(&r->o, h.p, h.n, HT_MARK);
    if (ip.n) {
        if (has_host)
            html_puts(&r->o, " (");
        html_text(&r->o, ip.p, ip.n, HT_MARK);
        if (has_host)
            html_puts(&r->o, ")");
    } else if (!has_host) {
        html_puts(&r->o, "<em>");
        html_puts(&r->o, dflt);
        html_puts(&r->o, "</em>");
    }
}

void html_put_more(hout *o, uint32_t total, uint32_t shown, const char *what)
{
    if (total <= shown)
        return;
    html_puts(o, "<p class=\"note\">");
    html_putu(o, (unsigned long long)(total - shown));
    html_puts(o, " more ");
    html_puts(o, what);
    html_puts(o, " not shown (the page shows ");
    html_putu(o, MAX_LIST);
    html_puts(o, ").</p>");
}

void html_head_and_header(report *r)
{
    hout *o = &r->o;
    html_puts(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                 "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n"
                 "<meta name=\"referrer\" content=\"no-referrer\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<meta name=\"generator\" content=\"dcomhunt report\">\n<title>dcomhunt report: ");
    html_text(o, r->name, strlen(r->name), 0);
    html_puts(o, "</title>\n<style>");
    html_puts(o, css);
    html_puts(o, "</style>\n</head>\n<body>\n<header><h1>DCOM lateral movement (T1021.003): "
                 "dcomhunt report</h1><p>Findings from <code>");
    html_cstr(o, r->name);
    html_puts(o, "</code></p></header>\n<nav><a href=\"#summary\">Summary</a><a "
                 "href=\"#timeline\">Timeline</a><a href=\"#graph\">Host graph</a><a "
                 "href=\"#findings\">Findings</a><a href=\"#suppressed\">Suppressed</a></nav>\n"
                 "<main>\n");
}

static int cmp_refs(const void *a, const void *b)
{
    const item_ref *x = a, *y = b;
    uint64_t cx = x->it->c[0] + x->it->c[1], cy = y->it->c[0] + y->it->c[1];
    if (cx != cy)
        return cx > cy ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Items of t by count, most first (then first seen); NULL if t is empty or memory fails. */
item_ref *html_sorted_items(const tally *t)
{
    if (!t->n)
        return NULL;
    item_ref *v = malloc(t->n * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < t->n; i++)
        v[i].it = &t->v[i], v[i].idx = i;
    qsort(v, t->n, sizeof *v, cmp_refs);
    return v;
}
