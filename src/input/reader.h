/* The reader interface: what every input format (EVTX, event XML, JSON lines, arrays and
 * documents, Defender CSV, Zeek TSV) gives the scanner, one row per format in one table.
 *
 * A row says how to recognise the format from its first bytes (sniff), how a byte stream
 * of it is cut into units (whole text records, or fixed-size chunks), what the first bytes
 * hold that is not records (EVTX's file header, CSV's header record, Zeek's '#' lines),
 * and how a unit is decoded into events on a worker thread. The scanner (scan.c and the
 * files beside it) never asks which format it holds: it asks the row. Adding a format is
 * adding a row in its reader's file and a line in readers.c (the table, readers.h).
 *
 * Every reader reports a problem the same way (dh_reader_error_fn: status, EVTX chunk or
 * -1, byte offset, record id or 0, message) and counts what it decoded in one result
 * shape (dh_reader_result). Readers know formats, never rules. */
#ifndef DH_INPUT_READER_H
#define DH_INPUT_READER_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "dcomhunt/event.h"
#include "dcomhunt/scan.h"
#include "input/format.h"

/* An event, on the worker thread; valid during the call only. Return DH_OK to go on. */
typedef dh_status (*dh_reader_event_fn)(void *ctx, const dh_event *ev);
/* A problem in a unit: chunk -1 and record_id 0 when they do not apply; the message says
 * where in the reader's terms ("line 12: ...", "event XML: ..."). */
typedef void (*dh_reader_error_fn)(void *ctx, dh_status st, int64_t chunk, uint64_t offset,
                                   uint64_t record_id, const char *msg);
/* What the text readers' own decode functions report (line-numbered formats): the line
 * and offset of the record and why it was skipped. The rows turn it into the shape above
 * (dh_reader_line_error). */
typedef void (*dh_reader_line_error_fn)(void *ctx, uint64_t line, uint64_t offset, const char *why);

typedef struct dh_reader_sink {
    dh_reader_event_fn on_event;
    dh_reader_error_fn on_error;
    void *ctx;
} dh_reader_sink;

/* One unit of work, cut by the scanner. */
typedef struct dh_reader_unit {
    dh_format format; /* as sniffed (a row may read several: EVTX files and bare chunks) */
    const char *file; /* display name for provenance ("archive!member" inside archives) */
    const char *buf;  /* the unit's bytes; NULL for EVTX chunks read from fd with pread */
    size_t len;       /* bytes of the unit */
    const char *hdr;  /* CSV: the header record; Zeek: the '#' lines in effect */
    size_t hdrlen;    /* (both NULL/0 for other formats) */
    int fd;           /* chunked units read from a file: its descriptor, else -1 */
    uint64_t offset;  /* byte offset of the unit in its file or archive member */
    uint64_t line;    /* text: number of the unit's first line */
    int64_t chunk;    /* chunked: index of the first chunk */
    uint32_t nchunks; /* chunked: chunks in the unit */
    int in_file;      /* chunked: buf holds chunks of a whole file in memory (a caller's
                       * buffer), read as a file's are, not as a stream's */
} dh_reader_unit;

/* Chunks of an EVTX stream that hold no chunk signature and no record: damage if a real
 * chunk follows, trailing data (a warning) if the stream ends there. Only the scanner,
 * reading the units in order, can tell which; a unit reports the run it ends with. */
typedef struct dh_reader_junk {
    uint64_t off, end; /* file offsets: the first junk chunk, the end of the last slot */
    int64_t chunk;     /* index of the first junk chunk */
    uint32_t n;        /* junk chunks (empty ones between them are not counted) */
    size_t file;       /* set by the scanner */
    const char *name;  /* set by the scanner */
} dh_reader_junk;

