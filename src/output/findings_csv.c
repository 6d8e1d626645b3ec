/* Findings as CSV: a header row, then one row per finding (docs/findings.md), every cell
 * quoted as dh_csv_cell does so a value from the logs cannot start a formula or break the
 * row. */
#include <stdio.h>
#include <string.h>

#include "core/timefmt.h"
#include "findings/model.h"
#include "output/findings_format.h"
#include "output/text.h"

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
    dh_buf_reset(&tb);
    dh_time_put_iso(&tb, f->last_seen);
    snprintf(t2, sizeof t2, "%.*s", (int)tb.len, tb.data);
    dh_buf_free(&tb);
    const dh_str cells[] = {
        {f->id, strlen(f->id)},
        {kind, strlen(kind)},
        {dh_level_name(f->severity), strlen(dh_level_name(f->severity))},
        {dh_confidence_name(f->confidence), strlen(dh_confidence_name(f->confidence))},
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
        size_t full = dh_finding_command_cut(f, i);
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
    dh_buf_reset(&cb);
    for (size_t i = 0; i < f->nrules; i++) {
        if (i)
            dh_buf_putc(&cb, ' ');
        dh_buf_puts(&cb, dh_rule_label(f->rules[i]));
        if (dh_finding_is_undecided(f, f->rules[i]))
            dh_buf_puts(&cb, " (undecided)");
    }
    csv_cell(b, (dh_str){cb.data ? cb.data : "", cb.len});
    dh_buf_free(&cb);
    dh_buf_putc(b, '\n');
}

static void csv_render(dh_buf *b, const dh_finding *f, const dh_guide *g, const dh_rule *sup,
                       const dh_findings_style *st)
{
    (void)g;
    (void)st;
    render_csv(b, f, sup);
}

static void csv_begin(FILE *out)
{
    fputs("id,kind,severity,confidence,first_seen,last_seen,source_host,source_ip,"
          "target_host,target_ip,com_object,clsid,user,logon_id,commands,rules\n",
          out);
}

const dh_findings_format_ops dh_findings_csv_ops = {
    .format = DH_FINDINGS_CSV,
    .name = "csv",
    .guide = DH_GUIDE_NEVER,
    .render = csv_render,
    .begin = csv_begin,
};
