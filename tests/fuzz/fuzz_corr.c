/* libFuzzer target for Sigma correlation state: the bytes choose correlation rules (every
 * type, condition operators, timespans, group-by fields and aliases, chains of
 * correlations, generate) over three base rules, then a stream of events in any time
 * order (late events, repeats, far jumps), with flushes in between, as hunt hands them to
 * the correlator (packed with the fields correlation rules read). Every finding is checked
 * for what a sink relies on: evidence events that are alive and readable, at most 256 of
 * them, a first time not after the last, rules named.
 *
 * Input layout: byte 0: number of correlations (1..4); per correlation 8 bytes (type,
 * condition, threshold, timespan, group-by, field, references, flags); then 6 bytes per
 * event (time step, host, account, address, image, action). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "dcomhunt/correlate.h"
#include "dcomhunt/rules.h"
#include "event/builder.h"
#include "event/mappings/mappings.h"

#define TICKS 10000000LL

static const char *const BASE = "title: failed logon\n"
                                "name: r0\n"
                                "logsource: {product: windows, service: security}\n"
                                "detection:\n"
                                "  sel:\n"
                                "    EventID: 4625\n"
                                "  condition: sel\n"
                                "---\n"
                                "title: logon\n"
                                "name: r1\n"
                                "logsource: {product: windows, service: security}\n"
                                "detection:\n"
                                "  sel:\n"
                                "    EventID: 4624\n"
                                "  condition: sel\n"
                                "---\n"
                                "title: process\n"
                                "name: r2\n"
                                "id: 00000000-0000-4000-8000-0000000000r2\n"
                                "logsource: {product: windows, category: process_creation}\n"
                                "detection:\n"
                                "  sel:\n"
                                "    Image|endswith: '.exe'\n"
                                "  condition: sel\n"
                                /* names the three so that they are not reported alone
                                 * (each lone match would be a finding: slow to fuzz) */
                                "---\n"
                                "title: quiet\n"
                                "name: quiet\n"
                                "correlation:\n"
                                "  type: event_count\n"
                                "  rules: [r0, r1, r2]\n"
                                "  timespan: 1s\n"
                                "  condition: {gte: 100000}\n";

static const char *const TYPES[] = {"event_count",      "value_count", "temporal",
                                    "temporal_ordered", "value_sum",   "value_avg",
                                    "value_percentile"};
static const char *const OPS[] = {"gt", "gte", "lt", "lte", "eq", "neq"};
static const char *const SPANS[] = {"1s", "30s", "5m", "1h", "1d", "400d", "366000d", "90m"};
static const char *const FIELDS[] = {"Computer", "TargetUserName", "IpAddress", "User",
                                     "who",      "Bytes",          "Image",     "EventID"};

typedef struct sink {
    unsigned findings, correlations;
} sink;

static void on_finding(void *ctx, const dh_finding *f)
{
    sink *s = ctx;
    s->findings++;
    s->correlations += f->nrules && dh_rule_is_correlation(f->rules[0]);
    if (f->nevidence > 256 || !f->nrules || (f->first_seen > f->last_seen && f->nevidence))
        abort();
    for (size_t i = 0; i < f->nevidence; i++) {
        /* reading the evidence is what sinks do: a freed event would trip ASan here */
        dh_str h = dh_event_host(f->evidence[i].ev);
        if (h.len && !h.ptr)
            abort();
        (void)dh_event_time(f->evidence[i].ev);
        size_t n;
        (void)dh_event_data(f->evidence[i].ev, &n);
    }
    for (size_t i = 0; i < f->nrules; i++)
        if (!*dh_rule_ref(f->rules[i]))
            abort();
}

typedef struct match_set {
    const dh_rule *hit[16];
    size_t n;
} match_set;

static void collect(void *ctx, const dh_rule *r, const dh_event *ev)
{
    (void)ev;
    match_set *m = ctx;
    if (m->n < 16)
        m->hit[m->n++] = r;
}

