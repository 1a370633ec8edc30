#!/usr/bin/env bash
# A demo cluster on this machine: a city, a district and two wards, each a real
# `wardnode run` on 127.0.0.1 with its own data directory and demo data, enrolled
# the way an IT admin would (docs/operations.md, "Enrolling nodes"): one authority
# certifies the city and the district; the district, allowed to, certifies its
# wards; the district connects to the city and the wards to the district.
# Then a dossier written at ward 1 is shown arriving at the district and the city.
# Ctrl-C stops all four.
#
# Usage: packaging/cluster.sh [--bin PATH] [--check]
#   --bin PATH   a built wardnode (default: build it in build/release)
#   --check      stop once the dossier arrived (exit 0) or did not (exit 1): for CTest
# Environment:
#   WARDSYNC_CLUSTER_DIR   data directories (default ./cluster-data; reused if present)
#   WARDSYNC_CLUSTER_PORT  first HTTP port (default 8081: city, then district, ward 1, ward 2);
#                          sync ports are this + 100 (city) and + 101 (district); 'auto': random
set -euo pipefail
dir=$(realpath -m "${WARDSYNC_CLUSTER_DIR:-./cluster-data}")  # relative to where it was started
cd "$(dirname "$0")/.."
bin=""
check=0
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --check) check=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$bin" ]; then
  cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build/release -j "$(nproc)" --target wardnode
  bin=./build/release/node/wardnode
fi
base=${WARDSYNC_CLUSTER_PORT:-8081}
[ "$base" = auto ] && base=$((20000 + RANDOM % 20000))  # tests: any free-looking range
names=(city district ward1 ward2)
declare -A http=([city]=$base [district]=$((base + 1)) [ward1]=$((base + 2)) [ward2]=$((base + 3)))
city_sync="tcp://127.0.0.1:$((base + 100))"
district_sync="tcp://127.0.0.1:$((base + 101))"
pids=()
stop_all() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'echo; echo "stopping the cluster"; stop_all; exit 0' INT TERM
trap 'stop_all' EXIT
wn() { "$bin" "$@" >>"$dir/setup.log" 2>&1 || { echo "failed: wardnode $*" >&2; tail -5 "$dir/setup.log" >&2; exit 1; }; }
transport_key() { sed -n 's/^transport_key = //p' "$dir/$1.request"; }

if [ ! -d "$dir/authority" ]; then
  echo "setting up the cluster in $dir (see $dir/setup.log)"
  mkdir -p "$dir"
  wn authority create --out "$dir/authority" --name "Sở TT&TT (demo)"
  init() {  # name office-code name tier scope
    wn init --dir "$dir/$1" --office-code "$2" --office-name "$3" --tier "$4" --scope "$5"
    wn demo --dir "$dir/$1"  # clerks of every role, five days of dossiers
    wn cert request --dir "$dir/$1" --out "$dir/$1.request"
    wn cert install --dir "$dir/$1" "$dir/authority/authority.pub"
  }
  init city 79 "UBND Thành phố Hồ Chí Minh" city 79
  init district 760 "UBND Quận 1" district 79/760
  init ward1 26734 "UBND Phường Tân Định" ward 79/760/26734
  init ward2 26737 "UBND Phường Đa Kao" ward 79/760/26737
  sed -i "s|^sync_listen = .*|sync_listen = $city_sync|" "$dir/city/wardnode.conf"
  sed -i "s|^sync_listen = .*|sync_listen = $district_sync|" "$dir/district/wardnode.conf"
  # The authority certifies the city and the district (which may enrol its wards).
  wn cert issue --authority "$dir/authority" --request "$dir/city.request" --out "$dir/city.cert"
  wn cert issue --authority "$dir/authority" --request "$dir/district.request" --out "$dir/district.cert" --may-issue
  wn cert install --dir "$dir/city" "$dir/city.cert"
  wn cert install --dir "$dir/district" "$dir/district.cert"
  wn cert install --dir "$dir/city" "$dir/district.cert"  # the city admits the district
  # The district certifies its wards (and so admits them).
  for w in ward1 ward2; do
    wn cert issue --authority "$dir/district" --request "$dir/$w.request" --out "$dir/$w.cert"
    wn cert install --dir "$dir/$w" "$dir/$w.cert"
    wn peer add --dir "$dir/$w" "$district_sync" "$(transport_key district)"
  done
  wn peer add --dir "$dir/district" "$city_sync" "$(transport_key city)"
