#!/usr/bin/env bash
# One benchmark command: every speed figure of issue 17 in one run, each against its peer
# (evtxexport, jq, xmllint, mlr/csvtool, cut/awk) measured in the same run, and, with OLD,
# against the previous commit's binary too. Builds nothing. Every command of a group runs
# once as a warm-up, then RUNS times, the commands of the group taking turns (peer, new,
# old, next command...), so load that comes and goes weighs on all of them alike. Prints
# medians with min-max, the ratios with their targets and PASS/FAIL, and writes the same
# table to bench/results/<date>-<commit>.md with the machine's description and load.
# bench/README.md ("all.sh") explains every row.
#
# Usage: DCOMHUNT=build-release/dcomhunt [OLD=old/dcomhunt] bench/all.sh
# Environment:
#   DCOMHUNT    the binary to measure (default: build-release/dcomhunt, if it is there)
#   OLD         a second binary (the previous commit's), measured in the same run
#   RUNS        timed runs per command, after one warm-up (default 5)
#   CORPUS      the corpus (default: ../shared/corpus beside the clone)
#   SAMPLES     EVTX samples (default: ../shared/evtx-samples beside the clone)
#   EVTX_MB     MiB of well-filled corpus chunks joined into one EVTX file (default 64)
#   SAMPLES_MB  MiB of the samples' chunks joined likewise (default 32)
#   XML_MB      MiB of corpus chunks written out as event XML (default 16)
#   ECS_SIZE, CSV_SIZE, ZEEK_SIZE   noise of the simulated captures (100M, 60M, 40M)
#   FRESH=1     make the inputs again (they are kept in bench/out/all/inputs/)
#   QUIET_MAX_S wait at most this long for a quiet machine before each group (default 10)
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=$here/out/all
inp=$out/inputs
CORPUS=${CORPUS:-$root/../shared/corpus}
SAMPLES=${SAMPLES:-$root/../shared/evtx-samples}
RUNS=${RUNS:-5}
EVTX_MB=${EVTX_MB:-64}
SAMPLES_MB=${SAMPLES_MB:-32}
XML_MB=${XML_MB:-16}
ECS_SIZE=${ECS_SIZE:-100M}
CSV_SIZE=${CSV_SIZE:-60M}
ZEEK_SIZE=${ZEEK_SIZE:-40M}
export QUIET_MAX_S=${QUIET_MAX_S:-10}
OLD=${OLD:-}
if [[ -z ${DCOMHUNT:-} && -x $root/build-release/dcomhunt ]]; then
    DCOMHUNT=$root/build-release/dcomhunt
fi
: "${DCOMHUNT:?DCOMHUNT=path of the binary to measure (all.sh builds nothing)}"
for b in "$DCOMHUNT" ${OLD:+"$OLD"}; do
    [[ -x $b ]] || { echo "all.sh: no binary at $b" >&2; exit 1; }
done
for tool in python3 bc unzip evtxexport; do
    command -v "$tool" >/dev/null || { echo "all.sh: $tool not found" >&2; exit 1; }
done
[[ -d $CORPUS ]] || { echo "all.sh: no corpus at $CORPUS" >&2; exit 1; }
[[ -d $SAMPLES ]] || { echo "all.sh: no EVTX samples at $SAMPLES" >&2; exit 1; }

# shellcheck source=bench/load.sh
source "$here/load.sh"

[[ ${FRESH:-0} == 1 ]] && rm -rf "$inp"
mkdir -p "$out" "$inp" "$root/bench/results"
samples=$out/samples.tsv # key, which (new, old, peer), run, microseconds, exit status
inputs=$out/inputs.tsv   # group, path, bytes, records (dcomhunt stats -j1)
loadf=$out/load.tsv      # group, other load %, seconds
errors=$out/errors.log
notes=$out/notes.txt
: >"$samples"
: >"$inputs"
: >"$loadf"
: >"$errors"
: >"$notes"
note() { echo "$*" | tee -a "$notes" >&2; }

# --- inputs (made once, kept under bench/out/all/inputs/) -----------------------------------
big_evtx() { # corpus-folder MiB output: sound chunks evtxexport also reads, joined
    [[ -s $3 ]] || python3 "$here/make_big_evtx.py" --corpus "$1" --crc --exportable \
        --size-mb "$2" -o "$3"
}
evtx_corpus=$inp/corpus${EVTX_MB}.evtx
evtx_samples=$inp/samples${SAMPLES_MB}.evtx
big_evtx "$CORPUS" "$EVTX_MB" "$evtx_corpus"
big_evtx "$SAMPLES" "$SAMPLES_MB" "$evtx_samples"

