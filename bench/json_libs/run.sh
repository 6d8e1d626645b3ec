#!/bin/sh
# Build and run the JSON-library benchmark.
#   bench/json_libs/run.sh [FILE] [rounds]
# Needs (Debian bookworm): apt-get install libjansson-dev libjson-c-dev libcjson-dev libjsmn-dev jq
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/bench/out"
zip=$root/../shared/corpus/Security-Datasets/datasets/atomic/windows/lateral_movement/host/empire_dcom_shellwindows_stager.zip
file=${1:-$out/empire_dcom_shellwindows_stager_2020-09-18130751.json}
rounds=${2:-5}
mkdir -p "$out"
if [ ! -f "$file" ]; then
    [ -f "$zip" ] || { echo "missing $file and $zip" >&2; exit 1; }
    unzip -o -q "$zip" -d "$out"
fi
# jansson and json-c clash on symbol names (json_object, json_type), so the
# one source file is compiled as three objects.
cflags="-O2 -Wall -Wextra -std=c11"
gcc $cflags -DJL_PART_JANSSON -c -o "$out/jl_jansson.o" "$here/json_libs.c"
gcc $cflags -DJL_PART_JSONC -c -o "$out/jl_jsonc.o" "$here/json_libs.c"
gcc $cflags -c -o "$out/jl_main.o" "$here/json_libs.c"
gcc -o "$out/json_libs" "$out/jl_main.o" "$out/jl_jansson.o" "$out/jl_jsonc.o" \
    -ljansson -ljson-c -lcjson
exec "$out/json_libs" "$file" "$rounds"
