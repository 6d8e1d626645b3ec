/* Recognising an input's format from its first bytes, never from its name. */
#ifndef DH_INPUT_SNIFF_H
#define DH_INPUT_SNIFF_H

#include <stddef.h>
#include <stdint.h>

typedef enum dh_format {
    DH_FORMAT_UNKNOWN,
    DH_FORMAT_EVTX,       /* "ElfFile\0" file header, then chunks */
    DH_FORMAT_EVTX_CHUNK, /* bare chunks ("ElfChnk\0"), e.g. carved from memory or disk */
    DH_FORMAT_JSONL,      /* one JSON object per line */
    DH_FORMAT_JSON_ARRAY, /* a JSON array of objects */
    DH_FORMAT_JSON_DOC,   /* pretty-printed JSON objects (one or several, each over lines) */
    DH_FORMAT_XML,        /* Windows event XML: <Event> elements */
    DH_FORMAT_MDE_CSV,    /* Defender / Sentinel CSV export: header record, then rows */
    DH_FORMAT_ZEEK_TSV,   /* Zeek log in its TSV form: #separator, #fields..., rows */
    DH_FORMAT_ARCHIVE,    /* zip, 7z, tar, gzip, bzip2, xz, zstd: read with libarchive */
} dh_format;

dh_format dh_sniff(const uint8_t *p, size_t n);
/* Formats read as a stream of text records (cut into batches of whole records). */
int dh_format_is_text(dh_format f);
const char *dh_format_name(dh_format f);

#endif
