/* Field mapping for Zeek logs: which log is which kind, how Zeek's field names map to
 * taxonomy fields, and the envelope (provider "Zeek", channel "Zeek/<log>", time from ts,
 * host = the responder's address, the machine the connection or call went to). Both the
 * TSV and the JSON reader end here, so the two forms of a log give the same events. */
#include <string.h>

#include "core/timefmt.h"
#include "event/event_impl.h"
#include "event/mappings/mappings.h"

#define P(src, dst)                                                                                \
    {                                                                                              \
        src, DH_FIELD_##dst                                                                        \
    }

static const dh_map_pair endpoints[] = {
    P("id.orig_h", SOURCE_IP),      P("id.orig_p", SOURCE_PORT),
    P("id.resp_h", DESTINATION_IP), P("id.resp_p", DESTINATION_PORT),
    P("proto", PROTOCOL),           P("endpoint", RPC_ENDPOINT),
    P("operation", RPC_OPERATION),  {NULL, 0},
};

static const struct {
    const char *path, *channel;
    dh_kind kind;
} logs[] = {
    {"conn", "Zeek/conn", DH_KIND_NETWORK_CONNECTION},
    {"dce_rpc", "Zeek/dce_rpc", DH_KIND_RPC_CALL},
    {"smb_mapping", "Zeek/smb_mapping", DH_KIND_OTHER},
    {"smb_files", "Zeek/smb_files", DH_KIND_OTHER},
    {"ntlm", "Zeek/ntlm", DH_KIND_OTHER},
    {"kerberos", "Zeek/kerberos", DH_KIND_OTHER},
    {"dns", "Zeek/dns", DH_KIND_OTHER},
    {"http", "Zeek/http", DH_KIND_OTHER},
    {"rdp", "Zeek/rdp", DH_KIND_OTHER},
    {"ssl", "Zeek/ssl", DH_KIND_OTHER},
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

static uint64_t mix(uint64_t h, dh_str s)
{
    for (size_t i = 0; i < s.len; i++)
        h = (h ^ (unsigned char)s.ptr[i]) * 1099511628211ULL;
    return (h ^ 0xff) * 1099511628211ULL;
}

const char dh_map_zeek_not_used[] = "a record of a Zeek log without connection endpoints";

/* Exporters that cannot have dots in names (Elasticsearch pipelines, some SIEMs) write the
 * connection's endpoints as id_orig_h ...: the same fields. */
static const struct {
    const char *underscore, *dotted;
} dotted_names[] = {
    {"id_orig_h", "id.orig_h"},
    {"id_orig_p", "id.orig_p"},
    {"id_resp_h", "id.resp_h"},
    {"id_resp_p", "id.resp_p"},
};

static void undot(dh_event *ev)
{
    /* The data array belongs to the reader that filled it (a dh_kv array it owns). */
    dh_kv *kv = (dh_kv *)ev->data;
    for (size_t i = 0; i < ev->ndata; i++)
        for (size_t k = 0; k < sizeof dotted_names / sizeof dotted_names[0]; k++)
            if (kv[i].name.len == 9 && !memcmp(kv[i].name.ptr, dotted_names[k].underscore, 9))
                kv[i].name = (dh_str){dotted_names[k].dotted, 9};
}

const char *dh_map_zeek_apply(dh_event *ev, dh_str path)
{
    dh_str v, ts = {"", 0};
    undot(ev);
    if (!raw(ev, "id.orig_h", &v) || !raw(ev, "id.resp_h", &v))
        return dh_map_zeek_not_used;
    if (!path.len && raw(ev, "_path", &v))
        path = v;
    if (!path.len) { /* JSON logs often leave the log's name out: tell it by its fields */
        if (raw(ev, "endpoint", &v) || raw(ev, "operation", &v))
            path = (dh_str){"dce_rpc", 7};
        else if (raw(ev, "conn_state", &v) || raw(ev, "history", &v))
            path = (dh_str){"conn", 4};
    }
    ev->provider = (dh_str){"Zeek", 4};
    ev->channel = ev->provider;
    ev->kind = DH_KIND_OTHER;
    for (size_t i = 0; i < sizeof logs / sizeof logs[0]; i++)
        if (strlen(logs[i].path) == path.len && !memcmp(logs[i].path, path.ptr, path.len)) {
            ev->channel = (dh_str){logs[i].channel, strlen(logs[i].channel)};
            ev->kind = logs[i].kind;
        }
    ev->event_id = 0;
    ev->time = 0;
    if (raw(ev, "ts", &ts) && dh_time_parse_epoch(ts.ptr, ts.len, &ev->time) &&
        dh_time_parse_iso(ts.ptr, ts.len, &ev->time))
        return "ts is not a time";
    raw(ev, "id.resp_h", &ev->host);
    ev->present = 0;
    for (size_t i = 0; i < ev->ndata; i++)
        for (const dh_map_pair *p = endpoints; p->src; p++)
            if (strlen(p->src) == ev->data[i].name.len &&
                !memcmp(p->src, ev->data[i].name.ptr, ev->data[i].name.len)) {
                ev->fields[p->dst] = ev->data[i].value;
                ev->present |= 1ULL << p->dst;
            }
    /* No record numbers in Zeek: an id from what tells one record from another, the same
     * for the TSV and the JSON form, so the same record read twice is one. */
    uint64_t h = 1469598103934665603ULL;
    static const char *const keys[] = {"uid", "id.orig_p", "endpoint", "operation", "named_pipe"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (raw(ev, keys[k], &v))
            h = mix(h, v);
    char tb[24];
    int64_t t = ev->time;
    size_t n = 0;
    for (int i = 0; i < 20 && t > 0; i++, t /= 10)
        tb[n++] = (char)('0' + t % 10);
    h = mix(h, (dh_str){tb, n});
    ev->record_id = h >> 1;
    return NULL;
}
