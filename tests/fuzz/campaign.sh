#!/usr/bin/env bash
# A fuzz campaign, outside CI (CI runs each target for seconds): every libFuzzer target
# for N minutes, J at a time, each with its dictionary (tests/fuzz/dict/<name>.dict) and
# its seeds, on a corpus that persists between campaigns. New crash, leak, timeout and
# out-of-memory inputs are copied to tests/data/fuzz-<name>-crashes/ (fuzz_chunk:
# tests/data/fuzz-crashes/), where the replay tests of tests/fuzz/CMakeLists.txt run them
# under ctest from then on. At the end, per target: executions, executions per second,
# coverage (edges: cov, features: ft), corpus size, new units, peak memory, crashes.
#
#   tests/fuzz/campaign.sh [-m MINUTES] [-j PARALLEL] [-b BUILD_DIR] [TARGET...]
#
#   -m MINUTES   per target (default 15)
#   -j PARALLEL  targets run at once (default 2: the machine's two cores)
#   -b DIR       the libFuzzer build (default build-fuzz; configured and built if missing,
#                with CC=clang -DDH_FUZZ=ON)
#   TARGET       fuzz_chunk, fuzz_rules, ... (default: every fuzz_* the build made)
#
# Exit status: 0 no target found anything, 1 some target crashed (its inputs are kept),
# 2 usage or build error. Run it under `nice -n 19` on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

minutes=15
parallel=2
build=build-fuzz
while getopts "m:j:b:h" opt; do
    case $opt in
    m) minutes=$OPTARG ;;
    j) parallel=$OPTARG ;;
    b) build=$OPTARG ;;
    h)
        sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
case $minutes$parallel in
*[!0-9]*)
    echo "campaign: -m and -j want whole numbers" >&2
    exit 2
    ;;
esac

if [ ! -x "$build/tests/fuzz/fuzz_rules" ]; then
    echo "campaign: building the libFuzzer targets in $build"
    CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDH_FUZZ=ON >/dev/null ||
        exit 2
    cmake --build "$build" -j "$parallel" >/dev/null || exit 2
fi
# The EVTX chunk seeds are cut from the corpus (../shared/corpus) by a ctest fixture.
ctest --test-dir "$build" -R make_seeds >/dev/null || echo "campaign: no chunk seeds (corpus missing?)"

if [ $# -eq 0 ]; then
    mapfile -t targets < <(find "$build/tests/fuzz" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x |
        LC_ALL=C sort)
else
    targets=()
    for t in "$@"; do targets+=("$build/tests/fuzz/$t"); done
fi
[ "${#targets[@]}" -gt 0 ] || {
    echo "campaign: no fuzz targets in $build/tests/fuzz" >&2
    exit 2
}

work=$build/campaign
mkdir -p "$work"

# Every dictionary must parse (libFuzzer would stop at once, which reads like a finding).
for t in "${targets[@]}"; do
    dict=tests/fuzz/dict/$(basename "$t" | sed 's/^fuzz_//').dict
    if [ -f "$dict" ] && ! grep -q '^Dictionary: ' <<<"$("$t" -dict="$dict" -runs=0 2>&1 || true)"; then
        echo "campaign: $dict does not parse (libFuzzer: name=\"value\", escapes \\ \" \xNN, 64 bytes at most)" >&2
        exit 2
    fi
done

# One target: its corpus, seeds, dictionary; the run; its crash inputs kept.
run_one() {
    local t=$1 name short seeds dict dir keep rc
    name=$(basename "$t")
    short=${name#fuzz_}
    seeds=
    for d in "$build/tests/fuzz/seeds_$short" "$build/tests/fuzz/seeds"; do
        if [ -d "$d" ]; then
            seeds=$d
            break
        fi
    done
    dict=tests/fuzz/dict/$short.dict
    local opts=()
    [ -f "$dict" ] && opts+=("-dict=$dict")
    dir=$work/$name
    mkdir -p "$dir/corpus" "$dir/artifacts"
    set +e
    "$t" -max_total_time=$((minutes * 60)) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "${opts[@]}" -artifact_prefix="$dir/artifacts/" "$dir/corpus" ${seeds:+"$seeds"} \
        >"$dir/log" 2>&1
    rc=$?
    set -e
    keep=tests/data/fuzz-$short-crashes
    [ "$short" = chunk ] && keep=tests/data/fuzz-crashes
    for a in "$dir"/artifacts/*; do
        [ -f "$a" ] || continue
        mkdir -p "$keep"
        cp -n "$a" "$keep/$name-$(basename "$a")"
        echo "campaign: $name: kept $keep/$name-$(basename "$a")"
    done
    echo "$rc" >"$dir/status"
}

echo "campaign: ${#targets[@]} targets, $minutes min each, $parallel at a time"
for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do
        wait -n || true
    done
    echo "campaign: $(date -u +%H:%M:%S) start $(basename "$t")"
    run_one "$t" &
done
wait

found=0
printf '\n%-12s %8s %14s %10s %8s %8s %8s %8s %8s %s\n' target minutes executions exec/s cov ft corpus new rss_mb status
for t in "${targets[@]}"; do
    name=$(basename "$t")
    dir=$work/$name
    log=$dir/log
    stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1 || true; }
    # the last progress line holds the coverage: "#N  DONE  cov: X ft: Y corp: Z/..."
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(find "$dir/corpus" -type f | wc -l)
    rc=$(cat "$dir/status" 2>/dev/null || echo "?")
    crashes=$(find "$dir/artifacts" -type f | wc -l)
    status=ok
    if [ "$rc" != 0 ] || [ "$crashes" -gt 0 ]; then
        status="FOUND $crashes (exit $rc; $log)"
        found=1
    fi
    printf '%-12s %8s %14s %10s %8s %8s %8s %8s %8s %s\n' "$name" "$minutes" \
        "$(stat number_of_executed_units)" "$(stat average_exec_per_sec)" "${cov:-?}" "${ft:-?}" \
        "$corp" "$(stat new_units_added)" "$(stat peak_rss_mb)" "$status"
done
exit "$found"
