/* The correlator's hold of network sensor records (src/correlate/chain.c): bounded, and what
 * it lets go first are the connections no DCOM activation can claim. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "dcomhunt/correlate.h"
#include "dcomhunt/finding.h"
#include "event/builder.h"
#include "event/mappings/mappings.h"

#define TICKS 10000000LL

/* One Zeek record (conn or dce_rpc) handed to the correlator as the engine does. */
static void take(dh_correlator *c, dh_buf *pk, const char *log, int64_t t, const char *orig,
                 const char *resp, unsigned port, const char *endpoint, const char *op)
{
    char ts[32], p[8];
    snprintf(ts, sizeof ts, "%lld.000000", (long long)(t / TICKS - 11644473600LL));
    snprintf(p, sizeof p, "%u", port);
    dh_kv kv[8];
    size_t n = 0;
    kv[n++] = (dh_kv){{"ts", 2}, {ts, strlen(ts)}};
    kv[n++] = (dh_kv){{"uid", 3}, {ts, strlen(ts)}};
    kv[n++] = (dh_kv){{"id.orig_h", 9}, {orig, strlen(orig)}};
    kv[n++] = (dh_kv){{"id.orig_p", 9}, {"50000", 5}};
    kv[n++] = (dh_kv){{"id.resp_h", 9}, {resp, strlen(resp)}};
    kv[n++] = (dh_kv){{"id.resp_p", 9}, {p, strlen(p)}};
    if (endpoint) {
        kv[n++] = (dh_kv){{"endpoint", 8}, {endpoint, strlen(endpoint)}};
        kv[n++] = (dh_kv){{"operation", 9}, {op, strlen(op)}};
    }
    dh_event ev;
    dh_event_begin(&ev, "zeek");
    dh_event_set_data(&ev, kv, n);
    assert_null(dh_map_zeek_apply(&ev, (dh_str){log, strlen(log)}));
    assert_true(dh_correlator_wants(c, &ev, 0));
    pk->len = 0;
    assert_int_equal(dh_correlator_pack(NULL, &ev, pk), DH_OK);
    size_t used;
    dh_event *copy = dh_event_unpack(pk->data, pk->len, &used);
    assert_non_null(copy);
    assert_int_equal(dh_correlator_take(c, copy, NULL, 0), DH_OK);
}

static int nfind;
static void on_finding(void *ctx, const dh_finding *f)
{
    (void)ctx;
    (void)f;
    nfind++;
}

/* A DCOM activation the sensor alone saw (an activation call to the endpoint mapper, then
 * IDispatch calls on a dynamic port), then 300,000 connections to dynamic ports between
 * other hosts, later: the hold stays under its cap (it held all of them before), and the
 * activation's records, older than all the rest, are not what it lets go (the older half
 * was: no finding). */
static void wire_hold_bounded_keeps_activation(void **state)
{
    (void)state;
    dh_correlator *c = NULL;
    assert_int_equal(dh_correlator_new(NULL, NULL, &c), DH_OK);
    dh_buf pk;
    dh_buf_init(&pk, 1 << 20);
    int64_t t0 = 133500000000000000LL;
    take(c, &pk, "dce_rpc", t0, "10.1.0.5", "10.1.0.9", 135, "IRemoteSCMActivator",
         "RemoteCreateInstance");
    take(c, &pk, "dce_rpc", t0 + TICKS, "10.1.0.5", "10.1.0.9", 49700, "IDispatch", "Invoke");
    for (unsigned i = 0; i < 300000; i++) {
        char a[24], b[24];
        snprintf(a, sizeof a, "10.2.%u.%u", i / 250 % 250, i % 250);
        snprintf(b, sizeof b, "10.3.%u.%u", i / 62500, i / 250 % 250);
        take(c, &pk, "conn", t0 + (int64_t)(3600 + i / 10) * TICKS, a, b, 49152 + i % 16000, NULL,
             NULL);
    }
    assert_true(dh_correlator_peak(c) <= (1u << 17) + 1);
    assert_true(dh_correlator_wire_dropped(c) >= 300000 - (1u << 17));
    nfind = 0;
    assert_int_equal(dh_correlator_finish(c, on_finding, NULL), DH_OK);
    assert_int_equal(nfind, 1);
    dh_buf_free(&pk);
    dh_correlator_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wire_hold_bounded_keeps_activation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
