/* Unit tests for JSON string escaping (src/output/json.c): output is valid UTF-8 and
 * inert in a terminal whatever the input bytes. The member writer of the schema sinks
 * (src/output/jw.c) and the typed-value checks (src/output/typed.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/timefmt.h"
#include "event/builder.h"
#include "output/json.h"
#include "output/jw.h"
#include "output/typed.h"
#include "output/text.h"

static void esc(const char *in, size_t n, const char *want)
{
    dh_buf b;
    dh_buf_init(&b, 1u << 20);
    assert_int_equal(dh_json_string(&b, in, n), DH_OK);
    if (b.len != strlen(want) || memcmp(b.data, want, b.len) != 0)
        fail_msg("escaped %zu bytes to [%.*s], want [%s]", n, (int)b.len, b.data, want);
    dh_buf_free(&b);
}
#define ESC(lit, want) esc((lit), sizeof(lit) - 1, (want))

static void json_plain_and_quotes(void **state)
{
    (void)state;
    ESC("", "\"\"");
    ESC("mmc.exe -Embedding", "\"mmc.exe -Embedding\"");
    ESC("a\"b\\c", "\"a\\\"b\\\\c\"");
    ESC("C:\\Windows\\System32\\cmd.exe", "\"C:\\\\Windows\\\\System32\\\\cmd.exe\"");
    ESC("/", "\"/\"");
}

static void json_controls(void **state)
{
    (void)state;
    ESC("\n\r\t", "\"\\n\\r\\t\"");
    ESC("\x01\x08\x0c\x1b\x1f", "\"\\u0001\\u0008\\u000c\\u001b\\u001f\"");
    ESC("a\0b", "\"a\\u0000b\"");
    ESC("\x7f", "\"\\u007f\"");
    /* C1 controls, e.g. U+0085 NEL and U+009B CSI, are escaped; U+00A0 is not. */
    ESC("\xc2\x85\xc2\x9b\xc2\x80\xc2\x9f", "\"\\u0085\\u009b\\u0080\\u009f\"");
    ESC("\xc2\xa0", "\"\xc2\xa0\"");
    /* An ANSI escape sequence cannot reach a terminal. */
    ESC("\x1b[31mred", "\"\\u001b[31mred\"");
}

static void json_valid_utf8_kept(void **state)
{
    (void)state;
    ESC("\xc3\xa9\xe2\x82\xac\xe4\xb8\xad\xf0\x9f\x98\x80",
        "\"\xc3\xa9\xe2\x82\xac\xe4\xb8\xad\xf0\x9f\x98\x80\"");
    ESC("\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\"");
}

/* Invisible and bidirectional formatting characters are escaped (the value is the same,
 * the raw line reads as it is in any viewer); the tag characters as a surrogate pair. */
static void json_hidden_escaped(void **state)
{
    (void)state;
    ESC("\xe2\x80\xa8", "\"\\u2028\"");
    ESC("a\xe2\x80\xae"
        "b",
        "\"a\\u202eb\"");
    ESC("\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\x8b\xef\xbb\xbf\xd8\x9c\xc2\xad",
        "\"\\u2066\\u2069\\u200b\\ufeff\\u061c\\u00ad\"");
    ESC("\xf3\xa0\x81\x81", "\"\\udb40\\udc41\""); /* U+E0041 TAG LATIN CAPITAL A */
    ESC("\xe2\x80\x90", "\"\xe2\x80\x90\"");       /* U+2010, a hyphen: kept */
}

