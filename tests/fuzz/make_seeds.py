#!/usr/bin/env python3
"""Cuts fuzz seeds for fuzz_chunk out of the real corpus: single 64 KiB chunks from a
handful of EVTX files of different channels, plus deterministic mutations of them
(flipped bytes, a torn record size, truncations, a zeroed chunk header, a broken record
signature). Seeds are written to OUTDIR at test time: the corpus is never copied into
the project.

usage: make_seeds.py CORPUS_DIR OUTDIR
"""
import os
import random
import struct
import sys

# Relative to the corpus; chosen for channel variety (Sysmon, Security, System,
# PowerShell, DistributedCOM). Missing files are skipped, but at least one must exist.
SOURCES = [
    "EVTX-ATTACK-SAMPLES/Lateral Movement/LM_impacket_docmexec_mmc_sysmon_01.evtx",
    "EVTX-ATTACK-SAMPLES/Lateral Movement/LM_dcom_shwnd_shbrwnd_mmc20_failed_traces_system_10016.evtx",
    "EVTX-to-MITRE-Attack/TA0008-Lateral Movement/T1021.003-Distributed Component Object Model (DCOM)/ID4688,4674-DCOMexec process spawned.evtx",
    "EVTX-to-MITRE-Attack/TA0002-Execution/T1047-Windows Management Instrumentation/ID1-WMIexec process execution.evtx",
    "EVTX-ATTACK-SAMPLES/Defense Evasion/DE_104_system_log_cleared.evtx",
    "EVTX-ATTACK-SAMPLES/Defense Evasion/de_hiding_files_via_attrib_cmdlet.evtx",
]
FILE_HEADER = 4096
CHUNK = 65536
MAX_CHUNKS_PER_FILE = 2


def chunks_of(path):
    with open(path, "rb") as f:
        data = f.read()
    out = []
    off = FILE_HEADER
    while off < len(data) and len(out) < MAX_CHUNKS_PER_FILE:
        c = data[off:off + CHUNK]
        if c[:8] == b"ElfChnk\0":
            out.append(c)
        off += CHUNK
    return out


def record_offsets(c):
    """Offsets of the records of a chunk, walked by their size fields."""
    offs = []
    pos = 512
    free = struct.unpack_from("<I", c, 48)[0]
    while pos + 28 <= min(free, len(c)) and c[pos:pos + 4] == b"\x2a\x2a\x00\x00":
        offs.append(pos)
        size = struct.unpack_from("<I", c, pos + 4)[0]
        if size < 28:
            break
        pos += size
    return offs


def mutations(c, rng):
    recs = record_offsets(c)
    free = struct.unpack_from("<I", c, 48)[0]
    b = bytearray(c)
    for i in rng.sample(range(512, len(c)), 8):
        b[i] ^= 1 << rng.randrange(8)
    yield "flip8", bytes(b)
    b = bytearray(c)
    for _ in range(64):
        i = rng.randrange(512, max(513, min(free, len(c))))
        b[i] = rng.randrange(256)
    yield "scramble64", bytes(b)
    yield "trunc_mid", c[:max(512, min(free, len(c)) * 2 // 3)]
    yield "trunc_header", c[:300]
    b = bytearray(c)
    b[:512] = bytes(512)
    yield "zero_header", bytes(b)
    if recs:
        b = bytearray(c)
        b[recs[0]] = 0x2b
        yield "bad_sig", bytes(b)
        b = bytearray(c)
        r = recs[len(recs) // 2]
        struct.pack_into("<I", b, r + 4, 0xFFFFFF00)
        yield "huge_size", bytes(b)
        b = bytearray(c)
        struct.pack_into("<I", b, r + 4, 30)
        yield "tiny_size", bytes(b)
        # The first record's BinXML carries the template definitions: break them.
        b = bytearray(c)
        for i in range(recs[0] + 24, min(recs[0] + 24 + 200, len(b))):
            if rng.random() < 0.1:
                b[i] = rng.randrange(256)
        yield "bad_template", bytes(b)
    b = bytearray(c)
    struct.pack_into("<I", b, 48, 0xFFFFFFFF)  # free-space offset out of range
    yield "bad_free", bytes(b)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    corpus, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    for name in os.listdir(outdir):
        os.unlink(os.path.join(outdir, name))
    rng = random.Random(20240601)
    written = 0
    for si, rel in enumerate(SOURCES):
        path = os.path.join(corpus, rel)
        if not os.path.isfile(path):
            continue
        for ci, c in enumerate(chunks_of(path)):
            base = "s%02d_c%d" % (si, ci)
            with open(os.path.join(outdir, base), "wb") as f:
                f.write(c)
            written += 1
            for tag, m in mutations(c, rng):
                with open(os.path.join(outdir, base + "_" + tag), "wb") as f:
                    f.write(m)
                written += 1
    for tag, data in (("empty", b""), ("sig_only", b"ElfChnk\0"),
                      ("zeros", bytes(CHUNK)), ("header_only", b"ElfChnk\0" + bytes(504))):
        with open(os.path.join(outdir, "x_" + tag), "wb") as f:
            f.write(data)
        written += 1
    if written < 10:
        sys.stderr.write("make_seeds: corpus files not found under %s\n" % corpus)
        return 1
    print("make_seeds: %d seeds in %s" % (written, outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
