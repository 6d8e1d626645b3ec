/* Unit tests for the stream's metrics (src/stream/metrics.c): the Prometheus text of the
 * counts, and the HTTP endpoint started on 127.0.0.1 with a free port and fetched with a
 * plain socket: 200 with the counts at /metrics, 404 elsewhere, 405 for other methods, a
 * request with headers beyond the budget refused, and the server still answering after. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "stream/metrics.h"

static const char *const names[] = {
    "dcomhunt_stream_messages_in_total",    "dcomhunt_stream_events_in_total",
    "dcomhunt_stream_candidates_out_total", "dcomhunt_stream_candidates_in_total",
    "dcomhunt_stream_findings_out_total",   "dcomhunt_stream_findings_suppressed_total",
    "dcomhunt_stream_late_events_total",    "dcomhunt_stream_malformed_messages_total",
    "dcomhunt_stream_transactions_total",   "dcomhunt_stream_transactions_aborted_total",
    "dcomhunt_stream_open_windows",         "dcomhunt_stream_lag_messages",
};

static dh_stream_counts sample(void)
{
    dh_stream_counts c = {.messages_in = 11,
                          .events_in = 22,
                          .candidates_out = 33,
                          .candidates_in = 44,
                          .findings_out = 55,
                          .findings_suppressed = 66,
                          .late = 77,
                          .malformed = 88,
                          .transactions = 99,
                          .aborted = 1010,
                          .open_windows = 1111,
                          .lag = 1212};
    return c;
}

/* The sample line of name in text: its value as written. */
static const char *value_of(const char *text, const char *name)
{
    static char v[64];
    size_t nl = strlen(name);
    for (const char *p = text; (p = strstr(p, name)); p += nl)
        if ((p == text || p[-1] == '\n') && p[nl] == ' ') {
            size_t k = strcspn(p + nl + 1, "\n");
            assert_true(k < sizeof v);
            memcpy(v, p + nl + 1, k);
            v[k] = 0;
            return v;
        }
    return NULL;
}

static void text_has_every_metric(void **state)
{
    (void)state;
    dh_stream_counts c = sample();
    dh_buf b;
    dh_buf_init(&b, 1u << 20);
    assert_int_equal(dh_stream_metrics_text(&c, &b), DH_OK);
    assert_int_equal(dh_buf_putc(&b, 0), DH_OK);
    const char *want[] = {"11", "22", "33", "44",   "55",   "66",
                          "77", "88", "99", "1010", "1111", "1212"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = value_of(b.data, names[i]);
        if (!v)
            fail_msg("no sample of %s", names[i]);
        assert_string_equal(v, want[i]);
        char help[128], type[128];
        snprintf(help, sizeof help, "# HELP %s ", names[i]);
        snprintf(type, sizeof type, "# TYPE %s %s\n", names[i],
                 strstr(names[i], "_total") ? "counter" : "gauge");
        assert_non_null(strstr(b.data, help));
        assert_non_null(strstr(b.data, type));
    }
    /* Every line is a comment or a sample, and the text ends with a newline. */
    assert_int_equal(b.data[b.len - 2], '\n');
    dh_buf_free(&b);

    /* Unknown lag is NaN; an empty budget fails instead of writing half. */
    c.lag = -1;
    dh_buf_init(&b, 1u << 20);
    assert_int_equal(dh_stream_metrics_text(&c, &b), DH_OK);
    assert_int_equal(dh_buf_putc(&b, 0), DH_OK);
    assert_string_equal(value_of(b.data, "dcomhunt_stream_lag_messages"), "NaN");
    dh_buf_free(&b);
    dh_buf_init(&b, 100);
    assert_int_equal(dh_stream_metrics_text(&c, &b), DH_ERR_NOMEM);
    dh_buf_free(&b);
    assert_int_equal(dh_stream_metrics_text(NULL, &b), DH_ERR_ARG);
}

static int calls;

static void counts(void *ctx, dh_stream_counts *out)
{
    *out = *(const dh_stream_counts *)ctx;
    calls++;
}

/* Sends req to 127.0.0.1:port and returns the whole reply (malloc'd, NUL-terminated). */
static char *fetch(uint16_t port, const char *req, size_t reqlen)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    size_t sent = 0;
    while (sent < reqlen) {
        ssize_t n = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may close on a request it refuses */
        sent += (size_t)n;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    for (ssize_t n; len < cap && (n = recv(fd, buf + len, cap - len, 0)) > 0;)
        len += (size_t)n;
    buf[len] = 0;
    close(fd);
    return buf;
}

