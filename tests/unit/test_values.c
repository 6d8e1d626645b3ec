/* Unit tests for BinXML substitution values to text (src/input/evtx/values.c): every
 * scalar type, the GUID byte order, SIDs, times, hex, arrays, and values whose length does
 * not fit their type (rendered as hex bytes, never read past). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "input/evtx/evtx.h"

static void val(uint8_t type, const void *p, size_t len, const char *want)
{
    dh_buf b;
    dh_buf_init(&b, 1u << 20);
    /* Exact-size heap copy so a read past len would be an ASan error. */
    uint8_t *copy = test_malloc(len ? len : 1);
    memcpy(copy, p, len);
    assert_int_equal(evtx_value_text(&b, type, copy, len), DH_OK);
    if (b.len != strlen(want) || (b.len && memcmp(b.data, want, b.len) != 0))
        fail_msg("type 0x%02x (%zu bytes): got [%.*s], want [%s]", type, len, (int)b.len,
                 b.data ? b.data : "", want);
    test_free(copy);
    dh_buf_free(&b);
}
#define VAL(type, lit, want) val((type), (lit), sizeof(lit) - 1, (want))

static void v_null_and_strings(void **state)
{
    (void)state;
    val(0x00, "", 0, "");
    VAL(0x01, "m\0m\0c\0.\0e\0x\0e\0", "mmc.exe");
    VAL(0x01, "a\0b\0\0\0\0\0", "ab"); /* terminators trimmed */
    VAL(0x01, "\xe9\0\x3d\xd8\x00\xde", "\xc3\xa9\xf0\x9f\x98\x80");
    VAL(0x01, "a\0\x3d\xd8", "a\xef\xbf\xbd");
    VAL(0x01, "a\0b", "a"); /* odd byte count: the half unit is dropped */
    VAL(0x02, "caf\xe9\0", "caf\xc3\xa9");
    VAL(0x02, "\x80\x81", "\xe2\x82\xac\xef\xbf\xbd");
}

static void v_integers(void **state)
{
    (void)state;
    VAL(0x03, "\xff", "-1");
    VAL(0x03, "\x7f", "127");
    VAL(0x04, "\xff", "255");
    VAL(0x05, "\x00\x80", "-32768");
    VAL(0x06, "\xff\xff", "65535");
    VAL(0x06, "\x50\x12", "4688");
    VAL(0x07, "\x00\x00\x00\x80", "-2147483648");
    VAL(0x07, "\x03\x00\x00\x00", "3");
    VAL(0x08, "\xff\xff\xff\xff", "4294967295");
    VAL(0x08, "\x39\x26\x00\x00", "9785");
    VAL(0x09, "\x00\x00\x00\x00\x00\x00\x00\x80", "-9223372036854775808");
    VAL(0x09, "\xfe\xff\xff\xff\xff\xff\xff\xff", "-2");
    VAL(0x0a, "\xff\xff\xff\xff\xff\xff\xff\xff", "18446744073709551615");
    VAL(0x0a, "\x78\x32\x07\x00\x00\x00\x00\x00", "471672");
}

static void v_floats_and_bool(void **state)
{
    (void)state;
    VAL(0x0b, "\x00\x00\xc0\x3f", "1.5");                 /* float 1.5 */
    VAL(0x0b, "\x00\x00\x20\xc1", "-10");                 /* float -10 */
    VAL(0x0c, "\x00\x00\x00\x00\x00\x00\x04\x40", "2.5"); /* double 2.5 */
    VAL(0x0c, "\x00\x00\x00\x00\x00\x00\x00\x00", "0");
    /* The shortest text that reads back as the same value, never %.17g's noise. */
    VAL(0x0c, "\x87\x16\xd9\xce\x77\xfe\xa8\x40", "3199.234");
    VAL(0x0c, "\x9a\x99\x99\x99\x99\x99\xb9\x3f", "0.1");
    VAL(0x0c, "\x55\x55\x55\x55\x55\x55\xd5\x3f", "0.3333333333333333");
    VAL(0x0c, "\x9c\x75\x00\x88\x3c\xe4\x37\x7e", "1e+300");
    VAL(0x0c, "\x01\x00\x00\x00\x00\x00\x00\x00", "5e-324");
    VAL(0x0c, "\x00\x00\x00\x00\x00\x00\x00\x80", "-0");
    VAL(0x0b, "\xcd\xcc\xcc\x3d", "0.1"); /* float 0.1: not 0.100000001 */
    VAL(0x0b, "\xd0\x0f\x49\x40", "3.14159");
    VAL(0x0c, "\x00\x00\x00\x00\x00\x00\x34\x43", "5629499534213120"); /* 2^52 * 1.25 */
    VAL(0x0c, "\x00\x00\x00\x00\x00\x00\x4e\x40", "60");
    VAL(0x0d, "\x01\x00\x00\x00", "true");
    VAL(0x0d, "\x00\x00\x00\x00", "false");
    VAL(0x0d, "\x00\x00\x00\x01", "true"); /* any non-zero */
}

