#!/usr/bin/env python3
"""Sigma correlation rules through the command line, as an analyst meets them: `rules list`,
`rules show` and `rules check` with correlation rules loaded, and `hunt` on JSON-lines
exports (SecurityEvent rows) with fields outside dcomhunt's taxonomy, correlations without
an id, chained correlations and per-host exports given in either order. Each check names
what it proves; the semantics themselves are tested case by case in
tests/vectors/sigma_correlation_spec.test."""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

# The base rule of most cases: a failed network logon (Security 4625).
FAILED = """title: failed network logon
name: failed_logon
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: 4625
  condition: sel
"""

BRUTE = FAILED + """---
title: many failed logons from one address
name: brute_force
id: 0b3c8f0e-0000-4000-8000-000000000002
correlation:
  type: event_count
  rules:
    - failed_logon
  group-by:
    - IpAddress
  timespan: 5m
  condition:
    gte: 3
level: high
"""


SPRAY = FAILED + """---
title: three failed logons from one address
name: per_address
id: 0b3c8f0e-0000-4000-8000-000000000012
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 5m
  condition: {gte: 3}
---
title: one account tried from three addresses
name: addresses_per_account
id: 0b3c8f0e-0000-4000-8000-000000000013
correlation:
  type: value_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 5m
  condition:
    field: IpAddress
    gte: 3
"""

ANONYMOUS = FAILED + """---
title: three failures (A)
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 5m
  condition: {gte: 3}
---
title: three failures (B)
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 5m
  condition: {gte: 3}
"""

# The specification's full example (Sigma correlation rules specification 2.1.0,
# "Failed Logins Followed by Successful Login"), as written.
EXAMPLE = """title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
status: experimental
description: Detects multiple failed logins by a single user followed by a successful login of that user
references:
    - https://reference.com
author: Florian Roth (Nextron Systems)
date: 2023-06-16
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
falsepositives:
    - Unlikely
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
description: Detects multiple failed logins within a certain amount of time
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 10
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
description: Detects a successful login
name: successful_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
"""

LOOP = FAILED + """---
title: loop one
name: loop_one
correlation:
  type: temporal
  rules: [loop_two, failed_logon]
  group-by: [Computer]
  timespan: 1h
---
title: loop two
name: loop_two
correlation:
  type: temporal
  rules: [loop_one, failed_logon]
  group-by: [Computer]
  timespan: 1h
"""

MISSING = FAILED + """---
title: names a rule that is not loaded
name: names_missing
correlation:
  type: temporal
  rules: [failed_logon, not_loaded_anywhere]
  group-by: [Computer]
  timespan: 1h
"""


def row(sec, host, user, ip, rid, eid=4625):
    t = datetime.datetime(2024, 3, 1, 10, 0, 0) + datetime.timedelta(seconds=sec)
    return json.dumps({"TimeGenerated": t.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "Computer": host,
                       "EventID": eid, "Channel": "Security", "TargetUserName": user,
                       "TargetDomainName": "CORP", "IpAddress": ip, "LogonType": "3",
                       "EventRecordID": rid, "Type": "SecurityEvent"}) + "\n"


def signals(out):
    return [f for f in jsonl(out) if f["kind"] == "signal"]


