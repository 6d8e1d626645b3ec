#!/usr/bin/env python3
"""Differential test of dcomhunt's EVTX decoder against libevtx's evtxexport.

For every .evtx file under CORPUS (recursively; folder names may hold spaces), runs
`evtxexport -f xml FILE` (the oracle) and `dcomhunt dump FILE`, and checks that every
record the oracle prints appears in dcomhunt's output (same file, same record id) with the
same event id, time (at 100 ns precision), channel, computer, provider name and the same
EventData / UserData items (names, order-insensitive per name, and values).

Differences are tolerated only where libevtx is demonstrably wrong or merely formats a
value differently from Windows; each such normalisation is a named entry in NORMALISATIONS
below with its reason, and the summary says how often each one was used.

Exit status: 0 when everything matches, 1 on any unexplained mismatch or missing record,
2 when the test cannot run (evtxexport or dcomhunt missing, no corpus): a missing oracle is
a failure, never a skip.

usage: compare_evtxexport.py --dcomhunt PATH --corpus DIR [--jobs N] [--show N]
"""
import argparse
import collections
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

EVTX_NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"

# One <Event> per record; records are separated by blank lines, but values may themselves
# contain blank lines, so we cut on the element boundaries at the start of a line instead.
EVENT_RE = re.compile(r"^<Event\b.*?^</Event>[ \t]*$", re.S | re.M)

# ---------------------------------------------------------------------------------------
# Normalisations. Each applies to the oracle's (libevtx's) rendering only, and only in the
# exact shape described; anything else must match byte for byte.
# ---------------------------------------------------------------------------------------

# TIME_9_DIGITS: libevtx prints FILETIMEs with 9 fractional digits ("...11.856089000Z"),
# but a FILETIME has 100 ns resolution, so the last two digits are always "00"; Windows
# and dcomhunt print 7 digits. We cut the oracle's to 7 (and check that the cut digits are
# "00"; if not, that is an oracle failure, reported as such).
TIME_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{7})(\d\d)Z$")

# HEX_PADDED: libevtx renders HexInt32 / HexInt64 values zero-padded to 8 / 16 digits
# ("0x00000000001ea3c6", "0x00020080"), while Windows' own rendering (Event Viewer XML,
# wevtutil, the formatted message) is "0x%x": "0x1ea3c6", "0x20080". We accept dcomhunt's
# value when it is exactly the unpadded lower-case form of the same number.
HEX_PADDED_RE = re.compile(r"^0x([0-9a-fA-F]{8}|[0-9a-fA-F]{16})$")

# TIME_9_DIGITS also applies to FILETIME values inside EventData/UserData (BITS "fileTime",
# Application-Experience "StartTime"): same libevtx formatter, same reason. A data value is
# cut only when it has exactly the FILETIME shape and dcomhunt's value equals the cut form.

# CONTROL_CHARS (oracle repair, not a value normalisation): libevtx writes characters that
# XML 1.0 forbids (U+0001..U+001F other than TAB/LF/CR; seen in 4661 PrivilegeList, whose
# value really holds U+0002) straight into its XML, which no conforming parser accepts. We
# map each to a private-use stand-in before parsing and back afterwards, so the value is
# compared unchanged; such records are counted as oracle repairs in the summary.
CTRL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CTRL_BASE = 0xF0000  # plane-15 private use: never in the corpus, valid in XML

# SIZET_DECIMAL: libevtx renders SizeT values (0x10: 4673/4674 ProcessId, 4656 HandleId)
# in decimal; Windows' own rendering is hex, "0x24c" (Event Viewer's XML view, wevtutil).
# dcomhunt's value is accepted when it is exactly "0x%x" of the oracle's decimal number
# (libevtx pads every other hex type, so an unpadded hex value can only be a SizeT).
SIZET_RE = re.compile(r"^0x[0-9a-f]+$")

# FLOAT_VALUE: Real32/Real64 are compared by value: dcomhunt prints the shortest text that
# reads back as the same number ("3199.234"), libevtx a fixed number of digits.
FLOAT_RE = re.compile(r"^-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$")

# SIGNED_NEGATIVE: libevtx prints a negative Int32 or Int64 with its sign bit dropped and
# the rest negated: -123 comes out as -2147483525 (that is -(2^31 - 123)), -2 as
# -9223372036854775806. We accept dcomhunt's value when it is the negative number libevtx
# mangled that way. (Real logs rarely hold negative integers; the EVTX writer's every-type
# files do.)

