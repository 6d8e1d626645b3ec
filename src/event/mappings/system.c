/* The System properties and their spellings in other schemas: one table (system.h). */
#include "event/mappings/system.h"

#include <string.h>
#include <strings.h>

const dh_sys_name dh_sys_names[] = {
    {"Level", "Level", "level"},
    {"Task", "Task", "task"},
    {"Opcode", "OpcodeValue", "opcode"},
    {"Keywords", "Keywords", "keywords"},
    {"Version", "Version", "version"},
    {"Qualifiers", "Qualifiers", "event_qualifiers"},
    {"Guid", "ProviderGuid", "provider_guid"},
    {"EventSourceName", NULL, "event_source_name"}, /* NXLog's SourceName is the provider */
    {"UserID", "UserID", "user.identifier"},
    {"ProcessID", "ExecutionProcessID", "process.pid"},
    {"ThreadID", "ThreadID", "process.thread.id"},
    {"ActivityID", "ActivityID", "activity_id"},
    {"RelatedActivityID", "RelatedActivityID", "related_activity_id"},
    {"KernelTime", "KernelTime", "process.kernel_time"},
    {"UserTime", "UserTime", "process.user_time"},
    {"ProcessorID", "ProcessorID", "process.processor_id"},
    {"SessionID", NULL, "process.session_id"}, /* NXLog's SessionID is often event data */
};
const size_t dh_sys_count = sizeof dh_sys_names / sizeof dh_sys_names[0];

/* The element's name joined to the attribute's, as Sigma backends and evtx_dump-style
 * flatteners write them. */
static const struct {
    const char *alias, *name;
} aliases[] = {
    {"SecurityUserID", "UserID"},
    {"Security_UserID", "UserID"},
    {"ExecutionProcessID", "ProcessID"},
    {"Execution_ProcessID", "ProcessID"},
    {"ExecutionThreadID", "ThreadID"},
    {"Execution_ThreadID", "ThreadID"},
    {"CorrelationActivityID", "ActivityID"},
    {"Correlation_ActivityID", "ActivityID"},
    {"Correlation_RelatedActivityID", "RelatedActivityID"},
    {"EventIDQualifiers", "Qualifiers"},
    {"EventID_Qualifiers", "Qualifiers"},
    {"ProviderGuid", "Guid"},
    {"Provider_Guid", "Guid"},
    {"Provider_EventSourceName", "EventSourceName"},
};

const char *dh_sys_canonical(const char *name, size_t len)
{
    for (size_t k = 0; k < dh_sys_count; k++)
        if (strlen(dh_sys_names[k].name) == len && !strncasecmp(dh_sys_names[k].name, name, len))
            return dh_sys_names[k].name;
    for (size_t k = 0; k < sizeof aliases / sizeof aliases[0]; k++)
        if (strlen(aliases[k].alias) == len && !strncasecmp(aliases[k].alias, name, len))
            return aliases[k].name;
    return NULL;
}

/* Asked for every member of every NXLog line: the first byte is compared before the
 * length is measured (a strlen per row and member was 10% of `hunt -j1 --jsonl` on the
 * corpus OTRF capture, perf 2026-12-07). */
const char *dh_sys_from_nxlog(const char *key, size_t len)
{
    if (!len)
        return NULL;
    for (size_t k = 0; k < dh_sys_count; k++) {
        const char *nx = dh_sys_names[k].nxlog;
        if (nx && nx[0] == key[0] && strlen(nx) == len && !memcmp(nx, key, len))
            return dh_sys_names[k].name;
    }
    return NULL;
}
