#!/usr/bin/env python3
"""Attacker-written strings through every output of `dcomhunt hunt`, end to end.

The same hostile values (NUL, ESC and CSI sequences, the 8-bit CSI byte 0x9B, C1 controls,
invalid and overlong UTF-8, bidirectional overrides and invisible characters, spreadsheet
formula leaders, HTML specials, quotes and backslashes, a value longer than the findings'
cap) are written into the command line a DCOM server ran, the account and the source
workstation of one chain each (JSON lines input), and into a real corpus EVTX file patched
in place (a NUL and an ESC inside UTF-16 strings). Every sink is then checked against the
policy of docs/output-escaping.md:

  table, --explain, --detections   valid UTF-8; no control byte but newline, no C1, no bidi
                                   or invisible character; each value whole (its tail is
                                   there), escaped exactly as the terminal policy says
  --jsonl, --detections --jsonl,   every line is JSON; the decoded value is the input value
  --ocsf                           (invalid bytes as U+FFFD); nothing hidden raw in the line
  --csv, --detections --csv        RFC 4180; one record per line; no cell a spreadsheet
                                   evaluates; values whole and escaped as on the terminal
  --html                           valid UTF-8, no markup from the values, values whole
  KQL pivots                       every value inside its literal, no control character
  dcomhunt pivots                  one shell word per value, no control character
  a value over the cap             cut at the documented cap, marked with its length
  stats, dump                      the same policies (terminal, JSON)

Table-driven: CASES below is the list of hostile values; each check runs over all of them.
"""
import argparse
import csv
import io
import json
import os
import re
import shlex
import struct
import subprocess
import sys
import tarfile
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from explain import kql_literals  # noqa: E402  (the @"..." literals of a KQL query)

VALUE_CAP = 131072  # docs/findings.md: the longest value a finding keeps whole (DH_VALUE_CAP)

CASES = [
    ("nul", b"whoami\x00 & evil.exe --steal-creds"),
    ("esc_csi", b"\x1b[2J\x1b]0;owned\x07\x1b[31mred"),
    ("csi_8bit_raw", b"\x9b2J raw CSI byte"),
    ("c1_codepoints", "\u009b2J \u0085nel \u008dri".encode()),
    ("invalid_utf8", b"\xff\xfe\x80 bad \xc3"),
    ("overlong", b"\xc0\xaf\xe0\x80\xaf\xf0\x80\x80\xaf \xed\xa0\x80"),
    ("bidi", "invoice\u202efdp.exe \u2066x\u2069 \u200bzw\ufeff \u061c \u2028".encode()),
    ("tags", "ascii\U000E0041\U000E0042smuggling".encode()),
    ("formula_eq", b"=cmd|' /C calc'!A0"),
    ("formula_plus", b"+1+1"),
    ("formula_minus", b"-2+3"),
    ("formula_at", b"@SUM(1,2)"),
    ("formula_tab", b"\t=1+1"),
    ("formula_cr", b"\r=1+1"),
    ("html", b"<script>alert(1)</script><img src=x onerror=alert(2)>&amp;"),
    ("quotes", b"a\"b'c\\d\\\\e\\x1b \\u0000"),
    ("newlines", b"line1\nline2\r\nline3"),
    ("kql_break", b"x\" | union (DeviceEvents) | where \"1\"==\"1"),
    ("shell_break", b"'; rm -rf / #$(id)`id`"),
]
LONG = ("long", b"A" * 200000)

HIDDEN = set(range(0, 0x20)) | {0x7F} | set(range(0x80, 0xA0)) | {0x00AD, 0x061C, 0x180E} | \
    set(range(0x200B, 0x2010)) | set(range(0x2028, 0x202F)) | set(range(0x2060, 0x2070)) | \
    {0xFEFF} | set(range(0xFFF9, 0xFFFC)) | set(range(0xE0000, 0xE0080))


