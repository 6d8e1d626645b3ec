/* Unit tests for the pieces of the text readers that decide where records end and what
 * times mean: CSV record boundaries (quotes, stray quotes, a quote at a buffer's end),
 * Zeek header folding, the JSON unescaper, and the time formats of Defender/Sentinel
 * exports and Zeek. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/escape.h"
#include "core/timefmt.h"
#include "input/csv/mdecsv.h"
#include "event/builder.h"
#include "event/mappings/mappings.h"
#include "input/zeek/zeek.h"

#define S(lit) (lit), sizeof(lit) - 1

static void csv_cuts_at_record_ends(void **state)
{
    (void)state;
    /* a line end inside quotes is data; the cut is after the last whole record */
    assert_int_equal(mdecsv_cut(S("a,b\n\"x\ny\",z\npartial")), 12);
    assert_int_equal(mdecsv_first(S("h1,h2\r\nrow\n")), 7);
    /* doubled quotes inside a quoted field do not end it */
    assert_int_equal(mdecsv_cut(S("\"a\"\"\nb\",c\n")), 10);
    /* a stray quote inside an unquoted field is a character: the record still ends */
    assert_int_equal(mdecsv_cut(S("a\"b,c\nd,e\n")), 10);
    /* a quote as the buffer's last byte: doubled or closing? not decided yet */
    assert_int_equal(mdecsv_cut(S("x\n\"a\"")), 2);
    assert_int_equal(mdecsv_cut(S("no line end")), 0);
    /* old Mac line ends: a CR alone ends a record (inside quotes it is data); a CR as the
     * buffer's last byte waits for the next (a CRLF's LF?) */
    assert_int_equal(mdecsv_first(S("h1,h2\rrow\r")), 6);
    assert_int_equal(mdecsv_cut(S("a,b\r\"x\ry\",z\rc,d\r\ne\r")), 17);
}

/* The reader's record end as it was first written, a test of every byte: the oracle of
 * the memchr one (mdecsv.c record_end_q). */
static size_t oracle_end(const char *b, size_t n, size_t from)
{
    int quoted = 0, field_start = 1;
    for (size_t i = from; i < n; i++) {
        char c = b[i];
        if (quoted) {
            if (c != '"')
                continue;
            if (i + 1 == n)
                return 0;
            if (b[i + 1] == '"')
                i++;
            else
                quoted = 0;
        } else if (c == '"' && field_start) {
            quoted = 1;
            field_start = 0;
        } else if (c == ',') {
            field_start = 1;
        } else if (c == '\n') {
            return i + 1;
        } else if (c == '\r') {
            if (i + 1 == n)
                return 0;
            if (b[i + 1] != '\n')
                return i + 1;
            field_start = 0;
        } else {
            field_start = 0;
        }
    }
    return 0;
}

/* Every string of up to 40 bytes of a , " CR LF drawn at random: the same cut as the oracle. */
static void csv_cut_equals_byte_oracle(void **state)
{
    (void)state;
    static const char alphabet[] = "a,\"\r\n";
    uint64_t x = 88172645463325252ULL;
    char b[40];
    for (int round = 0; round < 300000; round++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t n = (size_t)(x % 41);
        uint64_t y = x;
        for (size_t i = 0; i < n; i++) {
            y = y * 6364136223846793005ULL + 1442695040888963407ULL;
            b[i] = alphabet[(y >> 33) % 5];
        }
        size_t pos = 0, cut = 0;
        for (;;) {
            size_t e = oracle_end(b, n, pos);
            if (!e)
                break;
            cut = pos = e;
        }
        if (mdecsv_cut(b, n) != cut || mdecsv_first(b, n) != oracle_end(b, n, 0))
            fail_msg("%zu bytes %.*s: cut %zu, oracle %zu", n, (int)n, b, mdecsv_cut(b, n), cut);
    }
}

static dh_status count_event(void *ctx, const dh_event *ev)
{
    (void)ev;
    (*(int *)ctx)++;
    return DH_OK;
}

