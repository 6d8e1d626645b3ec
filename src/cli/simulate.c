/* dcomhunt simulate: writes the telemetry of DCOM attacks and their look-alikes (the
 * scenarios), with the ground truth beside it. The library does the work
 * (include/dcomhunt/simulate.h); this parses the knobs and prints what was written. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/timefmt.h"
#include "dcomhunt/simulate.h"

static int usage(FILE *f, int rc)
{
    fputs("usage: dcomhunt simulate --out DIR [OPTIONS]\n"
          "       dcomhunt simulate --list [--scenarios DIR]\n"
          "  Writes the logs of DCOM lateral movement and of its look-alikes (the scenarios),\n"
          "  per host and sensor, with the ground truth in DIR/truth.jsonl (docs/simulate.md).\n"
          "  --scenario NAME      this scenario (repeatable; default: all)\n"
          "  --scenarios DIR      also load the scenario files of DIR (*.yml)\n"
          "  --list               list the scenarios and the sensor sets\n"
          "  --sensors SET        full (default), sysmon, security, security-wfp, defender,\n"
          "                       zeek, target-only, source-only\n"
          "  --host-sensors HOST=LIST  a host's (or role's) sensors: sysmon, security, wfp,\n"
          "                       system, powershell, defender, all, none (repeatable)\n"
          "  --format FORMAT      Windows logs as evtx (default), ecs (Winlogbeat JSON lines)\n"
          "                       or otrf (NXLog JSON lines)\n"
          "  --defender FORMAT    Defender rows as json (default) or csv\n"
          "  --seed N             the random seed (default 1): same arguments, same bytes\n"
          "  --start TIME         when the first scenario starts (default\n"
          "                       2024-05-14T08:00:00Z)\n"
          "  --spacing SECONDS    between scenarios (default 900)\n"
          "  --domain NAME        the DNS domain (default corp.example)\n"
          "  --host ROLE=NAME     a host's name (repeatable)\n"
          "  --ip ROLE=ADDRESS    a host's address (repeatable)\n"
          "  --account ROLE=DOMAIN\\NAME  an account (repeatable)\n"
          "  --skew HOST[:CHANNEL]=SECONDS  clock skew of a host, or of one of its logs\n"
          "                       (security, system, sysmon, powershell, defender); zeek=S for\n"
          "                       the network sensor (repeatable)\n"
          "  --drop P             lose each event with probability P (0 to 1)\n"
          "  --duplicate          write every log twice (DIR/dup/)\n"
          "  --dirty              EVTX files as live logs copied while Windows writes them\n"
          "  --noise N            background events per host per hour (default 60; 0: none)\n"
          "  --noise-size SIZE    write background events until about SIZE bytes (K, M, G)\n"
          "  -j, --threads N      worker threads (default: one per core)\n",
          f);
    return rc;
}

typedef struct settings {
    dh_sim_setting *v;
    size_t n;
} settings;

static int add_setting(settings *s, const char *opt, char *arg)
{
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        fprintf(stderr, "dcomhunt simulate: --%s wants KEY=VALUE\n", opt);
        return -1;
    }
    dh_sim_setting *v = realloc(s->v, (s->n + 1) * sizeof *v);
    if (!v)
        return -1;
    s->v = v;
    *eq = 0;
    s->v[s->n].key = arg;
    s->v[s->n].value = eq + 1;
    s->n++;
    return 0;
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0)) /* NaN too */
        return -1;
    double m = 1;
    if (*end == 'k' || *end == 'K')
        m = 1e3, end++;
    else if (*end == 'm' || *end == 'M')
        m = 1e6, end++;
    else if (*end == 'g' || *end == 'G')
        m = 1e9, end++;
    else if (*end == 't' || *end == 'T')
        m = 1e12, end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end || !(v * m < 1e18)) /* a petabyte is far enough; infinity is not a size */
        return -1;
    *out = (uint64_t)(v * m);
    return 0;
}

static int dir_usable(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 1 : 0;
    struct dirent *de;
    int empty = 1;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            empty = 0;
    closedir(d);
    return empty;
}

