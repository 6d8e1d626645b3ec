#!/usr/bin/env python3
"""The EVTX decoder on logs nobody here wrote: ../shared/evtx-samples (a decoder project's
own test files: foreign, forwarded, dirty, torn and damaged logs).

For every sample:
  * `dcomhunt dump` agrees with libevtx's evtxexport on every record libevtx prints (the
    comparison and its named normalisations are compare_evtxexport.py's);
  * records libevtx does not print (it stops at the first bad record of a chunk, and cannot
    read nested BinXML or WEC-forwarded logs) are checked for being real: a record id inside
    the range its chunk header lists, unique in the file, a well-formed event;
  * the record count, exit status and stderr lines are the ones in SAMPLES below, and the
    count is at least what the other decoders reach (libevtx, and the record counts the
    sample's own project asserts, CRATE below);
  * the template-plan fast path and the full BinXML walk give the same output.
Then facts per sample: the WEC record's values, CAPI2's nested BinXML names, the trailing
junk of sysmon.evtx said once, torn records kept as far as they were written.

Run in the sanitizer build too (CI runs the whole suite under ASan+UBSan): a sanitizer
report aborts dcomhunt and the exit status check fails.

usage: evtx_samples.py --dcomhunt PATH --samples DIR
"""
import argparse
import collections
import concurrent.futures
import json
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_evtxexport as cmp  # noqa: E402

# Records the sample's own project (the Rust evtx crate, tests/test_full_samples.rs at the
# commit named in the samples' README) asserts it decodes. dcomhunt must reach at least
# these; where it reads more, the extra records are checked below.
CRATE = {
    "sample-with-irregular-bool-values.evtx": 3028,
    "2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx": 1910,
    "2-vss_0-Microsoft-Windows-TerminalServices-RemoteConnectionManager%4Operational.evtx": 1774,
    "2-vss_7-System.evtx": 1160,
    "sample_with_a_bad_chunk_magic.evtx": 270,
    "Microsoft-Windows-HelloForBusiness%4Operational.evtx": 6,
    "Microsoft-Windows-LanguagePackSetup%4Operational.evtx": 17,
    "E_Windows_system32_winevt_logs_Microsoft-Windows-Shell-Core%4Operational.evtx": 1146,
    "E_ShadowCopy6_windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx": 459,
    "E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx": 340,
    "Application_no_crc32.evtx": 17,
    "post-Security.evtx": 126,
    "sample-with-zero-data-size-event.evtx": 335,  # 336 results, one of them the error
    "issue_201.evtx": 1,
    "MSExchange_Management_wec.evtx": 1,
}

