/* Windows event schemas for writing EVTX (evtx_schema.h). The tables are read off real
 * logs (Windows 10 / Server 2016+ Security auditing, Sysmon 13+, PowerShell 5.1,
 * DistributedCOM and Service Control Manager): names, order and types as Windows writes
 * them. An event or field not listed is written as strings. */
#include "output/evtx_schema.h"

#include <string.h>

#define S   DH_EVTX_STRING
#define G   DH_EVTX_GUID
#define U8  DH_EVTX_U8
#define U16 DH_EVTX_U16
#define U32 DH_EVTX_U32
#define U64 DH_EVTX_U64
#define I32 DH_EVTX_I32
#define H32 DH_EVTX_HEX32
#define H64 DH_EVTX_HEX64
#define SID DH_EVTX_SID
#define B   DH_EVTX_BOOL
#define END                                                                                        \
    {                                                                                              \
        NULL, 0                                                                                    \
    }

#define SYSMON   "Microsoft-Windows-Sysmon"
#define SECURITY "Microsoft-Windows-Security-Auditing"
#define DCOM     "Microsoft-Windows-DistributedCOM"
#define SCM      "Service Control Manager"
#define PWSH     "Microsoft-Windows-PowerShell"

static const dh_evtx_provider providers[] = {
    {SYSMON, "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}", NULL, "Microsoft-Windows-Sysmon/Operational",
     -1, 4, 0x8000000000000000ULL, 1},
    {SECURITY, "{54849625-5478-4994-A5BA-3E3B0328C30D}", NULL, "Security", -1, 0,
     0x8020000000000000ULL, 0},
    {DCOM, "{1B562E86-B7AA-4131-BADC-B6F3A001407E}", "DCOM", "System", 0, 2, 0x8080000000000000ULL,
     0},
    {SCM, "{555908D1-A6D7-4695-8E1E-26931D2012F4}", "Service Control Manager", "System", 16384, 4,
     0x8080000000000000ULL, 0},
    {PWSH, "{A0C1853B-5C40-4B15-8766-3CF1C58F985A}", NULL,
     "Microsoft-Windows-PowerShell/Operational", -1, 4, 0, 0},
};

/* ---- Sysmon ---- */
static const dh_evtx_field sysmon1[] = {
    {"RuleName", S},
    {"UtcTime", S},
    {"ProcessGuid", G},
    {"ProcessId", U32},
    {"Image", S},
    {"FileVersion", S},
    {"Description", S},
    {"Product", S},
    {"Company", S},
    {"OriginalFileName", S},
    {"CommandLine", S},
    {"CurrentDirectory", S},
    {"User", S},
    {"LogonGuid", G},
    {"LogonId", H64},
    {"TerminalSessionId", U32},
    {"IntegrityLevel", S},
    {"Hashes", S},
    {"ParentProcessGuid", G},
    {"ParentProcessId", U32},
    {"ParentImage", S},
    {"ParentCommandLine", S},
    {"ParentUser", S},
    END,
};
static const dh_evtx_field sysmon3[] = {
    {"RuleName", S},
    {"UtcTime", S},
    {"ProcessGuid", G},
    {"ProcessId", U32},
    {"Image", S},
    {"User", S},
    {"Protocol", S},
    {"Initiated", B},
    {"SourceIsIpv6", B},
    {"SourceIp", S},
    {"SourceHostname", S},
    {"SourcePort", U16},
    {"SourcePortName", S},
    {"DestinationIsIpv6", B},
    {"DestinationIp", S},
    {"DestinationHostname", S},
    {"DestinationPort", U16},
    {"DestinationPortName", S},
    END,
};
static const dh_evtx_field sysmon5[] = {
    {"RuleName", S},
    {"UtcTime", S},
    {"ProcessGuid", G},
    {"ProcessId", U32},
    {"Image", S},
    {"User", S},
    END,
};
static const dh_evtx_field sysmon7[] = {
    {"RuleName", S},
    {"UtcTime", S},
    {"ProcessGuid", G},
    {"ProcessId", U32},
    {"Image", S},
    {"ImageLoaded", S},
    {"FileVersion", S},
    {"Description", S},
    {"Product", S},
    {"Company", S},
    {"OriginalFileName", S},
    {"Hashes", S},
    {"Signed", S},
    {"Signature", S},
    {"SignatureStatus", S},
    {"User", S},
    END,
};
static const dh_evtx_field sysmon10[] = {
    {"RuleName", S},          {"UtcTime", S},
    {"SourceProcessGUID", G}, {"SourceProcessId", U32},
    {"SourceThreadId", U32},  {"SourceImage", S},
    {"TargetProcessGUID", G}, {"TargetProcessId", U32},
    {"TargetImage", S},       {"GrantedAccess", H32},
    {"CallTrace", S},         {"SourceUser", S},
    {"TargetUser", S},        END,
};
static const dh_evtx_field sysmon11[] = {
    {"RuleName", S},        {"UtcTime", S}, {"ProcessGuid", G},
    {"ProcessId", U32},     {"Image", S},   {"TargetFilename", S},
    {"CreationUtcTime", S}, {"User", S},    END,
};
static const dh_evtx_field sysmon12[] = {
    {"RuleName", S},     {"EventType", S},   {"UtcTime", S},
    {"ProcessGuid", G},  {"ProcessId", U32}, {"Image", S},
    {"TargetObject", S}, {"User", S},        END,
};
static const dh_evtx_field sysmon13[] = {
    {"RuleName", S}, {"EventType", S},    {"UtcTime", S}, {"ProcessGuid", G}, {"ProcessId", U32},
    {"Image", S},    {"TargetObject", S}, {"Details", S}, {"User", S},        END,
};
static const dh_evtx_field sysmon17[] = {
    {"RuleName", S},    {"EventType", S},   {"UtcTime", S},
    {"ProcessGuid", G}, {"ProcessId", U32}, {"PipeName", S},
    {"Image", S},       {"User", S},        END,
};
static const dh_evtx_field sysmon22[] = {
    {"RuleName", S},     {"UtcTime", S},
    {"ProcessGuid", G},  {"ProcessId", U32},
    {"QueryName", S},    {"QueryStatus", S},
    {"QueryResults", S}, {"Image", S},
    {"User", S},         END,
};

