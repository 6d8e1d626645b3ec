/* Unit tests for src/core: the capped buffer, integer formatting, UTF-16LE and
 * Windows-1252 conversion, FILETIME <-> ISO-8601. Expected times were computed
 * independently with Python's datetime (proleptic Gregorian, 1601-01-01 epoch). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/strdup.h"
#include "core/timefmt.h"
#include "core/utf16.h"

#define BIG (1u << 20)

static void assert_buf(const dh_buf *b, const char *want, size_t want_len)
{
    assert_int_equal(b->len, want_len);
    assert_memory_equal(b->data, want, want_len);
}
#define ASSERT_BUF(b, lit) assert_buf((b), (lit), sizeof(lit) - 1)

/* ---- buf ---- */

static void buf_append_and_cap(void **state)
{
    (void)state;
    dh_buf b;
    dh_buf_init(&b, 10);
    assert_int_equal(dh_buf_append(&b, "0123456789", 10), DH_OK);
    ASSERT_BUF(&b, "0123456789");
    /* Empty appends succeed, even at the cap. */
    assert_int_equal(dh_buf_append(&b, "", 0), DH_OK);
    /* One byte past the cap fails and leaves the contents alone. */
    assert_int_equal(dh_buf_status(&b), DH_OK);
    assert_int_equal(dh_buf_append(&b, "x", 1), DH_ERR_NOMEM);
    assert_int_equal(dh_buf_putc(&b, 'x'), DH_ERR_NOMEM);
    ASSERT_BUF(&b, "0123456789");
    assert_true(b.cap <= 10);
    assert_int_equal(dh_buf_status(&b), DH_ERR_NOMEM);
    dh_buf_reset(&b);
    assert_int_equal(dh_buf_status(&b), DH_OK);
    assert_int_equal(b.len, 0);
    assert_int_equal(dh_buf_append(&b, "abc", 3), DH_OK);
    ASSERT_BUF(&b, "abc");
    dh_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    dh_buf_free(&b); /* twice is fine */
    dh_buf_free(NULL);
}

static void buf_cap_single_big_append(void **state)
{
    (void)state;
    dh_buf b;
    dh_buf_init(&b, 100);
    char big[101];
    memset(big, 'a', sizeof big);
    assert_int_equal(dh_buf_append(&b, big, 101), DH_ERR_NOMEM);
    assert_int_equal(b.len, 0);
    dh_buf_reset(&b);
    assert_int_equal(dh_buf_append(&b, big, 60), DH_OK);
    assert_int_equal(dh_buf_append(&b, big, 41), DH_ERR_NOMEM);
    dh_buf_truncate(&b, 60); /* back to the failure point: the error goes */
    assert_int_equal(dh_buf_append(&b, big, 40), DH_OK);
    assert_int_equal(b.len, 100);
    /* A reserve that would overflow size_t arithmetic is refused, not wrapped. */
    assert_null(dh_buf_reserve(&b, (size_t)-1));
    assert_int_equal(dh_buf_status(&b), DH_ERR_NOMEM);
    dh_buf_free(&b);
}

/* The first failure sticks: a line whose middle piece did not fit never goes out with
 * the later pieces and without that one. */
