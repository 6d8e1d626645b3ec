#!/usr/bin/env python3
"""libarchive and Graphviz are loaded when needed, not when dcomhunt starts.

Start-up is a serial share of every run that no worker shares
(docs/internals/performance.md, "Start-up is serial"): linked in, libarchive (with libxml2,
ICU, libstdc++) and Graphviz were most of the dynamic loader's work. They are opened with
dlopen on first use. With LD_DEBUG=libs the loader says which libraries it initialises:

- reading a plain JSON lines file (stats, dump, hunt with an HTML report that has no host
  to draw) must initialise neither;
- reading the same event from a zip must initialise libarchive, and count the same record;
- the binary itself must not name either among the libraries it needs (DT_NEEDED, read
  from the ELF file here, no binutils needed).
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile
import zipfile

EVENT = (b'{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational",'
         b'"Hostname":"ws1.corp.local","@timestamp":"2020-01-01T00:00:00.000Z",'
         b'"Image":"C:\\\\Windows\\\\explorer.exe","ProcessGuid":"{1}"}\n')
LAZY = ("libarchive", "libgvc", "libcgraph", "libgvplugin")


def needed(path):
    """The DT_NEEDED names of a 64-bit little-endian ELF file."""
    data = open(path, "rb").read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise SystemExit(f"{path}: not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
                for i in range(shnum)]
    names = []
    for s in sections:
        if s[1] != 6:  # SHT_DYNAMIC
            continue
        strtab = sections[s[6]]
        for off in range(s[4], s[4] + s[5], 16):
            tag, val = struct.unpack_from("<qQ", data, off)
            if tag == 0:
                break
            if tag == 1:  # DT_NEEDED
                start = strtab[4] + val
                names.append(data[start:data.index(b"\0", start)].decode())
    return names


def run(binary, args):
    env = dict(os.environ, LD_DEBUG="libs")
    p = subprocess.run([binary] + args, capture_output=True, env=env, timeout=60)
    inits = [l for l in p.stderr.decode(errors="replace").splitlines() if "calling init:" in l]
    lazy = sorted({n for l in inits for n in LAZY if n in l})
    summary = [l for l in p.stderr.decode(errors="replace").splitlines() if "records " in l]
    return p.returncode, lazy, summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dcomhunt", required=True)
    a = ap.parse_args()
    failures = []
    bad = [n for n in needed(a.dcomhunt) if n.startswith(LAZY)]
    if bad:
        failures.append(f"the binary needs {bad} at start-up")
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "ev.json")
        with open(plain, "wb") as f:
            f.write(EVENT)
        zipped = os.path.join(tmp, "ev.zip")
        with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(plain, "ev.json")
        html = os.path.join(tmp, "r.html")
        for args in (["stats", "-j1", plain], ["stats", "-j2", plain], ["dump", plain],
                     ["hunt", "--no-progress", "--html", html, plain]):
            rc, lazy, _ = run(a.dcomhunt, args)
            print(f"{' '.join(args[:-1])} (plain file): exit {rc}, lazily loaded: {lazy or 'none'}")
            if rc >= 2:
                failures.append(f"{args[0]} on a plain file exited {rc}")
            if lazy:
                failures.append(f"{args[0]} on a plain file loaded {lazy}")
        rc1, _, s1 = run(a.dcomhunt, ["stats", "-j1", plain])
        rc2, lazy, s2 = run(a.dcomhunt, ["stats", "-j1", zipped])
        print(f"stats (zip): exit {rc2}, lazily loaded: {lazy or 'none'}")
        count = [l.split("records ")[1].split(" ")[0] for l in s1 + s2]
        if rc2 != 0 or "libarchive" not in lazy:
            failures.append(f"stats on a zip: exit {rc2}, loaded {lazy} (libarchive expected)")
        if len(count) != 2 or count[0] != count[1] or count[0] != "1":
            failures.append(f"records counted, plain file and zip: {count} (1 and 1 expected)")
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    print("PASS: libarchive and Graphviz loaded only when needed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
