/* Unit tests of the engine's public contract (dcomhunt/engine.h) on a corpus file (the
 * Impacket MMC20 capture: 9 Sysmon events, one DCOM chain): reading and pushing give the
 * same detections, time order holds them to the end, a sink's nonzero return cancels,
 * options that contradict each other are refused, input after finish is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dcomhunt/engine.h"

static const char *const mmc[] = {
    DH_CORPUS_DIR "/EVTX-ATTACK-SAMPLES/Lateral Movement/LM_impacket_docmexec_mmc_sysmon_01.evtx"};

static dh_ruleset *pack(void)
{
    dh_ruleset *rs = NULL;
    assert_int_equal(dh_ruleset_new(&rs), DH_OK);
    assert_int_equal(dh_ruleset_add_builtin(rs, NULL, NULL), DH_OK);
    assert_int_equal(dh_ruleset_finish(rs), DH_OK);
    return rs;
}

typedef struct seen {
    size_t n, stop_at; /* stop_at: return nonzero on that detection (0: never) */
    int64_t last_time;
    int out_of_order;
    size_t findings, lateral;
    int finished; /* set by the test once dh_engine_finish is called */
    size_t before_finish;
} seen;

static int on_detection(void *ctx, const dh_detection *d)
{
    seen *s = ctx;
    assert_non_null(d->rule);
    assert_true(d->file.len > 0 && d->kind.len > 0);
    if (s->n && d->time < s->last_time)
        s->out_of_order = 1;
    s->last_time = d->time;
    s->n++;
    s->before_finish += !s->finished;
    return s->stop_at && s->n == s->stop_at;
}

static int on_finding(void *ctx, const dh_finding *f)
{
    seen *s = ctx;
    s->findings++;
    s->lateral += f->kind == DH_FINDING_LATERAL_MOVEMENT;
    return 0;
}

static dh_engine *engine(const dh_ruleset *rs, dh_engine_mode mode, seen *s)
{
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.mode = mode;
    o.sink = (dh_engine_sink){.ctx = s, .on_detection = on_detection, .on_finding = on_finding};
    dh_engine *e = NULL;
    assert_int_equal(dh_engine_new(&o, rs, &e), DH_OK);
    return e;
}

static void test_free_null_and_bad_options(void **state)
{
    (void)state;
    dh_engine_free(NULL);
    dh_ruleset *rs = pack(), *other = pack();
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    dh_engine *e = (dh_engine *)&o; /* must be reset to NULL on failure */
    o.have_from = o.have_to = 1;
    o.from = 2;
    o.to = 1;
    assert_int_equal(dh_engine_new(&o, rs, &e), DH_ERR_ARG);
    assert_null(e);
    dh_engine_opts_init(&o);
    const dh_rule *foreign = dh_ruleset_rule(other, 0);
    o.rules = &foreign;
    o.nrules = 1;
    assert_int_equal(dh_engine_new(&o, rs, &e), DH_ERR_ARG);
    dh_engine_opts_init(&o);
    o.window_s = -1;
    assert_int_equal(dh_engine_new(&o, rs, &e), DH_ERR_ARG);
    assert_int_equal(dh_engine_new(NULL, rs, NULL), DH_ERR_ARG);
    dh_ruleset_free(other);
    dh_ruleset_free(rs);
}

/* dh_engine_push, one event at a time from the scanner, gives what dh_engine_run gives. */
typedef struct pusher {
    dh_engine *e;
    dh_status st;
} pusher;

static dh_status push_event(void *ctx, const dh_event *ev, dh_buf *out)
{
    (void)out;
    pusher *p = ctx;
    if (p->st == DH_OK)
        p->st = dh_engine_push(p->e, ev);
    return p->st;
}

static void *one_worker(void *ctx)
{
    return ctx; /* the pusher: one worker (threads = 1), so one thread at a time */
}

