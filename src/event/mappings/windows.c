/* Field mapping for Windows event logs (EVTX, and later event XML and flattened JSON of
 * the same events): which provider/event id is which kind, and how each original data
 * name maps to a taxonomy field. This table is the one place that knows it. */
#include <string.h>

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

static const dh_map_pair no_pairs[] = {END};

static const dh_map_pair logon_pairs[] = {
    P("IpAddress", SOURCE_IP),    P("IpPort", SOURCE_PORT),
    P("TargetLogonId", LOGON_ID), P("WorkstationName", SOURCE_HOSTNAME),
    P("TargetUserName", USER),    END,
};
static const dh_map_pair explicit_pairs[] = {
    P("TargetServerName", DESTINATION_HOSTNAME),
    P("IpAddress", DESTINATION_IP),
    P("IpPort", DESTINATION_PORT),
    P("ProcessName", IMAGE),
    P("SubjectLogonId", LOGON_ID),
    P("SubjectUserName", USER),
    END,
};
static const dh_map_pair subject_pairs[] = {
    P("SubjectLogonId", LOGON_ID),
    P("SubjectUserName", USER),
    P("ProcessName", IMAGE),
    END,
};
static const dh_map_pair proc4688_pairs[] = {
    P("NewProcessName", IMAGE),           P("ParentProcessName", PARENT_IMAGE),
    P("NewProcessId", PROCESS_ID),        P("ProcessId", PARENT_PROCESS_ID),
    P("SubjectLogonId", LOGON_ID),        P("SubjectUserName", USER),
    P("MandatoryLabel", INTEGRITY_LEVEL), END,
};
static const dh_map_pair share_pairs[] = {
    P("IpAddress", SOURCE_IP),
    P("IpPort", SOURCE_PORT),
    P("SubjectLogonId", LOGON_ID),
    P("SubjectUserName", USER),
    END,
};
static const dh_map_pair wfp_pairs[] = {
    P("Application", IMAGE),
    P("SourceAddress", SOURCE_IP),
    P("SourcePort", SOURCE_PORT),
    P("DestAddress", DESTINATION_IP),
    P("DestPort", DESTINATION_PORT),
    P("ProcessID", PROCESS_ID),
    END,
};
static const dh_map_pair dcom10016_pairs[] = {
    P("param4", CLSID),
    P("param5", APPID),
    P("param6", TARGET_DOMAIN_NAME),
    P("param7", TARGET_USER_NAME),
    P("param8", TARGET_USER_SID),
    P("param9", REMOTE_HOST),
    P("param7", USER),
    END,
};
static const dh_map_pair dcom10028_pairs[] = {
    P("param1", REMOTE_HOST), P("param1", DESTINATION_HOSTNAME),
    P("param2", PROCESS_ID),  P("param3", IMAGE),
    P("param4", CLSID),       END,
};
static const dh_map_pair dcom10036_pairs[] = {
    P("param1", TARGET_DOMAIN_NAME),
    P("param2", TARGET_USER_NAME),
    P("param3", TARGET_USER_SID),
    P("param4", REMOTE_HOST),
    P("param2", USER),
    END,
};
static const dh_map_pair service_pairs[] = {
    P("AccountName", USER),
    END,
};
static const dh_map_pair task106_pairs[] = {
    P("UserContext", USER),
    END,
};
static const dh_map_pair sysmon_registry_pairs[] = {
    P("NewName", DETAILS),
    END,
};

static int raw(const dh_event *ev, const char *name, dh_str *out)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < ev->ndata; i++)
        if (ev->data[i].name.len == n && memcmp(ev->data[i].name.ptr, name, n) == 0) {
            *out = ev->data[i].value;
            return 1;
        }
    return 0;
}

static void put(dh_event *ev, dh_field id, dh_str v)
{
    ev->fields[id] = v;
    ev->present |= 1ULL << id;
}

