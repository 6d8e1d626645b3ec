/* Unit tests for the scores of attempts, source activity, local activations and signals
 * (src/findings/score.c) and for finding ids (src/findings/ids.c). The ids are checked
 * against the ones `dcomhunt hunt --jsonl` prints for findings of the shared corpus (the
 * anchor's values copied from the finding's evidence), so a change to the bytes hashed
 * shows here before it moves the ids users keep in tuning files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "event/builder.h"
#include "findings/ids.h"
#include "findings/score.h"

/* 2019-08-03T12:32:36.7947937Z and 2020-02-28T22:35:55.9102741Z as FILETIME ticks */
#define T_UACME 132093091567947937LL
#define T_10016 132274029559102741LL

static const char *const R_10016 =
    "remote DCOM launch or activation refused (System 10016 with a network address)";
static const char *const R_10036 = "remote DCOM activation rejected by the authentication-level "
                                   "hardening (System 10036 with a network address)";
static const char *const R_CLASS = "the class is one used for lateral movement";
static const char *const R_NAMES = "the source host's own telemetry names the target";
static const char *const R_SCRIPT =
    "a script block on this host activates a COM object on the target";
static const char *const R_CMDLINE =
    "a command line on this host activates a COM object on the target";
static const char *const R_FAILURE =
    "DCOM could not reach the named computer (System 10028 on the source)";
static const char *const R_RPC =
    "an outbound RPC connection to the target's endpoint mapper (port 135)";
static const char *const R_4648 = "explicit credentials used for the target (Security 4648)";
static const char *const R_OBJECT = "the object named is one used for lateral movement";
static const char *const R_NOTHING = "nothing from the target explains it: the target's "
                                     "telemetry is missing, or the activation failed";