static void csv_decodes_and_reports(void **state)
{
    (void)state;
    mdecsv_reader *r = mdecsv_reader_new();
    assert_non_null(r);
    const char hdr[] = "Timestamp,DeviceName,ActionType,ProcessCommandLine,ReportId\n";
    const char body[] = "2026-01-01T00:00:00Z,ws1,ProcessCreated,\"a,\"\"b\"\"\nc\",9\n"
                        "x,ws1,ProcessCreated,y,1\n"
                        "2026-01-01T00:00:01Z,ws1,ProcessCreated,\"open,2\n";
    int n = 0;
    uint64_t events = 0, bad = 0;
    assert_int_equal(mdecsv_decode(r, S(hdr), S(body), "t.csv", 2, 0, count_event, &n, NULL, NULL,
                                   &events, &bad),
                     DH_OK);
    assert_int_equal(events, 1); /* the quoted record; "x" is no time; the last is cut */
    assert_int_equal(bad, 2);
    mdecsv_reader_free(r);
}

/* A well-formed record refused for its values is skipped whole: the lines of its quoted
 * field (here a forged row after a line end) are data, not records. */
static void csv_refused_record_skipped_whole(void **state)
{
    (void)state;
    mdecsv_reader *r = mdecsv_reader_new();
    assert_non_null(r);
    const char hdr[] = "Timestamp,DeviceName,ActionType,ProcessCommandLine,ReportId\n";
    const char no_time[] = "x,ws1,ProcessCreated,\"cmd\n"
                           "2026-01-01T00:00:05Z,FORGED,ProcessCreated,evil,77\n"
                           "\",1\n"
                           "2026-01-01T00:00:01Z,ws1,ProcessCreated,ok,2\n";
    const char extra[] = "2026-01-01T00:00:00Z,ws1,ProcessCreated,\"cmd\n"
                         "2026-01-01T00:00:05Z,FORGED,ProcessCreated,evil,77\n"
                         "\",1,extra\n";
    int n = 0;
    uint64_t events = 0, bad = 0;
    assert_int_equal(mdecsv_decode(r, S(hdr), S(no_time), "t.csv", 2, 0, count_event, &n, NULL,
                                   NULL, &events, &bad),
                     DH_OK);
    assert_int_equal(events, 1); /* the last row only */
    assert_int_equal(bad, 1);
    n = 0;
    events = bad = 0;
    assert_int_equal(mdecsv_decode(r, S(hdr), S(extra), "t.csv", 2, 0, count_event, &n, NULL, NULL,
                                   &events, &bad),
                     DH_OK);
    assert_int_equal(events, 0);
    assert_int_equal(bad, 1);
    /* a row cut short (a truncated file's last row) is refused, not read with empty columns */
    const char cut[] = "2026-01-01T00:00:01Z,ws1,ProcessCreated,ok,2\n"
                       "2026-01-01T00:00:02Z,ws1,Proc";
    events = bad = 0;
    assert_int_equal(
        mdecsv_decode(r, S(hdr), S(cut), "t.csv", 2, 0, count_event, &n, NULL, NULL, &events, &bad),
        DH_OK);
    assert_int_equal(events, 1);
    assert_int_equal(bad, 1);
    mdecsv_reader_free(r);
}

/* Whether the n bytes at h hold lit. */
static int holds(const char *h, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(h + i, lit, k))
            return 1;
    return 0;
}

static void zeek_header_folds(void **state)
{
    (void)state;
    dh_buf h;
    dh_buf_init(&h, 1u << 16);
    const char a[] = "#separator \\x09\n#path\tconn\n#fields\tts\tuid\n1.0\tC1\n";
    assert_int_equal(zeek_header_update(&h, S(a)), 0);
    assert_true(holds(h.data, h.len, "#path\tconn"));
    /* a later block replaces the header; a row's '#' inside a value is not a header */
    const char b[] = "2.0\tC#2\n#separator \\x09\n#path\tdce_rpc\n";
    assert_int_equal(zeek_header_update(&h, S(b)), 0);
    assert_false(holds(h.data, h.len, "conn"));
    assert_true(holds(h.data, h.len, "dce_rpc"));
    dh_buf_free(&h);
}

