#!/usr/bin/env python3
"""The table of bench/all.sh: reads what it measured (bench/out/all/*.tsv) and prints
the commands' medians and the ratios of issue 17 with their targets, as Markdown, on
stdout and into --output.

Ratios are taken run by run: the commands of a group take turns in each run, so run i of
a peer and run i of dcomhunt saw the same load; the median of those per-run ratios is
the figure, their min-max the spread. PASS when the median meets the target.
bench/README.md ("all.sh") says what every row measures.
"""
import argparse
import collections
import os
import statistics
import sys

BUSY_PCT = 25  # other load (% of the machine) above which the table says it was busy

# key -> (what is run, on what); the key's group names the input (inputs.tsv)
COMMANDS = collections.OrderedDict([
    ("evtx.evtxexport", "evtxexport -f xml"),
    ("evtx.dump1", "dcomhunt dump -j1"), ("evtx.dump2", "dcomhunt dump -j2"),
    ("evtx.hunt1", "dcomhunt hunt -j1"), ("evtx.hunt2", "dcomhunt hunt -j2"),
    ("evtx.stats1", "dcomhunt stats -j1"), ("evtx.stats2", "dcomhunt stats -j2"),
    ("samples.evtxexport", "evtxexport -f xml"),
    ("samples.dump1", "dcomhunt dump -j1"), ("samples.dump2", "dcomhunt dump -j2"),
    ("samples.hunt1", "dcomhunt hunt -j1"), ("samples.hunt2", "dcomhunt hunt -j2"),
    ("otrf.jq", "jq -c ."),
    ("otrf.hunt1", "dcomhunt hunt -j1"), ("otrf.hunt2", "dcomhunt hunt -j2"),
    ("array.hunt1", "dcomhunt hunt -j1"), ("array.hunt2", "dcomhunt hunt -j2"),
    ("ecs.jq", "jq -c ."),
    ("ecs.hunt1", "dcomhunt hunt -j1"), ("ecs.hunt2", "dcomhunt hunt -j2"),
    ("csv.mlr", "mlr --csv cat"), ("csv.csvtool", "csvtool cat"),
    ("csv.hunt1", "dcomhunt hunt -j1"), ("csv.hunt2", "dcomhunt hunt -j2"),
    ("xml.xmllint", "xmllint --stream --noout"),
    ("xml.hunt1", "dcomhunt hunt -j1"), ("xml.hunt2", "dcomhunt hunt -j2"),
    ("zeek.cut", "cut -f1-6"), ("zeek.awk", "awk (zeek-cut's columns)"),
    ("zeek.hunt1", "dcomhunt hunt -j1"), ("zeek.hunt2", "dcomhunt hunt -j2"),
])
INPUT_NAMES = {
    "evtx": "EVTX, corpus chunks", "samples": "EVTX, evtx-samples chunks",
    "otrf": "OTRF JSON lines", "array": "OTRF as a JSON array", "ecs": "Winlogbeat (ECS) JSON",
    "csv": "Defender CSV", "xml": "event XML", "zeek": "Zeek conn.log",
}