int dh_map_is_ip(dh_str s)
{
    if (s.len < 2 || s.len > 45)
        return 0;
    int colon = 0, dot = 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (c == ':')
            colon++;
        else if (c == '.')
            dot++;
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return colon >= 2 || dot == 3;
}

/* 4688: the new process's account (Target*, Windows 10+) is the one the process runs as;
 * the Subject is its creator. Prefer Target when it is filled. */
static void fix_4688(dh_event *ev)
{
    dh_str v;
    if (raw(ev, "TargetLogonId", &v) && v.len && !(v.len == 3 && memcmp(v.ptr, "0x0", 3) == 0))
        put(ev, DH_FIELD_LOGON_ID, v);
    if (raw(ev, "TargetUserName", &v) && v.len && !(v.len == 1 && v.ptr[0] == '-'))
        put(ev, DH_FIELD_USER, v);
}

/* 5156: %%14592 is inbound, %%14593 outbound. */
static void fix_5156(dh_event *ev)
{
    dh_str v;
    if (raw(ev, "Direction", &v)) {
        if (v.len == 7 && memcmp(v.ptr, "%%14593", 7) == 0)
            put(ev, DH_FIELD_INITIATED, (dh_str){"true", 4});
        else if (v.len == 7 && memcmp(v.ptr, "%%14592", 7) == 0)
            put(ev, DH_FIELD_INITIATED, (dh_str){"false", 5});
    }
}

/* DistributedCOM: the remote address is an IP for network activations, or text such as
 * "LocalHost (Using LRPC)" for local ones; only an IP becomes SourceIp. */
static void fix_dcom(dh_event *ev)
{
    dh_str v;
    if (dh_event_field(ev, DH_FIELD_REMOTE_HOST, &v) && dh_map_is_ip(v) && ev->event_id != 10028)
        put(ev, DH_FIELD_SOURCE_IP, v);
}

/* Microsoft Defender for Endpoint advanced-hunting rows: the table name stands for the
 * provider, event id 0. (The readers of Defender exports come with their own issue; the
 * mapping lives here, with the others, from the start.) */
static const dh_map_pair mde_process_pairs[] = {
    P("FolderPath", IMAGE),
    P("ProcessCommandLine", COMMAND_LINE),
    P("ProcessVersionInfoOriginalFileName", ORIGINAL_FILE_NAME),
    P("ProcessId", PROCESS_ID),
    P("LogonId", LOGON_ID),
    P("AccountName", USER),
    P("ProcessIntegrityLevel", INTEGRITY_LEVEL),
    P("InitiatingProcessFolderPath", PARENT_IMAGE),
    P("InitiatingProcessCommandLine", PARENT_COMMAND_LINE),
    P("InitiatingProcessId", PARENT_PROCESS_ID),
    P("InitiatingProcessAccountName", PARENT_USER),
    END,
};

static const dh_map_pair mde_network_pairs[] = {
    P("InitiatingProcessFolderPath", IMAGE), P("InitiatingProcessId", PROCESS_ID),
    P("InitiatingProcessAccountName", USER), P("Protocol", PROTOCOL),
    P("RemoteUrl", DESTINATION_HOSTNAME),    END,
};
static const dh_map_pair mde_logon_pairs[] = {
    P("AccountName", TARGET_USER_NAME),
    P("AccountDomain", TARGET_DOMAIN_NAME),
    P("AccountSid", TARGET_USER_SID),
    P("AccountName", USER),
    P("RemoteIP", SOURCE_IP),
    P("RemotePort", SOURCE_PORT),
    P("RemoteDeviceName", SOURCE_HOSTNAME),
    P("LogonId", LOGON_ID),
    P("Protocol", AUTH_PACKAGE),
    END,
};
static const dh_map_pair mde_image_pairs[] = {
    P("InitiatingProcessFolderPath", IMAGE),
    P("FolderPath", IMAGE_LOADED),
    P("InitiatingProcessId", PROCESS_ID),
    END,
};
static const dh_map_pair mde_file_pairs[] = {
    P("InitiatingProcessFolderPath", IMAGE),
    P("FolderPath", TARGET_FILENAME),
    P("InitiatingProcessId", PROCESS_ID),
    END,
};
static const dh_map_pair mde_registry_pairs[] = {
    P("InitiatingProcessFolderPath", IMAGE),
    P("RegistryValueData", DETAILS),
    P("ActionType", EVENT_TYPE),
    END,
};

