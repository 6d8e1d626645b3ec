/* The reader table: one row per input format, in the order their sniff is tried, and the
 * lookup from a sniffed format to the row that reads it. The rows live in their readers'
 * files (evtx/reader.c, json/jsonl.c, xml/evxml.c, csv/mdecsv.c, zeek/zeek.c). */
#include "input/reader.h"

#include <stdio.h>

/* Sniff order matters where two formats could claim the same bytes: a pretty-printed
 * JSON document before JSON lines (both open with '{'), JSON before Zeek and CSV, XML
 * last (its test looks for "<Event" anywhere in the first bytes). */
static const dh_reader *const rows[] = {
    &dh_reader_evtx,     &dh_reader_json_doc, &dh_reader_jsonl, &dh_reader_json_array,
    &dh_reader_zeek_tsv, &dh_reader_mde_csv,  &dh_reader_xml,
};

const dh_reader *const *dh_reader_rows(size_t *n)
{
    *n = sizeof rows / sizeof rows[0];
    return rows;
}

const dh_reader *dh_reader_for(dh_format f)
{
    if (f == DH_FORMAT_UNKNOWN)
        return NULL;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i]->format == f || rows[i]->variant == f)
            return rows[i];
    return NULL;
}

size_t dh_reader_cut_lines(const char *buf, size_t len, uint64_t offset)
{
    (void)offset;
    for (size_t k = len; k-- > 0;)
        if (buf[k] == '\n')
            return k + 1;
    return 0;
}

void dh_reader_junk_msg(char *msg, size_t n, const dh_reader_junk *j)
{
    if (j->n == 1)
        snprintf(msg, n, "chunk signature missing, chunk skipped");
    else
        snprintf(msg, n, "%u chunks from here to offset %llu have no chunk signature, skipped",
                 j->n, (unsigned long long)j->end);
}

void dh_reader_line_error(void *sink, uint64_t line, uint64_t offset, const char *why)
{
    const dh_reader_sink *k = sink;
    char msg[200];
    snprintf(msg, sizeof msg, "line %llu: %s", (unsigned long long)line, why);
    k->on_error(k->ctx, DH_ERR_FORMAT, -1, offset, 0, msg);
}
