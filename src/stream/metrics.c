/* The stream's metrics: the Prometheus text exposition of dh_stream_counts
 * (dh_stream_metrics_text, every metric with its HELP and TYPE lines, names prefixed
 * dcomhunt_stream_) and the HTTP endpoint that serves it (metrics.h). The server runs on
 * libmicrohttpd's own thread; it never prints (no MHD_USE_ERROR_LOG) and refuses what is
 * not GET or HEAD /metrics. docs/stream.md lists the metrics. */
#include "stream/metrics.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/buf.h"

#define MAX_BODY        (64u << 10) /* the text is ~2 KiB */
#define MAX_CONNECTIONS 8           /* a scraper or two; more is someone else */
#define CONN_TIMEOUT_S  10
#define CONN_MEMORY     (32u << 10) /* per connection: request line and headers */

typedef struct metric {
    const char *name, *type, *help;
    size_t off; /* of the uint64_t in dh_stream_counts */
} metric;

#define C(field) offsetof(dh_stream_counts, field)
static const metric metrics[] = {
    {"dcomhunt_stream_messages_in_total", "counter", "Input messages consumed (stage 1).",
     C(messages_in)},
    {"dcomhunt_stream_events_in_total", "counter", "Events read from the input messages (stage 1).",
     C(events_in)},
    {"dcomhunt_stream_candidates_out_total", "counter",
     "Candidate events produced to the candidates topic (stage 1).", C(candidates_out)},
    {"dcomhunt_stream_candidates_in_total", "counter",
     "Candidate events consumed from the candidates topic (stage 2).", C(candidates_in)},
    {"dcomhunt_stream_findings_out_total", "counter",
     "Findings produced to the output topic (stage 2).", C(findings_out)},
    {"dcomhunt_stream_findings_suppressed_total", "counter",
     "Findings not produced again because they were already published (stage 2).",
     C(findings_suppressed)},
    {"dcomhunt_stream_findings_tuned_total", "counter",
     "Findings a tuning filter removed, not produced (stage 2).", C(findings_tuned)},
    {"dcomhunt_stream_late_events_total", "counter",
     "Events behind the watermark (the newest event time less the skew) when they arrived, "
     "counted and still correlated (stage 2).",
     C(late)},
    {"dcomhunt_stream_malformed_messages_total", "counter",
     "Messages that could not be read, sent to the dead-letter topic.", C(malformed)},
    {"dcomhunt_stream_transactions_total", "counter", "Kafka transactions committed.",
     C(transactions)},
    {"dcomhunt_stream_transactions_aborted_total", "counter",
     "Kafka transactions aborted (and retried).", C(aborted)},
    {"dcomhunt_stream_open_windows", "gauge", "Hosts with a correlation window open (stage 2).",
     C(open_windows)},
};
#undef C

dh_status dh_stream_metrics_text(const dh_stream_counts *c, dh_buf *out)
{
    if (!c || !out)
        return DH_ERR_ARG;
    for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++) {
        const metric *m = &metrics[i];
        uint64_t v;
        memcpy(&v, (const char *)c + m->off, sizeof v);
        dh_buf_puts(out, "# HELP ");
        dh_buf_puts(out, m->name);
        dh_buf_putc(out, ' ');
        dh_buf_puts(out, m->help);
        dh_buf_puts(out, "\n# TYPE ");
        dh_buf_puts(out, m->name);
        dh_buf_putc(out, ' ');
        dh_buf_puts(out, m->type);
        dh_buf_putc(out, '\n');
        dh_buf_puts(out, m->name);
        dh_buf_putc(out, ' ');
        dh_buf_put_u64(out, v);
        dh_buf_putc(out, '\n');
    }
    /* Lag is a signed gauge; unknown (-1, before the first assignment) is NaN, which
     * Prometheus reads as "no value" and alert rules never fire on. */
    dh_buf_puts(out, "# HELP dcomhunt_stream_lag_messages Messages behind the end of the "
                     "assigned partitions (NaN until known).\n"
                     "# TYPE dcomhunt_stream_lag_messages gauge\n"
                     "dcomhunt_stream_lag_messages ");
    if (c->lag < 0)
        dh_buf_puts(out, "NaN");
    else
        dh_buf_put_i64(out, c->lag);
    dh_buf_putc(out, '\n');
    return dh_buf_status(out);
}