# file: (records dcomhunt prints, exit status, fragments each on some stderr line).
# Where the count passes libevtx's and the crate's, the reason is in the comment.
SAMPLES = {
    "2-system-Microsoft-Windows-LiveId%4Operational.evtx": (399, 0, []),
    # Records after a bad record of a chunk are found again (the others stop there).
    "2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx":
        (1951, 3, ["chunk records checksum mismatch", "template definition runs past"]),
    "2-vss_0-Microsoft-Windows-TerminalServices-RemoteConnectionManager%4Operational.evtx":
        (1795, 3, ["chunk 1: offset 102040: bad record signature"]),
    "2-vss_7-System.evtx": (1160, 0, []),
    "Application_no_crc32.evtx": (17, 0, ["warning: file header checksum mismatch",
                                          "warning: chunk header checksum mismatch"]),
    "E_ShadowCopy6_windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx":
        (459, 0, []),
    "E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx": (340, 0, []),
    "E_Windows_system32_winevt_logs_Microsoft-Windows-Shell-Core%4Operational.evtx":
        (1146, 0, []),
    "MSExchange_Management_wec.evtx": (1, 0, []),
    # Torn records (a 4 KiB page never written) are kept as far as they were written.
    "Microsoft-Windows-HelloForBusiness%4Operational.evtx":
        (6, 3, ["record 6: record torn: zeros from offset 8192",
                "records 7 to 20 lost: the chunk header lists them"]),
    "Microsoft-Windows-LanguagePackSetup%4Operational.evtx":
        (17, 3, ["record 17: record torn: zeros from offset 12288",
                 "3 of its 18 values lost", "records 18 to 20 lost"]),
    "Security_short_selected.evtx": (7, 0, []),
    "Security_with_size_t.evtx": (636, 0, []),
    "issue_201.evtx": (1, 0, []),
    "new-user-security.evtx": (4, 0, []),
    "post-Security.evtx": (126, 0, []),
    "sample-with-irregular-bool-values.evtx": (3028, 0, []),
    # Record 3 has a zero data size; records 4..117 of that chunk are read past it.
    "sample-with-zero-data-size-event.evtx":
        (449, 3, ["chunk 0: offset 6176: bad record signature or size"]),
    # Past a bad record and a torn page, chunks 0, 7 and 9 go on; 3 torn records kept.
    "sample_with_a_bad_chunk_magic.evtx":
        (301, 3, ["chunk 6: offset 397312: chunk signature missing",
                  "chunk 10: offset 659456: chunk signature missing",
                  "records 47641 to 47674 lost: up to the next record (offset 487888)",
                  "record 47640: record torn"]),
    "security.evtx": (2261, 0, []),
    "security_bad_string_cache.evtx": (2261, 0, []),
    # Disk junk after the last chunk: one warning, nothing lost, status 0.
    "sysmon.evtx": (358, 0, ["offset 593920: warning: trailing data: the 524288 bytes"]),
    "system.evtx": (1881, 0, []),
}

XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]*$")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


