#!/usr/bin/env python3
"""Every way an input can arrive is recognised and read the same way, a table: each format
dcomhunt reads (EVTX, bare EVTX chunks, event XML, NXLog JSON lines, a JSON array,
pretty-printed evtx_dump JSON, Defender CSV, Zeek TSV and JSON, and EVTX with trailing disk
junk), written as the tools that make it write it (Zeek's JSON is compact: no space after
':' or ',', ports as numbers; an export's first rows may hold no space at all), arriving
as a file, gzip'd, bzip2'd, xz'd, gzip'd on standard input, as a zip member, as a .gz
member of a zip, as a member of a zip inside a tar.gz, on standard input, through a named
pipe and through process substitution (/dev/fd/N) gives the same events, the same exit
status and the same number of messages as the plain file. Text whose first lines hold no
space is what a permissive archive reader takes for a file list (mtree): such a log must
still be read as the log it is.
A named pipe that nothing writes to for a while is announced, then read when a writer
comes.

usage: input_paths.py --dcomhunt PATH --corpus DIR --samples DIR --sigmahq DIR
"""
import argparse
import bz2
import gzip
import io
import json
import lzma
import os
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile

POSITIVE = "EVTX-ATTACK-SAMPLES/Lateral Movement/LM_impacket_docmexec_mmc_sysmon_01.evtx"
OTRF = ("Security-Datasets/datasets/atomic/windows/lateral_movement/host/"
        "empire_dcom_shellwindows_stager.zip")
ZEEK = ("Security-Datasets/datasets/compound/LSASS_campaign_01/"
        "metasploit_logonpasswords_lsass_memory_dump_zeek_logs.zip")


def strip(evs):
    return [{k: v for k, v in e.items() if k not in ("file", "chunk", "offset")} for e in evs]


def result(p):
    return (p.returncode, strip([json.loads(l) for l in p.stdout.splitlines()]),
            len(p.stderr.splitlines()))


def dump(dh, args, stdin=None, pass_fds=()):
    return subprocess.run([dh, "dump", "--fields"] + args, input=stdin, capture_output=True,
                          pass_fds=pass_fds, timeout=300)


