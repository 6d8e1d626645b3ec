/* Events written in other formats (dcomhunt dump --to): OTRF/NXLog-style flat JSON, read
 * back by dcomhunt's own readers. (ECS documents: src/output/ecs.c.) */
#include <string.h>

#include "core/timefmt.h"
#include "event/mappings/system.h"
#include "output/json.h"

static dh_status str(dh_buf *b, dh_str s)
{
    return dh_json_string(b, s.ptr ? s.ptr : "", s.len);
}

static dh_status time_str(dh_buf *b, int64_t t)
{
    dh_status st = dh_buf_putc(b, '"');
    if (!st)
        st = dh_time_put_iso(b, t);
    if (!st)
        st = dh_buf_putc(b, '"');
    return st;
}

/* Repeated names are written as repeated keys, as they came. */
static dh_status data_members(dh_buf *b, const dh_event *ev, int first)
{
    size_t n;
    const dh_kv *kv = dh_event_data(ev, &n);
    dh_status st = DH_OK;
    for (size_t i = 0; i < n && !st; i++) {
        if (!first)
            st = dh_buf_putc(b, ',');
        first = 0;
        if (!st)
            st = str(b, kv[i].name);
        if (!st)
            st = dh_buf_putc(b, ':');
        if (!st)
            st = str(b, kv[i].value);
    }
    return st;
}

/* The System properties under NXLog's keys (src/event/mappings/system.c). */
static dh_status otrf_system(dh_buf *b, const dh_event *ev)
{
    size_t n;
    const dh_kv *sys = dh_event_system(ev, &n);
    dh_status st = DH_OK;
    for (size_t i = 0; i < n && !st; i++)
        for (size_t k = 0; k < dh_sys_count && !st; k++)
            if (dh_sys_names[k].nxlog && strlen(dh_sys_names[k].name) == sys[i].name.len &&
                !memcmp(dh_sys_names[k].name, sys[i].name.ptr, sys[i].name.len)) {
                st = dh_buf_puts(b, ",\"");
                if (!st)
                    st = dh_buf_puts(b, dh_sys_names[k].nxlog);
                if (!st)
                    st = dh_buf_puts(b, "\":");
                if (!st)
                    st = str(b, sys[i].value);
            }
    return st;
}

dh_status dh_json_event_otrf(dh_buf *b, const dh_event *ev)
{
    dh_status st = dh_buf_puts(b, "{\"@timestamp\":");
    if (!st)
        st = time_str(b, dh_event_time(ev));
    if (!st)
        st = dh_buf_puts(b, ",\"Hostname\":");
    if (!st)
        st = str(b, dh_event_host(ev));
    if (!st)
        st = dh_buf_puts(b, ",\"Channel\":");
    if (!st)
        st = str(b, dh_event_channel(ev));
    if (!st)
        st = dh_buf_puts(b, ",\"SourceName\":");
    if (!st)
        st = str(b, dh_event_provider(ev));
    if (!st)
        st = dh_buf_puts(b, ",\"EventID\":");
    if (!st)
        st = dh_buf_put_u64(b, dh_event_id(ev));
    if (!st)
        st = dh_buf_puts(b, ",\"RecordNumber\":");
    if (!st)
        st = dh_buf_put_u64(b, dh_event_record_id(ev));
    if (!st)
        st = otrf_system(b, ev);
    if (!st)
        st = data_members(b, ev, 0);
    if (!st)
        st = dh_buf_puts(b, "}\n");
    return st;
}