# the OTRF capture: the largest JSON member of the corpus's Security-Datasets zips
otrf=$inp/otrf.json
if [[ ! -s $otrf ]]; then
    read -r zip member < <(python3 - "$CORPUS/Security-Datasets" <<'PY'
import pathlib, sys, zipfile
best = (0, "", "")
for z in sorted(pathlib.Path(sys.argv[1]).rglob("*")):
    if z.suffix.lower() == ".zip":
        with zipfile.ZipFile(z) as f:
            for i in f.infolist():
                if i.filename.lower().endswith(".json") and i.file_size > best[0]:
                    best = (i.file_size, str(z), i.filename)
print(best[1], best[2])
PY
)
    unzip -p "$zip" "$member" >"$otrf.tmp" && mv "$otrf.tmp" "$otrf"
    echo "$zip!$member" >"$inp/otrf.source"
fi
# the same events as an indented JSON array (objects as written, key order included)
otrf_arr=$inp/otrf-array.json
[[ -s $otrf_arr ]] || python3 - "$otrf" "$otrf_arr" <<'PY'
import sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as o:
    rows = [l.strip() for l in f if l.strip()]
    o.write("[\n  " + ",\n  ".join(rows) + "\n]\n")
PY
# simulated captures: one scenario in the noise of an estate, written by dcomhunt simulate
simulate() { # folder, then simulate's options
    local dir=$1
    shift
    [[ -s $dir/truth.jsonl ]] && return 0
    rm -rf "$dir"
    "$DCOMHUNT" simulate --out "$dir" --scenario mmc20-executeshellcommand --seed 1 -j2 "$@" \
        >/dev/null 2>"$out/simulate.err" ||
        { echo "all.sh: simulate failed:" >&2; cat "$out/simulate.err" >&2; exit 1; }
}
largest() { find "$1" -type f -name "$2" -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-; }
simulate "$inp/sim-ecs" --format ecs --noise-size "$ECS_SIZE"
simulate "$inp/sim-csv" --sensors defender --defender csv --noise-size "$CSV_SIZE"
simulate "$inp/sim-zeek" --sensors zeek --noise-size "$ZEEK_SIZE"
ecs=$(largest "$inp/sim-ecs" winlogbeat.json)
csv=$(largest "$inp/sim-csv" '*.csv')
zeek=$(largest "$inp/sim-zeek" conn.log)
# event XML: corpus chunks written out by dump --to xml, under one root element so that
# xmllint reads the file as one document (dcomhunt reads it either way)
xml=$inp/events${XML_MB}.xml
if [[ ! -s $xml ]]; then
    big_evtx "$CORPUS" "$XML_MB" "$inp/xmlslice${XML_MB}.evtx"
    { echo '<Events>'; "$DCOMHUNT" dump -j1 --to xml "$inp/xmlslice${XML_MB}.evtx"; echo '</Events>'; } \
        >"$xml.tmp" && mv "$xml.tmp" "$xml"
fi
for f in "$ecs" "$csv" "$zeek"; do [[ -s $f ]] || { echo "all.sh: simulate wrote no $f" >&2; exit 1; }; done
sync # let the writeback of fresh inputs finish before timing anything

input() { # group, path: its size and the records dcomhunt counts in it
    local recs
    recs=$("$DCOMHUNT" stats -j1 "$2" 2>&1 >/dev/null | sed -n 's/.*records \([0-9]*\) (.*/\1/p' | tail -1)
    printf '%s\t%s\t%s\t%s\n' "$1" "${2#"$root"/}" "$(stat -c %s "$2")" "${recs:-?}" >>"$inputs"
}
input evtx "$evtx_corpus"
input samples "$evtx_samples"
input otrf "$otrf"
input array "$otrf_arr"
input ecs "$ecs"
input csv "$csv"
input xml "$xml"
input zeek "$zeek"

# --- measuring --------------------------------------------------------------------------
IK=() IW=() IC=() # a group's commands: key, which (new, old, peer), the command line
add() { local k=$1 w=$2; shift 2; IK+=("$k"); IW+=("$w"); IC+=("$(printf '%q ' "$@")"); }
dh() { # key, then dcomhunt's arguments: the new binary, and the old one when there is one
    local k=$1
    shift
    add "$k" new "$DCOMHUNT" "$@"
    [[ -z $OLD ]] || add "$k" old "$OLD" "$@"
}
peer() { # key, then the peer's command line (skipped, and said, when it is not installed)
    local k=$1
    shift
    if command -v "$1" >/dev/null; then add "$k" peer "$@"; else note "$k: $1 not installed, row skipped"; fi
}
# One run of item i; run 0 is the warm-up (not kept). hunt exits 1 when it finds something;
# every other non-zero status (and any from a peer) is logged and marks the row.
one() {
    local run=$1 i=$2 s e rc=0
    s=${EPOCHREALTIME/./}
    eval "${IC[i]}" >/dev/null 2>"$out/err" || rc=$?
    e=${EPOCHREALTIME/./}
    if { [[ ${IW[i]} == peer ]] && ((rc != 0)); } || ((rc >= 2)); then
        { echo "${IK[i]} (${IW[i]}) exit $rc: ${IC[i]}"; tail -3 "$out/err"; } >>"$errors"
    fi
    ((run == 0)) || printf '%s\t%s\t%d\t%d\t%d\n' "${IK[i]}" "${IW[i]}" "$run" $((e - s)) "$rc" >>"$samples"
}
group() { # name: runs the commands added since the last group
    local g=$1 i r t0
    echo "measuring $g: ${#IK[@]} commands x (1 + $RUNS) runs" >&2
    { wait_quiet || true; }
    t0=$EPOCHREALTIME
    series_begin
    for i in "${!IK[@]}"; do one 0 "$i"; done
    for ((r = 1; r <= RUNS; r++)); do
        for i in "${!IK[@]}"; do one "$r" "$i"; done
    done
    series_end
    printf '%s\t%s\t%s\n' "$g" "$OTHERS" "$(echo "$EPOCHREALTIME - $t0" | bc)" >>"$loadf"
    IK=() IW=() IC=()
}

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$root" status --porcelain -- src include CMakeLists.txt 2>/dev/null | wc -l)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$EPOCHREALTIME
series_begin
RUN_SB_BUSY=$SB_BUSY RUN_SB_CPU=$SB_CPU RUN_SB_T=$SB_T

