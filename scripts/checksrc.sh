#!/usr/bin/env bash
# Source checks run in CI (.ci/run):
#  1. banned libc calls in src/ and include/: strcpy, strcat, sprintf, vsprintf, gets,
#     atoi, atol (unbounded writes, or parse failures that go unnoticed).
#     Matched as whole words followed by "(", so snprintf, strtol etc. pass. Comments are
#     not skipped: mention a banned name in prose without the parenthesis.
#  2. formatting with clang-format (14, from Debian's clang-format package) against the
#     checked-in .clang-format, on the .c/.h files of src/ include/ tests/ bench/.
#     Enforced: a file that differs fails the check (DH_FORMAT_STRICT=0 makes it a report
#     only, for work in progress).
set -euo pipefail
cd "$(dirname "$0")/.."

status=0

echo "checksrc: banned calls in src/ include/"
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol)[[:space:]]*\('
if hits=$(grep -rnE --include='*.c' --include='*.h' "$banned" src include); then
    echo "$hits"
    echo "checksrc: banned calls found (use snprintf, dh_buf, strtol/strtoul, ...)" >&2
    status=1
else
    echo "checksrc: none"
fi

echo "checksrc: clang-format"
cf=""
for c in clang-format-14 clang-format; do
    if command -v "$c" >/dev/null 2>&1; then cf=$c; break; fi
done
if [ -z "$cf" ]; then
    echo "checksrc: clang-format not installed (scripts/bootstrap.sh installs it)" >&2
    [ "${DH_FORMAT_STRICT:-1}" = 1 ] && status=1
else
    mapfile -t files < <(find src include tests bench -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | LC_ALL=C sort)
    differ=()
    for f in "${files[@]}"; do
        if ! "$cf" --dry-run --Werror "$f" >/dev/null 2>&1; then
            differ+=("$f")
        fi
    done
    if [ "${#differ[@]}" -eq 0 ]; then
        echo "checksrc: ${#files[@]} files formatted"
    else
        printf '  %s\n' "${differ[@]}"
        echo "checksrc: ${#differ[@]} of ${#files[@]} files differ from .clang-format ($cf -i FILE fixes them)"
        if [ "${DH_FORMAT_STRICT:-1}" = 1 ]; then
            status=1
        else
            echo "checksrc: format check is report-only (DH_FORMAT_STRICT=0)"
        fi
    fi
fi

exit "$status"
