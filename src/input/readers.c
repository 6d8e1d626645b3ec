/* The reader table: one row per input format, in the order their sniff is tried, and the
 * lookup from a sniffed format to the row that reads it. The rows live in their readers'
 * files (evtx/reader.c, json/jsonl.c, xml/evxml.c, csv/mdecsv.c, zeek/zeek.c). */
#include "input/readers.h"

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
