/* Unit tests for building a finding (src/findings/build.c) from plain values: rules once
 * each, first in first listed, the cap counted once per rule, undecided rules, severity
 * raised by the rules, first and last seen; processes once per id, in time order, the
 * command line else the image, the count and byte caps; the evidence cap dropping the
 * minor roles first; values cut by an owned event copy noted with their length in the log
 * (by the value's own event, by a process's records, by the finding's records); accounts
 * composed; reasons and objects once each and capped; copied text that never moves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "event/builder.h"
#include "findings/build.h"

/* A ruleset of n rules titled r0, r1... whose level cycles low, medium, high. */
static dh_ruleset *rules(size_t n)
{
    static const char *const level[] = {"low", "medium", "high"};
    dh_ruleset *rs;
    assert_int_equal(dh_ruleset_new(&rs), DH_OK);
    for (size_t i = 0; i < n; i++) {
        char text[256];
        int len = snprintf(text, sizeof text,
                           "title: r%zu\n"
                           "logsource: {category: process_creation, product: windows}\n"
                           "detection:\n"
                           "  sel: {Image|endswith: '\\x%zu.exe'}\n"
                           "  condition: sel\n"
                           "level: %s\n",
                           i, i, level[i % 3]);
        assert_true(len > 0 && (size_t)len < sizeof text);
        assert_int_equal(dh_ruleset_add_text(rs, text, (size_t)len, "t.yml", NULL, NULL), DH_OK);
    }
    assert_int_equal(dh_ruleset_finish(rs), DH_OK);
    assert_int_equal(dh_ruleset_count(rs), n);
    return rs;
}

static const dh_rule *rule(const dh_ruleset *rs, size_t i)
{
    char name[16];
    snprintf(name, sizeof name, "r%zu", i);
    const dh_rule *r = dh_ruleset_find(rs, name);
    assert_non_null(r);
    return r;
}

static void event_at(dh_event *ev, int64_t t, uint64_t record_id)
{
    dh_event_begin(ev, "t.evtx");
    dh_event_set_time(ev, t);
    dh_event_set_ids(ev, 1, record_id);
    dh_event_set_host(ev, DH_STR("HOST-A"));
}

static void rules_once_severity_and_times(void **state)
{
    (void)state;
    dh_ruleset *rs = rules(3);
    const dh_rule *low = rule(rs, 0), *medium = rule(rs, 1), *high = rule(rs, 2);
    dh_event e1, e2;
    event_at(&e1, 500, 2);
    event_at(&e2, 300, 1);
    const dh_rule *r1[] = {medium, low};
    const dh_rule *r2[] = {low, high};
    const unsigned char und2[] = {0, 1};
    dh_fb b;
    dh_fb_init(&b);
    dh_level sev = DH_LEVEL_INFORMATIONAL;
    assert_int_equal(dh_fb_record(&b, "activation", &(dh_fb_rec){&e1, 500, r1, NULL, 2}, &sev), 0);
    assert_int_equal(sev, DH_LEVEL_MEDIUM);
    assert_int_equal(dh_fb_record(&b, "child", &(dh_fb_rec){&e2, 300, r2, und2, 2}, &sev), 0);
    assert_int_equal(sev, DH_LEVEL_HIGH);
    dh_fb_rule(&b, medium); /* already there: no second entry */
    assert_int_equal(dh_fb_finish(&b), 0);
    assert_int_equal(b.f.nrules, 3);
    assert_ptr_equal(b.f.rules[0], medium);
    assert_ptr_equal(b.f.rules[1], low);
    assert_ptr_equal(b.f.rules[2], high);
    assert_int_equal(b.f.nundecided, 1);
    assert_ptr_equal(b.f.undecided[0], high);
    assert_int_equal(b.f.first_seen, 300);
    assert_int_equal(b.f.last_seen, 500);
    /* listed in time order, whatever the order they were added in */
    assert_int_equal(b.f.nevidence, 2);
    assert_ptr_equal(b.f.evidence[0].ev, &e2);
    assert_string_equal(b.f.evidence[0].role, "child");
    assert_ptr_equal(b.f.evidence[1].ev, &e1);
    assert_int_equal(b.f.rules_dropped, 0);
    assert_int_equal(b.f.ncommands, 0);
    assert_non_null(b.f.commands);
    dh_fb_free(&b);
    dh_fb_free(NULL);
    dh_ruleset_free(rs);
}

