#!/usr/bin/env python3
"""The seed hunting query's three patterns, as KQL would evaluate them, against the
pack's seed rules as dcomhunt evaluates them, on Defender-style DeviceProcessEvents rows.

KQL `has` / `has_any` match whole terms, case-insensitively: a value is split into maximal
runs of ASCII letters and digits, and a needle such as "cmd.exe" matches where it occurs
with no letter or digit right before or after it. The seed's columns are FileName and
InitiatingProcessFileName (the file names, not the folder paths). This script implements
that independently of dcomhunt and builds rows that probe every boundary (case, prefixes,
suffixes, look-alikes, terms inside folder names, UNC and non-ASCII folders). The same rows
then go through two legs, and any disagreement with the KQL verdict fails the test:

1. the rule vector harness: the rows as a vector file, one event per row and rule, with
   the KQL verdict for each rule (tests/vectors/run_vectors.c);
2. the real Defender readers: the rows as a Microsoft Defender advanced-hunting JSON-lines
   export (real column names, ISO 8601 UTC Timestamp, a distinct ReportId per row, a
   third of them above 2**53 and a third near 2**63 so that only exact integer handling
   keeps them apart; JSON written three ways: raw UTF-8, \\uXXXX for non-ASCII, and every
   backslash as \\u005c). `dcomhunt dump --fields` must give back every row once, with
   FolderPath and InitiatingProcessFolderPath decoded byte for byte (and mapped to Image
   and ParentImage); `dcomhunt hunt --detections --jsonl` must fire, on each row
   (identified by ReportId, printed as record_id), exactly the seed rules KQL selects,
   both with only the three seed rules loaded (--no-builtin --rules DIR, copies of
   rules/seed_*.yml) and with the built-in pack restricted by --rule. The same rows are
   also written as a CSV export (RFC 4180, BOM, CRLF) and checked the same way.

usage: kql_seed_equivalence.py RUN_VECTORS RULES_DIR --dcomhunt DCOMHUNT
"""
import argparse
import collections
import csv
import datetime
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile

SEED = {
    # name of the pack rule: (parent needles or None, child needles)
    "seed_com_suspicious_child": (
        ["mmc.exe", "excel.exe", "winword.exe", "outlook.exe", "powerpnt.exe", "visio.exe"],
        ["cmd.exe", "powershell.exe", "wscript.exe", "cscript.exe", "mshta.exe",
         "rundll32.exe", "regsvr32.exe", "certutil.exe"],
    ),
    "seed_mmc20_dcom": (["mmc.exe"], ["cmd.exe", "powershell.exe"]),
    "seed_dcom_config_tool": (None, ["dcomcnfg.exe"]),
}

# Folders the file names are put in (FolderPath is the folder plus FileName, as Defender
# writes it). Terms inside folder names must not count; the UNC, non-ASCII and astral
# (a UTF-16 surrogate pair in \uXXXX form) folders test the reader's JSON unescaping.
FOLDERS = ["C:\\Windows\\System32\\", "C:\\Program Files\\cmd.exe tools\\",
           "C:\\Users\\mmc.exe\\AppData\\", "",
           "\\\\fileserver\\share$\\mmc.exe\\", "C:\\Users\\Jos\u00e9\\AppData\\Local\\Temp\\",
           "C:\\ProgramData\\\U0001d4b3 cmd.exe\\",
           "C:\\Program Files (x86)\\Microsoft Office\\root\\Office16\\"]

MAX_REPORTED = 40  # disagreements printed in full; the rest are only counted


def is_alnum(c):
    return c.isascii() and c.isalnum()


def kql_has(value, needle):
    v, n = value.lower(), needle.lower()
    start = 0
    while True:
        i = v.find(n, start)
        if i < 0:
            return False
        before = i == 0 or not is_alnum(v[i - 1]) or not is_alnum(n[0])
        j = i + len(n)
        after = j == len(v) or not is_alnum(v[j]) or not is_alnum(n[-1])
        if before and after:
            return True
        start = i + 1


def kql_has_any(value, needles):
    return any(kql_has(value, x) for x in needles)


