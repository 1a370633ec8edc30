#!/usr/bin/env bash
# Runs the browser tests (tests/browser): a real wardnode serving ui-web/dist, a real
# wardsync-printer-sim as its printer, Debian's chromium; QR codes are read off the
# printed slips with zbarimg (zbar-tools). Builds the apps first. Env: WARDNODE
# (default build/node/wardnode), PRINTER_SIM (default beside it in build/hardware),
# CHROMIUM (default /usr/bin/chromium), WARDSYNC_UPDATE_SCREENSHOTS=1 to refresh
# docs/screenshots.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/packaging/ui-build.sh"
cd "$root"
# (no --test-concurrency: Debian 12's Node 18 lacks it; its default runs files one
# after another on a 2-core machine)
exec node --test --test-reporter=spec tests/browser/
