#!/usr/bin/env python3
"""The EVTX writer's every-type files through libevtx's evtxexport (the oracle).

Runs the writer's unit test with DH_EVTX_KEEP set, so it keeps the files it wrote (every
value type and array, on every channel, over several chunks; and a dirty one), then checks
that evtxexport reads every record of them and that it agrees with `dcomhunt dump` on every
value (compare_evtxexport.py, with its documented normalisations).

usage: evtx_write_oracle.py --test PATH --dcomhunt PATH --source DIR
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--test", required=True)
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--source", required=True)
    a = ap.parse_args()
    if not shutil.which("evtxexport"):
        print("FAIL evtxexport (libevtx-utils) is missing: the oracle is required")
        return 2
    d = tempfile.mkdtemp(prefix="dh-evtx-write-")
    try:
        r = subprocess.run([a.test], env=dict(os.environ, DH_EVTX_KEEP=d), capture_output=True)
        names = sorted(os.listdir(d))
        if r.returncode != 0 or names != ["dirty.evtx", "every-type.evtx"]:
            print("FAIL the writer's unit test did not leave its two files (%s)" % names)
            sys.stdout.write(r.stdout.decode("utf-8", "replace")[-2000:])
            return 1
        fails = 0
        for n in names:
            p = os.path.join(d, n)
            ex = subprocess.run(["evtxexport", p], capture_output=True).stdout.decode(
                "utf-8", "replace").count("Event number")
            ours = len(subprocess.run([a.dcomhunt, "dump", p], capture_output=True).stdout.splitlines())
            ok = ex == ours == 1500
            print(("ok   " if ok else "FAIL ") + "%s: evtxexport reads %d records, dump %d, written 1500"
                  % (n, ex, ours))
            fails += not ok
        cmp = subprocess.run([sys.executable, os.path.join(a.source, "tests", "integration",
                                                             "compare_evtxexport.py"),
                              "--dcomhunt", a.dcomhunt, "--corpus", d])
        print(("ok   " if cmp.returncode == 0 else "FAIL ") +
              "evtxexport and dump agree on every value of every type")
        fails += cmp.returncode != 0
        return 1 if fails else 0
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
