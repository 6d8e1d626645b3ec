/* The reader table: every row of the reader interface (reader.h), in the order their
 * sniff is tried, and the lookup from a sniffed format to its row. Included by the scanner
 * and the sniffer, never by the readers themselves (they only fill a row). */
#ifndef DH_INPUT_READERS_H
#define DH_INPUT_READERS_H

#include "input/reader.h"

/* The rows, in the order their sniff is tried. */
extern const dh_reader dh_reader_evtx;
extern const dh_reader dh_reader_json_doc;
extern const dh_reader dh_reader_jsonl;
extern const dh_reader dh_reader_json_array;
extern const dh_reader dh_reader_zeek_tsv;
extern const dh_reader dh_reader_mde_csv;
extern const dh_reader dh_reader_xml;

/* The row that reads f; NULL for DH_FORMAT_UNKNOWN and archives (which the scanner
 * opens itself and whose members it sniffs in turn). */
const dh_reader *dh_reader_for(dh_format f);
/* All rows, in sniff order; *n set to their number. */
const dh_reader *const *dh_reader_rows(size_t *n);

#endif