def chunk_ranges(data):
    """{chunk index: (first record id, last record id)} from the chunk headers."""
    out = {}
    base = 4096 if data[:8] == b"ElfFile\0" else 0
    for ci in range((len(data) - base + 65535) // 65536):
        c = data[base + ci * 65536: base + ci * 65536 + 64]
        if c[:8] == b"ElfChnk\0":
            out[ci] = struct.unpack_from("<QQ", c, 24)
    return out


def template_consistent(data, ev):
    """Does the record's template instance name (by its 4-byte id) the template definition
    it points at? A record of a chunk rewritten in place (volume shadow copies hold such
    chunks: the header lists the old records, newer ones follow a torn one) must not be
    read with another template that happens to sit at that offset."""
    base = (4096 if data[:8] == b"ElfFile\0" else 0) + ev["chunk"] * 65536
    p = ev["offset"] + 24
    if data[p] == 0x0F:
        p += 4
    if data[p] != 0x0C:
        return False
    tid, def_off = struct.unpack_from("<II", data, p + 2)
    return struct.unpack_from("<I", data, base + def_off + 4)[0] == tid


def dump(exe, path, *extra):
    p = subprocess.run([exe, "dump", *extra, path], capture_output=True, timeout=300)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--samples", required=True)
    a = ap.parse_args()
    if not os.path.isdir(a.samples):
        print("FAIL: no samples at %s" % a.samples)
        return 2
    names = sorted(n for n in os.listdir(a.samples) if n.endswith(".evtx"))
    fails = []

    def check(cond, msg):
        if not cond:
            fails.append(msg)

    check(sorted(SAMPLES) == names, "samples and the table differ: %s" %
          sorted(set(names) ^ set(SAMPLES)))

    # 1. Oracle agreement on every record libevtx prints.
    paths = [os.path.join(a.samples, n) for n in names]
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as ex:
        results = list(ex.map(cmp.run_file, paths, [a.dcomhunt] * len(paths)))
    used = collections.Counter()
    compared = extra_total = 0
    extras = {}
    for res in results:
        rel = os.path.basename(res["path"])
        check(not res["regex_fail"], "%s: oracle records that could not be read at all: %d" %
              (rel, len(res["regex_fail"])))
        ours_by_id = collections.defaultdict(list)
        for r in res["ours"]:
            ours_by_id[str(r["record_id"])].append(r)
        seen = set()
        for o in res["oracle"]:
            cands = ours_by_id.get(o["record_id"])
            if not cands:
                check(False, "%s: record %s: libevtx prints it, dcomhunt does not" %
                      (rel, o["record_id"]))
                continue
            ours = cands.pop(0)
            seen.add(id(ours))
            compared += 1
            for field in ("event_id", "channel", "computer", "provider"):
                x = "" if ours.get(field) is None else str(ours.get(field))
                check(x == (o[field] or ""), "%s: record %s: %s %r, libevtx %r" %
                      (rel, o["record_id"], field, x, o[field]))
            t = cmp.norm_time_oracle(o["time"], used)
            check(t == ours["time"], "%s: record %s: time %s, libevtx %s" %
                  (rel, o["record_id"], ours["time"], o["time"]))
            od, td = ours.get("data") or {}, cmp.to_data_dict(o["data"])
            check(set(od) == set(td), "%s: record %s: data names differ: %s" %
                  (rel, o["record_id"], sorted(set(od) ^ set(td))[:5]))
            for k in set(od) & set(td):
                al = od[k] if isinstance(od[k], list) else [od[k]]
                bl = td[k] if isinstance(td[k], list) else [td[k]]
                check(len(al) == len(bl) and all(cmp.value_matches(x, y, used)
                                                 for x, y in zip(al, bl)),
                      "%s: record %s: %s = %.80r, libevtx %.80r" %
                      (rel, o["record_id"], k, od[k], td[k]))
        extras[rel] = [r for r in res["ours"] if id(r) not in seen]
        extra_total += len(extras[rel])

    # 2. Counts, status, messages; 3. the records only dcomhunt reads are real.
    events = {}
    for n in names:
        want_n, want_rc, frags = SAMPLES.get(n, (None, None, []))
        path = os.path.join(a.samples, n)
        rc, out, err = dump(a.dcomhunt, path)
        evs = [json.loads(l) for l in out.splitlines()]
        events[n] = evs
        oracle_n = sum(len(r["oracle"]) for r in results if os.path.basename(r["path"]) == n)
        check(rc == want_rc, "%s: exit %d, want %s: %s" % (n, rc, want_rc, err[-300:]))
        check(len(evs) == want_n, "%s: %d records, want %s" % (n, len(evs), want_n))
        check(len(evs) >= max(oracle_n, CRATE.get(n, 0)),
              "%s: %d records, fewer than libevtx (%d) or the crate (%s)" %
              (n, len(evs), oracle_n, CRATE.get(n)))
        lines = err.splitlines()
        for f in frags:
            check(any(f in l for l in lines), "%s: no stderr line says %r: %s" %
                  (n, f, lines[:6]))
        if want_rc == 0:
            check(all("warning" in l for l in lines), "%s: status 0 but %s" % (n, lines[:3]))
        ids = collections.Counter(e["record_id"] for e in evs)
        check(all(v == 1 for v in ids.values()), "%s: record ids repeat: %s" %
              (n, [k for k, v in ids.items() if v > 1][:5]))
        with open(path, "rb") as f:
            data = f.read()
        ranges = chunk_ranges(data)
        years = [int(e["time"][:4]) for e in evs if e not in extras.get(n, [])]
        years = set(range(min(years) - 2, max(years) + 3)) if years else set()
        for e in extras.get(n, []):
            lo, hi = ranges.get(e["chunk"], (None, None))
            number = struct.unpack_from("<Q", data, e["offset"] + 8)[0]  # the record header's
            listed = lo is not None and lo <= number <= hi
            check(listed or (template_consistent(data, e) and
                             (not years or int(e["time"][:4]) in years)),
                  "%s: record %s (chunk %s): not among the records its chunk header lists "
                  "(%s..%s), and its template reference or time is not plausible" %
                  (n, e["record_id"], e["chunk"], lo, hi))
            check(TIME.match(e["time"] or ""), "%s: record %s: time %r" %
                  (n, e["record_id"], e["time"]))
            check(all(XML_NAME.match(k) for k in e["data"]),
                  "%s: record %s: data names not XML names: %s" %
                  (n, e["record_id"], [k for k in e["data"] if not XML_NAME.match(k)][:3]))
        # The plan (fast path) and the full walk agree.
        rc2, out2, _ = dump(a.dcomhunt, path, "--full-walk")
        check(out2 == out and rc2 == rc, "%s: --full-walk output differs" % n)

    # 4. Facts.
    def one(n, rid):
        m = [e for e in events.get(n, []) if e["record_id"] == rid]
        return m[0] if len(m) == 1 else None

    # A log forwarded by Windows Event Collector: elements without dependency ids.
    for n in ("issue_201.evtx", "MSExchange_Management_wec.evtx"):
        e = one(n, 3229)
        check(e is not None, "%s: record 3229 missing" % n)
        if e:
            d = e["data"].get("Data", [])
            check(e["provider"] == "MSExchange CmdletLogs" and e["event_id"] == 1 and
                  e["computer"] == "WEC.ave.local" and e["channel"] == "MSExchange Management"
                  and e["time"] == "2021-11-19T16:52:33.8337335Z",
                  "%s: record 3229 envelope: %s" % (n, {k: e[k] for k in
                                                        ("provider", "event_id", "computer")}))
            check(isinstance(d, list) and len(d) == 27 and d[0] == "Set-Mailbox" and
                  d[3] == "S-1-5-21-186559946-3925841745-111227986-500" and d[26] == "fr-FR",
                  "%s: record 3229: %d Data values: %s" % (n, len(d), d[:4]))
    # CAPI2: nested BinXML and bare elements (names once pointed into freed memory).
    for n, urls in (("E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx",
                     27),
                    ("E_ShadowCopy6_windows_system32_winevt_logs_Microsoft-Windows-CAPI2"
                     "%4Operational.evtx", 33)):
        evs = events.get(n, [])
        bad = [e["record_id"] for e in evs if not all(XML_NAME.match(k) for k in e["data"])]
        check(not bad, "%s: %d records with names that are not XML names (first %s)" %
              (n, len(bad), bad[:3]))
        got = [e["data"]["URL"] for e in evs if "URL" in e["data"]]
        check(len(got) == urls and all(isinstance(u, str) and u.startswith("http://")
                                       for u in got),
              "%s: %d URL values, want %d: %s" % (n, len(got), urls, got[:3]))
        check(all(e["provider"] == "Microsoft-Windows-CAPI2" and e["event_id"] for e in evs),
              "%s: records without the CAPI2 envelope" % n)
    # Torn records: what was written is kept, nothing invented.
    e = one("Microsoft-Windows-LanguagePackSetup%4Operational.evtx", 17)
    check(e is not None and e["provider"] == "Microsoft-Windows-LanguagePackSetup" and
          e["event_id"] == 4000 and e["channel"] == "" and
          e["time"] == "2018-08-03T06:44:06.4185334Z",
          "LanguagePackSetup record 17 (torn): %s" % e)
    e = one("Microsoft-Windows-HelloForBusiness%4Operational.evtx", 6)
    check(e is not None and e["event_id"] == 0 and e["provider"] == "" and e["data"] == {}
          and e["time"] == "2018-07-12T00:42:14.2855364Z",
          "HelloForBusiness record 6 (torn before its values): %s" % e)
    # SizeT as Windows shows it.
    e = one("Security_with_size_t.evtx", 4)
    check(e is not None and e["data"].get("ProcessId") == "0x24c",
          "Security_with_size_t record 4: ProcessId %s" % (e and e["data"].get("ProcessId")))

    print("samples: %d; records compared with libevtx: %d; records only dcomhunt reads: %d; "
          "dcomhunt records: %d" % (len(names), compared, extra_total,
                                    sum(len(v) for v in events.values())))
    print("normalisations used: %s" % ", ".join("%s=%d" % kv for kv in sorted(used.items())))
    for f in fails[:40]:
        print("FAIL " + f)
    if fails:
        print("%d failures" % len(fails))
        return 1
    print("all samples agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
