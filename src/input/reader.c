/* What the reader rows share (reader.h): cutting at line ends, and the messages every
 * reader words the same way. */
#include "input/reader.h"

#include <stdio.h>

size_t dh_reader_cut_lines(const char *buf, size_t len, uint64_t offset)
{
    (void)offset;
    for (size_t k = len; k-- > 0;)
        if (buf[k] == '\n')
            return k + 1;
    return 0;
}

void dh_reader_junk_msg(char *msg, size_t n, const dh_reader_junk *j)
{
    if (j->n == 1)
        snprintf(msg, n, "chunk signature missing, chunk skipped");
    else
        snprintf(msg, n, "%u chunks from here to offset %llu have no chunk signature, skipped",
                 j->n, (unsigned long long)j->end);
}

void dh_reader_line_error(void *sink, uint64_t line, uint64_t offset, const char *why)
{
    const dh_reader_sink *k = sink;
    char msg[200];
    snprintf(msg, sizeof msg, "line %llu: %s", (unsigned long long)line, why);
    k->on_error(k->ctx, DH_ERR_FORMAT, -1, offset, 0, msg);
}