/* ---- Security ---- */
static const dh_evtx_field sec4624[] = {
    {"SubjectUserSid", SID},
    {"SubjectUserName", S},
    {"SubjectDomainName", S},
    {"SubjectLogonId", H64},
    {"TargetUserSid", SID},
    {"TargetUserName", S},
    {"TargetDomainName", S},
    {"TargetLogonId", H64},
    {"LogonType", U32},
    {"LogonProcessName", S},
    {"AuthenticationPackageName", S},
    {"WorkstationName", S},
    {"LogonGuid", G},
    {"TransmittedServices", S},
    {"LmPackageName", S},
    {"KeyLength", U32},
    {"ProcessId", H64},
    {"ProcessName", S},
    {"IpAddress", S},
    {"IpPort", S},
    {"ImpersonationLevel", S},
    {"RestrictedAdminMode", S},
    {"TargetOutboundUserName", S},
    {"TargetOutboundDomainName", S},
    {"VirtualAccount", S},
    {"TargetLinkedLogonId", H64},
    {"ElevatedToken", S},
    END,
};
static const dh_evtx_field sec4625[] = {
    {"SubjectUserSid", SID},
    {"SubjectUserName", S},
    {"SubjectDomainName", S},
    {"SubjectLogonId", H64},
    {"TargetUserSid", SID},
    {"TargetUserName", S},
    {"TargetDomainName", S},
    {"Status", H32},
    {"FailureReason", S},
    {"SubStatus", H32},
    {"LogonType", U32},
    {"LogonProcessName", S},
    {"AuthenticationPackageName", S},
    {"WorkstationName", S},
    {"TransmittedServices", S},
    {"LmPackageName", S},
    {"KeyLength", U32},
    {"ProcessId", H64},
    {"ProcessName", S},
    {"IpAddress", S},
    {"IpPort", S},
    END,
};
static const dh_evtx_field sec4634[] = {
    {"TargetUserSid", SID}, {"TargetUserName", S}, {"TargetDomainName", S},
    {"TargetLogonId", H64}, {"LogonType", U32},    END,
};
static const dh_evtx_field sec4648[] = {
    {"SubjectUserSid", SID}, {"SubjectUserName", S}, {"SubjectDomainName", S},
    {"SubjectLogonId", H64}, {"LogonGuid", G},       {"TargetUserName", S},
    {"TargetDomainName", S}, {"TargetLogonGuid", G}, {"TargetServerName", S},
    {"TargetInfo", S},       {"ProcessId", H64},     {"ProcessName", S},
    {"IpAddress", S},        {"IpPort", S},          END,
};
static const dh_evtx_field sec4672[] = {
    {"SubjectUserSid", SID}, {"SubjectUserName", S}, {"SubjectDomainName", S},
    {"SubjectLogonId", H64}, {"PrivilegeList", S},   END,
};
static const dh_evtx_field sec4688[] = {
    {"SubjectUserSid", SID},   {"SubjectUserName", S},
    {"SubjectDomainName", S},  {"SubjectLogonId", H64},
    {"NewProcessId", H64},     {"NewProcessName", S},
    {"TokenElevationType", S}, {"ProcessId", H64},
    {"CommandLine", S},        {"TargetUserSid", SID},
    {"TargetUserName", S},     {"TargetDomainName", S},
    {"TargetLogonId", H64},    {"ParentProcessName", S},
    {"MandatoryLabel", SID},   END,
};
static const dh_evtx_field sec4689[] = {
    {"SubjectUserSid", SID},  {"SubjectUserName", S},
    {"SubjectDomainName", S}, {"SubjectLogonId", H64},
    {"Status", H32},          {"ProcessId", H64},
    {"ProcessName", S},       END,
};
static const dh_evtx_field sec4768[] = {
    {"TargetUserName", S},
    {"TargetDomainName", S},
    {"TargetSid", SID},
    {"ServiceName", S},
    {"ServiceSid", SID},
    {"TicketOptions", H32},
    {"Status", H32},
    {"TicketEncryptionType", H32},
    {"PreAuthType", S},
    {"IpAddress", S},
    {"IpPort", S},
    {"CertIssuerName", S},
    {"CertSerialNumber", S},
    {"CertThumbprint", S},
    END,
};
static const dh_evtx_field sec4769[] = {
    {"TargetUserName", S},
    {"TargetDomainName", S},
    {"ServiceName", S},
    {"ServiceSid", SID},
    {"TicketOptions", H32},
    {"TicketEncryptionType", H32},
    {"IpAddress", S},
    {"IpPort", S},
    {"Status", H32},
    {"LogonGuid", G},
    {"TransmittedServices", S},
    END,
};
static const dh_evtx_field sec4776[] = {
    {"PackageName", S}, {"TargetUserName", S}, {"Workstation", S}, {"Status", H32}, END,
};
static const dh_evtx_field sec5140[] = {
    {"SubjectUserSid", SID}, {"SubjectUserName", S}, {"SubjectDomainName", S},
    {"SubjectLogonId", H64}, {"ObjectType", S},      {"IpAddress", S},
    {"IpPort", S},           {"ShareName", S},       {"ShareLocalPath", S},
    {"AccessMask", H32},     {"AccessList", S},      END,
};
static const dh_evtx_field sec5145[] = {
    {"SubjectUserSid", SID},
    {"SubjectUserName", S},
    {"SubjectDomainName", S},
    {"SubjectLogonId", H64},
    {"ObjectType", S},
    {"IpAddress", S},
    {"IpPort", S},
    {"ShareName", S},
    {"ShareLocalPath", S},
    {"RelativeTargetName", S},
    {"AccessMask", H32},
    {"AccessList", S},
    {"AccessReason", S},
    END,
};
static const dh_evtx_field sec5156[] = {
    {"ProcessID", U64},       {"Application", S},
    {"Direction", S},         {"SourceAddress", S},
    {"SourcePort", S},        {"DestAddress", S},
    {"DestPort", S},          {"Protocol", U32},
    {"FilterRTID", U64},      {"LayerName", S},
    {"LayerRTID", U64},       {"RemoteUserID", SID},
    {"RemoteMachineID", SID}, END,
};
static const dh_evtx_field sec5158[] = {
    {"ProcessId", U64}, {"Application", S}, {"SourceAddress", S},
    {"SourcePort", S},  {"Protocol", U32},  {"FilterRTID", U64},
    {"LayerName", S},   {"LayerRTID", U64}, END,
};