# LONE_LF: a string value that is a single line feed (Application_no_crc32.evtx, Windows
# Search 1003 ExtraInfo: UTF-16 "0a 00", as python-evtx also shows it) is printed empty by
# libevtx.

NORMALISATIONS = {
    "TIME_9_DIGITS": "libevtx prints 9 fractional digits for 100 ns FILETIMEs",
    "HEX_PADDED": "libevtx zero-pads HexInt32/HexInt64 to 8/16 digits; Windows prints 0x%x",
    "SIZET_DECIMAL": "libevtx prints SizeT in decimal; Windows prints it in hex",
    "FLOAT_VALUE": "floats compared by value (dcomhunt prints the shortest round-trip form)",
    "LONE_LF": "libevtx prints a value that is one line feed as empty",
    "SIGNED_NEGATIVE": "libevtx drops the sign bit of negative Int32/Int64 values",
}


def norm_time_oracle(s, used):
    m = TIME_RE.match(s or "")
    if not m:
        return None
    if m.group(3) != "00":
        return None
    used["TIME_9_DIGITS"] += 1
    return "%s.%sZ" % (m.group(1), m.group(2))


def value_matches(ours, theirs, used):
    """ours: dcomhunt's string; theirs: evtxexport's string."""
    if ours == theirs:
        return True
    m = HEX_PADDED_RE.match(theirs)
    if m and ours == "0x%x" % int(m.group(1), 16):
        used["HEX_PADDED"] += 1
        return True
    m = TIME_RE.match(theirs)
    if m and m.group(3) == "00" and ours == "%s.%sZ" % (m.group(1), m.group(2)):
        used["TIME_9_DIGITS"] += 1
        return True
    if theirs.isdigit() and SIZET_RE.match(ours) and int(ours, 16) == int(theirs):
        used["SIZET_DECIMAL"] += 1
        return True
    if (FLOAT_RE.match(ours) and FLOAT_RE.match(theirs) and any(c in theirs for c in ".eE")
            and float(ours) == float(theirs)):
        used["FLOAT_VALUE"] += 1
        return True
    if ours == "\n" and theirs == "":
        used["LONE_LF"] += 1
        return True
    if re.match(r"^-\d+$", ours or "") and re.match(r"^-\d+$", theirs or ""):
        v = int(ours)
        if int(theirs) in (-(2**31 + v), -(2**63 + v)):
            used["SIGNED_NEGATIVE"] += 1
            return True
    return False


# ---------------------------------------------------------------------------------------
# Oracle side: parse evtxexport's XML.
# ---------------------------------------------------------------------------------------

def local(tag):
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def parse_event_xml(text):
    """Returns a record dict, or raises ET.ParseError."""
    # XML parsers fold "\r\n" into "\n" (end-of-line handling, XML 1.0 section 2.11), but
    # Windows values (4663 AccessList, PowerShell script blocks) really hold CR LF; a
    # character reference survives that normalisation, so protect CRs first.
    text = text.replace("\r", "&#13;")
    repaired = False
    if CTRL_RE.search(text):
        text = CTRL_RE.sub(lambda m: chr(CTRL_BASE + ord(m.group(0))), text)
        repaired = True
    root = ET.fromstring(text)
    sysel = root.find(EVTX_NS + "System")
    if sysel is None:
        raise ET.ParseError("no <System>")

    def sys_text(name):
        el = sysel.find(EVTX_NS + name)
        return None if el is None else (el.text or "")

    prov = sysel.find(EVTX_NS + "Provider")
    tc = sysel.find(EVTX_NS + "TimeCreated")
    rec = {
        "record_id": sys_text("EventRecordID"),
        "event_id": sys_text("EventID"),
        "time": None if tc is None else tc.get("SystemTime"),
        "channel": sys_text("Channel"),
        "computer": sys_text("Computer"),
        "provider": None if prov is None else prov.get("Name"),
        "data": [],
        "repaired": repaired,
    }
    ed = root.find(EVTX_NS + "EventData")
    if ed is not None:
        for child in ed:
            tag = local(child.tag)
            name = child.get("Name") if tag == "Data" else None
            if name is None:
                name = tag  # a nameless <Data> is "Data"; <Binary> is "Binary"
            rec["data"].append((name, child.text or ""))
    ud = root.find(EVTX_NS + "UserData")
    if ud is not None:
        for wrapper in ud:  # UserData holds one wrapper element; its leaves are the items
            for el in wrapper.iter():
                if el is wrapper or len(el):
                    continue  # inner nodes are not items, only leaves are
                rec["data"].append((local(el.tag), el.text or ""))
    if repaired:
        back = re.compile("[%s-%s]" % (chr(CTRL_BASE), chr(CTRL_BASE + 0x1f)))
        unmap = lambda v: back.sub(lambda m: chr(ord(m.group(0)) - CTRL_BASE), v)
        for k in ("record_id", "event_id", "time", "channel", "computer", "provider"):
            if rec[k] is not None:
                rec[k] = unmap(rec[k])
        rec["data"] = [(unmap(n), unmap(v)) for n, v in rec["data"]]
    return rec


