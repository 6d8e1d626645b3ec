/* The EVTX writer (evtx_write.h says what it writes). Hand-written: no Debian library
 * writes EVTX (libevtx reads only).
 *
 * A chunk is built in a 64 KiB buffer. Each record is encoded straight into it at its
 * final offset, because BinXML holds chunk-relative offsets (names, template
 * definitions). A record that does not fit is rolled back (the chunk's name and template
 * tables too), the chunk is finished (tables, CRC32s) and written, and the record is
 * encoded again into the next chunk, where its templates and names are defined anew.
 *
 * Templates are described by a canonical key (their kind, names and declared types),
 * cached across chunks; the key's hash gives the template GUID, so the same kind of event
 * gets the same template in every chunk and every file, as Windows' do. */
#include "output/evtx_write.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/timefmt.h"
#include "core/utf16.h"
#include "core/evtx_format.h"

#define CHUNK          EVTX_CHUNK_SIZE
#define CHUNK_HDR      EVTX_CHUNK_HEADER_SIZE
#define FILE_HDR       EVTX_FILE_HEADER_SIZE
#define MAX_NAMES      512  /* distinct element/attribute names in one chunk */
#define MAX_CHUNK_TPLS 512  /* template definitions in one chunk */
#define MAX_CACHED     4096 /* templates kept across chunks before the cache is dropped */
#define MAX_DEPTH      16   /* element nesting of the templates written here */
#define MAX_ITEMS      1024 /* data items of one event, an array's elements each counted */

enum { TK_SYSTEM_MANIFEST = 1, TK_SYSTEM_CLASSIC = 2, TK_EVENTDATA = 3, TK_USERDATA = 4 };

typedef struct wtpl {
    struct wtpl *next; /* cache chain */
    uint64_t hash;
    uint8_t *key;
    size_t keylen;
    uint8_t guid[16];
    uint32_t id;      /* the first four bytes of the GUID, as template instances carry */
    uint64_t gen;     /* the chunk in which def_off is valid */
    uint32_t def_off; /* chunk offset of the definition header */
} wtpl;

typedef struct cname {
    uint32_t off; /* chunk offset of the name structure */
    uint16_t hash;
    uint32_t text_off, text_len; /* UTF-8 in names_text */
} cname;

struct dh_evtx_writer {
    int fd;
    dh_buf *mem;
    dh_evtx_writer_opts o;
    uint8_t *chunk;
    uint32_t pos; /* next free byte of the chunk */
    int full;     /* encoding ran out of room */
    uint64_t gen; /* current chunk's generation, from 1 */
    uint64_t nchunks;
    uint64_t next_id, records;
    uint64_t first_id, last_id;
    uint64_t first_id_of_last; /* first record id of the last chunk written (dirty option) */
    uint32_t last_rec_off, nrec;
    cname names[MAX_NAMES];
    uint32_t nnames;
    dh_buf names_text;
    uint32_t str_heads[64];
    wtpl *chunk_tpls[MAX_CHUNK_TPLS];
    uint32_t nchunk_tpls;
    wtpl *cache[1024];
    size_t ncached;
    dh_buf key;
    uint32_t open_size[MAX_DEPTH], attr_size[MAX_DEPTH];
    int depth;
    dh_status io; /* sticky write error */
};

/* ---- little-endian stores into the chunk, with room checks ----------------------- */

/* Records stop 8 bytes short of the chunk's end: libevtx (20181227) skips a last record
 * that ends exactly at offset 65536 (its free-space offset then equals the chunk size). */
#define CHUNK_END (CHUNK - 8)

static int room(dh_evtx_writer *w, size_t n)
{
    if (w->full || w->pos > CHUNK_END || n > (size_t)(CHUNK_END - w->pos)) {
        w->full = 1;
        return 0;
    }
    return 1;
}

static void put8(dh_evtx_writer *w, uint8_t v)
{
    if (room(w, 1))
        w->chunk[w->pos++] = v;
}

static void st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void st32(uint8_t *p, uint32_t v)
{
    st16(p, (uint16_t)v);
    st16(p + 2, (uint16_t)(v >> 16));
}

static void st64(uint8_t *p, uint64_t v)
{
    st32(p, (uint32_t)v);
    st32(p + 4, (uint32_t)(v >> 32));
}

static void put16(dh_evtx_writer *w, uint16_t v)
{
    if (room(w, 2)) {
        st16(w->chunk + w->pos, v);
        w->pos += 2;
    }
}

static void put32(dh_evtx_writer *w, uint32_t v)
{
    if (room(w, 4)) {
        st32(w->chunk + w->pos, v);
        w->pos += 4;
    }
}

static void put64(dh_evtx_writer *w, uint64_t v)
{
    if (room(w, 8)) {
        st64(w->chunk + w->pos, v);
        w->pos += 8;
    }
}

static void putn(dh_evtx_writer *w, const void *p, size_t n)
{
    if (n && room(w, n)) {
        memcpy(w->chunk + w->pos, p, n);
        w->pos += (uint32_t)n;
    }
}

/* UTF-8 as UTF-16LE at the current position; returns the code units written. */
static size_t put_utf16(dh_evtx_writer *w, const char *s, size_t n)
{
    if (w->full)
        return 0;
    size_t b = dh_utf8_to_utf16le(w->chunk + w->pos, CHUNK_END - w->pos, s, n);
    if (b == (size_t)-1) {
        w->full = 1;
        return 0;
    }
    w->pos += (uint32_t)b;
    return b / 2;
}

/* ---- names ----------------------------------------------------------------------- */

/* The hash Windows stores with a name (and files it under, modulo 64, in the chunk's
 * string table): h = h * 65599 + unit over the UTF-16 code units, low 16 bits. */
static uint16_t name_hash(const uint8_t *u16, size_t units)
{
    uint32_t h = 0;
    for (size_t i = 0; i < units; i++)
        h = h * 65599u + (uint32_t)(u16[2 * i] | (u16[2 * i + 1] << 8));
    return (uint16_t)h;
}

static void recompute_str_heads(dh_evtx_writer *w)
{
    memset(w->str_heads, 0, sizeof w->str_heads);
    for (uint32_t i = 0; i < w->nnames; i++)
        w->str_heads[w->names[i].hash % 64] = w->names[i].off;
}

