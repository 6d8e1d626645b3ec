#!/usr/bin/env bash
# Events per second through `dcomhunt produce` and through one and two `dcomhunt stream`
# instances (both stages each) on librdkafka's mock cluster, as ratios to `hunt --jsonl`
# on the same events. A fresh cluster per run (tests/stream/mock_cluster, the tests' mock
# helper in its own process): the input topic with PARTITIONS partitions, then produce,
# then the stream instances started together; an instance's time runs from its start (the
# group join included) to the moment its progress lines show every input message read
# (stage 1), and to the moment the candidates it produced were all consumed (stage 2,
# "drained"; not reached within DRAIN_S is said). hunt runs on the same files.
#
#   DCOMHUNT=build-rel/dcomhunt MOCK=build/tests/stream/mock_cluster bench/stream.sh
#
# Environment: DCOMHUNT (a binary with `stream`), MOCK (mock_cluster), RUNS (3),
# PARTITIONS (4), DRAIN_S (30), INPUTS (default: the ShellWindows zip and two DCOM EVTX
# files of ../shared/corpus). Output: a table on stdout (medians with min-max).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
corpus=${DH_CORPUS:-$root/../shared/corpus}
dh=${DCOMHUNT:-$root/build-release/dcomhunt}
mock=${MOCK:-$root/build/tests/stream/mock_cluster}
runs=${RUNS:-3}
parts=${PARTITIONS:-4}
drain_s=${DRAIN_S:-30}
out=$root/bench/out/stream
mkdir -p "$out"
if [ -n "${INPUTS:-}" ]; then
    read -r -a inputs <<<"$INPUTS"
else
    inputs=("$corpus/Security-Datasets/datasets/atomic/windows/lateral_movement/host/empire_dcom_shellwindows_stager.zip"
        "$corpus/EVTX-ATTACK-SAMPLES/Lateral Movement/LM_impacket_docmexec_mmc_sysmon_01.evtx"
        "$corpus/EVTX-ATTACK-SAMPLES/Lateral Movement/LM_dcom_shwnd_shbrwnd_mmc20_failed_traces_system_10016.evtx")
fi
for f in "$dh" "$mock"; do
    [ -x "$f" ] || { echo "stream.sh: $f is not there (DCOMHUNT, MOCK)" >&2; exit 2; }
done
"$dh" stream --help >/dev/null 2>&1 || { echo "stream.sh: $dh has no stream command" >&2; exit 2; }

now() { echo "$EPOCHREALTIME"; }

cluster_pid=
cluster_in=
start_cluster() {
    rm -f "$out/fifo"
    mkfifo "$out/fifo"
    "$mock" "in:$parts" dcomhunt-candidates:1 dcomhunt-findings:1 dcomhunt-dead-letter:1 \
        <"$out/fifo" >"$out/cluster.txt" 2>/dev/null &
    cluster_pid=$!
    exec {cluster_in}>"$out/fifo" # the cluster serves until this is closed
    for _ in $(seq 100); do
        [ "$(wc -l <"$out/cluster.txt")" -ge 5 ] && break
        sleep 0.1
    done
    bootstrap=$(sed -n 1p "$out/cluster.txt")
    [ -n "$bootstrap" ] || { echo "stream.sh: the mock cluster did not start" >&2; exit 1; }
    cat >"$out/stream.yml" <<EOF
kafka:
  bootstrap.servers: $bootstrap
  compression.type: lz4
  session.timeout.ms: 6000
  heartbeat.interval.ms: 500
input_topics: [in]
EOF
}
stop_cluster() {
    exec {cluster_in}>&-
    wait "$cluster_pid" 2>/dev/null
}

# The sum over the instances' stderr files of one count in their last progress line.
# $1: which (messages, cand_out, cand_in); the rest: the files.
sum_counts() {
    local expr s=0 v
    case $1 in
    messages) expr='s/^dcomhunt stream: in \([0-9]*\) messages.*/\1/p' ;;
    cand_out) expr='s/.*candidates out \([0-9]*\),.*/\1/p' ;;
    cand_in) expr='s/.*candidates out [0-9]*, in \([0-9]*\);.*/\1/p' ;;
    esac
    shift
    for f in "$@"; do
        v=$(tail -n 50 "$f" 2>/dev/null | grep '^dcomhunt stream: in ' | tail -n 1 | sed -n "$expr")
        s=$((s + ${v:-0}))
    done
    echo "$s"
}