static int status_of(const char *reply)
{
    if (strncmp(reply, "HTTP/1.", 7) || strlen(reply) < 12)
        return 0;
    return (int)strtol(reply + 9, NULL, 10);
}

static void endpoint(void **state)
{
    (void)state;
    dh_stream_counts c = sample();
    dh_metrics_server *m = NULL;
    dh_error err;
    assert_int_equal(dh_metrics_server_start("127.0.0.1:0", counts, &c, &m, &err), DH_OK);
    uint16_t port = dh_metrics_server_port(m);
    assert_true(port > 0);

    const char get[] = "GET /metrics HTTP/1.0\r\n\r\n";
    char *r = fetch(port, get, sizeof get - 1);
    assert_int_equal(status_of(r), 200);
    assert_non_null(strstr(r, "text/plain; version=0.0.4"));
    const char *body = strstr(r, "\r\n\r\n");
    assert_non_null(body);
    assert_string_equal(value_of(body + 4, "dcomhunt_stream_findings_out_total"), "55");
    assert_string_equal(value_of(body + 4, "dcomhunt_stream_lag_messages"), "1212");
    free(r);

    /* The counts are read at each request. */
    c.findings_out = 56;
    r = fetch(port, get, sizeof get - 1);
    assert_string_equal(value_of(strstr(r, "\r\n\r\n") + 4, "dcomhunt_stream_findings_out_total"),
                        "56");
    free(r);

    const char head[] = "HEAD /metrics HTTP/1.0\r\n\r\n";
    r = fetch(port, head, sizeof head - 1);
    assert_int_equal(status_of(r), 200);
    assert_null(strstr(r, "dcomhunt_stream_"));
    free(r);

    const char other[] = "GET /metrics/x HTTP/1.0\r\n\r\n";
    r = fetch(port, other, sizeof other - 1);
    assert_int_equal(status_of(r), 404);
    free(r);
    const char root[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    r = fetch(port, root, sizeof root - 1);
    assert_int_equal(status_of(r), 404);
    free(r);

    const char post[] = "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                        "Connection: close\r\n\r\nhello";
    r = fetch(port, post, sizeof post - 1);
    assert_int_equal(status_of(r), 405);
    assert_non_null(strstr(r, "Allow: GET, HEAD"));
    free(r);
    const char del[] = "DELETE /metrics HTTP/1.0\r\n\r\n";
    r = fetch(port, del, sizeof del - 1);
    assert_int_equal(status_of(r), 405);
    free(r);

    /* Headers beyond the per-connection budget: refused, never served. */
    size_t big = 200000;
    char *huge = malloc(big + 64);
    assert_non_null(huge);
    int k = snprintf(huge, 64, "GET /metrics HTTP/1.0\r\nX-Big: ");
    memset(huge + k, 'a', big);
    memcpy(huge + k + big, "\r\n\r\n", 4);
    r = fetch(port, huge, (size_t)k + big + 4);
    int code = status_of(r);
    assert_true(code == 0 || code >= 400);
    free(r);
    free(huge);

    /* Still serving. */
    r = fetch(port, get, sizeof get - 1);
    assert_int_equal(status_of(r), 200);
    free(r);
    assert_true(calls >= 3);
    dh_metrics_server_stop(m);
    dh_metrics_server_stop(NULL);
}

static void bad_addresses(void **state)
{
    (void)state;
    dh_metrics_server *m = (dh_metrics_server *)1;
    dh_error err;
    dh_stream_counts c = sample();
    const char *bad[] = {"9464",         "127.0.0.1", "127.0.0.1:", ":9464", "127.0.0.1:70000",
                         "127.0.0.1:9x", "::1:9464",  "[::1]9464"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_not_equal(dh_metrics_server_start(bad[i], counts, &c, &m, &err), DH_OK);
        assert_null(m);
        assert_string_equal(err.file, bad[i]);
        assert_non_null(strstr(err.message, "metrics endpoint"));
    }
    /* A port taken: named, not a crash. */
    dh_metrics_server *a = NULL;
    assert_int_equal(dh_metrics_server_start("127.0.0.1:0", counts, &c, &a, &err), DH_OK);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", dh_metrics_server_port(a));
    assert_int_equal(dh_metrics_server_start(addr, counts, &c, &m, &err), DH_ERR_IO);
    assert_null(m);
    assert_non_null(strstr(err.message, "cannot listen"));
    dh_metrics_server_stop(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_has_every_metric),
        cmocka_unit_test(endpoint),
        cmocka_unit_test(bad_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
