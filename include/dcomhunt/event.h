/* dcomhunt: the normalized event.
 *
 * Every reader turns its input into dh_event values: an envelope (kind, time, host,
 * channel, provider, event id, record id, provenance) plus fields. Fields named by the
 * Sigma taxonomy are addressed by a small integer id (dh_field); every field the input
 * carried is also reachable by its original name.
 *
 * Ownership: a dh_event and every string it points to are borrowed. They are valid only
 * during the callback that received the event (they live in the reader's per-record arena
 * and the unit's bytes). Copy what you keep (dh_event_pack below); an owned copy from
 * dh_event_unpack is the caller's until dh_event_free. Strings are UTF-8,
 * length-delimited, not NUL-terminated. */
#ifndef DCOMHUNT_EVENT_H
#define DCOMHUNT_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/buf.h"
#include "dcomhunt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dh_str {
    const char *ptr;
    size_t len;
} dh_str;

/* Event kinds: Sigma logsource categories where one exists. Numbers are pinned. */
#define DH_KIND_LIST(X)                                                                            \
    X(OTHER, "other")                                                                              \
    X(PROCESS_CREATION, "process_creation")                                                        \
    X(NETWORK_CONNECTION, "network_connection")                                                    \
    X(LOGON, "logon")                                                                              \
    X(LOGON_FAILED, "logon_failed")                                                                \
    X(EXPLICIT_LOGON, "explicit_logon")                                                            \
    X(SPECIAL_LOGON, "special_logon")                                                              \
    X(PRIVILEGE_USE, "privilege_use")                                                              \
    X(SHARE_ACCESS, "share_access")                                                                \
    X(IMAGE_LOAD, "image_load")                                                                    \
    X(FILE_EVENT, "file_event")                                                                    \
    X(REGISTRY_ADD, "registry_add")                                                                \
    X(REGISTRY_DELETE, "registry_delete")                                                          \
    X(REGISTRY_SET, "registry_set")                                                                \
    X(REGISTRY_RENAME, "registry_rename")                                                          \
    X(DCOM_ERROR, "dcom_error")                                                                    \
    X(SERVICE_INSTALL, "service_install")                                                          \
    X(PS_SCRIPT, "ps_script")                                                                      \
    X(PS_MODULE, "ps_module")                                                                      \
    X(PROCESS_TERMINATION, "process_termination")                                                  \
    X(PROCESS_ACCESS, "process_access")                                                            \
    X(CREATE_REMOTE_THREAD, "create_remote_thread")                                                \
    X(DNS_QUERY, "dns_query")                                                                      \
    X(PIPE_CREATED, "pipe_created")                                                                \
    X(WMI_EVENT, "wmi_event")                                                                      \
    X(FILE_DELETE, "file_delete")                                                                  \
    X(RPC_CALL, "rpc_call")                                                                        \
    X(CREATE_STREAM_HASH, "create_stream_hash")                                                    \
    X(DRIVER_LOAD, "driver_load")                                                                  \
    X(FILE_CHANGE, "file_change")                                                                  \
    X(RAW_ACCESS_THREAD, "raw_access_thread")                                                      \
    X(PROCESS_TAMPERING, "process_tampering")                                                      \
    X(FILE_EXECUTABLE_DETECTED, "file_executable_detected")                                        \
    X(SYSMON_STATUS, "sysmon_status")                                                              \
    X(SYSMON_ERROR, "sysmon_error")                                                                \
    X(PS_CLASSIC_START, "ps_classic_start")                                                        \
    X(PS_CLASSIC_PROVIDER_START, "ps_classic_provider_start")                                      \
    X(PS_CLASSIC_SCRIPT, "ps_classic_script")                                                      \
    X(FILE_ACCESS, "file_access")                                                                  \
    X(FILE_RENAME, "file_rename")                                                                  \
    X(TASK_CREATE, "task_create")

typedef enum dh_kind {
#define DH_X(id, name) DH_KIND_##id,
    DH_KIND_LIST(DH_X)
#undef DH_X
        DH_KIND_COUNT
} dh_kind;