def utf8_pieces(b):
    """(bytes, code point or None) for each valid UTF-8 sequence or invalid byte of b."""
    i, out = 0, []
    while i < len(b):
        c = b[i]
        n, lo = (1, 0) if c < 0x80 else (2, 0x80) if 0xC2 <= c <= 0xDF else \
            (3, 0x800) if 0xE0 <= c <= 0xEF else (4, 0x10000) if 0xF0 <= c <= 0xF4 else (0, 0)
        cp = None
        if n and i + n <= len(b) and all(0x80 <= x <= 0xBF for x in b[i + 1:i + n]):
            v = c & (0x7F >> n if n > 1 else 0x7F)
            for x in b[i + 1:i + n]:
                v = (v << 6) | (x & 0x3F)
            if v >= lo and v <= 0x10FFFF and not 0xD800 <= v <= 0xDFFF:
                cp = v
        if cp is None:
            out.append((b[i:i + 1], None))
            i += 1
        else:
            out.append((b[i:i + n], cp))
            i += n
    return out


def json_value(b):
    """What a JSON sink carries for the bytes b: invalid bytes become U+FFFD, one each."""
    return "".join("\ufffd" if cp is None else chr(cp) for _, cp in utf8_pieces(b))


def term_value(b):
    """The terminal policy (docs/output-escaping.md): invalid bytes and C0/DEL/C1 controls
    as \\xNN, hidden format characters as \\uNNNN (\\UNNNNNNNN past U+FFFF)."""
    out = []
    for raw, cp in utf8_pieces(b):
        if cp is None:
            out.append("\\x%02x" % raw[0])
        elif cp < 0x20 or cp == 0x7F or 0x80 <= cp <= 0x9F:
            out.append("\\x%02x" % cp)
        elif cp in HIDDEN:
            out.append("\\u%04x" % cp if cp <= 0xFFFF else "\\U%08x" % cp)
        else:
            out.append(chr(cp))
    return "".join(out)


def run(args, ok=(0, 1), **kw):
    r = subprocess.run(args, capture_output=True, **kw)
    if r.returncode not in ok:
        raise SystemExit("%s: exit %d\n%s" % (args[1:], r.returncode, r.stderr[-3000:].decode("utf-8", "replace")))
    return r.stdout, r.stderr


def jstr(b):
    """A JSON string literal holding the bytes b as they are (raw invalid bytes included)."""
    out = bytearray(b'"')
    for x in b:
        if x == 0x22 or x == 0x5C:
            out += b"\\" + bytes([x])
        elif x < 0x20:
            out += b"\\u%04x" % x
        else:
            out.append(x)
    return bytes(out + b'"')


def jobj(pairs):
    return b"{" + b",".join(jstr(k.encode()) + b":" + (jstr(v) if isinstance(v, bytes) else
                                                       json.dumps(v).encode()) for k, v in pairs) + b"}"


