/* Events written as Microsoft Defender advanced-hunting rows (dcomhunt dump --to
 * mde-json|mde-csv): process creations as DeviceProcessEvents, connections as
 * DeviceNetworkEvents, logons as DeviceLogonEvents, image loads as DeviceImageLoadEvents,
 * registry changes as DeviceRegistryEvents. Columns are Defender's own; the table's name
 * goes in a "Table" column (dcomhunt reads it back; exports by query hold one table and
 * leave it out). Events no Defender table holds (DistributedCOM errors, PowerShell script
 * blocks, special logons...) are not written. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/timefmt.h"
#include "event/mappings/defender.h"
#include "output/json.h"
#include "output/mde.h"
#include "output/text.h"
#include "output/typed.h"

#define COLUMNS(X)                                                                                 \
    X(TIMESTAMP, Timestamp)                                                                        \
    X(DEVICE_ID, DeviceId)                                                                         \
    X(DEVICE_NAME, DeviceName)                                                                     \
    X(ACTION_TYPE, ActionType)                                                                     \
    X(FILE_NAME, FileName)                                                                         \
    X(FOLDER_PATH, FolderPath)                                                                     \
    X(PROCESS_ID, ProcessId)                                                                       \
    X(PROCESS_COMMAND_LINE, ProcessCommandLine)                                                    \
    X(PROCESS_INTEGRITY_LEVEL, ProcessIntegrityLevel)                                              \
    X(ORIGINAL_FILE_NAME, ProcessVersionInfoOriginalFileName)                                      \
    X(ACCOUNT_DOMAIN, AccountDomain)                                                               \
    X(ACCOUNT_NAME, AccountName)                                                                   \
    X(ACCOUNT_SID, AccountSid)                                                                     \
    X(LOGON_ID, LogonId)                                                                           \
    X(LOGON_TYPE, LogonType)                                                                       \
    X(PROTOCOL, Protocol)                                                                          \
    X(LOCAL_IP, LocalIP)                                                                           \
    X(LOCAL_PORT, LocalPort)                                                                       \
    X(REMOTE_IP, RemoteIP)                                                                         \
    X(REMOTE_PORT, RemotePort)                                                                     \
    X(REMOTE_DEVICE_NAME, RemoteDeviceName)                                                        \
    X(REMOTE_URL, RemoteUrl)                                                                       \
    X(REGISTRY_KEY, RegistryKey)                                                                   \
    X(REGISTRY_VALUE_DATA, RegistryValueData)                                                      \
    X(INIT_FILE_NAME, InitiatingProcessFileName)                                                   \
    X(INIT_FOLDER_PATH, InitiatingProcessFolderPath)                                               \
    X(INIT_COMMAND_LINE, InitiatingProcessCommandLine)                                             \
    X(INIT_PROCESS_ID, InitiatingProcessId)                                                        \
    X(INIT_ACCOUNT_DOMAIN, InitiatingProcessAccountDomain)                                         \
    X(INIT_ACCOUNT_NAME, InitiatingProcessAccountName)                                             \
    X(REPORT_ID, ReportId)                                                                         \
    X(TABLE, Table)

enum {
#define C(id, name) COL_##id,
    COLUMNS(C)
#undef C
        NCOL
};

/* The columns in the order written (a CSV header's order), as schema ids. */
static const dh_defender_col col_ids[NCOL] = {
#define C(id, name) DH_MDE_COL_##name,
    COLUMNS(C)
#undef C
};

static const char *col_name(int c)
{
    return dh_defender_name(col_ids[c]);
}

/* Written as a JSON number when the value is one: the schema's long and int columns. */
static int col_number(int c)
{
    char t = dh_defender_column_of(col_ids[c])->type;
    return t == 'L' || t == 'I';
}

typedef struct row {
    dh_str v[NCOL];
    char num[4][24]; /* decimal renderings of hexadecimal ids */
    int nnum;
    char rid[24], ts[40], did[41];
} row;

static dh_str field(const dh_event *ev, dh_field id)
{
    dh_str s = {"", 0};
    dh_event_field(ev, id, &s);
    return s;
}

