/* Sigma logsource -> the events a rule can meet. One table for categories, one for
 * services; a logsource this table cannot serve is refused with its reason. */
#include <string.h>
#include <strings.h>

#include "rules/sigma.h"

#define BIT(k) (1ULL << DH_KIND_##k)

static const struct {
    const char *category;
    uint64_t kinds;
} categories[] = {
    {"process_creation", BIT(PROCESS_CREATION)},
    {"network_connection", BIT(NETWORK_CONNECTION)},
    {"image_load", BIT(IMAGE_LOAD)},
    {"file_event", BIT(FILE_EVENT)},
    {"file_delete", BIT(FILE_DELETE)},
    {"registry_add", BIT(REGISTRY_ADD)},
    {"registry_delete", BIT(REGISTRY_DELETE)},
    {"registry_set", BIT(REGISTRY_SET)},
    {"registry_rename", BIT(REGISTRY_RENAME)},
    {"registry_event",
     BIT(REGISTRY_ADD) | BIT(REGISTRY_DELETE) | BIT(REGISTRY_SET) | BIT(REGISTRY_RENAME)},
    {"ps_script", BIT(PS_SCRIPT)},
    {"ps_module", BIT(PS_MODULE)},
    {"process_termination", BIT(PROCESS_TERMINATION)},
    {"process_access", BIT(PROCESS_ACCESS)},
    {"create_remote_thread", BIT(CREATE_REMOTE_THREAD)},
    {"dns_query", BIT(DNS_QUERY)},
    {"pipe_created", BIT(PIPE_CREATED)},
    {"wmi_event", BIT(WMI_EVENT)},
    {"create_stream_hash", BIT(CREATE_STREAM_HASH)},
    {"driver_load", BIT(DRIVER_LOAD)},
    {"file_change", BIT(FILE_CHANGE)},
    {"raw_access_thread", BIT(RAW_ACCESS_THREAD)},
    {"process_tampering", BIT(PROCESS_TAMPERING)},
    {"file_executable_detected", BIT(FILE_EXECUTABLE_DETECTED)},
    {"sysmon_status", BIT(SYSMON_STATUS)},
    {"sysmon_error", BIT(SYSMON_ERROR)},
    {"ps_classic_start", BIT(PS_CLASSIC_START)},
    {"ps_classic_provider_start", BIT(PS_CLASSIC_PROVIDER_START)},
    {"ps_classic_script", BIT(PS_CLASSIC_SCRIPT)},
    {"file_access", BIT(FILE_ACCESS)},
    {"file_rename", BIT(FILE_RENAME)},
};

