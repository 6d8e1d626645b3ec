/* The dcomhunt command: what its files share. The CLI is the only code that prints or
 * exits. The files depend one way: main.c (the command table) -> the subcommands (dump.c,
 * hunt.c, ...) -> the helpers (common.c, load.c) -> the library; nothing below calls
 * back up (scripts/check-layers.sh reports a cycle). */
#ifndef DH_CLI_H
#define DH_CLI_H

#include <stdio.h>

#include "dcomhunt/scan.h"
#include "dcomhunt/status.h"

/* Exit status, documented in docs/exit-status.md. Numbers are pinned. */
enum {
    DH_EXIT_OK = 0,            /* everything read, nothing to report */
    DH_EXIT_FOUND = 1,         /* (hunt) detections or findings were reported */
    DH_EXIT_USAGE = 2,         /* bad command line */
    DH_EXIT_PARTIAL = 3,       /* some input was skipped: damaged, unreadable or unknown */
    DH_EXIT_ERROR = 4,         /* nothing could be done: fatal error, or nothing read */
    DH_EXIT_FOUND_PARTIAL = 5, /* (hunt) detections, and some input was skipped */
};

/* ---- the subcommands, one file each; called by main.c only ---------------------------- */

int cli_dump(int argc, char **argv);
int cli_stats(int argc, char **argv);
int cli_rules(int argc, char **argv);
int cli_tune(int argc, char **argv);
int cli_hunt(int argc, char **argv);
int cli_report(int argc, char **argv);
int cli_simulate(int argc, char **argv);
int cli_selftest(int argc, char **argv);
int cli_produce(int argc, char **argv);
int cli_stream(int argc, char **argv);
/* stream and produce from dcomhunt: runs dcomhunt-kafka beside it (kafka_exec.c). */
int cli_kafka_exec(int argc, char **argv);

/* ---- load.c: rule sets and scenario catalogs, refusals printed -------------------------- */

struct dh_sim_catalog;
/* The built-in scenarios and those of dir (may be NULL); problems are printed. 0; 1 when
 * some files were refused (the others loaded); -1 when nothing could be loaded. */
int cli_load_scenarios(const char *dir, struct dh_sim_catalog **out);

struct dh_ruleset;
struct dh_rule_diag;
struct dh_tuning;
/* What cli_print_rule_diag counts when given one as its ctx. */
typedef struct cli_diag_count {
    unsigned errors, warnings;
} cli_diag_count;
/* Prints a rule diagnostic on stderr; ctx, a cli_diag_count, counts errors and warnings
 * (may be NULL). */
void cli_print_rule_diag(void *ctx, const struct dh_rule_diag *d);
/* Checks that each rule file can be read and each directory holds rule files; says why
 * not on stderr, after `what`, and returns -1 (a usage error: the user named it). */
int cli_rule_paths_ok(const char *what, char **paths, size_t n);
/* The built-in pack (if builtin) plus the given files/directories, finished. */
dh_status cli_load_rules(struct dh_ruleset **out, int builtin, char **paths, size_t npaths,
                         unsigned *refused);
/* The tuning files (Sigma filters only) into *rs and a tuning *t over them; -1, after
 * saying why on stderr as "CMD: WHAT: ...", when a file cannot be used. */
int cli_load_tuning(const char *cmd, const char *what, char **paths, size_t n,
                    struct dh_ruleset **rs, struct dh_tuning **t);

/* ---- common.c: printing for a terminal, thread counts, exit statuses -------------------- */

/* Prints a scan error on stderr, with attacker-controlled text (file names, messages
 * quoting input) made inert for a terminal. */
void cli_print_error(const dh_error *e);
/* Writes s to f escaped for a terminal (docs/output-escaping.md), a backslash too. */
void cli_put_safe(FILE *f, const char *s);
/* The same for n bytes (a value from the logs: a NUL is part of it). */
void cli_put_safe_n(FILE *f, const char *s, size_t n);
/* Writes multi-line text to f: newlines and tabs kept, other control characters \xNN. */
void cli_put_text(FILE *f, const char *s);
/* Parses a thread count; returns -1 if invalid. */
int cli_parse_threads(const char *s);
/* Maps a scan status to the exit status: an error when nothing at all was read. */
int cli_exit_for(dh_status st, const dh_scan_stats *stats);
/* Says so on stderr ("dcomhunt CMD: nothing was read: ...") when no input was read;
 * returns 1 then. */
int cli_nothing_read(const char *cmd, dh_status st, const dh_scan_stats *stats);

#endif
