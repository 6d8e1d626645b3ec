/* What every dcomhunt subcommand shares for talking to the user: text from the logs made
 * inert for a terminal, scan errors on stderr, thread counts, and the exit status of a
 * scan. main.c and the subcommands call it; it calls none of them (declared in cli.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "output/text.h"

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
