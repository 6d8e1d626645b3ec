/* The input formats dcomhunt recognises, and their names (as its messages and
 * docs/formats.md spell them): the vocabulary shared by the sniffer (sniff.c), the reader
 * interface (reader.h) and the reader table (readers.c). Nothing here but the list. */
#ifndef DH_INPUT_FORMAT_H
#define DH_INPUT_FORMAT_H

#define DH_FORMAT_LIST(X)                                                                          \
    X(UNKNOWN, "unknown")                                                                          \
    X(EVTX, "evtx")              /* "ElfFile\0" file header, then chunks */                        \
    X(EVTX_CHUNK, "evtx-chunks") /* bare chunks ("ElfChnk\0"), e.g. carved from memory */          \
    X(JSONL, "jsonl")            /* one JSON object per line */                                    \
    X(JSON_ARRAY, "json-array")  /* a JSON array of objects */                                     \
    X(JSON_DOC, "json-document") /* pretty-printed JSON objects, each over lines */                \
    X(XML, "xml")                /* Windows event XML: <Event> elements */                         \
    X(MDE_CSV, "mde-csv")        /* Defender / Sentinel CSV export: header record, then rows */    \
    X(ZEEK_TSV, "zeek-tsv")      /* Zeek log in its TSV form: #separator, #fields..., rows */      \
    X(ARCHIVE, "archive")        /* zip, 7z, tar, gzip, bzip2, xz, zstd: read with libarchive */

typedef enum dh_format {
#define DH_X(id, name) DH_FORMAT_##id,
    DH_FORMAT_LIST(DH_X)
#undef DH_X
        DH_FORMAT_COUNT
} dh_format;

#endif