static void list(const dh_sim_catalog *c)
{
    printf("scenarios:\n");
    for (size_t i = 0; i < dh_sim_catalog_count(c); i++) {
        const dh_sim_scenario *s = dh_sim_catalog_get(c, i);
        printf("  %-38s ", dh_sim_scenario_name(s));
        cli_put_safe(stdout, dh_sim_scenario_kind(s));
        printf("%*s", (int)(8 - strlen(dh_sim_scenario_kind(s))), "");
        cli_put_safe(stdout, dh_sim_scenario_title(s));
        fputc('\n', stdout);
    }
    printf("\nsensor sets:\n");
    for (size_t i = 0; i < dh_sim_sensor_set_count(); i++)
        printf("  %-14s %s\n", dh_sim_sensor_set_name(i), dh_sim_sensor_set_description(i));
}

/* What the command line asked for; the strings are argv's, the arrays are freed by
 * sim_args_free. */
typedef struct sim_args {
    dh_sim_opts o;
    const char *out, *user_dir;
    int do_list;
    const char **names; /* --scenario */
    size_t nnames;
    settings hosts, ips, accts, sensors, skews;
    int stop; /* parse_args: the command ends here, with the status returned */
} sim_args;

static const struct option longopts[] = {
    {"out", required_argument, NULL, 'o'},
    {"scenario", required_argument, NULL, 's'},
    {"scenarios", required_argument, NULL, 'S'},
    {"list", no_argument, NULL, 'l'},
    {"sensors", required_argument, NULL, 'e'},
    {"host-sensors", required_argument, NULL, 'E'},
    {"format", required_argument, NULL, 'f'},
    {"defender", required_argument, NULL, 'D'},
    {"seed", required_argument, NULL, 'r'},
    {"start", required_argument, NULL, 't'},
    {"spacing", required_argument, NULL, 'p'},
    {"domain", required_argument, NULL, 'd'},
    {"host", required_argument, NULL, 'H'},
    {"ip", required_argument, NULL, 'I'},
    {"account", required_argument, NULL, 'A'},
    {"skew", required_argument, NULL, 'k'},
    {"drop", required_argument, NULL, 'x'},
    {"duplicate", no_argument, NULL, 'u'},
    {"dirty", no_argument, NULL, 'y'},
    {"noise", required_argument, NULL, 'n'},
    {"noise-size", required_argument, NULL, 'N'},
    {"threads", required_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* --format, --defender: the output formats; -1 (said why) when the name is unknown. */
static int parse_format(int ch, const char *arg, dh_sim_opts *o)
{
    if (ch == 'f') {
        if (!strcmp(arg, "evtx"))
            o->format = DH_SIM_FMT_EVTX;
        else if (!strcmp(arg, "ecs"))
            o->format = DH_SIM_FMT_ECS;
        else if (!strcmp(arg, "otrf"))
            o->format = DH_SIM_FMT_OTRF;
        else {
            fputs("dcomhunt simulate: --format takes evtx, ecs or otrf\n", stderr);
            return -1;
        }
        return 0;
    }
    if (!strcmp(arg, "json") || !strcmp(arg, "csv"))
        o->defender_format = !strcmp(arg, "csv");
    else {
        fputs("dcomhunt simulate: --defender takes json or csv\n", stderr);
        return -1;
    }
    return 0;
}

/* --seed, --start, --spacing: when and how the scenarios are laid out; -1 (said why) when
 * the value is not valid. */
static int parse_timing(int ch, const char *arg, dh_sim_opts *o)
{
    char *end;
    switch (ch) {
    case 'r':
        o->seed = strtoull(arg, &end, 10);
        if (!*arg || *end) {
            fputs("dcomhunt simulate: --seed wants a number\n", stderr);
            return -1;
        }
        return 0;
    case 't':
        if (dh_time_parse_iso(arg, strlen(arg), &o->start)) {
            fputs("dcomhunt simulate: --start wants an ISO 8601 time such as "
                  "2024-05-14T08:00:00Z\n",
                  stderr);
            return -1;
        }
        return 0;
    default: /* 'p' */
        o->spacing_s = strtoll(arg, &end, 10);
        if (!*arg || *end || o->spacing_s < 60 || o->spacing_s > 30 * 86400) {
            fputs("dcomhunt simulate: --spacing wants seconds (60 to 2592000)\n", stderr);
            return -1;
        }
        return 0;
    }
}

/* --drop, --noise, --noise-size, -j: the amounts; -1 (said why) when the value is not
 * valid. */
static int parse_amount(int ch, const char *arg, dh_sim_opts *o)
{
    char *end;
    switch (ch) {
    case 'x':
        o->drop = strtod(arg, &end);
        if (!*arg || *end || !(o->drop >= 0 && o->drop <= 1)) {
            fputs("dcomhunt simulate: --drop wants a probability from 0 to 1\n", stderr);
            return -1;
        }
        return 0;
    case 'n':
        o->noise_per_hour = strtod(arg, &end);
        if (!*arg || *end || !(o->noise_per_hour >= 0 && o->noise_per_hour <= 1e9)) {
            fputs("dcomhunt simulate: --noise wants events per host per hour\n", stderr);
            return -1;
        }
        return 0;
    case 'N':
        if (parse_size(arg, &o->noise_bytes)) {
            fputs("dcomhunt simulate: --noise-size wants a size such as 500M or 20G\n", stderr);
            return -1;
        }
        return 0;
    default: { /* 'j' */
        int t = cli_parse_threads(arg);
        if (t < 0) {
            fputs("dcomhunt simulate: -j wants a number from 0 to 256\n", stderr);
            return -1;
        }
        o->threads = (unsigned)t;
        return 0;
    }
    }
}

/* The options that take a value (all but --sensors, which parse_args checks); -1 (said
 * why) when it is not valid, and the caller prints the usage. */
static int parse_value(int ch, char *arg, sim_args *a)
{
    switch (ch) {
    case 'o':
        a->out = arg;
        return 0;
    case 's':
        a->names[a->nnames++] = arg;
        return 0;
    case 'S':
        a->user_dir = arg;
        return 0;
    case 'd':
        a->o.domain = arg;
        return 0;
    case 'E':
        return add_setting(&a->sensors, "host-sensors", arg);
    case 'H':
        return add_setting(&a->hosts, "host", arg);
    case 'I':
        return add_setting(&a->ips, "ip", arg);
    case 'A':
        return add_setting(&a->accts, "account", arg);
    case 'k':
        return add_setting(&a->skews, "skew", arg);
    case 'f':
    case 'D':
        return parse_format(ch, arg, &a->o);
    case 'r':
    case 't':
    case 'p':
        return parse_timing(ch, arg, &a->o);
    default: /* 'x', 'n', 'N', 'j' */
        return parse_amount(ch, arg, &a->o);
    }
}

/* The command line into a; with a->stop set, the command ends with the status returned
 * (help, a usage error). */
static int parse_args(int argc, char **argv, sim_args *a)
{
    int ch;
    optind = 1;
    a->stop = 1;
    while ((ch = getopt_long(argc, argv, "j:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'l':
            a->do_list = 1;
            break;
        case 'u':
            a->o.duplicate = 1;
            break;
        case 'y':
            a->o.dirty = 1;
            break;
        case 'e':
            a->o.sensor_set = dh_sim_sensor_set_find(optarg);
            if (a->o.sensor_set < 0) {
                fputs("dcomhunt simulate: --sensors: no such set (simulate --list shows them)\n",
                      stderr);
                return DH_EXIT_USAGE;
            }
            break;
        case 'h':
            return usage(stdout, DH_EXIT_OK);
        case '?':
            return usage(stderr, DH_EXIT_USAGE);
        default:
            if (parse_value(ch, optarg, a))
                return usage(stderr, DH_EXIT_USAGE);
            break;
        }
    }
    if (optind < argc || (!a->out && !a->do_list))
        return usage(stderr, DH_EXIT_USAGE);
    a->stop = 0;
    return DH_EXIT_OK;
}

static void sim_args_free(sim_args *a)
{
    free(a->names);
    free(a->hosts.v);
    free(a->ips.v);
    free(a->accts.v);
    free(a->sensors.v);
    free(a->skews.v);
}

/* Writes the scenarios' logs into a->out and says what was written; the exit status. */
static int run(sim_args *a, const dh_sim_catalog *cat)
{
    dh_sim_opts *o = &a->o;
    o->scenarios = a->names;
    o->nscenarios = a->nnames;
    o->names = a->hosts.v, o->nnames = a->hosts.n;
    o->addresses = a->ips.v, o->naddresses = a->ips.n;
    o->accounts = a->accts.v, o->naccounts = a->accts.n;
    o->sensors = a->sensors.v, o->nsensors = a->sensors.n;
    o->skews = a->skews.v, o->nskews = a->skews.n;
    dh_sim_stats st;
    dh_error err;
    memset(&err, 0, sizeof err);
    dh_status s = dh_sim_run(cat, o, a->out, &st, &err);
    if (s) {
        fputs("dcomhunt simulate: ", stderr);
        if (err.file[0]) {
            cli_put_safe(stderr, err.file);
            fputs(": ", stderr);
        }
        cli_put_safe(stderr, err.message[0] ? err.message : dh_status_str(s));
        fputc('\n', stderr);
        return s == DH_ERR_ARG || s == DH_ERR_FORMAT ? DH_EXIT_USAGE : DH_EXIT_ERROR;
    }
    size_t ns = a->nnames ? a->nnames : dh_sim_catalog_count(cat);
    fprintf(stderr,
            "simulate: %zu scenarios, sensor set %s, seed %llu: %llu events (%llu background) "
            "in %llu files, %.1f MB, %.2f s, %.0f events/s\n",
            ns, dh_sim_sensor_set_name((size_t)o->sensor_set), (unsigned long long)o->seed,
            (unsigned long long)st.events, (unsigned long long)st.noise_events,
            (unsigned long long)st.files, (double)st.bytes / 1e6, st.seconds,
            st.seconds > 0 ? (double)st.events / st.seconds : 0.0);
    if (st.dropped)
        fprintf(stderr, "  %llu events lost on purpose (--drop)\n", (unsigned long long)st.dropped);
    fputs("  ground truth: ", stderr);
    cli_put_safe(stderr, a->out);
    fputs("/truth.jsonl; hunt it with: dcomhunt hunt ", stderr);
    cli_put_safe(stderr, a->out);
    fputc('\n', stderr);
    return DH_EXIT_OK;
}

int cli_simulate(int argc, char **argv)
{
    sim_args a;
    memset(&a, 0, sizeof a);
    dh_sim_opts_init(&a.o);
    a.o.noise_per_hour = 60; /* a demo that looks like an estate, at about 10 MB */
    a.names = calloc((size_t)argc + 1, sizeof *a.names);
    if (!a.names)
        return DH_EXIT_ERROR;
    dh_sim_catalog *cat = NULL;
    int rc = parse_args(argc, argv, &a);
    if (a.stop)
        goto done;
    int loaded = cli_load_scenarios(a.user_dir, (struct dh_sim_catalog **)&cat);
    if (loaded < 0) {
        rc = DH_EXIT_ERROR;
        goto done;
    }
    rc = loaded ? DH_EXIT_PARTIAL : DH_EXIT_OK; /* a refused file is skipped input */
    if (a.do_list) {
        list(cat);
        goto done;
    }
    if (!dir_usable(a.out)) {
        fputs("dcomhunt simulate: ", stderr);
        cli_put_safe(stderr, a.out);
        fputs(" exists and is not empty: give a new --out folder (nothing is overwritten)\n",
              stderr);
        rc = DH_EXIT_USAGE;
        goto done;
    }
    int ran = run(&a, cat);
    if (ran != DH_EXIT_OK)
        rc = ran;
done:
    dh_sim_catalog_free(cat);
    sim_args_free(&a);
    return rc;
}
