/* The Microsoft Defender XDR advanced-hunting schema as dcomhunt uses it: the Device*
 * tables and their columns, each name written once, here. The Defender readers (the CSV
 * reader's columns), the Defender writers (dump --to mde-json|mde-csv), the KQL exporter and
 * the guide's pivot queries all take the names from this table, so that they cannot drift
 * apart. Names and types are Microsoft's (the schema reference pages; the conformance test
 * tests/conformance/kql checks the exported queries against them).
 *
 * Static data only: nothing to create or free; every pointer returned lives as long as the
 * program. */
#ifndef DH_EVENT_MAPPINGS_DEFENDER_H
#define DH_EVENT_MAPPINGS_DEFENDER_H

#include <stddef.h>
#include <stdint.h>

/* Every column, once: X(name, type). Types: S string, L long, I int, B bool, D datetime,
 * Y dynamic. The name is the identifier: DH_MDE_COL_<name> is its id. */
#define DH_DEFENDER_COLUMNS(X)                                                                     \
    X(Timestamp, 'D')                                                                              \
    X(DeviceId, 'S')                                                                               \
    X(DeviceName, 'S')                                                                             \
    X(ActionType, 'S')                                                                             \
    X(ReportId, 'L')                                                                               \
    X(AppGuardContainerId, 'S')                                                                    \
    X(InitiatingProcessAccountDomain, 'S')                                                         \
    X(InitiatingProcessAccountName, 'S')                                                           \
    X(InitiatingProcessAccountSid, 'S')                                                            \
    X(InitiatingProcessAccountUpn, 'S')                                                            \
    X(InitiatingProcessAccountObjectId, 'S')                                                       \
    X(InitiatingProcessIntegrityLevel, 'S')                                                        \
    X(InitiatingProcessTokenElevation, 'S')                                                        \
    X(InitiatingProcessSHA1, 'S')                                                                  \
    X(InitiatingProcessSHA256, 'S')                                                                \
    X(InitiatingProcessMD5, 'S')                                                                   \
    X(InitiatingProcessFileName, 'S')                                                              \
    X(InitiatingProcessFileSize, 'L')                                                              \
    X(InitiatingProcessVersionInfoCompanyName, 'S')                                                \
    X(InitiatingProcessVersionInfoProductName, 'S')                                                \
    X(InitiatingProcessVersionInfoProductVersion, 'S')                                             \
    X(InitiatingProcessVersionInfoInternalFileName, 'S')                                           \
    X(InitiatingProcessVersionInfoOriginalFileName, 'S')                                           \
    X(InitiatingProcessVersionInfoFileDescription, 'S')                                            \
    X(InitiatingProcessId, 'L')                                                                    \
    X(InitiatingProcessCommandLine, 'S')                                                           \
    X(InitiatingProcessCreationTime, 'D')                                                          \
    X(InitiatingProcessFolderPath, 'S')                                                            \
    X(InitiatingProcessParentId, 'L')                                                              \
    X(InitiatingProcessParentFileName, 'S')                                                        \
    X(InitiatingProcessParentCreationTime, 'D')                                                    \
    X(InitiatingProcessSessionId, 'L')                                                             \
    X(IsInitiatingProcessRemoteSession, 'B')                                                       \
    X(InitiatingProcessRemoteSessionDeviceName, 'S')                                               \
    X(InitiatingProcessRemoteSessionIP, 'S')                                                       \
    X(FileName, 'S')                                                                               \
    X(FolderPath, 'S')                                                                             \
    X(SHA1, 'S')                                                                                   \
    X(SHA256, 'S')                                                                                 \
    X(MD5, 'S')                                                                                    \
    X(FileSize, 'L')                                                                               \
    X(ProcessVersionInfoCompanyName, 'S')                                                          \
    X(ProcessVersionInfoProductName, 'S')                                                          \
    X(ProcessVersionInfoProductVersion, 'S')                                                       \
    X(ProcessVersionInfoInternalFileName, 'S')                                                     \
    X(ProcessVersionInfoOriginalFileName, 'S')                                                     \
    X(ProcessVersionInfoFileDescription, 'S')                                                      \
    X(ProcessId, 'L')                                                                              \
    X(ProcessCommandLine, 'S')                                                                     \
    X(ProcessIntegrityLevel, 'S')                                                                  \
    X(ProcessTokenElevation, 'S')                                                                  \
    X(ProcessCreationTime, 'D')                                                                    \
    X(AccountDomain, 'S')                                                                          \
    X(AccountName, 'S')                                                                            \
    X(AccountSid, 'S')                                                                             \
    X(AccountUpn, 'S')                                                                             \
    X(AccountObjectId, 'S')                                                                        \
    X(LogonId, 'L')                                                                                \
    X(InitiatingProcessLogonId, 'L')                                                               \
    X(InitiatingProcessSignerType, 'S')                                                            \
    X(InitiatingProcessSignatureStatus, 'S')                                                       \
    X(AdditionalFields, 'Y')                                                                       \
    X(CreatedProcessSessionId, 'L')                                                                \
    X(IsProcessRemoteSession, 'B')                                                                 \
    X(ProcessRemoteSessionDeviceName, 'S')                                                         \
    X(ProcessRemoteSessionIP, 'S')                                                                 \
    X(RemoteIP, 'S')                                                                               \
    X(RemotePort, 'I')                                                                             \
    X(RemoteUrl, 'S')                                                                              \
    X(LocalIP, 'S')                                                                                \
    X(LocalPort, 'I')                                                                              \
    X(Protocol, 'S')                                                                               \
    X(LocalIPType, 'S')                                                                            \
    X(RemoteIPType, 'S')                                                                           \
    X(RegistryKey, 'S')                                                                            \
    X(RegistryValueType, 'S')                                                                      \
    X(RegistryValueName, 'S')                                                                      \
    X(RegistryValueData, 'S')                                                                      \
    X(PreviousRegistryKey, 'S')                                                                    \
    X(PreviousRegistryValueName, 'S')                                                              \
    X(PreviousRegistryValueData, 'S')                                                              \
    X(FileOriginUrl, 'S')                                                                          \
    X(FileOriginReferrerUrl, 'S')                                                                  \
    X(FileOriginIP, 'S')                                                                           \
    X(PreviousFolderPath, 'S')                                                                     \
    X(PreviousFileName, 'S')                                                                       \
    X(RequestProtocol, 'S')                                                                        \
    X(RequestSourceIP, 'S')                                                                        \
    X(RequestSourcePort, 'I')                                                                      \
    X(RequestAccountName, 'S')                                                                     \
    X(RequestAccountDomain, 'S')                                                                   \
    X(RequestAccountSid, 'S')                                                                      \
    X(ShareName, 'S')                                                                              \
    X(SensitivityLabel, 'S')                                                                       \
    X(SensitivitySubLabel, 'S')                                                                    \
    X(IsAzureInfoProtectionApplied, 'B')                                                           \
    X(LogonType, 'S')                                                                              \
    X(FailureReason, 'S')                                                                          \
    X(IsLocalAdmin, 'B')                                                                           \
    X(RemoteDeviceName, 'S')                                                                       \
    X(InitiatingProcessUniqueId, 'S')                                                              \
    X(Table, 'S') /* dcomhunt's own: a row's table in a mixed export */

