/* Field mapping for Elastic Endpoint (and other ECS) events that carry no Windows event
 * (no winlog part): the document, flattened to dotted names, is told by event.category
 * and event.type, and its ECS fields map to taxonomy fields. Provider "Elastic Endpoint",
 * channel the event.dataset (endpoint.events.process, ...), host host.name, time
 * @timestamp, record id from event.sequence when there is one. */
#include <string.h>
#include <strings.h>

#include "core/timefmt.h"
#include "event/event_impl.h"
#include "event/mappings/mappings.h"

#define P(src, dst)                                                                                \
    {                                                                                              \
        src, DH_FIELD_##dst                                                                        \
    }
#define END                                                                                        \
    {                                                                                              \
        NULL, 0                                                                                    \
    }

static const dh_map_pair process_pairs[] = {
    P("process.executable", IMAGE),
    P("process.command_line", COMMAND_LINE),
    P("process.pid", PROCESS_ID),
    P("process.entity_id", PROCESS_GUID),
    P("process.pe.original_file_name", ORIGINAL_FILE_NAME),
    P("process.working_directory", CURRENT_DIRECTORY),
    P("process.Ext.token.integrity_level_name", INTEGRITY_LEVEL),
    P("process.Ext.authentication_id", LOGON_ID),
    P("process.parent.executable", PARENT_IMAGE),
    P("process.parent.command_line", PARENT_COMMAND_LINE),
    P("process.parent.pid", PARENT_PROCESS_ID),
    P("process.parent.entity_id", PARENT_PROCESS_GUID),
    P("source.ip", SOURCE_IP),
    P("source.port", SOURCE_PORT),
    P("destination.ip", DESTINATION_IP),
    P("destination.port", DESTINATION_PORT),
    P("destination.domain", DESTINATION_HOSTNAME),
    P("network.transport", PROTOCOL),
    P("dll.path", IMAGE_LOADED),
    P("dll.code_signature.trusted", SIGNED),
    P("registry.path", TARGET_OBJECT),
    P("registry.data.strings", DETAILS),
    P("file.path", TARGET_FILENAME),
    P("source.domain", SOURCE_HOSTNAME),
    END,
};

static int raw(const dh_event *ev, const char *name, dh_str *out)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < ev->ndata; i++)
        if (ev->data[i].name.len == n && !memcmp(ev->data[i].name.ptr, name, n)) {
            *out = ev->data[i].value;
            return 1;
        }
    return 0;
}

/* Whether a (possibly repeated) field has the value v. */
static int has(const dh_event *ev, const char *name, const char *v)
{
    size_t n = strlen(name), vn = strlen(v);
    for (size_t i = 0; i < ev->ndata; i++)
        if (ev->data[i].name.len == n && !memcmp(ev->data[i].name.ptr, name, n) &&
            ev->data[i].value.len == vn && !memcmp(ev->data[i].value.ptr, v, vn))
            return 1;
    return 0;
}

static void put(dh_event *ev, dh_field id, dh_str v)
{
    if (!(ev->present & (1ULL << id))) {
        ev->fields[id] = v;
        ev->present |= 1ULL << id;
    }
}