static void rules_text(dh_buf *b, const uint8_t *p, unsigned ncorr)
{
    dh_buf_puts(b, BASE);
    for (unsigned c = 0; c < ncorr; c++, p += 8) {
        char line[256];
        unsigned type = p[0] % 7, op = p[1] % 6, op2 = (p[1] >> 3) % 7;
        dh_buf_puts(b, "---\n");
        snprintf(line, sizeof line, "title: correlation %u\nname: c%u\n", c, c);
        dh_buf_puts(b, line);
        if (p[7] & 1)
            dh_buf_puts(b, "level: high\n");
        dh_buf_puts(b, "correlation:\n");
        snprintf(line, sizeof line, "  type: %s\n  timespan: %s\n  rules:\n", TYPES[type],
                 SPANS[p[3] % 8]);
        dh_buf_puts(b, line);
        /* references: base rules and, for chains, correlations defined before (or after:
         * a loop must be refused, not run) */
        unsigned refs = p[6];
        unsigned nref = 1 + refs % 3;
        for (unsigned k = 0; k < nref; k++) {
            unsigned r = (refs >> (2 + 2 * k)) % 4;
            if (r == 3 && ncorr > 1)
                snprintf(line, sizeof line, "    - c%u\n", (c + 1 + k) % ncorr);
            else if (r == 2)
                snprintf(line, sizeof line, "    - 00000000-0000-4000-8000-0000000000r2\n");
            else
                snprintf(line, sizeof line, "    - r%u\n", r % 2);
            dh_buf_puts(b, line);
        }
        unsigned gb = p[4];
        if (gb & 0x80) {
            dh_buf_puts(b, "  group-by:\n");
            for (unsigned g = 0; g < 1 + (gb & 1); g++) {
                snprintf(line, sizeof line, "    - %s\n", FIELDS[(gb >> (1 + 3 * g)) % 5]);
                dh_buf_puts(b, line);
            }
        }
        if (gb & 0x40)
            dh_buf_puts(b, "  aliases:\n    who:\n      r0: TargetUserName\n      r1: "
                           "TargetUserName\n      r2: User\n");
        if (p[7] & 2)
            dh_buf_puts(b, "  generate: true\n");
        if (type <= 1 || type >= 4 || (p[7] & 4)) {
            snprintf(line, sizeof line, "  condition:\n    %s: %u\n", OPS[op], p[2] % 12);
            dh_buf_puts(b, line);
            if (op2 < 6 && op2 != op) {
                snprintf(line, sizeof line, "    %s: %u\n", OPS[op2], p[2] / 12);
                dh_buf_puts(b, line);
            }
            if (type == 1 || type >= 4) {
                unsigned f = p[5];
                if (type == 1 && (f & 0x80))
                    snprintf(line, sizeof line, "    field: [%s, %s]\n", FIELDS[f % 8],
                             FIELDS[(f >> 3) % 8]);
                else
                    snprintf(line, sizeof line, "    field: %s\n", FIELDS[f % 8]);
                dh_buf_puts(b, line);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned ncorr = 1 + data[0] % 4;
    if (size < 1 + 8 * (size_t)ncorr)
        return 0;
    dh_buf text;
    dh_buf_init(&text, 1 << 20);
    rules_text(&text, data + 1, ncorr);
    dh_ruleset *rs;
    if (dh_ruleset_new(&rs)) {
        dh_buf_free(&text);
        return 0;
    }
    dh_ruleset_add_text(rs, (const char *)text.data, text.len, "fuzz", NULL, NULL);
    dh_buf_free(&text);
    dh_ruleset_finish(rs);
    dh_matcher *m;
    dh_correlator *c;
    if (dh_matcher_new(rs, &m)) {
        dh_ruleset_free(rs);
        return 0;
    }
    if (dh_correlator_new(NULL, rs, &c)) {
        dh_matcher_free(m);
        dh_ruleset_free(rs);
        return 0;
    }
    sink sk = {0};
    dh_correlator_set_sink(c, on_finding, &sk);
    const uint8_t *p = data + 1 + 8 * ncorr, *end = data + size;
    int64_t t = 133500000000000000LL; /* 2024 */
    dh_buf pk;
    dh_buf_init(&pk, 1 << 20);
    for (unsigned n = 0; end - p >= 6 && n < 20000; p += 6, n++) {
        /* time: small steps forward, sometimes back (late), sometimes a jump */
        int step = (int8_t)p[0];
        if ((p[5] & 0x30) == 0x30)
            t += (int64_t)step * 86400 * TICKS;
        else
            t += (int64_t)step * (p[5] & 0x08 ? 60 : 1) * TICKS;
        if ((p[5] & 0xc0) == 0xc0) {
            dh_correlator_flush(c);
            continue;
        }
        char host[32], user[16], ip[16], image[64], bytes[8];
        snprintf(host, sizeof host, p[1] & 8 ? "dc%u.corp.local" : "DC%u", p[1] % 4);
        snprintf(user, sizeof user, p[2] & 8 ? "ALICE%u" : "alice%u", p[2] % 5);
        snprintf(ip, sizeof ip, "10.0.0.%u", p[3] % 6);
        snprintf(image, sizeof image, "C:\\Windows\\p%u.exe", p[4] % 7);
        snprintf(bytes, sizeof bytes, "%u", p[3]);
        static const uint32_t ids[] = {4625, 4624, 1, 4625};
        uint32_t id = ids[p[5] & 3];
        dh_kv kv[8];
        size_t nk = 0;
        kv[nk++] = (dh_kv){{"TargetUserName", 14}, {user, strlen(user)}};
        kv[nk++] = (dh_kv){{"IpAddress", 9}, {ip, strlen(ip)}};
        kv[nk++] = (dh_kv){{"Bytes", 5}, {bytes, strlen(bytes)}};
        if (id == 1) {
            kv[nk++] = (dh_kv){{"Image", 5}, {image, strlen(image)}};
            kv[nk++] = (dh_kv){{"User", 4}, {user, strlen(user)}};
        }
        dh_event ev;
        dh_event_begin(&ev, "fuzz");
        dh_event_set_provider(&ev, id == 1 ? DH_STR("Microsoft-Windows-Sysmon")
                                           : DH_STR("Microsoft-Windows-Security-Auditing"));
        dh_event_set_channel(&ev, id == 1 ? DH_STR("Microsoft-Windows-Sysmon/Operational")
                                          : DH_STR("Security"));
        dh_event_set_host(&ev, (dh_str){host, strlen(host)});
        dh_event_set_ids(&ev, id, n + 1);
        dh_event_set_time(&ev, t);
        dh_event_set_data(&ev, kv, nk);
        dh_map_windows_apply(&ev);
        match_set ms = {{0}, 0};
        dh_matcher_run(m, &ev, collect, &ms);
        if (!dh_correlator_wants(c, &ev, ms.n))
            continue;
        pk.len = 0;
        if (dh_correlator_pack(rs, &ev, &pk))
            continue;
        size_t used;
        dh_event *copy = dh_event_unpack(pk.data, pk.len, &used);
        if (copy)
            dh_correlator_take(c, copy, ms.hit, ms.n);
        /* a record read twice */
        if ((p[1] & 0xf0) == 0xf0 && (copy = dh_event_unpack(pk.data, pk.len, &used)))
            dh_correlator_take(c, copy, ms.hit, ms.n);
    }
    dh_buf_free(&pk);
    dh_correlator_finish(c, on_finding, &sk);
#ifdef FUZZ_CORR_DEBUG
    fprintf(stderr, "%zu rules, %u findings (%u of correlations), %llu late\n",
            dh_ruleset_count(rs), sk.findings, sk.correlations,
            (unsigned long long)dh_correlator_sigma_late(c));
#endif
    dh_correlator_free(c);
    dh_matcher_free(m);
    dh_ruleset_free(rs);
    return 0;
}
