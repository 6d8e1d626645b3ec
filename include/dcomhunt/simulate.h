/* dcomhunt: DCOM lateral movement and its look-alikes as telemetry, and the self-test.
 *
 * A scenario is a YAML file (the built-in ones are the .yml files of scenarios/, embedded at build
 * time; more can be loaded from a folder): the hosts and accounts it needs, the steps of
 * the attack or of the benign activity (process starts, logons, connections, DCOM
 * activations, script blocks...) and what a hunt should find. dh_sim_run turns the chosen
 * scenarios into the logs each host's sensors would have written (EVTX per channel,
 * Winlogbeat/ECS or NXLog JSON lines, Defender rows, Zeek logs), with background noise,
 * clock skew, lost and duplicated events, all decided by a seed: the same arguments give
 * the same bytes. Beside the logs it writes the ground truth: per DCOM hop, the finding the
 * surviving evidence supports, or why none can be expected.
 *
 * dh_selftest_run generates every scenario under every sensor set, hunts each with the
 * rule pack and the correlator, and reports each combination against its ground truth.
 *
 * Ownership: a catalog owns its scenarios (dh_sim_catalog_free, NULL accepted); pointers
 * and strings from it are borrowed until then. Results passed to callbacks are borrowed
 * for the duration of the call. */
#ifndef DCOMHUNT_SIMULATE_H
#define DCOMHUNT_SIMULATE_H

#include <stddef.h>
#include <stdint.h>

#include "dcomhunt/rules.h"
#include "dcomhunt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dh_sim_catalog dh_sim_catalog;
typedef struct dh_sim_scenario dh_sim_scenario;

/* A problem in a scenario file: the file, line and why. */
typedef void (*dh_sim_diag_fn)(void *ctx, const char *origin, int line, const char *message);

/* The built-in scenarios, then (when dir is not NULL) every *.yml / *.yaml file of dir
 * (a scenario of the same name replaces the built-in one). DH_ERR_FORMAT when some files
 * were refused (each reported through diag); the others are loaded. */
dh_status dh_sim_catalog_load(const char *dir, dh_sim_diag_fn diag, void *ctx,
                              dh_sim_catalog **out);
void dh_sim_catalog_free(dh_sim_catalog *c);
size_t dh_sim_catalog_count(const dh_sim_catalog *c);
const dh_sim_scenario *dh_sim_catalog_get(const dh_sim_catalog *c, size_t i);
const dh_sim_scenario *dh_sim_catalog_find(const dh_sim_catalog *c, const char *name);

const char *dh_sim_scenario_name(const dh_sim_scenario *s);
const char *dh_sim_scenario_title(const dh_sim_scenario *s);
/* attack, failure, benign, cousin */
const char *dh_sim_scenario_kind(const dh_sim_scenario *s);
const char *dh_sim_scenario_description(const dh_sim_scenario *s);
const char *dh_sim_scenario_origin(const dh_sim_scenario *s);

/* Sensor sets: which telemetry each host has (docs/simulate.md lists them). */
size_t dh_sim_sensor_set_count(void);
const char *dh_sim_sensor_set_name(size_t i);
const char *dh_sim_sensor_set_description(size_t i);
/* Index of a named set, or -1. */
int dh_sim_sensor_set_find(const char *name);

enum {
    DH_SIM_FMT_EVTX = 0,
    DH_SIM_FMT_ECS = 1,  /* Winlogbeat JSON lines */
    DH_SIM_FMT_OTRF = 2, /* NXLog-style flat JSON lines */
};
enum { DH_SIM_DEFENDER_JSON = 0, DH_SIM_DEFENDER_CSV = 1 };

/* A knob given per host role or per host name, e.g. "target=SRV01" or "WS01:sysmon=-37". */
typedef struct dh_sim_setting {
    const char *key;
    const char *value;
} dh_sim_setting;

