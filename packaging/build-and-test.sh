#!/usr/bin/env bash
# Builds wardsync twice and runs every test in both builds:
#  1. Release with warnings as errors: unit tests, the simulation over 2,000 seeds,
#     multi-process tests, benchmark smoke runs (correctness only); then the web
#     apps' browser tests in Debian's chromium against a real wardnode.
#  2. Debug with AddressSanitizer + UndefinedBehaviorSanitizer: the same tests
#     (the simulation over fewer seeds; benchmarks left out).
# Usage: packaging/build-and-test.sh [--release-only]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
release_only=0
[ "${1:-}" = "--release-only" ] && release_only=1

step() { printf '\n== %s\n' "$*"; }

step "release build"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DWARDSYNC_WERROR=ON >/dev/null
cmake --build build/release -j "$jobs"
step "release tests"
(cd build/release && ctest --output-on-failure -j "$jobs" --timeout 1800)

step "web apps in Debian's chromium"
WARDNODE="$PWD/build/release/node/wardnode" packaging/ui-test.sh

if [ $release_only -eq 0 ]; then
  step "sanitizer build (ASan + UBSan)"
  cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DWARDSYNC_SANITIZE=ON -DWARDSYNC_WERROR=ON >/dev/null
  cmake --build build/asan -j "$jobs"
  step "sanitizer tests"
  (cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
     LSAN_OPTIONS="suppressions=$PWD/../../tests/lsan.supp:print_suppressions=0" \
     ctest --output-on-failure -j "$jobs" --timeout 1800 -LE bench)
fi
step "all tests passed"
