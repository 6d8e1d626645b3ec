/* The candidates topic's key (src/stream/key.c), without Kafka: where a record must go
 * (its own host, the target a source-side record names, both ends of an outbound
 * connection), host names as the correlator compares them (FQDN, short name, case), the
 * address map (a binding arriving after the record, an address never bound, an address
 * moving to another host, many hosts, the map full), the identities topic's value read
 * back, and hostile text and bindings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event/builder.h"
#include "stream/key.h"

#define T0   (133600000000000000LL) /* some FILETIME */
#define HOUR (3600LL * 10000000)

typedef struct fld {
    dh_field f;
    const char *v;
} fld;

/* An event of that kind on that host with those taxonomy fields. */
static dh_event *event(dh_event_builder *b, dh_kind kind, uint32_t id, const char *host,
                       const fld *f)
{
    dh_event_builder_clear(b);
    dh_event *ev = dh_event_builder_ev(b);
    dh_event_set_kind(ev, kind);
    dh_event_set_ids(ev, id, 1);
    dh_event_set_time(ev, T0);
    dh_event_set_host(ev, (dh_str){host, strlen(host)});
    for (; f && f->v; f++)
        dh_event_set_field(ev, f->f, (dh_str){f->v, strlen(f->v)});
    return dh_event_builder_event(b);
}

/* The keys of ev resolved with m, joined by spaces ("?" before an unresolved address). */
static void keys_of(const dh_event *ev, const dh_idmap *m, char *out, size_t cap)
{
    dh_keyset ks;
    dh_key_refs(ev, &ks);
    assert_true(ks.n >= 1 && ks.n <= DH_KEY_MAXN);
    out[0] = 0;
    for (size_t i = 0; i < ks.n; i++) {
        char k[DH_KEY_CAP];
        int ok = dh_key_resolve(m, &ks.k[i], ks.t, k);
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%s%s", i ? " " : "", ok ? "" : "?", k);
    }
}

static void expect(dh_kind kind, uint32_t id, const char *host, const fld *f, const dh_idmap *m,
                   const char *want)
{
    dh_event_builder b;
    dh_event_builder_init(&b);
    char got[1024];
    keys_of(event(&b, kind, id, host, f), m, got, sizeof got);
    if (strcmp(got, want))
        fprintf(stderr, "host %s: keys '%s', expected '%s'\n", host, got, want);
    assert_string_equal(got, want);
    dh_event_builder_free(&b);
}

static void bind(dh_idmap *m, const char *addr, const char *host, int64_t t, int want)
{
    dh_key_binding b;
    memset(&b, 0, sizeof b);
    snprintf(b.addr, sizeof b.addr, "%s", addr);
    snprintf(b.host, sizeof b.host, "%s", host);
    b.t = t;
    assert_int_equal(dh_idmap_bind(m, &b), want);
}

/* A record logged on the target goes under its host, FQDN, short name or any case alike. */
static void test_own_host(void **state)
{
    (void)state;
    const fld emb[] = {{DH_FIELD_COMMAND_LINE, "C:\\Windows\\system32\\mmc.exe -Embedding"}, {0}};
    expect(DH_KIND_PROCESS_CREATION, 1, "WORKSTATION6.theshire.local", emb, NULL, "workstation6");
    expect(DH_KIND_PROCESS_CREATION, 1, "workstation6", emb, NULL, "workstation6");
    expect(DH_KIND_PROCESS_CREATION, 1, "WorkStation6.Other.Domain", emb, NULL, "workstation6");
    const fld logon[] = {{DH_FIELD_LOGON_TYPE, "3"}, {DH_FIELD_SOURCE_IP, "172.18.39.5"}, {0}};
    expect(DH_KIND_LOGON, 4624, "WORKSTATION6.theshire.local", logon, NULL, "workstation6");
    /* inbound: its own host only */
    const fld in[] = {{DH_FIELD_SOURCE_IP, "172.18.39.5"},
                      {DH_FIELD_SOURCE_PORT, "58405"},
                      {DH_FIELD_DESTINATION_IP, "172.18.39.6"},
                      {DH_FIELD_DESTINATION_PORT, "135"},
                      {DH_FIELD_INITIATED, "false"},
                      {0}};
    expect(DH_KIND_NETWORK_CONNECTION, 5156, "WORKSTATION6.theshire.local", in, NULL,
           "workstation6");
    /* a record without a host still has a key */
    expect(DH_KIND_PROCESS_CREATION, 1, "", emb, NULL, "-");
}