/* A name reference at the current position: the offset of the name structure already in
 * this chunk, or the structure itself right after the offset field (first use). */
static void put_name(dh_evtx_writer *w, const char *name)
{
    size_t n = strlen(name);
    for (uint32_t i = 0; i < w->nnames; i++) {
        const cname *c = &w->names[i];
        if (c->text_len == n && !memcmp(w->names_text.data + c->text_off, name, n)) {
            put32(w, c->off);
            return;
        }
    }
    if (w->nnames >= MAX_NAMES) {
        w->full = 1; /* a new chunk has room for it */
        return;
    }
    uint32_t off = w->pos + 4;
    put32(w, off);
    put32(w, 0); /* next in bucket, set below */
    uint32_t hash_at = w->pos;
    put16(w, 0);
    put16(w, 0);
    uint32_t chars_at = w->pos;
    size_t units = put_utf16(w, name, n);
    put16(w, 0);
    if (w->full || units > 0xFFFF)
        return (void)(w->full = 1);
    uint16_t h = name_hash(w->chunk + chars_at, units);
    st16(w->chunk + hash_at, h);
    st16(w->chunk + hash_at + 2, (uint16_t)units);
    st32(w->chunk + off, w->str_heads[h % 64]);
    size_t toff = w->names_text.len;
    if (dh_buf_append(&w->names_text, name, n) != DH_OK) {
        w->io = DH_ERR_NOMEM;
        w->full = 1;
        return;
    }
    w->names[w->nnames++] = (cname){off, h, (uint32_t)toff, (uint32_t)n};
    w->str_heads[h % 64] = off;
}

/* ---- BinXML tokens of template definitions ----------------------------------------- */

static void t_open(dh_evtx_writer *w, const char *name, int dep, int attrs)
{
    if (w->depth >= MAX_DEPTH)
        return (void)(w->full = 1);
    put8(w, attrs ? 0x41 : 0x01);
    put16(w, (uint16_t)dep);
    w->open_size[w->depth] = w->pos;
    put32(w, 0);
    put_name(w, name);
    w->attr_size[w->depth] = w->pos;
    if (attrs)
        put32(w, 0);
    else
        w->attr_size[w->depth] = 0;
    w->depth++;
}

static void t_attr(dh_evtx_writer *w, const char *name, int more)
{
    put8(w, more ? 0x46 : 0x06);
    put_name(w, name);
}

static void t_close_start(dh_evtx_writer *w)
{
    uint32_t a = w->depth > 0 ? w->attr_size[w->depth - 1] : 0;
    if (a && !w->full)
        st32(w->chunk + a, w->pos - (a + 4));
    put8(w, 0x02);
}

static void t_finish(dh_evtx_writer *w, uint8_t token)
{
    if (w->depth <= 0)
        return (void)(w->full = 1);
    w->depth--;
    if (token == 0x03) {
        uint32_t a = w->attr_size[w->depth];
        if (a && !w->full)
            st32(w->chunk + a, w->pos - (a + 4));
    }
    put8(w, token);
    uint32_t s = w->open_size[w->depth];
    if (!w->full)
        st32(w->chunk + s, w->pos - (s + 4));
}

static void t_close_empty(dh_evtx_writer *w)
{
    t_finish(w, 0x03);
}

static void t_end(dh_evtx_writer *w)
{
    t_finish(w, 0x04);
}

static void t_text(dh_evtx_writer *w, const char *s)
{
    put8(w, 0x05);
    put8(w, 0x01);
    uint32_t at = w->pos;
    put16(w, 0);
    size_t units = put_utf16(w, s, strlen(s));
    if (units > 0xFFFF)
        w->full = 1;
    if (!w->full)
        st16(w->chunk + at, (uint16_t)units);
}

static void t_subst(dh_evtx_writer *w, int index, uint8_t type, int optional)
{
    put8(w, optional ? 0x0e : 0x0d);
    put16(w, (uint16_t)index);
    put8(w, type);
}

/* ---- template keys ------------------------------------------------------------------ */

/* A key is the kind byte, then NUL-terminated strings and type bytes, as each kind says. */
static int key_str(dh_buf *k, const char *s)
{
    return dh_buf_append(k, s ? s : "", strlen(s ? s : "") + 1) != DH_OK;
}

static const char *key_next(const uint8_t **p)
{
    const char *s = (const char *)*p;
    *p += strlen(s) + 1;
    return s;
}