# Runs N instances until they have read $events messages; prints "stage1_s drain_s".
run_instances() {
    local n=$1 events=$2 pids=() errs=() t0 t1 t2 i
    t0=$(now)
    for i in $(seq "$n"); do
        "$dh" stream --config "$out/stream.yml" >"$out/findings$i.jsonl" 2>"$out/stream$i.err" &
        pids+=($!)
        errs+=("$out/stream$i.err")
    done
    t1=
    while :; do
        [ "$(sum_counts messages "${errs[@]}")" -ge "$events" ] && { t1=$(now); break; }
        awk -v a="$(now)" -v b="$t0" 'BEGIN { exit !(a - b > 600) }' && break
        sleep 0.05
    done
    t2=
    local deadline
    deadline=$(awk -v a="$(now)" -v d="$drain_s" 'BEGIN { print a + d }')
    while [ -n "$t1" ]; do
        local co ci
        co=$(sum_counts cand_out "${errs[@]}")
        ci=$(sum_counts cand_in "${errs[@]}")
        [ "$co" -gt 0 ] && [ "$ci" -ge "$co" ] && { t2=$(now); break; }
        awk -v a="$(now)" -v d="$deadline" 'BEGIN { exit !(a > d) }' && break
        sleep 0.1
    done
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    awk -v a="$t0" -v b="${t1:-}" -v c="${t2:-}" 'BEGIN {
        printf "%s %s\n", (b == "" ? "-" : b - a), (c == "" ? "-" : c - a) }'
}

events=$("$dh" stats -j1 "${inputs[@]}" 2>&1 | sed -n 's/.*records \([0-9]*\) (.*/\1/p' | head -n 1)
echo "stream.sh: ${#inputs[@]} inputs, $events events; $runs runs; $parts input partitions"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$out/times.txt"
for r in $(seq "$runs"); do
    t0=$(now)
    "$dh" hunt --no-progress --jsonl "${inputs[@]}" >"$out/hunt.jsonl" 2>/dev/null
    echo "hunt $(awk -v a="$(now)" -v b="$t0" 'BEGIN { print a - b }')" >>"$out/times.txt"
    for n in 1 2; do
        start_cluster
        t0=$(now)
        sent=$("$dh" produce --config "$out/stream.yml" --no-progress "${inputs[@]}" 2>&1 |
            sed -n 's/^dcomhunt produce: \([0-9]*\) events delivered.*/\1/p')
        echo "produce $(awk -v a="$(now)" -v b="$t0" 'BEGIN { print a - b }')" >>"$out/times.txt"
        [ "${sent:-0}" -eq "$events" ] || echo "stream.sh: produce delivered ${sent:-0} of $events" >&2
        read -r s1 s2 < <(run_instances "$n" "${sent:-$events}")
        echo "stream$n-stage1 $s1" >>"$out/times.txt"
        echo "stream$n-drained $s2" >>"$out/times.txt"
        stop_cluster
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$out/times.txt" "$events" <<'EOF'
import statistics, sys
times, events = {}, int(sys.argv[2])
for line in open(sys.argv[1]):
    k, v = line.split()
    times.setdefault(k, []).append(None if v == "-" else float(v))
hunt = statistics.median(times["hunt"])
print("| what | runs | median s (min-max) | events/s | vs hunt |")
print("|---|---|---|---|---|")
for k in ["hunt", "produce", "stream1-stage1", "stream1-drained", "stream2-stage1", "stream2-drained"]:
    v = times.get(k, [])
    ok = [x for x in v if x is not None]
    if not ok:
        print(f"| {k} | {len(v)} | not reached | - | - |")
        continue
    m = statistics.median(ok)
    miss = f" ({len(v) - len(ok)} not reached)" if len(ok) < len(v) else ""
    print(f"| {k} | {len(v)}{miss} | {m:.2f} ({min(ok):.2f}-{max(ok):.2f}) | {events / m:,.0f} | {hunt / m:.3f} |")
EOF
