#!/usr/bin/env bash
# Peak resident memory of dcomhunt on a ~100 MB and a >= 1.1 GB EVTX file: it must not grow
# with the input (files are read with pread, chunk by chunk, through a bounded window).
# Environment: CORPUS, SMALL_MB (default 100), LARGE_MB (default 1100, MiB = 1.15 GB),
# DCOMHUNT (default: Release build in build-release/). See bench/README.md.
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=$here/out
CORPUS=${CORPUS:-$root/../shared/corpus}
SMALL_MB=${SMALL_MB:-100}
LARGE_MB=${LARGE_MB:-1100}
mkdir -p "$out"
[[ -x /usr/bin/time ]] || { echo "memory.sh: /usr/bin/time not found (apt-get install time)" >&2; exit 1; }

# shellcheck source=bench/binary.sh
source "$here/binary.sh"

small=$out/mem${SMALL_MB}.evtx
large=$out/mem${LARGE_MB}.evtx
for f in "$small:$SMALL_MB" "$large:$LARGE_MB"; do
    [[ -s ${f%%:*} ]] || python3 "$here/make_big_evtx.py" --corpus "$CORPUS" --size-mb "${f##*:}" -o "${f%%:*}"
done
sync

echo "dcomhunt peak RSS, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores; commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
printf '%-16s %14s %10s %9s %14s  %s\n' "command" "file bytes" "records" "wall s" "peak RSS KiB" "exit"
status=0
for f in "$small" "$large"; do
    recs=$("$DCOMHUNT" stats -j2 "$f" 2>&1 >/dev/null | sed -n 's/.*records \([0-9]*\) (.*/\1/p')
    for cmd in stats dump hunt; do
        rc=0
        extra=()
        [[ $cmd == hunt ]] && extra=(--jsonl --no-progress)
        /usr/bin/time -o "$out/time.txt" -f '%M %e' "$DCOMHUNT" "$cmd" -j2 "${extra[@]}" "$f" >/dev/null 2>"$out/mem.err" || rc=$?
        # hunt exits 1 when it reports findings
        [[ $cmd == hunt && $rc == 1 ]] && rc=0
        read -r rss wall < <(tail -n 1 "$out/time.txt")
        printf '%-16s %14s %10s %9s %14s  %s\n' "$cmd -j2" "$(stat -c %s "$f")" "$recs" "$wall" "$rss" "$rc"
        if [[ $cmd == stats ]]; then sed -n '$p' "$out/mem.err" | sed 's/^/    /'; fi
        if [[ $cmd == hunt ]]; then grep 'findings:' "$out/mem.err" | sed 's/^ */    /'; fi
        if (( rc != 0 )); then status=1; echo "    stderr:"; sed 's/^/    /' "$out/mem.err"; fi
        eval "rss_${cmd}_$([[ $f == "$small" ]] && echo s || echo l)=$rss"
    done
done
echo
echo "peak RSS stats -j2: ${rss_stats_s} KiB at $(stat -c %s "$small") bytes, ${rss_stats_l} KiB at $(stat -c %s "$large") bytes"
echo "peak RSS dump -j2 : ${rss_dump_s} KiB at $(stat -c %s "$small") bytes, ${rss_dump_l} KiB at $(stat -c %s "$large") bytes"
echo "peak RSS hunt -j2 : ${rss_hunt_s} KiB at $(stat -c %s "$small") bytes, ${rss_hunt_l} KiB at $(stat -c %s "$large") bytes"
exit $status