static uint64_t fnv(const uint8_t *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static void free_cache(dh_evtx_writer *w)
{
    for (size_t i = 0; i < sizeof w->cache / sizeof w->cache[0]; i++) {
        wtpl *t = w->cache[i];
        while (t) {
            wtpl *n = t->next;
            free(t->key);
            free(t);
            t = n;
        }
        w->cache[i] = NULL;
    }
    w->ncached = 0;
}

static wtpl *template_for(dh_evtx_writer *w, const dh_buf *k)
{
    const uint8_t *kp = (const uint8_t *)k->data;
    uint64_t h = fnv(kp, k->len, 1469598103934665603ULL);
    size_t b = h % (sizeof w->cache / sizeof w->cache[0]);
    for (wtpl *t = w->cache[b]; t; t = t->next)
        if (t->hash == h && t->keylen == k->len && !memcmp(t->key, kp, k->len))
            return t;
    wtpl *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->key = malloc(k->len);
    if (!t->key) {
        free(t);
        return NULL;
    }
    memcpy(t->key, kp, k->len);
    t->keylen = k->len;
    t->hash = h;
    /* GUID: two different hashes of the key; a version-4 style layout. */
    uint64_t h2 = fnv(kp, k->len, 0x84222325cbf29ce4ULL ^ k->len);
    st64(t->guid, h);
    st64(t->guid + 8, h2);
    t->guid[7] = (uint8_t)((t->guid[7] & 0x0F) | 0x40);
    t->guid[8] = (uint8_t)((t->guid[8] & 0x3F) | 0x80);
    t->id = (uint32_t)(t->guid[0] | (t->guid[1] << 8) | (t->guid[2] << 16) |
                       ((uint32_t)t->guid[3] << 24));
    t->next = w->cache[b];
    w->cache[b] = t;
    w->ncached++;
    return t;
}

/* The definition body of a template: fragment header, element tree, end of fragment. */
static void emit_body(dh_evtx_writer *w, const wtpl *t)
{
    const uint8_t *p = t->key;
    uint8_t kind = *p++;
    put8(w, 0x0f), put8(w, 1), put8(w, 1), put8(w, 0);
    w->depth = 0;
    if (kind == TK_SYSTEM_MANIFEST || kind == TK_SYSTEM_CLASSIC) {
        int classic = kind == TK_SYSTEM_CLASSIC;
        const char *computer = key_next(&p);
        const char *prov = classic ? key_next(&p) : NULL, *guid = classic ? key_next(&p) : NULL,
                   *source = classic ? key_next(&p) : NULL, *chan = classic ? key_next(&p) : NULL;
        int data = classic ? 19 : 17;
        t_open(w, "Event", data, 1);
        t_attr(w, "xmlns", 0);
        t_text(w, "http://schemas.microsoft.com/win/2004/08/events/event");
        t_close_start(w);
        t_open(w, "System", -1, 0);
        t_close_start(w);
        t_open(w, "Provider", -1, 1);
        if (classic) {
            t_attr(w, "Name", 1);
            t_text(w, prov);
            t_attr(w, "Guid", 1);
            t_text(w, guid);
            t_attr(w, "EventSourceName", 0);
            t_text(w, source);
        } else {
            t_attr(w, "Name", 1);
            t_subst(w, 14, DH_EVTX_STRING, 1);
            t_attr(w, "Guid", 0);
            t_subst(w, 15, DH_EVTX_GUID, 1);
        }
        t_close_empty(w);
        t_open(w, "EventID", 3, 1);
        t_attr(w, "Qualifiers", 0);
        t_subst(w, 4, DH_EVTX_U16, 1);
        t_close_start(w);
        t_subst(w, 3, DH_EVTX_U16, 1);
        t_end(w);
        static const struct {
            const char *name;
            int index;
            uint8_t type;
        } simple[] = {{"Version", 11, DH_EVTX_U8},
                      {"Level", 0, DH_EVTX_U8},
                      {"Task", 2, DH_EVTX_U16},
                      {"Opcode", 1, DH_EVTX_U8},
                      {"Keywords", 5, DH_EVTX_HEX64}};
        for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
            t_open(w, simple[i].name, simple[i].index, 0);
            t_close_start(w);
            t_subst(w, simple[i].index, simple[i].type, 1);
            t_end(w);
        }
        t_open(w, "TimeCreated", -1, 1);
        t_attr(w, "SystemTime", 0);
        t_subst(w, 6, DH_EVTX_FILETIME, 1);
        t_close_empty(w);
        t_open(w, "EventRecordID", 10, 0);
        t_close_start(w);
        t_subst(w, 10, DH_EVTX_U64, 1);
        t_end(w);
        t_open(w, "Correlation", -1, 1);
        t_attr(w, "ActivityID", 1);
        t_subst(w, 7, DH_EVTX_GUID, 1);
        t_attr(w, "RelatedActivityID", 0);
        t_subst(w, classic ? 18 : 13, DH_EVTX_GUID, 1);
        t_close_empty(w);
        t_open(w, "Execution", -1, 1);
        t_attr(w, "ProcessID", 1);
        t_subst(w, 8, DH_EVTX_U32, 1);
        t_attr(w, "ThreadID", 0);
        t_subst(w, 9, DH_EVTX_U32, 1);
        t_close_empty(w);
        t_open(w, "Channel", classic ? -1 : 16, 0);
        t_close_start(w);
        if (classic)
            t_text(w, chan);
        else
            t_subst(w, 16, DH_EVTX_STRING, 1);
        t_end(w);
        t_open(w, "Computer", -1, 0);
        t_close_start(w);
        t_text(w, computer);
        t_end(w);
        t_open(w, "Security", -1, 1);
        t_attr(w, "UserID", 0);
        t_subst(w, 12, DH_EVTX_SID, 1);
        t_close_empty(w);
        t_end(w); /* System */
        t_subst(w, data, DH_EVTX_BINXML, 1);
        t_end(w); /* Event */
    } else {
        uint32_t n;
        memcpy(&n, p, 4);
        p += 4;
        if (kind == TK_EVENTDATA) {
            t_open(w, "EventData", -1, 0);
            t_close_start(w);
            for (uint32_t i = 0; i < n; i++) {
                uint8_t type = *p++;
                const char *name = key_next(&p);
                t_open(w, "Data", -1, 1);
                t_attr(w, "Name", 0);
                t_text(w, name);
                t_close_start(w);
                t_subst(w, (int)i, type, 0);
                t_end(w);
            }
            t_end(w);
        } else {
            const char *wrap = key_next(&p), *ns = key_next(&p);
            t_open(w, "UserData", -1, 0);
            t_close_start(w);
            t_open(w, wrap, -1, ns[0] != 0);
            if (ns[0]) {
                t_attr(w, "xmlns", 0);
                t_text(w, ns);
            }
            t_close_start(w);
            for (uint32_t i = 0; i < n; i++) {
                uint8_t type = *p++;
                const char *name = key_next(&p);
                t_open(w, name, -1, 0);
                t_close_start(w);
                t_subst(w, (int)i, type, 0);
                t_end(w);
            }
            t_end(w);
            t_end(w);
        }
    }
    put8(w, 0x00);
    if (w->depth != 0)
        w->full = 1;
}

/* The template instance token and, at the template's first use in this chunk, its
 * definition. */
static void put_instance(dh_evtx_writer *w, wtpl *t)
{
    put8(w, 0x0c);
    put8(w, 0x01);
    put32(w, t->id);
    if (t->gen == w->gen) {
        put32(w, t->def_off);
        return;
    }
    if (w->nchunk_tpls >= MAX_CHUNK_TPLS)
        return (void)(w->full = 1);
    uint32_t def = w->pos + 4;
    put32(w, def);
    put32(w, 0); /* next definition in the same bucket: set when the chunk is finished */
    putn(w, t->guid, 16);
    uint32_t size_at = w->pos;
    put32(w, 0);
    emit_body(w, t);
    if (w->full)
        return;
    st32(w->chunk + size_at, w->pos - (size_at + 4));
    t->gen = w->gen;
    t->def_off = def;
    w->chunk_tpls[w->nchunk_tpls++] = t;
}

