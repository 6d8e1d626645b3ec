#!/usr/bin/env python3
"""The analyst's side of every corpus positive (../shared/corpus/expected.tsv, rows
`lateral` and `attempt`): `hunt --explain` prints investigation steps, response steps and
pivot queries written with the finding's own values. For each positive:

- the steps name the real target host, the source, the account and (where the server ran
  anything) a command it ran; the JSONL carries the same steps and pivots;
- the KQL pivots hold the target's bare host name, the source address and the account,
  each inside a KQL string literal, with balanced parentheses, a known table first and a
  time window around the finding;
- the dcomhunt pivot, run as written on the same input, finds the same finding again.

An attacker-written value (a host name with quotes, a newline and a KQL pipe) cannot leave
its literal: checked on a crafted Defender CSV. Source-side activity (DistributedCOM 10028)
is told with the host that made the call as the one to isolate, not the host it named."""
import argparse
import csv
import io
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile


def run(dcomhunt, args, ok=(0, 1)):
    r = subprocess.run([dcomhunt] + args, capture_output=True, text=True)
    if r.returncode not in ok:
        raise SystemExit("%s: exit %d\n%s" % (args, r.returncode, r.stderr[-2000:]))
    return r.stdout


TABLES = {"DeviceLogonEvents", "DeviceProcessEvents", "DeviceNetworkEvents"}


def kql_literals(q):
    """The @"..." literals of a query, unquoted; and the query with them blanked."""
    lits, out, i = [], [], 0
    while i < len(q):
        if q.startswith('@"', i):
            j, s = i + 2, []
            while j < len(q):
                if q[j] == '"' and q[j + 1:j + 2] == '"':
                    s.append('"')
                    j += 2
                elif q[j] == '"':
                    break
                else:
                    s.append(q[j])
                    j += 1
            lits.append("".join(s))
            out.append('@""')
            i = j + 1
        elif q[i] == '"':
            j = q.index('"', i + 1)
            out.append(q[i:j + 1])
            i = j + 1
        else:
            out.append(q[i])
            i += 1
    return lits, "".join(out)


def kql_ok(q):
    lits, bare = kql_literals(q)
    depth = 0
    for c in bare:
        depth += c == "("
        depth -= c == ")"
        if depth < 0:
            return False, lits, "unbalanced"
    first = bare.split("\n", 1)[0].strip()
    if depth or first not in TABLES:
        return False, lits, "unbalanced or unknown table %r" % first
    if not re.search(r"\| where Timestamp between \(datetime\(\S+\) \.\. datetime\(\S+\)\)", bare):
        return False, lits, "no time window"
    return True, lits, ""