static void reasons_are(const dh_score *s, const char *const *want, size_t n)
{
    assert_int_equal(s->nreasons, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(s->reasons[i], want[i]);
}

/* ---- ids ---------------------------------------------------------------------------------- */

/* The signal of Sysmon_UACME_36_FileCreate.evtx (record 5498, Sysmon 1 on MSEDGEWIN10) and
 * the first attempt of LM_dcom_shwnd_shbrwnd_mmc20_failed_traces_system_10016.evtx (record
 * 4451, System 10016): the ids hunt prints for them. */
static void finding_ids_match_the_corpus(void **state)
{
    (void)state;
    char id[DH_ID_SIZE];
    dh_id_anchor sig = {DH_STR("MSEDGEWIN10"), DH_STR("Microsoft-Windows-Sysmon/Operational"), 5498,
                        T_UACME, 1};
    dh_id_finding(id, "signal", &sig);
    assert_string_equal(id, "83424f03b036b627");
    dh_id_anchor att = {DH_STR("MSEDGEWIN10"), DH_STR("System"), 4451, T_10016, 10016};
    dh_id_finding(id, "attempt", &att);
    assert_string_equal(id, "545e78802d9029b4");

    /* host and channel however a log spells them */
    dh_id_anchor low = att;
    low.host = DH_STR("msedgewin10");
    low.channel = DH_STR("SYSTEM");
    dh_id_finding(id, "attempt", &low);
    assert_string_equal(id, "545e78802d9029b4");
    /* every other value moves it: the kind, the record, the time, the event id */
    dh_id_finding(id, "signal", &att);
    assert_string_not_equal(id, "545e78802d9029b4");
    dh_id_anchor other = att;
    other.record_id = 4452;
    dh_id_finding(id, "attempt", &other);
    assert_string_not_equal(id, "545e78802d9029b4");
    other = att;
    other.time++;
    dh_id_finding(id, "attempt", &other);
    assert_string_not_equal(id, "545e78802d9029b4");
    other = att;
    other.event_id = 10036;
    dh_id_finding(id, "attempt", &other);
    assert_string_not_equal(id, "545e78802d9029b4");
    other = att;
    other.host = DH_STR("MSEDGEWIN1");
    dh_id_finding(id, "attempt", &other);
    assert_string_not_equal(id, "545e78802d9029b4");

    /* no anchor: the kind alone (FNV-1a 64 of "lateral_movement") */
    dh_id_finding(id, "lateral_movement", NULL);
    assert_string_equal(id, "46d4f9d154c13646");
    assert_int_equal(strlen(id), 16);
}

/* An event's anchor values are its envelope's: the same id as the values written out. */
static void anchor_of_an_event(void **state)
{
    (void)state;
    dh_event_builder b;
    dh_event_builder_init(&b);
    dh_event *ev = dh_event_builder_ev(&b);
    dh_event_set_host(ev, DH_STR("MSEDGEWIN10"));
    dh_event_set_channel(ev, DH_STR("Microsoft-Windows-Sysmon/Operational"));
    dh_event_set_ids(ev, 1, 5498);
    dh_event_set_time(ev, T_UACME);
    dh_id_anchor a = dh_id_anchor_of(dh_event_builder_event(&b));
    assert_int_equal(a.record_id, 5498);
    assert_int_equal(a.event_id, 1);
    assert_true(a.time == T_UACME);
    assert_int_equal(a.host.len, 11);
    assert_memory_equal(a.host.ptr, "MSEDGEWIN10", 11);
    char id[DH_ID_SIZE];
    dh_id_finding(id, "signal", &a);
    assert_string_equal(id, "83424f03b036b627");
    dh_event_builder_free(&b);
}

/* The event_count correlation "b2_repeat" (id 0b3c8f0e-0000-4000-8000-0000000000b3: System
 * 10016 twice within 10 minutes, grouped by Computer) over the 10016 file above: hunt
 * --no-builtin --rules gives the signal c1531f0c91ecabf7, first seen at the first 10016. */
static void correlation_id_matches_hunt(void **state)
{
    (void)state;
    char id[DH_ID_SIZE];
    const char *ref = "0b3c8f0e-0000-4000-8000-0000000000b3";
    dh_id_correlation(id, ref, "Computer=msedgewin10", T_10016);
    assert_string_equal(id, "c1531f0c91ecabf7");
    /* another group, another first time, another correlation: another finding */
    dh_id_correlation(id, ref, "Computer=msedgewin11", T_10016);
    assert_string_not_equal(id, "c1531f0c91ecabf7");
    dh_id_correlation(id, ref, "Computer=msedgewin10", T_10016 + 1);
    assert_string_not_equal(id, "c1531f0c91ecabf7");
    dh_id_correlation(id, "0b3c8f0e-0000-4000-8000-0000000000b4", "Computer=msedgewin10", T_10016);
    assert_string_not_equal(id, "c1531f0c91ecabf7");
    /* the reference and the group do not run together ("ab" + "" is not "a" + "b") */
    char id2[DH_ID_SIZE];
    dh_id_correlation(id, "ab", "", 0);
    dh_id_correlation(id2, "a", "b", 0);
    assert_string_not_equal(id, id2);
}

/* ---- scores ------------------------------------------------------------------------------- */

/* An attempt is medium, high when the class is a lateral-movement one or the source names
 * the target; its first reason says which refusal it is. */
static void attempt_two_or_three(void **state)
{
    (void)state;
    dh_score s;
    dh_score_attempt(10016, 0, 0, &s);
    assert_int_equal(s.confidence, 2);
    reasons_are(&s, &R_10016, 1);

    /* the corpus attempt above: high, the class reason after the refusal */
    dh_score_attempt(10016, 1, 0, &s);
    assert_int_equal(s.confidence, 3);
    reasons_are(&s, (const char *const[]){R_10016, R_CLASS}, 2);

    dh_score_attempt(10036, 0, EV_SOURCE, &s);
    assert_int_equal(s.confidence, 3);
    reasons_are(&s, (const char *const[]){R_10036, R_NAMES}, 2);

    dh_score_attempt(10036, 1, EV_SOURCE | EV_NET, &s);
    assert_int_equal(s.confidence, 3);
    reasons_are(&s, (const char *const[]){R_10036, R_CLASS, R_NAMES}, 3);

    /* families other than the source's own telemetry do not raise it */
    dh_score_attempt(10016, 0, EV_NET | EV_EPM | EV_WIRE | EV_RULE_HIGH, &s);
    assert_int_equal(s.confidence, 2);
    assert_int_equal(s.nreasons, 1);
}

static dh_evidence ev(const char *role)
{
    return (dh_evidence){role, NULL};
}

/* Source activity: the reasons follow the order of the records, each once; every strong
 * record counts (two script blocks are more than one), a supporting one raises it alone. */
static void source_follows_the_records(void **state)
{
    (void)state;
    dh_score s;
    dh_evidence one[] = {ev("script")};
    dh_score_source(one, 1, 0, &s);
    assert_int_equal(s.confidence, 1);
    reasons_are(&s, (const char *const[]){R_SCRIPT, R_NOTHING}, 2);

    dh_score_source(one, 1, 1, &s);
    assert_int_equal(s.confidence, 2);
    reasons_are(&s, (const char *const[]){R_SCRIPT, R_OBJECT, R_NOTHING}, 3);

    /* two records of one strong role: one reason, but both count */
    dh_evidence two[] = {ev("script"), ev("script")};
    dh_score_source(two, 2, 0, &s);
    assert_int_equal(s.confidence, 2);
    reasons_are(&s, (const char *const[]){R_SCRIPT, R_NOTHING}, 2);
    dh_score_source(two, 2, 1, &s);
    assert_int_equal(s.confidence, 3);

    /* the order of the records is the order of the reasons */
    dh_evidence ab[] = {ev("explicit_logon"), ev("detection"), ev("failure"), ev("source")};
    dh_score_source(ab, 4, 0, &s);
    assert_int_equal(s.confidence, 2);
    reasons_are(&s, (const char *const[]){R_4648, R_FAILURE, R_CMDLINE, R_NOTHING}, 4);
    dh_evidence ba[] = {ev("source"), ev("failure"), ev("detection"), ev("explicit_logon")};
    dh_score_source(ba, 4, 0, &s);
    reasons_are(&s, (const char *const[]){R_CMDLINE, R_FAILURE, R_4648, R_NOTHING}, 4);

    /* a supporting record alone raises it; never above high */
    dh_evidence rpc[] = {ev("source_network")};
    dh_score_source(rpc, 1, 0, &s);
    assert_int_equal(s.confidence, 2);
    reasons_are(&s, (const char *const[]){R_RPC, R_NOTHING}, 2);
    dh_evidence all[] = {ev("source_network"), ev("script"), ev("source"), ev("failure"),
                         ev("explicit_logon")};
    dh_score_source(all, 5, 1, &s);
    assert_int_equal(s.confidence, 3);
    reasons_are(
        &s,
        (const char *const[]){R_RPC, R_SCRIPT, R_CMDLINE, R_FAILURE, R_4648, R_OBJECT, R_NOTHING},
        7);

    /* roles that are not the source's (a rule's detection) add nothing */
    dh_evidence det[] = {ev("detection"), ev("wire")};
    dh_score_source(det, 2, 0, &s);
    assert_int_equal(s.confidence, 1);
    reasons_are(&s, &R_NOTHING, 1);
    dh_score_source(NULL, 0, 0, &s);
    assert_int_equal(s.confidence, 1);

    /* many records: the reasons stay one per role */
    static dh_evidence many[4096];
    for (size_t i = 0; i < 4096; i++)
        many[i] = ev(i % 2 ? "script" : "explicit_logon");
    dh_score_source(many, 4096, 0, &s);
    assert_int_equal(s.confidence, 2);
    reasons_are(&s, (const char *const[]){R_4648, R_SCRIPT, R_NOTHING}, 3);
}

/* A flagged activation with nothing remote behind it: low, the families' reasons and why
 * it is no more; the same families make no lateral movement. */
static void local_activation_is_low(void **state)
{
    (void)state;
    dh_score s;
    dh_score_lateral(EV_START | EV_EXEC, &s);
    assert_int_equal(s.confidence, 0);
    dh_score_local(EV_START | EV_EXEC, &s);
    assert_int_equal(s.confidence, 1);
    reasons_are(&s,
                (const char *const[]){
                    "COM server started by the DCOM launcher with -Embedding",
                    "the COM server started processes (commands run)",
                    "no remote logon or connection found behind it: a local activation, or "
                    "telemetry of that side is missing"},
                3);
}

/* Signals: low with one reason (the corpus signals are "low"); correlation signals medium. */
static void signals_fixed(void **state)
{
    (void)state;
    dh_score s;
    dh_score_signal(0, &s);
    assert_int_equal(s.confidence, 1);
    reasons_are(
        &s, (const char *const[]){"a rule matched this event alone; no DCOM chain explains it"}, 1);
    dh_score_signal(1, &s);
    assert_int_equal(s.confidence, 1);
    reasons_are(
        &s, (const char *const[]){"a script block on this host calls DCOM objects of another host"},
        1);
    assert_int_equal(dh_score_correlation(), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finding_ids_match_the_corpus),
        cmocka_unit_test(anchor_of_an_event),
        cmocka_unit_test(correlation_id_matches_hunt),
        cmocka_unit_test(attempt_two_or_three),
        cmocka_unit_test(source_follows_the_records),
        cmocka_unit_test(local_activation_is_low),
        cmocka_unit_test(signals_fixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