static void buf_error_sticks(void **state)
{
    (void)state;
    dh_buf b;
    dh_buf_init(&b, 16);
    assert_int_equal(dh_buf_puts(&b, "a,"), DH_OK);
    assert_int_equal(dh_buf_puts(&b, "0123456789abcdefXYZ"), DH_ERR_NOMEM);
    /* Later pieces that would fit do nothing and report the first failure. */
    assert_int_equal(dh_buf_puts(&b, ",c"), DH_ERR_NOMEM);
    assert_int_equal(dh_buf_putc(&b, '\n'), DH_ERR_NOMEM);
    assert_int_equal(dh_buf_put_u64(&b, 7), DH_ERR_NOMEM);
    assert_null(dh_buf_reserve(&b, 1));
    ASSERT_BUF(&b, "a,");
    assert_int_equal(dh_buf_status(&b), DH_ERR_NOMEM);
    /* Truncating after the failure point keeps it; at or before it clears it. */
    dh_buf_truncate(&b, 2);
    assert_int_equal(dh_buf_status(&b), DH_OK);
    assert_int_equal(dh_buf_puts(&b, "b"), DH_OK);
    ASSERT_BUF(&b, "a,b");
    assert_int_equal(dh_buf_puts(&b, "0123456789abcdefXYZ"), DH_ERR_NOMEM);
    dh_buf_truncate(&b, 3);
    assert_int_equal(dh_buf_status(&b), DH_OK);
    assert_int_equal(dh_buf_puts(&b, "0123456789abcdefXYZ"), DH_ERR_NOMEM);
    /* Cut back below the failure point by hand (older code sets len): the bytes that
     * failed are gone, so the next append starts clean. */
    b.len = 1;
    assert_int_equal(dh_buf_status(&b), DH_OK);
    assert_int_equal(dh_buf_putc(&b, ';'), DH_OK);
    ASSERT_BUF(&b, "a;");
    dh_buf_free(&b);
}

static void buf_grows_past_initial_block(void **state)
{
    (void)state;
    dh_buf b;
    dh_buf_init(&b, BIG);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(dh_buf_putc(&b, (char)('a' + i % 26)), DH_OK);
    assert_int_equal(b.len, 10000);
    assert_int_equal(b.data[9999], 'a' + 9999 % 26);
    assert_int_equal(b.data[4096], 'a' + 4096 % 26);
    dh_buf_free(&b);
}

static void buf_integers(void **state)
{
    (void)state;
    dh_buf b;
    dh_buf_init(&b, BIG);
    assert_int_equal(dh_buf_put_u64(&b, 0), DH_OK);
    ASSERT_BUF(&b, "0");
    dh_buf_reset(&b);
    assert_int_equal(dh_buf_put_u64(&b, 18446744073709551615ULL), DH_OK);
    ASSERT_BUF(&b, "18446744073709551615");
    dh_buf_reset(&b);
    assert_int_equal(dh_buf_put_i64(&b, -9223372036854775807LL - 1), DH_OK);
    ASSERT_BUF(&b, "-9223372036854775808");
    dh_buf_reset(&b);
    assert_int_equal(dh_buf_put_i64(&b, -1), DH_OK);
    ASSERT_BUF(&b, "-1");
    dh_buf_reset(&b);
    assert_int_equal(dh_buf_put_i64(&b, 4688), DH_OK);
    ASSERT_BUF(&b, "4688");
    dh_buf_reset(&b);
    assert_int_equal(dh_buf_put_hex(&b, 0), DH_OK);
    ASSERT_BUF(&b, "0x0");
    dh_buf_reset(&b);
    assert_int_equal(dh_buf_put_hex(&b, 0x1ea3c6), DH_OK);
    ASSERT_BUF(&b, "0x1ea3c6");
    dh_buf_reset(&b);
    assert_int_equal(dh_buf_put_hex(&b, 0xFFFFFFFFFFFFFFFFULL), DH_OK);
    ASSERT_BUF(&b, "0xffffffffffffffff");
    dh_buf_free(&b);

    /* Integers respect the cap too: nothing partial is written. */
    dh_buf_init(&b, 3);
    assert_int_equal(dh_buf_put_u64(&b, 1234), DH_ERR_NOMEM);
    assert_int_equal(b.len, 0);
    dh_buf_reset(&b);
    assert_int_equal(dh_buf_put_hex(&b, 0x10), DH_ERR_NOMEM);
    assert_int_equal(b.len, 0);
    dh_buf_reset(&b);
    assert_int_equal(dh_buf_put_u64(&b, 123), DH_OK);
    ASSERT_BUF(&b, "123");
    dh_buf_free(&b);
}

/* ---- utf16 / cp1252 ---- */

/* Numbers written for people and queries (KQL comparisons, rules show, Real64 values):
 * the shortest text that reads back as the same value. */
