#!/usr/bin/env bash
# Throughput of dcomhunt against evtxexport (libevtx) and python-evtx, all measured in
# this one run. See bench/README.md.
#
# Environment:
#   CORPUS     corpus of .evtx files          (default ../shared/corpus beside the clone)
#   BIG_MB     size of the main input, MiB     (default 256)
#   PY_MB      slice for python-evtx, MiB      (default 4)
#   EXP_MB     slice for evtxexport, MiB, used only if the big file would take it
#              longer than EXP_MAX_S seconds   (default 16; EXP_MAX_S default 60)
#   RUNS       runs per dcomhunt measurement, best taken (default 3)
#   DCOMHUNT   binary to measure (default: Release build in build-release/)
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=$here/out
CORPUS=${CORPUS:-$root/../shared/corpus}
BIG_MB=${BIG_MB:-256}
PY_MB=${PY_MB:-4}
EXP_MB=${EXP_MB:-16}
EXP_MAX_S=${EXP_MAX_S:-60}
RUNS=${RUNS:-3}
mkdir -p "$out"

for tool in evtxexport evtx_dump.py python3 bc; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool not found" >&2; exit 1; }
done

# --- the binary -------------------------------------------------------------------------
# shellcheck source=bench/binary.sh
source "$here/binary.sh"

# --- inputs -----------------------------------------------------------------------------
make_input() { # MiB path
    [[ -s $2 ]] || python3 "$here/make_big_evtx.py" --corpus "$CORPUS" --size-mb "$1" -o "$2"
}
big=$out/big${BIG_MB}.evtx
pyslice=$out/slice${PY_MB}.evtx
expslice=$out/slice${EXP_MB}.evtx
make_input "$BIG_MB" "$big"
make_input "$PY_MB" "$pyslice"
make_input "$EXP_MB" "$expslice"
sync # let the writeback of fresh inputs finish before timing anything

size() { stat -c %s "$1"; }
now() { echo "$EPOCHREALTIME"; }
sub() { echo "scale=6; $1 - $2" | bc; }
div() { echo "scale=6; $1 / $2" | bc; }
fmt0() { printf '%.0f' "$1"; }
fmt1() { printf '%.1f' "$1"; }
fmt2() { printf '%.2f' "$1"; }
fmt3() { printf '%.3f' "$1"; }
min() { if (( $(echo "$2 < $1" | bc) )); then echo "$2"; else echo "$1"; fi; }

errlog=$out/errors.log
: >"$errlog"

# Times one command (wall clock, shell-side, microsecond resolution) and echoes seconds.
# stdout of the command goes to /dev/null, stderr to $out/last.err.
time_cmd() {
    local s e rc=0
    s=$(now)
    "$@" >/dev/null 2>"$out/last.err" || rc=$?
    e=$(now)
    if (( rc != 0 )); then
        { echo "exit $rc: $*"; cat "$out/last.err"; } >>"$errlog"
    fi
    sub "$e" "$s"
}

# best of $RUNS for a dcomhunt command; sets BEST and BEST_ERR (stderr of the best run)
best_of() {
    BEST=""
    local i t
    wait_quiet || true
    series_begin
    time_cmd "$@" >/dev/null # warm-up, not counted
    for ((i = 0; i < RUNS; i++)); do
        t=$(time_cmd "$@")
        if [[ -z $BEST ]] || (( $(echo "$t < $BEST" | bc) )); then
            BEST=$t
            BEST_ERR=$(cat "$out/last.err")
        fi
    done
    series_end
}

# Load from other processes during a series, waiting for a quiet machine (load.sh)
# shellcheck source=bench/load.sh
source "$here/load.sh"

count_event_tags() { grep -o '<Event ' | wc -l; }

rows=()
row() { # label records seconds bytes note
    local rps mbs
    rps=$(div "$2" "$3")
    mbs=$(div "$4" "$(echo "$3 * 1000000" | bc)")
    rows+=("$(printf '%-26s %9s %10s %12s %9s  %s' "$1" "$2" "$(fmt3 "$3")" "$(fmt0 "$rps")" \
        "$(fmt1 "$mbs")" "$5")")
    LAST_RPS=$rps
    LAST_MBS=$mbs
}

