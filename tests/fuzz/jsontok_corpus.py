#!/usr/bin/env python3
"""The JSON reader's differential (tests/fuzz/fuzz_jsontok.c) on the corpus's real JSON.

Every JSON member of the corpus's zip files is written out as it is (JSON lines, read as
lines and as an array) and as a JSON array of its lines (read as an array, so that the
array path of the fast pass meets real events), each cut to the replay's 16 MiB input cap
at a line's end, and replayed through replay_jsontok: the fast pass and jsmn must give the
same tokens, and a reader on each the same events and errors, or the replay aborts.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import zipfile

CAP = 16 << 20


def cut(data, cap):
    """data up to cap bytes, ended at a line's end when it is longer."""
    if len(data) <= cap:
        return data
    nl = data.rfind(b"\n", 0, cap)
    return data[: nl + 1] if nl >= 0 else data[:cap]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replay", required=True)
    ap.add_argument("--corpus", required=True)
    a = ap.parse_args()
    members = 0
    with tempfile.TemporaryDirectory() as tmp:
        for root, _, files in os.walk(a.corpus):
            for f in sorted(files):
                if not f.endswith(".zip"):
                    continue
                with zipfile.ZipFile(os.path.join(root, f)) as z:
                    for info in z.infolist():
                        if not info.filename.endswith(".json"):
                            continue
                        data = z.read(info)
                        members += 1
                        base = os.path.join(tmp, "%d" % members)
                        with open(base + "-lines.json", "wb") as out:
                            out.write(cut(data, CAP))
                        lines = [ln for ln in data.split(b"\n") if ln.strip()]
                        arr = b"[\n  " + b",\n  ".join(lines) + b"\n]\n"
                        with open(base + "-array.json", "wb") as out:
                            out.write(cut(arr, CAP - 4) if len(arr) > CAP else arr)
        if members == 0:
            print("jsontok_corpus: no JSON member in the corpus's zip files", file=sys.stderr)
            return 1
        r = subprocess.run([a.replay, tmp])
        if r.returncode != 0:
            print("jsontok_corpus: replay_jsontok failed (%d)" % r.returncode, file=sys.stderr)
            return 1
    print("jsontok_corpus: %d JSON members, as lines and as arrays: same tokens and events" % members)
    return 0


if __name__ == "__main__":
    sys.exit(main())