/* The Defender tables dcomhunt knows, as static strings (events point at them). */
static const char *const mde_tables[] = {
    "DeviceProcessEvents",  "DeviceNetworkEvents", "DeviceLogonEvents", "DeviceImageLoadEvents",
    "DeviceRegistryEvents", "DeviceEvents",        "DeviceFileEvents",
};

const char *dh_mde_table(dh_str name)
{
    for (size_t i = 0; i < sizeof mde_tables / sizeof mde_tables[0]; i++)
        if (strlen(mde_tables[i]) == name.len && !memcmp(mde_tables[i], name.ptr, name.len))
            return mde_tables[i];
    return NULL;
}

const char *dh_mde_table_for_action(dh_str action)
{
    static const struct {
        const char *prefix, *table;
    } t[] = {{"ProcessCreated", "DeviceProcessEvents"},
             {"Connection", "DeviceNetworkEvents"},
             {"InboundConnection", "DeviceNetworkEvents"},
             {"ListeningConnection", "DeviceNetworkEvents"},
             {"Logon", "DeviceLogonEvents"},
             {"ImageLoaded", "DeviceImageLoadEvents"},
             {"Registry", "DeviceRegistryEvents"},
             {"File", "DeviceFileEvents"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (action.len >= strlen(t[i].prefix) &&
            !memcmp(action.ptr, t[i].prefix, strlen(t[i].prefix)))
            return t[i].table;
    return "DeviceEvents";
}

/* Joins parts into the event's scratch space; an empty string if there is no room. */
static dh_str compose(dh_event *ev, dh_str a, const char *sep, dh_str b)
{
    size_t n = a.len + strlen(sep) + b.len;
    if (!ev->scratch || ev->scratch_len + n > ev->scratch_cap)
        return (dh_str){"", 0};
    char *p = ev->scratch + ev->scratch_len;
    memcpy(p, a.ptr, a.len);
    memcpy(p + a.len, sep, strlen(sep));
    memcpy(p + a.len + strlen(sep), b.ptr, b.len);
    ev->scratch_len += n;
    return (dh_str){p, n};
}

/* "DOMAIN\name" as Windows logs write an account, from Defender's two columns. */
static void account(dh_event *ev, const char *dom, const char *name, dh_field id)
{
    dh_str d, n;
    if (!raw(ev, name, &n) || !n.len)
        return;
    dh_str v = raw(ev, dom, &d) && d.len ? compose(ev, d, "\\", n) : n;
    if (v.len)
        put(ev, id, v);
}

static void fix_mde_process(dh_event *ev)
{
    account(ev, "AccountDomain", "AccountName", DH_FIELD_USER);
    account(ev, "InitiatingProcessAccountDomain", "InitiatingProcessAccountName",
            DH_FIELD_PARENT_USER);
}

/* Registry rows name the key and the value apart, with the hive spelled out; Sysmon (and
 * so the rules) write one path with the hive abbreviated. */
static void fix_mde_registry(dh_event *ev)
{
    static const struct {
        const char *full, *abbr;
    } hives[] = {{"HKEY_LOCAL_MACHINE", "HKLM"},
                 {"HKEY_CURRENT_USER", "HKCU"},
                 {"HKEY_USERS", "HKU"},
                 {"HKEY_CLASSES_ROOT", "HKCR"}};
    dh_str key, val;
    if (!raw(ev, "RegistryKey", &key) || !key.len)
        return;
    for (size_t i = 0; i < sizeof hives / sizeof hives[0]; i++) {
        size_t n = strlen(hives[i].full);
        if (key.len >= n && !memcmp(key.ptr, hives[i].full, n) &&
            (key.len == n || key.ptr[n] == '\\')) {
            key = compose(ev, (dh_str){hives[i].abbr, strlen(hives[i].abbr)}, "",
                          (dh_str){key.ptr + n, key.len - n});
            break;
        }
    }
    if (key.len && raw(ev, "RegistryValueName", &val) && val.len)
        key = compose(ev, key, "\\", val);
    if (key.len)
        put(ev, DH_FIELD_TARGET_OBJECT, key);
    dh_str a;
    if (raw(ev, "ActionType", &a) && a.len >= 18 && !memcmp(a.ptr, "RegistryKeyDeleted", 18))
        ev->kind = DH_KIND_REGISTRY_DELETE;
    else if (raw(ev, "ActionType", &a) && a.len == 18 && !memcmp(a.ptr, "RegistryKeyCreated", 18))
        ev->kind = DH_KIND_REGISTRY_ADD;
}

/* Defender network rows: which end is local depends on the direction (ActionType). */
static void fix_mde_network(dh_event *ev)
{
    dh_str a = {"", 0}, lip = {"", 0}, lport = {"", 0}, rip = {"", 0}, rport = {"", 0};
    raw(ev, "ActionType", &a);
    raw(ev, "LocalIP", &lip);
    raw(ev, "LocalPort", &lport);
    raw(ev, "RemoteIP", &rip);
    raw(ev, "RemotePort", &rport);
    int inbound = a.len >= 7 && !memcmp(a.ptr, "Inbound", 7);
    put(ev, DH_FIELD_SOURCE_IP, inbound ? rip : lip);
    put(ev, DH_FIELD_SOURCE_PORT, inbound ? rport : lport);
    put(ev, DH_FIELD_DESTINATION_IP, inbound ? lip : rip);
    put(ev, DH_FIELD_DESTINATION_PORT, inbound ? lport : rport);
    put(ev, DH_FIELD_INITIATED, inbound ? (dh_str){"false", 5} : (dh_str){"true", 4});
}

/* Defender logon rows name the logon type; Windows numbers it. */
static void fix_mde_logon(dh_event *ev)
{
    static const struct {
        const char *name, *num;
    } types[] = {{"Interactive", "2"},
                 {"Network", "3"},
                 {"Batch", "4"},
                 {"Service", "5"},
                 {"Unlock", "7"},
                 {"NetworkCleartext", "8"},
                 {"NewCredentials", "9"},
                 {"RemoteInteractive", "10"},
                 {"CachedInteractive", "11"}};
    dh_str v;
    if (raw(ev, "ActionType", &v) && v.len == 11 && !memcmp(v.ptr, "LogonFailed", 11))
        ev->kind = DH_KIND_LOGON_FAILED;
    if (!raw(ev, "LogonType", &v))
        return;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i].name) == v.len && !memcmp(types[i].name, v.ptr, v.len))
            put(ev, DH_FIELD_LOGON_TYPE, (dh_str){types[i].num, strlen(types[i].num)});
}