/* ---- System ---- */
static const dh_evtx_field dcom10016[] = {
    {"param1", S}, {"param2", S}, {"param3", S}, {"param4", S},  {"param5", S},  {"param6", S},
    {"param7", S}, {"param8", S}, {"param9", S}, {"param10", S}, {"param11", S}, END,
};
static const dh_evtx_field params4[] = {
    {"param1", S}, {"param2", S}, {"param3", S}, {"param4", S}, END,
};
static const dh_evtx_field params2[] = {{"param1", S}, {"param2", S}, END};
static const dh_evtx_field scm7045[] = {
    {"ServiceName", S}, {"ImagePath", S},   {"ServiceType", S},
    {"StartType", S},   {"AccountName", S}, END,
};

/* ---- PowerShell ---- */
static const dh_evtx_field ps4103[] = {{"ContextInfo", S}, {"UserData", S}, {"Payload", S}, END};
static const dh_evtx_field ps4104[] = {
    {"MessageNumber", I32}, {"MessageTotal", I32}, {"ScriptBlockText", S},
    {"ScriptBlockId", S},   {"Path", S},           END,
};
static const dh_evtx_field none[] = {END};

#define SEC_OK   0x8020000000000000ULL
#define SEC_FAIL 0x8010000000000000ULL

static const dh_evtx_schema schemas[] = {
    /* provider, id, version, level, opcode, task, keywords, fields */
    {SYSMON, 1, 5, 4, 0, 1, 0, sysmon1},
    {SYSMON, 3, 5, 4, 0, 3, 0, sysmon3},
    {SYSMON, 5, 3, 4, 0, 5, 0, sysmon5},
    {SYSMON, 7, 3, 4, 0, 7, 0, sysmon7},
    {SYSMON, 10, 3, 4, 0, 10, 0, sysmon10},
    {SYSMON, 11, 2, 4, 0, 11, 0, sysmon11},
    {SYSMON, 12, 2, 4, 0, 12, 0, sysmon12},
    {SYSMON, 13, 2, 4, 0, 13, 0, sysmon13},
    {SYSMON, 17, 1, 4, 0, 17, 0, sysmon17},
    {SYSMON, 18, 1, 4, 0, 18, 0, sysmon17},
    {SYSMON, 22, 5, 4, 0, 22, 0, sysmon22},
    {SECURITY, 4624, 2, 0, 0, 12544, SEC_OK, sec4624},
    {SECURITY, 4625, 0, 0, 0, 12544, SEC_FAIL, sec4625},
    {SECURITY, 4634, 0, 0, 0, 12545, SEC_OK, sec4634},
    {SECURITY, 4648, 0, 0, 0, 12544, SEC_OK, sec4648},
    {SECURITY, 4672, 0, 0, 0, 12548, SEC_OK, sec4672},
    {SECURITY, 4688, 2, 0, 0, 13312, SEC_OK, sec4688},
    {SECURITY, 4689, 0, 0, 0, 13313, SEC_OK, sec4689},
    {SECURITY, 4768, 0, 0, 0, 14339, SEC_OK, sec4768},
    {SECURITY, 4769, 0, 0, 0, 14337, SEC_OK, sec4769},
    {SECURITY, 4776, 0, 0, 0, 14336, SEC_OK, sec4776},
    {SECURITY, 5140, 1, 0, 0, 12808, SEC_OK, sec5140},
    {SECURITY, 5145, 0, 0, 0, 12811, SEC_OK, sec5145},
    {SECURITY, 5156, 1, 0, 0, 12810, SEC_OK, sec5156},
    {SECURITY, 5158, 0, 0, 0, 12810, SEC_OK, sec5158},
    {DCOM, 10016, 0, 2, 0, 0, 0, dcom10016},
    {DCOM, 10028, 0, 2, 0, 0, 0, params4},
    {DCOM, 10036, 0, 2, 0, 0, 0, params4},
    {SCM, 7036, 0, 4, 0, 0, 0, params2},
    {SCM, 7045, 0, 4, 0, 0, 0, scm7045},
    {PWSH, 4103, 1, 4, 20, 106, 0, ps4103},
    {PWSH, 4104, 1, 5, 15, 2, 0, ps4104},
    {PWSH, 40961, 1, 4, 1, 4, 0, none},
    {PWSH, 40962, 1, 4, 2, 4, 0, none},
    {PWSH, 53504, 1, 4, 10, 111, 0, params2},
};

