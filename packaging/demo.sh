#!/usr/bin/env bash
# Builds wardnode and runs a demo ward office in the foreground:
#   UBND Phường Bến Thành (TP.HCM), clerks of every role, five working days of
#   dossiers in every state, today's queue tickets and ratings.
# The demo data directory (./demo-data by default) is created once and reused.
# Stop with Ctrl-C. Environment:
#   WARDSYNC_DEMO_DIR     data directory (default ./demo-data)
#   WARDSYNC_DEMO_LISTEN  address to listen on (default 127.0.0.1:8080)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${WARDSYNC_DEMO_DIR:-./demo-data}
listen=${WARDSYNC_DEMO_LISTEN:-127.0.0.1:8080}
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc)" --target wardnode
packaging/ui-build.sh >/dev/null  # the web apps the node serves (ui-web/dist)
bin=./build/release/node/wardnode
# Seeds only the first time; later runs keep what the demo clerks did.
seed_log=$(mktemp)
trap 'rm -f "$seed_log"' EXIT
"$bin" demo --dir "$dir" --listen "$listen" 2>"$seed_log" || { cat "$seed_log" >&2; exit 1; }
rm -f "$seed_log"
# Plain HTTP on loopback; any other address is served over HTTPS (office certificate).
case "$listen" in 127.*|localhost:*|\[::1\]:*) scheme=http ;; *) scheme=https ;; esac
site="$scheme://$listen"
api="$site/api/v1"  # this node, on the address it listens on
cat <<MSG

================================================================================
 wardnode demo: UBND Phường Bến Thành — data in $dir
 Open:   $site/          clerks' app (Vietnamese; English in the menu)
         $site/kiosk/    citizen kiosk     $site/display/  hall display
         $api/health     API (reference: docs/api/openapi.yaml)
 Logins (password demo1234): motcua (clerk), chuyenvien (specialist),
         lanhdao (leader), admin (it_admin)
 Try:    curl -c /tmp/wardsync.cookies -H 'Content-Type: application/json' \\
           -d '{"username":"lanhdao","password":"demo1234"}' $api/sessions
         curl -b /tmp/wardsync.cookies "$api/dossiers/search?q=nguyen%20van%20an"
 HTTPS:  off loopback (WARDSYNC_DEMO_LISTEN=0.0.0.0:8443) the node serves HTTPS;
         pin the fingerprint printed by: $bin tls --dir $dir
 Stop:   Ctrl-C
================================================================================

MSG
exec "$bin" run --dir "$dir" --listen "$listen"