#define SYSMON   "Microsoft-Windows-Sysmon"
#define SECURITY "Microsoft-Windows-Security-Auditing"
#define DCOM     "Microsoft-Windows-DistributedCOM"
#define PWSH     "Microsoft-Windows-PowerShell"
#define K(x)     DH_KIND_##x

static const dh_map_row rows[] = {
    {SYSMON, 1, K(PROCESS_CREATION), 1, no_pairs, NULL},
    {SYSMON, 3, K(NETWORK_CONNECTION), 1, no_pairs, NULL},
    {SYSMON, 5, K(PROCESS_TERMINATION), 1, no_pairs, NULL},
    {SYSMON, 7, K(IMAGE_LOAD), 1, no_pairs, NULL},
    {SYSMON, 8, K(CREATE_REMOTE_THREAD), 1, no_pairs, NULL},
    {SYSMON, 10, K(PROCESS_ACCESS), 1, no_pairs, NULL},
    {SYSMON, 11, K(FILE_EVENT), 1, no_pairs, NULL},
    {SYSMON, 12, K(REGISTRY_ADD), 1, no_pairs, NULL},
    {SYSMON, 13, K(REGISTRY_SET), 1, no_pairs, NULL},
    {SYSMON, 14, K(REGISTRY_RENAME), 1, sysmon_registry_pairs, NULL},
    {SYSMON, 15, K(CREATE_STREAM_HASH), 1, no_pairs, NULL},
    {SYSMON, 17, K(PIPE_CREATED), 1, no_pairs, NULL},
    {SYSMON, 18, K(PIPE_CREATED), 1, no_pairs, NULL},
    {SYSMON, 19, K(WMI_EVENT), 1, no_pairs, NULL},
    {SYSMON, 20, K(WMI_EVENT), 1, no_pairs, NULL},
    {SYSMON, 21, K(WMI_EVENT), 1, no_pairs, NULL},
    {SYSMON, 22, K(DNS_QUERY), 1, no_pairs, NULL},
    {SYSMON, 23, K(FILE_DELETE), 1, no_pairs, NULL},
    {SYSMON, 26, K(FILE_DELETE), 1, no_pairs, NULL},
    {SYSMON, 2, K(FILE_CHANGE), 1, no_pairs, NULL},
    {SYSMON, 4, K(SYSMON_STATUS), 1, no_pairs, NULL},
    {SYSMON, 6, K(DRIVER_LOAD), 1, no_pairs, NULL},
    {SYSMON, 9, K(RAW_ACCESS_THREAD), 1, no_pairs, NULL},
    {SYSMON, 16, K(SYSMON_STATUS), 1, no_pairs, NULL},
    {SYSMON, 25, K(PROCESS_TAMPERING), 1, no_pairs, NULL},
    {SYSMON, 29, K(FILE_EXECUTABLE_DETECTED), 1, no_pairs, NULL},
    {SYSMON, 255, K(SYSMON_ERROR), 1, no_pairs, NULL},
    /* Windows PowerShell (the classic log): engine start, provider start, pipeline
     * execution; their data is nameless (Data), as rules test it. */
    {"PowerShell", 400, K(PS_CLASSIC_START), 0, no_pairs, NULL},
    {"PowerShell", 600, K(PS_CLASSIC_PROVIDER_START), 0, no_pairs, NULL},
    {"PowerShell", 800, K(PS_CLASSIC_SCRIPT), 0, no_pairs, NULL},
    /* The Microsoft-Windows-Kernel-File ETW provider (its Analytic channel, or an ETW
     * collector writing events): Create is a file opened or created, Rename and
     * RenamePath a rename. */
    {"Microsoft-Windows-Kernel-File", 12, K(FILE_ACCESS), 1, no_pairs, NULL},
    {"Microsoft-Windows-Kernel-File", 19, K(FILE_RENAME), 1, no_pairs, NULL},
    {"Microsoft-Windows-Kernel-File", 27, K(FILE_RENAME), 1, no_pairs, NULL},
    {SECURITY, 4624, K(LOGON), 1, logon_pairs, NULL},
    {SECURITY, 4625, K(LOGON_FAILED), 1, logon_pairs, NULL},
    {SECURITY, 4648, K(EXPLICIT_LOGON), 1, explicit_pairs, NULL},
    {SECURITY, 4672, K(SPECIAL_LOGON), 1, subject_pairs, NULL},
    {SECURITY, 4674, K(PRIVILEGE_USE), 1, subject_pairs, NULL},
    {SECURITY, 4688, K(PROCESS_CREATION), 1, proc4688_pairs, fix_4688},
    {SECURITY, 5140, K(SHARE_ACCESS), 1, share_pairs, NULL},
    {SECURITY, 5145, K(SHARE_ACCESS), 1, share_pairs, NULL},
    {SECURITY, 5156, K(NETWORK_CONNECTION), 1, wfp_pairs, fix_5156},
    {DCOM, 10016, K(DCOM_ERROR), 0, dcom10016_pairs, fix_dcom},
    {DCOM, 10028, K(DCOM_ERROR), 0, dcom10028_pairs, fix_dcom},
    {DCOM, 10036, K(DCOM_ERROR), 0, dcom10036_pairs, fix_dcom},
    {"Service Control Manager", 7045, K(SERVICE_INSTALL), 1, service_pairs, NULL},
    {SECURITY, 4698, K(TASK_CREATE), 1, subject_pairs, NULL},
    {"Microsoft-Windows-TaskScheduler", 106, K(TASK_CREATE), 1, task106_pairs, NULL},
    {PWSH, 4103, K(PS_MODULE), 1, no_pairs, NULL},
    {PWSH, 4104, K(PS_SCRIPT), 1, no_pairs, NULL},
    {"DeviceProcessEvents", 0, K(PROCESS_CREATION), 0, mde_process_pairs, fix_mde_process},
    {"DeviceNetworkEvents", 0, K(NETWORK_CONNECTION), 0, mde_network_pairs, fix_mde_network},
    {"DeviceLogonEvents", 0, K(LOGON), 0, mde_logon_pairs, fix_mde_logon},
    {"DeviceImageLoadEvents", 0, K(IMAGE_LOAD), 0, mde_image_pairs, NULL},
    {"DeviceRegistryEvents", 0, K(REGISTRY_SET), 0, mde_registry_pairs, fix_mde_registry},
    {"DeviceFileEvents", 0, K(FILE_EVENT), 0, mde_file_pairs, NULL},
};