typedef struct dh_reader_result {
    uint64_t records;     /* events delivered */
    uint64_t records_bad; /* records skipped */
    uint64_t damaged;     /* units skipped whole or in part (chunks; 1 for a text batch) */
    uint32_t chunks_done; /* chunked: chunks decoded */
    uint64_t unused;      /* valid records of logs dcomhunt does not use (Zeek) */
    int has_chunk;        /* chunked stream: a real chunk was among the unit's */
    dh_reader_junk junk;  /* chunked stream: the junk run the unit ends with */
} dh_reader_result;

/* How a record ends, for reading past one larger than the scanner's cap. */
enum dh_record_end {
    DH_END_LINE,        /* a newline (JSON lines, Zeek) */
    DH_END_CSV_RECORD,  /* a line end outside quotes (stream.c csv_skip_record); when the
                         * quoting breaks, the record's first line */
    DH_END_XML_ELEMENT, /* "</Event>" */
    DH_END_JSON_VALUE,  /* the bracket that closes the element */
};

typedef struct dh_reader {
    const char *name;
    dh_format format;  /* the row's own format (its state slot in a worker) */
    dh_format variant; /* another format the row reads (EVTX's bare chunks), else UNKNOWN */
    /* Recognises the format from an input's first bytes: returns the format (this row's,
     * or a variant it reads), else DH_FORMAT_UNKNOWN. Text rows get the bytes after a
     * UTF-8 BOM and leading blanks, chunked rows the bytes from the first. */
    dh_format (*sniff)(const uint8_t *p, size_t n);
    /* Text rows: how many leading bytes of [buf, buf+len) hold whole records (0: none
     * yet); `offset` is the buffer's offset in its file. NULL for chunked rows. */
    size_t (*cut)(const char *buf, size_t len, uint64_t offset);
    /* Chunked rows: the unit of the format (a stream is cut in runs of these); 0 for text. */
    size_t chunk_size;
    /* A stream's start that is not records (EVTX's file header): checked, its length set
     * in *skip; *note set to a warning to pass on (NULL: none). DH_ERR_FORMAT with *note
     * saying why when nothing can be read. NULL: nothing to skip. */
    dh_status (*begin)(dh_format f, const uint8_t *head, size_t n, size_t *skip, const char **note);
    /* CSV: the length of the header record kept and handed to every unit (0: not whole
     * yet). NULL: no such record. */
    size_t (*header)(const char *buf, size_t len);
    /* Zeek: folds the '#' lines of a unit into the header in effect after it; non-zero
     * when it overflows (the header is then forgotten). NULL: none. */
    int (*header_update)(dh_buf *hdr, const char *buf, size_t len);
    enum dh_record_end record_end;
    /* JSON: 1 when the input's first object is no event of a kind dcomhunt reads (a
     * manifest): such a file found in a directory or archive is passed over. NULL: never. */
    int (*not_events)(const char *buf, size_t len);
    /* A network sensor log, read before time-ordered host logs (they join chains without
     * moving the correlator's clock). NULL: never. */
    int (*sensor)(const uint8_t *head, size_t n);
    /* Per-worker state, made on a worker's first unit of this row and freed with it. */
    void *(*state_new)(const dh_scan_opts *opts);
    void (*state_free)(void *state);
    /* Decodes one unit; counts into *res (zeroed by the caller). Returns DH_OK, or the
     * status an event callback stopped it with. */
    dh_status (*decode)(void *state, const dh_reader_unit *u, const dh_reader_sink *sink,
                        dh_reader_result *res);
} dh_reader;

/* Shared by rows whose records end at a newline: through the last newline. */
size_t dh_reader_cut_lines(const char *buf, size_t len, uint64_t offset);
/* Shared by rows that number lines: reports "line N: why" through the sink `sink`
 * (a const dh_reader_sink *), as every text reader's errors read. */
void dh_reader_line_error(void *sink, uint64_t line, uint64_t offset, const char *why);
/* The message for a junk run followed by a real chunk (said by the reader within a unit,
 * by the scanner across units). */
void dh_reader_junk_msg(char *msg, size_t n, const dh_reader_junk *j);

#endif
