/* EVTX decoder internals shared by chunk.c, template.c, binxml.c and reader.c (the file
 * layout is file.h, element roles roles.h, the format's constants and value rendering
 * core/evtx_format.h).
 *
 * The decoder reads a chunk (64 KiB, self-contained) from a caller-owned buffer, compiles
 * each BinXML template it meets into a flat op list once (cached per decoder across chunks,
 * verified byte for byte), and walks that op list with each record's substitution values:
 * values are converted straight from the chunk's bytes into a per-record arena, and only
 * the pieces the event needs are converted unless XML was asked for. A decoder belongs to
 * one thread. */
#ifndef DH_INPUT_EVTX_H
#define DH_INPUT_EVTX_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/evtx_format.h"
#include "dcomhunt/scan.h"
#include "event/event_impl.h"
#include "event/mappings/mappings.h"
#include "input/evtx/roles.h"

#define EVTX_MAX_DEPTH   64          /* element nesting, template nesting included */
#define EVTX_MAX_VALUES  4096        /* substitution values in one template instance */
#define EVTX_MAX_ITEMS   8192        /* data items in one event */
#define EVTX_ARENA_LIMIT (64u << 20) /* converted text of one record */
#define EVTX_MAX_OPS     65536       /* ops walked per record, nested templates included */

enum evtx_opcode {
    OP_OPEN,        /* name */
    OP_ATTR,        /* name */
    OP_CLOSE_START, /* '>' */
    OP_CLOSE_EMPTY, /* '/>' and the element ends */
    OP_END,         /* '</name>' */
    OP_TEXT,        /* static UTF-8 text */
    OP_CDATA,       /* static UTF-8 text, rendered as CDATA */
    OP_SUBST,       /* substitution: subst index, declared type, optional flag */
    OP_CHARREF,     /* a = code point */
    OP_ENTREF,      /* name */
    OP_PI,          /* name = target, text = data */
};

typedef struct evtx_op {
    uint8_t code;
    uint8_t known;    /* enum evtx_known for OPEN/ATTR */
    uint8_t vtype;    /* SUBST: declared value type */
    uint8_t optional; /* SUBST: optional substitution */
    uint16_t subst;
    uint16_t pad;
    uint32_t close;   /* OPEN: index of the op that ends the element (END or CLOSE_EMPTY) */
    uint32_t a, alen; /* name or text: offset and length in the pool; CHARREF: a */
    uint32_t b, blen; /* PI data */
} evtx_op;

typedef struct evtx_namefield {
    uint32_t relpos; /* position of the 4-byte name offset field, from the data start */
    uint32_t ext;    /* index into ext names, or UINT32_MAX when the name is inline */
} evtx_namefield;

typedef struct evtx_extname {
    uint32_t offset; /* chunk offset of the name structure */
    uint32_t nbytes; /* UTF-16 bytes of the name */
    uint32_t copy;   /* offset of the copy in tpl->bytes_ext */
} evtx_extname;

/* A template's plan: what a top-level walk would capture, worked out once. Each entry is
 * a target and the range of value ops that make its text. Running the plan visits only
 * those ops; the full walk remains for XML output, nested BinXML and array values. */
enum evtx_target {
    P_PROVIDER,
    P_TIME,
    P_EVENTID,
    P_RECID,
    P_CHANNEL,
    P_COMPUTER,
    P_ITEM,
    P_NESTED, /* a BinXML value (type 0x21): its own template, run in context `role` */
    P_SYS,    /* a System property (Level, Task..., Security/@UserID...): name_a names it */
};

typedef struct evtx_plan_entry {
    uint8_t target;
    uint32_t first, last;       /* value ops [first, last) */
    uint32_t name_a, name_alen; /* P_ITEM: the name in the pool */
    uint32_t name_op;           /* P_ITEM: op index the name came from (field cache key) */
    uint16_t subst;             /* P_NESTED, and single entries: the substitution */
    uint8_t opt_only;           /* the element holds only an optional substitution: a NULL
                                 * value means the element is not there at all */
    uint8_t role;               /* P_NESTED: role of the element holding it */
    uint8_t single;             /* the value is one substitution alone (ops[first]): its
                                 * text is the value's, no op loop needed */
} evtx_plan_entry;

/* A plan depends on the role of the element the template is instantiated in (R_NONE for
 * a record's own template, e.g. R_EVENTDATA for a template nested in EventData). */
typedef struct evtx_plan {
    evtx_plan_entry *e;
    uint32_t n;
    /* The same entries without the P_SYS ones, in the same order, for a decoder that does
     * not convert System properties (stats, most hunts): skipping them one by one was a
     * tenth of run_plan's instructions (callgrind, 2026-12-07). */
    evtx_plan_entry *e_nosys;
    uint32_t n_nosys;
    uint8_t built, ok;
    uint8_t *nested; /* per substitution index: 1 if the plan runs it as P_NESTED */
    uint32_t nnested;
} evtx_plan;

typedef struct evtx_template {
    struct evtx_template *next; /* cache chain */
    uint8_t guid[16];
    uint32_t data_size;
    uint8_t *bytes; /* the definition data, for verification */
    uint8_t *ext_bytes;
    evtx_namefield *namefields;
    uint32_t nnamefields;
    evtx_extname *extnames;
    uint32_t nextnames;
    evtx_op *ops;
    uint32_t nops;
    char *pool;
    uint32_t pool_len;
    evtx_plan plans[R_COUNT];
    /* Field mapping cache: valid for cache_row; per op, up to 3 field ids, -2 = unknown. */
    const dh_map_row *cache_row;
    int8_t (*cache_fields)[DH_MAP_MAX_TARGETS + 1];
} evtx_template;

