#!/usr/bin/env python3
"""SigmaHQ as a conformance suite (../shared/sigmahq, see its README):

  1. every rule of rules/windows and rules-threat-hunting/windows loads, or is refused for
     a reason docs/rules.md lists (section "SigmaHQ rules refused", each with the Sigma
     specification's justification); the count is printed;
  2. SigmaHQ's regression tests: for each case (regression_data/.../info.yml), the rule
     (found by its id in the rule trees) hunts its sample, alone, and must match at least
     `match_count` events (at least one when no count is given), as SigmaHQ's own runner
     decides: on the EVTX sample and, separately, on its evtx_dump-style JSON copy.

usage: sigmahq.py --dcomhunt PATH --sigmahq DIR --docs docs/rules.md [--jobs N]
"""
import argparse
import json
import os
import re
import subprocess
import sys

TREES = ["rules", "rules-threat-hunting", "rules-emerging-threats", "rules-placeholder"]
LOAD_TREES = ["rules/windows", "rules-threat-hunting/windows"]


def yaml_field(text, key):
    m = re.search(r"^%s:\s*['\"]?([^'\"\n]+)" % re.escape(key), text, re.M)
    return m.group(1).strip() if m else None


def index_rules(root):
    """rule id -> rule file, over every tree."""
    out = {}
    for tree in TREES:
        for d, _, names in os.walk(os.path.join(root, tree)):
            for n in names:
                if n.endswith(".yml"):
                    p = os.path.join(d, n)
                    with open(p, encoding="utf-8") as f:
                        rid = yaml_field(f.read(), "id")
                    if rid:
                        out[rid] = p
    return out


def cases(root):
    """(case name, rule id, sample path, match_count) from every info.yml."""
    res = []
    for d, _, names in sorted(os.walk(os.path.join(root, "regression_data"))):
        if "info.yml" not in names:
            continue
        with open(os.path.join(d, "info.yml"), encoding="utf-8") as f:
            text = f.read()
        rid = re.search(r"rule_metadata:\s*\n\s*-\s*id:\s*(\S+)", text).group(1)
        for block in re.split(r"\n\s*-\s*name:", text.split("regression_tests_info:", 1)[1])[1:]:
            name = block.split("\n", 1)[0].strip()
            path = re.search(r"path:\s*(\S+)", block).group(1)
            mc = re.search(r"match_count:\s*(\d+)", block)
            res.append((os.path.relpath(d, root) + ": " + name, rid, os.path.join(root, path),
                        int(mc.group(1)) if mc else 1))
    return res


def detections(dh, rules, samples):
    """One hunt with every case's rule over every case's sample: {(rule id, sample): n}.
    A rule meets every sample here, but only its own sample counts, so this is the same as
    SigmaHQ's runner (each rule alone on its sample), in one process instead of hundreds."""
    args = [dh, "hunt", "--detections", "--jsonl", "--no-builtin", "--no-progress"]
    for r in sorted(set(rules)):
        args += ["--rules", r]
    p = subprocess.run(args + sorted(set(samples)), capture_output=True, timeout=1200)
    out = {}
    if p.returncode < 0 or p.returncode not in (0, 1, 3, 5):
        return None, p.stderr.decode("utf-8", "replace")[-500:]
    for l in p.stdout.splitlines():
        d = json.loads(l)
        k = (d.get("rule_id"), d.get("file"))
        out[k] = out.get(k, 0) + 1
    return out, p.stderr.decode("utf-8", "replace")[-500:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--sigmahq", required=True)
    ap.add_argument("--docs", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    fails = []

    # 1. Loading.
    total = sum(1 for t in LOAD_TREES for _, _, ns in os.walk(os.path.join(a.sigmahq, t))
                for n in ns if n.endswith(".yml"))
    p = subprocess.run([a.dcomhunt, "rules", "check"] +
                       [os.path.join(a.sigmahq, t) for t in LOAD_TREES], capture_output=True)
    err = p.stderr.decode("utf-8", "replace")
    m = re.search(r"(\d+) rules loaded, (\d+) refused", err + p.stdout.decode())
    loaded, refused = (int(m.group(1)), int(m.group(2))) if m else (0, -1)
    with open(a.docs, encoding="utf-8") as f:
        docs = f.read()
    section = docs.split("## SigmaHQ rules refused", 1)
    table = section[1].split("\n## ", 1)[0] if len(section) > 1 else ""
    allowed = re.findall(r"^\| `([^`]+)` \|", table, re.M)
    bad = []
    for line in err.splitlines():
        if "rule refused" not in line:
            continue
        why = line.split("): ", 1)[-1]
        if not any(r in why for r in allowed):
            bad.append(line)
    if len(section) < 2:
        fails.append("docs/rules.md has no 'SigmaHQ rules refused' section")
    if loaded + refused != total:
        fails.append("rules check saw %d + %d rules, the trees hold %d" % (loaded, refused, total))
    for line in bad[:20]:
        fails.append("refused for a reason docs/rules.md does not list: " + line)
    print("SigmaHQ Windows rules (%s): %d of %d load, %d refused (%d for listed reasons)" %
          (", ".join(LOAD_TREES), loaded, total, refused, refused - len(bad)))

    # 2. Regression tests, on the EVTX samples and on their JSON copies.
    rules = index_rules(a.sigmahq)
    todo = []
    for name, rid, sample, mc in cases(a.sigmahq):
        if rid not in rules:
            fails.append("%s: rule %s not found" % (name, rid))
            continue
        for form, path in (("evtx", sample), ("json", os.path.splitext(sample)[0] + ".json")):
            todo.append((name, rid, rules[rid], form, path, mc))
    passed = {"evtx": 0, "json": 0}
    counts = {"evtx": 0, "json": 0}
    for form in ("evtx", "json"):
        mine = [x for x in todo if x[3] == form and os.path.exists(x[4])]
        for name, rid, rule, f, path, mc in todo:
            if f == form and not os.path.exists(path):
                fails.append("%s (%s): sample missing: %s" % (name, form, path))
        got, err = detections(a.dcomhunt, [x[2] for x in mine], [x[4] for x in mine])
        if got is None:
            fails.append("hunt over the %s samples failed: %s" % (form, err))
            got = {}
        for name, rid, rule, f, path, mc in mine:
            counts[form] += 1
            n = got.get((rid, path), 0)
            if n >= mc:
                passed[form] += 1
            else:
                fails.append("%s (%s): %d matches, want at least %d" % (name, form, n, mc))
    for form in ("evtx", "json"):
        print("SigmaHQ regression tests on the %s samples: %d of %d pass" %
              (form, passed[form], counts[form]))
    for f in sorted(fails):
        print("FAIL " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