# Fallback for records whose XML does not parse (libevtx does not always escape control
# characters or stray markup): pull the System fields and the named Data items by regex.
FALLBACK = {
    "record_id": re.compile(r"<EventRecordID>(\d+)</EventRecordID>"),
    "event_id": re.compile(r"<EventID[^>]*>(\d+)</EventID>"),
    "time": re.compile(r'<TimeCreated SystemTime="([^"]*)"'),
    "channel": re.compile(r"<Channel>([^<]*)</Channel>"),
    "computer": re.compile(r"<Computer>([^<]*)</Computer>"),
    "provider": re.compile(r'<Provider Name="([^"]*)"'),
}
DATA_RE = re.compile(r'<Data Name="([^"]*)"(?:/>|>(.*?)</Data>)', re.S)
UNESC = [("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")]


def unescape(s):
    for a, b in UNESC:
        s = s.replace(a, b)
    return s


def parse_event_regex(text):
    rec = {}
    for k, rx in FALLBACK.items():
        m = rx.search(text)
        rec[k] = unescape(m.group(1)) if m else None
    rec["data"] = [(unescape(n), unescape(v or "")) for n, v in DATA_RE.findall(text)]
    return rec


def to_data_dict(pairs):
    """Same shape as dcomhunt's "data": a string, or a list when a name repeats."""
    out = {}
    for name, value in pairs:
        if name in out:
            if not isinstance(out[name], list):
                out[name] = [out[name]]
            out[name].append(value)
        else:
            out[name] = value
    return out