/* The corpus's ShellWindows chain: WORKSTATION5's module log names WORKSTATION6 by name, its
 * outbound connections name it by address, which WORKSTATION6's own outbound connection
 * binds. Everything reaches workstation6; the connections also stay with workstation5. */
static void test_shellwindows_chain(void **state)
{
    (void)state;
    dh_idmap *m = dh_idmap_new(64);
    assert_non_null(m);
    const fld mod[] = {{DH_FIELD_PAYLOAD,
                        "CommandInvocation(Invoke-Expression): \"Invoke-Expression\"\n"
                        "ParameterBinding(Invoke-Expression): name=\"Command\"; value=\"function "
                        "Invoke-DCOM {\n  Param ($ComputerName)\n  $Com = "
                        "[Type]::GetTypeFromCLSID(\"$DCOM\",\"$ComputerName\")\n}"
                        "Invoke-DCOM -ComputerName WORKSTATION6 -Method ShellWindows -Command "
                        "'calc.exe'\""},
                       {0}};
    expect(DH_KIND_PS_MODULE, 4103, "WORKSTATION5.theshire.local", mod, m, "workstation6");
    const fld out[] = {{DH_FIELD_SOURCE_IP, "172.18.39.5"},
                       {DH_FIELD_SOURCE_PORT, "58405"},
                       {DH_FIELD_DESTINATION_IP, "172.18.39.6"},
                       {DH_FIELD_DESTINATION_PORT, "135"},
                       {DH_FIELD_INITIATED, "true"},
                       {0}};
    /* before the binding: the address, unresolved */
    expect(DH_KIND_NETWORK_CONNECTION, 5156, "WORKSTATION5.theshire.local", out, m,
           "workstation5 ?172.18.39.6");
    /* WORKSTATION6's own outbound connection to the DC teaches its address */
    dh_event_builder b;
    dh_event_builder_init(&b);
    const fld own[] = {{DH_FIELD_SOURCE_IP, "172.18.39.6"},
                       {DH_FIELD_SOURCE_PORT, "49830"},
                       {DH_FIELD_DESTINATION_IP, "172.18.38.5"},
                       {DH_FIELD_DESTINATION_PORT, "135"},
                       {DH_FIELD_INITIATED, "true"},
                       {0}};
    dh_key_binding kb[2];
    assert_int_equal(
        dh_key_learn(event(&b, DH_KIND_NETWORK_CONNECTION, 3, "WORKSTATION6.theshire.local", own),
                     kb),
        1);
    assert_string_equal(kb[0].addr, "172.18.39.6");
    assert_string_equal(kb[0].host, "workstation6");
    assert_int_equal(dh_idmap_bind(m, &kb[0]), 1);
    assert_int_equal(dh_idmap_bind(m, &kb[0]), 0); /* known: not published again */
    /* the binding arrived after the record: the held record now resolves */
    expect(DH_KIND_NETWORK_CONNECTION, 5156, "WORKSTATION5.theshire.local", out, m,
           "workstation5 workstation6");
    /* an inbound record on the target teaches nothing about a dynamic port pair... */
    const fld dyn[] = {{DH_FIELD_SOURCE_IP, "172.18.39.5"},
                       {DH_FIELD_SOURCE_PORT, "58406"},
                       {DH_FIELD_DESTINATION_IP, "172.18.39.6"},
                       {DH_FIELD_DESTINATION_PORT, "49913"},
                       {DH_FIELD_INITIATED, "false"},
                       {0}};
    assert_int_equal(
        dh_key_learn(event(&b, DH_KIND_NETWORK_CONNECTION, 5156, "WORKSTATION6", dyn), kb), 0);
    /* ...but one to a well-known port does: its destination is local */
    const fld wk[] = {{DH_FIELD_SOURCE_IP, "172.18.39.5"},
                      {DH_FIELD_SOURCE_PORT, "58405"},
                      {DH_FIELD_DESTINATION_IP, "172.18.39.6"},
                      {DH_FIELD_DESTINATION_PORT, "135"},
                      {DH_FIELD_INITIATED, "false"},
                      {0}};
    assert_int_equal(
        dh_key_learn(event(&b, DH_KIND_NETWORK_CONNECTION, 5156, "WORKSTATION6", wk), kb), 1);
    assert_string_equal(kb[0].addr, "172.18.39.6");
    /* loopback and network sensors teach nothing */
    const fld lo[] = {{DH_FIELD_SOURCE_IP, "127.0.0.1"},      {DH_FIELD_SOURCE_PORT, "49164"},
                      {DH_FIELD_DESTINATION_IP, "127.0.0.1"}, {DH_FIELD_DESTINATION_PORT, "445"},
                      {DH_FIELD_INITIATED, "true"},           {0}};
    assert_int_equal(dh_key_learn(event(&b, DH_KIND_NETWORK_CONNECTION, 3, "IEWIN7", lo), kb), 0);
    assert_int_equal(dh_key_learn(event(&b, DH_KIND_NETWORK_CONNECTION, 0, "10.0.0.9", own), kb),
                     0);
    dh_event_builder_free(&b);
    dh_idmap_free(m);
}

