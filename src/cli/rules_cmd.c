/* dcomhunt rules check|list|show: lint rules, list what is loaded, print compiled logic. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dcomhunt/rules.h"

typedef struct diag_ctx {
    unsigned errors, warnings;
    int quiet_warnings;
} diag_ctx;

void cli_print_rule_diag(void *ctx, const dh_rule_diag *d)
{
    diag_ctx *c = ctx;
    if (c) {
        if (d->is_error)
            c->errors++;
        else
            c->warnings++;
        if (!d->is_error && c->quiet_warnings)
            return;
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
    diag_ctx dc = {0};
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

static int usage(FILE *f, int rc)
{
    fputs("usage: dcomhunt rules check PATH...      lint rule files or directories\n"
          "       dcomhunt rules list [--rules PATH]... [--no-builtin]\n"
          "       dcomhunt rules show ID|NAME [--rules PATH]...\n",
          f);
    return rc;
}

int cli_rules(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, DH_EXIT_USAGE);
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h"))
        return usage(stdout, DH_EXIT_OK);
    if (!strcmp(sub, "check")) {
        if (argc < 3)
            return usage(stderr, DH_EXIT_USAGE);
        dh_ruleset *rs;
        if (dh_ruleset_new(&rs))
            return DH_EXIT_ERROR;
        diag_ctx dc = {0};
        for (int i = 2; i < argc; i++)
            if (dh_ruleset_add_path(rs, argv[i], cli_print_rule_diag, &dc) == DH_ERR_NOMEM) {
                dh_ruleset_free(rs);
                return DH_EXIT_ERROR;
            }
        printf("%zu rules loaded, %u refused, %u warnings\n", dh_ruleset_count(rs), dc.errors,
               dc.warnings);
        dh_ruleset_free(rs);
        return dc.errors ? DH_EXIT_PARTIAL : DH_EXIT_OK;
    }
    int builtin = 1;
    char **paths = calloc((size_t)argc, sizeof *paths);
    size_t np = 0;
    const char *key = NULL;
    if (!paths)
        return DH_EXIT_ERROR;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--rules") && i + 1 < argc)
            paths[np++] = argv[++i];
        else if (!strcmp(argv[i], "--no-builtin"))
            builtin = 0;
        else if (argv[i][0] != '-' && !key)
            key = argv[i];
        else {
            free(paths);
            return usage(stderr, DH_EXIT_USAGE);
        }
    }
    dh_ruleset *rs;
    unsigned refused;
    if (cli_load_rules(&rs, builtin, paths, np, &refused)) {
        free(paths);
        return DH_EXIT_ERROR;
    }
    free(paths);
    int rc = refused ? DH_EXIT_PARTIAL : DH_EXIT_OK;
    if (!strcmp(sub, "list")) {
        printf("%-36s  %-13s  %-8s  %s\n", "id", "level", "conf.", "title / name / logsource");
        for (size_t i = 0; i < dh_ruleset_count(rs); i++) {
            const dh_rule *r = dh_ruleset_rule(rs, i);
            printf("%-36s  %-13s  %-8s  ", dh_rule_id(r), dh_level_name(dh_rule_level(r)),
                   *dh_rule_confidence(r) ? dh_rule_confidence(r) : "-");
            cli_put_safe(stdout, dh_rule_title(r));
            if (*dh_rule_name(r)) {
                fputs(" / ", stdout);
                cli_put_safe(stdout, dh_rule_name(r));
            }
            printf(" [%s%s%s]\n", dh_rule_logsource(r, "category"),
                   *dh_rule_logsource(r, "service") ? " service:" : "",
                   dh_rule_logsource(r, "service"));
        }
        printf("%zu rules\n", dh_ruleset_count(rs));
    } else if (!strcmp(sub, "show") && key) {
        const dh_rule *r = dh_ruleset_find(rs, key);
        if (!r) {
            fputs("dcomhunt rules show: no loaded rule has that id or name\n", stderr);
            rc = DH_EXIT_USAGE;
        } else {
            size_t need = dh_rule_describe(r, NULL, 0) + 1;
            char *buf = malloc(need);
            if (buf) {
                dh_rule_describe(r, buf, need);
                cli_put_text(stdout, buf);
                free(buf);
            }
            fputc('\n', stdout);
        }
    } else {
        rc = usage(stderr, DH_EXIT_USAGE);
    }
    dh_ruleset_free(rs);
    return rc;
}
