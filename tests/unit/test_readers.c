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
#include "event/event_impl.h"
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
    for (int o = 0; o < 2; o++) {
        dh_kv kv[3];
        kv[0].name = (dh_str){orders[o][0], strlen(orders[o][0])};
        kv[0].value = o ? (dh_str){S("0x17dc")} : (dh_str){S("0x2008")};
        kv[1].name = (dh_str){orders[o][1], strlen(orders[o][1])};
        kv[1].value = o ? (dh_str){S("0x2008")} : (dh_str){S("0x17dc")};
        kv[2].name = (dh_str){S("NewProcessName")};
        kv[2].value = (dh_str){S("C:\\Windows\\System32\\cmd.exe")};
        dh_event ev;
        memset(&ev, 0, sizeof ev);
        ev.provider = (dh_str){S("Microsoft-Windows-Security-Auditing")};
        ev.event_id = 4688;
        ev.data = kv;
        ev.ndata = 3;
        dh_map_windows_apply(&ev);
        dh_str pid, ppid;
        assert_int_equal(dh_event_field(&ev, DH_FIELD_PROCESS_ID, &pid), 1);
        assert_int_equal(dh_event_field(&ev, DH_FIELD_PARENT_PROCESS_ID, &ppid), 1);
        assert_true(pid.len == 6 && !memcmp(pid.ptr, "0x17dc", 6));
        assert_true(ppid.len == 6 && !memcmp(ppid.ptr, "0x2008", 6));
    }
    /* a name the row gives no meaning of its own still maps to its taxonomy field: OTRF's
     * 5156 says "ProcessId" where Windows says "ProcessID"; 4688's SubjectUserName is both
     * the User (a pair) and SubjectUserName */
    dh_kv kv[2] = {{{S("ProcessId")}, {S("8200")}}, {{S("Direction")}, {S("%%14592")}}};
    dh_event ev;
    memset(&ev, 0, sizeof ev);
    ev.provider = (dh_str){S("Microsoft-Windows-Security-Auditing")};
    ev.event_id = 5156;
    ev.data = kv;
    ev.ndata = 2;
    dh_map_windows_apply(&ev);
    dh_str v;
    assert_int_equal(dh_event_field(&ev, DH_FIELD_PROCESS_ID, &v), 1);
    assert_true(v.len == 4 && !memcmp(v.ptr, "8200", 4));
    dh_kv kv2[1] = {{{S("SubjectUserName")}, {S("alice")}}};
    memset(&ev, 0, sizeof ev);
    ev.provider = (dh_str){S("Microsoft-Windows-Security-Auditing")};
    ev.event_id = 4688;
    ev.data = kv2;
    ev.ndata = 1;
    dh_map_windows_apply(&ev);
    assert_int_equal(dh_event_field(&ev, DH_FIELD_USER, &v), 1);
    assert_int_equal(dh_event_field(&ev, DH_FIELD_SUBJECT_USER_NAME, &v), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_cuts_at_record_ends),
        cmocka_unit_test(csv_decodes_and_reports),
        cmocka_unit_test(zeek_header_folds),
        cmocka_unit_test(json_unescape_cases),
        cmocka_unit_test(times_of_exports),
        cmocka_unit_test(sentinel_parameter_xml),
        cmocka_unit_test(security_4688_process_ids_any_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
