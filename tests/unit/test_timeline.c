/* Unit tests for the external sort behind --detections timelines and findings output
 * (src/core/timeline.c): with a budget of a few records, runs go to a temporary file and
 * are merged; the output is every record, in key order, ties in arrival order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/timeline.h"

typedef struct seen {
    int64_t last_time;
    unsigned last_seq;
    size_t n;
} seen;

static dh_status check_order(void *ctx, const char *rec, size_t len)
{
    seen *s = ctx;
    int64_t t;
    unsigned seq;
    assert_int_equal(len, sizeof t + sizeof seq);
    memcpy(&t, rec, sizeof t);
    memcpy(&seq, rec + sizeof t, sizeof seq);
    if (s->n) {
        assert_true(t >= s->last_time);
        if (t == s->last_time)
            assert_true(seq > s->last_seq); /* ties keep their order of arrival */
    }
    s->last_time = t;
    s->last_seq = seq;
    s->n++;
    return DH_OK;
}

static void sorts(size_t budget, unsigned n)
{
    timeline *t = timeline_new(budget);
    assert_non_null(t);
    srand(7);
    for (unsigned i = 0; i < n; i++) {
        int64_t time = (int64_t)(rand() % 50) - 25; /* many ties, negative times too */
        char rec[sizeof time + sizeof i];
        memcpy(rec, &time, sizeof time);
        memcpy(rec + sizeof time, &i, sizeof i);
        assert_int_equal(timeline_add(t, time, rec, sizeof rec), DH_OK);
    }
    seen s = {0, 0, 0};
    assert_int_equal(timeline_finish(t, check_order, &s), DH_OK);
    assert_int_equal(s.n, n);
    timeline_free(t);
}

static void in_memory(void **state)
{
    (void)state;
    sorts((size_t)1 << 20, 5000);
}

static void runs_on_disk(void **state)
{
    (void)state;
    sorts(2048, 20000); /* a run every few dozen records: hundreds of runs merged */
}

static void empty(void **state)
{
    (void)state;
    sorts(64, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(in_memory),
        cmocka_unit_test(runs_on_disk),
        cmocka_unit_test(empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
