#!/usr/bin/env bash
# Peak resident memory of dcomhunt at growing input sizes, per mode: `hunt --jsonl` (the
# findings mode: reading, matching, correlation, findings), `hunt --detections --jsonl`,
# `dump` and `stats`. It must stay flat (the goal: the largest within 1.25x of the
# smallest; the last column is each row's ratio to the first size of its kind and mode).
# Three kinds of input, none of which fills the disk:
#   evtx   a simulated estate's EVTX logs (`dcomhunt simulate`, two hosts, ~0.1 GB), reused
#          through many paths (hard links, one folder per copy), read in time order;
#   jsonl  the corpus's OTRF JSON-lines capture (49.5 MB) repeated through a pipe (stdin);
#   small  SMALL_FILES hard links of one small corpus EVTX file, in folders of 1000;
#   zeek   a simulated estate of that size, its network sensor's Zeek logs (a third of it)
#          with its host logs: `dcomhunt simulate` at each size (copies would not do:
#          sensor records read twice are one), so it is slow (~1 minute per GB here).
# Copies repeat the same records (the correlator counts each once) and the same intrusions
# (one finding each): what an estate collected twice looks like, at any size.
# Environment: SIZES (GB, decimal; default "0.1 1 10 50"), SMALL_FILES (default 100000;
# 0 skips), KINDS (default "evtx jsonl small"; "zeek" too on request), MODES (default
# "findings detections dump stats"), THREADS (default 2), CORPUS,
# DCOMHUNT (default: Release build in build-release/), OUT (the work folder, default
# bench/out/mem), KEEP=1 keeps it.
# See bench/README.md; results in bench/results/memory.md.
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${OUT:-$here/out/mem}
CORPUS=${CORPUS:-$root/../shared/corpus}
SIZES=${SIZES:-0.1 1 10 50}
SMALL_FILES=${SMALL_FILES:-100000}
KINDS=${KINDS:-evtx jsonl small}
MODES=${MODES:-findings detections dump stats}
THREADS=${THREADS:-2}
ZIP=$CORPUS/Security-Datasets/datasets/atomic/windows/lateral_movement/host/empire_dcom_shellwindows_stager.zip
SMALL=$CORPUS/EVTX-ATTACK-SAMPLES/Lateral\ Movement/LM_dcom_shwnd_shbrwnd_mmc20_failed_traces_system_10016.evtx
[[ -x /usr/bin/time ]] || { echo "memory.sh: /usr/bin/time not found (apt-get install time)" >&2; exit 1; }
command -v unzip >/dev/null || { echo "memory.sh: unzip not found" >&2; exit 1; }

# shellcheck source=bench/binary.sh
source "$here/binary.sh"
mkdir -p "$out"
[[ ${KEEP:-0} == 1 ]] || trap 'rm -rf "$out"' EXIT

