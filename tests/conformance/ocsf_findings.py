#!/usr/bin/env python3
"""`hunt --ocsf` against the OCSF 1.8.0 schema's own source (../shared/ocsf-schema), with
ocsf_validate.py resolving `extends`, `$include`, profiles, objects and dictionary types.

Every finding kind is validated: lateral_movement, attempt and signal from the corpus;
source_activity from crafted PowerShell 4104 and DistributedCOM 10028 records; a suppressed
finding (hunt --tune with a filter, --show-suppressed); a crafted chain whose values are
hostile or malformed (an address that is not one, a port out of range, a process id that
is not a number, an account without a domain, quotes and controls) and one that knows
nothing (no account, no address): each must give valid findings that carry no empty
string, only what is known. The information of the JSON lines is all there (evidence with
provenance, guide, pivots, the chain's values).

The validator itself must catch planted faults: an attribute the class does not define
(top level and nested), a value of the wrong type, a missing required attribute, a profile
attribute without its profile, an enum value that does not exist, a caption that does not
match its id, an address that is not one, an undeclared profile name."""
import argparse
import copy
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ocsf_validate  # noqa: E402

SOURCE_SIDE = [
    {"@timestamp": "2026-03-01T10:00:00.000Z", "Hostname": "WS01.corp.local",
     "Channel": "Microsoft-Windows-PowerShell/Operational", "SourceName": "Microsoft-Windows-PowerShell",
     "EventID": 4104, "RecordNumber": 11, "MessageNumber": "1", "MessageTotal": "1",
     "ScriptBlockText": "$c=[activator]::CreateInstance([type]::GetTypeFromProgID('MMC20.Application',"
                        "'10.0.0.5'))\n$c.Document.ActiveView.ExecuteShellCommand('cmd',$null,'/c calc','7')",
     "ScriptBlockId": "{5d3e1f1a-0000-4000-8000-000000000001}"},
    {"@timestamp": "2026-03-01T10:00:01.000Z", "Hostname": "WS01.corp.local", "Channel": "System",
     "SourceName": "Microsoft-Windows-DistributedCOM", "EventID": 10028, "RecordNumber": 12,
     "param1": "SRV02", "param2": "4242",
     "param3": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
     "param4": "{49B2791A-B1AE-4C90-9B8E-E860BA07F889}"},
]


def sysmon(t, rec, eid, host, **kv):
    ev = {"@timestamp": t, "Hostname": host, "Channel": "Microsoft-Windows-Sysmon/Operational",
          "SourceName": "Microsoft-Windows-Sysmon", "EventID": eid, "RecordNumber": rec}
    ev.update(kv)
    return ev


def security(t, rec, eid, host, **kv):
    ev = {"@timestamp": t, "Hostname": host, "Channel": "Security",
          "SourceName": "Microsoft-Windows-Security-Auditing", "EventID": eid, "RecordNumber": rec}
    ev.update(kv)
    return ev


# A chain on a target whose records carry hostile and malformed values.
HOSTILE_HOST = 'SRV9"\x1b[31m<b>'
HOSTILE = [
    security("2026-03-02T08:00:00.000Z", 100, 4624, HOSTILE_HOST, LogonType="3",
             TargetUserName='eve"\x07', TargetDomainName="", TargetUserSid="not-a-sid",
             TargetLogonId="0x77777", IpAddress="10.0.0.300", IpPort="70000",
             WorkstationName="-", AuthenticationPackageName="NTLM"),
    sysmon("2026-03-02T08:00:01.000Z", 101, 1, HOSTILE_HOST,
           Image="C:\\Windows\\System32\\mmc.exe", CommandLine="C:\\Windows\\system32\\mmc.exe -Embedding",
           ParentImage="C:\\Windows\\System32\\svchost.exe",
           ParentCommandLine="C:\\Windows\\system32\\svchost.exe -k DcomLaunch",
           ProcessId="0xZZ", ProcessGuid="", ParentProcessId="-5", User="eve", LogonId="0x77777"),
    sysmon("2026-03-02T08:00:02.000Z", 102, 3, HOSTILE_HOST, Image="C:\\Windows\\System32\\mmc.exe",
           Initiated="false", ProcessId="99999999999", SourceIp="fe80::1%eth0", SourcePort="-1",
           DestinationIp="::1", DestinationPort="135", DestinationHostname=""),
    sysmon("2026-03-02T08:00:03.000Z", 103, 1, HOSTILE_HOST, Image="C:\\Windows\\System32\\cmd.exe",
           CommandLine='cmd.exe /c "echo \x00 =HYPERLINK(""x"")"', ParentImage="C:\\Windows\\System32\\mmc.exe",
           ParentProcessId="0xZZ", ProcessId="4100"),
]