def run_file(path, dcomhunt):
    """Worker: both decoders on one file. Returns plain data (picklable)."""
    res = {"path": path, "oracle": [], "ours": [], "xml_fail": [], "regex_fail": [],
           "oracle_err": None, "ours_err": None}
    p = subprocess.run(["evtxexport", "-f", "xml", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        res["oracle_err"] = "exit %d: %s" % (p.returncode,
                                              p.stderr.decode("utf-8", "replace")[-300:])
    text = p.stdout.decode("utf-8", "surrogateescape")
    for m in EVENT_RE.finditer(text):
        block = m.group(0)
        try:
            rec = parse_event_xml(block)
        except ET.ParseError as e:
            rec = parse_event_regex(block)
            res["xml_fail"].append((rec.get("record_id"), str(e)))
            if rec.get("record_id") is None:
                res["regex_fail"].append(block[:200])
                continue
        res["oracle"].append(rec)
    q = subprocess.run([dcomhunt, "dump", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if q.returncode != 0:
        res["ours_err"] = "exit %d: %s" % (q.returncode,
                                            q.stderr.decode("utf-8", "replace")[-300:])
    for line in q.stdout.decode("utf-8", "surrogateescape").splitlines():
        if line.strip():
            try:
                res["ours"].append(json.loads(line))
            except ValueError as e:
                res["ours_err"] = "unparsable JSON line: %s: %.120s" % (e, line)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--show", type=int, default=15, help="mismatches to print")
    ap.add_argument("--report", help="write every mismatch here, one JSON object a line")
    args = ap.parse_args()

    if shutil.which("evtxexport") is None:
        print("FAIL: evtxexport (libevtx-utils) is not installed; this differential test "
              "needs it as its oracle (apt-get install libevtx-utils)", file=sys.stderr)
        return 2
    if not os.access(args.dcomhunt, os.X_OK):
        print("FAIL: dcomhunt binary not found: %s" % args.dcomhunt, file=sys.stderr)
        return 2
    files = []
    for d, _, names in os.walk(args.corpus):
        files += [os.path.join(d, n) for n in names if n.lower().endswith(".evtx")]
    files.sort()
    if not files:
        print("FAIL: no .evtx files under %s" % args.corpus, file=sys.stderr)
        return 2

    used = collections.Counter()
    mism = collections.Counter()
    examples = []
    oracle_failures = []
    repairs = []
    compared = extra = 0

    def note(cat, path, rid, field, ours, theirs):
        mism[cat] += 1
        if len(examples) < 100000:
            examples.append((cat, os.path.relpath(path, args.corpus), rid, field, ours, theirs))

    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        results = list(ex.map(run_file, files, [args.dcomhunt] * len(files)))

    for res in results:
        path = res["path"]
        rel = os.path.relpath(path, args.corpus)
        if res["oracle_err"]:
            oracle_failures.append("%s: evtxexport %s" % (rel, res["oracle_err"]))
        for rid, err in res["xml_fail"]:
            oracle_failures.append("%s: record %s: XML did not parse (%s); compared via "
                                   "regex fallback" % (rel, rid, err))
        for o in res["oracle"]:
            if o.get("repaired"):
                repairs.append("%s: record %s" % (rel, o["record_id"]))
        for block in res["regex_fail"]:
            oracle_failures.append("%s: unparsable record, skipped: %r" % (rel, block))
        if res["ours_err"]:
            note("dcomhunt_error", path, "-", "exit/stdout", res["ours_err"], "")

        ours_by_id = collections.defaultdict(list)
        for r in res["ours"]:
            if r.get("file") != path:
                note("file", path, r.get("record_id"), "file", r.get("file"), path)
            ours_by_id[str(r.get("record_id"))].append(r)
        seen = set()
        for o in res["oracle"]:
            rid = o["record_id"]
            cands = ours_by_id.get(rid)
            if not cands:
                note("missing_record", path, rid, "record", None, "present")
                continue
            ours = cands.pop(0)
            seen.add(id(ours))
            compared += 1
            for field in ("event_id", "channel", "computer", "provider"):
                a = ours.get(field)
                a = None if a is None else str(a)
                b = o[field]
                if not (a == b or (a == "" and b is None)):
                    note(field, path, rid, field, a, b)
            t = norm_time_oracle(o["time"], used)
            if t is None:
                oracle_failures.append("%s: record %s: odd oracle time %r" %
                                       (rel, rid, o["time"]))
            elif ours.get("time") != t:
                note("time", path, rid, "time", ours.get("time"), o["time"])
            od = ours.get("data") or {}
            td = to_data_dict(o["data"])
            for name in td:
                if name not in od:
                    note("data_name_missing", path, rid, name, None, td[name])
            for name in od:
                if name not in td:
                    note("data_name_extra", path, rid, name, od[name], None)
            for name in td:
                if name not in od:
                    continue
                a, b = od[name], td[name]
                al = a if isinstance(a, list) else [a]
                bl = b if isinstance(b, list) else [b]
                if len(al) != len(bl) or not all(
                        isinstance(x, str) and value_matches(x, y, used)
                        for x, y in zip(al, bl)):
                    note("data_value", path, rid, name, a, b)
        for lst in ours_by_id.values():
            for r in lst:
                if id(r) not in seen:
                    extra += 1
                    note("extra_record", path, r.get("record_id"), "record", "present", None)

    total_oracle = sum(len(r["oracle"]) for r in results)
    total_ours = sum(len(r["ours"]) for r in results)
    print("files: %d   oracle records: %d   dcomhunt records: %d   compared: %d" %
          (len(files), total_oracle, total_ours, compared))
    print("normalisations used: %s" %
          (", ".join("%s=%d" % (k, used[k]) for k in NORMALISATIONS) or "none"))
    print("oracle repairs (CONTROL_CHARS: libevtx XML not well-formed, repaired): %d%s" %
          (len(repairs), (" (first: %s)" % repairs[0]) if repairs else ""))
    print("oracle failures (libevtx output we could not use as-is): %d" %
          len(oracle_failures))
    for f in oracle_failures[:args.show]:
        print("  " + f)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            for cat, rel, rid, field, a, b in examples:
                f.write(json.dumps({"category": cat, "file": rel, "record_id": rid,
                                    "field": field, "dcomhunt": a, "evtxexport": b},
                                   ensure_ascii=False) + "\n")
    if not mism:
        print("mismatches: none")
        return 0
    print("mismatches by category:")
    for cat, n in mism.most_common():
        print("  %-20s %d" % (cat, n))
    # First few of each category, so one noisy class does not hide the others.
    shown = collections.Counter()
    per_cat = max(2, args.show // max(1, len(mism)))
    print("first mismatches (category | file | record | field | dcomhunt | evtxexport):")
    for cat, rel, rid, field, a, b in examples:
        if shown[cat] >= per_cat:
            continue
        shown[cat] += 1
        print("  %s | %s | %s | %s | %s | %s" %
              (cat, rel, rid, field, json.dumps(a, ensure_ascii=False)[:200],
               json.dumps(b, ensure_ascii=False)[:200]))
    return 1


if __name__ == "__main__":
    sys.exit(main())
