#!/usr/bin/env python3
"""`dump --to ecs` against the ECS 9.4.0 field list (../shared/ecs), from every input
format dcomhunt reads: EVTX (the corpus), Windows event XML, OTRF/NXLog JSON (a Security-
Datasets zip), ECS JSON (dcomhunt's own, read back, and Elastic Endpoint documents),
Defender advanced-hunting JSON (an export in the corpus, Event Hubs batches) and CSV,
Sentinel's SecurityEvent and Event tables, and Zeek logs (TSV and JSON).

For each: every field of every document is an ECS field of the right type and allowed
value (ecs_validate.py), nothing is an empty string, and the ECS fields say what the
normalised event says (dump --fields, event by event): process.* and process.parent.* the
process and its parent, user.* the account (the logon's target, else the subject, else the
process's DOMAIN\\name), source.* and destination.* the ends of a connection or the logon's
source, event.category/type/outcome/action the kind, host.name the computer, and
winlog.event_data the record's data. Values that do not fit their ECS type (crafted: an
address that is not one, a port out of range, a process id that is not a number) stay out
of the ECS fields. ECS written, read back and written again is the same document.

The validator must catch planted faults: a field ECS does not have, a wrong type, an
address that is not one, a category or type ECS does not allow, a type the category does
not expect, an array where ECS has a scalar and the reverse, a missing ecs.version, an
empty value."""
import argparse
import copy
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ecs_validate  # noqa: E402

DCOM_FILES = [
    "EVTX-ATTACK-SAMPLES/Lateral Movement/LM_impacket_docmexec_mmc_sysmon_01.evtx",
    "EVTX-to-MITRE-Attack/TA0008-Lateral Movement/T1021.003-Distributed Component Object Model (DCOM)/"
    "ID4688,4674-DCOMexec process spawned.evtx",
    "EVTX-ATTACK-SAMPLES/Lateral Movement/LM_dcom_shwnd_shbrwnd_mmc20_failed_traces_system_10016.evtx",
]

# normalised field -> ECS field, and how the value is carried
DIRECT = [
    ("Image", "process.executable", "str"), ("CommandLine", "process.command_line", "str"),
    ("CurrentDirectory", "process.working_directory", "str"), ("ProcessGuid", "process.entity_id", "str"),
    ("ProcessId", "process.pid", "num"), ("OriginalFileName", "process.pe.original_file_name", "str"),
    ("ParentImage", "process.parent.executable", "str"),
    ("ParentCommandLine", "process.parent.command_line", "str"),
    ("ParentProcessGuid", "process.parent.entity_id", "str"), ("ParentProcessId", "process.parent.pid", "num"),
    ("SourceIp", "source.ip", "ip"), ("SourcePort", "source.port", "port"),
    ("SourceHostname", "source.domain", "str"), ("DestinationIp", "destination.ip", "ip"),
    ("DestinationPort", "destination.port", "port"), ("DestinationHostname", "destination.domain", "str"),
    ("TargetObject", "registry.path", "str"), ("QueryName", "dns.question.name", "str"),
    ("ServiceName", "service.name", "str"),
]
KINDS = {  # kind -> (category, type, outcome) a reader of ECS expects
    "process_creation": (["process"], ["start"], None),
    "network_connection": (["network"], ["start", "connection"], None),
    "logon": (["authentication"], ["start"], "success"),
    "logon_failed": (["authentication"], ["start"], "failure"),
    "dcom_error": (None, None, "failure"),
    "registry_set": (["configuration", "registry"], ["change"], None),
    "image_load": (["process"], ["change"], None),
}


def run(D, args, ok=(0, 1, 3, 5)):
    r = subprocess.run([D] + args, capture_output=True)
    if r.returncode not in ok:
        raise SystemExit("%s: exit %d\n%s" % (args, r.returncode, r.stderr[-1500:]))
    return r.stdout.decode("utf-8")


def get(doc, path):
    for k in path.split("."):
        if not isinstance(doc, dict) or k not in doc:
            return None
        doc = doc[k]
    return doc


def absent(v):
    return v is None or v == "" or v == "-"