# A chain that knows nearly nothing: no account, no address, no process ids.
BARE = [
    sysmon("2026-03-03T08:00:01.000Z", 201, 1, "SRV10", Image="C:\\Windows\\System32\\mmc.exe",
           CommandLine="C:\\Windows\\system32\\mmc.exe -Embedding",
           ParentImage="C:\\Windows\\System32\\svchost.exe",
           ParentCommandLine="C:\\Windows\\system32\\svchost.exe -k DcomLaunch"),
]

JUMP = """title: Admin jump host administers servers with MMC
id: 8f1c6f0e-3f5e-4a53-9d0c-6f1d2b7c9a10
reason: change CHG-1234, JUMP01 may use MMC remotely
expires: 2099-12-31
logsource:
  product: windows
filter:
  rules:
    - dcom_mmc20_activation
  selection:
    SourceIp|cidr: 10.23.123.0/28
  condition: not selection
"""


def run(D, args, ok=(0, 1, 5)):
    r = subprocess.run([D] + args, capture_output=True, text=True)
    if r.returncode not in ok:
        raise SystemExit("%s: exit %d\n%s" % (args, r.returncode, r.stderr[-1500:]))
    return r.stdout


def lines(out):
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def ipaddress_ok(s):
    try:
        ipaddress.ip_address(s)
        return True
    except ValueError:
        return False


