#!/usr/bin/env python3
"""The round-trip promise (docs/formats.md), as a table: every input format dcomhunt reads,
written with every `dump --to` format and read back, gives the same events and hunting it
gives the same findings.

Inputs (real where the corpus has them): EVTX (the three DCOM positives), bare EVTX chunks,
the OTRF (NXLog JSON) ShellWindows capture (the minute around the movement), Zeek TSV
logs in a zip, Zeek JSON
lines with id_orig_h names, evtx_dump-style JSON (SigmaHQ's regression data, pretty-
printed, several objects in one file), Elastic Endpoint documents, and the EVTX positives
as Defender CSV, Windows event XML, Winlogbeat/ECS JSON and dump's own JSON.

What each output holds, and so what must come back:
  json, xml, ecs   every event as it was (envelope, kind, data, System properties, taxonomy
                   fields); XML 1.0 cannot hold C0 control characters (U+FFFD instead);
  otrf             the same, but data named like NXLog's own keys (Message, Version,
                   Channel, Category, AccountName...) and the provider's EventSourceName;
  mde-json/-csv    Defender's tables: process, network, logon, image-load and registry
                   events (kind, record id, time, host kept); others left out.
Findings: the same as hunting the input (ids and evidence file names aside); for the
Defender outputs, the same as hunting the input's events of Defender's kinds.

usage: roundtrip_matrix.py --dcomhunt PATH --corpus DIR --sigmahq DIR --elastic PY
"""
import argparse
import concurrent.futures
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import zipfile

FORMATS = ["json", "xml", "ecs", "otrf", "mde-json", "mde-csv"]
MDE_KINDS = {"process_creation", "network_connection", "logon", "logon_failed", "image_load",
             "registry_add", "registry_delete", "registry_set"}
POSITIVES = [
    "EVTX-ATTACK-SAMPLES/Lateral Movement/LM_impacket_docmexec_mmc_sysmon_01.evtx",
    "EVTX-to-MITRE-Attack/TA0008-Lateral Movement/T1021.003-Distributed Component Object "
    "Model (DCOM)/ID4688,4674-DCOMexec process spawned.evtx",
    "EVTX-ATTACK-SAMPLES/Lateral Movement/LM_dcom_shwnd_shbrwnd_mmc20_failed_traces_system_10016.evtx",
]
OTRF = ("Security-Datasets/datasets/atomic/windows/lateral_movement/host/"
        "empire_dcom_shellwindows_stager.zip")
ZEEK = ("Security-Datasets/datasets/compound/LSASS_campaign_01/"
        "metasploit_logonpasswords_lsass_memory_dump_zeek_logs.zip")
# Keys the flat NXLog layout, as dump --to otrf writes it, uses for the envelope and the
# System properties: event data so named cannot come back (it shares their key).
NXLOG_KEYS = {"@timestamp", "Hostname", "Channel", "SourceName", "EventID", "RecordNumber",
              "ProviderGuid", "ExecutionProcessID", "ThreadID", "UserID", "ActivityID",
              "RelatedActivityID", "Task", "Version", "OpcodeValue", "Keywords", "Level",
              "Qualifiers", "KernelTime", "UserTime", "ProcessorID"}


def run(dh, args, ok=(0,)):
    r = subprocess.run([dh] + args, capture_output=True, timeout=600)
    if r.returncode not in ok:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(args[:3]), r.returncode,
                                                r.stderr.decode("utf-8", "replace")[-400:]))
    return r.stdout


def events(dh, paths):
    return [json.loads(l) for l in run(dh, ["dump", "--fields"] + paths).splitlines()]


def findings(dh, paths, head=False):
    """The findings, ids aside. head: what a finding says (kind, target, source, object,
    account) without its commands and evidence: Defender's rows carry no process GUIDs, so
    a chain is linked by process id and time and may gather other children."""
    out = run(dh, ["hunt", "--jsonl", "--no-progress"] + paths, ok=(0, 1))
    res = []
    for l in out.splitlines():
        f = json.loads(l)
        ev = sorted(str(e.get("record_id")) for e in f["evidence"])
        x = [f["kind"], f["target"]["host"], f["source"]["ip"], f["source"]["host"],
             f["com_object"], f["user"]]
        res.append(json.dumps(x if head else x + [f["commands"], ev]))
    return sorted(res)