const dh_map_row *dh_map_windows_find(dh_str provider, uint32_t event_id)
{
    /* 50 rows; the event id check rejects almost every row before any string compare. */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const dh_map_row *r = &rows[i];
        if (r->event_id != event_id)
            continue;
        size_t n = strlen(r->provider);
        if (n == provider.len && memcmp(r->provider, provider.ptr, n) == 0)
            return r;
    }
    return NULL;
}

int dh_map_row_fields(const dh_map_row *row, dh_str name, int8_t out[DH_MAP_MAX_TARGETS])
{
    int n = 0;
    if (name.len == 0)
        return 0;
    /* Called once per data item by the JSON and XML readers: the first byte rules out
     * most pairs before strlen. */
    for (const dh_map_pair *p = row->pairs; p->src && n < DH_MAP_MAX_TARGETS; p++) {
        if (p->src[0] == name.ptr[0] && strlen(p->src) == name.len &&
            memcmp(p->src, name.ptr, name.len) == 0)
            out[n++] = (int8_t)p->dst;
    }
    /* A data name equal to a taxonomy name maps to it too, unless the row gives that name
     * another meaning and fills the field from another name: Security 4688's "ProcessId"
     * is the creator (the new process's id is "NewProcessId"), whichever comes first in the
     * record (JSON exports reorder the data). */
    if (row->identity && n < DH_MAP_MAX_TARGETS) {
        int id = dh_field_from_name(name.ptr, name.len);
        int other = 0;
        for (const dh_map_pair *p = row->pairs; n && id >= 0 && p->src && !other; p++)
            other = (int)p->dst == id;
        if (id >= 0 && !other)
            out[n++] = (int8_t)id;
    }
    return n;
}

