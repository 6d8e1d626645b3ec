/* dh_sim_run: the scenarios one after the other on one estate, the sensors and clock skews
 * of each host, the logs, the ground truth. The sensor sets are in sensors.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "core/timefmt.h"
#include "sim/sim.h"

void dh_sim_opts_init(dh_sim_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->spacing_s = 900;
    o->domain = "corp.example";
}

static int64_t default_start(void)
{
    int64_t t = 0;
    dh_time_parse_iso("2024-05-14T08:00:00Z", 20, &t);
    return t;
}

static void set_err(dh_error *err, dh_status st, const char *file, const char *fmt, const char *a)
{
    if (!err)
        return;
    memset(err, 0, sizeof *err);
    err->status = st;
    err->chunk = -1;
    snprintf(err->file, sizeof err->file, "%.1000s", file ? file : "");
    snprintf(err->message, sizeof err->message, fmt, a ? a : "");
}

static const struct {
    const char *name;
    unsigned bit;
} sensor_names[] = {{"sysmon", SEN_SYSMON},
                    {"security", SEN_SECURITY},
                    {"wfp", SEN_WFP},
                    {"system", SEN_SYSTEM},
                    {"powershell", SEN_POWERSHELL},
                    {"defender", SEN_DEFENDER},
                    {"all", SEN_WINDOWS_ALL},
                    {"none", 0}};

/* "sysmon,security" to bits; -1 if a name is unknown. */
static long parse_sensors(const char *v)
{
    unsigned bits = 0;
    const char *p = v;
    while (*p) {
        size_t n = strcspn(p, ",");
        size_t k;
        for (k = 0; k < sizeof sensor_names / sizeof sensor_names[0]; k++)
            if (strlen(sensor_names[k].name) == n && !strncmp(p, sensor_names[k].name, n))
                break;
        if (k == sizeof sensor_names / sizeof sensor_names[0])
            return -1;
        bits |= sensor_names[k].bit;
        p += n;
        if (*p == ',')
            p++;
    }
    return bits;
}

static int matches(const char *key, const sim_host *h, size_t n)
{
    return (strlen(h->role) == n && !strncasecmp(key, h->role, n)) ||
           (strlen(h->name) == n && !strncasecmp(key, h->name, n));
}

static int configure_hosts(sim_world *w, dh_error *err)
{
    const dh_sim_opts *o = w->o;
    const sim_sensor_set *set = &sim_sensor_sets[o->sensor_set];
    for (size_t i = 0; i < w->nhosts; i++) {
        sim_host *h = &w->hosts[i];
        unsigned bits = 0;
        if (h->sides & SIDE_SOURCE)
            bits |= set->source_hosts;
        if (h->sides & SIDE_TARGET)
            bits |= set->target_hosts;
        if (!h->sides)
            bits |= set->other_hosts;
        h->sensors = h->linux_os ? 0 : bits;
    }
    for (size_t k = 0; k < o->nsensors; k++) {
        long bits = parse_sensors(o->sensors[k].value);
        if (bits < 0) {
            set_err(err, DH_ERR_ARG, NULL,
                    "sensors '%s': a list of sysmon, security, wfp, system, powershell, "
                    "defender, all, none",
                    o->sensors[k].value);
            return -1;
        }
        int found = 0;
        for (size_t i = 0; i < w->nhosts; i++)
            if (matches(o->sensors[k].key, &w->hosts[i], strlen(o->sensors[k].key))) {
                w->hosts[i].sensors = w->hosts[i].linux_os ? 0 : (unsigned)bits;
                found = 1;
            }
        if (!found) {
            set_err(err, DH_ERR_ARG, NULL, "sensors: no host or role '%s' in these scenarios",
                    o->sensors[k].key);
            return -1;
        }
    }
    for (size_t k = 0; k < o->nskews; k++) {
        const char *key = o->skews[k].key;
        if (!strcmp(key, "zeek"))
            continue; /* the network sensor's, applied by the emitter */
        double secs = strtod(o->skews[k].value, NULL); /* checked by check_opts */
        const char *colon = strchr(key, ':');
        size_t hn = colon ? (size_t)(colon - key) : strlen(key);
        int src = -1, defender = 0;
        if (colon) {
            const char *ch = colon + 1;
            defender = !strcmp(ch, "defender");
            for (int s = 0; s < SRC_COUNT && !defender; s++)
                if (!strcmp(sim_sources[s].skew_name, ch))
                    src = s;
            if (src < 0 && !defender) {
                set_err(err, DH_ERR_ARG, NULL,
                        "skew '%s': the channel is security, system, sysmon, powershell or "
                        "defender",
                        key);
                return -1;
            }
        }
        int found = 0;
        for (size_t i = 0; i < w->nhosts; i++) {
            sim_host *h = &w->hosts[i];
            if (!matches(key, h, hn))
                continue;
            found = 1;
            int64_t ticks = (int64_t)(secs * SIM_TICKS);
            for (int s = 0; s <= SRC_COUNT; s++) {
                int hit = !colon || (defender && s == SRC_COUNT) ||
                          (s < SRC_COUNT && src >= 0 &&
                           !strcmp(sim_sources[s].skew_name, sim_sources[src].skew_name));
                if (hit)
                    h->skew[s] += ticks;
            }
        }
        if (!found) {
            set_err(err, DH_ERR_ARG, NULL, "skew: no host or role '%s' in these scenarios", key);
            return -1;
        }
    }
    return 0;
}

