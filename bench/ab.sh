#!/usr/bin/env bash
# Two dcomhunt binaries on the same inputs in one run: OLD (e.g. the previous commit's
# Release build) against NEW, with `jq -c .` and `cat` as peers on the JSON input.
# Runs are interleaved (old, new, old, new...) after one warm-up each, so a machine that
# gets busier or quieter during the run weighs on both alike. Prints, per command, the
# median wall time of RUNS runs with its min-max, and NEW's speed as a ratio to OLD's.
#
# Usage: OLD=path/to/old/dcomhunt NEW=path/to/new/dcomhunt bench/ab.sh
# Environment: RUNS (default 7); ZIP (default: the corpus's Empire ShellWindows host
# capture, 49.5 MB of OTRF JSON lines); EVTX (default: the corpus's EVTX-ATTACK-SAMPLES
# folder). The corpus is found at ../shared/corpus beside the clone (CORPUS overrides).
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=$here/out/ab
CORPUS=${CORPUS:-$root/../shared/corpus}
ZIP=${ZIP:-$CORPUS/Security-Datasets/datasets/atomic/windows/lateral_movement/host/empire_dcom_shellwindows_stager.zip}
EVTX=${EVTX:-$CORPUS/EVTX-ATTACK-SAMPLES}
RUNS=${RUNS:-7}
: "${OLD:?OLD=path of the old binary}" "${NEW:?NEW=path of the new binary}"
for tool in jq unzip python3; do
    command -v "$tool" >/dev/null || { echo "ab.sh: $tool not found" >&2; exit 1; }
done
for b in "$OLD" "$NEW"; do [[ -x $b ]] || { echo "ab.sh: no binary at $b" >&2; exit 1; }; done

rm -rf "$out" && mkdir -p "$out"
unzip -q -o "$ZIP" -d "$out"
json=$(find "$out" -name '*.json' | head -1)
[[ -n $json ]] || { echo "ab.sh: no .json member in $ZIP" >&2; exit 1; }

# one timed run: prints seconds; hunt exits 1 when it finds something, so only 2 and
# above are failures
one() {
    local s e rc=0
    s=$EPOCHREALTIME
    "$@" >/dev/null 2>"$out/err" || rc=$?
    e=$EPOCHREALTIME
    if ((rc >= 2)); then
        echo "ab.sh: exit $rc: $*" >&2
        cat "$out/err" >&2
        exit 1
    fi
    python3 -c "print(f'{$e - $s:.4f}')"
}

# median and min-max of the numbers in a file, and the median alone in $med
stats() { python3 -c '
import statistics, sys
v = sorted(float(x) for x in open(sys.argv[1]))
print(f"{statistics.median(v):.3f} ({v[0]:.3f}-{v[-1]:.3f})")' "$1"; }
median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in open(sys.argv[1])))' "$1"; }

echo "dcomhunt A/B, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $RUNS runs each, interleaved"
echo "OLD: $OLD"
echo "NEW: $NEW"
echo "JSON input: $(basename "$json"), $(stat -c %s "$json") bytes; EVTX input: $(basename "$EVTX")"
printf '%-44s %22s %22s %8s\n' "command" "OLD median (min-max) s" "NEW median (min-max) s" "NEW/OLD"
row() { # name, then the command with @B@ for the binary
    local name=$1 i b
    shift
    : >"$out/old" && : >"$out/new"
    for b in "$OLD" "$NEW"; do one "${@/@B@/$b}" >/dev/null; done # warm-up
    for ((i = 0; i < RUNS; i++)); do
        one "${@/@B@/$OLD}" >>"$out/old"
        one "${@/@B@/$NEW}" >>"$out/new"
    done
    printf '%-44s %22s %22s %7.2fx\n' "$name" "$(stats "$out/old")" "$(stats "$out/new")" \
        "$(python3 -c "print($(median "$out/old") / $(median "$out/new"))")"
}
peer() {
    local name=$1 i
    shift
    : >"$out/peer"
    one "$@" >/dev/null
    for ((i = 0; i < RUNS; i++)); do one "$@" >>"$out/peer"; done
    printf '%-44s %22s\n' "$name" "$(stats "$out/peer")"
}
row "hunt -j1 --jsonl (OTRF JSON lines)" @B@ hunt -j1 --no-progress --jsonl "$json"
row "hunt -j1 --jsonl (OTRF zip)" @B@ hunt -j1 --no-progress --jsonl "$ZIP"
row "hunt -j2 --jsonl (OTRF JSON lines)" @B@ hunt -j2 --no-progress --jsonl "$json"
row "hunt -j1 --jsonl (EVTX samples)" @B@ hunt -j1 --no-progress --jsonl "$EVTX"
row "dump -j1 (EVTX samples)" @B@ dump -j1 "$EVTX"
peer "jq -c . (OTRF JSON lines)" jq -c . "$json"
peer "cat (OTRF JSON lines)" cat "$json"
echo "NEW/OLD above 1 means NEW is faster; medians within each other's min-max are noise."
