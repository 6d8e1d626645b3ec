/* The event builder's owned part (event/builder.h): fields added by name and value are
 * copied into one growing text buffer and referred to by offset, so the buffer may move
 * while they are added; the slices are made once, when the event is asked for. */
#include "event/builder.h"

#include <stdlib.h>

#define BUILDER_TEXT_CAP   (64u << 20)
#define BUILDER_MAX_FIELDS 65536

void dh_event_builder_init(dh_event_builder *b)
{
    memset(b, 0, sizeof *b);
    dh_event_begin(&b->ev, NULL);
    dh_buf_init(&b->text, BUILDER_TEXT_CAP);
}

void dh_event_builder_free(dh_event_builder *b)
{
    if (!b)
        return;
    dh_buf_free(&b->text);
    free(b->kv);
    free(b->off);
    memset(b, 0, sizeof *b);
}

void dh_event_builder_clear(dh_event_builder *b)
{
    dh_event_begin(&b->ev, NULL);
    b->text.len = 0;
    b->n = 0;
}

dh_event *dh_event_builder_ev(dh_event_builder *b)
{
    return &b->ev;
}

static dh_status grow(dh_event_builder *b)
{
    if (b->cap >= BUILDER_MAX_FIELDS)
        return DH_ERR_LIMIT;
    size_t cap = b->cap ? b->cap * 2 : 16;
    dh_kv *kv = realloc(b->kv, cap * sizeof *kv);
    if (!kv)
        return DH_ERR_NOMEM;
    b->kv = kv;
    uint32_t *off = realloc(b->off, cap * 4 * sizeof *off);
    if (!off)
        return DH_ERR_NOMEM;
    b->off = off;
    b->cap = cap;
    return DH_OK;
}

dh_status dh_event_builder_add(dh_event_builder *b, dh_str name, dh_str value)
{
    if (b->n == b->cap) {
        dh_status st = grow(b);
        if (st != DH_OK)
            return st;
    }
    size_t at = b->text.len;
    if (name.len + value.len > BUILDER_TEXT_CAP - at)
        return DH_ERR_LIMIT;
    if ((name.len && dh_buf_append(&b->text, name.ptr, name.len) != DH_OK) ||
        (value.len && dh_buf_append(&b->text, value.ptr, value.len) != DH_OK)) {
        b->text.len = at;
        return DH_ERR_NOMEM;
    }
    uint32_t *o = &b->off[b->n * 4];
    o[0] = (uint32_t)at;
    o[1] = (uint32_t)name.len;
    o[2] = (uint32_t)(at + name.len);
    o[3] = (uint32_t)value.len;
    b->n++;
    return DH_OK;
}

dh_event *dh_event_builder_event(dh_event_builder *b)
{
    const char *t = b->text.data ? b->text.data : "";
    for (size_t i = 0; i < b->n; i++) {
        const uint32_t *o = &b->off[i * 4];
        b->kv[i].name = (dh_str){t + o[0], o[1]};
        b->kv[i].value = (dh_str){t + o[2], o[3]};
    }
    dh_event_set_data(&b->ev, b->kv, b->n);
    return &b->ev;
}