fi

for n in "${names[@]}"; do
  "$bin" run --dir "$dir/$n" --listen "127.0.0.1:${http[$n]}" 2>>"$dir/$n.log" &
  pids+=($!)
done
for n in "${names[@]}"; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:${http[$n]}/api/v1/health" >/dev/null && break; sleep 0.1; done
done

# Wait until every link is up (the wards to the district, the district to the city).
connected() { curl -sf "http://127.0.0.1:${http[$1]}/metrics" | grep -c '^wardsync_peer_connected{.*} 1$' || true; }
for _ in $(seq 200); do
  [ "$(connected district)" = 3 ] && [ "$(connected city)" = 1 ] && break
  sleep 0.1
done

login() {  # node → cookie jar; echoes the CSRF token
  curl -sf -c "$dir/$1.cookies" -H 'Content-Type: application/json' \
    -d '{"username":"lanhdao","password":"demo1234"}' "http://127.0.0.1:${http[$1]}/api/v1/sessions" |
    sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p'
}
csrf=$(login ward1)
for n in district city ward2; do login $n >/dev/null; done
t0=$(date +%s%N)
answer=$(curl -sf -b "$dir/ward1.cookies" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
  -d '{"applicant":{"name":"Lê Văn Tám","cccd":"079095001234","dob":"1995-05-01","phone":"0903123456","address":"12 Hai Bà Trưng"},"procedure_code":"1.001193","channel":"counter","components":["Tờ khai đăng ký khai sinh"]}' \
  "http://127.0.0.1:${http[ward1]}/api/v1/dossiers")
# Poco writes an object's keys in order: the first "code" and "id" are the dossier's.
id=$(echo "$answer" | grep -o '"id":"[0-9a-f]*"' | head -1 | cut -d'"' -f4)
code=$(echo "$answer" | grep -o '"code":"[^"]*"' | head -1 | cut -d'"' -f4)
echo
echo "ward 1 (UBND Phường Tân Định) received dossier $code (id $id)"
arrived=1
for n in district city; do
  ok=0
  for _ in $(seq 300); do
    if curl -sf -b "$dir/$n.cookies" "http://127.0.0.1:${http[$n]}/api/v1/dossiers/$id" >/dev/null; then ok=1; break; fi
    sleep 0.05
  done
  ms=$((($(date +%s%N) - t0) / 1000000))
  if [ $ok = 1 ]; then echo "  visible at the $n after $ms ms"; else echo "  NOT at the $n after $ms ms"; arrived=0; fi
done
# Ward 2 does not replicate ward 1's scope; reading the dossier there fetches it
# on demand through the district and keeps it as a pinned copy.
t1=$(date +%s%N)
at_ward2=$(curl -s -b "$dir/ward2.cookies" "http://127.0.0.1:${http[ward2]}/api/v1/dossiers/$id")
ms=$((($(date +%s%N) - t1) / 1000000))
if echo "$at_ward2" | grep -q '"pinned":true'; then echo "  fetched on demand by ward 2 (another ward's scope) in $ms ms, pinned"
else echo "  ward 2 answered $(echo "$at_ward2" | head -c 200) (expected the dossier, pinned)"; arrived=0; fi
echo
"$bin" status --dir "$dir/district" --listen "127.0.0.1:${http[district]}" || true
if [ $check = 1 ]; then
  [ $arrived = 1 ] && exit 0 || exit 1
fi
cat <<MSG

================================================================================
 wardsync demo cluster — data in $dir, logs in $dir/<node>.log
   city      http://127.0.0.1:${http[city]}/api/v1      sync $city_sync
   district  http://127.0.0.1:${http[district]}/api/v1      sync $district_sync
   ward 1    http://127.0.0.1:${http[ward1]}/api/v1
   ward 2    http://127.0.0.1:${http[ward2]}/api/v1
 Logins on every node (password demo1234): motcua, chuyenvien, lanhdao, admin
 Status:   $bin status --dir $dir/district --listen 127.0.0.1:${http[district]}
 Metrics:  curl http://127.0.0.1:${http[city]}/metrics
 Stop:     Ctrl-C (stops all four)
================================================================================
MSG
wait
