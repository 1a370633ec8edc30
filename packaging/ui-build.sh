#!/usr/bin/env bash
# Builds the web apps (clerks' app, kiosk, hall display) into ui-web/dist/ from the
# committed lockfile. Idempotent: `npm ci` only when package-lock.json changed since
# the last install. Nothing here downloads a browser (playwright-core never does).
set -euo pipefail
cd "$(dirname "$0")/../ui-web"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
stamp=node_modules/.wardsync-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi
npm run build
echo "ui-build: static assets in $(pwd)/dist"