/* Code and command lines naming the target: by name (FQDN or short), by address, through a
 * variable, encoded; none, a local one, or only a function's definition: the own host. */
static void test_text_targets(void **state)
{
    (void)state;
    dh_idmap *m = dh_idmap_new(64);
    bind(m, "10.0.0.5", "fs01", T0, 1);
#define SB(text, want)                                                                             \
    do {                                                                                           \
        const fld f_[] = {{DH_FIELD_SCRIPT_BLOCK_TEXT, text}, {0}};                                \
        expect(DH_KIND_PS_SCRIPT, 4104, "ws1.corp.example", f_, m, want);                          \
    } while (0)
    SB("$c = [activator]::CreateInstance([type]::GetTypeFromProgID('MMC20.Application', "
       "'FS01.corp.example'))",
       "fs01");
    SB("[type]::GetTypeFromProgID(\"MMC20.Application\",\"10.0.0.5\")", "fs01");
    SB("[type]::GetTypeFromProgID(\"MMC20.Application\",\"10.0.0.6\")", "?10.0.0.6");
    SB("$h = \"srv9.corp.example\"\n$t = [type]::GetTypeFromCLSID($clsid, $h)", "srv9");
    SB("[type]::GetTypeFromCLSID('9BA05972-F6A8-11CF-A442-00A0C90A8F39', $unknown)", "ws1");
    SB("[type]::GetTypeFromProgID('MMC20.Application')", "ws1");
    SB("[type]::GetTypeFromProgID('MMC20.Application', $true)", "ws1");
    SB("[type]::GetTypeFromProgID('MMC20.Application', 'localhost')", "ws1");
    SB("[type]::GetTypeFromProgID('MMC20.Application', 'WS1')", "ws1");
    SB("function Invoke-DCOM { param($ComputerName) }", "ws1");
    SB("Invoke-DCOM -ComputerName:\\\\DC2 -Method MMC20.Application", "dc2");
    SB("CreateObject(\"Excel.Application\", \"hr7\") ; Invoke-DcomExec -Target \"hr8\"", "hr7 hr8");
    SB("[type]::GetTypeFromProgID('a','h1');[type]::GetTypeFromProgID('a','h2');"
       "[type]::GetTypeFromProgID('a','h3');[type]::GetTypeFromProgID('a','h4');"
       "[type]::GetTypeFromProgID('a','h5')",
       "h1 h2 h3 h4");
    /* hostile: unclosed calls and quotes, a lone '$', a huge name */
    SB("GetTypeFromProgID(\"MMC20.Application\", \"never closed", "ws1");
    SB("GetTypeFromProgID(", "ws1");
    SB("$ = 'x'; GetTypeFromProgID('a', $)", "ws1");
    SB("GetTypeFromProgID('a', "
       "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
       "aaaaa"
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')",
       "ws1");
#undef SB
    const fld imp[] = {
        {DH_FIELD_COMMAND_LINE, "python3 dcomexec.py -object MMC20 corp/admin:Pw@10.0.0.5 whoami"},
        {0}};
    expect(DH_KIND_PROCESS_CREATION, 1, "kali", imp, m, "fs01");
    const fld nxc[] = {{DH_FIELD_COMMAND_LINE,
                        "nxc smb app3.corp.example -u a -p b --exec-method mmcexec -x whoami"},
                       {0}};
    expect(DH_KIND_PROCESS_CREATION, 1, "ws1", nxc, m, "app3");
    /* powershell -enc: "GetTypeFromProgID('MMC20.Application','db4')" in UTF-16LE, base64 */
    const fld enc[] = {
        {DH_FIELD_COMMAND_LINE,
         "powershell.exe -nop -enc "
         "RwBlAHQAVAB5AHAAZQBGAHIAbwBtAFAAcgBvAGcASQBEACgAJwBNAE0AQwAyADAALgBBAHAAcABsAGkA"
         "YwBhAHQAaQBvAG4AJwAsACcAZABiADQAJwApAA=="},
        {0}};
    expect(DH_KIND_PROCESS_CREATION, 1, "ws1", enc, m, "db4");
    /* explicit credentials and DCOM failures name the target in a field */
    const fld cred[] = {{DH_FIELD_DESTINATION_HOSTNAME, "\\\\FS02.corp.example"}, {0}};
    expect(DH_KIND_EXPLICIT_LOGON, 4648, "ws1", cred, m, "fs02");
    const fld self[] = {{DH_FIELD_DESTINATION_HOSTNAME, "localhost"}, {0}};
    expect(DH_KIND_EXPLICIT_LOGON, 4648, "ws1", self, m, "ws1");
    const fld f10028[] = {{DH_FIELD_REMOTE_HOST, "10.0.0.5"}, {0}};
    expect(DH_KIND_DCOM_ERROR, 10028, "ws1", f10028, m, "fs01");
    /* 10016 is logged on the target: its own host, whatever address it carries */
    expect(DH_KIND_DCOM_ERROR, 10016, "ws1", f10028, m, "ws1");
    dh_idmap_free(m);
}