def number(v, hi):
    try:
        n = int(v, 16) if v.lower().startswith("0x") else int(v, 10)
    except (ValueError, AttributeError):
        return None
    return n if 0 <= n <= hi and v.strip() == v and not v.startswith(("+", "-")) else None


def ip_ok(v):
    if not isinstance(v, str) or "%" in v:
        return False
    try:
        ipaddress.ip_address(v)
        return True
    except ValueError:
        return False


def leaves(doc, path=""):
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from leaves(v, path + "." + k if path else k)
    else:
        yield path, doc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--ecs", required=True)
    ap.add_argument("--source", required=True)
    a = ap.parse_args()
    D = a.dcomhunt
    fields = ecs_validate.Fields(a.ecs)
    fails, checks = [], 0
    written = {}  # format -> set of ECS fields written

    def check(cond, msg):
        nonlocal checks
        checks += 1
        if not cond:
            fails.append(msg)

    def mapping(fmt, ev, doc):
        """The ECS fields say what the normalised event says."""
        f = ev.get("fields", {})
        where = "%s %s record %s" % (fmt, ev["file"].rsplit("/", 1)[-1], ev["record_id"])
        bad = []

        def want(path, value):
            got = get(doc, path)
            if got != value:
                bad.append("%s %r, expected %r" % (path, got, value))

        for src, dst, how in DIRECT:
            v = f.get(src)
            if absent(v):
                continue
            if how == "str":
                want(dst, v)
            elif how == "num":
                want(dst, number(v, 2**32 - 1))
            elif how == "port":
                want(dst, number(v, 65535))
            elif how == "ip":
                want(dst, v if ip_ok(v) else None)
        for src, dst in (("Image", "process.name"), ("ParentImage", "process.parent.name")):
            v = f.get(src)
            if not absent(v) and "\\" in v and not v.endswith("\\"):
                want(dst, v.rsplit("\\", 1)[1])
        if not absent(f.get("TargetUserName")):
            want("user.name", f["TargetUserName"])
            want("user.domain", None if absent(f.get("TargetDomainName")) else f["TargetDomainName"])
        elif not absent(f.get("SubjectUserName")):
            want("user.name", f["SubjectUserName"])
        elif not absent(f.get("User")):
            dom, _, name = f["User"].partition("\\") if "\\" in f["User"] else ("", "", f["User"])
            want("user.name", name or None)
            want("user.domain", dom or None if name else None)  # a domain alone is no account
        want("@timestamp", ev["time"])
        want("host.name", ev["computer"] or None)
        want("event.provider", ev["provider"] or None)
        want("event.code", str(ev["event_id"]) if ev["event_id"] else None)
        want("ecs.version", fields.version)
        want("event.kind", "event")
        want("winlog.channel", ev["channel"])
        want("winlog.record_id", ev["record_id"])
        if ev["kind"] in KINDS:
            cat, typ, outcome = KINDS[ev["kind"]]
            want("event.category", cat)
            want("event.type", typ)
            want("event.outcome", outcome)
        data = get(doc, "winlog.event_data") or {}
        for k, v in ev["data"].items():
            if not isinstance(v, list) and data.get(k) != v:  # repeated names: json.loads keeps the last
                bad.append("winlog.event_data[%r] %r, expected %r" % (k, data.get(k), v))
        check(not bad, "%s: %s" % (where, "; ".join(bad[:4])))

    def validate(fmt, path, min_docs=1, cross=True):
        docs = [json.loads(l) for l in run(D, ["dump", "--to", "ecs", path]).splitlines() if l.strip()]
        check(len(docs) >= min_docs, "%s: %d documents from %s" % (fmt, len(docs), path))
        nbad = 0
        for i, doc in enumerate(docs):
            errs = fields.validate(doc)
            if errs:
                nbad += 1
                if nbad <= 3:
                    check(False, "%s %s document %d:\n  %s" % (fmt, path, i, "\n  ".join(errs[:8])))
            written.setdefault(fmt, set()).update(p for p, _ in leaves(doc) if not p.startswith("winlog."))
        check(nbad == 0, "%s %s: %d of %d documents invalid" % (fmt, path, nbad, len(docs)))
        if cross:
            evs = [json.loads(l) for l in run(D, ["dump", "--fields", path]).splitlines() if l.strip()]
            check(len(evs) == len(docs), "%s: %d events, %d documents" % (fmt, len(evs), len(docs)))
            for ev, doc in zip(evs, docs):
                mapping(fmt, ev, doc)
        return docs

    corpus = lambda p: os.path.join(a.corpus, p)
    seeds = os.path.join(a.source, "tests", "fuzz")
    with tempfile.TemporaryDirectory() as d:
        def out(name, data):
            p = os.path.join(d, name)
            with open(p, "w") as f:
                f.write(data)
            return p

        dcom = [corpus(p) for p in DCOM_FILES]
        evtx = validate("evtx", corpus("EVTX-ATTACK-SAMPLES"), 8000)
        validate("evtx", corpus("EVTX-to-MITRE-Attack"), 100)
        xml = out("dcom.xml", run(D, ["dump", "--xml"] + dcom))
        validate("xml", xml, 20)
        validate("xml", os.path.join(seeds, "seeds_evxml"))
        validate("otrf", corpus("Security-Datasets/datasets/atomic/windows/lateral_movement/host/"
                                "empire_dcom_shellwindows_stager.zip"), 30000)
        validate("otrf", os.path.join(seeds, "seeds_jsonl", "otrf_3_lines.json"))
        # ECS: ours read back and written again is the same document (but its file name)
        ours = out("dcom.ecs.json", run(D, ["dump", "--to", "ecs"] + dcom))
        first = [json.loads(l) for l in open(ours)]
        again = validate("ecs", ours, 20)
        strip = lambda x: {k: v for k, v in x.items() if k != "log"}
        check([strip(x) for x in first] == [strip(x) for x in again] and first,
              "ecs: written, read back and written again, the documents differ")
        validate("ecs", os.path.join(seeds, "seeds_jsonl", "elastic.json"))
        validate("mde-json", corpus("Security-Datasets/datasets/compound/GoldenSAMLADFSMailAccess/"
                                    "Microsoft365DefenderEvents.Zip"), 9)
        validate("mde-json", os.path.join(seeds, "seeds_jsonl", "eventhubs.json"))
        validate("mde-json", out("dcom.mde.json", run(D, ["dump", "--to", "mde-json"] + dcom)), 10)
        validate("mde-csv", out("dcom.mde.csv", run(D, ["dump", "--to", "mde-csv"] + dcom)), 10)
        for n in ("portal.csv", "sentinel.csv", "securityevent.csv", "sentinel_event.csv"):
            validate("mde-csv", os.path.join(seeds, "seeds_mdecsv", n))
        for n in ("securityevent.json", "sentinel_event.json"):
            validate("sentinel", os.path.join(seeds, "seeds_jsonl", n))
        validate("zeek", corpus("Security-Datasets/datasets/compound/LSASS_campaign_01/"
                                "metasploit_logonpasswords_lsass_memory_dump_zeek_logs.zip"), 100)
        validate("zeek", os.path.join(seeds, "seeds_zeek"))
        validate("zeek", os.path.join(seeds, "seeds_jsonl", "zeek.json"))

        # crafted values that do not fit their types
        hostile = [
            {"@timestamp": "2026-03-02T08:00:02.000Z", "Hostname": "SRV9", "EventID": 3, "RecordNumber": 7,
             "Channel": "Microsoft-Windows-Sysmon/Operational", "SourceName": "Microsoft-Windows-Sysmon",
             "Image": "mmc.exe", "ProcessId": "0xZZ", "ProcessGuid": "", "SourceIp": "10.0.0.300",
             "SourcePort": "70000", "DestinationIp": "fe80::1%eth0", "DestinationPort": "-1",
             "Initiated": "maybe", "Protocol": "t c p", "User": "\\", "DestinationHostname": "-"},
            {"@timestamp": "2026-03-02T08:00:03.000Z", "Hostname": "", "EventID": 1, "RecordNumber": 8,
             "Channel": "Microsoft-Windows-Sysmon/Operational", "SourceName": "Microsoft-Windows-Sysmon",
             "Image": "C:\\x\\", "CommandLine": "", "Hashes": "SHA1=zz,MD5=,SHA256", "User": "CORP\\",
             "ParentProcessId": "99999999999"},
            {"@timestamp": "2026-03-02T08:00:04.000Z", "Hostname": "SRV9", "EventID": 4624, "RecordNumber": 9,
             "Channel": "Security", "SourceName": "Microsoft-Windows-Security-Auditing", "LogonType": "99",
             "TargetUserName": "-", "IpAddress": "-", "IpPort": "-", "WorkstationName": "-"},
        ]
        p = out("hostile.jsonl", "".join(json.dumps(e) + "\n" for e in hostile))
        docs = validate("otrf", p, 3)
        text = json.dumps([{k: v for k, v in x.items() if k != "winlog"} for x in docs])
        for junk in ("10.0.0.300", "70000", "0xZZ", "fe80::1%eth0", "99999999999", "\"zz\""):
            check(junk not in text, "hostile: %s reached an ECS field" % junk)

    # every format wrote the fields an analyst queries
    expect = {
        "evtx": {"process.executable", "process.parent.executable", "process.command_line", "process.pid",
                 "process.entity_id", "user.name", "user.domain", "source.ip", "destination.ip",
                 "destination.port", "event.category", "event.type", "event.outcome", "event.action",
                 "file.path", "registry.path", "network.direction", "process.hash.sha256"},
        "xml": {"process.executable", "user.name", "source.ip", "event.outcome"},
        "otrf": {"process.executable", "process.parent.executable", "user.name", "source.ip", "destination.ip"},
        "ecs": {"process.executable", "user.name", "source.ip"},
        "mde-json": {"process.executable", "process.command_line", "user.name"},
        "mde-csv": {"process.executable", "process.parent.command_line", "source.ip"},
        "sentinel": {"user.name", "source.ip", "event.outcome"},
        "zeek": {"source.ip", "destination.ip", "destination.port", "network.transport"},
    }
    for fmt, want in expect.items():
        missing = want - written.get(fmt, set())
        check(not missing, "%s: never wrote %s" % (fmt, sorted(missing)))
    allf = set().union(*written.values())
    print("ECS fields written: %d (%s)" % (len(allf), ", ".join(sorted(allf))))

    # planted faults
    base = next((x for x in evtx if get(x, "process.executable") and get(x, "source.ip") is None
                 and get(x, "user.name")), None)
    check(base is not None, "no corpus document with a process and a user to plant faults in")
    base = base or {"@timestamp": "2026-01-01T00:00:00Z", "ecs": {"version": fields.version},
                    "event": {"category": ["process"], "type": ["start"], "kind": "event"},
                    "process": {"executable": "x", "pid": 1}, "user": {"name": "u"}}

    def planted(what, mutate, expect_text):
        doc = copy.deepcopy(base)
        mutate(doc)
        errs = fields.validate(doc)
        check(any(expect_text in e for e in errs), "planted %s: not caught (%s)" % (what, errs[:4]))

    planted("unknown field", lambda x: x["process"].update(commandline="x"), "process.commandline: not an ECS")
    planted("unknown top-level field", lambda x: x.update(Image="x"), "Image: not an ECS")
    planted("wrong type", lambda x: x["process"].update(pid="3572"), "process.pid: expected long")
    planted("string as boolean", lambda x: x.update(file={"code_signature": {"exists": "true"}}),
            "file.code_signature.exists: expected a boolean")
    planted("address", lambda x: x.update(source={"ip": "10.0.0.300"}), "source.ip: expected an IP")
    planted("category", lambda x: x["event"].update(category=["processes"]), "is not one of ECS's values")
    planted("type for category", lambda x: x["event"].update(type=["denied"]), "not a type event.category")
    planted("scalar for array", lambda x: x["event"].update(category="process"), "normalises it to an array")
    planted("array for scalar", lambda x: x["process"].update(executable=["a"]), "not an array field")
    planted("ecs.version", lambda x: x.pop("ecs"), "ecs.version: required")
    planted("empty value", lambda x: x["user"].update(name=""), "user.name: an empty value")
    planted("object for a field", lambda x: x["process"].update(pid={"v": 1}), "process.pid: an object")
    planted("outcome", lambda x: x["event"].update(outcome="ok"), "event.outcome")

    for m in fails:
        print("FAIL:", m)
    print("%d passed, %d failed" % (checks - len(fails), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
