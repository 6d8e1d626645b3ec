#!/usr/bin/env python3
"""Build a large, valid EVTX file out of well-filled chunks of a corpus.

Every *.evtx file under the corpus directory is scanned; each 64 KiB chunk
whose header is sane ("ElfChnk\\0", first/last event record number at offsets
8/16 with last >= first) and whose free-space offset (offset 48) is above a
threshold (default 48 KiB) is kept; with --crc, only chunks whose header checksum
(offset 124: bytes 0-119 and 128-511) and records checksum (offset 52: bytes 512 up to
the free-space offset) are right (some public samples are damaged on purpose, and
evtxexport stops at the first bad chunk); with --exportable, only chunks that
evtxexport (libevtx) exports without an error on their own (it gives up on the whole
file at the first template it cannot read, and some samples hold such templates).  The output is a 4096-byte file header
followed by the kept chunks, repeated in order until the target size is
reached.  Chunks are copied byte for byte, so their own CRCs stay valid.

File header written (little-endian):
  0   "ElfFile\\0"
  8   first chunk number      (0)
  16  last chunk number       (n - 1)
  24  next record identifier  (max last record id seen + 1)
  32  header size             (128)
  36  minor version           (1)
  38  major version           (3)
  40  header block size       (4096)
  42  chunk count             (n & 0xffff: wraps for big files, readers use
                               the file size)
  120 flags                   (0)
  124 CRC32 of bytes 0..119   (zlib.crc32)

Usage:
  make_big_evtx.py --corpus DIR --size-mb 256 -o big.evtx
  make_big_evtx.py --corpus DIR --size-mb 8 -o slice.evtx   # a slice
  make_big_evtx.py --corpus DIR --crc --size-mb 32 -o ok.evtx # sound chunks only
Prints a one-line summary on stderr: chunks used, distinct chunks, records
(sum of last-first+1 over the chunks written), bytes.
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile
import zlib

CHUNK = 65536
HEADER_BLOCK = 4096


def crc_ok(chunk, free):
    """Both checksums of a chunk agree with its bytes."""
    head = zlib.crc32(chunk[128:512], zlib.crc32(chunk[:120])) & 0xFFFFFFFF
    recs = zlib.crc32(chunk[512:free]) & 0xFFFFFFFF
    return (head == struct.unpack_from("<I", chunk, 124)[0]
            and recs == struct.unpack_from("<I", chunk, 52)[0])


def scan(corpus, min_free, check_crc=False):
    """Yield (path, chunk bytes, first, last) for every well-filled chunk."""
    paths = []
    for root, dirs, files in os.walk(corpus):
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(".evtx"):
                paths.append(os.path.join(root, name))
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            print(f"skip {path}: {e}", file=sys.stderr)
            continue
        if data[:8] != b"ElfFile\0":
            continue
        off = HEADER_BLOCK
        while off + CHUNK <= len(data):
            h = data[off:off + 128]
            if h[:8] == b"ElfChnk\0":
                first, last = struct.unpack_from("<QQ", h, 8)
                free = struct.unpack_from("<I", h, 48)[0]
                if min_free < free <= CHUNK and last >= first and last - first < 65536:
                    blob = data[off:off + CHUNK]
                    if not check_crc or crc_ok(blob, free):
                        yield path, blob, first, last
            off += CHUNK


def exportable(blob, first, last, tmpdir):
    """evtxexport reads the chunk alone, as a one-chunk file, without an error."""
    path = os.path.join(tmpdir, "one.evtx")
    with open(path, "wb") as f:
        f.write(file_header(1, last + 1))
        f.write(blob)
    r = subprocess.run(["evtxexport", "-f", "xml", path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, check=False)
    return r.returncode == 0 and b"Unable" not in r.stderr


def file_header(nchunks, next_record):
    h = bytearray(HEADER_BLOCK)
    h[0:8] = b"ElfFile\0"
    struct.pack_into("<QQQ", h, 8, 0, max(nchunks - 1, 0), next_record)
    struct.pack_into("<IHHHH", h, 32, 128, 1, 3, HEADER_BLOCK, nchunks & 0xFFFF)
    struct.pack_into("<I", h, 120, 0)
    struct.pack_into("<I", h, 124, zlib.crc32(bytes(h[:120])) & 0xFFFFFFFF)
    return bytes(h)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                     "..", "..", "shared", "corpus"),
                    help="the shared corpus (default: ../shared/corpus beside the clone)")
    ap.add_argument("--size-mb", type=float, required=True,
                    help="target output size in MiB (rounded down to whole chunks, at least one)")
    ap.add_argument("--min-free-kib", type=float, default=48,
                    help="keep chunks whose free-space offset exceeds this (default 48)")
    ap.add_argument("--crc", action="store_true",
                    help="keep only chunks whose two checksums are right")
    ap.add_argument("--exportable", action="store_true",
                    help="keep only chunks evtxexport exports alone without an error")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()

    chunks = []
    max_last = 0
    tmpdir = tempfile.mkdtemp(prefix="make_big_evtx.")
    for path, blob, first, last in scan(a.corpus, int(a.min_free_kib * 1024), a.crc):
        if a.exportable and not exportable(blob, first, last, tmpdir):
            continue
        chunks.append((blob, last - first + 1))
        max_last = max(max_last, last)
    for name in os.listdir(tmpdir):
        os.unlink(os.path.join(tmpdir, name))
    os.rmdir(tmpdir)
    if not chunks:
        sys.exit("no chunk qualifies: lower --min-free-kib")

    target = int(a.size_mb * 1024 * 1024)
    n = max(1, (target - HEADER_BLOCK) // CHUNK)
    records = 0
    tmp = a.output + ".tmp"
    with open(tmp, "wb") as out:
        out.write(file_header(n, max_last + 1))
        for i in range(n):
            blob, nrec = chunks[i % len(chunks)]
            out.write(blob)
            records += nrec
    os.replace(tmp, a.output)
    size = HEADER_BLOCK + n * CHUNK
    print(f"{a.output}: {n} chunks ({len(chunks)} distinct well-filled), "
          f"{records} records by chunk headers, {size} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