def jsonl(out):
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def run(D, args, ok=(0, 1)):
    r = subprocess.run([D] + args, capture_output=True, text=True)
    if r.returncode not in ok:
        raise SystemExit("%s: exit %d\n%s" % (args, r.returncode, r.stderr[-1500:]))
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    a = ap.parse_args()
    D = a.dcomhunt
    fails, checks = [], 0

    def check(cond, msg):
        nonlocal checks
        checks += 1
        if not cond:
            fails.append(msg)

    with tempfile.TemporaryDirectory() as d:
        def tf(name, text):
            p = os.path.join(d, name)
            with open(p, "w") as f:
                f.write(text)
            return p

        brute = tf("brute.yml", BRUTE)

        # rules list with a correlation rule loaded (it has no logsource).
        r = subprocess.run([D, "rules", "list", "--no-builtin", "--rules", brute],
                           capture_output=True, text=True)
        check(r.returncode == 0, "rules list with a correlation rule: exit %d, %s" %
              (r.returncode, r.stderr[-300:]))
        lines = r.stdout.splitlines()
        check(any("brute_force" in l and "[correlation: event_count]" in l for l in lines) and
              any("failed_logon" in l and "service:security" in l for l in lines) and
              "2 rules" in r.stdout,
              "rules list does not list the correlation and its base rule: %r" % r.stdout)

        # Item 1: fields outside the taxonomy (IpAddress of 4625) group and count in hunt.
        spray = tf("spray.yml", SPRAY)
        three_ips = tf("three_ips.jsonl", "".join(row(i * 60, "DC01", "alice", "10.0.0.%d" % (i + 1), i + 1)
                                                 for i in range(3)))
        got = signals(run(D, ["hunt", "--jsonl", "--no-progress", "--no-builtin", "--rules", spray,
                              three_ips]).stdout)
        per_addr = [f for f in got if "per_address" in f["rule_names"]]
        per_acct = [f for f in got if "addresses_per_account" in f["rule_names"]]
        check(not per_addr, "three addresses made one IpAddress group (a false signal): %r" % per_addr)
        check(len(per_acct) == 1 and len(per_acct[0]["evidence"]) == 3,
              "value_count did not count three IpAddress values: %r" % per_acct)
        one_ip = tf("one_ip.jsonl", "".join(row(i * 60, "DC01", "u%d" % i, "10.0.0.9", i + 1) for i in range(3)))
        got = signals(run(D, ["hunt", "--jsonl", "--no-progress", "--no-builtin", "--rules", spray,
                              one_ip]).stdout)
        check([f["rule_names"][0] for f in got] == ["per_address"],
              "three failures from one address: %r" % [f["rule_names"] for f in got])

        # Item 3: two correlations without an id firing on the same events stay two, named.
        anon = tf("anonymous.yml", ANONYMOUS)
        burst = tf("burst.jsonl", "".join(row(i * 30, "DC01", "alice", "10.0.0.9", i + 1) for i in range(3)))
        got = signals(run(D, ["hunt", "--jsonl", "--no-progress", "--no-builtin", "--rules", anon,
                              burst]).stdout)
        check(len(got) == 2 and len({f["id"] for f in got}) == 2,
              "two id-less correlations on one burst: %d signals, ids %r" % (len(got), [f["id"] for f in got]))
        refs = sorted(f["rule_ids"][0] for f in got)
        check(len(refs) == 2 and all(r.startswith(anon + ":") for r in refs) and refs[0] != refs[1],
              "id-less correlations are not named by file and line: %r" % refs)
        check(sorted(f["rule_names"][0] for f in got) == ["three failures (A)", "three failures (B)"],
              "rule_names: %r" % [f["rule_names"] for f in got])

        # Item 6: per-host exports given in either order. In time order (DC02 holds the
        # earlier hour) the signal is found; the other order used to free events the
        # correlator still pointed at (a use-after-free, under ASan a crash). Now it must
        # run cleanly and say that events came out of time order.
        late = tf("late.yml", BRUTE.replace("IpAddress", "TargetUserName"))
        with open(os.path.join(d, "DC02.jsonl"), "w") as f:
            rid = 1
            for i in range(17000):  # 10:00 to 19:26, ending with bob's two failures
                f.write(row(i * 2, "DC02", "u%d" % (i % 5000), "10.1.0.1", rid))
                rid += 1
            f.write(row(34000, "DC02", "bob", "10.1.0.2", rid))
            f.write(row(34030, "DC02", "bob", "10.1.0.2", rid + 1))
        with open(os.path.join(d, "DC01.jsonl"), "w") as f:
            rid = 1
            f.write(row(34060, "DC01", "bob", "10.1.0.2", rid))  # bob's third, a minute later
            for i in range(16000):
                f.write(row(34100 + i * 2, "DC01", "v%d" % (i % 5000), "10.1.0.1", rid + 1 + i))
        dc01, dc02 = os.path.join(d, "DC01.jsonl"), os.path.join(d, "DC02.jsonl")
        r = run(D, ["hunt", "--jsonl", "--no-progress", "--no-builtin", "--rules", late, dc02, dc01])
        got = signals(r.stdout)
        check(len(got) == 1 and len(got[0]["evidence"]) == 3 and
              {e["host"] for e in got[0]["evidence"]} == {"DC01", "DC02"},
              "files in time order: bob's three failures on two hosts give one signal: %r" % got)
        check("out of time order" not in r.stderr, "files in time order reported as out of order")
        # Two exports of the same hours, the second read after the first: bob's events on
        # DC01 were processed and let go before DC02's came (the use-after-free's trigger).
        with open(os.path.join(d, "A.jsonl"), "w") as f:
            rid = 1
            for i in range(17000):
                if i * 2 in (30000, 30030):
                    f.write(row(i * 2, "DC01", "bob", "10.1.0.2", rid))
                    rid += 1
                f.write(row(i * 2, "DC01", "u%d" % (i % 5000), "10.1.0.1", rid))
                rid += 1
        with open(os.path.join(d, "B.jsonl"), "w") as f:
            for i in range(16000):
                f.write(row(i * 2, "DC02", "v%d" % (i % 5000), "10.1.0.1", i + 1))
            f.write(row(30060, "DC02", "bob", "10.1.0.2", 16001))
        r = subprocess.run([D, "hunt", "--jsonl", "--no-progress", "--no-builtin", "--rules", late,
                            os.path.join(d, "A.jsonl"), os.path.join(d, "B.jsonl")],
                           capture_output=True, text=True)
        check(r.returncode in (0, 1) and "Sanitizer" not in r.stderr and "runtime error" not in r.stderr,
              "overlapping exports: exit %d %s" % (r.returncode, r.stderr[-600:]))
        check("16001 events came after it had passed their time" in r.stderr,
              "out-of-order input is not reported: %r" % r.stderr[-600:])

        # Item 8: the specification's full example, chained correlations, through hunt.
        example = tf("mr_failed_then_success.yml", EXAMPLE)
        r = run(D, ["rules", "check", example], ok=(0,))
        check(r.stdout.startswith("4 rules loaded, 0 refused"), "rules check on the example: %r" % r.stdout)
        seq = "".join(row(i * 20, "DC01", "alice", "10.0.0.9", i + 1) for i in range(10))
        seq += row(300, "DC01", "alice", "10.0.0.9", 11, eid=4624)
        ex_in = tf("example.jsonl", seq)
        got = signals(run(D, ["hunt", "--jsonl", "--no-progress", "--no-builtin", "--rules", example,
                              ex_in]).stdout)
        check(len(got) == 1 and got[0]["rule_ids"][:2] == ["b180ead8-d58f-40b2-ae54-c8940995b9b6",
                                                          "a8418a5a-5fc4-46b5-b23b-6c73beb19d41"]
              and len(got[0]["evidence"]) == 11 and got[0]["severity"] == "high",
              "the example's brute force then logon: %r" % [(f["rule_ids"], len(f["evidence"])) for f in got])
        seq9 = "".join(row(i * 20, "DC01", "alice", "10.0.0.9", i + 1) for i in range(9))
        seq9 += row(300, "DC01", "alice", "10.0.0.9", 11, eid=4624)
        got = signals(run(D, ["hunt", "--jsonl", "--no-progress", "--no-builtin", "--rules", example,
                              tf("nine.jsonl", seq9)]).stdout)
        check(not got, "nine failures then a logon made a signal: %r" % got)

        # One loader, one verdict: rules check, rules list and hunt refuse the same rules.
        for name, text, why in (("loop.yml", LOOP, "loops back to itself"),
                                ("missing.yml", MISSING, "which is not a loaded rule")):
            path = tf(name, text)
            c = subprocess.run([D, "rules", "check", path], capture_output=True, text=True)
            l = subprocess.run([D, "rules", "list", "--no-builtin", "--rules", path], capture_output=True,
                               text=True)
            h = subprocess.run([D, "hunt", "--jsonl", "--no-progress", "--no-builtin", "--rules", path, burst],
                               capture_output=True, text=True)
            check(c.returncode == 3 and why in c.stderr and c.stdout.startswith("0 rules loaded"),
                  "rules check %s: exit %d %r %r" % (name, c.returncode, c.stdout, c.stderr[-300:]))
            check(why in l.stderr and "\n0 rules\n" in l.stdout, "rules list %s: %r" % (name, l.stdout[-200:]))
            check(why in h.stderr and not signals(h.stdout),
                  "hunt %s: refused the same rules and reported their base rule alone? %r %r" %
                  (name, h.stderr[-300:], h.stdout[-300:]))

        # rules show: the compiled correlation.
        r = run(D, ["rules", "show", "b180ead8-d58f-40b2-ae54-c8940995b9b6", "--no-builtin", "--rules",
                    example], ok=(0,))
        check("correlation: temporal_ordered within 600s" in r.stdout and
              "metric: different rules matched in the order listed" in r.stdout and
              "condition: none given, so every named rule (>= 2)" in r.stdout, "rules show: %r" % r.stdout)

    print("%d checks, %d failed" % (checks, len(fails)))
    for f in fails:
        print("FAIL:", f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
