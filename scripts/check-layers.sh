#!/usr/bin/env bash
# The layering check: every #include "..." in src/ and include/ must go along an allowed
# edge of the layer table below (the same table is in docs/architecture.md), and no two
# modules may depend on each other, directly or through a chain.
#
#   scripts/check-layers.sh [--root DIR] [--known FILE] [--list]
#
#   --root DIR    the tree to check (default: this script's repository)
#   --known FILE  known violations (default: DIR/scripts/layers-known.txt)
#   --list        print every violation found as a known-list line, and exit 0 (to write
#                 the list; never to hide a new violation: the list may only shrink)
#
# Exit 0 when every violation found is listed in the known file and every listed line
# still occurs; 1 otherwise, with one line per problem:
#   file:line: layer -> layer (included header): the rule it breaks
#   file:line: cycle module -> module (how: an include, or the functions it calls): ...
#   known-file:line: listed but no longer found: remove it (the list only shrinks)
#   docs/architecture.md:line: a row of its layer table that differs from LAYERS below
# 2 on a usage error.
#
# Modules and cycles. A module is x.c with its x.h (same folder, same name); a header
# without a .c of its own is a module alone. Module X depends on module Y when a file of X
# includes y.h, or when x.c calls a function (or reads a variable) defined, not static, in
# y.c: a header shared by several .c files (rules/sigma.h, input/evtx/evtx.h) hides such
# edges from the include lines, so the definitions are read off the sources. Every edge
# inside a strongly connected set of modules is reported; breaking the cycle makes its
# edges disappear one by one, which is what the known list tracks.
#
# Only python3 from the standard library; no build needed (the sources are read as text:
# comments, strings and character constants are blanked before anything is looked at).
set -euo pipefail
exec python3 - "$(cd "$(dirname "$0")/.." && pwd)" "$@" <<'PY'
import os
import re
import sys

# ---- The layer table (keep it equal to the one in docs/architecture.md) ----------------
# layer: the layers whose headers it may include (src/<layer>/ and that layer's public
# header). A layer always includes its own headers. "public" in the list: any public
# header (include/dcomhunt/*.h) whatever its layer.
LAYERS = {
    "core":      [],
    "event":     ["core"],
    "input":     ["event", "core"],
    "rules":     ["event", "core"],
    "correlate": ["findings", "rules", "event", "core"],
    "findings":  ["rules", "event", "core"],
    "output":    ["findings", "correlate", "rules", "event", "core"],
    "engine":    ["input", "rules", "correlate", "findings", "event", "core"],
    "sim":       ["public", "output", "event", "core"],
    "stream":    ["public", "output", "event", "core"],
    "cli":       ["public", "output", "core"],
}
# The layer each public header belongs to: a src/ file including it makes that edge.
PUBLIC = {
    "status.h":    "core",
    "buf.h":       "core",
    "event.h":     "event",
    "scan.h":      "input",
    "rules.h":     "rules",
    "correlate.h": "correlate",
    "finding.h":   "findings",
    "engine.h":    "engine",
    "simulate.h":  "sim",
    "stream.h":    "stream",
}
# Why a forbidden edge is forbidden, said once per layer.
WHY = {
    "core": "core includes nothing above it",
    "event": "event includes only core",
    "input": "input includes only event and core (input never includes rules)",
    "rules": "rules includes only event and core (rules never includes input)",
    "correlate": "correlate includes only findings, rules, event and core",
    "findings": "findings includes only rules, event and core (the correlator builds "
                "findings: findings never includes correlate)",
    "output": "output includes only findings, correlate, rules, event and core",
    "engine": "engine includes only input, rules, correlate, findings, event and core",
    "sim": "sim includes only public headers, output, event and core",
    "stream": "stream includes only public headers, output, event and core",
    "cli": "cli includes only public headers, output and core",
}


def usage(msg):
    sys.stderr.write("check-layers: %s\n" % msg)
    sys.exit(2)


