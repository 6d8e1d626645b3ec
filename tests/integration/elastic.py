#!/usr/bin/env python3
"""Elastic Endpoint documents (ECS, no winlog part), as an Elastic export holds them: an
MMC20.Application lateral movement (the source connects to the endpoint mapper, the DCOM
launcher starts mmc.exe -Embedding, the source connects to it, it runs cmd.exe) gives one lateral_movement finding naming the
source, the target, the object and the command; nested fields map to the taxonomy; a
WMI provider host started the same way (a close cousin) gives no finding; documents also
in a JSON array and gzip'd give the same events."""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile


def doc(ts, seq, dataset, category, etype, process, **extra):
    d = {"@timestamp": ts, "agent": {"type": "endpoint", "version": "8.11.0"},
         "host": {"name": "WKS07", "hostname": "wks07", "os": {"family": "windows"},
                  "ip": ["10.0.2.18", "fe80::1"]},
         "event": {"category": [category], "type": etype, "dataset": dataset, "kind": "event",
                   "sequence": seq, "module": "endpoint"},
         "process": process, "user": {"name": "IEUser", "domain": "WKS07", "id": "S-1-5-21-1-1000"},
         "ecs": {"version": "8.10.0"}}
    d.update(extra)
    return d


def svchost():
    return {"pid": 804, "entity_id": "ZW50LXN2Yw==", "executable": "C:\\Windows\\System32\\svchost.exe",
            "name": "svchost.exe", "command_line": "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p"}


def attack(server="mmc.exe", sid="ZW50LW1tYw=="):
    srv = {"pid": 3120, "entity_id": sid, "executable": "C:\\Windows\\System32\\" + server, "name": server,
           "command_line": "C:\\Windows\\system32\\" + server + " -Embedding", "parent": svchost(),
           "Ext": {"token": {"integrity_level_name": "high"}}, "args": [server, "-Embedding"]}
    rpcss = {"pid": 912, "entity_id": "ZW50LXJwYw==", "executable": "C:\\Windows\\System32\\svchost.exe",
             "name": "svchost.exe"}
    return [
        doc("2023-03-01T10:00:00.050Z", 99, "endpoint.events.network", "network", ["start"], rpcss,
            source={"ip": "10.0.2.19", "port": 50411}, destination={"ip": "10.0.2.18", "port": 135},
            network={"direction": "incoming", "transport": "tcp", "type": "ipv4"}),
        doc("2023-03-01T10:00:00.100Z", 100, "endpoint.events.process", "process", ["start"], srv,
            event_action="start"),
        doc("2023-03-01T10:00:00.900Z", 101, "endpoint.events.network", "network", ["start"],
            {"pid": 3120, "entity_id": sid, "executable": srv["executable"], "name": server},
            source={"ip": "10.0.2.19", "port": 50412}, destination={"ip": "10.0.2.18", "port": 49155},
            network={"direction": "incoming", "transport": "tcp", "type": "ipv4"}),
        doc("2023-03-01T10:00:02.000Z", 102, "endpoint.events.process", "process", ["start"],
            {"pid": 4410, "entity_id": "ZW50LWNtZA==" + sid, "executable": "C:\\Windows\\System32\\cmd.exe",
             "name": "cmd.exe", "command_line": "\"C:\\Windows\\System32\\cmd.exe\" /c whoami > C:\\out.txt",
             "parent": {"pid": 3120, "entity_id": sid, "executable": srv["executable"], "name": server,
                        "command_line": srv["command_line"]}}),
    ]


def run(dcomhunt, args, ok=(0, 1)):
    r = subprocess.run([dcomhunt] + args, capture_output=True)
    if r.returncode not in ok:
        raise SystemExit("%s: exit %d %s" % (args, r.returncode, r.stderr[-500:]))
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    a = ap.parse_args()
    fails, checks = [], 0

    def check(cond, msg):
        nonlocal checks
        checks += 1
        if not cond:
            fails.append(msg)

    with tempfile.TemporaryDirectory() as d:
        docs = attack()
        p = os.path.join(d, "endpoint.ndjson")
        with open(p, "w") as f:
            f.write("\n".join(json.dumps(x) for x in docs) + "\n")
        evs = [json.loads(l) for l in run(a.dcomhunt, ["dump", "--fields", p], ok=(0,)).splitlines()]
        check([e["kind"] for e in evs] == ["network_connection", "process_creation", "network_connection",
                                            "process_creation"],
              "kinds %s" % [e["kind"] for e in evs])
        evs = evs[1:]  # the endpoint-mapper connection first; then the server
        f0 = evs[0]["fields"] if evs else {}
        check(f0.get("Image") == "C:\\Windows\\System32\\mmc.exe" and
              f0.get("ParentCommandLine", "").endswith("-k DcomLaunch -p") and
              f0.get("User") == "WKS07\\IEUser" and f0.get("IntegrityLevel") == "high" and
              evs[0]["computer"] == "WKS07" and evs[0]["time"] == "2023-03-01T10:00:00.1000000Z" and
              evs[0]["record_id"] == 100 and evs[0]["channel"] == "endpoint.events.process",
              "process start mapping: %s" % (evs[0] if evs else None))
        check(len(evs) > 1 and evs[1]["fields"].get("Initiated") == "false" and
              evs[1]["fields"].get("SourceIp") == "10.0.2.19",
              "network mapping: %s" % (evs[1]["fields"] if len(evs) > 1 else None))
        fs = [json.loads(l) for l in run(a.dcomhunt, ["hunt", "--jsonl", "--no-progress", p]).splitlines()]
        lm = [f for f in fs if f["kind"] == "lateral_movement"]
        check(len(lm) == 1 and lm[0]["source"]["ip"] == "10.0.2.19" and lm[0]["target"]["host"] == "WKS07"
              and lm[0]["com_object"] == "MMC20.Application" and
              lm[0]["commands"] == ["\"C:\\Windows\\System32\\cmd.exe\" /c whoami > C:\\out.txt"],
              "finding: %s" % [(f["kind"], f["source"], f["target"], f["com_object"], f["commands"]) for f in fs])
        # the same shape from the WMI provider host is WMI, not DCOM lateral movement
        w = os.path.join(d, "wmi.ndjson")
        with open(w, "w") as f:
            f.write("\n".join(json.dumps(x) for x in attack("wmiprvse.exe", "ZW50LXdtaQ==")) + "\n")
        fs = [json.loads(l) for l in run(a.dcomhunt, ["hunt", "--jsonl", "--no-progress", w]).splitlines()]
        check(not any(f["kind"] == "lateral_movement" for f in fs), "WMI cousin became a finding")
        # as a JSON array, and gzip'd
        arr = os.path.join(d, "export.json")
        with open(arr, "w") as f:
            json.dump(docs, f, indent=2)
        gz = os.path.join(d, "endpoint.ndjson.gz")
        with gzip.open(gz, "wb") as f:
            f.write(open(p, "rb").read())
        strip = lambda es: [{k: v for k, v in e.items() if k not in ("file", "offset")} for e in es]
        for other in (arr, gz):
            ev2 = [json.loads(l) for l in run(a.dcomhunt, ["dump", "--fields", other], ok=(0,)).splitlines()]
            check(strip(ev2[1:]) == strip(evs), "%s: events differ" % os.path.basename(other))
    for m in fails:
        print("FAIL:", m)
    print("%d passed, %d failed" % (checks - len(fails), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