# ---- the base inputs ------------------------------------------------------------------
base=$out/estate # the simulated estate's host logs (its network sensor logs left out)
if [[ $KINDS == *evtx* && ! -d $base ]]; then
    "$DCOMHUNT" simulate --out "$out/sim" --scenario mmc20-executeshellcommand \
        --noise-size 150M -j "$THREADS" >/dev/null 2>&1
    mkdir -p "$base"
    for d in "$out/sim"/*/; do
        [[ $(basename "$d") == zeek ]] || mv "$d" "$base/"
    done
    rm -rf "$out/sim"
fi
json=$out/otrf.json
if [[ $KINDS == *jsonl* && ! -s $json ]]; then
    [[ -s $ZIP ]] || { echo "memory.sh: no capture at $ZIP" >&2; exit 1; }
    unzip -q -o -d "$out/otrf" "$ZIP"
    mv "$(find "$out/otrf" -name '*.json' | head -1)" "$json"
    rm -rf "$out/otrf"
fi

# hard links of every file of folder $1 in $3 copies under $2/cNNNNN/ (no disk used)
links() {
    python3 - "$1" "$2" "$3" <<'PY'
import os, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = []
for r, _, fs in os.walk(src):
    files += [os.path.relpath(os.path.join(r, f), src) for f in sorted(fs)]
for i in range(n):
    for f in files:
        p = os.path.join(dst, "c%05d" % i, f)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if not os.path.exists(p):
            os.link(os.path.join(src, f), p)
PY
}

# ---- one measurement -----------------------------------------------------------------
echo "dcomhunt peak RSS, -j$THREADS, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores," \
    "load $(cut -d' ' -f1-3 /proc/loadavg); commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
printf '%-7s %-10s %6s %14s %12s %9s %13s %9s %7s\n' kind mode GB "input bytes" records "wall s" "peak RSS KiB" findings ratio
status=0
declare -A first=()
# the command of a mode (after the binary)
mode_args() {
    case $1 in
    findings) echo "hunt -j$THREADS --jsonl --no-progress" ;;
    detections) echo "hunt -j$THREADS --detections --jsonl --no-progress" ;;
    dump) echo "dump -j$THREADS" ;;
    stats) echo "stats -j$THREADS" ;;
    *) echo "memory.sh: unknown mode $1" >&2 && exit 2 ;;
    esac
}
# run KIND MODE GB BYTES CMD...: CMD's stdout is the command's; its stderr the summary
run() {
    local kind=$1 mode=$2 gb=$3 bytes=$4 rc=0
    shift 4
    /usr/bin/time -o "$out/time.txt" -f '%M %e' "$@" >/dev/null 2>"$out/err.txt" || rc=$?
    [[ $rc == 1 ]] && rc=0 # hunt exits 1 when it reports findings
    local rss wall recs finds ratio
    read -r rss wall < <(tail -n 1 "$out/time.txt")
    recs=$(sed -n -e 's/.*; \([0-9]*\) events (.*/\1/p' -e 's/.*; records \([0-9]*\) .*/\1/p' \
        "$out/err.txt" | tail -1)
    finds=$(sed -n 's/^ *findings: \([0-9]*\) .*/\1/p' "$out/err.txt" | tail -1)
    [[ -n ${first[$kind.$mode]:-} ]] || first[$kind.$mode]=$rss
    ratio=$(python3 -c "print('%.3f' % ($rss / ${first[$kind.$mode]}))")
    printf '%-7s %-10s %6s %14s %12s %9s %13s %9s %7s\n' "$kind" "$mode" "$gb" "$bytes" \
        "${recs:-?}" "$wall" "$rss" "${finds:--}" "$ratio"
    if ((rc != 0)); then
        status=1
        echo "    exit $rc:"
        grep -v '^  ' "$out/err.txt" | head -5 | sed 's/^/    /'
    fi
}
# each mode on the input PATH (- : the JSON lines pipe)
modes() {
    local kind=$1 gb=$2 bytes=$3 path=$4 m
    for m in $MODES; do
        read -r -a args < <(mode_args "$m")
        if [[ $path == - ]]; then
            run "$kind" "$m" "$gb" "$bytes" bash -c \
                'for ((i = 0; i < $1; i++)); do cat "$2"; done | "${@:3}" -' \
                _ "$n" "$json" "$DCOMHUNT" "${args[@]}"
        else
            run "$kind" "$m" "$gb" "$bytes" "$DCOMHUNT" "${args[@]}" "$path"
        fi
    done
}

for gb in $SIZES; do
    if [[ $KINDS == *evtx* ]]; then
        one=$(du -sb --apparent-size "$base" | cut -f1)
        n=$(python3 -c "print(max(1, round($gb * 1e9 / $one)))")
        rm -rf "$out/evtx" && links "$base" "$out/evtx" "$n"
        modes evtx "$gb" $((one * n)) "$out/evtx"
        rm -rf "$out/evtx"
    fi
    if [[ $KINDS == *zeek* ]]; then
        # the estate comes to about its --noise-size (150M: 145 MB, a third of it Zeek's)
        rm -rf "$out/zeek"
        "$DCOMHUNT" simulate --out "$out/zeek" --scenario mmc20-executeshellcommand \
            --noise-size "$(python3 -c "print(max(1, round($gb * 1000)))")M" \
            -j "$THREADS" >/dev/null 2>&1
        modes zeek "$gb" "$(du -sb --apparent-size "$out/zeek" | cut -f1)" "$out/zeek"
        rm -rf "$out/zeek"
    fi
    if [[ $KINDS == *jsonl* ]]; then
        one=$(stat -c %s "$json")
        n=$(python3 -c "print(max(1, round($gb * 1e9 / $one)))")
        modes jsonl "$gb" $((one * n)) -
    fi
done
if [[ $KINDS == *small* && $SMALL_FILES -gt 0 ]]; then
    [[ -s $SMALL ]] || { echo "memory.sh: no file at $SMALL" >&2; exit 1; }
    python3 - "$SMALL" "$out/small" "$SMALL_FILES" <<'PY'
import os, shutil, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
# links to copies of the file made here, never to the corpus's own; a file has at most
# 65,000 names on ext4, so one copy per 50,000 links
for i in range(n):
    d = os.path.join(dst, "d%03d" % (i // 1000))
    if i % 1000 == 0:
        os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "f%06d.evtx" % i)
    if i % 50000 == 0:
        shutil.copyfile(src, p)
        first = p
    elif not os.path.exists(p):
        os.link(first, p)
PY
    one=$(stat -c %s "$SMALL")
    modes "${SMALL_FILES}f" "$(python3 -c "print(round($one * $SMALL_FILES / 1e9, 1))")" \
        $((one * SMALL_FILES)) "$out/small"
    rm -rf "$out/small"
fi
exit $status
