#!/usr/bin/env bash
# Runs the browser tests (tests/browser) against a real wardnode and Debian's
# chromium. Builds the apps first. Env: WARDNODE (default build/release/node/wardnode),
# CHROMIUM (default /usr/bin/chromium).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/packaging/ui-build.sh"
cd "$root"
exec node --test --test-concurrency=1 --test-reporter=spec tests/browser/
