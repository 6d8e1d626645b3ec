#!/usr/bin/env python3
"""Defender / Sentinel CSV exports and Zeek logs, read as users hold them.

CSV: RFC 4180 records (quoted commas, doubled quotes, line ends inside a command line), a
UTF-8 BOM and CRLF, the portal's layout (Timestamp, no table column) and Log Analytics'
("TimeGenerated [UTC]" in US notation, a Type column), ReportIds beyond a double, registry
rows whose key and value name are joined as Sysmon writes them, a malformed record named
by line, batches cut inside quoted line ends, a CSV inside a zip.

Zeek: dce_rpc.log and conn.log in TSV and as JSON lines give the same events; a row that
does not fit its header is named by line; logs concatenated with a second header; the
header carried across batches. The wire joins findings: the DCOM activation seen on the
wire (ISystemActivator RemoteCreateInstance to 135, then the dynamic port) from a finding's
source to its target becomes evidence of that finding and nothing else changes; traffic of
other hosts is left out of it (an activation with automation calls that no host log
explains is a low-confidence finding of its own), and a target whose address no log gives
gets it from the wire only when the source activated one host."""
import argparse
import csv
import io
import json
import re
import os
import subprocess
import sys
import tempfile
import zipfile

BIG = 2 ** 63 - 25  # a ReportId no double holds


def run(dcomhunt, args, ok=(0,)):
    r = subprocess.run([dcomhunt] + args, capture_output=True)
    if r.returncode not in ok:
        raise SystemExit("%s: exit %d %s" % (args, r.returncode, r.stderr[-800:]))
    return r


def dump(dcomhunt, path, ok=(0,)):
    r = run(dcomhunt, ["dump", "--fields", path], ok)
    return [json.loads(l) for l in r.stdout.splitlines()], r


def findings(dcomhunt, paths):
    r = run(dcomhunt, ["hunt", "--jsonl", "--no-progress"] + paths, ok=(0, 1))
    return [json.loads(l) for l in r.stdout.splitlines()]


def strip(evs):
    return [{k: v for k, v in e.items() if k not in ("file", "chunk", "offset")} for e in evs]


PROC_COLS = ["Timestamp", "DeviceId", "DeviceName", "ActionType", "FileName", "FolderPath",
             "ProcessId", "ProcessCommandLine", "AccountDomain", "AccountName", "LogonId",
             "InitiatingProcessFileName", "InitiatingProcessFolderPath",
             "InitiatingProcessCommandLine", "InitiatingProcessId", "ReportId"]


def proc_row(i, cmd, parent="C:\\Windows\\System32\\mmc.exe", child="C:\\Windows\\System32\\cmd.exe"):
    return ["2026-11-20T10:%02d:%02d.1234567Z" % (i // 60 % 60, i % 60), "dev%d" % i, "ws1.corp.local",
            "ProcessCreated", child.rsplit("\\", 1)[1], child, str(4000 + i), cmd, "corp", "alice",
            "999", parent.rsplit("\\", 1)[1], parent, parent + " -Embedding", "3000", str(BIG - i)]


def to_csv(header, rows, bom=True):
    s = io.StringIO()
    w = csv.writer(s, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return ("\ufeff" if bom else "") + s.getvalue()


ZEEK_HEAD = ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
             "#path\t%s\n#open\t2019-04-30-20-35-10\n#fields\t%s\n#types\t%s\n")
DCE_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "rtt",
              "named_pipe", "endpoint", "operation"]
CONN_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto",
               "service", "duration", "orig_bytes", "resp_bytes", "conn_state", "history",
               "tunnel_parents"]


def zeek_tsv(path, fields, rows):
    out = ZEEK_HEAD % (path, "\t".join(fields), "\t".join("string" for _ in fields))
    for r in rows:
        out += "\t".join(r) + "\n"
    return out + "#close\t2019-04-30-21-00-00\n"