static void format_double(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *want;
    } cases[] = {{0.1, "0.1"},
                 {1234567, "1234567"},
                 {3199.234, "3199.234"},
                 {1e300, "1e+300"},
                 {-2.5, "-2.5"},
                 {1.0 / 3, "0.3333333333333333"},
                 {1e16, "10000000000000000"},
                 {123456789012, "123456789012"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[48];
        size_t n = dh_format_double(out, sizeof out, cases[i].v, 0);
        if (n != strlen(cases[i].want) || strcmp(out, cases[i].want))
            fail_msg("%.17g: got [%s], want [%s]", cases[i].v, out, cases[i].want);
    }
    char tiny[3];
    assert_int_equal(dh_format_double(tiny, sizeof tiny, 1234567, 0), 0); /* cap respected */
}

static void utf16(const uint8_t *p, size_t units, const char *want, size_t want_len)
{
    dh_buf b;
    dh_buf_init(&b, BIG);
    assert_int_equal(dh_utf16le_to_utf8(&b, p, units), DH_OK);
    assert_buf(&b, want, want_len);
    dh_buf_free(&b);
}
#define UTF16(bytes, want)                                                                         \
    utf16((const uint8_t *)(bytes), (sizeof(bytes) - 1) / 2, (want), sizeof(want) - 1)

static void utf16_basic(void **state)
{
    (void)state;
    UTF16("A\0", "A");
    /* é (U+00E9), € (U+20AC), 中 (U+4E2D) */
    UTF16("\xe9\x00\xac\x20\x2d\x4e", "\xc3\xa9\xe2\x82\xac\xe4\xb8\xad");
    /* A NUL code unit is kept (the caller trims terminators). */
    UTF16("a\0\0\0b\0", "a\0b");
    /* U+07FF and U+0800: the two- and three-byte boundary. */
    UTF16("\xff\x07\x00\x08", "\xdf\xbf\xe0\xa0\x80");
    /* U+FFFF is not a surrogate: kept. */
    UTF16("\xff\xff", "\xef\xbf\xbf");
}

static void utf16_surrogates(void **state)
{
    (void)state;
    /* U+1F600 = D83D DE00 -> F0 9F 98 80 */
    UTF16("\x3d\xd8\x00\xde", "\xf0\x9f\x98\x80");
    /* U+10000 and U+10FFFF, the extremes of the pair range. */
    UTF16("\x00\xd8\x00\xdc", "\xf0\x90\x80\x80");
    UTF16("\xff\xdb\xff\xdf", "\xf4\x8f\xbf\xbf");
    /* Lone high surrogate at the end. */
    UTF16("a\0\x3d\xd8", "a\xef\xbf\xbd");
    /* Lone low surrogate. */
    UTF16("\x00\xdex\0", "\xef\xbf\xbdx");
    /* High surrogate followed by a non-surrogate: U+FFFD, then the character kept. */
    UTF16("\x3d\xd8"
          "A\0",
          "\xef\xbf\xbd"
          "A");
    /* Two high surrogates then a low one: the first is lone, the second pairs. */
    UTF16("\x3d\xd8\x3d\xd8\x00\xde", "\xef\xbf\xbd\xf0\x9f\x98\x80");
    /* Reversed pair: two replacement characters. */
    UTF16("\x00\xde\x3d\xd8", "\xef\xbf\xbd\xef\xbf\xbd");
}

static void utf16_fast_paths(void **state)
{
    (void)state;
    /* 21 ASCII units (the 8- and 4-unit steps), then non-ASCII in the middle of a block. */
    UTF16("A\0B\0C\0D\0E\0F\0G\0H\0I\0J\0K\0L\0M\0N\0O\0P\0Q\0R\0S\0T\0U\0",
          "ABCDEFGHIJKLMNOPQRSTU");
    UTF16("a\0b\0c\0\xe9\0d\0e\0f\0g\0h\0i\0j\0k\0", "abc\xc3\xa9"
                                                     "defghijk");
    /* A unit of 0x0180 must not pass the ASCII mask test. */
    UTF16("a\0b\0c\0d\0\x80\x01"
          "f\0g\0h\0",
          "abcd\xc6\x80"
          "fgh");
    /* A surrogate pair straddling an 8-unit block boundary. */
    UTF16("1\0"
          "2\0"
          "3\0"
          "4\0"
          "5\0"
          "6\0"
          "7\0\x3d\xd8\x00\xde"
          "9\0",
          "1234567\xf0\x9f\x98\x80"
          "9");
}

