/* Unit tests for the JSON reader's tokenizers (input/json/tokenize.h): the fast single pass
 * gives jsmn's tokens on well-formed lines, gives up on what it does not follow (and
 * jsonl_tokenize then gives jsmn's answer), and the reader gives the same event through
 * either tokenizer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "event/event_impl.h"
#include "input/json/jsonl.h"
#include "input/json/tokenize.h"

#define MAXT 512
static jsmntok_t ta[MAXT], tb[MAXT];

static void same_as_jsmn(const char *js, size_t n)
{
    int a = jsonl_tokenize_fast(js, n, ta, MAXT);
    int b = jsonl_tokenize_jsmn(js, n, tb, MAXT);
    assert_true(a > 0);
    assert_int_equal(a, b);
    for (int i = 0; i < a; i++) {
        assert_int_equal(ta[i].type, tb[i].type);
        assert_int_equal(ta[i].start, tb[i].start);
        assert_int_equal(ta[i].end, tb[i].end);
        assert_int_equal(ta[i].size, tb[i].size);
        assert_int_equal(ta[i].parent, tb[i].parent);
    }
}

static void fast_matches_jsmn(void **state)
{
    (void)state;
    static const char *const lines[] = {
        ("{\"EventID\":1,\"Hostname\":\"W6\",\"Image\":\"C:\\\\Windows\\\\System32\\\\mmc.exe\","
         "\"Keywords\":-9223372036854775808,\"ok\":true,\"none\":null}"),
        "{ \"a\" : [ 1 , \"x\" , { \"b\" : [ ] } , [ [ 2 ] ] ] , \"c\" : { } }",
        "[{\"a\":\"\\u00e9\\ud83d\\ude00\\\"\\/\\b\\f\\n\\r\\t\"},{}]",
        /* a string long enough for the sixteen-byte scan, an escape at a block's edge */
        "{\"CommandLine\":\"0123456789abcde\\\\0123456789abcdef0123456789abcdef\\\"end\"}",
        /* jsmn's strict primitives are runs up to a delimiter: kept as jsmn cuts them */
        "{\"y\":1:2,\"z\":tru,\"w\":-0.5e+3}",
        "  {\"a\":1}  \r\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        same_as_jsmn(lines[i], strlen(lines[i]));
}

static void gives_up_where_jsmn_decides(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t n;
    } bad[] = {
#define B(lit) {lit, sizeof(lit) - 1}
        B("{\"a\":\"x\0y\"}"),    /* a NUL: jsmn stops there */
        B("{\"a\":\"\\x41\"}"),   /* an escape JSON has not */
        B("{\"a\":\"\\u12\"}"),   /* \u with too few hex digits */
        B("{\"a\":\"\\uzzzz\"}"), /* \u with no hex digits */
        B("{\"a\":\"open"),       /* no closing quote */
        B("{\"a\":1} x"),         /* bytes after the value */
        B("{\"a\":1}{\"b\":2}"),  /* two values */
        B("{\"a\":1,}"),          /* a trailing comma */
        B("{\"a\" 1}"),           /* no colon */
        B("{1:2}"),               /* a key that is not a string */
        B("\"top\""),             /* a top-level scalar */
        B("{\"a\":tr\x01ue}"),    /* a control byte in a primitive */
        B("{\"a\":\xc3\xa9}"),    /* a non-ASCII byte outside strings */
        B("{\"a\":1"),            /* not closed */
        B("{\"a\":[1}"),          /* closed by the wrong bracket */
        B("{\"a\":1\"b\"}"),      /* a quote in a primitive (jsmn keeps it there) */
        B("{\"a\":-[[1}"),        /* opening brackets in a primitive */
#undef B
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(jsonl_tokenize_fast(bad[i].s, bad[i].n, ta, MAXT), -1);
        assert_int_equal(jsonl_tokenize(bad[i].s, bad[i].n, ta, MAXT),
                         jsonl_tokenize_jsmn(bad[i].s, bad[i].n, tb, MAXT));
    }
}