/* Taxonomy fields addressed by id. The second column is the Sigma field name. */
#define DH_FIELD_LIST(X)                                                                           \
    X(IMAGE, "Image")                                                                              \
    X(ORIGINAL_FILE_NAME, "OriginalFileName")                                                      \
    X(COMMAND_LINE, "CommandLine")                                                                 \
    X(CURRENT_DIRECTORY, "CurrentDirectory")                                                       \
    X(USER, "User")                                                                                \
    X(LOGON_ID, "LogonId")                                                                         \
    X(LOGON_GUID, "LogonGuid")                                                                     \
    X(INTEGRITY_LEVEL, "IntegrityLevel")                                                           \
    X(HASHES, "Hashes")                                                                            \
    X(PROCESS_GUID, "ProcessGuid")                                                                 \
    X(PROCESS_ID, "ProcessId")                                                                     \
    X(PARENT_PROCESS_GUID, "ParentProcessGuid")                                                    \
    X(PARENT_PROCESS_ID, "ParentProcessId")                                                        \
    X(PARENT_IMAGE, "ParentImage")                                                                 \
    X(PARENT_COMMAND_LINE, "ParentCommandLine")                                                    \
    X(PARENT_USER, "ParentUser")                                                                   \
    X(SOURCE_IP, "SourceIp")                                                                       \
    X(SOURCE_PORT, "SourcePort")                                                                   \
    X(SOURCE_HOSTNAME, "SourceHostname")                                                           \
    X(DESTINATION_IP, "DestinationIp")                                                             \
    X(DESTINATION_PORT, "DestinationPort")                                                         \
    X(DESTINATION_HOSTNAME, "DestinationHostname")                                                 \
    X(PROTOCOL, "Protocol")                                                                        \
    X(INITIATED, "Initiated")                                                                      \
    X(LOGON_TYPE, "LogonType")                                                                     \
    X(TARGET_USER_NAME, "TargetUserName")                                                          \
    X(TARGET_DOMAIN_NAME, "TargetDomainName")                                                      \
    X(TARGET_USER_SID, "TargetUserSid")                                                            \
    X(TARGET_LOGON_ID, "TargetLogonId")                                                            \
    X(SUBJECT_USER_NAME, "SubjectUserName")                                                        \
    X(SUBJECT_DOMAIN_NAME, "SubjectDomainName")                                                    \
    X(SUBJECT_LOGON_ID, "SubjectLogonId")                                                          \
    X(WORKSTATION_NAME, "WorkstationName")                                                         \
    X(AUTH_PACKAGE, "AuthenticationPackageName")                                                   \
    X(LOGON_PROCESS_NAME, "LogonProcessName")                                                      \
    X(IMAGE_LOADED, "ImageLoaded")                                                                 \
    X(SIGNED, "Signed")                                                                            \
    X(SIGNATURE, "Signature")                                                                      \
    X(SIGNATURE_STATUS, "SignatureStatus")                                                         \
    X(TARGET_FILENAME, "TargetFilename")                                                           \
    X(TARGET_OBJECT, "TargetObject")                                                               \
    X(DETAILS, "Details")                                                                          \
    X(EVENT_TYPE, "EventType")                                                                     \
    X(SCRIPT_BLOCK_TEXT, "ScriptBlockText")                                                        \
    X(PAYLOAD, "Payload")                                                                          \
    X(SERVICE_NAME, "ServiceName")                                                                 \
    X(SERVICE_FILE_NAME, "ImagePath")                                                              \
    X(SHARE_NAME, "ShareName")                                                                     \
    X(RELATIVE_TARGET_NAME, "RelativeTargetName")                                                  \
    X(ACCESS_MASK, "AccessMask")                                                                   \
    X(CLSID, "CLSID")                                                                              \
    X(APPID, "AppID")                                                                              \
    X(REMOTE_HOST, "RemoteHost")                                                                   \
    X(QUERY_NAME, "QueryName")                                                                     \
    X(RPC_ENDPOINT, "endpoint")                                                                    \
    X(RPC_OPERATION, "operation")

typedef enum dh_field {
#define DH_X(id, name) DH_FIELD_##id,
    DH_FIELD_LIST(DH_X)
#undef DH_X
        DH_FIELD_COUNT
} dh_field;

typedef struct dh_event dh_event;

/* Envelope. */
dh_kind dh_event_kind(const dh_event *ev);
/* Time as 100-nanosecond ticks since 1601-01-01 UTC (Windows FILETIME); 0 if unknown. */
int64_t dh_event_time(const dh_event *ev);
uint32_t dh_event_id(const dh_event *ev);
uint64_t dh_event_record_id(const dh_event *ev);
dh_str dh_event_host(const dh_event *ev);
dh_str dh_event_channel(const dh_event *ev);
dh_str dh_event_provider(const dh_event *ev);