bigsz=$(size "$big")
echo "dcomhunt benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(uname -m)"
dirty=$(git -C "$root" status --porcelain -- src include CMakeLists.txt 2>/dev/null | wc -l)
echo "binary: $DCOMHUNT ($("$DCOMHUNT" version 2>/dev/null | head -1)); commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$( ((dirty)) && echo " + $dirty uncommitted file(s) in src/include")"
cpu_busy() { # percent of all cores busy over one second (other load skews the figures)
    local a b
    read -r _ a1 a2 a3 a4 a5 _ </proc/stat; sleep 1; read -r _ b1 b2 b3 b4 b5 _ </proc/stat
    a=$(( (b1 + b2 + b3) - (a1 + a2 + a3) )); b=$(( a + (b4 + b5) - (a4 + a5) ))
    echo $(( b ? 100 * a / b : 0 ))
}
echo "CPU busy in the second before the run: $(cpu_busy)%"
echo "inputs: $big ($bigsz bytes), python slice $pyslice ($(size "$pyslice") bytes)"
echo "times are wall clock, best of $RUNS for dcomhunt (after a warm-up run), one run for the peers; MB = 10^6 bytes"
echo "each series starts once the machine is quiet; 'other load' = CPU used by other processes during it"
echo

# --- dcomhunt ---------------------------------------------------------------------------
# record count: from the stats line (also checked against dump's line count)
"$DCOMHUNT" stats -j1 "$big" >/dev/null 2>"$out/stats.err" || true
stats_line=$(tail -1 "$out/stats.err")
recs=$(sed -n 's/.*records \([0-9]*\) (.*/\1/p' <<<"$stats_line")
[[ -n $recs ]] || { echo "run.sh: cannot read records from: $stats_line" >&2; exit 1; }
dump_lines=$("$DCOMHUNT" dump -j1 "$big" 2>>"$errlog" | wc -l)

onote() { echo "other load $(fmt0 "$OTHERS")%"; }
best_of "$DCOMHUNT" stats -j1 "$big"; t_s1=$BEST; s1_internal=$(tail -1 <<<"$BEST_ERR")
row "dcomhunt stats -j1" "$recs" "$t_s1" "$bigsz" "$(onote)"; r_s1=$LAST_RPS; m_s1=$LAST_MBS
best_of "$DCOMHUNT" stats -j2 "$big"; t_s2=$BEST; s2_internal=$(tail -1 <<<"$BEST_ERR")
row "dcomhunt stats -j2" "$recs" "$t_s2" "$bigsz" "$(onote)"
best_of "$DCOMHUNT" dump -j1 "$big"; t_d1=$BEST
row "dcomhunt dump -j1 (JSON)" "$dump_lines" "$t_d1" "$bigsz" "$(onote)"; r_d1=$LAST_RPS
best_of "$DCOMHUNT" dump -j2 "$big"; t_d2=$BEST
row "dcomhunt dump -j2 (JSON)" "$dump_lines" "$t_d2" "$bigsz" "$(onote)"
# hunt with the built-in rule pack, same file, same method (exit 1 = detections: fine)
hunt_ok() { local rc=0; "$DCOMHUNT" hunt "$@" || rc=$?; (( rc <= 1 )); }
best_of hunt_ok -j1 --no-progress --jsonl --detections "$big"; t_h1=$BEST
row "dcomhunt hunt -j1 --detections (pack)" "$recs" "$t_h1" "$bigsz" "$(onote)"; r_h1=$LAST_RPS
best_of hunt_ok -j1 --no-progress --jsonl "$big"; t_hf=$BEST
row "dcomhunt hunt -j1 (findings)" "$recs" "$t_hf" "$bigsz" "$(onote)"; r_hf=$LAST_RPS

# --- evtxexport -------------------------------------------------------------------------
# Estimate from the slice; the big file only if that would fit in EXP_MAX_S.
{ wait_quiet || true; }; series_begin
exp_probe=$(time_cmd evtxexport -f xml "$expslice")
series_end; probe_others=$OTHERS
exp_slice_recs=$(evtxexport -f xml "$expslice" 2>/dev/null | count_event_tags)
est=$(echo "scale=3; $exp_probe * $bigsz / $(size "$expslice")" | bc)
if (( $(echo "$est <= $EXP_MAX_S" | bc) )); then
    exp_file=$big
    exp_recs=$(evtxexport -f xml "$big" 2>/dev/null | count_event_tags)
    { wait_quiet || true; }; series_begin
    t_exp=$(time_cmd evtxexport -f xml "$big")
    series_end
    exp_note="same file as dcomhunt; $(onote)"
