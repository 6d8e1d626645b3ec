#!/usr/bin/env python3
"""Flags do what they say, in every mode, or are refused (docs/commands/hunt.md), and a
pattern that backtracks without end neither stalls the hunt nor hides an event
(docs/rules.md, Regular expressions).

- --min-level LEVEL: only findings of that severity or above (it changed their severity);
- --rule ID, --no-builtin --rules PATH: only findings that involve those rules;
- --jsonl/--csv/--ocsf together, --ocsf/--explain/--html/--tune with --detections,
  --explain with --csv, --show-suppressed without --tune, --from after --to, --color
  with a bad value: usage errors (exit 2);
- a rule path that cannot be read, a directory without rules: usage errors for hunt and
  rules check; rules check --help is help;
- --from/--to: a date alone as --to is that whole day, ISO 8601 offsets are accepted;
- regular expressions: '(a+)+b|evil' on 20,000 a's then "evil" is reported (undecided)
  and fast; Kleene logic keeps `sel and not filter` undecided; the summary counts the
  events and names the rule once; rules check warns on the nested quantifier;
- smaller: stats most frequent first, --detections --csv in time order, the progress
  bar never past the input's size (an archive), --html to a missing directory fails at
  once with the reason, rules show / rules export name what is wrong, version gives the
  rule pack, help and dump --help say what they should, a correlation finding names its
  rule by title.
"""
import argparse
import csv
import gzip
import io
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile

LEVELS = ["informational", "low", "medium", "high", "critical"]

fails, checks = [], [0]


def check(cond, msg):
    checks[0] += 1
    if not cond:
        fails.append(msg)
    return cond


def run(args, stdin=None):
    r = subprocess.run(args, capture_output=True, input=stdin)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def jsonl(text):
    return [json.loads(l) for l in text.split("\n") if l]


def sysmon1(rec, cmd, t="2020-10-17 10:00:01.000", host="H1"):
    return json.dumps({"EventID": 1, "SourceName": "Microsoft-Windows-Sysmon",
                       "Channel": "Microsoft-Windows-Sysmon/Operational", "Hostname": host,
                       "RecordNumber": rec, "UtcTime": t, "Image": "C:\\x\\a.exe", "CommandLine": cmd,
                       "ParentImage": "C:\\x\\p.exe"}) + "\n"


