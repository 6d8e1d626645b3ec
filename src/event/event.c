/* Accessors of the normalized event and the kind/field name tables. */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "event/event_impl.h"
#include "event/mappings/system.h"

static const char *const kind_names[] = {
#define DH_X(id, name) name,
    DH_KIND_LIST(DH_X)
#undef DH_X
};

static const char *const field_names[] = {
#define DH_X(id, name) name,
    DH_FIELD_LIST(DH_X)
#undef DH_X
};
static const unsigned char field_lens[] = {
#define DH_X(id, name) sizeof(name) - 1,
    DH_FIELD_LIST(DH_X)
#undef DH_X
};

dh_kind dh_event_kind(const dh_event *ev)
{
    return ev->kind;
}
int64_t dh_event_time(const dh_event *ev)
{
    return ev->time;
}
uint32_t dh_event_id(const dh_event *ev)
{
    return ev->event_id;
}
uint64_t dh_event_record_id(const dh_event *ev)
{
    return ev->record_id;
}
dh_str dh_event_host(const dh_event *ev)
{
    return ev->host;
}
dh_str dh_event_channel(const dh_event *ev)
{
    return ev->channel;
}
dh_str dh_event_provider(const dh_event *ev)
{
    return ev->provider;
}
dh_str dh_event_xml(const dh_event *ev)
{
    return ev->xml;
}
const char *dh_event_file(const dh_event *ev)
{
    return ev->file;
}
int64_t dh_event_chunk(const dh_event *ev)
{
    return ev->chunk;
}
uint64_t dh_event_offset(const dh_event *ev)
{
    return ev->offset;
}

/* A field of an owned copy, from its packed block: the entries of the present fields in
 * id order, (length in the log, kept length, bytes) each. */
static void copy_field(const dh_event *ev, dh_field id, dh_str *out)
{
    const char *p = ev->copy_fields;
    uint64_t before = ev->present & ((1ULL << id) - 1);
    for (int k = __builtin_popcountll(before); k > 0; k--) {
        uint32_t l;
        memcpy(&l, p + 4, 4);
        p += 8 + l;
    }
    uint32_t l;
    memcpy(&l, p + 4, 4);
    *out = (dh_str){p + 8, l};
}

int dh_event_field(const dh_event *ev, dh_field id, dh_str *out)
{
    if ((unsigned)id >= DH_FIELD_COUNT || !(ev->present & (1ULL << id)))
        return 0;
    if (ev->copy_fields)
        copy_field(ev, id, out);
    else
        *out = ev->fields[id];
    return 1;
}

size_t dh_event_data_count(const dh_event *ev)
{
    return ev->ndata;
}

const dh_kv *dh_event_data(const dh_event *ev, size_t *count)
{
    *count = ev->ndata;
    return ev->data;
}

int dh_event_data_at(const dh_event *ev, size_t i, dh_str *name, dh_str *value)
{
    if (i >= ev->ndata)
        return 0;
    *name = ev->data[i].name;
    *value = ev->data[i].value;
    return 1;
}

int dh_event_get(const dh_event *ev, const char *name, size_t len, dh_str *out)
{
    int id = dh_field_from_name(name, len);
    if (id >= 0 && dh_event_field(ev, (dh_field)id, out))
        return 1;
    for (size_t i = 0; i < ev->ndata; i++) {
        if (ev->data[i].name.len == len && memcmp(ev->data[i].name.ptr, name, len) == 0) {
            *out = ev->data[i].value;
            return 1;
        }
    }
    /* Windows Defender writes its data names with spaces ("Threat Name"); rules and
     * queries name them without ("ThreatName"). */
    for (size_t i = 0; i < ev->ndata; i++) {
        dh_str n = ev->data[i].name;
        if (n.len <= len || !memchr(n.ptr, ' ', n.len))
            continue;
        size_t k = 0, j = 0;
        for (; j < n.len && k <= len; j++)
            if (n.ptr[j] != ' ' && (k == len || n.ptr[j] != name[k++]))
                break;
        if (j == n.len && k == len) {
            *out = ev->data[i].value;
            return 1;
        }
    }
    return dh_event_system_get(ev, name, len, out);
}

const dh_kv *dh_event_system(const dh_event *ev, size_t *count)
{
    *count = ev->nsys;
    return ev->sys;
}

int dh_system_name(const char *name, size_t len)
{
    return dh_sys_canonical(name, len) != NULL;
}