static void utf16_unaligned_and_capped(void **state)
{
    (void)state;
    uint8_t raw[9] = {0xEE, 'h', 0, 'i', 0, 0xe9, 0, '!', 0};
    utf16(raw + 1, 4, "hi\xc3\xa9!", 5);
    dh_buf b;
    dh_buf_init(&b, 8);
    /* The converter reserves its worst case (3 bytes per unit) up front. */
    assert_int_equal(dh_utf16le_to_utf8(&b, raw + 1, 3), DH_ERR_NOMEM);
    assert_int_equal(b.len, 0);
    dh_buf_reset(&b);
    assert_int_equal(dh_utf16le_to_utf8(&b, raw + 1, 2), DH_OK);
    assert_buf(&b, "hi", 2);
    dh_buf_free(&b);
}

/* Unit by unit, the plain way: the oracle for the converter's block steps. */
static size_t utf16_ref(char *o, const uint16_t *u, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = u[i];
        if (c < 0x80) {
            o[k++] = (char)c;
        } else if (c < 0x800) {
            o[k++] = (char)(0xC0 | (c >> 6));
            o[k++] = (char)(0x80 | (c & 0x3F));
        } else if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && u[i + 1] >= 0xDC00 &&
                   u[i + 1] <= 0xDFFF) {
            uint32_t cp = 0x10000 + ((c - 0xD800) << 10) + (u[++i] - 0xDC00);
            o[k++] = (char)(0xF0 | (cp >> 18));
            o[k++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            o[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            o[k++] = (char)(0x80 | (cp & 0x3F));
        } else {
            if (c >= 0xD800 && c <= 0xDFFF)
                c = 0xFFFD;
            o[k++] = (char)(0xE0 | (c >> 12));
            o[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
            o[k++] = (char)(0x80 | (c & 0x3F));
        }
    }
    return k;
}

/* Every length up to 40 units (the 16-, 8- and 4-unit steps and the overlapping tails),
 * all ASCII and with one unit that is not (at every position), against the oracle. */
static void utf16_every_length_and_position(void **state)
{
    (void)state;
    static const uint16_t odd[] = {0x00E9, 0x0080, 0x0180, 0x7F00, 0x20AC, 0xD83D, 0xDE00};
    for (size_t n = 0; n <= 40; n++) {
        for (size_t pos = 0; pos <= n; pos++) { /* pos == n: all ASCII */
            for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++) {
                uint16_t u[40];
                uint8_t raw[81];
                for (size_t i = 0; i < n; i++)
                    u[i] = (uint16_t)(i == pos ? odd[k] : 0x21 + (i * 7) % 90);
                for (size_t i = 0; i < n; i++) {
                    raw[1 + 2 * i] = (uint8_t)(u[i] & 0xFF);
                    raw[2 + 2 * i] = (uint8_t)(u[i] >> 8);
                }
                char want[160];
                size_t wn = utf16_ref(want, u, n);
                dh_buf b;
                dh_buf_init(&b, BIG);
                assert_int_equal(dh_utf16le_to_utf8(&b, raw + 1, n), DH_OK); /* unaligned */
                if (b.len != wn || memcmp(b.data, want, wn))
                    fail_msg("length %zu, unit %04x at %zu", n, odd[k], pos);
                dh_buf_free(&b);
                if (pos == n)
                    break;
            }
        }
    }
}

/* The same for Windows-1252: one byte above 0x7F at every position of every length. */
static void cp1252_every_length_and_position(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 40; n++) {
        for (size_t pos = 0; pos <= n; pos++) {
            uint8_t in[40];
            for (size_t i = 0; i < n; i++)
                in[i] = (uint8_t)(i == pos ? 0xE9 : 0x21 + (i * 7) % 90);
            dh_buf b;
            dh_buf_init(&b, BIG);
            assert_int_equal(dh_cp1252_to_utf8(&b, in, n), DH_OK);
            size_t want = n + (pos < n ? 1 : 0);
            assert_int_equal(b.len, want);
            for (size_t i = 0, k = 0; i < n; i++) {
                if (i == pos) {
                    assert_memory_equal(b.data + k, "\xc3\xa9", 2);
                    k += 2;
                } else {
                    assert_int_equal((uint8_t)b.data[k++], in[i]);
                }
            }
            dh_buf_free(&b);
        }
    }
}

