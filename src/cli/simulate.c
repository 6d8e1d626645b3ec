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

int cli_simulate(int argc, char **argv)
{
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
    dh_sim_opts o;
    dh_sim_opts_init(&o);
    o.noise_per_hour = 60; /* a demo that looks like an estate, at about 10 MB */
    const char *out = NULL, *user_dir = NULL;
    int do_list = 0, rc = DH_EXIT_OK;
    const char **names = calloc((size_t)argc + 1, sizeof *names);
    size_t nnames = 0;
    settings hosts = {0}, ips = {0}, accts = {0}, sensors = {0}, skews = {0};
    dh_sim_catalog *cat = NULL;
    if (!names)
        return DH_EXIT_ERROR;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "j:h", longopts, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 'o':
            out = optarg;
            break;
        case 's':
            names[nnames++] = optarg;
            break;
        case 'S':
            user_dir = optarg;
            break;
        case 'l':
            do_list = 1;
            break;
        case 'e':
            o.sensor_set = dh_sim_sensor_set_find(optarg);
            if (o.sensor_set < 0) {
                fputs("dcomhunt simulate: --sensors: no such set (simulate --list shows them)\n",
                      stderr);
                rc = DH_EXIT_USAGE;
                goto done;
            }
            break;
        case 'E':
            if (add_setting(&sensors, "host-sensors", optarg))
                goto usage_error;
            break;
        case 'f':
            if (!strcmp(optarg, "evtx"))
                o.format = DH_SIM_FMT_EVTX;
            else if (!strcmp(optarg, "ecs"))
                o.format = DH_SIM_FMT_ECS;
            else if (!strcmp(optarg, "otrf"))
                o.format = DH_SIM_FMT_OTRF;
            else {
                fputs("dcomhunt simulate: --format takes evtx, ecs or otrf\n", stderr);
                goto usage_error;
            }
            break;
        case 'D':
            if (!strcmp(optarg, "json") || !strcmp(optarg, "csv"))
                o.defender_format = !strcmp(optarg, "csv");
            else {
                fputs("dcomhunt simulate: --defender takes json or csv\n", stderr);
                goto usage_error;
            }
            break;
        case 'r':
            o.seed = strtoull(optarg, &end, 10);
            if (!*optarg || *end) {
                fputs("dcomhunt simulate: --seed wants a number\n", stderr);
                goto usage_error;
            }
            break;
        case 't':
            if (dh_time_parse_iso(optarg, strlen(optarg), &o.start)) {
                fputs("dcomhunt simulate: --start wants an ISO 8601 time such as "
                      "2024-05-14T08:00:00Z\n",
                      stderr);
                goto usage_error;
            }
            break;
        case 'p':
            o.spacing_s = strtoll(optarg, &end, 10);
            if (!*optarg || *end || o.spacing_s < 60 || o.spacing_s > 30 * 86400) {
                fputs("dcomhunt simulate: --spacing wants seconds (60 to 2592000)\n", stderr);
                goto usage_error;
            }
            break;
        case 'd':
            o.domain = optarg;
            break;
        case 'H':
            if (add_setting(&hosts, "host", optarg))
                goto usage_error;
            break;
        case 'I':
            if (add_setting(&ips, "ip", optarg))
                goto usage_error;
            break;
        case 'A':
            if (add_setting(&accts, "account", optarg))
                goto usage_error;
            break;
        case 'k':
            if (add_setting(&skews, "skew", optarg))
                goto usage_error;
            break;
        case 'x':
            o.drop = strtod(optarg, &end);
            if (!*optarg || *end || !(o.drop >= 0 && o.drop <= 1)) {
                fputs("dcomhunt simulate: --drop wants a probability from 0 to 1\n", stderr);
                goto usage_error;
            }
            break;
        case 'u':
            o.duplicate = 1;
            break;
        case 'y':
            o.dirty = 1;
            break;
        case 'n':
            o.noise_per_hour = strtod(optarg, &end);
            if (!*optarg || *end || !(o.noise_per_hour >= 0 && o.noise_per_hour <= 1e9)) {
                fputs("dcomhunt simulate: --noise wants events per host per hour\n", stderr);
                goto usage_error;
            }
            break;
        case 'N':
            if (parse_size(optarg, &o.noise_bytes)) {
                fputs("dcomhunt simulate: --noise-size wants a size such as 500M or 20G\n", stderr);
                goto usage_error;
            }
            break;
        case 'j': {
            int t = cli_parse_threads(optarg);
            if (t < 0) {
                fputs("dcomhunt simulate: -j wants a number from 0 to 256\n", stderr);
                goto usage_error;
            }
            o.threads = (unsigned)t;
            break;
        }
        case 'h':
            rc = usage(stdout, DH_EXIT_OK);
            goto done;
        default:
            goto usage_error;
        }
    }
    if (optind < argc || (!out && !do_list))
        goto usage_error;
    int loaded = cli_load_scenarios(user_dir, (struct dh_sim_catalog **)&cat);
    if (loaded < 0) {
        rc = DH_EXIT_ERROR;
        goto done;
    }
    rc = loaded ? DH_EXIT_PARTIAL : DH_EXIT_OK; /* a refused file is skipped input */
    if (do_list) {
        list(cat);
        goto done;
    }
    if (!dir_usable(out)) {
        fputs("dcomhunt simulate: ", stderr);
        cli_put_safe(stderr, out);
        fputs(" exists and is not empty: give a new --out folder (nothing is overwritten)\n",
              stderr);
        rc = DH_EXIT_USAGE;
        goto done;
    }
    o.scenarios = names;
    o.nscenarios = nnames;
    o.names = hosts.v, o.nnames = hosts.n;
    o.addresses = ips.v, o.naddresses = ips.n;
    o.accounts = accts.v, o.naccounts = accts.n;
    o.sensors = sensors.v, o.nsensors = sensors.n;
    o.skews = skews.v, o.nskews = skews.n;
    dh_sim_stats st;
    dh_error err;
    memset(&err, 0, sizeof err);
    dh_status s = dh_sim_run(cat, &o, out, &st, &err);
    if (s) {
        fputs("dcomhunt simulate: ", stderr);
        if (err.file[0]) {
            cli_put_safe(stderr, err.file);
            fputs(": ", stderr);
        }
        cli_put_safe(stderr, err.message[0] ? err.message : dh_status_str(s));
        fputc('\n', stderr);
        rc = s == DH_ERR_ARG || s == DH_ERR_FORMAT ? DH_EXIT_USAGE : DH_EXIT_ERROR;
        goto done;
    }
    size_t ns = nnames ? nnames : dh_sim_catalog_count(cat);
    fprintf(stderr,
            "simulate: %zu scenarios, sensor set %s, seed %llu: %llu events (%llu background) "
            "in %llu files, %.1f MB, %.2f s, %.0f events/s\n",
            ns, dh_sim_sensor_set_name((size_t)o.sensor_set), (unsigned long long)o.seed,
            (unsigned long long)st.events, (unsigned long long)st.noise_events,
            (unsigned long long)st.files, (double)st.bytes / 1e6, st.seconds,
            st.seconds > 0 ? (double)st.events / st.seconds : 0.0);
    if (st.dropped)
        fprintf(stderr, "  %llu events lost on purpose (--drop)\n", (unsigned long long)st.dropped);
    fputs("  ground truth: ", stderr);
    cli_put_safe(stderr, out);
    fputs("/truth.jsonl; hunt it with: dcomhunt hunt ", stderr);
    cli_put_safe(stderr, out);
    fputc('\n', stderr);
    goto done;
usage_error:
    rc = usage(stderr, DH_EXIT_USAGE);
done:
    dh_sim_catalog_free(cat);
    free(names);
    free(hosts.v);
    free(ips.v);
    free(accts.v);
    free(sensors.v);
    free(skews.v);
    return rc;
}