static void json_invalid_utf8(void **state)
{
    (void)state;
    ESC("\xff", "\"\\ufffd\"");
    ESC("a\x80z", "\"a\\ufffdz\"");
    /* Overlong encodings: every byte replaced. */
    ESC("\xc0\xaf", "\"\\ufffd\\ufffd\"");
    ESC("\xc1\xbf", "\"\\ufffd\\ufffd\"");
    ESC("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
    ESC("\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    /* UTF-8 encoded surrogates (CESU) and code points above U+10FFFF. */
    ESC("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
    ESC("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    ESC("\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    /* Truncated sequences at the end of the input: no read past n. */
    ESC("ab\xe2\x82", "\"ab\\ufffd\\ufffd\"");
    ESC("\xf0\x9f\x98", "\"\\ufffd\\ufffd\\ufffd\"");
    ESC("\xc3", "\"\\ufffd\"");
    /* A lead byte followed by ASCII: the ASCII survives. */
    ESC("\xc3(", "\"\\ufffd(\"");
}

static void json_sse_blocks(void **state)
{
    (void)state;
    /* 16-byte blocks with the special byte at every position of the second block. */
    for (int k = 0; k < 20; k++) {
        char in[40], want[80];
        memset(in, 'x', sizeof in);
        in[16 + k] = '\x01';
        int w = 0;
        want[w++] = '"';
        for (int i = 0; i < 40; i++) {
            if (i == 16 + k) {
                memcpy(want + w, "\\u0001", 6);
                w += 6;
            } else {
                want[w++] = 'x';
            }
        }
        want[w++] = '"';
        want[w] = 0;
        esc(in, sizeof in, want);
    }
    /* Bytes >= 0x80 inside a block leave the fast path and are validated. */
    ESC("0123456789abcde\xff"
        "0123456789abcdef",
        "\"0123456789abcde\\ufffd0123456789abcdef\"");
    ESC("0123456789abcd\xc3\xa9"
        "0123456789abcdef",
        "\"0123456789abcd\xc3\xa9"
        "0123456789abcdef\"");
    ESC("0123456789abcde\x7f", "\"0123456789abcde\\u007f\"");
    ESC("0123456789abcde\"", "\"0123456789abcde\\\"\"");
}

/* Every length up to 40 bytes (16-byte blocks with an overlapping last one, the two
 * overlapping halves of shorter strings), plain and with one byte or character that
 * needs care at every position: the plain copy must never let one through. */
static void json_every_length_and_position(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } special[] = {{"\"", "\\\""},          {"\\", "\\\\"},      {"\n", "\\n"},
                   {"\x01", "\\u0001"},     {"\x7f", "\\u007f"}, {"\xff", "\\ufffd"},
                   {"\xc3\xa9", "\xc3\xa9"}};
    for (size_t n = 0; n <= 40; n++) {
        for (size_t pos = 0; pos <= n; pos++) { /* pos == n: plain */
            for (size_t k = 0; k < sizeof special / sizeof special[0]; k++) {
                char in[48], want[128];
                size_t ni = 0, w = 0;
                want[w++] = '"';
                for (size_t i = 0; i < n; i++) {
                    if (i == pos) {
                        size_t l = strlen(special[k].in), lo = strlen(special[k].out);
                        memcpy(in + ni, special[k].in, l);
                        ni += l;
                        memcpy(want + w, special[k].out, lo);
                        w += lo;
                    } else {
                        char c = (char)('!' + (i * 7) % 60);
                        if (c == '\\' || c == '"')
                            c = 'q';
                        in[ni++] = c;
                        want[w++] = c;
                    }
                }
                want[w++] = '"';
                want[w] = 0;
                esc(in, ni, want);
                if (pos == n)
                    break;
            }
        }
    }
}

static void text_check(const char *in, size_t n, unsigned flags, const char *want)
{
    dh_buf b;
    dh_buf_init(&b, 1 << 16);
    assert_int_equal(dh_text_escape(&b, in, n, flags), DH_OK);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data ? b.data : "", want, b.len);
    dh_buf_free(&b);
}

/* Terminal text: an ANSI escape sequence, a bell, DEL and a C1 CSI written by an attacker
 * come out as visible \xNN; backslashes only when asked; lines only when asked. */
static void text_terminal_safe(void **state)
{
    /* a NUL is shown, and nothing after it is lost */
    text_check("whoami\0 & evil", 14, 0, "whoami\\x00 & evil");
    /* the 8-bit CSI byte and other bytes that are not UTF-8, one escape each */
    text_check("\x9b"
               "2J\xff\xc0\xaf\xe0\x80\xaf",
               9, 0, "\\x9b2J\\xff\\xc0\\xaf\\xe0\\x80\\xaf");
    text_check("ab\xe2\x82", 4, 0, "ab\\xe2\\x82"); /* cut at the end */
    /* bidi overrides and invisible characters */
    text_check("gpj\xe2\x80\xae"
               "exe",
               9, 0, "gpj\\u202eexe");
    text_check("\xf3\xa0\x81\x81", 4, 0, "\\U000e0041");
    (void)state;
    text_check("a\x1b"
               "[31mb\x07"
               "c\x7f",
               10, 0, "a\\x1b[31mb\\x07c\\x7f");
    text_check("x\xc2\x9b"
               "y",
               4, 0, "x\\x9by");
    text_check("\xc2\xa9", 2, 0, "\xc2\xa9"); /* a printable non-ASCII letter stays */
    text_check("C:\\W\n", 5, 0, "C:\\W\\x0a");
    text_check("C:\\W\n", 5, DH_TEXT_BACKSLASH | DH_TEXT_KEEP_LINES, "C:\\x5cW\n");
}

static void csv_check(const char *in, size_t n, const char *want)
{
    dh_buf b;
    dh_buf_init(&b, 1 << 16);
    assert_int_equal(dh_csv_cell(&b, in, n), DH_OK);
    if (b.len != strlen(want) || memcmp(b.data, want, b.len) != 0)
        fail_msg("cell [%.*s], want [%s]", (int)b.len, b.data, want);
    dh_buf_free(&b);
}

/* CSV cells: quoted, quotes doubled, escaped as on the terminal (one record per line), and
 * no cell a spreadsheet evaluates. */
static void csv_cells(void **state)
{
    (void)state;
    csv_check("plain", 5, "\"plain\"");
    csv_check("a\"b", 3, "\"a\"\"b\"");
    csv_check("=1+1", 4, "\"'=1+1\"");
    csv_check("+1", 2, "\"'+1\"");
    csv_check("-1", 2, "\"'-1\"");
    csv_check("@SUM(1)", 7, "\"'@SUM(1)\"");
    csv_check("\t=1", 3, "\"\\x09=1\"");
    csv_check("\r=1", 3, "\"\\x0d=1\"");
    csv_check("a\nb\x1b\0c", 6, "\"a\\x0ab\\x1b\\x00c\"");
    csv_check("\xc2\x9b\x9b", 3, "\"\\x9b\\x9b\"");
    csv_check("x\xe2\x80\xae", 4, "\"x\\u202e\"");
    csv_check("", 0, "\"\"");
}

static void json_respects_cap(void **state)
{
    (void)state;
    dh_buf b;
    dh_buf_init(&b, 20);
    /* Reserves the worst case (6 bytes per input byte and the quotes): 3 bytes fit in
     * 20, 4 do not, whatever they are. */
    assert_int_equal(dh_json_string(&b, "abc", 3), DH_OK);
    assert_int_equal(b.len, 5);
    dh_buf_reset(&b);
    assert_int_equal(dh_json_string(&b, "abcd", 4), DH_ERR_NOMEM);
    assert_int_equal(b.len, 0);
    dh_buf_free(&b);
}

static dh_str S(const char *s)
{
    return (dh_str){s, strlen(s)};
}

static void jw_commas_nesting_and_empties(void **state)
{
    (void)state;
    dh_buf b;
    dh_buf_init(&b, 1 << 16);
    dh_jw w;
    dh_jw_init(&w, &b);
    dh_jw_int(&w, "a", -3);
    dh_jw_strz(&w, "empty", ""); /* not written */
    dh_jw_object(&w, "gone");    /* taken back with its key and comma */
    dh_jw_str(&w, "x", (dh_str){NULL, 0});
    dh_jw_end(&w);
    dh_jw_array(&w, "none"); /* so is an empty array */
    dh_jw_end(&w);
    dh_jw_object(&w, "o");
    dh_jw_strz(&w, "s", "q\"\n");
    dh_jw_array(&w, "v");
    dh_jw_strz(&w, NULL, "1");
    dh_jw_object(&w, NULL); /* an empty element leaves no stray comma */
    dh_jw_end(&w);
    dh_jw_strz(&w, NULL, "2");
    assert_int_equal(dh_jw_count(&w), 2);
    dh_jw_end(&w);
    dh_jw_bool(&w, "t", 1);
    dh_jw_end(&w);
    dh_jw_time(&w, "unknown", 0);
    assert_int_equal(dh_jw_finish(&w), DH_OK);
    const char *want = "{\"a\":-3,\"o\":{\"s\":\"q\\\"\\n\",\"v\":[\"1\",\"2\"],\"t\":true}}\n";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    dh_buf_free(&b);
}

static void jw_keeps_first_failure(void **state)
{
    (void)state;
    dh_buf b;
    dh_buf_init(&b, 32);
    dh_jw w;
    dh_jw_init(&w, &b);
    dh_jw_strz(&w, "k", "a value far longer than the buffer's cap allows");
    dh_jw_int(&w, "n", 1);
    assert_int_equal(dh_jw_finish(&w), DH_ERR_NOMEM);
    dh_buf_free(&b);
    dh_buf_init(&b, 1 << 16);
    dh_jw_init(&w, &b);
    for (int i = 0; i < DH_JW_DEPTH + 2; i++)
        dh_jw_object(&w, "d");
    assert_int_equal(dh_jw_finish(&w), DH_ERR_LIMIT);
    dh_buf_free(&b);
}

static void typed_values(void **state)
{
    (void)state;
    assert_true(dh_typed_ip(S("10.0.2.19")));
    assert_true(dh_typed_ip(S("fe80::1")));
    assert_true(dh_typed_ip(S("::ffff:10.1.2.3")));
    assert_false(dh_typed_ip(S("10.0.0.300")));
    assert_false(dh_typed_ip(S("fe80::1%eth0")));
    assert_false(dh_typed_ip(S("-")));
    assert_false(dh_typed_ip(S("10.0.0.1 ")));
    assert_false(dh_typed_ip((dh_str){"10.0.0.1\0x", 10}));
    unsigned long long v = 0;
    assert_true(dh_typed_uint(S("3572"), 2147483647ULL, &v) && v == 3572);
    assert_true(dh_typed_uint(S("0x1ea3c6"), 2147483647ULL, &v) && v == 0x1ea3c6);
    assert_false(dh_typed_uint(S("0xZZ"), 2147483647ULL, &v));
    assert_false(dh_typed_uint(S("-5"), 2147483647ULL, &v));
    assert_false(dh_typed_uint(S("70000"), 65535, &v));
    assert_false(dh_typed_uint(S("99999999999999999999999"), ~0ULL, &v));
    assert_false(dh_typed_uint(S("0x"), 65535, &v));
    assert_false(dh_typed_uint(S(""), 65535, &v));
    dh_str d, n = dh_typed_basename(S("C:\\Windows\\mmc.exe"));
    assert_int_equal(n.len, 7);
    assert_memory_equal(n.ptr, "mmc.exe", 7);
    dh_typed_account(S("CORP\\eve"), &d, &n);
    assert_int_equal(d.len, 4);
    assert_int_equal(n.len, 3);
    dh_typed_account(S("eve"), &d, &n);
    assert_int_equal(d.len, 0);
    assert_int_equal(n.len, 3);
    assert_true(dh_typed_absent(S("-")) && dh_typed_absent(S("")) && !dh_typed_absent(S("x")));
}

/* The event's time as dh_time_put_iso writes it, whatever the order of days (the writer
 * keeps the last day's date per thread), out of the 4-digit years (the general formatter),
 * and with the fallback writer (repeated names) the same. */
static void event_time_as_iso(void **state)
{
    (void)state;
    const int64_t day = 864000000000LL; /* FILETIME ticks a day */
    const int64_t times[] = {
        132000000000000000LL,           /* 2019 */
        132000000000000000LL + 1,       /* the same day */
        132000000000000000LL + day - 1, /* its last tick */
        132000000000000000LL + day,     /* the next day */
        132000000000000000LL - 1,       /* back across midnight */
        0,                              /* 1601-01-01 */
        INT64_MAX,                      /* past 9999: the general formatter */
        -1,                             /* unsigned: far future */
        132000000000000000LL + 3 * day + 1234567,
    };
    dh_kv rep[2] = {{{"A", 1}, {"x", 1}}, {{"A", 1}, {"y", 1}}};
    for (int general = 0; general < 2; general++) {
        for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
            dh_event ev;
            dh_event_begin(&ev, "f.evtx");
            dh_event_set_time(&ev, times[i]);
            if (general)
                dh_event_set_data(&ev, rep, 2);
            dh_buf b, t;
            dh_buf_init(&b, 1u << 20);
            dh_buf_init(&t, 64);
            assert_int_equal(dh_json_event(&b, &ev, 0), DH_OK);
            assert_int_equal(dh_time_put_iso(&t, times[i]), DH_OK);
            assert_int_equal(dh_buf_putc(&t, 0), DH_OK);
            assert_int_equal(dh_buf_putc(&b, 0), DH_OK);
            const char *at = strstr(b.data, "\"time\":\"");
            assert_non_null(at);
            at += 8;
            if (strncmp(at, t.data, t.len - 1) != 0 || at[t.len - 1] != '"')
                fail_msg("time %lld: %s, want %s", (long long)times[i], b.data, t.data);
            dh_buf_free(&b);
            dh_buf_free(&t);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_plain_and_quotes),
        cmocka_unit_test(json_controls),
        cmocka_unit_test(json_valid_utf8_kept),
        cmocka_unit_test(json_invalid_utf8),
        cmocka_unit_test(json_sse_blocks),
        cmocka_unit_test(json_every_length_and_position),
        cmocka_unit_test(json_respects_cap),
        cmocka_unit_test(text_terminal_safe),
        cmocka_unit_test(json_hidden_escaped),
        cmocka_unit_test(csv_cells),
        cmocka_unit_test(jw_commas_nesting_and_empties),
        cmocka_unit_test(jw_keeps_first_failure),
        cmocka_unit_test(typed_values),
        cmocka_unit_test(event_time_as_iso),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