def strip(e):
    return {k: v for k, v in e.items() if k not in ("file", "chunk", "offset")}


def xml_safe(e):
    """The event as XML 1.0 can hold it: C0 controls (but tab, LF, CR) become U+FFFD."""
    fix = lambda s: "".join("\ufffd" if ord(c) < 32 and c not in "\t\n\r" else c for c in s)
    out = {}
    for k, v in strip(e).items():
        if isinstance(v, dict):
            v = {fix(n): ([fix(x) for x in x_] if isinstance(x_, list) else fix(x_))
                 for n, x_ in ((n, x) for n, x in v.items())}
        elif isinstance(v, str):
            v = fix(v)
        out[k] = v
    return out


def flat_safe(e):
    """The event as the flat NXLog layout can hold it."""
    out = strip(e)
    out["data"] = {k: v for k, v in e.get("data", {}).items() if k not in NXLOG_KEYS}
    out["system"] = {k: v for k, v in e.get("system", {}).items() if k != "EventSourceName"}
    out.pop("fields", None)  # follow from the data: compared through the findings
    return out


def make_sources(a, d):
    """name -> list of paths."""
    c = lambda p: os.path.join(a.corpus, p)
    src = {"evtx": [c(p) for p in POSITIVES], "zeek-tsv-zip": [c(ZEEK)]}
    # The OTRF capture's lines of the minute around the ShellWindows movement (2,880 of
    # 32,706, background included): the whole file costs minutes under the sanitizers.
    with zipfile.ZipFile(c(OTRF)) as z:
        lines = z.read(z.namelist()[0]).splitlines()
    times = [e["time"] for e in events(a.dcomhunt, [c(OTRF)])]
    otrf = os.path.join(d, "otrf-attack-minute.json")
    with open(otrf, "wb") as f:
        f.write(b"".join(l + b"\n" for l, t in zip(lines, times)
                         if "2020-09-18T17:08:05" <= t <= "2020-09-18T17:09:05"))
    src["otrf"] = [otrf]
    # Bare chunks: the Sysmon positive without its 4 KiB file header.
    chunks = os.path.join(d, "mmc20.chunks")
    with open(c(POSITIVES[0]), "rb") as f, open(chunks, "wb") as g:
        g.write(f.read()[4096:])
    src["evtx-chunks"] = [chunks]
    # Zeek JSON lines as exporters without dots in names write them.
    with zipfile.ZipFile(c(ZEEK)) as z:
        lines = z.read("conn.log").decode().splitlines()
    fields = next(l for l in lines if l.startswith("#fields")).split("\t")[1:]
    zj = os.path.join(d, "conn.json")
    with open(zj, "w") as f:
        for l in lines:
            if l.startswith("#"):
                continue
            row = {k.replace(".", "_"): v for k, v in zip(fields, l.split("\t")) if v != "-"}
            row["ts"] = float(row["ts"])
            f.write(json.dumps(row) + "\n")
    src["zeek-json"] = [zj]
    # evtx_dump JSON: SigmaHQ's copies of its regression samples (pretty-printed).
    picked = []
    for root, _, names in sorted(os.walk(os.path.join(a.sigmahq, "regression_data"))):
        for n in sorted(names):
            if n.endswith(".json"):
                picked.append(os.path.join(root, n))
    src["evtx_dump-json"] = picked[:40]
    # Elastic Endpoint documents.
    spec = importlib.util.spec_from_file_location("elastic", a.elastic)
    el = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(el)
    ej = os.path.join(d, "elastic.json")
    with open(ej, "w") as f:
        f.write("\n".join(json.dumps(x) for x in el.attack()) + "\n")
    src["elastic"] = [ej]
    # The positives as the other formats dcomhunt writes (and reads).
    for fmt, ext in (("mde-csv", "csv"), ("xml", "xml"), ("ecs", "json"), ("json", "json")):
        p = os.path.join(d, "positives.%s.%s" % (fmt, ext))
        with open(p, "wb") as f:
            f.write(run(a.dcomhunt, ["dump", "--to", fmt] + src["evtx"]))
        src["as-" + fmt] = [p]
    return src


