/* Accessors of the normalized event and the kind/field name tables. */
#include <string.h>

#include "input/event_impl.h"

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

int dh_event_field(const dh_event *ev, dh_field id, dh_str *out)
{
    if ((unsigned)id >= DH_FIELD_COUNT || !(ev->present & (1ULL << id)))
        return 0;
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

int dh_field_from_name(const char *name, size_t len)
{
    /* 54 names, called once per distinct template name (results are cached by the
     * decoder), so a linear scan with a length check is enough. */
    for (int i = 0; i < DH_FIELD_COUNT; i++) {
        const char *f = field_names[i];
        if (strlen(f) == len && memcmp(f, name, len) == 0)
            return i;
    }
    return -1;
}
