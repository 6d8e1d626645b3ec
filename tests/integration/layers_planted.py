#!/usr/bin/env python3
"""scripts/check-layers.sh catches what it is for (docs/architecture.md, Layers).

A copy of src/ and include/ in a scratch folder, with the known list written from the
copy itself (so this test does not depend on how far issue 16 has got), must pass; then,
each on a fresh copy, a planted fault must fail the check with a line naming the file, the
line and the rule:
  - #include "cli/cli.h" in src/core/buf.c (nothing includes cli; core includes nothing
    above it), rules/sigma.h in an input file, input/sniff.h in a rules file, a src/
    header in a public header, src/rules/sigma.h from cli;
  - a header cycle (core/utf16.h <-> core/escape.c) and a cycle hidden behind no header
    at all (two .c files calling each other's functions);
  - a line of the known list that no longer occurs, a line without its issue number;
  - a row of the layer table in docs/architecture.md that differs from the script's;
while a planted include written in a comment or a string, or a planted violation that is
listed, passes.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

fails, checks = [], [0]


def check(cond, what):
    checks[0] += 1
    if not cond:
        fails.append(what)
        print("FAIL:", what)


def fresh(src_root, scratch, name):
    d = os.path.join(scratch, name)
    for sub in ("src", "include"):
        shutil.copytree(os.path.join(src_root, sub), os.path.join(d, sub))
    os.makedirs(os.path.join(d, "docs"))
    shutil.copy(os.path.join(src_root, "docs", "architecture.md"), os.path.join(d, "docs"))
    os.makedirs(os.path.join(d, "scripts"))
    shutil.copy(os.path.join(scratch, "known.txt"), os.path.join(d, "scripts", "layers-known.txt"))
    return d


def run(script, root):
    p = subprocess.run(["bash", script, "--root", root], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def plant_after_includes(path, text):
    """Inserts text after the file's last #include line; returns the 1-based line of the
    first inserted line."""
    with open(path) as fh:
        lines = fh.read().split("\n")
    last = max(i for i, ln in enumerate(lines) if ln.startswith("#include"))
    lines[last + 1:last + 1] = text.split("\n")
    with open(path, "w") as fh:
        fh.write("\n".join(lines))
    return last + 2


def append(path, text):
    with open(path, "a") as fh:
        fh.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True, help="the repository (src/, include/, scripts/)")
    a = ap.parse_args()
    script = os.path.join(a.source, "scripts", "check-layers.sh")
    scratch = tempfile.mkdtemp(prefix="dh-layers-")
    try:
        # The known list of the tree as it is: every violation of today, so a clean copy
        # passes and each case below sees only what it planted.
        p = subprocess.run(["bash", script, "--root", a.source, "--list"],
                           capture_output=True, text=True)
        check(p.returncode == 0, "--list runs (%s)" % p.stderr.strip())
        with open(os.path.join(scratch, "known.txt"), "w") as fh:
            fh.write("# written by layers_planted\n" + p.stdout)

        d = fresh(a.source, scratch, "clean")
        rc, out = run(script, d)
        check(rc == 0, "a clean copy with its own known list passes: %d %s" % (rc, out))

        def expect_fail(name, plants, patterns):
            d = fresh(a.source, scratch, name)
            lines = {}
            for rel_path, text, how in plants:
                path = os.path.join(d, rel_path)
                if how == "after-includes":
                    lines[rel_path] = plant_after_includes(path, text)
                else:
                    append(path, text)
            rc, out = run(script, d)
            check(rc == 1, "%s: exit 1 (got %d): %s" % (name, rc, out))
            for pat in patterns:
                pat = pat.format(**{k.replace("/", "_").replace(".", "_"): v
                                    for k, v in lines.items()})
                check(re.search(pat, out, re.M), "%s: output has /%s/:\n%s" % (name, pat, out))
            return out

        # Forbidden edges: file:line, the edge, the rule.
        expect_fail("core_includes_cli",
                    [("src/core/buf.c", '#include "cli/cli.h"', "after-includes")],
                    [r"^src/core/buf\.c:{src_core_buf_c}: core -> cli \(src/cli/cli\.h\): "
                     r"nothing includes cli$"])
        expect_fail("input_includes_rules",
                    [("src/input/sniff.c", '#include "rules/sigma.h"', "after-includes")],
                    [r"^src/input/sniff\.c:{src_input_sniff_c}: input -> rules "
                     r"\(src/rules/sigma\.h\): .*input never includes rules"])
        expect_fail("rules_includes_input",
                    [("src/rules/logsource.c", '#include "input/sniff.h"', "after-includes")],
                    [r"^src/rules/logsource\.c:{src_rules_logsource_c}: rules -> input "
                     r"\(src/input/sniff\.h\): .*rules never includes input"])
        expect_fail("core_includes_event",
                    [("src/core/utf8.c", '#include "event/event_impl.h"', "after-includes")],
                    [r"^src/core/utf8\.c:{src_core_utf8_c}: core -> event .*core includes "
                     r"nothing above it"])
        expect_fail("public_includes_src",
                    [("include/dcomhunt/status.h", '#include "core/buf.h"', "after-includes")],
                    [r"^include/dcomhunt/status\.h:{include_dcomhunt_status_h}: public -> core "
                     r"\(src/core/buf\.h\): public headers include only other public headers"])
        expect_fail("cli_reaches_into_rules",
                    [("src/cli/stats.c", '#include "rules/sigma.h"', "after-includes")],
                    [r"^src/cli/stats\.c:{src_cli_stats_c}: cli -> rules \(src/rules/sigma\.h\)"
                     r": cli includes only public headers, output and core"])
        # Cycles: through headers, and through function calls alone.
        expect_fail("header_cycle",
                    [("src/core/utf16.h", '#include "core/escape.h"', "after-includes")],
                    [r"^src/core/utf16\.h:{src_core_utf16_h}: cycle src/core/utf16 -> "
                     r"src/core/escape \(includes its header\)",
                     r"^src/core/escape\.c:\d+: cycle src/core/escape -> src/core/utf16 "])
        expect_fail("call_cycle",
                    [("src/core/utf8.c", "\nint dh_planted_ping(int n)\n{\n"
                      "    return n ? dh_planted_pong(n - 1) : 0;\n}\n", "append"),
                     ("src/core/timefmt.c", "\nint dh_planted_pong(int n)\n{\n"
                      "    return n ? dh_planted_ping(n - 1) : 1;\n}\n", "append")],
                    [r"^src/core/utf8\.c:\d+: cycle src/core/utf8 -> src/core/timefmt "
                     r"\(uses dh_planted_pong\)",
                     r"^src/core/timefmt\.c:\d+: cycle src/core/timefmt -> src/core/utf8 "
                     r"\(uses dh_planted_ping\)"])
        # The known list only shrinks, and says why each line is there.
        d = fresh(a.source, scratch, "stale_known")
        known = os.path.join(d, "scripts", "layers-known.txt")
        n = sum(1 for _ in open(known))
        append(known, "src/core/pool.c -> src/input/scan.c #16\n")
        rc, out = run(script, d)
        check(rc == 1 and re.search(r"^scripts/layers-known\.txt:%d: listed but no longer "
                                    r"found: .*src/core/pool\.c -> src/input/scan\.c$" % (n + 1),
                                    out, re.M), "a stale known line fails: %d %s" % (rc, out))
        d = fresh(a.source, scratch, "known_without_issue")
        plant_after_includes(os.path.join(d, "src/core/buf.c"), '#include "cli/cli.h"')
        append(os.path.join(d, "scripts", "layers-known.txt"), "src/core/buf.c -> src/cli/cli.h\n")
        rc, out = run(script, d)
        check(rc == 1 and "needs its issue number" in out,
              "a known line without an issue number fails: %d %s" % (rc, out))
        # The table in docs/architecture.md is the script's.
        d = fresh(a.source, scratch, "doc_table")
        doc = os.path.join(d, "docs", "architecture.md")
        with open(doc) as fh:
            text = fh.read()
        row = re.search(r"^\| input \| event, core \|$", text, re.M)
        check(row is not None, "docs/architecture.md has the input row")
        if row:
            with open(doc, "w") as fh:
                fh.write(text[:row.start()] + "| input | rules, event, core |" + text[row.end():])
            rc, out = run(script, d)
            line = text.count("\n", 0, row.start()) + 1
            check(rc == 1 and re.search(r"^docs/architecture\.md:%d: the row of input says "
                                        r"rules, event, core, scripts/check-layers\.sh says "
                                        r"event, core" % line, out, re.M),
                  "a changed row of the doc's table fails: %d %s" % (rc, out))
        # What must pass: a listed violation; includes and names in comments and strings.
        d = fresh(a.source, scratch, "listed")
        plant_after_includes(os.path.join(d, "src/core/buf.c"), '#include "cli/cli.h"')
        append(os.path.join(d, "scripts", "layers-known.txt"), "src/core/buf.c -> src/cli/cli.h #16\n")
        rc, out = run(script, d)
        check(rc == 0, "a listed violation passes: %d %s" % (rc, out))
        d = fresh(a.source, scratch, "comments_and_strings")
        plant_after_includes(os.path.join(d, "src/core/buf.c"),
                             '/* #include "cli/cli.h"\n#include "rules/sigma.h" */\n'
                             '// #include "input/sniff.h"\n'
                             'static const char dh_planted_text[] = "cli_hunt(); #include \\"x\\"";')
        rc, out = run(script, d)
        check(rc == 0, "includes and names in comments and strings are not edges: %d %s"
              % (rc, out))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("%d checks, %d failed" % (checks[0], len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
