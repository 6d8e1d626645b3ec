/* dcomhunt rules check|list|show|export: lint rules, list what is loaded, print compiled
 * logic, export rules as KQL hunting queries or as their Sigma YAML. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dcomhunt/rules.h"
#include "output/kql.h"

static int usage(FILE *f, int rc)
{
    fputs("usage: dcomhunt rules check PATH...      lint rule files or directories\n"
          "       dcomhunt rules list [--rules PATH]... [--no-builtin]\n"
          "       dcomhunt rules show ID|NAME [--rules PATH]...\n"
          "       dcomhunt rules export --to kql|sigma [--rules PATH]... [--builtin] [--split]\n"
          "                             [--no-enrich] [ID|NAME]...\n",
          f);
    return rc;
}

static void export_note(void *ctx, const dh_rule *r, int is_error, const char *msg)
{
    (void)ctx;
    fputs("dcomhunt rules export: ", stderr);
    cli_put_safe(stderr, *dh_rule_name(r) ? dh_rule_name(r) : dh_rule_id(r));
    fputs(is_error ? ": not exported to KQL: " : ": exported approximately: ", stderr);
    cli_put_safe(stderr, msg);
    fputc('\n', stderr);
}

/* One rule's YAML for a stream of documents: the "---" line that opened it in a file of
 * several rules and a closing "..." are dropped (the caller separates rules with "---"). */
static void put_sigma(FILE *f, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == '\n' || s[i] == '\r'))
        i++;
    if (n - i >= 3 && !memcmp(s + i, "---", 3) &&
        (n - i == 3 || s[i + 3] == '\n' || s[i + 3] == '\r' || s[i + 3] == ' ')) {
        size_t eol = i + 3;
        while (eol < n && s[eol] == ' ')
            eol++;
        if (eol == n || s[eol] == '\n' || s[eol] == '\r') { /* a bare marker line */
            i = eol;
            while (i < n && (s[i] == '\n' || s[i] == '\r'))
                i++;
        } else {
            i += 3; /* content on the marker line stays */
        }
    }
    size_t end = n;
    while (end > i && (s[end - 1] == '\n' || s[end - 1] == '\r' || s[end - 1] == ' '))
        end--;
    if (end - i >= 3 && !memcmp(s + end - 3, "...", 3) && (end - i == 3 || s[end - 4] == '\n')) {
        end -= 3;
        while (end > i && (s[end - 1] == '\n' || s[end - 1] == '\r'))
            end--;
    }
    fwrite(s + i, 1, end - i, f);
    fputc('\n', f);
}

/* rules export: the built-in pack (or the rules of --rules PATH), or only the rules named,
 * as KQL queries (src/output/kql.c) or as the Sigma YAML they were loaded from. */
static int rules_export(int argc, char **argv)
{
    const char *to = NULL;
    int builtin = -1, rc = DH_EXIT_OK;
    dh_kql_options opt = {0, 0};
    char **paths = calloc((size_t)argc + 1, sizeof *paths);
    char **keys = calloc((size_t)argc + 1, sizeof *keys);
    size_t np = 0, nk = 0;
    if (!paths || !keys) {
        free(paths);
        free(keys);
        return DH_EXIT_ERROR;
    }
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--to") && i + 1 < argc)
            to = argv[++i];
        else if (!strncmp(argv[i], "--to=", 5))
            to = argv[i] + 5;
        else if (!strcmp(argv[i], "--rules") && i + 1 < argc)
            paths[np++] = argv[++i];
        else if (!strcmp(argv[i], "--builtin"))
            builtin = 1;
        else if (!strcmp(argv[i], "--no-builtin"))
            builtin = 0;
        else if (!strcmp(argv[i], "--split"))
            opt.split = 1;
        else if (!strcmp(argv[i], "--no-enrich"))
            opt.no_enrich = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            free(paths);
            free(keys);
            return usage(stdout, DH_EXIT_OK);
        } else if (argv[i][0] != '-')
            keys[nk++] = argv[i];
        else
            rc = DH_EXIT_USAGE;
    }
    if (rc || !to || (strcmp(to, "kql") && strcmp(to, "sigma"))) {
        free(paths);
        free(keys);
        if (!rc && !to) {
            fputs("dcomhunt rules export: --to kql or --to sigma is required\n", stderr);
        } else if (!rc) {
            fputs("dcomhunt rules export: unknown format '", stderr);
            cli_put_safe(stderr, to);
            fputs("' (--to kql or --to sigma)\n", stderr);
        }
        return usage(stderr, DH_EXIT_USAGE);
    }
    if (cli_rule_paths_ok("dcomhunt rules export: --rules", paths, np)) {
        free(paths);
        free(keys);
        return DH_EXIT_USAGE;
    }
    if (builtin < 0) /* --rules PATH replaces the built-in pack unless --builtin is given */
        builtin = np == 0;
    dh_ruleset *rs;
    unsigned refused;
    dh_status st = cli_load_rules(&rs, builtin, paths, np, &refused);
    free(paths);
    if (st) {
        free(keys);
        return DH_EXIT_ERROR;
    }
    size_t total = dh_ruleset_count(rs), n = 0;
    const dh_rule **sel = calloc(total + nk + 1, sizeof *sel);
    if (!sel) {
        free(keys);
        dh_ruleset_free(rs);
        return DH_EXIT_ERROR;
    }
    for (size_t i = 0; i < nk; i++) {
        const dh_rule *r = dh_ruleset_find(rs, keys[i]);
        if (!r) {
            fputs("dcomhunt rules export: no loaded rule has the id or name ", stderr);
            cli_put_safe(stderr, keys[i]);
            fputc('\n', stderr);
            rc = DH_EXIT_USAGE;
            continue;
        }
        int dup = 0;
        for (size_t j = 0; j < n && !dup; j++)
            dup = sel[j] == r;
        if (!dup)
            sel[n++] = r;
    }
    free(keys);
    if (!nk)
        for (size_t i = 0; i < total; i++)
            sel[n++] = dh_ruleset_rule(rs, i);
    if (!rc && !strcmp(to, "sigma")) {
        for (size_t i = 0; i < n; i++) {
            size_t len;
            const char *text = dh_rule_source(sel[i], &len);
            if (!text) {
                fputs("dcomhunt rules export: the text of ", stderr);
                cli_put_safe(stderr, dh_rule_title(sel[i]));
                fputs(" was not kept\n", stderr);
                rc = DH_EXIT_ERROR;
                break;
            }
            if (i)
                fputs("---\n", stdout);
            put_sigma(stdout, text, len);
        }
    } else if (!rc) {
        dh_buf out;
        size_t not_exported = 0;
        dh_buf_init(&out, (size_t)256 << 20);
        st = dh_kql_export(sel, n, &opt, &out, export_note, NULL, &not_exported);
        if (st) {
            fputs("dcomhunt rules export: out of memory\n", stderr);
            rc = DH_EXIT_ERROR;
        } else {
            fwrite(out.data, 1, out.len, stdout);
            if (not_exported)
                rc = DH_EXIT_PARTIAL;
        }
        dh_buf_free(&out);
    }
    if (!rc && refused)
        rc = DH_EXIT_PARTIAL;
    free(sel);
    dh_ruleset_free(rs);
    if (fflush(stdout) && !rc)
        rc = DH_EXIT_ERROR;
    return rc;
}