def zeek_json(fields, rows):
    out = []
    for r in rows:
        o = {}
        for k, v in zip(fields, r):
            if v == "-":
                continue
            if v == "(empty)":
                continue
            o[k] = float(v) if k == "ts" else int(v) if k.endswith("_p") else v
        out.append(json.dumps(o))
    return "\n".join(out) + "\n"


def wire(src, dst, t, uid, port=49155):
    """A DCOM activation as Zeek logs it: endpoint mapper, activation, the object's port."""
    dce = [["%.6f" % t, uid, src, "49720", dst, "135", "0.000410", "135", "IObjectExporter", "ServerAlive2"],
           ["%.6f" % (t + 0.004), uid, src, "49720", dst, "135", "0.021000", "135", "ISystemActivator",
            "RemoteCreateInstance"],
           ["%.6f" % (t + 0.8), uid + "x", src, "49721", dst, str(port), "0.000300", str(port),
            "00020400-0000-0000-c000-000000000046", "opnum-6"]]
    conn = [["%.6f" % t, uid, src, "49720", dst, "135", "tcp", "dce_rpc", "0.05", "1200", "900", "SF",
             "ShADadFf", "(empty)"],
            ["%.6f" % (t + 0.8), uid + "x", src, "49721", dst, str(port), "tcp", "dce_rpc", "2.1", "5000",
             "4000", "SF", "ShADadFf", "(empty)"]]
    return dce, conn


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

    with tempfile.TemporaryDirectory() as d:
        # -- Defender portal CSV --------------------------------------------------------
        tricky = ['cmd.exe /c "echo a,b" && echo ""quoted""', "powershell -c \"1\"\nwhoami /all",
                  "  leading and trailing spaces  ", "=HYPERLINK(\"x\")"]
        rows = [proc_row(i, tricky[i % len(tricky)]) for i in range(8)]
        p = os.path.join(d, "export.dat")
        with open(p, "w", encoding="utf-8", newline="") as f:
            f.write(to_csv(PROC_COLS, rows))
        evs, _ = dump(D, p)
        check(len(evs) == 8, "portal CSV: %d events, 8 expected" % len(evs))
        check(all(e["kind"] == "process_creation" and e["channel"] == "DeviceProcessEvents" for e in evs),
              "portal CSV: not process_creation from DeviceProcessEvents")
        check([e["fields"].get("CommandLine") for e in evs] == [r[7] for r in rows],
              "portal CSV: command lines not exact: %r" % [e["fields"].get("CommandLine") for e in evs][:4])
        check([e["record_id"] for e in evs] == [BIG - i for i in range(8)], "portal CSV: ReportId not exact")
        check(evs[0]["time"] == "2026-11-20T10:00:00.1234567Z" and evs[0]["computer"] == "ws1.corp.local",
              "portal CSV: time or host wrong: %s %s" % (evs[0]["time"], evs[0]["computer"]))
        check(evs[0]["fields"].get("User") == "corp\\alice" and
              evs[0]["fields"].get("ParentImage") == "C:\\Windows\\System32\\mmc.exe",
              "portal CSV: User/ParentImage wrong: %s" % evs[0]["fields"])
        det = run(D, ["hunt", "--detections", "--jsonl", "--no-progress", p], ok=(0, 1)).stdout
        check(b"seed_mmc20_dcom" in det, "portal CSV: the seed MMC20 rule did not fire on mmc.exe -> cmd.exe")

        # -- Log Analytics / Sentinel CSV: TimeGenerated [UTC] in US notation, Type -----
        la_cols = ["TenantId", "TimeGenerated [UTC]", "DeviceName", "ActionType", "LogonType", "AccountDomain",
                   "AccountName", "RemoteIP", "RemotePort", "LogonId", "Protocol", "ReportId", "Type"]
        la_rows = [["t1", "11/20/2026, 10:15:30.123 PM", "SRV01", "LogonSuccess", "Network", "corp", "bob",
                    "10.1.1.5", "50100", "123456", "NTLM", "77", "DeviceLogonEvents"],
                   ["t1", "11/20/2026, 12:05:00 AM", "SRV01", "LogonFailed", "Network", "corp", "bob",
                    "10.1.1.5", "50101", "", "NTLM", "78", "DeviceLogonEvents"]]
        p2 = os.path.join(d, "sentinel.csv")
        with open(p2, "w", encoding="utf-8", newline="") as f:
            f.write(to_csv(la_cols, la_rows, bom=False))
        evs, _ = dump(D, p2)
        check([e["time"] for e in evs] == ["2026-11-20T22:15:30.1230000Z", "2026-11-20T00:05:00.0000000Z"],
              "Sentinel CSV: times %s" % [e["time"] for e in evs])
        check([e["kind"] for e in evs] == ["logon", "logon_failed"] and
              evs[0]["fields"].get("LogonType") == "3" and evs[0]["fields"].get("SourceIp") == "10.1.1.5",
              "Sentinel CSV: logon mapping %s" % [(e["kind"], e["fields"]) for e in evs])

        # -- registry: key and value name joined, hive abbreviated, the pack rule fires --
        reg_cols = ["Timestamp", "DeviceName", "ActionType", "RegistryKey", "RegistryValueName",
                    "RegistryValueData", "InitiatingProcessFolderPath", "ReportId"]
        reg = [["2026-11-20T10:00:00Z", "SRV01", "RegistryValueSet",
                "HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\AppID\\{7e0423cd-1119-0928-900c-e6d4a52a0715}",
                "RunAs", "Interactive User", "C:\\Windows\\regedit.exe", "5"]]
        p3 = os.path.join(d, "reg.csv")
        with open(p3, "w", encoding="utf-8", newline="") as f:
            f.write(to_csv(reg_cols, reg))
        evs, _ = dump(D, p3)
        check(evs and evs[0]["fields"].get("TargetObject") ==
              "HKLM\\SOFTWARE\\Classes\\AppID\\{7e0423cd-1119-0928-900c-e6d4a52a0715}\\RunAs",
              "registry row: TargetObject %s" % (evs[0]["fields"] if evs else None))
        det = run(D, ["hunt", "--detections", "--jsonl", "--no-progress", p3], ok=(0, 1)).stdout
        check(b"dcom_appid_runas_interactive_user" in det, "registry row: the RunAs rule did not fire")

        # -- a malformed record is named by its line; the rest is read -------------------
        bad = to_csv(PROC_COLS, rows[:2]) + 'x,dev,ws1,ProcessCreated,a"b,c\r\n' + \
            to_csv(PROC_COLS, rows[2:4])[len(to_csv(PROC_COLS, []).encode("utf-8").decode("utf-8")):]
        p4 = os.path.join(d, "bad.csv")
        with open(p4, "w", encoding="utf-8", newline="") as f:
            f.write(bad)
        evs, r = dump(D, p4, ok=(3,))
        err = r.stderr.decode()
        # rows[1]'s command line holds a line end: the bad record starts on line 5
        check(len(evs) == 4 and "line 5" in err and "bad.csv" in err,
              "malformed CSV: %d events, stderr %r" % (len(evs), err[:300]))

        # -- many batches, cut where quoted line ends abound ----------------------------
        many = [proc_row(i, ("x" * (i % 900)) + "\n\"q\",\n" + str(i)) for i in range(20000)]
        p5 = os.path.join(d, "big.csv")
        with open(p5, "w", encoding="utf-8", newline="") as f:
            f.write(to_csv(PROC_COLS, many))
        check(os.path.getsize(p5) > 9 << 20, "big CSV is not bigger than two batches")
        evs, _ = dump(D, p5)
        check(len(evs) == 20000 and all(e["fields"].get("CommandLine") == r[7] for e, r in zip(evs, many)),
              "big CSV: %d events, or values cut at a batch boundary" % len(evs))

        # -- a CSV in a zip ---------------------------------------------------------------
        z = os.path.join(d, "export.zip")
        with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(p, "hunting/DeviceProcessEvents.csv")
        evs_z, _ = dump(D, z)
        evs_p, _ = dump(D, p)
        check(strip(evs_z) == strip(evs_p) and evs_z[0]["file"] == z + "!hunting/DeviceProcessEvents.csv",
              "CSV in zip differs or is misnamed")

        # -- Sentinel SecurityEvent rows (JSON and CSV) of the Security-only MMC20 positive
        sec = os.path.join(a.corpus, "EVTX-to-MITRE-Attack", "TA0008-Lateral Movement",
                           "T1021.003-Distributed Component Object Model (DCOM)",
                           "ID4688,4674-DCOMexec process spawned.evtx")
        orig = [f for f in findings(D, [sec]) if f["kind"] == "lateral_movement"]
        rows = []
        for e in dump(D, sec)[0]:
            if e["channel"] != "Security":
                continue
            row = {"TenantId": "6f1c0000-0000-0000-0000-000000000001", "TimeGenerated": e["time"],
                   "SourceSystem": "OpsManager", "Account": "", "Computer": e["computer"],
                   "EventSourceName": e["provider"], "Channel": "Security", "EventID": e["event_id"],
                   "Activity": "%d - event" % e["event_id"], "Type": "SecurityEvent"}
            for k, v in e["data"].items():
                if isinstance(v, str) and k not in row:
                    row[k] = v
            rows.append(row)
        sj = os.path.join(d, "SecurityEvent.json")
        with open(sj, "w") as f:
            f.write("".join(json.dumps(r) + "\n" for r in rows))
        cols = sorted({k for r in rows for k in r})
        cols.remove("TimeGenerated")
        cols = ["TimeGenerated [UTC]"] + cols
        sc = os.path.join(d, "SecurityEvent.csv")
        with open(sc, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\r\n")
            w.writerow(cols)
            for r in rows:
                w.writerow([r.get("TimeGenerated" if c.startswith("TimeGenerated") else c, "") for c in cols])
        key = lambda f: (f["kind"], f["target"]["host"], f["source"]["ip"], f["user"], f["com_object"],
                         f["logon_id"], f["commands"])
        for path in (sj, sc):
            got = [f for f in findings(D, [path]) if f["kind"] == "lateral_movement"]
            check(len(orig) == 1 and [key(f) for f in got] == [key(f) for f in orig],
                  "Sentinel SecurityEvent %s: %s vs %s" % (os.path.basename(path), [key(f) for f in got],
                                                           [key(f) for f in orig]))
        ev_j = dump(D, sj)[0]
        check(len(ev_j) == len(rows) and len({e["record_id"] for e in ev_j}) == len(rows) and
              all(e["provider"] == "Microsoft-Windows-Security-Auditing" for e in ev_j),
              "SecurityEvent rows: record ids not distinct or provider wrong")

        # -- Sentinel Event rows (System log, ParameterXml) of the failed activations -----
        sysf = os.path.join(a.corpus, "EVTX-ATTACK-SAMPLES", "Lateral Movement",
                            "LM_dcom_shwnd_shbrwnd_mmc20_failed_traces_system_10016.evtx")
        attempts = lambda fs: sorted((f["kind"], f["source"]["ip"], f["target"]["host"], f["com_object"], f["user"])
                                     for f in fs if f["kind"] == "attempt")
        want = attempts(findings(D, [sysf]))
        erows = []
        for e in dump(D, sysf)[0]:
            params = [e["data"]["param%d" % i] for i in range(1, 20) if "param%d" % i in e["data"]]
            px = "".join("<Param>%s</Param>" % v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                         for v in params)
            erows.append({"TenantId": "t", "SourceSystem": "OpsManager", "TimeGenerated": e["time"],
                          "Source": "DistributedCOM", "EventLog": "System", "Computer": e["computer"],
                          "EventLevel": 2, "EventLevelName": "Error", "EventID": e["event_id"],
                          "RenderedDescription": "The application-specific permission settings do not grant...",
                          "ParameterXml": px, "Type": "Event"})
        ej = os.path.join(d, "Event.json")
        with open(ej, "w") as f:
            f.write("".join(json.dumps(r) + "\n" for r in erows))
        ec = os.path.join(d, "Event.csv")
        ecols = ["TimeGenerated [UTC]", "Computer", "EventID", "Source", "EventLog", "EventLevelName",
                 "RenderedDescription", "ParameterXml", "Type"]
        with open(ec, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\r\n")
            w.writerow(ecols)
            for r in erows:
                w.writerow([r["TimeGenerated" if c.startswith("TimeGenerated") else c] for c in ecols])
        for path in (ej, ec):
            got = attempts(findings(D, [path]))
            check(want and got == want, "Sentinel Event %s: attempts %s, from EVTX %s"
                  % (os.path.basename(path), got, want))

        # -- Zeek: TSV and JSON of the same records ------------------------------------
        dce, conn = wire("10.0.2.19", "10.0.2.18", 1556656511.101, "CzA1")
        tsv = os.path.join(d, "dce_rpc.log")
        with open(tsv, "w") as f:
            f.write(zeek_tsv("dce_rpc", DCE_FIELDS, dce))
        ctsv = os.path.join(d, "conn.log")
        with open(ctsv, "w") as f:
            f.write(zeek_tsv("conn", CONN_FIELDS, conn))
        js = os.path.join(d, "zeek.json")
        with open(js, "w") as f:
            f.write(zeek_json(DCE_FIELDS, dce) + zeek_json(CONN_FIELDS, conn))
        ev_t = dump(D, tsv)[0] + dump(D, ctsv)[0]
        ev_j = dump(D, js)[0]
        check(len(ev_t) == 5 and [e["kind"] for e in ev_t] == ["rpc_call"] * 3 + ["network_connection"] * 2,
              "Zeek TSV: kinds %s" % [e["kind"] for e in ev_t])
        norm = lambda evs: [(e["time"], e["channel"], e["computer"], e["record_id"], e["kind"],
                             e["fields"]) for e in evs]
        check(norm(ev_t) == norm(ev_j), "Zeek TSV and JSON differ:\n%s\n%s" % (norm(ev_t)[:1], norm(ev_j)[:1]))
        check(ev_t[1]["fields"].get("endpoint") == "ISystemActivator" and
              ev_t[1]["fields"].get("DestinationPort") == "135" and ev_t[0]["time"] == "2019-04-30T20:35:11.1010000Z",
              "Zeek TSV: fields %s" % ev_t[1])

        # a bad row (line 11: eight header lines, a row, #close), a second header (logs concatenated), an escaped separator
        cat = zeek_tsv("dce_rpc", DCE_FIELDS, dce[:1]) + "1.0\tonly-two\n" + \
            zeek_tsv("conn", CONN_FIELDS, [[c if i != 13 else "a\\x09b" for i, c in enumerate(conn[0])]])
        pc = os.path.join(d, "cat.log")
        with open(pc, "w") as f:
            f.write(cat)
        evs, r = dump(D, pc, ok=(3,))
        check([e["channel"] for e in evs] == ["Zeek/dce_rpc", "Zeek/conn"] and "line 11" in r.stderr.decode()
              and evs[1]["data"].get("tunnel_parents") == "a\tb",
              "concatenated Zeek logs: %s %r" % ([e["channel"] for e in evs], r.stderr[:200]))
        # the header carried across batches: rows far past the first 4 MiB
        big = [["%.6f" % (1556656000 + i * 0.01), "C%07d" % i, "10.9.%d.%d" % (i // 250 % 250, i % 250), "50000",
                "10.0.0.1", "445", "0.0001", "445", "srvsvc", "NetrShareEnum"] for i in range(60000)]
        pb = os.path.join(d, "big_dce.log")
        with open(pb, "w") as f:
            f.write(zeek_tsv("dce_rpc", DCE_FIELDS, big))
        evs, _ = dump(D, pb)
        check(os.path.getsize(pb) > 4 << 20 and len(evs) == 60000 and
              evs[-1]["data"].get("uid") == "C0059999" and evs[-1]["channel"] == "Zeek/dce_rpc",
              "big Zeek log: %d events" % len(evs))

        # -- the wire joins findings ----------------------------------------------------
        lm = os.path.join(a.corpus, "EVTX-ATTACK-SAMPLES", "Lateral Movement",
                          "LM_impacket_docmexec_mmc_sysmon_01.evtx")
        base = [f for f in findings(D, [lm]) if f["kind"] == "lateral_movement"]
        decoy_dce, decoy_conn = wire("10.0.2.50", "10.0.2.18", 1556656511.2, "CzD1")  # another source
        far_dce, far_conn = wire("10.0.2.19", "10.0.2.18", 1556656511.1 + 3600, "CzF1")  # an hour later
        z_tsv = os.path.join(d, "wire_dce.log")
        with open(z_tsv, "w") as f:
            f.write(zeek_tsv("dce_rpc", DCE_FIELDS, dce + decoy_dce + far_dce))
        z_conn = os.path.join(d, "wire_conn.log")
        with open(z_conn, "w") as f:
            f.write(zeek_tsv("conn", CONN_FIELDS, conn + decoy_conn + far_conn))
        every = [f for f in findings(D, [lm, z_tsv, z_conn]) if f["kind"] == "lateral_movement"]
        joined = [f for f in every if f["com_object"] == "MMC20.Application"]
        key = lambda f: (f["target"], f["source"], f["user"], f["com_object"], f["commands"],
                         sorted(e["record_id"] for e in f["evidence"] if e["role"] != "wire"))
        check(len(base) == 1 and len(joined) == 1 and key(base[0]) == key(joined[0]),
              "wire: the finding changed beyond its wire evidence")
        # the other source's activation, and the same source's an hour later, are what the
        # network sensor alone saw: findings of their own (low), never part of this one
        alone = sorted((f["source"]["ip"], f["confidence"], f["com_object"],
                        {e["role"] for e in f["evidence"]} == {"wire"}) for f in every if f not in joined)
        check(alone == [("10.0.2.19", "low", "", True), ("10.0.2.50", "low", "", True)],
              "wire: the network sensor's own findings: %s" % alone)
        if joined:
            w = [e for e in joined[0]["evidence"] if e["role"] == "wire"]
            times = sorted(e["time"] for e in w)
            check(len(w) == 5 and all(e["channel"] in ("Zeek/dce_rpc", "Zeek/conn") for e in w) and
                  times[0] == "2019-04-30T20:35:11.1010000Z" and times[-1] < "2019-04-30T20:36",
                  "wire: evidence %s" % [(e["channel"], e["time"]) for e in w])
            check(any("network sensor" in r for r in joined[0]["confidence_reasons"]),
                  "wire: no reason names the network sensor")
        # Many host events after the chain (the correlator finishes it before the end):
        # sensor logs are read first whatever their place on the command line, so the
        # wire evidence is there when the chain is closed.
        bulk = os.path.join(d, "bulk.json")
        with open(bulk, "w") as f:
            for i in range(20000):
                f.write(json.dumps({"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
                                    "SourceName": "Microsoft-Windows-Sysmon", "Hostname": "OTHER%d" % (i % 50),
                                    "RecordNumber": i + 1, "@timestamp": "2019-04-30T%02d:%02d:%02d.000Z"
                                    % (21 + i // 3600 % 3, i // 60 % 60, i % 60),
                                    "UtcTime": "2019-04-30 %02d:%02d:%02d.000" % (21 + i // 3600 % 3, i // 60 % 60, i % 60),
                                    "Image": "C:\\Windows\\System32\\notepad.exe",
                                    "CommandLine": "notepad.exe %d" % i,
                                    "ParentImage": "C:\\Windows\\explorer.exe", "User": "CORP\\u%d" % i}) + "\n")
        r = subprocess.run([D, "hunt", "--jsonl", "--no-progress", lm, bulk, z_tsv], capture_output=True, text=True)
        late = [json.loads(l) for l in r.stdout.splitlines() if '"lateral_movement"' in l]
        peak = [int(x.split()[0]) for x in r.stderr.split("at most ")[1:]]
        check(late and sum(e["role"] == "wire" for e in late[0]["evidence"]) == 3 and peak and peak[0] < 20000,
              "wire evidence after a flush: %s; stderr %r" % (
                  [e["role"] for e in late[0]["evidence"]] if late else None, r.stderr[-300:]))
        # no address for the target in its logs: the wire gives it, if one host was activated
        sec = os.path.join(a.corpus, "EVTX-to-MITRE-Attack", "TA0008-Lateral Movement",
                           "T1021.003-Distributed Component Object Model (DCOM)",
                           "ID4688,4674-DCOMexec process spawned.evtx")
        t0 = 1619450163.5  # 2021-04-26T15:16:03.5Z, just before the logon
        one_dce, one_conn = wire("10.23.123.11", "10.23.123.20", t0, "CzS1")
        p1 = os.path.join(d, "one.log")
        with open(p1, "w") as f:
            f.write(zeek_tsv("dce_rpc", DCE_FIELDS, one_dce))
        got = [f for f in findings(D, [sec, p1]) if f["kind"] == "lateral_movement"]
        check(len(got) == 1 and got[0]["target"]["ip"] == "10.23.123.20" and
              sum(e["role"] == "wire" for e in got[0]["evidence"]) == 3,
              "wire, target without address: %s" % [(f["target"], [e["role"] for e in f["evidence"]]) for f in got])
        two_dce = one_dce + wire("10.23.123.11", "10.23.123.21", t0 + 0.3, "CzS2")[0]
        p2z = os.path.join(d, "two.log")
        with open(p2z, "w") as f:
            f.write(zeek_tsv("dce_rpc", DCE_FIELDS, two_dce))
        every = [f for f in findings(D, [sec, p2z]) if f["kind"] == "lateral_movement"]
        got = [f for f in every if f["com_object"]]
        check(len(got) == 1 and got[0]["target"]["ip"] == "" and
              not any(e["role"] == "wire" for e in got[0]["evidence"]),
              "wire, two targets: the finding took one of them")
        # which of the two addresses is the host cannot be told: both activations are the
        # network sensor's own findings, by address
        check(sorted(f["target"]["host"] for f in every if not f["com_object"]) ==
              ["10.23.123.20", "10.23.123.21"], "wire, two targets: %s" % [f["target"] for f in every])

        # -- DeviceId: one 40-hex-digit id per host, the same in every row and table ------
        lm = os.path.join(a.corpus, "EVTX-ATTACK-SAMPLES", "Lateral Movement")
        ids = {}
        for line in run(D, ["dump", "--to", "mde-json", lm]).stdout.splitlines():
            r = json.loads(line)
            ids.setdefault(r["DeviceName"].split(".")[0].lower(), set()).add(r["DeviceId"])
        check(len(ids) >= 5 and all(len(v) == 1 for v in ids.values()) and
              len({next(iter(v)) for v in ids.values()}) == len(ids) and
              all(re.fullmatch("[0-9a-f]{40}", next(iter(v))) for v in ids.values()),
              "DeviceId: not one distinct 40-hex id per host: %s" % ids)
    for m in fails:
        print("FAIL:", m)
    print("%d passed, %d failed" % (checks - len(fails), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