dh_kind dh_map_refine_kind(const dh_map_row *row, const dh_event *ev)
{
    if (row->kind == DH_KIND_REGISTRY_ADD) {
        dh_str t;
        if (dh_event_field(ev, DH_FIELD_EVENT_TYPE, &t) && t.len >= 6 &&
            memcmp(t.ptr, "Delete", 6) == 0)
            return DH_KIND_REGISTRY_DELETE;
    }
    return row->kind;
}

void dh_map_windows_apply(dh_event *ev)
{
    ev->present = 0;
    ev->kind = DH_KIND_OTHER;
    const dh_map_row *row = dh_map_windows_find(ev->provider, ev->event_id);
    if (!row)
        return;
    for (size_t i = 0; i < ev->ndata; i++) {
        int8_t ids[DH_MAP_MAX_TARGETS];
        int n = dh_map_row_fields(row, ev->data[i].name, ids);
        for (int k = 0; k < n; k++)
            if (!(ev->present & (1ULL << ids[k]))) {
                ev->fields[ids[k]] = ev->data[i].value;
                ev->present |= 1ULL << ids[k];
            }
    }
    ev->kind = dh_map_refine_kind(row, ev);
    if (row->fix)
        row->fix(ev);
}

/* Sentinel's Event table (System and Application logs) gives a Windows event's data as
 * ParameterXml, "<Param>v1</Param><Param>v2</Param>...", the values in order: they are
 * param1, param2, ... as Windows names the data of events such as DistributedCOM 10016.
 * Appends each value, entities decoded, to out and calls fn with its number. */