/* Past DH_FINDING_MAX_RULES, a rule is counted once however often it is seen again. */
static void rules_past_the_cap_counted_once(void **state)
{
    (void)state;
    enum { N = DH_FINDING_MAX_RULES + 4 };
    dh_ruleset *rs = rules(N);
    const dh_rule **all = calloc(N, sizeof *all);
    assert_non_null(all);
    for (size_t i = 0; i < N; i++)
        all[i] = rule(rs, i);
    dh_event e;
    event_at(&e, 100, 1);
    dh_fb b;
    dh_fb_init(&b);
    assert_int_equal(dh_fb_record(&b, "detection", &(dh_fb_rec){&e, 100, all, NULL, N}, NULL), 0);
    assert_int_equal(
        dh_fb_record(&b, "detection", &(dh_fb_rec){&e, 100, all + N - 6, NULL, 6}, NULL), 0);
    dh_fb_rule(&b, all[N - 1]);
    assert_int_equal(dh_fb_finish(&b), 0);
    assert_int_equal(b.f.nrules, DH_FINDING_MAX_RULES);
    assert_ptr_equal(b.f.rules[DH_FINDING_MAX_RULES - 1], all[DH_FINDING_MAX_RULES - 1]);
    assert_int_equal(b.f.rules_dropped, 4);
    dh_fb_free(&b);
    free(all);
    dh_ruleset_free(rs);
}

static void processes_once_in_time_order(void **state)
{
    (void)state;
    dh_fb b;
    dh_fb_init(&b);
    /* a node seen twice (two sensors' claims) is listed once */
    dh_fb_proc late = {.id = 7, .cmdline = DH_STR("cmd.exe /c late"), .t = 900};
    dh_fb_proc early = {.id = 3, .image = DH_STR("C:\\w\\calc.exe"), .t = 100};
    dh_fb_proc tie_b = {.id = 4, .cmdline = DH_STR("b"), .t = 500, .has_seq = 1, .seq = 20};
    dh_fb_proc tie_a = {.id = 5, .cmdline = DH_STR("a"), .t = 500, .has_seq = 1, .seq = 10};
    dh_fb_proc nothing = {.id = 8, .t = 50}; /* no command line, no image: not listed */
    dh_fb_proc record = {.id = -1, .cmdline = DH_STR("one record"), .t = 700};
    assert_int_equal(dh_fb_process(&b, DH_FB_COMMANDS, &late), 0);
    assert_int_equal(dh_fb_process(&b, DH_FB_COMMANDS, &early), 0);
    assert_int_equal(dh_fb_process(&b, DH_FB_COMMANDS, &late), 0);
    assert_int_equal(dh_fb_process(&b, DH_FB_COMMANDS, &tie_b), 0);
    assert_int_equal(dh_fb_process(&b, DH_FB_COMMANDS, &tie_a), 0);
    assert_int_equal(dh_fb_process(&b, DH_FB_COMMANDS, &nothing), 0);
    assert_int_equal(dh_fb_process(&b, DH_FB_COMMANDS, &record), 0);
    assert_int_equal(dh_fb_process(&b, DH_FB_COMMANDS, &record), 0); /* no id: both listed */
    /* the same id in another list is another entry */
    assert_int_equal(dh_fb_process(&b, DH_FB_SERVERS, &late), 0);
    assert_int_equal(dh_fb_process(&b, DH_FB_SESSION, &early), 0);
    assert_int_equal(dh_fb_finish(&b), 0);
    static const char *const want[] = {"C:\\w\\calc.exe", "a",          "b",
                                       "one record",      "one record", "cmd.exe /c late"};
    assert_int_equal(b.f.ncommands, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(b.f.commands[i].len, strlen(want[i]));
        assert_memory_equal(b.f.commands[i].ptr, want[i], strlen(want[i]));
    }
    assert_int_equal(b.f.nservers, 1);
    assert_int_equal(b.f.nsession_commands, 1);
    assert_int_equal(b.f.commands_dropped, 0);
    assert_int_equal(b.f.ncuts, 0);
    dh_fb_free(&b);
}