static void cp1252(void **state)
{
    (void)state;
    const uint8_t in[] = {'A', 0x80, 0x81, 0x9F, 0xA0, 0xE9, 0xFF, 0x8D, 0x99};
    dh_buf b;
    dh_buf_init(&b, BIG);
    assert_int_equal(dh_cp1252_to_utf8(&b, in, sizeof in), DH_OK);
    /* A, €, U+FFFD (undefined 0x81), Ÿ, NBSP, é, ÿ, U+FFFD (0x8D), ™ */
    ASSERT_BUF(&b, "A\xe2\x82\xac\xef\xbf\xbd\xc5\xb8\xc2\xa0\xc3\xa9\xc3\xbf\xef\xbf\xbd"
                   "\xe2\x84\xa2");
    dh_buf_free(&b);
}

/* ---- timefmt ---- */

static void iso(int64_t ft, const char *want)
{
    dh_buf b;
    dh_buf_init(&b, BIG);
    assert_int_equal(dh_time_put_iso(&b, ft), DH_OK);
    assert_buf(&b, want, strlen(want));
    /* And back. */
    int64_t back = 0;
    assert_int_equal(dh_time_parse_iso(b.data, b.len, &back), 0);
    assert_int_equal(back, ft);
    dh_buf_free(&b);
}

static void time_known_values(void **state)
{
    (void)state;
    iso(0, "1601-01-01T00:00:00.0000000Z");
    iso(132000000000000000LL, "2019-04-17T18:40:00.0000000Z");
    iso(DH_FILETIME_UNIX_EPOCH, "1970-01-01T00:00:00.0000000Z");
    iso(131976558123456789LL, "2019-03-21T15:30:12.3456789Z");
    iso(132274532960000000LL + 1234567, "2020-02-29T12:34:56.1234567Z");
    iso(125963424000000000LL, "2000-03-01T00:00:00.0000000Z");
    iso(2650467743999999999LL, "9999-12-31T23:59:59.9999999Z");
    iso(9999999, "1601-01-01T00:00:00.9999999Z");
    iso(864000000000LL, "1601-01-02T00:00:00.0000000Z");
}

static void time_unsigned_extremes(void **state)
{
    (void)state;
    /* FILETIME is unsigned: all ones is the latest time it can hold, and the high bit
     * alone (INT64_MIN as signed) renders without overflow. Expected values from
     * Python integer arithmetic with the proleptic Gregorian calendar. */
    dh_buf b;
    dh_buf_init(&b, BIG);
    assert_int_equal(dh_time_put_iso(&b, -1), DH_OK);
    ASSERT_BUF(&b, "60056-05-28T05:36:10.9551615Z");
    dh_buf_reset(&b);
    assert_int_equal(dh_time_put_iso(&b, INT64_MAX), DH_OK);
    ASSERT_BUF(&b, "30828-09-14T02:48:05.4775807Z");
    dh_buf_reset(&b);
    assert_int_equal(dh_time_put_iso(&b, INT64_MIN), DH_OK);
    ASSERT_BUF(&b, "30828-09-14T02:48:05.4775808Z");
    dh_buf_free(&b);
}

