#!/usr/bin/env python3
"""Numbers a rule holds are shown as written: `rules show` of a gt/lt test and of a
correlation's condition says 1234567 and 0.1, never %g's 1.23457e+06 or %.17g's
0.10000000000000001 (the shortest text that reads back as the same number).
A finding's "because" text says its metric the same way (2700000, not 2.7e+06)."""
import os
import subprocess
import sys
import tempfile

RULES = """title: big number
id: 7c0e2a52-5a8f-4c1e-9a40-3f8f2d3b1a01
name: big_number
status: test
logsource: {product: windows, category: process_creation}
detection:
  sel:
    ProcessId|gt: 1234567
    IntegrityLevel|lt: 0.1
  condition: sel
---
title: many of them
id: 7c0e2a52-5a8f-4c1e-9a40-3f8f2d3b1a02
status: test
correlation:
  type: value_sum
  rules: [big_number]
  group-by: [Computer]
  timespan: 1h
  condition: {field: ProcessId, gte: 1234567, lt: 12345678.5}
"""


def main():
    dh = sys.argv[1]
    fails = []
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
        f.write(RULES)
        f.flush()
        for rid, want in (("big_number", ["1234567", "0.1"]),
                          ("7c0e2a52-5a8f-4c1e-9a40-3f8f2d3b1a02", ["1234567", "12345678.5"])):
            p = subprocess.run([dh, "rules", "show", "--no-builtin", "--rules", f.name, rid],
                               capture_output=True, text=True)
            out = p.stdout
            for w in want:
                if w not in out:
                    fails.append("%s: %r not shown: %s" % (rid, w, out))
            if "e+06" in out or "0000000001" in out:
                fails.append("%s: a number shown in another form: %s" % (rid, out))
        events = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False)
        for rec, pid in ((1, 1300000), (2, 1400000)):
            events.write('{"record_id":%d,"time":"2024-01-01T10:0%d:00.0000000Z","event_id":1,'
                         '"provider":"Microsoft-Windows-Sysmon",'
                         '"channel":"Microsoft-Windows-Sysmon/Operational","computer":"h1",'
                         '"data":{"ProcessId":"%d","IntegrityLevel":"0.05"}}\n' % (rec, rec, pid))
        events.close()
        try:
            p = subprocess.run([dh, "hunt", "--no-builtin", "--rules", f.name, events.name],
                               capture_output=True, text=True)
        finally:
            os.unlink(events.name)
        if "sum of ProcessId = 2700000 (condition: >= 1234567 and < 12345678.5)" not in p.stdout:
            fails.append("hunt: the metric or condition not shown as written: %s" % p.stdout)
    for x in fails:
        print("FAIL " + x)
    print("%d failures" % len(fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
