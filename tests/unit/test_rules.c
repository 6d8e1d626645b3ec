/* Unit tests of the matcher's handling of the regular-expression engine: a miss, a limit
 * and a failure of the engine are three different things (src/rules/match.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rules/sigma.h"

/* Every pcre2_match outcome lands in its class: a failure of the engine is neither a miss
 * (which would hide an event) nor a limit (which is a property of the pattern). */
static void re_outcome_classes(void **state)
{
    (void)state;
    assert_int_equal(sigma_re_outcome(1), 1);
    assert_int_equal(sigma_re_outcome(0), 1); /* ovector too small: still a match */
    assert_int_equal(sigma_re_outcome(PCRE2_ERROR_NOMATCH), 0);
    assert_int_equal(sigma_re_outcome(PCRE2_ERROR_MATCHLIMIT), 2);
    assert_int_equal(sigma_re_outcome(PCRE2_ERROR_DEPTHLIMIT), 2);
    assert_int_equal(sigma_re_outcome(PCRE2_ERROR_HEAPLIMIT), 2);
    assert_int_equal(sigma_re_outcome(PCRE2_ERROR_JIT_STACKLIMIT), 2);
    assert_int_equal(sigma_re_outcome(PCRE2_ERROR_NOMEMORY), SIGMA_RE_ERROR);
    assert_int_equal(sigma_re_outcome(PCRE2_ERROR_INTERNAL), SIGMA_RE_ERROR);
    assert_int_equal(sigma_re_outcome(PCRE2_ERROR_BADOFFSET), SIGMA_RE_ERROR);
    assert_int_equal(sigma_re_outcome(PCRE2_ERROR_PARTIAL), SIGMA_RE_ERROR);
}

/* A fresh matcher has seen no failure, and says so without a message. */
static void regex_errors_start_at_zero(void **state)
{
    (void)state;
    static const char rule[] = "title: t\n"
                               "logsource: {category: process_creation, product: windows}\n"
                               "detection:\n"
                               "  sel: {CommandLine|re: '(a+)+$'}\n"
                               "  condition: sel\n";
    dh_ruleset *rs;
    assert_int_equal(dh_ruleset_new(&rs), DH_OK);
    assert_int_equal(dh_ruleset_add_text(rs, rule, sizeof rule - 1, "t.yml", NULL, NULL), DH_OK);
    assert_int_equal(dh_ruleset_finish(rs), DH_OK);
    dh_matcher *m;
    assert_int_equal(dh_matcher_new(rs, &m), DH_OK);
    char msg[128] = "x";
    assert_int_equal(dh_matcher_regex_errors(m, msg, sizeof msg), 0);
    assert_string_equal(msg, "");
    assert_int_equal(dh_matcher_regex_errors(m, NULL, 0), 0);
    dh_matcher_free(m);
    dh_ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(re_outcome_classes),
        cmocka_unit_test(regex_errors_start_at_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
