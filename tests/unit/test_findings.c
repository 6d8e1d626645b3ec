/* Unit tests for the public findings writer (dcomhunt/finding.h, src/output/findings_*.c,
 * src/findings/keep.c) on findings built by hand: the fixed order whatever the order of
 * arrival, one finding per id, the severity filter (counted as hidden), counts by kind, the
 * caps summed, the CSV header and the table's "no findings", an unknown format refused,
 * and the JSONL reader (src/output/findings_read.c) reading back what the writer wrote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dcomhunt/finding.h"
#include "output/findings_read.h"

#define S(lit) ((dh_str){(lit), sizeof(lit) - 1})

/* A finding with an id, a kind, a severity, a first-seen time and a target. */
static dh_finding make(const char *id, dh_finding_kind kind, dh_level sev, int64_t first,
                       dh_str target)
{
    dh_finding f;
    memset(&f, 0, sizeof f);
    snprintf(f.id, sizeof f.id, "%s", id);
    f.kind = kind;
    f.severity = sev;
    f.confidence = 2;
    f.first_seen = f.last_seen = first;
    f.target_host = target;
    f.com_object = S("MMC20.Application");
    return f;
}

/* What w prints, as a NUL-terminated string the caller frees. */
static char *printed(dh_findings_writer *w, size_t *nshown)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    *nshown = dh_findings_writer_print(w, mem);
    assert_int_equal(fclose(mem), 0);
    return text;
}

static void jsonl_order_ids_filter_counts(void **state)
{
    (void)state;
    dh_findings_writer *w = NULL;
    assert_int_equal(dh_findings_writer_new(DH_FINDINGS_JSONL, 0, &w), DH_OK);
    dh_findings_writer_set_filter(w, DH_LEVEL_LOW, NULL, 0);
    /* arrival order: late, early, a signal earlier than both, the early one again, and one
     * below the filter's level */
    dh_finding late =
        make("00000000000000b2", DH_FINDING_LATERAL_MOVEMENT, DH_LEVEL_HIGH, 300, S("HOST-B"));
    dh_finding early =
        make("00000000000000a1", DH_FINDING_ATTEMPT, DH_LEVEL_MEDIUM, 200, S("HOST-A"));
    dh_finding signal =
        make("00000000000000c3", DH_FINDING_SIGNAL, DH_LEVEL_HIGH, 100, S("HOST-C"));
    dh_finding quiet =
        make("00000000000000d4", DH_FINDING_SIGNAL, DH_LEVEL_INFORMATIONAL, 50, S("HOST-D"));
    late.commands_dropped = 2;
    dh_findings_writer_add(w, &late);
    dh_findings_writer_sink(w, &early);
    dh_findings_writer_add(w, &signal);
    dh_findings_writer_add(w, &early);
    dh_findings_writer_add(w, &quiet);
    size_t n = 0;
    char *text = printed(w, &n);
    assert_int_equal(n, 3);
    /* chains by first seen, then the lone signal; each once */
    const char *a = strstr(text, "\"id\":\"00000000000000a1\"");
    const char *b = strstr(text, "\"id\":\"00000000000000b2\"");
    const char *c = strstr(text, "\"id\":\"00000000000000c3\"");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c);
    assert_null(strstr(a + 1, "\"id\":\"00000000000000a1\""));
    assert_null(strstr(text, "00000000000000d4"));
    assert_int_equal(dh_findings_writer_hidden(w), 1);
    assert_int_equal(dh_findings_writer_lost(w), 0);
    uint64_t per_kind[4], sup[4], cut, cmds, ev, rules;
    dh_findings_writer_counts(w, per_kind);
    assert_int_equal(per_kind[DH_FINDING_LATERAL_MOVEMENT], 1);
    assert_int_equal(per_kind[DH_FINDING_ATTEMPT], 1);
    assert_int_equal(per_kind[DH_FINDING_SIGNAL], 1);
    dh_findings_writer_suppressed(w, sup);
    assert_int_equal(sup[0] + sup[1] + sup[2] + sup[3], 0);
    dh_findings_writer_caps(w, &cut, &cmds, &ev, &rules);
    assert_int_equal(cmds, 2);

    /* the reader reads back every line as a finding, with its values */
    dh_findings_reader *rd = dh_findings_reader_new();
    assert_non_null(rd);
    dh_buf sc;
    dh_buf_init(&sc, 1u << 20);
    size_t pos = 0, s, e, start, lines = 0;
    uint64_t lineno = 0;
    while (dh_findings_next_line(text, strlen(text), &pos, &lineno, &s, &e, &start)) {
        dh_jdoc d;
        assert_null(dh_findings_reader_finding(rd, text + s, e - s, &d));
        dh_jstr host = dh_jdoc_val(&d, dh_jdoc_get(&d, dh_jdoc_get(&d, 0, "target"), "host"), &sc);
        assert_int_equal(host.n, 6);
        assert_memory_equal(host.p, "HOST-", 5);
        lines++;
    }
    assert_int_equal(lines, 3);
    dh_jdoc d;
    assert_non_null(dh_findings_reader_finding(rd, "{\"kind\":\"signal\"}", 17, &d));
    assert_non_null(dh_findings_reader_parse(rd, "{\"id\":\"x\"} trailing", 19, &d));
    dh_buf_free(&sc);
    dh_findings_reader_free(rd);
    free(text);
    dh_findings_writer_free(w);
}

static void csv_header_and_empty_table(void **state)
{
    (void)state;
    dh_findings_writer *w = NULL;
    assert_int_equal(dh_findings_writer_new(DH_FINDINGS_CSV, 0, &w), DH_OK);
    size_t n = 1;
    char *text = printed(w, &n);
    assert_int_equal(n, 0);
    assert_string_equal(text, "id,kind,severity,confidence,first_seen,last_seen,source_host,"
                              "source_ip,target_host,target_ip,com_object,clsid,user,logon_id,"
                              "commands,rules\n");
    free(text);
    dh_findings_writer_free(w);

    assert_int_equal(dh_findings_writer_new(DH_FINDINGS_TABLE, 0, &w), DH_OK);
    text = printed(w, &n);
    assert_string_equal(text, "no findings\n");
    free(text);
    dh_findings_writer_free(w);
}

static void unknown_format_and_null_free(void **state)
{
    (void)state;
    dh_findings_writer *w = (dh_findings_writer *)&w;
    assert_int_equal(dh_findings_writer_new((dh_findings_format)42, 0, &w), DH_ERR_ARG);
    assert_null(w);
    dh_findings_writer_free(NULL);
    dh_tuning_free(NULL);
    assert_string_equal(dh_finding_kind_name(DH_FINDING_SOURCE_ACTIVITY), "source_activity");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jsonl_order_ids_filter_counts),
        cmocka_unit_test(csv_header_and_empty_table),
        cmocka_unit_test(unknown_format_and_null_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