static void test_run_and_push_agree(void **state)
{
    (void)state;
    dh_ruleset *rs = pack();
    seen ran = {0}, pushed = {0};
    dh_engine *a = engine(rs, DH_ENGINE_DETECTIONS, &ran);
    assert_int_equal(dh_engine_run(a, mmc, 1), DH_OK);
    assert_int_equal(dh_engine_finish(a), DH_OK);
    dh_engine_counts ca;
    assert_int_equal(dh_engine_stats(a, &ca), DH_OK);
    assert_int_equal(ca.input.records, 9);
    assert_int_equal(ca.events, 9);
    assert_true(ran.n > 0);
    assert_int_equal(ca.detections, ran.n);
    const dh_channel_count *ch;
    assert_int_equal(dh_engine_channels(a, &ch), 2); /* Sysmon 1 (5 events), then 3 (4) */
    assert_int_equal(ch[0].event_id, 1);
    assert_int_equal(ch[0].count, 5);
    assert_int_equal(ch[0].kind, DH_KIND_PROCESS_CREATION);
    assert_int_equal(ch[1].event_id, 3);
    assert_int_equal(ch[1].count, 4);

    pusher p = {engine(rs, DH_ENGINE_DETECTIONS, &pushed), DH_OK};
    dh_scan_opts so;
    dh_scan_opts_init(&so);
    so.threads = 1;
    dh_scan_callbacks cb = {.ctx = &p, .worker_new = one_worker, .on_event = push_event};
    dh_scan_stats ss;
    assert_int_equal(dh_scan_run(mmc, 1, &so, &cb, &ss), DH_OK);
    assert_int_equal(p.st, DH_OK);
    assert_int_equal(dh_engine_finish(p.e), DH_OK);
    dh_engine_counts cp;
    assert_int_equal(dh_engine_stats(p.e, &cp), DH_OK);
    assert_int_equal(cp.events, 9);
    assert_int_equal(pushed.n, ran.n);
    assert_int_equal(cp.detections, ca.detections);
    for (size_t i = 0; i < dh_ruleset_count(rs); i++)
        assert_int_equal(dh_engine_rule_detections(p.e, dh_ruleset_rule(rs, i)),
                         dh_engine_rule_detections(a, dh_ruleset_rule(rs, i)));
    /* no input after the end */
    assert_int_equal(dh_engine_run(a, mmc, 1), DH_ERR_ARG);
    assert_int_equal(dh_engine_error(a)->status, DH_ERR_ARG);
    dh_engine_free(p.e);
    dh_engine_free(a);
    dh_ruleset_free(rs);
}

static void test_time_order_holds_until_finish(void **state)
{
    (void)state;
    dh_ruleset *rs = pack();
    seen s = {0};
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.mode = DH_ENGINE_DETECTIONS;
    o.time_order = 1;
    o.sink = (dh_engine_sink){.ctx = &s, .on_detection = on_detection};
    dh_engine *e = NULL;
    assert_int_equal(dh_engine_new(&o, rs, &e), DH_OK);
    assert_int_equal(dh_engine_run(e, mmc, 1), DH_OK);
    assert_int_equal(s.n, 0);
    s.finished = 1;
    assert_int_equal(dh_engine_finish(e), DH_OK);
    assert_true(s.n > 1);
    assert_int_equal(s.before_finish, 0);
    assert_false(s.out_of_order);
    dh_engine_free(e);
    dh_ruleset_free(rs);
}

static void test_sink_cancels(void **state)
{
    (void)state;
    dh_ruleset *rs = pack();
    seen s = {0};
    s.stop_at = 1;
    dh_engine *e = engine(rs, DH_ENGINE_DETECTIONS, &s);
    assert_int_equal(dh_engine_run(e, mmc, 1), DH_ERR_CANCELLED);
    assert_int_equal(s.n, 1); /* nothing after the callback said stop */
    assert_int_equal(dh_engine_error(e)->status, DH_ERR_CANCELLED);
    assert_int_equal(dh_engine_finish(e), DH_ERR_CANCELLED);
    dh_engine_free(e);
    dh_ruleset_free(rs);
}

static void test_findings_and_selection(void **state)
{
    (void)state;
    dh_ruleset *rs = pack();
    seen s = {0};
    dh_engine *e = engine(rs, DH_ENGINE_FINDINGS, &s);
    assert_int_equal(dh_engine_run(e, mmc, 1), DH_OK);
    assert_int_equal(dh_engine_finish(e), DH_OK);
    assert_int_equal(s.lateral, 1);
    dh_engine_counts c;
    assert_int_equal(dh_engine_stats(e, &c), DH_OK);
    assert_true(c.kept > 0 && c.detections > 0);
    dh_engine_free(e);

    /* a host no event has: nothing considered, nothing found */
    seen none = {0};
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    const char *host = "NOSUCHHOST";
    o.hosts = &host;
    o.nhosts = 1;
    o.sink = (dh_engine_sink){.ctx = &none, .on_finding = on_finding};
    assert_int_equal(dh_engine_new(&o, rs, &e), DH_OK);
    assert_int_equal(dh_engine_run(e, mmc, 1), DH_OK);
    assert_int_equal(dh_engine_finish(e), DH_OK);
    assert_int_equal(dh_engine_stats(e, &c), DH_OK);
    assert_int_equal(c.events, 9);
    assert_int_equal(c.events_considered, 0);
    assert_int_equal(none.findings, 0);
    dh_engine_free(e);
    dh_ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_null_and_bad_options),
        cmocka_unit_test(test_run_and_push_agree),
        cmocka_unit_test(test_time_order_holds_until_finish),
        cmocka_unit_test(test_sink_cancels),
        cmocka_unit_test(test_findings_and_selection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