def empties(v, path=""):
    """Paths of empty strings, objects and arrays anywhere in a document."""
    if isinstance(v, dict):
        out = [path] if not v else []
        for k, x in v.items():
            out += empties(x, path + "." + k if path else k)
        return out
    if isinstance(v, list):
        out = [path] if not v else []
        for i, x in enumerate(v):
            out += empties(x, "%s[%d]" % (path, i))
        return out
    return [path] if v == "" else []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--schema", required=True)
    a = ap.parse_args()
    D = a.dcomhunt
    schema = ocsf_validate.Schema(a.schema)
    fails, checks = [], 0

    def check(cond, msg):
        nonlocal checks
        checks += 1
        if not cond:
            fails.append(msg)

    seen_kinds = {}

    def validate(name, objs, jsonl=None):
        for i, o in enumerate(objs):
            errs = schema.validate(o)
            check(not errs, "%s: finding %d invalid:\n  %s" % (name, i, "\n  ".join(errs[:12])))
            emp = empties(o)
            check(not emp, "%s: finding %d has empty values at %s" % (name, i, emp[:6]))
            kind = (o.get("finding_info", {}).get("types") or ["?"])[0]
            if o.get("status_id") == 3:
                kind = "suppressed"
            seen_kinds.setdefault(kind, 0)
            seen_kinds[kind] += 1
        if jsonl is not None:
            check(len(jsonl) == len(objs), "%s: %d JSON lines, %d OCSF" % (name, len(jsonl), len(objs)))
            by_id = {f["id"]: f for f in jsonl}
            for o in objs:
                uid = o.get("finding_info", {}).get("uid")
                f = by_id.get(uid)
                check(f is not None, "%s: OCSF finding %s not in the JSON lines" % (name, uid))
                if f:
                    same(name, f, o)

    def same(name, f, o):
        """What the JSON lines say is in the OCSF finding."""
        u = o.get("unmapped", {})
        want = {
            "kind": f["kind"], "com_object": f["com_object"] or None, "clsid": f["clsid"] or None,
            "logon_id": f["logon_id"] or None, "commands": f["commands"] or None,
            "confidence_reasons": f["confidence_reasons"] or None, "rule_names": f["rule_names"] or None,
            "investigate": f["investigate"] or None, "respond": f["respond"] or None,
            "pivots": f["pivots"] or None,
        }
        for k, v in want.items():
            check(u.get(k) == v, "%s %s: unmapped.%s %r, JSONL %r" % (name, f["id"], k, u.get(k), v))
        check(str(o.get("severity")).lower() == f["severity"] and str(o.get("confidence")).lower() == f["confidence"],
              "%s %s: severity/confidence differ" % (name, f["id"]))
        check([r.get("uid") for r in o.get("finding_info", {}).get("related_analytics", [])] == f["rule_ids"],
              "%s %s: rules differ" % (name, f["id"]))
        ev = o.get("evidences", [])
        check([(e.get("name"), e.get("data", {}).get("record_id"), e.get("data", {}).get("event_id"),
               e.get("data", {}).get("file")) for e in ev] ==
              [(e["role"], e["record_id"], e["event_id"], e["file"]) for e in f["evidence"]],
              "%s %s: evidence differs" % (name, f["id"]))
        res = {r.get("role"): r for r in o.get("resources", [])}
        if f["target"]["host"]:
            check(o.get("device", {}).get("hostname") == f["target"]["host"], "%s %s: device" % (name, f["id"]))
        for end, role in (("source", "Actor"), ("target", "Target")):
            # typed fields hold what is valid; unmapped keeps the finding's own text
            want = f[end]["ip"] if ipaddress_ok(f[end]["ip"]) else None
            got = res.get(role, {})
            check(got.get("hostname") == (f[end]["host"] or None) and got.get("ip") == want,
                  "%s %s: %s %r, JSONL %r" % (name, f["id"], end, got, f[end]))
            check(u.get(end) == ({k: v for k, v in f[end].items() if v} or None),
                  "%s %s: unmapped.%s %r, JSONL %r" % (name, f["id"], end, u.get(end), f[end]))
        if f["user"]:
            au = o.get("actor", {}).get("user", {})
            check("\\".join(x for x in (au.get("domain"), au.get("name")) if x) == f["user"],
                  "%s %s: actor.user %r, JSONL %r" % (name, f["id"], au, f["user"]))
        if f["suppressed"] if "suppressed" in f else False:
            check(u.get("suppressed_by") == {k: v for k, v in f["suppressed_by"].items() if v},
                  "%s %s: suppressed_by differs" % (name, f["id"]))
            check(o.get("is_alert") is False and o.get("status") == "Suppressed", "%s: suppressed but alerting" % name)
        if f["respond"]:
            check(o.get("remediation", {}).get("desc") == "\n".join(f["respond"]), "%s %s: remediation" % (name, f["id"]))
        check(o.get("metadata", {}).get("profiles") == ["security_control", "host"], "%s: profiles" % name)

    # the corpus: lateral movement, attempts, signals
    corpus = lines(run(D, ["hunt", "--ocsf", "--no-progress", a.corpus]))
    validate("corpus", corpus, lines(run(D, ["hunt", "--jsonl", "--no-progress", a.corpus])))
    roots = [os.path.join(a.corpus, "EVTX-ATTACK-SAMPLES"), os.path.join(a.corpus, "EVTX-to-MITRE-Attack")]

    with tempfile.TemporaryDirectory() as d:
        def write(name, evs):
            p = os.path.join(d, name)
            with open(p, "w") as f:
                for e in evs:
                    f.write(json.dumps(e) + "\n")
            return p

        for name, evs in (("source-side", SOURCE_SIDE), ("hostile", HOSTILE), ("bare", BARE)):
            p = write(name + ".jsonl", evs)
            objs = lines(run(D, ["hunt", "--ocsf", "--no-progress", p]))
            check(objs, "%s: no finding" % name)
            validate(name, objs, lines(run(D, ["hunt", "--jsonl", "--no-progress", p])))
            if name == "hostile":
                lm = [o for o in objs if o.get("finding_info", {}).get("types") == ["lateral_movement"]]
                check(lm, "hostile: no lateral movement")
                for o in lm:
                    text = json.dumps(o)
                    check("10.0.0.300" not in json.dumps(o["evidences"]) and "70000" not in text,
                          "hostile: an invalid address or port reached a typed field")
                    check(o.get("device", {}).get("hostname") == HOSTILE_HOST, "hostile: host name altered")
            if name == "bare":
                check(all("actor" not in o for o in objs), "bare: an actor without an account")
        tune = write("jump.yml", [])
        with open(tune, "w") as f:
            f.write(JUMP)
        args = ["--no-progress", "--show-suppressed", "--tune", tune] + roots
        sup = lines(run(D, ["hunt", "--ocsf"] + args))
        check(sum(o.get("status_id") == 3 for o in sup) == 1, "tuning: no single suppressed finding")
        validate("tuned", sup, lines(run(D, ["hunt", "--jsonl"] + args)))

    for k in ("lateral_movement", "attempt", "source_activity", "signal", "suppressed"):
        check(seen_kinds.get(k), "no %s finding was validated" % k)
    print("validated:", ", ".join("%s %d" % kv for kv in sorted(seen_kinds.items())))

    # planted faults: the validator must name each
    base = next(o for o in corpus if o.get("finding_info", {}).get("types") == ["lateral_movement"])

    def planted(what, mutate, expect):
        o = copy.deepcopy(base)
        try:
            mutate(o)
        except (KeyError, IndexError, TypeError):
            check(False, "planted %s: the finding has not the shape to plant it in" % what)
            return
        errs = schema.validate(o)
        check(any(expect in e for e in errs), "planted %s: not caught (%s)" % (what, errs[:4]))

    planted("top-level attribute the class lacks",
            lambda o: o.update(src_endpoint={"ip": "10.0.0.1"}), "src_endpoint: not an attribute")
    planted("nested unknown attribute",
            lambda o: o["evidences"][0]["process"].update(command_line="x"),
            "evidences[0].process.command_line: not an attribute")
    planted("1.1.0 evidence member", lambda o: o["evidences"][0].update(hostname="x"),
            "evidences[0].hostname: not an attribute")
    planted("wrong type", lambda o: o.update(severity_id="4"), "severity_id: expected integer_t")
    planted("wrong nested type", lambda o: o["evidences"][0]["process"].update(pid="3572"),
            "evidences[0].process.pid: expected integer_t")
    planted("object as string", lambda o: o.update(device="IEWIN7"), "device: expected object device")
    planted("missing required", lambda o: o["finding_info"].pop("uid"), "finding_info.uid: required")
    planted("missing required top", lambda o: o.pop("time"), "time: required")
    planted("profile attribute without its profile",
            lambda o: o["metadata"].update(profiles=["security_control"]), "actor: not an attribute")
    planted("unknown profile", lambda o: o["metadata"]["profiles"].append("nosuch"), "no profile 'nosuch'")
    planted("profile the class does not take",
            lambda o: o["metadata"]["profiles"].append("network_proxy"), "does not take profile")
    planted("enum value", lambda o: o.update(confidence_id=7), "confidence_id: 7 is not a value")
    planted("caption", lambda o: o.update(severity="high"), "the caption of severity_id 4 is 'High'")
    planted("invalid address", lambda o: o["device"].update(ip="10.0.0.300"), "is not a valid ip_t")
    planted("type_uid", lambda o: o.update(type_uid=200402), "type_uid")
    planted("class_uid caption", lambda o: o.update(class_name="Security Finding"), "class_name")
    planted("version", lambda o: o["metadata"].update(version="1.1.0"), "metadata.version")
    planted("array expected", lambda o: o.update(attacks=o["attacks"][0]), "attacks: expected an array")
    planted("constraint", lambda o: o["resources"][0].pop("name"), "needs at least one of name, uid")
    planted("observable name", lambda o: o["observables"][0].update(name="src_endpoint.ip"),
            "names no attribute")

    for m in fails:
        print("FAIL:", m)
    print("%d passed, %d failed" % (checks - len(fails), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