/* A network sensor's record carries the responder's address as its host: it goes to the
 * host owning it, or under the address when none does. */
static void test_sensor_records(void **state)
{
    (void)state;
    dh_idmap *m = dh_idmap_new(64);
    const fld rpc[] = {{DH_FIELD_SOURCE_IP, "10.20.66.148"},
                       {DH_FIELD_DESTINATION_IP, "10.20.20.221"},
                       {DH_FIELD_DESTINATION_PORT, "135"},
                       {0}};
    expect(DH_KIND_RPC_CALL, 0, "10.20.20.221", rpc, m, "?10.20.20.221");
    bind(m, "10.20.20.221", "srv-app15", T0 - HOUR, 1);
    expect(DH_KIND_RPC_CALL, 0, "10.20.20.221", rpc, m, "srv-app15");
    expect(DH_KIND_NETWORK_CONNECTION, 0, "10.20.1.10", rpc, m, "?10.20.1.10");
    dh_idmap_free(m);
}

/* Addresses are owned near a time (12 hours, as the correlator): a reused address goes to
 * the owner nearest the record. Many hosts; the map's limit; hostile bindings. */
static void test_idmap(void **state)
{
    (void)state;
    dh_idmap *m = dh_idmap_new(5000);
    char addr[48], host[64];
    for (int i = 0; i < 5000; i++) {
        snprintf(addr, sizeof addr, "10.%d.%d.%d", i / 65536, (i / 256) % 256, i % 256);
        snprintf(host, sizeof host, "host%d", i);
        bind(m, addr, host, T0, 1);
    }
    assert_int_equal(dh_idmap_count(m), 5000);
    bind(m, "192.168.1.1", "one-too-many", T0, -1); /* full */
    for (int i = 0; i < 5000; i += 97) {
        snprintf(addr, sizeof addr, "10.%d.%d.%d", i / 65536, (i / 256) % 256, i % 256);
        snprintf(host, sizeof host, "host%d", i);
        assert_string_equal(dh_idmap_owner(m, addr, T0), host);
    }
    dh_idmap_free(m);

    m = dh_idmap_new(16);
    bind(m, "10.1.1.1", "alpha", T0, 1);
    bind(m, "10.1.1.1", "alpha", T0 + HOUR, 0);
    bind(m, "10.1.1.1", "beta", T0 + 20 * HOUR, 1); /* DHCP gave it to another host */
    assert_string_equal(dh_idmap_owner(m, "10.1.1.1", T0), "alpha");
    assert_string_equal(dh_idmap_owner(m, "10.1.1.1", T0 + 19 * HOUR), "beta");
    assert_null(dh_idmap_owner(m, "10.1.1.1", T0 + 40 * HOUR)); /* too far from both */
    assert_null(dh_idmap_owner(m, "10.9.9.9", T0));
    assert_null(dh_idmap_owner(NULL, "10.1.1.1", T0));
    /* refused: not an address, no host, a host "-" */
    bind(m, "fs01", "alpha", T0, -1);
    bind(m, "10.1.1.2", "", T0, -1);
    bind(m, "10.1.1.2", "-", T0, -1);
    assert_int_equal(dh_idmap_bind(NULL, NULL), -1);
    dh_idmap_free(m);
    dh_idmap_free(NULL);
}