/* Provenance: the file ("archive!member" for an archive's member), EVTX chunk index (-1
 * for non-chunked inputs) and the byte offset of the record in the file or member. */
const char *dh_event_file(const dh_event *ev);
int64_t dh_event_chunk(const dh_event *ev);
uint64_t dh_event_offset(const dh_event *ev);

/* Taxonomy field by id: returns 1 and sets *out if present, 0 if absent. */
int dh_event_field(const dh_event *ev, dh_field id, dh_str *out);

/* Every field the input carried, in input order: names may repeat (array values). */
typedef struct dh_kv {
    dh_str name;
    dh_str value;
} dh_kv;
const dh_kv *dh_event_data(const dh_event *ev, size_t *count);
size_t dh_event_data_count(const dh_event *ev);
int dh_event_data_at(const dh_event *ev, size_t i, dh_str *name, dh_str *value);

/* By name: a taxonomy name first (so "Image" finds NewProcessName on Security 4688), then
 * the original names, case-sensitive, then the System properties below. Returns 1 and sets
 * *out if found. */
int dh_event_get(const dh_event *ev, const char *name, size_t name_len, dh_str *out);

/* System properties beyond the envelope, as Windows writes them in the event's <System>
 * element: Level, Task, Opcode, Keywords, Version (element text), Qualifiers (EventID),
 * Guid and EventSourceName (Provider), UserID (Security), ProcessID and ThreadID
 * (Execution), ActivityID and RelatedActivityID (Correlation). Names as there, values as
 * text ("4", "0x8020000000000000", "S-1-5-18"); only those the record has. */
const dh_kv *dh_event_system(const dh_event *ev, size_t *count);
/* One of them by name, case-insensitive, also as shippers and rules spell them
 * (SecurityUserID, Security_UserID, ExecutionProcessID, Execution_ThreadID...). */
int dh_event_system_get(const dh_event *ev, const char *name, size_t name_len, dh_str *out);
/* Is the name (case-insensitive) one of those, or another spelling of one? */
int dh_system_name(const char *name, size_t name_len);

/* The record rendered as XML, if the reader was asked for it; empty otherwise. */
dh_str dh_event_xml(const dh_event *ev);

/* The file name with its length (for owned copies, whose name is not NUL-terminated;
 * dh_event_file returns NULL for them). */
dh_str dh_event_file_str(const dh_event *ev);

/* The longest value an owned copy keeps whole, and so the longest value a finding shows:
 * Windows holds a command line of at most 32,767 UTF-16 units (98,301 bytes of UTF-8), an
 * encoded stager is a few thousand characters. Longer values are cut there in the copy,
 * and dh_event_value_length still gives their length in the log. */
#define DH_VALUE_CAP 131072

/* Owned copies, for state kept beyond the callback (the correlator). dh_event_unpack
 * returns a copy the caller frees with dh_event_free (NULL accepted), or NULL if the
 * bytes are not a packed event; *used is set to the bytes consumed. Values longer than
 * DH_VALUE_CAP bytes are cut in the copy. The packed layout is internal to one process. */
/* with_data: keep the original fields too (else the envelope and taxonomy fields only). */
dh_status dh_event_pack(const dh_event *ev, int with_data, dh_buf *out);
/* Like dh_event_pack, keeping of the original fields only those named (compared
 * case-insensitively, as rules compare field names). */
dh_status dh_event_pack_named(const dh_event *ev, const char *const *names, size_t nnames,
                              dh_buf *out);
dh_event *dh_event_unpack(const void *data, size_t len, size_t *used);
void dh_event_free(dh_event *ev);
/* The length in the log of a value this event returned whole (an envelope string, a
 * field's value): more than v.len when an owned copy cut it at DH_VALUE_CAP. */
size_t dh_event_value_length(const dh_event *ev, dh_str v);

/* Names. */
const char *dh_kind_name(dh_kind kind);
const char *dh_field_name(dh_field id);
/* Returns the id, or -1 if the name is not a taxonomy field. */
int dh_field_from_name(const char *name, size_t len);

#ifdef __cplusplus
}
#endif
#endif
