/* A Kafka cluster for benchmarks and manual runs of dcomhunt stream and produce, which are
 * separate processes: librdkafka's mock cluster (three brokers) in this process, through
 * the tests' helper (mock.h), with the topics named on the command line created. Prints
 * the bootstrap servers on one line of stdout, then serves until stdin is closed (or the
 * process is killed).
 *
 *     mock_cluster TOPIC:PARTITIONS...
 *
 * With DCOMHUNT_KAFKA set it creates the topics there instead and prints that broker
 * (topic names then get the helper's run prefix, printed after the servers, one per
 * line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: mock_cluster TOPIC:PARTITIONS...\n", stderr);
        return 2;
    }
    dh_kt *k = dh_kt_start();
    if (!k) {
        fputs("mock_cluster: cannot start the cluster\n", stderr);
        return 1;
    }
    printf("%s\n", dh_kt_bootstrap(k));
    for (int i = 1; i < argc; i++) {
        char name[256], made[512];
        const char *colon = strrchr(argv[i], ':');
        long parts = colon ? strtol(colon + 1, NULL, 10) : 1;
        size_t n = colon ? (size_t)(colon - argv[i]) : strlen(argv[i]);
        if (!n || n >= sizeof name || parts < 1 || parts > 1000) {
            fprintf(stderr, "mock_cluster: not TOPIC:PARTITIONS: %s\n", argv[i]);
            dh_kt_stop(k);
            return 2;
        }
        memcpy(name, argv[i], n);
        name[n] = 0;
        if (dh_kt_topic(k, name, (int)parts, made, sizeof made)) {
            fprintf(stderr, "mock_cluster: cannot create %s\n", name);
            dh_kt_stop(k);
            return 1;
        }
        printf("%s\n", made);
    }
    fflush(stdout);
    char buf[256];
    while (fread(buf, 1, sizeof buf, stdin) > 0)
        ;
    dh_kt_stop(k);
    return 0;
}