/* The count cap per list, and the byte cap over the three lists together. */
static void processes_past_the_caps_counted(void **state)
{
    (void)state;
    dh_fb b;
    dh_fb_init(&b);
    for (int64_t i = 0; i < DH_FINDING_MAX_COMMANDS + 3; i++) {
        dh_fb_proc p = {.id = i, .cmdline = DH_STR("x"), .t = DH_FINDING_MAX_COMMANDS - i};
        assert_int_equal(dh_fb_process(&b, DH_FB_COMMANDS, &p), 0);
    }
    assert_int_equal(dh_fb_finish(&b), 0);
    assert_int_equal(b.f.ncommands, DH_FINDING_MAX_COMMANDS);
    assert_int_equal(b.f.commands_dropped, 3);
    dh_fb_free(&b);

    /* 64 values of 128 KiB fill the 8 MiB exactly: the 65th goes, whichever list */
    char *big = malloc(DH_VALUE_CAP);
    assert_non_null(big);
    memset(big, 'a', DH_VALUE_CAP);
    dh_fb_init(&b);
    for (int64_t i = 0; i < 65; i++) {
        dh_fb_proc p = {.id = i, .cmdline = {big, DH_VALUE_CAP}, .t = i};
        assert_int_equal(dh_fb_process(&b, i < 40 ? DH_FB_COMMANDS : DH_FB_SERVERS, &p), 0);
    }
    assert_int_equal(dh_fb_finish(&b), 0);
    assert_int_equal(b.f.ncommands, 40);
    assert_int_equal(b.f.nservers, 24);
    assert_int_equal(b.f.commands_dropped, 1);
    assert_int_equal(b.f.ncuts, 0); /* at the cap, but no owned copy cut them */
    dh_fb_free(&b);
    free(big);
}

/* Past DH_FINDING_MAX_EVIDENCE, the minor roles go first. */
static void evidence_past_the_cap(void **state)
{
    (void)state;
    enum { N = DH_FINDING_MAX_EVIDENCE + 5 };
    dh_event *evs = calloc(N, sizeof *evs);
    assert_non_null(evs);
    dh_fb b;
    dh_fb_init(&b);
    for (size_t i = 0; i < N; i++) {
        event_at(&evs[i], (int64_t)(N - i), i + 1);
        const char *role = i < 5 ? "child" : "activation";
        assert_int_equal(
            dh_fb_record(&b, role, &(dh_fb_rec){&evs[i], (int64_t)(N - i), NULL, NULL, 0}, NULL),
            0);
    }
    assert_int_equal(dh_fb_finish(&b), 0);
    assert_int_equal(b.f.nevidence, DH_FINDING_MAX_EVIDENCE);
    assert_int_equal(b.f.evidence_dropped, 5);
    for (size_t i = 0; i < b.f.nevidence; i++)
        assert_string_equal(b.f.evidence[i].role, "activation");
    assert_int_equal(dh_event_time(b.f.evidence[0].ev), 1);
    /* the finding's time is all of its records', listed or not */
    assert_int_equal(b.f.first_seen, 1);
    assert_int_equal(b.f.last_seen, N);
    dh_fb_free(&b);
    free(evs);
}