/* The options a caller may get wrong, before anything runs: numbers that are not numbers
 * (NaN passes every range test written as two comparisons), names that would become
 * folders outside the output or fields Windows never writes. */
static int check_opts(const dh_sim_opts *o, dh_error *err)
{
    char what[64];
    if (!(o->drop >= 0 && o->drop <= 1)) {
        set_err(err, DH_ERR_ARG, NULL, "drop: a probability from 0 to 1%s", "");
        return -1;
    }
    if (!(o->noise_per_hour >= 0 && o->noise_per_hour <= 1e9)) {
        set_err(err, DH_ERR_ARG, NULL, "noise: 0 to 1e9 events per host per hour%s", "");
        return -1;
    }
    if (o->spacing_s && (o->spacing_s < 60 || o->spacing_s > 30 * 86400)) {
        set_err(err, DH_ERR_ARG, NULL, "spacing: 60 to 2592000 seconds%s", "");
        return -1;
    }
    if (o->domain && !sim_valid_domain(o->domain)) {
        set_err(err, DH_ERR_ARG, NULL,
                "domain '%s': dot-separated labels of letters, digits and dashes", o->domain);
        return -1;
    }
    for (size_t k = 0; k < o->nskews; k++) {
        char *end;
        double secs = strtod(o->skews[k].value, &end);
        if (end == o->skews[k].value || *end || !(secs >= -86400 * 7 && secs <= 86400 * 7)) {
            set_err(err, DH_ERR_ARG, NULL,
                    "skew '%s' is not a number of seconds (-604800 to 604800)", o->skews[k].value);
            return -1;
        }
    }
    for (size_t k = 0; k < o->nnames; k++)
        if (!sim_valid_host_name(o->names[k].value, 1)) {
            set_err(err, DH_ERR_ARG, NULL,
                    "host name '%s': letters, digits and dashes (at most 15 for Windows, 63 "
                    "for Linux), not zeek or dup",
                    o->names[k].value);
            return -1;
        }
    for (size_t k = 0; k < o->naddresses; k++)
        if (!sim_valid_address(o->addresses[k].value)) {
            set_err(err, DH_ERR_ARG, NULL, "address '%s' is not an IPv4 or IPv6 address",
                    o->addresses[k].value);
            return -1;
        }
    for (size_t k = 0; k < o->naccounts; k++) {
        const char *v = o->accounts[k].value, *bs = strchr(v, '\\');
        snprintf(what, sizeof what, "%.*s", bs ? (int)(bs - v) : 0, v);
        if ((bs && !sim_valid_host_name(what, 0)) || !sim_valid_account_name(bs ? bs + 1 : v)) {
            set_err(err, DH_ERR_ARG, NULL,
                    "account '%s': a name, or a NetBIOS domain, a backslash and a name; the "
                    "name without control characters or \"/[]:;|=,+*?<>@ and a backslash",
                    v);
            return -1;
        }
    }
    return 0;
}