/* The identities topic's value: written and read back; anything else refused. */
static void test_binding_value(void **state)
{
    (void)state;
    dh_key_binding b = {.addr = "fe80::1", .host = "ws7", .t = T0}, r;
    char v[256];
    size_t n = dh_key_binding_value(&b, v, sizeof v);
    assert_true(n > 0);
    assert_int_equal(dh_key_binding_parse("fe80::1", 7, v, n, &r), 1);
    assert_string_equal(r.addr, "fe80::1");
    assert_string_equal(r.host, "ws7");
    assert_true(r.t == T0);
    assert_int_equal(dh_key_binding_parse("10.0.0.1", 8, "WS7 -5", 6, &r), 1);
    assert_string_equal(r.host, "ws7");
    assert_true(r.t == -5);
    static const struct {
        const char *k, *v;
    } bad[] = {
        {"10.0.0.1", ""},
        {"10.0.0.1", "ws7"},
        {"10.0.0.1", "ws7 "},
        {"10.0.0.1", " 5"},
        {"10.0.0.1", "ws7 12x"},
        {"10.0.0.1", "ws7 -"},
        {"10.0.0.1", "ws7 99999999999999999999"},
        {"fs01", "ws7 5"},
        {"", "ws7 5"},
        {"10.0.0.1", "w\x01s 5"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(
            dh_key_binding_parse(bad[i].k, strlen(bad[i].k), bad[i].v, strlen(bad[i].v), &r), 0);
    assert_int_equal(dh_key_binding_parse(NULL, 0, "ws7 5", 5, &r), 0);
    char big[400];
    memset(big, 'a', sizeof big);
    assert_int_equal(dh_key_binding_parse("10.0.0.1", 8, big, sizeof big, &r), 0);
}

/* Random bytes as script text, command lines and field values: no crash, always a key. */
static void test_hostile_text(void **state)
{
    (void)state;
    static const char alphabet[] = "$'\"(),;|=@-:/ \n\\abcGetTypeFromProgIDInvoke-DCOM1.0";
    uint32_t x = 12345;
    char text[300];
    dh_event_builder b;
    dh_event_builder_init(&b);
    for (int round = 0; round < 20000; round++) {
        size_t n = 0;
        x = x * 1103515245u + 12345u;
        size_t len = (x >> 8) % (sizeof text - 1);
        for (; n < len; n++) {
            x = x * 1103515245u + 12345u;
            text[n] = (x >> 16) % 7 == 0 ? (char)((x >> 9) & 0xff)
                                         : alphabet[(x >> 10) % (sizeof alphabet - 1)];
        }
        text[n] = 0;
        const fld f[] = {{DH_FIELD_SCRIPT_BLOCK_TEXT, text},
                         {DH_FIELD_COMMAND_LINE, text},
                         {DH_FIELD_DESTINATION_HOSTNAME, text},
                         {DH_FIELD_REMOTE_HOST, text},
                         {DH_FIELD_DESTINATION_IP, text},
                         {DH_FIELD_INITIATED, "true"},
                         {0}};
        static const dh_kind kinds[] = {DH_KIND_PS_SCRIPT, DH_KIND_PROCESS_CREATION,
                                        DH_KIND_EXPLICIT_LOGON, DH_KIND_DCOM_ERROR,
                                        DH_KIND_NETWORK_CONNECTION};
        dh_keyset ks;
        dh_key_refs(event(&b, kinds[round % 5], 10028, round % 3 ? "ws1" : text, f), &ks);
        assert_true(ks.n >= 1 && ks.n <= DH_KEY_MAXN);
        for (size_t i = 0; i < ks.n; i++)
            assert_true(strlen(ks.k[i].text) > 0 && strlen(ks.k[i].text) < DH_KEY_CAP);
    }
    dh_event_builder_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_host),     cmocka_unit_test(test_shellwindows_chain),
        cmocka_unit_test(test_text_targets), cmocka_unit_test(test_sensor_records),
        cmocka_unit_test(test_idmap),        cmocka_unit_test(test_binding_value),
        cmocka_unit_test(test_hostile_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
