#!/usr/bin/env bash
# HTTP benchmark of wardnode with wrk (Debian package `wrk`): a node holding N
# dossiers (default 1,000,000, loaded once by the hidden `wardnode demo --dossiers N`
# and reused), 50 concurrent connections, then prints p50/p99 latency and throughput
# of dossier reads, searches and durable writes, and the node's resident memory.
# Before measuring, it waits until the node is idle (an earlier run's writes leave
# full-text merging and indexing for the idle writer). Figures only: nothing here
# fails on timing.
#
# Usage: node/tools/bench-http.sh [BUILD_DIR] [DOSSIERS]
#   BUILD_DIR  where wardnode was built (default build-node)
#   env: BENCH_DIR (default /tmp/wardsync-bench-N), BENCH_SECONDS (default 20),
#        BENCH_CONNECTIONS (default 50), BENCH_THREADS (default 2),
#        BENCH_KINDS (default "read search write")
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-node}
count=${2:-1000000}
dir=${BENCH_DIR:-/tmp/wardsync-bench-$count}
secs=${BENCH_SECONDS:-20}
conns=${BENCH_CONNECTIONS:-50}
threads=${BENCH_THREADS:-2}
kinds=${BENCH_KINDS:-read search write}
bin=$build/node/wardnode
command -v wrk >/dev/null || { echo "bench-http: needs wrk (apt-get install wrk)" >&2; exit 2; }
[ -x "$bin" ] || { echo "bench-http: build wardnode first ($bin)" >&2; exit 2; }

if [ ! -f "$dir/.loaded" ]; then
  rm -rf "$dir"
  echo "bench-http: loading $count dossiers into $dir (once)..."
  start=$(date +%s)
  "$bin" demo --dir "$dir" --dossiers "$count" 2> "$dir.load.log" >/dev/null
  echo "bench-http: loaded in $(( $(date +%s) - start )) s"
  touch "$dir/.loaded"
fi

# wrk is one client with $conns connections: lift the per-client cap (16) for it.
conf="$dir/wardnode.conf"
if grep -q '^http_client_connections' "$conf"; then
  sed -i "s/^http_client_connections.*/http_client_connections = $((conns + 8))/" "$conf"
else
  echo "http_client_connections = $((conns + 8))" >> "$conf"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" run --dir "$dir" --listen "127.0.0.1:$port" 2> "$dir/bench-run.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break; sleep 0.1; done

# Steady state: a node started after an earlier run's writes first merges their
# full-text segments and indexes (housekeeping while no write comes). Wait until
# it uses under 2 % of a core for 8 s in a row (the writer looks for such work
# every 5 s once writes stop; at most 5 minutes).
ticks() { awk '{print $14 + $15}' /proc/$pid/stat; }
settle_start=$(date +%s); quiet=0; last=$(ticks)
while [ $quiet -lt 8 ] && [ $(( $(date +%s) - settle_start )) -lt 300 ]; do
  sleep 1; now=$(ticks)
  if [ $(( now - last )) -le 2 ]; then quiet=$((quiet + 1)); else quiet=0; fi
  last=$now
done
echo "bench-http: node idle after $(( $(date +%s) - settle_start )) s (housekeeping left by earlier runs)"

work=$(mktemp -d)
python3 - "$port" "$work" <<'PY'
import json, random, sys, urllib.request, time
port, work = sys.argv[1], sys.argv[2]
base = f"http://127.0.0.1:{port}/api/v1"
req = urllib.request.Request(base + "/sessions", data=json.dumps({"username": "lanhdao", "password": "demo1234"}).encode(),
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req) as r:
    cookie = r.headers["Set-Cookie"].split(";")[0]
    csrf = json.load(r)["csrf_token"]
def get(path):
    with urllib.request.urlopen(urllib.request.Request(base + path, headers={"Cookie": cookie})) as r:
        return json.load(r)
first = get("/dossiers?limit=1")["items"][0]["id"]
lo = int(first[:16], 16) >> 16
def page_at(ms):
    return get(f"/dossiers?limit=1&cursor={(ms << 16):016x}0000000000000000")["items"]
# The loaded dossiers come first in id (time) order, then every earlier run's
# writes ("Nguyễn Văn Bench", hundreds of thousands after a few runs): reads and
# searches sample the loaded ones only, found by bisection on the first written one.
def written_by_bench(page):
    return not page or page[0]["applicant"]["name"] == "Nguyễn Văn Bench"
