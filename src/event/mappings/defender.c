/* The Defender advanced-hunting schema (defender.h): the columns' names and types, and which
 * columns each table has. Data only. */
#include "event/mappings/defender.h"

#include <string.h>
#include <strings.h>

static const dh_defender_column columns[DH_MDE_NCOLS] = {
#define COLUMN(name, type) {#name, type},
    DH_DEFENDER_COLUMNS(COLUMN)
#undef COLUMN
};

#define C(name) DH_MDE_COL_##name

/* What every Device* table starts with, and the initiating process's columns that the
 * event tables share. */
#define DEVICE_COLUMNS                                                                             \
    C(Timestamp), C(DeviceId), C(DeviceName), C(ActionType), C(ReportId), C(AppGuardContainerId)
#define INITIATING_COLUMNS                                                                         \
    C(InitiatingProcessAccountDomain), C(InitiatingProcessAccountName),                            \
        C(InitiatingProcessAccountSid), C(InitiatingProcessAccountUpn),                            \
        C(InitiatingProcessAccountObjectId), C(InitiatingProcessIntegrityLevel),                   \
        C(InitiatingProcessTokenElevation), C(InitiatingProcessSHA1), C(InitiatingProcessSHA256),  \
        C(InitiatingProcessMD5), C(InitiatingProcessFileName), C(InitiatingProcessFileSize),       \
        C(InitiatingProcessVersionInfoCompanyName), C(InitiatingProcessVersionInfoProductName),    \
        C(InitiatingProcessVersionInfoProductVersion),                                             \
        C(InitiatingProcessVersionInfoInternalFileName),                                           \
        C(InitiatingProcessVersionInfoOriginalFileName),                                           \
        C(InitiatingProcessVersionInfoFileDescription), C(InitiatingProcessId),                    \
        C(InitiatingProcessCommandLine), C(InitiatingProcessCreationTime),                         \
        C(InitiatingProcessFolderPath), C(InitiatingProcessParentId),                              \
        C(InitiatingProcessParentFileName), C(InitiatingProcessParentCreationTime),                \
        C(InitiatingProcessSessionId), C(IsInitiatingProcessRemoteSession),                        \
        C(InitiatingProcessRemoteSessionDeviceName), C(InitiatingProcessRemoteSessionIP)
/* The file a process, image load or file event is about. */
#define FILE_COLUMNS C(FileName), C(FolderPath), C(SHA1), C(SHA256), C(MD5), C(FileSize)

static const uint8_t process_cols[] = {
    DEVICE_COLUMNS,
    INITIATING_COLUMNS,
    FILE_COLUMNS,
    C(ProcessVersionInfoCompanyName),
    C(ProcessVersionInfoProductName),
    C(ProcessVersionInfoProductVersion),
    C(ProcessVersionInfoInternalFileName),
    C(ProcessVersionInfoOriginalFileName),
    C(ProcessVersionInfoFileDescription),
    C(ProcessId),
    C(ProcessCommandLine),
    C(ProcessIntegrityLevel),
    C(ProcessTokenElevation),
    C(ProcessCreationTime),
    C(AccountDomain),
    C(AccountName),
    C(AccountSid),
    C(AccountUpn),
    C(AccountObjectId),
    C(LogonId),
    C(InitiatingProcessLogonId),
    C(InitiatingProcessSignerType),
    C(InitiatingProcessSignatureStatus),
    C(AdditionalFields),
    C(CreatedProcessSessionId),
    C(IsProcessRemoteSession),
    C(ProcessRemoteSessionDeviceName),
    C(ProcessRemoteSessionIP),
};

static const uint8_t network_cols[] = {
    DEVICE_COLUMNS, INITIATING_COLUMNS, C(RemoteIP),         C(RemotePort),
    C(RemoteUrl),   C(LocalIP),         C(LocalPort),        C(Protocol),
    C(LocalIPType), C(RemoteIPType),    C(AdditionalFields),
};

static const uint8_t logon_cols[] = {
    DEVICE_COLUMNS,  INITIATING_COLUMNS, C(LogonType),        C(AccountDomain),
    C(AccountName),  C(AccountSid),      C(Protocol),         C(FailureReason),
    C(IsLocalAdmin), C(LogonId),         C(RemoteDeviceName), C(RemoteIP),
    C(RemoteIPType), C(RemotePort),      C(AdditionalFields), C(InitiatingProcessUniqueId),
};

static const uint8_t image_cols[] = {DEVICE_COLUMNS, INITIATING_COLUMNS, FILE_COLUMNS};

static const uint8_t registry_cols[] = {
    DEVICE_COLUMNS,         INITIATING_COLUMNS,           C(RegistryKey),
    C(RegistryValueType),   C(RegistryValueName),         C(RegistryValueData),
    C(PreviousRegistryKey), C(PreviousRegistryValueName), C(PreviousRegistryValueData),
};

static const uint8_t file_cols[] = {
    DEVICE_COLUMNS,          INITIATING_COLUMNS,       FILE_COLUMNS,
    C(FileOriginUrl),        C(FileOriginReferrerUrl), C(FileOriginIP),
    C(PreviousFolderPath),   C(PreviousFileName),      C(RequestProtocol),
    C(RequestSourceIP),      C(RequestSourcePort),     C(RequestAccountName),
    C(RequestAccountDomain), C(RequestAccountSid),     C(ShareName),
    C(SensitivityLabel),     C(SensitivitySubLabel),   C(IsAzureInfoProtectionApplied),
    C(AdditionalFields),
};

static const struct {
    const char *name;
    const uint8_t *cols;
    size_t n;
} tables[DH_DEFENDER_NTABLES] = {
    {"DeviceProcessEvents", process_cols, sizeof process_cols},
    {"DeviceNetworkEvents", network_cols, sizeof network_cols},
    {"DeviceLogonEvents", logon_cols, sizeof logon_cols},
    {"DeviceImageLoadEvents", image_cols, sizeof image_cols},
    {"DeviceRegistryEvents", registry_cols, sizeof registry_cols},
    {"DeviceFileEvents", file_cols, sizeof file_cols},
};

const dh_defender_column *dh_defender_column_of(dh_defender_col c)
{
    return &columns[(unsigned)c < DH_MDE_NCOLS ? c : DH_MDE_COL_Table];
}

int dh_defender_col_named(const char *name, size_t len)
{
    for (int c = 0; c < DH_MDE_NCOLS; c++)
        if (strlen(columns[c].name) == len && !memcmp(columns[c].name, name, len))
            return c;
    return -1;
}

int dh_defender_table_named(const char *name, size_t len)
{
    for (int t = 0; t < DH_DEFENDER_NTABLES; t++)
        if (strlen(tables[t].name) == len && !memcmp(tables[t].name, name, len))
            return t;
    return -1;
}

const char *dh_defender_table_name(dh_defender_table t)
{
    return (unsigned)t < DH_DEFENDER_NTABLES ? tables[t].name : "";
}

const uint8_t *dh_defender_table_columns(dh_defender_table t, size_t *n)
{
    if ((unsigned)t >= DH_DEFENDER_NTABLES) {
        *n = 0;
        return NULL;
    }
    *n = tables[t].n;
    return tables[t].cols;
}

const dh_defender_column *dh_defender_find_column(dh_defender_table t, const char *name, int nocase)
{
    size_t n;
    const uint8_t *ids = dh_defender_table_columns(t, &n);
    for (size_t i = 0; i < n; i++) {
        const char *c = columns[ids[i]].name;
        if (nocase ? !strcasecmp(c, name) : !strcmp(c, name))
            return &columns[ids[i]];
    }
    return NULL;
}
