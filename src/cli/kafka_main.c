/* dcomhunt-kafka: the commands that talk to Kafka (stream, produce), in a binary of their
 * own so that the dcomhunt binary does not load librdkafka (kafka_exec.c says why).
 * `dcomhunt stream ...` runs `dcomhunt-kafka stream ...`; it may also be run directly. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "stream") == 0)
        return cli_stream(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "produce") == 0)
        return cli_produce(argc - 1, argv + 1);
    fputs("usage: dcomhunt-kafka stream|produce [OPTIONS] (see dcomhunt stream --help)\n", stderr);
    return DH_EXIT_USAGE;
}