/* ---- values ------------------------------------------------------------------------- */

static size_t fixed_size(uint8_t t)
{
    switch (t) {
    case DH_EVTX_I8:
    case DH_EVTX_U8:
        return 1;
    case DH_EVTX_I16:
    case DH_EVTX_U16:
        return 2;
    case DH_EVTX_I32:
    case DH_EVTX_U32:
    case DH_EVTX_F32:
    case DH_EVTX_BOOL:
    case DH_EVTX_HEX32:
        return 4;
    case DH_EVTX_I64:
    case DH_EVTX_U64:
    case DH_EVTX_F64:
    case DH_EVTX_FILETIME:
    case DH_EVTX_HEX64:
        return 8;
    case DH_EVTX_GUID:
    case DH_EVTX_SYSTEMTIME:
        return 16;
    default:
        return 0;
    }
}

static int sid_ok(const uint8_t *p, size_t n, size_t *used)
{
    if (n < 8 || p[1] > 15 || 8 + (size_t)p[1] * 4 > n)
        return 0;
    *used = 8 + (size_t)p[1] * 4;
    return 1;
}

/* Is v a value the writer can store (DH_OK) or not (DH_ERR_ARG)? */
static dh_status check_value(const dh_evtx_value *v)
{
    uint8_t base = v->type & 0x7f;
    int array = (v->type & DH_EVTX_ARRAY) != 0;
    if (v->len && !v->data)
        return DH_ERR_ARG;
    if (v->type == DH_EVTX_NULL)
        return v->len ? DH_ERR_ARG : DH_OK;
    if (array && (base == DH_EVTX_NULL || base == DH_EVTX_BINARY))
        return DH_ERR_ARG;
    if (base == DH_EVTX_STRING || base == DH_EVTX_ANSI || base == DH_EVTX_BINARY)
        return DH_OK;
    if (base == DH_EVTX_SIZET)
        return (!array && (v->len == 4 || v->len == 8)) || (array && v->len % 8 == 0) ? DH_OK
                                                                                      : DH_ERR_ARG;
    if (base == DH_EVTX_SID) {
        const uint8_t *p = v->data;
        size_t i = 0, used;
        do {
            if (!sid_ok(p + i, v->len - i, &used))
                return DH_ERR_ARG;
            i += used;
        } while (array && i < v->len);
        return i == v->len ? DH_OK : DH_ERR_ARG;
    }
    size_t sz = fixed_size(base);
    if (!sz)
        return DH_ERR_ARG;
    return (array ? v->len % sz == 0 : v->len == sz) ? DH_OK : DH_ERR_ARG;
}

/* Stores v at the current position; returns its stored length. */
static uint32_t put_value(dh_evtx_writer *w, const dh_evtx_value *v)
{
    uint32_t start = w->pos;
    uint8_t base = v->type & 0x7f;
    if (base == DH_EVTX_STRING) {
        if (!(v->type & DH_EVTX_ARRAY)) {
            put_utf16(w, v->data, v->len);
        } else {
            const char *s = v->data;
            size_t i = 0;
            while (i < v->len) {
                const char *z = memchr(s + i, 0, v->len - i);
                size_t e = z ? (size_t)(z - s) : v->len;
                put_utf16(w, s + i, e - i);
                put16(w, 0);
                i = e + 1;
            }
        }
    } else {
        putn(w, v->data, v->len);
    }
    return w->pos - start;
}

/* Values of one template instance: the count, the descriptors, the data. Each value is
 * written by put_value, except a BINXML slot (index `nested`, -1 for none), written by
 * nested_fn. */
typedef struct slot {
    uint8_t type;
    const dh_evtx_value *v; /* NULL: an empty value of `type` (NULL type) */
} slot;

static void put_nested_data(dh_evtx_writer *w, const dh_evtx_record *r, wtpl *t);

static void put_values(dh_evtx_writer *w, const slot *s, uint32_t n, int nested,
                       const dh_evtx_record *r, wtpl *data_tpl)
{
    put32(w, n);
    uint32_t desc = w->pos;
    for (uint32_t i = 0; i < n; i++)
        put32(w, 0);
    for (uint32_t i = 0; i < n && !w->full; i++) {
        uint32_t len = 0;
        uint8_t type = s[i].v ? s[i].v->type : DH_EVTX_NULL;
        if ((int)i == nested && data_tpl) {
            uint32_t at = w->pos;
            put_nested_data(w, r, data_tpl);
            len = w->pos - at;
            type = DH_EVTX_BINXML;
        } else if (s[i].v && (s[i].v->len || !(type & DH_EVTX_ARRAY))) {
            len = put_value(w, s[i].v);
            /* A size_t is declared SizeT in the template and stored as the hexadecimal
             * integer of its width, as Windows stores it (libevtx reads a bare SizeT value
             * as decimal). */
            if ((type & 0x7f) == DH_EVTX_SIZET)
                type = (uint8_t)((type & DH_EVTX_ARRAY) |
                                 (s[i].v->len == 4 ? DH_EVTX_HEX32 : DH_EVTX_HEX64));
        } else {
            /* An array of no elements is stored as an empty value: readers (libevtx, and
             * Windows) make one empty element of it either way. */
            type = DH_EVTX_NULL;
        }
        if (len > 0xFFFF)
            w->full = 1; /* a descriptor holds 16 bits: the caller gets DH_ERR_LIMIT */
        if (!w->full) {
            st16(w->chunk + desc + 4 * i, (uint16_t)len);
            w->chunk[desc + 4 * i + 2] = type;
            w->chunk[desc + 4 * i + 3] = 0;
        }
    }
}

