/* dcomhunt stream and produce from the dcomhunt binary: they run in dcomhunt-kafka, the
 * binary beside it, which alone links librdkafka and libmicrohttpd. Why: loading those
 * libraries (and what they pull in: TLS, SASL, compression) cost every dcomhunt command
 * ~12 million instructions of symbol lookups at start-up (callgrind on `stats`: 71M -> 86M
 * on 8 MB of EVTX), a tenth of a small hunt. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* readlink of /proc/self/exe */
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int cli_kafka_exec(int argc, char **argv)
{
    (void)argc;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || (size_t)n >= sizeof self - 32) {
        fputs("dcomhunt: cannot find where dcomhunt is installed (/proc/self/exe)\n", stderr);
        return DH_EXIT_ERROR;
    }
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (!slash)
        return DH_EXIT_ERROR;
    snprintf(slash + 1, sizeof self - (size_t)(slash + 1 - self), "dcomhunt-kafka");
    /* argv is the command's own: argv[0] is "stream" or "produce", and argv[-1] the
     * program's name, which dcomhunt-kafka's main skips as dcomhunt's does */
    char **args = argv - 1;
    execv(self, args);
    fprintf(stderr, "dcomhunt: cannot run %s: %s\n", self, strerror(errno));
    return DH_EXIT_ERROR;
}
