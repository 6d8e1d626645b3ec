#!/usr/bin/env python3
"""Inputs where users have them: standard input, compressed files and archives (members
recognised by content, named archive!member), each giving the same events as the plain
file."""
import argparse
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile


def events(dcomhunt, args, stdin=None):
    r = subprocess.run([dcomhunt, "dump"] + args, input=stdin, capture_output=True)
    if r.returncode not in (0,):
        raise SystemExit("dump %s: exit %d %s" % (args, r.returncode, r.stderr[-500:]))
    return [json.loads(l) for l in r.stdout.splitlines()]


def strip(evs):
    return [{k: v for k, v in e.items() if k not in ("file", "chunk", "offset")} for e in evs]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    a = ap.parse_args()
    evtx = os.path.join(a.corpus, "EVTX-ATTACK-SAMPLES", "Lateral Movement",
                        "LM_impacket_docmexec_mmc_sysmon_01.evtx")
    sec = os.path.join(a.corpus, "EVTX-to-MITRE-Attack", "TA0008-Lateral Movement",
                       "T1021.003-Distributed Component Object Model (DCOM)",
                       "ID4688,4674-DCOMexec process spawned.evtx")
    fails, checks = [], 0

    def check(cond, msg):
        nonlocal checks
        checks += 1
        if not cond:
            fails.append(msg)

    plain = events(a.dcomhunt, [evtx])
    raw = open(evtx, "rb").read()
    check(strip(events(a.dcomhunt, ["-"], raw)) == strip(plain), "EVTX on stdin differs")
    with tempfile.TemporaryDirectory() as d:
        gz = os.path.join(d, "log.bin")  # no telling extension: content decides
        with gzip.open(gz, "wb") as f:
            f.write(raw)
        got = events(a.dcomhunt, [gz])
        check(strip(got) == strip(plain), "gzip'd EVTX differs")
        check(all(e["file"] == gz + "!data" or e["file"].startswith(gz + "!") for e in got),
              "gzip member not named archive!member: %s" % got[0]["file"])
        tar = os.path.join(d, "collection.tar")
        jl = "\n".join(json.dumps({"EventID": 4624, "Channel": "security", "Hostname": "WS9",
                                   "SourceName": "Microsoft-Windows-Security-Auditing",
                                   "EventTime": "2022-01-01 10:00:00", "LogonType": "3",
                                   "IpAddress": "10.0.0.9", "TargetLogonId": "0x99",
                                   "RecordNumber": 7 + i}) for i in range(3)) + "\n"
        with tarfile.open(tar, "w") as t:
            t.add(sec, arcname="triage/Security.evtx")
            info = tarfile.TarInfo("triage/shipper.json")
            info.size = len(jl.encode())
            t.addfile(info, io.BytesIO(jl.encode()))
            info = tarfile.TarInfo("triage/README.txt")
            info.size = 5
            t.addfile(info, io.BytesIO(b"notes"))
        got = events(a.dcomhunt, ["--fields", tar])
        names = sorted({e["file"] for e in got})
        check(names == [tar + "!triage/Security.evtx", tar + "!triage/shipper.json"],
              "tar members: %s" % names)
        js = [e for e in got if e["file"].endswith("shipper.json")]
        check(len(js) == 3 and all(e["channel"] == "Security" and e["kind"] == "logon" and
                                   e["fields"].get("SourceIp") == "10.0.0.9" for e in js),
              "JSON lines in the tar: %s" % js[:1])
        check(strip([e for e in got if e["file"].endswith(".evtx")]) == strip(events(a.dcomhunt, ["--fields", sec])),
              "EVTX in the tar differs from the plain file")
        bad = os.path.join(d, "bad.json")
        with open(bad, "w") as f:
            f.write(jl.splitlines()[0] + "\n{not json\n" + jl.splitlines()[1] + "\n")
        r = subprocess.run([a.dcomhunt, "dump", bad], capture_output=True, text=True)
        check(r.returncode == 3 and len(r.stdout.splitlines()) == 2 and "line 2" in r.stderr,
              "a malformed line is reported with its line and skipped: rc %d, %s" % (r.returncode, r.stderr))
        # JSON arrays: pretty-printed, a malformed element in the middle (line 7), an
        # element cut short at the end; the good elements are read, the bad ones named.
        rows = jl.splitlines()
        arr = os.path.join(d, "rows.json")
        with open(arr, "w") as f:
            f.write("\ufeff[\n  " + rows[0] + ",\n\n\n\n\n  {\"EventID\": oops},\n  " + rows[1] +
                    ",\n  " + rows[2][:40] + "\n")
        r = subprocess.run([a.dcomhunt, "dump", "--fields", arr], capture_output=True, text=True)
        got = [json.loads(l) for l in r.stdout.splitlines()]
        check(r.returncode == 3 and [e["record_id"] for e in got] == [7, 8] and
              "line 7" in r.stderr and "not complete" in r.stderr,
              "JSON array with bad elements: rc %d, %s, %s" % (r.returncode, [e["record_id"] for e in got], r.stderr))
        with open(arr, "w") as f:
            f.write("[" + ",".join(rows) + "]")
        arrtar = os.path.join(d, "rows.tar")
        with tarfile.open(arrtar, "w") as t:
            t.add(arr, arcname="rows.json")
        for path in (arr, arrtar):
            got = events(a.dcomhunt, ["--fields", path])
            check(strip(got) == strip(js), "JSON array %s differs from the JSON lines" % path)
        # Archives inside archives (one level): a zip of a zip, a gzip'd EVTX and a .tgz,
        # read in a stream, named outer!inner!member; a cut-short inner archive is named
        # and the outer archive's other members are still read.
        import zipfile
        inner_zip = os.path.join(d, "inner.zip")
        with zipfile.ZipFile(inner_zip, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(evtx, "host1/Sysmon.evtx")
        inner_tgz = os.path.join(d, "inner.tgz")
        with tarfile.open(inner_tgz, "w:gz") as t:
            t.add(evtx, arcname="host2/Sysmon.evtx")
        with open(inner_zip, "rb") as f:
            cut = f.read()[:3000]
        outer = os.path.join(d, "collection.zip")
        with zipfile.ZipFile(outer, "w", zipfile.ZIP_STORED) as z:
            z.write(inner_zip, "a/inner.zip")
            z.writestr("b/cut.zip", cut)
            z.writestr("c/Sysmon.evtx.gz", gzip.compress(raw))
            z.write(inner_tgz, "d/inner.tgz")
        r = subprocess.run([a.dcomhunt, "dump", outer], capture_output=True)
        got = [json.loads(l) for l in r.stdout.splitlines()]
        names = sorted(set(e["file"] for e in got))
        want = [outer + "!a/inner.zip!host1/Sysmon.evtx", outer + "!d/inner.tgz!host2/Sysmon.evtx"]
        check(names[0] == want[0] and names[-1] == want[1] and len(names) == 3 and
              names[1].startswith(outer + "!c/Sysmon.evtx.gz!"),
              "nested archives: members %s" % names)
        per = {n: strip([e for e in got if e["file"] == n]) for n in names}
        check(all(v == strip(plain) for v in per.values()), "nested archives: events differ")
        check(r.returncode == 3 and (outer + "!b/cut.zip") in r.stderr.decode(),
              "cut-short inner archive: rc %d, %r" % (r.returncode, r.stderr[:300]))
    for m in fails:
        print("FAIL:", m)
    print("%d passed, %d failed" % (checks - len(fails), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