static void v_binary_guid_hex(void **state)
{
    (void)state;
    VAL(0x0e, "\xde\xad\x0b\xef", "DEAD0BEF");
    /* {49B2791A-B1AE-4C90-9B8E-E860BA07F889} is MMC20.Application's CLSID: Data1..Data3
     * little-endian on disk, Data4 as stored. */
    VAL(0x0f, "\x1a\x79\xb2\x49\xae\xb1\x90\x4c\x9b\x8e\xe8\x60\xba\x07\xf8\x89",
        "{49B2791A-B1AE-4C90-9B8E-E860BA07F889}");
    VAL(0x0f, "\x33\x22\x11\x00\x55\x44\x77\x66\x88\x99\xaa\xbb\xcc\xdd\xee\xff",
        "{00112233-4455-6677-8899-AABBCCDDEEFF}");
    VAL(0x10, "\xc6\xa3\x1e\x00", "0x1ea3c6");
    VAL(0x10, "\x00\x00\x00\x00\x01\x00\x00\x00", "0x100000000");
    VAL(0x14, "\xc6\xa3\x1e\x00", "0x1ea3c6");
    VAL(0x14, "\x00\x00\x00\x00", "0x0");
    VAL(0x14, "\x7e\x95\x42\x05", "0x542957e"); /* a logon id from the corpus */
    VAL(0x15, "\xef\xbe\xad\xde\x00\x00\x00\x00", "0xdeadbeef");
    VAL(0x15, "\xff\xff\xff\xff\xff\xff\xff\xff", "0xffffffffffffffff");
}

static void v_times(void **state)
{
    (void)state;
    /* 132000000000000000 = 0x01D4F54CF65A0000 -> 2019-04-17T18:40:00 (Python datetime). */
    VAL(0x11, "\x00\x00\x5a\xf6\x4c\xf5\xd4\x01", "2019-04-17T18:40:00.0000000Z");
    VAL(0x11, "\x00\x00\x00\x00\x00\x00\x00\x00", "1601-01-01T00:00:00.0000000Z");
    /* SYSTEMTIME: year, month, day of week, day, hour, minute, second, milliseconds. */
    VAL(0x12, "\xe3\x07\x04\x00\x03\x00\x11\x00\x12\x00\x28\x00\x05\x00\x7b\x00",
        "2019-04-17T18:40:05.123Z");
}

static void v_sids(void **state)
{
    (void)state;
    VAL(0x13, "\x01\x01\x00\x00\x00\x00\x00\x05\x12\x00\x00\x00", "S-1-5-18");
    VAL(0x13,
        "\x01\x05\x00\x00\x00\x00\x00\x05\x15\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00"
        "\x03\x00\x00\x00\xf4\x01\x00\x00",
        "S-1-5-21-1-2-3-500");
    VAL(0x13, "\x01\x00\x00\x00\x00\x00\x00\x01", "S-1-1"); /* no sub-authority */
    /* Sub-authority count says 2 but only one is there: hex, no over-read. */
    VAL(0x13, "\x01\x02\x00\x00\x00\x00\x00\x05\x12\x00\x00\x00", "010200000000000512000000");
    VAL(0x13, "\x01\x01", "0101");
}

static void v_wrong_sizes_are_hex(void **state)
{
    (void)state;
    VAL(0x08, "\x01\x02\x03", "010203");
    VAL(0x06, "\x01", "01");
    VAL(0x0a, "\x01\x02\x03\x04", "01020304");
    VAL(0x0f, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", /* 15 bytes */
        "0102030405060708090A0B0C0D0E0F");
    VAL(0x11, "\x01\x02\x03\x04", "01020304");
    VAL(0x12, "\xe3\x07\x04\x00", "E3070400");
    VAL(0x0d, "\x01", "01");
    /* An unknown type is hex too. */
    VAL(0x77, "\xab\xcd", "ABCD");
}

