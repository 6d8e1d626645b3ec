#!/usr/bin/env python3
"""The longest function definitions in dcomhunt's C sources.

    scripts/longest-functions.py [-n N] [PATH ...]
    scripts/longest-functions.py --unexplained [--over LINES] [PATH ...]

PATH: files or folders (default: src/ of this repository). The first form prints the N
longest definitions (default 10), longest first:

    lines  file:line  name

where file:line is the line of the function's name and lines counts from that line to the
closing brace, both included. The second form lists the functions longer than LINES
(default 150) that carry no reason for their length, and exits 1 if there are any (0 if
none): the house rule is "no function over ~150 lines without a reason in its comment".

The reason marker: the comment just above the function (between the previous definition
or declaration and the function's first line) contains the words "long because",
case-insensitive, e.g.

    /* Walks a template's ops in one loop. long because: the op switch is the hot path and
     * splitting it costs 9% on the OTRF capture (bench/ab.sh, hunt -j1). */
    static dh_status walk(...)

Definitions are found by brace matching on the source with comments, string literals and
character constants blanked first (so a brace or a quote inside them counts for nothing);
preprocessor lines are skipped. A definition is a brace at file scope that follows a
parameter list: functions written through a macro are not seen.
"""
import argparse
import os
import re
import sys


def blank(text):
    """Comments, strings and character constants replaced by spaces, newlines kept; also
    returns the spans of the comments (start, end offsets)."""
    out, comments = [], []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] in "*/":
            if text[i + 1] == "*":
                j = text.find("*/", i + 2)
                j = n if j < 0 else j + 2
            else:
                j = text.find("\n", i)
                j = n if j < 0 else j
            comments.append((i, j))
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" and j + 1 < n and text[j + 1] != "\n" else 1
            closed = j < n and text[j] == c
            j = j + 1 if closed else j
            inner = text[i + 1:j - 1] if closed else text[i + 1:j]
            out.append(c + re.sub(r"[^\n]", " ", inner) + (c if closed else ""))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out), comments


TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[{}();]")
KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "do", "else"}


def definitions(text):
    """Yields (name, name_line, end_line, comment_above) for each function definition."""
    code, comments = blank(text)
    # Preprocessor lines (with their continuations) are blanked too.
    lines = code.split("\n")
    cont = False
    for k, ln in enumerate(lines):
        pp = cont or ln.lstrip().startswith("#")
        cont = pp and ln.rstrip().endswith("\\")
        if pp:
            lines[k] = " " * len(ln)
    code = "\n".join(lines)
    line_at = [0]
    for k, ch in enumerate(code):
        if ch == "\n":
            line_at.append(k + 1)

    def line_of(off):
        lo, hi = 0, len(line_at) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if line_at[mid] <= off:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    toks = [(m.group(0), m.start()) for m in TOKEN.finditer(code)]
    stmt = []          # tokens of the file-scope statement being read
    prev_end = 0       # offset just past the previous file-scope item
    i = 0
    while i < len(toks):
        t, off = toks[i]
        if t == ";":
            stmt = []
            prev_end = off + 1
        elif t == "{":
            is_fn = stmt and stmt[-1][0] == ")" and any(s[0] == "(" for s in stmt)
            k = next((j for j, s in enumerate(stmt) if s[0] == "("), -1)
            d = 1
            i += 1
            while i < len(toks) and d:
                d += {"{": 1, "}": -1}.get(toks[i][0], 0)
                i += 1
            end_off = toks[i - 1][1]
            if is_fn and k > 0 and stmt[k - 1][0] not in KEYWORDS:
                name, name_off = stmt[k - 1]
                start = stmt[0][1]
                above = " ".join(text[a:b] for a, b in comments if prev_end <= a < start)
                yield name, line_of(name_off), line_of(end_off), above
                stmt = []
                prev_end = end_off + 1
            else:
                # A struct body or an initializer: the statement goes on to its ';'.
                stmt.append(("}", end_off))
            continue
        else:
            stmt.append((t, off))
        i += 1


def sources(paths):
    for p in paths:
        if os.path.isfile(p):
            yield p
            continue
        for dirpath, dirnames, names in os.walk(p):
            dirnames.sort()
            for nm in sorted(names):
                if nm.endswith((".c", ".h")):
                    yield os.path.join(dirpath, nm)


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", help="files or folders (default: src/)")
    ap.add_argument("-n", type=int, default=10, help="how many to print (default 10)")
    ap.add_argument("--unexplained", action="store_true",
                    help="list functions over --over lines without a 'long because' "
                         "comment above them; exit 1 if any")
    ap.add_argument("--over", type=int, default=150, help="the length limit (default 150)")
    a = ap.parse_args()
    paths = a.paths or [os.path.join(here, "src")]
    base = here if not a.paths else os.getcwd()
    found = []
    for f in sources(paths):
        with open(f, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        rel = os.path.relpath(f, base)
        for name, line, end, above in definitions(text):
            found.append((end - line + 1, rel, line, name, above))
    found.sort(key=lambda x: (-x[0], x[1], x[2]))
    if a.unexplained:
        bad = [x for x in found
               if x[0] > a.over and not re.search(r"long\s+because", x[4], re.I)]
        for n, rel, line, name, _ in bad:
            print("%5d  %s:%d  %s" % (n, rel, line, name))
        print("%d function(s) over %d lines without a 'long because' comment"
              % (len(bad), a.over), file=sys.stderr)
        return 1 if bad else 0
    for n, rel, line, name, _ in found[:a.n]:
        print("%5d  %s:%d  %s" % (n, rel, line, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