RULE = """title: %s
id: %s
logsource: {category: process_creation, product: windows}
detection:
%s
level: high
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    a = ap.parse_args()
    D, C = a.dcomhunt, a.corpus
    tmp = tempfile.mkdtemp()
    try:
        flags(D, C, tmp)
        regexes(D, tmp)
        smaller(D, C, tmp)
    finally:
        shutil.rmtree(tmp)
    for m in fails:
        print("FAIL:", m)
    print("%d checks, %d failed" % (checks[0], len(fails)))
    return 1 if fails else 0


def flags(D, C, tmp):
    base = ["hunt", "--no-progress", "--jsonl"]
    rc, out, _ = run([D] + base + [C])
    every = jsonl(out)
    check(any(f["severity"] == "high" for f in every), "corpus: no high finding to filter")
    # --min-level: findings below are not shown (nor counted in the exit status)
    for lvl in ("medium", "high", "critical"):
        rc, out, err = run([D] + base + ["--min-level", lvl, C])
        fs = jsonl(out)
        check(all(LEVELS.index(f["severity"]) >= LEVELS.index(lvl) for f in fs),
              "--min-level %s shows %r" % (lvl, sorted({f["severity"] for f in fs})))
        want = [f["id"] for f in every if LEVELS.index(f["severity"]) >= LEVELS.index(lvl)]
        check(sorted(f["id"] for f in fs) == sorted(want), "--min-level %s: not the same findings" % lvl)
        if not fs:
            check(rc in (0, 3), "--min-level %s: nothing shown but exit %d" % (lvl, rc))
    # --rule: only findings that involve the rule
    rid = "dcom_mmc20_activation"
    rc, out, err = run([D] + base + ["--rule", rid, C])
    fs = jsonl(out)
    check(fs and all(rid in f["rule_names"] for f in fs),
          "--rule %s shows findings without it: %r" % (rid, [f["rule_names"] for f in fs if rid not in f["rule_names"]][:3]))
    # the chains keep their severity and confidence (every rule still builds them)
    full = {f["id"]: f for f in every}
    check(all(full.get(f["id"], {}).get("confidence") == f["confidence"] for f in fs),
          "--rule changed a finding's confidence")
    # --no-builtin --rules DIR: only findings of those rules
    rd = os.path.join(tmp, "myrules")
    os.mkdir(rd)
    with open(os.path.join(rd, "whoami.yml"), "w") as f:
        f.write(RULE % ("Whoami run", "6a8b5f8e-1111-4c1d-9e0a-000000000001",
                        "  sel:\n    CommandLine|contains: whoami\n  condition: sel"))
    rc, out, err = run([D] + base + ["--no-builtin", "--rules", rd, C])
    fs = jsonl(out)
    check(fs and all(f["rule_ids"] == ["6a8b5f8e-1111-4c1d-9e0a-000000000001"] or
                     "6a8b5f8e-1111-4c1d-9e0a-000000000001" in f["rule_ids"] for f in fs),
          "--no-builtin --rules: findings without the user's rule: %r" %
          [f["kind"] for f in fs if "6a8b5f8e-1111-4c1d-9e0a-000000000001" not in f["rule_ids"]][:5])
    # conflicting or idle flags: usage errors
    tune = os.path.join(tmp, "tune.yml")
    with open(tune, "w") as f:
        f.write("title: t\nid: 6a8b5f8e-1111-4c1d-9e0a-000000000002\nfilter:\n  rules: []\n"
                "  selection:\n    User: nobody\n  condition: not selection\nreason: test\n")
    for args in (["--jsonl", "--csv"], ["--csv", "--ocsf"], ["--jsonl", "--ocsf"],
                 ["--detections", "--ocsf"], ["--detections", "--explain"],
                 ["--detections", "--html", os.path.join(tmp, "x.html")],
                 ["--detections", "--tune", tune], ["--explain", "--csv"], ["--show-suppressed"],
                 ["--from", "2020-01-02", "--to", "2020-01-01"], ["--from", "2020-02-30"],
                 ["--color", "blue"], ["--detections", "--window", "60"], ["--detections", "--skew", "1"],
                 ["--rules", os.path.join(tmp, "nonexistent.yml")],
                 ["--tune", os.path.join(tmp, "nonexistent.yml")], ["--rules", os.path.join(tmp, "empty")]):
        os.makedirs(os.path.join(tmp, "empty"), exist_ok=True)
        rc, out, err = run([D, "hunt", "--no-progress"] + args + [C])
        check(rc == 2 and out == "" and err.strip() and "summary" not in err,
              "hunt %s: exit %d, want a usage error (2) before reading: %r" % (" ".join(args), rc, err[-200:]))
    check(not os.path.exists(os.path.join(tmp, "x.html")), "a refused --html left a file")
    # the same flags accepted where they work
    for args in (["--jsonl", "--explain"], ["--ocsf"], ["--detections", "--csv"], ["--detections", "--jsonl"],
                 ["--tune", tune, "--show-suppressed"], ["--color", "never"]):
        rc, out, err = run([D, "hunt", "--no-progress"] + args + [os.path.join(C, "EVTX-ATTACK-SAMPLES")])
        check(rc in (0, 1, 3, 5) and out, "hunt %s: exit %d, no output" % (" ".join(args), rc))
    # rules check: a path that cannot be read, an empty directory, --help
    rc, out, err = run([D, "rules", "check", os.path.join(tmp, "empty")])
    check(rc == 2 and "no rule files" in err, "rules check EMPTYDIR: exit %d %r" % (rc, err))
    rc, out, err = run([D, "rules", "check", os.path.join(tmp, "nonexistent.yml")])
    check(rc == 2 and "nonexistent.yml" in err, "rules check MISSING: exit %d %r" % (rc, err))
    rc, out, err = run([D, "rules", "check", "--help"])
    check(rc == 0 and "usage" in out and "refused" not in err, "rules check --help: exit %d %r" % (rc, err))
    rc, out, err = run([D, "rules", "list", "--rules", os.path.join(tmp, "nonexistent.yml")])
    check(rc == 2, "rules list --rules MISSING: exit %d" % rc)
    # --from/--to: a date alone as --to is its whole day; offsets are ISO 8601
    day = os.path.join(C, "EVTX-ATTACK-SAMPLES", "Lateral Movement", "LM_impacket_docmexec_mmc_sysmon_01.evtx")
    rc, out, _ = run([D, "hunt", "--no-progress", "--jsonl", "--from", "2019-04-30", "--to", "2019-04-30", day])
    one_day = jsonl(out)
    check(len(one_day) == 1 and one_day[0]["kind"] == "lateral_movement",
          "--from 2019-04-30 --to 2019-04-30: %d findings, want the day's chain" % len(one_day))
    rc, out, _ = run([D, "hunt", "--no-progress", "--jsonl", "--from", "2019-04-30T22:35:00+02:00",
                      "--to", "2019-04-30T22:35:14+0200", day])
    check([f["id"] for f in jsonl(out)] == [f["id"] for f in one_day],
          "--from/--to with +02:00 offsets do not give the chain at 20:35Z")
    rc, out, _ = run([D, "hunt", "--no-progress", "--jsonl", "--from", "2019-04-30T22:35:12+02:00", day])
    check(all(f["first_seen"] >= "2019-04-30T20:35:12" for f in jsonl(out)), "--from with an offset is not UTC")
    rc, out, _ = run([D, "hunt", "--no-progress", "--jsonl", "--to", "2019-04-29", day])
    check(jsonl(out) == [] and rc == 0, "--to the day before: %d findings" % len(jsonl(out)))


def regexes(D, tmp):
    evil = os.path.join(tmp, "evil.jsonl")
    pad = "a" * 20000
    with open(evil, "w") as f:
        for i in range(50):
            f.write(sysmon1(i + 1, pad + " evil"))
        f.write(sysmon1(51, "cmd /c evil"))
        f.write(sysmon1(52, "hello"))
    rules = os.path.join(tmp, "re.yml")
    with open(rules, "w") as f:
        f.write(RULE % ("Catastrophic", "6a8b5f8e-1111-4c1d-9e0a-000000000010",
                        "  sel:\n    CommandLine|re: '(a+)+b|evil'\n  condition: sel") + "---\n")
        f.write(RULE % ("Filtered", "6a8b5f8e-1111-4c1d-9e0a-000000000011",
                        "  sel:\n    Image|endswith: a.exe\n  filter:\n    CommandLine|re: '^(a+)+$'\n"
                        "  condition: sel and not filter"))
    rc, out, err = run([D, "rules", "check", rules])
    check(rc == 0 and err.count("repeats a group that holds a repetition") == 2,
          "rules check: no nested-quantifier warning for each pattern: %r" % err)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    rc, out, err = run([D, "hunt", "--no-progress", "--no-builtin", "--rules", rules, "--detections", "--jsonl", evil])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    det = jsonl(out)
    cat = [d for d in det if d["title"] == "Catastrophic"]
    check(len(cat) == 51, "'(a+)+b|evil': %d detections, want 51 (50 padded and undecided, 1 plain)" % len(cat))
    check(sum(1 for d in cat if d.get("undecided")) == 50 and
          not [d for d in cat if "cmd /c evil" in d["fields"] and d.get("undecided")],
          "padded events are not marked undecided (or the plain one is)")
    check(not any("hello" in d["fields"] for d in cat), "a value without evil matched")
    flt = [d for d in det if d["title"] == "Filtered"]
    check(len(flt) == 52 and sum(1 for d in flt if d.get("undecided")) == 50,
          "sel and not filter: %d detections, %d undecided (want 52, 50: an undecided filter does not "
          "hide)" % (len(flt), sum(1 for d in flt if d.get("undecided"))))
    check(cpu < 20, "52 events with a catastrophic pattern took %.1f s CPU" % cpu)
    check(re.search(r"undecided: 50 events", err) and err.count("warning: rule 'Catastrophic'") == 1 and
          err.count("warning: rule 'Filtered'") == 1,
          "summary or warnings missing: %r" % err[-800:])
    rc, out, err = run([D, "hunt", "--no-progress", "--no-builtin", "--rules", rules, "--jsonl", evil])
    fs = jsonl(out)
    check(fs and sum(1 for f in fs if "6a8b5f8e-1111-4c1d-9e0a-000000000010" in f.get("undecided_rules", [])) == 50,
          "findings do not carry undecided_rules: %r" % [f.get("undecided_rules") for f in fs][:3])
    rc, out, err = run([D, "hunt", "--no-progress", "--no-builtin", "--rules", rules, "--detections", "--csv", evil])
    rows = list(csv.DictReader(io.StringIO(out)))
    check(rows and sum(1 for r in rows if r.get("undecided") == "yes") == 100, "CSV: undecided column")


def smaller(D, C, tmp):
    # stats: most frequent first
    rc, out, err = run([D, "stats", C])
    counts = [int(l.split("\t")[0]) for l in out.split("\n")[1:] if l]
    check(counts and counts == sorted(counts, reverse=True), "stats is not most frequent first")
    # --detections --csv and --jsonl: a timeline
    sub = os.path.join(C, "EVTX-ATTACK-SAMPLES")
    rc, out, err = run([D, "hunt", "--no-progress", "--detections", "--csv", sub])
    times = [r["time"] for r in csv.DictReader(io.StringIO(out))]
    check(len(times) > 10 and times == sorted(times), "--detections --csv is not in time order")
    rc, out, err = run([D, "hunt", "--no-progress", "--detections", "--jsonl", sub])
    times = [d["time"] for d in jsonl(out)]
    check(len(times) > 10 and times == sorted(times), "--detections --jsonl is not in time order")
    # the progress bar counts an archive's bytes on disk, not the decompressed ones
    lines = os.path.join(tmp, "big.jsonl.gz")
    with gzip.open(lines, "wt") as f:
        for i in range(60000):
            f.write(sysmon1(i + 1, "same command %d" % (i % 7)))
    if check(shutil.which("script"), "script(1) is missing (bsdutils)"):
        r = subprocess.run(["script", "-q", "-e", "-c", "%s hunt --detections --jsonl %s > /dev/null" % (D, lines),
                            "/dev/null"], capture_output=True)
        bars = re.findall(rb"(\d+)%  ([0-9.]+) / ([0-9.]+) MB", r.stdout)
        check(bars, "no progress bar on a terminal: %r" % r.stdout[-300:])
        check(all(float(d) <= float(t) and int(p) <= 100 for p, d, t in bars),
              "the progress bar goes past the input: %r" % bars[-3:])
    # --html to a directory that does not exist: at once, with the reason
    rc, out, err = run([D, "hunt", "--no-progress", "--html", "/nonexistent-dir/r.html", sub])
    check(rc == 2 and "No such file or directory" in err and "summary" not in err,
          "--html /nonexistent-dir/r.html: exit %d %r" % (rc, err[-200:]))
    # rules show / rules export name what is wrong
    rc, out, err = run([D, "rules", "show", "nosuch"])
    check(rc == 2 and "'nosuch'" in err, "rules show nosuch: %r" % err)
    rc, out, err = run([D, "rules", "export", "--to", "splunk"])
    check(rc == 2 and "unknown format 'splunk'" in err, "rules export --to splunk: %r" % err)
    # version, help, dump --help
    rc, out, err = run([D, "version"])
    check(re.search(r"rule pack: \d+ rules from \d+ files, digest [0-9a-f]{16}", out), "version: %r" % out)
    rc, out, err = run([D, "help"])
    check("1 detections" not in out and "1 findings" in out, "help: %r" % out[-300:])
    rc, out, err = run([D, "dump", "--help"])
    check(re.search(r"usage: dcomhunt dump \[--to FORMAT\]", out), "dump --help: %r" % out[:200])
    # a correlation finding names its rule by title when it has no name
    corr = os.path.join(tmp, "corr.yml")
    with open(corr, "w") as f:
        f.write("title: a command\nname: a_command\nid: 6a8b5f8e-1111-4c1d-9e0a-000000000020\n"
                "logsource: {category: process_creation, product: windows}\ndetection:\n  sel:\n"
                "    CommandLine|contains: same command\n  condition: sel\nlevel: low\n---\n"
                "title: the same command again and again\nid: 6a8b5f8e-1111-4c1d-9e0a-000000000021\n"
                "correlation:\n  type: event_count\n  rules: [a_command]\n  group-by: [Computer]\n"
                "  timespan: 5m\n  condition: {gte: 3}\nlevel: high\n")
    small = os.path.join(tmp, "small.jsonl")
    with open(small, "w") as f:
        for i in range(4):
            f.write(sysmon1(i + 1, "same command"))
    rc, out, err = run([D, "hunt", "--no-progress", "--color", "never", "--no-builtin", "--rules", corr, small])
    check("rules    the same command again and again" in out, "correlation finding: %r" % out[:600])


if __name__ == "__main__":
    sys.exit(main())