int cli_rules(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, DH_EXIT_USAGE);
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h"))
        return usage(stdout, DH_EXIT_OK);
    if (!strcmp(sub, "export"))
        return rules_export(argc - 2, argv + 2);
    if (!strcmp(sub, "check")) {
        if (argc < 3)
            return usage(stderr, DH_EXIT_USAGE);
        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
                return usage(stdout, DH_EXIT_OK);
            if (argv[i][0] == '-' && argv[i][1]) {
                fputs("dcomhunt rules check: unknown option ", stderr);
                cli_put_safe(stderr, argv[i]);
                fputc('\n', stderr);
                return usage(stderr, DH_EXIT_USAGE);
            }
        }
        if (cli_rule_paths_ok("dcomhunt rules check", argv + 2, (size_t)(argc - 2)))
            return DH_EXIT_USAGE;
        dh_ruleset *rs;
        if (dh_ruleset_new(&rs))
            return DH_EXIT_ERROR;
        cli_diag_count dc = {0};
        for (int i = 2; i < argc; i++)
            if (dh_ruleset_add_path(rs, argv[i], cli_print_rule_diag, &dc) == DH_ERR_NOMEM) {
                dh_ruleset_free(rs);
                return DH_EXIT_ERROR;
            }
        /* The verdicts made once everything is loaded (correlation rules: the rules they
         * name, chains, aliases) are hunt's too: one loader, one verdict. */
        if (dh_ruleset_finish(rs) == DH_ERR_NOMEM) {
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
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            free(paths);
            return usage(stdout, DH_EXIT_OK);
        } else if (argv[i][0] != '-' && !key)
            key = argv[i];
        else {
            free(paths);
            return usage(stderr, DH_EXIT_USAGE);
        }
    }
    if (cli_rule_paths_ok("dcomhunt rules: --rules", paths, np)) {
        free(paths);
        return DH_EXIT_USAGE;
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
            /* everything but the level is the rule author's text: escaped */
            const char *id = dh_rule_id(r), *conf = dh_rule_confidence(r);
            cli_put_safe(stdout, id);
            printf("%*s  %-13s  ", strlen(id) < 36 ? (int)(36 - strlen(id)) : 0, "",
                   dh_level_name(dh_rule_level(r)));
            cli_put_safe(stdout, *conf ? conf : "-");
            printf("%*s  ", strlen(conf) < 8 ? (int)(8 - (*conf ? strlen(conf) : 1)) : 0, "");
            cli_put_safe(stdout, dh_rule_title(r));
            if (*dh_rule_name(r)) {
                fputs(" / ", stdout);
                cli_put_safe(stdout, dh_rule_name(r));
            }
            if (dh_rule_is_correlation(r)) {
                fputs(" [correlation: ", stdout);
                cli_put_safe(stdout, dh_rule_correlation_type(r));
                fputs("]\n", stdout);
                continue;
            }
            fputs(" [", stdout);
            cli_put_safe(stdout, dh_rule_logsource(r, "category"));
            if (*dh_rule_logsource(r, "service")) {
                fputs(" service:", stdout);
                cli_put_safe(stdout, dh_rule_logsource(r, "service"));
            }
            fputs("]\n", stdout);
        }
        printf("%zu rules\n", dh_ruleset_count(rs));
    } else if (!strcmp(sub, "show") && key) {
        const dh_rule *r = dh_ruleset_find(rs, key);
        if (!r) {
            fputs("dcomhunt rules show: no loaded rule has the id, name or title '", stderr);
            cli_put_safe(stderr, key);
            fputs("' (dcomhunt rules list lists them)\n", stderr);
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
