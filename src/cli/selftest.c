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

int cli_selftest(int argc, char **argv)
{
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
    dh_selftest_opts o;
    dh_selftest_opts_init(&o);
    const char **names = calloc((size_t)argc + 1, sizeof *names);
    int *sets = calloc((size_t)argc + 1, sizeof *sets);
    char **rule_paths = calloc((size_t)argc + 1, sizeof *rule_paths);
    size_t nnames = 0, nsets = 0, nrules = 0, nskews = 0;
    dh_sim_setting *skews = calloc((size_t)argc + 1, sizeof *skews);
    const char *user_dir = NULL;
    table t;
    memset(&t, 0, sizeof t);
    int rc = DH_EXIT_OK;
    dh_sim_catalog *cat = NULL;
    dh_ruleset *rs = NULL;
    if (!names || !sets || !rule_paths || !skews) {
        rc = DH_EXIT_ERROR;
        goto done;
    }
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "j:vh", longopts, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 's':
            names[nnames++] = optarg;
            break;
        case 'e': {
            int k = dh_sim_sensor_set_find(optarg);
            if (k < 0) {
                fputs("dcomhunt selftest: --sensors: no such set (simulate --list shows them)\n",
                      stderr);
                rc = DH_EXIT_USAGE;
                goto done;
            }
            sets[nsets++] = k;
            break;
        }
        case 'S':
            user_dir = optarg;
            break;
        case 'r':
            rule_paths[nrules++] = optarg;
            break;
        case 'x':
            o.seed = strtoull(optarg, &end, 10);
            if (!*optarg || *end) {
                fputs("dcomhunt selftest: --seed wants a number\n", stderr);
                rc = DH_EXIT_USAGE;
                goto done;
            }
            break;
        case 'k':
            o.work_dir = optarg;
            o.keep = 1;
            break;
        case 'F':
            t.expect_path = optarg;
            break;
        case 'f':
            o.format = !strcmp(optarg, "evtx")   ? DH_SIM_FMT_EVTX
                       : !strcmp(optarg, "ecs")  ? DH_SIM_FMT_ECS
                       : !strcmp(optarg, "otrf") ? DH_SIM_FMT_OTRF
                                                 : -1;
            if (o.format < 0) {
                fputs("dcomhunt selftest: --format takes evtx, ecs or otrf\n", stderr);
                rc = DH_EXIT_USAGE;
                goto done;
            }
            break;
        case 'D':
            if (strcmp(optarg, "json") && strcmp(optarg, "csv")) {
                fputs("dcomhunt selftest: --defender takes json or csv\n", stderr);
                rc = DH_EXIT_USAGE;
                goto done;
            }
            o.defender_format = !strcmp(optarg, "csv");
            break;
        case 'n':
            o.noise_per_hour = strtod(optarg, &end);
            if (!*optarg || *end || !(o.noise_per_hour >= 0 && o.noise_per_hour <= 1e6)) {
                fputs("dcomhunt selftest: --noise wants events per host per hour\n", stderr);
                rc = DH_EXIT_USAGE;
                goto done;
            }
            break;
        case 'd':
            o.drop = strtod(optarg, &end);
            if (!*optarg || *end || !(o.drop >= 0 && o.drop <= 1)) {
                fputs("dcomhunt selftest: --drop wants a probability from 0 to 1\n", stderr);
                rc = DH_EXIT_USAGE;
                goto done;
            }
            break;
        case 'w': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                fputs("dcomhunt selftest: --skew wants HOST[:CHANNEL]=SECONDS\n", stderr);
                rc = DH_EXIT_USAGE;
                goto done;
            }
            *eq = 0;
            skews[nskews].key = optarg;
            skews[nskews].value = eq + 1;
            nskews++;
            break;
        }
        case 'v':
            t.verbose = 1;
            break;
        case 'j': {
            int n = cli_parse_threads(optarg);
            if (n < 0) {
                fputs("dcomhunt selftest: -j wants a number from 0 to 256\n", stderr);
                rc = DH_EXIT_USAGE;
                goto done;
            }
            o.threads = (unsigned)n;
            break;
        }
        case 'h':
            rc = usage(stdout, DH_EXIT_OK);
            goto done;
        default:
            rc = usage(stderr, DH_EXIT_USAGE);
            goto done;
        }
    }
    if (optind < argc) {
        rc = usage(stderr, DH_EXIT_USAGE);
        goto done;
    }
    if (t.expect_path && load_known(&t, t.expect_path)) {
        rc = DH_EXIT_USAGE;
        goto done;
    }
    int loaded = cli_load_scenarios(user_dir, (struct dh_sim_catalog **)&cat);
    if (loaded < 0) {
        rc = DH_EXIT_ERROR;
        goto done;
    }
    unsigned refused = 0;
    if (cli_load_rules(&rs, 1, rule_paths, nrules, &refused)) {
        fputs("dcomhunt selftest: cannot load rules\n", stderr);
        rc = DH_EXIT_ERROR;
        goto done;
    }
    o.scenarios = names;
    o.nscenarios = nnames;
    o.sensor_sets = sets;
    o.nsensor_sets = nsets;
    o.skews = skews;
    o.nskews = nskews;
    printf("%-44s %-13s %-15s %s\n", "scenario", "sensor set", "verdict", "detail");
    dh_error err;
    memset(&err, 0, sizeof err);
    dh_status st = dh_selftest_run(cat, rs, &o, cell_fn, &t, &err);
    if (st) {
        fputs("dcomhunt selftest: ", stderr);
        if (err.file[0]) {
            cli_put_safe(stderr, err.file);
            fputs(": ", stderr);
        }
        cli_put_safe(stderr, err.message[0] ? err.message : dh_status_str(st));
        fputc('\n', stderr);
        rc = st == DH_ERR_ARG ? DH_EXIT_USAGE : DH_EXIT_ERROR;
        goto done;
    }
    int fails = t.counts[DH_SELFTEST_MISS] + t.counts[DH_SELFTEST_PARTIAL] +
                t.counts[DH_SELFTEST_FALSE_POSITIVE] + t.counts[DH_SELFTEST_DUPLICATE];
    printf("\n%d pass, %d quiet (benign), %d undetectable (evidence insufficient), %d miss, "
           "%d partial, %d false positive, %d duplicate\n",
           t.counts[DH_SELFTEST_PASS], t.counts[DH_SELFTEST_QUIET],
           t.counts[DH_SELFTEST_UNDETECTABLE], t.counts[DH_SELFTEST_MISS],
           t.counts[DH_SELFTEST_PARTIAL], t.counts[DH_SELFTEST_FALSE_POSITIVE],
           t.counts[DH_SELFTEST_DUPLICATE]);
    if (t.expect_path) {
        for (size_t i = 0; i < t.nk; i++)
            if (!t.k[i].seen && (!nnames || 1)) {
                int ran = !nnames;
                for (size_t k = 0; k < nnames; k++)
                    ran |= !strcmp(names[k], t.k[i].scenario);
                int setran = !nsets;
                for (size_t k = 0; k < nsets; k++)
                    setran |= !strcmp(dh_sim_sensor_set_name((size_t)sets[k]), t.k[i].set);
                if (ran && setran) {
                    printf("%s:%d: %s %s is listed but was not run (no such scenario or set)\n",
                           t.expect_path, t.k[i].line, t.k[i].scenario, t.k[i].set);
                    t.unexpected++;
                }
            }
        printf("expected results: %zu cells listed; %d cells differ from the list\n", t.nk,
               t.unexpected);
        rc = t.unexpected ? DH_EXIT_FOUND : DH_EXIT_OK;
    } else {
        rc = fails ? DH_EXIT_FOUND : DH_EXIT_OK;
    }
    /* a scenario file or rule that was refused is not tested: not a pass */
    if (rc == DH_EXIT_OK && (loaded || refused))
        rc = DH_EXIT_PARTIAL;
done:
    for (size_t i = 0; i < t.nk; i++) {
        free(t.k[i].scenario);
        free(t.k[i].set);
        free(t.k[i].verdict);
        free(t.k[i].reason);
    }
    free(t.k);
    dh_ruleset_free(rs);
    dh_sim_catalog_free(cat);
    free(names);
    free(sets);
    free(rule_paths);
    free(skews);
    return rc;
}
