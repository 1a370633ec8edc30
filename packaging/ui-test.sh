#!/usr/bin/env bash
# Runs the browser tests (tests/browser) against a real wardnode and Debian's
# chromium. Builds the apps first. Env: WARDNODE (default build/release/node/wardnode),
# CHROMIUM (default /usr/bin/chromium).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/packaging/ui-build.sh"
cd "$root"
# (no --test-concurrency: Debian 12's Node 18 lacks it; its default runs files one
# after another on a 2-core machine)
exec node --test --test-reporter=spec tests/browser/
