#!/usr/bin/env python3
"""The knowledge table of COM objects as a user meets it (docs/com-objects.md):

- the corpus MMC20 positive names the object with its CLSID and AppID, and its guide takes
  remote activation away from "MMC Application Class" (the table's hardening text);
- `hunt --com-objects FILE` adds an in-house automation server: its activation, with a
  network logon behind it, becomes a lateral-movement finding naming it;
- a row replacing a built-in one (MMC20 declared benign) turns the corpus positive into no
  lateral-movement finding;
- a file that cannot be read or parsed is a usage error naming the file and the line."""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def hunt(dcomhunt, args, ok=(0, 1)):
    r = subprocess.run([dcomhunt, "hunt", "--jsonl", "--no-progress"] + args, capture_output=True, text=True)
    if r.returncode not in ok:
        raise SystemExit("hunt %s: exit %d\n%s" % (args, r.returncode, r.stderr[-1500:]))
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()], r


def nxlog(rec, t, host, **data):
    """An event as NXLog writes it (the OTRF layout dcomhunt reads)."""
    d = {"EventID": data.pop("EventID", 1), "Channel": data.pop("Channel", "Microsoft-Windows-Sysmon/Operational"),
         "SourceName": data.pop("SourceName", "Microsoft-Windows-Sysmon"), "Hostname": host,
         "RecordNumber": rec, "@timestamp": t, "EventTime": t.replace("T", " ")[:19]}
    if d["SourceName"] == "Microsoft-Windows-Sysmon":
        d["UtcTime"] = t.replace("T", " ").rstrip("Z")
    d.update(data)
    return json.dumps(d)


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

    lm = os.path.join(a.corpus, "EVTX-ATTACK-SAMPLES", "Lateral Movement", "LM_impacket_docmexec_mmc_sysmon_01.evtx")
    got, _ = hunt(D, [lm])
    lat = [f for f in got if f["kind"] == "lateral_movement"]
    check(len(lat) == 1 and lat[0]["objects"] and lat[0]["objects"][0] ==
          {"name": "MMC20.Application", "clsid": "{49B2791A-B1AE-4C90-9B8E-E860BA07F889}",
           "appid": "{7E0423CD-1119-0928-900C-E6D4A52A0715}"},
          "corpus MMC20: objects %s" % [f.get("objects") for f in lat])
    check(lat and any("MMC Application Class" in s for s in lat[0]["respond"]),
          "corpus MMC20: no response step from the table's hardening text")

    with tempfile.TemporaryDirectory() as d:
        # an in-house automation server, activated remotely
        events = os.path.join(d, "vendor.json")
        with open(events, "w") as f:
            f.write(nxlog(10, "2024-05-02T10:00:00.000Z", "APP01", EventID=4624, Channel="Security",
                          SourceName="Microsoft-Windows-Security-Auditing", LogonType="3",
                          TargetUserName="svc-x", TargetDomainName="CORP", TargetLogonId="0x7a7a",
                          IpAddress="10.5.5.5", IpPort="50123") + "\n")
            f.write(nxlog(11, "2024-05-02T10:00:01.000Z", "APP01", Image="D:\\Vendor\\VendorSrv.exe",
                          CommandLine="VendorSrv.exe -Embedding",
                          ParentImage="C:\\Windows\\System32\\svchost.exe",
                          ParentCommandLine="C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p",
                          ProcessGuid="{AAAAAAAA-0000-0000-0000-000000000001}", ProcessId="4242",
                          LogonId="0x7a7a", User="CORP\\svc-x") + "\n")
        table = os.path.join(d, "objects.yml")
        with open(table, "w") as f:
            f.write("objects:\n"
                    "  - name: Vendor.Automation\n"
                    "    clsid: ['{11111111-2222-3333-4444-555555555555}']\n"
                    "    servers: [{image: VendorSrv.exe, shape: [-Embedding]}]\n"
                    "    lateral: true\n"
                    "    hardening: Remove Remote Launch from Vendor Automation.\n")
        got, _ = hunt(D, ["--com-objects", table, events])
        lat = [f for f in got if f["kind"] == "lateral_movement"]
        check(len(lat) == 1 and lat[0]["com_object"] == "Vendor.Automation" and
              lat[0]["source"]["ip"] == "10.5.5.5" and
              any("Vendor Automation" in s for s in lat[0]["respond"]),
              "user row: %s" % [(f["kind"], f["com_object"], f["source"]) for f in got])
        # without the row the server is a generic COM server: still lateral movement (a
        # network logon is behind it), but no object is named
        got, _ = hunt(D, [events])
        lat = [f for f in got if f["kind"] == "lateral_movement"]
        check(len(lat) == 1 and lat[0]["com_object"] == "",
              "generic server: %s" % [(f["kind"], f["com_object"]) for f in got])

        benign = os.path.join(d, "benign.yml")
        with open(benign, "w") as f:
            f.write("objects:\n  - name: MMC20.Application\n"
                    "    clsid: ['{49B2791A-B1AE-4C90-9B8E-E860BA07F889}']\n"
                    "    servers: [{image: mmc.exe, shape: [-Embedding]}]\n    lateral: false\n")
        got, _ = hunt(D, ["--com-objects", benign, lm])
        check(not [f for f in got if f["kind"] == "lateral_movement"],
              "MMC20 declared benign still gives lateral movement")

        bad = os.path.join(d, "bad.yml")
        with open(bad, "w") as f:
            f.write("objects:\n  - name: X\n    clsid: not-a-guid\n")
        r = subprocess.run([D, "hunt", "--no-progress", "--com-objects", bad, lm], capture_output=True, text=True)
        check(r.returncode == 2 and "bad.yml" in r.stderr and "line 3" in r.stderr,
              "bad table: exit %d, %r" % (r.returncode, r.stderr[-300:]))
        r = subprocess.run([D, "hunt", "--no-progress", "--com-objects", os.path.join(d, "none.yml"), lm],
                           capture_output=True, text=True)
        check(r.returncode == 2 and "none.yml" in r.stderr, "missing table: exit %d" % r.returncode)
    for m in fails:
        print("FAIL:", m)
    print("%d passed, %d failed" % (checks - len(fails), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