# (figure, kind, args, target, target text); kinds:
#   vs     peer time / dcomhunt time (the fastest of the peers listed, by median)
#   mbs    input MB/s of the command
#   speed  time of the first / time of the second (the second is that much faster)
TARGETS = [
    ("EVTX corpus chunks: dump -j1 vs evtxexport -f xml", "vs", ("evtx.dump1", ["evtx.evtxexport"]), 100, ">= 100x"),
    ("EVTX corpus chunks: hunt -j1 vs evtxexport -f xml", "vs", ("evtx.hunt1", ["evtx.evtxexport"]), 60, ">= 60x"),
    ("EVTX evtx-samples chunks: dump -j1 vs evtxexport -f xml", "vs", ("samples.dump1", ["samples.evtxexport"]), 100, ">= 100x"),
    ("EVTX evtx-samples chunks: hunt -j1 vs evtxexport -f xml", "vs", ("samples.hunt1", ["samples.evtxexport"]), 60, ">= 60x"),
    ("EVTX corpus chunks: stats -j1, MB/s", "mbs", ("evtx.stats1",), 1000, ">= 1000 MB/s (1 GB/s per core)"),
    ("OTRF JSON lines: hunt -j1 vs jq -c .", "vs", ("otrf.hunt1", ["otrf.jq"]), 20, ">= 20x"),
    ("Winlogbeat (ECS) JSON: hunt -j1 vs jq -c .", "vs", ("ecs.hunt1", ["ecs.jq"]), 20, ">= 20x"),
    ("JSON array vs lines: hunt -j1 lines time / array time", "speed", ("otrf.hunt1", "array.hunt1"), 0.95, ">= 0.95x (as fast as lines)"),
    ("Defender CSV: hunt -j1 vs the faster of mlr, csvtool", "vs", ("csv.hunt1", ["csv.mlr", "csv.csvtool"]), None, "none set: compared only"),
    ("event XML: hunt -j1 vs xmllint --stream", "vs", ("xml.hunt1", ["xml.xmllint"]), None, "none set: compared only"),
    ("Zeek TSV: hunt -j1 vs the faster of cut, awk", "vs", ("zeek.hunt1", ["zeek.cut", "zeek.awk"]), None, "none set: compared only"),
] + [
    (f"{INPUT_NAMES[g]}: {cmd} -j2 / -j1", "speed", (f"{g}.{cmd}1", f"{g}.{cmd}2"), 1.8, ">= 1.8x")
    for g, cmd in [("evtx", "dump"), ("evtx", "hunt"), ("evtx", "stats"), ("samples", "dump"),
                   ("samples", "hunt"), ("otrf", "hunt"), ("array", "hunt"), ("ecs", "hunt"),
                   ("csv", "hunt"), ("xml", "hunt"), ("zeek", "hunt")]
]


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def spread(values, fmt, unit=""):
    v = sorted(values)
    return f"{fmt(statistics.median(v))} ({fmt(v[0])}-{fmt(v[-1])}){unit}"