static void put_nested_data(dh_evtx_writer *w, const dh_evtx_record *r, wtpl *t)
{
    slot s[MAX_ITEMS];
    for (size_t i = 0; i < r->nitems; i++)
        s[i] = (slot){r->items[i].value.type, &r->items[i].value};
    put8(w, 0x0f), put8(w, 1), put8(w, 1), put8(w, 0);
    put_instance(w, t);
    put_values(w, s, (uint32_t)r->nitems, -1, r, NULL);
    put8(w, 0x00);
}

/* ---- records ------------------------------------------------------------------------ */

static int build_data_key(dh_buf *k, const dh_evtx_record *r)
{
    k->len = 0;
    uint8_t kind = r->user_data ? TK_USERDATA : TK_EVENTDATA;
    uint32_t n = (uint32_t)r->nitems;
    if (dh_buf_putc(k, (char)kind) || dh_buf_append(k, &n, 4))
        return -1;
    if (r->user_data && (key_str(k, r->user_data) || key_str(k, r->user_data_ns)))
        return -1;
    for (size_t i = 0; i < r->nitems; i++) {
        /* a NULL value is declared as a string, as an absent optional value is */
        uint8_t t = r->items[i].value.type ? r->items[i].value.type : DH_EVTX_STRING;
        if (dh_buf_putc(k, (char)t) || key_str(k, r->items[i].name))
            return -1;
    }
    return 0;
}

static int build_system_key(dh_buf *k, const dh_evtx_record *r)
{
    k->len = 0;
    if (r->event_source)
        return dh_buf_putc(k, TK_SYSTEM_CLASSIC) || key_str(k, r->computer) ||
                       key_str(k, r->provider) || key_str(k, r->provider_guid) ||
                       key_str(k, r->event_source) || key_str(k, r->channel)
                   ? -1
                   : 0;
    return dh_buf_putc(k, TK_SYSTEM_MANIFEST) || key_str(k, r->computer) ? -1 : 0;
}