static int eq(const char *a, const char *b, size_t n)
{
    return strlen(a) == n && !memcmp(a, b, n);
}

const dh_evtx_provider *dh_evtx_provider_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof providers / sizeof providers[0]; i++)
        if (eq(providers[i].name, name, len))
            return &providers[i];
    return NULL;
}

const dh_evtx_schema *dh_evtx_schema_find(const char *provider, size_t len, uint32_t event_id)
{
    for (size_t i = 0; i < sizeof schemas / sizeof schemas[0]; i++)
        if (schemas[i].event_id == event_id && eq(schemas[i].provider, provider, len))
            return &schemas[i];
    return NULL;
}

uint8_t dh_evtx_schema_type(const dh_evtx_schema *s, const char *name, size_t len)
{
    for (const dh_evtx_field *f = s ? s->fields : NULL; f && f->name; f++)
        if (eq(f->name, name, len))
            return f->type;
    return 0;
}

/* Appends a NUL-terminated copy; returns its offset in b, or -1. */
static long put_cstr(dh_buf *b, dh_str s)
{
    size_t off = b->len;
    if (dh_buf_append(b, s.ptr ? s.ptr : "", s.len) || dh_buf_putc(b, 0))
        return -1;
    return (long)off;
}

dh_status dh_evtx_record_from_text(const dh_evtx_text_event *e, dh_evtx_record *r,
                                   dh_evtx_item *items, size_t cap, dh_buf *scratch)
{
    const dh_evtx_provider *p = dh_evtx_provider_find(e->provider.ptr, e->provider.len);
    const dh_evtx_schema *s = dh_evtx_schema_find(e->provider.ptr, e->provider.len, e->event_id);
    scratch->len = 0;
    long o_prov = put_cstr(scratch, e->provider), o_chan = put_cstr(scratch, e->channel),
         o_host = put_cstr(scratch, e->host);
    if (o_prov < 0 || o_chan < 0 || o_host < 0)
        return DH_ERR_NOMEM;
    /* Items as offsets first: scratch may move while it grows. */
    size_t n = 0;
    struct {
        long name, data;
        uint32_t len;
        uint8_t type;
    } tmp[256];
    for (size_t i = 0; i < e->ndata;) {
        dh_str name = e->data[i].name;
        size_t j = i + 1;
        while (j < e->ndata && e->data[j].name.len == name.len &&
               !memcmp(e->data[j].name.ptr, name.ptr, name.len))
            j++;
        if (n >= cap || n >= sizeof tmp / sizeof tmp[0])
            return DH_ERR_LIMIT;
        long on = put_cstr(scratch, name);
        if (on < 0)
            return DH_ERR_NOMEM;
        long od = (long)scratch->len;
        uint8_t type = DH_EVTX_STRING;
        if (j - i > 1) {
            /* an array: the elements, each closed by a NUL */
            for (size_t k = i; k < j; k++)
                if (put_cstr(scratch, e->data[k].value) < 0)
                    return DH_ERR_NOMEM;
            type = DH_EVTX_STRING | DH_EVTX_ARRAY;
        } else {
            dh_str v = e->data[i].value;
            uint8_t want = dh_evtx_schema_type(s, name.ptr, name.len);
            uint8_t buf[80];
            int len = want && want != DH_EVTX_STRING
                          ? dh_evtx_value_parse(want, v.ptr ? v.ptr : "", v.len, buf, sizeof buf)
                          : -1;
            if (len >= 0) {
                if (dh_buf_append(scratch, buf, (size_t)len))
                    return DH_ERR_NOMEM;
                type = want;
            } else if (dh_buf_append(scratch, v.ptr ? v.ptr : "", v.len)) {
                return DH_ERR_NOMEM;
            }
        }
        tmp[n].name = on;
        tmp[n].data = od;
        tmp[n].len = (uint32_t)(scratch->len - (size_t)od);
        tmp[n].type = type;
        n++;
        i = j;
    }
    memset(r, 0, sizeof *r);
    const char *base = scratch->data;
    for (size_t i = 0; i < n; i++) {
        items[i].name = base + tmp[i].name;
        items[i].value = (dh_evtx_value){tmp[i].type, tmp[i].len, base + tmp[i].data};
    }
    r->provider = base + o_prov;
    r->channel = base + o_chan;
    r->computer = base + o_host;
    r->event_id = (uint16_t)e->event_id;
    r->record_id = e->record_id;
    r->time = e->time;
    r->process_id = e->process_id;
    r->thread_id = e->thread_id;
    r->user_sid = e->user_sid;
    r->activity_id = e->activity_id;
    r->items = items;
    r->nitems = n;
    r->qualifiers = -1;
    if (p) {
        r->provider_guid = p->guid;
        r->event_source = p->event_source;
        r->qualifiers = p->qualifiers;
        r->level = p->level;
        r->keywords = p->keywords;
        if (p->task_is_id)
            r->task = (uint16_t)e->event_id;
        if (p->event_source) {
            /* a classic source's channel is part of its template: keep the event's own */
            r->channel = base + o_chan;
        }
    }
    if (s) {
        r->version = s->version;
        r->level = s->level;
        r->opcode = s->opcode;
        r->task = s->task;
        if (s->keywords)
            r->keywords = s->keywords;
    }
    return DH_OK;
}
