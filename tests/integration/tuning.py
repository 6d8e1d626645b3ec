#!/usr/bin/env python3
"""Tuning on the corpus: a filter for the admin jump host of a corpus positive (the
Security-only MMC20 chain from 10.23.123.11) turns that finding into a suppressed one,
counted in the summary, shown marked with --show-suppressed (JSONL, OCSF, table), and
nothing else changes. Filters by command line, host, account and finding kind do what
they say; a filter past its expiry is not applied and says so; a rule in a tuning file, or
a filter without a reason, stops the run; the ready examples in docs/tuning load and
suppress nothing in the corpus. `tune suggest` proposes filters for recurring findings,
and a proposal, once given a reason, suppresses what it was made from."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

JUMP = """title: Admin jump host administers servers with MMC
id: 8f1c6f0e-3f5e-4a53-9d0c-6f1d2b7c9a10
reason: change CHG-1234, JUMP01 may use MMC remotely
expires: %s
logsource:
  product: windows
filter:
  rules:
    - dcom_mmc20_activation
  selection:
    SourceIp|cidr: 10.23.123.0/28
  condition: not selection
"""


def run(D, args, ok=(0, 1)):
    r = subprocess.run([D] + args, capture_output=True, text=True)
    if r.returncode not in ok:
        raise SystemExit("%s: exit %d\n%s" % (args, r.returncode, r.stderr[-1500:]))
    return r


def jsonl(out):
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--source", required=True)
    a = ap.parse_args()
    D = a.dcomhunt
    roots = [os.path.join(a.corpus, "EVTX-ATTACK-SAMPLES"), os.path.join(a.corpus, "EVTX-to-MITRE-Attack")]
    fails, checks = [], 0

    def check(cond, msg):
        nonlocal checks
        checks += 1
        if not cond:
            fails.append(msg)

    base = jsonl(run(D, ["hunt", "--jsonl", "--no-progress"] + roots).stdout)
    target = [f for f in base if f["kind"] == "lateral_movement" and f["source"]["ip"] == "10.23.123.11"]
    check(len(target) == 1, "the corpus has no single finding from 10.23.123.11")
    with tempfile.TemporaryDirectory() as d:
        def tf(name, text):
            p = os.path.join(d, name)
            with open(p, "w") as f:
                f.write(text)
            return p

        jump = tf("jump.yml", JUMP % "2099-12-31")
        r = run(D, ["hunt", "--jsonl", "--no-progress", "--tune", jump] + roots)
        tuned = jsonl(r.stdout)
        check(r.returncode == 1, "exit %d with other findings left" % r.returncode)
        check(sorted(f["id"] for f in tuned) == sorted(f["id"] for f in base if f not in target),
              "tuning changed more than the jump host's finding")
        check(all(f in base for f in tuned), "a finding left by tuning differs from the untuned one")
        check("suppressed by tuning: 1 (lateral_movement 1" in r.stderr, "summary: %r" % r.stderr[-400:])
        shown = jsonl(run(D, ["hunt", "--jsonl", "--no-progress", "--show-suppressed", "--tune", jump] + roots).stdout)
        sup = [f for f in shown if f.get("suppressed")]
        check(len(sup) == 1 and target and sup[0]["id"] == target[0]["id"] and
              sup[0]["suppressed_by"]["reason"].startswith("change CHG-1234") and
              sup[0]["suppressed_by"]["expires"] == "2099-12-31",
              "--show-suppressed: %s" % [f.get("suppressed_by") for f in sup])
        check(shown[-1].get("suppressed"), "suppressed findings are not printed last")
        oc = jsonl(run(D, ["hunt", "--ocsf", "--no-progress", "--show-suppressed", "--tune", jump] + roots).stdout)
        check(sum(o.get("status_id") == 3 and o.get("status") == "Suppressed" for o in oc) == 1,
              "OCSF: no single finding with status Suppressed")
        table = run(D, ["hunt", "--no-progress", "--color", "never", "--show-suppressed", "--tune", jump] + roots).stdout
        check("SUPPRESSED lateral_movement" in table and "change CHG-1234" in table, "table: no suppressed mark")
        # only the jump host's finding: the same file alone gives nothing, exit 0
        sec = os.path.join(roots[1], "TA0008-Lateral Movement",
                           "T1021.003-Distributed Component Object Model (DCOM)", "ID4688,4674-DCOMexec process spawned.evtx")
        r = run(D, ["hunt", "--jsonl", "--no-progress", "--tune", jump, sec], ok=(0,))
        check(not jsonl(r.stdout), "the suppressed finding was printed")

        # expired: not applied, and said
        old = tf("old.yml", JUMP % "2020-01-31")
        r = run(D, ["hunt", "--jsonl", "--no-progress", "--tune", old] + roots)
        check(sorted(f["id"] for f in jsonl(r.stdout)) == sorted(f["id"] for f in base) and
              "expired on 2020-01-31" in r.stderr, "expired filter: %r" % r.stderr[-300:])

        # by command line (any command of the chain), by host, by account, by kind
        lm_sysmon = [f for f in base if f["kind"] == "lateral_movement" and f["source"]["ip"] == "10.0.2.19"]
        cases = [
            ("cmd", "CommandLine|contains: 'whoami'", lm_sysmon),
            ("child", "ChildImage|endswith: '\\whoami.exe'", lm_sysmon),
            ("host", "ComputerName|startswith: 'srvdefender01'", target),
            ("account", "TargetUserName: 'admmig'", target),
            ("kind", "FindingKind: 'attempt'", [f for f in base if f["kind"] == "attempt"]),
        ]
        for name, sel, expect in cases:
            p = tf(name + ".yml", "title: by %s\nreason: test\nfilter:\n  rules: []\n  sel:\n    %s\n"
                   "  condition: not sel\n" % (name, sel))
            got = jsonl(run(D, ["hunt", "--jsonl", "--no-progress", "--tune", p] + roots).stdout)
            gone = sorted(f["id"] for f in base if f["id"] not in {g["id"] for g in got})
            check(expect and gone == sorted(f["id"] for f in expect),
                  "filter by %s removed %s, expected %s" % (name, gone, [f["id"] for f in expect]))
        # a filter naming another rule does not apply
        p = tf("other.yml", (JUMP % "2099-12-31").replace("dcom_mmc20_activation", "dcom_iexplore_activation"))
        got = jsonl(run(D, ["hunt", "--jsonl", "--no-progress", "--tune", p] + roots).stdout)
        check(len(got) == len(base), "a filter for another rule suppressed something")

        # refused files
        rule = tf("rule.yml", "title: a rule\nlogsource:\n  category: process_creation\n  product: windows\n"
                  "detection:\n  s:\n    Image|endswith: '\\x.exe'\n  condition: s\n")
        r = run(D, ["hunt", "--no-progress", "--tune", rule] + roots, ok=(2,))
        check("is a rule, not a filter" in r.stderr, "a rule in a tuning file: %r" % r.stderr[-300:])
        noreason = tf("noreason.yml", "title: no reason\nfilter:\n  rules: []\n  s:\n    User: x\n  condition: not s\n")
        r = run(D, ["hunt", "--no-progress", "--tune", noreason] + roots, ok=(2,))
        check("no reason" in r.stderr and "noreason.yml" in r.stderr, "filter without reason: %r" % r.stderr[-300:])

        # the ready examples load and suppress nothing in the corpus
        ex = os.path.join(a.source, "docs", "tuning", "examples.yml")
        r = run(D, ["hunt", "--jsonl", "--no-progress", "--tune", ex] + roots)
        check(sorted(f["id"] for f in jsonl(r.stdout)) == sorted(f["id"] for f in base) and
              "suppressed by tuning: 0" in r.stderr, "examples: %r" % r.stderr[-300:])

        # tune suggest
        fj = tf("f.jsonl", "".join(json.dumps(f) + "\n" for f in base) * 3 + "not json\n")
        r = run(D, ["tune", "suggest", fj], ok=(3,))
        check("line %d: not a finding" % (3 * len(base) + 1) in r.stderr, "suggest: bad line not named")
        prop = r.stdout
        check(prop.count("\ntitle: ") >= 3 and "SourceIp: '10.23.123.11'" in prop, "suggest: %s" % prop[:400])
        # refused until a reason is given; with one, it suppresses what it came from
        pp = tf("prop.yml", prop)
        run(D, ["hunt", "--no-progress", "--tune", pp] + roots, ok=(2,))
        filled = tf("filled.yml", prop.replace("reason: ''", "reason: 'reviewed'"))
        r = run(D, ["hunt", "--jsonl", "--no-progress", "--tune", filled] + roots, ok=(0,))
        check(not jsonl(r.stdout), "accepted proposals left findings: %s" % r.stdout[:300])
        r = run(D, ["tune", "suggest", "--min", "100", fj], ok=(3,))
        check("nothing recurs 100 times" in r.stdout, "suggest --min 100: %s" % r.stdout[:300])
    for m in fails:
        print("FAIL:", m)
    print("%d passed, %d failed" % (checks - len(fails), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