static const struct {
    const char *service;
    const char *channel;
} services[] = {
    {"security", "Security"},
    {"system", "System"},
    {"application", "Application"},
    {"sysmon", "Microsoft-Windows-Sysmon/Operational"},
    {"powershell", "Microsoft-Windows-PowerShell/Operational"},
    {"powershell-classic", "Windows PowerShell"},
    {"taskscheduler", "Microsoft-Windows-TaskScheduler/Operational"},
    {"wmi", "Microsoft-Windows-WMI-Activity/Operational"},
    {"windefend", "Microsoft-Windows-Windows Defender/Operational"},
    {"bits-client", "Microsoft-Windows-Bits-Client/Operational"},
    {"codeintegrity-operational", "Microsoft-Windows-CodeIntegrity/Operational"},
    {"firewall-as", "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"},
    {"terminalservices-localsessionmanager",
     "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"},
    {"smbclient-security", "Microsoft-Windows-SmbClient/Security"},
    {"ntlm", "Microsoft-Windows-NTLM/Operational"},
    {"dns-client", "Microsoft-Windows-DNS Client Events/Operational"},
    {"driver-framework", "Microsoft-Windows-DriverFrameworks-UserMode/Operational"},
    {"msexchange-management", "MSExchange Management"},
    {"appmodel-runtime", "Microsoft-Windows-AppModel-Runtime/Admin"},
    {"capi2", "Microsoft-Windows-CAPI2/Operational"},
    {"certificateservicesclient-lifecycle-system",
     "Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"},
    {"openssh", "OpenSSH/Operational"},
    {"printservice-admin", "Microsoft-Windows-PrintService/Admin"},
    {"printservice-operational", "Microsoft-Windows-PrintService/Operational"},
    {"security-mitigations", "Microsoft-Windows-Security-Mitigations/KernelMode"},
    {"shell-core", "Microsoft-Windows-Shell-Core/Operational"},
    {"applocker", "Microsoft-Windows-AppLocker/EXE and DLL"},
    {"lsa-server", "Microsoft-Windows-LSA/Operational"},
    {"diagnosis-scripted", "Microsoft-Windows-Diagnosis-Scripted/Operational"},
    {"dhcp", "Microsoft-Windows-DHCP-Server/Operational"},
    {"vhdmp", "Microsoft-Windows-VHDMP/Operational"},
    /* As pySigma's Windows pipeline names them, and the channels Windows logs them to. */
    {"appxdeployment-server", "Microsoft-Windows-AppXDeploymentServer/Operational"},
    {"appxpackaging-om", "Microsoft-Windows-AppxPackaging/Operational"},
    {"dns-server", "DNS Server"},
    {"iis-configuration", "Microsoft-IIS-Configuration/Operational"},
    {"smbserver-connectivity", "Microsoft-Windows-SmbServer/Connectivity"},
    {"ldap", "Microsoft-Windows-LDAP-Client/Debug"},
    {"ldap_debug", "Microsoft-Windows-LDAP-Client/Debug"},
    {"microsoft-servicebus-client", "Microsoft-ServiceBus-Client"},
    {"bitlocker", "Microsoft-Windows-BitLocker/BitLocker Management"},
    {"dns-server-audit", "Microsoft-Windows-DNS-Server/Audit"},
    {"dns-server-analytic", "Microsoft-Windows-DNS-Server/Analytical"},
};

const char *sigma_logsource(const char *category, const char *product, const char *service,
                            uint64_t *kinds, const char **channel)
{
    *kinds = ~0ULL;
    *channel = NULL;
    if (product && !strcasecmp(product, "zeek")) {
        /* Zeek logs: the service names the log (conn, dce_rpc, ...). */
        static const char *const zeek_logs[] = {
            "Zeek/conn",     "Zeek/dce_rpc", "Zeek/smb_mapping", "Zeek/smb_files", "Zeek/ntlm",
            "Zeek/kerberos", "Zeek/dns",     "Zeek/http",        "Zeek/rdp",       "Zeek/ssl"};
        if (category && *category)
            return "logsource category with product zeek: dcomhunt maps Zeek logs by service";
        if (!service || !*service)
            return "logsource product zeek needs a service (the log: conn, dce_rpc, ...)";
        for (size_t i = 0; i < sizeof zeek_logs / sizeof zeek_logs[0]; i++)
            if (!strcmp(zeek_logs[i] + 5, service)) {
                *channel = zeek_logs[i];
                return NULL;
            }
        return "logsource service is not a Zeek log dcomhunt maps (see docs/formats.md)";
    }
    if (product && *product && strcasecmp(product, "windows") != 0)
        return "logsource product is not windows or zeek: dcomhunt reads Windows telemetry and "
               "Zeek logs";
    if (category && *category) {
        size_t i;
        for (i = 0; i < sizeof categories / sizeof categories[0]; i++)
            if (strcmp(categories[i].category, category) == 0)
                break;
        if (i == sizeof categories / sizeof categories[0])
            return "logsource category is not one dcomhunt maps (see docs/rules.md)";
        *kinds = categories[i].kinds;
    }
    if (service && *service) {
        size_t i;
        for (i = 0; i < sizeof services / sizeof services[0]; i++)
            if (strcmp(services[i].service, service) == 0)
                break;
        if (i == sizeof services / sizeof services[0])
            return "logsource service is not a log dcomhunt maps (see docs/rules.md)";
        *channel = services[i].channel;
    }
    /* Product only (product: windows): every Windows event. */
    return NULL;
}
