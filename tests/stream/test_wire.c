/* The candidate wire encoding (src/stream/wire.c): candidates of corpus files encoded and
 * decoded give a findings engine the findings one engine gives, byte for byte; every
 * truncation, another version, unknown flags, a rule the ruleset lacks and trailing bytes
 * are refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dcomhunt/engine.h"
#include "dcomhunt/finding.h"
#include "dcomhunt/rules.h"

#include "core/buf.h"
#include "stream/wire.h"

static dh_ruleset *pack(void)
{
    dh_ruleset *rs = NULL;
    assert_int_equal(dh_ruleset_new(&rs), DH_OK);
    assert_int_equal(dh_ruleset_add_builtin(rs, NULL, NULL), DH_OK);
    assert_int_equal(dh_ruleset_finish(rs), DH_OK);
    return rs;
}

typedef struct encoded {
    dh_buf all; /* [u32 len][encoding] per candidate */
    size_t n;
} encoded;

static int on_cand(void *ctx, const dh_candidate *c)
{
    encoded *e = ctx;
    dh_buf one;
    dh_buf_init(&one, (size_t)1 << 28);
    assert_int_equal(dh_wire_encode(c, &one), DH_OK);
    uint32_t len = (uint32_t)one.len;
    assert_int_equal(dh_buf_append(&e->all, &len, 4), DH_OK);
    assert_int_equal(dh_buf_append(&e->all, one.data, one.len), DH_OK);
    dh_buf_free(&one);
    e->n++;
    return 0;
}

static int on_finding(void *ctx, const dh_finding *f)
{
    dh_findings_writer_add(ctx, f);
    return 0;
}

static char *findings(const dh_ruleset *rs, const char *path, const encoded *e)
{
    dh_findings_writer *w = NULL;
    assert_int_equal(dh_findings_writer_new(DH_FINDINGS_JSONL, 0, &w), DH_OK);
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.sink = (dh_engine_sink){.ctx = w, .on_finding = on_finding};
    dh_engine *eng = NULL;
    assert_int_equal(dh_engine_new(&o, rs, &eng), DH_OK);
    if (path) {
        dh_engine_run(eng, &path, 1);
    } else {
        const char *p = e->all.data, *end = p + e->all.len;
        while (p < end) {
            uint32_t len;
            memcpy(&len, p, 4);
            p += 4;
            dh_wire_cand c;
            char why[256];
            assert_int_equal(dh_wire_decode(p, len, rs, &c, why), DH_OK);
            dh_candidate cand = {c.event, c.rules, c.undecided, c.nrules};
            assert_int_equal(dh_engine_push_candidate(eng, &cand), DH_OK);
            dh_wire_clear(&c);
            p += len;
        }
    }
    assert_int_equal(dh_engine_finish(eng), DH_OK);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    dh_findings_writer_print(w, f);
    assert_int_equal(fclose(f), 0);
    dh_findings_writer_free(w);
    dh_engine_free(eng);
    return text;
}

static void encode_file(const dh_ruleset *rs, const char *path, encoded *e)
{
    memset(e, 0, sizeof *e);
    dh_buf_init(&e->all, (size_t)1 << 30);
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.mode = DH_ENGINE_CANDIDATES;
    o.sink = (dh_engine_sink){.ctx = e, .on_candidate = on_cand};
    dh_engine *eng = NULL;
    assert_int_equal(dh_engine_new(&o, rs, &eng), DH_OK);
    dh_engine_run(eng, &path, 1);
    assert_int_equal(dh_engine_finish(eng), DH_OK);
    dh_engine_free(eng);
}

static void test_round_trip(void **state)
{
    (void)state;
    dh_ruleset *rs = pack();
    static const char *const files[] = {
        DH_CORPUS_DIR
        "/EVTX-ATTACK-SAMPLES/Lateral Movement/LM_impacket_docmexec_mmc_sysmon_01.evtx",
        DH_CORPUS_DIR "/Security-Datasets/datasets/atomic/windows/lateral_movement/host/"
                      "empire_dcom_shellwindows_stager.zip"};
    for (size_t i = 0; i < 2; i++) {
        encoded e;
        encode_file(rs, files[i], &e);
        assert_true(e.n > 0);
        char *whole = findings(rs, files[i], NULL);
        char *split = findings(rs, NULL, &e);
        assert_true(strlen(whole) > 0);
        assert_string_equal(split, whole);
        free(whole);
        free(split);
        dh_buf_free(&e.all);
    }
    dh_ruleset_free(rs);
}

static void test_refusals(void **state)
{
    (void)state;
    dh_ruleset *rs = pack();
    encoded e;
    encode_file(rs,
                DH_CORPUS_DIR "/EVTX-ATTACK-SAMPLES/Lateral Movement/"
                              "LM_impacket_docmexec_mmc_sysmon_01.evtx",
                &e);
    assert_true(e.n > 0);
    uint32_t len;
    memcpy(&len, e.all.data, 4);
    unsigned char *one = malloc(len + 1);
    assert_non_null(one);
    memcpy(one, e.all.data + 4, len);
    dh_wire_cand c;
    char why[256];
    assert_int_equal(dh_wire_decode(one, len, rs, &c, why), DH_OK);
    assert_true(c.nrules > 0);
    dh_wire_clear(&c);
    /* every cut refused, never a crash */
    for (uint32_t cut = 0; cut < len; cut++) {
        assert_int_equal(dh_wire_decode(one, cut, rs, &c, why), DH_ERR_FORMAT);
        assert_null(c.event);
    }
    /* a byte after the event */
    one[len] = 0;
    assert_int_equal(dh_wire_decode(one, len + 1, rs, &c, why), DH_ERR_FORMAT);
    /* another version, unknown flags */
    one[0] = 2;
    assert_int_equal(dh_wire_decode(one, len, rs, &c, why), DH_ERR_UNSUPPORTED);
    assert_non_null(strstr(why, "version 2"));
    one[0] = DH_WIRE_VERSION;
    one[1] = 0x80;
    assert_int_equal(dh_wire_decode(one, len, rs, &c, why), DH_ERR_UNSUPPORTED);
    one[1] = 0;
    /* a rule id the ruleset lacks: the first id's first byte changed */
    size_t idlen = (size_t)one[5] << 8 | one[6];
    assert_true(idlen > 0);
    one[7] ^= 0x40;
    assert_int_equal(dh_wire_decode(one, len, rs, &c, why), DH_ERR_FORMAT);
    assert_non_null(strstr(why, "rule"));
    one[7] ^= 0x40;
    /* an undecided flag other than 0 or 1 */
    one[4] = 7;
    assert_int_equal(dh_wire_decode(one, len, rs, &c, why), DH_ERR_FORMAT);
    one[4] = 0;
    assert_int_equal(dh_wire_decode(one, len, rs, &c, why), DH_OK);
    dh_wire_clear(&c);
    dh_wire_clear(NULL);
    free(one);
    dh_buf_free(&e.all);
    dh_ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
