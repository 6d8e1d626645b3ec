#!/usr/bin/env python3
"""The same attack in different clothes gives the same findings: the corpus's EVTX files
are written out as Windows event XML (dcomhunt dump --xml), Winlogbeat/ECS JSON and
NXLog-style flat JSON (dump --to ecs|otrf), the ECS documents also as a JSON array, and
Defender advanced-hunting rows as JSON and CSV (dump --to mde-json|mde-csv), read
back, and hunted; the
findings must agree with those of the EVTX files (evidence named by record, ids aside),
and the events must agree one by one, except where XML 1.0 cannot carry a character
(C0 controls in 20 Security 4661 records become U+FFFD)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def run(cmd, ok=(0, 1)):
    r = subprocess.run(cmd, capture_output=True)
    if r.returncode not in ok:
        raise SystemExit("%s: exit %d %s" % (cmd, r.returncode, r.stderr[-500:]))
    return r.stdout


def findings(dcomhunt, paths, by_record=False):
    """The findings, ids aside; evidence by (record id, event id), or by record id alone
    (`by_record`: Defender rows have no event ids)."""
    out = run([dcomhunt, "hunt", "--jsonl", "--no-progress"] + paths)
    res = []
    for l in out.splitlines():
        f = json.loads(l)
        ev = [e["record_id"] if by_record else (e["record_id"], e["event_id"]) for e in f["evidence"]]
        res.append((f["kind"], f["target"]["host"], f["source"]["ip"], f["source"]["host"],
                    f["com_object"], f["user"], tuple(f["commands"]), tuple(sorted(ev))))
    return sorted(res)


class Pairs(list):
    """A JSON object as its (key, value) pairs, repeated keys kept."""


def dump_json(v, indent, depth=0):
    """json.dumps for values holding Pairs; `indent` None writes one line."""
    nl = "" if indent is None else "\n" + " " * (indent * (depth + 1))
    end = "" if indent is None else "\n" + " " * (indent * depth)
    if isinstance(v, Pairs):
        items = [json.dumps(k) + ": " + dump_json(x, indent, depth + 1) for k, x in v]
        return "{" + ",".join(nl + i for i in items) + (end if items else "") + "}"
    if isinstance(v, list):
        items = [dump_json(x, indent, depth + 1) for x in v]
        return "[" + ",".join(nl + i for i in items) + (end if items else "") + "]"
    return json.dumps(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    a = ap.parse_args()
    fails, checks = [], 0

    def check(cond, msg):
        nonlocal checks
        checks += 1
        if not cond:
            fails.append(msg)

    roots = [os.path.join(a.corpus, "EVTX-ATTACK-SAMPLES"), os.path.join(a.corpus, "EVTX-to-MITRE-Attack")]
    with tempfile.TemporaryDirectory() as d:
        xml = os.path.join(d, "events.xml")
        with open(xml, "wb") as f:
            f.write(run([a.dcomhunt, "dump", "--xml"] + roots, ok=(0,)))
        ev_a = [json.loads(l) for l in run([a.dcomhunt, "dump", "--fields"] + roots, ok=(0,)).splitlines()]
        ev_b = [json.loads(l) for l in run([a.dcomhunt, "dump", "--fields", xml], ok=(0,)).splitlines()]
        check(len(ev_a) == len(ev_b), "event counts %d vs %d" % (len(ev_a), len(ev_b)))
        strip = lambda e: {k: v for k, v in e.items() if k not in ("file", "chunk", "offset")}
        differ = [(x, y) for x, y in zip(ev_a, ev_b) if strip(x) != strip(y)]
        unexplained = [x for x, y in differ
                       if not any(ord(c) < 32 and c not in "\t\n\r" for v in x["data"].values()
                                  for c in (v if isinstance(v, str) else "".join(v)))]
        check(not unexplained, "%d events differ without a control character to explain it, "
              "first: record %s" % (len(unexplained), unexplained[0]["record_id"] if unexplained else ""))
        fa, fb = findings(a.dcomhunt, roots), findings(a.dcomhunt, [xml])
        check(fa == fb and fa, "findings differ: EVTX %d, XML %d" % (len(fa), len(fb)))
        check(any(f[0] == "lateral_movement" for f in fb), "no lateral_movement finding from XML")
        # Winlogbeat/ECS and NXLog-style flat JSON, written by dump --to and read back.
        for fmt in ("ecs", "otrf"):
            path = os.path.join(d, "events." + fmt + ".json")
            with open(path, "wb") as f:
                f.write(run([a.dcomhunt, "dump", "--to", fmt] + roots, ok=(0,)))
            ev_c = [json.loads(l) for l in run([a.dcomhunt, "dump", "--fields", path], ok=(0,)).splitlines()]
            # ECS keeps everything, System properties included (Level, Keywords, UserID...);
            # the flat layout loses data named like the shipper's own keys (Message,
            # Version, Channel, Category, AccountName: 20 events) and has no place for the
            # provider's EventSourceName (classic event sources).
            flat = (lambda e: dict(strip(e), system={k: v for k, v in e.get("system", {}).items()
                                                      if k != "EventSourceName"})) \
                if fmt == "otrf" else strip
            same = sum(flat(x) == flat(y) for x, y in zip(ev_a, ev_c))
            check(len(ev_c) == len(ev_a) and same >= len(ev_a) - (0 if fmt == "ecs" else 20),
                  "%s: %d of %d events the same" % (fmt, same, len(ev_a)))
            fc = findings(a.dcomhunt, [path])
            check(fc == fa, "%s: findings differ from EVTX (%d vs %d)" % (fmt, len(fc), len(fa)))
            if fmt != "ecs":
                continue
            # The same documents as a JSON array, on one line and pretty-printed (non-ASCII
            # as \u escapes), read as they are. Keys repeat in event data (Data), so objects
            # are kept as lists of pairs.
            with open(path, "rb") as f:
                rows = [json.loads(l, object_pairs_hook=Pairs) for l in f.read().splitlines() if l.strip()]
            for indent in (None, 2):
                arr = os.path.join(d, "events.array%s.json" % (indent or ""))
                with open(arr, "w") as f:
                    f.write(dump_json(rows, indent))
                ev_d = [json.loads(l) for l in run([a.dcomhunt, "dump", "--fields", arr], ok=(0,)).splitlines()]
                check(len(ev_d) == len(ev_c) and all(strip(x) == strip(y) for x, y in zip(ev_c, ev_d)),
                      "array (indent %s): events differ from JSON lines" % indent)
                fd = findings(a.dcomhunt, [arr])
                check(fd == fa, "array (indent %s): findings differ from EVTX (%d vs %d)"
                      % (indent, len(fd), len(fa)))
        # Defender advanced-hunting rows (dump --to mde-json|mde-csv): the tables hold
        # process, network, logon, image-load and registry events, nothing else. The
        # findings must agree with those of the original events of those kinds (the same
        # events written as ECS), evidence named by record id (ReportId).
        mde_kinds = {"process_creation", "network_connection", "logon", "logon_failed",
                     "image_load", "registry_add", "registry_delete", "registry_set"}
        ecs_path = os.path.join(d, "events.ecs.json")
        with open(ecs_path, "rb") as f:
            ecs_lines = [l for l in f.read().splitlines() if l.strip()]
        check(len(ecs_lines) == len(ev_a), "ECS lines %d vs events %d" % (len(ecs_lines), len(ev_a)))
        subset = os.path.join(d, "events.mde-subset.ecs.json")
        kept = [l for l, e in zip(ecs_lines, ev_a) if e["kind"] in mde_kinds]
        with open(subset, "wb") as f:
            f.write(b"\n".join(kept) + b"\n")
        f_sub = findings(a.dcomhunt, [subset], by_record=True)
        check(any(x[0] == "lateral_movement" for x in f_sub), "no lateral_movement in the Defender subset")
        ev_sub = [e for e in ev_a if e["kind"] in mde_kinds]
        for fmt in ("mde-json", "mde-csv"):
            path = os.path.join(d, "events." + fmt)
            with open(path, "wb") as f:
                f.write(run([a.dcomhunt, "dump", "--to", fmt] + roots, ok=(0,)))
            ev_m = [json.loads(l) for l in run([a.dcomhunt, "dump", "--fields", path], ok=(0,)).splitlines()]
            check(len(ev_m) == len(ev_sub), "%s: %d events, %d expected" % (fmt, len(ev_m), len(ev_sub)))
            diff = [(x, y) for x, y in zip(ev_sub, ev_m)
                    if x["kind"] != y["kind"] or x["record_id"] != y["record_id"] or x["time"] != y["time"]
                    or x["computer"] != y["computer"]]
            check(not diff, "%s: %d events differ in kind, record id, time or host; first %s"
                  % (fmt, len(diff), diff[0] if diff else ""))
            fm = findings(a.dcomhunt, [path], by_record=True)
            # Defender's image-load rows say nothing of the loaded file's signature: a
            # signal resting only on Sysmon 7's Signed field cannot be found in them.
            signed_loads = {e["record_id"] for e in ev_sub
                            if e["kind"] == "image_load" and "Signed" in e["data"]}
            only_orig = set(f_sub) - set(fm)
            unexplained = [x for x in only_orig
                           if not (x[0] == "signal" and set(x[7]) <= signed_loads)]
            check(not unexplained and not set(fm) - set(f_sub) and len(only_orig) <= 1,
                  "%s: findings differ from the original events (%d vs %d): %s"
                  % (fmt, len(fm), len(f_sub), sorted(set(fm) ^ set(f_sub))[:2]))
            check(sum(x[0] == "lateral_movement" for x in fm) ==
                  sum(x[0] == "lateral_movement" for x in f_sub),
                  "%s: lateral_movement findings differ" % fmt)
    for m in fails:
        print("FAIL:", m)
    print("%d passed, %d failed" % (checks - len(fails), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