typedef struct evtx_value {
    const uint8_t *p;
    uint32_t len;
    uint8_t type;
    uint8_t lost; /* torn record: the value's bytes were never written (type is 0x00) */
} evtx_value;

/* A pending data item while a record is walked. Offsets into the arena because the
 * arena may move while it grows. */
/* Substitution values of one template instance; one level per template nesting. */
#define EVTX_MAX_TPL_DEPTH 8
typedef struct evtx_value_level {
    evtx_value *v;
    uint32_t cap;
} evtx_value_level;

typedef struct evtx_item {
    uint32_t name_off, name_len; /* arena, unless name_static */
    const char *name_static;
    uint32_t value_off, value_len;
    const evtx_template *tpl; /* name came from this template's op ... */
    uint32_t name_op;         /* ... at this index (for the field cache), or UINT32_MAX */
} evtx_item;

typedef struct evtx_frame {
    uint8_t role;
    uint8_t has_child;
    uint8_t emitted;
    uint8_t in_start;    /* attributes still open */
    uint32_t text_start; /* arena offset where content began */
    uint32_t xml_open;   /* XML output offsets of the start tag and of the content */
    uint32_t xml_content;
    const evtx_template *tpl;
    uint32_t op;       /* OPEN op index */
    int32_t item_name; /* index into items of a pending name, -1 */
    uint32_t name_off, name_len;
    const char *name_static;
    uint32_t name_op;
    const evtx_template *name_tpl;
} evtx_frame;

/* A System property of the record being walked (dh_event_system). */
#define EVTX_MAX_SYS 24
typedef struct evtx_sysitem {
    const char *name; /* in a template's pool */
    uint32_t name_len;
    uint32_t value_off, value_len; /* arena */
} evtx_sysitem;

typedef struct evtx_chunk_tpl {
    uint32_t def_off;
    evtx_template *tpl;
} evtx_chunk_tpl;

typedef struct evtx_error_fn {
    void (*fn)(void *ctx, dh_status st, int64_t chunk, uint64_t offset, uint64_t record_id,
               const char *msg);
    void *ctx;
} evtx_error_fn;

typedef struct evtx_decoder {
    int want_xml;
    int want_sys;  /* convert the System properties (dh_event_system): ~20% of decode time */
    int full_walk; /* never run template plans */
    /* Per chunk. */
    const uint8_t *chunk;
    size_t chunk_len;
    const char *file;
    int64_t chunk_index;
    uint64_t chunk_file_off;
    evtx_chunk_tpl chunk_tpls[256];
    unsigned nchunk_tpls;
    /* Per record. */
    dh_buf arena;
    dh_buf xml;
    evtx_item *items;
    size_t nitems, items_cap;
    dh_kv *kvs;
    size_t kvs_cap;
    evtx_frame frames[EVTX_MAX_DEPTH];
    int depth;
    int tpl_depth;
    evtx_value_level levels[EVTX_MAX_TPL_DEPTH];
    uint32_t ops_walked;
    int64_t time;
    int time_set;
    uint32_t provider_off, provider_len, channel_off, channel_len, computer_off, computer_len;
    uint32_t eventid_off, eventid_len, recid_off, recid_len;
    const char *provider_static, *channel_static, *computer_static;
    int attr_open; /* an attribute value is being written */
    uint8_t attr_known;
    uint32_t attr_start;
    int attr_skip;
    const evtx_template *attr_tpl;
    uint32_t attr_op;
    const char *err; /* why the record failed, static text */
    /* A torn record (see chunk.c): chunk offset from which its bytes are zeros that were
     * never written, 0 for a whole record; values reaching it are lost, never invented. */
    uint32_t tear;
    uint32_t values_total, values_lost;
    evtx_sysitem sys[EVTX_MAX_SYS];
    unsigned nsys;
    dh_kv syskv[EVTX_MAX_SYS];
    /* Template cache, across chunks. */
    evtx_template *cache[1024];
    unsigned ncached;
    evtx_template *scratch; /* ad-hoc compiled fragments of the current record */
    /* dh_map_windows_find's answer for the last provider and event id (finalize). */
    const dh_map_row *map_row;
    uint32_t map_event_id, map_provider_len;
    int map_valid;
    char map_provider[128];
    dh_event ev;
} evtx_decoder;

evtx_decoder *evtx_decoder_new(int want_xml);
void evtx_decoder_free(evtx_decoder *d);

typedef dh_status (*evtx_event_fn)(void *ctx, const dh_event *ev);

/* Decodes one chunk held in buf (len bytes; less than 64 KiB only at end of file). */
typedef struct evtx_chunk_result {
    uint64_t records;
    uint64_t records_bad;
    int damaged;
    int empty;
    int junk; /* no chunk signature and no record in it (reported by the caller, which
               * knows whether a chunk follows: junk after the last chunk is trailing data,
               * not damage) */
} evtx_chunk_result;

/* What a 64 KiB slot of an EVTX file holds. */
enum evtx_slot {
    EVTX_SLOT_CHUNK,   /* "ElfChnk\0" */
    EVTX_SLOT_EMPTY,   /* all zeros (preallocated) */
    EVTX_SLOT_RECORDS, /* no chunk signature, but records: a chunk whose header was damaged */
    EVTX_SLOT_JUNK,    /* neither: data left on the disk, not part of the log */
};
int evtx_slot_kind(const uint8_t *p, size_t len);

dh_status evtx_decode_chunk(evtx_decoder *d, const uint8_t *buf, size_t len, const char *file,
                            int64_t chunk_index, uint64_t file_off, evtx_event_fn on_event,
                            void *ev_ctx, const evtx_error_fn *err, evtx_chunk_result *res);

#endif