static dh_str lit(const char *s)
{
    return (dh_str){s, strlen(s)};
}

/* Windows logs write ids in hexadecimal ("0x1ea3c6"); Defender in decimal. */
static dh_str decimal(row *r, dh_str s)
{
    if (s.len < 3 || s.ptr[0] != '0' || (s.ptr[1] != 'x' && s.ptr[1] != 'X') || r->nnum >= 4)
        return s;
    unsigned long long v = 0;
    for (size_t i = 2; i < s.len; i++) {
        char c = s.ptr[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0 || v >> 60)
            return s;
        v = v * 16 + (unsigned)d;
    }
    char *b = r->num[r->nnum++];
    snprintf(b, 24, "%llu", v);
    return lit(b);
}

/* Defender names a machine by a 40-hex-digit DeviceId that Windows logs do not hold; rows
 * are joined on it (by device, logon id, process id). Written here as a stable stand-in
 * made from the host's bare name, lowercased: every row of one host carries the same id in
 * every table and every run. Five 32-bit FNV-1a hashes with different offsets, not a
 * digest: only stability is needed. */
static dh_str device_id(row *r, dh_str host)
{
    size_t n = 0;
    while (n < host.len && host.ptr[n] != '.')
        n++;
    if (!n)
        return (dh_str){"", 0};
    for (unsigned k = 0; k < 5; k++) {
        uint32_t h = 2166136261u ^ (k * 0x9e3779b9u);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)host.ptr[i];
            h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32 : c)) * 16777619u;
        }
        snprintf(r->did + 8 * k, 9, "%08x", h);
    }
    return (dh_str){r->did, 40};
}

