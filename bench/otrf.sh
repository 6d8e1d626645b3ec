#!/usr/bin/env bash
# hunt throughput on an OTRF (Security-Datasets) JSON-lines capture, unzipped and zipped,
# against `jq -c . >/dev/null` on the same unzipped file, all in this one run.
# Environment: ZIP (default: the Empire ShellWindows host capture of the corpus, 49.5 MB
# unzipped), RUNS (default 3, best taken), DCOMHUNT (default: Release build in
# build-release/). See bench/README.md.
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=$here/out/otrf
CORPUS=${CORPUS:-$root/../shared/corpus}
ZIP=${ZIP:-$CORPUS/Security-Datasets/datasets/atomic/windows/lateral_movement/host/empire_dcom_shellwindows_stager.zip}
RUNS=${RUNS:-3}
for tool in jq unzip bc; do
    command -v "$tool" >/dev/null || { echo "otrf.sh: $tool not found" >&2; exit 1; }
done
[[ -s $ZIP ]] || { echo "otrf.sh: no capture at $ZIP" >&2; exit 1; }

# shellcheck source=bench/binary.sh
source "$here/binary.sh"

rm -rf "$out" && mkdir -p "$out"
unzip -q -o "$ZIP" -d "$out"
json=$(find "$out" -name '*.json' | head -1)
[[ -n $json ]] || { echo "otrf.sh: no .json member in $ZIP" >&2; exit 1; }
# the same events as an indented JSON array (objects kept as written, key order included)
arr=$out/array.json
python3 - "$json" "$arr" <<'PY'
import json, sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as o:
    rows = [l.strip() for l in f if l.strip()]
    o.write("[\n  " + ",\n  ".join(rows) + "\n]\n")
PY
sync
bytes=$(stat -c %s "$json")
events=$(wc -l <"$json")

# best wall time of RUNS runs (after one warm-up); hunt exits 1 when it finds something,
# so only statuses 2 and above count as failures
best() {
    local i s e rc t b=""
    "$@" >/dev/null 2>"$out/err" || true
    for ((i = 0; i < RUNS; i++)); do
        rc=0
        s=$EPOCHREALTIME
        "$@" >/dev/null 2>"$out/err" || rc=$?
        e=$EPOCHREALTIME
        if ((rc >= 2)); then
            echo "otrf.sh: exit $rc: $*" >&2
            cat "$out/err" >&2
            exit 1
        fi
        t=$(echo "$e - $s" | bc)
        if [[ -z $b ]] || (($(echo "$t < $b" | bc))); then b=$t; fi
    done
    echo "$b"
}

t_jq=$(best jq -c . "$json")
t_hd=$(best "$DCOMHUNT" hunt -j1 --no-progress --jsonl --detections "$json")
t_hf=$(best "$DCOMHUNT" hunt -j1 --no-progress --jsonl "$json")
t_hz=$(best "$DCOMHUNT" hunt -j1 --no-progress --jsonl "$ZIP")
t_h2=$(best "$DCOMHUNT" hunt -j2 --no-progress --jsonl "$json")
t_a1=$(best "$DCOMHUNT" hunt -j1 --no-progress --jsonl "$arr")
t_a2=$(best "$DCOMHUNT" hunt -j2 --no-progress --jsonl "$arr")
found=$("$DCOMHUNT" hunt -j1 --no-progress --jsonl "$json" 2>/dev/null | grep -c '"kind":"lateral_movement"' || true)

echo "OTRF JSON hunt, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores; commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "input: $(basename "$json"), $bytes bytes, $events events; zip $(stat -c %s "$ZIP") bytes"
printf '%-40s %9s %10s %12s\n' "command" "wall s" "MB/s" "events/s"
line() { printf '%-40s %9.3f %10.1f %12.0f\n' "$1" "$2" "$(echo "$bytes / $2 / 1000000" | bc -l)" "$(echo "$events / $2" | bc -l)"; }
line "jq -c . (unzipped)" "$t_jq"
line "dcomhunt hunt -j1 --detections" "$t_hd"
line "dcomhunt hunt -j1 (findings)" "$t_hf"
line "dcomhunt hunt -j1 (findings, from zip)" "$t_hz"
line "dcomhunt hunt -j2 (findings)" "$t_h2"
line "dcomhunt hunt -j1 (as a JSON array)" "$t_a1"
line "dcomhunt hunt -j2 (as a JSON array)" "$t_a2"
printf 'ratios: hunt findings / jq = %.1fx, hunt findings zipped / jq = %.1fx\n' \
    "$(echo "$t_jq / $t_hf" | bc -l)" "$(echo "$t_jq / $t_hz" | bc -l)"
printf 'target >= 500 MB/s per core unzipped (findings mode): %s\n' \
    "$( (($(echo "$bytes / $t_hf / 1000000 >= 500" | bc -l))) && echo met || echo 'NOT met')"
echo "lateral-movement findings on this capture: $found"
