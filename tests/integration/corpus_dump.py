#!/usr/bin/env python3
"""Concrete facts about the real DCOM samples in the corpus, checked on `dcomhunt dump`.

Each fact below was read off libevtx's evtxexport output for the same file (and, for the
README's story, from ../shared/corpus/README.md); where the README is loose the fact says
what the data really holds (the 4624 that carries logon id 0x542957e is record 471788;
471784 is an earlier logon of the same account with 0x5429550).

Every check runs and reports; the exit status is 1 when any failed, 2 when the test cannot
run (no dcomhunt binary or no corpus).

usage: corpus_dump.py --dcomhunt PATH --corpus DIR
"""
import argparse
import json
import os
import subprocess
import sys

SYSMON_MMC = "EVTX-ATTACK-SAMPLES/Lateral Movement/LM_impacket_docmexec_mmc_sysmon_01.evtx"
SYSTEM_10016 = ("EVTX-ATTACK-SAMPLES/Lateral Movement/"
                "LM_dcom_shwnd_shbrwnd_mmc20_failed_traces_system_10016.evtx")
SECURITY_MMC = ("EVTX-to-MITRE-Attack/TA0008-Lateral Movement/"
                "T1021.003-Distributed Component Object Model (DCOM)/"
                "ID4688,4674-DCOMexec process spawned.evtx")

failures = []
checks = 0


def check(what, ok, got=None):
    global checks
    checks += 1
    if not ok:
        failures.append("%s (got %s)" % (what, json.dumps(got, ensure_ascii=False)[:300]))


