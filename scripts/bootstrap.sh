#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages that building, testing, fuzzing and benchmarking
# dcomhunt need, then the one npm package the tests use (Microsoft's Kusto analyzer, pinned
# in tests/conformance/kql/package-lock.json, into that folder). Idempotent: apt-get skips
# what is already installed, npm ci reinstalls the pinned version. Runs as root, or through
# sudo when it is not root; npm runs as the user who called it.
#
#   scripts/bootstrap.sh           (as root, or as a user it elevates with sudo)
set -euo pipefail

packages=(
    build-essential cmake pkg-config git time python3
    clang libclang-rt-14-dev clang-format   # -Werror under a 2nd compiler, sanitizers, libFuzzer, checksrc
    zlib1g-dev libyaml-dev libpcre2-dev     # library dependencies
    libarchive-dev libexpat1-dev libjsmn-dev libcsv-dev
    libgraphviz-dev                         # libgvc: the HTML report's host graph
    librdkafka-dev libmicrohttpd-dev        # dcomhunt stream: Kafka, the metrics endpoint
    libcmocka-dev                           # unit tests
    libevtx-utils                           # evtxexport: the correctness oracle in tests
    python3-evtx                            # a speed peer in benchmarks
    jq libxml2-utils miller csvtool         # bench/all.sh's peers: jq -c ., xmllint --stream, mlr, csvtool
    python3-yaml                            # tests: the ECS field list (ecs_flat.yml)
    chromium                                # tests: the HTML report rendered headless
    nodejs                                  # tests: Microsoft's Kusto analyzer checks the KQL
)
# npm from Debian, unless an npm is there already (a Node.js from elsewhere brings its own
# and conflicts with Debian's)
command -v npm >/dev/null 2>&1 || packages+=(npm)

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

# The KQL check's analyzer (tests/conformance/kql_queries.py): @kusto/language-service-next,
# Kusto.Language compiled to JavaScript; runs on bookworm's Node 18. npm needs the registry.
kql_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/conformance/kql"
npm_ci=(npm ci --prefix "$kql_dir" --no-audit --no-fund --loglevel=error)
if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
    sudo -u "$SUDO_USER" "${npm_ci[@]}"
else
    "${npm_ci[@]}"
fi