static void json_unescape_cases(void **state)
{
    (void)state;
    dh_buf b;
    dh_buf_init(&b, 1u << 16);
    assert_int_equal(dh_json_unescape(&b, S("C:\\\\Windows\\u005cx \\u00e9 \\ud83d\\ude00")), 0);
    assert_int_equal(b.len, strlen("C:\\Windows\\x \xc3\xa9 \xf0\x9f\x98\x80"));
    assert_memory_equal(b.data, "C:\\Windows\\x \xc3\xa9 \xf0\x9f\x98\x80", b.len);
    b.len = 0;
    assert_int_equal(dh_json_unescape(&b, S("lone \\ud800!")), 0); /* U+FFFD */
    assert_memory_equal(b.data, "lone \xef\xbf\xbd!", b.len);
    b.len = 0;
    assert_int_equal(dh_json_unescape(&b, S("bad \\q")), -1);
    assert_int_equal(dh_json_unescape(&b, S("cut \\u12")), -1);
    dh_buf_free(&b);
}

typedef struct params_seen {
    unsigned idx[8];
    size_t off[8], len[8];
    int n;
} params_seen;

static void on_param(void *ctx, unsigned index, size_t off, size_t len)
{
    params_seen *p = ctx;
    if (p->n < 8) {
        p->idx[p->n] = index;
        p->off[p->n] = off;
        p->len[p->n] = len;
        p->n++;
    }
}

static void sentinel_parameter_xml(void **state)
{
    (void)state;
    dh_buf b;
    dh_buf_init(&b, 1u << 16);
    params_seen p = {0};
    assert_int_equal(
        dh_sentinel_params(S("<Param>a &lt;b&gt; &amp; c</Param><Param/><Param>10.0.2.17</Param>"),
                           &b, on_param, &p),
        0);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.idx[2], 3);
    assert_int_equal(p.len[0], strlen("a <b> & c"));
    assert_memory_equal(b.data + p.off[0], "a <b> & c", p.len[0]);
    assert_int_equal(p.len[1], 0);
    assert_memory_equal(b.data + p.off[2], "10.0.2.17", p.len[2]);
    assert_string_equal(dh_sentinel_param_name(3), "param3");
    params_seen q = {0};
    assert_int_equal(dh_sentinel_params(S("<Param>open"), &b, on_param, &q), -1);
    dh_str prov = dh_sentinel_provider((dh_str){"DistributedCOM", 14});
    assert_int_equal(prov.len, 32);
    dh_buf_free(&b);
}

static void times_of_exports(void **state)
{
    (void)state;
    int64_t t, u;
    assert_int_equal(dh_time_parse_iso(S("2026-11-20T22:15:30.123Z"), &t), 0);
    assert_int_equal(dh_time_parse_us(S("11/20/2026, 10:15:30.123 PM"), &u), 0);
    assert_true(t == u);
    assert_int_equal(dh_time_parse_iso(S("2026-11-20T00:05:00Z"), &t), 0);
    assert_int_equal(dh_time_parse_us(S("11/20/2026, 12:05:00 AM"), &u), 0);
    assert_true(t == u);
    assert_int_equal(dh_time_parse_iso(S("2026-11-20T12:05:00Z"), &t), 0);
    assert_int_equal(dh_time_parse_us(S("11/20/2026, 12:05:00 PM"), &u), 0);
    assert_true(t == u);
    assert_int_equal(dh_time_parse_us(S("13/20/2026, 12:05:00 PM"), &u), -1);
    assert_int_equal(dh_time_parse_us(S("11/20/2026, 12:05:00"), &u), -1);
    /* Zeek: Unix seconds with a fraction */
    assert_int_equal(dh_time_parse_iso(S("2019-04-30T20:35:11.101Z"), &t), 0);
    assert_int_equal(dh_time_parse_epoch(S("1556656511.101"), &u), 0);
    assert_true(t == u);
    assert_int_equal(dh_time_parse_epoch(S("0974293541000"), &u), -1); /* would overflow */
    assert_int_equal(dh_time_parse_epoch(S("12ab"), &u), -1);
    assert_int_equal(dh_time_parse_epoch(S(""), &u), -1);
}

