#!/usr/bin/env python3
"""Damaged and oversized text inputs lose only themselves, and nothing read is said.

  * CSV: an unterminated quote on line 2 of a 100,001-line export costs that line only
    (the next line that starts a well-formed record is read), in a file under the 16 MiB
    batch size and in one over it;
  * a record over 16 MiB (a CSV field, a JSON line, an XML event, a JSON array element, a
    pretty-printed JSON object) is said once ("line L: record over 16 MiB (N bytes),
    skipped") and everything after it is read;
  * nothing read is not "no findings": an empty folder, a folder of junk, a path that does
    not exist, junk on standard input: "nothing was read" and exit status 4 for hunt, dump
    and stats; junk beside a real input is exit 3 (partial) and the real input is read.

usage: text_recovery.py --dcomhunt PATH --corpus DIR
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

BIG = 20 << 20  # over the 16 MiB record cap
HDR = "Timestamp,DeviceName,ActionType,FileName,FolderPath,ProcessCommandLine,ReportId\n"
FORGED = ("2026-11-20T10:00:05.0000000Z,FORGED-HOST,ProcessCreated,evil.exe,C:\\evil.exe,"
          "evil.exe,77")
POSITIVE = "EVTX-ATTACK-SAMPLES/Lateral Movement/LM_impacket_docmexec_mmc_sysmon_01.evtx"


def row(i):
    return ("2026-11-20T10:%02d:%02d.0000000Z,ws1.corp.local,ProcessCreated,cmd.exe,"
            "C:\\Windows\\System32\\cmd.exe,cmd /c echo %d,%d\n" % (i // 60 % 60, i % 60, i, i + 1))


def nxlog(i, cmd="whoami"):
    return json.dumps({"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
                       "Hostname": "ws1", "SourceName": "Microsoft-Windows-Sysmon",
                       "RecordNumber": i, "Image": "C:\\Windows\\System32\\cmd.exe",
                       "CommandLine": cmd})


def xml(i, cmd="whoami"):
    return ("<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System>"
            "<Provider Name=\"Microsoft-Windows-Sysmon\"/><EventID>1</EventID>"
            "<TimeCreated SystemTime=\"2026-11-20T10:00:00.0000000Z\"/><EventRecordID>%d"
            "</EventRecordID><Channel>Microsoft-Windows-Sysmon/Operational</Channel>"
            "<Computer>ws1</Computer></System><EventData><Data Name=\"CommandLine\">%s</Data>"
            "</EventData></Event>\n" % (i, cmd))


def dump(dh, paths, stdin=None, cmd="dump"):
    args = [dh, cmd] + (["--no-progress"] if cmd == "hunt" else []) + paths
    p = subprocess.run(args, input=stdin, capture_output=True, timeout=600)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    a = ap.parse_args()
    dh = a.dcomhunt
    fails = []

    def check(cond, msg):
        if not cond:
            fails.append(msg)

    with tempfile.TemporaryDirectory() as d:
        def write(name, text):
            p = os.path.join(d, name)
            with open(p, "w") as f:
                f.write(text)
            return p

        bad = ("2026-11-20T10:00:00.0000000Z,ws1,ProcessCreated,cmd.exe,C:\\x.exe,"
               "\"an unterminated quote,99999999\n")
        cases = [  # name, path, records wanted, line the message names, message part
            ("csv unterminated quote",
             write("q.csv", HDR + bad + "".join(row(i) for i in range(100000))),
             100000, 2, "malformed CSV record"),
            ("csv unterminated quote, over 16 MiB",
             write("q_big.csv", HDR + bad + "".join(row(i) for i in range(300000))),
             300000, 2, "malformed CSV record"),
            # A quoted field over 16 MiB holding line ends and a forged row: the record is
            # skipped whole, never read line by line (the forged row is not an event), whether
            # its first line is over 16 MiB or its lines are short.
            ("csv quoted field over 16 MiB, forged row inside",
             write("inject.csv", HDR + row(0) + "2026-11-20T10:00:00.0000000Z,ws1,ProcessCreated,"
                   "cmd.exe,C:\\x.exe,\"" + "A" * BIG + "\n" + FORGED + "\n\",5\r\n" +
                   "".join(row(i) for i in range(1, 1000))),
             1000, 3, "record over 16 MiB"),
            ("csv quoted field of short lines over 16 MiB, forged row inside",
             write("inject_lines.csv", HDR + row(0) + "2026-11-20T10:00:00.0000000Z,ws1,"
                   "ProcessCreated,cmd.exe,C:\\x.exe,\"x\n" + ("A" * 99 + "\n") * (BIG // 100) +
                   FORGED + "\n\",5\n" + "".join(row(i) for i in range(1, 1000))),
             1000, 3, "record over 16 MiB"),
            ("csv field over 16 MiB",
             write("field.csv", HDR + row(0) + "2026-11-20T10:00:00.0000000Z,ws1,ProcessCreated,"
                   "cmd.exe,C:\\x.exe,\"" + "A" * BIG + "\",5\n" + "".join(row(i) for i in
                                                                         range(1, 1000))),
             1000, 3, "record over 16 MiB"),
            ("json line over 16 MiB",
             write("line.json", nxlog(1) + "\n" + nxlog(2, "A" * BIG) + "\n" +
                   "".join(nxlog(i) + "\n" for i in range(3, 1003))),
             1001, 2, "record over 16 MiB"),
            ("xml event over 16 MiB",
             write("big.xml", xml(1) + xml(2, "A" * BIG) + "".join(xml(i) for i in range(3, 503))),
             501, 2, "record over 16 MiB"),
            ("json array element over 16 MiB",
             write("big_array.json", "[\n" + ",\n".join([nxlog(1), nxlog(2, "A" * BIG)] +
                                                        [nxlog(i) for i in range(3, 503)]) + "\n]\n"),
             501, 3, "record over 16 MiB"),
            ("pretty json object over 16 MiB",
             write("big_doc.json", "".join(json.dumps(json.loads(nxlog(i, "A" * BIG if i == 2
                                                                       else "x")), indent=2) + "\n"
                                           for i in range(1, 200))),
             198, 10, "record over 16 MiB"),
        ]
        for name, path, want, line, part in cases:
            rc, out, err = dump(dh, [path])
            n = len(out.splitlines())
            lines = err.splitlines()
            check(rc == 3, "%s: exit %d, want 3" % (name, rc))
            check(n == want, "%s: %d records, want %d" % (name, n, want))
            check("FORGED-HOST" not in out, "%s: a row inside a quoted field was read" % name)
            check(len(lines) == 1 and ("line %d: %s" % (line, part)) in lines[0],
                  "%s: want one message naming line %d (%s): %s" % (name, line, part, lines[:3]))
            print("%-36s %7d records, %s" % (name, n, lines[0].split(": ", 2)[-1] if lines
                                             else "no message"))
        # The same injection read from a pipe (no going back): skipped whole too.
        with open(os.path.join(d, "inject.csv"), "rb") as f:
            rc, out, err = dump(dh, ["-"], stdin=f.read())
        check(rc == 3 and len(out.splitlines()) == 1000 and "FORGED-HOST" not in out and
              "line 3: record over 16 MiB" in err,
              "csv injection on a pipe: exit %d, %d records, %r" % (rc, len(out.splitlines()),
                                                                   err[:300]))
        print("%-36s %7d records (standard input)" % ("csv forged row in a field, pipe",
                                                      len(out.splitlines())))
        # An unterminated quote over 16 MiB on a pipe: its next line cannot be read again,
        # so what was read past is lost, and said (never read line by line: see above).
        with open(os.path.join(d, "q_big.csv"), "rb") as f:
            rc, out, err = dump(dh, ["-"], stdin=f.read())
        check(rc == 3 and len(err.splitlines()) == 1 and "line 2: malformed CSV record (a quote "
              "that never closes) over 16 MiB" in err and "cannot be read again" in err,
              "csv unterminated quote on a pipe: exit %d, %r" % (rc, err[:300]))
        # Old Mac line ends (CR only): every row read, a bad one named by its offset.
        cr = (HDR + "".join(row(i) for i in range(500)) + "not,a,row\n" +
              "".join(row(i) for i in range(500, 1000))).replace("\n", "\r")
        rc, out, err = dump(dh, [write("cr_only.csv", cr)])
        bad_at = len(HDR) + sum(len(row(i)) for i in range(500))
        check(rc == 3 and len(out.splitlines()) == 1000 and len(err.splitlines()) == 1 and
              ("offset %d:" % bad_at) in err,
              "csv with CR line ends: exit %d, %d records, %r" % (rc, len(out.splitlines()),
                                                                 err[:300]))
        print("%-36s %7d records, %s" % ("csv with CR line ends", len(out.splitlines()),
                                         err.strip().split(": ", 2)[-1]))
        # Nothing read.
        empty = os.path.join(d, "empty")
        junk = os.path.join(d, "junk")
        os.mkdir(empty)
        os.mkdir(junk)
        write("junk/notes.txt", "not a log\n" * 100)
        write("junk/image.bin", "\x7fELF" + "x" * 500)
        for name, paths, stdin in (("an empty folder", [empty], None),
                                   ("a folder of junk", [junk], None),
                                   ("a path that does not exist", [os.path.join(d, "nope")], None),
                                   ("junk on standard input", ["-"], b"not a log\n" * 50)):
            for cmd in ("hunt", "dump", "stats"):
                rc, out, err = dump(dh, paths, stdin, cmd)
                check(rc == 4 and "nothing was read" in err and "no findings" not in out,
                      "%s, %s: exit %d, %r" % (cmd, name, rc, err[-200:]))
            print("%-36s exit 4, 'nothing was read'" % name)
        rc, out, err = dump(dh, [os.path.join(junk, "notes.txt"), os.path.join(a.corpus, POSITIVE)])
        check(rc == 3 and len(out.splitlines()) == 9 and "nothing was read" not in err,
              "junk beside a log: exit %d, %d events" % (rc, len(out.splitlines())))
    for f in fails:
        print("FAIL " + f)
    print("%d failures" % len(fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
