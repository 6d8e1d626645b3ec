/* EVTX files written as Windows writes them: a 4 KiB file header, 64 KiB chunks with their
 * string and template tables and CRC32s, records whose BinXML is a template instance of
 * the System part (Windows' 18-value manifest shape, or the 20-value shape of classic
 * event sources such as DistributedCOM) with the EventData (or UserData) in a nested
 * BinXML value, itself a template instance with typed substitutions. Templates and names
 * are defined inline at their first use in each chunk and referenced after, as Windows
 * does; the files read back with dcomhunt's decoder and with libevtx.
 *
 * Ownership: the writer copies nothing it is given beyond the call; strings in a record
 * are borrowed for the duration of dh_evtx_writer_add. The writer owns its file
 * descriptor (opened by dh_evtx_writer_open) and closes it in dh_evtx_writer_close, which
 * also frees the writer (NULL accepted). A memory writer appends to the caller's dh_buf. */
#ifndef DH_OUTPUT_EVTX_WRITE_H
#define DH_OUTPUT_EVTX_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "dcomhunt/status.h"

/* Value types, as the format numbers them. DH_EVTX_ARRAY may be or-ed with any but NULL,
 * BINARY and BINXML. */
enum {
    DH_EVTX_NULL = 0x00,
    DH_EVTX_STRING = 0x01, /* data: UTF-8 (the writer stores UTF-16LE) */
    DH_EVTX_ANSI = 0x02,   /* data: Windows-1252 bytes */
    DH_EVTX_I8 = 0x03,
    DH_EVTX_U8 = 0x04,
    DH_EVTX_I16 = 0x05,
    DH_EVTX_U16 = 0x06,
    DH_EVTX_I32 = 0x07,
    DH_EVTX_U32 = 0x08,
    DH_EVTX_I64 = 0x09,
    DH_EVTX_U64 = 0x0a,
    DH_EVTX_F32 = 0x0b,
    DH_EVTX_F64 = 0x0c,
    DH_EVTX_BOOL = 0x0d, /* 4 bytes */
    DH_EVTX_BINARY = 0x0e,
    DH_EVTX_GUID = 0x0f, /* 16 bytes, Data1..Data3 little-endian */
    DH_EVTX_SIZET = 0x10,
    DH_EVTX_FILETIME = 0x11,
    DH_EVTX_SYSTEMTIME = 0x12, /* 8 x uint16 */
    DH_EVTX_SID = 0x13,        /* binary SID */
    DH_EVTX_HEX32 = 0x14,
    DH_EVTX_HEX64 = 0x15,
    DH_EVTX_BINXML = 0x21, /* written by the writer itself, never accepted from callers */
    DH_EVTX_ARRAY = 0x80,
};

/* One value: its type and its bytes as stored (little-endian), except STRING (UTF-8). An
 * array of strings (STRING or ANSI | ARRAY) holds its elements each followed by a NUL. */
typedef struct dh_evtx_value {
    uint8_t type;
    uint32_t len;
    const void *data;
} dh_evtx_value;

typedef struct dh_evtx_item {
    const char *name; /* the Data element's Name (EventData), or a UserData element name */
    dh_evtx_value value;
} dh_evtx_item;

/* One event. Strings are UTF-8, NUL-terminated; NULL where marked optional. */
typedef struct dh_evtx_record {
    const char *provider;      /* Provider Name */
    const char *provider_guid; /* "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" or NULL */
    /* Classic event sources (DistributedCOM, Service Control Manager) carry
     * EventSourceName and have provider, GUID and channel as text of their template;
     * NULL for manifest providers (Sysmon, Security, PowerShell). */
    const char *event_source;
    uint16_t event_id;
    int32_t qualifiers; /* -1: none */
    uint8_t version, level, opcode;
    uint16_t task;
    uint64_t keywords;
    int64_t time; /* FILETIME ticks: TimeCreated and the record's written time */
    uint32_t process_id, thread_id;
    const char *channel, *computer;
    const char *user_sid;    /* Security UserID ("S-1-5-18") or NULL */
    const char *activity_id; /* Correlation ActivityID "{...}" or NULL */
    /* NULL: the items are EventData/Data Name="..." elements (an event without items gets
     * an empty EventData, as Windows writes it). Else the items are the child elements of
     * UserData/<user_data xmlns="user_data_ns">. */
    const char *user_data, *user_data_ns;
    const dh_evtx_item *items;
    size_t nitems;
    uint64_t record_id; /* 0: the next number (else kept; numbering goes on after it) */
} dh_evtx_record;

typedef struct dh_evtx_writer_opts {
    uint64_t first_record_id; /* 0 means 1 */
    /* Leave the file as a live log copied while Windows writes it: the header's dirty flag
     * set and its chunk count and next record id one chunk behind. */
    int dirty;
} dh_evtx_writer_opts;

typedef struct dh_evtx_writer dh_evtx_writer;

/* Creates (truncates) path. A terminal or another non-regular file is refused
 * (DH_ERR_ARG): the header is written last, at offset 0. */
dh_status dh_evtx_writer_open(const char *path, const dh_evtx_writer_opts *o, dh_evtx_writer **out);
/* Writes into out (the whole file, header included, after close). */
dh_status dh_evtx_writer_new_mem(dh_buf *out, const dh_evtx_writer_opts *o, dh_evtx_writer **out_w);
/* Appends one event; *record_id (may be NULL) gets its EventRecordID. DH_ERR_LIMIT: the
 * event does not fit in a chunk (values over about 60 KiB) or reads back as more than 1024
 * data items (each element of an array is one); DH_ERR_ARG: a value's type or length is
 * not valid. Neither leaves anything written; later events still go. */
dh_status dh_evtx_writer_add(dh_evtx_writer *w, const dh_evtx_record *r, uint64_t *record_id);
/* Events written, chunks written so far. */
uint64_t dh_evtx_writer_records(const dh_evtx_writer *w);
uint64_t dh_evtx_writer_chunks(const dh_evtx_writer *w);
/* Bytes of the file so far (header included). */
uint64_t dh_evtx_writer_bytes(const dh_evtx_writer *w);
/* Flushes the last chunk and the header, closes the file and frees w. */
dh_status dh_evtx_writer_close(dh_evtx_writer *w);

/* Text to value: the bytes of type `type` whose rendering (as dcomhunt's decoder and
 * Windows render it) is exactly text[0, n); returns the length written to buf (at most
 * cap), or -1 when the text is not that type's canonical form. STRING always succeeds
 * when it fits (it copies the UTF-8). */
int dh_evtx_value_parse(uint8_t type, const char *text, size_t n, uint8_t *buf, size_t cap);

#endif
