/* Loading what several subcommands need, with every refusal printed on stderr: the rule
 * set (built-in pack plus the user's files; hunt, rules, selftest), tuning filters (hunt,
 * stream) and the scenario
 * catalog (simulate, selftest). Below the subcommands: it calls only common.c and the
 * library (declared in cli.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "dcomhunt/finding.h"
#include "dcomhunt/rules.h"
#include "dcomhunt/simulate.h"

/* ---- rules ------------------------------------------------------------------------- */

void cli_print_rule_diag(void *ctx, const dh_rule_diag *d)
{
    cli_diag_count *c = ctx;
    if (c) {
        if (d->is_error)
            c->errors++;
        else
            c->warnings++;
    }
    fputs("dcomhunt: ", stderr);
    cli_put_safe(stderr, d->origin);
    if (d->line)
        fprintf(stderr, ":%d", d->line);
    fputs(d->is_error ? ": rule refused" : ": warning", stderr);
    if (d->rule && *d->rule) {
        fputs(" (", stderr);
        cli_put_safe(stderr, d->rule);
        fputs(")", stderr);
    }
    fputs(": ", stderr);
    cli_put_safe(stderr, d->message);
    fputc('\n', stderr);
}

dh_status cli_load_rules(dh_ruleset **out, int builtin, char **paths, size_t npaths,
                         unsigned *refused)
{
    dh_ruleset *rs;
    dh_status st = dh_ruleset_new(&rs);
    if (st)
        return st;
    cli_diag_count dc = {0};
    if (builtin && (st = dh_ruleset_add_builtin(rs, cli_print_rule_diag, &dc)) == DH_ERR_NOMEM)
        goto fail;
    for (size_t i = 0; i < npaths; i++)
        if ((st = dh_ruleset_add_path(rs, paths[i], cli_print_rule_diag, &dc)) == DH_ERR_NOMEM)
            goto fail;
    if ((st = dh_ruleset_finish(rs)))
        goto fail;
    *refused = dc.errors;
    *out = rs;
    return DH_OK;
fail:
    dh_ruleset_free(rs);
    return st;
}

/* Does the directory (or one below it) hold a *.yml or *.yaml file? */
static int has_rule_files(const char *dir, int depth)
{
    DIR *d = depth < 32 ? opendir(dir) : NULL;
    if (!d)
        return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        const char *n = e->d_name;
        if (n[0] == '.')
            continue;
        size_t l = strlen(n);
        char *sub = malloc(strlen(dir) + l + 2);
        if (!sub)
            break;
        snprintf(sub, strlen(dir) + l + 2, "%s/%s", dir, n);
        struct stat st;
        if (!stat(sub, &st)) {
            if (S_ISDIR(st.st_mode))
                found = has_rule_files(sub, depth + 1);
            else if ((l > 4 && !strcmp(n + l - 4, ".yml")) ||
                     (l > 5 && !strcmp(n + l - 5, ".yaml")))
                found = 1;
        }
        free(sub);
    }
    closedir(d);
    return found;
}

int cli_rule_paths_ok(const char *what, char **paths, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        const char *why = NULL;
        FILE *f = NULL;
        if (stat(paths[i], &st))
            why = strerror(errno);
        else if (S_ISDIR(st.st_mode))
            why = has_rule_files(paths[i], 0) ? NULL : "no rule files (*.yml, *.yaml) in it";
        else if (!(f = fopen(paths[i], "rb")))
            why = strerror(errno);
        if (f)
            fclose(f);
        if (why) {
            fputs(what, stderr);
            fputs(": cannot use ", stderr);
            cli_put_safe(stderr, paths[i]);
            fprintf(stderr, ": %s\n", why);
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

/* ---- tuning ------------------------------------------------------------------------ */

static void tuning_expired(void *ctx, const dh_rule *r)
{
    fputs((const char *)ctx, stderr);
    fputs(": tuning: filter '", stderr);
    cli_put_safe(stderr, dh_rule_title(r));
    fputs("' expired on ", stderr);
    cli_put_safe(stderr, dh_rule_filter_expires(r));
    fputs(" and is not applied\n", stderr);
}

int cli_load_tuning(const char *cmd, const char *what, char **paths, size_t n, dh_ruleset **rs,
                    dh_tuning **t)
{
    unsigned refused = 0;
    if (cli_load_rules(rs, 0, paths, n, &refused) != DH_OK || refused) {
        fprintf(stderr, "%s: %s: the tuning files have errors (above)\n", cmd, what);
        return -1;
    }
    for (size_t i = 0; i < dh_ruleset_count(*rs); i++) {
        const dh_rule *r = dh_ruleset_rule(*rs, i);
        if (!dh_rule_is_filter(r)) {
            fprintf(stderr, "%s: %s: '", cmd, what);
            cli_put_safe(stderr, dh_rule_title(r));
            fputs("' in ", stderr);
            cli_put_safe(stderr, dh_rule_origin(r));
            fputs(" is a rule, not a filter (a tuning file holds Sigma filters)\n", stderr);
            return -1;
        }
    }
    char today[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    if (dh_tuning_new(*rs, today, tuning_expired, (void *)cmd, t) != DH_OK) {
        fprintf(stderr, "%s: out of memory\n", cmd);
        return -1;
    }
    return 0;
}

/* ---- scenarios --------------------------------------------------------------------- */

static void sim_diag(void *ctx, const char *origin, int line, const char *message)
{
    (void)ctx;
    fputs("dcomhunt: ", stderr);
    cli_put_safe(stderr, origin);
    if (line > 0)
        fprintf(stderr, ":%d", line);
    fputs(": ", stderr);
    cli_put_safe(stderr, message);
    fputc('\n', stderr);
}

int cli_load_scenarios(const char *dir, struct dh_sim_catalog **out)
{
    dh_status st = dh_sim_catalog_load(dir, sim_diag, NULL, (dh_sim_catalog **)out);
    if (st == DH_ERR_NOMEM) {
        fputs("dcomhunt: out of memory loading the scenarios\n", stderr);
        return -1;
    }
    if (st == DH_ERR_FORMAT) {
        fputs("dcomhunt: some scenario files were refused (above); the others are loaded\n",
              stderr);
        return 1;
    }
    return 0;
}