root = sys.argv[1]
known_path = None
list_mode = False
args = sys.argv[2:]
while args:
    a = args.pop(0)
    if a == "--root" and args:
        root = os.path.abspath(args.pop(0))
    elif a == "--known" and args:
        known_path = os.path.abspath(args.pop(0))
    elif a == "--list":
        list_mode = True
    elif a in ("-h", "--help"):
        print("usage: scripts/check-layers.sh [--root DIR] [--known FILE] [--list]")
        sys.exit(0)
    else:
        usage("unknown argument %r (see --help)" % a)
if known_path is None:
    known_path = os.path.join(root, "scripts", "layers-known.txt")
for d in ("src", "include"):
    if not os.path.isdir(os.path.join(root, d)):
        usage("%s has no %s/ folder" % (root, d))


def blank(text):
    """Returns (code, comments_blanked): the first with comments, strings and character
    constants replaced by spaces, the second with comments only; newlines are kept, so
    line numbers and columns stay true in both."""
    out, keep = [], []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            s = re.sub(r"[^\n]", " ", text[i:j])
            out.append(s)
            keep.append(s)
            i = j
        elif c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            keep.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" and j + 1 < n and text[j + 1] != "\n" else 1
            closed = j < n and text[j] == c  # an unclosed one ends at the line
            j = j + 1 if closed else j
            seg = text[i:j]
            inner = seg[1:-1] if closed else seg[1:]
            out.append(c + re.sub(r"[^\n]", " ", inner) + (c if closed else ""))
            keep.append(seg)
            i = j
        else:
            out.append(c)
            keep.append(c)
            i += 1
    return "".join(out), "".join(keep)


INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"', re.M)


def rel(p):
    return os.path.relpath(p, root).replace(os.sep, "/")


files = []
for top in ("src", "include"):
    for dirpath, dirnames, names in os.walk(os.path.join(root, top)):
        dirnames.sort()
        for nm in sorted(names):
            if nm.endswith((".c", ".h")):
                files.append(rel(os.path.join(dirpath, nm)))

problems = []  # (key, message)


def layer_of(path):
    """The layer of a file, or None with a problem recorded."""
    parts = path.split("/")
    if parts[0] == "include":
        name = parts[-1]
        if len(parts) != 3 or parts[1] != "dcomhunt" or name not in PUBLIC:
            return None
        return PUBLIC[name]
    if len(parts) >= 3 and parts[1] in LAYERS:
        return parts[1]
    return None


def module_of(path):
    return path[:-2]


texts = {}
for f in files:
    with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
        texts[f] = blank(fh.read())

# ---- Includes: layer edges ----------------------------------------------------------
mod_edges = {}  # (module, module) -> list of reasons (file:line text)


def add_edge(a, b, why):
    if a != b:
        mod_edges.setdefault((a, b), []).append(why)


unknown_reported = set()
for f in files:
    code, keep = texts[f]
    lf = layer_of(f)
    if lf is None and f not in unknown_reported:
        unknown_reported.add(f)
        where = "include/dcomhunt/ (add it to PUBLIC)" if f.startswith("include/") \
            else "no layer (add its folder to LAYERS)"
        problems.append(("unknown " + f, "%s:1: %s: %s" % (f, f, where)))
    for m in INCLUDE.finditer(keep):
        line = keep.count("\n", 0, m.start()) + 1
        target = None
        for base in (os.path.dirname(f), "src", "include"):
            cand = os.path.normpath(os.path.join(base, m.group(1))).replace(os.sep, "/")
            if cand in texts:
                target = cand
                break
        if target is None:
            problems.append(("unresolved %s -> %s" % (f, m.group(1)),
                             '%s:%d: #include "%s" is not a file of src/ or include/'
                             % (f, line, m.group(1))))
            continue
        add_edge(module_of(f), module_of(target), "%s:%d" % (f, line))
        lt = layer_of(target)
        if lf is None or lt is None:
            continue
        key = "%s -> %s" % (f, target)
        if f.startswith("include/"):
            if not target.startswith("include/"):
                problems.append((key, "%s:%d: public -> %s (%s): public headers include "
                                 "only other public headers" % (f, line, lt, target)))
                continue
        if lt == lf:
            continue
        allowed = LAYERS[lf]
        if lt in allowed or ("public" in allowed and target.startswith("include/")):
            continue
        why = WHY[lf]
        if lt == "cli":
            why = "nothing includes cli"
        problems.append((key, "%s:%d: %s -> %s (%s): %s" % (f, line, lf, lt, target, why)))

