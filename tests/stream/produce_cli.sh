#!/bin/sh
# dcomhunt produce from the command line: against librdkafka's in-process mock cluster
# (test.mock.num.brokers in the config) every event of a corpus file is delivered, as
# many as dump prints; the usage errors exit 2 and say why; no broker listening exits 4
# at once, naming it.
# usage: produce_cli.sh DCOMHUNT FILE
set -u
dh=$1
file=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "produce_cli: $*" >&2; exit 1; }

printf 'kafka:\n  test.mock.num.brokers: 3\n  log_level: 0\ninput_topics: [events]\n' >"$tmp/ok.yml"
want=$("$dh" dump "$file" | wc -l)
[ "$want" -gt 0 ] || fail "dump read nothing from $file"
"$dh" produce --config "$tmp/ok.yml" --no-progress "$file" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "exit $rc: $(cat "$tmp/err")"
grep -q "^dcomhunt produce: $want events delivered to events\$" "$tmp/err" ||
    fail "want $want events delivered: $(cat "$tmp/err")"

# Usage errors: no cluster named, no topic, no path, a config with a typo.
"$dh" produce --topic t "$file" 2>"$tmp/err"
[ $? -eq 2 ] && grep -q -- "--brokers" "$tmp/err" || fail "no cluster: not a usage error"
"$dh" produce --brokers 127.0.0.1:1 "$file" 2>"$tmp/err"
[ $? -eq 2 ] && grep -q -- "no --topic" "$tmp/err" || fail "no topic: not a usage error"
"$dh" produce --brokers 127.0.0.1:1 --topic t 2>"$tmp/err"
[ $? -eq 2 ] || fail "no path: not a usage error"
printf 'input_topics: [a]\nkafka:\n  bootstrap.server: x:1\n' >"$tmp/typo.yml"
"$dh" produce --config "$tmp/typo.yml" "$file" 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "line 3: kafka property 'bootstrap.server'" "$tmp/err" ||
    fail "a typo in the config: $(cat "$tmp/err")"
# No broker listening: said at once (not after message.timeout.ms), naming it, exit 4.
start=$(date +%s)
"$dh" produce --brokers 127.0.0.1:1 --topic t --no-progress "$file" 2>"$tmp/err"
rc=$?
took=$(($(date +%s) - start))
[ $rc -eq 4 ] && grep -q "127.0.0.1:1.*no broker" "$tmp/err" ||
    fail "no broker: want exit 4 naming it: exit $rc: $(cat "$tmp/err")"
[ "$took" -le 12 ] || fail "no broker: took ${took}s, the bound is 10s"
# A file that is not there: nothing read, exit 4.
"$dh" produce --config "$tmp/ok.yml" --no-progress "$tmp/none.evtx" 2>"$tmp/err"
[ $? -eq 4 ] || fail "a missing file: want exit 4: $(cat "$tmp/err")"
echo "produce_cli: ok ($want events)"
