/* dcomhunt selftest: every scenario under every sensor set, hunted and compared with its
 * ground truth; a table of the results. With --expect-failures FILE the exit status says
 * whether the cells that fail are exactly those listed (the test suite's check: a listed
 * cell that starts passing fails it too, so the list can only shrink). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dcomhunt/rules.h"
#include "dcomhunt/simulate.h"

typedef struct known {
    char *scenario, *set, *verdict, *reason;
    int line, seen;
} known;

typedef struct table {
    int counts[8];
    known *k;
    size_t nk;
    int unexpected, verbose;
    const char *expect_path;
} table;

static int failing(dh_selftest_verdict v)
{
    return v == DH_SELFTEST_MISS || v == DH_SELFTEST_PARTIAL || v == DH_SELFTEST_FALSE_POSITIVE ||
           v == DH_SELFTEST_DUPLICATE;
}

static void cell_fn(void *ctx, const dh_selftest_cell *c)
{
    table *t = ctx;
    t->counts[c->verdict]++;
    known *k = NULL;
    for (size_t i = 0; i < t->nk; i++)
        if (!strcmp(t->k[i].scenario, c->scenario) && !strcmp(t->k[i].set, c->sensor_set))
            k = &t->k[i];
    const char *verdict = dh_selftest_verdict_name(c->verdict);
    const char *mark = "";
    int good = c->verdict == DH_SELFTEST_PASS || c->verdict == DH_SELFTEST_QUIET;
    if (t->expect_path) {
        /* listed cells must keep their verdict; the others must pass */
        if (k) {
            k->seen = 1;
            if (strcmp(k->verdict, verdict)) {
                t->unexpected++;
                mark = good ? "  <- listed as " : "  <- listed with another verdict: ";
            }
        } else if (!good) {
            t->unexpected++;
            mark = "  <- not in the list of expected results";
        }
    }
    printf("%-44s %-13s %-15s ", c->scenario, c->sensor_set, verdict);
    if (t->verbose || failing(c->verdict) || c->verdict == DH_SELFTEST_UNDETECTABLE)
        cli_put_safe(stdout, c->detail);
    if (*mark) {
        fputs(mark, stdout);
        if (k) {
            cli_put_safe(stdout, k->verdict);
            if (good)
                fputs(", now passes: take it off the list", stdout);
        }
    }
    fputc('\n', stdout);
    fflush(stdout);
}

/* scenario TAB sensor-set TAB verdict TAB reason; # comments and blank lines */
static int load_known(table *t, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fputs("dcomhunt selftest: cannot open ", stderr);
        cli_put_safe(stderr, path);
        fputc('\n', stderr);
        return -1;
    }
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        char *fields[4] = {NULL, NULL, NULL, NULL};
        char *p = line;
        for (int i = 0; i < 4 && p; i++) {
            fields[i] = p;
            p = i < 3 ? strchr(p, '\t') : NULL;
            if (p)
                *p++ = 0;
        }
        if (!fields[3] || !fields[3][0]) {
            fprintf(stderr,
                    "dcomhunt selftest: %s:%d: want scenario, sensor set, verdict and "
                    "reason separated by tabs\n",
                    path, n);
            fclose(f);
            return -1;
        }
        known *v = realloc(t->k, (t->nk + 1) * sizeof *v);
        if (!v) {
            fclose(f);
            return -1;
        }
        t->k = v;
        known *k = &t->k[t->nk++];
        k->scenario = strdup(fields[0]);
        k->set = strdup(fields[1]);
        k->verdict = strdup(fields[2]);
        k->reason = strdup(fields[3]);
        k->line = n;
        k->seen = 0;
    }
    fclose(f);
    return 0;
}