def chain_lines(n, value):
    """A logon, an MMC20 activation and a child running `value` on host T<n>."""
    host = ("T%d" % n).encode()
    t = "2020-10-17 10:%02d:%02d.000" % (n // 60, n % 60 + 1)
    ts = "2020-10-17T10:%02d:%02d.000Z" % (n // 60, n % 60)
    sysmon = [("SourceName", "Microsoft-Windows-Sysmon"), ("Channel", "Microsoft-Windows-Sysmon/Operational")]
    logon = [("EventID", 4624), ("SourceName", "Microsoft-Windows-Security-Auditing"), ("Channel", "Security"),
             ("Hostname", host), ("RecordNumber", 3 * n + 1), ("@timestamp", ts), ("LogonType", "3"),
             ("TargetLogonId", "0x%x" % (0x1000 + n)), ("IpAddress", "10.0.0.%d" % (n + 1)),
             ("TargetUserName", b"u" + value), ("TargetDomainName", "CORP"), ("WorkstationName", b"W" + value)]
    common = [("Hostname", host), ("LogonId", "0x%x" % (0x1000 + n)), ("User", b"CORP\\u" + value)]
    act = [("EventID", 1)] + sysmon + common + [
        ("UtcTime", t), ("RecordNumber", 3 * n + 2), ("Image", "C:\\Windows\\System32\\mmc.exe"),
        ("CommandLine", "C:\\Windows\\system32\\mmc.exe -Embedding"),
        ("ParentImage", "C:\\Windows\\System32\\svchost.exe"),
        ("ParentCommandLine", "C:\\Windows\\system32\\svchost.exe -k DcomLaunch"),
        ("ProcessGuid", "{A%d}" % n), ("ProcessId", "100")]
    child = [("EventID", 1)] + sysmon + common + [
        ("UtcTime", t.replace(".000", ".500")), ("RecordNumber", 3 * n + 3), ("Image", "C:\\Windows\\System32\\cmd.exe"),
        ("CommandLine", b"cmd.exe /c " + value + b" END%d" % n),
        ("ParentImage", "C:\\Windows\\System32\\mmc.exe"), ("ParentProcessGuid", "{A%d}" % n),
        ("ProcessGuid", "{B%d}" % n), ("ProcessId", "101"), ("ParentProcessId", "100")]
    return [jobj(logon), jobj(act), jobj(child)]


def patched_evtx(corpus, out):
    """The corpus's Impacket MMC20 sample with a NUL, an ESC and a lone surrogate written
    into UTF-16 command lines (checksums recomputed): what a crafted log could hold."""
    src = os.path.join(corpus, "EVTX-ATTACK-SAMPLES", "Lateral Movement", "LM_impacket_docmexec_mmc_sysmon_01.evtx")
    b = bytearray(open(src, "rb").read())
    for old, new in [("whoami /all 1>", "whoami\x00/all 1>"), ("cd \\ 1>", "cd\x1b\\ 1>")]:
        o, n = old.encode("utf-16-le"), new.encode("utf-16-le")
        i = b.find(o)
        assert i > 0 and len(o) == len(n), old
        b[i:i + len(o)] = n
    i = b.find("whoami  /all".encode("utf-16-le"))
    assert i > 0
    b[i + 12:i + 14] = b"\x00\xd8"  # a lone high surrogate: becomes U+FFFD
    for ch in range(4096, len(b), 65536):
        if b[ch:ch + 8] != b"ElfChnk\x00":
            continue
        free = struct.unpack_from("<I", b, ch + 48)[0]
        struct.pack_into("<I", b, ch + 52, zlib.crc32(bytes(b[ch + 512:ch + free])))
        struct.pack_into("<I", b, ch + 124, zlib.crc32(bytes(b[ch:ch + 120]) + bytes(b[ch + 128:ch + 512])))
    with open(out, "wb") as f:
        f.write(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    a = ap.parse_args()
    D = a.dcomhunt
    fails, checks = [], [0]

    def check(cond, msg):
        checks[0] += 1
        if not cond:
            fails.append(msg)
        return cond

    csv.field_size_limit(sys.maxsize)
    cases = CASES + [LONG]
    tmp = tempfile.TemporaryDirectory()
    jl = os.path.join(tmp.name, "hostile.jsonl")
    with open(jl, "wb") as f:
        for n, (_, v) in enumerate(cases):
            for line in chain_lines(n, v):
                f.write(line + b"\n")
        # a channel name carrying an escape sequence (stats and the summary print channels)
        f.write(jobj([("EventID", 7), ("SourceName", "X"), ("Channel", b"Evil\x1b[2J\x9b\xe2\x80\xaeChan"),
                      ("Hostname", "T99"), ("RecordNumber", 999), ("@timestamp", "2020-10-17T11:00:00Z")]) + b"\n")
    # the same input inside a tar archive whose member name is hostile (names reach the output)
    tar = os.path.join(tmp.name, "hostile.tar")
    with tarfile.open(tar, "w") as t:
        t.add(jl, arcname="evil\x1b[2J\u202egpj.jsonl")
    evtx = os.path.join(tmp.name, "patched.evtx")
    patched_evtx(a.corpus, evtx)
    html = os.path.join(tmp.name, "r.html")

    common = ["--no-progress", "--color", "never"]
    outs = {}
    for name, extra in [("table", []), ("explain", ["--explain"]), ("detections", ["--detections"]),
                        ("jsonl", ["--jsonl"]), ("det_jsonl", ["--detections", "--jsonl"]),
                        ("ocsf", ["--ocsf"]), ("csv", ["--csv"]), ("det_csv", ["--detections", "--csv"]),
                        ("html", ["--html", html])]:
        outs[name] = run([D, "hunt"] + common + extra + [jl])
        if name == "html":
            with open(html, "rb") as f:
                outs[name] = (f.read(), outs[name][1])
    tar_table = run([D, "hunt"] + common + ["--explain", tar])
    evtx_out = {m: run([D, "hunt"] + common + extra + [evtx])[0] for m, extra in
                [("table", []), ("detections", ["--detections"]), ("jsonl", ["--jsonl"]), ("csv", ["--csv"])]}
    stats = run([D, "stats", jl], ok=(0,))
    dump = run([D, "dump", jl], ok=(0,))[0]

    def inert(name, data, ours="\n"):
        """Valid UTF-8, and no control, C1, bidi or invisible character in it but the
        separators the sink itself writes (`ours`)."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            check(False, "%s: not valid UTF-8 at byte %d: %r" % (name, e.start, data[max(0, e.start - 30):e.start + 10]))
            text = data.decode("utf-8", "replace")
        bad = [(i, hex(ord(c))) for i, c in enumerate(text)
               if ord(c) in HIDDEN and c not in ours]
        check(not bad, "%s: raw hidden or control characters %s near %r" %
              (name, bad[:5], text[max(0, bad[0][0] - 40):bad[0][0] + 10] if bad else ""))
        return text

    # ---- terminal sinks: the policy, and every value whole -------------------------------
    for sink in ("table", "explain", "detections"):
        out = inert(sink, outs[sink][0])
        inert(sink + " (stderr)", outs[sink][1])
        for n, (case, v) in enumerate(CASES):
            want = term_value(b"cmd.exe /c " + v + b" END%d" % n)
            check(want in out, "%s: %s: the command is not shown whole as %r" % (sink, case, want[:80]))
        if sink != "detections":
            check(term_value(b"CORP\\u" + CASES[0][1]) in out, "%s: the account is cut" % sink)
        check("whoami\\x00 & evil.exe --steal-creds END0" in out, "%s: NUL not shown as \\x00" % sink)
    for n, (case, v) in enumerate(CASES):
        check(term_value(b"W" + v) in outs["table"][0].decode("utf-8", "replace"),
              "table: %s: the source host is not shown whole" % case)
    inert("archive member name (table)", tar_table[0])
    inert("archive member name (stderr)", tar_table[1])
    check("evil\\x1b[2J\\u202egpj.jsonl" in tar_table[0].decode("utf-8", "replace"),
          "table: the archive member's name is not shown escaped")

    # ---- JSON sinks ------------------------------------------------------------------------
    findings = {}
    for sink in ("jsonl", "det_jsonl", "ocsf"):
        text = inert(sink, outs[sink][0])
        objs = []
        for i, line in enumerate(l for l in text.split("\n") if l):
            try:
                objs.append(json.loads(line))
            except ValueError as e:
                check(False, "%s: line %d is not JSON: %s" % (sink, i + 1, e))
        check(objs, "%s: no output" % sink)
        if sink == "jsonl":
            findings = {f["target"]["host"]: f for f in objs if f["kind"] == "lateral_movement"}
        elif sink == "det_jsonl":
            for n, (case, v) in enumerate(CASES):
                want = "CommandLine=" + json_value(b"cmd.exe /c " + v + b" END%d" % n)
                check(any(want in o["fields"] for o in objs), "%s: %s: fields lack %r" % (sink, case, want[:80]))
                check(any(("ParentImage=C:\\Windows\\System32\\mmc.exe" in o["fields"] and
                           "END%d" % n in o["fields"]) for o in objs),
                      "%s: %s: fields after the command are lost" % (sink, case))
        else:
            for n, (case, v) in enumerate(CASES):
                want = json_value(b"cmd.exe /c " + v + b" END%d" % n)
                check(any(e.get("process", {}).get("cmd_line") == want for o in objs for e in o["evidences"]),
                      "%s: %s: no evidence with the command line whole" % (sink, case))
                check(any(want in o["unmapped"].get("commands", []) for o in objs),
                      "%s: %s: unmapped.commands lacks the command whole" % (sink, case))
                check(any(o.get("actor", {}).get("user", {}).get("name") == json_value(b"u" + v) and
                          o["actor"]["user"].get("domain") == "CORP" for o in objs),
                      "%s: %s: actor.user is not the account" % (sink, case))
    for n, (case, v) in enumerate(CASES):
        f = findings.get("T%d" % n)
        if not check(f, "jsonl: %s: no lateral_movement finding on T%d" % (case, n)):
            continue
        want = json_value(b"cmd.exe /c " + v + b" END%d" % n)
        check(f["commands"] == [want], "jsonl: %s: commands %r, want %r" % (case, f["commands"], want))
        check(f["user"] == json_value(b"CORP\\u" + v), "jsonl: %s: user %r" % (case, f["user"]))
        check(f["source"]["host"] == json_value(b"W" + v), "jsonl: %s: source host %r" % (case, f["source"]["host"]))
        check("truncated" not in f, "jsonl: %s: marked truncated" % case)
        # KQL pivots: each value inside its literal, nothing inexpressible in it
        for p in f["pivots"]:
            q = p["query"]
            if p["language"] == "kql":
                try:
                    lits, bare = kql_literals(q)
                except ValueError:
                    lits, bare = None, q
                check(lits is not None and bare.count("(") == bare.count(")") and "union" not in bare
                      and "\n|" in bare, "kql pivot: %s: a value left its literal: %r" % (case, q[:200]))
                check(all(not any(is_control(c) for c in l) for l in lits or []),
                      "kql pivot: %s: a control character inside a literal: %r" % (case, lits))
                if "AccountName =~" in q and lits:
                    name = kql_text(b"u" + v)
                    check(name in lits, "kql pivot: %s: the account %r is not a literal of %r" % (case, name, lits))
            else:
                check(not any(ord(c) in HIDDEN for c in q), "shell pivot: %s: control character in %r" % (case, q))
                try:
                    argv = shlex.split(q)
                    check(argv[:2] == ["dcomhunt", "hunt"] and "rm" not in argv and jl in argv,
                          "shell pivot: %s: %r" % (case, q))
                except ValueError as e:
                    check(False, "shell pivot: %s: does not parse (%s): %r" % (case, e, q))
    lf = findings.get("T%d" % len(CASES))
    long_cmd = len(b"cmd.exe /c ") + len(LONG[1]) + len(b" END%d" % len(CASES))
    if check(lf, "jsonl: the long value's finding is missing"):
        c = lf["commands"][0]
        check(len(c.encode()) == VALUE_CAP and c.startswith("cmd.exe /c AAAA"),
              "jsonl: a 200,000-byte command is kept as %d bytes, want the cap %d" % (len(c.encode()), VALUE_CAP))
        t = lf.get("truncated", [])
        check({"value": "commands[0]", "length": long_cmd, "kept": VALUE_CAP} in t,
              "jsonl: the cut command is not marked with its length: %r" % t)
        # the account and the source host (the logon's workstation name) are cut as well
        for what, length in (("user", len(b"CORP\\u") + len(LONG[1])), ("source_host", 1 + len(LONG[1]))):
            check(any(x["value"] == what and x["length"] == length for x in t),
                  "jsonl: the cut %s is not marked with its length: %r" % (what, t))
    oc = [json.loads(l) for l in outs["ocsf"][0].decode("utf-8", "replace").split("\n") if l]
    check(any({"value": "commands[0]", "length": long_cmd, "kept": VALUE_CAP} in o["unmapped"].get("truncated", [])
              for o in oc), "ocsf: the cut command is not marked under unmapped.truncated")
    check(re.search(r"over the findings' caps .*: 3 values cut", outs["jsonl"][1].decode("utf-8", "replace")),
          "the summary does not count the values cut (command, account, source host)")
    for sink in ("table", "explain"):
        check(("[truncated: %d bytes, first %d shown]" % (long_cmd, VALUE_CAP)) in outs[sink][0].decode("utf-8", "replace"),
              "%s: the cut command is not marked" % sink)

    # ---- CSV ---------------------------------------------------------------------------------
    for sink in ("csv", "det_csv"):
        text = inert(sink, outs[sink][0])
        rows = list(csv.reader(io.StringIO(text, newline="")))
        check(len(rows) > 1 and len(set(map(len, rows))) == 1, "%s: rows of unequal length" % sink)
        check(len(rows) == text.count("\n"), "%s: a record spans lines" % sink)
        for r in rows[1:]:
            for cell in r:
                check(not cell[:1] in ("=", "+", "-", "@", "\t", "\r"),
                      "%s: a cell a spreadsheet would evaluate: %r" % (sink, cell[:40]))
        body = "\n".join(",".join(r) for r in rows)
        for n, (case, v) in enumerate(CASES):
            want = term_value(b"cmd.exe /c " + v + b" END%d" % n)
            check(want in body, "%s: %s: the command is not whole as %r" % (sink, case, want[:80]))
        if sink == "csv" and len(rows) > 1:
            ucol = rows[0].index("user")
            for n, (case, v) in enumerate(CASES):
                u = term_value(b"CORP\\u" + v)
                check(any(r[ucol] in (u, "'" + u) for r in rows[1:]), "csv: %s: the user cell is not %r" % (case, u))
            check(any(("[truncated: %d bytes]" % long_cmd) in r[rows[0].index("commands")] for r in rows[1:]),
                  "csv: the cut command is not marked")

    # ---- HTML --------------------------------------------------------------------------------
    page = inert("html", outs["html"][0])
    check("<script>" not in page and "<img" not in page, "html: markup from the values")
    for n, (case, v) in enumerate(CASES):
        check("END%d" % n in page, "html: %s: the command is cut" % case)
    check("whoami<span class=\"esc\">\\x00</span> &amp; evil.exe" in page, "html: NUL is not marked")
    check("<code>commands[0]</code> truncated: %d bytes in the log" % long_cmd in page,
          "html: the cut command is not marked")

    # ---- EVTX: UTF-16 values with a NUL, an ESC and a lone surrogate ---------------------------
    t = inert("evtx table", evtx_out["table"])
    check("whoami\\x00/all 1> \\\\127.0.0.1\\ADMIN$" in t, "evtx table: the command is cut at its NUL")
    check("cd\\x1b\\ 1>" in t, "evtx table: ESC is not shown as \\x1b")
    d = inert("evtx detections", evtx_out["detections"])
    check("whoami\\x00/all 1> \\\\127.0.0.1" in d and "ParentImage=C:\\Windows\\System32\\mmc.exe" in d,
          "evtx detections: fields cut at the NUL")
    ev = [json.loads(l) for l in inert("evtx jsonl", evtx_out["jsonl"]).split("\n") if l]
    cmds = [c for f in ev for c in f["commands"]]
    check(any("whoami\x00/all 1> \\\\127.0.0.1\\ADMIN$" in c for c in cmds), "evtx jsonl: NUL cuts the command: %r" % cmds)
    check(any("whoami\ufffd /all" in c for c in cmds), "evtx jsonl: a lone surrogate is not U+FFFD: %r" % cmds)
    inert("evtx csv", evtx_out["csv"])

    # ---- tune suggest: YAML proposals that load, and read as they are ------------------------
    fj = os.path.join(tmp.name, "findings.jsonl")
    with open(fj, "wb") as f:
        f.write(outs["jsonl"][0])
    prop = run([D, "tune", "suggest", "--min", "1", fj])[0]
    ptext = inert("tune suggest", prop)
    pf = os.path.join(tmp.name, "proposals.yml")
    with open(pf, "wb") as f:  # as a reviewer leaves them: with a reason
        f.write(prop.replace(b"reason: ''", b"reason: 'reviewed'"))
    rc = subprocess.run([D, "rules", "check", pf], capture_output=True)
    check(rc.returncode == 0 and b" 0 refused" in rc.stdout,
          "tune suggest: the proposals do not load: %r" % rc.stderr[-600:])
    check("\\u202e" in ptext and "\\x1b" in ptext, "tune suggest: hidden characters not escaped")

    # ---- stats and dump ---------------------------------------------------------------------
    s = inert("stats", stats[0], ours="\n\t")
    check("Evil\\x1b[2J\\x9b\\u202eChan" in s, "stats: the channel is not escaped as on the terminal: %r" % s[-300:])
    inert("stats (stderr)", stats[1])
    dj = [json.loads(l) for l in inert("dump", dump).split("\n") if l]
    check(any(e["channel"] == "Evil\x1b[2J\ufffd\u202eChan" for e in dj), "dump: the channel's JSON value")
    check(any(e["data"].get("CommandLine") == "cmd.exe /c whoami\x00 & evil.exe --steal-creds END0" for e in dj),
          "dump: the NUL command's JSON value")

    # ---- dump --to mde-csv: Defender rows, cells as in hunt --csv ------------------------------
    # (line ends and tabs are kept inside quotes, so multi-line command lines read back whole)
    fj2 = os.path.join(tmp.name, "formulas.jsonl")
    with open(fj2, "wb") as f:
        f.write(jobj([("EventID", 1), ("SourceName", "Microsoft-Windows-Sysmon"),
                      ("Channel", "Microsoft-Windows-Sysmon/Operational"),
                      ("Hostname", b"=HYPERLINK(\"http://x\")\x1b[31mT1"), ("RecordNumber", 1),
                      ("UtcTime", "2020-10-17 10:00:00.000"), ("Image", b"@SUM(1)\x07.exe"),
                      ("CommandLine", b"-2+3+cmd|' /C calc'!A0\x1b]0;pwn\x07\r\nnext\tline"),
                      ("User", b"+CORP\\x"), ("ProcessId", "100")]) + b"\n")
    for name, paths in (("hostile", [jl]), ("formulas", [fj2])):
        raw = run([D, "dump", "--to", "mde-csv"] + paths, ok=(0,))[0]
        text = inert("dump mde-csv " + name, raw, ours="\r\n\t")
        check(not re.search("\r(?!\n)", text), "dump mde-csv %s: a CR that is not a row end" % name)
        rows = list(csv.reader(io.StringIO(text, newline="")))
        check(len(rows) > 1 and len(set(map(len, rows))) == 1, "dump mde-csv %s: rows of unequal length" % name)
        for r in rows[1:]:
            for c in r:
                check(not c[:1] in ("=", "+", "-", "@", "\t", "\r"),
                      "dump mde-csv %s: a cell a spreadsheet would evaluate: %r" % (name, c[:40]))
        if name == "formulas":
            check(any("'-2+3+cmd|' /C calc'!A0\\x1b]0;pwn\\x07\\x0d\nnext\tline" in c for r in rows for c in r),
                  "dump mde-csv: the command line's cell: %r" % rows[1:])
            # read back: the quote that kept it from being a formula is not part of the value
            back = os.path.join(tmp.name, "formulas.csv")
            with open(back, "wb") as f:
                f.write(raw)
            be = [json.loads(l) for l in run([D, "dump", back], ok=(0,))[0].splitlines()]
            check(len(be) == 1 and be[0]["data"].get("ProcessCommandLine", "").startswith("-2+3+cmd|")
                  and be[0]["data"].get("AccountDomain") == "+CORP",
                  "dump mde-csv read back: %r" % be)

    for m in fails:
        print("FAIL:", m)
    print("%d checks, %d failed" % (checks[0], len(fails)))
    return 1 if fails else 0


def is_control(c):
    """A C0 control, DEL or a C1 control: what a KQL pivot's literal never holds."""
    return ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0


def kql_text(b):
    """A value as a KQL literal holds it (docs/output-escaping.md): what no literal can hold
    (line ends, other controls, invalid bytes) becomes U+FFFD, as Kusto stores invalid bytes."""
    return "".join("\ufffd" if cp is None or is_control(chr(cp)) else chr(cp)
                   for _, cp in utf8_pieces(b))


if __name__ == "__main__":
    sys.exit(main())