/* An owned copy of an event whose command line and host are longer than DH_VALUE_CAP. */
static dh_event *cut_copy(size_t len, char **text)
{
    *text = malloc(len);
    assert_non_null(*text);
    memset(*text, 'c', len);
    dh_event ev;
    event_at(&ev, 100, 1);
    dh_event_set_host(&ev, (dh_str){*text, len});
    dh_event_set_field(&ev, DH_FIELD_COMMAND_LINE, (dh_str){*text, len});
    dh_event_set_field(&ev, DH_FIELD_USER, DH_STR("CORP\\alice"));
    dh_buf buf;
    dh_buf_init(&buf, 1u << 24);
    assert_int_equal(dh_event_pack(&ev, 0, &buf), DH_OK);
    size_t used = 0;
    dh_event *copy = dh_event_unpack(buf.data, buf.len, &used);
    assert_non_null(copy);
    dh_buf_free(&buf);
    return copy;
}

static void cut_values_noted(void **state)
{
    (void)state;
    char *text;
    size_t len = DH_VALUE_CAP + 10;
    dh_event *copy = cut_copy(len, &text);
    dh_str cmd = {"", 0}, user = {"", 0};
    assert_int_equal(dh_event_field(copy, DH_FIELD_COMMAND_LINE, &cmd), 1);
    assert_int_equal(dh_event_field(copy, DH_FIELD_USER, &user), 1);
    assert_int_equal(cmd.len, DH_VALUE_CAP);
    dh_fb b;
    dh_fb_init(&b);
    assert_int_equal(dh_fb_record(&b, "activation", &(dh_fb_rec){copy, 100, NULL, NULL, 0}, NULL),
                     0);
    /* a value whole, a value cut (its event given, then found among the records) */
    b.f.user = dh_fb_value(&b, "user", user, copy);
    b.f.target_host = dh_fb_value(&b, "target_host", dh_event_host(copy), copy);
    b.f.source_host = dh_fb_value(&b, "source_host", dh_event_host(copy), NULL);
    assert_int_equal(b.f.target_host.len, DH_VALUE_CAP);
    assert_true(dh_fb_value(&b, "clsid", (dh_str){NULL, 0}, NULL).ptr != NULL);
    /* a process known by one record; by its records; by the finding's records */
    const dh_event *recs[] = {copy};
    dh_fb_proc one = {.id = -1, .cmdline = cmd, .t = 1, .one = copy};
    dh_fb_proc node = {.id = 1, .cmdline = cmd, .t = 2, .recs = recs, .nrecs = 1};
    dh_fb_proc bare = {.id = 2, .cmdline = cmd, .t = 3};
    assert_int_equal(dh_fb_process(&b, DH_FB_COMMANDS, &one), 0);
    assert_int_equal(dh_fb_process(&b, DH_FB_COMMANDS, &node), 0);
    assert_int_equal(dh_fb_process(&b, DH_FB_SERVERS, &bare), 0);
    assert_int_equal(dh_fb_finish(&b), 0);
    static const struct {
        const char *value;
        size_t index;
    } want[] = {
        {"target_host", 0}, {"source_host", 0}, {"commands", 0}, {"commands", 1}, {"servers", 0}};
    assert_int_equal(b.f.ncuts, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(b.f.cuts[i].value, want[i].value);
        assert_int_equal(b.f.cuts[i].index, want[i].index);
        assert_int_equal(b.f.cuts[i].length, len);
        assert_int_equal(b.f.cuts[i].kept, DH_VALUE_CAP);
    }
    dh_fb_free(&b);
    dh_event_free(copy);
    free(text);
}

