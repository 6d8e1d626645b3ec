#!/usr/bin/env python3
"""dcomhunt's KQL through Microsoft's own Kusto parser and semantic analyzer (Kusto.Language,
npm @kusto/language-service-next, installed in tests/conformance/kql by scripts/bootstrap.sh),
against the documented schemas of the tables the queries read (tests/conformance/kql/
tables.json: Defender advanced hunting's Device* tables and DeviceFileCertificateInfo,
Sentinel's Event and SecurityEvent).

Every query must analyse with zero diagnostics (no unknown table, column or function, no
type error, no syntax error, no warning):

  - `rules export --to kql` of the built-in pack: all rules together, --split, --no-enrich,
    both; and each rule alone (the goldens in tests/data/kql-golden);
  - every Windows rule of SigmaHQ (../shared/sigmahq/rules/windows) the export translates,
    one query per rule (--split), which reaches every table and column mapping of the
    exporter;
  - 600 rules of one table in one query (an or of that many conditions must stay within the
    analyzer's syntax depth);
  - every KQL pivot of every finding on the corpus, and of crafted findings whose host names
    and accounts hold quotes, backslashes, newlines and KQL operators.

Planted faults must be caught: a column the table does not have, a table that does not
exist, a type error, a syntax error. A missing node or analyzer is a failure, not a skip."""
import argparse
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
KQL_DIR = os.path.join(HERE, "kql")


def run(D, args, ok=(0, 1, 3, 5)):
    r = subprocess.run([D] + args, capture_output=True, text=True)
    if r.returncode not in ok:
        raise SystemExit("%s: exit %d\n%s" % (args, r.returncode, r.stderr[-1500:]))
    return r.stdout


def blocks(text):
    """The queries of an export: blank lines separate them."""
    return [b for b in re.split(r"\n\s*\n", text.strip("\n")) if b.strip()]


