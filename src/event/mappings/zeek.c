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
        if (kv[i].name.len == 9 && kv[i].name.ptr[2] == '_')
            for (size_t k = 0; k < sizeof dotted_names / sizeof dotted_names[0]; k++)
                if (!memcmp(kv[i].name.ptr, dotted_names[k].underscore, 9))
                    kv[i].name = (dh_str){dotted_names[k].dotted, 9};
}

/* The names dh_map_zeek_apply looks at, found in one pass over the record's items (a
 * record of conn.log has 21: looking each name up by itself, 150 strlen and compares a
 * record, was half of the Zeek reader's instructions). */
enum {
    N_ORIG_H,
    N_ORIG_P,
    N_RESP_H,
    N_RESP_P,
    N_PROTO,
    N_ENDPOINT,
    N_OPERATION,
    N_PATH,
    N_CONN_STATE,
    N_HISTORY,
    N_TS,
    N_UID,
    N_NAMED_PIPE,
    N_COUNT
};

#define NAME(s)                                                                                    \
    {                                                                                              \
        s, sizeof s - 1                                                                            \
    }
static const struct {
    const char *s;
    size_t len;
} names[N_COUNT] = {
    NAME("id.orig_h"), NAME("id.orig_p"), NAME("id.resp_h"),  NAME("id.resp_p"),  NAME("proto"),
    NAME("endpoint"),  NAME("operation"), NAME("_path"),      NAME("conn_state"), NAME("history"),
    NAME("ts"),        NAME("uid"),       NAME("named_pipe"),
};
#undef NAME

static int name_is(dh_str n, int k)
{
    return !memcmp(names[k].s, n.ptr, n.len) ? k : -1;
}

/* The N_* of a name, or -1: by its length first (most of conn.log's names are none of
 * these), then the one or two names of that length it can be. */
static int name_slot(dh_str n)
{
    switch (n.len) {
    case 2:
        return name_is(n, N_TS);
    case 3:
        return name_is(n, N_UID);
    case 5:
        return n.ptr[0] == '_' ? name_is(n, N_PATH) : name_is(n, N_PROTO);
    case 7:
        return name_is(n, N_HISTORY);
    case 8:
        return name_is(n, N_ENDPOINT);
    case 9:
        if (n.ptr[0] != 'i')
            return name_is(n, N_OPERATION);
        if (n.ptr[3] == 'o')
            return name_is(n, n.ptr[8] == 'h' ? N_ORIG_H : N_ORIG_P);
        return name_is(n, n.ptr[8] == 'h' ? N_RESP_H : N_RESP_P);
    case 10:
        return n.ptr[0] == 'c' ? name_is(n, N_CONN_STATE) : name_is(n, N_NAMED_PIPE);
    default:
        return -1;
    }
}

const char *dh_map_zeek_apply(dh_event *ev, dh_str path)
{
    dh_str ts = {"", 0};
    undot(ev);
    /* first[k]: the first item named names[k].s (as raw() finds it); last[k]: the last (the
     * taxonomy fields take the last, as the endpoints table was applied item by item) */
    int32_t first[N_COUNT], last[N_COUNT];
    for (int k = 0; k < N_COUNT; k++)
        first[k] = last[k] = -1;
    for (size_t i = 0; i < ev->ndata; i++) {
        int k = name_slot(ev->data[i].name);
        if (k < 0)
            continue;
        if (first[k] < 0)
            first[k] = (int32_t)i;
        last[k] = (int32_t)i;
    }
#define HAS(k)   (first[k] >= 0)
#define VALUE(k) (ev->data[first[k]].value)
    if (!HAS(N_ORIG_H) || !HAS(N_RESP_H))
        return dh_map_zeek_not_used;
    if (!path.len && HAS(N_PATH))
        path = VALUE(N_PATH);
    if (!path.len) { /* JSON logs often leave the log's name out: tell it by its fields */
        if (HAS(N_ENDPOINT) || HAS(N_OPERATION))
            path = (dh_str){"dce_rpc", 7};
        else if (HAS(N_CONN_STATE) || HAS(N_HISTORY))
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
    if (HAS(N_TS)) {
        ts = VALUE(N_TS);
        if (dh_time_parse_epoch(ts.ptr, ts.len, &ev->time) &&
            dh_time_parse_iso(ts.ptr, ts.len, &ev->time))
            return "ts is not a time";
    }
    ev->host = VALUE(N_RESP_H);
    ev->present = 0;
    for (const dh_map_pair *p = endpoints; p->src; p++) {
        int k = name_slot((dh_str){p->src, strlen(p->src)});
        if (k >= 0 && last[k] >= 0) {
            ev->fields[p->dst] = ev->data[last[k]].value;
            ev->present |= 1ULL << p->dst;
        }
    }
    /* No record numbers in Zeek: an id from what tells one record from another, the same
     * for the TSV and the JSON form, so the same record read twice is one. */
    uint64_t h = 1469598103934665603ULL;
    static const int keys[] = {N_UID, N_ORIG_P, N_ENDPOINT, N_OPERATION, N_NAMED_PIPE};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (HAS(keys[k]))
            h = mix(h, VALUE(keys[k]));
#undef HAS
#undef VALUE
    char tb[24];
    int64_t t = ev->time;
    size_t n = 0;
    for (int i = 0; i < 20 && t > 0; i++, t /= 10)
        tb[n++] = (char)('0' + t % 10);
    h = mix(h, (dh_str){tb, n});
    ev->record_id = h >> 1;
    return NULL;
}
