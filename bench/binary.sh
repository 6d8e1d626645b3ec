# shellcheck shell=bash disable=SC2154
# Sourced by the bench scripts: sets DCOMHUNT to the binary to measure. Unless DCOMHUNT is
# already set, builds the Release binary in build-release/ (tests off, dcomhunt-cli only).
# Needs $root (the repository) and $0 (for the message).
if [[ -z ${DCOMHUNT:-} ]]; then
    bdir=$root/build-release
    [[ -f $bdir/CMakeCache.txt ]] ||
        cmake -S "$root" -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DDH_TESTS=OFF >/dev/null
    cmake --build "$bdir" -j2 --target dcomhunt-cli >/dev/null
    DCOMHUNT=$bdir/dcomhunt
fi
[[ -x $DCOMHUNT ]] || { echo "$(basename "$0"): no binary at $DCOMHUNT" >&2; exit 1; }
