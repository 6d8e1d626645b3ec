/* The metrics endpoint of `dcomhunt stream --metrics ADDR` (internal to src/stream/): a
 * small HTTP server (libmicrohttpd, its own thread) that answers GET or HEAD /metrics with
 * the Prometheus text of dh_stream_metrics_text, 404 for any other path and 405 for any
 * other method. Bounded: a few connections at once, a short timeout, a small memory budget
 * per connection (request headers beyond it are refused by the HTTP library).
 *
 * Ownership: the server calls counts(ctx, &c) on its own thread for every request, from
 * dh_metrics_server_start until dh_metrics_server_stop returns; ctx must stay valid and
 * counts must be safe to call from another thread (dh_stream_counts_get is). */
#ifndef DH_STREAM_METRICS_H
#define DH_STREAM_METRICS_H

#include <stdint.h>

#include "dcomhunt/status.h"
#include "dcomhunt/stream.h"

typedef struct dh_metrics_server dh_metrics_server;
typedef void (*dh_metrics_counts_fn)(void *ctx, dh_stream_counts *out);

/* addr: "HOST:PORT" or "[IPv6]:PORT" (HOST a name or an address; PORT 0 picks a free
 * one, see dh_metrics_server_port). On failure *out is NULL and err names addr and why. */
dh_status dh_metrics_server_start(const char *addr, dh_metrics_counts_fn counts, void *ctx,
                                  dh_metrics_server **out, dh_error *err);
/* The port it listens on. */
uint16_t dh_metrics_server_port(const dh_metrics_server *m);
/* Stops serving (waits for the requests in progress) and frees; accepts NULL. */
void dh_metrics_server_stop(dh_metrics_server *m);

#endif
