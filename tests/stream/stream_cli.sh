#!/bin/sh
# dcomhunt stream from the command line: the usage and config errors exit 2 and say why;
# an instance on librdkafka's in-process mock cluster (test.mock.num.brokers) runs until
# SIGTERM, drains and exits 0 with its counts on stderr.
# usage: stream_cli.sh DCOMHUNT
set -u
dh=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "stream_cli: $*" >&2; exit 1; }
expect() { # status, what stderr must say, then the arguments
    want=$1 say=$2
    shift 2
    "$dh" stream "$@" >/dev/null 2>"$tmp/err"
    rc=$?
    [ $rc -eq "$want" ] || fail "stream $*: exit $rc, want $want: $(cat "$tmp/err")"
    grep -q -- "$say" "$tmp/err" || fail "stream $*: stderr does not say '$say': $(cat "$tmp/err")"
}

printf 'kafka:\n  test.mock.num.brokers: 3\nstages: 2\n' >"$tmp/s2.yml"
printf 'input_topics: [a]\nwindow: 5m\n' >"$tmp/bad.yml"
expect 2 "--config FILE is required"
expect 2 "line 2: 'window' must be whole seconds" --config "$tmp/bad.yml"
expect 2 "cannot open" --config "$tmp/none.yml"
expect 2 "stage 1 runs and the config names no input_topics" --config "$tmp/s2.yml" --stage both
expect 2 "--stage is 1, 2 or both" --config "$tmp/s2.yml" --stage 3
expect 2 "reads Kafka, not paths" --config "$tmp/s2.yml" some.evtx
printf 'kafka:\n  test.mock.num.brokers: 3\nstages: 2\nrules: [%s/none]\n' "$tmp" >"$tmp/r.yml"
expect 2 "cannot use" --config "$tmp/r.yml"
# tuning: a rule where a filter belongs is refused before the stream starts
printf 'title: not a filter\nlogsource:\n  product: windows\ndetection:\n  s:\n    EventID: 1\n  condition: s\n' >"$tmp/rule.yml"
printf 'kafka:\n  test.mock.num.brokers: 3\nstages: 2\ntuning: [%s/rule.yml]\n' "$tmp" >"$tmp/t.yml"
expect 2 "dcomhunt stream: tuning: 'not a filter' in" --config "$tmp/t.yml"

# A run: SIGTERM drains and exits 0.
"$dh" stream --config "$tmp/s2.yml" --no-progress >"$tmp/out" 2>"$tmp/err" &
pid=$!
sleep 3
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 0 ] || fail "SIGTERM: exit $rc: $(cat "$tmp/err")"
grep -q "drained and stopped" "$tmp/err" || fail "SIGTERM: not drained: $(cat "$tmp/err")"
grep -q "^dcomhunt stream: in 0 messages" "$tmp/err" || fail "no final counts: $(cat "$tmp/err")"
grep -q "suppressed 0, tuned 0" "$tmp/err" || fail "no tuned count: $(cat "$tmp/err")"
echo "stream_cli: ok"