def variants(names):
    out = []
    for n in names:
        stem = n[:-4]
        out += [n, n.upper(), stem.capitalize() + ".EXE", "x" + n, "my-" + n, n + ".bak",
                n + "1", stem + "_" + "old.exe", "é" + n, n.replace(".exe", ".com"),
                stem + ".exe.exe", "(" + n + ")"]
    return out


def build_rows():
    """Rows as (parent FolderPath, parent FileName, child FolderPath, child FileName)."""
    parents = variants(SEED["seed_com_suspicious_child"][0]) + ["svchost.exe", "explorer.exe"]
    children = variants(SEED["seed_com_suspicious_child"][1] + ["dcomcnfg.exe"]) + [
        "calc.exe", "foxprow.exe"]
    rows = []
    for p, c in itertools.product(parents, children):
        pf = FOLDERS[len(rows) % len(FOLDERS)]
        cf = FOLDERS[(len(rows) // 3) % len(FOLDERS)]
        rows.append((pf + p, p, cf + c, c))
    return rows


def kql_verdict(row):
    """The set of seed rules whose KQL pattern selects the row."""
    _, pname, _, cname = row
    return {name for name, (pn, cn) in SEED.items()
            if (pn is None or kql_has_any(pname, pn)) and kql_has_any(cname, cn)}


# ---- leg 1: the rule vector harness -------------------------------------------------

def harness_leg(harness, rules_dir, rows, verdicts):
    lines = ["# generated by kql_seed_equivalence.py"]
    for name in SEED:
        lines.append("--- rule file " + os.path.join(rules_dir, name + ".yml"))
        for (pfolder, pname, cfolder, cname), want in zip(rows, verdicts):
            lines.append("--- event " + ("match" if name in want else "nomatch"))
            lines += ["provider: DeviceProcessEvents", "event_id: 0",
                      "FileName: " + cname, "FolderPath: " + cfolder,
                      "ProcessCommandLine: " + cname + " /c whoami",
                      "InitiatingProcessFileName: " + pname,
                      "InitiatingProcessFolderPath: " + pfolder]
    with tempfile.NamedTemporaryFile("w", suffix=".test", delete=False, encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    try:
        r = subprocess.run([harness, path], capture_output=True, text=True)
    finally:
        os.unlink(path)
    sys.stderr.write(r.stderr[-4000:])
    print("vector harness: " + r.stdout.strip())
    return r.returncode == 0


# ---- leg 2: a Defender advanced-hunting export through the real reader -------------

BASE_TIME = datetime.datetime(2024, 5, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)


def report_id(i):
    """Distinct per row; 2**53 + odd and 2**63 - 1 - i are not representable as doubles,
    so a reader that goes through a double merges or shifts them."""
    return (i + 1, 2**53 + 1 + 2 * i, 2**63 - 1 - i)[i % 3]


def timestamp(i):
    """Defender's Timestamp with 7, 3 or 0 fractional digits, and the 7-digit form
    dcomhunt prints."""
    t = (BASE_TIME + datetime.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S")
    frac = (i * 7919) % 10**7
    digits = (7, 3, 0)[i % 3]
    shown = "%07d" % frac if digits == 7 else ("%03d" % (frac // 10**4) if digits else "")
    written = t + ("." + shown if shown else "") + "Z"
    return written, t + "." + shown.ljust(7, "0") + "Z"


def command_line(i, folder_path, name):
    """Impacket's shape (backslashes, $), one ending in a backslash right before the
    closing quote (where a reader that scans back for an unescaped quote goes wrong), and
    a plain one; cycled in steps of 9 rows, so each meets every JSON spelling."""
    impacket = '"%s" /Q /c cd \\ 1> \\\\127.0.0.1\\ADMIN$\\__%d.5 2>&1'
    shapes = (impacket % (folder_path, 1714557600 + i), "%s /c cd \\" % name,
              '"%s" /c whoami' % name)
    return shapes[(i // 9) % 3]


def defender_row(i, row):
    pfolder, pname, cfolder, cname = row
    host = "wks-%02d.contoso.local" % (i % 7)
    obj = {
        "Timestamp": timestamp(i)[0],
        "DeviceId": hashlib.sha1(host.encode()).hexdigest(),
        "DeviceName": host,
        "ActionType": "ProcessCreated",
        "FileName": cname,
        "FolderPath": cfolder,
        "ProcessCommandLine": command_line(i, cfolder, cname),
        "ProcessId": 4000 + i,
        "InitiatingProcessFileName": pname,
        "InitiatingProcessFolderPath": pfolder,
        "InitiatingProcessCommandLine": '"%s" -Embedding' % pfolder,
        "InitiatingProcessId": 300 + i % 50,
        "AccountName": "user%d" % (i % 5),
        "AccountDomain": "contoso",
        "LogonId": 999000 + i,
        "ReportId": report_id(i),
    }
    if i % 2:  # the other half is found by ActionType, as in exports without Table
        obj["Table"] = "DeviceProcessEvents"
    return obj


def json_line(i, obj):
    """One export line, in one of three JSON spellings of the same object."""
    mode = (i // 3) % 3  # not i % 3, which picks the ReportId range
    if mode == 0:
        text = json.dumps(obj, ensure_ascii=False)
    else:
        text = json.dumps(obj, ensure_ascii=True)
        if mode == 2:
            # Every escaped backslash (the two characters \\) becomes \u005c. Escapes
            # are read left to right, so the first \\ of a run is always a whole escape.
            text = text.replace("\\\\", "\\u005c")
    if json.loads(text) != obj:
        raise SystemExit("internal: line %d does not round-trip" % i)
    return text


def run(cmd, want_rc):
    r = subprocess.run(cmd, capture_output=True)
    if r.returncode not in want_rc:
        raise SystemExit("%s: exit %d, wanted %s\n%s" % (
            " ".join(cmd), r.returncode, want_rc, r.stderr.decode("utf-8", "replace")[-2000:]))
    return [json.loads(l) for l in r.stdout.splitlines()]


def describe(obj):
    return "ReportId %d: %s -> %s (FolderPath %r, InitiatingProcessFolderPath %r)" % (
        obj["ReportId"], obj["InitiatingProcessFileName"], obj["FileName"],
        obj["FolderPath"], obj["InitiatingProcessFolderPath"])


def check_dump(dcomhunt, export, by_id, fail):
    """Every row read once, and its columns decoded exactly."""
    seen = collections.Counter()
    for ev in run([dcomhunt, "dump", "--fields", export], (0,)):
        rid = ev.get("record_id")
        obj = by_id.get(rid)
        seen[rid] += 1
        if obj is None:
            fail("dump: record_id %r is no ReportId written" % rid)
            continue
        i = obj["_row"]
        data, fields = ev.get("data", {}), ev.get("fields", {})
        want = [("channel", ev.get("channel"), "DeviceProcessEvents"),
                ("kind", ev.get("kind"), "process_creation"),
                ("computer", ev.get("computer"), obj["DeviceName"]),
                ("time", ev.get("time"), timestamp(i)[1]),
                ("Image", fields.get("Image"), obj["FolderPath"]),
                ("ParentImage", fields.get("ParentImage"), obj["InitiatingProcessFolderPath"]),
                ("CommandLine", fields.get("CommandLine"), obj["ProcessCommandLine"])]
        want += [(k, data.get(k), str(obj[k])) for k in (
            "FolderPath", "InitiatingProcessFolderPath", "FileName",
            "InitiatingProcessFileName", "InitiatingProcessCommandLine", "ReportId")]
        for what, got, expected in want:
            if got != expected:
                fail("dump: %s: %s is %r, wrote %r" % (describe(obj), what, got, expected))
    for rid, n in seen.items():
        if n != 1 and rid in by_id:
            fail("dump: ReportId %d read %d times" % (rid, n))
    for rid, obj in by_id.items():
        if rid not in seen:
            fail("dump: row missing: " + describe(obj))
    return sum(seen.values())


def check_hunt(label, detections, export, by_id, fail):
    """The seed rules fired on each row are exactly those KQL selects."""
    fired = collections.defaultdict(collections.Counter)
    for d in detections:
        rid, rule = d.get("record_id"), d.get("rule_name")
        obj = by_id.get(rid)
        if obj is None:
            fail("%s: detection of %s on record_id %r, no ReportId written" % (label, rule, rid))
            continue
        fired[rid][rule] += 1
        for what, got, expected in (("file", d.get("file"), export),
                                    ("host", d.get("host"), obj["DeviceName"]),
                                    ("time", d.get("time"), timestamp(obj["_row"])[1])):
            if got != expected:
                fail("%s: %s: %s of %s is %r, not %r" % (label, describe(obj), what, rule,
                                                          got, expected))
    for rid, obj in by_id.items():
        got, want = fired.get(rid, collections.Counter()), obj["_kql"]
        dup = sorted(r for r, n in got.items() if n > 1)
        if set(got) != want or dup:
            fail("%s: %s: KQL selects %s, dcomhunt fired %s%s" % (
                label, describe(obj), sorted(want), sorted(got),
                " (twice: %s)" % dup if dup else ""))
    return sum(len(c) for c in fired.values())


def reader_leg(dcomhunt, rules_dir, rows, verdicts):
    problems = []

    def fail(msg):
        if len(problems) < MAX_REPORTED:
            sys.stderr.write(msg + "\n")
        problems.append(msg)

    tmp = tempfile.mkdtemp(prefix="kql_seed_")
    try:
        seed_rules = os.path.join(tmp, "rules")
        os.mkdir(seed_rules)
        for name in SEED:
            shutil.copy(os.path.join(rules_dir, name + ".yml"), seed_rules)
        export = os.path.join(tmp, "DeviceProcessEvents.json")
        by_id = {}
        with open(export, "w", encoding="utf-8", newline="\n") as f:
            for i, (row, want) in enumerate(zip(rows, verdicts)):
                obj = defender_row(i, row)
                f.write(json_line(i, obj) + "\n")
                by_id[obj["ReportId"]] = dict(obj, _row=i, _kql=want)
        if len(by_id) != len(rows):
            raise SystemExit("internal: ReportIds are not distinct")

        # The same rows as a CSV export (RFC 4180, a BOM, CRLF; the Table column empty
        # where the JSON row has none).
        csv_export = os.path.join(tmp, "DeviceProcessEvents.csv")
        cols = [k for k in defender_row(1, rows[0]).keys()]
        with open(csv_export, "w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f, lineterminator="\r\n")
            w.writerow(cols)
            for obj in sorted(by_id.values(), key=lambda o: o["_row"]):
                w.writerow([obj.get(c, "") for c in cols])

        hunt = [dcomhunt, "hunt", "--detections", "--jsonl", "--no-progress"]
        want_rc = (1,) if any(verdicts) else (0,)
        only = [a for name in SEED for a in ("--rule", name)]
        n_read = n_dir = n_pack = 0
        for fmt, path in (("JSON", export), ("CSV", csv_export)):
            n_read = check_dump(dcomhunt, path, by_id, lambda m: fail(fmt + " " + m))
            n_dir = check_hunt(fmt + " hunt --no-builtin --rules DIR",
                               run(hunt + ["--no-builtin", "--rules", seed_rules, path], want_rc),
                               path, by_id, fail)
            n_pack = check_hunt(fmt + " hunt --rule (built-in pack)",
                                run(hunt + only + [path], want_rc), path, by_id, fail)
    finally:
        shutil.rmtree(tmp)
    print("Defender reader (JSON lines and CSV, each): %d rows written, %d read back; "
          "detections: %d (seed rules "
          "directory), %d (built-in pack with --rule), %d expected; %d disagreements" % (
              len(rows), n_read, n_dir, n_pack, sum(len(v) for v in verdicts), len(problems)))
    return not problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("harness", help="the run_vectors binary")
    ap.add_argument("rules_dir", help="the rules/ directory holding seed_*.yml")
    ap.add_argument("--dcomhunt", required=True, help="the dcomhunt binary")
    a = ap.parse_args()
    rows = build_rows()
    verdicts = [kql_verdict(r) for r in rows]
    counts = {name: sum(name in v for v in verdicts) for name in SEED}
    print("rows: %d; KQL selects %s" % (len(rows), counts))
    ok_harness = harness_leg(a.harness, a.rules_dir, rows, verdicts)
    ok_reader = reader_leg(a.dcomhunt, a.rules_dir, rows, verdicts)
    return 0 if ok_harness and ok_reader else 1


if __name__ == "__main__":
    sys.exit(main())
