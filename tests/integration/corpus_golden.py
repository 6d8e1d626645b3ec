#!/usr/bin/env python3
"""Output on the whole shared corpus must not change by a byte unless a change means it to.

Each case runs one command on the whole corpus (from the corpus's parent folder, so the
file names in the output are the same on every machine) and compares standard output, the
exit status and standard error (without its timing lines) with what is kept under
tests/data/golden/. Small outputs are kept whole, so a failure shows a diff; large ones as
their SHA-256 and size.

A commit that changes output on purpose regenerates the kept output with --update and says
why in its message.
"""
import argparse
import difflib
import hashlib
import os
import re
import subprocess
import sys
import tempfile

KEEP_WHOLE = 256 * 1024  # outputs up to this size are kept whole, larger ones as a hash

# name -> (arguments after the binary, input fed on stdin: None or the name of a case
# whose stdout is fed). "@HTML@" is replaced by a temporary file whose content is the
# case's output instead of stdout.
CASES = [
    ("hunt_table", ["hunt", "corpus"], None),
    ("hunt_jsonl", ["hunt", "--jsonl", "corpus"], None),
    ("hunt_ocsf", ["hunt", "--ocsf", "corpus"], None),
    ("hunt_csv", ["hunt", "--csv", "corpus"], None),
    ("hunt_explain", ["hunt", "--explain", "corpus"], None),
    ("hunt_detections", ["hunt", "--detections", "corpus"], None),
    ("hunt_detections_jsonl", ["hunt", "--detections", "--jsonl", "corpus"], None),
    ("hunt_detections_csv", ["hunt", "--detections", "--csv", "corpus"], None),
    ("hunt_html", ["hunt", "--html", "@HTML@", "corpus"], None),
    ("hunt_jsonl_j1", ["hunt", "--jsonl", "-j", "1", "corpus"], None),
    ("report_stdin", ["report", "-"], "hunt_jsonl"),
    ("tune_suggest", ["tune", "suggest", "--min", "1", "-"], "hunt_jsonl"),
    ("stats", ["stats", "corpus"], None),
    ("dump_json", ["dump", "corpus"], None),
    ("dump_xml", ["dump", "--to", "xml", "corpus"], None),
]

TIMING = re.compile(rb"\b\d+(\.\d+)? (s|records/s|events/s|MB/s)\b")


def run_case(binary, corpus_parent, args, stdin_bytes):
    html = None
    if "@HTML@" in args:
        fd, html = tempfile.mkstemp(suffix=".html")
        os.close(fd)
        args = [html if a == "@HTML@" else a for a in args]
    try:
        p = subprocess.run([binary] + args, cwd=corpus_parent, input=stdin_bytes,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
        out = p.stdout
        if html:
            with open(html, "rb") as f:
                out = f.read() + b"\n--- stdout ---\n" + p.stdout
    finally:
        if html:
            os.unlink(html)
    err = TIMING.sub(b"<t>", p.stderr)
    return out, err, p.returncode


def kept(golden, name):
    path = os.path.join(golden, name)
    for ext in (".out", ".sha256"):
        if os.path.exists(path + ext):
            with open(path + ext, "rb") as f:
                return ext, f.read()
    return None, None


def describe(out):
    return ("%s %d\n" % (hashlib.sha256(out).hexdigest(), len(out))).encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--golden", required=True, help="folder of kept outputs")
    ap.add_argument("--update", action="store_true", help="rewrite the kept outputs")
    ap.add_argument("--only", help="run only the cases whose name contains this")
    a = ap.parse_args()
    binary = os.path.abspath(a.dcomhunt)
    corpus = os.path.abspath(a.corpus)
    parent, base = os.path.split(corpus)
    if base != "corpus":
        sys.exit("corpus folder must be named 'corpus' (file names in the output)")
    os.makedirs(a.golden, exist_ok=True)
    outputs, failed = {}, []
    for name, args, feed in CASES:
        if a.only and a.only not in name and feed is None:
            continue
        stdin_bytes = outputs.get(feed) if feed else None
        if feed and stdin_bytes is None:
            continue
        out, err, rc = run_case(binary, parent, args, stdin_bytes)
        outputs[name] = out
        status = b"exit %d\n--- stderr ---\n" % rc + err
        if a.update:
            for ext in (".out", ".sha256"):
                if os.path.exists(os.path.join(a.golden, name + ext)):
                    os.unlink(os.path.join(a.golden, name + ext))
            if len(out) <= KEEP_WHOLE:
                body, ext = out, ".out"
            else:
                body, ext = describe(out), ".sha256"
            with open(os.path.join(a.golden, name + ext), "wb") as f:
                f.write(body)
            with open(os.path.join(a.golden, name + ".status"), "wb") as f:
                f.write(status)
            print("kept %s (%d bytes, exit %d)" % (name, len(out), rc))
            continue
        ext, want = kept(a.golden, name)
        if want is None:
            failed.append(name)
            print("FAIL %s: nothing kept (run with --update)" % name)
            continue
        got = out if ext == ".out" else describe(out)
        with open(os.path.join(a.golden, name + ".status"), "rb") as f:
            want_status = f.read()
        ok = True
        if got != want:
            ok = False
            print("FAIL %s: output differs (%d bytes now)" % (name, len(out)))
            if ext == ".out":
                diff = difflib.unified_diff(
                    want.decode("utf-8", "replace").splitlines(),
                    got.decode("utf-8", "replace").splitlines(),
                    "kept", "now", lineterm="", n=1)
                for i, line in enumerate(diff):
                    if i >= 40:
                        print("  ...")
                        break
                    print("  " + line[:300])
        if status != want_status:
            ok = False
            print("FAIL %s: exit status or stderr differs" % name)
            diff = difflib.unified_diff(
                want_status.decode("utf-8", "replace").splitlines(),
                status.decode("utf-8", "replace").splitlines(),
                "kept", "now", lineterm="", n=1)
            for i, line in enumerate(diff):
                if i >= 20:
                    break
                print("  " + line[:300])
        if ok:
            print("ok   %s (%d bytes, exit %d)" % (name, len(out), rc))
        else:
            failed.append(name)
    if failed:
        print("%d case(s) changed: %s" % (len(failed), ", ".join(failed)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
