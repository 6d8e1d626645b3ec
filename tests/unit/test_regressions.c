/* Regression tests for bugs found in src/ by the test suite and the fuzzer. Each case
 * names the bug; the suite fails until the fix lands (and then guards it). Data reproducers live
 * under tests/data/ (fuzz-crashes/ replays through the fuzz target). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/timefmt.h"
#include "core/utf16.h"
#include "input/evtx/evtx.h"
#include "output/json.h"

/* Fixed in b963630. dh_buf_reserve(b, 0) on a buffer that never held anything returns b->data +
 * b->len, i.e. NULL + 0 (undefined behaviour), which every caller reads as "out of memory": an
 * empty string or an empty binary value fails with DH_ERR_NOMEM when it is the first
 * thing written to a fresh buffer. */
static void empty_conversions_on_fresh_buffer(void **state)
{
    (void)state;
    dh_buf b;
    dh_buf_init(&b, 1024);
    assert_int_equal(dh_utf16le_to_utf8(&b, (const uint8_t *)"", 0), DH_OK);
    assert_int_equal(dh_cp1252_to_utf8(&b, (const uint8_t *)"", 0), DH_OK);
    assert_int_equal(evtx_value_text(&b, 0x0e, (const uint8_t *)"", 0), DH_OK);
    assert_int_equal(evtx_value_text(&b, 0x01, (const uint8_t *)"", 0), DH_OK);
    assert_int_equal(b.len, 0);
    dh_buf_free(&b);
}

static void reserve_zero_is_not_failure(void **state)
{
    (void)state;
    dh_buf b;
    dh_buf_init(&b, 1024);
    assert_non_null(dh_buf_reserve(&b, 0));
    dh_buf_free(&b);
}

/* A FILETIME value (type 0x11) of 0x8000000000000000 reaches dh_time_put_iso as INT64_MIN:
 * `-ft` and `ft - secs * 10000000` overflow (timefmt.c:92-93, found by the fuzzer under
 * UBSan). Fixed in b963630: FILETIME is unsigned. */
static void filetime_int64_min(void **state)
{
    (void)state;
    dh_buf b;
    dh_buf_init(&b, 1024);
    const uint8_t v[8] = {0, 0, 0, 0, 0, 0, 0, 0x80};
    assert_int_equal(evtx_value_text(&b, 0x11, v, 8), DH_OK);
    assert_int_equal(b.len, 29);
    assert_memory_equal(b.data, "30828-09-14T02:48:05.4775808Z", 29);
    dh_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_conversions_on_fresh_buffer),
        cmocka_unit_test(reserve_zero_is_not_failure),
        cmocka_unit_test(filetime_int64_min),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
