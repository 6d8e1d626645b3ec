#!/bin/sh
# The examples against the installed library: installs the build tree to a temporary
# prefix, builds examples/hunt_jsonl.c with cc and that prefix's pkg-config file alone
# (--static), runs it on the inputs given and requires its output to be byte for byte
# what `dcomhunt hunt --jsonl` prints for them, findings included, with the same exit
# status.
#   check_install.sh BUILD_DIR SOURCE_DIR DCOMHUNT INPUT...
#   Environment: CC (default cc), EXAMPLE_CFLAGS (extra flags, e.g. the sanitizers of an
#   instrumented library).
set -eu
build=$1 src=$2 cli=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
export PKG_CONFIG_PATH
flags=$(pkg-config --cflags --libs --static dcomhunt)
echo "cc flags: $flags"
# shellcheck disable=SC2086 # the flags are words
${CC:-cc} -std=c11 -Wall -Wextra -Werror ${EXAMPLE_CFLAGS:-} -o "$tmp/hunt_jsonl" "$src/examples/hunt_jsonl.c" $flags
set +e
"$tmp/hunt_jsonl" "$@" >"$tmp/example.jsonl"
example_rc=$?
"$cli" hunt --jsonl --no-progress "$@" >"$tmp/cli.jsonl" 2>"$tmp/cli.err"
cli_rc=$?
set -e
if ! cmp "$tmp/cli.jsonl" "$tmp/example.jsonl"; then
    diff "$tmp/cli.jsonl" "$tmp/example.jsonl" | head -20
    echo "FAIL: the example's output differs from dcomhunt hunt --jsonl"
    exit 1
fi
if [ ! -s "$tmp/cli.jsonl" ]; then
    echo "FAIL: no findings on these inputs: the comparison proves nothing"
    exit 1
fi
if [ "$example_rc" != "$cli_rc" ]; then
    echo "FAIL: exit status $example_rc, dcomhunt hunt gave $cli_rc"
    exit 1
fi
echo "ok: $(wc -l <"$tmp/cli.jsonl") findings, identical, exit status $cli_rc"