dh_status sim_run(const dh_sim_catalog *cat, const dh_sim_opts *oin, const char *dir,
                  dh_sim_stats *stats, dh_error *err, sim_result **keep)
{
    dh_sim_opts o = *oin;
    if (!o.start)
        o.start = default_start();
    if (!o.spacing_s)
        o.spacing_s = 900;
    if (o.sensor_set < 0 || (size_t)o.sensor_set >= sim_nsensor_sets) {
        set_err(err, DH_ERR_ARG, NULL, "no such sensor set%s", "");
        return DH_ERR_ARG;
    }
    memset(stats, 0, sizeof *stats);
    if (check_opts(&o, err))
        return DH_ERR_ARG;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const dh_sim_scenario **list = calloc(cat->n + o.nscenarios + 1, sizeof *list);
    if (!list)
        return DH_ERR_NOMEM;
    size_t n = 0;
    if (o.nscenarios) {
        for (size_t i = 0; i < o.nscenarios; i++) {
            const dh_sim_scenario *s = dh_sim_catalog_find(cat, o.scenarios[i]);
            if (!s) {
                set_err(err, DH_ERR_ARG, NULL, "no scenario named '%s' (simulate --list)",
                        o.scenarios[i]);
                free(list);
                return DH_ERR_ARG;
            }
            list[n++] = s;
        }
    } else {
        for (size_t i = 0; i < cat->n; i++)
            list[n++] = cat->v[i];
    }
    sim_world *w = calloc(1, sizeof *w);
    dh_sim_opts *ocopy = malloc(sizeof *ocopy);
    if (!w || !ocopy) {
        free(w);
        free(ocopy);
        free(list);
        return DH_ERR_NOMEM;
    }
    *ocopy = o;
    sim_world_init(w, ocopy, cat);
    dh_status st = DH_OK;
    for (size_t i = 0; i < n && !st; i++) {
        /* each scenario in its own slot of time, shifted a little by the seed */
        sim_rng r;
        sim_rng_seed(&r, o.seed, list[i]->name);
        int64_t start = o.start + (int64_t)i * o.spacing_s * SIM_TICKS +
                        (int64_t)sim_rng_below(&r, 600) * SIM_TICKS;
        sim_rng_seed(&w->rng, o.seed, list[i]->name);
        if (sim_run_scenario(w, list[i], start)) {
            st = DH_ERR_FORMAT;
            if (err) {
                memset(err, 0, sizeof *err);
                err->status = st;
                err->chunk = -1;
                err->offset = (uint64_t)(w->err_line > 0 ? w->err_line : 0);
                snprintf(err->file, sizeof err->file, "%s", list[i]->origin);
                snprintf(err->message, sizeof err->message, "line %d: %.200s", w->err_line,
                         w->err[0] ? w->err : "out of memory");
            }
        }
    }
    if (!st && configure_hosts(w, err))
        st = DH_ERR_ARG;
    if (!st && sim_mkdirs(dir)) {
        set_err(err, DH_ERR_IO, dir, "cannot create the folder%s", "");
        st = DH_ERR_IO;
    }
    if (!st)
        st = sim_emit(w, dir, stats, err);
    sim_truth *t = NULL;
    if (!st) {
        t = sim_truth_build(w);
        char path[4096];
        snprintf(path, sizeof path, "%s/truth.jsonl", dir);
        st = t ? sim_truth_write(t, w, path) : DH_ERR_NOMEM;
        if (st)
            set_err(err, st, path, "cannot write the ground truth%s", "");
        else
            stats->files++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    stats->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    free(list);
    sim_result *res = keep && !st ? calloc(1, sizeof *res) : NULL;
    if (res) {
        res->w = w;
        res->t = t;
        res->o = ocopy;
        *keep = res;
        return st;
    }
    if (keep && !st)
        st = DH_ERR_NOMEM;
    sim_truth_free(t);
    sim_world_free(w);
    free(w);
    free(ocopy);
    return st;
}

dh_status dh_sim_run(const dh_sim_catalog *cat, const dh_sim_opts *o, const char *dir,
                     dh_sim_stats *stats, dh_error *err)
{
    if (!cat || !o || !dir) {
        set_err(err, DH_ERR_ARG, NULL, "no catalog, options or folder given%s", "");
        return DH_ERR_ARG;
    }
    dh_sim_stats unused;
    return sim_run(cat, o, dir, stats ? stats : &unused, err, NULL);
}

void sim_result_free(sim_result *r)
{
    if (!r)
        return;
    sim_truth_free(r->t);
    sim_world_free(r->w);
    free(r->w);
    free(r->o);
    free(r);
}