/* ---- the endpoint -------------------------------------------------------------- */

struct dh_metrics_server {
    struct MHD_Daemon *d;
    dh_metrics_counts_fn counts;
    void *ctx;
    uint16_t port;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *body,
                             const char *allow)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    if (allow)
        MHD_add_response_header(r, "Allow", allow);
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **req)
{
    (void)version;
    (void)upload;
    dh_metrics_server *m = cls;
    int get = !strcmp(method, MHD_HTTP_METHOD_GET), head = !strcmp(method, MHD_HTTP_METHOD_HEAD);
    if (!get && !head) {
        /* Answer at once; a body the client is sending is not read (the connection is
         * closed after the reply). */
        *upload_size = 0;
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", "GET, HEAD");
    }
    if (!*req) { /* the first call has the headers only; answer on the second */
        *req = m;
        return MHD_YES;
    }
    if (strcmp(url, "/metrics"))
        return reply(conn, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n", NULL);
    dh_stream_counts c;
    memset(&c, 0, sizeof c);
    c.lag = -1;
    m->counts(m->ctx, &c);
    dh_buf b;
    dh_buf_init(&b, MAX_BODY);
    if (dh_stream_metrics_text(&c, &b) != DH_OK) {
        dh_buf_free(&b);
        return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics unavailable\n", NULL);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_COPY);
    dh_buf_free(&b);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static dh_status fail(dh_error *err, dh_status st, const char *addr, const char *why)
{
    if (err) {
        memset(err, 0, sizeof *err);
        err->status = st;
        err->chunk = -1;
        snprintf(err->file, sizeof err->file, "%s", addr ? addr : "");
        snprintf(err->message, sizeof err->message, "metrics endpoint: %s", why);
    }
    return st;
}

/* "host:port" or "[v6]:port" into host and port strings. */
static int split_addr(const char *addr, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon, *h = addr;
    size_t hl;
    if (*addr == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':')
            return -1;
        h = addr + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || memchr(addr, ':', (size_t)(colon - addr)))
            return -1; /* an IPv6 address needs its brackets */
        hl = (size_t)(colon - addr);
    }
    const char *p = colon + 1;
    size_t pl = strlen(p);
    if (!hl || hl >= hcap || !pl || pl >= pcap || pl > 5 || strspn(p, "0123456789") != pl)
        return -1;
    if (strtol(p, NULL, 10) > 65535)
        return -1;
    memcpy(host, h, hl);
    host[hl] = 0;
    memcpy(port, p, pl + 1);
    return 0;
}

dh_status dh_metrics_server_start(const char *addr, dh_metrics_counts_fn counts, void *ctx,
                                  dh_metrics_server **out, dh_error *err)
{
    if (out)
        *out = NULL;
    if (!addr || !counts || !out)
        return fail(err, DH_ERR_ARG, addr, "no address");
    char host[256], port[8];
    if (split_addr(addr, host, sizeof host, port, sizeof port))
        return fail(err, DH_ERR_ARG, addr, "not HOST:PORT (an IPv6 address as [ADDR]:PORT)");
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai || !ai)
        return fail(err, DH_ERR_ARG, addr, gai ? gai_strerror(gai) : "no address");
    dh_metrics_server *m = calloc(1, sizeof *m);
    if (!m) {
        freeaddrinfo(ai);
        return fail(err, DH_ERR_NOMEM, addr, "out of memory");
    }
    m->counts = counts;
    m->ctx = ctx;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    m->d = MHD_start_daemon(
        flags, 0, NULL, NULL, serve, m, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY, MHD_OPTION_END);
    int e = errno;
    freeaddrinfo(ai);
    if (!m->d) {
        free(m);
        char why[200];
        snprintf(why, sizeof why, "cannot listen: %s", e ? strerror(e) : "refused");
        return fail(err, DH_ERR_IO, addr, why);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
    m->port = info ? info->port : 0;
    *out = m;
    return DH_OK;
}

uint16_t dh_metrics_server_port(const dh_metrics_server *m)
{
    return m ? m->port : 0;
}

void dh_metrics_server_stop(dh_metrics_server *m)
{
    if (!m)
        return;
    MHD_stop_daemon(m->d);
    free(m);
}