static int usage(FILE *f, int rc)
{
    fputs("usage: dcomhunt selftest [OPTIONS]\n"
          "  Simulates every scenario under every sensor set, hunts each with the built-in\n"
          "  rules and compares the findings with the ground truth (docs/commands/selftest.md).\n"
          "  --scenario NAME      only this scenario (repeatable)\n"
          "  --sensors SET        only this sensor set (repeatable)\n"
          "  --scenarios DIR      also load the scenario files of DIR\n"
          "  --rules PATH         add Sigma rules (file or directory; repeatable)\n"
          "  --seed N             the random seed (default 1)\n"
          "  --format FORMAT      the Windows logs as evtx (default), ecs or otrf\n"
          "  --defender FORMAT    Defender rows as json (default) or csv\n"
          "  --noise N            background events per host per hour (default 120)\n"
          "  --drop P             lose each event with probability P\n"
          "  --skew HOST[:CHANNEL]=SECONDS  clock skew of a host or role, or of one of its\n"
          "                       logs, as simulate takes it (repeatable)\n"
          "  --keep DIR           generate under DIR and keep the telemetry\n"
          "  --expect-failures FILE  the cells known not to pass (scenario, set, verdict,\n"
          "                       reason, tab-separated): exit 0 only if exactly those cells\n"
          "                       have exactly those verdicts and every other cell passes\n"
          "  -v, --verbose        the detail of every cell\n"
          "  -j, --threads N      worker threads (default: one per core)\n"
          "  exit status: 0 every cell the evidence supports passes (or, with\n"
          "  --expect-failures, exactly the listed cells fail), 1 otherwise, 2 usage, 4 error\n",
          f);
    return rc;
}

/* What the command line asked for; the strings are argv's, the arrays are freed by
 * st_args_free. */
typedef struct st_args {
    dh_selftest_opts o;
    const char **names; /* --scenario */
    int *sets;          /* --sensors */
    char **rule_paths;
    dh_sim_setting *skews;
    size_t nnames, nsets, nrules, nskews;
    const char *user_dir;
    int stop; /* parse_args: the command ends here, with the status returned */
} st_args;

