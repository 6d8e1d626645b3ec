/* The 'D' record of the engine's private byte format (record.h); the 'C' record is
 * written by the worker and read by the delivery, around dh_correlator_pack. */
#include "engine/record.h"

#include <string.h>

#include "core/buf.h"

static dh_status put_u32(dh_buf *b, uint32_t v)
{
    return dh_buf_append(b, &v, 4);
}

static dh_status put_str(dh_buf *b, const char *s, size_t n)
{
    dh_status st = put_u32(b, (uint32_t)n);
    return st ? st : dh_buf_append(b, s, n);
}

dh_status dh_rec_put_detection(dh_buf *b, uint32_t rule, const dh_event *ev, const char *fields,
                               size_t fields_len)
{
    dh_str host = dh_event_host(ev), ch = dh_event_channel(ev), file = dh_event_file_str(ev);
    const char *kind = dh_kind_name(dh_event_kind(ev));
    int64_t t = dh_event_time(ev);
    uint64_t rid = dh_event_record_id(ev);
    dh_status st = dh_buf_putc(b, 'D');
    if (!st)
        st = put_u32(b, rule);
    if (!st)
        st = dh_buf_append(b, &t, 8);
    if (!st)
        st = dh_buf_append(b, &rid, 8);
    if (!st)
        st = put_u32(b, dh_event_id(ev));
    if (!st)
        st = put_str(b, host.ptr, host.len);
    if (!st)
        st = put_str(b, file.ptr, file.len);
    if (!st)
        st = put_str(b, ch.ptr, ch.len);
    if (!st)
        st = put_str(b, kind, strlen(kind));
    if (!st)
        st = put_str(b, fields ? fields : "", fields_len);
    return st;
}

static int get_str(const char **p, const char *end, dh_str *out)
{
    uint32_t n;
    if (end - *p < 4)
        return -1;
    memcpy(&n, *p, 4);
    *p += 4;
    if ((size_t)(end - *p) < n)
        return -1;
    *out = (dh_str){*p, n};
    *p += n;
    return 0;
}

size_t dh_rec_get_detection(const char *p, const char *end, dh_detection *d, uint32_t *rule)
{
    const char *start = p;
    memset(d, 0, sizeof *d);
    if (end - p < 24)
        return 0;
    uint32_t r;
    memcpy(&r, p, 4);
    memcpy(&d->time, p + 4, 8);
    memcpy(&d->record_id, p + 12, 8);
    memcpy(&d->event_id, p + 20, 4);
    d->undecided = (r & DH_REC_UNDECIDED) != 0;
    *rule = r & ~DH_REC_UNDECIDED;
    p += 24;
    if (get_str(&p, end, &d->host) || get_str(&p, end, &d->file) || get_str(&p, end, &d->channel) ||
        get_str(&p, end, &d->kind) || get_str(&p, end, &d->fields))
        return 0;
    return (size_t)(p - start);
}
