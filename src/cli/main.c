/* dcomhunt: entry point and subcommand table. The one caller of the subcommands: the
 * helpers they share live below them (common.c, load.c), never here. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "dcomhunt/rules.h"

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
    {"stream", cli_kafka_exec, "hunt continuously on Kafka: two stages, findings to a topic"},
    {"produce", cli_kafka_exec, "send files' events to a Kafka topic for dcomhunt stream"},
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
