/* The sensor sets: which sensors are on for the hosts on the source side, on the target
 * side and elsewhere, and whether the network sensor watches. A table of its own, below the
 * run that configures the hosts (run.c), the emitter that decides whether Zeek writes
 * (emit.c) and the truth that names the set (truth.c), so none of those three depends on
 * another for it. */
#include <string.h>

#include "sim/sim.h"

#define WIN SEN_WINDOWS_ALL

const sim_sensor_set sim_sensor_sets[] = {
    {"full", "every Windows host: Sysmon, Security auditing with 5156, System, PowerShell; Zeek",
     WIN, WIN, WIN, 1},
    {"sysmon", "Sysmon and the System log on every Windows host", SEN_SYSMON | SEN_SYSTEM,
     SEN_SYSMON | SEN_SYSTEM, SEN_SYSMON | SEN_SYSTEM, 0},
    {"security",
     "Security auditing (logons, process creation with command lines) and the System "
     "log, no connection auditing",
     SEN_SECURITY | SEN_SYSTEM, SEN_SECURITY | SEN_SYSTEM, SEN_SECURITY | SEN_SYSTEM, 0},
    {"security-wfp",
     "Security auditing with Filtering Platform connections (5156) and the System "
     "log",
     SEN_SECURITY | SEN_WFP | SEN_SYSTEM, SEN_SECURITY | SEN_WFP | SEN_SYSTEM,
     SEN_SECURITY | SEN_WFP | SEN_SYSTEM, 0},
    {"defender", "Microsoft Defender for Endpoint (advanced-hunting rows) only", SEN_DEFENDER,
     SEN_DEFENDER, SEN_DEFENDER, 0},
    {"zeek", "the network sensor only (Zeek conn and dce_rpc logs)", 0, 0, 0, 1},
    {"target-only", "every Windows sensor on the targets, none on the sources, no network sensor",
     0, WIN, 0, 0},
    {"source-only", "every Windows sensor on the sources, none on the targets, no network sensor",
     WIN, 0, 0, 0},
};
const size_t sim_nsensor_sets = sizeof sim_sensor_sets / sizeof sim_sensor_sets[0];

size_t dh_sim_sensor_set_count(void)
{
    return sim_nsensor_sets;
}

const char *dh_sim_sensor_set_name(size_t i)
{
    return i < sim_nsensor_sets ? sim_sensor_sets[i].name : NULL;
}

const char *dh_sim_sensor_set_description(size_t i)
{
    return i < sim_nsensor_sets ? sim_sensor_sets[i].description : NULL;
}

int dh_sim_sensor_set_find(const char *name)
{
    for (size_t i = 0; i < sim_nsensor_sets; i++)
        if (!strcmp(sim_sensor_sets[i].name, name))
            return (int)i;
    return -1;
}