def times(x):
    return f"{x:,.1f}x" if x >= 10 else f"{x:.2f}x"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True, help="bench/out/all")
    ap.add_argument("--output", required=True, help="the Markdown file to write")
    ap.add_argument("--root", default="", help="the clone: its path is left out of the text")
    a = ap.parse_args()

    runs = collections.defaultdict(dict)  # (key, which) -> {run: seconds}
    bad = collections.Counter()           # (key, which) -> runs with a failing exit status
    for key, which, run, usec, rc in read_tsv(os.path.join(a.dir, "samples.tsv")):
        runs[(key, which)][int(run)] = int(usec) / 1e6
        rc = int(rc)
        if (which == "peer" and rc != 0) or rc >= 2:
            bad[(key, which)] += 1
    inputs = {g: (p, int(b), r) for g, p, b, r in read_tsv(os.path.join(a.dir, "inputs.tsv"))}
    load = {g: (float(o), float(t)) for g, o, t in read_tsv(os.path.join(a.dir, "load.tsv"))}
    machine = read_tsv(os.path.join(a.dir, "machine.tsv"))
    has_old = any(w == "old" for _, w in runs)

    def which_of(key):
        return "peer" if (key, "peer") in runs else "new"

    def median(key, which):
        return statistics.median(runs[(key, which)].values())

    out = []
    meta = dict(machine)
    out.append(f"# bench/all.sh, {meta.get('date', '?')}, commit {meta.get('commit', '?')}\n")
    out.append("| | |\n|---|---|")
    for k, v in machine:
        out.append(f"| {k} | {v} |")
    busy = [o for o, _ in load.values()]
    if busy and max(busy) > BUSY_PCT:
        out.append(f"\n**The machine was busy**: other processes used up to {max(busy):.0f}% of it during "
                   "a group. Every figure is slower than on a quiet machine, the peers' and dcomhunt's "
                   "alike, and the -j2 figures are not "
                   "representative: a second worker had no free core to run on. Rerun on a quiet machine.")
    out.append("\nInputs (MB = 10^6 bytes; records as `dcomhunt stats -j1` counts them; other load: "
               "CPU used by other processes during the group, % of wall time x cores):\n")
    out.append("| group | input | file | bytes | records | other load | group time |")
    out.append("|---|---|---|---:|---:|---:|---:|")
    for g, (p, b, r) in inputs.items():
        lo = load.get("otrf" if g == "array" else g)
        lo_s = f"{lo[0]:.0f}%" if lo else "-"
        t_s = f"{lo[1]:.0f} s" if lo else "-"
        out.append(f"| {g} | {INPUT_NAMES.get(g, g)} | `{p}` | {b:,} | {r if r == '?' else f'{int(r):,}'} | {lo_s} | {t_s} |")

    out.append("\nEvery command: wall seconds, median (min-max) of the timed runs, output to /dev/null:\n")
    head = "| input | command | seconds | MB/s | records/s |"
    rule = "|---|---|---:|---:|---:|"
    if has_old:
        head += " old: seconds | new/old |"
        rule += "---:|---:|"
    out.append(head)
    out.append(rule)
    for key, label in COMMANDS.items():
        w = which_of(key)
        if (key, w) not in runs:
            continue
        g = key.split(".")[0]
        p, b, r = inputs[g]
        med = median(key, w)
        rec = f"{int(r) / med:,.0f}" if r != "?" else "-"
        flag = f" (failed in {bad[(key, w)]} runs)" if bad[(key, w)] else ""
        line = (f"| {INPUT_NAMES[g]} | {label}{flag} | {spread(runs[(key, w)].values(), lambda x: f'{x:.3f}')} "
                f"| {b / med / 1e6:,.1f} | {rec} |")
        if has_old:
            if (key, "old") in runs:
                om = median(key, "old")
                line += f" {spread(runs[(key, 'old')].values(), lambda x: f'{x:.3f}')} | {om / med:.2f}x |"
            else:
                line += " | |"
        out.append(line)

    def paired(a_key, a_w, b_key, b_w):
        """Per-run ratios time(a) / time(b)."""
        ra, rb = runs.get((a_key, a_w), {}), runs.get((b_key, b_w), {})
        return [ra[i] / rb[i] for i in sorted(set(ra) & set(rb)) if rb[i] > 0]

    def figure(kind, args, binw):
        """(per-run values, formatter) of a figure for the binary binw (new or old)."""
        if kind == "vs":
            dh, peers = args
            peers = [p for p in peers if (p, "peer") in runs]
            if not peers or (dh, binw) not in runs:
                return None, None
            fastest = min(peers, key=lambda p: median(p, "peer"))
            return paired(fastest, "peer", dh, binw), times
        if kind == "mbs":
            key, = args
            if (key, binw) not in runs:
                return None, None
            b = inputs[key.split(".")[0]][1]
            return [b / t / 1e6 for t in runs[(key, binw)].values()], lambda x: f"{x:,.0f}"
        first, second = args
        if (first, binw) not in runs or (second, binw) not in runs:
            return None, None
        return paired(first, binw, second, binw), times

    out.append("\nTargets of issue 17 (ratios run by run, median (min-max); PASS when the median "
               "meets the target):\n")
    head = "| figure | measured | target | verdict |"
    rule = "|---|---:|---|---|"
    if has_old:
        head += " old binary |"
        rule += "---:|"
    out.append(head)
    out.append(rule)
    npass = nfail = 0
    for name, kind, args, target, ttext in TARGETS:
        vals, fmt = figure(kind, args, "new")
        if not vals:
            out.append(f"| {name} | not measured | {ttext} | - |" + (" |" if has_old else ""))
            continue
        med = statistics.median(vals)
        keys = [args[0]] + (args[1] if kind == "vs" else list(args[1:]))
        failed = any(bad[(k, w)] for k in keys for w in ("new", "peer"))
        if target is None:
            verdict = "no target"
        elif failed:
            verdict = "FAIL (a command failed)"
            nfail += 1
        elif med >= target:
            verdict = "PASS"
            npass += 1
        else:
            verdict = "FAIL"
            nfail += 1
        unit = " MB/s" if kind == "mbs" else ""
        line = f"| {name} | {spread(vals, fmt, unit)} | {ttext} | {verdict} |"
        if has_old:
            ov, ofmt = figure(kind, args, "old")
            line += f" {spread(ov, ofmt, unit) if ov else '-'} |"
        out.append(line)
    out.append(f"\n{npass} PASS, {nfail} FAIL.")

    for name, title in (("notes.txt", "Notes"), ("errors.log", "Errors (non-zero exits)")):
        path = os.path.join(a.dir, name)
        if os.path.exists(path) and os.path.getsize(path):
            with open(path) as f:
                out.append(f"\n{title}:\n\n```\n{f.read().rstrip()}\n```")
    text = "\n".join(out) + "\n"
    if a.root:  # no machine's path in a file that may be committed
        root = os.path.realpath(a.root)
        text = text.replace(root + "/", "").replace(os.path.dirname(root) + "/", "../")
    sys.stdout.write(text)
    with open(a.output, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
