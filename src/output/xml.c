/* Event XML for events of any source. EVTX records keep the XML the decoder rendered from
 * the record; events read from other formats (JSON, CSV, Zeek, XML) are written in Windows'
 * shape, so every event dump can read has an XML form (and the XML reader gives it back,
 * mapped by its source: see src/event/mappings/any.c). Writes; decides nothing. */
#include "output/xml.h"

#include <string.h>

#include "core/escape.h"
#include "core/timefmt.h"

static dh_status text(dh_buf *b, dh_str s)
{
    return dh_xml_escape(b, s.ptr ? s.ptr : "", s.len, 0);
}

static dh_status attr(dh_buf *b, const char *name, dh_str v)
{
    dh_status st = dh_buf_putc(b, ' ');
    if (!st)
        st = dh_buf_puts(b, name);
    if (!st)
        st = dh_buf_puts(b, "=\"");
    if (!st)
        st = dh_xml_escape(b, v.ptr ? v.ptr : "", v.len, 1);
    if (!st)
        st = dh_buf_putc(b, '"');
    return st;
}

/* The System properties as Windows places them: element text or an attribute of an
 * element (in this order, as in a record's own XML). */
static const struct {
    const char *prop, *element; /* element NULL: the property is an element's text */
} places[] = {
    {"Version", NULL},
    {"Level", NULL},
    {"Task", NULL},
    {"Opcode", NULL},
    {"Keywords", NULL},
    {"ActivityID", "Correlation"},
    {"RelatedActivityID", "Correlation"},
    {"ProcessID", "Execution"},
    {"ThreadID", "Execution"},
    {"ProcessorID", "Execution"},
    {"SessionID", "Execution"},
    {"KernelTime", "Execution"},
    {"UserTime", "Execution"},
    {"UserID", "Security"},
};

static int sys_get(const dh_event *ev, const char *name, dh_str *v)
{
    size_t n;
    const dh_kv *s = dh_event_system(ev, &n);
    for (size_t i = 0; i < n; i++)
        if (s[i].name.len == strlen(name) && !memcmp(s[i].name.ptr, name, s[i].name.len)) {
            *v = s[i].value;
            return 1;
        }
    return 0;
}

/* <Element a="..." b="..."/> with the properties placed on it, if it has any. */
static dh_status sys_element(dh_buf *b, const dh_event *ev, const char *element)
{
    int open = 0;
    dh_status st = DH_OK;
    for (size_t k = 0; k < sizeof places / sizeof places[0] && !st; k++) {
        dh_str v;
        if (!places[k].element || strcmp(places[k].element, element) ||
            !sys_get(ev, places[k].prop, &v))
            continue;
        if (!open) {
            st = dh_buf_putc(b, '<');
            if (!st)
                st = dh_buf_puts(b, element);
            open = 1;
        }
        if (!st)
            st = attr(b, places[k].prop, v);
    }
    if (!st && open)
        st = dh_buf_puts(b, "/>");
    return st;
}

static dh_status render(dh_buf *b, const dh_event *ev)
{
    dh_str v;
    dh_status st =
        dh_buf_puts(b, "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">"
                       "<System><Provider");
    if (!st)
        st = attr(b, "Name", dh_event_provider(ev));
    if (!st && sys_get(ev, "Guid", &v))
        st = attr(b, "Guid", v);
    if (!st && sys_get(ev, "EventSourceName", &v))
        st = attr(b, "EventSourceName", v);
    if (!st)
        st = dh_buf_puts(b, "/><EventID");
    if (!st && sys_get(ev, "Qualifiers", &v))
        st = attr(b, "Qualifiers", v);
    if (!st)
        st = dh_buf_putc(b, '>');
    if (!st)
        st = dh_buf_put_u64(b, dh_event_id(ev));
    if (!st)
        st = dh_buf_puts(b, "</EventID>");
    for (size_t k = 0; k < sizeof places / sizeof places[0] && !st; k++) {
        if (places[k].element || !sys_get(ev, places[k].prop, &v))
            continue;
        st = dh_buf_putc(b, '<');
        if (!st)
            st = dh_buf_puts(b, places[k].prop);
        if (!st)
            st = dh_buf_putc(b, '>');
        if (!st)
            st = text(b, v);
        if (!st)
            st = dh_buf_puts(b, "</");
        if (!st)
            st = dh_buf_puts(b, places[k].prop);
        if (!st)
            st = dh_buf_putc(b, '>');
    }
    if (!st)
        st = dh_buf_puts(b, "<TimeCreated SystemTime=\"");
    if (!st)
        st = dh_time_put_iso(b, dh_event_time(ev));
    if (!st)
        st = dh_buf_puts(b, "\"/><EventRecordID>");
    if (!st)
        st = dh_buf_put_u64(b, dh_event_record_id(ev));
    if (!st)
        st = dh_buf_puts(b, "</EventRecordID>");
    if (!st)
        st = sys_element(b, ev, "Correlation");
    if (!st)
        st = sys_element(b, ev, "Execution");
    if (!st)
        st = dh_buf_puts(b, "<Channel>");
    if (!st)
        st = text(b, dh_event_channel(ev));
    if (!st)
        st = dh_buf_puts(b, "</Channel><Computer>");
    if (!st)
        st = text(b, dh_event_host(ev));
    if (!st)
        st = dh_buf_puts(b, "</Computer>");
    if (!st)
        st = sys_element(b, ev, "Security");
    if (!st)
        st = dh_buf_puts(b, "</System><EventData>");
    size_t n;
    const dh_kv *kv = dh_event_data(ev, &n);
    for (size_t i = 0; i < n && !st; i++) {
        st = dh_buf_puts(b, "<Data");
        if (!st)
            st = attr(b, "Name", kv[i].name);
        if (!st)
            st = dh_buf_putc(b, '>');
        if (!st)
            st = text(b, kv[i].value);
        if (!st)
            st = dh_buf_puts(b, "</Data>");
    }
    if (!st)
        st = dh_buf_puts(b, "</EventData></Event>");
    return st;
}

dh_status dh_xml_event(dh_buf *out, const dh_event *ev)
{
    dh_str x = dh_event_xml(ev);
    dh_status st = x.len ? dh_buf_append(out, x.ptr, x.len) : render(out, ev);
    return st ? st : dh_buf_putc(out, '\n');
}