typedef struct dh_sim_opts {
    const char *const *scenarios; /* names; NULL or none: every scenario of the catalog */
    size_t nscenarios;
    int sensor_set;      /* index; default 0 ("full") */
    int format;          /* DH_SIM_FMT_* for Windows logs */
    int defender_format; /* DH_SIM_DEFENDER_* */
    uint64_t seed;       /* default 1 */
    int64_t start;       /* FILETIME of the first scenario; 0: 2024-05-14T08:00:00Z */
    int64_t spacing_s;   /* between scenarios (default 900) */
    const char *domain;  /* DNS domain (default corp.example); NetBIOS = first label */
    /* host=NAME, host.ip=ADDR, account=DOMAIN\name, HOST.sensors=sysmon,security,... and
     * skews: HOST=SECONDS or HOST:CHANNEL=SECONDS (channel: security, system, sysmon,
     * powershell, defender, zeek) */
    const dh_sim_setting *names, *addresses, *accounts, *sensors, *skews;
    size_t nnames, naddresses, naccounts, nsensors, nskews;
    double drop;           /* probability that an event is lost on its way (0..1) */
    int duplicate;         /* write every log a second time under dup/ */
    int dirty;             /* EVTX files as live logs (dirty flag) */
    double noise_per_hour; /* background events per host per hour (default 0) */
    uint64_t noise_bytes;  /* if not 0: keep writing noise until about this many bytes */
    unsigned threads;      /* 0: one per core */
} dh_sim_opts;

void dh_sim_opts_init(dh_sim_opts *o);

typedef struct dh_sim_stats {
    uint64_t events;       /* written, all formats */
    uint64_t noise_events; /* of which background */
    uint64_t bytes;        /* written */
    uint64_t files;
    uint64_t dropped, duplicated;
    double seconds;
} dh_sim_stats;

/* Writes the scenarios' telemetry under dir (created if needed) and truth.jsonl beside
 * it. stats and err may be NULL; err says what failed. cat, o and dir are required
 * (DH_ERR_ARG without them). */
dh_status dh_sim_run(const dh_sim_catalog *cat, const dh_sim_opts *o, const char *dir,
                     dh_sim_stats *stats, dh_error *err);

/* ---- self-test ------------------------------------------------------------------- */

typedef enum dh_selftest_verdict {
    DH_SELFTEST_PASS = 0,           /* found what the evidence supports, nothing more */
    DH_SELFTEST_QUIET = 1,          /* benign: nothing reported, as it should be */
    DH_SELFTEST_UNDETECTABLE = 2,   /* the evidence cannot support a finding (reason) */
    DH_SELFTEST_MISS = 3,           /* a finding the evidence supports did not come out */
    DH_SELFTEST_PARTIAL = 4,        /* it came out, with a field wrong or missing */
    DH_SELFTEST_FALSE_POSITIVE = 5, /* a lateral_movement or attempt nothing supports */
    DH_SELFTEST_DUPLICATE = 6,      /* found, but reported more than once */
} dh_selftest_verdict;

typedef struct dh_selftest_cell {
    const char *scenario, *sensor_set;
    dh_selftest_verdict verdict;
    const char *detail; /* what was expected and what came out, or the reason */
    size_t expected, found;
} dh_selftest_cell;

typedef void (*dh_selftest_fn)(void *ctx, const dh_selftest_cell *cell);

typedef struct dh_selftest_opts {
    const char *const *scenarios; /* NULL: all */
    size_t nscenarios;
    const int *sensor_sets; /* NULL: all */
    size_t nsensor_sets;
    uint64_t seed;
    int format, defender_format; /* as dh_sim_opts (default EVTX, JSON) */
    double noise_per_hour;       /* background events per host per hour (default 120) */
    double drop;                 /* events lost on the way (default 0) */
    const dh_sim_setting *skews; /* as dh_sim_opts */
    size_t nskews;
    const char *work_dir; /* where to generate (a temporary directory under it) */
    int keep;             /* leave the generated telemetry there */
    unsigned threads;
} dh_selftest_opts;

void dh_selftest_opts_init(dh_selftest_opts *o);
const char *dh_selftest_verdict_name(dh_selftest_verdict v);
/* rs: the rules to hunt with (finished). Calls fn for each scenario x sensor set, in
 * catalog order then sensor-set order. */
dh_status dh_selftest_run(const dh_sim_catalog *cat, const dh_ruleset *rs,
                          const dh_selftest_opts *o, dh_selftest_fn fn, void *ctx, dh_error *err);

#ifdef __cplusplus
}
#endif
#endif
