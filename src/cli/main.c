/* dcomhunt: entry point and subcommand table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "dcomhunt/rules.h"
#include "output/text.h"

#define DH_VERSION "0.1.0"

static int cli_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("dcomhunt %s\n", DH_VERSION);
    /* the built-in rule pack: how many rules, and a digest of its files as built */
    size_t nfiles;
    uint64_t digest = dh_builtin_digest(&nfiles);
    dh_ruleset *rs = NULL;
    size_t nrules = 0;
    if (dh_ruleset_new(&rs) == DH_OK && dh_ruleset_add_builtin(rs, NULL, NULL) != DH_ERR_NOMEM &&
        dh_ruleset_finish(rs) == DH_OK)
        nrules = dh_ruleset_count(rs);
    dh_ruleset_free(rs);
    printf("rule pack: %zu rules from %zu files, digest %016llx\n", nrules, nfiles,
           (unsigned long long)digest);
    return DH_EXIT_OK;
}

static int cli_help(int argc, char **argv);

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"hunt", cli_hunt, "run the DCOM rule pack and your Sigma rules; report findings"},
    {"dump", cli_dump, "decode inputs and print one event per line (JSON, XML, ECS, Defender...)"},
    {"stats", cli_stats, "decode and normalize inputs, print event counts per channel and id"},
    {"rules", cli_rules, "check, list, show and export (KQL, Sigma) rules"},
    {"report", cli_report, "write an HTML report from the findings of hunt --jsonl"},
    {"tune", cli_tune, "propose tuning filters from past findings (tune suggest)"},
    {"simulate", cli_simulate, "write DCOM attacks and their look-alikes as logs, with the truth"},
    {"selftest", cli_selftest, "simulate every scenario under every sensor set and hunt it"},
    {"version", cli_version, "print the version"},
    {"help", cli_help, "show this help"},
};

static int cli_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("usage: dcomhunt COMMAND [OPTIONS] PATH...\n\n"
           "Finds lateral movement through DCOM (ATT&CK T1021.003) in Windows telemetry.\n\n"
           "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        printf("  %-10s %s\n", commands[i].name, commands[i].summary);
    printf("\n'dcomhunt COMMAND --help' describes a command. Exit status: 0 ok, 1 findings (or\n"
           "detections) reported, 2 usage error, 3 some input skipped (damaged or unreadable),\n"
           "4 fatal error or nothing read, 5 findings reported and some input skipped.\n");
    return DH_EXIT_OK;
}

static void put_escaped(FILE *f, const char *s, size_t n, unsigned flags)
{
    dh_buf b;
    dh_buf_init(&b, 64u << 20);
    if (dh_text_escape(&b, s, n, flags) == DH_OK && b.len)
        fwrite(b.data, 1, b.len, f);
    dh_buf_free(&b);
}

void cli_put_safe(FILE *f, const char *s)
{
    put_escaped(f, s, strlen(s), DH_TEXT_BACKSLASH);
}

void cli_put_safe_n(FILE *f, const char *s, size_t n)
{
    put_escaped(f, s, n, DH_TEXT_BACKSLASH);
}

void cli_put_text(FILE *f, const char *s)
{
    put_escaped(f, s, strlen(s), DH_TEXT_KEEP_LINES);
}

void cli_print_error(const dh_error *e)
{
    fputs("dcomhunt: ", stderr);
    cli_put_safe(stderr, e->file);
    if (e->chunk >= 0)
        fprintf(stderr, ": chunk %lld", (long long)e->chunk);
    fprintf(stderr, ": offset %llu", (unsigned long long)e->offset);
    if (e->record_id)
        fprintf(stderr, ": record %llu", (unsigned long long)e->record_id);
    fputs(": ", stderr);
    cli_put_safe(stderr, e->message);
    fputc('\n', stderr);
}

int cli_parse_threads(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end != 0 || v < 0 || v > 256)
        return -1;
    return (int)v;
}

int cli_nothing_read(const char *cmd, dh_status st, const dh_scan_stats *stats)
{
    if ((st != DH_OK && st != DH_ERR_FORMAT) || stats->files_read)
        return 0;
    fprintf(stderr, "dcomhunt %s: nothing was read: %s\n", cmd,
            stats->files_seen == 0 ? "no files found"
                                   : "no input could be opened or is in a format dcomhunt reads");
    return 1;
}

int cli_exit_for(dh_status st, const dh_scan_stats *stats)
{
    if ((st == DH_OK || st == DH_ERR_FORMAT) && !stats->files_read)
        return DH_EXIT_ERROR; /* nothing read is not "nothing found" */
    if (st == DH_OK)
        return DH_EXIT_OK;
    if (st == DH_ERR_FORMAT)
        return DH_EXIT_PARTIAL;
    return DH_EXIT_ERROR;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_help(0, NULL);
        return DH_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return cli_help(0, NULL);
    if (strcmp(cmd, "--version") == 0)
        return cli_version(0, NULL);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, cmd) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fputs("dcomhunt: unknown command '", stderr);
    cli_put_safe(stderr, cmd);
    fputs("' (try 'dcomhunt help')\n", stderr);
    return DH_EXIT_USAGE;
}