static void time_fields(void **state)
{
    (void)state;
    dh_buf b;
    dh_buf_init(&b, BIG);
    assert_int_equal(dh_time_put_fields(&b, 2019, 4, 17, 18, 40, 5, 123, 3), DH_OK);
    ASSERT_BUF(&b, "2019-04-17T18:40:05.123Z");
    dh_buf_reset(&b);
    assert_int_equal(dh_time_put_fields(&b, 7, 1, 2, 3, 4, 5, 0, 0), DH_OK);
    ASSERT_BUF(&b, "0007-01-02T03:04:05Z");
    dh_buf_reset(&b);
    assert_int_equal(dh_time_put_fields(&b, 2000, 1, 1, 0, 0, 0, 7, 3), DH_OK);
    ASSERT_BUF(&b, "2000-01-01T00:00:00.007Z");
    dh_buf_free(&b);

    dh_buf_init(&b, 10);
    assert_int_equal(dh_time_put_fields(&b, 2019, 4, 17, 18, 40, 5, 123, 3), DH_ERR_NOMEM);
    assert_int_equal(b.len, 0);
    dh_buf_free(&b);
}

static void parse(const char *s, int want_rc, int64_t want)
{
    int64_t ft = -12345;
    int rc = dh_time_parse_iso(s, strlen(s), &ft);
    if (want_rc == 0) {
        assert_int_equal(rc, 0);
        assert_int_equal(ft, want);
    } else {
        assert_int_not_equal(rc, 0);
    }
}

static void time_parse(void **state)
{
    (void)state;
    parse("2019-04-17T18:40:00Z", 0, 132000000000000000LL);
    parse("2019-04-17 18:40:00", 0, 132000000000000000LL);
    parse("2019-04-17T18:40:00.5Z", 0, 132000000005000000LL);
    parse("2019-04-17T18:40:00.123456789Z", 0, 132000000001234567LL); /* cut at 7 */
    parse("1970-01-01T00:00:00Z", 0, DH_FILETIME_UNIX_EPOCH);
    parse("2020-02-29T12:34:56", 0, 132274532960000000LL);
    parse("2019-04-17", -1, 0);
    parse("2019-04-17T18:40", -1, 0);
    parse("2019-13-17T18:40:00Z", -1, 0);
    parse("2019-00-17T18:40:00Z", -1, 0);
    parse("2019-04-00T18:40:00Z", -1, 0);
    parse("2019-04-17T24:00:00Z", -1, 0);
    parse("2019-04-17T18:60:00Z", -1, 0);
    parse("2019-04-17T18:40:00.Z", -1, 0);
    parse("2019-04-17T18:40:00Zjunk", -1, 0);
    parse("2019-04-17X18:40:00Z", -1, 0);
    parse("20a9-04-17T18:40:00Z", -1, 0);
    parse("", -1, 0);
    /* Length is honoured: no read past it even when the text goes on. */
    int64_t ft;
    assert_int_equal(dh_time_parse_iso("2019-04-17T18:40:00Z", 19, &ft), 0);
    assert_int_equal(ft, 132000000000000000LL);
    assert_int_not_equal(dh_time_parse_iso("2019-04-17T18:40:00Z", 18, &ft), 0);
}

/* dh_strndup: n bytes whatever they are (a NUL inside kept), terminated; an empty copy. */
static void strndup_copies_n_bytes(void **state)
{
    (void)state;
    char *d = dh_strndup("ab\0cdXYZ", 5);
    assert_non_null(d);
    assert_memory_equal(d, "ab\0cd", 6);
    free(d);
    d = dh_strndup(NULL, 0);
    assert_non_null(d);
    assert_int_equal(d[0], 0);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_append_and_cap),
        cmocka_unit_test(strndup_copies_n_bytes),
        cmocka_unit_test(format_double),
        cmocka_unit_test(buf_cap_single_big_append),
        cmocka_unit_test(buf_error_sticks),
        cmocka_unit_test(buf_grows_past_initial_block),
        cmocka_unit_test(buf_integers),
        cmocka_unit_test(utf16_basic),
        cmocka_unit_test(utf16_surrogates),
        cmocka_unit_test(utf16_fast_paths),
        cmocka_unit_test(utf16_unaligned_and_capped),
        cmocka_unit_test(cp1252),
        cmocka_unit_test(utf16_every_length_and_position),
        cmocka_unit_test(cp1252_every_length_and_position),
        cmocka_unit_test(time_known_values),
        cmocka_unit_test(time_unsigned_extremes),
        cmocka_unit_test(time_fields),
        cmocka_unit_test(time_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