/* Fills the row; 0 if no Defender table holds this event. */
static int fill(row *r, const dh_event *ev)
{
    memset(r, 0, sizeof *r);
    const char *table;
    switch (dh_event_kind(ev)) {
    case DH_KIND_PROCESS_CREATION: {
        table = dh_defender_table_name(DH_DEFENDER_PROCESS_EVENTS);
        r->v[COL_ACTION_TYPE] = lit("ProcessCreated");
        dh_str img = field(ev, DH_FIELD_IMAGE), pimg = field(ev, DH_FIELD_PARENT_IMAGE);
        r->v[COL_FILE_NAME] = dh_typed_basename(img);
        r->v[COL_FOLDER_PATH] = img;
        r->v[COL_PROCESS_ID] = decimal(r, field(ev, DH_FIELD_PROCESS_ID));
        r->v[COL_PROCESS_COMMAND_LINE] = field(ev, DH_FIELD_COMMAND_LINE);
        r->v[COL_PROCESS_INTEGRITY_LEVEL] = field(ev, DH_FIELD_INTEGRITY_LEVEL);
        r->v[COL_ORIGINAL_FILE_NAME] = field(ev, DH_FIELD_ORIGINAL_FILE_NAME);
        dh_typed_account(field(ev, DH_FIELD_USER), &r->v[COL_ACCOUNT_DOMAIN],
                         &r->v[COL_ACCOUNT_NAME]);
        r->v[COL_LOGON_ID] = decimal(r, field(ev, DH_FIELD_LOGON_ID));
        r->v[COL_INIT_FILE_NAME] = dh_typed_basename(pimg);
        r->v[COL_INIT_FOLDER_PATH] = pimg;
        r->v[COL_INIT_COMMAND_LINE] = field(ev, DH_FIELD_PARENT_COMMAND_LINE);
        r->v[COL_INIT_PROCESS_ID] = decimal(r, field(ev, DH_FIELD_PARENT_PROCESS_ID));
        dh_typed_account(field(ev, DH_FIELD_PARENT_USER), &r->v[COL_INIT_ACCOUNT_DOMAIN],
                         &r->v[COL_INIT_ACCOUNT_NAME]);
        break;
    }
    case DH_KIND_NETWORK_CONNECTION: {
        dh_str init = field(ev, DH_FIELD_INITIATED);
        int inbound = init.len == 5 && !memcmp(init.ptr, "false", 5);
        table = dh_defender_table_name(DH_DEFENDER_NETWORK_EVENTS);
        r->v[COL_ACTION_TYPE] = lit(inbound ? "InboundConnectionAccepted" : "ConnectionSuccess");
        dh_str sip = field(ev, DH_FIELD_SOURCE_IP), sp = field(ev, DH_FIELD_SOURCE_PORT);
        dh_str dip = field(ev, DH_FIELD_DESTINATION_IP), dp = field(ev, DH_FIELD_DESTINATION_PORT);
        r->v[COL_LOCAL_IP] = inbound ? dip : sip;
        r->v[COL_LOCAL_PORT] = inbound ? dp : sp;
        r->v[COL_REMOTE_IP] = inbound ? sip : dip;
        r->v[COL_REMOTE_PORT] = inbound ? sp : dp;
        r->v[COL_REMOTE_URL] = field(ev, DH_FIELD_DESTINATION_HOSTNAME);
        dh_str proto = field(ev, DH_FIELD_PROTOCOL);
        r->v[COL_PROTOCOL] = proto.len == 3 && !memcmp(proto.ptr, "tcp", 3)   ? lit("Tcp")
                             : proto.len == 3 && !memcmp(proto.ptr, "udp", 3) ? lit("Udp")
                                                                              : proto;
        dh_str img = field(ev, DH_FIELD_IMAGE);
        r->v[COL_INIT_FILE_NAME] = dh_typed_basename(img);
        r->v[COL_INIT_FOLDER_PATH] = img;
        r->v[COL_INIT_PROCESS_ID] = decimal(r, field(ev, DH_FIELD_PROCESS_ID));
        dh_typed_account(field(ev, DH_FIELD_USER), &r->v[COL_INIT_ACCOUNT_DOMAIN],
                         &r->v[COL_INIT_ACCOUNT_NAME]);
        break;
    }
    case DH_KIND_LOGON:
    case DH_KIND_LOGON_FAILED: {
        table = dh_defender_table_name(DH_DEFENDER_LOGON_EVENTS);
        r->v[COL_ACTION_TYPE] =
            lit(dh_event_kind(ev) == DH_KIND_LOGON ? "LogonSuccess" : "LogonFailed");
        const char *lt = dh_typed_logon_type(field(ev, DH_FIELD_LOGON_TYPE));
        if (lt)
            r->v[COL_LOGON_TYPE] = lit(lt);
        r->v[COL_ACCOUNT_DOMAIN] = field(ev, DH_FIELD_TARGET_DOMAIN_NAME);
        r->v[COL_ACCOUNT_NAME] = field(ev, DH_FIELD_TARGET_USER_NAME);
        r->v[COL_ACCOUNT_SID] = field(ev, DH_FIELD_TARGET_USER_SID);
        r->v[COL_REMOTE_IP] = field(ev, DH_FIELD_SOURCE_IP);
        r->v[COL_REMOTE_PORT] = field(ev, DH_FIELD_SOURCE_PORT);
        r->v[COL_REMOTE_DEVICE_NAME] = field(ev, DH_FIELD_SOURCE_HOSTNAME);
        r->v[COL_LOGON_ID] = decimal(r, field(ev, DH_FIELD_LOGON_ID));
        r->v[COL_PROTOCOL] = field(ev, DH_FIELD_AUTH_PACKAGE);
        break;
    }
    case DH_KIND_IMAGE_LOAD: {
        table = dh_defender_table_name(DH_DEFENDER_IMAGE_LOAD_EVENTS);
        r->v[COL_ACTION_TYPE] = lit("ImageLoaded");
        dh_str dll = field(ev, DH_FIELD_IMAGE_LOADED), img = field(ev, DH_FIELD_IMAGE);
        r->v[COL_FILE_NAME] = dh_typed_basename(dll);
        r->v[COL_FOLDER_PATH] = dll;
        r->v[COL_INIT_FILE_NAME] = dh_typed_basename(img);
        r->v[COL_INIT_FOLDER_PATH] = img;
        r->v[COL_INIT_PROCESS_ID] = decimal(r, field(ev, DH_FIELD_PROCESS_ID));
        break;
    }
    case DH_KIND_REGISTRY_ADD:
    case DH_KIND_REGISTRY_DELETE:
    case DH_KIND_REGISTRY_SET: {
        dh_kind k = dh_event_kind(ev);
        table = dh_defender_table_name(DH_DEFENDER_REGISTRY_EVENTS);
        r->v[COL_ACTION_TYPE] = lit(k == DH_KIND_REGISTRY_ADD      ? "RegistryKeyCreated"
                                    : k == DH_KIND_REGISTRY_DELETE ? "RegistryKeyDeleted"
                                                                   : "RegistryValueSet");
        r->v[COL_REGISTRY_KEY] = field(ev, DH_FIELD_TARGET_OBJECT);
        r->v[COL_REGISTRY_VALUE_DATA] = field(ev, DH_FIELD_DETAILS);
        dh_str img = field(ev, DH_FIELD_IMAGE);
        r->v[COL_INIT_FILE_NAME] = dh_typed_basename(img);
        r->v[COL_INIT_FOLDER_PATH] = img;
        r->v[COL_INIT_PROCESS_ID] = decimal(r, field(ev, DH_FIELD_PROCESS_ID));
        break;
    }
    default:
        return 0;
    }
    /* a buffer over r->ts: its limit equals its capacity, so it never reallocates */
    dh_buf tb = {.data = r->ts, .len = 0, .cap = sizeof r->ts, .limit = sizeof r->ts};
    if (dh_time_put_iso(&tb, dh_event_time(ev)) == DH_OK)
        r->v[COL_TIMESTAMP] = (dh_str){r->ts, tb.len};
    r->v[COL_DEVICE_NAME] = dh_event_host(ev);
    r->v[COL_DEVICE_ID] = device_id(r, r->v[COL_DEVICE_NAME]);
    snprintf(r->rid, sizeof r->rid, "%llu", (unsigned long long)dh_event_record_id(ev));
    r->v[COL_REPORT_ID] = lit(r->rid);
    r->v[COL_TABLE] = lit(table);
    return 1;
}

