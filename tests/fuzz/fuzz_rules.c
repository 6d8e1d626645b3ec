/* libFuzzer target for the Sigma rule loader and compiler (YAML from users is input from
 * outside): load the bytes as rules, describe every rule that loaded, and match them
 * against a few realistic events, so compiled needles, regular expressions and condition
 * trees are exercised too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dcomhunt/rules.h"
#include "event/builder.h"
#include "event/mappings/mappings.h"

static void on_match(void *ctx, const dh_rule *r, const dh_event *ev)
{
    (void)r;
    (void)ev;
    ++*(unsigned *)ctx;
}

static void make_event(dh_event *ev, dh_kv *kv, const char *provider, uint32_t id,
                       const char *const *pairs)
{
    size_t n = 0;
    for (; pairs[2 * n]; n++) {
        kv[n].name = (dh_str){pairs[2 * n], strlen(pairs[2 * n])};
        kv[n].value = (dh_str){pairs[2 * n + 1], strlen(pairs[2 * n + 1])};
    }
    dh_event_begin(ev, "fuzz");
    dh_event_set_provider(ev, (dh_str){provider, strlen(provider)});
    dh_event_set_channel(ev, DH_STR("Security"));
    dh_event_set_host(ev, DH_STR("IEWIN7"));
    dh_event_set_ids(ev, id, 0);
    dh_event_set_data(ev, kv, n);
    dh_map_windows_apply(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const proc[] = {
        "Image",
        "C:\\Windows\\System32\\cmd.exe",
        "CommandLine",
        "cmd.exe /Q /c whoami 1> \\\\127.0.0.1\\ADMIN$\\__1556656511.61 2>&1",
        "ParentImage",
        "C:\\Windows\\System32\\mmc.exe",
        "ParentCommandLine",
        "C:\\Windows\\system32\\mmc.exe -Embedding",
        "User",
        "IEWIN7\\IEUser",
        "LogonId",
        "0x1ea3c6",
        NULL};
    static const char *const net[] = {"Image",
                                      "C:\\Windows\\System32\\mmc.exe",
                                      "Initiated",
                                      "false",
                                      "SourceIp",
                                      "10.0.2.18",
                                      "SourcePort",
                                      "49163",
                                      "DestinationIp",
                                      "fe80::1",
                                      "DestinationPort",
                                      "33474",
                                      NULL};
    static const char *const logon[] = {
        "LogonType",     "3",         "IpAddress", "10.23.123.11", "TargetUserName", "admmig",
        "TargetLogonId", "0x542957e", NULL};
    dh_ruleset *rs;
    if (dh_ruleset_new(&rs))
        return 0;
    const char *ph[] = {"a", "b"};
    dh_ruleset_set_placeholder(rs, "admin_hosts", ph, 2);
    dh_ruleset_add_text(rs, (const char *)data, size, "fuzz", NULL, NULL);
    dh_ruleset_finish(rs);
    char text[4096];
    for (size_t i = 0; i < dh_ruleset_count(rs); i++)
        dh_rule_describe(dh_ruleset_rule(rs, i), text, sizeof text);
    dh_matcher *m;
    if (dh_matcher_new(rs, &m) == DH_OK) {
        dh_event ev;
        dh_kv kv[16];
        unsigned hits = 0;
        make_event(&ev, kv, "Microsoft-Windows-Sysmon", 1, proc);
        dh_matcher_run(m, &ev, on_match, &hits);
        make_event(&ev, kv, "Microsoft-Windows-Sysmon", 3, net);
        dh_matcher_run(m, &ev, on_match, &hits);
        make_event(&ev, kv, "Microsoft-Windows-Security-Auditing", 4624, logon);
        dh_matcher_run(m, &ev, on_match, &hits);
        dh_matcher_free(m);
    }
    dh_ruleset_free(rs);
    return 0;
}