# ---- Definitions and uses in .c files: the edges a shared header hides -----------------
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[{}()\[\];=]")
KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "do", "else"}


def top_level_definitions(code):
    """Names of the functions and variables a .c file defines at file scope without
    static. Preprocessor lines are skipped; braces of initializers and struct bodies are
    walked over."""
    lines = code.split("\n")
    cont = False
    for i, ln in enumerate(lines):
        pp = cont or ln.lstrip().startswith("#")
        cont = pp and ln.rstrip().endswith("\\")
        if pp:
            lines[i] = ""
    toks = IDENT.findall("\n".join(lines))
    names = set()
    stmt = []
    depth = 0
    i = 0
    while i < len(toks):
        t = toks[i]
        if depth == 0:
            if t == ";":
                # A variable definition: no static/extern/typedef, no parameter list
                # before '=' (a prototype or a function pointer type).
                if stmt and not ({"static", "extern", "typedef"} & set(stmt)):
                    head = stmt[:stmt.index("=")] if "=" in stmt else stmt
                    if "(" not in head:
                        while head and head[-1] in ("]",):
                            # name[...]: drop the bounds
                            k = len(head) - 1 - head[::-1].index("[")
                            head = head[:k]
                        if head and re.match(r"[A-Za-z_]", head[-1]) and len(head) > 1:
                            names.add(head[-1])
                stmt = []
            elif t == "{":
                if stmt and stmt[-1] == ")" and "(" in stmt:
                    # A function body: the name is the word before the first '('.
                    k = stmt.index("(")
                    if k > 0 and "static" not in stmt[:k] and stmt[k - 1] not in KEYWORDS:
                        names.add(stmt[k - 1])
                    # skip the body
                    d = 1
                    i += 1
                    while i < len(toks) and d:
                        d += {"{": 1, "}": -1}.get(toks[i], 0)
                        i += 1
                    stmt = []
                    continue
                depth = 1
                stmt.append(t)
            else:
                stmt.append(t)
        else:
            depth += {"{": 1, "}": -1}.get(t, 0)
        i += 1
    return names


defined_in = {}  # name -> module (non-static definitions of .c files)
uses = {}        # module -> set of identifiers its .c uses
for f in files:
    if not f.endswith(".c"):
        continue
    code = texts[f][0]
    for name in top_level_definitions(code):
        defined_in.setdefault(name, module_of(f))
    uses[module_of(f)] = (f, code)
for mod, (f, code) in sorted(uses.items()):
    called = {}  # owner -> {name: first line}
    for m in re.finditer(r"[A-Za-z_][A-Za-z0-9_]*", code):
        owner = defined_in.get(m.group(0))
        if owner and owner != mod:
            seen = called.setdefault(owner, {})
            if m.group(0) not in seen:
                seen[m.group(0)] = code.count("\n", 0, m.start()) + 1
    for owner, names in sorted(called.items()):
        order = sorted(names, key=lambda k: (names[k], k))
        add_edge(mod, owner, "%s:%d: uses %s" % (f, names[order[0]], ", ".join(order[:4])
                                                 + (", ..." if len(order) > 4 else "")))

# ---- Cycles: strongly connected modules (Tarjan, iterative) ---------------------------
graph = {}
for (a, b) in mod_edges:
    graph.setdefault(a, set()).add(b)
    graph.setdefault(b, set())
index, low, onstack, stack, comp_of = {}, {}, set(), [], {}
counter = [0]
for v0 in sorted(graph):
    if v0 in index:
        continue
    work = [(v0, iter(sorted(graph[v0])))]
    index[v0] = low[v0] = counter[0]
    counter[0] += 1
    stack.append(v0)
    onstack.add(v0)
    while work:
        v, it = work[-1]
        advanced = False
        for w in it:
            if w not in index:
                index[w] = low[w] = counter[0]
                counter[0] += 1
                stack.append(w)
                onstack.add(w)
                work.append((w, iter(sorted(graph[w]))))
                advanced = True
                break
            if w in onstack:
                low[v] = min(low[v], index[w])
        if advanced:
            continue
        work.pop()
        if work:
            low[work[-1][0]] = min(low[work[-1][0]], low[v])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                onstack.discard(w)
                comp.append(w)
                if w == v:
                    break
            for w in comp:
                comp_of[w] = tuple(sorted(comp))