static int is_number(dh_str s)
{
    if (!s.len || s.len > 20 || (s.len > 1 && s.ptr[0] == '0'))
        return 0;
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return 0;
    return 1;
}

dh_status dh_mde_json_event(dh_buf *b, const dh_event *ev, int *written)
{
    row r;
    *written = fill(&r, ev);
    if (!*written)
        return DH_OK;
    dh_status st = dh_buf_putc(b, '{');
    int first = 1;
    for (int c = 0; c < NCOL && !st; c++) {
        if (!r.v[c].len)
            continue; /* Defender leaves such columns empty; they are left out */
        if (!first)
            st = dh_buf_putc(b, ',');
        first = 0;
        if (!st)
            st = dh_json_string(b, col_name(c), strlen(col_name(c)));
        if (!st)
            st = dh_buf_putc(b, ':');
        if (!st)
            st = col_number(c) && is_number(r.v[c]) ? dh_buf_append(b, r.v[c].ptr, r.v[c].len)
                                                    : dh_json_string(b, r.v[c].ptr, r.v[c].len);
    }
    if (!st)
        st = dh_buf_puts(b, "}\n");
    return st;
}

dh_status dh_mde_csv_header(dh_buf *b)
{
    dh_status st = DH_OK;
    for (int c = 0; c < NCOL && !st; c++) {
        if (c)
            st = dh_buf_putc(b, ',');
        if (!st)
            st = dh_buf_puts(b, col_name(c));
    }
    return st ? st : dh_buf_puts(b, "\r\n");
}

dh_status dh_mde_csv_event(dh_buf *b, const dh_event *ev, int *written)
{
    row r;
    *written = fill(&r, ev);
    if (!*written)
        return DH_OK;
    dh_status st = DH_OK;
    for (int c = 0; c < NCOL && !st; c++) {
        if (c)
            st = dh_buf_putc(b, ',');
        if (!st)
            st = dh_csv_cell_flags(b, r.v[c].ptr ? r.v[c].ptr : "", r.v[c].len, DH_TEXT_KEEP_LINES);
    }
    return st ? st : dh_buf_puts(b, "\r\n");
}
