#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages that building, testing, fuzzing and benchmarking
# dcomhunt need. Idempotent: apt-get skips what is already installed. Runs as root, or
# through sudo when it is not root.
#
#   sudo scripts/bootstrap.sh      (or as root: scripts/bootstrap.sh)
set -euo pipefail

packages=(
    build-essential cmake pkg-config git time python3
    clang libclang-rt-14-dev clang-format   # -Werror under a 2nd compiler, sanitizers, libFuzzer, checksrc
    zlib1g-dev libyaml-dev libpcre2-dev     # library dependencies
    libarchive-dev libexpat1-dev libjsmn-dev libcsv-dev
    libgraphviz-dev                         # libgvc: the HTML report's host graph
    libcmocka-dev                           # unit tests
    libevtx-utils                           # evtxexport: the correctness oracle in tests
    python3-evtx                            # a speed peer in benchmarks
    python3-yaml                            # tests: the ECS field list (ecs_flat.yml)
    chromium                                # tests: the HTML report rendered headless
)

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "bootstrap.sh: not root and no sudo; run it as root" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${packages[@]}"
