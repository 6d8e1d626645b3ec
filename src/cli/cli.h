/* The dcomhunt command: shared helpers of the subcommands. The CLI is the only code that
 * prints or exits. */
#ifndef DH_CLI_H
#define DH_CLI_H

#include <stdio.h>

#include "dcomhunt/scan.h"
#include "dcomhunt/status.h"

/* Exit status, documented in docs/exit-status.md. Numbers are pinned. */
enum {
    DH_EXIT_OK = 0,         /* everything read, nothing to report */
    DH_EXIT_FOUND = 1,      /* (hunt) detections or findings were reported */
    DH_EXIT_USAGE = 2,      /* bad command line */
    DH_EXIT_PARTIAL = 3,    /* some input was skipped: damaged, unreadable or unknown */
    DH_EXIT_ERROR = 4,      /* nothing could be done: fatal error */
};

int cli_dump(int argc, char **argv);
int cli_stats(int argc, char **argv);

/* Prints a scan error on stderr, with attacker-controlled text (file names, messages
 * quoting input) made inert for a terminal. */
void cli_print_error(const dh_error *e);
/* Writes s to f with control characters escaped as \xNN. */
void cli_put_safe(FILE *f, const char *s);
/* Parses a thread count; returns -1 if invalid. */
int cli_parse_threads(const char *s);
/* Maps a scan status to the exit status. */
int cli_exit_for(dh_status st, const dh_scan_stats *stats);

#endif
