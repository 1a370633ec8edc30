#!/usr/bin/env bash
# Builds wardsync and shows it working: the node's command line and a run of the
# replication simulation (five offices, every fault on).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc)" --target wardnode wardsync-sim
./build/release/node/wardnode --help
./build/release/tests/sim/wardsync-sim --seeds 1-20 --nodes 5 --ops 500 --faults all