a, b = lo, int(time.time() * 1000)
while b - a > 1:
    mid = (a + b) // 2
    if written_by_bench(page_at(mid)): b = mid
    else: a = mid
hi = a
ids, names, cccds = set(), [], []
random.seed(7)
def page_of(ms, n):
    return get(f"/dossiers?limit={n}&cursor={(ms << 16):016x}0000000000000000")["items"]
for _ in range(40):  # 40 random places, 50 consecutive dossiers each
    for d in page_of(random.randint(lo, hi), 50):
        if d["id"] not in ids:
            ids.add(d["id"])
            names.append(d["applicant"]["name"])
            cccds.append(d["applicant"]["cccd"])
json.dump({"cookie": cookie, "csrf": csrf, "ids": sorted(ids), "names": names, "cccds": cccds},
          open(work + "/ctx.json", "w"))
def lua_list(xs):
    return "{" + ",".join(json.dumps(x, ensure_ascii=False) for x in xs) + "}"
hdr = f'wrk.headers["Cookie"] = "{cookie}"\nwrk.headers["X-CSRF-Token"] = "{csrf}"\n'
open(work + "/read.lua", "w").write(hdr + "local ids = " + lua_list(sorted(ids)) + """
request = function()
  return wrk.format("GET", "/api/v1/dossiers/" .. ids[math.random(#ids)])
end
""")
# Searches, a quarter each: an applicant's whole name as written (the loader makes
# names distinct with a number), the same without marks, the name alone (shared by
# ~1 in 20 dossiers: the newest 20 of tens of thousands), and a CCCD number.
import unicodedata
def fold(s):
    s = s.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn").lower()
queries = []
for i, (n, c) in enumerate(zip(names[:1000], cccds)):
    queries.append([n, fold(n), fold(n).rstrip("0123456789 "), c][i % 4])
import urllib.parse
open(work + "/search.lua", "w").write(hdr + "local qs = " + lua_list([urllib.parse.quote(q) for q in queries]) + """
request = function()
  return wrk.format("GET", "/api/v1/dossiers/search?limit=20&q=" .. qs[math.random(#qs)])
end
""")
body = json.dumps({"applicant": {"name": "Nguyễn Văn Bench", "cccd": "079099000001", "phone": "0901234567",
                                  "address": "Số 1 Lê Lợi, Phường Bến Thành"},
                   "procedure_code": "ct-chu-ky", "channel": "counter"}, ensure_ascii=False)
open(work + "/write.lua", "w").write(hdr + 'wrk.method = "POST"\nwrk.path = "/api/v1/dossiers"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = '
                                     + json.dumps(body, ensure_ascii=False) + "\n")
# One write first: the first dossier of a day after a start finds the day's highest
# code number from the code index, once (the bench's earlier runs leave ~10^5
# dossiers dated today, which no office has); steady state is what wrk measures.
warm = urllib.request.Request(base + "/dossiers", data=body.encode(), method="POST",
                              headers={"Cookie": cookie, "X-CSRF-Token": csrf, "Content-Type": "application/json"})
with urllib.request.urlopen(warm) as r:
    r.read()
PY

summary() {  # name, wrk output file
  local rps p50 p99 errs timeouts
  rps=$(awk '/Requests\/sec/ {print $2}' "$2")
  p50=$(awk '/^ +50%/ {print $2}' "$2")
  p99=$(awk '/^ +99%/ {print $2}' "$2")
  errs=$(awk '/Non-2xx/ {print $4}' "$2")
  timeouts=$(awk '/Socket errors/ {print $NF}' "$2")
  printf "%-8s p50 %-9s p99 %-9s %10s req/s  non-2xx %s  timeouts %s\n" "$1" "$p50" "$p99" "$rps" "${errs:-0}" "${timeouts:-0}"
}
echo "bench-http: $count dossiers, $conns connections, $threads wrk threads, ${secs}s each"
echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg) before the run"
for kind in $kinds; do
  wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$work/$kind.lua" "http://127.0.0.1:$port" > "$work/$kind.out" 2>&1 || true
done
echo
for kind in $kinds; do summary "$kind" "$work/$kind.out"; done
rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
echo "rss      now $((rss / 1024)) MiB, peak $((hwm / 1024)) MiB"
echo "targets: read/search p99 <= 10 ms; write p99 <= 25 ms and >= 2000/s; RSS <= 128 MiB"
echo "(wrk output: $work)"