for (a, b), whys in sorted(mod_edges.items()):
    comp = comp_of.get(a)
    if comp and len(comp) > 1 and comp_of.get(b) == comp:
        # An include line is the clearer evidence; else the first function used.
        inc = [w for w in whys if re.match(r".*:\d+$", w)]
        loc, how = (inc[0], "includes its header") if inc else whys[0].split(": ", 1)
        problems.append(("cycle %s -> %s" % (a, b),
                         "%s: cycle %s -> %s (%s): modules that depend on each other: %s"
                         % (loc, a, b, how, " ".join(m[4:] if m.startswith("src/") else m
                                                     for m in comp))))

# ---- The same table in docs/architecture.md (when the tree has it) --------------------
doc = os.path.join(root, "docs", "architecture.md")
if os.path.exists(doc):
    rows = {}
    with open(doc, encoding="utf-8") as fh:
        for no, ln in enumerate(fh, 1):
            cells = [c.strip() for c in ln.strip().strip("|").split("|")]
            if ln.startswith("|") and len(cells) == 2 and cells[0] in LAYERS:
                words = re.findall(r"[a-z]+", re.sub(r"`[^`]*`", "", cells[1]))
                rows[cells[0]] = (no, [w for w in words if w in LAYERS or w == "public"])
    for layer, allowed in LAYERS.items():
        if layer not in rows:
            problems.append(("doc table " + layer, "docs/architecture.md:1: the layer table "
                             "has no row for %s (scripts/check-layers.sh has one)" % layer))
        elif sorted(rows[layer][1]) != sorted(allowed):
            problems.append(("doc table " + layer, "docs/architecture.md:%d: the row of %s says "
                             "%s, scripts/check-layers.sh says %s: change both together"
                             % (rows[layer][0], layer, ", ".join(rows[layer][1]) or "nothing",
                                ", ".join(allowed) or "nothing")))

# ---- The known list -------------------------------------------------------------------
if list_mode:
    for key in sorted({k for k, _ in problems}):
        print("%s #16" % key)
    sys.exit(0)

known = {}
bad_known = []
if os.path.exists(known_path):
    with open(known_path, encoding="utf-8") as fh:
        for no, ln in enumerate(fh, 1):
            s = ln.strip()
            if not s or s.startswith("#"):
                continue
            m = re.match(r"^(.*?)\s+#(\d+)\s*$", s)
            if not m:
                bad_known.append("%s:%d: a known violation needs its issue number "
                                 "(e.g. '... #16'): %s" % (rel(known_path) if known_path.startswith(root) else known_path, no, s))
                continue
            known[m.group(1)] = no

failed = list(bad_known)
found = set()
def where(p):
    m = re.match(r"([^:]*):(\d+):", p[1])
    return (m.group(1), int(m.group(2)), p[1]) if m else (p[1], 0, p[1])


for key, msg in sorted(problems, key=where):
    found.add(key)
    if key not in known:
        failed.append(msg)
kp = rel(known_path) if known_path.startswith(root + os.sep) else known_path
for key, no in sorted(known.items(), key=lambda kv: kv[1]):
    if key not in found:
        failed.append("%s:%d: listed but no longer found: remove it (the list only "
                      "shrinks): %s" % (kp, no, key))
for msg in failed:
    print(msg)
nknown = len(found & set(known))
if failed:
    print("check-layers: %d problem(s); %d known violation(s) still listed in %s"
          % (len(failed), len(known), kp), file=sys.stderr)
    sys.exit(1)
print("check-layers: %d files, layering and cycles as allowed (%d known violation(s) left "
      "in %s)" % (len(files), nknown, kp))
PY