else
    exp_file=$expslice
    exp_recs=$exp_slice_recs
    t_exp=$exp_probe
    OTHERS=$probe_others
    exp_note="on $(basename "$expslice") ($(size "$expslice") bytes): big file estimated at $(fmt0 "$est") s > ${EXP_MAX_S} s; rates compared; $(onote)"
fi
row "evtxexport -f xml" "$exp_recs" "$t_exp" "$(size "$exp_file")" "$exp_note"; r_exp=$LAST_RPS

# --- python-evtx ------------------------------------------------------------------------
py_recs=$(evtx_dump.py "$pyslice" 2>/dev/null | count_event_tags)
{ wait_quiet || true; }; series_begin
t_py=$(time_cmd evtx_dump.py "$pyslice")
series_end
row "python-evtx evtx_dump.py" "$py_recs" "$t_py" "$(size "$pyslice")" \
    "on $(basename "$pyslice") ($(size "$pyslice") bytes), rates compared; $(onote)"; r_py=$LAST_RPS

# --- report -----------------------------------------------------------------------------
printf '%-26s %9s %10s %12s %9s\n' "tool" "records" "seconds" "records/s" "MB/s"
printf '%s\n' "${rows[@]}"
echo
echo "dcomhunt stats line, best -j1 run: $s1_internal"
echo "dcomhunt stats line, best -j2 run: $s2_internal"
[[ $dump_lines == "$recs" ]] || echo "NOTE: dump printed $dump_lines lines, stats counted $recs records"
# record counts of the tools on the same bytes (the big file is the slices' chunks repeated)
if [[ $exp_file == "$big" && $exp_recs != "$recs" ]]; then
    echo "NOTE: evtxexport found $exp_recs events, dcomhunt $recs"
fi
pc=$("$DCOMHUNT" stats -j1 "$pyslice" 2>&1 >/dev/null | sed -n 's/.*records \([0-9]*\) (.*/\1/p')
[[ $pc == "$py_recs" ]] || echo "NOTE: on the python slice python-evtx found $py_recs events, dcomhunt $pc"
ec=$("$DCOMHUNT" stats -j1 "$expslice" 2>&1 >/dev/null | sed -n 's/.*records \([0-9]*\) (.*/\1/p')
[[ $ec == "$exp_slice_recs" ]] || echo "NOTE: on $(basename "$expslice") evtxexport found $exp_slice_recs events, dcomhunt $ec"
echo
verdict() { if (( $(echo "$1 >= $2" | bc) )); then echo "ok"; else echo "BELOW TARGET"; fi; }
x_s1_exp=$(div "$r_s1" "$r_exp"); x_s1_py=$(div "$r_s1" "$r_py"); x_d1_exp=$(div "$r_d1" "$r_exp")
x_s=$(div "$t_s1" "$t_s2"); x_d=$(div "$t_d1" "$t_d2")
echo "RATIOS (records/s over records/s)"
printf '  decode-and-normalize (stats -j1) vs evtxexport : %sx\n' "$(fmt1 "$x_s1_exp")"
printf '  decode-and-normalize (stats -j1) vs python-evtx: %sx\n' "$(fmt0 "$x_s1_py")"
printf '  dump -j1 (JSON) vs evtxexport (XML)            : %sx  (target >= 30x: %s)\n' \
    "$(fmt1 "$x_d1_exp")" "$(verdict "$x_d1_exp" 30)"
printf '  stats -j2 / stats -j1                          : %sx  (target >= 1.8x: %s)\n' \
    "$(fmt2 "$x_s")" "$(verdict "$x_s" 1.8)"
printf '  dump -j2 / dump -j1                            : %sx  (target >= 1.8x: %s)\n' \
    "$(fmt2 "$x_d")" "$(verdict "$x_d" 1.8)"
x_h=$(div "$r_h1" "$r_s1")
printf '  hunt -j1 --detections (pack) / stats -j1       : %sx  (target >= 0.5x: %s)\n' \
    "$(fmt2 "$x_h")" "$(verdict "$x_h" 0.5)"
x_hf=$(div "$r_hf" "$r_s1")
printf '  hunt -j1 (pack + correlation) / stats -j1      : %sx\n' "$(fmt2 "$x_hf")"
printf 'decode-and-normalize records/s (one core): %s  (%s MB/s; target >= 1,000,000: %s)\n' \
    "$(fmt0 "$r_s1")" "$(fmt1 "$m_s1")" "$(verdict "$r_s1" 1000000)"
if [[ -s $errlog ]]; then
    echo
    echo "ERRORS (non-zero exits / stderr), from $errlog:"
    cat "$errlog"
fi