def feeder(path, data, delay=0.0):
    """Writes data into the named pipe at path from a thread (after delay seconds)."""
    def go():
        time.sleep(delay)
        with open(path, "wb") as f:
            f.write(data)
    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--samples", required=True)
    ap.add_argument("--sigmahq", required=True)
    a = ap.parse_args()
    dh = a.dcomhunt
    fails, cells = [], 0

    def check(cond, msg):
        if not cond:
            fails.append(msg)

    with tempfile.TemporaryDirectory() as d:
        evtx = open(os.path.join(a.corpus, POSITIVE), "rb").read()
        with zipfile.ZipFile(os.path.join(a.corpus, ZEEK)) as z:
            zeek_tsv = z.read("conn.log")
        zl = zeek_tsv.decode().splitlines()
        fields = next(l for l in zl if l.startswith("#fields")).split("\t")[1:]
        zeek_json = "".join(json.dumps({k: (float(v) if k == "ts" else v)
                                        for k, v in zip(fields, l.split("\t")) if v != "-"}) + "\n"
                            for l in zl if not l.startswith("#")).encode()

        def zeek_compact(rename):
            """conn.log as Zeek's JSON writer writes it: compact, ports and counts as
            numbers; rename: the id.* names as exporters with underscores write them."""
            out = []
            for l in zl:
                if l.startswith("#"):
                    continue
                rec = {}
                for k, v in zip(fields, l.split("\t")):
                    if v == "-":
                        continue
                    rec[k.replace(".", "_") if rename else k] = (
                        float(v) if k == "ts" else int(v) if v.isdigit() else v)
                out.append(json.dumps(rec, separators=(",", ":")) + "\n")
            return "".join(out).encode()
        with zipfile.ZipFile(os.path.join(a.corpus, OTRF)) as z:
            name = z.namelist()[0]
            otrf = b"".join(z.open(name).readlines()[:2000])
        sig = []
        for root, _, names in sorted(os.walk(os.path.join(a.sigmahq, "regression_data"))):
            sig += [os.path.join(root, n) for n in sorted(names) if n.endswith(".json")]
        # A pretty-printed evtx_dump file holding several records.
        docs = next(open(p, "rb").read() for p in sig
                    if open(p, "rb").read().count(b'"Event"') > 1)
        xml = subprocess.run([dh, "dump", "--to", "xml", os.path.join(a.corpus, POSITIVE)],
                             capture_output=True).stdout
        csv = subprocess.run([dh, "dump", "--to", "mde-csv", os.path.join(a.corpus, POSITIVE)],
                             capture_output=True).stdout
        ecs = subprocess.run([dh, "dump", "--to", "ecs", os.path.join(a.corpus, POSITIVE)],
                             capture_output=True).stdout
        own = subprocess.run([dh, "dump", os.path.join(a.corpus, POSITIVE)],
                             capture_output=True).stdout
        mde_json = subprocess.run([dh, "dump", "--to", "mde-json",
                                   os.path.join(a.corpus, POSITIVE)], capture_output=True).stdout
        array = b"[\n" + b",\n".join(l for l in ecs.splitlines() if l.strip()) + b"\n]\n"
        # An export whose rows hold no space (the first rows of a network or logon table).
        tight = csv.splitlines(True)[:1] + [l for l in csv.splitlines(True)[1:] if b" " not in l]
        formats = {
            "evtx": evtx,
            "evtx-chunks": evtx[4096:],
            "evtx-trailing-junk": open(os.path.join(a.samples, "sysmon.evtx"), "rb").read(),
            "event-xml": xml,
            "nxlog-jsonl": otrf,
            "ecs-json-array": array,
            "ecs-jsonl": ecs,
            "dump-json": own,
            "defender-json": mde_json,
            "evtx_dump-json": docs,
            "defender-csv": csv,
            "zeek-tsv": zeek_tsv,
            "zeek-json": zeek_json,
            "zeek-json-as-written": zeek_compact(False),
            "zeek-json-underscores": zeek_compact(True),
            "zeek-json-one-line": zeek_compact(False).splitlines(True)[0],
            "defender-csv-no-spaces": b"".join(tight),
            # Nothing dcomhunt reads: nothing read (exit 4, said) by every path, an archive
            # or a compressed file holding only this included.
            "junk": b"Collected with care. See the case notes.\n",
        }
        for fmt, data in formats.items():
            plain = os.path.join(d, fmt + ".plain")
            with open(plain, "wb") as f:
                f.write(data)
            want = result(dump(dh, [plain]))
            if fmt == "junk":
                check(want[0] == 4 and not want[1] and want[2] == 2,
                      "junk: exit %d, %d events, %d messages" % (want[0], len(want[1]), want[2]))
            else:
                check(want[1], "%s: no events from the plain file (exit %d)" % (fmt, want[0]))
            got = {}
            gz = os.path.join(d, fmt + ".gz")
            with gzip.open(gz, "wb") as f:
                f.write(data)
            got["gzip"] = result(dump(dh, [gz]))
            for how, mod, ext in (("bzip2", bz2, ".bz2"), ("xz", lzma, ".xz")):
                comp = os.path.join(d, fmt + ext)
                with open(comp, "wb") as f:
                    f.write(mod.compress(data))
                got[how] = result(dump(dh, [comp]))
            got["gzip on stdin"] = result(dump(dh, ["-"], stdin=gzip.compress(data)))
            zgz = os.path.join(d, fmt + ".gz.zip")
            with zipfile.ZipFile(zgz, "w", zipfile.ZIP_STORED) as z:
                z.writestr("rotated/" + fmt + ".gz", gzip.compress(data))
            got["gzip member of a zip"] = result(dump(dh, [zgz]))
            zp = os.path.join(d, fmt + ".zip")
            with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("evidence/" + fmt, data)
            got["zip member"] = result(dump(dh, [zp]))
            nested = os.path.join(d, fmt + ".tgz")
            inner = io.BytesIO()
            with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("host1/" + fmt, data)
            with tarfile.open(nested, "w:gz") as t:
                info = tarfile.TarInfo("collection/host1.zip")
                info.size = len(inner.getvalue())
                t.addfile(info, io.BytesIO(inner.getvalue()))
            got["zip in tar.gz"] = result(dump(dh, [nested]))
            got["stdin"] = result(dump(dh, ["-"], stdin=data))
            fifo = os.path.join(d, fmt + ".fifo")
            os.mkfifo(fifo)
            th = feeder(fifo, data)
            got["named pipe"] = result(dump(dh, [fifo]))
            th.join(10)
            r, w = os.pipe()
            th = threading.Thread(target=lambda: (os.write(w, data) if len(data) < 60000 else
                                                  [os.write(w, data[i:i + 60000])
                                                   for i in range(0, len(data), 60000)],
                                                  os.close(w)), daemon=True)
            th.start()
            got["process substitution"] = result(dump(dh, ["/dev/fd/%d" % r], pass_fds=(r,)))
            os.close(r)
            th.join(10)
            for how, g in got.items():
                cells += 1
                check(g[0] == want[0], "%s %s: exit %d, the plain file %d" %
                      (fmt, how, g[0], want[0]))
                check(g[1] == want[1], "%s %s: %d events, the plain file %d%s" %
                      (fmt, how, len(g[1]), len(want[1]),
                       "" if len(g[1]) != len(want[1]) else " (they differ)"))
                check(g[2] == want[2], "%s %s: %d messages, the plain file %d" %
                      (fmt, how, g[2], want[2]))
            print("%-20s %5d events, exit %d, %d messages: %s" %
                  (fmt, len(want[1]), want[0], want[2],
                   "same by every path" if not [f for f in fails if f.startswith(fmt + " ")]
                   else "DIFFERS"))
        # Evidence bundles as collected: a pretty-printed metadata.json beside the log is
        # another kind of file (passed over, not read line by line and reported); Zeek logs
        # dcomhunt does not use (packet_filter, pe, x509...) are counted, not damage.
        bundle = os.path.join(d, "bundle.zip")
        with zipfile.ZipFile(bundle, "w") as z:
            z.writestr("metadata.json", json.dumps({"case": "IR-7", "hosts": ["IEWIN7"],
                                                    "tools": {"kape": "1.3"}}, indent=2))
            z.writestr("IEWIN7/Sysmon.evtx", evtx)
        p = dump(dh, [bundle])
        check(p.returncode == 0 and len(p.stdout.splitlines()) == 9 and not p.stderr,
              "bundle with metadata.json: exit %d, %d events, %r" %
              (p.returncode, len(p.stdout.splitlines()), p.stderr[-300:]))
        for cmd in ("dump", "stats"):
            p = subprocess.run([dh, cmd, os.path.join(a.corpus, ZEEK)], capture_output=True)
            errs = [l for l in p.stderr.decode().splitlines()
                    if "files" not in l and "not used" not in l]
            check(p.returncode == 0 and not errs, "Zeek logs, %s: exit %d, %s" %
                  (cmd, p.returncode, errs[:3]))
            if cmd == "stats":
                check(b"records of logs not used (Zeek logs without connection endpoints): 3"
                      in p.stderr, "Zeek logs not used are not counted: %r" % p.stderr[-300:])
        print("metadata.json beside a log: passed over; Zeek logs not used: counted, status 0")
        # A named pipe with no writer: announced after a second, then read.
        fifo = os.path.join(d, "late.fifo")
        os.mkfifo(fifo)
        th = feeder(fifo, evtx, delay=2.5)
        p = dump(dh, [fifo])
        th.join(10)
        check(p.returncode == 0 and len(p.stdout.splitlines()) == 9 and
              b"waiting for a writer" in p.stderr,
              "late writer: exit %d, %d events, %r" % (p.returncode, len(p.stdout.splitlines()),
                                                       p.stderr[-300:]))
    for f in fails:
        print("FAIL " + f)
    print("%d formats x %d paths: %d cells, %d failures" %
          (len(formats), cells // len(formats), cells, len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