def bare_host(h):
    return h if h[:1].isdigit() else h.split(".")[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    a = ap.parse_args()
    D = a.dcomhunt
    fails, checks = [], 0

    def check(cond, msg):
        nonlocal checks
        checks += 1
        if not cond:
            fails.append(msg)

    rows = []
    with open(os.path.join(a.corpus, "expected.tsv")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            path, verdict, objects, target, source, _ = line.rstrip("\n").split("\t")
            if verdict in ("lateral", "attempt"):
                rows.append((os.path.join(a.corpus, path), verdict, objects, target, source))
    check(len(rows) >= 4, "expected.tsv has %d positives" % len(rows))
    for path, verdict, objects, target, source in rows:
        name = os.path.basename(path)
        fs = [json.loads(l) for l in run(D, ["hunt", "--jsonl", "--no-progress", path]).splitlines()]
        kind = "lateral_movement" if verdict == "lateral" else "attempt"
        mine = [f for f in fs if f["kind"] == kind and bare_host(f["target"]["host"]).lower() ==
                bare_host(target).lower()]
        check(mine, "%s: no %s finding on %s" % (name, kind, target))
        table = run(D, ["hunt", "--explain", "--no-progress", "--color", "never", path])
        for f in mine:
            inv, resp, piv = f.get("investigate", []), f.get("respond", []), f.get("pivots", [])
            steps = "\n".join(inv + resp)
            check(len(inv) >= 3 and len(resp) >= 2 and len(piv) >= 3,
                  "%s: %d/%d steps, %d pivots" % (name, len(inv), len(resp), len(piv)))
            check(f["target"]["host"] in steps, "%s: the steps do not name the target" % name)
            check(source in steps, "%s: the steps do not name the source %s" % (name, source))
            if f["user"]:
                check(f["user"] in steps, "%s: the steps do not name the account %s" % (name, f["user"]))
            if f["commands"]:
                check(any(c in steps for c in f["commands"]), "%s: no command in the steps" % name)
            kql = [p for p in piv if p["language"] == "kql"]
            lits = []
            for p in kql:
                ok, ls, why = kql_ok(p["query"])
                check(ok, "%s: pivot %r is not well-formed: %s" % (name, p["title"], why))
                lits += ls
            check(bare_host(f["target"]["host"]) in lits, "%s: no pivot names the target" % name)
            check(source in lits, "%s: no pivot names the source %s" % (name, source))
            if f["user"]:
                check(f["user"].split("\\")[-1] in lits, "%s: no pivot names the account" % name)
            if f["logon_id"].startswith("0x"):
                dec = str(int(f["logon_id"], 16))
                check(any(re.search(r"\bLogonId == %s\b" % dec, p["query"]) for p in kql),
                      "%s: no pivot holds logon id %s as %s" % (name, f["logon_id"], dec))
            # the table view shows the same steps
            for s in inv[:5] + resp[:3]:
                check(s in table, "%s: --explain does not show %r" % (name, s[:60]))
            # the dcomhunt pivot finds the same finding again
            cmd = [p["query"] for p in piv if p["language"] == "dcomhunt"]
            check(len(cmd) == 1, "%s: no dcomhunt pivot" % name)
            if cmd:
                argv = shlex.split(cmd[0])
                check(argv[:2] == ["dcomhunt", "hunt"] and path in argv, "%s: pivot command %r" % (name, cmd[0]))
                again = [json.loads(l) for l in run(D, argv[1:2] + ["--jsonl", "--no-progress"] + argv[2:]).splitlines()]
                check(any(g["id"] == f["id"] for g in again), "%s: the dcomhunt pivot loses the finding" % name)
        # OCSF carries the response steps as remediation
        oc = [json.loads(l) for l in run(D, ["hunt", "--ocsf", "--no-progress", path]).splitlines()]
        check(any(o.get("remediation", {}).get("desc") and o["unmapped"].get("pivots") for o in oc),
              "%s: OCSF without remediation or pivots" % name)

    # attacker-written values stay inside their literals
    with tempfile.TemporaryDirectory() as d:
        evil_host = 'ws1" | union (DeviceEvents) | where "1"=="1\nx'
        evil_user = "bob'\"; rm -rf /"
        cols = ["Timestamp", "DeviceName", "ActionType", "FileName", "FolderPath", "ProcessId",
                "ProcessCommandLine", "AccountDomain", "AccountName", "LogonId", "InitiatingProcessFileName",
                "InitiatingProcessFolderPath", "InitiatingProcessCommandLine", "InitiatingProcessId", "ReportId"]
        rows = [["2026-01-01T10:00:00Z", evil_host, "ProcessCreated", "mmc.exe", "C:\\Windows\\System32\\mmc.exe",
                 "3120", "C:\\Windows\\system32\\mmc.exe -Embedding", "corp", evil_user, "999", "svchost.exe",
                 "C:\\Windows\\System32\\svchost.exe", "svchost.exe -k DcomLaunch -p", "800", "1"],
                ["2026-01-01T10:00:02Z", evil_host, "ProcessCreated", "cmd.exe", "C:\\Windows\\System32\\cmd.exe",
                 "4000", "cmd.exe /c whoami", "corp", evil_user, "999", "mmc.exe",
                 "C:\\Windows\\System32\\mmc.exe", "C:\\Windows\\system32\\mmc.exe -Embedding", "3120", "2"]]
        s = io.StringIO()
        w = csv.writer(s, lineterminator="\r\n")
        w.writerow(cols)
        w.writerows(rows)
        p = os.path.join(d, "evil.csv")
        with open(p, "w", newline="") as f:
            f.write(s.getvalue())
        fs = [json.loads(l) for l in run(D, ["hunt", "--jsonl", "--no-progress", p]).splitlines()]
        check(fs, "crafted CSV: no finding")
        for f in fs:
            for q in f.get("pivots", []):
                if q["language"] == "kql":
                    ok, lits, why = kql_ok(q["query"])
                    _, bare = kql_literals(q["query"])
                    check(ok and "union" not in bare and "rm -rf" not in bare,
                          "crafted value escaped its literal: %r" % q["query"])
                else:
                    argv = shlex.split(q["query"])
                    check(argv[:2] == ["dcomhunt", "hunt"] and all("rm" != x for x in argv),
                          "crafted value split the command line: %r" % q["query"])
    # source-side activity: the steps name the host that made the call as the actor and
    # the host it named as the target (a DistributedCOM 10028 on WS01 naming SRV02)
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "source.jsonl")
        with open(p, "w") as f:
            f.write(json.dumps({"@timestamp": "2026-03-01T10:00:01.000Z", "Hostname": "WS01.corp.local",
                                "Channel": "System", "SourceName": "Microsoft-Windows-DistributedCOM",
                                "EventID": 10028, "RecordNumber": 12, "param1": "SRV02", "param2": "4242",
                                "param3": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                                "param4": "{49B2791A-B1AE-4C90-9B8E-E860BA07F889}"}) + "\n")
        fs = [json.loads(l) for l in run(D, ["hunt", "--jsonl", "--no-progress", p]).splitlines()]
        src = [f for f in fs if f["kind"] == "source_activity"]
        check(len(src) == 1, "10028: %d source_activity findings" % len(src))
        for f in src:
            check(f["investigate"][0].startswith("WS01.corp.local tried to activate") and
                  " on SRV02 " in f["investigate"][0], "10028 step: %r" % f["investigate"][0])
            check("isolate WS01.corp.local" in f["respond"][0], "10028 response: %r" % f["respond"][0])
    for m in fails:
        print("FAIL:", m)
    print("%d passed, %d failed" % (checks - len(fails), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
