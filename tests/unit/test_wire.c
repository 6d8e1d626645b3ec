/* The correlator's hold of network sensor records (src/correlate/chain.c, wirehold.c): the
 * records ahead of the host logs' clock wait on disk, so what is held follows the window's
 * span of time, not the size of the logs, and nothing is let go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "correlate/wirehold.h"
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
 * IDispatch calls on a dynamic port), then n connections to dynamic ports between other
 * hosts, later, ten a second: the peak held and the records let go, and one finding. */
static void wire_run(unsigned n, size_t *peak)
{
    dh_correlator *c = NULL;
    assert_int_equal(dh_correlator_new(NULL, NULL, &c), DH_OK);
    dh_buf pk;
    dh_buf_init(&pk, 1 << 20);
    int64_t t0 = 133500000000000000LL;
    take(c, &pk, "dce_rpc", t0, "10.1.0.5", "10.1.0.9", 135, "IRemoteSCMActivator",
         "RemoteCreateInstance");
    take(c, &pk, "dce_rpc", t0 + TICKS, "10.1.0.5", "10.1.0.9", 49700, "IDispatch", "Invoke");
    for (unsigned i = 0; i < n; i++) {
        char a[24], b[24];
        snprintf(a, sizeof a, "10.2.%u.%u", i / 250 % 250, i % 250);
        snprintf(b, sizeof b, "10.3.%u.%u", i / 62500, i / 250 % 250);
        take(c, &pk, "conn", t0 + (int64_t)(3600 + i / 10) * TICKS, a, b, 49152 + i % 16000, NULL,
             NULL);
    }
    nfind = 0;
    assert_int_equal(dh_correlator_finish(c, on_finding, NULL), DH_OK);
    assert_int_equal(nfind, 1);
    assert_int_equal(dh_correlator_wire_dropped(c), 0);
    *peak = dh_correlator_peak(c);
    dh_buf_free(&pk);
    dh_correlator_free(c);
}

/* Twice the records (twice the span of time) hold no more at once: before, every record was
 * held until the cap (2^17), then the oldest half no rule matched was let go. */
static void wire_hold_flat_keeps_activation(void **state)
{
    (void)state;
    size_t p1 = 0, p2 = 0;
    wire_run(150000, &p1);
    wire_run(300000, &p2);
    assert_true(p1 < 100000);
    assert_true(p2 <= p1 + 16);
}

/* The same sensor record read twice while it waited on disk is held once (it went to disk
 * unchecked): 10,000 records of one time, once and twice. */
static void wire_duplicates_on_disk_count_once(void **state)
{
    (void)state;
    size_t peak[2];
    for (int twice = 0; twice < 2; twice++) {
        dh_correlator *c = NULL;
        assert_int_equal(dh_correlator_new(NULL, NULL, &c), DH_OK);
        dh_buf pk;
        dh_buf_init(&pk, 1 << 20);
        int64_t t0 = 133500000000000000LL;
        for (int copy = 0; copy <= twice; copy++)
            for (unsigned i = 0; i < 10000; i++) {
                char a[24];
                snprintf(a, sizeof a, "10.2.%u.%u", i / 250 % 250, i % 250);
                take(c, &pk, "conn", t0, a, "10.3.0.1", 49152 + i % 16000, NULL, NULL);
            }
        nfind = 0;
        assert_int_equal(dh_correlator_finish(c, on_finding, NULL), DH_OK);
        peak[twice] = dh_correlator_peak(c);
        dh_buf_free(&pk);
        dh_correlator_free(c);
    }
    assert_int_equal(peak[0], 10000); /* one time: all come back at once */
    assert_int_equal(peak[1], 10000);
}

/* The store itself: a block comes back once the clock reaches its earliest record, all its
 * records in the order they were put, whatever the order of their times (before the epoch
 * too); many blocks come back in that order too. */
typedef struct got {
    int64_t t[64];
    uint64_t seq[64];
    int n;
} got;

static dh_status on_back(void *ctx, dh_event *ev, int64_t t, uint64_t seq, uint64_t ident)
{
    got *g = ctx;
    assert_int_equal(dh_event_time(ev), t);
    assert_int_equal(ident, seq * 7 + 1);
    if (g->n < 64) {
        g->t[g->n] = t;
        g->seq[g->n] = seq;
    }
    g->n++;
    dh_event_free(ev);
    return DH_OK;
}

static void wirehold_blocks_in_order(void **state)
{
    (void)state;
    wire_hold *h = wh_new();
    assert_non_null(h);
    static const int64_t times[] = {250, 10, 120, -5, 199, 30, 260, 101, -100};
    for (uint64_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        dh_event ev;
        dh_event_begin(&ev, "zeek");
        ev.time = times[i];
        assert_int_equal(wh_put(h, times[i], i, i * 7 + 1, &ev), DH_OK);
    }
    assert_int_equal(wh_count(h), 9);
    int64_t start = 0;
    assert_true(wh_next(h, &start));
    assert_int_equal(start, -100);
    got g = {0};
    assert_int_equal(wh_take(h, -101, on_back, &g), DH_OK);
    assert_int_equal(g.n, 0);
    assert_int_equal(wh_take(h, -100, on_back, &g), DH_OK);
    assert_int_equal(g.n, 9);
    for (int i = 0; i < g.n; i++)
        assert_int_equal(g.seq[i], (uint64_t)i);
    assert_false(wh_next(h, &start));
    /* 100,000 records in time order: several blocks on disk, back by their first times */
    for (uint64_t i = 0; i < 100000; i++) {
        dh_event ev;
        dh_event_begin(&ev, "zeek");
        ev.time = (int64_t)i;
        assert_int_equal(wh_put(h, (int64_t)i, i, i * 7 + 1, &ev), DH_OK);
    }
    g.n = 0;
    assert_int_equal(wh_take(h, 0, on_back, &g), DH_OK); /* the first block */
    assert_true(g.n > 0 && g.n < 100000);
    int first = g.n;
    g.n = 0;
    assert_int_equal(wh_take(h, INT64_MAX, on_back, &g), DH_OK);
    assert_int_equal(first + g.n, 100000);
    assert_int_equal(g.seq[0], (uint64_t)first);
    assert_int_equal(wh_count(h), 0);
    wh_free(h);
    wh_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wire_hold_flat_keeps_activation),
        cmocka_unit_test(wire_duplicates_on_disk_count_once),
        cmocka_unit_test(wirehold_blocks_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