/* Security 4688 as JSON exports write it (NXLog, OTRF): the creator's "ProcessId" comes
 * before "NewProcessId". The new process's id is NewProcessId whatever the order. */
static void security_4688_process_ids_any_order(void **state)
{
    (void)state;
    static const char *const orders[2][2] = {{"ProcessId", "NewProcessId"},
                                             {"NewProcessId", "ProcessId"}};
    dh_event_builder b;
    dh_event_builder_init(&b);
    for (int o = 0; o < 2; o++) {
        dh_event_builder_clear(&b);
        dh_event *ev = dh_event_builder_ev(&b);
        dh_event_set_provider(ev, DH_STR("Microsoft-Windows-Security-Auditing"));
        dh_event_set_ids(ev, 4688, 0);
        assert_int_equal(dh_event_builder_add(&b, (dh_str){orders[o][0], strlen(orders[o][0])},
                                              o ? DH_STR("0x17dc") : DH_STR("0x2008")),
                         DH_OK);
        assert_int_equal(dh_event_builder_add(&b, (dh_str){orders[o][1], strlen(orders[o][1])},
                                              o ? DH_STR("0x2008") : DH_STR("0x17dc")),
                         DH_OK);
        assert_int_equal(dh_event_builder_add(&b, DH_STR("NewProcessName"),
                                              DH_STR("C:\\Windows\\System32\\cmd.exe")),
                         DH_OK);
        ev = dh_event_builder_event(&b);
        assert_int_equal(dh_event_data_count(ev), 3);
        dh_map_windows_apply(ev);
        dh_str pid, ppid;
        assert_int_equal(dh_event_field(ev, DH_FIELD_PROCESS_ID, &pid), 1);
        assert_int_equal(dh_event_field(ev, DH_FIELD_PARENT_PROCESS_ID, &ppid), 1);
        assert_true(pid.len == 6 && !memcmp(pid.ptr, "0x17dc", 6));
        assert_true(ppid.len == 6 && !memcmp(ppid.ptr, "0x2008", 6));
    }
    /* a name the row gives no meaning of its own still maps to its taxonomy field: OTRF's
     * 5156 says "ProcessId" where Windows says "ProcessID"; 4688's SubjectUserName is both
     * the User (a pair) and SubjectUserName */
    dh_event_builder_clear(&b);
    dh_event *ev = dh_event_builder_ev(&b);
    dh_event_set_provider(ev, DH_STR("Microsoft-Windows-Security-Auditing"));
    dh_event_set_ids(ev, 5156, 0);
    assert_int_equal(dh_event_builder_add(&b, DH_STR("ProcessId"), DH_STR("8200")), DH_OK);
    assert_int_equal(dh_event_builder_add(&b, DH_STR("Direction"), DH_STR("%%14592")), DH_OK);
    ev = dh_event_builder_event(&b);
    dh_map_windows_apply(ev);
    dh_str v;
    assert_int_equal(dh_event_field(ev, DH_FIELD_PROCESS_ID, &v), 1);
    assert_true(v.len == 4 && !memcmp(v.ptr, "8200", 4));
    dh_event_builder_clear(&b);
    ev = dh_event_builder_ev(&b);
    dh_event_set_provider(ev, DH_STR("Microsoft-Windows-Security-Auditing"));
    dh_event_set_ids(ev, 4688, 0);
    assert_int_equal(dh_event_builder_add(&b, DH_STR("SubjectUserName"), DH_STR("alice")), DH_OK);
    ev = dh_event_builder_event(&b);
    dh_map_windows_apply(ev);
    assert_int_equal(dh_event_field(ev, DH_FIELD_USER, &v), 1);
    assert_int_equal(dh_event_field(ev, DH_FIELD_SUBJECT_USER_NAME, &v), 1);
    dh_event_builder_free(&b);
    dh_event_builder_free(NULL);
}