def dump(dcomhunt, corpus, rel):
    """Records of one file by record id, from `dump --fields`."""
    path = os.path.join(corpus, rel)
    p = subprocess.run([dcomhunt, "dump", "--fields", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    check("%s: dump exits 0" % rel, p.returncode == 0,
          p.stderr.decode("utf-8", "replace")[-300:])
    recs = [json.loads(l) for l in p.stdout.decode("utf-8").splitlines() if l.strip()]
    for r in recs:
        check("%s: record %s names its file" % (rel, r.get("record_id")), r.get("file") == path,
              r.get("file"))
    return recs, {r["record_id"]: r for r in recs}


def rec(by_id, rel, rid):
    r = by_id.get(rid)
    check("%s: record %d present" % (rel, rid), r is not None, sorted(by_id))
    return r or {"data": {}, "fields": {}}


def eq(r, key, want, where="data"):
    got = r.get(where, {}).get(key) if where else r.get(key)
    label = "%s.%s" % (where, key) if where else key
    check("record %s: %s == %r" % (r.get("record_id"), label, want), got == want, got)
    return got


def sysmon_mmc(dh, corpus):
    rel = SYSMON_MMC
    recs, by = dump(dh, corpus, rel)
    check("%s: 9 records" % rel, len(recs) == 9, len(recs))
    check("%s: record ids 9832..9840" % rel,
          [r["record_id"] for r in recs] == list(range(9832, 9841)),
          [r["record_id"] for r in recs])
    for r in recs:
        eq(r, "computer", "IEWIN7", None)
        eq(r, "channel", "Microsoft-Windows-Sysmon/Operational", None)
        eq(r, "provider", "Microsoft-Windows-Sysmon", None)

    act = rec(by, rel, 9832)  # the activation: mmc.exe -Embedding under DcomLaunch
    eq(act, "event_id", 1, None)
    eq(act, "kind", "process_creation", None)
    eq(act, "time", "2019-04-30T20:35:11.8560890Z", None)
    eq(act, "CommandLine", "C:\\Windows\\system32\\mmc.exe -Embedding")
    pcl = act["data"].get("ParentCommandLine", "")
    check("record 9832: ParentCommandLine contains 'svchost.exe -k DcomLaunch'",
          "svchost.exe -k DcomLaunch" in pcl, pcl)
    eq(act, "ParentImage", "C:\\Windows\\System32\\svchost.exe")
    eq(act, "User", "IEWIN7\\IEUser")
    eq(act, "LogonId", "0x1ea3c6")  # HexInt64, unpadded as Windows renders it
    eq(act, "Image", "C:\\Windows\\System32\\mmc.exe", "fields")
    eq(act, "ParentImage", "C:\\Windows\\System32\\svchost.exe", "fields")
    eq(act, "CommandLine", "C:\\Windows\\system32\\mmc.exe -Embedding", "fields")
    mmc_guid = act["data"].get("ProcessGuid")

    net = rec(by, rel, 9835)  # the DCOM connection, owned by that mmc.exe
    eq(net, "event_id", 3, None)
    eq(net, "kind", "network_connection", None)
    eq(net, "Image", "C:\\Windows\\System32\\mmc.exe")
    eq(net, "ProcessGuid", mmc_guid)
    eq(net, "DestinationIp", "10.0.2.19")  # the attacker, as Sysmon records it
    eq(net, "SourceIp", "10.0.2.18")
    eq(net, "Initiated", "false")
    eq(net, "DestinationIp", "10.0.2.19", "fields")

    for rid, tail in ((9833, "/Q /c cd \\ 1> \\\\127.0.0.1\\ADMIN$\\__1556656511.61 2>&1"),
                      (9838, "/Q /c cd  1> \\\\127.0.0.1\\ADMIN$\\__1556656511.61 2>&1"),
                      (9839, "/Q /c whoami /all 1> \\\\127.0.0.1\\ADMIN$\\__1556656511.61 2>&1")):
        child = rec(by, rel, rid)  # Impacket's output redirection, children of mmc.exe
        eq(child, "event_id", 1, None)
        eq(child, "CommandLine", "\"C:\\Windows\\System32\\cmd.exe\" " + tail)
        eq(child, "ParentProcessGuid", mmc_guid)
        eq(child, "ParentImage", "C:\\Windows\\System32\\mmc.exe", "fields")
    who = rec(by, rel, 9840)
    eq(who, "Image", "C:\\Windows\\System32\\whoami.exe")
    eq(who, "CommandLine", "whoami  /all ")  # spaces as logged


def system_10016(dh, corpus):
    rel = SYSTEM_10016
    recs, by = dump(dh, corpus, rel)
    check("%s: record ids 4451..4454" % rel,
          [r["record_id"] for r in recs] == [4451, 4452, 4453, 4454],
          [r["record_id"] for r in recs])
    for r in recs:
        eq(r, "event_id", 10016, None)
        eq(r, "provider", "Microsoft-Windows-DistributedCOM", None)
        eq(r, "channel", "System", None)
        eq(r, "computer", "MSEDGEWIN10", None)
        eq(r, "param1", "application-specific")
        eq(r, "param3", "Launch")
    # Remote launch-permission failures from 10.0.2.17: ShellBrowserWindow, then MMC20.
    for rid, clsid, appid in ((4451, "{C08AFD90-F2A1-11D1-8455-00A0C91F3880}",
                               "{C08AFD90-F2A1-11D1-8455-00A0C91F3880}"),
                              (4454, "{49B2791A-B1AE-4C90-9B8E-E860BA07F889}",
                               "{7E0423CD-1119-0928-900C-E6D4A52A0715}")):
        r = rec(by, rel, rid)
        eq(r, "param2", "Remote")
        eq(r, "param4", clsid)
        eq(r, "param5", appid)
        eq(r, "param6", "MSEDGEWIN10")
        eq(r, "param7", "IEUser")
        eq(r, "param8", "S-1-5-21-3461203602-4096304019-2269080069-1000")
        eq(r, "param9", "10.0.2.17")
        eq(r, "CLSID", clsid, "fields")
        eq(r, "SourceIp", "10.0.2.17", "fields")
    eq(rec(by, rel, 4451), "time", "2020-02-28T22:35:55.9102741Z", None)
    # Local LRPC noise by SYSTEM.
    for rid in (4452, 4453):
        r = rec(by, rel, rid)
        eq(r, "param2", "Local")
        eq(r, "param7", "SYSTEM")
        eq(r, "param8", "S-1-5-18")
        eq(r, "param9", "LocalHost (Using LRPC)")
        check("record %d: no fields.SourceIp for a local activation" % rid,
              "SourceIp" not in r.get("fields", {}), r.get("fields"))


def security_mmc(dh, corpus):
    rel = SECURITY_MMC
    recs, by = dump(dh, corpus, rel)
    check("%s: 12 records" % rel, len(recs) == 12, len(recs))
    for r in recs:
        eq(r, "channel", "Security", None)
        eq(r, "computer", "srvdefender01.offsec.lan", None)
        eq(r, "provider", "Microsoft-Windows-Security-Auditing", None)

    first = rec(by, rel, 471784)  # an earlier network logon of the same account
    eq(first, "event_id", 4624, None)
    eq(first, "TargetUserName", "admmig")
    eq(first, "TargetLogonId", "0x5429550")
    eq(first, "IpAddress", "10.23.123.11")
    eq(first, "LogonType", "3")

    logon = rec(by, rel, 471788)  # the logon the DCOM activation runs under
    eq(logon, "event_id", 4624, None)
    eq(logon, "kind", "logon", None)
    eq(logon, "TargetUserName", "admmig")
    eq(logon, "TargetDomainName", "OFFSEC")
    eq(logon, "TargetLogonId", "0x542957e")
    eq(logon, "IpAddress", "10.23.123.11")
    eq(logon, "LogonType", "3")
    eq(logon, "AuthenticationPackageName", "NTLM")
    eq(logon, "SourceIp", "10.23.123.11", "fields")
    eq(logon, "LogonId", "0x542957e", "fields")

    proc = rec(by, rel, 471790)  # mmc.exe -Embedding, parent svchost, same logon id
    eq(proc, "event_id", 4688, None)
    eq(proc, "kind", "process_creation", None)
    npn = proc["data"].get("NewProcessName", "")
    check("record 471790: NewProcessName ends with mmc.exe", npn.lower().endswith("\\mmc.exe"),
          npn)
    eq(proc, "CommandLine", "C:\\Windows\\system32\\mmc.exe -Embedding")
    eq(proc, "ParentProcessName", "C:\\Windows\\System32\\svchost.exe")
    eq(proc, "TargetUserName", "admmig")
    eq(proc, "TargetLogonId", "0x542957e")
    img = proc["fields"].get("Image", "")
    check("record 471790: fields.Image ends with mmc.exe", img.lower().endswith("\\mmc.exe"),
          img)
    eq(proc, "ParentImage", "C:\\Windows\\System32\\svchost.exe", "fields")
    lid = proc["fields"].get("LogonId")
    check("record 471790: fields.LogonId equals 4624 record 471788's TargetLogonId",
          lid is not None and lid == logon["data"].get("TargetLogonId"), lid)
    check("record 471790: fields.LogonId differs from 4624 record 471784's",
          lid != first["data"].get("TargetLogonId"), lid)
    eq(proc, "User", "admmig", "fields")

    for rid in (471768, 471769):  # benign: cscript and its conhost under MonitoringHost
        r = rec(by, rel, rid)
        eq(r, "event_id", 4688, None)
        eq(r, "TargetLogonId", "0x0")
    eq(rec(by, rel, 471768), "ParentProcessName",
       "C:\\Program Files\\Microsoft Monitoring Agent\\Agent\\MonitoringHost.exe")
    check("no child of mmc.exe is recorded",
          not any(r["event_id"] == 4688 and
                  r["data"].get("ParentProcessName", "").lower().endswith("\\mmc.exe")
                  for r in recs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    args = ap.parse_args()
    if not os.access(args.dcomhunt, os.X_OK):
        print("FAIL: dcomhunt binary not found: %s" % args.dcomhunt, file=sys.stderr)
        return 2
    for rel in (SYSMON_MMC, SYSTEM_10016, SECURITY_MMC):
        if not os.path.isfile(os.path.join(args.corpus, rel)):
            print("FAIL: corpus file missing: %s" % rel, file=sys.stderr)
            return 2
    for part in (sysmon_mmc, system_10016, security_mmc):
        part(args.dcomhunt, args.corpus)
    print("%d checks, %d failed" % (checks, len(failures)))
    for f in failures:
        print("  FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