static int valid_name(const char *s)
{
    /* element names written into the template: an XML name, as Windows' are */
    if (!s || !*s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return 0;
    return 1;
}

/* Encodes r at the current position. Returns DH_OK, DH_ERR_ARG, or DH_ERR_NOMEM; w->full
 * tells that it did not fit. */
static dh_status encode(dh_evtx_writer *w, const dh_evtx_record *r, uint64_t id, wtpl *st, wtpl *dt)
{
    uint8_t guid[16], act[16], sid[68];
    int guid_len = r->provider_guid ? dh_evtx_value_parse(DH_EVTX_GUID, r->provider_guid,
                                                          strlen(r->provider_guid), guid, 16)
                                    : 0;
    int act_len = r->activity_id ? dh_evtx_value_parse(DH_EVTX_GUID, r->activity_id,
                                                       strlen(r->activity_id), act, 16)
                                 : 0;
    int sid_len = r->user_sid ? dh_evtx_value_parse(DH_EVTX_SID, r->user_sid, strlen(r->user_sid),
                                                    sid, sizeof sid)
                              : 0;
    if (guid_len < 0 || act_len < 0 || sid_len < 0)
        return DH_ERR_ARG;
    /* The System values, stored little-endian. */
    uint8_t level = r->level, opcode = r->opcode, version = r->version;
    uint8_t b_task[2], b_eid[2], b_qual[2], b_kw[8], b_tc[8], b_pid[4], b_tid[4], b_rid[8];
    st16(b_task, r->task), st16(b_eid, r->event_id), st16(b_qual, (uint16_t)r->qualifiers);
    st64(b_kw, r->keywords), st64(b_tc, (uint64_t)r->time), st32(b_pid, r->process_id);
    st32(b_tid, r->thread_id), st64(b_rid, id);
    dh_evtx_value v_level = {DH_EVTX_U8, 1, &level}, v_opcode = {DH_EVTX_U8, 1, &opcode},
                  v_task = {DH_EVTX_U16, 2, b_task}, v_eid = {DH_EVTX_U16, 2, b_eid},
                  v_qual = {DH_EVTX_U16, 2, b_qual}, v_kw = {DH_EVTX_HEX64, 8, b_kw},
                  v_time = {DH_EVTX_FILETIME, 8, b_tc}, v_act = {DH_EVTX_GUID, 16, act},
                  v_pid = {DH_EVTX_U32, 4, b_pid}, v_tid = {DH_EVTX_U32, 4, b_tid},
                  v_rid = {DH_EVTX_U64, 8, b_rid}, v_ver = {DH_EVTX_U8, 1, &version},
                  v_sid = {DH_EVTX_SID, (uint32_t)sid_len, sid},
                  v_prov = {DH_EVTX_STRING, (uint32_t)strlen(r->provider), r->provider},
                  v_guid = {DH_EVTX_GUID, 16, guid},
                  v_chan = {DH_EVTX_STRING, (uint32_t)strlen(r->channel), r->channel};
    int classic = r->event_source != NULL;
    slot s[20];
    uint32_t n = classic ? 20 : 18;
    memset(s, 0, sizeof s);
    s[0].v = &v_level;
    s[1].v = &v_opcode;
    s[2].v = &v_task;
    s[3].v = &v_eid;
    s[4].v = r->qualifiers >= 0 ? &v_qual : NULL;
    s[5].v = &v_kw;
    s[6].v = &v_time;
    s[7].v = act_len ? &v_act : NULL;
    s[8].v = &v_pid;
    s[9].v = &v_tid;
    s[10].v = &v_rid;
    s[11].v = &v_ver;
    s[12].v = sid_len ? &v_sid : NULL;
    if (!classic) {
        s[14].v = &v_prov;
        s[15].v = guid_len ? &v_guid : NULL;
        s[16].v = &v_chan;
    }
    int nested = dt ? (classic ? 19 : 17) : -1;

    uint32_t start = w->pos;
    putn(w, "\x2a\x2a\x00\x00", 4);
    put32(w, 0);
    put64(w, id);
    put64(w, (uint64_t)r->time);
    put8(w, 0x0f), put8(w, 1), put8(w, 1), put8(w, 0);
    put_instance(w, st);
    put_values(w, s, n, nested, r, dt);
    put8(w, 0x00);
    while (!w->full && (w->pos - start + 4) % 8)
        put8(w, 0);
    put32(w, w->pos - start + 4);
    if (!w->full)
        st32(w->chunk + start + 4, w->pos - start);
    return DH_OK;
}

/* ---- chunks and the file ------------------------------------------------------------ */

static dh_status write_at(dh_evtx_writer *w, uint64_t off, const void *p, size_t n)
{
    if (w->mem) {
        if (w->mem->len < off + n) {
            size_t grow = (size_t)(off + n - w->mem->len);
            char *d = dh_buf_reserve(w->mem, grow);
            if (!d)
                return DH_ERR_NOMEM;
            memset(d, 0, grow);
            w->mem->len += grow;
        }
        memcpy(w->mem->data + off, p, n);
        return DH_OK;
    }
    const uint8_t *b = p;
    while (n) {
        ssize_t k = pwrite(w->fd, b, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return DH_ERR_IO;
        b += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return DH_OK;
}

static void reset_chunk(dh_evtx_writer *w)
{
    memset(w->chunk, 0, CHUNK);
    w->pos = CHUNK_HDR;
    w->gen++;
    w->nnames = 0;
    w->names_text.len = 0;
    memset(w->str_heads, 0, sizeof w->str_heads);
    w->nchunk_tpls = 0;
    w->nrec = 0;
    if (w->ncached > MAX_CACHED)
        free_cache(w);
}

/* Finishes the chunk: the template table (and each definition's next-in-bucket link),
 * the string table, the header fields and both CRC32s; writes it. */
static dh_status flush_chunk(dh_evtx_writer *w)
{
    if (!w->nrec)
        return DH_OK;
    uint8_t *c = w->chunk;
    uint32_t tpl_heads[32] = {0};
    for (uint32_t i = 0; i < w->nchunk_tpls; i++) {
        const wtpl *t = w->chunk_tpls[i];
        st32(c + t->def_off, tpl_heads[t->id % 32]);
        tpl_heads[t->id % 32] = t->def_off;
    }
    memcpy(c, "ElfChnk\0", 8);
    st64(c + 8, w->first_id);
    st64(c + 16, w->last_id);
    st64(c + 24, w->first_id);
    st64(c + 32, w->last_id);
    st32(c + 40, 128);
    st32(c + 44, w->last_rec_off);
    st32(c + 48, w->pos);
    st32(c + 52, (uint32_t)crc32(0, c + CHUNK_HDR, w->pos - CHUNK_HDR));
    st32(c + 120, 1);
    for (int i = 0; i < 64; i++)
        st32(c + 128 + 4 * i, w->str_heads[i]);
    for (int i = 0; i < 32; i++)
        st32(c + 384 + 4 * i, tpl_heads[i]);
    uint32_t crc = (uint32_t)crc32(0, c, 120);
    crc = (uint32_t)crc32(crc, c + 128, CHUNK_HDR - 128);
    st32(c + 124, crc);
    dh_status st = write_at(w, FILE_HDR + w->nchunks * (uint64_t)CHUNK, c, CHUNK);
    if (st)
        return st;
    w->nchunks++;
    w->first_id_of_last = w->first_id;
    reset_chunk(w);
    return DH_OK;
}

static dh_status write_header(dh_evtx_writer *w)
{
    uint8_t h[FILE_HDR];
    memset(h, 0, sizeof h);
    uint64_t nchunks = w->nchunks, next_id = w->next_id;
    uint32_t flags = 0;
    if (w->o.dirty) {
        flags |= 1;
        if (nchunks > 1) {
            nchunks--; /* the header still describes the log as it was a chunk ago */
            next_id = w->first_id_of_last;
        }
    }
    memcpy(h, "ElfFile\0", 8);
    st64(h + 8, 0);
    st64(h + 16, nchunks ? nchunks - 1 : 0);
    st64(h + 24, next_id);
    st32(h + 32, 128);
    st16(h + 36, 1);
    st16(h + 38, 3);
    st16(h + 40, FILE_HDR);
    st16(h + 42, (uint16_t)nchunks);
    st32(h + 120, flags);
    st32(h + 124, (uint32_t)crc32(0, h, 120));
    return write_at(w, 0, h, sizeof h);
}

/* ---- the public calls --------------------------------------------------------------- */

static dh_status writer_new(const dh_evtx_writer_opts *o, dh_evtx_writer **out)
{
    dh_evtx_writer *w = calloc(1, sizeof *w);
    if (!w)
        return DH_ERR_NOMEM;
    w->chunk = calloc(1, CHUNK);
    if (!w->chunk) {
        free(w);
        return DH_ERR_NOMEM;
    }
    if (o)
        w->o = *o;
    w->fd = -1;
    w->next_id = w->o.first_record_id ? w->o.first_record_id : 1;
    dh_buf_init(&w->names_text, 1 << 20);
    dh_buf_init(&w->key, 1 << 20);
    reset_chunk(w);
    *out = w;
    return DH_OK;
}

dh_status dh_evtx_writer_open(const char *path, const dh_evtx_writer_opts *o, dh_evtx_writer **out)
{
    struct stat sb;
    *out = NULL;
    /* A terminal, a pipe or a device cannot take the header written last at offset 0. */
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return DH_ERR_ARG;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return DH_ERR_IO;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return DH_ERR_ARG;
    }
    dh_status st = writer_new(o, out);
    if (st) {
        close(fd);
        return st;
    }
    (*out)->fd = fd;
    return DH_OK;
}

dh_status dh_evtx_writer_new_mem(dh_buf *mem, const dh_evtx_writer_opts *o, dh_evtx_writer **out)
{
    dh_status st = writer_new(o, out);
    if (!st)
        (*out)->mem = mem;
    return st;
}

uint64_t dh_evtx_writer_records(const dh_evtx_writer *w)
{
    return w->records;
}

uint64_t dh_evtx_writer_chunks(const dh_evtx_writer *w)
{
    return w->nchunks + (w->nrec ? 1 : 0);
}

uint64_t dh_evtx_writer_bytes(const dh_evtx_writer *w)
{
    return FILE_HDR + dh_evtx_writer_chunks(w) * (uint64_t)CHUNK;
}

/* How many data items value v reads back as: one, or one per element of an array (an
 * empty array still makes one empty item). A string array is given as UTF-8 pieces and
 * stored as as many UTF-16 ones. */
static size_t value_items(const dh_evtx_value *v)
{
    if (!(v->type & DH_EVTX_ARRAY))
        return 1;
    uint8_t t = (v->type & 0x7f) == DH_EVTX_STRING ? DH_EVTX_ANSI | DH_EVTX_ARRAY : v->type;
    size_t n = evtx_array_count(t, v->data, v->len);
    return n ? n : 1;
}

static dh_status check_record(const dh_evtx_record *r)
{
    if (!r->provider || !r->channel || !r->computer)
        return DH_ERR_ARG;
    if (r->event_source && !r->provider_guid)
        return DH_ERR_ARG;
    if (r->nitems > MAX_ITEMS)
        return DH_ERR_LIMIT;
    if (r->nitems && !r->items)
        return DH_ERR_ARG;
    if (r->user_data && !valid_name(r->user_data))
        return DH_ERR_ARG;
    size_t nread = 0;
    for (size_t i = 0; i < r->nitems; i++) {
        const char *name = r->items[i].name;
        if (!name || (r->user_data && !valid_name(name)))
            return DH_ERR_ARG;
        if (check_value(&r->items[i].value))
            return DH_ERR_ARG;
        nread += value_items(&r->items[i].value);
    }
    return nread > MAX_ITEMS ? DH_ERR_LIMIT : DH_OK;
}

dh_status dh_evtx_writer_add(dh_evtx_writer *w, const dh_evtx_record *r, uint64_t *record_id)
{
    if (w->io)
        return w->io;
    dh_status st = check_record(r);
    if (st)
        return st;
    if (build_system_key(&w->key, r))
        return DH_ERR_NOMEM;
    wtpl *stpl = template_for(w, &w->key);
    wtpl *dtpl = NULL;
    if (stpl) {
        if (build_data_key(&w->key, r))
            return DH_ERR_NOMEM;
        dtpl = template_for(w, &w->key);
        if (!dtpl)
            return DH_ERR_NOMEM;
    }
    if (!stpl)
        return DH_ERR_NOMEM;
    uint64_t id = r->record_id ? r->record_id : w->next_id;
    for (int attempt = 0; attempt < 2; attempt++) {
        uint32_t pos = w->pos, nnames = w->nnames, ntpls = w->nchunk_tpls;
        size_t ntext = w->names_text.len;
        w->full = 0;
        w->depth = 0;
        st = encode(w, r, id, stpl, dtpl);
        if (!st && !w->full) {
            if (!w->nrec)
                w->first_id = id;
            w->last_id = id;
            w->last_rec_off = pos;
            w->nrec++;
            if (id >= w->next_id)
                w->next_id = id + 1;
            w->records++;
            if (record_id)
                *record_id = id;
            return w->io;
        }
        /* Roll back: what this record added to the chunk and its tables. */
        for (uint32_t i = ntpls; i < w->nchunk_tpls; i++)
            w->chunk_tpls[i]->gen = 0;
        w->nchunk_tpls = ntpls;
        w->nnames = nnames;
        w->names_text.len = ntext;
        recompute_str_heads(w);
        memset(w->chunk + pos, 0, CHUNK - pos);
        w->pos = pos;
        w->full = 0;
        if (st)
            return st;
        if (attempt == 0 && w->nrec) {
            st = flush_chunk(w);
            if (st)
                return w->io = st;
        } else {
            return DH_ERR_LIMIT;
        }
    }
    return DH_ERR_LIMIT;
}

dh_status dh_evtx_writer_close(dh_evtx_writer *w)
{
    if (!w)
        return DH_OK;
    dh_status st = w->io;
    if (!st)
        st = flush_chunk(w);
    if (!st)
        st = write_header(w);
    if (w->fd >= 0 && close(w->fd) != 0 && !st)
        st = DH_ERR_IO;
    free_cache(w);
    dh_buf_free(&w->names_text);
    dh_buf_free(&w->key);
    free(w->chunk);
    free(w);
    return st;
}

/* ---- text to values ----------------------------------------------------------------- */

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static int parse_udec(const char *s, size_t n, uint64_t max, uint64_t *v)
{
    uint64_t r = 0;
    if (!n || n > 20)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (r > (max - d) / 10)
            return -1;
        r = r * 10 + d;
    }
    *v = r;
    return 0;
}

static int parse_hex(const char *s, size_t n, uint64_t max, uint64_t *v)
{
    if (n < 3 || s[0] != '0' || s[1] != 'x' || n > 18)
        return -1;
    uint64_t r = 0;
    for (size_t i = 2; i < n; i++) {
        int d = hexval(s[i]);
        if (d < 0 || r > (max >> 4))
            return -1;
        r = (r << 4) | (unsigned)d;
    }
    if (r > max)
        return -1;
    *v = r;
    return 0;
}

static void put_le(uint8_t *b, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

/* FILETIME ticks to the broken-down UTC date (days from civil, inverted). */
static void filetime_fields(int64_t ft, uint16_t f[8])
{
    int64_t secs = ft / 10000000, days = secs / 86400, rem = secs % 86400;
    int64_t z = days - 134774 + 719468; /* days since 0000-03-01 */
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    f[0] = (uint16_t)y;
    f[1] = (uint16_t)m;
    f[2] = (uint16_t)((days + 1) % 7); /* 1601-01-01 was a Monday */
    f[3] = (uint16_t)d;
    f[4] = (uint16_t)(rem / 3600);
    f[5] = (uint16_t)(rem / 60 % 60);
    f[6] = (uint16_t)(rem % 60);
    f[7] = (uint16_t)(ft / 10000 % 1000);
}

static int parse_guid(const char *s, size_t n, uint8_t *b)
{
    static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    if (n != 38 || s[0] != '{' || s[37] != '}')
        return -1;
    size_t k = 1;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            if (s[k] != '-')
                return -1;
            k++;
        }
        int hi = hexval(s[k]), lo = hexval(s[k + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        b[order[i]] = (uint8_t)(hi * 16 + lo);
        k += 2;
    }
    return 16;
}

static int parse_sid(const char *s, size_t n, uint8_t *b, size_t cap)
{
    /* S-R-A-S1-S2...: revision, 48-bit authority (decimal below 2^32), sub-authorities */
    if (n < 5 || s[0] != 'S' || s[1] != '-')
        return -1;
    uint64_t part[17];
    size_t np = 0, i = 2;
    while (i <= n && np < 17) {
        size_t j = i;
        while (j < n && s[j] != '-')
            j++;
        if (parse_udec(s + i, j - i,
                       np == 1   ? 0xFFFFFFFFULL
                       : np == 0 ? 255
                                 : 0xFFFFFFFFULL,
                       &part[np]))
            return -1;
        np++;
        i = j + 1;
        if (j == n)
            break;
    }
    if (np < 2 || np > 17 || i <= n)
        return -1;
    size_t len = 8 + (np - 2) * 4;
    if (len > cap)
        return -1;
    b[0] = (uint8_t)part[0];
    b[1] = (uint8_t)(np - 2);
    for (int k = 0; k < 6; k++)
        b[2 + k] = (uint8_t)(part[1] >> (8 * (5 - k)));
    for (size_t k = 2; k < np; k++)
        put_le(b + 8 + (k - 2) * 4, part[k], 4);
    return (int)len;
}

static int parse_raw(uint8_t type, const char *s, size_t n, uint8_t *b, size_t cap)
{
    uint64_t v;
    switch (type) {
    case DH_EVTX_STRING:
        if (n > cap)
            return -1;
        memcpy(b, s, n);
        return (int)n;
    case DH_EVTX_ANSI:
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] >= 0x80)
                return -1;
        if (n > cap)
            return -1;
        memcpy(b, s, n);
        return (int)n;
    case DH_EVTX_U8:
    case DH_EVTX_U16:
    case DH_EVTX_U32:
    case DH_EVTX_U64: {
        size_t sz = fixed_size(type);
        uint64_t max = sz == 8 ? UINT64_MAX : (1ULL << (8 * sz)) - 1;
        if (sz > cap || parse_udec(s, n, max, &v))
            return -1;
        put_le(b, v, sz);
        return (int)sz;
    }
    case DH_EVTX_I8:
    case DH_EVTX_I16:
    case DH_EVTX_I32:
    case DH_EVTX_I64: {
        size_t sz = fixed_size(type);
        int neg = n && s[0] == '-';
        uint64_t max = (1ULL << (8 * sz - 1)) - (neg ? 0 : 1);
        if (sz > cap || parse_udec(s + neg, n - (size_t)neg, max, &v))
            return -1;
        put_le(b, neg ? (uint64_t)0 - v : v, sz);
        return (int)sz;
    }
    case DH_EVTX_HEX32:
    case DH_EVTX_HEX64:
    case DH_EVTX_SIZET: {
        size_t sz = type == DH_EVTX_HEX32 ? 4 : 8;
        if (sz > cap || parse_hex(s, n, sz == 4 ? 0xFFFFFFFFULL : UINT64_MAX, &v))
            return -1;
        put_le(b, v, sz);
        return (int)sz;
    }
    case DH_EVTX_BOOL:
        if (cap < 4)
            return -1;
        if (n == 4 && !memcmp(s, "true", 4))
            put_le(b, 1, 4);
        else if (n == 5 && !memcmp(s, "false", 5))
            put_le(b, 0, 4);
        else
            return -1;
        return 4;
    case DH_EVTX_GUID:
        return cap < 16 ? -1 : parse_guid(s, n, b);
    case DH_EVTX_SID:
        return parse_sid(s, n, b, cap);
    case DH_EVTX_FILETIME:
    case DH_EVTX_SYSTEMTIME: {
        int64_t ft;
        if (dh_time_parse_iso(s, n, &ft) || ft < 0)
            return -1;
        if (type == DH_EVTX_FILETIME) {
            if (cap < 8)
                return -1;
            put_le(b, (uint64_t)ft, 8);
            return 8;
        }
        uint16_t f[8];
        if (cap < 16)
            return -1;
        filetime_fields(ft, f);
        for (int i = 0; i < 8; i++)
            put_le(b + 2 * i, f[i], 2);
        return 16;
    }
    case DH_EVTX_BINARY:
        if (n % 2 || n / 2 > cap)
            return -1;
        for (size_t i = 0; i < n; i += 2) {
            int hi = hexval(s[i]), lo = hexval(s[i + 1]);
            if (hi < 0 || lo < 0)
                return -1;
            b[i / 2] = (uint8_t)(hi * 16 + lo);
        }
        return (int)(n / 2);
    case DH_EVTX_F32:
    case DH_EVTX_F64: {
        char tmp[64];
        if (!n || n >= sizeof tmp || cap < 8)
            return -1;
        memcpy(tmp, s, n);
        tmp[n] = 0;
        char *end;
        double d = strtod(tmp, &end);
        if (*end)
            return -1;
        /* a finite double beyond float's range has no Real32 (converting it is undefined) */
        if (type == DH_EVTX_F32 && d == d && (d > FLT_MAX || d < -FLT_MAX) && !isinf(d))
            return -1;
        if (type == DH_EVTX_F32) {
            float f = (float)d;
            uint32_t u;
            memcpy(&u, &f, 4);
            put_le(b, u, 4);
            return 4;
        }
        uint64_t u;
        memcpy(&u, &d, 8);
        put_le(b, u, 8);
        return 8;
    }
    default:
        return -1;
    }
}

int dh_evtx_value_parse(uint8_t type, const char *text, size_t n, uint8_t *buf, size_t cap)
{
    int len = parse_raw(type, text, n, buf, cap);
    if (len < 0 || type == DH_EVTX_STRING)
        return len;
    /* Canonical only: the value must render back to exactly this text. */
    char tmp[256];
    dh_buf r = {.data = tmp, .len = 0, .cap = sizeof tmp, .limit = sizeof tmp};
    if (evtx_value_text(&r, type, buf, (size_t)len) != DH_OK || r.len != n ||
        memcmp(r.data, text, n) != 0)
        return -1;
    return len;
}