/* The builder: the envelope as set, the fields added in order and copied (the caller's
 * buffer may change after an add), the event empty again after a clear. */
static void builder_builds_events(void **state)
{
    (void)state;
    dh_event_builder b;
    dh_event_builder_init(&b);
    dh_event *ev = dh_event_builder_ev(&b);
    dh_event_set_kind(ev, DH_KIND_PROCESS_CREATION);
    dh_event_set_time(ev, 133000000000000000LL);
    dh_event_set_host(ev, DH_STR("WS01"));
    dh_event_set_channel(ev, DH_STR("Security"));
    dh_event_set_ids(ev, 4688, 77);
    dh_event_set_origin(ev, "t.evtx", 3, 4096);
    dh_event_set_field(ev, DH_FIELD_IMAGE, DH_STR("C:\\x.exe"));
    char name[16] = "CommandLine", value[16] = "x.exe /c";
    assert_int_equal(
        dh_event_builder_add(&b, (dh_str){name, strlen(name)}, (dh_str){value, strlen(value)}),
        DH_OK);
    memset(name, 'z', sizeof name - 1);
    memset(value, 'z', sizeof value - 1);
    for (int i = 0; i < 100; i++) /* the text grows and moves */
        assert_int_equal(dh_event_builder_add(&b, DH_STR("Extra"), DH_STR("0123456789")), DH_OK);
    ev = dh_event_builder_event(&b);
    assert_int_equal(dh_event_kind(ev), DH_KIND_PROCESS_CREATION);
    assert_true(dh_event_time(ev) == 133000000000000000LL);
    assert_int_equal(dh_event_id(ev), 4688);
    assert_int_equal(dh_event_record_id(ev), 77);
    assert_int_equal(dh_event_chunk(ev), 3);
    assert_int_equal(dh_event_offset(ev), 4096);
    assert_string_equal(dh_event_file(ev), "t.evtx");
    dh_str s = dh_event_host(ev);
    assert_true(s.len == 4 && !memcmp(s.ptr, "WS01", 4));
    assert_int_equal(dh_event_field(ev, DH_FIELD_IMAGE, &s), 1);
    assert_true(s.len == 8 && !memcmp(s.ptr, "C:\\x.exe", 8));
    assert_int_equal(dh_event_data_count(ev), 101);
    dh_str n, val;
    assert_int_equal(dh_event_data_at(ev, 0, &n, &val), 1);
    assert_true(n.len == 11 && !memcmp(n.ptr, "CommandLine", 11));
    assert_true(val.len == 8 && !memcmp(val.ptr, "x.exe /c", 8));
    assert_int_equal(dh_event_get(ev, "CommandLine", 11, &s), 1);
    assert_int_equal(dh_event_data_at(ev, 100, &n, &val), 1);
    assert_true(val.len == 10 && !memcmp(val.ptr, "0123456789", 10));
    dh_event_builder_clear(&b);
    ev = dh_event_builder_event(&b);
    assert_int_equal(dh_event_data_count(ev), 0);
    assert_int_equal(dh_event_field(ev, DH_FIELD_IMAGE, &s), 0);
    assert_int_equal(dh_event_chunk(ev), -1);
    dh_event_builder_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_cuts_at_record_ends),
        cmocka_unit_test(csv_cut_equals_byte_oracle),
        cmocka_unit_test(csv_decodes_and_reports),
        cmocka_unit_test(csv_refused_record_skipped_whole),
        cmocka_unit_test(zeek_header_folds),
        cmocka_unit_test(json_unescape_cases),
        cmocka_unit_test(times_of_exports),
        cmocka_unit_test(sentinel_parameter_xml),
        cmocka_unit_test(security_4688_process_ids_any_order),
        cmocka_unit_test(builder_builds_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