typedef enum dh_defender_col {
#define DH_DEFENDER_COL_ID(name, type) DH_MDE_COL_##name,
    DH_DEFENDER_COLUMNS(DH_DEFENDER_COL_ID)
#undef DH_DEFENDER_COL_ID
        DH_MDE_NCOLS
} dh_defender_col;

typedef struct dh_defender_column {
    const char *name;
    char type; /* S, L, I, B, D, Y (above) */
} dh_defender_column;

typedef enum dh_defender_table {
    DH_DEFENDER_PROCESS_EVENTS,
    DH_DEFENDER_NETWORK_EVENTS,
    DH_DEFENDER_LOGON_EVENTS,
    DH_DEFENDER_IMAGE_LOAD_EVENTS,
    DH_DEFENDER_REGISTRY_EVENTS,
    DH_DEFENDER_FILE_EVENTS,
    DH_DEFENDER_NTABLES
} dh_defender_table;

/* The column with id c (c < DH_MDE_NCOLS). */
const dh_defender_column *dh_defender_column_of(dh_defender_col c);
static inline const char *dh_defender_name(dh_defender_col c)
{
    return dh_defender_column_of(c)->name;
}
/* The id of the column called name[0, len) (exact case), or -1: how text that names
 * columns ("{DeviceName}" holes in the KQL exporter's and the pivots' templates) checks
 * each name against this table. */
int dh_defender_col_named(const char *name, size_t len);
/* The table called name[0, len) (exact case), or -1. */
int dh_defender_table_named(const char *name, size_t len);
/* A table's name ("DeviceProcessEvents"). */
const char *dh_defender_table_name(dh_defender_table t);
/* The columns of table t, in the order this table lists them; *n receives their count. */
const uint8_t *dh_defender_table_columns(dh_defender_table t, size_t *n);
/* The column of table t called name (ASCII case folded when nocase), or NULL. */
const dh_defender_column *dh_defender_find_column(dh_defender_table t, const char *name,
                                                  int nocase);

#endif