static void v_arrays(void **state)
{
    (void)state;
    VAL(0x81, "a\0b\0\0\0c\0d\0\0\0", "ab, cd");
    VAL(0x81, "a\0\0\0\0\0b\0\0\0", "a, , b"); /* an empty element is kept */
    VAL(0x82, "one\0two\0", "one, two");
    VAL(0x84, "\x01\x02\xff", "1, 2, 255");
    VAL(0x86, "\x01\x00\x02\x00", "1, 2");
    VAL(0x88, "\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00", "1, 2, 3");
    VAL(0x87, "\xff\xff\xff\xff\x05\x00\x00\x00", "-1, 5");
    VAL(0x94, "\x01\x00\x00\x00\xff\x00\x00\x00", "0x1, 0xff");
    VAL(0x8d, "\x01\x00\x00\x00\x00\x00\x00\x00", "true, false");
    VAL(0x8f,
        "\x1a\x79\xb2\x49\xae\xb1\x90\x4c\x9b\x8e\xe8\x60\xba\x07\xf8\x89"
        "\x33\x22\x11\x00\x55\x44\x77\x66\x88\x99\xaa\xbb\xcc\xdd\xee\xff",
        "{49B2791A-B1AE-4C90-9B8E-E860BA07F889}, {00112233-4455-6677-8899-AABBCCDDEEFF}");
    VAL(0x93,
        "\x01\x01\x00\x00\x00\x00\x00\x05\x12\x00\x00\x00"
        "\x01\x02\x00\x00\x00\x00\x00\x05\x20\x00\x00\x00\x20\x02\x00\x00",
        "S-1-5-18, S-1-5-32-544");
    VAL(0x91, "\x00\x00\x5a\xf6\x4c\xf5\xd4\x01\x00\x00\x00\x00\x00\x00\x00\x00",
        "2019-04-17T18:40:00.0000000Z, 1601-01-01T00:00:00.0000000Z");
    /* A partial trailing element is dropped, not read past. */
    VAL(0x88, "\x01\x00\x00\x00\x02\x00", "1");
    val(0x88, "", 0, "");
    assert_int_equal(evtx_array_count(0x88, (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0", 10), 2);
    assert_int_equal(evtx_array_count(0x81, (const uint8_t *)"a\0\0\0b\0\0\0", 8), 2);
    const uint8_t *ip;
    size_t il;
    const uint8_t arr[] = "x\0\0\0yz\0\0\0";
    assert_int_equal(evtx_array_item(0x81, arr, 8, 1, &ip, &il), 1);
    assert_ptr_equal(ip, arr + 4);
    assert_int_equal(il, 2); /* "yz" is one UTF-16 unit */
    assert_int_equal(evtx_array_item(0x81, arr, 8, 2, &ip, &il), 0);
    /* One more terminator makes a third, empty element. */
    assert_int_equal(evtx_array_item(0x81, arr, 10, 2, &ip, &il), 1);
    assert_int_equal(il, 0);
    assert_int_equal(evtx_array_item(0x88, arr, 10, 2, &ip, &il), 0);
    /* The iterator gives the same elements in order, and stops where item() does. */
    const uint8_t sids[] = "\x01\x01\x00\x00\x00\x00\x00\x05\x12\x00\x00\x00"
                           "\x01\x02\x00\x00\x00\x00\x00\x05\x20\x00\x00\x00\x20\x02\x00\x00\x01";
    const struct {
        uint8_t type;
        const uint8_t *p;
        size_t len;
    } arrays[] = {{0x81, arr, 8},  {0x81, arr, 10}, {0x81, arr, 9},   {0x82, arr, 10},
                  {0x88, arr, 10}, {0x88, arr, 7},  {0x93, sids, 29}, {0x93, sids, 3}};
    for (size_t a = 0; a < sizeof arrays / sizeof arrays[0]; a++) {
        size_t pos = 0, k = 0, n = evtx_array_count(arrays[a].type, arrays[a].p, arrays[a].len);
        const uint8_t *jp;
        size_t jl;
        while (evtx_array_next(arrays[a].type, arrays[a].p, arrays[a].len, &pos, &ip, &il)) {
            assert_int_equal(
                evtx_array_item(arrays[a].type, arrays[a].p, arrays[a].len, k, &jp, &jl), 1);
            assert_ptr_equal(ip, jp);
            assert_int_equal(il, jl);
            k++;
        }
        assert_int_equal(k, n);
    }
}

static void v_respects_cap(void **state)
{
    (void)state;
    dh_buf b;
    dh_buf_init(&b, 8);
    const uint8_t guid[16] = {0};
    assert_int_equal(evtx_value_text(&b, 0x0f, guid, 16), DH_ERR_NOMEM);
    assert_int_equal(b.len, 0);
    dh_buf_reset(&b); /* the failure sticks until the buffer is reset */
    assert_int_not_equal(evtx_value_text(&b, 0x0e, guid, 16), DH_OK);
    assert_int_equal(b.len, 0);
    dh_buf_reset(&b);
    assert_int_equal(evtx_value_text(&b, 0x0e, guid, 4), DH_OK);
    assert_int_equal(b.len, 8);
    dh_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v_null_and_strings),
        cmocka_unit_test(v_integers),
        cmocka_unit_test(v_floats_and_bool),
        cmocka_unit_test(v_binary_guid_hex),
        cmocka_unit_test(v_times),
        cmocka_unit_test(v_sids),
        cmocka_unit_test(v_wrong_sizes_are_hex),
        cmocka_unit_test(v_arrays),
        cmocka_unit_test(v_respects_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