hunt=(hunt --no-progress --jsonl)
# EVTX, well-filled corpus chunks
peer evtx.evtxexport evtxexport -f xml "$evtx_corpus"
for j in 1 2; do
    dh "evtx.dump$j" dump -j$j "$evtx_corpus"
    dh "evtx.hunt$j" "${hunt[@]}" -j$j "$evtx_corpus"
    dh "evtx.stats$j" stats -j$j "$evtx_corpus"
done
group evtx
# EVTX, the samples' chunks
peer samples.evtxexport evtxexport -f xml "$evtx_samples"
for j in 1 2; do
    dh "samples.dump$j" dump -j$j "$evtx_samples"
    dh "samples.hunt$j" "${hunt[@]}" -j$j "$evtx_samples"
done
group samples
# JSON: the OTRF capture as lines and as an array
peer otrf.jq jq -c . "$otrf"
for j in 1 2; do
    dh "otrf.hunt$j" "${hunt[@]}" -j$j "$otrf"
    dh "array.hunt$j" "${hunt[@]}" -j$j "$otrf_arr"
done
group otrf
# JSON: a Winlogbeat (ECS) capture
peer ecs.jq jq -c . "$ecs"
for j in 1 2; do dh "ecs.hunt$j" "${hunt[@]}" -j$j "$ecs"; done
group ecs
# Defender advanced-hunting CSV
peer csv.mlr mlr --csv cat "$csv"
peer csv.csvtool csvtool cat "$csv"
for j in 1 2; do dh "csv.hunt$j" "${hunt[@]}" -j$j "$csv"; done
group csv
# Windows event XML
peer xml.xmllint xmllint --stream --noout "$xml"
for j in 1 2; do dh "xml.hunt$j" "${hunt[@]}" -j$j "$xml"; done
group xml
# Zeek TSV (zeek-cut is not packaged in Debian: cut and awk select the same columns)
peer zeek.cut cut -f1-6 "$zeek"
# shellcheck disable=SC2016 # awk's own $1...
peer zeek.awk awk -F '\t' '!/^#/ { print $1, $2, $3, $4, $5, $6 }' "$zeek"
for j in 1 2; do dh "zeek.hunt$j" "${hunt[@]}" -j$j "$zeek"; done
group zeek

SB_BUSY=$RUN_SB_BUSY SB_CPU=$RUN_SB_CPU SB_T=$RUN_SB_T
series_end
{
    printf 'date\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf 'commit\t%s%s\n' "$commit" "$( ((dirty)) && echo " + $dirty uncommitted file(s) in src/include")"
    printf 'binary\t%s (%s)\n' "$(realpath --relative-to="$root" "$DCOMHUNT")" \
        "$("$DCOMHUNT" version 2>/dev/null | head -1)"
    [[ -z $OLD ]] || printf 'old\t%s (%s)\n' "$(realpath --relative-to="$root" "$OLD")" \
        "$("$OLD" version 2>/dev/null | head -1)"
    printf 'machine\t%s cores (nproc), %s, %s, %s GiB RAM, Linux %s\n' "$(nproc)" "$cpu_model" \
        "$(uname -m)" "$(awk '/MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)" "$(uname -r)"
    printf 'load\tload average %s before, %s after; other processes used %s%% of the machine during the run\n' \
        "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(printf '%.0f' "$OTHERS")"
    printf 'runs\t%s timed runs per command after one warm-up; %.0f s in all\n' "$RUNS" \
        "$(echo "$EPOCHREALTIME - $started" | bc)"
} >"$out/machine.tsv"

result=$root/bench/results/$(date -u +%Y-%m-%d)-$commit.md
python3 "$here/all_report.py" --dir "$out" --root "$root" --output "$result"
echo "written: ${result#"$root"/}" >&2