def cell(a, d, name, paths, fmt, base_events, base_findings, mde_findings):
    """One (input, output) pair; returns a list of failures."""
    fails = []
    out = os.path.join(d, "%s.to.%s" % (name, fmt))
    with open(out, "wb") as f:
        f.write(run(a.dcomhunt, ["dump", "--to", fmt] + paths))
    back = events(a.dcomhunt, [out])
    if fmt.startswith("mde"):
        want = [e for e in base_events if e["kind"] in MDE_KINDS]
        key = lambda e: (e["kind"], e["record_id"], e["time"], e["computer"].lower())
        if sorted(map(key, want)) != sorted(map(key, back)):
            fails.append("%s -> %s: %d events of Defender's kinds, %d back" %
                         (name, fmt, len(want), len(back)))
        got = findings(a.dcomhunt, [out], head=True)
        if got != mde_findings:
            fails.append("%s -> %s: findings differ (%d, want %d)" %
                         (name, fmt, len(got), len(mde_findings)))
        return fails
    norm = {"xml": xml_safe, "otrf": flat_safe}.get(fmt, strip)
    if len(back) != len(base_events):
        fails.append("%s -> %s: %d events, %d back" % (name, fmt, len(base_events), len(back)))
    else:
        diff = [(x, y) for x, y in zip(base_events, back) if norm(x) != norm(y)]
        if diff:
            x, y = diff[0]
            keys = [k for k in norm(x) if norm(x).get(k) != norm(y).get(k)]
            fails.append("%s -> %s: %d of %d events differ; first record %s: %s: %.200s | %.200s"
                         % (name, fmt, len(diff), len(back), x.get("record_id"), keys,
                            json.dumps(norm(x).get(keys[0])) if keys else "",
                            json.dumps(norm(y).get(keys[0])) if keys else ""))
    got = findings(a.dcomhunt, [out])
    if got != base_findings:
        fails.append("%s -> %s: findings differ (%d, want %d)" %
                     (name, fmt, len(got), len(base_findings)))
    return fails


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--sigmahq", required=True)
    ap.add_argument("--elastic", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    fails, cells = [], 0
    with tempfile.TemporaryDirectory() as d:
        src = make_sources(a, d)
        base = {}
        for name, paths in list(src.items()):
            try:
                evs = events(a.dcomhunt, paths)
                sub = os.path.join(d, name + ".mde-kinds.json")
                with open(sub, "w") as f:
                    f.write("".join(json.dumps(e) + "\n" for e in evs if e["kind"] in MDE_KINDS))
                base[name] = (evs, findings(a.dcomhunt, paths),
                              findings(a.dcomhunt, [sub], head=True))
            except RuntimeError as e:
                fails.append("%s: cannot be read: %s" % (name, e))
                del src[name]
                continue
            if not evs:
                fails.append("%s: no events read" % name)
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
            futs = {ex.submit(cell, a, d, name, paths, fmt, *base[name]): (name, fmt)
                    for name, paths in src.items() for fmt in FORMATS}
            for fu in concurrent.futures.as_completed(futs):
                cells += 1
                try:
                    fails += fu.result()
                except RuntimeError as e:
                    fails.append("%s -> %s: %s" % (futs[fu] + (e,)))
        for name in src:
            evs, fi, _ = base[name]
            print("%-16s %6d events, %d findings" % (name, len(evs), len(fi)))
    for f in sorted(fails):
        print("FAIL " + f)
    print("%d inputs x %d outputs: %d cells, %d failures" % (len(src), len(FORMATS), cells,
                                                            len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
