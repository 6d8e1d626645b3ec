#!/usr/bin/env python3
"""scripts/longest-functions.py measures what it says (docs/architecture.md, Long
functions).

A C file written for the test holds braces, quotes and comment markers inside strings,
character constants and comments, a struct and an initializer at file scope, a prototype,
and functions of known lengths; the script must give each function's name, line and
length exactly, longest first, and --unexplained must list the long function without a
"long because" comment (exit 1) but not the one with it (exit 0 once that one alone is
long). On src/ it must find the functions there (at least 500) and print -n of them.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

fails, checks = [], [0]


def check(cond, what):
    checks[0] += 1
    if not cond:
        fails.append(what)
        print("FAIL:", what)


def body(n):
    """n lines of statements with braces and quotes in strings, chars and comments."""
    out = []
    for i in range(n):
        k = i % 4
        if k == 0:
            out.append('    s = "}{ \\" } /* not a comment";')
        elif k == 1:
            out.append("    c = '}'; c = '\\''; c = '{';")
        elif k == 2:
            out.append("    /* } { \" ' */ x++; // } {")
        else:
            out.append("    if (x) { x--; }")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    a = ap.parse_args()
    script = os.path.join(os.path.abspath(a.source), "scripts", "longest-functions.py")
    lines = [
        "#include <stdio.h>",
        "#define BRACE '{'",
        "struct s { int a; struct { int b; } in; };",
        "static const int table[] = { 1, 2, '}' };",
        "int proto(int x);",
        "",
        "static int small(void)",            # line 7: 4 lines (7..10)
        "{",
        "    return '}';",
        "}",
        "",
        "/* long because: a test needs it. */",
        "static int explained(int x)",       # line 13
        "{",
        "    const char *s; char c;",
    ] + body(200) + [
        "    return x;",
        "}",
    ]
    explained_start = 13
    explained_len = len(lines) - explained_start + 1
    lines += [
        "",
        "/* A comment that says nothing of length. */",
        "int unexplained(const char *s,",
    ]
    unexplained_start = len(lines)
    lines += [
        "                int x)",
        "{",
        "    char c;",
    ] + body(180) + [
        "    return x;",
        "}",
    ]
    unexplained_len = len(lines) - unexplained_start + 1
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.c")
        with open(path, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        p = subprocess.run([sys.executable, script, "-n", "5", path],
                           capture_output=True, text=True, cwd=d)
        got = [ln.split() for ln in p.stdout.splitlines()]
        want = [[str(explained_len), "t.c:%d" % explained_start, "explained"],
                [str(unexplained_len), "t.c:%d" % unexplained_start, "unexplained"],
                ["4", "t.c:7", "small"]]
        check(p.returncode == 0 and got == want,
              "lengths, lines and names: want %s, got %s (%s)" % (want, got, p.stderr))
        p = subprocess.run([sys.executable, script, "--unexplained", path],
                           capture_output=True, text=True, cwd=d)
        check(p.returncode == 1 and [ln.split()[2] for ln in p.stdout.splitlines()] ==
              ["unexplained"], "--unexplained lists only the unexplained long function: "
              "%d %r" % (p.returncode, p.stdout))
        p = subprocess.run([sys.executable, script, "--unexplained", "--over",
                            str(unexplained_len), path], capture_output=True, text=True, cwd=d)
        check(p.returncode == 0 and p.stdout == "",
              "--over above the unexplained one: nothing listed, exit 0: %d %r"
              % (p.returncode, p.stdout))
    p = subprocess.run([sys.executable, script, "-n", "100000"], capture_output=True, text=True)
    rows = p.stdout.splitlines()
    check(p.returncode == 0 and len(rows) >= 500 and
          all(re.match(r"^ *\d+  src/\S+\.[ch]:\d+  \w+$", r) for r in rows),
          "src/: %d functions found (rc %d)" % (len(rows), p.returncode))
    p = subprocess.run([sys.executable, script, "-n", "3"], capture_output=True, text=True)
    check(len(p.stdout.splitlines()) == 3, "-n 3 prints 3 lines")
    print("%d checks, %d failed" % (checks[0], len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