int dh_event_system_get(const dh_event *ev, const char *name, size_t len, dh_str *out)
{
    if (!ev->nsys)
        return 0;
    const char *c = dh_sys_canonical(name, len);
    if (c) { /* another spelling: look for the property under its own name */
        name = c;
        len = strlen(c);
    }
    for (size_t i = 0; i < ev->nsys; i++)
        if (ev->sys[i].name.len == len && !strncasecmp(ev->sys[i].name.ptr, name, len)) {
            *out = ev->sys[i].value;
            return 1;
        }
    return 0;
}

const char *dh_kind_name(dh_kind kind)
{
    return (unsigned)kind < DH_KIND_COUNT ? kind_names[kind] : "other";
}

const char *dh_field_name(dh_field id)
{
    return (unsigned)id < DH_FIELD_COUNT ? field_names[id] : "";
}

/* A name's bucket: its length and first and last bytes. */
static unsigned name_bucket(const char *name, size_t len)
{
    return ((unsigned)len * 31u + (unsigned char)name[0] * 7u + (unsigned char)name[len - 1]) &
           255u;
}

/* The JSON and XML readers ask once per member (the EVTX decoder caches the answer per
 * template): a 256-bucket table built once leaves at most a few names to compare. Built
 * under pthread_once: readers on several threads ask at the same time. */
static int8_t field_first[256], field_next[DH_FIELD_COUNT];
static pthread_once_t field_table_once = PTHREAD_ONCE_INIT;

static void build_field_table(void)
{
    memset(field_first, -1, sizeof field_first);
    for (int i = DH_FIELD_COUNT - 1; i >= 0; i--) {
        unsigned b = name_bucket(field_names[i], field_lens[i]);
        field_next[i] = field_first[b];
        field_first[b] = (int8_t)i;
    }
}

int dh_field_from_name(const char *name, size_t len)
{
    if (len == 0)
        return -1;
    pthread_once(&field_table_once, build_field_table);
    for (int i = field_first[name_bucket(name, len)]; i >= 0; i = field_next[i])
        if (field_lens[i] == len && memcmp(field_names[i], name, len) == 0)
            return i;
    return -1;
}

/* ---- owned copies ------------------------------------------------------------------
 * A packed event is one block: the header, then (length in the log, kept length, bytes)
 * for the envelope strings, the present taxonomy fields, and the name and value of each
 * data item. Only what the correlator needs to keep is copied; the layout never leaves
 * the process. */

typedef struct pack_hdr {
    uint32_t magic, total;
    int32_t kind;
    uint32_t event_id;
    uint64_t record_id;
    int64_t time;
    int64_t chunk;
    uint64_t offset;
    uint64_t present;
    uint32_t ndata;
    uint32_t nstr; /* envelope strings: file, host, channel, provider */
} pack_hdr;

#define PACK_MAGIC 0x64687066u

/* A value: its length in the log, the length kept (cut at DH_VALUE_CAP), the bytes. `full`
 * is the length in the log (an owned copy may hold less than it had). */
static int put_value(dh_buf *b, const char *p, size_t n, size_t full)
{
    if (full < n)
        full = n;
    uint32_t l[2] = {(uint32_t)(full > UINT32_MAX ? UINT32_MAX : full),
                     (uint32_t)(n > DH_VALUE_CAP ? DH_VALUE_CAP : n)};
    return dh_buf_append(b, l, 8) || (l[1] && dh_buf_append(b, p, l[1]));
}

/* A value of ev, with its length in the log when ev is an owned copy that cut it. */
static int put_str(dh_buf *b, const dh_event *ev, dh_str v)
{
    return put_value(b, v.ptr, v.len, dh_event_value_length(ev, v));
}

/* Is data item i kept: all (names NULL), or only those named (case-insensitively, as the
 * matcher compares original names)? */
static int keep_item(const dh_event *ev, size_t i, const char *const *names, size_t nnames)
{
    if (!names)
        return 1;
    for (size_t k = 0; k < nnames; k++)
        if (strlen(names[k]) == ev->data[i].name.len &&
            !strncasecmp(names[k], ev->data[i].name.ptr, ev->data[i].name.len))
            return 1;
    return 0;
}