static const struct option longopts[] = {
    {"scenario", required_argument, NULL, 's'},
    {"sensors", required_argument, NULL, 'e'},
    {"scenarios", required_argument, NULL, 'S'},
    {"rules", required_argument, NULL, 'r'},
    {"seed", required_argument, NULL, 'x'},
    {"keep", required_argument, NULL, 'k'},
    {"expect-failures", required_argument, NULL, 'F'},
    {"verbose", no_argument, NULL, 'v'},
    {"threads", required_argument, NULL, 'j'},
    {"noise", required_argument, NULL, 'n'},
    {"drop", required_argument, NULL, 'd'},
    {"skew", required_argument, NULL, 'w'},
    {"format", required_argument, NULL, 'f'},
    {"defender", required_argument, NULL, 'D'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* --sensors, --format, --defender, --skew: names and pairs; -1 (said why) when not valid. */
static int parse_name(int ch, char *arg, st_args *a)
{
    switch (ch) {
    case 'e': {
        int k = dh_sim_sensor_set_find(arg);
        if (k < 0) {
            fputs("dcomhunt selftest: --sensors: no such set (simulate --list shows them)\n",
                  stderr);
            return -1;
        }
        a->sets[a->nsets++] = k;
        return 0;
    }
    case 'f':
        a->o.format = !strcmp(arg, "evtx")   ? DH_SIM_FMT_EVTX
                      : !strcmp(arg, "ecs")  ? DH_SIM_FMT_ECS
                      : !strcmp(arg, "otrf") ? DH_SIM_FMT_OTRF
                                             : -1;
        if (a->o.format < 0) {
            fputs("dcomhunt selftest: --format takes evtx, ecs or otrf\n", stderr);
            return -1;
        }
        return 0;
    case 'D':
        if (strcmp(arg, "json") && strcmp(arg, "csv")) {
            fputs("dcomhunt selftest: --defender takes json or csv\n", stderr);
            return -1;
        }
        a->o.defender_format = !strcmp(arg, "csv");
        return 0;
    default: { /* 'w' */
        char *eq = strchr(arg, '=');
        if (!eq || eq == arg) {
            fputs("dcomhunt selftest: --skew wants HOST[:CHANNEL]=SECONDS\n", stderr);
            return -1;
        }
        *eq = 0;
        a->skews[a->nskews].key = arg;
        a->skews[a->nskews].value = eq + 1;
        a->nskews++;
        return 0;
    }
    }
}

/* --seed, --noise, --drop, -j: the numbers; -1 (said why) when not valid. */
static int parse_number(int ch, const char *arg, dh_selftest_opts *o)
{
    char *end;
    switch (ch) {
    case 'x':
        o->seed = strtoull(arg, &end, 10);
        if (!*arg || *end) {
            fputs("dcomhunt selftest: --seed wants a number\n", stderr);
            return -1;
        }
        return 0;
    case 'n':
        o->noise_per_hour = strtod(arg, &end);
        if (!*arg || *end || !(o->noise_per_hour >= 0 && o->noise_per_hour <= 1e6)) {
            fputs("dcomhunt selftest: --noise wants events per host per hour\n", stderr);
            return -1;
        }
        return 0;
    case 'd':
        o->drop = strtod(arg, &end);
        if (!*arg || *end || !(o->drop >= 0 && o->drop <= 1)) {
            fputs("dcomhunt selftest: --drop wants a probability from 0 to 1\n", stderr);
            return -1;
        }
        return 0;
    default: { /* 'j' */
        int n = cli_parse_threads(arg);
        if (n < 0) {
            fputs("dcomhunt selftest: -j wants a number from 0 to 256\n", stderr);
            return -1;
        }
        o->threads = (unsigned)n;
        return 0;
    }
    }
}

/* The command line into a and t; with a->stop set, the command ends with the status
 * returned (help, a usage error). */
static int parse_args(int argc, char **argv, st_args *a, table *t)
{
    int ch;
    optind = 1;
    a->stop = 1;
    while ((ch = getopt_long(argc, argv, "j:vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 's':
            a->names[a->nnames++] = optarg;
            break;
        case 'S':
            a->user_dir = optarg;
            break;
        case 'r':
            a->rule_paths[a->nrules++] = optarg;
            break;
        case 'k':
            a->o.work_dir = optarg;
            a->o.keep = 1;
            break;
        case 'F':
            t->expect_path = optarg;
            break;
        case 'v':
            t->verbose = 1;
            break;
        case 'e':
        case 'f':
        case 'D':
        case 'w':
            if (parse_name(ch, optarg, a))
                return DH_EXIT_USAGE;
            break;
        case 'x':
        case 'n':
        case 'd':
        case 'j':
            if (parse_number(ch, optarg, &a->o))
                return DH_EXIT_USAGE;
            break;
        case 'h':
            return usage(stdout, DH_EXIT_OK);
        default:
            return usage(stderr, DH_EXIT_USAGE);
        }
    }
    if (optind < argc)
        return usage(stderr, DH_EXIT_USAGE);
    a->stop = 0;
    return DH_EXIT_OK;
}

static void st_args_free(st_args *a, table *t)
{
    for (size_t i = 0; i < t->nk; i++) {
        free(t->k[i].scenario);
        free(t->k[i].set);
        free(t->k[i].verdict);
        free(t->k[i].reason);
    }
    free(t->k);
    free(a->names);
    free(a->sets);
    free(a->rule_paths);
    free(a->skews);
}

/* The listed cells that were in the run's reach but never reported: each counts as a
 * difference from the list. */
static void check_unseen(const st_args *a, table *t)
{
    for (size_t i = 0; i < t->nk; i++)
        if (!t->k[i].seen) {
            int ran = !a->nnames;
            for (size_t k = 0; k < a->nnames; k++)
                ran |= !strcmp(a->names[k], t->k[i].scenario);
            int setran = !a->nsets;
            for (size_t k = 0; k < a->nsets; k++)
                setran |= !strcmp(dh_sim_sensor_set_name((size_t)a->sets[k]), t->k[i].set);
            if (ran && setran) {
                printf("%s:%d: %s %s is listed but was not run (no such scenario or set)\n",
                       t->expect_path, t->k[i].line, t->k[i].scenario, t->k[i].set);
                t->unexpected++;
            }
        }
}

/* The totals line and, with --expect-failures, the comparison with the list; the exit
 * status the results call for. */
static int print_results(const st_args *a, table *t)
{
    int fails = t->counts[DH_SELFTEST_MISS] + t->counts[DH_SELFTEST_PARTIAL] +
                t->counts[DH_SELFTEST_FALSE_POSITIVE] + t->counts[DH_SELFTEST_DUPLICATE];
    printf("\n%d pass, %d quiet (benign), %d undetectable (evidence insufficient), %d miss, "
           "%d partial, %d false positive, %d duplicate\n",
           t->counts[DH_SELFTEST_PASS], t->counts[DH_SELFTEST_QUIET],
           t->counts[DH_SELFTEST_UNDETECTABLE], t->counts[DH_SELFTEST_MISS],
           t->counts[DH_SELFTEST_PARTIAL], t->counts[DH_SELFTEST_FALSE_POSITIVE],
           t->counts[DH_SELFTEST_DUPLICATE]);
    if (!t->expect_path)
        return fails ? DH_EXIT_FOUND : DH_EXIT_OK;
    check_unseen(a, t);
    printf("expected results: %zu cells listed; %d cells differ from the list\n", t->nk,
           t->unexpected);
    return t->unexpected ? DH_EXIT_FOUND : DH_EXIT_OK;
}

/* Runs every cell, printing each as it comes; the exit status of a failed run, or
 * DH_EXIT_OK when the run went through (whatever the cells' verdicts). */
static int run(st_args *a, const dh_sim_catalog *cat, const dh_ruleset *rs, table *t)
{
    dh_selftest_opts *o = &a->o;
    o->scenarios = a->names;
    o->nscenarios = a->nnames;
    o->sensor_sets = a->sets;
    o->nsensor_sets = a->nsets;
    o->skews = a->skews;
    o->nskews = a->nskews;
    printf("%-44s %-13s %-15s %s\n", "scenario", "sensor set", "verdict", "detail");
    dh_error err;
    memset(&err, 0, sizeof err);
    dh_status st = dh_selftest_run(cat, rs, o, cell_fn, t, &err);
    if (!st)
        return DH_EXIT_OK;
    fputs("dcomhunt selftest: ", stderr);
    if (err.file[0]) {
        cli_put_safe(stderr, err.file);
        fputs(": ", stderr);
    }
    cli_put_safe(stderr, err.message[0] ? err.message : dh_status_str(st));
    fputc('\n', stderr);
    return st == DH_ERR_ARG ? DH_EXIT_USAGE : DH_EXIT_ERROR;
}

int cli_selftest(int argc, char **argv)
{
    st_args a;
    memset(&a, 0, sizeof a);
    dh_selftest_opts_init(&a.o);
    a.names = calloc((size_t)argc + 1, sizeof *a.names);
    a.sets = calloc((size_t)argc + 1, sizeof *a.sets);
    a.rule_paths = calloc((size_t)argc + 1, sizeof *a.rule_paths);
    a.skews = calloc((size_t)argc + 1, sizeof *a.skews);
    table t;
    memset(&t, 0, sizeof t);
    int rc = DH_EXIT_OK;
    dh_sim_catalog *cat = NULL;
    dh_ruleset *rs = NULL;
    if (!a.names || !a.sets || !a.rule_paths || !a.skews) {
        rc = DH_EXIT_ERROR;
        goto done;
    }
    rc = parse_args(argc, argv, &a, &t);
    if (a.stop)
        goto done;
    if (t.expect_path && load_known(&t, t.expect_path)) {
        rc = DH_EXIT_USAGE;
        goto done;
    }
    int loaded = cli_load_scenarios(a.user_dir, (struct dh_sim_catalog **)&cat);
    if (loaded < 0) {
        rc = DH_EXIT_ERROR;
        goto done;
    }
    unsigned refused = 0;
    if (cli_load_rules(&rs, 1, a.rule_paths, a.nrules, &refused)) {
        fputs("dcomhunt selftest: cannot load rules\n", stderr);
        rc = DH_EXIT_ERROR;
        goto done;
    }
    if ((rc = run(&a, cat, rs, &t)) != DH_EXIT_OK)
        goto done;
    rc = print_results(&a, &t);
    /* a scenario file or rule that was refused is not tested: not a pass */
    if (rc == DH_EXIT_OK && (loaded || refused))
        rc = DH_EXIT_PARTIAL;
done:
    dh_ruleset_free(rs);
    dh_sim_catalog_free(cat);
    st_args_free(&a, &t);
    return rc;
}