static void limits_fall_back(void **state)
{
    (void)state;
    char deep[2 * JSONL_TOK_DEPTH + 8];
    size_t n = 0;
    /* JSONL_TOK_DEPTH levels: followed */
    for (int i = 0; i < JSONL_TOK_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i < JSONL_TOK_DEPTH; i++)
        deep[n++] = ']';
    same_as_jsmn(deep, n);
    /* one more: refused, well-formed or not, whichever tokenizer (jsmn would read it, in
     * time quadratic in the depth) */
    n = 0;
    for (int i = 0; i <= JSONL_TOK_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i <= JSONL_TOK_DEPTH; i++)
        deep[n++] = ']';
    assert_int_equal(jsonl_tokenize_fast(deep, n, ta, MAXT), -1);
    assert_int_equal(jsonl_tokenize(deep, n, ta, MAXT), JSONL_ERROR_DEPTH);
    assert_int_equal(jsonl_tokenize_reference(deep, n, ta, MAXT), JSONL_ERROR_DEPTH);
    assert_int_equal(jsonl_tokenize(deep, n - 3, ta, MAXT), JSONL_ERROR_DEPTH);
    /* brackets inside strings are not nesting */
    static const char quoted[] = "{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                                 "[[[[[[[[[[[[[[[[\\\"\"}";
    assert_false(jsonl_deeper_than(quoted, sizeof quoted - 1, JSONL_TOK_DEPTH));
    assert_int_equal(jsonl_tokenize_reference(quoted, sizeof quoted - 1, ta, MAXT), 3);
    /* more tokens than room: jsmn's NOMEM */
    const char *many = "[1,2,3,4,5,6]";
    assert_int_equal(jsonl_tokenize_fast(many, strlen(many), ta, 4), -1);
    assert_int_equal(jsonl_tokenize(many, strlen(many), ta, 4), JSMN_ERROR_NOMEM);
}

typedef struct seen {
    char host[64], channel[64], image[128];
    uint32_t id;
    uint64_t record;
    size_t ndata;
    int n;
} seen;

static dh_status keep(void *ctx, const dh_event *ev)
{
    seen *s = ctx;
    snprintf(s->host, sizeof s->host, "%.*s", (int)ev->host.len, ev->host.ptr);
    snprintf(s->channel, sizeof s->channel, "%.*s", (int)ev->channel.len, ev->channel.ptr);
    for (size_t k = 0; k < ev->ndata; k++)
        if (ev->data[k].name.len == 5 && !memcmp(ev->data[k].name.ptr, "Image", 5))
            snprintf(s->image, sizeof s->image, "%.*s", (int)ev->data[k].value.len,
                     ev->data[k].value.ptr);
    s->id = ev->event_id;
    s->record = ev->record_id;
    s->ndata = ev->ndata;
    s->n++;
    return DH_OK;
}

static void reader_same_through_both(void **state)
{
    (void)state;
    static const char line[] =
        "{\"EventTime\":\"2020-09-18 13:07:51\",\"Hostname\":\"W6.theshire.local\","
        "\"Keywords\":-9223372036854775808,\"EventType\":\"INFO\",\"EventID\":1,"
        "\"SourceName\":\"Microsoft-Windows-Sysmon\",\"RecordNumber\":1700946,"
        "\"Channel\":\"microsoft-windows-sysmon/operational\",\"Message\":\"Process Create:\","
        "\"UtcTime\":\"2020-09-18 17:05:52.724\",\"Image\":\"C:\\\\Windows\\\\mmc.exe\","
        "\"EventReceivedTime\":\"2020-09-18 13:07:52\",\"@timestamp\":\"2020-09-18T17:07:52Z\"}\n";
    seen s[2];
    memset(s, 0, sizeof s);
    for (int ref = 0; ref < 2; ref++) {
        jsonl_reader *r = jsonl_reader_new();
        assert_non_null(r);
        jsonl_reader_use_reference(r, ref);
        uint64_t events = 0, bad = 0;
        assert_int_equal(jsonl_decode(r, line, sizeof line - 1, "t", 1, 0, keep, &s[ref], NULL,
                                      NULL, &events, &bad),
                         DH_OK);
        assert_int_equal(events, 1);
        assert_int_equal(bad, 0);
        jsonl_reader_free(r);
    }
    assert_string_equal(s[0].host, "W6.theshire.local");
    assert_string_equal(s[0].channel, "Microsoft-Windows-Sysmon/Operational");
    assert_string_equal(s[0].image, "C:\\Windows\\mmc.exe");
    assert_int_equal(s[0].id, 1);
    assert_int_equal(s[0].record, 1700946);
    assert_memory_equal(&s[0], &s[1], sizeof s[0]);
}

/* A UTF-8 BOM before the first line is skipped (the line is read, its offset is after the
 * BOM's bytes); the same bytes inside the input (not at offset 0) are not. */
static void bom_before_first_line(void **state)
{
    (void)state;
    static const char lines[] =
        "\xEF\xBB\xBF{\"Hostname\":\"W6\",\"EventID\":1,\"SourceName\":\"Microsoft-Windows-"
        "Sysmon\",\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","
        "\"@timestamp\":\"2020-09-18T17:07:52Z\"}\n"
        "{\"Hostname\":\"W7\",\"EventID\":1,\"SourceName\":\"Microsoft-Windows-Sysmon\","
        "\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","
        "\"@timestamp\":\"2020-09-18T17:07:53Z\"}\n";
    for (int at_start = 1; at_start >= 0; at_start--) {
        seen s;
        memset(&s, 0, sizeof s);
        jsonl_reader *r = jsonl_reader_new();
        assert_non_null(r);
        uint64_t events = 0, bad = 0;
        assert_int_equal(jsonl_decode(r, lines, sizeof lines - 1, "t", 1, at_start ? 0 : 4096, keep,
                                      &s, NULL, NULL, &events, &bad),
                         DH_OK);
        assert_int_equal(events, at_start ? 2 : 1);
        assert_int_equal(bad, at_start ? 0 : 1);
        assert_string_equal(s.host, "W7");
        jsonl_reader_free(r);
    }
}

/* A line holding more than one value is refused (named as damaged), through either
 * tokenizer, never read as its first object with the rest dropped. */
static void values_after_the_object_refused(void **state)
{
    (void)state;
    static const char line[] =
        "{\"Hostname\":\"W6\",\"EventID\":1,\"SourceName\":\"Microsoft-Windows-Sysmon\","
        "\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","
        "\"@timestamp\":\"2020-09-18T17:07:52Z\"}\r"
        "{\"Hostname\":\"W7\",\"EventID\":1,\"SourceName\":\"Microsoft-Windows-Sysmon\","
        "\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","
        "\"@timestamp\":\"2020-09-18T17:07:53Z\"}\n";
    for (int ref = 0; ref < 2; ref++) {
        seen s;
        memset(&s, 0, sizeof s);
        jsonl_reader *r = jsonl_reader_new();
        assert_non_null(r);
        jsonl_reader_use_reference(r, ref);
        uint64_t events = 0, bad = 0;
        assert_int_equal(
            jsonl_decode(r, line, sizeof line - 1, "t", 1, 0, keep, &s, NULL, NULL, &events, &bad),
            DH_OK);
        assert_int_equal(events, 0);
        assert_int_equal(bad, 1);
        jsonl_reader_free(r);
    }
}

typedef struct why_seen {
    uint64_t line, offset;
    char why[96];
    int n;
} why_seen;

static void keep_why(void *ctx, uint64_t line, uint64_t offset, const char *why)
{
    why_seen *w = ctx;
    w->line = line;
    w->offset = offset;
    snprintf(w->why, sizeof w->why, "%s", why);
    w->n++;
}

/* Lines nested 8,000 deep (an object holding brackets, well-formed, and the same never
 * closed) are refused as damaged and named by line and offset, through either tokenizer.
 * Before, jsmn read them in time quadratic in the depth (8 MB of such lines took 37 s) and
 * the well-formed one was read as an object with no event shape. */
static void deep_nesting_refused(void **state)
{
    (void)state;
    enum { DEPTH = 8000 };
    static const char good[] = "{\"EventID\":1}\n";
    static char buf[2 * (2 * DEPTH + 16) + sizeof good];
    size_t n = 0;
    memcpy(buf, good, sizeof good - 1);
    n += sizeof good - 1;
    for (int unclosed = 0; unclosed < 2; unclosed++) {
        memcpy(buf + n, "{\"a\":", 5);
        n += 5;
        for (int i = 0; i < DEPTH; i++)
            buf[n++] = '[';
        for (int i = 0; i < DEPTH && !unclosed; i++)
            buf[n++] = ']';
        if (!unclosed)
            buf[n++] = '}';
        buf[n++] = '\n';
    }
    for (int ref = 0; ref < 2; ref++) {
        jsonl_reader *r = jsonl_reader_new();
        assert_non_null(r);
        jsonl_reader_use_reference(r, ref);
        seen s;
        why_seen w;
        memset(&s, 0, sizeof s);
        memset(&w, 0, sizeof w);
        uint64_t events = 0, bad = 0;
        assert_int_equal(jsonl_decode(r, buf, n, "t", 1, 0, keep, &s, keep_why, &w, &events, &bad),
                         DH_OK);
        assert_int_equal(bad, 2);
        assert_int_equal(w.n, 2);
        assert_string_equal(w.why, "JSON nested deeper than 64 levels");
        assert_int_equal(w.line, 3);
        assert_int_equal(w.offset, sizeof good - 1 + 5 + 2 * DEPTH + 2);
        jsonl_reader_free(r);
    }
}

/* An array read through the fast pass (elements tokenized where they start) gives the events
 * and names the damaged elements (line, offset) as the reference does. */
static void array_elements_through_both(void **state)
{
    (void)state;
    static const char arr[] =
        "[\n  {\"Hostname\":\"W6\",\"EventID\":1,\"Channel\":\"Security\",\"x\":\"a]}\\\"\"},\n"
        "  {\"Hostname\":\"W7\",\"EventID\":1.5,\"Channel\":\"Security\"},\n\n"
        "  {\"Hostname\":\"W8\",\"EventID\":2,\"Channel\":\"Security\"} x,\n"
        "  {\"Hostname\":\"W9\",\"EventID\":3,\"Channel\":\"Security\"}\n]\n";
    seen s[2];
    why_seen w[2];
    uint64_t ev[2], bad[2];
    for (int ref = 0; ref < 2; ref++) {
        jsonl_reader *r = jsonl_reader_new();
        assert_non_null(r);
        jsonl_reader_use_reference(r, ref);
        memset(&s[ref], 0, sizeof s[ref]);
        memset(&w[ref], 0, sizeof w[ref]);
        ev[ref] = bad[ref] = 0;
        assert_int_equal(jsonl_decode_array(r, arr, sizeof arr - 1, 1, "t", 1, 0, keep, &s[ref],
                                            keep_why, &w[ref], &ev[ref], &bad[ref]),
                         DH_OK);
        jsonl_reader_free(r);
    }
    assert_int_equal(ev[0], 3);
    assert_int_equal(bad[0], 2);
    assert_string_equal(s[0].host, "W9");
    assert_int_equal(w[0].n, 2);
    assert_int_equal(w[0].line, 5); /* the stray x after W8's element */
    assert_memory_equal(&s[0], &s[1], sizeof s[0]);
    assert_memory_equal(&w[0], &w[1], sizeof w[0]);
    assert_int_equal(ev[1], 3);
    assert_int_equal(bad[1], 2);
}

static dh_status keep_keywords(void *ctx, const dh_event *ev)
{
    char *out = ctx;
    for (size_t k = 0; k < ev->nsys; k++)
        if (ev->sys[k].name.len == 8 && !memcmp(ev->sys[k].name.ptr, "Keywords", 8))
            snprintf(out, 64, "%.*s", (int)ev->sys[k].value.len, ev->sys[k].value.ptr);
    return DH_OK;
}

/* NXLog's signed decimal Keywords read as Windows writes them (hex), as strtoll/strtoull
 * and "0x%llx" gave them (saturated), and left as written when they are not a number. */
static void keywords_as_hex(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"-9223372036854775808", "0x8000000000000000"},
        {"-9223372036854775807", "0x8000000000000001"},
        {"-99999999999999999999", "0x8000000000000000"},
        {"-1", "0xffffffffffffffff"},
        {"-0", "0x0"},
        {"0", "0x0"},
        {"255", "0xff"},
        {"18446744073709551615", "0xffffffffffffffff"},
        {"18446744073709551616", "0xffffffffffffffff"},
        {"999999999999999999999", "0xffffffffffffffff"},
        {"0012", "0xc"},
        {"12a", "12a"},
        {"-", "-"},
        {"--5", "--5"},
        {"-+5", "-+5"},
        {"1.5", "1.5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char line[256], got[64] = "";
        snprintf(line, sizeof line,
                 "{\"Hostname\":\"W6\",\"EventID\":1,\"SourceName\":\"Microsoft-Windows-Sysmon\","
                 "\"Channel\":\"Security\",\"Keywords\":\"%s\"}",
                 cases[i].in);
        jsonl_reader *r = jsonl_reader_new();
        assert_non_null(r);
        uint64_t events = 0, bad = 0;
        assert_int_equal(jsonl_decode(r, line, strlen(line), "t", 1, 0, keep_keywords, got, NULL,
                                      NULL, &events, &bad),
                         DH_OK);
        assert_int_equal(events, 1);
        assert_string_equal(got, cases[i].want);
        jsonl_reader_free(r);
    }
}

static uint64_t one_line(const char *line, seen *s, uint64_t *bad)
{
    jsonl_reader *r = jsonl_reader_new();
    assert_non_null(r);
    uint64_t events = 0;
    *bad = 0;
    memset(s, 0, sizeof *s);
    assert_int_equal(
        jsonl_decode(r, line, strlen(line), "t", 1, 0, keep, s, NULL, NULL, &events, bad), DH_OK);
    jsonl_reader_free(r);
    return events;
}

/* Ids are whole numbers or nothing: 1.5, 1e999999, -1 or "1abc" never read as event 1, and a
 * long run of leading zeros is not cut to 0. */
static void ids_are_whole_numbers(void **state)
{
    (void)state;
    static const char *const head =
        "{\"Hostname\":\"W6\",\"SourceName\":\"Microsoft-Windows-Sysmon\","
        "\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","
        "\"@timestamp\":\"2020-09-18T17:07:52Z\",";
    char line[1024];
    seen s;
    uint64_t bad;
    static const char *const refused[] = {"1.5", "1e999999", "-1", "\"1abc\"", "4294967296"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        snprintf(line, sizeof line, "%s\"EventID\":%s,\"RecordNumber\":7}\n", head, refused[i]);
        assert_int_equal(one_line(line, &s, &bad), 0);
        assert_int_equal(bad, 1);
    }
    snprintf(line, sizeof line,
             "%s\"EventID\":\"00000000000000000000000003\",\"RecordNumber\":7}\n", head);
    assert_int_equal(one_line(line, &s, &bad), 1);
    assert_int_equal(s.id, 3);
    assert_int_equal(s.record, 7);
    /* a record number that is not one: the row's own id (as when there is none), never 1 */
    snprintf(line, sizeof line, "%s\"EventID\":1,\"RecordNumber\":1e9}\n", head);
    assert_int_equal(one_line(line, &s, &bad), 1);
    assert_int_equal(s.id, 1);
    assert_true(s.record != 1);
}

/* The array cut by bit masks (jsonl_container_close) cuts where the byte-by-byte scan cuts,
 * on hostile shapes and on random mixes of the bytes that matter to it. */
static void cut_same(const char *b, size_t n)
{
    /* both widths of the masks, from every opening bracket */
    for (size_t i = 0; i < n; i++)
        if (b[i] == '{' || b[i] == '[')
            assert_int_equal(jsonl_container_close(b, n, i + 1),
                             jsonl_container_close_narrow(b, n, i + 1));
    for (int at_start = 0; at_start < 2; at_start++)
        assert_int_equal(jsonl_array_cut(b, n, at_start),
                         jsonl_array_cut_reference(b, n, at_start));
}

static void array_cut_same_as_scan(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "[{\"a\":\"}]\"},{\"b\":\"{[\"},{\"c\":1}]",
        "[{\"a\":\"x\\\"}\"},{\"b\":2}",          /* an escaped quote, a bracket after it */
        "[{\"a\":\"x\\\\\"},{\"b\":2}",           /* an escaped backslash, then the quote closes */
        "[{\"a\":1}\\\"{\"b\":\"]\"},{\"c\":3}]", /* a backslash outside strings: the scan decides
                                                   */
        "[{\"a\":\\\"x\"},{\"b\":1}]",
        "[{\"a\":\"never closed},{\"b\":1}]",
        "[{\"a\":[1,2,{\"b\":[]}]},[3],\"s\",4,{}]",
        "[{\"a\":1]}, {\"b\":1}}", /* brackets of the other kind close */
        "[ ] trailing",
        "[{\"yY_\":\"yY_\"}, {\"\x7f\":\"\x7f\"}]",
        "}{\"a\":1}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cut_same(cases[i], strlen(cases[i]));
    /* escapes and strings across the 64-byte blocks: runs of backslashes of every length
     * ending at every offset */
    static char buf[4096];
    for (size_t run = 0; run < 6; run++)
        for (size_t pad = 0; pad < 140; pad++) {
            size_t n = 0;
            n += (size_t)snprintf(buf + n, sizeof buf - n, "[{\"k\":\"");
            for (size_t k = 0; k < pad; k++)
                buf[n++] = 'a';
            for (size_t k = 0; k < run; k++)
                buf[n++] = '\\';
            n += (size_t)snprintf(buf + n, sizeof buf - n, "\"}]\"},{\"x\":[1]},");
            cut_same(buf, n);
        }
    /* random mixes of quotes, backslashes, brackets, commas and letters */
    static const char alphabet[] = "\"\\{}[],: aY_y\x7f\n";
    uint64_t x = 0x243F6A8885A308D3ULL;
    for (int t = 0; t < 20000; t++) {
        size_t n = 0;
        buf[n++] = '[';
        buf[n++] = '{';
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = (size_t)(x % 300);
        for (size_t k = 0; k < len; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* mostly letters, so strings run long across blocks */
            buf[n++] = (x >> 8) % 4 ? 'a' : alphabet[(x >> 16) % (sizeof alphabet - 1)];
        }
        cut_same(buf, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fast_matches_jsmn),
        cmocka_unit_test(gives_up_where_jsmn_decides),
        cmocka_unit_test(limits_fall_back),
        cmocka_unit_test(reader_same_through_both),
        cmocka_unit_test(bom_before_first_line),
        cmocka_unit_test(values_after_the_object_refused),
        cmocka_unit_test(deep_nesting_refused),
        cmocka_unit_test(keywords_as_hex),
        cmocka_unit_test(array_elements_through_both),
        cmocka_unit_test(ids_are_whole_numbers),
        cmocka_unit_test(array_cut_same_as_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