static void accounts_composed(void **state)
{
    (void)state;
    dh_event ev;
    event_at(&ev, 1, 1);
    dh_event_set_field(&ev, DH_FIELD_TARGET_DOMAIN_NAME, DH_STR("CORP"));
    dh_event_set_field(&ev, DH_FIELD_TARGET_USER_NAME, DH_STR("bob"));
    dh_event_set_field(&ev, DH_FIELD_USER, DH_STR("CORP\\alice"));
    dh_fb b;
    dh_fb_init(&b);
    dh_str u = dh_fb_account(&b, &ev, DH_FIELD_TARGET_DOMAIN_NAME, DH_FIELD_TARGET_USER_NAME);
    assert_int_equal(u.len, 8);
    assert_memory_equal(u.ptr, "CORP\\bob", 8);
    /* the generic user field is already DOMAIN\name */
    u = dh_fb_account(&b, &ev, DH_FIELD_TARGET_DOMAIN_NAME, DH_FIELD_USER);
    assert_int_equal(u.len, 10);
    assert_memory_equal(u.ptr, "CORP\\alice", 10);
    /* no domain ("-"): the name alone */
    dh_event_set_field(&ev, DH_FIELD_TARGET_DOMAIN_NAME, DH_STR("-"));
    u = dh_fb_account(&b, &ev, DH_FIELD_TARGET_DOMAIN_NAME, DH_FIELD_TARGET_USER_NAME);
    assert_int_equal(u.len, 3);
    assert_memory_equal(u.ptr, "bob", 3);
    assert_int_equal(dh_fb_finish(&b), 0);
    assert_int_equal(b.f.ncuts, 0);
    dh_fb_free(&b);
}

static void reasons_objects_and_text(void **state)
{
    (void)state;
    dh_fb b;
    dh_fb_init(&b);
    char src[] = "grouped by Host";
    const char *copy = dh_fb_text(&b, src, strlen(src));
    src[0] = 'X';
    assert_string_equal(copy, "grouped by Host");
    char *big = malloc(10000);
    assert_non_null(big);
    memset(big, 'b', 10000);
    const char *long_copy = dh_fb_text(&b, big, 10000);
    const char *after = dh_fb_text(&b, "after", 5);
    free(big);
    assert_int_equal(strlen(long_copy), 10000);
    assert_string_equal(after, "after");
    assert_string_equal(copy, "grouped by Host"); /* text never moves */
    dh_fb_reason(&b, copy);
    dh_fb_reason(&b, "grouped by Host"); /* the same words: once */
    char words[DH_FB_MAX_REASONS + 5][8];
    for (int i = 0; i < DH_FB_MAX_REASONS + 5; i++) {
        snprintf(words[i], sizeof words[i], "r%d", i);
        dh_fb_reason(&b, dh_fb_text(&b, words[i], strlen(words[i])));
    }
    char names[DH_FB_MAX_OBJECTS + 4][8];
    for (int i = 0; i < DH_FB_MAX_OBJECTS + 4; i++) {
        snprintf(names[i], sizeof names[i], "o%d", i);
        dh_fb_object(&b, (dh_finding_object){names[i], "", "", ""});
    }
    dh_fb_object(&b, (dh_finding_object){"o0", "{other}", "", ""});
    assert_int_equal(dh_fb_finish(&b), 0);
    assert_int_equal(b.f.nreasons, DH_FB_MAX_REASONS);
    assert_string_equal(b.f.reasons[0], "grouped by Host");
    assert_string_equal(b.f.reasons[1], "r0");
    assert_int_equal(b.f.nobjects, DH_FB_MAX_OBJECTS);
    assert_string_equal(b.f.objects[0].name, "o0");
    assert_string_equal(b.f.objects[0].clsid, "");
    dh_fb_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rules_once_severity_and_times),
        cmocka_unit_test(rules_past_the_cap_counted_once),
        cmocka_unit_test(processes_once_in_time_order),
        cmocka_unit_test(processes_past_the_caps_counted),
        cmocka_unit_test(evidence_past_the_cap),
        cmocka_unit_test(cut_values_noted),
        cmocka_unit_test(accounts_composed),
        cmocka_unit_test(reasons_objects_and_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