static dh_status pack(const dh_event *ev, int with_data, const char *const *names, size_t nnames,
                      dh_buf *out)
{
    size_t start = out->len;
    size_t ndata = 0;
    for (size_t i = 0; with_data && i < ev->ndata; i++)
        ndata += (size_t)keep_item(ev, i, names, nnames);
    pack_hdr h = {PACK_MAGIC, 0,         ev->kind,   ev->event_id, ev->record_id,
                  ev->time,   ev->chunk, ev->offset, ev->present,  (uint32_t)ndata,
                  4};
    if (dh_buf_append(out, &h, sizeof h))
        return DH_ERR_NOMEM;
    /* Through the accessors: ev may be an owned copy (no fields array, file not
     * NUL-terminated), which is packed again as it stands. */
    if (put_str(out, ev, dh_event_file_str(ev)) || put_str(out, ev, ev->host) ||
        put_str(out, ev, ev->channel) || put_str(out, ev, ev->provider))
        return DH_ERR_NOMEM;
    for (int i = 0; i < DH_FIELD_COUNT; i++) {
        dh_str v;
        if (dh_event_field(ev, (dh_field)i, &v) && put_str(out, ev, v))
            return DH_ERR_NOMEM;
    }
    for (size_t i = 0; with_data && i < ev->ndata; i++)
        if (keep_item(ev, i, names, nnames) &&
            (put_str(out, ev, ev->data[i].name) || put_str(out, ev, ev->data[i].value)))
            return DH_ERR_NOMEM;
    uint32_t total = (uint32_t)(out->len - start);
    memcpy(out->data + start + 4, &total, 4);
    return DH_OK;
}

dh_status dh_event_pack(const dh_event *ev, int with_data, dh_buf *out)
{
    return pack(ev, with_data, NULL, 0, out);
}

dh_status dh_event_pack_named(const dh_event *ev, const char *const *names, size_t nnames,
                              dh_buf *out)
{
    static const char *const none[1] = {""};
    return pack(ev, 1, names ? names : none, names ? nnames : 0, out);
}

static int get_bytes(const char **p, const char *end, dh_str *s)
{
    uint32_t l;
    if (end - *p < 8)
        return -1;
    memcpy(&l, *p + 4, 4);
    *p += 8;
    if ((size_t)(end - *p) < l)
        return -1;
    s->ptr = *p;
    s->len = l;
    *p += l;
    return 0;
}

dh_event *dh_event_unpack(const void *data, size_t len, size_t *used)
{
    pack_hdr h;
    if (len < sizeof h)
        return NULL;
    memcpy(&h, data, sizeof h);
    if (h.magic != PACK_MAGIC || h.total > len || h.total < sizeof h || h.ndata > (1u << 20))
        return NULL;
    /* One allocation: the event without its fields array (a copy reads its fields from the
     * packed bytes: 900 bytes less for each event the correlator holds), its data array,
     * then a copy of the packed bytes that the strings point into. */
    size_t head = offsetof(dh_event, fields);
    size_t need = head + h.ndata * sizeof(dh_kv) + h.total;
    char *blk = malloc(need);
    if (!blk)
        return NULL;
    dh_event *ev = (dh_event *)(void *)blk;
    memset(ev, 0, head);
    dh_kv *kv = (dh_kv *)(void *)(blk + head);
    char *copy = blk + head + h.ndata * sizeof(dh_kv);
    memcpy(copy, data, h.total);
    const char *p = copy + sizeof h, *end = copy + h.total;
    dh_str file;
    if (get_bytes(&p, end, &file) || get_bytes(&p, end, &ev->host) ||
        get_bytes(&p, end, &ev->channel) || get_bytes(&p, end, &ev->provider))
        goto bad;
    ev->kind = (dh_kind)h.kind;
    ev->event_id = h.event_id;
    ev->record_id = h.record_id;
    ev->time = h.time;
    ev->chunk = h.chunk;
    ev->offset = h.offset;
    ev->present = h.present;
    ev->copy_fields = p;
    for (int i = 0; i < DH_FIELD_COUNT; i++) {
        dh_str skip;
        if ((h.present & (1ULL << i)) && get_bytes(&p, end, &skip))
            goto bad;
    }
    for (uint32_t i = 0; i < h.ndata; i++)
        if (get_bytes(&p, end, &kv[i].name) || get_bytes(&p, end, &kv[i].value))
            goto bad;
    ev->data = kv;
    ev->ndata = h.ndata;
    /* The copy's file name is not NUL-terminated: read it with dh_event_file_str. */
    ev->file = NULL;
    ev->file_str = file;
    ev->copy = copy;
    ev->copy_len = h.total;
    *used = h.total;
    return ev;
bad:
    free(blk);
    return NULL;
}

void dh_event_free(dh_event *ev)
{
    free(ev);
}

size_t dh_event_value_length(const dh_event *ev, dh_str v)
{
    /* only a value an owned copy cut can be longer than it is here */
    if (!ev->copy || v.len != DH_VALUE_CAP || v.ptr < ev->copy + 8 + sizeof(pack_hdr) ||
        v.ptr > ev->copy + ev->copy_len)
        return v.len;
    uint32_t l;
    memcpy(&l, v.ptr - 8, 4);
    return l > v.len ? l : v.len;
}

dh_str dh_event_file_str(const dh_event *ev)
{
    if (ev->file)
        return (dh_str){ev->file, strlen(ev->file)};
    return ev->file_str;
}