const char *dh_map_elastic_apply(dh_event *ev)
{
    dh_str v;
    ev->provider = (dh_str){"Elastic Endpoint", 16};
    ev->channel = raw(ev, "event.dataset", &v) ? v : ev->provider;
    ev->event_id = 0;
    ev->host = raw(ev, "host.name", &v) ? v : (dh_str){"", 0};
    ev->time = 0;
    if (raw(ev, "@timestamp", &v) && dh_time_parse_iso(v.ptr, v.len, &ev->time))
        return "@timestamp is not a time";
    ev->record_id = 0;
    if (raw(ev, "event.sequence", &v))
        for (size_t i = 0; i < v.len && v.ptr[i] >= '0' && v.ptr[i] <= '9'; i++)
            ev->record_id = ev->record_id * 10 + (uint64_t)(v.ptr[i] - '0');
    ev->kind = DH_KIND_OTHER;
    if (has(ev, "event.category", "process") &&
        (has(ev, "event.type", "start") || has(ev, "event.action", "start")))
        ev->kind = DH_KIND_PROCESS_CREATION;
    else if (has(ev, "event.category", "process") && has(ev, "event.type", "end"))
        ev->kind = DH_KIND_PROCESS_TERMINATION;
    else if (has(ev, "event.category", "network") &&
             (raw(ev, "source.ip", &v) || raw(ev, "destination.ip", &v)))
        ev->kind = DH_KIND_NETWORK_CONNECTION;
    else if (has(ev, "event.category", "library"))
        ev->kind = DH_KIND_IMAGE_LOAD;
    else if (has(ev, "event.category", "registry"))
        ev->kind =
            has(ev, "event.type", "deletion") ? DH_KIND_REGISTRY_DELETE : DH_KIND_REGISTRY_SET;
    else if (has(ev, "event.category", "file"))
        ev->kind = has(ev, "event.type", "deletion") ? DH_KIND_FILE_DELETE : DH_KIND_FILE_EVENT;
    else if (has(ev, "event.category", "authentication") && has(ev, "event.outcome", "success"))
        ev->kind = DH_KIND_LOGON;
    ev->present = 0;
    for (size_t i = 0; i < ev->ndata; i++)
        for (const dh_map_pair *p = process_pairs; p->src; p++)
            if (p->src[0] == ev->data[i].name.ptr[0] && strlen(p->src) == ev->data[i].name.len &&
                !memcmp(p->src, ev->data[i].name.ptr, ev->data[i].name.len))
                put(ev, p->dst, ev->data[i].value);
    /* the account as Windows writes it, DOMAIN\name */
    dh_str dom, name;
    if (raw(ev, "user.name", &name) && name.len) {
        dh_str u = name;
        if (raw(ev, "user.domain", &dom) && dom.len && ev->scratch &&
            ev->scratch_len + dom.len + 1 + name.len <= ev->scratch_cap) {
            char *p = ev->scratch + ev->scratch_len;
            memcpy(p, dom.ptr, dom.len);
            p[dom.len] = '\\';
            memcpy(p + dom.len + 1, name.ptr, name.len);
            ev->scratch_len += dom.len + 1 + name.len;
            u = (dh_str){p, dom.len + 1 + name.len};
        }
        put(ev, DH_FIELD_USER, u);
        if (ev->kind == DH_KIND_LOGON) {
            put(ev, DH_FIELD_TARGET_USER_NAME, name);
            if (raw(ev, "user.domain", &dom))
                put(ev, DH_FIELD_TARGET_DOMAIN_NAME, dom);
        }
    }
    if (ev->kind == DH_KIND_NETWORK_CONNECTION && raw(ev, "network.direction", &v)) {
        int in = (v.len == 8 && !memcmp(v.ptr, "incoming", 8)) ||
                 (v.len == 7 && !memcmp(v.ptr, "inbound", 7)) ||
                 (v.len == 7 && !memcmp(v.ptr, "ingress", 7));
        put(ev, DH_FIELD_INITIATED, in ? (dh_str){"false", 5} : (dh_str){"true", 4});
    }
    if (ev->kind == DH_KIND_LOGON) {
        /* Elastic names the logon type ("network"); Windows numbers it. */
        if (raw(ev, "winlog.logon.type", &v) ||
            raw(ev, "process.Ext.session_info.logon_type", &v)) {
            if ((v.len == 7 && !strncasecmp(v.ptr, "network", 7)) ||
                (v.len == 1 && v.ptr[0] == '3'))
                put(ev, DH_FIELD_LOGON_TYPE, (dh_str){"3", 1});
        }
        if (raw(ev, "process.Ext.session_info.id", &v) || raw(ev, "winlog.logon.id", &v))
            put(ev, DH_FIELD_LOGON_ID, v);
    }
    return NULL;
}