int dh_sentinel_params(const char *x, size_t n, dh_buf *out,
                       void (*fn)(void *ctx, unsigned index, size_t off, size_t len), void *ctx)
{
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
    unsigned index = 0;
    size_t i = 0;
    while (i + 7 <= n && index < DH_SENTINEL_MAX_PARAMS) {
        const char *open = NULL;
        for (size_t k = i; k + 7 <= n; k++)
            if (!memcmp(x + k, "<Param>", 7) || (k + 8 <= n && !memcmp(x + k, "<Param/>", 8))) {
                open = x + k;
                break;
            }
        if (!open)
            break;
        size_t at = (size_t)(open - x);
        index++;
        size_t start = out->len;
        if (at + 8 <= n && !memcmp(open, "<Param/>", 8)) { /* an empty value */
            fn(ctx, index, start, 0);
            i = at + 8;
            continue;
        }
        size_t k = at + 7;
        while (k < n && !(k + 8 <= n && !memcmp(x + k, "</Param>", 8))) {
            size_t e;
            for (e = 0; e < sizeof ents / sizeof ents[0]; e++) {
                size_t el = strlen(ents[e].ent);
                if (k + el <= n && !memcmp(x + k, ents[e].ent, el)) {
                    if (dh_buf_putc(out, ents[e].c))
                        return -1;
                    k += el;
                    break;
                }
            }
            if (e == sizeof ents / sizeof ents[0]) {
                if (dh_buf_putc(out, x[k]))
                    return -1;
                k++;
            }
        }
        if (k >= n)
            return -1; /* a Param not closed */
        fn(ctx, index, start, out->len - start);
        i = k + 8;
    }
    return 0;
}

const char *dh_sentinel_param_name(unsigned index)
{
    static const char *const names[DH_SENTINEL_MAX_PARAMS] = {
        "param1", "param2",  "param3",  "param4",  "param5",  "param6",  "param7",  "param8",
        "param9", "param10", "param11", "param12", "param13", "param14", "param15", "param16"};
    return index >= 1 && index <= DH_SENTINEL_MAX_PARAMS ? names[index - 1] : "param";
}

dh_str dh_sentinel_provider(dh_str source)
{
    /* Sentinel's Event table names a provider by its event source */
    if (source.len == 14 && !memcmp(source.ptr, "DistributedCOM", 14))
        return (dh_str){"Microsoft-Windows-DistributedCOM", 32};
    return source;
}