def analyse(node, queries, jobs=2):
    """The analyzer's diagnostics of each query, in order; the queries split over `jobs`
    node processes (the analysis is CPU-bound: about 15 ms a query)."""
    cmd = [node, os.path.join(KQL_DIR, "kql_check.js"), os.path.join(KQL_DIR, "tables.json")]
    parts = [queries[i::jobs] for i in range(jobs)]
    with tempfile.TemporaryDirectory() as d:
        procs = []
        for i, part in enumerate(parts):
            inp = os.path.join(d, "in%d.json" % i)
            with open(inp, "w") as f:
                json.dump(part, f)
            out = open(os.path.join(d, "out%d.json" % i), "w+")
            with open(inp) as stdin:
                procs.append((subprocess.Popen(cmd, stdin=stdin, stdout=out, stderr=subprocess.PIPE, text=True), out))
        results = []
        for p, out in procs:
            err = p.communicate()[1]
            if p.returncode != 0:
                raise SystemExit("kql_check.js: exit %d\n%s" % (p.returncode, err[-2000:]))
            out.seek(0)
            results.append(json.load(out))
            out.close()
    merged = [None] * len(queries)
    for i, res in enumerate(results):
        if len(res) != len(parts[i]):
            raise SystemExit("kql_check.js answered %d of %d queries" % (len(res), len(parts[i])))
        merged[i::jobs] = res
    return merged


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--sigmahq", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--node", default="node")
    a = ap.parse_args()
    D = a.dcomhunt
    node = shutil.which(a.node) or a.node
    if not os.path.exists(node) or not os.path.isdir(
            os.path.join(KQL_DIR, "node_modules", "@kusto", "language-service-next")):
        print("FAIL: node (%s) or the Kusto analyzer (%s/node_modules) is missing: run "
              "scripts/bootstrap.sh, which installs nodejs and npm and runs npm ci there" % (a.node, KQL_DIR))
        return 1
    fails, checks = [], 0

    def check(cond, msg):
        nonlocal checks
        checks += 1
        if not cond:
            fails.append(msg)

    queries = []

    def add(origin, text):
        for i, q in enumerate(blocks(text)):
            queries.append({"name": "%s #%d" % (origin, i + 1), "query": q})

    # the built-in pack
    for opts in ([], ["--split"], ["--no-enrich"], ["--no-enrich", "--split"]):
        out = run(D, ["rules", "export", "--to", "kql"] + opts, ok=(0,))
        check(out.strip(), "rules export %s: nothing written" % opts)
        add("rules export --to kql %s" % " ".join(opts), out)
    golden = os.path.join(a.source, "tests", "data", "kql-golden")
    names = sorted(n for n in os.listdir(golden) if n.endswith(".kql"))
    check(len(names) >= 20, "%d golden queries" % len(names))
    for n in names:
        with open(os.path.join(golden, n)) as f:
            add("golden " + n, f.read())
    npack = len(queries)

    # SigmaHQ's Windows rules, one query each
    out = run(D, ["rules", "export", "--to", "kql", "--split", "--rules", os.path.join(a.sigmahq, "rules", "windows")])
    add("SigmaHQ", out)
    nsigma = len(queries) - npack
    check(nsigma >= 2000, "SigmaHQ: only %d queries exported" % nsigma)

    with tempfile.TemporaryDirectory() as d:
        # many rules of one table in one query
        rdir = os.path.join(d, "many")
        os.mkdir(rdir)
        for i in range(600):
            with open(os.path.join(rdir, "r%03d.yml" % i), "w") as f:
                f.write("title: many %d\nid: 00000000-0000-4000-8000-%012d\nlogsource:\n  category: process_creation\n"
                        "  product: windows\ndetection:\n  sel:\n    CommandLine|contains: 'token%d'\n"
                        "  condition: sel\nlevel: low\n" % (i, i, i))
        out = run(D, ["rules", "export", "--to", "kql", "--no-builtin", "--rules", rdir], ok=(0,))
        check(len(blocks(out)) == 1 and out.count(": many ") == 600 and "600 rules, one query" in out,
              "600 rules: not one query of 600")
        add("600 rules in one query", out)

        # pivots: the corpus, and findings holding hostile values
        pivots = 0

        def add_pivots(origin, path):
            nonlocal pivots
            for l in run(D, ["hunt", "--jsonl", "--no-progress", path]).splitlines():
                f = json.loads(l)
                for p in f["pivots"]:
                    if p["language"] == "kql":
                        queries.append({"name": "pivot %s %s: %s" % (origin, f["id"], p["title"]), "query": p["query"]})
                        pivots += 1

        add_pivots("corpus", a.corpus)
        evil_hosts = ['ws1" | union (DeviceEvents) | where "1"=="1\nx', "srv\\'; drop\\", "a\tb\rc",
                      'x@"y"', "100.64.0.1"]
        evil_users = ["bob'\"; rm -rf /", "CORP\\ev\"il", "a\\\\b", "x\n| take 1"]
        cols = ["Timestamp", "DeviceName", "ActionType", "FileName", "FolderPath", "ProcessId",
                "ProcessCommandLine", "AccountDomain", "AccountName", "LogonId", "InitiatingProcessFileName",
                "InitiatingProcessFolderPath", "InitiatingProcessCommandLine", "InitiatingProcessId", "ReportId"]
        rows = []
        for i, (h, u) in enumerate(zip(evil_hosts, evil_users + evil_users[:1])):
            t = "2026-01-0%dT10:00:0" % (i + 1)
            rows.append([t + "0Z", h, "ProcessCreated", "mmc.exe", "C:\\Windows\\System32\\mmc.exe", "3120",
                         "C:\\Windows\\system32\\mmc.exe -Embedding", "corp", u, "999", "svchost.exe",
                         "C:\\Windows\\System32\\svchost.exe", "svchost.exe -k DcomLaunch -p", "800", str(10 * i + 1)])
            rows.append([t + "2Z", h, "ProcessCreated", "cmd.exe", "C:\\Windows\\System32\\cmd.exe", "4000",
                         'cmd.exe /c "whoami" | x', "corp", u, "999", "mmc.exe", "C:\\Windows\\System32\\mmc.exe",
                         "C:\\Windows\\system32\\mmc.exe -Embedding", "3120", str(10 * i + 2)])
        s = io.StringIO()
        w = csv.writer(s, lineterminator="\r\n")
        w.writerow(cols)
        w.writerows(rows)
        evil = os.path.join(d, "evil.csv")
        with open(evil, "w", newline="") as f:
            f.write(s.getvalue())
        before = pivots
        add_pivots("hostile", evil)
        check(pivots - before >= 10, "hostile: only %d pivots" % (pivots - before))
        check(pivots >= 40, "only %d pivots in all" % pivots)

    # planted faults, analysed with the rest
    base = next(q["query"] for q in queries if q["name"].startswith("rules export --to kql --split")
                and "ProcessCommandLine" in q["query"])
    planted = [
        ("a column the table lacks", re.sub(r"\bProcessCommandLine\b", "ProcessCmdLine", base, count=1), "KS142",
         "ProcessCmdLine"),
        ("a table that does not exist", base.replace("DeviceProcessEvents", "DeviceProcessEvent", 1), "KS204", "DeviceProcessEvent"),
        ("a type error", "DeviceLogonEvents\n| where Timestamp > ago(1d) and AccountName > 5", "KS106", ">"),
        ("a syntax error", "DeviceLogonEvents\n| where (AccountName =~ @\"x\"", None, None),
        ("a SecurityEvent column from elsewhere", "SecurityEvent\n| where ImpersonationLevel == \"x\"", "KS142", "ImpersonationLevel"),
    ]
    for what, q, _, _ in planted:
        queries.append({"name": "planted: " + what, "query": q})

    results = analyse(node, queries)
    check(len(results) == len(queries), "the analyzer answered %d of %d queries" % (len(results), len(queries)))
    bad = 0
    for q, r in zip(queries, results):
        if r["name"].startswith("planted: "):
            what = r["name"][9:]
            code, text = next((c, t) for w_, _, c, t in planted if w_ == what)
            errs = [x for x in r["diagnostics"] if x["severity"] == "Error"]
            check(errs and (code is None or any(x["code"] == code and x["text"].startswith(text) for x in errs)),
                  "planted %s: not caught (%s)" % (what, r["diagnostics"][:2]))
            continue
        if r["diagnostics"]:
            bad += 1
            if bad <= 10:
                dd = r["diagnostics"][0]
                line = q["query"][:dd["start"]].count("\n") + 1
                check(False, "%s: %d diagnostics, first %s %s at line %d: %s (%r)"
                      % (r["name"], len(r["diagnostics"]), dd["severity"], dd["code"], line, dd["message"], dd["text"]))
    check(bad == 0, "%d of %d queries have diagnostics" % (bad, len(queries)))
    print("analysed: %d queries (built-in pack %d, SigmaHQ %d, pivots %d, planted %d)"
          % (len(queries), npack, nsigma, pivots, len(planted)))
    for m in fails:
        print("FAIL:", m)
    print("%d passed, %d failed" % (checks - len(fails), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
